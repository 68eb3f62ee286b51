/* SPDX-License-Identifier: GPL-2.0 */
/* Shell-style globs over absolute '/'-separated paths.
 *
 *   *  ?  [abc] [a-z] [!x] [^x]   never cross '/'
 *   **                            as a whole component: zero or more components
 *   \c                            the literal character c
 *
 * '*' also matches a leading dot: a monitor must not miss hidden files. */
#ifndef VIGIL_GLOB_H
#define VIGIL_GLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

bool glob__match(const char *pattern, const char *path);

/* 0 if the pattern is usable; -EINVAL and a message in err otherwise. */
int glob__validate(const char *pattern, char *err, size_t errlen);

/* Longest leading directory of the pattern without any wildcard ("/" at
 * least). Returns its length, like snprintf, even if buf was too small. */
size_t glob__static_prefix(const char *pattern, char *buf, size_t buflen);

/* Whether some path strictly below directory dir could match pattern.
 * Conservative: may say true when nothing does, never false when something
 * could. */
bool glob__could_match_below(const char *pattern, const char *dir);

/* Open directory dir (absolute) for reading, following a symlink on the
 * way only if root owns it (an administrator's layout such as /models ->
 * /data/models); anyone else's link is refused (-EPERM). Returns an fd or a
 * negative errno. */
int glob__open_dir(const char *dir);

/* Walk flags. By default a symlink is never reported: a link is not the
 * file it names, and following one would let whoever can create links pick
 * the files the walk reports (~/x.safetensors -> /etc/shadow). */
#define GLOB_FOLLOW_FILE_LINKS 1u	/* report a link to a regular file, with the
					 * target's stat (executables for allow:) */
#define GLOB_REPORT_LINKS 2u		/* report links too, with their own lstat
					 * (S_ISLNK), to say what is not followed */

typedef int (*glob_walk_cb)(const char *path, const struct stat *st, void *ctx);

/* Call cb for each regular file matching pattern, starting from its static
 * prefix. Directories are opened relative to their parent with O_NOFOLLOW
 * (symlinked directories are never entered, renaming a directory into a link
 * mid-walk cannot lead outside the tree); the root through glob__open_dir.
 * Unreadable or vanishing entries are skipped silently; a missing prefix
 * yields 0; trees deeper than 64 levels below the prefix are not entered.
 * A non-zero cb return stops the walk and is returned. At most max_files
 * callbacks are made (0: no limit). Returns 0, the cb's value, or a negative
 * errno for resource failures (-ENOMEM, -EMFILE, ...). */
int glob__walk(const char *pattern,
	       int (*cb)(const char *path, const struct stat *st, void *ctx),
	       void *ctx, unsigned max_files, unsigned flags);

/* dfd/name: the file's directory (open) and its name there, for *at calls. */
typedef int (*glob_walk_many_cb)(const char *path, const struct stat *st, int dfd,
				 const char *name, size_t pattern, void *ctx);

/* glob__walk for many patterns in one pass over the tree below root (each
 * pattern should lie below root): cb runs once per matching pattern, with
 * its index. */
int glob__walk_many(const char *root, const char *const *patterns, size_t npatterns,
		    glob_walk_many_cb cb, void *ctx, unsigned max_files, unsigned flags);

/* One literal path (no wildcards), as glob__walk_many would report it
 * (pattern index 0). */
int glob__walk_literal(const char *path, glob_walk_many_cb cb, void *ctx, unsigned flags);

#endif
