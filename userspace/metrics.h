/* SPDX-License-Identifier: GPL-2.0 */
/* Prometheus metrics: the text exposition format, served on a loopback
 * address (--metrics ADDR:PORT, GET /metrics, from a thread of its own) and/or
 * written atomically to a node_exporter textfile directory
 * (--metrics-textfile DIR: DIR/vigil.prom). The event loop only hands over a
 * new snapshot once a second; a slow scraper never reaches it. */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stddef.h>

struct metrics;

/* listen "HOST:PORT" (NULL: no server), dir (NULL: no textfile). */
struct metrics *metrics__open(const char *listen, const char *dir, char *err, size_t errlen);
void metrics__publish(struct metrics *m, const char *text, size_t len);
void metrics__close(struct metrics *m);

/* Building the text: one metric family's header, and a sample with up to
 * two label pairs (NULL name: none); label values are escaped. */
struct metrics_text;
void metrics__family(struct metrics_text *t, const char *name, const char *type,
		     const char *help);
void metrics__sample(struct metrics_text *t, const char *name, const char *l1, const char *v1,
		     const char *l2, const char *v2, double value);
struct metrics_text *metrics__text_new(void);
/* The text so far, NUL-terminated, and its length; freed with the builder. */
const char *metrics__text(struct metrics_text *t, size_t *len);
void metrics__text_free(struct metrics_text *t);

#endif
