// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"

struct metrics {
	int lfd;
	char dir[4096];
	pthread_t thread;
	bool has_thread;
	atomic_bool stop;
	pthread_mutex_t mu;
	char *snap;
	size_t len;
};

struct metrics_text {
	char *buf;
	size_t len;
	FILE *f;
};

struct metrics_text *metrics__text_new(void)
{
	struct metrics_text *t = calloc(1, sizeof(*t));

	if (t && !(t->f = open_memstream(&t->buf, &t->len))) {
		free(t);
		return NULL;
	}
	return t;
}

const char *metrics__text(struct metrics_text *t, size_t *len)
{
	fflush(t->f);
	*len = t->len;
	return t->buf ? t->buf : "";
}

void metrics__text_free(struct metrics_text *t)
{
	if (!t)
		return;
	fclose(t->f);
	free(t->buf);
	free(t);
}

void metrics__family(struct metrics_text *t, const char *name, const char *type,
		     const char *help)
{
	fprintf(t->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* label value: \ " and newline escaped, as the format wants */
static void label(FILE *f, const char *k, const char *v)
{
	fprintf(f, "%s=\"", k);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

void metrics__sample(struct metrics_text *t, const char *name, const char *l1, const char *v1,
		     const char *l2, const char *v2, double value)
{
	fputs(name, t->f);
	if (l1) {
		fputc('{', t->f);
		label(t->f, l1, v1);
		if (l2) {
			fputc(',', t->f);
			label(t->f, l2, v2);
		}
		fputc('}', t->f);
	}
	/* whole numbers as such while a double holds them exactly (2^53) */
	if (value >= 0 && value < 9007199254740992.0 && value == (double)(uint64_t)value)
		fprintf(t->f, " %llu\n", (unsigned long long)value);
	else
		fprintf(t->f, " %.17g\n", value);
}

/* ---- serving ---------------------------------------------------------------- */

static void serve(struct metrics *m, int fd)
{
	char req[2048], hdr[256];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	bool ok;
	int hl;

	/* the request line is all we need; a scraper gets 2 s to send it */
	while (got < sizeof(req) - 1 && !memchr(req, '\n', got) && poll(&p, 1, 2000) > 0) {
		ssize_t n = read(fd, req + got, sizeof(req) - 1 - got);

		if (n <= 0)
			break;
		got += n;
	}
	req[got] = '\0';
	ok = !strncmp(req, "GET /metrics ", 13) || !strncmp(req, "GET / ", 6);
	pthread_mutex_lock(&m->mu);
	if (ok)
		hl = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
			      "version=0.0.4; charset=utf-8\r\nContent-Length: %zu\r\n"
			      "Connection: close\r\n\r\n", m->len);
	else
		hl = snprintf(hdr, sizeof(hdr), "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n"
			      "Connection: close\r\n\r\n");
	if (send(fd, hdr, hl, MSG_NOSIGNAL) == hl && ok && m->len) {
		size_t off = 0;

		while (off < m->len) {
			ssize_t w = send(fd, m->snap + off, m->len - off, MSG_NOSIGNAL);

			if (w <= 0)
				break;
			off += w;
		}
	}
	pthread_mutex_unlock(&m->mu);
	close(fd);
}

static void *server(void *arg)
{
	struct metrics *m = arg;

	while (!atomic_load(&m->stop)) {
		struct pollfd p = { .fd = m->lfd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 200) <= 0)
			continue;
		fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			struct timeval tv = { .tv_sec = 2 };

			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			serve(m, fd);
		}
	}
	return NULL;
}

static int listen_on(const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST },
			*res = NULL;
	char host[256];
	const char *colon = strrchr(spec, ':');
	int fd = -1, one = 1, r;

	if (!colon || colon == spec || !colon[1]) {
		snprintf(err, errlen, "--metrics %s: want ADDR:PORT, e.g. 127.0.0.1:9464", spec);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	if (host[0] == '[') {	/* [::1]:9464 */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	r = getaddrinfo(host, colon + 1, &hints, &res);
	if (r) {
		snprintf(err, errlen, "--metrics %s: %s (want a numeric address)", spec,
			 gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 16)) {
		snprintf(err, errlen, "--metrics %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -EIO;
	}
	freeaddrinfo(res);
	return fd;
}

struct metrics *metrics__open(const char *listen, const char *dir, char *err, size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->lfd = -1;
	pthread_mutex_init(&m->mu, NULL);
	if (dir) {
		if (access(dir, W_OK)) {
			snprintf(err, errlen, "--metrics-textfile %s: %s", dir, strerror(errno));
			free(m);
			return NULL;
		}
		snprintf(m->dir, sizeof(m->dir), "%s", dir);
	}
	if (listen) {
		sigset_t all, old;

		m->lfd = listen_on(listen, err, errlen);
		if (m->lfd < 0) {
			free(m);
			return NULL;
		}
		sigfillset(&all);	/* signals belong to the event loop */
		pthread_sigmask(SIG_SETMASK, &all, &old);
		m->has_thread = !pthread_create(&m->thread, NULL, server, m);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return m;
}

/* DIR/vigil.prom, replaced whole (node_exporter must never read half). */
static void write_textfile(struct metrics *m, const char *text, size_t len)
{
	char tmp[4200], dst[4200];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/.vigil.prom.tmp", m->dir);
	snprintf(dst, sizeof(dst), "%s/vigil.prom", m->dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, len) == (ssize_t)len && !fsync(fd))
		rename(tmp, dst);
	else
		unlink(tmp);
	close(fd);
}

void metrics__publish(struct metrics *m, const char *text, size_t len)
{
	char *copy;

	if (!m)
		return;
	if (m->dir[0])
		write_textfile(m, text, len);
	if (m->lfd < 0 || !(copy = malloc(len + 1)))
		return;
	memcpy(copy, text, len);
	pthread_mutex_lock(&m->mu);
	free(m->snap);
	m->snap = copy;
	m->len = len;
	pthread_mutex_unlock(&m->mu);
}

void metrics__close(struct metrics *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, true);
	if (m->has_thread)
		pthread_join(m->thread, NULL);
	if (m->lfd >= 0)
		close(m->lfd);
	free(m->snap);
	pthread_mutex_destroy(&m->mu);
	free(m);
}
