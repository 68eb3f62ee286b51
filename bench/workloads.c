// SPDX-License-Identifier: GPL-2.0
/*
 * vigil benchmark workloads: one binary, one subcommand per workload.
 *
 * Every timed workload measures itself with CLOCK_MONOTONIC around the part
 * that matters (no process start-up, no set-up) and prints one JSON line on
 * stdout: {"workload": ..., "elapsed_s": ..., ...}. A failure prints a
 * message on stderr and exits non-zero. Built by bench/run.sh:
 *
 *   gcc -O2 -Wall -Wextra -o .output/bench/workloads bench/workloads.c
 *
 * Workloads
 *   seqread FILE PASSES BS            sequential read()s of BS bytes, PASSES times
 *   mmapread FILE PASSES              mmap, touch one byte per 4 KiB page, munmap
 *   smallio-file SRC DST N            N x (1-byte read of SRC + 1-byte write to DST)
 *   smallio-dev N                     N x (1-byte read of /dev/zero + write to /dev/null)
 *   openclose DIR NFILES PASSES       open/read/close DIR/f00000..
 *   tcp-lo BYTES BS                   bulk TCP over loopback to a forked receiver
 *   tcp-send HOST PORT BYTES BS [FILE]  bulk TCP to HOST:PORT (a `sink`); with FILE,
 *                                     read 64 KiB of FILE first (taint), then connect
 *   smallsend N SIZE                  N sends of SIZE bytes on one loopback TCP connection
 *   forkexec N PROG                   N x fork + exec PROG + wait
 *
 * Helpers (not timed workloads)
 *   mkfiles DIR N SIZE                create DIR/f00000.. (N files of SIZE bytes)
 *   mkbig FILE SIZE                   create FILE with SIZE bytes of pseudo-random data
 *   hold FILE...                      keep FILEs in the page cache (mapped) until killed
 *   prime FILE                        read 4 KiB of FILE while holding a pipe's write
 *                                     end: the kernel marks a pipe (vg_pipe_gen > 0)
 *   sink tcp|udp PORT OUT IDLE_MS     receive forever; one line "BYTES" per connection
 *                                     (tcp: at EOF/reset/idle; udp: per burst) to OUT
 *   leak FILE HOST PORT tcp|udp CHUNK MAX
 *                                     pre-connected sender reads FILE (taint) and sends
 *                                     it in CHUNK pieces until killed or MAX bytes;
 *                                     reports time from the first send to its death
 *   connect-check HOST PORT           exit 0 if connect() fails with EPERM, 2 if it
 *                                     connects, 3 on any other outcome
 *   storm DIR NFILES NPROCS FORKS CONNECTS HOST PORT SELF
 *                                     NPROCS processes each read NFILES/NPROCS protected
 *                                     files, then each runs FORKS fork+exec of
 *                                     `SELF connect-check`, then CONNECTS connect()s;
 *                                     counts every outcome (see bench/README.md)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "workloads: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void dief(const char *fmt, const char *arg)
{
	fprintf(stderr, "workloads: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static unsigned long long num(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (end == s)
		dief("not a number: %s", s);
	switch (*end) {
	case 'k': case 'K': v <<= 10; break;
	case 'm': case 'M': v <<= 20; break;
	case 'g': case 'G': v <<= 30; break;
	default: break;
	}
	return v;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("malloc");
	memset(p, 0x5a, n);
	return p;
}

/* ---- file workloads ---------------------------------------------------- */

static int w_seqread(int argc, char **argv)
{
	if (argc != 5)
		dief("usage: %s FILE PASSES BS", "seqread");
	const char *path = argv[2];
	unsigned long long passes = num(argv[3]), bs = num(argv[4]), total = 0;
	char *buf = xmalloc(bs);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	double t0, t;

	if (fd < 0)
		die(path);
	t0 = now();
	for (unsigned long long p = 0; p < passes; p++) {
		ssize_t n;

		if (lseek(fd, 0, SEEK_SET) < 0)
			die("lseek");
		while ((n = read(fd, buf, bs)) > 0)
			total += n;
		if (n < 0)
			die("read");
	}
	t = now() - t0;
	close(fd);
	printf("{\"workload\":\"seqread\",\"elapsed_s\":%.6f,\"bytes\":%llu,\"gib_per_s\":%.3f}\n",
	       t, total, total / t / (1 << 30));
	return 0;
}

static int w_mmapread(int argc, char **argv)
{
	if (argc != 4)
		dief("usage: %s FILE PASSES", "mmapread");
	const char *path = argv[2];
	unsigned long long passes = num(argv[3]), total = 0;
	volatile unsigned long sum = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	double t0, t;

	if (fd < 0 || fstat(fd, &st))
		die(path);
	t0 = now();
	for (unsigned long long p = 0; p < passes; p++) {
		const unsigned char *m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		unsigned long s = 0;

		if (m == MAP_FAILED)
			die("mmap");
		for (off_t off = 0; off < st.st_size; off += 4096)
			s += m[off];
		sum += s;
		munmap((void *)m, st.st_size);
		total += st.st_size;
	}
	t = now() - t0;
	close(fd);
	printf("{\"workload\":\"mmapread\",\"elapsed_s\":%.6f,\"bytes\":%llu,\"gib_per_s\":%.3f}\n",
	       t, total, total / t / (1 << 30));
	return 0;
}

/* dd bs=1: one-byte read()s and write()s, rewinding at the end of the file */
static int w_smallio_file(int argc, char **argv)
{
	if (argc != 5)
		dief("usage: %s SRC DST N", "smallio-file");
	unsigned long long n = num(argv[4]);
	int in = open(argv[2], O_RDONLY | O_CLOEXEC);
	int out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const off_t wrap = 1 << 20;
	off_t woff = 0;
	char c;
	double t0, t;

	if (in < 0)
		die(argv[2]);
	if (out < 0)
		die(argv[3]);
	t0 = now();
	for (unsigned long long i = 0; i < n; i++) {
		ssize_t r = read(in, &c, 1);

		if (r == 0) {
			if (lseek(in, 0, SEEK_SET) < 0)
				die("lseek");
			r = read(in, &c, 1);
		}
		if (r != 1)
			die("read");
		if (write(out, &c, 1) != 1)
			die("write");
		if (++woff == wrap) {
			if (lseek(out, 0, SEEK_SET) < 0)
				die("lseek");
			woff = 0;
		}
	}
	t = now() - t0;
	close(in);
	close(out);
	printf("{\"workload\":\"smallio-file\",\"elapsed_s\":%.6f,\"syscalls\":%llu,"
	       "\"ns_per_syscall\":%.1f}\n", t, 2 * n, t * 1e9 / (2 * n));
	return 0;
}

static int w_smallio_dev(int argc, char **argv)
{
	if (argc != 3)
		dief("usage: %s N", "smallio-dev");
	unsigned long long n = num(argv[2]);
	int in = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char c;
	double t0, t;

	if (in < 0 || out < 0)
		die("open /dev/zero or /dev/null");
	t0 = now();
	for (unsigned long long i = 0; i < n; i++) {
		if (read(in, &c, 1) != 1)
			die("read");
		if (write(out, &c, 1) != 1)
			die("write");
	}
	t = now() - t0;
	printf("{\"workload\":\"smallio-dev\",\"elapsed_s\":%.6f,\"syscalls\":%llu,"
	       "\"ns_per_syscall\":%.1f}\n", t, 2 * n, t * 1e9 / (2 * n));
	return 0;
}

static int w_mkfiles(int argc, char **argv)
{
	if (argc != 5)
		dief("usage: %s DIR N SIZE", "mkfiles");
	unsigned long long n = num(argv[3]), size = num(argv[4]);
	char *buf = xmalloc(size ? size : 1), path[4096];

	if (mkdir(argv[2], 0755) && errno != EEXIST)
		die(argv[2]);
	for (unsigned long long i = 0; i < n; i++) {
		int fd;

		/* a little content that differs per file */
		if (size >= 8)
			memcpy(buf, &i, 8);
		snprintf(path, sizeof(path), "%s/f%05llu", argv[2], i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			die(path);
		if (size && write(fd, buf, size) != (ssize_t)size)
			die("write");
		close(fd);
	}
	return 0;
}

/* A large file with real (non-zero, incompressible) data: never sparse. */
static int w_mkbig(int argc, char **argv)
{
	if (argc != 4)
		dief("usage: %s FILE SIZE", "mkbig");
	unsigned long long size = num(argv[3]), x = 0x9E3779B97F4A7C15ull;
	size_t bs = 1 << 20;
	uint64_t *buf = (uint64_t *)xmalloc(bs);
	int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die(argv[2]);
	for (unsigned long long done = 0; done < size; done += bs) {
		size_t n = size - done < bs ? size - done : bs;

		for (size_t i = 0; i < bs / 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = x;
		}
		if (write(fd, buf, n) != (ssize_t)n)
			die("write");
	}
	if (close(fd))
		die("close");
	return 0;
}

static int w_openclose(int argc, char **argv)
{
	if (argc != 5)
		dief("usage: %s DIR NFILES PASSES", "openclose");
	unsigned long long nfiles = num(argv[3]), passes = num(argv[4]), ops = 0;
	char path[4096], buf[4096];
	double t0, t;

	t0 = now();
	for (unsigned long long p = 0; p < passes; p++) {
		for (unsigned long long i = 0; i < nfiles; i++) {
			int fd;

			snprintf(path, sizeof(path), "%s/f%05llu", argv[2], i);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				die(path);
			if (read(fd, buf, sizeof(buf)) < 0)
				die("read");
			close(fd);
			ops++;
		}
	}
	t = now() - t0;
	printf("{\"workload\":\"openclose\",\"elapsed_s\":%.6f,\"files\":%llu,"
	       "\"us_per_file\":%.3f}\n", t, ops, t * 1e6 / ops);
	return 0;
}

/* kill(self, SIGUSR1), ignored: every signal generated on the host runs
 * the agent's signal_generate hook (tamper evidence) */
static int w_signals(int argc, char **argv)
{
	if (argc != 3)
		dief("usage: %s N", "signals");
	unsigned long long n = num(argv[2]);
	double t0, t;

	signal(SIGUSR1, SIG_IGN);
	t0 = now();
	for (unsigned long long i = 0; i < n; i++)
		if (kill(getpid(), SIGUSR1))
			die("kill");
	t = now() - t0;
	printf("{\"workload\":\"signals\",\"elapsed_s\":%.6f,\"signals\":%llu,"
	       "\"ns_per_signal\":%.1f}\n", t, n, t * 1e9 / n);
	return 0;
}

/* ---- network helpers ----------------------------------------------------- */

static int parse_addr(const char *host, const char *port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(atoi(port));
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(atoi(port));
		*len = sizeof(*s6);
		return AF_INET6;
	}
	dief("bad address %s", host);
	return -1;
}

static int tcp_connect(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_addr(host, port, &ss, &len);
	int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die("socket");
	if (connect(s, (struct sockaddr *)&ss, len))
		die("connect");
	return s;
}

/* A listener on 127.0.0.1, any port; returns the fd and the port. */
static int lo_listen(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4) ||
	    getsockname(s, (struct sockaddr *)&a, &len))
		die("listen on loopback");
	*port = ntohs(a.sin_port);
	return s;
}

/* Read until EOF, then close: the sender's read() sees EOF when every byte
 * it sent has been received. */
static unsigned long long drain(int c, size_t bufsz)
{
	char *buf = xmalloc(bufsz);
	unsigned long long got = 0;
	ssize_t n;

	while ((n = read(c, buf, bufsz)) > 0)
		got += n;
	free(buf);
	return got;
}

/* BENCH_RX_CPU=N: pin the receiving side to CPU N (the sender stays where
 * its caller put it), so runs do not differ by where the scheduler put them. */
static void rx_pin(void)
{
	const char *c = getenv("BENCH_RX_CPU");
	cpu_set_t set;

	if (!c || !*c)
		return;
	CPU_ZERO(&set);
	CPU_SET(atoi(c), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static pid_t fork_receiver(int l)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int c;

		rx_pin();
		c = accept(l, NULL, NULL);

		if (c < 0)
			_exit(1);
		drain(c, 1 << 20);
		close(c);
		_exit(0);
	}
	close(l);
	return pid;
}

/* Send `bytes` in `bs` pieces, shut down, and wait for the receiver's EOF. */
static unsigned long long send_all(int s, unsigned long long bytes, size_t bs)
{
	char *buf = xmalloc(bs), tmp[64];
	unsigned long long sent = 0, calls = 0;

	while (sent < bytes) {
		size_t want = bytes - sent < bs ? bytes - sent : bs;
		ssize_t n = send(s, buf, want, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("send");
		}
		sent += n;
		calls++;
	}
	if (shutdown(s, SHUT_WR))
		die("shutdown");
	while (read(s, tmp, sizeof(tmp)) > 0)
		;
	free(buf);
	return calls;
}

static void wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		dief("receiver %s", "failed");
}

static int w_tcp_lo(int argc, char **argv)
{
	if (argc != 4)
		dief("usage: %s BYTES BS", "tcp-lo");
	unsigned long long bytes = num(argv[2]), bs = num(argv[3]);
	char port[16];
	int p, l = lo_listen(&p), s;
	pid_t rx = fork_receiver(l);
	double t0, t;

	snprintf(port, sizeof(port), "%d", p);
	t0 = now();
	s = tcp_connect("127.0.0.1", port);
	send_all(s, bytes, bs);
	t = now() - t0;
	close(s);
	wait_child(rx);
	printf("{\"workload\":\"tcp-lo\",\"elapsed_s\":%.6f,\"bytes\":%llu,\"gbit_per_s\":%.3f}\n",
	       t, bytes, bytes * 8 / t / 1e9);
	return 0;
}

static void taint_self(const char *file)
{
	char *buf = xmalloc(65536);
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die(file);
	if (read(fd, buf, 65536) <= 0)
		die("read weights");
	close(fd);
	free(buf);
}

static int w_tcp_send(int argc, char **argv)
{
	if (argc != 6 && argc != 7)
		dief("usage: %s HOST PORT BYTES BS [TAINT_FILE]", "tcp-send");
	unsigned long long bytes = num(argv[4]), bs = num(argv[5]);
	double t0, t;
	int s;

	if (argc == 7)
		taint_self(argv[6]);
	t0 = now();
	s = tcp_connect(argv[2], argv[3]);
	send_all(s, bytes, bs);
	t = now() - t0;
	close(s);
	printf("{\"workload\":\"tcp-send\",\"elapsed_s\":%.6f,\"bytes\":%llu,\"gbit_per_s\":%.3f,"
	       "\"tainted\":%s}\n", t, bytes, bytes * 8 / t / 1e9, argc == 7 ? "true" : "false");
	return 0;
}

static int w_smallsend(int argc, char **argv)
{
	if (argc != 4)
		dief("usage: %s N SIZE", "smallsend");
	unsigned long long n = num(argv[2]), size = num(argv[3]), calls;
	char port[16];
	int p, l = lo_listen(&p), s;
	pid_t rx = fork_receiver(l);
	double t0, t;

	snprintf(port, sizeof(port), "%d", p);
	s = tcp_connect("127.0.0.1", port);
	t0 = now();
	calls = send_all(s, n * size, size);
	t = now() - t0;
	close(s);
	wait_child(rx);
	printf("{\"workload\":\"smallsend\",\"elapsed_s\":%.6f,\"sends\":%llu,"
	       "\"ns_per_send\":%.1f}\n", t, calls, t * 1e9 / calls);
	return 0;
}

static int w_forkexec(int argc, char **argv)
{
	if (argc != 4)
		dief("usage: %s N PROG", "forkexec");
	unsigned long long n = num(argv[2]);
	char *const args[] = { argv[3], NULL };
	double t0, t;

	t0 = now();
	for (unsigned long long i = 0; i < n; i++) {
		pid_t pid = fork();
		int st;

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execv(argv[3], args);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			dief("child %s failed", argv[3]);
	}
	t = now() - t0;
	printf("{\"workload\":\"forkexec\",\"elapsed_s\":%.6f,\"execs\":%llu,"
	       "\"us_per_exec\":%.1f}\n", t, n, t * 1e6 / n);
	return 0;
}

/* ---- helpers for the capacity and enforcement figures ------------------- */

static int w_prime(int argc, char **argv)
{
	int p[2];

	if (argc != 3)
		dief("usage: %s FILE", "prime");
	if (pipe(p))
		die("pipe");
	taint_self(argv[2]);	/* the kernel marks p[1]: we hold its write end */
	close(p[0]);
	close(p[1]);
	return 0;
}

/* Keep files in the page cache: map them (this VM pages out cold *unmapped*
 * page cache through DAMON), touch every page, and sleep until killed. Run
 * it outside the agent's scope: mapping a protected file taints. */
static int w_hold(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		struct stat st;
		volatile unsigned char sum = 0;
		const unsigned char *m;

		if (fd < 0 || fstat(fd, &st))
			die(argv[i]);
		if (!st.st_size)
			continue;
		m = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			die("mmap");
		for (off_t off = 0; off < st.st_size; off += 4096)
			sum += m[off];
		close(fd);
	}
	printf("{\"workload\":\"hold\"}\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

static void append_line(const char *out, unsigned long long v)
{
	char line[64];
	int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int n = snprintf(line, sizeof(line), "%llu\n", v);

	if (fd < 0 || write(fd, line, n) != n)
		die(out);
	close(fd);
}

static int w_sink(int argc, char **argv)
{
	if (argc != 6)
		dief("usage: %s tcp|udp PORT OUT IDLE_MS", "sink");
	int udp = !strcmp(argv[2], "udp"), idle = atoi(argv[5]);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
	int one = 1, l = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	size_t bufsz = 1 << 20;
	char *buf = xmalloc(bufsz);
	char ready[4200];

	if (l < 0)
		die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (udp) {
		int rcv = 8 << 20;

		setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	}
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || (!udp && listen(l, 64)))
		die("bind/listen");
	snprintf(ready, sizeof(ready), "%s.ready", argv[4]);
	close(open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	for (;;) {
		unsigned long long got = 0;
		int c = l;

		if (!udp) {
			c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				die("accept");
			}
		}
		for (;;) {
			struct pollfd pfd = { .fd = c, .events = POLLIN };
			/* udp: wait for the first datagram without a deadline */
			int r = poll(&pfd, 1, udp && !got ? -1 : idle);
			ssize_t n;

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;		/* idle: the sender is gone (or killed) */
			n = recv(c, buf, bufsz, 0);
			if (n <= 0)
				break;		/* EOF or reset */
			got += n;
		}
		append_line(argv[4], got);
		if (!udp)
			close(c);
	}
	return 0;
}

/* The leak: a sender that connected before it read the weights (so connect
 * is not refused), then streams the file as fast as it can. The parent (not
 * tainted: it never reads the file) times from the first send to the
 * sender's death. */
struct leak_shared {
	_Atomic double t_first;
	_Atomic unsigned long long accepted;	/* bytes send() accepted */
	_Atomic unsigned long long sends;
	_Atomic int last_errno;
};

static int w_leak(int argc, char **argv)
{
	if (argc != 8)
		dief("usage: %s FILE HOST PORT tcp|udp CHUNK MAX", "leak");
	const char *file = argv[2];
	int udp = !strcmp(argv[5], "udp");
	unsigned long long chunk = num(argv[6]), max = num(argv[7]);
	struct leak_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct sockaddr_storage ss;
	socklen_t len;
	double t_dead;
	pid_t pid;
	int st;

	if (sh == MAP_FAILED)
		die("mmap");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fam = parse_addr(argv[3], argv[4], &ss, &len);
		int s = socket(fam, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
		char *buf = xmalloc(chunk);
		int fd;

		if (s < 0 || connect(s, (struct sockaddr *)&ss, len))
			_exit(10);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(11);
		while (sh->accepted < max) {
			ssize_t n = read(fd, buf, chunk), w;

			if (sh->t_first && now() - sh->t_first > 10)
				_exit(0);	/* 10 s and still alive: not stopped */

			if (n == 0) {
				lseek(fd, 0, SEEK_SET);
				continue;
			}
			if (n < 0)
				_exit(12);
			if (!sh->t_first)
				sh->t_first = now();
			w = send(s, buf, n, 0);
			if (w < 0) {
				sh->last_errno = errno;
				if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN ||
				    errno == ECONNREFUSED || errno == EPERM)
					continue;	/* keep trying: only death stops us */
				_exit(13);
			}
			sh->accepted += w;
			sh->sends++;
		}
		_exit(0);	/* not stopped */
	}
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	t_dead = now();
	printf("{\"workload\":\"leak\",\"proto\":\"%s\",\"chunk\":%llu,\"killed\":%s,"
	       "\"signal\":%d,\"exit\":%d,\"accepted_bytes\":%llu,\"sends\":%llu,"
	       "\"first_send_to_death_ms\":%.3f,\"last_errno\":%d}\n",
	       udp ? "udp" : "tcp", chunk,
	       WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "true" : "false",
	       WIFSIGNALED(st) ? WTERMSIG(st) : 0, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	       (unsigned long long)sh->accepted, (unsigned long long)sh->sends,
	       sh->t_first ? (t_dead - sh->t_first) * 1e3 : -1.0, sh->last_errno);
	return 0;
}

/* 0: EPERM (denied), 2: connected, 3: anything else */
static int connect_outcome(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_addr(host, port, &ss, &len);
	int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return 3;
	r = connect(s, (struct sockaddr *)&ss, len);
	r = r == 0 ? 2 : errno == EPERM ? 0 : 3;
	close(s);
	return r;
}

static int w_connect_check(int argc, char **argv)
{
	if (argc != 4)
		dief("usage: %s HOST PORT", "connect-check");
	return connect_outcome(argv[2], argv[3]);
}

struct storm_shared {
	_Atomic unsigned int tainted_ready;	/* workers past their reads */
	_Atomic unsigned int go_fork, go_connect, release, workers_done;
	_Atomic unsigned long forks_done, fork_denied, fork_connected, fork_other, fork_failed;
	_Atomic unsigned long connects, connect_denied, connect_connected, connect_other;
	_Atomic unsigned long read_errors;
};

/* Wait (futex, no polling) until *v >= want. Pipes are no use here: a
 * tainted process marks every pipe it can write to. */
static void wait_until(_Atomic unsigned int *v, unsigned int want)
{
	unsigned int cur;

	while ((cur = atomic_load(v)) < want)
		syscall(SYS_futex, (unsigned int *)v, FUTEX_WAIT, cur, NULL, NULL, 0);
}

static void bump(_Atomic unsigned int *v)
{
	atomic_fetch_add(v, 1);
	syscall(SYS_futex, (unsigned int *)v, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* STORM_STEP=1: after each phase, say so on stdout and wait for a line on
 * stdin (the caller reads the kernel's counters in between). */
static void storm_step(const char *phase, double secs)
{
	char line[16];

	const char *step = getenv("STORM_STEP");

	if (!step || !*step)
		return;
	printf("{\"phase\":\"%s\",\"secs\":%.3f}\n", phase, secs);
	fflush(stdout);
	(void)!fgets(line, sizeof(line), stdin);
}

static int w_storm(int argc, char **argv)
{
	if (argc != 10)
		dief("usage: %s DIR NFILES NPROCS FORKS CONNECTS HOST PORT SELF", "storm");
	const char *dir = argv[2], *host = argv[7], *port = argv[8], *self = argv[9];
	unsigned long nfiles = num(argv[3]), nprocs = num(argv[4]), forks = num(argv[5]);
	unsigned long connects = num(argv[6]), per = nfiles / nprocs;
	struct storm_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t *pids = calloc(nprocs, sizeof(*pids));
	double t0, t_taint, t_fork, t_conn;
	int control;

	if (sh == MAP_FAILED || !pids)
		die("alloc");
	t0 = now();
	for (unsigned long w = 0; w < nprocs; w++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			char path[4096], buf[4096];
			int devnull = open("/dev/null", O_RDWR);

			/* no pipes in a tainted process: report via shared memory */
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
			for (unsigned long i = 0; i < per; i++) {
				int fd;

				snprintf(path, sizeof(path), "%s/f%05lu", dir, w * per + i);
				fd = open(path, O_RDONLY | O_CLOEXEC);
				if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
					sh->read_errors++;
				if (fd >= 0)
					close(fd);
			}
			bump(&sh->tainted_ready);
			wait_until(&sh->go_fork, 1);
			for (unsigned long i = 0; i < forks; i++) {
				pid_t c = fork();
				int st;

				if (c < 0) {
					sh->fork_failed++;
					continue;
				}
				if (c == 0) {
					execl(self, self, "connect-check", host, port, (char *)NULL);
					_exit(4);
				}
				if (waitpid(c, &st, 0) != c || !WIFEXITED(st)) {
					sh->fork_failed++;
					continue;
				}
				switch (WEXITSTATUS(st)) {
				case 0: sh->fork_denied++; break;
				case 2: sh->fork_connected++; break;
				default: sh->fork_other++; break;
				}
				sh->forks_done++;
			}
			wait_until(&sh->go_connect, 1);
			for (unsigned long i = 0; i < connects; i++) {
				switch (connect_outcome(host, port)) {
				case 0: sh->connect_denied++; break;
				case 2: sh->connect_connected++; break;
				default: sh->connect_other++; break;
				}
				sh->connects++;
			}
			bump(&sh->workers_done);
			wait_until(&sh->release, 1);
			_exit(0);
		}
		pids[w] = pid;
	}
	wait_until(&sh->tainted_ready, nprocs);
	t_taint = now() - t0;
	storm_step("taint", t_taint);
	t0 = now();
	bump(&sh->go_fork);
	while (sh->forks_done + sh->fork_failed < nprocs * forks)
		usleep(10000);
	t_fork = now() - t0;
	storm_step("fork", t_fork);
	t0 = now();
	bump(&sh->go_connect);
	wait_until(&sh->workers_done, nprocs);
	t_conn = now() - t0;
	storm_step("connect", t_conn);
	/* the control: this process never read a protected file */
	control = connect_outcome(host, port);

	/* Workers stay alive (tainted) until the caller has looked at the
	 * kernel's taint map: it writes a line to our stdin. */
	printf("{\"workload\":\"storm\",\"workers\":%lu,\"files_read\":%lu,\"read_errors\":%lu,"
	       "\"taint_s\":%.3f,\"forks\":%lu,\"fork_denied\":%lu,\"fork_connected\":%lu,"
	       "\"fork_other\":%lu,\"fork_failed\":%lu,\"fork_s\":%.3f,\"connects\":%lu,"
	       "\"connect_denied\":%lu,\"connect_connected\":%lu,\"connect_other\":%lu,"
	       "\"connect_s\":%.3f,\"control_connect\":\"%s\",\"pids\":[",
	       nprocs, nprocs * per, (unsigned long)sh->read_errors, t_taint,
	       (unsigned long)sh->forks_done, (unsigned long)sh->fork_denied,
	       (unsigned long)sh->fork_connected, (unsigned long)sh->fork_other,
	       (unsigned long)sh->fork_failed, t_fork, (unsigned long)sh->connects,
	       (unsigned long)sh->connect_denied, (unsigned long)sh->connect_connected,
	       (unsigned long)sh->connect_other, t_conn,
	       control == 2 ? "connected" : control == 0 ? "denied" : "other");
	for (unsigned long w = 0; w < nprocs; w++)
		printf("%s%d", w ? "," : "", pids[w]);
	printf("]}\n");
	fflush(stdout);
	{
		char line[16];

		/* EOF releases them too */
		(void)!fgets(line, sizeof(line), stdin);
	}
	bump(&sh->release);
	for (unsigned long w = 0; w < nprocs; w++)
		waitpid(pids[w], NULL, 0);
	return 0;
}

/* ------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int, char **);
} cmds[] = {
	{ "seqread", w_seqread },	{ "mmapread", w_mmapread },
	{ "smallio-file", w_smallio_file }, { "smallio-dev", w_smallio_dev },
	{ "mkfiles", w_mkfiles },	{ "mkbig", w_mkbig },	{ "openclose", w_openclose },
	{ "tcp-lo", w_tcp_lo },		{ "tcp-send", w_tcp_send },
	{ "smallsend", w_smallsend },	{ "forkexec", w_forkexec },
	{ "signals", w_signals },
	{ "prime", w_prime },		{ "sink", w_sink },
	{ "leak", w_leak },		{ "connect-check", w_connect_check },
	{ "storm", w_storm },		{ "hold", w_hold },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: workloads CMD ARGS... (see the top of bench/workloads.c)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc, argv);
	fprintf(stderr, "workloads: unknown command %s\n", argv[1]);
	return 2;
}
