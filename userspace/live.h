/* SPDX-License-Identifier: GPL-2.0 */
/* The live pipeline, one ring-buffer record at a time (offline.c is its
 * replay twin from engine__judge on): the record to the correlator
 * (correlate.c); the activity it raises stamped with time and host and
 * judged (engine__judge: allow verdict, --record capture, rules, effects
 * through scope.c and kmaps.c); each hit through the incidents (incident.c)
 * to an alert line (report.c). Every ctx is the agent. */
#ifndef VIGIL_LIVE_H
#define VIGIL_LIVE_H

#include <stddef.h>
#include "activity.h"

/* ring_buffer__new's callback: never stops consuming on a bad record. */
int live__on_record(void *ctx, void *data, size_t size);
/* The correlator's emit (corr_env.emit). */
void live__on_activity(void *ctx, const struct activity *in);

#endif
