/* SPDX-License-Identifier: GPL-2.0 */
/* Protected files: resolves the protect sets' globs to file identities
 * (kernel dev + inode), keeps file_id -> path, pushes them into the BPF map
 * and watches the directories with inotify so files created later are
 * protected too. Functions return 0 or a negative errno. */
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
/* Walk every set's globs; add matching regular files. map_fd < 0: table only. */
int protect__scan(struct protect *p, int map_fd);
/* Start watching directories (call after scan). Returns the inotify fd. */
int protect__watch(struct protect *p);
/* The kernel's bloom filter of protected files, set before each insert. */
void protect__set_bloom(struct protect *p, uint64_t *bloom);
/* The ruleset moved (same contents): point at its new home. */
void protect__set_rules(struct protect *p, const struct ruleset *rs);
/* Re-resolve against new rules (same set order); see protect.c. */
int protect__reload(struct protect *p, const struct ruleset *rs, int map_fd);
/* Handle pending inotify events: new files are added to the map. Returns
 * the number of files added. */
int protect__handle_inotify(struct protect *p, int map_fd);

size_t protect__count(const struct protect *p);
size_t protect__watches(const struct protect *p);
size_t protect__skipped(const struct protect *p);
/* Path recorded for file_id, or NULL. */
const char *protect__path(const struct protect *p, uint32_t file_id);
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

#endif
