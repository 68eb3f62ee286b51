/* SPDX-License-Identifier: GPL-2.0 */
/* TLS plaintext: where the TLS libraries are, and the uprobes of
 * bpf/tls.bpf.c on their write functions, attached per tainted process: a
 * uprobe perf event opened for a pid is filtered by that task's mm
 * (uprobe_perf_filter), so the breakpoint is written into that process
 * only, and follows it through exec; a forked child has a new mm and gets
 * its own. At a TAINT record (fork included) the agent attaches the
 * process to every libssl/libgnutls of the loader's cache (mapped yet or
 * not: a child's exec'd image maps them later), its executable (static
 * OpenSSL/GnuTLS, Go's crypto/tls with symbols) and the TLS libraries in
 * its /proc/PID/maps; again at EXEC (new links first, then the old go) and
 * at CONNECT (a library loaded since); detached at EXIT. The table of
 * (process, file) attachments is bounded (TLS_MAX_ATTACH): past it a file
 * is attached host-wide, logged and counted (tls__status_json). Untainted
 * processes cost nothing; what a tainted one writes between its taint and
 * the attach is not seen (its flow is opaque). Not here: what is done with
 * the plaintext (bpf/lib/tls.bpf.h). */
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
/* A ring buffer record: its process may have mapped a library since. */
void tls__on_record(struct tls *t, const void *data, size_t size);
/* Attach pid (tainted without a TAINT record: seeded at start, or by
 * userspace) to its TLS files; nothing for those it already has. */
void tls__scan_pid(struct tls *t, pid_t pid);
void tls__close(struct tls *t);
/* The plaintext the uprobes saw on tgid's flow to a's destination (af,
 * daddr_raw, dport): a->tls_plaintext and a->tls_library, left NULL when
 * none was seen. */
struct activity;
void tls__flow(const struct tls *t, uint32_t tgid, struct activity *a);
/* "tls": {"libraries":[{"path","functions","processes","host_wide"}...],
 * "attached":[{"pid","path","functions"}...], "attachments",
 * "attach_overflow", "host_wide_files", "attach_latency_us", "sampled",...} */
void tls__status_json(const struct tls *t, struct json *j);

/* The TLS libraries of the loader's cache (vigil check): up to max. */
size_t tls__discover(struct tls_found *out, size_t max);
/* Which write functions of a TLS library path has (bits of
 * tls__func_name indexes), 0 if none or unreadable. */
unsigned tls__file_funcs(const char *path);
const char *tls__func_name(int i);	/* NULL past the last */
const char *tls__func_library(int i);	/* "openssl", "gnutls", "go" */

#endif
