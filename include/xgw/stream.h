/*
 * xgw/stream.h — managed WebSocket streams for embedders.
 *
 * Subscribe an exchange instance to a channel (ticker, trades, book with a
 * depth, the account's orders) for one or more symbols; the core maps
 * subscriptions onto connections within the exchange's limits, reconnects
 * with capped exponential backoff and jitter, re-subscribes everything,
 * answers and sends heartbeats, recycles stale connections and keeps order
 * books consistent (REST snapshot + diffs, resync on any gap).
 *
 * Events are neutral (exact decimals, exchange timestamp, local receive
 * time, sequence numbers where the exchange has them). After a connection
 * came back, each affected subscription gets one XGW_EV_GAP event saying
 * from when to when it was down: anything the exchange published in that
 * window was missed (books are re-synced, never delivered across a gap).
 *
 * Threading: xgw_subscribe/xgw_unsubscribe/xgw_sub_stats may be called from
 * any thread, including from an event callback (unsubscribe from a
 * callback takes effect at once). Callbacks run on the gateway's loop
 * thread and must not block it; every pointer in an event is borrowed for
 * the duration of the callback.
 */
#ifndef XGW_STREAM_H
#define XGW_STREAM_H

#include "xgw/xgw.h"

#ifdef __cplusplus
extern "C" {
#endif

enum xgw_event_type {
    XGW_EV_TICKER = 1,
    XGW_EV_TRADE,
    XGW_EV_BOOK,     /* the book after an update: top levels (depth asked) */
    XGW_EV_ORDER,
    XGW_EV_BALANCE,
    XGW_EV_POSITION,
    XGW_EV_GAP,      /* the stream was down from gap_from_ms to gap_to_ms */
    XGW_EV_STATE,    /* the subscription changed state */
};

enum xgw_sub_state {
    XGW_SUB_CONNECTING = 0, /* first connection not yet live */
    XGW_SUB_LIVE,
    XGW_SUB_RESYNCING,      /* book: waiting for a fresh snapshot after a gap */
    XGW_SUB_RECONNECTING,   /* connection lost; backing off / reconnecting */
    XGW_SUB_CLOSED,         /* unsubscribed, or the gateway is closing */
};

XGW_EXPORT const char *xgw_sub_state_name(enum xgw_sub_state s); /* "connecting", "live", ... */

struct xgw_event {
    enum xgw_event_type type;
    const char *exchange;    /* instance name */
    enum xgw_channel channel;
    const char *symbol;      /* "" for account records without a symbol */
    int64_t ts_ms;           /* exchange timestamp, 0 unknown */
    int64_t recv_ts_ms;      /* local wall clock when the frame arrived */
    int64_t seq;             /* BOOK: last update id applied; 0 none */

    const struct xgw_ticker *ticker;     /* TICKER */
    const struct xgw_trade *trade;       /* TRADE */
    const struct xgw_order *order;       /* ORDER */
    const struct xgw_balance *balance;   /* BALANCE */
    const struct xgw_position *position; /* POSITION */

    /* BOOK: best first, at most the subscription's depth per side. */
    const struct xgw_level *bids;
    size_t n_bids;
    const struct xgw_level *asks;
    size_t n_asks;

    /* GAP */
    int64_t gap_from_ms, gap_to_ms;
    const char *reason;      /* GAP / STATE: short text */

    enum xgw_sub_state state; /* the subscription's state (STATE: the new one) */
};

typedef void (*xgw_event_fn)(void *user, const struct xgw_event *ev);

struct xgw_sub;

/* Subscribe ex to channel for symbols[0..n) (n == 0 for XGW_CH_ORDERS).
 * depth: BOOK levels per side delivered (0 = 20). Returns 0 and *out, or
 * an error kind with err filled (INVALID_REQUEST, UNSUPPORTED when the
 * plugin has no streams, AUTH when a private channel has no key,
 * CANCELLED when the gateway is closing). */
XGW_EXPORT int xgw_subscribe(struct xgw_exchange *ex, enum xgw_channel channel, const char *const *symbols,
                             size_t n, uint32_t depth, xgw_event_fn cb, void *user, struct xgw_sub **out,
                             struct xgw_error *err);
/* Stop and free sub. When it returns, cb is not called again (from another
 * thread it waits for the loop to acknowledge). NULL is a no-op. */
XGW_EXPORT void xgw_unsubscribe(struct xgw_sub *sub);

struct xgw_sub_stats {
    enum xgw_sub_state state;
    uint64_t events;      /* delivered to the callback */
    uint64_t messages;    /* stream records routed to this subscription */
    uint64_t gaps;
    uint64_t reconnects;
    uint64_t resyncs;
    uint64_t dropped;     /* records not delivered (queue full / book across a gap) */
    int64_t last_event_ms; /* local wall clock, 0 none */
};
XGW_EXPORT int xgw_sub_stats(const struct xgw_sub *sub, struct xgw_sub_stats *out);

/* ---- handing events to another thread ---- */

/* A bounded queue between the loop thread and one consumer thread: pass
 * xgw_evq_push as the xgw_subscribe callback and the queue as its user, and
 * pop copies from the consumer thread. Pushing never blocks the loop: when
 * the queue is full, a BOOK event replaces the queued book of the same
 * instance and symbol (book events carry the whole top of the book, so a
 * slow consumer sees fewer updates, never a book with a hole) and any other
 * event is dropped; both are counted. One queue may serve several
 * subscriptions. Free it after xgw_unsubscribe (or xgw_close). */
struct xgw_evq;
struct xgw_evq_stats {
    uint64_t pushed, popped;
    uint64_t dropped;   /* events lost because the queue was full (or out of memory) */
    uint64_t coalesced; /* book events that replaced a queued book instead */
    size_t depth, max;  /* queued now, capacity */
};
/* NULL when max_events is 0 or out of memory. Any thread. */
XGW_EXPORT struct xgw_evq *xgw_evq_new(size_t max_events);
XGW_EXPORT void xgw_evq_free(struct xgw_evq *q);
/* An xgw_event_fn: user is the struct xgw_evq. Loop thread. */
XGW_EXPORT void xgw_evq_push(void *user, const struct xgw_event *ev);
/* The oldest event, waiting up to timeout_ms (0: do not wait, < 0: forever).
 * Returns 1 with *out set (owned by the queue until the next pop or
 * xgw_evq_free), 0 on timeout, -1 on bad arguments. One consumer thread. */
XGW_EXPORT int xgw_evq_pop(struct xgw_evq *q, const struct xgw_event **out, int timeout_ms);
XGW_EXPORT void xgw_evq_stats(struct xgw_evq *q, struct xgw_evq_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* XGW_STREAM_H */
