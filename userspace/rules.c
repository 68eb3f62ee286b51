// SPDX-License-Identifier: GPL-2.0
/* Rule file loader. The YAML document is loaded whole (libyaml's document
 * API keeps line/column marks on every node), validated into a scratch
 * ruleset, and merged only if the whole file is valid. */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "engine.h"
#include "glob.h"
#include "rules.h"
#include "safefile.h"
#include "default_rules.h"

#define CLI_SET "cli"

struct parse {
	yaml_document_t *doc;
	const char *text;	/* the raw file, for rule_loc.src */
	size_t len;
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(struct parse *p, yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		snprintf(p->err, p->errlen, "%s:%zu:%zu: %s", p->file,
			 n->start_mark.line + 1, n->start_mark.column + 1, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->file, msg);
	return -EINVAL;
}

static const char *node_kind(yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void loc_of(struct parse *p, yaml_node_t *n, struct rule_loc *loc)
{
	loc->file = p->file;
	loc->line = n->start_mark.line + 1;
	loc->column = n->start_mark.column + 1;
}

static int push_str(char ***arr, size_t *n, const char *s)
{
	char **na = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (!na)
		return -ENOMEM;
	*arr = na;
	na[*n] = strdup(s);
	if (!na[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void free_strs(char **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

static void set_free(struct protect_set *s)
{
	free(s->name);
	free(s->description);
	free_strs(s->paths, s->npaths);
	free_strs(s->excludes, s->nexcludes);
}

static void allow_free(struct allow_entry *a)
{
	free(a->name);
	free(a->addrs);
	free_strs(a->exes, a->nexes);
}

static void list_free(struct rule_list *l);
static void macro_free(struct rule_macro *m);
static void rule_free(struct rule_def *r);

void rules__init(struct ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
}

void rules__free(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->nsets; i++)
		set_free(&rs->sets[i]);
	free(rs->sets);
	for (size_t i = 0; i < rs->nallows; i++)
		allow_free(&rs->allows[i]);
	free(rs->allows);
	for (size_t i = 0; i < rs->nlists; i++)
		list_free(&rs->lists[i]);
	free(rs->lists);
	for (size_t i = 0; i < rs->nmacros; i++)
		macro_free(&rs->macros[i]);
	free(rs->macros);
	for (size_t i = 0; i < rs->nrules; i++)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	free_strs(rs->files, rs->nfiles);
	memset(rs, 0, sizeof(*rs));
}

int rules__set_index(const struct ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->nsets; i++)
		if (!strcmp(rs->sets[i].name, name))
			return (int)i;
	return -1;
}

/* Paths are absolute globs; a relative pattern (only sensible in exclude:)
 * matches at any depth, as if it started with slash-star-star-slash. */
int rules__validate_glob(const char *pat, char *err, size_t errlen)
{
	char buf[4096];

	if (pat[0] == '/' || !pat[0])
		return glob__validate(pat, err, errlen);
	snprintf(buf, sizeof(buf), "/**/%s", pat);
	return glob__validate(buf, err, errlen);
}

bool rules__glob_match(const char *pat, const char *path)
{
	char buf[4096];

	if (pat[0] == '/')
		return glob__match(pat, path);
	snprintf(buf, sizeof(buf), "/**/%s", pat);
	return glob__match(buf, path);
}

/* A list of strings, or a single string. */
/* Protect paths must be absolute; excludes may be relative (matched at any depth). */
static int check_glob(const char *what, const char *pat, char *err, size_t errlen)
{
	if ((!strcmp(what, "path") || !strcmp(what, "exe")) && pat[0] != '/') {
		snprintf(err, errlen, "must be an absolute path");
		return -EINVAL;
	}
	return rules__validate_glob(pat, err, errlen);
}

static int str_list(struct parse *p, yaml_node_t *n, const char *what, bool is_glob,
		    char ***out, size_t *nout)
{
	yaml_node_item_t *it;
	char gerr[256];

	if (n->type == YAML_SCALAR_NODE) {
		if (is_glob && check_glob(what, scalar(n), gerr, sizeof(gerr)))
			return fail(p, n, "invalid %s glob '%s': %s", what, scalar(n), gerr);
		return push_str(out, nout, scalar(n));
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(p, n, "expected a list of %s, found %s", what, node_kind(n));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(p->doc, *it);

		if (!e || e->type != YAML_SCALAR_NODE)
			return fail(p, e ? e : n, "expected a %s string, found %s", what,
				    e ? node_kind(e) : "nothing");
		if (is_glob && check_glob(what, scalar(e), gerr, sizeof(gerr)))
			return fail(p, e, "invalid %s glob '%s': %s", what, scalar(e), gerr);
		if (push_str(out, nout, scalar(e)))
			return -ENOMEM;
	}
	return 0;
}

static int parse_size(struct parse *p, yaml_node_t *n, unsigned long long *out)
{
	char serr[128];

	if (n->type != YAML_SCALAR_NODE)
		return fail(p, n, "expected a byte size like 1MiB, found %s", node_kind(n));
	if (addr__parse_size(scalar(n), out, serr, sizeof(serr)))
		return fail(p, n, "invalid byte size '%s': %s", scalar(n), serr);
	return 0;
}

typedef int (*field_fn)(struct parse *p, yaml_node_t *val, void *obj);
struct field {
	const char *key;
	field_fn fn;
	bool required;
};

/* Walk a mapping, dispatching each key to the table; unknown keys and
 * missing required ones are errors. */
static int parse_fields(struct parse *p, yaml_node_t *map, const char *what,
			const struct field *fields, void *obj)
{
	bool seen[16] = { 0 };
	yaml_node_pair_t *pr;
	size_t i, nfields = 0;
	int err;

	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "expected a %s (a mapping), found %s", what, node_kind(map));
	while (fields[nfields].key)
		nfields++;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *ks = scalar(k);

		if (!ks)
			return fail(p, k, "expected a field name in %s", what);
		for (i = 0; i < nfields; i++)
			if (!strcmp(ks, fields[i].key))
				break;
		if (i == nfields) {
			char known[256] = "";

			for (size_t j = 0; j < nfields; j++) {
				strncat(known, j ? ", " : "", sizeof(known) - strlen(known) - 1);
				strncat(known, fields[j].key, sizeof(known) - strlen(known) - 1);
			}
			return fail(p, k, "unknown field '%s' in %s (expected one of: %s)",
				    ks, what, known);
		}
		if (seen[i])
			return fail(p, k, "duplicate field '%s' in %s", ks, what);
		seen[i] = true;
		err = fields[i].fn(p, v, obj);
		if (err)
			return err;
	}
	for (i = 0; i < nfields; i++)
		if (fields[i].required && !seen[i])
			return fail(p, map, "%s is missing required field '%s'", what,
				    fields[i].key);
	return 0;
}

/* ---- protect ---------------------------------------------------------- */

static int f_set_name(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;
	const char *n = scalar(v);

	if (!n || !*n)
		return fail(p, v, "expected a non-empty set name");
	if (!strcmp(n, "*"))
		return fail(p, v, "'*' is reserved (it means every set in budget:)");
	free(s->name);
	s->name = strdup(n);
	return s->name ? 0 : -ENOMEM;
}

static int f_set_desc(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;

	if (!scalar(v))
		return fail(p, v, "expected a string, found %s", node_kind(v));
	s->description = strdup(scalar(v));
	return s->description ? 0 : -ENOMEM;
}

static int f_set_paths(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;

	return str_list(p, v, "path", true, &s->paths, &s->npaths);
}

static int f_set_exclude(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;

	return str_list(p, v, "exclude", true, &s->excludes, &s->nexcludes);
}

static int f_set_budget(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;

	s->has_budget = true;
	return parse_size(p, v, &s->budget);
}

static const struct field set_fields[] = {
	{ "name", f_set_name, true },
	{ "description", f_set_desc, false },
	{ "paths", f_set_paths, true },
	{ "exclude", f_set_exclude, false },
	{ "budget", f_set_budget, false },
	{ 0 },
};

/* ---- allow ------------------------------------------------------------ */

struct allow_parse {
	struct allow_entry *a;
	char **cidrs;
	size_t ncidrs;
	struct rule_loc cidr_loc;
	yaml_node_t *cidr_node;
	char **ports;
	size_t nports;
	yaml_node_t *ports_node;
};

static int f_allow_name(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	if (!scalar(v) || !*scalar(v))
		return fail(p, v, "expected a non-empty name");
	ap->a->name = strdup(scalar(v));
	return ap->a->name ? 0 : -ENOMEM;
}

static int f_allow_cidr(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	ap->cidr_node = v;
	return str_list(p, v, "CIDR", false, &ap->cidrs, &ap->ncidrs);
}

static int f_allow_ports(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	ap->ports_node = v;
	return str_list(p, v, "port", false, &ap->ports, &ap->nports);
}

static int f_allow_desc(struct parse *p, yaml_node_t *v, void *o)
{
	if (!scalar(v))
		return fail(p, v, "expected a string, found %s", node_kind(v));
	return 0;
}

static int f_allow_exe(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	return str_list(p, v, "exe", true, &ap->a->exes, &ap->a->nexes);
}

static const struct field allow_fields[] = {
	{ "name", f_allow_name, true },
	{ "description", f_allow_desc, false },
	{ "cidr", f_allow_cidr, true },
	{ "ports", f_allow_ports, false },
	{ "exe", f_allow_exe, false },
	{ 0 },
};

static int allow_add_addr(struct allow_entry *a, const struct addr_rule *r)
{
	struct addr_rule *na;

	if (a->naddrs >= RULES_MAX_ALLOW_ADDRS)
		return -E2BIG;
	na = realloc(a->addrs, (a->naddrs + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	a->addrs = na;
	na[a->naddrs++] = *r;
	return 0;
}

/* Cross CIDRs with port ranges; a CIDR written with its own :port keeps it. */
static int allow_build(struct parse *p, struct allow_parse *ap)
{
	char aerr[256], buf[128];
	struct addr_rule r;
	int err;

	for (size_t i = 0; i < ap->ncidrs; i++) {
		if (addr__parse_rule(ap->cidrs[i], &r, aerr, sizeof(aerr)))
			return fail(p, ap->cidr_node, "invalid CIDR '%s': %s", ap->cidrs[i], aerr);
		if (!ap->nports) {
			if ((err = allow_add_addr(ap->a, &r)))
				goto add_failed;
			continue;
		}
		for (size_t j = 0; j < ap->nports; j++) {
			struct addr_rule pr;

			/* Parse the port through the same grammar as CIDR:PORT. */
			snprintf(buf, sizeof(buf), "0.0.0.0/0:%s", ap->ports[j]);
			if (addr__parse_rule(buf, &pr, aerr, sizeof(aerr)))
				return fail(p, ap->ports_node, "invalid port '%s': %s",
					    ap->ports[j], aerr);
			r.port_lo = pr.port_lo;
			r.port_hi = pr.port_hi;
			if ((err = allow_add_addr(ap->a, &r)))
				goto add_failed;
		}
	}
	return 0;
add_failed:
	if (err == -E2BIG)
		return fail(p, ap->cidr_node, "more than %d CIDR x port range entries in one "
			    "allow entry", RULES_MAX_ALLOW_ADDRS);
	return err;
}

/* ---- budget ----------------------------------------------------------- */

struct budget_parse {
	const char *set;
	yaml_node_t *set_node;
	unsigned long long bytes;
	unsigned long long window_s;
	bool has_window;
};

/* "lifetime", or a duration: 90s, 30m, 12h, 7d (a plain number is seconds). */
static int parse_window(const char *t, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!strcmp(t, "lifetime")) {
		*out = 0;
		return 0;
	}
	errno = 0;
	v = strtoull(t, &end, 10);
	if (errno || end == t || !v)
		return -EINVAL;
	if (!strcmp(end, "s") || !*end)
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (!strcmp(end, "d"))
		mul = 86400;
	else
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static int f_budget_set(struct parse *p, yaml_node_t *v, void *o)
{
	struct budget_parse *bp = o;

	if (!scalar(v))
		return fail(p, v, "expected a set name or \"*\", found %s", node_kind(v));
	bp->set = scalar(v);
	bp->set_node = v;
	return 0;
}

static int f_budget_bytes(struct parse *p, yaml_node_t *v, void *o)
{
	struct budget_parse *bp = o;

	return parse_size(p, v, &bp->bytes);
}

static int f_budget_window(struct parse *p, yaml_node_t *v, void *o)
{
	struct budget_parse *bp = o;

	if (!scalar(v) || parse_window(scalar(v), &bp->window_s))
		return fail(p, v, "expected a window: lifetime or a duration such as 3600s, "
			    "30m, 24h, 7d, found %s%s%s", scalar(v) ? "'" : "",
			    scalar(v) ? scalar(v) : node_kind(v), scalar(v) ? "'" : "");
	bp->has_window = true;
	return 0;
}

static const struct field budget_fields[] = {
	{ "set", f_budget_set, true },
	{ "bytes", f_budget_bytes, true },
	{ "window", f_budget_window, false },
	{ 0 },
};


/* ---- list / macro / rule ---------------------------------------------- */

/* How a definition relates to an earlier one of the same name. */
enum merge_mode { M_NEW, M_OVERRIDE, M_APPEND };

struct merge_parse {
	enum merge_mode mode;
	yaml_node_t *override_node, *append_node;
};

static int parse_bool(struct parse *p, yaml_node_t *v, bool *out)
{
	const char *b = scalar(v);

	if (b && (!strcmp(b, "true") || !strcmp(b, "yes") || !strcmp(b, "on"))) {
		*out = true;
		return 0;
	}
	if (b && (!strcmp(b, "false") || !strcmp(b, "no") || !strcmp(b, "off"))) {
		*out = false;
		return 0;
	}
	return fail(p, v, "expected true or false, found %s%s%s", b ? "'" : "",
		    b ? b : node_kind(v), b ? "'" : "");
}

static int set_mode(struct parse *p, yaml_node_t *v, struct merge_parse *mp,
		    enum merge_mode m)
{
	bool on;
	int err = parse_bool(p, v, &on);

	if (err)
		return err;
	if (on && mp->mode != M_NEW && mp->mode != m)
		return fail(p, v, "use either override: true or append: true, not both");
	if (on)
		mp->mode = m;
	return 0;
}

static int dup_scalar(struct parse *p, yaml_node_t *v, const char *what, char **out)
{
	const char *t = scalar(v);

	if (!t || !*t)
		return fail(p, v, "expected a non-empty %s, found %s", what,
			    t ? "an empty string" : node_kind(v));
	free(*out);
	*out = strdup(t);
	return *out ? 0 : -ENOMEM;
}

static int dup_condition(struct parse *p, yaml_node_t *v, char **out)
{
	if (scalar(v) && v->data.scalar.length > RULES_MAX_CONDITION)
		return fail(p, v, "condition longer than %u bytes", RULES_MAX_CONDITION);
	return dup_scalar(p, v, "condition", out);
}

/* A condition or message: remember the scalar as written, so errors in it
 * can name the exact line and column (see engine.c, where()). */
static void cond_loc_of(struct parse *p, yaml_node_t *n, struct rule_loc *loc)
{
	size_t a = n->start_mark.index, b = n->end_mark.index;

	loc_of(p, n, loc);
	free(loc->src);
	loc->src = NULL;
	loc->prefix = 0;
	if (p->text && a < b && b <= p->len)
		loc->src = strndup(p->text + a, b - a);
}

static void loc_free(struct rule_loc *l)
{
	free(l->src);
	l->src = NULL;
}

/* list */
struct list_parse {
	struct rule_list l;
	struct merge_parse m;
};

static int f_list_name(struct parse *p, yaml_node_t *v, void *o)
{
	return dup_scalar(p, v, "list name", &((struct list_parse *)o)->l.name);
}

static int f_list_items(struct parse *p, yaml_node_t *v, void *o)
{
	struct list_parse *lp = o;

	return str_list(p, v, "item", false, &lp->l.items, &lp->l.nitems);
}

static int f_list_override(struct parse *p, yaml_node_t *v, void *o)
{
	return set_mode(p, v, &((struct list_parse *)o)->m, M_OVERRIDE);
}

static int f_list_append(struct parse *p, yaml_node_t *v, void *o)
{
	return set_mode(p, v, &((struct list_parse *)o)->m, M_APPEND);
}

static const struct field list_fields[] = {
	{ "name", f_list_name, true },
	{ "items", f_list_items, true },
	{ "override", f_list_override, false },
	{ "append", f_list_append, false },
	{ 0 },
};

static void list_free(struct rule_list *l)
{
	free(l->name);
	free_strs(l->items, l->nitems);
}

static int find_list(const struct ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->nlists; i++)
		if (!strcmp(rs->lists[i].name, name))
			return (int)i;
	return -1;
}

const struct rule_list *rules__list(const struct ruleset *rs, const char *name)
{
	int i = find_list(rs, name);

	return i < 0 ? NULL : &rs->lists[i];
}

static int merge_list(struct ruleset *rs, struct rule_list *l, enum merge_mode mode)
{
	int i = find_list(rs, l->name);
	struct rule_list *nl;

	if (i >= 0 && mode == M_APPEND) {
		for (size_t k = 0; k < l->nitems; k++)
			if (push_str(&rs->lists[i].items, &rs->lists[i].nitems, l->items[k]))
				return -ENOMEM;
		list_free(l);
		return 0;
	}
	if (i >= 0) {	/* override */
		list_free(&rs->lists[i]);
		rs->lists[i] = *l;
		return 0;
	}
	nl = realloc(rs->lists, (rs->nlists + 1) * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	rs->lists = nl;
	nl[rs->nlists++] = *l;
	return 0;
}

static const char *loc_str(const struct rule_loc *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d:%d", l->file ? l->file : "?", l->line, l->column);
	return buf;
}

static int one_list(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct list_parse lp = { 0 };
	char where[PATH_MAX + 32];
	int err, idx = -1;

	loc_of(p, n, &lp.l.loc);
	err = parse_fields(p, n, "list", list_fields, &lp);
	if (!err) {
		idx = find_list(rs, lp.l.name);
		if (idx >= 0 && lp.m.mode == M_NEW)
			err = fail(p, n, "list '%s' is already defined at %s: say override: true "
				   "to replace it or append: true to add to it", lp.l.name,
				   loc_str(&rs->lists[idx].loc, where, sizeof(where)));
		else if (idx < 0 && lp.m.mode != M_NEW)
			err = fail(p, n, "list '%s' has %s: true but no earlier definition",
				   lp.l.name, lp.m.mode == M_APPEND ? "append" : "override");
	}
	if (!err && lp.l.nitems + (idx >= 0 && lp.m.mode == M_APPEND ?
				   rs->lists[idx].nitems : 0) > RULES_MAX_LIST_ITEMS)
		err = fail(p, n, "list '%s': more than %d items", lp.l.name, RULES_MAX_LIST_ITEMS);
	if (!err)
		err = merge_list(rs, &lp.l, lp.m.mode);
	if (err)
		list_free(&lp.l);
	return err;
}

/* macro */
struct macro_parse {
	struct rule_macro m;
	struct merge_parse mp;
};

static int f_macro_name(struct parse *p, yaml_node_t *v, void *o)
{
	return dup_scalar(p, v, "macro name", &((struct macro_parse *)o)->m.name);
}

static int f_macro_cond(struct parse *p, yaml_node_t *v, void *o)
{
	struct macro_parse *mp = o;

	cond_loc_of(p, v, &mp->m.cond_loc);
	return dup_condition(p, v, &mp->m.condition);
}

static int f_macro_override(struct parse *p, yaml_node_t *v, void *o)
{
	return set_mode(p, v, &((struct macro_parse *)o)->mp, M_OVERRIDE);
}

static int f_macro_append(struct parse *p, yaml_node_t *v, void *o)
{
	return set_mode(p, v, &((struct macro_parse *)o)->mp, M_APPEND);
}

static const struct field macro_fields[] = {
	{ "name", f_macro_name, true },
	{ "condition", f_macro_cond, true },
	{ "override", f_macro_override, false },
	{ "append", f_macro_append, false },
	{ 0 },
};

static void macro_free(struct rule_macro *m)
{
	free(m->name);
	free(m->condition);
	loc_free(&m->cond_loc);
}

static int find_macro(const struct ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->nmacros; i++)
		if (!strcmp(rs->macros[i].name, name))
			return (int)i;
	return -1;
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
	loc_free(loc);
	*loc = *more_loc;
	more_loc->src = NULL;
	loc->prefix = (int)strlen(*cond) + 3;
	free(*cond);
	*cond = c;
	return 0;
}

static int one_macro(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct macro_parse mp = { 0 };
	char where[PATH_MAX + 32];
	struct rule_macro *nm;
	int err, idx;

	loc_of(p, n, &mp.m.loc);
	err = parse_fields(p, n, "macro", macro_fields, &mp);
	if (err)
		goto out;
	idx = find_macro(rs, mp.m.name);
	if (idx >= 0 && mp.mp.mode == M_NEW) {
		err = fail(p, n, "macro '%s' is already defined at %s: say override: true "
			   "to replace it or append: true to extend its condition", mp.m.name,
			   loc_str(&rs->macros[idx].loc, where, sizeof(where)));
	} else if (idx < 0 && mp.mp.mode != M_NEW) {
		err = fail(p, n, "macro '%s' has %s: true but no earlier definition",
			   mp.m.name, mp.mp.mode == M_APPEND ? "append" : "override");
	} else if (idx >= 0 && mp.mp.mode == M_APPEND) {
		err = append_condition(&rs->macros[idx].condition, &rs->macros[idx].cond_loc,
				       mp.m.condition, &mp.m.cond_loc);
		if (err == -E2BIG)
			err = fail(p, n, "macro '%s': appended condition longer than %u bytes",
				   mp.m.name, RULES_MAX_CONDITION);
	} else if (idx >= 0) {
		macro_free(&rs->macros[idx]);
		rs->macros[idx] = mp.m;
		return 0;
	} else {
		nm = realloc(rs->macros, (rs->nmacros + 1) * sizeof(*nm));
		if (!nm) {
			err = -ENOMEM;
			goto out;
		}
		rs->macros = nm;
		nm[rs->nmacros++] = mp.m;
		return 0;
	}
out:
	macro_free(&mp.m);
	return err;
}

/* rule */
struct rule_parse {
	struct rule_def r;
	struct merge_parse mp;
	/* which keys were given: an override replaces only those */
	bool has_desc, has_cond, has_sev, has_action, has_msg, has_tags, has_enabled, has_exc;
};

static int f_rule_id(struct parse *p, yaml_node_t *v, void *o)
{
	const char *t = scalar(v);

	if (t) {
		for (const char *c = t; *c; c++)
			if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.'))
				return fail(p, v, "rule id '%s': use letters, digits, '-', '_' "
					    "and '.' only", t);
	}
	return dup_scalar(p, v, "rule id", &((struct rule_parse *)o)->r.id);
}

static int f_rule_desc(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_desc = true;
	return dup_scalar(p, v, "description", &rp->r.description);
}

static int f_rule_cond(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_cond = true;
	cond_loc_of(p, v, &rp->r.cond_loc);
	return dup_condition(p, v, &rp->r.condition);
}

static int f_rule_sev(struct parse *p, yaml_node_t *v, void *o)
{
	static const char *const sevs[] = { "low", "medium", "high", "critical" };
	struct rule_parse *rp = o;
	const char *t = scalar(v);

	for (size_t i = 0; t && i < 4; i++)
		if (!strcmp(t, sevs[i])) {
			rp->has_sev = true;
			return dup_scalar(p, v, "severity", &rp->r.severity);
		}
	return fail(p, v, "expected a severity (low, medium, high or critical), found %s%s%s",
		    t ? "'" : "", t ? t : node_kind(v), t ? "'" : "");
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

const char *rules__action_name(enum rule_action a)
{
	return a == RULE_KILL ? "kill" : a == RULE_BLOCK ? "block" : "alert";
}

static int f_rule_action(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;
	const char *t = scalar(v);

	rp->has_action = true;
	if (t && !strcmp(t, "alert"))
		rp->r.action = RULE_ALERT;
	else if (t && !strcmp(t, "block"))
		rp->r.action = RULE_BLOCK;
	else if (t && !strcmp(t, "kill"))
		rp->r.action = RULE_KILL;
	else
		return fail(p, v, "expected an action (alert, block or kill), found %s%s%s",
			    t ? "'" : "", t ? t : node_kind(v), t ? "'" : "");
	return 0;
}

static int f_rule_msg(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_msg = true;
	cond_loc_of(p, v, &rp->r.msg_loc);
	return dup_scalar(p, v, "message", &rp->r.message);
}

static int f_rule_tags(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_tags = true;
	return str_list(p, v, "tag", false, &rp->r.tags, &rp->r.ntags);
}

static int f_rule_enabled(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;

	rp->has_enabled = true;
	return parse_bool(p, v, &rp->r.enabled);
}

static void exception_free(struct rule_exception *e)
{
	free(e->name);
	free(e->condition);
	loc_free(&e->cond_loc);
}

struct exc_parse {
	struct rule_exception e;
};

static int f_exc_name(struct parse *p, yaml_node_t *v, void *o)
{
	return dup_scalar(p, v, "exception name", &((struct exc_parse *)o)->e.name);
}

static int f_exc_cond(struct parse *p, yaml_node_t *v, void *o)
{
	struct exc_parse *ep = o;

	cond_loc_of(p, v, &ep->e.cond_loc);
	return dup_condition(p, v, &ep->e.condition);
}

static const struct field exc_fields[] = {
	{ "name", f_exc_name, true },
	{ "condition", f_exc_cond, true },
	{ 0 },
};

static int push_exception(struct rule_def *r, struct rule_exception *e)
{
	struct rule_exception *ne = realloc(r->exceptions, (r->nexceptions + 1) * sizeof(*ne));

	if (!ne)
		return -ENOMEM;
	r->exceptions = ne;
	ne[r->nexceptions++] = *e;
	return 0;
}

static int f_rule_exc(struct parse *p, yaml_node_t *v, void *o)
{
	struct rule_parse *rp = o;
	yaml_node_item_t *it;

	rp->has_exc = true;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, v, "expected a list of exceptions ({name, condition}), found %s",
			    node_kind(v));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(p->doc, *it);
		struct exc_parse ep = { 0 };
		int err;

		loc_of(p, e, &ep.e.loc);
		err = parse_fields(p, e, "exception", exc_fields, &ep);
		if (!err)
			err = push_exception(&rp->r, &ep.e);
		if (err) {
			exception_free(&ep.e);
			return err;
		}
	}
	return 0;
}

static int f_rule_override(struct parse *p, yaml_node_t *v, void *o)
{
	return set_mode(p, v, &((struct rule_parse *)o)->mp, M_OVERRIDE);
}

static int f_rule_append(struct parse *p, yaml_node_t *v, void *o)
{
	return set_mode(p, v, &((struct rule_parse *)o)->mp, M_APPEND);
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
	{ "override", f_rule_override, false },
	{ "append", f_rule_append, false },
	{ 0 },
};

static void rule_free(struct rule_def *r)
{
	free(r->id);
	free(r->description);
	free(r->condition);
	free(r->severity);
	free(r->message);
	free_strs(r->tags, r->ntags);
	for (size_t i = 0; i < r->nexceptions; i++)
		exception_free(&r->exceptions[i]);
	free(r->exceptions);
	loc_free(&r->cond_loc);
	loc_free(&r->msg_loc);
}

int rules__rule_index(const struct ruleset *rs, const char *id)
{
	for (size_t i = 0; i < rs->nrules; i++)
		if (!strcmp(rs->rules[i].id, id))
			return (int)i;
	return -1;
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
			loc_free(&d->cond_loc);
			d->cond_loc = n->cond_loc;
			n->cond_loc.src = NULL;
		}
		if (rp->has_sev)
			TAKE(severity);
		if (rp->has_msg) {
			TAKE(message);
			loc_free(&d->msg_loc);
			d->msg_loc = n->msg_loc;
			n->msg_loc.src = NULL;
		}
		if (rp->has_action)
			d->action = n->action;
		if (rp->has_enabled)
			d->enabled = n->enabled;
		if (rp->has_tags) {
			free_strs(d->tags, d->ntags);
			d->tags = NULL;
			d->ntags = 0;
		}
		if (rp->has_exc) {
			for (size_t i = 0; i < d->nexceptions; i++)
				exception_free(&d->exceptions[i]);
			free(d->exceptions);
			d->exceptions = NULL;
			d->nexceptions = 0;
		}
	}
	for (size_t i = 0; i < n->ntags; i++)
		if (push_str(&d->tags, &d->ntags, n->tags[i]))
			return -ENOMEM;
	for (size_t i = 0; i < n->nexceptions; i++) {
		if (push_exception(d, &n->exceptions[i]))
			return -ENOMEM;
		memset(&n->exceptions[i], 0, sizeof(n->exceptions[i]));
	}
	rule_free(n);
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
		return fail(p, n, "rule '%s': more than %d tags", rp->r.id, RULES_MAX_TAGS);
	if (excs > RULES_MAX_EXCEPTIONS)
		return fail(p, n, "rule '%s': more than %d exceptions", rp->r.id,
			    RULES_MAX_EXCEPTIONS);
	if (cond > RULES_MAX_CONDITION)
		return fail(p, n, "rule '%s': appended condition longer than %u bytes",
			    rp->r.id, RULES_MAX_CONDITION);
	return 0;
}

static int one_rule(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct rule_parse rp = { .r = { .enabled = true, .action = RULE_ALERT } };
	char where[PATH_MAX + 32];
	struct rule_def *nr;
	int err, idx;

	loc_of(p, n, &rp.r.loc);
	err = parse_fields(p, n, "rule", rule_fields, &rp);
	if (err)
		goto out;
	idx = rules__rule_index(rs, rp.r.id);
	if (idx >= 0 && rp.mp.mode == M_NEW) {
		err = fail(p, n, "rule '%s' is already defined at %s: say override: true to "
			   "change it or append: true to extend it", rp.r.id,
			   loc_str(&rs->rules[idx].loc, where, sizeof(where)));
		goto out;
	}
	if (idx < 0 && rp.mp.mode != M_NEW) {
		err = fail(p, n, "rule '%s' has %s: true but no earlier definition", rp.r.id,
			   rp.mp.mode == M_APPEND ? "append" : "override");
		goto out;
	}
	if (idx >= 0) {
		if (rp.mp.mode == M_APPEND && (rp.has_desc || rp.has_sev || rp.has_action ||
					       rp.has_msg || rp.has_enabled)) {
			err = fail(p, n, "rule '%s': append: true adds condition, tags and "
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
		err = fail(p, n, "rule '%s' is missing required field 'condition'", rp.r.id);
		goto out;
	}
	if (!rp.r.severity && !(rp.r.severity = strdup("medium"))) {
		err = -ENOMEM;
		goto out;
	}
	if (rs->nrules >= RULES_MAX_RULES) {
		err = fail(p, n, "more than %d rules", RULES_MAX_RULES);
		goto out;
	}
	err = merge_limits(p, n, NULL, &rp);
	if (err)
		goto out;
	nr = realloc(rs->rules, (rs->nrules + 1) * sizeof(*nr));
	if (!nr) {
		err = -ENOMEM;
		goto out;
	}
	rs->rules = nr;
	nr[rs->nrules++] = rp.r;
	return 0;
out:
	rule_free(&rp.r);
	return err;
}

/* ---- document --------------------------------------------------------- */

static int merge_set(struct ruleset *rs, struct protect_set *s)
{
	int idx = rules__set_index(rs, s->name);
	struct protect_set *ns;

	if (idx >= 0) {	/* same name: append paths and excludes */
		struct protect_set *d = &rs->sets[idx];

		for (size_t i = 0; i < s->npaths; i++)
			if (push_str(&d->paths, &d->npaths, s->paths[i]))
				return -ENOMEM;
		for (size_t i = 0; i < s->nexcludes; i++)
			if (push_str(&d->excludes, &d->nexcludes, s->excludes[i]))
				return -ENOMEM;
		if (s->has_budget) {
			d->budget = s->budget;
			d->has_budget = true;
		}
		if (s->description) {
			free(d->description);
			d->description = s->description;
			s->description = NULL;
		}
		set_free(s);
		return 0;
	}
	if (rs->nsets >= 32)
		return -E2BIG;
	ns = realloc(rs->sets, (rs->nsets + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	rs->sets = ns;
	ns[rs->nsets++] = *s;
	return 0;
}

static int merge_allow(struct ruleset *rs, struct allow_entry *a)
{
	struct allow_entry *na;

	for (size_t i = 0; i < rs->nallows; i++) {
		if (!strcmp(rs->allows[i].name, a->name)) {	/* override by name */
			allow_free(&rs->allows[i]);
			rs->allows[i] = *a;
			return 0;
		}
	}
	na = realloc(rs->allows, (rs->nallows + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	rs->allows = na;
	na[rs->nallows++] = *a;
	return 0;
}

static int for_each_item(struct parse *p, yaml_node_t *seq, const char *section,
			 int (*fn)(struct parse *, yaml_node_t *, struct ruleset *),
			 struct ruleset *scratch)
{
	yaml_node_item_t *it;
	int err;

	if (seq->type != YAML_SEQUENCE_NODE)
		return fail(p, seq, "'%s' must be a list, found %s", section, node_kind(seq));
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		err = fn(p, yaml_document_get_node(p->doc, *it), scratch);
		if (err)
			return err;
	}
	return 0;
}

static int one_set(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct protect_set s = { 0 };
	int err;

	loc_of(p, n, &s.loc);
	err = parse_fields(p, n, "protect set", set_fields, &s);
	if (!err && rs->nsets >= 32 && rules__set_index(rs, s.name) < 0)
		err = fail(p, n, "too many protect sets (at most 32)");
	if (!err) {
		int idx = rules__set_index(rs, s.name);
		size_t pats = s.npaths + s.nexcludes;

		if (idx >= 0)
			pats += rs->sets[idx].npaths + rs->sets[idx].nexcludes;
		if (pats > RULES_MAX_SET_PATTERNS)
			err = fail(p, n, "protect set '%s': more than %d paths and excludes",
				   s.name, RULES_MAX_SET_PATTERNS);
	}
	if (!err)
		err = merge_set(rs, &s);
	if (err)
		set_free(&s);
	return err;
}

static int one_allow(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct allow_entry a = { 0 };
	struct allow_parse ap = { .a = &a };
	int err;

	loc_of(p, n, &a.loc);
	err = parse_fields(p, n, "allow entry", allow_fields, &ap);
	if (!err)
		err = allow_build(p, &ap);
	free_strs(ap.cidrs, ap.ncidrs);
	free_strs(ap.ports, ap.nports);
	if (!err)
		err = merge_allow(rs, &a);
	if (err)
		allow_free(&a);
	return err;
}

/* Budgets name sets that may be defined in an earlier file: resolved
 * against the scratch copy, which holds everything loaded so far. */
static int one_budget(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct budget_parse bp = { 0 };
	int err, idx;

	err = parse_fields(p, n, "budget entry", budget_fields, &bp);
	if (err)
		return err;
	if (!strcmp(bp.set, "*")) {
		rs->default_budget = bp.bytes;
		rs->has_default_budget = true;
		if (bp.has_window)
			rs->default_window_s = bp.window_s;
		return 0;
	}
	idx = rules__set_index(rs, bp.set);
	if (idx < 0)
		return fail(p, bp.set_node, "budget names undefined protect set '%s'", bp.set);
	rs->sets[idx].budget = bp.bytes;
	rs->sets[idx].has_budget = true;
	if (bp.has_window) {
		rs->sets[idx].window_s = bp.window_s;
		rs->sets[idx].has_window = true;
	}
	return 0;
}

/* loc.file points into a ruleset's own file list: re-point it into dst's. */
static struct rule_loc remap(const struct ruleset *dst, const struct ruleset *src,
			     struct rule_loc l)
{
	l.src = l.src ? strdup(l.src) : NULL;	/* the copy owns its own */
	for (size_t i = 0; i < src->nfiles && i < dst->nfiles; i++)
		if (l.file == src->files[i]) {
			l.file = dst->files[i];
			return l;
		}
	return l;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static int copy_strs(char ***dst, size_t *ndst, char *const *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (push_str(dst, ndst, src[i]))
			return -ENOMEM;
	return 0;
}

static int copy_rule(struct ruleset *dst, const struct ruleset *src, const struct rule_def *o,
		     struct rule_def *r)
{
	bool oom = false;

	memset(r, 0, sizeof(*r));
	r->id = dup_or_null(o->id, &oom);
	r->description = dup_or_null(o->description, &oom);
	r->condition = dup_or_null(o->condition, &oom);
	r->severity = dup_or_null(o->severity, &oom);
	r->message = dup_or_null(o->message, &oom);
	r->action = o->action;
	r->enabled = o->enabled;
	r->loc = remap(dst, src, o->loc);
	r->cond_loc = remap(dst, src, o->cond_loc);
	r->msg_loc = remap(dst, src, o->msg_loc);
	if (oom || copy_strs(&r->tags, &r->ntags, o->tags, o->ntags))
		return -ENOMEM;
	for (size_t i = 0; i < o->nexceptions; i++) {
		struct rule_exception e = {
			.name = dup_or_null(o->exceptions[i].name, &oom),
			.condition = dup_or_null(o->exceptions[i].condition, &oom),
			.loc = remap(dst, src, o->exceptions[i].loc),
			.cond_loc = remap(dst, src, o->exceptions[i].cond_loc),
		};
		if (oom || push_exception(r, &e)) {
			exception_free(&e);
			return -ENOMEM;
		}
	}
	return 0;
}

static int ruleset_copy(struct ruleset *dst, const struct ruleset *src)
{
	bool oom = false;

	rules__init(dst);
	if (copy_strs(&dst->files, &dst->nfiles, src->files, src->nfiles))
		goto oom;
	for (size_t i = 0; i < src->nsets; i++) {
		struct protect_set s = { 0 };
		const struct protect_set *o = &src->sets[i];

		s.name = dup_or_null(o->name, &oom);
		s.description = dup_or_null(o->description, &oom);
		s.budget = o->budget;
		s.has_budget = o->has_budget;
		s.window_s = o->window_s;
		s.has_window = o->has_window;
		s.loc = remap(dst, src, o->loc);
		if (oom || copy_strs(&s.paths, &s.npaths, o->paths, o->npaths) ||
		    copy_strs(&s.excludes, &s.nexcludes, o->excludes, o->nexcludes) ||
		    merge_set(dst, &s)) {
			set_free(&s);
			goto oom;
		}
	}
	for (size_t i = 0; i < src->nallows; i++) {
		const struct allow_entry *o = &src->allows[i];
		struct allow_entry a = { .naddrs = o->naddrs, .loc = remap(dst, src, o->loc) };

		a.name = dup_or_null(o->name, &oom);
		a.addrs = malloc(o->naddrs * sizeof(*a.addrs) + 1);
		if (a.addrs)
			memcpy(a.addrs, o->addrs, o->naddrs * sizeof(*a.addrs));
		if (oom || !a.addrs || copy_strs(&a.exes, &a.nexes, o->exes, o->nexes) ||
		    merge_allow(dst, &a)) {
			allow_free(&a);
			goto oom;
		}
	}
	for (size_t i = 0; i < src->nlists; i++) {
		const struct rule_list *o = &src->lists[i];
		struct rule_list l = { .name = dup_or_null(o->name, &oom),
				       .loc = remap(dst, src, o->loc) };

		if (oom || copy_strs(&l.items, &l.nitems, o->items, o->nitems) ||
		    merge_list(dst, &l, M_NEW)) {
			list_free(&l);
			goto oom;
		}
	}
	if (src->nmacros) {
		dst->macros = calloc(src->nmacros, sizeof(*dst->macros));
		if (!dst->macros)
			goto oom;
		for (size_t i = 0; i < src->nmacros; i++) {
			const struct rule_macro *o = &src->macros[i];
			struct rule_macro *m = &dst->macros[dst->nmacros++];

			m->name = dup_or_null(o->name, &oom);
			m->condition = dup_or_null(o->condition, &oom);
			m->loc = remap(dst, src, o->loc);
			m->cond_loc = remap(dst, src, o->cond_loc);
			if (oom)
				goto oom;
		}
	}
	if (src->nrules) {
		dst->rules = calloc(src->nrules, sizeof(*dst->rules));
		if (!dst->rules)
			goto oom;
		for (size_t i = 0; i < src->nrules; i++) {
			dst->nrules++;
			if (copy_rule(dst, src, &src->rules[i], &dst->rules[i]))
				goto oom;
		}
	}
	dst->default_budget = src->default_budget;
	dst->has_default_budget = src->has_default_budget;
	dst->default_window_s = src->default_window_s;
	return 0;
oom:
	rules__free(dst);
	return -ENOMEM;
}

int rules__copy(struct ruleset *dst, const struct ruleset *src)
{
	return ruleset_copy(dst, src);
}

/* ---- shape: limits checked on the event stream, before loading --------- */

/* libyaml would load any depth (and takes quadratic time on deep flow
 * collections), and shares aliased nodes that our walk then visits once per
 * alias: one pass over the events rejects what would hang or explode before
 * the document is built. Cost of a node: its text (scalar) or one per
 * collection plus its children's cost. */
struct shape {
	const char *name;
	char *err;
	size_t errlen;
	size_t cost[RULES_MAX_DEPTH + 1];	/* open collections */
	int anchor[RULES_MAX_DEPTH + 1];	/* its anchor, or -1 */
	int depth;
	struct { char *name; size_t cost; bool done; } anchors[RULES_MAX_ANCHORS];
	int nanchors, naliases, ndocs;
	size_t alias_bytes;
};

static int shape_fail(struct shape *sh, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int shape_fail(struct shape *sh, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(sh->err, sh->errlen, "%s:%zu:%zu: %s", sh->name, m->line + 1, m->column + 1, msg);
	return -EINVAL;
}

static int shape_anchor(struct shape *sh, const yaml_event_t *ev, const yaml_char_t *anchor,
			size_t cost, bool done)
{
	if (!anchor)
		return -1;
	if (sh->nanchors >= RULES_MAX_ANCHORS)
		return shape_fail(sh, &ev->start_mark, "more than %d anchors (&name)",
				  RULES_MAX_ANCHORS), -2;
	sh->anchors[sh->nanchors].name = strdup((const char *)anchor);
	if (!sh->anchors[sh->nanchors].name)
		return -2;
	sh->anchors[sh->nanchors].cost = cost;
	sh->anchors[sh->nanchors].done = done;
	return sh->nanchors++;
}

static int shape_event(struct shape *sh, const yaml_event_t *ev)
{
	size_t cost = 0;
	int a;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++sh->ndocs > 1)
			return shape_fail(sh, &ev->start_mark, "a second YAML document ('---'): "
					  "a rule file is one document, merge it into the first");
		return 0;
	case YAML_SCALAR_EVENT:
		if (memchr(ev->data.scalar.value, 0, ev->data.scalar.length))
			return shape_fail(sh, &ev->start_mark, "scalar holds a NUL character "
					  "(\\0), which would cut it short");
		cost = 1 + ev->data.scalar.length;
		if (shape_anchor(sh, ev, ev->data.scalar.anchor, cost, true) == -2)
			return -EINVAL;
		break;
	case YAML_ALIAS_EVENT:
		for (a = sh->nanchors - 1; a >= 0; a--)
			if (!strcmp(sh->anchors[a].name, (const char *)ev->data.alias.anchor))
				break;
		if (a < 0)
			return 0;	/* the loader names the undefined alias */
		if (!sh->anchors[a].done)
			return shape_fail(sh, &ev->start_mark, "alias *%s inside the node it "
					  "names", sh->anchors[a].name);
		if (++sh->naliases > RULES_MAX_ALIASES)
			return shape_fail(sh, &ev->start_mark, "more than %d aliases (*name)",
					  RULES_MAX_ALIASES);
		cost = sh->anchors[a].cost;
		sh->alias_bytes += cost;
		if (sh->alias_bytes > RULES_MAX_ALIAS_BYTES)
			return shape_fail(sh, &ev->start_mark, "aliases expand to more than %u "
					  "bytes (*%s is the one that crossed it)",
					  RULES_MAX_ALIAS_BYTES, sh->anchors[a].name);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (sh->depth >= RULES_MAX_DEPTH)
			return shape_fail(sh, &ev->start_mark, "nested deeper than %d levels",
					  RULES_MAX_DEPTH);
		a = shape_anchor(sh, ev, ev->type == YAML_SEQUENCE_START_EVENT ?
				 ev->data.sequence_start.anchor :
				 ev->data.mapping_start.anchor, 0, false);
		if (a == -2)
			return -EINVAL;
		sh->depth++;
		sh->cost[sh->depth] = 1;
		sh->anchor[sh->depth] = a;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (sh->depth <= 0)
			return 0;
		cost = sh->cost[sh->depth];
		a = sh->anchor[sh->depth];
		if (a >= 0) {
			sh->anchors[a].cost = cost;
			sh->anchors[a].done = true;
		}
		sh->depth--;
		break;
	default:
		return 0;
	}
	if (sh->depth > 0)
		sh->cost[sh->depth] += cost;
	return 0;
}

static int check_shape(const char *name, const char *text, size_t len, char *err,
		       size_t errlen)
{
	struct shape *sh = calloc(1, sizeof(*sh));
	yaml_parser_t parser;
	yaml_event_t ev;
	int ret = 0;

	if (!sh)
		return -ENOMEM;
	if (len > SAFEFILE_RULES_MAX) {
		snprintf(err, errlen, "%s: too big (%zu bytes, at most %u)", name, len,
			 SAFEFILE_RULES_MAX);
		free(sh);
		return -EFBIG;
	}
	sh->name = name;
	sh->err = err;
	sh->errlen = errlen;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		bool end;

		if (!yaml_parser_parse(&parser, &ev))
			break;	/* the loader reports the syntax error */
		end = ev.type == YAML_STREAM_END_EVENT;
		ret = shape_event(sh, &ev);
		yaml_event_delete(&ev);
		if (ret || end)
			break;
	}
	yaml_parser_delete(&parser);
	for (int i = 0; i < sh->nanchors; i++)
		free(sh->anchors[i].name);
	free(sh);
	return ret;
}

int rules__load_string(struct ruleset *rs, const char *name, const char *text,
		       size_t len, char *err, size_t errlen)
{
	struct ruleset scratch;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct parse p = { .doc = &doc, .text = text, .len = len, .err = err, .errlen = errlen };
	int ret;

	ret = ruleset_copy(&scratch, rs);
	if (ret)
		return ret;
	if (push_str(&scratch.files, &scratch.nfiles, name)) {
		rules__free(&scratch);
		return -ENOMEM;
	}
	p.file = scratch.files[scratch.nfiles - 1];

	ret = check_shape(name, text, len, err, errlen);
	if (ret) {
		rules__free(&scratch);
		return ret;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s", name,
			 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "unknown",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		rules__free(&scratch);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	ret = 0;
	if (root && root->type != YAML_MAPPING_NODE) {
		ret = fail(&p, root, "expected a mapping of sections (protect:, allow:, "
			   "budget:, list:, macro:, rule:), found %s", node_kind(root));
	} else if (root) {
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
		     !ret && pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
			yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
			const char *ks = scalar(k);

			if (ks && !strcmp(ks, "protect"))
				ret = for_each_item(&p, v, "protect", one_set, &scratch);
			else if (ks && !strcmp(ks, "allow"))
				ret = for_each_item(&p, v, "allow", one_allow, &scratch);
			else if (ks && !strcmp(ks, "budget"))
				ret = for_each_item(&p, v, "budget", one_budget, &scratch);
			else if (ks && (!strcmp(ks, "list") || !strcmp(ks, "lists")))
				ret = for_each_item(&p, v, ks, one_list, &scratch);
			else if (ks && (!strcmp(ks, "macro") || !strcmp(ks, "macros")))
				ret = for_each_item(&p, v, ks, one_macro, &scratch);
			else if (ks && (!strcmp(ks, "rule") || !strcmp(ks, "rules")))
				ret = for_each_item(&p, v, ks, one_rule, &scratch);
			else
				ret = fail(&p, k, "unknown section '%s' (expected protect, "
					   "allow, budget, list, macro or rule)", ks ? ks : "?");
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	/* conditions may name lists and macros of earlier files, and a later
	 * file may break an earlier rule: check the whole candidate */
	if (!ret)
		ret = engine__validate(&scratch, err, errlen);
	if (ret) {
		rules__free(&scratch);
		return ret;
	}
	rules__free(rs);
	*rs = scratch;
	return 0;
}

/* A regular file of at most SAFEFILE_RULES_MAX bytes: a FIFO or device
 * named *.yaml is refused, never waited on (SIGHUP reloads run in the
 * agent's event loop). */
static int load_file(struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int ret = safefile__read(path, SAFEFILE_RULES_MAX, &buf, &len, err, errlen);

	if (ret)
		return ret;
	ret = rules__load_string(rs, path, buf, len, err, errlen);
	free(buf);
	return ret;
}

static int yaml_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' &&
	       ((n > 5 && !strcmp(d->d_name + n - 5, ".yaml")) ||
		(n > 4 && !strcmp(d->d_name + n - 4, ".yml")));
}

int rules__load_path(struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	struct dirent **ents;
	struct ruleset scratch;
	char full[4096];
	int n, ret = 0;

	n = scandir(path, &ents, yaml_name, alphasort);
	if (n < 0) {
		if (errno == ENOTDIR)
			return load_file(rs, path, err, errlen);
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	/* A directory loads all-or-nothing as well. */
	ret = ruleset_copy(&scratch, rs);
	for (int i = 0; i < n; i++) {
		if (!ret) {
			snprintf(full, sizeof(full), "%s/%s", path, ents[i]->d_name);
			ret = load_file(&scratch, full, err, errlen);
		}
		free(ents[i]);
	}
	free(ents);
	if (ret) {
		rules__free(&scratch);
		return ret;
	}
	rules__free(rs);
	*rs = scratch;
	return 0;
}

bool rules__is_default_file(const char *path)
{
	bool same = false;
	char *buf, err[256];
	size_t n;

	if (safefile__read(path, SAFEFILE_RULES_MAX, &buf, &n, err, sizeof(err)))
		return false;
	for (const struct embedded_rules *r = default_rules; r->name && !same; r++)
		same = strlen(r->text) == n && !memcmp(buf, r->text, n);
	free(buf);
	return same;
}

int rules__load_defaults(struct ruleset *rs, char *err, size_t errlen)
{
	int ret;

	for (const struct embedded_rules *r = default_rules; r->name; r++) {
		ret = rules__load_string(rs, r->name, r->text, strlen(r->text), err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int rules__add_cli_protect(struct ruleset *rs, const char *glob, char *err, size_t errlen)
{
	char gerr[256];
	int idx;

	if (glob__validate(glob, gerr, sizeof(gerr))) {
		snprintf(err, errlen, "--protect '%s': %s", glob, gerr);
		return -EINVAL;
	}
	idx = rules__set_index(rs, CLI_SET);
	if (idx < 0) {
		struct protect_set s = { 0 };

		s.name = strdup(CLI_SET);
		s.description = strdup("files named by --protect");
		s.loc.file = "command line";
		if (!s.name || !s.description || merge_set(rs, &s)) {
			set_free(&s);
			snprintf(err, errlen, "--protect: too many protect sets");
			return -E2BIG;
		}
		idx = rs->nsets - 1;
	}
	return push_str(&rs->sets[idx].paths, &rs->sets[idx].npaths, glob);
}

int rules__add_cli_allow(struct ruleset *rs, const char *text, char *err, size_t errlen)
{
	struct allow_entry a = { 0 };
	struct addr_rule r;
	char aerr[256];
	char name[300];

	if (addr__parse_rule(text, &r, aerr, sizeof(aerr))) {
		snprintf(err, errlen, "--allow '%s': %s", text, aerr);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "cli:%s", text);
	a.name = strdup(name);
	a.loc.file = "command line";
	if (!a.name || allow_add_addr(&a, &r) || merge_allow(rs, &a)) {
		allow_free(&a);
		return -ENOMEM;
	}
	return 0;
}
