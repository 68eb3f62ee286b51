#!/bin/bash
# Cost of vigil's hooks on this kernel, A/B in one machine: the same
# workloads without an agent and with one per hook set, interleaved, median
# of the rounds. Run as root from the tree after `make` and bench/run.sh's
# workloads build; in the kernel matrix guest with
#   VIGIL_KERNEL_CMD="tests/kernels/hookcost.sh auto -fentry" tests/kernels/run.sh 6.1.0-57
# (TCG inflates absolute times; ratios within one VM are what to compare).
# Prints "workload hookset median_s ratio_vs_none min-max": the ratio of
# the medians, then the spread of the per-round ratios (each round runs
# every set once, back to back); then, from kernel.bpf_stats_enabled (on for
# the run, restored after), "bpf PROGRAM hookset ns_per_call calls_per_round"
# for each of the agent's programs that ran: their own cost, which the
# load of other guests and helpers on the host does not move as much.
# Workloads: smallio-file, smallsend, seqread (bench/workloads) and dioread
# (dd iflag=direct bs=4k of 64 MiB: 16,384 O_DIRECT requests, the direct
# capability's hook).
set -u
cd "$(dirname "$0")/../.." || exit 2
W=.output/bench/workloads
ROUNDS="${ROUNDS:-5}"
sets=(none "$@")
d="$(mktemp -d /tmp/hookcost.XXXXXX)"
cg="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)/vigil-hookcost"
mkdir -p "$cg" "$d/prot"
stats_was="$(sysctl -n kernel.bpf_stats_enabled)"
sysctl -qw kernel.bpf_stats_enabled=1
trap 'kill $agent 2>/dev/null; wait 2>/dev/null; rmdir "$cg" 2>/dev/null; rm -rf "$d";
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"' EXIT
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
stop() {	# stop ROUND SET: the agent's programs' run counts and times, then stop it
	[ -n "$agent" ] || return 0
	bpftool prog show --json > "$d/stats.$1.$2.json" 2>/dev/null
	# its own programs (other agents on a shared host have the same names)
	sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$agent"/fdinfo/* 2>/dev/null > "$d/ids.$1.$2"
	kill "$agent" && wait "$agent" 2>/dev/null
	agent=""
	rm -f "$d/alerts"
}
dio() {	# dio: elapsed seconds of 64 MiB read with O_DIRECT, in the scoped cgroup
	sh -c 'echo $$ > "$0/cgroup.procs" && s=$(date +%s.%N) &&
		dd if="$1" of=/dev/null iflag=direct bs=4k status=none && e=$(date +%s.%N) &&
		awk -v s="$s" -v e="$e" "BEGIN { printf \"%.4f\n\", e - s }"' "$cg" "$d/big"
}
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
		echo "dioread $s $(dio)"
		stop "$r" "$s"
	done
done > "$d/raw"
python3 - "$d" "$ROUNDS" "${sets[@]}" <<'PY'
import json, os, statistics, sys
d, rounds, sets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
raw = os.path.join(d, "raw")
t = {}
for line in open(raw):
    w, s, v = line.split()
    t.setdefault((w, s), []).append(float(v))
for w in ("smallio-file", "smallsend", "seqread", "dioread"):
    base = statistics.median(t[(w, "none")])
    for s in sets:
        m = statistics.median(t[(w, s)])
        per_round = [v / b for v, b in zip(t[(w, s)], t[(w, "none")])]
        print(f"{w} {s} {m:.4f} {m / base:.2f} {min(per_round):.2f}-{max(per_round):.2f}")
for s in sets[1:]:
    ns, cnt = {}, {}
    for r in range(1, rounds + 1):
        try:
            progs = json.load(open(os.path.join(d, f"stats.{r}.{s}.json")))
            ids = {int(x) for x in open(os.path.join(d, f"ids.{r}.{s}")).read().split()}
        except (OSError, ValueError):
            continue
        for p in progs:
            if p["id"] in ids and p.get("run_cnt"):
                ns[p["name"]] = ns.get(p["name"], 0) + p["run_time_ns"]
                cnt[p["name"]] = cnt.get(p["name"], 0) + p["run_cnt"]
    for name in sorted(cnt, key=lambda n: -ns[n]):
        print(f"bpf {name} {s} {ns[name] / cnt[name]:.0f} {cnt[name] // rounds}")
PY
