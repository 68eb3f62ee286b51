// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

static enum log_level current = LOG_INFO;

void log__set_level(enum log_level lvl) { current = lvl; }
enum log_level log__level(void) { return current; }

void log__msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "debug: ", "", "warning: ", "error: " };
	va_list ap;

	if (lvl < current)
		return;
	fprintf(stderr, "vigil: %s", names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
