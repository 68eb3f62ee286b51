/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the protected-file table (not for other modules): its state and
 * the functions its files share.
 *   protect.c        the module's face: lifetime, queries, copies
 *   protect_table.c  entries: ids, the two indexes, adding and removing,
 *                    the kernel's map and bloom filter
 *   protect_limits.c owners and limits (files/watches per owner, per set,
 *                    the table), refusals and their rate-limited reports
 *   protect_scan.c   walking the sets' globs: start-up scan and reload
 *   protect_watch.c  inotify: watched directories, names created later
 *   protect_gone.c   names that went away: entries leave with their file */
#ifndef VIGIL_PROTECT_STATE_H
#define VIGIL_PROTECT_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "protect.h"
#include "vigil.h"

/* Bounds that keep a startup scan of a large host finite. */
#define MAX_FILES_PER_GLOB 200000

/* file_id = generation << 20 | (slot + 1): a slot freed by a deleted file
 * and reused gets a new id, so taint that names the old file never names
 * the new one. 10 generation bits keep ids below VIGIL_COPY_ID_BASE. */
#define SLOT_BITS 20
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define GEN_MASK 0x3ffu
#define HANDLE_MAX 40		/* ext4/xfs/tmpfs 8-12 bytes, btrfs 20-28 */
#define GRAVE 256		/* names of removed files, for late alerts */

enum fstate { F_FREE, F_LIVE, F_UNLINKED };

struct pfile {
	uint64_t kdev, ino;
	uint32_t mask;
	uint32_t uid;
	uint16_t gen;
	uint8_t state;		/* enum fstate */
	uint8_t nhandle;	/* 0: no handle (the fs has none, or too long) */
	bool path_stale;	/* the recorded name is gone; another link lives */
	int handle_type;
	int mount_id;
	unsigned char handle[HANDLE_MAX];
	char *path;
};

/* Open addressing over slot numbers (+1; 0 is empty), deleting by
 * backward shift, so removals leave no tombstones behind. */
struct oaidx {
	uint32_t *t;
	size_t cap, n;
};

struct watch {
	int wd;			/* 0: empty (inotify's descriptors start at 1) */
	uint32_t uid;
	uint32_t sets;		/* sets it was counted for (max_watches) */
	char *dir;
};

struct owner {
	uint32_t uid;
	bool used;
	uint32_t files, watches;
};

enum rkind { R_OWNER_FILES, R_RESERVED, R_TABLE, R_SET_FILES, R_OWNER_MISMATCH, R_MAP,
	     R_OWNER_WATCHES, R_WATCH_TOTAL, R_SET_WATCHES, R_LINK, R_ROOT_LINK, R_NOTICE };

/* Refusals of one cause, reported once a minute at most: a flood of files
 * gives one line naming the first of them and how many more. */
struct report {
	enum rkind kind;
	uint32_t key;		/* uid or set index */
	char *first;
	char detail[PATH_MAX + 100];
	size_t pending, total;
	uint64_t last_ns;
};

struct grave {
	uint32_t id;
	char *path;
};

/* A file the kernel protected because a tainted process wrote it
 * (VIGIL_EV_COPY): protected by the kernel, known here for its path. */
struct copyfile {
	uint32_t id;
	uint32_t mask;
	uint64_t kdev, ino;
	char *path;
};

struct protect {
	const struct ruleset *rs;
	struct copyfile *copies;
	size_t ncopies;
	struct pfile *files;	/* by slot */
	size_t nslots, cap;
	uint32_t *free_slots;	/* LIFO of freed slots */
	size_t nfree;
	size_t live, nonroot;	/* entries; of them owned by someone other than root */
	size_t capacity;	/* the kernel map's size */
	struct oaidx by_id;	/* (kdev, ino) */
	struct oaidx by_path;	/* recorded path (unless stale) */
	uint32_t *unlinked;	/* slots deleted while held open */
	size_t nunlinked;
	uint64_t last_recheck_ns;
	uint32_t set_files[VIGIL_MAX_SETS];
	uint32_t set_watches[VIGIL_MAX_SETS];
	struct owner *owners;
	size_t owners_cap, nowners;
	struct watch *watches;	/* hashed by wd */
	size_t watches_cap, nwatches;
	struct report *reports;
	size_t nreports;
	struct grave grave[GRAVE];
	size_t grave_next;
	size_t skipped, removed, small, watches_skipped, links;
	char home_name[NAME_MAX + 1];	/* one-entry cache of home owners */
	long home_uid;
	bool warned_hardlinks;
	void (*report)(void *ctx, const char *msg);
	void *report_ctx;
	uint64_t *bloom;	/* the kernel's vg_file_bloom (mmapped .bss) */
	uint32_t *shm_files;	/* the kernel's vg_shm_files: set for a file on tmpfs or overlayfs */
	int ifd;
	int map_fd;
};

/* ---- protect_table.c ---- */
uint32_t ptable__id(const struct protect *p, uint32_t slot);
/* The slot of a live (or unlinked) file_id, or -1. */
long ptable__slot_of(const struct protect *p, uint32_t id);
/* The slot whose recorded (not stale) path this is, or -1. */
long ptable__find_path(const struct protect *p, const char *path);
/* The recorded path of slot no longer names it (path_stale). */
void ptable__unindex_path(struct protect *p, uint32_t slot);
/* The kernel entry of (kdev, ino): its bloom bit first, then vg_files. */
int ptable__push_key(struct protect *p, uint64_t kdev, uint64_t ino, uint32_t mask, uint32_t id);
/* Slot into the kernel map (bloom bit first); 0 or -errno. */
int ptable__push(struct protect *p, uint32_t slot);
void ptable__remove(struct protect *p, uint32_t slot);
int ptable__add(struct protect *p, const char *path, const struct stat *st, int dfd,
		const char *name, size_t s);

/* ---- protect_limits.c ---- */
struct owner *plimits__owner(struct protect *p, uint32_t uid);
void plimits__refuse(struct protect *p, enum rkind kind, uint32_t key, const char *path,
		     const char *detail);
/* Pending reports out (force: also those reported less than a minute ago). */
void plimits__flush(struct protect *p, bool force);
bool plimits__owner_ok(struct protect *p, const struct protect_set *s, const char *path,
		       uint32_t uid, char *why, size_t len);
bool plimits__set_has_room(struct protect *p, size_t s, const char *path);
size_t plimits__capacity(const struct protect *p);
unsigned long long plimits__files_per_owner(const struct protect *p);
unsigned long long plimits__watches_per_owner(const struct protect *p);

/* ---- protect_scan.c ---- */
struct scan_item {
	const char *pattern;
	size_t set;
	char prefix[PATH_MAX];
};

struct scan_ctx {
	struct protect *p;
	const struct scan_item *items;	/* indexed like the walk's patterns */
	int added;
};

/* glob__walk_many's callback: one match of items[idx]. */
int pscan__on_match(const char *path, const struct stat *st, int dfd, const char *name,
		    size_t idx, void *data);
bool pscan__excluded(const struct protect_set *s, const char *path);
void pscan__link_seen(struct protect *p, const char *path, const struct stat *lst);
/* Is `dir` equal to or below `top`? */
bool pscan__within(const char *dir, const char *top);

/* ---- protect_gone.c ---- */
/* Mount id of an open directory, or -1. */
int pgone__mount_id(int fd);
void pgone__name_gone(struct protect *p, const char *path, int hint, int hint_mid);

#endif
