// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "incident.h"

#define NSLOTS 4096		/* open incidents kept; the least recent goes first */
#define RATE_WINDOW_S 60
#define MAX_RULES 256

struct incident {
	bool used;
	uint64_t key;
	char rule[64];
	struct incident_ref ref;
	int severity;		/* highest rank seen (format__severity_rank) */
	uint64_t pending;	/* folded since the last record of it */
	struct timespec last_record;
	pid_t pid, ppid;
	uid_t uid;
	char comm[16], exe[512];
	char daddr[64];
	uint16_t dport;
	enum act_mode mode;
};

struct rate {
	char rule[64];
	time_t window_start;
	uint64_t reported, suppressed;
	struct timespec first, last;
	struct incident_rule totals;	/* for metrics */
};

struct incidents {
	struct incident_opts o;
	struct output *out;
	struct json *j;
	struct incident slot[NSLOTS];
	struct rate rate[MAX_RULES];
	int nrates;
};

static const char *const sev_names[] = { "low", "low", "medium", "high", "critical" };

struct incidents *incidents__new(const struct incident_opts *o, struct output *out,
				 struct json *j)
{
	struct incidents *in = calloc(1, sizeof(*in));

	if (in) {
		in->o = *o;
		in->out = out;
		in->j = j;
	}
	return in;
}

void incidents__free(struct incidents *in)
{
	free(in);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t key_of(const struct activity *a, const char *rule)
{
	uint64_t h = mix(a->proc.pid, a->proc.start_ticks);

	for (const char *p = rule; *p; p++)
		h = mix(h, (unsigned char)*p);
	return h | 1;
}

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (a->tv_nsec - b->tv_nsec) / 1e9;
}

static void emit_suppressed(struct incidents *in, struct rate *r);

static struct rate *rate_of(struct incidents *in, const char *rule)
{
	for (int i = 0; i < in->nrates; i++)
		if (!strcmp(in->rate[i].rule, rule))
			return &in->rate[i];
	if (in->nrates == MAX_RULES)
		return NULL;	/* more rules than that: the rest are not limited */
	snprintf(in->rate[in->nrates].rule, sizeof(in->rate[0].rule), "%s", rule);
	in->rate[in->nrates].totals.rule = in->rate[in->nrates].rule;
	return &in->rate[in->nrates++];
}

static struct incident *find(struct incidents *in, uint64_t key, bool *fresh)
{
	struct incident *oldest = NULL;
	size_t at = key % NSLOTS;

	/* 8-way: the key's own slot and the next seven */
	for (size_t w = 0; w < 8; w++) {
		struct incident *s = &in->slot[(at + w) % NSLOTS];

		if (s->used && s->key == key) {
			*fresh = false;
			return s;
		}
		if (!s->used) {
			*fresh = true;
			return s;
		}
		if (!oldest || secs(&oldest->ref.last_seen, &s->ref.last_seen) > 0)
			oldest = s;
	}
	*fresh = true;
	return oldest;	/* evicted: its pending count is lost to updates (rare) */
}

static enum incident_verdict decide(struct incidents *in, const struct activity *a,
				    const struct rule_hit *h, struct incident_ref *ref);

enum incident_verdict incidents__hit(struct incidents *in, const struct activity *a,
				     const struct rule_hit *h, struct incident_ref *ref)
{
	enum incident_verdict v = decide(in, a, h, ref);
	struct rate *r = rate_of(in, h->rule->id);

	if (r) {
		struct incident_rule *t = &r->totals;

		if (v == INCIDENT_FOLDED)
			t->folded++;
		else if (v == INCIDENT_SUPPRESSED)
			t->suppressed++;
		else {
			t->by_severity[format__severity_rank(h->severity)]++;
			t->by_action[h->action == ACT_KILLED ? 2 : h->action == ACT_BLOCKED ? 1 : 0]++;
		}
	}
	return v;
}

void incidents__foreach_rule(const struct incidents *in,
			     void (*fn)(void *ctx, const struct incident_rule *r), void *ctx)
{
	for (int i = 0; i < in->nrates; i++)
		fn(ctx, &in->rate[i].totals);
}

static enum incident_verdict decide(struct incidents *in, const struct activity *a,
				    const struct rule_hit *h, struct incident_ref *ref)
{
	const char *rule = h->rule->id;
	bool enforcement = h->action != ACT_ALERT, fresh;
	uint64_t key = key_of(a, rule);
	struct incident *s = find(in, key, &fresh);
	int sev = format__severity_rank(h->severity);

	if (!fresh && in->o.fold_s) {
		s->ref.count++;
		s->ref.last_seen = a->time;
		if (sev > s->severity)
			s->severity = sev;
		snprintf(s->daddr, sizeof(s->daddr), "%s", a->daddr);
		s->dport = a->dport;
		if (!enforcement) {
			s->pending++;
			return INCIDENT_FOLDED;
		}
		/* enforcement goes out at once, as part of its incident */
		*ref = s->ref;
		s->last_record = a->time;
		return INCIDENT_REPORT;
	}
	if (!enforcement && in->o.rate_limit) {
		struct rate *r = rate_of(in, rule);

		if (r && a->time.tv_sec - r->window_start >= RATE_WINDOW_S) {
			if (r->suppressed)	/* the window that ended says what it held back */
				emit_suppressed(in, r);
			r->window_start = a->time.tv_sec;
			r->reported = 0;
		}
		if (r && r->reported >= in->o.rate_limit) {
			if (!r->suppressed++)
				r->first = a->time;
			r->last = a->time;
			return INCIDENT_SUPPRESSED;
		}
		if (r)
			r->reported++;
	}
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->key = key;
	snprintf(s->rule, sizeof(s->rule), "%s", rule);
	record__uuid(s->ref.id);
	s->ref.count = 1;
	s->ref.first_seen = s->ref.last_seen = s->last_record = a->time;
	s->severity = sev;
	s->pid = a->proc.pid;
	s->ppid = a->proc.ppid;
	s->uid = a->proc.uid;
	snprintf(s->comm, sizeof(s->comm), "%s", a->proc.comm);
	snprintf(s->exe, sizeof(s->exe), "%s", a->proc.exe);
	snprintf(s->daddr, sizeof(s->daddr), "%s", a->daddr);
	s->dport = a->dport;
	s->mode = a->mode;
	*ref = s->ref;
	return INCIDENT_REPORT;
}

void incidents__json(struct json *j, const struct incident_ref *ref, const char *state)
{
	char t[64];

	json__key(j, "incident");
	json__begin_object(j);
	json__kv_str(j, "id", ref->id);
	json__kv_str(j, "state", state);
	json__kv_uint(j, "count", ref->count);
	json__time_rfc3339(t, sizeof(t), &ref->first_seen);
	json__kv_str(j, "first_seen", t);
	json__time_rfc3339(t, sizeof(t), &ref->last_seen);
	json__kv_str(j, "last_seen", t);
	json__end_object(j);
}

static void emit_update(struct incidents *in, struct incident *s, const struct timespec *now)
{
	struct output *o = in->out;
	struct json *j = in->j;
	char msg[512];

	output__begin(o, j, "alert_update");
	json__kv_str(j, "rule", s->rule);
	json__kv_str(j, "severity", sev_names[s->severity]);
	json__kv_str(j, "action", "alert");	/* enforcement never folds */
	json__kv_str(j, "mode", activity__word(ACT_VOCAB_MODE, s->mode));
	snprintf(msg, sizeof(msg), "%s (pid %d): %llu more alert%s of %s, %llu since it was first "
		 "seen", s->comm, s->pid, (unsigned long long)s->pending, s->pending == 1 ? "" : "s",
		 s->rule, (unsigned long long)s->ref.count);
	json__kv_str(j, "message", msg);
	incidents__json(j, &s->ref, "update");
	json__kv_uint(j, "folded", s->pending);
	json__key(j, "process");
	json__begin_object(j);
	json__kv_uint(j, "pid", s->pid);
	json__kv_uint(j, "ppid", s->ppid);
	json__kv_str(j, "comm", s->comm);
	json__kv_str(j, "exe", s->exe);
	json__kv_uint(j, "uid", s->uid);
	json__end_object(j);
	json__key(j, "network");
	json__begin_object(j);
	json__kv_str(j, "daddr", s->daddr);
	json__kv_uint(j, "dport", s->dport);
	json__end_object(j);
	output__emit(o, j);
	s->pending = 0;
	s->last_record = *now;
}

static void emit_suppressed(struct incidents *in, struct rate *r)
{
	struct output *o = in->out;
	struct json *j = in->j;
	char t[64], msg[256];

	output__begin(o, j, "alerts_suppressed");
	json__kv_str(j, "rule", r->rule);
	json__kv_uint(j, "suppressed", r->suppressed);
	json__kv_uint(j, "limit", in->o.rate_limit);
	json__kv_uint(j, "window_s", RATE_WINDOW_S);
	json__time_rfc3339(t, sizeof(t), &r->first);
	json__kv_str(j, "first_suppressed", t);
	json__time_rfc3339(t, sizeof(t), &r->last);
	json__kv_str(j, "last_suppressed", t);
	snprintf(msg, sizeof(msg), "%llu alerts of %s were not written: over its limit of %u new "
		 "incidents a minute (enforcement is never suppressed)",
		 (unsigned long long)r->suppressed, r->rule, in->o.rate_limit);
	json__kv_str(j, "message", msg);
	output__emit(o, j);
	r->suppressed = 0;
}

void incidents__flush(struct incidents *in, const struct timespec *now, bool final)
{
	for (size_t i = 0; i < NSLOTS; i++) {
		struct incident *s = &in->slot[i];

		if (s->used && s->pending && (final || secs(now, &s->last_record) >= in->o.fold_s))
			emit_update(in, s, now);
	}
	for (int i = 0; i < in->nrates; i++) {
		struct rate *r = &in->rate[i];

		if (r->suppressed && (final || now->tv_sec - r->window_start >= RATE_WINDOW_S)) {
			emit_suppressed(in, r);
			r->window_start = now->tv_sec;
			r->reported = 0;
		}
	}
}
