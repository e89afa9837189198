/* bitunix_sign.c — see bitunix_sign.h. */
#include "bitunix_sign.h"
#include "mockex.h" /* mx_pct_byte */

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MXBX_MAX_PARAMS 64

struct kv {
    const char *k, *v;
    size_t kl, vl;
};

/* Appends the percent-decoded s[0..n) to out; -1 on a bad escape or overflow. */
static int put_decoded(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if ((c = mx_pct_byte(s + i, s + n)) < 0)
                return -1;
            i += 2;
        }
        if (*o + 1 >= cap)
            return -1;
        out[(*o)++] = (char)c;
    }
    return 0;
}

static int key_cmp(const struct kv *a, const struct kv *b)
{
    /* Keys compared decoded would be exact; keys here are plain ASCII names,
     * which the canonical encoding leaves as they are. */
    size_t n = a->kl < b->kl ? a->kl : b->kl;
    int c = memcmp(a->k, b->k, n);
    if (c)
        return c;
    return a->kl < b->kl ? -1 : a->kl > b->kl;
}

int mxbx_query_params(const char *q, size_t qlen, char *out, size_t cap)
{
    struct kv p[MXBX_MAX_PARAMS];
    int n = 0;
    size_t i = 0;
    if (cap == 0)
        return -1;
    while (i < qlen) {
        size_t e = i;
        while (e < qlen && q[e] != '&')
            e++;
        if (e > i) {
            if (n == MXBX_MAX_PARAMS)
                return -1;
            const char *eq = memchr(q + i, '=', e - i);
            p[n].k = q + i;
            p[n].kl = eq ? (size_t)(eq - (q + i)) : e - i;
            p[n].v = eq ? eq + 1 : q + e;
            p[n].vl = eq ? (size_t)(q + e - (eq + 1)) : 0;
            n++;
        }
        i = e + 1;
    }
    /* insertion sort: stable, and n is small */
    for (int a = 1; a < n; a++) {
        struct kv t = p[a];
        int b = a;
        while (b > 0 && key_cmp(&p[b - 1], &t) > 0) {
            p[b] = p[b - 1];
            b--;
        }
        p[b] = t;
    }
    size_t o = 0;
    for (int a = 0; a < n; a++)
        if (put_decoded(out, cap, &o, p[a].k, p[a].kl) || put_decoded(out, cap, &o, p[a].v, p[a].vl))
            return -1;
    out[o] = '\0';
    return (int)o;
}

static void sha256_hex(EVP_MD_CTX *c, char hex[65])
{
    static const char hx[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(c, md, &n);
    for (size_t i = 0; i < 32; i++) {
        hex[2 * i] = hx[md[i] >> 4];
        hex[2 * i + 1] = hx[md[i] & 15];
    }
    hex[64] = '\0';
}

void mxbx_sign(const char *nonce, const char *timestamp, const char *key, const char *qp, size_t qplen,
               const char *body, size_t blen, const char *secret, char hex[65])
{
    char digest[65];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        abort();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, nonce, strlen(nonce));
    EVP_DigestUpdate(c, timestamp, strlen(timestamp));
    EVP_DigestUpdate(c, key, strlen(key));
    EVP_DigestUpdate(c, qp, qplen);
    EVP_DigestUpdate(c, body, blen);
    sha256_hex(c, digest);
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, digest, 64);
    EVP_DigestUpdate(c, secret, strlen(secret));
    sha256_hex(c, hex);
    EVP_MD_CTX_free(c);
}

int mxbx_sign_equal(const char *received, const char expected[65])
{
    if (!received || strlen(received) != 64)
        return 0;
    unsigned char d = 0;
    for (int i = 0; i < 64; i++)
        d |= (unsigned char)(received[i] ^ expected[i]);
    return d == 0;
}
