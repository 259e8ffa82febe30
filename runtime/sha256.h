/*
 * sha256.h - SHA-256 (FIPS 180-4), for the bytecode hash, the source hash
 * and request digests. Like format.h it is part of the bytecode format's
 * definition, so the compiler's writer shares it; nothing else of the
 * runtime's internals is visible to the compiler.
 */
#ifndef TG_SHA256_H
#define TG_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tg_sha256_ctx {
	uint32_t h[8];
	uint64_t nbytes;
	unsigned char buf[64];
	size_t nbuf;
} tg_sha256_ctx;

void tg_sha256_init(tg_sha256_ctx *c);
void tg_sha256_update(tg_sha256_ctx *c, const void *data, size_t len);
void tg_sha256_final(tg_sha256_ctx *c, unsigned char out[32]);

/* One call: out = SHA-256(data). */
void tg_sha256(const void *data, size_t len, unsigned char out[32]);

/* sha256_x86.c: n 64-byte blocks with the x86 SHA extensions, when
 * tg_sha256_x86_available() (false on other CPUs and architectures). */
bool tg_sha256_x86_available(void);
void tg_sha256_x86_blocks(uint32_t h[8], const unsigned char *p, size_t n, const uint32_t k[64]);

/* 64 lowercase hex digits and a NUL. */
void tg_sha256_hex(const unsigned char digest[32], char hex[65]);

#endif
