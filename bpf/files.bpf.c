// SPDX-License-Identifier: GPL-2.0
/* Reads of protected files, whatever the syscall: the filemap tracepoints
 * fire for every buffered read (read, readv, sendfile, splice,
 * copy_file_range, io_uring) and for mmap page faults. The mmap syscall of
 * a protected fd is the reliable mmap signal (a cold-cache fault may not be
 * seen in full). See KERNEL-NOTES in docs/ARCHITECTURE.md. */
#include "lib/taint.bpf.h"

static __always_inline int on_filemap(struct address_space *mapping, __u64 first,
				      __u64 last, __u32 via)
{
	const struct vigil_file_info *info;
	struct inode *inode = BPF_CORE_READ(mapping, host);

	if (!inode)
		return 0;
	info = file__lookup_inode(inode);
	if (info) {
		/* A read at EOF asks for the page past the end: count only
		 * pages that hold file data. */
		__s64 size = BPF_CORE_READ(inode, i_size);
		__u64 last_data = size > 0 ? (size - 1) >> PAGE_SHIFT : 0;

		if (last > last_data)
			last = last_data;
		taint__file_read(info, first, last, via);
	}
	return 0;
}

SEC("tp_btf/mm_filemap_get_pages")
int BPF_PROG(vigil_filemap_get_pages, struct address_space *mapping,
	     unsigned long index, unsigned long last_index)
{
	return on_filemap(mapping, index, last_index, VIGIL_VIA_READ);
}

SEC("tp_btf/mm_filemap_map_pages")
int BPF_PROG(vigil_filemap_map_pages, struct address_space *mapping,
	     unsigned long start, unsigned long last)
{
	return on_filemap(mapping, start, last, VIGIL_VIA_MMAP);
}

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(vigil_filemap_fault, struct address_space *mapping, unsigned long index)
{
	return on_filemap(mapping, index, index, VIGIL_VIA_MMAP);
}

/* Layout of the syscalls:sys_enter_mmap tracepoint record. */
struct mmap_enter_args {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 addr;
	__u64 len;
	__u64 prot;
	__u64 flags;
	__u64 fd;
	__u64 off;
};

SEC("tp/syscalls/sys_enter_mmap")
int vigil_sys_enter_mmap(struct mmap_enter_args *args)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct vigil_file_info *info;
	struct file **fds, *f = NULL;
	struct fdtable *fdt;
	struct inode *inode;
	int fd = (int)args->fd;
	__u64 len = args->len;

	if ((args->flags & MAP_ANONYMOUS) || fd < 0 || !len)
		return 0;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	if (!inode)
		return 0;
	info = file__lookup_inode(inode);
	if (info) {
		__u64 first = args->off >> PAGE_SHIFT;

		taint__file_read(info, first, first + ((len - 1) >> PAGE_SHIFT),
				 VIGIL_VIA_MMAP);
	}
	return 0;
}
