/* SPDX-License-Identifier: GPL-2.0 */
/* The rules the agent runs, and where they go: built from its options and
 * the host's own addresses (at start, on reload, for `vigil rules show`),
 * pushed into the kernel maps before the programs attach, and the host's
 * addresses kept current as interfaces come and go. Reload itself, which
 * swaps a whole new ruleset in, is agent.c's. */
#ifndef VIGIL_AGENT_RULES_H
#define VIGIL_AGENT_RULES_H

#include "agent.h"

/* The ruleset o gives: default pack, --rules, --protect, --allow, and each
 * set's budget in budgets[]; with host, the host's own addresses are a local
 * allow entry. 0 or -EINVAL with the reason in err. */
int agent_rules__build(const struct agent_opts *o, const struct hostaddrs *host,
		       struct ruleset *rs, unsigned long long *budgets, char *err,
		       size_t errlen);
/* At start: the host's addresses, the ruleset and its engine; 0 or -EINVAL
 * (logged). */
int agent_rules__load(struct agent *a);
/* Everything the kernel needs before the programs attach: scope, exe
 * allows, budgets, allowlist, protected files (watched, then scanned).
 * 0 or -1 (logged). */
int agent_rules__fill_maps(struct agent *a);
/* The host's addresses changed? Then the allow entry and the kernel
 * allowlist follow. */
void agent_rules__refresh_host(struct agent *a);
/* The allow entries' network-filesystem mounts into the kernel, when the
 * host's mounts changed (mountinfo polled) or always (rules, start). */
void agent_rules__refresh_mounts(struct agent *a, bool always);

#endif
