// SPDX-License-Identifier: GPL-2.0
/* The capture reader on hostile files: a stream cut short, bytes after it,
 * NUL bytes, over-long lines, values that would wrap, non-regular files;
 * and the writer's output file (no symlinks, 0600, ours). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "capture.h"

#define LINE "{\"event\":\"egress\",\"process\":{\"pid\":7,\"comm\":\"curl\"}," \
	"\"network\":{\"daddr\":\"203.0.113.9\",\"dport\":443,\"bytes\":1448}}\n"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vigil-capture-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static const char *put(const char *name, const void *data, size_t n)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	return path;
}

/* gzip of text, as vigil record writes it (one member, trailer) */
static size_t gz(const char *text, unsigned char *out, size_t cap)
{
	z_stream z = { 0 };

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)text;
	z.avail_in = strlen(text);
	z.next_out = out;
	z.avail_out = cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static long read_err(const char *path, char *err, size_t len)
{
	err[0] = 0;
	return capture__read(path, NULL, NULL, err, len);
}

static void expect(const char *path, long want, const char *what)
{
	char err[1024];
	long n = read_err(path, err, sizeof(err));

	if (n != want || (what && !strstr(err, what)))
		fail_msg("%s: got %ld '%s', want %ld '%s'", path, n, err, want, what ? what : "");
}

static void gzip_must_be_whole(void **state)
{
	unsigned char buf[4096], two[8192];
	size_t n = gz("{\"vigil_capture\":1}\n" LINE LINE, buf, sizeof(buf));

	expect(put("ok.gz", buf, n), 2, NULL);
	/* a cut stream used to replay what it had and exit 0 */
	expect(put("cut.gz", buf, n - 8), -EINVAL, "cut.gz:3: corrupt capture: the compressed "
	       "stream ends early");
	expect(put("cut2.gz", buf, n / 2), -EINVAL, "ends early");
	/* bytes after the trailer used to be ignored */
	memcpy(two, buf, n);
	memcpy(two + n, "junk", 4);
	expect(put("trail.gz", two, n + 4), -EINVAL, "bytes after the end of the compressed stream");
	/* concatenated members are one stream (gzip -c a b) */
	memcpy(two + n, buf, n);
	expect(put("two.gz", two, 2 * n), 4, NULL);
}

static void nul_long_lines_and_wrapping_values(void **state)
{
	char *big;
	size_t n;

	expect(put("nul.jsonl", "{\"event\":\"egress\"}\n{\"event\":\"eg\0ress\"}\n", 40), -EINVAL,
	       "nul.jsonl:2: NUL byte at column 13");
	/* over-long lines were numbered one too low */
	n = strlen(LINE) + (1 << 20) + 2;
	big = malloc(n + 1);
	assert_non_null(big);
	strcpy(big, LINE);
	memset(big + strlen(LINE), ' ', (1 << 20) + 1);
	big[n - 1] = '\n';
	expect(put("long.jsonl", big, n), -EINVAL, "long.jsonl:2: line longer than 1 MiB");
	free(big);
	/* a pid above 2^31 became negative, then 2^64 - n on output: unreplayable */
	expect(put("pid.jsonl", "{\"event\":\"egress\",\"process\":{\"pid\":3000000000}}\n", 48),
	       -EINVAL, "pid.jsonl:1: 'pid' must be at most 2147483647");
	expect(put("ppid.jsonl", "{\"event\":\"egress\",\"process\":{\"ppid\":2147483648}}\n", 49),
	       -EINVAL, "'ppid' must be at most");
	expect(put("pidok.jsonl", "{\"event\":\"egress\",\"process\":{\"pid\":2147483647}}\n", 48), 1,
	       NULL);
	/* the header was read after it was freed (ASan: tests/fuzz/corpus/capture) */
	expect(put("v2.jsonl", "{\"vigil_capture\":2}\n", 20), -EINVAL,
	       "v2.jsonl:1: capture format newer is not supported");
	expect(put("vx.jsonl", "{\"vigil_capture\":\"x\"}\n", 22), -EINVAL, "format unknown");
}

static void only_regular_files(void **state)
{
	char path[128];

	expect("/dev/zero", -EINVAL, "/dev/zero: not a regular file (a character device)");
	snprintf(path, sizeof(path), "%s/fifo.capture", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect(path, -EINVAL, "not a regular file (a FIFO)");	/* used to block */
	expect("/nonexistent/x.capture", -ENOENT, "cannot open");
}

static void writer_never_follows_links(void **state)
{
	char path[128], victim[128], err[512] = "";
	struct capture_writer *w;
	struct stat st;
	FILE *f;

	snprintf(victim, sizeof(victim), "%s/victim", dir);
	f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/link.capture", dir);
	assert_int_equal(symlink(victim, path), 0);
	/* gzopen "wb" truncated whatever the link pointed at */
	assert_null(capture__create(path, "h", "monitor", (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "is a symbolic link"));
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 9);
	/* a hard link to another file */
	snprintf(path, sizeof(path), "%s/hard.capture", dir);
	assert_int_equal(link(victim, path), 0);
	assert_null(capture__create(path, "h", "monitor", (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "hard links"));
	/* created 0600 whatever the umask (it was 0644: command lines inside) */
	snprintf(path, sizeof(path), "%s/new.capture", dir);
	umask(022);
	w = capture__create(path, "h", "monitor", (gid_t)-1, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(capture__close(w), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* an existing one of ours is rewritten, and made 0600 */
	chmod(path, 0644);
	w = capture__create(path, "h", "monitor", (gid_t)-1, err, sizeof(err));
	assert_non_null(w);
	capture__close(w);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	expect(path, 0, NULL);	/* a header and nothing else */
	/* one owned by another user is not ours to rewrite */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_null(capture__create(path, "h", "monitor", (gid_t)-1, err, sizeof(err)));
		assert_non_null(strstr(err, "owned by uid 65534"));
	}
	/* with a group: 0640 and that group */
	snprintf(path, sizeof(path), "%s/group.capture", dir);
	w = capture__create(path, "h", "monitor", getegid(), err, sizeof(err));
	assert_non_null(w);
	capture__close(w);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_gid, getegid());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gzip_must_be_whole),
		cmocka_unit_test(nul_long_lines_and_wrapping_values),
		cmocka_unit_test(only_regular_files),
		cmocka_unit_test(writer_never_follows_links),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
