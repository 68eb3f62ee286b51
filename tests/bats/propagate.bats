#!/usr/bin/env bats
# Propagation (issue 10): bytes of the weights followed through derived files
# (copies, archives, encryptions, copies of copies) and local relays, to an
# upload by a process that never touched the weights. Every path is tested in
# monitor and in enforce mode, and every alert must name the original weight
# file in taint.sources and each hop in taint.chain.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

BUDGET=$((1 << 20))

# upload FILE MODE: a fresh process sends FILE to the test host; monitor: it
# all arrives and is alerted; enforce: the connection is refused, nothing
# arrives. Sets status like leak.
upload() {
	leak --src "$1" --host "$PEER4" --port "$PORT"
	if [ "$2" = enforce ]; then
		# refused at connect (3), or killed first by a chain rule
		# (weights-encrypt-then-send sees openssl in the chain: 137)
		[ "$status" -eq 3 ] || [ "$status" -eq 137 ]
		[ "$(sink_bytes)" -le "$BUDGET" ]
		run alert_wait rule=weights-connect action=blocked mode=enforce \
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

@test "propagate: enforce: a copy of a deleted copy is refused, named by the weights" {
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

@test "propagate: enforce: an upload of a tar czf archive is refused, named by the weights" {
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

@test "propagate: enforce: an upload of an openssl-encrypted copy is refused, named by the weights" {
	openssl_chain enforce
}
