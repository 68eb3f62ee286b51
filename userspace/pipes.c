// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipes.h"

struct end {
	uint64_t ino, dev;	/* pipe (pipefs) or FIFO inode */
	uint32_t pid;
	bool write;
};

struct ends {
	struct end *v;
	size_t n, cap;
};

static void push(struct ends *e, uint64_t ino, uint64_t dev, uint32_t pid, bool write)
{
	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 256;
		struct end *nv = realloc(e->v, nc * sizeof(*nv));

		if (!nv)
			return;
		e->v = nv;
		e->cap = nc;
	}
	e->v[e->n++] = (struct end){ ino, dev, pid, write };
}

/* flags in /proc/PID/fdinfo/N are octal open flags: O_ACCMODE tells the end. */
static int fd_accmode(int pid, const char *fd)
{
	char path[320], buf[256], *f;
	int d, n;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	d = open(path, O_RDONLY | O_CLOEXEC);
	if (d < 0)
		return -1;
	n = read(d, buf, sizeof(buf) - 1);
	close(d);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	f = strstr(buf, "flags:");
	return f ? (int)(strtoul(f + 6, NULL, 8) & 3) : -1;
}

static void collect(const struct pipes_env *env, int self, struct ends *e)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;

	if (!proc)
		return;
	while ((d = readdir(proc))) {
		int pid = atoi(d->d_name);
		char path[64];
		struct dirent *fe;
		DIR *fds;

		if (pid <= 0 || pid == self || !env->in_scope(env->ctx, pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			char fp[320];
			struct stat st;
			int mode;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(fp, sizeof(fp), "/proc/%d/fd/%s", pid, fe->d_name);
			if (stat(fp, &st) || !S_ISFIFO(st.st_mode))
				continue;
			mode = fd_accmode(pid, fe->d_name);
			if (mode < 0)
				continue;
			push(e, st.st_ino, st.st_dev, pid, mode == O_WRONLY || mode == O_RDWR);
			if (mode == O_RDWR)
				push(e, st.st_ino, st.st_dev, pid, false);
		}
		closedir(fds);
	}
	closedir(proc);
}

int pipes__propagate(const struct pipes_env *env, int self_pid)
{
	struct ends e = { 0 };
	int added = 0;

	collect(env, self_pid, &e);
	/* Pipes whose kernel mark carries the threshold of weights bytes:
	 * their writer may be gone, the data not. A tainted writer alone
	 * (contact) taints no reader: the bytes decide (lib/taint.bpf.h). */
	for (size_t r = 0; r < e.n; r++) {
		uint32_t writer, mask, depth, file;

		if (e.v[r].write || !env->pipe_mark ||
		    !env->pipe_mark(env->ctx, e.v[r].ino, &writer, &mask, &depth, &file) ||
		    writer == e.v[r].pid)
			continue;
		if (env->taint_put(env->ctx, e.v[r].pid, writer, mask, depth + 1, file) == 0)
			added++;
	}
	free(e.v);
	return added;
}
