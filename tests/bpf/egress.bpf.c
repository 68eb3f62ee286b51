// SPDX-License-Identifier: GPL-2.0
/* The real BPF object plus one test entry point: the cgroup_skb egress
 * verdict as vigil_egress runs it, on the socket BPF_PROG_TEST_RUN makes
 * up (which has no protocol: the test says UDP, whose packets are
 * attributed to the sending task, here the test itself). */
#include "vigil.bpf.c"

SEC("cgroup_skb/egress")
int test_egress_udp(struct __sk_buff *skb)
{
	struct bpf_sock *sk = egress__sock(skb);

	return sk ? egress__verdict(skb, sk, IPPROTO_UDP) : 1;
}
