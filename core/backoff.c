/*
 * core/backoff.c — capped exponential backoff with full jitter. See backoff.h.
 */
#include "backoff.h"

#include <stddef.h>

uint64_t xgw__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t xgw__splitmix64_fn(void *ud)
{
    return xgw__splitmix64((uint64_t *)ud);
}

int64_t xgw__rand_upto(uint64_t r, int64_t bound)
{
    if (bound <= 0)
        return 0;
    /* Modulo bias is at most bound / 2^64: irrelevant for delays of at most
     * days in milliseconds. */
    return (int64_t)(r % ((uint64_t)bound + 1u));
}

void xgw__backoff_init(struct xgw__backoff *b, int64_t base_ms, int64_t max_ms, xgw__rand_fn rand,
                       void *rand_ud, uint64_t seed)
{
    if (base_ms < 0)
        base_ms = 0;
    if (max_ms < base_ms)
        max_ms = base_ms;
    b->base_ms = base_ms;
    b->max_ms = max_ms;
    b->attempt = 0;
    b->own_state = seed;
    /* rand NULL stays NULL (rather than pointing at own_state) so that the
     * struct may be copied or moved after init. */
    b->rand = rand;
    b->rand_ud = rand_ud;
}

int64_t xgw__backoff_cap(int64_t base_ms, int64_t max_ms, unsigned attempt)
{
    if (base_ms <= 0 || max_ms <= 0)
        return 0;
    if (base_ms >= max_ms)
        return max_ms;
    /* Double until the cap is reached instead of shifting, so that large
     * attempt numbers can neither overflow nor shift past 63 bits. */
    int64_t c = base_ms;
    for (unsigned i = 0; i < attempt; i++) {
        if (c >= max_ms / 2)
            return max_ms;
        c *= 2;
    }
    return c;
}

int64_t xgw__backoff_delay(int64_t base_ms, int64_t max_ms, unsigned attempt, uint64_t r,
                           int64_t retry_after_ms)
{
    int64_t d = xgw__rand_upto(r, xgw__backoff_cap(base_ms, max_ms, attempt));
    return retry_after_ms > d ? retry_after_ms : d;
}

int64_t xgw__backoff_next(struct xgw__backoff *b, int64_t retry_after_ms)
{
    uint64_t r = b->rand ? b->rand(b->rand_ud) : xgw__splitmix64(&b->own_state);
    int64_t d = xgw__backoff_delay(b->base_ms, b->max_ms, b->attempt, r, retry_after_ms);
    if (b->attempt < 64u)
        b->attempt++;
    return d;
}

void xgw__backoff_reset(struct xgw__backoff *b)
{
    b->attempt = 0;
}
