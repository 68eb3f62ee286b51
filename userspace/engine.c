// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "engine.h"

#define DEDUPE_SETS 4096	/* recent (rule, process, destination, action) hits, */
#define DEDUPE_WAYS 4		/* 4-way: a busy host evicts the oldest, not a neighbour */
#define MAX_SEGMENTS 64

/* A message template: literal runs and field references. */
struct segment {
	const char *lit;	/* points into the rule's message */
	size_t len;
	int field;		/* -1: literal */
};

struct crule {
	const struct rule_def *def;
	struct expr *cond;
	struct expr **exc;
	size_t nexc;
	struct segment *segs;
	size_t nsegs;
	bool enabled;		/* def->enabled, without the pointer chase */
};

struct dedupe_set {
	uint64_t hash[DEDUPE_WAYS];	/* 0 = empty */
	unsigned next;			/* round-robin victim */
};

/* Rules are indexed by what is cheap and always known: the event type and
 * the mode. A rule sits in a bucket unless its condition is false for
 * every activity of that event and mode. */
static const char *const idx_events[] = { ACT_EV_CONNECT, ACT_EV_EGRESS, ACT_EV_PROGRESS,
					   ACT_EV_BUDGET };
static const char *const idx_modes[] = { "monitor", "enforce" };
#define NEVENTS 4
#define NMODES 2

struct bucket {
	uint32_t *rules;	/* indexes into engine.rules, in order */
	size_t n;
};

struct engine {
	struct ruleset rs;		/* own copy: hits point into it */
	struct crule *rules;
	size_t nrules;
	struct bucket buckets[NEVENTS][NMODES];
	uint32_t *all;		/* every rule: activity of an unknown kind */
	struct dedupe_set *seen;
	struct engine_stats st;
};

/* ---- compile ------------------------------------------------------------ */

static bool env_list(void *ctx, const char *name, const char *const **items, size_t *n)
{
	const struct rule_list *l = rules__list(ctx, name);

	if (!l)
		return false;
	*items = (const char *const *)l->items;
	*n = l->nitems;
	return true;
}

static bool env_macro(void *ctx, const char *name, const char **text)
{
	const struct rule_macro *m = rules__macro(ctx, name);

	if (!m)
		return false;
	*text = m->condition;
	return true;
}

static bool ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* file:line:column in the rule file of column `col` (1-based) of the parsed
 * text. The scalar as written (loc->src) is walked alongside the parsed
 * text: quotes and block indicators are skipped, a run of white space in one
 * matches a run in the other (folding turns line breaks into spaces), an
 * escape is one parsed character. */
static void where(const struct rule_loc *loc, const char *text, int col, char *buf, size_t len)
{
	const char *src = loc->src, *s, *t, *target;
	int line = loc->line, c = loc->column;

	col -= loc->prefix;
	if (!src || col < 1) {
		snprintf(buf, len, "%s:%d:%d", loc->file ? loc->file : "?", loc->line, loc->column);
		return;
	}
	text += loc->prefix;
	target = text + strnlen(text, (size_t)col - 1);
	s = src;
	if (*s == '\'' || *s == '"') {
		s++;
	} else if (*s == '|' || *s == '>') {	/* block scalar: text on the next lines */
		while (*s && *s != '\n')
			s++;
		while (ws(*s))
			s++;
	}
	for (t = text; t < target && *s; ) {
		if (ws(*t) || ws(*s)) {
			while (t < target && ws(*t))
				t++;
			while (ws(*s))
				s++;
			continue;
		}
		if (*s == '\\' && s[1])		/* double-quoted escape */
			s++;
		else if (*s == '\'' && s[1] == '\'')	/* single-quoted '' */
			s++;
		s++;
		t++;
	}
	for (const char *q = src; q < s; q++) {
		if (*q == '\n') {
			line++;
			c = 1;
		} else {
			c++;
		}
	}
	snprintf(buf, len, "%s:%d:%d", loc->file ? loc->file : "?", line, c);
}

static struct expr *compile_cond(const struct ruleset *rs, const char *text,
				 const struct rule_loc *loc, const char *what, char *err,
				 size_t errlen)
{
	struct expr_env env = {
		.fields = activity_fields, .nfields = activity_nfields, .ctx = (void *)rs,
		.list = env_list, .macro = env_macro,
	};
	char msg[512], at[PATH_MAX + 32];
	struct expr *e;
	int col = 1;

	e = expr__parse(text, &env, msg, sizeof(msg), &col);
	if (!e) {
		where(loc, text, col, at, sizeof(at));
		snprintf(err, errlen, "%s: %s: %s", at, what, msg);
	}
	return e;
}

static int field_index(const char *name, size_t n)
{
	for (size_t i = 0; i < activity_nfields; i++)
		if (strlen(activity_fields[i].name) == n && !strncmp(activity_fields[i].name, name, n))
			return (int)i;
	return -1;
}

static bool field_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_' || c == '.';
}

/* "%proc.name sent %net.bytes bytes to %{net.daddr}:%net.dport (100%%)" */
static int compile_message(struct crule *cr, char *err, size_t errlen)
{
	const char *m = cr->def->message, *p, *lit;
	char at[PATH_MAX + 32];

	if (!m)
		return 0;
	cr->segs = calloc(MAX_SEGMENTS, sizeof(*cr->segs));
	if (!cr->segs)
		return -ENOMEM;
	for (p = lit = m; *p; ) {
		const char *name;
		size_t n;
		bool braced;
		int f;

		if (*p != '%') {
			p++;
			continue;
		}
		if (cr->nsegs + 2 >= MAX_SEGMENTS) {
			where(&cr->def->msg_loc, m, (int)(p - m) + 1, at, sizeof(at));
			snprintf(err, errlen, "%s: rule '%s': message has too many substitutions "
				 "(at most %d)", at, cr->def->id, MAX_SEGMENTS / 2 - 1);
			return -EINVAL;
		}
		if (p > lit)
			cr->segs[cr->nsegs++] = (struct segment){ lit, (size_t)(p - lit), -1 };
		if (p[1] == '%') {
			cr->segs[cr->nsegs++] = (struct segment){ p, 1, -1 };
			p += 2;
			lit = p;
			continue;
		}
		braced = p[1] == '{';
		name = p + 1 + braced;
		for (n = 0; field_char(name[n]); n++)
			;
		while (n && name[n - 1] == '.')	/* "%proc.name." ends a sentence */
			n--;
		f = field_index(name, n);
		if (f < 0 || (braced && name[n] != '}')) {
			where(&cr->def->msg_loc, m, (int)(p - m) + 1, at, sizeof(at));
			snprintf(err, errlen, "%s: rule '%s': message: unknown field '%%%.*s' "
				 "(write %%%% for a literal percent sign)", at, cr->def->id,
				 (int)(n ? n : 1), n ? name : p + 1);
			return -EINVAL;
		}
		cr->segs[cr->nsegs++] = (struct segment){ NULL, 0, f };
		p = name + n + braced;
		lit = p;
	}
	if (p > lit)
		cr->segs[cr->nsegs++] = (struct segment){ lit, (size_t)(p - lit), -1 };
	return 0;
}

static void crule_free(struct crule *cr)
{
	expr__free(cr->cond);
	for (size_t i = 0; i < cr->nexc; i++)
		expr__free(cr->exc[i]);
	free(cr->exc);
	free(cr->segs);
}

static int compile_rule(const struct ruleset *rs, const struct rule_def *d, struct crule *cr,
			char *err, size_t errlen)
{
	char what[256];

	memset(cr, 0, sizeof(*cr));
	cr->def = d;
	cr->enabled = d->enabled;
	snprintf(what, sizeof(what), "rule '%s': condition", d->id);
	cr->cond = compile_cond(rs, d->condition, &d->cond_loc, what, err, errlen);
	if (!cr->cond)
		return -EINVAL;
	cr->exc = calloc(d->nexceptions + 1, sizeof(*cr->exc));
	if (!cr->exc)
		return -ENOMEM;
	for (size_t i = 0; i < d->nexceptions; i++) {
		snprintf(what, sizeof(what), "rule '%s': exception '%s'", d->id,
			 d->exceptions[i].name);
		cr->exc[i] = compile_cond(rs, d->exceptions[i].condition,
					  &d->exceptions[i].cond_loc, what, err, errlen);
		if (!cr->exc[i])
			return -EINVAL;
		cr->nexc++;
	}
	return compile_message(cr, err, errlen);
}

/* Macros are checked on their own too: an unused broken macro is still an
 * error in the file that defines it. */
static int check_macros(const struct ruleset *rs, char *err, size_t errlen)
{
	for (size_t i = 0; i < rs->nmacros; i++) {
		char what[256];
		struct expr *e;

		snprintf(what, sizeof(what), "macro '%s'", rs->macros[i].name);
		e = compile_cond(rs, rs->macros[i].condition, &rs->macros[i].cond_loc, what,
				 err, errlen);
		if (!e)
			return -EINVAL;
		expr__free(e);
	}
	return 0;
}

void engine__free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nrules; i++)
		crule_free(&e->rules[i]);
	free(e->rules);
	free(e->seen);
	free(e->all);
	for (int i = 0; i < NEVENTS; i++)
		for (int m = 0; m < NMODES; m++)
			free(e->buckets[i][m].rules);
	rules__free(&e->rs);
	free(e);
}

static int field_id(const char *name)
{
	for (size_t i = 0; i < activity_nfields; i++)
		if (!strcmp(activity_fields[i].name, name))
			return (int)i;
	return -1;
}

static int build_index(struct engine *e)
{
	int fe = field_id("evt.type"), fm = field_id("evt.mode");
	uint64_t known = (1ull << fe) | (1ull << fm);
	struct activity probe;

	e->all = calloc(e->nrules + 1, sizeof(*e->all));
	if (!e->all)
		return -ENOMEM;
	for (size_t r = 0; r < e->nrules; r++)
		e->all[r] = (uint32_t)r;
	memset(&probe, 0, sizeof(probe));
	for (int i = 0; i < NEVENTS; i++) {
		for (int m = 0; m < NMODES; m++) {
			struct bucket *b = &e->buckets[i][m];

			b->rules = calloc(e->nrules + 1, sizeof(*b->rules));
			if (!b->rules)
				return -ENOMEM;
			probe.event = idx_events[i];
			probe.mode = idx_modes[m];
			for (size_t r = 0; r < e->nrules; r++)
				if (e->rules[r].enabled &&
				    expr__eval_partial(e->rules[r].cond, known, activity__get,
						       &probe) != EXPR_FALSE)
					b->rules[b->n++] = (uint32_t)r;
		}
	}
	return 0;
}

static struct engine *build(const struct ruleset *src, char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	const struct ruleset *rs;

	if (!e || rules__copy(&e->rs, src)) {
		free(e);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rs = &e->rs;
	e->rules = calloc(rs->nrules + 1, sizeof(*e->rules));
	e->seen = calloc(DEDUPE_SETS, sizeof(*e->seen));
	if (!e->rules || !e->seen) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (check_macros(rs, err, errlen))
		goto fail;
	for (size_t i = 0; i < rs->nrules; i++) {
		struct crule *cr = &e->rules[e->nrules];

		/* disabled rules are compiled too: a site may enable them later */
		if (compile_rule(rs, &rs->rules[i], cr, err, errlen)) {
			crule_free(cr);
			goto fail;
		}
		e->nrules++;
	}
	if (build_index(e))
		goto fail;
	return e;
fail:
	engine__free(e);
	return NULL;
}

struct engine *engine__new(const struct ruleset *rs, char *err, size_t errlen)
{
	return build(rs, err, errlen);
}

static void loc_text(const struct rule_loc *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d:%d", l->file ? l->file : "?", l->line, l->column);
}

int engine__validate(const struct ruleset *rs, char *err, size_t errlen)
{
	struct engine *e = build(rs, err, errlen);
	char (*canon)[2048] = NULL;
	int ret = 0;

	if (!e)
		return -EINVAL;
	canon = calloc(e->nrules + 1, sizeof(*canon));
	if (!canon) {
		engine__free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < e->nrules && !ret; i++) {
		const struct crule *cr = &e->rules[i];
		char why[256], at[PATH_MAX + 32], at2[PATH_MAX + 32];
		size_t n;

		if (expr__never_matches(cr->cond, why, sizeof(why))) {
			loc_text(&cr->def->cond_loc, at, sizeof(at));
			snprintf(err, errlen, "%s: rule '%s' can never match: %s", at, cr->def->id,
				 why);
			ret = -EINVAL;
			break;
		}
		/* identity of a rule's trigger: condition and exceptions */
		n = (size_t)expr__canonical(cr->cond, canon[i], sizeof(canon[i]));
		for (size_t k = 0; k < cr->nexc && n < sizeof(canon[i]); k++)
			n += (size_t)expr__canonical(cr->exc[k], canon[i] + n,
						      sizeof(canon[i]) - n);
		if (!cr->def->enabled)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (!e->rules[j].def->enabled || strcmp(canon[i], canon[j]))
				continue;
			loc_text(&cr->def->loc, at, sizeof(at));
			loc_text(&e->rules[j].def->loc, at2, sizeof(at2));
			snprintf(err, errlen, "%s: rule '%s' is shadowed by rule '%s' (%s): same "
				 "condition and exceptions, so it only repeats its alerts; merge "
				 "them or disable one", at, cr->def->id, e->rules[j].def->id, at2);
			ret = -EINVAL;
			break;
		}
	}
	free(canon);
	engine__free(e);
	return ret;
}

/* ---- evaluate ----------------------------------------------------------- */

static void append(char *buf, size_t len, size_t *off, const char *s, size_t n)
{
	if (*off + 1 >= len)
		return;
	if (n > len - 1 - *off)
		n = len - 1 - *off;
	memcpy(buf + *off, s, n);
	*off += n;
	buf[*off] = '\0';
}

static void render(const struct crule *cr, const struct activity *a, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (!cr->segs && a->message[0]) {	/* the correlator's own sentence */
		snprintf(buf, len, "%s", a->message);
		return;
	}
	if (!cr->segs) {	/* hand-written activity without one */
		snprintf(buf, len, "%s (pid %d) holding protected data, %s to %s port %u: %s",
			 a->proc.comm, (int)a->proc.pid, a->event, a->daddr, a->dport,
			 cr->def->description ? cr->def->description : cr->def->id);
		return;
	}
	for (size_t i = 0; i < cr->nsegs; i++) {
		const struct segment *s = &cr->segs[i];
		struct expr_value v = { 0 };
		char tmp[64];

		if (s->field < 0) {
			append(buf, len, &off, s->lit, s->len);
			continue;
		}
		activity__get(a, (unsigned)s->field, &v);
		switch (activity_fields[s->field].type) {
		case EXPR_STR:
			append(buf, len, &off, v.s, strlen(v.s));
			break;
		case EXPR_NUM:
			snprintf(tmp, sizeof(tmp), "%lld", (long long)v.n);
			append(buf, len, &off, tmp, strlen(tmp));
			break;
		case EXPR_BOOL:
			append(buf, len, &off, v.n ? "true" : "false", v.n ? 4 : 5);
			break;
		case EXPR_STRLIST:
			for (size_t k = 0; k < v.nlist; k++) {
				if (k)
					append(buf, len, &off, ", ", 2);
				append(buf, len, &off, v.list[k], strlen(v.list[k]));
			}
			break;
		case EXPR_ADDR:
			append(buf, len, &off, a->daddr, strlen(a->daddr));
			break;
		}
	}
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

/* The activity's part of the dedupe key: process and destination. */
static uint64_t activity_key(const struct activity *a)
{
	uint64_t w[2], h = 0;

	memcpy(w, a->daddr_raw, sizeof(w));
	h = mix(h, (uint64_t)a->proc.pid << 32 | (uint32_t)a->af);
	h = mix(h, a->proc.start_ticks);
	h = mix(h, w[0]);
	h = mix(h, w[1]);
	h = mix(h, (uint64_t)a->dport << 8 | (a->protocol ? (unsigned char)a->protocol[0] : 0));
	return h;
}

static unsigned action_code(const char *action)
{
	return action[0] == 'k' ? 2 : action[0] == 'b' ? 1 : 0;
}

/* true if this (rule, process, destination, action) was already reported */
static bool seen_before(struct engine *e, size_t rule, uint64_t akey, const char *action)
{
	uint64_t h = mix(akey, (uint64_t)rule << 2 | action_code(action)) | 1;
	struct dedupe_set *s = &e->seen[h % DEDUPE_SETS];

	for (int w = 0; w < DEDUPE_WAYS; w++)
		if (s->hash[w] == h)
			return true;
	/* full: the oldest goes (at worst, one repeated alert much later) */
	s->hash[s->next] = h;
	s->next = (s->next + 1) % DEDUPE_WAYS;
	return false;
}

/* The rules that can match this activity, by event type and mode. */
static const uint32_t *rules_for(const struct engine *e, const struct activity *a, size_t *n)
{
	int m = a->mode && a->mode[0] == 'e';

	for (int i = 0; i < NEVENTS; i++)
		if (a->event && !strcmp(a->event, idx_events[i])) {
			*n = e->buckets[i][m].n;
			return e->buckets[i][m].rules;
		}
	*n = e->nrules;
	return e->all;
}

int engine__eval(struct engine *e, const struct activity *a, const struct engine_effects *fx,
		 engine_emit_fn emit, void *ctx)
{
	bool enforce = a->mode && !strcmp(a->mode, "enforce");
	uint64_t akey = 0;
	int hits = 0;
	size_t nr;
	const uint32_t *idx = rules_for(e, a, &nr);

	e->st.evaluated++;
	for (size_t j = 0; j < nr; j++) {
		size_t i = idx[j];
		const struct crule *cr = &e->rules[i];
		struct rule_hit h;
		bool excepted = false;

		if (!cr->enabled || !expr__eval(cr->cond, activity__get, a))
			continue;
		for (size_t k = 0; k < cr->nexc && !excepted; k++)
			excepted = expr__eval(cr->exc[k], activity__get, a);
		if (excepted)
			continue;

		if (!akey)
			akey = activity_key(a) | 1;
		h.message[0] = '\0';
		h.rule = cr->def;
		h.severity = cr->def->severity;
		h.action = a->action;
		h.killed_by = a->killed_by;
		h.enforce_action = a->enforce_action;
		if (cr->def->action != RULE_ALERT && strcmp(a->action, "killed")) {
			bool kill = cr->def->action == RULE_KILL;

			if (!enforce) {
				h.enforce_action = kill ? "killed" : "blocked";
			} else if (kill && !strcmp(a->event, ACT_EV_BUDGET) &&
				   !strcmp(a->action, "blocked")) {
				/* the kernel kills budget overruns in the sender's own
				 * context (the agent after 100 ms if it cannot): the
				 * "killed" activity follows */
			} else if (kill) {
				if (!fx || !fx->kill || fx->kill(fx->ctx, a) == 0) {
					h.action = "killed";
					h.killed_by = "agent";
				} else {
					e->st.action_failures++;
				}
			} else if (strcmp(a->action, "blocked")) {
				if (!fx || !fx->block || fx->block(fx->ctx, a) == 0)
					h.action = "blocked";
				else
					e->st.action_failures++;
			}
		}
		if (seen_before(e, i, akey, h.action)) {
			e->st.suppressed++;
			continue;
		}
		render(cr, a, h.message, sizeof(h.message));
		e->st.hits++;
		hits++;
		if (emit)
			emit(ctx, a, &h);
	}
	return hits;
}

void engine__stats(const struct engine *e, struct engine_stats *out)
{
	*out = e->st;
}

size_t engine__rule_count(const struct engine *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nrules; i++)
		n += e->rules[i].def->enabled;
	return n;
}
