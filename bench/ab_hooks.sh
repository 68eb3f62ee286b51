#!/bin/bash
# A/B of two agent builds on the hooks issue 10 added or changed, in one run
# (relay, dirty_folio pipe check, the open programs of shm and procmem, sk_data_ready):
# BASE and NEW agents in turn (ROUNDS rounds), each scoped to its own cgroup,
# a tainted pipe in place; per program, its own BPF time (bpf_stats:
# run_time_ns / run_cnt of the programs that agent holds) and wall times.
#   bench/ab_hooks.sh BASE_VIGIL NEW_VIGIL [ROUNDS]   (root; after make bench once,
#   for .output/bench/workloads). Figures: docs/PERFORMANCE.md, "Propagation hooks".
set -u
cd "$(dirname "$0")/.."
. bench/ab.sh
ab_start vigil-ab-hooks "$@"
ab_env $((64<<20))
$WL mkfiles $D/small 2000 100 >/dev/null	# opens: the procmem check's cost
trap ab_done EXIT
for round in $(seq $ROUNDS); do
for tag in base new; do
	bin=$BASE; [ $tag = new ] && bin=$NEW
	ab_agent $bin
	# a tainted pipe exists (vg_pipe_gen != 0): writers pay the pipe check from now on
	incg sh -c "cat $D/w/model.safetensors | cat > /dev/null"
	sleep 0.5
	s0=$(prog_stats vigil_dirty_folio); r0=$(prog_stats vigil_relay); e0=$(prog_stats vigil_egress)
	k0=$(prog_stats vigil_sk_data_ready)
	t0=$(date +%s.%N); incg $WL tcp-lo $((1<<30)) 1M >/dev/null; t1=$(date +%s.%N)
	r1=$(prog_stats vigil_relay); e1=$(prog_stats vigil_egress); k1=$(prog_stats vigil_sk_data_ready)
	t2=$(date +%s.%N); incg dd if=/dev/zero of=$D/out.bin bs=1M count=256 conv=fsync status=none; t3=$(date +%s.%N)
	s1=$(prog_stats vigil_dirty_folio)
	t4=$(date +%s.%N); incg $WL smallsend 300000 100 >/dev/null; t5=$(date +%s.%N)
	r2=$(prog_stats vigil_relay)
	o0=$(prog_stats vigil_sys_openat)
	oc=$(incg $WL openclose $D/small 2000 100)
	o1=$(prog_stats vigil_sys_openat)
	per_run() { echo $1 $2 $3 $4 | awk '{n = $3 - $1; if (n) printf "%d runs %.0f ns/run", n, ($4 - $2) / n; else print "0 runs"}'; }
	echo "$tag r$round | openclose 200k: $(echo "$oc" | sed 's/.*us_per_file":\([0-9.]*\).*/\1/') us/file;" \
		"sys_openat: $(per_run $o0 $o1) | tcp-lo sk_data_ready: $(per_run $k0 $k1)"
	rm -f $D/out.bin
	kill -TERM $ap; wait $ap
	python3 - "$tag" "$round" "$s0" "$s1" "$r0" "$r1" "$r2" "$e0" "$e1" $t0 $t1 $t2 $t3 $t4 $t5 <<'PY'
import sys
tag, rnd = sys.argv[1], sys.argv[2]
s0, s1, r0, r1, r2, e0, e1 = [list(map(int, a.split())) for a in sys.argv[3:10]]
t = list(map(float, sys.argv[10:16]))
def per(a, b):
    n = b[0] - a[0]
    return "%d runs %.0f ns/run" % (n, (b[1] - a[1]) / n) if n else "0 runs"
print("%s r%s | tcp-lo 1GiB %.2fs relay: %s egress: %s | dd 256MiB %.2fs dirty_folio: %s | smallsend 300k %.2fs relay: %s" % (
    tag, rnd, t[1]-t[0], per(r0, r1), per(e0, e1), t[3]-t[2], per(s0, s1), t[5]-t[4], per(r1, r2)), flush=True)
PY
done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
