/*
 * test_stream_binance.c — managed streams (core/stream.c, core/ws.c)
 * against the mock exchange's Binance WebSocket on loopback, through the
 * real binance.so plugin and the public API (xgw/stream.h).
 *
 * Covered: subscribe + receive (ticker, trades, book; two symbols) with
 * values checked; connection drops every 2 s → every subscription comes
 * back each time with a gap event and nothing is subscribed twice (the
 * mock counts SUBSCRIBE messages per connection); a stalled connection is
 * recycled within ws_stale_s + backoff; an injected sequence gap → the book
 * resyncs from a new snapshot and equals the mock's book; with routes, the
 * merged ticker starts over when its bid/ask connection closes and after a
 * gap on it (no @ticker frame delivers old bid/ask while /public is down,
 * whether its reconnections open or are refused).
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"
#include "tu_mockex.h"
#include "tu_proc.h"
#include "tu_stream.h"
#include "tu_streamrec.h"
#include "xgw/stream.h"
#include "xgw/xgw.h"

static const char *const KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
static const char *const SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

struct fx {
    struct tu_stream_gw g; /* the mock and the gateway with instance "bn" */
    struct tu_rec r;
};

/* ws_port: the mock's port index the WebSocket endpoint uses (1: a port of
 * its own, so a test can refuse WS reconnections there while REST and the
 * mock's control API stay on port 0). */
static int setup_with(void **state, const char *stale_s, bool routed, int ws_port)
{
    struct fx *f = calloc(1, sizeof *f);
    tu_rec_init(&f->r, true, false, false);
    const char *args[] = {"--tick-ms", "100", "--port", "0", "--port", "0", NULL}; /* two ports */
    if (tu_stream_start_mock(&f->g, args) != 0) {
        free(f);
        return -1;
    }
    char ini[4096];
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = warn\n\n"
             "[exchange.bn]\nplugin = binance\nrest_endpoints = https://127.0.0.1:%d\n"
             "ws_endpoints = wss://localhost:%d\nca_file = %s\napi_key = %s\napi_secret = %s\n"
             "ws_routed = %s\nws_reconnect_initial_ms = 100\nws_reconnect_max_ms = 1000\n"
             "ws_stale_s = %s\nwarmup = false\n",
             getenv("XGW_PLUGIN_DIR"), f->g.mx.ports[0], f->g.mx.ports[ws_port], f->g.mx.cert, KEY, SECRET,
             routed ? "true" : "false", stale_s);
    if (tu_stream_start_gw(&f->g, ini, "bn") != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* ws_stale_s 2 only where a test waits for a stall to be noticed:
 * elsewhere a loaded machine starving a connection for 2 s would recycle it,
 * one connection (and one gap) more than a test counts; with routes, /market
 * carries one @ticker a second and nothing else while /public is down. */
static int setup(void **state) { return setup_with(state, "10", false, 0); }
static int setup_stale_2s(void **state) { return setup_with(state, "2", false, 0); }
static int setup_routed(void **state) { return setup_with(state, "10", true, 0); }
static int setup_routed_ws_port(void **state) { return setup_with(state, "10", true, 1); }

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_stream_close(&f->g);
    pthread_mutex_destroy(&f->r.mu);
    free(f);
    return 0;
}

static struct xgw_sub *sub(struct fx *f, enum xgw_channel ch, uint32_t depth)
{
    const char *syms[] = {"BTCUSDT", "ETHUSDT"};
    struct xgw_sub *s = NULL;
    struct xgw_error err;
    int rc = xgw_subscribe(f->g.ex, ch, syms, 2, depth, tu_rec_on_event, &f->r, &s, &err);
    if (rc != 0)
        fprintf(stderr, "subscribe: %s\n", err.message);
    assert_int_equal(rc, 0);
    assert_non_null(s);
    return s;
}

static long mock_counter(struct fx *f, const char *name)
{
    return (long)tu_mockex_state_num(&f->g.mx, "counters", "binance", name);
}

static void test_subscribe_receive(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *s1 = sub(f, XGW_CH_TICKER, 0);
    struct xgw_sub *s2 = sub(f, XGW_CH_TRADES, 0);
    struct xgw_sub *s3 = sub(f, XGW_CH_BOOK, 10);
    struct tu_rec *r = &f->r;
    long *all[] = {&r->tickers[0], &r->tickers[1], &r->trades[0], &r->trades[1], &r->books[0], &r->books[1]};
    assert_true(tu_rec_wait(r, all, 6, 3, 15000));
    assert_int_equal(tu_rec_snap(r, &r->bad), 0);
    struct xgw_sub_stats st;
    assert_int_equal(xgw_sub_stats(s3, &st), 0);
    assert_int_equal(st.state, XGW_SUB_LIVE);
    assert_true(st.events >= 3);
    /* depth 10 was asked: never more */
    pthread_mutex_lock(&r->mu);
    assert_true(r->nb <= 10 && r->na <= 10);
    pthread_mutex_unlock(&r->mu);
    /* all three subscriptions share one connection (unrouted Binance) */
    assert_int_equal(mock_counter(f, "ws_connections"), 1);
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    assert_non_null(m);
    assert_int_equal(atomic_load(&m->connections), 1);
    assert_true(atomic_load(&m->frames) > 10);
    assert_int_equal(atomic_load(&m->parse_errors), 0);
    assert_true(atomic_load(&m->ch[XGW_CH_TICKER].lat_count) > 0);
    /* the same counters through the public metrics API, in both formats */
    char *js = NULL, *prom = NULL;
    assert_int_equal(xgw_metrics(f->g.gw, XGW_METRICS_JSON, &js), 0);
    cJSON *j = cJSON_Parse(js);
    assert_non_null(j);
    const cJSON *sm = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "streams"), 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(sm, "exchange")), "bn");
    const cJSON *tk = cJSON_GetObjectItem(cJSON_GetObjectItem(sm, "channels"), "ticker");
    assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(tk, "messages")) > 0);
    cJSON_Delete(j);
    free(js);
    assert_int_equal(xgw_metrics(f->g.gw, XGW_METRICS_PROMETHEUS, &prom), 0);
    assert_non_null(strstr(prom, "xgw_stream_messages_total{exchange=\"bn\",channel=\"ticker\"} "));
    assert_non_null(strstr(prom, "xgw_ws_connections{exchange=\"bn\"} 1"));
    free(prom);
    xgw_unsubscribe(s1);
    xgw_unsubscribe(s2);
    xgw_unsubscribe(s3);
}

/* Tickers as a bot sees them: the merged BTCUSDT ticker of two exchange
 * streams (@bookTicker: bid/ask, @ticker: last). */
struct tk_rec {
    pthread_mutex_t mu;
    long events, full; /* full: bid, ask and last all present */
    struct xgw_ticker last;
};

static void tk_on_event(void *user, const struct xgw_event *ev)
{
    struct tk_rec *r = user;
    if (ev->type != XGW_EV_TICKER || strcmp(ev->symbol, "BTCUSDT") != 0)
        return;
    pthread_mutex_lock(&r->mu);
    r->events++;
    const struct xgw_ticker *t = ev->ticker;
    if (!xgw_dec_is_none(t->bid) && !xgw_dec_is_none(t->ask) && !xgw_dec_is_none(t->last) &&
        !xgw_dec_is_none(t->bid_qty))
        r->full++;
    r->last = *t;
    pthread_mutex_unlock(&r->mu);
}

static long tk_full(struct tk_rec *r)
{
    pthread_mutex_lock(&r->mu);
    long n = r->full;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* A ticker subscription is two exchange streams: with routes (the real
 * exchange since 2026) one connection on /public and one on /market, and
 * every event carries best bid/ask and the last price; without routes both
 * go in one SUBSCRIBE on one connection and each frame is delivered once. */
static void check_ticker_parts(struct fx *f, long want_conns)
{
    struct tk_rec r = {.mu = PTHREAD_MUTEX_INITIALIZER};
    const char *syms[] = {"BTCUSDT"};
    struct xgw_sub *s = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_TICKER, syms, 1, 0, tk_on_event, &r, &s, &err), 0);
    for (int i = 0; i < 150 && tk_full(&r) < 3; i++)
        usleep(100 * 1000);
    assert_true(tk_full(&r) >= 3);
    assert_int_equal(mock_counter(f, "ws_connections"), want_conns);
    assert_int_equal(mock_counter(f, "subscribe_messages"), want_conns);
    struct xgw_sub_stats st;
    assert_int_equal(xgw_sub_stats(s, &st), 0);
    assert_int_equal(st.state, XGW_SUB_LIVE);
    xgw_unsubscribe(s);
    /* Each frame delivered once: never more ticker events than frames (a
     * frame handed to both parts on a shared connection would double them). */
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    pthread_mutex_lock(&r.mu);
    assert_true(r.events > 0 && (uint64_t)r.events <= (uint64_t)atomic_load(&m->frames));
    assert_true(xgw_dec_cmp(r.last.bid, r.last.ask) < 0);
    /* the last trade within 1 % of the touch (the mock trades at its best prices) */
    xgw_dec lo, hi, k99, k101;
    assert_int_equal(xgw_dec_parse_cstr("0.99", &k99), 0);
    assert_int_equal(xgw_dec_parse_cstr("1.01", &k101), 0);
    assert_int_equal(xgw_dec_mul(r.last.bid, k99, &lo), 0);
    assert_int_equal(xgw_dec_mul(r.last.ask, k101, &hi), 0);
    assert_true(xgw_dec_cmp(r.last.last, lo) > 0 && xgw_dec_cmp(r.last.last, hi) < 0);
    pthread_mutex_unlock(&r.mu);
    pthread_mutex_destroy(&r.mu);
}

static void test_ticker_parts_routed(void **state) { check_ticker_parts(*state, 2); }
static void test_ticker_parts_unrouted(void **state) { check_ticker_parts(*state, 1); }

/* The merged ticker after a gap on its bid/ask connection. Counted per
 * phase: `stale` is every ticker delivered since the first GAP while the
 * test has not yet ended the outage (any would carry pre-gap bid/ask, the
 * only ones the core holds), `since_gap` / `full_since_gap` the tickers
 * after the latest GAP (full: last price too). */
struct gap_rec {
    pthread_mutex_t mu;
    long gaps, tickers, bad, stale, since_gap, full_since_gap;
    bool outage; /* set by the test until it removes the faults */
    /* down_since_reconnects: while set, `down` counts the tickers delivered
     * once sub's reconnect count exceeds reconnects0 (the core has seen the
     * connection close); read in the callback, on the loop thread that
     * counts the reconnect, so none slips past */
    struct xgw_sub *sub;
    bool watch_down;
    uint64_t reconnects0;
    long down;
};

static void gap_on_event(void *user, const struct xgw_event *ev)
{
    struct gap_rec *r = user;
    pthread_mutex_lock(&r->mu);
    if (ev->type == XGW_EV_GAP) {
        r->gaps++;
        r->since_gap = r->full_since_gap = 0;
    } else if (ev->type == XGW_EV_TICKER) {
        const struct xgw_ticker *t = ev->ticker;
        r->tickers++;
        if (strcmp(ev->symbol, "BTCUSDT") != 0 || xgw_dec_is_none(t->bid) || xgw_dec_is_none(t->ask) ||
            xgw_dec_cmp(t->bid, t->ask) >= 0)
            r->bad++;
        if (r->outage && r->gaps > 0)
            r->stale++;
        struct xgw_sub_stats st;
        if (r->watch_down && r->sub && xgw_sub_stats(r->sub, &st) == 0 && st.reconnects > r->reconnects0)
            r->down++;
        r->since_gap++;
        if (!xgw_dec_is_none(t->last))
            r->full_since_gap++;
    }
    pthread_mutex_unlock(&r->mu);
}

static long gap_snap(struct gap_rec *r, const long *v)
{
    pthread_mutex_lock(&r->mu);
    long x = *v;
    pthread_mutex_unlock(&r->mu);
    return x;
}

/* Polls (20 ms) until *v >= min; false after ms. */
static bool gap_wait(struct gap_rec *r, const long *v, long min, int ms)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        if (gap_snap(r, v) >= min)
            return true;
        usleep(20000);
    }
    return false;
}

/* Connections the mock accepted on paths starting with prefix (its
 * requests.by_path counts each WebSocket upgrade under its path). */
static long mock_conns_under(struct fx *f, const char *prefix)
{
    cJSON *st = tu_mockex_state(&f->g.mx);
    const cJSON *bp = cJSON_GetObjectItem(cJSON_GetObjectItem(st, "requests"), "by_path");
    long n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, bp)
    {
        if (!strncmp(e->string, prefix, strlen(prefix)))
            n += (long)e->valuedouble;
    }
    cJSON_Delete(st);
    return n;
}

static uint64_t sub_messages(struct xgw_sub *s)
{
    struct xgw_sub_stats st;
    assert_int_equal(xgw_sub_stats(s, &st), 0);
    return st.messages;
}

/* A BTCUSDT ticker subscription recorded by r, once it delivers full
 * tickers (bid, ask and last). */
static struct xgw_sub *full_ticker_sub(struct fx *f, struct gap_rec *r)
{
    const char *syms[] = {"BTCUSDT"};
    struct xgw_sub *s = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_TICKER, syms, 1, 0, gap_on_event, r, &s, &err), 0);
    pthread_mutex_lock(&r->mu);
    r->sub = s;
    pthread_mutex_unlock(&r->mu);
    assert_true(gap_wait(r, &r->full_since_gap, 3, 15000));
    return s;
}

/* Faults removed: /public comes back (a GAP after gaps_before), then
 * tickers with bid and ask and the last price merged in again; no ticker
 * ever lacked bid or ask. */
static void faults_off_full_again(struct fx *f, struct gap_rec *r, long gaps_before)
{
    struct tu_http h;
    assert_int_equal(
        tu_mockex_http(&f->g.mx, f->g.mx.ports[0], "DELETE", "/_mock/faults", NULL, NULL, 3000, &h), 0);
    assert_int_equal(h.status, 200);
    tu_http_free(&h);
    for (int i = 0; i < 750 && !(gap_snap(r, &r->gaps) > gaps_before && gap_snap(r, &r->full_since_gap) >= 1);
         i++)
        usleep(20000);
    assert_true(gap_snap(r, &r->gaps) > gaps_before);
    assert_true(gap_snap(r, &r->full_since_gap) >= 1);
    assert_int_equal(gap_snap(r, &r->bad), 0);
    assert_int_equal(mock_conns_under(f, "/market/"), 1);
}

/* A gap on the bid/ask connection (/public, @bookTicker) while the last
 * price connection (/market, @ticker) stays up: from the GAP on, no ticker
 * is delivered until @bookTicker has sent bid and ask again. Without the
 * reset, every @ticker frame would be delivered with the bid/ask from
 * before the gap. The mock closes /public and every reconnection to it at
 * once, so the core sees a GAP on each brief reconnection and no bid/ask
 * at all while /market keeps delivering @ticker. */
static void test_ticker_starts_over_after_gap(void **state)
{
    struct fx *f = *state;
    struct gap_rec r = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct xgw_sub *s = full_ticker_sub(f, &r);
    assert_int_equal(mock_conns_under(f, "/public/"), 1);
    assert_int_equal(mock_conns_under(f, "/market/"), 1);

    pthread_mutex_lock(&r.mu);
    r.outage = true;
    pthread_mutex_unlock(&r.mu);
    const char *down =
        "{\"kind\":\"ws_close\",\"exchange\":\"binance\",\"path\":\"/public/\",\"count\":1000000}";
    assert_int_equal(tu_mockex_fault(&f->g.mx, down), 0);
    /* the GAP comes with a reconnection of /public (closed again at once) */
    assert_true(gap_wait(&r, &r.gaps, 1, 10000));
    /* Two more records on the subscription after the GAP, both @ticker on
     * /market (/public sends nothing now): the loop thread delivered (or
     * held back) the first before it counted the second. */
    uint64_t m0 = sub_messages(s);
    for (int i = 0; i < 500 && sub_messages(s) < m0 + 2; i++)
        usleep(20000);
    assert_true(sub_messages(s) >= m0 + 2);
    pthread_mutex_lock(&r.mu);
    long stale = r.stale;
    r.outage = false;
    pthread_mutex_unlock(&r.mu);
    assert_int_equal(stale, 0);
    /* /public was closed and refused since (the open one + >= 1 reconnection),
     * /market never went down */
    assert_true(mock_counter(f, "ws_closed_by_fault") >= 2);
    assert_true(mock_conns_under(f, "/public/") >= 2);
    assert_int_equal(mock_conns_under(f, "/market/"), 1);

    faults_off_full_again(f, &r, gap_snap(&r, &r.gaps));
    xgw_unsubscribe(s);
    pthread_mutex_destroy(&r.mu);
}

/* The refused-port count of the mock's port `port`, -1 when not found. */
static long mock_refused(struct fx *f, int port)
{
    cJSON *st = tu_mockex_state(&f->g.mx);
    long n = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "ports"))
    {
        if (cJSON_GetObjectItem(e, "port")->valueint == port)
            n = (long)cJSON_GetObjectItem(e, "refused")->valuedouble;
    }
    cJSON_Delete(st);
    return n;
}

/* The bid/ask connection (/public) goes down and no reconnection ever opens
 * (the port refuses them), so no GAP comes: from the moment the core sees
 * the close, the @ticker frames still arriving on /market must not be
 * delivered with the last bid/ask of the dead connection. */
static void test_ticker_cleared_while_down(void **state)
{
    struct fx *f = *state;
    struct gap_rec r = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct xgw_sub *s = full_ticker_sub(f, &r);
    struct xgw_sub_stats st;
    assert_int_equal(xgw_sub_stats(s, &st), 0);
    pthread_mutex_lock(&r.mu);
    r.reconnects0 = st.reconnects;
    r.watch_down = true;
    long gaps0 = r.gaps;
    pthread_mutex_unlock(&r.mu);

    char faults[256];
    snprintf(faults, sizeof faults,
             "[{\"kind\":\"refuse\",\"port\":%d,\"count\":1000000},"
             "{\"kind\":\"ws_close\",\"exchange\":\"binance\",\"path\":\"/public/\",\"count\":1}]",
             f->g.mx.ports[1]);
    assert_int_equal(tu_mockex_fault(&f->g.mx, faults), 0);
    /* the core saw /public close ... */
    for (int i = 0; i < 500 && (xgw_sub_stats(s, &st), st.reconnects <= r.reconnects0); i++)
        usleep(20000);
    assert_true(st.reconnects > r.reconnects0);
    /* ... and two more records reached the subscription since, @ticker
     * frames from /market (the loop thread delivered or held back the
     * first before it counted the second) */
    uint64_t m0 = st.messages;
    for (int i = 0; i < 500 && sub_messages(s) < m0 + 2; i++)
        usleep(20000);
    assert_true(sub_messages(s) >= m0 + 2);
    assert_true(mock_refused(f, f->g.mx.ports[1]) >= 1); /* reconnections were tried and refused */
    pthread_mutex_lock(&r.mu);
    long down = r.down, gaps = r.gaps;
    r.watch_down = false;
    pthread_mutex_unlock(&r.mu);
    assert_int_equal(gaps, gaps0); /* no reconnection opened: no GAP to reset at */
    assert_int_equal(down, 0);
    assert_int_equal(mock_conns_under(f, "/market/"), 1);
    faults_off_full_again(f, &r, gaps0);
    xgw_unsubscribe(s);
    pthread_mutex_destroy(&r.mu);
}

static void test_drops_every_2s(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *s1 = sub(f, XGW_CH_TICKER, 0);
    struct xgw_sub *s2 = sub(f, XGW_CH_BOOK, 5);
    struct tu_rec *r = &f->r;
    long *tk[] = {&r->tickers[0], &r->tickers[1], &r->books[0], &r->books[1]};
    assert_true(tu_rec_wait(r, tk, 4, 1, 15000));
    const int drops = 5;
    for (int d = 1; d <= drops; d++) {
        sleep(2);
        assert_int_equal(
            tu_mockex_fault(&f->g.mx, "{\"kind\":\"ws_close\",\"exchange\":\"binance\",\"count\":1}"), 0);
        /* comes back: a gap event per subscription, then data again */
        long *g[] = {&r->gaps};
        assert_true(tu_rec_wait(r, g, 1, 2L * d, 10000));
        long *ag[] = {&r->after_gap[0], &r->after_gap[1]};
        assert_true(tu_rec_wait(r, ag, 2, 1, 10000));
    }
    assert_int_equal(tu_rec_snap(r, &r->gaps), 2L * drops);
    assert_int_equal(tu_rec_snap(r, &r->bad), 0);
    long conns = mock_counter(f, "ws_connections");
    assert_int_equal(conns, drops + 1);
    /* nothing subscribed twice: one SUBSCRIBE per connection (both
     * subscriptions' four streams go in one message) */
    assert_int_equal(mock_counter(f, "subscribe_messages"), conns);
    struct xgw_sub_stats st;
    xgw_sub_stats(s1, &st);
    assert_int_equal(st.gaps, drops);
    assert_int_equal(st.reconnects, drops);
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    assert_int_equal(atomic_load(&m->reconnects), drops);
    xgw_unsubscribe(s1);
    xgw_unsubscribe(s2);
}

static void test_stall_recycled(void **state)
{
    struct fx *f = *state; /* setup_stale_2s: ws_stale_s = 2, backoff 100..1000 ms */
    struct xgw_sub *s1 = sub(f, XGW_CH_TICKER, 0);
    struct tu_rec *r = &f->r;
    long *tk[] = {&r->tickers[0], &r->tickers[1]};
    assert_true(tu_rec_wait(r, tk, 2, 1, 15000));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(
        tu_mockex_fault(&f->g.mx, "{\"kind\":\"ws_stall\",\"exchange\":\"binance\",\"count\":1}"), 0);
    long *g[] = {&r->gaps};
    assert_true(tu_rec_wait(r, g, 1, 1, 10000));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    /* stale after 2 s (+ one 100 ms tick), then backoff and handshake: no
     * sooner; later only as a loaded machine runs the tick late (the 10 s
     * wait bounds it, and stale_recycles below names the cause) */
    assert_true(ms >= 1800);
    long *ag[] = {&r->after_gap[0], &r->after_gap[1]};
    assert_true(tu_rec_wait(r, ag, 2, 1, 10000));
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    assert_int_equal(atomic_load(&m->stale_recycles), 1);
    assert_int_equal(mock_counter(f, "ws_stalled"), 1);
    xgw_unsubscribe(s1);
}

static bool book_matches_mock(struct fx *f, int64_t *seq_out)
{
    struct tu_rec *r = &f->r;
    struct tu_http h;
    if (tu_mockex_http(&f->g.mx, f->g.mx.ports[0], "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5", NULL, NULL,
                       3000, &h) != 0 ||
        h.status != 200) {
        tu_http_free(&h);
        return false;
    }
    cJSON *j = cJSON_Parse(h.body);
    tu_http_free(&h);
    bool ok = false;
    const cJSON *lu = cJSON_GetObjectItem(j, "lastUpdateId");
    pthread_mutex_lock(&r->mu);
    if (cJSON_IsNumber(lu) && (int64_t)lu->valuedouble == r->last_seq && r->nb >= 5 && r->na >= 5) {
        ok = true;
        *seq_out = r->last_seq;
        const char *sides[] = {"bids", "asks"};
        for (int s = 0; s < 2 && ok; s++) {
            const cJSON *arr = cJSON_GetObjectItem(j, sides[s]);
            const struct xgw_level *mine = s ? r->asks : r->bids;
            int k = 0;
            const cJSON *lv;
            cJSON_ArrayForEach(lv, arr)
            {
                if (k >= 5)
                    break;
                xgw_dec p, q;
                if (xgw_dec_parse_cstr(cJSON_GetArrayItem(lv, 0)->valuestring, &p) ||
                    xgw_dec_parse_cstr(cJSON_GetArrayItem(lv, 1)->valuestring, &q) ||
                    xgw_dec_cmp(p, mine[k].price) || xgw_dec_cmp(q, mine[k].qty))
                    ok = false;
                k++;
            }
            ok = ok && k == 5;
        }
    }
    pthread_mutex_unlock(&r->mu);
    cJSON_Delete(j);
    return ok;
}

static void test_seq_gap_resync(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *s = sub(f, XGW_CH_BOOK, 20);
    struct tu_rec *r = &f->r;
    long *bk[] = {&r->books[0], &r->books[1]};
    assert_true(tu_rec_wait(r, bk, 2, 3, 15000));
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    assert_int_equal(atomic_load(&m->ch[XGW_CH_BOOK].gaps), 0);
    assert_int_equal(tu_mockex_fault(&f->g.mx, "{\"kind\":\"ws_gap\",\"exchange\":\"binance\",\"count\":1}"),
                     0);
    for (int i = 0; i < 100 && atomic_load(&m->ch[XGW_CH_BOOK].gaps) == 0; i++)
        usleep(50000);
    assert_int_equal(atomic_load(&m->ch[XGW_CH_BOOK].gaps), 1);
    assert_int_equal(mock_counter(f, "ws_gaps"), 1);
    long before = tu_rec_snap(r, &r->books[0]);
    long *b0[] = {&r->books[0]};
    assert_true(tu_rec_wait(r, b0, 1, before + 5, 15000));
    struct xgw_sub_stats st;
    xgw_sub_stats(s, &st);
    assert_true(st.resyncs >= 1);
    assert_int_equal(st.state, XGW_SUB_LIVE);
    /* the resynced book is the mock's book: compare the top 5 whenever our
     * last delivered sequence equals the mock's lastUpdateId */
    int64_t seq = 0;
    bool same = false;
    for (int i = 0; i < 200 && !same; i++) {
        same = book_matches_mock(f, &seq);
        if (!same)
            usleep(3000);
    }
    assert_true(same);
    assert_false(r->seq_went_back);
    assert_int_equal(tu_rec_snap(r, &r->bad), 0);
    xgw_unsubscribe(s);
}

static void place(struct fx *f, const char *cid)
{
    struct xgw_call call;
    memset(&call, 0, sizeof call);
    snprintf(call.order.symbol, sizeof call.order.symbol, "BTCUSDT");
    call.order.side = XGW_SIDE_BUY;
    call.order.type = XGW_TYPE_LIMIT;
    xgw_dec_parse_cstr("0.010", &call.order.qty);
    xgw_dec_parse_cstr("40000.0", &call.order.price);
    snprintf(call.order.client_id, sizeof call.order.client_id, "%s", cid);
    struct xgw_result *res = NULL;
    struct xgw_error err;
    int rc = xgw_call_sync(f->g.ex, XGW_OP_PLACE, &call, &res, &err);
    if (rc)
        fprintf(stderr, "place: %s\n", err.message);
    assert_int_equal(rc, 0);
    xgw_result_free(res);
}

static bool last_cid_is(struct tu_rec *r, const char *cid)
{
    pthread_mutex_lock(&r->mu);
    bool yes = !strcmp(r->last_client_id, cid);
    pthread_mutex_unlock(&r->mu);
    return yes;
}

/* listenKey from REST (XGW_OP_WS_TOKEN through the request path), the
 * user stream on /ws/<listenKey>, order events with the client id. */
static void test_orders_stream(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *s = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_ORDERS, NULL, 0, 0, tu_rec_on_event, &f->r, &s, &err), 0);
    struct tu_rec *r = &f->r;
    struct xgw_sub_stats st = {0};
    for (int i = 0; i < 750 && st.state != XGW_SUB_LIVE; i++) { /* live = connected with a key */
        xgw_sub_stats(s, &st);
        if (st.state != XGW_SUB_LIVE)
            usleep(20000);
    }
    assert_int_equal(st.state, XGW_SUB_LIVE); /* an order placed before would not be streamed */
    place(f, "xgwstream1");
    for (int i = 0; i < 250 && !last_cid_is(r, "xgwstream1"); i++)
        usleep(20000);
    assert_true(last_cid_is(r, "xgwstream1"));
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    assert_int_equal(atomic_load(&m->token_fetches), 1);
    assert_int_equal(atomic_load(&m->connections), 1);
    place(f, "xgwstream2");
    for (int i = 0; i < 250 && !last_cid_is(r, "xgwstream2"); i++)
        usleep(20000);
    assert_true(last_cid_is(r, "xgwstream2"));
    assert_int_equal(mock_counter(f, "ws_bad_listenkey"), 0);
    assert_int_equal(tu_rec_snap(r, &r->bad), 0);
    xgw_unsubscribe(s);
}

static void test_bad_args(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *s = NULL;
    struct xgw_error err;
    const char *syms[] = {"BTCUSDT"};
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_TICKER, syms, 0, 0, tu_rec_on_event, &f->r, &s, &err),
                     XGW_ERR_INVALID_REQUEST);
    assert_int_equal(
        xgw_subscribe(f->g.ex, (enum xgw_channel)99, syms, 1, 0, tu_rec_on_event, &f->r, &s, &err),
        XGW_ERR_INVALID_REQUEST);
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_ORDERS, syms, 1, 0, tu_rec_on_event, &f->r, &s, &err),
                     XGW_ERR_INVALID_REQUEST);
    const char *empty[] = {""};
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_TICKER, empty, 1, 0, tu_rec_on_event, &f->r, &s, &err),
                     XGW_ERR_INVALID_REQUEST);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscribe_receive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ticker_parts_routed, setup_routed, teardown),
        cmocka_unit_test_setup_teardown(test_ticker_parts_unrouted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ticker_starts_over_after_gap, setup_routed, teardown),
        cmocka_unit_test_setup_teardown(test_ticker_cleared_while_down, setup_routed_ws_port, teardown),
        cmocka_unit_test_setup_teardown(test_drops_every_2s, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_recycled, setup_stale_2s, teardown),
        cmocka_unit_test_setup_teardown(test_seq_gap_resync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders_stream, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
