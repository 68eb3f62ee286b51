#!/bin/bash
# vigil benchmarks (make bench). Builds the C workloads, then runs
# bench/bench.py as root: A/B pairs without and with the agent, capacity and
# enforcement figures, a BPF run-time profile; prints a table, writes
# .output/bench/results.json and (full runs) docs/PERFORMANCE.md.
#
#   bench/run.sh            full run (~10-15 min on 2 cores)
#   BENCH_QUICK=1 bench/run.sh    fewer pairs (3), ~1/4 sizes
#   BENCH_ONLY=seqread,tcp-veth bench/run.sh   only these (also: storm, leak;
#                           BENCH_ONLY=sinks: the rule engine and alert sinks only)
#   BENCH_PAIRS=N           pairs per workload (default 5; quick 3)
#   BENCH_PROFILE=0         skip the BPF run-time profile pass
#   BENCH_DOCS=1|0          force/skip rewriting docs/PERFORMANCE.md
#   bench/run.sh --smoke    each workload once, tiny, with the agent; exit 1 on failure
#   bench/run.sh --docs     regenerate docs/PERFORMANCE.md from results.json
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "bench: must run as root (BPF, cgroups, network namespaces)" >&2
	exit 2
fi
[ -x .output/vigil ] || { echo "bench: .output/vigil missing: run make first" >&2; exit 2; }
mkdir -p .output/bench
# one run at a time: runs share the cgroup, namespace and port names
exec 9>.output/bench/.lock
flock -n 9 || { echo "bench: another bench run is active (.output/bench/.lock)" >&2; exit 2; }
if [ ! -x .output/bench/workloads ] || [ bench/workloads.c -nt .output/bench/workloads ]; then
	gcc -O2 -g -Wall -Wextra -Werror -o .output/bench/workloads bench/workloads.c
fi
if [ ! -x .output/bench/tls_send ] || [ bench/tls_send.c -nt .output/bench/tls_send ]; then
	gcc -O2 -g -Wall -Wextra -Werror -o .output/bench/tls_send bench/tls_send.c -lssl -lcrypto
fi
# bench.py cleans up after itself; this is the safety net if python dies hard
cleanup() { python3 bench/bench.py --cleanup >/dev/null 2>&1 || true; }
trap cleanup EXIT
# the rule engine: correlated records per second through a 50-rule pack
if [ "${1:-}" != "--docs" ] && [ "${1:-}" != "--cleanup" ]; then
	objs=$(ls .output/obj/*.o | grep -v '/main\.o$')
	# shellcheck disable=SC2086
	gcc -O2 -g -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
		-DVIGIL_VERSION='"bench"' -Iinclude -Iuserspace -I.output \
		bench/engine_bench.c $objs -l:libbpf.a -l:libjansson.a -lelf -lz -lyaml -lcurl -lssl -lcrypto -lpthread \
		-o .output/bench/engine_bench
	records=3000000
	[ "${1:-}" = "--smoke" ] && records=20000
	echo "# rule engine (best of 3):"
	for _ in 1 2 3; do .output/bench/engine_bench "$records"; done | tee .output/bench/engine.jsonl
fi
# alert sinks: records per second per sink and format, and what a stalled
# sink costs the event loop (bench/sink_bench.c)
if [ "${1:-}" != "--docs" ] && [ "${1:-}" != "--cleanup" ]; then
	# shellcheck disable=SC2086
	gcc -O2 -g -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
		-DVIGIL_VERSION='"bench"' -Iinclude -Iuserspace -I.output \
		bench/sink_bench.c $objs -l:libbpf.a -l:libjansson.a -lelf -lz -lyaml -lcurl -lssl -lcrypto -lpthread \
		-o .output/bench/sink_bench
	sinkrecs=${BENCH_SINK_RECORDS:-100000}
	[ "${1:-}" = "--smoke" ] && sinkrecs=5000
	mkdir -p .output/bench/sinks
	echo "# alert sinks:"
	.output/bench/sink_bench "$PWD/.output/bench/sinks" "$sinkrecs" | tee .output/bench/sinks.jsonl
	rm -rf .output/bench/sinks
	[ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" != sinks ] || exit 0
fi
python3 bench/bench.py "$@"
