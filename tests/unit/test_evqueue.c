/*
 * test_evqueue.c — the bounded hand-over queue of stream events
 * (core/evqueue.c): deep copies, FIFO order, drops counted when full, a book
 * replacing the queued book of its symbol, timed waits, and a consumer on
 * another thread.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xgw/stream.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push_trade(struct xgw_evq *q, const char *id)
{
    char sym[16] = "BTCUSDT", ex[8] = "bn";
    struct xgw_trade t;
    memset(&t, 0, sizeof t);
    snprintf(t.trade_id, sizeof t.trade_id, "%s", id);
    xgw_dec_parse_cstr("97000.5", &t.price);
    struct xgw_event ev = {.type = XGW_EV_TRADE, .exchange = ex, .channel = XGW_CH_TRADES, .symbol = sym, .trade = &t};
    xgw_evq_push(q, &ev);
    /* the caller's memory goes away: the queue holds copies */
    memset(&t, 0x5a, sizeof t);
    memset(sym, 'X', sizeof sym - 1);
}

static void push_book(struct xgw_evq *q, const char *sym, int64_t seq)
{
    struct xgw_level bids[2], asks[1];
    xgw_dec_parse_cstr("100.0", &bids[0].price);
    xgw_dec_parse_cstr("1", &bids[0].qty);
    xgw_dec_parse_cstr("99.9", &bids[1].price);
    xgw_dec_parse_cstr("2", &bids[1].qty);
    xgw_dec_parse_cstr("100.1", &asks[0].price);
    xgw_dec_parse_cstr("3", &asks[0].qty);
    struct xgw_event ev = {.type = XGW_EV_BOOK, .exchange = "bn", .channel = XGW_CH_BOOK, .symbol = sym,
                           .seq = seq, .bids = bids, .n_bids = 2, .asks = asks, .n_asks = 1};
    xgw_evq_push(q, &ev);
}

static void test_copies_and_order(void **state)
{
    (void)state;
    assert_null(xgw_evq_new(0));
    struct xgw_evq *q = xgw_evq_new(8);
    push_trade(q, "t1");
    push_book(q, "BTCUSDT", 7);
    struct xgw_event gap = {.type = XGW_EV_GAP, .exchange = "bn", .channel = XGW_CH_BOOK, .symbol = "",
                            .gap_from_ms = 1, .gap_to_ms = 2, .reason = "reconnect"};
    xgw_evq_push(q, &gap);
    const struct xgw_event *ev = NULL;
    assert_int_equal(xgw_evq_pop(q, &ev, 0), 1);
    assert_int_equal(ev->type, XGW_EV_TRADE);
    assert_string_equal(ev->symbol, "BTCUSDT");
    assert_string_equal(ev->exchange, "bn");
    assert_string_equal(ev->trade->trade_id, "t1");
    char buf[XGW_DEC_STRLEN];
    xgw_dec_format(ev->trade->price, buf, sizeof buf);
    assert_string_equal(buf, "97000.5");
    assert_int_equal(xgw_evq_pop(q, &ev, 0), 1);
    assert_int_equal(ev->type, XGW_EV_BOOK);
    assert_int_equal(ev->seq, 7);
    assert_int_equal(ev->n_bids, 2);
    assert_int_equal(ev->n_asks, 1);
    xgw_dec_format(ev->bids[1].price, buf, sizeof buf);
    assert_string_equal(buf, "99.9");
    xgw_dec_format(ev->asks[0].qty, buf, sizeof buf);
    assert_string_equal(buf, "3");
    assert_int_equal(xgw_evq_pop(q, &ev, 0), 1);
    assert_int_equal(ev->type, XGW_EV_GAP);
    assert_string_equal(ev->reason, "reconnect");
    assert_int_equal(ev->gap_to_ms, 2);
    assert_int_equal(xgw_evq_pop(q, &ev, 0), 0);
    assert_null(ev);
    struct xgw_evq_stats st;
    xgw_evq_stats(q, &st);
    assert_int_equal(st.pushed, 3);
    assert_int_equal(st.popped, 3);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.depth, 0);
    assert_int_equal(st.max, 8);
    xgw_evq_free(q);
}

/* Full: trades are dropped and counted; a book replaces its symbol's queued
 * book in place; a book of another symbol with none queued is dropped. */
static void test_full(void **state)
{
    (void)state;
    struct xgw_evq *q = xgw_evq_new(3);
    push_book(q, "BTCUSDT", 1);
    push_trade(q, "t1");
    push_book(q, "ETHUSDT", 1);
    push_trade(q, "t2");            /* dropped */
    push_book(q, "BTCUSDT", 2);     /* replaces BTCUSDT seq 1 */
    push_book(q, "BTCUSDT", 3);     /* replaces seq 2 */
    push_book(q, "SOLUSDT", 1);     /* nothing to replace: dropped */
    struct xgw_evq_stats st;
    xgw_evq_stats(q, &st);
    assert_int_equal(st.pushed, 3);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.coalesced, 2);
    assert_int_equal(st.depth, 3);
    const struct xgw_event *ev;
    assert_int_equal(xgw_evq_pop(q, &ev, 0), 1);
    assert_int_equal(ev->type, XGW_EV_BOOK);
    assert_string_equal(ev->symbol, "BTCUSDT");
    assert_int_equal(ev->seq, 3); /* the newest book, in the oldest one's place */
    assert_int_equal(xgw_evq_pop(q, &ev, 0), 1);
    assert_string_equal(ev->trade->trade_id, "t1");
    assert_int_equal(xgw_evq_pop(q, &ev, 0), 1);
    assert_string_equal(ev->symbol, "ETHUSDT");
    /* queued events are freed with the queue */
    push_trade(q, "t3");
    push_trade(q, "t4");
    xgw_evq_free(q);
}

static void *producer(void *arg)
{
    struct timespec d = {0, 50 * 1000000L};
    nanosleep(&d, NULL);
    for (int i = 0; i < 100; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        push_trade(arg, id);
    }
    return NULL;
}

static void test_threads_and_timeouts(void **state)
{
    (void)state;
    struct xgw_evq *q = xgw_evq_new(1000);
    const struct xgw_event *ev;
    long long t0 = now_ms();
    assert_int_equal(xgw_evq_pop(q, &ev, 100), 0);
    long long took = now_ms() - t0;
    assert_true(took >= 90 && took < 2000);
    pthread_t th;
    pthread_create(&th, NULL, producer, q);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(xgw_evq_pop(q, &ev, -1), 1);
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        assert_string_equal(ev->trade->trade_id, id);
    }
    pthread_join(th, NULL);
    assert_int_equal(xgw_evq_pop(NULL, &ev, 0), -1);
    xgw_evq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_and_order),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_threads_and_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
