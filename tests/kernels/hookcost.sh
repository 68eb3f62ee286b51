#!/bin/bash
# Cost of vigil's hooks on this kernel, A/B in one machine: the same
# workloads without an agent and with one per hook set, interleaved, median
# of the rounds. Run as root from the tree after `make` and bench/run.sh's
# workloads build; in the kernel matrix guest with
#   VIGIL_KERNEL_CMD="tests/kernels/hookcost.sh auto -fentry" tests/kernels/run.sh 6.1.0-57
# (TCG inflates absolute times; ratios within one VM are what to compare).
# Prints "workload hookset median_s ratio_vs_none min-max": the ratio of
# the medians, then the spread of the per-round ratios (each round runs
# every set once, back to back).
set -u
cd "$(dirname "$0")/../.." || exit 2
W=.output/bench/workloads
ROUNDS="${ROUNDS:-5}"
sets=(none "$@")
d="$(mktemp -d /tmp/hookcost.XXXXXX)"
cg="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)/vigil-hookcost"
mkdir -p "$cg" "$d/prot"
trap 'kill $agent 2>/dev/null; wait 2>/dev/null; rmdir "$cg" 2>/dev/null; rm -rf "$d"' EXIT
$W mkbig "$d/big" $((64 << 20)) >/dev/null
$W mkbig "$d/prot/weights.bin" $((1 << 20)) >/dev/null
agent=""
start() {	# start HOOKSET: agent scoped to $cg protecting $d/prot (not read here)
	[ "$1" = none ] && return 0
	local h=()
	[ "$1" = auto ] || h=(--hooks "$1")
	.output/vigil run --no-default-rules --cgroup "$cg" --protect "$d/prot/**" \
		--alerts "$d/alerts" --stats-interval 0 "${h[@]}" 2>"$d/err" &
	agent=$!
	for _ in $(seq 300); do grep -q agent_start "$d/alerts" 2>/dev/null && return 0; sleep 0.1; done
	echo "agent ($1) did not start:" >&2; cat "$d/err" >&2; return 1
}
stop() { [ -n "$agent" ] && kill "$agent" && wait "$agent" 2>/dev/null; agent=""; rm -f "$d/alerts"; }
run() {	# run WORKLOAD ARGS: elapsed seconds, in the scoped cgroup
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" $W "$@" |
		sed -n 's/.*"elapsed_s": *\([0-9.e-]*\).*/\1/p'
}
for r in $(seq "$ROUNDS"); do
	for s in "${sets[@]}"; do
		start "$s" || exit 1
		echo "smallio-file $s $(run smallio-file "$d/big" "$d/dst" "${SMALL_N:-100000}")"
		echo "smallsend $s $(run smallsend "${SMALL_N:-100000}" 100)"
		echo "seqread $s $(run seqread "$d/big" 4 65536)"
		stop
	done
done > "$d/raw"
python3 - "$d/raw" "${sets[@]}" <<'PY'
import statistics, sys
raw, sets = sys.argv[1], sys.argv[2:]
t = {}
for line in open(raw):
    w, s, v = line.split()
    t.setdefault((w, s), []).append(float(v))
for w in ("smallio-file", "smallsend", "seqread"):
    base = statistics.median(t[(w, "none")])
    for s in sets:
        m = statistics.median(t[(w, s)])
        per_round = [v / b for v, b in zip(t[(w, s)], t[(w, "none")])]
        print(f"{w} {s} {m:.4f} {m / base:.2f} {min(per_round):.2f}-{max(per_round):.2f}")
PY
