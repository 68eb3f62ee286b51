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

static __always_inline int stage__enter(bool mark)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t;

	if (tgid == cfg_agent_tgid)
		return 0;
	t = maybe_tainted(tgid) ? taint_of(tgid) : NULL;
	if (!t) {
		taint__lookup_or_pipe(tgid);
		return 0;
	}
	if (mark)
		taint__mark_pipes(bpf_get_current_task_btf(), tgid, t);
	return 0;
}

SEC("tp/syscalls/sys_enter_vmsplice")
int vigil_sys_vmsplice(struct trace_event_raw_sys_enter *ctx)
{
	return stage__enter(true);
}

SEC("tp/syscalls/sys_enter_tee")
int vigil_sys_tee(struct trace_event_raw_sys_enter *ctx)
{
	return stage__enter(true);
}

SEC("tp/syscalls/sys_enter_splice")
int vigil_sys_splice(struct trace_event_raw_sys_enter *ctx)
{
	return stage__enter(false);
}
