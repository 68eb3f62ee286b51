/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Captures of correlated activity: what `vigil record` writes and `vigil
 * replay` / `vigil rules test` read.
 *
 * A capture is JSON lines compressed with zlib (gzip framing): a header
 * {"vigil_capture":1, "version", "host", "mode", "started"} and then one
 * activity per line (time, host, mode, event, action, enforce_action,
 * killed_by, message, process, taint, network), the same members alert lines
 * carry. The reader also takes uncompressed files and hand-written activity
 * with most members left out (see docs/RULES.md, "Fixtures").
 */
#ifndef VIGIL_CAPTURE_H
#define VIGIL_CAPTURE_H

#include <stddef.h>
#include <sys/types.h>
#include "activity.h"

struct capture_writer;

/* path is opened as safefile__open_output says (no symlinks, ours, regular,
 * 0600 or 0640 for group gid unless it is (gid_t)-1) and rewritten. */
struct capture_writer *capture__create(const char *path, const char *host, const char *mode,
				       gid_t gid, char *err, size_t errlen);
/* 0 or -errno; the stream is flushed so a killed agent leaves a readable file. */
int capture__write(struct capture_writer *w, const struct activity *a);
int capture__close(struct capture_writer *w);
/* The line capture__write writes for a (no newline), into j (reset first). */
struct json;
void capture__format(struct json *j, const struct activity *a);

/* Read every activity of path, calling fn for each (strings valid during
 * the call). Lines are numbered from 1; a bad line stops the read with
 * "FILE:LINE: what is wrong" in err. Returns activities read or -errno. */
typedef int (*capture_fn)(void *ctx, const struct activity *a);
long capture__read(const char *path, capture_fn fn, void *ctx, char *err, size_t errlen);
/* The same from an open descriptor (path names it in errors). A gzip
 * stream must end with its trailer and nothing after it; NUL bytes and
 * lines over 1 MiB are errors; at most SAFEFILE_CAPTURE_MAX bytes. */
long capture__read_fd(int fd, const char *path, capture_fn fn, void *ctx, char *err,
		      size_t errlen);

#endif
