# Shared set-up for vigil's integration tests. Each test gets:
#   - its own cgroup v2 directory ($CG) that the agent is scoped to (--cgroup),
#     so an enforcing agent can only ever touch processes the test put there;
#   - its own test host: a network namespace ($NS) joined to this one by a veth
#     pair, 10.213.$N.1/30 + fd00:213:$N::1/64 here, .2 / ::2 over there;
#   - a weights directory ($W) with a 4 MiB model.safetensors.
# teardown always kills the agent and everything in $CG, removes the cgroup
# and the namespace, whatever the test did.

VIGIL_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
VIGIL="$VIGIL_ROOT/.output/vigil"
LIB="$VIGIL_ROOT/tests/lib"
SCEN="$VIGIL_ROOT/tests/scenarios"
EXFIL="$SCEN/exfil.py"
CONTROL="$SCEN/control.py"
ALERTS_PY="$LIB/alerts.py"
# measured figures (kill latency, bytes that got out) land here for the notes
FIGURES="${VIGIL_FIGURES:-$VIGIL_ROOT/.output/test-figures.txt}"

cg_mount() {
	awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts
}

vigil_setup() {
	[ "$(id -u)" = 0 ] || skip "integration tests need root"
	# the kernel matrix: a test of a capability blind with this hook set
	if [ -n "${VIGIL_BLIND:-}" ] && [[ "$BATS_TEST_DESCRIPTION" =~ $VIGIL_BLIND ]]; then
		skip "blind with --hooks ${VIGIL_HOOKS:-auto} (docs/KERNELS.md)"
	fi
	[ -x "$VIGIL" ] || { echo "build first: $VIGIL missing" >&2; return 1; }
	# VIGIL_TEST_SLOT (0-6) lets several suites run at once on one host:
	# each slot owns 33 test-host numbers (netns, veth, cgroup, port).
	N=$(( (BATS_SUITE_TEST_NUMBER % 33) + 20 + 33 * ${VIGIL_TEST_SLOT:-0} ))
	NS="vigil-t$N"
	VH="vgh$N"
	VN="vgn$N"
	HOST4="10.213.$N.1"
	PEER4="10.213.$N.2"
	HOST6="fd00:213:$N::1"
	PEER6="fd00:213:$N::2"
	PORT=$(( 20000 + N ))
	T="$BATS_TEST_TMPDIR"
	W="$T/weights"
	ALERTS="$T/alerts.jsonl"
	AGENT_ERR="$T/agent.err"
	AGENT_PID=""
	SINK_PIDS=""
	# each test's agent has its own control socket (vigil status/reload)
	export VIGIL_RUN_DIR="$T/run"
	local mnt
	mnt="$(cg_mount)"
	[ -n "$mnt" ] || { echo "no cgroup2 mount" >&2; return 1; }
	CG="$mnt/vigil-test-$N"
	cleanup_scope
	mkdir "$CG"
	mkdir -p "$W"
	head -c $((4 << 20)) /dev/urandom > "$W/model.safetensors"

	ip netns add "$NS"
	ip link add "$VH" type veth peer name "$VN"
	ip link set "$VN" netns "$NS"
	ip addr add "$HOST4/30" dev "$VH"
	ip -6 addr add "$HOST6/64" dev "$VH" nodad
	ip link set "$VH" up
	ip -n "$NS" addr add "$PEER4/30" dev "$VN"
	ip -n "$NS" -6 addr add "$PEER6/64" dev "$VN" nodad
	ip -n "$NS" link set "$VN" up
	ip -n "$NS" link set lo up
}

cleanup_scope() {
	if [ -n "${AGENT_PID:-}" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$AGENT_PID" 2>/dev/null || true
	fi
	AGENT_PID=""
	# pinned programs (run --pin) live in the test's own bpffs: unmounting
	# it drops every pin, so nothing keeps enforcing after the test
	if [ -n "${BPFFS:-}" ] && mountpoint -q "$BPFFS"; then
		rm -rf "$BPFFS"/* 2>/dev/null || true
		umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
	fi
	BPFFS=""
	if [ -d "${CG:-/nonexistent}" ]; then
		echo 1 > "$CG/cgroup.kill" 2>/dev/null || true
		# child cgroups a test made (containers' scopes) first
		for _ in $(seq 50); do
			find "$CG" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
			rmdir "$CG" 2>/dev/null && break
			sleep 0.1
		done
	fi
	if ip netns list 2>/dev/null | grep -qw "$NS"; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$NS" 2>/dev/null || true
	fi
	ip link del "$VH" 2>/dev/null || true
	for p in ${SINK_PIDS:-}; do kill -KILL "$p" 2>/dev/null || true; done
	SINK_PIDS=""
	return 0
}

vigil_teardown() {
	if [ -n "${BATS_TEST_COMPLETED:-}" ] || [ -z "${AGENT_ERR:-}" ]; then
		:
	else
		# a failed test: show what the agent said
		echo "--- agent stderr" >&2; cat "$AGENT_ERR" >&2 2>/dev/null || true
		echo "--- alerts" >&2; cat "$ALERTS" >&2 2>/dev/null || true
	fi
	cleanup_scope
}

# capability_of CAP: the implementation `vigil check` picks for CAP on this
# kernel with $VIGIL_HOOKS ("blind" when none works).
capability_of() {
	"$VIGIL" check --json ${VIGIL_HOOKS:+--hooks "$VIGIL_HOOKS"} 2>/dev/null |
		python3 -c "import json, sys; print(json.load(sys.stdin)['capabilities']['$1']['implementation'])"
}

# require_capability CAP: skip the test, saying so, where CAP is blind (a
# blindness docs/KERNELS.md explains: the kernel lacks what it needs).
require_capability() {
	[ "$(capability_of "$1")" != blind ] ||
		skip "$1 is blind on $(uname -r) (vigil check; docs/KERNELS.md)"
}

# bpf_visible: another process (bpftool) may open vigil's programs and
# links; not where the BPF LSM prevents it (capability prevent, Debian 12's
# 6.1): there bpftool lists none of them, by design
bpf_visible() { [ "$(capability_of prevent)" = blind ]; }

# The default detection rules without the default protect sets (those would
# walk /root and /home in every test).
DETECT_RULES="$VIGIL_ROOT/rules/detect.yaml"

# start_agent ARGS...: run the agent scoped to $CG protecting $W/**, wait for
# agent_start (after which nothing is missed). $VIGIL_HOOKS: its --hooks
# (the kernel matrix runs the tests through each implementation).
# VIGIL_WRAP (words) runs the agent under a wrapper, e.g. setpriv with the
# unit's capability bounding set.
start_agent() {
	# shellcheck disable=SC2086
	${VIGIL_WRAP:-} "$VIGIL" run --no-default-rules --rules "$DETECT_RULES" --cgroup "$CG" \
		--protect "$W/**" --alerts "$ALERTS" --stats-interval 0 \
		${VIGIL_HOOKS:+--hooks "$VIGIL_HOOKS"} "$@" 2>"$AGENT_ERR" &
	AGENT_PID=$!
	# AGENT_START_TIMEOUT: a test whose agent starts in a loaded TCG guest
	if ! "$ALERTS_PY" wait "$ALERTS" --timeout "${AGENT_START_TIMEOUT:-30}" kind=agent_start \
		>/dev/null 2>&1; then
		echo "agent did not start:" >&2
		cat "$AGENT_ERR" >&2
		return 1
	fi
}

# launched_agent CMD...: run an agent started another way (vigil record,
# other flags, stdout kept) in the background and wait for agent_start.
launched_agent() {
	"$@" 2>"$AGENT_ERR" &
	AGENT_PID=$!
	"$ALERTS_PY" wait "$ALERTS" --timeout 30 kind=agent_start >/dev/null
}

# stop_agent: SIGTERM, wait, and expect a clean exit (0) and an agent_stop line.
stop_agent() {
	local rc=0
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID" || rc=$?
	AGENT_PID=""
	[ "$rc" = 0 ] || { echo "agent exited $rc" >&2; cat "$AGENT_ERR" >&2; return 1; }
	"$ALERTS_PY" wait "$ALERTS" --timeout 1 kind=agent_stop >/dev/null || return 1
	# every stream a test sees obeys docs/schema/alert.schema.json (a test
	# that rotated the file away sets ALERTS_PARTIAL=1: no agent_start in it)
	"$ALERTS_PY" "$([ -n "${ALERTS_PARTIAL:-}" ] && echo records || echo schema)" "$ALERTS"
}

# start_sink tcp|udp [PORT] [netns|host]: a receiver counting bytes into $T/sink-PORT-PROTO
start_sink() {
	local proto="$1" port="${2:-$PORT}" where="${3:-netns}"
	local out="$T/sink-$port-$proto" ready="$T/sink-$port-$proto.ready"
	rm -f "$out" "$ready"
	if [ "$where" = host ]; then
		python3 "$LIB/sink.py" --proto "$proto" --port "$port" --out "$out" --ready "$ready" &
	else
		ip netns exec "$NS" python3 "$LIB/sink.py" --proto "$proto" --port "$port" \
			--out "$out" --ready "$ready" &
	fi
	SINK_PIDS="$SINK_PIDS $!"
	for _ in $(seq 100); do [ -e "$ready" ] && return 0; sleep 0.05; done
	echo "sink on $port did not start" >&2
	return 1
}

# sink_bytes [PORT] [PROTO]: total received, once it has stopped growing.
sink_bytes() {
	local f="$T/sink-${1:-$PORT}-${2:-tcp}" prev=-1 cur
	for _ in $(seq 40); do
		cur="$(cat "$f" 2>/dev/null || echo 0)"
		[ "$cur" = "$prev" ] && break
		prev="$cur"
		sleep 0.15
	done
	echo "$cur"
}

# sink_conns [PORT] [PROTO]: what each sender delivered (one line per TCP
# connection or UDP source, in order of arrival), once the total has stopped
# growing.
sink_conns() {
	sink_bytes "$@" >/dev/null
	cat "$T/sink-${1:-$PORT}-${2:-tcp}.conns"
}

# pin_setup: a private bpffs for this test ($BPFFS) and a pin directory in
# it ($PIN_DIR) for agents started with --pin --pin-dir "$PIN_DIR";
# teardown unmounts it.
pin_setup() {
	BPFFS="$T/bpffs"
	PIN_DIR="$BPFFS/vigil"
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS"
}

# in_cg CMD...: run CMD inside the test cgroup (the agent's scope).
in_cg() {
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}

# leak ARGS...: run the exfil scenario in the cgroup; sets $status/$output (bats run).
leak() {
	run in_cg python3 "$EXFIL" "$@"
}

alert_wait() { "$ALERTS_PY" wait "$ALERTS" "$@"; }
alert_none() { "$ALERTS_PY" none "$ALERTS" "$@"; }
alert_get() { "$ALERTS_PY" get "$ALERTS" "$@"; }
alert_distinct() { "$ALERTS_PY" distinct "$ALERTS" "$@"; }

# figure NAME VALUE: record a measurement for the closing notes.
figure() {
	mkdir -p "$(dirname "$FIGURES")"
	echo "$BATS_TEST_DESCRIPTION | $1 | $2" >> "$FIGURES"
}
