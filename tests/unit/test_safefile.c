// SPDX-License-Identifier: GPL-2.0
/* Files vigil opens for hostile neighbours: the alerts file never through a
 * link, never someone else's, never a FIFO; inputs regular and bounded;
 * names escaped before they reach stderr. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "output.h"
#include "safefile.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vigil-safefile-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static const char *in_dir(const char *name)
{
	static char p[2][128];
	static int k;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void alerts_file(void **state)
{
	char err[512] = "";
	struct output *o;
	struct stat st;
	FILE *f;

	f = fopen(in_dir("victim"), "w");
	fputs("precious\n", f);
	fclose(f);
	assert_int_equal(symlink(in_dir("victim"), in_dir("alerts.jsonl")), 0);
	/* it used to append through the link */
	assert_null(output__open(in_dir("alerts.jsonl"), (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "--alerts"));
	assert_non_null(strstr(err, "is a symbolic link"));
	assert_int_equal(stat(in_dir("victim"), &st), 0);
	assert_int_equal(st.st_size, 9);
	/* a FIFO must not block the agent's start */
	assert_int_equal(mkfifo(in_dir("fifo"), 0600), 0);
	assert_null(output__open(in_dir("fifo"), (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "FIFO"));
	/* created 0600 (was 0640) */
	umask(022);
	o = output__open(in_dir("new.jsonl"), (gid_t)-1, err, sizeof(err));
	assert_non_null(o);
	output__close(o);
	assert_int_equal(stat(in_dir("new.jsonl"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* an existing file keeps its mode and is appended to ... */
	chmod(in_dir("new.jsonl"), 0640);
	o = output__open(in_dir("new.jsonl"), (gid_t)-1, err, sizeof(err));
	assert_non_null(o);
	output__close(o);
	assert_int_equal(stat(in_dir("new.jsonl"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* ... unless anyone may write into it (forged alerts) */
	chmod(in_dir("new.jsonl"), 0666);
	assert_null(output__open(in_dir("new.jsonl"), (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "writable by every user"));
	if (geteuid() == 0) {
		chmod(in_dir("new.jsonl"), 0600);
		assert_int_equal(chown(in_dir("new.jsonl"), 65534, 65534), 0);
		assert_null(output__open(in_dir("new.jsonl"), (gid_t)-1, err, sizeof(err)));
		assert_non_null(strstr(err, "owned by uid 65534"));
	}
}

static void inputs(void **state)
{
	char err[512] = "", *buf;
	size_t len;
	FILE *f;

	f = fopen(in_dir("small"), "w");
	fputs("0123456789", f);
	fclose(f);
	assert_int_equal(safefile__read(in_dir("small"), 10, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	assert_int_equal(safefile__read(in_dir("small"), 9, &buf, &len, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "too big (10 bytes, at most 9)"));
	assert_int_equal(safefile__read(dir, 10, &buf, &len, err, sizeof(err)), -EISDIR);
	assert_int_equal(safefile__read("/dev/null", 10, &buf, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a character device"));
}

static void escaping(void **state)
{
	char out[64];

	assert_string_equal(log__escape("a\nvigil: ok\tb\\c\x01", out, sizeof(out)),
			    "a\\nvigil: ok\\tb\\\\c\\x01");
	assert_string_equal(log__escape("plain /w/model.safetensors", out, sizeof(out)),
			    "plain /w/model.safetensors");
	log__escape("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", out, 16);
	assert_true(strlen(out) < 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alerts_file),
		cmocka_unit_test(inputs),
		cmocka_unit_test(escaping),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
