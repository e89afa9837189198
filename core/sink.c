/*
 * core/sink.c — the record collector behind core->emit. See sink.h.
 *
 * Records are copied by value into per-type arrays. Arrays grow
 * geometrically and keep their memory across xgw__sink_reset(): a steady
 * request or stream path reuses the same sink and allocates nothing.
 */
#include "sink.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

struct xgw_sink *xgw__sink_new(void) { return calloc(1, sizeof(struct xgw_sink)); }

/* The array `arr` (cap elements of size elem) reallocated to twice its
 * size; NULL when out of memory (arr is then untouched). */
static void *grow(void *arr, size_t cap, size_t elem, size_t *ncap)
{
    size_t n = cap ? cap * 2 : 8;
    if (n > SIZE_MAX / elem)
        return NULL;
    void *p = realloc(arr, n * elem);
    if (p)
        *ncap = n;
    return p;
}

#define PUSH(s, name, rec)                                                                \
    do {                                                                                  \
        if ((s)->n_##name == (s)->cap_##name) {                                           \
            size_t ncap_ = 0;                                                             \
            void *p_ = grow((s)->name, (s)->cap_##name, sizeof *(s)->name, &ncap_);       \
            if (!p_)                                                                      \
                return XGW_ERR_INTERNAL;                                                  \
            (s)->name = p_;                                                               \
            (s)->cap_##name = ncap_;                                                      \
        }                                                                                 \
        memcpy(&(s)->name[(s)->n_##name++], (rec), sizeof *(s)->name);                    \
    } while (0)

static int push_level(struct xgw_sink *s, bool bid, const struct xgw_level *lv)
{
    if (s->n_books == 0) {
        /* A level without a book header is a plugin bug; the caller
         * reports it (level_without_book) instead of guessing a book. */
        s->level_without_book = true;
        return XGW_ERR_INTERNAL;
    }
    struct xgw__sink_book *bk = &s->books[s->n_books - 1];
    if (bid) {
        PUSH(s, bids, lv);
        bk->n_bids++;
    } else {
        PUSH(s, asks, lv);
        bk->n_asks++;
    }
    return XGW_OK;
}

static void drop_token(struct xgw_sink *s)
{
    if (s->token) {
        xgw__secure_zero(s->token, strlen(s->token));
        free(s->token);
        s->token = NULL;
    }
}

int xgw__sink_emit(struct xgw_sink *s, enum xgw_rec type, const void *rec)
{
    if (!s)
        return XGW_ERR_INTERNAL;
    /* Every record but these two carries data. */
    if (!rec && type != XGW_REC_WS_PONG && type != XGW_REC_WS_REAUTH)
        return XGW_ERR_INTERNAL;
    switch (type) {
    case XGW_REC_TIME:
        s->has_time = true;
        s->time_ms = *(const int64_t *)rec;
        return XGW_OK;
    case XGW_REC_MARKET: PUSH(s, markets, rec); return XGW_OK;
    case XGW_REC_TICKER: PUSH(s, tickers, rec); return XGW_OK;
    case XGW_REC_BOOK: {
        struct xgw__sink_book bk;
        memcpy(&bk.info, rec, sizeof bk.info);
        bk.bid0 = s->n_bids;
        bk.ask0 = s->n_asks;
        bk.n_bids = bk.n_asks = 0;
        PUSH(s, books, &bk);
        return XGW_OK;
    }
    case XGW_REC_BID: return push_level(s, true, rec);
    case XGW_REC_ASK: return push_level(s, false, rec);
    case XGW_REC_BALANCE: PUSH(s, balances, rec); return XGW_OK;
    case XGW_REC_POSITION: PUSH(s, positions, rec); return XGW_OK;
    case XGW_REC_ORDER: PUSH(s, orders, rec); return XGW_OK;
    case XGW_REC_TRADE: PUSH(s, trades, rec); return XGW_OK;
    case XGW_REC_RL_USAGE: PUSH(s, usage, rec); return XGW_OK;
    case XGW_REC_TOKEN: {
        const char *t = rec;
        size_t n = strlen(t);
        char *copy = malloc(n + 1);
        if (!copy)
            return XGW_ERR_INTERNAL;
        memcpy(copy, t, n + 1);
        drop_token(s); /* the last token wins */
        s->token = copy;
        return XGW_OK;
    }
    case XGW_REC_WS_ACK: PUSH(s, acks, rec); return XGW_OK;
    case XGW_REC_WS_PONG: s->pongs++; return XGW_OK;
    case XGW_REC_WS_REAUTH: s->reauth = true; return XGW_OK;
    case XGW_REC__COUNT: break;
    }
    return XGW_ERR_INTERNAL; /* unknown record type: a plugin bug */
}

void xgw__sink_reset(struct xgw_sink *s)
{
    if (!s)
        return;
    s->has_time = false;
    s->time_ms = 0;
    s->n_markets = s->n_tickers = s->n_books = s->n_bids = s->n_asks = 0;
    s->n_balances = s->n_positions = s->n_orders = s->n_trades = s->n_usage = s->n_acks = 0;
    drop_token(s);
    s->pongs = 0;
    s->reauth = false;
    s->level_without_book = false;
}

void xgw__sink_free(struct xgw_sink *s)
{
    if (!s)
        return;
    drop_token(s);
    free(s->markets);
    free(s->tickers);
    free(s->books);
    free(s->bids);
    free(s->asks);
    free(s->balances);
    free(s->positions);
    free(s->orders);
    free(s->trades);
    free(s->usage);
    free(s->acks);
    free(s);
}
