/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Content classes of tainted egress, and the shape of DNS queries: the
 * constants and per-flow state that bpf/lib/classify.bpf.h and
 * bpf/lib/dns.bpf.h keep and userspace reads. Same rules as vigil.h:
 * fixed-size fields, explicit pads, sizes pinned in tests/unit/test_layout.c.
 */
#ifndef VIGIL_CONTENT_H
#define VIGIL_CONTENT_H

#ifndef __VIGIL_BPF__
#include <linux/types.h>
#endif

/* What a flow's bytes look like (content.class in alerts). */
enum vigil_class {
	VIGIL_CLASS_UNKNOWN = 0,	/* nothing sampled yet */
	VIGIL_CLASS_WORK = 1,		/* language, JSON, numbers and metrics as text */
	VIGIL_CLASS_WEIGHTS = 2,	/* binary (tensors, compressed, encrypted) or
					 * base64 / base32 / hex of binary */
	VIGIL_CLASS_OPAQUE = 3,		/* TLS whose plaintext was not seen: follows
					 * the set's budget like weights */
};

/* Per packet or send, at most this many payload bytes are sampled (at a
 * random offset when the payload is longer), so the cost per packet is flat.
 * A power of two: the BPF side masks offsets with it. */
#define VIGIL_SAMPLE_BYTES 256
/* Payloads shorter than this are not sampled: too little to judge, they
 * are charged to the class their flow already has. */
#define VIGIL_SAMPLE_MIN 16
/* A run of base64/base32/hex alphabet symbols counts as an encoding of
 * binary from this length on (request ids and trace ids are shorter,
 * digests in logs are a small share of a flow). */
#define VIGIL_RUN_MIN 40
/* Flow statistics decay by 1/2^shift per sample: the class follows the
 * last ~8 samples, so a flow that turns from work to weights is caught
 * within a few packets. */
#define VIGIL_CONTENT_DECAY_SHIFT 3

/* Per-flow content statistics (decayed byte counts of the samples). */
struct vigil_content {
	__u32 sampled;		/* bytes sampled */
	__u32 binary;		/* of which: in samples with binary statistics */
	__u32 encoded;		/* of which: text shaped like base64/base32/hex */
	__u32 samples;		/* samples taken (not decayed) */
	__u16 last_len;		/* the last sample: its length, */
	__u16 last_distinct;	/* distinct byte values in it, */
	__u16 last_nontext;	/* control or non-UTF-8 bytes in it, */
	__u16 last_encoded;	/* bytes of encoded-looking runs in it */
	__u8 class;		/* enum vigil_class after the last sample */
	__u8 last_class;	/* class of the last sample on its own */
	__u8 flags;		/* VIGIL_CF_* */
	__u8 pad[5];		/* all fields aligned: no packed attribute */
};

#define VIGIL_CF_SEEN_WEIGHTS (1u << 0)	/* the flow was weights at some point */

/* TLS plaintext (bpf/lib/tls.bpf.h): what a tainted process handed its TLS
 * library before encryption, sampled by uprobes (bpf/tls.bpf.c) and bound
 * to the socket the records then left on. */
enum vigil_tls_lib {
	VIGIL_TLS_NONE = 0,
	VIGIL_TLS_OPENSSL = 1,	/* SSL_write, SSL_write_ex (libssl) */
	VIGIL_TLS_GNUTLS = 2,	/* gnutls_record_send */
	VIGIL_TLS_GO = 3,	/* crypto/tls.(*Conn).Write */
};

/* Per (process, destination), as vg_flows is keyed: the agent reads it for
 * alerts of the flow and `vigil status`. */
struct vigil_tls_flow {
	__u64 plaintext_bytes;	/* write sizes handed to the library, summed */
	__u32 samples;		/* plaintext samples bound to the flow */
	__u8 class;		/* enum vigil_class of the plaintext (WORK, WEIGHTS) */
	__u8 lib;		/* enum vigil_tls_lib of the last write */
	__u8 flags;		/* VIGIL_CF_SEEN_WEIGHTS */
	__u8 pad;
};

/* The shape of one DNS query (bpf/lib/dns.bpf.h). Names are judged by
 * what a tunnel needs: many bytes of high-entropy labels. */
#define VIGIL_DNS_NAME_MAX 255
struct vigil_dns_shape {
	__u16 name_len;		/* query name bytes, as on the wire (labels + lengths) */
	__u16 qtype;
	__u8 labels;
	__u8 max_label;		/* longest label */
	__u16 entropy_mbits;	/* Shannon entropy of the name's characters,
				 * milli-bits per character (case folded) */
	__u8 flags;		/* VIGIL_DNS_* */
	__u8 max_segment;	/* longest run of letters and digits */
	__u8 pad[6];
};

#define VIGIL_DNS_QUERY (1u << 0)	/* a well-formed query was parsed */
#define VIGIL_DNS_TUNNEL (1u << 1)	/* shaped like data carried in names */

/* A name is tunnel-shaped when it has a segment (letters and digits between
 * dots, '-' and '_') this long that is hex, or flips between digits and
 * letters all along: base32/hex/base64 labels of iodine, dnscat2, dns2tcp,
 * unlike host names made of words and numbers. */
#define VIGIL_DNS_LONG_SEGMENT 20

#endif /* VIGIL_CONTENT_H */
