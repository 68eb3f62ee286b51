// SPDX-License-Identifier: GPL-2.0
/* Sinks: spec parsing, delivery, a stalled receiver that blocks nothing,
 * counted drops, blocking mode, reopen after rename, the hash chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "sha256.h"
#include "sink.h"

static char dir[] = "/tmp/vigil-test-sink-XXXXXX";

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	alarm(60);	/* a sink that blocks its producer fails, never hangs, the suite */
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static void path_in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Records seq first..first+n-1; returns the bytes they take as lines. */
static size_t push_from(struct sink **sinks, int nsinks, int first, int n, int *taken)
{
	char line[128];
	size_t bytes = 0;

	for (int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "{\"seq\":%d,\"pad\":\"%0*d\"}", first + i,
				   60, 0);
		struct sink_msg *m = sink__msg_new(line, len);

		assert_non_null(m);
		for (int k = 0; k < nsinks; k++)
			if (!sink__push(sinks[k], m) && taken)
				taken[k]++;
		sink__msg_put(m);
		bytes += len + 1;
	}
	return bytes;
}

static void push_n(struct sink **sinks, int nsinks, int n, int *taken)
{
	push_from(sinks, nsinks, 1, n, taken);
}

static long long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (long long)sb.st_size;
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f))
		n++;
	fclose(f);
	return n;
}

static void spec_errors(void **state)
{
	char err[512], p[PATH_MAX];
	static const struct {
		const char *spec, *want;
	} bad[] = {
		{ "", "empty" },
		{ "-,format=xml", "format=xml" },
		{ "-,queue=0", "queue=0" },
		{ "-,queue=many", "queue=many" },
		{ "-,chain=md5", "chain=md5" },
		{ "-,colour=red", "unknown key 'colour'" },
		{ "-,novalue", "not KEY=VALUE" },
		{ "sylog:", "unknown sink type 'sylog:'" },
		{ "file:", "needs a path" },
		{ "/nonexistent-dir/x", "No such file" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(sink__open(bad[i].spec, false, (gid_t)-1, err, sizeof(err)));
		if (!strstr(err, bad[i].want))
			fail_msg("spec '%s': error '%s' lacks '%s'", bad[i].spec, err, bad[i].want);
	}
	/* a symlink where the alert file goes is refused */
	path_in_dir(p, sizeof(p), "link");
	assert_int_equal(symlink("/tmp", p), 0);
	assert_null(sink__open(p, false, (gid_t)-1, err, sizeof(err)));
	unlink(p);
}

static void file_delivery(void **state)
{
	char p[PATH_MAX], spec[PATH_MAX + 64];
	struct sink *s;
	struct sink_stats st;
	struct stat sb;
	char err[256];

	path_in_dir(p, sizeof(p), "a.jsonl");
	snprintf(spec, sizeof(spec), "file:%s,format=native,queue=100000", p);
	s = sink__open(spec, false, (gid_t)-1, err, sizeof(err));
	assert_non_null(s);
	push_n(&s, 1, 5000, NULL);
	sink__stats(s, &st);
	assert_int_equal(st.dropped, 0);
	assert_non_null(strstr(st.name, "a.jsonl"));
	assert_int_equal(sink__close(s, -1), 0);
	assert_int_equal(count_lines(p), 5000);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

/* A receiver that never reads: its queue fills and turns records away,
 * counted; the producer never waits; another sink gets every record. The
 * stalled receiver is stdout on a full pipe (files must be regular), so
 * the scenario runs in a child whose fd 1 that pipe is; it exits with the
 * number of the first check that failed. */
static int stalled_child(const char *good)
{
	char err[256];
	struct sink *s[2];
	struct sink_stats st;
	int taken[2] = { 0, 0 }, p[2];
	char junk[512] = { 0 };

	if (pipe(p))
		return 1;
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	while (write(p[1], junk, sizeof(junk)) > 0)	/* full: the sink's first write blocks */
		;
	fcntl(p[1], F_SETFL, 0);
	if (dup2(p[1], STDOUT_FILENO) < 0)
		return 2;
	s[0] = sink__open("-,queue=8", false, (gid_t)-1, err, sizeof(err));
	s[1] = sink__open(good, false, (gid_t)-1, err, sizeof(err));
	if (!s[0] || !s[1])
		return 3;
	push_from(s, 2, 1, 2000, taken);
	if (taken[1] != 2000 || taken[0] > 8 + 64)	/* the queue plus one batch in the writer */
		return 4;
	sink__stats(s[0], &st);
	if (st.dropped != (uint64_t)(2000 - taken[0]) || st.queued > 8 || st.written || st.failed)
		return 5;
	if (sink__close(s[1], -1) || count_lines(good) != 2000)
		return 6;
	/* the stuck one gives up at close instead of hanging the agent's exit */
	if (sink__close(s[0], 200) != -ETIMEDOUT)
		return 7;
	return 0;
}

static void stalled_sink(void **state)
{
	char good[PATH_MAX];
	int status;
	pid_t pid;

	path_in_dir(good, sizeof(good), "good.jsonl");
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(stalled_child(good));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Offline replay must lose nothing: a blocking sink makes the producer wait. */
static void blocking_sink(void **state)
{
	char p[PATH_MAX], spec[PATH_MAX + 64], err[256];
	struct sink *s;
	struct sink_stats st;

	path_in_dir(p, sizeof(p), "b.jsonl");
	snprintf(spec, sizeof(spec), "%s,queue=1", p);
	s = sink__open(spec, true, (gid_t)-1, err, sizeof(err));
	assert_non_null(s);
	push_n(&s, 1, 3000, NULL);
	sink__stats(s, &st);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(sink__close(s, -1), 0);
	assert_int_equal(count_lines(p), 3000);
}

/* logrotate's rename style: mv, then SIGHUP (sink__reopen). */
static void reopen_after_rename(void **state)
{
	char p[PATH_MAX], old[PATH_MAX], err[256];
	struct sink *s;
	struct sink_stats st;

	path_in_dir(p, sizeof(p), "r.jsonl");
	path_in_dir(old, sizeof(old), "r.jsonl.1");
	s = sink__open(p, true, (gid_t)-1, err, sizeof(err));
	assert_non_null(s);
	push_n(&s, 1, 10, NULL);
	for (int i = 0; i < 500; i++) {	/* wait until written before moving */
		sink__stats(s, &st);
		if (st.written == 10)
			break;
		usleep(10000);
	}
	assert_int_equal(rename(p, old), 0);
	sink__reopen(s);
	/* the new file exists a moment before the reopen is counted: wait for
	 * the count (a loaded machine showed the gap) */
	for (int i = 0; i < 500; i++) {
		sink__stats(s, &st);
		if (st.reopens || st.reopen_failures)
			break;
		usleep(10000);
	}
	assert_int_equal(st.reopens, 1);
	assert_int_equal(st.reopen_failures, 0);
	push_n(&s, 1, 7, NULL);
	assert_int_equal(sink__close(s, -1), 0);
	assert_int_equal(count_lines(old), 10);
	assert_int_equal(count_lines(p), 7);
}

static void hash_chain(void **state)
{
	char p[PATH_MAX], spec[PATH_MAX + 64], err[256], buf[4096], prev[65];
	struct sink *s;
	FILE *f;
	int n = 0;

	path_in_dir(p, sizeof(p), "c.jsonl");
	snprintf(spec, sizeof(spec), "file:%s,chain=sha256", p);
	s = sink__open(spec, true, (gid_t)-1, err, sizeof(err));
	assert_non_null(s);
	push_n(&s, 1, 200, NULL);
	assert_int_equal(sink__close(s, -1), 0);
	memset(prev, '0', 64);
	prev[64] = '\0';
	f = fopen(p, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		json_t *o;
		size_t len = strcspn(buf, "\n");

		buf[len] = '\0';
		o = json_loads(buf, 0, NULL);
		assert_non_null(o);
		assert_string_equal(json_string_value(json_object_get(o, "prev_hash")), prev);
		assert_int_equal(json_integer_value(json_object_get(o, "seq")), ++n);
		json_decref(o);
		sha256__hex(buf, len, prev);
	}
	fclose(f);
	assert_int_equal(n, 200);
}

/* Lines of a file (gzip or plain: gzopen reads both), each checked to be a
 * whole JSON object; their seq values appended to seqs. */
static int read_seqs(const char *path, int *seqs, int max, int *n)
{
	gzFile gz = gzopen(path, "rb");
	char buf[4096];
	int lines = 0;

	if (!gz)
		return -1;
	while (gzgets(gz, buf, sizeof(buf))) {
		json_t *o;
		size_t len = strlen(buf);

		assert_true(len > 0 && buf[len - 1] == '\n');	/* never half a line */
		o = json_loads(buf, 0, NULL);
		assert_non_null(o);
		if (*n < max)
			seqs[(*n)++] = json_integer_value(json_object_get(o, "seq"));
		json_decref(o);
		lines++;
	}
	gzclose(gz);
	return lines;
}

/* Size rotation: gzip'd, at most keep of them, no line split or lost within
 * what is kept, newest in PATH. */
static void rotate_by_size(void **state)
{
	char p[PATH_MAX], spec[PATH_MAX + 64], err[256], name[PATH_MAX + 16];
	static int seqs[20000];
	struct sink *s;
	struct sink_stats st;
	struct stat sb;
	int n = 0;

	path_in_dir(p, sizeof(p), "rot.jsonl");
	snprintf(spec, sizeof(spec), "%s,max_size=16K,keep=3", p);
	s = sink__open(spec, true, (gid_t)-1, err, sizeof(err));
	assert_non_null(s);
	push_n(&s, 1, 2000, NULL);	/* 2000 x 83 bytes: ~10 files' worth */
	assert_int_equal(sink__close(s, -1), 0);
	/* oldest first: .3.gz .2.gz .1.gz then the current file */
	for (int k = 3; k >= 1; k--) {
		snprintf(name, sizeof(name), "%s.%d.gz", p, k);
		assert_int_equal(stat(name, &sb), 0);
		assert_true(sb.st_size < 16384 / 4);	/* really compressed */
		assert_true(read_seqs(name, seqs, 20000, &n) > 0);
		snprintf(name, sizeof(name), "%s.%d", p, k);
		assert_int_not_equal(access(name, F_OK), 0);	/* no plain copy left */
	}
	snprintf(name, sizeof(name), "%s.4.gz", p);
	assert_int_not_equal(access(name, F_OK), 0);	/* retention */
	assert_int_equal(stat(p, &sb), 0);
	assert_true(sb.st_size <= 16384);
	assert_true(read_seqs(p, seqs, 20000, &n) > 0);
	for (int i = 1; i < n; i++)
		assert_int_equal(seqs[i], seqs[i - 1] + 1);
	assert_int_equal(seqs[n - 1], 2000);
	assert_true(n > 3 * 16384 / 100);
	(void)st;
}

static void rotate_by_age(void **state)
{
	char p[PATH_MAX], spec[PATH_MAX + 64], err[256], name[PATH_MAX + 16];
	struct sink *s;
	struct sink_stats st;
	int seqs[16], n = 0;

	path_in_dir(p, sizeof(p), "age.jsonl");
	snprintf(spec, sizeof(spec), "%s,max_age=1s,compress=none", p);
	s = sink__open(spec, true, (gid_t)-1, err, sizeof(err));
	assert_non_null(s);
	push_n(&s, 1, 2, NULL);
	for (int i = 0; i < 300; i++) {
		sink__stats(s, &st);
		if (st.written == 2)
			break;
		usleep(10000);
	}
	sleep(2);
	push_n(&s, 1, 1, NULL);
	assert_int_equal(sink__close(s, -1), 0);
	snprintf(name, sizeof(name), "%s.1", p);
	assert_int_equal(read_seqs(name, seqs, 16, &n), 2);
	assert_int_equal(read_seqs(p, seqs, 16, &n), 1);
	assert_int_equal(n, 3);
}

static void rotate_spec_errors(void **state)
{
	char err[256];

	assert_null(sink__open("/tmp/x,max_size=12", false, (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "max_size=12"));
	assert_null(sink__open("/tmp/x,max_age=soon", false, (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "max_age=soon"));
	assert_null(sink__open("/tmp/x,keep=0", false, (gid_t)-1, err, sizeof(err)));
	assert_null(sink__open("/tmp/x,compress=xz", false, (gid_t)-1, err, sizeof(err)));
	assert_null(sink__open("-,max_size=1M", false, (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "unknown key 'max_size' for a stdout sink"));
}

static int connect_unix(const char *path, int rcvbuf)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A child that copies the socket into a file until the agent closes it. */
static pid_t reader_child(int fd, const char *out)
{
	pid_t pid = fork();

	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char buf[65536];
		ssize_t n;

		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(o, buf, n) != n)
				_exit(1);
		_exit(0);
	}
	close(fd);
	return pid;
}

/* Two readers get every record in order; one that never reads is cut off
 * without holding them up; the socket is 0600 and gone after close. */
static void unix_readers(void **state)
{
	char sock[PATH_MAX], spec[PATH_MAX + 64], err[256], out[2][PATH_MAX];
	struct sink *s;
	struct sink_stats st;
	struct stat sb;
	int stalled, status, seqs[1];
	pid_t kids[2];

	path_in_dir(sock, sizeof(sock), "vigil.sock");
	snprintf(spec, sizeof(spec), "unix:%s", sock);
	s = sink__open(spec, true, (gid_t)-1, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(stat(sock, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* a second agent on the same socket is refused */
	assert_null(sink__open(spec, false, (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "another process"));
	for (int i = 0; i < 2; i++) {
		path_in_dir(out[i], sizeof(out[i]), i ? "r1.jsonl" : "r0.jsonl");
		kids[i] = reader_child(connect_unix(sock, 0), out[i]);
	}
	stalled = connect_unix(sock, 4096);
	for (int i = 0; i < 300; i++) {	/* all three accepted */
		sink__stats(s, &st);
		if (st.readers == 3)
			break;
		usleep(10000);
	}
	assert_int_equal(st.readers, 3);
	/* 2.5 MB in steps the live readers keep up with (a loaded machine
	 * must not make them look stalled); the stalled one falls behind
	 * step by step until it is cut off */
	{
		size_t sent = 0;

		for (int step = 0; step < 30; step++) {
			sent += push_from(&s, 1, step * 1000 + 1, 1000, NULL);
			for (int w = 0; w < 1000; w++) {
				if (file_size(out[0]) == (long long)sent &&
				    file_size(out[1]) == (long long)sent)
					break;
				usleep(10000);
			}
		}
	}
	sink__stats(s, &st);
	assert_int_equal(sink__close(s, -1), 0);
	assert_int_not_equal(access(sock, F_OK), 0);
	for (int i = 0; i < 2; i++) {
		int n = 0, lines;
		static int all[30000];

		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_int_equal(status, 0);
		lines = read_seqs(out[i], all, 30000, &n);
		assert_int_equal(lines, 30000);
		for (int k = 0; k < n; k++)
			assert_int_equal(all[k], k + 1);
	}
	assert_true(st.readers_dropped >= 1);
	close(stalled);
	(void)seqs;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_errors),
		cmocka_unit_test(file_delivery),
		cmocka_unit_test(stalled_sink),
		cmocka_unit_test(blocking_sink),
		cmocka_unit_test(reopen_after_rename),
		cmocka_unit_test(hash_chain),
		cmocka_unit_test(rotate_by_size),
		cmocka_unit_test(rotate_by_age),
		cmocka_unit_test(rotate_spec_errors),
		cmocka_unit_test(unix_readers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
