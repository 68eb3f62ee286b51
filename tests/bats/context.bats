#!/usr/bin/env bats
# Context in every alert and usable in rules: container runtime and id (and
# Kubernetes pod) from the cgroup path, the user, the login uid and the
# address an SSH login came from.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

CID="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

@test "context: a leak from a docker-style container cgroup under an SSH login names both, and rules can use them" {
	# a container scope inside the test's cgroup, named as docker's systemd driver does
	sub="$CG/docker-$CID.scope"
	mkdir "$sub"
	cat > "$T/ctx.yaml" <<-'YAML'
	rule:
	  - id: ctx-container-ssh
	    condition: evt.type = egress and container.runtime = docker and proc.ssh_client = 203.0.113.7 and proc.user = root
	    severity: critical
	    message: "weights leave container %container.id for an SSH login from %proc.ssh_client"
	YAML
	start_sink tcp
	start_agent --rules "$T/ctx.yaml"
	# an "sshd" ancestor carries SSH_CONNECTION; the leaker below it does not
	SSH_CONNECTION="203.0.113.7 50022 10.0.0.1 22" sh -c '
		echo $$ > "$1/cgroup.procs"
		env -u SSH_CONNECTION python3 "$2" --src "$3" --host "$4" --port "$5"
	' sh "$sub" "$EXFIL" "$W/model.safetensors" "$PEER4" "$PORT"
	run alert_wait --timeout 10 rule=ctx-container-ssh
	[ "$status" -eq 0 ]
	[ "$(alert_get process.container.runtime rule=ctx-container-ssh)" = docker ]
	[ "$(alert_get process.container.id rule=ctx-container-ssh)" = "$CID" ]
	[ "$(alert_get process.ssh_client rule=ctx-container-ssh)" = 203.0.113.7 ]
	[ "$(alert_get process.user rule=ctx-container-ssh)" = root ]
	[[ "$(alert_get message rule=ctx-container-ssh)" == *"container $CID for an SSH login from 203.0.113.7"* ]]
	# every alert of that process carries the context, the default rules' too
	[ "$(alert_get process.container.runtime rule=weights-egress)" = docker ]
	# the login uid as the kernel keeps it (unset here: no login session)
	want="$(cat /proc/self/loginuid)"
	run alert_get process.loginuid rule=weights-egress
	if [ "$want" = 4294967295 ]; then
		[ "$status" -ne 0 ] || [ -z "$output" ]
	else
		[ "$output" = "$want" ]
	fi
	rmdir "$sub" 2>/dev/null || true
}

POD="3f5a9c1e-2b7d-4e8f-9a6b-1c2d3e4f5a6b"

@test "context: a leak from a synthetic kubepods cgroup names the pod's uid, namespace and name, and rules can use them" {
	# the systemd driver's layout below the test's cgroup, and the kubelet's
	# pod directory (<namespace>_<name>_<uid>) where --kube-pods-dir says
	pod="$CG/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD//-/_}.slice"
	sub="$pod/cri-containerd-$CID.scope"
	mkdir -p "$sub"
	mkdir -p "$T/pods/ml-serving_llm-0_$POD/server"
	cat > "$T/k8s.yaml" <<-'YAML'
	rule:
	  - id: ctx-k8s
	    condition: evt.type = egress and k8s.namespace = ml-serving and k8s.pod startswith llm-
	    severity: critical
	    message: "weights leave pod %k8s.namespace/%k8s.pod (%k8s.pod_uid)"
	YAML
	start_sink tcp
	start_agent --rules "$T/k8s.yaml" --kube-pods-dir "$T/pods"
	sh -c 'echo $$ > "$1/cgroup.procs"; exec python3 "$2" --src "$3" --host "$4" --port "$5"' \
		sh "$sub" "$EXFIL" "$W/model.safetensors" "$PEER4" "$PORT"
	run alert_wait --timeout 10 rule=ctx-k8s
	[ "$status" -eq 0 ]
	[ "$(alert_get message rule=ctx-k8s)" = "weights leave pod ml-serving/llm-0 ($POD)" ]
	[ "$(alert_get process.container.runtime rule=ctx-k8s)" = containerd ]
	[ "$(alert_get process.container.pod_namespace rule=weights-egress)" = ml-serving ]
	[ "$(alert_get process.container.pod_name rule=weights-egress)" = llm-0 ]
	[ "$(alert_get process.container.pod_uid rule=weights-egress)" = "$POD" ]
	stop_agent
	find "$CG" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
}
