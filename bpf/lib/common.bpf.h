/* SPDX-License-Identifier: GPL-2.0 */
/* Includes, configuration knobs, every map, and counters: the one home of
 * kernel-side state. Only bpf/vigil.bpf.c includes this (see there why). */
#ifndef VIGIL_COMMON_BPF_H
#define VIGIL_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define __VIGIL_BPF__
#include "vigil.h"
#include "lib/classify.bpf.h"
#include "lib/dns.bpf.h"

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define SIGKILL 9
#define PAGE_SHIFT 12
#define S_IFMT 00170000
#define S_IFIFO 0010000
#define S_IFREG 0100000
#define S_IFCHR 0020000
#define S_IFBLK 0060000
#define S_IFSOCK 0140000
#define MAP_ANONYMOUS 0x20
#define LOOPBACK_IFINDEX 1
#define VIGIL_FMODE_READ 0x1
#define VIGIL_FMODE_WRITE 0x2

/* s starts with the n bytes of p */
static __always_inline bool starts(const char *s, const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != p[i])
			return false;
	return true;
}

/* Set by userspace between open and load. */
const volatile __u32 cfg_mode = VIGIL_MODE_MONITOR;
const volatile __u32 cfg_scoped = 0;	   /* 1: only tasks under vg_scope[0] */
const volatile __u32 cfg_agent_tgid = 0;   /* never taint the agent itself */
const volatile __u32 cfg_fault = 0;	   /* VIGIL_FAULT_*: tests only */
const volatile __u32 cfg_skb_current = 1;  /* cgroup_skb may ask for current (lib/sender.bpf.h) */
/* enforce: refuse a tainted process's connect/sendto to a new destination
 * (--deny-new-destinations); by default it connects and what it sends is
 * judged (content class, budgets) */
const volatile __u32 cfg_deny_new_dest = 0;
/* tainted bytes a local relay connection must carry before its receiver is
 * tainted (lib/relay.bpf.h); 0 is taken as 1 */
const volatile __u64 cfg_relay_min_bytes = VIGIL_RELAY_MIN_BYTES;
/* work budget per destination and window (0: unlimited) */
const volatile __u64 cfg_work_limit = VIGIL_WORK_LIMIT_DEFAULT;
const volatile __u64 cfg_work_window_ns = VIGIL_WORK_WINDOW_DEFAULT_S * 1000000000ull;
/* the pin directory, no trailing slash ("": not pinned): BPF_OBJ_GET under
 * it by another process is a tamper attempt (tamper.bpf.c) */
const volatile char cfg_pin_dir[VIGIL_PIN_DIR_LEN] = {};
/* the agent's executable (tamper.bpf.c: trusted by the LSM prevention) */
const volatile __u64 cfg_agent_exe_ino = 0;
const volatile __u32 cfg_agent_exe_dev = 0;	/* the kernel's dev_t */

/* Bumped whenever a pipe gets marked: untainted senders re-scan their fds
 * for marked pipes only when it changed since their last scan. */
__u64 vg_pipe_gen = 0;
/* Sets whose budget has less than the threshold of local propagation left
 * (or is spent): their local marks taint at once (propagate__min_for).
 * Sticky; the agent sets the bits of budgets smaller than the threshold. */
__u32 vg_budget_low = 0;

/* The bytes a local mark (pipe, unix socket, relay) of the sets in mask
 * must carry before it taints its reader: the threshold
 * (--relay-min-bytes), or 1 once one of their budgets has less than that
 * left (vg_budget_low). The reader may forward what it got before it was
 * tainted: with the budget spent, each fresh reader would get up to the
 * threshold out (a relay five times in a row on 6.1 under CPU load:
 * 64,676 B past a spent budget). */
static __always_inline __u64 propagate__min_for(__u32 mask)
{
	if (mask & vg_budget_low)
		return 1;
	return cfg_relay_min_bytes ? cfg_relay_min_bytes : 1;
}

/* Set by the agent when some allow entry is scoped to executables: only
 * then do exec/fork/exit keep vg_exe_bits. */
__u32 vg_have_exe_allow = 0;
__u32 vg_copy_seq = 0;	/* ids of files written by tainted processes */
__u64 vg_tainted_bits[VIGIL_TGID_BITS / 64] = {};
/* Some process was ever tainted (kernel or agent): until then an open
 * cannot be of a tainted process's /proc/PID/mem (lib/procmem.bpf.h). */
__u32 vg_taint_started = 0;
__u64 vg_file_bloom[VIGIL_FILE_BLOOM_BITS / 64] = {};
/* Every configured set (userspace): the taint of a process whose state
 * was lost is assumed to be all of them. */
__u32 vg_all_sets = 0;
/* Entries in vg_lost_socks: the egress hot path looks there only if > 0. */
__u32 vg_lost_socks_n = 0;
/* MPTCP sockets blocked for a tainted sender (their sends are not
 * metered): egress looks up a subflow's parent only if > 0. */
__u32 vg_unmetered_n = 0;
/* TCP sockets ever stamped with a taint: the agent's socket pass and the
 * state-change hook do nothing until this moved. */
__u64 vg_socks_stamped = 0;
/* Relay marks ever made: the fd scan looks at inet sockets only if > 0. */
__u32 vg_relays_marked = 0;
/* Some pty was written by a tainted process (lib/pty.bpf.h): until then
 * the fd scan does not look at ttys. */
__u32 vg_ptys_marked = 0;
/* Protected files on tmpfs/shm exist (a copy the kernel made there, or an
 * original the agent protected): only then does an untainted open look at
 * its file (bpf/shm.bpf.c). */
__u32 vg_shm_files = 0;
/* The mount a write into a network filesystem goes to, as a flow key, one
 * slot per CPU, filled and used within one program run (lib/netfs.bpf.h):
 * here and not on the stack, which the write programs have nearly filled
 * (6.1 counts a call chain's frames together against 512 bytes). */
#define VIGIL_NETFS_CPUS 1024
struct vigil_flow_key vg_netfs_keys[VIGIL_NETFS_CPUS] = {};

static __always_inline bool maybe_tainted(__u32 tgid)
{
	return vg_tainted_bits[vigil_tgid_word(tgid)] & vigil_tgid_bit(tgid);
}

/* before inserting tgid into vg_taint: taint__start() does */
static __always_inline void mark_tainted(__u32 tgid)
{
	vg_taint_started = 1;
	__sync_fetch_and_or(&vg_tainted_bits[vigil_tgid_word(tgid)], vigil_tgid_bit(tgid));
}

/* after removing tgid from vg_taint */
static __always_inline void unmark_tainted(__u32 tgid)
{
	__sync_fetch_and_and(&vg_tainted_bits[vigil_tgid_word(tgid)], ~vigil_tgid_bit(tgid));
}

static __always_inline bool maybe_protected(__u64 dev, __u64 ino)
{
	__u32 b = vigil_file_bloom_bit(dev, ino);

	return vg_file_bloom[b >> 6] & (1ull << (b & 63));
}

static __always_inline void mark_protected(__u64 dev, __u64 ino)
{
	__u32 b = vigil_file_bloom_bit(dev, ino);

	__sync_fetch_and_or(&vg_file_bloom[b >> 6], 1ull << (b & 63));
}



/* Every map is declared with one of these (BTF-defined maps, as libbpf
 * reads them): name, type, flags, max entries, key, value; storage attached
 * to a socket or task has no size of its own. docs/ARCHITECTURE.md's map
 * table is checked against these lines. */
#define VG_MAP(name, kind, flags, entries, k, v)		\
	struct {						\
		__uint(type, BPF_MAP_TYPE_##kind);		\
		__uint(map_flags, flags);			\
		__uint(max_entries, entries);			\
		__type(key, k);					\
		__type(value, v);				\
	} name SEC(".maps")

#define VG_STORAGE(name, kind, v)				\
	struct {						\
		__uint(type, BPF_MAP_TYPE_##kind);		\
		__uint(map_flags, BPF_F_NO_PREALLOC);		\
		__type(key, int);				\
		__type(value, v);				\
	} name SEC(".maps")

VG_MAP(vg_files, HASH, 0, VIGIL_MAX_PROTECTED_FILES, struct vigil_file_key, struct vigil_file_info);

VG_MAP(vg_taint, HASH, 0, VIGIL_MAX_TAINTED, __u32, struct vigil_taint);

/* Kernel-side dedupe of CONNECT records (sock_addr_verdict): a sender that
 * calls sendmsg in a loop, or sprays destinations, cannot flood the ring.
 * Values: the taint's since_ns (a reused pid starts afresh). */
VG_MAP(vg_connect_seen, LRU_HASH, 0, VIGIL_CONNECT_SEEN, struct vigil_flow_key, __u64);
VG_MAP(vg_connect_reports, LRU_HASH, 0, VIGIL_MAX_TAINTED, __u32, struct vigil_connect_reports);

/* The taint of tgid, or NULL; one bit test for the untainted majority. */
static __always_inline struct vigil_taint *taint_of(__u32 tgid)
{
	if (!maybe_tainted(tgid))
		return NULL;
	return bpf_map_lookup_elem(&vg_taint, &tgid);
}

/* Pages a tainted process dirtied per file, until it counts as a copy. */
VG_MAP(vg_copies, LRU_HASH, 0, 16384, struct vigil_copy_key, __u32);

/* Executables named by exe-scoped allow entries: (dev, ino) -> entry bits. */
VG_MAP(vg_allow_exes, HASH, 0, VIGIL_MAX_ALLOW_EXES, struct vigil_file_key, __u32);

/* Processes running one of them: tgid -> entry bits. */
VG_MAP(vg_exe_bits, HASH, 0, 65536, __u32, __u32);

/* Network-filesystem mounts an allow entry names (userspace keeps it to
 * mountinfo): the superblock's s_dev -> exe-scoped entry bits, 0: any
 * executable. Writes into them are not egress (lib/netfs.bpf.h). */
VG_MAP(vg_netfs_allow, HASH, 0, VIGIL_MAX_NETFS_ALLOWS, __u32, __u32);

static __always_inline __u32 exe_bits_of(__u32 tgid)
{
	__u32 *b;

	if (!vg_have_exe_allow)
		return 0;
	b = bpf_map_lookup_elem(&vg_exe_bits, &tgid);
	return b ? *b : 0;
}

/* Processes a rule with action: block put on the ground (enforce): every
 * non-loopback destination is refused and their packets dropped. */
VG_MAP(vg_blocked, HASH, 0, VIGIL_MAX_TAINTED, __u32, __u32);

VG_MAP(vg_reads, LRU_HASH, 0, VIGIL_MAX_TAINTED * 4, struct vigil_read_key,
       struct vigil_read_progress);

VG_STORAGE(vg_socks, SK_STORAGE, struct vigil_sock_state);

/* A plain hash, not an LRU: flow state is never evicted behind our back;
 * full means full (enforce: the packet is dropped). The agent deletes the
 * flows of processes that are gone. */
VG_MAP(vg_flows, HASH, 0, VIGIL_MAX_FLOWS, struct vigil_flow_key, struct vigil_flow);

/* TCP sockets of tainted writers whose sk_storage could not be allocated:
 * socket cookie -> set mask. Preallocated, so memory pressure cannot fail
 * an insert; egress drops their packets (enforce), the agent resets them. */
VG_MAP(vg_lost_socks, HASH, 0, VIGIL_MAX_LOST_SOCKS, __u64, __u32);

/* mmapable: userspace sets limits and rolls windows with atomic ops on the
 * fields themselves, never a read-modify-write of the whole value. */
VG_MAP(vg_budgets, ARRAY, BPF_F_MMAPABLE, VIGIL_MAX_SETS, __u32, struct vigil_budget);

/* Work-class bytes per destination address and window (lib/content.bpf.h).
 * LRU: a destination evicted starts a fresh window, as after an hour. */
VG_MAP(vg_work, LRU_HASH, 0, VIGIL_MAX_FLOWS, struct vigil_work_key, struct vigil_work_budget);

/* Declared services by local port (serve:, --serve; the agent fills it). */
VG_MAP(vg_serve, HASH, 0, VIGIL_MAX_SERVES, __u32, struct vigil_serve);

/* DNS query names per tainted process and minute (lib/content.bpf.h). */
VG_MAP(vg_dns, LRU_HASH, 0, VIGIL_MAX_TAINTED, __u32, struct vigil_dns_count);

/* Per CPU: the payload sample the content classifier reads, and its scan
 * state (lib/classify.bpf.h says why that is not on the stack). */
struct vigil_scratch {
	struct classify_scratch c;
	struct dns_scratch d;
};

VG_MAP(vg_scratch, PERCPU_ARRAY, 0, 1, __u32, struct vigil_scratch);

VG_MAP(vg_allow4, LPM_TRIE, BPF_F_NO_PREALLOC, 4096, struct vigil_lpm4_key, struct vigil_allow);

VG_MAP(vg_allow6, LPM_TRIE, BPF_F_NO_PREALLOC, 4096, struct vigil_lpm6_key, struct vigil_allow);

VG_MAP(vg_pipes, LRU_HASH, 0, VIGIL_MAX_PIPES, struct vigil_pipe_key, struct vigil_pipe_mark);

/* LRU like vg_pipes: a connection has no close hook that sees UDP, so old
 * marks age out; it takes 16K live tainted local connections to evict one. */
VG_MAP(vg_relays, LRU_HASH, 0, VIGIL_MAX_RELAYS, struct vigil_relay_key, struct vigil_relay_mark);

/* ptys a tainted process wrote to, keyed by the tty the bytes flow into
 * (lib/pty.bpf.h). LRU: a tty has no close hook here; old marks age out. */
VG_MAP(vg_ptys, LRU_HASH, 0, VIGIL_MAX_PTYS, __u64, struct vigil_pty_mark);

/* Per thread: the pipe generation it was last checked at (task storage: a
 * pointer away, no hashing, freed with the task). */
VG_STORAGE(vg_pipe_checked, TASK_STORAGE, __u64);

/* Per thread: the judgement of a tainted thread's last write or send into
 * a unix socket (lib/write.bpf.h), until the bytes it queues (sk_data_ready,
 * bpf/unix.bpf.c) used up its length. */
struct write_pending {
	__u64 peer;	/* the receiving struct sock; 0: a datagram to a path */
	__u64 left;	/* bytes of the call not queued yet */
	__u32 weights;	/* the call's sample was weights-class */
	__u32 nr;	/* the call's syscall number: a later call that queues
			 * without a write hook (sendfile, splice) is not it */
	__u32 netfs_unread_nr;	/* the syscall of this thread's last write into a
				 * network filesystem if its iovecs could not be
				 * read (its pages are charged as dirtied), else 0 */
	__u32 pad;
};
VG_STORAGE(vg_write_pending, TASK_STORAGE, struct write_pending);

/* Per thread: a tainted thread's writes too short to judge on their own
 * (under VIGIL_SAMPLE_MIN bytes), gathered until they fill a sample; each
 * takes the class of the last full one (mark__judge_small), so a model
 * written 15 bytes at a time is still the weights. */
struct small_writes {
	__u8 buf[VIGIL_SAMPLE_BYTES + VIGIL_SAMPLE_MIN];
	__u32 fill;	/* bytes gathered in buf */
	__u32 weights;	/* the last full sample was weights-class */
};
VG_STORAGE(vg_small_writes, TASK_STORAGE, struct small_writes);

/* TLS plaintext (lib/tls.bpf.h). Per thread: the last plaintext sample a
 * uprobe took, until the thread's next tainted TCP send binds it to that
 * socket (task storage: freed with the thread). */
struct tls_pending {
	struct classify_sample s;	/* s.n == 0: nothing pending */
	__u64 bytes;			/* the write's size */
	__u8 cls;			/* the sample's class on its own */
	__u8 lib;			/* enum vigil_tls_lib */
	__u8 pad[6];
};
VG_STORAGE(vg_tls_pending, TASK_STORAGE, struct tls_pending);
/* TLS counters (the agent reads them through the skeleton: `vigil status`):
 * plaintext samples taken, bound to a socket, lost for want of storage. */
__u64 vg_tls_sampled = 0;
__u64 vg_tls_bound = 0;
__u64 vg_tls_nostorage = 0;

/* Per socket: the plaintext statistics of every sample bound to it. */
struct tls_sock {
	struct vigil_content c;
	__u64 bytes;
	__u8 lib;
	__u8 pad[7];
};
VG_STORAGE(vg_tls_socks, SK_STORAGE, struct tls_sock);

/* The uprobes' sample buffer (per CPU: they run with preemption off). */
VG_MAP(vg_tls_scratch, PERCPU_ARRAY, 0, 1, __u32, struct classify_scratch);

/* The same per (process, destination) for the agent: alerts and status.
 * An LRU: it only describes, nothing is decided on it. */
VG_MAP(vg_tls_flows, LRU_HASH, 0, VIGIL_MAX_FLOWS, struct vigil_flow_key, struct vigil_tls_flow);

/* tgid -> the since_ns of the taint the agent attached its TLS uprobes for
 * (userspace/tls.c, from its worker thread, once every TLS file the process
 * maps is attached). A tainted sender not in it with its own since_ns (not
 * attached yet, a fork child, a reused pid, a failed or dropped attach) has
 * its TLS flows judged `opaque` (lib/tls.bpf.h): fail closed. Written only
 * by the agent. */
VG_MAP(vg_tls_watched, HASH, 0, VIGIL_MAX_TAINTED, __u32, __u64);

VG_MAP(vg_counters, PERCPU_ARRAY, 0, 1, __u32, struct vigil_counters);

/* The agent's maps, programs and links by kernel id (the agent fills it
 * after attach): bpf(2) by another process reaching one is reported. */
VG_MAP(vg_own, HASH, 0, 512, struct vigil_own_key, __u32);

/* Devices, inodes and paths an open, unlink or rename is checked against
 * (the agent fills it at start: userspace/watch.c; lib/guard.bpf.h). */
VG_MAP(vg_watch, HASH, 0, 256, struct vigil_watch_key, struct vigil_watch);
/* vg_watch has inode entries: only then does an open for writing look up
 * its inode and parent there */
__u32 vg_watch_inodes = 0;

/* Tamper reports per (sender, bpf command): the time of the last one, so
 * `bpftool prog list` is one record a second, not one per program. */
VG_MAP(vg_tamper_seen, LRU_HASH, 0, 1024, __u64, __u64);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VIGIL_RINGBUF_BYTES);
} vg_events SEC(".maps");

VG_MAP(vg_scope, CGROUP_ARRAY, 0, 1, __u32, __u32);

#define COUNT(field)                                                   \
	do {                                                           \
		__u32 __zero = 0;                                      \
		struct vigil_counters *__c =                           \
			bpf_map_lookup_elem(&vg_counters, &__zero);    \
		if (__c)                                               \
			__c->field++;                                  \
	} while (0)

/* Stand-in taint for a process whose bit is set but whose entry is missing
 * (vg_taint was full when it read, or its entry could not be made). */
struct vigil_taint vg_lost_taint = {};

/* The taint of tgid for an egress decision. The bit is set before the entry
 * is made and an entry that could not be made leaves it set: in enforce
 * mode such a process counts as tainted with every set (fail closed); in
 * monitor mode it is counted and let go. */
static __always_inline struct vigil_taint *taint__for_egress(__u32 tgid)
{
	struct vigil_taint *t;

	if (!maybe_tainted(tgid))
		return NULL;
	t = bpf_map_lookup_elem(&vg_taint, &tgid);
	if (t)
		return t;
	COUNT(taint_state_lost);
	if (cfg_mode != VIGIL_MODE_ENFORCE || !vg_all_sets)
		return NULL;
	vg_lost_taint.set_mask = vg_all_sets;
	return &vg_lost_taint;
}

/* map's entry at key, inserted as init first when there is none (a racing
 * CPU's insert wins: init only fills a new entry). NULL when the map is
 * full. key must be on the caller's stack (6.1). */
static __always_inline void *map__lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline void *event_reserve(__u32 size, __u16 type, __u32 tgid)
{
	struct vigil_ev_header *h = bpf_ringbuf_reserve(&vg_events, size, 0);

	if (!h) {
		COUNT(events_lost);
		return NULL;
	}
	h->type = type;
	h->size = size;
	h->tgid = tgid;
	h->ktime_ns = bpf_ktime_get_ns();
	COUNT(events_sent);
	return h;
}

static __always_inline bool in_scope(void)
{
	if (!cfg_scoped)
		return true;
	return bpf_current_task_under_cgroup(&vg_scope, 0) == 1;
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

#endif
