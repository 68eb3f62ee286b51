#!/usr/bin/env bats
# The alert stream as a SIEM sees it: record identity and schema, several
# sinks at once, a dead receiver that holds up nothing, rotation, the hash
# chain, refused specs.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

@test "sinks: every record carries id, seq, boot id, machine id, labels and obeys the schema" {
	start_sink tcp
	start_agent --label partner=acme --label site=fra-1
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	run alert_wait kind=alert rule=weights-egress
	[ "$status" -eq 0 ]
	stop_agent
	run "$ALERTS_PY" schema "$ALERTS"
	[ "$status" -eq 0 ]
	[ "$(alert_get machine_id kind=alert)" = "$(cat /etc/machine-id)" ]
	[ "$(alert_get boot_id kind=alert)" = "$(cat /proc/sys/kernel/random/boot_id)" ]
	[ "$(alert_get labels.partner kind=alert)" = acme ]
	[ "$(alert_get labels.site kind=agent_stop)" = fra-1 ]
	[ "$(alert_get seq kind=agent_start)" = 1 ]
	# ids are unique, one run id throughout
	run python3 -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]
assert len({x["id"] for x in l}) == len(l), "duplicate id"
assert len({x["run_id"] for x in l}) == 1, "run_id changed"' "$ALERTS"
	[ "$status" -eq 0 ]
}

@test "sinks: the schema check fails on a bad record (both validators)" {
	start_agent
	stop_agent
	sed 's/"seq":1,/"seq":"1",/' "$ALERTS" > "$T/bad.jsonl"
	run "$ALERTS_PY" schema "$T/bad.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *seq* ]]
	VIGIL_SCHEMA_LITE=1 run "$ALERTS_PY" schema "$T/bad.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *seq* ]]
	printf '{"x":"\xff"}\n' >> "$ALERTS"
	run "$ALERTS_PY" schema "$ALERTS"
	[ "$status" -eq 1 ]
	[[ "$output" == *UTF-8* ]]
}

@test "sinks: docs/ALERTS.md examples obey the schema" {
	run "$ALERTS_PY" docs "$VIGIL_ROOT/docs/ALERTS.md"
	[ "$status" -eq 0 ]
	VIGIL_SCHEMA_LITE=1 run "$ALERTS_PY" docs "$VIGIL_ROOT/docs/ALERTS.md"
	[ "$status" -eq 0 ]
	# and the check can fail
	sed 's/"severity":"critical"/"severity":"dire"/' "$VIGIL_ROOT/docs/ALERTS.md" > "$T/bad.md"
	run "$ALERTS_PY" docs "$T/bad.md"
	[ "$status" -eq 1 ]
}

@test "sinks: a receiver that stopped reading blocks neither enforcement nor the other sink" {
	mkfifo "$T/stall"
	python3 "$LIB/stall.py" "$T/stall" "$T/stall.ready" &
	SINK_PIDS="$SINK_PIDS $!"
	for _ in $(seq 100); do [ -e "$T/stall.ready" ] && break; sleep 0.05; done
	start_sink tcp
	# stdout into a 4 KiB pipe nobody reads, queue of 2: full after a few records
	start_agent --mode enforce --alerts -,queue=2 > "$T/stall"
	for i in 1 2 3 4 5 6 7 8; do
		leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag "run$i"
		[ "$status" -eq 3 ]	# denied in the kernel
		# one more blocked connect in the file sink each time (a process this
		# short-lived may be gone before its command line is read: count)
		run alert_wait --count "$i" rule=weights-connect action=blocked
		[ "$status" -eq 0 ]
	done
	[ "$(sink_bytes)" -eq 0 ]
	stop_agent
	run "$ALERTS_PY" schema "$ALERTS"
	[ "$status" -eq 0 ]
	# what the stalled sink could not take is counted, the file lost nothing
	run "$ALERTS_PY" get "$ALERTS" sinks kind=agent_stop
	echo "$output"
	python3 -c 'import json,sys; s=json.loads(sys.argv[1]); d={x["sink"]:x for x in s}
assert d["-"]["dropped"] >= 1, d
f=[x for x in s if x["sink"]!="-"][0]
assert f["dropped"] == 0 and f["failed"] == 0, f' "$output"
}

@test "sinks: rename-style rotation with SIGHUP and copytruncate both keep every alert" {
	start_sink tcp
	start_agent
	mv "$ALERTS" "$ALERTS.1"
	kill -HUP "$AGENT_PID"
	"$ALERTS_PY" wait "$ALERTS" --timeout 10 kind=agent_reload >/dev/null
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag renamed
	run alert_wait kind=alert process.cmdline~renamed
	[ "$status" -eq 0 ]
	run "$ALERTS_PY" none "$ALERTS.1" kind=alert
	[ "$status" -eq 0 ]
	# copytruncate: copy, truncate in place; O_APPEND writes go on at offset 0
	cp "$ALERTS" "$ALERTS.2"
	truncate -s 0 "$ALERTS"
	leak --src "$W/model.safetensors" --host "$PEER6" --port "$PORT" --tag truncated
	run alert_wait kind=alert process.cmdline~truncated
	[ "$status" -eq 0 ]
	[ "$(head -c 1 "$ALERTS")" = "{" ]
	ALERTS_PARTIAL=1 stop_agent
}

@test "sinks: the hash chain proves no record was removed or altered" {
	start_sink tcp
	start_agent --alerts "$T/chained.jsonl,chain=sha256"
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	run alert_wait kind=alert
	[ "$status" -eq 0 ]
	stop_agent
	run "$ALERTS_PY" chain "$T/chained.jsonl"
	[ "$status" -eq 0 ]
	run "$ALERTS_PY" schema "$T/chained.jsonl"
	[ "$status" -eq 0 ]
	# drop one line from the middle: the chain breaks there
	sed 2d "$T/chained.jsonl" > "$T/cut.jsonl"
	run "$ALERTS_PY" chain "$T/cut.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 2"* ]]
}

@test "sinks: bad --alerts and --label are refused before anything is attached" {
	for spec in "sylog:" "-,format=xml" "-,queue=0" "-,colour=red" "file:" "$T/no/such/dir/x" \
		"unix:" "-,max_size=1M" "$T/a,max_size=1" "$T/a,max_age=soon" "$T/a,keep=0"; do
		run "$VIGIL" run --no-default-rules --cgroup "$CG" --protect "$W/**" --alerts "$spec"
		[ "$status" -eq 2 ]
		[[ "$output" == *"--alerts"* ]]
	done
	run "$VIGIL" run --no-default-rules --cgroup "$CG" --protect "$W/**" --label "Bad=x"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--label Bad=x"* ]]
	ln -s /tmp "$T/link.jsonl"
	run "$VIGIL" run --no-default-rules --cgroup "$CG" --protect "$W/**" --alerts "$T/link.jsonl"
	[ "$status" -eq 2 ]
}

@test "sinks: unix socket streams to several readers; vigil tail shows readable lines" {
	start_sink tcp
	start_agent --alerts "unix:$T/vigil.sock" --stats-interval 1
	[ "$(stat -c %a "$T/vigil.sock")" = 600 ]
	"$VIGIL" tail --raw "$T/vigil.sock" > "$T/raw.jsonl" 2>"$T/tail1.err" &
	SINK_PIDS="$SINK_PIDS $!"
	"$VIGIL" tail --color "unix:$T/vigil.sock" > "$T/pretty.txt" 2>"$T/tail2.err" &
	SINK_PIDS="$SINK_PIDS $!"
	"$VIGIL" tail --no-color "$T/vigil.sock" > "$T/plain.txt" 2>"$T/tail3.err" &
	SINK_PIDS="$SINK_PIDS $!"
	# all three connected (the agent counts its readers in agent_stats)
	run alert_wait --timeout 15 kind=agent_stats 'sinks.1.readers>=3'
	[ "$status" -eq 0 ]
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag tailed
	run alert_wait kind=alert rule=weights-egress process.cmdline~tailed
	[ "$status" -eq 0 ]
	id="$(alert_get id kind=alert rule=weights-egress)"
	stop_agent
	# the readers end when the agent closes the stream
	for _ in $(seq 50); do grep -q closed "$T/tail3.err" && break; sleep 0.1; done
	grep -q "closed the stream" "$T/tail3.err"
	[ ! -e "$T/vigil.sock" ]
	# raw: the very records of the file sink, from the first one after connect
	run "$ALERTS_PY" records "$T/raw.jsonl"
	[ "$status" -eq 0 ]
	[ "$("$ALERTS_PY" get "$T/raw.jsonl" id kind=alert rule=weights-egress)" = "$id" ]
	grep -q '"kind":"agent_stop"' "$T/raw.jsonl"
	# readable: severity, rule, action, process and destination on one line
	run grep "weights-egress " "$T/plain.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"HIGH"*"weights-egress alert python3["*"] -> $PEER4:$PORT"* ]]
	grep -q $'\033\[31mHIGH' "$T/pretty.txt"
	! grep -q $'\033' "$T/plain.txt"
	grep -q "agent_stop: " "$T/plain.txt"
}

@test "sinks: vigil tail without an agent says what to do" {
	run "$VIGIL" tail "$T/none.sock"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--alerts unix:$T/none.sock"* ]]
}

@test "sinks: the agent rotates its file by size into gzip'd files, keeping N" {
	start_agent --alerts "$T/rot.jsonl,max_size=4K,keep=2" --stats-interval 1
	# agent_stats lines (~1.4 KiB each) fill 4 KiB files: rotated every ~3 s
	for _ in $(seq 150); do [ -e "$T/rot.jsonl.2.gz" ] && break; sleep 0.1; done
	[ -e "$T/rot.jsonl.2.gz" ]
	stop_agent
	[ ! -e "$T/rot.jsonl.3.gz" ]
	[ "$(stat -c %a "$T/rot.jsonl.1.gz")" = 600 ]
	[ "$(head -c 2 "$T/rot.jsonl.1.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ]
	# oldest to newest, the kept files are one gapless stretch of the stream
	{ zcat "$T/rot.jsonl.2.gz" "$T/rot.jsonl.1.gz"; cat "$T/rot.jsonl"; } > "$T/joined.jsonl"
	run "$ALERTS_PY" records "$T/joined.jsonl"
	[ "$status" -eq 0 ]
	for f in "$T/rot.jsonl.1.gz" "$T/rot.jsonl.2.gz"; do
		[ "$(zcat "$f" | wc -c)" -le 4096 ]
	done
	run "$ALERTS_PY" get "$ALERTS" sinks kind=agent_stop
	[[ "$output" == *'"rotations": '[1-9]* ]]
}

@test "sinks: a heartbeat every --heartbeat seconds carries the kernel's event losses" {
	start_agent --heartbeat 1
	run alert_wait --timeout 10 --count 2 kind=heartbeat interval_s=1
	[ "$status" -eq 0 ]
	stop_agent
	[ "$(alert_get events_lost kind=heartbeat)" -ge 0 ]
	[ "$(alert_get uptime_s kind=heartbeat)" -ge 0 ]
	run "$VIGIL" run --heartbeat soon
	[ "$status" -eq 2 ]
	[[ "$output" == *"--heartbeat 'soon'"* ]]
}

@test "sinks: ecs, ocsf and cef sinks render the same records, valid in their formats" {
	odd="$T/we|ird=dir"
	mkdir -p "$odd"
	cp "$W/model.safetensors" "$odd/m=1.safetensors"
	start_sink tcp
	start_agent --protect "$odd/**" --alerts "$T/ecs.json,format=ecs" \
		--alerts "$T/ocsf.json,format=ocsf,chain=sha256" --alerts "$T/cef.log,format=cef" \
		--label site=fra-1
	leak --src "$odd/m=1.safetensors" --host "$PEER4" --port "$PORT" --tag 'x=1|y\z'
	run alert_wait kind=alert rule=weights-egress
	[ "$status" -eq 0 ]
	stop_agent
	for f in ecs ocsf cef; do
		run python3 "$LIB/formats.py" "$f" "$T/$f.$([ $f = cef ] && echo log || echo json)"
		echo "$output" | tail -5
		[ "$status" -eq 0 ]
	done
	VIGIL_SCHEMA_LITE=1 python3 "$LIB/formats.py" ocsf "$T/ocsf.json"
	VIGIL_SCHEMA_LITE=1 python3 "$LIB/formats.py" ecs "$T/ecs.json"
	# one record per native record, in every sink
	n="$(wc -l < "$ALERTS")"
	[ "$(wc -l < "$T/ecs.json")" -eq "$n" ]
	[ "$(wc -l < "$T/ocsf.json")" -eq "$n" ]
	[ "$(wc -l < "$T/cef.log")" -eq "$n" ]
	python3 - "$ALERTS" "$T/ecs.json" "$T/ocsf.json" "$odd/m=1.safetensors" <<-'PY'
	import json, sys
	nat = [json.loads(l) for l in open(sys.argv[1])]
	ecs = [json.loads(l) for l in open(sys.argv[2])]
	ocsf = [json.loads(l) for l in open(sys.argv[3])]
	a = next(i for i, r in enumerate(nat) if r["kind"] == "alert" and r["rule"] == "weights-egress")
	n, e, o = nat[a], ecs[a], ocsf[a]
	assert e["event"]["id"] == n["id"] and o["metadata"]["uid"] == n["id"]
	assert e["event"]["kind"] == "alert" and e["process"]["pid"] == n["process"]["pid"]
	assert e["file"]["path"] == sys.argv[4], e["file"]
	assert e["destination"]["port"] == n["network"]["dport"]
	assert e["labels"]["site"] == "fra-1" and "site:fra-1" in o["metadata"]["labels"]
	assert o["class_uid"] == 2004 and o["finding_info"]["uid"]
	assert o["evidences"][0]["file"]["path"] == sys.argv[4]
	assert o["actor"]["process"]["cmd_line"] == n["process"]["cmdline"]
	assert [r["class_uid"] for r in ocsf if r["activity_id"] == 3] == [6002]   # agent_start
	assert ocsf[-1]["class_uid"] == 6002 and ocsf[-1]["activity_id"] == 4       # agent_stop
	PY
	# CEF: what the escaping hid comes back exactly
	python3 "$LIB/formats.py" cef "$T/cef.log" > "$T/cef.parsed"
	python3 - "$T/cef.parsed" "$odd/m=1.safetensors" <<-'PY'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	a = next(r for r in recs if r["header"][3] == "weights-egress")
	assert a["ext"]["filePath"] == sys.argv[2], a["ext"]["filePath"]
	assert a["ext"]["cs3"].endswith("--tag x=1|y\\z"), a["ext"]["cs3"]
	assert sys.argv[2] in a["header"][4]
	PY
	# the hash chain holds over the OCSF lines too
	python3 - "$T/ocsf.json" <<-'PY'
	import hashlib, json, sys
	prev = "0" * 64
	for raw in open(sys.argv[1], "rb"):
	    raw = raw.rstrip(b"\n")
	    assert json.loads(raw)["unmapped"]["prev_hash"] == prev
	    prev = hashlib.sha256(raw).hexdigest()
	PY
	run "$VIGIL" run --alerts "$T/x.log,format=cef,chain=sha256"
	[ "$status" -eq 2 ]
	[[ "$output" == *"chain=sha256 needs a JSON format"* ]]
}

@test "sinks: repeats of an incident fold into alert_update with the same incident id" {
	start_sink tcp
	start_sink tcp $((PORT + 1000))
	start_sink tcp $((PORT + 2000))
	start_agent --fold 1 --alerts "$T/ocsf.json,format=ocsf"
	run in_cg python3 "$SCEN/spray.py" "$W/model.safetensors" "$PEER4" "$PORT" \
		$((PORT + 1000)) $((PORT + 2000))
	[ "$status" -eq 0 ]
	run alert_wait --timeout 15 kind=alert_update rule=weights-connect 'incident.count>=3'
	[ "$status" -eq 0 ]
	stop_agent
	# one alert for the process and rule, the rest folded into its incident
	[ "$("$ALERTS_PY" wait "$ALERTS" rule=weights-connect kind=alert | wc -l)" -eq 1 ]
	id="$(alert_get incident.id kind=alert rule=weights-connect)"
	[ "$(alert_get incident.state kind=alert rule=weights-connect)" = new ]
	[ "$(alert_get incident.id kind=alert_update rule=weights-connect)" = "$id" ]
	# OCSF: the finding and its update share finding_info.uid
	python3 - "$T/ocsf.json" "$id" <<-'PY'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	f = [r for r in recs if r.get("finding_info", {}).get("uid") == sys.argv[2]]
	assert [r["activity_id"] for r in f][:1] == [1] and 2 in [r["activity_id"] for r in f], f
	assert max(r.get("count", 1) for r in f) >= 3
	PY
	python3 "$LIB/formats.py" ocsf "$T/ocsf.json"
}

@test "sinks: the per-rule rate limit says what it suppressed; enforcement is never suppressed" {
	start_sink tcp
	start_agent --rate-limit 2
	for i in 1 2 3 4; do
		leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag "r$i"
		[ "$status" -eq 0 ]
	done
	stop_agent
	[ "$("$ALERTS_PY" wait "$ALERTS" --count 2 rule=weights-connect kind=alert | wc -l)" -eq 2 ]
	[ "$(alert_get suppressed kind=alerts_suppressed rule=weights-connect)" -eq 2 ]
	[ "$(alert_get limit kind=alerts_suppressed rule=weights-connect)" -eq 2 ]
	# enforce: every denied connection is written, limit or not
	: > "$ALERTS"
	start_agent --mode enforce --rate-limit 1
	for i in 1 2 3; do
		leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag "e$i"
		[ "$status" -eq 3 ]
	done
	run alert_wait --count 3 rule=weights-connect action=blocked
	[ "$status" -eq 0 ]
	stop_agent
	run alert_none kind=alerts_suppressed rule=weights-connect
	[ "$status" -eq 0 ]
}

@test "sinks: vigil convert renders the docs/ALERTS.md examples validly in every format" {
	python3 - "$VIGIL_ROOT/docs/ALERTS.md" > "$T/examples.jsonl" <<-'PY'
	import re, sys
	for block in re.findall(r"```json\n(.*?)```", open(sys.argv[1]).read(), re.S):
	    print(block.strip())
	PY
	[ "$(wc -l < "$T/examples.jsonl")" -ge 6 ]
	for f in ecs ocsf cef; do
		"$VIGIL" convert "$f" "$T/examples.jsonl" > "$T/examples.$f"
		[ "$(wc -l < "$T/examples.$f")" -eq "$(wc -l < "$T/examples.jsonl")" ]
		python3 "$LIB/formats.py" "$f" "$T/examples.$f" > /dev/null
	done
	"$VIGIL" convert native "$T/examples.jsonl" | cmp - "$T/examples.jsonl"
	run "$VIGIL" convert ocsf /dev/stdin <<< "not json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 1: not a vigil record"* ]]
}

@test "sinks: syslog RFC 5424 with structured data, to a real rsyslogd over its socket and TCP" {
	load ../lib/rsyslog
	rport=$((PORT + 3000))
	start_rsyslog "$rport"
	start_sink tcp
	start_agent --alerts "syslog:,socket=$T/log.sock,facility=local3" \
		--alerts "syslog:tcp://127.0.0.1:$rport,format=cef"
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag 'sys"log]'
	run alert_wait kind=alert rule=weights-egress
	[ "$status" -eq 0 ]
	stop_agent
	n="$(wc -l < "$ALERTS")"
	for _ in $(seq 100); do [ "$(wc -l < "$T/syslog.out")" -ge $((2 * n)) ] && break; sleep 0.1; done
	cat "$T/rsyslog.err" >&2
	python3 - "$ALERTS" "$T/syslog.out" "$LIB" <<-'PY'
	import json, re, sys
	sys.path.insert(0, sys.argv[3])
	import formats
	nat = [json.loads(l) for l in open(sys.argv[1])]
	got = [l.rstrip("\n").split("|", 8) for l in open(sys.argv[2])]
	local = [g for g in got if g[0] == "local3"]
	tcp = [g for g in got if g[0] == "local0"]
	assert len(local) == len(nat) and len(tcp) == len(nat), (len(local), len(tcp), len(nat))
	sevs = {"low": "notice", "medium": "warning", "high": "err", "critical": "crit"}
	for r, l, t in zip(nat, local, tcp):
	    fac, sev, time_, host, app, pid, msgid, sd, msg = l
	    assert app == "vigil" and msgid == r["kind"] and host == r["host"], l[:7]
	    assert json.loads(msg) == r, msg[:200]                   # the record, whole
	    assert sd.startswith("[vigil@32473 ") and 'id="%s"' % r["id"] in sd, sd
	    assert 'seq="%d"' % r["seq"] in sd
	    if r["kind"] == "alert":
	        assert sev == sevs[r["severity"]], (sev, r["severity"])
	        assert 'rule="%s"' % r["rule"] in sd
	    # the same record as CEF over TCP
	    hdr, ext = formats.cef_parse(t[8][t[8].find("CEF:"):])
	    assert ext["externalId"] == r["id"] and t[6] == r["kind"]
	    assert t[2] == r["time"], (t[2], r["time"])      # the record's own time
	a = next(r for r in nat if r["kind"] == "alert")
	assert 'sys"log]' in a["process"]["cmdline"]
	PY
}

# start_http PORT: the test's HTTP collector (tests/lib/http_sink.py) into $T/http.jsonl
start_http() {
	rm -f "$T/http.ready"
	python3 "$LIB/http_sink.py" --port "$1" --out "$T/http.jsonl" --ready "$T/http.ready" &
	HTTP_PID=$!
	SINK_PIDS="$SINK_PIDS $HTTP_PID"
	for _ in $(seq 100); do [ -e "$T/http.ready" ] && return 0; sleep 0.05; done
	return 1
}

@test "sinks: http sink spools through a receiver outage and delivers all in order, none twice" {
	hport=$((PORT + 4000))
	start_http "$hport"
	start_sink tcp
	start_agent --alerts "http://127.0.0.1:$hport/ingest,spool=$T/spool,batch=4" --heartbeat 1
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag before
	run "$ALERTS_PY" wait "$T/http.jsonl" --timeout 15 kind=alert process.cmdline~before
	[ "$status" -eq 0 ]
	# the receiver goes away mid-stream; alerts and heartbeats go on
	kill -TERM "$HTTP_PID"
	wait "$HTTP_PID" || true
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag during1
	leak --src "$W/model.safetensors" --host "$PEER6" --port "$PORT" --tag during2
	run alert_wait --timeout 15 kind=alert process.cmdline~during2
	[ "$status" -eq 0 ]
	sleep 3
	run "$ALERTS_PY" none "$T/http.jsonl" process.cmdline~during1
	[ "$status" -eq 0 ]
	[ -s "$T/spool/spool.ndjson" ]
	# back up: the spool drains, oldest first
	t0=$(date +%s%N)
	start_http "$hport"
	run "$ALERTS_PY" wait "$T/http.jsonl" --timeout 30 kind=alert process.cmdline~during2
	[ "$status" -eq 0 ]
	t1=$(date +%s%N)
	stop_agent
	run "$ALERTS_PY" wait "$T/http.jsonl" --timeout 15 kind=agent_stop
	[ "$status" -eq 0 ]
	# exactly the file sink's records, same order, none lost, none twice
	python3 - "$ALERTS" "$T/http.jsonl" <<-'PY'
	import json, sys
	want = [json.loads(l) for l in open(sys.argv[1])]
	got = [json.loads(l) for l in open(sys.argv[2])]
	ids = [g["id"] for g in got]
	assert len(ids) == len(set(ids)), "duplicates"
	assert got == want, (len(got), len(want))
	PY
	run "$ALERTS_PY" records "$T/http.jsonl"
	[ "$status" -eq 0 ]
	stats="$(alert_get sinks kind=agent_stop)"
	python3 - "$stats" <<-'PY'
	import json, sys
	h = [s for s in json.loads(sys.argv[1]) if s["sink"].startswith("http://")][0]
	assert h["spool_peak"] >= 3 and h["posts_failed"] >= 1 and h["failed"] == 0, h
	PY
	peak="$(python3 -c 'import json,sys; print([s for s in json.loads(sys.argv[1]) if s["sink"].startswith("http")][0]["spool_peak"])' "$stats")"
	figure "records spooled at the peak of the outage" "$peak"
	figure "records delivered over HTTP" "$(wc -l < "$T/http.jsonl")"
	figure "time to drain the spool after the receiver came back (ms)" "$(( (t1 - t0) / 1000000 ))"
}

@test "sinks: an http sink's spool left by a stopped agent is delivered by the next one" {
	hport=$((PORT + 4000))
	start_sink tcp
	# no receiver at all during the first run
	start_agent --alerts "http://127.0.0.1:$hport/x,spool=$T/spool" --heartbeat 1
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag first
	run alert_wait kind=alert process.cmdline~first
	[ "$status" -eq 0 ]
	stop_agent
	grep -q first "$T/spool/spool.ndjson"
	start_http "$hport"
	ALERTS="$T/alerts2.jsonl"
	start_agent --alerts "http://127.0.0.1:$hport/x,spool=$T/spool"
	run "$ALERTS_PY" wait "$T/http.jsonl" --timeout 20 kind=alert process.cmdline~first
	[ "$status" -eq 0 ]
	stop_agent
	# the first run's records, then the second's: each exactly once
	python3 - "$T/alerts.jsonl" "$ALERTS" "$T/http.jsonl" <<-'PY'
	import json, sys
	want = [json.loads(l) for f in sys.argv[1:3] for l in open(f)]
	got = [json.loads(l) for l in open(sys.argv[3])]
	assert got == want, (len(got), len(want))
	PY
	run "$VIGIL" run --alerts "http://127.0.0.1:1/x,batch=0"
	[ "$status" -eq 2 ]
	[[ "$output" == *"batch=0"* ]]
}

@test "sinks: Prometheus metrics on a loopback port and in a textfile directory" {
	mport=$((PORT + 5000))
	mkdir "$T/prom"
	start_sink tcp
	start_agent --metrics "127.0.0.1:$mport" --metrics-textfile "$T/prom" --alerts "$T/second.jsonl"
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	run alert_wait kind=alert rule=weights-egress
	[ "$status" -eq 0 ]
	for _ in $(seq 50); do
		python3 "$LIB/promtext.py" "http://127.0.0.1:$mport/metrics" > "$T/m.json" 2>"$T/m.err" &&
			grep -q 'rule=\\"weights-egress\\"' "$T/m.json" && break
		sleep 0.2
	done
	cat "$T/m.err"
	python3 - "$T/m.json" "$ALERTS" <<-'PY'
	import json, sys
	m = json.load(open(sys.argv[1]))
	assert m['vigil_info{version="0.1.0",mode="monitor"}'] == 1
	assert m["vigil_kernel_events_sent_total"] >= 1
	assert m["vigil_kernel_events_lost_total"] == 0
	assert m['vigil_alerts_total{rule="weights-egress",severity="high"}'] == 1
	assert m['vigil_alert_actions_total{rule="weights-connect",action="alert"}'] == 1
	assert m["vigil_agent_tainted_processes"] >= 0 and m["vigil_agent_max_rss_bytes"] > 1e6
	assert m['vigil_agent_cpu_seconds_total{mode="user"}'] > 0
	f = [k for k in m if k.startswith('vigil_sink_records_total{sink="/')]
	assert any(k.endswith('result="written"}') and m[k] >= 3 for k in f), f
	PY
	# the textfile: complete, in the same format, no temporary left behind
	python3 "$LIB/promtext.py" "$T/prom/vigil.prom" > /dev/null
	[ ! -e "$T/prom/.vigil.prom.tmp" ]
	# anything but /metrics is a 404
	run python3 -c 'import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=5)' \
		"http://127.0.0.1:$mport/other"
	[ "$status" -ne 0 ]
	[[ "$output" == *404* ]]
	stop_agent
	run "$VIGIL" run --metrics nowhere
	[ "$status" -eq 2 ]
	[[ "$output" == *"--metrics nowhere: want ADDR:PORT"* ]]
}
