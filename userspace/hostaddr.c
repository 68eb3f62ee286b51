// SPDX-License-Identifier: GPL-2.0
/* The host's own addresses (see hostaddr.h). */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "hostaddr.h"

static const char *resolv_conf;

void hostaddr__set_resolv_conf(const char *path)
{
	resolv_conf = path;
}

static int addr_cmp(const void *x, const void *y)
{
	const struct addr_rule *a = x, *b = y;

	if (a->family != b->family)
		return a->family - b->family;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static bool listed(const struct hostaddrs *h, size_t n, const struct addr_rule *r)
{
	for (size_t i = 0; i < n; i++)
		if (!addr_cmp(&h->a[i], r))
			return true;
	return false;
}

/* The nameservers of resolv_conf, port 53, after the interfaces'
 * addresses (a resolver that is one of them is covered already). An
 * unreadable file lists none. */
static void add_resolvers(struct hostaddrs *out)
{
	char line[512], addr[128];
	FILE *f = resolv_conf ? fopen(resolv_conf, "re") : NULL;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && out->n < HOSTADDR_MAX) {
		struct addr_rule r = { .port_lo = 53, .port_hi = 53 };
		char *pct;

		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		pct = strchr(addr, '%');	/* fe80::1%eth0 */
		if (pct)
			*pct = '\0';
		if (inet_pton(AF_INET, addr, r.addr) == 1) {
			r.family = AF_INET;
			r.prefix_len = 32;
		} else if (inet_pton(AF_INET6, addr, r.addr) == 1) {
			r.family = AF_INET6;
			r.prefix_len = 128;
		} else {
			continue;
		}
		if (!addr__is_loopback(r.family, r.addr) && !listed(out, out->n, &r))
			out->a[out->n++] = r;
	}
	fclose(f);
}

int hostaddr__list(struct hostaddrs *out)
{
	struct ifaddrs *ifs, *i;

	out->n = 0;
	if (getifaddrs(&ifs))
		return -errno;
	for (i = ifs; i && out->n < HOSTADDR_MAX; i = i->ifa_next) {
		struct addr_rule r = { .port_lo = 0, .port_hi = 65535 };

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			r.family = AF_INET;
			r.prefix_len = 32;
			memcpy(r.addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			r.family = AF_INET6;
			r.prefix_len = 128;
			memcpy(r.addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		if (addr__is_loopback(r.family, r.addr))
			continue;	/* local already, in the kernel too */
		out->a[out->n++] = r;
	}
	freeifaddrs(ifs);
	qsort(out->a, out->n, sizeof(out->a[0]), addr_cmp);
	/* an address on two interfaces counts once */
	for (size_t k = 1; k < out->n;) {
		if (!addr_cmp(&out->a[k - 1], &out->a[k])) {
			memmove(&out->a[k], &out->a[k + 1], (out->n - k - 1) * sizeof(out->a[0]));
			out->n--;
		} else {
			k++;
		}
	}
	add_resolvers(out);
	qsort(out->a, out->n, sizeof(out->a[0]), addr_cmp);
	return 0;
}

static int contains(const struct hostaddrs *h, const struct addr_rule *r)
{
	return bsearch(r, h->a, h->n, sizeof(h->a[0]), addr_cmp) != NULL;
}

/* "+A +B -C": what changed from old to now, cut at len. */
void hostaddr__describe_change(const struct hostaddrs *old, const struct hostaddrs *now,
			       char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		const struct hostaddrs *from = pass ? old : now, *other = pass ? now : old;

		for (size_t i = 0; i < from->n && used + 2 < len; i++) {
			char a[64];
			int w;

			if (contains(other, &from->a[i]) ||
			    addr__format(from->a[i].family, from->a[i].addr, a, sizeof(a)))
				continue;
			w = snprintf(buf + used, len - used, "%s%c%s", used ? " " : "",
				     pass ? '-' : '+', a);
			if (w < 0 || (size_t)w >= len - used) {
				buf[used] = '\0';
				return;
			}
			used += w;
		}
	}
}

int hostaddr__equal(const struct hostaddrs *a, const struct hostaddrs *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (addr_cmp(&a->a[i], &b->a[i]))
			return 0;
	return 1;
}
