// SPDX-License-Identifier: GPL-2.0
/* agent_* lines. agent_stats and agent_stop print one table of counters,
 * gathered first into struct tally so every line reads one snapshot. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "correlate.h"
#include "engine.h"
#include "log.h"
#include "output.h"
#include "protect.h"
#include "status.h"

void status__error(struct agent *a, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log__error("%s", msg);
	if (!a->out)
		return;
	output__begin(a->out, &a->j, "agent_error");
	json__kv_str(&a->j, "message", msg);
	output__emit(a->out, &a->j);
}

static void string_array(struct json *j, const char *key, const char *const *s, size_t n)
{
	json__key(j, key);
	json__begin_array(j);
	for (size_t i = 0; i < n; i++)
		json__string(j, s[i]);
	json__end_array(j);
}

void status__start(struct agent *a, int seeded, double startup_ms)
{
	struct json *j = &a->j;

	output__begin(a->out, j, "agent_start");
	json__kv_str(j, "version", VIGIL_VERSION);
	json__kv_str(j, "mode", activity__word(ACT_VOCAB_MODE,
						a->o->enforce ? ACT_ENFORCE : ACT_MONITOR));
	json__kv_str(j, "cgroup", a->scope.path);
	json__kv_uint(j, "pid", getpid());
	json__key(j, "sets");
	json__begin_array(j);
	for (size_t s = 0; s < a->rs.nsets; s++) {
		json__begin_object(j);
		json__kv_str(j, "name", a->rs.sets[s].name);
		json__kv_uint(j, "budget_bytes", a->budgets.limit[s]);
		string_array(j, "paths", (const char *const *)a->rs.sets[s].paths,
			     a->rs.sets[s].npaths);
		json__end_object(j);
	}
	json__end_array(j);
	json__kv_uint(j, "protected_files", protect__count(a->prot));
	json__kv_uint(j, "watched_dirs", protect__watches(a->prot));
	json__kv_uint(j, "allow_entries", a->nallow_keys);
	json__kv_uint(j, "preexisting_tainted", seeded);
	string_array(j, "programs", a->ld.attached, a->ld.nlinks);
	string_array(j, "programs_unavailable", a->ld.skipped, a->ld.nskipped);
	string_array(j, "rule_files", (const char *const *)a->rs.files, a->rs.nfiles);
	json__kv_uint(j, "startup_ms", (unsigned long long)startup_ms);
	output__emit(a->out, j);
}

void status__reload(struct agent *a, double ms)
{
	struct json *j = &a->j;

	output__begin(a->out, j, "agent_reload");
	json__kv_uint(j, "rules", engine__rule_count(a->engine));
	json__kv_uint(j, "protect_sets", a->rs.nsets);
	json__kv_uint(j, "protected_files", protect__count(a->prot));
	json__kv_uint(j, "allow_entries", a->rs.nallows);
	string_array(j, "rule_files", (const char *const *)a->rs.files, a->rs.nfiles);
	json__kv_uint(j, "reload_ms", (unsigned long long)ms);
	output__emit(a->out, j);
}

/* The agent's own peak RSS: getrusage's ru_maxrss carries over whatever
 * process exec'd us (a 300 MiB Python launcher reads as 300 MiB). */
static unsigned long long own_peak_rss_kib(long fallback)
{
	unsigned long long kib = (unsigned long long)fallback;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

struct tally {
	struct vigil_counters kernel;
	struct {
		uint64_t records, bad_records, activities, alerts, suppressed_repeats;
		uint64_t rule_action_failures, rules, reloads, capture_errors;
		uint64_t copies_protected, tracked_processes, tainted_processes, agent_kills;
		uint64_t agent_kills_unverified;
		uint64_t dest_limit_hits, protected_files, protected_files_skipped;
		uint64_t protected_files_removed, protected_files_small, watched_dirs;
		uint64_t watches_skipped, links_not_followed, max_rss_kib;
		uint64_t cpu_user_us, cpu_sys_us, output_write_errors;
	} agent;
};

/* What agent_stats prints, in order (docs/ALERTS.md describes each). */
#define KERNEL(f) { "kernel", #f, offsetof(struct tally, kernel.f) }
#define AGENT(f) { "agent", #f, offsetof(struct tally, agent.f) }
static const struct counter { const char *group, *name; size_t off; } counters[] = {
	KERNEL(events_sent), KERNEL(events_lost), KERNEL(taint_map_full),
	KERNEL(flow_map_full), KERNEL(pipe_map_full), KERNEL(fd_scan_truncated),
	KERNEL(packets_dropped), KERNEL(connects_denied), KERNEL(kills),
	KERNEL(connects_deduped), KERNEL(connect_reports_capped),
	KERNEL(sock_storage_full), KERNEL(taint_state_lost), KERNEL(lost_socks_full),
	KERNEL(failed_closed), KERNEL(sockets_reset), KERNEL(budget_contended),
	AGENT(records), AGENT(bad_records), AGENT(activities), AGENT(alerts),
	AGENT(suppressed_repeats), AGENT(rule_action_failures), AGENT(rules),
	AGENT(reloads), AGENT(capture_errors), AGENT(copies_protected),
	AGENT(tracked_processes), AGENT(tainted_processes), AGENT(agent_kills),
	AGENT(agent_kills_unverified),
	AGENT(dest_limit_hits), AGENT(protected_files), AGENT(protected_files_skipped),
	AGENT(protected_files_removed), AGENT(protected_files_small), AGENT(watched_dirs),
	AGENT(watches_skipped), AGENT(links_not_followed), AGENT(max_rss_kib),
	AGENT(cpu_user_us), AGENT(cpu_sys_us), AGENT(output_write_errors),
};

static void tally(struct agent *a, struct tally *t)
{
	struct corr_stats cs;
	struct engine_stats es;
	struct protect_stats ps;
	struct rusage ru;

	protect__stats(a->prot, &ps);
	kmaps__counters(a->ld.skel, &t->kernel);
	corr__stats(a->corr, &cs);
	engine__stats(a->engine, &es);
	getrusage(RUSAGE_SELF, &ru);
	t->agent.records = cs.records;
	t->agent.bad_records = cs.bad_records + a->rb_bad;
	t->agent.activities = cs.activities;
	t->agent.alerts = es.hits;
	t->agent.suppressed_repeats = cs.suppressed + es.suppressed;
	t->agent.rule_action_failures = es.action_failures;
	t->agent.rules = engine__rule_count(a->engine);
	t->agent.reloads = a->reloads;
	t->agent.capture_errors = a->capture_errors;
	t->agent.copies_protected = protect__copies(a->prot);
	t->agent.tracked_processes = cs.tracked;
	t->agent.tainted_processes = cs.live;
	t->agent.agent_kills = cs.agent_kills;
	t->agent.agent_kills_unverified = a->scope.kills_unverified;
	t->agent.dest_limit_hits = cs.dest_limit_hits;
	t->agent.protected_files = ps.files;
	t->agent.protected_files_skipped = ps.skipped;
	t->agent.protected_files_removed = ps.removed;
	t->agent.protected_files_small = ps.small;
	t->agent.watched_dirs = ps.watches;
	t->agent.watches_skipped = ps.watches_skipped;
	t->agent.links_not_followed = ps.links;
	t->agent.max_rss_kib = own_peak_rss_kib(ru.ru_maxrss);
	t->agent.cpu_user_us = ru.ru_utime.tv_sec * 1000000ull + ru.ru_utime.tv_usec;
	t->agent.cpu_sys_us = ru.ru_stime.tv_sec * 1000000ull + ru.ru_stime.tv_usec;
	t->agent.output_write_errors = output__write_errors(a->out);
}

void status__counters(struct agent *a, const char *kind)
{
	struct tally t;
	struct json *j = &a->j;
	const char *group = NULL;

	tally(a, &t);
	output__begin(a->out, j, kind);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		const struct counter *c = &counters[i];

		if (!group || strcmp(group, c->group)) {
			if (group)
				json__end_object(j);
			group = c->group;
			json__key(j, group);
			json__begin_object(j);
		}
		json__kv_uint(j, c->name, *(const uint64_t *)((const char *)&t + c->off));
	}
	json__end_object(j);
	output__emit(a->out, j);
}
