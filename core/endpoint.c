/*
 * core/endpoint.c — whose fault an outcome is. See endpoint.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "endpoint.h"

#include "error.h"

bool xgw__endpoint_fault(int kind, int http_status)
{
    switch (kind) {
    case XGW_ERR_NETWORK:
    case XGW_ERR_TIMEOUT:
    case XGW_ERR_PROTOCOL:
    case XGW_ERR_SERVER:
    case XGW_ERR_UNKNOWN_OUTCOME: /* a transport failure after sending an order */
        return true;
    default:
        return http_status >= 500 && kind != XGW_OK && kind != XGW_ERR_REJECTED &&
               kind != XGW_ERR_RATE_LIMITED && kind != XGW_ERR_BANNED;
    }
}
