#!/bin/bash
# One leg of the kernel matrix, run as root on the kernel under test:
#   guest.sh --guest    inside the qemu guest (init.sh chroots here): mounts
#                       what a host has, takes the bats filter from the kernel
#                       command line
#   guest.sh FILTER [HOOKS]  on this machine (the "host" leg)
# HOOKS: hook sets separated by "/", each a `vigil run --hooks` value or
# "auto" (vigil's own choice), optionally "!REGEX": tests REGEX names are
# skipped there (a capability docs/KERNELS.md says is blind with that set);
# the selected tests run once per set.
# Prints the kernel's facts as TAP comments, then per hook set `vigil check`
# and the bats TAP stream, then "# guest done".
cd "$(dirname "$0")/../.." || exit 2
if [ "${1:-}" = --guest ]; then
	export PATH=/usr/sbin:/usr/bin HOME=/root LANG=C.UTF-8
	mount -t ext4 /dev/vda /tmp || mount -t tmpfs tmp /tmp
	mount -t tmpfs run /run
	mount -t tmpfs vartmp /var/tmp
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs shm /dev/shm
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	mount -t securityfs securityfs /sys/kernel/security
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	mount -t bpf bpf /sys/fs/bpf
	mount -t tracefs tracefs /sys/kernel/tracing
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	ip link set lo up
	# the writable 9p share (tests/kernels/run.sh): the network filesystem
	# of tests/bats/netfs.bats; cache=loose: writes go through the page
	# cache, as NFS's and SMB's do
	mkdir -p /mnt/netfs
	mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=262144 netfs /mnt/netfs &&
		export VIGIL_NETFS_DIR=/mnt/netfs
	filter="$(sed -n 's/.* vigil\.filter=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)"
	cmd="$(sed -n 's/.* vigil\.cmd=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)"
	hooksets="$(sed -n 's/.* vigil\.hooks=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)"
	files="$(sed -n 's/.* vigil\.files=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)"
	export VIGIL_TEST_SLOT="$(sed -n 's/.* vigil\.slot=\([^ ]*\).*/\1/p' /proc/cmdline)"
else
	filter="${1:-}"
	hooksets="${2:-auto}"
	files="${VIGIL_KERNEL_FILES:-}"
fi
# the bats files to run (VIGIL_KERNEL_FILES: names without .bats), or all
paths=(tests/bats/)
[ -n "$files" ] && read -r -a paths <<< "$(printf 'tests/bats/%s.bats ' $files)"
export VIGIL_FIGURES=/tmp/vigil-figures.$$
# under TCG the verifier alone takes seconds per program: an agent start
# (60+ programs on 6.1) may pass the host's 30 s on a loaded machine
export AGENT_START_TIMEOUT="${AGENT_START_TIMEOUT:-90}"

echo "# kernel $(uname -r)"
for tp in filemap/mm_filemap_get_pages filemap/mm_filemap_map_pages filemap/mm_filemap_fault \
	sock/sock_send_length tcp/tcp_sendmsg_locked writeback/writeback_dirty_folio \
	skb/kfree_skb sched/sched_process_fork; do
	[ -d "/sys/kernel/tracing/events/$tp" ] && have=yes || have=no
	echo "# tracepoint $tp: $have"
done
echo "# lsm $(cat /sys/kernel/security/lsm 2>/dev/null || echo '?')"
echo "# /tmp on $(stat -f -c %T /tmp)"
echo "# netfs share: ${VIGIL_NETFS_DIR:-none}"
if [ -n "${cmd:-}" ]; then
	echo "# command: $cmd"
	bash -c "$cmd" 2>&1 | sed -u 's/^/# out: /'
	echo "# command exit ${PIPESTATUS[0]}"
	echo "# guest done"
	exit 0
fi
IFS=/ read -r -a sets <<< "${hooksets:-auto}"
for set in "${sets[@]}"; do
	# SET!REGEX: the tests REGEX names are skipped (blind with SET)
	export VIGIL_BLIND=""
	case "$set" in *'!'*) VIGIL_BLIND="${set#*!}"; set="${set%%!*}" ;; esac
	[ "$set" = auto ] && export VIGIL_HOOKS="" || export VIGIL_HOOKS="$set"
	echo "# hooks $set"
	.output/vigil check ${VIGIL_HOOKS:+--hooks "$VIGIL_HOOKS"} 2>&1 | sed -u 's/^/# check: /'
	# shellcheck disable=SC2086
	bats --tap ${filter:+--filter "$filter"} "${paths[@]}" 2>&1 |
		sed -u "s/^\(ok [0-9]*\|not ok [0-9]*\) /\1 [$set] /"
done
if [ -s "$VIGIL_FIGURES" ]; then
	sed 's/^/# figure: /' "$VIGIL_FIGURES"
fi
rm -f "$VIGIL_FIGURES"
echo "# guest done"
