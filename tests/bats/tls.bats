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
	run "$VIGIL" check --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["capabilities"]["tls"]["implementation"].startswith("uprobe "), c["capabilities"]["tls"]
libs = {l["path"].rsplit("/", 1)[1]: l["functions"] for l in c["tls_libraries"]}
assert libs["libssl.so.3"] == ["SSL_write", "SSL_write_ex"], libs
assert libs["libgnutls.so.30"] == ["gnutls_record_send"], libs'
	# without uprobes the capability is blind and says what that means
	run "$VIGIL" check --hooks -uprobe
	[[ "$output" == *"tls           blind"* ]]
	[[ "$output" == *"every tainted TLS flow is opaque"* ]]
}

# held_post ARGS...: tls_post in the background with --hold; returns once
# every body was answered and the connections are held open: $HELD_PID is
# the job (to wait for), $HELD the python process (the flows' pid)
held_post() {
	rm -f "$T/held"
	in_cg python3 "$TLS_POST" --src "$W/model.safetensors" --ca "$T/ca.pem" --hold "$T/held" \
		"$@" > "$T/post.out" &
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
	mkdir -p "$T/lib"
	cp "$(python3 -c 'import ssl, re; print(re.search(r"\S*libssl\.so\.3", open("/proc/self/maps").read()).group(0))')" \
		"$T/lib/libssl.so.3"
	start_tls_peer "$PORT"
	start_agent
	[ "$(status_tls "[l for l in t['libraries'] if l['path'].startswith('$T')]")" = "[]" ]
	# the job is tainted, then waits: the attach is the agent's answer to the
	# taint record, and a job that writes before it lands is not seen (the
	# flow is opaque then; that race is not what this test is about)
	rm -f "$T/gate"
	(
		for _ in $(seq 100); do
			[ "$(status_tls "[l['functions'] for l in t['libraries'] if l['path'] == '$T/lib/libssl.so.3']")" \
				= "[['SSL_write', 'SSL_write_ex']]" ] && break
			sleep 0.1
		done
		touch "$T/gate"
	) &
	LD_LIBRARY_PATH="$T/lib" held_post --host "$PEER4" --conn b64json:"$PORT" \
		--bytes $((512 << 10)) --gate "$T/gate"
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
	run in_cg "$TLS_GO" -src "$W/model.safetensors" -ca "$T/ca.pem" -addr "$PEER4:$PORT" \
		-kind json -bytes $((2 << 20)) -connect-first
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
