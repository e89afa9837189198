/*
 * tu_streamrec.c — see tu_streamrec.h.
 */
#define _DEFAULT_SOURCE
#include "tu_streamrec.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void tu_rec_init(struct tu_rec *r, bool trade_ids, bool trade_sides, bool books_after_gap)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->trade_ids = trade_ids;
    r->trade_sides = trade_sides;
    r->books_after_gap = books_after_gap;
}

static int sym_ix(const char *s)
{
    return !strcmp(s, "BTCUSDT") || !strcmp(s, "BTC") ? 0 : !strcmp(s, "ETHUSDT") || !strcmp(s, "ETH") ? 1 : -1;
}

static bool book_ok(const struct xgw_event *ev)
{
    bool ok = ev->n_bids > 0 && ev->n_asks > 0 && ev->n_bids <= 20 && ev->n_asks <= 20 &&
              xgw_dec_cmp(ev->bids[0].price, ev->asks[0].price) < 0;
    for (size_t k = 1; ok && k < ev->n_bids; k++)
        ok = xgw_dec_cmp(ev->bids[k - 1].price, ev->bids[k].price) > 0;
    for (size_t k = 1; ok && k < ev->n_asks; k++)
        ok = xgw_dec_cmp(ev->asks[k - 1].price, ev->asks[k].price) < 0;
    return ok;
}

void tu_rec_on_event(void *user, const struct xgw_event *ev)
{
    struct tu_rec *r = user;
    pthread_mutex_lock(&r->mu);
    int i = ev->symbol ? sym_ix(ev->symbol) : -1;
    switch (ev->type) {
    case XGW_EV_TICKER:
        if (i < 0 || xgw_dec_is_none(ev->ticker->bid) || xgw_dec_is_none(ev->ticker->ask) ||
            xgw_dec_cmp(ev->ticker->bid, ev->ticker->ask) >= 0 || ev->recv_ts_ms <= 0)
            r->bad++;
        else
            r->tickers[i]++, r->after_gap[i]++;
        break;
    case XGW_EV_TRADE:
        if (i < 0 || xgw_dec_sign(ev->trade->price) <= 0 || xgw_dec_sign(ev->trade->qty) <= 0 ||
            (r->trade_ids && !ev->trade->trade_id[0]) || (r->trade_sides && ev->trade->side == XGW_SIDE_NONE) ||
            (!r->trade_ids && ev->ts_ms <= 0)) /* without an id a trade needs at least its time */
            r->bad++;
        else
            r->trades[i]++;
        break;
    case XGW_EV_BOOK:
        if (i < 0 || !book_ok(ev)) {
            r->bad++;
            break;
        }
        r->books[i]++;
        if (r->books_after_gap)
            r->after_gap[i]++;
        if (i == 0) {
            if (ev->seq < r->last_seq)
                r->seq_went_back = true;
            r->last_seq = ev->seq;
            r->nb = ev->n_bids;
            r->na = ev->n_asks;
            memcpy(r->bids, ev->bids, ev->n_bids * sizeof *ev->bids);
            memcpy(r->asks, ev->asks, ev->n_asks * sizeof *ev->asks);
        }
        break;
    case XGW_EV_GAP:
        if (ev->gap_from_ms <= 0 || ev->gap_to_ms < ev->gap_from_ms || !ev->reason)
            r->bad++;
        r->gaps++;
        r->after_gap[0] = r->after_gap[1] = 0;
        break;
    case XGW_EV_STATE:
        r->states++;
        break;
    case XGW_EV_ORDER:
        r->orders++;
        snprintf(r->last_client_id, sizeof r->last_client_id, "%s", ev->order->client_id);
        break;
    case XGW_EV_BALANCE:
    case XGW_EV_POSITION:
        break;
    default:
        r->bad++;
    }
    pthread_mutex_unlock(&r->mu);
}

long tu_rec_snap(struct tu_rec *r, const long *v)
{
    pthread_mutex_lock(&r->mu);
    long x = *v;
    pthread_mutex_unlock(&r->mu);
    return x;
}

bool tu_rec_wait(struct tu_rec *r, long *const *v, size_t n, long min, int ms)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++)
            ok = tu_rec_snap(r, v[i]) >= min;
        if (ok)
            return true;
        usleep(20000);
    }
    return false;
}
