/* SPDX-License-Identifier: GPL-2.0 */
/* Taint: which processes read protected bytes, and how taint spreads to
 * children and through pipes. All functions run in the context of the task
 * they talk about (current), except taint__fork. */
#ifndef VIGIL_TAINT_BPF_H
#define VIGIL_TAINT_BPF_H

#include "lib/common.bpf.h"
#include "lib/relay.bpf.h"
#include "lib/shm.bpf.h"
#include "lib/pty.bpf.h"
#include "lib/fuse.bpf.h"

static __always_inline void taint__emit(__u32 tgid, __u32 ppid,
					const struct vigil_taint *t,
					__u32 added_mask, __u32 file_id,
					__u32 via, struct task_struct *task)
{
	struct vigil_ev_taint *e;

	e = event_reserve(sizeof(*e), VIGIL_EV_TAINT, tgid);
	if (!e)
		return;
	e->ppid = ppid;
	e->from_tgid = t->from_tgid;
	e->via = via;
	e->set_mask = added_mask;
	e->file_id = file_id;
	e->depth = t->depth;
	e->uid = BPF_CORE_READ(task, cred, uid.val);
	e->pad = 0;
	e->cgroup_id = bpf_get_current_cgroup_id();
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	{
		/* current's arguments (a forked child's are its parent's, and
		 * the parent is current at fork) */
		struct task_struct *cur = bpf_get_current_task_btf();
		unsigned long a = BPF_CORE_READ(cur, mm, arg_start);
		unsigned long b = BPF_CORE_READ(cur, mm, arg_end);
		__u32 n = b > a ? (__u32)(b - a) : 0;

		if (n > VIGIL_ARGS_LEN - 1)
			n = VIGIL_ARGS_LEN - 1;
		e->args[0] = 0;
		if (n && bpf_probe_read_user(e->args, n & (VIGIL_ARGS_LEN - 1), (void *)a) == 0)
			e->args[n & (VIGIL_ARGS_LEN - 1)] = 0;
		else
			e->args[0] = 0;
	}
	bpf_ringbuf_submit(e, 0);
}

static __always_inline __u32 task_ppid(struct task_struct *task)
{
	return BPF_CORE_READ(task, real_parent, tgid);
}

/* ---- fd table scanning (pipe marking) ---------------------------------- */

struct fdscan_ctx {
	struct file **fds;
	__u32 max_fds;
	__u32 want_mode;	/* VIGIL_FMODE_READ or _WRITE */
	__u32 tgid;
	/* marking (want WRITE): what to stamp on pipes */
	struct vigil_pipe_mark mark;
	/* checking (want READ): the first marked pipe found */
	struct vigil_pipe_mark found;
	bool hit;
	__u32 found_via;	/* VIGIL_VIA_PIPE, _UNIX, _LOOPBACK or _PTY */
	__u64 found_bytes;	/* _LOOPBACK, _PTY: tainted bytes received */
};

static __always_inline bool file_is_fifo(struct file *f, struct vigil_pipe_key *key,
					 __u32 *f_mode)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	__u16 mode;

	if (!inode)
		return false;
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & S_IFMT) != S_IFIFO)
		return false;
	key->inode = (__u64)(unsigned long)inode;
	key->ino = BPF_CORE_READ(inode, i_ino);
	*f_mode = BPF_CORE_READ(f, f_mode);
	return true;
}

/* The struct sock of a socket file, or NULL. */
static __always_inline struct sock *file_sock(struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct socket *sock;

	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(sock, sk);
}

/* A unix socket's key: its struct sock, ino 0 (a pipe's is never 0). */
static __always_inline bool file_is_unix_sock(struct file *f, struct vigil_pipe_key *key)
{
	struct sock *sk = file_sock(f);

	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
		return false;
	/* the mark's key (bpf/unix.bpf.c): the address and the cookie, which
	 * the counting hook gave the socket — 0: never counted, no mark */
	key->inode = (__u64)(unsigned long)sk;
	key->ino = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	return key->ino != 0;
}

/* An inet socket whose relay mark carries enough tainted bytes, sent by
 * another process (lib/relay.bpf.h). */
static __always_inline bool fdscan__relay(struct fdscan_ctx *c, struct file *f)
{
	struct sock *sk = file_sock(f);
	struct vigil_relay_key k = {};
	struct vigil_relay_mark *m;

	if (!sk || !relay__key_of_sock(sk, &k))
		return false;
	m = bpf_map_lookup_elem(&vg_relays, &k);
	if (!m || m->tgid == c->tgid || m->bytes < relay__min(k.proto, m->set_mask))
		return false;
	c->found.tgid = m->tgid;
	c->found.set_mask = m->set_mask;
	c->found.depth = m->depth;
	c->found.file_id = m->file_id;
	c->found_bytes = m->bytes;
	c->found_via = VIGIL_VIA_LOOPBACK;
	c->hit = true;
	return true;
}

/* A mark's writer (the taint's sources and chain) becomes w's, its byte
 * counts stay: the last tainted writer names the taint, as for relays. */
static __always_inline void mark__set_writer(struct vigil_pipe_mark *m,
					     const struct vigil_pipe_mark *w)
{
	if (m->tgid == w->tgid && (m->set_mask & w->set_mask) == w->set_mask)
		return;
	m->tgid = w->tgid;
	m->set_mask = w->set_mask;
	m->depth = w->depth;
	m->file_id = w->file_id;
}

/* The threshold of every local propagation by bytes (include/vigil.h). */
static __always_inline __u64 propagate__min(void)
{
	return cfg_relay_min_bytes ? cfg_relay_min_bytes : 1;
}

/* The mark another process left on a pipe or unix socket the scanned
 * process reads: 1 (stop the scan) when there is one that counts. A pipe or
 * unix mark counts once it carries propagate__min() weights-class bytes (by
 * bytes, not by contact: a log line to /dev/log, a progress bar into
 * `| tee` taints nothing); a mark on the process itself at once. */
static __always_inline long fdscan__take_mark(struct fdscan_ctx *c, struct vigil_pipe_key *key,
					      __u32 via)
{
	struct vigil_pipe_mark *m = bpf_map_lookup_elem(&vg_pipes, key);

	if (!m || m->tgid == c->tgid)
		return 0;
	if (via != VIGIL_VIA_PROCMEM && m->weights_bytes < propagate__min_for(m->set_mask))
		return 0;
	c->found = *m;
	c->hit = true;
	c->found_via = via;
	return 1;
}

/* A mark left on the scanned process itself, not on one of its files: its
 * memory was written by a tainted process (lib/procmem.bpf.h); consumed. */
#define VIGIL_PIPE_INO_PROCESS (~0ull)

static __always_inline bool fdscan__own_mark(struct fdscan_ctx *c)
{
	struct vigil_pipe_key key = { .inode = c->tgid, .ino = VIGIL_PIPE_INO_PROCESS };

	if (!fdscan__take_mark(c, &key, VIGIL_VIA_PROCMEM))
		return false;
	bpf_map_delete_elem(&vg_pipes, &key);
	return true;
}

/* A tmpfs/shm/memfd file (lib/shm.bpf.h). Marking (a process just became
 * tainted): one it holds for writing becomes a copy. Checking: one it holds
 * for reading that is protected taints it, as a reader of the copy (found
 * depth -1: a reader's own depth is 0, the hops before are the copy's). */
enum { FDSCAN_SHM_NOT, FDSCAN_SHM_SEEN, FDSCAN_SHM_HIT };

static __always_inline int fdscan__shm(struct fdscan_ctx *c, struct file *f)
{
	struct inode *inode = shm__inode(f);
	const struct vigil_file_info *info;
	__u32 f_mode;

	if (!inode)
		return FDSCAN_SHM_NOT;
	f_mode = BPF_CORE_READ(f, f_mode);
	if (c->want_mode == VIGIL_FMODE_WRITE) {
		if (f_mode & VIGIL_FMODE_WRITE)
			shm__derive(inode, c->mark.tgid, c->mark.set_mask, c->mark.file_id,
				    c->mark.depth);
		return FDSCAN_SHM_SEEN;
	}
	if (!(f_mode & VIGIL_FMODE_READ))
		return FDSCAN_SHM_SEEN;
	info = shm__protected(inode);
	if (!info)
		return FDSCAN_SHM_SEEN;
	c->found.tgid = 0;
	c->found.set_mask = info->set_mask;
	c->found.depth = (__u32)-1;
	c->found.file_id = info->file_id;
	c->found_via = VIGIL_VIA_READ;
	c->hit = true;
	return FDSCAN_SHM_HIT;
}

static long fdscan__one(__u32 i, void *data)
{
	struct fdscan_ctx *c = data;
	struct vigil_pipe_key key = {};
	struct file *f = NULL;
	__u32 f_mode;

	if (i >= c->max_fds)
		return 1;
	if (bpf_probe_read_kernel(&f, sizeof(f), &c->fds[i]) || !f)
		return 0;
	/* a unix socket a tainted process sent into (marked at send) */
	if (c->want_mode == VIGIL_FMODE_READ && file_is_unix_sock(f, &key))
		return fdscan__take_mark(c, &key, VIGIL_VIA_UNIX);
	if (c->want_mode == VIGIL_FMODE_READ && vg_relays_marked && fdscan__relay(c, f))
		return 1;
	/* the /dev/fuse of a mount a tainted process wrote weights into */
	if (c->want_mode == VIGIL_FMODE_READ && fuse__dev_key(f, &key))
		return fdscan__take_mark(c, &key, VIGIL_VIA_FUSE);
	/* a pty a tainted process wrote weights to (lib/pty.bpf.h) */
	if (c->want_mode == VIGIL_FMODE_READ && vg_ptys_marked &&
	    pty__take(f, c->tgid, &c->found.tgid, &c->found.set_mask, &c->found.depth,
		      &c->found.file_id, &c->found_bytes)) {
		c->found_via = VIGIL_VIA_PTY;
		c->hit = true;
		return 1;
	}
	switch (fdscan__shm(c, f)) {
	case FDSCAN_SHM_HIT:
		return 1;
	case FDSCAN_SHM_SEEN:
		return 0;
	}
	if (!file_is_fifo(f, &key, &f_mode))
		return 0;
	if (!(f_mode & c->want_mode))
		return 0;
	if (c->want_mode == VIGIL_FMODE_WRITE) {
		struct vigil_pipe_mark *old = bpf_map_lookup_elem(&vg_pipes, &key);

		/* who, not bytes: the bytes come from its writes
		 * (bpf/write.bpf.c), so the mark taints no reader yet */
		if (old) {
			mark__set_writer(old, &c->mark);
			return 0;
		}
		if (bpf_map_update_elem(&vg_pipes, &key, &c->mark, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&vg_pipes, &key))
			COUNT(pipe_map_full);
		return 0;
	}
	return fdscan__take_mark(c, &key, VIGIL_VIA_PIPE);
}

static __always_inline void fdscan__run(struct task_struct *task, struct fdscan_ctx *c)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);

	if (!fdt)
		return;
	c->fds = BPF_CORE_READ(fdt, fd);
	c->max_fds = BPF_CORE_READ(fdt, max_fds);
	if (c->max_fds > VIGIL_FD_SCAN_MAX) {
		/* Only scan the first VIGIL_FD_SCAN_MAX slots; pipes of
		 * shell pipelines sit at 0-2, so this is a rare miss. */
		COUNT(fd_scan_truncated);
	}
	bpf_loop(VIGIL_FD_SCAN_MAX, fdscan__one, c, 0);
}

/* Mark every pipe/FIFO the tainted task can write to, so that whoever
 * reads the other end is tainted when it next talks to the network. */
static __always_inline void taint__mark_pipes(struct task_struct *task, __u32 tgid,
					      const struct vigil_taint *t)
{
	struct fdscan_ctx c = {};

	c.want_mode = VIGIL_FMODE_WRITE;
	c.tgid = tgid;
	c.mark.tgid = tgid;
	c.mark.set_mask = t->set_mask;
	c.mark.depth = t->depth;
	c.mark.file_id = t->first_file_id;
	fdscan__run(task, &c);
}

/* Start tgid's taint, the one way every hook does it: the bitmap bit first
 * (the hot paths test it before any lookup; a stale bit only costs one),
 * then the entry. 0 if this call inserted it; otherwise another thread got
 * there first (BPF_NOEXIST) or the map is full, which is counted. */
static __always_inline int taint__start(__u32 tgid, struct vigil_taint *nt, __u64 flags)
{
	nt->since_ns = bpf_ktime_get_ns();
	mark_tainted(tgid);
	if (!bpf_map_update_elem(&vg_taint, &tgid, nt, flags))
		return 0;
	if (flags != BPF_NOEXIST || !bpf_map_lookup_elem(&vg_taint, &tgid))
		COUNT(taint_map_full);
	return -1;
}

/* The taint of the current process, or NULL. An untainted process that
 * holds the read end of a pipe a tainted process writes to becomes tainted
 * here: called only where it matters (before bytes reach a socket). */
static __always_inline struct vigil_taint *taint__lookup_or_pipe(__u32 tgid)
{
	struct vigil_taint *t = taint_of(tgid);
	struct task_struct *task;
	struct fdscan_ctx c = {};
	struct vigil_taint nt = {};
	__u64 gen = vg_pipe_gen, *seen;

	if (t || gen == 0)
		return t;
	/* before the generation is taken: a process out of scope now may be
	 * moved in later (`echo $$ > cgroup.procs && exec uploader`, whose
	 * write comes here first) and must still look at this generation */
	if (!in_scope())
		return NULL;
	task = bpf_get_current_task_btf();
	seen = bpf_task_storage_get(&vg_pipe_checked, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!seen) {
		COUNT(pipe_map_full);	/* no memory: this check is skipped, and says so */
		return NULL;
	}
	if (*seen == gen)
		return NULL;
	*seen = gen;

	c.want_mode = VIGIL_FMODE_READ;
	c.tgid = tgid;
	if (!fdscan__own_mark(&c))
		fdscan__run(task, &c);
	if (!c.hit)
		return NULL;

	nt.set_mask = c.found.set_mask;
	nt.via = c.found_via;
	nt.from_tgid = c.found.tgid;
	nt.depth = c.found.depth + 1;
	nt.first_file_id = c.found.file_id;
	if (taint__start(tgid, &nt, BPF_NOEXIST))
		return bpf_map_lookup_elem(&vg_taint, &tgid);
	if (c.found_via == VIGIL_VIA_LOOPBACK || c.found_via == VIGIL_VIA_PTY)
		relay__charge_backlog(nt.set_mask, c.found_bytes);
	taint__emit(tgid, task_ppid(task), &nt, nt.set_mask, nt.first_file_id,
		    nt.via, task);
	taint__mark_pipes(task, tgid, &nt);
	return bpf_map_lookup_elem(&vg_taint, &tgid);
}

/* The current process read pages [first, last] of a protected file. */
static __always_inline void taint__file_read(const struct vigil_file_info *info,
					     __u64 first, __u64 last, __u32 via)
{
	__u32 tgid = current_tgid();
	struct vigil_read_key rk = { .tgid = tgid, .file_id = info->file_id };
	struct vigil_read_progress *rp, nrp;
	struct vigil_taint *t, nt = {};
	struct task_struct *task;
	__u64 added = 0, start;
	bool new_source = false;

	if (tgid == cfg_agent_tgid || !in_scope())
		return;
	if (last < first)
		return;

	rp = bpf_map_lookup_elem(&vg_reads, &rk);
	if (!rp) {
		nrp.hwm_page = last + 1;
		nrp.pages = last + 1 - first;
		added = nrp.pages;
		bpf_map_update_elem(&vg_reads, &rk, &nrp, BPF_NOEXIST);
		new_source = true;
	} else if (last + 1 > rp->hwm_page) {
		start = first > rp->hwm_page ? first : rp->hwm_page;
		added = last + 1 - start;
		rp->pages += added;
		rp->hwm_page = last + 1;
	}

	t = taint_of(tgid);
	if (t) {
		if (added)
			__sync_fetch_and_add(&t->bytes_read, added << PAGE_SHIFT);
		if ((t->set_mask & info->set_mask) == info->set_mask && !new_source)
			return;
		__sync_fetch_and_or(&t->set_mask, info->set_mask);
		task = bpf_get_current_task_btf();
		taint__emit(tgid, task_ppid(task), t, info->set_mask, info->file_id,
			    via, task);
		taint__mark_pipes(task, tgid, t);
		return;
	}

	nt.set_mask = info->set_mask;
	nt.via = via;
	nt.first_file_id = info->file_id;
	nt.bytes_read = added << PAGE_SHIFT;
	if (taint__start(tgid, &nt, BPF_NOEXIST))
		return;	/* another thread of the process was first, or full */
	task = bpf_get_current_task_btf();
	taint__emit(tgid, task_ppid(task), &nt, nt.set_mask, info->file_id, via, task);
	taint__mark_pipes(task, tgid, &nt);
}

static __always_inline const struct vigil_file_info *
file__lookup_inode(struct inode *inode)
{
	struct vigil_file_key key;

	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (!maybe_protected(key.dev, key.ino))
		return NULL;
	return bpf_map_lookup_elem(&vg_files, &key);
}

/* A write of len < VIGIL_SAMPLE_MIN bytes at addr (user memory) by the
 * current thread: too short to judge alone, so it joins the thread's
 * window (vg_small_writes) and takes the class of the last full one —
 * 256 bytes of small writes judged together. The thread's first window is
 * not weights until it fills (at most 256 bytes, far below the threshold). */
static __always_inline int mark__judge_small(struct vigil_scratch *x, __u64 addr, __u64 len)
{
	struct small_writes *w;
	__u32 fill, n = len;

	w = bpf_task_storage_get(&vg_small_writes, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!w)
		return 1;	/* no memory: fail closed (a few bytes) */
	fill = w->fill;
	asm volatile("%[f] &= %[m]" : [f] "+r"(fill) : [m] "i"(VIGIL_SAMPLE_BYTES - 1));
	asm volatile("%[n] &= %[m]" : [n] "+r"(n) : [m] "i"(VIGIL_SAMPLE_MIN - 1));
	if (n && bpf_probe_read_user(&w->buf[fill], n, (void *)addr))
		return 1;	/* unreadable: fail closed */
	fill += n;
	if (fill >= VIGIL_SAMPLE_BYTES) {
		struct classify_sample *sp = &x->c.s;

		if (bpf_probe_read_kernel(x->c.buf, VIGIL_SAMPLE_BYTES, w->buf))
			return 1;
		__builtin_memset(sp, 0, sizeof(*sp));
		sp->n = VIGIL_SAMPLE_BYTES;
		w->weights = classify__sample(&x->c) == VIGIL_CLASS_WEIGHTS;
		fill = 0;	/* the overflow is dropped: a sample, not a copy */
	}
	w->fill = fill;
	return w->weights;
}

/* Judge len bytes at addr (user memory, or kernel memory when kernel) by
 * a sample (lib/classify.bpf.h): 1 if weights-class. User writes below
 * VIGIL_SAMPLE_MIN bytes are judged together (mark__judge_small); kernel
 * memory that short is not weights; unreadable memory is weights (fail
 * closed). A global function: verified once for every write hook. */
__noinline int mark__judge(__u64 addr, __u64 len, int kernel)
{
	__u32 zero = 0, n = VIGIL_SAMPLE_BYTES;
	struct vigil_scratch *x = bpf_map_lookup_elem(&vg_scratch, &zero);
	struct classify_sample *sp;
	__u64 off = 0;
	long err;

	if (!len || (len < VIGIL_SAMPLE_MIN && kernel))
		return 0;
	if (!x)
		return 1;
	if (len < VIGIL_SAMPLE_MIN)
		return mark__judge_small(x, addr, len);
	if (len > VIGIL_SAMPLE_BYTES)
		off = bpf_get_prandom_u32() % (len - VIGIL_SAMPLE_BYTES + 1);
	else
		n = len;
	asm volatile("%[n] &= %[m]" : [n] "+r"(n) : [m] "i"(2 * VIGIL_SAMPLE_BYTES - 1));
	if (n < 1 || n > VIGIL_SAMPLE_BYTES)
		return 1;
	if (kernel)
		err = bpf_probe_read_kernel(x->c.buf, n, (void *)(addr + off));
	else
		err = bpf_probe_read_user(x->c.buf, n, (void *)(addr + off));
	if (err)
		return 1;
	sp = &x->c.s;
	__builtin_memset(sp, 0, sizeof(*sp));
	sp->n = n;
	return classify__sample(&x->c) == VIGIL_CLASS_WEIGHTS;
}

/* A tainted writer put len bytes into the pipe or unix socket key names
 * (weights: its sample was weights-class, mark__judge): count them on the
 * mark, made now if the fd scan at taint time did not see it (a pipe made
 * or opened later), and let readers look again (vg_pipe_gen) when its
 * weights bytes cross the threshold. A global function, as mark__judge. */
__noinline int mark__count(struct vigil_pipe_key *key, const struct vigil_taint *t,
			   __u32 tgid, __u64 len, int weights)
{
	struct vigil_pipe_mark *m, nm = {};
	__u64 min, w = weights ? len : 0, old;
	struct vigil_pipe_key k;

	if (!key || !t || !len)
		return 0;
	min = propagate__min_for(t->set_mask);
	/* a map key must be on this frame's stack (6.1's verifier refuses
	 * an argument's memory) */
	k = *key;
	nm.tgid = tgid;
	nm.set_mask = t->set_mask;
	nm.depth = t->depth;
	nm.file_id = t->first_file_id;
	m = bpf_map_lookup_elem(&vg_pipes, &k);
	if (!m) {
		nm.bytes = len;
		nm.weights_bytes = w;
		if (bpf_map_update_elem(&vg_pipes, &k, &nm, BPF_NOEXIST) == 0) {
			if (w >= min)
				__sync_fetch_and_add(&vg_pipe_gen, 1);
			return 0;
		}
		m = bpf_map_lookup_elem(&vg_pipes, &k);	/* raced another CPU */
		if (!m) {
			COUNT(pipe_map_full);
			return 0;
		}
	}
	mark__set_writer(m, &nm);
	__sync_fetch_and_add(&m->bytes, len);
	if (!w)
		return 0;
	old = __sync_fetch_and_add(&m->weights_bytes, w);
	if (old < min && old + w >= min)
		__sync_fetch_and_add(&vg_pipe_gen, 1);	/* readers: look again */
	return 0;
}

#endif
