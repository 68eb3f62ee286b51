/* SPDX-License-Identifier: GPL-2.0 */
/* `vigil status`: a snapshot of the running agent as one JSON object (the
 * agent side), and its text rendering (the client side). The object's
 * members are documented in docs/OPERATIONS.md, "vigil status". */
#ifndef VIGIL_INSPECT_H
#define VIGIL_INSPECT_H

#include <stdio.h>
#include "agent.h"

#define INSPECT_MAX_FILES 1000		/* files listed (all are counted) */
#define INSPECT_MAX_TAINTED 1000
#define INSPECT_MAX_CHAIN 16

/* Remember an alert line for "recent_alerts". */
void inspect__remember_alert(struct agent *a, const char *line);
void inspect__free(struct agent *a);
/* The whole snapshot: j gets one object. */
void inspect__status(struct agent *a, struct json *j);
/* Client: print the snapshot (text) for people. 0, or -EINVAL if it is
 * not a status object. */
int inspect__print(const char *status_json, FILE *f);

#endif
