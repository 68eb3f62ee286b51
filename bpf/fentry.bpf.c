// SPDX-License-Identifier: GPL-2.0
/* fentry/fexit implementations of the read, mmap and send capabilities,
 * for kernels without the filemap, tcp_sendmsg_locked or sock_send_length
 * tracepoints (Debian 12's 6.1, 6.12). BPF trampolines on the functions the
 * tracepoints sit in (no direct: __iomap_dio_rw has 7 arguments, and
 * trampolines take at most 6 before 6.6; kprobe.bpf.c has it); the
 * bodies are the tracepoints' (lib/files.bpf.h, send__stamp/send__done in
 * net.bpf.c). "?": not loaded unless the agent's capability probe
 * (userspace/caps.c) picks them. */
#include "lib/files.bpf.h"

/* Every buffered read of a page-cache file: read, readv, pread, sendfile,
 * splice, copy_file_range (through splice) and io_uring reads. The range
 * asked for; file__read_pages cuts what lies past EOF. */
SEC("?fentry/filemap_read")
int BPF_PROG(vigil_fentry_filemap_read, struct kiocb *iocb, struct iov_iter *iter,
	     ssize_t already_read)
{
	struct file *f = iocb->ki_filp;
	__u64 count = iter->count, first, last;

	if (!f || !count)
		return 0;
	file__span(iocb->ki_pos, count, &first, &last);
	return file__read_mapping(f->f_mapping, first, last, VIGIL_VIA_READ);
}

SEC("?fentry/filemap_map_pages")
int BPF_PROG(vigil_fentry_filemap_map_pages, struct vm_fault *vmf, unsigned long start_pgoff,
	     unsigned long end_pgoff)
{
	struct file *f = vmf->vma->vm_file;

	if (!f)
		return 0;
	return file__read_mapping(f->f_mapping, start_pgoff, end_pgoff, VIGIL_VIA_MMAP);
}

SEC("?fentry/filemap_fault")
int BPF_PROG(vigil_fentry_filemap_fault, struct vm_fault *vmf)
{
	struct file *f = vmf->vma->vm_file;

	if (!f)
		return 0;
	return file__read_mapping(f->f_mapping, vmf->pgoff, vmf->pgoff, VIGIL_VIA_MMAP);
}

SEC("?fentry/tcp_sendmsg_locked")
int BPF_PROG(vigil_fentry_tcp_sendmsg, struct sock *sk, struct msghdr *msg, size_t size)
{
	return send__stamp(sk, msg, size, SEND_SAMPLES_MAX);
}

/* Before a send of `size` bytes on any socket: the UDP sender stamp, and
 * what sock_send_length does after a send (unix relays, kills of blocked
 * senders, budget commits), with the size asked for. The LSM
 * implementation shares it (stamp_tcp: it has no tcp_sendmsg_locked). */
static __always_inline int send__before(struct socket *sock, const struct msghdr *msg, int size,
					bool stamp_tcp)
{
	struct sock *sk = sock->sk;
	bool tcp, stamp;
	struct vigil_taint *t;
	__u32 tgid;

	if (!sk || size <= 0)
		return 0;
	tcp = sk->sk_protocol == IPPROTO_TCP && sk->sk_type == 1;	/* not a raw TCP socket */
	stamp = tcp && stamp_tcp;
	if (sender__sync(sk->sk_protocol, sk->sk_type))
		udp__stamp(sk);	/* UDP, ICMP and raw: egress asks the socket who sent */
	/* one pipe check for both halves (two inlined copies of it put the
	 * LSM program past the 512-byte stack with the fd scan's frame); a
	 * TCP send the fentry on tcp_sendmsg_locked stamps was checked there */
	tgid = current_tgid();
	t = tcp && !stamp ? taint_of(tgid) : taint__lookup_or_pipe(tgid);
	if (!t)
		return 0;
	if (sk->sk_protocol == 262 /* IPPROTO_MPTCP */ && cfg_mode == VIGIL_MODE_ENFORCE)
		sock__block_unmetered(sk, tgid, t->set_mask);	/* before its data leaves */
	if (stamp)
		send__stamp_t(sk, msg, size, SEND_SAMPLES_MAX, tgid, t);
	return send__done_t(sk, size, tgid, t);
}

/* sock_sendmsg itself is inlined into its callers in net/socket.c on 6.1
 * (a trampoline on it misses send, write and sendmsg); the security hook it
 * calls is a real function on every path. */
SEC("?fentry/security_socket_sendmsg")
int BPF_PROG(vigil_fentry_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size)
{
	return send__before(sock, msg, size, false);
}

/* Before 6.5 sendfile and splice into a TCP socket take the sendpage path,
 * not tcp_sendmsg_locked/sock_sendmsg. Loaded where the function exists. */
SEC("?fentry/tcp_sendpage")
int BPF_PROG(vigil_fentry_tcp_sendpage, struct sock *sk, struct page *page, int offset,
	     size_t size, int flags)
{
	return send__stamp(sk, NULL, size, 0);	/* kernel pages: its packets are sampled */
}

SEC("?fexit/tcp_sendpage")
int BPF_PROG(vigil_fexit_tcp_sendpage, struct sock *sk, struct page *page, int offset,
	     size_t size, int flags, int ret)
{
	return send__done(sk, ret);
}
