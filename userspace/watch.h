/* SPDX-License-Identifier: GPL-2.0 */
/* What the kernel checks opens, unlinks and renames against (vg_watch,
 * bpf/lib/guard.bpf.h): kernel-bypass char devices (uverbs, vfio, sites'
 * --bypass-device), the block devices holding protected files, vigil's
 * config, rules, binary and unit, and its pin directory. The records come
 * back as control activity; watch__path names an entry for them. One
 * table per process (there is one agent per process). Functions return 0
 * or -errno unless they say otherwise. */
#ifndef VIGIL_WATCH_H
#define VIGIL_WATCH_H

#include <stdint.h>

struct vigil_bpf;
struct agent_opts;

/* After load and the first protect scan: fill vg_watch; how many entries. */
int watch__fill(struct vigil_bpf *skel, const struct agent_opts *o, const char *pin_dir);
/* The block devices of the protected files now in vg_files (new devices
 * only, e.g. after inotify added files); how many were added. */
int watch__disks(struct vigil_bpf *skel);
/* Every second (agent.c's cron): watched files replaced, removed or
 * created since the last look move to their new inode; how many moved. */
int watch__refresh(struct vigil_bpf *skel);
/* The path of entry id ("" if unknown); for devices, its /dev name. */
const char *watch__path(uint32_t id);

#endif
