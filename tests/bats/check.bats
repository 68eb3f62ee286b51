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
	for cap in read mmap send copy process drop-kill acked reset direct procmem unix-dgram local-bytes egress; do
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
	# the choice under the hook set the agent runs with (the kernel matrix)
	json="$(check_json ${VIGIL_HOOKS:+--hooks "$VIGIL_HOOKS"})" || true
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
	# and the fallbacks vigil picks without fentry (kprobe, lsm on 6.1; the
	# tracepoints again on 6.18): a refusal there is invisible to auto
	# (6.1 refused lsm/socket_sendmsg once and --hooks=-fentry did not start)
	run "$VIGIL" check --verbose --hooks=-fentry
	[[ "$output" == *"verifier, monitor mode: loaded"* ]]
	[[ "$output" == *"verifier, enforce mode: loaded"* ]]
	awk '/ insns processed$/ && $2 > 500000 { print; bad = 1 } END { exit bad }' <<< "$output"
	run "$VIGIL" check --verbose --json
	[ "$status" -eq 2 ]
}

@test "check: one binary: libbpf, libelf, zlib, libyaml and jansson are linked in; only glibc (2.34 at most), libcurl and OpenSSL are shared" {
	# an operator copies one file (docs/KERNELS.md, "One binary")
	run readelf -d "$VIGIL"
	[ "$status" -eq 0 ]
	needed="$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<< "$output" | sort | tr '\n' ' ')"
	[ "$needed" = "libc.so.6 libcrypto.so.3 libcurl.so.4 libssl.so.3 " ]
	# the static libraries' symbols are defined in the binary itself
	run nm --defined-only "$VIGIL"
	for sym in bpf_object__open_mem elf_begin deflate inflate yaml_parser_initialize json_loads; do
		grep -q " T $sym\$" <<< "$output"
	done
	# the glibc floor: the newest symbol version the binary asks for
	floor="$(objdump -T "$VIGIL" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
	[ -n "$floor" ]
	[ "$(printf '%s\n' "$floor" GLIBC_2.34 | sort -V | tail -1)" = GLIBC_2.34 ]
}
