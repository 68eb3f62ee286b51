/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Correlated activity: one state change of a tainted process, with
 * everything a rule may look at (the process, where its taint came from,
 * the destination, the bytes) and what the kernel did about it.
 *
 * The correlator produces these from kernel records; the rule engine turns
 * them into alerts; `vigil record` writes them to a capture and `vigil
 * replay` reads them back, so a capture replays through exactly the code
 * the live agent runs. Strings are borrowed: valid until the callback that
 * received the activity returns.
 */
#ifndef VIGIL_ACTIVITY_H
#define VIGIL_ACTIVITY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "expr.h"
#include "proc.h"

#define ACT_MAX_CHAIN 16
#define ACT_MAX_SOURCES 8
#define ACT_MAX_SETS 32

/* What happened (evt.type). */
#define ACT_EV_CONNECT "connect"	/* addressed a destination (connect, unconnected sendmsg) */
#define ACT_EV_EGRESS "egress"		/* first tainted byte left for a new destination */
#define ACT_EV_PROGRESS "progress"	/* a flow crossed a byte threshold (64 KiB x 4^n) */
#define ACT_EV_BUDGET "budget"		/* a protect set's budget was spent */

struct act_source {
	const char *path;
	const char *set;
	uint64_t bytes_read;
};

struct act_link {
	uint32_t pid;
	const char *comm;
	const char *via;
};

struct activity {
	struct timespec time;		/* wall clock, when the agent saw it */
	const char *host;
	const char *mode;		/* monitor | enforce */
	const char *event;		/* ACT_EV_* */
	const char *action;		/* alert | blocked | killed: what was done */
	const char *enforce_action;	/* monitor mode: what enforce would do, or NULL */
	const char *killed_by;		/* kernel | agent, when action is killed */
	char message[512];		/* a default sentence, for rules without a template */

	struct proc_info proc;
	const char *pname;		/* parent's comm, "" if unknown */

	struct act_source sources[ACT_MAX_SOURCES];
	int nsources;
	struct act_link chain[ACT_MAX_CHAIN];	/* reader first, this process last */
	int nchain;
	const char *sets[ACT_MAX_SETS];	/* names of the protect sets of the taint */
	int nsets;
	const char *taint_via;
	uint32_t taint_depth;
	uint64_t taint_bytes_read;	/* sum over sources */

	int af;				/* AF_INET / AF_INET6 */
	const char *family;		/* ipv4 | ipv6 */
	const char *protocol;		/* tcp | udp | other */
	unsigned char daddr_raw[16];	/* network order */
	char daddr[64];
	uint16_t dport;
	uint64_t bytes, blocked_bytes;
	bool allowed;			/* destination matches an allow entry */

	/* filled by activity__finish(): derived lists the rules look at */
	const char *ancestors[ACT_MAX_CHAIN];
	int nancestors;
	const char *paths[ACT_MAX_SOURCES];
	int npaths;
};

/* Derive ancestors/paths/taint_bytes_read from chain and sources. */
void activity__finish(struct activity *a);

/* The fields rules can use (docs/RULES.md lists exactly these). */
extern const struct expr_field activity_fields[];
extern const size_t activity_nfields;
void activity__get(const void *rec, unsigned id, struct expr_value *out);

#endif
