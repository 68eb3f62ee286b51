#!/usr/bin/env bats
# Egress that bypasses connect() or the usual send path (issue 10, item 5):
# TCP fast open (data on the SYN, no connect()), v4-mapped IPv6
# destinations, sendmmsg, UDP GSO (UDP_SEGMENT) and MSG_ZEROCOPY. Each is
# counted, budgeted and enforced like a plain TCP send: killed at the budget
# whether the connection is made after the read (the connect hook stamps the
# socket, so even the SYN's data is charged) or was there before, alerted in
# monitor mode. Raw and packet sockets:
# blindspot.bats.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

STRESS="$VIGIL_ROOT/.output/stress"
BUDGET=$((1 << 20))

@test "bypass: sendto(MSG_FASTOPEN) without connect(), enforce: killed at the budget" {
	start_sink tcp
	start_agent --mode enforce
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --fastopen
	[ "$status" -eq 137 ]
	got="$(sink_bytes)"
	figure "TFO: sink bytes (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	run alert_wait rule=weights-connect severity=low network.daddr="$PEER4"
	[ "$status" -eq 0 ]
	run alert_wait action=killed severity=critical network.daddr="$PEER4"
	[ "$status" -eq 0 ]
}

@test "bypass: sendto(MSG_FASTOPEN) without connect(), --deny-new-destinations: refused, nothing leaves" {
	start_sink tcp
	start_agent --mode enforce --deny-new-destinations
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --fastopen
	[ "$status" -eq 3 ]
	[[ "$output" == *EPERM* ]]
	[ "$(sink_bytes)" -eq 0 ]
	run alert_wait rule=weights-connect action=blocked network.daddr="$PEER4"
	[ "$status" -eq 0 ]
}

@test "bypass: sendto(MSG_FASTOPEN) without connect(), monitor: the connection and the budget are alerted" {
	start_sink tcp
	start_agent
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --fastopen
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-connect severity=low network.daddr="$PEER4"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress-budget enforce_action=killed network.daddr="$PEER4"
	[ "$status" -eq 0 ]
}

@test "bypass: a v4-mapped IPv6 destination, enforce: killed at the budget, connected after the read or before" {
	start_sink tcp
	mkdir -p "$T/other"
	head -c $((3 << 20)) "$W/model.safetensors" > "$T/other/w.safetensors"
	cat > "$T/sets.yaml" <<-EOF
	protect:
	  - name: other
	    paths: ["$T/other/**"]
	EOF
	start_agent --mode enforce --rules "$T/sets.yaml"
	leak --src "$T/other/w.safetensors" --host "::ffff:$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	local first
	first="$(sink_bytes)"
	[ "$first" -le "$BUDGET" ]
	run alert_wait rule=weights-connect network.daddr="::ffff:$PEER4"
	[ "$status" -eq 0 ]
	run alert_wait action=killed network.daddr="::ffff:$PEER4" process.cmdline~other/w.safetensors
	[ "$status" -eq 0 ]
	leak --connect-first --src "$W/model.safetensors" --host "::ffff:$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ $(($(sink_bytes) - first)) -le "$BUDGET" ]
	run alert_wait action=killed network.daddr="::ffff:$PEER4" process.cmdline~--connect-first
	[ "$status" -eq 0 ]
}

@test "bypass: a v4-mapped IPv6 destination, monitor: alerted, its packets counted as the IPv4 flow they are" {
	start_sink tcp
	start_agent
	leak --src "$W/model.safetensors" --host "::ffff:$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-connect network.family=ipv6 network.daddr="::ffff:$PEER4"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress-budget network.family=ipv4 network.daddr="$PEER4"
	[ "$status" -eq 0 ]
}

stop_sinks() {
	kill $SINK_PIDS 2>/dev/null || true
	wait $SINK_PIDS 2>/dev/null || true
	SINK_PIDS=""
}

# leaker TRANSPORT: one pre-connected worker; enforce kills it at the budget
# (wait status 9 in its D line), monitor lets all 4 MiB through and alerts.
leaker_run() {	# TRANSPORT PORT
	run in_cg "$STRESS/leaker" "$1" 4 "$PEER4" "$2" "$W/model.safetensors" "$T/leak.out"
	[ "$status" -eq 0 ]
}

@test "bypass: sendmmsg, UDP_SEGMENT and MSG_ZEROCOPY, enforce: killed at the budget" {
	port=$PORT
	for t in sendmmsg:udp gso:udp zerocopy:tcp; do
		port=$((port + 1000))
		start_sink "${t#*:}" "$port"
		start_agent --mode enforce
		rm -f "$T/leak.out"
		leaker_run "${t%%:*}" "$port"
		grep -q "^D [0-9]* [0-9]* 9$" "$T/leak.out"
		got="$(sink_bytes "$port" "${t#*:}")"
		figure "${t%%:*}: sink bytes (budget $BUDGET)" "$got"
		[ "$got" -le "$BUDGET" ]
		run alert_wait action=killed network.protocol="${t#*:}" network.daddr="$PEER4"
		[ "$status" -eq 0 ]
		stop_agent
		stop_sinks
		rm -f "$ALERTS"
	done
}

@test "bypass: sendmmsg, UDP_SEGMENT and MSG_ZEROCOPY, monitor: counted past the budget and alerted" {
	port=$PORT
	for t in sendmmsg:udp gso:udp zerocopy:tcp; do
		port=$((port + 1000))
		start_sink "${t#*:}" "$port"
		start_agent
		rm -f "$T/leak.out"
		leaker_run "${t%%:*}" "$port"
		grep -q "^D [0-9]* [0-9]* 0$" "$T/leak.out"	# all 4 MiB sent
		run alert_wait rule=weights-egress-budget enforce_action=killed \
			network.protocol="${t#*:}" network.daddr="$PEER4"
		[ "$status" -eq 0 ]
		stop_agent
		stop_sinks
		rm -f "$ALERTS"
	done
}
