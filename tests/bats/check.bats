#!/usr/bin/env bats
# `vigil check` and --hooks: what vigil can see on the running kernel and
# which implementation each capability uses. Kernel-agnostic (the kernel
# matrix runs this file in every VM): assertions compare check, run and
# the capability table with each other, not with one kernel's facts.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

check_json() { "$VIGIL" check --json "$@"; }
# jq-less field access: check_field JSON PYEXPR
check_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" <<< "$1"; }

@test "check: the table names every capability, and the exit status says if enforcement is covered" {
	run "$VIGIL" check
	rc=$status
	for cap in read mmap send copy process drop-kill acked reset direct procmem unix-dgram egress; do
		[[ "$output" == *$'\n'"$cap "* ]]
	done
	[[ "$output" == *"hook family"* ]] && [[ "$output" == *"cgroup v2"* ]]
	json="$(check_json)" || true
	[ "$(check_field "$json" 'd["enforceable"]')" = "$([ "$rc" = 0 ] && echo True || echo False)" ]
	# every blind capability says what that means; every covered one its family
	check_field "$json" '"\n".join(k + " " + (v.get("family") or "BLIND " + v.get("blind_means", "")) for k, v in d["capabilities"].items() if k != "egress")' > "$T/caps"
	! grep -E '^[a-z-]+ BLIND ?$' "$T/caps"
}

@test "check: --hooks narrows the families, and a blind needed capability exits 1 with what it means" {
	# process has only a tracepoint implementation: without tracepoints it is blind
	run "$VIGIL" check --hooks=-tracepoint
	[ "$status" -eq 1 ]
	[[ "$output" == *"fork, exec and exit are not seen"* ]]
	[[ "$output" == *"excluded by --hooks"* ]]
	json="$(check_json --hooks fentry,kprobe)" || true
	[ "$(check_field "$json" 'd["capabilities"]["process"]["implementation"]')" = blind ]
	[ "$(check_field "$json" 'd["kernel"]["families"]["tracepoint"]["loads"]')" = False ]
	run "$VIGIL" check --hooks tracepoint,kprobes
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown hook family 'kprobes'"* ]]
}

@test "check: vigil run uses what check chose and says so in agent_start; refuses when a required capability is blind" {
	bats_require_minimum_version 1.5.0
	json="$(check_json)" || true
	start_agent --mode monitor
	for cap in read mmap send process; do
		want="$(check_field "$json" "d['capabilities']['$cap']['implementation']")"
		got="$(alert_get "capabilities.$cap" kind=agent_start)"
		[ "$got" = "$want" ]
	done
	[ "$(alert_get kernel.release kind=agent_start)" = "$(uname -r)" ]
	stop_agent
	run --separate-stderr "$VIGIL" run --no-default-rules --protect "$W/**" --cgroup "$CG" \
		--alerts "$T/refused.jsonl" --hooks=-tracepoint
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"this kernel gives vigil no way to see "* ]]
	[ ! -s "$T/refused.jsonl" ] || ! grep -q agent_start "$T/refused.jsonl"
}

@test "check: --verbose loads every program in both modes, each well inside the verifier's limit" {
	run "$VIGIL" check --verbose
	[[ "$output" == *"verifier, monitor mode: loaded"* ]]
	[[ "$output" == *"verifier, enforce mode: loaded"* ]]
	# the egress program is listed in both modes, with the count of the
	# instructions the verifier processed; half the 1M limit at most: the
	# same code costs differently on other kernels (6.1 vs 6.18), and the
	# egress path grows (content classes)
	[ "$(grep -c '^  vigil_egress  *[0-9]* insns processed$' <<< "$output")" -eq 2 ]
	awk '/ insns processed$/ && $2 > 500000 { print; bad = 1 } END { exit bad }' <<< "$output"
	run "$VIGIL" check --verbose --json
	[ "$status" -eq 2 ]
}
