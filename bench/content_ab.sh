#!/bin/bash
# The content classifier's A/B on the tainted egress path, in one run
# (`make bench-content`, root): the agent in monitor mode, scoped to its own
# cgroup, with content sampling off (A: --test-fault no-content) and on (B),
# alternating PAIRS times; each run a tainted sender (bench/workloads
# tcp-send: reads a protected file, then sends BYTES in BS-byte sends) to a
# sink in a network namespace over veth, not allowlisted (every packet is
# charged and counted). Per run: sender throughput, and the BPF run time
# per call of the send hook and the egress program (kernel.bpf_stats_enabled,
# read from the agent's own program fds). Last lines: medians and spread.
#
#   PAIRS=5 BYTES=268435456 BS=1400 bench/content_ab.sh
#
# Touches (removed on exit): cgroup vigil-bench-content, netns vigil-bcab,
# veth vgbcab-h/-n (10.213.5.1/30 <-> 10.213.5.2), port 5401, $DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-5}
BYTES=${BYTES:-268435456}
BS=${BS:-1400}
VIGIL=.output/vigil
WL=.output/bench/workloads
NS=vigil-bcab
HOST=10.213.5.1
PEER=10.213.5.2
PORT=5401
DIR=""
MNT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG="$MNT/vigil-bench-content"
SINK_PID=""

[ "$(id -u)" = 0 ] || { echo "bench-content: needs root" >&2; exit 2; }
[ -x "$VIGIL" ] || { echo "bench-content: build first (make)" >&2; exit 2; }
mkdir -p .output/bench
gcc -O2 -g -Wall -Wextra -Werror -o "$WL" bench/workloads.c

cleanup() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
	[ -d "$CG" ] && { echo 1 >"$CG/cgroup.kill" 2>/dev/null || true; sleep 0.2; rmdir "$CG" 2>/dev/null || true; }
	ip netns del "$NS" 2>/dev/null || true
	ip link del vgbcab-h 2>/dev/null || true
	[ -n "$DIR" ] && rm -rf "$DIR"
	sysctl -qw kernel.bpf_stats_enabled="${STATS0:-0}" || true
}
trap cleanup EXIT INT TERM
cleanup 2>/dev/null || true
DIR=$(mktemp -d /tmp/vigil-bench-content.XXXXXX)
STATS0=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1

mkdir "$CG"
mkdir -p "$DIR/w"
"$WL" mkbig "$DIR/w/model.safetensors" $((4 << 20)) >/dev/null
ip netns add "$NS"
ip link add vgbcab-h type veth peer name vgbcab-n
ip link set vgbcab-n netns "$NS"
ip addr add "$HOST/30" dev vgbcab-h
ip link set vgbcab-h up
ip -n "$NS" addr add "$PEER/30" dev vgbcab-n
ip -n "$NS" link set vgbcab-n up
ip netns exec "$NS" "$WL" sink tcp "$PORT" "$DIR/sink.out" 2000 &
SINK_PID=$!
for _ in $(seq 100); do [ -e "$DIR/sink.out.ready" ] && break; sleep 0.05; done

# prog_stats PID NAME: "run_time_ns run_cnt" of program NAME among PID's fds
prog_stats() {
	local pid=$1 name=$2 id
	for fd in /proc/"$pid"/fdinfo/*; do
		id=$(awk '/^prog_id:/ { print $2 }' "$fd" 2>/dev/null) || continue
		[ -n "$id" ] || continue
		if bpftool prog show id "$id" 2>/dev/null | grep -q " name $name "; then
			# (bpftool leaves the pair out while the program never ran)
			bpftool prog show id "$id" |
				sed -n 's/.*run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \2/p' |
				grep . || echo "0 0"
			return
		fi
	done
	echo "0 0"
}

# one_run A|B: start the agent, run the sender, print "gbit ns_send ns_egress"
one_run() {
	local extra=() out="$DIR/alerts.jsonl" pid s0 s1 e0 e1 r c0 c1 e0n e1n
	[ "$1" = A ] && extra=(--test-fault no-content)
	rm -f "$out"
	"$VIGIL" run --cgroup "$CG" --no-default-rules --rules rules/detect.yaml \
		--protect "$DIR/w/**" --alerts "$out" --stats-interval 0 --heartbeat 0 \
		--budget 64GiB --run-dir "$DIR/run" "${extra[@]}" 2>"$DIR/agent.err" &
	pid=$!
	for _ in $(seq 300); do grep -q agent_start "$out" 2>/dev/null && break; sleep 0.1; done
	grep -q agent_start "$out" || { cat "$DIR/agent.err" >&2; exit 1; }
	read -r s0 c0 < <(prog_stats "$pid" vigil_tcp_sendmsg)
	read -r e0 e0n < <(prog_stats "$pid" vigil_egress)
	r=$(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" \
		"$WL" tcp-send "$PEER" "$PORT" "$BYTES" "$BS" "$DIR/w/model.safetensors")
	read -r s1 c1 < <(prog_stats "$pid" vigil_tcp_sendmsg)
	read -r e1 e1n < <(prog_stats "$pid" vigil_egress)
	kill -TERM "$pid"
	wait "$pid" || true
	python3 - "$r" "$s0" "$c0" "$s1" "$c1" "$e0" "$e0n" "$e1" "$e1n" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
s0, c0, s1, c1, e0, e0n, e1, e1n = map(int, sys.argv[2:])
ns = lambda t, n: t / n if n else 0
print("%.3f %.0f %.0f %d %d" % (r["gbit_per_s"], ns(s1 - s0, c1 - c0), ns(e1 - e0, e1n - e0n),
                                c1 - c0, e1n - e0n))
EOF
}

echo "# content A/B: $PAIRS pairs, $BYTES bytes in $BS-byte sends, tainted, monitor mode"
echo "# run gbit/s send_hook_ns/call egress_ns/call send_calls egress_calls"
: >"$DIR/results"
for p in $(seq "$PAIRS"); do
	for ab in A B; do
		line=$(one_run "$ab")
		echo "$ab $line"
		echo "$ab $line" >>"$DIR/results"
	done
done
python3 - "$DIR/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def col(ab, i):
    return [float(r[i]) for r in rows if r[0] == ab]
for name, i in (("gbit/s", 1), ("send hook ns/call", 2), ("egress ns/call", 3)):
    a, b = col("A", i), col("B", i)
    print("%-18s A (no sampling) median %.3f [%.3f..%.3f]  B (sampling) median %.3f [%.3f..%.3f]"
          % (name, statistics.median(a), min(a), max(a), statistics.median(b), min(b), max(b)))
ga, gb = col("A", 1), col("B", 1)
ratios = [x / y for x, y in zip(ga, gb)]
print("throughput A/B per pair: %s (median %.3f)" % (" ".join("%.3f" % r for r in ratios),
                                                    statistics.median(ratios)))
sa, sb = col("A", 2), col("B", 2)
ea, eb = col("A", 3), col("B", 3)
print("sampling cost: send hook %+.0f ns per call, egress %+.0f ns per packet (medians)"
      % (statistics.median(sb) - statistics.median(sa), statistics.median(eb) - statistics.median(ea)))
EOF
