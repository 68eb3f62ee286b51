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
 * two TLS libraries besides the loader cache's (about three files on a
 * Debian host: libssl.so.3, libgnutls.so.30, their kin), stays inside
 * TLS_MAX_ATTACH; past it a file is attached host-wide (tls_file.wide),
 * which costs every process mapping it a trap per write, but sees. */
#define TLS_MAX_FILES 256	/* known TLS libraries and executables */
#define TLS_MAX_CHECKED 1024	/* files looked at that have no TLS writes */
#define TLS_MAX_ATTACH 2048	/* (tainted process, TLS file) attachments */

struct tls_file {
	dev_t dev;
	ino_t ino;
	char path[256];		/* as the first process to map it named it */
	unsigned funcs;		/* write functions the file defines */
	unsigned long off[NFUNCS];	/* their file offsets (the uprobe's) */
	bool cached;		/* in the loader's cache: every tainted process gets it */
	unsigned procs;		/* processes attached to it now */
	struct bpf_link *wide[NFUNCS];	/* host-wide fallback: the table was full */
};

/* One tainted process's uprobes on one file (pid-filtered: the breakpoint
 * is only in that process's mm). tgid 0: a free slot. */
struct tls_attach {
	uint32_t tgid;
	uint16_t file;
	bool stale;		/* from before the process's exec: goes once re-attached */
	struct bpf_link *links[NFUNCS];
};

/* Closing a uprobe perf event waits for the kernel's uprobe RCU (measured:
 * 342 ms for one process's three links on a loaded VM), which would stall
 * the ring buffer: links are destroyed on a thread of their own. Full
 * queue: destroyed in place (counted). */
#define TLS_REAP_MAX 4096

struct tls_reaper {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bpf_link *q[TLS_REAP_MAX];
	size_t n;
	bool stop, started;
	pthread_t th;
};

struct tls {
	struct vigil_bpf *skel;
	struct tls_reaper reap;
	unsigned long long reap_inline;	/* destroyed on the event loop: queue full */
	struct bpf_program *progs[NFUNCS];
	struct tls_file files[TLS_MAX_FILES];
	size_t nfiles;
	struct { dev_t dev; ino_t ino; } checked[TLS_MAX_CHECKED];
	size_t nchecked, checked_next;
	struct tls_attach att[TLS_MAX_ATTACH];
	size_t natt;		/* slots in use */
	size_t max_att;		/* slots usable: TLS_MAX_ATTACH, or VIGIL_TLS_ATTACH_MAX */
	unsigned long long attach_failed, scans, attached, detached;
	unsigned long long overflow, host_wide, files_overflow;
	/* from a TAINT record's kernel time to its process's uprobes attached */
	unsigned long long lat_n, lat_sum_ns, lat_max_ns, lat_last_ns;
	/* time the event loop spent in one process's scan+attach / detach */
	unsigned long long scan_max_ns, detach_max_ns;
};

/* ---- ELF: which of the write functions a file defines -------------------- */

/* The write functions path defines, and their file offsets (what a uprobe
 * is placed at: the symbol's address less its section's, plus the
 * section's file offset, as libbpf computes it for func_name). */
static unsigned file_funcs(const char *path, unsigned long off[NFUNCS])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	unsigned found = 0;
	struct stat st;
	Elf *e = NULL;
	Elf_Scn *scn = NULL;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || elf_version(EV_CURRENT) == EV_NONE)
		goto out;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		goto out;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			for (size_t k = 0; name && k < NFUNCS; k++) {
				Elf_Scn *in;
				GElf_Shdr ish;

				if (strcmp(name, funcs[k].sym) || (found & (1u << k)))
					continue;
				in = elf_getscn(e, sym.st_shndx);
				if (!in || !gelf_getshdr(in, &ish) || sym.st_value < ish.sh_addr)
					continue;
				off[k] = sym.st_value - ish.sh_addr + ish.sh_offset;
				found |= 1u << k;
			}
		}
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return found;
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
 * file: the library's name and its path. */
typedef void (*lib_fn)(void *ctx, const char *path);

static void cache_libs(lib_fn fn, void *ctx)
{
	static const char magic[] = "glibc-ld.so.cache1.1";
	int fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	const char *m;
	uint32_t n;

	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 48 || st.st_size > (64 << 20)) {
		close(fd);
		return;
	}
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	if (!memcmp(m, magic, sizeof(magic) - 1)) {
		memcpy(&n, m + 20, 4);
		for (uint32_t i = 0; i < n && 48 + (uint64_t)(i + 1) * 24 <= (uint64_t)st.st_size; i++) {
			uint32_t value;

			memcpy(&value, m + 48 + (size_t)i * 24 + 8, 4);
			if (value >= st.st_size || !memchr(m + value, 0, st.st_size - value))
				continue;
			if (tls_name(m + value))
				fn(ctx, m + value);
		}
	}
	munmap((void *)m, st.st_size);
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

/* ---- the files ------------------------------------------------------------ */

static bool was_checked(struct tls *t, const struct stat *st)
{
	for (size_t i = 0; i < t->nchecked; i++)
		if (t->checked[i].dev == st->st_dev && t->checked[i].ino == st->st_ino)
			return true;
	return false;
}

static void remember_checked(struct tls *t, const struct stat *st)
{
	size_t i = t->nchecked < TLS_MAX_CHECKED ? t->nchecked++ : t->checked_next++ % TLS_MAX_CHECKED;

	t->checked[i].dev = st->st_dev;
	t->checked[i].ino = st->st_ino;
}

/* The TLS file at path (as this agent can open it; shown: as the process
 * names it), learnt on first sight: its index, or -1 when it has no TLS
 * write functions (or the table is full). */
static int file_of(struct tls *t, const char *path, const char *shown)
{
	struct tls_file *tf;
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
	tf = &t->files[t->nfiles];
	memset(tf, 0, sizeof(*tf));
	tf->dev = st.st_dev;
	tf->ino = st.st_ino;
	snprintf(tf->path, sizeof(tf->path), "%s", shown);
	for (size_t k = 0; k < NFUNCS; k++)
		if ((f & (1u << k)) && t->progs[k])
			tf->funcs |= 1u << k;
	memcpy(tf->off, off, sizeof(off));
	log__info("TLS plaintext: %s (%s%s%s%s), attached per tainted process", shown,
		  tf->funcs & 1 ? "SSL_write " : "", tf->funcs & 2 ? "SSL_write_ex " : "",
		  tf->funcs & 4 ? "gnutls_record_send " : "",
		  tf->funcs & 8 ? "crypto/tls.(*Conn).Write" : "");
	return (int)t->nfiles++;
}

/* ---- attaching ------------------------------------------------------------ */

/* pid > 0: a uprobe perf event filtered by the mm of pid's task
 * (uprobe_perf_filter), so the breakpoint is only written into that
 * process; it follows the task through exec. pid -1: every process. */
static unsigned attach_links(struct tls *t, struct tls_file *tf, const char *path, int pid,
			     struct bpf_link *links[NFUNCS])
{
	unsigned got = 0;

	for (size_t k = 0; k < NFUNCS; k++) {
		if (!(tf->funcs & (1u << k)))
			continue;
		links[k] = bpf_program__attach_uprobe_opts(t->progs[k], pid, path, tf->off[k], NULL);
		if (!links[k]) {
			int err = errno;

			t->attach_failed++;
			if (err != ESRCH)	/* a process gone before its attach: nothing to see */
				log__warn("TLS: uprobe on %s in %s (pid %d) failed: %s", funcs[k].sym,
					  tf->path, pid, strerror(err));
			continue;
		}
		got |= 1u << k;
	}
	return got;
}

static struct tls_attach *find_att(struct tls *t, uint32_t tgid, size_t file)
{
	for (size_t i = 0; i < TLS_MAX_ATTACH; i++)
		if (t->att[i].tgid == tgid && t->att[i].file == file && !t->att[i].stale)
			return &t->att[i];
	return NULL;
}

/* The table is full: the file is attached for every process from now on,
 * so the tainted ones are still seen (untainted ones pay a trap per write). */
static void attach_wide(struct tls *t, struct tls_file *tf, const char *path, uint32_t tgid)
{
	t->overflow++;
	if (tf->wide[0] || tf->wide[1] || tf->wide[2] || tf->wide[3])
		return;
	log__warn("TLS: %zu per-process attachments in use; %s attached host-wide from now on "
		  "(pid %u and later tainted processes covered, every process mapping it pays)",
		  t->max_att, tf->path, tgid);
	if (attach_links(t, tf, path, -1, tf->wide))
		t->host_wide++;
}

static bool is_wide(const struct tls_file *tf)
{
	for (size_t k = 0; k < NFUNCS; k++)
		if (tf->wide[k])
			return true;
	return false;
}

/* Attach file fi for tgid unless it is already (or host-wide): 1 if a new
 * attachment was made. */
static int attach_pid_file(struct tls *t, uint32_t tgid, int fi, const char *path)
{
	struct tls_file *tf = &t->files[fi];
	struct tls_attach *a = NULL;

	if (!tf->funcs || is_wide(tf) || find_att(t, tgid, (size_t)fi))
		return 0;
	for (size_t i = 0; i < t->max_att && !a; i++)
		if (!t->att[i].tgid)
			a = &t->att[i];
	if (!a) {
		attach_wide(t, tf, path, tgid);
		return 0;
	}
	memset(a, 0, sizeof(*a));
	if (!attach_links(t, tf, path, (int)tgid, a->links))
		return 0;
	a->tgid = tgid;
	a->file = (uint16_t)fi;
	t->natt++;
	tf->procs++;
	t->attached++;
	return 1;
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

static void detach(struct tls *t, struct tls_attach *a)
{
	for (size_t k = 0; k < NFUNCS; k++)
		reap(t, a->links[k]);
	t->files[a->file].procs--;
	memset(a, 0, sizeof(*a));
	t->natt--;
	t->detached++;
}

/* Detach tgid's attachments: all, or only those marked stale. */
static void detach_pid(struct tls *t, uint32_t tgid, bool stale_only)
{
	uint64_t t0;
	bool any = false;

	if (!t->natt)
		return;
	t0 = clock__mono_ns();
	for (size_t i = 0; i < TLS_MAX_ATTACH; i++)
		if (t->att[i].tgid == tgid && (!stale_only || t->att[i].stale)) {
			detach(t, &t->att[i]);
			any = true;
		}
	if (any && clock__mono_ns() - t0 > t->detach_max_ns)
		t->detach_max_ns = clock__mono_ns() - t0;
}

static void cache_file(void *ctx, const char *path)
{
	struct tls *t = ctx;
	int fi = file_of(t, path, path);

	if (fi >= 0)
		t->files[fi].cached = true;
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
	pthread_mutex_init(&t->reap.mu, NULL);
	pthread_cond_init(&t->reap.cv, NULL);
	{
		/* signals are the event loop's (signalfd): none for this thread */
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		t->reap.started = !pthread_create(&t->reap.th, NULL, reaper_main, &t->reap);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	t->max_att = TLS_MAX_ATTACH;
	{
		/* a smaller table: to test the overflow path (docs/OPERATIONS.md) */
		const char *e = getenv("VIGIL_TLS_ATTACH_MAX");
		long v = e ? strtol(e, NULL, 10) : 0;

		if (v > 0 && v < TLS_MAX_ATTACH)
			t->max_att = (size_t)v;
	}
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
	/* known, not attached: a tainted process gets them even before its
	 * loader maps them (a child's exec'd image, e.g. curl) */
	cache_libs(cache_file, t);
	return t;
}

/* Attach pid's TLS files: the loader cache's, its executable and the TLS
 * libraries it maps; the number of new attachments. */
static int scan_pid(struct tls *t, pid_t pid)
{
	char path[64], line[512 + PATH_MAX], full[PATH_MAX + 64];
	uint64_t t0 = clock__mono_ns();
	int fi, made = 0;
	FILE *f;

	if (!t || pid <= 0)
		return 0;
	t->scans++;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;	/* gone already (a short-lived child): nothing to attach */
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].cached)
			made += attach_pid_file(t, (uint32_t)pid, (int)i, t->files[i].path);
	/* the executable: statically linked OpenSSL/GnuTLS, Go with symbols */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	{
		char exe[PATH_MAX];
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);

		if (n > 0) {
			exe[n] = 0;
			fi = file_of(t, path, exe);
			if (fi >= 0)
				made += attach_pid_file(t, (uint32_t)pid, fi, path);
		}
	}
	while (fgets(line, sizeof(line), f)) {
		char perms[8], *p = strchr(line, '/');

		if (!p || sscanf(line, "%*s %7s", perms) != 1 || perms[2] != 'x')
			continue;
		p[strcspn(p, "\n")] = 0;
		if (!tls_name(p))
			continue;
		snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, p);
		fi = file_of(t, full, p);
		if (fi >= 0)
			made += attach_pid_file(t, (uint32_t)pid, fi, full);
	}
	fclose(f);
	if (made && clock__mono_ns() - t0 > t->scan_max_ns)
		t->scan_max_ns = clock__mono_ns() - t0;
	return made;
}

void tls__scan_pid(struct tls *t, pid_t pid)
{
	scan_pid(t, pid);
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
	const struct vigil_ev_taint *tr = data;

	if (!t || size < sizeof(*h))
		return;
	switch (h->type) {
	case VIGIL_EV_TAINT:
		/* a forked child is a new process: what a previous holder of
		 * its pid left (an EXIT record lost) targets a dead task */
		if (size >= sizeof(*tr) && tr->via == VIGIL_VIA_FORK)
			detach_pid(t, h->tgid, false);
		if (scan_pid(t, (pid_t)h->tgid)) {
			uint64_t now = clock__mono_ns(), d = now > h->ktime_ns ? now - h->ktime_ns : 0;

			t->lat_n++;
			t->lat_sum_ns += d;
			t->lat_last_ns = d;
			if (d > t->lat_max_ns)
				t->lat_max_ns = d;
		}
		break;
	case VIGIL_EV_EXEC:
		/* a new image: attach its files anew, then let the old go (the
		 * old ones keep covering it meanwhile, unless a thread other
		 * than the leader exec'd: their task is gone then) */
		for (size_t i = 0; t->natt && i < TLS_MAX_ATTACH; i++)
			if (t->att[i].tgid == h->tgid)
				t->att[i].stale = true;
		scan_pid(t, (pid_t)h->tgid);
		detach_pid(t, h->tgid, true);
		break;
	case VIGIL_EV_CONNECT:
		scan_pid(t, (pid_t)h->tgid);	/* a TLS library loaded since (dlopen) */
		break;
	case VIGIL_EV_EXIT:
		detach_pid(t, h->tgid, false);
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
	for (size_t i = 0; i < TLS_MAX_ATTACH; i++)
		if (t->att[i].tgid)
			detach(t, &t->att[i]);
	for (size_t i = 0; i < t->nfiles; i++)
		for (size_t k = 0; k < NFUNCS; k++)
			reap(t, t->files[i].wide[k]);
	if (t->reap.started) {
		pthread_mutex_lock(&t->reap.mu);
		t->reap.stop = true;
		pthread_cond_signal(&t->reap.cv);
		pthread_mutex_unlock(&t->reap.mu);
		pthread_join(t->reap.th, NULL);	/* it empties the queue first */
	}
	pthread_mutex_destroy(&t->reap.mu);
	pthread_cond_destroy(&t->reap.cv);
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
		unsigned n = 0;

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
			json__end_object(j);
			n++;
		}
		json__end_array(j);
		json__kv_uint(j, "attachments", t->natt);
		json__kv_uint(j, "attachments_max", t->max_att);
		json__kv_uint(j, "attach_overflow", t->overflow);
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
		/* the event loop's time in one process's attach / detach */
		json__kv_uint(j, "attach_max_us", t->scan_max_ns / 1000);
		json__kv_uint(j, "detach_max_us", t->detach_max_ns / 1000);
		json__kv_uint(j, "detach_inline", t->reap_inline);
		flows_json(t, j);
		json__kv_uint(j, "sampled", t->skel->bss->vg_tls_sampled);
		json__kv_uint(j, "bound", t->skel->bss->vg_tls_bound);
		json__kv_uint(j, "no_storage", t->skel->bss->vg_tls_nostorage);
		json__kv_uint(j, "attach_failed", t->attach_failed);
		json__kv_uint(j, "scans", t->scans);
	}
	json__end_object(j);
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
