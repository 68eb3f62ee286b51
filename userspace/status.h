/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's own lines in the alert stream (docs/ALERTS.md): agent_start,
 * agent_stats / agent_stop (one counter table), agent_reload, agent_error. */
#ifndef VIGIL_STATUS_H
#define VIGIL_STATUS_H

#include "agent.h"

void status__start(struct agent *a, int seeded, double startup_ms);
/* kind: agent_stats (periodic) or agent_stop. */
void status__counters(struct agent *a, const char *kind);
/* The same counters as "kernel": {...}, "agent": {...} members of an
 * open object (vigil status). */
void status__counters_json(struct agent *a, struct json *j);
void status__reload(struct agent *a, double reload_ms);
/* agent_adopt: this agent found pinned state (pin.h), took it over or not,
 * and how the previous one ended. */
void status__adopt(struct agent *a);
/* agent_tamper: another process signalled the agent (a VIGIL_EV_TAMPER). */
void status__tamper(struct agent *a, const struct vigil_ev_tamper *e);
/* Prometheus text for --metrics: the counter table, sinks, alerts by rule
 * and severity; *out malloc'd. */
size_t status__metrics(struct agent *a, char **out);
/* heartbeat: a small "still here, and this is what I could not see" line. */
void status__heartbeat(struct agent *a);
/* Logged, and an agent_error line once the output is open. */
void status__error(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same as a reporter callback (ctx: the agent): what the protect sets
 * match but the table refused, state the kernel could not keep
 * (enforce.c). Never silent. */
void status__error_line(void *ctx, const char *msg);
/* Hand the metrics server (or textfile) a fresh snapshot; nothing without
 * --metrics/--metrics-textfile. */
void status__publish_metrics(struct agent *a);

#endif
