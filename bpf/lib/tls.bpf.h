/* SPDX-License-Identifier: GPL-2.0 */
/* TLS plaintext: the class of what a process handed to SSL_write (and its
 * kin) before encryption, as the uprobes in bpf/tls.bpf.c saw it, for the
 * socket that carries the records. The egress path asks this when a flow's
 * bytes are TLS records: a known plaintext class replaces `opaque`.
 *
 * Contract between the egress path (owner: content classes) and the TLS
 * uprobes (owner: this file):
 *   tls__on_send(sk)          called on every sampled tainted send, in the
 *                             sending task's context, before the class is
 *                             decided; binds the task's pending plaintext
 *                             verdict to sk.
 *   tls__plaintext_class(sk)  VIGIL_CLASS_UNKNOWN when no plaintext was
 *                             seen for sk (the flow is then `opaque`), else
 *                             VIGIL_CLASS_WORK or VIGIL_CLASS_WEIGHTS.
 * Until the uprobes land both are no-ops. */
#ifndef VIGIL_TLS_BPF_H
#define VIGIL_TLS_BPF_H

#include "lib/common.bpf.h"

static __always_inline void tls__on_send(struct sock *sk)
{
}

static __always_inline __u8 tls__plaintext_class(struct sock *sk)
{
	return VIGIL_CLASS_UNKNOWN;
}

#endif
