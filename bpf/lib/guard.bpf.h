/* SPDX-License-Identifier: GPL-2.0 */
/* Control records (blind-spot controls, enum vigil_control) and the checks
 * of opens, unlinks and renames against vg_watch, which the agent fills at
 * start (userspace/watch.c):
 *   open of a char device in it    kernel-bypass egress: uverbs (RDMA
 *                                  verbs, major 231), vfio (whole device
 *                                  to userspace)
 *   open of a block device in it   the disk (or partition) holding
 *                                  protected files: raw reads skip the
 *                                  page cache hooks
 *   open for writing of an inode   vigil's config, rules, binary, unit;
 *   in it, or of a file right      a file created in its config or rules
 *   under a directory in it        directory
 *   unlink, rmdir, rename of a     the same files and directories, and the
 *   path in it (or right under)    pin directory (what keeps enforcing
 *                                  when the agent dies)
 *
 * The open check runs at every open's exit (bpf/shm.bpf.c calls
 * guard__opened): a regular file opened read-only leaves after the file,
 * its inode and its mode (four loads); only a write open while the agent
 * watches inodes, or a device open, reaches a map. Unlinks and renames are
 * syscall tracepoints of their own (blindspot.bpf.c): the path is the
 * caller's string, absolute (hashed, vigil_path_hash_step) or one name
 * relative to a watched directory (the dirfd's or the cwd's inode); a
 * relative path with a '/' in it is not matched. */
#ifndef VIGIL_GUARD_BPF_H
#define VIGIL_GUARD_BPF_H

#include "lib/common.bpf.h"

#define GUARD_AT_FDCWD -100

/* One control record. scoped: only for processes in scope (blind-spot
 * controls); tamper kinds are for any process. A tainted process in
 * enforce mode is SIGKILLed in its own context: the signal is pending when
 * the call returns, so it never gets to use what it made or opened. */
static __always_inline int control__report(__u32 kind, __s64 arg, const char *detail, bool scoped)
{
	__u32 tgid = current_tgid();
	struct vigil_ev_control *e;
	struct vigil_taint *t;
	bool kill;

	if (tgid == cfg_agent_tgid || (scoped && !in_scope()))
		return 0;
	t = maybe_tainted(tgid) ? bpf_map_lookup_elem(&vg_taint, &tgid) : NULL;
	kill = t && cfg_mode == VIGIL_MODE_ENFORCE;
	if (kill) {
		bpf_send_signal(SIGKILL);
		COUNT(kills);
	}
	e = event_reserve(sizeof(*e), VIGIL_EV_CONTROL, tgid);
	if (!e)
		return 0;
	e->kind = kind;
	e->set_mask = t ? t->set_mask : 0;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->killed = kill;
	e->arg = arg;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	__builtin_memset(e->detail, 0, sizeof(e->detail));
	if (detail)
		__builtin_memcpy(e->detail, detail, sizeof(e->detail));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline __s64 guard__arg(__u32 op, const struct vigil_watch *w)
{
	return (__s64)op << 32 | w->id;
}

/* The current task's open file fd, or NULL (the fd table read through BTF
 * pointers: plain loads, one helper for the slot). */
static __always_inline struct file *guard__fd_file(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file **fds, *f = NULL;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

static __always_inline struct vigil_watch *guard__lookup(__u64 a, __u64 b)
{
	struct vigil_watch_key k = { .a = a, .b = b };

	return bpf_map_lookup_elem(&vg_watch, &k);
}

/* A char or block device: its number (or its whole major) in vg_watch.
 * Block entries match block opens only, device entries char opens. */
static __always_inline void guard__device(struct file *f, struct inode *inode, __u32 mode)
{
	char detail[VIGIL_CTL_DETAIL_LEN] = {};
	__u32 rdev = BPF_CORE_READ(inode, i_rdev);
	struct vigil_watch *w;

	w = guard__lookup(VIGIL_WATCH_RDEV, rdev);
	if (!w)
		w = guard__lookup(VIGIL_WATCH_RDEV, rdev | VIGIL_WATCH_ANY_MINOR);
	if (!w || (w->kind == VIGIL_CTL_WEIGHTS_DISK) != (mode == S_IFBLK))
		return;
	bpf_probe_read_kernel_str(detail, sizeof(detail), BPF_CORE_READ(f, f_path.dentry, d_name.name));
	control__report(w->kind, rdev, detail, true);
}

/* vigil_path_hash of dentry d's name (its first VIGIL_WATCH_NAME_LEN - 1 bytes) */
static __always_inline __u64 guard__name_hash(struct dentry *d)
{
	char n[VIGIL_WATCH_NAME_LEN] = {};
	__u64 h = VIGIL_PATH_HASH_INIT;

	bpf_probe_read_kernel_str(n, sizeof(n), BPF_CORE_READ(d, d_name.name));
	for (int i = 0; i < VIGIL_WATCH_NAME_LEN && n[i]; i++)
		h = vigil_path_hash_step(h, n[i]);
	return h;
}

/* A regular file opened for writing: watched itself, or new or old right
 * under a watched directory (its name in the record). */
static __always_inline void guard__written(struct file *f, struct inode *inode)
{
	char detail[VIGIL_CTL_DETAIL_LEN] = {};
	__u64 dev = BPF_CORE_READ(inode, i_sb, s_dev);
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vigil_watch *w;

	w = guard__lookup(dev, BPF_CORE_READ(inode, i_ino));
	if (w && w->name_hash && w->name_hash != guard__name_hash(d))
		return;	/* the number of a file replaced since (watch.c moves it) */
	if (!w) {
		w = guard__lookup(dev, BPF_CORE_READ(d, d_parent, d_inode, i_ino));
		if (!w)
			return;
		bpf_probe_read_kernel_str(detail, sizeof(detail), BPF_CORE_READ(d, d_name.name));
	}
	control__report(w->kind, guard__arg(VIGIL_WOP_OPEN, w), detail, false);
}

/* f->f_inode and f->f_mode in one read: they lie within GUARD_FILE_WIN
 * bytes of each other (6.18: offsets 32 and 4; 6.1: 32 and 68), else two */
#define GUARD_FILE_WIN 64
static __always_inline void guard__file_fields(struct file *f, struct inode **inode, __u32 *f_mode)
{
	__u32 oi = bpf_core_field_offset(struct file, f_inode);
	__u32 om = bpf_core_field_offset(struct file, f_mode);
	__u32 lo = oi < om ? oi : om;
	char win[GUARD_FILE_WIN + 8];	/* a masked offset plus 8 always fits */

	if (oi - lo >= GUARD_FILE_WIN || om - lo >= GUARD_FILE_WIN ||
	    bpf_probe_read_kernel(win, sizeof(win), (void *)f + lo)) {
		*inode = BPF_CORE_READ(f, f_inode);
		*f_mode = BPF_CORE_READ(f, f_mode);
		return;
	}
	__builtin_memcpy(inode, win + ((oi - lo) & (GUARD_FILE_WIN - 1)), sizeof(*inode));
	__builtin_memcpy(f_mode, win + ((om - lo) & (GUARD_FILE_WIN - 1)), sizeof(*f_mode));
}

/* At the exit of every open (bpf/shm.bpf.c): fd is the new descriptor. */
static __always_inline void guard__opened(long fd)
{
	struct file *f = guard__fd_file(fd);
	struct inode *inode;
	__u32 mode, f_mode;

	if (!f)
		return;
	guard__file_fields(f, &inode, &f_mode);
	mode = BPF_CORE_READ(inode, i_mode) & S_IFMT;
	if (mode == S_IFREG) {	/* the common case: read-only, out here */
		if (vg_watch_inodes && (f_mode & VIGIL_FMODE_WRITE))
			guard__written(f, inode);
		return;
	}
	if (mode == S_IFCHR || mode == S_IFBLK)
		guard__device(f, inode, mode);
}

/* The inode of directory fd dfd (AT_FDCWD: the cwd), as a vg_watch key's
 * (dev, ino); false if none. */
static __always_inline bool guard__dir_of(int dfd, __u64 *dev, __u64 *ino)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inode *inode;
	struct file *f;

	if (dfd == GUARD_AT_FDCWD) {
		inode = BPF_CORE_READ(task, fs, pwd.dentry, d_inode);
	} else {
		f = guard__fd_file(dfd);
		if (!f)
			return false;
		inode = BPF_CORE_READ(f, f_inode);
	}
	if (!inode)
		return false;
	*dev = BPF_CORE_READ(inode, i_sb, s_dev);
	*ino = BPF_CORE_READ(inode, i_ino);
	return true;
}

/* unlink, rmdir or rename (op) of the caller's path upath, relative to
 * dfd: a watched path, a name right under one, or one name in a watched
 * directory. The record's name is read from the caller's memory a second
 * time: it only describes, the match was made on the first copy. */
static __always_inline int guard__path(int dfd, const char *upath, __u32 op)
{
	char p[VIGIL_PIN_DIR_LEN];
	char detail[VIGIL_CTL_DETAIL_LEN] = {};
	__u64 h = VIGIL_PATH_HASH_INIT, hp = VIGIL_PATH_HASH_INIT, dev, ino;
	struct vigil_watch *w;
	int i, name = 0;

	if (current_tgid() == cfg_agent_tgid || !upath ||
	    bpf_probe_read_user_str(p, sizeof(p), upath) <= 1)
		return 0;
	if (p[0] == '/') {
		for (i = 0; i < VIGIL_PIN_DIR_LEN; i++) {
			if (!p[i])
				break;
			if (p[i] == '/' && i + 1 < VIGIL_PIN_DIR_LEN && p[i + 1]) {
				hp = h;
				name = i + 1;
			}
			if (p[i] != '/' || (i + 1 < VIGIL_PIN_DIR_LEN && p[i + 1]))
				h = vigil_path_hash_step(h, p[i]);	/* a trailing '/' is not hashed */
		}
		w = guard__lookup(VIGIL_WATCH_PATH, h);
		if (!w) {
			w = guard__lookup(VIGIL_WATCH_PATH, hp);
			if (!w)
				return 0;
			bpf_probe_read_user_str(detail, sizeof(detail), upath + name);
		}
	} else {
		for (i = 0; i < VIGIL_PIN_DIR_LEN; i++) {
			if (!p[i])
				break;
			if (p[i] == '/')
				return 0;	/* a relative path through directories */
		}
		if (!guard__dir_of(dfd, &dev, &ino))
			return 0;
		w = guard__lookup(dev, ino);
		if (!w)
			return 0;
		bpf_probe_read_user_str(detail, sizeof(detail), upath);
	}
	return control__report(w->kind, guard__arg(op, w), detail, false);
}

#endif
