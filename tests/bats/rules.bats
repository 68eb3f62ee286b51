#!/usr/bin/env bats
# The rule author's workflow on a real agent: record -> replay gives the same
# alerts, a rule change is tested offline, SIGHUP swaps rules (or refuses bad
# ones), and rule actions (kill, block) act in the kernel's stead.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

@test "rules: a recorded capture replays to identical alerts (identity apart)" {
	start_sink tcp
	start_agent --record "$T/capture.gz"
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run in_cg sh -c 'cat "$1" | python3 "$2" --stdin --host "$3" --port "$4"' sh \
		"$W/model.safetensors" "$EXFIL" "$PEER6" "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress taint.chain.1.via=pipe
	[ "$status" -eq 0 ]
	stop_agent
	# a real zlib stream
	[ "$(head -c 2 "$T/capture.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ]
	grep '"kind":"alert"' "$ALERTS" > "$T/live.jsonl"
	[ "$(wc -l < "$T/live.jsonl")" -ge 4 ]
	"$VIGIL" replay "$T/capture.gz" --no-default-rules --rules "$DETECT_RULES" > "$T/replayed.jsonl"
	run "$ALERTS_PY" records "$T/replayed.jsonl"
	[ "$status" -eq 0 ]
	# the same alerts, told apart only by their record identity (id, seq, run)
	"$ALERTS_PY" content "$T/live.jsonl" > "$T/live.content"
	"$ALERTS_PY" content "$T/replayed.jsonl" > "$T/replayed.content"
	diff -u "$T/live.content" "$T/replayed.content"
	[ "$(grep -c '"kind":"alert"' "$T/replayed.content")" -eq "$(wc -l < "$T/live.jsonl")" ]
}

@test "rules: replay tests a rule change against a capture" {
	start_sink tcp
	start_agent --record "$T/capture.gz"
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress-budget
	[ "$status" -eq 0 ]
	stop_agent
	cat > "$T/site.yaml" <<-YAML
	rule:
	  - id: weights-egress
	    override: true
	    enabled: false
	  - id: site-python-upload
	    condition: evt.type = egress and proc.name = python3 and net.daddr in ($PEER4/32)
	    severity: critical
	    message: "python upload to %net.daddr of %file.path"
	    tags: [T1041]
	YAML
	run "$VIGIL" replay "$T/capture.gz" --no-default-rules --rules "$DETECT_RULES" --rules "$T/site.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"rule":"site-python-upload"'* ]]
	[[ "$output" == *"python upload to $PEER4 of $W/model.safetensors"* ]]
	[[ "$output" != *'"rule":"weights-egress"'* ]]
	[[ "$output" == *'"rule":"weights-egress-budget"'* ]]
	# a broken rule file is refused with its line and column
	printf 'rule:\n  - id: x\n    condition: net.dport = http\n' > "$T/broken.yaml"
	run "$VIGIL" replay "$T/capture.gz" --rules "$T/broken.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"broken.yaml:3:28"* ]]
}

@test "rules: SIGHUP swaps in valid rules and refuses invalid ones" {
	start_sink tcp
	echo "rule: []" > "$T/site.yaml"
	start_agent --rules "$T/site.yaml"
	cat > "$T/site.yaml" <<-YAML
	rule:
	  - id: site-reloaded
	    condition: evt.type = egress
	    severity: low
	YAML
	kill -HUP "$AGENT_PID"
	run alert_wait kind=agent_reload
	[ "$status" -eq 0 ]
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	run alert_wait rule=site-reloaded
	[ "$status" -eq 0 ]
	# now break the file: the agent keeps the running rules and says why
	printf 'rule:\n  - id: site-reloaded\n    condition: evt.type = egress and\n' > "$T/site.yaml"
	kill -HUP "$AGENT_PID"
	run alert_wait kind=agent_error message~"reload refused" message~"site.yaml:3"
	[ "$status" -eq 0 ]
	leak --src "$W/model.safetensors" --host "$PEER6" --port "$PORT"
	run alert_wait --count 2 rule=site-reloaded
	[ "$status" -eq 0 ]
	kill -0 "$AGENT_PID"
}

@test "rules: a kill rule stops an uploader at its first byte, long before the budget" {
	start_sink tcp
	cat > "$T/site.yaml" <<-YAML
	rule:
	  - id: site-no-python-egress
	    condition: evt.type = egress and proc.name = python3
	    severity: critical
	    action: kill
	YAML
	start_agent --mode enforce --rules "$T/site.yaml"
	# paced (16 KiB every 50 ms: 1 MiB takes 3 s), so what is tested is the
	# rule's kill, not a race of the agent against the kernel's budget kill
	# (an unpaced sendall reaches the 1 MiB budget in about a millisecond)
	leak --connect-first --chunk 16384 --pace 0.05 --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	got="$(sink_bytes)"
	figure "sink bytes after a kill rule" "$got"
	[ "$got" -lt $((1 << 20)) ]
	run alert_wait rule=site-no-python-egress action=killed killed_by=agent
	[ "$status" -eq 0 ]
}

@test "rules: a block rule cuts a process off the network without killing it" {
	start_sink tcp
	cat > "$T/site.yaml" <<-YAML
	rule:
	  - id: site-block-python
	    condition: evt.type = egress and proc.name = python3
	    severity: high
	    action: block
	YAML
	start_agent --mode enforce --budget 64MiB --rules "$T/site.yaml"
	leak --connect-first --timeout 3 --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 4 ]		# not killed: its sends stall and time out
	[[ "$output" == *timeout* ]]
	got="$(sink_bytes)"
	figure "sink bytes after a block rule" "$got"
	[ "$got" -lt $((4 << 20)) ]
	run alert_wait rule=site-block-python action=blocked
	[ "$status" -eq 0 ]
	# and a new connection of a blocked process is refused too (same pid: the
	# leaker is gone, so check the kernel map emptied on exit instead)
	map_id="$(bpftool map show name vg_blocked | sed -n 's/^\([0-9]*\):.*/\1/p' | tail -1)"
	[ -z "$(bpftool map dump id "$map_id" | grep -v '^\[\]$' | grep key || true)" ]
}

@test "rules: vigil record -o writes a capture while running" {
	start_sink tcp
	launched_agent "$VIGIL" record -o "$T/rec.gz" --no-default-rules --rules "$DETECT_RULES" \
		--cgroup "$CG" --protect "$W/**" --alerts "$ALERTS" --stats-interval 0
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	run alert_wait rule=weights-egress
	[ "$status" -eq 0 ]
	stop_agent
	run "$VIGIL" replay "$T/rec.gz" --no-default-rules --rules "$DETECT_RULES"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"rule":"weights-egress"'* ]]
}

@test "rules: an allow entry scoped to an executable lets only that binary through" {
	start_sink tcp
	cat > "$T/site.yaml" <<-YAML
	allow:
	  - name: uring-only
	    cidr: $PEER4/32
	    exe: [$VIGIL_ROOT/.output/scenarios/uring_*]
	YAML
	start_agent --mode enforce --rules "$T/site.yaml"
	# the named executable reaches the destination with weights ...
	run in_cg "$VIGIL_ROOT/.output/scenarios/uring_leak" "$W/model.safetensors" "$PEER4" "$PORT"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	# ... python does not, to the same destination: killed at the budget
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le $(((4 << 20) + (1 << 20))) ]
	run alert_wait action=killed process.comm=python3
	[ "$status" -eq 0 ]
	run alert_none process.comm=uring_leak
	[ "$status" -eq 0 ]
	# a copy of the allowed binary is not allowed (identity, not name)
	cp "$VIGIL_ROOT/.output/scenarios/uring_leak" "$T/uring_leak"
	run in_cg "$T/uring_leak" "$W/model.safetensors" "$PEER4" "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le $(((4 << 20) + (1 << 20))) ]
}
