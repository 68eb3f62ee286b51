// SPDX-License-Identifier: GPL-2.0
/* Rule loading: sets, allowlist, budgets, merging by name, and precise
 * file:line:column errors with nothing half-applied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "rules.h"

static int load(struct ruleset *rs, const char *text, char *err, size_t len)
{
	return rules__load_string(rs, "t.yaml", text, strlen(text), err, len);
}

static void parses_sets_allow_budget(void **state)
{
	struct ruleset rs;
	char err[512] = "";
	const char *y =
		"protect:\n"
		"  - name: llm\n"
		"    paths: [\"/models/**\", \"/w/*.safetensors\"]\n"
		"    exclude: [\"**/*.md\"]\n"
		"allow:\n"
		"  - name: registry\n"
		"    cidr: [10.0.0.0/8, \"[2001:db8::]/32\"]\n"
		"    ports: [443, 8000-8100]\n"
		"budget:\n"
		"  - set: llm\n"
		"    bytes: 10MiB\n"
		"  - set: \"*\"\n"
		"    bytes: 2KiB\n";

	rules__init(&rs);
	assert_int_equal(load(&rs, y, err, sizeof(err)), 0);
	assert_int_equal(rs.nsets, 1);
	assert_string_equal(rs.sets[0].name, "llm");
	assert_int_equal(rs.sets[0].npaths, 2);
	assert_int_equal(rs.sets[0].nexcludes, 1);
	assert_true(rs.sets[0].has_budget);
	assert_int_equal(rs.sets[0].budget, 10ull << 20);
	assert_true(rs.has_default_budget);
	assert_int_equal(rs.default_budget, 2048);
	assert_int_equal(rs.nallows, 1);
	assert_int_equal(rs.allows[0].naddrs, 4);	/* 2 CIDRs x 2 port ranges */
	assert_int_equal(rs.allows[0].addrs[0].family, AF_INET);
	assert_int_equal(rs.allows[0].addrs[0].port_lo, 443);
	assert_int_equal(rs.allows[0].addrs[1].port_lo, 8000);
	assert_int_equal(rs.allows[0].addrs[1].port_hi, 8100);
	assert_int_equal(rs.allows[0].addrs[2].family, AF_INET6);
	rules__free(&rs);
}

static void later_files_append_by_name(void **state)
{
	struct ruleset rs;
	char err[512];

	rules__init(&rs);
	assert_int_equal(load(&rs, "protect:\n  - name: a\n    paths: /x/**\n", err, sizeof(err)), 0);
	assert_int_equal(load(&rs, "protect:\n  - name: a\n    paths: [/y/**]\n"
			      "  - name: b\n    paths: [/z/*]\n", err, sizeof(err)), 0);
	assert_int_equal(rs.nsets, 2);
	assert_int_equal(rs.sets[0].npaths, 2);
	assert_string_equal(rs.sets[0].paths[1], "/y/**");
	assert_int_equal(rules__set_index(&rs, "b"), 1);
	rules__free(&rs);
}

static void expect_error(const char *yaml, const char *where, const char *what)
{
	struct ruleset rs;
	char err[512] = "";

	rules__init(&rs);
	assert_int_equal(load(&rs, "protect:\n  - name: keep\n    paths: /k/**\n", err,
			      sizeof(err)), 0);
	assert_int_not_equal(load(&rs, yaml, err, sizeof(err)), 0);
	if (!strstr(err, where) || !strstr(err, what))
		fail_msg("error '%s' lacks '%s' or '%s'", err, where, what);
	/* nothing half-applied: only the first file's set remains */
	assert_int_equal(rs.nsets, 1);
	assert_string_equal(rs.sets[0].name, "keep");
	assert_int_equal(rs.sets[0].npaths, 1);
	rules__free(&rs);
}

static void errors_name_file_line_column(void **state)
{
	expect_error("protect:\n  - name: x\n    pathz: [/a]\n", "t.yaml:3:5", "unknown field 'pathz'");
	expect_error("protect:\n  - name: x\n", "t.yaml:2:5", "missing required field 'paths'");
	expect_error("protect:\n  - name: x\n    paths: [relative/*]\n", "t.yaml:3:13", "invalid path glob");
	expect_error("allow:\n  - name: x\n    cidr: 10.0.0.1/8\n", "t.yaml:3:11", "host bits");
	expect_error("allow:\n  - name: x\n    cidr: 10.0.0.0/8\n    ports: 70000\n", "t.yaml:4", "invalid port");
	expect_error("budget:\n  - set: nope\n    bytes: 1MiB\n", "t.yaml:2:10", "undefined protect set 'nope'");
	expect_error("budget:\n  - set: keep\n    bytes: lots\n", "t.yaml:3:12", "invalid byte size");
	expect_error("bogus: 1\n", "t.yaml:1:1", "unknown section 'bogus'");
	expect_error("protect: [\n", "t.yaml:", "YAML syntax error");
	expect_error("protect:\n  - name: keep\n    paths: [/more/**]\n  - name: y\n    paths: 3x[\n",
		     "t.yaml:", "");
}

static void cli_entries(void **state)
{
	struct ruleset rs;
	char err[512];

	rules__init(&rs);
	assert_int_equal(rules__add_cli_protect(&rs, "/w/*.safetensors", err, sizeof(err)), 0);
	assert_int_equal(rules__add_cli_protect(&rs, "/v/**", err, sizeof(err)), 0);
	assert_int_equal(rs.nsets, 1);
	assert_int_equal(rs.sets[0].npaths, 2);
	assert_int_not_equal(rules__add_cli_protect(&rs, "no/slash", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "--protect"));
	assert_int_equal(rules__add_cli_allow(&rs, "10.213.0.0/16:9000", err, sizeof(err)), 0);
	assert_int_not_equal(rules__add_cli_allow(&rs, "10.213.0.0/33", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "--allow"));
	rules__free(&rs);
}

static void default_pack_loads(void **state)
{
	struct ruleset rs;
	char err[512] = "";

	rules__init(&rs);
	if (rules__load_defaults(&rs, err, sizeof(err)))
		fail_msg("default rules: %s", err);
	assert_true(rs.nsets >= 3);
	assert_true(rs.has_default_budget);
	rules__free(&rs);
}

static void directory_loads_all_or_nothing(void **state)
{
	char dir[] = "/tmp/vigil-rules-XXXXXX", p[512], err[512];
	struct ruleset rs;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/10-good.yaml", dir);
	f = fopen(p, "w");
	fputs("protect:\n  - name: good\n    paths: /g/**\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/20-bad.yaml", dir);
	f = fopen(p, "w");
	fputs("protect:\n  - name: bad\n    paths: /b/**\n    extra: 1\n", f);
	fclose(f);
	rules__init(&rs);
	assert_int_not_equal(rules__load_path(&rs, dir, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "20-bad.yaml:4:5"));
	assert_int_equal(rs.nsets, 0);
	unlink(p);
	assert_int_equal(rules__load_path(&rs, dir, err, sizeof(err)), 0);
	assert_int_equal(rs.nsets, 1);
	rules__free(&rs);
	snprintf(p, sizeof(p), "%s/10-good.yaml", dir);
	unlink(p);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_sets_allow_budget),
		cmocka_unit_test(later_files_append_by_name),
		cmocka_unit_test(errors_name_file_line_column),
		cmocka_unit_test(cli_entries),
		cmocka_unit_test(default_pack_loads),
		cmocka_unit_test(directory_loads_all_or_nothing),
	};
	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
