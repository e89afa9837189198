/*
 * core/endpoint.h — the REST endpoints of one exchange instance and the one
 * place where a request's endpoint is chosen and its outcome reported
 * (internal).
 *
 * This is the seam for resilience: breakers, health state and failover
 * counters hang off struct xgw__endpoint, xgw__endpoint_choose() is the only
 * function the pipeline asks "where does attempt N go?", and
 * xgw__endpoint_report() is the only place outcomes are fed back. Today
 * choose() returns the first endpoint and report() only classifies.
 *
 * Threading: loop thread only (metrics are readable from any thread).
 */
#ifndef XGW_CORE_ENDPOINT_H
#define XGW_CORE_ENDPOINT_H

#include "metrics.h"

struct xgw__endpoint {
    char *url; /* base URL without trailing slash (owned) */
    struct xgw__ep_metrics metrics;
    unsigned consecutive_failures; /* endpoint-fault outcomes in a row */
};

/* Index of the endpoint for attempt `attempt` (0 = first try) of op, or -1
 * with err filled (kind NETWORK) when no endpoint may serve. */
int xgw__endpoint_choose(struct xgw__endpoint *eps, size_t n, enum xgw_op op, unsigned attempt,
                         struct xgw_error *err);

/* True when an outcome is the endpoint's fault (transport, timeout, 5xx,
 * protocol) rather than the caller's or the account's. */
bool xgw__endpoint_fault(int kind, int http_status);

/* Feed one request's outcome back (kind XGW_OK on success). */
void xgw__endpoint_report(struct xgw__endpoint *ep, enum xgw_op op, int kind, int http_status);

#endif
