/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared mappings a process holds when it is tainted: a tmpfs, /dev/shm or
 * memfd file it mapped MAP_SHARED and closed before reading the weights
 * can still be written with plain stores, which no hook sees. At each
 * taint record (not a fork: a child's mappings are its parent's, scanned
 * at the parent's taint) the agent runs the task_vma iterator
 * (bpf/shm.bpf.c, vigil_shm_maps) for that process, which makes every
 * such file a copy, in the kernel, as an open for writing would.
 */
#ifndef VIGIL_SHMMAPS_H
#define VIGIL_SHMMAPS_H

#include <stddef.h>

struct vigil_bpf;
struct shmmaps;

/* NULL when the iterator is not loaded here (vigil check: shm). */
struct shmmaps *shmmaps__new(struct vigil_bpf *skel);
void shmmaps__free(struct shmmaps *s);
/* A ring-buffer record: runs the scan for a new taint's process (one that
 * is gone already fails it: logged at debug level). */
void shmmaps__on_record(struct shmmaps *s, const void *data, size_t size);

#endif
