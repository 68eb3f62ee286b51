// SPDX-License-Identifier: GPL-2.0
/* Rule file loader. The YAML document is loaded whole (libyaml's document
 * API keeps line/column marks on every node), validated into a scratch
 * ruleset, and merged only if the whole file is valid. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "glob.h"
#include "rules.h"
#include "default_rules.h"

#define CLI_SET "cli"

struct parse {
	yaml_document_t *doc;
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
}

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
	if (!strcmp(what, "path") && pat[0] != '/') {
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

static const struct field allow_fields[] = {
	{ "name", f_allow_name, true },
	{ "description", f_allow_desc, false },
	{ "cidr", f_allow_cidr, true },
	{ "ports", f_allow_ports, false },
	{ 0 },
};

static int allow_add_addr(struct allow_entry *a, const struct addr_rule *r)
{
	struct addr_rule *na = realloc(a->addrs, (a->naddrs + 1) * sizeof(*na));

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
				return err;
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
				return err;
		}
	}
	return 0;
}

/* ---- budget ----------------------------------------------------------- */

struct budget_parse {
	const char *set;
	yaml_node_t *set_node;
	unsigned long long bytes;
};

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
	if (!scalar(v) || strcmp(scalar(v), "lifetime"))
		return fail(p, v, "only window: lifetime is supported (budgets count over "
			    "the agent's lifetime)");
	return 0;
}

static const struct field budget_fields[] = {
	{ "set", f_budget_set, true },
	{ "bytes", f_budget_bytes, true },
	{ "window", f_budget_window, false },
	{ 0 },
};

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
		return 0;
	}
	idx = rules__set_index(rs, bp.set);
	if (idx < 0)
		return fail(p, bp.set_node, "budget names undefined protect set '%s'", bp.set);
	rs->sets[idx].budget = bp.bytes;
	rs->sets[idx].has_budget = true;
	return 0;
}

static int ruleset_copy(struct ruleset *dst, const struct ruleset *src)
{
	rules__init(dst);
	for (size_t i = 0; i < src->nsets; i++) {
		struct protect_set s = { 0 };
		const struct protect_set *o = &src->sets[i];

		s.name = strdup(o->name);
		s.description = o->description ? strdup(o->description) : NULL;
		s.budget = o->budget;
		s.has_budget = o->has_budget;
		s.loc = o->loc;
		for (size_t j = 0; j < o->npaths; j++)
			if (push_str(&s.paths, &s.npaths, o->paths[j]))
				goto oom;
		for (size_t j = 0; j < o->nexcludes; j++)
			if (push_str(&s.excludes, &s.nexcludes, o->excludes[j]))
				goto oom;
		if (!s.name || merge_set(dst, &s)) {
oom:
			set_free(&s);
			rules__free(dst);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < src->nallows; i++) {
		struct allow_entry a = src->allows[i];

		a.name = strdup(a.name);
		a.addrs = malloc(a.naddrs * sizeof(*a.addrs) + 1);
		if (!a.name || !a.addrs || merge_allow(dst, &a)) {
			allow_free(&a);
			rules__free(dst);
			return -ENOMEM;
		}
		memcpy(a.addrs, src->allows[i].addrs, a.naddrs * sizeof(*a.addrs));
	}
	dst->default_budget = src->default_budget;
	dst->has_default_budget = src->has_default_budget;
	for (size_t i = 0; i < src->nfiles; i++)
		if (push_str(&dst->files, &dst->nfiles, src->files[i])) {
			rules__free(dst);
			return -ENOMEM;
		}
	return 0;
}

int rules__load_string(struct ruleset *rs, const char *name, const char *text,
		       size_t len, char *err, size_t errlen)
{
	struct ruleset scratch;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct parse p = { .doc = &doc, .err = err, .errlen = errlen };
	int ret;

	ret = ruleset_copy(&scratch, rs);
	if (ret)
		return ret;
	if (push_str(&scratch.files, &scratch.nfiles, name)) {
		rules__free(&scratch);
		return -ENOMEM;
	}
	p.file = scratch.files[scratch.nfiles - 1];

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
			   "budget:), found %s", node_kind(root));
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
			else
				ret = fail(&p, k, "unknown section '%s' (expected protect, "
					   "allow or budget)", ks ? ks : "?");
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ret) {
		rules__free(&scratch);
		return ret;
	}
	rules__free(rs);
	*rs = scratch;
	return 0;
}

static int load_file(struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	do {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (ret)
		snprintf(err, errlen, "%s: read error", path);
	else
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
