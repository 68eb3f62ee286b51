// SPDX-License-Identifier: GPL-2.0
/* The sink framework: spec parsing, one bounded queue and thread per sink,
 * the hash chain, counters. Sink kinds only write lines. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "log.h"
#include "sha256.h"
#include "sink.h"

#define SINK_BATCH 64
#define DEFAULT_QUEUE 4096
#define DEFAULT_QUEUE_BYTES (16u << 20)
#define CHAIN_KEY "prev_hash"

struct sink_msg {
	atomic_int refs;
	size_t len;
	char data[];
};

struct sink {
	const struct sink_ops *ops;
	char name[PATH_MAX + 16];
	const char *target;		/* inside name, after "kind:" */
	void *priv;
	enum format format;
	bool chain;
	char prev_hash[2 * SHA256_LEN + 1];
	/* the queue: a ring of messages, bounded in count and bytes */
	pthread_mutex_t mu;
	pthread_cond_t more, space;
	struct sink_msg **ring;
	size_t cap, head, n, bytes, max_bytes;
	bool blocking, closing, reopen_req;
	bool warned;		/* the first failed write was logged; the rest are counted */
	gid_t gid;
	pthread_t thread;
	/* the batch being written, natively (sink thread only) */
	struct sink_line native[SINK_BATCH];
	/* rendering scratch, sink thread only */
	char *scratch;
	size_t scratch_cap;
	atomic_uint_fast64_t written, dropped, failed, reopens, reopen_failures;
	atomic_uint_fast64_t rotations, rotation_failures;
	atomic_uint_fast64_t readers, readers_dropped;
	bool has_readers, has_spool;
	atomic_uint_fast64_t spool_pending, spool_peak, delivered, posts_failed, rejected;
};

const char *sink__target(const struct sink *s) { return s->target; }
gid_t sink__file_gid(const struct sink *s) { return s->gid; }

const struct sink_line *sink__native_line(const struct sink *s, int i)
{
	return i >= 0 && i < SINK_BATCH ? &s->native[i] : NULL;
}
void *sink__priv(const struct sink *s) { return s->priv; }
void sink__set_priv(struct sink *s, void *priv) { s->priv = priv; }

void sink__count_reopen(struct sink *s, bool ok)
{
	atomic_fetch_add(ok ? &s->reopens : &s->reopen_failures, 1);
}

void sink__count_rotation(struct sink *s, bool ok)
{
	atomic_fetch_add(ok ? &s->rotations : &s->rotation_failures, 1);
}

void sink__set_readers(struct sink *s, uint64_t now, uint64_t dropped_more)
{
	s->has_readers = true;
	atomic_store(&s->readers, now);
	atomic_fetch_add(&s->readers_dropped, dropped_more);
}

void sink__set_spool(struct sink *s, uint64_t pending, uint64_t peak, uint64_t delivered,
		     uint64_t posts_failed)
{
	s->has_spool = true;
	atomic_store(&s->spool_pending, pending);
	atomic_store(&s->spool_peak, peak);
	atomic_store(&s->delivered, delivered);
	atomic_store(&s->posts_failed, posts_failed);
}

void sink__set_rejected(struct sink *s, uint64_t rejected)
{
	atomic_store(&s->rejected, rejected);
}

bool sink__is_json(const struct sink *s) { return format__is_json(s->format); }

struct sink_msg *sink__msg_new(const char *line, size_t len)
{
	struct sink_msg *m = malloc(sizeof(*m) + len + 1);

	if (!m)
		return NULL;
	atomic_init(&m->refs, 1);
	m->len = len;
	memcpy(m->data, line, len);
	m->data[len] = '\0';
	return m;
}

void sink__msg_put(struct sink_msg *m)
{
	if (m && atomic_fetch_sub(&m->refs, 1) == 1)
		free(m);
}

/* ---- spec ---------------------------------------------------------------- */

static bool parse_count(const char *v, unsigned long long lo, unsigned long long hi,
			unsigned long long *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

/* Which kind a target names; *target is what the kind opens. */
static const struct sink_ops *kind_of(const char *t, const char **target, char *err,
				      size_t errlen)
{
	const char *colon = strchr(t, ':');

	*target = t;
	if (!strcmp(t, "-"))
		return &sink_stdout_ops;
	if (!strncmp(t, "file:", 5)) {
		*target = t + 5;
		if (!**target) {
			snprintf(err, errlen, "--alerts %s: file: needs a path", t);
			return NULL;
		}
		return &sink_file_ops;
	}
	if (!strncmp(t, "syslog:", 7)) {
		*target = t + 7;
		return &sink_syslog_ops;
	}
	if (!strncmp(t, "unix:", 5)) {
		*target = t + 5;
		if (!**target) {
			snprintf(err, errlen, "--alerts %s: unix: needs a socket path", t);
			return NULL;
		}
		return &sink_unix_ops;
	}
	if (!strncmp(t, "http://", 7) || !strncmp(t, "https://", 8))
		return &sink_http_ops;
	/* "sylog:..." is a typo far more often than a file name: ./x: opens it */
	if (colon && colon > t && strspn(t, "abcdefghijklmnopqrstuvwxyz") == (size_t)(colon - t)) {
		snprintf(err, errlen, "--alerts %s: unknown sink type '%.*s:' (want -, PATH, "
			 "file:PATH, unix:PATH; a file whose name has a colon: ./%s)", t,
			 (int)(colon - t), t, t);
		return NULL;
	}
	if (!*t) {
		snprintf(err, errlen, "--alerts: empty sink");
		return NULL;
	}
	return &sink_file_ops;
}

static int apply_key(struct sink *s, const char *spec, char *kv, char *err, size_t errlen)
{
	char *eq = strchr(kv, '=');
	const char *k = kv, *v;
	unsigned long long x;
	int r;

	if (!eq) {
		snprintf(err, errlen, "--alerts %s: '%s' is not KEY=VALUE", spec, kv);
		return -EINVAL;
	}
	*eq = '\0';
	v = eq + 1;
	if (!strcmp(k, "format")) {
		int f = format__parse(v);

		if (f < 0) {
			snprintf(err, errlen, "--alerts %s: format=%s: want native, ecs, ocsf or cef",
				 spec, v);
			return -EINVAL;
		}
		s->format = f;
		return 0;
	}
	if (!strcmp(k, "queue")) {
		if (!parse_count(v, 1, 1u << 20, &x)) {
			snprintf(err, errlen, "--alerts %s: queue=%s: want 1-%u records", spec, v,
				 1u << 20);
			return -EINVAL;
		}
		s->cap = x;
		return 0;
	}
	if (!strcmp(k, "queue_bytes")) {
		if (!parse_count(v, 1 << 16, 1ull << 32, &x)) {
			snprintf(err, errlen, "--alerts %s: queue_bytes=%s: want 65536-4294967296",
				 spec, v);
			return -EINVAL;
		}
		s->max_bytes = x;
		return 0;
	}
	if (!strcmp(k, "chain")) {
		if (strcmp(v, "sha256") && strcmp(v, "none")) {
			snprintf(err, errlen, "--alerts %s: chain=%s: want sha256 or none", spec, v);
			return -EINVAL;
		}
		s->chain = !strcmp(v, "sha256");
		return 0;
	}
	{
		char why[256] = "";

		r = s->ops->set ? s->ops->set(s, k, v, why, sizeof(why)) : -ENOENT;
		if (r == -ENOENT)
			snprintf(err, errlen, "--alerts %s: unknown key '%s' for a %s sink", spec, k,
				 s->ops->kind);
		else if (r)
			snprintf(err, errlen, "--alerts %s: %s", spec, why);
	}
	return r;
}

/* ---- the thread ---------------------------------------------------------- */

static bool scratch_reserve(struct sink *s, size_t n)
{
	char *nb;

	if (n <= s->scratch_cap)
		return true;
	nb = realloc(s->scratch, n);
	if (!nb)
		return false;
	s->scratch = nb;
	s->scratch_cap = n;
	return true;
}

/* Lines of one batch in their final form: native as queued, or rendered in
 * the sink's format (rendered[i], malloc'd). With the chain each line
 * carries the hash of the line before it as written (native: spliced in
 * before the closing brace; ECS and OCSF: where they keep extensions), so a
 * removed or altered line breaks it. Returns how many lines are ready (a
 * record that cannot be rendered ends the batch there). */
static int render(struct sink *s, struct sink_msg **batch, int nb, struct sink_line *out,
		  char **rendered)
{
	size_t need = 0, off = 0;
	int i;

	if (s->format != FORMAT_NATIVE) {
		for (i = 0; i < nb; i++) {
			rendered[i] = format__render(s->format, batch[i]->data, batch[i]->len,
						     s->chain ? s->prev_hash : NULL);
			if (!rendered[i])
				return i;
			out[i] = (struct sink_line){ rendered[i], strlen(rendered[i]) };
			if (s->chain)
				sha256__hex(out[i].p, out[i].len, s->prev_hash);
		}
		return nb;
	}
	for (i = 0; i < nb; i++)
		out[i] = (struct sink_line){ batch[i]->data, batch[i]->len };
	if (!s->chain)
		return nb;
	for (i = 0; i < nb; i++)
		need += out[i].len + sizeof(",\"" CHAIN_KEY "\":\"\"") + 2 * SHA256_LEN;
	if (!scratch_reserve(s, need))
		return 0;
	for (i = 0; i < nb; i++) {
		char *p = s->scratch + off;
		size_t len = out[i].len;
		int k;

		if (len < 2 || out[i].p[len - 1] != '}')
			return i;	/* not an object: never happens with our writer */
		memcpy(p, out[i].p, len - 1);
		k = sprintf(p + len - 1, ",\"" CHAIN_KEY "\":\"%s\"}", s->prev_hash);
		out[i] = (struct sink_line){ p, len - 1 + k };
		sha256__hex(p, out[i].len, s->prev_hash);
		off += out[i].len;
	}
	return nb;
}

static void deliver(struct sink *s, struct sink_msg **batch, int nb)
{
	struct sink_line lines[SINK_BATCH];
	char *rendered[SINK_BATCH] = { 0 };
	int nr, nw;

	for (int i = 0; i < nb; i++)
		s->native[i] = (struct sink_line){ batch[i]->data, batch[i]->len };
	nr = render(s, batch, nb, lines, rendered);
	errno = 0;
	nw = nr ? s->ops->write(s, lines, nr) : 0;
	if (nw < nb && !s->warned) {
		s->warned = true;
		log__warn("alert output: %s (sink %s); what it cannot take is counted in "
			  "agent_stats", errno ? strerror(errno) : "record not rendered", s->name);
	}

	if (nw < 0)
		nw = 0;
	atomic_fetch_add(&s->written, nw);
	atomic_fetch_add(&s->failed, nb - nw);
	for (int i = 0; i < nb; i++) {
		free(rendered[i]);
		sink__msg_put(batch[i]);
	}
}

static void *sink_thread(void *arg)
{
	struct sink *s = arg;
	struct sink_msg *batch[SINK_BATCH];

	for (;;) {
		bool reopen, done;
		int nb = 0;

		pthread_mutex_lock(&s->mu);
		while (!s->n && !s->closing && !s->reopen_req) {
			if (s->ops->tick) {
				struct timespec dl;

				clock_gettime(CLOCK_REALTIME, &dl);
				dl.tv_nsec += (long)s->ops->tick_ms * 1000000;
				dl.tv_sec += dl.tv_nsec / 1000000000;
				dl.tv_nsec %= 1000000000;
				if (pthread_cond_timedwait(&s->more, &s->mu, &dl) == ETIMEDOUT)
					break;
			} else {
				pthread_cond_wait(&s->more, &s->mu);
			}
		}
		reopen = s->reopen_req;
		s->reopen_req = false;
		while (s->n && nb < SINK_BATCH) {
			batch[nb] = s->ring[s->head];
			s->head = (s->head + 1) % s->cap;
			s->n--;
			s->bytes -= batch[nb]->len;
			nb++;
		}
		done = s->closing && !s->n;
		pthread_cond_broadcast(&s->space);
		pthread_mutex_unlock(&s->mu);
		if (reopen && s->ops->reopen)
			s->ops->reopen(s);
		if (nb)
			deliver(s, batch, nb);
		if (s->ops->tick)
			s->ops->tick(s);
		if (done)
			return NULL;
	}
}

/* ---- lifecycle ------------------------------------------------------------ */

static void sink_free(struct sink *s)
{
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->more);
	pthread_cond_destroy(&s->space);
	free(s->ring);
	free(s->scratch);
	free(s);
}

struct sink *sink__open(const char *spec, bool blocking, gid_t gid, char *err, size_t errlen)
{
	char buf[PATH_MAX + 256], *save = NULL, *tok;
	struct sink *s;
	sigset_t all, old;
	const char *target;
	int r;

	if (strlen(spec) >= sizeof(buf) || strlen(spec) >= sizeof(s->name)) {
		snprintf(err, errlen, "--alerts: spec too long");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cap = DEFAULT_QUEUE;
	s->max_bytes = DEFAULT_QUEUE_BYTES;
	s->blocking = blocking;
	s->gid = gid;
	memset(s->prev_hash, '0', 2 * SHA256_LEN);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->more, NULL);
	pthread_cond_init(&s->space, NULL);
	/* the target is everything before the first comma */
	snprintf(buf, sizeof(buf), "%s", spec);
	tok = strtok_r(buf, ",", &save);
	if (!tok) {
		snprintf(err, errlen, "--alerts: empty sink");
		goto fail;
	}
	s->ops = kind_of(tok, &target, err, errlen);
	if (!s->ops)
		goto fail;
	snprintf(s->name, sizeof(s->name), "%s", tok);
	s->target = s->name + (target - tok);
	while ((tok = strtok_r(NULL, ",", &save)))
		if (apply_key(s, spec, tok, err, errlen))
			goto fail;
	if (s->chain && !format__is_json(s->format)) {
		snprintf(err, errlen, "--alerts %s: chain=sha256 needs a JSON format (native, ecs, "
			 "ocsf)", spec);
		goto fail;
	}
	s->ring = calloc(s->cap, sizeof(*s->ring));
	if (!s->ring) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (s->ops->open(s, err, errlen))
		goto fail;
	/* signals belong to the event loop (signalfd): none may land here */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&s->thread, NULL, sink_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		snprintf(err, errlen, "--alerts %s: thread: %s", spec, strerror(r));
		if (s->ops->close)
			s->ops->close(s);
		goto fail;
	}
	return s;
fail:
	sink_free(s);
	return NULL;
}

int sink__push(struct sink *s, struct sink_msg *m)
{
	pthread_mutex_lock(&s->mu);
	while (s->blocking && !s->closing && (s->n == s->cap || s->bytes + m->len > s->max_bytes) &&
	       s->n)
		pthread_cond_wait(&s->space, &s->mu);
	if (s->closing || s->n == s->cap || (s->n && s->bytes + m->len > s->max_bytes)) {
		pthread_mutex_unlock(&s->mu);
		atomic_fetch_add(&s->dropped, 1);
		return -ENOSPC;
	}
	atomic_fetch_add(&m->refs, 1);
	s->ring[(s->head + s->n) % s->cap] = m;
	s->n++;
	s->bytes += m->len;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void sink__reopen(struct sink *s)
{
	pthread_mutex_lock(&s->mu);
	s->reopen_req = true;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->mu);
}

int sink__close(struct sink *s, int timeout_ms)
{
	struct timespec dl;
	int r;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	pthread_cond_broadcast(&s->more);
	pthread_cond_broadcast(&s->space);
	pthread_mutex_unlock(&s->mu);
	if (timeout_ms < 0) {
		r = pthread_join(s->thread, NULL);
	} else {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000;
		}
		r = pthread_timedjoin_np(s->thread, NULL, &dl);
	}
	if (r) {
		pthread_mutex_lock(&s->mu);
		atomic_fetch_add(&s->failed, s->n);
		pthread_mutex_unlock(&s->mu);
		log__warn("alert sink %s did not take its last records in %d ms; %llu lost",
			  s->name, timeout_ms, (unsigned long long)s->n);
		return -ETIMEDOUT;	/* the stuck thread still owns s */
	}
	if (s->ops->close)
		s->ops->close(s);
	sink_free(s);
	return 0;
}

void sink__stats(struct sink *s, struct sink_stats *st)
{
	st->name = s->name;
	st->format = format__name(s->format);
	st->written = atomic_load(&s->written);
	st->dropped = atomic_load(&s->dropped);
	st->failed = atomic_load(&s->failed);
	pthread_mutex_lock(&s->mu);
	st->queued = s->n;
	pthread_mutex_unlock(&s->mu);
	st->reopens = atomic_load(&s->reopens);
	st->reopen_failures = atomic_load(&s->reopen_failures);
	st->rotations = atomic_load(&s->rotations);
	st->rotation_failures = atomic_load(&s->rotation_failures);
	st->has_readers = s->has_readers;
	st->readers = atomic_load(&s->readers);
	st->readers_dropped = atomic_load(&s->readers_dropped);
	st->has_spool = s->has_spool;
	st->spool_pending = atomic_load(&s->spool_pending);
	st->spool_peak = atomic_load(&s->spool_peak);
	st->delivered = atomic_load(&s->delivered);
	st->posts_failed = atomic_load(&s->posts_failed);
	st->rejected = atomic_load(&s->rejected);
}
