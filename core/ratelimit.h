/*
 * core/ratelimit.h — the client-side rate limiter of one exchange instance:
 * one counter per bucket the plugin declares (struct xgw_rl_bucket), a 429
 * block per bucket and a 418 ban for the whole instance.
 *
 * The gateway, not the exchange, must be the one that says no: a request is
 * charged to every bucket before it is sent, each bucket holds at most
 * capacity = limit * rate_limit_margin units per window, and the exchange's
 * own usage headers correct the local count after every answer.
 *
 * Windows. Exchanges count in one of two ways, chosen per bucket:
 *  - XGW__RL_FIXED: a fixed window aligned to the interval on the exchange's
 *    clock. Binance's REQUEST_WEIGHT and ORDERS counters work so: the
 *    X-MBX-USED-WEIGHT-1M header drops to 0 at each wall-clock minute, so a
 *    local counter that resets at the same boundary agrees with the header
 *    and can take it as a correction unit for unit. now_ms must therefore be
 *    the exchange-corrected clock (local + measured offset). Because the
 *    offset is measured, not known, and the exchange counts a request when it
 *    arrives (a little after we send it), each fixed window also respects a
 *    guard of G = min(1000 ms, interval / 10) at both edges: for G after a
 *    boundary the previous window's usage still counts (our clock may run
 *    ahead), and usage sent in the previous window's last G still counts in
 *    the new one (our clock may run behind). This keeps every exchange
 *    window at or under capacity for any clock error up to G, at the price
 *    of a little throughput near the boundaries.
 *  - XGW__RL_ROLLING: a sliding window of one interval (exchanges that count
 *    "the last 60 s"), kept in XGW__RL_SLOTS time slots; a slot's usage is
 *    counted until the whole slot has left the window, so the estimate only
 *    errs on the safe side.
 *
 * Time is passed in; nothing here reads a clock. Threading: loop thread only.
 */
#ifndef XGW_CORE_RATELIMIT_H
#define XGW_CORE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "xgw/plugin.h"

enum xgw__rl_window { XGW__RL_FIXED = 0, XGW__RL_ROLLING };

#define XGW__RL_SLOTS 60
#define XGW__RL_ALL ((size_t)-1)
/* A 418 without a readable end: Binance's shortest ban is 2 minutes. */
#define XGW__RL_BAN_DEFAULT_MS 120000

struct xgw__rl_bucket {
    const char *name;    /* borrowed from the plugin's declaration */
    uint64_t limit;      /* as declared */
    uint64_t capacity;   /* limit * margin, >= 1 */
    int64_t interval_ms; /* >= 1 */
    enum xgw__rl_window window;
    int64_t guard_ms; /* FIXED: edge guard, see above */

    /* FIXED: the current window (index = floor(now / interval)) and the one before. */
    int64_t win;
    uint64_t used, tail;           /* tail: charged in the window's last guard_ms */
    uint64_t prev_used, prev_tail; /* of window win - 1 (0 when not adjacent) */

    /* ROLLING: slot index and usage; ring of n_slots + 1 entries. */
    int64_t slot_ms;
    int64_t n_slots;
    int64_t slot_idx[XGW__RL_SLOTS + 1];
    uint64_t slot_used[XGW__RL_SLOTS + 1];

    int64_t blocked_until_ms; /* 429: nothing charged here before this */
    uint64_t last_reported;   /* the exchange's last usage report */

    /* counters for metrics */
    uint64_t units_charged, waits, refusals, blocks;
};

struct xgw__rl {
    struct xgw__rl_bucket *b; /* owned */
    size_t n;
    int64_t banned_until_ms; /* 418: the whole instance stops before this */
    uint64_t bans;
};

enum xgw__rl_rc {
    XGW__RL_OK = 0,  /* charged to every bucket: send now */
    XGW__RL_WAIT,    /* no room now; wait_ms until there may be (nothing charged) */
    XGW__RL_BLOCKED, /* a bucket is stopped by a 429 for wait_ms (nothing charged) */
    XGW__RL_BANNED,  /* the instance is banned until until_ms (nothing charged) */
    XGW__RL_REFUSE,  /* the cost exceeds a bucket's capacity: can never be sent */
};

struct xgw__rl_verdict {
    enum xgw__rl_rc rc;
    int64_t wait_ms;  /* WAIT / BLOCKED / BANNED: from now until it may pass, > 0 */
    int64_t until_ms; /* now + wait_ms */
    size_t bucket;    /* the bucket that decided (XGW__RL_ALL for BANNED) */
};

/* Build the limiter for n declared buckets. margin_pct is rate_limit_margin
 * in percent (1..100). modes[i] chooses bucket i's window; modes == NULL
 * means FIXED for all (what Binance and most exchanges do). decl must
 * outlive rl (names are borrowed). Returns 0 or XGW_ERR_INTERNAL (OOM).
 * n == 0 is valid (an exchange without declared limits). */
int xgw__rl_init(struct xgw__rl *rl, const struct xgw_rl_bucket *decl, size_t n, int margin_pct,
                 const enum xgw__rl_window *modes);
void xgw__rl_free(struct xgw__rl *rl);

/* Try to charge costs[i] to bucket i (costs has rl->n entries, from the
 * plugin's cost()). All or nothing. v is filled. Returns v->rc. */
enum xgw__rl_rc xgw__rl_acquire(struct xgw__rl *rl, const uint32_t *costs, int64_t now_ms,
                                struct xgw__rl_verdict *v);

/* Give back a charge whose request was never sent (e.g. no endpoint
 * admitted it), at once. FIXED: the current window is credited; ROLLING:
 * the newest slots. */
void xgw__rl_refund(struct xgw__rl *rl, const uint32_t *costs, int64_t now_ms);

/* The exchange reported `used` units in bucket's current window (an
 * XGW_REC_RL_USAGE record) in an answer received at now_ms. Local usage
 * becomes max(local, reported): other clients on the same IP/account count
 * too. In a FIXED window's first guard_ms the report may still describe the
 * previous window, so it then raises that window's figure instead. */
void xgw__rl_observe(struct xgw__rl *rl, size_t bucket, uint64_t used, int64_t now_ms);

/* 429: stop bucket (or XGW__RL_ALL when the exchange does not say which)
 * until until_ms (now + Retry-After). until_ms <= now_ms (no Retry-After):
 * until the bucket's window ends (FIXED) or one interval (ROLLING). Never
 * shortens an existing block. */
void xgw__rl_block(struct xgw__rl *rl, size_t bucket, int64_t until_ms, int64_t now_ms);

/* 418: stop the whole instance until until_ms (the ban's end); until_ms <=
 * now_ms (unknown): now + XGW__RL_BAN_DEFAULT_MS. Never shortens a ban. */
void xgw__rl_ban(struct xgw__rl *rl, int64_t until_ms, int64_t now_ms);

/* Units counted in bucket's current window as of now_ms (for metrics and
 * `xgw status`); FIXED: the current window only. */
uint64_t xgw__rl_used(struct xgw__rl *rl, size_t bucket, int64_t now_ms);

/* Should the caller wait for v (rate_limit_wait = wait_enabled, ceiling
 * rate_limit_max_wait_ms) rather than fail fast with RATE_LIMITED /
 * BANNED? Never for BANNED or REFUSE. */
bool xgw__rl_should_wait(const struct xgw__rl_verdict *v, bool wait_enabled, int64_t max_wait_ms);

#endif
