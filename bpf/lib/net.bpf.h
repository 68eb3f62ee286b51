/* SPDX-License-Identifier: GPL-2.0 */
/* Egress: allowlist lookups, per-set budgets, per-flow accounting, kills. */
#ifndef VIGIL_NET_BPF_H
#define VIGIL_NET_BPF_H

#include "lib/common.bpf.h"

static __always_inline bool allow__ports(const struct vigil_allow *a, __u16 port, __u32 exe)
{
	for (int i = 0; i < VIGIL_ALLOW_RANGES; i++) {
		if (i >= a->nranges)
			break;
		if (port >= a->ranges[i].lo && port <= a->ranges[i].hi &&
		    (!a->ranges[i].exe_mask || (a->ranges[i].exe_mask & exe)))
			return true;
	}
	return false;
}

/* Loopback or allowlisted: bytes going there are not egress. */
static __always_inline bool is_loopback(__u8 family, const __u8 *addr)
{
	const __u32 *w = (const __u32 *)addr;

	if (family == AF_INET)
		return addr[0] == 127;
	if (family != AF_INET6)
		return false;
	if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1))
		return true;
	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff) && addr[12] == 127;
}

/* Is the key's destination loopback or allowlisted (for a process running
 * the allow entries' executables `exe`)? Global: verified once, not at
 * every caller. */
__noinline int allow__check(const struct vigil_flow_key *key, __u32 exe)
{
	const __u8 *addr;
	const __u32 *w;
	struct vigil_allow *a;
	__u16 port;

	if (!key)
		return 0;
	addr = key->daddr;
	w = (const __u32 *)addr;
	port = key->dport;
	if (key->family == AF_INET) {
		struct vigil_lpm4_key k4 = { .prefixlen = 32 };

		if (addr[0] == 127)
			return 1;
		__builtin_memcpy(k4.addr, addr, 4);
		a = bpf_map_lookup_elem(&vg_allow4, &k4);
		return a && allow__ports(a, port, exe);
	}
	if (key->family == AF_INET6) {
		struct vigil_lpm6_key k6 = { .prefixlen = 128 };

		if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1))
			return 1;
		if (w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff)) {
			/* v4-mapped: judge it as the IPv4 address it is */
			struct vigil_lpm4_key k4 = { .prefixlen = 32 };

			if (addr[12] == 127)
				return 1;
			__builtin_memcpy(k4.addr, addr + 12, 4);
			a = bpf_map_lookup_elem(&vg_allow4, &k4);
			return a && allow__ports(a, port, exe);
		}
		__builtin_memcpy(k6.addr, addr, 16);
		a = bpf_map_lookup_elem(&vg_allow6, &k6);
		return a && allow__ports(a, port, exe);
	}
	return 1;
}

/* Reports at 1 byte, then each time the byte count passes 64 KiB * 4^n. */
static __always_inline __u32 flow__level(__u64 bytes)
{
	__u32 level = 1;

	bytes >>= 16;
	for (int i = 0; i < 24 && bytes; i++) {
		level++;
		bytes >>= 2;
	}
	return level;
}

static __always_inline void flow__emit(const struct vigil_flow_key *key,
				       const struct vigil_flow *f, __u32 reason)
{
	struct vigil_ev_flow *e = event_reserve(sizeof(*e), VIGIL_EV_FLOW, key->tgid);

	if (!e)
		return;
	e->key = *key;
	e->bytes = f->bytes;
	e->blocked_bytes = f->blocked_bytes;
	e->set_mask = f->set_mask;
	e->reason = reason;
	e->content = f->content;
	e->lport = f->lport;
	e->inbound = f->inbound;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	bpf_ringbuf_submit(e, 0);
}

/* Set i's budget. The key is a copy: a loop counter whose address goes to
 * a helper loses its bounds on 6.1's verifier, which then reports the loop
 * over the sets as infinite. */
static __always_inline struct vigil_budget *budget__of(__u32 i)
{
	__u32 key = i;

	return bpf_map_lookup_elem(&vg_budgets, &key);
}

/* Take `payload` bytes from one budget: a compare-and-swap, so `spent`
 * never goes past the limit, not even for an instant (an add given back
 * afterwards made a concurrent packet that would have fit look over, and a
 * window reset between the add and the give-back wrapped `spent`).
 * Returns 0 taken, 1 over, -1 contended (retries ran out). */
static __always_inline int budget__take(struct vigil_budget *b, __u64 payload)
{
	for (int i = 0; i < 16; i++) {
		__u64 old = b->spent;

		if (old + payload > b->limit)
			return 1;
		if (__sync_val_compare_and_swap(&b->spent, old, old + payload) == old)
			return 0;
	}
	return -1;
}

/* What budget__walk does to each limited budget of the sets in a mask. */
enum budget_op {
	BO_CHARGE,	/* take v (BO_OVER: one is spent; BO_CROSSED: this spent it) */
	BO_REFUND,	/* give v back, never below zero (a window may have rolled) */
	BO_WOULD_EXCEED,	/* BO_OVER if v more would overrun one */
	BO_BLOCKED, BO_COMMITTED, BO_PASSED, BO_DELIVERED,	/* add v to that counter */
};
#define BO_OVER 1
#define BO_CROSSED 2

/* Set i's budget has less than the threshold of local propagation left,
 * or none: from now on its local marks taint their readers at once
 * (propagate__min_for), and readers of marks made already look again. */
static __always_inline void budget__mark_low(__u32 i)
{
	__u32 bit = 1u << (i & (VIGIL_MAX_SETS - 1));

	if (vg_budget_low & bit)
		return;
	__sync_fetch_and_or(&vg_budget_low, bit);
	__sync_fetch_and_add(&vg_pipe_gen, 1);
}

static __always_inline int budget__charge_one(struct vigil_budget *b, __u32 i, __u64 payload)
{
	int r;

	if (b->exceeded)
		return BO_OVER;
	if (cfg_fault & VIGIL_FAULT_NO_CHARGE)
		return 0;
	r = budget__take(b, payload);
	if (r < 0) {
		COUNT(budget_contended);
		return BO_OVER;
	}
	if (r > 0) {
		budget__mark_low(i);
		return BO_OVER | (__sync_val_compare_and_swap(&b->exceeded, 0, 1) == 0 ?
				  BO_CROSSED : 0);
	}
	if (b->spent + (cfg_relay_min_bytes ? cfg_relay_min_bytes : 1) >= b->limit)
		budget__mark_low(i);
	return 0;
}

static __always_inline void budget__refund_one(struct vigil_budget *b, __u64 payload)
{
	for (int k = 0; k < 16; k++) {
		__u64 old = b->spent, new = old > payload ? old - payload : 0;

		if (__sync_val_compare_and_swap(&b->spent, old, new) == old)
			break;
	}
}

/* Budget operation `op` on set i's budget, if it is limited. Global, as is
 * the walk over the sets calling it: the verifier checks each once per
 * program instead of once per call site, path and set (inlined, the walks
 * made vigil_egress ~940k instructions of the 1M limit). */
__noinline int budget__op(__u32 i, enum budget_op op, __u64 v)
{
	struct vigil_budget *b = budget__of(i);

	if (!b || !b->limit)
		return 0;
	switch (op) {
	case BO_CHARGE: return budget__charge_one(b, i, v);
	case BO_REFUND: budget__refund_one(b, v); break;
	case BO_WOULD_EXCEED:
		if (b->exceeded || b->spent + v > b->limit || b->committed + v > b->limit) {
			budget__mark_low(i);	/* a send refused: as good as spent */
			return BO_OVER;
		}
		break;
	case BO_BLOCKED: __sync_fetch_and_add(&b->blocked, v); break;
	case BO_COMMITTED: __sync_fetch_and_add(&b->committed, v); break;
	case BO_PASSED: __sync_fetch_and_add(&b->passed, v); break;
	case BO_DELIVERED: __sync_fetch_and_add(&b->delivered, v); break;
	}
	return 0;
}

/* The one walk over the sets of `mask` that every budget operation is: the
 * results of budget__op or'ed (BO_WOULD_EXCEED stops at the first over). */
__noinline int budget__walk(__u32 mask, enum budget_op op, __u64 v)
{
	int ret = 0;

	for (__u32 i = 0; i < VIGIL_MAX_SETS; i++) {
		if (!(mask & (1u << i)))
			continue;
		ret |= budget__op(i, op, v);
		if (op == BO_WOULD_EXCEED && ret)
			break;
	}
	return ret;
}

/* Charge `payload` bytes of taint `mask` against the budgets. Returns true
 * if the packet must be dropped (a budget is spent). In monitor mode the
 * accounting is identical but nothing is dropped by the caller. A charge
 * that lost its compare-and-swap 16 times drops the packet (TCP sends it
 * again) without spending the budget. */
static __always_inline bool budget__charge(__u32 mask, __u64 payload, bool *crossed)
{
	int r = budget__walk(mask, BO_CHARGE, payload);

	if (r & BO_CROSSED)
		*crossed = true;
	if (!(r & BO_OVER))
		return false;
	budget__walk(mask, BO_BLOCKED, payload);
	return true;
}

/* Give back a charge of a packet that was dropped after all. */
static __always_inline void budget__refund(__u32 mask, __u64 payload)
{
	budget__walk(mask, BO_REFUND, payload);
}

/* Payload of taint `mask` that egress let through, counted apart from the
 * charge: the agent compares it with the limit (budget_breach). */
static __always_inline void budget__passed(__u32 mask, __u64 payload)
{
	budget__walk(mask, BO_PASSED, payload);
}

/* TCP bytes the receiver acknowledged on a tainted socket since it was
 * stamped, less those charged as work, added once to each of its sets'
 * `delivered`. A FIN counts one
 * sequence number: taken off once it is acknowledged. */
static __always_inline void budget__delivered(struct vigil_sock_state *st, struct tcp_sock *tp)
{
	__u64 acked, base = st->acked_base, delta, counted;
	struct sock *sk = (struct sock *)tp;

	if (!st->set_mask || (st->flags & VIGIL_SF_ALLOWED))
		return;
	acked = tp->bytes_acked;
	if ((sk->sk_shutdown & 2 /* SEND_SHUTDOWN */) && tp->snd_una == tp->write_seq && acked)
		acked--;
	/* bytes charged to a work budget are not the sets' (retransmits of
	 * them count twice there: this errs towards fewer breach alerts) */
	base += st->work_sent;
	if (acked <= base)
		return;
	counted = st->acked_counted;
	if (acked - base <= counted)
		return;
	delta = acked - base - counted;
	if (__sync_val_compare_and_swap(&st->acked_counted, counted, counted + delta) != counted)
		return;	/* another pass counted it */
	budget__walk(st->set_mask, BO_DELIVERED, delta);
}

/* Would `size` more bytes of taint `mask` overrun a budget? */
static __always_inline bool budget__would_exceed(__u32 mask, __u64 size)
{
	return budget__walk(mask, BO_WOULD_EXCEED, size) & BO_OVER;
}

/* Enforce: `size` bytes of taint `mask` were queued on a non-allowlisted socket. */
static __always_inline void budget__commit(__u32 mask, __u64 size)
{
	budget__walk(mask, BO_COMMITTED, size);
}

/* Account one tainted packet on its flow; emit on state changes only.
 * how: FA_OVER a budget is spent for this traffic, FA_DROPPED and the packet
 * was dropped (enforce), FA_CROSSED this packet spent it. reason: VIGIL_FLOW_*
 * the caller knows of (a work budget crossed, DNS turned tunnel). In monitor
 * mode an over-budget flow is reported once as "would be blocked" while its
 * bytes keep counting as sent. A flow the content step made for this packet
 * (VIGIL_FF_UNREPORTED) is new here. how's FA_CLASS_SHIFT byte: a class
 * to keep on the flow. Returns 0 if the flow has no entry and
 * none could be made (full). Global: verified once. */
#define FA_OVER 1
#define FA_DROPPED 2
#define FA_CROSSED 4
/* how's second byte: the content class of these bytes, kept on the flow
 * (weights stays weights) for callers with no sampling of their own
 * (lib/netfs.bpf.h); 0: the flow's class is the content step's */
#define FA_CLASS_SHIFT 8

__noinline int flow__account(const struct vigil_flow_key *key, __u32 mask, __u64 payload,
			     __u32 how, __u32 reason)
{
	bool over = how & FA_OVER, dropped = how & FA_DROPPED, crossed = how & FA_CROSSED;
	struct vigil_flow *f, nf = {};
	struct vigil_flow_key k;
	__u32 level;

	if (!key)
		return 0;
	k = *key;	/* 6.1 takes map keys from the stack only, not an argument's memory */
	key = &k;
	f = bpf_map_lookup_elem(&vg_flows, key);
	if (!f) {
		nf.first_ns = bpf_ktime_get_ns();
		nf.set_mask = mask;
		if (bpf_map_update_elem(&vg_flows, key, &nf, BPF_NOEXIST) == 0)
			reason |= VIGIL_FLOW_NEW;
		f = bpf_map_lookup_elem(&vg_flows, key);
		if (!f) {
			COUNT(flow_map_full);
			return 0;
		}
	}
	if ((how >> FA_CLASS_SHIFT) & 0xff) {
		__u8 cls = (how >> FA_CLASS_SHIFT) & 0xff;

		if (f->content.class != VIGIL_CLASS_WEIGHTS)
			f->content.class = cls;
		if (cls == VIGIL_CLASS_WEIGHTS)
			f->content.flags |= VIGIL_CF_SEEN_WEIGHTS;
	}
	if (f->flags & VIGIL_FF_UNREPORTED) {
		__sync_fetch_and_and(&f->flags, ~VIGIL_FF_UNREPORTED);
		reason |= VIGIL_FLOW_NEW;
	}
	f->set_mask |= mask;
	f->packets++;
	if (over && !(f->flags & VIGIL_FF_BLOCK_REPORTED)) {
		f->flags |= VIGIL_FF_BLOCK_REPORTED;
		reason |= VIGIL_FLOW_BLOCKED;
	}
	if (f->content.class == VIGIL_CLASS_WEIGHTS && !(f->flags & VIGIL_FF_WEIGHTS_REPORTED)) {
		f->flags |= VIGIL_FF_WEIGHTS_REPORTED;
		if (!(reason & VIGIL_FLOW_NEW))
			reason |= VIGIL_FLOW_CLASS;
	}
	if (dropped) {
		__sync_fetch_and_add(&f->blocked_bytes, payload);
	} else {
		__sync_fetch_and_add(&f->bytes, payload);
		level = flow__level(f->bytes);
		if (level > f->reported_level) {
			f->reported_level = level;
			if (!(reason & VIGIL_FLOW_NEW))
				reason |= VIGIL_FLOW_THRESHOLD;
		}
	}
	if (crossed)
		reason |= VIGIL_FLOW_BUDGET;
	if (reason)
		flow__emit(key, f, reason);
	return 1;
}

static __always_inline void key_from_sock(struct vigil_flow_key *k, const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	k->family = family;
	k->proto = BPF_CORE_READ(sk, sk_protocol);
	k->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(k->daddr, &a, 4);
	} else {
		BPF_CORE_READ_INTO(&k->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

/* SIGKILL the current process (enforce), report it once, with the
 * destination of sk or else of dest (a network filesystem's mount: lib/
 * netfs.bpf.h). Only ever called from hooks that run in the context of the
 * tainted sender itself. */
static __always_inline void kill__current_why(struct vigil_taint *t, __u32 tgid,
					      const struct sock *sk,
					      const struct vigil_flow_key *dest, __u8 content,
					      __u8 why)
{
	struct vigil_ev_kill *e;
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE;

	if (enforce)
		bpf_send_signal(SIGKILL);
	if (enforce) {	/* reported once; monitor's report is the caller's to limit */
		if (t->flags & VIGIL_TF_KILLED)
			return;
		__sync_fetch_and_or(&t->flags, VIGIL_TF_KILLED);
		COUNT(kills);
	}
	e = event_reserve(sizeof(*e), VIGIL_EV_KILL, tgid);
	if (!e)
		return;
	__builtin_memset(&e->key, 0, sizeof(e->key));
	e->key.tgid = tgid;
	if (sk)
		key_from_sock(&e->key, sk);
	else if (dest)
		e->key = *dest;
	e->set_mask = t->set_mask;
	e->done = enforce;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	e->content = content;
	e->inbound = sk && BPF_CORE_READ(sk, sk_max_ack_backlog) > 0;
	e->lport = sk ? BPF_CORE_READ(sk, __sk_common.skc_num) : 0;
	e->why = why;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void kill__current_to(struct vigil_taint *t, __u32 tgid,
					     const struct sock *sk,
					     const struct vigil_flow_key *dest, __u8 content)
{
	kill__current_why(t, tgid, sk, dest, content, VIGIL_KILL_BUDGET);
}

static __always_inline void kill__current(struct vigil_taint *t, __u32 tgid,
					  const struct sock *sk, __u8 content)
{
	kill__current_to(t, tgid, sk, NULL, content);
}

#endif
