// SPDX-License-Identifier: GPL-2.0
/* Rule conditions: lexer, recursive-descent parser, evaluator, canonical
 * text and constant-false folding. The grammar and the meaning of each
 * operator are in expr.h.
 *
 * Everything a comparison needs is worked out at parse time (field index,
 * parsed number or CIDR as masks, sorted set, path glob or fnmatch), and
 * the tree is flattened into a program of comparisons with jumps (struct
 * insn), so evaluation is a loop with no allocation: one getter call (or
 * one read of a value extracted beforehand) per comparison reached and a
 * few compares. The tree, its strings and its sets live in one arena,
 * freed at once. A rule engine binds the fields it indexes by
 * (expr__bind), extracts a record's fields once for all its rules
 * (expr__values) and evaluates comparisons its rules share once
 * (expr__share).
 *
 * Parse errors carry a 1-based byte column of the offending token; a token
 * missing at the end points one past the last character. Errors inside a
 * macro point at the macro's name in the text being parsed and say where in
 * the macro it went wrong. */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "addr.h"
#include "expr.h"
#include "glob.h"

#define MACRO_DEPTH	16	/* expr.h promises this */
#define NEST_DEPTH	128	/* parentheses, 'not' and macros: bounds recursion */
#define MAX_NODES	16384	/* after macro expansion; doubling macros blow up fast */
#define LINEAR_SET	8	/* sets up to this size are scanned, larger ones bsearched */
#define SUGGEST_MAX	64	/* no suggestion for names longer than this */

enum node_kind { N_AND, N_OR, N_NOT, N_CMP };

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_CONTAINS, OP_STARTSWITH,
	  OP_ENDSWITH, OP_GLOB, OP__N };

static const char *const op_names[OP__N] = {
	[OP_EQ] = "=", [OP_NE] = "!=", [OP_LT] = "<", [OP_LE] = "<=", [OP_GT] = ">",
	[OP_GE] = ">=", [OP_IN] = "in", [OP_CONTAINS] = "contains",
	[OP_STARTSWITH] = "startswith", [OP_ENDSWITH] = "endswith", [OP_GLOB] = "glob",
};

#define B(op) (1u << (op))
#define STR_OPS (B(OP_EQ) | B(OP_NE) | B(OP_IN) | B(OP_CONTAINS) | B(OP_STARTSWITH) | \
		 B(OP_ENDSWITH) | B(OP_GLOB))

/* Which operators each type takes, and how to name the type in messages. */
static const struct {
	unsigned ops;
	const char *name;	/* "number field 'net.dport'" */
} types[] = {
	[EXPR_STR] = { STR_OPS, "string" },
	[EXPR_NUM] = { B(OP_EQ) | B(OP_NE) | B(OP_LT) | B(OP_LE) | B(OP_GT) | B(OP_GE) | B(OP_IN),
		       "number" },
	[EXPR_BOOL] = { B(OP_EQ) | B(OP_NE), "bool" },
	[EXPR_STRLIST] = { STR_OPS, "string list" },
	[EXPR_ADDR] = { B(OP_EQ) | B(OP_NE) | B(OP_IN), "address" },
};

/* Most globs are a literal with a '*' at one or both ends: those skip
 * fnmatch. A path glob keeps glob__match but first looks for its longest
 * literal component, which any matching path contains. */
enum glob_fast {
	G_NONE,		/* fnmatch(str); path glob: lit (if set) must occur */
	G_EQ,		/* "lit" */
	G_PREFIX,	/* "lit*" */
	G_SUFFIX,	/* "*lit" */
	G_SUBSTR,	/* "*lit*" */
};

/* An address rule as masks over 16 bytes, IPv4 as ::ffff:a.b.c.d */
struct net {
	uint64_t net[2], mask[2];
	bool v4;
};

struct node;
/* A comparison on one field's value */
typedef bool (*cmp_fn)(const struct node *c, const struct expr_value *v);

struct node {
	cmp_fn fn;		/* N_CMP: set once the node is complete */
	unsigned char kind;	/* enum node_kind */
	unsigned char type;	/* N_CMP: enum expr_type */
	unsigned char op;	/* N_CMP: enum op */
	bool path_glob;		/* OP_GLOB: glob__match, else fnmatch */
	unsigned char fast;	/* OP_GLOB: enum glob_fast */
	unsigned field;		/* N_CMP: index into env->fields */
	uint32_t leaves;	/* comparisons in this subtree */
	size_t n;		/* kids, set items, or the string's length */
	const char *lit;	/* OP_GLOB: see enum glob_fast */
	size_t litlen;
	const uint32_t *first;	/* OP_IN on strings, n > LINEAR_SET: where items
				 * starting with byte b are, [first[b], first[b + 1]) */
	const size_t *lens;	/* OP_IN on strings, n <= LINEAR_SET: their lengths */
	const struct net *nets;	/* EXPR_ADDR: u.rules as masks, same order */
	union {
		struct node **kids;		/* N_AND, N_OR */
		struct node *kid;		/* N_NOT */
		const char *str;		/* one string */
		const char **strs;		/* OP_IN: sorted, unique */
		int64_t num;			/* one number, or bool 0/1 */
		int64_t *nums;			/* OP_IN: sorted, unique */
		struct addr_rule *rules;	/* n rules (OP_EQ: one host) */
	} u;
	const char *fname;	/* N_CMP, for canonical text */
	struct node *next;	/* sibling chain while parsing */
};

/* Bump allocator: the whole tree is freed with the expr. */
struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

/* The tree flattened for evaluation: the comparisons in order, each with
 * where to go next if it holds and if not (and, or and not become jumps,
 * with the same short-circuit order as a recursive walk). Evaluation
 * starts at `start`; index nprog is true, nprog + 1 false; jumps only go
 * forward. */
struct insn {
	cmp_fn fn;
	const struct node *c;
	unsigned field;		/* c->field, without the pointer chase */
	uint32_t t, f;
	uint32_t memo;		/* expr__share: 1 + its memo byte, 0 if none */
};

struct expr {
	struct node *root;	/* NULL if bound (expr__bind) */
	uint64_t used;
	struct chunk *arena;
	struct insn *prog;
	uint32_t nprog, start;
	/* expr__bind: the program, in the same allocation so a rule loop
	 * reads one or two cache lines per rule */
	struct insn bound[];
};

static void *arena_alloc(struct chunk **arena, size_t n)
{
	struct chunk *c = *arena;
	size_t a = _Alignof(max_align_t);

	n = (n + a - 1) & ~(a - 1);
	if (!c || c->size - c->used < n) {
		/* small first: most trees fit in 1 KiB, and rule packs
		 * evaluate faster when their trees sit close together */
		size_t size = c ? 8192 : 1024;

		if (size < n)
			size = n;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = *arena;
		*arena = c;
	}
	c->used += n;
	return (char *)c->data + c->used - n;
}

static void arena_free(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

/* --- lexer --- */

enum tok_kind { T_END, T_LP, T_RP, T_COMMA, T_OP, T_WORD, T_STR };

struct tok {
	enum tok_kind kind;
	enum op op;		/* T_OP */
	size_t off, len;	/* raw extent in the text */
	char *s;		/* T_WORD, T_STR (unquoted): NUL-terminated */
};

/* State shared by a parse and the macro parses it starts. */
struct global {
	const struct expr_env *env;
	struct expr *e;
	char *err;
	size_t errlen;
	bool failed;
	bool located;		/* message names its macros: add no "in macro" */
	size_t col;		/* of the error, in the text being parsed */
	struct chunk *scratch;	/* tokens and items: freed after the parse */
	const char *stack[MACRO_DEPTH];	/* macros being expanded */
	int nstack;
	int depth;
	unsigned nodes;
};

struct parser {
	struct global *g;
	const char *text;
	const char *p;		/* next character to lex */
	struct tok cur, prev;
	bool have_peek;
	struct tok peek;
};

__attribute__((format(printf, 3, 4)))
static void fail(struct parser *ps, size_t off, const char *fmt, ...)
{
	struct global *g = ps->g;
	va_list ap;

	if (g->failed)
		return;
	g->failed = true;
	g->col = off + 1;
	if (g->err && g->errlen) {
		va_start(ap, fmt);
		vsnprintf(g->err, g->errlen, fmt, ap);
		va_end(ap);
	}
}

static bool is_word_char(const char *w, const char *p)
{
	unsigned char c = (unsigned char)*p;

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c >= 0x80)
		return true;
	if (strchr("_./:*?[]-+@%~", c) && c)
		return true;
	/* a negated bracket in a glob: [!a] or [^a] */
	return (c == '!' || c == '^') && p > w && p[-1] == '[';
}

/* Token text for messages: "end of condition" or 'text' (cut if long). */
static const char *describe(const struct tok *t, const char *text, char *buf, size_t len)
{
	if (t->kind == T_END)
		return "end of condition";
	snprintf(buf, len, "'%.*s%s'", t->len > 40 ? 40 : (int)t->len, text + t->off,
		 t->len > 40 ? "..." : "");
	return buf;
}

/* From the tree's arena, or with scratch from the parse's. */
static void *alloc(struct parser *ps, size_t n, bool scratch)
{
	void *p = arena_alloc(scratch ? &ps->g->scratch : &ps->g->e->arena, n);

	if (!p)
		fail(ps, (size_t)(ps->p - ps->text), "out of memory");
	return p;
}

static char *dup(struct parser *ps, const char *s, size_t n, bool scratch)
{
	char *d = alloc(ps, n + 1, scratch);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* Lex one token at ps->p into *t. False (error set) on a lexical error. */
static bool lex(struct parser *ps, struct tok *t)
{
	const char *p = ps->p, *start;

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
		p++;
	start = p;
	memset(t, 0, sizeof(*t));
	t->off = (size_t)(p - ps->text);
	switch (*p) {
	case '\0':
		t->kind = T_END;
		break;
	case '(':
	case ')':
	case ',':
		t->kind = *p == '(' ? T_LP : *p == ')' ? T_RP : T_COMMA;
		p++;
		break;
	case '=':
		t->kind = T_OP;
		t->op = OP_EQ;
		p += p[1] == '=' ? 2 : 1;
		break;
	case '<':
	case '>':
		t->kind = T_OP;
		t->op = p[1] == '=' ? (*p == '<' ? OP_LE : OP_GE) : (*p == '<' ? OP_LT : OP_GT);
		p += p[1] == '=' ? 2 : 1;
		break;
	case '!':
		if (p[1] != '=') {
			fail(ps, t->off, "unexpected '!' (use 'not' or '!=')");
			return false;
		}
		t->kind = T_OP;
		t->op = OP_NE;
		p += 2;
		break;
	case '\'':
	case '"': {
		char q = *p++, *d;
		const char *e;

		/* \\ \' \" unescape; any other backslash stays literal so
		 * glob escapes like '\*' read as written */
		for (e = p; *e && *e != q; e++)
			if (*e == '\\' && (e[1] == '\\' || e[1] == '\'' || e[1] == '"'))
				e++;
		if (!*e) {
			fail(ps, t->off, "unterminated string (missing closing %c)", q);
			return false;
		}
		t->s = d = alloc(ps, (size_t)(e - p) + 1, true);
		if (!d)
			return false;
		for (; p < e; p++) {
			if (*p == '\\' && (p[1] == '\\' || p[1] == '\'' || p[1] == '"'))
				p++;
			*d++ = *p;
		}
		*d = '\0';
		p++;
		t->kind = T_STR;
		break;
	}
	default:
		if (!is_word_char(p, p)) {
			unsigned char c = (unsigned char)*p;

			if (c >= 0x20 && c < 0x7f)
				fail(ps, t->off, "unexpected character '%c' (quote values that contain it)",
				     c);
			else
				fail(ps, t->off, "unexpected character 0x%02x", c);
			return false;
		}
		while (*p && is_word_char(start, p))
			p++;
		t->kind = T_WORD;
		t->s = dup(ps, start, (size_t)(p - start), true);
		if (!t->s)
			return false;
	}
	t->len = (size_t)(p - start);
	ps->p = p;
	return true;
}

static bool next(struct parser *ps)
{
	ps->prev = ps->cur;
	if (ps->have_peek) {
		ps->cur = ps->peek;
		ps->have_peek = false;
		return true;
	}
	return lex(ps, &ps->cur);
}

static const struct tok *peek(struct parser *ps)
{
	if (!ps->have_peek) {
		if (!lex(ps, &ps->peek))
			return NULL;
		ps->have_peek = true;
	}
	return &ps->peek;
}

static bool is_word(const struct tok *t, const char *w)
{
	return t->kind == T_WORD && !strcmp(t->s, w);
}

static const char *const keywords[] = { "and", "or", "not", "in", "contains", "startswith",
					"endswith", "glob", "true", "false" };

static bool is_keyword(const struct tok *t)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (is_word(t, keywords[i]))
			return true;
	return false;
}

/* For a word that is a keyword in the wrong case ("AND", "In"). */
static const char *case_hint(const struct tok *t)
{
	for (size_t i = 0; t->kind == T_WORD && i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (!strcasecmp(t->s, keywords[i]))
			return "; keywords are lower case";
	return "";
}

/* The operator a token stands for, or -1. */
static int tok_op(const struct tok *t)
{
	if (t->kind == T_OP)
		return (int)t->op;
	if (t->kind != T_WORD)
		return -1;
	for (int op = OP_IN; op < OP__N; op++)
		if (!strcmp(t->s, op_names[op]))
			return op;
	return -1;
}

/* Macro and list names: a letter or '_' first, so that numbers, addresses
 * and paths never look like one (and canonical text reparses the same). */
static bool is_ident(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* --- name lookup --- */

static int find_field(const struct expr_env *env, const char *name)
{
	for (size_t i = 0; i < env->nfields; i++)
		if (!strcmp(env->fields[i].name, name))
			return (int)i;
	return -1;
}

/* Optimal string alignment distance (Levenshtein plus transpositions). */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];

	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return UINT_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* The closest field name, if close enough to be a plausible typo: within a
 * third of the name's length, or the same last component ("uid" for
 * "proc.uid"). */
static const char *suggest_field(const struct expr_env *env, const char *name)
{
	size_t len = strlen(name);
	unsigned best = UINT_MAX, limit = len / 3 > 2 ? (unsigned)(len / 3) : 2;
	const char *pick = NULL;

	for (size_t i = 0; i < env->nfields; i++) {
		const char *f = env->fields[i].name, *dot = strrchr(f, '.');
		unsigned d = edit_distance(name, f);

		if (dot && !strcmp(dot + 1, name) && d > limit)
			d = limit;
		if (d < best) {
			best = d;
			pick = f;
		}
	}
	return best <= limit ? pick : NULL;
}

static cmp_fn pick_fn(const struct node *n);

/* --- tree building --- */

static struct node *new_node(struct parser *ps, enum node_kind kind, size_t off)
{
	struct node *n;

	if (++ps->g->nodes > MAX_NODES) {
		fail(ps, off, "condition too large (more than %d nodes after macro expansion)",
		     MAX_NODES);
		return NULL;
	}
	n = alloc(ps, sizeof(*n), false);
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->kind = (unsigned char)kind;
	return n;
}

/* An and/or node over a chain of operands; nested nodes of the same kind
 * are spliced in so grouping does not change the tree. */
static struct node *make_group(struct parser *ps, enum node_kind kind, struct node *chain,
			       size_t off)
{
	struct node *n, *k;
	size_t count = 0, i = 0;

	if (!chain->next)
		return chain;
	for (k = chain; k; k = k->next)
		count += k->kind == kind ? k->n : 1;
	n = new_node(ps, kind, off);
	if (!n)
		return NULL;
	n->u.kids = alloc(ps, count * sizeof(*n->u.kids), false);
	if (!n->u.kids)
		return NULL;
	for (k = chain; k; k = k->next) {
		if (k->kind == kind) {
			memcpy(n->u.kids + i, k->u.kids, k->n * sizeof(*n->u.kids));
			i += k->n;
		} else {
			n->u.kids[i++] = k;
		}
	}
	n->n = count;
	for (i = 0; i < count; i++)
		n->leaves += n->u.kids[i]->leaves;
	return n;
}

/* --- values --- */

struct item {
	const char *s;
	size_t off;		/* of the token, or of the list name */
	const char *list;	/* expanded from this list, or NULL */
	struct item *next;
};

/* Prefix for value errors: "list 'ports': " when the value came from a list. */
#define ITEM_FMT "%s%s%s"
#define ITEM_ARGS(it) (it)->list ? "in list '" : "", (it)->list ? (it)->list : "", \
		      (it)->list ? "': " : ""

static bool parse_number(struct parser *ps, const struct node *c, const struct item *it,
			 int64_t *out)
{
	const char *s = it->s, *digits = s + (*s == '-');
	unsigned long long v;
	char msg[160];
	int err;

	if (*digits < '0' || *digits > '9') {
		fail(ps, it->off, ITEM_FMT "'%s' is a number: '%s' is not", ITEM_ARGS(it),
		     c->fname, s);
		return false;
	}
	err = addr__parse_size(digits, &v, msg, sizeof(msg));
	if (!err && v > (unsigned long long)INT64_MAX + (*s == '-'))
		err = -ERANGE;
	if (err == -ERANGE) {
		fail(ps, it->off, ITEM_FMT "'%s': '%s' is out of range", ITEM_ARGS(it), c->fname,
		     s);
		return false;
	}
	if (err) {
		fail(ps, it->off, ITEM_FMT "'%s': %s", ITEM_ARGS(it), c->fname, msg);
		return false;
	}
	/* -(2^63) has no positive counterpart: negate in unsigned */
	*out = *s == '-' ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static bool parse_addr(struct parser *ps, const struct node *c, const struct item *it,
		       struct addr_rule *r)
{
	char msg[160];

	if (addr__parse_rule(it->s, r, msg, sizeof(msg))) {
		fail(ps, it->off, ITEM_FMT "'%s' is an address: %s", ITEM_ARGS(it), c->fname, msg);
		return false;
	}
	/* conditions see addresses only; ports are separate fields */
	if (r->port_lo != 0 || r->port_hi != 65535) {
		fail(ps, it->off, ITEM_FMT "'%s' is an address: '%s' has a port", ITEM_ARGS(it),
		     c->fname, it->s);
		return false;
	}
	if (c->op == OP_EQ || c->op == OP_NE) {
		if (r->prefix_len != (r->family == AF_INET ? 32u : 128u)) {
			fail(ps, it->off, "'%s' takes an address, not a network: use '%s in (%s)'",
			     op_names[c->op], c->fname, it->s);
			return false;
		}
	}
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_num(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_rule(const void *a, const void *b)
{
	const struct addr_rule *x = a, *y = b;
	int d;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	d = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (d)
		return d;
	return (x->prefix_len > y->prefix_len) - (x->prefix_len < y->prefix_len);
}

/* Sort and drop duplicates: sets then compare (and print) the same however
 * they were written. */
static size_t sort_unique(void *base, size_t n, size_t size,
			  int (*cmp)(const void *, const void *))
{
	char *b = base;
	size_t out = 0;

	if (n < 2)
		return n;
	qsort(base, n, size, cmp);
	for (size_t i = 1; i < n; i++) {
		if (cmp(b + out * size, b + i * size)) {
			out++;
			if (out != i)
				memcpy(b + out * size, b + i * size, size);
		}
	}
	return out + 1;
}

static bool has_meta(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
			return true;
	return false;
}

/* Fill c->fast and c->lit for a glob (see enum glob_fast). */
static bool glob_shortcut(struct parser *ps, struct node *c)
{
	const char *g = c->u.str, *best = NULL;
	size_t n = c->n, bestlen = 0;

	if (c->path_glob) {
		for (const char *p = g; *p;) {
			size_t l = strcspn(p, "/");

			if (l > bestlen && !has_meta(p, l)) {
				best = p;
				bestlen = l;
			}
			p += l + (p[l] == '/');
		}
		c->fast = G_NONE;
	} else if (!has_meta(g, n)) {
		best = g, bestlen = n, c->fast = G_EQ;
	} else if (n >= 2 && g[0] == '*' && g[n - 1] == '*' && !has_meta(g + 1, n - 2)) {
		best = g + 1, bestlen = n - 2, c->fast = G_SUBSTR;
	} else if (g[0] == '*' && !has_meta(g + 1, n - 1)) {
		best = g + 1, bestlen = n - 1, c->fast = G_SUFFIX;
	} else if (g[n - 1] == '*' && !has_meta(g, n - 1)) {
		best = g, bestlen = n - 1, c->fast = G_PREFIX;
	}
	if (!best)
		return true;
	c->lit = dup(ps, best, bestlen, false);
	c->litlen = bestlen;
	return c->lit != NULL;
}

/* Bucket a large sorted string set by first byte: a lookup then searches
 * the few items sharing the value's first byte. */
static bool index_first_bytes(struct parser *ps, struct node *c)
{
	uint32_t *f = alloc(ps, 257 * sizeof(*f), false);
	size_t i = 0;

	if (!f)
		return false;
	if (c->n > UINT32_MAX) {
		fail(ps, 0, "set too large");
		return false;
	}
	for (unsigned b = 0; b < 256; b++) {
		f[b] = (uint32_t)i;
		while (i < c->n && (unsigned char)c->u.strs[i][0] == b)
			i++;
	}
	f[256] = (uint32_t)i;
	c->first = f;
	return true;
}

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The rules of an address comparison as masks, for e_addr. */
static bool make_nets(struct parser *ps, struct node *c)
{
	struct net *nets = alloc(ps, (c->n ? c->n : 1) * sizeof(*nets), false);

	if (!nets)
		return false;
	for (size_t i = 0; i < c->n; i++) {
		const struct addr_rule *r = &c->u.rules[i];
		unsigned char a[16], m[16] = { 0 };
		unsigned bits = r->prefix_len;

		nets[i].v4 = r->family == AF_INET;
		if (nets[i].v4) {
			memcpy(a, v4mapped, 12);
			memcpy(a + 12, r->addr, 4);
			bits += 96;
		} else {
			memcpy(a, r->addr, 16);
		}
		for (unsigned b = 0; b < 16 && bits; b++) {
			unsigned k = bits < 8 ? bits : 8;

			m[b] = (unsigned char)(0xff00u >> k);
			bits -= k;
		}
		for (unsigned b = 0; b < 16; b++)
			a[b] &= m[b];
		memcpy(nets[i].net, a, 16);
		memcpy(nets[i].mask, m, 16);
	}
	c->nets = nets;
	return true;
}

/* One item of a set, parsed into out (an element of the set's array). */
typedef bool (*item_fn)(struct parser *ps, const struct node *c, const struct item *it,
			void *out);

static bool item_str(struct parser *ps, const struct node *c, const struct item *it, void *out)
{
	return (*(char **)out = dup(ps, it->s, strlen(it->s), false)) != NULL;
}

static bool item_num(struct parser *ps, const struct node *c, const struct item *it, void *out)
{
	return parse_number(ps, c, it, out);
}

static bool item_addr(struct parser *ps, const struct node *c, const struct item *it, void *out)
{
	return parse_addr(ps, c, it, out);
}

/* The n items of an `in` set, parsed one by one into an array of `size`
 * bytes each, sorted and without duplicates (c->n). */
static void *parse_items(struct parser *ps, struct node *c, const struct item *items, size_t n,
		       size_t size, item_fn one, int (*cmp)(const void *, const void *))
{
	char *v = alloc(ps, (n ? n : 1) * size, false);
	size_t i = 0;

	if (!v)
		return NULL;
	for (const struct item *it = items; it; it = it->next)
		if (!one(ps, c, it, v + size * i++))
			return NULL;
	c->n = sort_unique(v, n, size, cmp);
	return v;
}

/* Turn the items of one comparison into its value(s). */
static bool set_values(struct parser *ps, struct node *c, struct item *items, size_t n)
{
	size_t i = 0;

	switch (c->type) {
	case EXPR_STR:
	case EXPR_STRLIST:
		if (c->op != OP_IN) {
			c->u.str = dup(ps, items->s, strlen(items->s), false);
			if (!c->u.str)
				return false;
			c->n = strlen(c->u.str);
			if (c->op == OP_GLOB && items->s[0] == '/') {
				char msg[200];

				if (glob__validate(items->s, msg, sizeof(msg))) {
					fail(ps, items->off, "invalid path glob: %s", msg);
					return false;
				}
				c->path_glob = true;
			}
			return c->op != OP_GLOB || glob_shortcut(ps, c);
		}
		c->u.strs = parse_items(ps, c, items, n, sizeof(*c->u.strs), item_str, cmp_str);
		if (!c->u.strs)
			return false;
		if (c->n > LINEAR_SET)
			return index_first_bytes(ps, c);
		c->lens = alloc(ps, (c->n ? c->n : 1) * sizeof(*c->lens), false);
		for (i = 0; c->lens && i < c->n; i++)
			((size_t *)c->lens)[i] = strlen(c->u.strs[i]);
		return c->lens != NULL;
	case EXPR_NUM:
		if (c->op != OP_IN)
			return parse_number(ps, c, items, &c->u.num);
		c->u.nums = parse_items(ps, c, items, n, sizeof(*c->u.nums), item_num, cmp_num);
		return c->u.nums != NULL;
	case EXPR_BOOL:
		if (strcmp(items->s, "true") && strcmp(items->s, "false")) {
			fail(ps, items->off, "'%s' is a bool (true or false): '%s' is not", c->fname,
			     items->s);
			return false;
		}
		c->u.num = items->s[0] == 't';
		return true;
	case EXPR_ADDR:
		c->u.rules = parse_items(ps, c, items, n, sizeof(*c->u.rules), item_addr, cmp_rule);
		return c->u.rules && make_nets(ps, c);
	}
	return false;
}

static struct item *new_item(struct parser *ps, const char *s, size_t off, const char *list)
{
	struct item *it = alloc(ps, sizeof(*it), true);

	if (!it)
		return NULL;
	*it = (struct item){ .s = s, .off = off, .list = list };
	return it;
}

static bool lookup_list(struct parser *ps, const char *name, const char *const **items,
			size_t *n)
{
	const struct expr_env *env = ps->g->env;

	*items = NULL;
	*n = 0;
	return is_ident(name) && env->list && env->list(env->ctx, name, items, n) &&
	       (*items || !*n);
}

/* Append a list's items to the chain at *tail. */
static bool expand_list(struct parser *ps, const char *name, size_t off, const char *const *v,
			size_t nv, struct item ***tail, size_t *count)
{
	for (size_t i = 0; i < nv; i++) {
		struct item *it = new_item(ps, v[i] ? v[i] : "", off, name);

		if (!it)
			return false;
		**tail = it;
		*tail = &it->next;
		(*count)++;
	}
	return true;
}

/* After 'in': "(" item, ... ")" or a list name. */
static bool parse_set(struct parser *ps, struct node *c)
{
	struct item *items = NULL, **tail = &items;
	const char *const *v;
	size_t nv, count = 0, open;
	char d[64];

	if (ps->cur.kind != T_LP) {
		if (ps->cur.kind == T_WORD && is_ident(ps->cur.s) && !is_keyword(&ps->cur)) {
			if (!lookup_list(ps, ps->cur.s, &v, &nv)) {
				fail(ps, ps->cur.off, "undefined list '%s'", ps->cur.s);
				return false;
			}
			if (!expand_list(ps, ps->cur.s, ps->cur.off, v, nv, &tail, &count))
				return false;
			return set_values(ps, c, items, count) && next(ps);
		}
		fail(ps, ps->cur.off, "expected '(' or a list name after 'in', found %s",
		     describe(&ps->cur, ps->text, d, sizeof(d)));
		return false;
	}
	open = ps->cur.off;
	if (!next(ps))
		return false;
	while (ps->cur.kind != T_RP) {
		if (ps->cur.kind == T_WORD && lookup_list(ps, ps->cur.s, &v, &nv)) {
			if (!expand_list(ps, ps->cur.s, ps->cur.off, v, nv, &tail, &count))
				return false;
		} else if (ps->cur.kind == T_WORD || ps->cur.kind == T_STR) {
			struct item *it = new_item(ps, ps->cur.s, ps->cur.off, NULL);

			if (!it)
				return false;
			*tail = it;
			tail = &it->next;
			count++;
		} else if (ps->cur.kind == T_END) {
			fail(ps, open, "unbalanced '(': no matching ')'");
			return false;
		} else {
			fail(ps, ps->cur.off, "expected a value after '%.*s', found %s",
			     (int)ps->prev.len, ps->text + ps->prev.off,
			     describe(&ps->cur, ps->text, d, sizeof(d)));
			return false;
		}
		if (!next(ps))
			return false;
		if (ps->cur.kind == T_COMMA) {
			if (!next(ps))
				return false;
			if (ps->cur.kind == T_RP) {	/* "(a, b,)": a value is missing */
				fail(ps, ps->cur.off, "expected a value after ',', found ')'");
				return false;
			}
			continue;
		}
		if (ps->cur.kind == T_RP)
			break;
		if (ps->cur.kind == T_END)
			fail(ps, open, "unbalanced '(': no matching ')'");
		else
			fail(ps, ps->cur.off, "expected ',' or ')' in the list, found %s",
			     describe(&ps->cur, ps->text, d, sizeof(d)));
		return false;
	}
	return set_values(ps, c, items, count) && next(ps);
}

/* FIELD [OP value]; ps->cur is the field name. */
static struct node *parse_comparison(struct parser *ps, unsigned field)
{
	const struct expr_field *f = &ps->g->env->fields[field];
	struct node *c = new_node(ps, N_CMP, ps->cur.off);
	struct item one;
	char d[64], ops[96] = "";
	int op;

	if (!c)
		return NULL;
	if ((unsigned)f->type > EXPR_ADDR) {
		fail(ps, ps->cur.off, "field '%s' has an unknown type %d", f->name, (int)f->type);
		return NULL;
	}
	if (!next(ps))
		return NULL;
	c->type = (unsigned char)f->type;
	c->field = field;
	c->fname = dup(ps, f->name, strlen(f->name), false);
	if (!c->fname)
		return NULL;
	ps->g->e->used |= 1ULL << (field < 63 ? field : 63);

	op = tok_op(&ps->cur);
	if (op < 0) {
		if (f->type == EXPR_BOOL) {	/* bare bool field: FIELD = true */
			c->op = OP_EQ;
			c->u.num = 1;
			return c;
		}
		fail(ps, ps->cur.off, "expected an operator after '%s', found %s%s", f->name,
		     describe(&ps->cur, ps->text, d, sizeof(d)), case_hint(&ps->cur));
		return NULL;
	}
	if (!(types[f->type].ops & B(op))) {
		for (int o = 0; o < OP__N; o++) {
			if (types[f->type].ops & B(o)) {
				strcat(ops, *ops ? " " : "");
				strcat(ops, op_names[o]);
			}
		}
		fail(ps, ps->cur.off, "'%s' does not apply to %s field '%s' (use %s)", op_names[op],
		     types[f->type].name, f->name, ops);
		return NULL;
	}
	c->op = (unsigned char)op;
	if (!next(ps))
		return NULL;
	if (op == OP_IN)
		return parse_set(ps, c) ? c : NULL;
	if (ps->cur.kind != T_WORD && ps->cur.kind != T_STR) {
		fail(ps, ps->cur.off, "expected a value after '%.*s', found %s",
		     (int)ps->prev.len, ps->text + ps->prev.off,
		     describe(&ps->cur, ps->text, d, sizeof(d)));
		return NULL;
	}
	one = (struct item){ .s = ps->cur.s, .off = ps->cur.off };
	if (!set_values(ps, c, &one, 1) || !next(ps))
		return NULL;
	return c;
}

static struct node *parse_text(struct global *g, const char *text);

/* One more level of parentheses, 'not' or macro (the caller undoes it). */
static bool deeper(struct parser *ps, size_t off)
{
	if (++ps->g->depth <= NEST_DEPTH)
		return true;
	fail(ps, off, "condition nests more than %d levels deep", NEST_DEPTH);
	return false;
}

/* A macro's condition, parsed from its own text. */
static struct node *expand_macro(struct parser *ps, const char *name, const char *body)
{
	struct global *g = ps->g;
	size_t off = ps->cur.off;
	struct node *n;
	char chain[256] = "";

	for (int i = 0; i < g->nstack; i++) {
		if (strcmp(g->stack[i], name))
			continue;
		for (int j = i + 1; j < g->nstack; j++) {
			size_t l = strlen(chain);

			snprintf(chain + l, sizeof(chain) - l, "%s'%s'", j > i + 1 ? " -> " : "",
				 g->stack[j]);
		}
		if (*chain)
			fail(ps, off, "macro '%s' refers to itself through %s", name, chain);
		else
			fail(ps, off, "macro '%s' refers to itself", name);
		g->located = true;
		return NULL;
	}
	if (g->nstack == MACRO_DEPTH) {
		fail(ps, off, "macro '%s' nests more than %d macros deep", g->stack[0],
		     MACRO_DEPTH);
		g->located = true;
		return NULL;
	}
	if (!deeper(ps, off))
		return NULL;
	g->stack[g->nstack++] = name;
	n = parse_text(g, body);
	g->nstack--;
	g->depth--;
	if (!n) {
		/* point at the macro's name here and say where inside it it
		 * went wrong, unless the message already names the macros */
		size_t inner = g->col;
		char *msg;

		g->col = off + 1;
		if (g->located || !g->err || !g->errlen)
			return NULL;
		msg = strdup(g->err);
		if (msg) {
			snprintf(g->err, g->errlen, "in macro '%s' (column %zu): %s", name, inner,
				 msg);
			free(msg);
		}
		return NULL;
	}
	return next(ps) ? n : NULL;
}

static struct node *parse_or(struct parser *ps);

static struct node *parse_primary(struct parser *ps)
{
	const struct expr_env *env = ps->g->env;
	const struct tok *t = &ps->cur;
	const char *body;
	char d[64], a[64];
	int field;

	if (t->kind == T_LP) {
		size_t open = t->off;
		struct node *n;

		if (!deeper(ps, open) || !next(ps))
			return NULL;
		if (ps->cur.kind == T_RP) {
			fail(ps, ps->cur.off, "empty parentheses");
			return NULL;
		}
		n = parse_or(ps);
		if (!n)
			return NULL;
		ps->g->depth--;
		if (ps->cur.kind == T_END) {
			fail(ps, open, "unbalanced '(': no matching ')'");
			return NULL;
		}
		if (ps->cur.kind != T_RP) {
			fail(ps, ps->cur.off, "expected 'and', 'or' or ')', found %s",
			     describe(&ps->cur, ps->text, d, sizeof(d)));
			return NULL;
		}
		return next(ps) ? n : NULL;
	}
	if (t->kind == T_WORD && !is_keyword(t)) {
		const struct tok *pk;

		field = find_field(env, t->s);
		if (field >= 0) {
			struct node *c = parse_comparison(ps, (unsigned)field);

			if (c) {
				c->fn = pick_fn(c);
				c->leaves = 1;
			}
			return c;
		}
		if (is_ident(t->s) && env->macro && env->macro(env->ctx, t->s, &body) && body)
			return expand_macro(ps, t->s, body);
		pk = peek(ps);
		if (!pk)
			return NULL;
		if (strchr(t->s, '.') || tok_op(pk) >= 0) {
			const char *s = suggest_field(env, t->s);

			if (s)
				fail(ps, t->off, "unknown field '%s' (did you mean '%s'?)", t->s, s);
			else
				fail(ps, t->off, "unknown field '%s'", t->s);
		} else if (is_ident(t->s)) {
			fail(ps, t->off, "undefined macro '%s'", t->s);
		} else {
			fail(ps, t->off, "expected a condition, found %s",
			     describe(t, ps->text, d, sizeof(d)));
		}
		return NULL;
	}
	if (ps->prev.kind != T_END || ps->prev.len)
		fail(ps, t->off, "expected a condition after %s, found %s",
		     describe(&ps->prev, ps->text, a, sizeof(a)),
		     describe(t, ps->text, d, sizeof(d)));
	else
		fail(ps, t->off, "expected a condition, found %s", describe(t, ps->text, d, sizeof(d)));
	return NULL;
}

static struct node *parse_not(struct parser *ps)
{
	struct node *k, *n;
	size_t off = ps->cur.off;

	if (!is_word(&ps->cur, "not"))
		return parse_primary(ps);
	if (!deeper(ps, off) || !next(ps))
		return NULL;
	k = parse_not(ps);
	if (!k)
		return NULL;
	ps->g->depth--;
	if (k->kind == N_NOT)	/* not not x is x */
		return k->u.kid;
	n = new_node(ps, N_NOT, off);
	if (n) {
		n->u.kid = k;
		n->leaves = k->leaves;
	}
	return n;
}

/* One level of and/or: operands from sub() separated by the keyword. */
static struct node *parse_list(struct parser *ps, const char *kw, enum node_kind kind,
			       struct node *(*sub)(struct parser *))
{
	struct node *head, *tail, *k;
	size_t off = ps->cur.off;

	head = tail = sub(ps);
	if (head)
		head->next = NULL;
	while (tail && is_word(&ps->cur, kw)) {
		if (!next(ps) || !(k = sub(ps)))
			return NULL;
		k->next = NULL;
		tail->next = k;
		tail = k;
	}
	return tail ? make_group(ps, kind, head, off) : NULL;
}

static struct node *parse_and(struct parser *ps)
{
	return parse_list(ps, "and", N_AND, parse_not);
}

static struct node *parse_or(struct parser *ps)
{
	return parse_list(ps, "or", N_OR, parse_and);
}

/* A whole condition: the top-level text or a macro's. */
static struct node *parse_text(struct global *g, const char *text)
{
	struct parser ps = { .g = g, .text = text, .p = text };
	struct node *n;
	char d[64];

	if (!lex(&ps, &ps.cur))
		return NULL;
	if (ps.cur.kind == T_END) {
		fail(&ps, ps.cur.off, "empty condition");
		return NULL;
	}
	n = parse_or(&ps);
	if (!n)
		return NULL;
	if (ps.cur.kind == T_RP)
		fail(&ps, ps.cur.off, "unbalanced ')': no matching '('");
	else if (ps.cur.kind != T_END)
		fail(&ps, ps.cur.off, "unexpected %s after a condition (expected 'and', 'or' or the end)%s",
		     describe(&ps.cur, ps.text, d, sizeof(d)), case_hint(&ps.cur));
	return g->failed ? NULL : n;
}

/* Lay out n's comparisons from *pos on: n true goes to t, false to f. A
 * subtree's comparisons are contiguous, so the next sibling starts
 * n->leaves further on. */
static void flatten(struct insn *prog, uint32_t *pos, const struct node *n, uint32_t t,
		    uint32_t f)
{
	switch (n->kind) {
	case N_NOT:
		flatten(prog, pos, n->u.kid, f, t);
		return;
	case N_AND:
	case N_OR:
		for (size_t i = 0; i < n->n; i++) {
			const struct node *k = n->u.kids[i];
			bool last = i + 1 == n->n;
			uint32_t next = *pos + k->leaves;	/* the next kid */

			if (n->kind == N_AND)
				flatten(prog, pos, k, last ? t : next, f);
			else
				flatten(prog, pos, k, t, last ? f : next);
		}
		return;
	}
	prog[(*pos)++] = (struct insn){ .fn = n->fn, .c = n, .field = n->field, .t = t, .f = f };
}

static bool compile(struct expr *e)
{
	struct insn *prog = arena_alloc(&e->arena, e->root->leaves * sizeof(*prog));
	uint32_t pos = 0;

	if (!prog)
		return false;
	flatten(prog, &pos, e->root, e->root->leaves, e->root->leaves + 1);
	e->prog = prog;
	e->nprog = pos;
	return true;
}

struct expr *expr__parse(const char *text, const struct expr_env *env, char *err,
			 size_t errlen, int *err_col)
{
	struct global g = { .env = env, .err = err, .errlen = errlen };
	struct expr *e = calloc(1, sizeof(*e));

	if (err && errlen)
		err[0] = '\0';
	if (err_col)
		*err_col = 0;
	if (!e || !text || !env) {
		if (err && errlen)
			snprintf(err, errlen, "%s", e ? "no condition" : "out of memory");
		if (err_col)
			*err_col = 1;
		free(e);
		return NULL;
	}
	g.e = e;
	e->root = parse_text(&g, text);
	arena_free(g.scratch);
	if (e->root && !compile(e)) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		g.col = 1;
		e->root = NULL;
	}
	if (!e->root) {
		if (err_col)
			*err_col = g.col > INT_MAX ? INT_MAX : (int)g.col;
		expr__free(e);
		return NULL;
	}
	return e;
}

void expr__free(struct expr *e)
{
	if (!e)
		return;
	arena_free(e->arena);
	free(e);
}

/* --- evaluation --- */

/* Field values and constants are short and most compares end in the first
 * bytes: inline loops beat calls to the libc routines here (half the time
 * for `proc.name = curl` in a 50-rule loop). */
static inline int str_cmp(const char *a, const char *b)
{
	while (*a == *b && *a) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static inline bool streq(const char *a, const char *b)
{
	return !str_cmp(a, b);
}

/* n bytes equal, both at least n long: word compares, no loop to mispredict */
static inline bool mem_eq(const char *a, const char *b, size_t n)
{
	uint64_t x, y, x2, y2;
	uint32_t u, w, u2, w2;

	if (n > 16)
		return !memcmp(a, b, n);
	if (n >= 8) {	/* two overlapping words cover 8..16 */
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&x2, a + n - 8, 8);
		memcpy(&y2, b + n - 8, 8);
		return !((x ^ y) | (x2 ^ y2));
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&w, b, 4);
		memcpy(&u2, a + n - 4, 4);
		memcpy(&w2, b + n - 4, 4);
		return !((u ^ w) | (u2 ^ w2));
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* s is len bytes long, t tn */
static inline bool starts_with(const char *s, size_t len, const char *t, size_t tn)
{
	return len >= tn && mem_eq(s, t, tn);
}

static inline bool ends_with(const char *s, size_t len, const char *t, size_t tn)
{
	return len >= tn && mem_eq(s + len - tn, t, tn);
}

/* strstr with both lengths known: memchr to each candidate first byte */
static bool contains(const char *s, size_t len, const char *t, size_t tn)
{
	const char *p = s, *end = s + len;

	if (!tn)
		return true;
	while ((size_t)(end - p) >= tn) {
		p = memchr(p, t[0], (size_t)(end - p) - tn + 1);
		if (!p)
			return false;
		if (mem_eq(p, t, tn))
			return true;
		p++;
	}
	return false;
}

static bool str_in(const struct node *c, const char *s, size_t len)
{
	unsigned char b = (unsigned char)s[0];
	size_t lo, hi;

	if (c->n <= LINEAR_SET) {
		for (size_t i = 0; i < c->n; i++)
			if (len == c->lens[i] && mem_eq(s, c->u.strs[i], len))
				return true;
		return false;
	}
	lo = c->first[b];
	hi = c->first[b + 1];
	if (!b)		/* "" sorts first, alone in its bucket */
		return lo < hi;
	while (lo < hi) {	/* bsearch(3) from the second byte, no indirect calls */
		size_t mid = lo + (hi - lo) / 2;
		int d = str_cmp(s + 1, c->u.strs[mid] + 1);

		if (!d)
			return true;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

static bool glob_match(const struct node *c, const char *s, size_t len)
{
	switch (c->fast) {
	case G_EQ:
		return len == c->litlen && mem_eq(s, c->lit, len);
	case G_PREFIX:
		return starts_with(s, len, c->lit, c->litlen);
	case G_SUFFIX:
		return ends_with(s, len, c->lit, c->litlen);
	case G_SUBSTR:
		return contains(s, len, c->lit, c->litlen);
	}
	if (c->path_glob)
		return (!c->lit || contains(s, len, c->lit, c->litlen)) && glob__match(c->u.str, s);
	return !fnmatch(c->u.str, s, 0);
}

/* One string against a string operator (!= is handled by the caller). */
static bool str_match(const struct node *c, const char *s, size_t len)
{
	switch (c->op) {
	case OP_EQ:
		return len == c->n && mem_eq(s, c->u.str, len);
	case OP_IN:
		return str_in(c, s, len);
	case OP_CONTAINS:	/* substring for a string; callers do lists */
		return contains(s, len, c->u.str, c->n);
	case OP_STARTSWITH:
		return starts_with(s, len, c->u.str, c->n);
	case OP_ENDSWITH:
		return ends_with(s, len, c->u.str, c->n);
	case OP_GLOB:
		return glob_match(c, s, len);
	}
	return false;
}

static bool num_in(const struct node *c, int64_t v)
{
	if (c->n <= LINEAR_SET) {
		for (size_t i = 0; i < c->n; i++)
			if (v == c->u.nums[i])
				return true;
		return false;
	}
	for (size_t lo = 0, hi = c->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (v == c->u.nums[mid])
			return true;
		if (v < c->u.nums[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* A string's length: from expr__values, or (LEN_UNKNOWN, the getter path)
 * worked out only if the first bytes did not settle the comparison. */
#define LEN_UNKNOWN SIZE_MAX

static inline size_t slen(const struct expr_value *v)
{
	return v->len != LEN_UNKNOWN ? v->len : strlen(v->s);
}

/* Each comparison evaluates through a function picked for its type and
 * operator at parse time: one indirect call instead of three switches. */
static bool e_str_eq(const struct node *c, const struct expr_value *v)
{
	return v->s[0] == c->u.str[0] && slen(v) == c->n && mem_eq(v->s, c->u.str, c->n);
}

static bool e_str_ne(const struct node *c, const struct expr_value *v)
{
	return !e_str_eq(c, v);
}

static bool e_str_in(const struct node *c, const struct expr_value *v)
{
	return str_in(c, v->s, slen(v));
}

static bool e_str(const struct node *c, const struct expr_value *v)
{
	return str_match(c, v->s, slen(v));
}

/* Any element; contains means "has an element equal to", != "has none". */
static bool e_strlist(const struct node *c, const struct expr_value *v)
{
	bool any = false;

	for (size_t i = 0; v->list && i < v->nlist && !any; i++) {
		const char *s = v->list[i] ? v->list[i] : "";

		if (c->op == OP_NE || c->op == OP_CONTAINS)
			any = streq(s, c->u.str);
		else
			any = str_match(c, s, strlen(s));
	}
	return c->op == OP_NE ? !any : any;
}

#define NUM_FN(name, expr) \
static bool name(const struct node *c, const struct expr_value *v) \
{ \
	return expr; \
}
NUM_FN(e_num_eq, v->n == c->u.num)
NUM_FN(e_num_ne, v->n != c->u.num)
NUM_FN(e_num_lt, v->n < c->u.num)
NUM_FN(e_num_le, v->n <= c->u.num)
NUM_FN(e_num_gt, v->n > c->u.num)
NUM_FN(e_num_ge, v->n >= c->u.num)
NUM_FN(e_num_in, num_in(c, v->n))
NUM_FN(e_bool, ((v->n != 0) == (c->u.num != 0)) == (c->op == OP_EQ))

/* What addr__rule_matches does for a condition's rules (no ports), on
 * masks: IPv4 is compared as ::ffff:a.b.c.d, so an IPv4 rule matches an
 * IPv4 or IPv4-mapped address and an IPv6 rule an IPv6 one. */
static bool e_addr(const struct node *c, const struct expr_value *v)
{
	unsigned char b[16];
	uint64_t a[2];
	bool any = false, v4;

	if (v->family == AF_INET) {
		memcpy(b, v4mapped, 12);
		memcpy(b + 12, v->addr, 4);
		v4 = true;
	} else if (v->family == AF_INET6) {
		memcpy(b, v->addr, 16);
		v4 = !memcmp(b, v4mapped, 12);
	} else {
		return c->op == OP_NE;
	}
	memcpy(a, b, 16);
	for (size_t i = 0; i < c->n && !any; i++) {
		const struct net *r = &c->nets[i];

		any = (r->v4 ? v4 : v->family == AF_INET6) &&
		      !(((a[0] ^ r->net[0]) & r->mask[0]) | ((a[1] ^ r->net[1]) & r->mask[1]));
	}
	return c->op == OP_NE ? !any : any;
}

static cmp_fn pick_fn(const struct node *n)
{
	static const cmp_fn num[OP__N] = {
		[OP_EQ] = e_num_eq, [OP_NE] = e_num_ne, [OP_LT] = e_num_lt, [OP_LE] = e_num_le,
		[OP_GT] = e_num_gt, [OP_GE] = e_num_ge, [OP_IN] = e_num_in,
	};

	switch (n->type) {
	case EXPR_STR:
		return n->op == OP_EQ ? e_str_eq : n->op == OP_NE ? e_str_ne :
		       n->op == OP_IN ? e_str_in : e_str;
	case EXPR_STRLIST:
		return e_strlist;
	case EXPR_NUM:
		return num[n->op];
	case EXPR_BOOL:
		return e_bool;
	default:
		return e_addr;
	}
}

/* A comparison on a value straight from a getter (which may leave s NULL
 * and len unset). */
static inline bool cmp_get(const struct node *c, expr_getter get, const void *rec)
{
	struct expr_value v;

	memset(&v, 0, sizeof(v));
	get(rec, c->field, &v);
	if (!v.s)
		v.s = "";
	v.len = LEN_UNKNOWN;
	return c->fn(c, &v);
}

bool expr__eval(const struct expr *e, expr_getter get, const void *rec)
{
	uint32_t i;

	if (!e || !e->prog || !get)
		return false;
	i = e->start;
	while (i < e->nprog) {
		const struct insn *p = &e->prog[i];

		i = cmp_get(p->c, get, rec) ? p->t : p->f;
	}
	return i == e->nprog;
}

/* The field after i in used (fields from 63 on share bit 63), or n */
static size_t next_used(uint64_t used, size_t i, size_t n)
{
	uint64_t above;

	if (i >= 63)
		return i + 1 < n ? i + 1 : n;
	above = used & ~((2ull << i) - 1);
	return above && (size_t)__builtin_ctzll(above) < n ? (size_t)__builtin_ctzll(above) : n;
}

void expr__values(const struct expr_env *env, expr_getter get, const void *rec, uint64_t used,
		  struct expr_value *vals)
{
	size_t n = env->nfields, first = used ? (size_t)__builtin_ctzll(used) : n;

	if (first > n)
		first = n;
	for (size_t i = first; i < n; i = next_used(used, i, n)) {
		struct expr_value *v = &vals[i];

		memset(v, 0, sizeof(*v));
		get(rec, (unsigned)i, v);
		if (!v->s)
			v->s = "";
		/* strings of a fresh record are often not cached yet: ask for
		 * them all before the first strlen waits for one */
		if (env->fields[i].type == EXPR_STR)
			__builtin_prefetch(v->s);
	}
	for (size_t i = first; i < n; i = next_used(used, i, n))
		if (env->fields[i].type == EXPR_STR)
			vals[i].len = strlen(vals[i].s);
}

/* memo: see expr__share; NULL evaluates every comparison */
static inline bool run(const struct expr *e, const struct expr_value *vals, unsigned char *memo)
{
	const struct insn *prog;
	uint32_t i, n;

	if (!e || !e->prog || !vals)
		return false;
	i = e->start;
	prog = e->prog;
	n = e->nprog;
	while (i < n) {
		const struct insn *p = &prog[i];
		bool r;

		if (!memo || !p->memo) {
			r = p->fn(p->c, &vals[p->field]);
		} else if (memo[p->memo - 1]) {		/* 1 false, 2 true */
			r = memo[p->memo - 1] == 2;
		} else {
			r = p->fn(p->c, &vals[p->field]);
			memo[p->memo - 1] = (unsigned char)(1 + r);
		}
		i = r ? p->t : p->f;
	}
	return i == n;
}

bool expr__eval_values(const struct expr *e, const struct expr_value *vals)
{
	return run(e, vals, NULL);
}

bool expr__eval_shared(const struct expr *e, const struct expr_value *vals, unsigned char *memo)
{
	return run(e, vals, memo);
}

size_t expr__eval_each(struct expr *const *es, size_t n, const struct expr_value *vals,
		       unsigned char *memo, uint32_t *out)
{
	size_t k = 0;

	for (size_t j = 0; j < n; j++)
		if (run(es[j], vals, memo))
			out[k++] = (uint32_t)j;
	return k;
}

static enum expr_tri partial(const struct node *n, uint64_t known, expr_getter get,
			     const void *rec)
{
	enum expr_tri r, acc;

	switch (n->kind) {
	case N_NOT:
		r = partial(n->u.kid, known, get, rec);
		return r == EXPR_MAYBE ? r : r == EXPR_TRUE ? EXPR_FALSE : EXPR_TRUE;
	case N_AND:
	case N_OR:
		acc = n->kind == N_AND ? EXPR_TRUE : EXPR_FALSE;
		for (size_t i = 0; i < n->n; i++) {
			r = partial(n->u.kids[i], known, get, rec);
			if (n->kind == N_AND && r == EXPR_FALSE)
				return EXPR_FALSE;
			if (n->kind == N_OR && r == EXPR_TRUE)
				return EXPR_TRUE;
			if (r == EXPR_MAYBE)
				acc = EXPR_MAYBE;
		}
		return acc;
	}
	if (n->field >= 64 || !(known & (1ull << n->field)))
		return EXPR_MAYBE;
	return cmp_get(n, get, rec) ? EXPR_TRUE : EXPR_FALSE;
}

enum expr_tri expr__eval_partial(const struct expr *e, uint64_t known, expr_getter get,
				 const void *rec)
{
	if (!e || !e->root || !get)
		return EXPR_MAYBE;
	return partial(e->root, known, get, rec);
}

/* Known comparisons are decided and jumped over: to[i] is where evaluation
 * really goes on arriving at i (i itself if i stays). A comparison whose
 * two ways end up at the same place goes too. What stays is renumbered in
 * order, so jumps still only go forward. */
struct expr *expr__bind(const struct expr *e, uint64_t known, expr_getter get, const void *rec,
			enum expr_tri *value)
{
	uint32_t n, kept = 0, *to, *idx;
	struct insn *prog;
	struct expr *b = NULL;
	bool *reach;

	if (!e || !e->prog || (known && !get))
		return NULL;
	n = e->nprog;
	to = calloc(n + 2, sizeof(*to));
	idx = calloc(n + 2, sizeof(*idx));
	reach = calloc(n + 2, sizeof(*reach));
	if (!to || !idx || !reach)
		goto out;
	to[n] = n;
	to[n + 1] = n + 1;
	for (uint32_t i = n; i-- > 0;) {
		const struct insn *p = &e->prog[i];

		if (p->field < 64 && (known & (1ull << p->field)))
			to[i] = cmp_get(p->c, get, rec) ? to[p->t] : to[p->f];
		else if (to[p->t] == to[p->f])
			to[i] = to[p->t];
		else
			to[i] = i;
	}
	reach[to[e->start]] = true;
	for (uint32_t i = 0; i < n; i++) {
		if (!reach[i])
			continue;
		idx[i] = kept++;
		reach[to[e->prog[i].t]] = reach[to[e->prog[i].f]] = true;
	}
	idx[n] = kept;
	idx[n + 1] = kept + 1;

	b = calloc(1, sizeof(*b) + kept * sizeof(*prog));
	if (!b)
		goto out;
	prog = b->bound;
	for (uint32_t i = 0; i < n; i++) {
		const struct insn *p = &e->prog[i];

		if (!reach[i])
			continue;
		prog[idx[i]] = (struct insn){ .fn = p->fn, .c = p->c, .field = p->field,
					      .t = idx[to[p->t]], .f = idx[to[p->f]] };
		b->used |= 1ull << (p->field < 63 ? p->field : 63);
	}
	b->prog = prog;
	b->nprog = kept;
	b->start = idx[to[e->start]];
	if (value)
		*value = kept ? EXPR_MAYBE : b->start == kept ? EXPR_TRUE : EXPR_FALSE;
out:
	free(to);
	free(idx);
	free(reach);
	return b;
}

uint64_t expr__fields_used(const struct expr *e)
{
	return e ? e->used : 0;
}

/* --- canonical text --- */

struct out {
	char *buf;
	size_t len, pos;	/* pos counts past len, like snprintf */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->pos < o->len) {
		size_t room = o->len - o->pos;

		memcpy(o->buf + o->pos, s, n < room ? n : room);
	}
	o->pos += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_quoted(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			put(o, "\\", 1);
		put(o, p, 1);
	}
	put(o, "\"", 1);
}

static void put_num(struct out *o, int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%lld", (long long)v);
	puts_(o, b);
}

static void put_addr(struct out *o, const struct addr_rule *r)
{
	char b[INET6_ADDRSTRLEN + 8];
	unsigned max = r->family == AF_INET ? 32 : 128;

	if (addr__format(r->family, r->addr, b, sizeof(b))) {
		puts_(o, "?");
		return;
	}
	if (r->prefix_len != max)
		snprintf(b + strlen(b), sizeof(b) - strlen(b), "/%u", r->prefix_len);
	puts_(o, b);
}

static void put_value(struct out *o, const struct node *c, size_t i)
{
	switch (c->type) {
	case EXPR_STR:
	case EXPR_STRLIST:
		put_quoted(o, c->op == OP_IN ? c->u.strs[i] : c->u.str);
		break;
	case EXPR_NUM:
		put_num(o, c->op == OP_IN ? c->u.nums[i] : c->u.num);
		break;
	case EXPR_BOOL:
		puts_(o, c->u.num ? "true" : "false");
		break;
	case EXPR_ADDR:
		put_addr(o, &c->u.rules[i]);
		break;
	}
}

static void put_cmp(struct out *o, const struct node *c, enum op op)
{
	puts_(o, c->fname);
	put(o, " ", 1);
	puts_(o, op_names[op]);
	put(o, " ", 1);
	if (op != OP_IN) {
		put_value(o, c, 0);
		return;
	}
	put(o, "(", 1);
	for (size_t i = 0; i < c->n; i++) {
		if (i)
			put(o, ",", 1);
		put_value(o, c, i);
	}
	put(o, ")", 1);
}

static void put_node(struct out *o, const struct node *n)
{
	switch (n->kind) {
	case N_AND:
	case N_OR:
		put(o, "(", 1);
		for (size_t i = 0; i < n->n; i++) {
			if (i)
				puts_(o, n->kind == N_AND ? " and " : " or ");
			put_node(o, n->u.kids[i]);
		}
		put(o, ")", 1);
		break;
	case N_NOT:
		puts_(o, "not ");
		if (n->u.kid->kind == N_CMP)
			put(o, "(", 1);
		put_node(o, n->u.kid);
		if (n->u.kid->kind == N_CMP)
			put(o, ")", 1);
		break;
	default:
		put_cmp(o, n, (enum op)n->op);
	}
}

static int finish(struct out *o)
{
	if (o->len)
		o->buf[o->pos < o->len ? o->pos : o->len - 1] = '\0';
	return o->pos > INT_MAX ? -1 : (int)o->pos;
}

int expr__canonical(const struct expr *e, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = buf ? len : 0 };

	if (!e || !e->root) {
		if (o.len)
			buf[0] = '\0';
		return -1;
	}
	put_node(&o, e->root);
	return finish(&o);
}

/* --- constant folding --- */

/* Structural equality: equal trees have equal canonical texts. */
static bool same_values(const struct node *a, const struct node *b)
{
	size_t n = a->op == OP_IN || a->type == EXPR_ADDR ? a->n : 1;

	if (a->type != b->type || a->field != b->field || a->path_glob != b->path_glob ||
	    (a->op == OP_IN) != (b->op == OP_IN) || a->n != b->n)
		return false;
	for (size_t i = 0; i < n; i++) {
		switch (a->type) {
		case EXPR_STR:
		case EXPR_STRLIST:
			if (strcmp(a->op == OP_IN ? a->u.strs[i] : a->u.str,
				   b->op == OP_IN ? b->u.strs[i] : b->u.str))
				return false;
			break;
		case EXPR_NUM:
			if ((a->op == OP_IN ? a->u.nums[i] : a->u.num) !=
			    (b->op == OP_IN ? b->u.nums[i] : b->u.num))
				return false;
			break;
		case EXPR_BOOL:
			if (a->u.num != b->u.num)
				return false;
			break;
		case EXPR_ADDR:
			if (cmp_rule(&a->u.rules[i], &b->u.rules[i]))
				return false;
			break;
		}
	}
	return true;
}

static bool same(const struct node *a, const struct node *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case N_AND:
	case N_OR:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++)
			if (!same(a->u.kids[i], b->u.kids[i]))
				return false;
		return true;
	case N_NOT:
		return same(a->u.kid, b->u.kid);
	default:
		return a->op == b->op && same_values(a, b);
	}
}

/* b is exactly "not a": an explicit not, = against != of one value, or a
 * bool field against its opposite (x = false is x != true). */
static bool negates(const struct node *a, const struct node *b)
{
	if (a->kind == N_NOT)
		return same(a->u.kid, b);
	if (b->kind == N_NOT)
		return same(b->u.kid, a);
	if (a->kind != N_CMP || b->kind != N_CMP)
		return false;
	if (a->type == EXPR_BOOL)
		return b->type == EXPR_BOOL && a->field == b->field &&
		       ((a->op == OP_EQ) == !!a->u.num) != ((b->op == OP_EQ) == !!b->u.num);
	return ((a->op == OP_EQ && b->op == OP_NE) || (a->op == OP_NE && b->op == OP_EQ)) &&
	       same_values(a, b);
}

enum fold { F_UNKNOWN, F_FALSE, F_TRUE };

/* snprintf for reasons, which may well be cut */
__attribute__((format(printf, 3, 4)))
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Cut a canonical text for a message. */
static const char *text_of(const struct node *n, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };

	put_node(&o, n);
	finish(&o);
	if (o.pos >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

static enum fold fold_cmp(const struct node *c, char *why, size_t len)
{
	if (c->op == OP_IN && c->n == 0) {
		say(why, len, "'%s in ()' has an empty set", c->fname);
		return F_FALSE;
	}
	if (c->type == EXPR_NUM) {
		if ((c->op == OP_LT && c->u.num == INT64_MIN) ||
		    (c->op == OP_GT && c->u.num == INT64_MAX)) {
			say(why, len, "'%s' is never %s %lld", c->fname,
			    c->op == OP_LT ? "below" : "above", (long long)c->u.num);
			return F_FALSE;
		}
		if ((c->op == OP_GE && c->u.num == INT64_MIN) ||
		    (c->op == OP_LE && c->u.num == INT64_MAX)) {
			say(why, len, "'%s' is always %s %lld", c->fname,
			    c->op == OP_GE ? "at least" : "at most", (long long)c->u.num);
			return F_TRUE;
		}
	}
	/* every string has "" in it; a list may be empty, so only for strings */
	if (c->type == EXPR_STR && c->n == 0 &&
	    (c->op == OP_STARTSWITH || c->op == OP_ENDSWITH || c->op == OP_CONTAINS)) {
		say(why, len, "every '%s' %s \"\"", c->fname,
		    c->op == OP_STARTSWITH ? "starts with" :
		    c->op == OP_ENDSWITH ? "ends with" : "contains");
		return F_TRUE;
	}
	return F_UNKNOWN;
}

/* Whether n is constant, and why. Kids of a group are compared pairwise for
 * "x and not x": capped so a huge macro expansion stays cheap. */
static enum fold fold(const struct node *n, char *why, size_t len)
{
	char t[128], sub[256];
	bool is_and = n->kind == N_AND;
	enum fold r, all = is_and ? F_TRUE : F_FALSE, dominant = is_and ? F_FALSE : F_TRUE;

	switch (n->kind) {
	case N_NOT:
		r = fold(n->u.kid, sub, sizeof(sub));
		if (r != F_UNKNOWN)
			say(why, len, "%s %s: %s", text_of(n->u.kid, t, sizeof(t)),
			    r == F_TRUE ? "always holds" : "never holds", sub);
		return r == F_TRUE ? F_FALSE : r == F_FALSE ? F_TRUE : F_UNKNOWN;
	case N_AND:
	case N_OR:
		/* one false kid makes an and false, one true kid an or true */
		for (size_t i = 0; i < n->n; i++) {
			r = fold(n->u.kids[i], sub, sizeof(sub));
			if (r == dominant) {
				say(why, len, "%s", sub);
				return r;
			}
			if (r == F_UNKNOWN)
				all = F_UNKNOWN;
		}
		if (all != F_UNKNOWN) {
			if (is_and)
				say(why, len, "every part always holds");
			else
				say(why, len, "no alternative can hold (the last: %s)", sub);
			return all;
		}
		if (n->n > 1024)
			return F_UNKNOWN;
		for (size_t i = 0; i < n->n; i++) {
			for (size_t j = i + 1; j < n->n; j++) {
				if (!negates(n->u.kids[i], n->u.kids[j]))
					continue;
				say(why, len, "%s %s", text_of(n->u.kids[i], t, sizeof(t)),
				    is_and ? "and its negation are both required" :
				    "or its negation always holds");
				return is_and ? F_FALSE : F_TRUE;
			}
		}
		return F_UNKNOWN;
	default:
		return fold_cmp(n, why, len);
	}
}

bool expr__never_matches(const struct expr *e, char *why, size_t whylen)
{
	char buf[256];

	if (!e || !e->root)
		return false;
	if (fold(e->root, buf, sizeof(buf)) != F_FALSE)
		return false;
	if (why && whylen)
		snprintf(why, whylen, "%s", buf);
	return true;
}

/* --- shared comparisons --- */

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/* Equal comparisons (same()) hash equal: field, operator and first value. */
static uint64_t cmp_hash(const struct node *c)
{
	uint64_t h = hash_mix(c->field, (uint64_t)c->op << 8 | c->type);
	const char *s = NULL;

	h = hash_mix(h, c->n);
	switch (c->type) {
	case EXPR_STR:
	case EXPR_STRLIST:
		s = c->op != OP_IN ? c->u.str : c->n ? c->u.strs[0] : NULL;
		break;
	case EXPR_NUM:
		h = hash_mix(h, (uint64_t)(c->op != OP_IN ? c->u.num : c->n ? c->u.nums[0] : 0));
		break;
	case EXPR_BOOL:
		h = hash_mix(h, (uint64_t)c->u.num);
		break;
	case EXPR_ADDR:
		if (c->n)
			h = hash_mix(h, c->nets[0].net[0] ^ c->nets[0].net[1] ^ c->nets[0].mask[1]);
		break;
	}
	for (; s && *s; s++)
		h = hash_mix(h, (unsigned char)*s);
	return h;
}

/* Numbers and bools compare faster than a memo is looked up. */
static bool worth_sharing(const struct node *c)
{
	return c->type == EXPR_STR || c->type == EXPR_STRLIST || c->type == EXPR_ADDR;
}

int expr__share(struct expr *const *es, size_t n)
{
	struct insn **tab;
	size_t total = 0, cap = 16;
	uint32_t slots = 0;

	for (size_t k = 0; k < n; k++)
		if (es[k] && es[k]->prog)
			total += es[k]->nprog;
	while (cap < 2 * total)
		cap *= 2;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		for (uint32_t i = 0; es[k] && es[k]->prog && i < es[k]->nprog; i++) {
			struct insn *p = &es[k]->prog[i];
			size_t j;

			p->memo = 0;
			if (!worth_sharing(p->c))
				continue;
			for (j = cmp_hash(p->c) & (cap - 1); tab[j]; j = (j + 1) & (cap - 1))
				if (same(tab[j]->c, p->c))
					break;
			if (!tab[j]) {
				tab[j] = p;
				continue;
			}
			if (!tab[j]->memo) {	/* the second one: it gets a byte */
				if (slots == INT_MAX)
					continue;
				tab[j]->memo = ++slots;
			}
			p->memo = tab[j]->memo;
		}
	}
	free(tab);
	return (int)slots;
}
