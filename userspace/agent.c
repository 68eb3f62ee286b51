// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's lifecycle, in order, each step checked:
 *   rules -> output -> scope cgroup -> open, configure, load (loader.c) ->
 *   fill maps (scope, budgets, allowlist, protected files: kmaps.c,
 *   protect.c) -> ring buffer -> attach -> seed processes that already hold
 *   weights (seed.c) -> agent_start -> event loop -> agent_stop.
 * agent_start is written only after everything is attached and filled: from
 * then on nothing is missed.
 *
 * The loop dispatches each ready fd to its handler (ring buffer, signals,
 * timer, inotify); the timer runs cron(), the list of periodic duties.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent.h"
#include "capture.h"
#include "clock.h"
#include "correlate.h"
#include "ctl.h"
#include "engine.h"
#include "inspect.h"
#include "enforce.h"
#include "log.h"
#include "notify.h"
#include "pin.h"
#include "config.h"
#include "metrics.h"
#include "output.h"
#include "protect.h"
#include "report.h"
#include "seed.h"
#include "status.h"
#include "tls.h"
#include "world.h"
#include "vigil.skel.h"

#define TICK_MS 100
#define HOSTADDR_REFRESH_MS 2000
#define DEFAULT_BUDGET (1ull << 20)

/* ---- one activity: verdict, capture, rules --------------------------------- */

static int fx_kill(void *ctx, const struct activity *act)
{
	struct agent *a = ctx;

	return scope__kill(&a->scope, act->proc.pid, act->proc.start_ticks);
}

/* block: from now on the kernel refuses every non-loopback destination to
 * this process and drops its packets, allowlisted or not. */
static int fx_block(void *ctx, const struct activity *act)
{
	struct agent *a = ctx;

	if (!scope__contains(&a->scope, act->proc.pid))
		return -EPERM;
	return kmaps__block(a->ld.skel, act->proc.pid);
}

static void on_hit(void *ctx, const struct activity *act, const struct rule_hit *h)
{
	struct agent *a = ctx;
	struct vigil_counters k;
	uint64_t lost;

	kmaps__counters(a->ld.skel, &k);
	lost = k.events_lost;
	struct incident_ref ref;

	if (incidents__hit(a->inc, act, h, &ref) != INCIDENT_REPORT)
		return;
	/* an alert raised while the kernel was dropping events says so: what
	 * it reports may be missing context */
	report__alert(a->out, &a->j, act, h, &ref, lost - a->lost_at_alert);
	a->lost_at_alert = lost;
	inspect__remember_alert(a, json__cstr(&a->j));
}

/* --record: what the rules are about to see */
static void on_seen(void *ctx, const struct activity *act)
{
	struct agent *a = ctx;

	if (a->cap && capture__write(a->cap, act)) {
		a->capture_errors++;
		if (a->capture_errors == 1)
			status__error(a, "--record %s: write failed; the capture is incomplete",
				      a->o->record);
	}
}

/* The correlator's activity, stamped with when and where, judged. */
static void on_activity(void *ctx, const struct activity *in)
{
	struct agent *a = ctx;
	struct engine_effects fx = { .ctx = a, .kill = fx_kill, .block = fx_block };

	a->act = *in;
	clock_gettime(CLOCK_REALTIME, &a->act.time);
	a->act.host = output__host(a->out);
	engine__judge(a->engine, &a->act, &fx, on_seen, on_hit, a);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;
	const struct vigil_ev_header *h = data;

	if (size >= sizeof(*h) && h->type == VIGIL_EV_TAINT)
		a->pipes_dirty = true;
	if (size >= sizeof(struct vigil_ev_tamper) && h->type == VIGIL_EV_TAMPER) {
		status__tamper(a, data);	/* about the agent, not a tainted process */
		a->tamper_records++;
		return 0;
	}

	enforce__on_record(a->enf, data, size);
	if (corr__handle(a->corr, data, size))
		a->rb_bad++;
	tls__on_record(a->tls, data, size);	/* after: alerts of an EXIT see its flows */
	return 0;	/* never stop consuming on a bad record */
}

/* ---- rules ------------------------------------------------------------------- */

/* Default pack, --rules, then the command line: the whole ruleset, all or
 * nothing, and each set's budget. Used at start and on SIGHUP. */
int agent__build_rules(const struct agent_opts *o, const struct hostaddrs *host,
		       struct ruleset *rs, unsigned long long *budgets, char *err, size_t errlen)
{
	struct rules_sources src = {
		.no_default_rules = o->no_default_rules, .paths = o->rules, .npaths = o->nrules,
		.protect = o->protect, .nprotect = o->nprotect, .allow = o->allow,
		.nallow = o->nallow,
	};

	if (rules__build(rs, &src, err, errlen))
		return -EINVAL;
	if (host && rules__set_local_allow(rs, HOSTADDR_ALLOW_NAME, host->a, host->n)) {
		snprintf(err, errlen, "out of memory adding the host's addresses");
		rules__free(rs);
		return -EINVAL;
	}
	for (size_t s = 0; s < rs->nsets; s++) {
		const struct protect_set *set = &rs->sets[s];

		budgets[s] = o->has_budget ? o->budget :
			     set->has_budget ? set->budget :
			     rs->has_default_budget ? rs->default_budget : DEFAULT_BUDGET;
	}
	return 0;
}

static int load_rules(struct agent *a)
{
	char err[1024];

	if (hostaddr__list(&a->host))
		log__warn("cannot list the host's addresses (%s): connections to them count "
			  "as egress", strerror(errno));
	if (agent__build_rules(a->o, &a->host, &a->rs, a->budgets.limit, err, sizeof(err))) {
		log__error("%s", err);
		return -EINVAL;
	}
	if (!a->rs.nsets)
		log__warn("no protect sets: nothing is protected (use --protect GLOB)");
	a->engine = engine__new(&a->rs, err, sizeof(err));
	if (!a->engine) {
		log__error("%s", err);
		return -EINVAL;
	}
	return 0;
}

/* SIGHUP: validate everything first; only then touch the kernel maps
 * (additions before removals) and swap the engine. Any failure keeps the
 * running rules and says why in an agent_error line. */
static int reload(struct agent *a, char *why, size_t whylen)
{
	unsigned long long budgets[VIGIL_MAX_SETS] = { 0 };
	uint64_t t0 = clock__mono_ns();
	struct ruleset nrs, tmp;
	struct engine *ne;
	char err[1024];

	if (agent__build_rules(a->o, &a->host, &nrs, budgets, err, sizeof(err)))
		goto refused;
	ne = engine__new(&nrs, err, sizeof(err));
	if (!ne) {
		rules__free(&nrs);
		goto refused;
	}
	/* taint in the kernel names sets by index: they must keep their places */
	for (size_t i = 0; i < a->rs.nsets; i++) {
		if (i >= nrs.nsets || strcmp(a->rs.sets[i].name, nrs.sets[i].name)) {
			snprintf(err, sizeof(err), "protect set '%s' was removed or moved (sets "
				 "may only be added by a reload); restart vigil to apply",
				 a->rs.sets[i].name);
			engine__free(ne);
			rules__free(&nrs);
			goto refused;
		}
	}
	if (protect__reload(a->prot, &nrs, bpf_map__fd(a->ld.skel->maps.vg_files)) < 0) {
		snprintf(err, sizeof(err), "rescanning protected paths failed: %s",
			 strerror(errno));
		protect__set_rules(a->prot, &a->rs);
		engine__free(ne);
		rules__free(&nrs);
		goto refused;
	}
	tmp = a->rs;
	a->rs = nrs;
	nrs = tmp;
	protect__set_rules(a->prot, &a->rs);
	memcpy(a->budgets.limit, budgets, sizeof(budgets));
	kmaps__fill_exe_allows(a->ld.skel, &a->rs);
	if (kmaps__fill_budgets(a->ld.skel, &a->rs, &a->budgets) ||
	    kmaps__fill_allowlist(a->ld.skel, &a->rs, &a->nallow_keys))
		status__error(a, "reload: updating the kernel budget/allowlist maps failed: %s",
			      strerror(errno));
	kmaps__prune_allowlist(a->ld.skel, &a->rs);
	engine__free(a->engine);
	a->engine = ne;
	rules__free(&nrs);
	a->reloads++;
	status__reload(a, (clock__mono_ns() - t0) / 1e6);
	log__info("rules reloaded: %zu rules, %zu protect sets", engine__rule_count(ne),
		  a->rs.nsets);
	snprintf(why, whylen, "rules reloaded: %zu rules, %zu protect sets",
		 engine__rule_count(ne), a->rs.nsets);
	return 0;
refused:
	status__error(a, "reload refused, the running rules stay: %s", err);
	snprintf(why, whylen, "the running rules stay: %s", err);
	return -EINVAL;
}

/* Reload and tell systemd: RELOADING=1 before, READY=1 after, whatever
 * the outcome (the old rules are still in force when it fails). */
static int reload_notify(struct agent *a, char *why, size_t whylen)
{
	int r;

	notify__send("RELOADING=1");
	r = reload(a, why, whylen);
	notify__send(r ? "READY=1\nSTATUS=reload refused, the running rules stay" :
		     "READY=1\nSTATUS=running");
	return r;
}


/* ---- the loop ---------------------------------------------------------------- */

/* Interfaces come and go (DHCP, containers, VPNs): when the host's
 * addresses changed, the allow entry and the kernel allowlist follow. */
static void refresh_host_addresses(struct agent *a)
{
	struct hostaddrs now;
	char what[512];

	if (hostaddr__list(&now) || hostaddr__equal(&now, &a->host))
		return;
	hostaddr__describe_change(&a->host, &now, what, sizeof(what));
	a->host = now;
	if (rules__set_local_allow(&a->rs, HOSTADDR_ALLOW_NAME, a->host.a, a->host.n) ||
	    kmaps__fill_allowlist(a->ld.skel, &a->rs, &a->nallow_keys)) {
		status__error(a, "the host's addresses changed, updating the allowlist failed: %s",
			      strerror(errno));
		return;
	}
	kmaps__prune_allowlist(a->ld.skel, &a->rs);
	log__info("host addresses changed: %s (%zu local addresses)", what, a->host.n);
}

/* Every TICK_MS: the agent's periodic duties, in order. */
static void cron(struct agent *a, uint64_t ticks)
{
	ring_buffer__consume(a->rb);	/* records below the wakeup threshold */
	if (a->pipes_dirty) {
		int n;

		a->pipes_dirty = false;
		n = world__propagate_pipes(a);
		if (n > 0)
			log__debug("tainted %d processes through pipe chains", n);
	}
	corr__tick(a->corr, clock__mono_ns());
	protect__tick(a->prot);
	kmaps__roll_windows(a->ld.skel, &a->rs, &a->budgets, clock__mono_ns());
	a->ticks_since_host += ticks;
	if (a->ticks_since_host * TICK_MS >= HOSTADDR_REFRESH_MS) {
		a->ticks_since_host = 0;
		refresh_host_addresses(a);
	}
	a->ticks_since_ledger += ticks;
	if (a->pin && a->ticks_since_ledger * TICK_MS >= 1000) {
		/* the heartbeat the next agent reads if this one dies */
		a->ticks_since_ledger = 0;
		pin__write_ledger(a->pin, false, &a->rs, a->budgets.window_start);
	}
	enforce__tick(a->enf, clock__mono_ns());
	a->ticks_since_stats += ticks;
	if (a->o->stats_interval_s &&
	    a->ticks_since_stats * TICK_MS >= a->o->stats_interval_s * 1000ull) {
		a->ticks_since_stats = 0;
		status__counters(a, "agent_stats");
	}
	a->ticks_since_fold += ticks;
	if (a->ticks_since_fold * TICK_MS >= 1000) {
		struct timespec now;

		a->ticks_since_fold = 0;
		clock_gettime(CLOCK_REALTIME, &now);
		incidents__flush(a->inc, &now, false);
		if (a->metrics) {
			char *text;
			size_t len = status__metrics(a, &text);

			metrics__publish(a->metrics, text, len);
			free(text);
		}
	}
	a->ticks_since_heartbeat += ticks;
	if (a->o->heartbeat_s && a->ticks_since_heartbeat * TICK_MS >= a->o->heartbeat_s * 1000ull) {
		a->ticks_since_heartbeat = 0;
		status__heartbeat(a);
	}
}

static void on_ring_ready(struct agent *a, int fd)
{
	ring_buffer__consume(a->rb);
}

static void on_signal_ready(struct agent *a, int fd)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		char why[1100];

		if (si.ssi_signo == SIGHUP) {
			output__reopen(a->out);	/* logrotate renamed the file */
			reload_notify(a, why, sizeof(why));
		}
		else
			a->stop = true;
	}
}

static void on_timer_ready(struct agent *a, int fd)
{
	uint64_t exp;

	if (read(fd, &exp, sizeof(exp)) >= 0)
		cron(a, exp);
}

static void on_inotify_ready(struct agent *a, int fd)
{
	int added = protect__handle_inotify(a->prot, bpf_map__fd(a->ld.skel->maps.vg_files));

	if (added > 0)
		log__debug("%d new protected files", added);
}

/* One request on the control socket (ctl.h), answered with one object. */
static void on_ctl_ready(struct agent *a, int fd)
{
	char cmd[CTL_MAX_REQUEST], why[1100];
	struct json j;
	int cfd;

	while ((cfd = ctl__accept(fd, cmd, sizeof(cmd))) != -EAGAIN) {
		if (cfd < 0)
			continue;	/* not root, or nothing asked */
		json__init(&j);
		json__begin_object(&j);
		if (!strcmp(cmd, "reload")) {
			int r = reload_notify(a, why, sizeof(why));

			json__kv_bool(&j, "ok", !r);
			json__kv_str(&j, r ? "error" : "message", why);
		} else if (!strcmp(cmd, "status")) {
			json__free(&j);
			json__init(&j);
			inspect__status(a, &j);
			ctl__reply(cfd, json__cstr(&j), strlen(json__cstr(&j)));
			json__free(&j);
			continue;
		} else if (!strcmp(cmd, "stop") || !strcmp(cmd, "stop unpin")) {
			a->stop = true;
			a->unpin = !strcmp(cmd, "stop unpin");
			json__kv_bool(&j, "ok", true);
			json__kv_str(&j, "message", a->unpin ? "agent stopping, removing its pins" :
				     a->pin ? "agent stopping; its pinned programs keep enforcing" :
				     "agent stopping");
		} else {
			json__kv_bool(&j, "ok", false);
			json__kv_str(&j, "error", "unknown request (expected reload, status or stop)");
		}
		json__end_object(&j);
		ctl__reply(cfd, json__cstr(&j), strlen(json__cstr(&j)));
		json__free(&j);
	}
}

struct handler {
	int fd;
	void (*ready)(struct agent *a, int fd);
};

static int event_loop(struct agent *a)
{
	struct itimerspec its = { .it_interval = { 0, TICK_MS * 1000000L },
				  .it_value = { 0, TICK_MS * 1000000L } };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event evs[8];
	struct handler hs[5];
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	hs[0] = (struct handler){ ring_buffer__epoll_fd(a->rb), on_ring_ready };
	hs[1] = (struct handler){ signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK), on_signal_ready };
	hs[2] = (struct handler){ timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
				  on_timer_ready };
	hs[3] = (struct handler){ a->inotify_fd, on_inotify_ready };
	hs[4] = (struct handler){ a->ctl_fd, on_ctl_ready };
	if (ep < 0 || hs[1].fd < 0 || hs[2].fd < 0 || timerfd_settime(hs[2].fd, 0, &its, NULL)) {
		log__error("event loop setup failed: %s", strerror(errno));
		return -errno;
	}
	for (int i = 0; i < 5; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &hs[i] };

		if (hs[i].fd >= 0)
			epoll_ctl(ep, EPOLL_CTL_ADD, hs[i].fd, &ev);
	}
	while (!a->stop) {
		int n = epoll_wait(ep, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			status__error(a, "epoll_wait failed: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct handler *h = evs[i].data.ptr;

			h->ready(a, h->fd);
		}
	}
	ring_buffer__consume(a->rb);
	close(ep);
	close(hs[1].fd);
	close(hs[2].fd);
	return 0;
}

/* ---- start and stop ------------------------------------------------------------ */

static const char *mode_word(const struct agent_opts *o)
{
	return activity__word(ACT_VOCAB_MODE, o->enforce ? ACT_ENFORCE : ACT_MONITOR);
}

/* Everything the kernel needs before the programs attach. */
static int fill_maps(struct agent *a)
{
	if (kmaps__set_scope(a->ld.skel, a->scope.fd)) {
		log__error("cannot set the scope cgroup: %s", strerror(errno));
		return -1;
	}
	kmaps__fill_exe_allows(a->ld.skel, &a->rs);
	if (kmaps__fill_budgets(a->ld.skel, &a->rs, &a->budgets) ||
	    kmaps__fill_allowlist(a->ld.skel, &a->rs, &a->nallow_keys)) {
		log__error("cannot fill the budget/allowlist maps: %s", strerror(errno));
		return -1;
	}
	/* Watch before scanning: a file created in between is then seen by
	 * one or the other, never by neither. */
	a->inotify_fd = protect__watch(a->prot);
	if (a->inotify_fd < 0)
		log__warn("inotify unavailable (%s): files created later under protected "
			  "directories are found only at restart", strerror(-a->inotify_fd));
	if (protect__scan(a->prot, bpf_map__fd(a->ld.skel->maps.vg_files)) < 0) {
		log__error("scanning protected paths failed: %s", strerror(errno));
		return -1;
	}
	if (protect__skipped(a->prot))
		log__warn("%zu protected files were refused (agent_error lines say which)",
			  protect__skipped(a->prot));
	return 0;
}

/* An agent_error line: what the protect sets match but the table refused,
 * state the kernel could not keep (enforce.c). Never silent. */
static void error_line(void *ctx, const char *msg)
{
	status__error(ctx, "%s", msg);
}

static const char *enforce_set_name(void *ctx, unsigned set)
{
	struct agent *a = ctx;

	return set < a->rs.nsets ? a->rs.sets[set].name : "?";
}

static struct enforce *enforce_open(struct agent *a)
{
	struct enforce_env env = {
		.skel = a->ld.skel, .out = a->out, .budgets = &a->budgets, .rs = &a->rs,
		.enforce = a->o->enforce, .ctx = a, .set_name = enforce_set_name,
		.error = error_line,
	};
	struct enforce *e = enforce__new(&env);

	if (!e)
		log__error("out of memory");
	return e;
}

int agent__run(const struct agent_opts *o)
{
	struct agent a = { .o = o, .scope.fd = -1, .inotify_fd = -1, .ctl_fd = -1 };
	static struct pin pin;
	struct corr_env env;
	char err[512];
	uint64_t t0 = clock__mono_ns();
	int ret = 1, seeded;


	log__set_level(o->verbose ? LOG_DEBUG : LOG_INFO);
	/* a reader of --alerts - going away is a write error to count, not a
	 * death without agent_stop and with enforcement detached */
	signal(SIGPIPE, SIG_IGN);
	json__init(&a.j);

	if (geteuid() != 0) {
		log__error("must run as root (loading BPF programs needs CAP_BPF, CAP_PERFMON "
			   "and CAP_NET_ADMIN; docs/OPERATIONS.md lists the rest): try "
			   "'sudo vigil run'");
		return 1;
	}
	if (load_rules(&a)) {
		ret = 2;
		goto out;
	}
	a.out = output__open_opts(&(struct output_opts){ .sinks = o->alerts, .nsinks = o->nalerts,
							 .labels = o->labels, .nlabels = o->nlabels,
							 .file_gid = o->file_gid, .drain_ms = 5000 },
				  err, sizeof(err));
	if (!a.out) {
		log__error("%s", err);
		ret = 2;
		goto out;
	}
	a.ctl_fd = ctl__listen(o->run_dir, err, sizeof(err));
	if (a.ctl_fd < 0) {
		log__error("%s", err);
		ret = 2;
		goto out;
	}
	if (o->metrics || o->metrics_dir) {
		a.metrics = metrics__open(o->metrics, o->metrics_dir, err, sizeof(err));
		if (!a.metrics) {
			log__error("%s", err);
			ret = 2;
			goto out;
		}
	}
	a.inc = incidents__new(&(struct incident_opts){ .fold_s = o->fold_s,
							.rate_limit = o->rate_limit }, a.out, &a.j);
	if (!a.inc) {
		log__error("out of memory");
		ret = 1;
		goto out;
	}
	if (o->record) {
		a.cap = capture__create(o->record, output__host(a.out),
					mode_word(o), o->file_gid, err, sizeof(err));
		if (!a.cap) {
			log__error("--record %s", err);
			ret = 2;
			goto out;
		}
	}
	if (scope__open(&a.scope, o->cgroup)) {
		ret = 2;
		goto out;
	}
	if (o->pin) {
		if (pin__open(&pin, o->pin_dir ? o->pin_dir : CONFIG_DEFAULT_PIN_DIR, o->run_dir)) {
			ret = 2;
			goto out;
		}
		a.pin = a.ld.pin = &pin;
		a.ld.rs = &a.rs;
	}
	a.ld.test_map_sizes = o->test_map_sizes;
	a.ld.ntest_map_sizes = o->ntest_map_sizes;
	a.ld.test_faults = o->test_faults;
	a.ld.ntest_faults = o->ntest_faults;
	if (loader__open_load(&a.ld, o->enforce, !scope__is_host(&a.scope), o->hooks))
		goto out;
	a.prot = protect__new(&a.rs);
	if (a.prot)
		protect__set_bloom(a.prot, (uint64_t *)a.ld.skel->bss->vg_file_bloom);
	world__corr_env(&a, &env);
	env.emit = on_activity;
	a.corr = corr__new(&env);
	if (!a.prot || !a.corr) {
		log__error("out of memory");
		goto out;
	}
	if (fill_maps(&a) || !(a.enf = enforce_open(&a)))
		goto out;
	a.rb = ring_buffer__new(bpf_map__fd(a.ld.skel->maps.vg_events), on_record, &a, NULL);
	if (!a.rb) {
		log__error("cannot set up the ring buffer: %s", strerror(errno));
		goto out;
	}
	if (loader__attach(&a.ld, a.scope.fd))
		goto out;
	a.tls = tls__open(a.ld.skel);	/* after attach: uprobes bind nothing without send hooks */
	if (a.pin && a.pin->adopted)	/* windows go on where the old agent was */
		for (unsigned i = 0; i < a.pin->old.nsets; i++)
			a.budgets.window_start[i] = a.pin->old.window_start[i];
	seeded = seed__processes(&a);
	log__info("watching %zu protected files in %zu sets, %s mode, scope %s",
		  protect__count(a.prot), a.rs.nsets, mode_word(o),
		  a.scope.path);
	status__start(&a, seeded, (clock__mono_ns() - t0) / 1e6);
	if (a.pin) {
		if (a.pin->found)
			status__adopt(&a);
		pin__write_ledger(a.pin, false, &a.rs, a.budgets.window_start);
	}
	protect__set_reporter(a.prot, error_line, &a);	/* after agent_start */
	protect__tick(a.prot);
	notify__send("READY=1\nSTATUS=running");
	a.started_ns = clock__mono_ns();
	ret = event_loop(&a) ? 1 : 0;
	notify__send("STOPPING=1");
	enforce__stop(a.enf);	/* before detaching: blocked sockets must not drain */
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		incidents__flush(a.inc, &now, true);	/* nothing folded stays unsaid */
	}
	status__counters(&a, "agent_stop");
out:
	if (a.pin && a.unpin) {
		pin__remove(a.pin->dir, o->run_dir);
		log__info("pins removed: enforcement stops with this agent");
	} else if (a.pin && a.ld.nlinks) {
		pin__write_ledger(a.pin, true, &a.rs, a.budgets.window_start);
		log__info("pinned programs in %s keep enforcing ('vigil stop --unpin' removes "
			  "them)", a.pin->dir);
	}
	if (a.ctl_fd >= 0) {
		ctl__unlink(o->run_dir);
		close(a.ctl_fd);
	}
	ring_buffer__free(a.rb);
	enforce__free(a.enf);
	tls__close(a.tls);
	loader__destroy(&a.ld);
	kmaps__unmap_budgets(&a.budgets);
	corr__free(a.corr);
	protect__free(a.prot);
	scope__close(&a.scope);
	metrics__close(a.metrics);
	incidents__free(a.inc);
	output__close(a.out);
	if (capture__close(a.cap))
		log__error("--record %s: closing the capture failed", o->record);
	engine__free(a.engine);
	rules__free(&a.rs);
	inspect__free(&a);
	json__free(&a.j);
	return ret;
}
