// SPDX-License-Identifier: GPL-2.0
/* Unix datagrams sent to a path (sendto a bound AF_UNIX SOCK_DGRAM socket,
 * no connect): the sender's socket has no peer, so the send hooks cannot
 * mark the receiver (lib/taint.bpf.h, taint__mark_unix_peer). The kernel
 * wakes the receiving socket in the sender's context once the datagram is
 * queued (sk_data_ready, sock_def_readable): a tainted sender marks that
 * socket, and its holder is tainted (via unix) when it next sends, as for
 * connected unix sockets. Fires for every socket wake-up on the host (each
 * TCP segment received too, in softirq): the tainted-tgid bitmap first,
 * then the family. By contact, like connected unix sockets (not by bytes:
 * a tainted process's syslog(3) line to /dev/log marks the log daemon). */
#include "lib/taint.bpf.h"

static __always_inline void unix__queued(const struct sock *sk)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t = taint_of(tgid);

	if (!t || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
		return;
	taint__mark_unix_sock((struct sock *)sk, tgid, t);
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
