/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the fuzz targets: check() aborts with the failed condition (a
 * finding for libFuzzer), fuzz__replays() holds vigil to "its own output is
 * always replayable". */
#ifndef VIGIL_FUZZ_H
#define VIGIL_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define check(c)								\
	do {								\
		if (!(c)) {						\
			fprintf(stderr, "check failed: %s (line %d)\n", #c, __LINE__); \
			abort();					\
		}							\
	} while (0)

static inline int fuzz__memfd(const void *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	check(fd >= 0);
	check(write(fd, data, size) == (ssize_t)size);
	check(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

#ifdef VIGIL_CAPTURE_H
#include "json.h"

/* a as `vigil record` writes it must read back as exactly one activity,
 * which fn (may be NULL) compares with a. */
static inline void fuzz__replays(const struct activity *a, capture_fn fn, void *ctx)
{
	char err[1024] = "";
	struct json j;
	const char *line;
	long n;
	int fd;

	json__init(&j);
	capture__format(&j, a);
	check(!j.oom);
	line = json__cstr(&j);
	fd = fuzz__memfd(line, strlen(line));
	n = capture__read_fd(fd, "written", fn, ctx, err, sizeof(err));
	if (n != 1) {
		fprintf(stderr, "own output not replayable: %s\n  %s\n", err, line);
		abort();
	}
	close(fd);
	json__free(&j);
}
#endif

#endif
