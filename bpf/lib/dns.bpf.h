/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DNS judged as DNS: the shape of a query's name, parsed in the kernel from
 * a UDP payload. A lookup is not exfiltration; a tunnel is, and it has to
 * carry its data in the name: long labels of encoded data (base32, hex,
 * base64 of the payload), name after name. Character entropy alone does
 * not tell: names made of words ("internal-scheduler-pushgateway-<id>.
 * us-west-2.elb.amazonaws.com") reach 4.4 bits per character, hex labels
 * of a tunnel stay under 4; the shape of the segments does (dns__segment_end). This header gives the
 * per-query shape (struct vigil_dns_shape); rate and volume per process and
 * window are the caller's.
 *
 * Self-contained like classify.bpf.h: the caller provides a struct
 * dns_scratch (a per-CPU map value).
 */
#ifndef VIGIL_DNS_BPF_H
#define VIGIL_DNS_BPF_H

#include "vigil_content.h"

#define VIGIL_DNS_HDR 12
#define VIGIL_DNS_BUF 512	/* header + longest name + qtype/qclass, a power of two */
#define DNS_BUCKETS 64		/* a-z (case folded), 0-9, '-', '_', other; a power of two */

/* 1000 * c * log2(c), rounded: entropy in milli-bits without floating point,
 * H = (T[N] - sum T[c_i]) / N for N characters with counts c_i. */
static const __u32 dns_nlog2n[256] = {
	0, 0, 2000, 4755, 8000, 11610, 15510, 19651,
	24000, 28529, 33219, 38054, 43020, 48106, 53303, 58603,
	64000, 69487, 75059, 80711, 86439, 92239, 98107, 104042,
	110039, 116096, 122211, 128382, 134606, 140881, 147207, 153580,
	160000, 166465, 172974, 179525, 186117, 192750, 199421, 206131,
	212877, 219660, 226477, 233329, 240215, 247133, 254084, 261066,
	268078, 275121, 282193, 289294, 296423, 303580, 310764, 317975,
	325212, 332475, 339763, 347076, 354413, 361775, 369160, 376569,
	384000, 391454, 398930, 406428, 413947, 421488, 429050, 436632,
	444235, 451857, 459500, 467161, 474842, 482543, 490261, 497999,
	505754, 513528, 521319, 529128, 536955, 544798, 552659, 560536,
	568430, 576340, 584267, 592209, 600168, 608142, 616131, 624136,
	632156, 640192, 648242, 656306, 664386, 672479, 680587, 688710,
	696846, 704996, 713160, 721337, 729528, 737732, 745950, 754180,
	762424, 770680, 778949, 787231, 795526, 803833, 812152, 820483,
	828827, 837182, 845550, 853929, 862320, 870723, 879137, 887563,
	896000, 904448, 912908, 921378, 929860, 938353, 946856, 955370,
	963895, 972430, 980976, 989533, 998100, 1006677, 1015264, 1023862,
	1032469, 1041087, 1049714, 1058352, 1066999, 1075656, 1084323, 1092999,
	1101685, 1110380, 1119085, 1127799, 1136523, 1145255, 1153997, 1162748,
	1171508, 1180278, 1189056, 1197843, 1206639, 1215443, 1224257, 1233079,
	1241909, 1250749, 1259596, 1268453, 1277318, 1286191, 1295072, 1303962,
	1312860, 1321766, 1330681, 1339603, 1348534, 1357472, 1366419, 1375373,
	1384335, 1393306, 1402284, 1411269, 1420263, 1429264, 1438273, 1447289,
	1456313, 1465344, 1474383, 1483429, 1492483, 1501544, 1510613, 1519688,
	1528771, 1537861, 1546959, 1556063, 1565175, 1574293, 1583419, 1592552,
	1601691, 1610838, 1619992, 1629152, 1638319, 1647493, 1656674, 1665861,
	1675056, 1684257, 1693464, 1702678, 1711899, 1721126, 1730360, 1739601,
	1748848, 1758101, 1767360, 1776627, 1785899, 1795178, 1804463, 1813754,
	1823052, 1832355, 1841665, 1850981, 1860304, 1869632, 1878967, 1888307,
	1897654, 1907006, 1916365, 1925729, 1935100, 1944476, 1953859, 1963247,
	1972641, 1982040, 1991446, 2000857, 2010275, 2019697, 2029126, 2038560,
};

struct dns_walk {
	__u32 n;		/* valid bytes in buf */
	__u32 pos;
	__u32 left;		/* bytes left in the current label */
	__u32 chars;
	__u32 labels;
	__u32 max_label;
	__u32 state;		/* 0 walking, 1 done, 2 malformed */
	/* the segment in progress: letters and digits between dots, '-', '_' */
	__u32 seg_len;
	__u32 seg_digits;
	__u32 seg_nonhex;	/* letters outside a-f */
	__u32 seg_flips;	/* digit <-> letter changes */
	__u32 seg_last;		/* 1 digit, 2 letter */
	__u32 max_segment;
	__u32 random_segment;	/* a segment shaped like encoded data was seen */
	__u8 counts[DNS_BUCKETS];
};

/* The caller's per-CPU scratch: message and walk state, in a map value so
 * the verifier sees the bpf_loop callback's state converge at once (see
 * struct classify_scratch). */
struct dns_scratch {
	__u8 buf[VIGIL_DNS_BUF];
	struct dns_walk w;
};

/* Host names are made of words and numbers: their segments are short, or
 * letters with a number at the end. Encoded data makes long segments that
 * are hex (digits and a-f only) or flip between digits and letters all
 * along (base32, base36, base64: ~1 digit in 6). */
static __always_inline void dns__segment_end(struct dns_walk *w)
{
	__u32 len = w->seg_len;

	if (len > w->max_segment)
		w->max_segment = len;
	if (len >= VIGIL_DNS_LONG_SEGMENT && w->seg_digits &&
	    (!w->seg_nonhex || w->seg_flips * 8 >= len))
		w->random_segment = 1;
	w->seg_len = w->seg_digits = w->seg_nonhex = w->seg_flips = w->seg_last = 0;
}

static __always_inline __u32 dns__bucket(__u8 c)
{
	if (c >= 'A' && c <= 'Z')
		c |= 0x20;
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '0' && c <= '9')
		return 26 + c - '0';
	if (c == '-')
		return 36;
	if (c == '_')
		return 37;
	return 38;
}

static __always_inline void dns__char(struct dns_walk *w, __u8 c)
{
	__u32 k = dns__bucket(c), kind;

	w->chars++;
	barrier_var(k);		/* keep the mask: the verifier needs it */
	w->counts[k & (DNS_BUCKETS - 1)]++;
	if (k >= 36) {		/* '-', '_' and anything else end a segment */
		dns__segment_end(w);
		return;
	}
	kind = k >= 26 ? 1 : 2;
	w->seg_len++;
	if (kind == 1)
		w->seg_digits++;
	else if (k >= 6)
		w->seg_nonhex++;
	if (w->seg_last && w->seg_last != kind)
		w->seg_flips++;
	w->seg_last = kind;
}

/* bpf_loop callback (ctx: a pointer to the scratch pointer): one byte of
 * the query name per call. */
static long dns__step(__u64 i, void *ctx)
{
	struct dns_scratch *x = *(struct dns_scratch **)ctx;
	struct dns_walk *w = &x->w;
	__u8 b;

	if (w->pos >= w->n) {
		w->state = 2;	/* truncated */
		return 1;
	}
	b = x->buf[w->pos & (VIGIL_DNS_BUF - 1)];
	w->pos++;
	if (w->left == 0) {
		dns__segment_end(w);
		if (b == 0) {
			w->state = 1;
			return 1;
		}
		if (b > 63) {	/* compression pointer or reserved: not in a query */
			w->state = 2;
			return 1;
		}
		w->left = b;
		w->labels++;
		if (b > w->max_label)
			w->max_label = b;
		return 0;
	}
	w->left--;
	dns__char(w, b);
	return 0;
}

/* Parse the DNS message in x->buf[0, n) (a UDP payload). Returns 0 and
 * fills *out if it is a query with a well-formed first name, else -1. */
static __always_inline int dns__parse_query(struct dns_scratch *x, __u32 n,
					    struct vigil_dns_shape *out)
{
	struct dns_walk *wp = &x->w;
	const __u8 *buf = x->buf;
	__u32 sum = 0, h;

	__builtin_memset(out, 0, sizeof(*out));
	if (n < VIGIL_DNS_HDR + 1 || n > VIGIL_DNS_BUF)
		return -1;
	if (buf[2] & 0x80)	/* QR: a response */
		return -1;
	if (buf[4] == 0 && buf[5] == 0)	/* no question */
		return -1;
	__builtin_memset(wp, 0, sizeof(*wp));
	wp->n = n;
	wp->pos = VIGIL_DNS_HDR;
	bpf_loop(VIGIL_DNS_NAME_MAX + 1, dns__step, &x, 0);	/* ctx must be on the stack */
	if (wp->state != 1)
		return -1;
	for (int i = 0; i < 39; i++)
		sum += dns_nlog2n[wp->counts[i]];
	h = wp->chars ? (dns_nlog2n[wp->chars & 255] - sum) / wp->chars : 0;
	out->name_len = wp->pos - VIGIL_DNS_HDR;
	out->labels = wp->labels;
	out->max_label = wp->max_label;
	out->entropy_mbits = h;
	if (wp->pos + 2 <= n)
		out->qtype = (__u16)buf[wp->pos & (VIGIL_DNS_BUF - 1)] << 8 |
			     buf[(wp->pos + 1) & (VIGIL_DNS_BUF - 1)];
	out->max_segment = wp->max_segment;
	out->flags = VIGIL_DNS_QUERY;
	if (wp->random_segment)
		out->flags |= VIGIL_DNS_TUNNEL;
	return 0;
}

/* Copy a UDP payload [off, off + len) into buf for dns__parse_query;
 * returns the bytes loaded (the name cannot be longer than that). */
static __always_inline __u32 dns__load_skb(struct __sk_buff *skb, __u32 off, __u32 len,
					   __u8 *buf)
{
	__u32 n = len < VIGIL_DNS_BUF ? len : VIGIL_DNS_BUF;

	/* a bound the compiler cannot move past the check (6.1's verifier
	 * does not follow a copy taken before it) */
	asm volatile("%[n] &= %[m]" : [n] "+r"(n) : [m] "i"(2 * VIGIL_DNS_BUF - 1));
	if (n < VIGIL_DNS_HDR + 1 || n > VIGIL_DNS_BUF)
		return 0;
	if (bpf_skb_load_bytes(skb, off, buf, n))
		return 0;
	return n;
}

#endif
