// SPDX-License-Identifier: GPL-2.0
/* The settings file: docs/OPERATIONS.md's key table is exactly the option
 * table, keys load into the options, flags override. Run from the
 * repository root (tests/run-tests.sh does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent.h"
#include "repo_file.h"
#include "config.h"

static void docs_table_is_the_option_table(void **state)
{
	char *doc = slurp("docs/OPERATIONS.md");
	const char *sec = strstr(doc, "\n## Configuration\n");
	const char *end;
	size_t rows = 0;

	assert_non_null(sec);
	end = strstr(sec + 5, "\n## ");
	for (size_t i = 0; i < config_noptions; i++) {
		char key[64], row[96], flag[80];

		config__key(i, key, sizeof(key));
		snprintf(row, sizeof(row), "\n| `%s` | `--%s`", key, config_options[i].name);
		snprintf(flag, sizeof(flag), "--%s", config_options[i].name);
		if (!strstr(sec, row) || strstr(sec, row) > end)
			fail_msg("docs/OPERATIONS.md, Configuration: no row '| `%s` | `--%s`'",
				 key, config_options[i].name);
	}
	for (const char *l = sec; l && l < end; l = strchr(l + 1, '\n'))
		if (!strncmp(l, "\n| `", 4))
			rows++;
	if (rows != config_noptions)
		fail_msg("docs/OPERATIONS.md has %zu key rows, the code %zu options", rows,
			 config_noptions);
	free(doc);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void keys_load_and_flags_override(void **state)
{
	char path[] = "/tmp/vigil-test-config-XXXXXX", err[512];
	struct agent_opts o = { .stats_interval_s = 60 };
	bool from_flags[64] = { 0 };
	struct config c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(write_file(path, "mode: enforce\nbudget: 2KiB\nprotect: [/a/**, /b/**]\n"
				  "allow: 10.0.0.0/8\nstats_interval: 5\nverbose: true\n"), 0);
	for (size_t i = 0; i < config_noptions; i++)
		if (!strcmp(config_options[i].name, "mode"))
			from_flags[i] = true;
	assert_int_equal(config__load(&c, path, &o, from_flags, err, sizeof(err)), 0);
	assert_false(o.enforce);	/* --mode was on the command line */
	assert_true(o.has_budget);
	assert_int_equal(o.budget, 2048);
	assert_int_equal(o.nprotect, 2);
	assert_string_equal(o.protect[1], "/b/**");
	assert_int_equal(o.nallow, 1);
	assert_int_equal(o.stats_interval_s, 5);
	assert_true(o.verbose);
	config__free(&c);
	free(o.protect);
	free(o.allow);
	free(o.rules);

	/* an error leaves the options untouched */
	memset(&o, 0, sizeof(o));
	assert_int_equal(write_file(path, "budget: 2KiB\nmode: loud\n"), 0);
	assert_int_not_equal(config__load(&c, path, &o, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":2:7: mode: 'loud'"));
	assert_false(o.has_budget);
	unlink(path);
}

/* one threshold for every local propagation: the new key, the old one
 * still read, 0 and a non-size refused with the line named */
static void propagate_min_bytes_and_its_former_name(void **state)
{
	char path[] = "/tmp/vigil-test-config-XXXXXX", err[512];
	struct agent_opts o = { 0 };
	struct config c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(write_file(path, "propagate_min_bytes: 128KiB\n"), 0);
	assert_int_equal(config__load(&c, path, &o, NULL, err, sizeof(err)), 0);
	assert_int_equal(o.relay_min_bytes, 128 << 10);
	config__free(&c);
	memset(&o, 0, sizeof(o));
	assert_int_equal(write_file(path, "relay_min_bytes: 4KiB\n"), 0);
	assert_int_equal(config__load(&c, path, &o, NULL, err, sizeof(err)), 0);
	assert_int_equal(o.relay_min_bytes, 4096);
	config__free(&c);
	memset(&o, 0, sizeof(o));
	assert_int_equal(write_file(path, "mode: monitor\npropagate_min_bytes: 0\n"), 0);
	assert_int_not_equal(config__load(&c, path, &o, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "at least 1 byte"));
	memset(&o, 0, sizeof(o));
	assert_int_equal(write_file(path, "propagate_min_bytes: lots\n"), 0);
	assert_int_not_equal(config__load(&c, path, &o, NULL, err, sizeof(err)), 0);
	assert_int_equal(o.relay_min_bytes, 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(docs_table_is_the_option_table),
		cmocka_unit_test(keys_load_and_flags_override),
		cmocka_unit_test(propagate_min_bytes_and_its_former_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
