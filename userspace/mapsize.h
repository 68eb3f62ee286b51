/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sizes of the kernel's state maps, by what they track (vigil run
 * --map-size NAME=N, the config file's map_size list): tracked processes,
 * protected files and copies, flows, pipes, relays, ptys, and the fallback
 * socket table. Each knob sets every map keyed by that thing (a tracked
 * process has its taint entry, its connect reports, its blocked flag, its
 * DNS counts and four read-coverage entries). When one fills, what the
 * kernel could not keep is counted and reported, and enforce mode fails
 * closed (docs/OPERATIONS.md, "State and memory").
 */
#ifndef VIGIL_MAPSIZE_H
#define VIGIL_MAPSIZE_H

#include <stddef.h>

struct vigil_bpf;

/* Checks one NAME=N: 0, or -EINVAL with what is wrong in err. */
int mapsize__check(const char *spec, char *err, size_t errlen);
/* Between open and load: applies every spec (checked before); *files
 * gets the protected-file capacity (0: the default). */
int mapsize__apply(struct vigil_bpf *skel, const char **specs, size_t n, size_t *files,
		   char *err, size_t errlen);
/* One line naming each knob's entries and the memory of its maps (after
 * load: their key and value sizes). */
void mapsize__describe(struct vigil_bpf *skel, char *buf, size_t len);
/* The knob names, for --help and errors: "processes, files, ...". */
const char *mapsize__names(void);

#endif
