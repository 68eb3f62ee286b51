// SPDX-License-Identifier: GPL-2.0
/* http://... and https://...: records POSTed in batches with libcurl, in the
 * body the receiving API wants (api=: generic NDJSON, Splunk HEC, Elastic
 * _bulk, Loki push; sink_http_body.c). Every record goes
 * to a spool first, a file (spool=DIR) or memory, bounded by spool_max; the
 * sink delivers the spool strictly in order from its oldest record, batch by
 * batch, and moves past a batch only when the receiver answered 2xx. While
 * the receiver is down it retries with backoff (0.5 s doubling to 30 s) and
 * the spool grows; when the spool is full, new records are refused (counted
 * failed): nothing already spooled is ever dropped or sent twice by the
 * agent. A file spool keeps its delivered offset on disk, so records not yet
 * delivered at stop go out after the next start. Receivers that must never
 * see a duplicate (a 2xx lost on the way back) dedupe on the record id. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "safefile.h"
#include "sink.h"
#include "sink_http_body.h"

#define DEFAULT_BATCH 100
#define DEFAULT_SPOOL_MAX (64ull << 20)
#define MAX_BODY (4u << 20)
#define MAX_ANSWER (1u << 20)

struct http_sink {
	CURL *curl;
	struct curl_slist *headers;
	char url[2048];
	unsigned batch;
	long timeout_s;
	unsigned long long spool_max;
	/* the spool: bytes [off, size) are not delivered yet */
	char dir[PATH_MAX];
	int fd, rfd;		/* file spool (appended to, read back), or -1: memory */
	char *mem;
	size_t memcap;
	unsigned long long size, off;
	unsigned long long pending, backlog_max, delivered, posts_failed;
	double next_try, backoff;
	char *body;
	/* https: CA file, client certificate and key (or NULL) */
	char *ca, *cert, *key;
	/* the receiving API, and its options (index=, sourcetype=, token=) */
	struct http_body_opts api;
	char *index, *sourcetype, *token;
	char *answer;		/* the receiver's answer to the last POST */
	size_t answer_len;
	unsigned long long rejected;	/* records the receiver refused for good */
	bool warned_reject;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct http_sink *state(struct sink *s)
{
	struct http_sink *h = sink__priv(s);

	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return NULL;
		h->fd = h->rfd = -1;
		h->batch = DEFAULT_BATCH;
		h->timeout_s = 10;
		h->spool_max = DEFAULT_SPOOL_MAX;
		sink__set_priv(s, h);
	}
	return h;
}

static int http_set(struct sink *s, const char *key, const char *v, char *err, size_t errlen)
{
	struct http_sink *h = state(s);
	unsigned long long x;
	char e[128], *end;

	if (!h)
		return -ENOMEM;
	if (!strcmp(key, "batch")) {
		x = strtoull(v, &end, 10);
		if (*end || !x || x > 10000) {
			snprintf(err, errlen, "batch=%s: want 1-10000 records per request", v);
			return -EINVAL;
		}
		h->batch = x;
	} else if (!strcmp(key, "timeout")) {
		x = strtoull(v, &end, 10);
		if (*end || !x || x > 600) {
			snprintf(err, errlen, "timeout=%s: want 1-600 seconds", v);
			return -EINVAL;
		}
		h->timeout_s = x;
	} else if (!strcmp(key, "spool")) {
		if (*v != '/' || strlen(v) >= sizeof(h->dir) - 32) {
			snprintf(err, errlen, "spool=%s: want an absolute directory", v);
			return -EINVAL;
		}
		snprintf(h->dir, sizeof(h->dir), "%s", v);
	} else if (!strcmp(key, "spool_max")) {
		if (addr__parse_size(v, &x, e, sizeof(e)) || x < 65536) {
			snprintf(err, errlen, "spool_max=%s: want a size of at least 64K", v);
			return -EINVAL;
		}
		h->spool_max = x;
	} else if (!strcmp(key, "ca") || !strcmp(key, "cert") || !strcmp(key, "key")) {
		char **slot = !strcmp(key, "ca") ? &h->ca : !strcmp(key, "cert") ? &h->cert : &h->key;

		if (*v != '/' || access(v, R_OK)) {
			snprintf(err, errlen, "%s=%s: want a readable file, by absolute path", key, v);
			return -EINVAL;
		}
		free(*slot);
		*slot = strdup(v);
		if (!*slot)
			return -ENOMEM;
	} else if (!strcmp(key, "api")) {
		int a = http_body__parse_api(v);

		if (a < 0) {
			snprintf(err, errlen, "api=%s: want generic, splunk, elastic or loki", v);
			return -EINVAL;
		}
		h->api.api = a;
	} else if (!strcmp(key, "index") || !strcmp(key, "sourcetype") || !strcmp(key, "token")) {
		char **slot = !strcmp(key, "index") ? &h->index :
			      !strcmp(key, "sourcetype") ? &h->sourcetype : &h->token;

		if (!*v || strpbrk(v, "\"\\\r\n")) {
			snprintf(err, errlen, "%s=%s: want a non-empty value without quotes, "
				 "backslashes or newlines", key, v);
			return -EINVAL;
		}
		free(*slot);
		*slot = strdup(v);
		if (!*slot)
			return -ENOMEM;
	} else if (!strcmp(key, "header")) {
		/* "Name: value" (no commas: they separate keys) */
		if (!strchr(v, ':')) {
			snprintf(err, errlen, "header=%s: want Name:value", v);
			return -EINVAL;
		}
		h->headers = curl_slist_append(h->headers, v);
	} else {
		return -ENOENT;
	}
	return 0;
}

/* ---- the spool ------------------------------------------------------------ */

static void offset_path(struct http_sink *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s/delivered", h->dir);
}

static void save_offset(struct http_sink *h)
{
	char p[PATH_MAX + 16], tmp[PATH_MAX + 32], num[32];
	int fd, n;

	if (h->fd < 0)
		return;
	offset_path(h, p, sizeof(p));
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	n = snprintf(num, sizeof(num), "%llu\n", h->off);
	if (write(fd, num, n) == n)
		rename(tmp, p);
	close(fd);
}

static int spool_append(struct http_sink *h, const char *p, size_t len)
{
	if (h->size + len > h->spool_max)
		return -ENOSPC;
	if (h->fd >= 0) {
		if (pwrite(h->fd, p, len, h->size) != (ssize_t)len)
			return -EIO;
	} else {
		if (h->size + len > h->memcap) {
			size_t cap = h->memcap ? h->memcap : 65536;
			char *nb;

			while (cap < h->size + len)
				cap *= 2;
			nb = realloc(h->mem, cap);
			if (!nb)
				return -ENOMEM;
			h->mem = nb;
			h->memcap = cap;
		}
		memcpy(h->mem + h->size, p, len);
	}
	h->size += len;
	return 0;
}

static ssize_t spool_read(struct http_sink *h, unsigned long long off, char *buf, size_t len)
{
	if (off + len > h->size)
		len = h->size - off;
	if (h->fd >= 0)
		return pread(h->rfd, buf, len, off);
	memcpy(buf, h->mem + off, len);
	return len;
}

/* Everything delivered: start the spool over. */
static void spool_reset(struct http_sink *h)
{
	if (h->fd >= 0 && ftruncate(h->fd, 0))
		return;
	h->size = h->off = 0;
	save_offset(h);
}

static int spool_open(struct http_sink *h, char *err, size_t errlen)
{
	char p[PATH_MAX + 16], why[512], num[32] = "";
	struct stat st;
	ssize_t n;
	int fd;

	if (!h->dir[0])
		return 0;	/* memory */
	if (mkdir(h->dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "spool=%s: %s", h->dir, strerror(errno));
		return -errno;
	}
	snprintf(p, sizeof(p), "%s/spool.ndjson", h->dir);
	h->fd = safefile__open_output(p, false, (gid_t)-1, why, sizeof(why));
	if (h->fd < 0) {
		snprintf(err, errlen, "spool %s", why);
		return h->fd;
	}
	/* the checked file, read back through a descriptor of its own */
	snprintf(p, sizeof(p), "/proc/self/fd/%d", h->fd);
	h->rfd = open(p, O_RDONLY | O_CLOEXEC);
	if (h->rfd < 0) {
		snprintf(err, errlen, "spool %s: %s", h->dir, strerror(errno));
		return -errno;
	}
	fstat(h->fd, &st);
	h->size = st.st_size;
	/* what a previous run spooled and did not deliver goes out first */
	offset_path(h, p, sizeof(p));
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = read(fd, num, sizeof(num) - 1);
		close(fd);
		if (n > 0) {
			num[n] = '\0';
			h->off = strtoull(num, NULL, 10);
		}
	}
	if (h->off > h->size)
		h->off = h->size;
	for (unsigned long long o = h->off; o < h->size;) {	/* count what is pending */
		char buf[65536];
		ssize_t r = spool_read(h, o, buf, sizeof(buf));

		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			h->pending += buf[i] == '\n';
		o += r;
	}
	if (h->pending)
		log__info("alert sink %s: %llu records spooled by an earlier run go out first",
			  h->url, h->pending);
	return 0;
}

/* ---- delivery ------------------------------------------------------------- */

/* The answer, kept (up to MAX_ANSWER) for the APIs that report per record. */
static size_t keep_answer(char *p, size_t size, size_t n, void *ctx)
{
	struct http_sink *h = ctx;
	size_t len = size * n, room = MAX_ANSWER - h->answer_len;
	char *nb;

	if (h->api.api != HTTP_API_ELASTIC || !room)
		return len;
	if (len > room)
		len = room;
	nb = realloc(h->answer, h->answer_len + len + 1);
	if (!nb)
		return size * n;
	h->answer = nb;
	memcpy(h->answer + h->answer_len, p, len);
	h->answer_len += len;
	h->answer[h->answer_len] = '\0';
	return size * n;
}

/* Did Elastic take the batch? All taken (or already there) or refused for
 * good: yes, move on; any item to retry: no, the whole batch again (the
 * items already indexed come back 409 by their _id). */
static bool bulk_taken(struct http_sink *h, size_t lines)
{
	struct bulk_result r;

	if (!http_body__bulk_result(h->answer, h->answer_len, lines, &r)) {
		log__warn("alert sink %s: not a _bulk answer for %zu records; retrying", h->url,
			  lines);
		return false;
	}
	if (r.retry)
		return false;
	if (r.rejected) {
		h->rejected += r.rejected;
		if (!h->warned_reject)
			log__warn("alert sink %s: %zu of %zu records refused (%s); counted in "
				  "agent_stats sinks[].rejected", h->url, r.rejected, lines,
				  r.first_error);
		h->warned_reject = true;
	}
	return true;
}

/* POST the next batch from the spool; true if delivered (or nothing to do). */
static bool deliver_one(struct sink *s, struct http_sink *h)
{
	unsigned long long take = h->size - h->off;
	ssize_t got;
	size_t end = 0, lines = 0;
	long code = 0, blen;
	char *shaped = NULL;
	const char *body;
	CURLcode rc;

	if (!take)
		return true;
	if (take > MAX_BODY)
		take = MAX_BODY;
	got = spool_read(h, h->off, h->body, take);
	if (got <= 0)
		return false;
	/* whole lines only, at most batch of them */
	for (ssize_t i = 0; i < got && lines < h->batch; i++)
		if (h->body[i] == '\n') {
			lines++;
			end = i + 1;
		}
	if (!end)
		return false;
	if (h->api.api == HTTP_API_GENERIC) {	/* the spool's lines are the body */
		body = h->body;
		blen = end;
	} else if ((blen = http_body__build(&h->api, h->body, end, lines, &shaped)) < 0) {
		log__warn("alert sink %s: could not build a %s body", h->url,
			  http_body__api_name(h->api.api));
		return false;
	} else {
		body = shaped;
	}
	h->answer_len = 0;
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, blen);
	rc = curl_easy_perform(h->curl);
	free(shaped);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK || code < 200 || code > 299 ||
	    (h->api.api == HTTP_API_ELASTIC && !bulk_taken(h, lines))) {
		h->posts_failed++;
		h->backoff = h->backoff ? (h->backoff * 2 > 30 ? 30 : h->backoff * 2) : 0.5;
		h->next_try = now_s() + h->backoff;
		if (h->posts_failed == 1 || !(h->posts_failed % 100))
			log__warn("alert sink %s: %s; %llu records spooled, retrying in %.1f s",
				  h->url, rc != CURLE_OK ? curl_easy_strerror(rc) :
				  code < 200 || code > 299 ? "HTTP error" : "records to retry",
				  h->pending, h->backoff);
		return false;
	}
	h->backoff = 0;
	h->off += end;
	h->pending -= lines;
	h->delivered += lines;
	if (h->off == h->size)
		spool_reset(h);
	else
		save_offset(h);
	sink__set_spool(s, h->pending, h->backlog_max, h->delivered, h->posts_failed);
	sink__set_rejected(s, h->rejected);
	return true;
}

static void deliver_due(struct sink *s, struct http_sink *h)
{
	if (now_s() < h->next_try)
		return;
	while (h->off < h->size && deliver_one(s, h))
		;
	sink__set_spool(s, h->pending, h->backlog_max, h->delivered, h->posts_failed);
}

static int http_write(struct sink *s, const struct sink_line *lines, int n)
{
	struct http_sink *h = sink__priv(s);
	int done = 0;

	for (; done < n; done++) {
		if (spool_append(h, lines[done].p, lines[done].len) ||
		    spool_append(h, "\n", 1))
			break;	/* spool full: the rest is refused, counted failed */
		h->pending++;
	}
	if (h->pending > h->backlog_max)
		h->backlog_max = h->pending;
	deliver_due(s, h);
	return done;
}

static void http_tick(struct sink *s)
{
	deliver_due(s, sink__priv(s));
}

static int http_open(struct sink *s, char *err, size_t errlen)
{
	struct http_sink *h = state(s);
	static bool global_done;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!global_done) {	/* at start-up, single-threaded */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global_done = true;
	}
	snprintf(h->url, sizeof(h->url), "%s", sink__target(s));
	/* a URL without a path gets the API's (https://splunk:8088) */
	if (!strchr(strstr(h->url, "://") + 3, '/') &&
	    strlen(h->url) + strlen(http_body__default_path(h->api.api)) < sizeof(h->url))
		strcat(h->url, http_body__default_path(h->api.api));
	h->api.index = h->index;
	h->api.sourcetype = h->sourcetype;
	if (h->api.api == HTTP_API_ELASTIC && !sink__is_json(s)) {
		snprintf(err, errlen, "--alerts %s: api=elastic needs a JSON format (native, ecs, "
			 "ocsf)", h->url);
		return -EINVAL;
	}
	if ((h->index && h->api.api != HTTP_API_SPLUNK && h->api.api != HTTP_API_ELASTIC) ||
	    ((h->sourcetype || h->token) && h->api.api != HTTP_API_SPLUNK)) {
		snprintf(err, errlen, "--alerts %s: %s= is not a key of api=%s", h->url,
			 h->token ? "token" : h->sourcetype ? "sourcetype" : "index",
			 http_body__api_name(h->api.api));
		return -EINVAL;
	}
	h->body = malloc(MAX_BODY);
	h->curl = curl_easy_init();
	if (!h->body || !h->curl) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((h->ca || h->cert || h->key) && strncmp(h->url, "https://", 8)) {
		snprintf(err, errlen, "--alerts %s: ca=, cert= and key= are for https://", h->url);
		return -EINVAL;
	}
	if (!h->cert != !h->key) {
		snprintf(err, errlen, "--alerts %s: cert= and key= go together", h->url);
		return -EINVAL;
	}
	if (spool_open(h, err, errlen))
		return -EIO;
	{
		char hdr[512];

		snprintf(hdr, sizeof(hdr), "Content-Type: %s",
			 http_body__content_type(h->api.api));
		h->headers = curl_slist_append(h->headers, hdr);
		if (h->token) {	/* HEC: Authorization: Splunk <token> */
			snprintf(hdr, sizeof(hdr), "Authorization: Splunk %s", h->token);
			h->headers = curl_slist_append(h->headers, hdr);
		}
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, h->url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, h->timeout_s);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, h->timeout_s);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/* libcurl verifies the peer and its name by default; ca= replaces the
	 * system store */
	if (h->ca)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, h->ca);
	if (h->cert) {
		curl_easy_setopt(h->curl, CURLOPT_SSLCERT, h->cert);
		curl_easy_setopt(h->curl, CURLOPT_SSLKEY, h->key);
	}
	sink__set_spool(s, h->pending, h->pending, 0, 0);
	h->backlog_max = h->pending;
	return 0;
}

static void http_close(struct sink *s)
{
	struct http_sink *h = sink__priv(s);
	double until = now_s() + 5;

	if (!h)
		return;
	/* last chance for what is spooled: a few seconds, then it waits on
	 * disk (file spool) for the next run */
	while (h->off < h->size && now_s() < until) {
		if (!deliver_one(s, h))
			usleep(200000);
	}
	if (h->off < h->size)
		log__warn("alert sink %s: %llu records not delivered%s", h->url, h->pending,
			  h->fd >= 0 ? "; they stay in the spool for the next run" : "");
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	if (h->fd >= 0)
		close(h->fd);
	if (h->rfd >= 0)
		close(h->rfd);
	free(h->mem);
	free(h->body);
	free(h->ca);
	free(h->cert);
	free(h->key);
	free(h->index);
	free(h->sourcetype);
	free(h->token);
	free(h->answer);
	free(h);
	sink__set_priv(s, NULL);
}

const struct sink_ops sink_http_ops = {
	.kind = "http",
	.set = http_set,
	.open = http_open,
	.write = http_write,
	.close = http_close,
	.tick = http_tick,
	.tick_ms = 100,
};
