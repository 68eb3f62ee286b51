// SPDX-License-Identifier: GPL-2.0
/* The agent's own BPF objects against other processes (guard.h): the maps
 * only the kernel writes are frozen, and every map, program and link id
 * goes into vg_own, which tamper.bpf.c's bpf(2) check looks up. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "guard.h"
#include "log.h"
#include "vigil.h"
#include "vigil.skel.h"

/* Maps the agent never writes after load (the kernel's own bookkeeping):
 * BPF_MAP_FREEZE makes them read-only to bpf(2) for good, the programs
 * still write them. .rodata is frozen by libbpf. A pinned map adopted by a
 * later agent is frozen already (EBUSY). Storage maps cannot be frozen
 * (ENOTSUPP): they need the owner's socket or task to write. */
static const char *const kernel_only[] = {
	"vg_connect_seen", "vg_connect_reports", "vg_copies", "vg_work", "vg_dns",
	"vg_relays", "vg_scratch", "vg_tls_scratch", "vg_counters", "vg_tamper_seen",
};

void guard__configure(struct vigil_bpf *skel, const char *pin_dir)
{
	struct stat st;

	if (pin_dir)
		snprintf((char *)skel->rodata->cfg_pin_dir, VIGIL_PIN_DIR_LEN, "%s", pin_dir);
	/* the LSM prevention trusts this executable (the kernel's dev_t) */
	if (!stat("/proc/self/exe", &st)) {
		skel->rodata->cfg_agent_exe_ino = st.st_ino;
		skel->rodata->cfg_agent_exe_dev = major(st.st_dev) << 20 | minor(st.st_dev);
	}
}

int guard__freeze(struct vigil_bpf *skel)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(kernel_only) / sizeof(kernel_only[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, kernel_only[i]);

		if (!m)
			continue;
		if (!bpf_map_freeze(bpf_map__fd(m)))
			n++;
		else if (errno != EBUSY)
			log__warn("cannot freeze %s: %s", kernel_only[i], strerror(errno));
	}
	return n;
}

static void own_add(int own_fd, __u32 kind, __u32 id)
{
	struct vigil_own_key k = { .kind = kind, .id = id };
	__u32 one = 1;

	if (id && bpf_map_update_elem(own_fd, &k, &one, BPF_ANY))
		log__debug("vg_own: cannot add %u/%u: %s", kind, id, strerror(errno));
}

static __u32 obj_id(int fd, int kind)
{
	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
		struct bpf_link_info link;
	} info;
	__u32 len;

	memset(&info, 0, sizeof(info));
	len = kind == VIGIL_OBJ_MAP ? sizeof(info.map) :
	      kind == VIGIL_OBJ_PROG ? sizeof(info.prog) : sizeof(info.link);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return kind == VIGIL_OBJ_MAP ? info.map.id :
	       kind == VIGIL_OBJ_PROG ? info.prog.id : info.link.id;
}

int guard__own(struct vigil_bpf *skel, struct bpf_link *const *links, int nlinks)
{
	int fd = bpf_map__fd(skel->maps.vg_own), n = 0;
	struct bpf_program *p;
	struct bpf_map *m;

	bpf_object__for_each_map(m, skel->obj) {
		own_add(fd, VIGIL_OBJ_MAP, obj_id(bpf_map__fd(m), VIGIL_OBJ_MAP));
		n++;
	}
	bpf_object__for_each_program(p, skel->obj) {
		if (bpf_program__fd(p) < 0)
			continue;
		own_add(fd, VIGIL_OBJ_PROG, obj_id(bpf_program__fd(p), VIGIL_OBJ_PROG));
		n++;
	}
	for (int i = 0; i < nlinks; i++) {
		own_add(fd, VIGIL_OBJ_LINK, obj_id(bpf_link__fd(links[i]), VIGIL_OBJ_LINK));
		n++;
	}
	/* never pinned (pin.c): each agent's own, frozen once filled */
	if (bpf_map_freeze(fd))
		log__warn("cannot freeze vg_own: %s", strerror(errno));
	return n;
}
