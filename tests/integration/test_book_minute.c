/*
 * test_book_minute.c — the order book the core keeps from a REST snapshot
 * plus WebSocket diffs (Binance: U/u/pu) is exactly the mock's book after a
 * minute of fast updates: every level of the top 20 on both sides, at the
 * same update id, with no gap, no resync and no update id going back on
 * the way (issue 3). XGW_BOOK_MINUTE_S shortens or lengthens the minute.
 * And the same book handed to a slow consumer thread through xgw_evq.
 */
#define _GNU_SOURCE
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
#include <unistd.h>

#include "tu_stream.h"
#include "xgw/stream.h"

#define DEPTH 20

struct book {
    pthread_mutex_t mu;
    int64_t seq;
    long updates, gaps, bad;
    bool seq_went_back;
    struct xgw_level bids[DEPTH], asks[DEPTH];
    size_t nb, na;
};

static void on_ev(void *user, const struct xgw_event *ev)
{
    struct book *b = user;
    pthread_mutex_lock(&b->mu);
    if (ev->type == XGW_EV_GAP) {
        b->gaps++;
    } else if (ev->type == XGW_EV_BOOK) {
        if (ev->n_bids > DEPTH || ev->n_asks > DEPTH) {
            b->bad++;
        } else {
            if (ev->seq < b->seq)
                b->seq_went_back = true;
            b->seq = ev->seq;
            b->nb = ev->n_bids;
            b->na = ev->n_asks;
            memcpy(b->bids, ev->bids, ev->n_bids * sizeof *ev->bids);
            memcpy(b->asks, ev->asks, ev->n_asks * sizeof *ev->asks);
            b->updates++;
        }
    }
    pthread_mutex_unlock(&b->mu);
}

/* One side of the mock's answer equals ours, level for level. */
static bool side_equal(const cJSON *arr, const struct xgw_level *mine, size_t n)
{
    if ((size_t)cJSON_GetArraySize(arr) != n)
        return false;
    size_t k = 0;
    const cJSON *lv;
    cJSON_ArrayForEach(lv, arr)
    {
        xgw_dec p, q;
        if (xgw_dec_parse_cstr(cJSON_GetStringValue(cJSON_GetArrayItem(lv, 0)), &p) ||
            xgw_dec_parse_cstr(cJSON_GetStringValue(cJSON_GetArrayItem(lv, 1)), &q) ||
            xgw_dec_cmp(p, mine[k].price) || xgw_dec_cmp(q, mine[k].qty))
            return false;
        k++;
    }
    return true;
}

/* 1: equal at the same update id; 0: the ids differ (try again); -1: they
 * are the same update and the books differ. */
static int compare(struct tu_stream_gw *g, struct book *b)
{
    struct tu_http h;
    char path[64];
    snprintf(path, sizeof path, "/fapi/v1/depth?symbol=BTCUSDT&limit=%d", DEPTH);
    if (tu_mockex_http(&g->mx, g->mx.ports[0], "GET", path, NULL, NULL, 3000, &h) != 0 || h.status != 200) {
        tu_http_free(&h);
        return 0;
    }
    cJSON *j = cJSON_Parse(h.body);
    tu_http_free(&h);
    int verdict = 0;
    const cJSON *lu = cJSON_GetObjectItem(j, "lastUpdateId");
    pthread_mutex_lock(&b->mu);
    if (cJSON_IsNumber(lu) && (int64_t)lu->valuedouble == b->seq)
        verdict = side_equal(cJSON_GetObjectItem(j, "bids"), b->bids, b->nb) &&
                          side_equal(cJSON_GetObjectItem(j, "asks"), b->asks, b->na)
                      ? 1
                      : -1;
    pthread_mutex_unlock(&b->mu);
    cJSON_Delete(j);
    return verdict;
}

static void test_book_after_a_minute(void **state)
{
    (void)state;
    const char *env = getenv("XGW_BOOK_MINUTE_S");
    int seconds = env && atoi(env) > 0 ? atoi(env) : 60;
    struct tu_stream_gw g;
    const char *margs[] = {"--tick-ms", "50", NULL};
    assert_int_equal(tu_stream_open_binance(&g, margs, "ws_stale_s = 30\n"), 0);
    struct book b = {.mu = PTHREAD_MUTEX_INITIALIZER};
    const char *syms[] = {"BTCUSDT"};
    struct xgw_error err;
    struct xgw_sub *s = NULL;
    if (xgw_subscribe(g.ex, XGW_CH_BOOK, syms, 1, DEPTH, on_ev, &b, &s, &err) != 0)
        fail_msg("subscribe: %s", err.message);
    sleep((unsigned)seconds);

    int verdict = 0;
    for (int i = 0; i < 500 && verdict == 0; i++) {
        verdict = compare(&g, &b);
        if (verdict == 0)
            usleep(2000);
    }
    struct xgw_sub_stats st;
    xgw_sub_stats(s, &st);
    pthread_mutex_lock(&b.mu);
    long updates = b.updates, gaps = b.gaps, bad = b.bad;
    bool back = b.seq_went_back;
    pthread_mutex_unlock(&b.mu);
    fprintf(stderr, "book: %ld updates in %d s, %llu resyncs\n", updates, seconds, (unsigned long long)st.resyncs);
    assert_int_equal(verdict, 1);
    assert_true(updates >= seconds * 5L); /* the mock moves every 50 ms */
    assert_int_equal(gaps, 0);
    assert_int_equal(bad, 0);
    assert_false(back);
    assert_int_equal(st.resyncs, 0);
    xgw_unsubscribe(s);
    tu_stream_close(&g);
}

/* A consumer thread slower than the stream, through a 4-event queue: the
 * loop never waits, books are coalesced rather than lost, and every book the
 * consumer gets is whole (sorted, both sides) with update ids going up. */
static void test_slow_consumer_queue(void **state)
{
    (void)state;
    struct tu_stream_gw g;
    const char *margs[] = {"--tick-ms", "20", NULL};
    assert_int_equal(tu_stream_open_binance(&g, margs, NULL), 0);
    struct xgw_evq *q = xgw_evq_new(4);
    assert_non_null(q);
    const char *syms[] = {"BTCUSDT"};
    struct xgw_error err;
    struct xgw_sub *s = NULL;
    if (xgw_subscribe(g.ex, XGW_CH_BOOK, syms, 1, DEPTH, xgw_evq_push, q, &s, &err) != 0)
        fail_msg("subscribe: %s", err.message);
    int64_t last = 0;
    int books = 0;
    for (int i = 0; i < 40; i++) {
        const struct xgw_event *ev = NULL;
        if (xgw_evq_pop(q, &ev, 2000) != 1)
            continue;
        if (ev->type != XGW_EV_BOOK)
            continue;
        books++;
        assert_true(ev->n_bids > 0 && ev->n_asks > 0);
        assert_true(xgw_dec_cmp(ev->bids[0].price, ev->asks[0].price) < 0);
        for (size_t k = 1; k < ev->n_bids; k++)
            assert_true(xgw_dec_cmp(ev->bids[k - 1].price, ev->bids[k].price) > 0);
        assert_true(ev->seq > last);
        last = ev->seq;
        usleep(100000); /* the slow strategy */
    }
    xgw_unsubscribe(s);
    struct xgw_evq_stats st;
    xgw_evq_stats(q, &st);
    fprintf(stderr, "queue: %d books popped, %llu coalesced, %llu dropped\n", books,
            (unsigned long long)st.coalesced, (unsigned long long)st.dropped);
    assert_true(books >= 20);
    assert_true(st.coalesced > 0);
    tu_stream_close(&g);
    xgw_evq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_consumer_queue),
        cmocka_unit_test(test_book_after_a_minute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
