/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's own BPF objects against other processes: the pin directory
 * the kernel watches for BPF_OBJ_GET, the maps frozen after load, the ids
 * of every map, program and link in vg_own (bpf/tamper.bpf.c reports
 * bpf(2) by others on them as agent_tamper). */
#ifndef VIGIL_GUARD_H
#define VIGIL_GUARD_H

struct vigil_bpf;
struct bpf_link;

/* Before load: the pin directory (NULL: not pinned) into the rodata. */
void guard__configure(struct vigil_bpf *skel, const char *pin_dir);
/* After load: freeze the maps only the kernel writes; how many were. */
int guard__freeze(struct vigil_bpf *skel);
/* After attach: this agent's maps, programs and links into vg_own, which
 * is then frozen; how many. */
int guard__own(struct vigil_bpf *skel, struct bpf_link *const *links, int nlinks);

#endif
