// SPDX-License-Identifier: GPL-2.0
/* Address rule parsing and matching. Parsing is strict and explains itself:
 * a typo in an allowlist silently widening or narrowing it is worse than a
 * refusal to start. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "addr.h"

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Decimal digits only (no sign, no spaces); *end points after them.
 * Returns -1 for no digits, -2 for a value above max. */
static long parse_num(const char *s, const char **end, unsigned long max)
{
	unsigned long v = 0;
	const char *p = s;

	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max) {
			while (*p >= '0' && *p <= '9')
				p++;
			*end = p;
			return -2;
		}
		p++;
	}
	*end = p;
	return p == s ? -1 : (long)v;
}

/* "N" or "N-M" filling lo/hi; the whole string must be consumed. */
static int parse_ports(const char *s, struct addr_rule *out, char *err, size_t errlen)
{
	const char *e;
	long lo, hi;

	lo = parse_num(s, &e, 65535);
	if (lo == -1)
		return fail(err, errlen, "missing or bad port in ':%s'", s);
	if (lo == -2)
		return fail(err, errlen, "port in ':%s' out of range (0-65535)", s);
	hi = lo;
	if (*e == '-') {
		const char *s2 = e + 1;

		hi = parse_num(s2, &e, 65535);
		if (hi == -1)
			return fail(err, errlen, "missing or bad upper port in ':%s'", s);
		if (hi == -2)
			return fail(err, errlen, "port in ':%s' out of range (0-65535)", s);
	}
	if (*e)
		return fail(err, errlen, "trailing garbage '%s' after port", e);
	if (lo > hi)
		return fail(err, errlen, "port range '%s' is reversed (low > high)", s);
	out->port_lo = (unsigned short)lo;
	out->port_hi = (unsigned short)hi;
	return 0;
}

static void mask_addr(unsigned char *a, unsigned prefix_len, size_t nbytes)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned bits = prefix_len > i * 8 ? prefix_len - (unsigned)i * 8 : 0;

		if (bits < 8)
			a[i] &= (unsigned char)(0xff00u >> bits);
	}
}

int addr__parse_rule(const char *text, struct addr_rule *out, char *err, size_t errlen)
{
	char abuf[INET6_ADDRSTRLEN + 8], net[INET6_ADDRSTRLEN];
	const char *a, *ae, *p;
	unsigned char masked[16];
	struct addr_rule r = { .port_hi = 65535 };
	unsigned maxlen;
	size_t ncolons = 0;

	if (!text || !*text)
		return fail(err, errlen, "empty address");
	for (p = text; *p; p++)
		ncolons += *p == ':';

	if (text[0] == '[') {	/* [v6][/len][:ports] */
		a = text + 1;
		ae = strchr(a, ']');
		if (!ae)
			return fail(err, errlen, "missing ']' in '%s'", text);
		p = ae + 1;
		r.family = AF_INET6;
	} else if (ncolons >= 2) {	/* bare v6: a port would be ambiguous */
		a = text;
		ae = a + strcspn(a, "/");
		p = ae;
		r.family = AF_INET6;
	} else {		/* v4[/len][:ports] */
		a = text;
		ae = a + strcspn(a, "/:");
		p = ae;
		r.family = AF_INET;
	}
	if (ae == a)
		return fail(err, errlen, "empty address in '%s'", text);
	if ((size_t)(ae - a) >= sizeof(abuf))
		return fail(err, errlen, "bad address in '%s'", text);
	memcpy(abuf, a, (size_t)(ae - a));
	abuf[ae - a] = '\0';
	if (inet_pton(r.family, abuf, r.addr) != 1) {
		if (r.family == AF_INET6 && text[0] == '[' && inet_pton(AF_INET, abuf, r.addr) == 1)
			return fail(err, errlen, "brackets are only for IPv6 addresses: '%s'", text);
		return fail(err, errlen, r.family == AF_INET ? "bad IPv4 address '%s'"
							       : "bad IPv6 address '%s'", abuf);
	}

	maxlen = r.family == AF_INET ? 32 : 128;
	r.prefix_len = maxlen;
	if (*p == '/') {
		const char *e;
		long n = parse_num(p + 1, &e, 1000);

		if (n == -1)
			return fail(err, errlen, "missing or bad prefix length in '%s'", text);
		if (n < 0 || (unsigned long)n > maxlen) {
			return fail(err, errlen, "prefix length /%.*s too long (max %u for %s)",
				    (int)(e - p - 1), p + 1, maxlen,
				    r.family == AF_INET ? "IPv4" : "IPv6");
		}
		r.prefix_len = (unsigned)n;
		p = e;
	}

	/* A CIDR with host bits set is almost always a typo for its network. */
	memcpy(masked, r.addr, sizeof(masked));
	mask_addr(masked, r.prefix_len, maxlen / 8);
	if (memcmp(masked, r.addr, maxlen / 8)) {
		inet_ntop(r.family, masked, net, sizeof(net));
		return fail(err, errlen, "host bits set; did you mean %s%s%s/%u?",
			    text[0] == '[' ? "[" : "", net, text[0] == '[' ? "]" : "", r.prefix_len);
	}

	if (*p == ':') {
		int e;

		if (r.family == AF_INET6 && text[0] != '[')
			return fail(err, errlen, "IPv6 with a port needs brackets: '[addr]/len:port'");
		if ((e = parse_ports(p + 1, &r, err, errlen)))
			return e;
	} else if (*p) {
		return fail(err, errlen, "trailing garbage '%s' after address", p);
	}
	*out = r;
	return 0;
}

bool addr__rule_matches(const struct addr_rule *r, int family, const void *addr,
			unsigned short port)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *a = addr;
	unsigned full, rem;

	if (!r || !addr || port < r->port_lo || port > r->port_hi)
		return false;
	/* Dual-stack sockets show IPv4 peers as ::ffff:a.b.c.d. */
	if (family == AF_INET6 && r->family == AF_INET && !memcmp(a, v4mapped, 12)) {
		a += 12;
		family = AF_INET;
	}
	if (family != r->family)
		return false;
	full = r->prefix_len / 8;
	rem = r->prefix_len % 8;
	if (memcmp(a, r->addr, full))
		return false;
	if (rem) {
		unsigned char m = (unsigned char)(0xff00u >> rem);

		if ((a[full] & m) != (r->addr[full] & m))
			return false;
	}
	return true;
}

int addr__format(int family, const void *addr, char *buf, size_t len)
{
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!addr || !buf || len > (size_t)INT_MAX)
		return -EINVAL;
	if (!inet_ntop(family, addr, buf, (socklen_t)len)) {
		if (len)
			buf[0] = '\0';
		return -errno;
	}
	return 0;
}

bool addr__is_loopback(int family, const void *addr)
{
	static const unsigned char one[16] = { [15] = 1 };
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *a = addr;

	if (!addr)
		return false;
	if (family == AF_INET)
		return a[0] == 127;
	if (family == AF_INET6)
		return !memcmp(a, one, 16) || (!memcmp(a, v4mapped, 12) && a[12] == 127);
	return false;
}

int addr__parse_size(const char *text, unsigned long long *out, char *err, size_t errlen)
{
	static const struct {
		const char *suffix;
		unsigned long long mult;
	} units[] = {
		{ "", 1ULL }, { "b", 1ULL },
		{ "k", 1ULL << 10 }, { "kib", 1ULL << 10 }, { "kb", 1000ULL },
		{ "m", 1ULL << 20 }, { "mib", 1ULL << 20 }, { "mb", 1000000ULL },
		{ "g", 1ULL << 30 }, { "gib", 1ULL << 30 }, { "gb", 1000000000ULL },
		{ "t", 1ULL << 40 }, { "tib", 1ULL << 40 }, { "tb", 1000000000000ULL },
	};
	unsigned long long v = 0;
	const char *p = text;

	if (!text || !*text)
		return fail(err, errlen, "empty size");
	if (*p == '-')
		return fail(err, errlen, "negative size '%s'", text);
	if (!isdigit((unsigned char)*p))
		return fail(err, errlen, "size '%s' must start with a number", text);
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (ULLONG_MAX - d) / 10) {
			fail(err, errlen, "size '%s' is too large", text);
			return -ERANGE;
		}
		v = v * 10 + d;
	}
	if (*p == '.' || *p == ',')
		return fail(err, errlen, "fractional size '%s' is not supported; use a smaller unit", text);
	while (*p == ' ')	/* "10 MiB" reads naturally */
		p++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(p, units[i].suffix))
			continue;
		if (p > text && p[-1] == ' ' && !*p)
			break;	/* trailing spaces only: garbage */
		if (v && units[i].mult > ULLONG_MAX / v) {
			fail(err, errlen, "size '%s' is too large", text);
			return -ERANGE;
		}
		*out = v * units[i].mult;
		return 0;
	}
	return fail(err, errlen, "bad size unit in '%s' (use K, KB, KiB, M, MB, MiB, G, GB, GiB, T, TB or TiB)",
		    text);
}
