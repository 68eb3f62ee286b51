// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "record.h"
#include "sink.h"
#include "vigil.h"

struct output {
	struct record_identity id;
	struct sink *sinks[OUTPUT_MAX_SINKS];
	int nsinks;
	bool bare;
	int drain_ms;
	unsigned long long build_errors;
};

struct output *output__open_opts(const struct output_opts *oo, char *err, size_t errlen)
{
	static const char *const stdout_only[] = { "-" };
	const char *const *specs = oo->nsinks ? oo->sinks : stdout_only;
	size_t nspecs = oo->nsinks ? oo->nsinks : 1;
	struct output *o;

	if (nspecs > OUTPUT_MAX_SINKS) {
		snprintf(err, errlen, "--alerts: at most %d sinks", OUTPUT_MAX_SINKS);
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->bare = oo->bare;
	o->drain_ms = oo->drain_ms;
	record__identity_init(&o->id);
	for (size_t i = 0; i < oo->nlabels; i++)
		if (record__label_add(&o->id, oo->labels[i], err, errlen))
			goto fail;
	/* a reader that went away must cost a failed write, not the agent */
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < nspecs; i++) {
		o->sinks[o->nsinks] = sink__open(specs[i], oo->blocking, oo->file_gid, err, errlen);
		if (!o->sinks[o->nsinks])
			goto fail;
		o->nsinks++;
	}
	return o;
fail:
	output__close(o);
	return NULL;
}

struct output *output__open(const char *path, gid_t gid, char *err, size_t errlen)
{
	struct output_opts oo = { .sinks = &path, .nsinks = 1, .blocking = true, .file_gid = gid,
				  .drain_ms = -1 };

	return output__open_opts(&oo, err, errlen);
}

void output__close(struct output *o)
{
	if (!o)
		return;
	for (int i = 0; i < o->nsinks; i++)
		sink__close(o->sinks[i], o->drain_ms);
	free(o);
}

void output__begin_at(struct output *o, struct json *j, const char *kind,
		      const struct timespec *ts, const char *host)
{
	char tbuf[64];

	json__time_rfc3339(tbuf, sizeof(tbuf), ts);
	json__reset(j);
	json__begin_object(j);
	json__kv_uint(j, "schema_version", VIGIL_SCHEMA_VERSION);
	json__kv_str(j, "time", tbuf);
	json__kv_str(j, "host", host ? host : o->id.hostname);
	json__kv_str(j, "kind", kind);
	if (!o->bare)
		record__stamp(&o->id, j);
}

void output__begin(struct output *o, struct json *j, const char *kind)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	output__begin_at(o, j, kind, &ts, NULL);
}

const char *output__host(const struct output *o)
{
	return o->id.hostname;
}

int output__emit(struct output *o, struct json *j)
{
	struct sink_msg *m;
	char *capped = NULL;
	const char *s;
	size_t len;
	int taken = 0, r;

	json__end_object(j);
	if (j->oom) {
		o->build_errors++;
		return -ENOMEM;
	}
	s = json__cstr(j);
	len = j->len;
	r = record__cap(s, len, RECORD_HARD_BYTES, &capped);
	if (r < 0) {
		o->build_errors++;
		return r;
	}
	if (r > 0) {
		s = capped;
		len = strlen(capped);
	}
	m = sink__msg_new(s, len);
	free(capped);
	if (!m) {
		o->build_errors++;
		return -ENOMEM;
	}
	for (int i = 0; i < o->nsinks; i++)
		if (!sink__push(o->sinks[i], m))
			taken++;
	sink__msg_put(m);
	return taken ? 0 : -ENOSPC;
}

void output__reopen(struct output *o)
{
	for (int i = 0; i < o->nsinks; i++)
		sink__reopen(o->sinks[i]);
}

unsigned long long output__write_errors(const struct output *o)
{
	unsigned long long n = o->build_errors;

	for (int i = 0; i < o->nsinks; i++) {
		struct sink_stats st;

		sink__stats(o->sinks[i], &st);
		n += st.dropped + st.failed;
	}
	return n;
}

int output__sink_count(const struct output *o)
{
	return o->nsinks;
}

void output__sink_stats(struct output *o, int i, struct sink_stats *st)
{
	sink__stats(o->sinks[i], st);
}

/* The counters of struct sink_stats in agent_stats' "sinks", in order;
 * 's': only with a spool (http), 'r': only with readers (unix). */
static const struct { const char *key; size_t off; char only; } sink_counters[] = {
#define C(f, only) { #f, offsetof(struct sink_stats, f), only }
	C(written, 0), C(dropped, 0), C(failed, 0), C(queued, 0), C(reopens, 0),
	C(reopen_failures, 0), C(rotations, 0), C(rotation_failures, 0),
	C(spool_pending, 's'), C(spool_peak, 's'), C(delivered, 's'), C(posts_failed, 's'),
	C(rejected, 's'), C(readers, 'r'), C(readers_dropped, 'r'),
#undef C
};

void output__sink_stats_json(struct output *o, struct json *j)
{
	json__key(j, "sinks");
	json__begin_array(j);
	for (int i = 0; i < o->nsinks; i++) {
		struct sink_stats st;

		sink__stats(o->sinks[i], &st);
		json__begin_object(j);
		json__kv_str(j, "sink", st.name);
		json__kv_str(j, "format", st.format);
		for (size_t k = 0; k < sizeof(sink_counters) / sizeof(sink_counters[0]); k++) {
			char only = sink_counters[k].only;

			if ((only == 's' && !st.has_spool) || (only == 'r' && !st.has_readers))
				continue;
			json__kv_uint(j, sink_counters[k].key,
				      *(const uint64_t *)((const char *)&st + sink_counters[k].off));
		}
		json__end_object(j);
	}
	json__end_array(j);
}
