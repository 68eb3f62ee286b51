// SPDX-License-Identifier: GPL-2.0
/* unix:PATH: a listening stream socket (0600) that sends every record to
 * every reader connected at the time (`vigil tail`, a local shipper). A
 * reader is written to without blocking; what it has not taken yet waits in
 * its own buffer, and a reader that falls READER_BACKLOG behind is cut off
 * (counted) so it can never hold up the others. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sink.h"

#define MAX_READERS 64
#define READER_BACKLOG (1u << 20)

struct reader {
	int fd;
	char *buf;		/* not yet sent */
	size_t len, cap;
};

struct unix_sink {
	int lfd;
	ino_t ino;		/* the socket file we made (removed at close) */
	struct reader r[MAX_READERS];
	int n;
	unsigned long long cut_off;	/* not yet reported */
};

static void reader_drop(struct unix_sink *u, int i)
{
	close(u->r[i].fd);
	free(u->r[i].buf);
	u->r[i] = u->r[--u->n];
}

static void accept_all(struct unix_sink *u)
{
	int fd;

	while ((fd = accept4(u->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (u->n == MAX_READERS) {
			log__warn("alert socket: %d readers already, refusing another", MAX_READERS);
			close(fd);
			continue;
		}
		shutdown(fd, SHUT_RD);
		u->r[u->n++] = (struct reader){ .fd = fd };
	}
}

/* Keep what the reader has not taken yet; false if it is too far behind. */
static bool reader_queue(struct reader *r, const char *p, size_t len)
{
	if (r->len + len > READER_BACKLOG)
		return false;
	if (r->len + len > r->cap) {
		size_t cap = r->cap ? r->cap : 65536;
		char *nb;

		while (cap < r->len + len)
			cap *= 2;
		nb = realloc(r->buf, cap);
		if (!nb)
			return false;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, len);
	r->len += len;
	return true;
}

/* Send without blocking; bytes sent, or -1 if the reader is gone. */
static ssize_t send_some(int fd, const char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(fd, p + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			return -1;
		off += w;
	}
	return off;
}

/* Push out the backlog; false if the reader is gone. */
static bool reader_flush(struct reader *r)
{
	ssize_t w;

	if (!r->len)
		return true;
	w = send_some(r->fd, r->buf, r->len);
	if (w < 0)
		return false;
	memmove(r->buf, r->buf + w, r->len - w);
	r->len -= w;
	return true;
}

/* One line to a reader, in order behind its backlog. */
static bool reader_put(struct reader *r, const char *p, size_t len)
{
	ssize_t w = 0;

	if (!r->len) {
		w = send_some(r->fd, p, len);
		if (w < 0)
			return false;
	}
	return (size_t)w == len || reader_queue(r, p + w, len - w);
}

static void report(struct sink *s, struct unix_sink *u)
{
	sink__set_readers(s, u->n, u->cut_off);
	u->cut_off = 0;
}

static int unix_write(struct sink *s, const struct sink_line *lines, int n)
{
	struct unix_sink *u = sink__priv(s);

	accept_all(u);
	for (int i = 0; i < u->n; i++) {
		bool ok = reader_flush(&u->r[i]);

		for (int k = 0; ok && k < n; k++)
			ok = reader_put(&u->r[i], lines[k].p, lines[k].len) &&
			     reader_put(&u->r[i], "\n", 1);
		if (!ok) {
			reader_drop(u, i--);
			u->cut_off++;
		}
	}
	report(s, u);
	return n;	/* delivered to every reader there was */
}

static void unix_tick(struct sink *s)
{
	struct unix_sink *u = sink__priv(s);

	accept_all(u);
	for (int i = 0; i < u->n; i++) {
		struct pollfd p = { .fd = u->r[i].fd, .events = POLLRDHUP };

		if (!reader_flush(&u->r[i])) {
			reader_drop(u, i--);
			u->cut_off++;
			continue;
		}
		/* a reader that hung up while nothing was being sent */
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
			reader_drop(u, i--);
	}
	report(s, u);
}

static int unix_open(struct sink *s, char *err, size_t errlen)
{
	const char *path = sink__target(s);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct unix_sink *u;
	struct stat st;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--alerts unix:%s: path longer than %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (!lstat(path, &st)) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--alerts unix:%s: exists and is not a socket", path);
			return -EEXIST;
		}
		/* someone still listening (another agent): not ours to take */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
			close(probe);
			snprintf(err, errlen, "--alerts unix:%s: another process is serving it", path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);	/* stale, from an agent that died */
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->lfd < 0)
		goto fail;
	old = umask(0177);	/* the records are root's: 0600 from the start */
	r = bind(u->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || listen(u->lfd, 16) || stat(path, &st))
		goto fail;
	u->ino = st.st_ino;
	sink__set_priv(s, u);
	sink__set_readers(s, 0, 0);
	return 0;
fail:
	snprintf(err, errlen, "--alerts unix:%s: %s", path, strerror(errno));
	if (u->lfd >= 0)
		close(u->lfd);
	free(u);
	return -EIO;
}

static void unix_close(struct sink *s)
{
	struct unix_sink *u = sink__priv(s);
	struct stat st;

	if (!u)
		return;
	while (u->n) {
		reader_flush(&u->r[0]);
		reader_drop(u, 0);
	}
	close(u->lfd);
	if (!stat(sink__target(s), &st) && st.st_ino == u->ino)
		unlink(sink__target(s));
	free(u);
	sink__set_priv(s, NULL);
}

const struct sink_ops sink_unix_ops = {
	.kind = "unix",
	.open = unix_open,
	.write = unix_write,
	.close = unix_close,
	.tick = unix_tick,
	.tick_ms = 100,
};
