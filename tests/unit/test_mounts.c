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
#include "vigil.h"

static char path[64];

static int setup(void **state)
{
	static const char text[] =
		"22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
		"31 22 0:44 / /mnt/models rw,relatime shared:12 master:3 - nfs4 fs1:/export/models rw,vers=4.2\n"
		"32 22 0:45 / /mnt/team\\040share rw - cifs //files/team\\040share rw\n"
		"33 22 0:46 / /mnt/netfs rw - 9p netfs rw,trans=virtio\n";
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_the_mount_by_device),
		cmocka_unit_test(decodes_escaped_names),
		cmocka_unit_test(names_the_kernel_kinds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
