// SPDX-License-Identifier: GPL-2.0
/* Shared mappings held at taint (shmmaps.h). */
#include "shmmaps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "log.h"
#include "vigil.h"
#include "vigil.skel.h"

struct shmmaps {
	struct bpf_program *prog;
};

struct shmmaps *shmmaps__new(struct vigil_bpf *skel)
{
	struct shmmaps *s;

	if (!skel || bpf_program__fd(skel->progs.vigil_shm_maps) < 0)
		return NULL;	/* not loaded: the shm capability's open hooks alone */
	s = calloc(1, sizeof(*s));
	if (s)
		s->prog = skel->progs.vigil_shm_maps;
	return s;
}

void shmmaps__free(struct shmmaps *s)
{
	free(s);
}

/* The iterator over one process's VMAs: a link with the tid filter, read
 * to its end (the program does its work as it visits each VMA). */
static int scan(struct shmmaps *s, uint32_t tgid)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info = { .task.tid = tgid };
	struct bpf_link *link;
	char buf[64];
	int fd, err = 0;

	opts.link_info = &info;
	opts.link_info_len = sizeof(info);
	link = bpf_program__attach_iter(s->prog, &opts);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
	} else {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
	return err;
}

void shmmaps__on_record(struct shmmaps *s, const void *data, size_t size)
{
	const struct vigil_ev_taint *e = data;
	int err;

	if (!s || size < sizeof(*e) || e->hdr.type != VIGIL_EV_TAINT || e->via == VIGIL_VIA_FORK)
		return;
	uint64_t t0 = clock__mono_ns();

	err = scan(s, e->hdr.tgid);
	if (err)
		log__debug("shared mappings of %u: %s", e->hdr.tgid, strerror(-err));
	else
		log__debug("shared mappings of %u: scanned in %llu us", e->hdr.tgid,
			   (unsigned long long)(clock__mono_ns() - t0) / 1000);
}
