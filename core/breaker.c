/*
 * core/breaker.c — per-endpoint circuit breaker. See breaker.h.
 */
#include "breaker.h"

#include <stddef.h>

static void set_state(struct xgw__breaker *b, enum xgw__brk_state to, int64_t now_ms)
{
    enum xgw__brk_state from = b->state;
    if (from == to)
        return;
    b->state = to;
    b->entered[to]++;
    if (to == XGW__BRK_OPEN) {
        b->opened_ms = now_ms;
        b->half_open_ms = now_ms + b->recovery_ms;
    }
    if (to != XGW__BRK_HALF_OPEN)
        b->probe_inflight = false;
    if (to == XGW__BRK_CLOSED)
        b->consecutive = 0;
    if (b->listener)
        b->listener(b->listener_ud, b, from, to, now_ms);
}

void xgw__breaker_init(struct xgw__breaker *b, unsigned failures, int64_t recovery_ms, int64_t max_ms)
{
    *b = (struct xgw__breaker){0};
    b->state = XGW__BRK_CLOSED;
    b->threshold = failures ? failures : 1;
    b->base_recovery_ms = recovery_ms > 0 ? recovery_ms : 1;
    b->max_recovery_ms = max_ms > b->base_recovery_ms ? max_ms : b->base_recovery_ms;
    b->recovery_ms = b->base_recovery_ms;
}

void xgw__breaker_set_listener(struct xgw__breaker *b, xgw__brk_listener fn, void *ud)
{
    b->listener = fn;
    b->listener_ud = ud;
}

/* OPEN -> HALF_OPEN once the recovery time has passed. */
static void tick(struct xgw__breaker *b, int64_t now_ms)
{
    if (b->state == XGW__BRK_OPEN && now_ms >= b->half_open_ms)
        set_state(b, XGW__BRK_HALF_OPEN, now_ms);
}

bool xgw__breaker_would_admit(struct xgw__breaker *b, int64_t now_ms)
{
    tick(b, now_ms);
    switch (b->state) {
    case XGW__BRK_CLOSED:
        return true;
    case XGW__BRK_HALF_OPEN:
        return !b->probe_inflight;
    default:
        return false;
    }
}

enum xgw__brk_admit xgw__breaker_admit(struct xgw__breaker *b, int64_t now_ms)
{
    if (!xgw__breaker_would_admit(b, now_ms)) {
        b->denied++;
        return XGW__BRK_DENY;
    }
    if (b->state == XGW__BRK_HALF_OPEN) {
        b->probe_inflight = true;
        return XGW__BRK_PROBE;
    }
    return XGW__BRK_PASS;
}

bool xgw__breaker_record(struct xgw__breaker *b, int64_t now_ms, enum xgw__brk_admit how, bool endpoint_fault)
{
    enum xgw__brk_state before = b->state;
    if (how == XGW__BRK_PROBE) {
        /* A probe can only be outstanding in HALF_OPEN; anything else means a
         * stale ticket (e.g. re-initialised breaker): ignore it. */
        if (b->state != XGW__BRK_HALF_OPEN || !b->probe_inflight)
            return false;
        b->probe_inflight = false;
        if (endpoint_fault) {
            /* Doubling only on a failed probe: the endpoint was given its
             * recovery time and is still broken, so back off harder. */
            b->recovery_ms =
                b->recovery_ms > b->max_recovery_ms / 2 ? b->max_recovery_ms : b->recovery_ms * 2;
            set_state(b, XGW__BRK_OPEN, now_ms);
        } else {
            b->recovery_ms = b->base_recovery_ms;
            set_state(b, XGW__BRK_CLOSED, now_ms);
        }
        return b->state != before;
    }
    if (how != XGW__BRK_PASS || b->state != XGW__BRK_CLOSED)
        return false; /* sent before the breaker opened: the probe decides */
    if (!endpoint_fault) {
        b->consecutive = 0;
        return false;
    }
    if (++b->consecutive >= b->threshold)
        set_state(b, XGW__BRK_OPEN, now_ms);
    return b->state != before;
}

void xgw__breaker_cancel(struct xgw__breaker *b, enum xgw__brk_admit how)
{
    if (how == XGW__BRK_PROBE && b->state == XGW__BRK_HALF_OPEN)
        b->probe_inflight = false;
}

enum xgw__brk_state xgw__breaker_state(const struct xgw__breaker *b, int64_t now_ms)
{
    if (b->state == XGW__BRK_OPEN && now_ms >= b->half_open_ms)
        return XGW__BRK_HALF_OPEN;
    return b->state;
}

int64_t xgw__breaker_retry_in_ms(const struct xgw__breaker *b, int64_t now_ms)
{
    switch (xgw__breaker_state(b, now_ms)) {
    case XGW__BRK_OPEN:
        return b->half_open_ms - now_ms;
    case XGW__BRK_HALF_OPEN:
        return b->probe_inflight ? b->recovery_ms : 0;
    default:
        return 0;
    }
}

const char *xgw__breaker_state_name(enum xgw__brk_state s)
{
    switch (s) {
    case XGW__BRK_CLOSED:
        return "closed";
    case XGW__BRK_OPEN:
        return "open";
    case XGW__BRK_HALF_OPEN:
        return "half_open";
    default:
        return "?";
    }
}
