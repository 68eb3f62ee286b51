// SPDX-License-Identifier: GPL-2.0
/* Writes of tainted processes to ptys (lib/pty.bpf.h): the write and
 * writev syscalls at entry, where the buffer and length are the caller's.
 *
 * Syscall tracepoints: they run on every write of the host. An untainted
 * writer leaves after one load (the tainted-tgid bitmap); a tainted one
 * pays the fd's file and inode, and the sample only if it is a pty. To be
 * folded into the one write-path program of bpf/write.bpf.c (one program
 * per tracepoint), which dispatches by file type and calls pty__write. */
#include "lib/pty.bpf.h"

#define VIGIL_PTY_IOV_MAX 8	/* writev: iovecs whose lengths are counted */

static __always_inline struct vigil_taint *pty__writer(__u32 *tgid)
{
	*tgid = current_tgid();
	if (!maybe_tainted(*tgid) || *tgid == cfg_agent_tgid)
		return NULL;
	return taint_of(*tgid);
}

SEC("tp/syscalls/sys_enter_write")
int vigil_sys_write(struct trace_event_raw_sys_enter *ctx)
{
	struct vigil_taint *t;
	__u32 tgid;

	struct file *f;

	t = pty__writer(&tgid);
	if (!t)
		return 0;
	f = shm__fd_file(ctx->args[0]);
	if (f && pty__of_file(f))
		pty__write(f, ctx->args[2], pty__judge(ctx->args[1], ctx->args[2]), tgid, t);
	return 0;
}

/* writev: the first iovec is sampled, the first VIGIL_PTY_IOV_MAX counted */
SEC("tp/syscalls/sys_enter_writev")
int vigil_sys_writev(struct trace_event_raw_sys_enter *ctx)
{
	const struct iovec *iov = (const struct iovec *)ctx->args[1];
	struct iovec v = {};
	__u64 base = 0, first = 0, len = 0;
	struct file *f;
	struct vigil_taint *t;
	__u32 tgid, n = ctx->args[2];

	t = pty__writer(&tgid);
	if (!t)
		return 0;
	f = shm__fd_file(ctx->args[0]);
	if (!f || !pty__of_file(f))
		return 0;
	for (__u32 i = 0; i < VIGIL_PTY_IOV_MAX && i < n; i++) {
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		if (i == 0) {
			base = (__u64)(unsigned long)v.iov_base;
			first = v.iov_len;
		}
		len += v.iov_len;
	}
	if (len)
		pty__write(f, len, pty__judge(base, first), tgid, t);
	return 0;
}
