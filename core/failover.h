/*
 * core/failover.h — the resilience state of an instance's REST endpoints
 * (one breaker and one health record per endpoint) and the choice of the
 * endpoint for each request attempt.
 *
 * Choice, in priority order (the configured order of rest_endpoints):
 *   1. an endpoint not yet tried in this call, HEALTHY or UNKNOWN, whose
 *      breaker admits;
 *   2. one not yet tried, UNHEALTHY, whose breaker admits (health checks lag
 *      behind reality; trying beats failing everything);
 *   3. one already tried in this call, HEALTHY or UNKNOWN, whose breaker admits;
 *   4. one already tried, whose breaker admits.
 * Because the first acceptable endpoint in priority order always wins, traffic
 * returns to the preferred endpoint as soon as it is healthy and its breaker
 * admits again: no extra "fail back" rule is needed.
 *
 * Failovers are counted per endpoint pair (from -> to): `from` is the
 * endpoint the attempt would have used (the preferred endpoint 0 on a first
 * attempt, the previous attempt's endpoint on a retry) and `to` the one
 * chosen, whenever they differ.
 *
 * The pipeline (core/gateway.c, attempt) asks xgw__failover_choose() for
 * every request that is not pinned to one endpoint. Time is passed in.
 * Threading: loop thread only.
 */
#ifndef XGW_CORE_FAILOVER_H
#define XGW_CORE_FAILOVER_H

#include <stddef.h>
#include <stdint.h>

#include "breaker.h"
#include "health.h"

/* At most this many endpoints per instance (the "tried" set is a bit mask). */
#define XGW__FO_MAX_EPS 64

struct xgw__ep_res {
    struct xgw__breaker breaker;
    struct xgw__ep_health health;
};

struct xgw__failover {
    struct xgw__ep_res *ep; /* n, owned */
    size_t n;
    uint64_t *pairs; /* n * n: pairs[from * n + to] failovers */
};

/* Resilience settings from the instance's configuration (struct xgw__inst_cfg). */
struct xgw__fo_cfg {
    unsigned breaker_failures;
    int64_t breaker_recovery_ms, breaker_recovery_max_ms;
    unsigned health_max_failures;
    int64_t health_interval_ms;
};

/* n endpoints (1..XGW__FO_MAX_EPS). Returns 0, XGW_ERR_CONFIG (n out of
 * range) or XGW_ERR_INTERNAL (OOM). */
int xgw__failover_init(struct xgw__failover *fo, size_t n, const struct xgw__fo_cfg *cfg);
void xgw__failover_free(struct xgw__failover *fo);

struct xgw__fo_choice {
    int index;                 /* chosen endpoint, -1 = none admits */
    enum xgw__brk_admit admit; /* PASS or PROBE: pass back to record/cancel */
    int64_t retry_in_ms;       /* index -1: shortest time until a breaker admits */
    int failover_from;         /* >= 0: this choice is a failover away from that endpoint (counted) */
};

/* Choose the endpoint for one attempt. tried: bit i set = endpoint i already
 * failed in this call. prev: the previous attempt's endpoint, -1 on the first
 * attempt. On success the chosen breaker's admission is claimed (so it must
 * be followed by xgw__failover_record or xgw__failover_cancel) and a
 * failover is counted when the choice differs from the expected endpoint.
 * Returns the index or -1 (fail fast: kind NETWORK, XGW_ERRF_BREAKER_OPEN,
 * "retry in retry_in_ms"). */
int xgw__failover_choose(struct xgw__failover *fo, uint64_t tried, int prev, int64_t now_ms,
                         struct xgw__fo_choice *out);

/* The attempt on endpoint i (admitted as `admit`) finished; endpoint_fault
 * as classified by xgw__endpoint_fault(). Returns true when i's breaker
 * changed state. */
bool xgw__failover_record(struct xgw__failover *fo, size_t i, enum xgw__brk_admit admit, bool endpoint_fault,
                          int64_t now_ms);
/* The attempt was never sent: release the admission. */
void xgw__failover_cancel(struct xgw__failover *fo, size_t i, enum xgw__brk_admit admit);

/* Failovers counted from -> to. */
uint64_t xgw__failover_count(const struct xgw__failover *fo, size_t from, size_t to);

/* The instance's aggregate health as of now_ms (see health.h). */
enum xgw__health xgw__failover_health(const struct xgw__failover *fo, int64_t now_ms);

#endif
