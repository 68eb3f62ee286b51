// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tail.h"

#define RESET "\033[0m"

static const char *sev_color(const char *sev)
{
	if (!sev)
		return "";
	if (!strcmp(sev, "critical"))
		return "\033[1;31m";
	if (!strcmp(sev, "high"))
		return "\033[31m";
	if (!strcmp(sev, "medium"))
		return "\033[33m";
	return "\033[36m";
}

static const char *str(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	o = json_object_get(o, path);
	return json_is_string(o) ? json_string_value(o) : NULL;
}

static long long num(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* Sum of one member over the sinks array (dropped, failed). */
static long long sinks_sum(json_t *o, const char *field)
{
	json_t *arr = json_object_get(o, "sinks"), *e;
	long long n = 0;
	size_t i;

	json_array_foreach(arr, i, e)
		n += json_integer_value(json_object_get(e, field));
	return n;
}

void tail__format(const char *line, bool color, char *buf, size_t len)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *kind, *time_, *host, *dim = color ? "\033[2m" : "", *rst = color ? RESET : "";
	char when[32] = "";

	if (!json_is_object(o)) {
		snprintf(buf, len, "%s(not a record) %.200s%s", dim, line, rst);
		json_decref(o);
		return;
	}
	kind = str(o, "kind") ? str(o, "kind") : "?";
	time_ = str(o, "time") ? str(o, "time") : "";
	host = str(o, "host") ? str(o, "host") : "";
	/* 2026-11-22T21:04:05.123456Z -> 2026-11-22 21:04:05 */
	snprintf(when, sizeof(when), "%.10s %.8s", time_, strlen(time_) > 11 ? time_ + 11 : "");
	if (!strcmp(kind, "alert")) {
		const char *sev = str(o, "severity") ? str(o, "severity") : "?";
		const char *action = str(o, "action") ? str(o, "action") : "?";
		char sevu[16];
		size_t i;

		for (i = 0; sev[i] && i < sizeof(sevu) - 1; i++)
			sevu[i] = (char)(sev[i] >= 'a' && sev[i] <= 'z' ? sev[i] - 32 : sev[i]);
		sevu[i] = '\0';
		snprintf(buf, len, "%s%s %s%s %s%-8s%s %s %s%s%s %s[%lld] -> %s:%lld  %s", dim, when,
			 host, rst, color ? sev_color(sev) : "", sevu, rst,
			 str(o, "rule") ? str(o, "rule") : "?",
			 color && strcmp(action, "alert") ? "\033[1m" : "", action, rst,
			 str(o, "process.comm") ? str(o, "process.comm") : "?",
			 num(o, "process", "pid"),
			 str(o, "network.daddr") ? str(o, "network.daddr") : "?",
			 num(o, "network", "dport"), str(o, "message") ? str(o, "message") : "");
	} else if (!strcmp(kind, "agent_stats") || !strcmp(kind, "agent_stop")) {
		snprintf(buf, len, "%s%s %s %s: %lld alerts, %lld events lost in the kernel, "
			 "%lld records dropped by sinks, %lld failed%s", dim, when, host, kind,
			 num(o, "agent", "alerts"), num(o, "kernel", "events_lost"),
			 sinks_sum(o, "dropped"), sinks_sum(o, "failed"), rst);
	} else if (!strcmp(kind, "agent_start")) {
		snprintf(buf, len, "%s%s %s agent_start: vigil %s, %s mode, %lld protected files, "
			 "scope %s%s", dim, when, host, str(o, "version") ? str(o, "version") : "?",
			 str(o, "mode") ? str(o, "mode") : "?", num(o, "protected_files", NULL),
			 str(o, "cgroup") ? str(o, "cgroup") : "?", rst);
	} else {
		snprintf(buf, len, "%s%s %s %s%s%s%s", dim, when, host, kind,
			 str(o, "message") ? ": " : "", str(o, "message") ? str(o, "message") : "",
			 rst);
	}
	json_decref(o);
}

int tail__run(const struct tail_opts *o)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = !strncmp(o->socket, "unix:", 5) ? o->socket + 5 : o->socket;
	bool color = o->color > 0 || (o->color < 0 && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	char *line = NULL, out[8192];
	size_t cap = 0;
	ssize_t n;
	FILE *in;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vigil: tail: %s: path too long for a unix socket\n", path);
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "vigil: tail: %s: %s (is the agent running with --alerts unix:%s?)\n",
			path, strerror(errno), path);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	in = fdopen(fd, "r");
	if (!in) {
		close(fd);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (o->raw) {
			puts(line);
			continue;
		}
		tail__format(line, color, out, sizeof(out));
		puts(out);
	}
	free(line);
	fclose(in);
	fprintf(stderr, "vigil: tail: the agent closed the stream\n");
	return 0;
}
