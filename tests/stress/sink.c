// SPDX-License-Identifier: GPL-2.0
/*
 * sink: the stress harness's receiver, run inside the test host's network
 * namespace. Accepts TCP and receives UDP on PORT (IPv4 and IPv6) and counts
 * the bytes received per protocol and source port, so one leak's bytes are
 * told apart from another's. A unix socket CTL (a path: reachable from the
 * host namespace) answers one request per connection:
 *   take tcp:PORT udp:PORT ...   -> "BYTES IDLE_MS\n", and zeroes them
 *   peek tcp:PORT ...            -> the same without zeroing
 * IDLE_MS: since the last byte arrived on any of those ports.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 4096

static uint64_t bytes[2][65536], last_ns[2][65536];
static int fd_port[MAX_FDS];
static char buf[1 << 20];

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int port_of(const struct sockaddr_storage *a)
{
	return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);	/* same offset in v4 */
}

static void control(int c)
{
	char req[65536], *tok, *save;
	uint64_t sum = 0, last = 0, now = mono_ns();
	ssize_t n = read(c, req, sizeof(req) - 1);
	int take;

	if (n <= 0)
		return;
	req[n] = 0;
	take = !strncmp(req, "take", 4);
	for (tok = strtok_r(req, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		int proto = !strncmp(tok, "udp:", 4), port;

		if (strncmp(tok, "tcp:", 4) && strncmp(tok, "udp:", 4))
			continue;
		port = atoi(tok + 4) & 0xffff;
		sum += bytes[proto][port];
		if (last_ns[proto][port] > last)
			last = last_ns[proto][port];
		if (take)
			bytes[proto][port] = 0;
	}
	n = snprintf(req, sizeof(req), "%llu %llu\n", (unsigned long long)sum,
		     (unsigned long long)(last ? (now - last) / 1000000 : 999999));
	if (write(c, req, n) != n)
		return;
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct epoll_event ev, evs[64];
	int tl, ud, ctl, ep, zero = 0, one = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: sink PORT CTL\n");
		return 2;
	}
	a6.sin6_port = htons(atoi(argv[1]));
	tl = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ud = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ctl = socket(AF_UNIX, SOCK_STREAM, 0);
	setsockopt(tl, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(ud, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(tl, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	{
		int rb = 8 << 20;

		setsockopt(ud, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	}
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", argv[2]);
	unlink(argv[2]);
	if (bind(tl, (struct sockaddr *)&a6, sizeof(a6)) || listen(tl, 512) ||
	    bind(ud, (struct sockaddr *)&a6, sizeof(a6)) ||
	    bind(ctl, (struct sockaddr *)&un, sizeof(un)) || listen(ctl, 16)) {
		perror("sink: bind");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = tl;
	epoll_ctl(ep, EPOLL_CTL_ADD, tl, &ev);
	ev.data.fd = ud;
	epoll_ctl(ep, EPOLL_CTL_ADD, ud, &ev);
	ev.data.fd = ctl;
	epoll_ctl(ep, EPOLL_CTL_ADD, ctl, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == tl) {
				struct sockaddr_storage peer;
				socklen_t len = sizeof(peer);
				int c;

				while ((c = accept4(tl, (struct sockaddr *)&peer, &len,
						    SOCK_NONBLOCK)) >= 0) {
					if (c >= MAX_FDS) {
						close(c);
						continue;
					}
					fd_port[c] = port_of(&peer);
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
					len = sizeof(peer);
				}
			} else if (fd == ud) {
				struct sockaddr_storage peer;
				socklen_t len = sizeof(peer);
				ssize_t r;

				while ((r = recvfrom(ud, buf, sizeof(buf), 0,
						     (struct sockaddr *)&peer, &len)) >= 0) {
					int p = port_of(&peer);

					bytes[1][p] += r;
					last_ns[1][p] = mono_ns();
					len = sizeof(peer);
				}
			} else if (fd == ctl) {
				int c = accept(ctl, NULL, NULL);

				if (c >= 0) {
					control(c);
					close(c);
				}
			} else {
				ssize_t r = recv(fd, buf, sizeof(buf), 0);

				if (r > 0) {
					bytes[0][fd_port[fd]] += r;
					last_ns[0][fd_port[fd]] = mono_ns();
				} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					close(fd);
				}
			}
		}
	}
}
