#!/usr/bin/env bats
# Propagation by bytes, not by contact (issue 10 item 6): a tainted process
# (it read the weights) writes log lines to a /dev/log-like datagram socket,
# a journald-like stream socket and a `| tee`-like pipe; the receivers are
# not tainted — no alert, no kill — however much text arrives (more than the
# 64 KiB threshold: text never propagates). The twins carry the weights
# themselves through the same channels: the receiver is tainted (via unix /
# pipe, named by the weight file) and its egress to the test host is
# alerted (monitor) or stopped at the budget (enforce). Then the threshold:
# 32 KiB of weights taint nobody by default, and do with
# --propagate-min-bytes 16KiB.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

BUDGET=$((1 << 20))
LS="$SCEN/logsink.py"
LOG_LINES=1000	# ~105 KiB of syslog-style text

# ch_run KIND WHAT N MODE [AGENT ARGS...]: the receiver (logsink.py recv)
# and the tainted sender over KIND (dgram, stream, pipe); sets recv_rc
ch_run() {
	local kind="$1" what="$2" n="$3" mode="$4" recv
	shift 4
	start_sink tcp
	start_agent --mode "$mode" "$@"
	if [ "$kind" = pipe ]; then
		run in_cg sh -c 'python3 "$1" send pipe - "$2" "$3" "$4" |
			python3 "$1" recv pipe - "$5" "$6" > "$7"' sh \
			"$LS" "$W/model.safetensors" "$what" "$n" "$PEER4" "$PORT" "$T/recv.out"
		recv_rc=$status
		return 0
	fi
	in_cg python3 "$LS" recv "$kind" "$T/ch.sock" "$PEER4" "$PORT" > "$T/recv.out" &
	recv=$!
	for _ in $(seq 100); do [ -e "$T/ch.sock.ready" ] && break; sleep 0.05; done
	run in_cg python3 "$LS" send "$kind" "$T/ch.sock" "$W/model.safetensors" "$what" "$n"
	[ "$status" -eq 0 ]
	recv_rc=0
	wait "$recv" || recv_rc=$?
}

# not_tainted: the receiver got and forwarded everything, and nothing was
# said or done about it (it was never tainted: no connect, no egress alert)
not_tainted() {
	[ "$recv_rc" -eq 0 ]
	local got
	got="$(cat "$T/recv.out")"
	[ "$got" -gt 0 ]
	[ "$(sink_bytes)" -eq "$got" ]
	stop_agent
	run alert_none kind=alert process.cmdline~"logsink.py recv"
	[ "$status" -eq 0 ]
}

# tainted MODE VIA: the receiver's egress was judged as the weights'
tainted() {
	local mode="$1" via="$2"
	if [ "$mode" = enforce ]; then
		[ "$recv_rc" -ne 0 ]
		[ "$(sink_bytes)" -le "$BUDGET" ]
		run alert_wait mode=enforce action~ed process.cmdline~"logsink.py recv" \
			taint.sources.0.path="$W/model.safetensors" taint.chain.1.via="$via" \
			taint.depth=1
		figure "bytes past a $via receiver, enforce ($BATS_TEST_DESCRIPTION)" "$(sink_bytes)"
	else
		[ "$recv_rc" -eq 0 ]
		run alert_wait rule=weights-egress mode=monitor process.cmdline~"logsink.py recv" \
			taint.sources.0.path="$W/model.safetensors" taint.chain.0.via=read \
			taint.chain.1.via="$via" taint.depth=1 network.daddr="$PEER4"
	fi
	[ "$status" -eq 0 ]
}

# ---- log lines: by contact they tainted the log daemon ---------------------

@test "localbytes: monitor: syslog lines to a /dev/log-like datagram path taint no log daemon" {
	ch_run dgram log "$LOG_LINES" monitor
	not_tainted
}

@test "localbytes: enforce: syslog lines to a /dev/log-like datagram path: the log daemon forwards them" {
	ch_run dgram log "$LOG_LINES" enforce
	not_tainted
}

@test "localbytes: monitor: log lines over a connected unix stream taint no journald" {
	ch_run stream log "$LOG_LINES" monitor
	not_tainted
}

@test "localbytes: enforce: log lines over a connected unix stream: the receiver forwards them" {
	ch_run stream log "$LOG_LINES" enforce
	not_tainted
}

@test "localbytes: monitor: a job's log lines into a pipe taint no tee" {
	ch_run pipe log "$LOG_LINES" monitor
	not_tainted
}

@test "localbytes: enforce: a job's log lines into a pipe: its reader forwards them" {
	ch_run pipe log "$LOG_LINES" enforce
	not_tainted
}

# ---- the weights through the same channels ----------------------------------

@test "localbytes: monitor: the weights as datagrams to the path taint the receiver" {
	ch_run dgram weights $((256 << 10)) monitor
	tainted monitor unix
}

@test "localbytes: enforce: the weights as datagrams to the path: the receiver is stopped" {
	ch_run dgram weights $((4 << 20)) enforce
	tainted enforce unix
}

@test "localbytes: monitor: the weights over a connected unix stream taint the receiver" {
	ch_run stream weights $((256 << 10)) monitor
	tainted monitor unix
}

@test "localbytes: enforce: the weights over a connected unix stream: the receiver is stopped" {
	ch_run stream weights $((4 << 20)) enforce
	tainted enforce unix
}

@test "localbytes: monitor: the weights into a pipe taint its reader" {
	ch_run pipe weights $((256 << 10)) monitor
	tainted monitor pipe
}

@test "localbytes: enforce: the weights into a pipe: its reader is stopped" {
	ch_run pipe weights $((4 << 20)) enforce
	tainted enforce pipe
}

# ---- into a pipe by every way of writing ------------------------------------
# Each of these once passed the weights to the reader uncounted: writev
# counted its first 8 iovecs (8 empty ones hid the rest), writes under 16
# bytes were never judged, pwritev2 (position -1) and sendfile into a pipe
# had no hook.

@test "localbytes: monitor: the weights into a pipe by writev past 8 empty iovecs taint its reader" {
	ch_run pipe weights/writev-sparse $((256 << 10)) monitor
	tainted monitor pipe
}

@test "localbytes: enforce: the weights into a pipe by writev past 8 empty iovecs: its reader is stopped" {
	ch_run pipe weights/writev-sparse $((4 << 20)) enforce
	tainted enforce pipe
}

@test "localbytes: monitor: the weights into a pipe 15 bytes a write taint its reader" {
	ch_run pipe weights/tiny $((256 << 10)) monitor
	tainted monitor pipe
}

@test "localbytes: enforce: the weights into a pipe 15 bytes a write: its reader is stopped" {
	ch_run pipe weights/tiny $((2 << 20)) enforce
	tainted enforce pipe
}

@test "localbytes: monitor: a job's log lines into a pipe 15 bytes a write taint no reader" {
	ch_run pipe log/tiny "$LOG_LINES" monitor
	not_tainted
}

@test "localbytes: monitor: the weights into a pipe by pwritev2 at position -1 taint its reader" {
	ch_run pipe weights/pwritev2 $((256 << 10)) monitor
	tainted monitor pipe
}

@test "localbytes: enforce: the weights into a pipe by pwritev2 at position -1: its reader is stopped" {
	ch_run pipe weights/pwritev2 $((4 << 20)) enforce
	tainted enforce pipe
}

@test "localbytes: monitor: the weights sendfile'd into a pipe taint its reader" {
	ch_run pipe weights/sendfile $((256 << 10)) monitor
	tainted monitor pipe
}

@test "localbytes: enforce: the weights sendfile'd into a pipe: its reader is stopped" {
	ch_run pipe weights/sendfile $((4 << 20)) enforce
	tainted enforce pipe
}

# sendfile has no buffer to sample; its source decides: a text file is not
# the weights (a fail-closed count would taint the reader after 64 KiB)
@test "localbytes: monitor: a tainted job's text file sendfile'd into a pipe taints no reader" {
	python3 "$LS" send pipe - "$W/model.safetensors" log "$LOG_LINES" > "$T/log.txt"
	LOGSINK_SENDFILE_FROM="$T/log.txt" ch_run pipe log/sendfile "$LOG_LINES" monitor
	not_tainted
}

# ---- the threshold --------------------------------------------------------------

@test "localbytes: monitor: 32 KiB of weights over a unix stream stay below the default threshold" {
	ch_run stream weights $((32 << 10)) monitor
	not_tainted
}

@test "localbytes: monitor: --propagate-min-bytes 16KiB: the same 32 KiB taint the receiver" {
	ch_run stream weights $((32 << 10)) monitor --propagate-min-bytes 16KiB
	tainted monitor unix
}

# ---- a middle stage that never sends ------------------------------------------

# cat w | gzip | uploader: gzip never sends; it is tainted in the kernel at
# its first write after its input crossed the threshold, and the uploader by
# the weights-shaped (compressed) bytes gzip writes
@test "localbytes: monitor: cat weights | gzip | uploader: both stages tainted by bytes" {
	start_sink tcp
	start_agent
	run in_cg sh -c 'cat "$1" | gzip -1 | python3 "$2" --stdin --host "$3" --port "$4"' sh \
		"$W/model.safetensors" "$EXFIL" "$PEER4" "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress process.comm=python3 taint.chain.0.comm=cat \
		taint.chain.0.via=read taint.chain.1.comm=gzip taint.chain.1.via=pipe \
		taint.chain.2.via=pipe taint.depth=2 taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
}

@test "localbytes: enforce: cat weights | gzip | uploader is stopped at the budget" {
	start_sink tcp
	start_agent --mode enforce
	run in_cg sh -c 'cat "$1" | gzip -1 | python3 "$2" --stdin --host "$3" --port "$4"' sh \
		"$W/model.safetensors" "$EXFIL" "$PEER4" "$PORT"
	[ "$status" -ne 0 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
	run alert_wait action~ed process.comm=python3 taint.chain.1.comm=gzip \
		taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
}

# ---- the race, repeated ----------------------------------------------------------

# the taint crossing a unix stream is a race (the sender's queued bytes, the
# receiver's next send); five rounds with CPU load beside it (in the test
# cgroup: teardown kills it): the sink never gets more than the budget over
# all rounds, and every round's receiver is stopped and named by the weights
@test "localbytes: enforce: the weights over a unix stream, five times under CPU load, never pass the budget" {
	start_sink tcp
	start_agent --mode enforce
	local burn=() round recv
	for _ in 1 2; do in_cg sh -c 'while :; do :; done' & burn+=($!); done
	for round in 1 2 3 4 5; do
		rm -f "$T/ch.sock" "$T/ch.sock.ready"
		in_cg python3 "$LS" recv stream "$T/ch.sock" "$PEER4" "$PORT" > "$T/recv.out" &
		recv=$!
		for _ in $(seq 100); do [ -e "$T/ch.sock.ready" ] && break; sleep 0.05; done
		run in_cg python3 "$LS" send stream "$T/ch.sock" "$W/model.safetensors" weights $((2 << 20))
		recv_rc=0
		wait "$recv" || recv_rc=$?
		[ "$recv_rc" -ne 0 ]
	done
	kill "${burn[@]}"
	got="$(sink_bytes)"
	figure "unix stream x5 under CPU load: bytes past the receivers (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	stop_agent
	n="$(alert_distinct process.pid kind=alert process.cmdline~"logsink.py recv" \
		action=~'^(blocked|killed)$' taint.chain.1.via=unix taint.sources.0.path="$W/model.safetensors")"
	[ "$n" -eq 5 ]
}

# one agent, ten rounds under CPU load: the weights over a unix stream to one
# receiver, then log lines to another, in turn. Unix sockets come and go, so
# the slab puts later sockets where earlier ones were: a mark that outlived
# its socket would taint a log receiver (or miss a weights one). Every
# weights receiver is named, no log receiver is, and a log receiver whose
# line was judged on a freed skb would show up here too.
@test "localbytes: monitor: weights and log lines over unix streams in turn, under CPU load: only the weights receivers are tainted" {
	start_sink tcp
	start_agent
	local burn=() round what n recv
	for _ in 1 2; do in_cg sh -c 'while :; do :; done' & burn+=($!); done
	for round in 1 2 3 4 5 6 7 8 9 10; do
		if [ $((round % 2)) -eq 1 ]; then what=weights n=$((256 << 10)); else what=log n=$LOG_LINES; fi
		in_cg python3 "$LS" recv stream "$T/$what$round.sock" "$PEER4" "$PORT" > "$T/recv.out" &
		recv=$!
		for _ in $(seq 100); do [ -e "$T/$what$round.sock.ready" ] && break; sleep 0.05; done
		run in_cg python3 "$LS" send stream "$T/$what$round.sock" "$W/model.safetensors" "$what" "$n"
		[ "$status" -eq 0 ]
		wait "$recv"
	done
	kill "${burn[@]}"
	run alert_wait --count 5 rule=weights-egress process.cmdline~"logsink.py recv stream $T/weights" \
		taint.chain.1.via=unix taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
	stop_agent
	# five distinct weights receivers, each named by the weights
	n="$(alert_distinct process.pid kind=alert rule=weights-egress \
		process.cmdline~"logsink.py recv stream $T/weights" taint.sources.0.path="$W/model.safetensors")"
	[ "$n" -eq 5 ]
	run alert_none kind=alert process.cmdline~"logsink.py recv stream $T/log"
	[ "$status" -eq 0 ]
}
