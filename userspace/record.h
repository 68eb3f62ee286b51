/* SPDX-License-Identifier: GPL-2.0 */
/* What makes every alert-stream record traceable downstream: a UUID of its
 * own, the agent run's sequence number, boot id, machine id, hostname and the
 * operator's labels (docs/ALERTS.md, "Record identity"); and the size
 * contract: under RECORD_SOFT_BYTES normally, never over RECORD_HARD_BYTES
 * (long strings and arrays are cut and the record says so). */
#ifndef VIGIL_RECORD_H
#define VIGIL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define RECORD_SOFT_BYTES (8 << 10)
#define RECORD_HARD_BYTES (32 << 10)
#define RECORD_MAX_LABELS 16
#define RECORD_UUID_LEN 36

struct record_label {
	char key[32];
	char value[128];
};

struct record_identity {
	char hostname[256];
	char machine_id[64];	/* /etc/machine-id, "" if the host has none */
	char boot_id[RECORD_UUID_LEN + 1];
	char run_id[RECORD_UUID_LEN + 1];	/* this agent run */
	struct record_label labels[RECORD_MAX_LABELS];
	int nlabels;
	uint64_t seq;		/* last sequence number handed out */
};

/* Hostname, machine id, boot id and a fresh run id. Never fails: what the
 * host does not have stays "". */
void record__identity_init(struct record_identity *id);
/* "KEY=VALUE" from --label: KEY [a-z0-9_], 1-31 chars; VALUE printable
 * UTF-8, at most 127 bytes. 0 or -EINVAL with a message in err. */
int record__label_add(struct record_identity *id, const char *kv, char *err, size_t errlen);
/* A random (version 4) UUID, lowercase, NUL-terminated. */
void record__uuid(char out[RECORD_UUID_LEN + 1]);
/* The identity members of an open object: id, seq (next number), boot_id,
 * machine_id, run_id, labels. */
void record__stamp(struct record_identity *id, struct json *j);
/* True for the members record__stamp writes (what differs between two
 * emissions of the same content, e.g. a live alert and its replay). */
bool record__is_identity_key(const char *key);

/* Enforce the hard cap on a finished one-line object: if line is longer than
 * cap, rewrite it with the longest strings and arrays cut until it fits,
 * plus "truncated":true and "original_bytes" (*out, malloc'd, one line).
 * Returns 1 if it rewrote, 0 if the line already fits, -errno on failure. */
int record__cap(const char *line, size_t len, size_t cap, char **out);

#endif
