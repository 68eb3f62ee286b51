/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics on stderr ("vigil: ..."); alerts never go here. */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log__set_level(enum log_level lvl);
enum log_level log__level(void);
void log__msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with control characters and backslashes escaped (\n, \t, \\, \xNN), cut
 * to fit len: what goes to stderr stays one line whatever a file is named. */
const char *log__escape(const char *s, char *out, size_t len);

#define log__debug(...) log__msg(LOG_DEBUG, __VA_ARGS__)
#define log__info(...) log__msg(LOG_INFO, __VA_ARGS__)
#define log__warn(...) log__msg(LOG_WARN, __VA_ARGS__)
#define log__error(...) log__msg(LOG_ERROR, __VA_ARGS__)

#endif
