// SPDX-License-Identifier: GPL-2.0
/* HTTP bodies per receiving API (sink_http_body.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "sink_http_body.h"
#include "strbuf.h"

static const char *const api_names[] = { "generic", "splunk", "elastic", "loki" };

int http_body__parse_api(const char *name)
{
	for (size_t i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++)
		if (!strcmp(name, api_names[i]))
			return (int)i;
	return -1;
}

const char *http_body__api_name(enum http_api api) { return api_names[api]; }

const char *http_body__default_path(enum http_api api)
{
	static const char *const p[] = { "/", "/services/collector/event", "/_bulk",
					 "/loki/api/v1/push" };
	return p[api];
}

const char *http_body__content_type(enum http_api api)
{
	return api == HTTP_API_SPLUNK || api == HTTP_API_LOKI ? "application/json"
							      : "application/x-ndjson";
}

/* A JSON value dumped compactly onto b; false if it cannot be. */
static bool put_json(struct buf *b, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!s)
		return false;
	buf__puts(b, s);
	free(s);
	return true;
}

/* ---- what the record says -------------------------------------------------- */

/* The record's time in microseconds since the epoch: native "time" and ECS
 * "@timestamp" (RFC 3339, microseconds), OCSF "time" (milliseconds);
 * the clock if it has none (CEF). */
static long long record_us(json_t *rec)
{
	const char *t = format__str(rec, "time");
	json_t *num = format__get(rec, "time");
	struct timespec now;

	if (!*t)
		t = format__str(rec, "@timestamp");
	if (*t) {
		long long ms = format__epoch_ms(t);
		const char *dot = strchr(t, '.');
		long long frac = 0;
		int digits = 0;

		if (ms >= 0) {
			if (dot)
				for (const char *c = dot + 1; *c >= '0' && *c <= '9' && digits < 6;
				     c++, digits++)
					frac = frac * 10 + (*c - '0');
			for (; digits < 6; digits++)
				frac *= 10;
			return ms / 1000 * 1000000 + frac;
		}
	}
	if (json_is_integer(num))
		return json_integer_value(num) * 1000;
	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec * 1000000ll + now.tv_nsec / 1000;
}

static const char *record_host(json_t *rec)
{
	json_t *h = format__get(rec, "host");

	if (json_is_string(h))
		return json_string_value(h);
	if (*format__str(rec, "host.name"))
		return format__str(rec, "host.name");	/* ECS */
	return format__str(rec, "device.hostname");	/* OCSF */
}

static const char *record_id(json_t *rec)
{
	json_t *id = format__get(rec, "id");

	if (json_is_string(id))
		return json_string_value(id);
	if (*format__str(rec, "event.id"))
		return format__str(rec, "event.id");	/* ECS */
	return format__str(rec, "metadata.uid");	/* OCSF */
}

/* ---- bodies ---------------------------------------------------------------- */

static void splunk_event(struct buf *b, const struct http_body_opts *o, json_t *rec,
			 const char *line, size_t len)
{
	json_t *ev = json_object();
	long long us = record_us(rec);
	char t[48];

	snprintf(t, sizeof(t), "{\"time\":%lld.%06lld,", us / 1000000, us % 1000000);
	buf__puts(b, t);
	if (*record_host(rec))
		json_object_set_new(ev, "host", json_string(record_host(rec)));
	json_object_set_new(ev, "source", json_string("vigil"));
	json_object_set_new(ev, "sourcetype", json_string(o->sourcetype ? o->sourcetype : "vigil"));
	if (o->index)
		json_object_set_new(ev, "index", json_string(o->index));
	/* a JSON record as an object (Splunk extracts its fields), else the line */
	json_object_set(ev, "event", rec ? rec : json_stringn(line, len));
	if (!rec)
		json_decref(json_object_get(ev, "event"));
	{
		char *s = json_dumps(ev, JSON_COMPACT);

		if (s)
			buf__puts(b, s + 1);	/* past its '{' */
		else
			b->oom = true;
		free(s);
	}
	buf__puts(b, "\n");
	json_decref(ev);
}

static bool elastic_item(struct buf *b, const struct http_body_opts *o, json_t *rec,
			 const char *line, size_t len)
{
	json_t *act, *meta;

	if (!json_is_object(rec))
		return false;	/* Elastic indexes JSON documents only */
	act = json_object();
	meta = json_object();
	json_object_set_new(meta, "_index", json_string(o->index ? o->index : "vigil-alerts"));
	if (*record_id(rec))
		json_object_set_new(meta, "_id", json_string(record_id(rec)));
	json_object_set_new(act, "create", meta);
	put_json(b, act);
	json_decref(act);
	buf__puts(b, "\n");
	buf__put(b, line, len);
	buf__puts(b, "\n");
	return true;
}

/* Loki: the labels of one record (bounded: never an id, a pid or a path). */
static json_t *loki_labels(json_t *rec)
{
	json_t *l = json_object(), *ops = format__get(rec, "labels"), *v;
	const char *k;

	json_object_set_new(l, "job", json_string("vigil"));
	if (*record_host(rec))
		json_object_set_new(l, "host", json_string(record_host(rec)));
	if (*format__str(rec, "kind"))
		json_object_set_new(l, "kind", json_string(format__str(rec, "kind")));
	if (*format__str(rec, "severity"))
		json_object_set_new(l, "severity", json_string(format__str(rec, "severity")));
	if (json_is_object(ops))	/* --label partner=acme: native and ECS */
		json_object_foreach(ops, k, v)
			if (json_is_string(v) && !json_object_get(l, k))
				json_object_set(l, k, v);
	return l;
}

static bool loki_add(json_t *streams, json_t *rec, const char *line, size_t len)
{
	json_t *labels = loki_labels(rec), *s = NULL, *entry;
	char ns[32];
	size_t i;

	json_array_foreach(streams, i, s)
		if (json_equal(json_object_get(s, "stream"), labels))
			break;
	if (i == json_array_size(streams)) {
		s = json_object();
		json_object_set(s, "stream", labels);
		json_object_set_new(s, "values", json_array());
		json_array_append_new(streams, s);
	}
	json_decref(labels);
	snprintf(ns, sizeof(ns), "%lld000", record_us(rec));
	entry = json_array();
	json_array_append_new(entry, json_string(ns));
	json_array_append_new(entry, json_stringn(line, len));
	return !json_array_append_new(json_object_get(s, "values"), entry);
}

long http_body__build(const struct http_body_opts *o, const char *p, size_t len, size_t n,
		      char **out)
{
	struct buf b = { 0 };
	json_t *streams = o->api == HTTP_API_LOKI ? json_array() : NULL;
	bool ok = true;

	*out = NULL;
	if (o->api == HTTP_API_GENERIC) {
		buf__put(&b, p, len);
		goto done;
	}
	for (size_t i = 0, off = 0; i < n && off < len && ok; i++) {
		const char *nl = memchr(p + off, '\n', len - off);
		size_t ll = (nl ? (size_t)(nl - p) : len) - off;
		json_t *rec = json_loadb(p + off, ll, 0, NULL);

		if (rec && !json_is_object(rec)) {
			json_decref(rec);
			rec = NULL;
		}
		if (o->api == HTTP_API_SPLUNK)
			splunk_event(&b, o, rec, p + off, ll);
		else if (o->api == HTTP_API_ELASTIC)
			ok = elastic_item(&b, o, rec, p + off, ll);
		else
			ok = loki_add(streams, rec, p + off, ll);
		json_decref(rec);
		off += ll + 1;
	}
	if (ok && streams) {
		json_t *body = json_object();

		json_object_set(body, "streams", streams);
		ok = put_json(&b, body);
		json_decref(body);
	}
done:
	json_decref(streams);
	if (!ok || b.oom) {
		free(b.p);
		return -1;
	}
	*out = b.p ? b.p : strdup("");
	return *out ? (long)b.len : -1;
}

bool http_body__bulk_result(const char *resp, size_t len, size_t n, struct bulk_result *r)
{
	json_t *doc = json_loadb(resp, len, 0, NULL), *items, *it;
	size_t i;

	memset(r, 0, sizeof(*r));
	items = json_object_get(doc, "items");
	if (!json_is_array(items) || json_array_size(items) != n) {
		json_decref(doc);
		return false;
	}
	json_array_foreach(items, i, it) {
		const char *op;
		json_t *res, *st = NULL;
		long long status;

		json_object_foreach(it, op, res) {	/* {"create":{...}}: one member */
			st = json_object_get(res, "status");
			break;
		}
		status = json_is_integer(st) ? json_integer_value(st) : 0;
		if ((status >= 200 && status < 300) || status == 409) {
			r->taken++;
		} else if (status == 429 || status >= 500 || !status) {
			r->retry++;
		} else {
			if (!r->rejected++) {
				json_t *e = json_object_get(res, "error");
				const char *why = json_string_value(json_object_get(e, "reason"));

				snprintf(r->first_error, sizeof(r->first_error), "status %lld: %s",
					 status, why ? why : "rejected");
			}
		}
	}
	json_decref(doc);
	return true;
}
