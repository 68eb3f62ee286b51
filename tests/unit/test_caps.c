// SPDX-License-Identifier: GPL-2.0
/* The capability table against the BPF object it switches: every program
 * is either a cgroup hook (always on) or an implementation the table names,
 * fallbacks stay off unless chosen, and --hooks parses as documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <bpf/libbpf.h>

#include "caps.h"
#include "vigil.h"	/* the skeleton names its types */
#include "vigil.skel.h"

static void hooks_parse_as_documented(void **state)
{
	unsigned f = 0;
	char err[256] = "";

	assert_int_equal(caps__parse_hooks("tracepoint,fentry", &f, err, sizeof(err)), 0);
	assert_int_equal(f, (1u << CAPS_TRACEPOINT) | (1u << CAPS_FENTRY));
	assert_int_equal(caps__parse_hooks("-kprobe", &f, err, sizeof(err)), 0);
	assert_int_equal(f, CAPS_ALL_FAMILIES & ~(1u << CAPS_KPROBE));
	assert_int_equal(caps__parse_hooks("all,-lsm,-kprobe", &f, err, sizeof(err)), 0);
	assert_int_equal(f, (1u << CAPS_TRACEPOINT) | (1u << CAPS_FENTRY) | (1u << CAPS_UPROBE));
	assert_int_equal(caps__parse_hooks("-uprobe", &f, err, sizeof(err)), 0);
	assert_int_equal(f, CAPS_ALL_FAMILIES & ~(1u << CAPS_UPROBE));
	assert_int_equal(caps__parse_hooks("lsm", &f, err, sizeof(err)), 0);
	assert_int_equal(f, 1u << CAPS_LSM);

	assert_int_not_equal(caps__parse_hooks("fentry,kprobes", &f, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "'kprobes'"));
	assert_int_not_equal(caps__parse_hooks("-all", &f, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "no hook family"));
	assert_int_not_equal(caps__parse_hooks("", &f, err, sizeof(err)), 0);

	/* CAPABILITY:FAMILY narrows one capability, the rest as before */
	assert_int_equal(caps__parse_hooks("-fentry,mmap:lsm", &f, err, sizeof(err)), 0);
	assert_int_equal(f & CAPS_ALL_FAMILIES, CAPS_ALL_FAMILIES & ~(1u << CAPS_FENTRY));
	assert_int_not_equal(f & ~CAPS_ALL_FAMILIES, 0);
	assert_int_not_equal(caps__parse_hooks("mmap:lsmx", &f, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "CAPABILITY:FAMILY"));
	assert_int_not_equal(caps__parse_hooks("reads:lsm", &f, err, sizeof(err)), 0);
	assert_int_not_equal(caps__parse_hooks("reset:tracepoint", &f, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "one implementation"));
}

static bool is_cgroup(const struct bpf_program *p)
{
	enum bpf_prog_type t = bpf_program__type(p);

	return t == BPF_PROG_TYPE_CGROUP_SKB || t == BPF_PROG_TYPE_CGROUP_SOCK_ADDR ||
	       t == BPF_PROG_TYPE_CGROUP_SOCK;
}

static void every_program_is_a_cgroup_hook_or_in_the_table(void **state)
{
	struct vigil_bpf *skel = vigil_bpf__open();
	struct bpf_program *p;
	const char *name;

	assert_non_null(skel);
	bpf_object__for_each_program(p, skel->obj) {
		if (is_cgroup(p))
			continue;
		if (caps__of_program(bpf_program__name(p), NULL) < 0)
			fail_msg("program %s is in no capability of userspace/caps.c",
				 bpf_program__name(p));
	}
	for (size_t i = 0; (name = caps__program_at(i)); i++)
		if (!bpf_object__find_program_by_name(skel->obj, name))
			fail_msg("caps.c names %s, which bpf/ does not have", name);
	vigil_bpf__destroy(skel);
}

/* A loader that never asked caps would load only tracepoints and cgroup
 * hooks, never a family that can be refused (EPERM on kernels without
 * trampolines). */
static void fallbacks_are_off_by_default(void **state)
{
	struct vigil_bpf *skel = vigil_bpf__open();
	struct bpf_program *p;

	assert_non_null(skel);
	bpf_object__for_each_program(p, skel->obj) {
		enum bpf_prog_type t = bpf_program__type(p);

		if (t == BPF_PROG_TYPE_KPROBE || t == BPF_PROG_TYPE_LSM ||
		    (t == BPF_PROG_TYPE_TRACING &&
		     bpf_program__expected_attach_type(p) != BPF_TRACE_RAW_TP))
			assert_false(bpf_program__autoload(p));
	}
	vigil_bpf__destroy(skel);
}

static void apply_switches_on_only_the_chosen_implementation(void **state)
{
	struct vigil_bpf *skel = vigil_bpf__open();
	struct caps c;

	assert_non_null(skel);
	memset(&c, 0, sizeof(c));
	for (int id = 0; id < CAPS_N; id++)
		c.chosen[id] = -1;
	c.chosen[CAPS_READ] = 1;	/* fentry filemap_read */
	c.chosen[CAPS_SEND] = 1;	/* fentry, sendpage missing */
	memset(c.prog_ok, 1, sizeof(c.prog_ok));
	c.prog_ok[CAPS_SEND][1][2] = false;
	c.prog_ok[CAPS_SEND][1][3] = false;
	caps__apply(&c, skel->obj);
	assert_true(bpf_program__autoload(skel->progs.vigil_fentry_filemap_read));
	assert_false(bpf_program__autoload(skel->progs.vigil_filemap_get_pages));
	assert_false(bpf_program__autoload(skel->progs.vigil_kprobe_filemap_read));
	assert_true(bpf_program__autoload(skel->progs.vigil_fentry_tcp_sendmsg));
	assert_true(bpf_program__autoload(skel->progs.vigil_fentry_socket_sendmsg));
	assert_false(bpf_program__autoload(skel->progs.vigil_fentry_tcp_sendpage));
	assert_false(bpf_program__autoload(skel->progs.vigil_fexit_tcp_sendpage));
	assert_false(bpf_program__autoload(skel->progs.vigil_tcp_sendmsg));
	assert_false(bpf_program__autoload(skel->progs.vigil_lsm_socket_sendmsg));
	assert_false(bpf_program__autoload(skel->progs.vigil_fork));	/* blind here */
	assert_true(bpf_program__autoload(skel->progs.vigil_egress));	/* cgroup: untouched */
	assert_int_equal(caps__of_program("vigil_fexit_tcp_sendpage", NULL), CAPS_SEND);
	vigil_bpf__destroy(skel);
}

static void blind_needed_capability_is_not_enforceable(void **state)
{
	struct caps c;

	memset(&c, 0, sizeof(c));
	c.btf = true;
	strcpy(c.cgroup2, "/sys/fs/cgroup");
	for (int id = 0; id < CAPS_N; id++)
		c.chosen[id] = 0;
	assert_true(caps__enforceable(&c));
	c.chosen[CAPS_DROP_KILL] = -1;	/* optional */
	assert_true(caps__enforceable(&c));
	c.chosen[CAPS_MMAP] = -1;
	assert_false(caps__enforceable(&c));
	assert_string_equal(caps__chosen_name(&c, CAPS_MMAP), "blind");
	c.chosen[CAPS_MMAP] = 0;
	strcpy(c.lockdown, "confidentiality");
	assert_false(caps__enforceable(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hooks_parse_as_documented),
		cmocka_unit_test(every_program_is_a_cgroup_hook_or_in_the_table),
		cmocka_unit_test(fallbacks_are_off_by_default),
		cmocka_unit_test(apply_switches_on_only_the_chosen_implementation),
		cmocka_unit_test(blind_needed_capability_is_not_enforceable),
	};
	return cmocka_run_group_tests_name("caps", tests, NULL, NULL);
}
