// SPDX-License-Identifier: GPL-2.0
/* Alert sinks: records per second through the whole path (alert built by
 * report__alert, identity stamped, queued, rendered in the sink's format,
 * written), one sink at a time, with the producer waiting for the sink
 * (blocking queue) so the figure is what the sink sustains. Then the event
 * loop's cost per record when its only sink is stalled (queue full, every
 * record dropped): what a dead receiver costs detection. Receivers are
 * child processes (their CPU is not in the figures): a reader per socket, a
 * TLS reader (OpenSSL, a throwaway certificate), and a minimal HTTP/1.1
 * collector answering every POST 200 (and _bulk with one created item per
 * record). Last, the HTTP outage: records spooled while the collector is
 * down, then the time the spool takes to drain once it is back.
 *   sink_bench DIR [RECORDS]    one JSON line per configuration */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <openssl/ssl.h>

#include "output.h"
#include "report.h"
#include "sink.h"

/* CPU seconds of the whole process (every thread): a figure the other
 * work on a shared machine does not inflate the way it does wall time */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sample(struct activity *a, struct rule_def *r, struct rule_hit *h)
{
	static char *tags[] = { "T1030", "T1041", "exfiltration" };

	memset(a, 0, sizeof(*a));
	a->mode = ACT_ENFORCE;
	a->event = ACT_EV_BUDGET;
	a->action = ACT_KILLED;
	a->killed_by = ACT_BY_KERNEL;
	a->proc.pid = 4242;
	a->proc.ppid = 4100;
	a->proc.uid = 1000;
	snprintf(a->proc.comm, sizeof(a->proc.comm), "python3");
	snprintf(a->proc.exe, sizeof(a->proc.exe), "/usr/bin/python3.11");
	snprintf(a->proc.cmdline, sizeof(a->proc.cmdline), "python3 up.py --bucket s3://x/y");
	snprintf(a->proc.cgroup, sizeof(a->proc.cgroup), "/user.slice/session-3.scope");
	a->pname = "bash";
	a->sources[0] = (struct act_source){ "/models/m/model-00001-of-00004.safetensors", "models",
					     25165824 };
	a->nsources = 1;
	a->chain[0] = (struct act_link){ 4100, "cat", "read" };
	a->chain[1] = (struct act_link){ 4242, "python3", "pipe" };
	a->nchain = 2;
	a->sets[0] = "models";
	a->nsets = 1;
	a->taint_via = "pipe";
	a->taint_depth = 1;
	a->family = "ipv4";
	a->protocol = "tcp";
	snprintf(a->daddr, sizeof(a->daddr), "203.0.113.9");
	a->dport = 443;
	a->bytes = 1048000;
	a->blocked_bytes = 65536;
	memset(r, 0, sizeof(*r));
	r->id = "weights-egress-budget";
	r->tags = tags;
	r->ntags = 3;
	memset(h, 0, sizeof(*h));
	h->rule = r;
	h->severity = "critical";
	h->action = ACT_KILLED;
	h->killed_by = ACT_BY_KERNEL;
	snprintf(h->message, sizeof(h->message), "python3 (pid 4242) was killed for sending data "
		 "from /models/m/model-00001-of-00004.safetensors to 203.0.113.9 port 443 past the "
		 "egress budget (1.0 MiB sent, 64.0 KiB dropped)");
}

/* A child that reads and discards a stream or datagram socket. */
static pid_t drain(int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		char buf[1 << 16];

		while (read(fd, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(fd);
	return pid;
}

/* A TCP listener on 127.0.0.1 (port 0: any), its port in *port. */
static int listen_tcp(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(*port) };
	socklen_t sl = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		perror("bench listen");
		exit(1);
	}
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Children that accept connections on lfd and read them: plain, or TLS
 * with cert/key (a new process per connection, so sinks that reconnect
 * are served). */
static pid_t stream_reader(int lfd, const char *cert, const char *key)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	setpgid(0, 0);	/* stop_child ends it and its connections at once */
	for (;;) {
		int c = accept(lfd, NULL, NULL);
		char buf[1 << 16];

		if (c < 0)
			_exit(1);
		if (fork()) {
			close(c);
			continue;
		}
		if (cert) {
			SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
			SSL *ssl;

			SSL_CTX_use_certificate_chain_file(ctx, cert);
			SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
			ssl = SSL_new(ctx);
			SSL_set_fd(ssl, c);
			if (SSL_accept(ssl) == 1)
				while (SSL_read(ssl, buf, sizeof(buf)) > 0)
					;
			_exit(0);
		}
		while (read(c, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
}

/* The collector: HTTP/1.1 keep-alive, every POST read whole and answered
 * 200; a _bulk POST gets one created item per pair of lines. */
static void http_serve(int c)
{
	static char buf[8 << 20];
	size_t have = 0;

	for (;;) {
		char *hdr_end, *cl, ans[256];
		size_t hl, body, lines = 0;
		ssize_t r;
		bool bulk;

		while (!(hdr_end = memmem(buf, have, "\r\n\r\n", 4))) {
			r = read(c, buf + have, sizeof(buf) - have);
			if (r <= 0)
				_exit(0);
			have += r;
		}
		hl = hdr_end + 4 - buf;
		cl = memmem(buf, hl, "Content-Length: ", 16);
		body = cl ? strtoul(cl + 16, NULL, 10) : 0;
		bulk = memmem(buf, hl, "/_bulk", 6) != NULL;
		while (have < hl + body) {
			r = read(c, buf + have, sizeof(buf) - have);
			if (r <= 0)
				_exit(0);
			have += r;
		}
		for (size_t i = hl; i < hl + body; i++)
			lines += buf[i] == '\n';
		if (bulk) {
			static char items[1 << 20];
			size_t off = snprintf(items, sizeof(items), "{\"errors\":false,\"items\":[");

			for (size_t i = 0; i < lines / 2 && off + 40 < sizeof(items); i++)
				off += snprintf(items + off, sizeof(items) - off,
						"%s{\"create\":{\"status\":201}}", i ? "," : "");
			off += snprintf(items + off, sizeof(items) - off, "]}");
			r = snprintf(ans, sizeof(ans), "HTTP/1.1 200 OK\r\nContent-Type: "
				     "application/json\r\nContent-Length: %zu\r\n\r\n", off);
			/* one write: headers and body in separate segments would
			 * wait out the client's delayed ACK (Nagle) */
			memmove(items + r, items, off);
			memcpy(items, ans, r);
			if (write(c, items, r + off) != (ssize_t)(r + off))
				_exit(0);
		} else {
			r = snprintf(ans, sizeof(ans), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
			if (write(c, ans, r) != r)
				_exit(0);
		}
		memmove(buf, buf + hl + body, have - hl - body);
		have -= hl + body;
	}
}

static pid_t http_collector(int lfd)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	setpgid(0, 0);
	for (;;) {
		int c = accept(lfd, NULL, NULL);

		if (c < 0)
			_exit(1);
		if (!fork())
			http_serve(c);
		close(c);
	}
}

static void stop_child(pid_t pid)
{
	int status;

	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static int run(const char *label, const char *spec, long n, bool blocking)
{
	struct output_opts oo = { .sinks = &spec, .nsinks = 1, .blocking = blocking,
				  .file_gid = (gid_t)-1, .drain_ms = blocking ? -1 : 100 };
	struct incident_ref ref = { .count = 1 };
	struct activity a;
	struct rule_def r;
	struct rule_hit h;
	struct output *o;
	struct json j;
	char err[512];
	double t0, t1, t2, c0, c2;

	sample(&a, &r, &h);
	o = output__open_opts(&oo, err, sizeof(err));
	if (!o) {
		fprintf(stderr, "sink_bench: %s: %s\n", spec, err);
		return 1;
	}
	snprintf(ref.id, sizeof(ref.id), "6f2a8c4e-1d3b-4f5a-9e7c-2b8d0a1c3e5f");
	json__init(&j);
	t0 = now_s();
	c0 = cpu_s();
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_REALTIME, &a.time);
		ref.first_seen = ref.last_seen = a.time;
		report__alert(o, &j, &a, &h, &ref, 0);
	}
	t1 = now_s();
	output__close(o);	/* blocking: waits until the sink wrote everything */
	t2 = now_s();
	c2 = cpu_s();
	json__free(&j);
	if (blocking)
		printf("{\"sink\":\"%s\",\"records\":%ld,\"seconds\":%.3f,\"records_per_s\":%.0f,"
		       "\"cpu_us_per_record\":%.1f,\"records_per_cpu_s\":%.0f}\n",
		       label, n, t2 - t0, n / (t2 - t0), (c2 - c0) * 1e6 / n, n / (c2 - c0));
	else
		printf("{\"sink\":\"%s\",\"records\":%ld,\"producer_ns_per_record\":%.0f}\n", label,
		       n, (t1 - t0) * 1e9 / n);
	fflush(stdout);
	return 0;
}

/* The HTTP outage: the collector is down while n records are produced (all
 * spooled), comes back, and the spool drains: records spooled at the peak,
 * delivered, and the time from its return to the last delivery (the retry
 * backoff, 0.5 s doubling to 30 s, is part of it). */
static int outage(const char *dir, long n)
{
	char spec[600], err[512];
	const char *specs[1] = { spec };
	struct output_opts oo = { .sinks = specs, .nsinks = 1, .file_gid = (gid_t)-1,
				  .drain_ms = 60000 };
	struct incident_ref ref = { .count = 1 };
	struct sink_stats st;
	struct activity a;
	struct rule_def r;
	struct rule_hit h;
	struct output *o;
	struct json j;
	int port = 0, lfd = listen_tcp(&port);
	double t_down, t_up, t_done;
	pid_t kid;

	close(lfd);	/* nobody listening: connection refused */
	snprintf(spec, sizeof(spec), "http://127.0.0.1:%d,spool=%s/bench-spool,spool_max=1G",
		 port, dir);
	o = output__open_opts(&oo, err, sizeof(err));
	if (!o) {
		fprintf(stderr, "sink_bench: %s\n", err);
		return 1;
	}
	sample(&a, &r, &h);
	json__init(&j);
	t_down = now_s();
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_REALTIME, &a.time);
		report__alert(o, &j, &a, &h, &ref, 0);
	}
	/* the spool takes them all while the collector is down */
	do {
		usleep(20000);
		output__sink_stats(o, 0, &st);
	} while (st.queued || st.spool_pending < (uint64_t)n);
	lfd = listen_tcp(&port);
	kid = http_collector(lfd);
	t_up = now_s();
	do {
		usleep(5000);
		output__sink_stats(o, 0, &st);
	} while (st.delivered < (uint64_t)n && now_s() - t_up < 120);
	t_done = now_s();
	printf("{\"sink\":\"http outage (spool=DIR)\",\"records\":%ld,\"outage_s\":%.2f,"
	       "\"spool_peak\":%llu,\"posts_failed\":%llu,\"delivered\":%llu,"
	       "\"drain_s\":%.3f,\"drain_records_per_s\":%.0f}\n", n, t_up - t_down,
	       (unsigned long long)st.spool_peak, (unsigned long long)st.posts_failed,
	       (unsigned long long)st.delivered, t_done - t_up, st.delivered / (t_done - t_up));
	fflush(stdout);
	output__close(o);
	json__free(&j);
	stop_child(kid);
	close(lfd);
	return st.delivered == (uint64_t)n ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	long n = argc > 2 ? atol(argv[2]) : 200000;
	char spec[4200], path[100];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char *const fmts[] = { "native", "ecs", "ocsf", "cef" };
	int rc = 0, fd, status;
	pid_t kid;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/bench-%s.log", dir, fmts[i]);
		unlink(path);
		snprintf(spec, sizeof(spec), "file:%s,format=%s", path, fmts[i]);
		snprintf(path, sizeof(path), "file %s", fmts[i]);
		rc |= run(path, spec, n, true);
	}
	snprintf(path, sizeof(path), "%s/bench-chain.log", dir);
	unlink(path);
	snprintf(spec, sizeof(spec), "file:%s,chain=sha256", path);
	rc |= run("file native chain=sha256", spec, n, true);
	snprintf(path, sizeof(path), "%s/bench-rot.log", dir);
	snprintf(spec, sizeof(spec), "%s,max_size=8M,keep=2", path);
	rc |= run("file native max_size=8M (gzip rotation)", spec, n, true);

	/* unix: one reader draining */
	snprintf(path, sizeof(path), "%s/bench.sock", dir);
	unlink(path);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	/* the socket exists once the sink is open: the reader is a child that
	 * keeps trying to connect */
	kid = fork();
	if (kid == 0) {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		for (int i = 0; i < 500; i++) {
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
				char buf[1 << 16];

				while (read(fd, buf, sizeof(buf)) > 0)
					;
				_exit(0);
			}
			close(fd);
			usleep(2000);
		}
		_exit(1);
	}
	rc |= run("unix (1 reader)", spec, n, true);
	waitpid(kid, &status, 0);

	/* syslog: a local datagram socket read by a child */
	snprintf(path, sizeof(path), "%s/bench-log.sock", dir);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("bind");
		return 1;
	}
	{
		int big = 8 << 20;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	}
	kid = drain(fd);
	snprintf(spec, sizeof(spec), "syslog:,socket=%s", path);
	rc |= run("syslog local (datagram)", spec, n, true);
	kill(kid, SIGTERM);
	waitpid(kid, &status, 0);

	/* syslog over TCP and TLS (RFC 5425) to a reading child */
	{
		char cert[200], key[200], cmd[800];
		int port = 0, lfd;

		snprintf(cert, sizeof(cert), "%s/bench-cert.pem", dir);
		snprintf(key, sizeof(key), "%s/bench-key.pem", dir);
		snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
			 "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost "
			 "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null",
			 key, cert);
		if (system(cmd)) {
			fprintf(stderr, "sink_bench: openssl req failed\n");
			return 1;
		}
		lfd = listen_tcp(&port);
		kid = stream_reader(lfd, NULL, NULL);
		close(lfd);
		snprintf(spec, sizeof(spec), "syslog:tcp://127.0.0.1:%d", port);
		rc |= run("syslog tcp", spec, n, true);
		stop_child(kid);
		port = 0;
		lfd = listen_tcp(&port);
		kid = stream_reader(lfd, cert, key);
		close(lfd);
		snprintf(spec, sizeof(spec), "syslog:tls://127.0.0.1:%d,ca=%s", port, cert);
		rc |= run("syslog tls", spec, n, true);
		stop_child(kid);

		/* HTTP per API, batches of 100, to the collector */
		static const char *const apis[] = { "generic", "splunk", "elastic", "loki" };

		port = 0;
		lfd = listen_tcp(&port);
		kid = http_collector(lfd);
		for (int i = 0; i < 4; i++) {
			char label[64];

			snprintf(spec, sizeof(spec), "http://127.0.0.1:%d,api=%s%s", port, apis[i],
				 i == 1 ? ",token=bench" : "");
			snprintf(label, sizeof(label), "http api=%s (batch 100)", apis[i]);
			rc |= run(label, spec, n, true);
		}
		stop_child(kid);
		close(lfd);
		rc |= outage(dir, n < 20000 ? n : 20000);
	}

	/* a dead receiver: stdout on a full pipe nobody reads */
	{
		int p[2], saved = dup(STDOUT_FILENO);
		char junk[512] = { 0 };
		FILE *out;

		if (pipe(p))
			return 1;
		fcntl(p[1], F_SETFL, O_NONBLOCK);
		while (write(p[1], junk, sizeof(junk)) > 0)
			;
		fcntl(p[1], F_SETFL, 0);
		dup2(p[1], STDOUT_FILENO);
		out = fdopen(saved, "w");
		/* the figure goes to the saved stdout */
		{
			double t0 = now_s(), c0 = cpu_s(), t1, c1;
			struct output_opts oo = { .sinks = (const char *const[]){ "-,queue=64" },
						  .nsinks = 1, .file_gid = (gid_t)-1, .drain_ms = 50 };
			struct incident_ref ref = { .count = 1 };
			struct activity a;
			struct rule_def r;
			struct rule_hit h;
			struct json j;
			char err[256];
			struct output *o = output__open_opts(&oo, err, sizeof(err));

			sample(&a, &r, &h);
			json__init(&j);
			for (long i = 0; i < n; i++) {
				clock_gettime(CLOCK_REALTIME, &a.time);
				report__alert(o, &j, &a, &h, &ref, 0);
			}
			t1 = now_s();
			c1 = cpu_s();
			fprintf(out, "{\"sink\":\"stalled stdout (every record dropped)\",\"records\":%ld,"
				"\"producer_ns_per_record\":%.0f,\"producer_cpu_ns_per_record\":%.0f}\n",
				n, (t1 - t0) * 1e9 / n, (c1 - c0) * 1e9 / n);
			fflush(out);
			output__close(o);
			json__free(&j);
		}
	}
	return rc;
}
