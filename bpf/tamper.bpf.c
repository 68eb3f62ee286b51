// SPDX-License-Identifier: GPL-2.0
/* Tamper evidence: a signal that would stop, freeze or kill the agent,
 * sent by another process, is recorded before it is delivered; so is a
 * ptrace attach to it, and bpf(2) by another process on the agent's maps,
 * programs, links or pins. The record goes to the (pinned) ring buffer, so
 * when the signal was SIGKILL the next agent reports it. Preventing these
 * needs BPF LSM, which this kernel lacks. Cost: one comparison per signal
 * generated on the host; ptrace is a rare syscall (its tracepoint's cost
 * is the syscall slow path, shared with blindspot.bpf.c). */
#include "lib/common.bpf.h"

#define PTRACE_ATTACH 16
#define PTRACE_SEIZE 0x4206

/* One agent_tamper record from the current task (the sender). */
static __always_inline void tamper__report(__u32 target, __u32 sig, __s32 result, __u32 obj_kind,
					   __u32 obj_id)
{
	struct vigil_ev_tamper *e = event_reserve(sizeof(*e), VIGIL_EV_TAMPER, current_tgid());

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
	if (current_tgid() == cfg_agent_tgid)
		return 0;
	tamper__report(task->tgid, sig, result, 0, 0);
	return 0;
}

/* ptrace attach to the agent: reported (agent_tamper), any process; this
 * kernel cannot refuse it (BPF LSM). Attaching to one of the agent's other
 * threads by its thread id is not seen. */
SEC("tp/syscalls/sys_enter_ptrace")
int vigil_sys_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	long req = (long)ctx->args[0];
	__u32 pid = (__u32)ctx->args[1];

	if (pid != cfg_agent_tgid || (req != PTRACE_ATTACH && req != PTRACE_SEIZE))
		return 0;
	if (current_tgid() == cfg_agent_tgid)
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
static __always_inline bool tamper__is_pin(const void *upath)
{
	char path[VIGIL_PIN_DIR_LEN];
	int i;

	if (!cfg_pin_dir[0] || bpf_probe_read_user_str(path, sizeof(path), upath) <= 0)
		return false;
	for (i = 0; i < VIGIL_PIN_DIR_LEN - 1; i++) {
		if (!cfg_pin_dir[i])
			break;
		if (path[i] != cfg_pin_dir[i])
			return false;
	}
	return i < VIGIL_PIN_DIR_LEN - 1 && (path[i] == '/' || !path[i]);
}

static __always_inline int tamper__bpf(int cmd, const void *attr)
{
	struct vigil_own_key k = {};
	__u32 tgid = current_tgid(), fd = 0;
	__u64 seen_key, now, *last;

	if (tgid == cfg_agent_tgid)
		return 0;
	switch (cmd) {
	case BPF_MAP_GET_FD_BY_ID_CMD:
		k.kind = VIGIL_OBJ_MAP;
		break;
	case BPF_PROG_GET_FD_BY_ID_CMD:
		k.kind = VIGIL_OBJ_PROG;
		break;
	case BPF_LINK_GET_FD_BY_ID_CMD:
		k.kind = VIGIL_OBJ_LINK;
		break;
	case BPF_MAP_UPDATE_ELEM_CMD:
	case BPF_MAP_DELETE_ELEM_CMD:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM_CMD:
	case BPF_MAP_FREEZE_CMD:
		bpf_probe_read_user(&fd, sizeof(fd), attr);
		k.id = tamper__fd_obj(fd, VIGIL_OBJ_MAP);
		k.kind = VIGIL_OBJ_MAP;
		break;
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH_CMD:
	case BPF_MAP_UPDATE_BATCH_CMD:
	case BPF_MAP_DELETE_BATCH_CMD:
		bpf_probe_read_user(&fd, sizeof(fd), attr + BPF_BATCH_MAP_FD_OFF);
		k.id = tamper__fd_obj(fd, VIGIL_OBJ_MAP);
		k.kind = VIGIL_OBJ_MAP;
		break;
	case BPF_LINK_UPDATE_CMD:
	case BPF_LINK_DETACH_CMD:
		bpf_probe_read_user(&fd, sizeof(fd), attr);
		k.id = tamper__fd_obj(fd, VIGIL_OBJ_LINK);
		k.kind = VIGIL_OBJ_LINK;
		break;
	case BPF_OBJ_GET_CMD: {
		__u64 upath = 0;

		bpf_probe_read_user(&upath, sizeof(upath), attr);
		if (!tamper__is_pin((const void *)upath))
			return 0;
		k.kind = VIGIL_OBJ_PIN;
		break;
	}
	default:
		return 0;
	}
	if (k.kind <= VIGIL_OBJ_LINK) {
		if (cmd == BPF_MAP_GET_FD_BY_ID_CMD || cmd == BPF_PROG_GET_FD_BY_ID_CMD ||
		    cmd == BPF_LINK_GET_FD_BY_ID_CMD)
			bpf_probe_read_user(&k.id, sizeof(k.id), attr);
		if (!k.id || !bpf_map_lookup_elem(&vg_own, &k))
			return 0;
	}
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
