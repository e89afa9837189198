/*
 * bitunix_sign.h — Bitunix's request signature, as the exchange computes it
 * (bitunix.md "Signing"; OpenAPI futures/common/sign):
 *
 *   queryParams = every query parameter, sorted by key (ascending bytes),
 *                 concatenated as key1value1key2value2 (decoded, no '=' '&')
 *   digest      = SHA256_hex(nonce + timestamp + api_key + queryParams + body)
 *   sign        = SHA256_hex(digest + secret)            (lower-case hex)
 *
 * The WebSocket login uses the same two stages over nonce + timestamp +
 * api_key (no query, no body). Depends on OpenSSL only, so tests can compile
 * it directly. Not thread-safe state: none (pure functions).
 */
#ifndef XGW_MOCKEX_BITUNIX_SIGN_H
#define XGW_MOCKEX_BITUNIX_SIGN_H

#include <stddef.h>

/* Builds queryParams from a raw x-www-form-urlencoded query (percent-
 * escapes decoded, '+' kept as is: the mock's canonical query never has a
 * raw '+'). Writes at most cap-1 bytes plus NUL into out. Returns the
 * length, or -1 when malformed (bad escape, too many parameters) or too
 * long. Keys that repeat keep their order (stable sort). */
int mxbx_query_params(const char *query, size_t qlen, char *out, size_t cap);

/* sign = SHA256_hex(SHA256_hex(nonce‖timestamp‖key‖qp‖body) ‖ secret). */
void mxbx_sign(const char *nonce, const char *timestamp, const char *key, const char *qp,
               size_t qplen, const char *body, size_t blen, const char *secret, char hex[65]);

/* Constant-time comparison of a received sign with the expected lower-case
 * hex; exact bytes (the exchange compares its own lower-case hex). */
int mxbx_sign_equal(const char *received, const char expected[65]);

#endif
