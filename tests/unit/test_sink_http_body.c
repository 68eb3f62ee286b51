// SPDX-License-Identifier: GPL-2.0
/* HTTP bodies per API: what Splunk HEC, Elastic _bulk and Loki push take,
 * and Elastic's per-item answer read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sink_http_body.h"

#define REC1 "{\"time\":\"2026-12-02T01:02:03.123456Z\",\"host\":\"h1\",\"kind\":\"alert\"," \
	     "\"id\":\"aaaa\",\"seq\":2,\"severity\":\"high\",\"labels\":{\"site\":\"fra-1\"}}\n"
#define REC2 "{\"time\":\"2026-12-02T01:02:04.000001Z\",\"host\":\"h1\",\"kind\":\"heartbeat\"," \
	     "\"id\":\"bbbb\",\"seq\":3,\"labels\":{\"site\":\"fra-1\"}}\n"
#define REC3 "{\"time\":\"2026-12-02T01:02:05.5Z\",\"host\":\"h1\",\"kind\":\"alert\"," \
	     "\"id\":\"cccc\",\"seq\":4,\"severity\":\"high\",\"labels\":{\"site\":\"fra-1\"}}\n"
static const char batch[] = REC1 REC2 REC3;

static long build(enum http_api api, const char *index, char **out)
{
	struct http_body_opts o = { .api = api, .index = index };

	return http_body__build(&o, batch, strlen(batch), 3, out);
}

static void generic_is_the_lines_themselves(void **st)
{
	char *b;

	assert_int_equal(build(HTTP_API_GENERIC, NULL, &b), strlen(batch));
	assert_string_equal(b, batch);
	free(b);
}

static void splunk_wraps_each_record_in_an_event_envelope(void **st)
{
	char *b, *p;
	json_error_t e;
	int n = 0;

	assert_true(build(HTTP_API_SPLUNK, "soc", &b) > 0);
	for (p = b; *p; n++) {
		char *nl = strchr(p, '\n');
		json_t *ev = json_loadb(p, nl - p, 0, &e);

		assert_non_null(ev);
		assert_string_equal(json_string_value(json_object_get(ev, "host")), "h1");
		assert_string_equal(json_string_value(json_object_get(ev, "source")), "vigil");
		assert_string_equal(json_string_value(json_object_get(ev, "index")), "soc");
		assert_true(json_is_object(json_object_get(ev, "event")));
		if (!n)	/* epoch seconds with the record's microseconds */
			assert_true(strstr(p, "\"time\":1796173323.123456,") == p + 1);
		json_decref(ev);
		p = nl + 1;
	}
	assert_int_equal(n, 3);
	free(b);
}

static void elastic_puts_a_create_with_the_record_id_before_each(void **st)
{
	char *b;

	assert_true(build(HTTP_API_ELASTIC, NULL, &b) > 0);
	assert_string_equal(b, "{\"create\":{\"_index\":\"vigil-alerts\",\"_id\":\"aaaa\"}}\n" REC1
			       "{\"create\":{\"_index\":\"vigil-alerts\",\"_id\":\"bbbb\"}}\n" REC2
			       "{\"create\":{\"_index\":\"vigil-alerts\",\"_id\":\"cccc\"}}\n" REC3);
	free(b);
	/* a line that is not JSON cannot be indexed: no body */
	{
		struct http_body_opts o = { .api = HTTP_API_ELASTIC };

		assert_int_equal(http_body__build(&o, "CEF:0|x\n", 8, 1, &b), -1);
	}
}

static void loki_groups_records_into_streams_by_bounded_labels(void **st)
{
	char *b;
	json_t *doc, *streams, *s0, *v;

	assert_true(build(HTTP_API_LOKI, NULL, &b) > 0);
	doc = json_loads(b, 0, NULL);
	assert_non_null(doc);
	streams = json_object_get(doc, "streams");
	assert_int_equal(json_array_size(streams), 2);	/* alert/high, heartbeat */
	s0 = json_array_get(streams, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(s0, "stream"), "site")),
			    "fra-1");
	assert_null(json_object_get(json_object_get(s0, "stream"), "id"));
	v = json_object_get(s0, "values");
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_array_get(json_array_get(v, 0), 0)),
			    "1796173323123456000");
	assert_string_equal(json_string_value(json_array_get(json_array_get(v, 1), 0)),
			    "1796173325500000000");
	json_decref(doc);
	free(b);
}

static void bulk_answer_sorts_items_taken_retry_rejected(void **st)
{
	struct bulk_result r;
	const char *ans = "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},"
			  "{\"create\":{\"status\":409}},{\"create\":{\"status\":429}},"
			  "{\"create\":{\"status\":400,\"error\":{\"reason\":\"bad field\"}}}]}";

	assert_true(http_body__bulk_result(ans, strlen(ans), 4, &r));
	assert_int_equal(r.taken, 2);
	assert_int_equal(r.retry, 1);
	assert_int_equal(r.rejected, 1);
	assert_string_equal(r.first_error, "status 400: bad field");
	/* an answer for another number of items, or none, is not an answer */
	assert_false(http_body__bulk_result(ans, strlen(ans), 3, &r));
	assert_false(http_body__bulk_result("<html>", 6, 1, &r));
	assert_false(http_body__bulk_result(NULL, 0, 1, &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generic_is_the_lines_themselves),
		cmocka_unit_test(splunk_wraps_each_record_in_an_event_envelope),
		cmocka_unit_test(elastic_puts_a_create_with_the_record_id_before_each),
		cmocka_unit_test(loki_groups_records_into_streams_by_bounded_labels),
		cmocka_unit_test(bulk_answer_sorts_items_taken_retry_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
