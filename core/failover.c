/*
 * core/failover.c — endpoint choice over breakers and health. See failover.h.
 */
#include "failover.h"

#include <stdlib.h>
#include <string.h>

int xgw__failover_init(struct xgw__failover *fo, size_t n, const struct xgw__fo_cfg *cfg)
{
    memset(fo, 0, sizeof *fo);
    if (n == 0 || n > XGW__FO_MAX_EPS)
        return XGW_ERR_CONFIG;
    fo->ep = calloc(n, sizeof *fo->ep);
    fo->pairs = calloc(n * n, sizeof *fo->pairs);
    if (!fo->ep || !fo->pairs) {
        free(fo->ep);
        free(fo->pairs);
        memset(fo, 0, sizeof *fo);
        return XGW_ERR_INTERNAL;
    }
    fo->n = n;
    for (size_t i = 0; i < n; i++) {
        xgw__breaker_init(&fo->ep[i].breaker, cfg->breaker_failures, cfg->breaker_recovery_ms,
                          cfg->breaker_recovery_max_ms);
        xgw__health_init(&fo->ep[i].health, cfg->health_max_failures, cfg->health_interval_ms);
    }
    return XGW_OK;
}

void xgw__failover_free(struct xgw__failover *fo)
{
    free(fo->ep);
    free(fo->pairs);
    memset(fo, 0, sizeof *fo);
}

int xgw__failover_choose(struct xgw__failover *fo, uint64_t tried, int prev, int64_t now_ms,
                         struct xgw__fo_choice *out)
{
    *out = (struct xgw__fo_choice){.index = -1, .admit = XGW__BRK_DENY, .failover_from = -1};
    /* pass 0: untried & not unhealthy; 1: untried; 2: tried & not unhealthy; 3: any */
    for (int pass = 0; pass < 4 && out->index < 0; pass++) {
        bool want_tried = pass >= 2;
        bool need_healthy = (pass % 2) == 0;
        for (size_t i = 0; i < fo->n; i++) {
            struct xgw__ep_res *e = &fo->ep[i];
            bool was_tried = (tried >> i) & 1u;
            if (was_tried != want_tried)
                continue;
            if (need_healthy && e->health.state == XGW__HEALTH_UNHEALTHY)
                continue;
            if (!xgw__breaker_would_admit(&e->breaker, now_ms))
                continue;
            out->index = (int)i;
            break;
        }
    }
    if (out->index < 0) {
        int64_t best = -1;
        for (size_t i = 0; i < fo->n; i++) {
            fo->ep[i].breaker.denied++;
            int64_t r = xgw__breaker_retry_in_ms(&fo->ep[i].breaker, now_ms);
            if (best < 0 || r < best)
                best = r;
        }
        out->retry_in_ms = best > 0 ? best : 1;
        return -1;
    }
    out->admit = xgw__breaker_admit(&fo->ep[out->index].breaker, now_ms);
    size_t from = prev >= 0 && (size_t)prev < fo->n ? (size_t)prev : 0;
    if (from != (size_t)out->index) {
        fo->pairs[from * fo->n + (size_t)out->index]++;
        out->failover_from = (int)from;
    }
    return out->index;
}

bool xgw__failover_record(struct xgw__failover *fo, size_t i, enum xgw__brk_admit admit, bool endpoint_fault,
                          int64_t now_ms)
{
    if (i >= fo->n)
        return false;
    return xgw__breaker_record(&fo->ep[i].breaker, now_ms, admit, endpoint_fault);
}

void xgw__failover_cancel(struct xgw__failover *fo, size_t i, enum xgw__brk_admit admit)
{
    if (i < fo->n)
        xgw__breaker_cancel(&fo->ep[i].breaker, admit);
}

uint64_t xgw__failover_count(const struct xgw__failover *fo, size_t from, size_t to)
{
    if (from >= fo->n || to >= fo->n)
        return 0;
    return fo->pairs[from * fo->n + to];
}

enum xgw__health xgw__failover_health(const struct xgw__failover *fo, int64_t now_ms)
{
    enum xgw__health hs[XGW__FO_MAX_EPS];
    enum xgw__brk_state bs[XGW__FO_MAX_EPS];
    for (size_t i = 0; i < fo->n; i++) {
        hs[i] = fo->ep[i].health.state;
        bs[i] = xgw__breaker_state(&fo->ep[i].breaker, now_ms);
    }
    return xgw__health_aggregate(hs, bs, fo->n);
}
