#!/usr/bin/env bats
# TLS plaintext: a tainted job's HTTPS is judged by what it handed its TLS
# library (uprobes on SSL_write/SSL_write_ex, gnutls_record_send, Go's
# crypto/tls.(*Conn).Write), bound to the connection that carried it. Real
# TLS: a test CA made here, python's ssl (OpenSSL) as the peer in the netns,
# python, curl, gnutls-cli and a Go client as the tainted senders.

load ../lib/harness
load ../lib/tls

setup() {
	vigil_setup
	tls_setup
}
teardown() { vigil_teardown; }

@test "tls: vigil check names the TLS libraries it covers and says unseen TLS is opaque" {
	run "$VIGIL" check
	[ "$status" -eq 0 ]
	[[ "$output" == *"tls           uprobe SSL_write+SSL_write_ex+gnutls_record_send"* ]]
	[[ "$output" == *"libssl.so.3: SSL_write SSL_write_ex"* ]]
	[[ "$output" == *"libgnutls.so.30: gnutls_record_send"* ]]
	[[ "$output" == *"is opaque: budgeted like weights"* ]]
	[[ "$output" == *"attached per tainted process, at its taint"* ]]
	run "$VIGIL" check --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["capabilities"]["tls"]["implementation"].startswith("uprobe "), c["capabilities"]["tls"]
libs = {l["path"].rsplit("/", 1)[1]: l["functions"] for l in c["tls_libraries"]}
assert libs["libssl.so.3"] == ["SSL_write", "SSL_write_ex"], libs
assert libs["libgnutls.so.30"] == ["gnutls_record_send"], libs
assert c["tls_attach"] == "per tainted process", c.get("tls_attach")'
	# without uprobes the capability is blind and says what that means
	run "$VIGIL" check --hooks -uprobe
	[[ "$output" == *"tls           blind"* ]]
	[[ "$output" == *"every tainted TLS flow is opaque"* ]]
}

# private_libssl: a copy of libssl in $T/lib (another inode), as a venv or
# a container image would ship it
private_libssl() {
	mkdir -p "$T/lib"
	cp "$(python3 -c 'import ssl, re; print(re.search(r"\S*libssl\.so\.3", open("/proc/self/maps").read()).group(0))')" \
		"$T/lib/libssl.so.3"
}

# The uprobes are attached per tainted process (pid-filtered perf events):
# the breakpoint is written into the tainted process's memory only. Each
# process reads the first byte of its own SSL_write and SSL_write_ex:
# 0xcc (int3) where a uprobe sits. A host-wide attach (the old way) puts
# it in the untainted process too.
@test "tls: uprobes sit in tainted processes only, from the taint to the exit" {
	[ "$(uname -m)" = x86_64 ] || skip "reads x86's int3"
	# a private copy of libssl: an agent of another test run on this host
	# (its own scope) may attach the system's copy for its processes
	private_libssl
	start_agent
	local probe="$SCEN/tls_probe_byte.py"
	rm -f "$T/stop"
	LD_LIBRARY_PATH="$T/lib" in_cg python3 "$probe" --out "$T/u" --stop "$T/stop" &
	local upid_job=$!
	LD_LIBRARY_PATH="$T/lib" in_cg python3 "$probe" --out "$T/t" --stop "$T/stop" \
		--taint "$W/model.safetensors" &
	local tpid_job=$!
	for _ in $(seq 200); do
		grep -q "^now cc cc$" "$T/t" 2>/dev/null && [ -e "$T/u" ] && break
		sleep 0.05
	done
	sleep 0.3	# the untainted one had time to see a breakpoint, were there one
	cat "$T/t" "$T/u"
	grep -q "^now cc cc$" "$T/t"
	[ "$(grep -c "^before cc" "$T/t")" -eq 0 ]
	[ "$(grep -c "cc" "$T/u")" -eq 0 ]
	local tpid upid
	tpid="$(cat "$T/t.pid")"
	upid="$(cat "$T/u.pid")"
	[ "$(status_tls "sorted(set(a['pid'] for a in t['attached']))")" = "[$tpid]" ]
	[ "$(status_tls "any(a['pid'] == $tpid and a['path'] == '$T/lib/libssl.so.3' and a['functions'] == ['SSL_write', 'SSL_write_ex'] for a in t['attached'])")" = True ]
	[ "$(status_tls "[l['host_wide'] for l in t['libraries'] if l['host_wide']]")" = "[]" ]
	[ "$(status_tls "t['attach_overflow']")" = 0 ]
	[[ "$("$VIGIL" status)" == *"TLS uprobes, per tainted process: "*" attachments, 0 over the table, 0 over the rate (0 files host-wide), 0 failed"* ]]
	figure "TLS uprobes attached after the TAINT record (kernel time to attached, µs; mean of count)" \
		"$(status_tls "'%d (count %d, max %d)' % (t['attach_latency_us']['mean'], t['attach_latency_us']['count'], t['attach_latency_us']['max'])")"
	touch "$T/stop"
	wait "$tpid_job" "$upid_job"
	# gone at its EXIT record
	for _ in $(seq 50); do
		[ "$(status_tls "t['attachments']")" = 0 ] && break
		sleep 0.1
	done
	[ "$(status_tls "t['attachments']")" = 0 ]
	[ "$(status_tls "t['detached_total'] >= 1")" = True ]
	[ "$upid" != "$tpid" ]
	stop_agent
}

# probe_start NAME [--taint]: a tls_probe_byte.py on the private libssl in
# the background ($T/NAME, $T/NAME.pid); PROBE_JOBS collects the jobs
probe_start() {
	local out="$T/$1"
	shift
	LD_LIBRARY_PATH="$T/lib" in_cg python3 "$SCEN/tls_probe_byte.py" --out "$out" \
		--stop "$T/stop" ${1:+--taint "$W/model.safetensors"} &
	PROBE_JOBS="${PROBE_JOBS:-} $!"
}

# probe_wait NAME LINE_RE: until $T/NAME has a line matching LINE_RE (10 s)
probe_wait() {
	for _ in $(seq 200); do
		grep -q "$2" "$T/$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "$1: no line matching $2: $(cat "$T/$1" 2>/dev/null)" >&2
	return 1
}

probes_stop() {
	touch "$T/stop"
	# shellcheck disable=SC2086
	wait $PROBE_JOBS
	PROBE_JOBS=""
}

# A full table does not blind the agent: the file that did not fit is
# attached host-wide (every process mapping it gets the breakpoint, the
# per-process attachments to it go), said in the log, `vigil status` and
# its counters.
@test "tls: past the attachment table a file is attached host-wide, logged and counted" {
	[ "$(uname -m)" = x86_64 ] || skip "reads x86's int3"
	private_libssl
	# one slot: the first tainted process takes it, the second overflows
	VIGIL_TLS_ATTACH_MAX=1 start_agent
	rm -f "$T/stop"
	probe_start t1 --taint
	probe_wait t1 "^now cc cc$"
	[ "$(status_tls "(t['attachments'], t['attach_overflow'], t['host_wide_files'])")" = "(1, 0, 0)" ]
	probe_start t2 --taint
	probe_wait t2 "^now cc cc$"
	# host-wide: a process started now, never tainted, has the breakpoint too
	probe_start u
	probe_wait u "^before cc cc$"
	cat "$T/t1" "$T/t2" "$T/u"
	[ "$(status_tls "[(l['host_wide'], l['processes']) for l in t['libraries'] if l['path'] == '$T/lib/libssl.so.3']")" = "[(True, 0)]" ]
	[ "$(status_tls "t['attach_overflow'] >= 1 and t['host_wide_files'] == 1 and t['attachments'] == 0")" = True ]
	[[ "$("$VIGIL" status)" == *"TLS uprobes, per tainted process: 0 of 1 attachments, "*" over the table, 0 over the rate (1 files host-wide)"* ]]
	grep -q "TLS: per-process attachment table full; $T/lib/libssl.so.3 attached host-wide" "$AGENT_ERR"
	probes_stop
	stop_agent
}

# A storm of tainted processes does not become a storm of uprobe
# registrations (each one waits for RCU and holds up every fork on the
# host): past the worker's rate the file goes host-wide, one registration
# for all, counted. Rate 4 a second: the first two processes' two
# functions each, then the bucket is empty.
@test "tls: a storm of tainted processes is attached host-wide past the registration rate, counted" {
	[ "$(uname -m)" = x86_64 ] || skip "reads x86's int3"
	private_libssl
	VIGIL_TLS_ATTACH_RATE=4 start_agent
	rm -f "$T/stop"
	for i in 1 2 3 4 5 6; do probe_start "s$i" --taint; done
	for i in 1 2 3 4 5 6; do probe_wait "s$i" "^now cc cc$"; done
	[ "$(status_tls "(t['attach_rate_limited'] >= 1, t['host_wide_files'], t['attached_total'] <= 3, t['attach_overflow'])")" = "(True, 1, True, 0)" ]
	[ "$(status_tls "[l['host_wide'] for l in t['libraries'] if l['path'] == '$T/lib/libssl.so.3']")" = "[True]" ]
	grep -q "TLS: uprobe registration rate spent (a storm of tainted processes); $T/lib/libssl.so.3 attached host-wide" "$AGENT_ERR"
	probes_stop
	stop_agent
}

# The event loop never attaches: with every attach held 5 s on the worker
# (VIGIL_TLS_ATTACH_DELAY_MS, as a slow uprobe registration would), the
# agent answers `vigil status` while the process waits in the worker's
# queue without a breakpoint (its TLS would be opaque), and the process
# gets it when the worker is done. An attach on the event loop fails this:
# status would answer only after the attach, never with the process
# pending and unattached. (The time of that answer, CLI and python
# start included, is a figure; under two CPU spinners it took 2.5 s once.)
@test "tls: the event loop answers while the worker thread attaches" {
	[ "$(uname -m)" = x86_64 ] || skip "reads x86's int3"
	private_libssl
	VIGIL_TLS_ATTACH_DELAY_MS=5000 start_agent
	rm -f "$T/stop"
	probe_start t --taint
	probe_wait t "^now "
	local tpid t0 ms seen=""
	tpid="$(cat "$T/t.pid")"
	for _ in $(seq 20); do
		t0="$(date +%s%N)"
		run status_tls "(t['worker']['pending'], [a['pid'] for a in t['attached']])"
		ms=$((($(date +%s%N) - t0) / 1000000))
		echo "status in $ms ms: $output"
		[ "$output" = "(1, [])" ] && { seen=1; break; }
		sleep 0.05
	done
	[ -n "$seen" ]
	[ "$ms" -lt 5000 ]
	# no breakpoint while it waits
	[ "$(grep -c "^now cc" "$T/t")" -eq 0 ]
	probe_wait t "^now cc cc$"
	[ "$(status_tls "(t['worker']['pending'], [(a['pid'], a['watched']) for a in t['attached']])")" = "(0, [($tpid, True)])" ]
	figure "TLS attach with a 5 s worker delay: vigil status answered in (ms)" "$ms"
	probes_stop
	stop_agent
}

# held_post [--attach RE] ARGS...: tls_post in the background with --hold,
# gated on the job's uprobes on a file matching RE (default libssl);
# returns once every body was answered and the connections are held open:
# $HELD_PID is the job (to wait for), $HELD the python process (the flows'
# pid)
held_post() {
	local re=libssl
	[ "$1" = --attach ] && { re="$2"; shift 2; }
	rm -f "$T/held"
	gate_on_attach "$T/gate" "$re"
	in_cg python3 "$TLS_POST" --src "$W/model.safetensors" --ca "$T/ca.pem" --hold "$T/held" \
		--gate "$T/gate" "$@" > "$T/post.out" &
	HELD_PID=$!
	for _ in $(seq 300); do
		[ -e "$T/held" ] && HELD="$(cat "$T/held")" && return 0
		sleep 0.1
	done
	echo "tls_post did not finish: $(cat "$T/post.out")" >&2
	return 1
}

# flow_class PORT: the plaintext class `vigil status` has for the held
# process's flow to PORT (and whether it was ever weights)
flow_class() {
	status_tls "[(f['plaintext_class'], f['seen_weights'], f['library']) for f in t['flows'] if f['pid'] == $HELD and f['dport'] == $1]"
}

@test "tls: interleaved HTTPS connections of one process each get their own plaintext class" {
	start_tls_peer "$PORT" $((PORT + 1)) $((PORT + 2))
	start_agent --mode monitor
	[ "$(status_tls 't["enabled"]')" = True ]
	# one process, three TLS connections, writes alternating chunk by
	# chunk: metrics JSON, the weights base64'd in JSON, the raw weights
	held_post --host "$PEER4" --conn json:"$PORT" --conn b64json:$((PORT + 1)) \
		--conn raw:$((PORT + 2)) --bytes $((512 << 10))
	[ "$(flow_class "$PORT")" = "[('work', False, 'openssl')]" ]
	[ "$(flow_class $((PORT + 1)))" = "[('weights', True, 'openssl')]" ]
	[ "$(flow_class $((PORT + 2)))" = "[('weights', True, 'openssl')]" ]
	# every write was sampled and bound to a socket (32 chunks each + headers)
	[ "$(status_tls 't["sampled"] >= 99 and t["bound"] >= 99')" = True ]
	rm -f "$T/held"
	wait "$HELD_PID"
	[ "$(tls_bytes "$PORT")" -eq $((512 << 10)) ]
	[ "$(tls_bytes $((PORT + 2)))" -eq $((512 << 10)) ]
	# gone with its process: a reused pid gets no stale plaintext
	for _ in $(seq 50); do
		[ "$(status_tls 'len(t["flows"])')" = 0 ] && break
		sleep 0.1
	done
	[ "$(status_tls 'len(t["flows"])')" = 0 ]
	stop_agent
}

@test "tls: the plaintext is still told apart over IPv6" {
	start_tls_peer "$PORT" $((PORT + 1))
	start_agent
	held_post --host "$PEER6" --conn raw:"$PORT" --conn json:$((PORT + 1)) \
		--bytes $((256 << 10))
	[ "$(status_tls "[f['plaintext_class'] for f in t['flows'] if f['daddr'] == '$PEER6' and f['dport'] == $PORT]")" = "['weights']" ]
	[ "$(status_tls "[f['plaintext_class'] for f in t['flows'] if f['daddr'] == '$PEER6' and f['dport'] == $((PORT + 1))]")" = "['work']" ]
	rm -f "$T/held"
	wait "$HELD_PID"
	stop_agent
}

@test "tls: a TLS library outside the loader's cache is attached once a tainted process maps it" {
	# a private copy of libssl (another inode: not attached at start), as a
	# venv or a container image would ship it
	private_libssl
	start_tls_peer "$PORT"
	start_agent
	[ "$(status_tls "[l for l in t['libraries'] if l['path'].startswith('$T')]")" = "[]" ]
	# the job is tainted, then waits for its uprobes on the private copy
	LD_LIBRARY_PATH="$T/lib" held_post --attach "^$T/lib/libssl\\.so\\.3\$" --host "$PEER4" \
		--conn b64json:"$PORT" --bytes $((512 << 10))
	grep -q "$T/lib/libssl.so.3" "/proc/$HELD/maps"
	[ "$(status_tls "[l['functions'] for l in t['libraries'] if l['path'] == '$T/lib/libssl.so.3']")" \
		= "[['SSL_write', 'SSL_write_ex']]" ]
	[ "$(flow_class "$PORT")" = "[('weights', True, 'openssl')]" ]
	rm -f "$T/held"
	wait "$HELD_PID"
	stop_agent
}

# A job holding the weights pushes 2 MiB of JSON through an HTTPS
# connection: more than the set's 1 MiB budget. Its plaintext is work, so
# the HTTPS flow is work. MODE [--connect-first]: a connection made before
# the model load, or (without) a new one made after it, handshake and all.
metrics_push_is_work() {
	start_tls_peer "$PORT"
	start_agent --mode "$1"
	tls_post --host "$PEER4" --conn json:"$PORT" --bytes $((2 << 20)) ${2:-}
	[ "$status" -eq 0 ]
	[ "$(tls_bytes "$PORT")" -eq $((2 << 20)) ]
	if [ -n "${2:-}" ]; then
		run alert_wait network.dport="$PORT" network.content=work network.tls.plaintext_seen=true \
			network.tls.plaintext_class=work network.tls.library=openssl
	else
		# the first alert is the handshake's (work, before any plaintext);
		# 2 MiB past a 1 MiB budget with nothing critical: the records
		# were judged by their plaintext, not as opaque
		run alert_wait network.dport="$PORT" network.content=work rule=work-egress severity=low
	fi
	[ "$status" -eq 0 ]
	run alert_none severity=high
	[ "$status" -eq 0 ]
	run alert_none severity=critical
	[ "$status" -eq 0 ]
	run alert_none action=blocked
	[ "$status" -eq 0 ]
	run alert_none action=killed
	[ "$status" -eq 0 ]
	stop_agent
}

@test "tls: monitor: a tainted job pushing 2 MiB of JSON metrics over HTTPS is work, not above medium" {
	metrics_push_is_work monitor --connect-first
}

@test "tls: enforce: a tainted job pushing 2 MiB of JSON metrics over HTTPS is neither blocked nor killed" {
	metrics_push_is_work enforce --connect-first
}

@test "tls: monitor: a tainted job's NEW HTTPS connection pushing 2 MiB of JSON metrics is work, not above medium" {
	metrics_push_is_work monitor
}

@test "tls: enforce: a tainted job's NEW HTTPS connection pushing 2 MiB of JSON metrics is neither blocked nor killed" {
	metrics_push_is_work enforce
}

# The twins: the same connection that carried the metrics turns to the
# weights, raw or base64 inside JSON.
weights_twin() {
	local kind="$1"
	start_tls_peer "$PORT"
	start_agent --mode enforce
	tls_post --host "$PEER4" --conn json:"$PORT" --then "$kind" --bytes $((2 << 20)) \
		--connect-first
	[ "$status" -ne 0 ]
	# the metrics (work) went through; of the weights, at most the budget
	# plus the classifier's lag: the flow's class follows its last ~8
	# samples (one per 16 KiB SSL_write), so the first weight chunks after
	# 2 MiB of work are still charged as work (CI measured 20,888 B of it)
	local got
	got="$(tls_bytes "$PORT")"
	[ "$got" -ge $((2 << 20)) ]
	[ "$got" -le $(((2 << 20) + (1 << 20) + (8 << 14))) ]
	run alert_wait action=killed severity=critical network.dport="$PORT" \
		network.tls.plaintext_class=weights
	[ "$status" -eq 0 ]
	figure "weights ($kind) after 2 MiB of metrics on one HTTPS connection: body bytes past the metrics (budget 1 MiB)" \
		"$((got - (2 << 20)))"
	stop_agent
}

@test "tls: enforce: the weights raw on the same HTTPS connection are capped at the budget, killed, critical" {
	weights_twin raw
}

@test "tls: enforce: the weights base64 in JSON on the same HTTPS connection are capped, killed, critical" {
	weights_twin b64json
}

# A forked child shares its parent's TLS connection and its plaintext
# statistics (work, from the parent's metrics), but not its uprobes: those
# are filtered by the parent's mm. Until the worker attached the child, its
# writes are unseen, and its TLS is opaque, budgeted like weights (fail
# closed) — never the parent socket's work. Each attach held 2 s
# (VIGIL_TLS_ATTACH_DELAY_MS): the child's 2 MiB of weights all leave
# before its own. Fails on an agent that trusts the socket's class for an
# unattached sender (2 MiB out as work), and on host-wide uprobes (the
# child's plaintext seen: weights, not opaque).
@test "tls: enforce: a forked child's weights on its parent's HTTPS connection before its attach are opaque, capped, killed" {
	start_tls_peer "$PORT"
	VIGIL_TLS_ATTACH_DELAY_MS=2000 start_agent --mode enforce
	tls_post --host "$PEER4" --conn json:"$PORT" --then raw --fork --bytes $((2 << 20)) \
		--connect-first
	[ "$status" -ne 0 ]
	local got
	got="$(tls_bytes "$PORT")"
	[ "$got" -ge $((2 << 20)) ]
	[ "$got" -le $(((2 << 20) + (1 << 20) + (64 << 10))) ]
	run alert_wait action=killed network.dport="$PORT" network.content=opaque \
		network.tls.plaintext_seen=false
	[ "$status" -eq 0 ]
	figure "forked child's weights before its attach, after 2 MiB of metrics on the parent's HTTPS connection: body bytes past the metrics (budget 1 MiB)" \
		"$((got - (2 << 20)))"
	stop_agent
}

# The same child, once the worker attached it (it waits for its own
# uprobes and watched mark): its plaintext is seen, its JSON is work.
@test "tls: enforce: a forked child's JSON on its parent's HTTPS connection after its attach is work, not stopped" {
	start_tls_peer "$PORT"
	start_agent --mode enforce
	tls_post --host "$PEER4" --conn json:"$PORT" --then json --fork --child-gate \
		--bytes $((2 << 20)) --connect-first
	[ "$status" -eq 0 ]
	[ "$(tls_bytes "$PORT")" -eq $((4 << 20)) ]
	run alert_none action=killed
	[ "$status" -eq 0 ]
	run alert_none action=blocked
	[ "$status" -eq 0 ]
	run alert_none severity=critical
	[ "$status" -eq 0 ]
	stop_agent
}

@test "tls: monitor: the weights on the same HTTPS connection are alerted critical, not stopped" {
	start_tls_peer "$PORT"
	start_agent --mode monitor
	tls_post --host "$PEER4" --conn json:"$PORT" --then raw --bytes $((2 << 20)) --connect-first
	[ "$status" -eq 0 ]
	[ "$(tls_bytes "$PORT")" -eq $((4 << 20)) ]
	run alert_wait rule=weights-egress-budget severity=critical action=alert \
		enforce_action=killed network.tls.plaintext_class=weights
	[ "$status" -eq 0 ]
	stop_agent
}

# The alert raised when a flow's budget is crossed (monitor: a small
# budget, one agent per client: a set's budget is spent once) comes long
# after the first plaintext: it says what was seen.
@test "tls: curl (OpenSSL) child of a tainted job: the budget alert says the plaintext" {
	start_tls_peer "$PORT"
	start_agent --budget 64K
	tls_post --host "$PEER4" --conn raw:"$PORT" --via curl --bytes $((300 << 10))
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress-budget process.comm=curl network.dport="$PORT" \
		network.tls.plaintext_seen=true network.tls.plaintext_class=weights \
		network.tls.library=openssl
	[ "$status" -eq 0 ]
	stop_agent
}

# An exec'd client's libraries are attached before its loader maps them:
# curl is stopped right after its execve (traced), before ld.so ran, and
# held there until the agent lists it attached to libssl and watched. The
# maps had no libssl then: the attach came from the executable's DT_NEEDED
# closure, read at the EXEC record; the kernel placed the breakpoint when
# the loader mapped the library. Without the closure the gate times out
# (nothing mapped to attach) and the test fails on its wait.
@test "tls: curl stopped at its exec, before its loader ran, is attached to the libssl it will map" {
	start_tls_peer "$PORT"
	start_agent --budget 64K
	tls_post --host "$PEER4" --conn raw:"$PORT" --via curl --stop-at-exec --bytes $((300 << 10))
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | python3 -c 'import json, sys
c = json.load(sys.stdin)["child"]
print(c["tls_mapped"], c["tls_mapped_at_gate"], c["gate_wait_s"] < 8)')" = "0 0 True" ]
	run alert_wait rule=weights-egress-budget process.comm=curl network.dport="$PORT" \
		network.tls.plaintext_seen=true network.tls.plaintext_class=weights \
		network.tls.library=openssl
	[ "$status" -eq 0 ]
	stop_agent
}

@test "tls: gnutls-cli (GnuTLS) child of a tainted job: the budget alert says the plaintext" {
	start_tls_peer "$PORT"
	start_agent --budget 64K
	tls_post --host "$PEER4" --conn raw:"$PORT" --via gnutls-cli --bytes $((300 << 10))
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress-budget process.comm=gnutls-cli network.dport="$PORT" \
		network.tls.plaintext_seen=true network.tls.plaintext_class=weights \
		network.tls.library=gnutls
	[ "$status" -eq 0 ]
	stop_agent
}

@test "tls: enforce: Go's crypto/tls with symbols pushes 2 MiB of JSON; a stripped Go binary's TLS is opaque and capped" {
	[ -x "$TLS_GO" ] || { echo "build first: make scenarios" >&2; return 1; }
	start_tls_peer "$PORT" $((PORT + 1))
	start_agent --mode enforce
	gate_on_attach "$T/gate" 'tls_post_go$'
	run in_cg "$TLS_GO" -src "$W/model.safetensors" -ca "$T/ca.pem" -addr "$PEER4:$PORT" \
		-kind json -bytes $((2 << 20)) -connect-first -gate "$T/gate"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(tls_bytes "$PORT")" -eq $((2 << 20)) ]
	run alert_wait network.dport="$PORT" network.tls.plaintext_class=work network.tls.library=go
	[ "$status" -eq 0 ]
	# no symbol to attach to: the same push is opaque, budgeted like weights
	run in_cg "${TLS_GO}_stripped" -src "$W/model.safetensors" -ca "$T/ca.pem" \
		-addr "$PEER4:$((PORT + 1))" -kind json -bytes $((2 << 20)) -connect-first
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$(tls_bytes $((PORT + 1)))" -le $((1 << 20)) ]
	run alert_wait action=killed network.dport=$((PORT + 1)) network.content=opaque \
		network.tls.plaintext_seen=false
	[ "$status" -eq 0 ]
	run alert_none network.dport=$((PORT + 1)) network.tls.plaintext_seen=true
	[ "$status" -eq 0 ]
	stop_agent
}

@test "tls: enforce without uprobes: a tainted TLS flow is opaque and capped at the budget" {
	start_tls_peer "$PORT"
	start_agent --mode enforce --hooks -uprobe
	[ "$(status_tls 't["enabled"]')" = False ]
	tls_post --host "$PEER4" --conn json:"$PORT" --bytes $((2 << 20)) --connect-first
	[ "$status" -ne 0 ]
	[ "$(tls_bytes "$PORT")" -le $((1 << 20)) ]
	run alert_wait action=killed network.dport="$PORT" network.content=opaque \
		network.tls.plaintext_seen=false
	[ "$status" -eq 0 ]
	run alert_none network.tls.plaintext_seen=true
	[ "$status" -eq 0 ]
	stop_agent
}
