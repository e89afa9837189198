/*
 * test_stream_lifetime.c — make-before-break (core/stream.c) against the
 * mock's Binance WebSocket with a short connection lifetime: the mock cuts
 * every connection after --ws-lifetime-ms (as Binance does at 24 h) and the
 * instance is told the same lifetime (ws_max_lifetime_ms). The core must
 * open the replacement, subscribe it, switch at its first data and only
 * then close the old connection, so that the user sees every trade id and
 * every book update id exactly once, no gap and no resync, and the mock
 * never has to cut a connection itself.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "tu_stream.h"
#include "xgw/stream.h"

struct rec {
    pthread_mutex_t mu;
    uint64_t first_trade, last_trade;
    long trades, trade_dups, trade_holes;
    int64_t last_seq;
    long books, seq_not_increasing;
    long gaps, bad;
};

static void on_ev(void *user, const struct xgw_event *ev)
{
    struct rec *r = user;
    pthread_mutex_lock(&r->mu);
    switch (ev->type) {
    case XGW_EV_TRADE: {
        char *end = NULL;
        uint64_t id = strtoull(ev->trade->trade_id, &end, 10);
        if (!end || *end || strcmp(ev->symbol, "BTCUSDT")) {
            r->bad++;
            break;
        }
        if (r->trades && id <= r->last_trade)
            r->trade_dups++;
        else if (r->trades && id != r->last_trade + 1)
            r->trade_holes++;
        if (!r->trades)
            r->first_trade = id;
        if (!r->trades || id > r->last_trade)
            r->last_trade = id;
        r->trades++;
        break;
    }
    case XGW_EV_BOOK:
        /* every delivered book comes after the previous one: a repeat
         * (overlap delivered twice) or a step back fails */
        if (r->books && ev->seq <= r->last_seq)
            r->seq_not_increasing++;
        r->last_seq = ev->seq;
        r->books++;
        break;
    case XGW_EV_GAP:
        r->gaps++;
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&r->mu);
}

struct fx {
    struct tu_stream_gw g;
    struct rec r;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->r.mu, NULL);
    const char *args[] = {"--tick-ms", "100", "--ws-lifetime-ms", "3000", NULL};
    if (tu_stream_open_binance(&f->g, args, "ws_max_lifetime_ms = 3000\nws_stale_s = 10\n") != 0) {
        pthread_mutex_destroy(&f->r.mu);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_stream_close(&f->g);
    pthread_mutex_destroy(&f->r.mu);
    free(f);
    return 0;
}

static long counter(struct fx *f, const char *name)
{
    return (long)tu_mockex_state_num(&f->g.mx, "counters", "binance", name);
}

static long snap(struct rec *r, const long *v)
{
    pthread_mutex_lock(&r->mu);
    long x = *v;
    pthread_mutex_unlock(&r->mu);
    return x;
}

struct waitarg {
    struct fx *f;
    long min;
};

static bool flowing(void *arg)
{
    struct waitarg *w = arg;
    return snap(&w->f->r, &w->f->r.trades) >= w->min && snap(&w->f->r, &w->f->r.books) >= w->min;
}

static bool replaced(void *arg)
{
    struct waitarg *w = arg;
    return (long)atomic_load(&xgw__stream_metrics(w->f->g.ex)->replacements) >= w->min;
}

static void test_make_before_break(void **state)
{
    struct fx *f = *state;
    const char *syms[] = {"BTCUSDT"};
    struct xgw_sub *st = NULL, *sb = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_TRADES, syms, 1, 0, on_ev, &f->r, &st, &err), 0);
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_BOOK, syms, 1, 5, on_ev, &f->r, &sb, &err), 0);
    struct waitarg w = {f, 3};
    assert_true(tu_wait_until(flowing, &w, 15000));
    /* the first connection's SUBSCRIBE messages (one or two: the two
     * subscriptions may be sent together or apart) */
    long subs0 = counter(f, "subscribe_messages");
    assert_true(subs0 >= 1 && subs0 <= 2);
    assert_int_equal(counter(f, "ws_connections"), 1);

    /* three lifetimes: replaced at ~2.7 s, 5.4 s, 8.1 s */
    w.min = 3;
    assert_true(tu_wait_until(replaced, &w, 15000));
    long trades_at = snap(&f->r, &f->r.trades);
    w.min = trades_at + 5; /* data after the last switch */
    assert_true(tu_wait_until(flowing, &w, 10000));

    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    long repl = (long)atomic_load(&m->replacements);
    pthread_mutex_lock(&f->r.mu);
    fprintf(stderr, "replacements %ld, trades %ld (%llu..%llu), books %ld\n", repl, f->r.trades,
            (unsigned long long)f->r.first_trade, (unsigned long long)f->r.last_trade, f->r.books);
    assert_int_equal(f->r.trade_dups, 0);
    assert_int_equal(f->r.trade_holes, 0);
    assert_int_equal((long)(f->r.last_trade - f->r.first_trade + 1), f->r.trades);
    assert_int_equal(f->r.seq_not_increasing, 0);
    assert_int_equal(f->r.gaps, 0);
    assert_int_equal(f->r.bad, 0);
    pthread_mutex_unlock(&f->r.mu);
    /* no diff lost at a switch: the book never saw a sequence gap */
    assert_int_equal(atomic_load(&m->ch[XGW_CH_BOOK].gaps), 0);
    struct xgw_sub_stats ss;
    assert_int_equal(xgw_sub_stats(sb, &ss), 0);
    assert_int_equal(ss.resyncs, 0);
    assert_int_equal(ss.gaps, 0);
    assert_int_equal(ss.state, XGW_SUB_LIVE);
    /* replaced, never dropped: no reconnect, the exchange never had to cut */
    assert_int_equal(atomic_load(&m->reconnects), 0);
    assert_int_equal(counter(f, "ws_lifetime_closed"), 0);
    /* every replacement is one more connection with one SUBSCRIBE (both
     * topics in one message): nothing subscribed twice */
    long conns = counter(f, "ws_connections");
    assert_true(conns == repl + 1 || conns == repl + 2); /* + one coming up now */
    assert_int_equal(counter(f, "subscribe_messages"), subs0 + conns - 1);
    /* the old connection is closed after the switch: at most the live one
     * plus a replacement in progress */
    assert_true(atomic_load(&m->connections) >= 1 && atomic_load(&m->connections) <= 2);
    xgw_unsubscribe(st);
    xgw_unsubscribe(sb);
}

static bool gapped(void *arg)
{
    struct waitarg *w = arg;
    return snap(&w->f->r, &w->f->r.gaps) >= w->min;
}

/* Without the lifetime fact, the mock's cut is an ordinary drop: the
 * connection comes back with a gap event. Proves the mock option cuts. */
static void test_cut_without_fact(void **state)
{
    struct fx *f = *state;
    tu_stream_close(&f->g);
    const char *args[] = {"--tick-ms", "100", "--ws-lifetime-ms", "1500", NULL};
    assert_int_equal(tu_stream_open_binance(&f->g, args, "ws_stale_s = 10\n"), 0);
    const char *syms[] = {"BTCUSDT"};
    struct xgw_sub *st = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_TRADES, syms, 1, 0, on_ev, &f->r, &st, &err), 0);
    struct waitarg w = {f, 1};
    assert_true(tu_wait_until(gapped, &w, 10000));
    assert_true(counter(f, "ws_lifetime_closed") >= 1);
    assert_int_equal(atomic_load(&xgw__stream_metrics(f->g.ex)->replacements), 0);
    xgw_unsubscribe(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_make_before_break, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_without_fact, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
