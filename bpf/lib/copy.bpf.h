/* SPDX-License-Identifier: GPL-2.0 */
/* Copies of weights: a file a tainted process wrote joins vg_files with
 * the writer's sets, and a COPY record tells the agent its name and where
 * its bytes came from (the derived-file ledger, userspace/derived.c). The
 * one way every writer hook protects a copy: written pages on disk
 * (files.bpf.c), tmpfs and memfd files opened or held for writing
 * (lib/shm.bpf.h). */
#ifndef VIGIL_COPY_BPF_H
#define VIGIL_COPY_BPF_H

#include "lib/common.bpf.h"

/* The dentry names from the file up to its filesystem's root. */
static __always_inline void copy__names(struct vigil_ev_copy *e, struct inode *inode)
{
	struct hlist_node *first = BPF_CORE_READ(inode, i_dentry.first);
	struct dentry *d, *parent;

	e->nnames = 0;
	if (!first)
		return;
	d = (struct dentry *)((void *)first - bpf_core_field_offset(struct dentry, d_u.d_alias));
	for (int i = 0; i < VIGIL_COPY_NAMES; i++) {
		const unsigned char *name = BPF_CORE_READ(d, d_name.name);

		if (bpf_probe_read_kernel_str(e->names[i], VIGIL_COPY_NAME_LEN, name) < 0)
			break;
		e->nnames = i + 1;
		parent = BPF_CORE_READ(d, d_parent);
		if (!parent || parent == d)
			break;
		d = parent;
	}
}

/* Protect the file (fk, inode) as a copy written by tgid, whose taint is
 * set_mask from src_file_id at depth; via: VIGIL_VIA_FILE or _SHM (what
 * the reader's hop will say). 0 if this call protected it. */
static __always_inline int copy__protect(const struct vigil_file_key *fk, struct inode *inode,
					 __u32 tgid, __u32 set_mask, __u32 src_file_id,
					 __u32 depth, __u32 via)
{
	struct vigil_file_info info = {};
	struct vigil_ev_copy *e;

	info.set_mask = set_mask;
	info.file_id = VIGIL_COPY_ID_BASE + __sync_fetch_and_add(&vg_copy_seq, 1);
	mark_protected(fk->dev, fk->ino);
	if (bpf_map_update_elem(&vg_files, fk, &info, BPF_NOEXIST))
		return -1;
	e = event_reserve(sizeof(*e), VIGIL_EV_COPY, tgid);
	if (!e)
		return 0;
	e->dev = fk->dev;
	e->ino = fk->ino;
	e->file_id = info.file_id;
	e->set_mask = info.set_mask;
	e->src_file_id = src_file_id;
	e->depth = depth;
	e->via = via;
	copy__names(e, inode);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif
