#!/usr/bin/env bats
# Hostile input against a real agent and the CLI: rule files that would hang
# or explode a SIGHUP reload, output paths that are links or someone else's,
# an alert reader that goes away, captures cut short, names with newlines.
# Each failed safely before it was fixed only by luck; see docs/SECURITY.md.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

good_rule() {
	cat > "$1" <<-YAML
	rule:
	  - id: site-hostile-ok
	    condition: evt.type = egress
	    severity: low
	YAML
}

@test "hostile-input: SIGHUP with a FIFO named *.yaml in the rules directory is refused, not waited on" {
	start_sink tcp
	mkdir "$T/rules.d"
	good_rule "$T/rules.d/10-site.yaml"
	start_agent --rules "$T/rules.d"
	mkfifo "$T/rules.d/20-fifo.yaml"
	kill -HUP "$AGENT_PID"
	# the event loop used to block in open() forever: no error, no alerts
	run alert_wait --timeout 10 kind=agent_error message~"reload refused" \
		message~"20-fifo.yaml: not a regular file (a FIFO)"
	[ "$status" -eq 0 ]
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=site-hostile-ok
	[ "$status" -eq 0 ]
	run alert_none kind=agent_reload
	[ "$status" -eq 0 ]
	stop_agent
}

@test "hostile-input: SIGHUP refuses rule bombs at once and keeps the running rules" {
	start_sink tcp
	good_rule "$T/site.yaml"
	start_agent --rules "$T/site.yaml"
	# 400 KB of nested flow sequences (libyaml alone took > 20 s)
	python3 -c 'import sys; sys.stdout.write("rule: " + "[" * 200000 + "]" * 200000 + "\n")' \
		> "$T/site.yaml"
	kill -HUP "$AGENT_PID"
	run alert_wait --timeout 10 kind=agent_error message~"site.yaml:1:70: nested deeper than 64"
	[ "$status" -eq 0 ]
	# append: true through aliases (quadratic), protect sets through aliases (315 MB)
	python3 - "$T/site.yaml" <<-'PY'
	import sys
	s = "rule:\n  - id: site-hostile-ok\n    condition: evt.type = egress\n"
	s += "  - &a {id: site-hostile-ok, append: true, condition: 'and net.dport = 443'}\n"
	s += "  - *a\n" * 3000
	open(sys.argv[1], "w").write(s)
	PY
	kill -HUP "$AGENT_PID"
	run alert_wait --timeout 10 kind=agent_error message~"more than 1024 aliases"
	[ "$status" -eq 0 ]
	python3 - "$T/site.yaml" "$W" <<-'PY'
	import sys
	paths = "[" + ",".join("%s/p%d/**" % (sys.argv[2], i) for i in range(300)) + "]"
	s = "protect:\n  - &s {name: bomb, paths: " + paths + "}\n" + "  - *s\n" * 2000
	open(sys.argv[1], "w").write(s)
	PY
	kill -HUP "$AGENT_PID"
	run alert_wait --timeout 10 kind=agent_error message~"aliases expand to more than"
	[ "$status" -eq 0 ]
	# a second document, silently ignored before (even an invalid one)
	good_rule "$T/site.yaml"
	printf -- '---\nrule: [{id: bad}]\n' >> "$T/site.yaml"
	kill -HUP "$AGENT_PID"
	run alert_wait --timeout 10 kind=agent_error message~"site.yaml:5:1: a second YAML document"
	[ "$status" -eq 0 ]
	# an embedded NUL used to cut a path short
	printf 'protect:\n  - name: nul\n    paths: ["%s/ok\\0/../.."]\n' "$W" > "$T/site.yaml"
	kill -HUP "$AGENT_PID"
	run alert_wait --timeout 10 kind=agent_error message~"site.yaml:3:13: scalar holds a NUL"
	[ "$status" -eq 0 ]
	# none applied: the first rules still alert, no reload happened
	run alert_none kind=agent_reload
	[ "$status" -eq 0 ]
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=site-hostile-ok
	[ "$status" -eq 0 ]
	stop_agent
	figure "max_rss_kib after five refused bombs" "$(alert_get agent.max_rss_kib kind=agent_stop)"
}

@test "hostile-input: rules validate refuses /dev/zero, a FIFO and a file over 1 MiB at once" {
	run timeout 10 "$VIGIL" rules validate /dev/zero
	[ "$status" -eq 1 ]
	[ "$output" = "/dev/zero: not a regular file (a character device)" ]
	mkfifo "$T/fifo.yaml"
	run timeout 10 "$VIGIL" rules validate "$T/fifo.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"fifo.yaml: not a regular file (a FIFO)"* ]]
	head -c $((1 << 20)) /dev/zero | tr '\0' '#' > "$T/big.yaml"
	echo >> "$T/big.yaml"
	run timeout 10 "$VIGIL" rules validate "$T/big.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"big.yaml: too big (1048577 bytes, at most 1048576)"* ]]
}

@test "hostile-input: --alerts and --record never write through a link or into another user's file" {
	echo precious > "$T/victim"
	ln -s "$T/victim" "$T/alerts-link"
	run timeout 20 "$VIGIL" run --no-default-rules --cgroup "$CG" --protect "$W/**" --alerts "$T/alerts-link"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--alerts $T/alerts-link: is a symbolic link"* ]]
	ln -s "$T/victim" "$T/capture-link"
	run timeout 20 "$VIGIL" run --no-default-rules --cgroup "$CG" --protect "$W/**" --alerts "$T/a.jsonl" \
		--record "$T/capture-link"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--record $T/capture-link: is a symbolic link"* ]]
	[ "$(cat "$T/victim")" = precious ]
	: > "$T/theirs.jsonl"
	chown nobody "$T/theirs.jsonl"
	run timeout 20 "$VIGIL" run --no-default-rules --cgroup "$CG" --protect "$W/**" --alerts "$T/theirs.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"owned by uid $(id -u nobody)"* ]]
	# what the agent creates is root's alone (a capture holds command lines)
	umask 022
	start_agent --record "$T/capture.gz"
	stop_agent
	[ "$(stat -c %a "$ALERTS")" = 600 ]
	[ "$(stat -c %a "$T/capture.gz")" = 600 ]
	run "$VIGIL" replay "$T/capture.gz" --no-default-rules
	[ "$status" -eq 0 ]
}

@test "hostile-input: an alert reader that goes away does not kill the agent" {
	start_sink tcp
	mkfifo "$T/pipe"
	"$VIGIL" run --no-default-rules --rules "$DETECT_RULES" --cgroup "$CG" --protect "$W/**" \
		--alerts - --stats-interval 0 > "$T/pipe" 2>"$AGENT_ERR" &
	AGENT_PID=$!
	# the reader takes the first line (agent_start) and leaves
	timeout 30 head -n 1 "$T/pipe" > "$T/first"
	grep -q '"kind":"agent_start"' "$T/first"
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	for _ in $(seq 100); do grep -q "alert output: Broken pipe" "$AGENT_ERR" && break; sleep 0.1; done
	# SIGPIPE used to end it here: no agent_stop, enforcement detached
	grep -q "alert output: Broken pipe" "$AGENT_ERR"
	kill -0 "$AGENT_PID"
	kill -TERM "$AGENT_PID"
	local rc=0
	wait "$AGENT_PID" || rc=$?
	AGENT_PID=""
	[ "$rc" = 0 ]
	[ "$(grep -c 'Broken pipe' "$AGENT_ERR")" = 1 ]	# said once, then counted
}

@test "hostile-input: a capture cut short by a killed recorder replays with an error, not silently" {
	start_sink tcp
	start_agent --record "$T/capture.gz"
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress
	[ "$status" -eq 0 ]
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" || true
	AGENT_PID=""
	run "$VIGIL" replay "$T/capture.gz" --no-default-rules --rules "$DETECT_RULES"
	[ "$status" -eq 2 ]
	# what was recorded still replays, and the loss is named
	[[ "$output" == *'"rule":"weights-egress"'* ]]
	[[ "$output" == *"capture.gz:"*": corrupt capture: the compressed stream ends early"* ]]
	# bytes after a whole capture are refused too (a fresh alerts file: the
	# first agent's agent_start must not satisfy the wait for the second's)
	ALERTS="$T/alerts-2.jsonl"
	start_agent --record "$T/whole.gz"
	stop_agent
	cp "$T/whole.gz" "$T/trailing.gz"
	echo '{"event":"egress"}' >> "$T/trailing.gz"
	run "$VIGIL" replay "$T/trailing.gz" --no-default-rules
	[ "$status" -eq 2 ]
	[[ "$output" == *"bytes after the end of the compressed stream"* ]]
}

@test "hostile-input: a file name with a newline cannot forge a line on stderr" {
	local name="$T/"$'x.yaml\nvigil: rules reloaded: 0 rules'
	printf 'rule: [\n' > "$name"
	run "$VIGIL" rules validate --no-default-rules "$name"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'x.yaml\nvigil: rules reloaded'* ]]
	# and on the agent's stderr, a refused reload naming it
	mkdir "$T/rules.d"
	good_rule "$T/rules.d/10-ok.yaml"
	start_agent --rules "$T/rules.d"
	printf 'rule: [\n' > "$T/rules.d/"$'20-x\nvigil: forged.yaml'
	kill -HUP "$AGENT_PID"
	run alert_wait kind=agent_error message~"reload refused"
	[ "$status" -eq 0 ]
	run grep -c '^vigil: forged' "$AGENT_ERR"
	[ "$output" = 0 ]
	grep -q '20-x\\nvigil: forged.yaml:2:1: YAML syntax error' "$AGENT_ERR"
	stop_agent
}
