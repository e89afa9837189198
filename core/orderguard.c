/*
 * core/orderguard.c — retry and unknown-outcome decisions. See orderguard.h.
 */
#include "orderguard.h"

enum xgw__og_class xgw__og_class_of(enum xgw_op op)
{
    switch (op) {
    case XGW_OP_PLACE:
        return XGW__OG_PLACE;
    case XGW_OP_CANCEL:
        return XGW__OG_CANCEL;
    default:
        return XGW__OG_READ;
    }
}

void xgw__og_init(struct xgw__og *g, enum xgw_op op, unsigned retry_max, unsigned lookup_max,
                  int64_t recv_window_ms)
{
    *g = (struct xgw__og){0};
    g->cls = xgw__og_class_of(op);
    g->phase = XGW__OG_PH_SEND;
    g->retry_max = retry_max;
    g->lookup_max = lookup_max ? lookup_max : 1;
    g->proof_ms = (recv_window_ms > 0 ? recv_window_ms : 0) + XGW__OG_PROOF_MARGIN_MS;
    g->last_kind = XGW_OK;
    g->saved_kind = XGW_OK;
}

static struct xgw__og_step step(enum xgw__og_action a)
{
    return (struct xgw__og_step){.action = a, .kind = XGW_OK};
}

static struct xgw__og_step fail(int kind, unsigned flags)
{
    struct xgw__og_step s = step(XGW__OG_FAIL);
    s.kind = kind;
    s.flags = flags;
    return s;
}

/* Failures that say nothing about the request itself, only about the path to
 * the exchange or its momentary state. */
static bool transient(int kind)
{
    return kind == XGW_ERR_NETWORK || kind == XGW_ERR_TIMEOUT || kind == XGW_ERR_SERVER ||
           kind == XGW_ERR_PROTOCOL || kind == XGW_ERR_UNKNOWN_OUTCOME;
}

/* Another endpoint may do better: the transport, the wait or the server failed. */
static bool endpoint_failed(const struct xgw__og_outcome *o)
{
    return o->kind == XGW_ERR_NETWORK || o->kind == XGW_ERR_TIMEOUT || o->kind == XGW_ERR_SERVER ||
           o->kind == XGW_ERR_UNKNOWN_OUTCOME || o->http_status >= 500;
}

static struct xgw__og_step retry(struct xgw__og *g, const struct xgw__og_outcome *o)
{
    g->retries++;
    struct xgw__og_step s = step(XGW__OG_RETRY);
    s.failover = endpoint_failed(o);
    s.backoff = true;
    s.delay_ms = o->retry_after_ms > 0 ? o->retry_after_ms : 0;
    return s;
}

static struct xgw__og_step lookup(struct xgw__og *g, int64_t delay_ms, bool failover, bool backoff)
{
    g->phase = XGW__OG_PH_LOOKUP;
    g->lookups++;
    struct xgw__og_step s = step(XGW__OG_LOOKUP);
    s.delay_ms = delay_ms > 0 ? delay_ms : 0;
    s.failover = failover;
    s.backoff = backoff;
    return s;
}

static struct xgw__og_step resend(struct xgw__og *g)
{
    g->phase = XGW__OG_PH_SEND;
    g->resent = true;
    return step(XGW__OG_RESEND);
}

static bool order_final(enum xgw_order_status st)
{
    return st == XGW_OS_FILLED || st == XGW_OS_CANCELED || st == XGW_OS_REJECTED || st == XGW_OS_EXPIRED;
}

static struct xgw__og_step on_send(struct xgw__og *g, const struct xgw__og_outcome *o)
{
    g->last_kind = o->kind;
    if (o->kind == XGW_OK || o->kind == XGW_ERR_CANCELLED)
        return step(XGW__OG_RETURN);
    if (o->kind == XGW_ERR_CLOCK_SKEW) {
        /* The exchange refused the timestamp, so nothing was executed: safe
         * to send once more, re-signed, for writes too. */
        if (g->resynced)
            return step(XGW__OG_RETURN);
        g->resynced = true;
        return step(XGW__OG_RESYNC);
    }
    /* No endpoint admitted the request: every breaker is open, retrying at
     * once would fail the same way. */
    if (o->flags & XGW_ERRF_BREAKER_OPEN)
        return step(XGW__OG_RETURN);

    if (g->cls == XGW__OG_READ) {
        bool again = transient(o->kind) || (o->kind == XGW_ERR_RATE_LIMITED && o->retry_after_ms > 0);
        if (again && g->retries < g->retry_max)
            return retry(g, o);
        return step(XGW__OG_RETURN);
    }

    /* PLACE / CANCEL */
    if (!(o->flags & XGW_ERRF_SENT)) {
        /* Nothing left the process (connect refused, DNS, TLS handshake):
         * the exchange cannot have seen it. */
        if ((o->kind == XGW_ERR_NETWORK || o->kind == XGW_ERR_TIMEOUT) && g->retries < g->retry_max)
            return retry(g, o);
        return step(XGW__OG_RETURN);
    }
    if (o->sent_ms > 0)
        g->last_sent_ms = o->sent_ms;
    if (transient(o->kind))
        return lookup(g, 0, true, false);
    if (g->resent && (o->kind == XGW_ERR_REJECTED || o->kind == XGW_ERR_INVALID_REQUEST)) {
        /* A refused resend may be the exchange saying "that client id is
         * taken": the original is live after all. Confirm before answering. */
        g->confirming = true;
        g->saved_kind = o->kind;
        return lookup(g, 0, false, false);
    }
    return step(XGW__OG_RETURN); /* a definite answer from the exchange */
}

static struct xgw__og_step on_lookup(struct xgw__og *g, const struct xgw__og_outcome *o, int64_t now_ms)
{
    if (o->kind == XGW_OK) {
        if (g->cls == XGW__OG_PLACE || order_final(o->status) || o->status == XGW_OS_UNKNOWN)
            return step(XGW__OG_RETURN); /* found: that is the result */
        /* CANCEL and the order is still open: the cancel did not happen. */
        if (!g->resent && !g->confirming)
            return resend(g);
        return fail(g->confirming ? g->saved_kind : g->last_kind, 0);
    }
    if (o->flags & XGW_ERRF_ORDER_NOT_FOUND) {
        if (g->cls == XGW__OG_CANCEL)
            return step(XGW__OG_RETURN); /* there is nothing to cancel */
        int64_t sent = o->sent_ms > 0 ? o->sent_ms : now_ms;
        int64_t proof_at = g->last_sent_ms + g->proof_ms;
        if (g->last_sent_ms > 0 && sent < proof_at)
            return lookup(g, proof_at - now_ms, false, false); /* not proof yet: ask again then */
        if (g->confirming)
            return fail(g->saved_kind, XGW_ERRF_ORDER_NOT_FOUND); /* the refusal stands */
        if (!g->resent)
            return resend(g);
        /* Proven absent after the one resend: the place failed, and it is
         * known that no order exists. */
        return fail(XGW_ERR_NETWORK, XGW_ERRF_ORDER_NOT_FOUND);
    }
    if (o->kind == XGW_ERR_CLOCK_SKEW && !g->resynced) {
        g->resynced = true;
        return step(XGW__OG_RESYNC);
    }
    bool again = transient(o->kind) || o->kind == XGW_ERR_RATE_LIMITED || o->kind == XGW_ERR_CLOCK_SKEW;
    if (again && ++g->lookup_failures < g->lookup_max) {
        struct xgw__og_step s = lookup(g, o->retry_after_ms, endpoint_failed(o), true);
        return s;
    }
    return fail(XGW_ERR_UNKNOWN_OUTCOME, 0);
}

struct xgw__og_step xgw__og_next(struct xgw__og *g, const struct xgw__og_outcome *o, int64_t now_ms)
{
    if (g->phase == XGW__OG_PH_LOOKUP)
        return on_lookup(g, o, now_ms);
    return on_send(g, o);
}

const char *xgw__og_action_name(enum xgw__og_action a)
{
    switch (a) {
    case XGW__OG_RETURN:
        return "return";
    case XGW__OG_FAIL:
        return "fail";
    case XGW__OG_RETRY:
        return "retry";
    case XGW__OG_RESYNC:
        return "resync";
    case XGW__OG_LOOKUP:
        return "lookup";
    case XGW__OG_RESEND:
        return "resend";
    default:
        return "?";
    }
}
