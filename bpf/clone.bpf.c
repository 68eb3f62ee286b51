// SPDX-License-Identifier: GPL-2.0
/* Reflinks and copy offloads: FICLONE / FICLONERANGE ioctls (`cp
 * --reflink`) and copy_file_range, which on btrfs, XFS (reflink=1), NFS
 * 4.2 and CIFS share or copy extents inside the filesystem: no page of the
 * source is read through the page cache and no page of the copy is
 * dirtied, so neither files.bpf.c's read hook nor its dirty-page hook sees
 * them. At the syscall's entry, the caller holding a protected source is
 * tainted as its reader (the range it asked for: cloning is access to
 * those bytes, as an open of a tmpfs file is) and the destination becomes
 * a copy carrying the source's sets (lib/copy.bpf.h), before any byte of
 * it can be read. A clone that then fails (EOPNOTSUPP on ext4) leaves a
 * protected destination the fallback copy would have protected anyway.
 *
 * sys_enter_ioctl runs on every ioctl of the host: out after comparing the
 * command (terminals, sockets, DRM issue many). copy_file_range is rare. */
#include "lib/files.bpf.h"

#define VIGIL_FICLONE 0x40049409u	 /* _IOW(0x94, 9, int) */
#define VIGIL_FICLONERANGE 0x4020940du	 /* _IOW(0x94, 13, struct file_clone_range) */

/* The caller clones or copies len bytes (0: to the end) at off of src_fd
 * into dst_fd. */
static __always_inline void clone__copy(long src_fd, long dst_fd, __u64 off, __u64 len)
{
	const struct vigil_file_info *info;
	struct vigil_file_key fk = {};
	struct inode *src, *dst;
	struct vigil_taint *t;
	struct file *f;
	__u32 tgid = current_tgid();
	__s64 size;

	if (tgid == cfg_agent_tgid || !in_scope())
		return;
	f = shm__fd_file(src_fd);
	src = f ? BPF_CORE_READ(f, f_inode) : NULL;
	if (!src || (BPF_CORE_READ(src, i_mode) & S_IFMT) != S_IFREG)
		return;
	info = file__lookup_inode(src);
	if (!info)
		return;
	size = BPF_CORE_READ(src, i_size);
	if (size <= 0 || off >= (__u64)size)
		return;
	if (!len || len > (__u64)size - off)
		len = (__u64)size - off;
	taint__file_read(info, off >> PAGE_SHIFT, (off + len - 1) >> PAGE_SHIFT, VIGIL_VIA_READ);
	t = taint_of(tgid);
	f = shm__fd_file(dst_fd);
	dst = f ? BPF_CORE_READ(f, f_inode) : NULL;
	if (!t || !dst || (BPF_CORE_READ(dst, i_mode) & S_IFMT) != S_IFREG)
		return;
	fk.dev = BPF_CORE_READ(dst, i_sb, s_dev);
	fk.ino = BPF_CORE_READ(dst, i_ino);
	if (bpf_map_lookup_elem(&vg_files, &fk))
		return;	/* protected already */
	copy__protect(&fk, dst, tgid, t->set_mask, info->file_id, t->depth, VIGIL_VIA_FILE);
}

/* The caller's argument in user memory could not be read at the entry (a
 * page not present: a mapping never touched, which the kernel's own copy
 * faults in and a probe read cannot). Fail closed: the first protected
 * regular file it holds open for reading on the destination's filesystem
 * (a clone never crosses one: EXDEV) is taken as the source, whole. The
 * scan runs only then, never for a readable argument, over the whole fd
 * table (up to VIGIL_CLONE_SCAN_MAX: a source dup2'ed to a high fd is
 * found too). */
#define VIGIL_CLONE_SCAN_MAX 65536

struct clone_scan {
	struct file **fds;
	__u32 max_fds;
	__u32 dev;	/* the destination's superblock */
	__s32 fd;	/* found, or -1 */
};

static long clone__protected_step(__u32 i, void *data)
{
	struct clone_scan *c = data;
	struct file *f = NULL;
	struct inode *inode;

	if (i >= c->max_fds)
		return 1;
	if (bpf_probe_read_kernel(&f, sizeof(f), &c->fds[i]) || !f)
		return 0;
	if (!(BPF_CORE_READ(f, f_mode) & VIGIL_FMODE_READ))
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG ||
	    BPF_CORE_READ(inode, i_sb, s_dev) != c->dev || !file__lookup_inode(inode))
		return 0;
	c->fd = i;
	return 1;
}

static __always_inline void clone__unread(long dst_fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct clone_scan c = { .fd = -1 };
	struct file *dst = shm__fd_file(dst_fd);

	if (!fdt || !dst)
		return;
	c.dev = BPF_CORE_READ(dst, f_inode, i_sb, s_dev);
	c.fds = BPF_CORE_READ(fdt, fd);
	c.max_fds = BPF_CORE_READ(fdt, max_fds);
	if (c.max_fds > VIGIL_CLONE_SCAN_MAX)
		COUNT(fd_scan_truncated);
	bpf_loop(c.max_fds < VIGIL_CLONE_SCAN_MAX ? c.max_fds : VIGIL_CLONE_SCAN_MAX,
		 clone__protected_step, &c, 0);
	if (c.fd >= 0)
		clone__copy(c.fd, dst_fd, 0, 0);
}

SEC("tp/syscalls/sys_enter_ioctl")
int vigil_sys_ioctl(struct trace_event_raw_sys_enter *ctx)
{
	__u32 cmd = ctx->args[1];
	struct file_clone_range r = {};

	if (cmd == VIGIL_FICLONE) {
		clone__copy(ctx->args[2], ctx->args[0], 0, 0);
	} else if (cmd == VIGIL_FICLONERANGE) {
		if (bpf_probe_read_user(&r, sizeof(r), (void *)ctx->args[2])) {
			clone__unread(ctx->args[0]);
			return 0;
		}
		clone__copy(r.src_fd, ctx->args[0], r.src_offset, r.src_length);
	}
	return 0;
}

/* copy_file_range(fd_in, off_in, fd_out, off_out, len, flags): off_in
 * NULL is the file position */
SEC("tp/syscalls/sys_enter_copy_file_range")
int vigil_sys_copy_file_range(struct trace_event_raw_sys_enter *ctx)
{
	__u64 off = 0, len = ctx->args[4];
	struct file *f;

	if (!len)
		return 0;
	if (ctx->args[1]) {
		if (bpf_probe_read_user(&off, sizeof(off), (void *)ctx->args[1]))
			off = 0;	/* unreadable: fail closed, from the start */
	} else if ((f = shm__fd_file(ctx->args[0]))) {
		off = BPF_CORE_READ(f, f_pos);
	}
	clone__copy(ctx->args[0], ctx->args[2], off, len);
	return 0;
}
