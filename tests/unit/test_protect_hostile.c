// SPDX-License-Identifier: GPL-2.0
/* The protected-file table on a real tree (no BPF map): symlinks never
 * followed, owners, per-owner / per-set / table limits reported, empty
 * files ignored, entries gone with their last link, deleted-but-open files
 * kept until closed, owner: and limits: validated with file:line:col.
 * Owners need chown: the owner tests skip when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "protect.h"
#include "rules.h"

static char root[64];
static char msgs[16][1024];
static int nmsgs;

static void on_report(void *ctx, const char *msg)
{
	if (nmsgs < 16)
		snprintf(msgs[nmsgs], sizeof(msgs[0]), "%s", msg);
	nmsgs++;
}

static bool reported(const char *needle)
{
	for (int i = 0; i < nmsgs && i < 16; i++)
		if (strstr(msgs[i], needle))
			return true;
	return false;
}

static void mkfile(const char *rel, size_t size, uid_t uid)
{
	char p[PATH_MAX], buf[4096] = { 1 };
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	while (size) {
		size_t n = size < sizeof(buf) ? size : sizeof(buf);

		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		size -= n;
	}
	close(fd);
	if (uid)
		assert_int_equal(chown(p, uid, uid), 0);
}

static void mkd(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/vigil-protect-XXXXXX");
	nmsgs = 0;
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* rules for root/ with extra set keys and a limits: section */
static struct protect *mk(struct ruleset *rs, const char *setkeys, const char *limits)
{
	char y[2048], err[512] = "";
	struct protect *p;

	snprintf(y, sizeof(y), "protect:\n  - name: w\n    paths: [\"%s/**/*.safetensors\"]\n%s%s",
		 root, setkeys ? setkeys : "", limits ? limits : "");
	rules__init(rs);
	if (rules__load_string(rs, "t.yaml", y, strlen(y), err, sizeof(err)))
		fail_msg("%s", err);
	p = protect__new(rs);
	assert_non_null(p);
	protect__set_reporter(p, on_report, NULL);
	return p;
}

static void links_are_never_followed(void **state)
{
	struct ruleset rs;
	struct protect *p;
	char l[PATH_MAX], t[PATH_MAX];

	mkd("m");
	mkd("outside");
	mkfile("m/real.safetensors", 8192, 0);
	mkfile("outside/secret", 8192, 0);
	mkfile("outside/x.safetensors", 8192, 0);
	snprintf(t, sizeof(t), "%s/outside/secret", root);
	snprintf(l, sizeof(l), "%s/m/libc.safetensors", root);
	assert_int_equal(symlink(t, l), 0);
	snprintf(t, sizeof(t), "%s/outside", root);
	snprintf(l, sizeof(l), "%s/m/dir", root);
	assert_int_equal(symlink(t, l), 0);
	p = mk(&rs, NULL, NULL);
	assert_int_equal(protect__scan(p, -1), 0);
	/* real.safetensors and outside/x.safetensors (inside the tree itself),
	 * not the link's target, not through the linked directory */
	assert_int_equal(protect__count(p), 2);
	{
		struct stat st;
		uint32_t mask = 0;

		snprintf(t, sizeof(t), "%s/outside/secret", root);
		assert_int_equal(stat(t, &st), 0);
		assert_int_equal(protect__lookup(p, protect__kdev(st.st_dev), st.st_ino, &mask), -1);
	}
	assert_true(reported("libc.safetensors: a symlink of uid 0"));
	assert_true(reported("outside/secret, which no protect set covers"));
	protect__free(p);
	rules__free(&rs);
}

static void empty_files_are_ignored(void **state)
{
	struct ruleset rs;
	struct protect *p;
	struct protect_stats st;

	mkfile("a.safetensors", 0, 0);
	mkfile("b.safetensors", 1, 0);
	mkfile("c.safetensors", 5000, 0);
	p = mk(&rs, NULL, NULL);
	assert_int_equal(protect__scan(p, -1), 0);
	protect__stats(p, &st);
	assert_int_equal(st.files, 2);	/* default min_size: 1 byte */
	assert_int_equal(st.small, 1);
	protect__free(p);
	rules__free(&rs);

	p = mk(&rs, "    min_size: 4KiB\n", NULL);
	assert_int_equal(protect__scan(p, -1), 0);
	assert_int_equal(protect__count(p), 1);
	protect__free(p);
	rules__free(&rs);
}

static void per_owner_limit_keeps_room_for_others(void **state)
{
	struct ruleset rs;
	struct protect *p;
	char name[64];

	if (geteuid())
		skip();
	mkd("flood");
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "flood/f%02d.safetensors", i);
		mkfile(name, 10, 4242);
	}
	mkfile("zz-root.safetensors", 10, 0);
	mkfile("zz-other.safetensors", 10, 4343);
	p = mk(&rs, NULL, "limits:\n  files_per_owner: 10\n");
	assert_int_equal(protect__scan(p, -1), 0);
	assert_int_equal(protect__count(p), 12);	/* 10 of uid 4242, root's, 4343's */
	assert_int_equal(protect__skipped(p), 20);
	assert_int_equal(nmsgs, 1);
	assert_true(reported("and 19 more: uid 4242"));
	assert_true(reported("limits: files_per_owner"));
	{
		struct stat st;
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/zz-root.safetensors", root);
		assert_int_equal(stat(path, &st), 0);
		assert_true(protect__lookup(p, protect__kdev(st.st_dev), st.st_ino, NULL) > 0);
	}
	protect__free(p);
	rules__free(&rs);
}

static void table_full_and_reserve_are_reported(void **state)
{
	struct ruleset rs;
	struct protect *p;
	char name[64];

	if (geteuid())
		skip();
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "u%02d.safetensors", i);
		mkfile(name, 10, 5000 + i);	/* twelve owners, one file each */
	}
	p = mk(&rs, NULL, NULL);
	protect__set_capacity(p, 8);
	assert_int_equal(protect__scan(p, -1), 0);
	assert_int_equal(protect__count(p), 6);	/* 3/4 of 8 for non-root owners */
	assert_true(reported("kept for root's files"));
	protect__free(p);
	rules__free(&rs);

	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "r%02d.safetensors", i);
		mkfile(name, 10, 0);
	}
	nmsgs = 0;
	p = mk(&rs, NULL, NULL);
	protect__set_capacity(p, 8);
	assert_int_equal(protect__scan(p, -1), 0);
	assert_int_equal(protect__count(p), 8);
	assert_true(reported("table is full (8 entries)"));
	protect__free(p);
	rules__free(&rs);
}

static void set_max_files_and_owner_key(void **state)
{
	struct ruleset rs;
	struct protect *p;
	char name[64];

	if (geteuid())
		skip();
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "a%d.safetensors", i);
		mkfile(name, 10, 0);
	}
	mkfile("mine.safetensors", 10, 4444);
	p = mk(&rs, "    max_files: 3\n", NULL);
	assert_int_equal(protect__scan(p, -1), 0);
	assert_int_equal(protect__count(p), 3);
	assert_true(reported("holds its max_files (3)"));
	protect__free(p);
	rules__free(&rs);

	nmsgs = 0;
	p = mk(&rs, "    owner: [4444]\n", NULL);
	assert_int_equal(protect__scan(p, -1), 0);
	assert_int_equal(protect__count(p), 1);	/* only uid 4444's */
	assert_true(reported("and 4 more: owned by uid 0"));
	protect__free(p);
	rules__free(&rs);
}

static void deleted_files_leave_the_table(void **state)
{
	struct ruleset rs;
	struct protect *p;
	struct protect_stats st;
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	int fd;

	mkd("d");
	p = mk(&rs, NULL, NULL);
	assert_int_equal(protect__scan(p, -1), 0);
	assert_true(protect__watch(p) >= 0);
	mkfile("d/a.safetensors", 10, 0);
	mkfile("d/b.safetensors", 10, 0);
	mkfile("d/c.safetensors", 10, 0);
	assert_int_equal(protect__handle_inotify(p, -1), 3);
	assert_int_equal(protect__count(p), 3);

	snprintf(a, sizeof(a), "%s/d/a.safetensors", root);
	snprintf(b, sizeof(b), "%s/d/b.safetensors", root);
	snprintf(c, sizeof(c), "%s/d/c.safetensors", root);
	/* gone: removed */
	assert_int_equal(unlink(a), 0);
	protect__handle_inotify(p, -1);
	assert_int_equal(protect__count(p), 2);
	/* another link lives: kept */
	snprintf(a, sizeof(a), "%s/b-link.bin", root);
	assert_int_equal(link(b, a), 0);
	assert_int_equal(unlink(b), 0);
	protect__handle_inotify(p, -1);
	assert_int_equal(protect__count(p), 2);
	/* deleted while held open: kept until closed */
	fd = open(c, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(unlink(c), 0);
	protect__handle_inotify(p, -1);
	assert_int_equal(protect__count(p), 2);
	close(fd);
	sleep(1);
	usleep(100000);
	protect__tick(p);
	protect__stats(p, &st);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.removed, 2);
	/* a symlink created later is not protected either */
	snprintf(a, sizeof(a), "%s/d/link.safetensors", root);
	assert_int_equal(symlink("/etc/passwd", a), 0);
	assert_int_equal(protect__handle_inotify(p, -1), 0);
	protect__free(p);
	rules__free(&rs);
}

/* A directory renamed inside the watched tree: new files in it get their
 * real names. */
static void renamed_directories_keep_watching(void **state)
{
	struct ruleset rs;
	struct protect *p;
	char a[PATH_MAX], b[PATH_MAX];
	struct stat st;
	int id;

	mkd("d");
	mkd("d/sub");
	p = mk(&rs, NULL, NULL);
	assert_int_equal(protect__scan(p, -1), 0);
	assert_true(protect__watch(p) >= 0);
	snprintf(a, sizeof(a), "%s/d", root);
	snprintf(b, sizeof(b), "%s/e", root);
	assert_int_equal(rename(a, b), 0);
	protect__handle_inotify(p, -1);
	mkfile("e/sub/w.safetensors", 10, 0);
	assert_int_equal(protect__handle_inotify(p, -1), 1);
	snprintf(a, sizeof(a), "%s/e/sub/w.safetensors", root);
	assert_int_equal(stat(a, &st), 0);
	id = protect__lookup(p, protect__kdev(st.st_dev), st.st_ino, NULL);
	assert_true(id > 0);
	assert_string_equal(protect__path(p, id), a);
	protect__free(p);
	rules__free(&rs);
}

/* More events than the inotify queue holds: the overflow resynchronises,
 * files created are protected and files deleted leave. */
static void queue_overflow_resynchronises(void **state)
{
	struct ruleset rs;
	struct protect *p;
	char name[64], path[PATH_MAX];
	const int n = 20000;	/* > fs.inotify.max_queued_events (16384) */

	mkd("d");
	p = mk(&rs, NULL, NULL);
	assert_int_equal(protect__scan(p, -1), 0);
	assert_true(protect__watch(p) >= 0);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d/%05d.safetensors", i);
		mkfile(name, 1, 0);
	}
	protect__handle_inotify(p, -1);
	assert_int_equal(protect__count(p), n);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/d/%05d.safetensors", root, i);
		unlink(path);
	}
	protect__handle_inotify(p, -1);
	assert_int_equal(protect__count(p), 0);
	protect__free(p);
	rules__free(&rs);
}

/* Watches: per set (max_watches) and per owner (limits:), both reported. */
static void watch_limits_are_reported(void **state)
{
	struct ruleset rs;
	struct protect *p;
	struct protect_stats st;
	char name[64];

	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		mkd(name);
	}
	p = mk(&rs, "    max_watches: 3\n", NULL);
	assert_true(protect__watch(p) >= 0);
	protect__stats(p, &st);
	assert_int_equal(st.watches, 3);
	assert_int_equal(st.watches_skipped, 8);
	assert_true(reported("protect set 'w' has its max_watches (3) watched directories"));
	protect__free(p);
	rules__free(&rs);

	if (geteuid())
		return;
	for (int i = 0; i < 10; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/d%d", root, i);
		assert_int_equal(chown(path, 4545, 4545), 0);
	}
	nmsgs = 0;
	p = mk(&rs, NULL, "limits:\n  watches_per_owner: 4\n");
	assert_true(protect__watch(p) >= 0);
	protect__stats(p, &st);
	assert_int_equal(st.watches, 1 + 4);	/* root's top directory, 4 of uid 4545 */
	assert_true(reported("uid 4545 (no such user) already owns 4 watched directories"));
	protect__free(p);
	rules__free(&rs);
}

/* The default pack: files under 4 KiB are no weights (Python's
 * site-packages *.pth, read by every interpreter, used to taint them all). */
static void default_pack_skips_tiny_files(void **state)
{
	struct ruleset rs;
	char err[512];

	rules__init(&rs);
	assert_int_equal(rules__load_defaults(&rs, err, sizeof(err)), 0);
	assert_true(rs.nsets > 0);
	for (size_t i = 0; i < rs.nsets; i++) {
		assert_true(rs.sets[i].has_min_size);
		assert_int_equal(rs.sets[i].min_size, 4096);
		assert_false(rs.sets[i].has_owner);	/* the home rule applies */
	}
	assert_int_equal(rs.limits.files_per_owner, 4096);
	rules__free(&rs);
}

static void keys_are_validated(void **state)
{
	struct ruleset rs;
	char err[512] = "";
	const char *bad_owner =
		"protect:\n  - name: w\n    paths: [/x/**]\n    owner: no-such-user-vigil\n";
	const char *bad_mix =
		"protect:\n  - name: w\n    paths: [/x/**]\n    owner: [any, home]\n";
	const char *bad_limit = "limits:\n  files_per_owner: 0\n";
	const char *bad_key = "limits:\n  files: 5\n";
	const char *good =
		"protect:\n  - name: w\n    paths: [/x/**]\n    owner: [home, root, 4242]\n"
		"    min_size: 1KiB\n    max_files: 100\n    max_watches: 50\n"
		"limits:\n  files_per_owner: 7\n"
		"  watches_per_owner: 9\n";

	rules__init(&rs);
	assert_int_equal(rules__load_string(&rs, "t.yaml", bad_owner, strlen(bad_owner), err,
					    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.yaml:4:12: owner 'no-such-user-vigil' is not a user"));
	assert_int_equal(rules__load_string(&rs, "t.yaml", bad_mix, strlen(bad_mix), err,
					    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.yaml:4:12: owner 'any' cannot be combined"));
	assert_int_equal(rules__load_string(&rs, "t.yaml", bad_limit, strlen(bad_limit), err,
					    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.yaml:2:20: expected a whole number from 1"));
	assert_int_equal(rules__load_string(&rs, "t.yaml", bad_key, strlen(bad_key), err,
					    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.yaml:2:3: unknown field 'files' in limits"));
	assert_int_equal(rs.nsets, 0);
	assert_int_equal(rs.limits.files_per_owner, RULES_FILES_PER_OWNER);
	assert_int_equal(rules__load_string(&rs, "t.yaml", good, strlen(good), err, sizeof(err)), 0);
	assert_true(rs.sets[0].has_owner);
	assert_true(rs.sets[0].owner.home);
	assert_int_equal(rs.sets[0].owner.nuids, 2);
	assert_int_equal(rs.sets[0].owner.uids[0], 0);
	assert_int_equal(rs.sets[0].owner.uids[1], 4242);
	assert_int_equal(rs.sets[0].min_size, 1024);
	assert_int_equal(rs.sets[0].max_files, 100);
	assert_int_equal(rs.sets[0].max_watches, 50);
	assert_int_equal(rs.limits.files_per_owner, 7);
	assert_int_equal(rs.limits.watches_per_owner, 9);
	rules__free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(links_are_never_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_files_are_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(per_owner_limit_keeps_room_for_others, setup, teardown),
		cmocka_unit_test_setup_teardown(table_full_and_reserve_are_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(set_max_files_and_owner_key, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_files_leave_the_table, setup, teardown),
		cmocka_unit_test_setup_teardown(renamed_directories_keep_watching, setup, teardown),
		cmocka_unit_test_setup_teardown(queue_overflow_resynchronises, setup, teardown),
		cmocka_unit_test_setup_teardown(watch_limits_are_reported, setup, teardown),
		cmocka_unit_test(default_pack_skips_tiny_files),
		cmocka_unit_test(keys_are_validated),
	};

	return cmocka_run_group_tests_name("protect_hostile", tests, NULL, NULL);
}
