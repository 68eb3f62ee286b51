# TLS test helpers (tests/bats/tls.bats): a test CA, the HTTPS peer in
# the netns, the tainted HTTPS clients, the agent's view of TLS flows.

TLS_POST="$SCEN/tls_post.py"
TLS_GO="$VIGIL_ROOT/.output/scenarios/tls_post_go"

# tls_setup: after vigil_setup, a test CA and the peer's certificate
tls_setup() {
	# a CA and the peer's certificate for its IPv4 and IPv6 addresses; our
	# own openssl config (the kernel matrix's guests have no /etc/ssl)
	printf '%s\n' '[req]' 'distinguished_name = dn' 'x509_extensions = ca' '[dn]' '[ca]' \
		'basicConstraints = critical, CA:TRUE' 'keyUsage = keyCertSign, cRLSign' \
		'subjectKeyIdentifier = hash' > "$T/openssl.cnf"
	export OPENSSL_CONF="$T/openssl.cnf"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=vigil test CA" -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=$PEER4" -keyout "$T/peer.key" -out "$T/peer.csr" 2>/dev/null
	printf 'subjectAltName=IP:%s,IP:%s\n' "$PEER4" "$PEER6" > "$T/peer.ext"
	openssl x509 -req -in "$T/peer.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -extfile "$T/peer.ext" -out "$T/peer.pem" 2>/dev/null
}

# start_tls_peer PORT...: the HTTPS endpoint in the netns; body bytes per
# port in $T/tls-PORT
start_tls_peer() {
	local ports
	ports="$(IFS=,; echo "$*")"
	rm -f "$T/tls.ready"
	ip netns exec "$NS" python3 "$LIB/tls_peer.py" --cert "$T/peer.pem" --key "$T/peer.key" \
		--ports "$ports" --out "$T/tls" --ready "$T/tls.ready" &
	SINK_PIDS="$SINK_PIDS $!"
	for _ in $(seq 100); do [ -e "$T/tls.ready" ] && return 0; sleep 0.05; done
	echo "TLS peer did not start" >&2
	return 1
}

# tls_bytes PORT: body bytes the peer got there, once it stopped growing
tls_bytes() {
	local prev=-1 cur
	for _ in $(seq 40); do
		cur="$(cat "$T/tls-$1" 2>/dev/null || echo 0)"
		[ "$cur" = "$prev" ] && break
		prev="$cur"
		sleep 0.15
	done
	echo "$cur"
}

# gate_on_attach GATE PATH_RE: the agent attaches TLS uprobes per tainted
# process, from its worker thread, in answer to its taint record; a job
# that writes before that lands is not seen (its flow is opaque, as
# designed). Tests about what the uprobes see make the job wait: in the
# background, once GATE.pid names the job (tls_post --gate), wait until
# `vigil status` lists that pid attached to a file matching PATH_RE and
# watched (its TLS flows judged by their plaintext), with no job of its
# own left in the worker's queue (an exec's rescan), then create GATE. An attach that
# never comes opens the gate after ~10 s: the test then fails on what it
# checks, not here. Without TLS uprobes the gate opens at once.
gate_on_attach() {
	local gate="$1" re="$2"
	rm -f "$gate" "$gate.pid"
	(
		if [ "$(status_tls 't["enabled"]')" = True ]; then
			for _ in $(seq 600); do [ -s "$gate.pid" ] && break; sleep 0.05; done
			local pid
			pid="$(cat "$gate.pid" 2>/dev/null || echo 0)"
			for _ in $(seq 200); do
				[ "$(status_tls "$pid not in t['worker']['pending_pids'] and any(a['pid'] == $pid and a['watched'] and re.search(r'$re', a['path']) for a in t['attached'])")" = True ] && break
				sleep 0.05
			done
		fi
		touch "$gate"
	) > /dev/null 2>&1 &
}

# tls_post ARGS...: the job, gated on its own uprobes (and with --via, on
# its child's: the client, before it gets its stdin; with --fork, on the
# forked child's before it writes)
tls_post() {
	gate_on_attach "$T/gate" libssl
	case " $* " in
	*" --via curl "*) gate_on_attach "$T/gate.child" libssl ;;
	*" --via gnutls-cli "*) gate_on_attach "$T/gate.child" libgnutls ;;
	*" --fork "*" --child-gate "*) gate_on_attach "$T/gate.child" libssl ;;
	esac
	run in_cg python3 "$TLS_POST" --src "$W/model.safetensors" --ca "$T/ca.pem" \
		--gate "$T/gate" "$@"
	echo "tls_post: $output"
}

# status_tls EXPR: a Python expression on `vigil status --json`'s "tls" as t
status_tls() {
	"$VIGIL" status --json | python3 -c 'import json, re, sys; t = json.load(sys.stdin)["tls"]; print(eval(sys.argv[1]))' "$1"
}
