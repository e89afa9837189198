/*
 * test_stream_bitunix.c — managed streams against the mock exchange's
 * Bitunix WebSocket (/public and /private) on loopback, through the real
 * bitunix.so plugin and the public API (xgw/stream.h).
 *
 * Covered: ticker + trades + book (depth_book15 snapshots, no sequence) for
 * two symbols with values checked, the book equal to the mock's REST depth;
 * connection drops → every subscription comes back with a gap event and no
 * channel is subscribed twice (the mock counts channels per subscribe and
 * duplicates); a stall (no data, no pongs to the client pings) → recycled
 * within ws_stale_s + backoff; the private stream: signed login, then an
 * order event after a place through REST.
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

/* The mock's demo account (tools/mockex/README.md), not a secret. */
static const char *const KEY = "test-api-key";
static const char *const SECRET = "test-secret";

struct fx {
    struct tu_stream_gw g; /* the mock and the gateway with instance "bx" */
    struct tu_rec r;
};

/* stale_s: ws_stale_s. 2 only where a test waits for a stall to be
 * noticed: elsewhere, a loaded machine starving a connection for 2 s would
 * recycle it, one connection (and one gap) more than a test counts. */
static int setup_with(void **state, const char *stale_s)
{
    struct fx *f = calloc(1, sizeof *f);
    tu_rec_init(&f->r, false, true, true);
    const char *args[] = {"--tick-ms", "100", NULL};
    if (tu_stream_start_mock(&f->g, args) != 0) {
        free(f);
        return -1;
    }
    char ini[4096];
    /* pings every 500 ms so that a stall also swallows them (as the real
     * server would stop answering) well inside ws_stale_s */
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = warn\n\n"
             "[exchange.bx]\nplugin = bitunix\nrest_endpoints = https://127.0.0.1:%d\n"
             "ws_endpoints = wss://localhost:%d\nca_file = %s\napi_key = %s\napi_secret = %s\n"
             "ws_reconnect_initial_ms = 100\nws_reconnect_max_ms = 1000\nws_stale_s = %s\n"
             "ws_ping_interval_ms = 500\nwarmup = false\n",
             getenv("XGW_PLUGIN_DIR"), f->g.mx.ports[0], f->g.mx.ports[0], f->g.mx.cert, KEY, SECRET,
             stale_s);
    if (tu_stream_start_gw(&f->g, ini, "bx") != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_with(state, "10"); }
static int setup_stale_2s(void **state) { return setup_with(state, "2"); }

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
    return (long)tu_mockex_state_num(&f->g.mx, "counters", "bitunix", name);
}

/* Compares the last delivered BTCUSDT book (15 levels) with the mock's
 * REST depth; the mock steps every 100 ms, so the caller retries until a
 * REST answer falls between the same two steps as the last push. */
static bool book_matches_mock(struct fx *f)
{
    struct tu_rec *r = &f->r;
    struct tu_http h;
    if (tu_mockex_http(&f->g.mx, f->g.mx.ports[0], "GET",
                       "/api/v1/futures/market/depth?symbol=BTCUSDT&limit=15", NULL, NULL, 3000, &h) != 0 ||
        h.status != 200) {
        tu_http_free(&h);
        return false;
    }
    cJSON *j = cJSON_Parse(h.body);
    tu_http_free(&h);
    const cJSON *d = cJSON_GetObjectItem(j, "data");
    bool ok = true;
    pthread_mutex_lock(&r->mu);
    const char *sides[] = {"bids", "asks"};
    for (int s = 0; s < 2 && ok; s++) {
        const cJSON *side = cJSON_GetObjectItem(d, sides[s]);
        const struct xgw_level *mine = s ? r->asks : r->bids;
        size_t n = s ? r->na : r->nb, k = 0;
        ok = n == 15 && cJSON_GetArraySize(side) == 15;
        const cJSON *l;
        cJSON_ArrayForEach(l, side)
        {
            if (!ok || k >= n)
                break;
            const cJSON *pj = cJSON_GetArrayItem(l, 0), *qj = cJSON_GetArrayItem(l, 1);
            xgw_dec p, q;
            if (!cJSON_IsString(pj) || !cJSON_IsString(qj) || xgw_dec_parse_cstr(pj->valuestring, &p) ||
                xgw_dec_parse_cstr(qj->valuestring, &q) || xgw_dec_cmp(p, mine[k].price) ||
                xgw_dec_cmp(q, mine[k].qty))
                ok = false;
            k++;
        }
    }
    pthread_mutex_unlock(&r->mu);
    cJSON_Delete(j);
    return ok;
}

static void test_subscribe_receive(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *s1 = sub(f, XGW_CH_TICKER, 0);
    struct xgw_sub *s2 = sub(f, XGW_CH_TRADES, 0);
    struct xgw_sub *s3 = sub(f, XGW_CH_BOOK, 15);
    struct tu_rec *r = &f->r;
    long *all[] = {&r->tickers[0], &r->tickers[1], &r->trades[0], &r->trades[1], &r->books[0], &r->books[1]};
    bool got = tu_rec_wait(r, all, 6, 3, 15000);
    if (!got)
        fprintf(stderr, "tickers %ld %ld trades %ld %ld books %ld %ld bad %ld\n", r->tickers[0], r->tickers[1],
                r->trades[0], r->trades[1], r->books[0], r->books[1], r->bad);
    assert_true(got);
    assert_int_equal(tu_rec_snap(r, &r->bad), 0);
    struct xgw_sub_stats st;
    assert_int_equal(xgw_sub_stats(s3, &st), 0);
    assert_int_equal(st.state, XGW_SUB_LIVE);
    /* one public socket, each of the six channels subscribed once */
    assert_int_equal(mock_counter(f, "ws_connections"), 1);
    assert_int_equal(mock_counter(f, "ws_subscribed_channels"), 6);
    assert_int_equal(mock_counter(f, "ws_subscribe_dups"), 0);
    bool same = false;
    for (int i = 0; i < 300 && !same; i++) {
        same = book_matches_mock(f);
        if (!same)
            usleep(3000);
    }
    assert_true(same);
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    assert_int_equal(atomic_load(&m->parse_errors), 0);
    xgw_unsubscribe(s1);
    xgw_unsubscribe(s2);
    xgw_unsubscribe(s3);
}

static void test_drops(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *s1 = sub(f, XGW_CH_TICKER, 0);
    struct xgw_sub *s2 = sub(f, XGW_CH_BOOK, 5);
    struct tu_rec *r = &f->r;
    long *tk[] = {&r->tickers[0], &r->tickers[1], &r->books[0], &r->books[1]};
    assert_true(tu_rec_wait(r, tk, 4, 1, 15000));
    const int drops = 3;
    for (int d = 1; d <= drops; d++) {
        sleep(1);
        assert_int_equal(
            tu_mockex_fault(&f->g.mx, "{\"kind\":\"ws_close\",\"exchange\":\"bitunix\",\"count\":1}"), 0);
        long *g[] = {&r->gaps};
        assert_true(tu_rec_wait(r, g, 1, 2L * d, 10000));
        long *ag[] = {&r->after_gap[0], &r->after_gap[1]};
        assert_true(tu_rec_wait(r, ag, 2, 1, 10000));
    }
    assert_int_equal(tu_rec_snap(r, &r->gaps), 2L * drops);
    assert_int_equal(tu_rec_snap(r, &r->bad), 0);
    long conns = mock_counter(f, "ws_connections");
    assert_int_equal(conns, drops + 1);
    /* four channels (2 channels x 2 symbols), each subscribed once per socket */
    assert_int_equal(mock_counter(f, "ws_subscribed_channels"), 4 * conns);
    assert_int_equal(mock_counter(f, "ws_subscribe_dups"), 0);
    struct xgw_sub_stats st;
    xgw_sub_stats(s1, &st);
    assert_int_equal(st.gaps, drops);
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
        tu_mockex_fault(&f->g.mx, "{\"kind\":\"ws_stall\",\"exchange\":\"bitunix\",\"count\":1}"), 0);
    long *g[] = {&r->gaps};
    assert_true(tu_rec_wait(r, g, 1, 1, 10000));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    /* not before ws_stale_s; no tighter upper bound than the 10 s wait
     * (a stall is never cut otherwise, and stale_recycles below names the
     * cause): a loaded ASan build runs the 100 ms tick and the reconnect late */
    assert_true(ms >= 1800);
    long *ag[] = {&r->after_gap[0], &r->after_gap[1]};
    assert_true(tu_rec_wait(r, ag, 2, 1, 10000));
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    assert_int_equal(atomic_load(&m->stale_recycles), 1);
    assert_int_equal(mock_counter(f, "ws_stalled"), 1);
    /* The client pings every 500 ms; the stalled socket swallowed its pings
     * and the new one may have delivered data before its first: wait for it
     * (bounded) rather than race it. */
    for (int i = 0; i < 30 && mock_counter(f, "ws_pings") < 1; i++)
        usleep(100 * 1000);
    assert_true(mock_counter(f, "ws_pings") >= 1);
    assert_int_equal(mock_counter(f, "ws_subscribe_dups"), 0);
    xgw_unsubscribe(s1);
}

static bool last_cid_is(struct tu_rec *r, const char *cid)
{
    pthread_mutex_lock(&r->mu);
    bool yes = !strcmp(r->last_client_id, cid);
    pthread_mutex_unlock(&r->mu);
    return yes;
}

/* The private socket logs in (signed), subscribes "order"; the order is
 * placed through REST and its CREATE event carries the client id. */
static void test_orders_stream(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *s = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_ORDERS, NULL, 0, 0, tu_rec_on_event, &f->r, &s, &err), 0);
    for (int i = 0; i < 500 && mock_counter(f, "ws_subscribed_channels") < 1; i++)
        usleep(20000);
    assert_true(mock_counter(f, "ws_subscribed_channels") >= 1);
    assert_int_equal(mock_counter(f, "ws_logins"), 1);
    assert_int_equal(mock_counter(f, "ws_login_failures"), 0);
    /* No pause for the ack: the mock (one thread) has registered the
     * channel when it counts it, and sends the order's event on that socket
     * after the ack. */
    struct xgw_call call;
    memset(&call, 0, sizeof call);
    snprintf(call.order.symbol, sizeof call.order.symbol, "BTCUSDT");
    call.order.side = XGW_SIDE_BUY;
    call.order.type = XGW_TYPE_LIMIT;
    xgw_dec_parse_cstr("0.010", &call.order.qty);
    xgw_dec_parse_cstr("40000.0", &call.order.price);
    const char *cid = "xgwbxstream1";
    snprintf(call.order.client_id, sizeof call.order.client_id, "%s", cid);
    struct xgw_result *res = NULL;
    int rc = xgw_call_sync(f->g.ex, XGW_OP_PLACE, &call, &res, &err);
    if (rc)
        fprintf(stderr, "place: %s\n", err.message);
    assert_int_equal(rc, 0);
    xgw_result_free(res);
    for (int i = 0; i < 250 && !last_cid_is(&f->r, cid); i++)
        usleep(20000);
    assert_true(last_cid_is(&f->r, cid));
    assert_int_equal(tu_rec_snap(&f->r, &f->r.bad), 0);
    xgw_unsubscribe(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscribe_receive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_recycled, setup_stale_2s, teardown),
        cmocka_unit_test_setup_teardown(test_orders_stream, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
