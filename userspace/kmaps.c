// SPDX-License-Identifier: GPL-2.0
/* Filling and reading the kernel maps (see kmaps.h and the map table in
 * docs/ARCHITECTURE.md). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "glob.h"
#include "kmaps.h"
#include "log.h"
#include "netfs_allow.h"
#include "protect.h"
#include "vigil.skel.h"

int kmaps__set_scope(struct vigil_bpf *skel, int cgroup_fd)
{
	__u32 zero = 0;

	return bpf_map__update_elem(skel->maps.vg_scope, &zero, sizeof(zero), &cgroup_fd,
				    sizeof(cgroup_fd), 0) ? -errno : 0;
}

/* A reload must not hand out a fresh budget: spent stays spent. */
int kmaps__fill_budgets(struct vigil_bpf *skel, const struct ruleset *rs,
			struct budgets *bud)
{
	__u32 all = 0;

	if (!bud->view) {
		long page = sysconf(_SC_PAGESIZE);
		void *v;

		bud->view_len = (VIGIL_MAX_SETS * sizeof(struct vigil_budget) + page - 1) /
				page * page;
		v = mmap(NULL, bud->view_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 bpf_map__fd(skel->maps.vg_budgets), 0);
		if (v == MAP_FAILED)
			return -errno;
		bud->view = v;
	}
	for (__u32 s = 0; s < rs->nsets && s < VIGIL_MAX_SETS; s++) {
		__atomic_store_n(&bud->view[s].limit, bud->limit[s], __ATOMIC_SEQ_CST);
		all |= 1u << s;
	}
	/* a process whose taint entry is lost counts as tainted with all sets */
	__atomic_store_n(&skel->bss->vg_all_sets, all, __ATOMIC_SEQ_CST);
	kmaps__budget_low(skel, bud, rs->nsets);
	return 0;
}

/* The sets whose budget has less than the threshold of local propagation
 * left (or is spent, or is smaller than it): their marks taint at the
 * first byte (bpf/lib/common.bpf.h, vg_budget_low). The kernel sets bits
 * as it charges; this recomputes them from the budgets after a fill, a
 * restore of spent budgets and a window restart, so a bit clears when its
 * budget has room again. A charge racing this sets its bit again. */
void kmaps__budget_low(struct vigil_bpf *skel, const struct budgets *bud, size_t nsets)
{
	__u64 thr = skel->rodata->cfg_relay_min_bytes ? skel->rodata->cfg_relay_min_bytes : 1;
	__u32 low = 0;

	if (!bud->view)
		return;
	for (__u32 s = 0; s < nsets && s < VIGIL_MAX_SETS; s++) {
		const struct vigil_budget *b = &bud->view[s];
		__u64 limit = __atomic_load_n(&b->limit, __ATOMIC_SEQ_CST);
		__u64 spent = __atomic_load_n(&b->spent, __ATOMIC_SEQ_CST);

		if (limit && (__atomic_load_n(&b->exceeded, __ATOMIC_SEQ_CST) || limit < thr ||
			      spent + thr >= limit))
			low |= 1u << s;
	}
	__atomic_store_n(&skel->bss->vg_budget_low, low, __ATOMIC_SEQ_CST);
}

void kmaps__unmap_budgets(struct budgets *bud)
{
	if (bud->view)
		munmap(bud->view, bud->view_len);
	bud->view = NULL;
}

/* Take off what a field held; what is charged meanwhile stays charged. */
static void zero_field(__u64 *f)
{
	__u64 v = __atomic_load_n(f, __ATOMIC_SEQ_CST);

	while (v && !__atomic_compare_exchange_n(f, &v, 0, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
		;
}

static unsigned long long window_of(const struct ruleset *rs, size_t set)
{
	const struct protect_set *s = &rs->sets[set];

	return s->has_window ? s->window_s : rs->default_window_s;
}

/* Sockets already blocked stay blocked: their sk_storage flag does not
 * depend on the budget. */
void kmaps__roll_windows(struct vigil_bpf *skel, const struct ruleset *rs, struct budgets *bud,
			 uint64_t now)
{
	bool rolled = false;

	for (__u32 s = 0; s < rs->nsets; s++) {
		unsigned long long w = window_of(rs, s);
		struct vigil_budget *b;

		if (!w)
			continue;
		if (!bud->window_start[s]) {
			bud->window_start[s] = now;
			continue;
		}
		if (now - bud->window_start[s] < w * 1000000000ull)
			continue;
		bud->window_start[s] = now;
		if (!bud->view || s >= VIGIL_MAX_SETS)
			continue;
		b = &bud->view[s];
		zero_field(&b->spent);
		zero_field(&b->committed);
		zero_field(&b->passed);
		zero_field(&b->delivered);
		zero_field(&b->blocked);
		__atomic_store_n(&b->exceeded, 0, __ATOMIC_SEQ_CST);
		log__debug("budget window of set %s restarted", rs->sets[s].name);
		rolled = true;
	}
	if (rolled)
		kmaps__budget_low(skel, bud, rs->nsets);
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

/* Bit of an exe-scoped serve entry: after the allow entries' bits. */
static long serve_exe_bit(const struct ruleset *rs, size_t entry)
{
	unsigned bit = 0;

	if (!rs->serves[entry].nexes)
		return 0;
	for (size_t i = 0; i < rs->nallows; i++)
		bit += rs->allows[i].nexes ? 1 : 0;
	for (size_t i = 0; i < entry; i++)
		bit += rs->serves[i].nexes ? 1 : 0;
	return bit < VIGIL_MAX_EXE_ALLOWS ? (1L << bit) : -1;
}

/* serve: entries -> vg_serve by port (additions before removals); an entry
 * without a work budget or window has the agent's (--work-budget, 1 h). */
static void fill_serves(struct vigil_bpf *skel, const struct ruleset *rs)
{
	int fd = bpf_map__fd(skel->maps.vg_serve);
	__u32 port, next;
	bool again = true;

	for (size_t i = 0; i < rs->nserves; i++) {
		const struct serve_entry *e = &rs->serves[i];
		long bit = serve_exe_bit(rs, i);
		struct vigil_serve v = {
			.work_limit = e->has_work_budget ? e->work_budget : skel->rodata->cfg_work_limit,
			.window_ns = e->has_window ? e->window_s * 1000000000ull :
				     skel->rodata->cfg_work_window_ns,
		};

		if (bit < 0) {
			log__warn("serve entry '%s': more than %d allow and serve entries are "
				  "scoped to executables; it is not loaded", e->name,
				  VIGIL_MAX_EXE_ALLOWS);
			continue;
		}
		v.exe_mask = (__u32)bit;
		port = e->port;
		if (bpf_map_update_elem(fd, &port, &v, BPF_ANY))
			log__warn("serve entry '%s': cannot load it: %s", e->name, strerror(errno));
	}
	while (again) {
		again = false;
		for (int r = bpf_map_get_next_key(fd, NULL, &next); !r;
		     r = bpf_map_get_next_key(fd, &port, &next)) {
			bool kept = false;

			port = next;
			for (size_t i = 0; i < rs->nserves && !kept; i++)
				kept = rs->serves[i].port == port && serve_exe_bit(rs, i) >= 0;
			if (!kept && !bpf_map_delete_elem(fd, &port)) {
				again = true;	/* the walk lost its place */
				break;
			}
		}
	}
}

int kmaps__fill_netfs_allows(struct vigil_bpf *skel, const struct ruleset *rs, const char *path)
{
	static struct netfs_allow want[VIGIL_MAX_NETFS_ALLOWS];
	int fd = bpf_map__fd(skel->maps.vg_netfs_allow), n;
	__u32 key, next;
	bool more, again = true;

	n = netfs_allow__plan(rs, path, want, VIGIL_MAX_NETFS_ALLOWS, &more);
	if (n < 0)
		return n;
	if (more)
		log__warn("allow: more than %d network-filesystem mounts match the entries' "
			  "mount globs; writes into the others are charged", VIGIL_MAX_NETFS_ALLOWS);
	for (int i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &want[i].kdev, &want[i].exe_mask, BPF_ANY))
			log__warn("allow: cannot load mount %u:%u: %s", want[i].kdev >> 20,
				  want[i].kdev & 0xfffff, strerror(errno));
	while (again) {		/* then the devices no longer named */
		again = false;
		for (int r = bpf_map_get_next_key(fd, NULL, &next); !r;
		     r = bpf_map_get_next_key(fd, &key, &next)) {
			int i;

			key = next;
			for (i = 0; i < n && want[i].kdev != key; i++)
				;
			if (i == n && !bpf_map_delete_elem(fd, &key)) {
				again = true;	/* the walk lost its place */
				break;
			}
		}
	}
	return n;
}

int kmaps__fill_allowlist(struct vigil_bpf *skel, const struct ruleset *rs, size_t *nkeys)
{
	struct entry { const struct addr_rule *r; __u32 exe_mask; } *all;
	size_t n = 0;
	int err = 0;

	for (size_t i = 0; i < rs->nallows; i++)
		n += rs->allows[i].naddrs;
	all = calloc(n + 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < rs->nallows; i++) {
		long bit = rules__allow_exe_bit(rs, i);

		if (bit < 0) {
			log__warn("allow entry '%s': more than %d entries are scoped to "
				  "executables; it is enforced in userspace only",
				  rs->allows[i].name, VIGIL_MAX_EXE_ALLOWS);
			continue;
		}
		for (size_t k = 0; k < rs->allows[i].naddrs; k++)
			all[n++] = (struct entry){ &rs->allows[i].addrs[k], (__u32)bit };
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
			err = bpf_map__update_elem(skel->maps.vg_allow4, &k, sizeof(k), &v,
						   sizeof(v), 0);
		} else {
			struct vigil_lpm6_key k = { .prefixlen = r->prefix_len };

			memcpy(k.addr, r->addr, 16);
			err = bpf_map__update_elem(skel->maps.vg_allow6, &k, sizeof(k), &v,
						   sizeof(v), 0);
		}
	}
	*nkeys = n;
	free(all);
	return err ? -errno : 0;
}

static bool allow_key_wanted(const struct ruleset *rs, int family, unsigned prefix,
			     const void *addr)
{
	for (size_t i = 0; i < rs->nallows; i++)
		for (size_t k = 0; k < rs->allows[i].naddrs; k++) {
			const struct addr_rule *r = &rs->allows[i].addrs[k];

			if (r->family == family && r->prefix_len == prefix &&
			    !memcmp(r->addr, addr, family == AF_INET ? 4 : 16))
				return true;
		}
	return false;
}

/* The keys of one LPM map (prefixlen, then the address) that rs no longer
 * has: collected first, deleted after, so the walk is not disturbed. */
static void prune_lpm(int fd, int family, const struct ruleset *rs)
{
	struct vigil_lpm6_key key, next;	/* the larger; v4 keys use the front */
	size_t ksize = family == AF_INET ? sizeof(struct vigil_lpm4_key) : sizeof(key);
	unsigned char *del = NULL, *nd;
	size_t n = 0;
	void *prev;

	for (prev = NULL; !bpf_map_get_next_key(fd, prev, &next); prev = &key) {
		memcpy(&key, &next, ksize);
		if (allow_key_wanted(rs, family, key.prefixlen, key.addr))
			continue;
		nd = realloc(del, (n + 1) * ksize);
		if (!nd)
			break;
		del = nd;
		memcpy(del + n++ * ksize, &key, ksize);
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, del + i * ksize);
	free(del);
}

/* Allow entries the new rules no longer have leave the kernel only after
 * the new ones are in: no moment in which the old and new rules both deny. */
void kmaps__prune_allowlist(struct vigil_bpf *skel, const struct ruleset *rs)
{
	prune_lpm(bpf_map__fd(skel->maps.vg_allow4), AF_INET, rs);
	prune_lpm(bpf_map__fd(skel->maps.vg_allow6), AF_INET6, rs);
}

struct exe_walk {
	int fd;
	__u32 bit;
};

static int on_allowed_exe(const char *path, const struct stat *st, void *ctx)
{
	struct exe_walk *w = ctx;
	struct vigil_file_key k = { .dev = protect__kdev(st->st_dev), .ino = st->st_ino };
	__u32 bits = 0;

	bpf_map_lookup_elem(w->fd, &k, &bits);
	bits |= w->bit;
	bpf_map_update_elem(w->fd, &k, &bits, BPF_ANY);
	return 0;
}

/* The executables globs name get bit in vg_allow_exes (efd); false when
 * the entry is not scoped (bit 0) or has no bit (-1). */
static bool mark_exes(int efd, long bit, char *const *globs, size_t n)
{
	struct exe_walk w = { .fd = efd, .bit = (__u32)bit };

	if (bit <= 0)
		return false;
	for (size_t g = 0; g < n; g++)
		glob__walk(globs[g], on_allowed_exe, &w, VIGIL_MAX_ALLOW_EXES,
			   GLOB_FOLLOW_FILE_LINKS);
	return true;
}

/* Executables of exe-scoped allow and serve entries -> vg_allow_exes, and
 * the running processes that are one of them -> vg_exe_bits (exec and fork
 * keep it up to date from then on); the serve entries -> vg_serve. */
void kmaps__fill_exe_allows(struct vigil_bpf *skel, const struct ruleset *rs)
{
	int efd = bpf_map__fd(skel->maps.vg_allow_exes);
	int pfd = bpf_map__fd(skel->maps.vg_exe_bits);
	struct vigil_file_key k, next;
	bool any = false;
	struct dirent *d;
	__u32 tgid, ntgid;
	DIR *proc;

	while (!bpf_map_get_next_key(efd, NULL, &next))
		bpf_map_delete_elem(efd, &next);
	for (size_t i = 0; i < rs->nallows; i++)
		any |= mark_exes(efd, rules__allow_exe_bit(rs, i), rs->allows[i].exes, rs->allows[i].nexes);
	for (size_t i = 0; i < rs->nserves; i++)
		any |= mark_exes(efd, serve_exe_bit(rs, i), rs->serves[i].exes, rs->serves[i].nexes);
	fill_serves(skel, rs);
	while (!bpf_map_get_next_key(pfd, NULL, &ntgid))
		bpf_map_delete_elem(pfd, &ntgid);
	skel->bss->vg_have_exe_allow = any;
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

/* The hot paths test the bitmap bit before any lookup: it goes in first. A
 * bit left set for a process not in the map only costs a lookup; the kernel
 * clears it at exit. */
int kmaps__taint_start(struct vigil_bpf *skel, uint32_t tgid, const struct vigil_taint *t)
{
	__atomic_fetch_or(&skel->bss->vg_tainted_bits[vigil_tgid_word(tgid)], vigil_tgid_bit(tgid),
			  __ATOMIC_SEQ_CST);
	__atomic_store_n(&skel->bss->vg_taint_started, 1, __ATOMIC_SEQ_CST);
	return bpf_map__update_elem(skel->maps.vg_taint, &tgid, sizeof(tgid), t, sizeof(*t),
				    BPF_NOEXIST) ? -errno : 0;
}

bool kmaps__taint_get(struct vigil_bpf *skel, uint32_t tgid, struct vigil_taint *t)
{
	return !bpf_map__lookup_elem(skel->maps.vg_taint, &tgid, sizeof(tgid), t, sizeof(*t), 0);
}

/* vg_pipes is keyed by inode pointer and number: a walk, by number. */
bool kmaps__pipe_mark(struct vigil_bpf *skel, uint64_t ino, struct vigil_pipe_mark *m)
{
	struct vigil_pipe_key k, *prev = NULL;
	int fd = bpf_map__fd(skel->maps.vg_pipes);

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (k.ino == ino && !bpf_map_lookup_elem(fd, &k, m))
			return true;
	}
	return false;
}

int64_t kmaps__bytes_read(struct vigil_bpf *skel, uint32_t tgid, uint32_t file_id)
{
	struct vigil_read_key k = { .tgid = tgid, .file_id = file_id };
	struct vigil_read_progress v;

	if (bpf_map__lookup_elem(skel->maps.vg_reads, &k, sizeof(k), &v, sizeof(v), 0))
		return -1;
	return (int64_t)(v.pages << 12);
}

int kmaps__block(struct vigil_bpf *skel, uint32_t tgid)
{
	__u32 one = 1;

	return bpf_map__update_elem(skel->maps.vg_blocked, &tgid, sizeof(tgid), &one,
				    sizeof(one), BPF_ANY) ? -errno : 0;
}

void kmaps__counters(struct vigil_bpf *skel, struct vigil_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vigil_counters *per;
	__u32 zero = 0;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0 || !(per = calloc(ncpu, sizeof(*per))))
		return;
	if (!bpf_map__lookup_elem(skel->maps.vg_counters, &zero, sizeof(zero), per,
				  ncpu * sizeof(*per), 0)) {
		for (int i = 0; i < ncpu; i++) {
			__u64 *d = (__u64 *)sum, *s = (__u64 *)&per[i];

			for (size_t f = 0; f < sizeof(*sum) / sizeof(__u64); f++)
				d[f] += s[f];
		}
	}
	free(per);
}
