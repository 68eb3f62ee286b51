/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule engine: compiled rules (conditions, exceptions, message
 * templates) evaluated on correlated activity. Live, replay and `rules test`
 * all go through engine__eval, so they print the same alerts.
 *
 * Every enabled rule whose condition holds and no exception of which holds
 * produces one alert; repeats (same rule, process, destination and action)
 * are suppressed. What a rule's action means:
 *   alert  report only;
 *   block  enforce: the process may not send anywhere but loopback from now
 *          on (kernel deny + drop); monitor: reported as enforce_action;
 *   kill   enforce: the agent kills the process (the kernel already kills
 *          budget overruns on its own); monitor: reported as enforce_action.
 */
#ifndef VIGIL_ENGINE_H
#define VIGIL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include "activity.h"
#include "rules.h"

struct engine;

/* What the caller did (or, in replay, would have done) for a hit. */
struct engine_effects {
	void *ctx;
	/* enforce: block / kill the activity's process; 0 on success */
	int (*block)(void *ctx, const struct activity *a);
	int (*kill)(void *ctx, const struct activity *a);
};

struct rule_hit {
	const struct rule_def *rule;
	const char *severity;
	enum act_outcome action;	/* what was done */
	enum act_outcome enforce_action; /* monitor: what enforce would do, else ACT_NONE */
	enum act_killer killed_by;	/* when action is ACT_KILLED */
	char message[1024];
};

typedef void (*engine_emit_fn)(void *ctx, const struct activity *a, const struct rule_hit *h);

/* Compile every rule of rs. NULL and a file:line:column error on failure. */
struct engine *engine__new(const struct ruleset *rs, char *err, size_t errlen);
void engine__free(struct engine *e);

/* Everything engine__new checks, plus rules that can never match or that
 * only repeat an earlier rule. 0 or -EINVAL with err set. */
int engine__validate(const struct ruleset *rs, char *err, size_t errlen);

/* Evaluate one activity: emit each new hit. fx may be NULL (replay: the
 * action is reported as if it had succeeded). Returns the number of hits. */
int engine__eval(struct engine *e, const struct activity *a, const struct engine_effects *fx,
		 engine_emit_fn emit, void *ctx);

/* The whole way from a correlated activity to its alerts, the same live
 * and in replay: derive the fields rules read (activity__finish), judge the
 * destination by the engine's own allow entries, show the activity to seen
 * (the live agent's --record; may be NULL), evaluate. Returns the hits. */
typedef void (*engine_seen_fn)(void *ctx, const struct activity *a);
int engine__judge(struct engine *e, struct activity *a, const struct engine_effects *fx,
		  engine_seen_fn seen, engine_emit_fn emit, void *ctx);

/* Counters for agent_stats. */
struct engine_stats {
	unsigned long long hits, suppressed, action_failures;
};
void engine__stats(const struct engine *e, struct engine_stats *out);
size_t engine__rule_count(const struct engine *e);	/* enabled rules */

#endif
