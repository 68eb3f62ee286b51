#!/usr/bin/env bats
# Monitor mode: every way of reading weights and pushing them out is seen and
# alerted on with the full story; nothing is stopped.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

@test "monitor: read() then TCP send over IPv4 alerts with source, chain, destination" {
	start_sink tcp
	start_agent --mode monitor
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	run alert_wait rule=weights-egress action=alert network.daddr="$PEER4" \
		network.dport="$PORT" network.protocol=tcp network.family=ipv4 \
		taint.sources.0.path="$W/model.safetensors" taint.sources.0.bytes_read'>='4194304 \
		taint.chain.0.via=read process.comm=python3
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-connect action=alert network.daddr="$PEER4"
	[ "$status" -eq 0 ]
	stop_agent
	run "$ALERTS_PY" schema "$ALERTS"
	[ "$status" -eq 0 ]
}

@test "monitor: IPv6 TCP egress is attributed to the v6 destination" {
	start_sink tcp
	start_agent
	leak --src "$W/model.safetensors" --host "$PEER6" --port "$PORT"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	run alert_wait rule=weights-egress network.family=ipv6 network.daddr="$PEER6" \
		network.dport="$PORT" action=alert
	[ "$status" -eq 0 ]
}

@test "monitor: unconnected UDP sendto over IPv4 is counted and alerted" {
	start_sink udp
	start_agent
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --udp --pace 0.0001
	[ "$status" -eq 0 ]
	[ "$(sink_bytes "$PORT" udp)" -gt 0 ]
	run alert_wait rule=weights-egress network.protocol=udp network.daddr="$PEER4" network.dport="$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress-budget network.protocol=udp network.bytes'>='1048576
	[ "$status" -eq 0 ]
}

@test "monitor: connected UDP over IPv6 is counted and alerted" {
	start_sink udp
	start_agent
	leak --src "$W/model.safetensors" --host "$PEER6" --port "$PORT" --udp --udp-connect --pace 0.0001
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress network.protocol=udp network.family=ipv6 network.daddr="$PEER6"
	[ "$status" -eq 0 ]
}

@test "monitor: mmap page faults taint like read()" {
	start_sink tcp
	start_agent
	leak --src "$W/model.safetensors" --via mmap --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress taint.chain.0.via=mmap taint.sources.0.bytes_read'>='1
	[ "$status" -eq 0 ]
}

@test "monitor: sendfile and splice from a weight file are caught" {
	start_sink tcp
	start_agent
	leak --src "$W/model.safetensors" --via sendfile --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	leak --src "$W/model.safetensors" --via splice --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((8 << 20)) ]
	run alert_wait rule=weights-egress process.cmdline~"--via sendfile"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress process.cmdline~"--via splice"
	[ "$status" -eq 0 ]
}

@test "monitor: io_uring reads and sends are caught" {
	start_sink tcp
	start_agent
	run in_cg "$VIGIL_ROOT/.output/scenarios/uring_leak" "$W/model.safetensors" "$PEER4" "$PORT"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	run alert_wait rule=weights-egress process.comm=uring_leak taint.chain.0.via=read \
		taint.sources.0.bytes_read'>='4194304 network.daddr="$PEER4"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress-budget process.comm=uring_leak
	[ "$status" -eq 0 ]
}

@test "monitor: pread, readv, write() and sendmsg() are all seen" {
	start_sink tcp
	start_agent
	for via in pread readv write sendmsg; do
		leak --src "$W/model.safetensors" --via "$via" --host "$PEER4" --port "$PORT"
		[ "$status" -eq 0 ]
	done
	for via in pread readv write sendmsg; do
		run alert_wait rule=weights-egress process.cmdline~"--via $via" \
			taint.sources.0.path="$W/model.safetensors"
		[ "$status" -eq 0 ]
	done
}

@test "monitor: a forked child inherits taint and the chain shows the fork" {
	start_sink tcp
	start_agent
	leak --src "$W/model.safetensors" --child --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress taint.chain.0.via=read taint.chain.1.via=fork
	[ "$status" -eq 0 ]
	parent="$(alert_get taint.chain.0.pid rule=weights-egress)"
	ppid="$(alert_get process.ppid rule=weights-egress)"
	[ "$parent" = "$ppid" ]
}

@test "monitor: taint survives exec" {
	start_sink tcp
	start_agent
	leak --src "$W/model.safetensors" --exec-random 2000000 --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress process.cmdline~"--random 2000000" \
		taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
}

@test "monitor: cat weights | uploader is caught through the pipe" {
	start_sink tcp
	start_agent
	run in_cg sh -c 'cat "$1" | python3 "$2" --stdin --host "$3" --port "$4"' sh \
		"$W/model.safetensors" "$EXFIL" "$PEER4" "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress process.comm=python3 taint.chain.0.comm=cat \
		taint.chain.0.via=read taint.chain.1.via=pipe taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
}

@test "monitor: a FIFO carries taint to its reader" {
	start_sink tcp
	start_agent
	mkfifo "$T/fifo"
	in_cg sh -c 'cat "$1" > "$2"' sh "$W/model.safetensors" "$T/fifo" &
	run in_cg sh -c 'exec python3 "$1" --stdin --host "$2" --port "$3" < "$4"' sh \
		"$EXFIL" "$PEER4" "$PORT" "$T/fifo"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress taint.chain.1.via=pipe taint.chain.0.comm=cat
	[ "$status" -eq 0 ]
}

@test "monitor: hard links, relative paths and /proc/PID/fd re-opens do not evade" {
	mkdir "$T/elsewhere"
	ln "$W/model.safetensors" "$T/elsewhere/innocent.bin"
	start_sink tcp
	start_agent
	leak --src "$T/elsewhere/innocent.bin" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress process.cmdline~innocent.bin
	[ "$status" -eq 0 ]
	run in_cg sh -c 'cd "$1" && exec python3 "$2" --src ./model.safetensors --host "$3" --port "$4"' \
		sh "$W" "$EXFIL" "$PEER4" "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress process.cmdline~"--src ./model.safetensors"
	[ "$status" -eq 0 ]
	run in_cg sh -c 'exec 7<"$1"; exec python3 "$2" --src /proc/self/fd/7 --host "$3" --port "$4"' \
		sh "$W/model.safetensors" "$EXFIL" "$PEER4" "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress process.cmdline~/proc/self/fd/7
	[ "$status" -eq 0 ]
}

@test "monitor: a weight file created after start is protected" {
	mkdir "$W/later"
	start_sink tcp
	start_agent
	head -c $((2 << 20)) /dev/urandom > "$W/later/new.gguf"
	sleep 0.5   # inotify → map update is asynchronous
	leak --src "$W/later/new.gguf" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress taint.sources.0.path="$W/later/new.gguf"
	[ "$status" -eq 0 ]
}

@test "monitor: a process that read weights before the agent started is found in /proc" {
	start_sink tcp
	in_cg python3 "$EXFIL" --src "$W/model.safetensors" --wait-file "$T/go" \
		--host "$PEER4" --port "$PORT" &
	pid=$!
	for _ in $(seq 100); do [ -e "$T/go.read" ] && break; sleep 0.05; done
	start_agent
	touch "$T/go"
	wait "$pid"
	run alert_wait rule=weights-egress taint.chain.0.via=preexisting
	[ "$status" -eq 0 ]
}

@test "monitor: one alert per process and destination, not one per packet" {
	start_sink tcp
	start_agent
	leak --src "$W/model.safetensors" --chunk 4096 --via write --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	stop_agent
	n=$("$ALERTS_PY" wait "$ALERTS" --count 1 rule=weights-egress | wc -l)
	[ "$n" -eq 1 ]
	n=$("$ALERTS_PY" wait "$ALERTS" --count 1 rule=weights-egress-budget | wc -l)
	[ "$n" -eq 1 ]
	n=$("$ALERTS_PY" wait "$ALERTS" --count 1 rule=weights-connect | wc -l)
	[ "$n" -eq 1 ]
}

@test "monitor: a local relay over a unix socket is caught and named" {
	start_sink tcp
	start_agent
	in_cg python3 "$SCEN/unix_relay.py" relay "$T/relay.sock" "$PEER4" "$PORT" &
	relay=$!
	for _ in $(seq 100); do [ -e "$T/relay.sock.ready" ] && break; sleep 0.05; done
	run in_cg python3 "$SCEN/unix_relay.py" send "$T/relay.sock" "$W/model.safetensors"
	[ "$status" -eq 0 ]
	wait "$relay"
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	run alert_wait rule=weights-egress taint.chain.1.via=unix \
		taint.sources.0.path="$W/model.safetensors" process.cmdline~relay
	[ "$status" -eq 0 ]
}

@test "monitor: a copy of the weights is protected like the original" {
	start_sink tcp
	start_agent
	mkdir "$T/stash"
	run in_cg cp "$W/model.safetensors" "$T/stash/innocent.bin"
	[ "$status" -eq 0 ]
	sleep 0.3
	# a fresh process that never touched the original uploads the copy
	leak --src "$T/stash/innocent.bin" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	# named by the original weights; the copy is the chain's file hop
	run alert_wait rule=weights-egress taint.sources.0.path="$W/model.safetensors" \
		taint.sources.0.set=cli process.cmdline~innocent.bin \
		taint.chain.0.comm=cp taint.chain.1.via=file taint.chain.1.path="$T/stash/innocent.bin"
	[ "$status" -eq 0 ]
	stop_agent
	[ "$(alert_get agent.copies_protected kind=agent_stop)" -ge 1 ]
}

@test "monitor: weights in a directory tree created after start are protected" {
	start_sink tcp
	start_agent
	mkdir -p "$W/new/deep/er"
	head -c $((2 << 20)) /dev/urandom > "$W/new/deep/er/w.safetensors"
	sleep 0.5
	leak --src "$W/new/deep/er/w.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress taint.sources.0.path="$W/new/deep/er/w.safetensors"
	[ "$status" -eq 0 ]
}
