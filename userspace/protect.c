// SPDX-License-Identifier: GPL-2.0
/* The protected-file table's face: lifetime, settings, queries and the
 * copies the kernel protected (the parts: protect_state.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "protect_state.h"
#include "rules.h"

uint64_t protect__kdev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev);
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

void protect__set_shm_flag(struct protect *p, uint32_t *shm_files)
{
	p->shm_files = shm_files;
}

void protect__set_rules(struct protect *p, const struct ruleset *rs)
{
	p->rs = rs;
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
	s = ptable__slot_of(p, file_id);
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
	s = ptable__slot_of(p, file_id);
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

bool protect__copy_at(const struct protect *p, size_t i, struct protect_copy *out)
{
	const struct copyfile *c;

	if (i >= p->ncopies)
		return false;
	c = &p->copies[i];
	*out = (struct protect_copy){ c->id, c->mask, c->kdev, c->ino, c->path };
	return true;
}

int protect__restore_copy(struct protect *p, const struct protect_copy *c, bool in_kernel)
{
	int err = in_kernel ? 0 : ptable__push_key(p, c->kdev, c->ino, c->mask, c->id);

	return err ? err : protect__add_copy(p, c->id, c->kdev, c->ino, c->mask, c->path);
}

uint32_t protect__set_bit(const struct protect *p, const char *name)
{
	int i;

	if (!strcmp(name, "*"))
		return p->rs->nsets >= 32 ? ~0u : (1u << p->rs->nsets) - 1;
	i = rules__set_index(p->rs, name);
	return i < 0 ? 0 : 1u << i;
}
