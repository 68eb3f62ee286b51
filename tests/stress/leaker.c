// SPDX-License-Identifier: GPL-2.0
/*
 * leaker: one leak of the stress harness (tests/stress/stress.py). It forks
 * PROCS workers; each opens FLOWS sockets to HOST:PORT (before reading the
 * weights, unless --connect-after), reads FILE (which taints it), then
 * pushes the bytes out with TRANSPORT until it is killed, refused or done.
 * The parent never reads the file (it stays untainted) and reports, one line
 * each, to OUT (appended):
 *   P tcp|udp PORT     a source port a worker sends from (the sink counts by it)
 *   F PID NS           CLOCK_MONOTONIC just before the worker's first send
 *   D PID NS STATUS    when the parent reaped it (STATUS: wait status)
 * Exit: 0 when every worker was reaped.
 *
 * Transports: send writev sendfile splice zerocopy uring (TCP), udp-conn
 * udp-unconn sendmmsg gso (UDP).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define MAX_FLOWS 16
#define DGRAM 1200
#define RUN_LIMIT_S 15	/* a worker still alive after this gives up (exit 5) */

static const char *transport, *host, *file, *out;
static int family, port, procs = 1, flows = 1;
static size_t chunk = 64 << 10;
static bool connect_after;
static struct sockaddr_storage dst;
static socklen_t dstlen;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, n) != n)
			_exit(6);
		close(fd);
	}
}

static bool is_udp(void)
{
	return !strncmp(transport, "udp", 3) || !strcmp(transport, "sendmmsg") ||
	       !strcmp(transport, "gso");
}

static void first_send(void)
{
	static bool done;

	if (!done) {
		done = true;
		report("F %d %llu\n", getpid(), (unsigned long long)mono_ns());
	}
}

/* errno -> exit code: 3 refused (EPERM), 4 anything else */
static int fail(void)
{
	_exit(errno == EPERM ? 3 : 4);
}

static int open_flow(bool connect_now)
{
	int s = socket(family, is_udp() ? SOCK_DGRAM : SOCK_STREAM, 0);
	struct sockaddr_storage me = { .ss_family = family };
	socklen_t len = sizeof(me);

	if (s < 0)
		fail();
	if (bind(s, (struct sockaddr *)&me, family == AF_INET ? sizeof(struct sockaddr_in) :
		 sizeof(struct sockaddr_in6)))
		fail();
	getsockname(s, (struct sockaddr *)&me, &len);
	report("P %s %d\n", is_udp() ? "udp" : "tcp",
	       ntohs(((struct sockaddr_in *)&me)->sin_port));
	if (connect_now && strcmp(transport, "udp-unconn") && connect(s, (struct sockaddr *)&dst, dstlen))
		fail();
	return s;
}

static void drain_errqueue(int s)
{
	char ctl[128];
	struct msghdr m = { .msg_control = ctl, .msg_controllen = sizeof(ctl) };

	while (recvmsg(s, &m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
		m.msg_controllen = sizeof(ctl);
}

/* One step of TRANSPORT on socket s: data[off..] (or the file at off).
 * Returns bytes handed to the kernel, or -1 with errno. */
static ssize_t send_step(int s, int fd, const char *data, size_t size, size_t off,
			 struct io_uring *ring)
{
	size_t n = size - off < chunk ? size - off : chunk;

	first_send();
	if (!strcmp(transport, "send"))
		return send(s, data + off, n, 0);
	if (!strcmp(transport, "writev")) {
		struct iovec iov[4];
		size_t part = (n + 3) / 4, got = 0;
		int k = 0;

		for (; k < 4 && got < n; k++) {
			iov[k].iov_base = (char *)data + off + got;
			iov[k].iov_len = n - got < part ? n - got : part;
			got += iov[k].iov_len;
		}
		return writev(s, iov, k);
	}
	if (!strcmp(transport, "sendfile")) {
		off_t o = off;

		return sendfile(s, fd, &o, n);
	}
	if (!strcmp(transport, "splice")) {
		static int p[2] = { -1, -1 };
		loff_t o = off;
		ssize_t in, left;

		if (p[0] < 0 && pipe(p))
			return -1;
		in = splice(fd, &o, p[1], NULL, n, 0);
		if (in <= 0)
			return in;
		for (left = in; left > 0;) {
			ssize_t w = splice(p[0], NULL, s, NULL, left, 0);

			if (w <= 0)
				return -1;
			left -= w;
		}
		return in;
	}
	if (!strcmp(transport, "zerocopy")) {
		ssize_t r = send(s, data + off, n, MSG_ZEROCOPY);

		if (r < 0 && errno == ENOBUFS) {
			drain_errqueue(s);
			return 0;
		}
		drain_errqueue(s);
		return r;
	}
	if (!strcmp(transport, "uring")) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct io_uring_cqe *cqe;
		int r;

		io_uring_prep_send(sqe, s, data + off, n, 0);
		io_uring_submit(ring);
		if (io_uring_wait_cqe(ring, &cqe))
			return -1;
		r = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		if (r < 0) {
			errno = -r;
			return -1;
		}
		return r;
	}
	n = size - off < DGRAM ? size - off : DGRAM;
	if (!strcmp(transport, "udp-conn"))
		return send(s, data + off, n, 0);
	if (!strcmp(transport, "udp-unconn"))
		return sendto(s, data + off, n, 0, (struct sockaddr *)&dst, dstlen);
	if (!strcmp(transport, "sendmmsg")) {
		struct mmsghdr mm[16];
		struct iovec iov[16];
		size_t got = 0;
		int k = 0, r;

		memset(mm, 0, sizeof(mm));
		for (; k < 16 && off + got < size; k++) {
			size_t l = size - off - got < DGRAM ? size - off - got : DGRAM;

			iov[k].iov_base = (char *)data + off + got;
			iov[k].iov_len = l;
			mm[k].msg_hdr.msg_iov = &iov[k];
			mm[k].msg_hdr.msg_iovlen = 1;
			got += l;
		}
		r = sendmmsg(s, mm, k, 0);
		if (r <= 0)
			return r;
		got = 0;
		for (int i = 0; i < r; i++)
			got += iov[i].iov_len;
		return got;
	}
	if (!strcmp(transport, "gso")) {
		char ctl[CMSG_SPACE(sizeof(uint16_t))] = { 0 };
		size_t l = size - off < 40 * DGRAM ? size - off : 40 * DGRAM;
		struct iovec iov = { (char *)data + off, l };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);

		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		*(uint16_t *)CMSG_DATA(c) = DGRAM;
		return sendmsg(s, &m, 0);
	}
	errno = EINVAL;
	return -1;
}

static void worker(void)
{
	int socks[MAX_FLOWS], fd, f;
	size_t size, off[MAX_FLOWS] = { 0 };
	struct io_uring ring;
	struct stat st;
	char *data = NULL;
	uint64_t deadline = mono_ns() + RUN_LIMIT_S * 1000000000ull;
	bool file_path = !strcmp(transport, "sendfile") || !strcmp(transport, "splice");

	for (f = 0; f < flows; f++)
		socks[f] = open_flow(!connect_after);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		fail();
	size = st.st_size;
	if (!file_path) {
		data = malloc(size);
		if (!data)
			_exit(4);
		for (size_t got = 0; got < size;) {	/* the read that taints */
			ssize_t r = read(fd, data + got, size - got);

			if (r <= 0)
				fail();
			got += r;
		}
	}
	if (connect_after && strcmp(transport, "udp-unconn"))
		for (f = 0; f < flows; f++)
			if (connect(socks[f], (struct sockaddr *)&dst, dstlen))
				fail();
	if (!strcmp(transport, "uring") && io_uring_queue_init(8, &ring, 0))
		_exit(4);
	for (bool left = true; left;) {
		left = false;
		for (f = 0; f < flows; f++) {
			ssize_t r;

			if (off[f] >= size)
				continue;
			left = true;
			r = send_step(socks[f], fd, data, size, off[f], &ring);
			if (r < 0) {
				/* refused before anything left; a drop of a connected
				 * UDP send (EPERM) keeps the attacker trying */
				if (errno == EPERM && is_udp() && strcmp(transport, "udp-unconn"))
					continue;
				fail();
			}
			off[f] += r;
		}
		if (mono_ns() > deadline)
			_exit(5);
	}
	for (f = 0; f < flows; f++)
		close(socks[f]);
	_exit(0);
}

int main(int argc, char **argv)
{
	int opt_i = 7;

	if (argc < 7) {
		fprintf(stderr, "usage: leaker TRANSPORT 4|6 HOST PORT FILE OUT [--procs N] "
			"[--flows N] [--chunk BYTES] [--connect-after]\n");
		return 2;
	}
	transport = argv[1];
	family = atoi(argv[2]) == 6 ? AF_INET6 : AF_INET;
	host = argv[3];
	port = atoi(argv[4]);
	file = argv[5];
	out = argv[6];
	for (; opt_i < argc; opt_i++) {
		if (!strcmp(argv[opt_i], "--procs") && opt_i + 1 < argc)
			procs = atoi(argv[++opt_i]);
		else if (!strcmp(argv[opt_i], "--flows") && opt_i + 1 < argc)
			flows = atoi(argv[++opt_i]);
		else if (!strcmp(argv[opt_i], "--chunk") && opt_i + 1 < argc)
			chunk = strtoull(argv[++opt_i], NULL, 10);
		else if (!strcmp(argv[opt_i], "--connect-after"))
			connect_after = true;
		else
			return 2;
	}
	if (flows < 1 || flows > MAX_FLOWS || procs < 1 || procs > 256 || !chunk)
		return 2;
	memset(&dst, 0, sizeof(dst));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&dst;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		dstlen = sizeof(*a);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return 2;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&dst;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		dstlen = sizeof(*a);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return 2;
	}
	for (int i = 0; i < procs; i++) {
		pid_t p = fork();

		if (p < 0)
			return 4;
		if (p == 0)
			worker();
	}
	for (int i = 0; i < procs; i++) {
		int status;
		pid_t p = wait(&status);

		if (p < 0)
			break;
		report("D %d %llu %d\n", p, (unsigned long long)mono_ns(), status);
	}
	return 0;
}
