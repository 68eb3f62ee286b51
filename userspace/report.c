// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "report.h"

static void body_process(struct json *j, const struct activity *a, bool capture)
{
	const struct proc_info *p = &a->proc;

	json__key(j, "process");
	json__begin_object(j);
	json__kv_uint(j, "pid", p->pid);
	json__kv_uint(j, "ppid", p->ppid);
	json__kv_str(j, "comm", p->comm);
	json__kv_str(j, "exe", p->exe);
	json__kv_str(j, "cmdline", p->cmdline);
	json__kv_uint(j, "uid", p->uid);
	json__kv_str(j, "cgroup", p->cgroup);
	json__kv_str(j, "pname", a->pname ? a->pname : "");
	/* context (context.h): only what is known */
	if (p->user[0])
		json__kv_str(j, "user", p->user);
	if (p->has_loginuid)
		json__kv_uint(j, "loginuid", p->loginuid);
	if (p->login_user[0])
		json__kv_str(j, "login_user", p->login_user);
	if (p->ssh_client[0])
		json__kv_str(j, "ssh_client", p->ssh_client);
	if (p->container_id[0]) {
		json__key(j, "container");
		json__begin_object(j);
		json__kv_str(j, "runtime", p->container_runtime);
		json__kv_str(j, "id", p->container_id);
		if (p->pod_uid[0])
			json__kv_str(j, "pod_uid", p->pod_uid);
		if (p->pod_namespace[0])
			json__kv_str(j, "pod_namespace", p->pod_namespace);
		if (p->pod_name[0])
			json__kv_str(j, "pod_name", p->pod_name);
		json__end_object(j);
	}
	if (capture)	/* tells pid reuse apart when replayed */
		json__kv_uint(j, "start_ticks", p->start_ticks);
	json__end_object(j);
}

static void source_object(struct json *j, const struct act_source *s)
{
	json__begin_object(j);
	json__kv_str(j, "path", s->path);
	json__kv_str(j, "set", s->set);
	json__kv_uint(j, "bytes_read", s->bytes_read);
	if (s->size) {
		json__kv_uint(j, "size", s->size);
		json__kv_uint(j, "read_pct", (uint64_t)act_source__read_pct(s));
	}
	json__end_object(j);
}

static void link_object(struct json *j, const struct act_link *l)
{
	json__begin_object(j);
	json__kv_uint(j, "pid", l->pid);
	json__kv_str(j, "comm", l->comm);
	json__kv_str(j, "via", l->via);
	if (l->path)
		json__kv_str(j, "path", l->path);
	json__end_object(j);
}

static void body_taint(struct json *j, const struct activity *a)
{
	json__key(j, "taint");
	json__begin_object(j);
	json__key(j, "sources");
	json__begin_array(j);
	for (int i = 0; i < a->nsources; i++)
		source_object(j, &a->sources[i]);
	json__end_array(j);
	json__key(j, "chain");
	json__begin_array(j);
	for (int i = 0; i < a->nchain; i++)
		link_object(j, &a->chain[i]);
	json__end_array(j);
	json__key(j, "sets");
	json__begin_array(j);
	for (int i = 0; i < a->nsets; i++)
		json__string(j, a->sets[i]);
	json__end_array(j);
	json__kv_str(j, "via", a->taint_via);
	json__kv_uint(j, "depth", a->taint_depth);
	json__end_object(j);
}

static void body_network(struct json *j, const struct activity *a)
{
	json__key(j, "network");
	json__begin_object(j);
	json__kv_str(j, "family", a->family);
	json__kv_str(j, "protocol", a->protocol);
	json__kv_str(j, "daddr", a->daddr);
	json__kv_uint(j, "dport", a->dport);
	json__kv_uint(j, "bytes", a->bytes);
	json__kv_uint(j, "blocked_bytes", a->blocked_bytes);
	json__kv_bool(j, "allowed", a->allowed);
	if (a->tls_plaintext) {
		bool seen = strcmp(a->tls_plaintext, "unseen") != 0;

		json__key(j, "tls");
		json__begin_object(j);
		json__kv_bool(j, "plaintext_seen", seen);
		if (seen)
			json__kv_str(j, "plaintext_class", a->tls_plaintext);
		if (a->tls_library)
			json__kv_str(j, "library", a->tls_library);
		json__end_object(j);
	}
	if (a->content && strcmp(a->content, "unknown"))	/* judged in the kernel */
		json__kv_str(j, "content", a->content);
	if (a->direction)
		json__kv_str(j, "direction", a->direction);
	if (a->lport)
		json__kv_uint(j, "lport", a->lport);
	if (a->fs_type) {	/* a network filesystem: the mount in place of an address */
		json__key(j, "mount");
		json__begin_object(j);
		json__kv_str(j, "fstype", a->fs_type);
		json__kv_str(j, "source", a->fs_source);
		json__kv_str(j, "point", a->fs_mount);
		json__end_object(j);
	}
	json__end_object(j);
}

static void body_control(struct json *j, const struct activity *a)
{
	json__key(j, "control");
	json__begin_object(j);
	json__kv_str(j, "kind", a->control_kind);
	json__kv_str(j, "detail", a->control_detail);
	json__kv_bool(j, "tainted", a->tainted);
	json__end_object(j);
}

/* Control events have no destination, and no taint when the process has
 * none; every other event has both. */
void report__body(struct json *j, const struct activity *a, bool capture)
{
	body_process(j, a, capture);
	if (a->event != ACT_EV_CONTROL || a->tainted)
		body_taint(j, a);
	if (a->event == ACT_EV_CONTROL)
		body_control(j, a);
	else
		body_network(j, a);
}

int report__alert(struct output *o, struct json *j, const struct activity *a,
		  const struct rule_hit *h, const struct incident_ref *inc,
		  unsigned long long events_lost)
{
	const struct rule_def *r = h->rule;

	output__begin_at(o, j, "alert", &a->time, a->host);
	json__kv_str(j, "rule", r->id);
	json__kv_str(j, "severity", h->severity);
	json__kv_str(j, "action", activity__word(ACT_VOCAB_OUTCOME, h->action));
	if (h->enforce_action != ACT_NONE)
		json__kv_str(j, "enforce_action",
			     activity__word(ACT_VOCAB_OUTCOME, h->enforce_action));
	if (h->killed_by != ACT_BY_NONE && h->action == ACT_KILLED)
		json__kv_str(j, "killed_by", activity__word(ACT_VOCAB_KILLER, h->killed_by));
	json__kv_str(j, "mode", activity__word(ACT_VOCAB_MODE, a->mode));
	json__kv_str(j, "event", activity__word(ACT_VOCAB_EVENT, a->event));
	json__kv_str(j, "message", h->message);
	if (r->ntags) {
		json__key(j, "tags");
		json__begin_array(j);
		for (size_t i = 0; i < r->ntags; i++)
			json__string(j, r->tags[i]);
		json__end_array(j);
	}
	if (inc)
		incidents__json(j, inc, inc->count == 1 ? "new" : "repeat");
	if (events_lost)
		json__kv_uint(j, "events_lost", events_lost);
	report__body(j, a, false);
	return output__emit(o, j);
}
