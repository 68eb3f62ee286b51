// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

static enum log_level current = LOG_INFO;

void log__set_level(enum log_level lvl) { current = lvl; }
enum log_level log__level(void) { return current; }

const char *log__escape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return out;
	for (; *s && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c < 0x20 || c == 0x7f) {
			o += snprintf(out + o, len - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

void log__msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "debug: ", "", "warning: ", "error: " };
	char msg[2048], esc[4096];
	va_list ap;

	if (lvl < current)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one message, one line: names in it cannot forge another */
	fprintf(stderr, "vigil: %s%s\n", names[lvl], log__escape(msg, esc, sizeof(esc)));
}
