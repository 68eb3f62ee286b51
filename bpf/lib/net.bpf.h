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

static __always_inline bool allow__check(__u8 family, const __u8 *addr, __u16 port, __u32 exe)
{
	struct vigil_allow *a;

	if (family == AF_INET) {
		struct vigil_lpm4_key k4 = { .prefixlen = 32 };

		if (addr[0] == 127)
			return true;
		__builtin_memcpy(k4.addr, addr, 4);
		a = bpf_map_lookup_elem(&vg_allow4, &k4);
		return a && allow__ports(a, port, exe);
	}
	if (family == AF_INET6) {
		struct vigil_lpm6_key k6 = { .prefixlen = 128 };
		const __u32 *w = (const __u32 *)addr;

		if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1))
			return true;
		if (w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff)) {
			/* v4-mapped: judge it as the IPv4 address it is */
			struct vigil_lpm4_key k4 = { .prefixlen = 32 };

			if (addr[12] == 127)
				return true;
			__builtin_memcpy(k4.addr, addr + 12, 4);
			a = bpf_map_lookup_elem(&vg_allow4, &k4);
			return a && allow__ports(a, port, exe);
		}
		__builtin_memcpy(k6.addr, addr, 16);
		a = bpf_map_lookup_elem(&vg_allow6, &k6);
		return a && allow__ports(a, port, exe);
	}
	return true;
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

/* Add v to one counter of every limited budget of the sets in mask. */
enum budget_field { BF_BLOCKED, BF_COMMITTED, BF_PASSED, BF_DELIVERED };

static __always_inline void budget__add(__u32 mask, enum budget_field field, __u64 v)
{
	for (__u32 i = 0; i < VIGIL_MAX_SETS; i++) {
		struct vigil_budget *b;

		if (!(mask & (1u << i)))
			continue;
		b = budget__of(i);
		if (!b || !b->limit)
			continue;
		switch (field) {
		case BF_BLOCKED: __sync_fetch_and_add(&b->blocked, v); break;
		case BF_COMMITTED: __sync_fetch_and_add(&b->committed, v); break;
		case BF_PASSED: __sync_fetch_and_add(&b->passed, v); break;
		case BF_DELIVERED: __sync_fetch_and_add(&b->delivered, v); break;
		}
	}
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

/* Charge `payload` bytes of taint `mask` against the budgets. Returns true
 * if the packet must be dropped (a budget is spent). In monitor mode the
 * accounting is identical but nothing is dropped by the caller. A charge
 * that lost its compare-and-swap 16 times drops the packet (TCP sends it
 * again) without spending the budget. */
static __always_inline bool budget__charge(__u32 mask, __u64 payload, bool *crossed)
{
	bool over = false;

	for (__u32 i = 0; i < VIGIL_MAX_SETS; i++) {
		struct vigil_budget *b;
		int r;

		if (!(mask & (1u << i)))
			continue;
		b = budget__of(i);
		if (!b || !b->limit)
			continue;
		if (b->exceeded) {
			over = true;
			continue;
		}
		if (cfg_fault & VIGIL_FAULT_NO_CHARGE)
			continue;
		r = budget__take(b, payload);
		if (r < 0) {
			COUNT(budget_contended);
			over = true;
		} else if (r > 0) {
			if (__sync_val_compare_and_swap(&b->exceeded, 0, 1) == 0)
				*crossed = true;
			over = true;
		}
	}
	if (over)
		budget__add(mask, BF_BLOCKED, payload);
	return over;
}

/* Give back a charge of a packet that was dropped after all; never below
 * zero (a window may have been rolled in between). */
static __always_inline void budget__refund(__u32 mask, __u64 payload)
{
	for (__u32 i = 0; i < VIGIL_MAX_SETS; i++) {
		struct vigil_budget *b;

		if (!(mask & (1u << i)))
			continue;
		b = budget__of(i);
		if (!b || !b->limit)
			continue;
		for (int k = 0; k < 16; k++) {
			__u64 old = b->spent, new = old > payload ? old - payload : 0;

			if (__sync_val_compare_and_swap(&b->spent, old, new) == old)
				break;
		}
	}
}

/* Payload of taint `mask` that egress let through, counted apart from the
 * charge: the agent compares it with the limit (budget_breach). */
static __always_inline void budget__passed(__u32 mask, __u64 payload)
{
	budget__add(mask, BF_PASSED, payload);
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
	budget__add(st->set_mask, BF_DELIVERED, delta);
}

/* Would `size` more bytes of taint `mask` overrun a budget? */
static __always_inline bool budget__would_exceed(__u32 mask, __u64 size)
{
	for (__u32 i = 0; i < VIGIL_MAX_SETS; i++) {
		struct vigil_budget *b;

		if (!(mask & (1u << i)))
			continue;
		b = budget__of(i);
		if (!b || !b->limit)
			continue;
		if (b->exceeded || b->spent + size > b->limit || b->committed + size > b->limit)
			return true;
	}
	return false;
}

/* Enforce: `size` bytes of taint `mask` were queued on a non-allowlisted socket. */
static __always_inline void budget__commit(__u32 mask, __u64 size)
{
	budget__add(mask, BF_COMMITTED, size);
}

/* The flow of key, created on its first packet (*reason gets
 * VIGIL_FLOW_NEW then); NULL when the map is full (counted). */
static __always_inline struct vigil_flow *flow__get(const struct vigil_flow_key *key, __u32 mask,
						    __u32 *reason)
{
	struct vigil_flow *f, nf = {};

	f = bpf_map_lookup_elem(&vg_flows, key);
	if (f)
		return f;
	nf.first_ns = bpf_ktime_get_ns();
	nf.set_mask = mask;
	if (bpf_map_update_elem(&vg_flows, key, &nf, BPF_NOEXIST) == 0)
		*reason |= VIGIL_FLOW_NEW;
	f = bpf_map_lookup_elem(&vg_flows, key);
	if (!f)
		COUNT(flow_map_full);
	return f;
}

/* Account one tainted packet on its flow f (flow__get); emit on state
 * changes only (reason: VIGIL_FLOW_* the caller already knows of).
 * over: a budget is spent for this traffic; dropped: and the packet was
 * dropped (enforce). In monitor mode an over-budget flow is reported once as
 * "would be blocked" while its bytes keep counting as sent. */
static __always_inline void flow__account(const struct vigil_flow_key *key, struct vigil_flow *f,
					  __u32 reason, __u32 mask, __u64 payload, bool over,
					  bool dropped)
{
	__u32 level;

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
	if (reason)
		flow__emit(key, f, reason);
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

/* SIGKILL the current process (enforce), report it once. Only ever called
 * from hooks that run in the context of the tainted sender itself. */
static __always_inline void kill__current(struct vigil_taint *t, __u32 tgid,
					  const struct sock *sk, __u8 content)
{
	struct vigil_ev_kill *e;
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE;

	if (enforce)
		bpf_send_signal(SIGKILL);
	if (t->flags & VIGIL_TF_KILLED)
		return;
	__sync_fetch_and_or(&t->flags, VIGIL_TF_KILLED);
	if (enforce)
		COUNT(kills);
	e = event_reserve(sizeof(*e), VIGIL_EV_KILL, tgid);
	if (!e)
		return;
	__builtin_memset(&e->key, 0, sizeof(e->key));
	e->key.tgid = tgid;
	if (sk)
		key_from_sock(&e->key, sk);
	e->set_mask = t->set_mask;
	e->done = enforce;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	e->content = content;
	e->inbound = sk && BPF_CORE_READ(sk, sk_max_ack_backlog) > 0;
	e->lport = sk ? BPF_CORE_READ(sk, __sk_common.skc_num) : 0;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	bpf_ringbuf_submit(e, 0);
}

#endif
