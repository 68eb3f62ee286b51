// SPDX-License-Identifier: GPL-2.0
/* sd_notify over $NOTIFY_SOCKET: a path, or "@name" for the abstract
 * namespace. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

int notify__send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd, r = 0;

	if (!path || !*path)
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   offsetof(struct sockaddr_un, sun_path) + n) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* systemd's watchdog (WatchdogSec=): $WATCHDOG_USEC set for this process
 * ($WATCHDOG_PID absent or ours) */
static bool watchdog_on(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");

	if (!us || !*us || strtoull(us, NULL, 10) == 0)
		return false;
	return !pid || !*pid || strtoul(pid, NULL, 10) == (unsigned long)getpid();
}

int notify__watchdog(void)
{
	return watchdog_on() ? notify__send("WATCHDOG=1") : 0;
}
