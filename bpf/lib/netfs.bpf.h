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
 * on state changes only (new, 64 KiB x 4^n, class, budget). The key lives
 * in a per-CPU slot (vg_netfs_keys), not on the stack. In enforce
 * mode the write that would overrun a budget SIGKILLs the writer before it
 * runs: a page-cache write (NFS, SMB, 9p cache=loose) stops at its first
 * page (generic_perform_write checks fatal_signal_pending per page), and
 * the pages written before were within the budget. Writes into a mount an
 * allow entry names (vg_netfs_allow: a site's checkpoint store) are not
 * egress: nothing is charged or reported. FUSE is not here: its daemon
 * sends the bytes (lib/fuse.bpf.h). */
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

/* The mount of superblock sb as a flow key of the writer tgid, in this
 * CPU's slot of vg_netfs_keys; NULL if sb is no network filesystem's. */
static __always_inline struct vigil_flow_key *netfs__sb_key(struct super_block *sb, __u32 tgid)
{
	__u32 cpu = bpf_get_smp_processor_id(), dev;
	struct vigil_flow_key *key;
	__u8 kind;

	if (!sb || cpu >= VIGIL_NETFS_CPUS)
		return NULL;
	kind = netfs__kind(BPF_CORE_READ(sb, s_magic));
	if (!kind)
		return NULL;
	dev = BPF_CORE_READ(sb, s_dev);
	key = &vg_netfs_keys[cpu];
	__builtin_memset(key, 0, sizeof(*key));
	key->tgid = tgid;
	key->family = VIGIL_FAMILY_NETFS;
	key->proto = kind;
	__builtin_memcpy(key->daddr, &dev, sizeof(dev));
	return key;
}

/* f's mount, likewise; NULL if f is not on a network filesystem. */
static __always_inline struct vigil_flow_key *netfs__file_key(struct file *f, __u32 tgid)
{
	return netfs__sb_key(BPF_CORE_READ(f, f_inode, i_sb), tgid);
}

#define NETFS_ALLOWED -1	/* netfs__charge: the mount is allowlisted */

/* What len bytes (weights: the write sampled weights-class) of taint mask
 * written into the mount of this CPU's key take from the budgets: weights
 * (or any bytes once the flow was weights) from the sets', work from the
 * mount's work budget. Returns flow__account's `how` (FA_*, the class in
 * its FA_CLASS_SHIFT byte) and, from bit 16, its reason; NETFS_ALLOWED
 * (nothing charged) for a mount an allow entry names. Global, with a
 * frame of a few bytes: the write programs' stack is nearly full, so the
 * caller accounts the flow itself. */
__noinline int netfs__charge(__u32 mask, __u64 len, int weights)
{
	bool enforce = cfg_mode == VIGIL_MODE_ENFORCE, crossed = false;
	__u32 cpu = bpf_get_smp_processor_id(), reason = 0;
	__u8 cls = weights ? VIGIL_CLASS_WEIGHTS : VIGIL_CLASS_WORK;
	struct vigil_flow_key *key;
	struct vigil_flow *f;
	int over = 0, w, how;
	__u32 *allowed;

	if (cpu >= VIGIL_NETFS_CPUS)
		return 0;
	key = &vg_netfs_keys[cpu];
	/* a mount an allow entry names (for this writer's executable; the
	 * keys are the slot's own fields: this frame must stay small) */
	allowed = bpf_map_lookup_elem(&vg_netfs_allow, key->daddr);
	if (allowed) {
		__u32 *bits = *allowed && vg_have_exe_allow ?
			      bpf_map_lookup_elem(&vg_exe_bits, &key->tgid) : NULL;

		if (!*allowed || (bits && (*bits & *allowed)))
			return NETFS_ALLOWED;
	}
	f = bpf_map_lookup_elem(&vg_flows, key);
	if (f && f->content.class == VIGIL_CLASS_WEIGHTS)
		cls = VIGIL_CLASS_WEIGHTS;
	if (cls == VIGIL_CLASS_WORK) {
		w = work__charge(key, len, 0);
		if (w & WORK_CROSSED)
			reason |= VIGIL_FLOW_WORK_BUDGET;
		if (!(w & WORK_NO_SLOT)) {
			over = w & WORK_OVER;
			goto done;
		}
	}
	over = budget__charge(mask, len, &crossed);
	if (!over)
		budget__passed(mask, len);
done:
	how = cls << FA_CLASS_SHIFT;
	if (over)
		how |= FA_OVER | (enforce ? FA_DROPPED : 0);
	if (crossed)
		how |= FA_CROSSED;
	return how | reason << 16;
}

/* A tainted writer's len bytes into the mount of key (netfs__file_key):
 * charged and accounted on its flow, the writer killed at the write that
 * overruns a budget (enforce). */
static __always_inline void netfs__write_key(struct vigil_flow_key *key, struct vigil_taint *t,
					     __u32 tgid, __u64 len, int weights)
{
	int r = netfs__charge(t->set_mask, len, weights);

	if (r == NETFS_ALLOWED)
		return;
	flow__account(key, t->set_mask, len, r & 0xffff, (__u32)r >> 16);
	if ((r & FA_OVER) && cfg_mode == VIGIL_MODE_ENFORCE)
		kill__current_to(t, tgid, NULL, key, (r >> FA_CLASS_SHIFT) & 0xff);
}

/* struct folio's order before 6.6 (_folio_order) and since (_flags_1's
 * low byte); either is valid only on a large folio (PG_head) */
struct folio___v61 {
	unsigned char _folio_order;
} __attribute__((preserve_access_index));
struct folio___v66 {
	unsigned long _flags_1;
} __attribute__((preserve_access_index));

static __always_inline __u64 folio__bytes(struct folio *folio)
{
	unsigned long flags = 0;
	__u32 order = 0;

	/* page flags first in every kernel's folio; its type is not
	 * (unsigned long, memdesc_flags_t since 6.17): no CO-RE field */
	bpf_probe_read_kernel(&flags, sizeof(flags), folio);
	if (flags & (1ul << bpf_core_enum_value(enum pageflags, PG_head))) {
		/* _folio_order first: 6.1 has a _flags_1 too (the tail page's
		 * flags, no order in it) */
		if (bpf_core_field_exists(((struct folio___v61 *)folio)->_folio_order))
			order = BPF_CORE_READ((struct folio___v61 *)folio, _folio_order);
		else if (bpf_core_field_exists(((struct folio___v66 *)folio)->_flags_1))
			order = BPF_CORE_READ((struct folio___v66 *)folio, _flags_1) & 0xff;
	}
	return 4096ull << (order > 18 ? 18 : order);
}

/* The same for f; false if f is not on a network filesystem. */
static __always_inline bool netfs__write(struct file *f, struct vigil_taint *t, __u32 tgid,
					 __u64 len, int weights)
{
	struct vigil_flow_key *key = netfs__file_key(f, tgid);

	if (!key)
		return false;
	netfs__write_key(key, t, tgid, len, weights);
	return true;
}

#endif
