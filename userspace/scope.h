/* SPDX-License-Identifier: GPL-2.0 */
/* The cgroup v2 subtree vigil watches and enforces in (--cgroup; the whole
 * host without it). Nothing outside it is ever denied, dropped or killed. */
#ifndef VIGIL_SCOPE_H
#define VIGIL_SCOPE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct scope {
	int fd;				/* the scope cgroup's directory, or -1 */
	char mount[PATH_MAX];		/* where cgroup v2 is mounted */
	char path[PATH_MAX];		/* relative to the mount ("/" = host) */
	unsigned long long kills_unverified;	/* refused: no start time to check */
};

/* cgroup NULL or "": the whole host. 0, or a negative errno after saying why. */
int scope__open(struct scope *s, const char *cgroup);
void scope__close(struct scope *s);
bool scope__is_host(const struct scope *s);
bool scope__contains(const struct scope *s, pid_t pid);
/* SIGKILL through a pidfd, only if pid is in scope, not vigil itself and
 * still the process that started at start_ticks. Without a start time (0)
 * a reused pid cannot be told apart: nothing is sent, kills_unverified
 * counts it and the result is -ENOKEY. 0 or -errno. */
int scope__kill(struct scope *s, pid_t pid, unsigned long long start_ticks);

#endif
