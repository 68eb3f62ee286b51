// SPDX-License-Identifier: GPL-2.0
/* ECS 9.x. Alerts are event.kind "alert" with the fields Elastic Security's
 * external-alert views read (event.severity, rule.*, threat.*, process.*,
 * file.*, destination.*, network.*, host.*); what ECS has no field for stays
 * under the custom "vigil" namespace. The agent's own records are
 * event.kind "event" (start, stop, reload, error) or "metric" (stats,
 * heartbeat). */
#include <string.h>

#include "format.h"

#define ECS_VERSION "9.0.0"

/* Elastic's detection-rule convention for severity -> risk number. */
static int ecs_severity(const char *sev)
{
	static const int score[] = { 0, 21, 47, 73, 99 };

	return score[format__severity_rank(sev)];
}

static json_t *strings(const char *a, const char *b)
{
	json_t *arr = json_array();

	json_array_append_new(arr, json_string(a));
	if (b)
		json_array_append_new(arr, json_string(b));
	return arr;
}

static void common(json_t *out, json_t *rec, const char *kind)
{
	json_t *ev = format__obj(out, "event"), *host = format__obj(out, "host"), *agent = format__obj(out, "agent");

	format__set_str(out, "@timestamp", format__str(rec, "time"));
	json_object_set_new(format__obj(out, "ecs"), "version", json_string(ECS_VERSION));
	format__set_str(ev, "id", format__str(rec, "id"));
	if (format__int(rec, "seq") >= 0)
		json_object_set_new(ev, "sequence", json_integer(format__int(rec, "seq")));
	format__set_str(ev, "created", format__str(rec, "time"));
	json_object_set_new(ev, "module", json_string("vigil"));
	json_object_set_new(ev, "provider", json_string("vigil"));
	json_object_set_new(ev, "dataset", json_string(!strcmp(kind, "alert") ? "vigil.alert" :
						       "vigil.agent"));
	format__set_str(host, "hostname", format__str(rec, "host"));
	format__set_str(host, "name", format__str(rec, "host"));
	format__set_str(host, "id", format__str(rec, "machine_id"));
	if (*format__str(rec, "boot_id"))
		format__set_str(format__obj(host, "boot"), "id", format__str(rec, "boot_id"));
	json_object_set_new(agent, "type", json_string("vigil"));
	json_object_set_new(agent, "name", json_string("vigil"));
	json_object_set_new(agent, "version", json_string(VIGIL_VERSION));
	format__set_str(agent, "ephemeral_id", format__str(rec, "run_id"));
	if (json_is_object(json_object_get(rec, "labels")))
		json_object_set(out, "labels", json_object_get(rec, "labels"));
}

static void alert(json_t *out, json_t *rec)
{
	json_t *ev = format__obj(out, "event"), *tags = json_object_get(rec, "tags"), *t;
	json_t *srcs = format__get(rec, "taint.sources"), *v = format__obj(out, "vigil");
	const char *action = format__str(rec, "action"), *path, *slash;
	json_t *tech_id = json_array(), *tech_name = json_array();
	json_t *tac_id = json_array(), *tac_name = json_array();
	size_t i;

	json_object_set_new(ev, "kind", json_string("alert"));
	json_object_set_new(ev, "category", strings("network", "intrusion_detection"));
	if (!strcmp(format__str(rec, "kind"), "alert_update"))
		json_object_set_new(ev, "type", strings("info", NULL));
	else
		json_object_set_new(ev, "type", strings(!strcmp(action, "alert") ? "allowed" :
							"denied", "connection"));
	format__set_str(ev, "action", action);
	json_object_set_new(ev, "outcome", json_string(!strcmp(action, "alert") ? "unknown" :
						       "success"));
	json_object_set_new(ev, "severity", json_integer(ecs_severity(format__str(rec, "severity"))));
	format__set_str(ev, "reason", format__str(rec, "message"));
	format__set_str(out, "message", format__str(rec, "message"));

	format__set_str(format__obj(out, "rule"), "id", format__str(rec, "rule"));
	format__set_str(format__obj(out, "rule"), "name", format__str(rec, "rule"));
	json_object_set_new(format__obj(out, "rule"), "ruleset", json_string("vigil"));

	json_array_foreach(tags, i, t) {
		const char *id = json_string_value(t), *tn = NULL, *ta;

		if (!id || !format__technique_name(id))
			continue;
		json_array_append_new(tech_id, json_string(id));
		json_array_append_new(tech_name, json_string(format__technique_name(id)));
		ta = format__tactic_of(id, &tn);
		json_array_append_new(tac_id, json_string(ta));
		json_array_append_new(tac_name, json_string(tn));
	}
	if (json_array_size(tech_id)) {
		json_t *th = format__obj(out, "threat");

		json_object_set_new(th, "framework", json_string("MITRE ATT&CK"));
		json_object_set_new(format__obj(th, "technique"), "id", tech_id);
		json_object_set_new(format__obj(th, "technique"), "name", tech_name);
		json_object_set_new(format__obj(th, "tactic"), "id", tac_id);
		json_object_set_new(format__obj(th, "tactic"), "name", tac_name);
	} else {
		json_decref(tech_id);
		json_decref(tech_name);
		json_decref(tac_id);
		json_decref(tac_name);
	}
	if (json_is_array(tags))
		json_object_set(out, "tags", tags);

	{
		json_t *p = format__obj(out, "process"), *parent;

		json_object_set_new(p, "pid", json_integer(format__int(rec, "process.pid")));
		format__set_str(p, "name", format__str(rec, "process.comm"));
		format__set_str(p, "executable", format__str(rec, "process.exe"));
		format__set_str(p, "command_line", format__str(rec, "process.cmdline"));
		parent = format__obj(p, "parent");
		json_object_set_new(parent, "pid", json_integer(format__int(rec, "process.ppid")));
		format__set_str(parent, "name", format__str(rec, "process.pname"));
		if (format__int(rec, "process.uid") >= 0) {
			char uid[24];

			snprintf(uid, sizeof(uid), "%lld", format__int(rec, "process.uid"));
			json_object_set_new(format__obj(p, "user"), "id", json_string(uid));
			json_object_set_new(format__obj(out, "user"), "id", json_string(uid));
		}
	}
	path = json_string_value(format__get(json_array_get(srcs, 0), "path"));
	if (path) {
		json_t *f = format__obj(out, "file");

		slash = strrchr(path, '/');
		format__set_str(f, "path", path);
		format__set_str(f, "name", slash ? slash + 1 : path);
		if (slash && slash > path) {
			char dir[4096];

			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
			format__set_str(f, "directory", dir);
		}
	}
	{
		json_t *d = format__obj(out, "destination"), *n = format__obj(out, "network");
		const char *proto = format__str(rec, "network.protocol");

		/* a network filesystem's mount has a source, not an IP */
		if (strcmp(format__str(rec, "network.family"), "netfs"))
			format__set_str(d, "ip", format__str(rec, "network.daddr"));
		format__set_str(d, "address", format__str(rec, "network.daddr"));
		format__set_count(d, "port", format__int(rec, "network.dport"));
		format__set_count(d, "bytes", format__int(rec, "network.bytes"));
		if (strcmp(proto, "other"))
			format__set_str(n, "transport", proto);
		if (strcmp(format__str(rec, "network.family"), "other"))
			format__set_str(n, "type", format__str(rec, "network.family"));
		json_object_set_new(n, "direction", json_string("egress"));
		format__set_count(n, "bytes", format__int(rec, "network.bytes"));
	}
	/* what ECS has no place for */
	format__set_str(v, "kind", format__str(rec, "kind"));
	if (format__int(rec, "folded") >= 0)
		json_object_set_new(v, "folded", json_integer(format__int(rec, "folded")));
	format__set_str(v, "mode", format__str(rec, "mode"));
	format__set_str(v, "event", format__str(rec, "event"));
	format__set_str(v, "enforce_action", format__str(rec, "enforce_action"));
	format__set_str(v, "killed_by", format__str(rec, "killed_by"));
	format__set_str(v, "severity", format__str(rec, "severity"));
	json_object_set(v, "taint", json_object_get(rec, "taint"));
	format__set_count(v, "blocked_bytes", format__int(rec, "network.blocked_bytes"));
	if (format__int(rec, "events_lost") > 0)
		json_object_set_new(v, "events_lost", json_integer(format__int(rec, "events_lost")));
	if (json_is_object(json_object_get(rec, "incident")))
		json_object_set(v, "incident", json_object_get(rec, "incident"));
}

/* start/stop/stats/heartbeat/reload/error: ECS basics, the rest as is
 * under vigil. */
static void agent_record(json_t *out, json_t *rec, const char *kind)
{
	json_t *ev = format__obj(out, "event");
	bool metric = !strcmp(kind, "agent_stats") || !strcmp(kind, "heartbeat");

	json_object_set_new(ev, "kind", json_string(metric ? "metric" : "event"));
	json_object_set_new(ev, "category", strings("process", NULL));
	json_object_set_new(ev, "type", strings(!strcmp(kind, "agent_start") ? "start" :
						!strcmp(kind, "agent_stop") ? "end" :
						!strcmp(kind, "agent_reload") ? "change" :
						!strcmp(kind, "agent_error") ? "error" : "info", NULL));
	format__set_str(ev, "action", kind);
	if (!strcmp(kind, "agent_error"))
		format__set_str(out, "message", format__str(rec, "message"));
	format__copy_body(format__obj(out, "vigil"), rec);
}

char *format_ecs__render(json_t *rec, const char *prev_hash)
{
	const char *kind = format__str(rec, "kind");
	json_t *out = json_object();
	char *s;

	common(out, rec, kind);
	if (!strcmp(kind, "alert") || !strcmp(kind, "alert_update"))
		alert(out, rec);
	else
		agent_record(out, rec, kind);
	if (json_object_get(rec, "truncated"))
		json_object_set_new(format__obj(out, "vigil"), "truncated", json_true());
	if (prev_hash)
		json_object_set_new(format__obj(out, "vigil"), "prev_hash", json_string(prev_hash));
	s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(out);
	return s;
}
