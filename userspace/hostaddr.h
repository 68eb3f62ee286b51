/* SPDX-License-Identifier: GPL-2.0 */
/* The host's own addresses are local, not egress: single-node distributed
 * training, a job talking to a server on the node's IP, a sidecar on the pod
 * address. Their packets never leave (the kernel routes them over lo), but
 * connect/sendmsg verdicts judge the address: the agent lists the
 * addresses of every interface and adds them to the ruleset as one allow
 * entry, HOSTADDR_ALLOW_NAME, all ports, refreshed as interfaces change.
 * The host's resolvers (resolv.conf nameservers) are in the same entry for
 * port 53 only: a lookup through them is DNS, which the kernel still judges
 * query by query (dns-tunnel), not egress. */
#ifndef VIGIL_HOSTADDR_H
#define VIGIL_HOSTADDR_H

#include <stddef.h>
#include "addr.h"

#define HOSTADDR_MAX 256
/* Not a name a rule file can give an entry (names are words, no parens). */
#define HOSTADDR_ALLOW_NAME "(host addresses)"

struct hostaddrs {
	struct addr_rule a[HOSTADDR_MAX];	/* /32 and /128, ports 0-65535 (resolvers:
						 * 53), sorted */
	size_t n;
};

/* Every address of every interface except loopback, and the nameservers of
 * the resolv.conf set below (port 53); 0 or -errno. */
int hostaddr__list(struct hostaddrs *out);
/* Where the host's nameservers are listed (NULL: none); re-read by every
 * hostaddr__list, so a changed file is followed like an interface. */
void hostaddr__set_resolv_conf(const char *path);
/* What changed, for the log: "+ADDR ... -ADDR ...", cut at len. */
void hostaddr__describe_change(const struct hostaddrs *old, const struct hostaddrs *now,
			       char *buf, size_t len);
/* Same addresses (both sorted)? */
int hostaddr__equal(const struct hostaddrs *a, const struct hostaddrs *b);

#endif
