// SPDX-License-Identifier: GPL-2.0
/* docs/RULES.md stays true: its field table is exactly the code's field
 * table, every YAML example in it loads on top of the default pack, and its
 * table of default rules names exactly the rules the pack has. The map table
 * of docs/ARCHITECTURE.md names exactly the maps of bpf/lib/common.bpf.h,
 * with their types and sizes. Run from the repository root (tests/run-tests.sh
 * does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "repo_file.h"
#include "activity.h"
#include "rules.h"
#include "vigil.h"

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

/* ---- docs/ARCHITECTURE.md's map table against bpf/lib/common.bpf.h ---- */

struct code_map {
	char name[32], type[32], entries[64];
};

/* Every map of common.bpf.h with its type and max_entries: the one-line
 * VG_MAP(name, TYPE, flags, entries, key, value) and VG_STORAGE(name, TYPE,
 * value) declarations, and any written out as struct { ... } NAME SEC(".maps"). */
static int code_maps(const char *src, struct code_map *m, int max)
{
	int n = 0;

	for (const char *l = strstr(src, "\nVG_MAP("); l && n < max; l = strstr(l + 1, "\nVG_MAP(")) {
		memset(&m[n], 0, sizeof(m[n]));
		if (sscanf(l, "\nVG_MAP(%31[^,], %31[^,], %*[^,], %63[^,],", m[n].name, m[n].type,
			   m[n].entries) != 3)
			fail_msg("bpf/lib/common.bpf.h: cannot read '%.60s'", l + 1);
		n++;
	}
	for (const char *l = strstr(src, "\nVG_STORAGE("); l && n < max;
	     l = strstr(l + 1, "\nVG_STORAGE(")) {
		memset(&m[n], 0, sizeof(m[n]));
		if (sscanf(l, "\nVG_STORAGE(%31[^,], %31[^,],", m[n].name, m[n].type) != 2)
			fail_msg("bpf/lib/common.bpf.h: cannot read '%.60s'", l + 1);
		n++;
	}
	for (const char *e = strstr(src, "} vg_"); e && n < max; e = strstr(e + 1, "} vg_")) {
		const char *start = e, *t, *me;

		if (sscanf(e, "} %31[a-z0-9_] SEC(\".maps\");", m[n].name) != 1)
			continue;
		while (start > src && strncmp(start, "struct {", 8))
			start--;
		memset(m[n].type, 0, sizeof(m[n].type));
		memset(m[n].entries, 0, sizeof(m[n].entries));
		t = strstr(start, "__uint(type, BPF_MAP_TYPE_");
		if (!t || t > e)
			fail_msg("bpf/lib/common.bpf.h: map %s has no type", m[n].name);
		sscanf(t + 26, "%31[A-Z_0-9]", m[n].type);
		me = strstr(start, "__uint(max_entries, ");
		if (me && me < e)
			sscanf(me + 20, "%63[^)]", m[n].entries);
		n++;
	}
	return n;
}

/* The value of max_entries: a number, a vigil.h constant, or one times a number. */
static unsigned long long entries_value(const char *expr)
{
	static const struct { const char *name; unsigned long long v; } consts[] = {
		{ "VIGIL_MAX_PROTECTED_FILES", VIGIL_MAX_PROTECTED_FILES },
		{ "VIGIL_MAX_TAINTED", VIGIL_MAX_TAINTED },
		{ "VIGIL_MAX_FLOWS", VIGIL_MAX_FLOWS },
		{ "VIGIL_MAX_PIPES", VIGIL_MAX_PIPES },
		{ "VIGIL_MAX_RELAYS", VIGIL_MAX_RELAYS },
		{ "VIGIL_MAX_PTYS", VIGIL_MAX_PTYS },
		{ "VIGIL_MAX_SETS", VIGIL_MAX_SETS },
		{ "VIGIL_MAX_ALLOW_EXES", VIGIL_MAX_ALLOW_EXES },
		{ "VIGIL_MAX_NETFS_ALLOWS", VIGIL_MAX_NETFS_ALLOWS },
		{ "VIGIL_RINGBUF_BYTES", VIGIL_RINGBUF_BYTES },
		{ "VIGIL_CONNECT_SEEN", VIGIL_CONNECT_SEEN },
		{ "VIGIL_MAX_LOST_SOCKS", VIGIL_MAX_LOST_SOCKS },
		{ "VIGIL_MAX_SERVES", VIGIL_MAX_SERVES },
	};
	char name[64] = "";
	unsigned long long v = 0, times = 1;

	if (sscanf(expr, "%llu", &v) == 1)
		return v;
	if (sscanf(expr, "%63[A-Z_0-9] * %llu", name, &times) < 1)
		fail_msg("bpf/lib/common.bpf.h: cannot read max_entries '%s'", expr);
	for (size_t i = 0; i < sizeof(consts) / sizeof(consts[0]); i++)
		if (!strcmp(consts[i].name, name))
			return consts[i].v * times;
	fail_msg("test_docs.c: add %s to entries_value()", name);
	return 0;
}

static const char *doc_type(const char *bpf_type)
{
	static const char *const words[][2] = {
		{ "HASH", "hash" }, { "LRU_HASH", "LRU" }, { "ARRAY", "array" },
		{ "PERCPU_ARRAY", "per-CPU array" }, { "LPM_TRIE", "LPM trie" },
		{ "SK_STORAGE", "sk_storage" }, { "TASK_STORAGE", "task storage" },
		{ "RINGBUF", "ring buffer" }, { "CGROUP_ARRAY", "cgroup array" },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(words[i][0], bpf_type))
			return words[i][1];
	fail_msg("test_docs.c: no doc word for BPF_MAP_TYPE_%s", bpf_type);
	return NULL;
}

static void map_table_matches_code(void **state)
{
	char *src = slurp("bpf/lib/common.bpf.h"), *doc = slurp("docs/ARCHITECTURE.md");
	char *table = strstr(doc, "\n## Maps"), *end;
	struct code_map maps[64];
	int n = code_maps(src, maps, 64), rows = 0;

	if (!table)
		fail_msg("docs/ARCHITECTURE.md has no '## Maps' section");
	end = strstr(table + 1, "\n## ");
	if (end)
		*end = '\0';
	for (int i = 0; i < n; i++) {
		char row[64], want[64], *r, *cell;
		unsigned long long v;

		snprintf(row, sizeof(row), "\n| `%s` | ", maps[i].name);
		r = strstr(table, row);
		if (!r)
			fail_msg("docs/ARCHITECTURE.md: map %s is in bpf/lib/common.bpf.h but not "
				 "in the map table", maps[i].name);
		cell = r + strlen(row);
		snprintf(want, sizeof(want), "%s", doc_type(maps[i].type));
		if (maps[i].entries[0]) {
			v = entries_value(maps[i].entries);
			if (v >= (1ull << 20) && !(v % (1ull << 20)))
				snprintf(want + strlen(want), sizeof(want) - strlen(want), " %llu MiB",
					 v >> 20);
			else if (v >= 1024 && !(v % 1024))
				snprintf(want + strlen(want), sizeof(want) - strlen(want), " %lluK",
					 v >> 10);
			else
				snprintf(want + strlen(want), sizeof(want) - strlen(want), " %llu", v);
		}
		if (strncmp(cell, want, strlen(want)) || cell[strlen(want)] != ' ')
			fail_msg("docs/ARCHITECTURE.md: map %s is '%s' in the code, the table says "
				 "'%.*s'", maps[i].name, want, (int)strcspn(cell, "|"), cell);
	}
	for (const char *l = strstr(table, "\n| `"); l; l = strstr(l + 1, "\n| `")) {
		char name[64];
		bool found = false;

		sscanf(l + 4, "%63[^`]", name);
		for (int i = 0; i < n; i++)
			found |= !strcmp(name, maps[i].name);
		if (!found)
			fail_msg("docs/ARCHITECTURE.md's map table lists %s, which "
				 "bpf/lib/common.bpf.h does not define", name);
		rows++;
	}
	assert_int_equal(rows, n);
	assert_true(n >= 15);
	free(src);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(field_table_matches_code),
		cmocka_unit_test(yaml_examples_load),
		cmocka_unit_test(default_pack_table_matches),
		cmocka_unit_test(map_table_matches_code),
	};
	return cmocka_run_group_tests_name("docs", tests, NULL, NULL);
}
