// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "output.h"
#include "safefile.h"
#include "vigil.h"

struct output {
	int fd;
	bool own_fd;
	char host[256];
	unsigned long long write_errors;
};

struct output *output__open(const char *path, gid_t gid, char *err, size_t errlen)
{
	struct output *o = calloc(1, sizeof(*o));

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
	} else {
		char why[512];

		o->fd = safefile__open_output(path, false, gid, why, sizeof(why));
		if (o->fd < 0) {
			snprintf(err, errlen, "--alerts %s", why);
			free(o);
			return NULL;
		}
		o->own_fd = true;
	}
	if (gethostname(o->host, sizeof(o->host) - 1))
		snprintf(o->host, sizeof(o->host), "unknown");
	return o;
}

void output__close(struct output *o)
{
	if (!o)
		return;
	if (o->own_fd)
		close(o->fd);
	free(o);
}

void output__begin_at(struct output *o, struct json *j, const char *kind,
		      const struct timespec *ts, const char *host)
{
	char tbuf[64];

	json__time_rfc3339(tbuf, sizeof(tbuf), ts);
	json__reset(j);
	json__begin_object(j);
	json__kv_uint(j, "schema_version", VIGIL_SCHEMA_VERSION);
	json__kv_str(j, "time", tbuf);
	json__kv_str(j, "host", host ? host : o->host);
	json__kv_str(j, "kind", kind);
}

void output__begin(struct output *o, struct json *j, const char *kind)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	output__begin_at(o, j, kind, &ts, NULL);
}

const char *output__host(const struct output *o)
{
	return o->host;
}

int output__emit(struct output *o, struct json *j)
{
	const char *s;
	size_t len, off = 0;

	json__end_object(j);
	if (j->oom) {
		o->write_errors++;
		return -ENOMEM;
	}
	/* Object and newline leave in one writev so lines never interleave. */
	s = json__cstr(j);
	len = strlen(s);
	while (off < len + 1) {
		struct iovec iov[2];
		int niov = 0;
		ssize_t n;

		if (off < len)
			iov[niov++] = (struct iovec){ (void *)(s + off), len - off };
		iov[niov++] = (struct iovec){ (void *)"\n", 1 };
		n = writev(o->fd, iov, niov);
		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			/* say it once (stderr may be all that is left), count the rest */
			if (!o->write_errors++)
				log__error("alert output: %s: this and later lines are lost "
					   "(counted in output_write_errors)", strerror(err));
			return -err;
		}
		off += n;
	}
	return 0;
}

unsigned long long output__write_errors(const struct output *o) { return o->write_errors; }
