/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Enforcement that outlives the agent: programs' links and the maps that
 * hold taint, budgets, the allowlist and the ring buffer are pinned in
 * bpffs (PIN_DIR/links/<program>, PIN_DIR/maps/<map>), so the kernel keeps
 * tainting, counting, denying, dropping and killing if the agent is
 * SIGKILLed, OOM-killed or crashes.
 *
 * A restarted agent adopts the pinned maps (same type and sizes: the same
 * vigil) before it loads, so its programs share taint and spent budgets
 * with the old ones; cgroup links are switched to the new programs in
 * place (BPF_LINK_UPDATE: no gap, no packet seen twice), tracing links are
 * attached anew before the old one is dropped (an overlap of one attach:
 * an event in it may be seen by both, which errs towards enforcing).
 * Incompatible pins (another vigil version, a different set order) are
 * replaced, and said so: budgets then start afresh.
 *
 * RUN_DIR/agent.state (the ledger) says which agent owned the pins, its
 * sets in kernel order, its budget windows and whether it stopped cleanly;
 * the next agent reports an unclean stop as an incident (agent_adopt).
 *
 * Functions return 0 or a negative errno after logging why.
 */
#ifndef VIGIL_PIN_H
#define VIGIL_PIN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "rules.h"
#include "vigil.h"

struct bpf_object;
struct bpf_program;
struct bpf_link;

#define PIN_MAX_LINKS 64

struct pin_ledger {
	bool present;
	bool clean;			/* the agent stopped (SIGTERM, vigil stop) */
	unsigned pid;
	uint64_t last_seen_ns;		/* CLOCK_REALTIME of its last heartbeat */
	char sets[VIGIL_MAX_SETS][64];	/* kernel order */
	unsigned nsets;
	uint64_t window_start[VIGIL_MAX_SETS];	/* CLOCK_MONOTONIC ns */
};

struct pin {
	char dir[PATH_MAX / 2];
	char ledger_path[PATH_MAX / 2];
	bool found;			/* pins were there at start */
	bool adopted;			/* and their maps are ours now */
	const char *not_adopted;	/* why not, when found */
	struct pin_ledger old;		/* what the previous agent left */
	uint64_t cgroup_id;		/* the scope's, for cgroup links */
	char kept[PIN_MAX_LINKS][64];	/* links pinned by this agent */
	int nkept;
	int links_updated, links_replaced;
};

/* Make PIN_DIR (on bpffs) and read the ledger in run_dir. */
int pin__open(struct pin *p, const char *pin_dir, const char *run_dir);
/* Before load: reuse the pinned maps if they fit and the old sets are a
 * prefix of sets (names, kernel order); else unpin them. */
int pin__reuse_maps(struct pin *p, struct bpf_object *obj, const struct ruleset *rs);
/* After load: pin every map not pinned yet. */
int pin__pin_maps(struct pin *p, struct bpf_object *obj);
/* Attach prog (cgroup ones to cgroup_fd) taking over its pinned link. */
struct bpf_link *pin__attach(struct pin *p, struct bpf_program *prog, bool cgroup, int cgroup_fd);
/* After attaching: drop pinned links of programs this agent did not attach. */
void pin__finish(struct pin *p);
/* The ledger: at start and every heartbeat (clean=false), at stop. */
int pin__write_ledger(struct pin *p, bool clean, const struct ruleset *rs,
		      const uint64_t *window_start);
/* Remove every pin (links detach once no agent holds them) and the
 * ledger. 0, or -ENOENT if there was nothing. */
int pin__remove(const char *pin_dir, const char *run_dir);

#endif
