#!/usr/bin/env bats
# Unix sockets beyond connected streams (issue 10 item 1): a tainted process
# sends the weights as datagrams to a bound AF_UNIX SOCK_DGRAM path (sendto,
# never connected) and the receiver forwards them to the test host; and an
# untainted process passes an open (never read) fd of the weights over a
# unix socket (SCM_RIGHTS) to one that reads and forwards it. Monitor: all
# arrives, alerted, named by the weight file; enforce: at most the budget.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

BUDGET=$((1 << 20))
UR="$SCEN/unix_relay.py"

# unix_run KIND MODE: the relay (KIND-relay) in the background, the sender
# (KIND-send) in the foreground; sets relay_rc.
unix_run() {
	local kind="$1" mode="$2" relay
	start_sink tcp
	start_agent --mode "$mode"
	in_cg python3 "$UR" "$kind-relay" "$T/relay.sock" "$PEER4" "$PORT" &
	relay=$!
	for _ in $(seq 100); do [ -e "$T/relay.sock.ready" ] && break; sleep 0.05; done
	run in_cg python3 "$UR" "$kind-send" "$T/relay.sock" "$W/model.safetensors"
	[ "$status" -eq 0 ]
	# wait in this shell: a relay refused or killed early is already reaped
	relay_rc=0
	wait "$relay" || relay_rc=$?
}

# unix_check MODE CHAIN...: what must hold after unix_run
unix_check() {
	local mode="$1" got
	shift
	got="$(sink_bytes)"
	if [ "$mode" = enforce ]; then
		[ "$relay_rc" -ne 0 ]
		[ "$got" -le "$BUDGET" ]
		run alert_wait mode=enforce action~ed process.cmdline~relay \
			taint.sources.0.path="$W/model.safetensors" "$@"
		figure "bytes past a unix relay, enforce ($BATS_TEST_DESCRIPTION)" "$got"
	else
		[ "$relay_rc" -eq 0 ]
		[ "$got" -eq $((4 << 20)) ]
		run alert_wait rule=weights-egress mode=monitor process.cmdline~relay \
			taint.sources.0.path="$W/model.safetensors" network.daddr="$PEER4" "$@"
	fi
	[ "$status" -eq 0 ]
}

@test "unix: monitor: datagrams sent to a bound path taint the receiver" {
	unix_run dgram monitor
	unix_check monitor taint.chain.0.via=read taint.chain.1.via=unix taint.depth=1
}

@test "unix: enforce: datagrams sent to a bound path: the receiver is stopped" {
	unix_run dgram enforce
	unix_check enforce taint.chain.0.via=read taint.chain.1.via=unix taint.depth=1
}

@test "unix: monitor: a weights fd passed by SCM_RIGHTS taints whoever reads it" {
	unix_run fd monitor
	unix_check monitor taint.chain.0.via=read taint.depth=0
	# the process that only opened and passed it read nothing: no alert
	run alert_none kind=alert process.cmdline~fd-send
	[ "$status" -eq 0 ]
}

@test "unix: enforce: a weights fd passed by SCM_RIGHTS: its reader is stopped" {
	unix_run fd enforce
	unix_check enforce taint.chain.0.via=read taint.depth=0
}
