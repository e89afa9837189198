/*
 * binance_sign.h — Binance's HMAC-SHA256 request signature check, as the
 * exchange does it (binance.md §2.3, §2.9): the signature is the last
 * parameter of whichever part (query or body) carries it; the HMAC covers
 * query-without-signature ‖ body-without-signature, byte for byte, with no
 * separator; hex compared case-insensitively. Depends on OpenSSL only, so
 * tests can compile it directly.
 */
#ifndef XGW_MOCKEX_BINANCE_SIGN_H
#define XGW_MOCKEX_BINANCE_SIGN_H

#include <stddef.h>

enum mxb_sig {
    MXB_SIG_OK = 0,
    MXB_SIG_MISSING,  /* no signature parameter */
    MXB_SIG_NOT_LAST, /* signature present but not the last parameter */
    MXB_SIG_BAD,      /* HMAC mismatch (or not 64 hex chars) */
};

/* query/body are the raw bytes (query without '?'); either may be empty. */
enum mxb_sig mxb_sig_verify(const char *secret, const char *query, size_t qlen, const char *body,
                            size_t blen);

#endif
