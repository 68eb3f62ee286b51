// SPDX-License-Identifier: GPL-2.0
/* Bytes a tainted process queues on a unix socket, counted where they are
 * queued. The kernel wakes the receiving socket in the sender's context
 * once a datagram or a stream chunk is on its receive queue
 * (sk_data_ready, sock_def_readable) — for datagrams sent to a path (no
 * connect, /dev/log) the only place the receiver is known. The tail skb is
 * what was just queued: its length is added to the socket's mark, judged
 * by the sample the sender's write/send hook took of its buffer
 * (lib/write.bpf.h, bpf/write.bpf.c), else by a sample of the skb; the holder is
 * tainted (via unix) when it next sends, once the mark carries
 * cfg_relay_min_bytes of weights-class bytes — by bytes, not by contact: a
 * tainted process's syslog(3) line to /dev/log or its stdout to journald's
 * stream socket taints neither daemon. Data queued as pages alone (splice,
 * sendfile: no linear part to sample) counts as weights.
 * Fires for every socket wake-up on the host (each TCP segment received
 * too, in softirq): the tainted-tgid bitmap first, then the family. */
#include "lib/write.bpf.h"

static __always_inline void unix__queued(const struct sock *sk)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t = taint_of(tgid);
	struct vigil_pipe_key key = {};
	struct sk_buff *skb;
	__u32 len;

	if (!t || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
		return;
	skb = BPF_CORE_READ(sk, sk_receive_queue.prev);
	if (!skb || (void *)skb == (void *)&sk->sk_receive_queue)
		return;	/* empty: a reader took it already */
	len = BPF_CORE_READ(skb, len);
	if (!len)
		return;
	key.inode = (__u64)(unsigned long)sk;
	mark__count(&key, t, tgid, len, write__unix_queued(sk, skb, len));
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(vigil_sk_data_ready, const struct sock *sk)
{
	unix__queued(sk);
	return 0;
}

/* 6.1 (the tracepoint came in 6.3): the function that fires it */
SEC("?fentry/sock_def_readable")
int BPF_PROG(vigil_fentry_sock_def_readable, struct sock *sk)
{
	unix__queued(sk);
	return 0;
}
