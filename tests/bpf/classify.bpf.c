// SPDX-License-Identifier: GPL-2.0
/*
 * Test wrapper of bpf/lib/classify.bpf.h and bpf/lib/dns.bpf.h, run with
 * BPF_PROG_TEST_RUN by tests/bpf/test_classify.c: the library code as the
 * egress path runs it, on packets the test builds (IPv4 + TCP/UDP + payload).
 *
 *   ct_content     TCP payload -> sample -> the flow's vigil_content, keyed
 *                  by the TCP source port (one port per test flow)
 *   ct_parse_only  the same packet parse and map lookup without the
 *                  classifier: the baseline of the per-packet cost bench
 *   ct_dns         UDP payload -> dns__parse_query -> ct_dns_out[0]
 *   ct_sendmsg     tp_btf/tcp_sendmsg_locked of the test process only
 *                  (cfg_tgid): the send's data -> the flow of its local port
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define __VIGIL_BPF__
#include "lib/classify.bpf.h"
#include "lib/dns.bpf.h"

struct ct_scratch {
	struct classify_scratch c;
	struct dns_scratch d;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_scratch);
} ct_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct vigil_content);
} ct_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_dns_shape);
} ct_dns_out SEC(".maps");

const volatile __u32 cfg_tgid = 0;

/* Payload offset and length of an IPv4 TCP/UDP packet; port: the source. */
static __always_inline int ct_payload(struct __sk_buff *skb, __u8 proto, __u32 *off,
				      __u32 *len, __u32 *port)
{
	struct iphdr ip;
	__u32 l4;

	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.protocol != proto)
		return -1;
	l4 = ip.ihl * 4;
	if (proto == IPPROTO_TCP) {
		struct tcphdr th;

		if (bpf_skb_load_bytes(skb, l4, &th, sizeof(th)))
			return -1;
		*off = l4 + th.doff * 4;
		*port = bpf_ntohs(th.source);
	} else {
		struct udphdr uh;

		if (bpf_skb_load_bytes(skb, l4, &uh, sizeof(uh)))
			return -1;
		*off = l4 + sizeof(uh);
		*port = bpf_ntohs(uh.source);
	}
	if (*off > skb->len)
		return -1;
	*len = skb->len - *off;
	return 0;
}

static __always_inline struct vigil_content *ct_flow(__u32 port)
{
	struct vigil_content zero = {}, *c;

	c = bpf_map_lookup_elem(&ct_flows, &port);
	if (c)
		return c;
	bpf_map_update_elem(&ct_flows, &port, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&ct_flows, &port);
}

/* What both content programs do before classifying: parse, flow, scratch. */
static __always_inline int ct_prelude(struct __sk_buff *skb, __u32 *off, __u32 *len,
				      struct vigil_content **c, struct ct_scratch **s)
{
	__u32 port, zero = 0;

	if (ct_payload(skb, IPPROTO_TCP, off, len, &port))
		return -1;
	*c = ct_flow(port);
	*s = bpf_map_lookup_elem(&ct_scratch, &zero);
	return *c && *s ? 0 : -1;
}

SEC("cgroup_skb/egress")
int ct_content(struct __sk_buff *skb)
{
	struct vigil_content *c;
	struct ct_scratch *s;
	__u32 off, len, n;

	if (ct_prelude(skb, &off, &len, &c, &s))
		return 1;
	n = classify__load_skb(skb, off, len, s->c.buf);
	if (n)
		classify__update(c, &s->c, n);
	return 1;
}

SEC("cgroup_skb/egress")
int ct_parse_only(struct __sk_buff *skb)
{
	struct vigil_content *c;
	struct ct_scratch *s;
	__u32 off, len;

	if (ct_prelude(skb, &off, &len, &c, &s))
		return 1;
	c->samples++;
	return 1;
}

SEC("cgroup_skb/egress")
int ct_dns(struct __sk_buff *skb)
{
	__u32 off, len, port, zero = 0, n;
	struct vigil_dns_shape *out;
	struct ct_scratch *s;

	out = bpf_map_lookup_elem(&ct_dns_out, &zero);
	s = bpf_map_lookup_elem(&ct_scratch, &zero);
	if (!out || !s)
		return 1;
	__builtin_memset(out, 0, sizeof(*out));
	if (ct_payload(skb, IPPROTO_UDP, &off, &len, &port))
		return 1;
	n = dns__load_skb(skb, off, len, s->d.buf);
	if (n)
		dns__parse_query(&s->d, n, out);
	return 1;
}

SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(ct_sendmsg, struct sock *sk, struct msghdr *msg, struct sk_buff *skb, int size_goal)
{
	__u32 zero = 0, n;
	struct vigil_content *c;
	struct ct_scratch *s;

	if (!cfg_tgid || bpf_get_current_pid_tgid() >> 32 != cfg_tgid)
		return 0;
	c = ct_flow(BPF_CORE_READ(sk, __sk_common.skc_num));
	s = bpf_map_lookup_elem(&ct_scratch, &zero);
	if (!c || !s)
		return 0;
	n = classify__load_msg(msg, s->c.buf);
	if (n)
		classify__update(c, &s->c, n);
	return 0;
}

/* The bench's baseline for ct_sendmsg: the same hook and filter, no sample. */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(ct_sendmsg_noop, struct sock *sk, struct msghdr *msg, struct sk_buff *skb,
	     int size_goal)
{
	struct vigil_content *c;

	if (!cfg_tgid || bpf_get_current_pid_tgid() >> 32 != cfg_tgid)
		return 0;
	c = ct_flow(BPF_CORE_READ(sk, __sk_common.skc_num));
	if (c)
		c->samples++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
