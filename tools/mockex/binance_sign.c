/* binance_sign.c — see binance_sign.h. */
#include "binance_sign.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h> /* OPENSSL_hexchar2int */
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

/* Finds "signature=" as a parameter of s. Returns its offset (start of the
 * parameter name) or -1; *last tells whether it is the final parameter. */
static long find_sig(const char *s, size_t len, int *last)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&')
            end++;
        if (end - i >= 10 && !memcmp(s + i, "signature=", 10)) {
            *last = end == len;
            return (long)i;
        }
        i = end + 1;
    }
    return -1;
}

enum mxb_sig mxb_sig_verify(const char *secret, const char *query, size_t qlen, const char *body, size_t blen)
{
    int last = 0;
    const char *sig;
    size_t siglen;
    size_t q_signed = qlen, b_signed = blen;
    long at = find_sig(query, qlen, &last);
    if (at >= 0) {
        if (!last)
            return MXB_SIG_NOT_LAST;
        sig = query + at + 10;
        siglen = qlen - (size_t)at - 10;
        q_signed = at > 0 ? (size_t)at - 1 : 0; /* drop the '&' before it */
    } else {
        at = find_sig(body, blen, &last);
        if (at < 0)
            return MXB_SIG_MISSING;
        if (!last)
            return MXB_SIG_NOT_LAST;
        sig = body + at + 10;
        siglen = blen - (size_t)at - 10;
        b_signed = at > 0 ? (size_t)at - 1 : 0;
    }
    if (siglen != 64)
        return MXB_SIG_BAD;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    /* query and body are signed as one string: use the EVP MAC interface to
     * feed both parts without copying */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    int ok = 0;
    if (ctx) {
        char digest[] = "SHA256";
        OSSL_PARAM params[2];
        params[0] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
        params[1] = OSSL_PARAM_construct_end();
        size_t outl = 0;
        ok = EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) &&
             EVP_MAC_update(ctx, (const unsigned char *)query, q_signed) &&
             EVP_MAC_update(ctx, (const unsigned char *)body, b_signed) &&
             EVP_MAC_final(ctx, md, &outl, sizeof md);
        mdlen = (unsigned int)outl;
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    if (!ok || mdlen != 32)
        return MXB_SIG_BAD;
    for (size_t i = 0; i < 32; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)sig[2 * i]),
            lo = OPENSSL_hexchar2int((unsigned char)sig[2 * i + 1]);
        if (hi < 0 || lo < 0 || (unsigned)(hi * 16 + lo) != md[i])
            return MXB_SIG_BAD;
    }
    return MXB_SIG_OK;
}
