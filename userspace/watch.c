// SPDX-License-Identifier: GPL-2.0
/* vg_watch's entries (watch.h). Paths are hashed as the kernel hashes the
 * caller's string (vigil_path_hash_step), inodes keyed by the kernel's
 * dev_t and number, devices by their number or whole major. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "vigil.h"
#include "vigil.skel.h"
#include "watch.h"

#define WATCH_MAX 192	/* vg_watch holds 256: paths and inodes share it */
#define UVERBS_MAJOR 231	/* Documentation/admin-guide/devices.txt */
#define VFIO_MISC_MINOR 196	/* /dev/vfio/vfio, misc major 10 */

/* The documented install's files (Makefile install, packaging/), watched
 * whether or not this agent was started with them: a unit appearing in
 * one of these places is as much a change to vigil as an edit. */
static const char *const config_dirs[] = { "/etc/vigil", "/etc/vigil/rules.d" };
static const char *const unit_paths[] = {
	"/etc/systemd/system/vigil.service", "/etc/systemd/system/vigil.service.d",
	"/usr/local/lib/systemd/system/vigil.service", "/usr/lib/systemd/system/vigil.service",
	"/lib/systemd/system/vigil.service",
};

static char paths[WATCH_MAX][PATH_MAX];
static uint32_t npaths;
/* per id: the file or directory watched by inode as well, and the inode
 * its path had at the last look (a replaced file frees its number for
 * reuse: watch__refresh moves the entry to the new one) */
static struct { bool file; __u64 dev, ino; __u32 kind; } inodes[WATCH_MAX];
static uint64_t disks[64];	/* kernel dev_t of block devices added */
static uint32_t ndisks;

const char *watch__path(uint32_t id)
{
	return id < npaths ? paths[id] : "";
}

static int put_named(int fd, __u64 a, __u64 b, __u32 kind, __u32 id, __u64 name_hash)
{
	struct vigil_watch_key k = { .a = a, .b = b };
	struct vigil_watch v = { .kind = kind, .id = id, .name_hash = name_hash };

	if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) {
		log__debug("vg_watch: cannot add an entry: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static __u64 kdev(dev_t d)
{
	return (__u64)major(d) << 20 | minor(d);
}

static __u64 path_hash(const char *p)
{
	__u64 h = VIGIL_PATH_HASH_INIT;
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	for (size_t i = 0; i < n; i++)
		h = vigil_path_hash_step(h, (unsigned char)p[i]);
	return h;
}

static int put(int fd, __u64 a, __u64 b, __u32 kind, __u32 id)
{
	return put_named(fd, a, b, kind, id, 0);
}

/* What the kernel checks an opened file's name against (guard__name_hash) */
static __u64 name_hash(const char *path)
{
	const char *base = strrchr(path, '/');
	__u64 h = VIGIL_PATH_HASH_INIT;

	base = base ? base + 1 : path;
	for (size_t i = 0; i + 1 < VIGIL_WATCH_NAME_LEN && base[i]; i++)
		h = vigil_path_hash_step(h, (unsigned char)base[i]);
	return h;
}

/* An inode entry for id: a file's carries its name's hash */
static int put_inode(int fd, uint32_t id, const struct stat *st)
{
	return put_named(fd, kdev(st->st_dev), st->st_ino, inodes[id].kind, id,
			 S_ISDIR(st->st_mode) ? 0 : name_hash(paths[id]));
}

/* A new id naming path; -1 if the table is full. */
static int name(const char *path)
{
	if (npaths == WATCH_MAX)
		return -1;
	snprintf(paths[npaths], sizeof(paths[0]), "%s", path);
	return (int)npaths++;
}

/* An absolute path (the kernel compares the first VIGIL_PIN_DIR_LEN - 1
 * bytes of the caller's string), and its inode if it exists; how many
 * inode entries went in. */
static int watch_file(struct vigil_bpf *skel, const char *path, __u32 kind)
{
	int fd = bpf_map__fd(skel->maps.vg_watch), id;
	struct stat st;

	if (path[0] != '/' || strlen(path) >= VIGIL_PIN_DIR_LEN || (id = name(path)) < 0)
		return 0;
	put(fd, VIGIL_WATCH_PATH, path_hash(path), kind, id);
	inodes[id].file = true;
	inodes[id].kind = kind;
	if (stat(path, &st))
		return 0;
	inodes[id].dev = kdev(st.st_dev);
	inodes[id].ino = st.st_ino;
	return !put_inode(fd, id, &st);
}

int watch__refresh(struct vigil_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.vg_watch), moved = 0;
	struct stat st;

	for (uint32_t id = 0; id < npaths; id++) {
		__u64 dev = 0, ino = 0;

		if (!inodes[id].file)
			continue;
		if (!stat(paths[id], &st)) {
			dev = kdev(st.st_dev);
			ino = st.st_ino;
		}
		if (dev == inodes[id].dev && ino == inodes[id].ino)
			continue;
		if (inodes[id].ino) {
			struct vigil_watch_key k = { .a = inodes[id].dev, .b = inodes[id].ino };

			bpf_map_delete_elem(fd, &k);
		}
		inodes[id].dev = dev;
		inodes[id].ino = ino;
		if (ino && !put_inode(fd, id, &st))
			skel->bss->vg_watch_inodes = 1;
		moved++;
	}
	return moved;
}

/* The char-device majors /proc/devices lists under name (vfio's is dynamic) */
static int proc_major(const char *want)
{
	FILE *f = fopen("/proc/devices", "re");
	char line[128], nm[64];
	int maj, found = -1;
	bool chr = false;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Character", 9))
			chr = true;
		else if (!strncmp(line, "Block", 5))
			chr = false;
		else if (chr && sscanf(line, "%d %63s", &maj, nm) == 2 && !strcmp(nm, want))
			found = maj;
	}
	fclose(f);
	return found;
}

static void watch_major(int fd, int maj, const char *what)
{
	int id;

	if (maj > 0 && (id = name(what)) >= 0)
		put(fd, VIGIL_WATCH_RDEV, (__u64)maj << 20 | VIGIL_WATCH_ANY_MINOR,
		    VIGIL_CTL_BYPASS_DEVICE, id);
}

static void watch_devices(struct vigil_bpf *skel, const struct agent_opts *o)
{
	int fd = bpf_map__fd(skel->maps.vg_watch), id;
	struct stat st;

	watch_major(fd, UVERBS_MAJOR, "/dev/infiniband/uverbs*");
	watch_major(fd, proc_major("vfio"), "/dev/vfio/*");
	watch_major(fd, proc_major("vfio-dev"), "/dev/vfio/devices/*");
	if ((id = name("/dev/vfio/vfio")) >= 0)
		put(fd, VIGIL_WATCH_RDEV, 10 << 20 | VFIO_MISC_MINOR, VIGIL_CTL_BYPASS_DEVICE, id);
	for (size_t i = 0; i < o->nbypass_devices; i++) {
		if (stat(o->bypass_devices[i], &st) || !S_ISCHR(st.st_mode)) {
			log__warn("bypass device %s: %s", o->bypass_devices[i],
				  errno ? strerror(errno) : "not a character device");
			continue;
		}
		if ((id = name(o->bypass_devices[i])) >= 0)
			put(fd, VIGIL_WATCH_RDEV, kdev(st.st_rdev), VIGIL_CTL_BYPASS_DEVICE, id);
	}
}

/* The pin directory and the directories in it: unlinks and renames there,
 * by path or relative to one of them (rm -r opens each). */
static int watch_pins(struct vigil_bpf *skel, const char *dir)
{
	char sub[PATH_MAX];
	struct dirent *de;
	int n = watch_file(skel, dir, VIGIL_CTL_PIN_UNLINK);
	DIR *d = opendir(dir);

	if (!d)
		return n;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		n += watch_file(skel, sub, VIGIL_CTL_PIN_UNLINK);
	}
	closedir(d);
	return n;
}

int watch__fill(struct vigil_bpf *skel, const struct agent_opts *o, const char *pin_dir)
{
	char exe[PATH_MAX], real[PATH_MAX];
	int inodes = 0;
	ssize_t n;

	watch_devices(skel, o);
	for (size_t i = 0; i < sizeof(config_dirs) / sizeof(config_dirs[0]); i++)
		inodes += watch_file(skel, config_dirs[i], VIGIL_CTL_CONFIG_WRITE);
	for (size_t i = 0; i < sizeof(unit_paths) / sizeof(unit_paths[0]); i++)
		inodes += watch_file(skel, unit_paths[i], VIGIL_CTL_CONFIG_WRITE);
	if (o->config && realpath(o->config, real))
		inodes += watch_file(skel, real, VIGIL_CTL_CONFIG_WRITE);
	for (size_t i = 0; i < o->nrules; i++)
		if (realpath(o->rules[i], real))
			inodes += watch_file(skel, real, VIGIL_CTL_CONFIG_WRITE);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		inodes += watch_file(skel, exe, VIGIL_CTL_CONFIG_WRITE);
	}
	if (pin_dir)
		inodes += watch_pins(skel, pin_dir);
	skel->bss->vg_watch_inodes = inodes > 0;
	watch__disks(skel);
	return (int)npaths;
}

/* The parent disk of partition kd, or 0 */
static __u64 parent_disk(__u64 kd)
{
	char p[96], line[32];
	unsigned ma, mi;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/dev/block/%llu:%llu/partition",
		 (unsigned long long)(kd >> 20), (unsigned long long)(kd & 0xfffff));
	if (access(p, F_OK))
		return 0;
	snprintf(p, sizeof(p), "/sys/dev/block/%llu:%llu/../dev",
		 (unsigned long long)(kd >> 20), (unsigned long long)(kd & 0xfffff));
	f = fopen(p, "re");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f) || sscanf(line, "%u:%u", &ma, &mi) != 2)
		ma = mi = 0;
	fclose(f);
	return (__u64)ma << 20 | mi;
}

/* One block device (kernel dev_t kd) holding protected files; false if it
 * is not one (a tmpfs, overlay or NFS has an anonymous device number). */
static bool add_disk(int fd, __u64 kd)
{
	char sys[96], dev[64] = "";
	int id;

	for (uint32_t i = 0; i < ndisks; i++)
		if (disks[i] == kd)
			return false;
	snprintf(sys, sizeof(sys), "/sys/dev/block/%llu:%llu",
		 (unsigned long long)(kd >> 20), (unsigned long long)(kd & 0xfffff));
	if (access(sys, F_OK) || ndisks == sizeof(disks) / sizeof(disks[0]))
		return false;
	{
		char link[PATH_MAX];
		ssize_t n = readlink(sys, link, sizeof(link) - 1);
		const char *base;

		link[n > 0 ? n : 0] = 0;
		base = strrchr(link, '/');
		snprintf(dev, sizeof(dev), "/dev/%s", base ? base + 1 : "?");
	}
	if ((id = name(dev)) < 0)
		return false;
	disks[ndisks++] = kd;
	put(fd, VIGIL_WATCH_RDEV, kd, VIGIL_CTL_WEIGHTS_DISK, id);
	return true;
}

/* kd and, for a partition, its disk; then, for a device-mapper (LVM,
 * dm-crypt) or md device, every device under it (sysfs "slaves", each with
 * its own disk), down to depth levels: reading any of them reads the
 * weights' blocks. The number of devices added. */
static int add_disk_tree(int fd, __u64 kd, int depth)
{
	char p[96];
	struct dirent *de;
	int added = 0;
	__u64 parent;
	DIR *d;

	if (!add_disk(fd, kd))
		return 0;
	added++;
	parent = parent_disk(kd);
	if (parent && add_disk(fd, parent))
		added++;
	snprintf(p, sizeof(p), "/sys/dev/block/%llu:%llu/slaves",
		 (unsigned long long)(kd >> 20), (unsigned long long)(kd & 0xfffff));
	if (depth <= 0 || !(d = opendir(p)))
		return added;
	while ((de = readdir(d))) {
		char dev[96 + 256 + 8], line[32];
		unsigned ma, mi;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(dev, sizeof(dev), "%s/%s/dev", p, de->d_name);
		if (!(f = fopen(dev, "re")))
			continue;
		if (fgets(line, sizeof(line), f) && sscanf(line, "%u:%u", &ma, &mi) == 2)
			added += add_disk_tree(fd, (__u64)ma << 20 | mi, depth - 1);
		fclose(f);
	}
	closedir(d);
	return added;
}

int watch__disks(struct vigil_bpf *skel)
{
	int files = bpf_map__fd(skel->maps.vg_files), fd = bpf_map__fd(skel->maps.vg_watch);
	struct vigil_file_key k, next, *prev = NULL;
	__u64 last = ~0ull;
	int added = 0;

	while (!bpf_map_get_next_key(files, prev, &next)) {
		k = next;
		prev = &k;
		if (k.dev == last)
			continue;	/* files of one filesystem come in runs */
		last = k.dev;
		added += add_disk_tree(fd, k.dev, 4);
	}
	return added;
}
