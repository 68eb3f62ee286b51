// SPDX-License-Identifier: GPL-2.0
/* Tamper evidence: a signal that would stop, freeze or kill the agent,
 * sent by another process, is recorded before it is delivered. The record
 * goes to the (pinned) ring buffer, so when the signal was SIGKILL the next
 * agent reports it. Preventing the signal needs BPF LSM, which the target
 * kernels lack. Cost: one comparison per signal generated on the host. */
#include "lib/common.bpf.h"

SEC("tp_btf/signal_generate")
int BPF_PROG(vigil_signal_generate, int sig, struct kernel_siginfo *info,
	     struct task_struct *task, int group, int result)
{
	struct vigil_ev_tamper *e;
	__u32 sender;

	if (task->tgid != cfg_agent_tgid || sig <= 0 || sig > 31 ||
	    !(VIGIL_TAMPER_SIGNALS & (1u << sig)))
		return 0;
	sender = current_tgid();
	if (sender == cfg_agent_tgid)
		return 0;
	e = event_reserve(sizeof(*e), VIGIL_EV_TAMPER, sender);
	if (!e)
		return 0;
	e->target_tgid = task->tgid;
	e->sig = sig;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->result = result;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
