/* SPDX-License-Identifier: GPL-2.0 */
/* Who is sending a UDP packet seen in cgroup_skb. UDP leaves synchronously
 * from the sender's syscall, so where cgroup_skb may ask for the current
 * task (cfg_skb_current, probed by userspace) that is the sender. Where it
 * may not (6.1), the send hooks that run before the packet is built stamp
 * the socket with the sending tgid instead (udp__stamp). */
#ifndef VIGIL_SENDER_BPF_H
#define VIGIL_SENDER_BPF_H

#include "lib/common.bpf.h"

/* Packets of these sockets leave synchronously from the sender's syscall,
 * so egress names their sender as udp__sender does: UDP, ICMP (ping
 * sockets) and raw IP sockets. Not ICMPv6: the kernel's own neighbour
 * discovery socket sends in whatever task triggered it. */
static __always_inline bool sender__sync(__u32 proto, __u32 type)
{
	return proto == 17 /* UDP */ || proto == 1 /* ICMP */ || proto == 136 /* UDP-Lite */ ||
	       proto == 132 /* SCTP */ || (type == 3 /* SOCK_RAW */ && proto != 58 /* ICMPV6 */);
}

/* An MPTCP socket's data never passes tcp_sendmsg_locked: its subflows
 * (kernel TCP sockets) send it. A tainted sender's MPTCP socket is marked
 * blocked before its data leaves (this, from the pre-send hook where there
 * is one, or egress on the first subflow packet sent in its context), and
 * egress drops every packet of its subflows (sock__of_subflow). */
static __always_inline void sock__block_unmetered(struct sock *sk, __u32 tgid, __u32 mask)
{
	struct vigil_sock_state *st = bpf_sk_storage_get(&vg_socks, sk, 0,
							 BPF_SK_STORAGE_GET_F_CREATE);

	if (!st)
		return;	/* egress finds no state: the current-task check drops */
	if (!(st->flags & VIGIL_SF_BLOCKED))
		__sync_fetch_and_add(&vg_unmetered_n, 1);
	st->tgid = tgid;
	__sync_fetch_and_or(&st->set_mask, mask);
	__sync_fetch_and_or(&st->flags, VIGIL_SF_BLOCKED | VIGIL_SF_CHECKED);
}

/* The state of the MPTCP socket whose subflow sk is, if it has one. */
static __always_inline struct vigil_sock_state *sock__of_subflow(struct bpf_sock *sk)
{
	struct mptcp_sock *msk = bpf_skc_to_mptcp_sock(sk);

	return msk ? bpf_sk_storage_get(&vg_socks, msk, 0, 0) : NULL;
}

static __always_inline __u32 udp__sender(struct bpf_sock *sk)
{
	struct vigil_sock_state *st;

	if (cfg_skb_current)
		return current_tgid();
	st = bpf_sk_storage_get(&vg_socks, sk, 0, 0);
	return st ? st->tgid : 0;
}

/* Before a UDP, ICMP or raw send (sender__sync), in the sender's context.
 * Untainted senders only touch a socket a tainted one stamped (sockets can
 * be shared). */
static __always_inline void udp__stamp(struct sock *sk)
{
	__u32 tgid = current_tgid();
	struct vigil_sock_state *st;

	if (cfg_skb_current)
		return;
	st = bpf_sk_storage_get(&vg_socks, sk, 0,
				maybe_tainted(tgid) ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	if (st && st->tgid != tgid)
		st->tgid = tgid;
}

#endif
