/* SPDX-License-Identifier: GPL-2.0 */
/* Taint through chains of pipes, from userspace.
 *
 * The kernel marks the pipes a process can write at the moment it becomes
 * tainted, and taints a reader of a marked pipe when that reader next
 * sends. A middle stage that never sends (gzip in `cat w | gzip | nc`) is
 * invisible there, so after taint events the agent walks /proc: a process
 * holding the read end of a pipe or FIFO whose write end a tainted process
 * holds becomes tainted, repeated until nothing changes. */
#ifndef VIGIL_PIPES_H
#define VIGIL_PIPES_H

#include <stdbool.h>
#include <stdint.h>

struct pipes_env {
	void *ctx;
	bool (*in_scope)(void *ctx, int pid);
	/* taint of tgid: 0 if untainted, else set mask (and depth, file) */
	bool (*taint_get)(void *ctx, uint32_t tgid, uint32_t *mask, uint32_t *depth,
			  uint32_t *file_id);
	/* the kernel's mark on a pipe/FIFO inode (a tainted writer held it),
	 * even if that writer has exited since; false if unmarked */
	bool (*pipe_mark)(void *ctx, uint64_t ino, uint32_t *writer, uint32_t *mask,
			  uint32_t *depth, uint32_t *file_id);
	/* taint tgid from writer; returns 0 if it was newly tainted */
	int (*taint_put)(void *ctx, uint32_t tgid, uint32_t from, uint32_t mask,
			 uint32_t depth, uint32_t file_id);
};

/* Returns the number of processes newly tainted. */
int pipes__propagate(const struct pipes_env *env, int self_pid);

#endif
