// SPDX-License-Identifier: GPL-2.0
/* docs/RULES.md stays true: its field table is exactly the code's field
 * table, every YAML example in it loads on top of the default pack, and its
 * table of default rules names exactly the rules the pack has. Run from the
 * repository root (tests/run-tests.sh does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "activity.h"
#include "rules.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The text of section "## title" up to the next "## ". */
static char *section(const char *doc, const char *title)
{
	char head[128];
	const char *s, *e;

	snprintf(head, sizeof(head), "\n## %s\n", title);
	s = strstr(doc, head);
	if (!s)
		fail_msg("docs/RULES.md has no section '## %s'", title);
	s += strlen(head);
	e = strstr(s, "\n## ");
	return strndup(s, e ? (size_t)(e - s) : strlen(s));
}

/* First-column names of table rows "| `name` | ...". */
static int table_names(const char *text, char names[][64], int max)
{
	int n = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *a, *b;

		if (strncmp(l, "| `", 3))
			continue;
		a = l + 3;
		b = strchr(a, '`');
		if (!b || n >= max)
			continue;
		snprintf(names[n++], 64, "%.*s", (int)(b - a), a);
	}
	return n;
}

static void field_table_matches_code(void **state)
{
	static const char *const types[] = { "string", "number", "bool", "list", "address" };
	char *doc = slurp("docs/RULES.md"), *fields = section(doc, "Fields");
	char names[128][64];
	int n = table_names(fields, names, 128);

	for (size_t i = 0; i < activity_nfields; i++) {
		char row[256];

		snprintf(row, sizeof(row), "| `%s` | %s |", activity_fields[i].name,
			 types[activity_fields[i].type]);
		if (!strstr(fields, row))
			fail_msg("docs/RULES.md: field %s (%s) is in the code but not in the "
				 "Fields table", activity_fields[i].name, types[activity_fields[i].type]);
	}
	for (int k = 0; k < n; k++) {
		bool found = false;

		for (size_t i = 0; i < activity_nfields; i++)
			found |= !strcmp(names[k], activity_fields[i].name);
		if (!found)
			fail_msg("docs/RULES.md documents field '%s', which the code does not have",
				 names[k]);
	}
	assert_int_equal((size_t)n, activity_nfields);
	free(fields);
	free(doc);
}

static void yaml_examples_load(void **state)
{
	char *doc = slurp("docs/RULES.md");
	int examples = 0;

	for (char *p = strstr(doc, "```yaml\n"); p; p = strstr(p, "```yaml\n")) {
		char *start = p + 8, *end = strstr(start, "```"), name[64], err[1024];
		struct ruleset rs;

		assert_non_null(end);
		snprintf(name, sizeof(name), "RULES.md example %d", ++examples);
		rules__init(&rs);
		assert_int_equal(rules__load_defaults(&rs, err, sizeof(err)), 0);
		if (rules__load_string(&rs, name, start, end - start, err, sizeof(err)))
			fail_msg("docs/RULES.md YAML example %d does not load: %s", examples, err);
		rules__free(&rs);
		p = end + 3;
	}
	assert_true(examples >= 8);
	free(doc);
}

static void default_pack_table_matches(void **state)
{
	char *doc = slurp("docs/RULES.md"), *pack = section(doc, "The default pack");
	char names[64][64], err[1024];
	struct ruleset rs;
	int n = table_names(pack, names, 64), rules_in_table = 0;

	rules__init(&rs);
	assert_int_equal(rules__load_defaults(&rs, err, sizeof(err)), 0);
	for (size_t i = 0; i < rs.nrules; i++) {
		char row[128];

		snprintf(row, sizeof(row), "| `%s` |", rs.rules[i].id);
		if (!strstr(pack, row))
			fail_msg("default rule %s is not in docs/RULES.md's default pack table",
				 rs.rules[i].id);
	}
	for (int k = 0; k < n; k++) {
		if (rules__rule_index(&rs, names[k]) >= 0)
			rules_in_table++;
		else if (rules__set_index(&rs, names[k]) < 0)
			fail_msg("docs/RULES.md lists '%s', which the default pack does not have",
				 names[k]);
	}
	assert_int_equal((size_t)rules_in_table, rs.nrules);
	rules__free(&rs);
	free(pack);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(field_table_matches_code),
		cmocka_unit_test(yaml_examples_load),
		cmocka_unit_test(default_pack_table_matches),
	};
	return cmocka_run_group_tests_name("docs", tests, NULL, NULL);
}
