/* SPDX-License-Identifier: GPL-2.0 */
/* The network-filesystem mounts allow entries name (`mount:`, `source:`;
 * docs/RULES.md), by device, from mountinfo: what the kernel's
 * vg_netfs_allow holds, so a tainted job's writes into a site's checkpoint
 * store are not its egress (bpf/lib/netfs.bpf.h). */
#ifndef VIGIL_NETFS_ALLOW_H
#define VIGIL_NETFS_ALLOW_H

#include <stddef.h>
#include <stdint.h>
#include "rules.h"

struct netfs_allow {
	uint32_t kdev;		/* the superblock's s_dev (major << 20 | minor) */
	uint32_t exe_mask;	/* exe-scoped entries' bits (rules__allow_exe_bit); 0: any */
};

/* Is fstype (as mountinfo names it) one whose writes the kernel sends
 * (the filesystems lib/netfs.bpf.h knows)? */
bool netfs_allow__is_netfs(const char *fstype);

/* The network-filesystem mounts of the mountinfo file at path (NULL: the
 * agent's) that rs's allow entries name, one per device, into out (at
 * most max; *more set if there were more). Returns how many, or -errno. */
int netfs_allow__plan(const struct ruleset *rs, const char *path, struct netfs_allow *out,
		      size_t max, bool *more);

#endif
