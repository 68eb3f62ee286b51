/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's own lines in the alert stream (docs/ALERTS.md): agent_start,
 * agent_stats / agent_stop (one counter table), agent_reload, agent_error. */
#ifndef VIGIL_STATUS_H
#define VIGIL_STATUS_H

#include "agent.h"

void status__start(struct agent *a, int seeded, double startup_ms);
/* kind: agent_stats (periodic) or agent_stop. */
void status__counters(struct agent *a, const char *kind);
void status__reload(struct agent *a, double reload_ms);
/* Logged, and an agent_error line once the output is open. */
void status__error(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
