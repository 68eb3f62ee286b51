// SPDX-License-Identifier: GPL-2.0
/* Tamper evidence: a signal that would stop, freeze or kill the agent,
 * sent by another process, is recorded before it is delivered; so is a
 * ptrace attach to it. The record goes to the (pinned) ring buffer, so
 * when the signal was SIGKILL the next agent reports it. Preventing either
 * needs BPF LSM, which this kernel lacks. Cost: one comparison per signal
 * generated on the host; ptrace is a rare syscall (its tracepoint's cost
 * is the syscall slow path, shared with blindspot.bpf.c). */
#include "lib/procmem.bpf.h"

/* One agent_tamper record: what the current process did to the agent
 * (sig: the signal, or VIGIL_TAMPER_PTRACE), unless it is the agent. */
static __always_inline void tamper__report(__u32 target_tgid, int sig, __s32 result)
{
	struct vigil_ev_tamper *e;
	__u32 sender = current_tgid();

	if (sender == cfg_agent_tgid)
		return;
	e = event_reserve(sizeof(*e), VIGIL_EV_TAMPER, sender);
	if (!e)
		return;
	e->target_tgid = target_tgid;
	e->sig = sig;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->result = result;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(vigil_signal_generate, int sig, struct kernel_siginfo *info,
	     struct task_struct *task, int group, int result)
{
	if (task->tgid != cfg_agent_tgid || sig <= 0 || sig > 31 ||
	    !(VIGIL_TAMPER_SIGNALS & (1u << sig)))
		return 0;
	tamper__report(task->tgid, sig, result);
	return 0;
}

/* ptrace attach to the agent: reported (agent_tamper), any process; this
 * kernel cannot refuse it (BPF LSM). Attaching to one of the agent's other
 * threads by its thread id is not seen. The same call is where a tracer
 * reads or writes a tainted process's memory (lib/procmem.bpf.h). */
SEC("tp/syscalls/sys_enter_ptrace")
int vigil_sys_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	long req = (long)ctx->args[0];
	__u32 pid = (__u32)ctx->args[1];

	procmem__ptrace(req, pid);
	if (pid != cfg_agent_tgid || (req != PTRACE_ATTACH && req != PTRACE_SEIZE))
		return 0;
	tamper__report(pid, VIGIL_TAMPER_PTRACE, (__s32)req);
	return 0;
}
