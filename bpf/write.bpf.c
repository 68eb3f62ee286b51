// SPDX-License-Identifier: GPL-2.0
/* Writes of tainted processes into pipes, FIFOs and unix sockets, counted
 * by bytes (lib/write.bpf.h): write(2) and writev(2) into a pipe add their
 * length to its mark, and to its weights bytes when a sample of the buffer
 * is weights-class; the reader is tainted (via pipe) once the mark carries
 * cfg_relay_min_bytes of them, so `python load.py | tee run.log` does not
 * taint tee with the job's log lines. Into a unix socket (write, writev,
 * sendto, sendmsg) the judgement is kept for the thread and the bytes are
 * counted where they are queued (unix.bpf.c), the one place that knows the
 * receiver of a datagram sent to a path. Into a pty (write, writev): the
 * other end's tty counts them (lib/pty.bpf.h). Into a file on a network
 * filesystem (NFS, SMB, 9p...; write, writev, pwritev2): egress of the
 * writer to the mount, charged and killed at the budget before the bytes
 * are written (lib/netfs.bpf.h). splice/tee/vmsplice: stage.bpf.c.
 *
 * Syscall tracepoints of the busiest syscalls there are: every write and
 * send on the host runs one of these programs, so the tainted-tgid bitmap
 * comes first: an untainted writer pays that load and the pipe generation,
 * and once some mark crossed the threshold the pipe check of
 * taint__lookup_or_pipe (its generation in task storage; the fd scan only
 * when it moved) — docs/PERFORMANCE.md. */
#include "lib/write.bpf.h"

/* What a write or send into fd carries: buf/len, or (vec) an iovec array
 * and its count, or (msg) a user msghdr. */
enum { WRITE_BUF, WRITE_IOV, WRITE_MSG };

/* positioned: a write at an explicit offset (pwritev2
 * with a position other than -1), which pipes, ptys and sockets refuse
 * (ESPIPE): only a file on a FUSE mount or a network filesystem takes it. */
static __always_inline int write__enter(__u64 fd, const void *buf, __u64 len, int kind, __u32 nr,
					bool positioned)
{
	__u32 tgid = current_tgid();
	struct vigil_pipe_key key = {};
	struct vigil_flow_key *nkey;
	struct vigil_taint *t;
	struct user_msghdr mh;
	__u64 total = len;
	struct sock *sk;
	struct file *f;
	__u32 f_mode;
	int weights;

	if (maybe_tainted(tgid))
		t = bpf_map_lookup_elem(&vg_taint, &tgid);
	else if (vg_pipe_gen)
		/* a middle stage that never sends (gzip in `cat w | gzip |
		 * nc`): tainted here, at its first write after a pipe it reads
		 * crossed the threshold, so its own writes count from then */
		t = tgid == cfg_agent_tgid ? NULL : taint__lookup_or_pipe(tgid);
	else
		return 0;
	if (!t)
		return 0;
	f = write__file(fd);
	if (!f)
		return 0;
	if (kind == WRITE_MSG) {
		if (bpf_probe_read_user(&mh, sizeof(mh), buf))
			return 0;
		buf = mh.msg_iov;
		len = mh.msg_iovlen;
		kind = WRITE_IOV;
	}
	if (!len)
		return 0;
	if (positioned)
		goto fuse;
	if (file_is_fifo(f, &key, &f_mode)) {
		struct vigil_pipe_mark *m;

		if (!(f_mode & VIGIL_FMODE_WRITE))
			return 0;
		/* a mark past the threshold taints its reader whatever comes
		 * next: no sample of a write() (the classifier is most of its
		 * cost; a writev's lengths need reading anyway) */
		m = bpf_map_lookup_elem(&vg_pipes, &key);
		if (kind == WRITE_IOV)
			weights = write__iov(buf, len, &total);
		else if (m && m->weights_bytes >= propagate__min())
			weights = 1;
		else
			weights = mark__judge((__u64)(unsigned long)buf, len, 0);
		mark__count(&key, t, tgid, total, weights);
		return 0;
	}
	sk = file_sock(f);
	if (sk) {
		if (BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
			return 0;
		weights = kind == WRITE_IOV ? write__iov(buf, len, &total)
					    : mark__judge((__u64)(unsigned long)buf, len, 0);
		write__unix_pending(sk, total, weights, nr);
		return 0;
	}
	/* a file on a FUSE mount: a write into its daemon (lib/fuse.bpf.h),
	 * counted on the connection like a pipe */
fuse:
	if (fuse__file_key(f, &key)) {
		weights = kind == WRITE_IOV ? write__iov(buf, len, &total)
					    : mark__judge((__u64)(unsigned long)buf, len, 0);
		mark__count(&key, t, tgid, total, weights);
		return 0;
	}
	/* a file on a network filesystem: the kernel sends these bytes, as
	 * the writer's egress to the mount (lib/netfs.bpf.h), judged before
	 * they are written */
	nkey = netfs__file_key(f, tgid);
	if (nkey) {
		bool unread = false;

		weights = kind == WRITE_IOV ? write__iov_scan(buf, len, &total, &unread)
					    : mark__judge((__u64)(unsigned long)buf, len, 0);
		/* iovecs unread: its pages are charged as they are dirtied */
		if (!write__netfs_unread(nr, unread) || !unread)
			netfs__write_key(nkey, t, tgid, total, weights);
		return 0;
	}
	if (positioned)
		return 0;
	/* a pty (lib/pty.bpf.h): the other end's tty counts the weights
	 * bytes, its holder (sshd, tmux, script) is tainted past the threshold */
	if (tgid != cfg_agent_tgid && pty__of_file(f)) {
		weights = kind == WRITE_IOV ? write__iov(buf, len, &total)
					    : mark__judge((__u64)(unsigned long)buf, len, 0);
		pty__write(f, total, weights ? VIGIL_CLASS_WEIGHTS : VIGIL_CLASS_WORK, tgid, t);
	}
	return 0;
}

SEC("tp/syscalls/sys_enter_write")
int vigil_sys_write(struct trace_event_raw_sys_enter *ctx)
{
	return write__enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], WRITE_BUF, ctx->id, false);
}

SEC("tp/syscalls/sys_enter_writev")
int vigil_sys_writev(struct trace_event_raw_sys_enter *ctx)
{
	return write__enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], WRITE_IOV, ctx->id, false);
}

/* sendto(fd, buf, len, flags, addr, addrlen): unix sockets only */
SEC("tp/syscalls/sys_enter_sendto")
int vigil_sys_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return write__enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], WRITE_BUF, ctx->id, false);
}

/* sendmsg(fd, msg, flags) */
SEC("tp/syscalls/sys_enter_sendmsg")
int vigil_sys_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return write__enter(ctx->args[0], (const void *)ctx->args[1], 1, WRITE_MSG, ctx->id, false);
}

/* pwritev2(fd, vec, vlen, pos_l, pos_h, flags): position -1 is a writev
 * at the current position, into a pipe, pty or unix socket too. pwrite64
 * and pwritev are not hooked: at an offset only a FUSE file takes them, and
 * a hook on them would cost every pwrite on the host (databases,
 * checkpoint writers) ~130 ns (bench/write_ab.sh) */
SEC("tp/syscalls/sys_enter_pwritev2")
int vigil_sys_pwritev2(struct trace_event_raw_sys_enter *ctx)
{
	return write__enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], WRITE_IOV, ctx->id,
			    (__s64)ctx->args[3] != -1);
}

/* sendfile(out_fd, in_fd, offset, count) into a pipe, FUSE file, pty or
 * a network filesystem's file:
 * counted at its exit, by what it moved — the caller may be tainted by
 * this very call's read of the weights (the read hooks run inside it).
 * There is no user buffer to sample, but there is the source: weights if
 * it is a protected file or a copy (a copy is in vg_files from the moment
 * a tainted writer dirtied it or opened it on tmpfs), else not — a
 * tainted job's text file sent to its terminal taints no sshd. */
SEC("tp/syscalls/sys_exit_sendfile64")
int vigil_sys_sendfile_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t;
	struct pt_regs *regs;
	struct file *in;

	if (ctx->ret <= 0 || !maybe_tainted(tgid) || tgid == cfg_agent_tgid)
		return 0;
	t = bpf_map_lookup_elem(&vg_taint, &tgid);
	regs = write__regs();
	if (!t || !regs)
		return 0;
	/* x86-64: the syscall's arguments stay in the saved registers */
	in = write__file(BPF_CORE_READ(regs, si));
	write__into(write__file(BPF_CORE_READ(regs, di)), t, tgid, ctx->ret,
		    in && file__lookup_inode(BPF_CORE_READ(in, f_inode)) != NULL);
	return 0;
}
