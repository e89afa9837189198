/*
 * tests/unit/test_http.c — the connection pool (core/http.c) through the
 * gateway pipeline, against the threaded TLS test server on loopback:
 * reuse, warm-up, idle close, timeouts, size limit, TLS trust.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "gateway.h"
#include "tu_fakeplugin.h"
#include "tu_fakegw.h"
#include "tu_tlsserver.h"
#include "xgw/xgw.h"

static struct xgw_gateway *open_gw(struct tu_fakegw *f, bool trust, const char *extra)
{
    assert_int_equal(tu_fake_write_ini(f->ini, tu_tls_port(f->srv), trust ? f->cert : NULL, extra), 0);
    struct xgw_error err;
    f->gw = xgw_open(f->ini, NULL, &err);
    if (!f->gw)
        fail_msg("xgw_open: %s %s", xgw_err_kind_name(err.kind), err.message);
    return f->gw;
}

static int call(struct tu_fakegw *f, enum xgw_op op, const char *symbol, struct xgw_error *err)
{
    struct xgw_call c = {0};
    if (symbol)
        snprintf(c.symbol, sizeof c.symbol, "%s", symbol);
    struct xgw_result *res = NULL;
    int rc = xgw_call_sync(xgw_exchange_at(f->gw, 0), op, &c, &res, err);
    if (rc == 0) {
        assert_non_null(res);
        assert_int_equal(res->op, op);
        assert_string_equal(res->exchange, "f1");
    } else {
        assert_null(res);
    }
    xgw_result_free(res);
    return rc;
}

static bool accepts_at_least(void *arg)
{
    void **a = arg;
    return tu_tls_accepts(a[0]) >= (int)(intptr_t)a[1];
}

static bool requests_at_least(void *arg)
{
    void **a = arg;
    return tu_tls_requests(a[0]) >= (int)(intptr_t)a[1];
}

static bool closed_at_least(void *arg)
{
    void **a = arg;
    return tu_tls_closed(a[0]) >= (int)(intptr_t)a[1];
}

static bool metric_closed_one(void *arg)
{
    char *m = NULL;
    if (xgw_metrics(arg, XGW_METRICS_JSON, &m) != 0)
        return false;
    bool yes = strstr(m, "\"connections_closed\":1,") != NULL;
    free(m);
    return yes;
}

/* N sequential requests travel over one connection. */
static void test_reuse(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, true, "pool_min = 0\nhttp2 = false\n");
    struct xgw_error err;
    for (int i = 0; i < 50; i++)
        assert_int_equal(call(f, XGW_OP_TIME, NULL, &err), 0);
    assert_int_equal(tu_tls_requests(f->srv), 50);
    assert_int_equal(tu_tls_accepts(f->srv), 1);

    char *m = NULL;
    assert_int_equal(xgw_metrics(f->gw, XGW_METRICS_JSON, &m), 0);
    assert_non_null(strstr(m, "\"connections_opened\":1,"));
    assert_non_null(strstr(m, "\"connections_reused\":49,"));
    assert_non_null(strstr(m, "\"time\":{\"requests\":{\"ok\":50}"));
    free(m);

    /* The request the plugin built went out as built. */
    char head[4096];
    tu_tls_last_request(f->srv, head, sizeof head, NULL, 0);
    assert_non_null(strstr(head, "GET /x?op=time HTTP/1.1\r\n"));
    assert_non_null(strstr(head, "\r\nX-Fake: 1\r\n"));
    assert_non_null(strstr(head, "\r\nAccept: application/json\r\n"));
    assert_non_null(strstr(head, "\r\nUser-Agent: xgw/"));
}

/* warmup opens pool_min connections before any call, with the I/O thread. */
static void test_pool_min_warm(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, true, "pool_min = 3\npool_max = 5\nwarmup = true\nhttp2 = false\n");
    struct xgw_error err;
    assert_int_equal(xgw_start(f->gw, &err), 0);
    void *a[2] = {f->srv, (void *)(intptr_t)3};
    assert_true(tu_wait_for(accepts_at_least, a, 5000));
    void *r[2] = {f->srv, (void *)(intptr_t)3};
    assert_true(tu_wait_for(requests_at_least, r, 5000));
    tu_sleep_ms(100);
    assert_int_equal(tu_tls_accepts(f->srv), 3);
    assert_int_equal(tu_tls_requests(f->srv), 3); /* one ping each */
    /* Later calls use the warm connections. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(call(f, XGW_OP_TIME, NULL, &err), 0);
    assert_int_equal(tu_tls_accepts(f->srv), 3);
}

/* pool_min is per endpoint: two endpoints (by IP and by name) get two each. */
static void test_pool_min_per_endpoint(void **state)
{
    struct tu_fakegw *f = *state;
    FILE *fp = fopen(f->ini, "w");
    fprintf(fp,
            "[gateway]\nlog_level = error\n[exchange.f1]\nplugin = fake\n"
            "rest_endpoints = https://127.0.0.1:%d, https://localhost:%d\nca_file = %s\n"
            "pool_min = 2\nwarmup = true\nhttp2 = false\nhealth_checks = false\nclock_sync = false\n",
            tu_tls_port(f->srv), tu_tls_port(f->srv), f->cert);
    fclose(fp);
    struct xgw_error err;
    f->gw = xgw_open(f->ini, NULL, &err);
    assert_non_null(f->gw);
    assert_int_equal(xgw_start(f->gw, &err), 0);
    void *r[2] = {f->srv, (void *)(intptr_t)4};
    assert_true(tu_wait_for(requests_at_least, r, 5000));
    tu_sleep_ms(100);
    assert_int_equal(tu_tls_accepts(f->srv), 4);
    assert_int_equal(tu_tls_requests(f->srv), 4);
    struct xgw_exchange_info info;
    xgw_exchange_info(xgw_exchange_at(f->gw, 0), &info);
    assert_int_equal(info.n_rest, 2);
}

/* Without warmup nothing is opened at start. */
static void test_no_warmup(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, true, "pool_min = 2\nwarmup = false\n");
    struct xgw_error err;
    assert_int_equal(xgw_start(f->gw, &err), 0);
    tu_sleep_ms(300);
    assert_int_equal(tu_tls_accepts(f->srv), 0);
}

/* An idle pool closes its connections after idle_timeout_s. */
static void test_idle_close(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, true, "pool_min = 0\nidle_timeout_s = 1\nhttp2 = false\n");
    struct xgw_error err;
    assert_int_equal(xgw_start(f->gw, &err), 0);
    assert_int_equal(call(f, XGW_OP_TIME, NULL, &err), 0);
    assert_int_equal(tu_tls_accepts(f->srv), 1);
    assert_int_equal(tu_tls_closed(f->srv), 0);
    void *a[2] = {f->srv, (void *)(intptr_t)1};
    assert_true(tu_wait_for(closed_at_least, a, 4000));
    /* The server sees TLS close_notify a moment before libcurl closes the
     * socket and counts it: wait for the metric. */
    assert_true(tu_wait_for(metric_closed_one, f->gw, 2000));
    /* The next call opens a new connection. */
    assert_int_equal(call(f, XGW_OP_TIME, NULL, &err), 0);
    assert_int_equal(tu_tls_accepts(f->srv), 2);
}

/* A server that never answers gives TIMEOUT after request_timeout_ms. */
static void test_timeout(void **state)
{
    struct tu_fakegw *f = *state;
    /* Many timeouts in a row would open the breaker: not what is tested here. */
    open_gw(f, true, "pool_min = 0\nrequest_timeout_ms = 1000\nbreaker_failures = 100\n");
    tu_tls_set_mode(f->srv, TU_TLS_STALL);
    struct xgw_error err;
    int64_t t0 = xgw__mono_us();
    assert_int_equal(call(f, XGW_OP_TIME, NULL, &err), XGW_ERR_TIMEOUT);
    int64_t took_ms = (xgw__mono_us() - t0) / 1000;
    assert_true(took_ms >= 950 && took_ms < 5000);
    assert_int_equal(err.kind, XGW_ERR_TIMEOUT);
    assert_string_equal(err.exchange, "f1");
    assert_non_null(strstr(err.endpoint, "https://127.0.0.1:"));
    assert_true(err.flags & XGW_ERRF_SENT);
    /* An order whose request was sent and not answered: outcome unknown. */
    struct xgw_error e2;
    int rc = call(f, XGW_OP_CANCEL, NULL, &e2);
    if (rc != XGW_ERR_UNKNOWN_OUTCOME)
        fail_msg("cancel: %s %s", xgw_err_kind_name(e2.kind), e2.message);
    tu_tls_set_mode(f->srv, TU_TLS_OK);
    assert_int_equal(call(f, XGW_OP_TIME, NULL, &err), 0);
}

/* Answers larger than max_response_bytes are refused, with and without a
 * Content-Length. */
static void test_oversized(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, true, "pool_min = 0\nmax_response_bytes = 65536\n");
    tu_tls_set_big(f->srv, 200000);
    struct xgw_error err;
    assert_int_equal(call(f, XGW_OP_TICKER, "/big", &err), XGW_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "max_response_bytes"));
    assert_int_equal(call(f, XGW_OP_TICKER, "/bignolen", &err), XGW_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "max_response_bytes"));
    /* Under the limit passes through to the plugin (which cannot parse 'aaa'). */
    tu_tls_set_big(f->srv, 1000);
    assert_int_equal(call(f, XGW_OP_TICKER, "/big", &err), XGW_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "not understood"));
    assert_int_equal(call(f, XGW_OP_TICKER, "BTCUSDT", &err), 0);
}

/* Without ca_file the self-signed certificate is not trusted. */
static void test_tls_untrusted(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, false, "pool_min = 0\n");
    struct xgw_error err;
    assert_int_equal(call(f, XGW_OP_TIME, NULL, &err), XGW_ERR_NETWORK);
    assert_non_null(strstr(err.message, "TLS"));
    assert_false(err.flags & XGW_ERRF_SENT);
    assert_int_equal(tu_tls_requests(f->srv), 0);
}

/* A ca_file that holds no certificate is a configuration error. */
static void test_bad_ca_file(void **state)
{
    struct tu_fakegw *f = *state;
    char bad[160];
    snprintf(bad, sizeof bad, "%s/empty.pem", f->dir);
    FILE *fp = fopen(bad, "w");
    fputs("not a certificate\n", fp);
    fclose(fp);
    assert_int_equal(tu_fake_write_ini(f->ini, tu_tls_port(f->srv), bad, NULL), 0);
    struct xgw_error err;
    assert_null(xgw_open(f->ini, NULL, &err));
    assert_int_equal(err.kind, XGW_ERR_CONFIG);
    unlink(bad);
}

/* Statuses reach the plugin's parse, which classifies them. */
static void test_status_to_parse(void **state)
{
    struct tu_fakegw *f = *state;
    open_gw(f, true, "pool_min = 0\n");
    struct xgw_error err;
    assert_int_equal(call(f, XGW_OP_TICKER, "/status/503", &err), XGW_ERR_SERVER);
    assert_int_equal(err.http_status, 503);
    assert_int_equal(err.code, 503);
    assert_int_equal(call(f, XGW_OP_TICKER, "/status/404", &err), XGW_ERR_INVALID_REQUEST);
    assert_int_equal(err.http_status, 404);
    /* connection kept across error answers */
    assert_int_equal(tu_tls_accepts(f->srv), 1);
}

/* Nothing listening: NETWORK, nothing sent. */
static void test_connect_refused(void **state)
{
    struct tu_fakegw *f = *state;
    int port = tu_tls_port(f->srv);
    tu_tls_stop(f->srv);
    f->srv = NULL;
    assert_int_equal(tu_fake_write_ini(f->ini, port, f->cert, "pool_min = 0\n"), 0);
    struct xgw_error err;
    f->gw = xgw_open(f->ini, NULL, &err);
    assert_non_null(f->gw);
    assert_int_equal(call(f, XGW_OP_TIME, NULL, &err), XGW_ERR_NETWORK);
    assert_false(err.flags & XGW_ERRF_SENT);
    /* restart a server for teardown symmetry */
    f->srv = tu_tls_start(f->cert);
}

/* ---- HTTP/2 against nghttpd (Debian nghttp2-server) ------------------------ */

static atomic_int h2_done, h2_ok;

static void h2_cb(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    (void)user;
    if (res && res->server_time_ms == 1234567)
        atomic_fetch_add(&h2_ok, 1);
    else if (err)
        fprintf(stderr, "h2 call failed: %s %s\n", xgw_err_kind_name(err->kind), err->message);
    atomic_fetch_add(&h2_done, 1);
}

static bool h2_all_done(void *arg)
{
    (void)arg;
    return atomic_load(&h2_done) >= 20;
}

/* With http2 = true and a server that offers only h2, 20 concurrent calls
 * share one multiplexed connection (HTTP/1.1 would need one connection per
 * request in flight). */
static void test_http2_multiplexed(void **state)
{
    struct tu_fakegw *f = *state;
    const char *nghttpd = "/usr/sbin/nghttpd";
    if (access(nghttpd, X_OK) != 0) {
        fprintf(stderr, "SKIP test_http2_multiplexed: %s not installed (apt-get install nghttp2-server)\n",
                nghttpd);
        skip();
    }
    char key[160], docs[160], file[200];
    snprintf(key, sizeof key, "%s/h2key.pem", f->dir);
    snprintf(docs, sizeof docs, "%s/htdocs", f->dir);
    snprintf(file, sizeof file, "%s/x", docs);
    assert_true(tu_make_cert(f->cert, key));
    assert_int_equal(mkdir(docs, 0700), 0);
    FILE *fp = fopen(file, "w");
    fputs("t=1234567", fp);
    fclose(fp);
    int port = tu_free_port();
    assert_true(port > 0);
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(nghttpd, "nghttpd", "--address=127.0.0.1", "-d", docs, portstr, key, f->cert, (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    bool up = false;
    for (int i = 0; i < 300 && !up; i++) {
        up = tu_port_open(port);
        if (!up)
            tu_sleep_ms(10);
    }
    if (up) {
        assert_int_equal(tu_fake_write_ini(f->ini, port, f->cert, "pool_min = 0\npool_max = 10\nhttp2 = true\n"),
                         0);
        struct xgw_error err;
        f->gw = xgw_open(f->ini, NULL, &err);
        assert_non_null(f->gw);
        assert_int_equal(xgw_start(f->gw, &err), 0);
        atomic_store(&h2_done, 0);
        atomic_store(&h2_ok, 0);
        for (int i = 0; i < 20; i++)
            assert_int_equal(xgw_call(xgw_exchange_at(f->gw, 0), XGW_OP_TIME, NULL, h2_cb, NULL), 0);
        bool done = tu_wait_for(h2_all_done, NULL, 10000);
        char *m = NULL;
        assert_int_equal(xgw_metrics(f->gw, XGW_METRICS_JSON, &m), 0);
        xgw_close(f->gw);
        f->gw = NULL;
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        unlink(file);
        rmdir(docs);
        unlink(key);
        assert_true(done);
        assert_int_equal(atomic_load(&h2_ok), 20);
        bool one = strstr(m, "\"connections_opened\":1,") != NULL;
        if (!one)
            fprintf(stderr, "%s\n", m);
        free(m);
        assert_true(one);
    } else {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        fail_msg("nghttpd did not start on port %d", port);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reuse, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_pool_min_warm, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_pool_min_per_endpoint, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_no_warmup, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_idle_close, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_timeout, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_oversized, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_tls_untrusted, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_bad_ca_file, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_status_to_parse, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_connect_refused, tu_fakegw_setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_http2_multiplexed, tu_fakegw_setup, tu_fakegw_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
