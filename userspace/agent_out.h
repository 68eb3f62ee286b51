/* SPDX-License-Identifier: GPL-2.0 */
/* Where the agent's records go: the alert stream and its sinks (output.c),
 * incidents that fold repeats (incident.c), the --record capture
 * (capture.c) and the metrics (metrics.c). Opened before the kernel side,
 * closed last (the sinks drain after everything else has stopped). */
#ifndef VIGIL_AGENT_OUT_H
#define VIGIL_AGENT_OUT_H

#include "agent.h"

/* 0, or the exit status after logging why: 2 bad configuration, 1 out of
 * memory. */
int agent_out__open(struct agent *a);
/* READY=1 promises agent_start is out: wait up to 1 s for every sink to
 * have written it. */
void agent_out__wait_start(struct agent *a);
void agent_out__close(struct agent *a);

#endif
