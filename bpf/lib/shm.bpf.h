/* SPDX-License-Identifier: GPL-2.0 */
/* Files without writeback or filemap reads: tmpfs and /dev/shm (POSIX
 * shm), memfd, ramfs and hugetlbfs. Their reads (shmem_file_read_iter) go
 * through no filemap tracepoint and their writes dirty no page through
 * writeback accounting, so no page hook sees weights copied there. What
 * is seen is the file itself: a tainted process that opens or holds one
 * for writing makes it a copy (contact, not bytes: there is no per-page
 * hook to count), and a process that opens or holds a copy for reading is
 * tainted by it (bpf/shm.bpf.c at open, the fd scan of lib/taint.bpf.h at
 * taint and at send). mmap readers are also seen page by page: shmem maps
 * pages through filemap_map_pages. */
#ifndef VIGIL_SHM_BPF_H
#define VIGIL_SHM_BPF_H

#include "lib/copy.bpf.h"

#define VIGIL_TMPFS_MAGIC 0x01021994	/* tmpfs, /dev/shm, memfd (shm_mnt) */
#define VIGIL_RAMFS_MAGIC 0x858458f6
#define VIGIL_HUGETLBFS_MAGIC 0x958458f6

/* The inode of a regular file on such a filesystem, else NULL. */
static __always_inline struct inode *shm__inode(struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	unsigned long magic;

	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return NULL;
	magic = BPF_CORE_READ(inode, i_sb, s_magic);
	if (magic != VIGIL_TMPFS_MAGIC && magic != VIGIL_RAMFS_MAGIC &&
	    magic != VIGIL_HUGETLBFS_MAGIC)
		return NULL;
	return inode;
}

/* A regular file on overlayfs. Its pages are the real (upper or lower)
 * inode's: the read hooks see them under the real inode's key, while a
 * file protected by its overlay path is keyed by the overlay inode (what
 * stat(2) says, and what the agent put in vg_files). Like a tmpfs file,
 * its open for reading counts as reading it (bpf/shm.bpf.c). */
#define VIGIL_OVERLAYFS_MAGIC 0x794c7630

static __always_inline struct inode *overlay__inode(struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);

	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG ||
	    BPF_CORE_READ(inode, i_sb, s_magic) != VIGIL_OVERLAYFS_MAGIC)
		return NULL;
	return inode;
}

static __always_inline void shm__key(struct inode *inode, struct vigil_file_key *fk)
{
	fk->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	fk->ino = BPF_CORE_READ(inode, i_ino);
}

/* The protected-file entry of a shmem inode (an original or a copy). */
static __always_inline const struct vigil_file_info *shm__protected(struct inode *inode)
{
	struct vigil_file_key fk;

	shm__key(inode, &fk);
	if (!maybe_protected(fk.dev, fk.ino))
		return NULL;
	return bpf_map_lookup_elem(&vg_files, &fk);
}

/* A tainted process (tgid: set_mask from src_file_id at depth) holds a
 * shmem file open for writing: the file is a copy of the weights from now
 * on. Holders of it re-scan their fds (the pipe generation). */
static __always_inline void shm__derive(struct inode *inode, __u32 tgid, __u32 set_mask,
					__u32 src_file_id, __u32 depth)
{
	struct vigil_file_key fk;

	shm__key(inode, &fk);
	if (maybe_protected(fk.dev, fk.ino) && bpf_map_lookup_elem(&vg_files, &fk))
		return;	/* a copy already, or the original itself */
	vg_shm_files = 1;	/* before the entry, like the bloom bit */
	if (!copy__protect(&fk, inode, tgid, set_mask, src_file_id, depth, VIGIL_VIA_SHM))
		__sync_fetch_and_add(&vg_pipe_gen, 1);
}

#endif
