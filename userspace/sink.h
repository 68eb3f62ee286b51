/* SPDX-License-Identifier: GPL-2.0 */
/* Alert sinks: where the record stream goes. Each sink is one thread with a
 * bounded queue; the event loop only ever enqueues (a pointer, under a
 * mutex) and never waits for a sink, so a slow or dead receiver cannot hold
 * up detection, enforcement or the other sinks. What a full queue turns away
 * is counted (dropped) and what a sink could not deliver is counted (failed);
 * both are reported in agent_stats. Spec: SINK[,KEY=VALUE...] (docs/ALERTS.md). */
#ifndef VIGIL_SINK_H
#define VIGIL_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sink;

/* One record, shared by every sink that queued it (refcounted). */
struct sink_msg;

struct sink_line {
	const char *p;
	size_t len;		/* without the newline */
};

/* A kind of sink: how to open, write and reopen its target. Runs in the
 * sink's own thread except open, which runs at start-up so bad targets are
 * an error before anything is attached. */
struct sink_ops {
	const char *kind;
	/* KEY=VALUE of this kind: 0, -ENOENT (not a key of this kind), -EINVAL */
	int (*set)(struct sink *s, const char *key, const char *value, char *err, size_t errlen);
	int (*open)(struct sink *s, char *err, size_t errlen);
	/* Write n lines; returns how many were written (the rest failed). */
	int (*write)(struct sink *s, const struct sink_line *lines, int n);
	void (*reopen)(struct sink *s);
	void (*close)(struct sink *s);
	/* If set: called every tick_ms, records or not (accept readers, flush). */
	void (*tick)(struct sink *s);
	int tick_ms;
};

struct sink_stats {
	const char *name;	/* the spec's target, e.g. "-" or "file:/var/log/x" */
	const char *format;
	uint64_t written;	/* records the receiver took */
	uint64_t dropped;	/* turned away by a full queue */
	uint64_t failed;	/* taken from the queue but not delivered */
	uint64_t queued;	/* waiting now */
	uint64_t reopens, reopen_failures;
	uint64_t rotations, rotation_failures;
	/* unix sinks: readers connected now, and readers cut off for falling
	 * behind (they missed what followed) */
	bool has_readers;
	uint64_t readers, readers_dropped;
	bool has_spool;
	uint64_t spool_pending, spool_peak, delivered, posts_failed;
	uint64_t rejected;	/* http: records the receiver refused for good */
};

/* Parse and open one --alerts spec. blocking: a full queue makes the
 * producer wait instead of dropping (offline replay must lose nothing).
 * gid: group of the files it creates (0640), (gid_t)-1: none (0600). */
struct sink *sink__open(const char *spec, bool blocking, gid_t gid, char *err, size_t errlen);
struct sink_msg *sink__msg_new(const char *line, size_t len);
/* The caller's reference; each queue holds its own. */
void sink__msg_put(struct sink_msg *m);
/* Queue m; never waits unless the sink is blocking. 0 or -ENOSPC (dropped). */
int sink__push(struct sink *s, struct sink_msg *m);
/* Ask the sink to reopen its target (SIGHUP: logrotate's rename style). */
void sink__reopen(struct sink *s);
/* Deliver what is queued, waiting at most timeout_ms (<0: no limit), then
 * stop. Returns 0, or -ETIMEDOUT if the sink was stuck: it is abandoned (its
 * thread left blocked, its memory kept) and what it held counted failed. */
int sink__close(struct sink *s, int timeout_ms);
void sink__stats(struct sink *s, struct sink_stats *st);

/* For sink kinds. */
const char *sink__target(const struct sink *s);
gid_t sink__file_gid(const struct sink *s);
/* Inside write: the native form of line i of the batch (what the record
 * was before the sink's format rendered it). */
const struct sink_line *sink__native_line(const struct sink *s, int i);
void *sink__priv(const struct sink *s);
void sink__set_priv(struct sink *s, void *priv);
void sink__count_reopen(struct sink *s, bool ok);
void sink__count_rotation(struct sink *s, bool ok);
void sink__set_readers(struct sink *s, uint64_t now, uint64_t dropped_more);
/* http sinks: records spooled and not yet delivered, the most there were,
 * delivered, requests that failed (retried). */
void sink__set_spool(struct sink *s, uint64_t pending, uint64_t peak, uint64_t delivered,
		     uint64_t posts_failed);

void sink__set_rejected(struct sink *s, uint64_t rejected);
/* The sink's format is JSON (native, ecs, ocsf): not CEF. */
bool sink__is_json(const struct sink *s);

extern const struct sink_ops sink_stdout_ops;
extern const struct sink_ops sink_file_ops;
extern const struct sink_ops sink_unix_ops;
extern const struct sink_ops sink_syslog_ops;
extern const struct sink_ops sink_http_ops;

#endif
