// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
static int parse_stat(pid_t pid, struct proc_info *pi)
{
	char path[64], buf[1024], *close_paren, *f;
	int field = 3;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	close_paren = strrchr(buf, ')');
	if (!close_paren)
		return -EINVAL;
	{
		char *open_paren = strchr(buf, '(');
		size_t cl;

		if (open_paren && open_paren < close_paren) {
			cl = close_paren - open_paren - 1;
			if (cl >= sizeof(pi->comm))
				cl = sizeof(pi->comm) - 1;
			memcpy(pi->comm, open_paren + 1, cl);
			pi->comm[cl] = 0;
		}
	}
	f = close_paren + 2;
	while (f && *f) {
		if (field == 4)
			pi->ppid = atoi(f);
		if (field == 22) {
			pi->start_ticks = strtoull(f, NULL, 10);
			break;
		}
		f = strchr(f, ' ');
		if (f)
			f++;
		field++;
	}
	return 0;
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
	char path[64], data[4096], *line;
	ssize_t n;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	n = read_small(path, data, sizeof(data));
	if (n < 0)
		return (int)n;
	for (line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "0::", 3)) {
			snprintf(buf, len, "%s", line + 3);
			return 0;
		}
	}
	return -ENOENT;
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
	if (n > 0) {
		size_t out = 0;

		for (ssize_t i = 0; i < n && out + 1 < sizeof(pi->cmdline); i++)
			pi->cmdline[out++] = data[i] ? data[i] : ' ';
		while (out && pi->cmdline[out - 1] == ' ')
			out--;
		pi->cmdline[out] = 0;
	}

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	n = read_small(path, data, sizeof(data));
	if (n > 0) {
		char *u = strstr(data, "\nUid:");

		if (u)
			pi->uid = (uid_t)strtoul(u + 5, NULL, 10);
	}
	proc__cgroup_path(pid, pi->cgroup, sizeof(pi->cgroup));
	return 0;
}

int proc__cgroup2_mount(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/mounts", "r");
	struct mntent *m;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(buf, len, "%s", m->mnt_dir);
			err = 0;
			break;
		}
	}
	endmntent(f);
	return err;
}
