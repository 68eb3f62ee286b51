/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Correlated activity: one state change of a tainted process, with
 * everything a rule may look at (the process, where its taint came from,
 * the destination, the bytes) and what the kernel did about it.
 *
 * The correlator produces these from kernel records; the rule engine turns
 * them into alerts; `vigil record` writes them to a capture and `vigil
 * replay` reads them back, so a capture replays through exactly the code
 * the live agent runs. Strings are borrowed: valid until the callback that
 * received the activity returns.
 */
#ifndef VIGIL_ACTIVITY_H
#define VIGIL_ACTIVITY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "expr.h"
#include "proc.h"

#define ACT_MAX_CHAIN 16
#define ACT_MAX_SOURCES 8
#define ACT_MAX_SETS 32

/*
 * The pipeline's vocabularies are enums; their words exist only at the
 * edges (alert lines, captures, rule text) and are spelt once, in the name
 * table activity__word() reads (activity.c):
 *   event    connect egress progress budget content  (evt.type)
 *            dns-tunnel unmetered control
 *   outcome  alert blocked killed                    (evt.action, action,
 *                                                     enforce_action)
 *   mode     monitor enforce                         (evt.mode)
 *   killer   kernel agent                            (killed_by)
 */
enum act_event {
	ACT_EV_CONNECT,		/* addressed a destination (connect, unconnected sendmsg) */
	ACT_EV_EGRESS,		/* first tainted byte left for a new destination */
	ACT_EV_PROGRESS,	/* a flow crossed a byte threshold (64 KiB x 4^n) */
	ACT_EV_BUDGET,		/* a protect set's budget (or a work budget) was spent */
	ACT_EV_CONTENT,		/* a flow's bytes turned weights-shaped */
	ACT_EV_DNS_TUNNEL,	/* a process's DNS queries carry data */
	ACT_EV_UNMETERED,	/* it sent on a socket no hook can meter (MPTCP, SCTP) */
	ACT_EV_CONTROL,		/* a blind-spot control fired: any process, tainted or not */
	ACT_EV__COUNT,
};

enum act_outcome {
	ACT_NONE,		/* enforce_action: nothing enforce would do differently */
	ACT_ALERT,		/* reported only */
	ACT_BLOCKED,		/* denied or dropped */
	ACT_KILLED,
	ACT_OUTCOME__COUNT,
};

enum act_mode { ACT_MONITOR, ACT_ENFORCE, ACT_MODE__COUNT };

enum act_killer { ACT_BY_NONE, ACT_BY_KERNEL, ACT_BY_AGENT, ACT_KILLER__COUNT };

enum act_vocab { ACT_VOCAB_EVENT, ACT_VOCAB_OUTCOME, ACT_VOCAB_MODE, ACT_VOCAB_KILLER,
		 ACT_VOCAB__COUNT };

/* The word for a value of a vocabulary; NULL for ACT_NONE / ACT_BY_NONE. */
const char *activity__word(enum act_vocab v, int value);
/* The value a word stands for, or -1 if it is none of the vocabulary's. */
int activity__parse_word(enum act_vocab v, const char *word);

struct act_source {
	const char *path;
	const char *set;
	uint64_t bytes_read;
	uint64_t size;			/* the file's size in bytes; 0: unknown */
};

/* Read coverage: bytes_read as a share of size, 0-100; -1 if unknown. */
int act_source__read_pct(const struct act_source *s);

struct act_link {
	uint32_t pid;
	const char *comm;
	const char *via;
	const char *path;		/* via "file": the copy it read; else NULL */
};

struct activity {
	struct timespec time;		/* wall clock, when the agent saw it */
	const char *host;
	enum act_mode mode;
	enum act_event event;
	enum act_outcome action;	/* what was done (never ACT_NONE) */
	enum act_outcome enforce_action; /* monitor mode: what enforce would do */
	enum act_killer killed_by;	/* when action is ACT_KILLED */
	char message[512];		/* a default sentence, for rules without a template */

	struct proc_info proc;
	const char *pname;		/* parent's comm, "" if unknown */

	struct act_source sources[ACT_MAX_SOURCES];
	int nsources;
	struct act_link chain[ACT_MAX_CHAIN];	/* reader first, this process last */
	int nchain;
	const char *sets[ACT_MAX_SETS];	/* names of the protect sets of the taint */
	int nsets;
	const char *taint_via;
	uint32_t taint_depth;
	uint64_t taint_bytes_read;	/* sum over sources */

	int af;				/* AF_INET / AF_INET6 */
	const char *family;		/* ipv4 | ipv6 | netfs */
	const char *protocol;		/* tcp | udp | other */
	unsigned char daddr_raw[16];	/* network order */
	char daddr[64];
	uint16_t dport;
	uint64_t bytes, blocked_bytes;
	bool allowed;			/* destination matches an allow entry */
	/* a TLS flow: its plaintext's class as the TLS uprobes saw it ("work",
	 * "weights"), or "unseen" (opaque); NULL when not known to be TLS */
	const char *tls_plaintext;
	const char *tls_library;	/* "openssl", "gnutls", "go", or NULL */
	const char *content;		/* work | weights | opaque | unknown: what its bytes look like */
	const char *direction;		/* outbound | inbound (accepted), NULL: not known */
	uint16_t lport;			/* the sender's local port, 0: not known */
	/* a write into a network filesystem (family "netfs", daddr its
	 * source): the mount it went to; fs_type NULL for network flows */
	const char *fs_type;		/* nfs4, cifs, 9p ... */
	char fs_type_buf[32];
	char fs_source[160];		/* server:/export, //server/share */
	char fs_mount[160];		/* the mount point */

	/* ACT_EV_CONTROL (bpf/blindspot.bpf.c); the other events are all tainted */
	bool tainted;
	const char *control_kind;	/* activity__control_kinds[] */
	char control_detail[192];	/* fs type, module file, socket or program type, device
					 * name, vigil's file or pin path */

	/* filled by activity__finish(): derived lists the rules look at */
	const char *ancestors[ACT_MAX_CHAIN];
	int nancestors;
	const char *paths[ACT_MAX_SOURCES];
	int npaths;
};

/* The words of control.kind, indexed by enum vigil_control; NULL-ended
 * from index 1. */
extern const char *const activity__control_kinds[];
/* The word for a kernel control kind, NULL if unknown. */
const char *activity__control_word(unsigned kind);

/* Derive ancestors/paths/taint_bytes_read from chain and sources. */
void activity__finish(struct activity *a);

/* The fields rules can use (docs/RULES.md lists exactly these). */
extern const struct expr_field activity_fields[];
extern const size_t activity_nfields;
void activity__get(const void *rec, unsigned id, struct expr_value *out);

#endif
