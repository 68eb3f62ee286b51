/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's side of the budget ceiling (docs/ARCHITECTURE.md, "Why no
 * byte passes the budget"):
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
struct budgets;
struct ruleset;

/* Test knobs (vigil run --test-map-size NAME=N, --test-fault NAME), applied
 * between open and load. Returns 0 or -EINVAL with a message in err. */
int enforce__configure(struct vigil_bpf *skel, const char **map_sizes, size_t nmap_sizes,
		       const char **faults, size_t nfaults, char *err, size_t errlen);

struct enforce_env {
	struct vigil_bpf *skel;
	struct output *out;
	const struct budgets *budgets;	/* the agent's; its view is the mmapped map */
	const struct ruleset *rs;	/* the sets in force (nsets, names) */
	bool enforce;
	void *ctx;
	const char *(*set_name)(void *ctx, unsigned set);
	void (*error)(void *ctx, const char *msg);	/* an agent_error line */
};

struct enforce;

/* After load: maps vg_budgets, creates the socket iterator. NULL + errno. */
struct enforce *enforce__new(const struct enforce_env *env);
void enforce__free(struct enforce *e);
/* A ring-buffer record went by (a kill or a first drop: reset sockets). */
void enforce__on_record(struct enforce *e, const void *data, size_t size);
/* Every agent tick. */
void enforce__tick(struct enforce *e, uint64_t now_ns);
/* Before the programs are detached: the last socket pass. */
void enforce__stop(struct enforce *e);

#endif
