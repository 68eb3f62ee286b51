#!/bin/bash
# vigil's kernel matrix: boot Debian kernel packages in qemu (TCG) and run the
# end-to-end suites inside, against the build of this tree.
#
#   tests/kernels/run.sh [KERNEL...]     KERNEL: a name from tests/kernels/matrix
#                                        (e.g. 6.1.0-57), or "host"
#   VIGIL_KERNEL_FILTER=regex            bats --filter inside the VM (default:
#                                        the matrix file's filter for the leg)
#   VIGIL_KERNEL_FILES="a b"             only tests/bats/a.bats, b.bats (default:
#                                        every file; tests/kernels/suite.sh)
#   VIGIL_KERNEL_HOOKS=auto/-fentry      hook sets to run the tests under
#                                        (default: the matrix file's; SET!REGEX
#                                        skips the tests REGEX names, blind there)
#   VIGIL_KERNEL_CMD="cmd"               run this shell command in the guest
#                                        (in the tree, as root) instead of the
#                                        tests: bench/, debugging
#   VIGIL_VM_SMP=2, VIGIL_VM_ACCEL=tcg   the guest's vCPUs and qemu's -accel
#                                        (default: the matrix's ACCEL, else tcg)
#                                        (tcg,thread=single: one host thread
#                                        for all vCPUs)
#
# The VM: the kernel from `apt-get download linux-image-<K>-amd64` (cached in
# .output/kernels/), a busybox initramfs holding only the modules the guest
# needs, and this machine's /usr and this tree shared in read-only over 9p
# (virtio), plus one writable 9p share (the tests' network filesystem), so
# the guest runs the same bats, python3, iproute2 and .output/vigil as the
# host (a copy of the tree's tests, rules and build, taken at start). Writes
# stay in the guest's tmpfs, but for the netfs share's. The guest
# prints its TAP lines on the serial console with a "vigil-tap: " prefix and
# powers off through sysrq; this script counts them. Last line:
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT="$(pwd)"
OUT="$ROOT/.output/kernels"
MATRIX="$ROOT/tests/kernels/matrix"
KMODS="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
	netfs fscache 9pnet 9pnet_virtio 9p veth virtio_blk crc32c_generic ext4 loop dm_mod fuse overlay libcrc32c xfs"
VM_TIMEOUT_S="${VIGIL_VM_TIMEOUT_S:-}"	# default: 900 s, 4800 s for "all"

die() { echo "kernels: $*" >&2; exit 2; }

# matrix_field KERNEL N: field N of KERNEL's line in the matrix file.
matrix_field() {
	awk -v k="$1" -v n="$2" '$1 == k { print $n; exit }' "$MATRIX"
}

# fetch KERNEL: the package unpacked under $OUT/KERNEL (vmlinuz, modules).
fetch() {
	local k="$1" dir="$OUT/$1" deb
	[ -e "$dir/.unpacked" ] && return 0
	mkdir -p "$OUT"
	deb="$(ls "$OUT"/linux-image-"$k"-amd64_*.deb 2>/dev/null | head -1)"
	if [ -z "$deb" ]; then
		# apt-get download writes to the current directory; the package
		# lists are the machine's (never its sources changed)
		# (package lists may be stale on a fresh machine: update once)
		(cd "$OUT" && { apt-get download -q "linux-image-$k-amd64" ||
			{ apt-get update -qq && apt-get download -q "linux-image-$k-amd64"; }; }) >&2 ||
			{ echo "kernels: cannot download linux-image-$k-amd64 (apt-cache search linux-image-6 lists what the mirror serves)" >&2; return 1; }
		deb="$(ls "$OUT"/linux-image-"$k"-amd64_*.deb | head -1)"
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	dpkg-deb -x "$deb" "$dir" || return 1
	depmod -b "$dir" "$(ls "$dir/lib/modules")" || return 1
	touch "$dir/.unpacked"
}

# initramfs KERNEL: busybox, the guest init and the closure of $KMODS.
initramfs() {
	local k="$1" dir="$OUT/$1" img="$OUT/$1/initramfs.cpio.gz" kver mdir stage
	kver="$(ls "$dir/lib/modules")"
	mdir="$dir/lib/modules/$kver"
	# rebuilt when init.sh or this script (KMODS) changed
	if [ -e "$img" ] && [ "$img" -nt tests/kernels/init.sh ] && [ "$img" -nt "$0" ]; then
		echo "$img"
		return 0
	fi
	stage="$(mktemp -d)"
	mkdir -p "$stage"/{bin,dev,proc,sys,newroot,mods,etc}
	cp /bin/busybox "$stage/bin/busybox"
	for app in sh mount mkdir ln cat echo insmod sleep chroot cp sed; do
		ln -s busybox "$stage/bin/$app"
	done
	cp tests/kernels/init.sh "$stage/init"
	chmod +x "$stage/init"
	# what /usr's symlinks point into (awk -> /etc/alternatives/awk) and
	# what its programs read; nothing else of the host's /etc
	cp -a /etc/alternatives "$stage/etc/"
	for f in ld.so.cache ld.so.conf ld.so.conf.d nsswitch.conf protocols services \
		iproute2 bash.bashrc pam.d pam.conf security login.defs; do
		[ -e "/etc/$f" ] && cp -a "/etc/$f" "$stage/etc/"
	done
	# openssl's configuration and the CA bundle (sinks.bats makes a test CA),
	# not the host's private keys
	mkdir -p "$stage/etc/ssl"
	cp -a /etc/ssl/openssl.cnf /etc/ssl/certs "$stage/etc/ssl/" 2>/dev/null || true
	printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
		> "$stage/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$stage/etc/group"
	printf '127.0.0.1 localhost\n::1 localhost\n' > "$stage/etc/hosts"
	# modules in dependency order, decompressed (busybox insmod takes .ko)
	local order="" m path
	for m in $KMODS; do
		path="$(awk -v m="$m" -F: '{ n = $1; sub(".*/", "", n); sub(/\.ko.*/, "", n);
			gsub("-", "_", n); if (n == m) { print $0; exit } }' "$mdir/modules.dep")"
		[ -n "$path" ] || continue	# built in
		for dep in $(echo "${path#*:}" | tr ' ' '\n' | tac) "${path%%:*}"; do
			case " $order " in *" $dep "*) ;; *) order="$order $dep" ;; esac
		done
	done
	: > "$stage/mods/order"
	for dep in $order; do
		local base
		base="$(basename "$dep")"
		case "$base" in
		*.xz) xz -dc "$mdir/$dep" > "$stage/mods/${base%.xz}"; base="${base%.xz}" ;;
		*.zst) zstd -qdc "$mdir/$dep" > "$stage/mods/${base%.zst}"; base="${base%.zst}" ;;
		*) cp "$mdir/$dep" "$stage/mods/$base" ;;
		esac
		echo "$base" >> "$stage/mods/order"
	done
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$img.tmp" && mv "$img.tmp" "$img"
	rm -rf "$stage"
	echo "$img"
}

# boot KERNEL FILTER LOG HOOKS: run the guest, its console to LOG.
boot() {
	local k="$1" filter="$2" log="$3" hooks="$4" dir="$OUT/$1" img vmlinuz
	img="$(initramfs "$k")" || return 1
	vmlinuz="$(ls "$dir"/boot/vmlinuz-*)"
	# a writable 9p share (the guest's VIGIL_NETFS_DIR): a network
	# filesystem whose bytes the guest's kernel sends to qemu, as NFS's to
	# its server (tests/bats/netfs.bats); fresh per leg, its files read
	# here after the guest is what reached the "server"
	NETFS="$OUT/netfs.$$.$k"
	rm -rf "$NETFS" && mkdir -p "$NETFS" || return 1
	# the guest's /tmp: ext4 on a scratch disk, so the tests' weight files
	# live on a page-cache filesystem as on a host (tmpfs reads take
	# another path)
	truncate -s 4G "$SNAP/scratch.img" && mkfs.ext4 -q -F "$SNAP/scratch.img" || return 1
	# -accel tcg: /dev/kvm exists on this machine but hangs at boot; the
	# matrix's ACCEL field (tcg,thread=single for 6.12: docs/KERNELS.md)
	local accel="${VIGIL_VM_ACCEL:-$(matrix_field "$k" 4)}"
	timeout "${VM_TIMEOUT_S:-$([ -n "$filter" ] && echo 900 || echo 4800)}" qemu-system-x86_64 -accel "${accel:-tcg}" -m 2048 -smp "${VIGIL_VM_SMP:-2}" -nographic \
		-no-reboot -nic none \
		-kernel "$vmlinuz" -initrd "$img" \
		-drive file="$SNAP/scratch.img",if=virtio,format=raw,cache=unsafe \
		-virtfs local,path=/usr,mount_tag=usr,security_model=none,readonly=on \
		-virtfs local,path="$SNAP",mount_tag=src,security_model=none,readonly=on \
		-virtfs local,path="$NETFS",mount_tag=netfs,security_model=none \
		-append "console=ttyS0 quiet loglevel=3 panic=-1 vigil.src=$SNAP vigil.filter=$(echo "$filter" | base64 -w0) vigil.slot=${VIGIL_TEST_SLOT:-0} vigil.hooks=$(printf %s "$hooks" | base64 -w0) vigil.files=$(printf %s "${VIGIL_KERNEL_FILES:-}" | base64 -w0) vigil.cmd=$(printf %s "${VIGIL_KERNEL_CMD:-}" | base64 -w0)" \
		</dev/null > "$log" 2>&1
}

# leg KERNEL: one row of the matrix; prints its TAP, sets $p/$f.
leg() {
	local k="$1" filter hooks log tap
	filter="${VIGIL_KERNEL_FILTER:-$(matrix_field "$k" 2)}"
	hooks="${VIGIL_KERNEL_HOOKS:-$(matrix_field "$k" 3)}"
	[ "$filter" = all ] && filter=""
	log="$OUT/$k.$$.console.log"	# runs of one kernel at once keep apart
	tap="$OUT/$k.$$.tap"
	if [ "$k" = host ]; then
		mkdir -p "$OUT"
		tests/kernels/guest.sh "$filter" "$hooks" > "$tap" 2>&1
		sed -i 's/^/vigil-tap: /' "$tap"
		cp "$tap" "$log"
	else
		if ! fetch "$k"; then
			echo "not ok kernel $k: package not available"
			f=$((f + 1))
			return
		fi
		boot "$k" "$filter" "$log" "$hooks"
	fi
	rm -f "$SNAP/scratch.img"
	# what the guest's writes into the netfs share left on this side
	[ -n "${NETFS:-}" ] && [ -d "$NETFS" ] &&
		find "$NETFS" -type f -printf 'vigil-tap: # netfs share: %P %s bytes\n' >> "$log"
	sed -n 's/^vigil-tap: //p' "$log" | tr -d '\r' > "$tap"
	sed "s/^/[$k] /" "$tap"
	p=$((p + $(grep '^ok ' "$tap" | grep -vc ' # skip')))
	skipped=$((skipped + $(grep '^ok ' "$tap" | grep -c ' # skip')))
	f=$((f + $(grep -c '^not ok ' "$tap")))
	local plan ran
	plan="$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap" | awk '{ s += $1 } END { print s + 0 }')"
	ran="$(grep -c -e '^ok ' -e '^not ok ' "$tap")"
	if [ "${plan:-0}" = 0 ] || [ "$ran" != "$plan" ]; then
		echo "not ok [$k] bats planned ${plan:-no} tests, $ran ran"
		f=$((f + 1))
	fi
	if ! grep -q '^# guest done' "$tap"; then
		echo "not ok [$k] the guest did not finish (console: $log)"
		tail -20 "$log" | sed "s/^/# [$k] /"
		f=$((f + 1))
	fi
}

[ "$(id -u)" = 0 ] || die "needs root (qemu's 9p shares, netns inside the guest)"
[ -x .output/vigil ] || die "build first: make"
command -v qemu-system-x86_64 >/dev/null || die "qemu missing: scripts/deps.sh --kernels"
kernels=("$@")
[ ${#kernels[@]} = 0 ] && mapfile -t kernels < <(awk '!/^#/ && NF { print $1 }' "$MATRIX")
# The guest gets a copy of what the tests use, taken now: a rebuild of the
# tree while a VM runs does not change what it tests. It lives where the guest
# mounts nothing of its own (its /tmp, /run, /var/tmp and /dev/shm are fresh
# filesystems that would hide a tree cloned below them, as CI's may be).
SNAP="/var/lib/vigil-kernels/tree.$$"
trap 'rm -rf "$SNAP" "$OUT"/netfs.$$.*' EXIT
mkdir -p "$SNAP/.output"
cp -a tests rules "$SNAP/"
# alerts.py checks records against the schema in docs/schema; sinks.bats
# runs docs/ALERTS.md's examples and docs/FLEET.md's rsyslog configuration
[ -d docs ] && cp -a docs "$SNAP/"
# ops.bats reads the unit (packaging/) and the README's options
cp -a packaging README.md "$SNAP/" 2>/dev/null || true
cp -a .output/vigil "$SNAP/.output/"
[ -d .output/scenarios ] && cp -a .output/scenarios "$SNAP/.output/"
# the stress leaker and sink (ceiling.bats, bypass.bats use them)
[ -d .output/stress ] && mkdir -p "$SNAP/.output/stress" &&
	cp -a .output/stress/leaker .output/stress/sink "$SNAP/.output/stress/"
[ -x .output/bench/workloads ] && mkdir -p "$SNAP/.output/bench" && cp -a bench "$SNAP/" &&
	cp -a .output/bench/workloads "$SNAP/.output/bench/"
p=0
f=0
skipped=0
for k in "${kernels[@]}"; do
	[ "$k" = host ] || [ -n "$(matrix_field "$k" 1)" ] || die "$k is not in $MATRIX"
	leg "$k"
done
[ "$skipped" = 0 ] || echo "# $skipped skipped: blind with that hook set, as docs/KERNELS.md says"
echo "$p passed, $f failed"
[ "$f" = 0 ]
