// SPDX-License-Identifier: GPL-2.0
/* Record identity (UUIDs, labels, stamp), the 32 KiB cap, SHA-256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "json.h"
#include "record.h"
#include "sha256.h"

static void uuids(void **state)
{
	char a[RECORD_UUID_LEN + 1], b[RECORD_UUID_LEN + 1];
	regex_t re;

	assert_int_equal(regcomp(&re, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
				 "[0-9a-f]{12}$", REG_EXTENDED | REG_NOSUB), 0);
	for (int i = 0; i < 1000; i++) {	/* crosses pool refills (256 per 4 KiB) */
		record__uuid(a);
		record__uuid(b);
		assert_int_equal(regexec(&re, a, 0, NULL, 0), 0);
		assert_string_not_equal(a, b);
	}
	regfree(&re);
}

static void identity(void **state)
{
	struct record_identity id;
	char mid[64] = "";
	FILE *f;

	record__identity_init(&id);
	assert_true(id.hostname[0]);
	assert_int_equal(strlen(id.boot_id), RECORD_UUID_LEN);
	assert_int_equal(strlen(id.run_id), RECORD_UUID_LEN);
	f = fopen("/etc/machine-id", "r");
	if (f) {
		assert_non_null(fgets(mid, sizeof(mid), f));
		mid[strcspn(mid, "\n")] = '\0';
		fclose(f);
		assert_string_equal(id.machine_id, mid);
	}
}

static void labels(void **state)
{
	struct record_identity id;
	char err[256];

	record__identity_init(&id);
	assert_int_equal(record__label_add(&id, "partner=acme corp", err, sizeof(err)), 0);
	assert_int_equal(record__label_add(&id, "site=fra-1", err, sizeof(err)), 0);
	assert_int_equal(record__label_add(&id, "empty=", err, sizeof(err)), 0);
	assert_int_equal(id.nlabels, 3);
	assert_string_equal(id.labels[0].value, "acme corp");
	assert_int_equal(record__label_add(&id, "site=x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(record__label_add(&id, "Site=x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a-z"));
	assert_int_equal(record__label_add(&id, "=x", err, sizeof(err)), -EINVAL);
	assert_int_equal(record__label_add(&id, "nokv", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "KEY=VALUE"));
	assert_int_equal(record__label_add(&id, "bell=a\ab", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "printable"));
	assert_int_equal(record__label_add(&id, "bad=\xff", err, sizeof(err)), -EINVAL);
	assert_int_equal(id.nlabels, 3);
}

static void stamp(void **state)
{
	struct record_identity id;
	struct json j;
	json_t *o;
	char err[64];

	record__identity_init(&id);
	record__label_add(&id, "site=s1", err, sizeof(err));
	json__init(&j);
	for (unsigned i = 1; i <= 3; i++) {
		json__reset(&j);
		json__begin_object(&j);
		record__stamp(&id, &j);
		json__end_object(&j);
		o = json_loads(json__cstr(&j), 0, NULL);
		assert_non_null(o);
		assert_int_equal(json_integer_value(json_object_get(o, "seq")), i);
		assert_string_equal(json_string_value(json_object_get(o, "run_id")), id.run_id);
		assert_string_equal(json_string_value(json_object_get(json_object_get(o, "labels"),
								      "site")), "s1");
		{
			const char *k;
			json_t *v;

			json_object_foreach(o, k, v)
				assert_true(record__is_identity_key(k));
		}
		json_decref(o);
	}
	assert_false(record__is_identity_key("kind"));
	json__free(&j);
}

/* A line of n bytes with one long string (multi-byte characters) and a long
 * array. */
static char *big_line(size_t nstr, size_t narr)
{
	struct json j;
	char *s = malloc(nstr * 3 + 1), *out;

	for (size_t i = 0; i < nstr; i++)
		memcpy(s + 3 * i, "\xe2\x82\xac", 3);	/* U+20AC */
	s[nstr * 3] = '\0';
	json__init(&j);
	json__begin_object(&j);
	json__kv_uint(&j, "schema_version", 1);
	json__kv_str(&j, "kind", "alert");
	json__kv_str(&j, "id", "x");
	json__kv_str(&j, "cmdline", s);
	json__key(&j, "chain");
	json__begin_array(&j);
	for (size_t i = 0; i < narr; i++)
		json__uint(&j, 1000000 + i);
	json__end_array(&j);
	json__end_object(&j);
	out = strdup(json__cstr(&j));
	json__free(&j);
	free(s);
	return out;
}

static void cap(void **state)
{
	char *line = big_line(10, 3), *out = NULL;
	json_t *o;

	assert_int_equal(record__cap(line, strlen(line), RECORD_HARD_BYTES, &out), 0);
	assert_null(out);
	free(line);

	line = big_line(20000, 10);	/* 60 KB string */
	assert_int_equal(record__cap(line, strlen(line), RECORD_HARD_BYTES, &out), 1);
	assert_true(strlen(out) <= RECORD_HARD_BYTES);
	o = json_loads(out, 0, NULL);	/* jansson rejects invalid UTF-8 */
	assert_non_null(o);
	assert_true(json_is_true(json_object_get(o, "truncated")));
	assert_int_equal(json_integer_value(json_object_get(o, "original_bytes")), strlen(line));
	assert_non_null(strstr(json_string_value(json_object_get(o, "cmdline")), "[truncated]"));
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "alert");
	assert_int_equal(json_array_size(json_object_get(o, "chain")), 10);
	assert_true(strlen(out) > RECORD_HARD_BYTES / 2);	/* cut, not emptied */
	json_decref(o);
	free(out);
	free(line);

	line = big_line(1, 10000);	/* 80 KB of numbers */
	assert_int_equal(record__cap(line, strlen(line), RECORD_HARD_BYTES, &out), 1);
	assert_true(strlen(out) <= RECORD_HARD_BYTES);
	o = json_loads(out, 0, NULL);
	assert_non_null(o);
	assert_true(json_array_size(json_object_get(o, "chain")) < 10000);
	assert_true(json_array_size(json_object_get(o, "chain")) > 1000);
	json_decref(o);
	free(out);
	free(line);

	assert_int_equal(record__cap("not json, but long", 18, 4, &out), -EINVAL);
}

static void sha256(void **state)
{
	static const char *const abc = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[65];
	unsigned char d[SHA256_LEN], d2[SHA256_LEN];
	struct sha256 c;
	char *mil = malloc(1000000);

	sha256__hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256__hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256__hex(abc, strlen(abc), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(mil, 'a', 1000000);
	sha256__hex(mil, 1000000, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* the same bytes in odd-sized pieces */
	sha256__init(&c);
	sha256__update(&c, abc, strlen(abc));
	sha256__final(&c, d);
	sha256__init(&c);
	for (size_t i = 0; i < strlen(abc); i += 7)
		sha256__update(&c, abc + i, strlen(abc) - i < 7 ? strlen(abc) - i : 7);
	sha256__final(&c, d2);
	assert_memory_equal(d, d2, SHA256_LEN);
	free(mil);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uuids),
		cmocka_unit_test(identity),
		cmocka_unit_test(labels),
		cmocka_unit_test(stamp),
		cmocka_unit_test(cap),
		cmocka_unit_test(sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
