/*
 * core/endpoint.c — endpoint choice and outcome feedback. See endpoint.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "endpoint.h"

#include "error.h"

int xgw__endpoint_choose(struct xgw__endpoint *eps, size_t n, enum xgw_op op, unsigned attempt,
                         struct xgw_error *err)
{
    (void)op;
    (void)attempt;
    if (!eps || n == 0) {
        xgw__set_errorf(err, XGW_ERR_NETWORK, 0, "no REST endpoint is configured; set rest_endpoints");
        return -1;
    }
    /* Breakers and health (the resilience work) will skip endpoints here and
     * move to the next one for attempt > 0. */
    return 0;
}

bool xgw__endpoint_fault(int kind, int http_status)
{
    switch (kind) {
    case XGW_ERR_NETWORK:
    case XGW_ERR_TIMEOUT:
    case XGW_ERR_PROTOCOL:
    case XGW_ERR_SERVER:
        return true;
    case XGW_ERR_UNKNOWN_OUTCOME:
        return true; /* a transport failure after sending an order */
    default:
        return http_status >= 500 && kind != XGW_OK && kind != XGW_ERR_REJECTED &&
               kind != XGW_ERR_RATE_LIMITED && kind != XGW_ERR_BANNED;
    }
}

void xgw__endpoint_report(struct xgw__endpoint *ep, enum xgw_op op, int kind, int http_status)
{
    (void)op;
    if (!ep || kind == XGW_ERR_CANCELLED)
        return;
    if (xgw__endpoint_fault(kind, http_status))
        ep->consecutive_failures++;
    else
        ep->consecutive_failures = 0;
}
