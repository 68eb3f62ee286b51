/* SPDX-License-Identifier: GPL-2.0 */
/* Record formats, chosen per sink. The agent builds every record once, in
 * the native format (docs/ALERTS.md); a sink with another format renders it
 * in its own thread, off the event loop: ECS 9.x, OCSF 1.8.0, CEF. */
#ifndef VIGIL_FORMAT_H
#define VIGIL_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum format { FORMAT_NATIVE, FORMAT_ECS, FORMAT_OCSF, FORMAT_CEF };

/* "native", "ecs", "ocsf", "cef"; -1 if unknown. */
int format__parse(const char *name);
const char *format__name(enum format f);
/* JSON formats can carry the hash chain member; CEF cannot. */
bool format__is_json(enum format f);
/* One native line in format f: a malloc'd line (no newline), or NULL if it
 * is not a native record (counted failed by the sink). prev_hash (hash
 * chain, or NULL) goes where the format keeps extensions: ECS vigil.*,
 * OCSF unmapped. */
char *format__render(enum format f, const char *line, size_t len, const char *prev_hash);

/* For the renderers: a member by dotted path ("process.pid"), or NULL. */
json_t *format__get(json_t *rec, const char *path);
const char *format__str(json_t *rec, const char *path);	/* "" if absent */
long long format__int(json_t *rec, const char *path);		/* -1 if absent */
/* Epoch milliseconds of an RFC 3339 UTC time with microseconds. */
long long format__epoch_ms(const char *rfc3339);
/* MITRE ATT&CK: technique name for an id from a rule's tags, NULL if not a
 * technique id we know. All vigil's techniques are under Exfiltration
 * (TA0010) or Collection (TA0009), Command and Control (TA0011). */
const char *format__technique_name(const char *id);
const char *format__tactic_of(const char *id, const char **tactic_name);
/* Building a rendering: the object member k of parent (created if absent),
 * a string member unless v is empty, a number member unless v < 0 (fields a
 * record kind does not carry), and every member of rec that is not the
 * record identity (for formats that keep the rest under their own name). */
json_t *format__obj(json_t *parent, const char *k);
void format__set_str(json_t *o, const char *k, const char *v);
void format__set_count(json_t *o, const char *k, long long v);
void format__copy_body(json_t *dst, json_t *rec);
/* 1-4 for low..critical, 0 if unknown. */
int format__severity_rank(const char *severity);

char *format_ecs__render(json_t *rec, const char *prev_hash);
char *format_ocsf__render(json_t *rec, const char *prev_hash);
char *format_cef__render(json_t *rec);

#endif
