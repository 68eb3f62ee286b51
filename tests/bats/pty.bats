#!/usr/bin/env bats
# Terminals (issue 10 item 1): a tainted job writes to one end of a pty pair
# and the holder of the other end (sshd, tmux, script) forwards what it reads
# to the test host. The holder is tainted (via pty) once it could have read
# cfg_relay_min_bytes (64 KiB) of weights-class bytes the job wrote: the
# weights themselves are followed, log lines and a short write are not (an
# operator's ssh session is not tainted by a job's progress output).
# Monitor: all arrives, alerted, named by the weight file; enforce: at most
# the budget.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

BUDGET=$((1 << 20))
PR="$SCEN/pty_relay.py"

# pty_run MODE ARGS...: the job and its forwarder (tests/scenarios/pty_relay.py
# ARGS, host and port added); sets status/output
pty_run() {
	local mode="$1" kind="$2"
	shift 2
	start_sink tcp
	start_agent --mode "$mode"
	run in_cg python3 "$PR" "$kind" "$W/model.safetensors" "$PEER4" "$PORT" "$@"
}

# pty_leaked MODE [via the slave: --reverse]: the forwarder was followed
pty_leaked() {
	local mode="$1" got
	got="$(sink_bytes)"
	if [ "$mode" = enforce ]; then
		# killed at the budget (137), or its last sendall returned first
		# and the packets past the budget were dropped: the bytes decide
		[ "$got" -le "$BUDGET" ]
		run alert_wait mode=enforce process.cmdline~pty_relay.py action~e \
			taint.sources.0.path="$W/model.safetensors" \
			taint.chain.0.via=read taint.chain.1.via=pty taint.depth=1
		[ "$status" -eq 0 ]
		figure "pty bytes past the forwarder, enforce" "$got"
	else
		[ "$status" -eq 0 ]
		[ "$got" -eq $((4 << 20)) ]
		run alert_wait rule=weights-egress mode=monitor process.cmdline~pty_relay.py \
			taint.sources.0.path="$W/model.safetensors" \
			taint.chain.0.via=read taint.chain.0.comm=python3 \
			taint.chain.1.via=pty taint.depth=1 network.daddr="$PEER4"
		[ "$status" -eq 0 ]
	fi
}

# pty_clean N: the forwarder sent N bytes and nobody was alerted on
pty_clean() {
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq "$1" ]
	stop_agent
	run alert_none kind=alert process.cmdline~pty_relay.py
	[ "$status" -eq 0 ]
	run alert_none kind=taint via=pty
	[ "$status" -eq 0 ]
}

@test "pty: monitor: the holder of the master forwarding a job's weights is tainted via pty" {
	pty_run monitor weights
	pty_leaked monitor
}

@test "pty: enforce: the holder of the master forwarding a job's weights is stopped at the budget" {
	pty_run enforce weights
	pty_leaked enforce
}

@test "pty: monitor: a forwarder that connects after the writes is tainted too" {
	pty_run monitor weights --late
	pty_leaked monitor
}

@test "pty: monitor: the weights sendfile'd into the slave taint the master's holder" {
	pty_run monitor weights --sendfile
	pty_leaked monitor
}

@test "pty: enforce: the weights sendfile'd into the slave: the master's holder is stopped at the budget" {
	pty_run enforce weights --sendfile
	pty_leaked enforce
}

@test "pty: monitor: the reverse way (job writes the master, the slave's reader forwards)" {
	pty_run monitor weights --reverse
	pty_leaked monitor
}

@test "pty: enforce: the reverse way is stopped at the budget" {
	pty_run enforce weights --reverse
	pty_leaked enforce
}

@test "pty: monitor: the weights in base64 to a terminal taint its reader (an encoding is weights-class)" {
	pty_run monitor b64
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((4 * ((4 << 20) + 2) / 3)) ]
	run alert_wait rule=weights-egress mode=monitor process.cmdline~pty_relay.py \
		taint.sources.0.path="$W/model.safetensors" taint.chain.1.via=pty
	[ "$status" -eq 0 ]
}

@test "pty: monitor: 16 KiB of weights (under the 64 KiB threshold) taint nobody" {
	pty_run monitor weights 16384
	pty_clean 16384
}

@test "pty: enforce: 256 KiB of log lines from a tainted job taint nobody and pass" {
	pty_run enforce text 262144
	pty_clean 262144
}

@test "pty: monitor: 256 KiB of log lines from a tainted job taint nobody" {
	pty_run monitor text 262144
	pty_clean 262144
}
