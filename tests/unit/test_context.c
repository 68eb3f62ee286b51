// SPDX-License-Identifier: GPL-2.0
/* Container runtime, id and pod uid from cgroup v2 paths as each runtime
 * and cgroup driver lays them out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

/* the kubelet's pod directory: <namespace>_<name>_<uid>, the name may hold
 * dots and dashes; a uid that only ends another pod's is not it */
static void pod_namespace_and_name_from_the_kubelet_directory(void **state)
{
	char dir[] = "/tmp/vigil-test-pods-XXXXXX", path[256];
	struct proc_info pi = { 0 };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kube-system_coredns-5d78c9869d-abcde_x" POD, dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/ml-serving_llm-7.b-0_" POD, dir);
	assert_int_equal(mkdir(path, 0700), 0);
	context__set_pods_dir(dir);
	snprintf(pi.cgroup, sizeof(pi.cgroup),
		 "/kubepods.slice/kubepods-pod" POD_ ".slice/cri-containerd-" ID ".scope");
	context__container(&pi);
	context__pod(&pi);
	assert_string_equal(pi.pod_namespace, "ml-serving");
	assert_string_equal(pi.pod_name, "llm-7.b-0");
	/* remembered: the directory may go (pod deleted), the answer stays */
	snprintf(path, sizeof(path), "%s/ml-serving_llm-7.b-0_" POD, dir);
	rmdir(path);
	memset(pi.pod_namespace, 'x', 8);
	context__pod(&pi);
	assert_string_equal(pi.pod_namespace, "ml-serving");
	/* no pod, no directory, no lookup */
	snprintf(pi.cgroup, sizeof(pi.cgroup), "/user.slice");
	context__container(&pi);
	context__pod(&pi);
	assert_string_equal(pi.pod_namespace, "");
	context__set_pods_dir("");
	snprintf(pi.cgroup, sizeof(pi.cgroup), "/kubepods/burstable/pod" POD "/" ID);
	context__container(&pi);
	context__pod(&pi);
	assert_string_equal(pi.pod_name, "");
	snprintf(path, sizeof(path), "%s/kube-system_coredns-5d78c9869d-abcde_x" POD, dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runtimes_and_drivers),
		cmocka_unit_test(pod_namespace_and_name_from_the_kubelet_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
