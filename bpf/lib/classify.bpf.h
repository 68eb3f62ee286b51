/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Content classes of tainted egress, decided in the kernel before the bytes
 * leave: is this flow carrying weights (binary with the statistics of
 * tensors, compressed or encrypted data, or text that is an encoding of such
 * binary) or work (language, JSON, numbers and metrics as text)?
 *
 * Entropy alone cannot tell (../shared/CONTENT-NOTES.md: hex of weights sits
 * at the entropy of embedding JSON, base32 at that of Prometheus text), so a
 * sample is judged by which symbols occur and how:
 *   - binary: control bytes and bytes that break UTF-8 (so UTF-8 text in any
 *     language is text);
 *   - encoded: runs of the base64/base32/hex alphabet (no spaces, no
 *     punctuation) of VIGIL_RUN_MIN+ symbols mixing digits and letters,
 *     samples made of the hex alphabet alone (hex dumps with separators),
 *     and samples over a flat alphabet of ~85 symbols (base85, ascii85).
 * Words, JSON keys, numbers, ids and paths break such runs long before.
 *
 * Per flow, the byte counts decay per sample (VIGIL_CONTENT_DECAY_SHIFT),
 * and the flow is weights while binary + encoded bytes are a third or more
 * of what was sampled. That is the only state: struct vigil_content.
 *
 * Self-contained: needs vmlinux.h and the libbpf helpers, no vigil map. The
 * caller provides a struct classify_scratch (a per-CPU map value) and owns
 * where the vigil_content lives. Cost: one bpf_loop over at most
 * VIGIL_SAMPLE_BYTES / 8 words, whatever the packet size.
 */
#ifndef VIGIL_CLASSIFY_BPF_H
#define VIGIL_CLASSIFY_BPF_H

#include "vigil_content.h"

/* Byte classes: one table load per byte. The low 54 bits are six 9-bit
 * counters (a sample has at most 256 bytes, so they never carry into each
 * other): one add per byte counts every class at once. The top bits are
 * flags for the UTF-8 and run state machines. */
#define C_DIGIT   (1ull << 0)
#define C_LETTER  (1ull << 9)
#define C_NONHEX  (1ull << 18)	/* a letter outside a-f / A-F */
#define C_STRUCT  (1ull << 27)	/* JSON and key=value structure */
#define C_SPACE   (1ull << 36)
#define C_HIGH    (1ull << 45)	/* bytes >= 0x80 */
#define C_MASK    ((1ull << 54) - 1)
#define C_COUNT(acc, c) ((__u32)((acc) / (c)) & 511)
#define K_CTRL    (1ull << 54)	/* C0 controls except \t \n \r, and DEL */
#define K_DIGIT   (1ull << 55)
#define K_UPPER   (1ull << 56)
#define K_LOWER   (1ull << 57)
#define K_SYM     (1ull << 58)	/* + / - _: base64 (standard or URL-safe) symbols */
#define K_CONT    (1ull << 59)	/* 10xxxxxx: a UTF-8 continuation byte */
#define K_BADLEAD (1ull << 60)	/* never valid in UTF-8: C0 C1 F5..FF */
#define K_NEED_SHIFT 61		/* 2 bits: continuations a UTF-8 lead wants */
#define K_RUN (K_DIGIT | K_UPPER | K_LOWER | K_SYM)

static const __u64 classify_tbl[256] = {
	[0x00 ... 0x08] = K_CTRL, [0x0b ... 0x0c] = K_CTRL, [0x0e ... 0x1f] = K_CTRL,
	[0x7f] = K_CTRL,
	['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\r'] = C_SPACE, [' '] = C_SPACE,
	['0' ... '9'] = K_DIGIT | C_DIGIT,
	['A' ... 'F'] = K_UPPER | C_LETTER, ['G' ... 'Z'] = K_UPPER | C_LETTER | C_NONHEX,
	['a' ... 'f'] = K_LOWER | C_LETTER, ['g' ... 'z'] = K_LOWER | C_LETTER | C_NONHEX,
	['+'] = K_SYM, ['/'] = K_SYM, ['-'] = K_SYM, ['_'] = K_SYM,
	['{'] = C_STRUCT, ['}'] = C_STRUCT, ['['] = C_STRUCT, [']'] = C_STRUCT,
	['"'] = C_STRUCT, [':'] = C_STRUCT, [','] = C_STRUCT, ['='] = C_STRUCT,
	[0x80 ... 0xbf] = K_CONT | C_HIGH,
	[0xc0 ... 0xc1] = K_BADLEAD | C_HIGH,
	[0xc2 ... 0xdf] = (1ull << K_NEED_SHIFT) | C_HIGH,
	[0xe0 ... 0xef] = (2ull << K_NEED_SHIFT) | C_HIGH,
	[0xf0 ... 0xf4] = (3ull << K_NEED_SHIFT) | C_HIGH,
	[0xf5 ... 0xff] = K_BADLEAD | C_HIGH,
};

/* State of one sample's scan, then its statistics. */
struct classify_sample {
	__u32 n;
	__u32 nontext;		/* control bytes, bytes breaking UTF-8 */
	__u32 encoded;		/* bytes in runs shaped like an encoding */
	__u32 run_len;		/* the run of K_RUN symbols in progress */
	__u32 need;		/* UTF-8 continuations still expected */
	__u32 distinct;
	__u32 binary;		/* verdict: binary statistics */
	__u32 pad;
	__u64 run_flags;
	__u64 acc;		/* the C_* counters */
	__u64 seen[4];		/* byte values present */
};

/* The caller's per-CPU scratch: the sample and the scan state. The state
 * lives in the map value, not on the stack, on purpose: the verifier does
 * not track map contents, so the bpf_loop callback's state converges at
 * once instead of being walked for every iteration. */
struct classify_scratch {
	__u8 buf[VIGIL_SAMPLE_BYTES];
	struct classify_sample s;
};

static __always_inline __u32 classify__popcount(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (x * 0x0101010101010101ull) >> 56;
}

/* A run of base64/base32/hex symbols ended: it is an encoding of binary if
 * long, and mixing digits with letters (and, where it has + / - _, both
 * cases: paths and snake_case names have one). */
static __always_inline __u32 classify__run_end(__u32 len, __u64 f)
{
	if (len >= VIGIL_RUN_MIN && (f & K_DIGIT) && (f & (K_UPPER | K_LOWER)) &&
	    (!(f & K_SYM) || ((f & K_UPPER) && (f & K_LOWER))))
		return len;
	return 0;
}

/* bpf_loop callback (ctx: a pointer to the scratch pointer): 8 bytes per
 * call (one aligned word of the buffer).
 * The state lives in locals while the word is scanned: stores into seen[]
 * would otherwise force every counter back to memory after each byte. */
static long classify__word(__u64 i, void *ctx)
{
	struct classify_scratch *x = *(struct classify_scratch **)ctx;
	struct classify_sample *s = &x->s;
	__u32 off = (i * 8) & (VIGIL_SAMPLE_BYTES - 8);
	__u64 w = *(const __u64 *)(x->buf + off), acc = s->acc, run_flags = s->run_flags;
	__u32 n = s->n, nontext = s->nontext, encoded = s->encoded, run_len = s->run_len;
	__u32 need = s->need;
	long ret = 0;

#pragma unroll
	for (int k = 0; k < 8; k++) {
		__u8 b = w & 0xff;
		__u64 t = classify_tbl[b];

		if (off + k >= n) {
			ret = 1;
			break;
		}
		w >>= 8;
		acc += t & C_MASK;
		s->seen[b >> 6] |= 1ull << (b & 63);
		if (need) {
			if (t & K_CONT) {
				need--;
				continue;	/* inside a valid UTF-8 character, not a run */
			}
			nontext++;	/* a lead byte without its continuations */
			need = 0;
		}
		if (t & (K_CONT | K_BADLEAD | K_CTRL))
			nontext++;
		else
			need = (t >> K_NEED_SHIFT) & 3;
		if (t & K_RUN) {
			run_len++;
			run_flags |= t;
		} else if (run_len) {
			encoded += classify__run_end(run_len, run_flags);
			run_len = 0;
			run_flags = 0;
		}
	}
	s->acc = acc;
	s->run_flags = run_flags;
	s->nontext = nontext;
	s->encoded = encoded;
	s->run_len = run_len;
	s->need = need;
	return ret;
}

/* Judge one sample on its own: returns enum vigil_class, fills s. */
static __always_inline __u8 classify__sample(struct classify_scratch *x)
{
	struct classify_sample *s = &x->s;
	__u32 n = s->n, digits, letters, nonhex, spaces, high;

	bpf_loop((n + 7) / 8, classify__word, &x, 0);	/* ctx must be on the stack */
	s->encoded += classify__run_end(s->run_len, s->run_flags);
	digits = C_COUNT(s->acc, C_DIGIT);
	letters = C_COUNT(s->acc, C_LETTER);
	nonhex = C_COUNT(s->acc, C_NONHEX);
	spaces = C_COUNT(s->acc, C_SPACE);
	high = C_COUNT(s->acc, C_HIGH);
	s->distinct = classify__popcount(s->seen[0]) + classify__popcount(s->seen[1]) +
		      classify__popcount(s->seen[2]) + classify__popcount(s->seen[3]);
	/* Text of the hex alphabet alone (hex dumps with separators): digits
	 * and a-f letters throughout, no other letter. Embedding JSON has no
	 * letters; language has all of them. */
	if (digits * 4 >= n && (letters - nonhex) * 8 >= n && nonhex * 32 <= n)
		s->encoded = n;
	/* Printable text over a flat alphabet of ~85 symbols (base85,
	 * ascii85): far more distinct symbols than language or JSON use in
	 * as many bytes (measured: 78+ of 256 vs 57 at most), no spaces, and
	 * ASCII (UTF-8 of CJK text spreads over many byte values too). */
	if (s->distinct >= 37 + n / 8 && spaces * 16 <= n && !high)
		s->encoded = n;
	/* binary: 1/8 of the bytes are not text. Work is text; a zero-filled
	 * or sparse buffer is not, and counts as binary (fail closed) */
	s->binary = s->nontext * 8 >= n;
	return s->binary || s->encoded * 2 >= n ? VIGIL_CLASS_WEIGHTS : VIGIL_CLASS_WORK;
}

static __always_inline __u32 classify__decay(__u32 v)
{
	return v - (v >> VIGIL_CONTENT_DECAY_SHIFT);
}

/* Add one judged sample (classify__sample) to a flow's statistics; returns
 * the flow's class after it. Also used where the sample is taken in one
 * place and its flow is known only later (TLS plaintext, lib/tls.bpf.h). */
static __always_inline __u8 classify__fold(struct vigil_content *c,
					   const struct classify_sample *sp, __u8 cls)
{
	__u32 n = sp->n;

	c->sampled = classify__decay(c->sampled) + n;
	/* a binary sample counts whole; encoded runs count what they cover */
	c->binary = classify__decay(c->binary) + (sp->binary ? n : 0);
	c->encoded = classify__decay(c->encoded) + (sp->binary ? 0 : sp->encoded);
	c->samples++;
	c->last_len = n;
	c->last_distinct = sp->distinct;
	c->last_nontext = sp->nontext;
	c->last_encoded = sp->encoded;
	c->last_class = cls;
	c->class = (c->binary + c->encoded) * 3 >= c->sampled ? VIGIL_CLASS_WEIGHTS
							      : VIGIL_CLASS_WORK;
	if (c->class == VIGIL_CLASS_WEIGHTS)
		c->flags |= VIGIL_CF_SEEN_WEIGHTS;
	return c->class;
}

/* Sample the first n bytes of x->buf into the flow's statistics; returns
 * the flow's class after it. n is clamped to VIGIL_SAMPLE_BYTES; below
 * VIGIL_SAMPLE_MIN nothing is sampled and the flow keeps its class. */
static __always_inline __u8 classify__update(struct vigil_content *c, struct classify_scratch *x,
					     __u32 n)
{
	struct classify_sample *sp = &x->s;
	__u8 cls;

	if (n < VIGIL_SAMPLE_MIN)
		return c->class;
	if (n > VIGIL_SAMPLE_BYTES)
		n = VIGIL_SAMPLE_BYTES;
	__builtin_memset(sp, 0, sizeof(*sp));
	sp->n = n;
	cls = classify__sample(x);
	return classify__fold(c, sp, cls);
}

/* Copy the sample of a packet's payload [off, off + len) into buf: all of
 * it up to VIGIL_SAMPLE_BYTES, else VIGIL_SAMPLE_BYTES from a random place
 * (a sender cannot hide its data behind a text prefix it knows we read).
 * Returns the sample length, 0 if nothing was loaded. */
static __always_inline __u32 classify__load_skb(struct __sk_buff *skb, __u32 off, __u32 len,
						__u8 *buf)
{
	__u32 n = len;

	if (len < VIGIL_SAMPLE_MIN)
		return 0;
	if (len > VIGIL_SAMPLE_BYTES) {
		n = VIGIL_SAMPLE_BYTES;
		off += bpf_get_prandom_u32() % (len - VIGIL_SAMPLE_BYTES + 1);
	}
	/* bounds the verifier keeps: the compiler cannot move past them */
	asm volatile("%[n] &= %[m]" : [n] "+r"(n) : [m] "i"(2 * VIGIL_SAMPLE_BYTES - 1));
	/* a lower bound 6.1 keeps (it learns nothing from n != 0) */
	if (n < VIGIL_SAMPLE_MIN || n > VIGIL_SAMPLE_BYTES)
		return 0;
	if (bpf_skb_load_bytes(skb, off, buf, n))
		return 0;
	return n;
}

/* 6.1's iov_iter names its iovec pointer `iov` (6.4 renamed it `__iov`). */
struct iov_iter___61 {
	const struct iovec *iov;
} __attribute__((preserve_access_index));

/* The user memory a send starts with (tp_btf/tcp_sendmsg_locked and its
 * fallbacks, in the sender's context, before the data is queued): its
 * first segment's base and the bytes left in it. User memory of send/write
 * (ITER_UBUF) and sendmsg/writev (ITER_IOVEC, first segment); sendfile and
 * splice pass kernel pages (ITER_BVEC): 0, their packets are sampled. */
static __always_inline int classify__msg_span(const struct msghdr *msg, const __u8 **base,
					      __u64 *len)
{
	const struct iov_iter *it = &msg->msg_iter;
	__u8 type = BPF_CORE_READ(it, iter_type);
	__u64 off = BPF_CORE_READ(it, iov_offset);
	const struct iovec *iov;

	if (type == ITER_UBUF) {
		*base = (const __u8 *)BPF_CORE_READ(it, ubuf) + off;
		*len = BPF_CORE_READ(it, count);
		return 1;
	}
	if (type != ITER_IOVEC)
		return 0;
	if (bpf_core_field_exists(it->__iov))
		iov = BPF_CORE_READ(it, __iov);
	else
		iov = BPF_CORE_READ((struct iov_iter___61 *)it, iov);
	*base = (const __u8 *)BPF_CORE_READ(iov, iov_base);
	*len = BPF_CORE_READ(iov, iov_len);
	if (*len <= off)
		return 0;
	*base += off;
	*len -= off;
	return 1;
}

/* Copy the sample of len bytes of user memory at base into buf: all of it
 * up to VIGIL_SAMPLE_BYTES, else VIGIL_SAMPLE_BYTES from a random place.
 * Returns the sample length, 0 if nothing was loaded. */
static __always_inline __u32 classify__load_user(const __u8 *base, __u64 len, __u8 *buf)
{
	__u64 off = 0;
	__u32 n;

	if (len < VIGIL_SAMPLE_MIN)
		return 0;
	n = VIGIL_SAMPLE_BYTES;
	if (len > VIGIL_SAMPLE_BYTES)
		off = bpf_get_prandom_u32() % (len - VIGIL_SAMPLE_BYTES + 1);
	else
		n = len;
	/* a bound the compiler cannot move past the check */
	asm volatile("%[n] &= %[m]" : [n] "+r"(n) : [m] "i"(2 * VIGIL_SAMPLE_BYTES - 1));
	if (n < 1 || n > VIGIL_SAMPLE_BYTES)
		return 0;
	if (bpf_probe_read_user(buf, n, base + off))
		return 0;
	return n;
}

/* The sample of a send's data (classify__msg_span) into buf; its length,
 * 0 if nothing was loaded. */
static __always_inline __u32 classify__load_msg(const struct msghdr *msg, __u8 *buf)
{
	const __u8 *base;
	__u64 len;

	if (!classify__msg_span(msg, &base, &len))
		return 0;
	return classify__load_user(base, len, buf);
}

#endif
