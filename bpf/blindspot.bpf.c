// SPDX-License-Identifier: GPL-2.0
/* Blind-spot controls: the ways around vigil's hooks that only a syscall
 * shows, each reported as a CONTROL record for the rules to judge:
 *   socket(AF_PACKET | AF_XDP)   packets no cgroup hook sees (raw IP
 *                                sockets are cgroup/sock_create's, net.bpf.c)
 *   bpf(BPF_PROG_LOAD)           another process loading BPF programs
 *                                (its other commands: tamper.bpf.c)
 *   init_module, finit_module    a kernel module load
 *   mount, fsopen                a network or FUSE filesystem (its writes
 *                                are sent by the kernel or a daemon)
 *   unlink(at), rmdir, rename*,  of vigil's pins, config, rules, binary or
 *   truncate
 *                                unit, by any process (lib/guard.bpf.h;
 *                                opens of devices and of those files are
 *                                checked at open's exit, bpf/shm.bpf.c)
 *
 * Syscall tracepoints of rare syscalls: the program runs only for them.
 * Enabling any syscall tracepoint puts every syscall of the host through
 * the kernel's syscall-work slow path, which is what these cost (measured
 * in docs/PERFORMANCE.md). The records are attempts, made before the call
 * runs, whatever it returns. A tainted process making one in enforce mode
 * is SIGKILLed in its own context: the signal is pending when the call
 * returns, so it never gets to use what it made. */
#include "lib/guard.bpf.h"

#define AF_PACKET 17
#define AF_XDP 44
#define BPF_PROG_LOAD_CMD 5

/* The filesystem types whose data leaves the host (network) or goes to a
 * userspace daemon (FUSE): prefixes, so nfs4, smb3, fuse.sshfs count. */
static __always_inline bool fs_is_remote(const char *t)
{
	return starts(t, "nfs", 3) || starts(t, "cifs", 4) || starts(t, "smb", 3) ||
	       starts(t, "fuse", 4) || starts(t, "9p", 2) || starts(t, "ceph", 4) ||
	       starts(t, "glusterfs", 9) || starts(t, "afs", 3) || starts(t, "lustre", 6) ||
	       starts(t, "davfs", 5) || starts(t, "ncpfs", 5);
}

SEC("tp/syscalls/sys_enter_socket")
int vigil_sys_socket(struct trace_event_raw_sys_enter *ctx)
{
	int family = (int)ctx->args[0];

	if (family != AF_PACKET && family != AF_XDP)
		return 0;
	return control__report(family == AF_PACKET ? VIGIL_CTL_PACKET_SOCKET :
			       VIGIL_CTL_XDP_SOCKET, (int)ctx->args[1], NULL, true);
}

SEC("tp/syscalls/sys_enter_bpf")
int vigil_sys_bpf(struct trace_event_raw_sys_enter *ctx)
{
	__u32 prog_type = 0;

	if ((int)ctx->args[0] != BPF_PROG_LOAD_CMD)
		return tamper__bpf((int)ctx->args[0], (const void *)ctx->args[1]);
	/* union bpf_attr starts with prog_type for BPF_PROG_LOAD */
	bpf_probe_read_user(&prog_type, sizeof(prog_type), (void *)ctx->args[1]);
	return control__report(VIGIL_CTL_BPF_LOAD, prog_type, NULL, true);
}

SEC("tp/syscalls/sys_enter_init_module")
int vigil_sys_init_module(struct trace_event_raw_sys_enter *ctx)
{
	return control__report(VIGIL_CTL_MODULE_LOAD, -1, NULL, true);
}

/* finit_module(fd, ...): the file's name, read while the caller holds it */
SEC("tp/syscalls/sys_enter_finit_module")
int vigil_sys_finit_module(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int fd = (int)ctx->args[0];
	char detail[VIGIL_CTL_DETAIL_LEN] = {};
	struct file **fds, *f = NULL;
	unsigned int max;

	fds = BPF_CORE_READ(task, files, fdt, fd);
	max = BPF_CORE_READ(task, files, fdt, max_fds);
	if (fd >= 0 && (unsigned int)fd < max && fds)
		bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (f)
		bpf_probe_read_kernel_str(detail, sizeof(detail),
					  BPF_CORE_READ(f, f_path.dentry, d_name.name));
	return control__report(VIGIL_CTL_MODULE_LOAD, fd, detail, true);
}

/* mount(2)'s type and fsopen(2)'s name: a network or FUSE type only (a
 * container start makes dozens of proc, tmpfs, overlay and bind mounts) */
static __always_inline int control__mount(const char *type)
{
	char detail[VIGIL_CTL_DETAIL_LEN] = {};

	if (!type || bpf_probe_read_user_str(detail, sizeof(detail), type) <= 0 ||
	    !fs_is_remote(detail))
		return 0;
	return control__report(VIGIL_CTL_MOUNT, 0, detail, true);
}

SEC("tp/syscalls/sys_enter_mount")
int vigil_sys_mount(struct trace_event_raw_sys_enter *ctx)
{
	return control__mount((const char *)ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_fsopen")
int vigil_sys_fsopen(struct trace_event_raw_sys_enter *ctx)
{
	return control__mount((const char *)ctx->args[0]);
}

/* Unlinks and renames of vigil's own files and pins (lib/guard.bpf.h) */
SEC("tp/syscalls/sys_enter_unlinkat")
int vigil_sys_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return guard__path((int)ctx->args[0], (const char *)ctx->args[1], VIGIL_WOP_UNLINK);
}

SEC("tp/syscalls/sys_enter_unlink")
int vigil_sys_unlink(struct trace_event_raw_sys_enter *ctx)
{
	return guard__path(GUARD_AT_FDCWD, (const char *)ctx->args[0], VIGIL_WOP_UNLINK);
}

SEC("tp/syscalls/sys_enter_rmdir")
int vigil_sys_rmdir(struct trace_event_raw_sys_enter *ctx)
{
	return guard__path(GUARD_AT_FDCWD, (const char *)ctx->args[0], VIGIL_WOP_UNLINK);
}

/* renameat(olddfd, old, newdfd, new) and renameat2(..., flags): moving a
 * watched file away and replacing one are both reported */
static __always_inline int guard__renameat(struct trace_event_raw_sys_enter *ctx)
{
	guard__path((int)ctx->args[0], (const char *)ctx->args[1], VIGIL_WOP_RENAME);
	return guard__path((int)ctx->args[2], (const char *)ctx->args[3], VIGIL_WOP_RENAME);
}

SEC("tp/syscalls/sys_enter_renameat2")
int vigil_sys_renameat2(struct trace_event_raw_sys_enter *ctx)
{
	return guard__renameat(ctx);
}

SEC("tp/syscalls/sys_enter_renameat")
int vigil_sys_renameat(struct trace_event_raw_sys_enter *ctx)
{
	return guard__renameat(ctx);
}

SEC("tp/syscalls/sys_enter_rename")
int vigil_sys_rename(struct trace_event_raw_sys_enter *ctx)
{
	guard__path(GUARD_AT_FDCWD, (const char *)ctx->args[0], VIGIL_WOP_RENAME);
	return guard__path(GUARD_AT_FDCWD, (const char *)ctx->args[1], VIGIL_WOP_RENAME);
}

/* truncate(path, length): emptying vigil's config or binary by path opens
 * nothing (ftruncate's fd was opened for writing, which open's exit sees) */
SEC("tp/syscalls/sys_enter_truncate")
int vigil_sys_truncate(struct trace_event_raw_sys_enter *ctx)
{
	return guard__path(GUARD_AT_FDCWD, (const char *)ctx->args[0], VIGIL_WOP_TRUNCATE);
}
