// SPDX-License-Identifier: GPL-2.0
/* The host's own addresses are local: listed from the interfaces, loopback
 * left out, and turned into one allow entry the agent replaces as they
 * change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "hostaddr.h"
#include "rules.h"

static void lists_interface_addresses_without_loopback(void **state)
{
	struct hostaddrs h, again;
	FILE *f;
	char line[512];
	int seen_v4 = 0;

	assert_int_equal(hostaddr__list(&h), 0);
	for (size_t i = 0; i < h.n; i++) {
		assert_false(addr__is_loopback(h.a[i].family, h.a[i].addr));
		assert_int_equal(h.a[i].prefix_len, h.a[i].family == AF_INET ? 32 : 128);
		assert_int_equal(h.a[i].port_lo, 0);
		assert_int_equal(h.a[i].port_hi, 65535);
		if (i)	/* sorted, no duplicates */
			assert_true(h.a[i - 1].family < h.a[i].family ||
				    (h.a[i - 1].family == h.a[i].family &&
				     memcmp(h.a[i - 1].addr, h.a[i].addr, 16) < 0));
	}
	/* every IPv4 address the kernel lists for a non-loopback interface */
	f = fopen("/proc/net/fib_trie", "re");
	if (f) {
		char prev[64] = "";

		while (fgets(line, sizeof(line), f)) {
			struct in_addr ia;

			if (strstr(line, "/32 host LOCAL") && inet_pton(AF_INET, prev, &ia) == 1 &&
			    ((unsigned char *)&ia)[0] != 127) {
				int found = 0;

				for (size_t i = 0; i < h.n; i++)
					found |= h.a[i].family == AF_INET &&
						 !memcmp(h.a[i].addr, &ia, 4);
				assert_true(found);
				seen_v4++;
			}
			sscanf(line, " |-- %63s", prev);
		}
		fclose(f);
	}
	print_message("  %zu host addresses (%d IPv4 checked against fib_trie)\n", h.n, seen_v4);
	assert_int_equal(hostaddr__list(&again), 0);
	assert_true(hostaddr__equal(&h, &again));
	if (again.n && again.a[0].family == AF_INET) {
		char what[256], want[80], a[64];

		again.a[0].addr[3] ^= 1;
		assert_false(hostaddr__equal(&h, &again));
		hostaddr__describe_change(&h, &again, what, sizeof(what));
		assert_int_equal(addr__format(AF_INET, again.a[0].addr, a, sizeof(a)), 0);
		snprintf(want, sizeof(want), "+%s", a);
		assert_non_null(strstr(what, want));
		assert_non_null(strchr(what, '-'));
	}
}

static void the_allow_entry_is_replaced_and_removed(void **state)
{
	struct ruleset rs;
	struct addr_rule a[2];
	char err[256];
	unsigned char mine[4] = { 10, 9, 8, 7 }, other[4] = { 10, 9, 8, 6 };

	rules__init(&rs);
	assert_int_equal(rules__add_cli_allow(&rs, "192.0.2.0/24:443", err, sizeof(err)), 0);
	assert_int_equal(addr__parse_rule("10.9.8.7/32", &a[0], err, sizeof(err)), 0);
	assert_int_equal(addr__parse_rule("10.9.8.6/32", &a[1], err, sizeof(err)), 0);
	assert_int_equal(rules__set_local_allow(&rs, HOSTADDR_ALLOW_NAME, a, 1), 0);
	assert_true(rules__dest_allowed(&rs, AF_INET, mine, 1, 0));
	assert_true(rules__dest_allowed(&rs, AF_INET, mine, 65535, 0));
	assert_false(rules__dest_allowed(&rs, AF_INET, other, 80, 0));
	/* the address moved: the old one is egress again */
	assert_int_equal(rules__set_local_allow(&rs, HOSTADDR_ALLOW_NAME, a + 1, 1), 0);
	assert_false(rules__dest_allowed(&rs, AF_INET, mine, 80, 0));
	assert_true(rules__dest_allowed(&rs, AF_INET, other, 80, 0));
	assert_int_equal(rs.nallows, 2);
	assert_int_equal(rules__set_local_allow(&rs, HOSTADDR_ALLOW_NAME, NULL, 0), 0);
	assert_int_equal(rs.nallows, 1);
	assert_false(rules__dest_allowed(&rs, AF_INET, other, 80, 0));
	rules__free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lists_interface_addresses_without_loopback),
		cmocka_unit_test(the_allow_entry_is_replaced_and_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
