// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target for the capture reader (userspace/capture.c): any bytes
 * as a capture file (plain JSON lines or gzip), through capture__read_fd.
 * Besides "no crash, leak or hang" it checks what docs/RULES.md promises:
 *   - a refused input has "NAME:LINE: ..." in err, never an empty message;
 *   - every activity it accepts, written back the way `vigil record` writes
 *     it, reads back as one activity with the same numbers (vigil's own
 *     output is always replayable).
 * Run: make fuzz-smoke, or .output/fuzz/fuzz_capture DIR tests/fuzz/corpus/capture */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "fuzz.h"

struct seen {
	const struct activity *orig;
	int n;
};

static int same(void *ctx, const struct activity *b)
{
	struct seen *s = ctx;
	const struct activity *a = s->orig;

	s->n++;
	check(a->proc.pid == b->proc.pid && a->proc.ppid == b->proc.ppid);
	check(a->proc.uid == b->proc.uid && a->proc.start_ticks == b->proc.start_ticks);
	check(a->dport == b->dport && a->bytes == b->bytes && a->blocked_bytes == b->blocked_bytes);
	check(a->nsources == b->nsources && a->nchain == b->nchain && a->nsets == b->nsets);
	check(a->taint_depth == b->taint_depth && a->allowed == b->allowed);
	check(a->event == b->event && !strcmp(a->proc.comm, b->proc.comm));
	check(a->time.tv_sec == b->time.tv_sec);
	return 0;
}

static int round_trip(void *ctx, const struct activity *a)
{
	struct seen s = { .orig = a };

	fuzz__replays(a, same, &s);
	check(s.n == 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024] = "";
	int fd = fuzz__memfd(data, size);
	long n = capture__read_fd(fd, "fuzz", round_trip, NULL, err, sizeof(err));

	if (n < 0)
		check(!strncmp(err, "fuzz", 4) && strlen(err) > 6);
	close(fd);
	return 0;
}
