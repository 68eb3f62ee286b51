// SPDX-License-Identifier: GPL-2.0
/* Protected files on a real directory tree, without a kernel map (map fd
 * -1: the table only): globs and excludes resolve to identities, a hard
 * link is the same file, inotify finds files created later, a reload keeps
 * ids and drops what the new rules no longer name. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "protect.h"
#include "rules.h"

struct tree {
	char dir[64];
	struct ruleset rs;
	struct protect *p;
};

static void put(const char *dir, const char *rel)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "w", 1), 1);
	close(fd);
}

static void load(struct ruleset *rs, const char *dir, const char *extra)
{
	char y[1024], err[512];

	snprintf(y, sizeof(y),
		 "protect:\n"
		 "  - name: llm\n"
		 "    paths: [\"%s/**/*.safetensors\"]\n"
		 "    exclude: [\"**/scratch/**\"]\n"
		 "  - name: ckpt\n"
		 "    paths: [\"%s/ckpt/*\"%s]\n", dir, dir, extra);
	rules__init(rs);
	if (rules__load_string(rs, "t.yaml", y, strlen(y), err, sizeof(err)))
		fail_msg("%s", err);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char sub[128];

	snprintf(t->dir, sizeof(t->dir), "/tmp/vigil-test-protect-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(sub, sizeof(sub), "%s/m", t->dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/scratch", t->dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/ckpt", t->dir);
	mkdir(sub, 0700);
	put(t->dir, "m/a.safetensors");
	put(t->dir, "m/notes.txt");
	put(t->dir, "scratch/tmp.safetensors");
	put(t->dir, "ckpt/step1.safetensors");
	load(&t->rs, t->dir, "");
	t->p = protect__new(&t->rs);
	assert_non_null(t->p);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	protect__free(t->p);
	rules__free(&t->rs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

/* id and set mask of dir/rel (-1 if not protected) */
static int lookup(struct tree *t, const char *rel, uint32_t *mask)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	assert_int_equal(stat(path, &st), 0);
	*mask = 0;
	return protect__lookup(t->p, protect__kdev(st.st_dev), st.st_ino, mask);
}

static void globs_and_excludes_resolve_to_identities(void **state)
{
	struct tree *t = *state;
	char want[256], alias[256];
	uint32_t mask;
	int id;

	assert_int_equal(protect__scan(t->p, -1), 0);
	assert_int_equal(protect__count(t->p), 2);
	id = lookup(t, "m/a.safetensors", &mask);
	assert_true(id > 0);
	assert_int_equal(mask, 1);
	snprintf(want, sizeof(want), "%s/m/a.safetensors", t->dir);
	assert_string_equal(protect__path(t->p, id), want);
	assert_int_equal(lookup(t, "ckpt/step1.safetensors", &mask) > 0, 1);
	assert_int_equal(mask, 3);	/* in both sets */
	assert_true(lookup(t, "m/notes.txt", &mask) < 0);
	assert_true(lookup(t, "scratch/tmp.safetensors", &mask) < 0);	/* excluded */
	/* another name for the same inode is the same protected file */
	snprintf(alias, sizeof(alias), "%s/m/alias.bin", t->dir);
	assert_int_equal(link(want, alias), 0);
	assert_int_equal(lookup(t, "m/alias.bin", &mask), id);
	assert_int_equal(protect__set_bit(t->p, "ckpt"), 2);
	assert_int_equal(protect__set_bit(t->p, "*"), 3);
}

static void files_created_later_are_found_by_inotify(void **state)
{
	struct tree *t = *state;
	uint32_t mask;

	assert_int_equal(protect__scan(t->p, -1), 0);
	assert_true(protect__watch(t->p) >= 0);
	assert_true(protect__watches(t->p) >= 1);
	put(t->dir, "m/b.safetensors");
	put(t->dir, "m/b.txt");
	assert_int_equal(protect__handle_inotify(t->p, -1), 1);
	assert_int_equal(protect__count(t->p), 3);
	assert_true(lookup(t, "m/b.safetensors", &mask) > 0);
	assert_int_equal(mask, 1);
}

static void reload_keeps_ids_and_narrows_sets(void **state)
{
	struct tree *t = *state;
	struct ruleset nrs;
	uint32_t mask;
	int id;

	assert_int_equal(protect__scan(t->p, -1), 0);
	id = lookup(t, "m/a.safetensors", &mask);
	load(&nrs, "/nonexistent", "");	/* same set names, nothing matches */
	assert_int_equal(protect__reload(t->p, &nrs, -1), 0);
	/* no set names it any more: it leaves the table (and the kernel map),
	 * and taint that names its id still finds its path */
	assert_true(lookup(t, "m/a.safetensors", &mask) < 0);
	assert_non_null(protect__path(t->p, id));
	assert_non_null(strstr(protect__path(t->p, id), "m/a.safetensors"));
	protect__set_rules(t->p, &t->rs);
	rules__free(&nrs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(globs_and_excludes_resolve_to_identities, setup,
						teardown),
		cmocka_unit_test_setup_teardown(files_created_later_are_found_by_inotify, setup,
						teardown),
		cmocka_unit_test_setup_teardown(reload_keeps_ids_and_narrows_sets, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("protect", tests, NULL, NULL);
}
