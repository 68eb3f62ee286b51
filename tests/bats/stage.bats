#!/usr/bin/env bats
# Pipe stages that never read, write a file or send (issue 10 item 2):
# vmsplice of a tainted process's memory into a FIFO it opened after it was
# tainted, and a tee(2) stage duplicating a tainted pipe. Taint flows at the
# call (bpf/stage.bpf.c) and at the FIFO's open (bpf/shm.bpf.c), not at
# the agent's next /proc walk. Monitor and enforce mode, ending in egress
# to the test host, asserting the weights in taint.sources and the chain.

load ../lib/harness

STAGE_PY="$SCEN/stage.py"
BUDGET=$((1 << 20))

setup() {
	vigil_setup
	require_capability stage
}
teardown() { vigil_teardown; }

# the uploader connects before its first byte arrives: enforce must stop
# it at the budget, not at connect
uploader() {
	in_cg python3 "$EXFIL" --stdin --connect-first --host "$PEER4" --port "$PORT" --tag upload
}

check_outcome() {
	local mode="$1" rc="$2" got
	got="$(sink_bytes)"
	echo "uploader exit $rc, sink $got: $(cat "$T/up.out" 2>/dev/null)" >&2
	figure "sink bytes ($mode, budget $BUDGET)" "$got"
	if [ "$mode" = enforce ]; then
		[ "$rc" -eq 137 ]
		[ "$got" -le "$BUDGET" ]
	else
		[ "$rc" -eq 0 ]
		[ "$got" -eq $((4 << 20)) ]
	fi
}

vmsplice_fifo() {
	local rc=0
	start_sink tcp
	start_agent --mode "$1"
	mkfifo "$T/fifo"
	# the uploader holds the FIFO's read end from the start; the writer
	# reads the weights, and only then opens the FIFO. The uploader enters
	# the cgroup after the writer's first vmsplice (the order 6.1 under
	# TCG ran): the write that moves it in is checked while out of scope
	{ sleep 1; uploader; } < "$T/fifo" > "$T/up.out" 2>&1 &
	local up=$!
	run in_cg python3 "$STAGE_PY" vmsplice --src "$W/model.safetensors" --fifo "$T/fifo"
	wait "$up" || rc=$?
	check_outcome "$1" "$rc"
	run alert_wait kind=alert mode="$1" process.cmdline~upload \
		taint.sources.0.path="$W/model.safetensors" taint.chain.0.via=read \
		taint.chain.1.via=pipe
	[ "$status" -eq 0 ]
}

@test "stage: monitor: vmsplice into a FIFO opened after the read taints its reader" {
	vmsplice_fifo monitor
}

@test "stage: enforce: vmsplice into a FIFO opened after the read: the reader is stopped at the budget" {
	vmsplice_fifo enforce
}

tee_stage() {
	local rc=0
	start_sink tcp
	start_agent --mode "$1"
	in_cg sh -c 'cat "$1" | python3 "$2" tee | exec "$3" "$4" --stdin --connect-first \
		--host "$5" --port "$6" --tag upload' sh "$W/model.safetensors" "$STAGE_PY" \
		python3 "$EXFIL" "$PEER4" "$PORT" > "$T/up.out" 2>&1 || rc=$?
	check_outcome "$1" "$rc"
	run alert_wait kind=alert mode="$1" process.cmdline~upload \
		taint.sources.0.path="$W/model.safetensors" taint.chain.0.via=read \
		taint.chain.0.comm=cat taint.chain.1.via=pipe taint.chain.2.via=pipe
	[ "$status" -eq 0 ]
}

@test "stage: monitor: a tee(2) stage that never reads passes taint to its reader" {
	tee_stage monitor
}

@test "stage: enforce: a tee(2) stage that never reads: its reader is stopped at the budget" {
	tee_stage enforce
}
