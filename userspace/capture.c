// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <zlib.h>

#include "capture.h"
#include "json.h"
#include "report.h"
#include "vigil.h"

#define CAPTURE_VERSION 1
#define MAX_LINE (1 << 20)

struct capture_writer {
	gzFile gz;
	struct json j;
};

static void put_time(struct json *j, const char *key, const struct timespec *ts)
{
	char buf[64];

	json__time_rfc3339(buf, sizeof(buf), ts);
	json__kv_str(j, key, buf);
}

static int put_line(struct capture_writer *w)
{
	const char *s = json__cstr(&w->j);
	size_t n = strlen(s);

	if (w->j.oom)
		return -ENOMEM;
	if (gzwrite(w->gz, s, (unsigned)n) != (int)n || gzputc(w->gz, '\n') < 0 ||
	    gzflush(w->gz, Z_SYNC_FLUSH) != Z_OK)
		return -EIO;
	return 0;
}

struct capture_writer *capture__create(const char *path, const char *host, const char *mode,
				       char *err, size_t errlen)
{
	struct capture_writer *w = calloc(1, sizeof(*w));
	struct timespec now;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->gz = gzopen(path, "wb6");
	if (!w->gz) {
		snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "cannot open");
		free(w);
		return NULL;
	}
	json__init(&w->j);
	clock_gettime(CLOCK_REALTIME, &now);
	json__begin_object(&w->j);
	json__kv_uint(&w->j, "vigil_capture", CAPTURE_VERSION);
	json__kv_str(&w->j, "version", VIGIL_VERSION);
	json__kv_str(&w->j, "host", host);
	json__kv_str(&w->j, "mode", mode);
	put_time(&w->j, "started", &now);
	json__end_object(&w->j);
	if (put_line(w)) {
		snprintf(err, errlen, "%s: write failed", path);
		capture__close(w);
		return NULL;
	}
	return w;
}

int capture__write(struct capture_writer *w, const struct activity *a)
{
	struct json *j = &w->j;

	json__reset(j);
	json__begin_object(j);
	put_time(j, "time", &a->time);
	json__kv_str(j, "host", a->host);
	json__kv_str(j, "mode", activity__word(ACT_VOCAB_MODE, a->mode));
	json__kv_str(j, "event", activity__word(ACT_VOCAB_EVENT, a->event));
	json__kv_str(j, "action", activity__word(ACT_VOCAB_OUTCOME, a->action));
	if (a->enforce_action != ACT_NONE)
		json__kv_str(j, "enforce_action",
			     activity__word(ACT_VOCAB_OUTCOME, a->enforce_action));
	if (a->killed_by != ACT_BY_NONE)
		json__kv_str(j, "killed_by", activity__word(ACT_VOCAB_KILLER, a->killed_by));
	json__kv_str(j, "message", a->message);
	report__body(j, a, true);
	json__end_object(j);
	return put_line(w);
}

int capture__close(struct capture_writer *w)
{
	int ret = 0;

	if (!w)
		return 0;
	if (gzclose(w->gz) != Z_OK)
		ret = -EIO;
	json__free(&w->j);
	free(w);
	return ret;
}

/* ---- reading ------------------------------------------------------------ */

static int parse_time(const char *s, struct timespec *ts)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	long usec = 0;
	int digits = 0;

	if (!p)
		return -EINVAL;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 6)
				usec = usec * 10 + (*p - '0');
		for (; digits < 6; digits++)
			usec *= 10;
	}
	if (strcmp(p, "Z"))
		return -EINVAL;
	ts->tv_sec = timegm(&tm);
	ts->tv_nsec = usec * 1000;
	return 0;
}

struct reader {
	const char *path;
	long line;
	char *err;
	size_t errlen;
};

static int bad(struct reader *r, const char *fmt, const char *a, const char *b)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, a, b);
	snprintf(r->err, r->errlen, "%s:%ld: %s", r->path, r->line, msg);
	return -EINVAL;
}

/* Optional string member; a present member of another type is an error. */
static int get_str(struct reader *r, json_t *obj, const char *key, const char *def,
		   const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = def;
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_string(v))
		return bad(r, "'%s' must be a string%s", key, "");
	*out = json_string_value(v);
	return 0;
}

static int get_uint(struct reader *r, json_t *obj, const char *key, unsigned long long *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad(r, "'%s' must be a non-negative integer%s", key, "");
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

static int copy_str(struct reader *r, json_t *obj, const char *key, char *buf, size_t len)
{
	const char *s = "";
	int err = get_str(r, obj, key, "", &s);

	if (!err)
		snprintf(buf, len, "%s", s);
	return err;
}

static int one_of(struct reader *r, const char *key, const char *v, const char *const *ok)
{
	for (; *ok; ok++)
		if (!strcmp(v, *ok))
			return 0;
	return bad(r, "unknown %s '%s'", key, v);
}

/* A word of a vocabulary (or def if the member is absent) into its enum. */
static int get_word(struct reader *r, json_t *obj, const char *key, enum act_vocab vocab,
		    const char *def, int *out)
{
	const char *s = def;

	if (get_str(r, obj, key, def, &s))
		return -EINVAL;
	*out = s ? activity__parse_word(vocab, s) : 0;
	return *out < 0 ? bad(r, "unknown %s '%s'", key, s) : 0;
}

static int read_process(struct reader *r, json_t *p, struct activity *a)
{
	unsigned long long v;
	int err = 0;

	if (!p)
		return 0;
	if (!json_is_object(p))
		return bad(r, "'process' must be an object%s%s", "", "");
	err |= get_uint(r, p, "pid", &v);
	a->proc.pid = (pid_t)v;
	err |= get_uint(r, p, "ppid", &v);
	a->proc.ppid = (pid_t)v;
	err |= get_uint(r, p, "uid", &v);
	a->proc.uid = (uid_t)v;
	err |= get_uint(r, p, "start_ticks", &a->proc.start_ticks);
	err |= copy_str(r, p, "comm", a->proc.comm, sizeof(a->proc.comm));
	err |= copy_str(r, p, "exe", a->proc.exe, sizeof(a->proc.exe));
	err |= copy_str(r, p, "cmdline", a->proc.cmdline, sizeof(a->proc.cmdline));
	err |= copy_str(r, p, "cgroup", a->proc.cgroup, sizeof(a->proc.cgroup));
	err |= get_str(r, p, "pname", "", &a->pname);
	return err ? -EINVAL : 0;
}

/* taint.<key>: a list (absent: empty) whose first max entries must be
 * objects (or strings); those are read, the rest ignored. Returns how
 * many to read, or -EINVAL. */
static int taint_list(struct reader *r, json_t *t, const char *key, bool objects, int max,
		      json_t **arr)
{
	json_t *e;
	size_t i;

	*arr = json_object_get(t, key);
	if (*arr && !json_is_array(*arr))
		return bad(r, "'taint.%s' must be a list%s", key, "");
	json_array_foreach(*arr, i, e) {
		if ((int)i >= max)
			break;
		if (objects ? !json_is_object(e) : !json_is_string(e))
			return bad(r, "'taint.%s' entries must be %s", key,
				   objects ? "objects" : "strings");
	}
	if (!*arr)
		return 0;
	return json_array_size(*arr) < (size_t)max ? (int)json_array_size(*arr) : max;
}

static int read_taint(struct reader *r, json_t *t, struct activity *a)
{
	unsigned long long v;
	json_t *arr, *e;
	int err = 0;

	a->taint_via = "read";
	if (!t)
		return 0;
	if (!json_is_object(t))
		return bad(r, "'taint' must be an object%s%s", "", "");
	if ((a->nsources = taint_list(r, t, "sources", true, ACT_MAX_SOURCES, &arr)) < 0)
		return -EINVAL;
	for (int i = 0; i < a->nsources; i++) {
		struct act_source *s = &a->sources[i];

		e = json_array_get(arr, i);
		err |= get_str(r, e, "path", "", &s->path);
		err |= get_str(r, e, "set", "", &s->set);
		err |= get_uint(r, e, "bytes_read", &v);
		s->bytes_read = v;
	}
	if ((a->nchain = taint_list(r, t, "chain", true, ACT_MAX_CHAIN, &arr)) < 0)
		return -EINVAL;
	for (int i = 0; i < a->nchain; i++) {
		struct act_link *l = &a->chain[i];

		e = json_array_get(arr, i);
		err |= get_uint(r, e, "pid", &v);
		l->pid = (uint32_t)v;
		err |= get_str(r, e, "comm", "", &l->comm);
		err |= get_str(r, e, "via", "read", &l->via);
	}
	if ((a->nsets = taint_list(r, t, "sets", false, ACT_MAX_SETS, &arr)) < 0)
		return -EINVAL;
	for (int i = 0; i < a->nsets; i++)
		a->sets[i] = json_string_value(json_array_get(arr, i));
	err |= get_str(r, t, "via", "read", &a->taint_via);
	err |= get_uint(r, t, "depth", &v);
	a->taint_depth = (uint32_t)v;
	return err ? -EINVAL : 0;
}

static int read_network(struct reader *r, json_t *n, struct activity *a)
{
	static const char *const fams[] = { "ipv4", "ipv6", NULL };
	static const char *const protos[] = { "tcp", "udp", "other", NULL };
	unsigned long long v;
	const char *daddr = "";
	json_t *allowed;
	int err = 0;

	a->family = "ipv4";
	a->protocol = "tcp";
	if (!n)
		return 0;
	if (!json_is_object(n))
		return bad(r, "'network' must be an object%s%s", "", "");
	err |= get_str(r, n, "protocol", "tcp", &a->protocol);
	err |= get_str(r, n, "daddr", "", &daddr);
	err |= get_uint(r, n, "dport", &v);
	if (v > 65535)
		return bad(r, "'network.dport' must be at most 65535%s%s", "", "");
	a->dport = (uint16_t)v;
	err |= get_uint(r, n, "bytes", &v);
	a->bytes = v;
	err |= get_uint(r, n, "blocked_bytes", &v);
	a->blocked_bytes = v;
	if (err)
		return -EINVAL;
	if (one_of(r, "protocol", a->protocol, protos))
		return -EINVAL;
	if (*daddr) {
		if (inet_pton(AF_INET, daddr, a->daddr_raw) == 1)
			a->af = AF_INET;
		else if (inet_pton(AF_INET6, daddr, a->daddr_raw) == 1)
			a->af = AF_INET6;
		else
			return bad(r, "'network.daddr' '%s' is not an IPv4 or IPv6 address%s",
				   daddr, "");
		snprintf(a->daddr, sizeof(a->daddr), "%s", daddr);
	}
	a->family = a->af == AF_INET6 ? "ipv6" : "ipv4";
	if (get_str(r, n, "family", a->family, &a->family) ||
	    one_of(r, "family", a->family, fams))
		return -EINVAL;
	allowed = json_object_get(n, "allowed");
	if (allowed && !json_is_boolean(allowed))
		return bad(r, "'network.allowed' must be true or false%s%s", "", "");
	a->allowed = allowed && json_is_true(allowed);
	return 0;
}

static int to_activity(struct reader *r, json_t *o, struct activity *a)
{
	static const char *const known[] = { "time", "host", "mode", "event", "action",
		"enforce_action", "killed_by", "message", "process", "taint", "network", NULL };
	const char *t, *msg, *key, *ev;
	int mode, event, action, enforce_action, killed_by;
	json_t *v;
	int err = 0;

	json_object_foreach(o, key, v) {
		if (one_of(r, "member", key, known))
			return -EINVAL;
	}
	memset(a, 0, sizeof(*a));
	err |= get_str(r, o, "time", "1970-01-01T00:00:00.000000Z", &t);
	err |= get_str(r, o, "host", "fixture", &a->host);
	err |= get_str(r, o, "message", "", &msg);
	err |= get_str(r, o, "event", NULL, &ev);
	if (err)
		return -EINVAL;
	if (!ev)
		return bad(r, "missing 'event' (connect, egress, progress or budget)%s%s", "", "");
	if (get_word(r, o, "event", ACT_VOCAB_EVENT, NULL, &event) ||
	    get_word(r, o, "action", ACT_VOCAB_OUTCOME, "alert", &action) ||
	    get_word(r, o, "mode", ACT_VOCAB_MODE, "monitor", &mode) ||
	    get_word(r, o, "enforce_action", ACT_VOCAB_OUTCOME, NULL, &enforce_action) ||
	    get_word(r, o, "killed_by", ACT_VOCAB_KILLER, NULL, &killed_by))
		return -EINVAL;
	a->mode = mode;
	a->event = event;
	a->action = action;
	a->enforce_action = enforce_action;
	a->killed_by = killed_by;
	if (parse_time(t, &a->time))
		return bad(r, "'time' '%s' is not RFC 3339 UTC (2026-01-02T03:04:05.000006Z)%s",
			   t, "");
	snprintf(a->message, sizeof(a->message), "%s", msg);
	if (read_process(r, json_object_get(o, "process"), a) ||
	    read_taint(r, json_object_get(o, "taint"), a) ||
	    read_network(r, json_object_get(o, "network"), a))
		return -EINVAL;
	activity__finish(a);
	return 0;
}

/* One line, however long (up to MAX_LINE). NULL at end of file. */
static char *read_line(gzFile gz, char **buf, size_t *cap, bool *too_long)
{
	size_t len = 0;

	*too_long = false;
	for (;;) {
		if (*cap - len < 2) {
			size_t ncap = *cap ? *cap * 2 : 8192;
			char *nb;

			if (ncap > MAX_LINE) {
				*too_long = true;
				return NULL;
			}
			nb = realloc(*buf, ncap);
			if (!nb)
				return NULL;
			*buf = nb;
			*cap = ncap;
		}
		if (!gzgets(gz, *buf + len, (int)(*cap - len)))
			return len ? *buf : NULL;
		len += strlen(*buf + len);
		if (len && (*buf)[len - 1] == '\n')
			return *buf;
	}
}

long capture__read(const char *path, capture_fn fn, void *ctx, char *err, size_t errlen)
{
	struct reader r = { .path = path, .err = err, .errlen = errlen };
	struct activity *a;
	gzFile gz;
	char *buf = NULL;
	size_t cap = 0;
	long count = 0;
	bool too_long;
	int ret = 0;

	gz = gzopen(path, "rb");
	if (!gz) {
		snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "cannot open");
		return -ENOENT;
	}
	a = malloc(sizeof(*a));
	if (!a) {
		gzclose(gz);
		return -ENOMEM;
	}
	while (read_line(gz, &buf, &cap, &too_long)) {
		json_error_t jerr;
		json_t *o;
		char *s = buf;

		r.line++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\n' || *s == '\0' || *s == '#')
			continue;	/* blank lines and comments in hand-written files */
		o = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
		if (!o) {
			ret = bad(&r, "not JSON: %s%s", jerr.text, "");
			break;
		}
		if (!json_is_object(o)) {
			json_decref(o);
			ret = bad(&r, "expected a JSON object%s%s", "", "");
			break;
		}
		if (json_object_get(o, "vigil_capture")) {	/* header */
			json_t *v = json_object_get(o, "vigil_capture");

			if (!json_is_integer(v) || json_integer_value(v) != CAPTURE_VERSION) {
				json_decref(o);
				ret = bad(&r, "capture format %s is not supported (this vigil reads "
					  "version 1)%s", json_is_integer(v) ? "newer" : "unknown",
					  "");
				break;
			}
			json_decref(o);
			continue;
		}
		ret = to_activity(&r, o, a);
		if (!ret) {
			count++;
			ret = fn ? fn(ctx, a) : 0;
		}
		json_decref(o);
		if (ret)
			break;
	}
	if (!ret && too_long)
		ret = bad(&r, "line longer than 1 MiB%s%s", "", "");
	if (!ret) {
		int zerr;
		const char *zmsg = gzerror(gz, &zerr);

		if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
			snprintf(err, errlen, "%s: corrupt capture: %s", path, zmsg);
			ret = -EIO;
		}
	}
	free(a);
	free(buf);
	gzclose(gz);
	return ret ? ret : count;
}
