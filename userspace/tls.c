// SPDX-License-Identifier: GPL-2.0
/* TLS libraries and the uprobes on their write functions (tls.h). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <bpf/libbpf.h>

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

#define TLS_MAX_FILES 256	/* attached libraries and executables */
#define TLS_MAX_CHECKED 1024	/* files looked at that have no TLS writes */

struct tls_file {
	dev_t dev;
	ino_t ino;
	char path[256];
	unsigned funcs;
	struct bpf_link *links[NFUNCS];
};

struct tls {
	struct vigil_bpf *skel;
	struct bpf_program *progs[NFUNCS];
	struct tls_file files[TLS_MAX_FILES];
	size_t nfiles;
	struct { dev_t dev; ino_t ino; } checked[TLS_MAX_CHECKED];
	size_t nchecked, checked_next;
	unsigned long long attach_failed, scans;
};

/* ---- ELF: which of the write functions a file defines -------------------- */

unsigned tls__file_funcs(const char *path)
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
			for (size_t k = 0; name && k < NFUNCS; k++)
				if (!strcmp(name, funcs[k].sym))
					found |= 1u << k;
		}
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return found;
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

/* ---- attaching ------------------------------------------------------------ */

static bool was_checked(struct tls *t, const struct stat *st)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].dev == st->st_dev && t->files[i].ino == st->st_ino)
			return true;
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

/* path: as this agent can open it (through /proc/PID/root for another
 * mount namespace); shown: as the process names it. */
static void attach_file(struct tls *t, const char *path, const char *shown)
{
	struct tls_file *tf;
	struct stat st;
	unsigned f;

	if (stat(path, &st) || !S_ISREG(st.st_mode) || was_checked(t, &st))
		return;
	f = tls__file_funcs(path);
	if (!f || t->nfiles == TLS_MAX_FILES) {
		if (f)
			log__warn("TLS: more than %d libraries, %s not attached", TLS_MAX_FILES, shown);
		remember_checked(t, &st);
		return;
	}
	tf = &t->files[t->nfiles++];
	memset(tf, 0, sizeof(*tf));
	tf->dev = st.st_dev;
	tf->ino = st.st_ino;
	snprintf(tf->path, sizeof(tf->path), "%s", shown);
	for (size_t k = 0; k < NFUNCS; k++) {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = funcs[k].sym);

		if (!(f & (1u << k)) || !t->progs[k])
			continue;
		tf->links[k] = bpf_program__attach_uprobe_opts(t->progs[k], -1, path, 0, &o);
		if (!tf->links[k]) {
			t->attach_failed++;
			log__warn("TLS: uprobe on %s in %s failed: %s", funcs[k].sym, shown,
				  strerror(errno));
			continue;
		}
		tf->funcs |= 1u << k;
	}
	log__info("TLS plaintext: %s (%s%s%s%s)", shown,
		  tf->funcs & 1 ? "SSL_write " : "", tf->funcs & 2 ? "SSL_write_ex " : "",
		  tf->funcs & 4 ? "gnutls_record_send " : "",
		  tf->funcs & 8 ? "crypto/tls.(*Conn).Write" : "");
}

static void attach_cached(void *ctx, const char *path)
{
	attach_file(ctx, path, path);
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
	for (size_t k = 0; k < NFUNCS; k++) {
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, funcs[k].prog);

		if (p && bpf_program__autoload(p) && bpf_program__fd(p) >= 0)
			t->progs[k] = p;
		any |= t->progs[k] != NULL;
	}
	if (!any) {
		free(t);
		return NULL;
	}
	cache_libs(attach_cached, t);
	return t;
}

void tls__scan_pid(struct tls *t, pid_t pid)
{
	char path[64], line[512 + PATH_MAX], full[PATH_MAX + 64];
	FILE *f;

	if (!t || pid <= 0)
		return;
	t->scans++;
	/* the executable: statically linked OpenSSL/GnuTLS, Go with symbols */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	{
		char exe[PATH_MAX];
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);

		if (n > 0) {
			exe[n] = 0;
			attach_file(t, path, exe);
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char perms[8], *p = strchr(line, '/');

		if (!p || sscanf(line, "%*s %7s", perms) != 1 || perms[2] != 'x')
			continue;
		p[strcspn(p, "\n")] = 0;
		if (!tls_name(p))
			continue;
		snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, p);
		attach_file(t, full, p);
	}
	fclose(f);
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

	if (!t || size < sizeof(*h))
		return;
	if (h->type == VIGIL_EV_TAINT || h->type == VIGIL_EV_EXEC || h->type == VIGIL_EV_CONNECT)
		tls__scan_pid(t, (pid_t)h->tgid);
	else if (h->type == VIGIL_EV_EXIT)
		forget_flows(t, h->tgid);
}

void tls__close(struct tls *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nfiles; i++)
		for (size_t k = 0; k < NFUNCS; k++)
			bpf_link__destroy(t->files[i].links[k]);
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

void tls__status_json(const struct tls *t, struct json *j)
{
	json__key(j, "tls");
	json__begin_object(j);
	json__kv_bool(j, "enabled", t != NULL);
	if (t) {
		json__key(j, "libraries");
		json__begin_array(j);
		for (size_t i = 0; i < t->nfiles; i++) {
			json__begin_object(j);
			json__kv_str(j, "path", t->files[i].path);
			json__key(j, "functions");
			json__begin_array(j);
			for (size_t k = 0; k < NFUNCS; k++)
				if (t->files[i].funcs & (1u << k))
					json__string(j, funcs[k].sym);
			json__end_array(j);
			json__end_object(j);
		}
		json__end_array(j);
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
