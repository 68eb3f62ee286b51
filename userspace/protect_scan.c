// SPDX-License-Identifier: GPL-2.0
/* Walking the protect sets' globs: the start-up scan (one pass per root
 * directory), a reload's rescan, and what a walk meets (links, excludes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glob.h"
#include "protect_state.h"
#include "rules.h"

void pscan__link_seen(struct protect *p, const char *path, const struct stat *lst)
{
	char tgt[PATH_MAX], d[PATH_MAX + 8];
	struct stat st;

	if (!realpath(path, tgt) || stat(tgt, &st) || !S_ISREG(st.st_mode) ||
	    protect__lookup(p, protect__kdev(st.st_dev), st.st_ino, NULL) > 0)
		return;
	for (size_t s = 0; s < p->rs->nsets; s++)
		for (size_t g = 0; g < p->rs->sets[s].npaths; g++)
			if (glob__match(p->rs->sets[s].paths[g], tgt))
				return;
	snprintf(d, sizeof(d), "%s", tgt);
	plimits__refuse(p, R_LINK, lst->st_uid, path, d);
}

int pscan__on_match(const char *path, const struct stat *st, int dfd, const char *name,
			 size_t idx, void *data)
{
	struct scan_ctx *c = data;
	const struct scan_item *it = &c->items[idx];
	int r;

	if (pscan__excluded(&c->p->rs->sets[it->set], path))
		return 0;
	if (S_ISLNK(st->st_mode)) {
		pscan__link_seen(c->p, path, st);
		return 0;
	}
	r = ptable__add(c->p, path, st, dfd, name, it->set);
	if (r < 0)
		return r;
	c->added += r;
	return 0;
}

bool pscan__excluded(const struct protect_set *s, const char *path)
{
	for (size_t i = 0; i < s->nexcludes; i++)
		if (rules__glob_match(s->excludes[i], path))
			return true;
	return false;
}

static void recount_sets(struct protect *p)
{
	memset(p->set_files, 0, sizeof(p->set_files));
	for (size_t i = 0; i < p->nslots; i++)
		for (unsigned b = 0; b < VIGIL_MAX_SETS; b++)
			if (p->files[i].state != F_FREE && (p->files[i].mask & (1u << b)))
				p->set_files[b]++;
}

/* New rules: files keep their ids (taint records name them), masks are
 * recomputed, files no set wants any more (or whose owner no longer fits)
 * leave the kernel map last, so nothing is unprotected in between. */
int protect__reload(struct protect *p, const struct ruleset *rs, int map_fd)
{
	const struct ruleset *old_rs = p->rs;
	uint32_t *old = calloc(p->nslots + 1, sizeof(*old));
	size_t n = p->nslots;
	int ret;

	if (!old)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		old[i] = p->files[i].mask;
		/* deleted but held open: no walk finds it, the tick removes it */
		if (p->files[i].state == F_LIVE)
			p->files[i].mask = 0;
	}
	memset(p->set_files, 0, sizeof(p->set_files));
	p->rs = rs;
	ret = protect__scan(p, map_fd);
	if (ret < 0) {
		for (size_t i = 0; i < n; i++) {
			if (p->files[i].state == F_FREE)
				continue;
			p->files[i].mask = old[i];
			ptable__push(p, i);
		}
		recount_sets(p);
		p->rs = old_rs;
		free(old);
		return ret;
	}
	for (size_t i = 0; i < n; i++)
		if (p->files[i].state != F_FREE && !p->files[i].mask && old[i])
			ptable__remove(p, i);
	free(old);
	if (p->ifd >= 0)
		protect__watch(p);
	plimits__flush(p, true);
	return 0;
}

/* Is `dir` equal to or below `top`? */
bool pscan__within(const char *dir, const char *top)
{
	size_t n = strlen(top);

	if (!strcmp(top, "/"))
		return true;
	return !strncmp(dir, top, n) && (dir[n] == '/' || !dir[n]);
}

/* Is item i's tree walked as part of another item's (an ancestor root, or
 * the same root listed earlier)? */
static bool covered(const struct scan_item *items, size_t n, size_t i)
{
	for (size_t j = 0; j < n; j++)
		if (j != i && pscan__within(items[i].prefix, items[j].prefix) &&
		    (strcmp(items[i].prefix, items[j].prefix) || j < i))
			return true;
	return false;
}

/* A protected root reached through someone else's symlink is not walked
 * (glob__open_dir refuses it): say whose link it is. */
static void root_link_check(struct protect *p, const char *dir)
{
	char part[PATH_MAX], d[PATH_MAX + 100];
	struct stat st;
	int fd = glob__open_dir(dir);

	if (fd >= 0 || fd != -EPERM) {
		if (fd >= 0)
			close(fd);
		return;
	}
	/* the first link on the way that root does not own */
	snprintf(part, sizeof(part), "%s", dir);
	for (char *sl = part + 1;; sl++) {
		char c = *sl;

		if (c != '/' && c)
			continue;
		*sl = '\0';
		if (!lstat(part, &st) && S_ISLNK(st.st_mode) && st.st_uid) {
			snprintf(d, sizeof(d), "%s is a symlink of uid %u; vigil follows only "
				 "root's links to a protected tree", part, st.st_uid);
			plimits__refuse(p, R_ROOT_LINK, st.st_uid, dir, d);
			return;
		}
		*sl = c;
		if (!c)
			return;
	}
}

/* vigil trusts that no user can link a file they do not own into a home
 * (fs.protected_hardlinks=1, the default): say so when it is off. */
static void check_hardlinks(struct protect *p)
{
	char v = '1';
	FILE *f;

	if (p->warned_hardlinks)
		return;
	p->warned_hardlinks = true;
	f = fopen("/proc/sys/fs/protected_hardlinks", "re");
	if (f) {
		if (fread(&v, 1, 1, f) != 1)
			v = '1';
		fclose(f);
	}
	if (v != '1')
		plimits__refuse(p, R_NOTICE, 0, "", "fs.protected_hardlinks is 0: any user can hard-link "
		       "a root-owned file (libc, /etc/shadow) into a protected directory and "
		       "have vigil protect it; set fs.protected_hardlinks=1");
}

/* One pass per distinct root directory, all patterns below it at once: the
 * default pack has ten globs under /root and /home. */
int protect__scan(struct protect *p, int map_fd)
{
	struct scan_item *items;
	const char **pats;
	size_t n = 0, total = 0;
	int ret = 0;

	p->map_fd = map_fd;
	p->home_name[0] = '\0';
	check_hardlinks(p);
	for (size_t s = 0; s < p->rs->nsets; s++)
		total += p->rs->sets[s].npaths;
	items = calloc(total ? total : 1, sizeof(*items));
	pats = calloc(total ? total : 1, sizeof(*pats));
	if (!items || !pats) {
		free(items);
		free(pats);
		return -ENOMEM;
	}
	for (size_t s = 0; s < p->rs->nsets; s++)
		for (size_t g = 0; g < p->rs->sets[s].npaths; g++) {
			const char *pat = p->rs->sets[s].paths[g];

			if (!strpbrk(pat, "*?[\\")) {
				/* a literal path: one stat, no walk */
				struct scan_item it = { .pattern = pat, .set = s };
				struct scan_ctx c = { .p = p, .items = &it };
				int r = glob__walk_literal(pat, pscan__on_match, &c, GLOB_REPORT_LINKS);

				if (r < 0 && r != -ENOENT && !ret)
					ret = r;
				continue;
			}
			items[n].pattern = pat;
			items[n].set = s;
			glob__static_prefix(pat, items[n].prefix, sizeof(items[n].prefix));
			n++;
		}
	for (size_t i = 0; i < n && !ret; i++) {
		struct scan_item *group;
		size_t ng = 0;
		int r;

		if (covered(items, n, i))
			continue;
		group = calloc(n, sizeof(*group));
		if (!group) {
			ret = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < n; j++)
			if (pscan__within(items[j].prefix, items[i].prefix)) {
				group[ng] = items[j];
				pats[ng++] = items[j].pattern;
			}
		root_link_check(p, items[i].prefix);
		{
			struct scan_ctx c = { .p = p, .items = group };

			r = glob__walk_many(items[i].prefix, pats, ng, pscan__on_match, &c,
					    MAX_FILES_PER_GLOB, GLOB_REPORT_LINKS);
		}
		free(group);
		if (r < 0 && r != -ENOENT)
			ret = r;
	}
	free(items);
	free(pats);
	plimits__flush(p, true);
	return ret;
}
