// SPDX-License-Identifier: GPL-2.0
/* TLS libraries and the uprobes on their write functions (tls.h). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <bpf/libbpf.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "tls.h"
#include "activity.h"
#include "vigil.h"
#include "vigil_content.h"
#include "vigil.skel.h"

/* The write functions, by symbol, and the program each one gets. */
static const struct {
	const char *sym, *prog, *library;
} funcs[] = {
	{ "SSL_write", "vigil_ssl_write", "openssl" },
	{ "SSL_write_ex", "vigil_ssl_write_ex", "openssl" },
	{ "gnutls_record_send", "vigil_gnutls_record_send", "gnutls" },
	{ "crypto/tls.(*Conn).Write", "vigil_go_tls_write", "go" },
};
#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

const char *tls__func_name(int i) { return i >= 0 && i < (int)NFUNCS ? funcs[i].sym : NULL; }
const char *tls__func_library(int i) { return i >= 0 && i < (int)NFUNCS ? funcs[i].library : NULL; }

/* Sizing: a host with a few hundred tainted processes, each mapping one or
 * two TLS libraries, stays inside TLS_MAX_ATTACH; past it a file is
 * attached host-wide (tls_file.wide), which costs every process mapping it
 * a trap per write, but sees. Each attach registers a uprobe, slow and
 * most likely holding up the host's forks (register_for_each_vma takes
 * dup_mmap_sem, which fork reads, for writing): the worker spends at most
 * TLS_ATTACH_BURST registrations at once and TLS_ATTACH_RATE a second;
 * a file wanted past that (a storm of tainted processes) goes host-wide,
 * one registration for all of them. */
#define TLS_MAX_FILES 256	/* known TLS libraries and executables */
#define TLS_MAX_CHECKED 1024	/* files looked at that have no TLS writes */
#define TLS_MAX_ATTACH 1024	/* (tainted process, TLS file) attachments */
#define TLS_ATTACH_RATE 64	/* uprobe registrations a second, sustained */
#define TLS_ATTACH_BURST 128
#define TLS_QUEUE_MAX 1024	/* processes waiting for the worker */
#define TLS_EXE_CACHE 64	/* executables whose loader's TLS libraries are known */
#define TLS_NEEDED_MAX 96	/* shared objects walked for one executable */

struct tls_file {
	dev_t dev;
	ino_t ino;
	char path[256];		/* as the first process to map it named it */
	unsigned funcs;		/* write functions the file defines */
	unsigned long off[NFUNCS];	/* their file offsets (the uprobe's) */
	bool cached;		/* in the loader's cache */
	unsigned procs;		/* processes attached to it now */
	struct bpf_link *wide[NFUNCS];	/* host-wide fallback: table full or rate spent */
};

/* One tainted process's uprobes on one file (pid-filtered: the breakpoint
 * is only in that process's mm). tgid 0: a free slot. */
struct tls_attach {
	uint32_t tgid;
	uint16_t file;
	bool stale;		/* from before the process's exec: goes once re-attached */
	uint64_t since_ns;	/* the taint it was made for (a reused pid is another) */
	struct bpf_link *links[NFUNCS];
};

/* Closing a uprobe perf event waits for the kernel's uprobe RCU (measured:
 * 342 ms for one process's three links on a loaded VM): links are
 * destroyed on a thread of their own. Full queue: destroyed in place, on
 * the worker (counted). */
#define TLS_REAP_MAX 4096

struct tls_reaper {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bpf_link *q[TLS_REAP_MAX];
	size_t n;
	bool stop, started;
	pthread_t th;
};

/* What the event loop hands the worker: a process to (re)scan, its exec,
 * its exit. The event loop never attaches or detaches a uprobe itself:
 * registration waits for RCU and blocks on the locks fork takes, and a
 * stalled event loop falls behind on the records of the very children a
 * tainted job forks. */
enum tls_job_kind { JOB_SCAN, JOB_EXEC, JOB_EXIT };

struct tls_job {
	uint32_t tgid;
	uint8_t kind;
	uint64_t ktime_ns;	/* the TAINT record's kernel time (latency), or 0 */
};

struct tls_worker {
	pthread_mutex_t mu;	/* the queue and these fields */
	pthread_cond_t cv;
	struct tls_job q[TLS_QUEUE_MAX];
	size_t head, n;
	bool stop, started, busy, sweep;
	pthread_t th;
	unsigned long long queued, merged, dropped, queue_max;
};

/* The loader's TLS libraries of an executable, by its identity. */
struct tls_exe {
	dev_t dev;
	ino_t ino;
	uint16_t file[4];
	uint8_t n;
};

/* Threads: the event loop (tls__on_record, tls__status_json, tls__flow)
 * and the worker. The worker alone writes the tables (files, att,
 * checked, exes) and their counters, under mu; the event loop reads them
 * under mu (status). Only the queue is shared the other way (w.mu). */
struct tls {
	struct vigil_bpf *skel;
	struct tls_reaper reap;
	struct tls_worker w;
	pthread_mutex_t mu;
	struct bpf_program *progs[NFUNCS];	/* read-only after tls__open */
	size_t max_att;		/* slots usable: TLS_MAX_ATTACH, or VIGIL_TLS_ATTACH_MAX */
	unsigned rate, burst;	/* TLS_ATTACH_RATE/BURST, or VIGIL_TLS_ATTACH_RATE */
	unsigned delay_ms;	/* VIGIL_TLS_ATTACH_DELAY_MS: tests of the window */
	int watched_fd, taint_fd;
	/* the worker's, under mu */
	struct tls_file files[TLS_MAX_FILES];
	size_t nfiles;
	struct { dev_t dev; ino_t ino; } checked[TLS_MAX_CHECKED];
	size_t nchecked, checked_next;
	struct tls_exe exes[TLS_EXE_CACHE];
	size_t nexes, exes_next;
	struct tls_attach att[TLS_MAX_ATTACH];
	size_t natt;		/* slots in use */
	double tokens;		/* registrations the worker may make now */
	uint64_t tokens_ns;
	unsigned long long reap_inline;	/* destroyed on the worker: reaper queue full */
	unsigned long long attach_failed, scans, attached, detached, watched, unwatched;
	unsigned long long overflow, rate_limited, host_wide, files_overflow, swept;
	/* from a TAINT record's kernel time to its process's uprobes attached */
	unsigned long long lat_n, lat_sum_ns, lat_max_ns, lat_last_ns;
	/* the worker's time in one process's scan+attach / detach */
	unsigned long long scan_max_ns, detach_max_ns;
};

/* ---- ELF: which of the write functions a file defines -------------------- */

/* Calls each(e, sh, data, ctx) for every section of ELF file path whose
 * type is want (want2 too, if not 0), until it returns true. False if path
 * is not a regular ELF file. The one walk both readers below are. */
typedef bool (*elf_section_fn)(Elf *e, const GElf_Shdr *sh, Elf_Data *d, void *ctx);

static bool elf_sections(const char *path, Elf64_Word want, Elf64_Word want2,
			 elf_section_fn each, void *ctx)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	bool elf = false;
	struct stat st;
	Elf *e = NULL;
	Elf_Scn *scn = NULL;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || elf_version(EV_CURRENT) == EV_NONE)
		goto out;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		goto out;
	elf = true;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != want && (!want2 || sh.sh_type != want2)))
			continue;
		d = elf_getdata(scn, NULL);
		if (d && sh.sh_entsize && each(e, &sh, d, ctx))
			break;
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return elf;
}

struct funcs_scan {
	unsigned long *off;
	unsigned found;
};

/* One symbol table: the write functions it defines. */
static bool funcs_in(Elf *e, const GElf_Shdr *sh, Elf_Data *d, void *ctx)
{
	struct funcs_scan *fs = ctx;

	for (size_t i = 0; i < sh->sh_size / sh->sh_entsize; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		for (size_t k = 0; name && k < NFUNCS; k++) {
			Elf_Scn *in;
			GElf_Shdr ish;

			if (strcmp(name, funcs[k].sym) || (fs->found & (1u << k)))
				continue;
			in = elf_getscn(e, sym.st_shndx);
			if (!in || !gelf_getshdr(in, &ish) || sym.st_value < ish.sh_addr)
				continue;
			fs->off[k] = sym.st_value - ish.sh_addr + ish.sh_offset;
			fs->found |= 1u << k;
		}
	}
	return false;
}

/* The write functions path defines, and their file offsets (what a uprobe
 * is placed at: the symbol's address less its section's, plus the
 * section's file offset, as libbpf computes it for func_name). */
static unsigned file_funcs(const char *path, unsigned long off[NFUNCS])
{
	struct funcs_scan fs = { .off = off };

	elf_sections(path, SHT_SYMTAB, SHT_DYNSYM, funcs_in, &fs);
	return fs.found;
}

unsigned tls__file_funcs(const char *path)
{
	unsigned long off[NFUNCS];

	return file_funcs(path, off);
}

/* ---- the loader's cache --------------------------------------------------- */

static bool tls_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return !strncmp(b, "libssl", 6) || !strncmp(b, "libgnutls.so", 12) ||
	       !strncmp(b, "libgnutls-", 10);
}

/* glibc's "glibc-ld.so.cache1.1": a 48-byte header (entry count at 20),
 * then 24-byte entries whose key and value are offsets of strings in the
 * file: the library's name (its soname) and its path. */
struct ldcache {
	const char *m;
	size_t len;
	uint32_t n;
};

static bool ldcache_open(struct ldcache *c, const char *root)
{
	static const char magic[] = "glibc-ld.so.cache1.1";
	char path[PATH_MAX];
	struct stat st;
	int fd;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", root);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 48 || st.st_size > (64 << 20)) {
		close(fd);
		return false;
	}
	c->m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (c->m == MAP_FAILED) {
		c->m = NULL;
		return false;
	}
	c->len = st.st_size;
	if (memcmp(c->m, magic, sizeof(magic) - 1)) {
		munmap((void *)c->m, c->len);
		c->m = NULL;
		return false;
	}
	memcpy(&c->n, c->m + 20, 4);
	return true;
}

static void ldcache_close(struct ldcache *c)
{
	if (c->m)
		munmap((void *)c->m, c->len);
	c->m = NULL;
}

/* Entry i's string at field offset off (0 flags, 4 key, 8 value), or NULL. */
static const char *ldcache_str(const struct ldcache *c, uint32_t i, size_t off)
{
	uint32_t v;

	if (48 + (uint64_t)(i + 1) * 24 > c->len)
		return NULL;
	memcpy(&v, c->m + 48 + (size_t)i * 24 + off, 4);
	if (v >= c->len || !memchr(c->m + v, 0, c->len - v))
		return NULL;
	return c->m + v;
}

typedef void (*lib_fn)(void *ctx, const char *path);

static void cache_libs(lib_fn fn, void *ctx)
{
	struct ldcache c;

	if (!ldcache_open(&c, ""))
		return;
	for (uint32_t i = 0; i < c.n; i++) {
		const char *v = ldcache_str(&c, i, 8);

		if (!v)
			break;
		if (tls_name(v))
			fn(ctx, v);
	}
	ldcache_close(&c);
}

struct discover_ctx {
	struct tls_found *out;
	size_t max, n;
	struct stat seen[64];
	size_t nseen;
};

static bool seen_before(struct stat *seen, size_t *nseen, size_t max, const struct stat *st)
{
	for (size_t i = 0; i < *nseen; i++)
		if (seen[i].st_dev == st->st_dev && seen[i].st_ino == st->st_ino)
			return true;
	if (*nseen < max)
		seen[(*nseen)++] = *st;
	return false;
}

static void discover_one(void *ctx, const char *path)
{
	struct discover_ctx *d = ctx;
	struct stat st;
	unsigned f;

	if (d->n >= d->max || stat(path, &st) || seen_before(d->seen, &d->nseen, 64, &st))
		return;
	f = tls__file_funcs(path);
	if (!f)
		return;
	snprintf(d->out[d->n].path, sizeof(d->out[d->n].path), "%s", path);
	d->out[d->n++].funcs = f;
}

size_t tls__discover(struct tls_found *out, size_t max)
{
	struct discover_ctx d = { .out = out, .max = max };

	cache_libs(discover_one, &d);
	return d.n;
}

/* ---- the files (the worker's) --------------------------------------------- */

static bool was_checked(struct tls *t, const struct stat *st)
{
	for (size_t i = 0; i < t->nchecked; i++)
		if (t->checked[i].dev == st->st_dev && t->checked[i].ino == st->st_ino)
			return true;
	return false;
}

static void remember_checked(struct tls *t, const struct stat *st)
{
	size_t i;

	pthread_mutex_lock(&t->mu);
	i = t->nchecked < TLS_MAX_CHECKED ? t->nchecked++ : t->checked_next++ % TLS_MAX_CHECKED;
	t->checked[i].dev = st->st_dev;
	t->checked[i].ino = st->st_ino;
	pthread_mutex_unlock(&t->mu);
}

/* The TLS file at path (as this agent can open it; shown: as the process
 * names it), learnt on first sight: its index, or -1 when it has no TLS
 * write functions (or the table is full). */
static int file_of(struct tls *t, const char *path, const char *shown)
{
	struct tls_file nf = { 0 };
	struct stat st;
	unsigned long off[NFUNCS] = { 0 };
	unsigned f;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return -1;
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].dev == st.st_dev && t->files[i].ino == st.st_ino)
			return (int)i;
	if (was_checked(t, &st))
		return -1;
	f = file_funcs(path, off);
	if (!f || t->nfiles == TLS_MAX_FILES) {
		if (f) {
			t->files_overflow++;
			log__warn("TLS: more than %d TLS files, %s not attached", TLS_MAX_FILES, shown);
		}
		remember_checked(t, &st);
		return -1;
	}
	nf.dev = st.st_dev;
	nf.ino = st.st_ino;
	snprintf(nf.path, sizeof(nf.path), "%s", shown);
	for (size_t k = 0; k < NFUNCS; k++)
		if ((f & (1u << k)) && t->progs[k])
			nf.funcs |= 1u << k;
	memcpy(nf.off, off, sizeof(off));
	log__info("TLS plaintext: %s (%s%s%s%s), attached per tainted process", shown,
		  nf.funcs & 1 ? "SSL_write " : "", nf.funcs & 2 ? "SSL_write_ex " : "",
		  nf.funcs & 4 ? "gnutls_record_send " : "",
		  nf.funcs & 8 ? "crypto/tls.(*Conn).Write" : "");
	pthread_mutex_lock(&t->mu);
	t->files[t->nfiles] = nf;
	t->nfiles++;
	pthread_mutex_unlock(&t->mu);
	return (int)t->nfiles - 1;
}

/* ---- what an executable's loader will map -------------------------------- */

/* At an EXEC record the new image's loader has not run yet: the maps hold
 * the executable and ld.so, not the libraries. Those its DT_NEEDED closure
 * names (resolved through the loader's cache of the process's root) are
 * what it is about to map; attached now, the kernel writes the breakpoint
 * when the loader maps them (uprobe_mmap). So `sh -c 'exec curl ...'` in a
 * tainted job has curl's libssl attached before curl's first write, not at
 * its connect. dlopen'd libraries (python's _ssl) are in the maps by then:
 * the TAINT and CONNECT scans see them. DT_RUNPATH/RPATH and
 * LD_LIBRARY_PATH are not followed (those are caught at CONNECT). */
struct needed_scan {
	char (*names)[64];
	size_t *n, max;
};

/* The dynamic section: its DT_NEEDED names, each once. */
static bool needed_in(Elf *e, const GElf_Shdr *sh, Elf_Data *d, void *ctx)
{
	struct needed_scan *ns = ctx;

	for (size_t i = 0; i < sh->sh_size / sh->sh_entsize; i++) {
		GElf_Dyn dyn;
		const char *name;
		bool dup = false;

		if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED)
			continue;
		name = elf_strptr(e, sh->sh_link, dyn.d_un.d_val);
		if (!name || strlen(name) >= 64 || strchr(name, '/'))
			continue;
		for (size_t j = 0; j < *ns->n && !dup; j++)
			dup = !strcmp(ns->names[j], name);
		if (!dup && *ns->n < ns->max)
			snprintf(ns->names[(*ns->n)++], 64, "%s", name);
	}
	return true;	/* one dynamic section */
}

static void needed_of(const char *path, char (*names)[64], size_t *n, size_t max)
{
	struct needed_scan ns = { names, n, max };

	elf_sections(path, SHT_DYNAMIC, 0, needed_in, &ns);
}

/* The TLS files among exe's loader closure (root: "/proc/PID/root"), at
 * most 4, into out; their count. Remembered by the executable's identity. */
static size_t exe_tls(struct tls *t, const char *exe, const char *root, uint16_t out[4])
{
	char (*names)[64];
	struct tls_exe x = { 0 };
	struct ldcache c;
	struct stat st;
	size_t n = 0;

	if (stat(exe, &st))
		return 0;
	for (size_t i = 0; i < t->nexes; i++)
		if (t->exes[i].dev == st.st_dev && t->exes[i].ino == st.st_ino) {
			memcpy(out, t->exes[i].file, sizeof(t->exes[i].file));
			return t->exes[i].n;
		}
	x.dev = st.st_dev;
	x.ino = st.st_ino;
	names = calloc(TLS_NEEDED_MAX, 64);
	if (names && ldcache_open(&c, root)) {
		needed_of(exe, names, &n, TLS_NEEDED_MAX);
		/* breadth first, as the loader: each object's own DT_NEEDED */
		for (size_t i = 0; i < n; i++) {
			char full[PATH_MAX + 64];
			const char *p = NULL;

			for (uint32_t k = 0; k < c.n && !p; k++) {
				const char *key = ldcache_str(&c, k, 4);

				if (!key)
					break;
				if (!strcmp(key, names[i]))
					p = ldcache_str(&c, k, 8);
			}
			if (!p)
				continue;
			snprintf(full, sizeof(full), "%s%s", root, p);
			if (tls_name(p)) {
				int fi = file_of(t, full, p);

				for (size_t j = 0; fi >= 0 && j < x.n; j++)
					if (x.file[j] == fi)
						fi = -1;
				if (fi >= 0 && x.n < 4)
					x.file[x.n++] = (uint16_t)fi;
				continue;	/* a TLS library's own needs are not TLS */
			}
			needed_of(full, names, &n, TLS_NEEDED_MAX);
		}
		ldcache_close(&c);
	}
	free(names);
	pthread_mutex_lock(&t->mu);
	t->exes[t->nexes < TLS_EXE_CACHE ? t->nexes++ : t->exes_next++ % TLS_EXE_CACHE] = x;
	pthread_mutex_unlock(&t->mu);
	memcpy(out, x.file, sizeof(x.file));
	return x.n;
}

/* ---- attaching (the worker's) -------------------------------------------- */

/* Spend n uprobe registrations of the bucket; false when it has fewer. */
static bool take_tokens(struct tls *t, unsigned n)
{
	uint64_t now = clock__mono_ns();

	t->tokens += (double)(now - t->tokens_ns) * t->rate / 1e9;
	t->tokens_ns = now;
	if (t->tokens > t->burst)
		t->tokens = t->burst;
	if (t->tokens < n)
		return false;
	t->tokens -= n;
	return true;
}

/* pid > 0: a uprobe perf event filtered by the mm of pid's task
 * (uprobe_perf_filter), so the breakpoint is only written into that
 * process; it follows the task through exec. pid -1: every process.
 * Slow (uprobe registration): never under mu. */
static unsigned attach_links(struct tls *t, const struct tls_file *tf, const char *path, int pid,
			     struct bpf_link *links[NFUNCS])
{
	unsigned got = 0, failed = 0;

	for (size_t k = 0; k < NFUNCS; k++) {
		if (!(tf->funcs & (1u << k)))
			continue;
		links[k] = bpf_program__attach_uprobe_opts(t->progs[k], pid, path, tf->off[k], NULL);
		if (!links[k]) {
			int err = errno;

			failed++;
			if (err != ESRCH)	/* a process gone before its attach: nothing to see */
				log__warn("TLS: uprobe on %s in %s (pid %d) failed: %s", funcs[k].sym,
					  tf->path, pid, strerror(err));
			continue;
		}
		got |= 1u << k;
	}
	if (failed) {
		pthread_mutex_lock(&t->mu);
		t->attach_failed += failed;
		pthread_mutex_unlock(&t->mu);
	}
	return got;
}

static unsigned nfuncs_of(unsigned f)
{
	return (unsigned)__builtin_popcount(f);
}

static struct tls_attach *find_att(struct tls *t, uint32_t tgid, size_t file)
{
	for (size_t i = 0; i < TLS_MAX_ATTACH; i++)
		if (t->att[i].tgid == tgid && t->att[i].file == file && !t->att[i].stale)
			return &t->att[i];
	return NULL;
}

static bool is_wide(const struct tls_file *tf)
{
	for (size_t k = 0; k < NFUNCS; k++)
		if (tf->wide[k])
			return true;
	return false;
}

static void *reaper_main(void *arg)
{
	struct tls_reaper *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->n && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (!r->n)
			break;
		struct bpf_link *l = r->q[--r->n];

		pthread_mutex_unlock(&r->mu);
		bpf_link__destroy(l);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void reap(struct tls *t, struct bpf_link *l)
{
	struct tls_reaper *r = &t->reap;
	bool queued = false;

	if (!l)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		if (r->n < TLS_REAP_MAX) {
			r->q[r->n++] = l;
			queued = true;
			pthread_cond_signal(&r->cv);
		}
		pthread_mutex_unlock(&r->mu);
	}
	if (!queued) {
		t->reap_inline++;
		bpf_link__destroy(l);
	}
}

/* Under mu: the slot's links to the reaper, the slot freed. */
static void detach_locked(struct tls *t, struct tls_attach *a)
{
	for (size_t k = 0; k < NFUNCS; k++)
		reap(t, a->links[k]);
	t->files[a->file].procs--;
	memset(a, 0, sizeof(*a));
	t->natt--;
	t->detached++;
}

/* The file goes host-wide (the table is full, or the registration rate is
 * spent): one registration covers every process mapping it from now on,
 * tainted ones included; the per-process attachments to it are redundant
 * then and go (their slots too). */
static void attach_wide(struct tls *t, int fi, const char *path, uint32_t tgid, bool rate)
{
	struct tls_file *tf = &t->files[fi];
	struct bpf_link *links[NFUNCS] = { 0 };

	pthread_mutex_lock(&t->mu);
	if (rate)
		t->rate_limited++;
	else
		t->overflow++;
	pthread_mutex_unlock(&t->mu);
	if (is_wide(tf))
		return;
	log__warn("TLS: %s; %s attached host-wide from now on (pid %u and later tainted "
		  "processes covered, every process mapping it pays)",
		  rate ? "uprobe registration rate spent (a storm of tainted processes)"
		       : "per-process attachment table full", tf->path, tgid);
	if (!attach_links(t, tf, path, -1, links))
		return;
	pthread_mutex_lock(&t->mu);
	memcpy(tf->wide, links, sizeof(links));
	t->host_wide++;
	for (size_t i = 0; i < TLS_MAX_ATTACH; i++)
		if (t->att[i].tgid && t->att[i].file == fi)
			detach_locked(t, &t->att[i]);
	pthread_mutex_unlock(&t->mu);
}

/* Free the slots of processes gone without an EXIT record reaching the
 * worker (a full queue, a lost record): their taint is not the one they
 * were attached for. */
static void sweep(struct tls *t)
{
	uint32_t gone[256];
	size_t n = 0;

	for (size_t i = 0; i < TLS_MAX_ATTACH; i++) {
		struct vigil_taint v;
		const struct tls_attach *a = &t->att[i];

		if (!a->tgid)
			continue;
		if (bpf_map_lookup_elem(t->taint_fd, &a->tgid, &v) || v.since_ns != a->since_ns) {
			pthread_mutex_lock(&t->mu);
			if (n < 256)
				gone[n++] = a->tgid;
			detach_locked(t, &t->att[i]);
			t->swept++;
			pthread_mutex_unlock(&t->mu);
		}
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(t->watched_fd, &gone[i]);
}

/* Attach file fi for tgid unless it is already (or host-wide): 1 if a new
 * attachment was made, -1 if the file is not covered for tgid (its
 * uprobes failed, host-wide ones included). */
static int attach_pid_file(struct tls *t, uint32_t tgid, uint64_t since, int fi, const char *path)
{
	struct tls_file *tf = &t->files[fi];
	struct bpf_link *links[NFUNCS] = { 0 };
	struct tls_attach *a = NULL;

	if (!tf->funcs || is_wide(tf) || find_att(t, tgid, (size_t)fi))
		return 0;
	if (t->natt >= t->max_att)
		sweep(t);
	for (size_t i = 0; i < t->max_att && !a && t->natt < t->max_att; i++)
		if (!t->att[i].tgid)
			a = &t->att[i];
	if (!a) {
		attach_wide(t, fi, path, tgid, false);
		return is_wide(tf) ? 0 : -1;
	}
	if (!take_tokens(t, nfuncs_of(tf->funcs))) {
		attach_wide(t, fi, path, tgid, true);
		return is_wide(tf) ? 0 : -1;
	}
	if (!attach_links(t, tf, path, (int)tgid, links))
		return -1;
	pthread_mutex_lock(&t->mu);
	memcpy(a->links, links, sizeof(links));
	a->tgid = tgid;
	a->file = (uint16_t)fi;
	a->since_ns = since;
	t->natt++;
	tf->procs++;
	t->attached++;
	pthread_mutex_unlock(&t->mu);
	return 1;
}

/* Detach tgid's attachments: all, or only those marked stale. */
static void detach_pid(struct tls *t, uint32_t tgid, bool stale_only)
{
	uint64_t t0;
	bool any = false;

	if (!t->natt)
		return;
	t0 = clock__mono_ns();
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < TLS_MAX_ATTACH; i++)
		if (t->att[i].tgid == tgid && (!stale_only || t->att[i].stale)) {
			detach_locked(t, &t->att[i]);
			any = true;
		}
	if (any && clock__mono_ns() - t0 > t->detach_max_ns)
		t->detach_max_ns = clock__mono_ns() - t0;
	pthread_mutex_unlock(&t->mu);
}

static void count_attach(int r, int *made, bool *failed)
{
	if (r < 0)
		*failed = true;
	else
		*made += r;
}

/* Attach pid's TLS files: those it maps, its executable, and (exec) what
 * its loader is about to map; then mark it watched for this taint (BPF:
 * tls__watched), so its TLS flows are judged by their plaintext. Returns
 * the number of new attachments, -1 when the process is gone or not
 * tainted (nothing marked). */
static int scan_pid(struct tls *t, pid_t pid, bool exec)
{
	char path[64], root[64], line[512 + PATH_MAX], full[PATH_MAX + 64];
	uint64_t t0 = clock__mono_ns();
	struct vigil_taint v;
	uint32_t tgid = (uint32_t)pid;
	int fi, made = 0;
	bool failed = false;
	FILE *f;

	if (pid <= 0)
		return -1;
	/* the taint this scan is for: read first, so a pid reused meanwhile
	 * gets a mark that does not match its own taint */
	if (bpf_map_lookup_elem(t->taint_fd, &tgid, &v))
		return -1;
	pthread_mutex_lock(&t->mu);
	t->scans++;
	pthread_mutex_unlock(&t->mu);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;	/* gone already (a short-lived child): nothing to attach */
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	/* the executable: statically linked OpenSSL/GnuTLS, Go with symbols;
	 * at exec, the TLS libraries its loader will map */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	{
		char exe[PATH_MAX];
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);

		if (n > 0) {
			uint16_t need[4];
			size_t nn;

			exe[n] = 0;
			fi = file_of(t, path, exe);
			if (fi >= 0)
				count_attach(attach_pid_file(t, tgid, v.since_ns, fi, path), &made,
					     &failed);
			nn = exec ? exe_tls(t, path, root, need) : 0;
			for (size_t i = 0; i < nn; i++) {
				snprintf(full, sizeof(full), "%s%s", root, t->files[need[i]].path);
				count_attach(attach_pid_file(t, tgid, v.since_ns, need[i], full),
					     &made, &failed);
			}
		}
	}
	while (fgets(line, sizeof(line), f)) {
		char perms[8], *p = strchr(line, '/');

		if (!p || sscanf(line, "%*s %7s", perms) != 1 || perms[2] != 'x')
			continue;
		p[strcspn(p, "\n")] = 0;
		if (!tls_name(p))
			continue;
		snprintf(full, sizeof(full), "%s%s", root, p);
		fi = file_of(t, full, p);
		if (fi >= 0)
			count_attach(attach_pid_file(t, tgid, v.since_ns, fi, full), &made, &failed);
	}
	fclose(f);
	/* every TLS file it maps is covered (its own uprobes or host-wide):
	 * its TLS is judged by the plaintext from now on. A file that could
	 * not be attached leaves it unwatched (its TLS opaque; logged and
	 * counted), as does a process gone meanwhile. */
	if (failed) {
		bpf_map_delete_elem(t->watched_fd, &tgid);
		pthread_mutex_lock(&t->mu);
		t->unwatched++;
		pthread_mutex_unlock(&t->mu);
	} else if (!bpf_map_update_elem(t->watched_fd, &tgid, &v.since_ns, BPF_ANY)) {
		pthread_mutex_lock(&t->mu);
		t->watched++;
		pthread_mutex_unlock(&t->mu);
	}
	pthread_mutex_lock(&t->mu);
	if (made && clock__mono_ns() - t0 > t->scan_max_ns)
		t->scan_max_ns = clock__mono_ns() - t0;
	pthread_mutex_unlock(&t->mu);
	return made;
}

/* No process is watched without this agent's uprobes: the map outlives
 * the agent when pinned (--pin), the uprobe links do not. */
static void clear_watched(struct tls *t)
{
	uint32_t k, next;

	while (!bpf_map_get_next_key(t->watched_fd, NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(t->watched_fd, &k))
			break;
	}
}

/* ---- the worker ------------------------------------------------------------ */

static void run_job(struct tls *t, const struct tls_job *j)
{
	int made;

	switch (j->kind) {
	case JOB_SCAN:
		if (t->delay_ms)
			usleep(t->delay_ms * 1000u);
		made = scan_pid(t, (pid_t)j->tgid, false);
		if (made > 0 && j->ktime_ns) {
			uint64_t now = clock__mono_ns(), d = now > j->ktime_ns ? now - j->ktime_ns : 0;

			pthread_mutex_lock(&t->mu);
			t->lat_n++;
			t->lat_sum_ns += d;
			t->lat_last_ns = d;
			if (d > t->lat_max_ns)
				t->lat_max_ns = d;
			pthread_mutex_unlock(&t->mu);
		}
		break;
	case JOB_EXEC:
		/* a new image: attach its files anew, then let the old go (the
		 * old ones keep covering it meanwhile, unless a thread other
		 * than the leader exec'd: their task is gone then) */
		bpf_map_delete_elem(t->watched_fd, &j->tgid);
		pthread_mutex_lock(&t->mu);
		for (size_t i = 0; t->natt && i < TLS_MAX_ATTACH; i++)
			if (t->att[i].tgid == j->tgid)
				t->att[i].stale = true;
		pthread_mutex_unlock(&t->mu);
		if (t->delay_ms)
			usleep(t->delay_ms * 1000u);
		scan_pid(t, (pid_t)j->tgid, true);
		detach_pid(t, j->tgid, true);
		break;
	case JOB_EXIT:
		bpf_map_delete_elem(t->watched_fd, &j->tgid);
		detach_pid(t, j->tgid, false);
		break;
	}
}

static void *worker_main(void *arg)
{
	struct tls *t = arg;
	struct tls_worker *w = &t->w;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct tls_job j;
		bool sw;

		while (!w->n && !w->stop && !w->sweep)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		sw = w->sweep;
		w->sweep = false;
		if (!sw) {	/* a sweep first; the job stays queued */
			j = w->q[w->head];
			w->head = (w->head + 1) % TLS_QUEUE_MAX;
			w->n--;
		}
		w->busy = true;
		pthread_mutex_unlock(&w->mu);
		if (sw)
			sweep(t);
		else
			run_job(t, &j);
		pthread_mutex_lock(&w->mu);
		w->busy = false;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hand tgid to the worker (the event loop's side: never blocks on it). A
 * scan already queued for tgid, and not behind its exit, absorbs a new
 * one. A full queue drops scans (counted: the process stays unwatched, its
 * TLS flows opaque) and turns an exit into a sweep. */
static void enqueue(struct tls *t, uint32_t tgid, uint8_t kind, uint64_t ktime_ns)
{
	struct tls_worker *w = &t->w;

	pthread_mutex_lock(&w->mu);
	if (kind == JOB_SCAN)
		for (size_t i = w->n; i-- > 0;) {
			struct tls_job *q = &w->q[(w->head + i) % TLS_QUEUE_MAX];

			if (q->tgid != tgid)
				continue;
			if (q->kind == JOB_EXIT)
				break;
			if (!q->ktime_ns)	/* a TAINT's time for the latency */
				q->ktime_ns = ktime_ns;
			w->merged++;
			pthread_mutex_unlock(&w->mu);
			return;
		}
	if (w->n == TLS_QUEUE_MAX) {
		if (kind == JOB_EXIT)
			w->sweep = true;
		else
			w->dropped++;
	} else {
		struct tls_job *q = &w->q[(w->head + w->n) % TLS_QUEUE_MAX];

		q->tgid = tgid;
		q->kind = kind;
		q->ktime_ns = ktime_ns;
		w->n++;
		w->queued++;
		if (w->n > w->queue_max)
			w->queue_max = w->n;
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void cache_file(void *ctx, const char *path)
{
	struct tls *t = ctx;
	int fi = file_of(t, path, path);

	if (fi >= 0)
		t->files[fi].cached = true;
}

static bool start_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
	/* signals are the event loop's (signalfd): none for these threads */
	sigset_t all, old;
	bool ok;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ok = !pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

static unsigned env_uint(const char *name, unsigned def, unsigned max)
{
	const char *e = getenv(name);
	long v = e ? strtol(e, NULL, 10) : 0;

	return v > 0 && v <= (long)max ? (unsigned)v : def;
}

struct tls *tls__open(struct vigil_bpf *skel)
{
	struct tls *t;
	bool any = false;

	if (!skel)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->skel = skel;
	pthread_mutex_init(&t->mu, NULL);
	pthread_mutex_init(&t->reap.mu, NULL);
	pthread_cond_init(&t->reap.cv, NULL);
	pthread_mutex_init(&t->w.mu, NULL);
	pthread_cond_init(&t->w.cv, NULL);
	t->watched_fd = bpf_map__fd(skel->maps.vg_tls_watched);
	t->taint_fd = bpf_map__fd(skel->maps.vg_taint);
	/* knobs to test the overflow, the storm and the window (docs/OPERATIONS.md) */
	t->max_att = env_uint("VIGIL_TLS_ATTACH_MAX", TLS_MAX_ATTACH, TLS_MAX_ATTACH);
	t->rate = env_uint("VIGIL_TLS_ATTACH_RATE", TLS_ATTACH_RATE, 100000);
	t->burst = t->rate == TLS_ATTACH_RATE ? TLS_ATTACH_BURST : t->rate;
	t->delay_ms = env_uint("VIGIL_TLS_ATTACH_DELAY_MS", 0, 60000);
	t->tokens = t->burst;
	t->tokens_ns = clock__mono_ns();
	for (size_t k = 0; k < NFUNCS; k++) {
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, funcs[k].prog);

		if (p && bpf_program__autoload(p) && bpf_program__fd(p) >= 0)
			t->progs[k] = p;
		any |= t->progs[k] != NULL;
	}
	if (!any) {
		tls__close(t);
		return NULL;
	}
	clear_watched(t);
	/* known, not attached: vigil status lists them (and files are
	 * parsed once, here, not on a tainted process's clock) */
	cache_libs(cache_file, t);
	t->reap.started = start_thread(&t->reap.th, reaper_main, &t->reap);
	t->w.started = start_thread(&t->w.th, worker_main, t);
	if (!t->w.started) {
		log__warn("TLS: no worker thread (%s): TLS flows of tainted processes are opaque",
			  strerror(errno));
	}
	return t;
}

void tls__scan_pid(struct tls *t, pid_t pid)
{
	if (t && t->w.started && pid > 0)
		enqueue(t, (uint32_t)pid, JOB_SCAN, 0);
}

/* A tainted process is gone: its flows' plaintext must not describe the
 * next process with its pid. The map holds tainted TLS flows only, so the
 * walk is short. */
static void forget_flows(struct tls *t, uint32_t tgid)
{
	int fd = bpf_map__fd(t->skel->maps.vg_tls_flows);
	struct vigil_flow_key k, next, gone[64];
	size_t n = 0;
	bool first = true;

	while (n < 64 && !bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (k.tgid == tgid)
			gone[n++] = k;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &gone[i]);
}

void tls__on_record(struct tls *t, const void *data, size_t size)
{
	const struct vigil_ev_header *h = data;

	if (!t || size < sizeof(*h) || !t->w.started)
		return;
	switch (h->type) {
	case VIGIL_EV_TAINT:
		/* a forked child included: its parent's uprobes are filtered
		 * by the parent's mm, not its; until the worker attached it,
		 * its TLS flows are opaque (tls__watched) */
		enqueue(t, h->tgid, JOB_SCAN, h->ktime_ns);
		break;
	case VIGIL_EV_EXEC:
		/* unwatched at once (a map delete: cheap), rescanned by the worker */
		bpf_map_delete_elem(t->watched_fd, &h->tgid);
		enqueue(t, h->tgid, JOB_EXEC, 0);
		break;
	case VIGIL_EV_CONNECT:
		enqueue(t, h->tgid, JOB_SCAN, 0);	/* a TLS library loaded since (dlopen) */
		break;
	case VIGIL_EV_EXIT:
		enqueue(t, h->tgid, JOB_EXIT, 0);
		forget_flows(t, h->tgid);
		break;
	default:
		break;
	}
}

void tls__close(struct tls *t)
{
	if (!t)
		return;
	if (t->w.started) {
		pthread_mutex_lock(&t->w.mu);
		t->w.stop = true;
		pthread_cond_signal(&t->w.cv);
		pthread_mutex_unlock(&t->w.mu);
		pthread_join(t->w.th, NULL);	/* after its current job */
	}
	if (t->watched_fd >= 0)
		clear_watched(t);	/* before the links go: no one judged on stale marks */
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < TLS_MAX_ATTACH; i++)
		if (t->att[i].tgid)
			detach_locked(t, &t->att[i]);
	for (size_t i = 0; i < t->nfiles; i++)
		for (size_t k = 0; k < NFUNCS; k++)
			reap(t, t->files[i].wide[k]);
	pthread_mutex_unlock(&t->mu);
	if (t->reap.started) {
		pthread_mutex_lock(&t->reap.mu);
		t->reap.stop = true;
		pthread_cond_signal(&t->reap.cv);
		pthread_mutex_unlock(&t->reap.mu);
		pthread_join(t->reap.th, NULL);	/* it empties the queue first */
	}
	pthread_mutex_destroy(&t->reap.mu);
	pthread_cond_destroy(&t->reap.cv);
	pthread_mutex_destroy(&t->w.mu);
	pthread_cond_destroy(&t->w.cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static const char *lib_word(unsigned lib)
{
	return lib == VIGIL_TLS_OPENSSL ? "openssl" : lib == VIGIL_TLS_GNUTLS ? "gnutls" :
	       lib == VIGIL_TLS_GO ? "go" : NULL;
}

static const char *class_word(unsigned c)
{
	return c == VIGIL_CLASS_WORK ? "work" : c == VIGIL_CLASS_WEIGHTS ? "weights" : "unknown";
}

/* Per (process, destination): the plaintext seen (vg_tls_flows). */
static void flows_json(const struct tls *t, struct json *j)
{
	int fd = bpf_map__fd(t->skel->maps.vg_tls_flows);
	struct vigil_flow_key k, next, *prev = NULL;
	unsigned n = 0;

	json__key(j, "flows");
	json__begin_array(j);
	while (n < 256 && !bpf_map_get_next_key(fd, prev, &next)) {
		struct vigil_tls_flow v;
		char addr[INET6_ADDRSTRLEN] = "";

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		inet_ntop(k.family == AF_INET6 ? AF_INET6 : AF_INET, k.daddr, addr, sizeof(addr));
		json__begin_object(j);
		json__kv_uint(j, "pid", k.tgid);
		json__kv_str(j, "daddr", addr);
		json__kv_uint(j, "dport", k.dport);
		json__kv_str(j, "plaintext_class", class_word(v.class));
		json__kv_bool(j, "seen_weights", v.flags & VIGIL_CF_SEEN_WEIGHTS);
		json__kv_str(j, "library", lib_word(v.lib));
		json__kv_uint(j, "plaintext_bytes", v.plaintext_bytes);
		json__kv_uint(j, "samples", v.samples);
		json__end_object(j);
		n++;
	}
	json__end_array(j);
}

/* Is tgid marked watched for its current taint (as tls__watched asks)? */
static bool watched_now(const struct tls *t, uint32_t tgid)
{
	struct vigil_taint v;
	uint64_t w;

	return !bpf_map_lookup_elem(t->watched_fd, &tgid, &w) &&
	       !bpf_map_lookup_elem(t->taint_fd, &tgid, &v) && v.since_ns == w;
}

static void funcs_json(struct json *j, unsigned f)
{
	json__key(j, "functions");
	json__begin_array(j);
	for (size_t k = 0; k < NFUNCS; k++)
		if (f & (1u << k))
			json__string(j, funcs[k].sym);
	json__end_array(j);
}

void tls__status_json(const struct tls *t, struct json *j)
{
	json__key(j, "tls");
	json__begin_object(j);
	json__kv_bool(j, "enabled", t != NULL);
	if (t) {
		struct tls *mt = (struct tls *)t;	/* its locks */
		unsigned n = 0;

		pthread_mutex_lock(&mt->w.mu);
		json__key(j, "worker");
		json__begin_object(j);
		json__kv_bool(j, "running", t->w.started);
		json__kv_uint(j, "pending", t->w.n + (t->w.busy ? 1 : 0));
		json__kv_uint(j, "queued", t->w.queued);
		json__kv_uint(j, "merged", t->w.merged);
		json__kv_uint(j, "dropped", t->w.dropped);
		json__kv_uint(j, "queue_max", t->w.queue_max);
		json__key(j, "pending_pids");	/* the first 64 */
		json__begin_array(j);
		for (size_t i = 0; i < t->w.n && i < 64; i++)
			json__uint(j, t->w.q[(t->w.head + i) % TLS_QUEUE_MAX].tgid);
		json__end_array(j);
		json__end_object(j);
		pthread_mutex_unlock(&mt->w.mu);
		pthread_mutex_lock(&mt->mu);

		json__kv_str(j, "attach", "per tainted process");
		json__key(j, "libraries");
		json__begin_array(j);
		for (size_t i = 0; i < t->nfiles; i++) {
			const struct tls_file *tf = &t->files[i];

			json__begin_object(j);
			json__kv_str(j, "path", tf->path);
			funcs_json(j, tf->funcs);
			json__kv_bool(j, "loader_cache", tf->cached);
			json__kv_uint(j, "processes", tf->procs);
			json__kv_bool(j, "host_wide", is_wide(tf));
			json__end_object(j);
		}
		json__end_array(j);
		/* (pid, file) attachments, the first 256 */
		json__key(j, "attached");
		json__begin_array(j);
		for (size_t i = 0; i < TLS_MAX_ATTACH && n < 256; i++) {
			const struct tls_attach *a = &t->att[i];
			unsigned f = 0;

			if (!a->tgid)
				continue;
			for (size_t k = 0; k < NFUNCS; k++)
				f |= a->links[k] ? 1u << k : 0;
			json__begin_object(j);
			json__kv_uint(j, "pid", a->tgid);
			json__kv_str(j, "path", t->files[a->file].path);
			funcs_json(j, f);
			json__kv_bool(j, "watched", watched_now(t, a->tgid));
			json__end_object(j);
			n++;
		}
		json__end_array(j);
		json__kv_uint(j, "attachments", t->natt);
		json__kv_uint(j, "attachments_max", t->max_att);
		json__kv_uint(j, "attach_overflow", t->overflow);
		json__kv_uint(j, "attach_rate_limited", t->rate_limited);
		json__kv_uint(j, "attach_rate", t->rate);
		json__kv_uint(j, "watched_total", t->watched);
		json__kv_uint(j, "unwatched_failed", t->unwatched);
		json__kv_uint(j, "swept", t->swept);
		json__kv_uint(j, "host_wide_files", t->host_wide);
		json__kv_uint(j, "files_overflow", t->files_overflow);
		json__kv_uint(j, "attached_total", t->attached);
		json__kv_uint(j, "detached_total", t->detached);
		json__key(j, "attach_latency_us");
		json__begin_object(j);
		json__kv_uint(j, "count", t->lat_n);
		json__kv_uint(j, "mean", t->lat_n ? t->lat_sum_ns / t->lat_n / 1000 : 0);
		json__kv_uint(j, "max", t->lat_max_ns / 1000);
		json__kv_uint(j, "last", t->lat_last_ns / 1000);
		json__end_object(j);
		/* the worker's time in one process's attach / detach */
		json__kv_uint(j, "attach_max_us", t->scan_max_ns / 1000);
		json__kv_uint(j, "detach_max_us", t->detach_max_ns / 1000);
		json__kv_uint(j, "detach_inline", t->reap_inline);
		json__kv_uint(j, "attach_failed", t->attach_failed);
		json__kv_uint(j, "scans", t->scans);
		pthread_mutex_unlock(&mt->mu);
		flows_json(t, j);
		json__kv_uint(j, "sampled", t->skel->bss->vg_tls_sampled);
		json__kv_uint(j, "bound", t->skel->bss->vg_tls_bound);
		json__kv_uint(j, "no_storage", t->skel->bss->vg_tls_nostorage);
	}
	json__end_object(j);
}

void tls__stats(const struct tls *t, struct tls_stats *s)
{
	struct tls *mt = (struct tls *)t;	/* its locks */

	memset(s, 0, sizeof(*s));
	if (!t)
		return;
	pthread_mutex_lock(&mt->mu);
	s->attachments = t->natt;
	s->host_wide_files = t->host_wide;
	s->overflow = t->overflow;
	s->rate_limited = t->rate_limited;
	s->failed = t->attach_failed;
	pthread_mutex_unlock(&mt->mu);
	pthread_mutex_lock(&mt->w.mu);
	s->dropped = t->w.dropped;
	pthread_mutex_unlock(&mt->w.mu);
}

void tls__flow(const struct tls *t, uint32_t tgid, struct activity *a)
{
	struct vigil_flow_key k = { .tgid = tgid, .proto = IPPROTO_TCP, .dport = a->dport };
	struct vigil_tls_flow v;

	if (!t)
		return;
	k.family = a->af == AF_INET6 ? AF_INET6 : AF_INET;
	memcpy(k.daddr, a->daddr_raw, a->af == AF_INET6 ? 16 : 4);
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.vg_tls_flows), &k, &v) || !v.samples)
		return;
	a->tls_plaintext = v.class == VIGIL_CLASS_WEIGHTS ? "weights" : "work";
	a->tls_library = lib_word(v.lib);
}
