/* SPDX-License-Identifier: GPL-2.0 */
/* The TLS client of the stream sinks (syslog:tls://, RFC 5425): OpenSSL,
 * the peer's certificate verified against ca= (or the system store) and its
 * name (or IP address) checked against the target's host, or name=. Optional
 * client certificate for collectors that want mutual TLS. Blocking, with the
 * socket's timeouts: it runs in the sink's own thread. Not the TLS plaintext
 * uprobes (userspace/tls.c). */
#ifndef VIGIL_SINK_TLS_H
#define VIGIL_SINK_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct sink_tls_ctx;
struct sink_tls;

/* ca, cert, key: files, or NULL. Errors name the file. */
struct sink_tls_ctx *sink_tls__ctx_new(const char *ca, const char *cert, const char *key,
				       char *err, size_t errlen);
void sink_tls__ctx_free(struct sink_tls_ctx *c);
/* Handshake on connected fd and verify the peer as name. NULL on failure,
 * with why in err; fd stays the caller's either way (closed by close). */
struct sink_tls *sink_tls__connect(struct sink_tls_ctx *c, int fd, const char *name, char *err,
				   size_t errlen);
/* All of p, or false (the connection is then unusable). */
bool sink_tls__send_all(struct sink_tls *t, const char *p, size_t len);
/* close_notify (best effort) and free; not the fd. */
void sink_tls__close(struct sink_tls *t);

#endif
