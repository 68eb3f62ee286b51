// SPDX-License-Identifier: GPL-2.0
/* The state file: what is written reads back, anything else is refused
 * whole, and windows decide what is restored. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "state.h"

static void write_then_read_back(void **state)
{
	char path[] = "/tmp/vigil-test-state-XXXXXX", why[256];
	struct protect_set sets[2] = { { .name = "llm" }, { .name = "hf-cache" } };
	struct ruleset rs = { .sets = sets, .nsets = 2 };
	uint64_t spent[VIGIL_MAX_SETS] = { 131072, 7 };
	struct state_sets st;
	uint64_t now = (uint64_t)time(NULL);
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(state__write(path, &rs, spent), 0);
	assert_int_equal(state__read(path, &st, why, sizeof(why)), 0);
	assert_int_equal(st.n, 2);
	assert_int_equal(state__spent_for(&st, "llm", 0, now), 131072);
	assert_int_equal(state__spent_for(&st, "hf-cache", 0, now), 7);
	assert_int_equal(state__spent_for(&st, "new-set", 0, now), 0);
	/* a window still open keeps its spend; one that is over starts afresh */
	assert_int_equal(state__spent_for(&st, "llm", 3600, now), 131072);
	assert_int_equal(state__spent_for(&st, "llm", 3600, now + 3600), 0);
	/* one byte changed: refused whole */
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, 30, SEEK_SET);
	fputc('9', f);
	fclose(f);
	assert_int_equal(state__read(path, &st, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "checksum"));
	assert_int_equal(st.n, 0);
	/* not ours at all */
	f = fopen(path, "w");
	fputs("hello\n", f);
	fclose(f);
	assert_int_equal(state__read(path, &st, why, sizeof(why)), -EBADMSG);
	unlink(path);
	/* no file: nothing to restore, not an error */
	assert_int_equal(state__read(path, &st, why, sizeof(why)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_then_read_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
