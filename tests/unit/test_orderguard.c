/*
 * tests/unit/test_orderguard.c — retry, re-sync and unknown-outcome
 * decisions for reads, PLACE and CANCEL: scripted tables plus a randomized
 * check of the safety invariants (at most one resend, resend only on proof).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backoff.h"
#include "orderguard.h"

#define SENT XGW_ERRF_SENT
#define NF XGW_ERRF_ORDER_NOT_FOUND
#define BO XGW_ERRF_BREAKER_OPEN

enum { FO_NO = 1, FO_YES = 2 };
#define DLY(x) .dly = (x) + 1

struct ev {
    /* outcome */
    int kind;
    unsigned flags;
    int http;
    int64_t retry_after, sent_ms;
    enum xgw_order_status status;
    int64_t now;
    /* expectation */
    enum xgw__og_action act;
    int kind_out; /* FAIL: kind; 0 (XGW_OK) = not checked */
    unsigned flags_out;
    int failover; /* 0 = not checked, FO_NO, FO_YES */
    int64_t dly;  /* 0 = not checked, else expected delay + 1 */
};

struct script {
    const char *name;
    enum xgw_op op;
    unsigned retry_max, lookup_max;
    int64_t recv_window;
    struct ev ev[10];
    size_t n;
};

/* outcome shorthands */
#define O(k, f, now_) .kind = (k), .flags = (f), .now = (now_)
#define E(a) .act = (a)

static const struct script scripts[] = {
    /* ---- reads ---- */
    {"read ok", XGW_OP_TICKER, 3, 3, 5000, {{O(XGW_OK, 0, 0), E(XGW__OG_RETURN)}}, 1},
    {"read retries then ok",
     XGW_OP_DEPTH,
     3,
     3,
     5000,
     {{O(XGW_ERR_NETWORK, 0, 0), E(XGW__OG_RETRY), .failover = FO_YES, DLY(0)},
      {O(XGW_ERR_TIMEOUT, SENT, 0), E(XGW__OG_RETRY), .failover = FO_YES},
      {O(XGW_ERR_SERVER, SENT, 0), .http = 503, E(XGW__OG_RETRY), .failover = FO_YES},
      {O(XGW_OK, SENT, 0), E(XGW__OG_RETURN)}},
     4},
    {"read retries exhausted",
     XGW_OP_BALANCES,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), E(XGW__OG_RETRY)},
      {O(XGW_ERR_TIMEOUT, SENT, 0), E(XGW__OG_RETRY)},
      {O(XGW_ERR_TIMEOUT, SENT, 0), E(XGW__OG_RETRY)},
      {O(XGW_ERR_TIMEOUT, SENT, 0), E(XGW__OG_RETURN)}},
     4},
    {"read retry_max 0", XGW_OP_MARKETS, 0, 3, 5000, {{O(XGW_ERR_NETWORK, 0, 0), E(XGW__OG_RETURN)}}, 1},
    {"protocol retried in place, 5xx moves",
     XGW_OP_POSITIONS,
     3,
     3,
     5000,
     {{O(XGW_ERR_PROTOCOL, SENT, 0), .http = 200, E(XGW__OG_RETRY), .failover = FO_NO},
      {O(XGW_ERR_PROTOCOL, SENT, 0), .http = 502, E(XGW__OG_RETRY), .failover = FO_YES},
      {O(XGW_OK, SENT, 0), E(XGW__OG_RETURN)}},
     3},
    {"read rate limited with retry-after",
     XGW_OP_OPEN_ORDERS,
     3,
     3,
     5000,
     {{O(XGW_ERR_RATE_LIMITED, SENT, 0), .http = 429, .retry_after = 2000, E(XGW__OG_RETRY), DLY(2000),
       .failover = FO_NO},
      {O(XGW_ERR_RATE_LIMITED, SENT, 0), .http = 429, E(XGW__OG_RETURN)}},
     2},
    {"read business errors are answers",
     XGW_OP_GET_ORDER,
     3,
     3,
     5000,
     {{O(XGW_ERR_INVALID_REQUEST, SENT | NF, 0), .http = 400, E(XGW__OG_RETURN)}},
     1},
    {"read auth", XGW_OP_BALANCES, 3, 3, 5000, {{O(XGW_ERR_AUTH, SENT, 0), E(XGW__OG_RETURN)}}, 1},
    {"read banned", XGW_OP_TICKER, 3, 3, 5000, {{O(XGW_ERR_BANNED, SENT, 0), E(XGW__OG_RETURN)}}, 1},
    {"read cancelled", XGW_OP_TICKER, 3, 3, 5000, {{O(XGW_ERR_CANCELLED, 0, 0), E(XGW__OG_RETURN)}}, 1},
    {"read breaker open fails fast",
     XGW_OP_TICKER,
     3,
     3,
     5000,
     {{O(XGW_ERR_NETWORK, BO, 0), E(XGW__OG_RETURN)}},
     1},
    {"signed read clock skew: one re-sync",
     XGW_OP_BALANCES,
     3,
     3,
     5000,
     {{O(XGW_ERR_CLOCK_SKEW, SENT, 0), E(XGW__OG_RESYNC)},
      {O(XGW_ERR_CLOCK_SKEW, SENT, 0), E(XGW__OG_RETURN)}},
     2},
    {"clock skew then ok",
     XGW_OP_POSITIONS,
     3,
     3,
     5000,
     {{O(XGW_ERR_CLOCK_SKEW, SENT, 0), E(XGW__OG_RESYNC)}, {O(XGW_OK, SENT, 0), E(XGW__OG_RETURN)}},
     2},
    {"ws token is a read",
     XGW_OP_WS_TOKEN,
     1,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), E(XGW__OG_RETRY)}, {O(XGW_OK, SENT, 0), E(XGW__OG_RETURN)}},
     2},

    /* ---- place ---- */
    {"place ok", XGW_OP_PLACE, 3, 3, 5000, {{O(XGW_OK, SENT, 0), E(XGW__OG_RETURN)}}, 1},
    {"place rejected: an answer, no lookup",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_REJECTED, SENT, 0), .http = 400, E(XGW__OG_RETURN)}},
     1},
    {"place rate limited: refused, no lookup",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_RATE_LIMITED, SENT, 0), .http = 429, .retry_after = 1000, E(XGW__OG_RETURN)}},
     1},
    {"place connection dropped after accept: found by client id",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_NETWORK, SENT, 1000), .sent_ms = 1000, E(XGW__OG_LOOKUP), .failover = FO_YES, DLY(0)},
      {O(XGW_OK, SENT, 1100), .sent_ms = 1050, .status = XGW_OS_NEW, E(XGW__OG_RETURN)}},
     2},
    {"place never received: proof, then one resend",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 11000), .sent_ms = 1000, E(XGW__OG_LOOKUP)},
      /* sent before 1000 + 5000 + 1000: not proof, ask again at 7000 */
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 6500), .sent_ms = 6400, E(XGW__OG_LOOKUP), DLY(500)},
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 7100), .sent_ms = 7000, E(XGW__OG_RESEND)},
      {O(XGW_OK, SENT, 7200), .sent_ms = 7150, E(XGW__OG_RETURN)}},
     4},
    {"place not found late enough at once",
     XGW_OP_PLACE,
     3,
     3,
     2000,
     {{O(XGW_ERR_TIMEOUT, SENT, 9000), .sent_ms = 1000, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 9100), .sent_ms = 9000, E(XGW__OG_RESEND)}},
     2},
    {"place not sent: retried like a read",
     XGW_OP_PLACE,
     2,
     3,
     5000,
     {{O(XGW_ERR_NETWORK, 0, 0), E(XGW__OG_RETRY), .failover = FO_YES},
      {O(XGW_ERR_NETWORK, 0, 0), E(XGW__OG_RETRY)},
      {O(XGW_ERR_NETWORK, 0, 0), E(XGW__OG_RETURN)}},
     3},
    {"place not sent, not transient",
     XGW_OP_PLACE,
     2,
     3,
     5000,
     {{O(XGW_ERR_INVALID_REQUEST, 0, 0), E(XGW__OG_RETURN)}},
     1},
    {"place breaker open", XGW_OP_PLACE, 2, 3, 5000, {{O(XGW_ERR_NETWORK, BO, 0), E(XGW__OG_RETURN)}}, 1},
    {"place lookups fail: UNKNOWN_OUTCOME",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 2, E(XGW__OG_LOOKUP), .failover = FO_YES},
      {O(XGW_ERR_RATE_LIMITED, SENT, 0), .sent_ms = 3, .retry_after = 1500, E(XGW__OG_LOOKUP), DLY(1500)},
      {O(XGW_ERR_SERVER, SENT, 0), .http = 500, .sent_ms = 4, E(XGW__OG_FAIL),
       .kind_out = XGW_ERR_UNKNOWN_OUTCOME}},
     4},
    {"place lookup auth error: UNKNOWN_OUTCOME",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_AUTH, SENT, 0), E(XGW__OG_FAIL), .kind_out = XGW_ERR_UNKNOWN_OUTCOME}},
     2},
    {"place 503 unknown / -1007 / SERVER all look up",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_SERVER, SENT, 0), .http = 503, .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_OK, SENT, 0), .status = XGW_OS_FILLED, E(XGW__OG_RETURN)}},
     2},
    {"place unknown outcome kind",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_UNKNOWN_OUTCOME, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_OK, SENT, 0), .status = XGW_OS_NEW, E(XGW__OG_RETURN)}},
     2},
    {"place protocol error after send",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_PROTOCOL, SENT, 0), .http = 200, .sent_ms = 1, E(XGW__OG_LOOKUP)}},
     1},
    {"place clock skew: re-sync and resend once",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_CLOCK_SKEW, SENT, 0), .http = 400, E(XGW__OG_RESYNC)},
      {O(XGW_ERR_CLOCK_SKEW, SENT, 0), .http = 400, E(XGW__OG_RETURN)}},
     2},
    {"lookup clock skew: re-sync, look up again",
     XGW_OP_PLACE,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_CLOCK_SKEW, SENT, 0), E(XGW__OG_RESYNC)},
      {O(XGW_OK, SENT, 0), .status = XGW_OS_NEW, E(XGW__OG_RETURN)}},
     3},
    {"resend refused as duplicate: original found",
     XGW_OP_PLACE,
     3,
     3,
     1000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1000, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 4000), .sent_ms = 3500, E(XGW__OG_RESEND)},
      {O(XGW_ERR_INVALID_REQUEST, SENT, 4100), .sent_ms = 4050, E(XGW__OG_LOOKUP), .failover = FO_NO, DLY(0)},
      {O(XGW_OK, SENT, 4200), .status = XGW_OS_NEW, E(XGW__OG_RETURN)}},
     4},
    {"resend refused, confirmed absent: the refusal stands",
     XGW_OP_PLACE,
     3,
     3,
     1000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1000, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 4000), .sent_ms = 3500, E(XGW__OG_RESEND)},
      {O(XGW_ERR_REJECTED, SENT, 4100), .sent_ms = 4050, E(XGW__OG_LOOKUP)},
      /* 4050 + 2000 = 6050: a lookup at 4150 is no proof for the resend either */
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 4200), .sent_ms = 4150, E(XGW__OG_LOOKUP), DLY(1850)},
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 6100), .sent_ms = 6050, E(XGW__OG_FAIL),
       .kind_out = XGW_ERR_REJECTED, .flags_out = NF}},
     5},
    {"resend lost too: proven absent, no second resend",
     XGW_OP_PLACE,
     3,
     3,
     1000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1000, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 4000), .sent_ms = 3500, E(XGW__OG_RESEND)},
      {O(XGW_ERR_TIMEOUT, SENT, 5000), .sent_ms = 4000, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 7000), .sent_ms = 6500, E(XGW__OG_FAIL),
       .kind_out = XGW_ERR_NETWORK, .flags_out = NF}},
     4},

    /* ---- cancel ---- */
    {"cancel ok", XGW_OP_CANCEL, 3, 3, 5000, {{O(XGW_OK, SENT, 0), E(XGW__OG_RETURN)}}, 1},
    {"cancel unknown order: an answer",
     XGW_OP_CANCEL,
     3,
     3,
     5000,
     {{O(XGW_ERR_INVALID_REQUEST, SENT | NF, 0), .http = 400, E(XGW__OG_RETURN)}},
     1},
    {"cancel timed out: resolved by lookup",
     XGW_OP_CANCEL,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_OK, SENT, 0), .status = XGW_OS_CANCELED, E(XGW__OG_RETURN)}},
     2},
    {"cancel timed out, order still open: cancel again once",
     XGW_OP_CANCEL,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_OK, SENT, 0), .status = XGW_OS_PARTIALLY_FILLED, E(XGW__OG_RESEND)},
      {O(XGW_OK, SENT, 0), E(XGW__OG_RETURN)}},
     3},
    {"cancel still open after the resend: the cancel failed",
     XGW_OP_CANCEL,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_OK, SENT, 0), .status = XGW_OS_NEW, E(XGW__OG_RESEND)},
      {O(XGW_ERR_NETWORK, SENT, 0), .sent_ms = 2, E(XGW__OG_LOOKUP)},
      {O(XGW_OK, SENT, 0), .status = XGW_OS_NEW, E(XGW__OG_FAIL), .kind_out = XGW_ERR_NETWORK}},
     4},
    {"cancel timed out, order gone: nothing to cancel",
     XGW_OP_CANCEL,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 0), E(XGW__OG_RETURN)}},
     2},
    {"cancel resend refused (filled meanwhile): confirm",
     XGW_OP_CANCEL,
     3,
     3,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_OK, SENT, 0), .status = XGW_OS_NEW, E(XGW__OG_RESEND)},
      {O(XGW_ERR_INVALID_REQUEST, SENT | NF, 0), .sent_ms = 2, E(XGW__OG_LOOKUP)},
      {O(XGW_OK, SENT, 0), .status = XGW_OS_FILLED, E(XGW__OG_RETURN)}},
     4},
    {"cancel lookups fail",
     XGW_OP_CANCEL,
     3,
     2,
     5000,
     {{O(XGW_ERR_TIMEOUT, SENT, 0), .sent_ms = 1, E(XGW__OG_LOOKUP)},
      {O(XGW_ERR_TIMEOUT, SENT, 0), E(XGW__OG_LOOKUP), .failover = FO_YES},
      {O(XGW_ERR_NETWORK, 0, 0), E(XGW__OG_FAIL), .kind_out = XGW_ERR_UNKNOWN_OUTCOME}},
     3},
};

static void test_scripts(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof scripts / sizeof scripts[0]; s++) {
        const struct script *sc = &scripts[s];
        struct xgw__og g;
        xgw__og_init(&g, sc->op, sc->retry_max, sc->lookup_max, sc->recv_window);
        for (size_t i = 0; i < sc->n; i++) {
            const struct ev *e = &sc->ev[i];
            struct xgw__og_outcome o = {.kind = e->kind,
                                        .flags = e->flags,
                                        .http_status = e->http,
                                        .retry_after_ms = e->retry_after,
                                        .sent_ms = e->sent_ms,
                                        .status = e->status};
            struct xgw__og_step st = xgw__og_next(&g, &o, e->now);
            if (st.action != e->act)
                fail_msg("%s: step %zu: %s, want %s", sc->name, i, xgw__og_action_name(st.action),
                         xgw__og_action_name(e->act));
            if (e->kind_out != XGW_OK && st.kind != e->kind_out)
                fail_msg("%s: step %zu: kind %s, want %s", sc->name, i, xgw_err_kind_name(st.kind),
                         xgw_err_kind_name(e->kind_out));
            if (st.action == XGW__OG_FAIL && st.flags != e->flags_out)
                fail_msg("%s: step %zu: flags %#x, want %#x", sc->name, i, st.flags, e->flags_out);
            if (e->failover && st.failover != (e->failover == FO_YES))
                fail_msg("%s: step %zu: failover %d", sc->name, i, st.failover);
            if (e->dly && st.delay_ms != e->dly - 1)
                fail_msg("%s: step %zu: delay %lld, want %lld", sc->name, i, (long long)st.delay_ms,
                         (long long)(e->dly - 1));
            if (st.action == XGW__OG_RETRY && st.backoff != true)
                fail_msg("%s: step %zu: retry without backoff", sc->name, i);
        }
    }
}

/* Randomized: whatever the exchange and the network do, a PLACE is resent at
 * most once, only after a lookup that was sent after the proof time, never
 * retried blindly after leaving the process, and the call ends. */
static void test_invariants_random(void **state)
{
    (void)state;
    static const int kinds[] = {
        XGW_OK,           XGW_ERR_NETWORK, XGW_ERR_TIMEOUT,         XGW_ERR_RATE_LIMITED,
        XGW_ERR_BANNED,   XGW_ERR_AUTH,    XGW_ERR_CLOCK_SKEW,      XGW_ERR_INVALID_REQUEST,
        XGW_ERR_REJECTED, XGW_ERR_SERVER,  XGW_ERR_UNKNOWN_OUTCOME, XGW_ERR_PROTOCOL,
        XGW_ERR_CANCELLED};
    uint64_t rng = 2026;
    for (int run = 0; run < 200000; run++) {
        enum xgw_op op = (run % 3 == 0) ? XGW_OP_CANCEL : (run % 3 == 1) ? XGW_OP_PLACE : XGW_OP_TICKER;
        struct xgw__og g;
        unsigned retry_max = (unsigned)(xgw__splitmix64(&rng) % 4u);
        xgw__og_init(&g, op, retry_max, 3, 5000);
        int64_t now = 1000;
        int64_t last_write_sent = 0;
        unsigned resends = 0, sends = 1, retries = 0;
        bool last_was_lookup = false, ended = false;
        for (int stepno = 0; stepno < 60; stepno++) {
            uint64_t r = xgw__splitmix64(&rng);
            struct xgw__og_outcome o = {0};
            o.kind = kinds[r % (sizeof kinds / sizeof kinds[0])];
            r >>= 8;
            o.flags = (unsigned)(r & 7u) & (SENT | NF | BO);
            r >>= 3;
            o.http_status = (r & 1u) ? 503 : 200;
            r >>= 1;
            o.retry_after_ms = (r & 1u) ? 1000 : 0;
            r >>= 1;
            o.status = (enum xgw_order_status)(r % 7u);
            r >>= 3;
            o.sent_ms = (o.flags & SENT) ? now : 0;
            if (!last_was_lookup && (o.flags & SENT))
                last_write_sent = now;
            struct xgw__og_step st = xgw__og_next(&g, &o, now);
            switch (st.action) {
            case XGW__OG_RETURN:
            case XGW__OG_FAIL:
                ended = true;
                break;
            case XGW__OG_RESEND:
                assert_true(op != XGW_OP_TICKER);
                assert_true(last_was_lookup);
                if (op == XGW_OP_PLACE) {
                    assert_true(o.flags & NF);
                    /* a lookup answer without sent_ms counts as sent at now */
                    int64_t lk = o.sent_ms ? o.sent_ms : now;
                    assert_true(lk >= last_write_sent + 5000 + XGW__OG_PROOF_MARGIN_MS);
                }
                resends++;
                sends++;
                last_was_lookup = false;
                break;
            case XGW__OG_RETRY:
                if (op != XGW_OP_TICKER)
                    assert_false(o.flags & SENT); /* a write is retried only if it never left */
                assert_false(last_was_lookup);
                retries++;
                sends++;
                break;
            case XGW__OG_RESYNC:
                assert_int_equal(o.kind, XGW_ERR_CLOCK_SKEW);
                break;
            case XGW__OG_LOOKUP:
                assert_true(op != XGW_OP_TICKER);
                last_was_lookup = true;
                break;
            }
            if (ended)
                break;
            now += st.delay_ms + 1 + (int64_t)(xgw__splitmix64(&rng) % 4000u);
        }
        assert_true(ended);
        assert_true(resends <= 1);
        assert_true(retries <= retry_max);
        (void)sends;
    }
}

static void test_class_and_names(void **state)
{
    (void)state;
    for (int op = 0; op < XGW_OP__COUNT; op++) {
        enum xgw__og_class want = op == XGW_OP_PLACE    ? XGW__OG_PLACE
                                  : op == XGW_OP_CANCEL ? XGW__OG_CANCEL
                                                        : XGW__OG_READ;
        assert_int_equal(xgw__og_class_of((enum xgw_op)op), want);
    }
    assert_string_equal(xgw__og_action_name(XGW__OG_LOOKUP), "lookup");
    assert_string_equal(xgw__og_action_name(XGW__OG_RESEND), "resend");
    struct xgw__og g;
    xgw__og_init(&g, XGW_OP_PLACE, 3, 0, -5);
    assert_int_equal(g.lookup_max, 1);
    assert_int_equal(g.proof_ms, XGW__OG_PROOF_MARGIN_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_invariants_random),
        cmocka_unit_test(test_class_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
