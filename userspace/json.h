/* SPDX-License-Identifier: GPL-2.0 */
/* Streaming writer for one-line JSON objects on a growing heap buffer.
 * Commas are placed automatically; a key and its value are one member.
 * On allocation failure oom is set and further writes are dropped, so
 * callers check once at the end instead of after every call. */
#ifndef VIGIL_JSON_H
#define VIGIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define JSON_MAX_DEPTH 32

struct json {
	char *buf;
	size_t len, cap;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool oom;
};

void json__init(struct json *j);
void json__free(struct json *j);
/* Empty the buffer for the next object, keeping its memory. */
void json__reset(struct json *j);

void json__begin_object(struct json *j);
void json__end_object(struct json *j);
void json__begin_array(struct json *j);
void json__end_array(struct json *j);
void json__key(struct json *j, const char *k);

/* NULL writes null. Quotes, backslashes and control characters are escaped;
 * bytes that are not valid UTF-8 become \ufffd so the output stays valid. */
void json__string(struct json *j, const char *s);
void json__string_n(struct json *j, const char *s, size_t n);
void json__uint(struct json *j, unsigned long long v);
void json__int(struct json *j, long long v);
void json__bool(struct json *j, bool v);
void json__null(struct json *j);
/* A value that is already JSON (one of our own alert lines). */
void json__raw(struct json *j, const char *text);

void json__kv_str(struct json *j, const char *k, const char *v);
void json__kv_uint(struct json *j, const char *k, unsigned long long v);
void json__kv_int(struct json *j, const char *k, long long v);
void json__kv_bool(struct json *j, const char *k, bool v);
/* k: [s[0], ..., s[n-1]] */
void json__kv_strv(struct json *j, const char *k, const char *const *s, size_t n);

/* The text so far, NUL-terminated; "" if nothing was written. */
const char *json__cstr(struct json *j);

/* "2026-11-22T20:03:46.123456Z" (UTC, microseconds). 0 or -ENOSPC. */
int json__time_rfc3339(char *buf, size_t len, const struct timespec *ts);

#endif
