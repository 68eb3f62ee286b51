// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent_rules.h"
#include "engine.h"
#include "log.h"
#include "protect.h"
#include "status.h"
#include "vigil.skel.h"

#define DEFAULT_BUDGET (1ull << 20)

/* Default pack, --rules, then the command line: the whole ruleset, all or
 * nothing, and each set's budget. Used at start and on SIGHUP. */
int agent_rules__build(const struct agent_opts *o, const struct hostaddrs *host,
		       struct ruleset *rs, unsigned long long *budgets, char *err,
		       size_t errlen)
{
	struct rules_sources src = {
		.no_default_rules = o->no_default_rules, .paths = o->rules, .npaths = o->nrules,
		.protect = o->protect, .nprotect = o->nprotect, .allow = o->allow,
		.nallow = o->nallow, .serve = o->serve, .nserve = o->nserve,
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

int agent_rules__load(struct agent *a)
{
	char err[1024];

	hostaddr__set_resolv_conf(a->o->resolv_conf);
	if (hostaddr__list(&a->host))
		log__warn("cannot list the host's addresses (%s): connections to them count "
			  "as egress", strerror(errno));
	if (agent_rules__build(a->o, &a->host, &a->rs, a->budgets.limit, err, sizeof(err))) {
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

/* Everything the kernel needs before the programs attach. */
int agent_rules__fill_maps(struct agent *a)
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
	agent_rules__refresh_mounts(a, true);
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

/* Interfaces come and go (DHCP, containers, VPNs): when the host's
 * addresses changed, the allow entry and the kernel allowlist follow. */
void agent_rules__refresh_host(struct agent *a)
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

/* mountinfo reports a mount or unmount as POLLPRI (proc(5): poll itself
 * re-arms it); the file is read
 * only while an allow entry names mounts. A mount made since the last
 * tick is charged until this runs (at most TICK_MS): fail closed. */
void agent_rules__refresh_mounts(struct agent *a, bool always)
{
	struct pollfd p;
	int n;

	if (a->mountinfo_fd == -1) {	/* first call (-2: could not open: not polled) */
		a->mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
		if (a->mountinfo_fd < 0) {
			a->mountinfo_fd = -2;
			log__warn("allow: cannot poll /proc/self/mountinfo (%s): mounts made later "
				  "are allowed only at a reload", strerror(errno));
		}
		always = true;
	}
	if (!always && a->mountinfo_fd < 0)
		return;
	if (!always) {
		p = (struct pollfd){ .fd = a->mountinfo_fd, .events = POLLPRI };
		if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLPRI | POLLERR)))
			return;
	}
	n = kmaps__fill_netfs_allows(a->ld.skel, &a->rs, NULL);
	if (n < 0) {
		status__error(a, "allow: reading the mounts failed, network-filesystem mounts "
			      "the allow entries name stay as they were: %s", strerror(-n));
		return;
	}
	if (n != a->netfs_allowed)
		log__info("allow: %d network-filesystem mounts allowed (allow entries' mount)", n);
	a->netfs_allowed = n;
}
