/* SPDX-License-Identifier: GPL-2.0 */
/* A growing NUL-terminated string buffer for the record writers (CEF lines,
 * HTTP bodies). Out of memory is sticky: later puts are no-ops and the
 * writer checks oom once at the end. */
#ifndef VIGIL_STRBUF_H
#define VIGIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

void buf__put(struct buf *b, const char *s, size_t n);
void buf__puts(struct buf *b, const char *s);

#endif
