// SPDX-License-Identifier: GPL-2.0
/* inotify on the protected trees: directories are watched (within the
 * limits), names created later are protected, names that go away are
 * handed to protect_gone.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "glob.h"
#include "protect_state.h"

#define MAX_WATCHES 65536	/* well under the usual fs.inotify.max_user_watches */
#define WATCH_DEPTH 32

#define WATCH_MASK (IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | \
		    IN_ONLYDIR)

static size_t wd_hash(int wd, size_t cap)
{
	return ((uint32_t)wd * 0x9E3779B1u) & (cap - 1);
}

static struct watch *watch_find(const struct protect *p, int wd)
{
	size_t h;

	if (!p->watches_cap)
		return NULL;
	for (h = wd_hash(wd, p->watches_cap); p->watches[h].wd; h = (h + 1) & (p->watches_cap - 1))
		if (p->watches[h].wd == wd)
			return &p->watches[h];
	return NULL;
}

static int watch_insert(struct protect *p, int wd, uint32_t uid, uint32_t sets,
			const char *dir)
{
	size_t h;

	if ((p->nwatches + 1) * 2 > p->watches_cap) {
		size_t ncap = p->watches_cap ? p->watches_cap * 2 : 256;
		struct watch *nw = calloc(ncap, sizeof(*nw));

		if (!nw)
			return -ENOMEM;
		for (size_t i = 0; i < p->watches_cap; i++) {
			if (!p->watches[i].wd)
				continue;
			for (h = wd_hash(p->watches[i].wd, ncap); nw[h].wd; h = (h + 1) & (ncap - 1))
				;
			nw[h] = p->watches[i];
		}
		free(p->watches);
		p->watches = nw;
		p->watches_cap = ncap;
	}
	for (h = wd_hash(wd, p->watches_cap); p->watches[h].wd; h = (h + 1) & (p->watches_cap - 1))
		;
	p->watches[h] = (struct watch){ .wd = wd, .uid = uid, .sets = sets, .dir = strdup(dir) };
	if (!p->watches[h].dir) {
		p->watches[h].wd = 0;
		return -ENOMEM;
	}
	p->nwatches++;
	for (unsigned s = 0; s < VIGIL_MAX_SETS; s++)
		if (sets & (1u << s))
			p->set_watches[s]++;
	return 0;
}

/* The kernel dropped the watch (IN_IGNORED: the directory is gone). */
static void watch_remove(struct protect *p, struct watch *w)
{
	size_t m = p->watches_cap - 1, i = (size_t)(w - p->watches), j;
	struct owner *o;

	if (w->uid && (o = plimits__owner(p, w->uid)) && o->watches)
		o->watches--;
	for (unsigned s = 0; s < VIGIL_MAX_SETS; s++)
		if ((w->sets & (1u << s)) && p->set_watches[s])
			p->set_watches[s]--;
	free(w->dir);
	for (j = i;;) {
		size_t k;

		j = (j + 1) & m;
		if (!p->watches[j].wd)
			break;
		k = wd_hash(p->watches[j].wd, p->watches_cap);
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			p->watches[i] = p->watches[j];
			i = j;
		}
	}
	p->watches[i] = (struct watch){ 0 };
	p->nwatches--;
}

/* Sets that want dir watched (something below could match) and have room
 * under their max_watches; *full: those that want it but have none. */
static uint32_t dir_sets(const struct protect *p, const char *dir, uint32_t *full)
{
	uint32_t want = 0;

	*full = 0;
	for (size_t s = 0; s < p->rs->nsets; s++) {
		const struct protect_set *set = &p->rs->sets[s];

		for (size_t g = 0; g < set->npaths; g++) {
			if (!glob__could_match_below(set->paths[g], dir))
				continue;
			if (set->max_watches && p->set_watches[s] >= set->max_watches)
				*full |= 1u << s;
			else
				want |= 1u << s;
			break;
		}
	}
	return want;
}

/* dfd: the directory `dir` names, opened safely (taken over). The watch
 * goes on that very directory (through /proc/self/fd), its children are
 * opened below it with O_NOFOLLOW. */
static void watch_tree(struct protect *p, int dfd, const char *dir, int depth)
{
	char proc[64], d[160];
	struct owner *o = NULL;
	struct watch *w;
	struct dirent *de;
	struct stat st;
	uint32_t sets, full;
	DIR *dh;
	int wd;

	sets = depth > WATCH_DEPTH ? 0 : dir_sets(p, dir, &full);
	if (!sets || fstat(dfd, &st)) {
		if (depth <= WATCH_DEPTH && full) {
			size_t s = (size_t)__builtin_ctz(full);

			snprintf(d, sizeof(d), "protect set '%s' has its max_watches (%llu) "
				 "watched directories", p->rs->sets[s].name,
				 p->rs->sets[s].max_watches);
			plimits__refuse(p, R_SET_WATCHES, (uint32_t)s, dir, d);
		}
		close(dfd);
		return;
	}
	if (p->nwatches >= MAX_WATCHES) {
		snprintf(d, sizeof(d), "%d directories are watched, vigil's limit", MAX_WATCHES);
		plimits__refuse(p, R_WATCH_TOTAL, 0, dir, d);
		close(dfd);
		return;
	}
	if (st.st_uid && !(o = plimits__owner(p, st.st_uid))) {
		close(dfd);
		return;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
	wd = inotify_add_watch(p->ifd, proc, WATCH_MASK);
	if (wd < 0) {
		if (errno == ENOSPC) {
			snprintf(d, sizeof(d), "the kernel's fs.inotify.max_user_watches is "
				 "used up");
			plimits__refuse(p, R_WATCH_TOTAL, 0, dir, d);
		}
		close(dfd);
		return;
	}
	w = watch_find(p, wd);
	if (w && strcmp(w->dir, dir)) {	/* watched under an old name: renamed */
		char *nd = strdup(dir);

		if (nd) {
			free(w->dir);
			w->dir = nd;
		}
	}
	if (!w) {	/* not watched yet */
		if (o && o->watches >= plimits__watches_per_owner(p)) {
			inotify_rm_watch(p->ifd, wd);
			snprintf(d, sizeof(d), "%u", o->watches);
			plimits__refuse(p, R_OWNER_WATCHES, st.st_uid, dir, d);
			close(dfd);
			return;
		}
		if (watch_insert(p, wd, st.st_uid, sets, dir)) {
			close(dfd);
			return;
		}
		if (o)
			o->watches++;
	}
	dh = fdopendir(dfd);
	if (!dh) {
		close(dfd);
		return;
	}
	while ((de = readdir(dh))) {
		char sub[PATH_MAX];
		unsigned char type = de->d_type;
		int sfd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (type == DT_UNKNOWN) {
			struct stat cs;

			if (fstatat(dirfd(dh), de->d_name, &cs, AT_SYMLINK_NOFOLLOW))
				continue;
			type = S_ISDIR(cs.st_mode) ? DT_DIR : DT_UNKNOWN;
		}
		if (type != DT_DIR)
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
			     de->d_name) >= (int)sizeof(sub))
			continue;
		sfd = openat(dirfd(dh), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd >= 0)
			watch_tree(p, sfd, sub, depth + 1);
	}
	closedir(dh);
}

static void watch_path(struct protect *p, const char *dir)
{
	int dfd = glob__open_dir(dir);

	if (dfd >= 0)
		watch_tree(p, dfd, dir, 0);
}

int protect__watch(struct protect *p)
{
	char (*prefixes)[PATH_MAX];
	size_t nprefixes = 0, total = 0;

	if (p->ifd < 0)	/* a reload adds watches to the same descriptor */
		p->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->ifd < 0)
		return -errno;
	for (size_t s = 0; s < p->rs->nsets; s++)
		total += p->rs->sets[s].npaths;
	prefixes = calloc(total ? total : 1, sizeof(*prefixes));
	if (!prefixes)
		return -ENOMEM;
	/* Walk each tree once: many globs share a root directory. */
	for (size_t s = 0; s < p->rs->nsets; s++)
		for (size_t g = 0; g < p->rs->sets[s].npaths; g++)
			glob__static_prefix(p->rs->sets[s].paths[g], prefixes[nprefixes++],
					    PATH_MAX);
	for (size_t i = 0; i < nprefixes; i++) {
		bool covered = false;

		for (size_t j = 0; j < nprefixes && !covered; j++)
			covered = j != i && pscan__within(prefixes[i], prefixes[j]) &&
				  (strcmp(prefixes[i], prefixes[j]) || j < i);
		if (!covered)
			watch_path(p, prefixes[i]);
	}
	free(prefixes);
	plimits__flush(p, true);
	return p->ifd;
}

/* A name appeared (created, moved in, written and closed) under a watched
 * directory: looked at from that directory (dfd, opened through root-owned
 * links only; borrowed), never through the name itself. */
static void consider_name(struct protect *p, int dfd, const char *path, const char *name,
			  int *added)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return;
	if (S_ISDIR(st.st_mode)) {
		/* A new directory: watch it, then pick up what is already in it
		 * (files may land before the watch exists) -- walking only the
		 * new directory, for every pattern that can match below it, in
		 * one pass (walking from each pattern's own root cost seconds
		 * per mkdir under /root). */
		struct scan_item *items;
		const char **pats;
		size_t n = 0, total = 0;
		int sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (sfd < 0)
			return;
		watch_tree(p, sfd, path, 0);
		for (size_t s = 0; s < p->rs->nsets; s++)
			total += p->rs->sets[s].npaths;
		items = calloc(total + 1, sizeof(*items));
		pats = calloc(total + 1, sizeof(*pats));
		if (items && pats) {
			for (size_t s = 0; s < p->rs->nsets; s++)
				for (size_t g = 0; g < p->rs->sets[s].npaths; g++) {
					const char *pat = p->rs->sets[s].paths[g];

					if (!glob__could_match_below(pat, path))
						continue;
					items[n].pattern = pat;
					items[n].set = s;
					pats[n++] = pat;
				}
			if (n) {
				struct scan_ctx c = { .p = p, .items = items };

				glob__walk_many(path, pats, n, pscan__on_match, &c,
						MAX_FILES_PER_GLOB, GLOB_REPORT_LINKS);
				*added += c.added;
			}
		}
		free(items);
		free(pats);
		return;
	}
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
		for (size_t s = 0; s < p->rs->nsets; s++) {
			const struct protect_set *set = &p->rs->sets[s];

			for (size_t g = 0; g < set->npaths; g++) {
				if (!glob__match(set->paths[g], path) || pscan__excluded(set, path))
					continue;
				if (S_ISLNK(st.st_mode)) {
					pscan__link_seen(p, path, &st);
					goto done;
				}
				if (ptable__add(p, path, &st, dfd, name, s) > 0)
					(*added)++;
				break;
			}
		}
	}
done:
	return;
}

/* The directory of the last event's watch, opened once for a burst of
 * events in it (it is the watched inode itself, even if renamed since). */
struct dircache {
	int wd, fd, mount_id;
};

static int dircache_get(struct dircache *c, const struct watch *w)
{
	if (c->fd >= 0 && c->wd == w->wd)
		return c->fd;
	if (c->fd >= 0)
		close(c->fd);
	c->wd = w->wd;
	c->fd = glob__open_dir(w->dir);
	c->mount_id = c->fd >= 0 ? pgone__mount_id(c->fd) : -1;
	return c->fd;
}

int protect__handle_inotify(struct protect *p, int map_fd)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct dircache dc = { .wd = 0, .fd = -1, .mount_id = -1 };
	int added = 0;
	ssize_t n;

	p->map_fd = map_fd;
	p->home_name[0] = '\0';
	while ((n = read(p->ifd, buf, sizeof(buf))) > 0) {
		for (char *ptr = buf; ptr < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)ptr;
			struct watch *w;
			char path[PATH_MAX];

			ptr += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Missed events: resynchronise everything, as a
				 * reload does (new directories watched, entries of
				 * files no longer there removed). */
				if (dc.fd >= 0)
					close(dc.fd);
				dc.fd = -1;
				protect__reload(p, p->rs, map_fd);
				continue;
			}
			w = watch_find(p, ev->wd);
			if (!w)
				continue;
			if (ev->mask & IN_IGNORED) {
				if (dc.wd == w->wd && dc.fd >= 0) {
					close(dc.fd);
					dc.fd = -1;
				}
				watch_remove(p, w);
				continue;
			}
			if (!ev->len)
				continue;
			if (snprintf(path, sizeof(path), "%s%s%s", w->dir,
				     strcmp(w->dir, "/") ? "/" : "", ev->name) >= (int)sizeof(path))
				continue;
			if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
				if (!(ev->mask & IN_ISDIR))
					pgone__name_gone(p, path, dircache_get(&dc, w), dc.mount_id);
				continue;
			}
			if (dircache_get(&dc, w) >= 0)
				consider_name(p, dc.fd, path, ev->name, &added);
		}
	}
	if (dc.fd >= 0)
		close(dc.fd);
	plimits__flush(p, false);
	return added;
}
