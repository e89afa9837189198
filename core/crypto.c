/*
 * core/crypto.c — HMAC-SHA256, SHA-256, hex, CSPRNG and wiping over
 * OpenSSL 3. See crypto.h.
 */
#include "crypto.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "xgw/types.h"

/*
 * Signing is on the order path, so per-call overhead matters. OpenSSL 3's
 * one-shot HMAC() fetches the algorithm and builds fresh contexts on every
 * call (measured ~2.9 us for a 150-byte query string here; a cached
 * EVP_MAC_CTX re-initialised per call ~1.7 us). Computing HMAC by its
 * definition (RFC 2104) over a digest fetched once and a digest context
 * reused per thread measured ~0.55 us, so that is what we do. The digest
 * itself is still OpenSSL's; only the two-pass construction is spelled out.
 */
static EVP_MD *g_sha256;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_ctx_key;
static bool g_key_ok;
/* The calling thread's context; also kept in g_ctx_key so that its
 * destructor frees it when the thread exits. */
static _Thread_local EVP_MD_CTX *tl_ctx;

static void free_ctx(void *p) { EVP_MD_CTX_free(p); }

static void init_once(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    g_key_ok = pthread_key_create(&g_ctx_key, free_ctx) == 0;
}

static const EVP_MD *sha256_md(void)
{
    pthread_once(&g_once, init_once);
    return g_sha256 ? g_sha256 : EVP_sha256();
}

static EVP_MD_CTX *thread_ctx(void)
{
    if (tl_ctx)
        return tl_ctx;
    /* The key must exist before the first context is made, or that context
     * is never registered for freeing at thread exit. */
    pthread_once(&g_once, init_once);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return NULL;
    if (g_key_ok)
        pthread_setspecific(g_ctx_key, c);
    tl_ctx = c;
    return c;
}

/* One digest over up to two pieces; false when OpenSSL fails. */
static bool digest2(EVP_MD_CTX *c, const EVP_MD *md, const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_DigestInit_ex(c, md, NULL) == 1 && EVP_DigestUpdate(c, a, alen) == 1 &&
           (blen == 0 || EVP_DigestUpdate(c, b, blen) == 1) && EVP_DigestFinal_ex(c, out, &n) == 1 && n == 32;
}

void xgw__hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len, uint8_t out[32])
{
    const EVP_MD *md = sha256_md();
    EVP_MD_CTX *c = thread_ctx();
    uint8_t k[64] = {0}, pad[64], inner[32];
    bool ok = c != NULL;

    if (key_len > sizeof k)
        ok = ok && digest2(c, md, key, key_len, NULL, 0, k);
    else if (key_len)
        memcpy(k, key, key_len);
    if (ok) {
        for (size_t i = 0; i < 64; i++)
            pad[i] = k[i] ^ 0x36;
        ok = digest2(c, md, pad, 64, msg, len, inner);
    }
    if (ok) {
        for (size_t i = 0; i < 64; i++)
            pad[i] = k[i] ^ 0x5c;
        ok = digest2(c, md, pad, 64, inner, 32, out);
    }
    if (!ok) {
        /* Only reachable when the context cannot be allocated: fall back to
         * the one-shot API rather than return a wrong signature. */
        size_t outl = 0;
        if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, msg, len, out, 32, &outl))
            memset(out, 0, 32);
    }
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
}

void xgw__sha256(const void *msg, size_t len, uint8_t out[32])
{
    EVP_MD_CTX *c = thread_ctx();
    unsigned int n = 0;
    if (!c || !digest2(c, sha256_md(), msg, len, NULL, 0, out))
        if (EVP_Digest(msg, len, out, &n, EVP_sha256(), NULL) != 1)
            memset(out, 0, 32);
}

void xgw__hex_lower(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int xgw__random_bytes(void *out, size_t n)
{
    unsigned char *p = out;
    /* RAND_bytes takes an int count. */
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        if (RAND_bytes(p, chunk) != 1)
            return XGW_ERR_INTERNAL;
        p += chunk;
        n -= (size_t)chunk;
    }
    return XGW_OK;
}

void xgw__secure_zero(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}
