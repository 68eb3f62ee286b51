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
#include <sys/stat.h>
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

/* allow entries naming network-filesystem mounts (a checkpoint store) */
static void mount_entries(void **state)
{
	struct ruleset rs, copy;
	char err[512] = "", *dump = NULL;
	size_t len = 0;
	FILE *f;
	const char *y =
		"allow:\n"
		"  - name: checkpoints\n"
		"    mount: [/mnt/ckpt, \"/mnt/team-*/ckpt\"]\n"
		"    source: \"10.1.2.3:/export/*\"\n"
		"    exe: [/usr/bin/python3*]\n"
		"  - name: scratch\n"
		"    mount: /scratch\n"
		"    cidr: 10.9.0.0/16\n";

	rules__init(&rs);
	assert_int_equal(load(&rs, y, err, sizeof(err)), 0);
	assert_int_equal(rs.nallows, 2);
	assert_int_equal(rs.allows[0].naddrs, 0);
	assert_int_equal(rs.allows[0].nmounts, 2);
	assert_int_equal(rs.allows[1].naddrs, 1);
	assert_true(rules__mount_matches(&rs.allows[0], "/mnt/ckpt", "10.1.2.3:/export/a"));
	assert_true(rules__mount_matches(&rs.allows[0], "/mnt/team-x/ckpt", "10.1.2.3:/export/b"));
	/* the source must match too, and globs do not cross '/' */
	assert_false(rules__mount_matches(&rs.allows[0], "/mnt/ckpt", "10.6.6.6:/export/a"));
	assert_false(rules__mount_matches(&rs.allows[0], "/mnt/ckpt", NULL));
	assert_false(rules__mount_matches(&rs.allows[0], "/mnt/ckpt/sub", "10.1.2.3:/export/a"));
	assert_true(rules__mount_matches(&rs.allows[1], "/scratch", "anything"));
	/* executables: the first entry only for python, the second for all */
	assert_true(rules__mount_allowed(&rs, "/mnt/ckpt", "10.1.2.3:/export/a", "/usr/bin/python3.11"));
	assert_false(rules__mount_allowed(&rs, "/mnt/ckpt", "10.1.2.3:/export/a", "/usr/bin/curl"));
	assert_true(rules__mount_allowed(&rs, "/scratch", "x", "/usr/bin/curl"));
	assert_false(rules__mount_allowed(&rs, "/elsewhere", "x", "/usr/bin/curl"));
	assert_false(rules__mount_allowed(&rs, "?", "x", "/usr/bin/curl"));
	assert_int_equal(rules__allow_exe_bit(&rs, 0), 1);
	assert_int_equal(rules__allow_exe_bit(&rs, 1), 0);
	/* `vigil rules show` writes them back so that they load the same */
	f = open_memstream(&dump, &len);
	rules__dump(&rs, f);
	fclose(f);
	rules__init(&copy);
	if (load(&copy, dump, err, sizeof(err)))
		fail_msg("the dump does not load: %s\n%s", err, dump);
	assert_int_equal(copy.nallows, 2);
	assert_int_equal(copy.allows[0].nmounts, 2);
	assert_int_equal(copy.allows[0].nsources, 1);
	assert_int_equal(copy.allows[0].naddrs, 0);
	assert_int_equal(copy.allows[1].naddrs, 1);
	rules__free(&copy);
	free(dump);
	rules__init(&copy);
	assert_int_equal(rules__copy(&copy, &rs), 0);
	assert_string_equal(copy.allows[0].mounts[1], "/mnt/team-*/ckpt");
	assert_string_equal(copy.allows[0].sources[0], "10.1.2.3:/export/*");
	rules__free(&copy);
	rules__free(&rs);
}

static void mount_entry_errors(void **state)
{
	expect_error("allow:\n  - name: x\n    exe: [/bin/cp]\n", "t.yaml:2:5",
		     "allow entry 'x': needs 'cidr' (destinations) or 'mount'");
	expect_error("allow:\n  - name: x\n    mount: mnt/ckpt\n", "t.yaml:3:12",
		     "invalid mount glob 'mnt/ckpt': must be an absolute path");
	expect_error("allow:\n  - name: x\n    mount: /mnt/ckpt\n    ports: 2049\n", "t.yaml:4:12",
		     "'ports' needs 'cidr'");
	expect_error("allow:\n  - name: x\n    cidr: 10.0.0.0/8\n    source: \"s:/e\"\n",
		     "t.yaml:4:13", "'source' needs 'mount'");
	expect_error("allow:\n  - name: x\n    mount: [/a, 3]\n", "t.yaml:", "mount");
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

/* ---- hostile rule files: each once hung, exploded or was silently cut ---- */

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * n + tl + 1), *p = s;

	assert_non_null(s);
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

static void expect_error_owned(char *yaml, const char *where, const char *what)
{
	expect_error(yaml, where, what);
	free(yaml);
}

static void deep_nesting_is_refused_at_the_limit(void **state)
{
	/* 400 KB of nested flow sequences: libyaml alone took > 20 s */
	char *open = repeat("rule: ", "[", 200000, ""), *y = repeat(open, "]", 200000, "\n");

	free(open);
	expect_error_owned(y, "t.yaml:1:70", "nested deeper than 64 levels");
	/* the root mapping is level 1: 64 levels are parsed (then judged), 65 are not */
	for (int n = 61; n <= 62; n++) {
		open = repeat("protect:\n  - name: keep\n    paths: ", "[", n, "/a");
		y = repeat(open, "]", n, "\n");
		free(open);
		if (n == 61)
			expect_error_owned(y, "t.yaml:3:13", "expected a path string");
		else
			expect_error_owned(y, "t.yaml:3:73", "nested deeper than 64 levels");
	}
}

static void alias_expansion_is_bounded(void **state)
{
	/* append: true through aliases grew the condition quadratically */
	expect_error_owned(repeat("rule:\n  - id: r\n    condition: evt.type = egress\n"
				  "  - &a {id: r, append: true, condition: 'and net.dport = 443'}\n",
				  "  - *a\n", 1100, ""), "t.yaml:1029:5", "more than 1024 aliases");
	/* protect sets merged through aliases reached 315 MB from 52 KB */
	{
		char *paths = repeat("[/m/p0/**", ", /m/p1234567/**", 300, "]");
		char *head = malloc(strlen(paths) + 64);

		sprintf(head, "protect:\n  - &s {name: m, paths: %s}\n", paths);
		expect_error_owned(repeat(head, "  - *s\n", 2000, ""), "t.yaml:",
				   "aliases expand to more than 1048576 bytes");
		free(head);
		free(paths);
	}
	expect_error("list:\n  - &l {name: x, items: [a, *l]}\n", "t.yaml:2:29",
		     "alias *l inside the node it names");
	expect_error_owned(repeat("x: [", "&a a, ", 1025, "]\n"), "t.yaml:", "more than 1024 anchors");
}

static void merged_sizes_are_capped(void **state)
{
	struct ruleset rs;
	char err[512] = "", *y;

	/* within the alias limits, a same-name set still cannot grow past the cap */
	y = repeat("protect:\n  - &s {name: m, paths: [/a/**, /b/**, /c/**, /d/**, /e/**, /f/**, "
		   "/g/**, /h/**]}\n", "  - *s\n", 600, "");
	expect_error_owned(y, "t.yaml:2:5", "protect set 'm': more than 4096 paths");
	/* list items appended across files */
	rules__init(&rs);
	y = repeat("list:\n  - name: big\n    items: [x", ", x", 9999, "]\n");
	assert_int_equal(load(&rs, y, err, sizeof(err)), 0);
	free(y);
	y = repeat("list:\n  - name: big\n    append: true\n    items: [x", ", x", 9999, "]\n");
	assert_int_not_equal(load(&rs, y, err, sizeof(err)), 0);
	free(y);
	assert_non_null(strstr(err, "list 'big': more than 16384 items"));
	assert_int_equal(rs.lists[0].nitems, 10000);
	rules__free(&rs);
	/* conditions appended across files */
	rules__init(&rs);
	y = repeat("rule:\n  - id: r\n    condition: evt.type = egress", " and net.dport = 443", 3000, "\n");
	assert_int_equal(load(&rs, y, err, sizeof(err)), 0);
	free(y);
	y = repeat("rule:\n  - id: r\n    append: true\n    condition: and net.dport = 1",
		   " and net.dport = 443", 400, "\n");
	assert_int_not_equal(load(&rs, y, err, sizeof(err)), 0);
	free(y);
	assert_non_null(strstr(err, "appended condition longer than 65536 bytes"));
	rules__free(&rs);
	expect_error_owned(repeat("allow:\n  - name: a\n    cidr: [10.0.0.1", ", 10.0.0.2", 100,
				  "]\n    ports: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, "
				  "17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, "
				  "34, 35, 36, 37, 38, 39, 40, 41]\n"), "t.yaml:3:11",
			   "more than 4096 CIDR x port range entries");
}

static void one_document_no_nul(void **state)
{
	/* a second document was silently ignored, even an invalid one */
	expect_error("protect:\n  - name: a\n    paths: /a/**\n---\nrule: [{id: bad}]\n", "t.yaml:4:1",
		     "a second YAML document");
	/* "/models/ok\0/../.." was cut to "/models/ok" */
	expect_error("protect:\n  - name: n\n    paths: [\"/models/ok\\0/../..\"]\n", "t.yaml:3:13",
		     "NUL character");
	/* one explicit document is fine */
	{
		struct ruleset rs;
		char err[512];

		rules__init(&rs);
		assert_int_equal(load(&rs, "---\nprotect:\n  - name: a\n    paths: /a/**\n...\n", err,
				      sizeof(err)), 0);
		rules__free(&rs);
	}
}

static void only_regular_files_of_bounded_size(void **state)
{
	char dir[] = "/tmp/vigil-rules-XXXXXX", p[512], err[512] = "";
	struct ruleset rs;
	FILE *f;

	rules__init(&rs);
	/* read until ENOMEM, then printed uninitialised bytes */
	assert_int_not_equal(rules__load_path(&rs, "/dev/zero", err, sizeof(err)), 0);
	assert_string_equal(err, "/dev/zero: not a regular file (a character device)");
	/* a FIFO named *.yaml in a rules directory blocked forever */
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/10-good.yaml", dir);
	f = fopen(p, "w");
	fputs("protect:\n  - name: good\n    paths: /g/**\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/20-fifo.yaml", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_not_equal(rules__load_path(&rs, dir, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "20-fifo.yaml: not a regular file (a FIFO)"));
	assert_int_equal(rs.nsets, 0);
	assert_false(rules__is_default_file(p));	/* must not block either */
	unlink(p);
	/* over the size cap */
	snprintf(p, sizeof(p), "%s/30-big.yaml", dir);
	f = fopen(p, "w");
	fputs("# padding\n", f);
	for (int i = 0; i < (1 << 20) / 64 + 1; i++)
		fputs("#234567890123456789012345678901234567890123456789012345678901234\n", f);
	fclose(f);
	assert_int_not_equal(rules__load_path(&rs, dir, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "30-big.yaml: too big"));
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
		cmocka_unit_test(mount_entries),
		cmocka_unit_test(mount_entry_errors),
		cmocka_unit_test(default_pack_loads),
		cmocka_unit_test(directory_loads_all_or_nothing),
		cmocka_unit_test(deep_nesting_is_refused_at_the_limit),
		cmocka_unit_test(alias_expansion_is_bounded),
		cmocka_unit_test(merged_sizes_are_capped),
		cmocka_unit_test(one_document_no_nul),
		cmocka_unit_test(only_regular_files_of_bounded_size),
	};
	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
