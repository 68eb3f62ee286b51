// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "capture.h"
#include "context.h"
#include "json.h"
#include "report.h"
#include "safefile.h"
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
				       gid_t gid, char *err, size_t errlen)
{
	struct capture_writer *w = calloc(1, sizeof(*w));
	struct timespec now;
	int fd;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fd = safefile__open_output(path, true, gid, err, errlen);
	if (fd < 0) {
		free(w);
		return NULL;
	}
	w->gz = gzdopen(fd, "wb6");
	if (!w->gz) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
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

void capture__format(struct json *j, const struct activity *a)
{
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
}

int capture__write(struct capture_writer *w, const struct activity *a)
{
	capture__format(&w->j, a);
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

/* Integers that land in narrower types: a larger value would wrap (a pid
 * above 2^31 becomes negative and is then written out as 2^64 - n, which
 * no reader takes back). */
static int get_uint_max(struct reader *r, json_t *obj, const char *key, unsigned long long max,
			unsigned long long *out)
{
	char lim[32];

	if (get_uint(r, obj, key, out))
		return -EINVAL;
	if (*out <= max)
		return 0;
	snprintf(lim, sizeof(lim), "%llu", max);
	return bad(r, "'%s' must be at most %s", key, lim);
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
	if (get_uint_max(r, p, "pid", INT32_MAX, &v))
		return -EINVAL;
	a->proc.pid = (pid_t)v;
	if (get_uint_max(r, p, "ppid", INT32_MAX, &v))
		return -EINVAL;
	a->proc.ppid = (pid_t)v;
	if (get_uint_max(r, p, "uid", UINT32_MAX, &v))
		return -EINVAL;
	a->proc.uid = (uid_t)v;
	err |= get_uint(r, p, "start_ticks", &a->proc.start_ticks);
	err |= copy_str(r, p, "comm", a->proc.comm, sizeof(a->proc.comm));
	err |= copy_str(r, p, "exe", a->proc.exe, sizeof(a->proc.exe));
	err |= copy_str(r, p, "cmdline", a->proc.cmdline, sizeof(a->proc.cmdline));
	err |= copy_str(r, p, "cgroup", a->proc.cgroup, sizeof(a->proc.cgroup));
	err |= get_str(r, p, "pname", "", &a->pname);
	/* context: who from the record (absent in older captures), where from
	 * the cgroup as the live agent derives it */
	context__container(&a->proc);
	if (json_is_object(json_object_get(p, "container"))) {
		json_t *c = json_object_get(p, "container");

		err |= copy_str(r, c, "pod_namespace", a->proc.pod_namespace,
				sizeof(a->proc.pod_namespace));
		err |= copy_str(r, c, "pod_name", a->proc.pod_name, sizeof(a->proc.pod_name));
	}
	err |= copy_str(r, p, "user", a->proc.user, sizeof(a->proc.user));
	err |= copy_str(r, p, "login_user", a->proc.login_user, sizeof(a->proc.login_user));
	err |= copy_str(r, p, "ssh_client", a->proc.ssh_client, sizeof(a->proc.ssh_client));
	a->proc.has_loginuid = json_object_get(p, "loginuid") != NULL;
	if (get_uint_max(r, p, "loginuid", UINT32_MAX - 1, &v))
		return -EINVAL;
	a->proc.loginuid = (uid_t)v;
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
		v = 0;
		if (json_object_get(e, "size"))
			err |= get_uint(r, e, "size", &v);
		s->size = v;
	}
	if ((a->nchain = taint_list(r, t, "chain", true, ACT_MAX_CHAIN, &arr)) < 0)
		return -EINVAL;
	for (int i = 0; i < a->nchain; i++) {
		struct act_link *l = &a->chain[i];

		e = json_array_get(arr, i);
		if (get_uint_max(r, e, "pid", INT32_MAX, &v))
			return -EINVAL;
		l->pid = (uint32_t)v;
		err |= get_str(r, e, "comm", "", &l->comm);
		err |= get_str(r, e, "via", "read", &l->via);
		err |= get_str(r, e, "path", NULL, &l->path);
	}
	if ((a->nsets = taint_list(r, t, "sets", false, ACT_MAX_SETS, &arr)) < 0)
		return -EINVAL;
	for (int i = 0; i < a->nsets; i++)
		a->sets[i] = json_string_value(json_array_get(arr, i));
	err |= get_str(r, t, "via", "read", &a->taint_via);
	if (get_uint_max(r, t, "depth", UINT32_MAX, &v))
		return -EINVAL;
	a->taint_depth = (uint32_t)v;
	return err ? -EINVAL : 0;
}

/* network.tls: the plaintext the TLS uprobes saw, or that they saw none. */
static int read_tls(struct reader *r, json_t *t, struct activity *a)
{
	static const char *const classes[] = { "work", "weights", NULL };
	static const char *const libs[] = { "openssl", "gnutls", "go", NULL };
	json_t *seen;

	if (!t || json_is_null(t))
		return 0;
	seen = json_object_get(t, "plaintext_seen");
	if (!json_is_object(t) || !json_is_boolean(seen))
		return bad(r, "'network.tls' must be an object with plaintext_seen%s%s", "", "");
	a->tls_plaintext = "unseen";
	if (json_is_true(seen) &&
	    (get_str(r, t, "plaintext_class", "work", &a->tls_plaintext) ||
	     one_of(r, "plaintext_class", a->tls_plaintext, classes)))
		return -EINVAL;
	if (get_str(r, t, "library", NULL, &a->tls_library) ||
	    (a->tls_library && one_of(r, "library", a->tls_library, libs)))
		return -EINVAL;
	return 0;
}

/* A write into a network filesystem (family netfs): daddr is the mount's
 * source, network.mount names it (as report.c writes them). */
static int read_netfs(struct reader *r, json_t *n, const char *daddr, struct activity *a)
{
	const char *fstype = NULL, *source = "", *point = "";
	json_t *m = json_object_get(n, "mount");
	int err = 0;

	if (!json_is_object(m))
		return bad(r, "a netfs 'network' needs a 'mount' object (fstype, source, point)%s%s",
			   "", "");
	err |= get_str(r, m, "fstype", NULL, &fstype);
	err |= get_str(r, m, "source", "", &source);
	err |= get_str(r, m, "point", "", &point);
	if (err || !fstype)
		return err ? -EINVAL : bad(r, "'network.mount.fstype' is missing%s%s", "", "");
	a->af = VIGIL_FAMILY_NETFS;
	a->family = "netfs";
	snprintf(a->fs_type_buf, sizeof(a->fs_type_buf), "%.31s", fstype);
	a->fs_type = a->fs_type_buf;
	snprintf(a->fs_source, sizeof(a->fs_source), "%s", source);
	snprintf(a->fs_mount, sizeof(a->fs_mount), "%s", point);
	snprintf(a->daddr, sizeof(a->daddr), "%.63s", daddr);
	return 0;
}

static int read_network(struct reader *r, json_t *n, struct activity *a)
{
	static const char *const fams[] = { "ipv4", "ipv6", NULL };
	static const char *const protos[] = { "tcp", "udp", "raw", "other", NULL };
	static const char *const contents[] = { "work", "weights", "opaque", "unknown", NULL };
	static const char *const directions[] = { "outbound", "inbound", NULL };
	unsigned long long v;
	const char *daddr = "";
	json_t *allowed;
	int err = 0;

	a->family = "ipv4";
	a->protocol = "tcp";
	a->content = "unknown";
	if (!n)
		return 0;
	if (!json_is_object(n))
		return bad(r, "'network' must be an object%s%s", "", "");
	err |= get_str(r, n, "protocol", "tcp", &a->protocol);
	err |= get_str(r, n, "daddr", "", &daddr);
	err |= get_str(r, n, "content", "unknown", &a->content);
	err |= get_uint(r, n, "dport", &v);
	if (v > 65535)
		return bad(r, "'network.dport' must be at most 65535%s%s", "", "");
	a->dport = (uint16_t)v;
	err |= get_uint(r, n, "bytes", &v);
	a->bytes = v;
	err |= get_uint(r, n, "blocked_bytes", &v);
	a->blocked_bytes = v;
	err |= get_str(r, n, "direction", NULL, &a->direction);
	err |= get_uint_max(r, n, "lport", 65535, &v);
	a->lport = (uint16_t)v;
	if (err)
		return -EINVAL;
	if (one_of(r, "protocol", a->protocol, protos) ||
	    one_of(r, "content", a->content, contents) ||
	    (a->direction && one_of(r, "direction", a->direction, directions)))
		return -EINVAL;
	if (json_is_string(json_object_get(n, "family")) &&
	    !strcmp(json_string_value(json_object_get(n, "family")), "netfs"))
		return read_netfs(r, n, daddr, a);
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
	return read_tls(r, json_object_get(n, "tls"), a);
}

/* A control event: its kind and detail; no destination, and taint only if
 * the process had some (as report__body writes them). */
static int read_control(struct reader *r, json_t *c, json_t *taint, struct activity *a)
{
	const char *detail = "";
	int err = 0;

	a->tainted = a->event != ACT_EV_CONTROL || taint;
	if (a->event != ACT_EV_CONTROL) {
		if (c)
			return bad(r, "'control' belongs to control events only%s%s", "", "");
		return 0;
	}
	a->family = a->protocol = NULL;
	if (!taint)
		a->taint_via = "";
	if (!json_is_object(c))
		return bad(r, "a control event needs a 'control' object (kind, detail)%s%s", "", "");
	err |= get_str(r, c, "kind", NULL, &a->control_kind);
	err |= get_str(r, c, "detail", "", &detail);
	if (err)
		return -EINVAL;
	if (!a->control_kind ||
	    one_of(r, "control.kind", a->control_kind, activity__control_kinds + 1))
		return a->control_kind ? -EINVAL :
		       bad(r, "missing 'control.kind'%s%s", "", "");
	snprintf(a->control_detail, sizeof(a->control_detail), "%s", detail);
	return 0;
}

static int to_activity(struct reader *r, json_t *o, struct activity *a)
{
	static const char *const known[] = { "time", "host", "mode", "event", "action",
		"enforce_action", "killed_by", "message", "process", "taint", "network", "control",
		NULL };
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
		return bad(r, "missing 'event' (connect, egress, progress, content, dns-tunnel, budget, "
			   "unmetered or control)%s%s", "", "");
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
	    read_network(r, json_object_get(o, "network"), a) ||
	    read_control(r, json_object_get(o, "control"), json_object_get(o, "taint"), a))
		return -EINVAL;
	activity__finish(a);
	return 0;
}

/* ---- the byte source: plain text, or gzip members checked to the end ---- */

/* zlib's gzread accepts a stream cut short (no trailer) and ignores bytes
 * after the last member; a capture that lost its end, or carries something
 * else after it, must say so instead of replaying part of itself. */
struct src {
	int fd;
	bool gz, member_done, eof;
	z_stream z;
	unsigned long long total;	/* decompressed bytes so far */
	unsigned char in[65536];
	unsigned char out[65536];
	size_t out_pos, out_len;
	const char *err;		/* what went wrong, or NULL */
};

static int src_read_raw(struct src *s)
{
	ssize_t n;

	if (s->eof)
		return 0;
	memmove(s->in, s->z.next_in, s->z.avail_in);
	s->z.next_in = s->in;
	do
		n = read(s->fd, s->in + s->z.avail_in, sizeof(s->in) - s->z.avail_in);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		s->err = "read error";
		return -EIO;
	}
	if (!n)
		s->eof = true;
	s->z.avail_in += n;
	return 0;
}

static int src_init(struct src *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->z.next_in = s->in;
	while (!s->eof && s->z.avail_in < 2)
		if (src_read_raw(s))
			return -EIO;
	s->gz = s->z.avail_in >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
	if (s->gz && inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
		s->gz = false;
		return -ENOMEM;
	}
	return 0;
}

static void src_free(struct src *s)
{
	if (s->gz)
		inflateEnd(&s->z);
}

/* Refill out. 0 with out_len 0 at the end; -EINVAL/-EIO with s->err. */
static int src_fill(struct src *s)
{
	s->out_pos = s->out_len = 0;
	while (!s->out_len) {
		if (!s->z.avail_in || (s->gz && s->member_done && s->z.avail_in < 2 && !s->eof))
			if (src_read_raw(s))
				return -EIO;
		if (!s->gz) {
			if (!s->z.avail_in)
				return 0;
			s->out_len = s->z.avail_in < sizeof(s->out) ? s->z.avail_in : sizeof(s->out);
			memcpy(s->out, s->z.next_in, s->out_len);
			s->z.next_in += s->out_len;
			s->z.avail_in -= s->out_len;
			break;
		}
		if (s->member_done) {
			if (!s->z.avail_in && s->eof)
				return 0;
			if (s->z.avail_in < 2 || s->z.next_in[0] != 0x1f || s->z.next_in[1] != 0x8b) {
				s->err = "bytes after the end of the compressed stream";
				return -EINVAL;
			}
			inflateReset(&s->z);	/* another gzip member */
			s->member_done = false;
		}
		if (!s->z.avail_in && s->eof) {
			s->err = "the compressed stream ends early (cut short, or the recording "
				 "agent was killed: activity after this line is missing)";
			return -EINVAL;
		}
		s->z.next_out = s->out;
		s->z.avail_out = sizeof(s->out);
		switch (inflate(&s->z, Z_NO_FLUSH)) {
		case Z_STREAM_END:
			s->member_done = true;
			break;
		case Z_OK:
		case Z_BUF_ERROR:
			break;
		default:
			s->err = "corrupt compressed data";
			return -EINVAL;
		}
		s->out_len = sizeof(s->out) - s->z.avail_out;
	}
	s->total += s->out_len;
	if (s->total > SAFEFILE_CAPTURE_MAX) {
		s->err = "more than 4 GiB of activity";
		return -EFBIG;
	}
	return 0;
}

/* One line into *buf (NUL-terminated, without its '\n'), up to MAX_LINE.
 * 1: a line, 0: end of input, <0: error (s->err set, or -E2BIG: too long). */
static int read_line(struct src *s, char **buf, size_t *cap, size_t *len)
{
	bool any = false;
	int err;

	*len = 0;
	for (;;) {
		unsigned char *nl;
		size_t take;

		if (s->out_pos == s->out_len) {
			if ((err = src_fill(s)))
				return err;
			if (!s->out_len)
				return any ? 1 : 0;
		}
		any = true;
		nl = memchr(s->out + s->out_pos, '\n', s->out_len - s->out_pos);
		take = (nl ? (size_t)(nl - s->out) : s->out_len) - s->out_pos;
		if (*len + take + 1 > MAX_LINE)
			return -E2BIG;
		if (*len + take + 1 > *cap) {
			size_t ncap = *cap ? *cap : 8192;
			char *nb;

			while (ncap < *len + take + 1)
				ncap *= 2;
			nb = realloc(*buf, ncap);
			if (!nb)
				return -ENOMEM;
			*buf = nb;
			*cap = ncap;
		}
		memcpy(*buf + *len, s->out + s->out_pos, take);
		*len += take;
		(*buf)[*len] = '\0';
		s->out_pos += take + (nl ? 1 : 0);
		if (nl)
			return 1;
	}
}

long capture__read(const char *path, capture_fn fn, void *ctx, char *err, size_t errlen)
{
	int fd = safefile__open_input(path, SAFEFILE_CAPTURE_MAX, err, errlen);
	long n;

	if (fd < 0)
		return fd == -ENOENT ? -ENOENT : -EINVAL;
	n = capture__read_fd(fd, path, fn, ctx, err, errlen);
	close(fd);
	return n;
}

long capture__read_fd(int fd, const char *path, capture_fn fn, void *ctx, char *err,
		      size_t errlen)
{
	struct reader r = { .path = path, .err = err, .errlen = errlen };
	struct activity *a = malloc(sizeof(*a));
	struct src *src = malloc(sizeof(*src));
	char *buf = NULL;
	size_t cap = 0, len;
	long count = 0;
	int ret = 0, got;

	if (!a || !src || src_init(src, fd)) {
		free(a);
		free(src);
		snprintf(err, errlen, "%s: %s", path, "cannot read (out of memory?)");
		return -ENOMEM;
	}
	while ((got = read_line(src, &buf, &cap, &len)) > 0) {
		json_error_t jerr;
		json_t *o, *v;
		char *s = buf;

		r.line++;
		if (memchr(buf, '\0', len)) {
			char col[32];

			snprintf(col, sizeof(col), "%zu", (size_t)((char *)memchr(buf, 0, len) - buf) + 1);
			ret = bad(&r, "NUL byte at column %s%s", col, "");
			break;
		}
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\r' || *s == '\0' || *s == '#')
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
		v = json_object_get(o, "vigil_capture");
		if (v) {	/* header */
			bool known = json_is_integer(v);
			bool ok = known && json_integer_value(v) == CAPTURE_VERSION;

			json_decref(o);
			if (!ok) {
				ret = bad(&r, "capture format %s is not supported (this vigil reads "
					  "version 1)%s", known ? "newer" : "unknown", "");
				break;
			}
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
	if (!ret && got == -E2BIG) {
		r.line++;	/* the long line is the next one */
		ret = bad(&r, "line longer than 1 MiB%s%s", "", "");
	} else if (!ret && got < 0) {
		snprintf(err, errlen, "%s:%ld: corrupt capture: %s", path, r.line,
			 src->err ? src->err : strerror(-got));
		ret = got == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	src_free(src);
	free(src);
	free(a);
	free(buf);
	return ret ? ret : count;
}
