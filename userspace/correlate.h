/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The correlator: turns the kernel's state-change records into correlated
 * activity (activity.h) for the rule engine.
 *
 * It keeps one record per tainted process (who passed the taint on, how,
 * which files it read), so an alert can name the weight files, the chain of
 * processes from the reader to the sender, the destination and the bytes.
 * It is pure logic: the outside world (paths of file ids, bytes read, /proc,
 * killing, writing an alert) is reached through struct corr_env, which is
 * what the unit tests replace.
 */
#ifndef VIGIL_CORRELATE_H
#define VIGIL_CORRELATE_H

#include <stdbool.h>
#include <stdint.h>
#include "activity.h"
#include "proc.h"
#include "vigil.h"

struct corr_env {
	void *ctx;
	const char *(*file_path)(void *ctx, uint32_t file_id);
	uint32_t (*file_sets)(void *ctx, uint32_t file_id);
	const char *(*set_name)(void *ctx, unsigned set);	/* bit index */
	/* the size of file_id now, 0 if unknown (read coverage) */
	uint64_t (*file_size)(void *ctx, uint32_t file_id);
	/* distinct bytes tgid read of file_id, or -1 if unknown now */
	int64_t (*bytes_read)(void *ctx, uint32_t tgid, uint32_t file_id);
	int (*proc_read)(void *ctx, uint32_t pid, struct proc_info *out);
	/* send SIGKILL if pid is still the process seen at start_ticks */
	int (*kill)(void *ctx, uint32_t pid, unsigned long long start_ticks);
	/* a tainted process wrote a file that is protected from now on */
	void (*file_copied)(void *ctx, const struct vigil_ev_copy *e);
	/* parent's comm for proc.pname ("" if unknown) */
	const char *(*comm_of)(void *ctx, uint32_t pid);
	/* the path of a vg_watch entry (watch.h), "" if unknown; may be NULL */
	const char *(*watch_path)(void *ctx, uint32_t id);
	/* the TLS plaintext of tgid's flow to a's destination, if known:
	 * fills a->tls_plaintext and a->tls_library (may be NULL) */
	void (*tls_flow)(void *ctx, uint32_t tgid, struct activity *a);
	/* one correlated activity (dedupe done: a state change) */
	void (*emit)(void *ctx, const struct activity *a);
	bool enforce;
	bool deny_new_dest;	/* enforce refuses connects to new destinations */
};

struct corr;
struct derived_table;

struct corr *corr__new(const struct corr_env *env);
void corr__free(struct corr *c);
/* The derived-file ledger (derived.h): copies.c saves and restores it. */
struct derived_table *corr__derived(struct corr *c);
/* One ring-buffer record (header already size-checked by the caller is not
 * assumed: bad records are counted and ignored). Returns 0 or -EINVAL. */
int corr__handle(struct corr *c, const void *data, size_t size);
/* The exact size of a record of this type; 0 for a type that has none
 * here (VIGIL_EV_TAMPER is the agent's, not the correlator's). */
size_t corr__record_size(unsigned type);
/* Taint learnt outside the ring buffer: a process that held a protected
 * file before vigil started (via PREEXISTING, from 0), or one the agent
 * tainted through a chain of pipes (via PIPE, from the writer). */
void corr__inject(struct corr *c, uint32_t tgid, uint32_t from_tgid, uint32_t via,
		  uint32_t file_id, uint32_t set_mask, uint32_t depth, uint64_t now_ns);
/* Periodic duties: agent-side kills of blocked senders the kernel could
 * not kill in their own context, forgetting long-dead processes. */
void corr__tick(struct corr *c, uint64_t now_ns);

/* Distinct activities remembered per process (destination x kind x action x
 * level); beyond it new ones are dropped and counted in dest_limit_hits. */
#define CORR_MAX_SENT_PER_PROC 4096

struct corr_stats {
	uint64_t records, bad_records, activities, suppressed, agent_kills;
	uint64_t dest_limit_hits;	/* activities dropped: the process's set was full */
	uint64_t tracked;	/* records held: live tainted processes + recently exited */
	uint64_t live;		/* tainted processes still running */
	uint64_t derived;	/* copies of weights whose origin is kept */
	uint64_t derived_dropped; /* copies whose origin could not be kept (ledger full) */
};
void corr__stats(const struct corr *c, struct corr_stats *out);

const char *corr__via_name(uint32_t via);

#endif
