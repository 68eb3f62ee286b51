/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rule conditions: a small expression language over typed fields of
 * correlated activity, parsed once (names resolved, types checked, lists and
 * macros expanded) into a tree that evaluates without allocating.
 *
 *   cond    := or
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | primary
 *   primary := "(" cond ")"
 *            | FIELD OP value          comparison
 *            | FIELD                   a bool field: FIELD = true
 *            | MACRO                   a macro name: its condition, in parens
 *   OP      := = == != < <= > >= in contains startswith endswith glob
 *   value   := WORD | 'quoted' | "quoted" | NUMBER[unit] | "(" item, ... ")" | LIST
 *
 * Numbers take size units (10MiB, 64KiB, 1GB, 4K: see addr__parse_size).
 * `in (a, b, LIST)`: items are literals, except a bare word naming a list,
 * which expands to its items; `in LIST` (no parentheses) must name a list.
 * For an addr field, items of `in` are CIDRs or addresses (10.0.0.0/8,
 * fd00::/8, 1.2.3.4) and `=` takes an address. For a list field (strlist),
 * `in` / `=` are true if any element is in the set / equal, `contains X`
 * if an element equals X, `startswith`/`glob` if any element matches.
 * `glob` on a string: a pattern starting with '/' is a path glob (glob.h,
 * ** spans directories), anything else is fnmatch(3) without flags.
 * Keywords (and or not in contains startswith endswith glob true false) are
 * case-sensitive lower case.
 */
#ifndef VIGIL_EXPR_H
#define VIGIL_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum expr_type {
	EXPR_STR,	/* const char * */
	EXPR_NUM,	/* int64_t (bytes, ports, ids) */
	EXPR_BOOL,
	EXPR_STRLIST,	/* const char *const *, count */
	EXPR_ADDR,	/* family + 16 bytes, network order (IPv4 in the first 4) */
};

struct expr_field {
	const char *name;	/* "proc.name" */
	enum expr_type type;
	const char *doc;	/* one line for docs/RULES.md */
};

/* A field's value for one record, filled by the caller's getter. */
struct expr_value {
	const char *s;			/* EXPR_STR ("" if unknown, never NULL) */
	int64_t n;			/* EXPR_NUM, EXPR_BOOL (0/1) */
	const char *const *list;	/* EXPR_STRLIST */
	size_t nlist;
	int family;			/* EXPR_ADDR: AF_INET / AF_INET6, 0 = none */
	unsigned char addr[16];
	size_t len;			/* EXPR_STR: strlen(s); expr__values sets it,
					 * a getter need not */
};

/* Fill *out for field `id` (index into the env's field table) of `rec`.
 * *out is zeroed by the caller. */
typedef void (*expr_getter)(const void *rec, unsigned id, struct expr_value *out);

struct expr_env {
	const struct expr_field *fields;
	size_t nfields;
	void *ctx;
	/* name -> items; false if no such list */
	bool (*list)(void *ctx, const char *name, const char *const **items, size_t *n);
	/* name -> condition text; false if no such macro */
	bool (*macro)(void *ctx, const char *name, const char **text);
};

struct expr;

/* Parse `text`. On error: NULL, a message in err ("unknown field
 * 'proc.nme' (did you mean 'proc.name'?)", "expected a value after '=',
 * found end of condition", "'net.dport' is a number: 'http' is not",
 * "undefined macro 'foo'", "undefined list 'bar'", "macro 'a' refers to
 * itself through 'b'"...) and *err_col the 1-based column in `text` where
 * it went wrong (for an error inside a macro: the macro name's column).
 * Macros nest up to 16 deep. */
struct expr *expr__parse(const char *text, const struct expr_env *env, char *err,
			 size_t errlen, int *err_col);
void expr__free(struct expr *e);

bool expr__eval(const struct expr *e, expr_getter get, const void *rec);

/* For many conditions on one record: extract the fields once, then
 * evaluate each condition on the values. expr__values fills vals[i] for
 * every field i set in `used` (expr__fields_used, or'd over the conditions;
 * bit 63: fields 63 to nfields - 1) through the getter, with s never NULL
 * and len set; other entries are left alone. expr__eval_values then reads
 * vals[i] for field i and means exactly what expr__eval does. */
void expr__values(const struct expr_env *env, expr_getter get, const void *rec, uint64_t used,
		  struct expr_value *vals);
bool expr__eval_values(const struct expr *e, const struct expr_value *vals);

/* Many conditions often repeat a comparison (a macro, a list check):
 * expr__share finds the comparisons that occur more than once in es[0..n)
 * (the same field, operator and values; not number or bool ones, which
 * are cheaper than the lookup) and returns how many there are, or
 * -ENOMEM. expr__eval_shared is expr__eval_values that keeps their
 * results in memo, that many bytes zeroed before each record, so each is
 * evaluated once per record. An expr is in one such group at a time: a
 * later expr__share renumbers it. */
int expr__share(struct expr *const *es, size_t n);
bool expr__eval_shared(const struct expr *e, const struct expr_value *vals,
		       unsigned char *memo);
/* expr__eval_shared of each of es[0..n): the indexes of those that hold
 * go to out (room for n), in order; returns how many. */
size_t expr__eval_each(struct expr *const *es, size_t n, const struct expr_value *vals,
		       unsigned char *memo, uint32_t *out);

enum expr_tri { EXPR_FALSE, EXPR_TRUE, EXPR_MAYBE };

/* Three-valued evaluation knowing only the fields set in `known` (bit i:
 * field i; fields beyond 63 are never known): EXPR_FALSE if the condition is
 * false whatever the other fields hold, EXPR_TRUE if true whatever they
 * hold, EXPR_MAYBE otherwise. Lets a caller index rules by a cheap field
 * (the event type) and skip the ones that cannot match. */
enum expr_tri expr__eval_partial(const struct expr *e, uint64_t known, expr_getter get,
				 const void *rec);

/* e for records that agree with rec on the fields in `known` (as for
 * expr__eval_partial): the comparisons on those fields are decided here,
 * once, and left out. The result evaluates like e on such records (with
 * expr__eval, expr__eval_values; expr__fields_used names the fields it
 * still reads); it has no tree for expr__canonical, expr__never_matches or
 * expr__eval_partial. It borrows e's tree: free it (expr__free) before e.
 * *value (if not NULL): EXPR_TRUE or EXPR_FALSE if the result does not
 * depend on the record any more, else EXPR_MAYBE. NULL if out of memory. */
struct expr *expr__bind(const struct expr *e, uint64_t known, expr_getter get, const void *rec,
			enum expr_tri *value);

/* Bit i set if field i is referenced (fields beyond 63 set bit 63). */
uint64_t expr__fields_used(const struct expr *e);

/* A canonical text of the parsed tree (macros and lists expanded, spacing
 * and parentheses normalised): two conditions with equal canonical texts
 * match the same records. Returns like snprintf. */
int expr__canonical(const struct expr *e, char *buf, size_t len);

/* True if the condition can never be true whatever the record: a comparison
 * that no value of the field's type satisfies (a port above 65535, `x and
 * not x` of the same comparison, an empty `in ()`), and/or/not folded. On
 * true, why is filled ("net.dport is at most 65535"). Conservative: false
 * when unsure. */
bool expr__never_matches(const struct expr *e, char *why, size_t whylen);

#endif
