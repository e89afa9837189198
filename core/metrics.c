/*
 * core/metrics.c — request counters, latency histograms and their JSON and
 * Prometheus text exposition. See metrics.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "metrics.h"

#include <ctype.h>
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
    uint64_t count = 0, b[XGW__LAT_BUCKETS];
    for (size_t i = 0; i < XGW__LAT_BUCKETS; i++)
        count += b[i] = ld(&m->lat_bucket[i]);
    if (count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)count + 0.999999);
    if (rank < 1)
        rank = 1;
    int64_t max = (int64_t)ld(&m->lat_max_us);
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
                : xgw__buf_printf(b, ",\"inflight\":%lld,\"markets_loads\":%llu,\"endpoints\":[",
                                  (long long)atomic_load_explicit(&in->m->inflight, memory_order_relaxed),
                                  (unsigned long long)ld(&in->m->markets_loads));
        for (size_t e = 0; !rc && e < in->n_eps; e++) {
            const struct xgw__ep_metrics *m = in->eps[e];
            rc = rc ? rc : xgw__buf_append_str(b, e ? ",{\"endpoint\":" : "{\"endpoint\":");
            rc = rc ? rc : json_str(b, m->endpoint);
            rc = rc ? rc
                    : xgw__buf_printf(b,
                                      ",\"bytes_in\":%llu,\"bytes_out\":%llu,\"connections_opened\":%llu,"
                                      "\"connections_reused\":%llu,\"connections_closed\":%llu,\"ops\":{",
                                      (unsigned long long)ld(&m->bytes_in), (unsigned long long)ld(&m->bytes_out),
                                      (unsigned long long)ld(&m->conn_opened),
                                      (unsigned long long)ld(&m->conn_reused),
                                      (unsigned long long)ld(&m->conn_closed));
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
    return rc ? rc : xgw__buf_append_str(b, "]}\n");
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
    return rc;
}

int xgw__metrics_render(const struct xgw__gw_metrics *g, const struct xgw__metrics_inst *insts, size_t n,
                        enum xgw_metrics_format fmt, char **out)
{
    struct xgw_buf b = {0};
    int rc = fmt == XGW_METRICS_PROMETHEUS ? render_prom(g, insts, n, &b) : render_json(g, insts, n, &b);
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
