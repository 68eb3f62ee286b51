// SPDX-License-Identifier: GPL-2.0
/* TLS for stream sinks, on OpenSSL (the library libcurl already brings). */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_tls.h"

struct sink_tls_ctx {
	SSL_CTX *ctx;
};

struct sink_tls {
	SSL *ssl;
};

static void ssl_why(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
		 buf[0] ? buf : strerror(errno ? errno : EIO));
	ERR_clear_error();
}

struct sink_tls_ctx *sink_tls__ctx_new(const char *ca, const char *cert, const char *key,
				       char *err, size_t errlen)
{
	struct sink_tls_ctx *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx) {
		ssl_why(err, errlen, "TLS", NULL);
		goto fail;
	}
	/* RFC 5425 as updated by RFC 9662: TLS 1.2 or newer */
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (ca ? SSL_CTX_load_verify_locations(c->ctx, ca, NULL) != 1
	       : SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		ssl_why(err, errlen, ca ? "ca=" : "the system CA store", ca);
		goto fail;
	}
	if ((cert != NULL) != (key != NULL)) {
		snprintf(err, errlen, "cert= and key= go together (a client certificate and its key)");
		goto fail;
	}
	if (cert && SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1) {
		ssl_why(err, errlen, "cert=", cert);
		goto fail;
	}
	if (key && (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(c->ctx) != 1)) {
		ssl_why(err, errlen, "key=", key);
		goto fail;
	}
	return c;
fail:
	sink_tls__ctx_free(c);
	return NULL;
}

void sink_tls__ctx_free(struct sink_tls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

struct sink_tls *sink_tls__connect(struct sink_tls_ctx *c, int fd, const char *name, char *err,
				   size_t errlen)
{
	struct sink_tls *t = calloc(1, sizeof(*t));
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
	X509_VERIFY_PARAM *vp;
	long vr;

	if (!t || !(t->ssl = SSL_new(c->ctx))) {
		snprintf(err, errlen, "out of memory");
		free(t);
		return NULL;
	}
	vp = SSL_get0_param(t->ssl);
	/* the name the certificate must carry: a DNS name (also sent as SNI)
	 * or an IP address (its iPAddress SAN) */
	if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1
		  : X509_VERIFY_PARAM_set1_host(vp, name, 0) != 1 ||
			    SSL_set_tlsext_host_name(t->ssl, name) != 1) {
		ssl_why(err, errlen, "TLS name", name);
		goto fail;
	}
	if (SSL_set_fd(t->ssl, fd) != 1) {
		ssl_why(err, errlen, "TLS", NULL);
		goto fail;
	}
	errno = 0;
	if (SSL_connect(t->ssl) != 1) {
		vr = SSL_get_verify_result(t->ssl);
		if (vr != X509_V_OK) {
			snprintf(err, errlen, "TLS handshake: certificate of %s not accepted: %s",
				 name, X509_verify_cert_error_string(vr));
			ERR_clear_error();
		} else {
			ssl_why(err, errlen, "TLS handshake with", name);
		}
		goto fail;
	}
	return t;
fail:
	SSL_free(t->ssl);
	free(t);
	return NULL;
}

bool sink_tls__send_all(struct sink_tls *t, const char *p, size_t len)
{
	while (len) {
		size_t w = 0;

		if (SSL_write_ex(t->ssl, p, len, &w) != 1) {
			ERR_clear_error();
			return false;
		}
		p += w;
		len -= w;
	}
	return true;
}

void sink_tls__close(struct sink_tls *t)
{
	if (!t)
		return;
	SSL_shutdown(t->ssl);	/* one close_notify, no waiting for the peer's */
	ERR_clear_error();
	SSL_free(t->ssl);
	free(t);
}
