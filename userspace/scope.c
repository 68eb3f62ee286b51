// SPDX-License-Identifier: GPL-2.0
/* The cgroup scope: resolved once at start, asked for every pid the agent
 * acts on. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "scope.h"

int scope__open(struct scope *s, const char *cg)
{
	char full[PATH_MAX * 2], real_mount[PATH_MAX], real_cg[PATH_MAX];
	size_t n;

	s->fd = -1;
	if (proc__cgroup2_mount(s->mount, sizeof(s->mount))) {
		log__error("no cgroup v2 hierarchy is mounted (see /proc/mounts): vigil "
			   "attaches its socket programs to cgroup v2; mount it with "
			   "'mount -t cgroup2 none /sys/fs/cgroup/unified'");
		return -ENOENT;
	}
	if (!realpath(s->mount, real_mount))
		snprintf(real_mount, sizeof(real_mount), "%s", s->mount);
	if (!cg || !*cg) {
		snprintf(full, sizeof(full), "%s", real_mount);
	} else if (cg[0] == '/' && !strncmp(cg, real_mount, strlen(real_mount))) {
		snprintf(full, sizeof(full), "%s", cg);
	} else {
		snprintf(full, sizeof(full), "%s/%s", real_mount, cg[0] == '/' ? cg + 1 : cg);
	}
	if (!realpath(full, real_cg)) {
		log__error("--cgroup %s: %s is not a cgroup v2 directory (%s); cgroup v2 is "
			   "mounted at %s", cg, full, strerror(errno), real_mount);
		return -ENOENT;
	}
	n = strlen(real_mount);
	if (strncmp(real_cg, real_mount, n) || (real_cg[n] && real_cg[n] != '/')) {
		log__error("--cgroup %s: not below the cgroup v2 mount %s", cg, real_mount);
		return -EINVAL;
	}
	snprintf(s->path, sizeof(s->path), "%s", real_cg[n] ? real_cg + n : "/");
	s->fd = open(real_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->fd < 0) {
		log__error("--cgroup %s: cannot open %s: %s", cg, real_cg, strerror(errno));
		return -errno;
	}
	return 0;
}

void scope__close(struct scope *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

bool scope__is_host(const struct scope *s)
{
	return !strcmp(s->path, "/");
}

bool scope__contains(const struct scope *s, pid_t pid)
{
	char cg[PATH_MAX];
	size_t n = strlen(s->path);

	if (scope__is_host(s))
		return true;
	if (proc__cgroup_path(pid, cg, sizeof(cg)))
		return false;
	return !strncmp(cg, s->path, n) && (cg[n] == 0 || cg[n] == '/');
}

/* pidfd + start time (proc__kill_same): never a reused pid, never out of
 * scope. */
int scope__kill(struct scope *s, pid_t pid, unsigned long long start_ticks)
{
	int err;

	if (pid == getpid() || !scope__contains(s, pid))
		return -EPERM;
	err = proc__kill_same(pid, start_ticks);
	if (err == -ENOKEY)
		s->kills_unverified++;
	return err;
}
