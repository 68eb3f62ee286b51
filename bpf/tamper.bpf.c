// SPDX-License-Identifier: GPL-2.0
/* Tamper evidence: a signal that would stop, freeze or kill the agent,
 * sent by another process, is recorded before it is delivered; so is a
 * ptrace attach to it, and bpf(2) by another process on the agent's maps,
 * programs, links or pins. The record goes to the (pinned) ring buffer, so
 * when the signal was SIGKILL the next agent reports it. Preventing these
 * needs BPF LSM, which this kernel lacks. Cost: one comparison per signal
 * generated on the host; ptrace is a rare syscall (its tracepoint's cost
 * is the syscall slow path, shared with blindspot.bpf.c). */
#include "lib/procmem.bpf.h"

/* One agent_tamper record: what the current process did to the agent
 * (sig: the signal, or VIGIL_TAMPER_PTRACE / _BPF; obj_*: the agent's
 * object a bpf() call reached), unless it is the agent. */
static __always_inline void tamper__report(__u32 target, __u32 sig, __s32 result, __u32 obj_kind,
					   __u32 obj_id)
{
	struct vigil_ev_tamper *e;
	__u32 sender = current_tgid();

	if (sender == cfg_agent_tgid)
		return;
	e = event_reserve(sizeof(*e), VIGIL_EV_TAMPER, sender);
	if (!e)
		return;
	e->target_tgid = target;
	e->sig = sig;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->result = result;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->obj_kind = obj_kind;
	e->obj_id = obj_id;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(vigil_signal_generate, int sig, struct kernel_siginfo *info,
	     struct task_struct *task, int group, int result)
{
	if (task->tgid != cfg_agent_tgid || sig <= 0 || sig > 31 ||
	    !(VIGIL_TAMPER_SIGNALS & (1u << sig)))
		return 0;
	tamper__report(task->tgid, sig, result, 0, 0);
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
	tamper__report(pid, VIGIL_TAMPER_PTRACE, (__s32)req, 0, 0);
	return 0;
}

/* ---- bpf(2) on the agent's objects (called by blindspot.bpf.c's
 * sys_enter_bpf program, which sees every bpf(2) call) ---------------------- */

#define BPF_MAP_UPDATE_ELEM_CMD 2
#define BPF_MAP_DELETE_ELEM_CMD 3
#define BPF_OBJ_GET_CMD 7
#define BPF_PROG_GET_FD_BY_ID_CMD 13
#define BPF_MAP_GET_FD_BY_ID_CMD 14
#define BPF_MAP_LOOKUP_AND_DELETE_ELEM_CMD 21
#define BPF_MAP_FREEZE_CMD 22
#define BPF_MAP_LOOKUP_AND_DELETE_BATCH_CMD 25
#define BPF_MAP_UPDATE_BATCH_CMD 26
#define BPF_MAP_DELETE_BATCH_CMD 27
#define BPF_LINK_UPDATE_CMD 29
#define BPF_LINK_GET_FD_BY_ID_CMD 30
#define BPF_LINK_DETACH_CMD 34
/* union bpf_attr: the batch commands' map_fd follows four pointers and a count */
#define BPF_BATCH_MAP_FD_OFF 36

/* The id of the BPF map or link open as fd in the current task, or 0.
 * bpf(2) makes their files with anon_inode_getfile(), so the dentry's name
 * says what private_data is: "bpf-map", "bpf-link" (6.18; /proc shows
 * "bpf_link", the name the 6.1 sources give). */
static __always_inline __u32 tamper__fd_obj(int fd, __u32 kind)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds, *f = NULL;
	char name[8] = {};
	unsigned int max;
	void *obj;

	fds = BPF_CORE_READ(task, files, fdt, fd);
	max = BPF_CORE_READ(task, files, fdt, max_fds);
	if (fd < 0 || (unsigned int)fd >= max || !fds)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
	obj = BPF_CORE_READ(f, private_data);
	if (!obj)
		return 0;
	if (kind == VIGIL_OBJ_MAP && starts(name, "bpf-map", 7))
		return BPF_CORE_READ((struct bpf_map *)obj, id);
	if (kind == VIGIL_OBJ_LINK && starts(name, "bpf", 3) && starts(name + 4, "lin", 3))
		return BPF_CORE_READ((struct bpf_link *)obj, id);
	return 0;
}

/* A path under cfg_pin_dir (BPF_OBJ_GET's pathname). Relative paths and
 * other mounts of the same bpffs are not recognised. */
static __always_inline bool tamper__is_pin(const void *upath, bool *unread)
{
	char path[VIGIL_PIN_DIR_LEN];
	int i;

	if (!cfg_pin_dir[0])
		return false;
	if (bpf_probe_read_user_str(path, sizeof(path), upath) <= 0) {
		*unread = upath != NULL;
		return false;
	}
	for (i = 0; i < VIGIL_PIN_DIR_LEN - 1; i++) {
		if (!cfg_pin_dir[i])
			break;
		if (path[i] != cfg_pin_dir[i])
			return false;
	}
	return i < VIGIL_PIN_DIR_LEN - 1 && (path[i] == '/' || !path[i]);
}

/* A u32 of union bpf_attr: the caller's memory at syscall entry, the
 * kernel's copy in the LSM hook. *unread: the caller's memory could not be
 * read (a page not present: a mapping never touched, which the kernel's
 * own copy faults in and a probe read cannot). */
static __always_inline __u32 attr_u32(const void *attr, int off, bool kernel, bool *unread)
{
	__u32 v = 0;

	if (kernel)
		bpf_probe_read_kernel(&v, sizeof(v), attr + off);
	else if (attr && bpf_probe_read_user(&v, sizeof(v), attr + off))
		*unread = true;	/* NULL: the call fails (EFAULT), names nothing */
	return v;
}

/* The agent's object bpf(cmd, attr) reaches, into *k; false: none of its.
 * A command that names an object by an argument the tracepoint cannot
 * read is taken as one (fail closed): k->id VIGIL_OBJ_ID_UNREAD. */
static __always_inline bool tamper__bpf_target(int cmd, const void *attr, bool kernel,
					       struct vigil_own_key *k)
{
	bool unread = false;

	switch (cmd) {
	case BPF_MAP_GET_FD_BY_ID_CMD:
		k->kind = VIGIL_OBJ_MAP;
		k->id = attr_u32(attr, 0, kernel, &unread);
		break;
	case BPF_PROG_GET_FD_BY_ID_CMD:
		k->kind = VIGIL_OBJ_PROG;
		k->id = attr_u32(attr, 0, kernel, &unread);
		break;
	case BPF_LINK_GET_FD_BY_ID_CMD:
		k->kind = VIGIL_OBJ_LINK;
		k->id = attr_u32(attr, 0, kernel, &unread);
		break;
	case BPF_MAP_UPDATE_ELEM_CMD:
	case BPF_MAP_DELETE_ELEM_CMD:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM_CMD:
	case BPF_MAP_FREEZE_CMD:
		k->kind = VIGIL_OBJ_MAP;
		k->id = tamper__fd_obj(attr_u32(attr, 0, kernel, &unread), VIGIL_OBJ_MAP);
		break;
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH_CMD:
	case BPF_MAP_UPDATE_BATCH_CMD:
	case BPF_MAP_DELETE_BATCH_CMD:
		k->kind = VIGIL_OBJ_MAP;
		k->id = tamper__fd_obj(attr_u32(attr, BPF_BATCH_MAP_FD_OFF, kernel, &unread), VIGIL_OBJ_MAP);
		break;
	case BPF_LINK_UPDATE_CMD:
	case BPF_LINK_DETACH_CMD:
		k->kind = VIGIL_OBJ_LINK;
		k->id = tamper__fd_obj(attr_u32(attr, 0, kernel, &unread), VIGIL_OBJ_LINK);
		break;
	case BPF_OBJ_GET_CMD: {
		__u64 upath = 0;

		if (kernel)
			bpf_probe_read_kernel(&upath, sizeof(upath), attr);
		else if (attr && bpf_probe_read_user(&upath, sizeof(upath), attr))
			unread = cfg_pin_dir[0] != 0;	/* no pins: none to reach */
		k->kind = VIGIL_OBJ_PIN;
		k->id = 0;
		if (!unread && tamper__is_pin((const void *)upath, &unread))
			return true;
		break;
	}
	default:
		return false;
	}
	if (unread && !kernel) {	/* the LSM refuses by what it can read (and
					 * by the new fd: tamper__fd_refused) */
		k->id = VIGIL_OBJ_ID_UNREAD;
		return true;
	}
	return k->id && bpf_map_lookup_elem(&vg_own, k);
}

static __always_inline int tamper__bpf(int cmd, const void *attr)
{
	struct vigil_own_key k = {};
	__u32 tgid = current_tgid();
	__u64 seen_key, now, *last;

	if (tgid == cfg_agent_tgid || !tamper__bpf_target(cmd, attr, false, &k))
		return 0;
	/* one record per sender and command a second */
	seen_key = (__u64)tgid << 8 | (__u8)cmd;
	now = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&vg_tamper_seen, &seen_key);
	if (last && now - *last < 1000000000ull)
		return 0;
	bpf_map_update_elem(&vg_tamper_seen, &seen_key, &now, BPF_ANY);
	tamper__report(cfg_agent_tgid, VIGIL_TAMPER_BPF, cmd, k.kind, k.id);
	return 0;
}

/* ---- prevention: enforce mode, kernels with the bpf LSM (Debian 12's 6.1;
 * not this 6.18). The attempts above are still reported by the tracepoints,
 * which run first; these refuse them. Trusted: the agent, and any process
 * running the agent's own executable (its successor adopting the pins; the
 * `vigil` CLI); signals also from pid 1 and the agent's parent (the service
 * manager: systemctl stop, the watchdog). */
#define EPERM 1
#define PTRACE_MODE_ATTACH 0x02

static __always_inline bool tamper__trusted(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *exe;

	if (current_tgid() == cfg_agent_tgid)
		return true;
	if (!cfg_agent_exe_ino)
		return false;
	exe = BPF_CORE_READ(task, mm, exe_file);
	return exe && BPF_CORE_READ(exe, f_inode, i_ino) == cfg_agent_exe_ino &&
	       BPF_CORE_READ(exe, f_inode, i_sb, s_dev) == cfg_agent_exe_dev;
}

SEC("?lsm/bpf")
int BPF_PROG(vigil_lsm_bpf, int cmd, union bpf_attr *attr, unsigned int size)
{
	struct vigil_own_key k = {};

	if (cfg_mode != VIGIL_MODE_ENFORCE || !tamper__bpf_target(cmd, attr, true, &k) ||
	    tamper__trusted())
		return 0;
	return -EPERM;
}

/* A new fd of one of the agent's maps or programs, however it was asked
 * for: by id, by a pin's path — absolute, relative (`cd pins; bpftool map
 * show pinned maps/x`) or through another mount of the bpffs, none of which
 * the path match above sees. The kernel checks every new map and program
 * fd here (security_bpf_map, security_bpf_prog). Reported once a second per
 * process and command, as the tracepoint does (the same key: an attempt it
 * reported already is not reported twice). */
static __always_inline int tamper__fd_refused(__u32 kind, __u32 id)
{
	struct vigil_own_key k = { .kind = kind, .id = id };
	struct pt_regs *regs;
	__u64 seen_key, now, *last;
	__u32 cmd = 0;

	if (cfg_mode != VIGIL_MODE_ENFORCE || !id || !bpf_map_lookup_elem(&vg_own, &k) ||
	    tamper__trusted())
		return 0;
	/* x86-64: bpf(2)'s command is still in the saved registers */
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (regs)
		cmd = (__u32)BPF_CORE_READ(regs, di);
	seen_key = (__u64)current_tgid() << 8 | (__u8)cmd;
	now = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&vg_tamper_seen, &seen_key);
	if (!last || now - *last >= 1000000000ull) {
		bpf_map_update_elem(&vg_tamper_seen, &seen_key, &now, BPF_ANY);
		tamper__report(cfg_agent_tgid, VIGIL_TAMPER_BPF, cmd, kind, id);
	}
	return -EPERM;
}

SEC("?lsm/bpf_map")
int BPF_PROG(vigil_lsm_bpf_map, struct bpf_map *map, fmode_t fmode)
{
	return tamper__fd_refused(VIGIL_OBJ_MAP, map->id);
}

SEC("?lsm/bpf_prog")
int BPF_PROG(vigil_lsm_bpf_prog, struct bpf_prog *prog)
{
	return tamper__fd_refused(VIGIL_OBJ_PROG, BPF_CORE_READ(prog, aux, id));
}

SEC("?lsm/task_kill")
int BPF_PROG(vigil_lsm_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred)
{
	__u32 sender = current_tgid();

	if (cfg_mode != VIGIL_MODE_ENFORCE || p->tgid != cfg_agent_tgid || sig <= 0 || sig > 31 ||
	    !(VIGIL_TAMPER_SIGNALS & (1u << sig)))
		return 0;
	/* the service manager that started the agent (systemd: pid 1) */
	if (sender == 1 || sender == BPF_CORE_READ(p, real_parent, tgid) || tamper__trusted())
		return 0;
	/* a refused signal is never generated: reported here (delivered: false) */
	tamper__report(p->tgid, sig, -EPERM, 0, 0);
	return -EPERM;
}

/* PTRACE_ATTACH/SEIZE, /proc/PID/mem, process_vm_writev of the agent */
SEC("?lsm/ptrace_access_check")
int BPF_PROG(vigil_lsm_ptrace, struct task_struct *child, unsigned int mode)
{
	if (cfg_mode != VIGIL_MODE_ENFORCE || child->tgid != cfg_agent_tgid ||
	    !(mode & PTRACE_MODE_ATTACH) || tamper__trusted())
		return 0;
	return -EPERM;
}
