/* SPDX-License-Identifier: GPL-2.0 */
/* Reading process facts from /proc. A process can vanish at any moment:
 * every reader returns -ENOENT (or another negative errno) and leaves the
 * output valid but empty rather than failing the caller. */
#ifndef VIGIL_PROC_H
#define VIGIL_PROC_H

#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define PROC_CMDLINE_MAX 1024

struct proc_info {
	pid_t pid, ppid;
	uid_t uid;
	unsigned long long start_ticks;	/* field 22 of stat: tells pid reuse apart */
	char comm[16];
	char exe[512];
	char cmdline[PROC_CMDLINE_MAX];	/* args joined by spaces */
	char cgroup[512];		/* cgroup v2 path ("0::" line) */
	/* context.h: derived from cgroup ("" when not in a container) */
	char container_runtime[16];	/* docker containerd cri-o podman kubernetes */
	char container_id[65];
	char pod_uid[40];		/* Kubernetes pod uid */
	/* context.h: the pod's namespace and name, from the kubelet's pod
	 * directory ("" when unknown) */
	char pod_namespace[64];
	char pod_name[254];
	/* context.h: who */
	char user[33];			/* name of uid, "" if unknown */
	uid_t loginuid;			/* valid if has_loginuid (unset: a daemon) */
	bool has_loginuid;
	char login_user[33];
	char ssh_client[64];		/* address the SSH login came from */
};

int proc__read(pid_t pid, struct proc_info *out);
int proc__start_ticks(pid_t pid, unsigned long long *out);
/* Mount point of the cgroup v2 hierarchy, from /proc/mounts. */
int proc__cgroup2_mount(char *buf, size_t len);
/* cgroup v2 path of a pid, relative to the hierarchy root ("/a/b"). */
int proc__cgroup_path(pid_t pid, char *buf, size_t len);
/* SIGKILL pid if it is still the process that started at start_ticks.
 * -ENOKEY when start_ticks is 0 (unknown): a pid alone may have been
 * reused, so nothing is sent. -ESRCH: gone or another process now. */
int proc__kill_same(pid_t pid, unsigned long long start_ticks);

/* The parsers behind the readers, on text already read (NUL-terminated;
 * cmdline: n bytes, NUL-separated); fuzzed by tests/fuzz/fuzz_proc.c. */
int proc__parse_stat(const char *buf, struct proc_info *pi);
void proc__parse_cmdline(const char *data, size_t n, char *out, size_t len);
int proc__parse_status_uid(const char *buf, uid_t *uid);
int proc__parse_cgroup(char *data, char *buf, size_t len);	/* data is cut up */
int proc__cgroup2_mount_in(FILE *mounts, char *buf, size_t len);

#endif
