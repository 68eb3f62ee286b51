// SPDX-License-Identifier: GPL-2.0
/* Glob matching, validation, static prefixes, pruning and walking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "glob.h"

#define M(p, s) assert_true(glob__match(p, s))
#define N(p, s) assert_false(glob__match(p, s))

static void match_literal_and_single(void **state)
{
	M("/a/b", "/a/b");
	N("/a/b", "/a/c");
	N("/a/b", "/a/b/c");
	N("/a/b/c", "/a/b");
	M("/a//b/", "/a/b");	/* empty components mean nothing */
	M("/a/b", "//a///b");
	M("/", "/");
	M("/a/*.txt", "/a/x.txt");
	M("/a/*.txt", "/a/.txt");
	M("/a/*", "/a/.hidden");	/* hidden files are not exempt */
	N("/a/*.txt", "/a/b/x.txt");	/* '*' never crosses '/' */
	N("/*", "/a/b");
	M("/a/?", "/a/x");
	N("/a/?", "/a/xy");
	N("/a?b", "/a/b");		/* '?' never matches '/' */
	M("/a/*b*c*", "/a/xxbyyczz");
	M("/a/*b*c*", "/a/bc");
	N("/a/*b*c*", "/a/cb");
	M("/a/x*", "/a/x");
	M("/a/***", "/a/anything");	/* invalid, but harmless as '*' */
}

static void match_brackets_and_escapes(void **state)
{
	M("/a/[abc].x", "/a/b.x");
	N("/a/[abc].x", "/a/d.x");
	M("/a/[a-c0-9]", "/a/7");
	N("/a/[a-c0-9]", "/a/z");
	M("/a/[!a-c]", "/a/z");
	N("/a/[!a-c]", "/a/b");
	M("/a/[^a-c]", "/a/z");
	N("/a/[^a-c]", "/a/a");
	M("/a/[]]", "/a/]");		/* ']' first is a member */
	M("/a/[!]]", "/a/x");
	N("/a/[!]]", "/a/]");
	M("/a/[a-]", "/a/-");		/* trailing '-' is literal */
	M("/a/[\\]]", "/a/]");
	M("/a/\\*", "/a/*");
	N("/a/\\*", "/a/x");
	M("/a/\\?\\[", "/a/?[");
	N("/a/\\?", "/a/x");
	M("/a/[", "/a/[");		/* unclosed '[' is literal when matching */
	M("/a/[*]", "/a/*");
	N("/a/[*]", "/a/x");
	M("/\xc3\xa9t\xc3\xa9", "/\xc3\xa9t\xc3\xa9");
}

static void match_double_star(void **state)
{
	M("/a/**/b", "/a/b");		/* zero components */
	M("/a/**/b", "/a/x/b");
	M("/a/**/b", "/a/x/y/z/b");
	N("/a/**/b", "/a/x/y/c");
	N("/a/**/b", "/a/b/c");
	M("/a/**", "/a/b");
	M("/a/**", "/a/b/c/d");
	M("/a/**", "/a");
	N("/a/**", "/b/a");
	M("/**", "/x/y");
	M("/**/*.md", "/README.md");
	M("/**/*.md", "/a/b/c/README.md");
	N("/**/*.md", "/a/b/c/README.txt");
	M("/a/**/b/**/c", "/a/b/c");
	M("/a/**/b/**/c", "/a/x/b/y/b/z/c");
	N("/a/**/b/**/c", "/a/x/c");
	M("/**/**/x", "/x");
	M("/a/**/**", "/a/q");
	M("/home/*/.ssh/**", "/home/alice/.ssh/id_rsa");
	N("/home/*/.ssh/**", "/home/alice/bob/.ssh/id_rsa");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pathological_is_fast(void **state)
{
	char path[4096], comp[64];
	double t0 = now();
	size_t n = 0;

	memset(comp, 'a', sizeof(comp) - 1);
	comp[sizeof(comp) - 1] = '\0';
	while (n + sizeof(comp) + 1 < sizeof(path) - 1) {
		path[n++] = '/';
		memcpy(path + n, comp, sizeof(comp) - 1);
		n += sizeof(comp) - 1;
	}
	path[n] = '\0';
	for (int i = 0; i < 50; i++) {
		N("/**/**/**/*a*a*a*a*b", path);
		N("/**/**/**/**/**/**/*a*a*a*a*a*a*a*a*b/**/**/x", path);
	}
	M("/**/**/**/*a*a*a*a*", path);
	assert_true(now() - t0 < 2.0);
}

static void validate(void **state)
{
	char err[256];

	assert_int_equal(glob__validate("/a/**/b/*.x", err, sizeof(err)), 0);
	assert_int_equal(glob__validate("/a/[!a-z]/\\*", err, sizeof(err)), 0);
	assert_int_equal(glob__validate("/", err, sizeof(err)), 0);
	assert_int_equal(glob__validate("/**", err, sizeof(err)), 0);

	assert_int_equal(glob__validate("", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(glob__validate("a/b", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "absolute"));
	assert_int_equal(glob__validate("/a/[bc", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unterminated"));
	assert_int_equal(glob__validate("/a/[b/c]", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unterminated"));
	assert_int_equal(glob__validate("/a/[]", err, sizeof(err)), -EINVAL);
	assert_int_equal(glob__validate("/a/b\\", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "trailing backslash"));
	assert_int_equal(glob__validate("/a/**b", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "whole path component"));
	assert_int_equal(glob__validate("/a/b**/c", err, sizeof(err)), -EINVAL);
	assert_int_equal(glob__validate("/a/***", err, sizeof(err)), -EINVAL);
	assert_int_equal(glob__validate("/a/\\**", err, sizeof(err)), 0);
	/* a tiny buffer still gets a terminated message */
	assert_int_equal(glob__validate("", err, 3), -EINVAL);
	assert_int_equal(strlen(err), 2);
}

static void static_prefix(void **state)
{
	char b[256];

	assert_int_equal(glob__static_prefix("/home/*/.cache/x", b, sizeof(b)), 5);
	assert_string_equal(b, "/home");
	assert_int_equal(glob__static_prefix("/models/**", b, sizeof(b)), 7);
	assert_string_equal(b, "/models");
	assert_int_equal(glob__static_prefix("/a/b.safetensors", b, sizeof(b)), 2);
	assert_string_equal(b, "/a");
	assert_int_equal(glob__static_prefix("/*.x", b, sizeof(b)), 1);
	assert_string_equal(b, "/");
	assert_int_equal(glob__static_prefix("/**", b, sizeof(b)), 1);
	assert_string_equal(b, "/");
	assert_int_equal(glob__static_prefix("/x", b, sizeof(b)), 1);
	assert_string_equal(b, "/");
	glob__static_prefix("/a/b/c/d?/e", b, sizeof(b));
	assert_string_equal(b, "/a/b/c");
	glob__static_prefix("/a//b///c/*", b, sizeof(b));
	assert_string_equal(b, "/a/b/c");
	glob__static_prefix("/a/b\\*/c", b, sizeof(b));	/* escapes stop it too */
	assert_string_equal(b, "/a");
	glob__static_prefix("/a/[bc]/d", b, sizeof(b));
	assert_string_equal(b, "/a");
	/* truncation: snprintf-like */
	assert_int_equal(glob__static_prefix("/models/big/**", b, 5), 11);
	assert_string_equal(b, "/mod");
}

static void could_match_below(void **state)
{
	assert_true(glob__could_match_below("/a/b/*.x", "/"));
	assert_true(glob__could_match_below("/a/b/*.x", "/a"));
	assert_true(glob__could_match_below("/a/b/*.x", "/a/b"));
	assert_false(glob__could_match_below("/a/b/*.x", "/a/b/c"));
	assert_false(glob__could_match_below("/a/b/*.x", "/a/c"));
	assert_false(glob__could_match_below("/a/b/*.x", "/z"));
	assert_true(glob__could_match_below("/home/*/.ssh/id_*", "/home/alice"));
	assert_true(glob__could_match_below("/home/*/.ssh/id_*", "/home/alice/.ssh"));
	assert_false(glob__could_match_below("/home/*/.ssh/id_*", "/home/alice/docs"));
	assert_true(glob__could_match_below("/models/**", "/models"));
	assert_true(glob__could_match_below("/models/**", "/models/a/b/c"));
	assert_false(glob__could_match_below("/models/**", "/modelsx"));
	assert_true(glob__could_match_below("/**/*.md", "/any/where"));
	assert_false(glob__could_match_below("/a/b", "/a/b"));
	assert_true(glob__could_match_below("/a/b", "/a"));
	assert_true(glob__could_match_below("/a/[bc]/x", "/a/c"));
	assert_false(glob__could_match_below("/a/[bc]/x", "/a/d"));
}

/* ---- walking a real tree ---- */

static char root[64];	/* small, so paths built from it provably fit */

struct seen {
	char paths[64][PATH_MAX];
	unsigned n;
	int stop_at;	/* return 7 on this call number (1-based), 0: never */
};

static int collect(const char *path, const struct stat *st, void *ctx)
{
	struct seen *s = ctx;

	assert_true(S_ISREG(st->st_mode));
	if (s->n < 64)
		snprintf(s->paths[s->n], PATH_MAX, "%s", path);
	s->n++;
	return s->stop_at && (int)s->n == s->stop_at ? 7 : 0;
}

static bool saw(const struct seen *s, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (unsigned i = 0; i < s->n && i < 64; i++)
		if (!strcmp(s->paths[i], p))
			return true;
	return false;
}

static void touch(const char *rel)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static void mkd(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static int tree_setup(void **state)
{
	char p[PATH_MAX], t[PATH_MAX];

	snprintf(root, sizeof(root), "/tmp/vigil-glob-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	mkd("m");
	mkd("m/sub");
	mkd("m/sub/deep");
	mkd("other");
	touch("m/a.safetensors");
	touch("m/b.bin");
	touch("m/sub/c.safetensors");
	touch("m/sub/deep/d.safetensors");
	touch("other/e.safetensors");
	touch("other/secret.txt");
	/* a symlinked directory inside m pointing at other: must not be followed */
	snprintf(p, sizeof(p), "%s/m/link", root);
	snprintf(t, sizeof(t), "%s/other", root);
	if (symlink(t, p))
		return -1;
	/* a symlink to a regular file: reported under its own path */
	snprintf(p, sizeof(p), "%s/m/filelink.safetensors", root);
	snprintf(t, sizeof(t), "%s/other/e.safetensors", root);
	if (symlink(t, p))
		return -1;
	/* a dangling symlink: ignored */
	snprintf(p, sizeof(p), "%s/m/dangling.safetensors", root);
	if (symlink("/nonexistent/vigil", p))
		return -1;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int tree_teardown(void **state)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void walk_double_star(void **state)
{
	struct seen *s = calloc(1, sizeof(*s));
	char pat[PATH_MAX];

	snprintf(pat, sizeof(pat), "%s/m/**/*.safetensors", root);
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(s->n, 3);
	assert_true(saw(s, "m/a.safetensors"));
	assert_true(saw(s, "m/sub/c.safetensors"));
	assert_true(saw(s, "m/sub/deep/d.safetensors"));
	assert_false(saw(s, "m/filelink.safetensors"));	/* a link is not the file */
	assert_false(saw(s, "m/link/e.safetensors"));	/* symlinked dir not followed */

	/* executables (allow: exe) may be links: reported with the flag */
	memset(s, 0, sizeof(*s));
	assert_int_equal(glob__walk(pat, collect, s, 0, GLOB_FOLLOW_FILE_LINKS), 0);
	assert_int_equal(s->n, 4);
	assert_true(saw(s, "m/filelink.safetensors"));
	assert_false(saw(s, "m/dangling.safetensors"));
	free(s);
}

static void walk_single_level_and_all(void **state)
{
	struct seen *s = calloc(1, sizeof(*s));
	char pat[PATH_MAX];

	snprintf(pat, sizeof(pat), "%s/m/*", root);
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(s->n, 2);	/* a.safetensors, b.bin; not filelink */
	assert_true(saw(s, "m/b.bin"));

	memset(s, 0, sizeof(*s));
	snprintf(pat, sizeof(pat), "%s/**", root);
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(s->n, 6);
	assert_true(saw(s, "other/secret.txt"));
	free(s);
}

static void walk_literal_missing_limit_stop(void **state)
{
	struct seen *s = calloc(1, sizeof(*s));
	char pat[PATH_MAX];

	snprintf(pat, sizeof(pat), "%s/other/secret.txt", root);
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(s->n, 1);
	assert_true(saw(s, "other/secret.txt"));

	memset(s, 0, sizeof(*s));
	snprintf(pat, sizeof(pat), "%s/other", root);	/* a directory: nothing */
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(s->n, 0);

	snprintf(pat, sizeof(pat), "%s/nope/**", root);
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	snprintf(pat, sizeof(pat), "%s/nope/x", root);
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(s->n, 0);

	/* max_files caps the callbacks */
	snprintf(pat, sizeof(pat), "%s/**", root);
	assert_int_equal(glob__walk(pat, collect, s, 2, 0), 0);
	assert_int_equal(s->n, 2);

	/* a non-zero callback return stops and is returned */
	memset(s, 0, sizeof(*s));
	s->stop_at = 3;
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 7);	/* the cb's value */
	assert_int_equal(s->n, 3);

	assert_int_equal(glob__walk("relative/*", collect, s, 0, 0), -EINVAL);
	free(s);
}

/* The walk's root is reached through root-owned links only: a link anyone
 * else made (a user's ~/models -> /etc) is not followed, and a literal path
 * that is a link names no file. */
static void walk_root_links_trusted_only(void **state)
{
	struct seen *s = calloc(1, sizeof(*s));
	char pat[PATH_MAX], l[PATH_MAX], t[PATH_MAX];

	snprintf(t, sizeof(t), "%s/other", root);
	snprintf(l, sizeof(l), "%s/rootlink", root);
	assert_int_equal(symlink(t, l), 0);
	snprintf(pat, sizeof(pat), "%s/rootlink/*.safetensors", root);
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(s->n, 1);	/* root's link: followed */

	assert_int_equal(lchown(l, 65534, 65534), 0);
	memset(s, 0, sizeof(*s));
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(s->n, 0);	/* nobody's link: not followed */
	assert_int_equal(glob__open_dir(l), -EPERM);
	unlink(l);

	snprintf(pat, sizeof(pat), "%s/m/filelink.safetensors", root);
	memset(s, 0, sizeof(*s));
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(s->n, 0);
	assert_int_equal(glob__walk(pat, collect, s, 0, GLOB_FOLLOW_FILE_LINKS), 0);
	assert_int_equal(s->n, 1);
	free(s);
}

static void walk_prunes_unreadable(void **state)
{
	struct seen *s = calloc(1, sizeof(*s));
	char pat[PATH_MAX], d[PATH_MAX];

	/* root ignores permissions, so this only proves EACCES is harmless */
	snprintf(d, sizeof(d), "%s/other", root);
	assert_int_equal(chmod(d, 0), 0);
	snprintf(pat, sizeof(pat), "%s/*/*.txt", root);
	assert_int_equal(glob__walk(pat, collect, s, 0, 0), 0);
	assert_int_equal(chmod(d, 0755), 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(match_literal_and_single),
		cmocka_unit_test(match_brackets_and_escapes),
		cmocka_unit_test(match_double_star),
		cmocka_unit_test(pathological_is_fast),
		cmocka_unit_test(validate),
		cmocka_unit_test(static_prefix),
		cmocka_unit_test(could_match_below),
		cmocka_unit_test(walk_double_star),
		cmocka_unit_test(walk_single_level_and_all),
		cmocka_unit_test(walk_literal_missing_limit_stop),
		cmocka_unit_test(walk_prunes_unreadable),
		cmocka_unit_test(walk_root_links_trusted_only),
	};

	return cmocka_run_group_tests_name("glob", tests, tree_setup, tree_teardown);
}
