// SPDX-License-Identifier: GPL-2.0
/* JSON writer: commas, nesting, escaping (incl. invalid UTF-8), RFC 3339. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "json.h"

static void empty_and_scalars(void **state)
{
	struct json j;

	json__init(&j);
	assert_string_equal(json__cstr(&j), "");
	json__begin_object(&j);
	json__end_object(&j);
	assert_string_equal(json__cstr(&j), "{}");
	json__reset(&j);
	assert_string_equal(json__cstr(&j), "");
	json__begin_object(&j);
	json__kv_uint(&j, "u", 18446744073709551615ULL);
	json__kv_int(&j, "i", LLONG_MIN);
	json__kv_int(&j, "p", 5);
	json__kv_bool(&j, "t", true);
	json__kv_bool(&j, "f", false);
	json__key(&j, "n");
	json__null(&j);
	json__kv_str(&j, "s", "x");
	json__kv_str(&j, "ns", NULL);
	json__end_object(&j);
	assert_string_equal(json__cstr(&j),
			    "{\"u\":18446744073709551615,\"i\":-9223372036854775808,\"p\":5,"
			    "\"t\":true,\"f\":false,\"n\":null,\"s\":\"x\",\"ns\":null}");
	json__free(&j);
	assert_null(j.buf);
}

static void nesting_and_commas(void **state)
{
	struct json j;

	json__init(&j);
	json__begin_object(&j);
	json__kv_str(&j, "a", "1");
	json__key(&j, "arr");
	json__begin_array(&j);
	json__uint(&j, 1);
	json__string(&j, "two");
	json__begin_object(&j);
	json__end_object(&j);
	json__begin_array(&j);
	json__end_array(&j);
	json__begin_object(&j);
	json__kv_bool(&j, "x", true);
	json__key(&j, "y");
	json__begin_array(&j);
	json__null(&j);
	json__end_array(&j);
	json__end_object(&j);
	json__end_array(&j);
	json__key(&j, "o");
	json__begin_object(&j);
	json__end_object(&j);
	json__kv_int(&j, "z", -1);
	json__end_object(&j);
	assert_string_equal(json__cstr(&j),
			    "{\"a\":\"1\",\"arr\":[1,\"two\",{},[],{\"x\":true,\"y\":[null]}],"
			    "\"o\":{},\"z\":-1}");
	assert_int_equal(j.depth, 0);

	/* reset keeps the buffer and forgets comma state */
	char *before = j.buf;
	json__reset(&j);
	assert_ptr_equal(j.buf, before);
	json__begin_object(&j);
	json__kv_uint(&j, "k", 1);
	json__end_object(&j);
	assert_string_equal(json__cstr(&j), "{\"k\":1}");
	json__free(&j);
}

static void escaping(void **state)
{
	struct json j;

	json__init(&j);
	json__string(&j, "q\"b\\s/");
	assert_string_equal(json__cstr(&j), "\"q\\\"b\\\\s/\"");

	json__reset(&j);
	json__string(&j, "\n\t\r\x01\x1f\x7f end");
	assert_string_equal(json__cstr(&j), "\"\\u000a\\u0009\\u000d\\u0001\\u001f\\u007f end\"");

	/* valid multi-byte UTF-8 passes through untouched */
	json__reset(&j);
	json__string(&j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_string_equal(json__cstr(&j), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");

	/* invalid bytes each become U+FFFD */
	json__reset(&j);
	json__string(&j, "a\xff" "b\xc3" "c\x80");
	assert_string_equal(json__cstr(&j), "\"a\\ufffdb\\ufffdc\\ufffd\"");
	json__reset(&j);
	json__string(&j, "\xc0\xaf");		/* overlong '/' */
	assert_string_equal(json__cstr(&j), "\"\\ufffd\\ufffd\"");
	json__reset(&j);
	json__string(&j, "\xed\xa0\x80");	/* UTF-16 surrogate */
	assert_string_equal(json__cstr(&j), "\"\\ufffd\\ufffd\\ufffd\"");
	json__reset(&j);
	json__string(&j, "\xf4\x90\x80\x80");	/* past U+10FFFF */
	assert_string_equal(json__cstr(&j), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	json__reset(&j);
	json__string(&j, "\xe2\x82");		/* truncated at the end */
	assert_string_equal(json__cstr(&j), "\"\\ufffd\\ufffd\"");

	/* string_n: embedded NUL, and a sequence cut by n */
	json__reset(&j);
	json__string_n(&j, "a\0b", 3);
	assert_string_equal(json__cstr(&j), "\"a\\u0000b\"");
	json__reset(&j);
	json__string_n(&j, "\xc3\xa9", 1);
	assert_string_equal(json__cstr(&j), "\"\\ufffd\"");

	/* keys are escaped too */
	json__reset(&j);
	json__begin_object(&j);
	json__kv_str(&j, "k\"\n", "v");
	json__end_object(&j);
	assert_string_equal(json__cstr(&j), "{\"k\\\"\\u000a\":\"v\"}");
	json__free(&j);
}

static void grows_large(void **state)
{
	char big[10000];
	struct json j;

	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json__init(&j);
	json__begin_array(&j);
	for (int i = 0; i < 20; i++)
		json__string(&j, big);
	json__end_array(&j);
	assert_false(j.oom);
	assert_int_equal(strlen(json__cstr(&j)), j.len);
	assert_int_equal(j.len, 2 + 20 * (2 + 2 * (sizeof(big) - 1)) + 19);
	json__free(&j);
}

static void deep_nesting_stays_balanced(void **state)
{
	struct json j;
	char want[200] = "";

	json__init(&j);
	for (int i = 0; i < 40; i++)
		json__begin_array(&j);
	for (int i = 0; i < 40; i++)
		json__end_array(&j);
	for (int i = 0; i < 40; i++)
		strcat(want, "[");
	for (int i = 0; i < 40; i++)
		strcat(want, "]");
	assert_string_equal(json__cstr(&j), want);
	assert_int_equal(j.depth, 0);
	json__free(&j);
}

static void rfc3339(void **state)
{
	struct timespec ts = { .tv_sec = 1795377826, .tv_nsec = 123456789 };
	char buf[64];

	assert_int_equal(json__time_rfc3339(buf, sizeof(buf), &ts), 0);
	assert_string_equal(buf, "2026-11-22T20:03:46.123456Z");

	ts = (struct timespec){ .tv_sec = 0, .tv_nsec = 0 };
	assert_int_equal(json__time_rfc3339(buf, sizeof(buf), &ts), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");

	ts = (struct timespec){ .tv_sec = 951782400, .tv_nsec = 999999999 };	/* leap day */
	assert_int_equal(json__time_rfc3339(buf, sizeof(buf), &ts), 0);
	assert_string_equal(buf, "2000-02-29T00:00:00.999999Z");

	/* exactly fits: 27 chars + NUL */
	assert_int_equal(json__time_rfc3339(buf, 28, &ts), 0);
	assert_int_equal(json__time_rfc3339(buf, 27, &ts), -ENOSPC);
	assert_int_equal(json__time_rfc3339(buf, 10, &ts), -ENOSPC);
	assert_int_equal(json__time_rfc3339(buf, 0, &ts), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_and_scalars),
		cmocka_unit_test(nesting_and_commas),
		cmocka_unit_test(escaping),
		cmocka_unit_test(grows_large),
		cmocka_unit_test(deep_nesting_stays_balanced),
		cmocka_unit_test(rfc3339),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
