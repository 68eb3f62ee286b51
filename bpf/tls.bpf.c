// SPDX-License-Identifier: GPL-2.0
/* Uprobes on the write functions of TLS libraries: the plaintext a tainted
 * process encrypts is sampled here, before it becomes ciphertext that looks
 * like weights to the classifier (lib/tls.bpf.h binds it to the socket).
 * The agent (userspace/tls.c) attaches them per tainted process and file,
 * at the symbol's offset; "?": loaded only when the "tls" capability
 * (userspace/caps.c) is chosen. An untainted process has no breakpoint
 * (unless the agent's table overflowed and a file went host-wide: then it
 * pays the uprobe trap and one bitmap test). */
#include "lib/tls.bpf.h"

/* int SSL_write(SSL *ssl, const void *buf, int num) */
SEC("?uprobe")
int BPF_KPROBE(vigil_ssl_write, void *ssl, const void *buf, int num)
{
	return num > 0 ? tls__sample(buf, (__u64)num, VIGIL_TLS_OPENSSL) : 0;
}

/* int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written) */
SEC("?uprobe")
int BPF_KPROBE(vigil_ssl_write_ex, void *ssl, const void *buf, size_t num)
{
	return tls__sample(buf, num, VIGIL_TLS_OPENSSL);
}

/* ssize_t gnutls_record_send(gnutls_session_t session, const void *data,
 *			      size_t data_size) */
SEC("?uprobe")
int BPF_KPROBE(vigil_gnutls_record_send, void *session, const void *data, size_t size)
{
	return tls__sample(data, size, VIGIL_TLS_GNUTLS);
}

/* func (c *Conn) Write(b []byte) (int, error), Go's register ABI (1.17+):
 * the receiver, then the slice's pointer and length, in the first integer
 * argument registers (amd64: AX, BX, CX; arm64: R0, R1, R2). Entry only: a
 * uretprobe would break Go's moving stacks. */
SEC("?uprobe")
int vigil_go_tls_write(struct pt_regs *ctx)
{
#if defined(__TARGET_ARCH_x86)
	return tls__sample((const void *)ctx->bx, ctx->cx, VIGIL_TLS_GO);
#elif defined(__TARGET_ARCH_arm64)
	return tls__sample((const void *)PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx), VIGIL_TLS_GO);
#else
	return 0;
#endif
}
