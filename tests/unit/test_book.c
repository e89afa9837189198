/*
 * tests/unit/test_book.c — the L2 book: snapshot + diffs under Binance
 * futures sequencing (stale drop, bridging rule, pu chain, gaps, buffered
 * replay), the snapshot model, zero-qty removal, the depth cap, price-scale
 * growth, crossed books, malformed input, and long seeded random runs checked
 * level by level against a naive reference book written here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "book.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static xgw_dec D(const char *s)
{
    xgw_dec d = {0, 0};
    if (xgw_dec_parse_cstr(s, &d) != XGW_DEC_OK)
        fail_msg("bad decimal \"%s\" in test", s);
    return d;
}

/* Levels from "price:qty" strings. */
static size_t LV(struct xgw_level *out, const char *const *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", s[i]);
        char *c = strchr(buf, ':');
        assert_non_null(c);
        *c = '\0';
        out[i].price = D(buf);
        out[i].qty = D(c + 1);
    }
    return n;
}

#define NARG(a) (sizeof(a) / sizeof((a)[0]))

static struct xgw_book_info snap(int64_t seq)
{
    struct xgw_book_info i;
    memset(&i, 0, sizeof i);
    snprintf(i.symbol, sizeof i.symbol, "BTCUSDT");
    i.snapshot = true;
    i.seq = seq;
    i.prev_seq = -1;
    return i;
}

static struct xgw_book_info diff(int64_t U, int64_t u, int64_t pu)
{
    struct xgw_book_info i = snap(u);
    i.snapshot = false;
    i.first_seq = U;
    i.prev_seq = pu;
    return i;
}

/* Apply with levels given as string lists. */
static enum xgw__book_result AP(struct xgw__book *b, struct xgw_book_info in, const char *const *bs,
                                size_t nb, const char *const *as, size_t na)
{
    struct xgw_level bl[64], al[64];
    assert_true(nb <= 64 && na <= 64);
    LV(bl, bs, nb);
    LV(al, as, na);
    return xgw__book_apply(b, &in, bl, nb, al, na);
}

static void assert_book(const struct xgw__book *b, const char *const *bs, size_t nb, const char *const *as,
                        size_t na)
{
    struct xgw_level bl[64], al[64];
    LV(bl, bs, nb);
    LV(al, as, na);
    if (!xgw__book_equals(b, bl, nb, al, na)) {
        size_t kb, ka;
        xgw__book_depth(b, &kb, &ka);
        fail_msg("book differs (kept %zu bids, %zu asks; want %zu, %zu)", kb, ka, nb, na);
    }
}

static void assert_fmt(xgw_dec d, const char *want)
{
    char buf[XGW_DEC_STRLEN];
    xgw_dec_format(d, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static const char *const NONE_[] = {"0:0"}; /* placeholder for empty lists */
#define EMPTY NONE_, 0

/* A standard snapshot: bids 100,99,98  asks 101,102,103. */
static const char *const SB[] = {"100.0:1", "99.0:2", "98.0:3"};
static const char *const SA[] = {"101.0:1", "102.0:2", "103.0:3"};

/* ------------------------------------------------------------------------ */
/* Sequencing                                                                */
/* ------------------------------------------------------------------------ */

static void test_snapshot_then_diffs(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 1000);
    assert_non_null(b);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_EMPTY);
    assert_true(xgw__book_needs_snapshot(b));
    struct xgw_level lb, la;
    assert_false(xgw__book_best(b, &lb, &la));

    assert_int_equal(AP(b, snap(100), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_LIVE);
    assert_false(xgw__book_needs_snapshot(b));
    assert_int_equal(xgw__book_seq(b), 100);
    assert_book(b, SB, 3, SA, 3);

    /* First diff brackets 100: U=95 <= 100 <= u=105. */
    static const char *const b1[] = {"100.0:5", "99.5:1", "98.0:0"};
    static const char *const a1[] = {"101.0:0", "100.5:7"};
    assert_int_equal(AP(b, diff(95, 105, 90), b1, 3, a1, 2), XGW__BOOK_APPLIED);
    assert_int_equal(xgw__book_seq(b), 105);
    static const char *const eb1[] = {"100:5", "99.5:1", "99:2"};
    static const char *const ea1[] = {"100.5:7", "102:2", "103:3"};
    assert_book(b, eb1, 3, ea1, 3);

    /* Chain: pu == previous u. */
    static const char *const b2[] = {"97.0:4"};
    assert_int_equal(AP(b, diff(107, 110, 105), b2, 1, EMPTY), XGW__BOOK_APPLIED);
    assert_true(xgw__book_best(b, &lb, &la));
    assert_fmt(lb.price, "100.0");
    assert_fmt(lb.qty, "5");
    assert_fmt(la.price, "100.5");
    assert_fmt(la.qty, "7");

    struct xgw_level tb[2], ta[2];
    size_t nb = 9, na = 9;
    assert_true(xgw__book_top(b, 2, tb, &nb, ta, &na));
    assert_int_equal(nb, 2);
    assert_int_equal(na, 2);
    assert_fmt(tb[1].price, "99.5");
    assert_fmt(ta[1].price, "102.0");
    size_t kb, ka;
    xgw__book_depth(b, &kb, &ka);
    assert_int_equal(kb, 4);
    assert_int_equal(ka, 3);

    struct xgw__book_stats st;
    xgw__book_stats(b, &st);
    assert_int_equal(st.applied, 3);
    assert_int_equal(st.snapshots, 1);
    assert_int_equal(st.gaps, 0);
    xgw__book_free(b);
}

static void test_exact_text_back(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 10);
    static const char *const bs[] = {"4.00000000:431.00000000"};
    static const char *const as[] = {"4.00000200:12.00000000"};
    assert_int_equal(AP(b, snap(1027024), bs, 1, as, 1), XGW__BOOK_APPLIED);
    struct xgw_level lb, la;
    assert_true(xgw__book_best(b, &lb, &la));
    assert_fmt(lb.price, "4.00000000");
    assert_fmt(lb.qty, "431.00000000");
    assert_fmt(la.price, "4.00000200");
    assert_fmt(la.qty, "12.00000000");
    xgw__book_free(b);
}

static void test_buffer_and_stale_drop(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 1000);
    /* Diffs arrive before the snapshot: buffered. */
    static const char *const x1[] = {"100.0:9"}; /* older than the snapshot: must not show */
    static const char *const x2[] = {"99.0:8"};  /* bridges (U=150 <= 160 <= u=170) */
    static const char *const x3[] = {"98.0:0"};
    assert_int_equal(AP(b, diff(140, 149, 130), x1, 1, EMPTY), XGW__BOOK_BUFFERED);
    assert_int_equal(AP(b, diff(150, 170, 149), x2, 1, EMPTY), XGW__BOOK_BUFFERED);
    assert_int_equal(AP(b, diff(171, 180, 170), x3, 1, EMPTY), XGW__BOOK_BUFFERED);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_EMPTY);

    assert_int_equal(AP(b, snap(160), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_LIVE);
    assert_int_equal(xgw__book_seq(b), 180);
    static const char *const eb[] = {"100:1", "99:8"};
    assert_book(b, eb, 2, SA, 3);
    struct xgw__book_stats st;
    xgw__book_stats(b, &st);
    assert_int_equal(st.buffered, 3);
    assert_int_equal(st.stale, 1);
    assert_int_equal(st.applied, 3);

    /* A live diff older than the book: ignored, book unchanged. */
    assert_int_equal(AP(b, diff(150, 170, 149), x1, 1, EMPTY), XGW__BOOK_IGNORED_STALE);
    assert_book(b, eb, 2, SA, 3);
    /* A snapshot older than the live book: ignored. */
    assert_int_equal(AP(b, snap(175), EMPTY, EMPTY), XGW__BOOK_IGNORED_STALE);
    assert_book(b, eb, 2, SA, 3);
    xgw__book_free(b);
}

static void test_first_diff_bridge(void **state)
{
    (void)state;
    static const char *const x[] = {"99.5:1"};
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 100);

    /* U > L and pu != L: the snapshot is not bridged. */
    assert_int_equal(AP(b, snap(100), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(102, 110, 101), x, 1, EMPTY), XGW__BOOK_GAP_NEEDS_SNAPSHOT);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_NO_BRIDGE);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_RESYNCING);

    /* Documented futures rule: U <= L && u >= L, including u == L. */
    assert_int_equal(AP(b, snap(100), SB, 3, SA, 3), XGW__BOOK_GAP_NEEDS_SNAPSHOT); /* replays (102..110] */
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_NO_BRIDGE);
    xgw__book_clear(b);
    assert_int_equal(AP(b, snap(100), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(90, 99, 80), x, 1, EMPTY), XGW__BOOK_IGNORED_STALE); /* u < L */
    assert_int_equal(AP(b, diff(95, 100, 94), x, 1, EMPTY), XGW__BOOK_APPLIED);      /* u == L */
    assert_int_equal(xgw__book_seq(b), 100);

    /* pu == L with U = L + 1 (contiguous, as ccxt accepts). */
    xgw__book_clear(b);
    assert_int_equal(AP(b, snap(100), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(101, 104, 100), x, 1, EMPTY), XGW__BOOK_APPLIED);

    /* Spot-style exchanges (no pu): U <= L+1 <= u, u == L is stale,
     * then U == previous u + 1. */
    xgw__book_clear(b);
    assert_int_equal(AP(b, snap(100), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(95, 100, -1), x, 1, EMPTY), XGW__BOOK_IGNORED_STALE);
    assert_int_equal(AP(b, diff(102, 105, -1), x, 1, EMPTY), XGW__BOOK_GAP_NEEDS_SNAPSHOT);
    xgw__book_clear(b);
    assert_int_equal(AP(b, snap(100), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(101, 105, -1), x, 1, EMPTY), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(106, 107, -1), x, 1, EMPTY), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(109, 110, -1), x, 1, EMPTY), XGW__BOOK_GAP_NEEDS_SNAPSHOT);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_SEQ_GAP);
    xgw__book_free(b);
}

static void test_pu_chain_gap_and_replay(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 100);
    static const char *const x1[] = {"99.5:1"};
    static const char *const x2[] = {"99.5:2"};
    static const char *const x3[] = {"99.5:3", "97:1"};
    static const char *const x4[] = {"99.5:4"};
    assert_int_equal(AP(b, snap(100), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(99, 105, 98), x1, 1, EMPTY), XGW__BOOK_APPLIED);
    /* pu 106 != previous u 105: the message (106, 108] was lost. */
    assert_int_equal(AP(b, diff(109, 112, 108), x2, 1, EMPTY), XGW__BOOK_GAP_NEEDS_SNAPSHOT);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_SEQ_GAP);
    assert_true(xgw__book_needs_snapshot(b));
    /* Nothing is served and nothing is applied until a snapshot comes. */
    struct xgw_level tb[4], ta[4];
    size_t nb = 7, na = 7;
    assert_false(xgw__book_top(b, 4, tb, &nb, ta, &na));
    assert_int_equal(nb, 0);
    assert_int_equal(na, 0);
    assert_int_equal(AP(b, diff(113, 115, 112), x3, 2, EMPTY), XGW__BOOK_BUFFERED);
    assert_int_equal(AP(b, diff(116, 120, 115), x4, 1, EMPTY), XGW__BOOK_BUFFERED);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_RESYNCING);

    /* The new snapshot at 114 is bridged by (113, 115]; (109,112] is stale. */
    static const char *const nsb[] = {"100.0:1", "99.5:9", "99.0:2"};
    assert_int_equal(AP(b, snap(114), nsb, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_LIVE);
    assert_int_equal(xgw__book_seq(b), 120);
    static const char *const eb[] = {"100:1", "99.5:4", "99:2", "97:1"};
    assert_book(b, eb, 4, SA, 3);
    assert_int_equal(AP(b, diff(121, 122, 120), x1, 1, EMPTY), XGW__BOOK_APPLIED);
    struct xgw__book_stats st;
    xgw__book_stats(b, &st);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(st.snapshots, 2);
    xgw__book_free(b);
}

static void test_gap_inside_buffer(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 100);
    static const char *const x[] = {"99.5:1"};
    assert_int_equal(AP(b, diff(10, 20, 9), x, 1, EMPTY), XGW__BOOK_BUFFERED);
    assert_int_equal(AP(b, diff(21, 30, 20), x, 1, EMPTY), XGW__BOOK_BUFFERED);
    assert_int_equal(AP(b, diff(35, 40, 33), x, 1, EMPTY), XGW__BOOK_BUFFERED); /* gap inside */
    assert_int_equal(AP(b, diff(41, 50, 40), x, 1, EMPTY), XGW__BOOK_BUFFERED);
    assert_int_equal(AP(b, snap(15), SB, 3, SA, 3), XGW__BOOK_GAP_NEEDS_SNAPSHOT);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_SEQ_GAP);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_RESYNCING);
    /* The diffs from the gap on were kept: a snapshot at 38 is bridged. */
    assert_int_equal(AP(b, snap(38), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(xgw__book_seq(b), 50);
    xgw__book_free(b);
}

static void test_duplicates_and_stale_run(void **state)
{
    (void)state;
    struct xgw__book_opts o;
    memset(&o, 0, sizeof o);
    o.max_stale_run = 3;
    struct xgw__book *b = xgw__book_new_opts(XGW_BOOK_DIFFS, &o);
    static const char *const x[] = {"99.5:1"};
    static const char *const y[] = {"99.5:7"};
    assert_int_equal(AP(b, snap(100), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(99, 105, 98), x, 1, EMPTY), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(106, 110, 105), x, 1, EMPTY), XGW__BOOK_APPLIED);
    /* Duplicates (two overlapping connections) are ignored... */
    assert_int_equal(AP(b, diff(106, 110, 105), y, 1, EMPTY), XGW__BOOK_IGNORED_STALE);
    assert_int_equal(AP(b, diff(99, 105, 98), y, 1, EMPTY), XGW__BOOK_IGNORED_STALE);
    static const char *const eb[] = {"100:1", "99.5:1", "99:2", "98:3"};
    assert_book(b, eb, 4, SA, 3);
    /* ... an applied diff resets the run ... */
    assert_int_equal(AP(b, diff(111, 112, 110), x, 1, EMPTY), XGW__BOOK_APPLIED);
    for (int i = 0; i < 3; i++)
        assert_int_equal(AP(b, diff(111, 112, 110), y, 1, EMPTY), XGW__BOOK_IGNORED_STALE);
    /* ... but a long run of them means the ids went backwards: resync. */
    assert_int_equal(AP(b, diff(1, 2, 0), y, 1, EMPTY), XGW__BOOK_GAP_NEEDS_SNAPSHOT);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_STALE_RUN);
    xgw__book_free(b);
}

static void test_buffer_overflow_keeps_newest(void **state)
{
    (void)state;
    struct xgw__book_opts o;
    memset(&o, 0, sizeof o);
    o.max_buffered_msgs = 4;
    o.max_buffered_levels = 64;
    struct xgw__book *b = xgw__book_new_opts(XGW_BOOK_DIFFS, &o);
    static const char *const x[] = {"99.5:1"};
    for (int i = 0; i < 10; i++)
        assert_int_equal(AP(b, diff(10 * i + 1, 10 * i + 10, 10 * i), x, 1, EMPTY), XGW__BOOK_BUFFERED);
    struct xgw__book_stats st;
    xgw__book_stats(b, &st);
    assert_int_equal(st.buffer_dropped, 6);
    /* Kept: (60,70] .. (90,100]. A snapshot at 25 cannot be bridged. */
    assert_int_equal(AP(b, snap(25), SB, 3, SA, 3), XGW__BOOK_GAP_NEEDS_SNAPSHOT);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_NO_BRIDGE);
    /* One at 75 is. */
    assert_int_equal(AP(b, snap(75), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(xgw__book_seq(b), 100);

    /* Level bound: a message larger than the whole FIFO empties it. */
    xgw__book_clear(b);
    struct xgw_level big[70];
    for (int i = 0; i < 70; i++) {
        big[i].price = xgw_dec_from_int(i + 1);
        big[i].qty = xgw_dec_from_int(1);
    }
    struct xgw_book_info in = diff(1, 2, 0);
    assert_int_equal(AP(b, diff(1, 1, 0), x, 1, EMPTY), XGW__BOOK_BUFFERED);
    in = diff(2, 3, 1);
    assert_int_equal(xgw__book_apply(b, &in, big, 70, NULL, 0), XGW__BOOK_BUFFERED);
    /* Only (3,4] remains: a snapshot at 3 bridges it through pu. */
    assert_int_equal(AP(b, diff(4, 4, 3), x, 1, EMPTY), XGW__BOOK_BUFFERED);
    assert_int_equal(AP(b, snap(3), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(xgw__book_seq(b), 4);
    xgw__book_free(b);
}

/* ------------------------------------------------------------------------ */
/* Levels                                                                    */
/* ------------------------------------------------------------------------ */

static void test_zero_qty_removal(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 100);
    /* Zero-qty entries in a snapshot are skipped; duplicates: later wins. */
    static const char *const sb[] = {"100:1", "99:0", "98:3", "98:4"};
    assert_int_equal(AP(b, snap(10), sb, 4, SA, 3), XGW__BOOK_APPLIED);
    static const char *const e0[] = {"100:1", "98:4"};
    assert_book(b, e0, 2, SA, 3);
    /* Removing, removing an unknown level (normal), removing at a finer
     * price than any kept (cannot match: no rescale, no error). */
    static const char *const db[] = {"100.00:0", "97:0", "98.001:0"};
    static const char *const da[] = {"103:0", "101.5:0.000"};
    assert_int_equal(AP(b, diff(11, 11, 10), db, 3, da, 2), XGW__BOOK_APPLIED);
    static const char *const e1[] = {"98:4"};
    static const char *const a1[] = {"101:1", "102:2"};
    assert_book(b, e1, 1, a1, 2);
    /* Empty a side completely, then refill it. */
    static const char *const ra[] = {"101:0", "102:0"};
    assert_int_equal(AP(b, diff(12, 12, 11), EMPTY, ra, 2), XGW__BOOK_APPLIED);
    assert_book(b, e1, 1, EMPTY);
    struct xgw_level lb, la;
    assert_true(xgw__book_best(b, &lb, &la));
    assert_true(xgw_dec_is_none(la.price));
    assert_true(xgw_dec_is_none(la.qty));
    static const char *const fa[] = {"105:1"};
    assert_int_equal(AP(b, diff(13, 13, 12), EMPTY, fa, 1), XGW__BOOK_APPLIED);
    assert_book(b, e1, 1, fa, 1);
    xgw__book_free(b);
}

static void test_depth_cap(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 3);
    static const char *const sb[] = {"100:1", "99:2", "98:3", "97:4", "96:5"};
    static const char *const sa[] = {"105:1", "101:2", "104:3", "102:4", "103:5"}; /* any order */
    assert_int_equal(AP(b, snap(10), sb, 5, sa, 5), XGW__BOOK_APPLIED);
    static const char *const e0b[] = {"100:1", "99:2", "98:3"};
    static const char *const e0a[] = {"101:2", "102:4", "103:5"};
    assert_book(b, e0b, 3, e0a, 3);
    /* Better level on a full side: the farthest goes. Farther than all on a
     * full side: ignored. Updating the farthest kept: kept. */
    static const char *const d1b[] = {"100.5:9", "90:1", "99:7"};
    static const char *const d1a[] = {"110:1", "102:0"};
    assert_int_equal(AP(b, diff(11, 11, 10), d1b, 3, d1a, 2), XGW__BOOK_APPLIED);
    static const char *const e1b[] = {"100.5:9", "100:1", "99:7"};
    static const char *const e1a[] = {"101:2", "103:5"};
    assert_book(b, e1b, 3, e1a, 2);
    /* A side below the cap takes a far level again. */
    static const char *const d2a[] = {"110:1"};
    assert_int_equal(AP(b, diff(12, 12, 11), EMPTY, d2a, 1), XGW__BOOK_APPLIED);
    static const char *const e2a[] = {"101:2", "103:5", "110:1"};
    assert_book(b, e1b, 3, e2a, 3);
    struct xgw_level tb[8];
    size_t nb = 0;
    assert_true(xgw__book_top(b, 8, tb, &nb, NULL, NULL));
    assert_int_equal(nb, 3);
    xgw__book_free(b);
}

static void test_price_scale_growth(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 100);
    static const char *const sb[] = {"100.5:1", "100:2"};
    static const char *const sa[] = {"101:1"};
    assert_int_equal(AP(b, snap(10), sb, 2, sa, 1), XGW__BOOK_APPLIED);
    /* A finer price: every kept tick is rescaled; the same level written
     * with more zeros is the same level, and takes the latest text. */
    static const char *const d1b[] = {"100.55:3", "100.50:4"};
    static const char *const d1a[] = {"100.999:5"};
    assert_int_equal(AP(b, diff(11, 11, 10), d1b, 2, d1a, 1), XGW__BOOK_APPLIED);
    static const char *const e1b[] = {"100.55:3", "100.5:4", "100:2"};
    static const char *const e1a[] = {"100.999:5", "101:1"};
    assert_book(b, e1b, 3, e1a, 2);
    struct xgw_level tb[3], ta[2];
    size_t nb, na;
    assert_true(xgw__book_top(b, 3, tb, &nb, ta, &na));
    assert_fmt(tb[0].price, "100.55");
    assert_fmt(tb[1].price, "100.50");
    assert_fmt(tb[2].price, "100");
    assert_fmt(ta[0].price, "100.999");
    assert_fmt(ta[1].price, "101");
    /* Removal and update at the old scale still find their levels. */
    static const char *const d2b[] = {"100.5:0", "100:6"};
    assert_int_equal(AP(b, diff(12, 12, 11), d2b, 2, EMPTY), XGW__BOOK_APPLIED);
    static const char *const e2b[] = {"100.55:3", "100:6"};
    assert_book(b, e2b, 2, e1a, 2);

    /* A finer price that cannot be represented with the kept ones (the
     * ticks would overflow int64): ERROR, and the book must resync. */
    xgw__book_clear(b);
    static const char *const hb[] = {"990000000000000000:1"};
    assert_int_equal(AP(b, snap(10), hb, 1, EMPTY), XGW__BOOK_APPLIED);
    static const char *const fb[] = {"0.1:1"};
    assert_int_equal(AP(b, diff(11, 11, 10), fb, 1, EMPTY), XGW__BOOK_ERROR);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_BAD_MESSAGE);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_RESYNCING);
    /* A snapshot that mixes them on its own is refused (book unchanged). */
    static const char *const mb[] = {"990000000000000000:1", "0.1:1"};
    assert_int_equal(AP(b, snap(20), mb, 2, EMPTY), XGW__BOOK_ERROR);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_RESYNCING);
    /* A new snapshot rescales from scratch: a coarse book again. */
    static const char *const cb[] = {"9:1", "0.000000000000000001:2"};
    assert_int_equal(AP(b, snap(30), cb, 2, EMPTY), XGW__BOOK_APPLIED);
    assert_book(b, cb, 2, EMPTY);
    xgw__book_free(b);
}

static void test_crossed(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 100);
    assert_int_equal(AP(b, snap(10), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    /* A bid at the best ask (locked) is treated as corruption. */
    static const char *const x[] = {"101.0:1"};
    assert_int_equal(AP(b, diff(11, 11, 10), x, 1, EMPTY), XGW__BOOK_GAP_NEEDS_SNAPSHOT);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_CROSSED);
    assert_false(xgw__book_best(b, NULL, NULL));
    /* A crossed snapshot too. */
    static const char *const cb[] = {"102:1"};
    assert_int_equal(AP(b, snap(20), cb, 1, SA, 3), XGW__BOOK_GAP_NEEDS_SNAPSHOT);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_CROSSED);
    xgw__book_free(b);

    /* Unless the caller allows it. */
    struct xgw__book_opts o;
    memset(&o, 0, sizeof o);
    o.allow_crossed = true;
    b = xgw__book_new_opts(XGW_BOOK_DIFFS, &o);
    assert_int_equal(AP(b, snap(10), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_int_equal(AP(b, diff(11, 11, 10), x, 1, EMPTY), XGW__BOOK_APPLIED);
    xgw__book_free(b);
}

static void test_snapshot_model(void **state)
{
    (void)state;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_SNAPSHOTS, 20);
    assert_false(xgw__book_needs_snapshot(b));
    struct xgw_book_info in = snap(0); /* no sequence numbers at all */
    assert_int_equal(AP(b, in, SB, 3, SA, 3), XGW__BOOK_APPLIED);
    assert_book(b, SB, 3, SA, 3);
    /* Every message replaces the book, whatever its flag or seq says. */
    in = diff(0, 0, -1);
    static const char *const nb[] = {"50:1"};
    static const char *const na[] = {"51:1", "52:2"};
    assert_int_equal(AP(b, in, nb, 1, na, 2), XGW__BOOK_APPLIED);
    assert_book(b, nb, 1, na, 2);
    assert_false(xgw__book_needs_snapshot(b));
    /* A malformed message leaves the previous one current. */
    static const char *const bad[] = {"50:-1"};
    assert_int_equal(AP(b, in, bad, 1, na, 2), XGW__BOOK_ERROR);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_LIVE);
    assert_book(b, nb, 1, na, 2);
    /* A crossed one is never shown; the next good one is. */
    static const char *const cb[] = {"60:1"};
    assert_int_equal(AP(b, in, cb, 1, na, 2), XGW__BOOK_ERROR);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_CROSSED);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_EMPTY);
    assert_false(xgw__book_top(b, 5, NULL, NULL, NULL, NULL));
    assert_int_equal(AP(b, in, nb, 1, na, 2), XGW__BOOK_APPLIED);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_LIVE);
    xgw__book_invalidate(b);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_EMPTY);
    xgw__book_free(b);
}

static void test_bad_input(void **state)
{
    (void)state;
    assert_null(xgw__book_new(XGW_BOOK_NONE, 10));
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 0); /* 0 = default depth */
    assert_non_null(b);
    struct xgw_level l = {xgw_dec_none(), xgw_dec_from_int(1)};
    struct xgw_book_info in = snap(10);
    /* Snapshot: NONE price, missing lastUpdateId → ERROR, nothing changes. */
    assert_int_equal(xgw__book_apply(b, &in, &l, 1, NULL, 0), XGW__BOOK_ERROR);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_EMPTY);
    assert_int_equal(AP(b, snap(0), SB, 3, SA, 3), XGW__BOOK_ERROR);
    assert_int_equal(xgw__book_apply(b, &in, NULL, 2, NULL, 0), XGW__BOOK_ERROR);
    assert_int_equal(xgw__book_apply(b, NULL, NULL, 0, NULL, 0), XGW__BOOK_ERROR);
    /* Buffered diffs are checked before they are kept. */
    in = diff(5, 4, 3); /* U > u */
    assert_int_equal(xgw__book_apply(b, &in, NULL, 0, NULL, 0), XGW__BOOK_ERROR);
    in = diff(0, 4, -1); /* neither U nor pu: gaps undetectable */
    assert_int_equal(xgw__book_apply(b, &in, NULL, 0, NULL, 0), XGW__BOOK_ERROR);
    assert_int_equal(AP(b, snap(10), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    /* A bad diff on a live book: it cannot be applied, so the book is lost. */
    static const char *const neg[] = {"-1:1"};
    assert_int_equal(AP(b, diff(10, 11, 9), neg, 1, EMPTY), XGW__BOOK_ERROR);
    assert_int_equal(xgw__book_state(b), XGW__BOOK_RESYNCING);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_BAD_MESSAGE);
    assert_true(xgw__book_needs_snapshot(b));
    struct xgw__book_stats st;
    xgw__book_stats(b, &st);
    assert_int_equal(st.errors, 6);
    /* Recovers with the next snapshot; invalidate() forces a resync. */
    assert_int_equal(AP(b, snap(20), SB, 3, SA, 3), XGW__BOOK_APPLIED);
    xgw__book_invalidate(b);
    assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_INVALIDATED);
    assert_true(xgw__book_needs_snapshot(b));
    assert_string_equal(xgw__book_reason_name(XGW__BOOK_R_NO_BRIDGE), "no_bridge");
    assert_string_equal(xgw__book_result_name(XGW__BOOK_GAP_NEEDS_SNAPSHOT), "gap_needs_snapshot");
    xgw__book_free(b);
    xgw__book_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Random runs against a naive reference                                     */
/* ------------------------------------------------------------------------ */

static uint64_t rng_s;
static uint64_t rnd(void)
{
    /* xorshift64*: seeded, so a failure replays exactly. */
    rng_s ^= rng_s >> 12;
    rng_s ^= rng_s << 25;
    rng_s ^= rng_s >> 27;
    return rng_s * 2685821657736338717ULL;
}
static uint32_t rndn(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

/* Prices are ticks of 0.001 on a dense grid: bids on [1, G] (best G), asks
 * on [G+1, 2G] (best G+1), so random diffs never cross. qty 0 = absent. */
#define G 4000
struct ref {
    int64_t q[2 * G + 2];
    size_t cnt[2];
    size_t depth; /* the same depth rule as the book: 0 = none */
};

/* The farthest kept tick of a side (0 none), found from the best inward. */
static int ref_far(const struct ref *r, int ask)
{
    size_t seen = 0;
    for (int i = 0; i < G; i++) {
        int t = ask ? G + 1 + i : G - i;
        if (r->q[t] && ++seen == r->cnt[ask])
            return t;
    }
    return 0;
}

static void ref_set(struct ref *r, int t, int64_t q)
{
    int ask = t > G;
    if (r->q[t] != 0 || q == 0) {
        r->cnt[ask] -= r->q[t] != 0;
        r->cnt[ask] += q != 0;
        r->q[t] = q;
        return;
    }
    if (r->depth && r->cnt[ask] >= r->depth) {
        int far = ref_far(r, ask);
        if (ask ? t > far : t < far)
            return; /* farther than everything on a full side */
        r->q[far] = 0;
        r->cnt[ask]--;
    }
    r->q[t] = q;
    r->cnt[ask]++;
}

/* Write a tick as a decimal with a varying number of trailing zeros: the
 * book must treat "1.5", "1.500" and "1.50000" as one level. */
static xgw_dec tick_dec(int t)
{
    xgw_dec d = {t, 3};
    uint32_t k = rndn(8);
    if (k == 0 && t % 10 == 0) {
        d.mant = t / 10;
        d.scale = 2;
    } else if (k == 1) {
        d.mant = (int64_t)t * 100;
        d.scale = 5;
    }
    return d;
}

static int dec_tick(xgw_dec d)
{
    if (d.scale == 2)
        return (int)(d.mant * 10);
    if (d.scale == 5)
        return (int)(d.mant / 100);
    return (int)d.mant;
}

/* The reference as levels, best first. */
static size_t ref_levels(const struct ref *r, int ask, struct xgw_level *out)
{
    size_t n = 0;
    for (int i = 0; i < G; i++) {
        int t = ask ? G + 1 + i : G - i;
        if (r->q[t]) {
            out[n].price = tick_dec(t);
            out[n].qty.mant = r->q[t];
            out[n].qty.scale = 3;
            n++;
        }
    }
    return n;
}

static void assert_same(const struct xgw__book *b, const struct ref *r, struct xgw_level *eb,
                        struct xgw_level *ea)
{
    size_t nb = ref_levels(r, 0, eb), na = ref_levels(r, 1, ea);
    if (!xgw__book_equals(b, eb, nb, ea, na)) {
        size_t kb, ka;
        xgw__book_depth(b, &kb, &ka);
        fail_msg("book != reference: kept %zu/%zu levels, reference %zu/%zu", kb, ka, nb, na);
    }
}

/* One random diff: 1..40 levels, mostly near the top, sometimes far away,
 * a quarter of them removals (also of absent levels), repeats possible. */
static void gen_diff(struct xgw_level *bl, size_t *nb, struct xgw_level *al, size_t *na)
{
    size_t n = 1 + rndn(40);
    *nb = *na = 0;
    for (size_t i = 0; i < n; i++) {
        bool ask = rndn(2);
        int dist = rndn(4) ? (int)rndn(60) : (int)rndn(G);
        int t = ask ? G + 1 + dist : G - dist;
        struct xgw_level *l = ask ? &al[(*na)++] : &bl[(*nb)++];
        l->price = tick_dec(t);
        l->qty.mant = rndn(4) == 0 ? 0 : 1 + (int64_t)rndn(1000000);
        l->qty.scale = 3;
    }
}

static void ref_apply(struct ref *r, const struct xgw_level *bl, size_t nb, const struct xgw_level *al,
                      size_t na)
{
    for (size_t i = 0; i < nb; i++)
        ref_set(r, dec_tick(bl[i].price), bl[i].qty.mant);
    for (size_t i = 0; i < na; i++)
        ref_set(r, dec_tick(al[i].price), al[i].qty.mant);
}

/* Futures diffs with lost messages, duplicates and late snapshots; the book
 * must equal the reference after every snapshot + replay and at
 * checkpoints, and must never apply a diff while resyncing. */
static void run_random(uint64_t seed, uint32_t depth, int updates)
{
    rng_s = seed;
    struct ref *r = calloc(1, sizeof *r);
    struct ref *at_snap = calloc(1, sizeof *at_snap);
    struct xgw_level *eb = calloc(G, sizeof *eb), *ea = calloc(G, sizeof *ea);
    struct xgw_level *sbl = calloc(G, sizeof *sbl), *sal = calloc(G, sizeof *sal);
    assert_non_null(r);
    assert_non_null(at_snap);
    assert_non_null(eb);
    assert_non_null(ea);
    assert_non_null(sbl);
    assert_non_null(sal);
    r->depth = depth;
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, depth ? depth : 2 * G);
    assert_non_null(b);

    int64_t u = 1000, next_U = 1001;
    int64_t snap_at = -1; /* message index whose state the pending snapshot shows */
    int64_t snap_seq = 0;
    int since_gap = 0, gaps = 0, snaps = 0, dups = 0;
    bool lost = false, prev_delivered = false;
    struct xgw_level bl[64], al[64], pbl[64], pal[64];
    size_t pnb = 0, pna = 0;
    struct xgw_book_info prev;
    memset(&prev, 0, sizeof prev);

    for (int i = 0; i < updates; i++) {
        size_t nb, na;
        gen_diff(bl, &nb, al, &na);
        int64_t pu = u, U = next_U;
        u = U + rndn(5);
        next_U = u + 1 + rndn(3); /* futures ids need not be contiguous */
        struct xgw_book_info in = diff(U, u, pu);
        ref_apply(r, bl, nb, al, na);

        enum xgw__book_state st0 = xgw__book_state(b);
        bool drop = st0 == XGW__BOOK_LIVE && !lost && i < updates - 1 && rndn(500) == 0;
        if (drop) {
            lost = true; /* lose this message: the next one must reveal the gap */
            gaps++;
        } else {
            enum xgw__book_result res = xgw__book_apply(b, &in, bl, nb, al, na);
            if (st0 != XGW__BOOK_LIVE) {
                assert_int_equal(res, XGW__BOOK_BUFFERED); /* never applied while resyncing */
            } else if (lost) {
                assert_int_equal(res, XGW__BOOK_GAP_NEEDS_SNAPSHOT);
                assert_int_equal(xgw__book_reason(b), XGW__BOOK_R_SEQ_GAP);
                lost = false;
            } else {
                assert_int_equal(res, XGW__BOOK_APPLIED);
            }
        }
        /* Sometimes the previous message again (a second connection). */
        if (prev_delivered && !drop && xgw__book_state(b) == XGW__BOOK_LIVE && rndn(50) == 0) {
            assert_int_equal(xgw__book_apply(b, &prev, pbl, pnb, pal, pna), XGW__BOOK_IGNORED_STALE);
            dups++;
        }
        prev = in;
        memcpy(pbl, bl, nb * sizeof bl[0]);
        memcpy(pal, al, na * sizeof al[0]);
        pnb = nb;
        pna = na;
        prev_delivered = !drop;

        if (xgw__book_state(b) != XGW__BOOK_LIVE) {
            since_gap++;
            /* The "REST snapshot" is taken a few messages after the gap and
             * delivered a few messages later still, as in real life. Its
             * lastUpdateId is the last u it covers (then that diff is
             * applied once more, harmless without a cap: quantities are
             * absolute), or the next U (that diff bridges it). */
            if (snap_at < 0 && since_gap >= 1 + (int)rndn(4)) {
                *at_snap = *r;
                snap_at = i;
                snap_seq = depth == 0 && rndn(2) ? u : next_U;
            } else if (snap_at >= 0 && i - snap_at >= 1 + (int64_t)rndn(6)) {
                size_t snb = ref_levels(at_snap, 0, sbl), sna = ref_levels(at_snap, 1, sal);
                struct xgw_book_info si = snap(snap_seq);
                assert_int_equal(xgw__book_apply(b, &si, sbl, snb, sal, sna), XGW__BOOK_APPLIED);
                assert_int_equal(xgw__book_state(b), XGW__BOOK_LIVE);
                assert_int_equal(xgw__book_seq(b), u);
                assert_same(b, r, eb, ea);
                snap_at = -1;
                since_gap = 0;
                snaps++;
            }
        }
        if (i % 997 == 0 && xgw__book_state(b) == XGW__BOOK_LIVE && !lost)
            assert_same(b, r, eb, ea);
    }
    if (xgw__book_state(b) != XGW__BOOK_LIVE) {
        size_t snb = ref_levels(r, 0, sbl), sna = ref_levels(r, 1, sal);
        struct xgw_book_info si = snap(u);
        assert_int_equal(xgw__book_apply(b, &si, sbl, snb, sal, sna), XGW__BOOK_APPLIED);
    }
    assert_same(b, r, eb, ea);

    /* The checksum of the book equals that of a book loaded from the
     * reference in one snapshot, and changes when one qty does. */
    struct xgw__book *c = xgw__book_new(XGW_BOOK_SNAPSHOTS, depth ? depth : 2 * G);
    size_t snb = ref_levels(r, 0, sbl), sna = ref_levels(r, 1, sal);
    struct xgw_book_info si = snap(u);
    assert_int_equal(xgw__book_apply(c, &si, sbl, snb, sal, sna), XGW__BOOK_APPLIED);
    assert_true(xgw__book_checksum(b, 0) == xgw__book_checksum(c, 0));
    assert_true(xgw__book_checksum(b, 20) == xgw__book_checksum(c, 20));
    sbl[0].qty.mant++;
    assert_int_equal(xgw__book_apply(c, &si, sbl, snb, sal, sna), XGW__BOOK_APPLIED);
    assert_true(xgw__book_checksum(b, 0) != xgw__book_checksum(c, 0));

    struct xgw__book_stats st;
    xgw__book_stats(b, &st);
    assert_true(gaps >= 5); /* the run really exercised resyncs ... */
    assert_true(snaps >= gaps);
    assert_true(dups >= 50); /* ... and duplicates */
    assert_true(st.gaps >= (uint64_t)gaps);
    print_message("seed %llu depth %u: %d updates, %d gaps, %d snapshots, %d duplicates, %llu stale\n",
                  (unsigned long long)seed, depth, updates, gaps, snaps, dups, (unsigned long long)st.stale);

    xgw__book_free(b);
    xgw__book_free(c);
    free(r);
    free(at_snap);
    free(eb);
    free(ea);
    free(sbl);
    free(sal);
}

static void test_random_vs_reference(void **state)
{
    (void)state;
    run_random(0x9e3779b97f4a7c15ULL, 0, 10000);
}

/* The same with a small depth cap: exercises far-level drops, skipped far
 * inserts and the re-centring of the level arrays. */
static void test_random_capped(void **state)
{
    (void)state;
    run_random(12345, 10, 6000);
    run_random(777, 100, 6000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_then_diffs),      cmocka_unit_test(test_exact_text_back),
        cmocka_unit_test(test_buffer_and_stale_drop),    cmocka_unit_test(test_first_diff_bridge),
        cmocka_unit_test(test_pu_chain_gap_and_replay),  cmocka_unit_test(test_gap_inside_buffer),
        cmocka_unit_test(test_duplicates_and_stale_run), cmocka_unit_test(test_buffer_overflow_keeps_newest),
        cmocka_unit_test(test_zero_qty_removal),         cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_price_scale_growth),       cmocka_unit_test(test_crossed),
        cmocka_unit_test(test_snapshot_model),           cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_random_vs_reference),      cmocka_unit_test(test_random_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
