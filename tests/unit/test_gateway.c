/*
 * tests/unit/test_gateway.c — the embedding API (core/gateway.c,
 * core/loop.c, core/metrics.c) with the fake plugin against the TLS test
 * server: async calls from several threads, host-driven and synchronous
 * loops, shutdown with calls in flight, the PLACE pipeline, time offset and
 * the metrics exposition.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "tu_fakeplugin.h"
#include "tu_fakegw.h"
#include "tu_tlsserver.h"
#include "xgw/xgw.h"

static struct xgw_gateway *open_gw(struct tu_fakegw *f, const char *extra)
{
    assert_int_equal(tu_fake_write_ini(f->ini, tu_tls_port(f->srv), f->cert, extra), 0);
    struct xgw_error err;
    f->gw = xgw_open(f->ini, NULL, &err);
    if (!f->gw)
        fail_msg("xgw_open: %s %s", xgw_err_kind_name(err.kind), err.message);
    return f->gw;
}

/* ---- async from several threads ---------------------------------------- */

#define N_THREADS 4
#define N_PER_THREAD 1000
#define N_CALLS (N_THREADS * N_PER_THREAD)

struct counts {
    atomic_int seen[N_CALLS];
    atomic_int ok, failed, cancelled, total;
    atomic_int bad; /* callback with both or neither of res/err */
    pthread_t cb_thread;
    atomic_int cb_thread_set, other_thread;
};

static struct counts *g_counts;

static void count_done(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    struct counts *c = g_counts;
    size_t i = (size_t)(uintptr_t)user;
    atomic_fetch_add(&c->seen[i], 1);
    if ((res == NULL) == (err == NULL))
        atomic_fetch_add(&c->bad, 1);
    if (res && res->op == XGW_OP_TIME && res->server_time_ms > 0)
        atomic_fetch_add(&c->ok, 1);
    else if (err && err->kind == XGW_ERR_CANCELLED)
        atomic_fetch_add(&c->cancelled, 1);
    else
        atomic_fetch_add(&c->failed, 1);
    if (!atomic_exchange(&c->cb_thread_set, 1))
        c->cb_thread = pthread_self();
    else if (!pthread_equal(c->cb_thread, pthread_self()))
        atomic_fetch_add(&c->other_thread, 1);
    atomic_fetch_add(&c->total, 1);
}

struct submitter {
    struct xgw_exchange *ex;
    size_t base;
    int refused;
};

static void *submit_main(void *arg)
{
    struct submitter *s = arg;
    struct xgw_call call = {0};
    for (size_t i = 0; i < N_PER_THREAD; i++)
        if (xgw_call(s->ex, XGW_OP_TIME, &call, count_done, (void *)(uintptr_t)(s->base + i)) != 0)
            s->refused++;
    return NULL;
}

static bool all_done(void *arg)
{
    struct counts *c = arg;
    return atomic_load(&c->total) >= N_CALLS;
}

static void test_async_threads(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 2\npool_max = 4\nhttp2 = false\n");
    struct counts *c = calloc(1, sizeof *c);
    g_counts = c;
    struct xgw_error err;
    assert_int_equal(xgw_start(f->gw, &err), 0);
    pthread_t th[N_THREADS];
    struct submitter sub[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        sub[t] = (struct submitter){xgw_exchange_at(f->gw, 0), (size_t)t * N_PER_THREAD, 0};
        pthread_create(&th[t], NULL, submit_main, &sub[t]);
    }
    for (int t = 0; t < N_THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(sub[t].refused, 0);
    }
    assert_true(tu_wait_for(all_done, c, 60000));
    tu_sleep_ms(50);
    for (size_t i = 0; i < N_CALLS; i++)
        if (atomic_load(&c->seen[i]) != 1)
            fail_msg("call %zu completed %d times", i, atomic_load(&c->seen[i]));
    assert_int_equal(atomic_load(&c->ok), N_CALLS);
    assert_int_equal(atomic_load(&c->bad), 0);
    assert_int_equal(atomic_load(&c->other_thread), 0);
    assert_false(pthread_equal(c->cb_thread, pthread_self()));
    /* pool_max bounds the connections. */
    assert_true(tu_tls_accepts(f->srv) <= 4);

    char *m = NULL;
    assert_int_equal(xgw_metrics(f->gw, XGW_METRICS_JSON, &m), 0);
    assert_non_null(strstr(m, "\"calls_submitted\":4000,\"calls_completed\":4000,"));
    assert_non_null(strstr(m, "\"inflight\":0,"));
    assert_non_null(strstr(m, "\"time\":{\"requests\":{\"ok\":4000}"));
    free(m);
    xgw_close(f->gw);
    f->gw = NULL;
    assert_int_equal(atomic_load(&c->total), N_CALLS); /* nothing more after close */
    free(c);
}

/* ---- shutdown with calls in flight ----------------------------------------- */

static void test_shutdown_in_flight(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 0\npool_max = 2\nhttp2 = false\nrequest_timeout_ms = 60000\n");
    tu_tls_set_mode(f->srv, TU_TLS_STALL);
    struct counts *c = calloc(1, sizeof *c);
    g_counts = c;
    struct xgw_error err;
    assert_int_equal(xgw_start(f->gw, &err), 0);
    struct xgw_exchange *ex = xgw_exchange_at(f->gw, 0);
    struct xgw_call call = {0};
    /* 2 on the wire, the rest waiting in curl or in the gateway's queue. */
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(xgw_call(ex, XGW_OP_TIME, &call, count_done, (void *)(uintptr_t)i), 0);
    for (int i = 0; i < 500 && tu_tls_requests(f->srv) < 2; i++)
        tu_sleep_ms(10);
    assert_int_equal(tu_tls_requests(f->srv), 2);
    assert_int_equal(atomic_load(&c->total), 0);
    xgw_close(f->gw);
    f->gw = NULL;
    assert_int_equal(atomic_load(&c->total), 300);
    assert_int_equal(atomic_load(&c->cancelled), 300);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(atomic_load(&c->seen[i]), 1);
    assert_int_equal(atomic_load(&c->bad), 0);
    free(c);
}

/* Calls queued while no loop ever ran are cancelled too. */
static void test_shutdown_never_started(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 1\n");
    struct counts *c = calloc(1, sizeof *c);
    g_counts = c;
    struct xgw_call call = {0};
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(xgw_call(xgw_exchange_at(f->gw, 0), XGW_OP_TIME, &call, count_done, (void *)(uintptr_t)i),
                         0);
    xgw_close(f->gw);
    f->gw = NULL;
    assert_int_equal(atomic_load(&c->cancelled), 10);
    assert_int_equal(atomic_load(&c->total), 10);
    free(c);
}

/* ---- host-driven loop ----------------------------------------------------- */

static void test_host_driven(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 0\n");
    struct counts *c = calloc(1, sizeof *c);
    g_counts = c;
    int fd = xgw_fd(f->gw);
    assert_true(fd >= 0);
    struct xgw_call call = {0};
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(xgw_call(xgw_exchange_at(f->gw, 0), XGW_OP_TIME, &call, count_done, (void *)(uintptr_t)i),
                         0);
    int64_t deadline = xgw__mono_us() + 10 * 1000000;
    while (atomic_load(&c->total) < 20 && xgw__mono_us() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        int to = xgw_timeout_ms(f->gw);
        poll(&p, 1, to < 0 || to > 100 ? 100 : to);
        assert_int_equal(xgw_step(f->gw), 0);
    }
    assert_int_equal(atomic_load(&c->ok), 20);
    /* callbacks ran on the stepping thread */
    assert_true(pthread_equal(c->cb_thread, pthread_self()));
    /* idle: the fd is not readable, no busy loop */
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 50), 0);
    free(c);
}

/* ---- sync without an I/O thread, from two threads ---------------------------- */

static void *sync_main(void *arg)
{
    struct xgw_exchange *ex = arg;
    struct xgw_call call = {0};
    intptr_t ok = 0;
    for (int i = 0; i < 100; i++) {
        struct xgw_result *r = NULL;
        struct xgw_error err;
        if (xgw_call_sync(ex, XGW_OP_TIME, &call, &r, &err) == 0 && r && r->server_time_ms > 0)
            ok++;
        xgw_result_free(r);
    }
    return (void *)ok;
}

static void test_sync_two_threads_no_io_thread(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 0\n");
    pthread_t a, b;
    void *ra, *rb;
    pthread_create(&a, NULL, sync_main, xgw_exchange_at(f->gw, 0));
    pthread_create(&b, NULL, sync_main, xgw_exchange_at(f->gw, 0));
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    assert_int_equal((intptr_t)ra, 100);
    assert_int_equal((intptr_t)rb, 100);
}

/* ---- sync call from a callback is refused, not a deadlock ---------------------- */

static atomic_int g_nested_rc;

static void nested_done(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    (void)res;
    (void)err;
    struct xgw_exchange *ex = user;
    struct xgw_result *r = NULL;
    struct xgw_error e;
    atomic_store(&g_nested_rc, xgw_call_sync(ex, XGW_OP_TIME, NULL, &r, &e) + 1000);
    xgw_result_free(r);
}

static bool nested_set(void *arg)
{
    (void)arg;
    return atomic_load(&g_nested_rc) != 0;
}

static void test_sync_in_callback(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 0\n");
    struct xgw_error err;
    assert_int_equal(xgw_start(f->gw, &err), 0);
    atomic_store(&g_nested_rc, 0);
    struct xgw_exchange *ex = xgw_exchange_at(f->gw, 0);
    assert_int_equal(xgw_call(ex, XGW_OP_TIME, NULL, nested_done, ex), 0);
    assert_true(tu_wait_for(nested_set, NULL, 5000));
    assert_int_equal(atomic_load(&g_nested_rc), 1000 + XGW_ERR_INTERNAL);
}

/* ---- PLACE: markets first, client id generated ------------------------------------ */

/* A limit buy of 0.010 BTCUSDT at 97123.40 (the fake plugin's market). */
static struct xgw_call limit_buy(void)
{
    struct xgw_call call = {0};
    snprintf(call.order.symbol, sizeof call.order.symbol, "BTCUSDT");
    call.order.side = XGW_SIDE_BUY;
    call.order.type = XGW_TYPE_LIMIT;
    xgw_dec_parse_cstr("0.010", &call.order.qty);
    xgw_dec_parse_cstr("97123.40", &call.order.price);
    return call;
}

static bool two_market_loads(void *arg)
{
    char *m = NULL;
    if (xgw_metrics(arg, XGW_METRICS_JSON, &m) != 0)
        return false;
    bool yes = strstr(m, "\"markets_loads\":2,") != NULL;
    free(m);
    return yes;
}

/* Market rules older than markets_refresh_s are refreshed in the background
 * by the next order, which itself goes out at once with the cached rules. */
static void test_markets_refresh(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 0\nmarkets_refresh_s = 1\n");
    struct xgw_exchange *ex = xgw_exchange_find(f->gw, "f1");
    struct xgw_call call = limit_buy();
    struct xgw_result *r = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_call_sync(ex, XGW_OP_PLACE, &call, &r, &err), 0);
    xgw_result_free(r);
    assert_int_equal(xgw_call_sync(ex, XGW_OP_PLACE, &call, &r, &err), 0);
    xgw_result_free(r);
    assert_int_equal(tu_tls_requests(f->srv), 3); /* markets, order, order */
    tu_sleep_ms(1100);
    assert_int_equal(xgw_call_sync(ex, XGW_OP_PLACE, &call, &r, &err), 0);
    xgw_result_free(r);
    /* a liveness wait, not a timing assertion: generous for loaded CI machines */
    assert_true(tu_wait_for(two_market_loads, f->gw, 10000));
    assert_int_equal(tu_tls_requests(f->srv), 5); /* + the refresh and the order */
}

static void test_place_pipeline(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 0\n");
    struct xgw_exchange *ex = xgw_exchange_find(f->gw, "f1");
    assert_non_null(ex);
    assert_null(xgw_exchange_find(f->gw, "nope"));
    struct xgw_call call = limit_buy();
    struct xgw_result *r = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_call_sync(ex, XGW_OP_PLACE, &call, &r, &err), 0);
    assert_int_equal(r->n_orders, 1);
    assert_string_equal(r->orders[0].client_id, "fk-1");
    char buf[XGW_DEC_STRLEN];
    xgw_dec_format(r->orders[0].price, buf, sizeof buf);
    assert_string_equal(buf, "97123.40");
    xgw_result_free(r);
    assert_int_equal(tu_tls_requests(f->srv), 2); /* markets, then the order */
    char head[4096], body[4096];
    tu_tls_last_request(f->srv, head, sizeof head, body, sizeof body);
    assert_non_null(strstr(head, "POST /x?op=place HTTP/1.1\r\n"));
    assert_string_equal(body, "symbol=BTCUSDT&cid=fk-1");

    /* The cache is filled: no second market load; a given client id is kept. */
    snprintf(call.order.client_id, sizeof call.order.client_id, "mine-7");
    assert_int_equal(xgw_call_sync(ex, XGW_OP_PLACE, &call, &r, &err), 0);
    assert_string_equal(r->orders[0].client_id, "mine-7");
    xgw_result_free(r);
    assert_int_equal(tu_tls_requests(f->srv), 3);
    /* A symbol the cache does not know is refused by the plugin. */
    snprintf(call.order.symbol, sizeof call.order.symbol, "NOPE");
    assert_int_equal(xgw_call_sync(ex, XGW_OP_PLACE, &call, &r, &err), XGW_ERR_INVALID_REQUEST);
    assert_null(r);
    assert_string_equal(err.exchange, "f1");

    /* CANCEL goes out as DELETE. */
    struct xgw_call cc = {0};
    snprintf(cc.symbol, sizeof cc.symbol, "BTCUSDT");
    snprintf(cc.client_id, sizeof cc.client_id, "mine-7");
    assert_int_equal(xgw_call_sync(ex, XGW_OP_CANCEL, &cc, &r, &err), 0);
    assert_int_equal(r->orders[0].status, XGW_OS_CANCELED);
    xgw_result_free(r);
    tu_tls_last_request(f->srv, head, sizeof head, NULL, 0);
    assert_non_null(strstr(head, "DELETE /x?op=cancel HTTP/1.1\r\n"));

    char *m = NULL;
    assert_int_equal(xgw_metrics(f->gw, XGW_METRICS_JSON, &m), 0);
    assert_non_null(strstr(m, "\"markets_loads\":1,"));
    assert_non_null(strstr(m, "\"place\":{\"requests\":{\"ok\":2,\"invalid_request\":1}"));
    free(m);
}

/* ---- TIME: offset from the round-trip midpoint ---------------------------------- */

static void test_time_offset(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 0\n");
    struct xgw_exchange *ex = xgw_exchange_at(f->gw, 0);
    struct xgw_result *r = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_call_sync(ex, XGW_OP_TIME, NULL, &r, &err), 0);
    /* Same machine: the offset is within a few ms (rounding, scheduling). */
    assert_true(r->local_offset_ms > -50 && r->local_offset_ms < 50);
    assert_true(r->server_time_ms > 1600000000000LL);
    assert_non_null(strstr(r->endpoint, "https://127.0.0.1:"));
    assert_int_equal(xgw__inst_ctx_clock_offset(ex->ctx), r->local_offset_ms);
    xgw_result_free(r);

    struct xgw_exchange_info info;
    xgw_exchange_info(ex, &info);
    assert_string_equal(info.instance, "f1");
    assert_string_equal(info.plugin, "fake");
    assert_string_equal(info.network, "mainnet");
    assert_int_equal(info.n_rest, 1);
    assert_false(info.api_key_set);
}

/* ---- metrics: Prometheus text ------------------------------------------------------ */

static bool valid_metric_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':' ||
              (i > 0 && ch >= '0' && ch <= '9')))
            return false;
    }
    return n > 0;
}

/* A structural check of the exposition format: every sample belongs to the
 * family declared by the last TYPE line, counters end in _total, histogram
 * buckets are cumulative and end with +Inf == _count. promtool (when
 * installed) checks the rest. */
static void check_prometheus(const char *text)
{
    char family[128] = "", type[32] = "";
    unsigned long long last_bucket = 0;
    bool in_buckets = false, saw_inf = false;
    unsigned long long inf_value = 0;
    const char *p = text;
    int samples = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        size_t len = (size_t)(nl - p);
        char line[1024];
        assert_true(len < sizeof line);
        memcpy(line, p, len);
        line[len] = '\0';
        p = nl + 1;
        if (!strncmp(line, "# HELP ", 7))
            continue;
        if (!strncmp(line, "# TYPE ", 7)) {
            assert_int_equal(sscanf(line + 7, "%127s %31s", family, type), 2);
            assert_true(valid_metric_name(family, strlen(family)));
            assert_true(!strncmp(family, "xgw_", 4));
            if (!strcmp(type, "counter"))
                assert_non_null(strstr(family, "_total"));
            in_buckets = false;
            continue;
        }
        size_t nlen = strcspn(line, "{ ");
        assert_true(valid_metric_name(line, nlen));
        samples++;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)nlen, line);
        const char *val = strrchr(line, ' ');
        assert_non_null(val);
        if (!strcmp(type, "histogram")) {
            size_t fl = strlen(family);
            assert_int_equal(strncmp(name, family, fl), 0);
            const char *suffix = name + fl;
            if (!strcmp(suffix, "_bucket")) {
                unsigned long long v = strtoull(val + 1, NULL, 10);
                if (!in_buckets)
                    last_bucket = 0;
                assert_true(v >= last_bucket);
                last_bucket = v;
                in_buckets = true;
                if (strstr(line, "le=\"+Inf\"")) {
                    saw_inf = true;
                    inf_value = v;
                    in_buckets = false;
                }
            } else if (!strcmp(suffix, "_count")) {
                assert_true(saw_inf);
                assert_int_equal(strtoull(val + 1, NULL, 10), inf_value);
                saw_inf = false;
            } else {
                assert_string_equal(suffix, "_sum");
            }
        } else {
            assert_string_equal(name, family);
        }
    }
    assert_true(samples > 10);
}

static void test_metrics_prometheus(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, "pool_min = 0\n");
    struct xgw_exchange *ex = xgw_exchange_at(f->gw, 0);
    struct xgw_error err;
    struct xgw_result *r = NULL;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(xgw_call_sync(ex, XGW_OP_TIME, NULL, &r, &err), 0);
        xgw_result_free(r);
    }
    struct xgw_call c = {0};
    snprintf(c.symbol, sizeof c.symbol, "/status/503");
    assert_int_equal(xgw_call_sync(ex, XGW_OP_TICKER, &c, &r, &err), XGW_ERR_SERVER);
    char *m = NULL;
    assert_int_equal(xgw_metrics(f->gw, XGW_METRICS_PROMETHEUS, &m), 0);
    check_prometheus(m);
    char want[256];
    snprintf(want, sizeof want,
             "xgw_requests_total{exchange=\"f1\",endpoint=\"https://127.0.0.1:%d\",op=\"time\",outcome=\"ok\"} 5\n",
             tu_tls_port(f->srv));
    assert_non_null(strstr(m, want));
    assert_non_null(strstr(m, "op=\"ticker\",outcome=\"server\"} 1\n"));
    assert_non_null(strstr(m, "op=\"time\",le=\"+Inf\"} 5\n"));
    assert_non_null(strstr(m, "# TYPE xgw_request_duration_seconds histogram\n"));

    /* promtool, when the prometheus package is installed. */
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        char path[160], cmd[256];
        snprintf(path, sizeof path, "%s/metrics.prom", f->dir);
        FILE *fp = fopen(path, "w");
        fputs(m, fp);
        fclose(fp);
        snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
        int rc = system(cmd);
        unlink(path);
        assert_int_equal(rc, 0);
    } else {
        fprintf(stderr, "SKIP promtool check: promtool not installed (apt-get install prometheus); "
                        "structural check done\n");
    }
    free(m);
}

/* ---- open errors ----------------------------------------------------------------- */

static void test_open_errors(void **state)
{
    struct tu_fakegw *f = *state;
    FILE *fp = fopen(f->ini, "w");
    fprintf(fp, "[gateway]\nplugin_dir = %s\n\n[exchange.z]\nplugin = nosuchplugin\n", f->dir);
    fclose(fp);
    struct xgw_error err;
    assert_null(xgw_open(f->ini, NULL, &err));
    assert_int_equal(err.kind, XGW_ERR_PLUGIN);
    assert_null(xgw_open("/nonexistent/xgw.ini", NULL, &err));
    assert_int_equal(err.kind, XGW_ERR_CONFIG);

    /* no_network: config and plugins only; calls are refused. */
    assert_int_equal(tu_fake_write_ini(f->ini, tu_tls_port(f->srv), f->cert, NULL), 0);
    struct xgw_open_opts o = {.no_network = true};
    f->gw = xgw_open(f->ini, &o, &err);
    assert_non_null(f->gw);
    assert_int_equal(xgw_exchange_count(f->gw), 1);
    struct xgw_result *r = NULL;
    assert_int_equal(xgw_call_sync(xgw_exchange_at(f->gw, 0), XGW_OP_TIME, NULL, &r, &err), XGW_ERR_UNSUPPORTED);
    assert_int_equal(tu_tls_accepts(f->srv), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_markets_refresh, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_async_threads, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_in_flight, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_never_started, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_host_driven, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_sync_two_threads_no_io_thread, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_sync_in_callback, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_place_pipeline, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_time_offset, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_metrics_prometheus, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, tu_fakegw_setup, tu_fakegw_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
