// SPDX-License-Identifier: GPL-2.0
/* Taint through pipe chains on real processes: children of the test hold
 * real pipe ends; the kernel side (which processes are tainted, which
 * pipes the kernel marked, what is in scope) is faked via pipes_env. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipes.h"

#define MAXP 8

struct fake {
	pid_t pid[MAXP];		/* our children: the only processes in scope */
	int n;
	struct { uint32_t mask, depth, file, from; bool on; } taint[MAXP];
	uint64_t marked_ino;		/* a pipe whose kernel mark crossed the threshold, 0: none */
	uint32_t mark_writer;
	int puts;
};

static int slot(struct fake *f, uint32_t pid)
{
	for (int i = 0; i < f->n; i++)
		if ((uint32_t)f->pid[i] == pid)
			return i;
	return -1;
}

static bool f_in_scope(void *ctx, int pid)
{
	return slot(ctx, pid) >= 0;
}

static bool f_taint_get(void *ctx, uint32_t tgid, uint32_t *mask, uint32_t *depth,
			uint32_t *file)
{
	struct fake *f = ctx;
	int i = slot(f, tgid);

	if (i < 0 || !f->taint[i].on)
		return false;
	*mask = f->taint[i].mask;
	*depth = f->taint[i].depth;
	*file = f->taint[i].file;
	return true;
}

static bool f_pipe_mark(void *ctx, uint64_t ino, uint32_t *writer, uint32_t *mask,
			uint32_t *depth, uint32_t *file)
{
	struct fake *f = ctx;

	if (!f->marked_ino || ino != f->marked_ino)
		return false;
	*writer = f->mark_writer;
	*mask = 4;
	*depth = 3;
	*file = 7;
	return true;
}

static int f_taint_put(void *ctx, uint32_t tgid, uint32_t from, uint32_t mask, uint32_t depth,
		       uint32_t file)
{
	struct fake *f = ctx;
	int i = slot(f, tgid);

	f->puts++;
	if (i < 0 || f->taint[i].on)
		return -17;	/* -EEXIST, as BPF_NOEXIST says */
	f->taint[i].on = true;
	f->taint[i].mask = mask;
	f->taint[i].depth = depth;
	f->taint[i].file = file;
	f->taint[i].from = from;
	return 0;
}

static const struct pipes_env *env_of(struct fake *f)
{
	static struct pipes_env env = { .in_scope = f_in_scope, .taint_get = f_taint_get,
					.pipe_mark = f_pipe_mark, .taint_put = f_taint_put };

	env.ctx = f;
	return &env;
}

/* A child that keeps fds keep[0..nkeep) of the parent's and closes every
 * other fd in fds; it tells the parent on ready once it has, then waits. */
static pid_t child(struct fake *f, const int *fds, int nfds, const int *keep, int nkeep,
		   int ready)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < nfds; i++) {
			bool kept = false;

			for (int k = 0; k < nkeep; k++)
				kept |= fds[i] == keep[k];
			if (!kept)
				close(fds[i]);
		}
		if (write(ready, "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	f->pid[f->n++] = pid;
	return pid;
}

static void wait_ready(int ready, int n)
{
	char c;

	for (int i = 0; i < n; i++)
		assert_int_equal(read(ready, &c, 1), 1);
}

static void reap(struct fake *f)
{
	for (int i = 0; i < f->n; i++) {
		kill(f->pid[i], SIGKILL);
		waitpid(f->pid[i], NULL, 0);
	}
}

/* writer | middle | reader: the middle never sends, both get tainted. */
/* By bytes, not by contact: a tainted writer holding a pipe the kernel has
 * not counted the threshold of weights bytes into (a log line, a progress
 * bar) taints neither its reader nor the stage after it. */
static void a_tainted_writer_alone_taints_no_reader(void **state)
{
	struct fake f = { 0 };
	int p1[2], p2[2], ready[2];

	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	assert_int_equal(pipe(ready), 0);
	{
		int fds[] = { p1[0], p1[1], p2[0], p2[1], ready[0] };

		child(&f, fds, 5, (int[]){ p1[1] }, 1, ready[1]);		/* writer */
		child(&f, fds, 5, (int[]){ p1[0], p2[1] }, 2, ready[1]);	/* middle */
		child(&f, fds, 5, (int[]){ p2[0] }, 1, ready[1]);		/* reader */
	}
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	wait_ready(ready[0], 3);
	f.taint[0].on = true;
	f.taint[0].mask = 1;
	f.taint[0].file = 5;

	assert_int_equal(pipes__propagate(env_of(&f), getpid()), 0);
	assert_false(f.taint[1].on);
	assert_false(f.taint[2].on);
	assert_int_equal(f.puts, 0);
	reap(&f);
	close(ready[0]);
	close(ready[1]);
}

/* The writer is gone, its data is still in the pipe: the kernel's mark
 * taints the reader. A process out of scope is never tainted. */
static void kernel_mark_taints_reader_in_scope_only(void **state)
{
	struct fake f = { 0 };
	int p[2], ready[2];
	struct stat st;
	pid_t outside;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(fstat(p[0], &st), 0);
	{
		int fds[] = { p[0], p[1], ready[0] };

		child(&f, fds, 3, (int[]){ p[0] }, 1, ready[1]);	/* reader */
		outside = child(&f, fds, 3, (int[]){ p[0] }, 1, ready[1]);
	}
	f.n = 1;	/* the second reader is out of scope */
	close(p[0]);
	close(p[1]);
	wait_ready(ready[0], 2);
	f.marked_ino = st.st_ino;
	f.mark_writer = 99999;

	assert_int_equal(pipes__propagate(env_of(&f), getpid()), 1);
	assert_true(f.taint[0].on);
	assert_int_equal(f.taint[0].from, 99999);
	assert_int_equal(f.taint[0].depth, 4);	/* the mark's depth + 1 */
	assert_int_equal(f.taint[0].mask, 4);
	assert_int_equal(f.taint[0].file, 7);
	f.n = 2;
	assert_false(f.taint[1].on);
	assert_int_equal(f.pid[1], outside);
	reap(&f);
	close(ready[0]);
	close(ready[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_tainted_writer_alone_taints_no_reader),
		cmocka_unit_test(kernel_mark_taints_reader_in_scope_only),
	};
	return cmocka_run_group_tests_name("pipes", tests, NULL, NULL);
}
