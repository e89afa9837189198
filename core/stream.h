/*
 * core/stream.h — the stream manager behind xgw/stream.h (internal).
 *
 * One manager per exchange instance, created on the first subscription:
 * it owns the instance's WebSocket host (a vhost on the gateway's one lws
 * context, gw->ws, made on the first stream of any instance; core/ws.h), its connections,
 * the subscriptions' topics (one (channel, symbol) each), their order books
 * (core/book.h) and the stream metrics below. Everything but the metrics
 * and the subscription statistics lives on the loop thread.
 *
 * Mapping: topics are grouped by (private?, ws_route) and packed onto
 * connections of their group up to ws.max_subs_per_conn; a topic already
 * subscribed on a connection is never sent twice (a second subscription of
 * the same key shares the exchange-side stream).
 *
 * Lifecycle hooks the gateway must call (core/gateway.c):
 *   - xgw__streams_close(gw) at the start of xgw_close, once the closing
 *     thread has taken the loop over and before the HTTP pools are freed and
 *     plugins destroyed: it closes every connection, destroys the lws
 *     context (running the loop until libuv has closed its handles),
 *     frees every subscription and detaches pending internal calls (they
 *     complete later, as CANCELLED, without touching freed memory).
 *     Idempotent; also callable by hosts/tests before xgw_close.
 */
#ifndef XGW_CORE_STREAM_H
#define XGW_CORE_STREAM_H

#include <stdatomic.h>

#include "metrics.h"
#include "xgw/stream.h"

struct xgw__stream_ch_metrics {
    atomic_uint_fast64_t messages; /* records routed to a subscription */
    atomic_uint_fast64_t gaps;     /* GAP events (reconnects) + book sequence gaps */
    atomic_uint_fast64_t resyncs;  /* book snapshots requested after the first */
    atomic_uint_fast64_t dropped;
    /* exchange timestamp -> local receive, microseconds (same buckets as
     * request latency, xgw__lat_bounds_us) */
    atomic_uint_fast64_t lat_bucket[XGW__LAT_BUCKETS];
    atomic_uint_fast64_t lat_sum_us, lat_count, lat_max_us;
};

/* Per instance. Readable from any thread (relaxed atomics). */
struct xgw__stream_metrics {
    atomic_uint_fast64_t frames, bytes, parse_errors;
    atomic_uint_fast64_t connects, connect_failures, reconnects, stale_recycles, replacements;
    atomic_uint_fast64_t token_fetches, token_keepalives, reauths;
    atomic_int_fast64_t connections; /* open right now */
    struct xgw__stream_ch_metrics ch[XGW_CH_ORDERS + 1]; /* index: enum xgw_channel (0 unused) */
};

/* The instance's stream metrics, or NULL when it never had a stream. The
 * pointer stays valid until xgw__streams_close/xgw_close. Any thread. */
const struct xgw__stream_metrics *xgw__stream_metrics(const struct xgw_exchange *ex);

struct xgw_gateway;
void xgw__streams_close(struct xgw_gateway *gw);
/* Close one instance's streams (an in-place reload removes or replaces
 * it): its subscriptions are freed (callers drop their xgw_sub pointers
 * first), requests detached, connections closed and its vhost destroyed.
 * The caller drives the loop and is outside any loop callback; it runs the
 * loop until lws has closed the connections. The gateway's lws context
 * stays for the other instances. */
void xgw__streams_close_instance(struct xgw_exchange *ex);

#endif
