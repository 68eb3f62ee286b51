// SPDX-License-Identifier: GPL-2.0
/* JSON writer. Event fields come from untrusted sources (file names,
 * command lines), so every string is escaped and UTF-8-validated: one bad
 * byte must never make a log line unparseable. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json__init(struct json *j)
{
	memset(j, 0, sizeof(*j));
}

void json__free(struct json *j)
{
	free(j->buf);
	json__init(j);
}

void json__reset(struct json *j)
{
	j->len = 0;
	if (j->buf)
		j->buf[0] = '\0';
	j->depth = 0;
	memset(j->need_comma, 0, sizeof(j->need_comma));
	j->oom = false;
}

/* Room for n more bytes plus the NUL. */
static bool reserve(struct json *j, size_t n)
{
	size_t need, cap;
	char *nb;

	if (j->oom)
		return false;
	need = j->len + n + 1;
	if (need < j->len) {
		j->oom = true;
		return false;
	}
	if (need <= j->cap)
		return true;
	cap = j->cap ? j->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	nb = realloc(j->buf, cap);
	if (!nb) {
		j->oom = true;
		return false;
	}
	j->buf = nb;
	j->cap = cap;
	return true;
}

static void put(struct json *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void putc_(struct json *j, char c)
{
	put(j, &c, 1);
}

/* Depth beyond the array still writes; it just shares the last slot. */
static bool *comma_slot(struct json *j)
{
	int d = j->depth < 0 ? 0 : j->depth >= JSON_MAX_DEPTH ? JSON_MAX_DEPTH - 1 : j->depth;

	return &j->need_comma[d];
}

/* Before any value or key: separate it from the previous member. */
static void pre_value(struct json *j)
{
	bool *c = comma_slot(j);

	if (*c)
		putc_(j, ',');
	*c = true;
}

static void open_(struct json *j, char c)
{
	pre_value(j);
	putc_(j, c);
	j->depth++;
	*comma_slot(j) = false;
}

static void close_(struct json *j, char c)
{
	putc_(j, c);
	if (j->depth > 0)
		j->depth--;
	*comma_slot(j) = true;
}

void json__begin_object(struct json *j) { open_(j, '{'); }
void json__end_object(struct json *j) { close_(j, '}'); }
void json__begin_array(struct json *j) { open_(j, '['); }
void json__end_array(struct json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static void put_escaped(struct json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	putc_(j, '"');
	while (i < n) {
		unsigned char c = s[i];
		size_t l = c >= 0x20 && c != '"' && c != '\\' && c != 0x7f ? utf8_len(s + i, n - i) : 0;
		char esc[8];

		if (l) {	/* plain text: copied in runs */
			i += l;
			run += l;
			continue;
		}
		put(j, (const char *)s + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(j, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(j, esc, 6);
		} else {
			put(j, "\\ufffd", 6);
		}
		i++;
	}
	put(j, (const char *)s + i - run, run);
	putc_(j, '"');
}

void json__key(struct json *j, const char *k)
{
	pre_value(j);
	put_escaped(j, k ? k : "", k ? strlen(k) : 0);
	putc_(j, ':');
	/* The value that follows belongs to this member: no comma before it. */
	*comma_slot(j) = false;
}

void json__string_n(struct json *j, const char *s, size_t n)
{
	if (!s) {
		json__null(j);
		return;
	}
	pre_value(j);
	put_escaped(j, s, n);
}

void json__raw(struct json *j, const char *text)
{
	pre_value(j);
	put(j, text, strlen(text));
}

void json__string(struct json *j, const char *s)
{
	json__string_n(j, s, s ? strlen(s) : 0);
}

void json__uint(struct json *j, unsigned long long v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%llu", v);

	pre_value(j);
	put(j, b, (size_t)n);
}

void json__int(struct json *j, long long v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%lld", v);

	pre_value(j);
	put(j, b, (size_t)n);
}

void json__bool(struct json *j, bool v)
{
	pre_value(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void json__null(struct json *j)
{
	pre_value(j);
	put(j, "null", 4);
}

void json__kv_str(struct json *j, const char *k, const char *v)
{
	json__key(j, k);
	json__string(j, v);
}

void json__kv_uint(struct json *j, const char *k, unsigned long long v)
{
	json__key(j, k);
	json__uint(j, v);
}

void json__kv_int(struct json *j, const char *k, long long v)
{
	json__key(j, k);
	json__int(j, v);
}

void json__kv_bool(struct json *j, const char *k, bool v)
{
	json__key(j, k);
	json__bool(j, v);
}

const char *json__cstr(struct json *j)
{
	return j->buf ? j->buf : "";
}

int json__time_rfc3339(char *buf, size_t len, const struct timespec *ts)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	long us = ts->tv_nsec / 1000;
	size_t n;
	int m;

	if (us < 0)
		us = 0;
	if (us > 999999)
		us = 999999;
	if (!len || !gmtime_r(&t, &tm))
		goto nospc;
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!n)
		goto nospc;
	m = snprintf(buf + n, len - n, ".%06ldZ", us);
	if (m < 0 || (size_t)m >= len - n)
		goto nospc;
	return 0;
nospc:
	if (len)
		buf[0] = '\0';
	return -ENOSPC;
}

void json__kv_strv(struct json *j, const char *k, const char *const *s, size_t n)
{
	json__key(j, k);
	json__begin_array(j);
	for (size_t i = 0; i < n; i++)
		json__string(j, s[i]);
	json__end_array(j);
}
