// SPDX-License-Identifier: GPL-2.0
/* The protected-file table's entries: file ids (slot and generation), the
 * indexes by identity and by path, adding a file (after the limits say
 * yes) and removing it, and the kernel's vg_files map and bloom filter. */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "protect_state.h"

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

uint32_t ptable__id(const struct protect *p, uint32_t slot)
{
	return ((uint32_t)p->files[slot].gen << SLOT_BITS) | (slot + 1);
}

/* The slot of a live (or unlinked) file_id, or -1. */
long ptable__slot_of(const struct protect *p, uint32_t id)
{
	uint32_t s = (id & SLOT_MASK);

	if (id >= VIGIL_COPY_ID_BASE || !s || s > p->nslots)
		return -1;
	s--;
	if (p->files[s].state == F_FREE || ptable__id(p, s) != id)
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

long ptable__find_path(const struct protect *p, const char *path)
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

void ptable__unindex_path(struct protect *p, uint32_t slot)
{
	oa_remove(p, &p->by_path, slot, path_hash_of);
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
			return (int)ptable__id(p, s);
		}
	}
	return -1;
}

/* tmpfs, ramfs, hugetlbfs: no page hook sees their reads; overlayfs: the
 * page hooks see them under the real inode, not the overlay inode stat(2)
 * gave us. Both are judged at open (bpf/shm.bpf.c, vg_shm_files). */
static bool judged_at_open(const char *path)
{
	struct statfs sf;

	return !statfs(path, &sf) && (sf.f_type == 0x01021994 || sf.f_type == 0x858458f6 ||
				      (unsigned long)sf.f_type == 0x958458f6 ||
				      (unsigned long)sf.f_type == 0x794c7630);
}

int ptable__push_key(struct protect *p, uint64_t kdev, uint64_t ino, uint32_t mask, uint32_t id)
{
	struct vigil_file_key k = { .dev = kdev, .ino = ino };
	struct vigil_file_info v = { .set_mask = mask, .file_id = id };

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

int ptable__push(struct protect *p, uint32_t slot)
{
	const struct pfile *f = &p->files[slot];

	if (p->map_fd < 0)
		return 0;
	if (p->shm_files && !*p->shm_files && f->path && judged_at_open(f->path))
		__atomic_store_n(p->shm_files, 1, __ATOMIC_SEQ_CST);	/* before the entry */
	return ptable__push_key(p, f->kdev, f->ino, f->mask, ptable__id(p, slot));
}

/* The entry goes: out of the kernel map, the indexes and the counts; its
 * name stays in the graveyard for alerts about earlier reads. */
void ptable__remove(struct protect *p, uint32_t slot)
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
	if (f->uid && (o = plimits__owner(p, f->uid)) && o->files)
		o->files--;
	if (f->uid)
		p->nonroot--;
	free(g->path);
	g->id = ptable__id(p, slot);
	g->path = f->path;
	f->path = NULL;
	f->state = F_FREE;
	f->mask = 0;
	f->gen = (f->gen + 1) & GEN_MASK;
	p->live--;
	p->removed++;
	p->free_slots[p->nfree++] = slot;
}

/* Add (or widen the sets of) one file for set s. dfd/name: where it is,
 * for its file handle (dfd < 0: none). Returns 1 if it is new. */
int ptable__add(struct protect *p, const char *path, const struct stat *st, int dfd,
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
	if (!plimits__owner_ok(p, set, path, st->st_uid, why, sizeof(why))) {
		plimits__refuse(p, R_OWNER_MISMATCH, st->st_uid, path, why);
		return 0;
	}
	if (id > 0) {
		f = &p->files[ptable__slot_of(p, id)];
		if (f->path_stale) {	/* renamed or linked again: its new name */
			char *np = strdup(path);

			if (np) {
				free(f->path);
				f->path = np;
				f->path_stale = false;
				f->state = F_LIVE;
				oa_insert(p, &p->by_path, ptable__slot_of(p, id), path_hash_of);
			}
		}
		if ((f->mask & mask) == mask || !plimits__set_has_room(p, s, path))
			return 0;
		f->mask |= mask;
		p->set_files[s]++;
		ptable__push(p, ptable__slot_of(p, id));
		return 0;
	}
	if (!plimits__set_has_room(p, s, path))
		return 0;
	if (st->st_uid) {
		o = plimits__owner(p, st->st_uid);
		if (!o)
			return -ENOMEM;
		if (o->files >= plimits__files_per_owner(p)) {
			snprintf(d, sizeof(d), "%u", o->files);
			plimits__refuse(p, R_OWNER_FILES, st->st_uid, path, d);
			return 0;
		}
		if (p->nonroot >= plimits__capacity(p) / 4 * 3) {
			snprintf(d, sizeof(d), "%zu", p->nonroot);
			plimits__refuse(p, R_RESERVED, 0, path, d);
			return 0;
		}
	}
	if (p->live >= plimits__capacity(p) || (!p->nfree && p->nslots >= SLOT_MASK - 1)) {
		snprintf(d, sizeof(d), "%zu", plimits__capacity(p));
		plimits__refuse(p, R_TABLE, 0, path, d);
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
		int e = ptable__push(p, slot);

		if (e) {
			plimits__refuse(p, R_MAP, 0, path, strerror(-e));
			ptable__remove(p, slot);
			p->removed--;
			return 0;
		}
	}
	return 1;
}
