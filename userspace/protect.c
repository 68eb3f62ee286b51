// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "glob.h"
#include "log.h"
#include "protect.h"
#include "vigil.h"

/* Bounds that keep a startup scan of a large host finite. */
#define MAX_FILES_PER_GLOB 200000
#define MAX_WATCHES 65536	/* well under the usual fs.inotify.max_user_watches */

struct pfile {
	uint64_t kdev, ino;
	uint32_t mask;
	char *path;
};

struct watch {
	int wd;
	char *dir;
};

/* A file a tainted process wrote (VIGIL_EV_COPY): protected by the kernel,
 * known here for its path. */
struct copyfile {
	uint32_t id;
	uint32_t mask;
	uint64_t kdev, ino;
	char *path;
};

struct protect {
	const struct ruleset *rs;
	struct copyfile *copies;
	size_t ncopies;
	struct pfile *files;	/* index = file_id - 1 */
	size_t nfiles, cap;
	/* open-addressing index (kdev, ino) -> file index */
	uint32_t *idx;
	size_t idx_cap;
	struct watch *watches;
	size_t nwatches;
	size_t skipped;		/* map full or unwatchable */
	uint64_t *bloom;	/* the kernel's vg_file_bloom (mmapped .bss) */
	int ifd;
	int map_fd;
};

uint64_t protect__kdev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev);
}

static size_t hash_id(uint64_t kdev, uint64_t ino, size_t cap)
{
	uint64_t h = (kdev * 0x9E3779B97F4A7C15ull) ^ (ino * 0xC2B2AE3D27D4EB4Full);

	return (h ^ (h >> 29)) & (cap - 1);
}

static int index_grow(struct protect *p)
{
	size_t ncap = p->idx_cap ? p->idx_cap * 2 : 1024;
	uint32_t *ni = calloc(ncap, sizeof(*ni));

	if (!ni)
		return -ENOMEM;
	for (size_t i = 0; i < p->nfiles; i++) {
		size_t h = hash_id(p->files[i].kdev, p->files[i].ino, ncap);

		while (ni[h])
			h = (h + 1) & (ncap - 1);
		ni[h] = i + 1;
	}
	free(p->idx);
	p->idx = ni;
	p->idx_cap = ncap;
	return 0;
}

uint32_t protect__copy_mask(const struct protect *p, uint32_t file_id)
{
	for (size_t i = 0; i < p->ncopies; i++)
		if (p->copies[i].id == file_id)
			return p->copies[i].mask;
	return 0;
}

int protect__lookup(const struct protect *p, uint64_t kdev, uint64_t ino, uint32_t *mask)
{
	size_t h;

	if (!p->idx_cap)
		return -1;
	for (h = hash_id(kdev, ino, p->idx_cap); p->idx[h]; h = (h + 1) & (p->idx_cap - 1)) {
		const struct pfile *f = &p->files[p->idx[h] - 1];

		if (f->kdev == kdev && f->ino == ino) {
			if (mask)
				*mask = f->mask;
			return (int)p->idx[h];
		}
	}
	return -1;
}

size_t protect__count(const struct protect *p) { return p->nfiles; }
size_t protect__watches(const struct protect *p) { return p->nwatches; }
size_t protect__skipped(const struct protect *p) { return p->skipped; }

const char *protect__path(const struct protect *p, uint32_t file_id)
{
	if (file_id >= VIGIL_COPY_ID_BASE) {
		for (size_t i = 0; i < p->ncopies; i++)
			if (p->copies[i].id == file_id)
				return p->copies[i].path;
		return NULL;
	}
	if (file_id == 0 || file_id > p->nfiles)
		return NULL;
	return p->files[file_id - 1].path;
}

int protect__add_copy(struct protect *p, uint32_t id, uint64_t kdev, uint64_t ino,
		      uint32_t mask, const char *path)
{
	struct copyfile *nc = realloc(p->copies, (p->ncopies + 1) * sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	p->copies = nc;
	nc[p->ncopies] = (struct copyfile){ id, mask, kdev, ino, strdup(path) };
	if (!nc[p->ncopies].path)
		return -ENOMEM;
	p->ncopies++;
	return 0;
}

size_t protect__copies(const struct protect *p) { return p->ncopies; }

uint32_t protect__set_bit(const struct protect *p, const char *name)
{
	int i;

	if (!strcmp(name, "*"))
		return p->rs->nsets >= 32 ? ~0u : (1u << p->rs->nsets) - 1;
	i = rules__set_index(p->rs, name);
	return i < 0 ? 0 : 1u << i;
}

static bool excluded(const struct protect_set *s, const char *path)
{
	for (size_t i = 0; i < s->nexcludes; i++)
		if (rules__glob_match(s->excludes[i], path))
			return true;
	return false;
}

static int push_map(struct protect *p, const struct pfile *f, uint32_t file_id)
{
	struct vigil_file_key k = { .dev = f->kdev, .ino = f->ino };
	struct vigil_file_info v = { .set_mask = f->mask, .file_id = file_id };

	if (p->map_fd < 0)
		return 0;
	if (p->bloom) {	/* before the entry: the kernel tests the bit first */
		uint32_t b = vigil_file_bloom_bit(k.dev, k.ino);

		__atomic_fetch_or(&p->bloom[b >> 6], 1ull << (b & 63), __ATOMIC_SEQ_CST);
	}
	if (bpf_map_update_elem(p->map_fd, &k, &v, BPF_ANY)) {
		p->skipped++;
		return -errno;
	}
	return 0;
}

/* Add (or widen the sets of) one file. Returns 1 if it is new. */
static int add_file(struct protect *p, const char *path, const struct stat *st, uint32_t mask)
{
	uint64_t kdev = protect__kdev(st->st_dev);
	uint32_t old;
	int id = protect__lookup(p, kdev, st->st_ino, &old);
	struct pfile *f;
	size_t h;

	if (id > 0) {
		if ((old & mask) == mask)
			return 0;
		p->files[id - 1].mask |= mask;
		push_map(p, &p->files[id - 1], id);
		return 0;
	}
	if (p->nfiles >= VIGIL_MAX_PROTECTED_FILES) {
		p->skipped++;
		return 0;
	}
	if ((p->nfiles + 1) * 2 > p->idx_cap && index_grow(p))
		return -ENOMEM;
	if (p->nfiles == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 256;
		struct pfile *nf = realloc(p->files, ncap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		p->files = nf;
		p->cap = ncap;
	}
	f = &p->files[p->nfiles];
	f->kdev = kdev;
	f->ino = st->st_ino;
	f->mask = mask;
	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	p->nfiles++;
	for (h = hash_id(kdev, st->st_ino, p->idx_cap); p->idx[h]; h = (h + 1) & (p->idx_cap - 1))
		;
	p->idx[h] = p->nfiles;
	push_map(p, f, p->nfiles);
	return 1;
}

struct walk_ctx {
	struct protect *p;
	const struct protect_set *set;
	uint32_t bit;
	int added;
};

static int on_match(const char *path, const struct stat *st, void *data)
{
	struct walk_ctx *c = data;
	int r;

	if (excluded(c->set, path))
		return 0;
	r = add_file(c->p, path, st, c->bit);
	if (r < 0)
		return r;
	c->added += r;
	return 0;
}

struct protect *protect__new(const struct ruleset *rs)
{
	struct protect *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->rs = rs;
	p->ifd = -1;
	p->map_fd = -1;
	return p;
}

void protect__free(struct protect *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i].path);
	for (size_t i = 0; i < p->nwatches; i++)
		free(p->watches[i].dir);
	free(p->watches);
	for (size_t i = 0; i < p->ncopies; i++)
		free(p->copies[i].path);
	free(p->copies);
	free(p->files);
	free(p->idx);
	if (p->ifd >= 0)
		close(p->ifd);
	free(p);
}

void protect__set_bloom(struct protect *p, uint64_t *bloom)
{
	p->bloom = bloom;
}

void protect__set_rules(struct protect *p, const struct ruleset *rs)
{
	p->rs = rs;
}

/* New rules: files keep their ids (taint records name them), masks are
 * recomputed, files no set wants any more leave the kernel map last, so
 * nothing is unprotected in between. */
int protect__reload(struct protect *p, const struct ruleset *rs, int map_fd)
{
	const struct ruleset *old_rs = p->rs;
	uint32_t *old = calloc(p->nfiles + 1, sizeof(*old));
	size_t n = p->nfiles;
	int ret;

	if (!old)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		old[i] = p->files[i].mask;
		p->files[i].mask = 0;
	}
	p->rs = rs;
	ret = protect__scan(p, map_fd);
	if (ret < 0) {
		for (size_t i = 0; i < n; i++) {
			p->files[i].mask = old[i];
			push_map(p, &p->files[i], i + 1);
		}
		p->rs = old_rs;
		free(old);
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		if (!p->files[i].mask && old[i]) {
			struct vigil_file_key k = { .dev = p->files[i].kdev, .ino = p->files[i].ino };

			bpf_map_delete_elem(map_fd, &k);
		}
	}
	free(old);
	if (p->ifd >= 0)
		protect__watch(p);
	return 0;
}

/* Is `dir` equal to or below `top`? */
static bool path_within(const char *dir, const char *top)
{
	size_t n = strlen(top);

	if (!strcmp(top, "/"))
		return true;
	return !strncmp(dir, top, n) && (dir[n] == '/' || !dir[n]);
}

struct scan_item {
	const char *pattern;
	size_t set;
	char prefix[PATH_MAX];
};

struct scan_ctx {
	struct protect *p;
	const struct scan_item *items;	/* indexed like the walk's patterns */
};

static int on_scan_match(const char *path, const struct stat *st, size_t idx, void *data)
{
	struct scan_ctx *c = data;
	const struct scan_item *it = &c->items[idx];
	struct walk_ctx w = { .p = c->p, .set = &c->p->rs->sets[it->set],
			      .bit = 1u << it->set };

	return on_match(path, st, &w);
}

/* Is item i's tree walked as part of another item's (an ancestor root, or
 * the same root listed earlier)? */
static bool covered(const struct scan_item *items, size_t n, size_t i)
{
	for (size_t j = 0; j < n; j++)
		if (j != i && path_within(items[i].prefix, items[j].prefix) &&
		    (strcmp(items[i].prefix, items[j].prefix) || j < i))
			return true;
	return false;
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
				struct walk_ctx c = { .p = p, .set = &p->rs->sets[s],
						      .bit = 1u << s };
				int r = glob__walk(pat, on_match, &c, 1);

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
			if (path_within(items[j].prefix, items[i].prefix)) {
				group[ng] = items[j];
				pats[ng++] = items[j].pattern;
			}
		{
			struct scan_ctx c = { .p = p, .items = group };

			r = glob__walk_many(items[i].prefix, pats, ng, on_scan_match, &c,
					    MAX_FILES_PER_GLOB);
		}
		free(group);
		if (r < 0 && r != -ENOENT)
			ret = r;
	}
	free(items);
	free(pats);
	return ret;
}

/* ---- inotify ------------------------------------------------------------ */

static bool dir_wanted(const struct protect *p, const char *dir)
{
	for (size_t s = 0; s < p->rs->nsets; s++)
		for (size_t g = 0; g < p->rs->sets[s].npaths; g++)
			if (glob__could_match_below(p->rs->sets[s].paths[g], dir))
				return true;
	return false;
}


static void watch_tree(struct protect *p, const char *dir, int depth)
{
	struct watch *nw;
	struct dirent *d;
	DIR *dh;
	int wd;

	if (depth > 32 || p->nwatches >= MAX_WATCHES || !dir_wanted(p, dir))
		return;
	wd = inotify_add_watch(p->ifd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE |
			       IN_DONT_FOLLOW | IN_ONLYDIR);
	if (wd < 0) {
		if (errno != ENOENT && errno != ENOTDIR && errno != EACCES)
			p->skipped++;
		return;
	}
	/* inotify hands out increasing descriptors and returns the existing one
	 * for a directory already watched */
	if (p->nwatches && wd <= p->watches[p->nwatches - 1].wd)
		goto children;
	nw = realloc(p->watches, (p->nwatches + 1) * sizeof(*nw));
	if (!nw)
		return;
	p->watches = nw;
	nw[p->nwatches].wd = wd;
	nw[p->nwatches].dir = strdup(dir);
	if (!nw[p->nwatches].dir)
		return;
	p->nwatches++;
children:
	dh = opendir(dir);
	if (!dh)
		return;
	while ((d = readdir(dh))) {
		char sub[PATH_MAX];

		if (d->d_type != DT_DIR || !strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", d->d_name);
		watch_tree(p, sub, depth + 1);
	}
	closedir(dh);
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
			covered = j != i && path_within(prefixes[i], prefixes[j]) &&
				  (strcmp(prefixes[i], prefixes[j]) || j < i);
		if (!covered)
			watch_tree(p, prefixes[i], 0);
	}
	free(prefixes);
	if (p->nwatches >= MAX_WATCHES)
		log__warn("inotify watch limit (%d) reached: files created later in "
			  "some protected directories are found only at restart", MAX_WATCHES);
	return p->ifd;
}

static void consider_path(struct protect *p, const char *path, int *added)
{
	struct stat st;

	if (lstat(path, &st))
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

		watch_tree(p, path, 0);
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
				size_t before = p->nfiles;

				glob__walk_many(path, pats, n, on_scan_match, &c, MAX_FILES_PER_GLOB);
				*added += (int)(p->nfiles - before);
			}
		}
		free(items);
		free(pats);
		return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	for (size_t s = 0; s < p->rs->nsets; s++) {
		const struct protect_set *set = &p->rs->sets[s];

		for (size_t g = 0; g < set->npaths; g++) {
			if (!glob__match(set->paths[g], path) || excluded(set, path))
				continue;
			if (add_file(p, path, &st, 1u << s) > 0)
				(*added)++;
		}
	}
}

int protect__handle_inotify(struct protect *p, int map_fd)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int added = 0;
	ssize_t n;

	p->map_fd = map_fd;
	while ((n = read(p->ifd, buf, sizeof(buf))) > 0) {
		for (char *ptr = buf; ptr < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)ptr;

			ptr += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Missed events: rescan everything. */
				protect__scan(p, map_fd);
				continue;
			}
			if (!ev->len)
				continue;
			for (size_t i = 0; i < p->nwatches; i++) {
				if (p->watches[i].wd != ev->wd)
					continue;
				char path[PATH_MAX];

				snprintf(path, sizeof(path), "%s%s%s", p->watches[i].dir,
					 strcmp(p->watches[i].dir, "/") ? "/" : "", ev->name);
				consider_path(p, path, &added);
				break;
			}
		}
	}
	return added;
}
