// SPDX-License-Identifier: GPL-2.0
/* OCSF 1.8.0. An alert is a Detection Finding (class_uid 2004, category 2
 * Findings) with the host and security_control profiles: the sender in
 * actor.process (parent, lineage = the taint chain), the weight file, the
 * process and the destination as evidences, the MITRE technique in
 * finding_info.attacks. finding_info.uid is the incident's id, the same in
 * the first record and every update of it (activity_id 2); without
 * incident folding each alert is its own incident. The agent's own records
 * are Application Lifecycle (class_uid 6002): start, stop, reload (update),
 * heartbeat and stats (other). Test data with the class definitions:
 * tests/data/ocsf/. */
#include <stdio.h>
#include <string.h>

#include "format.h"

#define OCSF_VERSION "1.8.0"

static void set_int(json_t *o, const char *k, long long v)
{
	json_object_set_new(o, k, json_integer(v));
}

static void metadata(json_t *out, json_t *rec, const char *const *profiles)
{
	json_t *m = format__obj(out, "metadata"), *prod = format__obj(m, "product"), *labels, *v, *pr;
	const char *k;

	format__set_str(m, "version", OCSF_VERSION);
	format__set_str(prod, "name", "vigil");
	format__set_str(prod, "vendor_name", "vigil");
	format__set_str(prod, "version", VIGIL_VERSION);
	format__set_str(m, "uid", format__str(rec, "id"));
	if (format__int(rec, "seq") >= 0)
		set_int(m, "sequence", format__int(rec, "seq"));
	format__set_str(m, "correlation_uid", format__str(rec, "run_id"));
	format__set_str(m, "log_name", "vigil");
	pr = json_array();
	for (int i = 0; profiles[i]; i++)
		json_array_append_new(pr, json_string(profiles[i]));
	json_object_set_new(m, "profiles", pr);
	labels = json_object_get(rec, "labels");
	if (json_is_object(labels)) {
		json_t *arr = json_array();

		json_object_foreach(labels, k, v) {
			char kv[256];

			snprintf(kv, sizeof(kv), "%s:%s", k, json_string_value(v));
			json_array_append_new(arr, json_string(kv));
		}
		json_object_set_new(m, "labels", arr);
	}
}

static void device(json_t *out, json_t *rec)
{
	json_t *d = format__obj(out, "device");

	format__set_str(d, "hostname", format__str(rec, "host"));
	format__set_str(d, "name", format__str(rec, "host"));
	format__set_str(d, "uid", format__str(rec, "machine_id"));
	format__set_str(d, "boot_uid", format__str(rec, "boot_id"));
	set_int(d, "type_id", 1);	/* Server */
	format__set_str(d, "type", "Server");
}

static void times(json_t *out, json_t *rec)
{
	set_int(out, "time", format__epoch_ms(format__str(rec, "time")));
	format__set_str(out, "time_dt", format__str(rec, "time"));
}

static json_t *process(json_t *rec)
{
	json_t *p = json_object(), *chain = format__get(rec, "taint.chain"), *lin, *e;
	const char *exe = format__str(rec, "process.exe"), *slash = strrchr(exe, '/');
	size_t i;

	format__set_count(p, "pid", format__int(rec, "process.pid"));
	format__set_str(p, "name", format__str(rec, "process.comm"));
	format__set_str(p, "cmd_line", format__str(rec, "process.cmdline"));
	if (*exe) {
		json_t *f = format__obj(p, "file");

		format__set_str(f, "path", exe);
		format__set_str(f, "name", slash ? slash + 1 : exe);
		set_int(f, "type_id", 1);
	}
	if (format__int(rec, "process.uid") >= 0) {
		char uid[24];

		snprintf(uid, sizeof(uid), "%lld", format__int(rec, "process.uid"));
		format__set_str(format__obj(p, "user"), "uid", uid);
	}
	{
		json_t *pp = format__obj(p, "parent_process");

		format__set_count(pp, "pid", format__int(rec, "process.ppid"));
		format__set_str(pp, "name", format__str(rec, "process.pname"));
	}
	/* ancestry as OCSF lineage: the taint chain from the reader of the
	 * weights to this process, "comm[pid] (via)" */
	lin = json_array();
	json_array_foreach(chain, i, e) {
		char s[128];

		snprintf(s, sizeof(s), "%s[%lld] (%s)", format__str(e, "comm"),
			 format__int(e, "pid"), format__str(e, "via"));
		json_array_append_new(lin, json_string(s));
	}
	json_object_set_new(p, "lineage", lin);
	return p;
}

static const char *severity_name(int id)
{
	static const char *const n[] = { "Unknown", "Low", "Medium", "High", "Critical" };

	return n[id];
}

static void finding(json_t *out, json_t *rec)
{
	const char *action = format__str(rec, "action"), *incident, *sev = format__str(rec, "severity");
	bool update = !strcmp(format__str(rec, "kind"), "alert_update");
	int rank = format__severity_rank(sev);
	json_t *fi = format__obj(out, "finding_info"), *attacks = json_array(), *tags = json_object_get(rec, "tags");
	json_t *ev = json_array(), *e, *t, *srcs = format__get(rec, "taint.sources");
	long long now = format__epoch_ms(format__str(rec, "time"));
	size_t i;

	set_int(out, "class_uid", 2004);
	format__set_str(out, "class_name", "Detection Finding");
	set_int(out, "category_uid", 2);
	format__set_str(out, "category_name", "Findings");
	set_int(out, "activity_id", update ? 2 : 1);
	format__set_str(out, "activity_name", update ? "Update" : "Create");
	set_int(out, "type_uid", 200400 + (update ? 2 : 1));
	format__set_str(out, "type_name", update ? "Detection Finding: Update" : "Detection Finding: Create");
	set_int(out, "severity_id", rank + 1 > 5 ? 5 : rank + 1);	/* low=2 .. critical=5 */
	format__set_str(out, "severity", severity_name(rank));
	set_int(out, "status_id", 1);
	format__set_str(out, "status", "New");
	format__set_str(out, "message", format__str(rec, "message"));
	json_object_set_new(out, "is_alert", json_true());
	/* security_control profile: what was done to the transfer */
	if (!strcmp(action, "alert")) {
		set_int(out, "action_id", 1);
		format__set_str(out, "action", "Allowed");
		set_int(out, "disposition_id", 15);
		format__set_str(out, "disposition", "Detected");
	} else {
		set_int(out, "action_id", 2);
		format__set_str(out, "action", "Denied");
		set_int(out, "disposition_id", 2);
		format__set_str(out, "disposition", "Blocked");
	}
	incident = format__str(rec, "incident.id");
	format__set_str(fi, "uid", *incident ? incident : format__str(rec, "id"));
	format__set_str(fi, "title", format__str(rec, "rule"));
	format__set_str(fi, "desc", format__str(rec, "message"));
	{
		json_t *types = json_array();

		json_array_append_new(types, json_string("Data Exfiltration"));
		json_object_set_new(fi, "types", types);
	}
	{
		json_t *an = format__obj(fi, "analytic");

		format__set_str(an, "uid", format__str(rec, "rule"));
		format__set_str(an, "name", format__str(rec, "rule"));
		set_int(an, "type_id", 1);
		format__set_str(an, "type", "Rule");
	}
	set_int(fi, "created_time", now);
	{
		const char *first = format__str(rec, "incident.first_seen");
		const char *last = format__str(rec, "incident.last_seen");

		set_int(fi, "first_seen_time", *first ? format__epoch_ms(first) : now);
		set_int(fi, "last_seen_time", *last ? format__epoch_ms(last) : now);
	}
	json_array_foreach(tags, i, t) {
		const char *id = json_string_value(t), *tn = NULL, *ta;
		json_t *a;

		if (!id || !format__technique_name(id))
			continue;
		a = json_object();
		format__set_str(format__obj(a, "technique"), "uid", id);
		format__set_str(format__obj(a, "technique"), "name", format__technique_name(id));
		ta = format__tactic_of(id, &tn);
		format__set_str(format__obj(a, "tactic"), "uid", ta);
		format__set_str(format__obj(a, "tactic"), "name", tn);
		format__set_str(a, "version", "16");
		json_array_append_new(attacks, a);
	}
	if (json_array_size(attacks))
		json_object_set_new(fi, "attacks", attacks);
	else
		json_decref(attacks);
	if (format__int(rec, "incident.count") > 0)
		set_int(out, "count", format__int(rec, "incident.count"));

	json_object_set_new(format__obj(out, "actor"), "process", process(rec));
	/* evidences: the weight files, the destination and the connection */
	json_array_foreach(srcs, i, e) {
		json_t *x = json_object(), *f = format__obj(x, "file");
		const char *path = format__str(e, "path"), *slash = strrchr(path, '/');

		format__set_str(f, "path", path);
		format__set_str(f, "name", slash ? slash + 1 : path);
		set_int(f, "type_id", 1);
		format__set_str(f, "type", "Regular File");
		json_object_set_new(format__obj(x, "data"), "bytes_read", json_integer(format__int(e, "bytes_read")));
		json_object_set_new(json_object_get(x, "data"), "protect_set",
				    json_string(format__str(e, "set")));
		json_array_append_new(ev, x);
	}
	{
		json_t *x = json_object(), *d = format__obj(x, "dst_endpoint"), *c = format__obj(x, "connection_info");
		const char *proto = format__str(rec, "network.protocol");

		/* a network filesystem's mount has a source, not an IP */
		format__set_str(d, strcmp(format__str(rec, "network.family"), "netfs") ? "ip" : "hostname",
				format__str(rec, "network.daddr"));
		format__set_count(d, "port", format__int(rec, "network.dport"));
		format__set_str(c, "protocol_name", proto);
		set_int(c, "protocol_num", !strcmp(proto, "tcp") ? 6 : !strcmp(proto, "udp") ? 17 : -1);
		if (json_integer_value(json_object_get(c, "protocol_num")) < 0)
			json_object_del(c, "protocol_num");
		set_int(c, "direction_id", 2);
		format__set_str(c, "direction", "Outbound");
		set_int(c, "protocol_ver_id", !strcmp(format__str(rec, "network.family"), "ipv6") ? 6 : 4);
		json_object_set_new(x, "process", process(rec));
		format__set_count(format__obj(x, "data"), "bytes_out", format__int(rec, "network.bytes"));
		format__set_count(format__obj(x, "data"), "blocked_bytes", format__int(rec, "network.blocked_bytes"));
		json_array_append_new(ev, x);
	}
	json_object_set_new(out, "evidences", ev);
	{
		json_t *u = format__obj(out, "unmapped");

		format__set_str(u, "mode", format__str(rec, "mode"));
		format__set_str(u, "event", format__str(rec, "event"));
		format__set_str(u, "enforce_action", format__str(rec, "enforce_action"));
		format__set_str(u, "killed_by", format__str(rec, "killed_by"));
		format__set_str(u, "vigil_action", action);
		json_object_set(u, "taint", json_object_get(rec, "taint"));
		if (format__int(rec, "events_lost") > 0)
			set_int(u, "events_lost", format__int(rec, "events_lost"));
	}
}

static void lifecycle(json_t *out, json_t *rec, const char *kind)
{
	static const struct {
		const char *kind, *name;
		int id;
	} acts[] = {
		{ "agent_start", "Start", 3 }, { "agent_stop", "Stop", 4 },
		{ "agent_reload", "Update", 8 }, { "heartbeat", "Heartbeat", 99 },
		{ "agent_stats", "Stats", 99 }, { "agent_error", "Error", 99 },
		{ "alerts_suppressed", "Alerts Suppressed", 99 },
	};
	int id = 99;
	const char *name = kind;
	json_t *app;

	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (!strcmp(kind, acts[i].kind)) {
			id = acts[i].id;
			name = acts[i].name;
		}
	set_int(out, "class_uid", 6002);
	format__set_str(out, "class_name", "Application Lifecycle");
	set_int(out, "category_uid", 6);
	format__set_str(out, "category_name", "Application Activity");
	set_int(out, "activity_id", id);
	format__set_str(out, "activity_name", name);
	set_int(out, "type_uid", 600200 + id);
	{
		char tn[64];

		snprintf(tn, sizeof(tn), "Application Lifecycle: %s", name);
		format__set_str(out, "type_name", tn);
	}
	set_int(out, "severity_id", !strcmp(kind, "agent_error") ? 3 : 1);
	format__set_str(out, "severity", !strcmp(kind, "agent_error") ? "Medium" : "Informational");
	set_int(out, "status_id", !strcmp(kind, "agent_error") ? 2 : 1);
	format__set_str(out, "status", !strcmp(kind, "agent_error") ? "Failure" : "Success");
	app = format__obj(out, "app");
	format__set_str(app, "name", "vigil");
	format__set_str(app, "vendor_name", "vigil");
	format__set_str(app, "version", VIGIL_VERSION);
	if (*format__str(rec, "message"))
		format__set_str(out, "message", format__str(rec, "message"));
	format__copy_body(format__obj(out, "unmapped"), rec);
}

char *format_ocsf__render(json_t *rec, const char *prev_hash)
{
	static const char *const finding_profiles[] = { "host", "security_control", "datetime",
							 NULL };
	static const char *const app_profiles[] = { "host", "datetime", NULL };
	const char *kind = format__str(rec, "kind");
	json_t *out = json_object();
	bool is_alert = !strcmp(kind, "alert") || !strcmp(kind, "alert_update");
	char *s;

	if (is_alert)
		finding(out, rec);
	else
		lifecycle(out, rec, kind);
	times(out, rec);
	metadata(out, rec, is_alert ? finding_profiles : app_profiles);
	device(out, rec);
	if (json_object_get(rec, "truncated"))
		json_object_set_new(format__obj(out, "unmapped"), "truncated", json_true());
	if (prev_hash)
		json_object_set_new(format__obj(out, "unmapped"), "prev_hash", json_string(prev_hash));
	s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(out);
	return s;
}
