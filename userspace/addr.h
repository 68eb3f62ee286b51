/* SPDX-License-Identifier: GPL-2.0 */
/* Network address rules ("10.0.0.0/8:443", "[2001:db8::]/32:8000-8100"),
 * address formatting and human size parsing ("10MiB"). */
#ifndef VIGIL_ADDR_H
#define VIGIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

struct addr_rule {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];	/* network byte order; IPv4 in the first 4 bytes */
	unsigned prefix_len;
	unsigned short port_lo, port_hi;	/* 0..65535 when no port given */
};

/* Accepts ADDR[/LEN][:PORT[-PORT]] for IPv4, [ADDR][/LEN][:PORTS] or
 * ADDR[/LEN] (no port) for IPv6. 0 or -EINVAL with a message in err. */
int addr__parse_rule(const char *text, struct addr_rule *out, char *err, size_t errlen);

/* addr is a struct in_addr / in6_addr in network order; port is in host
 * order. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 rules. */
bool addr__rule_matches(const struct addr_rule *r, int family, const void *addr,
			unsigned short port);

/* inet_ntop wrapper: 0, -EAFNOSUPPORT or -ENOSPC. */
int addr__format(int family, const void *addr, char *buf, size_t len);

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool addr__is_loopback(int family, const void *addr);

/* "4096", "10K" (1024), "10KB" (1000), "10KiB" (1024), M/G/T likewise,
 * case-insensitive; "10B" is bytes. 0 or -EINVAL / -ERANGE with a message. */
int addr__parse_size(const char *text, unsigned long long *out, char *err, size_t errlen);

#endif
