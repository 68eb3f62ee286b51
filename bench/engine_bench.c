// SPDX-License-Identifier: GPL-2.0
/* engine_bench [RECORDS]: correlated records per second through a 50-rule
 * pack (the default pack plus 40 site rules shaped like real ones) on one
 * core, the way the agent evaluates them: engine__eval per activity, hits
 * rendered. Prints one JSON line. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engine.h"
#include "rules.h"

static const char *const comms[] = { "python3", "curl", "torchrun", "rsync", "tar", "bash",
				     "java", "node", "rclone", "gzip", "nc", "aws" };
static const enum act_event events[] = { ACT_EV_CONNECT, ACT_EV_EGRESS, ACT_EV_PROGRESS,
					  ACT_EV_BUDGET };

static unsigned long long hits;

static void on_hit(void *ctx, const struct activity *a, const struct rule_hit *h)
{
	hits++;
}

static char *site_rules(void)
{
	size_t cap = 1 << 16, n = 0;
	char *y = malloc(cap);

	n += snprintf(y + n, cap - n,
		"list:\n  - name: site_nets\n    items: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fd00::/8]\n"
		"  - name: site_users\n    items: [1000, 1001, 1002, 1003]\n"
		"macro:\n  - name: site_out\n    condition: evt.type in (connect, egress) and not net.daddr in (site_nets)\n"
		"rule:\n");
	for (int i = 0; i < 40; i++) {
		static const char *const shapes[] = {
			"site_out and proc.name = tool%d and net.dport = %d",
			"evt.type = progress and net.bytes >= %dMiB and proc.uid in (site_users) and net.dport != %d",
			"site_out and proc.cmdline contains \\\"--secret-%d\\\" and net.dport < %d",
			"evt.type = egress and proc.exe glob /opt/app%d/* and taint.depth >= %d",
			"site_out and file.path glob /models/m%d/** and net.dport in (%d, 443, 8443)",
			"evt.type = connect and proc.ancestors in (bash, sh) and proc.name startswith job%d and net.dport > %d",
			"site_out and taint.set in (set%d) and not net.proto = udp and net.bytes > %d",
			"evt.type in (egress, progress) and proc.cgroup startswith /kubepods/pod%d and net.dport = %d",
		};
		char cond[256];

		snprintf(cond, sizeof(cond), shapes[i % 8], i, 1000 + i);
		n += snprintf(y + n, cap - n,
			      "  - id: site-%02d\n    condition: \"%s\"\n    severity: medium\n"
			      "    message: \"%%proc.name (pid %%proc.pid) to %%net.daddr:%%net.dport\"\n",
			      i, cond);
	}
	return y;
}

int main(int argc, char **argv)
{
	long records = argc > 1 ? atol(argv[1]) : 4000000;
	struct ruleset rs;
	struct engine *e;
	struct activity *acts;
	struct timespec t0, t1;
	char err[1024], *site;
	const int nacts = 4096;
	double secs;

	rules__init(&rs);
	if (rules__load_defaults(&rs, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	site = site_rules();
	if (rules__load_string(&rs, "bench-site.yaml", site, strlen(site), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	e = engine__new(&rs, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	acts = calloc(nacts, sizeof(*acts));
	for (int i = 0; i < nacts; i++) {
		struct activity *a = &acts[i];
		static const char *const paths[] = { "/models/m3/w.safetensors", "/data/x.gguf" };
		static const char *const sets[] = { "model-dirs", "set7" };

		a->event = events[i % 4];
		a->action = ACT_ALERT;
		a->mode = ACT_MONITOR;
		a->host = "bench";
		a->proc.pid = 1000 + i;
		a->proc.uid = 1000 + i % 5;
		snprintf(a->proc.comm, sizeof(a->proc.comm), "%s", comms[i % 12]);
		snprintf(a->proc.exe, sizeof(a->proc.exe), "/usr/bin/%s", comms[i % 12]);
		snprintf(a->proc.cmdline, sizeof(a->proc.cmdline), "%s --out s3://b/%d --verbose",
			 comms[i % 12], i);
		snprintf(a->proc.cgroup, sizeof(a->proc.cgroup), "/kubepods/pod%d/c", i % 50);
		a->nsources = 1;
		a->sources[0].path = paths[i % 2];
		a->sources[0].set = sets[i % 2];
		a->sources[0].bytes_read = 1 << 20;
		a->nchain = 2;
		a->chain[0].comm = "bash";
		a->chain[0].via = "read";
		a->chain[1].comm = a->proc.comm;
		a->chain[1].via = "fork";
		a->sets[0] = sets[i % 2];
		a->nsets = 1;
		a->taint_via = "fork";
		a->taint_depth = 1;
		a->af = AF_INET;
		a->daddr_raw[0] = (i % 3) ? 203 : 10;
		a->daddr_raw[1] = 0;
		a->daddr_raw[2] = 113;
		a->daddr_raw[3] = (unsigned char)i;
		inet_ntop(AF_INET, a->daddr_raw, a->daddr, sizeof(a->daddr));
		a->dport = (i % 7) ? 443 : 1000 + i % 40;
		a->family = "ipv4";
		a->protocol = i % 9 ? "tcp" : "udp";
		a->bytes = (uint64_t)(i % 64) << 20;
		activity__finish(a);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long r = 0; r < records; r++) {
		struct activity *a = &acts[r % nacts];

		/* every record a new process: nothing is a suppressed repeat, every
		 * hit is rendered, as on a live host */
		a->proc.pid = (pid_t)(100000 + r);
		engine__eval(e, a, NULL, on_hit, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("{\"bench\":\"engine\",\"rules\":%zu,\"records\":%ld,\"seconds\":%.3f,"
	       "\"records_per_second\":%.0f,\"hits\":%llu}\n", engine__rule_count(e), records, secs,
	       records / secs, hits);
	engine__free(e);
	rules__free(&rs);
	free(acts);
	free(site);
	return 0;
}
