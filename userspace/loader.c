// SPDX-License-Identifier: GPL-2.0
/* Skeleton lifecycle: open -> rodata -> pick each capability's
 * implementation (caps.c, whose table says which programs exist and what
 * each is for) -> load -> attach. */
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

#include "caps.h"
#include "enforce.h"
#include "guard.h"
#include "mapsize.h"
#include "loader.h"
#include "log.h"
#include "pin.h"
#include "vigil.h"
#include "vigil.skel.h"

static FILE *libbpf_out;	/* NULL: stderr */

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && log__level() > LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log__level() > LOG_INFO)
		return 0;
	return vfprintf(libbpf_out ? libbpf_out : stderr, fmt, args);
}

void loader__log_to(FILE *f)
{
	libbpf_out = f;
}

static void ensure_tracefs(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) || !stat("/sys/kernel/debug/tracing/events", &st))
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		log__warn("cannot mount tracefs at /sys/kernel/tracing: %s", strerror(errno));
}

int loader__open_load(struct loader *l, bool enforce, bool scoped, unsigned hooks)
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
	if (l->relay_min_bytes)
		l->skel->rodata->cfg_relay_min_bytes = l->relay_min_bytes;
	l->skel->rodata->cfg_work_limit = l->work_limit;
	l->skel->rodata->cfg_deny_new_dest = l->deny_new_dest;
	guard__configure(l->skel, l->pin ? l->pin->dir : NULL);

	/* each capability through the first implementation this kernel runs */
	caps__probe(&l->caps, hooks ? hooks : CAPS_ALL_FAMILIES);
	for (int id = 0; id < CAPS_N; id++) {
		if (l->caps.chosen[id] >= 0)
			continue;
		if (caps__required(id)) {
			log__error("this kernel gives vigil no way to see %s: %s ('vigil check' "
				   "shows what was tried)", caps__name(id), caps__blind_means(id));
			btf__free(vmlinux);
			return -ENOTSUP;
		}
		log__warn("blind on %s: %s ('vigil check' shows what was tried)", caps__name(id),
			  caps__blind_means(id));
	}
	caps__apply(&l->caps, l->skel->obj);
	l->skel->rodata->cfg_skb_current = l->caps.skb_current;
	btf__free(vmlinux);
	{
		char kerr[256];

		if (mapsize__apply(l->skel, l->map_sizes, l->nmap_sizes, &l->files_capacity,
				   kerr, sizeof(kerr))) {
			log__error("%s", kerr);
			return -EINVAL;
		}
		if (enforce__configure(l->skel, l->test_map_sizes, l->ntest_map_sizes,
				       l->test_faults, l->ntest_faults, kerr, sizeof(kerr))) {
			log__error("%s", kerr);
			return -EINVAL;
		}
	}

	if (l->pin && (err = pin__reuse_maps(l->pin, l->skel->obj, l->rs)))
		return err;
	err = vigil_bpf__load(l->skel);
	if (err) {
		log__error("loading the BPF programs failed: %s%s", strerror(-err),
			   err == -EPERM ? " (vigil must run as root with CAP_BPF, "
			   "CAP_PERFMON and CAP_NET_ADMIN; 'vigil check' shows which hooks load)" : "");
		return err;
	}
	if (l->pin && (err = pin__pin_maps(l->pin, l->skel->obj)))
		return err;
	guard__freeze(l->skel);
	return 0;
}

static bool prog_is_cgroup(const struct bpf_program *p)
{
	enum bpf_prog_type t = bpf_program__type(p);

	return t == BPF_PROG_TYPE_CGROUP_SKB || t == BPF_PROG_TYPE_CGROUP_SOCK_ADDR ||
	       t == BPF_PROG_TYPE_CGROUP_SOCK;
}

/* Every program caps__apply left on (the cgroup hooks always are). */
int loader__attach(struct loader *l, int cgroup_fd)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, l->skel->obj) {
		const char *name = bpf_program__name(p);
		bool optional = false;
		int cap = caps__of_program(name, &optional);
		struct bpf_link *link;

		if (!bpf_program__autoload(p))
			continue;
		if (bpf_program__expected_attach_type(p) == BPF_TRACE_ITER)
			continue;	/* run by its owner (enforce.c), not attached */
		if (cap == CAPS_TLS)
			continue;	/* per library file, by tls.c */
		if (l->nlinks == LOADER_MAX_PROGS || l->nskipped == LOADER_MAX_PROGS) {
			log__error("more than %d programs to attach", LOADER_MAX_PROGS);
			return -E2BIG;
		}
		link = l->pin ? pin__attach(l->pin, p, prog_is_cgroup(p), cgroup_fd) :
		       prog_is_cgroup(p) ? bpf_program__attach_cgroup(p, cgroup_fd) :
		       bpf_program__attach(p);
		if (!link) {
			int err = -errno;

			if (cap < 0 || (caps__required(cap) && !optional)) {
				log__error("attaching %s failed: %s", name, strerror(-err));
				return err;
			}
			log__warn("attaching %s failed (%s): vigil loses %s", name, strerror(-err),
				  optional ? "part of its capability" : caps__blind_means(cap));
			l->skipped[l->nskipped++] = name;
			continue;
		}
		l->attached[l->nlinks] = name;
		l->links[l->nlinks++] = link;
	}
	if (l->pin)
		pin__finish(l->pin);
	guard__own(l->skel, l->links, l->nlinks);
	return 0;
}

/* A cgroup link another process detached (BPF_LINK_DETACH) stays open
 * but reports cgroup 0: the hook no longer runs. */
static bool link_detached(const struct bpf_link *link)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return !bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len) &&
	       info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id == 0;
}

int loader__relink(struct loader *l, int cgroup_fd,
		   void (*report)(void *ctx, const char *prog, int err), void *ctx)
{
	int n = 0;

	for (int i = 0; i < l->nlinks; i++) {
		struct bpf_program *p;
		struct bpf_link *nl;
		char path[PATH_MAX];

		if (!link_detached(l->links[i]))
			continue;
		p = bpf_object__find_program_by_name(l->skel->obj, l->attached[i]);
		nl = p ? bpf_program__attach_cgroup(p, cgroup_fd) : NULL;
		if (!nl) {
			report(ctx, l->attached[i], p ? -errno : -ENOENT);
			continue;
		}
		/* the pin names the live link, so a later agent adopts this one */
		if (l->pin && snprintf(path, sizeof(path), "%s/links/%s", l->pin->dir,
				       l->attached[i]) < (int)sizeof(path)) {
			unlink(path);
			if (bpf_link__pin(nl, path))
				log__warn("%s: cannot pin its new link (%s)", l->attached[i],
					  strerror(errno));
		}
		bpf_link__destroy(l->links[i]);
		l->links[i] = nl;
		report(ctx, l->attached[i], 0);
		n++;
	}
	return n;
}

void loader__destroy(struct loader *l)
{
	for (int i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
	vigil_bpf__destroy(l->skel);
	l->skel = NULL;
}
