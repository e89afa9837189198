/*
 * test_stream_listenkey.c — the Binance user-data stream's listenKey
 * (core/stream.c private connections, binance.so XGW_OP_WS_TOKEN[_KEEPALIVE])
 * against the mock:
 *  - the key expires (mock --listenkey-ttl-ms, which pushes
 *    listenKeyExpired): the core fetches a new key, reconnects, and an order
 *    placed after the renewal arrives on the stream;
 *  - keepalive on schedule (ws_token_keepalive_s = 1 against a 2.5 s TTL):
 *    PUT listenKey about once a second, the key never expires, one key for
 *    the whole run, and orders keep arriving.
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
#include <time.h>
#include <unistd.h>

#include "stream.h"
#include "tu_stream.h"
#include "xgw/stream.h"

struct rec {
    pthread_mutex_t mu;
    char cids[16][XGW_ID_MAX];
    int n;
};

static void on_ev(void *user, const struct xgw_event *ev)
{
    struct rec *r = user;
    if (ev->type != XGW_EV_ORDER)
        return;
    pthread_mutex_lock(&r->mu);
    snprintf(r->cids[r->n % 16], sizeof r->cids[0], "%s", ev->order->client_id);
    r->n++;
    pthread_mutex_unlock(&r->mu);
}

struct fx {
    struct tu_stream_gw g;
    struct rec r;
    struct xgw_sub *sub;
    const char *want; /* for seen() */
};

static bool seen(void *arg)
{
    struct fx *f = arg;
    pthread_mutex_lock(&f->r.mu);
    bool yes = false;
    for (int i = 0; i < 16 && !yes; i++)
        yes = !strcmp(f->r.cids[i], f->want);
    pthread_mutex_unlock(&f->r.mu);
    return yes;
}

static long counter(struct fx *f, const char *name)
{
    return (long)tu_mockex_state_num(&f->g.mx, "counters", "binance", name);
}

static bool live(void *arg)
{
    struct fx *f = arg;
    struct xgw_sub_stats st;
    return xgw_sub_stats(f->sub, &st) == 0 && st.state == XGW_SUB_LIVE;
}

static int open_with(void **state, const char *ttl, const char *ini)
{
    struct fx *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->r.mu, NULL);
    const char *args[] = {"--tick-ms", "100", "--listenkey-ttl-ms", ttl, NULL};
    if (tu_stream_open_binance(&f->g, args, ini) != 0) {
        pthread_mutex_destroy(&f->r.mu);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup_expiring(void **state) { return open_with(state, "2000", "ws_stale_s = 30\n"); }
static int setup_keepalive(void **state)
{
    return open_with(state, "2500", "ws_stale_s = 30\nws_token_keepalive_s = 1\n");
}

static int teardown(void **state)
{
    struct fx *f = *state;
    xgw_unsubscribe(f->sub);
    tu_stream_close(&f->g);
    pthread_mutex_destroy(&f->r.mu);
    free(f);
    return 0;
}

static void subscribe_orders(struct fx *f)
{
    struct xgw_error err;
    assert_int_equal(xgw_subscribe(f->g.ex, XGW_CH_ORDERS, NULL, 0, 0, on_ev, &f->r, &f->sub, &err), 0);
    assert_true(tu_wait_until(live, f, 10000));
}

static void place_and_see(struct fx *f, const char *cid)
{
    assert_int_equal(tu_stream_place(&f->g, cid), 0);
    f->want = cid;
    assert_true(tu_wait_until(seen, f, 5000));
}

static bool renewed(void *arg)
{
    struct fx *f = arg;
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    return atomic_load(&m->token_fetches) >= 2 && live(f) && counter(f, "listenkeys_expired") >= 1;
}

static void test_expiry_renewed(void **state)
{
    struct fx *f = *state;
    subscribe_orders(f);
    place_and_see(f, "lkbefore");
    /* the plugin's keepalive is every 30 min: the 2 s key expires first */
    assert_true(tu_wait_until(renewed, f, 10000));
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    assert_true(atomic_load(&m->reauths) >= 1);
    assert_true(counter(f, "listenkeys_created") >= 2);
    place_and_see(f, "lkafter");
    assert_int_equal(counter(f, "ws_bad_listenkey"), 0);
}

static bool kept_alive_5(void *arg) { return counter(arg, "listenkey_keepalives") >= 5; }

static void test_keepalive_schedule(void **state)
{
    struct fx *f = *state;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0); /* before the key is fetched */
    subscribe_orders(f);
    place_and_see(f, "ka1");
    /* Five keepalives span two TTLs: wait for them (bounded) rather than
     * count those of a fixed time, which a loaded machine makes fewer. */
    assert_true(tu_wait_until(kept_alive_5, f, 30000));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    /* once a second, the first a second after the key: the fifth no sooner
     * than 5 s after it (load only makes it later) */
    assert_true(ms >= 4900);
    assert_int_equal(counter(f, "listenkeys_expired"), 0);
    assert_int_equal(counter(f, "listenkeys_created"), 1);
    const struct xgw__stream_metrics *m = xgw__stream_metrics(f->g.ex);
    assert_int_equal(atomic_load(&m->token_fetches), 1);
    assert_true(atomic_load(&m->token_keepalives) >= 4);
    assert_int_equal(atomic_load(&m->reconnects), 0);
    place_and_see(f, "ka2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expiry_renewed, setup_expiring, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_schedule, setup_keepalive, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
