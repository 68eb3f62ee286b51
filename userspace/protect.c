// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "glob.h"
#include "log.h"
#include "protect.h"
#include "vigil.h"

/* Bounds that keep a startup scan of a large host finite. */
#define MAX_FILES_PER_GLOB 200000
#define MAX_WATCHES 65536	/* well under the usual fs.inotify.max_user_watches */
#define WATCH_DEPTH 32

/* file_id = generation << 20 | (slot + 1): a slot freed by a deleted file
 * and reused gets a new id, so taint that names the old file never names
 * the new one. 10 generation bits keep ids below VIGIL_COPY_ID_BASE. */
#define SLOT_BITS 20
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define GEN_MASK 0x3ffu
#define HANDLE_MAX 40		/* ext4/xfs/tmpfs 8-12 bytes, btrfs 20-28 */
#define GRAVE 256		/* names of removed files, for late alerts */
#define REPORT_EVERY_NS (60ull * 1000000000ull)
#define RECHECK_EVERY_NS (1000000000ull)

enum fstate { F_FREE, F_LIVE, F_UNLINKED };

struct pfile {
	uint64_t kdev, ino;
	uint32_t mask;
	uint32_t uid;
	uint16_t gen;
	uint8_t state;		/* enum fstate */
	uint8_t nhandle;	/* 0: no handle (the fs has none, or too long) */
	bool path_stale;	/* the recorded name is gone; another link lives */
	int handle_type;
	int mount_id;
	unsigned char handle[HANDLE_MAX];
	char *path;
};

/* Open addressing over slot numbers (+1; 0 is empty), deleting by
 * backward shift, so removals leave no tombstones behind. */
struct oaidx {
	uint32_t *t;
	size_t cap, n;
};

struct watch {
	int wd;			/* 0: empty (inotify's descriptors start at 1) */
	uint32_t uid;
	uint32_t sets;		/* sets it was counted for (max_watches) */
	char *dir;
};

struct owner {
	uint32_t uid;
	bool used;
	uint32_t files, watches;
};

enum rkind { R_OWNER_FILES, R_RESERVED, R_TABLE, R_SET_FILES, R_OWNER_MISMATCH, R_MAP,
	     R_OWNER_WATCHES, R_WATCH_TOTAL, R_SET_WATCHES, R_LINK, R_ROOT_LINK, R_NOTICE };

/* Refusals of one cause, reported once a minute at most: a flood of files
 * gives one line naming the first of them and how many more. */
struct report {
	enum rkind kind;
	uint32_t key;		/* uid or set index */
	char *first;
	char detail[PATH_MAX + 100];
	size_t pending, total;
	uint64_t last_ns;
};

struct grave {
	uint32_t id;
	char *path;
};

/* A file the kernel protected because a tainted process wrote it
 * (VIGIL_EV_COPY): protected by the kernel, known here for its path. */
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
	struct pfile *files;	/* by slot */
	size_t nslots, cap;
	uint32_t *free_slots;	/* LIFO of freed slots */
	size_t nfree;
	size_t live, nonroot;	/* entries; of them owned by someone other than root */
	size_t capacity;	/* the kernel map's size */
	struct oaidx by_id;	/* (kdev, ino) */
	struct oaidx by_path;	/* recorded path (unless stale) */
	uint32_t *unlinked;	/* slots deleted while held open */
	size_t nunlinked;
	uint64_t last_recheck_ns;
	uint32_t set_files[VIGIL_MAX_SETS];
	uint32_t set_watches[VIGIL_MAX_SETS];
	struct owner *owners;
	size_t owners_cap, nowners;
	struct watch *watches;	/* hashed by wd */
	size_t watches_cap, nwatches;
	struct report *reports;
	size_t nreports;
	struct grave grave[GRAVE];
	size_t grave_next;
	size_t skipped, removed, small, watches_skipped, links;
	char home_name[NAME_MAX + 1];	/* one-entry cache of home owners */
	long home_uid;
	bool warned_hardlinks;
	void (*report)(void *ctx, const char *msg);
	void *report_ctx;
	uint64_t *bloom;	/* the kernel's vg_file_bloom (mmapped .bss) */
	int ifd;
	int map_fd;
};

uint64_t protect__kdev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t hash_id(uint64_t kdev, uint64_t ino)
{
	uint64_t h = (kdev * 0x9E3779B97F4A7C15ull) ^ (ino * 0xC2B2AE3D27D4EB4Full);

	return h ^ (h >> 29);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h ^ (h >> 31);
}

static uint32_t file_id(const struct protect *p, uint32_t slot)
{
	return ((uint32_t)p->files[slot].gen << SLOT_BITS) | (slot + 1);
}

/* The slot of a live (or unlinked) file_id, or -1. */
static long slot_of(const struct protect *p, uint32_t id)
{
	uint32_t s = (id & SLOT_MASK);

	if (id >= VIGIL_COPY_ID_BASE || !s || s > p->nslots)
		return -1;
	s--;
	if (p->files[s].state == F_FREE || file_id(p, s) != id)
		return -1;
	return s;
}

/* ---- the two indexes -------------------------------------------------- */

typedef uint64_t (*slot_hash)(const struct protect *p, uint32_t slot);

static uint64_t id_hash_of(const struct protect *p, uint32_t slot)
{
	return hash_id(p->files[slot].kdev, p->files[slot].ino);
}

static uint64_t path_hash_of(const struct protect *p, uint32_t slot)
{
	return hash_str(p->files[slot].path);
}

static int oa_insert(struct protect *p, struct oaidx *ix, uint32_t slot, slot_hash hf)
{
	size_t m, h;

	if ((ix->n + 1) * 2 > ix->cap) {
		size_t ncap = ix->cap ? ix->cap * 2 : 1024;
		uint32_t *nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		for (size_t i = 0; i < ix->cap; i++) {
			if (!ix->t[i])
				continue;
			for (h = hf(p, ix->t[i] - 1) & (ncap - 1); nt[h]; h = (h + 1) & (ncap - 1))
				;
			nt[h] = ix->t[i];
		}
		free(ix->t);
		ix->t = nt;
		ix->cap = ncap;
	}
	m = ix->cap - 1;
	for (h = hf(p, slot) & m; ix->t[h]; h = (h + 1) & m)
		;
	ix->t[h] = slot + 1;
	ix->n++;
	return 0;
}

static void oa_remove(struct protect *p, struct oaidx *ix, uint32_t slot, slot_hash hf)
{
	size_t m = ix->cap - 1, i, j;

	if (!ix->cap)
		return;
	for (i = hf(p, slot) & m; ix->t[i] && ix->t[i] != slot + 1; i = (i + 1) & m)
		;
	if (!ix->t[i])
		return;
	/* shift later members of the cluster back over the hole when their
	 * home position does not lie (cyclically) between hole and them */
	for (j = i;;) {
		size_t k;

		j = (j + 1) & m;
		if (!ix->t[j])
			break;
		k = hf(p, ix->t[j] - 1) & m;
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			ix->t[i] = ix->t[j];
			i = j;
		}
	}
	ix->t[i] = 0;
	ix->n--;
}

static long find_by_path(const struct protect *p, const char *path)
{
	size_t m = p->by_path.cap - 1, h;

	if (!p->by_path.cap)
		return -1;
	for (h = hash_str(path) & m; p->by_path.t[h]; h = (h + 1) & m) {
		uint32_t s = p->by_path.t[h] - 1;

		if (!strcmp(p->files[s].path, path))
			return s;
	}
	return -1;
}

int protect__lookup(const struct protect *p, uint64_t kdev, uint64_t ino, uint32_t *mask)
{
	size_t m = p->by_id.cap - 1, h;

	if (!p->by_id.cap)
		return -1;
	for (h = hash_id(kdev, ino) & m; p->by_id.t[h]; h = (h + 1) & m) {
		uint32_t s = p->by_id.t[h] - 1;
		const struct pfile *f = &p->files[s];

		if (f->kdev == kdev && f->ino == ino) {
			if (mask)
				*mask = f->mask;
			return (int)file_id(p, s);
		}
	}
	return -1;
}

/* ---- owners and reports ------------------------------------------------ */

static struct owner *owner_get(struct protect *p, uint32_t uid)
{
	size_t h;

	for (h = (uid * 0x9E3779B1u) & (p->owners_cap - 1); p->owners_cap && p->owners[h].used;
	     h = (h + 1) & (p->owners_cap - 1))
		if (p->owners[h].uid == uid)
			return &p->owners[h];
	/* a new owner: grow first (pointers to owners live only until here) */
	if ((p->nowners + 1) * 2 > p->owners_cap) {
		size_t ncap = p->owners_cap ? p->owners_cap * 2 : 64;
		struct owner *no = calloc(ncap, sizeof(*no));

		if (!no)
			return NULL;
		for (size_t i = 0; i < p->owners_cap; i++) {
			if (!p->owners[i].used)
				continue;
			for (h = (p->owners[i].uid * 0x9E3779B1u) & (ncap - 1); no[h].used;
			     h = (h + 1) & (ncap - 1))
				;
			no[h] = p->owners[i];
		}
		free(p->owners);
		p->owners = no;
		p->owners_cap = ncap;
	}
	for (h = (uid * 0x9E3779B1u) & (p->owners_cap - 1); p->owners[h].used;
	     h = (h + 1) & (p->owners_cap - 1))
		;
	p->owners[h] = (struct owner){ .uid = uid, .used = true };
	p->nowners++;
	return &p->owners[h];
}

static const char *user_name(uint32_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, len, "%s", pw ? pw->pw_name : "no such user");
	return buf;
}

/* A file or directory left out: counted, reported by flush_reports. */
static void refuse(struct protect *p, enum rkind kind, uint32_t key, const char *path,
		   const char *detail)
{
	struct report *r = NULL, *nr;

	for (size_t i = 0; i < p->nreports && !r; i++)
		if (p->reports[i].kind == kind && p->reports[i].key == key)
			r = &p->reports[i];
	if (!r) {
		nr = realloc(p->reports, (p->nreports + 1) * sizeof(*nr));
		if (!nr)
			return;
		p->reports = nr;
		r = &nr[p->nreports++];
		memset(r, 0, sizeof(*r));
		r->kind = kind;
		r->key = key;
	}
	if (!r->first) {
		r->first = strdup(path);
		snprintf(r->detail, sizeof(r->detail), "%s", detail ? detail : "");
	}
	r->pending++;
	r->total++;
	if (kind == R_OWNER_WATCHES || kind == R_WATCH_TOTAL || kind == R_SET_WATCHES)
		p->watches_skipped++;
	else if (kind == R_LINK || kind == R_ROOT_LINK)
		p->links++;
	else if (kind != R_NOTICE)
		p->skipped++;
}

static void flush_reports(struct protect *p, bool force)
{
	uint64_t now = now_ns();

	for (size_t i = 0; i < p->nreports; i++) {
		struct report *r = &p->reports[i];
		char msg[PATH_MAX + 2048], more[64] = "", who[64];
		const char *path = r->first ? r->first : "?";

		if (!p->report)
			return;	/* kept until there is somewhere to say it */
		if (!r->pending || (!force && r->last_ns && now - r->last_ns < REPORT_EVERY_NS))
			continue;
		if (r->pending > 1)
			snprintf(more, sizeof(more), " and %zu more", r->pending - 1);
		switch (r->kind) {
		case R_OWNER_FILES:
			snprintf(msg, sizeof(msg), "not protected: %s%s: uid %u (%s) already owns "
				 "%s protected files, the limit per owner (limits: files_per_owner)",
				 path, more, r->key, user_name(r->key, who, sizeof(who)), r->detail);
			break;
		case R_RESERVED:
			snprintf(msg, sizeof(msg), "not protected: %s%s: files of owners other "
				 "than root fill 3/4 of the protected-file table (%s entries); "
				 "the rest is kept for root's files", path, more, r->detail);
			break;
		case R_TABLE:
			snprintf(msg, sizeof(msg), "not protected: %s%s: the protected-file "
				 "table is full (%s entries)", path, more, r->detail);
			break;
		case R_SET_FILES:
			snprintf(msg, sizeof(msg), "not protected: %s%s: %s", path, more, r->detail);
			break;
		case R_OWNER_MISMATCH:
			snprintf(msg, sizeof(msg), "not protected: %s%s: owned by uid %u (%s), "
				 "not by %s", path, more, r->key,
				 user_name(r->key, who, sizeof(who)), r->detail);
			break;
		case R_MAP:
			snprintf(msg, sizeof(msg), "not protected: %s%s: adding it to the "
				 "kernel's protected-file map failed: %s", path, more, r->detail);
			break;
		case R_OWNER_WATCHES:
			snprintf(msg, sizeof(msg), "not watched: %s%s: uid %u (%s) already owns "
				 "%s watched directories, the limit per owner (limits: "
				 "watches_per_owner); weights created there later are protected "
				 "only at the next reload or restart", path, more, r->key,
				 user_name(r->key, who, sizeof(who)), r->detail);
			break;
		case R_SET_WATCHES:
		case R_WATCH_TOTAL:
			snprintf(msg, sizeof(msg), "not watched: %s%s: %s; weights created "
				 "there later are protected only at the next reload or restart",
				 path, more, r->detail);
			break;
		case R_LINK:
			snprintf(msg, sizeof(msg), "not protected: %s%s: a symlink of uid %u (%s) "
				 "to %s, which no protect set covers; vigil never follows links "
				 "(a link's target is protected only where it lies itself)", path,
				 more, r->key, user_name(r->key, who, sizeof(who)), r->detail);
			break;
		case R_ROOT_LINK:
			snprintf(msg, sizeof(msg), "not walked: %s%s: %s", path, more, r->detail);
			break;
		case R_NOTICE:
			snprintf(msg, sizeof(msg), "%s", r->detail);
			break;
		}
		p->report(p->report_ctx, msg);
		free(r->first);
		r->first = NULL;
		r->pending = 0;
		r->last_ns = now;
	}
}

void protect__set_reporter(struct protect *p, void (*fn)(void *ctx, const char *msg),
			   void *ctx)
{
	p->report = fn;
	p->report_ctx = ctx;
}

void protect__set_capacity(struct protect *p, size_t max_files)
{
	p->capacity = max_files;
}

/* Owner of /home/<name> for a path below it, -1 if the path is not in a
 * home (or the home cannot be examined). */
static long home_owner(struct protect *p, const char *path)
{
	const char *name = path + 6, *end;
	char dir[PATH_MAX];
	struct stat st;

	if (strncmp(path, "/home/", 6) || !(end = strchr(name, '/')) ||
	    (size_t)(end - name) > NAME_MAX || end == name)
		return -1;
	if (strlen(p->home_name) == (size_t)(end - name) &&
	    !strncmp(p->home_name, name, end - name))
		return p->home_uid;
	snprintf(dir, sizeof(dir), "%.*s", (int)(end - path), path);
	snprintf(p->home_name, sizeof(p->home_name), "%.*s", (int)(end - name), name);
	/* stat, not lstat: only root can put a link into /home (/home/alice ->
	 * /data/alice), and then the directory it leads to is the home */
	p->home_uid = stat(dir, &st) ? -1 : (long)st.st_uid;
	return p->home_uid;
}

/* Does the owner of this file fit the set (owner:, or the default)? */
static bool owner_ok(struct protect *p, const struct protect_set *s, const char *path,
		     uint32_t uid, char *why, size_t len)
{
	long home = home_owner(p, path);

	if (s->has_owner) {
		const struct owner_rule *o = &s->owner;

		if (o->any || (o->home && home >= 0 && (uint32_t)home == uid))
			return true;
		for (size_t i = 0; i < o->nuids; i++)
			if (o->uids[i] == uid)
				return true;
		snprintf(why, len, "an owner protect set '%s' accepts (its owner: key)", s->name);
		return false;
	}
	if (home < 0 || uid == 0 || (uint32_t)home == uid)
		return true;
	snprintf(why, len, "root or the owner of its home (uid %ld), as protect set '%s' "
		 "expects with no owner: key", home, s->name);
	return false;
}

/* ---- entries ------------------------------------------------------------ */

uint32_t protect__copy_mask(const struct protect *p, uint32_t file_id)
{
	for (size_t i = 0; i < p->ncopies; i++)
		if (p->copies[i].id == file_id)
			return p->copies[i].mask;
	return 0;
}

size_t protect__count(const struct protect *p) { return p->live; }
size_t protect__watches(const struct protect *p) { return p->nwatches; }
size_t protect__skipped(const struct protect *p) { return p->skipped; }

void protect__stats(const struct protect *p, struct protect_stats *out)
{
	*out = (struct protect_stats){ .files = p->live, .watches = p->nwatches,
				       .skipped = p->skipped, .removed = p->removed,
				       .small = p->small, .links = p->links,
				       .watches_skipped = p->watches_skipped };
}

const char *protect__path(const struct protect *p, uint32_t file_id)
{
	long s;

	if (file_id >= VIGIL_COPY_ID_BASE) {
		for (size_t i = 0; i < p->ncopies; i++)
			if (p->copies[i].id == file_id)
				return p->copies[i].path;
		return NULL;
	}
	s = slot_of(p, file_id);
	if (s >= 0)
		return p->files[s].path;
	for (size_t i = 0; i < GRAVE; i++)
		if (p->grave[i].path && p->grave[i].id == file_id)
			return p->grave[i].path;
	return NULL;
}

uint32_t protect__mask(const struct protect *p, uint32_t file_id)
{
	long s;

	if (file_id >= VIGIL_COPY_ID_BASE)
		return protect__copy_mask(p, file_id);
	s = slot_of(p, file_id);
	return s >= 0 ? p->files[s].mask : 0;
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

static int push_map(struct protect *p, uint32_t slot)
{
	const struct pfile *f = &p->files[slot];
	struct vigil_file_key k = { .dev = f->kdev, .ino = f->ino };
	struct vigil_file_info v = { .set_mask = f->mask, .file_id = file_id(p, slot) };

	if (p->map_fd < 0)
		return 0;
	if (p->bloom) {	/* before the entry: the kernel tests the bit first */
		uint32_t b = vigil_file_bloom_bit(k.dev, k.ino);

		__atomic_fetch_or(&p->bloom[b >> 6], 1ull << (b & 63), __ATOMIC_SEQ_CST);
	}
	if (bpf_map_update_elem(p->map_fd, &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

/* The entry goes: out of the kernel map, the indexes and the counts; its
 * name stays in the graveyard for alerts about earlier reads. */
static void remove_slot(struct protect *p, uint32_t slot)
{
	struct pfile *f = &p->files[slot];
	struct vigil_file_key k = { .dev = f->kdev, .ino = f->ino };
	struct grave *g = &p->grave[p->grave_next++ % GRAVE];
	struct owner *o;

	if (p->map_fd >= 0)
		bpf_map_delete_elem(p->map_fd, &k);
	oa_remove(p, &p->by_id, slot, id_hash_of);
	if (!f->path_stale)
		oa_remove(p, &p->by_path, slot, path_hash_of);
	for (unsigned i = 0; i < VIGIL_MAX_SETS; i++)
		if (f->mask & (1u << i))
			p->set_files[i]--;
	if (f->uid && (o = owner_get(p, f->uid)) && o->files)
		o->files--;
	if (f->uid)
		p->nonroot--;
	free(g->path);
	g->id = file_id(p, slot);
	g->path = f->path;
	f->path = NULL;
	f->state = F_FREE;
	f->mask = 0;
	f->gen = (f->gen + 1) & GEN_MASK;
	p->live--;
	p->removed++;
	p->free_slots[p->nfree++] = slot;
}

static size_t capacity(const struct protect *p)
{
	return p->capacity ? p->capacity : VIGIL_MAX_PROTECTED_FILES;
}

static unsigned long long per_owner(const struct protect *p)
{
	return p->rs->limits.files_per_owner ? p->rs->limits.files_per_owner
					     : RULES_FILES_PER_OWNER;
}

/* Whether set s may take one more file; reports why not. */
static bool set_has_room(struct protect *p, size_t s, const char *path)
{
	const struct protect_set *set = &p->rs->sets[s];
	char d[200];

	if (!set->max_files || p->set_files[s] < set->max_files)
		return true;
	snprintf(d, sizeof(d), "protect set '%s' holds its max_files (%llu)", set->name,
		 set->max_files);
	refuse(p, R_SET_FILES, (uint32_t)s, path, d);
	return false;
}

/* Add (or widen the sets of) one file for set s. dfd/name: where it is,
 * for its file handle (dfd < 0: none). Returns 1 if it is new. */
static int add_file(struct protect *p, const char *path, const struct stat *st, int dfd,
		    const char *name, size_t s)
{
	const struct protect_set *set = &p->rs->sets[s];
	uint64_t kdev = protect__kdev(st->st_dev);
	uint32_t mask = 1u << s, slot;
	unsigned long long min = set->has_min_size ? set->min_size : 1;
	int id = protect__lookup(p, kdev, st->st_ino, NULL);
	char why[200], d[64];
	struct pfile *f;
	struct owner *o = NULL;

	if ((unsigned long long)st->st_size < min) {
		p->small++;	/* empty (or tiny): no weights in it yet */
		return 0;
	}
	if (!owner_ok(p, set, path, st->st_uid, why, sizeof(why))) {
		refuse(p, R_OWNER_MISMATCH, st->st_uid, path, why);
		return 0;
	}
	if (id > 0) {
		f = &p->files[slot_of(p, id)];
		if (f->path_stale) {	/* renamed or linked again: its new name */
			char *np = strdup(path);

			if (np) {
				free(f->path);
				f->path = np;
				f->path_stale = false;
				f->state = F_LIVE;
				oa_insert(p, &p->by_path, slot_of(p, id), path_hash_of);
			}
		}
		if ((f->mask & mask) == mask || !set_has_room(p, s, path))
			return 0;
		f->mask |= mask;
		p->set_files[s]++;
		push_map(p, slot_of(p, id));
		return 0;
	}
	if (!set_has_room(p, s, path))
		return 0;
	if (st->st_uid) {
		o = owner_get(p, st->st_uid);
		if (!o)
			return -ENOMEM;
		if (o->files >= per_owner(p)) {
			snprintf(d, sizeof(d), "%u", o->files);
			refuse(p, R_OWNER_FILES, st->st_uid, path, d);
			return 0;
		}
		if (p->nonroot >= capacity(p) / 4 * 3) {
			snprintf(d, sizeof(d), "%zu", p->nonroot);
			refuse(p, R_RESERVED, 0, path, d);
			return 0;
		}
	}
	if (p->live >= capacity(p) || (!p->nfree && p->nslots >= SLOT_MASK - 1)) {
		snprintf(d, sizeof(d), "%zu", capacity(p));
		refuse(p, R_TABLE, 0, path, d);
		return 0;
	}
	if (!p->nfree && p->nslots == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 256;
		struct pfile *nf = realloc(p->files, ncap * sizeof(*nf));
		uint32_t *fs = realloc(p->free_slots, ncap * sizeof(*fs));

		if (nf)
			p->files = nf;
		if (fs)
			p->free_slots = fs;
		if (!nf || !fs)
			return -ENOMEM;
		p->cap = ncap;
	}
	if (p->nfree) {
		slot = p->free_slots[--p->nfree];
	} else {
		slot = p->nslots++;
		p->files[slot].gen = 0;
	}
	f = &p->files[slot];
	f->kdev = kdev;
	f->ino = st->st_ino;
	f->mask = mask;
	f->uid = st->st_uid;
	f->state = F_LIVE;
	f->path_stale = false;
	f->nhandle = 0;
	f->path = strdup(path);
	if (!f->path || oa_insert(p, &p->by_id, slot, id_hash_of) ||
	    oa_insert(p, &p->by_path, slot, path_hash_of)) {
		free(f->path);
		f->path = NULL;
		f->state = F_FREE;
		p->free_slots[p->nfree++] = slot;
		return -ENOMEM;
	}
	if (dfd >= 0) {
		struct { struct file_handle fh; unsigned char b[HANDLE_MAX]; } h;

		h.fh.handle_bytes = HANDLE_MAX;
		if (!name_to_handle_at(dfd, name, &h.fh, &f->mount_id, 0) &&
		    h.fh.handle_bytes <= HANDLE_MAX) {
			f->nhandle = (uint8_t)h.fh.handle_bytes;
			f->handle_type = h.fh.handle_type;
			memcpy(f->handle, h.fh.f_handle, f->nhandle);
		}
	}
	p->live++;
	p->set_files[s]++;
	if (o) {
		o->files++;
		p->nonroot++;
	}
	{
		int e = push_map(p, slot);

		if (e) {
			refuse(p, R_MAP, 0, path, strerror(-e));
			remove_slot(p, slot);
			p->removed--;
			return 0;
		}
	}
	return 1;
}

/* ---- deleted files ------------------------------------------------------ */

enum alive { GONE, UNLINKED_OPEN, LINKED };

static int mount_id_of(int fd)
{
	struct { struct file_handle fh; unsigned char b[128]; } h;
	int mid = -1;

	h.fh.handle_bytes = 128;
	if (name_to_handle_at(fd, "", &h.fh, &mid, AT_EMPTY_PATH) && errno != EOVERFLOW)
		return -1;
	return mid;
}

/* Is the inode of slot still there? Its handle is opened through a
 * directory of the same mount: hint (the event's directory, mount id
 * hint_mid) or the nearest existing parent of its name. */
static enum alive file_alive(struct protect *p, uint32_t slot, int hint, int hint_mid)
{
	struct pfile *f = &p->files[slot];
	struct { struct file_handle fh; unsigned char b[HANDLE_MAX]; } h;
	char dir[PATH_MAX];
	enum alive ret = GONE;
	struct stat st;
	int mfd = -1, fd;

	if (!f->nhandle)
		return GONE;	/* no way to tell: its name is gone, so is the entry */
	snprintf(dir, sizeof(dir), "%s", f->path);
	if (hint >= 0 && hint_mid == f->mount_id)
		mfd = fcntl(hint, F_DUPFD_CLOEXEC, 0);
	for (char *sl; mfd < 0 && (sl = strrchr(dir, '/'));) {
		int d;

		if (sl == dir)
			sl[1] = '\0';
		else
			*sl = '\0';
		d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);	/* not O_PATH: EBADF */
		if (d >= 0 && mount_id_of(d) == f->mount_id)
			mfd = d;
		else if (d >= 0)
			close(d);
		if (sl == dir)
			break;
	}
	if (mfd < 0)
		return GONE;
	h.fh.handle_bytes = f->nhandle;
	h.fh.handle_type = f->handle_type;
	memcpy(h.fh.f_handle, f->handle, f->nhandle);
	fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	close(mfd);
	if (fd < 0)
		return GONE;
	if (!fstat(fd, &st))
		ret = st.st_nlink ? LINKED : UNLINKED_OPEN;
	close(fd);
	return ret;
}

/* The name `path` went away (unlinked, or renamed from). The entry leaves
 * with its last link; a file someone still holds open stays protected
 * until closed (protect__tick); one with another name stays as it is. */
static void name_gone(struct protect *p, const char *path, int hint, int hint_mid)
{
	long s = find_by_path(p, path);
	struct pfile *f;

	if (s < 0)
		return;
	f = &p->files[s];
	switch (file_alive(p, s, hint, hint_mid)) {
	case GONE:
		remove_slot(p, s);
		return;
	case UNLINKED_OPEN: {
		uint32_t *nu = realloc(p->unlinked, (p->nunlinked + 1) * sizeof(*nu));

		if (!nu)
			return;
		p->unlinked = nu;
		nu[p->nunlinked++] = s;
		f->state = F_UNLINKED;
		break;
	}
	case LINKED:
		break;
	}
	oa_remove(p, &p->by_path, s, path_hash_of);
	f->path_stale = true;
}

void protect__tick(struct protect *p)
{
	uint64_t now = now_ns();

	if (p->nunlinked && now - p->last_recheck_ns >= RECHECK_EVERY_NS) {
		size_t k = 0;

		p->last_recheck_ns = now;
		for (size_t i = 0; i < p->nunlinked; i++) {
			uint32_t s = p->unlinked[i];
			enum alive a = p->files[s].state == F_UNLINKED ? file_alive(p, s, -1, -1)
								       : LINKED;

			if (a == GONE)
				remove_slot(p, s);
			else if (a == UNLINKED_OPEN)
				p->unlinked[k++] = s;
			else if (p->files[s].state == F_UNLINKED)
				p->files[s].state = F_LIVE;
		}
		p->nunlinked = k;
	}
	flush_reports(p, false);
}

/* ---- scanning ------------------------------------------------------------ */

struct scan_item {
	const char *pattern;
	size_t set;
	char prefix[PATH_MAX];
};

struct scan_ctx {
	struct protect *p;
	const struct scan_item *items;	/* indexed like the walk's patterns */
	int added;
};

/* A symlink a set's pattern matches is never followed. Links to files
 * vigil protects anyway (a Hugging Face snapshot's links to its blobs) or
 * that lie in a protected tree themselves are fine; a link out of every set
 * (~/x.safetensors -> libc) is named, it is what an attack looks like. */
static void link_seen(struct protect *p, const char *path, const struct stat *lst)
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
	refuse(p, R_LINK, lst->st_uid, path, d);
}

static int on_scan_match(const char *path, const struct stat *st, int dfd, const char *name,
			 size_t idx, void *data)
{
	struct scan_ctx *c = data;
	const struct scan_item *it = &c->items[idx];
	int r;

	if (excluded(&c->p->rs->sets[it->set], path))
		return 0;
	if (S_ISLNK(st->st_mode)) {
		link_seen(c->p, path, st);
		return 0;
	}
	r = add_file(c->p, path, st, dfd, name, it->set);
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
	p->home_uid = -1;
	return p;
}

void protect__free(struct protect *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nslots; i++)
		free(p->files[i].path);
	for (size_t i = 0; i < p->watches_cap; i++)
		free(p->watches[i].dir);
	for (size_t i = 0; i < p->nreports; i++)
		free(p->reports[i].first);
	for (size_t i = 0; i < GRAVE; i++)
		free(p->grave[i].path);
	for (size_t i = 0; i < p->ncopies; i++)
		free(p->copies[i].path);
	free(p->reports);
	free(p->watches);
	free(p->owners);
	free(p->copies);
	free(p->files);
	free(p->free_slots);
	free(p->unlinked);
	free(p->by_id.t);
	free(p->by_path.t);
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
			push_map(p, i);
		}
		recount_sets(p);
		p->rs = old_rs;
		free(old);
		return ret;
	}
	for (size_t i = 0; i < n; i++)
		if (p->files[i].state != F_FREE && !p->files[i].mask && old[i])
			remove_slot(p, i);
	free(old);
	if (p->ifd >= 0)
		protect__watch(p);
	flush_reports(p, true);
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
			refuse(p, R_ROOT_LINK, st.st_uid, dir, d);
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
		refuse(p, R_NOTICE, 0, "", "fs.protected_hardlinks is 0: any user can hard-link "
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
				int r = glob__walk_literal(pat, on_scan_match, &c, GLOB_REPORT_LINKS);

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
		root_link_check(p, items[i].prefix);
		{
			struct scan_ctx c = { .p = p, .items = group };

			r = glob__walk_many(items[i].prefix, pats, ng, on_scan_match, &c,
					    MAX_FILES_PER_GLOB, GLOB_REPORT_LINKS);
		}
		free(group);
		if (r < 0 && r != -ENOENT)
			ret = r;
	}
	free(items);
	free(pats);
	flush_reports(p, true);
	return ret;
}

/* ---- inotify ------------------------------------------------------------ */

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

	if (w->uid && (o = owner_get(p, w->uid)) && o->watches)
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

static unsigned long long watches_per_owner(const struct protect *p)
{
	return p->rs->limits.watches_per_owner ? p->rs->limits.watches_per_owner
					       : RULES_WATCHES_PER_OWNER;
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
			refuse(p, R_SET_WATCHES, (uint32_t)s, dir, d);
		}
		close(dfd);
		return;
	}
	if (p->nwatches >= MAX_WATCHES) {
		snprintf(d, sizeof(d), "%d directories are watched, vigil's limit", MAX_WATCHES);
		refuse(p, R_WATCH_TOTAL, 0, dir, d);
		close(dfd);
		return;
	}
	if (st.st_uid && !(o = owner_get(p, st.st_uid))) {
		close(dfd);
		return;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
	wd = inotify_add_watch(p->ifd, proc, WATCH_MASK);
	if (wd < 0) {
		if (errno == ENOSPC) {
			snprintf(d, sizeof(d), "the kernel's fs.inotify.max_user_watches is "
				 "used up");
			refuse(p, R_WATCH_TOTAL, 0, dir, d);
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
		if (o && o->watches >= watches_per_owner(p)) {
			inotify_rm_watch(p->ifd, wd);
			snprintf(d, sizeof(d), "%u", o->watches);
			refuse(p, R_OWNER_WATCHES, st.st_uid, dir, d);
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
			covered = j != i && path_within(prefixes[i], prefixes[j]) &&
				  (strcmp(prefixes[i], prefixes[j]) || j < i);
		if (!covered)
			watch_path(p, prefixes[i]);
	}
	free(prefixes);
	flush_reports(p, true);
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

				glob__walk_many(path, pats, n, on_scan_match, &c,
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
				if (!glob__match(set->paths[g], path) || excluded(set, path))
					continue;
				if (S_ISLNK(st.st_mode)) {
					link_seen(p, path, &st);
					goto done;
				}
				if (add_file(p, path, &st, dfd, name, s) > 0)
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
	c->mount_id = c->fd >= 0 ? mount_id_of(c->fd) : -1;
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
					name_gone(p, path, dircache_get(&dc, w), dc.mount_id);
				continue;
			}
			if (dircache_get(&dc, w) >= 0)
				consider_name(p, dc.fd, path, ev->name, &added);
		}
	}
	if (dc.fd >= 0)
		close(dc.fd);
	flush_reports(p, false);
	return added;
}
