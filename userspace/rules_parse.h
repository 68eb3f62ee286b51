/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the rule loader (not for other modules): the YAML kit every
 * section parser uses (rules_yaml.c: errors with file:line:column, scalars,
 * string lists, field tables, the shape limits checked before a document is
 * built) and the sections of detection logic (rules_logic.c: list, macro,
 * rule) that rules.c's document walk dispatches to. */
#ifndef VIGIL_RULES_PARSE_H
#define VIGIL_RULES_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include "rules.h"

struct parse {
	yaml_document_t *doc;
	const char *text;	/* the raw file, for rule_loc.src */
	size_t len;
	const char *file;
	char *err;
	size_t errlen;
};

typedef int (*field_fn)(struct parse *p, yaml_node_t *val, void *obj);
struct field {
	const char *key;
	field_fn fn;
	bool required;
};

/* How a definition relates to an earlier one of the same name. */
enum merge_mode { M_NEW, M_OVERRIDE, M_APPEND };

struct merge_parse {
	enum merge_mode mode;
	yaml_node_t *override_node, *append_node;
};

/* ---- rules_yaml.c ------------------------------------------------------ */

/* The error "file:line:column: message" at node n (or just the file). */
int yaml__fail(struct parse *p, yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *yaml__kind(yaml_node_t *n);		/* "a scalar", "a list", ... */
const char *yaml__scalar(yaml_node_t *n);	/* its text, or NULL */
void yaml__loc(struct parse *p, yaml_node_t *n, struct rule_loc *loc);
/* A condition or message: also keeps the scalar as written (rule_loc.src). */
void yaml__cond_loc(struct parse *p, yaml_node_t *n, struct rule_loc *loc);
void yaml__loc_free(struct rule_loc *l);
/* Index of the element called name in an array of n whose elements (size
 * bytes) start with their char * name (sets, lists, macros, rules), or -1. */
int yaml__find(const void *arr, size_t n, size_t size, const char *name);
/* Append elem (size bytes) to the array at *arr, of *n elements. */
int yaml__push(void *arr, size_t *n, const void *elem, size_t size);
int yaml__strv_push(char ***arr, size_t *n, const char *s);
void yaml__strv_free(char **a, size_t n);
/* A list of strings or one string; is_glob: each a valid glob for `what`. */
int yaml__str_list(struct parse *p, yaml_node_t *n, const char *what, bool is_glob,
		   char ***out, size_t *nout);
/* A mapping walked through a field table: unknown, duplicate and missing
 * required keys are errors. */
int yaml__fields(struct parse *p, yaml_node_t *map, const char *what,
		 const struct field *fields, void *obj);
int yaml__bool(struct parse *p, yaml_node_t *v, bool *out);
int yaml__dup(struct parse *p, yaml_node_t *v, const char *what, char **out);
/* Depth, anchors, aliases, documents, NUL and size limits, on the event
 * stream, before libyaml builds the document. */
int yaml__check_shape(const char *name, const char *text, size_t len, char *err,
		      size_t errlen);

/* ---- rules_logic.c ----------------------------------------------------- */

/* One item of a list:, macro: or rule: section, merged into rs. */
int list__parse(struct parse *p, yaml_node_t *n, struct ruleset *rs);
int macro__parse(struct parse *p, yaml_node_t *n, struct ruleset *rs);
int rule__parse(struct parse *p, yaml_node_t *n, struct ruleset *rs);
int list__merge(struct ruleset *rs, struct rule_list *l, enum merge_mode mode);
int exception__push(struct rule_def *r, struct rule_exception *e);
void list__free(struct rule_list *l);
void macro__free(struct rule_macro *m);
void rule__free(struct rule_def *r);
void exception__free(struct rule_exception *e);

#endif
