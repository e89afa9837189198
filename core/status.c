/*
 * core/status.c — xgw_health(): the health of every instance and endpoint
 * for readers on any thread (xgw health, GET /health, the status page).
 *
 * The loop thread owns breakers and health records; it copies what readers
 * need into xgw_exchange.status[] under status_mu after every change
 * (gateway.c, status_sync). This file only reads those copies, so a reader
 * never races the loop and never waits for it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gateway.h"
#include "loop.h"

const char *xgw_health_name(enum xgw_health h)
{
    return xgw__health_name((enum xgw__health)h);
}

static int ep_json(struct xgw_buf *b, const char *url, const struct xgw__ep_status *st, enum xgw__brk_state brk,
                   int64_t retry_in_ms, bool first)
{
    int rc = xgw__buf_append_str(b, first ? "{\"url\":" : ",{\"url\":");
    rc = rc ? rc : xgw__buf_json_str(b, url, strlen(url));
    rc = rc ? rc
            : xgw__buf_printf(b, ",\"state\":\"%s\",\"breaker\":\"%s\",\"breaker_retry_in_ms\":%lld,"
                                 "\"consecutive_failures\":%u,\"check_failures\":%u,\"last_latency_ms\":",
                              xgw__health_name(st->health), xgw__breaker_state_name(brk), (long long)retry_in_ms,
                              st->breaker_faults, st->check_failures);
    if (st->last_latency_us >= 0)
        rc = rc ? rc : xgw__buf_printf(b, "%.3f", (double)st->last_latency_us / 1000.0);
    else
        rc = rc ? rc : xgw__buf_append_str(b, "null");
    rc = rc ? rc : xgw__buf_printf(b, ",\"last_check_ms\":%lld,\"last_error\":", (long long)st->last_check_ms);
    rc = rc ? rc : xgw__buf_json_str(b, st->last_error, strlen(st->last_error));
    return rc ? rc
              : xgw__buf_printf(b, ",\"checks\":%llu,\"failures\":%llu}", (unsigned long long)st->checks,
                                (unsigned long long)st->failures);
}

/* One instance: its endpoints into b (when b is not NULL) and its state. */
static int inst_report(struct xgw_exchange *ex, struct xgw_buf *b, bool first, enum xgw__health *state)
{
    int64_t now = xgw__mono_us() / 1000;
    int64_t wall = xgw__wall_ms();
    size_t n = ex->n_eps;
    enum xgw__health hs[XGW__FO_MAX_EPS];
    enum xgw__brk_state bs[XGW__FO_MAX_EPS];
    int rc = 0;
    if (b) {
        rc = xgw__buf_append_str(b, first ? "{\"instance\":" : ",{\"instance\":");
        rc = rc ? rc : xgw__buf_json_str(b, ex->cfg->name, strlen(ex->cfg->name));
        rc = rc ? rc : xgw__buf_append_str(b, ",\"plugin\":");
        rc = rc ? rc : xgw__buf_json_str(b, ex->plugin->name, strlen(ex->plugin->name));
    }
    pthread_mutex_lock(&ex->status_mu);
    int64_t banned = ex->banned_until_ms > wall ? ex->banned_until_ms : 0;
    for (size_t i = 0; i < n && i < XGW__FO_MAX_EPS; i++) {
        const struct xgw__ep_status *st = &ex->status[i];
        hs[i] = st->health;
        /* An open breaker whose recovery time has passed admits a probe. */
        bs[i] = st->breaker == XGW__BRK_OPEN && now >= st->half_open_ms ? XGW__BRK_HALF_OPEN : st->breaker;
    }
    *state = banned ? XGW__HEALTH_UNHEALTHY : xgw__health_aggregate(hs, bs, n < XGW__FO_MAX_EPS ? n : XGW__FO_MAX_EPS);
    if (b) {
        rc = rc ? rc
                : xgw__buf_printf(b, ",\"state\":\"%s\",\"banned_until_ms\":%lld,\"endpoints\":[",
                                  xgw__health_name(*state), (long long)banned);
        for (size_t i = 0; !rc && i < n && i < XGW__FO_MAX_EPS; i++) {
            const struct xgw__ep_status *st = &ex->status[i];
            int64_t retry = bs[i] == XGW__BRK_OPEN ? st->half_open_ms - now : 0;
            rc = ep_json(b, ex->eps[i].url, st, bs[i], retry, i == 0);
        }
        rc = rc ? rc : xgw__buf_append_str(b, "]}");
    }
    pthread_mutex_unlock(&ex->status_mu);
    return rc;
}

int xgw_health(struct xgw_gateway *gw, char **json, enum xgw_health *overall)
{
    if (json)
        *json = NULL;
    if (!gw)
        return XGW_ERR_INVALID_REQUEST;
    struct xgw_buf b = {0};
    struct xgw_buf *bp = json ? &b : NULL;
    enum xgw__health all = gw->n_exchanges ? XGW__HEALTH_HEALTHY : XGW__HEALTH_UNKNOWN;
    int rc = bp ? xgw__buf_append_str(bp, "{\"instances\":[") : 0;
    for (size_t i = 0; !rc && i < gw->n_exchanges; i++) {
        enum xgw__health h;
        rc = inst_report(gw->exchanges[i], bp, i == 0, &h);
        all = xgw__health_worst(all, h);
    }
    /* The overall state goes last in the text so it is computed from the
     * same copies the instances show. */
    rc = rc || !bp ? rc : xgw__buf_printf(bp, "],\"state\":\"%s\"}\n", xgw__health_name(all));
    if (rc) {
        xgw__buf_free(&b);
        return XGW_ERR_INTERNAL;
    }
    if (overall)
        *overall = (enum xgw_health)all;
    if (json)
        *json = b.data;
    return XGW_OK;
}
