// SPDX-License-Identifier: GPL-2.0
/* Glob matching, validation and directory walking.
 *
 * Matching works on two levels, each with the classic single-restart
 * wildcard algorithm: components against components (where "**" is the
 * star), and characters against characters inside one component (where "*"
 * is the star). Each level is O(n*m) in the worst case, so no pattern can
 * blow up exponentially. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "glob.h"

struct comp {
	const char *s;
	size_t n;
};

/* Next '/'-separated component at or after p (empty ones are skipped, so
 * "//" and a trailing '/' mean nothing). In patterns a backslash protects
 * the next character. Returns the position after it, or NULL at the end. */
static const char *next_comp(const char *p, struct comp *c, bool pattern)
{
	while (*p == '/')
		p++;
	if (!*p)
		return NULL;
	c->s = p;
	while (*p && *p != '/') {
		if (pattern && *p == '\\' && p[1])
			p++;
		p++;
	}
	c->n = (size_t)(p - c->s);
	return p;
}

static bool is_dstar(const struct comp *c)
{
	return c->n == 2 && c->s[0] == '*' && c->s[1] == '*';
}

/* p points at '['. Returns the position after the closing ']' (setting
 * *hit to whether ch is in the set), or NULL if the bracket never closes
 * before pe. A ']' right after '[' or '[!' is a member, as in POSIX. */
static const char *bracket(const char *p, const char *pe, unsigned char ch, bool *hit)
{
	bool neg = false, in = false, first = true;

	p++;
	if (p < pe && (*p == '!' || *p == '^')) {
		neg = true;
		p++;
	}
	while (p < pe && (*p != ']' || first)) {
		unsigned char lo, hi;

		first = false;
		if (*p == '\\' && ++p >= pe)
			return NULL;
		lo = hi = (unsigned char)*p++;
		if (p + 1 < pe && *p == '-' && p[1] != ']') {
			p++;
			if (*p == '\\' && ++p >= pe)
				return NULL;
			hi = (unsigned char)*p++;
		}
		if (lo <= ch && ch <= hi)
			in = true;
	}
	if (p >= pe)
		return NULL;
	if (hit)
		*hit = in != neg;
	return p + 1;
}

/* One pattern component against one path component. */
static bool comp_match(const struct comp *pc, const struct comp *sc)
{
	const char *p = pc->s, *pe = pc->s + pc->n;
	const char *s = sc->s, *se = sc->s + sc->n;
	const char *star_p = NULL, *star_s = NULL;

	while (s < se) {
		if (p < pe && *p == '*') {
			while (p < pe && *p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (p < pe) {
			const char *np = NULL;
			bool ok;

			if (*p == '?') {
				ok = true;
				np = p + 1;
			} else if (*p == '[' &&
				   (np = bracket(p, pe, (unsigned char)*s, &ok))) {
				/* np and ok set */
			} else if (*p == '\\' && p + 1 < pe) {
				ok = p[1] == *s;
				np = p + 2;
			} else {	/* literal, including an unclosed '[' */
				ok = *p == *s;
				np = p + 1;
			}
			if (ok) {
				p = np;
				s++;
				continue;
			}
		}
		if (!star_p)
			return false;
		/* Let the last '*' swallow one more character and retry. */
		p = star_p;
		s = ++star_s;
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

bool glob__match(const char *pattern, const char *path)
{
	const char *p = pattern, *s = path, *star_p = NULL, *star_s = NULL;
	struct comp pc, sc;

	if (!pattern || !path)
		return false;
	for (;;) {
		const char *s2 = next_comp(s, &sc, false);
		const char *p2;

		if (!s2)
			break;
		p2 = next_comp(p, &pc, true);
		if (p2 && is_dstar(&pc)) {
			star_p = p = p2;
			star_s = s;
			continue;
		}
		if (p2 && comp_match(&pc, &sc)) {
			p = p2;
			s = s2;
			continue;
		}
		if (!star_p)
			return false;
		/* Let the last "**" swallow one more component and retry. */
		next_comp(star_s, &sc, false);
		star_s = sc.s + sc.n;
		s = star_s;
		p = star_p;
	}
	/* Path used up: whatever is left of the pattern must be "**". */
	for (;;) {
		const char *p2 = next_comp(p, &pc, true);

		if (!p2)
			return true;
		if (!is_dstar(&pc))
			return false;
		p = p2;
	}
}

int glob__validate(const char *pattern, char *err, size_t errlen)
{
	const char *p;
	struct comp c;

	if (!pattern || !*pattern) {
		snprintf(err, errlen, "empty pattern");
		return -EINVAL;
	}
	if (pattern[0] != '/') {
		snprintf(err, errlen, "pattern '%s' is not absolute (must start with '/')",
			 pattern);
		return -EINVAL;
	}
	for (p = pattern; (p = next_comp(p, &c, true));) {
		const char *q = c.s, *qe = c.s + c.n;

		while (q < qe) {
			if (*q == '\\') {
				if (q + 1 >= qe) {
					snprintf(err, errlen, "trailing backslash in '%s'", pattern);
					return -EINVAL;
				}
				q += 2;
			} else if (*q == '[') {
				const char *e = bracket(q, qe, 0, NULL);

				if (!e) {
					snprintf(err, errlen,
						 "unterminated '[' at offset %zu in '%s'",
						 (size_t)(q - pattern), pattern);
					return -EINVAL;
				}
				q = e;
			} else if (*q == '*' && q + 1 < qe && q[1] == '*' && !is_dstar(&c)) {
				snprintf(err, errlen,
					 "'**' must be a whole path component (like /a/**/b) in '%s'",
					 pattern);
				return -EINVAL;
			} else {
				q++;
			}
		}
	}
	return 0;
}

static bool has_wild(const struct comp *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (strchr("*?[\\", c->s[i]))
			return true;
	return false;
}

size_t glob__static_prefix(const char *pattern, char *buf, size_t buflen)
{
	const char *p = pattern, *p2, *end = pattern;
	struct comp c, nc;
	size_t n;

	/* Take components while they are literal and not the last one (the
	 * last names the file, not a directory). */
	while ((p2 = next_comp(p, &c, true)) && !has_wild(&c) && next_comp(p2, &nc, true)) {
		end = c.s + c.n;
		p = p2;
	}
	if (end == pattern) {
		snprintf(buf, buflen, "/");
		return 1;
	}
	/* Re-join to drop doubled slashes. */
	n = 0;
	for (p = pattern; (p2 = next_comp(p, &c, true)) && c.s < end; p = p2) {
		if (n + 1 < buflen)
			buf[n] = '/';
		for (size_t i = 0; i < c.n; i++)
			if (n + 1 + i + 1 < buflen)
				buf[n + 1 + i] = c.s[i];
		n += 1 + c.n;
	}
	if (buflen)
		buf[n < buflen ? n : buflen - 1] = '\0';
	return n;
}

bool glob__could_match_below(const char *pattern, const char *dir)
{
	const char *p = pattern, *d = dir, *p2;
	struct comp pc, dc;

	while ((d = next_comp(d, &dc, false))) {
		p2 = next_comp(p, &pc, true);
		if (!p2)
			return false;	/* pattern ends above dir */
		if (is_dstar(&pc))
			return true;
		if (!comp_match(&pc, &dc))
			return false;
		p = p2;
	}
	/* dir itself matched so far: something below needs another component. */
	return next_comp(p, &pc, true) != NULL;
}

/* ---- safe opening --------------------------------------------------------- */

/* One step of glob__open_dir: open `comp` below dirfd as O_PATH, following
 * it only if it is a symlink root owns. */
static int open_comp(int dirfd, const char *comp, int *links);

/* Resolve `path` (absolute, or relative to dirfd) component by component. */
static int resolve_at(int dirfd, const char *path, int *links)
{
	char comp[NAME_MAX + 1];
	const char *p = path;
	int fd;

	fd = path[0] == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
			    : fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (*p) {
		size_t n;
		int nfd;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n > NAME_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (!strcmp(comp, "."))
			continue;
		nfd = open_comp(fd, comp, links);
		close(fd);
		if (nfd < 0)
			return nfd;
		fd = nfd;
	}
	return fd;
}

static int open_comp(int dirfd, const char *comp, int *links)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISLNK(st.st_mode))
		return fd;
	/* A link root made is the administrator's layout (/models -> /data/m);
	 * anyone else's is not followed. The target is read from the link we
	 * checked (the fd), not from a name that could be swapped meanwhile. */
	if (st.st_uid != 0 || ++*links > 40) {
		close(fd);
		return st.st_uid != 0 ? -EPERM : -ELOOP;
	}
	n = readlinkat(fd, "", target, sizeof(target) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	target[n] = '\0';
	return resolve_at(dirfd, target, links);
}

int glob__open_dir(const char *dir)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS };
	int links = 0, fd, dfd;
	struct stat st;

	if (!dir || dir[0] != '/')
		return -EINVAL;
	/* no link on the way: one syscall; otherwise walk and judge each link */
	fd = syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno != ELOOP && errno != ENOSYS && errno != EPERM)
		return -errno;
	fd = resolve_at(AT_FDCWD, dir, &links);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || !S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	return dfd < 0 ? -errno : dfd;
}

/* ---- walking ------------------------------------------------------------ */

/* Directories deeper than this below a walk's root are not entered: deep
 * enough for any model tree, shallow enough that one fd per level never runs
 * the agent out of descriptors. */
#define WALK_MAX_DEPTH 64

struct walk {
	const char *const *patterns;
	size_t npatterns;
	glob_walk_many_cb cb;
	void *ctx;
	unsigned max, count;
	unsigned flags;
	bool limited;		/* stopped by max, not by the callback */
	char path[PATH_MAX];
};

/* Only resource exhaustion is worth reporting; everything else (EACCES,
 * ENOENT from a racing unlink, ENOTDIR...) just means "nothing here". */
static int soft(int e)
{
	return (e == ENOMEM || e == EMFILE || e == ENFILE) ? -e : 0;
}

static bool any_below(const struct walk *w)
{
	for (size_t i = 0; i < w->npatterns; i++)
		if (glob__could_match_below(w->patterns[i], w->path))
			return true;
	return false;
}

/* Cheap reject before the full match: the file name must match the
 * pattern's last component unless that is "**". Walking a home directory
 * against "*.safetensors" rejects nearly every file here. */
static bool name_could_match(const char *pattern, const char *name)
{
	const char *last = strrchr(pattern, '/');
	struct comp pc, nc;

	if (!last)
		return true;
	last++;
	pc.s = last;
	pc.n = strlen(last);
	if (is_dstar(&pc))
		return true;
	nc.s = name;
	nc.n = strlen(name);
	return comp_match(&pc, &nc);
}

/* Report w->path (a regular file; a symlink to one only with
 * GLOB_FOLLOW_FILE_LINKS) to every pattern it matches; stat only once
 * something matched. */
static int report_file(struct walk *w, int dfd, const char *name, unsigned char type)
{
	bool have_st = false;
	struct stat st;
	int ret = 0;

	if (type == DT_LNK && !(w->flags & (GLOB_FOLLOW_FILE_LINKS | GLOB_REPORT_LINKS)))
		return 0;	/* a link is not the file it names */
	for (size_t i = 0; i < w->npatterns && !ret; i++) {
		if (!name_could_match(w->patterns[i], name) ||
		    !glob__match(w->patterns[i], w->path))
			continue;
		if (!have_st) {
			bool follow = type == DT_LNK && (w->flags & GLOB_FOLLOW_FILE_LINKS);

			/* NOFOLLOW: a file swapped for a link since readdir
			 * is a link now, not a regular file */
			if (fstatat(dfd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) ||
			    !(S_ISREG(st.st_mode) ||
			      (S_ISLNK(st.st_mode) && (w->flags & GLOB_REPORT_LINKS))))
				return 0;
			have_st = true;
		}
		ret = w->cb(w->path, &st, dfd, name, i, w->ctx);
		if (!ret && w->max && ++w->count >= w->max) {
			w->limited = true;
			ret = 1;
		}
	}
	return ret;
}

/* dfd: the open directory w->path names (taken over: closed here). Every
 * level below is opened relative to its parent with O_NOFOLLOW, so renaming
 * a directory into a symlink mid-walk cannot lead the walk out of the tree. */
static int walk_dir(struct walk *w, int dfd, size_t len, int depth)
{
	struct dirent *de;
	int ret = 0;
	DIR *dh;

	dh = fdopendir(dfd);
	if (!dh) {
		ret = soft(errno);
		close(dfd);
		return ret;
	}
	while ((de = readdir(dh))) {
		const char *name = de->d_name;
		size_t nlen = strlen(name), sep = (len > 1 || w->path[0] != '/') ? 1 : 0;
		unsigned char type = de->d_type;
		struct stat st;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (len + sep + nlen + 1 > sizeof(w->path))
			continue;	/* too deep to name; nothing could open it */
		/* d_type saves a stat per entry on the large trees the default
		 * rules walk; stat relative to the open dir when it is unknown */
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(dh), name, &st, AT_SYMLINK_NOFOLLOW))
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG :
			       S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
		}
		if (sep)
			w->path[len] = '/';
		memcpy(w->path + len + sep, name, nlen + 1);
		if (type == DT_DIR) {
			if (depth < WALK_MAX_DEPTH && any_below(w)) {
				int sub = openat(dirfd(dh), name, O_RDONLY | O_DIRECTORY |
						 O_NOFOLLOW | O_CLOEXEC);

				ret = sub < 0 ? soft(errno)
					      : walk_dir(w, sub, len + sep + nlen, depth + 1);
			}
		} else if (type == DT_REG || type == DT_LNK) {
			ret = report_file(w, dirfd(dh), name, type);
		}
		w->path[len] = '\0';
		if (ret)
			break;
	}
	closedir(dh);
	return ret;
}

int glob__walk_many(const char *root, const char *const *patterns, size_t npatterns,
		    glob_walk_many_cb cb, void *ctx, unsigned max_files, unsigned flags)
{
	struct walk w = { .patterns = patterns, .npatterns = npatterns, .cb = cb,
			  .ctx = ctx, .max = max_files, .flags = flags };
	size_t n;
	int ret, dfd;

	if (!root || root[0] != '/' || !cb)
		return -EINVAL;
	for (size_t i = 0; i < npatterns; i++)
		if (!patterns[i] || patterns[i][0] != '/')
			return -EINVAL;
	n = strlen(root);
	if (n >= sizeof(w.path))
		return -ENAMETOOLONG;
	memcpy(w.path, root, n + 1);
	dfd = glob__open_dir(root);
	if (dfd < 0)
		return soft(-dfd);
	ret = walk_dir(&w, dfd, n, 0);
	/* The limit stop is ours, not the caller's: report it as done. */
	return w.limited ? 0 : ret;
}

struct one_pattern {
	glob_walk_cb cb;
	void *ctx;
};

static int one_cb(const char *path, const struct stat *st, int dfd, const char *name,
		  size_t idx, void *ctx)
{
	struct one_pattern *o = ctx;

	return o->cb(path, st, o->ctx);
}

/* A literal pattern names one file: open its directory safely, no scan. */
static int walk_literal(const char *pattern, glob_walk_many_cb cb, void *ctx, unsigned flags)
{
	bool follow = flags & GLOB_FOLLOW_FILE_LINKS;
	char dir[PATH_MAX];
	const char *slash = strrchr(pattern, '/'), *name = slash + 1;
	struct stat st;
	int dfd, ret;

	if ((size_t)(slash - pattern) >= sizeof(dir) || !*name)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", slash == pattern ? 1 : (int)(slash - pattern),
		 pattern);
	dfd = glob__open_dir(dir);
	if (dfd < 0)
		return 0;
	if (fstatat(dfd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) ||
	    !(S_ISREG(st.st_mode) || (S_ISLNK(st.st_mode) && (flags & GLOB_REPORT_LINKS)))) {
		close(dfd);
		return 0;
	}
	ret = cb(pattern, &st, dfd, name, 0, ctx);
	close(dfd);
	return ret;
}

int glob__walk_literal(const char *path, glob_walk_many_cb cb, void *ctx, unsigned flags)
{
	if (!path || path[0] != '/' || !cb)
		return -EINVAL;
	return walk_literal(path, cb, ctx, flags);
}

int glob__walk(const char *pattern,
	       int (*cb)(const char *path, const struct stat *st, void *ctx),
	       void *ctx, unsigned max_files, unsigned flags)
{
	struct one_pattern o = { .cb = cb, .ctx = ctx };
	size_t n;

	if (!pattern || pattern[0] != '/' || !cb)
		return -EINVAL;
	if (!strpbrk(pattern, "*?[\\"))
		return walk_literal(pattern, one_cb, &o, flags);
	{
		char root[PATH_MAX];

		n = glob__static_prefix(pattern, root, sizeof(root));
		if (n >= sizeof(root))
			return -ENAMETOOLONG;
		return glob__walk_many(root, &pattern, 1, one_cb, &o, max_files, flags);
	}
}
