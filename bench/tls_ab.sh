#!/bin/bash
# A/B of two agent builds on the TLS uprobes (bpf/tls.bpf.c), in one run:
# no agent, BASE and NEW in turn (ROUNDS rounds), each agent scoped to its
# own cgroup; per configuration the wall and CPU time (the sender's own,
# getrusage) of an untainted OpenSSL sender (bench/tls_send.c, SSL_write of
# 1 KiB, 32 MiB over loopback), then a tainted one with each agent, and the
# BPF time of vigil_ssl_write per call (bpf_stats, the programs that agent
# holds). Loopback: the uprobe's cost is per SSL_write, not per packet.
# The senders use a private copy of libssl (LD_LIBRARY_PATH): agents of
# other runs on the host attach the system's copy host-wide and would tax
# the no-agent leg too. Each agent sees the tainted sender first, so an
# agent that attaches the files tainted processes map host-wide (BASE
# before per-process attach) taxes the untainted sender after it, as on a
# real host.
#   bench/tls_ab.sh BASE_VIGIL NEW_VIGIL [ROUNDS]   (root; TLS_AB_NAME, TLS_AB_PORT:
#   another cgroup name and port). Figures:
#   docs/PERFORMANCE.md, "TLS uprobes".
set -u
cd "$(dirname "$0")/.."
. bench/ab.sh
ab_start "${TLS_AB_NAME:-vigil-ab-tls}" "$@"
TS=.output/bench/tls_send
[ -x $TS ] || gcc -O2 -g -Wall -Wextra -Werror -o $TS bench/tls_send.c -lssl -lcrypto
ab_env $((4<<20))
mkdir -p $D/lib
cp "$(ldd $TS | awk '/libssl\.so/ { print $3 }')" $D/lib/
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=127.0.0.1 -keyout $D/key.pem -out $D/cert.pem 2>/dev/null
PORT=${TLS_AB_PORT:-5417}
BYTES=$((32 << 20))
$TS serve $PORT $D/cert.pem $D/key.pem & peer=$!
ap=""
cleanup() {
	[ -n "$ap" ] && kill $ap 2>/dev/null
	kill $peer 2>/dev/null
	ab_done
}
trap cleanup EXIT
sleep 0.5
# send TAG ARGS...: one tls_send run, its JSON line tagged
send() {
	local tag=$1
	shift
	echo "$tag $(LD_LIBRARY_PATH=$D/lib incg $TS 127.0.0.1 $PORT $BYTES 1024 "$@")"
}
for round in $(seq $ROUNDS); do
	send "none untainted r$round"
	for tag in base new; do
		bin=$BASE; [ $tag = new ] && bin=$NEW
		rm -f $D/alerts.jsonl
		$bin run --cgroup $CG --protect "$D/w/**" --alerts $D/alerts.jsonl --stats-interval 0 2>$D/agent.err &
		ap=$!
		for i in $(seq 60); do grep -q agent_start $D/alerts.jsonl 2>/dev/null && break; sleep 0.5; done
		s0=$(prog_stats vigil_ssl_write)
		send "$tag tainted r$round" $D/w/model.safetensors
		s1=$(prog_stats vigil_ssl_write)
		# the taint-to-attach latency (an agent with per-process attach)
		lat=$($bin status --json 2>/dev/null | python3 -c 'import json, sys
t = json.load(sys.stdin).get("tls", {}).get("attach_latency_us")
print("%d us (max %d, n %d)" % (t["mean"], t["max"], t["count"]) if t and t["count"] else "-")' 2>/dev/null)
		send "$tag untainted r$round"
		s2=$(prog_stats vigil_ssl_write)
		kill -TERM $ap; wait $ap; ap=""
		python3 - "$tag" "$round" "$s0" "$s1" "$s2" "${lat:--}" <<'PY'
import sys
tag, rnd, lat = sys.argv[1], sys.argv[2], sys.argv[6]
s0, s1, s2 = [list(map(int, a.split())) for a in sys.argv[3:6]]
def per(a, b):
    n = b[0] - a[0]
    return "%d runs %.0f ns/run" % (n, (b[1] - a[1]) / n) if n else "0 runs"
print("%s r%s | vigil_ssl_write tainted: %s | untainted: %s | taint to attach: %s" %
      (tag, rnd, per(s0, s1), per(s1, s2), lat), flush=True)
PY
	done
done
