#!/usr/bin/env bats
# The agent's life: flags, clear refusals, start, stats, clean stop.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

# one line on stderr naming the problem, non-zero exit, nothing on stdout
expect_refusal() {
	local want="$1"; shift
	run --separate-stderr "$VIGIL" "$@"
	[ "$status" -ne 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"$want"* ]]
}

@test "cli: bad flags and values are refused with one clear line" {
	bats_require_minimum_version 1.5.0
	expect_refusal "unrecognized option '--bogus'" run --bogus
	expect_refusal "--mode 'loud': expected monitor or enforce" run --mode loud
	expect_refusal "--budget '12QB'" run --budget 12QB
	expect_refusal "--allow '10.0.0.0/33'" run --allow 10.0.0.0/33
	expect_refusal "--protect" run --protect relative/path
	expect_refusal "--cgroup /nonexistent/x" run --cgroup /nonexistent/x
}

@test "cli: a bad rule file is named with line and column, and the agent does not start" {
	bats_require_minimum_version 1.5.0
	printf 'protect:\n  - name: x\n    pathz: [/a]\n' > "$T/bad.yaml"
	run --separate-stderr "$VIGIL" rules validate "$T/bad.yaml"
	[ "$status" -ne 0 ]
	[[ "$output$stderr" == *"$T/bad.yaml:3:5: unknown field 'pathz'"* ]]
	expect_refusal "$T/bad.yaml:3:5" run --rules "$T/bad.yaml" --cgroup "$CG"
	run "$VIGIL" rules validate "$VIGIL_ROOT/rules/protect.yaml" "$VIGIL_ROOT/rules/detect.yaml"
	[ "$status" -eq 0 ]
}

@test "cli: not root is refused with what to do" {
	bats_require_minimum_version 1.5.0
	run --separate-stderr runuser -u nobody -- "$VIGIL" run --no-default-rules --protect "/tmp/x/**"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"must run as root"* ]]
}

@test "lifecycle: agent_start comes first, SIGTERM detaches everything and exits 0" {
	start_agent --mode enforce --stats-interval 1
	run "$ALERTS_PY" wait "$ALERTS" --timeout 5 kind=agent_stats
	[ "$status" -eq 0 ]
	# the socket programs are attached to the scope cgroup while running
	# (counted by BPF_PROG_QUERY: where the BPF LSM guards them, bpftool
	# may not open them to read their names) ...
	attached="$(python3 "$LIB/cgroup_progs.py" "$CG")"
	[ "$attached" -ge 4 ]
	stop_agent
	# ... and gone after SIGTERM
	attached="$(python3 "$LIB/cgroup_progs.py" "$CG")"
	[ "$attached" -eq 0 ]
	run "$ALERTS_PY" schema "$ALERTS"
	[ "$status" -eq 0 ]
}

@test "lifecycle: SIGINT stops the agent cleanly too" {
	start_agent
	kill -INT "$AGENT_PID"
	wait "$AGENT_PID"
	AGENT_PID=""
	run alert_wait --timeout 1 kind=agent_stop
	[ "$status" -eq 0 ]
}

@test "lifecycle: the embedded default rules load and protect the usual places" {
	# scoped to the test cgroup; the default pack walks /root, /home, /srv ...
	"$VIGIL" run --cgroup "$CG" --alerts "$ALERTS" --stats-interval 0 2>"$AGENT_ERR" &
	AGENT_PID=$!
	run "$ALERTS_PY" wait "$ALERTS" --timeout 60 kind=agent_start
	[ "$status" -eq 0 ]
	ms="$(alert_get startup_ms kind=agent_start)"
	figure "default rules startup (ms)" "$ms"
	run alert_get sets kind=agent_start
	[[ "$output" == *huggingface* ]]
	[[ "$output" == *safetensors* ]]
	stop_agent
}

@test "lifecycle: alerts go to --alerts FILE, stdout stays clean" {
	bats_require_minimum_version 1.5.0
	start_sink tcp
	launched_agent sh -c 'exec "$@" >"$0"' "$T/stdout" "$VIGIL" run --no-default-rules \
		--rules "$DETECT_RULES" --cgroup "$CG" --protect "$W/**" --alerts "$ALERTS" \
		--stats-interval 0
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	run alert_wait rule=weights-egress
	[ "$status" -eq 0 ]
	stop_agent
	[ ! -s "$T/stdout" ]
}

@test "lifecycle: --cgroup also takes the path below the cgroup v2 mount" {
	start_sink tcp
	"$VIGIL" run --no-default-rules --rules "$DETECT_RULES" --cgroup "/${CG##*/}" --protect "$W/**" \
		--alerts "$ALERTS" --stats-interval 0 2>"$AGENT_ERR" &
	AGENT_PID=$!
	run alert_wait --timeout 30 kind=agent_start cgroup="/${CG##*/}"
	[ "$status" -eq 0 ]
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	run alert_wait rule=weights-egress
	[ "$status" -eq 0 ]
}

@test "lifecycle: taint is cleaned up when tainted processes exit" {
	start_sink tcp
	start_agent
	leak --src "$W/model.safetensors" --child --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress
	[ "$status" -eq 0 ]
	# the kernel taint map holds no entry for the two processes that are gone
	map_id="$(bpftool map show name vg_taint | sed -n 's/^\([0-9]*\):.*/\1/p' | tail -1)"
	[ -n "$map_id" ]
	for pid in $(alert_get taint.chain.0.pid rule=weights-egress) $(alert_get process.pid rule=weights-egress); do
		! kill -0 "$pid" 2>/dev/null
		run bpftool map lookup id "$map_id" key $(printf '0x%02x 0x%02x 0x%02x 0x%02x' \
			$((pid & 255)) $(((pid >> 8) & 255)) $(((pid >> 16) & 255)) $(((pid >> 24) & 255)))
		[ "$status" -ne 0 ]
	done
	stop_agent
	live="$(alert_get agent.tainted_processes kind=agent_stop)"
	[ "$live" -eq 0 ]
}
