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
	run alert_wait --timeout 5 rule=weights-connect action=blocked network.protocol=raw
	[ "$status" -eq 0 ]
	[[ "$(alert_get message network.protocol=raw)" == *"was refused a raw ipv4 socket"* ]]
	stop_agent
	[ "$(alert_get kernel.connects_denied kind=agent_stop)" -ge 1 ]
}

@test "blind spot: monitor lets the raw socket be made and says enforce would refuse it" {
	start_agent
	raw_socket "$W/model.safetensors"
	[ "$output" = ok ]
	run alert_wait --timeout 5 rule=weights-connect network.protocol=raw enforce_action=blocked
	[ "$status" -eq 0 ]
	[[ "$(alert_get message network.protocol=raw)" == *"opened a raw ipv4 socket"* ]]
}
