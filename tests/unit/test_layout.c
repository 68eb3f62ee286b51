// SPDX-License-Identifier: GPL-2.0
/* The wire format is shared by BPF (clang, BPF target) and userspace (gcc,
 * x86-64): pin sizes and key offsets so a change on one side that the other
 * does not see fails here, not in production. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "repo_file.h"
#include "vigil.h"
#include "vigil_content.h"

_Static_assert(sizeof(struct vigil_file_key) == 16, "file key");
_Static_assert(sizeof(struct vigil_file_info) == 8, "file info");
_Static_assert(sizeof(struct vigil_taint) == 40, "taint");
_Static_assert(sizeof(struct vigil_read_key) == 8, "read key");
_Static_assert(sizeof(struct vigil_sock_state) == 72, "sock state");
_Static_assert(sizeof(struct vigil_flow_key) == 24, "flow key");
_Static_assert(offsetof(struct vigil_flow_key, daddr) == 8, "flow key daddr");
_Static_assert(sizeof(struct vigil_flow) == 80, "flow");
_Static_assert(sizeof(struct vigil_budget) == 56, "budget");
_Static_assert(sizeof(struct vigil_lpm4_key) == 8, "lpm4");
_Static_assert(sizeof(struct vigil_lpm6_key) == 20, "lpm6");
_Static_assert(sizeof(struct vigil_allow) == 4 + 8 * VIGIL_ALLOW_RANGES, "allow");
_Static_assert(sizeof(struct vigil_ev_header) == 16, "header");
_Static_assert(sizeof(struct vigil_ev_taint) == 16 + 32 + 8 + 16 + VIGIL_ARGS_LEN, "ev taint");
_Static_assert(sizeof(struct vigil_ev_proc) == 16 + 16 + 16, "ev proc");
_Static_assert(sizeof(struct vigil_ev_flow) == 16 + 24 + 24 + 32 + 8, "ev flow");
_Static_assert(sizeof(struct vigil_ev_connect) == 16 + 24 + 16 + 16, "ev connect");
_Static_assert(sizeof(struct vigil_ev_kill) == 16 + 24 + 8 + 16 + 8, "ev kill");
_Static_assert(VIGIL_MAX_SETS == 32, "set masks are __u32");
_Static_assert(sizeof(struct vigil_content) == 32, "content");
_Static_assert(offsetof(struct vigil_content, class) == 24, "content class");
_Static_assert(sizeof(struct vigil_dns_shape) == 16, "dns shape");
_Static_assert(sizeof(struct vigil_tls_flow) == 16, "tls flow");
_Static_assert(offsetof(struct vigil_tls_flow, samples) == 8, "tls flow samples");
_Static_assert(offsetof(struct vigil_tls_flow, class) == 12, "tls flow class");
_Static_assert(offsetof(struct vigil_tls_flow, lib) == 13, "tls flow lib");
_Static_assert(offsetof(struct vigil_tls_flow, flags) == 14, "tls flow flags");
_Static_assert((VIGIL_SAMPLE_BYTES & (VIGIL_SAMPLE_BYTES - 1)) == 0, "sample mask");

static void every_event_is_8_byte_aligned(void **state)
{
	assert_int_equal(sizeof(struct vigil_ev_taint) % 8, 0);
	assert_int_equal(sizeof(struct vigil_ev_proc) % 8, 0);
	assert_int_equal(sizeof(struct vigil_ev_flow) % 8, 0);
	assert_int_equal(sizeof(struct vigil_ev_connect) % 8, 0);
	assert_int_equal(sizeof(struct vigil_ev_kill) % 8, 0);
}

static void events_fit_the_header_size_field(void **state)
{
	assert_true(sizeof(struct vigil_ev_taint) < 65536);
	assert_true(VIGIL_EV__COUNT < 65536);
}

/* Every struct of a wire header has its size and each field's offset
 * pinned in vigil_layout.h: a struct or field added later cannot be
 * forgotten. Returns how many structs the header has. */
static int pinned(const char *header, const char *pins)
{
	char *h = slurp(header);
	int structs = 0;

	for (char *s = strstr(h, "\nstruct "); s; s = strstr(s + 1, "\nstruct ")) {
		char name[64], want[400], *body, *end, *eol = strchr(s + 1, '\n');
		int len;

		/* a definition: "struct NAME {" ending its line (a comment may follow) */
		len = 0;
		if (sscanf(s, "\nstruct %63[a-z0-9_] {%n", name, &len) != 1 || !len || !eol ||
		    strncmp(s + 8 + strlen(name), " {", 2))
			continue;
		while (s + len < eol && (s[len] == ' ' || s[len] == '\t'))
			len++;
		if (s + len != eol && strncmp(s + len, "/*", 2))
			continue;
		structs++;
		snprintf(want, sizeof(want), "VIGIL_PIN_SIZE(%s,", name);
		if (!strstr(pins, want))
			fail_msg("%s: struct %s: no %s in include/vigil_layout.h", header, name, want);
		body = eol;
		end = strstr(body, "\n};");
		assert_non_null(end);
		for (char *l = body; l && l < end; l = strchr(l + 1, '\n')) {
			char line[256], *semi, *f;
			size_t n = strcspn(l + 1, "\n");

			snprintf(line, sizeof(line), "%.*s", (int)n, l + 1);
			if ((f = strstr(line, "/*")))
				*f = '\0';
			if (!(semi = strchr(line, ';')))
				continue;
			*semi = '\0';
			if ((f = strchr(line, '[')))
				*f = '\0';
			f = line + strlen(line);
			while (f > line && (f[-1] == '_' || (f[-1] >= 'a' && f[-1] <= 'z') ||
					    (f[-1] >= '0' && f[-1] <= '9')))
				f--;
			snprintf(want, sizeof(want), "VIGIL_PIN_AT(%s, %s,", name, f);
			if (!strstr(pins, want))
				fail_msg("%s: %s.%s: no %s in include/vigil_layout.h", header, name, f,
					 want);
		}
	}
	free(h);
	return structs;
}

static void every_shared_struct_is_pinned(void **state)
{
	char *pins = slurp("include/vigil_layout.h");

	assert_true(pinned("include/vigil.h", pins) >= 31);
	assert_int_equal(pinned("include/vigil_content.h", pins), 3);
	free(pins);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_event_is_8_byte_aligned),
		cmocka_unit_test(events_fit_the_header_size_field),
		cmocka_unit_test(every_shared_struct_is_pinned),
	};
	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
