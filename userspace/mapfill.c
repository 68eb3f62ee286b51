// SPDX-License-Identifier: GPL-2.0
/* Map fill ratios (mapfill.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapfill.h"
#include "metrics.h"

#define BATCH 1024
#define MAX_MAPS 64

/* The last count of each map: the metrics snapshot is rebuilt every second,
 * the walk only every MAPFILL_EVERY_S (one agent per process: static). */
static struct {
	char name[64];	/* the object's name: the kernel keeps only 15 characters */
	long entries;
	uint32_t max;
} cache[MAX_MAPS];
static int ncache;
static uint64_t counted_ns;

static bool counted_kind(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
	       t == BPF_MAP_TYPE_LPM_TRIE;
}

/* Key by key: every kernel, every hash-like map. A key deleted under us
 * restarts the walk, so it is capped at the capacity. */
static long count_keys(int fd, uint32_t key_size, uint32_t max_entries)
{
	char *k = calloc(2, key_size ? key_size : 1), *next = k + key_size;
	long n = 0;
	int r;

	if (!k)
		return -ENOMEM;
	r = bpf_map_get_next_key(fd, NULL, next);
	while (!r && n < max_entries) {
		n++;
		memcpy(k, next, key_size);
		r = bpf_map_get_next_key(fd, k, next);
	}
	free(k);
	return r && errno != ENOENT && !n ? -errno : n;
}

long mapfill__count(int fd, uint32_t key_size, uint32_t value_size, uint32_t max_entries)
{
	/* the batch tokens: a bucket number for hash maps, a key for the
	 * generic batch of other types (the LPM trie), so key-sized */
	size_t tok = key_size > 8 ? key_size : 8;
	char *keys = malloc((size_t)BATCH * key_size), *vals = malloc((size_t)BATCH * value_size);
	char *in = calloc(2, tok), *out = in ? in + tok : NULL;
	bool first = true;
	long n = 0;
	int r;

	if (!keys || !vals || !in) {
		n = -ENOMEM;
		goto done;
	}
	/* BATCH entries per syscall where the kernel has batch lookups for the
	 * map type (hash and LRU hash 5.6+); the key walk otherwise */
	for (;;) {
		__u32 cnt = BATCH;

		r = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, vals, &cnt, NULL);
		if (r && errno != ENOENT) {
			if (first)
				n = count_keys(fd, key_size, max_entries);
			break;
		}
		n += cnt;
		if (r || n >= max_entries)	/* ENOENT: that was the last batch */
			break;
		memcpy(in, out, tok);
		first = false;
	}
done:
	free(keys);
	free(vals);
	free(in);
	return n > max_entries ? max_entries : n;
}

static void recount(const struct bpf_object *obj)
{
	struct bpf_map *m;

	ncache = 0;
	bpf_object__for_each_map(m, obj) {
		int fd = bpf_map__fd(m);

		if (ncache == MAX_MAPS)
			break;
		if (fd < 0 || !counted_kind(bpf_map__type(m)))
			continue;
		snprintf(cache[ncache].name, sizeof(cache[ncache].name), "%s", bpf_map__name(m));
		cache[ncache].max = bpf_map__max_entries(m);
		cache[ncache].entries = mapfill__count(fd, bpf_map__key_size(m),
						       bpf_map__value_size(m), cache[ncache].max);
		ncache++;
	}
}

void mapfill__metrics(struct metrics_text *t, const struct bpf_object *obj, uint64_t now_ns)
{
	if (!obj)
		return;
	if (!counted_ns || now_ns - counted_ns >= MAPFILL_EVERY_S * 1000000000ull) {
		recount(obj);
		counted_ns = now_ns;
	}
	metrics__family(t, "vigil_bpf_map_entries", "gauge",
			"entries in a kernel map (counted every 10 s)");
	for (int i = 0; i < ncache; i++)
		if (cache[i].entries >= 0)
			metrics__sample(t, "vigil_bpf_map_entries", "map", cache[i].name, NULL, NULL,
					cache[i].entries);
	metrics__family(t, "vigil_bpf_map_max_entries", "gauge", "capacity of a kernel map");
	for (int i = 0; i < ncache; i++)
		metrics__sample(t, "vigil_bpf_map_max_entries", "map", cache[i].name, NULL, NULL,
				cache[i].max);
	metrics__family(t, "vigil_bpf_map_fill_ratio", "gauge",
			"entries / capacity of a kernel map (0-1; at 1 the kernel's *_map_full "
			"counters start counting what it could not keep)");
	for (int i = 0; i < ncache; i++)
		if (cache[i].entries >= 0 && cache[i].max)
			metrics__sample(t, "vigil_bpf_map_fill_ratio", "map", cache[i].name, NULL,
					NULL, (double)cache[i].entries / cache[i].max);
}
