# start_rsyslog PORT [TLSPORT]: a private rsyslogd for this test (never the
# system's): its own config, a local socket $T/log.sock, TCP on
# 127.0.0.1:PORT, with TLSPORT also RFC 5425 TLS there (rsyslog's ossl
# driver, the certificate of make_test_ca in $T/ca, no client auth), and
# everything it receives in $T/syslog.out as (facility and severity as names)
#   facility|severity|time|host|app|procid|msgid|structured-data|msg
start_rsyslog() {
	local port="$1" tlsport="${2:-}" tls=""
	command -v rsyslogd >/dev/null || { echo "rsyslogd missing (scripts/deps.sh)" >&2; return 1; }
	mkdir -p "$T/rs"
	if [ -n "$tlsport" ]; then
		tls="input(type=\"imtcp\" port=\"$tlsport\" address=\"127.0.0.1\"
		      streamDriver.name=\"ossl\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\"
		      streamDriver.CAFile=\"$T/ca/ca.pem\" streamDriver.CertFile=\"$T/ca/server.pem\"
		      streamDriver.KeyFile=\"$T/ca/server.key\")"
	fi
	cat > "$T/rsyslog.conf" <<-CONF
	global(workDirectory="$T/rs" maxMessageSize="64k")
	module(load="imuxsock" SysSock.Use="off")
	input(type="imuxsock" Socket="$T/log.sock" CreatePath="on" UseSpecialParser="off"
	      ParseHostname="on" UseSysTimeStamp="off" RateLimit.Interval="0")
	module(load="imtcp")
	input(type="imtcp" port="$port" address="127.0.0.1")
	$tls
	template(name="fields" type="list") {
	  property(name="syslogfacility-text") constant(value="|")
	  property(name="syslogseverity-text") constant(value="|")
	  property(name="timereported" dateFormat="rfc3339") constant(value="|")
	  property(name="hostname") constant(value="|")
	  property(name="app-name") constant(value="|")
	  property(name="procid") constant(value="|")
	  property(name="msgid") constant(value="|")
	  property(name="structured-data") constant(value="|")
	  property(name="msg") constant(value="\n")
	}
	action(type="omfile" file="$T/syslog.out" template="fields" flushOnTXEnd="on"
	       asyncWriting="off")
	CONF
	rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rs/rsyslogd.pid" 2>"$T/rsyslog.err" &
	SINK_PIDS="$SINK_PIDS $!"
	for _ in $(seq 100); do
		[ -S "$T/log.sock" ] && python3 -c 'import socket,sys
for p in sys.argv[1:]: socket.create_connection(("127.0.0.1", int(p)), 1).close()' $port $tlsport 2>/dev/null && return 0
		sleep 0.05
	done
	echo "rsyslogd did not start:" >&2
	cat "$T/rsyslog.err" >&2
	return 1
}

# start_rsyslog_with CONF: a private rsyslogd on CONF (a site's forwarding
# rules, e.g. taken from docs/FLEET.md) behind the local socket $T/fwd.sock
# a syslog: sink writes to; its spool and queues in $T/rsf
start_rsyslog_with() {
	mkdir -p "$T/rsf"
	{
		echo "global(workDirectory=\"$T/rsf\" maxMessageSize=\"64k\")"
		echo 'module(load="imuxsock" SysSock.Use="off")'
		echo "input(type=\"imuxsock\" Socket=\"$T/fwd.sock\" CreatePath=\"on\" UseSpecialParser=\"off\""
		echo '      ParseHostname="on" UseSysTimeStamp="off" RateLimit.Interval="0")'
		cat "$1"
	} > "$T/rsf.conf"
	rsyslogd -N1 -f "$T/rsf.conf" >"$T/rsf.check" 2>&1 || { cat "$T/rsf.check" >&2; return 1; }
	rsyslogd -n -f "$T/rsf.conf" -i "$T/rsf/rsyslogd.pid" 2>"$T/rsf.err" &
	SINK_PIDS="$SINK_PIDS $!"
	for _ in $(seq 100); do [ -S "$T/fwd.sock" ] && return 0; sleep 0.05; done
	echo "rsyslogd did not start:" >&2
	cat "$T/rsf.err" >&2
	return 1
}
