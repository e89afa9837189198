/*
 * test_stream_multi.c — several streaming instances in one process, against
 * the mock exchange on loopback (issue 10): the gateway runs one
 * libwebsockets context with a vhost per instance (core/ws.c).
 *
 * Covered: a Binance and a Bitunix instance stream at the same time and
 * both deliver tickers; a third instance (Binance again) without the mock's
 * CA in its ca_file cannot connect - the trust one instance adds is not
 * shared with another through the common context; unsubscribing and
 * closing leave nothing behind (the ASan build's LeakSanitizer checks the
 * exit: lws 4.1 leaked a client SSL_CTX per extra context when each
 * instance had its own).
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four above first */
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"
#include "tu_mockex.h"
#include "tu_proc.h"
#include "tu_stream.h"
#include "tu_streamrec.h"
#include "xgw/stream.h"
#include "xgw/xgw.h"

/* The mock's demo accounts (tools/mockex/README.md), not secrets. */
static const char *const BN_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
static const char *const BN_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
static const char *const BX_KEY = "test-api-key";
static const char *const BX_SECRET = "test-secret";

struct fx {
    struct tu_stream_gw g; /* the mock and the gateway (instances bn, bx, nb) */
    struct tu_rec bn, bx, nb;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    tu_rec_init(&f->bn, true, true, false);
    tu_rec_init(&f->bx, false, true, false);
    tu_rec_init(&f->nb, true, true, false);
    const char *args[] = {"--tick-ms", "100", NULL};
    if (tu_stream_start_mock(&f->g, args) != 0) {
        free(f);
        return -1;
    }
    /* nb: no ca_file, so only the system store - which does not hold the
     * mock's self-made CA. */
    const char *quiet = "warmup = false\nhealth_checks = false\nclock_sync = false\n"
                        "ws_reconnect_initial_ms = 100\nws_reconnect_max_ms = 500\n";
    char ini[8192];
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = error\n\n"
             "[exchange.bn]\nplugin = binance\nrest_endpoints = https://127.0.0.1:%d\n"
             "ws_endpoints = wss://localhost:%d\nca_file = %s\napi_key = %s\napi_secret = %s\n%s\n"
             "[exchange.bx]\nplugin = bitunix\nrest_endpoints = https://127.0.0.1:%d\n"
             "ws_endpoints = wss://localhost:%d\nca_file = %s\napi_key = %s\napi_secret = %s\n%s\n"
             "[exchange.nb]\nplugin = binance\nrest_endpoints = https://127.0.0.1:%d\n"
             "ws_endpoints = wss://localhost:%d\n%s",
             getenv("XGW_PLUGIN_DIR"), f->g.mx.ports[0], f->g.mx.ports[0], f->g.mx.cert, BN_KEY, BN_SECRET,
             quiet, f->g.mx.ports[0], f->g.mx.ports[0], f->g.mx.cert, BX_KEY, BX_SECRET, quiet,
             f->g.mx.ports[0], f->g.mx.ports[0], quiet);
    if (tu_stream_start_gw(&f->g, ini, NULL) != 0) {
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
    pthread_mutex_destroy(&f->bn.mu);
    pthread_mutex_destroy(&f->bx.mu);
    pthread_mutex_destroy(&f->nb.mu);
    free(f);
    return 0;
}

static struct xgw_sub *ticker(struct fx *f, const char *instance, struct tu_rec *r)
{
    const char *syms[] = {"BTCUSDT", "ETHUSDT"};
    struct xgw_sub *s = NULL;
    struct xgw_error err;
    int rc = xgw_subscribe(xgw_exchange_find(f->g.gw, instance), XGW_CH_TICKER, syms, 2, 0, tu_rec_on_event,
                           r, &s, &err);
    if (rc != 0)
        fprintf(stderr, "subscribe %s: %s\n", instance, err.message);
    assert_int_equal(rc, 0);
    assert_non_null(s);
    return s;
}

static long mock_counter(struct fx *f, const char *exchange, const char *name)
{
    return (long)tu_mockex_state_num(&f->g.mx, "counters", exchange, name);
}

static void test_two_instances_stream_at_once(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *a = ticker(f, "bn", &f->bn);
    struct xgw_sub *b = ticker(f, "bx", &f->bx);
    /* both at the same time: each sees several tickers of both symbols
     * while the other is subscribed */
    long *ta[] = {&f->bn.tickers[0], &f->bn.tickers[1]};
    long *tb[] = {&f->bx.tickers[0], &f->bx.tickers[1]};
    assert_true(tu_rec_wait(&f->bn, ta, 2, 3, 15000));
    assert_true(tu_rec_wait(&f->bx, tb, 2, 3, 15000));
    long bn_now = tu_rec_snap(&f->bn, &f->bn.tickers[0]);
    assert_true(tu_rec_wait(&f->bx, tb, 2, tu_rec_snap(&f->bx, &f->bx.tickers[0]) + 3, 15000));
    assert_true(tu_rec_wait(&f->bn, ta, 1, bn_now + 3, 15000));
    /* (Binance's ticker comes in two parts: until both arrived a ticker may
     * lack bid/ask, which the recorder counts as bad; Bitunix's is whole.) */
    assert_int_equal(tu_rec_snap(&f->bx, &f->bx.bad), 0);
    assert_true(mock_counter(f, "binance", "ws_connections") >= 1);
    assert_true(mock_counter(f, "bitunix", "ws_connections") >= 1);
    const struct xgw__stream_metrics *ma = xgw__stream_metrics(xgw_exchange_find(f->g.gw, "bn"));
    const struct xgw__stream_metrics *mb = xgw__stream_metrics(xgw_exchange_find(f->g.gw, "bx"));
    assert_non_null(ma);
    assert_non_null(mb);
    assert_int_equal(atomic_load(&ma->connect_failures), 0);
    assert_int_equal(atomic_load(&mb->connect_failures), 0);
    xgw_unsubscribe(a);
    xgw_unsubscribe(b);
}

static void test_trust_is_per_instance(void **state)
{
    struct fx *f = *state;
    struct xgw_sub *a = ticker(f, "bn", &f->bn);
    long *ta[] = {&f->bn.tickers[0], &f->bn.tickers[1]};
    assert_true(tu_rec_wait(&f->bn, ta, 2, 1, 15000));
    /* nb shares the lws context with bn, but not bn's ca_file: its TLS
     * handshakes fail, again and again, and it never delivers. */
    struct xgw_sub *n = ticker(f, "nb", &f->nb);
    const struct xgw__stream_metrics *mn = xgw__stream_metrics(xgw_exchange_find(f->g.gw, "nb"));
    assert_non_null(mn);
    for (int i = 0; i < 150 && atomic_load(&mn->connect_failures) < 2; i++)
        usleep(100000);
    assert_true(atomic_load(&mn->connect_failures) >= 2);
    assert_int_equal(atomic_load(&mn->connects), 0);
    assert_int_equal(tu_rec_snap(&f->nb, &f->nb.tickers[0]) + tu_rec_snap(&f->nb, &f->nb.tickers[1]), 0);
    /* while bn keeps streaming */
    long bn_now = tu_rec_snap(&f->bn, &f->bn.tickers[0]);
    assert_true(tu_rec_wait(&f->bn, ta, 1, bn_now + 2, 15000));
    xgw_unsubscribe(n);
    xgw_unsubscribe(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_instances_stream_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust_is_per_instance, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
