/*
 * core/streammetrics.c — the WebSocket stream families of xgw_metrics()
 * (core/stream.h keeps the counters). See streammetrics.h.
 *
 * Families, labelled by exchange (and channel):
 *   xgw_ws_connections                      gauge: connections open now
 *   xgw_ws_connects_total, _connect_failures_total, _reconnects_total,
 *   _stale_recycles_total, _replacements_total, _frames_total,
 *   _received_bytes_total, _parse_errors_total
 *   xgw_stream_messages_total{channel}       records routed to subscriptions
 *   xgw_stream_gaps_total{channel}          reconnect gaps + book sequence gaps
 *   xgw_stream_resyncs_total{channel}       book snapshots after the first
 *   xgw_stream_dropped_total{channel}       records not delivered
 *   xgw_stream_latency_seconds{channel}     histogram: exchange timestamp -> receipt
 * Instances that never had a stream are left out; with none, nothing is
 * written (a family without samples says nothing).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "gateway.h"
#include "streammetrics.h"
#include "stream.h"

static uint64_t ld(const atomic_uint_fast64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static const char *const ch_names[] = {"", "ticker", "trades", "book", "orders"};
#define N_CH (sizeof ch_names / sizeof ch_names[0])

enum wsf {
    WS_CONNECTS,
    WS_CONNECT_FAILURES,
    WS_RECONNECTS,
    WS_STALE,
    WS_REPLACEMENTS,
    WS_FRAMES,
    WS_BYTES,
    WS_PARSE
};

static const struct {
    const char *name, *help;
} ws_families[] = {
    {"xgw_ws_connects_total", "WebSocket connections established."},
    {"xgw_ws_connect_failures_total", "WebSocket connection attempts that failed."},
    {"xgw_ws_reconnects_total", "WebSocket reconnections after a lost connection."},
    {"xgw_ws_stale_recycles_total", "Connections recycled because a subscription was silent for ws_stale_s."},
    {"xgw_ws_replacements_total", "Connections replaced before the exchange's lifetime limit."},
    {"xgw_ws_frames_total", "WebSocket messages received."},
    {"xgw_ws_received_bytes_total", "WebSocket payload bytes received."},
    {"xgw_ws_parse_errors_total", "WebSocket messages the plugin could not parse."},
};

static uint64_t ws_value(const struct xgw__stream_metrics *m, enum wsf f)
{
    switch (f) {
    case WS_CONNECTS:
        return ld(&m->connects);
    case WS_CONNECT_FAILURES:
        return ld(&m->connect_failures);
    case WS_RECONNECTS:
        return ld(&m->reconnects);
    case WS_STALE:
        return ld(&m->stale_recycles);
    case WS_REPLACEMENTS:
        return ld(&m->replacements);
    case WS_FRAMES:
        return ld(&m->frames);
    case WS_BYTES:
        return ld(&m->bytes);
    case WS_PARSE:
        return ld(&m->parse_errors);
    }
    return 0;
}

enum chf { CH_MESSAGES, CH_GAPS, CH_RESYNCS, CH_DROPPED };

static const struct {
    const char *name, *help;
} ch_families[] = {
    {"xgw_stream_messages_total", "Stream records routed to subscriptions."},
    {"xgw_stream_gaps_total", "Stream gaps: reconnect windows and book sequence gaps."},
    {"xgw_stream_resyncs_total", "Book snapshots requested after the first (resyncs)."},
    {"xgw_stream_dropped_total", "Stream records not delivered (slow consumer, book across a gap)."},
};

static uint64_t ch_value(const struct xgw__stream_ch_metrics *c, enum chf f)
{
    switch (f) {
    case CH_MESSAGES:
        return ld(&c->messages);
    case CH_GAPS:
        return ld(&c->gaps);
    case CH_RESYNCS:
        return ld(&c->resyncs);
    case CH_DROPPED:
        return ld(&c->dropped);
    }
    return 0;
}

static bool ch_used(const struct xgw__stream_ch_metrics *c)
{
    return ld(&c->messages) || ld(&c->gaps) || ld(&c->lat_count);
}

static int render_prom(struct xgw_gateway *gw, struct xgw_buf *b)
{
    const struct xgw__stream_metrics *ms[64];
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < gw->n_exchanges && n < 64; i++) {
        const struct xgw__stream_metrics *m = xgw__stream_metrics(gw->exchanges[i]);
        if (m) {
            ms[n] = m;
            names[n++] = gw->exchanges[i]->cfg->name; /* an identifier: no escaping needed */
        }
    }
    if (n == 0)
        return 0;
    int rc = xgw__buf_append_str(b, "# HELP xgw_ws_connections WebSocket connections open now.\n"
                                    "# TYPE xgw_ws_connections gauge\n");
    for (size_t i = 0; !rc && i < n; i++)
        rc = xgw__buf_printf(b, "xgw_ws_connections{exchange=\"%s\"} %lld\n", names[i],
                             (long long)atomic_load_explicit(&ms[i]->connections, memory_order_relaxed));
    for (size_t f = 0; !rc && f < sizeof ws_families / sizeof ws_families[0]; f++) {
        rc = xgw__buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", ws_families[f].name, ws_families[f].help,
                             ws_families[f].name);
        for (size_t i = 0; !rc && i < n; i++)
            rc = xgw__buf_printf(b, "%s{exchange=\"%s\"} %llu\n", ws_families[f].name, names[i],
                                 (unsigned long long)ws_value(ms[i], (enum wsf)f));
    }
    for (size_t f = 0; !rc && f < sizeof ch_families / sizeof ch_families[0]; f++) {
        rc = xgw__buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", ch_families[f].name, ch_families[f].help,
                             ch_families[f].name);
        for (size_t i = 0; !rc && i < n; i++)
            for (size_t ch = 1; !rc && ch < N_CH; ch++)
                if (ch_used(&ms[i]->ch[ch]))
                    rc = xgw__buf_printf(b, "%s{exchange=\"%s\",channel=\"%s\"} %llu\n", ch_families[f].name,
                                         names[i], ch_names[ch],
                                         (unsigned long long)ch_value(&ms[i]->ch[ch], (enum chf)f));
    }
    rc = rc ? rc
            : xgw__buf_append_str(
                  b, "# HELP xgw_stream_latency_seconds Exchange event timestamp to local receipt.\n"
                     "# TYPE xgw_stream_latency_seconds histogram\n");
    for (size_t i = 0; !rc && i < n; i++)
        for (size_t ch = 1; !rc && ch < N_CH; ch++) {
            const struct xgw__stream_ch_metrics *c = &ms[i]->ch[ch];
            if (!ch_used(c))
                continue;
            uint64_t cum = 0;
            for (size_t k = 0; !rc && k < XGW__LAT_BUCKETS - 1; k++) {
                cum += ld(&c->lat_bucket[k]);
                rc = xgw__buf_printf(
                    b, "xgw_stream_latency_seconds_bucket{exchange=\"%s\",channel=\"%s\",le=\"%g\"} %llu\n",
                    names[i], ch_names[ch], (double)xgw__lat_bounds_us[k] / 1e6, (unsigned long long)cum);
            }
            cum += ld(&c->lat_bucket[XGW__LAT_BUCKETS - 1]);
            rc = rc ? rc
                    : xgw__buf_printf(
                          b,
                          "xgw_stream_latency_seconds_bucket{exchange=\"%s\",channel=\"%s\",le=\"+Inf\"} "
                          "%llu\n"
                          "xgw_stream_latency_seconds_sum{exchange=\"%s\",channel=\"%s\"} %.6f\n"
                          "xgw_stream_latency_seconds_count{exchange=\"%s\",channel=\"%s\"} %llu\n",
                          names[i], ch_names[ch], (unsigned long long)cum, names[i], ch_names[ch],
                          (double)ld(&c->lat_sum_us) / 1e6, names[i], ch_names[ch], (unsigned long long)cum);
        }
    return rc;
}

static int render_json(struct xgw_gateway *gw, struct xgw_buf *b)
{
    int rc = xgw__buf_append_str(b, ",\"streams\":[");
    bool first = true;
    for (size_t i = 0; !rc && i < gw->n_exchanges; i++) {
        const struct xgw__stream_metrics *m = xgw__stream_metrics(gw->exchanges[i]);
        if (!m)
            continue;
        rc = xgw__buf_printf(b, "%s{\"exchange\":", first ? "" : ",");
        first = false;
        const char *name = gw->exchanges[i]->cfg->name;
        rc = rc ? rc : xgw__buf_json_str(b, name, strlen(name));
        rc = rc ? rc
                : xgw__buf_printf(b, ",\"connections\":%lld",
                                  (long long)atomic_load_explicit(&m->connections, memory_order_relaxed));
        static const char *const ws_keys[] = {"connects", "connect_failures", "reconnects", "stale_recycles",
                                              "replacements", "frames", "bytes", "parse_errors"};
        for (size_t f = 0; !rc && f < sizeof ws_keys / sizeof ws_keys[0]; f++)
            rc = xgw__buf_printf(b, ",\"%s\":%llu", ws_keys[f], (unsigned long long)ws_value(m, (enum wsf)f));
        rc = rc ? rc : xgw__buf_append_str(b, ",\"channels\":{");
        bool first_ch = true;
        for (size_t ch = 1; !rc && ch < N_CH; ch++) {
            const struct xgw__stream_ch_metrics *c = &m->ch[ch];
            if (!ch_used(c))
                continue;
            uint64_t cnt = ld(&c->lat_count);
            rc = xgw__buf_printf(b,
                                 "%s\"%s\":{\"messages\":%llu,\"gaps\":%llu,\"resyncs\":%llu,\"dropped\":%llu,"
                                 "\"latency_ms\":{\"count\":%llu,\"mean\":%.3f,\"max\":%.3f}}",
                                 first_ch ? "" : ",", ch_names[ch], (unsigned long long)ld(&c->messages),
                                 (unsigned long long)ld(&c->gaps), (unsigned long long)ld(&c->resyncs),
                                 (unsigned long long)ld(&c->dropped), (unsigned long long)cnt,
                                 cnt ? (double)ld(&c->lat_sum_us) / (double)cnt / 1000.0 : 0.0,
                                 (double)ld(&c->lat_max_us) / 1000.0);
            first_ch = false;
        }
        rc = rc ? rc : xgw__buf_append_str(b, "}}");
    }
    return rc ? rc : xgw__buf_append_str(b, "]");
}

int xgw__streams_render(void *ud, enum xgw_metrics_format fmt, struct xgw_buf *b)
{
    struct xgw_gateway *gw = ud;
    return fmt == XGW_METRICS_PROMETHEUS ? render_prom(gw, b) : render_json(gw, b);
}
