/*
 * core/crypto.h — thin wrappers over OpenSSL 3 used by the core and handed
 * to plugins through struct xgw_core_api. All functions are thread-safe.
 */
#ifndef XGW_CORE_CRYPTO_H
#define XGW_CORE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

void xgw__hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len, uint8_t out[32]);
void xgw__sha256(const void *msg, size_t len, uint8_t out[32]);
/* Writes 2n lowercase hex characters and a NUL into out (2n + 1 bytes). */
void xgw__hex_lower(const uint8_t *in, size_t n, char *out);
/* CSPRNG (RAND_bytes). 0 ok, XGW_ERR_INTERNAL when the generator fails. */
int xgw__random_bytes(void *out, size_t n);
/* Zero memory in a way the compiler cannot elide (OPENSSL_cleanse). */
void xgw__secure_zero(void *p, size_t n);

#endif
