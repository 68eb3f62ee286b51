/* SPDX-License-Identifier: GPL-2.0 */
/* `vigil run`: load and attach the BPF programs, fill the maps from the
 * rules, and run the event loop until SIGINT/SIGTERM. */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "activity.h"
#include "hostaddr.h"
#include "json.h"
#include "kmaps.h"
#include "loader.h"
#include "rules.h"
#include "scope.h"

struct agent_opts {
	const char **protect;	size_t nprotect;
	const char **allow;	size_t nallow;
	const char **serve;	size_t nserve;	/* --serve PORT */
	const char **rules;	size_t nrules;
	const char **bypass_devices;	size_t nbypass_devices;	/* char devices (watch.h) */
	bool enforce;
	bool deny_new_dest;		/* enforce: refuse tainted connects to new destinations */
	unsigned long long budget;	/* valid if has_budget */
	bool has_budget;
	/* --propagate-min-bytes (--relay-min-bytes): tainted bytes a local
	 * relay connection, a pipe/FIFO or a unix socket carries (for the
	 * latter: weights-shaped ones) before its receiver is tainted
	 * (lib/relay.bpf.h, lib/taint.bpf.h); 0: VIGIL_PROPAGATE_MIN_BYTES */
	unsigned long long relay_min_bytes;
	unsigned long long work_budget;	/* work-class bytes per destination and hour, 0: none */
	const char *resolv_conf;	/* the host's nameservers (hostaddr.h), or NULL */
	const char **alerts;	size_t nalerts;	/* sink specs (sink.h); none: stdout */
	const char **labels;	size_t nlabels;	/* KEY=VALUE on every record */
	const char *record;		/* capture of correlated activity, or NULL */
	gid_t file_gid;			/* group of alerts/capture files; (gid_t)-1: none */
	const char *cgroup;		/* NULL = whole host */
	bool no_default_rules;
	unsigned stats_interval_s;	/* 0 = only at stop */
	const char *run_dir;		/* control socket and state */
	bool pin;			/* pinned enforcement (pin.h) */
	const char *pin_dir;
	const char *config;		/* the settings file read, or NULL */
	unsigned heartbeat_s;		/* 0 = none */
	unsigned fold_s;		/* incident updates at most this often; 0 = no folding */
	unsigned rate_limit;		/* new incidents per rule a minute; 0 = no limit */
	const char *metrics;		/* ADDR:PORT to serve /metrics on, or NULL */
	const char *metrics_dir;	/* node_exporter textfile directory, or NULL */
	const char *kube_pods_dir;	/* kubelet's pod directory (context.h), NULL: default */
	const char *state_file;		/* spent budgets across reboots (state.h), or NULL */
	bool verbose;
	unsigned hooks;			/* caps.h families allowed, 0 = all */
	/* tests only: shrink maps, inject faults (enforce.h) */
	const char **map_sizes;		size_t nmap_sizes;
	const char **test_map_sizes;	size_t ntest_map_sizes;
	const char **test_faults;	size_t ntest_faults;
};

/* Returns the process exit status: 0 on a clean stop, 1 on a runtime
 * failure, 2 on bad configuration. */
int agent__run(const struct agent_opts *o);

/* The running agent's state. agent.c owns it; the modules that act on the
 * agent's behalf (status.c: agent_* lines, world.c: what the correlator and
 * pipe walker reach, seed.c: processes older than the agent, live.c: the
 * pipeline of each record, agent_rules.c: the rules in force, control.c:
 * the control socket) read it. */
#define AGENT_RECENT_ALERTS 16
struct enforce;
struct shmmaps;
struct tls;

struct agent {
	const struct agent_opts *o;
	struct ruleset rs;
	struct budgets budgets;
	struct engine *engine;
	struct loader ld;
	struct enforce *enf;		/* the budget ceiling's agent side */
	struct shmmaps *shmm;		/* shared mappings held at taint */
	struct tls *tls;		/* TLS uprobes (tls.h), NULL: blind */
	struct scope scope;
	struct protect *prot;
	struct corr *corr;
	struct ring_buffer *rb;
	struct output *out;
	struct incidents *inc;
	struct metrics *metrics;	/* NULL without --metrics/--metrics-textfile */
	struct json j;
	struct capture_writer *cap;	/* --record */
	int inotify_fd;			/* protected directories, or -errno */
	int mountinfo_fd;		/* /proc/self/mountinfo, polled for changes; -1 */
	int netfs_allowed;		/* network-filesystem mounts allowed (vg_netfs_allow) */
	int ctl_fd;			/* control socket (ctl.h) */
	size_t nallow_keys;
	unsigned long long rb_bad, reloads, capture_errors;
	unsigned long long tamper_records;	/* ring records the agent handled itself */
	uint64_t ticks_since_stats;	/* cron ticks since the last agent_stats */
	uint64_t ticks_since_ledger;	/* ... since the pin ledger's heartbeat */
	int state_err;			/* the state file's last write error (0: ok) */
	char state_why[320];		/* why it could not be restored, for agent_error */
	char copies_why[PATH_MAX + 200];	/* the copies file's, likewise (copies.h) */
	unsigned copies_restored;	/* copies protected again at start */
	unsigned links_reattached;	/* cgroup links others detached, attached again */
	uint64_t ticks_since_heartbeat, ticks_since_fold;
	uint64_t started_ns;		/* CLOCK_MONOTONIC at agent_start */
	uint64_t lost_at_heartbeat;	/* kernel events_lost at the last heartbeat */
	uint64_t lost_at_alert;		/* ... and at the last alert */
	uint64_t ticks_since_host;	/* cron ticks since the host's addresses were listed */
	struct hostaddrs host;		/* the host's own addresses: local */
	bool pipes_dirty;		/* a taint event arrived: re-walk pipe chains */
	bool stop;
	int stop_signal;		/* what stopped the loop: a signal, 0: vigil stop */
	uint32_t stop_pid;		/* its sender */
	bool unpin;			/* vigil stop --unpin: remove the pins at stop */
	struct pin *pin;		/* or NULL */
	char *recent_alerts[AGENT_RECENT_ALERTS];	/* vigil status; ring */
	unsigned recent_next;
	struct activity act;		/* the one being handled */
	char pname[64];
};

/* SIGHUP, `vigil reload`: validate the whole new ruleset first, then
 * touch the kernel maps (additions before removals) and swap the engine;
 * systemd hears RELOADING=1 before, READY=1 after. 0, or -EINVAL with the
 * running rules kept; why says which, for the control socket's answer. */
int agent__reload(struct agent *a, char *why, size_t whylen);

#endif
