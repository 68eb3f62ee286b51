#!/usr/bin/env bats
# Another process's memory (issue 10 item 4): a process that never touches
# the weight file copies them out of a holder's memory (process_vm_readv,
# /proc/PID/mem, ptrace PEEKDATA) and sends them; or a holder writes them
# into another process (process_vm_writev), which sends them. In monitor
# mode all of it arrives and is alerted, named by the weight file with a
# `procmem` hop; in enforce mode the copier is tainted before it can send,
# so the test host gets at most the budget.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

BUDGET=$((1 << 20))
PM="$SCEN/procmem.py"

# holder [FILE]: a process in the scope holding FILE (default: the weights)
# in memory; sets HOLDER "pid addr len".
holder() {
	in_cg python3 "$PM" hold "${1:-$W/model.safetensors}" "$T/holder.ready" &
	for _ in $(seq 100); do [ -e "$T/holder.ready" ] && break; sleep 0.05; done
	HOLDER="$(cat "$T/holder.ready")"
	[ -n "$HOLDER" ]
}

# copy_out HOW MODE [LEN] [copy args]: copy LEN bytes (default: all) out of
# the holder with HOW and send them to the test host; check what must hold.
copy_out() {
	local how="$1" mode="$2" len="${3:-}" pid addr n
	shift 2
	if [ $# -gt 0 ]; then shift; fi
	start_sink tcp
	start_agent --mode "$mode"
	holder
	read -r pid addr n <<< "$HOLDER"
	n="${len:-$n}"
	run in_cg python3 "$PM" copy "$how" "$pid" "$addr" "$n" "$PEER4" "$PORT" "$@"
	copy_check "$mode" "$n" "procmem.py copy $how"
}

# copy_check MODE LEN CMDLINE: the sender (CMDLINE) was tainted via procmem by
# the holder, named by the weights; monitor: all LEN bytes arrived; enforce:
# refused (3) or killed (137), at most the budget arrived.
copy_check() {
	local mode="$1" n="$2" cmd="$3" got
	got="$(sink_bytes)"
	if [ "$mode" = enforce ]; then
		[ "$status" -eq 3 ] || [ "$status" -eq 137 ]
		[ "$got" -le "$BUDGET" ]
		run alert_wait mode=enforce action~ed process.cmdline~"$cmd" \
			taint.sources.0.path="$W/model.safetensors" \
			taint.chain.0.via=read taint.chain.0.comm=python3 \
			taint.chain.1.via=procmem taint.depth=1
		figure "bytes past a procmem copier, enforce ($cmd)" "$got"
	else
		[ "$status" -eq 0 ]
		[ "$got" -eq "$n" ]
		run alert_wait rule=weights-egress mode=monitor process.cmdline~"$cmd" \
			taint.sources.0.path="$W/model.safetensors" \
			taint.chain.0.via=read taint.chain.1.via=procmem taint.depth=1 \
			network.daddr="$PEER4" network.dport="$PORT"
	fi
	[ "$status" -eq 0 ]
}

@test "procmem: monitor: process_vm_readv of a holder taints the copier" {
	copy_out readv monitor
}

@test "procmem: enforce: process_vm_readv of a holder: the copier is stopped" {
	copy_out readv enforce
}

@test "procmem: enforce: a copier connected before process_vm_readv is stopped at the budget" {
	copy_out readv enforce "" --connect-first
	# connected while untainted, so it was not refused: killed at the budget
	run alert_wait mode=enforce action=killed process.cmdline~"procmem.py copy readv" \
		taint.chain.1.via=procmem
	[ "$status" -eq 0 ]
}

@test "procmem: monitor: reading /proc/PID/mem of a holder taints the reader" {
	copy_out mem monitor
}

@test "procmem: enforce: reading /proc/PID/mem of a holder: the reader is stopped" {
	copy_out mem enforce
}

@test "procmem: monitor: ptrace PEEKDATA of a holder taints the tracer" {
	copy_out ptrace monitor $((2 << 20))
}

@test "procmem: enforce: ptrace PEEKDATA of a holder: the tracer is stopped" {
	copy_out ptrace enforce $((2 << 20))
}

@test "procmem: monitor: the memory of an untainted process taints nobody" {
	start_sink tcp
	start_agent
	head -c $((1 << 20)) /dev/urandom > "$T/other.bin"
	holder "$T/other.bin"
	read -r pid addr n <<< "$HOLDER"
	for how in readv mem ptrace; do
		run in_cg python3 "$PM" copy "$how" "$pid" "$addr" 65536 "$PEER4" "$PORT"
		[ "$status" -eq 0 ]
	done
	[ "$(sink_bytes)" -eq $((3 * 65536)) ]
	stop_agent
	run alert_none kind=alert process.cmdline~"procmem.py copy"
	[ "$status" -eq 0 ]
}

# pushed MODE: a holder writes the weights into an untainted process's buffer
# with process_vm_writev; that process then sends its buffer.
pushed() {
	local mode="$1" pid addr n rc=0
	start_sink tcp
	start_agent --mode "$mode"
	in_cg python3 "$PM" buffer $((4 << 20)) "$T/buf.ready" "$T/buf.go" &
	local buf=$!
	for _ in $(seq 100); do [ -e "$T/buf.ready" ] && break; sleep 0.05; done
	read -r pid addr n < "$T/buf.ready"
	run in_cg python3 "$PM" push "$W/model.safetensors" "$pid" "$addr" "$n"
	[ "$status" -eq 0 ]
	echo "$PEER4 $PORT" > "$T/buf.go"
	wait "$buf" || rc=$?
	status=$rc
	copy_check "$mode" "$n" "procmem.py buffer"
}

@test "procmem: monitor: process_vm_writev from a holder taints the target" {
	pushed monitor
}

@test "procmem: enforce: process_vm_writev from a holder: the target is stopped" {
	pushed enforce
}

@test "procmem: enforce: five copiers under CPU load never pass the budget" {
	start_sink tcp
	start_agent --mode enforce
	local burn=() round how pid addr n
	for _ in 1 2; do in_cg sh -c 'while :; do :; done' & burn+=($!); done
	holder
	read -r pid addr n <<< "$HOLDER"
	for round in 1 2 3 4 5; do
		for how in readv mem; do
			run in_cg python3 "$PM" copy "$how" "$pid" "$addr" "$n" "$PEER4" "$PORT" \
				--connect-first
			[ "$status" -ne 0 ]
		done
	done
	kill "${burn[@]}"
	got="$(sink_bytes)"
	figure "procmem copiers x10 under CPU load: bytes past them (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
}

@test "procmem: monitor: process_vm_writev into a process outside the scope taints nothing there" {
	start_sink tcp
	start_agent
	# the target runs outside the agent's cgroup (this shell's)
	python3 "$PM" buffer $((4 << 20)) "$T/buf.ready" "$T/buf.go" &
	local buf=$! pid addr n
	for _ in $(seq 100); do [ -e "$T/buf.ready" ] && break; sleep 0.05; done
	read -r pid addr n < "$T/buf.ready"
	run in_cg python3 "$PM" push "$W/model.safetensors" "$pid" "$addr" "$n"
	[ "$status" -eq 0 ]
	echo "$PEER4 $PORT" > "$T/buf.go"
	wait "$buf"
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	stop_agent
	# the writer read the weights (a taint line of its own); the target none
	run alert_none kind=alert process.cmdline~"procmem.py buffer"
	[ "$status" -eq 0 ]
	[ "$(alert_get agent.tainted_processes kind=agent_stop)" -le 1 ]
}
