// SPDX-License-Identifier: GPL-2.0
/* Container runtime, id and pod uid from cgroup v2 paths as each runtime
 * and cgroup driver lays them out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "context.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD "3f5a9c1e-2b7d-4e8f-9a6b-1c2d3e4f5a6b"
#define POD_ "3f5a9c1e_2b7d_4e8f_9a6b_1c2d3e4f5a6b"

static void expect(const char *cgroup, const char *runtime, const char *id, const char *pod)
{
	struct proc_info pi = { 0 };

	snprintf(pi.cgroup, sizeof(pi.cgroup), "%s", cgroup);
	context__container(&pi);
	if (strcmp(pi.container_runtime, runtime) || strcmp(pi.container_id, id) ||
	    strcmp(pi.pod_uid, pod))
		fail_msg("%s: got runtime '%s' id '%s' pod '%s', want '%s' '%s' '%s'", cgroup,
			 pi.container_runtime, pi.container_id, pi.pod_uid, runtime, id, pod);
}

static void runtimes_and_drivers(void **state)
{
	expect("/system.slice/docker-" ID ".scope", "docker", ID, "");
	expect("/docker/" ID, "docker", ID, "");
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_
	       ".slice/cri-containerd-" ID ".scope", "containerd", ID, POD);
	expect("/kubepods/burstable/pod" POD "/" ID, "kubernetes", ID, POD);
	expect("/kubepods.slice/kubepods-pod" POD_ ".slice/crio-" ID ".scope", "cri-o", ID, POD);
	expect("/machine.slice/libpod-" ID ".scope", "podman", ID, "");
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope",
	       "podman", ID, "");
	/* not containers */
	expect("/user.slice/user-1000.slice/session-3.scope", "", "", "");
	expect("/system.slice/docker.service", "", "", "");
	expect("/system.slice/docker-" "0123" ".scope", "", "", "");
	expect("/", "", "", "");
	expect("", "", "", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runtimes_and_drivers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
