#!/usr/bin/env bats
# Operating vigil: make install, the settings file, the systemd unit's
# contract (READY after agent_start, reload that fails when refused, exit 2
# on bad settings, the capability set), the control socket.

load ../lib/harness

setup() { vigil_setup; }
# an agent that refuses signals (BPF LSM, enforce) is stopped by its CLI
teardown() { [ -z "${LSM_AGENT:-}" ] || "$VIGIL" stop >/dev/null 2>&1 || true; vigil_teardown; }

UNIT="$VIGIL_ROOT/packaging/vigil.service"

# need_tree: the install tests build from the source tree, which the kernel
# guests (tests/kernels/run.sh) do not get: they test the kernel, not make
need_tree() {
	[ -f "$VIGIL_ROOT/Makefile" ] || skip "no source tree here (a kernel guest): make install is tested on the host"
}

@test "install: make install DESTDIR= lays out binary, unit, settings and rules.d; upgrades keep settings" {
	need_tree
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
	need_tree
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
	bad_config 'map_size: [flows=10]\n' "$T/bad.yaml:1:12: map_size: 'flows=10': flows takes a whole number of entries from 256"
	bad_config 'map_size:\n  - sockets=9000\n' "$T/bad.yaml:2:5: map_size: 'sockets=9000': expected NAME=N, NAME one of processes"
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

@test "unit: WATCHDOG=1 every second from the event loop when systemd asks (WatchdogSec=); none from a stopped agent" {
	grep -q '^WatchdogSec=5s$' "$UNIT"
	NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=5000000 start_agent
	python3 "$LIB/notify.py" "$T/notify.sock" --listen 6 > "$T/wd.out"
	cat "$T/wd.out"
	[ "$(grep -c '^WATCHDOG=1$' "$T/wd.out")" -ge 2 ]
	# a hung loop (here: stopped) sends none, so systemd restarts it
	kill -STOP "$AGENT_PID"
	sleep 0.3	# a ping sent just before the stop
	python3 "$LIB/notify.py" "$T/notify.sock" --listen 2.5 > "$T/wd-stopped.out"
	kill -CONT "$AGENT_PID"
	[ "$(grep -c '^WATCHDOG=1$' "$T/wd-stopped.out")" -eq 0 ]
	# continued, the loop pings again
	python3 "$LIB/notify.py" "$T/notify.sock" --listen 3 > "$T/wd-cont.out"
	[ "$(grep -c '^WATCHDOG=1$' "$T/wd-cont.out")" -ge 1 ]
	stop_agent
	# WATCHDOG_PID names another process: not ours to ping (a fresh alert
	# file: start_agent must wait for this agent's agent_start, not find the
	# first one's — a slow guest's TERM then killed it mid-load, exit 143)
	ALERTS="$T/alerts-2.jsonl"
	NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=5000000 WATCHDOG_PID=1 start_agent
	python3 "$LIB/notify.py" "$T/notify.sock" --listen 2.5 > "$T/wd-other.out"
	[ "$(grep -c '^WATCHDOG=1$' "$T/wd-other.out")" -eq 0 ]
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
	# the agent really runs without the rest, and without CAP_SYS_ADMIN (bit
	# 21: in the set for the load on 6.1, dropped before agent_start)
	eff=$((16#$(awk '/^CapEff/ { print $2 }' /proc/"$AGENT_PID"/status)))
	prm=$((16#$(awk '/^CapPrm/ { print $2 }' /proc/"$AGENT_PID"/status)))
	[ $(( (eff >> 21) & 1 )) -eq 0 ]
	[ $(( (prm >> 21) & 1 )) -eq 0 ]
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
	# a reader that forks a child which stays alive (past the checks below,
	# a minute and more in a TCG guest): child tainted via fork
	in_cg python3 -c '
import os, sys, time
open(sys.argv[1], "rb").read()
if os.fork() == 0:
    os.execvp("sleep", ["sleep", "600"])
time.sleep(600)' "$W/model.safetensors" &
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
	echo "$output"	# shown if a line below fails
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
	# agent_stop says who stopped it: this shell, its parent (a service manager's place)
	run alert_wait --timeout 1 kind=agent_stop stopped_by.how=signal stopped_by.signal=SIGTERM \
		stopped_by.service_manager=true
	[ "$status" -eq 0 ]
	[ "$(alert_get stopped_by.pid kind=agent_stop)" = "$$" ]
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

@test "tamper: bpf(2) on the agent's maps, links and pins by another process is an agent_tamper line; kernel-only maps are frozen" {
	pin_setup
	start_agent --pin --pin-dir "$PIN_DIR"
	# a handle on a pin (BPF_OBJ_GET), then a write to a map through it
	bpftool map update pinned "$PIN_DIR/maps/vg_blocked" key 1 0 0 0 value 1 0 0 0
	run alert_wait --timeout 5 kind=agent_tamper attempt=bpf command=BPF_OBJ_GET object=pin sender.comm=bpftool
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 kind=agent_tamper attempt=bpf command=BPF_MAP_UPDATE_ELEM object=map
	[ "$status" -eq 0 ]
	[ "$(alert_get object_id kind=agent_tamper command=BPF_MAP_UPDATE_ELEM)" = \
	  "$(bpftool map show pinned "$PIN_DIR/maps/vg_blocked" | sed -n 's/^\([0-9]*\):.*/\1/p')" ]
	# a handle by id (what bpftool prog show does for every program): one line, not one per program
	bpftool prog show > /dev/null
	run alert_wait --timeout 5 kind=agent_tamper attempt=bpf command=BPF_PROG_GET_FD_BY_ID object=program
	[ "$status" -eq 0 ]
	# the maps only the kernel writes are frozen: the write is refused
	local sizes ksz vsz
	sizes="$(bpftool map show pinned "$PIN_DIR/maps/vg_counters")"
	ksz="$(echo "$sizes" | sed -n 's/.*key \([0-9]*\)B.*/\1/p')"
	vsz="$(echo "$sizes" | sed -n 's/.*value \([0-9]*\)B.*/\1/p')"
	# shellcheck disable=SC2046
	run bpftool map update pinned "$PIN_DIR/maps/vg_counters" key $(printf '0 %.0s' $(seq "$ksz")) \
		value $(printf '0 %.0s' $(seq "$vsz"))
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	bpftool map show pinned "$PIN_DIR/maps/vg_work" | grep -qw frozen
	# the agent's own list of its objects is frozen too
	bpftool map show name vg_own | grep -qw frozen
	# a link detached by another process
	bpftool link detach pinned "$PIN_DIR/links/vigil_connect4"
	run alert_wait --timeout 5 kind=agent_tamper attempt=bpf command=BPF_LINK_DETACH object=link
	[ "$status" -eq 0 ]
	# an unrelated map and pin are not vigil's: nothing
	bpftool map create "$BPFFS/other" type hash key 4 value 4 entries 4 name other_map
	bpftool map update pinned "$BPFFS/other" key 1 0 0 0 value 1 0 0 0
	sleep 1.5
	run alert_none kind=agent_tamper command=BPF_MAP_UPDATE_ELEM object_id="$(bpftool map show pinned "$BPFFS/other" | sed -n 's/^\([0-9]*\):.*/\1/p')"
	[ "$status" -eq 0 ]
	stop_agent
	"$VIGIL" stop --unpin --pin-dir "$PIN_DIR" >/dev/null 2>&1 || true
}

@test "tamper: a bpf(2) whose argument vigil cannot read at the entry is reported all the same (argument_unread)" {
	pin_setup
	start_agent --pin --pin-dir "$PIN_DIR"
	# the union bpf_attr on a page never touched: which object it names
	# cannot be read, so it is reported whatever it names (fail closed)
	python3 "$SCEN/bpf_unread.py" prog-by-id 1
	run alert_wait --timeout 5 kind=agent_tamper attempt=bpf command=BPF_PROG_GET_FD_BY_ID \
		object=program argument_unread=true sender.comm=python3
	[ "$status" -eq 0 ]
	# with pins, an unreadable BPF_OBJ_GET might open one of them
	python3 "$SCEN/bpf_unread.py" obj-get "$PIN_DIR/maps/vg_blocked"
	run alert_wait --timeout 5 kind=agent_tamper attempt=bpf command=BPF_OBJ_GET object=pin \
		argument_unread=true sender.comm=python3
	[ "$status" -eq 0 ]
	run "$ALERTS_PY" schema "$ALERTS"
	[ "$status" -eq 0 ]
	stop_agent
	"$VIGIL" stop --unpin --pin-dir "$PIN_DIR" >/dev/null 2>&1 || true
}

# cgroup_links ATTACHED|DETACHED: ids of the cgroup links on $CG (cgroup_id
# its inode), or of the detached ones (cgroup_id 0) among IDS
cgroup_links() {
	bpftool link show -j | python3 -c '
import json, sys
want = int(sys.argv[1])
print(" ".join(str(l["id"]) for l in json.load(sys.stdin)
               if l.get("type") == "cgroup" and l.get("cgroup_id") == want))' "$1"
}

@test "tamper: cgroup links another process detaches are attached again within a tick; enforcement goes on" {
	bpf_visible || skip "the BPF LSM refuses another process vigil's links themselves (prevent: $(capability_of prevent))"
	start_sink tcp
	start_agent --mode enforce
	cgid="$(stat -c %i "$CG")"
	before="$(cgroup_links "$cgid" | wc -w)"
	[ "$before" -ge 5 ]
	for id in $(cgroup_links "$cgid"); do
		bpftool link detach id "$id"
	done
	run alert_wait --timeout 5 kind=agent_tamper attempt=bpf command=BPF_LINK_DETACH sender.comm=bpftool
	[ "$status" -eq 0 ]
	for _ in $(seq 20); do
		[ "$(cgroup_links "$cgid" | wc -w)" -eq "$before" ] && break
		sleep 0.1
	done
	[ "$(cgroup_links "$cgid" | wc -w)" -eq "$before" ]
	run alert_wait --timeout 5 kind=agent_error "message~program vigil_egress was detached from the cgroup by another process: attached again"
	[ "$status" -eq 0 ]
	# and the weights are still stopped at the budget
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le $((1 << 20)) ]
	stop_agent
}

@test "tamper: enforce on a bpf-LSM kernel refuses other processes' signals, ptrace and bpf() on the agent's objects" {
	"$VIGIL" check 2>/dev/null | grep -q '^prevent  *lsm' ||
		skip "the bpf LSM is not active here (vigil check: prevent blind; Debian 12's 6.1 has it)"
	pin_setup
	LSM_AGENT=1
	# in the 6.1 guest under load an enforcing agent took 42.5 s to start
	AGENT_START_TIMEOUT=120 start_agent --mode enforce --pin --pin-dir "$PIN_DIR"
	# a stop signal from another process is refused, and reported (this
	# shell, the agent's parent, stands for its service manager: allowed)
	run sh -c 'kill -STOP "$1"' sh "$AGENT_PID"
	[ "$status" -ne 0 ]
	run alert_wait --timeout 5 kind=agent_tamper signal=SIGSTOP delivered=false
	[ "$status" -eq 0 ]
	grep -q '^State:.*\(R\|S\)' "/proc/$AGENT_PID/status"
	# ptrace is refused, and reported
	run python3 "$CONTROL" --seize "$AGENT_PID" ptrace
	[ "$output" != "ptrace ok" ]
	run alert_wait --timeout 5 kind=agent_tamper attempt=ptrace
	[ "$status" -eq 0 ]
	# bpf(): a pin cannot be opened, a link not detached, a map not taken by id
	run bpftool map show pinned "$PIN_DIR/maps/vg_blocked"
	[ "$status" -ne 0 ]
	# by a relative path too, which no path match sees: the fd is refused
	# (lsm/bpf_map), and reported naming the map, not the pin
	run sh -c 'cd "$1/maps" && bpftool map show pinned vg_blocked' sh "$PIN_DIR"
	[ "$status" -ne 0 ]
	run alert_wait --timeout 5 kind=agent_tamper attempt=bpf command=BPF_OBJ_GET object=map
	[ "$status" -eq 0 ]
	run bpftool link detach pinned "$PIN_DIR/links/vigil_connect4"
	[ "$status" -ne 0 ]
	[ -e "$PIN_DIR/links/vigil_connect4" ]
	run alert_wait --timeout 5 kind=agent_tamper attempt=bpf command=BPF_OBJ_GET
	[ "$status" -eq 0 ]
	run bpftool map show
	[[ "$output" != *"vg_taint"* ]]
	# the agent's own executable is trusted: vigil stop ends it, pins stay
	"$VIGIL" stop
	wait "$AGENT_PID" || true
	AGENT_PID=""
	LSM_AGENT=""
	[ -e "$PIN_DIR/links/vigil_connect4" ]
	"$ALERTS_PY" schema "$ALERTS"
}
