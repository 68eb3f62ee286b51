#!/bin/bash
# A/B of two agent builds on the write and send hooks of bpf/write.bpf.c
# (issue 10 item 6: pipes and unix sockets propagate by bytes), in one run:
# BASE and NEW agents in turn (ROUNDS rounds), each scoped to its own
# cgroup; per program its own BPF time (bpf_stats: run_time_ns / run_cnt of
# the programs that agent holds) and wall times of:
#   1M 1-byte write()s of an untainted process to /dev/null (smallio-dev:
#   every write pays the tainted-tgid bitmap), before any mark crossed the
#   threshold, and again once one has (a tainted cat filling a pipe nobody
#   reads): then an untainted write also pays the pipe check
#   (task-storage generation); 16 MiB in 100-byte send()s over TCP
#   loopback (vigil_sys_sendto; the receiver's recv()s are not hooked);
#   200k 100-byte text lines a tainted process writes into a pipe (the
#   judgement of each: mark__judge, one classifier sample); and the hooks
#   added for the bypasses (stop 19): 1M untainted pwrite64()s to a file
#   (the cost a pwrite64 hook would add: vigil_sys_pwrite64 where a build
#   has it; stop 19 measured ~130 ns and dropped it), 2M 15-byte writes a tainted
#   process puts into a pipe (the small-write window, mark__judge_small),
#   and 20k writev()s of 64 iovecs into a pipe (the bpf_loop over them).
#   bench/write_ab.sh BASE_VIGIL NEW_VIGIL [ROUNDS]   (root). Figures:
#   docs/PERFORMANCE.md, "Write and send hooks".
set -u
cd "$(dirname "$0")/.."
. bench/ab.sh
ab_start vigil-ab-write "$@"
ab_env $((4<<20))
holder=""
cleanup() {
	[ -n "$holder" ] && kill $holder 2>/dev/null
	ab_done
}
trap cleanup EXIT
secs() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$@"; }
per() { # "c0 t0" "c1 t1" -> runs and ns per run between them
	python3 -c 'import sys
a = list(map(int, sys.argv[1].split())); b = list(map(int, sys.argv[2].split()))
n = b[0] - a[0]
print("%d runs %.0f ns/run" % (n, (b[1] - a[1]) / n) if n else "0 runs")' "$1" "$2"
}
for round in $(seq $ROUNDS); do
for tag in base new; do
	bin=$BASE; [ $tag = new ] && bin=$NEW
	ab_agent $bin
	w0=$(prog_stats vigil_sys_write)
	t0=$(date +%s.%N); incg $WL smallio-dev 1000000 >/dev/null; t1=$(date +%s.%N)
	w1=$(prog_stats vigil_sys_write)
	# a mark past the threshold: a tainted cat fills a pipe nobody reads
	incg sh -c 'cat "$1" | sleep 60' sh $D/w/model.safetensors & holder=$!
	sleep 1
	w2=$(prog_stats vigil_sys_write)
	t2=$(date +%s.%N); incg $WL smallio-dev 1000000 >/dev/null; t3=$(date +%s.%N)
	w3=$(prog_stats vigil_sys_write); s0=$(prog_stats vigil_sys_sendto)
	t4=$(date +%s.%N); incg $WL tcp-lo $((16<<20)) 100 >/dev/null; t5=$(date +%s.%N)
	s1=$(prog_stats vigil_sys_sendto); w4=$(prog_stats vigil_sys_write)
	t6=$(date +%s.%N); incg python3 -c 'import os, sys
open(sys.argv[1], "rb").read()
line = b"step 1234 loss=0.123456 lr=3.0e-04 tokens/s=12345 gpu_mem=71.2GiB host=gpu-7 run=abc\n"
for i in range(200000):
    os.write(1, line)' $D/w/model.safetensors | cat > /dev/null; t7=$(date +%s.%N)
	w5=$(prog_stats vigil_sys_write); p0=$(prog_stats vigil_sys_pwrite64)
	t8=$(date +%s.%N); incg python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
for i in range(1000000):
    os.pwrite(fd, b"x", i & 4095)' $D/pw.bin; t9=$(date +%s.%N)
	p1=$(prog_stats vigil_sys_pwrite64)
	t10=$(date +%s.%N); incg python3 -c 'import os, sys
data = open(sys.argv[1], "rb").read()
w = os.write
for i in range(2000000):
    o = (i * 15) & 0x3fffff
    w(1, data[o:o + 15])' $D/w/model.safetensors | cat > /dev/null; t11=$(date +%s.%N)
	w6=$(prog_stats vigil_sys_write); v0=$(prog_stats vigil_sys_writev)
	t12=$(date +%s.%N); incg python3 -c 'import os, sys
data = open(sys.argv[1], "rb").read()
vec = [data[j:j + 1024] for j in range(0, 64 << 10, 1024)]
for i in range(20000):
    os.writev(1, vec)' $D/w/model.safetensors | cat > /dev/null; t13=$(date +%s.%N)
	v1=$(prog_stats vigil_sys_writev)
	kill $holder 2>/dev/null; wait $holder 2>/dev/null; holder=""
	kill -TERM $ap; wait $ap
	echo "$tag r$round | 1M writes, no mark: $(secs $t0 $t1)s write: $(per "$w0" "$w1") |" \
		"1M writes, a mark crossed: $(secs $t2 $t3)s write: $(per "$w2" "$w3") |" \
		"16MiB tcp-lo 100B sends: $(secs $t4 $t5)s sendto: $(per "$s0" "$s1") |" \
		"200k tainted lines into a pipe: $(secs $t6 $t7)s write: $(per "$w4" "$w5") |" \
		"1M untainted pwrite64s: $(secs $t8 $t9)s pwrite64: $(per "$p0" "$p1") |" \
		"2M tainted 15-byte writes into a pipe: $(secs $t10 $t11)s write: $(per "$w5" "$w6") |" \
		"20k tainted 64-iovec writevs into a pipe: $(secs $t12 $t13)s writev: $(per "$v0" "$v1")"
done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
