# prog_stats NAME: "run_cnt run_time_ns" of the BPF programs called NAME that
# the agent with pid $ap holds (its own program fds: other agents on the
# host do not mix in). Sourced by bench/ab_hooks.sh and bench/shm_ab.sh;
# needs kernel.bpf_stats_enabled=1.
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
