#!/bin/sh
# Install missing Debian build/test dependencies (idempotent, no sudo: the
# make targets run as root; on an ordinary host prefix the command with sudo).
#   scripts/deps.sh            build dependencies
#   scripts/deps.sh --kernels  also what the qemu kernel matrix needs
#                              (tests/kernels/: qemu, busybox, depmod)
set -e
PKGS="clang-19 llvm-19 libbpf-dev bpftool libelf-dev zlib1g-dev libyaml-dev libcmocka-dev liburing-dev libfuse3-dev fuse3 libclang-rt-19-dev pkg-config iproute2 bats python3 python3-jsonschema rsyslog rsyslog-openssl rsyslog-elasticsearch libcurl4-openssl-dev libssl-dev make gcc libjansson-dev openssl zstd systemd util-linux curl gnutls-bin golang-go xfsprogs"
[ "${1:-}" = --kernels ] && PKGS="$PKGS qemu-system-x86 busybox-static kmod xz-utils cpio"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "vigil: missing build dependencies:$missing" >&2
	echo "vigil: run this as root (e.g. sudo make) to install them with apt-get" >&2
	exit 1
fi
echo "vigil: installing build dependencies:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
