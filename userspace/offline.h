/* SPDX-License-Identifier: GPL-2.0 */
/* `vigil replay` and `vigil rules test`: the rule engine on recorded or
 * hand-written activity, no kernel involved. */
#ifndef VIGIL_OFFLINE_H
#define VIGIL_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>
#include "rules.h"

struct offline_opts {
	const char **rules;	size_t nrules;
	const char **allow;	size_t nallow;
	bool no_default_rules;
	bool update;		/* rules test: rewrite expected alerts */
	bool coverage;		/* rules test: every enabled rule must fire */
};

int offline__load_rules(const struct offline_opts *o, const char *extra, struct ruleset *rs,
			char *err, size_t errlen);
/* Exit status: 0, 1 (runtime), 2 (bad rules or capture). */
int offline__replay(const struct offline_opts *o, const char *capture, const char *alerts);
int offline__rules_test(const struct offline_opts *o, const char *dir);

#endif
