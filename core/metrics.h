/*
 * core/metrics.h — counters and latency histograms kept by the core for
 * every exchange instance and endpoint, and their JSON / Prometheus text
 * rendering (internal).
 *
 * Threading: the loop thread writes most counters, submitters on any thread
 * write the gateway-level ones, and xgw_metrics() reads from any thread.
 * Every cell is a relaxed atomic: a snapshot is not a consistent cut across
 * cells, which Prometheus semantics do not require.
 *
 * Latency is kept in fixed log-spaced buckets (1-2.5-5 per decade, 100 us
 * to 30 s, plus +Inf) so p50/p90/p99 are derivable from the buckets and the
 * maximum is kept exactly.
 */
#ifndef XGW_CORE_METRICS_H
#define XGW_CORE_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "xgw/xgw.h"

#define XGW__LAT_BUCKETS 19 /* 18 finite upper bounds + +Inf */
extern const int64_t xgw__lat_bounds_us[XGW__LAT_BUCKETS - 1];

struct xgw__op_metrics {
    atomic_uint_fast64_t by_outcome[XGW_ERR__COUNT]; /* index: enum xgw_err_kind, XGW_OK = success */
    atomic_uint_fast64_t lat_bucket[XGW__LAT_BUCKETS]; /* not cumulative */
    atomic_uint_fast64_t lat_sum_us, lat_count, lat_max_us;
};

/* One endpoint of one instance (or the pseudo endpoint "none" for calls
 * that failed before an endpoint was chosen). */
struct xgw__ep_metrics {
    const char *exchange; /* borrowed, outlive the metrics */
    const char *endpoint;
    bool pseudo; /* "none": no breaker, no health */
    struct xgw__op_metrics ops[XGW_OP__COUNT];
    atomic_uint_fast64_t bytes_in, bytes_out;
    atomic_uint_fast64_t conn_opened, conn_reused, conn_closed;
    /* resilience: gauges mirror loop-thread state (enum xgw__brk_state,
     * enum xgw__health), counters count events */
    atomic_int breaker_state, health_state;
    atomic_uint_fast64_t breaker_entered[3]; /* transitions into closed, open, half_open */
    atomic_uint_fast64_t breaker_denied;     /* requests failed fast while every breaker was open */
    atomic_uint_fast64_t health_checks, health_failures;
    atomic_int_fast64_t health_latency_us; /* of the last successful check, 0 none */
};

#define XGW__METRIC_BUCKETS 16 /* rate-limit buckets a plugin may declare (gateway.h XGW__MAX_BUCKETS) */

struct xgw__inst_metrics {
    atomic_int_fast64_t inflight; /* accepted by xgw_call, callback not yet run */
    atomic_uint_fast64_t markets_loads;
    /* retries and order resolution */
    atomic_uint_fast64_t retries, order_lookups, order_resends, clock_resyncs;
    /* rate limits: the plugin's buckets (names and capacities fixed at open) */
    size_t n_buckets;
    const char *bucket_name[XGW__METRIC_BUCKETS];
    uint64_t bucket_capacity[XGW__METRIC_BUCKETS];
    atomic_int_fast64_t rl_used[XGW__METRIC_BUCKETS]; /* units in the current window */
    atomic_uint_fast64_t rl_waits, rl_refused, rl_429, rl_bans;
    atomic_int_fast64_t banned_until_ms; /* 0 = never banned */
    /* failovers[from * n_fo + to]: requests sent to endpoint `to` instead of
     * `from` (the preferred one, or the previous attempt's); owned */
    atomic_uint_fast64_t *failovers;
    size_t n_fo;
};

struct xgw__gw_metrics {
    int64_t started_ms;
    atomic_uint_fast64_t calls_submitted, calls_completed, calls_cancelled, calls_refused;
};

void xgw__ep_metrics_init(struct xgw__ep_metrics *m, const char *exchange, const char *endpoint);

/* One finished request: outcome kind and latency (microseconds, < 0 = no
 * latency to record, e.g. failed before sending). Loop thread. */
void xgw__metrics_request(struct xgw__ep_metrics *m, enum xgw_op op, int kind, int64_t latency_us);

static inline void xgw__metric_add(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* What xgw__metrics_render walks: per instance, its gauges and endpoints. */
struct xgw__metrics_inst {
    const char *exchange;
    const struct xgw__inst_metrics *m;
    const struct xgw__ep_metrics *const *eps;
    size_t n_eps;
};

/* Families rendered outside this file (the streams, core/streammetrics.c):
 * JSON writes members of the top object, each starting with ','; Prometheus
 * writes whole families. 0 or XGW_ERR_INTERNAL. */
typedef int (*xgw__metrics_extra_fn)(void *ud, enum xgw_metrics_format fmt, struct xgw_buf *b);

/* Render everything into a malloc'd NUL-terminated string, extra (may be
 * NULL) last. 0 or XGW_ERR_INTERNAL. Any thread. */
int xgw__metrics_render(const struct xgw__gw_metrics *g, const struct xgw__metrics_inst *insts, size_t n,
                        enum xgw_metrics_format fmt, xgw__metrics_extra_fn extra, void *extra_ud, char **out);

/* Quantile q (0..1) of one op's latency in microseconds, from the buckets
 * (the bucket's upper bound, clamped to the exact max); 0 when empty. */
int64_t xgw__metrics_quantile_us(const struct xgw__op_metrics *m, double q);
/* The same for any histogram with these buckets (bucket: XGW__LAT_BUCKETS
 * cells, not cumulative; max_us: the exact maximum). Stream latency uses it. */
int64_t xgw__lat_quantile_us(const atomic_uint_fast64_t *bucket, const atomic_uint_fast64_t *max_us, double q);

#endif
