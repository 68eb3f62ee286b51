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
 * sockets, UDP-Lite) and raw IP sockets. Not raw ICMPv6: the kernel's own
 * neighbour discovery socket (SOCK_RAW) sends in whatever task triggered
 * it; an ICMPv6 ping socket (SOCK_DGRAM) is a sender's own. Not SCTP: it
 * sends from softirq as acknowledgements arrive, like TCP (unmetered: the
 * stream kill in send__done_t, docs/OPERATIONS.md). */
static __always_inline bool sender__sync(__u32 proto, __u32 type)
{
	return proto == 17 /* UDP */ || proto == 1 /* ICMP */ || proto == 136 /* UDP-Lite */ ||
	       (proto == 58 /* ICMPV6 */ && type == 2 /* SOCK_DGRAM: a ping socket */) ||
	       (type == 3 /* SOCK_RAW */ && proto != 58);
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

/* The MPTCP socket whose subflow sk is, or NULL. The call is compiled out
 * where the kernel has no MPTCP (no struct mptcp_sock in its BTF: the
 * helper's return type would not verify) or no such helper (before 5.19),
 * so the program loads there. Stream sockets only: the helper tests the
 * protocol alone and would read a raw IPPROTO_TCP socket as a tcp_sock. */
static __always_inline struct mptcp_sock *mptcp__of(struct bpf_sock *sk)
{
	if (!bpf_core_type_exists(struct mptcp_sock) ||
	    !bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_skc_to_mptcp_sock))
		return NULL;
	if (sk->type != 1 /* SOCK_STREAM */)
		return NULL;
	return bpf_skc_to_mptcp_sock(sk);
}

/* The state of the MPTCP socket whose subflow sk is, if it has one. */
static __always_inline struct vigil_sock_state *sock__of_subflow(struct bpf_sock *sk)
{
	struct mptcp_sock *msk = mptcp__of(sk);

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
