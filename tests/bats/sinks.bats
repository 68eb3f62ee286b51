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
	start_agent --mode enforce --deny-new-destinations --alerts -,queue=2 > "$T/stall"
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

@test "sinks: fleet: a shipper following the file by inode gets every record once across rotations" {
	# what Fluent Bit, Vector and the OTel Collector rely on (none is a
	# Debian package here): rotated while the shipper reads, gzip'd and
	# pruned (keep=1) behind it, the stream it read is whole and gapless
	python3 "$LIB/follow.py" "$T/ship.jsonl" "$T/shipped.jsonl" --ready "$T/follow.ready" \
		--timeout 60 > "$T/follow.out" &
	fpid=$!
	SINK_PIDS="$SINK_PIDS $fpid"
	for _ in $(seq 100); do [ -e "$T/follow.ready" ] && break; sleep 0.05; done
	start_agent --alerts "$T/ship.jsonl,max_size=4K,keep=1" --stats-interval 1 --heartbeat 1
	# until the kept rotated file no longer holds the first record
	for _ in $(seq 200); do
		[ -e "$T/ship.jsonl.1.gz" ] && ! zcat "$T/ship.jsonl.1.gz" 2>/dev/null |
			grep -q '"seq":1,' && break
		sleep 0.1
	done
	# at least two rotations: the first file is gone (keep=1) by now
	[ -e "$T/ship.jsonl.1.gz" ]
	! zcat "$T/ship.jsonl.1.gz" | grep -q '"seq":1,'
	stop_agent
	wait "$fpid"
	cat "$T/follow.out"
	# every record the agent wrote, in order, once: the native file sink's
	# own copy is the reference
	same_records "$ALERTS" "$T/shipped.jsonl"
	run "$ALERTS_PY" records "$T/shipped.jsonl"
	[ "$status" -eq 0 ]
	[ "$(sed -n 's/files followed: //p' "$T/follow.out")" -ge 3 ]
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
	start_agent --mode enforce --deny-new-destinations --rate-limit 1
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

@test "sinks: syslog over TLS (RFC 5425) to a real rsyslogd; a wrong CA or name delivers nothing" {
	load ../lib/rsyslog
	load ../lib/testca
	make_test_ca "$T/ca"
	rport=$((PORT + 3000))
	tport=$((PORT + 3100))
	mport=$((PORT + 3200))
	start_rsyslog "$rport" "$tport" "$mport"
	start_sink tcp
	# by IP address and by DNS name against the test CA; then a CA that did
	# not sign the collector, and a name its certificate does not carry;
	# last, a collector that wants a client certificate: with one, without
	start_agent --alerts "syslog:tls://127.0.0.1:$tport,ca=$T/ca/ca.pem,facility=local5" \
		--alerts "syslog:tls://localhost:$tport,ca=$T/ca/ca.pem,facility=local6,format=cef" \
		--alerts "syslog:tls://127.0.0.1:$tport,ca=$T/ca/other-ca.pem,facility=local1" \
		--alerts "syslog:tls://127.0.0.1:$tport,ca=$T/ca/ca.pem,name=other.test,facility=local2" \
		--alerts "syslog:tls://127.0.0.1:$mport,ca=$T/ca/ca.pem,cert=$T/ca/client.pem,key=$T/ca/client.key,facility=local4" \
		--alerts "syslog:tls://127.0.0.1:$mport,ca=$T/ca/ca.pem,facility=local7"
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag 'tls"log]'
	run alert_wait kind=alert rule=weights-egress
	[ "$status" -eq 0 ]
	stop_agent
	n="$(wc -l < "$ALERTS")"
	for _ in $(seq 100); do [ "$(wc -l < "$T/syslog.out")" -ge $((3 * n)) ] && break; sleep 0.1; done
	cat "$T/rsyslog.err" >&2
	python3 - "$ALERTS" "$T/syslog.out" "$LIB" <<-'PY'
	import json, sys
	sys.path.insert(0, sys.argv[3])
	import formats
	nat = [json.loads(l) for l in open(sys.argv[1])]
	got = [l.rstrip("\n").split("|", 8) for l in open(sys.argv[2])]
	ip = [g for g in got if g[0] == "local5"]
	dns = [g for g in got if g[0] == "local6"]
	mutual = [g for g in got if g[0] == "local4"]
	assert len(ip) == len(nat) and len(dns) == len(nat), (len(ip), len(dns), len(nat))
	assert [json.loads(g[8]) for g in mutual] == nat, (len(mutual), len(nat))
	assert not [g for g in got if g[0] in ("local1", "local2")], "refused peer got records"
	assert not [g for g in got if g[0] == "local7"], "no client certificate, yet taken"
	for r, l, c in zip(nat, ip, dns):
	    assert json.loads(l[8]) == r and l[6] == r["kind"]      # in order, whole
	    assert 'id="%s"' % r["id"] in l[7]
	    hdr, ext = formats.cef_parse(c[8][c[8].find("CEF:"):])
	    assert ext["externalId"] == r["id"]
	PY
	# the refused sinks said why once, and counted every record failed
	grep -q "certificate of 127.0.0.1 not accepted" "$AGENT_ERR"
	grep -q "certificate of other.test not accepted" "$AGENT_ERR"
	python3 - "$(alert_get sinks kind=agent_stop)" "$tport" <<-'PY'
	import json, sys
	s = {x["sink"] + "," + x["format"]: x for x in json.loads(sys.argv[1])}
	t = [x for x in json.loads(sys.argv[1]) if x["sink"].startswith("syslog:tls://")]
	assert len(t) == 6, t
	ok, bad = t[:2] + t[4:5], t[2:4]
	assert all(x["failed"] == 0 and x["written"] >= 3 for x in ok), ok
	assert all(x["written"] == 0 and x["failed"] >= 3 for x in bad), bad
	PY
	# a missing CA file, TLS keys on a plain sink: refused at start
	run "$VIGIL" run --alerts "syslog:tls://127.0.0.1:$tport,ca=$T/none.pem"
	[ "$status" -eq 2 ]
	[[ "$output" == *"ca= $T/none.pem"* ]]
	run "$VIGIL" run --alerts "syslog:tcp://127.0.0.1:$tport,ca=$T/ca/ca.pem"
	[ "$status" -eq 2 ]
	[[ "$output" == *"are for syslog:tls://"* ]]
	run "$VIGIL" run --alerts "syslog:tls://127.0.0.1:$tport,cert=$T/ca/client.pem"
	[ "$status" -eq 2 ]
	[[ "$output" == *"cert= and key= go together"* ]]
	run "$VIGIL" run --alerts "syslog:tls://127.0.0.1:$tport,cert=$T/ca/client.pem,key=$T/ca/server.key"
	[ "$status" -eq 2 ]
	[[ "$output" == *"key= $T/ca/server.key"* ]]
}

# start_http PORT [NAME [ARGS...]]: the test's HTTP collector
# (tests/lib/http_sink.py: --api, --token, --cert/--key, ...) writing the
# records it took into $T/NAME.jsonl (default http), bodies of the wrong
# shape into $T/NAME.jsonl.errors; its pid in HTTP_PID
start_http() {
	local port="$1" name="${2:-http}"
	shift; shift || true
	rm -f "$T/$name.ready"
	python3 "$LIB/http_sink.py" --port "$port" --out "$T/$name.jsonl" \
		--ready "$T/$name.ready" "$@" &
	HTTP_PID=$!
	SINK_PIDS="$SINK_PIDS $HTTP_PID"
	for _ in $(seq 100); do [ -e "$T/$name.ready" ] && return 0; sleep 0.05; done
	return 1
}

# same_records WANT GOT [--any-order]: GOT holds exactly WANT's records,
# each once, in order (or in any order: Elastic's index has none)
same_records() {
	python3 - "$@" <<-'PY'
	import json, sys
	want = [json.loads(l) for l in open(sys.argv[1])]
	got = [json.loads(l) for l in open(sys.argv[2])]
	ids = [g["id"] for g in got]
	assert len(ids) == len(set(ids)), "duplicates"
	if "--any-order" in sys.argv:
	    want.sort(key=lambda r: r["seq"])
	    got.sort(key=lambda r: r["seq"])
	assert got == want, (len(got), len(want), [r["seq"] for r in got])
	PY
}

# leak_then_heartbeats TAG N: one leak (tagged TAG), its egress alert, then
# N heartbeats (--heartbeat 1): a stream of several kinds for the receivers
leak_then_heartbeats() {
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag "$1"
	alert_wait kind=alert rule=weights-egress process.cmdline~"$1" >/dev/null || return 1
	alert_wait --timeout 10 --count "$2" kind=heartbeat >/dev/null
}

@test "sinks: fleet: the host's rsyslog forwards to Elasticsearch as docs/FLEET.md configures it" {
	load ../lib/rsyslog
	eport=$((PORT + 4100))
	start_http "$eport" es --api elastic
	# the docs' block as it is, pointed at the test's receiver
	python3 - "$VIGIL_ROOT/docs/FLEET.md" "$eport" > "$T/60-vigil.conf" <<-'PY'
	import re, sys
	doc = open(sys.argv[1]).read()
	conf = re.search(r"```\n# /etc/rsyslog.d/60-vigil.conf\n(.*?)```", doc, re.S).group(1)
	assert 'server="es.soc.example" serverport="9200"' in conf
	print(conf.replace('server="es.soc.example" serverport="9200"',
	                   'server="127.0.0.1" serverport="%s"' % sys.argv[2]))
	PY
	start_rsyslog_with "$T/60-vigil.conf"
	start_sink tcp
	start_agent --alerts "syslog:,socket=$T/fwd.sock" --heartbeat 1
	leak_then_heartbeats forwarded 2
	stop_agent
	n="$(wc -l < "$ALERTS")"
	for _ in $(seq 100); do [ "$(wc -l < "$T/es.jsonl")" -ge "$n" ] && break; sleep 0.1; done
	cat "$T/rsf.err" >&2
	[ ! -s "$T/es.jsonl.errors" ]
	same_records "$ALERTS" "$T/es.jsonl" --any-order
}

@test "sinks: Splunk HEC, Elastic _bulk and Loki push bodies, checked by real receivers" {
	hport=$((PORT + 4000))
	start_http "$hport" hec --api splunk --token 7f3a-T0K3N
	start_http $((hport + 1)) bulk --api elastic
	start_http $((hport + 2)) loki --api loki
	start_sink tcp
	# a URL without a path gets the API's
	start_agent --label partner=acme \
		--alerts "http://127.0.0.1:$hport,api=splunk,token=7f3a-T0K3N,batch=3" \
		--alerts "http://127.0.0.1:$((hport + 1)),api=elastic,index=vigil-test,batch=3" \
		--alerts "http://127.0.0.1:$((hport + 2)),api=loki,batch=3" --heartbeat 1
	leak_then_heartbeats shaped 2
	stop_agent
	for f in hec bulk loki; do
		cat "$T/$f.jsonl.errors" >&2 || true
		[ ! -s "$T/$f.jsonl.errors" ]
	done
	same_records "$ALERTS" "$T/hec.jsonl"
	same_records "$ALERTS" "$T/loki.jsonl"
	same_records "$ALERTS" "$T/bulk.jsonl" --any-order
	# and the receivers can refuse: a wrong token is a 400, retried, never taken
	: > "$ALERTS"
	start_http $((hport + 3)) wrong --api splunk --token right
	start_agent --alerts "http://127.0.0.1:$((hport + 3)),api=splunk,token=wrong"
	stop_agent
	[ ! -s "$T/wrong.jsonl" ]
	grep -q "Authorization 'Splunk wrong'" "$T/wrong.jsonl.errors"
	# keys of another API, elastic with CEF: refused at start
	for spec in "http://127.0.0.1:1,api=loki,token=x" "http://127.0.0.1:1,api=elastic,format=cef" \
		"http://127.0.0.1:1,api=kafka" "http://127.0.0.1:1,ca=$T/none.pem"; do
		run "$VIGIL" run --alerts "$spec"
		[ "$status" -eq 2 ]
		[[ "$output" == *"--alerts"* ]]
	done
}

@test "sinks: https with ca=; Elastic partial failures retried without a duplicate, refusals counted" {
	load ../lib/testca
	make_test_ca "$T/ca"
	hport=$((PORT + 4000))
	# every second item is answered 429 the first time it comes; records
	# of the process tagged reject-me are refused for good (a mapping error)
	start_http "$hport" bulk --api elastic --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
		--retry-items 1000 --reject reject-me
	# and a collector that wants a client certificate of the test CA
	start_http $((hport + 1)) mtls --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
		--client-ca "$T/ca/ca.pem"
	start_sink tcp
	start_agent --alerts "https://localhost:$hport,api=elastic,ca=$T/ca/ca.pem,batch=4" \
		--alerts "https://127.0.0.1:$hport/_bulk,api=elastic,ca=$T/ca/other-ca.pem" \
		--alerts "https://127.0.0.1:$((hport + 1))/in,ca=$T/ca/ca.pem,cert=$T/ca/client.pem,key=$T/ca/client.key" \
		--alerts "https://127.0.0.1:$((hport + 1))/in,ca=$T/ca/ca.pem" \
		--heartbeat 1
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --tag reject-me
	leak --src "$W/model.safetensors" --host "$PEER6" --port "$PORT" --tag kept
	run alert_wait kind=alert process.cmdline~kept
	[ "$status" -eq 0 ]
	run alert_wait --timeout 10 --count 3 kind=heartbeat
	[ "$status" -eq 0 ]
	stop_agent
	cat "$T/bulk.jsonl.errors" >&2 || true
	[ ! -s "$T/bulk.jsonl.errors" ]
	# every record but the refused ones, each exactly once
	grep -v reject-me "$ALERTS" > "$T/want.jsonl"
	[ "$(grep -c reject-me "$ALERTS")" -ge 1 ]
	same_records "$T/want.jsonl" "$T/bulk.jsonl" --any-order
	python3 - "$(alert_get sinks kind=agent_stop)" "$(grep -c reject-me "$ALERTS")" <<-'PY'
	import json, sys
	s = [x for x in json.loads(sys.argv[1]) if x["sink"].startswith("https://")]
	good, untrusted, mutual, nocert = s
	assert nocert["delivered"] == 0 and nocert["posts_failed"] >= 1, nocert
	# refusals counted (agent_stop itself is still on its way when counted)
	assert good["rejected"] >= int(sys.argv[2]) - 1 and good["posts_failed"] >= 1, good
	assert untrusted["delivered"] == 0 and untrusted["posts_failed"] >= 1, untrusted
	PY
	grep -q "refused (status 400: failed to parse field" "$AGENT_ERR"
	# with its client certificate: every record; without: none
	same_records "$ALERTS" "$T/mtls.jsonl"
}

@test "sinks: http sink spools through a receiver outage and delivers all in order, none twice" {
	hport=$((PORT + 4000))
	# Splunk HEC bodies through the outage (the receiver checks each)
	start_http "$hport" http --api splunk --token tok
	start_sink tcp
	start_agent --alerts "http://127.0.0.1:$hport,api=splunk,token=tok,spool=$T/spool,batch=4" \
		--heartbeat 1
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
	start_http "$hport" http --api splunk --token tok
	run "$ALERTS_PY" wait "$T/http.jsonl" --timeout 30 kind=alert process.cmdline~during2
	[ "$status" -eq 0 ]
	t1=$(date +%s%N)
	stop_agent
	run "$ALERTS_PY" wait "$T/http.jsonl" --timeout 15 kind=agent_stop
	[ "$status" -eq 0 ]
	[ ! -s "$T/http.jsonl.errors" ]
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
	# map fill: the protected file is in vg_files, 65536 its capacity
	assert m['vigil_bpf_map_entries{map="vg_files"}'] >= 1
	assert m['vigil_bpf_map_max_entries{map="vg_files"}'] == 65536
	r = m['vigil_bpf_map_fill_ratio{map="vg_files"}']
	assert abs(r - m['vigil_bpf_map_entries{map="vg_files"}'] / 65536) < 1e-9, r
	for name in ("vg_taint", "vg_flows", "vg_allow4", "vg_reads"):
	    assert 0 <= m['vigil_bpf_map_fill_ratio{map="%s"}' % name] <= 1, name
	# no array, storage or ring buffer map (always full, or not countable)
	assert not [k for k in m if k.startswith("vigil_bpf_map_entries") and
	            any(x in k for x in ("vg_budgets", "vg_counters", "vg_socks", "vg_events"))]
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
