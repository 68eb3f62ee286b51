// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "context.h"
#include "proc.h"

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = 0;
	close(fd);
	return n;
}

/* stat: "pid (comm) state ppid ..." — comm may hold spaces and ')'. */
int proc__parse_stat(const char *buf, struct proc_info *pi)
{
	const char *close_paren = strrchr(buf, ')'), *open_paren = strchr(buf, '('), *f;
	int field = 3;

	if (!close_paren || close_paren[1] != ' ')
		return -EINVAL;	/* cut short after comm: no fields to read */
	if (open_paren && open_paren < close_paren) {
		size_t cl = close_paren - open_paren - 1;

		if (cl >= sizeof(pi->comm))
			cl = sizeof(pi->comm) - 1;
		memcpy(pi->comm, open_paren + 1, cl);
		pi->comm[cl] = 0;
	}
	for (f = close_paren + 2; f && *f; field++) {
		if (field == 4)
			pi->ppid = (pid_t)strtol(f, NULL, 10);
		if (field == 22) {
			pi->start_ticks = strtoull(f, NULL, 10);
			break;
		}
		f = strchr(f, ' ');
		if (f)
			f++;
	}
	return 0;
}

static int parse_stat(pid_t pid, struct proc_info *pi)
{
	char path[64], buf[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return proc__parse_stat(buf, pi);
}

void proc__parse_cmdline(const char *data, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < len; i++)
		out[o++] = data[i] ? data[i] : ' ';
	while (o && out[o - 1] == ' ')
		o--;
	if (len)
		out[o] = 0;
}

int proc__parse_status_uid(const char *buf, uid_t *uid)
{
	const char *u = strstr(buf, "\nUid:");

	if (!u)
		return -ENOENT;
	*uid = (uid_t)strtoul(u + 5, NULL, 10);
	return 0;
}

int proc__parse_cgroup(char *data, char *buf, size_t len)
{
	char *save = NULL;

	if (len)
		buf[0] = 0;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "0::", 3)) {
			snprintf(buf, len, "%s", line + 3);
			return 0;
		}
	}
	return -ENOENT;
}

int proc__start_ticks(pid_t pid, unsigned long long *out)
{
	struct proc_info pi = { 0 };
	int err = parse_stat(pid, &pi);

	*out = err ? 0 : pi.start_ticks;
	return err;
}

int proc__cgroup_path(pid_t pid, char *buf, size_t len)
{
	char path[64], data[4096];
	ssize_t n;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	n = read_small(path, data, sizeof(data));
	if (n < 0)
		return (int)n;
	return proc__parse_cgroup(data, buf, len);
}

int proc__read(pid_t pid, struct proc_info *pi)
{
	char path[64], data[8192];
	ssize_t n;
	int err;

	memset(pi, 0, sizeof(*pi));
	pi->pid = pid;
	err = parse_stat(pid, pi);
	if (err)
		return err;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, pi->exe, sizeof(pi->exe) - 1);
	pi->exe[n > 0 ? n : 0] = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = read_small(path, data, sizeof(data));
	if (n > 0)
		proc__parse_cmdline(data, n, pi->cmdline, sizeof(pi->cmdline));

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	n = read_small(path, data, sizeof(data));
	if (n > 0)
		proc__parse_status_uid(data, &pi->uid);
	proc__cgroup_path(pid, pi->cgroup, sizeof(pi->cgroup));
	context__container(pi);
	context__user(pi);
	context__pod(pi);
	return 0;
}

int proc__cgroup2_mount_in(FILE *f, char *buf, size_t len)
{
	struct mntent *m;

	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(buf, len, "%s", m->mnt_dir);
			return 0;
		}
	}
	return -ENOENT;
}

int proc__cgroup2_mount(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/mounts", "re");
	int err;

	if (!f)
		return -errno;
	err = proc__cgroup2_mount_in(f, buf, len);
	endmntent(f);
	return err;
}

/* pidfd first, then the start time: the pidfd pins the process whose start
 * time matched, so the signal cannot reach a process that reused the pid. */
int proc__kill_same(pid_t pid, unsigned long long start_ticks)
{
	unsigned long long now_ticks;
	int pfd, err = 0;

	if (!start_ticks)
		return -ENOKEY;
	pfd = syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return -errno;
	if (proc__start_ticks(pid, &now_ticks) || now_ticks != start_ticks)
		err = -ESRCH;
	else if (syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0))
		err = -errno;
	close(pfd);
	return err;
}
