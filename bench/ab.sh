# What the A/B scripts (bench/*_ab.sh, bench/ab_hooks.sh) share, sourced by
# each: arguments and paths (ab_start), the scratch directory, cgroup and
# bpf_stats (ab_env / ab_done), an agent of one build (ab_agent), a command
# in the bench cgroup (incg), a program's own BPF time (prog_stats).

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

# ab_env SIZE: $D (scratch: $D/w/model.safetensors, SIZE random bytes, the
# one protected file; $D/run the agent's run directory), the bench cgroup
# $CG, and kernel.bpf_stats_enabled on. ab_done undoes it: the scripts call
# it from their EXIT trap, after their own cleanup.
ab_env() {
	D=$(mktemp -d)
	mkdir -p $D/w $D/run
	head -c $1 /dev/urandom > $D/w/model.safetensors
	mkdir -p $CG
	export VIGIL_RUN_DIR=$D/run
	old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
	echo 1 > /proc/sys/kernel/bpf_stats_enabled
}
ab_done() {
	echo $old_stats > /proc/sys/kernel/bpf_stats_enabled
	# a workload's child may outlive its shell: empty the cgroup first
	for p in $(cat $CG/cgroup.procs 2>/dev/null); do kill $p 2>/dev/null; done
	sleep 0.2
	rmdir $CG 2>/dev/null; rm -rf $D
}

# incg CMD...: CMD in the bench cgroup (the agent's scope).
incg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

# ab_agent BIN [ARGS...]: an agent of build BIN protecting $D/w, scoped to
# $CG, alerts in $D/alerts.jsonl; $ap its pid; returns once it has started.
ab_agent() {
	local bin=$1
	shift
	rm -f $D/alerts.jsonl
	$bin run --no-default-rules --cgroup $CG --protect "$D/w/**" --alerts $D/alerts.jsonl \
		--stats-interval 0 "$@" 2>$D/agent.err &
	ap=$!
	for i in $(seq 60); do grep -q agent_start $D/alerts.jsonl 2>/dev/null && break; sleep 0.5; done
}
