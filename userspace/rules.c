// SPDX-License-Identifier: GPL-2.0
/* Rule files: the document walk (libyaml's document API keeps line/column
 * marks on every node) and the file-level sections (protect:, allow:,
 * budget:), the deep copy a load works on, the command line's additions.
 * list:, macro: and rule: are in rules_logic.c, the YAML kit in
 * rules_yaml.c; loading and validating a source is rules_load.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <yaml.h>

#include "glob.h"
#include "rules_parse.h"

#define CLI_SET "cli"

static void set_free(struct protect_set *s)
{
	free(s->name);
	free(s->description);
	yaml__strv_free(s->paths, s->npaths);
	yaml__strv_free(s->excludes, s->nexcludes);
	free(s->owner.uids);
}

static void serve_free(struct serve_entry *e)
{
	free(e->name);
	yaml__strv_free(e->exes, e->nexes);
	yaml__loc_free(&e->loc);
	memset(e, 0, sizeof(*e));
}

static void allow_free(struct allow_entry *a)
{
	free(a->name);
	free(a->addrs);
	yaml__strv_free(a->exes, a->nexes);
	yaml__strv_free(a->mounts, a->nmounts);
	yaml__strv_free(a->sources, a->nsources);
}


void rules__init(struct ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->limits.files_per_owner = RULES_FILES_PER_OWNER;
	rs->limits.watches_per_owner = RULES_WATCHES_PER_OWNER;
}

void rules__free(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->nsets; i++)
		set_free(&rs->sets[i]);
	free(rs->sets);
	for (size_t i = 0; i < rs->nallows; i++)
		allow_free(&rs->allows[i]);
	free(rs->allows);
	for (size_t i = 0; i < rs->nserves; i++)
		serve_free(&rs->serves[i]);
	free(rs->serves);
	for (size_t i = 0; i < rs->nlists; i++)
		list__free(&rs->lists[i]);
	free(rs->lists);
	for (size_t i = 0; i < rs->nmacros; i++)
		macro__free(&rs->macros[i]);
	free(rs->macros);
	for (size_t i = 0; i < rs->nrules; i++)
		rule__free(&rs->rules[i]);
	free(rs->rules);
	yaml__strv_free(rs->files, rs->nfiles);
	memset(rs, 0, sizeof(*rs));
}

int rules__set_index(const struct ruleset *rs, const char *name)
{
	return yaml__find(rs->sets, rs->nsets, sizeof(*rs->sets), name);
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

static int parse_size(struct parse *p, yaml_node_t *n, unsigned long long *out)
{
	char serr[128];

	if (n->type != YAML_SCALAR_NODE)
		return yaml__fail(p, n, "expected a byte size like 1MiB, found %s", yaml__kind(n));
	if (addr__parse_size(yaml__scalar(n), out, serr, sizeof(serr)))
		return yaml__fail(p, n, "invalid byte size '%s': %s", yaml__scalar(n), serr);
	return 0;
}

/* ---- protect ---------------------------------------------------------- */

static int f_set_name(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;
	const char *n = yaml__scalar(v);

	if (!n || !*n)
		return yaml__fail(p, v, "expected a non-empty set name");
	if (!strcmp(n, "*"))
		return yaml__fail(p, v, "'*' is reserved (it means every set in budget:)");
	free(s->name);
	s->name = strdup(n);
	return s->name ? 0 : -ENOMEM;
}

static int f_set_desc(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;

	if (!yaml__scalar(v))
		return yaml__fail(p, v, "expected a string, found %s", yaml__kind(v));
	s->description = strdup(yaml__scalar(v));
	return s->description ? 0 : -ENOMEM;
}

static int f_set_paths(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;

	return yaml__str_list(p, v, "path", true, &s->paths, &s->npaths);
}

static int f_set_exclude(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;

	return yaml__str_list(p, v, "exclude", true, &s->excludes, &s->nexcludes);
}

static int f_set_budget(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;

	s->has_budget = true;
	return parse_size(p, v, &s->budget);
}

/* owner: any | home | a user name or uid, or a list of home and users */
static int owner_item(struct parse *p, yaml_node_t *v, struct owner_rule *o)
{
	const char *t = yaml__scalar(v);
	unsigned *nu;
	char *end;
	unsigned long uid;

	if (!t || !*t)
		return yaml__fail(p, v, "expected an owner (any, home, a user name or a uid), "
			    "found %s", t ? "an empty string" : yaml__kind(v));
	if (!strcmp(t, "any")) {
		o->any = true;
		return 0;
	}
	if (!strcmp(t, "home")) {
		o->home = true;
		return 0;
	}
	errno = 0;
	uid = strtoul(t, &end, 10);
	if (*end || errno || uid >= 0xffffffffu || t[0] == '-') {
		struct passwd *pw = getpwnam(t);

		if (!pw)
			return yaml__fail(p, v, "owner '%s' is not a user on this host (use a "
				    "numeric uid, any or home)", t);
		uid = pw->pw_uid;
	}
	nu = realloc(o->uids, (o->nuids + 1) * sizeof(*nu));
	if (!nu)
		return -ENOMEM;
	o->uids = nu;
	nu[o->nuids++] = (unsigned)uid;
	return 0;
}

static int f_set_owner(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;
	int err = 0;

	s->has_owner = true;
	if (v->type != YAML_SEQUENCE_NODE)
		err = owner_item(p, v, &s->owner);
	for (yaml_node_item_t *it = v->type == YAML_SEQUENCE_NODE ?
	     v->data.sequence.items.start : NULL;
	     it && it < v->data.sequence.items.top && !err; it++)
		err = owner_item(p, yaml_document_get_node(p->doc, *it), &s->owner);
	if (!err && s->owner.any && (s->owner.home || s->owner.nuids))
		err = yaml__fail(p, v, "owner 'any' cannot be combined with other owners");
	if (!err && v->type == YAML_SEQUENCE_NODE &&
	    v->data.sequence.items.start == v->data.sequence.items.top)
		err = yaml__fail(p, v, "expected at least one owner");
	return err;
}

static int f_set_min_size(struct parse *p, yaml_node_t *v, void *o)
{
	struct protect_set *s = o;

	s->has_min_size = true;
	return parse_size(p, v, &s->min_size);
}

/* a positive count */
static int parse_count(struct parse *p, yaml_node_t *v, unsigned long long max,
		       unsigned long long *out)
{
	const char *t = yaml__scalar(v);
	char *end;

	errno = 0;
	if (!t || !*t || t[0] == '-' || (*out = strtoull(t, &end, 10), *end) || errno ||
	    !*out || *out > max)
		return yaml__fail(p, v, "expected a whole number from 1 to %llu, found '%s'", max,
			    t ? t : yaml__kind(v));
	return 0;
}

/* a field holding a count from 1 to 2^20 */
#define COUNT_FIELD(fn, type, member)						\
	static int fn(struct parse *p, yaml_node_t *v, void *o)			\
	{									\
		return parse_count(p, v, 1u << 20, &((type *)o)->member);	\
	}

COUNT_FIELD(f_set_max_files, struct protect_set, max_files)
COUNT_FIELD(f_set_max_watches, struct protect_set, max_watches)
COUNT_FIELD(f_lim_files, struct protect_limits, files_per_owner)
COUNT_FIELD(f_lim_watches, struct protect_limits, watches_per_owner)

static const struct field set_fields[] = {
	{ "name", f_set_name, true },
	{ "description", f_set_desc, false },
	{ "paths", f_set_paths, true },
	{ "exclude", f_set_exclude, false },
	{ "budget", f_set_budget, false },
	{ "owner", f_set_owner, false },
	{ "min_size", f_set_min_size, false },
	{ "max_files", f_set_max_files, false },
	{ "max_watches", f_set_max_watches, false },
	{ 0 },
};

/* ---- limits ----------------------------------------------------------- */

static const struct field limit_fields[] = {
	{ "files_per_owner", f_lim_files, false },
	{ "watches_per_owner", f_lim_watches, false },
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
	yaml_node_t *mount_node, *source_node;
};

static int f_allow_name(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	if (!yaml__scalar(v) || !*yaml__scalar(v))
		return yaml__fail(p, v, "expected a non-empty name");
	ap->a->name = strdup(yaml__scalar(v));
	return ap->a->name ? 0 : -ENOMEM;
}

static int f_allow_cidr(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	ap->cidr_node = v;
	return yaml__str_list(p, v, "CIDR", false, &ap->cidrs, &ap->ncidrs);
}

static int f_allow_ports(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	ap->ports_node = v;
	return yaml__str_list(p, v, "port", false, &ap->ports, &ap->nports);
}

static int f_allow_desc(struct parse *p, yaml_node_t *v, void *o)
{
	if (!yaml__scalar(v))
		return yaml__fail(p, v, "expected a string, found %s", yaml__kind(v));
	return 0;
}

static int f_allow_exe(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	return yaml__str_list(p, v, "exe", true, &ap->a->exes, &ap->a->nexes);
}

static int f_allow_mount(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	ap->mount_node = v;
	return yaml__str_list(p, v, "mount", true, &ap->a->mounts, &ap->a->nmounts);
}

static int f_allow_source(struct parse *p, yaml_node_t *v, void *o)
{
	struct allow_parse *ap = o;

	ap->source_node = v;
	return yaml__str_list(p, v, "source", true, &ap->a->sources, &ap->a->nsources);
}

static const struct field allow_fields[] = {
	{ "name", f_allow_name, true },
	{ "description", f_allow_desc, false },
	{ "cidr", f_allow_cidr, false },
	{ "ports", f_allow_ports, false },
	{ "exe", f_allow_exe, false },
	{ "mount", f_allow_mount, false },
	{ "source", f_allow_source, false },
	{ 0 },
};

static int allow_add_addr(struct allow_entry *a, const struct addr_rule *r)
{
	if (a->naddrs >= RULES_MAX_ALLOW_ADDRS)
		return -E2BIG;
	return yaml__push(&a->addrs, &a->naddrs, r, sizeof(*r));
}

/* Cross CIDRs with port ranges; a CIDR written with its own :port keeps it. */
static int allow_build(struct parse *p, yaml_node_t *n, struct allow_parse *ap)
{
	char aerr[256], buf[128];
	struct addr_rule r;
	int err;

	/* an entry allows addresses (cidr, ports), network-filesystem
	 * mounts (mount, source), or both */
	if (!ap->cidr_node && !ap->mount_node)
		return yaml__fail(p, n, "allow entry '%s': needs 'cidr' (destinations) or "
				  "'mount' (network-filesystem mount points)", ap->a->name);
	if (ap->ports_node && !ap->cidr_node)
		return yaml__fail(p, ap->ports_node, "'ports' needs 'cidr' (mounts have no ports)");
	if (ap->source_node && !ap->mount_node)
		return yaml__fail(p, ap->source_node, "'source' needs 'mount' (the mount points "
				  "whose source it must be)");
	for (size_t i = 0; i < ap->ncidrs; i++) {
		if (addr__parse_rule(ap->cidrs[i], &r, aerr, sizeof(aerr)))
			return yaml__fail(p, ap->cidr_node, "invalid CIDR '%s': %s", ap->cidrs[i], aerr);
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
				return yaml__fail(p, ap->ports_node, "invalid port '%s': %s",
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
		return yaml__fail(p, ap->cidr_node, "more than %d CIDR x port range entries in one "
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

	if (!yaml__scalar(v))
		return yaml__fail(p, v, "expected a set name or \"*\", found %s", yaml__kind(v));
	bp->set = yaml__scalar(v);
	bp->set_node = v;
	return 0;
}

static int f_budget_bytes(struct parse *p, yaml_node_t *v, void *o)
{
	struct budget_parse *bp = o;

	return parse_size(p, v, &bp->bytes);
}

/* A window: field (budget:, serve:) into *out, *has set. */
static int window_field(struct parse *p, yaml_node_t *v, unsigned long long *out, bool *has)
{
	const char *t = yaml__scalar(v);

	if (!t || parse_window(t, out))
		return yaml__fail(p, v, "expected a window: lifetime or a duration such as "
				  "3600s, 30m, 24h, 7d, found %s%s%s", t ? "'" : "",
				  t ? t : yaml__kind(v), t ? "'" : "");
	*has = true;
	return 0;
}

static int f_budget_window(struct parse *p, yaml_node_t *v, void *o)
{
	struct budget_parse *bp = o;

	return window_field(p, v, &bp->window_s, &bp->has_window);
}

static const struct field budget_fields[] = {
	{ "set", f_budget_set, true },
	{ "bytes", f_budget_bytes, true },
	{ "window", f_budget_window, false },
	{ 0 },
};


/* ---- serve ------------------------------------------------------------ */

static int f_serve_name(struct parse *p, yaml_node_t *v, void *o)
{
	struct serve_entry *e = o;

	if (!yaml__scalar(v) || !*yaml__scalar(v))
		return yaml__fail(p, v, "expected a non-empty name");
	e->name = strdup(yaml__scalar(v));
	return e->name ? 0 : -ENOMEM;
}

static int f_serve_port(struct parse *p, yaml_node_t *v, void *o)
{
	struct serve_entry *e = o;
	const char *t = yaml__scalar(v);
	char *end;
	long port = t ? strtol(t, &end, 10) : -1;

	if (!t || !*t || *end || port < 1 || port > 65535)
		return yaml__fail(p, v, "expected a port 1..65535, found %s%s%s", t ? "'" : "",
				  t ? t : yaml__kind(v), t ? "'" : "");
	e->port = (uint16_t)port;
	return 0;
}

static int f_serve_exe(struct parse *p, yaml_node_t *v, void *o)
{
	struct serve_entry *e = o;

	return yaml__str_list(p, v, "exe", true, &e->exes, &e->nexes);
}

static int f_serve_budget(struct parse *p, yaml_node_t *v, void *o)
{
	struct serve_entry *e = o;

	e->has_work_budget = true;
	return parse_size(p, v, &e->work_budget);
}

static int f_serve_window(struct parse *p, yaml_node_t *v, void *o)
{
	struct serve_entry *e = o;

	return window_field(p, v, &e->window_s, &e->has_window);
}

static const struct field serve_fields[] = {
	{ "name", f_serve_name, true },
	{ "description", f_allow_desc, false },
	{ "port", f_serve_port, true },
	{ "exe", f_serve_exe, false },
	{ "work_budget", f_serve_budget, false },
	{ "window", f_serve_window, false },
	{ 0 },
};

/* Same name: the later entry replaces the earlier (like allow:). */
static int merge_serve(struct ruleset *rs, struct serve_entry *e)
{
	for (size_t i = 0; i < rs->nserves; i++) {
		if (!strcmp(rs->serves[i].name, e->name)) {
			serve_free(&rs->serves[i]);
			rs->serves[i] = *e;
			return 0;
		}
	}
	if (rs->nserves >= RULES_MAX_SERVES)
		return -E2BIG;
	return yaml__push(&rs->serves, &rs->nserves, e, sizeof(*e));
}

static int one_serve(struct parse *p, yaml_node_t *n, struct ruleset *rs)
{
	struct serve_entry e = { 0 };
	int err;

	yaml__loc(p, n, &e.loc);
	err = yaml__fields(p, n, "serve entry", serve_fields, &e);
	if (!err) {
		err = merge_serve(rs, &e);
		if (err == -E2BIG)
			err = yaml__fail(p, n, "too many serve entries (at most %d)",
					 RULES_MAX_SERVES);
	}
	if (err)
		serve_free(&e);
	return err;
}

int rules__add_cli_serve(struct ruleset *rs, const char *text, char *err, size_t errlen)
{
	struct serve_entry e = { 0 };
	char name[64], *end;
	long port = strtol(text, &end, 10);

	if (!*text || *end || port < 1 || port > 65535) {
		snprintf(err, errlen, "--serve '%s': expected a port 1..65535", text);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "--serve %ld", port);
	e.port = (uint16_t)port;
	e.name = strdup(name);
	if (!e.name || merge_serve(rs, &e)) {
		serve_free(&e);
		snprintf(err, errlen, "--serve '%s': too many serve entries (at most %d)", text,
			 RULES_MAX_SERVES);
		return -E2BIG;
	}
	return 0;
}

/* ---- document --------------------------------------------------------- */

static int merge_set(struct ruleset *rs, struct protect_set *s)
{
	int idx = rules__set_index(rs, s->name);

	if (idx >= 0) {	/* same name: append paths and excludes */
		struct protect_set *d = &rs->sets[idx];

		for (size_t i = 0; i < s->npaths; i++)
			if (yaml__strv_push(&d->paths, &d->npaths, s->paths[i]))
				return -ENOMEM;
		for (size_t i = 0; i < s->nexcludes; i++)
			if (yaml__strv_push(&d->excludes, &d->nexcludes, s->excludes[i]))
				return -ENOMEM;
		if (s->has_budget) {
			d->budget = s->budget;
			d->has_budget = true;
		}
		if (s->has_owner) {	/* a later file's owner: replaces */
			free(d->owner.uids);
			d->owner = s->owner;
			d->has_owner = true;
			s->owner.uids = NULL;
		}
		if (s->has_min_size) {
			d->min_size = s->min_size;
			d->has_min_size = true;
		}
		if (s->max_files)
			d->max_files = s->max_files;
		if (s->max_watches)
			d->max_watches = s->max_watches;
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
	return yaml__push(&rs->sets, &rs->nsets, s, sizeof(*s));
}

static int merge_allow(struct ruleset *rs, struct allow_entry *a)
{
	for (size_t i = 0; i < rs->nallows; i++) {
		if (!strcmp(rs->allows[i].name, a->name)) {	/* override by name */
			allow_free(&rs->allows[i]);
			rs->allows[i] = *a;
			return 0;
		}
	}
	return yaml__push(&rs->allows, &rs->nallows, a, sizeof(*a));
}

static int for_each_item(struct parse *p, yaml_node_t *seq, const char *section,
			 int (*fn)(struct parse *, yaml_node_t *, struct ruleset *),
			 struct ruleset *scratch)
{
	yaml_node_item_t *it;
	int err;

	if (seq->type != YAML_SEQUENCE_NODE)
		return yaml__fail(p, seq, "'%s' must be a list, found %s", section, yaml__kind(seq));
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

	yaml__loc(p, n, &s.loc);
	err = yaml__fields(p, n, "protect set", set_fields, &s);
	if (!err && rs->nsets >= 32 && rules__set_index(rs, s.name) < 0)
		err = yaml__fail(p, n, "too many protect sets (at most 32)");
	if (!err) {
		int idx = rules__set_index(rs, s.name);
		size_t pats = s.npaths + s.nexcludes;

		if (idx >= 0)
			pats += rs->sets[idx].npaths + rs->sets[idx].nexcludes;
		if (pats > RULES_MAX_SET_PATTERNS)
			err = yaml__fail(p, n, "protect set '%s': more than %d paths and excludes",
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

	yaml__loc(p, n, &a.loc);
	err = yaml__fields(p, n, "allow entry", allow_fields, &ap);
	if (!err)
		err = allow_build(p, n, &ap);
	yaml__strv_free(ap.cidrs, ap.ncidrs);
	yaml__strv_free(ap.ports, ap.nports);
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

	err = yaml__fields(p, n, "budget entry", budget_fields, &bp);
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
		return yaml__fail(p, bp.set_node, "budget names undefined protect set '%s'", bp.set);
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
		if (yaml__strv_push(dst, ndst, src[i]))
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
		if (oom || exception__push(r, &e)) {
			exception__free(&e);
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
		s.owner = o->owner;
		s.owner.uids = NULL;
		s.has_owner = o->has_owner;
		s.min_size = o->min_size;
		s.has_min_size = o->has_min_size;
		s.max_files = o->max_files;
		s.max_watches = o->max_watches;
		s.loc = remap(dst, src, o->loc);
		if (o->owner.nuids && (s.owner.uids = malloc(o->owner.nuids * sizeof(unsigned))))
			memcpy(s.owner.uids, o->owner.uids, o->owner.nuids * sizeof(unsigned));
		else if (o->owner.nuids)
			oom = true;
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
		    copy_strs(&a.mounts, &a.nmounts, o->mounts, o->nmounts) ||
		    copy_strs(&a.sources, &a.nsources, o->sources, o->nsources) ||
		    merge_allow(dst, &a)) {
			allow_free(&a);
			goto oom;
		}
	}
	for (size_t i = 0; i < src->nserves; i++) {
		const struct serve_entry *o = &src->serves[i];
		struct serve_entry e = *o;

		e.loc = remap(dst, src, o->loc);
		e.name = dup_or_null(o->name, &oom);
		e.exes = NULL;
		e.nexes = 0;
		if (oom || copy_strs(&e.exes, &e.nexes, o->exes, o->nexes) ||
		    merge_serve(dst, &e)) {
			serve_free(&e);
			goto oom;
		}
	}
	for (size_t i = 0; i < src->nlists; i++) {
		const struct rule_list *o = &src->lists[i];
		struct rule_list l = { .name = dup_or_null(o->name, &oom),
				       .loc = remap(dst, src, o->loc) };

		if (oom || copy_strs(&l.items, &l.nitems, o->items, o->nitems) ||
		    list__merge(dst, &l, M_NEW)) {
			list__free(&l);
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
	dst->limits = src->limits;
	return 0;
oom:
	rules__free(dst);
	return -ENOMEM;
}

int rules__copy(struct ruleset *dst, const struct ruleset *src)
{
	return ruleset_copy(dst, src);
}

int rules__merge_yaml(struct ruleset *scratch, const char *name, const char *text,
		      size_t len, char *err, size_t errlen)
{
	yaml_document_t doc;
	yaml_node_t *root;
	struct parse p = { .doc = &doc, .text = text, .len = len, .err = err, .errlen = errlen };
	int ret;

	if (yaml__strv_push(&scratch->files, &scratch->nfiles, name))
		return -ENOMEM;
	p.file = scratch->files[scratch->nfiles - 1];

	ret = yaml__load(name, text, len, &doc, err, errlen);
	if (ret)
		return ret;
	root = yaml_document_get_root_node(&doc);
	ret = 0;
	if (root && root->type != YAML_MAPPING_NODE) {
		ret = yaml__fail(&p, root, "expected a mapping of sections (protect:, allow:, "
				 "budget:, list:, macro:, rule:), found %s", yaml__kind(root));
	} else if (root) {
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
		     !ret && pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
			yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
			const char *ks = yaml__scalar(k);

			if (ks && !strcmp(ks, "protect"))
				ret = for_each_item(&p, v, "protect", one_set, scratch);
			else if (ks && !strcmp(ks, "allow"))
				ret = for_each_item(&p, v, "allow", one_allow, scratch);
			else if (ks && !strcmp(ks, "budget"))
				ret = for_each_item(&p, v, "budget", one_budget, scratch);
			else if (ks && !strcmp(ks, "serve"))
				ret = for_each_item(&p, v, "serve", one_serve, scratch);
			else if (ks && !strcmp(ks, "limits"))
				ret = yaml__fields(&p, v, "limits", limit_fields, &scratch->limits);
			else if (ks && (!strcmp(ks, "list") || !strcmp(ks, "lists")))
				ret = for_each_item(&p, v, ks, list__parse, scratch);
			else if (ks && (!strcmp(ks, "macro") || !strcmp(ks, "macros")))
				ret = for_each_item(&p, v, ks, macro__parse, scratch);
			else if (ks && (!strcmp(ks, "rule") || !strcmp(ks, "rules")))
				ret = for_each_item(&p, v, ks, rule__parse, scratch);
			else
				ret = yaml__fail(&p, k, "unknown section '%s' (expected protect, "
						 "allow, budget, serve, limits, list, macro or rule)",
						 ks ? ks : "?");
		}
	}
	yaml_document_delete(&doc);
	return ret;
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
	return yaml__strv_push(&rs->sets[idx].paths, &rs->sets[idx].npaths, glob);
}

int rules__set_local_allow(struct ruleset *rs, const char *name, const struct addr_rule *addrs,
			   size_t n)
{
	struct allow_entry a = { 0 };

	for (size_t i = 0; i < rs->nallows; i++)
		if (!strcmp(rs->allows[i].name, name)) {
			allow_free(&rs->allows[i]);
			memmove(&rs->allows[i], &rs->allows[i + 1],
				(rs->nallows - i - 1) * sizeof(rs->allows[0]));
			rs->nallows--;
			break;
		}
	if (!n)
		return 0;
	a.name = strdup(name);
	a.loc.file = "host";
	if (!a.name)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (allow_add_addr(&a, &addrs[i])) {
			allow_free(&a);
			return -ENOMEM;
		}
	if (merge_allow(rs, &a)) {
		allow_free(&a);
		return -ENOMEM;
	}
	return 0;
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
