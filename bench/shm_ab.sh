#!/bin/bash
# A/B of two agent builds on the hooks of bpf/shm.bpf.c (issue 10 item 2),
# in one run: BASE and NEW agents in turn (ROUNDS rounds), each scoped to
# its own cgroup, a tainted process and a /dev/shm copy in place (so the
# open hooks and the fd scan have state to look at); per program its own BPF
# time (bpf_stats: run_time_ns / run_cnt of the programs that agent holds)
# and wall times of:
#   open/read/close of unprotected files on disk and on /dev/shm (100k each:
#   vigil_sys_openat on every open), and a bulk read of an unprotected file
#   (vigil_filemap_get_pages: must not get dearer), 100k splice() calls of
#   an untainted process (vigil_sys_splice, bpf/stage.bpf.c).
#   bench/shm_ab.sh BASE_VIGIL NEW_VIGIL [ROUNDS]   (root). Figures:
#   docs/PERFORMANCE.md, "tmpfs, /dev/shm and memfd hooks".
set -u
cd "$(dirname "$0")/.."
. bench/ab.sh
ab_start vigil-ab-shm "$@"
ab_env $((4<<20))
S=$(mktemp -d /dev/shm/vigil-ab-shm.XXXXXX)
mkdir -p $D/files $S/files
$WL mkfiles $D/files 2000 4096 >/dev/null
$WL mkfiles $S/files 2000 4096 >/dev/null
$WL mkbig $D/big.bin $((512<<20)) >/dev/null
holder=""
cleanup() {
	[ -n "$holder" ] && kill $holder 2>/dev/null
	rm -rf $S
	ab_done
}
trap cleanup EXIT
for round in $(seq $ROUNDS); do
for tag in base new; do
	bin=$BASE; [ $tag = new ] && bin=$NEW
	rm -f $S/copy.bin
	ab_agent $bin
	# first no protected file on tmpfs (the common host): untainted opens
	# leave after the first test
	n0=$(prog_stats vigil_sys_openat)
	t8=$(date +%s.%N); incg $WL openclose $D/files 2000 50 >/dev/null; t9=$(date +%s.%N)
	n1=$(prog_stats vigil_sys_openat)
	# then state in place: a tainted process holding a copy in /dev/shm
	incg cp $D/w/model.safetensors $S/copy.bin
	incg $WL hold $D/w/model.safetensors & holder=$!
	sleep 0.5
	o0=$(prog_stats vigil_sys_openat); g0=$(prog_stats vigil_filemap_get_pages)
	t0=$(date +%s.%N); incg $WL openclose $D/files 2000 50 >/dev/null; t1=$(date +%s.%N)
	o1=$(prog_stats vigil_sys_openat)
	t2=$(date +%s.%N); incg $WL openclose $S/files 2000 50 >/dev/null; t3=$(date +%s.%N)
	o2=$(prog_stats vigil_sys_openat); g1=$(prog_stats vigil_filemap_get_pages)
	t4=$(date +%s.%N); incg $WL seqread $D/big.bin 4 1048576 >/dev/null; t5=$(date +%s.%N)
	g2=$(prog_stats vigil_filemap_get_pages); p0=$(prog_stats vigil_sys_splice)
	# 100k splice() calls of an untainted process (file -> pipe -> /dev/null)
	t6=$(date +%s.%N); incg python3 -c 'import os
f = os.open("'$D/files/f00000'", os.O_RDONLY); n = os.open("/dev/null", os.O_WRONLY); r, w = os.pipe()
for i in range(50000):
    os.splice(f, w, 4096, offset_src=0); os.splice(r, n, 4096)'; t7=$(date +%s.%N)
	p1=$(prog_stats vigil_sys_splice)
	kill $holder; wait $holder 2>/dev/null; holder=""
	kill -TERM $ap; wait $ap
	python3 - "$tag" "$round" "$o0" "$o1" "$o2" "$g0" "$g1" "$g2" "$p0" "$p1" "$n0" "$n1" $t0 $t1 $t2 $t3 $t4 $t5 $t6 $t7 $t8 $t9 <<'PY'
import sys
tag, rnd = sys.argv[1], sys.argv[2]
o0, o1, o2, g0, g1, g2, p0, p1, n0, n1 = [list(map(int, a.split())) for a in sys.argv[3:13]]
t = list(map(float, sys.argv[13:23]))
def per(a, b):
    n = b[0] - a[0]
    return "%d runs %.0f ns/run" % (n, (b[1] - a[1]) / n) if n else "0 runs"
print("%s r%s | no shm copy: open disk 100k %.2fs openat: %s" % (tag, rnd, t[9]-t[8], per(n0, n1)), flush=True)
print("%s r%s | open disk 100k %.2fs openat: %s | open shm 100k %.2fs openat: %s | seqread 2GiB %.2fs get_pages: %s | splice 100k %.2fs splice: %s" % (
    tag, rnd, t[1]-t[0], per(o0, o1), t[3]-t[2], per(o1, o2), t[5]-t[4], per(g1, g2), t[7]-t[6], per(p0, p1)), flush=True)
PY
done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
