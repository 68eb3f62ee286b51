// SPDX-License-Identifier: GPL-2.0
/*
 * Local relays (lib/relay.bpf.h): a second cgroup_skb/egress program, next
 * to vigil_egress, that only counts. It never drops (its verdict is always
 * 1: the kernel ANDs the verdicts of every attached program), and is kept
 * apart so that vigil_egress's verifier budget is untouched.
 *
 * Cost on every packet in scope: one comparison (the device is not the
 * loopback device) for traffic that leaves; on loopback, one sk_storage
 * lookup (TCP) or one bitmap test (UDP) for untainted senders.
 */
#include "lib/relay.bpf.h"
#include "lib/sender.bpf.h"

SEC("cgroup_skb/egress")
int vigil_relay(struct __sk_buff *skb)
{
	struct vigil_sock_state *st;
	struct vigil_taint *t;
	struct bpf_sock *sk;
	__u32 tgid;

	if (skb->ifindex != LOOPBACK_IFINDEX)
		return 1;
	sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	if (sk->protocol == IPPROTO_TCP) {
		st = bpf_sk_storage_get(&vg_socks, sk, 0, 0);
		if (st && st->set_mask)
			relay__mark_packet(skb, st->tgid, st->set_mask);
		return 1;
	}
	if (sk->protocol != IPPROTO_UDP)
		return 1;
	tgid = udp__sender(sk);
	t = maybe_tainted(tgid) ? bpf_map_lookup_elem(&vg_taint, &tgid) : NULL;
	if (t)
		relay__mark_packet(skb, tgid, t->set_mask);
	return 1;
}
