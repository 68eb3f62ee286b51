/* SPDX-License-Identifier: GPL-2.0 */
/* What vigil can see on the running kernel. Each capability (a read of
 * protected pages, an mmap of them, a tainted send, ...) has an ordered
 * list of implementations in hook families (tracepoints first, then
 * fentry/fexit, BPF LSM, kprobes); caps__probe tries each on this kernel
 * (BTF, trial loads and attaches) and picks the first that works, and
 * caps__apply switches the BPF object's programs to that choice before it
 * is loaded. `vigil check` prints the result; `vigil run` logs it in
 * agent_start. */
#ifndef VIGIL_CAPS_H
#define VIGIL_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct bpf_object;
struct bpf_program;
struct json;

enum caps_family { CAPS_TRACEPOINT, CAPS_FENTRY, CAPS_LSM, CAPS_KPROBE, CAPS_UPROBE,
		   CAPS_NFAMILIES };
#define CAPS_ALL_FAMILIES ((1u << CAPS_NFAMILIES) - 1)

enum caps_id { CAPS_READ, CAPS_MMAP, CAPS_SEND, CAPS_COPY, CAPS_PROCESS, CAPS_DROP_KILL,
	       CAPS_TAMPER, CAPS_ACKED, CAPS_RESET, CAPS_CONTROL, CAPS_TLS, CAPS_DIRECT,
	       CAPS_SHM, CAPS_STAGE, CAPS_PROCMEM, CAPS_UNIX, CAPS_LOCAL_BYTES, CAPS_PTY, CAPS_REFLINK,
	       CAPS_PREVENT, CAPS_SELFWATCH, CAPS_N };

#define CAPS_MAX_IMPLS 4
#define CAPS_MAX_PROGS 8

struct caps {
	char release[65];
	bool btf;
	char cgroup2[256];	/* mount point, "" if none */
	char bpffs[256];
	char lockdown[32];	/* "none", "integrity", "confidentiality", "" */
	bool skb_current;	/* cgroup_skb may call bpf_get_current_pid_tgid */
	unsigned families;	/* allowed (--hooks) */
	bool family_ok[CAPS_NFAMILIES];		/* some program of it loads here */
	char family_why[CAPS_NFAMILIES][96];	/* why not, when not */
	/* per capability and implementation: its programs all load here */
	bool impl_ok[CAPS_N][CAPS_MAX_IMPLS];
	bool prog_ok[CAPS_N][CAPS_MAX_IMPLS][CAPS_MAX_PROGS];
	int chosen[CAPS_N];	/* implementation index, -1: blind */
};

/* "tracepoint,fentry" (only these), "-kprobe" (all but), "all". */
int caps__parse_hooks(const char *spec, unsigned *families, char *err, size_t errlen);
/* Probe the running kernel; only families in `families` may be chosen.
 * Needs root (trial loads); a probe that cannot run marks the family
 * unavailable and says why. */
void caps__probe(struct caps *c, unsigned families);
/* Autoload exactly the programs of the chosen implementations (programs
 * the table does not name, the cgroup hooks, are left as they are). */
void caps__apply(const struct caps *c, struct bpf_object *obj);

const char *caps__name(enum caps_id id);
const char *caps__family_name(enum caps_family f);
/* "fentry filemap_read", or "blind" */
const char *caps__chosen_name(const struct caps *c, enum caps_id id);
/* What an operator loses when the capability is blind. */
const char *caps__blind_means(enum caps_id id);
/* Needed to enforce (check exits 1 without it); required to run at all. */
bool caps__needed(enum caps_id id);
bool caps__required(enum caps_id id);
/* The capability a program implements (-1: not one of the table's), and
 * whether the implementation can do without it (e.g. sendpage past 6.5). */
int caps__of_program(const char *prog, bool *optional);
/* The i-th program the table names (NULL past the last): for tests. */
const char *caps__program_at(size_t i);
/* Every needed capability covered, and the environment fit to enforce. */
bool caps__enforceable(const struct caps *c);

void caps__print(const struct caps *c, FILE *f);
/* {"kernel":..., "capabilities":{"read":"fentry filemap_read",...}} body
 * members, into an open object */
void caps__json(const struct caps *c, struct json *j, bool detail);

#endif
