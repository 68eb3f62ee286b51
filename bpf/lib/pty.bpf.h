/* SPDX-License-Identifier: GPL-2.0 */
/* Terminals (ptys). Bytes written to one end of a pty pair are read by
 * whoever holds the other: a job's stdout on /dev/pts/N is read by the
 * holder of the master (sshd, tmux, script, expect), and what the master's
 * holder writes is read on the slave. No tty tracepoint or kprobe is
 * available, so the tainted writer's write is the hook (pty__write, from
 * the write syscall programs), and the reader is found by the fd scan of
 * lib/taint.bpf.h before its next send (pty__take).
 *
 * The mark is keyed by the tty the bytes flow into: writing the slave,
 * tty->link, the master; writing the master, the slave. A reader's own
 * tty (file->private_data (struct tty_file_private *)->tty) is then the
 * key, whichever end it holds.
 *
 * By weights-class bytes, not contact or raw bytes: every job run from an
 * ssh session writes its logs and progress bars to a pty whose master is
 * sshd's, and sshd's traffic is encrypted (opaque, budgeted like weights),
 * so contact would taint the operator's session and in enforce mode kill
 * it. Each tainted write is sampled (lib/classify.bpf.h, one sample of up
 * to VIGIL_SAMPLE_BYTES at a random offset) and its length is added to the
 * mark's weights bytes only if the sample is weights (binary, or an
 * encoding of binary); the reader is tainted once those reach
 * cfg_relay_min_bytes (default 64 KiB), as a loopback relay's receiver. */
#ifndef VIGIL_PTY_BPF_H
#define VIGIL_PTY_BPF_H

#include "lib/common.bpf.h"

#define S_IFCHR 0020000
#define VIGIL_TTYAUX_MAJOR 5		/* /dev/tty (minor 0), /dev/ptmx (minor 2) */
#define VIGIL_PTS_MAJOR 136		/* UNIX98_PTY_SLAVE_MAJOR, 8 majors */
#define VIGIL_PTS_MAJORS 8

/* The tty of a pty file (either end, or /dev/tty naming one), or NULL.
 * Only character devices of the pty majors (and /dev/tty) are read
 * further: their private_data is the tty layer's struct tty_file_private. */
static __always_inline struct tty_struct *pty__of_file(struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct tty_file_private *priv;
	struct tty_struct *tty;
	__u32 rdev, major, minor;

	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFCHR)
		return NULL;
	rdev = BPF_CORE_READ(inode, i_rdev);	/* the kernel's MAJOR << 20 | MINOR */
	major = rdev >> 20;
	minor = rdev & 0xfffff;
	if ((major < VIGIL_PTS_MAJOR || major >= VIGIL_PTS_MAJOR + VIGIL_PTS_MAJORS) &&
	    !(major == VIGIL_TTYAUX_MAJOR && (minor == 0 || minor == 2)))
		return NULL;
	priv = BPF_CORE_READ(f, private_data);
	if (!priv)
		return NULL;
	/* /dev/tty may name a console or serial line: no link, so no mark is
	 * left on or found for it (tty->driver->type would say, but it is a
	 * short of #defines on 6.1 and an enum of other values on 6.18) */
	tty = BPF_CORE_READ(priv, tty);
	return tty;
}

/* A tainted process (tgid, taint t) writes len bytes of class cls (enum
 * vigil_class of a sample of them, mark__judge in bpf/write.bpf.c) to f. false if f is not a
 * pty; else the other end's mark counts them (as weights bytes if cls is
 * weights), and when its weights bytes first reach the threshold the
 * readers are told to look again (vg_pipe_gen). */
static __always_inline bool pty__write(struct file *f, __u64 len, __u8 cls, __u32 tgid,
				       const struct vigil_taint *t)
{
	__u64 min = propagate__min_for(t->set_mask), key, before;
	struct vigil_pty_mark nm = {}, *m;
	struct tty_struct *tty, *peer;

	if (!f || !len)
		return false;
	tty = pty__of_file(f);
	if (!tty)
		return false;
	peer = BPF_CORE_READ(tty, link);
	if (!peer)
		return true;	/* the other end is gone: nobody reads */
	key = (__u64)(unsigned long)peer;
	m = bpf_map_lookup_elem(&vg_ptys, &key);
	if (!m) {
		nm.tgid = tgid;
		nm.set_mask = t->set_mask;
		nm.depth = t->depth;
		nm.file_id = t->first_file_id;
		/* NOEXIST: another writer's thread may have made it first */
		bpf_map_update_elem(&vg_ptys, &key, &nm, BPF_NOEXIST);
		m = bpf_map_lookup_elem(&vg_ptys, &key);
		if (!m) {
			COUNT(pipe_map_full);
			return true;
		}
		if (!vg_ptys_marked)
			vg_ptys_marked = 1;
	}
	__sync_fetch_and_add(&m->bytes, len);
	if (cls != VIGIL_CLASS_WEIGHTS)
		return true;
	/* the last weights writer is the one the reader's chain names */
	m->tgid = tgid;
	m->depth = t->depth;
	m->file_id = t->first_file_id;
	__sync_fetch_and_or(&m->set_mask, t->set_mask);
	before = __sync_fetch_and_add(&m->weights_bytes, len);
	if (before < min && before + len >= min)
		__sync_fetch_and_add(&vg_pipe_gen, 1);	/* readers: look again */
	return true;
}

/* The fd scan of a process about to send (not the writer) found f: if it
 * is a pty whose mark carries at least the threshold of weights bytes,
 * fill the writer's taint (*from_tgid, ...) and return true. */
static __always_inline bool pty__take(struct file *f, __u32 tgid, __u32 *from_tgid,
				      __u32 *set_mask, __u32 *depth, __u32 *file_id,
				      __u64 *bytes)
{
	struct tty_struct *tty = pty__of_file(f);
	__u64 key = (__u64)(unsigned long)tty;
	struct vigil_pty_mark *m;

	if (!tty)
		return false;
	m = bpf_map_lookup_elem(&vg_ptys, &key);
	if (!m || m->tgid == tgid || m->weights_bytes < propagate__min_for(m->set_mask))
		return false;
	*from_tgid = m->tgid;
	*set_mask = m->set_mask;
	*depth = m->depth;
	*file_id = m->file_id;
	*bytes = m->weights_bytes;
	return true;
}

#endif
