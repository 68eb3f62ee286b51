// SPDX-License-Identifier: GPL-2.0
/* Pinned programs and maps in bpffs, and the ledger beside them (pin.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pin.h"

#define BPF_FS_MAGIC 0xcafe4a11

/* The maps that are config, not state: fresh every load (vg_own: the
 * agent's own object ids, frozen once filled: guard.c; vg_watch: ids of
 * this agent's table, watch.c). */
static bool map_is_config(const struct bpf_map *m)
{
	const char *n = bpf_map__name(m);
	size_t l = strlen(n);

	if (!strcmp(n, "vg_own") || !strcmp(n, "vg_watch"))
		return true;
	return l >= 7 && (!strcmp(n + l - 7, ".rodata") || (l >= 8 && !strcmp(n + l - 8, ".kconfig")));
}

static void map_path(const struct pin *p, const struct bpf_map *m, char *buf, size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), "%s", bpf_map__name(m));
	for (char *c = name; *c; c++)
		if (*c == '.' || *c == '/')
			*c = '_';
	snprintf(buf, len, "%s/maps/%s", p->dir, name);
}

static int mkdir_0700(const char *d)
{
	if (mkdir(d, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* ---- the ledger ------------------------------------------------------------- */

static void ledger_read(struct pin *p)
{
	FILE *f = fopen(p->ledger_path, "re");
	char line[256], name[64];
	unsigned long long v;
	unsigned idx;

	memset(&p->old, 0, sizeof(p->old));
	if (!f)
		return;
	p->old.present = true;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "pid %u", &p->old.pid) == 1)
			continue;
		if (sscanf(line, "clean %llu", &v) == 1)
			p->old.clean = v;
		else if (sscanf(line, "last_seen_ns %llu", &v) == 1)
			p->old.last_seen_ns = v;
		else if (sscanf(line, "set %u %63s %llu", &idx, name, &v) == 3 &&
			 idx == p->old.nsets && idx < VIGIL_MAX_SETS) {
			snprintf(p->old.sets[idx], sizeof(p->old.sets[idx]), "%s", name);
			p->old.window_start[idx] = v;
			p->old.nsets++;
		}
	}
	fclose(f);
}

int pin__write_ledger(struct pin *p, bool clean, const struct ruleset *rs,
		      const uint64_t *window_start)
{
	char tmp[PATH_MAX];
	struct timespec ts;
	FILE *f;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->ledger_path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "pid %u\nclean %d\nlast_seen_ns %llu\npin_dir %s\n", (unsigned)getpid(), clean,
		(unsigned long long)ts.tv_sec * 1000000000ull + ts.tv_nsec, p->dir);
	/* set names have no blanks (rules.c), so one line each */
	for (size_t i = 0; i < rs->nsets; i++)
		fprintf(f, "set %zu %s %llu\n", i, rs->sets[i].name,
			(unsigned long long)(window_start ? window_start[i] : 0));
	if (fclose(f) || rename(tmp, p->ledger_path))
		return -errno;
	return 0;
}

/* ---- open, maps ------------------------------------------------------------- */

int pin__open(struct pin *p, const char *pin_dir, const char *run_dir)
{
	char sub[PATH_MAX];
	struct statfs sf;
	char *parent, *slash;
	int r;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "%s", pin_dir);
	snprintf(p->ledger_path, sizeof(p->ledger_path), "%s/agent.state", run_dir);
	parent = strdup(pin_dir);
	slash = parent ? strrchr(parent, '/') : NULL;
	if (slash && slash != parent)
		*slash = '\0';
	/* systemd mounts /sys/fs/bpf; elsewhere it may be missing */
	if (parent && !strcmp(parent, "/sys/fs/bpf") && !statfs(parent, &sf) &&
	    sf.f_type != BPF_FS_MAGIC && mount("bpf", parent, "bpf", 0, "mode=0700"))
		log__warn("cannot mount bpffs at %s: %s", parent, strerror(errno));
	if (!parent || statfs(slash ? parent : "/", &sf) || sf.f_type != BPF_FS_MAGIC) {
		log__error("--pin-dir %s: its parent must be on a bpffs mount (mount -t bpf bpf "
			   "/sys/fs/bpf)", pin_dir);
		free(parent);
		return -EINVAL;
	}
	free(parent);
	snprintf(sub, sizeof(sub), "%s/maps", pin_dir);
	p->found = !access(sub, F_OK);
	if ((r = mkdir_0700(pin_dir)) || (r = mkdir_0700(sub))) {
		log__error("--pin-dir %s: %s", pin_dir, strerror(-r));
		return r;
	}
	snprintf(sub, sizeof(sub), "%s/links", pin_dir);
	if ((r = mkdir_0700(sub))) {
		log__error("--pin-dir %s: %s", pin_dir, strerror(-r));
		return r;
	}
	ledger_read(p);
	return 0;
}

/* Why the pinned map at fd cannot be m's, or NULL if it can. */
static const char *map_misfit(const struct bpf_map *m, int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return "a pinned map cannot be read";
	if (info.type != bpf_map__type(m) || info.key_size != bpf_map__key_size(m) ||
	    info.value_size != bpf_map__value_size(m) || info.map_flags != bpf_map__map_flags(m))
		return "the pinned maps are from a different vigil build";
	if (info.max_entries != bpf_map__max_entries(m))
		return "the map sizes changed (--map-size): the kernel cannot resize a map";
	return NULL;
}

/* The old agent's sets must be where ours are: taint and budgets name
 * sets by index. */
static bool sets_fit(const struct pin *p, const struct ruleset *rs)
{
	if (!p->old.present)
		return true;	/* pins without a ledger: the same config is assumed */
	if (p->old.nsets > rs->nsets)
		return false;
	for (unsigned i = 0; i < p->old.nsets; i++)
		if (strcmp(p->old.sets[i], rs->sets[i].name))
			return false;
	return true;
}

static void unpin_maps(struct pin *p)
{
	char sub[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *d;
	DIR *dir;

	snprintf(sub, sizeof(sub), "%s/maps", p->dir);
	dir = opendir(sub);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", sub, d->d_name);
		unlink(path);
	}
	if (dir)
		closedir(dir);
}

int pin__reuse_maps(struct pin *p, struct bpf_object *obj, const struct ruleset *rs)
{
	struct bpf_map *m;
	int fds[64], n = 0;
	bool fit = true, any = false;

	if (!p->found)
		return 0;
	if (!sets_fit(p, rs)) {
		p->not_adopted = "the protect sets changed order or were removed";
		fit = false;
	}
	bpf_object__for_each_map(m, obj) {
		char path[PATH_MAX];
		int fd;

		if (map_is_config(m) || n == 64)
			continue;
		map_path(p, m, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;	/* a map new in this version: created fresh */
		any = true;
		if (fit && (p->not_adopted = map_misfit(m, fd)))
			fit = false;
		fds[n++] = fd;
	}
	if (!any) {
		p->not_adopted = "no pinned maps";
		fit = false;
	}
	bpf_object__for_each_map(m, obj) {
		char path[PATH_MAX];
		int fd;

		if (map_is_config(m))
			continue;
		map_path(p, m, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (fit && bpf_map__reuse_fd(m, fd)) {
			log__error("reusing pinned map %s failed: %s", path, strerror(errno));
			close(fd);
			return -errno;
		}
		close(fd);	/* reuse_fd dup'ed it */
	}
	while (n > 0)
		close(fds[--n]);
	if (fit) {
		p->adopted = true;
		return 0;
	}
	log__warn("pinned state in %s not adopted (%s): budgets and taint start afresh; the "
		  "old programs enforce until this agent's are attached", p->dir, p->not_adopted);
	unpin_maps(p);
	return 0;
}

int pin__pin_maps(struct pin *p, struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		char path[PATH_MAX];

		if (map_is_config(m))
			continue;
		map_path(p, m, path, sizeof(path));
		if (!access(path, F_OK))
			continue;	/* adopted: it is this map already */
		if (bpf_map__pin(m, path)) {
			log__error("pinning map %s failed: %s", path, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* ---- links ------------------------------------------------------------------ */

static uint64_t link_cgroup_id(struct bpf_link *l)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_link__fd(l), &info, &len) ||
	    info.type != BPF_LINK_TYPE_CGROUP)
		return 0;
	return info.cgroup.cgroup_id;
}

static uint64_t fd_cgroup_id(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;	/* cgroup v2: the inode is the id */
}

static void keep(struct pin *p, const char *name)
{
	if (p->nkept < PIN_MAX_LINKS)
		snprintf(p->kept[p->nkept++], sizeof(p->kept[0]), "%s", name);
}

struct bpf_link *pin__attach(struct pin *p, struct bpf_program *prog, bool cgroup, int cgroup_fd)
{
	const char *name = bpf_program__name(prog);
	char path[PATH_MAX];
	struct bpf_link *old, *nl;

	snprintf(path, sizeof(path), "%s/links/%s", p->dir, name);
	old = access(path, F_OK) ? NULL : bpf_link__open(path);
	if (old && cgroup && p->adopted && link_cgroup_id(old) == fd_cgroup_id(cgroup_fd) &&
	    !bpf_link__update_program(old, prog)) {
		/* the same hook on the same cgroup, now running our program */
		p->links_updated++;
		keep(p, name);
		return old;
	}
	nl = cgroup ? bpf_program__attach_cgroup(prog, cgroup_fd) : bpf_program__attach(prog);
	if (!nl) {
		int err = -errno;

		bpf_link__destroy(old);	/* closes our fd only: the pin keeps it */
		errno = -err;
		return NULL;
	}
	if (old) {
		/* ours is attached: now the old one may go */
		bpf_link__unpin(old);
		bpf_link__destroy(old);
		p->links_replaced++;
	}
	if (bpf_link__pin(nl, path))
		log__warn("%s: cannot pin its link (%s): it stops with the agent", name,
			  strerror(errno));
	else
		keep(p, name);
	return nl;
}

void pin__finish(struct pin *p)
{
	char sub[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *d;
	DIR *dir;

	snprintf(sub, sizeof(sub), "%s/links", p->dir);
	dir = opendir(sub);
	while (dir && (d = readdir(dir))) {
		bool ours = false;

		if (d->d_name[0] == '.')
			continue;
		for (int i = 0; i < p->nkept && !ours; i++)
			ours = !strcmp(p->kept[i], d->d_name);
		if (ours)
			continue;
		snprintf(path, sizeof(path), "%s/%s", sub, d->d_name);
		log__info("dropping pinned link %s: this agent does not run that program", path);
		unlink(path);
	}
	if (dir)
		closedir(dir);
}

static int remove_tree(const char *dir)
{
	struct dirent *d;
	DIR *dd = opendir(dir);
	int n = 0;

	if (!dd)
		return -errno;
	while ((d = readdir(dd))) {
		char path[PATH_MAX];
		struct stat st;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (!lstat(path, &st) && S_ISDIR(st.st_mode))
			remove_tree(path);
		else if (!unlink(path))
			n++;
	}
	closedir(dd);
	rmdir(dir);
	return n;
}

int pin__remove(const char *pin_dir, const char *run_dir)
{
	char ledger[PATH_MAX];
	int n = remove_tree(pin_dir);

	snprintf(ledger, sizeof(ledger), "%s/agent.state", run_dir);
	unlink(ledger);
	return n < 0 ? n : 0;
}
