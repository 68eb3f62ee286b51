/* SPDX-License-Identifier: GPL-2.0 */
/* Protected files: resolves the protect sets' globs to file identities
 * (kernel dev + inode), keeps file_id -> path, pushes them into the BPF map
 * and watches the directories with inotify so files created later are
 * protected too, and deleted ones leave the table.
 *
 * Protect by intent (docs/SECURITY.md): symlinks are never followed to a
 * file (a link's target is protected only where it lies in a protected tree
 * itself); a file must belong to the owner its set expects (owner:, by
 * default the owner of the home it is in); no owner but root can hold more
 * than limits.files_per_owner entries or limits.watches_per_owner watched
 * directories. Whatever is not protected for one of these reasons is
 * reported through the reporter (the agent writes an agent_error line).
 * Functions return 0 or a negative errno. */
#ifndef VIGIL_PROTECT_H
#define VIGIL_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "rules.h"

struct protect;

struct protect *protect__new(const struct ruleset *rs);
void protect__free(struct protect *p);
/* Where refusals are reported (one line each, rate-limited per cause). */
void protect__set_reporter(struct protect *p, void (*fn)(void *ctx, const char *msg),
			   void *ctx);
/* Size of the table (the kernel map's max_entries); default
 * VIGIL_MAX_PROTECTED_FILES. Owners other than root share 3/4 of it. */
void protect__set_capacity(struct protect *p, size_t max_files);
/* Walk every set's globs; add matching regular files. map_fd < 0: table only. */
int protect__scan(struct protect *p, int map_fd);
/* Start watching directories (call after scan). Returns the inotify fd. */
int protect__watch(struct protect *p);
/* The kernel's bloom filter of protected files, set before each insert. */
void protect__set_bloom(struct protect *p, uint64_t *bloom);
/* The kernel's flag that a protected file lives on tmpfs/shm (its open
 * hooks look at files only then), set before such a file's insert. */
void protect__set_shm_flag(struct protect *p, uint32_t *shm_files);
/* The ruleset moved (same contents): point at its new home. */
void protect__set_rules(struct protect *p, const struct ruleset *rs);
/* Re-resolve against new rules (same set order); see protect_scan.c. */
int protect__reload(struct protect *p, const struct ruleset *rs, int map_fd);
/* Handle pending inotify events: new files are added to the map, deleted
 * ones removed. Returns the number of files added. */
int protect__handle_inotify(struct protect *p, int map_fd);
/* Periodic duties: files deleted while held open leave once closed;
 * pending reports go out. */
void protect__tick(struct protect *p);

struct protect_stats {
	size_t files, watches;
	size_t skipped;		/* refused: limits, owner, table full, map errors */
	size_t removed;		/* entries gone with their files */
	size_t small;		/* below the set's min_size (e.g. empty) */
	size_t watches_skipped;	/* directories not watched (limits) */
	size_t links;		/* symlinks out of every set (not followed, reported) */
};
void protect__stats(const struct protect *p, struct protect_stats *out);
size_t protect__count(const struct protect *p);
size_t protect__watches(const struct protect *p);
size_t protect__skipped(const struct protect *p);
/* Path recorded for file_id, or NULL. */
const char *protect__path(const struct protect *p, uint32_t file_id);
/* Set mask of file_id (0 if unknown). */
uint32_t protect__mask(const struct protect *p, uint32_t file_id);
/* Kernel-encoded device of a stat st_dev (MAJOR << 20 | MINOR). */
uint64_t protect__kdev(dev_t dev);
/* Lookup by identity (kernel dev); returns file_id or -1 and the set mask. */
int protect__lookup(const struct protect *p, uint64_t kdev, uint64_t ino, uint32_t *mask);
/* Set mask bits for a set name ("*" = all). */
uint32_t protect__set_bit(const struct protect *p, const char *name);
/* A file the kernel protected because a tainted process wrote it. */
int protect__add_copy(struct protect *p, uint32_t id, uint64_t kdev, uint64_t ino,
		      uint32_t mask, const char *path);
size_t protect__copies(const struct protect *p);
uint32_t protect__copy_mask(const struct protect *p, uint32_t file_id);
/* The i-th copy (i < protect__copies): false past the end. */
struct protect_copy {
	uint32_t id, mask;
	uint64_t kdev, ino;
	const char *path;
};
bool protect__copy_at(const struct protect *p, size_t i, struct protect_copy *out);
/* A copy made before a reboot, found again (copies.h): the kernel protects
 * it again (its bloom bit, then its vg_files entry) under its old id. */
int protect__restore_copy(struct protect *p, const struct protect_copy *c, bool in_kernel);

#endif
