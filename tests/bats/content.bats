#!/usr/bin/env bats
# Content classes with the default pack: a model server that loaded the
# weights answers a remote client all day (work: low alerts at most, never
# blocked or killed, in both modes); its attack twins through the same
# process and port (the weights raw, base64 in JSON, hex, gzip, AES) are
# alerted critical and, in enforce mode, capped at the budget and killed.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

BUDGET=$((1 << 20))
SERVER="$SCEN/model_server.py"
CLIENT="$SCEN/model_client.py"

# serve ARGS...: the model server (tainted: it loads $W/model.safetensors)
# in the agent's cgroup, listening on this host's $HOST4:$PORT.
serve() {
	local ready="$T/server.ready"
	rm -f "$ready"
	in_cg python3 "$SERVER" --weights "$W/model.safetensors" --host "$HOST4" --port "$PORT" \
		--ready "$ready" "$@" >"$T/server.out" 2>&1 &
	SERVER_PID=$!
	SINK_PIDS="$SINK_PIDS $SERVER_PID"
	for _ in $(seq 100); do [ -e "$ready" ] && return 0; sleep 0.05; done
	echo "server did not start" >&2
	cat "$T/server.out" >&2
	return 1
}

# ask N [ARGS...]: the remote client (in the test host) sends N requests on
# one connection; sets status/output.
ask() {
	local n="$1"
	shift
	run ip netns exec "$NS" python3 "$CLIENT" --host "$HOST4" --port "$PORT" --requests "$n" \
		--timeout 4 "$@"
}

json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# server_exit: SERVER_RC = the server's exit status, once it is gone (not
# in a $(...) subshell: only this shell can wait for it).
server_exit() {
	SERVER_RC=0
	wait "$SERVER_PID" || SERVER_RC=$?
}

# no_alert_above_medium: nothing high or critical was raised.
no_alert_above_medium() {
	run alert_none kind=alert severity=high
	[ "$status" -eq 0 ]
	run alert_none kind=alert severity=critical
	[ "$status" -eq 0 ]
}

@test "content: a model server answering 2000 completions is work, in monitor mode" {
	start_agent
	serve --serve completions
	ask 2000
	[ "$status" -eq 0 ]
	[ "$(json_field "$output" answers)" -eq 2000 ]
	got="$(json_field "$output" body_bytes)"
	figure "completion bytes answered (budget $BUDGET)" "$got"
	[ "$got" -gt "$BUDGET" ]
	server_exit
	[ "$SERVER_RC" -eq 0 ]
	# an accepted connection: inbound, from the server's listening port
	run alert_wait rule=work-egress severity=low network.content=work network.daddr="$PEER4" \
		network.direction=inbound network.lport="$PORT"
	[ "$status" -eq 0 ]
	stop_agent
	no_alert_above_medium
}

@test "content: a model server answering 2000 completions is not blocked in enforce mode" {
	start_agent --mode enforce
	serve --serve completions
	ask 2000
	[ "$status" -eq 0 ]
	[ "$(json_field "$output" answers)" -eq 2000 ]
	[ "$(json_field "$output" body_bytes)" -gt "$BUDGET" ]
	server_exit
	[ "$SERVER_RC" -eq 0 ]
	run alert_wait rule=work-egress network.content=work mode=enforce
	[ "$status" -eq 0 ]
	stop_agent
	no_alert_above_medium
	run alert_none kind=alert action=killed
	[ "$status" -eq 0 ]
}

@test "content: an embedding server's float vectors are work, in both modes" {
	for mode in monitor enforce; do
		ALERTS="$T/alerts-$mode.jsonl"
		start_agent --mode "$mode"
		serve --serve embeddings
		ask 300
		[ "$status" -eq 0 ]
		[ "$(json_field "$output" body_bytes)" -gt "$BUDGET" ]
		server_exit
		[ "$SERVER_RC" -eq 0 ]
		run alert_wait rule=work-egress network.content=work
		[ "$status" -eq 0 ]
		stop_agent
		no_alert_above_medium
	done
}

@test "content: the same server streaming the weights raw, as base64 JSON, hex, gzip, AES is capped and killed" {
	for form in raw base64-json hex gzip aes; do
		ALERTS="$T/alerts-$form.jsonl"
		start_agent --mode enforce
		serve --serve "$form"
		ask 1
		[ "$status" -eq 1 ]
		got="$(json_field "$output" body_bytes)"
		figure "$form: body bytes that reached the client (budget $BUDGET)" "$got"
		[ "$got" -le "$BUDGET" ]
		server_exit
		[ "$SERVER_RC" -eq 137 ]
		run alert_wait rule=weights-egress-budget severity=critical action=killed \
			network.content=weights
		[ "$status" -eq 0 ]
		stop_agent
	done
}

@test "content: the weights streamed in monitor mode are alerted critical, not stopped" {
	start_agent
	serve --serve base64-json
	ask 1
	[ "$status" -eq 0 ]
	server_exit
	[ "$SERVER_RC" -eq 0 ]
	run alert_wait rule=weights-egress-budget severity=critical enforce_action=killed \
		network.content=weights
	[ "$status" -eq 0 ]
	stop_agent
}

@test "content: answers that turn into the weights on the same connection are caught" {
	# monitor: the flow's bytes are reported as they turn
	ALERTS="$T/alerts-monitor.jsonl"
	start_agent
	serve --serve completions --then hex --after 200
	ask 201
	[ "$status" -eq 0 ]
	server_exit
	[ "$SERVER_RC" -eq 0 ]
	run alert_wait rule=work-egress network.content=work
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-content severity=critical network.content=weights
	[ "$status" -eq 0 ]
	stop_agent
	# enforce: the send that turns is judged before it is queued, and killed
	ALERTS="$T/alerts-enforce.jsonl"
	start_agent --mode enforce
	serve --serve completions --then hex --after 200
	ask 201
	[ "$status" -eq 1 ]
	[ "$(json_field "$output" answers)" -eq 200 ]
	server_exit
	[ "$SERVER_RC" -eq 137 ]
	run alert_wait rule=weights-egress-budget action=killed network.content=weights
	[ "$status" -eq 0 ]
}

@test "content: work is held to the destination's work budget" {
	start_agent --mode enforce --work-budget 256KiB
	serve --serve completions
	ask 2000
	[ "$status" -eq 1 ]
	got="$(json_field "$output" body_bytes)"
	figure "work bytes that reached the client (work budget 256 KiB)" "$got"
	[ "$got" -le $((256 << 10)) ]
	server_exit
	[ "$SERVER_RC" -eq 137 ]
	run alert_wait rule=weights-egress-budget action=killed network.content=work
	[ "$status" -eq 0 ]
}

@test "content: a declared service's TLS answers are work; undeclared they are opaque and capped" {
	# undeclared: ciphertext the TLS probes did not see is opaque, charged to
	# the set's budget like weights: killed at the budget in enforce mode
	ALERTS="$T/alerts-undeclared.jsonl"
	start_agent --mode enforce
	serve --serve tls
	ask 2000 --tls
	[ "$status" -eq 1 ]
	[ "$(json_field "$output" body_bytes)" -le "$BUDGET" ]
	server_exit
	[ "$SERVER_RC" -eq 137 ]
	run alert_wait rule=weights-egress-budget action=killed network.content=opaque
	[ "$status" -eq 0 ]
	stop_agent
	# declared (--serve PORT): the same answers are work, nothing above medium
	for mode in monitor enforce; do
		ALERTS="$T/alerts-declared-$mode.jsonl"
		start_agent --mode "$mode" --serve "$PORT"
		serve --serve tls
		ask 2000 --tls
		[ "$status" -eq 0 ]
		[ "$(json_field "$output" body_bytes)" -gt "$BUDGET" ]
		server_exit
		[ "$SERVER_RC" -eq 0 ]
		run alert_wait rule=work-egress network.content=work network.direction=inbound
		[ "$status" -eq 0 ]
		stop_agent
		no_alert_above_medium
	done
	# and a declared service streaming the weights is still caught
	ALERTS="$T/alerts-declared-raw.jsonl"
	start_agent --mode enforce --serve "$PORT"
	serve --serve raw
	ask 1
	[ "$status" -eq 1 ]
	[ "$(json_field "$output" body_bytes)" -le "$BUDGET" ]
	server_exit
	[ "$SERVER_RC" -eq 137 ]
	run alert_wait rule=weights-egress-budget action=killed network.content=weights
	[ "$status" -eq 0 ]
}

@test "content: a serve: entry in a rule file, scoped to the server's executable, with its own work budget" {
	printf 'serve:\n  - name: inference\n    port: %s\n    exe: ["%s"]\n    work_budget: 256KiB\n    window: 1h\n' \
		"$PORT" "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')" \
		>"$T/serve.yaml"
	start_agent --mode enforce --rules "$T/serve.yaml"
	serve --serve tls
	ask 2000 --tls
	[ "$status" -eq 1 ]
	got="$(json_field "$output" body_bytes)"
	figure "declared service's work bytes that reached the client (work budget 256 KiB)" "$got"
	[ "$got" -le $((256 << 10)) ]
	server_exit
	[ "$SERVER_RC" -eq 137 ]
	run alert_wait rule=weights-egress-budget action=killed network.content=work
	[ "$status" -eq 0 ]
}

# A job that loaded the weights, then opens NEW connections (after the read)
# to download a 64 MiB dataset over HTTP and to post 2 MiB of JSON metrics:
# neither blocked nor killed, nothing above medium, in both modes, default
# pack and no site configuration (issue 14: enforce judges what is sent, it
# does not refuse new destinations).
# start_dataset_server BYTES: the test host's HTTP server (GET /data answers
# BYTES of a dataset, POST /metrics takes a body), ready when this returns
start_dataset_server() {
	local ready="$T/data.ready"
	ip netns exec "$NS" python3 "$SCEN/dataset_job.py" serve --host "$PEER4" --port "$PORT" \
		--ready "$ready" --size "$1" &
	SINK_PIDS="$SINK_PIDS $!"
	for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.05; done
	[ -e "$ready" ]
}

dataset_job_is_work() {
	start_dataset_server $((64 << 20))
	start_agent --mode "$1"
	run in_cg python3 "$SCEN/dataset_job.py" job --src "$W/model.safetensors" --host "$PEER4" \
		--port "$PORT" --get $((64 << 20)) --post $((2 << 20))
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(json_field "$output" got)" -eq $((64 << 20)) ]
	[ "$(json_field "$output" posted)" -eq $((2 << 20)) ]
	run alert_wait rule=weights-connect severity=low network.daddr="$PEER4"
	[ "$status" -eq 0 ]
	run alert_wait rule=work-egress network.content=work network.daddr="$PEER4"
	[ "$status" -eq 0 ]
	stop_agent
	no_alert_above_medium
	run alert_none kind=alert action=blocked
	[ "$status" -eq 0 ]
	run alert_none kind=alert action=killed
	[ "$status" -eq 0 ]
}

@test "content: monitor: a tainted job's new connections download a 64 MiB dataset and post 2 MiB of metrics: not above medium" {
	dataset_job_is_work monitor
}

@test "content: enforce: a tainted job's new connections download a 64 MiB dataset and post 2 MiB of metrics: neither blocked nor killed" {
	dataset_job_is_work enforce
}

# The same download by a curl child of the job (curl is an upload tool in
# the default pack: its kill rules wait for weights-shaped bytes, not for
# its connect): the dataset arrives, nothing is killed, in both modes.
curl_download_is_work() {
	start_dataset_server $((16 << 20))
	start_agent --mode "$1"
	run in_cg python3 -c 'import subprocess, sys
open(sys.argv[1], "rb").read()	# the read that taints the job
sys.exit(subprocess.run(["curl", "-sS", "--fail", "-o", sys.argv[2], sys.argv[3]]).returncode)' \
		"$W/model.safetensors" "$T/dataset.bin" "http://$PEER4:$PORT/data"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$T/dataset.bin")" -eq $((16 << 20)) ]
	run alert_wait rule=weights-connect process.comm=curl network.daddr="$PEER4"
	[ "$status" -eq 0 ]
	stop_agent
	no_alert_above_medium
	run alert_none kind=alert action=killed
	[ "$status" -eq 0 ]
	run alert_none kind=alert enforce_action=killed
	[ "$status" -eq 0 ]
}

@test "content: monitor: a curl child of a tainted job downloads a dataset: no kill rule fires" {
	curl_download_is_work monitor
}

@test "content: enforce: a curl child of a tainted job downloads a dataset: not killed" {
	curl_download_is_work enforce
}
