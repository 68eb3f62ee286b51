/* SPDX-License-Identifier: GPL-2.0 */
/* The record stream: JSON lines, one object per line. Every line starts with
 * schema_version, time, host, kind and the record identity (id, seq, boot_id,
 * machine_id, run_id, labels; see record.h and docs/ALERTS.md). emit hands
 * the finished line to every sink's queue and returns at once: writing
 * happens in the sinks' own threads (sink.h). */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include <stdbool.h>
#include <sys/types.h>
#include "json.h"

#define OUTPUT_MAX_SINKS 16

struct output;
struct sink_stats;

struct output_opts {
	const char *const *sinks;	/* --alerts specs; none: "-" */
	size_t nsinks;
	const char *const *labels;	/* --label KEY=VALUE */
	size_t nlabels;
	bool blocking;		/* a full sink queue waits instead of dropping (offline) */
	bool bare;		/* no record identity: rules-test fixtures compare content */
	gid_t file_gid;		/* group of alert files (0640); (gid_t)-1: none (0600) */
	int drain_ms;		/* at close, how long a sink may take (<0: no limit) */
};

struct output *output__open_opts(const struct output_opts *oo, char *err, size_t errlen);
/* One sink, path "-" is stdout; blocking, no time limit at close; files as
 * safefile__open_output says (no symlinks, ours, regular; 0600, or 0640 for
 * group gid unless it is (gid_t)-1). */
struct output *output__open(const char *path, gid_t gid, char *err, size_t errlen);
void output__close(struct output *o);
/* Start a line of the given kind in j (reset first). */
void output__begin(struct output *o, struct json *j, const char *kind);
/* The same, stamped with a given time and host (NULL: this host): replayed
 * activity keeps the time and host it was recorded with. */
void output__begin_at(struct output *o, struct json *j, const char *kind,
		      const struct timespec *ts, const char *host);
const char *output__host(const struct output *o);
/* End the object and queue it for every sink. 0, or -errno if it could not
 * be built or no sink took it. */
int output__emit(struct output *o, struct json *j);
/* SIGHUP: every sink reopens its target. */
void output__reopen(struct output *o);
/* Records some sink did not deliver (dropped, failed) or that could not be
 * built: never silent, reported in agent_stats. */
unsigned long long output__write_errors(const struct output *o);
/* "sinks": [{sink, format, written, dropped, failed, queued, ...}] as a
 * member of the open object in j. */
void output__sink_stats_json(struct output *o, struct json *j);
/* The sinks one by one (metrics). */
int output__sink_count(const struct output *o);
void output__sink_stats(struct output *o, int i, struct sink_stats *st);

#endif
