/*
 * core/health.c — endpoint health from active checks, and aggregation. See health.h.
 */
#include "health.h"

#include <stdio.h>
#include <string.h>

#include "backoff.h"

void xgw__health_init(struct xgw__ep_health *h, unsigned max_failures, int64_t interval_ms)
{
    memset(h, 0, sizeof *h);
    h->state = XGW__HEALTH_UNKNOWN;
    h->max_failures = max_failures ? max_failures : 1;
    h->interval_ms = interval_ms > 0 ? interval_ms : 1;
    h->last_latency_us = -1;
}

bool xgw__health_record(struct xgw__ep_health *h, int64_t now_ms, bool ok, int64_t latency_us,
                        const char *error)
{
    enum xgw__health before = h->state;
    h->checks++;
    h->last_check_ms = now_ms;
    if (ok) {
        h->consecutive_failures = 0;
        h->last_latency_us = latency_us;
        h->state = XGW__HEALTH_HEALTHY;
    } else {
        h->failures++;
        h->consecutive_failures++;
        snprintf(h->last_error, sizeof h->last_error, "%s", error && *error ? error : "health check failed");
        if (h->consecutive_failures >= h->max_failures)
            h->state = XGW__HEALTH_UNHEALTHY;
    }
    return h->state != before;
}

int64_t xgw__health_schedule(struct xgw__ep_health *h, int64_t now_ms, uint64_t r)
{
    int64_t j = h->interval_ms / 10;
    h->next_check_ms = now_ms + h->interval_ms - j + xgw__rand_upto(r, 2 * j);
    return h->next_check_ms;
}

enum xgw__health xgw__health_aggregate(const enum xgw__health *ep, const enum xgw__brk_state *brk, size_t n)
{
    size_t down = 0, unknown = 0, imperfect = 0;
    for (size_t i = 0; i < n; i++) {
        enum xgw__brk_state b = brk ? brk[i] : XGW__BRK_CLOSED;
        if (ep[i] == XGW__HEALTH_UNHEALTHY || b == XGW__BRK_OPEN)
            down++;
        else if (b != XGW__BRK_CLOSED)
            imperfect++; /* half-open: being probed, may serve one request */
        else if (ep[i] == XGW__HEALTH_UNKNOWN)
            unknown++;
    }
    if (n == 0 || down == n)
        return XGW__HEALTH_UNHEALTHY;
    if (down || imperfect)
        return XGW__HEALTH_DEGRADED;
    if (unknown == n)
        return XGW__HEALTH_UNKNOWN;
    /* Some decided and fine, the rest not yet checked: the undecided ones are
     * in their first check round (bounded by health_timeout_s); calling that
     * DEGRADED would flap at every start. */
    return XGW__HEALTH_HEALTHY;
}

static int severity(enum xgw__health h)
{
    switch (h) {
    case XGW__HEALTH_HEALTHY:
        return 0;
    case XGW__HEALTH_UNKNOWN:
        return 1;
    case XGW__HEALTH_DEGRADED:
        return 2;
    default:
        return 3;
    }
}

enum xgw__health xgw__health_worst(enum xgw__health a, enum xgw__health b)
{
    return severity(a) >= severity(b) ? a : b;
}

const char *xgw__health_name(enum xgw__health h)
{
    switch (h) {
    case XGW__HEALTH_HEALTHY:
        return "HEALTHY";
    case XGW__HEALTH_DEGRADED:
        return "DEGRADED";
    case XGW__HEALTH_UNHEALTHY:
        return "UNHEALTHY";
    default:
        return "UNKNOWN";
    }
}
