/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's side of the budget ceiling (docs/ARCHITECTURE.md, "Why no
 * byte passes the budget"):
 *   - budgets: limits set and windows rolled with atomic ops on the fields of
 *     the mmapped vg_budgets array, never a read-modify-write of the whole
 *     value (which lost the kernel's concurrent charges);
 *   - sockets: after every kill, every second while tainted sockets exist
 *     and before detaching, a BPF iterator pass aborts the sockets blocked at
 *     the budget (their queued bytes are discarded, not delivered once the
 *     drops stop) and accounts what receivers acknowledged;
 *   - state the kernel could not keep (maps full, allocations failed,
 *     lookups missing for tainted senders): one agent_error per rise;
 *   - budget_breach: a critical alert if more tainted bytes were observed
 *     leaving (egress passes, receiver acknowledgements) than the limit;
 *   - flows of processes that are gone are deleted (vg_flows is a plain
 *     hash: full means full).
 */
#ifndef VIGIL_ENFORCE_H
#define VIGIL_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vigil_bpf;
struct output;
struct json;

/* Test knobs (vigil run --test-map-size NAME=N, --test-fault NAME), applied
 * between open and load. Returns 0 or -EINVAL with a message in err. */
int enforce__configure(struct vigil_bpf *skel, const char **map_sizes, size_t nmap_sizes,
		       const char **faults, size_t nfaults, char *err, size_t errlen);

struct enforce_env {
	struct vigil_bpf *skel;
	struct output *out;
	bool enforce;
	void *ctx;
	const char *(*set_name)(void *ctx, unsigned set);
	void (*error)(void *ctx, const char *msg);	/* an agent_error line */
};

struct enforce;

/* After load: maps vg_budgets, creates the socket iterator. NULL + errno. */
struct enforce *enforce__new(const struct enforce_env *env);
void enforce__free(struct enforce *e);
/* Set the limits of sets [0, nsets) (what was spent stays spent). */
int enforce__set_limits(struct enforce *e, const unsigned long long *limits, size_t nsets);
/* A window ended: the set starts afresh; sockets blocked stay blocked. */
void enforce__roll(struct enforce *e, unsigned set);
/* A ring-buffer record went by (a kill or a first drop: reset sockets). */
void enforce__on_record(struct enforce *e, const void *data, size_t size);
/* Every agent tick. */
void enforce__tick(struct enforce *e, uint64_t now_ns);
/* Before the programs are detached: the last socket pass. */
void enforce__stop(struct enforce *e);
/* The kernel counters this module adds to agent_stats ("kernel" object). */
void enforce__json_counters(struct enforce *e, struct json *j);

#endif
