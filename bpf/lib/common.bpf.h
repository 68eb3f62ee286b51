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
#define S_IFSOCK 0140000
#define MAP_ANONYMOUS 0x20
#define LOOPBACK_IFINDEX 1
#define VIGIL_FMODE_READ 0x1
#define VIGIL_FMODE_WRITE 0x2

/* Set by userspace between open and load. */
const volatile __u32 cfg_mode = VIGIL_MODE_MONITOR;
const volatile __u32 cfg_scoped = 0;	   /* 1: only tasks under vg_scope[0] */
const volatile __u32 cfg_agent_tgid = 0;   /* never taint the agent itself */
const volatile __u32 cfg_fault = 0;	   /* VIGIL_FAULT_*: tests only */

/* Bumped whenever a pipe gets marked: untainted senders re-scan their fds
 * for marked pipes only when it changed since their last scan. */
__u64 vg_pipe_gen = 0;
/* Set by the agent when some allow entry is scoped to executables: only
 * then do exec/fork/exit keep vg_exe_bits. */
__u32 vg_have_exe_allow = 0;
__u32 vg_copy_seq = 0;	/* ids of files written by tainted processes */
__u64 vg_tainted_bits[VIGIL_TGID_BITS / 64] = {};
__u64 vg_file_bloom[VIGIL_FILE_BLOOM_BITS / 64] = {};
/* Every configured set (userspace): the taint of a process whose state
 * was lost is assumed to be all of them. */
__u32 vg_all_sets = 0;
/* Entries in vg_lost_socks: the egress hot path looks there only if > 0. */
__u32 vg_lost_socks_n = 0;
/* TCP sockets ever stamped with a taint: the agent's socket pass runs only
 * when this moved. */
__u64 vg_socks_stamped = 0;

static __always_inline bool maybe_tainted(__u32 tgid)
{
	__u32 w = (tgid >> 6) & (VIGIL_TGID_BITS / 64 - 1);

	return vg_tainted_bits[w] & (1ull << (tgid & 63));
}

/* before inserting tgid into vg_taint */
static __always_inline void mark_tainted(__u32 tgid)
{
	__u32 w = (tgid >> 6) & (VIGIL_TGID_BITS / 64 - 1);

	__sync_fetch_and_or(&vg_tainted_bits[w], 1ull << (tgid & 63));
}

/* after removing tgid from vg_taint */
static __always_inline void unmark_tainted(__u32 tgid)
{
	__u32 w = (tgid >> 6) & (VIGIL_TGID_BITS / 64 - 1);

	__sync_fetch_and_and(&vg_tainted_bits[w], ~(1ull << (tgid & 63)));
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



struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_PROTECTED_FILES);
	__type(key, struct vigil_file_key);
	__type(value, struct vigil_file_info);
} vg_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_TAINTED);
	__type(key, __u32);
	__type(value, struct vigil_taint);
} vg_taint SEC(".maps");

/* The taint of tgid, or NULL; one bit test for the untainted majority. */
static __always_inline struct vigil_taint *taint_of(__u32 tgid)
{
	if (!maybe_tainted(tgid))
		return NULL;
	return bpf_map_lookup_elem(&vg_taint, &tgid);
}



/* Pages a tainted process dirtied per file, until it counts as a copy. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct vigil_copy_key);
	__type(value, __u32);
} vg_copies SEC(".maps");

/* Executables named by exe-scoped allow entries: (dev, ino) -> entry bits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_ALLOW_EXES);
	__type(key, struct vigil_file_key);
	__type(value, __u32);
} vg_allow_exes SEC(".maps");

/* Processes running one of them: tgid -> entry bits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} vg_exe_bits SEC(".maps");

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
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_TAINTED);
	__type(key, __u32);
	__type(value, __u32);
} vg_blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIGIL_MAX_TAINTED * 4);
	__type(key, struct vigil_read_key);
	__type(value, struct vigil_read_progress);
} vg_reads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vigil_sock_state);
} vg_socks SEC(".maps");

/* A plain hash, not an LRU: flow state is never evicted behind our back;
 * full means full (enforce: the packet is dropped). The agent deletes the
 * flows of processes that are gone. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_FLOWS);
	__type(key, struct vigil_flow_key);
	__type(value, struct vigil_flow);
} vg_flows SEC(".maps");

/* TCP sockets of tainted writers whose sk_storage could not be allocated:
 * socket cookie -> set mask. Preallocated, so memory pressure cannot fail
 * an insert; egress drops their packets (enforce), the agent resets them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_LOST_SOCKS);
	__type(key, __u64);
	__type(value, __u32);
} vg_lost_socks SEC(".maps");

/* mmapable: userspace sets limits and rolls windows with atomic ops on the
 * fields themselves, never a read-modify-write of the whole value. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VIGIL_MAX_SETS);
	__type(key, __u32);
	__type(value, struct vigil_budget);
} vg_budgets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct vigil_lpm4_key);
	__type(value, struct vigil_allow);
} vg_allow4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct vigil_lpm6_key);
	__type(value, struct vigil_allow);
} vg_allow6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIGIL_MAX_PIPES);
	__type(key, struct vigil_pipe_key);
	__type(value, struct vigil_pipe_mark);
} vg_pipes SEC(".maps");

/* Per thread: the pipe generation it was last checked at (task storage: a
 * pointer away, no hashing, freed with the task). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} vg_pipe_checked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_counters);
} vg_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VIGIL_RINGBUF_BYTES);
} vg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vg_scope SEC(".maps");

/* Stand-in taint for a process whose bit is set but whose entry is missing
 * (vg_taint was full when it read, or its entry could not be made). */
struct vigil_taint vg_lost_taint = {};

#define COUNT(field)                                                   \
	do {                                                           \
		__u32 __zero = 0;                                      \
		struct vigil_counters *__c =                           \
			bpf_map_lookup_elem(&vg_counters, &__zero);    \
		if (__c)                                               \
			__c->field++;                                  \
	} while (0)

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
