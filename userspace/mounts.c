// SPDX-License-Identifier: GPL-2.0
/* Mounts by device, from mountinfo (proc(5)): "ID PARENT MAJ:MIN ROOT POINT
 * OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS", spaces in names
 * escaped as octal (\040). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "mounts.h"
#include "vigil.h"

/* Copy the mountinfo field src into out, its octal escapes decoded. */
static void unescape(const char *src, char *out, size_t len)
{
	size_t n = 0;

	while (*src && n + 1 < len) {
		if (src[0] == '\\' && src[1] >= '0' && src[1] <= '3' && src[2] >= '0' && src[2] <= '7' &&
		    src[3] >= '0' && src[3] <= '7') {
			out[n++] = (char)((src[1] - '0') << 6 | (src[2] - '0') << 3 | (src[3] - '0'));
			src += 4;
		} else {
			out[n++] = *src++;
		}
	}
	out[n] = '\0';
}

int mounts__each(const char *path, mounts_fn fn, void *ctx)
{
	char line[4096];
	int ret = 0;
	FILE *f;

	f = fopen(path ? path : "/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		char point[1024], fstype[64], source[1024], *sep;
		struct mount_name m;
		unsigned a, b;

		if (sscanf(line, "%*u %*u %u:%u %*s %1023s", &a, &b, point) != 3)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s %1023s", fstype, source) != 2)
			continue;
		unescape(fstype, m.fstype, sizeof(m.fstype));
		unescape(source, m.source, sizeof(m.source));
		unescape(point, m.point, sizeof(m.point));
		ret = fn(a << 20 | (b & 0xfffff), &m, ctx);
	}
	fclose(f);
	return ret;
}

struct by_dev {
	uint32_t kdev;
	struct mount_name *out;
};

static int by_dev_one(uint32_t kdev, const struct mount_name *m, void *ctx)
{
	struct by_dev *q = ctx;

	if (kdev != q->kdev)
		return 0;
	*q->out = *m;
	return 1;
}

int mounts__by_dev(const char *path, uint32_t kdev, struct mount_name *out)
{
	struct by_dev q = { kdev, out };
	int r;

	memset(out, 0, sizeof(*out));
	r = mounts__each(path, by_dev_one, &q);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

const char *mounts__netfs_word(unsigned kind)
{
	switch (kind) {
	case VIGIL_NETFS_NFS: return "nfs";
	case VIGIL_NETFS_CIFS: return "cifs";
	case VIGIL_NETFS_SMB2: return "smb3";
	case VIGIL_NETFS_CEPH: return "ceph";
	case VIGIL_NETFS_9P: return "9p";
	case VIGIL_NETFS_AFS: return "afs";
	case VIGIL_NETFS_LUSTRE: return "lustre";
	case VIGIL_NETFS_CODA: return "coda";
	case VIGIL_NETFS_ORANGEFS: return "orangefs";
	}
	return "netfs";
}
