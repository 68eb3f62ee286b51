/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF side's lifecycle: open, configure, choose the implementation of
 * each capability (caps.h), load and attach, each step checked and
 * explained. */
#ifndef VIGIL_LOADER_H
#define VIGIL_LOADER_H

#include <stdbool.h>
#include <stdio.h>

#include "caps.h"

#define LOADER_MAX_PROGS 64	/* 6.1 with the fallbacks attaches ~35 */

struct vigil_bpf;
struct bpf_link;
struct pin;
struct ruleset;

struct loader {
	struct vigil_bpf *skel;
	struct bpf_link *links[LOADER_MAX_PROGS];
	const char *attached[LOADER_MAX_PROGS];	/* program of each link */
	int nlinks;
	const char *skipped[LOADER_MAX_PROGS];	/* optional, failed to attach */
	int nskipped;
	struct caps caps;			/* what this kernel lets vigil see */
	/* pinned enforcement (pin.h), or NULL: the maps are adopted before
	 * load, the links taken over at attach */
	struct pin *pin;
	const struct ruleset *rs;
	unsigned long long relay_min_bytes;	/* 0: the BPF default */
	unsigned long long work_limit;	/* work-class bytes per destination and hour */
	bool deny_new_dest;		/* enforce: refuse tainted connects to new destinations */
	/* tests only (--test-map-size, --test-fault): see enforce.h */
	const char **map_sizes;		size_t nmap_sizes;	/* --map-size */
	size_t files_capacity;		/* files=N of it, else 0 */
	const char **test_map_sizes;	size_t ntest_map_sizes;
	const char **test_faults;	size_t ntest_faults;
};

/* Open the skeleton, set its read-only config, switch on the programs of
 * each capability's implementation caps__probe picks among the hook
 * families `hooks` (0: all), load. 0 or a negative errno after saying why. */
int loader__open_load(struct loader *l, bool enforce, bool scoped, unsigned hooks);
/* Attach every loaded program; cgroup ones to cgroup_fd. */
int loader__attach(struct loader *l, int cgroup_fd);
/* libbpf's messages (a refused program's verifier log among them) go to f
 * instead of stderr; NULL: stderr again. */
void loader__log_to(FILE *f);
/* Detach and free; safe on a loader that never loaded. */
/* Cgroup links another process detached: attached again (and pinned again
 * in place of the dead one); report(ctx, program, 0 or -errno) for each.
 * Every tick: the hooks that enforce are back within one. Returns how many
 * were attached again. */
int loader__relink(struct loader *l, int cgroup_fd,
		   void (*report)(void *ctx, const char *prog, int err), void *ctx);
void loader__destroy(struct loader *l);

#endif
