// SPDX-License-Identifier: GPL-2.0
/* `vigil rules show`: the merged ruleset written back as one rule file.
 * Every scalar is double-quoted, so the text loads back as it is (a test
 * checks it does, with the same counts); each entry names where it came
 * from. */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "rules.h"

static void q(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", f);
		else if (*c == '\t')
			fputs("\\t", f);
		else if (*c < 0x20)
			fprintf(f, "\\x%02x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

static void kv(FILE *f, const char *indent, const char *k, const char *v)
{
	if (!v)
		return;
	fprintf(f, "%s%s: ", indent, k);
	q(f, v);
	fputc('\n', f);
}

static void list(FILE *f, const char *indent, const char *k, char *const *v, size_t n)
{
	if (!n)
		return;
	fprintf(f, "%s%s:\n", indent, k);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s  - ", indent);
		q(f, v[i]);
		fputc('\n', f);
	}
}

static const char *action_word(enum rule_action a)
{
	return a == RULE_KILL ? "kill" : a == RULE_BLOCK ? "block" : "alert";
}

static void from(FILE *f, const struct rule_loc *l)
{
	if (l->file && l->line)
		fprintf(f, "  # %s:%d:%d\n", l->file, l->line, l->column);
	else if (l->file)
		fprintf(f, "  # %s\n", l->file);
}

static void allow(FILE *f, const struct allow_entry *a)
{
	char cidrs[64][64], ports[64][16];
	size_t nc = 0, np = 0;

	for (size_t i = 0; i < a->naddrs; i++) {
		const struct addr_rule *r = &a->addrs[i];
		char ip[48], c[64], p[16];
		size_t k;

		addr__format(r->family, r->addr, ip, sizeof(ip));
		snprintf(c, sizeof(c), "%s/%u", ip, r->prefix_len);
		snprintf(p, sizeof(p), "%u-%u", r->port_lo, r->port_hi);
		for (k = 0; k < nc && strcmp(cidrs[k], c); k++)
			;
		if (k == nc && nc < 64)
			snprintf(cidrs[nc++], sizeof(cidrs[0]), "%s", c);
		for (k = 0; k < np && strcmp(ports[k], p); k++)
			;
		if (k == np && np < 64)
			snprintf(ports[np++], sizeof(ports[0]), "%s", p);
	}
	from(f, &a->loc);
	fprintf(f, "  - name: ");
	q(f, a->name);
	fputc('\n', f);
	if (nc)
		fprintf(f, "    cidr:\n");
	for (size_t i = 0; i < nc; i++) {
		fprintf(f, "      - ");
		q(f, cidrs[i]);
		fputc('\n', f);
	}
	if (nc && !(np == 1 && !strcmp(ports[0], "0-65535"))) {
		fprintf(f, "    ports:\n");
		for (size_t i = 0; i < np; i++)
			fprintf(f, "      - \"%s\"\n", ports[i]);
	}
	list(f, "    ", "mount", a->mounts, a->nmounts);
	list(f, "    ", "source", a->sources, a->nsources);
	list(f, "    ", "exe", a->exes, a->nexes);
}

static void serve(FILE *f, const struct serve_entry *e)
{
	from(f, &e->loc);
	fprintf(f, "  - name: ");
	q(f, e->name);
	fprintf(f, "\n    port: %u\n", e->port);
	list(f, "    ", "exe", e->exes, e->nexes);
	if (e->has_work_budget)
		fprintf(f, "    work_budget: \"%llu\"\n", e->work_budget);
	if (e->has_window) {
		if (e->window_s)
			fprintf(f, "    window: \"%llus\"\n", e->window_s);
		else
			fprintf(f, "    window: \"lifetime\"\n");
	}
}

void rules__dump(const struct ruleset *rs, FILE *f)
{
	fprintf(f, "# vigil rules show: the merged rule set in force, sources in order:\n");
	for (size_t i = 0; i < rs->nfiles; i++)
		fprintf(f, "#   %s\n", rs->files[i]);
	if (rs->nsets)
		fprintf(f, "protect:\n");
	for (size_t i = 0; i < rs->nsets; i++) {
		const struct protect_set *s = &rs->sets[i];

		from(f, &s->loc);
		fprintf(f, "  - name: ");
		q(f, s->name);
		fputc('\n', f);
		kv(f, "    ", "description", s->description);
		list(f, "    ", "paths", s->paths, s->npaths);
		list(f, "    ", "exclude", s->excludes, s->nexcludes);
	}
	if (rs->nsets || rs->has_default_budget)
		fprintf(f, "budget:\n");
	if (rs->has_default_budget) {
		fprintf(f, "  - set: \"*\"\n    bytes: \"%llu\"\n", rs->default_budget);
		if (rs->default_window_s)
			fprintf(f, "    window: \"%llus\"\n", rs->default_window_s);
	}
	for (size_t i = 0; i < rs->nsets; i++) {
		const struct protect_set *s = &rs->sets[i];

		if (!s->has_budget)
			continue;
		fprintf(f, "  - set: ");
		q(f, s->name);
		fprintf(f, "\n    bytes: \"%llu\"\n", s->budget);
		if (s->has_window) {
			if (s->window_s)
				fprintf(f, "    window: \"%llus\"\n", s->window_s);
			else
				fprintf(f, "    window: \"lifetime\"\n");
		}
	}
	if (rs->nallows)
		fprintf(f, "allow:\n");
	for (size_t i = 0; i < rs->nallows; i++)
		allow(f, &rs->allows[i]);
	if (rs->nserves)
		fprintf(f, "serve:\n");
	for (size_t i = 0; i < rs->nserves; i++)
		serve(f, &rs->serves[i]);
	if (rs->nlists)
		fprintf(f, "list:\n");
	for (size_t i = 0; i < rs->nlists; i++) {
		from(f, &rs->lists[i].loc);
		fprintf(f, "  - name: ");
		q(f, rs->lists[i].name);
		fprintf(f, "\n    items:%s\n", rs->lists[i].nitems ? "" : " []");
		for (size_t k = 0; k < rs->lists[i].nitems; k++) {
			fprintf(f, "      - ");
			q(f, rs->lists[i].items[k]);
			fputc('\n', f);
		}
	}
	if (rs->nmacros)
		fprintf(f, "macro:\n");
	for (size_t i = 0; i < rs->nmacros; i++) {
		from(f, &rs->macros[i].loc);
		fprintf(f, "  - name: ");
		q(f, rs->macros[i].name);
		fputc('\n', f);
		kv(f, "    ", "condition", rs->macros[i].condition);
	}
	if (rs->nrules)
		fprintf(f, "rule:\n");
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule_def *r = &rs->rules[i];

		from(f, &r->loc);
		fprintf(f, "  - id: ");
		q(f, r->id);
		fputc('\n', f);
		kv(f, "    ", "description", r->description);
		kv(f, "    ", "condition", r->condition);
		kv(f, "    ", "severity", r->severity);
		kv(f, "    ", "action", action_word(r->action));
		kv(f, "    ", "message", r->message);
		list(f, "    ", "tags", r->tags, r->ntags);
		fprintf(f, "    enabled: %s\n", r->enabled ? "true" : "false");
		if (r->nexceptions)
			fprintf(f, "    exceptions:\n");
		for (size_t k = 0; k < r->nexceptions; k++) {
			fprintf(f, "      - name: ");
			q(f, r->exceptions[k].name);
			fprintf(f, "\n        condition: ");
			q(f, r->exceptions[k].condition);
			fputc('\n', f);
		}
	}
}
