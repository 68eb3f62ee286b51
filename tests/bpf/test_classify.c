// SPDX-License-Identifier: GPL-2.0
/*
 * The content classifier and the DNS shape, on the real BPF code: the
 * library headers wrapped by tests/bpf/classify.bpf.c, loaded into the
 * kernel and run with BPF_PROG_TEST_RUN on packets built from the corpus of
 * tests/lib/corpus.py (.output/corpus). Each corpus flow is cut into packets
 * (1400 and 100 payload bytes) and sent through the program under its own
 * TCP source port; the flow's class is read back after every packet, and
 * each packet's bytes count as charged to the class the flow had after it,
 * as the egress path charges them.
 *
 * Measured error rates go to stdout and .output/classify-rates.md (copied
 * into docs/ARCHITECTURE.md, "Content classes"); the tests assert bounds.
 *
 *   test_classify          the cmocka tests (needs root: loads BPF)
 *   test_classify --bench  cost per packet, ns (BPF_PROG_TEST_RUN repeat)
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "vigil_content.h"
#include "classify.skel.h"
#include "../unit/repo_file.h"

#define CORPUS ".output/corpus"
#define RATES_OUT ".output/classify-rates.md"
#define PKT_HDR (14 + 20 + 20)	/* ethernet, IPv4, TCP */
#define PKT_MAX 2048

static struct classify_bpf *skel;

/* ---- packets ---- */

/* An Ethernet + IPv4 + TCP (or UDP) frame carrying payload from sport. */
static size_t packet_build(unsigned char *pkt, int udp, uint16_t sport, const void *payload,
			   size_t len)
{
	size_t l4 = udp ? 8 : 20, tot = 20 + l4 + len;

	memset(pkt, 0, 14 + 20 + l4);
	pkt[12] = 0x08;			/* ETH_P_IP */
	pkt[14] = 0x45;			/* IPv4, ihl 5 */
	pkt[16] = tot >> 8;
	pkt[17] = tot & 0xff;
	pkt[22] = 64;
	pkt[23] = udp ? 17 : 6;
	memcpy(pkt + 26, (unsigned char[]){ 10, 213, 9, 1 }, 4);
	memcpy(pkt + 30, (unsigned char[]){ 10, 213, 9, 2 }, 4);
	pkt[34] = sport >> 8;
	pkt[35] = sport & 0xff;
	pkt[36] = 0x1f;			/* dport 8080 / 53 below */
	pkt[37] = udp ? 0x35 : 0x90;
	if (udp) {
		pkt[36] = 0;
		pkt[38] = (8 + len) >> 8;
		pkt[39] = (8 + len) & 0xff;
	} else {
		pkt[46] = 5 << 4;	/* doff */
		pkt[47] = 0x18;		/* PSH ACK */
	}
	memcpy(pkt + 14 + 20 + l4, payload, len);
	return 14 + 20 + l4 + len;
}

static __u32 prog_run(int prog_fd, const void *pkt, size_t len, int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
		    .repeat = repeat);

	assert_int_equal(bpf_prog_test_run_opts(prog_fd, &opts), 0);
	return opts.duration;
}

static void flow_reset(uint16_t port)
{
	__u32 key = port;

	bpf_map_delete_elem(bpf_map__fd(skel->maps.ct_flows), &key);
}

static int flow_get(uint16_t port, struct vigil_content *c)
{
	__u32 key = port;

	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.ct_flows), &key, c);
}

/* Send payload from port in packets of chunk bytes; returns the flow's
 * class at the end, adds to *wrong the bytes charged to a class other than
 * want (when want is not UNKNOWN). */
static int flow_send(uint16_t port, const unsigned char *data, size_t len, size_t chunk,
		     int want, size_t *wrong)
{
	int fd = bpf_program__fd(skel->progs.ct_content);
	unsigned char pkt[PKT_MAX];
	struct vigil_content c = {};

	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		prog_run(fd, pkt, packet_build(pkt, 0, port, data + off, n), 1);
		assert_int_equal(flow_get(port, &c), 0);
		if (wrong && want && c.class != want)
			*wrong += n;
	}
	return c.class;
}

/* ---- corpus ---- */

struct corpus_class {
	char name[64];
	int want;		/* enum vigil_class, or 1 normal / 2 tunnel for DNS */
	int report_only;	/* a blind spot: measured, not asserted */
	unsigned char *data;	/* records: u32 length, bytes */
	size_t size;
};

static int corpus_load(const char *manifest, struct corpus_class *cls, int max)
{
	char path[512], line[512], want[32], file[256], how[16];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), CORPUS "/%s", manifest);
	f = fopen(path, "re");
	if (!f)
		fail_msg("cannot open %s (make builds the corpus; run from the repo root)", path);
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %31s %255s %15s", cls[n].name, want, file, how) != 4)
			fail_msg("%s: bad line '%s'", path, line);
		cls[n].report_only = !strcmp(how, "report");
		cls[n].want = !strcmp(want, "weights") || !strcmp(want, "tunnel") ? 2 : 1;
		snprintf(path, sizeof(path), CORPUS "/%s", file);
		cls[n].data = (unsigned char *)slurp_size(path, &cls[n].size);
		n++;
	}
	fclose(f);
	return n;
}

/* Iterate the records of a class: returns the next record or NULL. */
static const unsigned char *record_next(const struct corpus_class *c, size_t *pos, __u32 *len)
{
	if (*pos + 4 > c->size)
		return NULL;
	memcpy(len, c->data + *pos, 4);
	if (*pos + 4 + *len > c->size)
		fail_msg("%s: truncated record", c->name);
	*pos += 4 + *len;
	return c->data + *pos - *len;
}

/* ---- tests ---- */

static int setup(void **state)
{
	skel = classify_bpf__open();
	if (!skel)
		fail_msg("opening tests/bpf/classify.bpf.c: %s", strerror(errno));
	skel->rodata->cfg_tgid = getpid();
	if (classify_bpf__load(skel))
		fail_msg("loading tests/bpf/classify.bpf.c: %s", strerror(errno));
	return 0;
}

static int teardown(void **state)
{
	classify_bpf__destroy(skel);
	skel = NULL;
	return 0;
}

struct rate {
	const char *name;
	int want;
	size_t flows, flows_wrong, bytes, bytes_wrong;
};

static const char *class_name(int c)
{
	return c == VIGIL_CLASS_WEIGHTS ? "weights" : c == VIGIL_CLASS_WORK ? "work" : "unknown";
}

/* Error bounds the classifier must keep on the corpus, per class (flows
 * misclassified at their end; bytes charged to the wrong class on the way,
 * first packets included). Work mistaken for weights is a false kill. The
 * first ~200 bytes of a leak wrapped in HTTP and JSON are its header and
 * keys, text that counts as work: up to 9 % of a 3 KiB flow in 100-byte
 * packets, whence the looser byte bound for weights. */
#define MAX_WORK_FLOW_ERR 0.01
#define MAX_WORK_BYTE_ERR 0.01
#define MAX_WEIGHTS_FLOW_ERR 0.01
#define MAX_WEIGHTS_BYTE_ERR 0.10

static void corpus_rates(size_t chunk, FILE *md)
{
	struct corpus_class cls[32];
	int n = corpus_load("manifest.tsv", cls, 32);
	uint16_t port = 1;

	assert_true(n >= 15);
	fprintf(md, "\n| class (%zu-byte packets) | expected | flows | flows wrong | bytes wrong |\n"
		    "|---|---|---|---|---|\n", chunk);
	for (int i = 0; i < n; i++) {
		struct rate r = { .want = cls[i].want };
		const unsigned char *rec;
		size_t pos = 0;
		__u32 len;

		r.name = cls[i].name;
		while ((rec = record_next(&cls[i], &pos, &len))) {
			flow_reset(port);
			if (flow_send(port, rec, len, chunk, r.want, &r.bytes_wrong) != r.want)
				r.flows_wrong++;
			flow_reset(port);
			r.flows++;
			r.bytes += len;
		}
		fprintf(md, "| %s%s | %s | %zu | %.1f %% | %.2f %% |\n", r.name,
			cls[i].report_only ? " (blind spot, not asserted)" : "", class_name(r.want),
			r.flows, 100.0 * r.flows_wrong / r.flows, 100.0 * r.bytes_wrong / r.bytes);
		printf("  %-18s %-7s flows %4zu wrong %5.1f %%  bytes wrong %6.2f %%\n", r.name,
		       class_name(r.want), r.flows, 100.0 * r.flows_wrong / r.flows,
		       100.0 * r.bytes_wrong / r.bytes);
		if (cls[i].report_only) {
			/* measured and documented */
		} else if (r.want == VIGIL_CLASS_WORK) {
			if (r.flows_wrong > MAX_WORK_FLOW_ERR * r.flows ||
			    r.bytes_wrong > MAX_WORK_BYTE_ERR * r.bytes)
				fail_msg("%s: work classified weights too often", r.name);
		} else if (r.flows_wrong > MAX_WEIGHTS_FLOW_ERR * r.flows ||
			   r.bytes_wrong > MAX_WEIGHTS_BYTE_ERR * r.bytes) {
			fail_msg("%s: weights classified work too often", r.name);
		}
		free(cls[i].data);
	}
}

static FILE *rates_md(const char *mode)
{
	FILE *md = fopen(RATES_OUT, mode);

	assert_non_null(md);
	return md;
}

static void corpus_in_1400_byte_packets(void **state)
{
	FILE *md = rates_md("w");

	corpus_rates(1400, md);
	fclose(md);
}

static void corpus_in_100_byte_packets(void **state)
{
	FILE *md = rates_md("a");

	corpus_rates(100, md);
	fclose(md);
}

static void text(unsigned char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < len; i++)
		buf[i] = s[i % n];
}

static void utf8_text_in_any_language_is_work(void **state)
{
	unsigned char buf[1400];

	text(buf, sizeof(buf), "Модель ответила на вопрос. 東京のデータは正しい。 "
			       "La réponse du modèle est naïve — voilà. ");
	flow_reset(7);
	assert_int_equal(flow_send(7, buf, sizeof(buf), 1400, 0, NULL), VIGIL_CLASS_WORK);
	/* and cut anywhere, even inside a character */
	flow_reset(7);
	assert_int_equal(flow_send(7, buf, sizeof(buf), 97, 0, NULL), VIGIL_CLASS_WORK);
}

static void short_payloads_are_not_sampled(void **state)
{
	struct vigil_content c;

	flow_reset(8);
	flow_send(8, (const unsigned char *)"\x00\x01\x02\x03\x04\x05\x06\x07", 8, 8, 0, NULL);
	assert_int_equal(flow_get(8, &c), 0);
	assert_int_equal(c.samples, 0);
	assert_int_equal(c.class, VIGIL_CLASS_UNKNOWN);
}

/* A sample is at most VIGIL_SAMPLE_BYTES from a random place: a text
 * prefix in every packet does not hide what follows it. */
static void a_text_prefix_does_not_hide_binary(void **state)
{
	struct corpus_class cls[32];
	int n = corpus_load("manifest.tsv", cls, 32);
	unsigned char buf[1400];
	const unsigned char *bin = NULL;
	size_t pos = 0;
	__u32 len = 0;

	for (int i = 0; i < n; i++)
		if (!strcmp(cls[i].name, "bf16"))
			bin = record_next(&cls[i], &pos, &len);
	assert_non_null(bin);
	assert_true(len >= sizeof(buf));
	flow_reset(9);
	for (int k = 0; k < 16; k++) {
		text(buf, 300, "{\"choices\": [{\"text\": \"The answer is \"}], ");
		memcpy(buf + 300, bin, sizeof(buf) - 300);
		flow_send(9, buf, sizeof(buf), sizeof(buf), 0, NULL);
	}
	struct vigil_content c;

	assert_int_equal(flow_get(9, &c), 0);
	assert_int_equal(c.class, VIGIL_CLASS_WEIGHTS);
	for (int i = 0; i < n; i++)
		free(cls[i].data);
}

/* A long-lived connection that turns from answers to weights is caught
 * within a few packets (decayed statistics), and remembers it did. */
static void a_flow_turning_to_weights_is_caught_quickly(void **state)
{
	struct corpus_class cls[32];
	int n = corpus_load("manifest.tsv", cls, 32);
	const unsigned char *work = NULL, *enc = NULL;
	size_t pw = 0, pe = 0;
	__u32 lw = 0, le = 0;
	struct vigil_content c;
	int k;

	for (int i = 0; i < n; i++) {
		if (!strcmp(cls[i].name, "completions"))
			for (int j = 0; j < 20; j++)
				work = record_next(&cls[i], &pw, &lw);
		if (!strcmp(cls[i].name, "base64-bf16"))
			enc = record_next(&cls[i], &pe, &le);
	}
	assert_non_null(work);
	assert_non_null(enc);
	flow_reset(10);
	for (k = 0; k < 10; k++)
		assert_int_equal(flow_send(10, work, lw, 1400, 0, NULL), VIGIL_CLASS_WORK);
	for (k = 0; k < 8; k++)
		if (flow_send(10, enc + k * 500, 500, 500, 0, NULL) == VIGIL_CLASS_WEIGHTS)
			break;
	assert_true(k <= 3);
	assert_int_equal(flow_get(10, &c), 0);
	assert_true(c.flags & VIGIL_CF_SEEN_WEIGHTS);
	for (int i = 0; i < n; i++)
		free(cls[i].data);
}

/* The corpus has the cases that defeat a byte-entropy classifier (hex of
 * weights vs embedding JSON, base32 vs metrics): the best single entropy
 * threshold over whole flows still gets many flows wrong. A corpus an
 * entropy cut could pass would not test the classifier. */
struct scored {
	double h;
	int weights;
};

static int cmp_scored(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->h, y = ((const struct scored *)b)->h;

	return x < y ? -1 : x > y;
}

static double entropy_bits(const unsigned char *p, size_t n)
{
	size_t cnt[256] = { 0 };
	double h = 0;

	for (size_t i = 0; i < n; i++)
		cnt[p[i]]++;
	for (int i = 0; i < 256; i++)
		if (cnt[i])
			h -= (double)cnt[i] / n * log2((double)cnt[i] / n);
	return h;
}

static void an_entropy_threshold_cannot_tell(void **state)
{
	struct corpus_class cls[32];
	int n = corpus_load("manifest.tsv", cls, 32);
	struct scored *sc = calloc(32 * 1000, sizeof(*sc));
	size_t m = 0, best, wrong, nweights = 0;
	FILE *md = rates_md("a");

	assert_non_null(sc);
	for (int i = 0; i < n; i++) {
		const unsigned char *rec;
		size_t pos = 0;
		__u32 len;

		while (!cls[i].report_only && m < 32 * 1000 &&
		       (rec = record_next(&cls[i], &pos, &len))) {
			sc[m].h = entropy_bits(rec, len);
			sc[m].weights = cls[i].want == VIGIL_CLASS_WEIGHTS;
			nweights += sc[m].weights;
			m++;
		}
		free(cls[i].data);
	}
	qsort(sc, m, sizeof(*sc), cmp_scored);
	/* "weights if entropy > sc[k].h": wrong = weights at or below + work
	 * above; below the lowest, every flow is called weights */
	wrong = best = m - nweights;
	for (size_t k = 0; k < m; k++) {
		wrong += sc[k].weights ? 1 : -1;
		if (wrong < best)
			best = wrong;
	}
	fprintf(md, "\nBaseline: the best single byte-entropy threshold over whole flows gets "
		    "%.1f %% of these flows wrong.\n", 100.0 * best / m);
	printf("  entropy-threshold baseline: best cut gets %zu of %zu flows wrong (%.1f %%)\n",
	       best, m, 100.0 * best / m);
	assert_true(best * 10 >= m);
	free(sc);
	fclose(md);
}

/* ---- sends: sampled in tcp_sendmsg_locked, before the data is queued ---- */

static const unsigned char *corpus_first(struct corpus_class *cls, int n, const char *name,
					 __u32 *len)
{
	size_t pos = 0;

	for (int i = 0; i < n; i++)
		if (!strcmp(cls[i].name, name))
			return record_next(&cls[i], &pos, len);
	fail_msg("corpus has no class %s", name);
	return NULL;
}

/* A loopback TCP pair: *cli connected to *srv (accepted); returns the
 * client's local port, the flow id ct_sendmsg files its samples under. */
static uint16_t tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(*cli, (struct sockaddr *)&a, sizeof(a)), 0);
	*srv = accept(l, NULL, NULL);
	assert_true(*srv >= 0);
	close(l);
	alen = sizeof(a);
	assert_int_equal(getsockname(*cli, (struct sockaddr *)&a, &alen), 0);
	return ntohs(a.sin_port);
}

static void sends_are_sampled_before_they_are_queued(void **state)
{
	struct corpus_class cls[32];
	int n = corpus_load("manifest.tsv", cls, 32), cli, srv;
	struct bpf_link *link = bpf_program__attach(skel->progs.ct_sendmsg);
	const unsigned char *work, *enc;
	__u32 lw, le;
	struct vigil_content c;
	uint16_t port;
	char sink[65536];

	assert_non_null(link);
	work = corpus_first(cls, n, "completions", &lw);
	enc = corpus_first(cls, n, "base64-bf16", &le);

	/* send(): ITER_UBUF */
	port = tcp_pair(&cli, &srv);
	flow_reset(port);
	for (size_t off = 0; off + 1000 <= lw; off += 1000)
		assert_int_equal(send(cli, work + off, 1000, 0), 1000);
	assert_int_equal(flow_get(port, &c), 0);
	assert_true(c.samples >= 4);
	assert_int_equal(c.class, VIGIL_CLASS_WORK);
	assert_true(recv(srv, sink, sizeof(sink), 0) > 0);
	close(cli);
	close(srv);

	/* sendmsg() with two segments: ITER_IOVEC, the first one is sampled */
	port = tcp_pair(&cli, &srv);
	flow_reset(port);
	for (size_t off = 0; off + 1000 <= le; off += 1000) {
		struct iovec iov[2] = { { (void *)(enc + off), 600 }, { (void *)(enc + off + 600), 400 } };
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

		assert_int_equal(sendmsg(cli, &msg, 0), 1000);
	}
	assert_int_equal(flow_get(port, &c), 0);
	assert_true(c.samples >= 4);
	assert_int_equal(c.class, VIGIL_CLASS_WEIGHTS);
	assert_int_equal(c.last_len, 256);
	close(cli);
	close(srv);
	bpf_link__destroy(link);
	for (int i = 0; i < n; i++)
		free(cls[i].data);
}

/* ---- DNS ---- */

static int dns_shape(const void *msg, size_t len, struct vigil_dns_shape *out)
{
	unsigned char pkt[PKT_MAX];
	__u32 zero = 0;

	prog_run(bpf_program__fd(skel->progs.ct_dns), pkt, packet_build(pkt, 1, 4242, msg, len), 1);
	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.ct_dns_out), &zero, out);
}

#define MAX_DNS_NORMAL_ERR 0.01	/* ordinary lookups called tunnel */
#define MAX_DNS_TUNNEL_ERR 0.02	/* tunnel queries called ordinary */

static void dns_lookups_vs_tunnels(void **state)
{
	struct corpus_class cls[4];
	int n = corpus_load("dns.tsv", cls, 4);
	FILE *md = rates_md("a");

	assert_int_equal(n, 2);
	fprintf(md, "\n| DNS queries | expected | queries | wrong | name bytes (mean) | entropy bits/char (mean) |\n"
		    "|---|---|---|---|---|---|\n");
	for (int i = 0; i < n; i++) {
		const unsigned char *rec;
		size_t pos = 0, total = 0, wrong = 0, bytes = 0, mbits = 0;
		__u32 len;

		while ((rec = record_next(&cls[i], &pos, &len))) {
			struct vigil_dns_shape s;

			assert_int_equal(dns_shape(rec, len, &s), 0);
			assert_true(s.flags & VIGIL_DNS_QUERY);
			if (!!(s.flags & VIGIL_DNS_TUNNEL) != (cls[i].want == 2))
				wrong++;
			total++;
			bytes += s.name_len;
			mbits += s.entropy_mbits;
		}
		fprintf(md, "| %s | %s | %zu | %.1f %% | %.0f | %.2f |\n", cls[i].name,
			cls[i].want == 2 ? "tunnel" : "lookup", total, 100.0 * wrong / total,
			(double)bytes / total, mbits / 1000.0 / total);
		printf("  %-18s queries %4zu wrong %5.1f %%  name %5.1f B  entropy %.2f bits/char\n",
		       cls[i].name, total, 100.0 * wrong / total, (double)bytes / total,
		       mbits / 1000.0 / total);
		if (wrong > (cls[i].want == 2 ? MAX_DNS_TUNNEL_ERR : MAX_DNS_NORMAL_ERR) * total)
			fail_msg("%s: %zu of %zu judged wrong", cls[i].name, wrong, total);
		free(cls[i].data);
	}
	fclose(md);
}

static void dns_shape_fields_are_exact(void **state)
{
	/* "a1.bb.c" A IN: 2 + 3 + 2 + 1 name bytes, 3 labels */
	static const unsigned char q[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
					   2, 'a', '1', 2, 'b', 'b', 1, 'c', 0, 0, 28, 0, 1 };
	struct vigil_dns_shape s;

	assert_int_equal(dns_shape(q, sizeof(q), &s), 0);
	assert_int_equal(s.flags, VIGIL_DNS_QUERY);
	assert_int_equal(s.name_len, 9);
	assert_int_equal(s.labels, 3);
	assert_int_equal(s.max_label, 2);
	assert_int_equal(s.qtype, 28);
	/* a, 1, b, b, c: counts 1 1 2 1 -> H = log2(5) - 2/5 = 1.9219 bits */
	assert_in_range(s.entropy_mbits, 1921, 1923);
}

static void malformed_dns_is_not_a_query(void **state)
{
	unsigned char q[64] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				3, 'f', 'o', 'o', 0, 0, 1, 0, 1 };
	struct vigil_dns_shape s;

	assert_int_equal(dns_shape(q, 21, &s), 0);
	assert_int_equal(s.flags, VIGIL_DNS_QUERY);
	q[2] = 0x81;		/* a response */
	assert_int_equal(dns_shape(q, 21, &s), 0);
	assert_int_equal(s.flags, 0);
	q[2] = 0x01;
	q[12] = 0xc0;		/* compression pointer in a question */
	assert_int_equal(dns_shape(q, 21, &s), 0);
	assert_int_equal(s.flags, 0);
	q[12] = 40;		/* label running past the end */
	assert_int_equal(dns_shape(q, 21, &s), 0);
	assert_int_equal(s.flags, 0);
	assert_int_equal(dns_shape(q, 8, &s), 0);	/* shorter than a header */
	assert_int_equal(s.flags, 0);
}

/* ---- bench ---- */

static int cmp_u64(const void *a, const void *b)
{
	return *(const uint64_t *)a < *(const uint64_t *)b ? -1 : *(const uint64_t *)a > *(const uint64_t *)b;
}

static int cmp_u32(const void *a, const void *b)
{
	return *(const __u32 *)a < *(const __u32 *)b ? -1 : *(const __u32 *)a > *(const __u32 *)b;
}

static __u32 bench_median(int fd, const unsigned char *pkt, size_t len)
{
	__u32 ns[9];

	for (int i = 0; i < 9; i++)
		ns[i] = prog_run(fd, pkt, len, 20000);
	qsort(ns, 9, sizeof(ns[0]), cmp_u32);
	return ns[4];
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The send path: SENDS loopback send()s of 1400 bytes of a completion, with
 * and without ct_sendmsg (tcp_sendmsg_locked + classify__load_msg +
 * classify__update) attached; ns per send, median of 7 A/B rounds. The
 * receiver drains in between, so sends never block. */
#define SENDS 20000
static void bench_sends(struct corpus_class *cls, int n)
{
	const unsigned char *work = NULL;
	__u32 len = 0;
	uint64_t with[7], noop[7], without[7];
	int cli, srv;
	char sink[65536];

	for (int i = 0; i < n && !work; i++)
		if (!strcmp(cls[i].name, "completions")) {
			size_t pos = 0;

			work = record_next(&cls[i], &pos, &len);
		}
	if (!work || len < 1400)
		return;
	tcp_pair(&cli, &srv);
	for (int r = 0; r < 7; r++) {
		for (int attached = 0; attached < 3; attached++) {
			struct bpf_link *link = attached == 2 ?
				bpf_program__attach(skel->progs.ct_sendmsg) : attached == 1 ?
				bpf_program__attach(skel->progs.ct_sendmsg_noop) : NULL;
			uint64_t t0 = now_ns();

			for (int k = 0; k < SENDS; k++) {
				if (send(cli, work, 1400, 0) != 1400)
					fail_msg("send: %s", strerror(errno));
				if (k % 32 == 31)
					while (recv(srv, sink, sizeof(sink), MSG_DONTWAIT) > 0)
						;
			}
			(attached == 2 ? with : attached ? noop : without)[r] = (now_ns() - t0) / SENDS;
			bpf_link__destroy(link);
			while (recv(srv, sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
		}
	}
	qsort(with, 7, sizeof(with[0]), cmp_u64);
	qsort(noop, 7, sizeof(noop[0]), cmp_u64);
	qsort(without, 7, sizeof(without[0]), cmp_u64);
	printf("\nloopback send() of 1400 bytes, ns per send (median of 7 x %d):\n"
	       "  no program %llu, hook without sampling %llu, hook with the send sampler %llu:"
	       " sampler %+lld ns per send\n", SENDS, (unsigned long long)without[3],
	       (unsigned long long)noop[3], (unsigned long long)with[3],
	       (long long)with[3] - (long long)noop[3]);
	close(cli);
	close(srv);
}

/* ns per packet of ct_content and ct_parse_only (same parse and flow
 * lookup, no classifier), median of 9 runs of 20000 repeats each. */
static int bench(void)
{
	struct corpus_class cls[32];
	int n = corpus_load("manifest.tsv", cls, 32);
	unsigned char pkt[PKT_MAX];

	setup(NULL);
	printf("classifier cost per packet (BPF_PROG_TEST_RUN, median of 9 x 20000; "
	       "shared machine: noisy)\n%-18s %8s %10s %10s %10s\n", "class", "payload",
	       "with ns", "parse ns", "classify ns");
	for (int i = 0; i < n; i++) {
		const unsigned char *rec;
		size_t pos = 0;
		__u32 len;

		if (strcmp(cls[i].name, "completions") && strcmp(cls[i].name, "embeddings") &&
		    strcmp(cls[i].name, "bf16") && strcmp(cls[i].name, "base64-bf16"))
			continue;
		rec = record_next(&cls[i], &pos, &len);
		for (size_t chunk = 100; chunk <= 1400; chunk += 1300) {
			size_t plen = packet_build(pkt, 0, 11, rec, chunk < len ? chunk : len);
			__u32 with = bench_median(bpf_program__fd(skel->progs.ct_content), pkt, plen);
			__u32 base = bench_median(bpf_program__fd(skel->progs.ct_parse_only), pkt, plen);

			printf("%-18s %8zu %10u %10u %10d\n", cls[i].name, chunk, with, base,
			       (int)with - (int)base);
		}
	}
	bench_sends(cls, n);
	teardown(NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(corpus_in_1400_byte_packets),
		cmocka_unit_test(corpus_in_100_byte_packets),
		cmocka_unit_test(utf8_text_in_any_language_is_work),
		cmocka_unit_test(short_payloads_are_not_sampled),
		cmocka_unit_test(a_text_prefix_does_not_hide_binary),
		cmocka_unit_test(a_flow_turning_to_weights_is_caught_quickly),
		cmocka_unit_test(sends_are_sampled_before_they_are_queued),
		cmocka_unit_test(an_entropy_threshold_cannot_tell),
		cmocka_unit_test(dns_lookups_vs_tunnels),
		cmocka_unit_test(dns_shape_fields_are_exact),
		cmocka_unit_test(malformed_dns_is_not_a_query),
	};

	if (geteuid() != 0) {
		printf("test_classify: skipped, loading BPF needs root\n[  PASSED  ] 0 test(s).\n");
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench();
	return cmocka_run_group_tests(tests, setup, teardown);
}
