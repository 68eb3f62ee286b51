// SPDX-License-Identifier: GPL-2.0
/* Allow entries' mounts -> devices (netfs_allow.h). An entry names mount
 * points (globs) and optionally the sources they must be mounted from; a
 * device (a superblock: bind mounts share it) is allowed if one of its
 * mounts matches. Entries scoped to executables contribute their bit, an
 * unscoped one allows every writer. */
#include <errno.h>
#include <string.h>

#include "mounts.h"
#include "netfs_allow.h"

bool netfs_allow__is_netfs(const char *fstype)
{
	static const char *const types[] = {
		"nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "9p", "afs",
		"lustre", "coda", "pvfs2",
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(fstype, types[i]))
			return true;
	return false;
}

struct plan {
	const struct ruleset *rs;
	struct netfs_allow *out;
	size_t max, n;
	bool more;
};

static int plan_one(uint32_t kdev, const struct mount_name *m, void *ctx)
{
	struct plan *p = ctx;
	bool any = false, hit = false;
	uint32_t mask = 0;
	size_t i;

	if (!netfs_allow__is_netfs(m->fstype))
		return 0;
	for (size_t e = 0; e < p->rs->nallows; e++) {
		const struct allow_entry *a = &p->rs->allows[e];
		long bit;

		if (!a->nmounts || !rules__mount_matches(a, m->point, m->source))
			continue;
		bit = rules__allow_exe_bit(p->rs, e);
		if (bit < 0)
			continue;	/* too many exe-scoped entries: not loaded */
		hit = true;
		if (!bit)
			any = true;
		mask |= (uint32_t)bit;
	}
	if (!hit)
		return 0;
	for (i = 0; i < p->n && p->out[i].kdev != kdev; i++)
		;
	if (i == p->n) {
		if (p->n == p->max) {
			p->more = true;
			return 0;
		}
		p->out[p->n++] = (struct netfs_allow){ kdev, any ? 0 : mask };
	} else if (any || !p->out[i].exe_mask) {
		p->out[i].exe_mask = 0;
	} else {
		p->out[i].exe_mask |= mask;
	}
	return 0;
}

int netfs_allow__plan(const struct ruleset *rs, const char *path, struct netfs_allow *out,
		      size_t max, bool *more)
{
	struct plan p = { .rs = rs, .out = out, .max = max };
	bool named = false;
	int r;

	for (size_t e = 0; e < rs->nallows && !named; e++)
		named = rs->allows[e].nmounts;
	if (more)
		*more = false;
	if (!named)
		return 0;	/* no entry names a mount: mountinfo is not read */
	r = mounts__each(path, plan_one, &p);
	if (r < 0)
		return r;
	if (more)
		*more = p.more;
	return (int)p.n;
}
