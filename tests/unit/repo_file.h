/* SPDX-License-Identifier: GPL-2.0 */
/* For unit tests that check files of the repository against the code (run
 * from the repository root, as tests/run-tests.sh does). Include after
 * <cmocka.h>. */
#ifndef VIGIL_TEST_REPO_FILE_H
#define VIGIL_TEST_REPO_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* The whole file, NUL-terminated; the test fails if it cannot be read. */
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

#endif
