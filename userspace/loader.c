// SPDX-License-Identifier: GPL-2.0
/* Skeleton lifecycle: open -> rodata -> disable what the kernel lacks ->
 * load -> attach. Which programs exist and what each is for is one table. */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enforce.h"
#include "loader.h"
#include "log.h"
#include "vigil.h"
#include "vigil.skel.h"

/* Programs and whether vigil can work without them. */
struct prog_spec {
	const char *name;
	const char *btf_tp;	/* tp_btf target, probed in kernel BTF */
	bool cgroup;
	bool required;
	const char *loses;	/* what is missing without it */
};

static const struct prog_spec progs[] = {
	{ "vigil_filemap_get_pages", "mm_filemap_get_pages", false, true, NULL },
	{ "vigil_filemap_map_pages", "mm_filemap_map_pages", false, false, "mmap page mapping" },
	{ "vigil_filemap_fault", "mm_filemap_fault", false, false, "mmap page faults" },
	{ "vigil_dirty_folio", "writeback_dirty_folio", false, false,
	  "copies of weights written by tainted processes" },
	{ "vigil_fork", "sched_process_fork", false, true, NULL },
	{ "vigil_exec", "sched_process_exec", false, true, NULL },
	{ "vigil_exit", "sched_process_exit", false, true, NULL },
	{ "vigil_tcp_sendmsg", "tcp_sendmsg_locked", false, true, NULL },
	{ "vigil_sock_send_length", "sock_send_length", false, true, NULL },
	{ "vigil_kfree_skb", "kfree_skb", false, false,
	  "kills in the sender's context at the first drop (the agent kills instead)" },
	{ "vigil_sock_set_state", "inet_sock_set_state", false, false,
	  "budget_breach checks on the bytes receivers acknowledged" },
	{ "vigil_connect4", NULL, true, true, NULL },
	{ "vigil_connect6", NULL, true, true, NULL },
	{ "vigil_sendmsg4", NULL, true, true, NULL },
	{ "vigil_sendmsg6", NULL, true, true, NULL },
	{ "vigil_egress", NULL, true, true, NULL },
};

_Static_assert(sizeof(progs) / sizeof(progs[0]) <= LOADER_MAX_PROGS, "loader arrays too small");

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && log__level() > LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log__level() > LOG_INFO)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void ensure_tracefs(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) || !stat("/sys/kernel/debug/tracing/events", &st))
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		log__warn("cannot mount tracefs at /sys/kernel/tracing: %s", strerror(errno));
}

static bool btf_has_tp(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
}

int loader__open_load(struct loader *l, bool enforce, bool scoped)
{
	struct btf *vmlinux;
	int err;

	libbpf_set_print(libbpf_print);
	ensure_tracefs();
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		log__error("kernel BTF not found (/sys/kernel/btf/vmlinux): vigil needs a "
			   "kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	l->skel = vigil_bpf__open();
	if (!l->skel) {
		err = -errno;
		btf__free(vmlinux);
		log__error("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	l->skel->rodata->cfg_mode = enforce ? VIGIL_MODE_ENFORCE : VIGIL_MODE_MONITOR;
	l->skel->rodata->cfg_scoped = scoped;
	l->skel->rodata->cfg_agent_tgid = getpid();

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(l->skel->obj, progs[i].name);

		if (!p)
			continue;
		if (progs[i].btf_tp && !btf_has_tp(vmlinux, progs[i].btf_tp)) {
			if (progs[i].required) {
				log__error("this kernel lacks the %s tracepoint, which vigil needs",
					   progs[i].btf_tp);
				btf__free(vmlinux);
				return -ENOTSUP;
			}
			log__warn("kernel lacks tracepoint %s: without it vigil loses %s",
				  progs[i].btf_tp, progs[i].loses);
			bpf_program__set_autoload(p, false);
			l->skipped[l->nskipped++] = progs[i].name;
		}
	}
	btf__free(vmlinux);
	{
		char kerr[256];

		if (enforce__configure(l->skel, l->test_map_sizes, l->ntest_map_sizes,
				       l->test_faults, l->ntest_faults, kerr, sizeof(kerr))) {
			log__error("%s", kerr);
			return -EINVAL;
		}
	}

	err = vigil_bpf__load(l->skel);
	if (err) {
		log__error("loading the BPF programs failed: %s%s", strerror(-err),
			   err == -EPERM ? " (vigil must run as root with CAP_BPF, "
			   "CAP_PERFMON and CAP_NET_ADMIN; BPF LSM/fentry are not needed)" : "");
		return err;
	}
	return 0;
}

int loader__attach(struct loader *l, int cgroup_fd)
{
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(l->skel->obj, progs[i].name);
		struct bpf_link *link;

		if (!p || !bpf_program__autoload(p))
			continue;
		link = progs[i].cgroup ? bpf_program__attach_cgroup(p, cgroup_fd)
				       : bpf_program__attach(p);
		if (!link) {
			int err = -errno;

			if (progs[i].required) {
				log__error("attaching %s failed: %s", progs[i].name, strerror(-err));
				return err;
			}
			log__warn("attaching %s failed (%s): vigil loses %s", progs[i].name,
				  strerror(-err), progs[i].loses);
			l->skipped[l->nskipped++] = progs[i].name;
			continue;
		}
		l->attached[l->nlinks] = progs[i].name;
		l->links[l->nlinks++] = link;
	}
	return 0;
}

void loader__destroy(struct loader *l)
{
	for (int i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
	vigil_bpf__destroy(l->skel);
	l->skel = NULL;
}
