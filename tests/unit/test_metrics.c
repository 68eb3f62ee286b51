// SPDX-License-Identifier: GPL-2.0
/* Prometheus text: families, label escaping, number formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"

static void text_format(void **state)
{
	struct metrics_text *t = metrics__text_new();
	const char *s;
	size_t len;

	metrics__family(t, "vigil_x_total", "counter", "things");
	metrics__sample(t, "vigil_x_total", NULL, NULL, NULL, NULL, 42);
	metrics__sample(t, "vigil_x_total", "rule", "a\"b\\c\nd", "severity", "high", 18446744073709551615.0);
	metrics__sample(t, "vigil_y_seconds", "mode", "user", NULL, NULL, 0.25);
	s = metrics__text(t, &len);
	assert_string_equal(s, "# HELP vigil_x_total things\n# TYPE vigil_x_total counter\n"
			       "vigil_x_total 42\n"
			       "vigil_x_total{rule=\"a\\\"b\\\\c\\nd\",severity=\"high\"} 1.8446744073709552e+19\n"
			       "vigil_y_seconds{mode=\"user\"} 0.25\n");
	assert_int_equal(len, strlen(s));
	metrics__text_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
