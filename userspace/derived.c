// SPDX-License-Identifier: GPL-2.0
/* The derived-file ledger (derived.h): a chained hash on the copy's file id. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "derived.h"

#define DERIVED_BUCKETS 1024

struct node {
	struct node *next;
	struct derived d;
};

struct derived_table {
	struct node *b[DERIVED_BUCKETS];
	size_t n;
	uint64_t dropped;
};

struct derived_table *derived__new(void)
{
	return calloc(1, sizeof(struct derived_table));
}

void derived__free(struct derived_table *t)
{
	if (!t)
		return;
	for (int i = 0; i < DERIVED_BUCKETS; i++)
		for (struct node *x = t->b[i], *n; x; x = n) {
			n = x->next;
			free(x);
		}
	free(t);
}

struct derived *derived__get(const struct derived_table *t, uint32_t file_id)
{
	if (!t)
		return NULL;
	for (struct node *x = t->b[file_id % DERIVED_BUCKETS]; x; x = x->next)
		if (x->d.file_id == file_id)
			return &x->d;
	return NULL;
}

int derived__put(struct derived_table *t, const struct derived *d)
{
	struct derived *old = derived__get(t, d->file_id);
	struct node *x;

	if (old) {
		*old = *d;
		return 0;
	}
	if (t->n >= DERIVED_MAX) {
		t->dropped++;
		return -ENOSPC;
	}
	x = malloc(sizeof(*x));
	if (!x) {
		t->dropped++;
		return -ENOMEM;
	}
	x->d = *d;
	x->next = t->b[d->file_id % DERIVED_BUCKETS];
	t->b[d->file_id % DERIVED_BUCKETS] = x;
	t->n++;
	return 0;
}

size_t derived__count(const struct derived_table *t) { return t ? t->n : 0; }
uint64_t derived__dropped(const struct derived_table *t) { return t ? t->dropped : 0; }

uint32_t derived__copy_via(const struct vigil_ev_copy *e)
{
	if (e->via != VIGIL_VIA_SHM)
		return VIGIL_VIA_FILE;
	/* a memfd's dentry is "memfd:NAME" with no parent (a pseudo file) */
	if (e->nnames == 1 && !strncmp(e->names[0], "memfd:", 6))
		return VIGIL_VIA_MEMFD;
	return VIGIL_VIA_SHM;
}

uint32_t derived__hop_via(const struct derived *d)
{
	return derived__is_copy_via(d->via) ? d->via : VIGIL_VIA_FILE;
}

bool derived__is_copy_via(uint32_t via)
{
	return via == VIGIL_VIA_FILE || via == VIGIL_VIA_SHM || via == VIGIL_VIA_MEMFD;
}
