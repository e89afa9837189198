/*
 * core/book.c — L2 order book upkeep. See book.h for the sequencing rules.
 *
 * Representation. Prices become int64 "ticks" at one per-book decimal scale
 * S: tick = price * 10^S. Comparing two int64 is what makes a binary search
 * over a side cheap next to parsing the frame; comparing xgw_dec values
 * (different scales, a multiplication each time) is not. S is the smallest
 * scale at which every kept price is an integer: a snapshot recomputes it
 * from its own prices, and a diff carrying a finer price raises it for the
 * whole book (every tick multiplied by 10^d, refused with ERROR if that would
 * overflow int64). A coarser or equal price never lowers it, so the common
 * case (an exchange that always writes the same number of decimals) never
 * rescales after the first snapshot. The scale the exchange wrote is kept per
 * level, so top() gives back the exact text the exchange sent ("4.00000000").
 * A zero-qty removal whose price is finer than S cannot match a kept level and
 * is a no-op rather than a reason to rescale.
 *
 * Sides. A side is one array of `cap` = max_depth + slack entries holding the
 * kept levels in [lo, hi), sorted by key ascending, the BEST level at hi - 1
 * (key = tick for bids, -tick for asks, so one comparison serves both).
 * Levels near the top change most, and removals of the farthest level (depth
 * cap) are just lo++; an insert or removal moves whichever part — toward the
 * top or toward the far end — is shorter, into the free room on that side.
 * When that room runs out the block is re-centred (O(depth), at most once per
 * slack/2 inserts). A tree or skip list would bound the worst case better but
 * costs pointer chasing and allocation on every insert; with at most a few
 * thousand 24-byte entries, memmove of the short part is cheaper.
 */
#include "book.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define DEF_DEPTH 1000u
#define DEF_BUF_MSGS 1024u
#define DEF_BUF_LEVELS 262144u
#define DEF_STALE_RUN 256u
#define MIN_SLACK 64u

static const int64_t P10[19] = {
    1LL,
    10LL,
    100LL,
    1000LL,
    10000LL,
    100000LL,
    1000000LL,
    10000000LL,
    100000000LL,
    1000000000LL,
    10000000000LL,
    100000000000LL,
    1000000000000LL,
    10000000000000LL,
    100000000000000LL,
    1000000000000000LL,
    10000000000000000LL,
    100000000000000000LL,
    1000000000000000000LL,
};

/* One kept level: 24 bytes, so memmove of a few hundred is a few KB. */
struct lvl {
    int64_t key; /* tick (bids) or -tick (asks) */
    int64_t qmant;
    int32_t qscale;
    int32_t pscale; /* the scale the exchange wrote the price with */
};

struct side {
    struct lvl *v;
    size_t lo, hi, cap;
    bool ask;
};

/* A buffered diff; its levels are lv[off .. off + nb + na) of the FIFO. */
struct bufmsg {
    struct xgw_book_info info;
    size_t off;
    uint32_t nb, na;
};

struct xgw__book {
    enum xgw_book_model model;
    struct xgw__book_opts o;
    enum xgw__book_state state;
    enum xgw__book_reason reason;
    int32_t scale; /* S: ticks are price * 10^S */
    struct side bid, ask;
    int64_t seq, ts;
    bool need_first; /* DIFFS: no diff applied since the snapshot yet */
    uint32_t stale_run;
    struct xgw__book_stats st;

    /* Converted levels of the message being applied (bids first). */
    struct lvl *scr;
    size_t scr_cap, scr_nb, scr_na;

    /* FIFO of diffs waiting for a snapshot: messages [mhead, mlen), their
     * levels [lvhead, lvlen). Both compact toward 0 when they reach the end. */
    struct bufmsg *m;
    size_t mhead, mlen, mcap;
    struct xgw_level *lv;
    size_t lvhead, lvlen, lvcap;
};

/* ------------------------------------------------------------------------ */
/* Decimal <-> tick                                                          */
/* ------------------------------------------------------------------------ */

static bool dec_ok(xgw_dec d)
{
    return d.scale >= 0 && d.scale <= XGW_DEC_MAX_SCALE && d.mant >= 0;
}

/* The smallest scale >= cur at which d is an integer number of ticks. */
static int32_t needed_scale(xgw_dec d, int32_t cur)
{
    if (d.scale <= cur)
        return cur;
    int32_t s = d.scale;
    int64_t m = d.mant;
    while (s > cur && m % 10 == 0) {
        m /= 10;
        s--;
    }
    return s;
}

/* d as ticks at scale S; false when d is finer than S or overflows. */
static bool to_tick(xgw_dec d, int32_t S, int64_t *out)
{
    if (d.scale <= S) {
        int64_t k = P10[S - d.scale];
        if (d.mant > INT64_MAX / k)
            return false;
        *out = d.mant * k;
        return true;
    }
    int64_t k = P10[d.scale - S];
    if (d.mant % k != 0)
        return false;
    *out = d.mant / k;
    return true;
}

static xgw_dec lvl_price(const struct side *s, const struct lvl *e, int32_t S)
{
    int64_t tick = s->ask ? -e->key : e->key;
    xgw_dec d;
    d.scale = e->pscale;
    /* Exact both ways: tick * 10^(pscale - S) is the mantissa the exchange
     * sent, which fitted in int64. */
    d.mant = e->pscale >= S ? tick * P10[e->pscale - S] : tick / P10[S - e->pscale];
    return d;
}

static xgw_dec lvl_qty(const struct lvl *e)
{
    xgw_dec d = {e->qmant, e->qscale};
    return d;
}

/* ------------------------------------------------------------------------ */
/* Sides                                                                     */
/* ------------------------------------------------------------------------ */

static size_t side_count(const struct side *s)
{
    return s->hi - s->lo;
}

static void side_reset(struct side *s)
{
    s->lo = s->hi = s->cap / 2;
}

/* Move the block to the middle of the array; returns the shift applied. */
static ptrdiff_t side_recenter(struct side *s)
{
    size_t n = side_count(s);
    size_t nlo = (s->cap - n) / 2;
    ptrdiff_t delta = (ptrdiff_t)nlo - (ptrdiff_t)s->lo;
    if (delta != 0 && n > 0)
        memmove(&s->v[nlo], &s->v[s->lo], n * sizeof s->v[0]);
    s->lo = nlo;
    s->hi = nlo + n;
    return delta;
}

/* First index in [lo, hi) whose key is >= key (hi when none). Written
 * without a data-dependent branch (the ternary becomes a conditional move):
 * random prices make a branchy search mispredict on most of its ~10 steps,
 * which measured as the largest part of a diff's cost. */
static size_t side_lower_bound(const struct side *s, int64_t key)
{
    size_t n = s->hi - s->lo;
    if (n == 0)
        return s->lo;
    const struct lvl *p = &s->v[s->lo];
    while (n > 1) {
        size_t half = n / 2;
        p = p[half].key < key ? p + half : p;
        n -= half;
    }
    return (size_t)(p - s->v) + (p->key < key);
}

/* Insert e before index pos. Needs count < cap (guaranteed by the depth cap). */
static void side_insert(struct side *s, size_t pos, const struct lvl *e)
{
    size_t left = pos - s->lo, right = s->hi - pos;
    if (left < right) {
        if (s->lo == 0)
            pos = (size_t)((ptrdiff_t)pos + side_recenter(s));
        memmove(&s->v[s->lo - 1], &s->v[s->lo], left * sizeof s->v[0]);
        s->lo--;
        s->v[pos - 1] = *e;
    } else {
        if (s->hi == s->cap)
            pos = (size_t)((ptrdiff_t)pos + side_recenter(s));
        memmove(&s->v[pos + 1], &s->v[pos], right * sizeof s->v[0]);
        s->hi++;
        s->v[pos] = *e;
    }
}

static void side_remove(struct side *s, size_t pos)
{
    size_t left = pos - s->lo, right = s->hi - pos - 1;
    if (left < right) {
        memmove(&s->v[s->lo + 1], &s->v[s->lo], left * sizeof s->v[0]);
        s->lo++;
    } else {
        memmove(&s->v[pos], &s->v[pos + 1], right * sizeof s->v[0]);
        s->hi--;
    }
    if (s->lo == s->hi)
        side_reset(s);
}

/* Set one level (absolute qty; zero removes). */
static void side_set(struct side *s, const struct lvl *e, size_t max_depth)
{
    size_t pos = side_lower_bound(s, e->key);
    if (pos < s->hi && s->v[pos].key == e->key) {
        if (e->qmant == 0)
            side_remove(s, pos);
        else
            s->v[pos] = *e;
        return;
    }
    if (e->qmant == 0)
        return; /* removing a level we do not keep is normal (binance.md §7.9) */
    if (side_count(s) >= max_depth) {
        if (pos == s->lo)
            return; /* farther than everything on a full side */
        s->lo++;    /* drop the farthest to make room; pos stays valid */
    }
    side_insert(s, pos, e);
}

static bool side_alloc(struct side *s, uint32_t max_depth, bool ask)
{
    size_t slack = max_depth > MIN_SLACK ? max_depth : MIN_SLACK;
    s->cap = (size_t)max_depth + slack;
    s->v = malloc(s->cap * sizeof s->v[0]);
    s->ask = ask;
    side_reset(s);
    return s->v != NULL;
}

/* ------------------------------------------------------------------------ */
/* Conversion of one message into the scratch array                          */
/* ------------------------------------------------------------------------ */

static bool levels_ok(const struct xgw_level *l, size_t n)
{
    if (n > 0 && l == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!dec_ok(l[i].price) || !dec_ok(l[i].qty))
            return false;
    return true;
}

static bool scr_reserve(struct xgw__book *b, size_t n)
{
    if (n <= b->scr_cap)
        return true;
    size_t c = b->scr_cap ? b->scr_cap : 64;
    while (c < n)
        c *= 2;
    struct lvl *p = realloc(b->scr, c * sizeof *p);
    if (!p)
        return false;
    b->scr = p;
    b->scr_cap = c;
    return true;
}

/* Multiply every tick by 10^d; false (book untouched) when one overflows. */
static bool book_rescale(struct xgw__book *b, int32_t nscale)
{
    int64_t k = P10[nscale - b->scale];
    /* The largest ticks: the best bid and the farthest ask. */
    if (side_count(&b->bid) > 0 && b->bid.v[b->bid.hi - 1].key > INT64_MAX / k)
        return false;
    if (side_count(&b->ask) > 0 && -b->ask.v[b->ask.lo].key > INT64_MAX / k)
        return false;
    for (size_t i = b->bid.lo; i < b->bid.hi; i++)
        b->bid.v[i].key *= k;
    for (size_t i = b->ask.lo; i < b->ask.hi; i++)
        b->ask.v[i].key *= k;
    b->scale = nscale;
    return true;
}

/* Convert levels into b->scr. For a snapshot the scale is recomputed from its
 * prices and returned in *scale_out (the book is not touched); for a diff the
 * book is rescaled first when a finer price arrives. Zero-qty entries of a
 * snapshot are left out, and so are removals that cannot match a kept level.
 * Returns XGW__BOOK_R_NONE, BAD_MESSAGE or NO_MEMORY. */
static enum xgw__book_reason convert(struct xgw__book *b, bool snapshot, const struct xgw_level *bids,
                                     size_t nb, const struct xgw_level *asks, size_t na, int32_t *scale_out)
{
    if (!levels_ok(bids, nb) || !levels_ok(asks, na))
        return XGW__BOOK_R_BAD_MESSAGE;
    if (nb > SIZE_MAX / 2 / sizeof(struct lvl) || na > SIZE_MAX / 2 / sizeof(struct lvl) - nb ||
        !scr_reserve(b, nb + na))
        return XGW__BOOK_R_NO_MEMORY;
    int32_t S = snapshot ? 0 : b->scale;
    for (int side = 0; side < 2; side++) {
        const struct xgw_level *l = side ? asks : bids;
        size_t n = side ? na : nb;
        for (size_t i = 0; i < n; i++)
            if (l[i].qty.mant != 0)
                S = needed_scale(l[i].price, S);
    }
    if (!snapshot && S > b->scale && !book_rescale(b, S))
        return XGW__BOOK_R_BAD_MESSAGE;
    size_t k = 0;
    for (int side = 0; side < 2; side++) {
        const struct xgw_level *l = side ? asks : bids;
        size_t n = side ? na : nb;
        for (size_t i = 0; i < n; i++) {
            int64_t tick;
            bool zero = l[i].qty.mant == 0;
            if (zero && snapshot)
                continue;
            if (!to_tick(l[i].price, S, &tick)) {
                if (zero)
                    continue; /* cannot be a kept level */
                return XGW__BOOK_R_BAD_MESSAGE;
            }
            struct lvl *e = &b->scr[k++];
            e->key = side ? -tick : tick;
            e->qmant = l[i].qty.mant;
            e->qscale = l[i].qty.scale;
            e->pscale = l[i].price.scale;
        }
        if (side == 0)
            b->scr_nb = k;
    }
    b->scr_na = k - b->scr_nb;
    *scale_out = S;
    return XGW__BOOK_R_NONE;
}

static void apply_scratch(struct xgw__book *b)
{
    size_t depth = b->o.max_depth;
    for (size_t i = 0; i < b->scr_nb; i++)
        side_set(&b->bid, &b->scr[i], depth);
    for (size_t i = b->scr_nb; i < b->scr_nb + b->scr_na; i++)
        side_set(&b->ask, &b->scr[i], depth);
}

static bool crossed(const struct xgw__book *b)
{
    if (b->o.allow_crossed || side_count(&b->bid) == 0 || side_count(&b->ask) == 0)
        return false;
    return b->bid.v[b->bid.hi - 1].key >= -b->ask.v[b->ask.hi - 1].key;
}

/* Replace the book with the converted snapshot in scratch. */
static void load_snapshot(struct xgw__book *b, int32_t scale, const struct xgw_book_info *info)
{
    side_reset(&b->bid);
    side_reset(&b->ask);
    b->scale = scale;
    apply_scratch(b);
    b->seq = info->seq;
    b->ts = info->ts_ms;
    b->st.applied++;
    b->st.snapshots++;
}

/* ------------------------------------------------------------------------ */
/* Diff FIFO                                                                 */
/* ------------------------------------------------------------------------ */

static size_t fifo_msgs(const struct xgw__book *b)
{
    return b->mlen - b->mhead;
}

static void fifo_clear(struct xgw__book *b)
{
    b->mhead = b->mlen = b->lvhead = b->lvlen = 0;
}

static void fifo_pop(struct xgw__book *b)
{
    b->mhead++;
    if (b->mhead == b->mlen)
        fifo_clear(b);
    else
        b->lvhead = b->m[b->mhead].off;
}

static bool fifo_push(struct xgw__book *b, const struct xgw_book_info *info, const struct xgw_level *bids,
                      size_t nb, const struct xgw_level *asks, size_t na)
{
    size_t n = nb + na;
    if (n > b->o.max_buffered_levels) {
        /* Larger than the whole FIFO: nothing older can bridge past it. */
        b->st.buffer_dropped += fifo_msgs(b) + 1;
        fifo_clear(b);
        return true;
    }
    while (fifo_msgs(b) > 0 && (fifo_msgs(b) >= b->o.max_buffered_msgs ||
                                (b->lvlen - b->lvhead) + n > b->o.max_buffered_levels)) {
        fifo_pop(b);
        b->st.buffer_dropped++;
    }
    if (b->mlen == b->mcap) {
        if (b->mhead > 0) {
            memmove(b->m, &b->m[b->mhead], fifo_msgs(b) * sizeof b->m[0]);
            b->mlen -= b->mhead;
            b->mhead = 0;
        } else {
            size_t c = b->mcap ? b->mcap * 2 : 16;
            struct bufmsg *p = realloc(b->m, c * sizeof *p);
            if (!p)
                return false;
            b->m = p;
            b->mcap = c;
        }
    }
    if (b->lvlen + n > b->lvcap) {
        if (b->lvhead > 0) {
            memmove(b->lv, &b->lv[b->lvhead], (b->lvlen - b->lvhead) * sizeof b->lv[0]);
            for (size_t i = b->mhead; i < b->mlen; i++)
                b->m[i].off -= b->lvhead;
            b->lvlen -= b->lvhead;
            b->lvhead = 0;
        }
        if (b->lvlen + n > b->lvcap) {
            size_t c = b->lvcap ? b->lvcap : 256;
            while (c < b->lvlen + n)
                c *= 2;
            struct xgw_level *p = realloc(b->lv, c * sizeof *p);
            if (!p)
                return false;
            b->lv = p;
            b->lvcap = c;
        }
    }
    struct bufmsg *m = &b->m[b->mlen++];
    m->info = *info;
    m->off = b->lvlen;
    m->nb = (uint32_t)nb;
    m->na = (uint32_t)na;
    if (nb > 0)
        memcpy(&b->lv[b->lvlen], bids, nb * sizeof bids[0]);
    if (na > 0)
        memcpy(&b->lv[b->lvlen + nb], asks, na * sizeof asks[0]);
    b->lvlen += n;
    b->st.buffered++;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Sequencing                                                                */
/* ------------------------------------------------------------------------ */

/* Internal outcome of one diff on a LIVE book. */
enum step { STEP_APPLIED, STEP_STALE, STEP_GAP, STEP_ERROR };

static bool diff_header_ok(const struct xgw_book_info *in)
{
    if (in->seq <= 0 || in->first_seq < 0 || in->first_seq > in->seq)
        return false;
    /* Without pu or U there is nothing to detect a gap with. */
    return in->prev_seq >= 0 || in->first_seq > 0;
}

static enum step diff_live(struct xgw__book *b, const struct xgw_book_info *in, const struct xgw_level *bids,
                           size_t nb, const struct xgw_level *asks, size_t na)
{
    int64_t u = in->seq, U = in->first_seq, pu = in->prev_seq, L = b->seq;
    if (b->need_first) {
        bool ok;
        if (pu >= 0) {
            if (u < L)
                return STEP_STALE;
            ok = (U <= L && u >= L) || pu == L;
        } else {
            if (u <= L)
                return STEP_STALE;
            ok = U <= L + 1;
        }
        if (!ok) {
            b->reason = XGW__BOOK_R_NO_BRIDGE;
            return STEP_GAP;
        }
    } else {
        if (u <= L) {
            if (++b->stale_run > b->o.max_stale_run) {
                b->reason = XGW__BOOK_R_STALE_RUN;
                return STEP_GAP;
            }
            return STEP_STALE;
        }
        if (pu >= 0 ? pu != L : U != L + 1) {
            b->reason = XGW__BOOK_R_SEQ_GAP;
            return STEP_GAP;
        }
    }
    int32_t S;
    enum xgw__book_reason r = convert(b, false, bids, nb, asks, na, &S);
    if (r != XGW__BOOK_R_NONE) {
        b->reason = r;
        return STEP_ERROR;
    }
    apply_scratch(b);
    b->seq = u;
    b->ts = in->ts_ms;
    b->need_first = false;
    b->stale_run = 0;
    b->st.applied++;
    if (crossed(b)) {
        b->reason = XGW__BOOK_R_CROSSED;
        return STEP_GAP;
    }
    return STEP_APPLIED;
}

static void go_resync(struct xgw__book *b, enum xgw__book_reason why)
{
    b->state = XGW__BOOK_RESYNCING;
    b->reason = why;
    b->st.gaps++;
}

static enum xgw__book_result fail(struct xgw__book *b, enum xgw__book_reason why)
{
    b->reason = why;
    b->st.errors++;
    return XGW__BOOK_ERROR;
}

/* Replay the FIFO on a freshly loaded snapshot. */
static enum xgw__book_result replay(struct xgw__book *b)
{
    while (fifo_msgs(b) > 0) {
        const struct bufmsg *m = &b->m[b->mhead];
        const struct xgw_level *l = &b->lv[m->off];
        enum step st = diff_live(b, &m->info, l, m->nb, l + m->nb, m->na);
        switch (st) {
        case STEP_APPLIED:
            fifo_pop(b);
            break;
        case STEP_STALE:
            b->st.stale++;
            fifo_pop(b);
            break;
        case STEP_GAP:
            /* This diff starts what the next snapshot must bridge. */
            go_resync(b, b->reason);
            return XGW__BOOK_GAP_NEEDS_SNAPSHOT;
        case STEP_ERROR:
            fifo_pop(b);
            go_resync(b, b->reason);
            return fail(b, b->reason);
        }
    }
    return XGW__BOOK_APPLIED;
}

static enum xgw__book_result apply_snapshot_diffs(struct xgw__book *b, const struct xgw_book_info *info,
                                                  const struct xgw_level *bids, size_t nb,
                                                  const struct xgw_level *asks, size_t na)
{
    if (info->seq <= 0)
        return fail(b, XGW__BOOK_R_BAD_MESSAGE);
    if (b->state == XGW__BOOK_LIVE && info->seq < b->seq) {
        b->st.stale++;
        return XGW__BOOK_IGNORED_STALE;
    }
    int32_t S;
    enum xgw__book_reason r = convert(b, true, bids, nb, asks, na, &S);
    if (r != XGW__BOOK_R_NONE)
        return fail(b, r); /* the book stays as it was */
    load_snapshot(b, S, info);
    b->state = XGW__BOOK_LIVE;
    b->reason = XGW__BOOK_R_NONE;
    b->need_first = true;
    b->stale_run = 0;
    if (crossed(b)) {
        go_resync(b, XGW__BOOK_R_CROSSED);
        return XGW__BOOK_GAP_NEEDS_SNAPSHOT;
    }
    return replay(b);
}

static enum xgw__book_result apply_diff(struct xgw__book *b, const struct xgw_book_info *info,
                                        const struct xgw_level *bids, size_t nb, const struct xgw_level *asks,
                                        size_t na)
{
    if (!diff_header_ok(info) || !levels_ok(bids, nb) || !levels_ok(asks, na) || nb > UINT32_MAX ||
        na > UINT32_MAX) {
        if (b->state == XGW__BOOK_LIVE)
            go_resync(b, XGW__BOOK_R_BAD_MESSAGE);
        return fail(b, XGW__BOOK_R_BAD_MESSAGE);
    }
    if (b->state != XGW__BOOK_LIVE) {
        if (!fifo_push(b, info, bids, nb, asks, na))
            return fail(b, XGW__BOOK_R_NO_MEMORY);
        return XGW__BOOK_BUFFERED;
    }
    switch (diff_live(b, info, bids, nb, asks, na)) {
    case STEP_APPLIED:
        return XGW__BOOK_APPLIED;
    case STEP_STALE:
        b->st.stale++;
        return XGW__BOOK_IGNORED_STALE;
    case STEP_GAP:
        go_resync(b, b->reason);
        /* In LIVE state the FIFO is empty: this diff heads it. If it cannot
         * be kept, the snapshot simply has to bridge a later one. */
        (void)fifo_push(b, info, bids, nb, asks, na);
        return XGW__BOOK_GAP_NEEDS_SNAPSHOT;
    case STEP_ERROR:
        break;
    }
    go_resync(b, b->reason);
    return fail(b, b->reason);
}

static enum xgw__book_result apply_snapshots_model(struct xgw__book *b, const struct xgw_book_info *info,
                                                   const struct xgw_level *bids, size_t nb,
                                                   const struct xgw_level *asks, size_t na)
{
    int32_t S;
    enum xgw__book_reason r = convert(b, true, bids, nb, asks, na, &S);
    if (r != XGW__BOOK_R_NONE)
        return fail(b, r); /* the previous snapshot stays current */
    load_snapshot(b, S, info);
    if (crossed(b)) {
        /* Never show it; the next message replaces it anyway. */
        b->state = XGW__BOOK_EMPTY;
        return fail(b, XGW__BOOK_R_CROSSED);
    }
    b->state = XGW__BOOK_LIVE;
    b->reason = XGW__BOOK_R_NONE;
    return XGW__BOOK_APPLIED;
}

/* ------------------------------------------------------------------------ */
/* Public                                                                    */
/* ------------------------------------------------------------------------ */

struct xgw__book *xgw__book_new_opts(enum xgw_book_model model, const struct xgw__book_opts *opts)
{
    if (model != XGW_BOOK_DIFFS && model != XGW_BOOK_SNAPSHOTS)
        return NULL;
    struct xgw__book *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (opts)
        b->o = *opts;
    if (b->o.max_depth == 0)
        b->o.max_depth = DEF_DEPTH;
    if (b->o.max_buffered_msgs == 0)
        b->o.max_buffered_msgs = DEF_BUF_MSGS;
    if (b->o.max_buffered_levels == 0)
        b->o.max_buffered_levels = DEF_BUF_LEVELS;
    if (b->o.max_stale_run == 0)
        b->o.max_stale_run = DEF_STALE_RUN;
    b->model = model;
    if (b->o.max_depth > UINT32_MAX / 4 || !side_alloc(&b->bid, b->o.max_depth, false) ||
        !side_alloc(&b->ask, b->o.max_depth, true)) {
        xgw__book_free(b);
        return NULL;
    }
    return b;
}

struct xgw__book *xgw__book_new(enum xgw_book_model model, uint32_t max_depth)
{
    struct xgw__book_opts o;
    memset(&o, 0, sizeof o);
    o.max_depth = max_depth;
    return xgw__book_new_opts(model, &o);
}

void xgw__book_free(struct xgw__book *b)
{
    if (!b)
        return;
    free(b->bid.v);
    free(b->ask.v);
    free(b->scr);
    free(b->m);
    free(b->lv);
    free(b);
}

enum xgw__book_result xgw__book_apply(struct xgw__book *b, const struct xgw_book_info *info,
                                      const struct xgw_level *bids, size_t nb, const struct xgw_level *asks,
                                      size_t na)
{
    if (!b || !info)
        return XGW__BOOK_ERROR;
    if (b->model == XGW_BOOK_SNAPSHOTS)
        return apply_snapshots_model(b, info, bids, nb, asks, na);
    if (info->snapshot)
        return apply_snapshot_diffs(b, info, bids, nb, asks, na);
    return apply_diff(b, info, bids, nb, asks, na);
}

enum xgw__book_state xgw__book_state(const struct xgw__book *b)
{
    return b->state;
}

bool xgw__book_needs_snapshot(const struct xgw__book *b)
{
    return b->model == XGW_BOOK_DIFFS && b->state != XGW__BOOK_LIVE;
}

int64_t xgw__book_seq(const struct xgw__book *b)
{
    return b->seq;
}
int64_t xgw__book_ts(const struct xgw__book *b)
{
    return b->ts;
}
enum xgw__book_reason xgw__book_reason(const struct xgw__book *b)
{
    return b->reason;
}
void xgw__book_stats(const struct xgw__book *b, struct xgw__book_stats *out)
{
    *out = b->st;
}

const char *xgw__book_reason_name(enum xgw__book_reason r)
{
    switch (r) {
    case XGW__BOOK_R_NONE:
        return "none";
    case XGW__BOOK_R_SEQ_GAP:
        return "seq_gap";
    case XGW__BOOK_R_NO_BRIDGE:
        return "no_bridge";
    case XGW__BOOK_R_CROSSED:
        return "crossed";
    case XGW__BOOK_R_STALE_RUN:
        return "stale_run";
    case XGW__BOOK_R_BAD_MESSAGE:
        return "bad_message";
    case XGW__BOOK_R_NO_MEMORY:
        return "no_memory";
    case XGW__BOOK_R_INVALIDATED:
        return "invalidated";
    }
    return "?";
}

const char *xgw__book_result_name(enum xgw__book_result r)
{
    switch (r) {
    case XGW__BOOK_APPLIED:
        return "applied";
    case XGW__BOOK_BUFFERED:
        return "buffered";
    case XGW__BOOK_IGNORED_STALE:
        return "ignored_stale";
    case XGW__BOOK_GAP_NEEDS_SNAPSHOT:
        return "gap_needs_snapshot";
    case XGW__BOOK_ERROR:
        return "error";
    }
    return "?";
}

void xgw__book_depth(const struct xgw__book *b, size_t *nb, size_t *na)
{
    if (nb)
        *nb = side_count(&b->bid);
    if (na)
        *na = side_count(&b->ask);
}

static size_t side_top(const struct xgw__book *b, const struct side *s, size_t n, struct xgw_level *out)
{
    size_t c = side_count(s);
    if (n > c)
        n = c;
    for (size_t i = 0; i < n; i++) {
        const struct lvl *e = &s->v[s->hi - 1 - i];
        out[i].price = lvl_price(s, e, b->scale);
        out[i].qty = lvl_qty(e);
    }
    return n;
}

bool xgw__book_top(const struct xgw__book *b, size_t n, struct xgw_level *bids_out, size_t *nb,
                   struct xgw_level *asks_out, size_t *na)
{
    size_t kb = 0, ka = 0;
    bool live = b->state == XGW__BOOK_LIVE;
    if (live && bids_out)
        kb = side_top(b, &b->bid, n, bids_out);
    if (live && asks_out)
        ka = side_top(b, &b->ask, n, asks_out);
    if (nb)
        *nb = kb;
    if (na)
        *na = ka;
    return live;
}

bool xgw__book_best(const struct xgw__book *b, struct xgw_level *bid, struct xgw_level *ask)
{
    struct xgw_level none = {xgw_dec_none(), xgw_dec_none()};
    if (bid)
        *bid = none;
    if (ask)
        *ask = none;
    if (b->state != XGW__BOOK_LIVE)
        return false;
    if (bid)
        side_top(b, &b->bid, 1, bid);
    if (ask)
        side_top(b, &b->ask, 1, ask);
    return true;
}

void xgw__book_invalidate(struct xgw__book *b)
{
    fifo_clear(b);
    if (b->model == XGW_BOOK_DIFFS) {
        go_resync(b, XGW__BOOK_R_INVALIDATED);
    } else {
        b->state = XGW__BOOK_EMPTY;
        b->reason = XGW__BOOK_R_INVALIDATED;
    }
}

void xgw__book_clear(struct xgw__book *b)
{
    fifo_clear(b);
    side_reset(&b->bid);
    side_reset(&b->ask);
    b->state = XGW__BOOK_EMPTY;
    b->reason = XGW__BOOK_R_NONE;
    b->seq = b->ts = 0;
    b->need_first = false;
    b->stale_run = 0;
    b->scale = 0;
}

static bool side_equals(const struct xgw__book *b, const struct side *s, const struct xgw_level *exp,
                        size_t n)
{
    if (side_count(s) != n || (n > 0 && exp == NULL))
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct lvl *e = &s->v[s->hi - 1 - i];
        if (xgw_dec_cmp(lvl_price(s, e, b->scale), exp[i].price) != 0 ||
            xgw_dec_cmp(lvl_qty(e), exp[i].qty) != 0)
            return false;
    }
    return true;
}

bool xgw__book_equals(const struct xgw__book *b, const struct xgw_level *bids, size_t nb,
                      const struct xgw_level *asks, size_t na)
{
    return side_equals(b, &b->bid, bids, nb) && side_equals(b, &b->ask, asks, na);
}

static uint64_t fnv(uint64_t h, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++) {
        h ^= (u >> (8 * i)) & 0xffu;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t side_hash(const struct xgw__book *b, const struct side *s, size_t n, uint64_t h)
{
    size_t c = side_count(s);
    if (n == 0 || n > c)
        n = c;
    for (size_t i = 0; i < n; i++) {
        const struct lvl *e = &s->v[s->hi - 1 - i];
        xgw_dec p = xgw_dec_normalize(lvl_price(s, e, b->scale));
        xgw_dec q = xgw_dec_normalize(lvl_qty(e));
        h = fnv(fnv(fnv(fnv(h, p.mant), p.scale), q.mant), q.scale);
    }
    return h;
}

uint64_t xgw__book_checksum(const struct xgw__book *b, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    h = side_hash(b, &b->bid, n, h);
    h = fnv(h, -1); /* separates the sides: [a][b] != [a,b][] */
    return side_hash(b, &b->ask, n, h);
}
