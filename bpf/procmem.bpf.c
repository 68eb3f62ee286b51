// SPDX-License-Identifier: GPL-2.0
/* Another process's memory (lib/procmem.bpf.h says what taints whom):
 *   process_vm_readv, process_vm_writev  their syscall tracepoints (rare
 *                                syscalls: run only for them)
 *   open of /proc/PID/mem        the exit of open, openat and openat2: the
 *                                new fd's file is looked at (procfs, named
 *                                "mem") and its mm's owner is the holder,
 *                                so /proc/PID/task/TID/mem and opens
 *                                relative to a /proc/PID directory fd are
 *                                the same. Opens are frequent: an open
 *                                that failed costs one comparison, any
 *                                other a handful of pointer reads.
 *   ptrace                       tamper.bpf.c's sys_enter_ptrace program
 * The reader is tainted at the open, before its first read: a /proc/PID/mem
 * file opened before its holder was tainted is not seen. */
#include "lib/procmem.bpf.h"

#define PROC_SUPER_MAGIC 0x9fa0

SEC("tp/syscalls/sys_enter_process_vm_readv")
int vigil_sys_vm_readv(struct trace_event_raw_sys_enter *ctx)
{
	procmem__taint_reader((__u32)ctx->args[0]);
	return 0;
}

SEC("tp/syscalls/sys_enter_process_vm_writev")
int vigil_sys_vm_writev(struct trace_event_raw_sys_enter *ctx)
{
	procmem__taint_target((__u32)ctx->args[0]);
	return 0;
}

/* The file behind the current task's new fd: a /proc/PID/mem file? */
static __always_inline void procmem__opened(long fd)
{
	struct task_struct *task;
	struct file **fds, *f = NULL;
	struct inode *inode;
	struct mm_struct *mm;
	char name[4] = {};
	__u32 holder, mode;

	if (fd < 0)
		return;
	task = bpf_get_current_task_btf();
	if (fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return;
	inode = BPF_CORE_READ(f, f_inode);
	if (!inode || BPF_CORE_READ(inode, i_sb, s_magic) != PROC_SUPER_MAGIC)
		return;
	if (bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name)) ||
	    name[0] != 'm' || name[1] != 'e' || name[2] != 'm' || name[3])
		return;
	mm = BPF_CORE_READ(f, private_data);	/* mem_open: the target's mm */
	if (!mm || !bpf_core_field_exists(mm->owner))	/* owner: CONFIG_MEMCG */
		return;
	holder = BPF_CORE_READ(mm, owner, tgid);
	mode = BPF_CORE_READ(f, f_mode);
	if (mode & VIGIL_FMODE_WRITE)
		procmem__taint_target(holder);
	if (mode & VIGIL_FMODE_READ)
		procmem__taint_reader(holder);
}

SEC("tp/syscalls/sys_exit_openat")
int vigil_sys_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	procmem__opened(ctx->ret);
	return 0;
}

SEC("tp/syscalls/sys_exit_openat2")
int vigil_sys_openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	procmem__opened(ctx->ret);
	return 0;
}

SEC("tp/syscalls/sys_exit_open")
int vigil_sys_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	procmem__opened(ctx->ret);
	return 0;
}
