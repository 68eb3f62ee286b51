// SPDX-License-Identifier: GPL-2.0
/* Giving up CAP_SYS_ADMIN after the load (privs.h): raw capget/capset, no
 * libcap for four lines. Dropping is always allowed; the agent execs
 * nothing, so a root agent does not get it back. */
#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

int privs__drop_sys_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	const unsigned w = CAP_SYS_ADMIN / 32, bit = 1u << (CAP_SYS_ADMIN % 32);

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[w].effective &= ~bit;
	d[w].permitted &= ~bit;
	d[w].inheritable &= ~bit;
	if (syscall(SYS_capset, &h, d))
		return -errno;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SYS_ADMIN, 0, 0);
	prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0);	/* needs CAP_SETPCAP: best effort */
	return 0;
}
