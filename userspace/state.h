/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spent budgets that survive a reboot (or an unpinned stop): the state
 * file (`state_file`). The pinned maps carry budgets across restarts; a
 * reboot clears bpffs, so the agent also writes each set's spent bytes to
 * this file, atomically (a temporary file, fsync, rename), once a second
 * and at stop. An agent that finds no pinned state to adopt restores the
 * spent bytes from it: waiting for a reboot resets nothing.
 *
 * The file is validated whole before anything is taken from it: a header
 * with the format version, one line per set, and a SHA-256 of everything
 * before the last line. A set the file does not name starts at zero (a new
 * set); a windowed set's spent bytes are restored only while the window
 * they were counted in could still be open. A file that exists but cannot
 * be read or does not validate is an error: in enforce mode every budget
 * then counts as spent (fail closed), in monitor mode budgets start afresh;
 * both say so in an agent_error line.
 */
#ifndef VIGIL_STATE_H
#define VIGIL_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "vigil.h"

struct state_sets {
	size_t n;
	char name[VIGIL_MAX_SETS][64];
	uint64_t spent[VIGIL_MAX_SETS];
	uint64_t saved_s;	/* CLOCK_REALTIME seconds of the write */
};

/* The signed files both use: body, then "sha256 HEX" of it as the last
 * line, written atomically (temporary file, fsync, rename). 0 or -errno. */
int state__save_signed(const char *path, const char *body, size_t len);
/* Read path (at most max bytes), check that it starts with magic and that
 * its checksum matches: *body is everything before the checksum line,
 * NUL-terminated (free it). 0; -ENOENT if there is no file; -EIO (cannot
 * read) or -EBADMSG (does not validate) with why. */
int state__load_signed(const char *path, const char *magic, size_t max, char **body,
		       char *why, size_t whylen);
/* Write spent[i] of rs's sets to path atomically. 0 or -errno. */
int state__write(const char *path, const struct ruleset *rs, const uint64_t *spent);
/* Read and validate path into out. 0; -ENOENT if there is no file (not an
 * error); another -errno (-EBADMSG: it does not validate) with why. */
int state__read(const char *path, struct state_sets *out, char *why, size_t whylen);
/* What to restore for set `name` with window `window_s` (0: none) at
 * now_s: the spent bytes, or 0. */
uint64_t state__spent_for(const struct state_sets *st, const char *name,
			  unsigned long long window_s, uint64_t now_s);

#endif
