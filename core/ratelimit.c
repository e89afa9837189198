/*
 * core/ratelimit.c — per-instance rate limiter. See ratelimit.h for the
 * model (fixed windows with edge guards, rolling windows in slots).
 */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t pos_mod(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

int xgw__rl_init(struct xgw__rl *rl, const struct xgw_rl_bucket *decl, size_t n, int margin_pct,
                 const enum xgw__rl_window *modes)
{
    memset(rl, 0, sizeof *rl);
    if (n == 0)
        return XGW_OK;
    rl->b = calloc(n, sizeof *rl->b);
    if (!rl->b)
        return XGW_ERR_INTERNAL;
    rl->n = n;
    if (margin_pct < 1)
        margin_pct = 1;
    if (margin_pct > 100)
        margin_pct = 100;
    for (size_t i = 0; i < n; i++) {
        struct xgw__rl_bucket *b = &rl->b[i];
        b->name = decl[i].name;
        b->limit = decl[i].limit;
        /* Round down: the margin exists to stay under the exchange's limit. */
        b->capacity =
            decl[i].limit / 100u * (uint64_t)margin_pct + decl[i].limit % 100u * (uint64_t)margin_pct / 100u;
        if (b->capacity == 0)
            b->capacity = 1;
        b->interval_ms = decl[i].interval_ms ? (int64_t)decl[i].interval_ms : 1;
        b->window = modes ? modes[i] : XGW__RL_FIXED;
        b->guard_ms = b->interval_ms / 10 < 1000 ? b->interval_ms / 10 : 1000;
        b->win = INT64_MIN;
        b->slot_ms = (b->interval_ms + XGW__RL_SLOTS - 1) / XGW__RL_SLOTS;
        b->n_slots = (b->interval_ms + b->slot_ms - 1) / b->slot_ms;
        for (size_t s = 0; s <= XGW__RL_SLOTS; s++)
            b->slot_idx[s] = INT64_MIN;
    }
    return XGW_OK;
}

void xgw__rl_free(struct xgw__rl *rl)
{
    free(rl->b);
    memset(rl, 0, sizeof *rl);
}

/* ---- fixed windows ---- */

static void fixed_roll(struct xgw__rl_bucket *b, int64_t now_ms)
{
    int64_t k = floordiv(now_ms, b->interval_ms);
    if (k == b->win)
        return;
    if (b->win != INT64_MIN && k == b->win + 1) {
        b->prev_used = b->used;
        b->prev_tail = b->tail;
    } else {
        /* A window older than the previous one cannot overlap any exchange
         * window that contains now (the guard is below one interval). A
         * clock that went backwards lands here too: forget, do not underflow. */
        b->prev_used = b->prev_tail = 0;
    }
    b->used = b->tail = 0;
    b->win = k;
}

/* 0 when need fits now, else ms until it may. */
static int64_t fixed_wait(struct xgw__rl_bucket *b, uint64_t need, int64_t now_ms)
{
    fixed_roll(b, now_ms);
    int64_t start = b->win * b->interval_ms;
    int64_t off = now_ms - start;
    uint64_t cap = b->capacity;
    bool own = b->used + need <= cap;
    bool behind = b->prev_tail + b->used + need <= cap; /* our clock behind the exchange's */
    bool ahead = off >= b->guard_ms || b->prev_used + b->used + need <= cap; /* ... or ahead */
    if (own && behind && ahead)
        return 0;
    if (!own) {
        /* The next window starts with prev_used = used, so its first guard_ms
         * is still full; after that only our tail counts against it. */
        if (b->tail + need <= cap)
            return start + b->interval_ms + b->guard_ms - now_ms;
        return start + 2 * b->interval_ms - now_ms;
    }
    if (!behind)
        return start + b->interval_ms - now_ms; /* the tail stops counting */
    return start + b->guard_ms - now_ms;        /* only the edge guard blocks */
}

static void fixed_charge(struct xgw__rl_bucket *b, uint64_t need, int64_t now_ms)
{
    fixed_roll(b, now_ms);
    b->used += need;
    if (now_ms - b->win * b->interval_ms >= b->interval_ms - b->guard_ms)
        b->tail += need;
}

/* ---- rolling windows ---- */

static uint64_t *slot_of(struct xgw__rl_bucket *b, int64_t k)
{
    int64_t pos = pos_mod(k, b->n_slots + 1);
    if (b->slot_idx[pos] != k) {
        b->slot_idx[pos] = k;
        b->slot_used[pos] = 0;
    }
    return &b->slot_used[pos];
}

static uint64_t slot_peek(const struct xgw__rl_bucket *b, int64_t k)
{
    int64_t pos = pos_mod(k, b->n_slots + 1);
    return b->slot_idx[pos] == k ? b->slot_used[pos] : 0;
}

/* A slot k holds requests sent in [k*slot, (k+1)*slot); the latest of them
 * leaves the sliding window at (k+1)*slot + interval <= (k+1+n)*slot, so
 * slots c-n..c are all counted at slot c. */
static uint64_t rolling_sum(const struct xgw__rl_bucket *b, int64_t now_ms)
{
    int64_t c = floordiv(now_ms, b->slot_ms);
    uint64_t sum = 0;
    for (int64_t k = c - b->n_slots; k <= c; k++)
        sum += slot_peek(b, k);
    return sum;
}

static int64_t rolling_wait(const struct xgw__rl_bucket *b, uint64_t need, int64_t now_ms)
{
    uint64_t sum = rolling_sum(b, now_ms);
    if (sum + need <= b->capacity)
        return 0;
    int64_t c = floordiv(now_ms, b->slot_ms);
    uint64_t freed = 0;
    for (int64_t k = c - b->n_slots; k <= c; k++) {
        freed += slot_peek(b, k);
        if (sum - freed + need <= b->capacity)
            return (k + b->n_slots + 1) * b->slot_ms - now_ms;
    }
    return b->interval_ms; /* unreachable when need <= capacity */
}

/* ---- the interface ---- */

enum xgw__rl_rc xgw__rl_acquire(struct xgw__rl *rl, const uint32_t *costs, int64_t now_ms,
                                struct xgw__rl_verdict *v)
{
    *v = (struct xgw__rl_verdict){.rc = XGW__RL_OK, .bucket = XGW__RL_ALL};
    if (rl->banned_until_ms > now_ms) {
        v->rc = XGW__RL_BANNED;
        v->until_ms = rl->banned_until_ms;
        v->wait_ms = rl->banned_until_ms - now_ms;
        return v->rc;
    }
    /* Refusals first (permanent), then 429 blocks, then room: the caller's
     * verdict names the hardest obstacle. */
    for (size_t i = 0; i < rl->n; i++) {
        if (costs[i] > rl->b[i].capacity) {
            rl->b[i].refusals++;
            v->rc = XGW__RL_REFUSE;
            v->bucket = i;
            return v->rc;
        }
    }
    for (size_t i = 0; i < rl->n; i++) {
        int64_t w = rl->b[i].blocked_until_ms - now_ms;
        if (costs[i] && w > 0 && (v->rc != XGW__RL_BLOCKED || w > v->wait_ms)) {
            v->rc = XGW__RL_BLOCKED;
            v->wait_ms = w;
            v->bucket = i;
        }
    }
    if (v->rc == XGW__RL_BLOCKED) {
        rl->b[v->bucket].waits++;
        v->until_ms = now_ms + v->wait_ms;
        return v->rc;
    }
    for (size_t i = 0; i < rl->n; i++) {
        struct xgw__rl_bucket *b = &rl->b[i];
        if (!costs[i])
            continue;
        int64_t w =
            b->window == XGW__RL_FIXED ? fixed_wait(b, costs[i], now_ms) : rolling_wait(b, costs[i], now_ms);
        if (w > v->wait_ms) {
            v->rc = XGW__RL_WAIT;
            v->wait_ms = w;
            v->bucket = i;
        }
    }
    if (v->rc == XGW__RL_WAIT) {
        rl->b[v->bucket].waits++;
        v->until_ms = now_ms + v->wait_ms;
        return v->rc;
    }
    for (size_t i = 0; i < rl->n; i++) {
        struct xgw__rl_bucket *b = &rl->b[i];
        if (!costs[i])
            continue;
        if (b->window == XGW__RL_FIXED)
            fixed_charge(b, costs[i], now_ms);
        else
            *slot_of(b, floordiv(now_ms, b->slot_ms)) += costs[i];
        b->units_charged += costs[i];
    }
    return XGW__RL_OK;
}

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

void xgw__rl_refund(struct xgw__rl *rl, const uint32_t *costs, int64_t now_ms)
{
    for (size_t i = 0; i < rl->n; i++) {
        struct xgw__rl_bucket *b = &rl->b[i];
        if (!costs[i])
            continue;
        if (b->window == XGW__RL_FIXED) {
            fixed_roll(b, now_ms);
            b->used = sub_sat(b->used, costs[i]);
            if (b->tail > b->used)
                b->tail = b->used;
        } else {
            /* Credit the newest slots first: the charge was made recently. */
            uint64_t left = costs[i];
            int64_t c = floordiv(now_ms, b->slot_ms);
            for (int64_t k = c; k >= c - b->n_slots && left; k--) {
                int64_t pos = pos_mod(k, b->n_slots + 1);
                if (b->slot_idx[pos] != k)
                    continue;
                uint64_t take = b->slot_used[pos] < left ? b->slot_used[pos] : left;
                b->slot_used[pos] -= take;
                left -= take;
            }
        }
        b->units_charged = sub_sat(b->units_charged, costs[i]);
    }
}

void xgw__rl_observe(struct xgw__rl *rl, size_t bucket, uint64_t used, int64_t now_ms)
{
    if (bucket >= rl->n)
        return; /* a plugin reporting a bucket it did not declare: ignore */
    struct xgw__rl_bucket *b = &rl->b[bucket];
    b->last_reported = used;
    if (b->window == XGW__RL_FIXED) {
        fixed_roll(b, now_ms);
        if (now_ms - b->win * b->interval_ms < b->guard_ms) {
            /* The exchange may not have crossed the boundary yet: a high
             * figure here most likely describes the old window. Raising the
             * old window (which still counts during the guard) is safe either
             * way; raising the new one could idle us for a whole interval. */
            if (used > b->prev_used)
                b->prev_used = used;
        } else if (used > b->used) {
            b->used = used;
        }
    } else {
        uint64_t sum = rolling_sum(b, now_ms);
        if (used > sum)
            *slot_of(b, floordiv(now_ms, b->slot_ms)) += used - sum;
    }
}

static void block_one(struct xgw__rl_bucket *b, int64_t until_ms, int64_t now_ms)
{
    if (until_ms <= now_ms) {
        if (b->window == XGW__RL_FIXED)
            until_ms = (floordiv(now_ms, b->interval_ms) + 1) * b->interval_ms;
        else
            until_ms = now_ms + b->interval_ms;
    }
    if (until_ms > b->blocked_until_ms)
        b->blocked_until_ms = until_ms;
    b->blocks++;
}

void xgw__rl_block(struct xgw__rl *rl, size_t bucket, int64_t until_ms, int64_t now_ms)
{
    if (bucket == XGW__RL_ALL) {
        for (size_t i = 0; i < rl->n; i++)
            block_one(&rl->b[i], until_ms, now_ms);
    } else if (bucket < rl->n) {
        block_one(&rl->b[bucket], until_ms, now_ms);
    }
}

void xgw__rl_ban(struct xgw__rl *rl, int64_t until_ms, int64_t now_ms)
{
    if (until_ms <= now_ms)
        until_ms = now_ms + XGW__RL_BAN_DEFAULT_MS;
    if (until_ms > rl->banned_until_ms)
        rl->banned_until_ms = until_ms;
    rl->bans++;
}

uint64_t xgw__rl_used(struct xgw__rl *rl, size_t bucket, int64_t now_ms)
{
    if (bucket >= rl->n)
        return 0;
    struct xgw__rl_bucket *b = &rl->b[bucket];
    if (b->window == XGW__RL_FIXED) {
        fixed_roll(b, now_ms);
        return b->used;
    }
    return rolling_sum(b, now_ms);
}

bool xgw__rl_should_wait(const struct xgw__rl_verdict *v, bool wait_enabled, int64_t max_wait_ms)
{
    if (!wait_enabled || (v->rc != XGW__RL_WAIT && v->rc != XGW__RL_BLOCKED))
        return false;
    return v->wait_ms <= max_wait_ms;
}
