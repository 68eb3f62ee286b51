// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's lifecycle, in order, each step checked:
 *   rules (agent_rules.c) -> control socket (control.c) -> alert stream,
 *   incidents, capture, metrics (agent_out.c) -> scope cgroup -> pins
 *   (persist.c) -> open, configure, load (loader.c) -> fill maps (scope,
 *   budgets, allowlist, protected files: agent_rules.c, kmaps.c, protect.c)
 *   -> ring buffer -> budget windows and spent budgets kept (persist.c) ->
 *   attach -> TLS uprobes (tls.c) -> seed processes that already hold
 *   weights (seed.c) -> agent_start -> event loop -> agent_stop.
 * agent_start is written only after everything is attached and filled: from
 * then on nothing is missed.
 *
 * The loop dispatches each ready fd to its handler (ring buffer records to
 * the live pipeline, live.c; signals; timer; inotify; control socket,
 * control.c); the timer runs cron(), the list of periodic duties.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent_out.h"
#include "agent_rules.h"
#include "clock.h"
#include "context.h"
#include "control.h"
#include "correlate.h"
#include "enforce.h"
#include "shmmaps.h"
#include "mapsize.h"
#include "engine.h"
#include "incident.h"
#include "inspect.h"
#include "live.h"
#include "log.h"
#include "notify.h"
#include "output.h"
#include "persist.h"
#include "protect.h"
#include "seed.h"
#include "status.h"
#include "tls.h"
#include "pin.h"
#include "privs.h"
#include "watch.h"
#include "world.h"
#include "vigil.skel.h"

#define TICK_MS 100
#define HOSTADDR_REFRESH_MS 2000

/* ---- reload ------------------------------------------------------------------ */

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

	if (agent_rules__build(a->o, &a->host, &nrs, budgets, err, sizeof(err)))
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
	agent_rules__refresh_mounts(a, true);
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
int agent__reload(struct agent *a, char *why, size_t whylen)
{
	int r;

	notify__send("RELOADING=1");
	r = reload(a, why, whylen);
	notify__send(r ? "READY=1\nSTATUS=reload refused, the running rules stay" :
		     "READY=1\nSTATUS=running");
	return r;
}

/* ---- the loop ---------------------------------------------------------------- */

/* Adds ticks to *since; true (and starts it again) once period_ms has
 * passed. period_ms 0: never. */
static bool due(uint64_t *since, uint64_t ticks, uint64_t period_ms)
{
	*since += ticks;
	if (!period_ms || *since * TICK_MS < period_ms)
		return false;
	*since = 0;
	return true;
}

static void flush_incidents(struct agent *a, bool final)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	incidents__flush(a->inc, &now, final);
}

static void on_relinked(void *ctx, const char *prog, int err)
{
	struct agent *a = ctx;

	if (err)
		status__error(a, "program %s was detached from the cgroup by another process and "
			      "cannot be attached again: %s (its hook is blind until the agent "
			      "restarts)", prog, strerror(-err));
	else
		status__error(a, "program %s was detached from the cgroup by another process: "
			      "attached again (agent_tamper names who)", prog);
	a->links_reattached += !err;
}

/* Every TICK_MS: the agent's periodic duties, in order. */
static void cron(struct agent *a, uint64_t ticks)
{
	ring_buffer__consume(a->rb);	/* records below the wakeup threshold */
	loader__relink(&a->ld, a->scope.fd, on_relinked, a);	/* first: enforcement */
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
	if (due(&a->ticks_since_host, ticks, HOSTADDR_REFRESH_MS))
		agent_rules__refresh_host(a);
	agent_rules__refresh_mounts(a, false);
	/* the heartbeat the next agent reads if this one dies */
	if (due(&a->ticks_since_ledger, ticks, 1000)) {
		persist__tick(a);
		watch__refresh(a->ld.skel);	/* replaced config files' inodes */
	}
	enforce__tick(a->enf, clock__mono_ns());
	if (due(&a->ticks_since_stats, ticks, a->o->stats_interval_s * 1000ull))
		status__counters(a, "agent_stats");
	if (due(&a->ticks_since_fold, ticks, 1000)) {
		flush_incidents(a, false);	/* folded repeats go out */
		status__publish_metrics(a);
	}
	if (due(&a->ticks_since_heartbeat, ticks, a->o->heartbeat_s * 1000ull))
		status__heartbeat(a);
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
			agent__reload(a, why, sizeof(why));
		}
		else {
			a->stop = true;
			a->stop_signal = si.ssi_signo;	/* agent_stop says who */
			a->stop_pid = si.ssi_pid;
		}
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

	if (added > 0) {
		log__debug("%d new protected files", added);
		watch__disks(a->ld.skel);	/* they may live on another disk */
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
	hs[4] = (struct handler){ a->ctl_fd, control__answer };
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

int agent__run(const struct agent_opts *o)
{
	struct agent a = { .o = o, .scope.fd = -1, .inotify_fd = -1, .mountinfo_fd = -1, .ctl_fd = -1 };
	struct corr_env env;
	uint64_t t0 = clock__mono_ns();
	int ret = 1, seeded, err;

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
	if (agent_rules__load(&a)) {
		ret = 2;
		goto out;
	}
	if (control__open(&a)) {
		ret = 2;
		goto out;
	}
	ret = agent_out__open(&a);	/* 0, or the exit status */
	if (ret)
		goto out;
	ret = 1;	/* from here on a failure is a runtime one */
	if (o->kube_pods_dir)
		context__set_pods_dir(o->kube_pods_dir);
	if (scope__open(&a.scope, o->cgroup)) {
		ret = 2;
		goto out;
	}
	if (persist__open(&a)) {
		ret = 2;
		goto out;
	}
	a.ld.relay_min_bytes = o->relay_min_bytes;
	a.ld.map_sizes = o->map_sizes;
	a.ld.nmap_sizes = o->nmap_sizes;
	a.ld.test_map_sizes = o->test_map_sizes;
	a.ld.work_limit = o->work_budget;
	a.ld.deny_new_dest = o->deny_new_dest;
	a.ld.ntest_map_sizes = o->ntest_map_sizes;
	a.ld.test_faults = o->test_faults;
	a.ld.ntest_faults = o->ntest_faults;
	if (loader__open_load(&a.ld, o->enforce, !scope__is_host(&a.scope), o->hooks))
		goto out;
	{
		char sizes[512];

		mapsize__describe(a.ld.skel, sizes, sizeof(sizes));
		log__info("state maps: %s", sizes);
	}
	a.prot = protect__new(&a.rs);
	if (a.prot && a.ld.files_capacity)
		protect__set_capacity(a.prot, a.ld.files_capacity);
	if (a.prot)
		protect__set_bloom(a.prot, (uint64_t *)a.ld.skel->bss->vg_file_bloom);
	if (a.prot)
		protect__set_shm_flag(a.prot, &a.ld.skel->bss->vg_shm_files);
	world__corr_env(&a, &env);
	env.emit = live__on_activity;
	a.corr = corr__new(&env);
	if (!a.prot || !a.corr) {
		log__error("out of memory");
		goto out;
	}
	if (agent_rules__fill_maps(&a))
		goto out;
	a.shmm = shmmaps__new(a.ld.skel);	/* NULL: not loaded here */
	a.enf = world__enforce(&a);
	if (!a.enf) {
		log__error("out of memory");
		goto out;
	}
	a.rb = ring_buffer__new(bpf_map__fd(a.ld.skel->maps.vg_events), live__on_record, &a, NULL);
	if (!a.rb) {
		log__error("cannot set up the ring buffer: %s", strerror(errno));
		goto out;
	}
	persist__restore(&a);
	kmaps__budget_low(a.ld.skel, &a.budgets, a.rs.nsets);	/* spent restored */
	if (loader__attach(&a.ld, a.scope.fd))
		goto out;
	/* after attach: the pin directory has all its subdirectories */
	watch__fill(a.ld.skel, o, a.ld.pin ? a.ld.pin->dir : NULL);
	a.tls = tls__open(a.ld.skel);	/* after attach: uprobes bind nothing without send hooks */
	seeded = seed__processes(&a);
	log__info("watching %zu protected files in %zu sets, %s mode, scope %s",
		  protect__count(a.prot), a.rs.nsets, mode_word(o),
		  a.scope.path);
	/* loaded and attached: the one capability only the load needed goes */
	if ((err = privs__drop_sys_admin()))
		log__warn("cannot drop CAP_SYS_ADMIN: %s", strerror(-err));
	status__start(&a, seeded, (clock__mono_ns() - t0) / 1e6);
	persist__started(&a);
	protect__set_reporter(a.prot, status__error_line, &a);	/* after agent_start */
	protect__tick(a.prot);
	agent_out__wait_start(&a);
	notify__send("READY=1\nSTATUS=running");
	a.started_ns = clock__mono_ns();
	ret = event_loop(&a) ? 1 : 0;
	notify__send("STOPPING=1");
	enforce__stop(a.enf);	/* before detaching: blocked sockets must not drain */
	flush_incidents(&a, true);	/* nothing folded stays unsaid */
	status__counters(&a, "agent_stop");
	persist__stop(&a);
out:
	persist__close(&a);
	control__close(&a);
	ring_buffer__free(a.rb);
	enforce__free(a.enf);
	shmmaps__free(a.shmm);
	tls__close(a.tls);
	loader__destroy(&a.ld);
	kmaps__unmap_budgets(&a.budgets);
	corr__free(a.corr);
	protect__free(a.prot);
	scope__close(&a.scope);
	agent_out__close(&a);
	engine__free(a.engine);
	rules__free(&a.rs);
	inspect__free(&a);
	json__free(&a.j);
	return ret;
}
