/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel maps the agent writes and reads: budgets and their windows,
 * the allowlist LPM image, executable-scoped allows, the scope, taint it
 * starts itself (seeding, pipe chains), and what it reads back (bytes
 * read, pipe marks, counters). Functions return 0 or a negative errno. */
#ifndef VIGIL_KMAPS_H
#define VIGIL_KMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rules.h"
#include "vigil.h"

struct vigil_bpf;

/* Per protect set: the byte limit the rules give it, and when its window
 * (if it has one) began. */
struct budgets {
	unsigned long long limit[VIGIL_MAX_SETS];
	uint64_t window_start[VIGIL_MAX_SETS];	/* CLOCK_MONOTONIC ns, 0: not yet */
	/* vg_budgets, mmapped: limits are stored and windows rolled with atomic
	 * ops on single fields while the kernel charges concurrently (a
	 * read-modify-write of the whole value lost its charges) */
	struct vigil_budget *view;
	size_t view_len;
};

int kmaps__set_scope(struct vigil_bpf *skel, int cgroup_fd);

/* Set each set's limit; what was already spent stays spent. */
int kmaps__fill_budgets(struct vigil_bpf *skel, const struct ruleset *rs,
			struct budgets *b);
void kmaps__unmap_budgets(struct budgets *b);
void kmaps__budget_low(struct vigil_bpf *skel, const struct budgets *b, size_t nsets);
/* Budgets whose window ended start afresh (sockets blocked stay blocked). */
void kmaps__roll_windows(struct vigil_bpf *skel, const struct ruleset *rs, struct budgets *b,
			 uint64_t now_ns);

/* Add every allow prefix (nkeys: how many entries went in). */
int kmaps__fill_allowlist(struct vigil_bpf *skel, const struct ruleset *rs, size_t *nkeys);
/* Remove the prefixes rs no longer has (after fill: never both deny). */
void kmaps__prune_allowlist(struct vigil_bpf *skel, const struct ruleset *rs);
/* The network-filesystem mounts allow entries name -> vg_netfs_allow, the
 * mounts no longer named (or unmounted) out; from the mountinfo file at
 * path (NULL: the agent's). Returns how many mounts are allowed, or -errno
 * (the map is then left as it was). */
int kmaps__fill_netfs_allows(struct vigil_bpf *skel, const struct ruleset *rs, const char *path);
/* Executables of exe-scoped allows and the running processes that are
 * one of them, rebuilt from scratch. */
void kmaps__fill_exe_allows(struct vigil_bpf *skel, const struct ruleset *rs);

/* Taint tgid unless it already is: the bitmap bit first, then the entry. */
int kmaps__taint_start(struct vigil_bpf *skel, uint32_t tgid, const struct vigil_taint *t);
bool kmaps__taint_get(struct vigil_bpf *skel, uint32_t tgid, struct vigil_taint *t);
/* The kernel's mark on a pipe, by inode number (what /proc shows). */
bool kmaps__pipe_mark(struct vigil_bpf *skel, uint64_t ino, struct vigil_pipe_mark *m);
/* Distinct bytes tgid read of file_id, or -1. */
int64_t kmaps__bytes_read(struct vigil_bpf *skel, uint32_t tgid, uint32_t file_id);
/* A rule blocked tgid: no non-loopback destination from now on. */
int kmaps__block(struct vigil_bpf *skel, uint32_t tgid);
/* The per-CPU counters, summed. */
void kmaps__counters(struct vigil_bpf *skel, struct vigil_counters *sum);

#endif
