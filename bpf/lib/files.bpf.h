/* SPDX-License-Identifier: GPL-2.0 */
/* Reads of protected files: the one body every read and mmap hook calls
 * (tracepoints, fentry, kprobes, LSM), so each implementation of the
 * "read" and "mmap" capabilities feeds the same maps and records. */
#ifndef VIGIL_FILES_BPF_H
#define VIGIL_FILES_BPF_H

#include "lib/taint.bpf.h"

/* The current task read (or mapped) pages [first, last] of the file
 * (dev, ino) of `size` bytes. The bloom filter turns away unprotected
 * inodes before any hash lookup. */
static __always_inline int file__read_pages(__u64 dev, __u64 ino, __s64 size, __u64 first,
					    __u64 last, __u32 via)
{
	const struct vigil_file_info *info;
	struct vigil_file_key key;

	if (!maybe_protected(dev, ino))
		return 0;
	key.ino = ino;
	key.dev = dev;
	info = bpf_map_lookup_elem(&vg_files, &key);
	if (info) {
		/* A read at EOF asks for the page past the end: count only
		 * pages that hold file data. */
		__u64 last_data = size > 0 ? (size - 1) >> PAGE_SHIFT : 0;

		if (last > last_data)
			last = last_data;
		taint__file_read(info, first, last, via);
	}
	return 0;
}

/* BTF-typed pointers (tp_btf, fentry, LSM): read directly, no probe-read
 * calls; this runs on every page-cache read on the host. */
static __always_inline int file__read_mapping(struct address_space *mapping, __u64 first,
					      __u64 last, __u32 via)
{
	struct super_block *sb;
	struct inode *inode;

	if (!mapping)
		return 0;
	inode = mapping->host;
	if (!inode)
		return 0;
	sb = inode->i_sb;
	if (!sb)
		return 0;
	return file__read_pages(sb->s_dev, inode->i_ino, inode->i_size, first, last, via);
}

/* Untyped pointers (kprobes): the same through probe reads. */
static __always_inline int file__read_mapping_probed(struct address_space *mapping,
						     __u64 first, __u64 last, __u32 via)
{
	struct inode *inode = BPF_CORE_READ(mapping, host);

	if (!inode)
		return 0;
	return file__read_pages(BPF_CORE_READ(inode, i_sb, s_dev), BPF_CORE_READ(inode, i_ino),
				BPF_CORE_READ(inode, i_size), first, last, via);
}

/* A read of `count` bytes at `pos`: the pages it covers (the part past EOF
 * is cut by file__read_pages). */
static __always_inline void file__span(__u64 pos, __u64 count, __u64 *first, __u64 *last)
{
	*first = pos >> PAGE_SHIFT;
	*last = (pos + count - 1) >> PAGE_SHIFT;
}

/* An O_DIRECT request entering iomap (__iomap_dio_rw: the tracepoint
 * iomap_dio_rw_begin, or a trampoline or kprobe on the function where the
 * tracepoint does not exist, 6.1). Probe reads, so every implementation
 * shares it; it runs for direct I/O only, and a write leaves after one
 * comparison. The range asked for counts (cut at EOF). */
static __always_inline int file__read_direct(struct kiocb *iocb, struct iov_iter *iter)
{
	struct inode *inode;
	struct file *f;
	__u64 count, first, last;

	if (!iter || !iocb || BPF_CORE_READ(iter, data_source))
		return 0;	/* a write: the data comes from the iterator */
	count = BPF_CORE_READ(iter, count);
	f = BPF_CORE_READ(iocb, ki_filp);
	if (!count || !f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	if (!inode)
		return 0;
	file__span(BPF_CORE_READ(iocb, ki_pos), count, &first, &last);
	return file__read_pages(BPF_CORE_READ(inode, i_sb, s_dev), BPF_CORE_READ(inode, i_ino),
				BPF_CORE_READ(inode, i_size), first, last, VIGIL_VIA_READ);
}

#endif
