// SPDX-License-Identifier: GPL-2.0
/* Bytes a tainted process queues on a unix socket, counted where they are
 * queued. The kernel wakes the receiving socket in the sender's context
 * once a datagram or a stream chunk is on its receive queue
 * (sk_data_ready, sock_def_readable) — for datagrams sent to a path (no
 * connect, /dev/log) the only place the receiver is known. The socket's
 * mark gains the sender's call, judged by the sample its write/send hook
 * took of the buffer (lib/write.bpf.h, bpf/write.bpf.c), else the tail
 * skb, judged by a sample of it; the holder is
 * tainted (via unix) when it next sends, once the mark carries
 * cfg_relay_min_bytes of weights-class bytes — by bytes, not by contact: a
 * tainted process's syslog(3) line to /dev/log or its stdout to journald's
 * stream socket taints neither daemon. Data queued as pages alone (splice,
 * sendfile: no linear part to sample) counts as weights.
 * Fires for every socket wake-up on the host (each TCP segment received
 * too, in softirq): the tainted-tgid bitmap first, then the family. */
#include "lib/write.bpf.h"

/* sk: a trusted pointer (tp_btf, fentry argument), for the cookie */
static __always_inline void unix__queued(struct sock *sk)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t = taint_of(tgid);
	struct vigil_pipe_key key = {};
	int weights = 0;
	__u64 len;

	if (!t || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
		return;
	len = write__unix_queued(sk, &weights);
	if (!len)
		return;
	/* keyed by address and cookie: a freed socket's mark must not count
	 * for the next socket the slab puts at its address (a stale mark past
	 * the threshold would taint a log reader, and bump no generation for
	 * a weights receiver that scanned already) */
	key.inode = (__u64)(unsigned long)sk;
	key.ino = bpf_get_socket_cookie(sk);
	mark__count(&key, t, tgid, len, weights);
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(vigil_sk_data_ready, const struct sock *sk)
{
	unix__queued((struct sock *)sk);
	return 0;
}

/* 6.1 (the tracepoint came in 6.3): the function that fires it */
SEC("?fentry/sock_def_readable")
int BPF_PROG(vigil_fentry_sock_def_readable, struct sock *sk)
{
	unix__queued(sk);
	return 0;
}
