// SPDX-License-Identifier: GPL-2.0
/* Copies on tmpfs, /dev/shm (POSIX shm_open), memfd (lib/shm.bpf.h): no
 * page hook sees their reads or writes, so the file is judged when it is
 * opened. At the exit of open, openat, openat2 and memfd_create (the new
 * fd is the return value): a tainted process that opened such a file for
 * writing makes it a copy; a process that opened a protected one (a copy,
 * or an original on tmpfs) for reading is tainted at once, in its own
 * context, before it can read a byte. Files held before either happened
 * are the fd scan's (lib/taint.bpf.h: at taint, and at the holder's next
 * send or written page).
 *
 * Files protected by a path on overlayfs are judged here too (their reads
 * reach the page hooks under the real inode, lib/shm.bpf.h overlay__inode).
 *
 * Syscall tracepoints of open: the program runs on every open of the
 * host. An untainted open leaves after two loads (the tainted-tgid bitmap
 * and vg_shm_files) while no protected file lives on tmpfs or overlayfs;
 * once one does, an open of anything but a regular tmpfs or overlay file
 * leaves after the file's
 * inode and superblock (task -> files -> fdtable -> file -> inode -> sb).
 * The syscall slow path is already taken by blindspot.bpf.c's tracepoints.
 * Measured in docs/PERFORMANCE.md. */
#include "lib/files.bpf.h"
#include "lib/procmem.bpf.h"
#include "lib/guard.bpf.h"

/* The struct file behind the current task's fd, or NULL. */
static __always_inline struct file *shm__fd_file(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/* A tainted process opened a FIFO for writing after it was tainted: mark
 * it now (its reader is tainted at its next send), not at the agent's next
 * /proc walk. */
static __always_inline bool stage__fifo_opened(struct file *f, __u32 tgid, __u32 f_mode)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct vigil_taint *t;

	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFIFO)
		return false;
	if ((f_mode & VIGIL_FMODE_WRITE) && maybe_tainted(tgid) && (t = taint_of(tgid)))
		taint__mark_pipes(bpf_get_current_task_btf(), tgid, t);
	return true;
}

static __always_inline int shm__opened(long fd)
{
	const struct vigil_file_info *info;
	struct vigil_taint *t;
	struct inode *inode, *overlay = NULL;
	struct file *f;
	__u32 tgid, f_mode;
	__s64 size;

	if (fd < 0)
		return 0;
	guard__opened(fd);	/* devices, vigil's own files (lib/guard.bpf.h) */
	/* the common case, an untainted open while no protected file lives on
	 * tmpfs and no process was ever tainted (else it may be a tainted
	 * process's /proc/PID/mem, below): out after three loads */
	tgid = current_tgid();
	if (!vg_shm_files && !maybe_tainted(tgid) && !vg_taint_started)
		return 0;
	f = shm__fd_file(fd);
	if (!f)
		return 0;
	f_mode = BPF_CORE_READ(f, f_mode);
	if (stage__fifo_opened(f, tgid, f_mode))
		return 0;
	inode = shm__inode(f);
	if (!inode && !(overlay = inode = overlay__inode(f))) {
		procmem__opened(f, f_mode);	/* /proc/PID/mem: the same open, one program */
		return 0;
	}
	if (tgid == cfg_agent_tgid)
		return 0;
	/* (a tainted write to an overlay file dirties the real inode's pages:
	 * the writeback hook makes that the copy) */
	if (!overlay && (f_mode & VIGIL_FMODE_WRITE) && maybe_tainted(tgid)) {
		t = taint_of(tgid);
		if (t)
			shm__derive(inode, tgid, t->set_mask, t->first_file_id, t->depth);
	}
	if (!(f_mode & VIGIL_FMODE_READ))
		return 0;
	info = shm__protected(inode);
	if (!info)
		return 0;
	/* an open is access to every byte: the whole file counts as read */
	size = BPF_CORE_READ(inode, i_size);
	taint__file_read(info, 0, size > 0 ? (size - 1) >> PAGE_SHIFT : 0, VIGIL_VIA_READ);
	return 0;
}

SEC("tp/syscalls/sys_exit_openat")
int vigil_sys_openat(struct trace_event_raw_sys_exit *ctx)
{
	return shm__opened(ctx->ret);
}

SEC("tp/syscalls/sys_exit_openat2")
int vigil_sys_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return shm__opened(ctx->ret);
}

SEC("tp/syscalls/sys_exit_open")
int vigil_sys_open(struct trace_event_raw_sys_exit *ctx)
{
	return shm__opened(ctx->ret);
}

/* memfd_create: an anonymous shmem file ("memfd:NAME"), open read-write */
SEC("tp/syscalls/sys_exit_memfd_create")
int vigil_sys_memfd_create(struct trace_event_raw_sys_exit *ctx)
{
	return shm__opened(ctx->ret);
}

/* A process just tainted may hold shared writable mappings of tmpfs,
 * /dev/shm or memfd files whose fd it closed (mapped before its taint):
 * plain stores into them pass no hook, and no fd is left for the scan, so
 * each such file becomes a copy now. A task_vma iterator the agent runs
 * for the process at its taint record (userspace/shmmaps.c); VM_MAYWRITE,
 * not VM_WRITE: an mprotect makes a read-only shared mapping writable
 * without a fault any hook sees. */
#define VIGIL_VM_SHARED 0x8UL
#define VIGIL_VM_MAYWRITE 0x20UL

SEC("?iter/task_vma")
int vigil_shm_maps(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct vigil_taint *t;
	struct inode *inode;
	struct file *f;
	__u32 tgid;

	if (!vma || !task)
		return 0;
	if ((vma->vm_flags & (VIGIL_VM_SHARED | VIGIL_VM_MAYWRITE)) !=
	    (VIGIL_VM_SHARED | VIGIL_VM_MAYWRITE))
		return 0;
	f = vma->vm_file;
	if (!f)
		return 0;
	inode = shm__inode(f);
	if (!inode)
		return 0;
	tgid = task->tgid;
	t = bpf_map_lookup_elem(&vg_taint, &tgid);
	if (t)
		shm__derive(inode, tgid, t->set_mask, t->first_file_id, t->depth);
	return 0;
}
