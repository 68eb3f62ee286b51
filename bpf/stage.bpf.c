// SPDX-License-Identifier: GPL-2.0
/* Pipe stages that never read, write a file or send: tee(2) duplicates one
 * pipe into another, splice(2) moves bytes between pipes, vmsplice(2) maps
 * a process's memory into a pipe. No page or send hook sees them, and the
 * agent's /proc walk finds such a stage only after the next taint event,
 * while the bytes already flow. So taint flows at the call, before a byte
 * moves: an untainted caller that holds a marked pipe is tainted (the fd
 * scan of taint__lookup_or_pipe, which marks the pipes it can write); a
 * tainted caller of vmsplice or tee marks the pipes it can write now (one
 * it made or opened after it was tainted was not marked then).
 *
 * Syscall tracepoints of rare syscalls (splice is the busiest: proxies
 * moving sockets through pipes); an untainted caller pays a bitmap test and
 * a task-storage read of the pipe generation. */
#include "lib/files.bpf.h"
#include "lib/write.bpf.h"

/* A tainted caller's bytes into the pipe fd_out (lib/write.bpf.h): tee
 * and splice move kernel pages nobody can sample, counted as weights
 * (their length argument: an upper bound of what moves); vmsplice's user
 * memory is judged like a writev. */
static __always_inline int stage__enter(bool mark, __u64 fd_out, const void *iov, __u64 len)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t;
	__u64 total = len;
	int weights = 1;

	if (tgid == cfg_agent_tgid)
		return 0;
	t = maybe_tainted(tgid) ? taint_of(tgid) : NULL;
	if (!t) {
		taint__lookup_or_pipe(tgid);
		return 0;
	}
	if (mark)
		taint__mark_pipes(bpf_get_current_task_btf(), tgid, t);
	if (iov)
		weights = write__iov(iov, len, &total);
	write__into(write__file(fd_out), t, tgid, total, weights);
	return 0;
}

SEC("tp/syscalls/sys_enter_vmsplice")
int vigil_sys_vmsplice(struct trace_event_raw_sys_enter *ctx)
{
	/* vmsplice(fd, iov, nr_segs, flags) */
	return stage__enter(true, ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_tee")
int vigil_sys_tee(struct trace_event_raw_sys_enter *ctx)
{
	/* tee(fd_in, fd_out, len, flags) */
	return stage__enter(true, ctx->args[1], NULL, ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_splice")
int vigil_sys_splice(struct trace_event_raw_sys_enter *ctx)
{
	/* splice(fd_in, off_in, fd_out, off_out, len, flags) */
	return stage__enter(false, ctx->args[2], NULL, ctx->args[4]);
}
