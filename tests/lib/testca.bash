# make_test_ca DIR: a throwaway CA for the TLS tests (never a real one):
# DIR/ca.pem, and DIR/server.pem + server.key for the names collector.test,
# localhost and 127.0.0.1, signed by it; DIR/other-ca.pem a CA that signed
# nothing (a client trusting only it must refuse the server).
make_test_ca() {
	local d="$1"
	mkdir -p "$d"
	for ca in ca other-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=vigil test $ca" -keyout "$d/$ca.key" -out "$d/$ca.pem" 2>/dev/null || return 1
	done
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=collector.test" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
	printf 'subjectAltName=DNS:collector.test,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
		> "$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" 2>/dev/null
}
