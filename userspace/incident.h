/* SPDX-License-Identifier: GPL-2.0 */
/* Not flooding, never silent. An incident is one rule matching one process
 * (pid + start time): its first alert goes out at once; later alerts of the
 * same incident fold into it and come out as one alert_update record per
 * fold interval (count, first/last seen, highest severity). Per rule, at
 * most rate_limit new incidents a minute are reported; the rest are counted
 * and an alerts_suppressed record says how many. Enforcement (action
 * blocked or killed) is never folded or suppressed. */
#ifndef VIGIL_INCIDENT_H
#define VIGIL_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "activity.h"
#include "engine.h"
#include "json.h"
#include "output.h"
#include "record.h"

struct incidents;

struct incident_opts {
	unsigned fold_s;	/* 0: no folding, every alert goes out */
	unsigned rate_limit;	/* new incidents per rule per minute, 0 = no limit */
};

/* What goes into an alert's "incident" member. */
struct incident_ref {
	char id[RECORD_UUID_LEN + 1];
	uint64_t count;
	struct timespec first_seen, last_seen;
};

enum incident_verdict {
	INCIDENT_REPORT,	/* write the alert now, with ref */
	INCIDENT_FOLDED,	/* counted into an open incident */
	INCIDENT_SUPPRESSED,	/* over the rule's rate limit */
};

/* Records it writes itself (alert_update, alerts_suppressed) go to out,
 * built in j. */
struct incidents *incidents__new(const struct incident_opts *o, struct output *out,
				 struct json *j);
void incidents__free(struct incidents *in);
/* A rule hit at time now (the activity's time). */
enum incident_verdict incidents__hit(struct incidents *in, const struct activity *a,
				     const struct rule_hit *h, struct incident_ref *ref);
/* Write what is due at now: alert_update for incidents with folded alerts
 * whose interval is over, alerts_suppressed for rate windows that ended
 * with suppressions; all of it if final (agent stop, end of replay). */
void incidents__flush(struct incidents *in, const struct timespec *now, bool final);
/* The "incident" member of an open alert object. */
void incidents__json(struct json *j, const struct incident_ref *ref, const char *state);

/* Per rule (at most 256 rules are tracked): alerts written by severity
 * (index: format__severity_rank, 1 low .. 4 critical), by action (alert,
 * blocked, killed), folded and suppressed. */
struct incident_rule {
	const char *rule;
	uint64_t by_severity[5], by_action[3], folded, suppressed;
};
void incidents__foreach_rule(const struct incidents *in,
			     void (*fn)(void *ctx, const struct incident_rule *r), void *ctx);

#endif
