/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files vigil reads and writes, opened so that a hostile local user cannot
 * make them hang, exhaust memory or redirect a write.
 *
 * Input (rules, captures, fixtures): regular files only, opened O_NONBLOCK
 * (a FIFO or device never blocks the agent's single event loop) and checked
 * with fstat on the descriptor that is then read; at most a given size.
 * Output (alerts, captures): never through a symlink (O_NOFOLLOW), created
 * 0600 (0640 with a group), and an existing file must be a regular file
 * with one link, owned by the user vigil runs as, not writable by others.
 *
 * Functions return 0 (or a descriptor) or a negative errno and fill a
 * caller-owned err with "PATH: what is wrong".
 */
#ifndef VIGIL_SAFEFILE_H
#define VIGIL_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Size caps, also documented in docs/SECURITY.md and docs/RULES.md. */
#define SAFEFILE_RULES_MAX (1u << 20)		/* one rule file */
#define SAFEFILE_FIXTURE_MAX (64u << 20)	/* an expected-alerts file */
#define SAFEFILE_CAPTURE_MAX (1ull << 32)	/* a capture, compressed or not */

/* Open path for reading: a regular file of at most max bytes. The
 * descriptor is blocking again on return. */
int safefile__open_input(const char *path, unsigned long long max, char *err, size_t errlen);
/* The whole file, NUL-terminated (*len excludes the NUL); free(*out). */
int safefile__read(const char *path, size_t max, char **out, size_t *len,
		   char *err, size_t errlen);

/* Open (creating) path for writing. truncate: start it empty (captures);
 * otherwise append (alerts). gid (gid_t)-1: mode 0600, else 0640 and that
 * group. Returns the descriptor. */
int safefile__open_output(const char *path, bool truncate, gid_t gid, char *err, size_t errlen);

#endif
