/* SPDX-License-Identifier: GPL-2.0 */
/* TLS plaintext: the class of what a process handed to SSL_write (and its
 * kin) before encryption, as the uprobes in bpf/tls.bpf.c saw it, for the
 * socket that carries the records. The egress path asks this when a flow's
 * bytes are TLS records: a known plaintext class replaces `opaque`.
 *
 * Contract between the egress path (owner: content classes) and the TLS
 * uprobes (owner: this file):
 *   tls__on_send(sk)          called on every sampled tainted send, in the
 *                             sending task's context, before the class is
 *                             decided; binds the task's pending plaintext
 *                             verdict to sk.
 *   tls__plaintext_class(sk)  VIGIL_CLASS_UNKNOWN when no plaintext was
 *                             seen for sk (the flow is then `opaque`), else
 *                             VIGIL_CLASS_WORK or VIGIL_CLASS_WEIGHTS.
 *
 * How a verdict finds its socket: a TLS library encrypts a write and sends
 * the records on the same thread, inside the same call (OpenSSL, GnuTLS
 * and Go with a socket BIO; asyncio's memory BIO sends right after, on the
 * event loop's thread). So the uprobe leaves its sample on the thread
 * (vg_tls_pending) and the thread's next tainted TCP send takes it to that
 * socket (vg_tls_socks): many TLS connections in one process each get
 * their own plaintext. Only tainted processes pay for more than one bit
 * test. What this cannot see: docs/ARCHITECTURE.md, "TLS plaintext". */
#ifndef VIGIL_TLS_BPF_H
#define VIGIL_TLS_BPF_H

#include "lib/common.bpf.h"
#include "lib/net.bpf.h"

/* A uprobe on a TLS write: sample the plaintext buffer [buf, buf + len) of
 * a tainted process (one sample per call, at a random offset of a long
 * write) and leave the verdict on the thread. */
static __always_inline int tls__sample(const __u8 *buf, __u64 len, __u8 lib)
{
	__u32 zero = 0, n = VIGIL_SAMPLE_BYTES;
	struct classify_scratch *x;
	struct tls_pending *p;
	__u64 off = 0;
	__u8 cls;

	if (!maybe_tainted(current_tgid()) || len < VIGIL_SAMPLE_MIN || len > (1ull << 40))
		return 0;
	x = bpf_map_lookup_elem(&vg_tls_scratch, &zero);
	if (!x)
		return 0;
	if (len > VIGIL_SAMPLE_BYTES)
		off = bpf_get_prandom_u32() % (len - VIGIL_SAMPLE_BYTES + 1);
	else
		n = len;
	/* the compiler would bound `len` instead, which the verifier cannot
	 * follow into the helper's size: keep n a register of its own */
	asm volatile("" : "+r"(n));
	n &= 2 * VIGIL_SAMPLE_BYTES - 1;	/* bounds the verifier keeps */
	if (n < 1 || n > VIGIL_SAMPLE_BYTES)
		return 0;
	if (bpf_probe_read_user(x->buf, n, buf + off))
		return 0;
	__builtin_memset(&x->s, 0, sizeof(x->s));
	x->s.n = n;
	cls = classify__sample(x);
	p = bpf_task_storage_get(&vg_tls_pending, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		__sync_fetch_and_add(&vg_tls_nostorage, 1);
		return 0;
	}
	p->s = x->s;
	p->bytes = len;
	p->cls = cls;
	p->lib = lib;
	__sync_fetch_and_add(&vg_tls_sampled, 1);
	return 0;
}

/* Called by the send path, in the sender's context, for a tainted TCP
 * send: the thread's pending plaintext sample joins sk's statistics, and
 * the flow's summary for the agent. */
static __always_inline void tls__on_send(struct sock *sk)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vigil_tls_flow *f, nf = {};
	struct vigil_flow_key key = {};
	struct tls_pending *p;
	struct tls_sock *ts;

	p = bpf_task_storage_get(&vg_tls_pending, task, 0, 0);
	if (!p || !p->s.n)
		return;
	ts = bpf_sk_storage_get(&vg_tls_socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!ts) {
		__sync_fetch_and_add(&vg_tls_nostorage, 1);
		p->s.n = 0;
		return;
	}
	classify__fold(&ts->c, &p->s, p->cls);
	ts->bytes += p->bytes;
	ts->lib = p->lib;
	p->s.n = 0;
	__sync_fetch_and_add(&vg_tls_bound, 1);

	key.tgid = current_tgid();
	key_from_sock(&key, sk);
	f = bpf_map_lookup_elem(&vg_tls_flows, &key);
	if (!f) {
		bpf_map_update_elem(&vg_tls_flows, &key, &nf, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&vg_tls_flows, &key);
		if (!f)
			return;
	}
	f->plaintext_bytes = ts->bytes;
	f->samples = ts->c.samples;
	f->class = ts->c.class;
	f->lib = ts->lib;
	f->flags = ts->c.flags;
}

/* Are the current process's TLS writes seen? The agent attaches the
 * uprobes per tainted process, from a worker thread, after the taint: until
 * it wrote this taint's since_ns into vg_tls_watched, the process's writes
 * may pass unsampled. A fork child shares its parent's sockets, and their
 * statistics: its unseen writes must not ride on the parent's `work`.
 * A global function: the verifier checks it once, not in every send path. */
__noinline int tls__watched(__u32 tgid)
{
	struct vigil_taint *t;
	__u64 *w;

	w = bpf_map_lookup_elem(&vg_tls_watched, &tgid);
	if (!w)
		return false;
	t = bpf_map_lookup_elem(&vg_taint, &tgid);
	return t && t->since_ns == *w;
}

/* The class of sk's plaintext, for a send by the current (tainted)
 * process: UNKNOWN when none was seen, or when this process's writes are
 * not watched (the flow is then `opaque`: fail closed), else WORK or
 * WEIGHTS. */
static __always_inline __u8 tls__plaintext_class(struct sock *sk)
{
	struct tls_sock *ts = bpf_sk_storage_get(&vg_tls_socks, sk, 0, 0);

	if (!ts || !tls__watched(current_tgid()))
		return VIGIL_CLASS_UNKNOWN;
	return ts->c.class;
}

#endif
