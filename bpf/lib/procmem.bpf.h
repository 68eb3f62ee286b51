/* SPDX-License-Identifier: GPL-2.0 */
/* Taint through another process's memory (via procmem): a process that
 * reads a tainted process's memory (process_vm_readv, ptrace PEEKDATA or
 * an attach, an open of /proc/PID/mem) is tainted by it, and a tainted
 * process that writes into another (process_vm_writev, ptrace POKEDATA, a
 * /proc/PID/mem opened for writing) taints that one. Decided in the kernel
 * before the call copies anything, so the reader's first send already
 * counts against the budget (a target written into is tainted at its own
 * next send, before the bytes go). Attempts count: a call the kernel then
 * refuses (EPERM, ESRCH) has tainted the caller anyway. PIDs are taken as
 * the init namespace's: a caller inside a child PID namespace names pids
 * this cannot map (docs/ARCHITECTURE.md, blind spots). */
#ifndef VIGIL_PROCMEM_BPF_H
#define VIGIL_PROCMEM_BPF_H

#include "lib/taint.bpf.h"

#define PTRACE_PEEKTEXT 1
#define PTRACE_PEEKDATA 2
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_ATTACH 16
#define PTRACE_SEIZE 0x4206

/* The taint of holder, passed on to `to` through its memory. */
static __always_inline void procmem__taint_of(struct vigil_taint *nt,
					      const struct vigil_taint *h, __u32 holder)
{
	nt->set_mask = h->set_mask;
	nt->via = VIGIL_VIA_PROCMEM;
	nt->from_tgid = holder;
	nt->depth = h->depth + 1;
	nt->first_file_id = h->first_file_id;
}

/* The current process read (or may now read) holder's memory. */
static __always_inline void procmem__taint_reader(__u32 holder)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *h, *t, nt = {};
	struct task_struct *task;

	if (holder == tgid || tgid == cfg_agent_tgid)
		return;
	h = taint_of(holder);
	if (!h || !in_scope())
		return;
	task = bpf_get_current_task_btf();
	t = taint_of(tgid);
	if (t) {	/* tainted already: only new sets are news */
		if ((t->set_mask & h->set_mask) == h->set_mask)
			return;
		__sync_fetch_and_or(&t->set_mask, h->set_mask);
		taint__emit(tgid, task_ppid(task), t, h->set_mask, h->first_file_id,
			    VIGIL_VIA_PROCMEM, task);
		taint__mark_pipes(task, tgid, t);
		return;
	}
	procmem__taint_of(&nt, h, holder);
	if (taint__start(tgid, &nt, BPF_NOEXIST))
		return;
	taint__emit(tgid, task_ppid(task), &nt, nt.set_mask, nt.first_file_id,
		    VIGIL_VIA_PROCMEM, task);
	taint__mark_pipes(task, tgid, &nt);
}

/* The current (tainted) process wrote into target's memory. target is
 * not current, and may be outside the scope: it gets a mark, as the reader
 * of a marked pipe does, and is tainted in its own context (scope checked,
 * its own comm and arguments in the record) at its next send or written
 * page, before the bytes go (taint__lookup_or_pipe). An already tainted
 * target gets the writer's sets at once, without a record. */
static __always_inline void procmem__taint_target(__u32 target)
{
	__u32 tgid = current_tgid();
	struct vigil_pipe_key key = { .inode = target, .ino = VIGIL_PIPE_INO_PROCESS };
	struct vigil_pipe_mark mark = {};
	struct vigil_taint *h, *t;

	if (target == tgid || target == cfg_agent_tgid || !target)
		return;
	h = taint_of(tgid);
	if (!h || !in_scope())
		return;
	t = taint_of(target);
	if (t) {
		if ((t->set_mask & h->set_mask) != h->set_mask)
			__sync_fetch_and_or(&t->set_mask, h->set_mask);
		return;
	}
	mark.tgid = tgid;
	mark.set_mask = h->set_mask;
	mark.depth = h->depth;
	mark.file_id = h->first_file_id;
	if (bpf_map_update_elem(&vg_pipes, &key, &mark, BPF_ANY))
		COUNT(pipe_map_full);
	else
		__sync_fetch_and_add(&vg_pipe_gen, 1);
}

#define PROC_SUPER_MAGIC 0x9fa0

/* A file just opened by the current process (shm.bpf.c's open programs,
 * after the file was found not to be on tmpfs): an open of /proc/PID/mem
 * (procfs, named "mem") makes the opener a reader of the mm's owner (and,
 * opened for writing by a tainted process, a writer into it), so
 * /proc/PID/task/TID/mem and opens relative to a /proc/PID directory fd
 * are the same. Three loads and out for any other file. The reader is
 * tainted at the open, before its first read: a /proc/PID/mem file opened
 * before its holder was tainted is not seen. */
static __always_inline void procmem__opened(struct file *f, __u32 f_mode)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct mm_struct *mm;
	char name[4] = {};
	__u32 holder;

	if (!inode || BPF_CORE_READ(inode, i_sb, s_magic) != PROC_SUPER_MAGIC)
		return;
	if (bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name)) ||
	    name[0] != 'm' || name[1] != 'e' || name[2] != 'm' || name[3])
		return;
	mm = BPF_CORE_READ(f, private_data);	/* mem_open: the target's mm */
	if (!mm || !bpf_core_field_exists(mm->owner))	/* owner: CONFIG_MEMCG */
		return;
	holder = BPF_CORE_READ(mm, owner, tgid);
	if (f_mode & VIGIL_FMODE_WRITE)
		procmem__taint_target(holder);
	if (f_mode & VIGIL_FMODE_READ)
		procmem__taint_reader(holder);
}

/* ptrace(req, pid): called by tamper.bpf.c's sys_enter_ptrace program
 * (one tracepoint for both). An attach gives the tracer the tracee's
 * whole memory, so it counts as reading it. */
static __always_inline void procmem__ptrace(long req, __u32 pid)
{
	if (req == PTRACE_ATTACH || req == PTRACE_SEIZE || req == PTRACE_PEEKTEXT ||
	    req == PTRACE_PEEKDATA)
		procmem__taint_reader(pid);
	else if (req == PTRACE_POKETEXT || req == PTRACE_POKEDATA)
		procmem__taint_target(pid);
}

#endif
