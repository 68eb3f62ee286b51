// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "engine.h"
#include "vigil.h"

#define DEDUPE_SETS 4096	/* recent (rule, process, destination, action) hits, */
#define DEDUPE_WAYS 4		/* 4-way: a busy host evicts the oldest, not a neighbour */
#define MAX_SEGMENTS 64

/* A message template: literal runs and field references. */
enum seg_kind { SEG_LIT, SEG_STR, SEG_NUM, SEG_BOOL, SEG_LIST, SEG_ADDR };

struct segment {
	enum seg_kind kind;	/* one switch per segment when rendering */
	int field;		/* which (0 for SEG_LIT: vals[field] is valid) */
	const char *lit;	/* SEG_LIT: points into the rule's message */
	size_t len;
};

static const enum seg_kind seg_kinds[] = {
	[EXPR_STR] = SEG_STR, [EXPR_NUM] = SEG_NUM, [EXPR_BOOL] = SEG_BOOL,
	[EXPR_STRLIST] = SEG_LIST, [EXPR_ADDR] = SEG_ADDR,
};

struct crule {
	const struct rule_def *def;
	struct expr *cond;
	struct expr **exc;
	size_t nexc;
	struct segment *segs;
	size_t nsegs;
	uint64_t msg_used;	/* fields of the message */
	bool enabled;		/* def->enabled, without the pointer chase */
};

struct dedupe_set {
	uint64_t hash[DEDUPE_WAYS];	/* 0 = empty */
	unsigned next;			/* round-robin victim */
};

/* Rules are indexed by what is cheap and always known: the event type and
 * the mode. A rule sits in a bucket unless its condition is false for
 * every activity of that event and mode, and there its condition and
 * exceptions are bound to them (expr__bind): `evt.type = connect` is
 * decided once, not per activity. An activity goes to a bucket only if
 * its event and mode are exactly the bucket's. */
#define NEVENTS ACT_EV__COUNT
#define NMODES ACT_MODE__COUNT

/* A rule as a bucket evaluates it */
struct brule {
	uint32_t rule;		/* index into engine.rules */
	struct expr *cond;
	struct expr **exc;	/* the exceptions that can hold here */
	size_t nexc;
};

struct bucket {
	struct brule *rules;	/* in rule order */
	struct expr **conds;	/* rules[j].cond, for expr__eval_each */
	size_t n;
	uint64_t used;		/* fields its rules and messages look at */
	size_t nmemo;		/* comparisons its rules share (expr__share) */
};

struct engine {
	struct ruleset rs;		/* own copy: hits point into it */
	struct crule *rules;
	size_t nrules;
	struct bucket buckets[NEVENTS][NMODES];
	struct bucket all;	/* every rule, unbound: activity of an unknown kind */
	struct dedupe_set *seen;
	/* the activity's fields, extracted once per engine__eval: most are
	 * read by several rules */
	struct expr_env env;
	struct expr_value *vals;
	unsigned char *memo;	/* a bucket's shared comparisons, per activity */
	uint32_t *held;		/* per activity: bucket rules whose conditions hold */
	uint32_t *match;	/* and which of them matched (no exception held) */
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

static uint64_t field_bit(unsigned f)
{
	return 1ull << (f < 63 ? f : 63);	/* as expr__fields_used */
}

/* field names: lowercase words with digits (k8s), '_' and '.' */
static bool field_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
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
			cr->segs[cr->nsegs++] = (struct segment){ SEG_LIT, 0, lit,
								  (size_t)(p - lit) };
		if (p[1] == '%') {
			cr->segs[cr->nsegs++] = (struct segment){ SEG_LIT, 0, p, 1 };
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
		cr->segs[cr->nsegs++] = (struct segment){
			seg_kinds[activity_fields[f].type], f, NULL, 0 };
		cr->msg_used |= field_bit((unsigned)f);
		p = name + n + braced;
		lit = p;
	}
	if (p > lit)
		cr->segs[cr->nsegs++] = (struct segment){ SEG_LIT, 0, lit, (size_t)(p - lit) };
	return 0;
}

/* A condition and its exceptions, as compiled (crule) or bound (brule). */
static void conds_free(struct expr *cond, struct expr **exc, size_t nexc)
{
	expr__free(cond);
	for (size_t i = 0; i < nexc; i++)
		expr__free(exc[i]);
	free(exc);
}

static void brule_free(struct brule *br)
{
	conds_free(br->cond, br->exc, br->nexc);
}

static void crule_free(struct crule *cr)
{
	conds_free(cr->cond, cr->exc, cr->nexc);
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

static void bucket_free(struct bucket *b)
{
	for (size_t j = 0; j < b->n; j++)
		brule_free(&b->rules[j]);
	free(b->rules);
	free(b->conds);
}

void engine__free(struct engine *e)
{
	if (!e)
		return;
	/* bound conditions borrow the rules' trees: buckets go first */
	bucket_free(&e->all);
	for (int i = 0; i < NEVENTS; i++)
		for (int m = 0; m < NMODES; m++)
			bucket_free(&e->buckets[i][m]);
	for (size_t i = 0; i < e->nrules; i++)
		crule_free(&e->rules[i]);
	free(e->rules);
	free(e->seen);
	free(e->vals);
	free(e->memo);
	free(e->held);
	free(e->match);
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

/* A rule as a bucket sees it: condition and exceptions bound to the
 * bucket's event and mode (probe, on the fields in known); *br left empty
 * if the rule is disabled or cannot fire there. */
static int bind_rule(const struct crule *cr, uint64_t known, const struct activity *probe,
		     struct brule *br)
{
	enum expr_tri v;

	memset(br, 0, sizeof(*br));
	if (!cr->enabled)
		return 0;
	if (known && expr__eval_partial(cr->cond, known, activity__get, probe) == EXPR_FALSE)
		return 0;
	br->cond = expr__bind(cr->cond, known, activity__get, probe, &v);
	br->exc = calloc(cr->nexc + 1, sizeof(*br->exc));
	if (!br->cond || !br->exc)
		return -ENOMEM;
	if (v == EXPR_FALSE)
		goto never;
	for (size_t k = 0; k < cr->nexc; k++) {
		struct expr *x = expr__bind(cr->exc[k], known, activity__get, probe, &v);

		if (!x)
			return -ENOMEM;
		if (v == EXPR_MAYBE) {
			br->exc[br->nexc++] = x;
			continue;
		}
		expr__free(x);
		if (v == EXPR_TRUE)	/* always excepted here */
			goto never;
	}
	return 0;
never:
	brule_free(br);
	memset(br, 0, sizeof(*br));
	return 0;
}

/* Number the comparisons the bucket's rules share (the macros). */
static int share(struct bucket *b)
{
	struct expr **es;
	size_t n = 0;
	int ret;

	for (size_t j = 0; j < b->n; j++)
		n += 1 + b->rules[j].nexc;
	es = calloc(n + 1, sizeof(*es));
	if (!es)
		return -ENOMEM;
	n = 0;
	for (size_t j = 0; j < b->n; j++) {
		es[n++] = b->rules[j].cond;
		for (size_t k = 0; k < b->rules[j].nexc; k++)
			es[n++] = b->rules[j].exc[k];
	}
	ret = expr__share(es, n);
	free(es);
	if (ret < 0)
		return ret;
	b->nmemo = (size_t)ret;
	return 0;
}

static int fill_bucket(struct engine *e, struct bucket *b, uint64_t known,
		       const struct activity *probe)
{
	b->rules = calloc(e->nrules + 1, sizeof(*b->rules));
	b->conds = calloc(e->nrules + 1, sizeof(*b->conds));
	if (!b->rules || !b->conds)
		return -ENOMEM;
	for (size_t r = 0; r < e->nrules; r++) {
		struct brule *br = &b->rules[b->n];
		int err = bind_rule(&e->rules[r], known, probe, br);

		if (err) {
			brule_free(br);
			return err;
		}
		if (!br->cond)
			continue;
		br->rule = (uint32_t)r;
		b->conds[b->n] = br->cond;
		b->used |= expr__fields_used(br->cond) | e->rules[r].msg_used;
		for (size_t k = 0; k < br->nexc; k++)
			b->used |= expr__fields_used(br->exc[k]);
		b->n++;
	}
	return share(b);
}

static int build_index(struct engine *e)
{
	int fe = field_id("evt.type"), fm = field_id("evt.mode");
	uint64_t known = (1ull << fe) | (1ull << fm);
	struct activity probe;
	size_t nmemo;
	int err;

	memset(&probe, 0, sizeof(probe));
	err = fill_bucket(e, &e->all, 0, &probe);
	for (int i = 0; i < NEVENTS && !err; i++) {
		for (int m = 0; m < NMODES && !err; m++) {
			probe.event = i;
			probe.mode = m;
			err = fill_bucket(e, &e->buckets[i][m], known, &probe);
		}
	}
	if (err)
		return err;
	nmemo = e->all.nmemo;
	for (int i = 0; i < NEVENTS; i++)
		for (int m = 0; m < NMODES; m++)
			if (e->buckets[i][m].nmemo > nmemo)
				nmemo = e->buckets[i][m].nmemo;
	e->memo = calloc(nmemo + 1, 1);
	return e->memo ? 0 : -ENOMEM;
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
	e->env.fields = activity_fields;
	e->env.nfields = activity_nfields;
	e->vals = calloc(activity_nfields, sizeof(*e->vals));
	e->held = calloc(rs->nrules + 1, sizeof(*e->held));
	e->match = calloc(rs->nrules + 1, sizeof(*e->match));
	if (!e->rules || !e->seen || !e->vals || !e->held || !e->match) {
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

/* A rule's trigger as text: its condition and exceptions, canonical. */
static char *trigger_text(const struct crule *cr)
{
	size_t len = 256;

	for (;;) {
		char *buf = malloc(len);
		size_t n;

		if (!buf)
			return NULL;
		n = (size_t)expr__canonical(cr->cond, buf, len);
		for (size_t k = 0; k < cr->nexc && n < len; k++) {
			n += strlen(" except ");
			if (n < len)
				strcat(buf, " except ");
			n += (size_t)expr__canonical(cr->exc[k], buf + (n < len ? n : len - 1),
						      n < len ? len - n : 1);
		}
		if (n < len)
			return buf;
		free(buf);
		len = n + 1;
	}
}

/* Can any event of any mode satisfy the rule's event and mode tests? */
static bool some_event_fits(const struct crule *cr)
{
	int fe = field_id("evt.type"), fm = field_id("evt.mode");
	uint64_t known = (1ull << fe) | (1ull << fm);
	struct activity probe;

	memset(&probe, 0, sizeof(probe));
	for (int i = 0; i < NEVENTS; i++)
		for (int m = 0; m < NMODES; m++) {
			probe.event = i;
			probe.mode = m;
			if (expr__eval_partial(cr->cond, known, activity__get, &probe) != EXPR_FALSE)
				return true;
		}
	return false;
}

int engine__validate(const struct ruleset *rs, char *err, size_t errlen)
{
	struct engine *e = build(rs, err, errlen);
	char **canon;
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

		loc_text(&cr->def->cond_loc, at, sizeof(at));
		if (expr__never_matches(cr->cond, why, sizeof(why))) {
			snprintf(err, errlen, "%s: rule '%s' can never match: %s", at, cr->def->id,
				 why);
			ret = -EINVAL;
			break;
		}
		if (!some_event_fits(cr)) {
			snprintf(err, errlen, "%s: rule '%s' can never match: its evt.type/evt.mode "
				 "tests rule out every event (evt.type is connect, egress, progress, "
				 "content, dns-tunnel, budget, unmetered or control; evt.mode monitor or enforce)", at, cr->def->id);
			ret = -EINVAL;
			break;
		}
		canon[i] = trigger_text(cr);
		if (!canon[i]) {
			ret = -ENOMEM;
			break;
		}
		if (!cr->def->enabled)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (!e->rules[j].def->enabled || !canon[j] || strcmp(canon[i], canon[j]))
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
	for (size_t i = 0; i < e->nrules; i++)
		free(canon[i]);
	free(canon);
	engine__free(e);
	return ret;
}

/* ---- evaluate ----------------------------------------------------------- */

/* A message being written: p moves on, end is kept for the NUL. */
struct msg {
	char *p, *end;
};

/* memcpy for the short runs messages are made of: overlapping word moves,
 * not a call or a rep movs per run */
static inline void copy(char *d, const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	for (; n > 16; n -= 16, d += 16, s += 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + 8, &b, 8);
	}
	if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n) {		/* 1 to 3 bytes: first, middle, last */
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

static inline void put(struct msg *m, const char *s, size_t n)
{
	size_t room = (size_t)(m->end - m->p);

	if (n > room)
		n = room;
	copy(m->p, s, n);
	m->p += n;
}

static void put_str(struct msg *m, const char *s)
{
	put(m, s, strlen(s));
}

#define put_lit(m, lit) put(m, lit, sizeof(lit) - 1)

/* "%lld" into buf (room for 20, no NUL); returns the length. Two digits
 * a step, written where they go: pids and ports are in most messages, and
 * a copy out of a scratch buffer stalls on the narrow stores. */
static size_t fmt_i64(char *buf, int64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	/* -(2^63) has no positive counterpart: work in unsigned */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, t = u;
	size_t len = (v < 0) + 1;
	char *p;

	for (; t >= 10; t /= 10)
		len++;
	p = buf + len;
	while (u >= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (u % 100), 2);
		u /= 100;
	}
	if (u >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * u, 2);
	} else {
		*--p = (char)('0' + u);
	}
	if (v < 0)
		buf[0] = '-';
	return len;
}

static void put_num(struct msg *m, int64_t v)
{
	char tmp[20];

	if (m->end - m->p >= 20) {
		m->p += fmt_i64(m->p, v);
		return;
	}
	put(m, tmp, fmt_i64(tmp, v));	/* near the end: cut */
}

/* vals holds the template's fields (they are in the bucket's used set) */
static void render(const struct crule *cr, const struct activity *a,
		   const struct expr_value *vals, char *buf, size_t len)
{
	struct msg m = { buf, buf + len - 1 };

	if (!cr->segs && a->message[0]) {	/* the correlator's own sentence */
		put_str(&m, a->message);
	} else if (!cr->segs) {	/* hand-written activity without one */
		/* "%s (pid %d) holding protected data, %s to %s port %u: %s",
		 * by hand: snprintf was a tenth of engine__eval */
		put_str(&m, a->proc.comm);
		put_lit(&m, " (pid ");
		put_num(&m, (int)a->proc.pid);
		put_lit(&m, ") holding protected data, ");
		put_str(&m, activity__word(ACT_VOCAB_EVENT, a->event));
		put_lit(&m, " to ");
		put_str(&m, a->daddr);
		put_lit(&m, " port ");
		put_num(&m, a->dport);
		put_lit(&m, ": ");
		put_str(&m, cr->def->description ? cr->def->description : cr->def->id);
	}
	for (size_t i = 0; i < cr->nsegs; i++) {
		const struct segment *s = &cr->segs[i];
		const struct expr_value *v = &vals[s->field];

		switch (s->kind) {
		case SEG_LIT:
			put(&m, s->lit, s->len);
			break;
		case SEG_STR:
			put(&m, v->s, v->len);
			break;
		case SEG_NUM:
			put_num(&m, v->n);
			break;
		case SEG_BOOL:
			put(&m, v->n ? "true" : "false", v->n ? 4 : 5);
			break;
		case SEG_LIST:
			for (size_t k = 0; k < v->nlist; k++) {
				if (k)
					put_lit(&m, ", ");
				put_str(&m, v->list[k]);
			}
			break;
		case SEG_ADDR:
			put_str(&m, a->daddr);
			break;
		}
	}
	*m.p = '\0';
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
	if (a->event == ACT_EV_CONTROL) {	/* one per kind and detail */
		uint64_t c = 1469598103934665603ull;

		for (const char *p = a->control_kind; p && *p; p++)
			c = (c ^ (unsigned char)*p) * 1099511628211ull;
		for (const char *p = a->control_detail; *p; p++)
			c = (c ^ (unsigned char)*p) * 1099511628211ull;
		h = mix(h, c);
	}
	return h;
}

static uint64_t dedupe_hash(size_t rule, uint64_t akey, enum act_outcome action)
{
	return mix(akey, (uint64_t)rule << 2 | (unsigned)(action - ACT_ALERT)) | 1;
}

/* true if this (rule, process, destination, action) was already reported */
static bool seen_before(struct engine *e, size_t rule, uint64_t akey, enum act_outcome action)
{
	uint64_t h = dedupe_hash(rule, akey, action);
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
static const struct bucket *rules_for(const struct engine *e, const struct activity *a)
{
	if ((unsigned)a->event >= NEVENTS || (unsigned)a->mode >= NMODES)
		return &e->all;
	return &e->buckets[a->event][a->mode];
}

int engine__eval(struct engine *e, const struct activity *a, const struct engine_effects *fx,
		 engine_emit_fn emit, void *ctx)
{
	bool enforce = a->mode == ACT_ENFORCE;
	uint64_t akey = 0;
	int hits = 0;
	const struct bucket *b = rules_for(e, a);
	size_t nmatch = 0, nheld;

	expr__values(&e->env, activity__get, a, b->used, e->vals);
	memset(e->memo, 0, b->nmemo);
	/* Which rules match first, then their hits in rule order: the
	 * dedupe entry of a match (likely a cache miss) loads while the
	 * other rules evaluate. Conditions read only e->vals, so what the
	 * effects and emit do in between would not change them. */
	nheld = expr__eval_each(b->conds, b->n, e->vals, e->memo, e->held);
	for (size_t j = 0; j < nheld; j++) {
		const struct brule *br = &b->rules[e->held[j]];
		bool excepted = false;

		for (size_t k = 0; k < br->nexc && !excepted; k++)
			excepted = expr__eval_shared(br->exc[k], e->vals, e->memo);
		if (excepted)
			continue;
		if (!akey)
			akey = activity_key(a) | 1;
		/* the entry for the activity's own action: right unless an
		 * enforce-mode block or kill changes it */
		__builtin_prefetch(&e->seen[dedupe_hash(br->rule, akey, a->action) % DEDUPE_SETS]);
		e->match[nmatch++] = br->rule;
	}
	for (size_t j = 0; j < nmatch; j++) {
		size_t i = e->match[j];
		const struct crule *cr = &e->rules[i];
		struct rule_hit h;

		h.message[0] = '\0';
		h.rule = cr->def;
		h.severity = cr->def->severity;
		h.action = a->action;
		h.killed_by = a->killed_by;
		h.enforce_action = a->enforce_action;
		if (cr->def->action != RULE_ALERT && a->action != ACT_KILLED) {
			bool kill = cr->def->action == RULE_KILL;

			if (!enforce) {
				h.enforce_action = kill ? ACT_KILLED : ACT_BLOCKED;
			} else if (kill && a->event == ACT_EV_BUDGET && a->action == ACT_BLOCKED) {
				/* the kernel kills budget overruns in the sender's own
				 * context (the agent after 100 ms if it cannot): the
				 * "killed" activity follows */
			} else if (kill) {
				if (!fx || !fx->kill || fx->kill(fx->ctx, a) == 0) {
					h.action = ACT_KILLED;
					h.killed_by = ACT_BY_AGENT;
				} else {
					e->st.action_failures++;
				}
			} else if (a->action != ACT_BLOCKED) {
				if (!fx || !fx->block || fx->block(fx->ctx, a) == 0)
					h.action = ACT_BLOCKED;
				else
					e->st.action_failures++;
			}
		}
		if (seen_before(e, i, akey, h.action)) {
			e->st.suppressed++;
			continue;
		}
		render(cr, a, e->vals, h.message, sizeof(h.message));
		e->st.hits++;
		hits++;
		if (emit)
			emit(ctx, a, &h);
	}
	return hits;
}

int engine__judge(struct engine *e, struct activity *a, const struct engine_effects *fx,
		  engine_seen_fn seen, engine_emit_fn emit, void *ctx)
{
	activity__finish(a);
	if (a->af == VIGIL_FAMILY_NETFS)	/* a write into a network filesystem */
		a->allowed = rules__mount_allowed(&e->rs, a->fs_mount, a->fs_source, a->proc.exe);
	else
		a->allowed = rules__dest_allowed(&e->rs, a->af, a->daddr_raw, a->dport, a->proc.exe);
	if (seen)
		seen(ctx, a);
	return engine__eval(e, a, fx, emit, ctx);
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
