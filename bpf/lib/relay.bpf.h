/* SPDX-License-Identifier: GPL-2.0 */
/* Local relays: taint carried over TCP and UDP connections that never leave
 * the host (loopback, and the host's own addresses, which the kernel routes
 * through the loopback device too).
 *
 * Sender side (cgroup_skb/egress, only for packets of tainted senders on
 * the loopback device): the payload is added to a mark named by the
 * receiving socket's view of the connection (struct vigil_relay_key).
 * Receiver side (the fd scan of an untainted sender, lib/taint.bpf.h): an
 * inet socket in its fd table whose mark carries at least
 * cfg_relay_min_bytes taints it (via loopback) — by bytes, not by contact:
 * a health check or a log line from a tainted process spreads nothing. The
 * scan runs only when the pipe generation moved, and a mark moves it only
 * when it crosses the threshold. The relay's own sends out of the host are
 * then what the budget sees; the bytes it received before it was tainted
 * (at most the threshold plus what arrived since) are charged to the
 * budget when it is tainted, since it may have forwarded them untainted. */
#ifndef VIGIL_RELAY_BPF_H
#define VIGIL_RELAY_BPF_H

#include "lib/common.bpf.h"
#include "lib/net.bpf.h"

#ifndef IPPROTO_TCP
#define IPPROTO_TCP 6
#endif
#ifndef IPPROTO_UDP
#define IPPROTO_UDP 17
#endif

/* The key of a receiving socket (from a struct sock the fd scan found).
 * A v4-mapped IPv6 socket is keyed as the IPv4 connection its packets are. */
static __always_inline bool relay__key_of_sock(struct sock *sk, struct vigil_relay_key *k)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);

	if ((family != AF_INET && family != AF_INET6) ||
	    (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return false;
	k->proto = proto;
	k->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (proto == IPPROTO_UDP)
		return true;
	k->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET6) {
		struct in6_addr l = BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr);
		struct in6_addr r = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr);

		if (!(l.in6_u.u6_addr32[0] == 0 && l.in6_u.u6_addr32[1] == 0 &&
		      l.in6_u.u6_addr32[2] == bpf_htonl(0xffff))) {
			k->family = AF_INET6;
			__builtin_memcpy(k->laddr, &l, 16);
			__builtin_memcpy(k->raddr, &r, 16);
			return true;
		}
	}
	k->family = AF_INET;
	{
		__u32 l4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(k->laddr, &l4, 4);
		__builtin_memcpy(k->raddr, &r4, 4);
	}
	return true;
}

/* The bytes a receiver got before it was tainted through a relay mark: it
 * may have forwarded them untainted, so they count against its sets'
 * budgets now (a global function: verified once, not inlined into every
 * send and write hook). */
__noinline int relay__charge_backlog(__u32 mask, __u64 bytes)
{
	bool crossed = false;

	if (!mask || !bytes)
		return 0;
	budget__charge(mask, bytes, &crossed);
	return 0;
}

/* A relay mark's threshold: propagate__min_for's, except that UDP marks
 * (named by port alone: every tainted job's DNS query to a local stub adds
 * to one) keep the full threshold when a budget runs low, so a stub is not
 * tainted by queries and its upstream lookups for the host never dropped. */
static __always_inline __u64 relay__min(__u8 proto, __u32 mask)
{
	return propagate__min_for(proto == IPPROTO_UDP ? 0 : mask);
}

/* A tainted sender's packet on the loopback device: add its payload to the
 * mark of the connection's receiving end. Only tainted packets get here. */
__noinline int relay__mark_packet(struct __sk_buff *skb, __u32 tgid, __u32 mask)
{
	struct vigil_relay_key k = {};
	struct vigil_relay_mark *m, nm = {};
	struct vigil_taint *t;
	__u32 l4off, l4hdr;
	__u64 payload, old, min;
	__u16 ports[2];
	__u8 proto;

	if (!mask)
		return 0;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr iph;

		if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)))
			return 0;
		if (iph.frag_off & bpf_htons(0x3fff))
			return 0;	/* fragments: not a relay's traffic */
		proto = iph.protocol;
		l4off = iph.ihl * 4;
		k.family = AF_INET;
		__builtin_memcpy(k.laddr, &iph.daddr, 4);
		__builtin_memcpy(k.raddr, &iph.saddr, 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return 0;
		proto = ip6.nexthdr;	/* extension headers: not followed */
		l4off = sizeof(ip6);
		k.family = AF_INET6;
		__builtin_memcpy(k.laddr, &ip6.daddr, 16);
		__builtin_memcpy(k.raddr, &ip6.saddr, 16);
	} else {
		return 0;
	}
	if (proto == IPPROTO_TCP) {
		struct tcphdr th;

		if (bpf_skb_load_bytes(skb, l4off, &th, sizeof(th)))
			return 0;
		ports[0] = th.source;
		ports[1] = th.dest;
		l4hdr = th.doff * 4;
	} else if (proto == IPPROTO_UDP) {
		if (bpf_skb_load_bytes(skb, l4off, ports, sizeof(ports)))
			return 0;
		l4hdr = 8;
	} else {
		return 0;
	}
	if (skb->len <= l4off + l4hdr)
		return 0;	/* handshake, pure ACKs */
	payload = skb->len - l4off - l4hdr;
	k.proto = proto;
	k.lport = bpf_ntohs(ports[1]);
	if (proto == IPPROTO_UDP) {
		/* receivers are bound, not connected: the port names them */
		k.family = 0;
		__builtin_memset(k.laddr, 0, sizeof(k.laddr));
		__builtin_memset(k.raddr, 0, sizeof(k.raddr));
	} else {
		k.rport = bpf_ntohs(ports[0]);
	}

	min = relay__min(proto, mask);
	m = bpf_map_lookup_elem(&vg_relays, &k);
	if (!m) {
		t = taint_of(tgid);
		nm.tgid = tgid;
		nm.set_mask = mask;
		nm.depth = t ? t->depth : 0;
		nm.file_id = t ? t->first_file_id : 0;
		nm.bytes = payload;
		if (bpf_map_update_elem(&vg_relays, &k, &nm, BPF_NOEXIST) == 0) {
			if (!vg_relays_marked)
				__sync_fetch_and_add(&vg_relays_marked, 1);
			if (payload >= min)
				__sync_fetch_and_add(&vg_pipe_gen, 1);
			return 0;
		}
		m = bpf_map_lookup_elem(&vg_relays, &k);	/* raced another CPU */
		if (!m) {
			COUNT(pipe_map_full);
			return 0;
		}
	}
	if (m->tgid != tgid)
		m->tgid = tgid;
	if ((m->set_mask & mask) != mask)
		__sync_fetch_and_or(&m->set_mask, mask);
	old = __sync_fetch_and_add(&m->bytes, payload);
	if (old < min && old + payload >= min)
		__sync_fetch_and_add(&vg_pipe_gen, 1);	/* receivers: look again */
	return 0;
}

#endif
