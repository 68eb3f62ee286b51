// SPDX-License-Identifier: GPL-2.0
/* Address rules: every accepted form, precise errors, matching, sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "addr.h"

static struct addr_rule ok(const char *text)
{
	struct addr_rule r;
	char err[256] = "";
	int e = addr__parse_rule(text, &r, err, sizeof(err));

	if (e)
		fail_msg("'%s' rejected: %s", text, err);
	return r;
}

/* Rejected, and the message contains want. */
static void bad(const char *text, const char *want)
{
	struct addr_rule r;
	char err[256] = "";

	assert_int_equal(addr__parse_rule(text, &r, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("'%s': message '%s' lacks '%s'", text, err, want);
}

static bool m4(const struct addr_rule *r, const char *ip, unsigned short port)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, ip, &a), 1);
	return addr__rule_matches(r, AF_INET, &a, port);
}

static bool m6(const struct addr_rule *r, const char *ip, unsigned short port)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, ip, &a), 1);
	return addr__rule_matches(r, AF_INET6, &a, port);
}

static void ipv4_forms(void **state)
{
	struct addr_rule r;

	r = ok("10.0.0.0/8");
	assert_int_equal(r.family, AF_INET);
	assert_int_equal(r.prefix_len, 8);
	assert_int_equal(r.addr[0], 10);
	assert_int_equal(r.port_lo, 0);
	assert_int_equal(r.port_hi, 65535);

	r = ok("10.1.2.3");
	assert_int_equal(r.prefix_len, 32);
	assert_memory_equal(r.addr, "\x0a\x01\x02\x03", 4);

	r = ok("10.0.0.0/8:443");
	assert_int_equal(r.port_lo, 443);
	assert_int_equal(r.port_hi, 443);

	r = ok("10.0.0.0/8:8000-8100");
	assert_int_equal(r.port_lo, 8000);
	assert_int_equal(r.port_hi, 8100);

	r = ok("0.0.0.0/0:443");
	assert_int_equal(r.prefix_len, 0);
	assert_int_equal(r.port_lo, 443);

	r = ok("192.168.1.7:22");
	assert_int_equal(r.prefix_len, 32);
	assert_int_equal(r.port_lo, 22);

	r = ok("172.16.0.0/12");
	assert_int_equal(r.prefix_len, 12);
	r = ok("1.2.3.4:0-65535");
	assert_int_equal(r.port_hi, 65535);
}

static void ipv6_forms(void **state)
{
	struct addr_rule r;

	r = ok("[2001:db8::]/32:443");
	assert_int_equal(r.family, AF_INET6);
	assert_int_equal(r.prefix_len, 32);
	assert_int_equal(r.addr[0], 0x20);
	assert_int_equal(r.addr[1], 0x01);
	assert_int_equal(r.port_lo, 443);

	r = ok("[::1]:22");
	assert_int_equal(r.prefix_len, 128);
	assert_int_equal(r.addr[15], 1);
	assert_int_equal(r.port_lo, 22);

	r = ok("2001:db8::/32");
	assert_int_equal(r.prefix_len, 32);
	assert_int_equal(r.port_hi, 65535);

	r = ok("::1");
	assert_int_equal(r.prefix_len, 128);
	assert_int_equal(r.port_lo, 0);

	r = ok("[fe80::]/10");
	assert_int_equal(r.prefix_len, 10);
	r = ok("[2001:db8::1]");
	assert_int_equal(r.prefix_len, 128);
	r = ok("::/0");
	assert_int_equal(r.prefix_len, 0);
}

static void errors(void **state)
{
	bad("", "empty");
	bad("10.0.0.256", "bad IPv4 address");
	bad("10.0.0", "bad IPv4 address");
	bad("hello", "bad IPv4 address");
	bad("2001:db8::g", "bad IPv6 address");
	bad("[10.0.0.1]:22", "only for IPv6");
	bad("[::1", "missing ']'");
	bad("10.0.0.0/33", "too long");
	bad("10.0.0.0/99999999999", "too long");
	bad("[::]/129", "too long");
	bad("10.0.0.0/", "prefix length");
	bad("10.0.0.0/x", "prefix length");
	bad("10.1.2.3/8", "host bits set; did you mean 10.0.0.0/8?");
	bad("10.0.0.1/31", "did you mean 10.0.0.0/31?");
	bad("2001:db8::1/32", "host bits set; did you mean 2001:db8::/32?");
	bad("[2001:db8::1]/32:443", "did you mean [2001:db8::]/32?");
	bad("10.0.0.0/8:65536", "out of range");
	bad("10.0.0.0/8:99999999999999", "out of range");
	bad("10.0.0.0/8:1-70000", "out of range");
	bad("10.0.0.0/8:", "port");
	bad("10.0.0.0/8:-5", "port");
	bad("10.0.0.0/8:9000-8000", "reversed");
	bad("10.0.0.0/8:80x", "trailing garbage");
	bad("10.0.0.0/8 ", "trailing garbage");
	bad("10.0.0.0/8x", "trailing garbage");
	bad("[::1]x", "trailing garbage");
	bad("[::1]:22:33", "trailing garbage");
	bad("2001:db8::/32:443", "brackets");
	bad("[]", "empty address");
	bad("/8", "empty address");
}

static void matching(void **state)
{
	struct addr_rule r = ok("10.0.0.0/8");
	struct addr_rule r20 = ok("192.168.16.0/20:8000-8100");
	struct addr_rule any = ok("0.0.0.0/0:443");
	struct addr_rule v6 = ok("[2001:db8::]/32:443");
	struct addr_rule lo6 = ok("::1");
	struct addr_rule all6 = ok("::/0");

	assert_true(m4(&r, "10.255.1.2", 1));
	assert_false(m4(&r, "11.0.0.1", 1));
	assert_true(m4(&r20, "192.168.31.255", 8000));
	assert_true(m4(&r20, "192.168.16.0", 8100));
	assert_false(m4(&r20, "192.168.32.0", 8050));
	assert_false(m4(&r20, "192.168.20.1", 7999));
	assert_false(m4(&r20, "192.168.20.1", 8101));
	assert_true(m4(&any, "8.8.8.8", 443));
	assert_false(m4(&any, "8.8.8.8", 80));
	assert_true(m6(&v6, "2001:db8:ffff::5", 443));
	assert_false(m6(&v6, "2001:db9::5", 443));
	assert_false(m6(&v6, "2001:db8::5", 444));
	assert_true(m6(&lo6, "::1", 5));
	assert_false(m6(&lo6, "::2", 5));
	assert_true(m6(&all6, "fe80::1", 5));
	/* families don't cross, except IPv4-mapped IPv6 against IPv4 rules */
	assert_false(m6(&r, "::a00:1", 1));
	assert_true(m6(&r, "::ffff:10.1.2.3", 1));
	assert_false(m6(&r, "::ffff:11.1.2.3", 1));
	assert_false(m4(&all6, "10.0.0.1", 1));
}

static void format_and_loopback(void **state)
{
	unsigned char v4[4] = { 192, 0, 2, 1 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	unsigned char lo4[4] = { 127, 9, 9, 9 }, lo6[16] = { [15] = 1 };
	unsigned char m127[16] = { [10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1 };
	unsigned char m10[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };
	char buf[64];

	assert_int_equal(addr__format(AF_INET, v4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(addr__format(AF_INET6, v6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(addr__format(AF_INET, v4, buf, 4), -ENOSPC);
	assert_int_equal(addr__format(AF_UNIX, v4, buf, sizeof(buf)), -EAFNOSUPPORT);

	assert_true(addr__is_loopback(AF_INET, lo4));
	assert_false(addr__is_loopback(AF_INET, v4));
	assert_true(addr__is_loopback(AF_INET6, lo6));
	assert_false(addr__is_loopback(AF_INET6, v6));
	assert_true(addr__is_loopback(AF_INET6, m127));
	assert_false(addr__is_loopback(AF_INET6, m10));
	assert_false(addr__is_loopback(AF_UNIX, lo4));
}

static unsigned long long size_ok(const char *t)
{
	unsigned long long v = 0;
	char err[256] = "";

	if (addr__parse_size(t, &v, err, sizeof(err)))
		fail_msg("'%s' rejected: %s", t, err);
	return v;
}

static void size_bad(const char *t, const char *want)
{
	unsigned long long v = 42;
	char err[256] = "";

	assert_true(addr__parse_size(t, &v, err, sizeof(err)) < 0);
	assert_true(v == 42);
	if (!strstr(err, want))
		fail_msg("'%s': message '%s' lacks '%s'", t, err, want);
}

static void sizes(void **state)
{
	assert_true(size_ok("0") == 0);
	assert_true(size_ok("4096") == 4096);
	assert_true(size_ok("7B") == 7);
	assert_true(size_ok("7b") == 7);
	assert_true(size_ok("1K") == 1024);
	assert_true(size_ok("1k") == 1024);
	assert_true(size_ok("1KB") == 1000);
	assert_true(size_ok("1kb") == 1000);
	assert_true(size_ok("1KiB") == 1024);
	assert_true(size_ok("2M") == 2ULL << 20);
	assert_true(size_ok("2MB") == 2000000ULL);
	assert_true(size_ok("2MiB") == 2ULL << 20);
	assert_true(size_ok("3G") == 3ULL << 30);
	assert_true(size_ok("3gb") == 3000000000ULL);
	assert_true(size_ok("3GiB") == 3ULL << 30);
	assert_true(size_ok("5T") == 5ULL << 40);
	assert_true(size_ok("5TB") == 5000000000000ULL);
	assert_true(size_ok("5tib") == 5ULL << 40);
	assert_true(size_ok("10 MiB") == 10ULL << 20);
	assert_true(size_ok("18446744073709551615") == 18446744073709551615ULL);

	size_bad("", "empty");
	size_bad("-1", "negative");
	size_bad("-1K", "negative");
	size_bad("abc", "number");
	size_bad("K", "number");
	size_bad(" 5", "number");
	size_bad("1.5G", "fractional");
	size_bad("1,5G", "fractional");
	size_bad("10X", "unit");
	size_bad("10KBB", "unit");
	size_bad("10 ", "unit");
	size_bad("10MiBx", "unit");
	size_bad("18446744073709551616", "too large");
	size_bad("16777216T", "too large");
	size_bad("20000000TB", "too large");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_forms),
		cmocka_unit_test(ipv6_forms),
		cmocka_unit_test(errors),
		cmocka_unit_test(matching),
		cmocka_unit_test(format_and_loopback),
		cmocka_unit_test(sizes),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
