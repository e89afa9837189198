/*
 * core/sink.h — the collector a plugin's parse()/ws_parse() emits records
 * into (internal). Arrays grow geometrically and keep their memory across
 * xgw__sink_reset(), so a steady request or stream path allocates nothing.
 */
#ifndef XGW_CORE_SINK_H
#define XGW_CORE_SINK_H

#include "xgw/plugin.h"

/* A book header with the ranges of its levels in the sink's bids/asks. */
struct xgw__sink_book {
    struct xgw_book_info info;
    size_t bid0, n_bids;
    size_t ask0, n_asks;
};

#define XGW__SINK_ARRAY(type, name) \
    type *name;                     \
    size_t n_##name, cap_##name

struct xgw_sink {
    bool has_time;
    int64_t time_ms;
    XGW__SINK_ARRAY(struct xgw_market, markets);
    XGW__SINK_ARRAY(struct xgw_ticker, tickers);
    XGW__SINK_ARRAY(struct xgw__sink_book, books);
    XGW__SINK_ARRAY(struct xgw_level, bids);
    XGW__SINK_ARRAY(struct xgw_level, asks);
    XGW__SINK_ARRAY(struct xgw_balance, balances);
    XGW__SINK_ARRAY(struct xgw_position, positions);
    XGW__SINK_ARRAY(struct xgw_order, orders);
    XGW__SINK_ARRAY(struct xgw_trade, trades);
    XGW__SINK_ARRAY(struct xgw_rl_usage, usage);
    XGW__SINK_ARRAY(struct xgw_ws_ack, acks);
    char *token; /* malloc'd, wiped and freed on reset */
    unsigned pongs;
    bool reauth;
    bool level_without_book; /* a BID/ASK came before any BOOK: a plugin bug */
};

struct xgw_sink *xgw__sink_new(void);
void xgw__sink_reset(struct xgw_sink *s);
void xgw__sink_free(struct xgw_sink *s);
/* The implementation of core->emit. */
int xgw__sink_emit(struct xgw_sink *s, enum xgw_rec type, const void *rec);

#endif
