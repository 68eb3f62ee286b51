// SPDX-License-Identifier: GPL-2.0
/* The test knobs of the budget ceiling (--test-map-size, --test-fault):
 * what they set in the (opened, not loaded) BPF object, and that a bad knob
 * is a clear error (the agent then refuses to start). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/libbpf.h>

#include "enforce.h"
#include "vigil.h"
#include "vigil.skel.h"

static int quiet(enum libbpf_print_level l, const char *f, va_list ap) { return 0; }

static void knobs_shrink_maps_and_set_faults(void **state)
{
	struct vigil_bpf *skel;
	const char *sizes[] = { "flows=1", "taint=2", "lost-socks=3", "pipes=4" };
	const char *faults[] = { "sock-storage", "no-charge" };
	char err[256] = "";

	libbpf_set_print(quiet);
	skel = vigil_bpf__open();
	assert_non_null(skel);
	assert_int_equal(enforce__configure(skel, sizes, 4, faults, 2, err, sizeof(err)), 0);
	assert_int_equal(bpf_map__max_entries(skel->maps.vg_flows), 1);
	assert_int_equal(bpf_map__max_entries(skel->maps.vg_taint), 2);
	assert_int_equal(bpf_map__max_entries(skel->maps.vg_lost_socks), 3);
	assert_int_equal(bpf_map__max_entries(skel->maps.vg_pipes), 4);
	assert_int_equal(skel->rodata->cfg_fault, VIGIL_FAULT_SK_STORAGE | VIGIL_FAULT_NO_CHARGE);
	vigil_bpf__destroy(skel);
}

static void bad_knobs_are_refused(void **state)
{
	struct vigil_bpf *skel = vigil_bpf__open();
	const char *bad_sizes[][1] = { { "flows=0" }, { "flows" }, { "socks=3" }, { "=4" } };
	const char *bad_fault[] = { "oom" };
	char err[256];

	assert_non_null(skel);
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		err[0] = 0;
		assert_int_not_equal(enforce__configure(skel, bad_sizes[i], 1, NULL, 0, err,
							sizeof(err)), 0);
		assert_non_null(strstr(err, "--test-map-size"));
	}
	assert_int_not_equal(enforce__configure(skel, NULL, 0, bad_fault, 1, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "--test-fault 'oom'"));
	assert_int_equal(skel->rodata->cfg_fault, 0);
	assert_int_equal(bpf_map__max_entries(skel->maps.vg_flows), VIGIL_MAX_FLOWS);
	vigil_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(knobs_shrink_maps_and_set_faults),
		cmocka_unit_test(bad_knobs_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
