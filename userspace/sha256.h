/* SPDX-License-Identifier: GPL-2.0 */
/* SHA-256 (FIPS 180-4) for the alert hash chain: small and dependency-free. */
#ifndef VIGIL_SHA256_H
#define VIGIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char buf[64];
	size_t nbuf;
};

void sha256__init(struct sha256 *c);
void sha256__update(struct sha256 *c, const void *data, size_t len);
void sha256__final(struct sha256 *c, unsigned char out[SHA256_LEN]);
/* One call: lowercase hex of the digest into hex[65]. */
void sha256__hex(const void *data, size_t len, char hex[2 * SHA256_LEN + 1]);

#endif
