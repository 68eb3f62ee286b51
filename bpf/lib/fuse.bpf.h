/* SPDX-License-Identifier: GPL-2.0 */
/* FUSE: a filesystem whose bytes a daemon (s3fs, rclone mount, sshfs,
 * gcsfuse) receives through /dev/fuse and sends where it likes. A tainted
 * process's write into a FUSE file is a write into that daemon, so it is
 * followed like a write into a pipe: the connection (one per mount; the
 * superblock's fuse_mount and the daemon's /dev/fuse fuse_dev both point
 * at it) carries a vg_pipes mark counted by bytes (lib/write.bpf.h), and
 * the daemon, holding /dev/fuse, is tainted (via fuse) at its next send
 * once the mark carries the threshold of weights bytes. Its egress is then
 * judged like any tainted sender's, with the real destination. */
#ifndef VIGIL_FUSE_BPF_H
#define VIGIL_FUSE_BPF_H

#include "common.bpf.h"

#ifndef S_IFCHR
#define S_IFCHR 0020000
#endif

#define VIGIL_FUSE_MAGIC 0x65735546	/* fuse and fuseblk */
#define VIGIL_FUSE_DEV ((10u << 20) | 229u)	/* /dev/fuse, the kernel's dev_t */
#define VIGIL_PIPE_INO_FUSE (~1ull)	/* a connection's mark (pipes' ino is never this) */

/* fuse is a module on most distribution kernels (Debian's 6.1): its types
 * are not in vmlinux's BTF, so no CO-RE relocation may name them (the
 * whole object would fail to load there). Both structs start with the
 * connection pointer (fuse_mount since 5.10, fuse_dev always): read it raw. */
static __always_inline __u64 fuse__first_ptr(const void *p)
{
	__u64 v = 0;

	if (p)
		bpf_probe_read_kernel(&v, sizeof(v), p);
	return v;
}

/* The writer's side: f is a file on a FUSE mount; its connection's key. */
static __always_inline bool fuse__file_key(struct file *f, struct vigil_pipe_key *key)
{
	struct super_block *sb = BPF_CORE_READ(f, f_inode, i_sb);

	if (!sb || BPF_CORE_READ(sb, s_magic) != VIGIL_FUSE_MAGIC)
		return false;
	key->inode = fuse__first_ptr(BPF_CORE_READ(sb, s_fs_info));	/* fuse_mount->fc */
	key->ino = VIGIL_PIPE_INO_FUSE;
	return key->inode != 0;
}

/* The daemon's side: f is an open /dev/fuse; its connection's key. */
static __always_inline bool fuse__dev_key(struct file *f, struct vigil_pipe_key *key)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);

	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFCHR ||
	    BPF_CORE_READ(inode, i_rdev) != VIGIL_FUSE_DEV)
		return false;
	key->inode = fuse__first_ptr(BPF_CORE_READ(f, private_data));	/* fuse_dev->fc */
	key->ino = VIGIL_PIPE_INO_FUSE;
	return key->inode != 0;	/* 0: opened, not mounted yet */
}

#endif
