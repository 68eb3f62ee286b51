// SPDX-License-Identifier: GPL-2.0
/* Every program of the vigil object that loads by default passes this
 * kernel's verifier: open and load the skeleton (nothing is attached),
 * report each program's size and the verifier's work. Programs for other
 * kernels (autoload off) are listed, not loaded. Needs root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "vigil.h"
#include "vigil.skel.h"

static void every_program_loads(void **state)
{
	struct vigil_bpf *skel = vigil_bpf__open();
	struct bpf_program *p;
	int n = 0;

	assert_non_null(skel);
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_log_level(p, 4);	/* stats only */
	if (vigil_bpf__load(skel))
		fail_msg("vigil.bpf.o does not load: %s", strerror(errno));
	bpf_object__for_each_program(p, skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (!bpf_program__autoload(p)) {	/* for other kernels (fentry, LSM...) */
			print_message("  %-24s not loaded here (autoload off)\n",
				      bpf_program__name(p));
			continue;
		}
		assert_int_equal(bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len), 0);
		print_message("  %-24s %5zu insns, %u verified\n", bpf_program__name(p),
			      bpf_program__insn_cnt(p), info.verified_insns);
		n++;
	}
	assert_true(n >= 10);
	vigil_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_program_loads),
	};

	if (geteuid() != 0) {
		printf("test_load: skipped, loading BPF needs root\n[  PASSED  ] 0 test(s).\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
