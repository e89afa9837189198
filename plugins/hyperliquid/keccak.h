/*
 * plugins/hyperliquid/keccak.h — Keccak-256 as Ethereum uses it: the
 * original Keccak submission's padding (0x01 ... 0x80), NOT the SHA3-256 of
 * FIPS 202 (padding 0x06), so keccak256("") = c5d24601...a470.
 *
 * OpenSSL 3.0 (Debian 12) has no Keccak-256; OpenSSL 3.2+ offers it as
 * "KECCAK-256". hl_keccak_init() fetches it once per instance when the
 * runtime library has it; otherwise the small built-in implementation
 * (keccak.c) is used. Both give the same bytes (tested).
 *
 * Thread-safety: a struct hl_keccak is read-only after init and may be used
 * from any thread; the one-shot functions keep no state.
 */
#ifndef XGW_PLUGIN_HL_KECCAK_H
#define XGW_PLUGIN_HL_KECCAK_H

#include <stddef.h>
#include <stdint.h>

struct evp_md_st;

struct hl_keccak {
    struct evp_md_st *md; /* OpenSSL's KECCAK-256 when available, else NULL */
};

/* Fetch OpenSSL's KECCAK-256 if the runtime offers it. Never fails: without
 * it the built-in permutation is used. */
void hl_keccak_init(struct hl_keccak *k);
void hl_keccak_free(struct hl_keccak *k);

/* out = Keccak-256(data[0..len)). k may be NULL (built-in). */
void hl_keccak256(const struct hl_keccak *k, const void *data, size_t len, uint8_t out[32]);

/* The built-in implementation, always (tests compare it with OpenSSL's when
 * present). */
void hl_keccak256_builtin(const void *data, size_t len, uint8_t out[32]);

#endif
