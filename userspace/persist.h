/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What outlives this agent, the agent's side: pinned enforcement (pin.c:
 * its ledger, adopted maps and windows) and spent budgets in the state file
 * (state.c: kept across a reboot). agent__run calls these in its order;
 * each does nothing when its option (--pin, --state-file) is off.
 */
#ifndef VIGIL_PERSIST_H
#define VIGIL_PERSIST_H

#include "agent.h"

/* Before load: the pin directory and the old agent's ledger. 0, or -1
 * (logged: bad configuration). */
int persist__open(struct agent *a);
/* After the maps are filled, before attach: adopted pinned state carries
 * the old agent's budget windows on; without it, spent stays spent across
 * a reboot (the state file). A file that does not validate is remembered
 * for persist__started: enforce counts every budget as spent (fail
 * closed). */
void persist__restore(struct agent *a);
/* After agent_start: the restore's error, the adoption (agent_adopt), the
 * first ledger. */
void persist__started(struct agent *a);
/* Every second: the ledger's heartbeat (the next agent reads it if this
 * one dies) and the state file. */
void persist__tick(struct agent *a);
/* After agent_stop: the state file's last write. */
void persist__stop(struct agent *a);
/* At exit: remove the pins (vigil stop --unpin) or leave them enforcing
 * with a clean ledger. */
void persist__close(struct agent *a);

#endif
