// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "correlate.h"
#include "derived.h"
#include "mounts.h"

#define NBUCKETS 4096
#define MAX_FILES_PER_PROC 8
#define DEAD_KEEP_NS (10ull * 60 * 1000000000ull)	/* keep exited records for chains */
#define AGENT_KILL_GRACE_NS (100ull * 1000000ull)	/* let the kernel kill first */


struct dest {
	uint8_t family, proto;
	uint16_t dport;
	uint8_t daddr[16];
	uint16_t lport;		/* 0: not known (a connect) */
	uint8_t inbound;	/* an accepted connection */
};

/* One activity already raised for a process: (destination, kind, action,
 * threshold level). Kept in an open-addressing set per process, at most
 * CORR_MAX_SENT_PER_PROC of them: a process that sprays 100k destinations
 * costs O(1) per record, and its alerts stop at the cap (counted). */
struct sent {
	struct dest d;
	uint8_t rule, act, level, used;
};

struct sent_set {
	struct sent *t;
	uint32_t cap, n;
};

struct rec {
	struct rec *next;
	uint32_t tgid, from_tgid, via, depth, set_mask;
	uint32_t files[MAX_FILES_PER_PROC];
	uint64_t file_bytes[MAX_FILES_PER_PROC];
	int nfiles;
	uint64_t bytes_read;
	uint64_t taint_ns, exit_ns;
	bool exited, killed;
	int exit_code;
	struct proc_info info;
	bool have_info;
	struct sent_set sent;
	/* agent-side kill pending (enforce, blocked, kernel did not kill) */
	uint64_t kill_due_ns;
	struct dest kill_dest;
	uint64_t kill_bytes, kill_blocked;
	const char *kill_content;
};

struct corr {
	struct corr_env env;
	struct rec *buckets[NBUCKETS];
	struct corr_stats st;
	struct derived_table *derived;	/* copies of weights -> their origin */
	struct derived origin;		/* scratch: the origin of the activity being raised */
};

const char *corr__via_name(uint32_t via)
{
	static const char *const names[VIGIL_VIA__COUNT] = {
		[VIGIL_VIA_NONE] = "none", [VIGIL_VIA_READ] = "read",
		[VIGIL_VIA_MMAP] = "mmap", [VIGIL_VIA_FORK] = "fork",
		[VIGIL_VIA_PIPE] = "pipe", [VIGIL_VIA_PREEXISTING] = "preexisting",
		[VIGIL_VIA_UNIX] = "unix", [VIGIL_VIA_FILE] = "file",
		[VIGIL_VIA_LOOPBACK] = "loopback", [VIGIL_VIA_SHM] = "shm",
		[VIGIL_VIA_MEMFD] = "memfd", [VIGIL_VIA_PROCMEM] = "procmem",
		[VIGIL_VIA_PTY] = "pty",
		[VIGIL_VIA_FUSE] = "fuse",
	};
	return via < VIGIL_VIA__COUNT && names[via] ? names[via] : "unknown";
}

struct corr *corr__new(const struct corr_env *env)
{
	struct corr *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->env = *env;
	c->derived = derived__new();
	if (!c->derived) {
		free(c);
		return NULL;
	}
	return c;
}

static void rec_free(struct rec *r)
{
	free(r->sent.t);
	free(r);
}

struct derived_table *corr__derived(struct corr *c) { return c ? c->derived : NULL; }

void corr__free(struct corr *c)
{
	if (!c)
		return;
	for (int i = 0; i < NBUCKETS; i++)
		for (struct rec *r = c->buckets[i], *n; r; r = n) {
			n = r->next;
			rec_free(r);
		}
	derived__free(c->derived);
	free(c);
}

void corr__stats(const struct corr *c, struct corr_stats *out)
{
	*out = c->st;
	out->derived = derived__count(c->derived);
	out->derived_dropped = derived__dropped(c->derived);
}

static struct rec *rec_find(struct corr *c, uint32_t tgid)
{
	for (struct rec *r = c->buckets[tgid % NBUCKETS]; r; r = r->next)
		if (r->tgid == tgid)
			return r;
	return NULL;
}

static void rec_unlink(struct corr *c, struct rec *victim)
{
	struct rec **pp = &c->buckets[victim->tgid % NBUCKETS];

	while (*pp && *pp != victim)
		pp = &(*pp)->next;
	if (*pp)
		*pp = victim->next;
	c->st.tracked--;
	if (!victim->exited)
		c->st.live--;
}

/* A record for a newly tainted tgid; a dead record of a reused pid goes. */
static struct rec *rec_fresh(struct corr *c, uint32_t tgid)
{
	struct rec *r = rec_find(c, tgid);

	if (r && !r->exited)
		return r;
	if (r) {
		/* Keep the dead one reachable for chains of its children? The
		 * pid is reused: chains referring to it are stale anyway. */
		rec_unlink(c, r);
		rec_free(r);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->tgid = tgid;
	r->next = c->buckets[tgid % NBUCKETS];
	c->buckets[tgid % NBUCKETS] = r;
	c->st.tracked++;
	c->st.live++;
	return r;
}

static void rec_add_file(struct rec *r, uint32_t file_id)
{
	if (!file_id)
		return;
	for (int i = 0; i < r->nfiles; i++)
		if (r->files[i] == file_id)
			return;
	if (r->nfiles < MAX_FILES_PER_PROC)
		r->files[r->nfiles++] = file_id;
}

/* The kernel's NUL-separated argument bytes as a command line. */
static void args_to_cmdline(const char *args, size_t n, char *out, size_t len)
{
	size_t end = strnlen(args, n), k = 0;

	/* the buffer holds several strings: find the last non-NUL byte */
	for (size_t i = 0; i < n; i++)
		if (args[i])
			end = i + 1;
	for (size_t i = 0; i < end && k + 1 < len; i++)
		out[k++] = args[i] ? args[i] : ' ';
	out[k] = '\0';
}

static void rec_refresh_info(struct corr *c, struct rec *r, const char *comm)
{
	struct proc_info pi;

	if (c->env.proc_read && c->env.proc_read(c->env.ctx, r->tgid, &pi) == 0) {
		/* an exited, not yet reaped process reads with no command line
		 * and no exe: keep what the kernel's record said */
		if (!pi.cmdline[0] && r->info.cmdline[0])
			memcpy(pi.cmdline, r->info.cmdline, sizeof(pi.cmdline));
		if (!pi.exe[0] && r->info.exe[0])
			memcpy(pi.exe, r->info.exe, sizeof(pi.exe));
		r->info = pi;
		r->have_info = true;
		return;
	}
	/* Gone already: keep what we knew, at least the kernel's comm. */
	r->info.pid = r->tgid;
	if (comm) {
		snprintf(r->info.comm, sizeof(r->info.comm), "%.*s", VIGIL_COMM_LEN - 1, comm);
		if (!r->have_info && !r->info.cmdline[0])
			snprintf(r->info.cmdline, sizeof(r->info.cmdline), "%s", r->info.comm);
	}
}

static void on_taint(struct corr *c, const struct vigil_ev_taint *e)
{
	struct rec *r = rec_fresh(c, e->hdr.tgid);

	if (!r)
		return;
	if (!r->taint_ns) {
		r->taint_ns = e->hdr.ktime_ns;
		r->via = e->via;
		r->from_tgid = e->from_tgid;
		r->depth = e->depth;
	}
	r->set_mask |= e->set_mask;
	if (!r->have_info && e->args[0] && !r->info.cmdline[0])
		args_to_cmdline(e->args, sizeof(e->args), r->info.cmdline, sizeof(r->info.cmdline));
	if (e->via == VIGIL_VIA_READ || e->via == VIGIL_VIA_MMAP ||
	    e->via == VIGIL_VIA_PREEXISTING || e->from_tgid == 0)
		rec_add_file(r, e->file_id);
	else if (!rec_find(c, e->from_tgid))
		rec_add_file(r, e->file_id);	/* parent unknown: keep the source */
	rec_refresh_info(c, r, e->comm);
	if (!r->info.ppid)
		r->info.ppid = e->ppid;
	if (!r->info.uid)
		r->info.uid = e->uid;
}

static void on_exec(struct corr *c, const struct vigil_ev_proc *e)
{
	struct rec *r = rec_find(c, e->hdr.tgid);

	if (r && !r->exited)
		rec_refresh_info(c, r, e->comm);
}

static void on_proc_exit(struct corr *c, const struct vigil_ev_proc *e)
{
	struct rec *r = rec_find(c, e->hdr.tgid);

	if (!r || r->exited)
		return;
	/* Last chance to learn how much it read. */
	for (int i = 0; i < r->nfiles; i++) {
		int64_t b = c->env.bytes_read ? c->env.bytes_read(c->env.ctx, r->tgid, r->files[i]) : -1;

		if (b >= 0)
			r->file_bytes[i] = b;
	}
	r->bytes_read = e->bytes_read;
	r->exited = true;
	c->st.live--;
	r->exit_ns = e->hdr.ktime_ns;
	r->exit_code = e->exit_code;
}

/* ---- alerts ------------------------------------------------------------- */

static uint32_t sent_hash(const struct sent *k)
{
	const unsigned char *b = (const unsigned char *)&k->d;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(k->d); i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	h = (h ^ k->rule) * 0x100000001b3ull;
	h = (h ^ k->act) * 0x100000001b3ull;
	h = (h ^ k->level) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32));
}

static bool sent_eq(const struct sent *a, const struct sent *b)
{
	return a->rule == b->rule && a->act == b->act && a->level == b->level &&
	       !memcmp(&a->d, &b->d, sizeof(a->d));
}

static int sent_grow(struct sent_set *s)
{
	uint32_t ncap = s->cap ? s->cap * 2 : 16;
	struct sent *nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->cap; i++) {
		uint32_t h;

		if (!s->t[i].used)
			continue;
		for (h = sent_hash(&s->t[i]) & (ncap - 1); nt[h].used; h = (h + 1) & (ncap - 1))
			;
		nt[h] = s->t[i];
	}
	free(s->t);
	s->t = nt;
	s->cap = ncap;
	return 0;
}

/* Was this activity raised for r already? Remembers it if not. At the cap
 * nothing new is remembered and everything but a kill counts as raised. */
static bool already_sent(struct corr *c, struct rec *r, const struct dest *d,
			 enum act_event rule, enum act_outcome act, unsigned level)
{
	struct sent k = { .d = *d, .rule = rule, .act = act, .level = level, .used = 1 };
	struct sent_set *s = &r->sent;
	uint32_t h;

	if (s->cap) {
		for (h = sent_hash(&k) & (s->cap - 1); s->t[h].used; h = (h + 1) & (s->cap - 1))
			if (sent_eq(&s->t[h], &k))
				return true;
	}
	if (s->n >= CORR_MAX_SENT_PER_PROC) {
		c->st.dest_limit_hits++;
		return act != ACT_KILLED;
	}
	if ((s->n + 1) * 2 > s->cap && sent_grow(s))
		return false;
	for (h = sent_hash(&k) & (s->cap - 1); s->t[h].used; h = (h + 1) & (s->cap - 1))
		;
	s->t[h] = k;
	s->n++;
	return false;
}

static const char *set_of(struct corr *c, uint32_t file_id, uint32_t taint_mask)
{
	uint32_t m = c->env.file_sets ? c->env.file_sets(c->env.ctx, file_id) : 0;

	if (m & taint_mask)
		m &= taint_mask;
	for (unsigned i = 0; i < 32; i++)
		if (m & (1u << i))
			return c->env.set_name ? c->env.set_name(c->env.ctx, i) : "?";
	return "?";
}

/* ---- origins: the chain and the original files behind a process ---------- */

/* The copy a chain's first process read, if the ledger knows its origin:
 * that process got the bytes from a file, not from the weights. */
static const struct derived *root_copy(struct corr *c, const struct rec *x)
{
	if (!x->nfiles || (x->via != VIGIL_VIA_READ && x->via != VIGIL_VIA_MMAP &&
			   x->via != VIGIL_VIA_PREEXISTING))
		return NULL;
	return derived__get(c->derived, x->files[0]);
}

static void origin_add_src(struct derived *o, const struct derived_src *s)
{
	for (int k = 0; k < o->nsrc; k++)
		if (o->src[k].file_id == s->file_id) {
			if (s->bytes > o->src[k].bytes)
				o->src[k] = *s;
			return;
		}
	if (o->nsrc < ACT_MAX_SOURCES)
		o->src[o->nsrc++] = *s;
}

/* Distinct bytes s's reader read of it: live while it runs, its last count
 * while the correlator remembers it, else what the ledger last knew. */
static uint64_t src_bytes(struct corr *c, const struct derived_src *s)
{
	struct rec *y = rec_find(c, s->reader);
	uint64_t b = s->bytes;

	if (!y || y->taint_ns != s->reader_since)
		return b;
	for (int f = 0; f < y->nfiles; f++) {
		int64_t v;

		if (y->files[f] != s->file_id)
			continue;
		v = !y->exited && c->env.bytes_read ?
		    c->env.bytes_read(c->env.ctx, y->tgid, y->files[f]) : -1;
		if (v >= 0)
			y->file_bytes[f] = v;
		if (y->file_bytes[f] > b)
			b = y->file_bytes[f];
	}
	return b;
}

/* r's origin: every hop from the process that read the weights to r (the
 * hops before a copy it or its first ancestor read included, from the
 * ledger), and the original files behind it (a copy stands for its
 * origin's files). */
static void origin_build(struct corr *c, struct rec *r, struct derived *o)
{
	struct rec *path[ACT_MAX_CHAIN];
	const struct derived *rd;
	int n = 0;

	for (struct rec *x = r; x && n < ACT_MAX_CHAIN; ) {
		bool loop = false;

		for (int i = 0; i < n; i++)
			loop |= path[i] == x;
		if (loop)
			break;
		path[n++] = x;
		x = x->from_tgid ? rec_find(c, x->from_tgid) : NULL;
	}
	memset(o, 0, sizeof(*o));
	rd = root_copy(c, path[n - 1]);
	for (int h = 0; rd && h < rd->nhops && o->nhops < ACT_MAX_CHAIN - n; h++)
		o->hops[o->nhops++] = rd->hops[h];
	o->before = o->nhops;
	for (int i = n - 1; i >= 0; i--) {
		struct derived_hop *h = &o->hops[o->nhops++];

		h->pid = path[i]->tgid;
		h->via = i == n - 1 && rd ? derived__hop_via(rd) : path[i]->via;
		h->file_id = i == n - 1 && rd ? rd->file_id : 0;
		snprintf(h->comm, sizeof(h->comm), "%s", path[i]->info.comm);
	}
	for (int i = n - 1; i >= 0; i--) {
		struct rec *x = path[i];

		for (int f = 0; f < x->nfiles; f++) {
			const struct derived *d = derived__get(c->derived, x->files[f]);
			struct derived_src s = { .file_id = x->files[f], .reader = x->tgid,
						 .reader_since = x->taint_ns,
						 .bytes = x->file_bytes[f] };

			if (!d) {
				s.bytes = src_bytes(c, &s);
				origin_add_src(o, &s);
				continue;
			}
			for (int k = 0; k < d->nsrc; k++) {
				s = d->src[k];
				s.bytes = src_bytes(c, &s);
				origin_add_src(o, &s);
			}
		}
	}
}

/* A file r wrote is protected now: remember where its bytes came from. */
static void on_copy(struct corr *c, const struct vigil_ev_copy *e)
{
	struct rec *w = rec_find(c, e->hdr.tgid);

	if (c->env.file_copied)
		c->env.file_copied(c->env.ctx, e);
	if (!w)
		return;		/* its taint record was lost: readers name the copy */
	origin_build(c, w, &c->origin);
	c->origin.file_id = e->file_id;
	c->origin.via = derived__copy_via(e);
	derived__put(c->derived, &c->origin);
}

/* Chain from the process that read the weights to r, and the files read
 * along it. */
static void fill_taint(struct corr *c, struct rec *r, struct activity *a)
{
	struct derived *o = &c->origin;

	origin_build(c, r, o);
	a->nchain = 0;
	for (int i = 0; i < o->nhops; i++) {
		struct act_link *l = &a->chain[a->nchain++];
		const struct derived_hop *h = &o->hops[i];

		l->pid = h->pid;
		l->comm = h->comm;
		l->via = corr__via_name(h->via);
		l->path = NULL;
		if (derived__is_copy_via(h->via)) {
			l->path = c->env.file_path ? c->env.file_path(c->env.ctx, h->file_id) : NULL;
			if (!l->path)
				l->path = "(unknown)";
		}
	}
	a->nsources = 0;
	for (int i = 0; i < o->nsrc; i++) {
		struct act_source *s = &a->sources[a->nsources++];

		s->path = c->env.file_path ? c->env.file_path(c->env.ctx, o->src[i].file_id) : NULL;
		if (!s->path)
			s->path = "(unknown)";
		s->set = set_of(c, o->src[i].file_id, r->set_mask);
		s->bytes_read = o->src[i].bytes;
		s->size = c->env.file_size ? c->env.file_size(c->env.ctx, o->src[i].file_id) : 0;
	}
	a->nsets = 0;
	for (unsigned i = 0; i < 32 && a->nsets < ACT_MAX_SETS; i++)
		if ((r->set_mask & (1u << i)) && c->env.set_name)
			a->sets[a->nsets++] = c->env.set_name(c->env.ctx, i);
	/* the last hop is r: through a copy if r itself read one */
	a->taint_via = o->nhops ? corr__via_name(o->hops[o->nhops - 1].via) :
		       corr__via_name(r->via);
	a->taint_depth = r->depth + (uint32_t)o->before;
}

/* A network filesystem's mount as the destination (bpf/lib/netfs.bpf.h):
 * named from mountinfo by its device, else by the kernel's word for it. */
static void fill_netfs_dest(struct activity *a, const struct dest *d)
{
	struct mount_name m;
	uint32_t kdev;

	memcpy(&kdev, d->daddr, sizeof(kdev));
	a->af = d->family;
	memcpy(a->daddr_raw, d->daddr, 16);
	a->family = "netfs";
	a->protocol = "other";
	a->direction = "outbound";
	if (mounts__by_dev(NULL, kdev, &m) == 0) {
		snprintf(a->fs_type_buf, sizeof(a->fs_type_buf), "%.31s", m.fstype);
		snprintf(a->fs_source, sizeof(a->fs_source), "%.159s", m.source);
		snprintf(a->fs_mount, sizeof(a->fs_mount), "%.159s", m.point);
	} else {	/* unmounted since, or another mount namespace */
		snprintf(a->fs_type_buf, sizeof(a->fs_type_buf), "%s", mounts__netfs_word(d->proto));
		snprintf(a->fs_source, sizeof(a->fs_source), "dev %u:%u", kdev >> 20, kdev & 0xfffff);
		snprintf(a->fs_mount, sizeof(a->fs_mount), "?");
	}
	a->fs_type = a->fs_type_buf;
	snprintf(a->daddr, sizeof(a->daddr), "%.63s", a->fs_source);
}

static void fill_dest(struct activity *a, const struct dest *d)
{
	if (d->family == VIGIL_FAMILY_NETFS) {
		fill_netfs_dest(a, d);
		return;
	}
	a->af = d->family;
	memcpy(a->daddr_raw, d->daddr, 16);
	a->family = d->family == AF_INET ? "ipv4" : d->family == AF_INET6 ? "ipv6" : "other";
	a->protocol = d->proto == 6 ? "tcp" : d->proto == 17 ? "udp" :
		      d->proto == VIGIL_PROTO_RAW ? "raw" : "other";
	if (addr__format(d->family, d->daddr, a->daddr, sizeof(a->daddr)))
		snprintf(a->daddr, sizeof(a->daddr), "?");
	a->dport = d->dport;
	a->lport = d->lport;
	a->direction = d->inbound ? "inbound" : "outbound";
}

static void dest_from_key(struct dest *d, const struct vigil_flow_key *k)
{
	memset(d, 0, sizeof(*d));
	d->family = k->family;
	d->proto = k->proto;
	d->dport = k->dport;
	memcpy(d->daddr, k->daddr, k->family == AF_INET ? 4 : 16);
}

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 1ull << 30)
		snprintf(buf, len, "%.1f GiB", b / (double)(1ull << 30));
	else if (b >= 1ull << 20)
		snprintf(buf, len, "%.1f MiB", b / (double)(1ull << 20));
	else if (b >= 1ull << 10)
		snprintf(buf, len, "%.1f KiB", b / 1024.0);
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)b);
}

static const char *class_name(unsigned cls)
{
	return cls == VIGIL_CLASS_WORK ? "work" : cls == VIGIL_CLASS_WEIGHTS ? "weights" :
	       cls == VIGIL_CLASS_OPAQUE ? "opaque" : "unknown";
}

static void raise_activity(struct corr *c, struct rec *r, enum act_event rule, enum act_outcome act,
			   const struct dest *d, uint64_t bytes, uint64_t blocked,
			   enum act_killer killed_by, unsigned level, const char *content)
{
	bool work = content && !strcmp(content, "work");
	struct activity a;
	char hb[32], hblk[32], cov[32] = "", where[100];
	const char *what, *src;

	if (already_sent(c, r, d, rule, act, level)) {
		c->st.suppressed++;
		return;
	}
	memset(&a, 0, sizeof(a));
	a.event = rule;
	a.tainted = true;
	a.action = act;
	a.killed_by = act == ACT_KILLED ? killed_by : ACT_BY_NONE;
	a.mode = c->env.enforce ? ACT_ENFORCE : ACT_MONITOR;
	if (!c->env.enforce)
		a.enforce_action = rule == ACT_EV_CONNECT ?
				   (c->env.deny_new_dest || d->proto == VIGIL_PROTO_RAW ?
				    ACT_BLOCKED : ACT_NONE) :
				   rule == ACT_EV_BUDGET || rule == ACT_EV_DNS_TUNNEL ||
				   rule == ACT_EV_UNMETERED ? ACT_KILLED :
				   ACT_NONE;
	if (!r->have_info && !r->exited)
		rec_refresh_info(c, r, NULL);
	a.proc = r->info;
	a.pname = c->env.comm_of ? c->env.comm_of(c->env.ctx, r->info.ppid) : "";
	fill_taint(c, r, &a);
	fill_dest(&a, d);
	if (c->env.tls_flow && d->proto == 6 && !a.fs_type)	/* TCP */
		c->env.tls_flow(c->env.ctx, r->tgid, &a);
	a.bytes = bytes;
	a.blocked_bytes = blocked;
	a.content = content;
	/* TLS the kernel could not see into: its plaintext was not seen */
	if (!a.tls_plaintext && content && !strcmp(content, "opaque"))
		a.tls_plaintext = "unseen";

	src = a.nsources ? a.sources[0].path : "protected weights";
	if (a.nsources && act_source__read_pct(&a.sources[0]) >= 0) {
		/* read coverage: "model-00003-of-00008.safetensors (87% of it read)" */
		snprintf(cov, sizeof(cov), " (%d%% of it read)", act_source__read_pct(&a.sources[0]));
	}
	human_bytes(bytes, hb, sizeof(hb));
	human_bytes(blocked, hblk, sizeof(hblk));
	/* a network filesystem's bytes go to its mount, not to an address */
	if (a.fs_type)
		snprintf(where, sizeof(where), "the %.10s mount %.50s (%.24s)", a.fs_type,
			 a.fs_mount, a.fs_source);	/* in full: network.mount */
	else
		snprintf(where, sizeof(where), "%s port %u", a.daddr, a.dport);
	switch (rule) {
	case ACT_EV_CONNECT:
		if (d->proto == VIGIL_PROTO_RAW) {
			snprintf(a.message, sizeof(a.message),
				 "%s (pid %u), holding data from %s%s, %s a raw %s socket",
				 r->info.comm, r->tgid, src, cov, act == ACT_BLOCKED ?
				 "was refused" : "opened", a.family);
			break;
		}
		what = act == ACT_BLOCKED ? "was refused a connection to" :
		       "opened a connection to";
		snprintf(a.message, sizeof(a.message),
			 "%s (pid %u), holding data from %s%s, %s %s port %u",
			 r->info.comm, r->tgid, src, cov, what, a.daddr, a.dport);
		break;
	case ACT_EV_EGRESS:
	case ACT_EV_PROGRESS:
		snprintf(a.message, sizeof(a.message),
			 "%s (pid %u), holding data from %s%s, is sending %s-shaped bytes to %s "
			 "(%s so far)", r->info.comm, r->tgid, src, cov,
			 content ? content : "unknown", where, hb);
		break;
	case ACT_EV_CONTENT:
		snprintf(a.message, sizeof(a.message),
			 "the bytes %s (pid %u), holding data from %s%s, sends to %s turned "
			 "weights-shaped (%s so far)", r->info.comm, r->tgid, src, cov, where,
			 hb);
		break;
	case ACT_EV_DNS_TUNNEL:
		snprintf(a.message, sizeof(a.message),
			 "%s (pid %u), holding data from %s%s, sends DNS queries to %s port %u that "
			 "carry data (long encoded labels or too many name bytes)", r->info.comm,
			 r->tgid, src, cov, a.daddr, a.dport);
		break;
	case ACT_EV_UNMETERED:	/* key.proto: 132 SCTP, else MPTCP's 262 cut to 8 bits */
		snprintf(a.message, sizeof(a.message),
			 "%s (pid %u), holding data from %s%s, %s on an %s socket to %s, whose "
			 "bytes vigil cannot meter%s", r->info.comm, r->tgid, src, cov,
			 act == ACT_KILLED ? "was killed at its first send" : "sent",
			 d->proto == 132 ? "SCTP" : "MPTCP", where,
			 act == ACT_KILLED ? "" : " (enforce mode kills it at that send)");
		break;
	case ACT_EV_BUDGET:
		if (act == ACT_KILLED)
			snprintf(a.message, sizeof(a.message),
				 "%s (pid %u) was killed for sending data from %s%s to %s "
				 "past the %s (%s sent, %s dropped)",
				 r->info.comm, r->tgid, src, cov, where,
				 work ? "destination's work budget" : "egress budget", hb, hblk);
		else if (act == ACT_BLOCKED)
			snprintf(a.message, sizeof(a.message),
				 "%s spent: packets of %s (pid %u) carrying data from "
				 "%s%s to %s are dropped (%s sent)",
				 work ? "work budget of the destination" : "egress budget",
				 r->info.comm, r->tgid, src, cov, where, hb);
		else
			snprintf(a.message, sizeof(a.message),
				 "%s (pid %u) sent data from %s%s to %s past the %s "
				 "(%s sent; enforce mode would drop and kill)",
				 r->info.comm, r->tgid, src, cov, where,
				 work ? "destination's work budget" : "egress budget", hb);
		break;
	default:
		break;
	}
	activity__finish(&a);
	c->st.activities++;
	if (c->env.emit)
		c->env.emit(c->env.ctx, &a);
}

static void raise_alert(struct corr *c, struct rec *r, enum act_event kind,
			enum act_outcome act, const struct dest *d, uint64_t bytes, uint64_t blocked,
			enum act_killer killed_by, const char *content)
{
	raise_activity(c, r, kind, act, d, bytes, blocked, killed_by, 0, content);
}

/* Byte thresholds (64 KiB x 4^n) repeat per destination: one activity per
 * threshold reached. */
static void raise_progress(struct corr *c, struct rec *r, const struct dest *d,
			   uint64_t bytes, uint64_t blocked, const char *content)
{
	unsigned level = 0;

	for (uint64_t t = 64 * 1024; t <= bytes && level < 255; t *= 4)
		level++;
	raise_activity(c, r, ACT_EV_PROGRESS, ACT_ALERT, d, bytes, blocked, ACT_BY_NONE, level,
		       content);
}

/* The record of a process an event is about; one tainted before we saw
 * it (ring buffer loss) is learnt now. NULL if there is no room. */
static struct rec *rec_of_event(struct corr *c, uint32_t tgid, uint32_t set_mask,
				const char *comm)
{
	struct rec *r = rec_find(c, tgid);

	if (r)
		return r;
	r = rec_fresh(c, tgid);
	if (!r)
		return NULL;
	r->set_mask = set_mask;
	rec_refresh_info(c, r, comm);
	return r;
}

static void on_connect(struct corr *c, const struct vigil_ev_connect *e)
{
	struct rec *r = rec_of_event(c, e->hdr.tgid, e->set_mask, e->comm);
	struct dest d;

	if (!r)
		return;
	dest_from_key(&d, &e->key);
	raise_alert(c, r, ACT_EV_CONNECT, e->denied ? ACT_BLOCKED : ACT_ALERT, &d, 0, 0,
		    ACT_BY_NONE, NULL);
}

static void on_flow(struct corr *c, const struct vigil_ev_flow *e)
{
	struct rec *r = rec_of_event(c, e->key.tgid, e->set_mask, NULL);
	const char *content = class_name(e->content.class);
	struct dest d;

	if (!r)
		return;
	dest_from_key(&d, &e->key);
	d.lport = e->lport;
	d.inbound = e->inbound;
	if (e->reason & VIGIL_FLOW_NEW)
		raise_alert(c, r, ACT_EV_EGRESS, ACT_ALERT, &d, e->bytes, e->blocked_bytes,
			    ACT_BY_NONE, content);
	else if (e->reason & VIGIL_FLOW_THRESHOLD)
		raise_progress(c, r, &d, e->bytes, e->blocked_bytes, content);
	if (e->reason & VIGIL_FLOW_CLASS)
		raise_alert(c, r, ACT_EV_CONTENT, ACT_ALERT, &d, e->bytes, e->blocked_bytes,
			    ACT_BY_NONE, content);
	if (e->reason & VIGIL_FLOW_DNS_TUNNEL)
		raise_alert(c, r, ACT_EV_DNS_TUNNEL, c->env.enforce ? ACT_BLOCKED : ACT_ALERT, &d,
			    e->bytes, e->blocked_bytes, ACT_BY_NONE, content);
	if (e->reason & (VIGIL_FLOW_BLOCKED | VIGIL_FLOW_BUDGET | VIGIL_FLOW_WORK_BUDGET)) {
		if (e->reason & VIGIL_FLOW_WORK_BUDGET)
			content = "work";
		raise_alert(c, r, ACT_EV_BUDGET, c->env.enforce ? ACT_BLOCKED : ACT_ALERT, &d,
			    e->bytes, e->blocked_bytes, ACT_BY_NONE, content);
		if (c->env.enforce && !r->killed && !r->exited && !r->kill_due_ns) {
			r->kill_due_ns = e->hdr.ktime_ns + AGENT_KILL_GRACE_NS;
			r->kill_dest = d;
			r->kill_bytes = e->bytes;
			r->kill_blocked = e->blocked_bytes;
			r->kill_content = content;
		}
	}
}

static void on_kill(struct corr *c, const struct vigil_ev_kill *e)
{
	struct rec *r = rec_of_event(c, e->hdr.tgid, e->set_mask, e->comm);
	struct dest d;

	if (!r)
		return;
	if (e->why == VIGIL_KILL_UNMETERED) {	/* both modes: monitor says what enforce does */
		dest_from_key(&d, &e->key);
		d.lport = e->lport;
		d.inbound = e->inbound;
		r->killed |= e->done;
		raise_alert(c, r, ACT_EV_UNMETERED, e->done ? ACT_KILLED : ACT_ALERT, &d, 0, 0,
			    ACT_BY_KERNEL, "unknown");
		return;
	}
	if (!e->done)
		return;
	r->killed = true;
	dest_from_key(&d, &e->key);
	d.lport = e->lport;
	d.inbound = e->inbound;
	if (r->kill_due_ns) {	/* the flow whose drop led to the kill */
		d = r->kill_dest;
		r->kill_due_ns = 0;
	}
	raise_alert(c, r, ACT_EV_BUDGET, ACT_KILLED, &d, r->kill_bytes, r->kill_blocked,
		    ACT_BY_KERNEL, r->kill_content ? r->kill_content : class_name(e->content));
}

/* The detail of a control record: what the kernel sent, or a word for its
 * number (socket type, BPF program type). */
static void control_detail(const struct corr *c, const struct vigil_ev_control *e, char *out,
			   size_t len)
{
	static const char *const socks[] = { [1] = "stream", [2] = "dgram", [3] = "raw",
		[5] = "seqpacket", [10] = "packet" };
	static const char *const progs[] = { "unspec", "socket_filter", "kprobe", "sched_cls",
		"sched_act", "tracepoint", "xdp", "perf_event", "cgroup_skb", "cgroup_sock",
		"lwt_in", "lwt_out", "lwt_xmit", "sock_ops", "sk_skb", "cgroup_device", "sk_msg",
		"raw_tracepoint", "cgroup_sock_addr", "lwt_seg6local", "lirc_mode2",
		"sk_reuseport", "flow_dissector", "cgroup_sysctl", "raw_tracepoint_writable",
		"cgroup_sockopt", "tracing", "struct_ops", "ext", "lsm", "sk_lookup", "syscall",
		"netfilter" };
	int64_t n = e->arg & 0xf;	/* socket type without SOCK_NONBLOCK/CLOEXEC */
	char kdetail[VIGIL_CTL_DETAIL_LEN + 1];

	snprintf(kdetail, sizeof(kdetail), "%.*s", VIGIL_CTL_DETAIL_LEN, e->detail);
	for (char *p = kdetail; *p; p++)	/* kernel strings, made printable */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	switch (e->kind) {
	case VIGIL_CTL_PACKET_SOCKET:
	case VIGIL_CTL_XDP_SOCKET:
		snprintf(out, len, "%s", n < (int64_t)(sizeof(socks) / sizeof(socks[0])) && socks[n] ?
			 socks[n] : "other");
		break;
	case VIGIL_CTL_BPF_LOAD:
		if (e->arg >= 0 && e->arg < (int64_t)(sizeof(progs) / sizeof(progs[0])))
			snprintf(out, len, "%s", progs[e->arg]);
		else
			snprintf(out, len, "type %lld", (long long)e->arg);
		break;
	case VIGIL_CTL_CONFIG_WRITE:
	case VIGIL_CTL_PIN_UNLINK: {	/* the watched path, and the name under it */
		const char *p = c->env.watch_path ?
				c->env.watch_path(c->env.ctx, (uint32_t)e->arg) : "";

		snprintf(out, len, "%s%s%s", p, p[0] && kdetail[0] ? "/" : "", kdetail);
		break;
	}
	default:	/* module file, filesystem type, device name */
		snprintf(out, len, "%s", kdetail);
	}
}

/* A blind-spot control, for any process in scope: a tainted one is judged
 * with its taint (the kernel killed it in enforce mode), an untainted one
 * on its own. Not deduplicated here: each attempt is one activity, the
 * incidents fold repeats. */
static void on_control(struct corr *c, const struct vigil_ev_control *e)
{
	const char *kind = activity__control_word(e->kind);
	struct rec tmp = { .tgid = e->hdr.tgid }, *r = &tmp;
	static const char *const what[VIGIL_CTL__COUNT] = {
		[VIGIL_CTL_PACKET_SOCKET] = "to open a packet socket",
		[VIGIL_CTL_XDP_SOCKET] = "to open an AF_XDP socket",
		[VIGIL_CTL_BPF_LOAD] = "to load a BPF program",
		[VIGIL_CTL_MODULE_LOAD] = "to load a kernel module",
		[VIGIL_CTL_MOUNT] = "to mount a network or FUSE filesystem",
		[VIGIL_CTL_BYPASS_DEVICE] = "to open a kernel-bypass device",
		[VIGIL_CTL_WEIGHTS_DISK] = "to open the disk holding the weights",
		[VIGIL_CTL_CONFIG_WRITE] = "to change vigil's files",
		[VIGIL_CTL_PIN_UNLINK] = "to remove vigil's pinned enforcement",
	};
	static const char *const ops[] = { [VIGIL_WOP_OPEN] = "write", [VIGIL_WOP_UNLINK] = "unlink",
					   [VIGIL_WOP_RENAME] = "rename",
					   [VIGIL_WOP_TRUNCATE] = "truncate" };
	unsigned op = (unsigned)((uint64_t)e->arg >> 32);
	const char *opw;
	struct activity a;
	const char *src;

	if (!kind)
		return;
	if (e->set_mask) {
		r = rec_of_event(c, e->hdr.tgid, e->set_mask, e->comm);
		if (!r)
			return;
	}
	memset(&a, 0, sizeof(a));
	a.event = ACT_EV_CONTROL;
	a.tainted = e->set_mask != 0;
	a.mode = c->env.enforce ? ACT_ENFORCE : ACT_MONITOR;
	a.action = e->killed ? ACT_KILLED : ACT_ALERT;
	a.killed_by = e->killed ? ACT_BY_KERNEL : ACT_BY_NONE;
	if (!c->env.enforce && a.tainted)
		a.enforce_action = ACT_KILLED;
	if (e->killed)
		r->killed = true;
	if (!r->have_info && !r->exited)
		rec_refresh_info(c, r, e->comm);
	a.proc = r->info;
	a.pname = c->env.comm_of ? c->env.comm_of(c->env.ctx, r->info.ppid) : "";
	if (a.tainted)
		fill_taint(c, r, &a);
	else
		a.taint_via = "";
	a.control_kind = kind;
	control_detail(c, e, a.control_detail, sizeof(a.control_detail));
	src = a.nsources ? a.sources[0].path : "protected weights";
	opw = (e->kind == VIGIL_CTL_CONFIG_WRITE || e->kind == VIGIL_CTL_PIN_UNLINK) &&
	      op < sizeof(ops) / sizeof(ops[0]) && ops[op] ? ops[op] : NULL;
	snprintf(a.message, sizeof(a.message), "%s (pid %u)%s%s%s tried %s%s%s%s%s%s%s",
		 r->info.comm, r->tgid, a.tainted ? ", holding data from " : "",
		 a.tainted ? src : "", a.tainted ? "," : "", what[e->kind],
		 a.control_detail[0] ? " (" : "", opw ? opw : "", opw ? " " : "", a.control_detail,
		 a.control_detail[0] ? ")" : "",
		 e->killed ? " and was killed" : a.tainted && !c->env.enforce ?
		 "; enforce mode would kill it" : "");
	activity__finish(&a);
	c->st.activities++;
	if (c->env.emit)
		c->env.emit(c->env.ctx, &a);
}

/* Kernel pids stay below 2^22, destinations are IPv4, IPv6 or a network
 * filesystem's mount (flows and kills), byte counts
 * below 2^63: anything else is a corrupt record, and would become a negative
 * pid_t, an address "?" or a number that no capture reader takes back. */
static bool record_valid(const void *data)
{
	const struct vigil_ev_header *h = data;
	const struct vigil_flow_key *k = NULL;

	if (h->tgid > INT32_MAX)
		return false;
	if (h->type == VIGIL_EV_FLOW)
		k = &((const struct vigil_ev_flow *)data)->key;
	else if (h->type == VIGIL_EV_CONNECT)
		k = &((const struct vigil_ev_connect *)data)->key;
	else if (h->type == VIGIL_EV_KILL)
		k = &((const struct vigil_ev_kill *)data)->key;
	if (k && ((k->family != AF_INET && k->family != AF_INET6 &&
		   /* a write into a network filesystem: a flow to its mount */
		   (k->family != VIGIL_FAMILY_NETFS || h->type == VIGIL_EV_CONNECT)) ||
		  k->tgid > INT32_MAX))
		return false;
	/* JSON integers (jansson) stop at 2^63: 8 EiB is no real count */
	if (h->type == VIGIL_EV_FLOW && (((const struct vigil_ev_flow *)data)->bytes > INT64_MAX ||
					 ((const struct vigil_ev_flow *)data)->blocked_bytes > INT64_MAX))
		return false;
	if (h->type == VIGIL_EV_EXIT && ((const struct vigil_ev_proc *)data)->bytes_read > INT64_MAX)
		return false;
	if (h->type == VIGIL_EV_TAINT)
		return ((const struct vigil_ev_taint *)data)->from_tgid <= INT32_MAX &&
		       ((const struct vigil_ev_taint *)data)->ppid <= INT32_MAX;
	if (h->type == VIGIL_EV_EXEC || h->type == VIGIL_EV_EXIT)
		return ((const struct vigil_ev_proc *)data)->ppid <= INT32_MAX;
	return true;
}

size_t corr__record_size(unsigned type)
{
	static const size_t want[VIGIL_EV__COUNT] = {
		[VIGIL_EV_TAINT] = sizeof(struct vigil_ev_taint),
		[VIGIL_EV_EXEC] = sizeof(struct vigil_ev_proc),
		[VIGIL_EV_EXIT] = sizeof(struct vigil_ev_proc),
		[VIGIL_EV_FLOW] = sizeof(struct vigil_ev_flow),
		[VIGIL_EV_CONNECT] = sizeof(struct vigil_ev_connect),
		[VIGIL_EV_KILL] = sizeof(struct vigil_ev_kill),
		[VIGIL_EV_COPY] = sizeof(struct vigil_ev_copy),
		[VIGIL_EV_CONTROL] = sizeof(struct vigil_ev_control),
	};

	return type < VIGIL_EV__COUNT ? want[type] : 0;
}

int corr__handle(struct corr *c, const void *data, size_t size)
{
	const struct vigil_ev_header *h = data;
	size_t want;

	c->st.records++;
	want = size >= sizeof(*h) ? corr__record_size(h->type) : 0;
	if (!want || h->size != want || size < want || !record_valid(data)) {
		c->st.bad_records++;
		return -EINVAL;
	}
	switch (h->type) {
	case VIGIL_EV_TAINT: on_taint(c, data); break;
	case VIGIL_EV_EXEC: on_exec(c, data); break;
	case VIGIL_EV_EXIT: on_proc_exit(c, data); break;
	case VIGIL_EV_FLOW: on_flow(c, data); break;
	case VIGIL_EV_CONNECT: on_connect(c, data); break;
	case VIGIL_EV_KILL: on_kill(c, data); break;
	case VIGIL_EV_CONTROL: on_control(c, data); break;
	case VIGIL_EV_COPY: on_copy(c, data); break;
	}
	return 0;
}

void corr__inject(struct corr *c, uint32_t tgid, uint32_t from_tgid, uint32_t via,
		  uint32_t file_id, uint32_t set_mask, uint32_t depth, uint64_t now_ns)
{
	struct rec *r = rec_fresh(c, tgid);

	if (!r)
		return;
	if (!r->taint_ns) {
		r->taint_ns = now_ns;
		r->via = via;
		r->from_tgid = from_tgid;
		r->depth = depth;
	}
	r->set_mask |= set_mask;
	if (!from_tgid || !rec_find(c, from_tgid))
		rec_add_file(r, file_id);
	rec_refresh_info(c, r, NULL);
}

void corr__tick(struct corr *c, uint64_t now_ns)
{
	for (int i = 0; i < NBUCKETS; i++) {
		for (struct rec *r = c->buckets[i], *n; r; r = n) {
			n = r->next;
			if (r->kill_due_ns && now_ns >= r->kill_due_ns && !r->killed) {
				r->kill_due_ns = 0;
				if (!r->exited && c->env.kill &&
				    c->env.kill(c->env.ctx, r->tgid, r->info.start_ticks) == 0) {
					r->killed = true;
					c->st.agent_kills++;
					raise_alert(c, r, ACT_EV_BUDGET, ACT_KILLED, &r->kill_dest,
						    r->kill_bytes, r->kill_blocked, ACT_BY_AGENT,
						    r->kill_content);
				}
			}
			if (r->exited && now_ns - r->exit_ns > DEAD_KEEP_NS) {
				rec_unlink(c, r);
				rec_free(r);
			}
		}
	}
}
