// SPDX-License-Identifier: GPL-2.0
/* corr_env and pipes_env, backed by the kernel maps, protect.c and /proc;
 * enforce.c's enforce_env. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "enforce.h"
#include "log.h"
#include "pipes.h"
#include "protect.h"
#include "status.h"
#include "tls.h"
#include "derived.h"
#include "watch.h"
#include "world.h"

/* ---- corr_env ------------------------------------------------------------------ */

static const char *env_file_path(void *ctx, uint32_t id)
{
	struct agent *a = ctx;

	return protect__path(a->prot, id);
}

static uint64_t env_file_size(void *ctx, uint32_t id)
{
	struct agent *a = ctx;
	const char *path = protect__path(a->prot, id);
	struct stat st;

	/* a deleted copy has no size any more: coverage unknown */
	return path && !stat(path, &st) && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

static uint32_t env_file_sets(void *ctx, uint32_t id)
{
	struct agent *a = ctx;

	uint32_t mask = protect__mask(a->prot, id);	/* by id, never by a path */

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

	return kmaps__bytes_read(a->ld.skel, tgid, file_id);
}

static int env_proc_read(void *ctx, uint32_t pid, struct proc_info *out)
{
	return proc__read(pid, out);
}

/* Agent-side kill, for a blocked sender the kernel could not kill in its
 * own context. */
static int env_kill(void *ctx, uint32_t pid, unsigned long long start_ticks)
{
	struct agent *a = ctx;

	return scope__kill(&a->scope, pid, start_ticks);
}

static const char *env_watch_path(void *ctx, uint32_t id)
{
	(void)ctx;
	return watch__path(id);
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
	/* a memfd has no path: its name is the kernel's "memfd:NAME" */
	if (derived__copy_via(e) == VIGIL_VIA_MEMFD)
		snprintf(path, sizeof(path), "%.*s", VIGIL_COPY_NAME_LEN, e->names[0]);
	dh = path[0] ? NULL : opendir(dir);
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

static void env_tls_flow(void *ctx, uint32_t tgid, struct activity *act)
{
	struct agent *a = ctx;

	tls__flow(a->tls, tgid, act);
}

void world__corr_env(struct agent *a, struct corr_env *env)
{
	*env = (struct corr_env){
		.ctx = a, .file_path = env_file_path, .file_sets = env_file_sets,
		.file_size = env_file_size,
		.set_name = env_set_name, .bytes_read = env_bytes_read,
		.proc_read = env_proc_read, .kill = env_kill,
		.comm_of = env_comm_of, .file_copied = env_file_copied,
		.tls_flow = env_tls_flow, .watch_path = env_watch_path,
		.enforce = a->o->enforce,
		.deny_new_dest = a->o->deny_new_dest,
	};
}

/* ---- pipes_env ----------------------------------------------------------------- */

static bool pe_in_scope(void *ctx, int pid)
{
	struct agent *a = ctx;

	return scope__contains(&a->scope, pid);
}

static bool pe_taint_get(void *ctx, uint32_t tgid, uint32_t *mask, uint32_t *depth,
			 uint32_t *file_id)
{
	struct agent *a = ctx;
	struct vigil_taint t;

	if (!kmaps__taint_get(a->ld.skel, tgid, &t))
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
				 .since_ns = clock__mono_ns() };
	int err = kmaps__taint_start(a->ld.skel, tgid, &t);

	if (err)
		return err;
	tls__scan_pid(a->tls, tgid);	/* no TAINT record: its TLS uprobes now */
	corr__inject(a->corr, tgid, from, VIGIL_VIA_PIPE, file_id, mask, depth, t.since_ns);
	return 0;
}

static bool pe_pipe_mark(void *ctx, uint64_t ino, uint32_t *writer, uint32_t *mask,
			 uint32_t *depth, uint32_t *file_id)
{
	struct agent *a = ctx;
	struct vigil_pipe_mark m;

	unsigned long long min = a->ld.relay_min_bytes ? a->ld.relay_min_bytes
						       : VIGIL_PROPAGATE_MIN_BYTES;

	if (!kmaps__pipe_mark(a->ld.skel, ino, &m) || m.weights_bytes < min)
		return false;	/* by bytes, as the kernel's check */
	*writer = m.tgid;
	*mask = m.set_mask;
	*depth = m.depth;
	*file_id = m.file_id;
	return true;
}

int world__propagate_pipes(struct agent *a)
{
	struct pipes_env env = { .ctx = a, .in_scope = pe_in_scope,
				 .taint_get = pe_taint_get, .pipe_mark = pe_pipe_mark,
				 .taint_put = pe_taint_put };

	return pipes__propagate(&env, getpid());
}

/* ---- enforce_env ------------------------------------------------------------ */

static const char *enforce_set_name(void *ctx, unsigned set)
{
	struct agent *a = ctx;

	return set < a->rs.nsets ? a->rs.sets[set].name : "?";
}

struct enforce *world__enforce(struct agent *a)
{
	struct enforce_env env = {
		.skel = a->ld.skel, .out = a->out, .budgets = &a->budgets, .rs = &a->rs,
		.enforce = a->o->enforce, .ctx = a, .set_name = enforce_set_name,
		.error = status__error_line,
	};

	return enforce__new(&env);
}
