/* SPDX-License-Identifier: GPL-2.0 */
/* `vigil run`: load and attach the BPF programs, fill the maps from the
 * rules, and run the event loop until SIGINT/SIGTERM. */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>

struct agent_opts {
	const char **protect;	size_t nprotect;
	const char **allow;	size_t nallow;
	const char **rules;	size_t nrules;
	bool enforce;
	unsigned long long budget;	/* valid if has_budget */
	bool has_budget;
	const char *alerts;		/* "-" = stdout */
	const char *record;		/* capture of correlated activity, or NULL */
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

#endif
