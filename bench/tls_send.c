// SPDX-License-Identifier: GPL-2.0
/* The HTTPS sender of the TLS benchmark (bench.py, workloads tls-*): one
 * OpenSSL connection, SSL_write of WSIZE bytes at a time until BYTES are
 * sent; with TAINT_FILE, that file is read first (a tainted sender: the
 * TLS uprobes sample every write). Prints {"workload":"tls-send",
 * "elapsed_s":..., "cpu_s":...} (cpu_s: the sender's own CPU time).
 *   tls_send serve PORT CERT KEY: the peer (in the bench namespace), one
 *   forked reader per connection, 64 KiB reads, what it reads goes nowhere. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "tls_send: %s\n", what);
	ERR_print_errors_fp(stderr);
	printf("{\"workload\":\"tls-send\",\"error\":\"%s\"}\n", what);
	return 1;
}

static int serve(const char *port, const char *cert, const char *key)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);

	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		return die("certificate");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 16))
		return die("listen");
	for (;;) {
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			continue;
		if (fork() == 0) {
			static char buf[65536];
			SSL *ssl = SSL_new(ctx);

			SSL_set_fd(ssl, c);
			if (SSL_accept(ssl) == 1)
				while (SSL_read(ssl, buf, sizeof(buf)) > 0)
					;
			_exit(0);
		}
		close(c);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned long long total, sent = 0, writes = 0;
	size_t wsize;
	char *buf;
	SSL_CTX *ctx;
	SSL *ssl;
	double t0, t1;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3], argv[4]);
	if (argc < 5) {
		fprintf(stderr, "usage: tls_send HOST PORT BYTES WSIZE [TAINT_FILE]\n");
		return 2;
	}
	total = strtoull(argv[3], NULL, 0);
	wsize = strtoul(argv[4], NULL, 0);
	buf = malloc(wsize);
	if (!buf || !wsize)
		return die("bad size");
	/* JSON-ish text, as a metrics push would write */
	for (size_t i = 0; i < wsize; i++)
		buf[i] = "{\"metric\":\"eval_loss\",\"step\":12,\"value\":0.3141}\n"[i % 49];
	if (argc > 5) {
		char tmp[65536];
		int in = open(argv[5], O_RDONLY);

		if (in < 0)
			return die("cannot open the taint file");
		while (read(in, tmp, sizeof(tmp)) > 0)
			;
		close(in);
	}
	sa.sin_port = htons(atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return die("bad address");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return die("connect failed");
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return die("SSL_CTX_new");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		return die("handshake failed");
	t0 = now();
	while (sent < total) {
		int n = SSL_write(ssl, buf, (int)(total - sent < wsize ? total - sent : wsize));

		if (n <= 0)
			return die("SSL_write failed");
		sent += n;
		writes++;
	}
	t1 = now();
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		SSL_shutdown(ssl);
		close(fd);
		printf("{\"workload\":\"tls-send\",\"elapsed_s\":%.6f,\"cpu_s\":%.6f,"
		       "\"bytes\":%llu,\"writes\":%llu,\"mib_per_s\":%.1f}\n", t1 - t0,
		       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
		       sent, writes, sent / (t1 - t0) / (1 << 20));
	}
	return 0;
}
