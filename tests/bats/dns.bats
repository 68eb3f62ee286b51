#!/usr/bin/env bats
# DNS as DNS, with the default pack: a job that read the weights resolves
# names through the host's (non-loopback) resolver and through a local stub:
# no alert above low, never blocked, in both modes. Its twin, a tunnel
# carrying the weights in query names through the same resolver: critical,
# and killed in enforce mode.

load ../lib/harness

setup() { vigil_setup; }
teardown() { vigil_teardown; }

DNS_SERVER="$SCEN/dns_server.py"
DNS_JOB="$SCEN/dns_job.py"

# resolver [netns|host ADDR]: a DNS server ($PEER4:53 in the test host by
# default) and a resolv.conf naming it ($T/resolv.conf).
resolver() {
	local where="${1:-netns}" addr="${2:-$PEER4}" ready="$T/dns.ready"
	rm -f "$ready"
	if [ "$where" = netns ]; then
		ip netns exec "$NS" python3 "$DNS_SERVER" --host "$addr" --out "$T/dns.count" \
			--ready "$ready" &
	else
		python3 "$DNS_SERVER" --host "$addr" --out "$T/dns.count" --ready "$ready" &
	fi
	SINK_PIDS="$SINK_PIDS $!"
	printf 'search default.svc.cluster.local\nnameserver %s\noptions ndots:2\n' "$addr" \
		>"$T/resolv.conf"
	for _ in $(seq 100); do [ -e "$ready" ] && return 0; sleep 0.05; done
	echo "resolver did not start" >&2
	return 1
}

dns_job() { run in_cg python3 "$DNS_JOB" --weights "$W/model.safetensors" "$@"; }

no_alert_above_low() {
	for sev in medium high critical; do
		run alert_none kind=alert severity=$sev
		[ "$status" -eq 0 ]
	done
}

@test "dns: 20 lookups through the host's resolver after reading the weights pass, in both modes" {
	resolver
	for mode in monitor enforce; do
		ALERTS="$T/alerts-$mode.jsonl"
		start_agent --mode "$mode" --resolv-conf "$T/resolv.conf"
		dns_job --server "$PEER4" --names 20
		[ "$status" -eq 0 ]
		[[ "$output" == *'"answered": 20'* ]]
		stop_agent
		no_alert_above_low
	done
}

@test "dns: lookups through a local stub pass, in both modes" {
	resolver host "127.0.$N.53"
	for mode in monitor enforce; do
		ALERTS="$T/alerts-$mode.jsonl"
		start_agent --mode "$mode" --resolv-conf "$T/resolv.conf"
		dns_job --server "127.0.$N.53" --names 20
		[ "$status" -eq 0 ]
		stop_agent
		no_alert_above_low
	done
}

@test "dns: a tunnel through the host's resolver is critical and killed in enforce mode" {
	resolver
	start_agent --mode enforce --resolv-conf "$T/resolv.conf"
	dns_job --server "$PEER4" --tunnel 200
	[ "$status" -eq 137 ]
	read -r queries name_bytes <"$T/dns.count"
	figure "tunnel queries that reached the resolver" "$queries ($name_bytes name bytes)"
	[ "$queries" -lt 20 ]
	run alert_wait rule=weights-dns-tunnel severity=critical network.dport=53 \
		network.daddr="$PEER4"
	[ "$status" -eq 0 ]
}

@test "dns: a tunnel in monitor mode is alerted critical, not stopped" {
	resolver
	start_agent --resolv-conf "$T/resolv.conf"
	dns_job --server "$PEER4" --tunnel 50
	[ "$status" -eq 0 ]
	run alert_wait rule=weights-dns-tunnel severity=critical enforce_action=killed
	[ "$status" -eq 0 ]
}

@test "dns: a DNS server that is not a resolver of the host is still egress" {
	resolver
	echo "nameserver 10.213.$N.53" >"$T/other.conf"
	start_agent --mode enforce --resolv-conf "$T/other.conf"
	dns_job --server "$PEER4" --names 3
	# the kernel refuses the datagram (exit 3), or the rule's kill lands first
	[ "$status" -eq 3 ] || [ "$status" -eq 137 ]
	[[ "$output" != *'"answered": 1'* ]]
	run alert_wait rule=weights-dns-exfil severity=critical network.direction=outbound
	[ "$status" -eq 0 ]
}
