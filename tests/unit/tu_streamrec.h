/*
 * tu_streamrec.h — test helper: a recorder of stream events shared by the
 * per-exchange stream tests. It counts events per kind and symbol (index 0:
 * BTCUSDT or BTC, 1: ETHUSDT or ETH), checks each one's basic sanity (a bid
 * below the ask, sorted book sides, positive trade prices, gap times in
 * order) counting violations in `bad`, and keeps the latest BTC book.
 */
#ifndef XGW_TU_STREAMREC_H
#define XGW_TU_STREAMREC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "xgw/stream.h"

struct tu_rec {
    pthread_mutex_t mu;
    /* what this exchange's events must carry */
    bool trade_ids;       /* trades have an id (Binance, Hyperliquid) */
    bool trade_sides;     /* trades have a side */
    bool books_after_gap; /* book events count as "data after a gap" too */

    long tickers[2], trades[2], books[2], gaps, states, bad, orders;
    long after_gap[2]; /* data events since the last gap event */
    char last_client_id[80];
    int64_t last_seq; /* BTC book: seq of the last delivered book (Binance: update id; others: time) */
    bool seq_went_back;
    struct xgw_level bids[20], asks[20];
    size_t nb, na;
};

void tu_rec_init(struct tu_rec *r, bool trade_ids, bool trade_sides, bool books_after_gap);
/* An xgw_event_fn; user is the struct tu_rec. */
void tu_rec_on_event(void *user, const struct xgw_event *ev);
/* One counter of r, read under its lock. */
long tu_rec_snap(struct tu_rec *r, const long *v);
/* Wait until every counter in v[0..n) is at least min, polling; false on timeout. */
bool tu_rec_wait(struct tu_rec *r, long *const *v, size_t n, long min, int ms);

#endif
