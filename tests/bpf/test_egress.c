// SPDX-License-Identifier: GPL-2.0
/* BPF unit tests of the cgroup_skb egress verdict with BPF_PROG_TEST_RUN:
 * the kernel runs the real program code on a packet we hand it, against
 * maps we filled, and we read back the verdict, the budget and the
 * counters. No socket, no peer, nothing leaves the host. Needs root. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vigil.h"
#include "egress.skel.h"

#define DEST "10.213.250.9"
#define BUDGET 1000
#define PKT_MAX 2048	/* test runs take up to a page, less headroom */

struct fixture {
	struct egress_bpf *skel;
	int prog_fd;
	int ifindex;		/* a non-loopback device: loopback is never counted */
};

/* Ethernet + IPv4 + UDP to DEST:port with payload bytes of data. */
static size_t udp_packet(unsigned char *buf, const char *daddr, unsigned short port,
			 size_t payload)
{
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	size_t len = sizeof(*ip) + sizeof(*udp) + payload;

	assert_true(sizeof(*eth) + len <= PKT_MAX);
	memset(buf, 0, sizeof(*eth) + len);
	eth->h_proto = htons(ETH_P_IP);
	memset(eth->h_dest, 0x02, ETH_ALEN);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(len);
	ip->saddr = inet_addr("10.213.250.1");
	ip->daddr = inet_addr(daddr);
	udp->source = htons(40000);
	udp->dest = htons(port);
	udp->len = htons(sizeof(*udp) + payload);
	return sizeof(*eth) + len;
}

/* Run the verdict on one packet; returns the program's return value. */
static int run(struct fixture *f, const char *daddr, unsigned short port, size_t payload)
{
	unsigned char pkt[PKT_MAX];
	struct __sk_buff ctx = { .ifindex = f->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));

	opts.data_size_in = udp_packet(pkt, daddr, port, payload);
	assert_int_equal(bpf_prog_test_run_opts(f->prog_fd, &opts), 0);
	return (int)opts.retval;
}

static struct vigil_budget budget_of(struct fixture *f, __u32 set)
{
	struct vigil_budget b = { 0 };

	assert_int_equal(bpf_map__lookup_elem(f->skel->maps.vg_budgets, &set, sizeof(set), &b,
					      sizeof(b), 0), 0);
	return b;
}

static __u64 dropped(struct fixture *f)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vigil_counters per[ncpu];
	__u32 zero = 0;
	__u64 sum = 0;

	assert_int_equal(bpf_map__lookup_elem(f->skel->maps.vg_counters, &zero, sizeof(zero), per,
					      sizeof(per), 0), 0);
	for (int i = 0; i < ncpu; i++)
		sum += per[i].packets_dropped;
	return sum;
}

/* The test process becomes a tainted process of set 0, as a read would. */
static void taint_self(struct fixture *f)
{
	__u32 tgid = getpid();
	struct vigil_taint t = { .set_mask = 1, .via = VIGIL_VIA_READ, .first_file_id = 1 };

	f->skel->bss->vg_tainted_bits[vigil_tgid_word(tgid)] |= vigil_tgid_bit(tgid);
	assert_int_equal(bpf_map__update_elem(f->skel->maps.vg_taint, &tgid, sizeof(tgid), &t,
					      sizeof(t), BPF_ANY), 0);
}

static int some_device(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int idx = 0;

	for (i = ifs; i && i->if_index && !idx; i++)
		if (i->if_index > 1)
			idx = i->if_index;
	if_freenameindex(ifs);
	return idx;
}

static int setup(void **state, bool enforce)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vigil_budget b = { .limit = BUDGET };
	__u32 set = 0;

	if (!f)
		return -1;
	f->skel = egress_bpf__open();
	if (!f->skel)
		return -1;
	f->skel->rodata->cfg_mode = enforce ? VIGIL_MODE_ENFORCE : VIGIL_MODE_MONITOR;
	/* only the program under test: the hooks need not exist to be tested */
	for (struct bpf_program *p = bpf_object__next_program(f->skel->obj, NULL); p;
	     p = bpf_object__next_program(f->skel->obj, p))
		bpf_program__set_autoload(p, p == f->skel->progs.test_egress_udp);
	if (egress_bpf__load(f->skel)) {
		fprintf(stderr, "load failed: %s\n", strerror(errno));
		return -1;
	}
	f->prog_fd = bpf_program__fd(f->skel->progs.test_egress_udp);
	f->ifindex = some_device();
	if (!f->ifindex)
		return -1;
	if (bpf_map__update_elem(f->skel->maps.vg_budgets, &set, sizeof(set), &b, sizeof(b), 0)) {
		fprintf(stderr, "budget failed: %s\n", strerror(errno));
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_monitor(void **state) { return setup(state, false); }
static int setup_enforce(void **state) { return setup(state, true); }

static int teardown(void **state)
{
	struct fixture *f = *state;

	egress_bpf__destroy(f->skel);
	free(f);
	return 0;
}

static void untainted_sender_passes_uncounted(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, DEST, 9000, 500), 1);
	assert_int_equal(budget_of(f, 0).spent, 0);
}

static void allowlisted_destination_passes_uncounted(void **state)
{
	struct fixture *f = *state;
	struct vigil_lpm4_key k = { .prefixlen = 24 };
	struct vigil_allow v = { .nranges = 1, .ranges = { { .lo = 1, .hi = 65535 } } };

	inet_pton(AF_INET, "10.213.250.0", k.addr);
	assert_int_equal(bpf_map__update_elem(f->skel->maps.vg_allow4, &k, sizeof(k), &v,
					      sizeof(v), 0), 0);
	taint_self(f);
	assert_int_equal(run(f, DEST, 9000, 1500), 1);	/* more than the budget */
	assert_int_equal(budget_of(f, 0).spent, 0);
	assert_int_equal(dropped(f), 0);
}

static void tainted_payload_is_charged_to_the_budget(void **state)
{
	struct fixture *f = *state;
	struct vigil_flow_key k = { .tgid = getpid(), .family = AF_INET, .proto = IPPROTO_UDP,
				    .dport = 9000 };
	struct vigil_flow fl;

	taint_self(f);
	assert_int_equal(run(f, DEST, 9000, 300), 1);
	assert_int_equal(run(f, DEST, 9000, 200), 1);
	assert_int_equal(budget_of(f, 0).spent, 500);	/* payload only, no headers */
	inet_pton(AF_INET, DEST, k.daddr);
	assert_int_equal(bpf_map__lookup_elem(f->skel->maps.vg_flows, &k, sizeof(k), &fl,
					      sizeof(fl), 0), 0);
	assert_int_equal(fl.bytes, 500);
	assert_int_equal(fl.blocked_bytes, 0);
}

static void monitor_lets_an_overrun_pass(void **state)
{
	struct fixture *f = *state;

	taint_self(f);
	assert_int_equal(run(f, DEST, 9000, 900), 1);
	assert_int_equal(run(f, DEST, 9000, 900), 1);	/* over, but monitor */
	assert_int_equal(budget_of(f, 0).exceeded, 1);
	assert_int_equal(budget_of(f, 0).spent, 900);	/* what passed stays <= limit */
	assert_int_equal(dropped(f), 0);
}

static void enforce_drops_past_the_budget(void **state)
{
	struct fixture *f = *state;
	struct vigil_budget b;

	taint_self(f);
	assert_int_equal(run(f, DEST, 9000, 900), 1);
	assert_int_equal(run(f, DEST, 9000, 200), 0);	/* would overrun: dropped */
	assert_int_equal(run(f, DEST, 9000, 10), 0);	/* sticky from then on */
	b = budget_of(f, 0);
	assert_int_equal(b.spent, 900);
	assert_int_equal(b.exceeded, 1);
	assert_true(b.blocked >= 200);
	assert_int_equal(dropped(f), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(untainted_sender_passes_uncounted,
						setup_enforce, teardown),
		cmocka_unit_test_setup_teardown(allowlisted_destination_passes_uncounted,
						setup_enforce, teardown),
		cmocka_unit_test_setup_teardown(tainted_payload_is_charged_to_the_budget,
						setup_enforce, teardown),
		cmocka_unit_test_setup_teardown(monitor_lets_an_overrun_pass,
						setup_monitor, teardown),
		cmocka_unit_test_setup_teardown(enforce_drops_past_the_budget,
						setup_enforce, teardown),
	};
	return cmocka_run_group_tests_name("bpf egress", tests, NULL, NULL);
}
