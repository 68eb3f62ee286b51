#!/bin/bash
# A/B of two agent builds on the hooks of bpf/write.bpf.c (its pty part) and bpf/clone.bpf.c
# (issue 10 items 1-2), in one run: BASE and NEW agents in turn (ROUNDS
# rounds), each scoped to its own cgroup; per program its own BPF time
# (bpf_stats: run_time_ns / run_cnt of the programs that agent holds) and
# wall times of:
#   1M 1-byte read+write pairs of an untainted process (/dev/zero ->
#   /dev/null: vigil_sys_write on every write), 200k ioctl(TCGETS) on a pty
#   (vigil_sys_ioctl on every ioctl), and a tainted process writing its 4 MiB
#   of weights to a pty in 16 KiB writes, drained by an untainted reader
#   (the tainted path: fd, inode, one content sample, the mark).
#   bench/pty_ab.sh BASE_VIGIL NEW_VIGIL [ROUNDS]   (root)
set -u
cd "$(dirname "$0")/.."
. bench/ab.sh
ab_start vigil-ab-pty "$@"
ab_env $((4<<20))
trap ab_done EXIT
for round in $(seq $ROUNDS); do
for tag in base new; do
	bin=$BASE; [ $tag = new ] && bin=$NEW
	ab_agent $bin
	w0=$(prog_stats vigil_sys_write)
	t0=$(date +%s.%N); incg $WL smallio-dev 1000000 >/dev/null; t1=$(date +%s.%N)
	w1=$(prog_stats vigil_sys_write); i0=$(prog_stats vigil_sys_ioctl)
	t2=$(date +%s.%N); incg python3 -c 'import os, pty, termios
m, s = pty.openpty()
for i in range(200000):
    termios.tcgetattr(s)'; t3=$(date +%s.%N)
	i1=$(prog_stats vigil_sys_ioctl)
	t4=$(date +%s.%N); incg python3 -c 'import os, pty, tty, sys
m, s = pty.openpty(); tty.setraw(s)
if os.fork() == 0:
    os.close(m); d = open(sys.argv[1], "rb").read()
    for r in range(4):
        for o in range(0, len(d), 16384): os.write(s, d[o:o + 16384])
    os._exit(0)
os.close(s); n = 0
while n < (16 << 20):
    n += len(os.read(m, 65536))
os.wait()' $D/w/model.safetensors; t5=$(date +%s.%N)
	w2=$(prog_stats vigil_sys_write)
	kill -TERM $ap; wait $ap
	python3 - "$tag" "$round" "$w0" "$w1" "$i0" "$i1" "$w2" $t0 $t1 $t2 $t3 $t4 $t5 <<'PY'
import sys
tag, rnd = sys.argv[1], sys.argv[2]
w0, w1, i0, i1, w2 = [list(map(int, a.split())) for a in sys.argv[3:8]]
t = list(map(float, sys.argv[8:14]))
def per(a, b):
    n = b[0] - a[0]
    return "%d runs %.0f ns/run" % (n, (b[1] - a[1]) / n) if n else "0 runs"
print("%s r%s | smallio 2M syscalls %.2fs write: %s | tcgetattr 200k %.2fs ioctl: %s | tainted pty 16 MiB %.2fs write: %s" % (
    tag, rnd, t[1]-t[0], per(w0, w1), t[3]-t[2], per(i0, i1), t[5]-t[4], per(w1, w2)), flush=True)
PY
done
done
