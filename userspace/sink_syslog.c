// SPDX-License-Identifier: GPL-2.0
/* syslog: (the local socket, /dev/log or socket=PATH, datagrams),
 * syslog:tcp://HOST:PORT (RFC 6587 octet counting, reconnected with backoff)
 * and syslog:tls://HOST:PORT (RFC 5425: the same framing inside TLS, the
 * collector's certificate checked against ca= and its name; sink_tls.c).
 * Every record is one RFC 5424 message:
 *   <PRI>1 TIME HOST vigil PID KIND [vigil@32473 id=".." seq=".." ...] RECORD
 * RECORD is the line in the sink's format (native JSON, or CEF for
 * ArcSight/QRadar/Sentinel), the structured data repeats what a relay
 * filters on without parsing it. 32473 is the private enterprise number
 * RFC 5612 sets aside for examples: sites with their own PEN can rewrite it. */
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "log.h"
#include "sink.h"
#include "sink_tls.h"

#define SD_ID "vigil@32473"
#define MAX_FRAME (64u << 10)

struct syslog_sink {
	bool tcp, tls;
	char host[256], port[16];
	/* tls: files, the name the certificate must carry, the session */
	char *ca, *cert, *key, *name;
	struct sink_tls_ctx *tls_ctx;
	struct sink_tls *sess;
	bool warned_tls;
	char socket_path[108];
	int fd;
	int facility;
	time_t retry_at;	/* TCP: not before this after a failed connect */
	unsigned backoff_s;
	char *buf;
	size_t cap;
};

static const struct {
	const char *name;
	int code;
} facilities[] = {
	{ "user", 1 }, { "daemon", 3 }, { "auth", 4 }, { "authpriv", 10 }, { "local0", 16 },
	{ "local1", 17 }, { "local2", 18 }, { "local3", 19 }, { "local4", 20 }, { "local5", 21 },
	{ "local6", 22 }, { "local7", 23 },
};

static struct syslog_sink *state(struct sink *s)
{
	struct syslog_sink *y = sink__priv(s);

	if (!y) {
		y = calloc(1, sizeof(*y));
		if (!y)
			return NULL;
		y->fd = -1;
		y->facility = 16;	/* local0 */
		snprintf(y->socket_path, sizeof(y->socket_path), "/dev/log");
		sink__set_priv(s, y);
	}
	return y;
}

static int syslog_set(struct sink *s, const char *key, const char *v, char *err, size_t errlen)
{
	struct syslog_sink *y = state(s);

	if (!y)
		return -ENOMEM;
	if (!strcmp(key, "facility")) {
		for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
			if (!strcmp(v, facilities[i].name)) {
				y->facility = facilities[i].code;
				return 0;
			}
		snprintf(err, errlen, "facility=%s: want user, daemon, auth, authpriv, local0-local7", v);
		return -EINVAL;
	}
	if (!strcmp(key, "ca") || !strcmp(key, "cert") || !strcmp(key, "key") ||
	    !strcmp(key, "name")) {
		char **slot = !strcmp(key, "ca") ? &y->ca : !strcmp(key, "cert") ? &y->cert :
			      !strcmp(key, "key") ? &y->key : &y->name;

		if (!*v || (strcmp(key, "name") && *v != '/')) {
			snprintf(err, errlen, "%s=%s: want %s", key, v,
				 strcmp(key, "name") ? "an absolute path" : "a host name");
			return -EINVAL;
		}
		free(*slot);
		*slot = strdup(v);
		return *slot ? 0 : -ENOMEM;
	}
	if (!strcmp(key, "socket")) {
		if (strlen(v) >= sizeof(y->socket_path) || *v != '/') {
			snprintf(err, errlen, "socket=%s: want an absolute path under 108 bytes", v);
			return -EINVAL;
		}
		snprintf(y->socket_path, sizeof(y->socket_path), "%s", v);
		return 0;
	}
	return -ENOENT;
}

static int connect_local(struct syslog_sink *y)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, y->socket_path, strlen(y->socket_path));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_tcp(struct syslog_sink *y)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1;

	if (getaddrinfo(y->host, y->port, &hints, &res))
		return -1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd >= 0) {	/* a dead collector must not hold the sink forever */
		struct timeval tv = { .tv_sec = 5 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));	/* handshake */
	}
	return fd;
}

/* The handshake on a fresh TCP connection; a refused certificate is logged
 * once (then counted like any failed delivery). */
static int start_tls(struct syslog_sink *y, int fd)
{
	char why[512];

	if (fd < 0 || !y->tls)
		return fd;
	y->sess = sink_tls__connect(y->tls_ctx, fd, y->name ? y->name : y->host, why,
				    sizeof(why));
	if (y->sess) {
		y->warned_tls = false;
		return fd;
	}
	if (!y->warned_tls)
		log__warn("alert sink syslog:tls://%s:%s: %s", y->host, y->port, why);
	y->warned_tls = true;
	close(fd);
	return -1;
}

static void disconnect(struct syslog_sink *y)
{
	sink_tls__close(y->sess);
	y->sess = NULL;
	if (y->fd >= 0)
		close(y->fd);
	y->fd = -1;
}

static bool ensure_connected(struct syslog_sink *y)
{
	if (y->fd >= 0)
		return true;
	if (time(NULL) < y->retry_at)
		return false;
	y->fd = y->tcp ? start_tls(y, connect_tcp(y)) : connect_local(y);
	if (y->fd < 0) {
		y->backoff_s = y->backoff_s ? (y->backoff_s * 2 > 30 ? 30 : y->backoff_s * 2) : 1;
		y->retry_at = time(NULL) + y->backoff_s;
		return false;
	}
	y->backoff_s = 0;
	return true;
}

static int syslog_open(struct sink *s, char *err, size_t errlen)
{
	struct syslog_sink *y = state(s);
	const char *t = sink__target(s);

	if (!y) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (*t) {	/* "tcp://HOST:PORT", "tls://HOST:PORT" */
		const char *hp = t + 6, *colon = strrchr(hp, ':');
		const char *h0 = hp, *h1 = colon;

		if ((strncmp(t, "tcp://", 6) && strncmp(t, "tls://", 6)) || !colon || !colon[1] ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5) {
			snprintf(err, errlen, "--alerts syslog:%s: want syslog: (local), "
				 "syslog:tcp://HOST:PORT or syslog:tls://HOST:PORT", t);
			return -EINVAL;
		}
		y->tls = !strncmp(t, "tls://", 6);
		if (*h0 == '[' && h1 > h0 && h1[-1] == ']') {	/* [v6]:port */
			h0++;
			h1--;
		}
		y->tcp = true;
		snprintf(y->host, sizeof(y->host), "%.*s", (int)(h1 - h0), h0);
		snprintf(y->port, sizeof(y->port), "%s", colon + 1);
	}
	if (!y->tls && (y->ca || y->cert || y->key || y->name)) {
		snprintf(err, errlen, "--alerts syslog:%s: ca=, cert=, key= and name= are for "
			 "syslog:tls://", t);
		return -EINVAL;
	}
	if (y->tls) {	/* bad files are a start-up error, not a silent sink */
		char why[512];

		y->tls_ctx = sink_tls__ctx_new(y->ca, y->cert, y->key, why, sizeof(why));
		if (!y->tls_ctx) {
			snprintf(err, errlen, "--alerts syslog:%s: %s", t, why);
			return -EINVAL;
		}
	}
	/* nobody listening yet is not an error: the sink retries, and counts
	 * what it could not deliver meanwhile */
	if (!ensure_connected(y))
		log__warn("alert sink syslog:%s: %s not reachable yet; retrying", t,
			  y->tcp ? y->host : y->socket_path);
	return 0;
}

/* value of an SD-PARAM: ", \ and ] escaped with a backslash */
static size_t sd_value(char *out, size_t room, const char *v)
{
	size_t n = 0;

	for (; *v && n + 2 < room; v++) {
		if (*v == '"' || *v == '\\' || *v == ']')
			out[n++] = '\\';
		out[n++] = (unsigned char)*v < 0x20 ? ' ' : *v;
	}
	out[n] = '\0';
	return n;
}

static void sd_param(char *sd, size_t room, const char *name, const char *v)
{
	size_t l = strlen(sd);

	if (!v || !*v || l + strlen(name) + 4 >= room)
		return;
	l += snprintf(sd + l, room - l, " %s=\"", name);
	l += sd_value(sd + l, room - l - 2, v);
	snprintf(sd + l, room - l, "\"");
}

static int severity_of(const char *kind, const char *sev)
{
	static const int by_rank[] = { 5, 5, 4, 3, 2 };	/* notice .. crit */

	if (!strcmp(kind, "alert") || !strcmp(kind, "alert_update"))
		return by_rank[format__severity_rank(sev)];
	return !strcmp(kind, "agent_error") ? 3 : 6;
}

/* One RFC 5424 message for a record (native line nat, written as line). */
static int frame(struct sink *s, struct syslog_sink *y, const struct sink_line *nat,
		 const struct sink_line *line, char **out)
{
	json_t *rec = json_loadb(nat->p, nat->len, 0, NULL);
	const char *kind = rec ? format__str(rec, "kind") : "record";
	char sd[2048], hdr[512], num[32];
	size_t need;
	int hl;

	snprintf(sd, sizeof(sd), "[" SD_ID);
	sd_param(sd, sizeof(sd) - 1, "id", format__str(rec, "id"));
	snprintf(num, sizeof(num), "%lld", format__int(rec, "seq"));
	sd_param(sd, sizeof(sd) - 1, "seq", format__int(rec, "seq") >= 0 ? num : NULL);
	sd_param(sd, sizeof(sd) - 1, "kind", kind);
	sd_param(sd, sizeof(sd) - 1, "rule", format__str(rec, "rule"));
	sd_param(sd, sizeof(sd) - 1, "severity", format__str(rec, "severity"));
	sd_param(sd, sizeof(sd) - 1, "action", format__str(rec, "action"));
	sd_param(sd, sizeof(sd) - 1, "incident", format__str(rec, "incident.id"));
	sd_param(sd, sizeof(sd) - 1, "machine", format__str(rec, "machine_id"));
	strcat(sd, "]");
	hl = snprintf(hdr, sizeof(hdr), "<%d>1 %s %.255s vigil %d %.32s %s ",
		      y->facility * 8 + severity_of(kind, format__str(rec, "severity")),
		      *format__str(rec, "time") ? format__str(rec, "time") : "-",
		      *format__str(rec, "host") ? format__str(rec, "host") : "-", getpid(),
		      *kind ? kind : "-", sd);
	json_decref(rec);
	need = hl + line->len + 16;
	if (need > y->cap) {
		char *nb = realloc(y->buf, need);

		if (!nb)
			return -ENOMEM;
		y->buf = nb;
		y->cap = need;
	}
	if (y->tcp) {	/* octet counting: "LEN SP MSG" */
		int pre = snprintf(y->buf, y->cap, "%zu ", hl + line->len);

		memcpy(y->buf + pre, hdr, hl);
		memcpy(y->buf + pre + hl, line->p, line->len);
		*out = y->buf;
		return pre + hl + (int)line->len;
	}
	memcpy(y->buf, hdr, hl);
	memcpy(y->buf + hl, line->p, line->len);
	*out = y->buf;
	return hl + (int)line->len;
}

static bool send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		len -= w;
	}
	return true;
}

static int syslog_write(struct sink *s, const struct sink_line *lines, int n)
{
	struct syslog_sink *y = sink__priv(s);
	int done = 0;

	for (int i = 0; i < n; i++) {
		const struct sink_line *nat = sink__native_line(s, i);
		char *msg;
		int len = frame(s, y, nat ? nat : &lines[i], &lines[i], &msg);
		bool ok = false;

		if (len < 0)
			return done;
		/* one reconnect per record: a collector that restarted gets it */
		for (int attempt = 0; attempt < 2 && !ok; attempt++) {
			if (!ensure_connected(y))
				break;
			ok = y->sess ? sink_tls__send_all(y->sess, msg, len)
				     : send_all(y->fd, msg, len);
			if (!ok) {
				disconnect(y);
				y->retry_at = 0;
			}
		}
		if (!ok)
			return done;	/* the rest of the batch counts failed */
		done++;
	}
	return done;
}

static void syslog_close(struct sink *s)
{
	struct syslog_sink *y = sink__priv(s);

	if (!y)
		return;
	disconnect(y);
	sink_tls__ctx_free(y->tls_ctx);
	free(y->ca);
	free(y->cert);
	free(y->key);
	free(y->name);
	free(y->buf);
	free(y);
	sink__set_priv(s, NULL);
}

const struct sink_ops sink_syslog_ops = {
	.kind = "syslog",
	.set = syslog_set,
	.open = syslog_open,
	.write = syslog_write,
	.close = syslog_close,
};
