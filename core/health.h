/*
 * core/health.h — health of endpoints from active checks, and the rule that
 * folds endpoint health and breaker state into one state per instance and
 * per gateway.
 *
 * Endpoint: UNKNOWN until a check decides; health_max_failures failed checks
 * in a row -> UNHEALTHY; one successful check -> HEALTHY. A failed check of a
 * HEALTHY endpoint leaves it HEALTHY until the run reaches the limit, so one
 * lost packet does not move traffic.
 *
 * Aggregate (instance):
 *   UNKNOWN    no endpoint has been decided yet and no breaker is open
 *   HEALTHY    every decided endpoint is HEALTHY with its breaker CLOSED
 *   DEGRADED   something can serve, but some endpoint is UNHEALTHY or its
 *              breaker is not CLOSED
 *   UNHEALTHY  nothing can serve: every endpoint is UNHEALTHY or has its
 *              breaker open (or there is no endpoint)
 * Gateway: the worst instance, in the order UNHEALTHY > DEGRADED > UNKNOWN >
 * HEALTHY.
 *
 * Time is passed in. Threading: loop thread only; readers on other threads
 * (`/health`, `xgw health`) must be handed a copy.
 */
#ifndef XGW_CORE_HEALTH_H
#define XGW_CORE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "breaker.h"
#include "xgw/types.h"

enum xgw__health {
    XGW__HEALTH_UNKNOWN = 0,
    XGW__HEALTH_HEALTHY,
    XGW__HEALTH_DEGRADED,
    XGW__HEALTH_UNHEALTHY
};

struct xgw__ep_health {
    enum xgw__health state; /* UNKNOWN, HEALTHY or UNHEALTHY (never DEGRADED) */
    unsigned max_failures;  /* health_max_failures (>= 1) */
    int64_t interval_ms;    /* health_interval_s * 1000 */
    unsigned consecutive_failures;
    int64_t last_check_ms;            /* when the last check finished, 0 = never */
    int64_t last_latency_us;          /* of the last successful check, -1 = none */
    char last_error[XGW_ERR_MSG_MAX]; /* of the last failed check, "" = none */
    int64_t next_check_ms;            /* when the next check is due */
    uint64_t checks, failures;
};

/* The first check is due at once (next_check_ms = 0). */
void xgw__health_init(struct xgw__ep_health *h, unsigned max_failures, int64_t interval_ms);

/* A check finished at now_ms. ok: the ping succeeded within
 * health_timeout_s; latency_us its round trip (ok only); error: the failed
 * check's message, already scrubbed (an xgw_error's message), may be NULL.
 * Returns true when state changed. Does not schedule the next check. */
bool xgw__health_record(struct xgw__ep_health *h, int64_t now_ms, bool ok, int64_t latency_us,
                        const char *error);

/* Schedule the next check: now + interval ± 10% jitter, uniform from r.
 * Returns next_check_ms. Jitter keeps checks of many instances and
 * endpoints from firing in step. */
int64_t xgw__health_schedule(struct xgw__ep_health *h, int64_t now_ms, uint64_t r);

static inline bool xgw__health_due(const struct xgw__ep_health *h, int64_t now_ms)
{
    return now_ms >= h->next_check_ms;
}

/* Pure: the instance's state from each endpoint's health and breaker state
 * (parallel arrays of n). */
enum xgw__health xgw__health_aggregate(const enum xgw__health *ep, const enum xgw__brk_state *brk, size_t n);

/* The gateway's state from two instances' (fold over all instances, starting
 * from HEALTHY; with no instance at all the gateway is UNKNOWN). */
enum xgw__health xgw__health_worst(enum xgw__health a, enum xgw__health b);

const char *xgw__health_name(enum xgw__health h); /* "HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN" */

#endif
