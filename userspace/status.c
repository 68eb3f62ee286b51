// SPDX-License-Identifier: GPL-2.0
/* agent_* lines. agent_stats and agent_stop print one table of counters,
 * gathered first into struct tally so every line reads one snapshot. */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "correlate.h"
#include "engine.h"
#include "log.h"
#include "mapfill.h"
#include "output.h"
#include "pin.h"
#include "proc.h"
#include "format.h"
#include "incident.h"
#include "metrics.h"
#include "protect.h"
#include "sink.h"
#include "caps.h"
#include "status.h"
#include "tls.h"
#include "vigil.skel.h"

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

void status__error_line(void *ctx, const char *msg)
{
	status__error(ctx, "%s", msg);
}

void status__start(struct agent *a, int seeded, double startup_ms)
{
	struct json *j = &a->j;

	output__begin(a->out, j, "agent_start");
	json__kv_str(j, "version", VIGIL_VERSION);
	json__kv_str(j, "mode", activity__word(ACT_VOCAB_MODE,
						a->o->enforce ? ACT_ENFORCE : ACT_MONITOR));
	json__kv_str(j, "cgroup", a->scope.path);
	json__kv_str(j, "config", a->o->config);
	json__kv_uint(j, "pid", getpid());
	json__key(j, "sets");
	json__begin_array(j);
	for (size_t s = 0; s < a->rs.nsets; s++) {
		json__begin_object(j);
		json__kv_str(j, "name", a->rs.sets[s].name);
		json__kv_uint(j, "budget_bytes", a->budgets.limit[s]);
		json__kv_strv(j, "paths", (const char *const *)a->rs.sets[s].paths,
			     a->rs.sets[s].npaths);
		json__end_object(j);
	}
	json__end_array(j);
	json__kv_uint(j, "protected_files", protect__count(a->prot));
	json__kv_uint(j, "watched_dirs", protect__watches(a->prot));
	json__kv_uint(j, "allow_entries", a->nallow_keys);
	json__kv_uint(j, "preexisting_tainted", seeded);
	json__kv_strv(j, "programs", a->ld.attached, a->ld.nlinks);
	caps__json(&a->ld.caps, j, false);
	json__kv_strv(j, "programs_unavailable", a->ld.skipped, a->ld.nskipped);
	json__kv_strv(j, "rule_files", (const char *const *)a->rs.files, a->rs.nfiles);
	json__kv_uint(j, "startup_ms", (unsigned long long)startup_ms);
	output__emit(a->out, j);
}

void status__adopt(struct agent *a)
{
	const struct pin *p = a->pin;
	struct vigil_counters k;
	struct json *j = &a->j;
	struct timespec now;

	kmaps__counters(a->ld.skel, &k);
	clock_gettime(CLOCK_REALTIME, &now);
	output__begin(a->out, j, "agent_adopt");
	json__kv_str(j, "pin_dir", p->dir);
	json__kv_bool(j, "adopted", p->adopted);
	json__kv_str(j, "reason", p->adopted ? NULL : p->not_adopted);
	json__kv_str(j, "previous_exit", !p->old.present ? "unknown" :
		     p->old.clean ? "clean" : "unclean");
	json__kv_uint(j, "previous_pid", p->old.pid);
	if (p->old.last_seen_ns) {
		uint64_t t = now.tv_sec * 1000000000ull + now.tv_nsec;

		json__kv_uint(j, "unattended_ms", t > p->old.last_seen_ns ?
			      (t - p->old.last_seen_ns) / 1000000 : 0);
	}
	json__kv_uint(j, "links_updated", p->links_updated);
	json__kv_uint(j, "links_replaced", p->links_replaced);
	/* kernel totals: they include whatever the pinned programs did alone */
	json__key(j, "kernel");
	json__begin_object(j);
	json__kv_uint(j, "packets_dropped", k.packets_dropped);
	json__kv_uint(j, "connects_denied", k.connects_denied);
	json__kv_uint(j, "kills", k.kills);
	json__kv_uint(j, "events_lost", k.events_lost);
	json__end_object(j);
	output__emit(a->out, j);
}

/* bpf(2) commands tamper.bpf.c reports, by their uapi numbers */
static const char *bpf_cmd_name(int cmd)
{
	switch (cmd) {
	case 2: return "BPF_MAP_UPDATE_ELEM";
	case 3: return "BPF_MAP_DELETE_ELEM";
	case 7: return "BPF_OBJ_GET";
	case 13: return "BPF_PROG_GET_FD_BY_ID";
	case 14: return "BPF_MAP_GET_FD_BY_ID";
	case 21: return "BPF_MAP_LOOKUP_AND_DELETE_ELEM";
	case 22: return "BPF_MAP_FREEZE";
	case 25: return "BPF_MAP_LOOKUP_AND_DELETE_BATCH";
	case 26: return "BPF_MAP_UPDATE_BATCH";
	case 27: return "BPF_MAP_DELETE_BATCH";
	case 29: return "BPF_LINK_UPDATE";
	case 30: return "BPF_LINK_GET_FD_BY_ID";
	case 34: return "BPF_LINK_DETACH";
	default: return "BPF_?";
	}
}

static const char *bpf_obj_name(unsigned kind)
{
	return kind == VIGIL_OBJ_MAP ? "map" : kind == VIGIL_OBJ_PROG ? "program" :
	       kind == VIGIL_OBJ_LINK ? "link" : "pin";
}

void status__tamper(struct agent *a, const struct vigil_ev_tamper *e)
{
	char comm[VIGIL_COMM_LEN + 1], cg[512] = "", sig[16];
	const char *abbr = e->sig < 32 ? sigabbrev_np(e->sig) : NULL;
	struct json *j = &a->j;

	snprintf(comm, sizeof(comm), "%.*s", VIGIL_COMM_LEN, e->comm);
	snprintf(sig, sizeof(sig), "SIG%s", abbr ? abbr : "?");
	proc__cgroup_path(e->hdr.tgid, cg, sizeof(cg));
	/* the old agent's programs saw this agent adopt their maps */
	if (e->sig == VIGIL_TAMPER_BPF && e->hdr.tgid == (uint32_t)getpid())
		return;
	output__begin(a->out, j, "agent_tamper");
	if (e->sig == VIGIL_TAMPER_PTRACE) {	/* result: the request */
		json__kv_str(j, "attempt", "ptrace");
		json__kv_str(j, "request", e->result == 16 ? "PTRACE_ATTACH" : "PTRACE_SEIZE");
	} else if (e->sig == VIGIL_TAMPER_BPF) {	/* result: the command */
		json__kv_str(j, "attempt", "bpf");
		json__kv_str(j, "command", bpf_cmd_name(e->result));
		json__kv_str(j, "object", bpf_obj_name(e->obj_kind));
		if (e->obj_id == VIGIL_OBJ_ID_UNREAD)	/* which one is unknown */
			json__kv_bool(j, "argument_unread", true);
		else if (e->obj_kind != VIGIL_OBJ_PIN)
			json__kv_uint(j, "object_id", e->obj_id);
	} else {
		json__kv_str(j, "attempt", "signal");
		json__kv_str(j, "signal", sig);
	}
	/* the agent it was sent to: this one, or the one before it (pinned ring) */
	json__kv_uint(j, "target_pid", e->target_tgid);
	json__kv_bool(j, "previous_agent", e->target_tgid != (uint32_t)getpid());
	if (e->sig < 32)
		json__kv_bool(j, "delivered", e->result == 0);
	json__key(j, "sender");
	json__begin_object(j);
	json__kv_uint(j, "pid", e->hdr.tgid);
	json__kv_str(j, "comm", comm);
	json__kv_uint(j, "uid", e->uid);
	json__kv_str(j, "cgroup", cg[0] ? cg : NULL);
	json__end_object(j);
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
	json__kv_strv(j, "rule_files", (const char *const *)a->rs.files, a->rs.nfiles);
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
		uint64_t copies_protected, copy_origins_dropped, tracked_processes, tainted_processes, agent_kills;
		uint64_t agent_kills_unverified;
		uint64_t dest_limit_hits, protected_files, protected_files_skipped;
		uint64_t protected_files_removed, protected_files_small, watched_dirs;
		uint64_t watches_skipped, links_not_followed, max_rss_kib;
		uint64_t cpu_user_us, cpu_sys_us, output_write_errors;
		uint64_t tls_attachments, tls_host_wide_files, tls_attach_overflow;
		uint64_t tls_attach_rate_limited, tls_attach_failed, tls_attach_dropped;
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
	AGENT(copy_origins_dropped),
	AGENT(tracked_processes), AGENT(tainted_processes), AGENT(agent_kills),
	AGENT(agent_kills_unverified),
	AGENT(dest_limit_hits), AGENT(protected_files), AGENT(protected_files_skipped),
	AGENT(protected_files_removed), AGENT(protected_files_small), AGENT(watched_dirs),
	AGENT(watches_skipped), AGENT(links_not_followed), AGENT(max_rss_kib),
	AGENT(cpu_user_us), AGENT(cpu_sys_us), AGENT(output_write_errors),
	AGENT(tls_attachments), AGENT(tls_host_wide_files), AGENT(tls_attach_overflow),
	AGENT(tls_attach_rate_limited), AGENT(tls_attach_failed), AGENT(tls_attach_dropped),
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
	t->agent.records = cs.records + a->tamper_records;
	t->agent.bad_records = cs.bad_records + a->rb_bad;
	t->agent.activities = cs.activities;
	t->agent.alerts = es.hits;
	t->agent.suppressed_repeats = cs.suppressed + es.suppressed;
	t->agent.rule_action_failures = es.action_failures;
	t->agent.rules = engine__rule_count(a->engine);
	t->agent.reloads = a->reloads;
	t->agent.capture_errors = a->capture_errors;
	t->agent.copies_protected = protect__copies(a->prot);
	t->agent.copy_origins_dropped = cs.derived_dropped;
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
	{
		struct tls_stats ts = { 0 };

		tls__stats(a->tls, &ts);
		t->agent.tls_attachments = ts.attachments;
		t->agent.tls_host_wide_files = ts.host_wide_files;
		t->agent.tls_attach_overflow = ts.overflow;
		t->agent.tls_attach_rate_limited = ts.rate_limited;
		t->agent.tls_attach_failed = ts.failed;
		t->agent.tls_attach_dropped = ts.dropped;
	}
}

/* Which of the table's counters are gauges; two more are renamed into
 * base units (seconds, bytes). */
static bool is_gauge(const char *name)
{
	static const char *const g[] = { "rules", "copies_protected", "tracked_processes",
					 "tainted_processes", "protected_files",
					 "protected_files_skipped", "tls_attachments",
					 "tls_host_wide_files", NULL };

	for (int i = 0; g[i]; i++)
		if (!strcmp(name, g[i]))
			return true;
	return false;
}

/* One family of the per-rule counters (which: 0-3), so that each family's
 * samples follow its header together. */
struct rule_family {
	struct metrics_text *t;
	int which;
};

static void rule_metrics(void *ctx, const struct incident_rule *r)
{
	static const char *const sev[] = { "unknown", "low", "medium", "high", "critical" };
	static const char *const act[] = { "alert", "blocked", "killed" };
	const struct rule_family *f = ctx;
	struct metrics_text *t = f->t;

	if (f->which == 0)
		for (int s = 0; s < 5; s++)
			if (r->by_severity[s])
				metrics__sample(t, "vigil_alerts_total", "rule", r->rule, "severity",
						sev[s], r->by_severity[s]);
	if (f->which == 1)
		for (int k = 0; k < 3; k++)
			if (r->by_action[k])
				metrics__sample(t, "vigil_alert_actions_total", "rule", r->rule,
						"action", act[k], r->by_action[k]);
	if (f->which == 2 && r->folded)
		metrics__sample(t, "vigil_alerts_folded_total", "rule", r->rule, NULL, NULL,
				r->folded);
	if (f->which == 3 && r->suppressed)
		metrics__sample(t, "vigil_alerts_suppressed_total", "rule", r->rule, NULL, NULL,
				r->suppressed);
}

/* The one-sample-per-sink families after vigil_sink_records_total; spool:
 * only sinks with a spool (http) have it. */
static const struct sink_family {
	const char *name, *type, *help;
	size_t off;	/* the uint64_t in struct sink_stats */
	bool spool;
} sink_families[] = {
	{ "vigil_sink_queue_records", "gauge", "records waiting in a sink's queue",
	  offsetof(struct sink_stats, queued), false },
	{ "vigil_sink_spool_records", "gauge",
	  "records spooled and not yet delivered (http sinks)",
	  offsetof(struct sink_stats, spool_pending), true },
	{ "vigil_sink_requests_failed_total", "counter",
	  "requests an http sink retried (receiver down, refusing or asking to retry)",
	  offsetof(struct sink_stats, posts_failed), true },
	{ "vigil_sink_records_rejected_total", "counter",
	  "records an http receiver refused for good (Elastic item errors)",
	  offsetof(struct sink_stats, rejected), true },
};

/* Per sink, each family's samples together (the text format wants a
 * family's lines in one group). */
static void sink_metrics(struct metrics_text *t, struct output *out)
{
	static const char *const result[] = { "written", "dropped", "failed" };
	int n = output__sink_count(out);
	struct sink_stats st[n ? n : 1];

	for (int i = 0; i < n; i++)
		output__sink_stats(out, i, &st[i]);
	metrics__family(t, "vigil_sink_records_total", "counter",
			"records per sink: written, dropped (queue full), failed (not delivered)");
	for (int i = 0; i < n; i++) {
		uint64_t v[] = { st[i].written, st[i].dropped, st[i].failed };

		for (int r = 0; r < 3; r++)
			metrics__sample(t, "vigil_sink_records_total", "sink", st[i].name, "result",
					result[r], v[r]);
	}
	for (size_t k = 0; k < sizeof(sink_families) / sizeof(sink_families[0]); k++) {
		const struct sink_family *f = &sink_families[k];

		metrics__family(t, f->name, f->type, f->help);
		for (int i = 0; i < n; i++)
			if (!f->spool || st[i].has_spool)
				metrics__sample(t, f->name, "sink", st[i].name, NULL, NULL,
						*(const uint64_t *)((const char *)&st[i] + f->off));
	}
}

size_t status__metrics(struct agent *a, char **out)
{
	struct metrics_text *t = metrics__text_new();
	struct tally tl;
	const char *text;
	size_t len;
	char name[128];

	*out = NULL;
	if (!t)
		return 0;
	tally(a, &tl);
	metrics__family(t, "vigil_info", "gauge", "vigil's version and mode (always 1)");
	metrics__sample(t, "vigil_info", "version", VIGIL_VERSION, "mode",
			a->o->enforce ? "enforce" : "monitor", 1);
	metrics__family(t, "vigil_uptime_seconds", "gauge", "seconds since agent_start");
	metrics__sample(t, "vigil_uptime_seconds", NULL, NULL, NULL, NULL,
			(clock__mono_ns() - a->started_ns) / 1e9);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		const struct counter *c = &counters[i];
		uint64_t v = *(const uint64_t *)((const char *)&tl + c->off);
		bool gauge = is_gauge(c->name);

		if (!strcmp(c->name, "cpu_user_us") || !strcmp(c->name, "cpu_sys_us") ||
		    !strcmp(c->name, "max_rss_kib"))
			continue;
		snprintf(name, sizeof(name), "vigil_%s_%s%s", c->group, c->name,
			 gauge ? "" : "_total");
		metrics__family(t, name, gauge ? "gauge" : "counter",
				"see docs/ALERTS.md, agent_stats");
		metrics__sample(t, name, NULL, NULL, NULL, NULL, v);
	}
	metrics__family(t, "vigil_agent_cpu_seconds_total", "counter", "agent CPU time");
	metrics__sample(t, "vigil_agent_cpu_seconds_total", "mode", "user", NULL, NULL,
			tl.agent.cpu_user_us / 1e6);
	metrics__sample(t, "vigil_agent_cpu_seconds_total", "mode", "system", NULL, NULL,
			tl.agent.cpu_sys_us / 1e6);
	metrics__family(t, "vigil_agent_max_rss_bytes", "gauge", "agent peak resident memory");
	metrics__sample(t, "vigil_agent_max_rss_bytes", NULL, NULL, NULL, NULL,
			tl.agent.max_rss_kib * 1024.0);
	{
		static const char *const fam[][2] = {
			{ "vigil_alerts_total", "alerts written, by rule and severity" },
			{ "vigil_alert_actions_total", "alerts written, by rule and what was done" },
			{ "vigil_alerts_folded_total", "alerts folded into their incident" },
			{ "vigil_alerts_suppressed_total", "alerts over the rule's rate limit" },
		};

		for (int i = 0; i < 4; i++) {
			struct rule_family f = { t, i };

			metrics__family(t, fam[i][0], "counter", fam[i][1]);
			incidents__foreach_rule(a->inc, rule_metrics, &f);
		}
	}
	sink_metrics(t, a->out);
	mapfill__metrics(t, a->ld.skel ? a->ld.skel->obj : NULL, clock__mono_ns());
	text = metrics__text(t, &len);
	*out = malloc(len + 1);
	if (*out)
		memcpy(*out, text, len + 1);
	metrics__text_free(t);
	return *out ? len : 0;
}

void status__heartbeat(struct agent *a)
{
	struct tally t;
	struct json *j = &a->j;

	tally(a, &t);
	output__begin(a->out, j, "heartbeat");
	json__kv_uint(j, "interval_s", a->o->heartbeat_s);
	json__kv_uint(j, "uptime_s", (clock__mono_ns() - a->started_ns) / 1000000000ull);
	json__kv_str(j, "mode", a->o->enforce ? "enforce" : "monitor");
	json__kv_uint(j, "events_sent", t.kernel.events_sent);
	json__kv_uint(j, "events_lost", t.kernel.events_lost);
	json__kv_uint(j, "events_lost_interval", t.kernel.events_lost - a->lost_at_heartbeat);
	json__kv_uint(j, "alerts", t.agent.alerts);
	json__kv_uint(j, "tainted_processes", t.agent.tainted_processes);
	json__kv_uint(j, "output_write_errors", t.agent.output_write_errors);
	a->lost_at_heartbeat = t.kernel.events_lost;
	output__emit(a->out, j);
}

void status__counters_json(struct agent *a, struct json *j)
{
	struct tally t;
	const char *group = NULL;

	tally(a, &t);
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
}

/* agent_stop: a signal and its sender (systemd's pid 1 or the agent's
 * parent: the service manager), or the control socket (vigil stop) */
static void stopped_by(struct agent *a, struct json *j)
{
	char comm[64] = "";

	if (!a->stop)
		return;	/* an error ended the loop: agent_error said why */
	json__key(j, "stopped_by");
	json__begin_object(j);
	if (!a->stop_signal) {
		json__kv_str(j, "how", "control");
		json__end_object(j);
		return;
	}
	json__kv_str(j, "how", "signal");
	json__kv_str(j, "signal", a->stop_signal == SIGTERM ? "SIGTERM" :
		     a->stop_signal == SIGINT ? "SIGINT" : "SIG?");
	json__kv_uint(j, "pid", a->stop_pid);
	{
		char path[32];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%u/comm", a->stop_pid);
		f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		if (f)
			fclose(f);
	}
	json__kv_str(j, "comm", comm[0] ? comm : NULL);
	json__kv_bool(j, "service_manager", a->stop_pid == 1 || a->stop_pid == (uint32_t)getppid());
	json__end_object(j);
}

void status__counters(struct agent *a, const char *kind)
{
	output__begin(a->out, &a->j, kind);
	if (!strcmp(kind, "agent_stop"))
		stopped_by(a, &a->j);
	status__counters_json(a, &a->j);
	output__sink_stats_json(a->out, &a->j);
	output__emit(a->out, &a->j);
}

void status__publish_metrics(struct agent *a)
{
	char *text;
	size_t len;

	if (!a->metrics)
		return;
	len = status__metrics(a, &text);
	metrics__publish(a->metrics, text, len);
	free(text);
}
