#!/usr/bin/env bats
# Network filesystems a process writes into (issue 11, "writes of tainted
# data to NFS/SMB/FUSE mounts"). FUSE: the kernel hands what a process
# writes into a FUSE file to the filesystem's daemon through /dev/fuse, and
# the daemon (s3fs, rclone mount, sshfs) sends it where it likes — here
# tests/scenarios/fuse_forward.c, which sends every write to the test host.
# A tainted writer's weights make the daemon tainted (via fuse), by bytes
# like a pipe, so its egress is judged with its real destination; log
# lines written into the mount taint nothing.

load ../lib/harness

setup() {
	vigil_setup
	MNT="$T/fuse"
	mkdir -p "$MNT"
	FUSE_PID=""
}
teardown() {
	if mountpoint -q "$MNT" 2>/dev/null; then fusermount3 -u "$MNT" || umount -l "$MNT"; fi
	[ -z "$FUSE_PID" ] || kill "$FUSE_PID" 2>/dev/null || true
	if mountpoint -q "$T/ckpt" 2>/dev/null; then umount -l "$T/ckpt"; fi
	vigil_teardown
}

BUDGET=$((1 << 20))

# mount_forwarder: the FUSE daemon in the test cgroup, sending every write
# into $MNT/upload to the test host's sink
mount_forwarder() {
	in_cg "$VIGIL_ROOT/.output/scenarios/fuse_forward" "$MNT" "$PEER4" "$PORT" > "$T/fuse.out" 2>&1 &
	FUSE_PID=$!
	for _ in $(seq 100); do grep -q ready "$T/fuse.out" 2>/dev/null && mountpoint -q "$MNT" && return 0; sleep 0.05; done
	echo "fuse_forward did not mount" >&2
	cat "$T/fuse.out" >&2
	return 1
}

# write_file SRC DEST: a process in the scope reads SRC and writes it to
# DEST in 1 MiB writes
write_file() {
	run in_cg python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as f:
    for i in range(0, len(data), 1 << 20):
        f.write(data[i:i + (1 << 20)])' "$1" "$2"
}

# write_log_lines DEST: a tainted job (it read the weights first) writes
# 2000 training-log lines (~140 KiB, past the threshold) to DEST, a line a write
write_log_lines() {
	run in_cg python3 -c '
import sys
open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as f:
    for i in range(2000):
        f.write("2026-12-02T12:00:%02d INFO step %d loss=%.4f lr=3e-4 tokens/s=%d\n" % (i % 60, i, 2.5 - i / 1e4, 9000 + i))
        f.flush()' "$W/model.safetensors" "$1"
}

# write_into SRC: into the FUSE mount
write_into() { write_file "$1" "$MNT/upload"; }

@test "netfs: monitor: the weights written into a FUSE mount taint its daemon (via fuse), whose upload is alerted" {
	start_sink tcp
	start_agent --mode monitor
	mount_forwarder
	write_into "$W/model.safetensors"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	run alert_wait --timeout 5 rule=weights-egress process.comm=fuse_forward network.daddr="$PEER4" \
		taint.sources.0.path="$W/model.safetensors" taint.chain.0.via=read taint.chain.1.via=fuse
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=weights-egress-budget process.comm=fuse_forward
	[ "$status" -eq 0 ]
}

@test "netfs: enforce: the FUSE daemon sending the weights written into it is stopped at the budget" {
	start_sink tcp
	start_agent --mode enforce --budget "$BUDGET"
	mount_forwarder
	write_into "$W/model.safetensors"
	got="$(sink_bytes)"
	figure "FUSE daemon forwarding the weights: sink bytes (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	run alert_wait --timeout 5 action=killed severity=critical process.comm=fuse_forward \
		taint.sources.0.path="$W/model.safetensors" taint.chain.1.via=fuse
	[ "$status" -eq 0 ]
}

# logs_into MODE: a job that read the weights writes 2000 log lines
# (~140 KiB, past the threshold) into the mount; its daemon forwards them
# and is not tainted
logs_into() {
	start_sink tcp
	start_agent --mode "$1"
	mount_forwarder
	write_log_lines "$MNT/upload"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -gt $((64 << 10)) ]
	stop_agent
	run alert_none kind=alert process.comm=fuse_forward
	[ "$status" -eq 0 ]
}

@test "netfs: monitor: log lines a tainted job writes into a FUSE mount taint no daemon" {
	logs_into monitor
}

@test "netfs: enforce: log lines a tainted job writes into a FUSE mount taint no daemon, all pass" {
	logs_into enforce
}

# Network filesystems (NFS, SMB, Ceph, 9p, AFS): the kernel itself sends
# what a process writes into one, so a tainted process's write there is its
# own egress, to the mount (bpf/lib/netfs.bpf.h): judged at the write,
# charged to the budget, the writer killed at the write that would overrun
# it. The host has no NFS/SMB/9p client; the kernel guests
# (tests/kernels/run.sh) mount a writable 9p share at $VIGIL_NETFS_DIR,
# whose bytes the guest's kernel sends to qemu as NFS's go to a server.

# netfs_dir: $ND, a fresh directory on the network filesystem, or skip
netfs_dir() {
	[ -n "${VIGIL_NETFS_DIR:-}" ] && [ -d "$VIGIL_NETFS_DIR" ] ||
		skip "no writable network-filesystem mount (VIGIL_NETFS_DIR; the kernel guests' 9p share: tests/kernels/run.sh)"
	# by mountinfo, not statfs: 9p's statfs reports the server's filesystem
	NETFS_FSTYPE="$(awk -v m="$VIGIL_NETFS_DIR" '$5 == m { sub(/.* - /, ""); split($0, f, " "); print f[1]; exit }' /proc/self/mountinfo)"
	case "$NETFS_FSTYPE" in
	nfs|nfs4|cifs|smb3|ceph|9p|afs) ;;
	*) skip "VIGIL_NETFS_DIR=$VIGIL_NETFS_DIR is no network filesystem mount (${NETFS_FSTYPE:-not a mount point})" ;;
	esac
	ND="$VIGIL_NETFS_DIR/t$BATS_TEST_NUMBER.$$"
	mkdir -p "$ND" || skip "VIGIL_NETFS_DIR=$VIGIL_NETFS_DIR is not writable"
}

# write_netfs SRC: into $ND/upload on the network filesystem
write_netfs() { write_file "$1" "$ND/upload"; }

@test "netfs: monitor: the weights a process writes into a network filesystem are alerted as its egress, naming the mount" {
	netfs_dir
	start_agent --mode monitor
	write_netfs "$W/model.safetensors"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$ND/upload")" -eq $((4 << 20)) ]
	run alert_wait --timeout 10 rule=weights-egress network.family=netfs \
		network.mount.point="$VIGIL_NETFS_DIR" network.mount.fstype="$NETFS_FSTYPE" \
		network.content=weights taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
	run alert_wait --timeout 10 rule=weights-egress-budget network.family=netfs \
		network.mount.point="$VIGIL_NETFS_DIR" enforce_action=killed
	[ "$status" -eq 0 ]
	stop_agent
}

@test "netfs: enforce: the writer of the weights into a network filesystem is killed at the budget, the file holds at most the budget" {
	netfs_dir
	start_agent --mode enforce --budget "$BUDGET"
	write_netfs "$W/model.safetensors"
	[ "$status" -ne 0 ]	# SIGKILLed
	sync
	got="$(stat -c %s "$ND/upload")"
	figure "weights written into a $NETFS_FSTYPE mount: bytes on the share (budget $BUDGET)" "$got"
	[ "$got" -le "$BUDGET" ]
	# not charged twice (at the write and again as its pages are dirtied):
	# the 1 MiB writes stop at the second, not inside the first
	[ "$got" -gt $((BUDGET / 2)) ]
	run alert_wait --timeout 10 action=killed severity=critical network.family=netfs \
		network.mount.point="$VIGIL_NETFS_DIR" taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
	stop_agent
}

@test "netfs: enforce: a tainted job writing log lines into a network filesystem is not killed" {
	netfs_dir
	start_agent --mode enforce --budget "$BUDGET"
	write_log_lines "$ND/run.log"
	[ "$status" -eq 0 ]
	[ "$(wc -l < "$ND/run.log")" -eq 2000 ]
	figure "log lines a tainted job wrote into a $NETFS_FSTYPE mount: bytes (budget $BUDGET)" "$(stat -c %s "$ND/run.log")"
	stop_agent
	run alert_none kind=alert action=killed
	[ "$status" -eq 0 ]
	run alert_none kind=alert network.content=weights
	[ "$status" -eq 0 ]
}

# Writes no write hook charges at their entry — pwrite64/pwritev, a shared
# mapping, io_uring — are charged as their pages are dirtied (netfs__dirty).
# write_other HOW SRC DEST: a process in the scope reads SRC and writes it
# into DEST by pwrite (HOW pwrite, 256 KiB a call) or through a shared
# mapping (HOW mmap, the file sized first); HOW unread: by writev, 64 KiB a
# call, from iovecs the probe read at its entry cannot read
# (tests/scenarios/writev_unread.py), charged by page like the others
write_other() {
	if [ "$1" = unread ]; then	# writev, its iovecs on pages never touched
		run in_cg python3 "$SCEN/writev_unread.py" "$2" "$3"
		return
	fi
	run in_cg python3 -c '
import mmap, os, sys
how, src, dest = sys.argv[1:4]
data = open(src, "rb").read()
fd = os.open(dest, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
if how == "pwrite":
    for off in range(0, len(data), 1 << 18):
        os.pwrite(fd, data[off:off + (1 << 18)], off)
else:
    os.ftruncate(fd, len(data))
    m = mmap.mmap(fd, len(data), mmap.MAP_SHARED, mmap.PROT_WRITE)
    for off in range(0, len(data), 1 << 16):
        m[off:off + (1 << 16)] = data[off:off + (1 << 16)]
    m.flush()
os.close(fd)' "$@"
}

# written_bytes FILE: the bytes of FILE's non-zero 4 KiB pages (a mapped
# file is sized before it is written)
written_bytes() {
	python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
print(sum(4096 for i in range(0, len(d), 4096) if d[i:i + 4096].strip(b"\0")))' "$1"
}

# killed_writing HOW WHAT: the weights written into the share by HOW
# (write_other) are charged as their pages are dirtied: the writer killed
# at the budget, the share holding at most a few pages more
killed_writing() {
	netfs_dir
	start_agent --mode enforce --budget "$BUDGET"
	write_other "$1" "$W/model.safetensors" "$ND/upload"
	[ "$status" -ne 0 ]	# SIGKILLed
	sync
	got="$(written_bytes "$ND/upload")"
	figure "weights written by $2 into a $NETFS_FSTYPE mount: non-zero bytes on the share (budget $BUDGET)" "$got"
	[ "$got" -le $((BUDGET + 65536)) ]
	run alert_wait --timeout 10 action=killed network.family=netfs network.mount.point="$VIGIL_NETFS_DIR" \
		taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
	stop_agent
}

@test "netfs: enforce: the weights pwrite()n into a network filesystem are charged as their pages are dirtied: killed at the budget" {
	killed_writing pwrite "pwrite()"
}

@test "netfs: enforce: the weights writev()n from iovecs vigil cannot read are charged as their pages are dirtied: killed at the budget" {
	killed_writing unread "writev() from unread iovecs"
}

@test "netfs: enforce: the weights copied into a shared mapping of a network-filesystem file are charged as its pages are dirtied: killed at the budget" {
	killed_writing mmap "stores into a shared mapping"
}

@test "netfs: monitor: the weights pwrite()n into a network filesystem are alerted past the budget, all written" {
	netfs_dir
	start_agent --mode monitor --budget "$BUDGET"
	write_other pwrite "$W/model.safetensors" "$ND/upload"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$ND/upload")" -eq $((4 << 20)) ]
	run alert_wait --timeout 10 rule=weights-egress-budget network.family=netfs \
		network.mount.point="$VIGIL_NETFS_DIR" enforce_action=killed
	[ "$status" -eq 0 ]
	stop_agent
}

# A site's checkpoint store on network storage, named by an allow entry
# (`mount:`, docs/RULES.md): a tainted job's writes into it are not egress.
# allow_mount ENTRY...: a rule file of allow entries (YAML flow mappings)
allow_mount() {
	{ echo "allow:"; for e in "$@"; do echo "  - $e"; done; } > "$T/mounts.yaml"
}

# writes_whole: the writer ran to its end, the file holds the weights, and
# nothing was alerted as egress into the mount or killed
writes_whole() {
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$1")" -eq $((4 << 20)) ]
	stop_agent
	run alert_none kind=alert network.family=netfs
	[ "$status" -eq 0 ]
	run alert_none kind=alert action=killed
	[ "$status" -eq 0 ]
}

@test "netfs: enforce: the weights written into a mount an allow entry names are not egress (a checkpoint store): written whole, nobody killed" {
	netfs_dir
	allow_mount "{name: checkpoints, mount: \"$VIGIL_NETFS_DIR\"}"
	start_agent --mode enforce --budget "$BUDGET" --rules "$T/mounts.yaml"
	write_netfs "$W/model.safetensors"
	writes_whole "$ND/upload"
}

@test "netfs: enforce: a mount allowed for the writer's executable lets it through; one for another executable or another source does not" {
	netfs_dir
	py="$(readlink -f "$(command -v python3)")"
	allow_mount "{name: py, mount: \"$VIGIL_NETFS_DIR\", exe: [\"$py\"]}"
	start_agent --mode enforce --budget "$BUDGET" --rules "$T/mounts.yaml"
	write_netfs "$W/model.safetensors"
	writes_whole "$ND/upload"
	rm -f "$ND/upload" "$ALERTS"
	allow_mount "{name: cp-only, mount: \"$VIGIL_NETFS_DIR\", exe: [/usr/bin/cp]}" \
		"{name: other-server, mount: \"$VIGIL_NETFS_DIR\", source: \"other-server:/*\"}"
	start_agent --mode enforce --budget "$BUDGET" --rules "$T/mounts.yaml"
	write_netfs "$W/model.safetensors"
	[ "$status" -ne 0 ]	# SIGKILLed
	sync
	[ "$(stat -c %s "$ND/upload")" -le "$BUDGET" ]
	run alert_wait --timeout 10 action=killed network.family=netfs network.mount.point="$VIGIL_NETFS_DIR"
	[ "$status" -eq 0 ]
	stop_agent
}

@test "netfs: enforce: a mount made after the start is allowed when it appears and charged again once it is gone" {
	netfs_dir
	mkdir -p "$T/ckpt"
	allow_mount "{name: checkpoints, mount: \"$T/ckpt\"}"
	start_agent --mode enforce --budget "$BUDGET" --rules "$T/mounts.yaml"
	# a bind mount of the share: the same superblock, so the share is allowed
	mount --bind "$ND" "$T/ckpt"
	for _ in $(seq 50); do grep -q "1 network-filesystem mounts allowed" "$AGENT_ERR" && break; sleep 0.1; done
	grep -q "1 network-filesystem mounts allowed" "$AGENT_ERR"
	write_file "$W/model.safetensors" "$T/ckpt/upload"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$ND/upload")" -eq $((4 << 20)) ]
	umount "$T/ckpt"
	for _ in $(seq 50); do grep -q "0 network-filesystem mounts allowed" "$AGENT_ERR" && break; sleep 0.1; done
	grep -q "0 network-filesystem mounts allowed" "$AGENT_ERR"
	write_file "$W/model.safetensors" "$ND/again"
	[ "$status" -ne 0 ]	# SIGKILLed: the share is no longer named
	sync
	[ "$(stat -c %s "$ND/again")" -le "$BUDGET" ]
	stop_agent
}
