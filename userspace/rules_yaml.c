// SPDX-License-Identifier: GPL-2.0
/* The YAML kit of the rule loader (see rules_parse.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_parse.h"
#include "safefile.h"

int yaml__fail(struct parse *p, yaml_node_t *n, const char *fmt, ...)
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

const char *yaml__kind(yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

const char *yaml__scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

void yaml__loc(struct parse *p, yaml_node_t *n, struct rule_loc *loc)
{
	loc->file = p->file;
	loc->line = n->start_mark.line + 1;
	loc->column = n->start_mark.column + 1;
}

_Static_assert(offsetof(struct protect_set, name) == 0 && offsetof(struct rule_list, name) == 0 &&
	       offsetof(struct rule_macro, name) == 0 && offsetof(struct rule_def, id) == 0,
	       "yaml__find reads the name at the start of each element");

int yaml__find(const void *arr, size_t n, size_t size, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(*(char *const *)((const char *)arr + i * size), name))
			return (int)i;
	return -1;
}

int yaml__push(void *arr, size_t *n, const void *elem, size_t size)
{
	char *na = realloc(*(void **)arr, (*n + 1) * size);

	if (!na)
		return -ENOMEM;
	memcpy(na + *n * size, elem, size);
	*(void **)arr = na;
	(*n)++;
	return 0;
}

int yaml__strv_push(char ***arr, size_t *n, const char *s)
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

void yaml__strv_free(char **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

/* Protect paths, executables and mount points must be absolute; excludes
 * may be relative (matched at any depth). */
static int check_glob(const char *what, const char *pat, char *err, size_t errlen)
{
	if ((!strcmp(what, "path") || !strcmp(what, "exe") || !strcmp(what, "mount")) &&
	    pat[0] != '/') {
		snprintf(err, errlen, "must be an absolute path");
		return -EINVAL;
	}
	return rules__validate_glob(pat, err, errlen);
}

/* A list of strings, or a single string. */
int yaml__str_list(struct parse *p, yaml_node_t *n, const char *what, bool is_glob,
		   char ***out, size_t *nout)
{
	yaml_node_item_t *it;
	char gerr[256];

	if (n->type == YAML_SCALAR_NODE) {
		if (is_glob && check_glob(what, yaml__scalar(n), gerr, sizeof(gerr)))
			return yaml__fail(p, n, "invalid %s glob '%s': %s", what, yaml__scalar(n), gerr);
		return yaml__strv_push(out, nout, yaml__scalar(n));
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return yaml__fail(p, n, "expected a list of %s, found %s", what, yaml__kind(n));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(p->doc, *it);

		if (!e || e->type != YAML_SCALAR_NODE)
			return yaml__fail(p, e ? e : n, "expected a %s string, found %s", what,
					  e ? yaml__kind(e) : "nothing");
		if (is_glob && check_glob(what, yaml__scalar(e), gerr, sizeof(gerr)))
			return yaml__fail(p, e, "invalid %s glob '%s': %s", what, yaml__scalar(e), gerr);
		if (yaml__strv_push(out, nout, yaml__scalar(e)))
			return -ENOMEM;
	}
	return 0;
}

/* Walk a mapping, dispatching each key to the table; unknown keys and
 * missing required ones are errors. */
int yaml__fields(struct parse *p, yaml_node_t *map, const char *what,
		 const struct field *fields, void *obj)
{
	bool seen[16] = { 0 };
	yaml_node_pair_t *pr;
	size_t i, nfields = 0;
	int err;

	if (map->type != YAML_MAPPING_NODE)
		return yaml__fail(p, map, "expected a %s (a mapping), found %s", what, yaml__kind(map));
	while (fields[nfields].key)
		nfields++;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *ks = yaml__scalar(k);

		if (!ks)
			return yaml__fail(p, k, "expected a field name in %s", what);
		for (i = 0; i < nfields; i++)
			if (!strcmp(ks, fields[i].key))
				break;
		if (i == nfields) {
			char known[256] = "";

			for (size_t j = 0; j < nfields; j++) {
				strncat(known, j ? ", " : "", sizeof(known) - strlen(known) - 1);
				strncat(known, fields[j].key, sizeof(known) - strlen(known) - 1);
			}
			return yaml__fail(p, k, "unknown field '%s' in %s (expected one of: %s)",
					  ks, what, known);
		}
		if (seen[i])
			return yaml__fail(p, k, "duplicate field '%s' in %s", ks, what);
		seen[i] = true;
		err = fields[i].fn(p, v, obj);
		if (err)
			return err;
	}
	for (i = 0; i < nfields; i++)
		if (fields[i].required && !seen[i])
			return yaml__fail(p, map, "%s is missing required field '%s'", what,
					  fields[i].key);
	return 0;
}

int yaml__bool(struct parse *p, yaml_node_t *v, bool *out)
{
	const char *b = yaml__scalar(v);

	if (b && (!strcmp(b, "true") || !strcmp(b, "yes") || !strcmp(b, "on"))) {
		*out = true;
		return 0;
	}
	if (b && (!strcmp(b, "false") || !strcmp(b, "no") || !strcmp(b, "off"))) {
		*out = false;
		return 0;
	}
	return yaml__fail(p, v, "expected true or false, found %s%s%s", b ? "'" : "",
			  b ? b : yaml__kind(v), b ? "'" : "");
}

int yaml__dup(struct parse *p, yaml_node_t *v, const char *what, char **out)
{
	const char *t = yaml__scalar(v);

	if (!t || !*t)
		return yaml__fail(p, v, "expected a non-empty %s, found %s", what,
				  t ? "an empty string" : yaml__kind(v));
	free(*out);
	*out = strdup(t);
	return *out ? 0 : -ENOMEM;
}

/* A condition or message: remember the scalar as written, so errors in it
 * can name the exact line and column (see engine.c, where()). */
void yaml__cond_loc(struct parse *p, yaml_node_t *n, struct rule_loc *loc)
{
	size_t a = n->start_mark.index, b = n->end_mark.index;

	yaml__loc(p, n, loc);
	free(loc->src);
	loc->src = NULL;
	loc->prefix = 0;
	if (p->text && a < b && b <= p->len)
		loc->src = strndup(p->text + a, b - a);
}

void yaml__loc_free(struct rule_loc *l)
{
	free(l->src);
	l->src = NULL;
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

/* Remember an anchor (none: *idx = -1). 0 or -errno with err set. */
static int shape_anchor(struct shape *sh, const yaml_event_t *ev, const yaml_char_t *anchor,
			size_t cost, bool done, int *idx)
{
	*idx = -1;
	if (!anchor)
		return 0;
	if (sh->nanchors >= RULES_MAX_ANCHORS)
		return shape_fail(sh, &ev->start_mark, "more than %d anchors (&name)",
				  RULES_MAX_ANCHORS);
	sh->anchors[sh->nanchors].name = strdup((const char *)anchor);
	if (!sh->anchors[sh->nanchors].name) {
		snprintf(sh->err, sh->errlen, "%s: out of memory", sh->name);
		return -ENOMEM;
	}
	sh->anchors[sh->nanchors].cost = cost;
	sh->anchors[sh->nanchors].done = done;
	*idx = sh->nanchors++;
	return 0;
}

static int shape_event(struct shape *sh, const yaml_event_t *ev)
{
	size_t cost = 0;
	int a, err;

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
		err = shape_anchor(sh, ev, ev->data.scalar.anchor, cost, true, &a);
		if (err)
			return err;
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
		err = shape_anchor(sh, ev, ev->type == YAML_SEQUENCE_START_EVENT ?
				   ev->data.sequence_start.anchor :
				   ev->data.mapping_start.anchor, 0, false, &a);
		if (err)
			return err;
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

int yaml__check_shape(const char *name, const char *text, size_t len, char *err,
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

int yaml__load(const char *name, const char *text, size_t len, yaml_document_t *doc,
	       char *err, size_t errlen)
{
	yaml_parser_t parser;
	int ret = yaml__check_shape(name, text, len, err, errlen);

	if (ret)
		return ret;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s", name,
			 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "unknown",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		ret = -EINVAL;
	}
	yaml_parser_delete(&parser);
	return ret;
}
