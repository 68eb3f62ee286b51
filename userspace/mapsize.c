// SPDX-License-Identifier: GPL-2.0
/* The sizes of the kernel's state maps (mapsize.h). */
#include "mapsize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "vigil.h"
#include "vigil.skel.h"

#define MAX_MAPS 5

/* One knob: the maps it sizes, each at mult entries per unit. */
struct knob {
	const char *name;
	unsigned def, min, max;
	const char *maps[MAX_MAPS];
	unsigned mult[MAX_MAPS];
};

/* A preallocated hash element: the kernel's htab_elem header with its
 * per-CPU free-list links, beside the key and value, each rounded up to 8
 * (matches bpftool's memlock for these maps, measured on 6.18). */
#define ELEM_OVERHEAD 64

static const struct knob knobs[] = {
	{ "processes", VIGIL_MAX_TAINTED, 256, 1u << 22,
	  { "vg_taint", "vg_connect_reports", "vg_blocked", "vg_dns", "vg_reads" },
	  { 1, 1, 1, 1, 4 } },
	/* file ids hold a 20-bit slot (userspace/protect_state.h) */
	{ "files", VIGIL_MAX_PROTECTED_FILES, 256, (1u << 20) - 2, { "vg_files" }, { 1 } },
	{ "flows", VIGIL_MAX_FLOWS, 256, 1u << 22, { "vg_flows", "vg_work", "vg_tls_flows" },
	  { 1, 1, 1 } },
	{ "pipes", VIGIL_MAX_PIPES, 256, 1u << 22, { "vg_pipes" }, { 1 } },
	{ "relays", VIGIL_MAX_RELAYS, 256, 1u << 22, { "vg_relays" }, { 1 } },
	{ "ptys", VIGIL_MAX_PTYS, 64, 1u << 20, { "vg_ptys" }, { 1 } },
	{ "lost-socks", VIGIL_MAX_LOST_SOCKS, 64, 1u << 20, { "vg_lost_socks" }, { 1 } },
};
#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))

const char *mapsize__names(void)
{
	return "processes, files, flows, pipes, relays, ptys, lost-socks";
}

static const struct knob *knob_of(const char *name, size_t len)
{
	for (size_t i = 0; i < NKNOBS; i++)
		if (strlen(knobs[i].name) == len && !strncmp(knobs[i].name, name, len))
			return &knobs[i];
	return NULL;
}

static int parse(const char *spec, const struct knob **k, unsigned *n, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	unsigned long long v;
	char *end;

	if (!eq || !(*k = knob_of(spec, eq - spec))) {
		snprintf(err, errlen, "'%s': expected NAME=N, NAME one of %s", spec,
			 mapsize__names());
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(eq + 1, &end, 10);
	if (!eq[1] || *end || errno || v < (*k)->min || v > (*k)->max) {
		snprintf(err, errlen, "'%s': %s takes a whole number of entries from %u to %u",
			 spec, (*k)->name, (*k)->min, (*k)->max);
		return -EINVAL;
	}
	*n = (unsigned)v;
	return 0;
}

int mapsize__check(const char *spec, char *err, size_t errlen)
{
	const struct knob *k;
	unsigned n;

	return parse(spec, &k, &n, err, errlen);
}

static struct bpf_map *map_named(struct vigil_bpf *skel, const char *name)
{
	return bpf_object__find_map_by_name(skel->obj, name);
}

int mapsize__apply(struct vigil_bpf *skel, const char **specs, size_t n, size_t *files,
		   char *err, size_t errlen)
{
	*files = 0;
	for (size_t i = 0; i < n; i++) {
		const struct knob *k;
		unsigned entries;

		if (parse(specs[i], &k, &entries, err, errlen))
			return -EINVAL;
		for (int j = 0; j < MAX_MAPS && k->maps[j]; j++) {
			struct bpf_map *m = map_named(skel, k->maps[j]);

			if (!m || bpf_map__set_max_entries(m, entries * k->mult[j])) {
				snprintf(err, errlen, "--map-size '%s': map %s: %s", specs[i],
					 k->maps[j], m ? strerror(errno) : "not in this build");
				return -EINVAL;
			}
		}
		if (!strcmp(k->name, "files"))
			*files = entries;
	}
	return 0;
}

static unsigned long long map_bytes(const struct bpf_map *m)
{
	unsigned long long elem = ((bpf_map__key_size(m) + 7) & ~7u) +
				  ((bpf_map__value_size(m) + 7) & ~7u) + ELEM_OVERHEAD;

	return elem * bpf_map__max_entries(m);
}

void mapsize__describe(struct vigil_bpf *skel, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < NKNOBS && off < len; i++) {
		const struct knob *k = &knobs[i];
		unsigned long long bytes = 0;
		unsigned entries = 0;

		for (int j = 0; j < MAX_MAPS && k->maps[j]; j++) {
			const struct bpf_map *m = map_named(skel, k->maps[j]);

			if (!m)
				continue;
			if (!j)
				entries = bpf_map__max_entries(m);
			bytes += map_bytes(m);
		}
		off += snprintf(buf + off, len - off, "%s%s %u (%.1f MiB, %llu B each)",
				i ? ", " : "", k->name, entries, bytes / 1048576.0,
				entries ? bytes / entries : 0);
	}
}
