// SPDX-License-Identifier: GPL-2.0
/* The copies file: protected copies across reboots (copies.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "copies.h"
#include "correlate.h"
#include "derived.h"
#include "log.h"
#include "pin.h"
#include "protect.h"
#include "state.h"
#include "status.h"
#include "vigil.skel.h"

#define COPIES_MAGIC "vigil-copies 1\n"
#define COPIES_MAX (16u << 20)	/* DERIVED_MAX copies with long paths */

static size_t saved_n = (size_t)-1;	/* copies in the file last written */

static bool copies_path(const struct agent *a, char *out, size_t n)
{
	return a->o->state_file &&
	       snprintf(out, n, "%s.copies", a->o->state_file) < (int)n;
}

/* ---- writing ---------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		}
		if (n < 0 || b->cap * 2 > COPIES_MAX) {
			b->failed = true;
			return;
		}
		char *np = realloc(b->p, b->cap * 2);

		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap *= 2;
	}
}

/* The inode's birth time (0 where the filesystem keeps none): an inode
 * number is reused at once after a delete, a birth time is not. */
static unsigned long long birth_ns(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BTIME | STATX_INO, &sx) ||
	    !(sx.stx_mask & STATX_BTIME))
		return 0;
	return sx.stx_btime.tv_sec * 1000000000ull + sx.stx_btime.tv_nsec;
}

/* one line per field, the path last (it may hold blanks, never a newline) */
static void put_copy(struct buf *b, const struct agent *a, const struct protect_copy *c)
{
	const struct derived *d = derived__get(corr__derived(a->corr), c->id);

	put(b, "copy %u %llu %llu %llu %u %u %s\n", c->id, (unsigned long long)c->kdev,
	    (unsigned long long)c->ino, birth_ns(c->path), c->mask, d ? d->via : VIGIL_VIA_FILE,
	    c->path);
	for (int i = 0; d && i < d->nsrc; i++) {
		const char *sp = protect__path(a->prot, d->src[i].file_id);

		if (sp && !strchr(sp, '\n'))
			put(b, "src %llu %s\n", (unsigned long long)d->src[i].bytes, sp);
	}
	for (int i = 0; d && i < d->nhops; i++)
		put(b, "hop %u %u %u %d %.*s\n", d->hops[i].pid, d->hops[i].via,
		    d->hops[i].file_id, i < d->before, VIGIL_COMM_LEN, d->hops[i].comm);
}

void copies__save(struct agent *a, bool force)
{
	struct buf b = { .cap = 4096 };
	struct protect_copy c;
	char path[PATH_MAX];
	size_t n = a->prot ? protect__copies(a->prot) : 0;
	int err;

	if (!copies_path(a, path, sizeof(path)) || (!force && n == saved_n))
		return;
	b.p = malloc(b.cap);
	if (!b.p)
		return;
	put(&b, COPIES_MAGIC "sets");
	for (size_t s = 0; s < a->rs.nsets; s++)
		put(&b, " %s", a->rs.sets[s].name);	/* names have no blanks */
	put(&b, "\n");
	for (size_t i = 0; protect__copy_at(a->prot, i, &c); i++)
		if (c.path[0] == '/' && !strchr(c.path, '\n'))	/* memfds have no path */
			put_copy(&b, a, &c);
	err = b.failed ? -EFBIG : state__save_signed(path, b.p, b.len);
	free(b.p);
	if (err) {
		status__error(a, "copies file %s: cannot write it: %s (copies of the weights "
			      "would not stay protected across a reboot)", path, strerror(-err));
		return;
	}
	saved_n = n;
}

/* ---- restoring -------------------------------------------------------------- */

struct restore {
	struct agent *a;
	bool in_kernel;		/* adopted: the pinned vg_files still has them */
	char *set_names[VIGIL_MAX_SETS];
	int nsets;
	struct protect_copy cur;
	struct derived d;
	bool have;		/* cur is a copy still there */
	uint32_t max_seq;
	unsigned restored, gone;
};

/* saved set bits -> this rule set's bits (sets are matched by name) */
static uint32_t remap(const struct restore *r, uint32_t mask)
{
	uint32_t out = 0;

	for (int i = 0; i < r->nsets; i++)
		if (mask & (1u << i)) {
			int s = rules__set_index(&r->a->rs, r->set_names[i]);

			if (s >= 0)
				out |= 1u << s;
		}
	return out;
}

static void finish(struct restore *r)
{
	if (!r->have)
		return;
	r->have = false;
	if (protect__restore_copy(r->a->prot, &r->cur, r->in_kernel))
		return;
	r->restored++;
	if (r->d.nsrc) {
		r->d.file_id = r->cur.id;
		derived__put(corr__derived(r->a->corr), &r->d);
	}
	free((char *)r->cur.path);
	r->cur.path = NULL;
}

static int on_copy_line(struct restore *r, char *line)
{
	unsigned id, mask, via;
	unsigned long long kdev, ino, born;
	struct stat st;
	int off = 0;

	finish(r);
	if (sscanf(line, "copy %u %llu %llu %llu %u %u %n", &id, &kdev, &ino, &born, &mask, &via,
		   &off) < 6 || !off || line[off] != '/' || id < VIGIL_COPY_ID_BASE)
		return -1;
	if (id - VIGIL_COPY_ID_BASE + 1 > r->max_seq)
		r->max_seq = id - VIGIL_COPY_ID_BASE + 1;
	/* the same inode at the same path, or it is not the copy any more */
	if (stat(line + off, &st) || !S_ISREG(st.st_mode) ||
	    protect__kdev(st.st_dev) != kdev || st.st_ino != ino ||
	    (born && birth_ns(line + off) != born)) {
		r->gone++;
		return 0;
	}
	r->cur = (struct protect_copy){ id, remap(r, mask), kdev, ino, strdup(line + off) };
	memset(&r->d, 0, sizeof(r->d));
	r->d.via = via;
	r->have = r->cur.path && r->cur.mask;
	if (!r->have) {
		free((char *)r->cur.path);
		r->cur.path = NULL;
	}
	return 0;
}

static int on_src_line(struct restore *r, const char *line)
{
	unsigned long long bytes;
	struct stat st;
	int off = 0, id;

	if (sscanf(line, "src %llu %n", &bytes, &off) < 1 || !off)
		return -1;
	/* the original, by what it is now (ids are this agent's) */
	if (!r->have || r->d.nsrc >= ACT_MAX_SOURCES || stat(line + off, &st))
		return 0;
	id = protect__lookup(r->a->prot, protect__kdev(st.st_dev), st.st_ino, NULL);
	if (id <= 0)
		return 0;
	r->d.src[r->d.nsrc++] = (struct derived_src){ .file_id = (uint32_t)id, .bytes = bytes };
	return 0;
}

static int on_hop_line(struct restore *r, const char *line)
{
	unsigned pid, via, file_id;
	int before, off = 0;
	struct derived_hop *h;

	if (sscanf(line, "hop %u %u %u %d %n", &pid, &via, &file_id, &before, &off) < 4 || !off)
		return -1;
	if (!r->have || r->d.nhops >= ACT_MAX_CHAIN)
		return 0;
	h = &r->d.hops[r->d.nhops++];
	*h = (struct derived_hop){ .pid = pid, .via = via, .file_id = file_id };
	snprintf(h->comm, sizeof(h->comm), "%s", line + off);
	if (before)
		r->d.before = r->d.nhops;
	return 0;
}

void copies__restore(struct agent *a)
{
	struct restore r = { .a = a, .in_kernel = a->pin && a->pin->adopted };
	char path[PATH_MAX], why[PATH_MAX + 100], *body, *line, *save = NULL;
	int err, lineno = 2;	/* the sets line; the magic is line 1 */

	if (!copies_path(a, path, sizeof(path)))
		return;
	err = state__load_signed(path, COPIES_MAGIC, COPIES_MAX, &body, why, sizeof(why));
	if (err == -ENOENT)
		return;
	if (err) {
		snprintf(a->copies_why, sizeof(a->copies_why),
			 "copies file %s: copies made before this start are not protected again", why);
		return;
	}
	line = strtok_r(body + strlen(COPIES_MAGIC), "\n", &save);
	if (!line || strncmp(line, "sets", 4))
		err = -1;
	for (char *sv = NULL, *n = line ? strtok_r(line + 4, " ", &sv) : NULL;
	     !err && n && r.nsets < VIGIL_MAX_SETS; n = strtok_r(NULL, " ", &sv))
		r.set_names[r.nsets++] = n;
	while (!err && (line = strtok_r(NULL, "\n", &save))) {
		lineno++;
		err = !strncmp(line, "copy ", 5) ? on_copy_line(&r, line) :
		      !strncmp(line, "src ", 4) ? on_src_line(&r, line) :
		      !strncmp(line, "hop ", 4) ? on_hop_line(&r, line) : -1;
	}
	if (!err)
		finish(&r);
	free((char *)r.cur.path);
	/* new copies get ids after the restored ones */
	if (r.max_seq > a->ld.skel->bss->vg_copy_seq)
		__atomic_store_n(&a->ld.skel->bss->vg_copy_seq, r.max_seq, __ATOMIC_SEQ_CST);
	if (err)
		snprintf(a->copies_why, sizeof(a->copies_why),
			 "copies file %s: line %d: not a copies line (the copies after it are not "
			 "protected again)", path, lineno);
	free(body);
	saved_n = (size_t)-1;
	if (r.restored || r.gone)
		log__info("copies file %s: %u copies protected again, %u gone or changed", path,
			  r.restored, r.gone);
	a->copies_restored = r.restored;
}
