/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * vigil wire format: every type that crosses the BPF <-> userspace boundary.
 *
 * Constants and fixed-size structs only: __u8..__u64 and arrays, no pointers,
 * no kernel includes. All structs are laid out so that no implicit padding
 * exists (explicit pad fields instead); their sizes and every field offset
 * are pinned by _Static_assert in vigil_layout.h, included at the end, so
 * both compilers check them. BPF code zeroes pads before
 * sending so no kernel stack bytes leak to userspace.
 */
#ifndef VIGIL_H
#define VIGIL_H

#ifdef __VIGIL_BPF__
/* vmlinux.h already provides __u8.. */
#else
#include <linux/types.h>
#endif
#include "vigil_content.h"

#define VIGIL_SCHEMA_VERSION 1

/* Protected sets are a bitmask in a __u32: 32 sets is plenty for rule packs
 * (they name places and formats, not files). */
#define VIGIL_MAX_SETS 32
#define VIGIL_COMM_LEN 16
/* vigil_flow_key.proto of a raw socket's creation (IPPROTO_RAW) */
#define VIGIL_PROTO_RAW 255

/* A tainted write into a network filesystem (bpf/lib/netfs.bpf.h): the
 * kernel sends those bytes, so they are a flow of the writer whose key is
 * the mount: family VIGIL_FAMILY_NETFS, proto the filesystem
 * (enum vigil_netfs, apart from TCP/UDP/raw's numbers), daddr the
 * superblock's s_dev (kernel dev_t, 4 bytes; /proc/self/mountinfo names
 * it), dport 0. */
#define VIGIL_FAMILY_NETFS 0xfe
enum vigil_netfs {
	VIGIL_NETFS_NFS = 101,
	VIGIL_NETFS_CIFS = 102,		/* SMB1 magic (cifs) */
	VIGIL_NETFS_SMB2 = 103,		/* SMB2/3 magic (cifs, smb3) */
	VIGIL_NETFS_CEPH = 104,
	VIGIL_NETFS_9P = 105,
	VIGIL_NETFS_AFS = 106,		/* kAFS and OpenAFS */
	VIGIL_NETFS_LUSTRE = 107,
	VIGIL_NETFS_CODA = 108,
	VIGIL_NETFS_ORANGEFS = 109,
};

/* Map sizes (defaults; userspace may resize before load). */
#define VIGIL_MAX_PROTECTED_FILES 65536
#define VIGIL_MAX_TAINTED 16384
#define VIGIL_MAX_FLOWS 16384
#define VIGIL_MAX_PIPES 16384
#define VIGIL_MAX_RELAYS 16384
#define VIGIL_MAX_PTYS 4096
/* Default cfg_relay_min_bytes (`propagate_min_bytes`), the one threshold of
 * every local propagation by bytes: a receiver is tainted by a local relay
 * connection, a pipe/FIFO or a unix socket only once this many tainted bytes
 * (for pipes and unix sockets: bytes sampled as weights-class,
 * lib/classify.bpf.h) arrived on it, so a health check, a log line or a
 * progress bar from a tainted process spreads nothing. */
#define VIGIL_PROPAGATE_MIN_BYTES (64u << 10)
#define VIGIL_RELAY_MIN_BYTES VIGIL_PROPAGATE_MIN_BYTES
#define VIGIL_RINGBUF_BYTES (1u << 23)

/* Upper bound of file descriptors the kernel side scans when it looks for
 * pipes in a process's fd table (pipe marking and pipe-reader checks).
 * Beyond it, pipes are missed; the count is reported as a stat. */
#define VIGIL_FD_SCAN_MAX 128

/* Fault injection for tests (cfg_fault, `vigil run --test-fault`): make the
 * kernel side behave as if a state it cannot do without were unavailable. */
#define VIGIL_FAULT_SK_STORAGE (1u << 0)	/* sk_storage allocation fails */
#define VIGIL_FAULT_NO_CHARGE (1u << 1)		/* egress skips the budget charge */
#define VIGIL_FAULT_NO_CONTENT (1u << 2)	/* nothing is sampled (bench: the A/B of the
						 * content classifier) */

/* Sockets whose sk_storage could not be allocated (fail-closed fallback). */
#define VIGIL_MAX_LOST_SOCKS 4096

enum vigil_mode {
	VIGIL_MODE_MONITOR = 0,
	VIGIL_MODE_ENFORCE = 1,
};

/* How a process came to be tainted (taint.via in alerts). */
enum vigil_via {
	VIGIL_VIA_NONE = 0,
	VIGIL_VIA_READ = 1,	/* page-cache read of a protected file */
	VIGIL_VIA_MMAP = 2,	/* mmap of a protected file / fault on its pages */
	VIGIL_VIA_FORK = 3,	/* inherited from the parent */
	VIGIL_VIA_PIPE = 4,	/* holds the read end of a pipe a tainted process writes */
	VIGIL_VIA_PREEXISTING = 5, /* held a protected file open/mapped when vigil started */
	VIGIL_VIA_UNIX = 6,	/* received on an AF_UNIX socket from a tainted process */
	/* userspace only (the kernel reports READ): read a file a tainted
	 * process wrote, a copy of weights (userspace/derived.h) */
	VIGIL_VIA_FILE = 7,
	/* received over a local TCP/UDP connection (loopback or one of the
	 * host's own addresses) at least cfg_relay_min_bytes of tainted bytes */
	VIGIL_VIA_LOOPBACK = 8,
	/* userspace only, like FILE: read a copy a tainted process wrote on
	 * tmpfs or /dev/shm (POSIX shm), or into a memfd */
	VIGIL_VIA_SHM = 9,
	VIGIL_VIA_MEMFD = 10,
	/* read a tainted process's memory (process_vm_readv, ptrace, an open
	 * of /proc/PID/mem), or had it written by one (process_vm_writev,
	 * ptrace POKEDATA): bpf/lib/procmem.bpf.h */
	VIGIL_VIA_PROCMEM = 11,
	/* read from a pty (either end) at least cfg_relay_min_bytes of
	 * weights-class bytes a tainted process wrote to the other end
	 * (bpf/lib/pty.bpf.h) */
	VIGIL_VIA_PTY = 12,
	/* holds /dev/fuse of a mount a tainted process wrote at least
	 * cfg_relay_min_bytes of weights-class bytes into: the FUSE daemon
	 * (s3fs, rclone mount, sshfs) that sends them on (bpf/lib/fuse.bpf.h) */
	VIGIL_VIA_FUSE = 13,
	VIGIL_VIA__COUNT,
};

/* Key of the protected-file map: the file's identity, not its path, so hard
 * links, renames, /proc/PID/fd re-opens and relative paths all resolve to it.
 * dev is the kernel's encoding (MAJOR << 20 | MINOR), as in sb->s_dev. */
struct vigil_file_key {
	__u64 dev;
	__u64 ino;
};

struct vigil_file_info {
	__u32 set_mask;	/* sets this file belongs to */
	__u32 file_id;	/* userspace's index: file_id -> path */
};

/* Taint state of one process (keyed by tgid). */
struct vigil_taint {
	__u32 set_mask;
	__u32 via;		/* enum vigil_via of the first taint */
	__u32 from_tgid;	/* who passed the taint on (0: read it directly) */
	__u32 depth;		/* 0: read the file itself; +1 per hop */
	__u32 first_file_id;
	__u32 flags;		/* VIGIL_TF_* */
	__u64 bytes_read;	/* distinct protected bytes this process read */
	__u64 since_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};

#define VIGIL_TF_KILLED (1u << 0)	/* SIGKILL sent (enforce) */
#define VIGIL_TF_UNMETERED_SEEN (1u << 1)	/* monitor: its unmetered send reported */

/* Per (process, file) read progress, to count distinct pages: filemap
 * tracepoints re-fire on overlapping ranges, so count only pages past a
 * high-water mark (exact for sequential reads, a lower bound otherwise). */
struct vigil_read_key {
	__u32 tgid;
	__u32 file_id;
};

struct vigil_read_progress {
	__u64 hwm_page;	/* one past the highest page counted */
	__u64 pages;	/* pages counted */
};

/* A pipe is keyed by its inode pointer and number, so a freed-and-reused
 * inode object is not mistaken for the old pipe. LRU: pipes have no
 * destruction hook we can use, so old marks age out. */
struct vigil_pipe_key {
	__u64 inode;
	__u64 ino;
};

/* Who left the mark (the last tainted writer: the taint's sources and
 * chain) and how much of what it wrote looked like weights. The fd scan
 * at taint time records who with no bytes (contact alone taints nothing);
 * the write hooks (bpf/write.bpf.c, stage.bpf.c, unix.bpf.c) add the bytes.
 * A reader is tainted once weights_bytes >= cfg_relay_min_bytes; marks on a
 * process itself (VIA_PROCMEM) taint at once. */
struct vigil_pipe_mark {
	__u32 tgid;	/* the tainted writer (may have exited) */
	__u32 set_mask;
	__u32 depth;
	__u32 file_id;
	__u64 bytes;		/* tainted bytes written into it */
	__u64 weights_bytes;	/* of them, in writes sampled as weights */
};

/* A local (loopback device) connection a tainted process sent into, named
 * as its receiving socket sees it: local = the packet's destination,
 * remote = its source. UDP receivers are usually unconnected and bound to
 * a wildcard address: their key is the protocol and local port alone
 * (family and addresses zero). IPv4 addresses in the first 4 bytes. */
struct vigil_relay_key {
	__u8 family;	/* AF_INET / AF_INET6; 0 for UDP */
	__u8 proto;	/* IPPROTO_TCP / IPPROTO_UDP */
	__u16 lport;	/* host byte order */
	__u16 rport;	/* 0 for UDP */
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* Tainted bytes sent into it, by whom, with which taint. */
struct vigil_relay_mark {
	__u32 tgid;	/* the last tainted sender */
	__u32 set_mask;
	__u32 depth;
	__u32 file_id;
	__u64 bytes;	/* tainted payload bytes sent into it */
};

/* A pty a tainted process wrote to (bpf/lib/pty.bpf.h), keyed by the
 * address of the struct tty_struct the bytes flow into. */
struct vigil_pty_mark {
	__u32 tgid;	/* the last tainted writer of weights-class bytes */
	__u32 set_mask;
	__u32 depth;
	__u32 file_id;
	__u64 bytes;		/* every byte tainted processes wrote to it */
	__u64 weights_bytes;	/* of those, written in weights-class writes */
};

/* Per-socket state in BPF sk_storage: who wrote into the socket and with
 * which taint. The taint is copied here so queued data keeps being counted
 * and dropped after the writer exits. */
struct vigil_sock_state {
	__u32 tgid;
	__u32 set_mask;
	__u32 flags;	/* VIGIL_SF_* */
	__u32 pad;
	/* what the receiver had acknowledged, plus what was queued, when the
	 * socket was first stamped: acks beyond it are of tainted bytes */
	__u64 acked_base;
	__u64 acked_counted;	/* tainted acked bytes already added to budgets */
	struct vigil_content content;	/* what its data looks like */
	__u64 work_sent;	/* payload egress charged to a work budget, not the sets' */
};

#define VIGIL_SF_BLOCKED (1u << 0)	/* drop every further packet */
#define VIGIL_SF_ALLOWED (1u << 1)	/* destination is allowlisted/loopback */
#define VIGIL_SF_CHECKED (1u << 2)	/* ALLOWED was computed */
#define VIGIL_SF_DROP (1u << 3)		/* writer is blocked by a rule: drop, no kill */
#define VIGIL_SF_RESET (1u << 4)	/* aborted by the agent (queue discarded) */
#define VIGIL_SF_WORK (1u << 5)		/* the last sampled send was work */
#define VIGIL_SF_UNSAMPLED (1u << 6)	/* the last send passed kernel pages (sendfile,
					 * splice): its packets are sampled instead */
#define VIGIL_SF_TLS (1u << 7)		/* its sends are TLS records: opaque unless the
					 * plaintext class is known (lib/tls.bpf.h) */
#define VIGIL_SF_INBOUND (1u << 8)	/* accepted on a listening socket (net.direction) */
#define VIGIL_SF_DIR_KNOWN (1u << 9)	/* INBOUND was computed */

/* Egress accounting per (process, destination). */
struct vigil_flow_key {
	__u32 tgid;
	__u8 family;	/* AF_INET / AF_INET6 */
	__u8 proto;	/* IPPROTO_TCP / IPPROTO_UDP */
	__u16 dport;	/* host byte order */
	__u8 daddr[16];	/* IPv4 in the first 4 bytes */
};

struct vigil_flow {
	__u64 bytes;		/* payload bytes that left */
	__u64 blocked_bytes;	/* payload bytes dropped */
	__u64 packets;
	__u64 first_ns;
	__u32 set_mask;
	__u32 reported_level;	/* highest byte threshold already reported */
	__u32 flags;		/* VIGIL_FF_* */
	__u16 lport;		/* the sender's local port (net.lport) */
	__u8 inbound;		/* 1: an accepted connection (net.direction) */
	__u8 pad;
	struct vigil_content content;	/* UDP: sampled here; TCP: its socket's */
};

#define VIGIL_FF_BLOCK_REPORTED (1u << 0)
#define VIGIL_FF_WEIGHTS_REPORTED (1u << 1)	/* the flow was reported weights-class */
#define VIGIL_FF_UNREPORTED (1u << 2)	/* made by the content step: new at its account */

/* Work budget: bytes of `work`-class tainted egress one destination may
 * receive per window (all processes and sets together), so that even
 * text-shaped bulk is capped. */
struct vigil_work_key {
	__u8 family;
	__u8 pad;
	__u16 lport;	/* a declared service's port (its own budget), else 0 */
	__u8 daddr[16];
};

/* A declared service (serve: entries), by local port: responses on the
 * connections it accepted are work unless judged weights, held to its own
 * work budget per client. */
struct vigil_serve {
	__u64 work_limit;	/* bytes per window; 0: no limit */
	__u64 window_ns;	/* 0: the agent's lifetime */
	__u32 exe_mask;		/* 0: any executable; else bits of vg_allow_exes values */
	__u32 pad;
};
#define VIGIL_MAX_SERVES 64

struct vigil_work_budget {
	__u64 window_start_ns;
	__u64 spent;
	__u64 blocked;
	__u32 exceeded;		/* sticky until the window ends */
	__u32 pad;
};

#define VIGIL_WORK_LIMIT_DEFAULT (1ull << 30)		/* 1 GiB */
#define VIGIL_WORK_WINDOW_DEFAULT_S 3600ull		/* per hour */

/* DNS queries of one tainted process per window (lib/dns.bpf.h judges each
 * name): a tunnel once its tunnel-shaped names, or all its names, pass a
 * byte count. Lookups to the host's resolvers are not egress otherwise. */
struct vigil_dns_count {
	__u64 window_start_ns;
	__u32 name_bytes;	/* query-name bytes in this window */
	__u32 tunnel_bytes;	/* of which: in tunnel-shaped names */
	__u32 queries;
	__u32 flags;		/* VIGIL_DNSF_* */
};

#define VIGIL_DNSF_TUNNEL (1u << 0)	/* judged a tunnel (sticky) */
#define VIGIL_DNS_WINDOW_NS (60ull * 1000000000ull)
#define VIGIL_DNS_TUNNEL_BYTES 1024	/* tunnel-shaped name bytes per window */
#define VIGIL_DNS_NAME_BYTES (32u << 10)	/* any name bytes per window */

/* Budget of one protected set: bytes of tainted egress to non-allowlisted
 * destinations over the agent's lifetime. */
struct vigil_budget {
	__u64 limit;	/* bytes; 0 = unlimited */
	__u64 spent;	/* payload bytes let through */
	__u64 blocked;	/* payload bytes dropped */
	__u64 committed; /* enforce: TCP bytes tainted senders queued (counted at
			  * send time, so a send that would overrun is refused
			  * before its data is queued, across processes) */
	/* Observed independently of `spent`, to catch a broken ceiling:
	 * payload egress let through (every pass, whatever the charge said)
	 * and TCP bytes receivers acknowledged on tainted sockets. */
	__u64 passed;
	__u64 delivered;
	__u32 exceeded;	/* sticky: once over, every tainted packet drops */
	__u32 pad;
};

/* Allowlist: LPM trie keys (prefixlen counts address bits only). */
struct vigil_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct vigil_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

#define VIGIL_ALLOW_RANGES 8
struct vigil_port_range {
	__u16 lo;
	__u16 hi;
	__u32 exe_mask;	/* 0: any executable; else bits of vg_allow_exes values */
};

#define VIGIL_MAX_EXE_ALLOWS 32		/* allow entries scoped to executables */
#define VIGIL_MAX_ALLOW_EXES 4096	/* executables they name */
#define VIGIL_MAX_NETFS_ALLOWS 1024	/* network-filesystem mounts allow entries name */

/* An allowlisted prefix with the ports allowed there. Userspace merges the
 * ranges of every shorter covering prefix in, because an LPM lookup only
 * returns the longest match. */
struct vigil_allow {
	__u32 nranges;
	struct vigil_port_range ranges[VIGIL_ALLOW_RANGES];
};

/* Kernel-side counters (per-CPU array, one slot). Userspace sums them and
 * reports them in agent_stats lines. */
struct vigil_counters {
	__u64 events_sent;
	__u64 events_lost;	/* ring buffer full */
	__u64 taint_map_full;
	__u64 flow_map_full;
	__u64 pipe_map_full;
	__u64 fd_scan_truncated;
	__u64 packets_dropped;
	__u64 connects_denied;
	__u64 kills;
	__u64 connects_deduped;		/* same process, same destination: reported before */
	__u64 connect_reports_capped;	/* VIGIL_CONNECT_REPORTS_PER_PROC reached */
	/* state enforcement depends on that could not be kept */
	__u64 sock_storage_full;	/* sk_storage allocation failed */
	__u64 taint_state_lost;		/* tainted bit set, no taint entry */
	__u64 lost_socks_full;		/* fallback socket table full too */
	__u64 failed_closed;		/* enforce: denied/dropped/killed for it */
	__u64 sockets_reset;		/* blocked sockets aborted, queue discarded */
	__u64 budget_contended;		/* charge retried out: packet dropped */
};

/* CONNECT records per tainted process: its first this-many distinct
 * destinations are reported (the correlator remembers as many), later ones
 * are still refused in enforce mode, only counted. */
#define VIGIL_CONNECT_REPORTS_PER_PROC 4096
#define VIGIL_CONNECT_SEEN 16384	/* (process, destination) pairs remembered */

/* Reported CONNECT destinations (vg_connect_seen values) and per-process
 * report counts (vg_connect_reports), both tied to one taint instance by
 * its since_ns: a reused pid starts afresh. */
struct vigil_connect_reports {
	__u64 since_ns;
	__u32 n;
	__u32 pad;
};

/* ---------------------------------------------------------------------
 * Ring buffer records. Every record starts with vigil_ev_header; the
 * reader dispatches on type and checks size before touching the body.
 * Only state changes are sent: a process became tainted, a tainted
 * process exec'd or exited, a flow to a new destination started or crossed
 * a byte threshold, a connect was denied, a packet drop started, a kill.
 * --------------------------------------------------------------------- */
enum vigil_ev_type {
	VIGIL_EV_TAINT = 1,
	VIGIL_EV_EXEC = 2,
	VIGIL_EV_EXIT = 3,
	VIGIL_EV_FLOW = 4,	/* new flow / threshold / first drop */
	VIGIL_EV_CONNECT = 5,	/* connect or sendmsg to a non-allowed destination */
	VIGIL_EV_KILL = 6,
	VIGIL_EV_COPY = 7,	/* a tainted process wrote a file: it is protected now */
	VIGIL_EV_TAMPER = 8,	/* another process signalled the agent */
	VIGIL_EV_CONTROL = 9,	/* a blind-spot control fired (bpf/blindspot.bpf.c) */
	VIGIL_EV__COUNT,
};

/* Files written by tainted processes become protected with the writer's
 * sets once this many pages of them were written by it (a copy of weights,
 * not a log line); their file ids start here. */
#define VIGIL_COPY_MIN_PAGES 16
#define VIGIL_ARGS_LEN 512	/* a power of two: the BPF side masks with it; long
				 * interpreter paths and a script's own path take
				 * 100 bytes before the first argument */

/* Fast negative filters the hot paths check before any hash lookup:
 * a bit per tgid (PID_MAX_LIMIT is 2^22 on 64-bit, so exact) set before a
 * process enters vg_taint and cleared when it exits, and a bloom bit per
 * protected (dev, ino) set before the file enters vg_files. A clear bit
 * means "certainly not"; a set bit means "look it up". */
#define VIGIL_TGID_BITS (1u << 22)
#define VIGIL_FILE_BLOOM_BITS (1u << 16)

/* Where tgid's bit is in the tainted-tgid bitmap: word, and bit in it. */
static inline __u32 vigil_tgid_word(__u32 tgid)
{
	return (tgid >> 6) & (VIGIL_TGID_BITS / 64 - 1);
}

static inline __u64 vigil_tgid_bit(__u32 tgid)
{
	return 1ull << (tgid & 63);
}

static inline __u32 vigil_file_bloom_bit(__u64 dev, __u64 ino)
{
	__u64 h = (ino * 0x9E3779B97F4A7C15ull) ^ (dev * 0xC2B2AE3D27D4EB4Full);

	return (__u32)(h >> 40) & (VIGIL_FILE_BLOOM_BITS - 1);
}
#define VIGIL_COPY_ID_BASE 0x40000000u
#define VIGIL_COPY_NAMES 12
#define VIGIL_COPY_NAME_LEN 64

struct vigil_copy_key {
	__u64 dev;
	__u64 ino;
	__u32 tgid;
	__u32 pad;
};

struct vigil_ev_header {
	__u16 type;
	__u16 size;
	__u32 tgid;
	__u64 ktime_ns;
};

struct vigil_ev_taint {
	struct vigil_ev_header hdr;
	__u32 ppid;		/* real parent's tgid */
	__u32 from_tgid;	/* taint came from this process (0: from a file) */
	__u32 via;		/* enum vigil_via */
	__u32 set_mask;		/* sets added by this event */
	__u32 file_id;		/* protected file read (READ/MMAP), else first_file_id */
	__u32 depth;
	__u32 uid;
	__u32 pad;
	__u64 cgroup_id;
	char comm[VIGIL_COMM_LEN];
	/* the start of the command line (NUL-separated), read in the kernel:
	 * a process killed within milliseconds is gone before /proc is read */
	char args[VIGIL_ARGS_LEN];
};

struct vigil_ev_proc {	/* EXEC and EXIT */
	struct vigil_ev_header hdr;
	__u32 ppid;
	__u32 exit_code;	/* EXIT: as in wait status */
	__u64 bytes_read;	/* EXIT: distinct protected bytes it read */
	char comm[VIGIL_COMM_LEN];
};

#define VIGIL_FLOW_NEW (1u << 0)
#define VIGIL_FLOW_THRESHOLD (1u << 1)
#define VIGIL_FLOW_BLOCKED (1u << 2)	/* first dropped packet of this flow */
#define VIGIL_FLOW_BUDGET (1u << 3)	/* the set's budget was crossed now */
#define VIGIL_FLOW_CLASS (1u << 4)	/* the flow's content turned weights-class */
#define VIGIL_FLOW_WORK_BUDGET (1u << 5) /* the destination's work budget was crossed now */
#define VIGIL_FLOW_DNS_TUNNEL (1u << 6)	/* the process's DNS queries became a tunnel */

struct vigil_ev_flow {
	struct vigil_ev_header hdr;
	struct vigil_flow_key key;
	__u64 bytes;
	__u64 blocked_bytes;
	__u32 set_mask;
	__u32 reason;		/* VIGIL_FLOW_* */
	struct vigil_content content;
	__u16 lport;
	__u8 inbound;
	__u8 pad[5];
};

struct vigil_ev_connect {
	struct vigil_ev_header hdr;
	struct vigil_flow_key key;
	__u32 set_mask;
	__u32 denied;		/* 1 if the kernel refused it (enforce) */
	__u32 op;		/* 0 connect, 1 sendmsg, 2 raw socket created */
	__u32 pad;
	char comm[VIGIL_COMM_LEN];
};

struct vigil_ev_copy {
	struct vigil_ev_header hdr;
	__u64 dev;		/* the new protected file (kernel dev_t) */
	__u64 ino;
	__u32 file_id;		/* VIGIL_COPY_ID_BASE + n */
	__u32 set_mask;
	__u32 src_file_id;	/* the writer's first protected file */
	__u32 depth;		/* the writer's taint depth */
	/* the file's name and its parents' (nearest first), up to the root of
	 * its filesystem: the writer may be gone before userspace looks */
	__u32 nnames;
	__u32 via;		/* VIGIL_VIA_FILE (written pages) or _SHM (tmpfs,
				 * /dev/shm, memfd: opened for writing) */
	char names[VIGIL_COPY_NAMES][VIGIL_COPY_NAME_LEN];
};

/* hdr.tgid: the sender. Sent for the signals that stop, freeze or kill
 * (VIGIL_TAMPER_SIGNALS), whoever sends them, before they are delivered:
 * a SIGKILLed agent's successor finds the record in the pinned ring. */
struct vigil_ev_tamper {
	struct vigil_ev_header hdr;
	__u32 target_tgid;	/* the agent it was sent to */
	__u32 sig;
	__u32 uid;		/* the sender's */
	__s32 result;		/* TRACE_SIGNAL_*: 0 delivered */
	char comm[VIGIL_COMM_LEN];
	/* VIGIL_TAMPER_BPF: which of the agent's objects (enum vigil_obj) */
	__u32 obj_kind;
	__u32 obj_id;		/* its kernel id; 0 for a pin path;
				 * VIGIL_OBJ_ID_UNREAD: the call's argument could
				 * not be read (reported fail closed) */
};

#define VIGIL_OBJ_ID_UNREAD 0xffffffffu

/* sig values past the signals: other attempts on the agent (result holds
 * the request) */
#define VIGIL_TAMPER_PTRACE 64	/* ptrace(PTRACE_ATTACH|PTRACE_SEIZE, agent) */
#define VIGIL_TAMPER_BPF 65	/* bpf(2) reaching the agent's objects (result: the command) */

/* The agent's BPF objects, as bpf(2) names them (vg_own's keys, with the
 * kernel id): another process getting an fd to one, writing a map,
 * detaching or replacing a link, opening a pin is a tamper attempt. */
enum vigil_obj {
	VIGIL_OBJ_MAP = 1,
	VIGIL_OBJ_PROG = 2,
	VIGIL_OBJ_LINK = 3,
	VIGIL_OBJ_PIN = 4,	/* a path under the pin directory (BPF_OBJ_GET) */
};

struct vigil_own_key {
	__u32 kind;		/* enum vigil_obj */
	__u32 id;
};
#define VIGIL_PIN_DIR_LEN 128

/* HUP INT QUIT ILL ABRT BUS FPE KILL USR1 SEGV USR2 TERM STOP TSTP */
#define VIGIL_TAMPER_SIGNALS ((1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 6) | \
			      (1u << 7) | (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11) | \
			      (1u << 12) | (1u << 15) | (1u << 19) | (1u << 20))

/* Blind-spot controls: ways around vigil's hooks, reported whoever tries
 * them (in scope); a tainted process trying one in enforce mode is
 * SIGKILLed before the call returns to it. */
enum vigil_control {
	VIGIL_CTL_PACKET_SOCKET = 1,	/* socket(AF_PACKET): no cgroup hook sees it */
	VIGIL_CTL_XDP_SOCKET = 2,	/* socket(AF_XDP) */
	VIGIL_CTL_BPF_LOAD = 3,		/* bpf(BPF_PROG_LOAD) by another process */
	VIGIL_CTL_MODULE_LOAD = 4,	/* init_module / finit_module */
	VIGIL_CTL_MOUNT = 5,		/* mount / fsopen of a network or FUSE filesystem */
	/* opens and unlinks matched against vg_watch (bpf/lib/guard.bpf.h) */
	VIGIL_CTL_BYPASS_DEVICE = 6,	/* open of a kernel-bypass device: uverbs, vfio */
	VIGIL_CTL_WEIGHTS_DISK = 7,	/* open of the block device holding protected files */
	VIGIL_CTL_CONFIG_WRITE = 8,	/* vigil's config, rules, binary or unit: written,
					 * created, unlinked or renamed (any process) */
	VIGIL_CTL_PIN_UNLINK = 9,	/* unlink or rename under the pin directory (any process) */
	VIGIL_CTL__COUNT,
};

/* vg_watch: what an open, unlink or rename is checked against. The key is
 * an inode (a: the kernel's dev_t of its filesystem, b: i_ino), a device
 * (a: VIGIL_WATCH_RDEV, b: the kernel's dev_t, minor VIGIL_WATCH_ANY_MINOR
 * for a whole major) or an absolute path (a: VIGIL_WATCH_PATH, b:
 * vigil_path_hash of it, no trailing slash): an unlink or rename of the
 * path or of a name right under it matches. */
struct vigil_watch_key {
	__u64 a;
	__u64 b;
};
#define VIGIL_WATCH_RDEV (~0ull - 1)
#define VIGIL_WATCH_PATH (~0ull)
#define VIGIL_WATCH_ANY_MINOR 0xfffffu

struct vigil_watch {
	__u32 kind;	/* enum vigil_control */
	__u32 id;	/* the agent's name for the entry (userspace/watch.c) */
	/* a file's inode entry: vigil_path_hash of its name's first
	 * VIGIL_WATCH_NAME_LEN - 1 bytes, which the opened file's name must
	 * have (a replaced file's inode number is soon another file's), 0: any */
	__u64 name_hash;
};
#define VIGIL_WATCH_NAME_LEN 64

/* control.arg of the watch kinds: the operation in the high half, the
 * entry's id in the low (device kinds: the device's kernel dev_t) */
enum vigil_watch_op {
	VIGIL_WOP_OPEN = 1,	/* opened (devices), opened for writing or created */
	VIGIL_WOP_UNLINK = 2,	/* unlink, unlinkat, rmdir */
	VIGIL_WOP_RENAME = 3,	/* rename* from or onto */
	VIGIL_WOP_TRUNCATE = 4,	/* truncate(2) by path (ftruncate needs an fd
				 * opened for writing: VIGIL_WOP_OPEN) */
};

/* FNV-1a, 64 bits, one byte at a time: the BPF side hashes a path while it
 * scans it for its last '/' */
#define VIGIL_PATH_HASH_INIT 0xcbf29ce484222325ull
static inline __u64 vigil_path_hash_step(__u64 h, unsigned char c)
{
	return (h ^ c) * 0x100000001b3ull;
}

#define VIGIL_CTL_DETAIL_LEN 32

struct vigil_ev_control {
	struct vigil_ev_header hdr;
	__u32 kind;		/* enum vigil_control */
	__u32 set_mask;		/* the process's taint; 0: untainted */
	__u32 uid;
	__u32 killed;		/* 1: SIGKILLed in the call (enforce, tainted) */
	__s64 arg;		/* socket: type; bpf: program type; finit_module: fd, init_module: -1;
				 * watch kinds: enum vigil_watch_op << 32 | id or device */
	char comm[VIGIL_COMM_LEN];
	char detail[VIGIL_CTL_DETAIL_LEN];	/* mount: fs type; finit_module, devices: file name;
						 * config, pins: the name under a watched directory */
};

struct vigil_ev_kill {
	struct vigil_ev_header hdr;
	struct vigil_flow_key key;	/* the destination the kill is about */
	__u32 set_mask;
	__u32 done;		/* 1 if SIGKILL was sent (enforce) */
	char comm[VIGIL_COMM_LEN];
	__u8 content;		/* enum vigil_class of the socket's data */
	__u8 inbound;		/* the socket was accepted on a listening socket */
	__u16 lport;
	__u8 why;		/* enum vigil_kill_why */
	__u8 pad[3];
};

/* Why a tainted sender was (or, in monitor mode, would be) killed. */
enum vigil_kill_why {
	VIGIL_KILL_BUDGET = 0,		/* its bytes would overrun a budget (or it was blocked) */
	VIGIL_KILL_UNMETERED = 1,	/* it sent on a socket no hook can meter: MPTCP, SCTP */
};

#include "vigil_layout.h"

#endif /* VIGIL_H */
