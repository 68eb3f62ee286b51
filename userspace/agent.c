// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's lifecycle, in order, each step checked:
 *   rules -> output -> scope cgroup -> open skeleton -> configure -> load ->
 *   fill maps (scope, budgets, allowlist, protected files) -> ring buffer ->
 *   attach -> seed processes that already hold weights -> agent_start ->
 *   event loop (ring buffer, signals, timer, inotify) -> agent_stop.
 * agent_start is written only after everything is attached and filled: from
 * then on nothing is missed.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "correlate.h"
#include "log.h"
#include "output.h"
#include "pipes.h"
#include "proc.h"
#include "protect.h"
#include "report.h"
#include "capture.h"
#include "engine.h"
#include "enforce.h"
#include "glob.h"
#include "addr.h"
#include "rules.h"
#include "vigil.h"
#include "vigil.skel.h"

#define TICK_MS 100
#define DEFAULT_BUDGET (1ull << 20)

struct agent {
	const struct agent_opts *o;
	struct ruleset rs;
	struct output *out;
	struct vigil_bpf *skel;
	struct ring_buffer *rb;
	struct protect *prot;
	struct corr *corr;
	struct json j;
	int scope_fd;
	char cg_mount[PATH_MAX];
	char scope_path[PATH_MAX];	/* relative to the cgroup2 mount ("/" = host) */
	int inotify_fd;			/* protected directories, or -errno */
	struct bpf_link *links[32];
	int nlinks;
	const char *attached[32];
	const char *skipped[32];
	int nskipped;
	unsigned long long budgets[VIGIL_MAX_SETS];
	size_t nallow_keys;
	unsigned long long rb_bad;
	bool pipes_dirty;	/* a taint event arrived: re-walk pipe chains */
	bool stop;
	struct engine *engine;
	struct enforce *enf;		/* budget ceiling: enforce.h */
	struct capture_writer *cap;	/* --record */
	struct activity act;		/* the one being handled */
	char pname[64];
	unsigned long long reloads, capture_errors;
	uint64_t window_start[VIGIL_MAX_SETS];	/* CLOCK_MONOTONIC ns */
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && log__level() > LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log__level() > LOG_INFO)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- environment for the correlator -------------------------------------- */

static const char *env_file_path(void *ctx, uint32_t id)
{
	struct agent *a = ctx;

	return protect__path(a->prot, id);
}

static uint32_t env_file_sets(void *ctx, uint32_t id)
{
	struct agent *a = ctx;

	if (id >= VIGIL_COPY_ID_BASE) {
		uint32_t m = protect__copy_mask(a->prot, id);

		return m ? m : ~0u;
	}
	const char *path = protect__path(a->prot, id);
	struct stat st;
	uint32_t mask = 0;

	if (path && !stat(path, &st))
		protect__lookup(a->prot, protect__kdev(st.st_dev), st.st_ino, &mask);
	return mask ? mask : ~0u;
}

static const char *env_set_name(void *ctx, unsigned bit)
{
	struct agent *a = ctx;

	return bit < a->rs.nsets ? a->rs.sets[bit].name : "?";
}

static int64_t env_bytes_read(void *ctx, uint32_t tgid, uint32_t file_id)
{
	struct agent *a = ctx;
	struct vigil_read_key k = { .tgid = tgid, .file_id = file_id };
	struct vigil_read_progress v;

	if (bpf_map__lookup_elem(a->skel->maps.vg_reads, &k, sizeof(k), &v, sizeof(v), 0))
		return -1;
	return (int64_t)(v.pages << 12);
}

static int env_proc_read(void *ctx, uint32_t pid, struct proc_info *out)
{
	return proc__read(pid, out);
}

static bool pid_in_scope(struct agent *a, pid_t pid)
{
	char cg[PATH_MAX];
	size_t n = strlen(a->scope_path);

	if (!strcmp(a->scope_path, "/"))
		return true;
	if (proc__cgroup_path(pid, cg, sizeof(cg)))
		return false;
	return !strncmp(cg, a->scope_path, n) && (cg[n] == 0 || cg[n] == '/');
}

/* Agent-side kill, for a blocked sender the kernel could not kill in its
 * own context. pidfd + start time: never a reused pid, never out of scope. */
static int env_kill(void *ctx, uint32_t pid, unsigned long long start_ticks)
{
	struct agent *a = ctx;
	unsigned long long now_ticks;
	int pfd, err = 0;

	if ((pid_t)pid == getpid() || !pid_in_scope(a, pid))
		return -EPERM;
	pfd = syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return -errno;
	if (proc__start_ticks(pid, &now_ticks) || (start_ticks && now_ticks != start_ticks))
		err = -ESRCH;
	else if (syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0))
		err = -errno;
	close(pfd);
	return err;
}

/* ---- alert lines ----------------------------------------------------------- */

static void emit_error(struct agent *a, const char *fmt, ...)
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

static const char *env_comm_of(void *ctx, uint32_t pid)
{
	struct agent *a = ctx;
	char path[64];
	FILE *f;

	a->pname[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(a->pname, sizeof(a->pname), f))
			a->pname[strcspn(a->pname, "\n")] = '\0';
		fclose(f);
	}
	return a->pname;
}

static bool same_file(const char *path, const struct vigil_ev_copy *e)
{
	struct stat st;

	return !stat(path, &st) && protect__kdev(st.st_dev) == e->dev && st.st_ino == e->ino;
}

/* The kernel sent the dentry names up to the filesystem's root: join them,
 * then place them under each mount of that filesystem until one is it. */
static void copy_path_from_names(const struct vigil_ev_copy *e, char *out, size_t len)
{
	char rel[PATH_MAX] = "", cand[PATH_MAX], line[4096];
	unsigned maj = (unsigned)(e->dev >> 20), min = (unsigned)(e->dev & 0xfffff);
	size_t off = 0;
	FILE *f;

	for (int i = (int)e->nnames - 1; i >= 0 && i < VIGIL_COPY_NAMES; i--) {
		char name[VIGIL_COPY_NAME_LEN + 1];

		snprintf(name, sizeof(name), "%.*s", VIGIL_COPY_NAME_LEN, e->names[i]);
		if (!strcmp(name, "/") || !name[0])
			continue;
		off += snprintf(rel + off, off < sizeof(rel) ? sizeof(rel) - off : 0, "/%s", name);
	}
	if (!rel[0])
		return;
	if (same_file(rel, e)) {
		snprintf(out, len, "%s", rel);
		return;
	}
	f = fopen("/proc/self/mountinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned a, b;
		char root[PATH_MAX], mnt[PATH_MAX];

		/* id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*u %*u %u:%u %4095s %4095s", &a, &b, root, mnt) != 4 ||
		    a != maj || b != min)
			continue;
		if (snprintf(cand, sizeof(cand), "%s%s", strcmp(mnt, "/") ? mnt : "", rel) >=
		    (int)sizeof(cand))
			continue;
		if (same_file(cand, e)) {
			snprintf(out, len, "%s", cand);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* Name a file the kernel just protected because a tainted process wrote
 * it: the writer usually still has it open; if not, the kernel's names. */
static void env_file_copied(void *ctx, const struct vigil_ev_copy *e)
{
	struct agent *a = ctx;
	char dir[64], path[PATH_MAX] = "", link[PATH_MAX + 80];
	struct dirent *d;
	DIR *dh;

	snprintf(dir, sizeof(dir), "/proc/%u/fd", e->hdr.tgid);
	dh = opendir(dir);
	while (dh && (d = readdir(dh))) {
		struct stat st;
		ssize_t n;

		snprintf(link, sizeof(link), "%s/%s", dir, d->d_name);
		if (d->d_name[0] == '.' || stat(link, &st) || !S_ISREG(st.st_mode) ||
		    protect__kdev(st.st_dev) != e->dev || st.st_ino != e->ino)
			continue;
		n = readlink(link, path, sizeof(path) - 1);
		path[n > 0 ? n : 0] = '\0';
		break;
	}
	if (dh)
		closedir(dh);
	if (!path[0])
		copy_path_from_names(e, path, sizeof(path));
	if (!path[0])
		snprintf(path, sizeof(path), "(file %llu:%llu written by pid %u)",
			 (unsigned long long)e->dev, (unsigned long long)e->ino, e->hdr.tgid);
	protect__add_copy(a->prot, e->file_id, e->dev, e->ino, e->set_mask, path);
	log__info("%s: written by tainted pid %u, protected from now on", path, e->hdr.tgid);
}

static int fx_kill(void *ctx, const struct activity *act)
{
	return env_kill(ctx, act->proc.pid, act->proc.start_ticks);
}

/* block: from now on the kernel refuses every non-loopback destination to
 * this process and drops its packets, allowlisted or not. */
static int fx_block(void *ctx, const struct activity *act)
{
	struct agent *a = ctx;
	__u32 tgid = act->proc.pid, one = 1;

	if (!pid_in_scope(a, act->proc.pid))
		return -EPERM;
	return bpf_map__update_elem(a->skel->maps.vg_blocked, &tgid, sizeof(tgid), &one,
				    sizeof(one), BPF_ANY) ? -errno : 0;
}

static void on_hit(void *ctx, const struct activity *act, const struct rule_hit *h)
{
	struct agent *a = ctx;

	report__alert(a->out, &a->j, act, h);
}

static void env_emit(void *ctx, const struct activity *in)
{
	struct agent *a = ctx;
	struct engine_effects fx = { .ctx = a, .kill = fx_kill, .block = fx_block };
	struct activity *act = &a->act;

	*act = *in;
	clock_gettime(CLOCK_REALTIME, &act->time);
	act->host = output__host(a->out);
	act->allowed = rules__dest_allowed(&a->rs, act->af, act->daddr_raw, act->dport,
					     act->proc.exe);
	activity__finish(act);
	if (a->cap && capture__write(a->cap, act)) {
		a->capture_errors++;
		if (a->capture_errors == 1)
			emit_error(a, "--record %s: write failed; the capture is incomplete",
				   a->o->record);
	}
	engine__eval(a->engine, act, &fx, on_hit, a);
}

/* ---- kernel counters and stats ---------------------------------------------- */

static void read_counters(struct agent *a, struct vigil_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vigil_counters *per;
	__u32 zero = 0;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0 || !(per = calloc(ncpu, sizeof(*per))))
		return;
	if (!bpf_map__lookup_elem(a->skel->maps.vg_counters, &zero, sizeof(zero), per,
				  ncpu * sizeof(*per), 0)) {
		for (int i = 0; i < ncpu; i++) {
			__u64 *d = (__u64 *)sum, *s = (__u64 *)&per[i];

			for (size_t f = 0; f < sizeof(*sum) / sizeof(__u64); f++)
				d[f] += s[f];
		}
	}
	free(per);
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

static void emit_stats(struct agent *a, const char *kind)
{
	struct vigil_counters k;
	struct corr_stats cs;
	struct json *j = &a->j;
	struct rusage ru;

	read_counters(a, &k);
	corr__stats(a->corr, &cs);
	getrusage(RUSAGE_SELF, &ru);
	output__begin(a->out, j, kind);
	json__key(j, "kernel");
	json__begin_object(j);
	json__kv_uint(j, "events_sent", k.events_sent);
	json__kv_uint(j, "events_lost", k.events_lost);
	json__kv_uint(j, "taint_map_full", k.taint_map_full);
	json__kv_uint(j, "flow_map_full", k.flow_map_full);
	json__kv_uint(j, "pipe_map_full", k.pipe_map_full);
	json__kv_uint(j, "fd_scan_truncated", k.fd_scan_truncated);
	json__kv_uint(j, "packets_dropped", k.packets_dropped);
	json__kv_uint(j, "connects_denied", k.connects_denied);
	json__kv_uint(j, "kills", k.kills);
	enforce__json_counters(a->enf, j);
	json__end_object(j);
	json__key(j, "agent");
	json__begin_object(j);
	json__kv_uint(j, "records", cs.records);
	json__kv_uint(j, "bad_records", cs.bad_records + a->rb_bad);
	{
		struct engine_stats es;

		engine__stats(a->engine, &es);
		json__kv_uint(j, "activities", cs.activities);
		json__kv_uint(j, "alerts", es.hits);
		json__kv_uint(j, "suppressed_repeats", cs.suppressed + es.suppressed);
		json__kv_uint(j, "rule_action_failures", es.action_failures);
		json__kv_uint(j, "rules", engine__rule_count(a->engine));
		json__kv_uint(j, "reloads", a->reloads);
		json__kv_uint(j, "capture_errors", a->capture_errors);
		json__kv_uint(j, "copies_protected", protect__copies(a->prot));
	}
	json__kv_uint(j, "tracked_processes", cs.tracked);
	json__kv_uint(j, "tainted_processes", cs.live);
	json__kv_uint(j, "agent_kills", cs.agent_kills);
	json__kv_uint(j, "protected_files", protect__count(a->prot));
	json__kv_uint(j, "protected_files_skipped", protect__skipped(a->prot));
	json__kv_uint(j, "max_rss_kib", own_peak_rss_kib(ru.ru_maxrss));
	json__kv_uint(j, "cpu_user_us", ru.ru_utime.tv_sec * 1000000ull + ru.ru_utime.tv_usec);
	json__kv_uint(j, "cpu_sys_us", ru.ru_stime.tv_sec * 1000000ull + ru.ru_stime.tv_usec);
	json__kv_uint(j, "output_write_errors", output__write_errors(a->out));
	json__end_object(j);
	output__emit(a->out, j);
}

/* ---- setup steps ------------------------------------------------------------ */

/* Default pack, --rules, then the command line: the whole ruleset, all or
 * nothing. Used at start and on SIGHUP. */
static int build_rules(const struct agent_opts *o, struct ruleset *rs,
		       unsigned long long *budgets, char *err, size_t errlen)
{
	rules__init(rs);
	if (!o->no_default_rules && rules__load_defaults(rs, err, errlen))
		goto bad;
	for (size_t i = 0; i < o->nrules; i++)
		if (rules__load_path(rs, o->rules[i], err, errlen))
			goto bad;
	for (size_t i = 0; i < o->nprotect; i++)
		if (rules__add_cli_protect(rs, o->protect[i], err, errlen))
			goto bad;
	for (size_t i = 0; i < o->nallow; i++)
		if (rules__add_cli_allow(rs, o->allow[i], err, errlen))
			goto bad;
	for (size_t s = 0; s < rs->nsets; s++) {
		const struct protect_set *set = &rs->sets[s];

		budgets[s] = o->has_budget ? o->budget :
			     set->has_budget ? set->budget :
			     rs->has_default_budget ? rs->default_budget : DEFAULT_BUDGET;
	}
	return 0;
bad:
	rules__free(rs);
	return -EINVAL;
}

static int load_rules(struct agent *a)
{
	char err[1024];

	if (build_rules(a->o, &a->rs, a->budgets, err, sizeof(err))) {
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

static int open_scope(struct agent *a)
{
	char full[PATH_MAX * 2], real_mount[PATH_MAX], real_cg[PATH_MAX];
	const char *cg = a->o->cgroup;
	size_t n;

	if (proc__cgroup2_mount(a->cg_mount, sizeof(a->cg_mount))) {
		log__error("no cgroup v2 hierarchy is mounted (see /proc/mounts): vigil "
			   "attaches its socket programs to cgroup v2; mount it with "
			   "'mount -t cgroup2 none /sys/fs/cgroup/unified'");
		return -ENOENT;
	}
	if (!realpath(a->cg_mount, real_mount))
		snprintf(real_mount, sizeof(real_mount), "%s", a->cg_mount);
	if (!cg || !*cg) {
		snprintf(full, sizeof(full), "%s", real_mount);
	} else if (cg[0] == '/' && !strncmp(cg, real_mount, strlen(real_mount))) {
		snprintf(full, sizeof(full), "%s", cg);
	} else {
		snprintf(full, sizeof(full), "%s/%s", real_mount, cg[0] == '/' ? cg + 1 : cg);
	}
	if (!realpath(full, real_cg)) {
		log__error("--cgroup %s: %s is not a cgroup v2 directory (%s); cgroup v2 is "
			   "mounted at %s", cg, full, strerror(errno), real_mount);
		return -ENOENT;
	}
	n = strlen(real_mount);
	if (strncmp(real_cg, real_mount, n) || (real_cg[n] && real_cg[n] != '/')) {
		log__error("--cgroup %s: not below the cgroup v2 mount %s", cg, real_mount);
		return -EINVAL;
	}
	snprintf(a->scope_path, sizeof(a->scope_path), "%s", real_cg[n] ? real_cg + n : "/");
	a->scope_fd = open(real_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->scope_fd < 0) {
		log__error("--cgroup %s: cannot open %s: %s", cg, real_cg, strerror(errno));
		return -errno;
	}
	return 0;
}

static void ensure_tracefs(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) || !stat("/sys/kernel/debug/tracing/events", &st))
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		log__warn("cannot mount tracefs at /sys/kernel/tracing: %s", strerror(errno));
}

/* Before a tgid enters vg_taint: the hot paths test this bit first. A bit
 * left set for a process that is not in the map only costs a lookup; the
 * kernel clears it at exit. */
static void mark_tainted_bit(struct agent *a, __u32 tgid)
{
	__u32 w = (tgid >> 6) & (VIGIL_TGID_BITS / 64 - 1);

	__atomic_fetch_or(&a->skel->bss->vg_tainted_bits[w], 1ull << (tgid & 63),
			  __ATOMIC_SEQ_CST);
}

/* Programs and whether vigil can work without them. */
struct prog_spec {
	const char *name;
	const char *btf_tp;	/* tp_btf target, probed in kernel BTF */
	bool cgroup;
	bool required;
	const char *loses;	/* what is missing without it */
};

static const struct prog_spec progs[] = {
	{ "vigil_filemap_get_pages", "mm_filemap_get_pages", false, true, NULL },
	{ "vigil_filemap_map_pages", "mm_filemap_map_pages", false, false, "mmap page mapping" },
	{ "vigil_filemap_fault", "mm_filemap_fault", false, false, "mmap page faults" },
	{ "vigil_dirty_folio", "writeback_dirty_folio", false, false,
	  "copies of weights written by tainted processes" },
	{ "vigil_fork", "sched_process_fork", false, true, NULL },
	{ "vigil_exec", "sched_process_exec", false, true, NULL },
	{ "vigil_exit", "sched_process_exit", false, true, NULL },
	{ "vigil_tcp_sendmsg", "tcp_sendmsg_locked", false, true, NULL },
	{ "vigil_sock_send_length", "sock_send_length", false, true, NULL },
	{ "vigil_kfree_skb", "kfree_skb", false, false,
	  "kills in the sender's context at the first drop (the agent kills instead)" },
	{ "vigil_sock_set_state", "inet_sock_set_state", false, false,
	  "budget_breach checks on bytes receivers acknowledged" },
	{ "vigil_connect4", NULL, true, true, NULL },
	{ "vigil_connect6", NULL, true, true, NULL },
	{ "vigil_sendmsg4", NULL, true, true, NULL },
	{ "vigil_sendmsg6", NULL, true, true, NULL },
	{ "vigil_egress", NULL, true, true, NULL },
};

static bool btf_has_tp(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
}

static int open_and_load(struct agent *a)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int err;

	if (!vmlinux) {
		log__error("kernel BTF not found (/sys/kernel/btf/vmlinux): vigil needs a "
			   "kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	a->skel = vigil_bpf__open();
	if (!a->skel) {
		err = -errno;
		btf__free(vmlinux);
		log__error("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	a->skel->rodata->cfg_mode = a->o->enforce ? VIGIL_MODE_ENFORCE : VIGIL_MODE_MONITOR;
	a->skel->rodata->cfg_scoped = strcmp(a->scope_path, "/") != 0;
	a->skel->rodata->cfg_agent_tgid = getpid();

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(a->skel->obj, progs[i].name);

		if (!p)
			continue;
		if (progs[i].btf_tp && !btf_has_tp(vmlinux, progs[i].btf_tp)) {
			if (progs[i].required) {
				log__error("this kernel lacks the %s tracepoint, which vigil needs",
					   progs[i].btf_tp);
				btf__free(vmlinux);
				return -ENOTSUP;
			}
			log__warn("kernel lacks tracepoint %s: without it vigil loses %s",
				  progs[i].btf_tp, progs[i].loses);
			bpf_program__set_autoload(p, false);
			a->skipped[a->nskipped++] = progs[i].name;
		}
	}
	btf__free(vmlinux);
	{
		char kerr[256];

		if (enforce__configure(a->skel, a->o->test_map_sizes, a->o->ntest_map_sizes,
				       a->o->test_faults, a->o->ntest_faults, kerr, sizeof(kerr))) {
			log__error("%s", kerr);
			return -EINVAL;
		}
	}

	err = vigil_bpf__load(a->skel);
	if (err) {
		log__error("loading the BPF programs failed: %s%s", strerror(-err),
			   err == -EPERM ? " (vigil must run as root with CAP_BPF, "
			   "CAP_PERFMON and CAP_NET_ADMIN; BPF LSM/fentry are not needed)" : "");
		return err;
	}
	return 0;
}

/* Set each set's limit; what was already spent stays spent (a reload must
 * not hand out a fresh budget). */
static int fill_budgets(struct agent *a)
{
	return enforce__set_limits(a->enf, a->budgets, a->rs.nsets);
}

static unsigned long long window_of(const struct agent *a, size_t set)
{
	const struct protect_set *s = &a->rs.sets[set];

	return s->has_window ? s->window_s : a->rs.default_window_s;
}

/* Budgets with a window start afresh when it ends. Sockets already blocked
 * stay blocked: their sk_storage flag does not depend on the budget. */
static void roll_budget_windows(struct agent *a, uint64_t now)
{
	for (__u32 s = 0; s < a->rs.nsets; s++) {
		unsigned long long w = window_of(a, s);

		if (!w)
			continue;
		if (!a->window_start[s]) {
			a->window_start[s] = now;
			continue;
		}
		if (now - a->window_start[s] < w * 1000000000ull)
			continue;
		a->window_start[s] = now;
		enforce__roll(a->enf, s);
		log__debug("budget window of set %s restarted", a->rs.sets[s].name);
	}
}

/* An LPM lookup returns only the longest matching prefix, so each prefix's
 * entry carries the port ranges of every prefix that covers it too. */
static bool covers(const struct addr_rule *outer, const struct addr_rule *inner)
{
	unsigned bits = outer->prefix_len;

	if (outer->family != inner->family || outer->prefix_len > inner->prefix_len)
		return false;
	for (unsigned i = 0; i < bits / 8; i++)
		if (outer->addr[i] != inner->addr[i])
			return false;
	if (bits % 8) {
		unsigned char m = 0xff << (8 - bits % 8);

		if ((outer->addr[bits / 8] & m) != (inner->addr[bits / 8] & m))
			return false;
	}
	return true;
}

/* Bit of an exe-scoped allow entry (0: not scoped; -1: too many). */
static long exe_bit(const struct ruleset *rs, size_t entry)
{
	unsigned bit = 0;

	if (!rs->allows[entry].nexes)
		return 0;
	for (size_t i = 0; i < entry; i++)
		bit += rs->allows[i].nexes ? 1 : 0;
	return bit < VIGIL_MAX_EXE_ALLOWS ? (1L << bit) : -1;
}

static int fill_allowlist(struct agent *a)
{
	struct entry { const struct addr_rule *r; __u32 exe_mask; } *all;
	size_t n = 0;
	int err = 0;

	for (size_t i = 0; i < a->rs.nallows; i++)
		n += a->rs.allows[i].naddrs;
	all = calloc(n + 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < a->rs.nallows; i++) {
		long bit = exe_bit(&a->rs, i);

		if (bit < 0) {
			log__warn("allow entry '%s': more than %d entries are scoped to "
				  "executables; it is enforced in userspace only",
				  a->rs.allows[i].name, VIGIL_MAX_EXE_ALLOWS);
			continue;
		}
		for (size_t k = 0; k < a->rs.allows[i].naddrs; k++)
			all[n++] = (struct entry){ &a->rs.allows[i].addrs[k], (__u32)bit };
	}
	for (size_t i = 0; i < n && !err; i++) {
		struct vigil_allow v = { 0 };
		const struct addr_rule *r = all[i].r;

		for (size_t k = 0; k < n; k++) {
			const struct addr_rule *o = all[k].r;
			bool dup = false;

			if (!covers(o, r))
				continue;
			for (unsigned q = 0; q < v.nranges; q++)
				dup |= v.ranges[q].lo == o->port_lo && v.ranges[q].hi == o->port_hi &&
				       v.ranges[q].exe_mask == all[k].exe_mask;
			if (dup)
				continue;
			if (v.nranges == VIGIL_ALLOW_RANGES) {
				log__warn("allowlist: more than %d port ranges cover one prefix; "
					  "extra ranges are ignored", VIGIL_ALLOW_RANGES);
				break;
			}
			v.ranges[v.nranges].lo = o->port_lo;
			v.ranges[v.nranges].hi = o->port_hi;
			v.ranges[v.nranges].exe_mask = all[k].exe_mask;
			v.nranges++;
		}
		if (r->family == AF_INET) {
			struct vigil_lpm4_key k = { .prefixlen = r->prefix_len };

			memcpy(k.addr, r->addr, 4);
			err = bpf_map__update_elem(a->skel->maps.vg_allow4, &k, sizeof(k), &v,
						   sizeof(v), 0);
		} else {
			struct vigil_lpm6_key k = { .prefixlen = r->prefix_len };

			memcpy(k.addr, r->addr, 16);
			err = bpf_map__update_elem(a->skel->maps.vg_allow6, &k, sizeof(k), &v,
						   sizeof(v), 0);
		}
	}
	a->nallow_keys = n;
	free(all);
	return err ? -errno : 0;
}

struct exe_walk {
	struct agent *a;
	__u32 bit;
};

static int on_allowed_exe(const char *path, const struct stat *st, void *ctx)
{
	struct exe_walk *w = ctx;
	struct vigil_file_key k = { .dev = protect__kdev(st->st_dev), .ino = st->st_ino };
	__u32 bits = 0;
	int fd = bpf_map__fd(w->a->skel->maps.vg_allow_exes);

	bpf_map_lookup_elem(fd, &k, &bits);
	bits |= w->bit;
	bpf_map_update_elem(fd, &k, &bits, BPF_ANY);
	return 0;
}

/* Executables of exe-scoped allow entries -> vg_allow_exes, and the running
 * processes that are one of them -> vg_exe_bits (exec and fork keep it up to
 * date from then on). Rebuilt from scratch on reload. */
static void fill_allowed_exes(struct agent *a)
{
	int efd = bpf_map__fd(a->skel->maps.vg_allow_exes);
	int pfd = bpf_map__fd(a->skel->maps.vg_exe_bits);
	struct vigil_file_key k, next;
	bool any = false;
	struct dirent *d;
	__u32 tgid, ntgid;
	DIR *proc;

	while (!bpf_map_get_next_key(efd, NULL, &next))
		bpf_map_delete_elem(efd, &next);
	for (size_t i = 0; i < a->rs.nallows; i++) {
		long bit = exe_bit(&a->rs, i);
		struct exe_walk w = { .a = a, .bit = (__u32)bit };

		if (bit <= 0)
			continue;
		any = true;
		for (size_t g = 0; g < a->rs.allows[i].nexes; g++)
			glob__walk(a->rs.allows[i].exes[g], on_allowed_exe, &w, VIGIL_MAX_ALLOW_EXES);
	}
	while (!bpf_map_get_next_key(pfd, NULL, &ntgid))
		bpf_map_delete_elem(pfd, &ntgid);
	a->skel->bss->vg_have_exe_allow = any;
	if (!any || !(proc = opendir("/proc")))
		return;
	while ((d = readdir(proc))) {
		char path[64];
		struct stat st;
		__u32 bits;

		tgid = (__u32)strtoul(d->d_name, NULL, 10);
		if (!tgid)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/exe", tgid);
		if (stat(path, &st))
			continue;
		k.dev = protect__kdev(st.st_dev);
		k.ino = st.st_ino;
		if (!bpf_map_lookup_elem(efd, &k, &bits))
			bpf_map_update_elem(pfd, &tgid, &bits, BPF_ANY);
	}
	closedir(proc);
}

static int attach_all(struct agent *a)
{
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(a->skel->obj, progs[i].name);
		struct bpf_link *l;

		if (!p || !bpf_program__autoload(p))
			continue;
		l = progs[i].cgroup ? bpf_program__attach_cgroup(p, a->scope_fd)
				    : bpf_program__attach(p);
		if (!l) {
			int err = -errno;

			if (progs[i].required) {
				log__error("attaching %s failed: %s", progs[i].name, strerror(-err));
				return err;
			}
			log__warn("attaching %s failed (%s): vigil loses %s", progs[i].name,
				  strerror(-err), progs[i].loses);
			a->skipped[a->nskipped++] = progs[i].name;
			continue;
		}
		a->attached[a->nlinks] = progs[i].name;
		a->links[a->nlinks++] = l;
	}
	return 0;
}

/* Processes that already hold a protected file open or mapped when vigil
 * starts are tainted now, so a leak begun before the agent is still seen. */
static void seed_one(struct agent *a, pid_t pid, uint64_t kdev, uint64_t ino, int *seeded)
{
	uint32_t mask;
	int id = protect__lookup(a->prot, kdev, ino, &mask);
	struct vigil_taint t = { 0 };
	__u32 tgid = pid;

	if (id <= 0)
		return;
	t.set_mask = mask;
	t.via = VIGIL_VIA_PREEXISTING;
	t.first_file_id = id;
	t.since_ns = now_mono_ns();
	mark_tainted_bit(a, tgid);
	if (bpf_map__update_elem(a->skel->maps.vg_taint, &tgid, sizeof(tgid), &t, sizeof(t),
				 BPF_NOEXIST) == 0)
		(*seeded)++;
	corr__inject(a->corr, pid, 0, VIGIL_VIA_PREEXISTING, id, mask, 0, t.since_ns);
}

static int seed_processes(struct agent *a)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;
	int seeded = 0;

	if (!proc)
		return 0;
	while ((d = readdir(proc))) {
		char path[PATH_MAX], line[1024];
		pid_t pid = atoi(d->d_name);
		struct dirent *fe;
		DIR *fds;
		FILE *maps;

		if (pid <= 0 || pid == getpid() || !pid_in_scope(a, pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		if ((fds = opendir(path))) {
			while ((fe = readdir(fds))) {
				char fp[PATH_MAX];
				struct stat st;

				if (fe->d_name[0] == '.')
					continue;
				snprintf(fp, sizeof(fp), "/proc/%d/fd/%s", pid, fe->d_name);
				if (!stat(fp, &st) && S_ISREG(st.st_mode))
					seed_one(a, pid, protect__kdev(st.st_dev), st.st_ino, &seeded);
			}
			closedir(fds);
		}
		snprintf(path, sizeof(path), "/proc/%d/maps", pid);
		if ((maps = fopen(path, "r"))) {
			while (fgets(line, sizeof(line), maps)) {
				unsigned maj, min;
				unsigned long long ino;

				if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 && ino)
					seed_one(a, pid, ((uint64_t)maj << 20) | min, ino, &seeded);
			}
			fclose(maps);
		}
	}
	closedir(proc);
	return seeded;
}

static bool pe_in_scope(void *ctx, int pid)
{
	return pid_in_scope(ctx, pid);
}

static bool pe_taint_get(void *ctx, uint32_t tgid, uint32_t *mask, uint32_t *depth,
			 uint32_t *file_id)
{
	struct agent *a = ctx;
	struct vigil_taint t;

	if (bpf_map__lookup_elem(a->skel->maps.vg_taint, &tgid, sizeof(tgid), &t, sizeof(t), 0))
		return false;
	*mask = t.set_mask;
	*depth = t.depth;
	*file_id = t.first_file_id;
	return true;
}

static int pe_taint_put(void *ctx, uint32_t tgid, uint32_t from, uint32_t mask,
			uint32_t depth, uint32_t file_id)
{
	struct agent *a = ctx;
	struct vigil_taint t = { .set_mask = mask, .via = VIGIL_VIA_PIPE, .from_tgid = from,
				 .depth = depth, .first_file_id = file_id,
				 .since_ns = now_mono_ns() };

	mark_tainted_bit(a, tgid);
	if (bpf_map__update_elem(a->skel->maps.vg_taint, &tgid, sizeof(tgid), &t, sizeof(t),
				 BPF_NOEXIST))
		return -errno;
	corr__inject(a->corr, tgid, from, VIGIL_VIA_PIPE, file_id, mask, depth, t.since_ns);
	return 0;
}

/* The kernel's pipe marks, keyed by inode pointer and number: looked up by
 * number, which is what /proc shows. */
static bool pe_pipe_mark(void *ctx, uint64_t ino, uint32_t *writer, uint32_t *mask,
			 uint32_t *depth, uint32_t *file_id)
{
	struct agent *a = ctx;
	struct vigil_pipe_key k, *prev = NULL;
	struct vigil_pipe_mark m;
	int fd = bpf_map__fd(a->skel->maps.vg_pipes);

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (k.ino != ino || bpf_map_lookup_elem(fd, &k, &m))
			continue;
		*writer = m.tgid;
		*mask = m.set_mask;
		*depth = m.depth;
		*file_id = m.file_id;
		return true;
	}
	return false;
}

static void propagate_pipes(struct agent *a)
{
	struct pipes_env env = { .ctx = a, .in_scope = pe_in_scope,
				 .taint_get = pe_taint_get, .pipe_mark = pe_pipe_mark,
				 .taint_put = pe_taint_put };
	int n;

	a->pipes_dirty = false;
	n = pipes__propagate(&env, getpid());
	if (n > 0)
		log__debug("tainted %d processes through pipe chains", n);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;
	const struct vigil_ev_header *h = data;

	if (size >= sizeof(*h) && h->type == VIGIL_EV_TAINT)
		a->pipes_dirty = true;

	enforce__on_record(a->enf, data, size);
	if (corr__handle(a->corr, data, size))
		a->rb_bad++;
	return 0;	/* never stop consuming on a bad record */
}

static void emit_start(struct agent *a, int seeded, double startup_ms)
{
	struct json *j = &a->j;

	output__begin(a->out, j, "agent_start");
	json__kv_str(j, "version", VIGIL_VERSION);
	json__kv_str(j, "mode", a->o->enforce ? "enforce" : "monitor");
	json__kv_str(j, "cgroup", a->scope_path);
	json__kv_uint(j, "pid", getpid());
	json__key(j, "sets");
	json__begin_array(j);
	for (size_t s = 0; s < a->rs.nsets; s++) {
		json__begin_object(j);
		json__kv_str(j, "name", a->rs.sets[s].name);
		json__kv_uint(j, "budget_bytes", a->budgets[s]);
		json__key(j, "paths");
		json__begin_array(j);
		for (size_t p = 0; p < a->rs.sets[s].npaths; p++)
			json__string(j, a->rs.sets[s].paths[p]);
		json__end_array(j);
		json__end_object(j);
	}
	json__end_array(j);
	json__kv_uint(j, "protected_files", protect__count(a->prot));
	json__kv_uint(j, "watched_dirs", protect__watches(a->prot));
	json__kv_uint(j, "allow_entries", a->nallow_keys);
	json__kv_uint(j, "preexisting_tainted", seeded);
	json__key(j, "programs");
	json__begin_array(j);
	for (int i = 0; i < a->nlinks; i++)
		json__string(j, a->attached[i]);
	json__end_array(j);
	json__key(j, "programs_unavailable");
	json__begin_array(j);
	for (int i = 0; i < a->nskipped; i++)
		json__string(j, a->skipped[i]);
	json__end_array(j);
	json__key(j, "rule_files");
	json__begin_array(j);
	for (size_t i = 0; i < a->rs.nfiles; i++)
		json__string(j, a->rs.files[i]);
	json__end_array(j);
	json__kv_uint(j, "startup_ms", (unsigned long long)startup_ms);
	output__emit(a->out, j);
}

/* Allow entries the new rules no longer have leave the kernel only after
 * the new ones are in: no moment in which the old and new rules both deny. */
static bool allow_key_wanted(const struct agent *a, int family, unsigned prefix, const void *addr)
{
	for (size_t i = 0; i < a->rs.nallows; i++)
		for (size_t k = 0; k < a->rs.allows[i].naddrs; k++) {
			const struct addr_rule *r = &a->rs.allows[i].addrs[k];

			if (r->family == family && r->prefix_len == prefix &&
			    !memcmp(r->addr, addr, family == AF_INET ? 4 : 16))
				return true;
		}
	return false;
}

static void prune_allowlist(struct agent *a)
{
	struct vigil_lpm6_key k6, next6, *del6 = NULL;
	struct vigil_lpm4_key k4, next4, *del4 = NULL;
	size_t n4 = 0, n6 = 0;
	int fd4 = bpf_map__fd(a->skel->maps.vg_allow4), fd6 = bpf_map__fd(a->skel->maps.vg_allow6);
	void *prev;

	for (prev = NULL; !bpf_map_get_next_key(fd4, prev, &next4); prev = &k4) {
		k4 = next4;
		if (allow_key_wanted(a, AF_INET, k4.prefixlen, k4.addr))
			continue;
		del4 = realloc(del4, (n4 + 1) * sizeof(*del4));
		if (!del4)
			return;
		del4[n4++] = k4;
	}
	for (prev = NULL; !bpf_map_get_next_key(fd6, prev, &next6); prev = &k6) {
		k6 = next6;
		if (allow_key_wanted(a, AF_INET6, k6.prefixlen, k6.addr))
			continue;
		del6 = realloc(del6, (n6 + 1) * sizeof(*del6));
		if (!del6)
			break;
		del6[n6++] = k6;
	}
	for (size_t i = 0; i < n4; i++)
		bpf_map_delete_elem(fd4, &del4[i]);
	for (size_t i = 0; i < n6 && del6; i++)
		bpf_map_delete_elem(fd6, &del6[i]);
	free(del4);
	free(del6);
}

static void emit_reload(struct agent *a, double ms)
{
	struct json *j = &a->j;

	output__begin(a->out, j, "agent_reload");
	json__kv_uint(j, "rules", engine__rule_count(a->engine));
	json__kv_uint(j, "protect_sets", a->rs.nsets);
	json__kv_uint(j, "protected_files", protect__count(a->prot));
	json__kv_uint(j, "allow_entries", a->rs.nallows);
	json__key(j, "rule_files");
	json__begin_array(j);
	for (size_t i = 0; i < a->rs.nfiles; i++)
		json__string(j, a->rs.files[i]);
	json__end_array(j);
	json__kv_uint(j, "reload_ms", (unsigned long long)ms);
	output__emit(a->out, j);
}

/* SIGHUP: validate everything first; only then touch the kernel maps
 * (additions before removals) and swap the engine. Any failure keeps the
 * running rules and says why in an agent_error line. */
static void reload(struct agent *a)
{
	unsigned long long budgets[VIGIL_MAX_SETS] = { 0 };
	uint64_t t0 = now_mono_ns();
	struct ruleset nrs, tmp;
	struct engine *ne;
	char err[1024];

	if (build_rules(a->o, &nrs, budgets, err, sizeof(err))) {
		emit_error(a, "reload refused, the running rules stay: %s", err);
		return;
	}
	ne = engine__new(&nrs, err, sizeof(err));
	if (!ne) {
		emit_error(a, "reload refused, the running rules stay: %s", err);
		rules__free(&nrs);
		return;
	}
	/* taint in the kernel names sets by index: they must keep their places */
	for (size_t i = 0; i < a->rs.nsets; i++) {
		if (i >= nrs.nsets || strcmp(a->rs.sets[i].name, nrs.sets[i].name)) {
			emit_error(a, "reload refused, the running rules stay: protect set '%s' "
				   "was removed or moved (sets may only be added by a reload); "
				   "restart vigil to apply", a->rs.sets[i].name);
			engine__free(ne);
			rules__free(&nrs);
			return;
		}
	}
	if (protect__reload(a->prot, &nrs, bpf_map__fd(a->skel->maps.vg_files)) < 0) {
		protect__set_rules(a->prot, &a->rs);
		emit_error(a, "reload refused, the running rules stay: rescanning protected "
			   "paths failed: %s", strerror(errno));
		engine__free(ne);
		rules__free(&nrs);
		return;
	}
	tmp = a->rs;
	a->rs = nrs;
	nrs = tmp;
	protect__set_rules(a->prot, &a->rs);
	memcpy(a->budgets, budgets, sizeof(budgets));
	fill_allowed_exes(a);
	if (fill_budgets(a) || fill_allowlist(a))
		emit_error(a, "reload: updating the kernel budget/allowlist maps failed: %s",
			   strerror(errno));
	prune_allowlist(a);
	engine__free(a->engine);
	a->engine = ne;
	rules__free(&nrs);
	a->reloads++;
	emit_reload(a, (now_mono_ns() - t0) / 1e6);
	log__info("rules reloaded: %zu rules, %zu protect sets", engine__rule_count(ne),
		  a->rs.nsets);
}

static int event_loop(struct agent *a)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), sfd, tfd, ifd, rbfd;
	struct itimerspec its = { .it_interval = { 0, TICK_MS * 1000000L },
				  .it_value = { 0, TICK_MS * 1000000L } };
	struct epoll_event ev, evs[8];
	uint64_t ticks_since_stats = 0;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ep < 0 || sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL)) {
		log__error("event loop setup failed: %s", strerror(errno));
		return -errno;
	}
	rbfd = ring_buffer__epoll_fd(a->rb);
	ifd = a->inotify_fd;
	ev.events = EPOLLIN;
	ev.data.fd = rbfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, rbfd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	if (ifd >= 0) {
		ev.data.fd = ifd;
		epoll_ctl(ep, EPOLL_CTL_ADD, ifd, &ev);
	}
	while (!a->stop) {
		int n = epoll_wait(ep, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			emit_error(a, "epoll_wait failed: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == rbfd) {
				ring_buffer__consume(a->rb);
			} else if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP)
						reload(a);
					else
						a->stop = true;
				}
			} else if (fd == tfd) {
				uint64_t exp;

				if (read(tfd, &exp, sizeof(exp)) < 0)
					continue;
				ring_buffer__consume(a->rb);
				if (a->pipes_dirty)
					propagate_pipes(a);
				corr__tick(a->corr, now_mono_ns());
				roll_budget_windows(a, now_mono_ns());
				enforce__tick(a->enf, now_mono_ns());
				ticks_since_stats += exp;
				if (a->o->stats_interval_s &&
				    ticks_since_stats * TICK_MS >= a->o->stats_interval_s * 1000ull) {
					ticks_since_stats = 0;
					emit_stats(a, "agent_stats");
				}
			} else if (fd == ifd) {
				int added = protect__handle_inotify(a->prot,
						bpf_map__fd(a->skel->maps.vg_files));

				if (added > 0)
					log__debug("%d new protected files", added);
			}
		}
	}
	ring_buffer__consume(a->rb);
	close(ep);
	close(sfd);
	close(tfd);
	return 0;
}

static void enforce_error(void *ctx, const char *msg)
{
	emit_error(ctx, "%s", msg);
}

static struct enforce *enforce_open(struct agent *a)
{
	struct enforce_env env = {
		.skel = a->skel, .out = a->out, .enforce = a->o->enforce, .ctx = a,
		.set_name = env_set_name, .error = enforce_error,
	};
	struct enforce *e = enforce__new(&env);

	if (!e)
		log__error("cannot map the budget array: %s", strerror(errno));
	return e;
}

int agent__run(const struct agent_opts *o)
{
	struct agent a = { .o = o, .scope_fd = -1, .inotify_fd = -1 };
	struct corr_env env = {
		.ctx = &a, .file_path = env_file_path, .file_sets = env_file_sets,
		.set_name = env_set_name, .bytes_read = env_bytes_read,
		.proc_read = env_proc_read, .kill = env_kill, .emit = env_emit,
		.comm_of = env_comm_of, .file_copied = env_file_copied,
		.enforce = o->enforce,
	};
	char err[512];
	uint64_t t0 = now_mono_ns();
	int ret = 1, seeded;

	log__set_level(o->verbose ? LOG_DEBUG : LOG_INFO);
	libbpf_set_print(libbpf_print);
	json__init(&a.j);

	if (geteuid() != 0) {
		log__error("must run as root (loading BPF programs needs CAP_BPF, CAP_PERFMON, "
			   "CAP_NET_ADMIN and CAP_SYS_ADMIN): try 'sudo vigil run'");
		return 1;
	}
	if (load_rules(&a)) {
		ret = 2;
		goto out;
	}
	a.out = output__open(o->alerts ? o->alerts : "-", err, sizeof(err));
	if (!a.out) {
		log__error("%s", err);
		ret = 2;
		goto out;
	}
	if (o->record) {
		a.cap = capture__create(o->record, output__host(a.out),
					o->enforce ? "enforce" : "monitor", err, sizeof(err));
		if (!a.cap) {
			log__error("--record %s", err);
			ret = 2;
			goto out;
		}
	}
	if (open_scope(&a)) {
		ret = 2;
		goto out;
	}
	ensure_tracefs();
	if (open_and_load(&a))
		goto out;
	a.enf = enforce_open(&a);
	if (!a.enf)
		goto out;
	a.prot = protect__new(&a.rs);
	if (a.prot)
		protect__set_bloom(a.prot, (uint64_t *)a.skel->bss->vg_file_bloom);
	a.corr = corr__new(&env);
	if (!a.prot || !a.corr) {
		log__error("out of memory");
		goto out;
	}
	{
		__u32 zero = 0;
		int fd = a.scope_fd;

		if (bpf_map__update_elem(a.skel->maps.vg_scope, &zero, sizeof(zero), &fd,
					 sizeof(fd), 0)) {
			log__error("cannot set the scope cgroup: %s", strerror(errno));
			goto out;
		}
	}
	fill_allowed_exes(&a);
	if (fill_budgets(&a) || fill_allowlist(&a)) {
		log__error("cannot fill the budget/allowlist maps: %s", strerror(errno));
		goto out;
	}
	/* Watch before scanning: a file created in between is then seen by
	 * one or the other, never by neither. */
	a.inotify_fd = protect__watch(a.prot);
	if (a.inotify_fd < 0)
		log__warn("inotify unavailable (%s): files created later under protected "
			  "directories are found only at restart", strerror(-a.inotify_fd));
	if (protect__scan(a.prot, bpf_map__fd(a.skel->maps.vg_files)) < 0) {
		log__error("scanning protected paths failed: %s", strerror(errno));
		goto out;
	}
	if (protect__skipped(a.prot))
		log__warn("%zu protected files could not be added (map full: at most %d)",
			  protect__skipped(a.prot), VIGIL_MAX_PROTECTED_FILES);
	a.rb = ring_buffer__new(bpf_map__fd(a.skel->maps.vg_events), on_record, &a, NULL);
	if (!a.rb) {
		log__error("cannot set up the ring buffer: %s", strerror(errno));
		goto out;
	}
	if (attach_all(&a))
		goto out;
	seeded = seed_processes(&a);
	log__info("watching %zu protected files in %zu sets, %s mode, scope %s",
		  protect__count(a.prot), a.rs.nsets, o->enforce ? "enforce" : "monitor",
		  a.scope_path);
	emit_start(&a, seeded, (now_mono_ns() - t0) / 1e6);
	ret = event_loop(&a) ? 1 : 0;
	enforce__stop(a.enf);	/* before detaching: blocked sockets must not drain */
	emit_stats(&a, "agent_stop");
out:
	ring_buffer__free(a.rb);
	enforce__free(a.enf);
	for (int i = 0; i < a.nlinks; i++)
		bpf_link__destroy(a.links[i]);
	vigil_bpf__destroy(a.skel);
	corr__free(a.corr);
	protect__free(a.prot);
	if (a.scope_fd >= 0)
		close(a.scope_fd);
	output__close(a.out);
	if (capture__close(a.cap))
		log__error("--record %s: closing the capture failed", o->record);
	engine__free(a.engine);
	rules__free(&a.rs);
	json__free(&a.j);
	return ret;
}
