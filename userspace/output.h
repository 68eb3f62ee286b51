/* SPDX-License-Identifier: GPL-2.0 */
/* The alert stream: JSON lines, one object per line, written whole with one
 * write() and flushed per line. Every line starts with schema_version,
 * time, host, kind (see docs/ALERTS.md). */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include <sys/types.h>
#include "json.h"

struct output;

/* path "-" is stdout. A file is opened as safefile__open_output says (no
 * symlinks, ours, regular; created 0600, or 0640 for group gid unless it is
 * (gid_t)-1) and appended to. */
struct output *output__open(const char *path, gid_t gid, char *err, size_t errlen);
void output__close(struct output *o);
/* Start a line of the given kind in j (reset first). */
void output__begin(struct output *o, struct json *j, const char *kind);
/* The same, stamped with a given time and host (NULL: this host): replayed
 * activity keeps the time and host it was recorded with. */
void output__begin_at(struct output *o, struct json *j, const char *kind,
		      const struct timespec *ts, const char *host);
const char *output__host(const struct output *o);
/* End the object and write it as one line. 0 or -errno. */
int output__emit(struct output *o, struct json *j);
unsigned long long output__write_errors(const struct output *o);

#endif
