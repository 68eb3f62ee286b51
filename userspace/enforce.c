// SPDX-License-Identifier: GPL-2.0
/* The agent's side of the budget ceiling: see enforce.h. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "enforce.h"
#include "json.h"
#include "kmaps.h"
#include "log.h"
#include "output.h"
#include "vigil.h"
#include "vigil.skel.h"

#define SOCKET_PASS_NS 1000000000ull	/* while tainted sockets exist */
#define SOCKET_PASS_MIN_NS 10000000ull	/* at most this often after kills */
#define FLOW_SWEEP_NS 5000000000ull
#define ERROR_EVERY_NS 1000000000ull

/* Counters that mean "state enforcement depends on was not kept". */
struct lost_counter {
	const char *name;	/* as in agent_stats */
	size_t off;
	const char *what;
};

#define LC(f, w) { #f, offsetof(struct vigil_counters, f), w }
static const struct lost_counter lost_counters[] = {
	LC(taint_map_full, "taint map full"),
	LC(flow_map_full, "flow map full"),
	LC(sock_storage_full, "socket storage allocation failed"),
	LC(taint_state_lost, "taint entry missing for a tainted process"),
	LC(lost_socks_full, "fallback socket table full"),
};
#define NLOST (sizeof(lost_counters) / sizeof(lost_counters[0]))

struct enforce {
	struct enforce_env env;
	struct bpf_link *iter;
	bool pass_pending;
	uint64_t last_pass_ns, last_sweep_ns, last_error_ns;
	unsigned long long reported[NLOST];
	unsigned long long failed_closed_reported;
	bool breached[VIGIL_MAX_SETS];
};

/* ---- test knobs ------------------------------------------------------------ */

static struct bpf_map *map_by_knob(struct vigil_bpf *skel, const char *name)
{
	if (!strcmp(name, "flows"))
		return skel->maps.vg_flows;
	if (!strcmp(name, "taint"))
		return skel->maps.vg_taint;
	if (!strcmp(name, "lost-socks"))
		return skel->maps.vg_lost_socks;
	if (!strcmp(name, "pipes"))
		return skel->maps.vg_pipes;
	return NULL;
}

int enforce__configure(struct vigil_bpf *skel, const char **map_sizes, size_t nmap_sizes,
		       const char **faults, size_t nfaults, char *err, size_t errlen)
{
	for (size_t i = 0; i < nmap_sizes; i++) {
		char name[32];
		unsigned n;
		struct bpf_map *m;

		if (sscanf(map_sizes[i], "%31[a-z-]=%u", name, &n) != 2 || !n ||
		    !(m = map_by_knob(skel, name))) {
			snprintf(err, errlen, "--test-map-size '%s': expected NAME=N with N >= 1 "
				 "and NAME one of flows, taint, lost-socks, pipes", map_sizes[i]);
			return -EINVAL;
		}
		if (bpf_map__set_max_entries(m, n)) {
			snprintf(err, errlen, "--test-map-size '%s': %s", map_sizes[i],
				 strerror(errno));
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < nfaults; i++) {
		if (!strcmp(faults[i], "sock-storage"))
			skel->rodata->cfg_fault |= VIGIL_FAULT_SK_STORAGE;
		else if (!strcmp(faults[i], "no-charge"))
			skel->rodata->cfg_fault |= VIGIL_FAULT_NO_CHARGE;
		else if (!strcmp(faults[i], "no-content"))
			skel->rodata->cfg_fault |= VIGIL_FAULT_NO_CONTENT;
		else {
			snprintf(err, errlen, "--test-fault '%s': expected sock-storage, no-charge or no-content",
				 faults[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- lifecycle ------------------------------------------------------------- */

struct enforce *enforce__new(const struct enforce_env *env)
{
	struct enforce *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->env = *env;
	if (bpf_program__fd(env->skel->progs.vigil_reap_tcp) < 0) {
		/* not loaded: the kernel lacks bpf_sock_destroy (vigil check: reset) */
		log__warn("no socket reaper on this kernel: sockets blocked at the budget are "
			  "not reset, their queued data is dropped only while vigil runs");
		return e;
	}
	e->iter = bpf_program__attach_iter(env->skel->progs.vigil_reap_tcp, NULL);
	if (!e->iter)
		log__warn("cannot create the TCP socket iterator (%s): sockets blocked at the "
			  "budget are not reset, their queued data is dropped only while vigil "
			  "runs", strerror(errno));
	return e;
}

void enforce__free(struct enforce *e)
{
	if (!e)
		return;
	bpf_link__destroy(e->iter);
	free(e);
}

/* ---- socket pass ----------------------------------------------------------- */

static void socket_pass(struct enforce *e, uint64_t now)
{
	char buf[256];
	int fd;

	e->pass_pending = false;
	e->last_pass_ns = now;
	if (!e->iter)
		return;
	fd = bpf_iter_create(bpf_link__fd(e->iter));
	if (fd < 0) {
		log__debug("socket pass: %s", strerror(errno));
		return;
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

void enforce__on_record(struct enforce *e, const void *data, size_t size)
{
	const struct vigil_ev_header *h = data;
	uint64_t now;

	if (!e || !e->env.enforce || size < sizeof(*h))
		return;
	if (h->type == VIGIL_EV_KILL) {
		e->pass_pending = true;
	} else if (h->type == VIGIL_EV_FLOW && size >= sizeof(struct vigil_ev_flow)) {
		const struct vigil_ev_flow *f = data;

		if (f->reason & (VIGIL_FLOW_BLOCKED | VIGIL_FLOW_BUDGET))
			e->pass_pending = true;
	}
	if (!e->pass_pending)
		return;
	now = clock__mono_ns();
	if (now - e->last_pass_ns >= SOCKET_PASS_MIN_NS)
		socket_pass(e, now);
}

static void check_breaches(struct enforce *e);

void enforce__stop(struct enforce *e)
{
	if (!e)
		return;
	socket_pass(e, clock__mono_ns());
	check_breaches(e);
}

/* ---- counters, state loss, breaches ---------------------------------------- */

static unsigned long long counter_at(const struct vigil_counters *c, size_t off)
{
	return *(const __u64 *)((const char *)c + off);
}

static void report_state_loss(struct enforce *e, const struct vigil_counters *c, uint64_t now)
{
	char msg[900];
	size_t n = 0;
	bool any = false;

	if (now - e->last_error_ns < ERROR_EVERY_NS)
		return;
	for (size_t i = 0; i < NLOST; i++) {
		unsigned long long v = counter_at(c, lost_counters[i].off);

		if (v <= e->reported[i])
			continue;
		n += snprintf(msg + n, sizeof(msg) - n, "%s%s (%s: +%llu, %llu in all)",
			      any ? "; " : "", lost_counters[i].what, lost_counters[i].name,
			      v - e->reported[i], v);
		if (n >= sizeof(msg))
			n = sizeof(msg) - 1;
		e->reported[i] = v;
		any = true;
	}
	if (!any)
		return;
	e->last_error_ns = now;
	snprintf(msg + n, sizeof(msg) - n, e->env.enforce ?
		 ": the kernel failed closed (denied, dropped or killed; failed_closed %llu)" :
		 ": monitor mode, the traffic concerned may be missing from alerts",
		 (unsigned long long)c->failed_closed);
	{
		char full[1024];

		snprintf(full, sizeof(full), "enforcement state not kept: %s", msg);
		e->env.error(e->env.ctx, full);
	}
}

static void human(char *buf, size_t len, unsigned long long v)
{
	if (v >= 1ull << 20)
		snprintf(buf, len, "%.1f MiB", v / 1048576.0);
	else if (v >= 1ull << 10)
		snprintf(buf, len, "%.1f KiB", v / 1024.0);
	else
		snprintf(buf, len, "%llu bytes", v);
}

static void check_breaches(struct enforce *e)
{
	struct json j;

	if (!e->env.enforce || !e->env.budgets->view)
		return;	/* monitor mode lets it pass by design: the budget rule says so */
	for (size_t s = 0; s < e->env.rs->nsets && s < VIGIL_MAX_SETS; s++) {
		const struct vigil_budget *b = &e->env.budgets->view[s];
		unsigned long long limit = __atomic_load_n(&b->limit, __ATOMIC_SEQ_CST);
		unsigned long long passed = __atomic_load_n(&b->passed, __ATOMIC_SEQ_CST);
		unsigned long long delivered = __atomic_load_n(&b->delivered, __ATOMIC_SEQ_CST);
		unsigned long long seen = passed > delivered ? passed : delivered;
		const char *name;
		char hs[32], hl[32], msg[512];

		if (!limit || seen <= limit) {
			e->breached[s] = false;	/* a new window */
			continue;
		}
		if (e->breached[s])
			continue;
		e->breached[s] = true;
		name = e->env.set_name(e->env.ctx, s);
		human(hs, sizeof(hs), seen);
		human(hl, sizeof(hl), limit);
		snprintf(msg, sizeof(msg), "the egress budget of protect set %s was broken: %s of "
			 "tainted data left the host (%llu bytes), the limit is %s (%llu bytes); "
			 "%llu bytes too many", name, hs, seen, hl, limit, seen - limit);
		json__init(&j);
		output__begin(e->env.out, &j, "alert");
		json__kv_str(&j, "rule", "budget_breach");
		json__kv_str(&j, "severity", "critical");
		json__kv_str(&j, "action", "alert");
		json__kv_str(&j, "mode", e->env.enforce ? "enforce" : "monitor");
		json__kv_str(&j, "event", "budget_breach");
		json__kv_str(&j, "message", msg);
		json__key(&j, "budget");
		json__begin_object(&j);
		json__kv_str(&j, "set", name);
		json__kv_uint(&j, "limit_bytes", limit);
		json__kv_uint(&j, "passed_bytes", passed);
		json__kv_uint(&j, "delivered_bytes", delivered);
		json__kv_uint(&j, "excess_bytes", seen - limit);
		json__kv_uint(&j, "charged_bytes", __atomic_load_n(&b->spent, __ATOMIC_SEQ_CST));
		json__kv_uint(&j, "blocked_bytes", __atomic_load_n(&b->blocked, __ATOMIC_SEQ_CST));
		json__end_object(&j);
		output__emit(e->env.out, &j);
		json__free(&j);
		log__error("%s", msg);
	}
}

/* vg_flows is a plain hash: delete the flows of processes that are gone. */
static void sweep_flows(struct enforce *e)
{
	int fd = bpf_map__fd(e->env.skel->maps.vg_flows);
	struct vigil_flow_key key, next, dead[256];
	size_t ndead = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (kill((pid_t)next.tgid, 0) && errno == ESRCH && ndead < 256)
			dead[ndead++] = next;
	}
	for (size_t i = 0; i < ndead; i++)
		bpf_map_delete_elem(fd, &dead[i]);
}

void enforce__tick(struct enforce *e, uint64_t now)
{
	struct vigil_counters c;
	__u64 stamped;

	if (!e)
		return;
	stamped = __atomic_load_n(&e->env.skel->bss->vg_socks_stamped, __ATOMIC_RELAXED);
	if (e->pass_pending || ((stamped || e->env.skel->bss->vg_lost_socks_n) &&
				now - e->last_pass_ns >= SOCKET_PASS_NS))
		socket_pass(e, now);
	if (now - e->last_sweep_ns >= FLOW_SWEEP_NS) {
		e->last_sweep_ns = now;
		sweep_flows(e);
	}
	kmaps__counters(e->env.skel, &c);
	report_state_loss(e, &c, now);
	check_breaches(e);
}
