/*
 * core/endpoint.h — one REST endpoint of an exchange instance, and the rule
 * that says which outcomes are the endpoint's fault (internal).
 *
 * Which endpoint a request goes to is decided by core/failover.c (breakers
 * and health per endpoint, in the order of rest_endpoints); outcomes feed
 * back through xgw__failover_record() with xgw__endpoint_fault() deciding
 * whether they count against the endpoint.
 *
 * Threading: loop thread only (metrics are readable from any thread).
 */
#ifndef XGW_CORE_ENDPOINT_H
#define XGW_CORE_ENDPOINT_H

#include "metrics.h"

struct xgw__endpoint {
    char *url; /* base URL without trailing slash (owned) */
    struct xgw__ep_metrics metrics;
};

/* True when an outcome is the endpoint's fault (transport, timeout, 5xx,
 * protocol) rather than the caller's or the account's: only these count
 * towards opening its circuit breaker or failing its health check. */
bool xgw__endpoint_fault(int kind, int http_status);

#endif
