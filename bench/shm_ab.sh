#!/bin/bash
# A/B of two agent builds on the hooks of bpf/shm.bpf.c (issue 10 item 2),
# in one run: BASE and NEW agents in turn (ROUNDS rounds), each scoped to
# its own cgroup, a tainted process and a /dev/shm copy in place (so the
# open hooks and the fd scan have state to look at); per program its own BPF
# time (bpf_stats: run_time_ns / run_cnt of the programs that agent holds)
# and wall times of:
#   open/read/close of unprotected files on disk and on /dev/shm (100k each:
#   vigil_sys_openat on every open), and a bulk read of an unprotected file
#   (vigil_filemap_get_pages: must not get dearer).
#   bench/shm_ab.sh BASE_VIGIL NEW_VIGIL [ROUNDS]   (root). Figures:
#   docs/PERFORMANCE.md, "tmpfs, /dev/shm and memfd hooks".
set -u
[ $# -ge 2 ] || { echo "usage: $0 BASE_VIGIL NEW_VIGIL [ROUNDS]" >&2; exit 2; }
BASE=$1 NEW=$2 ROUNDS=${3:-3}
cd "$(dirname "$0")/.."
mkdir -p .output/bench
[ -x .output/bench/workloads ] || gcc -O2 -g -Wall -Wextra -Werror -o .output/bench/workloads bench/workloads.c
WL=.output/bench/workloads
CG="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)/vigil-ab-shm"
D=$(mktemp -d); S=$(mktemp -d /dev/shm/vigil-ab-shm.XXXXXX)
mkdir -p $D/w $D/run $D/files $S/files
head -c $((4<<20)) /dev/urandom > $D/w/model.safetensors
$WL mkfiles $D/files 2000 4096 >/dev/null
$WL mkfiles $S/files 2000 4096 >/dev/null
$WL mkbig $D/big.bin $((512<<20)) >/dev/null
mkdir -p $CG
export VIGIL_RUN_DIR=$D/run
old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
echo 1 > /proc/sys/kernel/bpf_stats_enabled
incg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
prog_stats() { # name -> "run_cnt run_time_ns" of the programs our agent ($ap) holds
	local ids
	ids=$(grep -h '^prog_id:' /proc/$ap/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
	for id in $ids; do bpftool prog show id $id -j 2>/dev/null; echo; done | python3 -c 'import json,sys
name = sys.argv[1]
c = t = 0
for line in sys.stdin:
    line = line.strip()
    if not line: continue
    try: x = json.loads(line)
    except ValueError: continue
    if x.get("name") == name:
        c += x.get("run_cnt", 0); t += x.get("run_time_ns", 0)
print(c, t)' "$1"
}
holder=""
cleanup() {
	[ -n "$holder" ] && kill $holder 2>/dev/null
	echo $old_stats > /proc/sys/kernel/bpf_stats_enabled
	rmdir $CG 2>/dev/null; rm -rf $D $S
}
trap cleanup EXIT
for round in $(seq $ROUNDS); do
for tag in base new; do
	bin=$BASE; [ $tag = new ] && bin=$NEW
	rm -f $D/alerts.jsonl $S/copy.bin
	$bin run --no-default-rules --cgroup $CG --protect "$D/w/**" --alerts $D/alerts.jsonl --stats-interval 0 2>$D/agent.err &
	ap=$!
	for i in $(seq 60); do grep -q agent_start $D/alerts.jsonl 2>/dev/null && break; sleep 0.5; done
	# state in place: a tainted process holding a copy in /dev/shm
	incg cp $D/w/model.safetensors $S/copy.bin
	incg $WL hold $D/w/model.safetensors & holder=$!
	sleep 0.5
	o0=$(prog_stats vigil_sys_openat); g0=$(prog_stats vigil_filemap_get_pages)
	t0=$(date +%s.%N); incg $WL openclose $D/files 2000 50 >/dev/null; t1=$(date +%s.%N)
	o1=$(prog_stats vigil_sys_openat)
	t2=$(date +%s.%N); incg $WL openclose $S/files 2000 50 >/dev/null; t3=$(date +%s.%N)
	o2=$(prog_stats vigil_sys_openat); g1=$(prog_stats vigil_filemap_get_pages)
	t4=$(date +%s.%N); incg $WL seqread $D/big.bin 4 1048576 >/dev/null; t5=$(date +%s.%N)
	g2=$(prog_stats vigil_filemap_get_pages)
	kill $holder; wait $holder 2>/dev/null; holder=""
	kill -TERM $ap; wait $ap
	python3 - "$tag" "$round" "$o0" "$o1" "$o2" "$g0" "$g1" "$g2" $t0 $t1 $t2 $t3 $t4 $t5 <<'PY'
import sys
tag, rnd = sys.argv[1], sys.argv[2]
o0, o1, o2, g0, g1, g2 = [list(map(int, a.split())) for a in sys.argv[3:9]]
t = list(map(float, sys.argv[9:15]))
def per(a, b):
    n = b[0] - a[0]
    return "%d runs %.0f ns/run" % (n, (b[1] - a[1]) / n) if n else "0 runs"
print("%s r%s | open disk 100k %.2fs openat: %s | open shm 100k %.2fs openat: %s | seqread 2GiB %.2fs get_pages: %s" % (
    tag, rnd, t[1]-t[0], per(o0, o1), t[3]-t[2], per(o1, o2), t[5]-t[4], per(g1, g2)), flush=True)
PY
done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
