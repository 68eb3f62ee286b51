/* SPDX-License-Identifier: GPL-2.0 */
/* Network filesystems (NFS, SMB, Ceph, 9p, AFS, Lustre, Coda, OrangeFS):
 * the kernel itself sends what a process writes into one of their files,
 * from writeback or its own RPCs, where no socket hook can name the
 * writer. So a tainted process's write into such a file is egress of the
 * writer, judged at the write syscall before any byte is written: a flow
 * whose destination is the mount (VIGIL_FAMILY_NETFS, the superblock's
 * s_dev; include/vigil.h), classed like other tainted bytes (weights or
 * work, by a sample of the buffer), weights charged to the writer's sets'
 * budgets, work to the mount's work budget, and reported by flow__account
 * on state changes only (new, 64 KiB x 4^n, class, budget). In enforce
 * mode the write that would overrun a budget SIGKILLs the writer before it
 * runs: a page-cache write (NFS, SMB, 9p cache=loose) stops at its first
 * page (generic_perform_write checks fatal_signal_pending per page), and
 * the pages written before were within the budget. FUSE is not here: its
 * daemon sends the bytes (lib/fuse.bpf.h). */
#ifndef VIGIL_NETFS_BPF_H
#define VIGIL_NETFS_BPF_H

#include "lib/net.bpf.h"
#include "lib/content.bpf.h"

/* The filesystem of a superblock's s_magic (enum vigil_netfs), 0: none. */
static __always_inline __u8 netfs__kind(unsigned long magic)
{
	switch (magic) {
	case 0x6969: return VIGIL_NETFS_NFS;
	case 0xFF534D42: return VIGIL_NETFS_CIFS;
	case 0xFE534D42: return VIGIL_NETFS_SMB2;
	case 0x00c36400: return VIGIL_NETFS_CEPH;
	case 0x01021997: return VIGIL_NETFS_9P;
	case 0x5346414F: /* OpenAFS */
	case 0x6B414653: return VIGIL_NETFS_AFS;	/* kAFS */
	case 0x0BD00BD0: return VIGIL_NETFS_LUSTRE;
	case 0x73757245: return VIGIL_NETFS_CODA;
	case 0x20030528: return VIGIL_NETFS_ORANGEFS;
	}
	return 0;
}

/* f's mount as a flow key of the writer tgid; false if f is not on a
 * network filesystem. */
static __always_inline bool netfs__file_key(struct file *f, __u32 tgid, struct vigil_flow_key *key)
{
	struct super_block *sb = BPF_CORE_READ(f, f_inode, i_sb);
	__u32 dev;
	__u8 kind;

	if (!sb)
		return false;
	kind = netfs__kind(BPF_CORE_READ(sb, s_magic));
	if (!kind)
		return false;
	dev = BPF_CORE_READ(sb, s_dev);
	__builtin_memset(key, 0, sizeof(*key));
	key->tgid = tgid;
	key->family = VIGIL_FAMILY_NETFS;
	key->proto = kind;
	__builtin_memcpy(key->daddr, &dev, sizeof(dev));
	return true;
}

/* Charge len bytes (weights: the write sampled weights-class) of taint
 * mask written into the mount of key; 1 if a budget is spent for them (the
 * caller kills the writer in enforce mode). A flow sampled weights once
 * stays weights. Global: verified once. */
__noinline int netfs__charge(const struct vigil_flow_key *key, __u32 mask, __u64 len, int weights)
{
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE, crossed = false;
	struct vigil_flow_key k;
	struct vigil_flow *f;
	__u32 how = 0, reason = 0;
	__u8 cls = weights ? VIGIL_CLASS_WEIGHTS : VIGIL_CLASS_WORK;
	int over = 0, w;

	if (!key)
		return 0;
	k = *key;	/* map keys from the stack (6.1) */
	f = content__flow(&k);
	if (f) {
		if (f->content.class == VIGIL_CLASS_WEIGHTS)
			cls = VIGIL_CLASS_WEIGHTS;
		f->content.class = cls;
		if (cls == VIGIL_CLASS_WEIGHTS)
			f->content.flags |= VIGIL_CF_SEEN_WEIGHTS;
	}
	if (cls == VIGIL_CLASS_WORK) {
		w = work__charge(&k, len, 0);
		if (w & WORK_CROSSED)
			reason |= VIGIL_FLOW_WORK_BUDGET;
		if (!(w & WORK_NO_SLOT)) {
			over = w & WORK_OVER;
			goto account;
		}
	}
	over = budget__charge(mask, len, &crossed);
	if (!over)
		budget__passed(mask, len);
account:
	if (over)
		how |= FA_OVER | (enforce ? FA_DROPPED : 0);
	if (crossed)
		how |= FA_CROSSED;
	flow__account(&k, mask, len, how, reason);
	return over;
}

/* A tainted writer's len bytes into the mount of key (netfs__file_key):
 * charged, the writer killed at the write that overruns (enforce). */
static __always_inline void netfs__write_key(const struct vigil_flow_key *key,
					     struct vigil_taint *t, __u32 tgid, __u64 len,
					     int weights)
{
	if (netfs__charge(key, t->set_mask, len, weights) && cfg_mode == VIGIL_MODE_ENFORCE)
		kill__current_to(t, tgid, NULL, key,
				 weights ? VIGIL_CLASS_WEIGHTS : VIGIL_CLASS_WORK);
}

/* The same for f; false if f is not on a network filesystem. */
static __always_inline bool netfs__write(struct file *f, struct vigil_taint *t, __u32 tgid,
					 __u64 len, int weights)
{
	struct vigil_flow_key key;

	if (!netfs__file_key(f, tgid, &key))
		return false;
	netfs__write_key(&key, t, tgid, len, weights);
	return true;
}

#endif
