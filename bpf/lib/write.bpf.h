/* SPDX-License-Identifier: GPL-2.0 */
/* Writes of tainted processes into local channels, counted by bytes: the
 * file a write lands in (fd -> struct file in the writer's fd table), the
 * judgement of what was written (lib/taint.bpf.h, mark__judge) and the
 * count on the channel's mark (mark__count). Used by the write syscall
 * programs (bpf/write.bpf.c) and the pipe stages (bpf/stage.bpf.c). All
 * run in the writer's context, after the tainted-tgid bitmap said yes. */
#ifndef VIGIL_WRITE_BPF_H
#define VIGIL_WRITE_BPF_H

#include "lib/taint.bpf.h"
#include "lib/pty.bpf.h"
#include "lib/fuse.bpf.h"
#include "lib/netfs.bpf.h"

/* An iovec array is read whole: writev/vmsplice take at most UIO_MAXIOV
 * (1024) — a writer that put its data past the first few (after empty
 * ones) would otherwise count nothing. */
#define VIGIL_WRITE_IOV_MAX 1024

/* The current task's saved user registers (x86-64: its syscall's number
 * and arguments), or NULL. */
static __always_inline struct pt_regs *write__regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* The current task's open file fd, or NULL. */
static __always_inline struct file *write__file(__u64 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xffffffff]))
		return NULL;
	return f;
}

/* Is the current task inside a syscall that a write hook charged by count
 * and class into a file of superblock sb (write, writev, pwritev2:
 * write.bpf.c; splice: stage.bpf.c; sendfile at its exit)? Its fd is
 * read back from the saved registers (x86-64) and must be on sb: a
 * write into /proc/self/mem that stores into a shared mapping of sb's
 * file is not such a call, nor a writev whose iovecs could not be read
 * (write__netfs_unread). A page fault or an io_uring worker is in none.
 * Also true in the calls that write back (fsync, fdatasync, msync,
 * sync_file_range, syncfs, sync, close, exit): they copy no user data,
 * and a filesystem that redirties a page there (a retried NFS or CIFS
 * write) must not charge what a write already paid for. */
static __always_inline bool netfs__in_charged_syscall(struct super_block *sb)
{
	struct pt_regs *regs = write__regs();
	struct file *f;
	long nr;
	__u64 fd;

	if (!regs)
		return false;
	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr == 74 /* fsync */ || nr == 75 /* fdatasync */ || nr == 26 /* msync */ ||
	    nr == 277 /* sync_file_range */ || nr == 306 /* syncfs */ || nr == 162 /* sync */ ||
	    nr == 3 /* close */ || nr == 60 /* exit */ || nr == 231 /* exit_group */)
		return true;
	if (nr == 20 /* writev */ || nr == 328 /* pwritev2 */) {
		struct write_pending *p;

		p = bpf_task_storage_get(&vg_write_pending, bpf_get_current_task_btf(), 0, 0);
		if (p && p->netfs_unread_nr == nr)
			return false;	/* its iovecs unread: charged by page */
	}
	if (nr == 1 /* write */ || nr == 20 /* writev */ || nr == 328 /* pwritev2 */ ||
	    nr == 40 /* sendfile: out_fd */)
		fd = BPF_CORE_READ(regs, di);
	else if (nr == 275 /* splice: fd_out */)
		fd = BPF_CORE_READ(regs, dx);
	else
		return false;
	f = write__file(fd);
	return f && BPF_CORE_READ(f, f_inode, i_sb) == sb;
}

/* A tainted writer dirtied folio of a file on a network filesystem (sb)
 * outside those calls — pwrite64, pwritev, a store into a shared mapping,
 * io_uring, copy_file_range — where no hook charged its bytes: charged
 * here, the folio's size, as weights (nothing to sample), while the bytes
 * are in the page cache and not yet sent. In enforce mode the page that
 * overruns the budget SIGKILLs the writer: it stops at its next page, so
 * at most that folio past the budget is written back. */
static __always_inline void netfs__dirty(struct super_block *sb, struct folio *folio,
					 struct vigil_taint *t, __u32 tgid)
{
	struct vigil_flow_key *key = netfs__sb_key(sb, tgid);

	if (key && !netfs__in_charged_syscall(sb))
		netfs__write_key(key, t, tgid, folio__bytes(folio), 1);
}

/* len bytes (weights: judged weights-class) a tainted process moved into
 * f by a call that has no buffer of its own to sample (sendfile, splice,
 * tee, vmsplice), counted where f leads: a pipe/FIFO open for writing, a
 * file on a FUSE mount (its daemon), a file on a network filesystem (the
 * writer's egress: lib/netfs.bpf.h), a pty (the other end's holder). false
 * if f is none of those (unix sockets count where the data is queued). */
static __always_inline bool write__into(struct file *f, const struct vigil_taint *t, __u32 tgid,
					__u64 len, int weights)
{
	struct vigil_pipe_key key = {};
	__u32 f_mode;

	if (!f || !len)
		return false;
	if (file_is_fifo(f, &key, &f_mode)) {
		if (f_mode & VIGIL_FMODE_WRITE)
			mark__count(&key, t, tgid, len, weights);
		return true;
	}
	if (fuse__file_key(f, &key)) {
		mark__count(&key, t, tgid, len, weights);
		return true;
	}
	if (netfs__write(f, (struct vigil_taint *)t, tgid, len, weights))
		return true;
	if (tgid != cfg_agent_tgid && pty__of_file(f))
		return pty__write(f, len, weights ? VIGIL_CLASS_WEIGHTS : VIGIL_CLASS_WORK, tgid, t);
	return false;
}

struct iov_scan {
	const struct iovec *iov;
	__u64 total;		/* the bytes of all iovecs read so far */
	__u64 big, big_len;	/* the largest one's base and length */
	__u32 unread;		/* an iovec could not be read (a flag, not a
				 * count: a counter keeps the verifier from
				 * converging on the callback) */
};

/* bpf_loop callback: iovec i into the scan; stops at unreadable memory. */
static long write__iov_step(__u32 i, void *ctx)
{
	struct iov_scan *s = ctx;
	struct iovec v;

	if (bpf_probe_read_user(&v, sizeof(v), &s->iov[i])) {
		s->unread = 1;
		return 1;
	}
	s->total += v.iov_len;
	if (v.iov_len > s->big_len) {
		s->big = (__u64)(unsigned long)v.iov_base;
		s->big_len = v.iov_len;
	}
	return 0;
}

/* The bytes of an iovec array (all of it, up to VIGIL_WRITE_IOV_MAX) into
 * *total; 1 if its largest buffer samples as weights. A bpf_loop, run only
 * for tainted writers: ~20 ns an iovec. An array vigil cannot read whole
 * (a page of it not present: a file mapping never touched, a page under a
 * NUMA-balancing fault; the kernel's copy faults it in, a probe read does
 * not) fails closed: *unread is set, the call is weights and counts at
 * least the propagation threshold, so a pipe's reader is tainted (a
 * network filesystem charges its dirtied pages instead: netfs__dirty). */
static __always_inline int write__iov_scan(const struct iovec *iov, __u64 vlen, __u64 *total,
					   bool *unread)
{
	struct iov_scan s = { .iov = iov };
	__u32 n = vlen < VIGIL_WRITE_IOV_MAX ? vlen : VIGIL_WRITE_IOV_MAX;

	bpf_loop(n, write__iov_step, &s, 0);
	*total = s.total;
	*unread = s.unread;
	if (*unread) {
		if (*total < propagate__min())
			*total = propagate__min();
		return 1;
	}
	return mark__judge(s.big, s.big_len, 0);
}

static __always_inline int write__iov(const struct iovec *iov, __u64 vlen, __u64 *total)
{
	bool unread;

	return write__iov_scan(iov, vlen, total, &unread);
}

/* A tainted writer's write (syscall nr) into a network filesystem, its
 * iovecs unread or not: if unread, its pages are charged as dirtied
 * (netfs__in_charged_syscall says no for it); false if that cannot be
 * kept (no memory), and the caller charges the call itself. */
static __always_inline bool write__netfs_unread(__u32 nr, bool unread)
{
	struct write_pending *p;

	p = bpf_task_storage_get(&vg_write_pending, bpf_get_current_task_btf(), 0,
				 unread ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (p)
		p->netfs_unread_nr = unread ? nr : 0;
	return p || !unread;
}

/* A write or send of len bytes into the unix socket sk, judged weights or
 * not, by syscall nr: remembered for the thread, so that the data it queues
 * on the receiving socket (unix__queued) is counted with this judgement of
 * the caller's buffer rather than by a sample of the queued skb. */
static __always_inline void write__unix_pending(struct sock *sk, __u64 len, int weights, __u32 nr)
{
	struct write_pending *p;

	p = bpf_task_storage_get(&vg_write_pending, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p)
		return;	/* no memory: the queued data is sampled instead */
	p->peer = (__u64)(unsigned long)BPF_CORE_READ((struct unix_sock *)sk, peer);
	p->left = len;
	p->weights = weights;
	p->nr = nr;
}

/* The syscall the current task is in (x86-64: orig_ax), ~0 if unknown. */
static __always_inline __u32 write__syscall_nr(void)
{
	struct pt_regs *regs = write__regs();

	return regs ? (__u32)BPF_CORE_READ(regs, orig_ax) : ~0u;
}

/* How many bytes just queued on the unix socket sk count, and whether as
 * weights (*weights). Inside a write or send the write hook saw
 * (write__unix_pending): the whole call, judged by its buffer, at its first
 * wake-up, and nothing at the next ones of the same call — the queued skb
 * is not read, because the receiver may already have taken and freed it on
 * another CPU (its memory then holds another skb: a huge length, pages,
 * counted as weights — log lines once tainted journald that way). Else
 * (sendfile, splice, io_uring: no write hook) a sample of the tail skb's
 * linear part; data queued as pages alone counts as weights. */
static __always_inline __u64 write__unix_queued(const struct sock *sk, int *weights)
{
	struct write_pending *p;
	struct sk_buff *skb;
	__u32 len, linear;

	p = bpf_task_storage_get(&vg_write_pending, bpf_get_current_task_btf(), 0, 0);
	if (p && (!p->peer || p->peer == (__u64)(unsigned long)sk) &&
	    p->nr == write__syscall_nr()) {
		__u64 n = p->left;

		p->left = 0;
		*weights = p->weights;
		return n;
	}
	skb = BPF_CORE_READ(sk, sk_receive_queue.prev);
	if (!skb || (void *)skb == (void *)&sk->sk_receive_queue)
		return 0;	/* empty: a reader took it already */
	len = BPF_CORE_READ(skb, len);
	linear = len - BPF_CORE_READ(skb, data_len);
	if (linear > len)
		linear = 0;
	if (linear < VIGIL_SAMPLE_MIN)
		*weights = linear == len ? 0 : 1;
	else
		*weights = mark__judge((__u64)(unsigned long)BPF_CORE_READ(skb, data), linear, 1);
	return len;
}

#endif
