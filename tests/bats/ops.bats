#!/usr/bin/env bats
# Operating vigil: make install, the settings file, the systemd unit's
# contract (READY after agent_start, reload that fails when refused, exit 2
# on bad settings, the capability set), the control socket.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

UNIT="$VIGIL_ROOT/packaging/vigil.service"

@test "install: make install DESTDIR= lays out binary, unit, settings and rules.d; upgrades keep settings" {
	dest="$T/dest"
	run make -C "$VIGIL_ROOT" -s install DESTDIR="$dest" PREFIX=/usr
	[ "$status" -eq 0 ]
	[ -x "$dest/usr/bin/vigil" ]
	[ -f "$dest/usr/lib/systemd/system/vigil.service" ]
	[ "$(stat -c %a "$dest/etc/vigil")" = 700 ]
	[ "$(stat -c %a "$dest/etc/vigil/vigil.yaml")" = 600 ]
	[ -d "$dest/etc/vigil/rules.d" ]
	[ -f "$dest/usr/share/doc/vigil/OPERATIONS.md" ]
	grep -q '^ExecStart=/usr/bin/vigil run' "$dest/usr/lib/systemd/system/vigil.service"
	grep -q '^ExecReload=/usr/bin/vigil reload' "$dest/usr/lib/systemd/system/vigil.service"
	# an upgrade never overwrites the operator's settings
	echo "mode: enforce" >> "$dest/etc/vigil/vigil.yaml"
	run make -C "$VIGIL_ROOT" -s install DESTDIR="$dest" PREFIX=/usr
	[ "$status" -eq 0 ]
	grep -q '^mode: enforce' "$dest/etc/vigil/vigil.yaml"
	# the shipped settings file is valid: the agent starts on it
	sed -i '/^mode: enforce/d' "$dest/etc/vigil/vigil.yaml"
	# its paths point at the host: keep this agent's in the test (it pins)
	pin_setup
	launched_agent "$dest/usr/bin/vigil" run --config "$dest/etc/vigil/vigil.yaml" \
		--rules "$dest/etc/vigil/rules.d" --no-default-rules --protect "$W/**" \
		--cgroup "$CG" --alerts "$ALERTS" --run-dir "$VIGIL_RUN_DIR" --pin-dir "$PIN_DIR" \
		--state-file "$T/state"
	[ "$(alert_get mode kind=agent_start)" = monitor ]
	[ -d "$PIN_DIR/links" ]
	[ "$(alert_get config kind=agent_start)" = "$dest/etc/vigil/vigil.yaml" ]
	stop_agent
	grep -q '^vigil-state 1$' "$T/state"
}

@test "install: the unit passes systemd-analyze verify and its security exposure is OK" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze missing"
	dest="$T/dest"
	make -C "$VIGIL_ROOT" -s install DESTDIR="$dest" PREFIX=/usr
	# verify checks the executables exist: point them into DESTDIR
	mkdir -p "$T/unit"
	sed "s|=/usr/bin/vigil|=$dest/usr/bin/vigil|" "$dest/usr/lib/systemd/system/vigil.service" \
		> "$T/unit/vigil.service"
	run systemd-analyze verify "$T/unit/vigil.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run systemd-analyze security --offline=yes "$T/unit/vigil.service"
	score="$(echo "$output" | sed -n 's/.*Overall exposure level for vigil.service: \([0-9.]*\).*/\1/p')"
	figure "systemd-analyze security exposure" "$score"
	[ -n "$score" ]
	# 7.6 EXPOSED before; OK is below 4.0 on systemd's scale
	awk -v s="$score" 'BEGIN { exit !(s < 4.0) }'
}

@test "config: every run flag is a key; the command line overrides it" {
	bats_require_minimum_version 1.5.0
	cat > "$T/vigil.yaml" <<-YAML
	mode: enforce
	protect:
	  - $W/**
	rules: [$DETECT_RULES]
	no_default_rules: true
	alerts: $ALERTS
	cgroup: $CG
	budget: 64KiB
	stats_interval: 1
	YAML
	launched_agent "$VIGIL" run --config "$T/vigil.yaml"
	[ "$(alert_get mode kind=agent_start)" = enforce ]
	[ "$(alert_get sets.0.budget_bytes kind=agent_start)" = 65536 ]
	[ "$(alert_get cgroup kind=agent_start)" = "/$(basename "$CG")" ]
	run alert_wait --timeout 5 kind=agent_stats
	[ "$status" -eq 0 ]
	stop_agent
	rm -f "$ALERTS"
	# flags win over keys; a list flag replaces the file's list
	mkdir -p "$T/other"
	launched_agent "$VIGIL" run --config "$T/vigil.yaml" --mode monitor --budget 2MiB \
		--protect "$T/other/**" --stats-interval 0
	[ "$(alert_get mode kind=agent_start)" = monitor ]
	[ "$(alert_get sets.0.budget_bytes kind=agent_start)" = 2097152 ]
	run alert_get sets.0.paths kind=agent_start
	[[ "$output" == *"$T/other/**"* ]]
	[[ "$output" != *"$W/**"* ]]
	stop_agent
	# every option of `vigil run --help` is a key the file accepts
	for opt in $("$VIGIL" run --help | grep -o -- '--[a-z-]*' | sort -u); do
		case "$opt" in --config|--no-config|--help) continue ;; esac
		key="$(echo "${opt#--}" | tr - _)"
		echo "$key: {x: y}" > "$T/key.yaml"
		run --separate-stderr timeout 20 "$VIGIL" run --config "$T/key.yaml" --cgroup "$CG" \
			--alerts "$T/key.jsonl"
		[ "$status" -eq 2 ]
		[[ "$stderr" != *"unknown setting"* ]] || { echo "no key $key"; false; }
	done
}

# bad_config TEXT WANT: the agent refuses TEXT with WANT on stderr, exit 2, no agent_start
bad_config() {
	printf '%b' "$1" > "$T/bad.yaml"
	run --separate-stderr "$VIGIL" run --config "$T/bad.yaml" --cgroup "$CG" --alerts "$ALERTS"
	[ "$status" -eq 2 ] || { echo "exit $status for: $1"; return 1; }
	[[ "$stderr" == *"$2"* ]] || { echo "stderr '$stderr' lacks '$2'"; return 1; }
	[ ! -s "$ALERTS" ]
}

@test "config: bad settings are refused with file:line:column and exit 2 (the unit does not restart)" {
	bats_require_minimum_version 1.5.0
	bad_config 'mode: loud\n' "$T/bad.yaml:1:7: mode: 'loud': expected monitor or enforce"
	bad_config 'mode: enforce\nbogus: 1\n' "$T/bad.yaml:2:1: unknown setting 'bogus'"
	bad_config 'protect:\n  - /a/**\n  - relative\n' "$T/bad.yaml:3:5: protect: 'relative'"
	bad_config 'allow: 10.0.0.0/33\n' "$T/bad.yaml:1:8: allow: '10.0.0.0/33'"
	bad_config 'budget: 12QB\n' "$T/bad.yaml:1:9: budget: '12QB'"
	bad_config 'mode: [a, b]\n' "$T/bad.yaml:1:7: mode: expected a single value"
	bad_config 'verbose: yes please\n' "$T/bad.yaml:1:10: verbose: expected true or false"
	bad_config 'mode: monitor\nmode: enforce\n' "$T/bad.yaml:2:1: duplicate setting 'mode'"
	bad_config 'mode: [\n' "$T/bad.yaml:2:1: YAML syntax error"
	bad_config 'stats_interval: -1\n' "stats_interval: '-1': expected seconds"
	bad_config '- mode\n' "$T/bad.yaml:1:1: expected a mapping of settings"
	bad_config 'mode: monitor\n---\nmode: enforce\n' "$T/bad.yaml:2:1: a second YAML document"
	run --separate-stderr "$VIGIL" run --config "$T/missing.yaml" --cgroup "$CG"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"$T/missing.yaml: cannot open"* ]]
	mkfifo "$T/fifo.yaml"
	run --separate-stderr timeout 5 "$VIGIL" run --config "$T/fifo.yaml" --cgroup "$CG"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"not a regular file"* ]]
}

@test "unit: READY=1 reaches \$NOTIFY_SOCKET only after agent_start" {
	python3 "$LIB/notify.py" "$T/notify.sock" "$ALERTS" --timeout 30 > "$T/notify.out" &
	npid=$!
	for _ in $(seq 50); do [ -e "$T/notify.sock.ready" ] && break; sleep 0.1; done
	NOTIFY_SOCKET="$T/notify.sock" start_agent
	wait "$npid"
	cat "$T/notify.out"
	grep -q 'READY=1' "$T/notify.out"
	stop_agent
}

@test "unit: vigil reload exits 0 when the rules change, 1 when refused (the running rules stay)" {
	bats_require_minimum_version 1.5.0
	printf 'protect:\n  - name: site\n    paths: ["%s/site/**"]\n' "$T" > "$T/site.yaml"
	start_agent --rules "$T/site.yaml"
	run "$VIGIL" reload
	[ "$status" -eq 0 ]
	[[ "$output" == *"rules reloaded"* ]]
	run alert_wait --timeout 5 kind=agent_reload
	[ "$status" -eq 0 ]
	printf 'protect:\n  - name: x\n    pathz: [/a]\n' >> "$T/site.yaml"
	run --separate-stderr "$VIGIL" reload
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"reload refused"*"site.yaml"*"unknown field 'pathz'"* ]]
	run alert_wait --timeout 5 kind=agent_error message~"reload refused"
	[ "$status" -eq 0 ]
	# still enforcing the old rules and still answering
	kill -0 "$AGENT_PID"
	run "$VIGIL" reload
	[ "$status" -eq 1 ]
	stop_agent
	# no agent: reload fails, saying so
	run --separate-stderr "$VIGIL" reload
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no agent answers"* ]]
}

@test "control socket: 0600 in a 0700 directory, root only; one agent per run directory" {
	bats_require_minimum_version 1.5.0
	start_agent
	[ "$(stat -c %a "$VIGIL_RUN_DIR")" = 700 ]
	[ "$(stat -c %a "$VIGIL_RUN_DIR/control.sock")" = 600 ]
	run --separate-stderr runuser -u nobody -- "$VIGIL" reload --run-dir "$VIGIL_RUN_DIR"
	[ "$status" -ne 0 ]
	# a second agent on the same run directory is refused before loading anything
	run --separate-stderr "$VIGIL" run --no-default-rules --protect "$W/**" --cgroup "$CG" \
		--alerts "$T/second.jsonl"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"another vigil agent is running"* ]]
	kill -0 "$AGENT_PID"
	stop_agent
	[ ! -e "$VIGIL_RUN_DIR/control.sock" ]
	# a run directory others may write is refused
	mkdir -m 0777 "$T/open"
	run --separate-stderr "$VIGIL" run --run-dir "$T/open" --no-default-rules --cgroup "$CG"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"writable by nobody else"* ]]
}

@test "unit: the unit's capability bounding set is enough to deny, drop and kill" {
	caps="$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")"
	[ -n "$caps" ]
	set="-all"
	for c in $caps; do set="$set,+$(echo "${c#CAP_}" | tr 'A-Z' 'a-z')"; done
	start_sink tcp
	VIGIL_WRAP="setpriv --bounding-set $set --no-new-privs" start_agent --mode enforce
	grep -q "^CapEff:.*" /proc/"$AGENT_PID"/status
	# the agent really runs without the rest (no CAP_SYS_ADMIN: bit 21)
	eff=$((16#$(awk '/^CapEff/ { print $2 }' /proc/"$AGENT_PID"/status)))
	[ $(( (eff >> 21) & 1 )) -eq 0 ]
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	run in_cg python3 "$EXFIL" --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le $((1 << 20)) ]
	run alert_wait action=killed network.daddr="$PEER4"
	[ "$status" -eq 0 ]
	stop_agent
}

@test "cli: every subcommand has --help, and every option it lists is in the docs" {
	docs="$(cat "$VIGIL_ROOT/README.md" "$VIGIL_ROOT/docs/"*.md)"
	for cmd in run record replay rules "rules show" reload status; do
		run "$VIGIL" $cmd --help
		[ "$status" -eq 0 ] || { echo "vigil $cmd --help: $status"; false; }
		[[ "$output" == usage:* ]]
		for opt in $(echo "$output" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			[[ "$docs" == *"$opt"* ]] || { echo "vigil $cmd: $opt not documented"; false; }
		done
	done
}

# status_get EXPR: evaluate a Python expression on `vigil status --json` as s
status_get() {
	"$VIGIL" status --json | python3 -c 'import json, sys; s = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

@test "status: sets, files, derived copies, tainted chains, budgets, recent alerts, counters, hooks" {
	start_sink tcp
	start_agent --mode enforce --budget 256KiB
	# a reader that forks a child which stays alive: child tainted via fork
	in_cg python3 -c '
import os, sys, time
open(sys.argv[1], "rb").read()
if os.fork() == 0:
    os.execvp("sleep", ["sleep", "30"])
time.sleep(30)' "$W/model.safetensors" &
	holder=$!
	# a copy of the weights: derived, protected from now on
	in_cg sh -c "cat '$W/model.safetensors' > '$T/copy.bin'"
	# a leak killed at the budget
	run in_cg python3 "$EXFIL" --connect-first --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	run alert_wait action=killed
	[ "$status" -eq 0 ]
	for _ in $(seq 50); do
		[ "$(status_get 'sum(1 for t in s["tainted"] if t["comm"] == "sleep")')" = 1 ] && break
		sleep 0.1
	done
	run "$VIGIL" status --json
	[ "$status" -eq 0 ]
	[ "$(status_get 's["mode"]')" = enforce ]
	[ "$(status_get 's["sets"][0]["budget"]["limit_bytes"]')" = 262144 ]
	spent="$(status_get 's["sets"][0]["budget"]["spent_bytes"]')"
	[ "$spent" -gt 0 ] && [ "$spent" -le 262144 ]
	[ "$(status_get 'any(f["path"].endswith("/model.safetensors") for f in s["protected_files"])')" = True ]
	for _ in $(seq 30); do
		[ "$(status_get 's["derived_files_total"]')" -ge 1 ] && break
		sleep 0.1
	done
	[ "$(status_get 's["derived_files_total"]')" -ge 1 ]
	[ "$(status_get 'any(f["derived"] and f["path"].endswith("/copy.bin") for f in s["protected_files"])')" = True ]
	# the sleeping child: tainted via fork, its chain names the python reader
	[ "$(status_get '[t for t in s["tainted"] if t["comm"] == "sleep"][0]["via"]')" = fork ]
	reader="$(status_get '[t for t in s["tainted"] if t["comm"] == "python3" and t["via"] == "read"][0]["pid"]')"
	[ "$(status_get '[t for t in s["tainted"] if t["comm"] == "sleep"][0]["chain"][0]["pid"]')" = "$reader" ]
	[ "$(status_get '[t for t in s["tainted"] if t["comm"] == "sleep"][0]["chain"][0]["via"]')" = read ]
	[ "$(status_get 'any(a["action"] == "killed" for a in s["recent_alerts"])')" = True ]
	[ "$(status_get 's["counters"]["kernel"]["packets_dropped"] + s["counters"]["kernel"]["kills"] > 0')" = True ]
	[ "$(status_get '"vigil_egress" in s["hooks"]["attached"]')" = True ]
	# the text form says the same for people
	run "$VIGIL" status
	[ "$status" -eq 0 ]
	[[ "$output" == *"enforce mode"* ]]
	[[ "$output" == *"budget 262144 B, spent $spent"* ]]
	[[ "$output" == *"(derived)"* ]]
	[[ "$output" == *"from $reader python3"* ]]
	kill "$holder" 2>/dev/null || true
	stop_agent
}

@test "rules show: the effective merged rule set, which loads back the same" {
	run "$VIGIL" rules show --no-config --budget 5KiB --protect "$W/**" --allow 10.9.0.0/16:443
	[ "$status" -eq 0 ]
	echo "$output" > "$T/show1.yaml"
	[[ "$output" == *"rules/detect.yaml"* ]]
	[[ "$output" == *'- name: "cli"'* ]]
	[[ "$output" == *"\"$W/**\""* ]]
	[[ "$output" == *'"10.9.0.0/16"'* ]]
	[[ "$output" == *"#   cli: 5120 bytes"* ]]
	# the language features (exceptions, appends, lists, macros) round-trip
	"$VIGIL" rules show --no-config --no-default-rules --rules "$VIGIL_ROOT/tests/rules/rules.yaml" > "$T/a.yaml"
	"$VIGIL" rules show --no-config --no-default-rules --rules "$T/a.yaml" > "$T/b.yaml"
	diff <(grep -v '^ *#' "$T/a.yaml") <(grep -v '^ *#' "$T/b.yaml")
	run "$VIGIL" rules validate --no-default-rules "$T/show1.yaml"
	[ "$status" -eq 0 ]
	# the settings file counts: its rules and protect keys are in the set
	printf 'protect: ["%s/other/**"]\nno_default_rules: true\n' "$T" > "$T/vigil.yaml"
	run "$VIGIL" rules show --config "$T/vigil.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"$T/other/**\""* ]]
	[[ "$output" != *"rules/detect.yaml"* ]]
}

@test "tamper: signals other processes send the agent are agent_tamper lines, naming the sender" {
	start_agent
	kill -STOP "$AGENT_PID"
	kill -CONT "$AGENT_PID"
	run alert_wait --timeout 5 kind=agent_tamper signal=SIGSTOP sender.comm=bash previous_agent=false
	[ "$status" -eq 0 ]
	[ "$(alert_get sender.pid kind=agent_tamper signal=SIGSTOP)" = "$$" ]
	# SIGCONT is not an attempt; SIGHUP (a reload) is reported too
	kill -HUP "$AGENT_PID"
	run alert_wait --timeout 5 kind=agent_tamper signal=SIGHUP
	[ "$status" -eq 0 ]
	run alert_none kind=agent_tamper signal=SIGCONT
	[ "$status" -eq 0 ]
	stop_agent
	run alert_wait --timeout 1 kind=agent_tamper signal=SIGTERM
	[ "$status" -eq 0 ]
}

@test "tamper: a ptrace attach to the agent is an agent_tamper line naming the tracer" {
	start_agent
	run python3 "$CONTROL" --seize "$AGENT_PID" ptrace
	[ "$output" = "ptrace ok" ]
	run alert_wait --timeout 5 kind=agent_tamper attempt=ptrace request=PTRACE_SEIZE sender.comm=python3
	[ "$status" -eq 0 ]
	[ "$(alert_get target_pid kind=agent_tamper attempt=ptrace)" = "$AGENT_PID" ]
	# the tracer is gone (detached at its exit): the agent goes on
	stop_agent
}
