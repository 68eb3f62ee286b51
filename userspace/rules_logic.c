// SPDX-License-Identifier: GPL-2.0
/* The detection-logic sections of rule files: list:, macro: and rule:
 * (with exceptions), their fields, and merging by name (override: and
 * append:) across files. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "glob.h"
#include "rules_parse.h"
#include "vigil.h"

static int set_mode(struct parse *p, yaml_node_t *v, struct merge_parse *mp,
		    enum merge_mode m)
{
	bool on;
	int err = yaml__bool(p, v, &on);

	if (err)
		return err;
	if (on && mp->mode != M_NEW && mp->mode != m)
		return yaml__fail(p, v, "use either override: true or append: true, not both");
	if (on)
		mp->mode = m;
	return 0;
}

/* override: and append: of a list, macro or rule: o is its *_parse, whose
 * first member is the struct merge_parse. */
static int f_override(struct parse *p, yaml_node_t *v, void *o)
{
	return set_mode(p, v, o, M_OVERRIDE);
}

static int f_append(struct parse *p, yaml_node_t *v, void *o)
{
	return set_mode(p, v, o, M_APPEND);
}

static int dup_condition(struct parse *p, yaml_node_t *v, char **out)
{
	if (yaml__scalar(v) && v->data.scalar.length > RULES_MAX_CONDITION)
		return yaml__fail(p, v, "condition longer than %u bytes", RULES_MAX_CONDITION);
	return yaml__dup(p, v, "condition", out);
}

/* list */
struct list_parse {
	struct merge_parse m;	/* first: f_override and f_append find it there */
	struct rule_list l;
};

static int f_list_name(struct parse *p, yaml_node_t *v, void *o)
{
	return yaml__dup(p, v, "list name", &((struct list_parse *)o)->l.name);
}

static int f_list_items(struct parse *p, yaml_node_t *v, void *o)
{
	struct list_parse *lp = o;

	return yaml__str_list(p, v, "item", false, &lp->l.items, &lp->l.nitems);
}

static const struct field list_fields[] = {
	{ "name", f_list_name, true },
	{ "items", f_list_items, true },
	{ "override", f_override, false },
	{ "append", f_append, false },
	{ 0 },
};

void list__free(struct rule_list *l)
{
	free(l->name);
	yaml__strv_free(l->items, l->nitems);
}

static int find_list(const struct ruleset *rs, const char *name)
{
	return yaml__find(rs->lists, rs->nlists, sizeof(*rs->lists), name);
}

const struct rule_list *rules__list(const struct ruleset *rs, const char *name)
{
	int i = find_list(rs, name);

	return i < 0 ? NULL : &rs->lists[i];
}

int list__merge(struct ruleset *rs, struct rule_list *l, enum merge_mode mode)
{
	int i = find_list(rs, l->name);

	if (i >= 0 && mode == M_APPEND) {
		for (size_t k = 0; k < l->nitems; k++)
			if (yaml__strv_push(&rs->lists[i].items, &rs->lists[i].nitems, l->items[k]))
				return -ENOMEM;
		list__free(l);
		return 0;
	}
	if (i >= 0) {	/* override */
		list__free(&rs->lists[i]);
		rs->lists[i] = *l;
		return 0;
	}
	return yaml__push(&rs->lists, &rs->nlists, l, sizeof(*l));
}

static const char *loc_str(const struct rule_loc *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d:%d", l->file ? l->file : "?", l->line, l->column);
	return buf;
}

int list__parse(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct list_parse lp = { 0 };
	char where[PATH_MAX + 32];
	int err, idx = -1;

	yaml__loc(p, n, &lp.l.loc);
	err = yaml__fields(p, n, "list", list_fields, &lp);
	if (!err) {
		idx = find_list(rs, lp.l.name);
		if (idx >= 0 && lp.m.mode == M_NEW)
			err = yaml__fail(p, n, "list '%s' is already defined at %s: say override: true "
					 "to replace it or append: true to add to it", lp.l.name,
					 loc_str(&rs->lists[idx].loc, where, sizeof(where)));
		else if (idx < 0 && lp.m.mode != M_NEW)
			err = yaml__fail(p, n, "list '%s' has %s: true but no earlier definition",
					 lp.l.name, lp.m.mode == M_APPEND ? "append" : "override");
	}
	if (!err && lp.l.nitems + (idx >= 0 && lp.m.mode == M_APPEND ?
				   rs->lists[idx].nitems : 0) > RULES_MAX_LIST_ITEMS)
		err = yaml__fail(p, n, "list '%s': more than %d items", lp.l.name, RULES_MAX_LIST_ITEMS);
	if (!err)
		err = list__merge(rs, &lp.l, lp.m.mode);
	if (err)
		list__free(&lp.l);
	return err;
}

/* A macro and an exception are both a name and a condition: their *_parse
 * start with this, and one pair of handlers fills either. */
struct named_parse {
	struct merge_parse mp;	/* first, as in every *_parse */
	const char *what;	/* "macro", "exception" */
	char **name, **condition;
	struct rule_loc *cond_loc;
};

static int f_named_name(struct parse *p, yaml_node_t *v, void *o)
{
	struct named_parse *np = o;
	char what[32];

	snprintf(what, sizeof(what), "%s name", np->what);
	return yaml__dup(p, v, what, np->name);
}

static int f_named_cond(struct parse *p, yaml_node_t *v, void *o)
{
	struct named_parse *np = o;

	yaml__cond_loc(p, v, np->cond_loc);
	return dup_condition(p, v, np->condition);
}

/* macro */
struct macro_parse {
	struct named_parse np;	/* first: f_override, f_named_* */
	struct rule_macro m;
};

static const struct field macro_fields[] = {
	{ "name", f_named_name, true },
	{ "condition", f_named_cond, true },
	{ "override", f_override, false },
	{ "append", f_append, false },
	{ 0 },
};

void macro__free(struct rule_macro *m)
{
	free(m->name);
	free(m->condition);
	yaml__loc_free(&m->cond_loc);
}

static int find_macro(const struct ruleset *rs, const char *name)
{
	return yaml__find(rs->macros, rs->nmacros, sizeof(*rs->macros), name);
}

const struct rule_macro *rules__macro(const struct ruleset *rs, const char *name)
{
	int i = find_macro(rs, name);

	return i < 0 ? NULL : &rs->macros[i];
}

/* "(old) appended": the appended text usually starts with and/or. The
 * location becomes the appended part's (errors are most likely there). */
static int append_condition(char **cond, struct rule_loc *loc, const char *more,
			    struct rule_loc *more_loc)
{
	size_t a = strlen(*cond), b = strlen(more);
	char *c;

	if (a + b + 4 > RULES_MAX_CONDITION)
		return -E2BIG;
	c = malloc(a + b + 4);
	if (!c)
		return -ENOMEM;
	c[0] = '(';
	memcpy(c + 1, *cond, a);
	memcpy(c + 1 + a, ") ", 2);
	memcpy(c + 3 + a, more, b + 1);
	yaml__loc_free(loc);
	*loc = *more_loc;
	more_loc->src = NULL;
	loc->prefix = (int)strlen(*cond) + 3;
	free(*cond);
	*cond = c;
	return 0;
}

int macro__parse(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct macro_parse mp = { .np = { .what = "macro" } };
	char where[PATH_MAX + 32];
	int err, idx;

	mp.np.name = &mp.m.name;
	mp.np.condition = &mp.m.condition;
	mp.np.cond_loc = &mp.m.cond_loc;
	yaml__loc(p, n, &mp.m.loc);
	err = yaml__fields(p, n, "macro", macro_fields, &mp);
	if (err)
		goto out;
	idx = find_macro(rs, mp.m.name);
	if (idx >= 0 && mp.np.mp.mode == M_NEW) {
		err = yaml__fail(p, n, "macro '%s' is already defined at %s: say override: true "
				 "to replace it or append: true to extend its condition", mp.m.name,
				 loc_str(&rs->macros[idx].loc, where, sizeof(where)));
	} else if (idx < 0 && mp.np.mp.mode != M_NEW) {
		err = yaml__fail(p, n, "macro '%s' has %s: true but no earlier definition",
				 mp.m.name, mp.np.mp.mode == M_APPEND ? "append" : "override");
	} else if (idx >= 0 && mp.np.mp.mode == M_APPEND) {
		err = append_condition(&rs->macros[idx].condition, &rs->macros[idx].cond_loc,
				       mp.m.condition, &mp.m.cond_loc);
		if (err == -E2BIG)
			err = yaml__fail(p, n, "macro '%s': appended condition longer than %u bytes",
					 mp.m.name, RULES_MAX_CONDITION);
	} else if (idx >= 0) {
		macro__free(&rs->macros[idx]);
		rs->macros[idx] = mp.m;
		return 0;
	} else {
		err = yaml__push(&rs->macros, &rs->nmacros, &mp.m, sizeof(mp.m));
		if (err)
			goto out;
		return 0;
	}
out:
	macro__free(&mp.m);
	return err;
}

/* rule */
struct rule_parse {
	struct merge_parse mp;	/* first, as in every *_parse */
	struct rule_def r;
	/* which keys were given: an override replaces only those */
	bool has_desc, has_cond, has_sev, has_action, has_msg, has_tags, has_enabled, has_exc;
};

static int f_rule_id(struct parse *p, yaml_node_t *v, void *o)
{
	const char *t = yaml__scalar(v);

	if (t) {
		for (const char *c = t; *c; c++)
			if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.'))
				return yaml__fail(p, v, "rule id '%s': use letters, digits, '-', '_' "
						  "and '.' only", t);
	}
	return yaml__dup(p, v, "rule id", &((struct rule_parse *)o)->r.id);
}

static int f_rule_desc(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_desc = true;
	return yaml__dup(p, v, "description", &rp->r.description);
}

static int f_rule_cond(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_cond = true;
	yaml__cond_loc(p, v, &rp->r.cond_loc);
	return dup_condition(p, v, &rp->r.condition);
}

static int f_rule_sev(struct parse *p, yaml_node_t *v, void *o)
{
	static const char *const sevs[] = { "low", "medium", "high", "critical" };
	struct rule_parse *rp = o;
	const char *t = yaml__scalar(v);

	for (size_t i = 0; t && i < 4; i++)
		if (!strcmp(t, sevs[i])) {
			rp->has_sev = true;
			return yaml__dup(p, v, "severity", &rp->r.severity);
		}
	return yaml__fail(p, v, "expected a severity (low, medium, high or critical), found %s%s%s",
			  t ? "'" : "", t ? t : yaml__kind(v), t ? "'" : "");
}

bool rules__dest_allowed(const struct ruleset *rs, int family, const void *addr,
			 unsigned short port, const char *exe)
{
	for (size_t i = 0; i < rs->nallows; i++) {
		const struct allow_entry *e = &rs->allows[i];
		bool exe_ok = !e->nexes;

		for (size_t k = 0; k < e->nexes && !exe_ok; k++)
			exe_ok = exe && rules__glob_match(e->exes[k], exe);
		if (!exe_ok)
			continue;
		for (size_t k = 0; k < e->naddrs; k++)
			if (addr__rule_matches(&e->addrs[k], family, addr, port))
				return true;
	}
	return false;
}

long rules__allow_exe_bit(const struct ruleset *rs, size_t entry)
{
	unsigned bit = 0;

	if (!rs->allows[entry].nexes)
		return 0;
	for (size_t i = 0; i < entry; i++)
		bit += rs->allows[i].nexes ? 1 : 0;
	return bit < VIGIL_MAX_EXE_ALLOWS ? (1L << bit) : -1;
}

bool rules__mount_matches(const struct allow_entry *e, const char *point, const char *source)
{
	bool point_ok = false, source_ok = !e->nsources;

	for (size_t k = 0; k < e->nmounts && !point_ok; k++)
		point_ok = rules__glob_match(e->mounts[k], point);
	for (size_t k = 0; k < e->nsources && !source_ok; k++)
		source_ok = source && glob__match(e->sources[k], source);	/* as written: server:/export */
	return point_ok && source_ok;
}

bool rules__mount_allowed(const struct ruleset *rs, const char *point, const char *source,
			  const char *exe)
{
	for (size_t i = 0; i < rs->nallows; i++) {
		const struct allow_entry *e = &rs->allows[i];
		bool exe_ok = !e->nexes;

		for (size_t k = 0; k < e->nexes && !exe_ok; k++)
			exe_ok = exe && rules__glob_match(e->exes[k], exe);
		if (exe_ok && point && rules__mount_matches(e, point, source))
			return true;
	}
	return false;
}

static int f_rule_action(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;
	const char *t = yaml__scalar(v);

	rp->has_action = true;
	if (t && !strcmp(t, "alert"))
		rp->r.action = RULE_ALERT;
	else if (t && !strcmp(t, "block"))
		rp->r.action = RULE_BLOCK;
	else if (t && !strcmp(t, "kill"))
		rp->r.action = RULE_KILL;
	else
		return yaml__fail(p, v, "expected an action (alert, block or kill), found %s%s%s",
				  t ? "'" : "", t ? t : yaml__kind(v), t ? "'" : "");
	return 0;
}

static int f_rule_msg(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_msg = true;
	yaml__cond_loc(p, v, &rp->r.msg_loc);
	return yaml__dup(p, v, "message", &rp->r.message);
}

static int f_rule_tags(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_tags = true;
	return yaml__str_list(p, v, "tag", false, &rp->r.tags, &rp->r.ntags);
}

static int f_rule_enabled(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_enabled = true;
	return yaml__bool(p, v, &rp->r.enabled);
}

void exception__free(struct rule_exception *e)
{
	free(e->name);
	free(e->condition);
	yaml__loc_free(&e->cond_loc);
}

struct exc_parse {
	struct named_parse np;	/* first: f_named_* */
	struct rule_exception e;
};

static const struct field exc_fields[] = {
	{ "name", f_named_name, true },
	{ "condition", f_named_cond, true },
	{ 0 },
};

int exception__push(struct rule_def *r, struct rule_exception *e)
{
	return yaml__push(&r->exceptions, &r->nexceptions, e, sizeof(*e));
}

static int f_rule_exc(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;
	yaml_node_item_t *it;

	rp->has_exc = true;
	if (v->type != YAML_SEQUENCE_NODE)
		return yaml__fail(p, v, "expected a list of exceptions ({name, condition}), found %s",
				  yaml__kind(v));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(p->doc, *it);
		struct exc_parse ep = { .np = { .what = "exception" } };
		int err;

		ep.np.name = &ep.e.name;
		ep.np.condition = &ep.e.condition;
		ep.np.cond_loc = &ep.e.cond_loc;
		yaml__loc(p, e, &ep.e.loc);
		err = yaml__fields(p, e, "exception", exc_fields, &ep);
		if (!err)
			err = exception__push(&rp->r, &ep.e);
		if (err) {
			exception__free(&ep.e);
			return err;
		}
	}
	return 0;
}

static const struct field rule_fields[] = {
	{ "id", f_rule_id, true },
	{ "description", f_rule_desc, false },
	{ "condition", f_rule_cond, false },
	{ "severity", f_rule_sev, false },
	{ "action", f_rule_action, false },
	{ "message", f_rule_msg, false },
	{ "tags", f_rule_tags, false },
	{ "enabled", f_rule_enabled, false },
	{ "exceptions", f_rule_exc, false },
	{ "override", f_override, false },
	{ "append", f_append, false },
	{ 0 },
};

void rule__free(struct rule_def *r)
{
	free(r->id);
	free(r->description);
	free(r->condition);
	free(r->severity);
	free(r->message);
	yaml__strv_free(r->tags, r->ntags);
	for (size_t i = 0; i < r->nexceptions; i++)
		exception__free(&r->exceptions[i]);
	free(r->exceptions);
	yaml__loc_free(&r->cond_loc);
	yaml__loc_free(&r->msg_loc);
}

int rules__rule_index(const struct ruleset *rs, const char *id)
{
	return yaml__find(rs->rules, rs->nrules, sizeof(*rs->rules), id);
}

#define TAKE(field) do { free(d->field); d->field = n->field; n->field = NULL; } while (0)

/* override: the keys given replace; append: condition text, tags and
 * exceptions are added. */
static int merge_rule(struct rule_def *d, struct rule_parse *rp)
{
	struct rule_def *n = &rp->r;

	if (rp->mp.mode == M_APPEND) {
		if (rp->has_cond) {
			int err = append_condition(&d->condition, &d->cond_loc, n->condition,
						   &n->cond_loc);

			if (err)
				return err;
		}
	} else {
		if (rp->has_desc)
			TAKE(description);
		if (rp->has_cond) {
			TAKE(condition);
			yaml__loc_free(&d->cond_loc);
			d->cond_loc = n->cond_loc;
			n->cond_loc.src = NULL;
		}
		if (rp->has_sev)
			TAKE(severity);
		if (rp->has_msg) {
			TAKE(message);
			yaml__loc_free(&d->msg_loc);
			d->msg_loc = n->msg_loc;
			n->msg_loc.src = NULL;
		}
		if (rp->has_action)
			d->action = n->action;
		if (rp->has_enabled)
			d->enabled = n->enabled;
		if (rp->has_tags) {
			yaml__strv_free(d->tags, d->ntags);
			d->tags = NULL;
			d->ntags = 0;
		}
		if (rp->has_exc) {
			for (size_t i = 0; i < d->nexceptions; i++)
				exception__free(&d->exceptions[i]);
			free(d->exceptions);
			d->exceptions = NULL;
			d->nexceptions = 0;
		}
	}
	for (size_t i = 0; i < n->ntags; i++)
		if (yaml__strv_push(&d->tags, &d->ntags, n->tags[i]))
			return -ENOMEM;
	for (size_t i = 0; i < n->nexceptions; i++) {
		if (exception__push(d, &n->exceptions[i]))
			return -ENOMEM;
		memset(&n->exceptions[i], 0, sizeof(n->exceptions[i]));
	}
	rule__free(n);
	return 0;
}
#undef TAKE

/* What a rule would hold after this definition (d: the earlier one). */
static int merge_limits(struct parse *p, yaml_node_t *n, const struct rule_def *d,
			const struct rule_parse *rp)
{
	bool keep = d && rp->mp.mode == M_APPEND;
	size_t tags = rp->r.ntags + (d && (keep || !rp->has_tags) ? d->ntags : 0);
	size_t excs = rp->r.nexceptions + (d && (keep || !rp->has_exc) ? d->nexceptions : 0);
	size_t cond = keep && rp->has_cond ? strlen(d->condition) + strlen(rp->r.condition) + 4 : 0;

	if (tags > RULES_MAX_TAGS)
		return yaml__fail(p, n, "rule '%s': more than %d tags", rp->r.id, RULES_MAX_TAGS);
	if (excs > RULES_MAX_EXCEPTIONS)
		return yaml__fail(p, n, "rule '%s': more than %d exceptions", rp->r.id,
				  RULES_MAX_EXCEPTIONS);
	if (cond > RULES_MAX_CONDITION)
		return yaml__fail(p, n, "rule '%s': appended condition longer than %u bytes",
				  rp->r.id, RULES_MAX_CONDITION);
	return 0;
}

int rule__parse(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct rule_parse rp = { .r = { .enabled = true, .action = RULE_ALERT } };
	char where[PATH_MAX + 32];
	int err, idx;

	yaml__loc(p, n, &rp.r.loc);
	err = yaml__fields(p, n, "rule", rule_fields, &rp);
	if (err)
		goto out;
	idx = rules__rule_index(rs, rp.r.id);
	if (idx >= 0 && rp.mp.mode == M_NEW) {
		err = yaml__fail(p, n, "rule '%s' is already defined at %s: say override: true to "
				 "change it or append: true to extend it", rp.r.id,
				 loc_str(&rs->rules[idx].loc, where, sizeof(where)));
		goto out;
	}
	if (idx < 0 && rp.mp.mode != M_NEW) {
		err = yaml__fail(p, n, "rule '%s' has %s: true but no earlier definition", rp.r.id,
				 rp.mp.mode == M_APPEND ? "append" : "override");
		goto out;
	}
	if (idx >= 0) {
		if (rp.mp.mode == M_APPEND && (rp.has_desc || rp.has_sev || rp.has_action ||
					       rp.has_msg || rp.has_enabled)) {
			err = yaml__fail(p, n, "rule '%s': append: true adds condition, tags and "
					 "exceptions only; use override: true to change other fields",
					 rp.r.id);
			goto out;
		}
		err = merge_limits(p, n, &rs->rules[idx], &rp);
		if (err)
			goto out;
		return merge_rule(&rs->rules[idx], &rp);
	}
	if (!rp.r.condition) {
		err = yaml__fail(p, n, "rule '%s' is missing required field 'condition'", rp.r.id);
		goto out;
	}
	if (!rp.r.severity && !(rp.r.severity = strdup("medium"))) {
		err = -ENOMEM;
		goto out;
	}
	if (rs->nrules >= RULES_MAX_RULES) {
		err = yaml__fail(p, n, "more than %d rules", RULES_MAX_RULES);
		goto out;
	}
	err = merge_limits(p, n, NULL, &rp);
	if (err)
		goto out;
	err = yaml__push(&rs->rules, &rs->nrules, &rp.r, sizeof(rp.r));
	if (err)
		goto out;
	return 0;
out:
	rule__free(&rp.r);
	return err;
}
