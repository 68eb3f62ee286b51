/* SPDX-License-Identifier: GPL-2.0 */
/* TLS plaintext: where the TLS libraries are, and the uprobes of
 * bpf/tls.bpf.c on their write functions, attached per tainted process: a
 * uprobe perf event opened for a pid is filtered by that task's mm
 * (uprobe_perf_filter), so the breakpoint is written into that process
 * only, and follows it through exec; a forked child has a new mm and gets
 * its own, at its own TAINT record. A process gets the TLS files it maps
 * (/proc/PID/maps), its executable (static OpenSSL/GnuTLS, Go's crypto/tls
 * with symbols) and, at exec, the TLS libraries its loader is about to map
 * (the executable's DT_NEEDED closure); scanned at TAINT, EXEC and CONNECT,
 * detached at EXIT. All of it on a worker thread: the event loop only
 * queues (a uprobe registration waits for RCU and for every fork on the
 * host). When done, the worker marks the process watched for its taint
 * (vg_tls_watched); until then its TLS flows are opaque (fail closed). The
 * (process, file) table and the registration rate are bounded: past
 * either a file is attached host-wide, logged and counted. Not here: what
 * is done with the plaintext (bpf/lib/tls.bpf.h).
 *
 * Threads: tls__on_record, tls__scan_pid, tls__status_json, tls__stats and
 * tls__flow are the event loop's and never block on the kernel's uprobe
 * locks. */
#ifndef VIGIL_TLS_H
#define VIGIL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

struct vigil_bpf;
struct json;

enum tls_kind { TLS_OPENSSL, TLS_GNUTLS, TLS_GO, TLS_NKINDS };

/* A file with TLS write functions, found without attaching: vigil check. */
struct tls_found {
	char path[256];
	unsigned funcs;		/* bits of tls__func_name() indexes present */
};

struct tls;

/* NULL when the uprobe programs were not loaded (the capability is blind). */
struct tls *tls__open(struct vigil_bpf *skel);
/* A ring buffer record: queues its process's scan, exec or exit. */
void tls__on_record(struct tls *t, const void *data, size_t size);
/* Queue pid (tainted without a TAINT record: seeded at start, or by
 * userspace) for a scan of its TLS files. */
void tls__scan_pid(struct tls *t, pid_t pid);
void tls__close(struct tls *t);
/* The plaintext the uprobes saw on tgid's flow to a's destination (af,
 * daddr_raw, dport): a->tls_plaintext and a->tls_library, left NULL when
 * none was seen. */
struct activity;
void tls__flow(const struct tls *t, uint32_t tgid, struct activity *a);
/* "tls": {"libraries":[{"path","functions","processes","host_wide"}...],
 * "attached":[{"pid","path","functions","watched"}...], "worker":{...},
 * "attachments", "attach_overflow", "attach_rate_limited", "host_wide_files",
 * "attach_latency_us", "sampled",...} (docs/OPERATIONS.md) */
void tls__status_json(const struct tls *t, struct json *j);

/* agent_stats' tls_* counters: attachments now, files host-wide now, and
 * since start the attachments that overflowed the table or the
 * registration rate, failed, or were dropped from a full worker queue.
 * All zero for NULL. */
struct tls_stats {
	uint64_t attachments, host_wide_files, overflow, rate_limited, failed, dropped;
};
void tls__stats(const struct tls *t, struct tls_stats *s);

/* The TLS libraries of the loader's cache (vigil check): up to max. */
size_t tls__discover(struct tls_found *out, size_t max);
/* Which write functions of a TLS library path has (bits of
 * tls__func_name indexes), 0 if none or unreadable. */
unsigned tls__file_funcs(const char *path);
const char *tls__func_name(int i);	/* NULL past the last */
const char *tls__func_library(int i);	/* "openssl", "gnutls", "go" */

#endif
