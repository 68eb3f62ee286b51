// SPDX-License-Identifier: GPL-2.0
/*
 * Egress of tainted processes.
 *
 *  cgroup/connect4|6, sendmsg4|6  new destinations: reported, TCP sockets
 *                                  stamped (enforce refuses only with
 *                                  --deny-new-destinations)
 *  tp_btf/tcp_sendmsg_locked       stamps the socket with the writer's taint
 *                                  before its segments are built, samples
 *                                  the send's data (content class)
 *  cgroup_skb/egress               per packet: counts payload per flow and per
 *                                  set budget (work-class bytes: the
 *                                  destination's work budget), judges DNS
 *                                  queries, drops once a budget is spent
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
#include "lib/tls.bpf.h"
#include "lib/content.bpf.h"

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

/* A tainted process's TCP socket, stamped at connect: its packets are
 * charged from the first one, even data that never passes the send hook
 * (the SYN of sendto(MSG_FASTOPEN), 6.1's sendpage). Nothing is queued or
 * acknowledged yet, so the socket's whole stream is tainted. A process
 * that connects and then sends nothing costs one socket storage. */
static __always_inline bool connect__stamp(struct bpf_sock_addr *ctx, const struct vigil_taint *t,
					   __u32 tgid)
{
	struct vigil_sock_state *st;
	struct bpf_sock *sk = ctx->sk;

	if (!sk || (cfg_fault & VIGIL_FAULT_SK_STORAGE))
		return false;
	st = bpf_sk_storage_get(&vg_socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return false;
	if (!st->set_mask && !st->tgid) {
		/* the SYN takes one sequence number: bytes_acked counts it */
		st->acked_base = 1;
		__sync_fetch_and_add(&vg_socks_stamped, 1);
	}
	st->tgid = tgid;
	__sync_fetch_and_or(&st->set_mask, t->set_mask);
	__sync_fetch_and_or(&st->flags, VIGIL_SF_CHECKED | VIGIL_SF_DIR_KNOWN);
	return true;
}

/* A tainted process addresses a destination that is neither loopback nor
 * allowlisted: reported (once per destination), and by default let
 * through: its bytes are judged as they leave (send hook and egress:
 * content class, work and set budgets). Refused (enforce) only with
 * cfg_deny_new_dest, for a process a rule blocked, for DNS (port 53) to a
 * server that is not a resolver of the host, and where its bytes
 * could not be metered (fail closed): a TCP socket that cannot be stamped,
 * a process whose taint entry was lost. */
static __always_inline int sock_addr_verdict(struct bpf_sock_addr *ctx, __u8 family,
					     __u32 op)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t = taint__for_egress(tgid);
	struct vigil_ev_connect *e;
	struct vigil_flow_key key = {};
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE;
	bool deny = enforce && cfg_deny_new_dest;

	if (!t)
		return 1;
	/* a process whose taint entry could not be kept (vg_lost_taint, whose
	 * since_ns is 0) cannot be metered at send time: fail closed */
	if (!t->since_ns)
		deny = true;
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
	if (allow__check(&key, exe_bits_of(tgid)))
		return 1;
	/* DNS to a server that is not one of the host's resolvers (those are
	 * allowlisted for port 53): a lookup has no business there */
	if (enforce && key.dport == 53)
		deny = true;
	if (!deny && op == 0 && key.proto == IPPROTO_TCP && !connect__stamp(ctx, t, tgid)) {
		COUNT(sock_storage_full);
		if (enforce) {
			COUNT(failed_closed);
			deny = true;
		}
	}
	if (deny)
		COUNT(connects_denied);
	if (!connect__first_report(&key, t))
		return deny ? 0 : 1;
	e = event_reserve(sizeof(*e), VIGIL_EV_CONNECT, tgid);
	if (e) {
		e->key = key;
		e->set_mask = t->set_mask;
		e->denied = deny;
		e->op = op;
		e->pad = 0;
		bpf_get_current_comm(&e->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
	return deny ? 0 : 1;
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

/* A raw IP socket sends packets no connect/sendmsg hook sees: a tainted
 * process creating one is reported (a connect record with proto
 * VIGIL_PROTO_RAW and no destination) and, in enforce mode, refused. Every
 * other socket is let through after one comparison. (AF_PACKET and AF_XDP
 * never reach this hook: it is for inet sockets only.) */
SEC("cgroup/sock_create")
int vigil_sock_create(struct bpf_sock *ctx)
{
	struct vigil_ev_connect *e;
	struct vigil_taint *t;
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE;
	__u32 tgid;

	if (ctx->type != SOCK_RAW)
		return 1;
	tgid = current_tgid();
	t = maybe_tainted(tgid) ? bpf_map_lookup_elem(&vg_taint, &tgid) : NULL;
	if (!t)
		return 1;
	if (enforce)
		COUNT(connects_denied);
	e = event_reserve(sizeof(*e), VIGIL_EV_CONNECT, tgid);
	if (e) {
		__builtin_memset(&e->key, 0, sizeof(e->key));
		e->key.tgid = tgid;
		e->key.family = ctx->family;
		e->key.proto = VIGIL_PROTO_RAW;
		e->set_mask = t->set_mask;
		e->denied = enforce;
		e->op = 2;
		e->pad = 0;
		bpf_get_current_comm(&e->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
	return enforce ? 0 : 1;
}

/* A tainted sender's socket whose sk_storage cannot be had: remember it by
 * cookie in the preallocated fallback table (egress drops it, the agent
 * resets it), and in enforce mode kill the sender: its bytes could not be
 * metered. Monitor mode counts it. */
static __always_inline void sock__lost(struct vigil_taint *t, __u32 tgid, const struct sock *sk)
{
	__u64 cookie;

	COUNT(sock_storage_full);
	if (cfg_mode != VIGIL_MODE_ENFORCE)
		return;
	cookie = bpf_get_socket_cookie((struct sock *)sk);
	if (bpf_map_update_elem(&vg_lost_socks, &cookie, &t->set_mask, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&vg_lost_socks_n, 1);
	else if (!bpf_map_lookup_elem(&vg_lost_socks, &cookie))
		COUNT(lost_socks_full);
	COUNT(failed_closed);
	kill__current(t, tgid, sk, VIGIL_CLASS_UNKNOWN);
}

/* A TCP socket is about to queue `size` bytes written by the current task
 * (the "send" capability's first half: every implementation calls this);
 * msg is the send's data, NULL where it is kernel pages (sendpage). */
static __always_inline int send__stamp_t(const struct sock *sk, const struct msghdr *msg,
					 __u64 size, __u32 samples, __u32 tgid,
					 struct vigil_taint *t)
{
	struct vigil_flow_key key = {};
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE;
	int served;
	__u8 cls;
	struct vigil_sock_state *st;

	tls__on_send((struct sock *)sk);	/* a TLS write's plaintext, if one is pending */
	st = (cfg_fault & VIGIL_FAULT_SK_STORAGE) ? NULL :
	     bpf_sk_storage_get(&vg_socks, (struct sock *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		sock__lost(t, tgid, sk);
		return 0;
	}
	if (!st->set_mask && !st->tgid) {
		/* first stamp: whatever is queued or acked so far is not tainted */
		struct tcp_sock *tp = bpf_skc_to_tcp_sock((struct sock *)sk);

		if (tp)
			st->acked_base = tp->bytes_acked + (__u32)(tp->write_seq - tp->snd_una);
		__sync_fetch_and_add(&vg_socks_stamped, 1);
	}
	st->tgid = tgid;
	__sync_fetch_and_or(&st->set_mask, t->set_mask);
	if (!(st->flags & VIGIL_SF_DIR_KNOWN))
		/* a socket accepted on a listener was cloned from it and keeps
		 * its backlog; one that connected never listened */
		__sync_fetch_and_or(&st->flags, VIGIL_SF_DIR_KNOWN |
				    (sk->sk_max_ack_backlog ? VIGIL_SF_INBOUND : 0));
	if (enforce && !(st->flags & VIGIL_SF_DROP) && bpf_map_lookup_elem(&vg_blocked, &tgid))
		__sync_fetch_and_or(&st->flags, VIGIL_SF_DROP);
	key_from_sock(&key, sk);
	if (!(st->flags & VIGIL_SF_CHECKED)) {
		__u32 f = VIGIL_SF_CHECKED;

		if (allow__check(&key, exe_bits_of(tgid)))
			f |= VIGIL_SF_ALLOWED;
		__sync_fetch_and_or(&st->flags, f);
	}
	if (st->flags & VIGIL_SF_ALLOWED)
		return 0;
	/* what this send carries, judged before it is queued; a declared
	 * service's answers are work unless they are weights */
	served = (st->flags & VIGIL_SF_INBOUND) ? serve__of(sk->__sk_common.skc_num, tgid) : 0;
	cls = content__sample_send(st, (struct sock *)sk, msg, size, served, samples);
	if (!enforce)
		return 0;
	/* Decide before the data is queued, in the sender's context: a sender
	 * blocked inside one large send() never returns to a hook, and the
	 * drops of its data later run in softirq context where it cannot be
	 * signalled. The kill does not stop this send from queueing its data:
	 * egress drops it and the agent resets the socket (see ARCHITECTURE).
	 * Work is held to its destination's work budget, anything else to the
	 * sets' budgets. */
	if (!(st->flags & VIGIL_SF_BLOCKED)) {
		if ((cfg_fault & VIGIL_FAULT_NO_CHARGE) ||
		    (cls == VIGIL_CLASS_WORK ? !work__would_exceed(&key, size, served)
					     : !budget__would_exceed(st->set_mask, size)))
			return 0;
		__sync_fetch_and_or(&st->flags, VIGIL_SF_BLOCKED);
	}
	kill__current(t, tgid, sk, cls);
	return 0;
}

static __always_inline int send__stamp(const struct sock *sk, const struct msghdr *msg,
				       __u64 size, __u32 samples)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t = taint__lookup_or_pipe(tgid);

	return t ? send__stamp_t(sk, msg, size, samples, tgid, t) : 0;
}

/* TCP state changes (a handful per connection, and only sockets a tainted
 * process wrote to go past the first test): what receivers acknowledged on
 * tainted sockets goes into the budgets' `delivered`, closing sockets too. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(vigil_sock_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	struct vigil_sock_state *st;
	struct tcp_sock *tp;

	if (!vg_socks_stamped || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	st = bpf_sk_storage_get(&vg_socks, (struct sock *)sk, 0, 0);
	if (!st)
		return 0;
	tp = bpf_skc_to_tcp_sock((struct sock *)sk);
	if (tp)
		budget__delivered(st, tp);
	return 0;
}

/* 6.5+: declared weak so that the object still loads on older kernels,
 * where userspace does not load the reaper (caps.c) */
extern int bpf_sock_destroy(struct sock_common *sk) __weak __ksym;

/* Run by the agent (a BPF iterator over the TCP sockets of its network
 * namespace) after a kill, every second while tainted sockets exist, and
 * before it detaches: accounts acknowledged bytes and aborts every socket
 * blocked at the budget, so the data still queued in it (up to a send
 * buffer: the refused send's own bytes) is discarded, never delivered
 * later by a retransmit once nothing drops it any more. */
SEC("?iter/tcp")
int vigil_reap_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct vigil_sock_state *st;
	struct tcp_sock *tp;
	__u64 cookie;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	st = bpf_sk_storage_get(&vg_socks, tp, 0, 0);
	if (st) {
		budget__delivered(st, tp);
		if ((st->flags & VIGIL_SF_BLOCKED) && !(st->flags & VIGIL_SF_RESET) &&
		    cfg_mode == VIGIL_MODE_ENFORCE) {
			__u32 w = st->tgid;
			struct vigil_taint *t = bpf_map_lookup_elem(&vg_taint, &w);

			/* the writer's SIGKILL first (a reset would only hand it
			 * EPIPE); the pass after its kill or exit resets it */
			if (t && !(t->flags & VIGIL_TF_KILLED))
				return 0;
			__sync_fetch_and_or(&st->flags, VIGIL_SF_RESET);
			if (bpf_sock_destroy(skc) == 0)
				COUNT(sockets_reset);
		}
		return 0;
	}
	if (!vg_lost_socks_n)
		return 0;
	cookie = bpf_get_socket_cookie(tp);
	if (!bpf_map_lookup_elem(&vg_lost_socks, &cookie))
		return 0;
	if (bpf_sock_destroy(skc) == 0)
		COUNT(sockets_reset);
	if (bpf_map_delete_elem(&vg_lost_socks, &cookie) == 0)
		__sync_fetch_and_sub(&vg_lost_socks_n, 1);
	return 0;
}

/* A socket accepted `ret` bytes from the current task (the second half). */
static __always_inline int send__done_t(struct sock *sk, int ret, __u32 tgid,
					struct vigil_taint *t)
{
	struct vigil_sock_state *st;

	if (sk->sk_protocol != IPPROTO_TCP && sk->sk_protocol != IPPROTO_UDP &&
	    (sk->__sk_common.skc_family == AF_INET || sk->__sk_common.skc_family == AF_INET6) &&
	    (sk->sk_type == 1 /* SOCK_STREAM: MPTCP and the like, never metered */ ||
	     sk->sk_protocol == 132 /* SCTP of any type: sent from softirq, unmetered */)) {
		/* monitor mode reports what enforce does here (once per
		 * process, by its own flag: KILLED would silence a later
		 * enforcing agent's kill record), so a rollout sees it */
		if (cfg_mode == VIGIL_MODE_ENFORCE) {
			COUNT(failed_closed);
			if (sk->sk_protocol == 262 /* IPPROTO_MPTCP */)
				sock__block_unmetered(sk, tgid, t->set_mask);	/* what it queued */
		} else if (__sync_fetch_and_or(&t->flags, VIGIL_TF_UNMETERED_SEEN) &
			   VIGIL_TF_UNMETERED_SEEN) {
			return 0;
		}
		kill__current_why(t, tgid, sk, NULL, VIGIL_CLASS_UNKNOWN, VIGIL_KILL_UNMETERED);
		return 0;
	}
	if (cfg_mode != VIGIL_MODE_ENFORCE)
		return 0;
	st = bpf_sk_storage_get(&vg_socks, sk, 0, 0);
	if (!st || (st->flags & VIGIL_SF_ALLOWED))
		return 0;
	if (st->flags & VIGIL_SF_BLOCKED)
		kill__current(t, tgid, sk, st->content.class);
	else if ((st->flags & VIGIL_SF_CHECKED) && !(st->flags & VIGIL_SF_WORK))
		budget__commit(st->set_mask, ret);	/* TCP, not allowlisted, not work */
	return 0;
}

static __always_inline int send__done(struct sock *sk, int ret)
{
	__u32 tgid = current_tgid();
	struct vigil_taint *t;

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
	return send__done_t(sk, ret, tgid, t);
}

SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(vigil_tcp_sendmsg, const struct sock *sk, const struct msghdr *msg,
	     const struct sk_buff *skb, int size_goal)
{
	return send__stamp(sk, msg, BPF_CORE_READ(msg, msg_iter.count), 1);	/* per chunk */
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
		kill__current(t, tgid, sk, st->content.class);
	return 0;
}

#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_DSTOPTS 60
#define VIGIL_IP6_EXT_MAX 6

/* Parse destination and payload length from the packet. In cgroup_skb the
 * data starts at the network header. IPv6 extension headers (hop-by-hop,
 * routing, destination options, fragment) are walked, up to 6. Returns
 * false when the packet cannot be understood; the caller then fails closed
 * (enforce) or charges the whole packet (monitor). A transport that is
 * neither TCP nor UDP (raw, ICMP) counts everything after the IP headers. */
static __always_inline bool parse_packet(struct __sk_buff *skb, struct vigil_flow_key *key,
					 __u64 *payload)
{
	__u32 l4off, l4hdr = 0;
	__u8 proto;

	*payload = skb->len;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr iph;

		key->family = AF_INET;
		if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)))
			return false;
		__builtin_memcpy(key->daddr, &iph.daddr, 4);
		proto = iph.protocol;
		l4off = iph.ihl * 4;
		if (l4off < sizeof(iph))
			return false;
		if (iph.frag_off & bpf_htons(0x1fff)) {
			/* a later fragment: no transport header, all payload */
			key->proto = proto;
			*payload = skb->len > l4off ? skb->len - l4off : 0;
			return true;
		}
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		key->family = AF_INET6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		__builtin_memcpy(key->daddr, &ip6.daddr, 16);
		proto = ip6.nexthdr;
		l4off = sizeof(ip6);
		for (int i = 0; i < VIGIL_IP6_EXT_MAX; i++) {
			struct { __u8 next, len; __u16 frag; } ext;

			if (proto != IPPROTO_HOPOPTS && proto != IPPROTO_ROUTING &&
			    proto != IPPROTO_FRAGMENT && proto != IPPROTO_DSTOPTS)
				break;
			if (bpf_skb_load_bytes(skb, l4off, &ext, sizeof(ext)))
				return false;
			if (proto == IPPROTO_FRAGMENT) {
				l4off += 8;
				proto = ext.next;
				if (ext.frag & bpf_htons(0xfff8)) {
					key->proto = proto;
					*payload = skb->len > l4off ? skb->len - l4off : 0;
					return true;
				}
				continue;
			}
			l4off += (ext.len + 1) * 8;
			proto = ext.next;
		}
		if (proto == IPPROTO_HOPOPTS || proto == IPPROTO_ROUTING ||
		    proto == IPPROTO_FRAGMENT || proto == IPPROTO_DSTOPTS)
			return false;	/* more extension headers than we walk */
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
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE, crossed = false, over = false;
	struct vigil_sock_state *st = NULL;
	struct vigil_flow_key key = {};
	__u32 reason = 0;
	int w = 0, dns;
	struct vigil_taint *t;
	__u32 tgid, mask;
	__u64 payload;
	bool ruled = false;	/* the writer is blocked by a rule */
	bool lost = false;	/* a tainted socket we could not keep state for */

	if (proto == IPPROTO_TCP && sk->type != 3 /* SOCK_RAW: a datagram sender's */) {
		st = bpf_sk_storage_get(&vg_socks, sk, 0, 0);
		if (!st && vg_unmetered_n)
			st = sock__of_subflow(sk);	/* an MPTCP socket's subflow */
		if (!st) {
			__u64 cookie;
			__u32 *m;

			m = NULL;
			if (vg_lost_socks_n) {
				cookie = bpf_get_socket_cookie(skb);
				m = bpf_map_lookup_elem(&vg_lost_socks, &cookie);
			}
			if (!m) {
				/* Never written by a tainted process, as a rule. But a
				 * sender killed because its socket could be tracked
				 * nowhere transmits its last send here, in its own
				 * context: that packet is dropped (a packet of another
				 * socket sent from its softirq is only delayed). Where
				 * cgroup_skb may not ask for the current task (6.1:
				 * cfg_skb_current), that last send passes when the
				 * lost-socket table was full too (lost_socks_full). */
				if (!enforce || !cfg_skb_current)
					return 1;
				tgid = current_tgid();
				t = taint_of(tgid);
				if (!t)
					return 1;
				if (!(t->flags & VIGIL_TF_KILLED)) {
					/* a tainted sender's MPTCP data on a subflow
					 * no send hook stamped: never metered, so
					 * blocked (here where no pre-send hook ran).
					 * Only while the MPTCP socket's lock is held,
					 * as the sender's mptcp_sendmsg holds it: not
					 * an untainted socket's subflow transmitting
					 * from a softirq that interrupted this task */
					struct mptcp_sock *msk = mptcp__of(sk);

					if (!msk || !msk->sk.icsk_inet.sk.sk_lock.owned)
						return 1;
					sock__block_unmetered((struct sock *)msk, tgid, t->set_mask);
				}
				COUNT(failed_closed);
				COUNT(packets_dropped);
				return 0;
			}
			lost = true;
			tgid = 0;
			mask = *m;
		} else {
			ruled = enforce && (st->flags & VIGIL_SF_DROP);
			if ((st->flags & VIGIL_SF_ALLOWED) && !ruled)
				return 1;
			tgid = st->tgid;
			mask = st->set_mask;
		}
	} else {
		/* UDP, raw and ICMP leave synchronously from the sender's syscall */
		if (!sender__sync(proto, sk->type))
			return 1;
		tgid = udp__sender(sk);
		t = taint__for_egress(tgid);
		if (!t)
			return 1;
		mask = t->set_mask;
		ruled = enforce && bpf_map_lookup_elem(&vg_blocked, &tgid);
	}
	if (!mask || skb->ifindex == LOOPBACK_IFINDEX)
		return 1;
	key.tgid = tgid;
	if (!parse_packet(skb, &key, &payload)) {
		/* tainted and not understood: no allowlist verdict possible */
		if (enforce) {
			COUNT(failed_closed);
			COUNT(packets_dropped);
			return 0;
		}
		budget__charge(mask, payload, &crossed);
		budget__passed(mask, payload);
		return 1;
	}
	if (lost) {
		if (enforce) {
			COUNT(packets_dropped);
			return 0;	/* counted when it was lost; the agent resets it */
		}
		return 1;
	}

	if (ruled) {
		COUNT(packets_dropped);
		return 0;	/* reported by the rule that blocked it */
	}
	if (st && (st->flags & VIGIL_SF_BLOCKED)) {
		over = true;
	} else {
		/* DNS as DNS: a lookup to the host's resolvers (allowlisted)
		 * passes, a tunnel does not, resolver or not */
		dns = key.proto == IPPROTO_UDP && key.dport == 53 ?
		      dns__judge(skb, tgid, payload) : DNS_NOT_A_QUERY;
		if (dns == DNS_TUNNEL || dns == DNS_TUNNEL_NOW) {
			over = true;
			if (dns == DNS_TUNNEL_NOW)
				reason |= VIGIL_FLOW_DNS_TUNNEL;
		} else if (allow__check(&key, exe_bits_of(tgid))) {
			if (st)
				__sync_fetch_and_or(&st->flags, VIGIL_SF_ALLOWED);
			return 1;
		}
		if (!payload)
			return 1;	/* handshake and pure ACKs */
	}
	if (!over) {
		/* work-class bytes go to the destination's work budget, the rest
		 * (weights, opaque, unknown) to the sets' budgets */
		w = st ? content__charge_tcp(skb, st, &key, payload, sk->src_port)
		       : content__charge_dgram(skb, &key, payload, sk->src_port);
		if (w & WORK_NO_SLOT)
			over = budget__charge(mask, payload, &crossed);
		else
			over = w & WORK_OVER;
	}
	if (w & WORK_CROSSED)
		reason |= VIGIL_FLOW_WORK_BUDGET;

	if (over && enforce) {
		if (!st)
			st = bpf_sk_storage_get(&vg_socks, sk, 0,
						BPF_SK_STORAGE_GET_F_CREATE);
		if (st) {
			st->tgid = tgid;
			__sync_fetch_and_or(&st->set_mask, mask);
			__sync_fetch_and_or(&st->flags, VIGIL_SF_BLOCKED);
		}
		COUNT(packets_dropped);
		flow__account(&key, mask, payload,
			      FA_OVER | FA_DROPPED | (crossed ? FA_CROSSED : 0), reason);
		return 0;
	}
	if (!flow__account(&key, mask, payload,
			   (over ? FA_OVER : 0) | (crossed ? FA_CROSSED : 0), reason) && enforce) {
		/* no flow state for it: not let out unreported */
		if (w & WORK_NO_SLOT)
			budget__refund(mask, payload);
		COUNT(failed_closed);
		COUNT(packets_dropped);
		return 0;
	}
	if (w & WORK_NO_SLOT)
		budget__passed(mask, payload);	/* bytes the sets' budgets hold */
	else if (st)
		__sync_fetch_and_add(&st->work_sent, payload);	/* not theirs: `delivered` */
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
