/*
 * core/metrics.c — request counters, latency histograms and their JSON and
 * Prometheus text exposition. See metrics.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "metrics.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "loop.h"

const int64_t xgw__lat_bounds_us[XGW__LAT_BUCKETS - 1] = {
    100,    250,    500,     1000,    2500,    5000,    10000,   25000,    50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 20000000, 30000000,
};

void xgw__ep_metrics_init(struct xgw__ep_metrics *m, const char *exchange, const char *endpoint)
{
    memset(m, 0, sizeof *m); /* all-zero is a valid state for atomic integers on our targets */
    m->exchange = exchange;
    m->endpoint = endpoint;
}

void xgw__metrics_request(struct xgw__ep_metrics *m, enum xgw_op op, int kind, int64_t latency_us)
{
    if ((unsigned)op >= XGW_OP__COUNT || kind < 0 || kind >= XGW_ERR__COUNT)
        return;
    struct xgw__op_metrics *o = &m->ops[op];
    xgw__metric_add(&o->by_outcome[kind], 1);
    if (latency_us < 0)
        return;
    size_t b = 0;
    while (b < XGW__LAT_BUCKETS - 1 && latency_us > xgw__lat_bounds_us[b])
        b++;
    xgw__metric_add(&o->lat_bucket[b], 1);
    xgw__metric_add(&o->lat_sum_us, (uint64_t)latency_us);
    xgw__metric_add(&o->lat_count, 1);
    /* Only the loop thread records latencies, so load+store cannot lose a
     * concurrent larger maximum. */
    if ((uint64_t)latency_us > atomic_load_explicit(&o->lat_max_us, memory_order_relaxed))
        atomic_store_explicit(&o->lat_max_us, (uint64_t)latency_us, memory_order_relaxed);
}

static uint64_t ld(const atomic_uint_fast64_t *c) { return atomic_load_explicit(c, memory_order_relaxed); }

int64_t xgw__metrics_quantile_us(const struct xgw__op_metrics *m, double q)
{
    return xgw__lat_quantile_us(m->lat_bucket, &m->lat_max_us, q);
}

int64_t xgw__lat_quantile_us(const atomic_uint_fast64_t *bucket, const atomic_uint_fast64_t *max_us, double q)
{
    uint64_t count = 0, b[XGW__LAT_BUCKETS];
    for (size_t i = 0; i < XGW__LAT_BUCKETS; i++)
        count += b[i] = ld(&bucket[i]);
    if (count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)count + 0.999999);
    if (rank < 1)
        rank = 1;
    int64_t max = (int64_t)ld(max_us);
    uint64_t cum = 0;
    for (size_t i = 0; i < XGW__LAT_BUCKETS - 1; i++) {
        cum += b[i];
        if (cum >= rank)
            return xgw__lat_bounds_us[i] < max ? xgw__lat_bounds_us[i] : max;
    }
    return max;
}

static bool op_used(const struct xgw__op_metrics *o)
{
    for (size_t k = 0; k < XGW_ERR__COUNT; k++)
        if (ld(&o->by_outcome[k]))
            return true;
    return false;
}

/* "ok", "network", "rate_limited", ... */
static const char *outcome_name(int kind, char *tmp, size_t cap)
{
    if (kind == XGW_OK)
        return "ok";
    const char *n = xgw_err_kind_name((enum xgw_err_kind)kind);
    size_t i = 0;
    for (; n[i] && i + 1 < cap; i++)
        tmp[i] = (char)tolower((unsigned char)n[i]);
    tmp[i] = '\0';
    return tmp;
}

/* Prometheus label value escaping: backslash, double quote, newline. */
static int prom_label(struct xgw_buf *b, const char *s)
{
    for (; *s; s++) {
        int rc;
        if (*s == '\\')
            rc = xgw__buf_append(b, "\\\\", 2);
        else if (*s == '"')
            rc = xgw__buf_append(b, "\\\"", 2);
        else if (*s == '\n')
            rc = xgw__buf_append(b, "\\n", 2);
        else
            rc = xgw__buf_append(b, s, 1);
        if (rc)
            return rc;
    }
    return 0;
}

static int json_str(struct xgw_buf *b, const char *s) { return xgw__buf_json_str(b, s, strlen(s)); }

/* ---- JSON ---------------------------------------------------------------- */

static int64_t ldi(const atomic_int_fast64_t *c) { return atomic_load_explicit(c, memory_order_relaxed); }

/* Retries, order resolution, rate limits and failovers (endpoint indexes
 * in the order of "endpoints") of one instance: members of its object. */
static int json_resilience_inst(struct xgw_buf *b, const struct xgw__inst_metrics *m)
{
    int rc = xgw__buf_printf(b,
                             "\"retries\":%llu,\"order_lookups\":%llu,\"order_resends\":%llu,\"clock_resyncs\":%llu,"
                             "\"rate_limit\":{\"waits\":%llu,\"refused\":%llu,\"http_429\":%llu,\"bans\":%llu,"
                             "\"banned_until_ms\":%lld,\"buckets\":[",
                             (unsigned long long)ld(&m->retries), (unsigned long long)ld(&m->order_lookups),
                             (unsigned long long)ld(&m->order_resends), (unsigned long long)ld(&m->clock_resyncs),
                             (unsigned long long)ld(&m->rl_waits), (unsigned long long)ld(&m->rl_refused),
                             (unsigned long long)ld(&m->rl_429), (unsigned long long)ld(&m->rl_bans),
                             (long long)ldi(&m->banned_until_ms));
    for (size_t i = 0; !rc && i < m->n_buckets && i < XGW__METRIC_BUCKETS; i++) {
        rc = xgw__buf_append_str(b, i ? ",{\"name\":" : "{\"name\":");
        rc = rc ? rc : json_str(b, m->bucket_name[i] ? m->bucket_name[i] : "");
        rc = rc ? rc
                : xgw__buf_printf(b, ",\"capacity\":%llu,\"used\":%lld}", (unsigned long long)m->bucket_capacity[i],
                                  (long long)ldi(&m->rl_used[i]));
    }
    rc = rc ? rc : xgw__buf_append_str(b, "]},\"failovers\":[");
    bool first = true;
    for (size_t from = 0; !rc && from < m->n_fo; from++)
        for (size_t to = 0; !rc && to < m->n_fo; to++) {
            uint64_t v = ld(&m->failovers[from * m->n_fo + to]);
            if (!v)
                continue;
            rc = xgw__buf_printf(b, "%s{\"from\":%zu,\"to\":%zu,\"count\":%llu}", first ? "" : ",", from, to,
                                 (unsigned long long)v);
            first = false;
        }
    return rc ? rc : xgw__buf_append_str(b, "]");
}

static const char *brk_name(int s) { return s == 1 ? "open" : s == 2 ? "half_open" : "closed"; }
static const char *health_name(int h)
{
    return h == 1 ? "HEALTHY" : h == 2 ? "DEGRADED" : h == 3 ? "UNHEALTHY" : "UNKNOWN";
}

static int json_resilience_ep(struct xgw_buf *b, const struct xgw__ep_metrics *m)
{
    if (m->pseudo)
        return 0;
    return xgw__buf_printf(
        b,
        ",\"breaker\":\"%s\",\"breaker_opened\":%llu,\"breaker_denied\":%llu,"
        "\"health\":\"%s\",\"health_checks\":%llu,\"health_failures\":%llu,\"health_latency_ms\":%.3f",
        brk_name(atomic_load_explicit(&m->breaker_state, memory_order_relaxed)),
        (unsigned long long)ld(&m->breaker_entered[1]), (unsigned long long)ld(&m->breaker_denied),
        health_name(atomic_load_explicit(&m->health_state, memory_order_relaxed)),
        (unsigned long long)ld(&m->health_checks), (unsigned long long)ld(&m->health_failures),
        (double)ldi(&m->health_latency_us) / 1000.0);
}

static int render_json(const struct xgw__gw_metrics *g, const struct xgw__metrics_inst *insts, size_t n,
                       struct xgw_buf *b)
{
    int rc = xgw__buf_printf(b,
                             "{\"gateway\":{\"uptime_s\":%lld,\"calls_submitted\":%llu,\"calls_completed\":%llu,"
                             "\"calls_cancelled\":%llu,\"calls_refused\":%llu,\"exchanges\":%zu},\"exchanges\":[",
                             (long long)((xgw__wall_ms() - g->started_ms) / 1000),
                             (unsigned long long)ld(&g->calls_submitted),
                             (unsigned long long)ld(&g->calls_completed),
                             (unsigned long long)ld(&g->calls_cancelled),
                             (unsigned long long)ld(&g->calls_refused), n);
    for (size_t i = 0; !rc && i < n; i++) {
        const struct xgw__metrics_inst *in = &insts[i];
        rc = rc ? rc : xgw__buf_append_str(b, i ? ",{\"exchange\":" : "{\"exchange\":");
        rc = rc ? rc : json_str(b, in->exchange);
        rc = rc ? rc
                : xgw__buf_printf(b, ",\"inflight\":%lld,\"markets_loads\":%llu,",
                                  (long long)atomic_load_explicit(&in->m->inflight, memory_order_relaxed),
                                  (unsigned long long)ld(&in->m->markets_loads));
        rc = rc ? rc : json_resilience_inst(b, in->m);
        rc = rc ? rc : xgw__buf_append_str(b, ",\"endpoints\":[");
        for (size_t e = 0; !rc && e < in->n_eps; e++) {
            const struct xgw__ep_metrics *m = in->eps[e];
            rc = rc ? rc : xgw__buf_append_str(b, e ? ",{\"endpoint\":" : "{\"endpoint\":");
            rc = rc ? rc : json_str(b, m->endpoint);
            rc = rc ? rc
                    : xgw__buf_printf(b,
                                      ",\"bytes_in\":%llu,\"bytes_out\":%llu,\"connections_opened\":%llu,"
                                      "\"connections_reused\":%llu,\"connections_closed\":%llu",
                                      (unsigned long long)ld(&m->bytes_in), (unsigned long long)ld(&m->bytes_out),
                                      (unsigned long long)ld(&m->conn_opened),
                                      (unsigned long long)ld(&m->conn_reused),
                                      (unsigned long long)ld(&m->conn_closed));
            /* the resilience members go before "ops", which is an object of its own */
            rc = rc ? rc : json_resilience_ep(b, m);
            rc = rc ? rc : xgw__buf_append_str(b, ",\"ops\":{");
            bool first_op = true;
            for (size_t op = 0; !rc && op < XGW_OP__COUNT; op++) {
                const struct xgw__op_metrics *o = &m->ops[op];
                if (!op_used(o))
                    continue;
                rc = xgw__buf_printf(b, "%s\"%s\":{\"requests\":{", first_op ? "" : ",",
                                     xgw_op_name((enum xgw_op)op));
                first_op = false;
                bool first_k = true;
                for (int k = 0; !rc && k < XGW_ERR__COUNT; k++) {
                    uint64_t v = ld(&o->by_outcome[k]);
                    if (!v)
                        continue;
                    char tmp[32];
                    rc = xgw__buf_printf(b, "%s\"%s\":%llu", first_k ? "" : ",", outcome_name(k, tmp, sizeof tmp),
                                         (unsigned long long)v);
                    first_k = false;
                }
                uint64_t cnt = ld(&o->lat_count);
                rc = rc ? rc
                        : xgw__buf_printf(b,
                                          "},\"latency_ms\":{\"count\":%llu,\"sum\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
                                          "\"p99\":%.3f,\"max\":%.3f}}",
                                          (unsigned long long)cnt, (double)ld(&o->lat_sum_us) / 1000.0,
                                          (double)xgw__metrics_quantile_us(o, 0.50) / 1000.0,
                                          (double)xgw__metrics_quantile_us(o, 0.90) / 1000.0,
                                          (double)xgw__metrics_quantile_us(o, 0.99) / 1000.0,
                                          (double)ld(&o->lat_max_us) / 1000.0);
            }
            rc = rc ? rc : xgw__buf_append_str(b, "}}");
        }
        rc = rc ? rc : xgw__buf_append_str(b, "]}");
    }
    return rc ? rc : xgw__buf_append_str(b, "]"); /* the object is closed by xgw__metrics_render */
}

/* ---- Prometheus text exposition 0.0.4 -------------------------------------- */

static int prom_head(struct xgw_buf *b, const char *name, const char *type, const char *help)
{
    return xgw__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{exchange="..",endpoint=".."[,extra] */
static int prom_labels(struct xgw_buf *b, const char *name, const char *exchange, const char *endpoint)
{
    int rc = xgw__buf_printf(b, "%s{exchange=\"", name);
    rc = rc ? rc : prom_label(b, exchange);
    if (endpoint) {
        rc = rc ? rc : xgw__buf_append_str(b, "\",endpoint=\"");
        rc = rc ? rc : prom_label(b, endpoint);
    }
    return rc ? rc : xgw__buf_append_str(b, "\"");
}

enum ep_field { F_BYTES_IN, F_BYTES_OUT, F_OPENED, F_REUSED, F_CLOSED };

static uint64_t ep_field(const struct xgw__ep_metrics *m, enum ep_field f)
{
    switch (f) {
    case F_BYTES_IN: return ld(&m->bytes_in);
    case F_BYTES_OUT: return ld(&m->bytes_out);
    case F_OPENED: return ld(&m->conn_opened);
    case F_REUSED: return ld(&m->conn_reused);
    case F_CLOSED: return ld(&m->conn_closed);
    }
    return 0;
}

/* Breakers, failover, health checks, retries and rate limits. */
static int prom_resilience(const struct xgw__metrics_inst *insts, size_t n, struct xgw_buf *b)
{
    static const char *const brk[] = {"closed", "open", "half_open"};
    static const char *const hs[] = {"UNKNOWN", "HEALTHY", "DEGRADED", "UNHEALTHY"};
    int rc = prom_head(b, "xgw_breaker_state", "gauge",
                       "Circuit breaker state per endpoint: 1 for the current state, 0 for the others.");
    for (size_t i = 0; !rc && i < n; i++)
        for (size_t e = 0; !rc && e < insts[i].n_eps; e++) {
            const struct xgw__ep_metrics *m = insts[i].eps[e];
            int cur = atomic_load_explicit(&m->breaker_state, memory_order_relaxed);
            for (int k = 0; !m->pseudo && !rc && k < 3; k++) {
                rc = prom_labels(b, "xgw_breaker_state", m->exchange, m->endpoint);
                rc = rc ? rc : xgw__buf_printf(b, ",state=\"%s\"} %d\n", brk[k], cur == k);
            }
        }
    rc = rc ? rc : prom_head(b, "xgw_breaker_transitions_total", "counter", "Circuit breaker state changes, by new state.");
    for (size_t i = 0; !rc && i < n; i++)
        for (size_t e = 0; !rc && e < insts[i].n_eps; e++) {
            const struct xgw__ep_metrics *m = insts[i].eps[e];
            for (int k = 0; !m->pseudo && !rc && k < 3; k++) {
                rc = prom_labels(b, "xgw_breaker_transitions_total", m->exchange, m->endpoint);
                rc = rc ? rc
                        : xgw__buf_printf(b, ",to=\"%s\"} %llu\n", brk[k], (unsigned long long)ld(&m->breaker_entered[k]));
            }
        }
    rc = rc ? rc : prom_head(b, "xgw_endpoint_health", "gauge",
                             "Health of an endpoint from active checks: 1 for the current state, 0 for the others.");
    for (size_t i = 0; !rc && i < n; i++)
        for (size_t e = 0; !rc && e < insts[i].n_eps; e++) {
            const struct xgw__ep_metrics *m = insts[i].eps[e];
            int cur = atomic_load_explicit(&m->health_state, memory_order_relaxed);
            for (int k = 0; !m->pseudo && !rc && k < 4; k++) {
                if (k == 2)
                    continue; /* endpoints are never DEGRADED, instances are */
                rc = prom_labels(b, "xgw_endpoint_health", m->exchange, m->endpoint);
                rc = rc ? rc : xgw__buf_printf(b, ",state=\"%s\"} %d\n", hs[k], cur == k);
            }
        }
    static const struct {
        const char *name, *type, *help;
        int f;
    } epc[] = {
        {"xgw_breaker_denied_total", "counter", "Requests failed fast because every breaker was open.", 0},
        {"xgw_health_checks_total", "counter", "Active health checks sent.", 2},
        {"xgw_health_check_failures_total", "counter", "Active health checks that failed.", 3},
        {"xgw_health_check_latency_seconds", "gauge", "Round trip of the last successful health check.", 4},
    };
    for (size_t c = 0; !rc && c < sizeof epc / sizeof epc[0]; c++) {
        rc = prom_head(b, epc[c].name, epc[c].type, epc[c].help);
        for (size_t i = 0; !rc && i < n; i++)
            for (size_t e = 0; !rc && e < insts[i].n_eps; e++) {
                const struct xgw__ep_metrics *m = insts[i].eps[e];
                if (m->pseudo)
                    continue;
                rc = prom_labels(b, epc[c].name, m->exchange, m->endpoint);
                if (epc[c].f == 4)
                    rc = rc ? rc : xgw__buf_printf(b, "} %.6f\n", (double)ldi(&m->health_latency_us) / 1e6);
                else
                    rc = rc ? rc
                            : xgw__buf_printf(b, "} %llu\n",
                                              (unsigned long long)ld(epc[c].f == 0   ? &m->breaker_denied
                                                                     : epc[c].f == 2 ? &m->health_checks
                                                                                     : &m->health_failures));
            }
    }
    static const struct {
        const char *name, *help;
        size_t off;
    } inc[] = {
        {"xgw_retries_total", "Reads sent again after a transient failure.", offsetof(struct xgw__inst_metrics, retries)},
        {"xgw_order_lookups_total", "Order lookups by client id to resolve an unknown outcome.",
         offsetof(struct xgw__inst_metrics, order_lookups)},
        {"xgw_order_resends_total", "Orders sent again after the exchange proved them absent.",
         offsetof(struct xgw__inst_metrics, order_resends)},
        {"xgw_clock_resyncs_total", "Clock re-syncs after a timestamp refusal.",
         offsetof(struct xgw__inst_metrics, clock_resyncs)},
        {"xgw_rate_limit_waits_total", "Requests held back by the rate limiter, then sent.",
         offsetof(struct xgw__inst_metrics, rl_waits)},
        {"xgw_rate_limit_refused_total", "Requests refused by the rate limiter (nothing sent).",
         offsetof(struct xgw__inst_metrics, rl_refused)},
        {"xgw_rate_limit_429_total", "HTTP 429 answers from the exchange.", offsetof(struct xgw__inst_metrics, rl_429)},
        {"xgw_rate_limit_bans_total", "Bans (HTTP 418) from the exchange.", offsetof(struct xgw__inst_metrics, rl_bans)},
    };
    for (size_t c = 0; !rc && c < sizeof inc / sizeof inc[0]; c++) {
        rc = prom_head(b, inc[c].name, "counter", inc[c].help);
        for (size_t i = 0; !rc && i < n; i++) {
            const atomic_uint_fast64_t *v = (const atomic_uint_fast64_t *)(const void *)((const char *)insts[i].m + inc[c].off);
            rc = prom_labels(b, inc[c].name, insts[i].exchange, NULL);
            rc = rc ? rc : xgw__buf_printf(b, "} %llu\n", (unsigned long long)ld(v));
        }
    }
    rc = rc ? rc
            : prom_head(b, "xgw_failovers_total", "counter",
                        "Requests sent to endpoint `to` instead of `from` (the preferred one, or the previous attempt's).");
    for (size_t i = 0; !rc && i < n; i++) {
        const struct xgw__inst_metrics *im = insts[i].m;
        for (size_t from = 0; !rc && from < im->n_fo && from < insts[i].n_eps; from++)
            for (size_t to = 0; !rc && to < im->n_fo && to < insts[i].n_eps; to++) {
                if (from == to)
                    continue;
                rc = prom_labels(b, "xgw_failovers_total", insts[i].exchange, NULL);
                rc = rc ? rc : xgw__buf_append_str(b, ",from=\"");
                rc = rc ? rc : prom_label(b, insts[i].eps[from]->endpoint);
                rc = rc ? rc : xgw__buf_append_str(b, "\",to=\"");
                rc = rc ? rc : prom_label(b, insts[i].eps[to]->endpoint);
                rc = rc ? rc
                        : xgw__buf_printf(b, "\"} %llu\n", (unsigned long long)ld(&im->failovers[from * im->n_fo + to]));
            }
    }
    rc = rc ? rc : prom_head(b, "xgw_banned_until_seconds", "gauge", "End of the exchange's ban (unix seconds), 0 none.");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = prom_labels(b, "xgw_banned_until_seconds", insts[i].exchange, NULL);
        rc = rc ? rc : xgw__buf_printf(b, "} %.3f\n", (double)ldi(&insts[i].m->banned_until_ms) / 1e3);
    }
    static const char *const rlg[][2] = {
        {"xgw_rate_limit_used", "Units used in the bucket's current window, as counted here."},
        {"xgw_rate_limit_capacity", "Units the gateway allows per window (limit times rate_limit_margin)."},
    };
    for (size_t g = 0; !rc && g < 2; g++) {
        rc = prom_head(b, rlg[g][0], "gauge", rlg[g][1]);
        for (size_t i = 0; !rc && i < n; i++)
            for (size_t k = 0; !rc && k < insts[i].m->n_buckets && k < XGW__METRIC_BUCKETS; k++) {
                rc = prom_labels(b, rlg[g][0], insts[i].exchange, NULL);
                rc = rc ? rc : xgw__buf_append_str(b, ",bucket=\"");
                rc = rc ? rc : prom_label(b, insts[i].m->bucket_name[k] ? insts[i].m->bucket_name[k] : "");
                rc = rc ? rc
                        : xgw__buf_printf(b, "\"} %llu\n",
                                          g ? (unsigned long long)insts[i].m->bucket_capacity[k]
                                            : (unsigned long long)ldi(&insts[i].m->rl_used[k]));
            }
    }
    return rc;
}

static int render_prom(const struct xgw__gw_metrics *g, const struct xgw__metrics_inst *insts, size_t n,
                       struct xgw_buf *b)
{
    int rc = prom_head(b, "xgw_calls_submitted_total", "counter", "Calls accepted by xgw_call.");
    rc = rc ? rc : xgw__buf_printf(b, "xgw_calls_submitted_total %llu\n", (unsigned long long)ld(&g->calls_submitted));
    rc = rc ? rc : prom_head(b, "xgw_calls_completed_total", "counter", "Calls whose callback has run.");
    rc = rc ? rc : xgw__buf_printf(b, "xgw_calls_completed_total %llu\n", (unsigned long long)ld(&g->calls_completed));
    rc = rc ? rc : prom_head(b, "xgw_calls_cancelled_total", "counter", "Calls completed as CANCELLED at shutdown.");
    rc = rc ? rc : xgw__buf_printf(b, "xgw_calls_cancelled_total %llu\n", (unsigned long long)ld(&g->calls_cancelled));
    rc = rc ? rc : prom_head(b, "xgw_calls_refused_total", "counter", "Calls that could not be queued.");
    rc = rc ? rc : xgw__buf_printf(b, "xgw_calls_refused_total %llu\n", (unsigned long long)ld(&g->calls_refused));
    rc = rc ? rc : prom_head(b, "xgw_uptime_seconds", "gauge", "Seconds since the gateway was opened.");
    rc = rc ? rc
            : xgw__buf_printf(b, "xgw_uptime_seconds %lld\n", (long long)((xgw__wall_ms() - g->started_ms) / 1000));
    rc = rc ? rc : prom_head(b, "xgw_exchanges", "gauge", "Exchange instances of the gateway.");
    rc = rc ? rc : xgw__buf_printf(b, "xgw_exchanges %zu\n", n);

    rc = rc ? rc : prom_head(b, "xgw_inflight", "gauge", "Calls accepted and not yet completed, per instance.");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = prom_labels(b, "xgw_inflight", insts[i].exchange, NULL);
        rc = rc ? rc
                : xgw__buf_printf(b, "} %lld\n",
                                  (long long)atomic_load_explicit(&insts[i].m->inflight, memory_order_relaxed));
    }
    rc = rc ? rc : prom_head(b, "xgw_markets_loads_total", "counter", "Market list loads into the cache.");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = prom_labels(b, "xgw_markets_loads_total", insts[i].exchange, NULL);
        rc = rc ? rc : xgw__buf_printf(b, "} %llu\n", (unsigned long long)ld(&insts[i].m->markets_loads));
    }

    static const struct {
        const char *name;
        const char *help;
        enum ep_field f;
    } ep_counters[] = {
        {"xgw_bytes_received_total", "Response bytes (headers and body) received.", F_BYTES_IN},
        {"xgw_bytes_sent_total", "Request bytes (headers and body) sent.", F_BYTES_OUT},
        {"xgw_connections_opened_total", "Connections opened by requests.", F_OPENED},
        {"xgw_connections_reused_total", "Requests that reused a pooled connection.", F_REUSED},
        {"xgw_connections_closed_total", "Connections closed.", F_CLOSED},
    };
    for (size_t c = 0; !rc && c < sizeof ep_counters / sizeof ep_counters[0]; c++) {
        rc = prom_head(b, ep_counters[c].name, "counter", ep_counters[c].help);
        for (size_t i = 0; !rc && i < n; i++)
            for (size_t e = 0; !rc && e < insts[i].n_eps; e++) {
                const struct xgw__ep_metrics *m = insts[i].eps[e];
                rc = prom_labels(b, ep_counters[c].name, m->exchange, m->endpoint);
                rc = rc ? rc : xgw__buf_printf(b, "} %llu\n", (unsigned long long)ep_field(m, ep_counters[c].f));
            }
    }

    rc = rc ? rc : prom_head(b, "xgw_requests_total", "counter", "Requests by operation and outcome kind.");
    for (size_t i = 0; !rc && i < n; i++)
        for (size_t e = 0; !rc && e < insts[i].n_eps; e++) {
            const struct xgw__ep_metrics *m = insts[i].eps[e];
            for (size_t op = 0; !rc && op < XGW_OP__COUNT; op++)
                for (int k = 0; !rc && k < XGW_ERR__COUNT; k++) {
                    uint64_t v = ld(&m->ops[op].by_outcome[k]);
                    if (!v)
                        continue;
                    char tmp[32];
                    rc = prom_labels(b, "xgw_requests_total", m->exchange, m->endpoint);
                    rc = rc ? rc
                            : xgw__buf_printf(b, ",op=\"%s\",outcome=\"%s\"} %llu\n", xgw_op_name((enum xgw_op)op),
                                              outcome_name(k, tmp, sizeof tmp), (unsigned long long)v);
                }
        }

    rc = rc ? rc
            : prom_head(b, "xgw_request_duration_seconds", "histogram",
                        "Request latency from send to answer, per operation.");
    for (size_t i = 0; !rc && i < n; i++)
        for (size_t e = 0; !rc && e < insts[i].n_eps; e++) {
            const struct xgw__ep_metrics *m = insts[i].eps[e];
            for (size_t op = 0; !rc && op < XGW_OP__COUNT; op++) {
                const struct xgw__op_metrics *o = &m->ops[op];
                uint64_t cnt = ld(&o->lat_count);
                if (!cnt)
                    continue;
                uint64_t cum = 0;
                for (size_t bk = 0; !rc && bk < XGW__LAT_BUCKETS; bk++) {
                    cum += ld(&o->lat_bucket[bk]);
                    rc = prom_labels(b, "xgw_request_duration_seconds_bucket", m->exchange, m->endpoint);
                    if (bk < XGW__LAT_BUCKETS - 1)
                        rc = rc ? rc
                                : xgw__buf_printf(b, ",op=\"%s\",le=\"%g\"} %llu\n", xgw_op_name((enum xgw_op)op),
                                                  (double)xgw__lat_bounds_us[bk] / 1e6, (unsigned long long)cum);
                    else
                        rc = rc ? rc
                                : xgw__buf_printf(b, ",op=\"%s\",le=\"+Inf\"} %llu\n",
                                                  xgw_op_name((enum xgw_op)op), (unsigned long long)cum);
                }
                rc = rc ? rc : prom_labels(b, "xgw_request_duration_seconds_sum", m->exchange, m->endpoint);
                rc = rc ? rc
                        : xgw__buf_printf(b, ",op=\"%s\"} %.6f\n", xgw_op_name((enum xgw_op)op),
                                          (double)ld(&o->lat_sum_us) / 1e6);
                rc = rc ? rc : prom_labels(b, "xgw_request_duration_seconds_count", m->exchange, m->endpoint);
                rc = rc ? rc
                        : xgw__buf_printf(b, ",op=\"%s\"} %llu\n", xgw_op_name((enum xgw_op)op),
                                          (unsigned long long)cum);
            }
        }

    rc = rc ? rc
            : prom_head(b, "xgw_request_duration_max_seconds", "gauge",
                        "Largest request latency seen, per operation.");
    for (size_t i = 0; !rc && i < n; i++)
        for (size_t e = 0; !rc && e < insts[i].n_eps; e++) {
            const struct xgw__ep_metrics *m = insts[i].eps[e];
            for (size_t op = 0; !rc && op < XGW_OP__COUNT; op++) {
                const struct xgw__op_metrics *o = &m->ops[op];
                if (!ld(&o->lat_count))
                    continue;
                rc = prom_labels(b, "xgw_request_duration_max_seconds", m->exchange, m->endpoint);
                rc = rc ? rc
                        : xgw__buf_printf(b, ",op=\"%s\"} %.6f\n", xgw_op_name((enum xgw_op)op),
                                          (double)ld(&o->lat_max_us) / 1e6);
            }
        }
    return rc ? rc : prom_resilience(insts, n, b);
}

int xgw__metrics_render(const struct xgw__gw_metrics *g, const struct xgw__metrics_inst *insts, size_t n,
                        enum xgw_metrics_format fmt, xgw__metrics_extra_fn extra, void *extra_ud, char **out)
{
    struct xgw_buf b = {0};
    int rc = fmt == XGW_METRICS_PROMETHEUS ? render_prom(g, insts, n, &b) : render_json(g, insts, n, &b);
    if (!rc && extra)
        rc = extra(extra_ud, fmt, &b);
    if (!rc && fmt != XGW_METRICS_PROMETHEUS)
        rc = xgw__buf_append_str(&b, "}\n");
    if (!rc && !b.data)
        rc = xgw__buf_append(&b, "", 0);
    if (rc) {
        xgw__buf_free(&b);
        *out = NULL;
        return XGW_ERR_INTERNAL;
    }
    *out = b.data; /* the buffer's block is a plain malloc'd string */
    return XGW_OK;
}
