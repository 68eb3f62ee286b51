// SPDX-License-Identifier: GPL-2.0
/* Alert sinks: records per second through the whole path (alert built by
 * report__alert, identity stamped, queued, rendered in the sink's format,
 * written), one sink at a time, with the producer waiting for the sink
 * (blocking queue) so the figure is what the sink sustains. Then the event
 * loop's cost per record when its only sink is stalled (queue full, every
 * record dropped): what a dead receiver costs detection.
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

#include "output.h"
#include "report.h"

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
					     25165824, 0 };
	a->nsources = 1;
	a->chain[0] = (struct act_link){ 4100, "cat", "read", NULL };
	a->chain[1] = (struct act_link){ 4242, "python3", "pipe", NULL };
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
