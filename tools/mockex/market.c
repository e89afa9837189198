/*
 * market.c — the deterministic market generator.
 *
 * Each instrument's book is a contiguous ladder of MX_BOOK_DEPTH bid and ask
 * levels around a best bid that random-walks by whole ticks. Prices and
 * quantities are int64 units (ticks, lots), so every number the modules
 * print is exact. A step computes the new ladder, then the diff between the
 * old and the new ladder level by level; the diff gets the update ids
 * prev+1 .. prev+nchanges, so a client that applies "snapshot + diffs"
 * reproduces the book exactly. The same seed gives the same sequence.
 */
#include "mx_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mx_market {
    int n;
    struct mx_instr ins[MX_MAX_INSTR];
    struct mx_book book[MX_MAX_INSTR];
    uint64_t rng[MX_MAX_INSTR];
};

static void add_instr(struct mx_market *m, uint64_t seed, const char *base, const char *sym,
                      int pscale, int qscale, int64_t start_px, int64_t maxq)
{
    int i = m->n++;
    struct mx_instr *in = &m->ins[i];
    in->idx = i;
    strncpy(in->base, base, sizeof in->base - 1);
    strncpy(in->symbol, sym, sizeof in->symbol - 1);
    in->price_scale = pscale;
    in->qty_scale = qscale;
    in->start_px = start_px;
    in->max_level_qty = maxq;
    m->rng[i] = seed ^ (0x5bd1e995ULL * (uint64_t)(i + 1));
    struct mx_book *b = &m->book[i];
    b->best_bid = start_px;
    for (int k = 0; k < MX_BOOK_DEPTH; k++) {
        b->bid_qty[k] = mx_rng_range(&m->rng[i], 1, maxq);
        b->ask_qty[k] = mx_rng_range(&m->rng[i], 1, maxq);
    }
    b->update_id = 1000 + (uint64_t)mx_rng_range(&m->rng[i], 0, 999);
    b->open_px = b->high_px = b->low_px = b->last_px = start_px;
    /* the book exists from the start: a frozen market (--tick-ms 1 h) still
     * has a time, which Hyperliquid's l2Book carries as its sequence */
    b->time_ms = mx_wall_ms();
    b->trade_id = b->first_trade_id = 5000000 + (uint64_t)i * 1000000;
}

struct mx_market *mx__market_new(uint64_t seed)
{
    struct mx_market *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    /* BTC: tick 0.1, lot 0.001, around 65000; ETH: tick 0.01, lot 0.001, around 3500. */
    add_instr(m, seed, "BTC", "BTCUSDT", 1, 3, 650000, 5000);
    add_instr(m, seed, "ETH", "ETHUSDT", 2, 3, 350000, 50000);
    return m;
}

void mx__market_free(struct mx_market *m) { free(m); }

int mx_market_count(const struct mx_market *m) { return m->n; }

const struct mx_instr *mx_market_instr(const struct mx_market *m, int idx)
{
    return idx >= 0 && idx < m->n ? &m->ins[idx] : NULL;
}

const struct mx_instr *mx_market_find(const struct mx_market *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (!strcasecmp(m->ins[i].symbol, name) || !strcasecmp(m->ins[i].base, name))
            return &m->ins[i];
    return NULL;
}

const struct mx_book *mx_market_book(const struct mx_market *m, int idx)
{
    return idx >= 0 && idx < m->n ? &m->book[idx] : NULL;
}

int64_t mx_book_bid(const struct mx_book *b) { return b->best_bid; }
int64_t mx_book_ask(const struct mx_book *b) { return b->best_bid + 1; }

static int64_t old_qty(int64_t best, const int64_t *bid, const int64_t *ask, int is_bid, int64_t px)
{
    if (is_bid) {
        int64_t j = best - px;
        return j >= 0 && j < MX_BOOK_DEPTH ? bid[j] : 0;
    }
    int64_t j = px - (best + 1);
    return j >= 0 && j < MX_BOOK_DEPTH ? ask[j] : 0;
}

void mx__market_step(struct mx_market *m, int idx, int64_t now_ms, struct mx_step *st)
{
    struct mx_book *b = &m->book[idx];
    uint64_t *r = &m->rng[idx];
    const struct mx_instr *in = &m->ins[idx];
    int64_t obid[MX_BOOK_DEPTH], oask[MX_BOOK_DEPTH];
    memcpy(obid, b->bid_qty, sizeof obid);
    memcpy(oask, b->ask_qty, sizeof oask);
    int64_t obest = b->best_bid;

    int64_t u = mx_rng_range(r, 0, 99), delta = 0;
    if (u < 20)
        delta = -1;
    else if (u < 40)
        delta = 1;
    else if (u < 45)
        delta = -2;
    else if (u < 50)
        delta = 2;
    /* keep the walk within +-30% of the start so long runs stay sane */
    if (obest + delta < in->start_px * 7 / 10 || obest + delta > in->start_px * 13 / 10)
        delta = obest > in->start_px ? -1 : 1;
    int64_t nbest = obest + delta;

    for (int i = 0; i < MX_BOOK_DEPTH; i++) {
        int64_t q = old_qty(obest, obid, oask, 1, nbest - i);
        b->bid_qty[i] = q ? q : mx_rng_range(r, 1, in->max_level_qty);
        q = old_qty(obest, obid, oask, 0, nbest + 1 + i);
        b->ask_qty[i] = q ? q : mx_rng_range(r, 1, in->max_level_qty);
    }
    int nperturb = (int)mx_rng_range(r, 1, 4);
    for (int k = 0; k < nperturb; k++) {
        int side = (int)mx_rng_range(r, 0, 1);
        int lvl = (int)mx_rng_range(r, 0, 19);
        int64_t q = mx_rng_range(r, 1, in->max_level_qty);
        if (side)
            b->bid_qty[lvl] = q;
        else
            b->ask_qty[lvl] = q;
    }
    b->best_bid = nbest;

    /* diff, bids best first (descending), asks best first (ascending) */
    st->ins = in;
    st->nbids = st->nasks = 0;
    int64_t hi = (obest > nbest ? obest : nbest) + 1 + MX_BOOK_DEPTH;
    int64_t lo = (obest < nbest ? obest : nbest) - MX_BOOK_DEPTH;
    for (int64_t px = hi; px >= lo; px--) {
        int64_t oq = old_qty(obest, obid, oask, 1, px);
        int64_t nq = old_qty(nbest, b->bid_qty, b->ask_qty, 1, px);
        if (oq != nq)
            st->bids[st->nbids++] = (struct mx_level){px, nq};
    }
    for (int64_t px = lo; px <= hi; px++) {
        int64_t oq = old_qty(obest, obid, oask, 0, px);
        int64_t nq = old_qty(nbest, b->bid_qty, b->ask_qty, 0, px);
        if (oq != nq)
            st->asks[st->nasks++] = (struct mx_level){px, nq};
    }
    int nchg = st->nbids + st->nasks;
    st->prev_id = b->update_id;
    st->first_id = b->update_id + 1;
    st->last_id = b->update_id + (uint64_t)(nchg ? nchg : 1);
    b->update_id = st->last_id;
    b->time_ms = now_ms;
    st->time_ms = now_ms;

    /* a trade: the walk moved because someone took the old best level */
    st->has_trade = 0;
    if (delta != 0 || mx_rng_range(r, 0, 9) < 3) {
        int buy = delta > 0 || (delta == 0 && mx_rng_range(r, 0, 1));
        st->has_trade = 1;
        st->trade_px = buy ? obest + 1 : obest;
        st->trade_qty = mx_rng_range(r, 1, in->max_level_qty / 4 + 1);
        st->trade_buyer_maker = !buy;
        st->trade_id = ++b->trade_id;
        b->last_px = st->trade_px;
        b->last_qty = st->trade_qty;
        if (st->trade_px > b->high_px)
            b->high_px = st->trade_px;
        if (st->trade_px < b->low_px)
            b->low_px = st->trade_px;
        b->volume += st->trade_qty;
        b->quote_volume += st->trade_px * st->trade_qty;
    }
}
