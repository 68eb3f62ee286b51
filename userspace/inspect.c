// SPDX-License-Identifier: GPL-2.0
/* vigil status: what the agent protects, who is tainted and how, what the
 * budgets have let through, recent alerts, counters and hooks. Taint and
 * budgets are read from the kernel maps (the kernel's view, which is what
 * enforces), names from /proc and the protect table. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "correlate.h"
#include "engine.h"
#include "inspect.h"
#include "tls.h"
#include "kmaps.h"
#include "protect.h"
#include "status.h"
#include "vigil.skel.h"

void inspect__remember_alert(struct agent *a, const char *line)
{
	char *copy = strdup(line);
	size_t n;

	if (!copy)
		return;
	n = strlen(copy);
	while (n && copy[n - 1] == '\n')
		copy[--n] = '\0';
	free(a->recent_alerts[a->recent_next % AGENT_RECENT_ALERTS]);
	a->recent_alerts[a->recent_next++ % AGENT_RECENT_ALERTS] = copy;
}

void inspect__free(struct agent *a)
{
	for (int i = 0; i < AGENT_RECENT_ALERTS; i++)
		free(a->recent_alerts[i]);
}

static void comm_of(uint32_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static void set_names(struct agent *a, struct json *j, const char *key, uint32_t mask)
{
	json__key(j, key);
	json__begin_array(j);
	for (size_t s = 0; s < a->rs.nsets && s < 32; s++)
		if (mask & (1u << s))
			json__string(j, a->rs.sets[s].name);
	json__end_array(j);
}

static void sets(struct agent *a, struct json *j, uint64_t now)
{
	json__key(j, "sets");
	json__begin_array(j);
	for (__u32 s = 0; s < a->rs.nsets; s++) {
		const struct protect_set *ps = &a->rs.sets[s];
		struct vigil_budget b = { 0 };
		unsigned long long w = ps->has_window ? ps->window_s : a->rs.default_window_s;

		bpf_map__lookup_elem(a->ld.skel->maps.vg_budgets, &s, sizeof(s), &b, sizeof(b), 0);
		json__begin_object(j);
		json__kv_str(j, "name", ps->name);
		json__kv_strv(j, "paths", (const char *const *)ps->paths, ps->npaths);
		json__key(j, "budget");
		json__begin_object(j);
		json__kv_uint(j, "limit_bytes", b.limit);
		json__kv_uint(j, "spent_bytes", b.spent);
		json__kv_uint(j, "blocked_bytes", b.blocked);
		json__kv_uint(j, "queued_bytes", b.committed);
		json__kv_bool(j, "exceeded", b.exceeded);
		json__kv_uint(j, "window_s", w);
		if (w && a->budgets.window_start[s])
			json__kv_uint(j, "window_elapsed_s",
				      (now - a->budgets.window_start[s]) / 1000000000ull);
		json__end_object(j);
		json__end_object(j);
	}
	json__end_array(j);
}

/* Every protected file the kernel knows, copies ("derived") apart. */
static void files(struct agent *a, struct json *j)
{
	int fd = bpf_map__fd(a->ld.skel->maps.vg_files);
	struct vigil_file_key k, next, *prev = NULL;
	size_t n = 0, derived = 0, listed = 0;

	json__key(j, "protected_files");
	json__begin_array(j);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct vigil_file_info fi;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &fi))
			continue;
		n++;
		if (protect__copy_mask(a->prot, fi.file_id))
			derived++;
		if (listed++ >= INSPECT_MAX_FILES)
			continue;
		json__begin_object(j);
		json__kv_str(j, "path", protect__path(a->prot, fi.file_id));
		json__kv_uint(j, "file_id", fi.file_id);
		set_names(a, j, "sets", fi.set_mask);
		json__kv_bool(j, "derived", protect__copy_mask(a->prot, fi.file_id) != 0);
		json__kv_uint(j, "dev", k.dev);
		json__kv_uint(j, "ino", k.ino);
		json__end_object(j);
	}
	json__end_array(j);
	json__kv_uint(j, "protected_files_total", n);
	json__kv_uint(j, "derived_files_total", derived);
	json__kv_bool(j, "protected_files_truncated", n > INSPECT_MAX_FILES);
}

/* Each tainted process with the chain back to the reader of the file. */
static void tainted(struct agent *a, struct json *j, uint64_t now)
{
	int fd = bpf_map__fd(a->ld.skel->maps.vg_taint);
	__u32 k, next, *prev = NULL;
	size_t n = 0;

	json__key(j, "tainted");
	json__begin_array(j);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct vigil_taint t;
		char comm[32];
		__u32 hop;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &t) || n++ >= INSPECT_MAX_TAINTED)
			continue;
		comm_of(k, comm, sizeof(comm));
		json__begin_object(j);
		json__kv_uint(j, "pid", k);
		json__kv_str(j, "comm", comm);
		json__kv_bool(j, "alive", comm[0] != '\0');
		set_names(a, j, "sets", t.set_mask);
		json__kv_str(j, "via", corr__via_name(t.via));
		json__kv_uint(j, "from_pid", t.from_tgid);
		json__kv_uint(j, "depth", t.depth);
		json__kv_str(j, "first_file", protect__path(a->prot, t.first_file_id));
		json__kv_uint(j, "bytes_read", t.bytes_read);
		json__kv_uint(j, "tainted_for_s", t.since_ns && now > t.since_ns ?
			      (now - t.since_ns) / 1000000000ull : 0);
		json__kv_bool(j, "killed", t.flags & VIGIL_TF_KILLED);
		/* the hops back to whoever read the file, from the kernel's map */
		json__key(j, "chain");
		json__begin_array(j);
		hop = t.from_tgid;
		for (int d = 0; hop && d < INSPECT_MAX_CHAIN; d++) {
			struct vigil_taint up;
			bool known = !bpf_map_lookup_elem(fd, &hop, &up);

			comm_of(hop, comm, sizeof(comm));
			json__begin_object(j);
			json__kv_uint(j, "pid", hop);
			json__kv_str(j, "comm", comm);
			json__kv_str(j, "via", known ? corr__via_name(up.via) : NULL);
			json__end_object(j);
			hop = known ? up.from_tgid : 0;
		}
		json__end_array(j);
		json__end_object(j);
	}
	json__end_array(j);
	json__kv_uint(j, "tainted_total", n);
}

void inspect__status(struct agent *a, struct json *j)
{
	uint64_t now = clock__mono_ns();

	json__begin_object(j);
	json__kv_bool(j, "ok", true);
	json__kv_str(j, "version", VIGIL_VERSION);
	json__kv_uint(j, "pid", getpid());
	json__kv_str(j, "mode", a->o->enforce ? "enforce" : "monitor");
	json__kv_str(j, "cgroup", a->scope.path);
	json__kv_str(j, "config", a->o->config);
	json__kv_uint(j, "uptime_s", (now - a->started_ns) / 1000000000ull);
	json__kv_uint(j, "rules", engine__rule_count(a->engine));
	json__kv_strv(j, "rule_files", (const char *const *)a->rs.files, a->rs.nfiles);
	sets(a, j, now);
	files(a, j);
	tainted(a, j, now);
	json__key(j, "recent_alerts");
	json__begin_array(j);
	for (unsigned i = 0; i < AGENT_RECENT_ALERTS; i++) {
		unsigned at = a->recent_next + i;	/* oldest first */
		const char *line = a->recent_alerts[at % AGENT_RECENT_ALERTS];

		if (line)
			json__raw(j, line);
	}
	json__end_array(j);
	json__key(j, "counters");
	json__begin_object(j);
	status__counters_json(a, j);
	json__end_object(j);
	json__key(j, "hooks");
	json__begin_object(j);
	json__kv_strv(j, "attached", a->ld.attached, a->ld.nlinks);
	json__kv_strv(j, "unavailable", a->ld.skipped, a->ld.nskipped);
	json__end_object(j);
	tls__status_json(a->tls, j);
	json__end_object(j);
}

/* ---- the client's text ------------------------------------------------------ */

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

static unsigned long long num(json_t *o, const char *k)
{
	return (unsigned long long)json_integer_value(json_object_get(o, k));
}

static void print_list(FILE *f, json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		fprintf(f, "%s%s", i ? ", " : "", json_string_value(v) ? json_string_value(v) : "?");
}

int inspect__print(const char *text, FILE *f)
{
	json_t *st = json_loads(text, 0, NULL), *v, *c;
	const char *group;
	size_t i, k;

	if (!st || !json_is_object(json_object_get(st, "counters"))) {
		json_decref(st);
		return -EINVAL;
	}
	fprintf(f, "vigil %s, pid %llu, %s mode, scope %s, up %llus, %llu rules\n",
		str(st, "version"), num(st, "pid"), str(st, "mode"), str(st, "cgroup"),
		num(st, "uptime_s"), num(st, "rules"));
	fprintf(f, "config: %s\nrule files: ", str(st, "config"));
	print_list(f, json_object_get(st, "rule_files"));
	fprintf(f, "\n\nprotect sets:\n");
	json_array_foreach(json_object_get(st, "sets"), i, v) {
		json_t *b = json_object_get(v, "budget");

		fprintf(f, "  %-16s budget %llu B, spent %llu, blocked %llu, queued %llu%s", str(v, "name"),
			num(b, "limit_bytes"), num(b, "spent_bytes"), num(b, "blocked_bytes"),
			num(b, "queued_bytes"), json_is_true(json_object_get(b, "exceeded")) ?
			" EXCEEDED" : "");
		if (num(b, "window_s"))
			fprintf(f, ", window %llus (%llus in)", num(b, "window_s"),
				num(b, "window_elapsed_s"));
		fprintf(f, "\n    paths: ");
		print_list(f, json_object_get(v, "paths"));
		fprintf(f, "\n");
	}
	fprintf(f, "\nprotected files: %llu (%llu derived: written by tainted processes)\n",
		num(st, "protected_files_total"), num(st, "derived_files_total"));
	json_array_foreach(json_object_get(st, "protected_files"), i, v) {
		fprintf(f, "  %s%s [", str(v, "path"),
			json_is_true(json_object_get(v, "derived")) ? " (derived)" : "");
		print_list(f, json_object_get(v, "sets"));
		fprintf(f, "]\n");
	}
	if (json_is_true(json_object_get(st, "protected_files_truncated")))
		fprintf(f, "  ... (first %d listed)\n", INSPECT_MAX_FILES);
	fprintf(f, "\ntainted processes: %llu\n", num(st, "tainted_total"));
	json_array_foreach(json_object_get(st, "tainted"), i, v) {
		fprintf(f, "  %llu %s%s: %s %s, %llu B read, sets ", num(v, "pid"), str(v, "comm"),
			json_is_true(json_object_get(v, "alive")) ? "" : " (exited)",
			str(v, "via"), str(v, "first_file"), num(v, "bytes_read"));
		print_list(f, json_object_get(v, "sets"));
		json_array_foreach(json_object_get(v, "chain"), k, c)
			fprintf(f, "%s%llu %s", k ? " <- " : "\n      from ", num(c, "pid"), str(c, "comm"));
		fprintf(f, "\n");
	}
	fprintf(f, "\nrecent alerts:\n");
	json_array_foreach(json_object_get(st, "recent_alerts"), i, v)
		fprintf(f, "  %s %s %s %s: %s\n", str(v, "time"), str(v, "rule"), str(v, "severity"),
			str(v, "action"), str(v, "message"));
	fprintf(f, "\nhooks attached: ");
	print_list(f, json_object_get(json_object_get(st, "hooks"), "attached"));
	fprintf(f, "\nhooks unavailable: ");
	print_list(f, json_object_get(json_object_get(st, "hooks"), "unavailable"));
	if (json_is_true(json_object_get(json_object_get(st, "tls"), "enabled"))) {
		json_t *t = json_object_get(st, "tls");

		fprintf(f, "\n\nTLS uprobes, per tainted process: %llu of %llu attachments, "
			"%llu over the table, %llu over the rate (%llu files host-wide), %llu failed, "
			"%llu waiting for the worker",
			num(t, "attachments"), num(t, "attachments_max"), num(t, "attach_overflow"),
			num(t, "attach_rate_limited"), num(t, "host_wide_files"),
			num(t, "attach_failed"), num(json_object_get(t, "worker"), "pending"));
	}
	fprintf(f, "\n\ncounters:\n");
	json_object_foreach(json_object_get(st, "counters"), group, v) {
		const char *name;
		json_t *n;

		fprintf(f, "  %s:", group);
		json_object_foreach(v, name, n)
			fprintf(f, " %s=%lld", name, (long long)json_integer_value(n));
		fprintf(f, "\n");
	}
	json_decref(st);
	return 0;
}
