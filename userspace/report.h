/* SPDX-License-Identifier: GPL-2.0 */
/* Activity and alerts as JSON: the alert lines of docs/ALERTS.md and the
 * records of a capture share one body (process, taint, network), so a
 * replayed capture prints byte-identical alerts. */
#ifndef VIGIL_REPORT_H
#define VIGIL_REPORT_H

#include <stdbool.h>
#include "activity.h"
#include "engine.h"
#include "incident.h"
#include "json.h"
#include "output.h"

/* "process", "taint", "network" members of an open object; a capture also
 * keeps the process start time (pid reuse). */
void report__body(struct json *j, const struct activity *a, bool capture);
/* One alert line, stamped with the activity's time and host. inc: its
 * incident (NULL: none, for rules-test fixtures). events_lost: kernel
 * events lost since the previous alert (0: none, the field is left out;
 * replay has no kernel and passes 0). */
int report__alert(struct output *o, struct json *j, const struct activity *a,
		  const struct rule_hit *h, const struct incident_ref *inc,
		  unsigned long long events_lost);

#endif
