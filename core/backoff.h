/*
 * core/backoff.h — capped exponential backoff with full jitter, and the
 * small random source it (and health-check scheduling) draws from.
 *
 * delay(attempt) = uniform[0, min(max_ms, base_ms * 2^attempt)], then raised
 * to the exchange's Retry-After when one is known ("full jitter": spreading
 * retries over the whole interval avoids synchronised retry storms after a
 * shared outage, which equal or decorrelated jitter only partly do).
 *
 * Pure and deterministic given the random source: no clock is read. Used by
 * request retries (reads, order lookups) and by WebSocket reconnects.
 *
 * Threading: a struct xgw__backoff belongs to one thread (the loop thread, or
 * one call's retry state); no locking.
 */
#ifndef XGW_CORE_BACKOFF_H
#define XGW_CORE_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/* A source of uniformly distributed 64-bit values. ud is the caller's. */
typedef uint64_t (*xgw__rand_fn)(void *ud);

/* SplitMix64 step: a fast, well-mixed, non-cryptographic generator. *state is
 * advanced. Good enough for jitter; never use it for anything secret. */
uint64_t xgw__splitmix64(uint64_t *state);
/* xgw__rand_fn adapter over a uint64_t state (ud points to the state). */
uint64_t xgw__splitmix64_fn(void *ud);

/* Uniform value in [0, bound] (inclusive) from r. bound < 0 gives 0. */
int64_t xgw__rand_upto(uint64_t r, int64_t bound);

struct xgw__backoff {
    int64_t base_ms;   /* first cap (attempt 0); >= 0 */
    int64_t max_ms;    /* cap of every delay (before the Retry-After floor) */
    unsigned attempt;  /* delays handed out since the last reset */
    xgw__rand_fn rand; /* NULL = the built-in generator over own_state */
    void *rand_ud;
    uint64_t own_state; /* state of the built-in generator when rand was NULL */
};

/* base_ms and max_ms are clamped to >= 0 and max_ms to >= base_ms. rand may be
 * NULL: then a SplitMix64 seeded with seed is used (pass something that
 * differs per process/instance, e.g. from core->random_bytes, so that many
 * gateways do not retry in lockstep). rand_ud is borrowed for b's lifetime. */
void xgw__backoff_init(struct xgw__backoff *b, int64_t base_ms, int64_t max_ms, xgw__rand_fn rand,
                       void *rand_ud, uint64_t seed);

/* The cap for a given attempt: min(max_ms, base_ms << attempt), overflow safe. */
int64_t xgw__backoff_cap(int64_t base_ms, int64_t max_ms, unsigned attempt);

/* Pure: the delay for attempt with random value r and Retry-After floor
 * retry_after_ms (<= 0 = none). The floor is not capped by max_ms: the
 * exchange's word on when to come back beats our own cap. */
int64_t xgw__backoff_delay(int64_t base_ms, int64_t max_ms, unsigned attempt, uint64_t r,
                           int64_t retry_after_ms);

/* The next delay (ms) and attempt++. */
int64_t xgw__backoff_next(struct xgw__backoff *b, int64_t retry_after_ms);

/* After a success: the next delay starts from base_ms again. */
void xgw__backoff_reset(struct xgw__backoff *b);

#endif
