/* SPDX-License-Identifier: GPL-2.0 */
/* Mounts by device: the network filesystem a tainted write went into
 * (bpf/lib/netfs.bpf.h keys it by its superblock's s_dev), named from
 * /proc/self/mountinfo for the alert: type, source, mount point. */
#ifndef VIGIL_MOUNTS_H
#define VIGIL_MOUNTS_H

#include <stddef.h>
#include <stdint.h>

struct mount_name {
	char fstype[32];	/* nfs4, cifs, 9p ... */
	char source[1024];	/* server:/export, //server/share, the 9p tag */
	char point[1024];	/* where it is mounted (the first one listed); whole, for
				 * allow entries' globs (a CSI mount point runs 140+) */
};

/* The mount of kernel dev_t kdev (major << 20 | minor) from the mountinfo
 * file at path (NULL: /proc/self/mountinfo); 0, or -ENOENT if none. */
int mounts__by_dev(const char *path, uint32_t kdev, struct mount_name *out);

/* fn for each mount of the mountinfo file at path (NULL: /proc/self/
 * mountinfo), with its kernel dev_t; a non-zero return stops the walk
 * and is returned. 0, or -errno if the file cannot be read. */
typedef int (*mounts_fn)(uint32_t kdev, const struct mount_name *m, void *ctx);
int mounts__each(const char *path, mounts_fn fn, void *ctx);

/* The word for an enum vigil_netfs value ("nfs", "cifs", "9p"), "netfs" if unknown. */
const char *mounts__netfs_word(unsigned kind);

#endif
