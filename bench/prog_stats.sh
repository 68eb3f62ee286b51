# prog_stats NAME: "run_cnt run_time_ns" of the BPF programs called NAME that
# the agent with pid $ap holds (its own program fds: other agents on the
# host do not mix in). Sourced by bench/ab_hooks.sh and bench/shm_ab.sh;
# needs kernel.bpf_stats_enabled=1.

# ab_start NAME "$@": the A/B scripts' common start: BASE, NEW, ROUNDS from
# the arguments, the tree as cwd, the workloads binary built, WL and the
# bench cgroup path CG (vigil-NAME under the cgroup2 mount).
ab_start() {
	local name=$1
	shift
	[ $# -ge 2 ] || { echo "usage: $0 BASE_VIGIL NEW_VIGIL [ROUNDS]" >&2; exit 2; }
	BASE=$1 NEW=$2 ROUNDS=${3:-3}
	mkdir -p .output/bench
	[ -x .output/bench/workloads ] ||
		gcc -O2 -g -Wall -Wextra -Werror -o .output/bench/workloads bench/workloads.c
	WL=.output/bench/workloads
	CG="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)/$name"
}
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
