// SPDX-License-Identifier: GPL-2.0
/* Reads of protected files, whatever the syscall: the filemap tracepoints
 * fire for every buffered read (read, readv, sendfile, splice,
 * copy_file_range, io_uring) and for mmap page faults (map_pages for
 * cached pages mapped around a fault, fault for the faulting page). No
 * syscall tracepoint: enabling any of them puts every syscall of every
 * task on the slow path (measured: 1.17x on 1-byte I/O with the program
 * itself costing nothing). See docs/ARCHITECTURE.md. */
#include "lib/files.bpf.h"
#include "lib/copy.bpf.h"
#include "lib/write.bpf.h"

SEC("tp_btf/mm_filemap_get_pages")
int BPF_PROG(vigil_filemap_get_pages, struct address_space *mapping,
	     unsigned long index, unsigned long last_index)
{
	return file__read_mapping(mapping, index, last_index, VIGIL_VIA_READ);
}

/* O_DIRECT reads (also through AIO and io_uring) bypass the page cache, so
 * no filemap tracepoint sees them; iomap's direct-I/O entry does (ext4,
 * xfs, btrfs, ...), once per request, in the reader's context. Only direct
 * I/O reaches it (file__read_direct). 6.1 has no such tracepoint: the
 * kprobe implementation hooks the function it sits in. */
SEC("tp_btf/iomap_dio_rw_begin")
int BPF_PROG(vigil_dio_read, struct kiocb *iocb, struct iov_iter *iter, unsigned int dio_flags,
	     size_t done_before)
{
	return file__read_direct(iocb, iter);
}

SEC("tp_btf/mm_filemap_map_pages")
int BPF_PROG(vigil_filemap_map_pages, struct address_space *mapping,
	     unsigned long start, unsigned long last)
{
	return file__read_mapping(mapping, start, last, VIGIL_VIA_MMAP);
}

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(vigil_filemap_fault, struct address_space *mapping, unsigned long index)
{
	return file__read_mapping(mapping, index, index, VIGIL_VIA_MMAP);
}

/* A tainted process dirtied a page of a regular file: once it has written
 * VIGIL_COPY_MIN_PAGES of it, the file is protected with the writer's sets,
 * so `cp weights /tmp/x` and an upload of /tmp/x by anyone else is a read
 * of protected data. Fires once per page going clean -> dirty, in the
 * writer's context; untainted writers cost a bitmap test (and, once a
 * tainted pipe exists, a task-storage read: a writer fed through a pipe by
 * a tainted process, `tar czf` 's gzip, is tainted at its first page).
 * A page of a network filesystem is also egress of its writer, charged
 * unless a write syscall paid for it (netfs__dirty). */
SEC("tp_btf/writeback_dirty_folio")
int BPF_PROG(vigil_dirty_folio, struct folio *folio, struct address_space *mapping)
{
	__u32 tgid = current_tgid(), *pages, one = 1;
	struct vigil_copy_key ck = {};
	struct vigil_file_key fk = {};
	struct vigil_taint *t;
	struct inode *inode;

	t = taint__lookup_or_pipe(tgid);
	if (!t || !mapping)
		return 0;
	inode = BPF_CORE_READ(mapping, host);
	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	/* a network filesystem's page: its bytes leave (lib/netfs.bpf.h) */
	if (tgid != cfg_agent_tgid)
		netfs__dirty(BPF_CORE_READ(inode, i_sb), folio, t, tgid);
	fk.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	fk.ino = BPF_CORE_READ(inode, i_ino);
	if (bpf_map_lookup_elem(&vg_files, &fk))
		return 0;	/* protected already (or rewriting the original) */
	ck.dev = fk.dev;
	ck.ino = fk.ino;
	ck.tgid = tgid;
	pages = bpf_map_lookup_elem(&vg_copies, &ck);
	if (!pages) {
		bpf_map_update_elem(&vg_copies, &ck, &one, BPF_NOEXIST);
		return 0;
	}
	if (__sync_fetch_and_add(pages, 1) + 1 != VIGIL_COPY_MIN_PAGES)
		return 0;
	copy__protect(&fk, inode, tgid, t->set_mask, t->first_file_id, t->depth, VIGIL_VIA_FILE);
	return 0;
}
