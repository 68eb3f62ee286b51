/* SPDX-License-Identifier: GPL-2.0 */
/* How full the kernel's maps are, for the metrics: entries and capacity of
 * every hash-like map of the BPF object (hash, LRU hash, LPM trie), so an
 * operator sees vg_taint or vg_flows approach its limit before the kernel's
 * *_map_full counters start counting losses. Arrays (always full), storage
 * maps (per socket/task) and the ring buffer are left out. Counting walks
 * the map (batched where the kernel can), so it is done at most every
 * MAPFILL_EVERY_S seconds and cached. */
#ifndef VIGIL_MAPFILL_H
#define VIGIL_MAPFILL_H

#include <stdint.h>

#define MAPFILL_EVERY_S 10

struct bpf_object;
struct metrics_text;

/* The families vigil_bpf_map_entries{map}, vigil_bpf_map_max_entries{map}
 * and vigil_bpf_map_fill_ratio{map} for obj's maps; now_ns: CLOCK_MONOTONIC. */
void mapfill__metrics(struct metrics_text *t, const struct bpf_object *obj, uint64_t now_ns);
/* Entries in one map (walked now), at most max_entries; -errno if unreadable. */
long mapfill__count(int fd, uint32_t key_size, uint32_t value_size, uint32_t max_entries);

#endif
