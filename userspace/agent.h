/* SPDX-License-Identifier: GPL-2.0 */
/* `vigil run`: load and attach the BPF programs, fill the maps from the
 * rules, and run the event loop until SIGINT/SIGTERM. */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "activity.h"
#include "json.h"
#include "kmaps.h"
#include "loader.h"
#include "rules.h"
#include "scope.h"

struct agent_opts {
	const char **protect;	size_t nprotect;
	const char **allow;	size_t nallow;
	const char **rules;	size_t nrules;
	bool enforce;
	unsigned long long budget;	/* valid if has_budget */
	bool has_budget;
	const char *alerts;		/* "-" = stdout */
	const char *record;		/* capture of correlated activity, or NULL */
	gid_t file_gid;			/* group of alerts/capture files; (gid_t)-1: none */
	const char *cgroup;		/* NULL = whole host */
	bool no_default_rules;
	unsigned stats_interval_s;	/* 0 = only at stop */
	bool verbose;
	/* tests only: shrink maps, inject faults (enforce.h) */
	const char **test_map_sizes;	size_t ntest_map_sizes;
	const char **test_faults;	size_t ntest_faults;
};

/* Returns the process exit status: 0 on a clean stop, 1 on a runtime
 * failure, 2 on bad configuration. */
int agent__run(const struct agent_opts *o);

/* The running agent's state. agent.c owns it; the modules that act on the
 * agent's behalf (status.c: agent_* lines, world.c: what the correlator and
 * pipe walker reach, seed.c: processes older than the agent) read it. */
struct enforce;

struct agent {
	const struct agent_opts *o;
	struct ruleset rs;
	struct budgets budgets;
	struct engine *engine;
	struct loader ld;
	struct enforce *enf;		/* the budget ceiling's agent side */
	struct scope scope;
	struct protect *prot;
	struct corr *corr;
	struct ring_buffer *rb;
	struct output *out;
	struct json j;
	struct capture_writer *cap;	/* --record */
	int inotify_fd;			/* protected directories, or -errno */
	size_t nallow_keys;
	unsigned long long rb_bad, reloads, capture_errors;
	uint64_t ticks_since_stats;	/* cron ticks since the last agent_stats */
	bool pipes_dirty;		/* a taint event arrived: re-walk pipe chains */
	bool stop;
	struct activity act;		/* the one being handled */
	char pname[64];
};

#endif
