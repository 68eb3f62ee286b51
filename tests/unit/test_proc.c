// SPDX-License-Identifier: GPL-2.0
/* /proc parsing and the identity-checked kill: a stat cut short after comm,
 * comm with spaces and parentheses, a kill without a start time. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "proc.h"

static void stat_lines(void **state)
{
	struct proc_info pi = { 0 };
	/* ends at ')': the parser read one byte past what was read */
	char *cut = strdup("1 (x)");

	assert_int_equal(proc__parse_stat(cut, &pi), -EINVAL);
	free(cut);
	assert_int_equal(proc__parse_stat("1 (x) ", &pi), 0);
	assert_int_equal(proc__parse_stat("no parens", &pi), -EINVAL);
	memset(&pi, 0, sizeof(pi));
	assert_int_equal(proc__parse_stat("42 (a) b) (c) S 7 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
					  "123456 0 0", &pi), 0);
	assert_string_equal(pi.comm, "a) b) (c");
	assert_int_equal(pi.ppid, 7);
	assert_int_equal(pi.start_ticks, 123456);
}

static void other_files(void **state)
{
	char cmd[16], cg[64], data[] = "1:name=x:/a\n0::/vigil/t3\n";
	uid_t uid = 0;

	proc__parse_cmdline("curl\0-T\0f\0\0", 11, cmd, sizeof(cmd));
	assert_string_equal(cmd, "curl -T f");
	proc__parse_cmdline("aaaaaaaaaaaaaaaaaaaaaaaa", 24, cmd, sizeof(cmd));
	assert_int_equal(strlen(cmd), sizeof(cmd) - 1);
	assert_int_equal(proc__parse_status_uid("Name:\tx\nUid:\t1000\t1000\n", &uid), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(proc__parse_status_uid("Name:\tx\n", &uid), -ENOENT);
	assert_int_equal(proc__parse_cgroup(data, cg, sizeof(cg)), 0);
	assert_string_equal(cg, "/vigil/t3");
}

static pid_t child(void)
{
	pid_t p = fork();

	assert_true(p >= 0);
	if (!p) {
		pause();
		_exit(0);
	}
	return p;
}

static bool killed(pid_t p)
{
	int st;

	assert_int_equal(waitpid(p, &st, 0), p);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

static void kill_checks_identity(void **state)
{
	unsigned long long ticks = 0;
	pid_t p = child();

	assert_int_equal(proc__start_ticks(p, &ticks), 0);
	assert_true(ticks > 0);
	/* no start time recorded: the kill used to go ahead on the pid alone */
	assert_int_equal(proc__kill_same(p, 0), -ENOKEY);
	assert_int_equal(proc__kill_same(p, ticks + 1), -ESRCH);	/* another process */
	assert_int_equal(kill(p, 0), 0);				/* still alive */
	assert_int_equal(proc__kill_same(p, ticks), 0);
	assert_true(killed(p));
	assert_int_equal(proc__kill_same(p, ticks), -ESRCH);	/* gone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_lines),
		cmocka_unit_test(other_files),
		cmocka_unit_test(kill_checks_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
