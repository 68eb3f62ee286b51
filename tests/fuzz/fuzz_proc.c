// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target for the /proc parsers (userspace/proc.c): the input,
 * split at the first two NUL bytes, is a stat line, a status file and the
 * rest is a cmdline; the whole input is also a cgroup file and a mounts
 * table. Buffers are exactly the size read, as /proc gives them, so a read
 * past the end is an ASan report. Run: make fuzz-smoke. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "fuzz.h"

/* A heap copy of [p, p+n) with a NUL after it, nothing more. */
static char *exact(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	check(s);
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *z1 = memchr(data, 0, size), *z2;
	size_t n1 = z1 ? (size_t)(z1 - data) : size, n2;
	struct proc_info pi = { 0 };
	char *s, cg[512], mnt[256];
	uid_t uid;
	FILE *f;

	s = exact(data, n1);
	if (!proc__parse_stat(s, &pi))
		check(strlen(pi.comm) < sizeof(pi.comm));
	free(s);

	z2 = z1 ? memchr(z1 + 1, 0, size - n1 - 1) : NULL;
	n2 = z1 ? (z2 ? (size_t)(z2 - z1 - 1) : size - n1 - 1) : 0;
	if (z1) {
		s = exact(z1 + 1, n2);
		proc__parse_status_uid(s, &uid);
		free(s);
	}
	if (z2) {
		size_t n3 = size - (size_t)(z2 + 1 - data);

		s = exact(z2 + 1, n3);
		proc__parse_cmdline(s, n3, pi.cmdline, sizeof(pi.cmdline));
		check(strlen(pi.cmdline) < sizeof(pi.cmdline));
		free(s);
	}

	s = exact(data, size);
	if (!proc__parse_cgroup(s, cg, sizeof(cg)))
		check(strlen(cg) < sizeof(cg));
	free(s);

	f = fmemopen((void *)data, size, "r");
	if (f) {
		if (!proc__cgroup2_mount_in(f, mnt, sizeof(mnt)))
			check(strlen(mnt) < sizeof(mnt));
		fclose(f);
	}
	return 0;
}
