/* SPDX-License-Identifier: GPL-2.0 */
/* Content classes on the egress path: sample sends and packets into the
 * socket's or flow's vigil_content (lib/classify.bpf.h), TLS records
 * (opaque unless lib/tls.bpf.h knows the plaintext), the per-destination
 * work budget `work`-class bytes are charged to instead of the set's
 * budget, and DNS queries judged as DNS.
 *
 * The classifier, the work charge and the DNS judgement are global
 * functions: the verifier checks each once, not once per path of its
 * callers (vigil_egress has no headroom for them inline, least on 6.1). */
#ifndef VIGIL_CONTENT_BPF_H
#define VIGIL_CONTENT_BPF_H

#include "lib/common.bpf.h"
#include "lib/tls.bpf.h"

static __always_inline struct vigil_scratch *content__scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vg_scratch, &zero);
}

/* Classify the n bytes the caller loaded into this CPU's scratch buffer
 * into c; returns c's class after it. */
__noinline int content__update(struct vigil_content *c, __u32 n)
{
	struct vigil_scratch *s = content__scratch();

	if (!c || !s)
		return VIGIL_CLASS_UNKNOWN;
	return classify__update(c, &s->c, n);
}

/* Sample a packet's payload [off, off + len) into c; returns c's class. */
__noinline int content__packet(struct __sk_buff *skb, struct vigil_content *c, __u32 off,
			       __u32 len)
{
	struct vigil_scratch *s = content__scratch();
	__u32 n;

	if (!skb || !c || !s)
		return VIGIL_CLASS_UNKNOWN;
	n = classify__load_skb(skb, off, len, s->c.buf);
	if (n)
		classify__update(c, &s->c, n);
	return c->class;
}

/* A TLS record header: content type 20..23, version 3.1..3.4. */
static __always_inline bool content__is_tls(const __u8 *base, __u64 len)
{
	__u8 h[3];

	if (len < 5 || bpf_probe_read_user(h, sizeof(h), base))
		return false;
	return h[0] >= 20 && h[0] <= 23 && h[1] == 3 && h[2] <= 4;
}

/* The handshake of a TLS connection a tainted process opens (ClientHello,
 * ChangeCipherSpec, TLS 1.2 key exchange: records of type 22 or 20 in the
 * connection's first VIGIL_TLS_HANDSHAKE_MAX bytes) carries no plaintext
 * the uprobes could see: it is charged as work (the destination's work
 * budget bounds what could be hidden in it), so a job's new HTTPS
 * connections neither alert as opaque nor spend the set's budget. */
#define VIGIL_TLS_HANDSHAKE_MAX 4096

static __always_inline bool content__tls_handshake(struct sock *sk, const __u8 *base, __u64 size)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u8 type;

	if (!tp || !base || bpf_probe_read_user(&type, 1, base))
		return false;
	return (type == 22 || type == 20) && tp->bytes_sent + size <= VIGIL_TLS_HANDSHAKE_MAX;
}

#define SEND_SAMPLES_MAX 4	/* for hooks that see a send once (fentry, LSM) */
#define SEND_BYTES_PER_SAMPLE (16u << 10)

/* A declared service (vg_serve) answering on an accepted connection from
 * local port lport: the port (its work budget's key), else 0. */
__noinline int serve__of(__u32 lport, __u32 tgid)
{
	struct vigil_serve *v;

	if (!lport)
		return 0;
	v = bpf_map_lookup_elem(&vg_serve, &lport);
	if (!v || (v->exe_mask && !(exe_bits_of(tgid) & v->exe_mask)))
		return 0;
	return lport;
}

/* A declared service's responses are work unless judged weights. */
static __always_inline __u8 serve__class(__u8 cls, int served)
{
	return served && cls != VIGIL_CLASS_WEIGHTS ? VIGIL_CLASS_WORK : cls;
}

/* Before a tainted send to a non-allowlisted destination is queued
 * (tcp_sendmsg_locked and its fallbacks; msg NULL where the send is of
 * kernel pages): sample its data into the socket's content, and return the
 * class its bytes are charged as. The first look at a send takes up to
 * SEND_SAMPLES_MAX samples (one per 16 KiB of it), so one sendall() of
 * weights after hours of answers flips the class before any of it is
 * queued; the tracepoint, which fires again for each further chunk the
 * send queues (~20-64 KiB), takes one sample per chunk (max_samples 1). Each sample is at
 * a random offset. TLS records are `opaque` unless the TLS uprobes saw the
 * plaintext. */
static __always_inline __u8 content__sample_send(struct vigil_sock_state *st, struct sock *sk,
						 const struct msghdr *msg, __u64 size,
						 int served, __u32 max_samples)
{
	struct vigil_scratch *s = content__scratch();
	const __u8 *base = NULL;
	__u64 len = 0;
	__u32 n, k = 0, want = 1 + size / SEND_BYTES_PER_SAMPLE;

	/* the tracepoint's first chunk of a send (nothing of it queued yet)
	 * judges the whole send, as the once-per-send hooks do */
	if (max_samples == 1 && msg && BPF_CORE_READ(msg, msg_iter.iov_offset) == 0)
		max_samples = SEND_SAMPLES_MAX;
	if (want > max_samples)
		want = max_samples;
	/* hide want's bound from the compiler: it would drop the constant
	 * k < SEND_SAMPLES_MAX below, and 6.1's verifier cannot end a loop
	 * bounded by a register alone (lsm/socket_sendmsg: "sequence of 8193
	 * jumps is too complex") */
	barrier_var(want);
	__u8 pc, cls;

	if (cfg_fault & VIGIL_FAULT_NO_CONTENT)
		return VIGIL_CLASS_UNKNOWN;
	if (s && msg && classify__msg_span(msg, &base, &len)) {
		if (!(st->flags & VIGIL_SF_TLS) && st->content.samples == 0 &&
		    content__is_tls(base, len))
			__sync_fetch_and_or(&st->flags, VIGIL_SF_TLS);
		/* ciphertext is not sampled: a TLS socket's class is its
		 * plaintext's (below), and a fold of ciphertext would leave it
		 * `weights` until then. lsm/socket_sendmsg runs before the
		 * socket lock: a packet of this socket sent meanwhile on another
		 * CPU (ACK-clocked) read that (a transient weights-content) */
		if (st->flags & VIGIL_SF_TLS)
			want = 0;
		for (k = 0; k < SEND_SAMPLES_MAX && k < want; k++) {
			n = classify__load_user(base, len, s->c.buf);
			if (!n)
				break;
			content__update(&st->content, n);
		}
	}
	if (k)
		__sync_fetch_and_and(&st->flags, ~VIGIL_SF_UNSAMPLED);
	else if (size >= VIGIL_SAMPLE_MIN)
		__sync_fetch_and_or(&st->flags, VIGIL_SF_UNSAMPLED);
	cls = st->content.class;
	if (st->flags & VIGIL_SF_TLS) {
		tls__on_send(sk);
		pc = tls__plaintext_class(sk);
		if (pc == VIGIL_CLASS_UNKNOWN && content__tls_handshake(sk, base, size))
			pc = VIGIL_CLASS_WORK;
		cls = pc != VIGIL_CLASS_UNKNOWN ? pc : VIGIL_CLASS_OPAQUE;
	}
	/* one store: egress may read the class while this runs (above) */
	cls = serve__class(cls, served);
	st->content.class = cls;
	if (cls == VIGIL_CLASS_WORK)
		__sync_fetch_and_or(&st->flags, VIGIL_SF_WORK);
	else
		__sync_fetch_and_and(&st->flags, ~VIGIL_SF_WORK);
	return cls;
}

/* cgroup_skb: the class this packet's payload (its last `payload` bytes)
 * is charged as. TCP data sampled at send keeps its socket's class; packets
 * of unsampled sends (sendfile, splice) and UDP datagrams are sampled. */
static __always_inline __u8 content__of_packet(struct __sk_buff *skb, struct vigil_sock_state *st,
					       struct vigil_flow *f, __u64 payload, int served)
{
	struct vigil_content *c = st ? &st->content : f ? &f->content : NULL;

	if (!c || payload > skb->len || (cfg_fault & VIGIL_FAULT_NO_CONTENT))
		return serve__class(VIGIL_CLASS_UNKNOWN, served);
	if (st && (st->flags & VIGIL_SF_TLS))
		return c->class;	/* opaque or the plaintext's: set at send */
	if (st && c->samples && !(st->flags & VIGIL_SF_UNSAMPLED))
		return c->class;
	return serve__class(content__packet(skb, c, skb->len - payload, payload), served);
}

/* The work budget of a destination (of a declared service's clients: one
 * per service and client), its window restarted if it ended; *limit gets
 * its limit. */
static __always_inline struct vigil_work_budget *work__get(const struct vigil_flow_key *key,
							   __u32 served, __u64 *limit)
{
	struct vigil_work_budget *w, nw = {};
	struct vigil_work_key wk;
	__u64 now = bpf_ktime_get_ns(), window = cfg_work_window_ns;
	struct vigil_serve *v = served ? bpf_map_lookup_elem(&vg_serve, &served) : NULL;

	*limit = cfg_work_limit;
	if (v) {
		*limit = v->work_limit;
		window = v->window_ns;
	}
	__builtin_memset(&wk, 0, sizeof(wk));
	wk.family = key->family;
	wk.lport = v ? served : 0;
	__builtin_memcpy(wk.daddr, key->daddr, 16);
	nw.window_start_ns = now;
	w = map__lookup_or_init(&vg_work, &wk, &nw);
	if (!w)
		return NULL;
	if (window && now - w->window_start_ns >= window) {
		/* a new window; racing CPUs may both reset it: harmless */
		w->window_start_ns = now;
		w->spent = 0;
		w->exceeded = 0;
	}
	return w;
}

#define WORK_OVER 1	/* drop: the destination's work budget is spent */
#define WORK_CROSSED 2	/* and it was crossed now */
#define WORK_NO_SLOT 4	/* no map slot: charge the sets' budgets (fail closed) */

/* Charge `payload` work-class bytes to the destination's work budget by
 * compare-and-swap (spent never passes the limit): WORK_* bits. */
__noinline int work__charge(const struct vigil_flow_key *key, __u64 payload, __u32 served)
{
	struct vigil_work_budget *w;
	__u64 limit;

	if (!key)
		return 0;
	w = work__get(key, served, &limit);
	if (!limit)
		return 0;
	if (!w)
		return WORK_NO_SLOT;
	if (w->exceeded) {
		__sync_fetch_and_add(&w->blocked, payload);
		return WORK_OVER;
	}
	for (int i = 0; i < 16; i++) {
		__u64 old = w->spent;

		if (old + payload > limit)
			break;
		if (__sync_val_compare_and_swap(&w->spent, old, old + payload) == old)
			return 0;
	}
	__sync_fetch_and_add(&w->blocked, payload);
	if (__sync_val_compare_and_swap(&w->exceeded, 0, 1) == 0)
		return WORK_OVER | WORK_CROSSED;
	return WORK_OVER;
}

/* Would `size` more work-class bytes overrun the destination's budget? */
static __always_inline bool work__would_exceed(const struct vigil_flow_key *key, __u64 size,
						__u32 served)
{
	struct vigil_work_budget *w;
	__u64 limit;

	w = work__get(key, served, &limit);
	return limit && w && (w->exceeded || w->spent + size > limit);
}

/* The flow of k for the content step, made here if new (flagged
 * VIGIL_FF_UNREPORTED: flow__account reports it); NULL when the map is
 * full (flow__account counts it). k must be on the caller's stack (6.1). */
static __always_inline struct vigil_flow *content__flow(const struct vigil_flow_key *k)
{
	struct vigil_flow *f = bpf_map_lookup_elem(&vg_flows, k), nf = {};

	if (f)
		return f;
	nf.first_ns = bpf_ktime_get_ns();
	nf.flags = VIGIL_FF_UNREPORTED;	/* flow__account adds the sets */
	bpf_map_update_elem(&vg_flows, k, &nf, BPF_NOEXIST);
	return bpf_map_lookup_elem(&vg_flows, k);
}

/* A tainted TCP packet (socket state st, payload: its last bytes, sent
 * from local port lport): its class (kept on its flow, with the port and
 * direction, for the flow's records), and for work its charge to the work
 * budget. WORK_* bits; WORK_NO_SLOT when the bytes are not work (or no
 * slot could be had): the caller charges the sets' budgets. */
__noinline int content__charge_tcp(struct __sk_buff *skb, struct vigil_sock_state *st,
				   const struct vigil_flow_key *key, __u32 payload, __u32 lport)
{
	struct vigil_flow_key k;
	struct vigil_flow *f;
	int served;
	__u8 cls;

	if (!skb || !st || !key)
		return WORK_NO_SLOT;
	k = *key;
	served = (st->flags & VIGIL_SF_INBOUND) ? serve__of(lport, st->tgid) : 0;
	cls = content__of_packet(skb, st, NULL, payload, served);
	f = content__flow(&k);
	if (f) {
		f->content = st->content;
		f->content.class = cls;
		if (!f->lport) {
			f->lport = lport;
			f->inbound = !!(st->flags & VIGIL_SF_INBOUND);
		}
	}
	if (cls != VIGIL_CLASS_WORK)
		return WORK_NO_SLOT;
	return work__charge(&k, payload, served);
}

/* The same for a UDP (or raw) datagram, sampled into its flow. */
__noinline int content__charge_dgram(struct __sk_buff *skb, const struct vigil_flow_key *key,
				     __u32 payload, __u32 lport)
{
	struct vigil_flow_key k;
	struct vigil_flow *f;

	if (!skb || !key)
		return WORK_NO_SLOT;
	k = *key;
	f = content__flow(&k);
	if (!f)
		return WORK_NO_SLOT;
	if (!f->lport)
		f->lport = lport;
	if (content__of_packet(skb, NULL, f, payload, 0) != VIGIL_CLASS_WORK)
		return WORK_NO_SLOT;
	return work__charge(&k, payload, 0);
}

#define DNS_LOOKUP 0		/* an ordinary query */
#define DNS_TUNNEL 1		/* this process's queries are a tunnel */
#define DNS_TUNNEL_NOW 2	/* and became one with this query */
#define DNS_NOT_A_QUERY 3

/* A tainted process's UDP datagram to port 53 (payload: its last bytes):
 * judge the query's name, count it in the process's DNS window, say
 * whether its queries are a tunnel. */
__noinline int dns__judge(struct __sk_buff *skb, __u32 tgid, __u32 payload)
{
	struct vigil_dns_count *d, nd = {};
	struct vigil_dns_shape shape;
	struct vigil_scratch *s = content__scratch();
	__u64 now = bpf_ktime_get_ns();
	__u32 n;

	if (!skb || !s || payload > skb->len)
		return DNS_NOT_A_QUERY;
	n = dns__load_skb(skb, skb->len - payload, payload, s->d.buf);
	if (!n || dns__parse_query(&s->d, n, &shape))
		return DNS_NOT_A_QUERY;
	nd.window_start_ns = now;
	d = map__lookup_or_init(&vg_dns, &tgid, &nd);
	if (!d)
		return DNS_TUNNEL;	/* cannot be metered: fail closed */
	if (d->flags & VIGIL_DNSF_TUNNEL)
		return DNS_TUNNEL;
	if (now - d->window_start_ns >= VIGIL_DNS_WINDOW_NS) {
		d->window_start_ns = now;
		d->name_bytes = d->tunnel_bytes = d->queries = 0;
	}
	d->queries++;
	d->name_bytes += shape.name_len;
	if (shape.flags & VIGIL_DNS_TUNNEL)
		d->tunnel_bytes += shape.name_len;
	if (d->tunnel_bytes < VIGIL_DNS_TUNNEL_BYTES && d->name_bytes < VIGIL_DNS_NAME_BYTES)
		return DNS_LOOKUP;
	if (__sync_fetch_and_or(&d->flags, VIGIL_DNSF_TUNNEL) & VIGIL_DNSF_TUNNEL)
		return DNS_TUNNEL;
	return DNS_TUNNEL_NOW;
}

#endif
