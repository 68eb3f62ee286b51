// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void buf__put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void buf__puts(struct buf *b, const char *s)
{
	buf__put(b, s, strlen(s));
}
