/*
 * Keccak-256 (original padding) for Ethereum-style hashing.
 *
 * Why hand-written: OpenSSL 3.0, the version Debian 12 ships, implements only
 * FIPS 202 SHA3 (domain padding 0x06); Keccak-256 with the pre-standard
 * padding 0x01 that Ethereum and Hyperliquid use arrived in OpenSSL 3.2 as
 * "KECCAK-256". Rather than depend on a newer OpenSSL or a second crypto
 * library, the sponge below (Keccak-f[1600], rate 136 bytes) is written out
 * from the Keccak reference specification; it is used only when the runtime
 * OpenSSL cannot provide the algorithm, and the unit tests check it against
 * published answers and against SHA3-256 of OpenSSL through the shared
 * permutation (same permutation, different padding).
 */
#include "keccak.h"

#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#define KECCAK_ROUNDS 24
#define KECCAK256_RATE 136

static const uint64_t round_consts[KECCAK_ROUNDS] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rotation offsets and lane order of the combined rho+pi step, walking the
 * lanes along the pi permutation starting from lane 1. */
static const unsigned rho[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
                                 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned pi_lane[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
                                     15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

static inline uint64_t rotl64(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

static void keccak_f1600(uint64_t st[25])
{
    for (int round = 0; round < KECCAK_ROUNDS; round++) {
        uint64_t bc[5];
        /* theta */
        for (int i = 0; i < 5; i++)
            bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
        for (int i = 0; i < 5; i++) {
            uint64_t t = bc[(i + 4) % 5] ^ rotl64(bc[(i + 1) % 5], 1);
            for (int j = 0; j < 25; j += 5)
                st[j + i] ^= t;
        }
        /* rho and pi */
        uint64_t t = st[1];
        for (int i = 0; i < 24; i++) {
            unsigned j = pi_lane[i];
            uint64_t tmp = st[j];
            st[j] = rotl64(t, rho[i]);
            t = tmp;
        }
        /* chi */
        for (int j = 0; j < 25; j += 5) {
            for (int i = 0; i < 5; i++)
                bc[i] = st[j + i];
            for (int i = 0; i < 5; i++)
                st[j + i] ^= (~bc[(i + 1) % 5]) & bc[(i + 2) % 5];
        }
        /* iota */
        st[0] ^= round_consts[round];
    }
}

/* Lanes are little-endian 64-bit words; absorb byte by byte so that the code
 * does not depend on the host's byte order or on alignment. */
static void xor_byte(uint64_t st[25], size_t pos, uint8_t b) { st[pos / 8] ^= (uint64_t)b << (8 * (pos % 8)); }

void hl_keccak256_builtin(const void *data, size_t len, uint8_t out[32])
{
    uint64_t st[25];
    memset(st, 0, sizeof st);
    const uint8_t *p = data;
    while (len >= KECCAK256_RATE) {
        for (size_t i = 0; i < KECCAK256_RATE; i++)
            xor_byte(st, i, p[i]);
        keccak_f1600(st);
        p += KECCAK256_RATE;
        len -= KECCAK256_RATE;
    }
    for (size_t i = 0; i < len; i++)
        xor_byte(st, i, p[i]);
    /* Original Keccak padding: a 1 bit after the message, then the last bit
     * of the block (0x01 ... 0x80, or 0x81 when they fall on one byte). */
    xor_byte(st, len, 0x01);
    xor_byte(st, KECCAK256_RATE - 1, 0x80);
    keccak_f1600(st);
    for (size_t i = 0; i < 32; i++)
        out[i] = (uint8_t)(st[i / 8] >> (8 * (i % 8)));
    /* The state held a function of the input (which may be key-derived). */
    OPENSSL_cleanse(st, sizeof st);
}

void hl_keccak_init(struct hl_keccak *k)
{
    /* Present from OpenSSL 3.2; NULL (and a harmless error-queue entry,
     * cleared below) on 3.0/3.1. */
    k->md = EVP_MD_fetch(NULL, "KECCAK-256", NULL);
    if (k->md == NULL)
        ERR_clear_error();
}

void hl_keccak_free(struct hl_keccak *k)
{
    if (k != NULL && k->md != NULL) {
        EVP_MD_free(k->md);
        k->md = NULL;
    }
}

void hl_keccak256(const struct hl_keccak *k, const void *data, size_t len, uint8_t out[32])
{
    if (k != NULL && k->md != NULL) {
        unsigned int n = 0;
        if (EVP_Digest(data, len, out, &n, k->md, NULL) == 1 && n == 32)
            return;
    }
    hl_keccak256_builtin(data, len, out);
}
