/* SPDX-License-Identifier: GPL-2.0 */
/* Request bodies of the HTTP sink per receiving API, built from a batch of
 * spooled lines (one record per line, in the sink's format), and what the
 * answer says was taken. Pure: no network, unit-tested.
 *   generic  the lines as they are (NDJSON)
 *   splunk   HEC /services/collector/event: one {"time","host","source",
 *            "sourcetype",["index"],"event"} object per record
 *   elastic  _bulk: a {"create":{"_index","_id"}} action line before each
 *            record; _id is the record's id, so a batch sent again after a
 *            lost answer or a partial failure never indexes a record twice
 *            (its items come back 409, counted delivered)
 *   loki     /loki/api/v1/push: {"streams":[{"stream":{labels},"values":
 *            [[ns, line]...]}]}, labels bounded: job, host, kind, severity
 *            and the operator's labels */
#ifndef VIGIL_SINK_HTTP_BODY_H
#define VIGIL_SINK_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>

enum http_api { HTTP_API_GENERIC, HTTP_API_SPLUNK, HTTP_API_ELASTIC, HTTP_API_LOKI };

struct http_body_opts {
	enum http_api api;
	const char *index;	/* splunk: index (optional); elastic: the target index */
	const char *sourcetype;	/* splunk */
};

/* "generic", "splunk", "elastic", "loki"; -1 if unknown. */
int http_body__parse_api(const char *name);
const char *http_body__api_name(enum http_api api);
/* The path an API is POSTed to when the URL gives none. */
const char *http_body__default_path(enum http_api api);
const char *http_body__content_type(enum http_api api);

/* The body for n whole lines at p (each ending in '\n', len bytes in all):
 * malloc'd in *out, its length returned; -1 if out of memory, or if a line
 * the API needs as JSON (elastic) is not. */
long http_body__build(const struct http_body_opts *o, const char *p, size_t len, size_t n,
		      char **out);

/* Elastic's _bulk answer for a batch of n records: each item taken (2xx, or
 * 409: already there from an earlier try), to retry (429 and 5xx), or
 * rejected for good (any other status: a mapping error, for example).
 * Returns false if the answer is not a bulk answer for n items. */
struct bulk_result {
	size_t taken, retry, rejected;
	char first_error[256];	/* the first rejected item's reason */
};
bool http_body__bulk_result(const char *resp, size_t len, size_t n, struct bulk_result *r);

#endif
