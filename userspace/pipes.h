/* SPDX-License-Identifier: GPL-2.0 */
/* Taint through pipes, from userspace: the backstop of the kernel's check.
 *
 * The kernel counts the weights-shaped bytes tainted processes write into
 * each pipe (the pipe's mark) and taints a reader of a pipe whose mark
 * crossed the propagation threshold when that reader next writes or sends
 * (a middle stage such as gzip in `cat w | gzip | nc` at its first write).
 * After taint events the agent walks /proc too: a process holding the read
 * end of a pipe or FIFO whose mark crossed the threshold becomes tainted
 * (one that reads but never writes or sends). Holding a pipe a tainted
 * process writes into is not enough: a log line taints nobody. */
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
	/* the kernel's mark on a pipe/FIFO inode, if it carries the
	 * propagation threshold of weights bytes (tainted writers put them
	 * there, even if they have exited since); false otherwise */
	bool (*pipe_mark)(void *ctx, uint64_t ino, uint32_t *writer, uint32_t *mask,
			  uint32_t *depth, uint32_t *file_id);
	/* taint tgid from writer; returns 0 if it was newly tainted */
	int (*taint_put)(void *ctx, uint32_t tgid, uint32_t from, uint32_t mask,
			 uint32_t depth, uint32_t file_id);
};

/* Returns the number of processes newly tainted. */
int pipes__propagate(const struct pipes_env *env, int self_pid);

#endif
