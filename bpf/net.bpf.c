// SPDX-License-Identifier: GPL-2.0
/*
 * Egress of tainted processes.
 *
 *  cgroup/connect4|6, sendmsg4|6  verdict on new destinations (enforce: deny)
 *  tp_btf/tcp_sendmsg_locked       stamps the socket with the writer's taint
 *                                  before its segments are built
 *  cgroup_skb/egress               per packet: counts payload per flow and per
 *                                  set budget, drops once a budget is spent
 *  tp_btf/kfree_skb                a packet we dropped, freed in the sender's
 *                                  own context: SIGKILL it there
 *  tp_btf/sock_send_length         after each send: kill a sender whose socket
 *                                  is blocked (the drop ran elsewhere)
 *
 * The packet path costs one sk_storage lookup for untainted TCP and one hash
 * lookup for UDP; everything else runs only for tainted traffic.
 */
#include "lib/taint.bpf.h"
#include "lib/net.bpf.h"
#include "lib/sender.bpf.h"

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* Report this destination? Once per (taint instance, destination) while
 * remembered, and at most VIGIL_CONNECT_REPORTS_PER_PROC destinations per
 * process. Only the record is deduped: the verdict is made every time. */
static __always_inline bool connect__first_report(const struct vigil_flow_key *key,
						  const struct vigil_taint *t)
{
	struct vigil_connect_reports *cnt, nc = {};
	__u64 since = t->since_ns, *seen;
	__u32 tgid = key->tgid;

	/* past the cap one lookup decides: no LRU churn for a sprayer */
	cnt = bpf_map_lookup_elem(&vg_connect_reports, &tgid);
	if (cnt && cnt->since_ns == since && cnt->n >= VIGIL_CONNECT_REPORTS_PER_PROC) {
		COUNT(connect_reports_capped);
		return false;
	}
	seen = bpf_map_lookup_elem(&vg_connect_seen, key);
	if (seen && *seen == since) {
		COUNT(connects_deduped);
		return false;
	}
	bpf_map_update_elem(&vg_connect_seen, key, &since, BPF_ANY);
	if (!cnt || cnt->since_ns != since) {
		nc.since_ns = since;
		nc.n = 1;
		bpf_map_update_elem(&vg_connect_reports, &tgid, &nc, BPF_ANY);
		return true;
	}
	__sync_fetch_and_add(&cnt->n, 1);
	return true;
}

static __always_inline int sock_addr_verdict(struct bpf_sock_addr *ctx, __u8 family,
					     __u32 op)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t = taint_of(tgid);
	struct vigil_ev_connect *e;
	struct vigil_flow_key key = {};
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE;

	if (!t)
		return 1;
	key.tgid = tgid;
	key.family = family;
	key.proto = ctx->protocol;
	key.dport = bpf_ntohs(ctx->user_port);
	if (family == AF_INET) {
		__u32 a = ctx->user_ip4;

		__builtin_memcpy(key.daddr, &a, 4);
	} else {
		__u32 w[4];

		w[0] = ctx->user_ip6[0];
		w[1] = ctx->user_ip6[1];
		w[2] = ctx->user_ip6[2];
		w[3] = ctx->user_ip6[3];
		__builtin_memcpy(key.daddr, w, 16);
	}
	if (enforce && bpf_map_lookup_elem(&vg_blocked, &tgid)) {
		if (is_loopback(family, key.daddr))
			return 1;
		COUNT(connects_denied);
		return 0;	/* reported when the rule blocked it */
	}
	if (allow__check(family, key.daddr, key.dport, exe_bits_of(tgid)))
		return 1;
	if (enforce)
		COUNT(connects_denied);
	if (!connect__first_report(&key, t))
		return enforce ? 0 : 1;
	e = event_reserve(sizeof(*e), VIGIL_EV_CONNECT, tgid);
	if (e) {
		e->key = key;
		e->set_mask = t->set_mask;
		e->denied = enforce;
		e->op = op;
		e->pad = 0;
		bpf_get_current_comm(&e->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
	return enforce ? 0 : 1;
}

/* One verdict, four entry points: connect and unconnected sendmsg (op 1),
 * IPv4 and IPv6. */
#define SOCK_ADDR_PROG(name, hook, family, op)			\
	SEC("cgroup/" hook)					\
	int name(struct bpf_sock_addr *ctx)			\
	{							\
		return sock_addr_verdict(ctx, family, op);	\
	}

SOCK_ADDR_PROG(vigil_connect4, "connect4", AF_INET, 0)
SOCK_ADDR_PROG(vigil_connect6, "connect6", AF_INET6, 0)
SOCK_ADDR_PROG(vigil_sendmsg4, "sendmsg4", AF_INET, 1)
SOCK_ADDR_PROG(vigil_sendmsg6, "sendmsg6", AF_INET6, 1)

/* A TCP socket is about to queue `size` bytes written by the current task
 * (the "send" capability's first half: every implementation calls this). */
static __always_inline int send__stamp(const struct sock *sk, __u64 size)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t = taint__lookup_or_pipe(tgid);
	struct vigil_sock_state *st;

	if (!t)
		return 0;
	st = bpf_sk_storage_get(&vg_socks, (struct sock *)sk, 0,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	st->tgid = tgid;
	__sync_fetch_and_or(&st->set_mask, t->set_mask);
	if (cfg_mode != VIGIL_MODE_ENFORCE)
		return 0;
	if (!(st->flags & VIGIL_SF_DROP) && bpf_map_lookup_elem(&vg_blocked, &tgid))
		st->flags |= VIGIL_SF_DROP;
	if (!(st->flags & VIGIL_SF_CHECKED)) {
		struct vigil_flow_key key = {};

		key_from_sock(&key, sk);
		if (allow__check(key.family, key.daddr, key.dport, exe_bits_of(tgid)))
			st->flags |= VIGIL_SF_ALLOWED;
		st->flags |= VIGIL_SF_CHECKED;
	}
	if (st->flags & VIGIL_SF_ALLOWED)
		return 0;
	/* Decide before the data is queued, in the sender's context: a sender
	 * blocked inside one large send() never returns to a hook, and the
	 * drops of its data later run in softirq context where it cannot be
	 * signalled. */
	if (!(st->flags & VIGIL_SF_BLOCKED)) {
		if (!budget__would_exceed(st->set_mask, size))
			return 0;
		st->flags |= VIGIL_SF_BLOCKED;
	}
	kill__current(t, tgid, sk);
	return 0;
}

/* A socket accepted `ret` bytes from the current task (the second half). */
static __always_inline int send__done(struct sock *sk, int ret)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t;
	struct vigil_sock_state *st;

	if (ret <= 0)
		return 0;
	/* the bitmap first: this runs on every send of every process. TCP:
	 * tcp_sendmsg_locked already looked for pipe taint on this send */
	t = taint_of(tgid);
	if (!t) {
		if (sk->sk_protocol == IPPROTO_TCP)
			return 0;
		t = taint__lookup_or_pipe(tgid);
		if (!t)
			return 0;
	}
	taint__mark_unix_peer(sk, tgid, t);
	if (cfg_mode != VIGIL_MODE_ENFORCE)
		return 0;
	st = bpf_sk_storage_get(&vg_socks, sk, 0, 0);
	if (!st || (st->flags & VIGIL_SF_ALLOWED))
		return 0;
	if (st->flags & VIGIL_SF_BLOCKED)
		kill__current(t, tgid, sk);
	else if (st->flags & VIGIL_SF_CHECKED)
		budget__commit(st->set_mask, ret);	/* TCP, not allowlisted */
	return 0;
}

SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(vigil_tcp_sendmsg, const struct sock *sk, const struct msghdr *msg,
	     const struct sk_buff *skb, int size_goal)
{
	return send__stamp(sk, BPF_CORE_READ(msg, msg_iter.count));
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(vigil_sock_send_length, struct sock *sk, int ret, int flags)
{
	return send__done(sk, ret);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(vigil_kfree_skb, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason, struct sock *rx_sk)
{
	struct vigil_sock_state *st;
	struct vigil_taint *t;
	struct sock *sk;
	__u32 tgid;

	if (cfg_mode != VIGIL_MODE_ENFORCE ||
	    reason != bpf_core_enum_value(enum skb_drop_reason,
					  SKB_DROP_REASON_BPF_CGROUP_EGRESS))
		return 0;
	sk = skb->sk;
	if (!sk)
		return 0;
	st = bpf_sk_storage_get(&vg_socks, sk, 0, 0);
	if (!st || !(st->flags & VIGIL_SF_BLOCKED))
		return 0;
	/* Retransmits are freed from timers in whatever task runs: only act
	 * when the task that wrote the data is the one running. */
	tgid = current_tgid();
	if (tgid != st->tgid)
		return 0;
	t = bpf_map_lookup_elem(&vg_taint, &tgid);
	if (t)
		kill__current(t, tgid, sk);
	return 0;
}

/* Parse destination and payload length from the packet. In cgroup_skb the
 * data starts at the network header. */
static __always_inline bool parse_packet(struct __sk_buff *skb, struct vigil_flow_key *key,
					 __u64 *payload)
{
	__u32 l4off, l4hdr;
	__u8 proto;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr iph;

		if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)))
			return false;
		key->family = AF_INET;
		__builtin_memcpy(key->daddr, &iph.daddr, 4);
		proto = iph.protocol;
		l4off = iph.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		key->family = AF_INET6;
		__builtin_memcpy(key->daddr, &ip6.daddr, 16);
		proto = ip6.nexthdr;	/* extension headers: not TCP/UDP, ignored */
		l4off = sizeof(ip6);
	} else {
		return false;
	}
	key->proto = proto;
	if (proto == IPPROTO_TCP) {
		struct tcphdr th;

		if (bpf_skb_load_bytes(skb, l4off, &th, sizeof(th)))
			return false;
		key->dport = bpf_ntohs(th.dest);
		l4hdr = th.doff * 4;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr uh;

		if (bpf_skb_load_bytes(skb, l4off, &uh, sizeof(uh)))
			return false;
		key->dport = bpf_ntohs(uh.dest);
		l4hdr = sizeof(uh);
	} else {
		return false;
	}
	*payload = skb->len > l4off + l4hdr ? skb->len - l4off - l4hdr : 0;
	return true;
}

/* The verdict on one packet of full socket sk, whose protocol is proto: 1
 * lets it out, 0 drops it. proto is a parameter so that tests/bpf can run
 * this on BPF_PROG_TEST_RUN's dummy socket, which has none. */
static __always_inline int egress__verdict(struct __sk_buff *skb, struct bpf_sock *sk,
					   __u32 proto)
{
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE, crossed = false, over;
	struct vigil_sock_state *st = NULL;
	struct vigil_flow_key key = {};
	struct vigil_taint *t;
	__u32 tgid, mask;
	__u64 payload;
	bool ruled = false;	/* the writer is blocked by a rule */

	if (proto == IPPROTO_TCP) {
		st = bpf_sk_storage_get(&vg_socks, sk, 0, 0);
		if (!st)
			return 1;	/* never written by a tainted process */
		ruled = enforce && (st->flags & VIGIL_SF_DROP);
		if ((st->flags & VIGIL_SF_ALLOWED) && !ruled)
			return 1;
		tgid = st->tgid;
		mask = st->set_mask;
	} else if (proto == IPPROTO_UDP) {
		/* UDP leaves synchronously from the sender's syscall. */
		tgid = udp__sender(sk);
		t = taint_of(tgid);
		if (!t)
			return 1;
		mask = t->set_mask;
		ruled = enforce && bpf_map_lookup_elem(&vg_blocked, &tgid);
	} else {
		return 1;
	}
	if (!mask || skb->ifindex == LOOPBACK_IFINDEX)
		return 1;
	if (!parse_packet(skb, &key, &payload))
		return 1;
	key.tgid = tgid;

	if (ruled) {
		COUNT(packets_dropped);
		return 0;	/* reported by the rule that blocked it */
	}
	if (st && (st->flags & VIGIL_SF_BLOCKED)) {
		over = true;
	} else {
		if (allow__check(key.family, key.daddr, key.dport, exe_bits_of(tgid))) {
			if (st)
				st->flags |= VIGIL_SF_ALLOWED;
			return 1;
		}
		if (!payload)
			return 1;	/* handshake and pure ACKs */
		over = budget__charge(mask, payload, &crossed);
	}

	if (over && enforce) {
		if (!st)
			st = bpf_sk_storage_get(&vg_socks, sk, 0,
						BPF_SK_STORAGE_GET_F_CREATE);
		if (st) {
			st->tgid = tgid;
			st->set_mask |= mask;
			st->flags |= VIGIL_SF_BLOCKED;
		}
		COUNT(packets_dropped);
		flow__account(&key, mask, payload, true, true, crossed);
		return 0;
	}
	flow__account(&key, mask, payload, over, false, crossed);
	return 1;
}

/* The full socket a packet belongs to, or NULL (then it passes). */
static __always_inline struct bpf_sock *egress__sock(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	return sk ? bpf_sk_fullsock(sk) : NULL;
}

SEC("cgroup_skb/egress")
int vigil_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = egress__sock(skb);

	return sk ? egress__verdict(skb, sk, sk->protocol) : 1;
}
