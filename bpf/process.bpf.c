// SPDX-License-Identifier: GPL-2.0
/* Process lifecycle: children inherit taint at fork (before they first
 * run), taint survives exec, and is dropped when the whole thread group is
 * gone. Only tainted processes cost more than one hash lookup here. */
#include "lib/taint.bpf.h"

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vigil_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct vigil_taint *t, nt = {};

	if (ptgid == ctgid)	/* a new thread shares its process's taint */
		return 0;
	if (vg_have_exe_allow) {	/* same executable until it execs */
		__u32 b = exe_bits_of(ptgid);

		if (b)
			bpf_map_update_elem(&vg_exe_bits, &ctgid, &b, BPF_ANY);
	}
	t = taint_of(ptgid);
	if (!t)
		return 0;
	nt.set_mask = t->set_mask;
	nt.via = VIGIL_VIA_FORK;
	nt.from_tgid = ptgid;
	nt.depth = t->depth + 1;
	nt.first_file_id = t->first_file_id;
	if (taint__start(ctgid, &nt, BPF_ANY))	/* a stale entry of a reused pid goes */
		return 0;
	taint__emit(ctgid, ptgid, &nt, nt.set_mask, nt.first_file_id,
		    VIGIL_VIA_FORK, child);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vigil_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	struct vigil_ev_proc *e;

	if (vg_have_exe_allow) {	/* is the new image one an allow entry names? */
		struct vigil_file_key k = {};
		struct inode *ino = BPF_CORE_READ(bprm, file, f_inode);
		__u32 *b;

		k.dev = BPF_CORE_READ(ino, i_sb, s_dev);
		k.ino = BPF_CORE_READ(ino, i_ino);
		b = bpf_map_lookup_elem(&vg_allow_exes, &k);
		if (b)
			bpf_map_update_elem(&vg_exe_bits, &tgid, b, BPF_ANY);
		else
			bpf_map_delete_elem(&vg_exe_bits, &tgid);
	}
	if (!taint_of(tgid))
		return 0;
	e = event_reserve(sizeof(*e), VIGIL_EV_EXEC, tgid);
	if (!e)
		return 0;
	e->ppid = task_ppid(p);
	e->exit_code = 0;
	e->bytes_read = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* The tracepoint's group_dead argument is recent (not in 6.1); do_exit
 * decrements signal->live just before the tracepoint on every kernel, so
 * the group is dead when it reads 0. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(vigil_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct vigil_ev_proc *e;
	struct vigil_taint *t;

	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	if (vg_have_exe_allow)
		bpf_map_delete_elem(&vg_exe_bits, &tgid);
	t = taint_of(tgid);
	if (!t)
		return 0;
	e = event_reserve(sizeof(*e), VIGIL_EV_EXIT, tgid);
	if (e) {
		e->ppid = task_ppid(p);
		e->exit_code = BPF_CORE_READ(p, signal, group_exit_code) ?: p->exit_code;
		e->bytes_read = t->bytes_read;
		BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
		bpf_ringbuf_submit(e, 0);
	}
	/* The pid may be reused at once: drop the taint now. Per-file read
	 * progress (vg_reads) stays for userspace to collect and delete. */
	bpf_map_delete_elem(&vg_taint, &tgid);
	unmark_tainted(tgid);
	bpf_map_delete_elem(&vg_blocked, &tgid);
	return 0;
}
