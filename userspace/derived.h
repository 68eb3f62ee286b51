/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The derived-file ledger: for each file the kernel protected because a
 * tainted process wrote it (a COPY record), where its bytes came from —
 * the original protected files and the chain of processes (and earlier
 * copies) that carried them there. A process that later reads the copy
 * inherits that origin, so its alerts name the weights, not the copy, and
 * list every hop. Origins are resolved when the copy is made (copies of
 * copies are flattened then), so a copy keeps its origin after the files
 * and processes before it are gone.
 *
 * Bounded: at most DERIVED_MAX entries (~700 bytes each); past it a new
 * copy's origin is not kept (counted: derived__dropped) and its readers
 * name the copy itself, as before the ledger existed.
 */
#ifndef VIGIL_DERIVED_H
#define VIGIL_DERIVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "activity.h"
#include "vigil.h"

#define DERIVED_MAX 8192

/* One hop of the origin: a process and how it got the bytes. A hop with
 * via VIGIL_VIA_FILE read them from file_id, an earlier copy. */
struct derived_hop {
	uint32_t pid;
	uint32_t via;		/* enum vigil_via */
	uint32_t file_id;	/* VIGIL_VIA_FILE: the copy it read */
	char comm[VIGIL_COMM_LEN];
};

/* An original protected file, and who read it (for bytes_read). */
struct derived_src {
	uint32_t file_id;
	uint32_t reader;	/* tgid of the process that read it */
	uint64_t reader_since;	/* its taint time: a reused pid is not it */
	uint64_t bytes;		/* distinct bytes it had read, last known */
};

struct derived {
	uint32_t file_id;	/* the copy */
	uint32_t via;		/* what kind of copy: VIGIL_VIA_FILE, _SHM, _MEMFD */
	int nsrc, nhops;
	int before;		/* hops of earlier copies' origins at the front */
	struct derived_src src[ACT_MAX_SOURCES];
	struct derived_hop hops[ACT_MAX_CHAIN];	/* reader first, the writer last */
};

struct derived_table;

struct derived_table *derived__new(void);
void derived__free(struct derived_table *t);
/* Keep (a copy of) d under d->file_id; replaces an entry of that id.
 * -ENOSPC past DERIVED_MAX, -ENOMEM. */
int derived__put(struct derived_table *t, const struct derived *d);
/* The origin of file_id, or NULL if it is no copy the ledger knows. */
struct derived *derived__get(const struct derived_table *t, uint32_t file_id);
/* The kind of copy a COPY record made: VIGIL_VIA_FILE (pages written on
 * disk), _SHM (a tmpfs or /dev/shm file), _MEMFD (a memfd: the kernel's
 * name "memfd:NAME", no path). */
uint32_t derived__copy_via(const struct vigil_ev_copy *e);
/* The hop a reader of the copy d makes (its kind; FILE if unknown). */
uint32_t derived__hop_via(const struct derived *d);
/* A hop through a copy (it names the copy's path). */
bool derived__is_copy_via(uint32_t via);
size_t derived__count(const struct derived_table *t);
uint64_t derived__dropped(const struct derived_table *t);

#endif
