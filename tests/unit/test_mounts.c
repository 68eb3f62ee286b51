// SPDX-License-Identifier: GPL-2.0
/* Mounts by device (userspace/mounts.c): the network filesystem a tainted
 * write went into, named from a mountinfo file: its line found by the
 * kernel dev_t, the optional fields skipped, octal escapes decoded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mounts.h"
#include "netfs_allow.h"
#include "rules.h"
#include "vigil.h"

static char path[64];

static int setup(void **state)
{
	static const char text[] =
		"22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
		"31 22 0:44 / /mnt/models rw,relatime shared:12 master:3 - nfs4 fs1:/export/models rw,vers=4.2\n"
		"32 22 0:45 / /mnt/team\\040share rw - cifs //files/team\\040share rw\n"
		"33 22 0:46 / /mnt/netfs rw - 9p netfs rw,trans=virtio\n"
		"34 22 0:44 /sub /srv/models-bind rw - nfs4 fs1:/export/models rw,vers=4.2\n"
		"35 22 8:2 / /mnt/local rw - ext4 /dev/sda2 rw\n";
	int fd;

	snprintf(path, sizeof(path), "/tmp/vigil-mounts-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1))
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static void finds_the_mount_by_device(void **state)
{
	struct mount_name m;

	assert_int_equal(mounts__by_dev(path, 44u << 20 | 0, &m), -ENOENT);
	assert_int_equal(mounts__by_dev(path, 0u << 20 | 44, &m), 0);
	assert_string_equal(m.fstype, "nfs4");
	assert_string_equal(m.source, "fs1:/export/models");
	assert_string_equal(m.point, "/mnt/models");
	assert_int_equal(mounts__by_dev(path, 46, &m), 0);
	assert_string_equal(m.fstype, "9p");
	assert_string_equal(m.point, "/mnt/netfs");
}

static void decodes_escaped_names(void **state)
{
	struct mount_name m;

	assert_int_equal(mounts__by_dev(path, 45, &m), 0);
	assert_string_equal(m.point, "/mnt/team share");
	assert_string_equal(m.source, "//files/team share");
}

static void names_the_kernel_kinds(void **state)
{
	assert_string_equal(mounts__netfs_word(VIGIL_NETFS_NFS), "nfs");
	assert_string_equal(mounts__netfs_word(VIGIL_NETFS_9P), "9p");
	assert_string_equal(mounts__netfs_word(6), "netfs");
}

/* The allow entries' mounts by device: bind mounts of one superblock are
 * one device, local filesystems are never entries, exe-scoped entries
 * give their bit, an unscoped one every writer. */
static void plans_the_allowed_devices(void **state)
{
	struct netfs_allow out[8];
	struct ruleset rs;
	char err[512] = "";
	bool more;
	const char *y =
		"allow:\n"
		"  - name: web\n    cidr: 10.0.0.0/8\n"
		"  - name: py-ckpt\n    mount: [/srv/*]\n    exe: [/usr/bin/python3]\n"
		"  - name: ckpt\n    mount: [/mnt/models]\n    source: \"fs1:/export/*\"\n"
		"  - name: wrong-server\n    mount: /mnt/team*\n    source: \"//other/*\"\n"
		"  - name: local\n    mount: [/mnt/local, /mnt/netfs]\n    exe: [/bin/cp]\n";

	rules__init(&rs);
	assert_int_equal(rules__load_string(&rs, "t.yaml", y, strlen(y), err, sizeof(err)), 0);
	assert_int_equal(netfs_allow__plan(&rs, path, out, 8, &more), 2);
	assert_false(more);
	/* 0:44 through /mnt/models (any writer) and /srv/models-bind (python) */
	assert_int_equal(out[0].kdev, 44);
	assert_int_equal(out[0].exe_mask, 0);
	/* 0:46, the 9p share, for cp only (the second exe-scoped entry: bit 2) */
	assert_int_equal(out[1].kdev, 46);
	assert_int_equal(out[1].exe_mask, 2);
	assert_int_equal(netfs_allow__plan(&rs, path, out, 1, &more), 1);
	assert_true(more);
	assert_int_equal(netfs_allow__plan(&rs, "/nonexistent/mountinfo", out, 8, &more), -ENOENT);
	rules__free(&rs);
	/* no entry names a mount: nothing is read */
	rules__init(&rs);
	assert_int_equal(netfs_allow__plan(&rs, "/nonexistent/mountinfo", out, 8, &more), 0);
	rules__free(&rs);
	assert_true(netfs_allow__is_netfs("nfs4"));
	assert_false(netfs_allow__is_netfs("ext4"));
	assert_false(netfs_allow__is_netfs("fuse.sshfs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_the_mount_by_device),
		cmocka_unit_test(decodes_escaped_names),
		cmocka_unit_test(names_the_kernel_kinds),
		cmocka_unit_test(plans_the_allowed_devices),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
