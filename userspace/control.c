// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "ctl.h"
#include "inspect.h"
#include "json.h"
#include "log.h"

int control__open(struct agent *a)
{
	char err[512];

	a->ctl_fd = ctl__listen(a->o->run_dir, err, sizeof(err));
	if (a->ctl_fd < 0) {
		log__error("%s", err);
		return -1;
	}
	return 0;
}

void control__close(struct agent *a)
{
	if (a->ctl_fd >= 0) {
		ctl__unlink(a->o->run_dir);
		close(a->ctl_fd);
	}
}

/* One request on the control socket (ctl.h), answered with one object. */
void control__answer(struct agent *a, int fd)
{
	char cmd[CTL_MAX_REQUEST], why[1100];
	struct json j;
	int cfd;

	while ((cfd = ctl__accept(fd, cmd, sizeof(cmd))) != -EAGAIN) {
		if (cfd < 0)
			continue;	/* not root, or nothing asked */
		json__init(&j);
		json__begin_object(&j);
		if (!strcmp(cmd, "reload")) {
			int r = agent__reload(a, why, sizeof(why));

			json__kv_bool(&j, "ok", !r);
			json__kv_str(&j, r ? "error" : "message", why);
		} else if (!strcmp(cmd, "status")) {
			json__free(&j);
			json__init(&j);
			inspect__status(a, &j);
			ctl__reply(cfd, json__cstr(&j), strlen(json__cstr(&j)));
			json__free(&j);
			continue;
		} else if (!strcmp(cmd, "stop") || !strcmp(cmd, "stop unpin")) {
			a->stop = true;
			a->unpin = !strcmp(cmd, "stop unpin");
			json__kv_bool(&j, "ok", true);
			json__kv_str(&j, "message", a->unpin ? "agent stopping, removing its pins" :
				     a->pin ? "agent stopping; its pinned programs keep enforcing" :
				     "agent stopping");
		} else {
			json__kv_bool(&j, "ok", false);
			json__kv_str(&j, "error", "unknown request (expected reload, status or stop)");
		}
		json__end_object(&j);
		ctl__reply(cfd, json__cstr(&j), strlen(json__cstr(&j)));
		json__free(&j);
	}
}
