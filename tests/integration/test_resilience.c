/*
 * test_resilience.c — failover, circuit breakers, health checks, safe order
 * retries, rate limits and clock sync of the core pipeline, through the
 * public API with the Binance plugin, against the mock exchange's fault
 * injection on loopback (issue 6's list of tests).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tu_mockex.h"
#include "tu_proc.h"
#include "tu_tlsserver.h"
#include "xgw/xgw.h"

static const char *const KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
static const char *const SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

struct fx {
    struct tu_mockex mx;
    bool mx_up;
    char dir[256];
    struct xgw_gateway *gw;
    struct xgw_exchange *ex;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts the mock with nports ports (and extra mock args), then a gateway
 * whose one instance "bn" lists every port as an endpoint, in order. extra
 * is appended to the instance section. Faults given here are installed
 * before the gateway opens (so even its warm-up sees them). */
static void start(struct fx *f, int nports, const char *const *mock_args, const char *fault, const char *extra)
{
    const char *args[32];
    int n = 0;
    for (int i = 0; i < nports; i++) {
        args[n++] = "--port";
        args[n++] = "0";
    }
    for (int i = 0; mock_args && mock_args[i]; i++)
        args[n++] = mock_args[i];
    args[n] = NULL;
    assert_int_equal(tu_mockex_start(&f->mx, args), 0);
    f->mx_up = true;
    assert_int_equal(f->mx.nports, nports);
    if (fault)
        assert_int_equal(tu_mockex_fault(&f->mx, fault), 0);
    assert_int_equal(tu_mkdtemp(f->dir, sizeof f->dir), 0);
    char eps[512] = "";
    for (int i = 0; i < nports; i++)
        snprintf(eps + strlen(eps), sizeof eps - strlen(eps), "%shttps://127.0.0.1:%d", i ? ", " : "",
                 f->mx.ports[i]);
    char ini[4096];
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = %s\n\n"
             "[exchange.bn]\nplugin = binance\nrest_endpoints = %s\nca_file = %s\napi_key = %s\napi_secret = %s\n"
             "http2 = false\n%s",
             getenv("XGW_PLUGIN_DIR"), getenv("XGW_TEST_LOG") ? getenv("XGW_TEST_LOG") : "error", eps, f->mx.cert,
             KEY, SECRET, extra ? extra : "");
    char *p = tu_write_file(f->dir, "r.ini", ini, (size_t)-1, 0600);
    assert_non_null(p);
    struct xgw_error err;
    f->gw = xgw_open(p, NULL, &err);
    free(p);
    if (!f->gw)
        fail_msg("xgw_open: %s", err.message);
    f->ex = xgw_exchange_find(f->gw, "bn");
    assert_int_equal(xgw_start(f->gw, &err), 0);
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct fx));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    xgw_close(f->gw);
    if (f->mx_up)
        tu_mockex_stop(&f->mx);
    if (f->dir[0])
        tu_rm_rf(f->dir);
    free(f);
    return 0;
}

static int call(struct fx *f, enum xgw_op op, const struct xgw_call *c, struct xgw_result **res, struct xgw_error *err)
{
    struct xgw_call none;
    memset(&none, 0, sizeof none);
    return xgw_call_sync(f->ex, op, c ? c : &none, res, err);
}

/* A read; returns the index of the port that answered (-1 on error). */
static int read_port(struct fx *f, struct xgw_error *err)
{
    struct xgw_result *res = NULL;
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    snprintf(c.symbol, sizeof c.symbol, "BTCUSDT");
    if (call(f, XGW_OP_TICKER, &c, &res, err) != 0)
        return -1;
    int port = atoi(strrchr(res->endpoint, ':') + 1);
    xgw_result_free(res);
    for (int i = 0; i < f->mx.nports; i++)
        if (f->mx.ports[i] == port)
            return i;
    return -2;
}

static long long counter(struct fx *f, const char *name)
{
    return tu_mockex_state_num(&f->mx, "counters", "binance", name);
}

static long long fault_hits(struct fx *f, int idx)
{
    cJSON *j = tu_mockex_state(&f->mx);
    const cJSON *x = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "faults"), idx);
    long long h = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(x, "hits"));
    cJSON_Delete(j);
    return h;
}

static char *metrics(struct fx *f)
{
    char *m = NULL;
    assert_int_equal(xgw_metrics(f->gw, XGW_METRICS_PROMETHEUS, &m), 0);
    return m;
}

/* The value of one Prometheus sample line starting with `prefix`. */
static double metric(struct fx *f, const char *prefix)
{
    char *m = NULL;
    if (xgw_metrics(f->gw, XGW_METRICS_PROMETHEUS, &m) != 0)
        return -2;
    size_t off = (size_t)-1;
    const char *p = strstr(m, prefix);
    if (p)
        off = (size_t)(strchr(p, ' ') + 1 - m);
    double v = off == (size_t)-1 ? -1 : strtod(m + off, NULL);
    free(m);
    return v;
}

static enum xgw_health health(struct fx *f, char **json)
{
    enum xgw_health h = XGW_HEALTH_UNKNOWN;
    assert_int_equal(xgw_health(f->gw, json, &h), 0);
    return h;
}

struct hw {
    struct fx *f;
    enum xgw_health want;
};

static bool health_is(void *arg)
{
    struct hw *w = arg;
    return health(w->f, NULL) == w->want;
}

static void delete_faults(struct fx *f)
{
    struct tu_http r;
    /* On the last port: a refuse fault on the first blocks the control API there too. */
    assert_int_equal(
        tu_mockex_http(&f->mx, f->mx.ports[f->mx.nports - 1], "DELETE", "/_mock/faults", NULL, NULL, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
}

/* ---- failover ------------------------------------------------------------- */

/* The first of three endpoints refuses connections: reads succeed on the
 * second with no error; once it accepts again and its breaker lets a probe
 * through, traffic returns to it. */
static void test_failover_refused_and_back(void **state)
{
    struct fx *f = *state;
    start(f, 3, NULL, NULL,
          "breaker_failures = 2\nbreaker_recovery_s = 1\nbreaker_recovery_max_s = 2\nhealth_interval_s = 1\n"
          "health_timeout_s = 1\nhealth_max_failures = 2\nretry_backoff_ms = 10\n");
    char fault[128];
    snprintf(fault, sizeof fault, "{\"kind\":\"refuse\",\"port\":%d,\"ratio\":1}", f->mx.ports[0]);
    /* Start from cold: no pooled connection to the first endpoint survives. */
    xgw_close(f->gw);
    f->gw = NULL;
    assert_int_equal(tu_mockex_fault(&f->mx, fault), 0);
    char ini[300];
    snprintf(ini, sizeof ini, "%s/r.ini", f->dir);
    struct xgw_error err;
    f->gw = xgw_open(ini, NULL, &err);
    assert_non_null(f->gw);
    f->ex = xgw_exchange_find(f->gw, "bn");
    assert_int_equal(xgw_start(f->gw, &err), 0);

    for (int i = 0; i < 10; i++) {
        int at = read_port(f, &err);
        if (at != 1)
            fail_msg("read %d went to %d: %s", i, at, err.message);
    }
    char want[160];
    snprintf(want, sizeof want,
             "xgw_failovers_total{exchange=\"bn\",from=\"https://127.0.0.1:%d\",to=\"https://127.0.0.1:%d\"}",
             f->mx.ports[0], f->mx.ports[1]);
    assert_true(metric(f, want) >= 1);
    char *m = metrics(f);
    snprintf(want, sizeof want, "xgw_breaker_state{exchange=\"bn\",endpoint=\"https://127.0.0.1:%d\",state=\"open\"} 1",
             f->mx.ports[0]);
    /* Two refused attempts opened the first endpoint's breaker. */
    if (!strstr(m, want))
        fail_msg("breaker of the refusing endpoint not open:\n%s", m);
    free(m);
    struct hw w = {f, XGW_HEALTH_DEGRADED};
    assert_true(tu_wait_for(health_is, &w, 8000));

    delete_faults(f);
    long long t0 = now_ms();
    int at = -1;
    while (now_ms() - t0 < 10000 && (at = read_port(f, &err)) != 0)
        tu_sleep_ms(100);
    assert_int_equal(at, 0);
    w.want = XGW_HEALTH_HEALTHY;
    assert_true(tu_wait_for(health_is, &w, 8000));
}

/* A 503 storm on one endpoint opens its breaker after exactly
 * breaker_failures failures; it half-opens, a failed probe re-opens it, and
 * once the endpoint serves again a probe closes it. Reads never fail. */
static void test_breaker_503_storm(void **state)
{
    struct fx *f = *state;
    start(f, 2, NULL, NULL,
          "breaker_failures = 3\nbreaker_recovery_s = 1\nbreaker_recovery_max_s = 4\nhealth_checks = false\n"
          "warmup = false\nclock_sync = false\nretry_backoff_ms = 5\n");
    char fault[160];
    snprintf(fault, sizeof fault, "{\"kind\":\"http_status\",\"port\":%d,\"ratio\":1,\"params\":{\"status\":503}}",
             f->mx.ports[0]);
    assert_int_equal(tu_mockex_fault(&f->mx, fault), 0);
    struct xgw_error err;
    for (int i = 0; i < 10; i++)
        assert_int_equal(read_port(f, &err), 1);
    /* Exactly breaker_failures 503s reached the storming endpoint. */
    assert_int_equal(fault_hits(f, 0), 3);

    /* After the recovery time one probe goes there, fails, and re-opens it. */
    tu_sleep_ms(1200);
    for (int i = 0; i < 5; i++)
        assert_int_equal(read_port(f, &err), 1);
    assert_int_equal(fault_hits(f, 0), 4);

    /* The endpoint recovers: after the (doubled) recovery time a probe closes it. */
    delete_faults(f);
    long long t0 = now_ms();
    int at = -1;
    while (now_ms() - t0 < 8000 && (at = read_port(f, &err)) != 0)
        tu_sleep_ms(100);
    assert_int_equal(at, 0);
    char *m = metrics(f);
    char want[200];
    snprintf(want, sizeof want,
             "xgw_breaker_transitions_total{exchange=\"bn\",endpoint=\"https://127.0.0.1:%d\",to=\"open\"} 2",
             f->mx.ports[0]);
    if (!strstr(m, want))
        fail_msg("want %s in\n%s", want, m);
    snprintf(want, sizeof want,
             "xgw_breaker_transitions_total{exchange=\"bn\",endpoint=\"https://127.0.0.1:%d\",to=\"closed\"} 1",
             f->mx.ports[0]);
    assert_non_null(strstr(m, want));
    free(m);
}

/* Every endpoint's breaker open: calls fail fast, with no socket touched. */
static void test_all_breakers_open_fail_fast(void **state)
{
    struct fx *f = *state;
    start(f, 1, NULL, "{\"kind\":\"http_status\",\"ratio\":1,\"params\":{\"status\":502}}",
          "breaker_failures = 2\nbreaker_recovery_s = 60\nbreaker_recovery_max_s = 60\nhealth_checks = false\n"
          "warmup = false\nclock_sync = false\nretry_max = 0\n");
    struct xgw_error err;
    assert_int_equal(read_port(f, &err), -1);
    assert_int_equal(err.kind, XGW_ERR_SERVER);
    assert_int_equal(read_port(f, &err), -1);
    long long before = tu_mockex_state_num(&f->mx, "requests", "total", NULL);
    long long t0 = now_ms();
    assert_int_equal(read_port(f, &err), -1);
    /* fast: no connect (3 s), request (10 s) or recovery (60 s) waited for;
     * no bound tighter than that, which a loaded ASan build could break
     * (the untouched request count below shows that nothing was sent) */
    assert_true(now_ms() - t0 < 2500);
    assert_int_equal(err.kind, XGW_ERR_NETWORK);
    assert_true(err.flags & XGW_ERRF_BREAKER_OPEN);
    assert_non_null(strstr(err.message, "circuit breaker"));
    /* (the control API is not counted) */
    assert_int_equal(tu_mockex_state_num(&f->mx, "requests", "total", NULL), before);
    struct hw w = {f, XGW_HEALTH_UNHEALTHY};
    assert_true(health_is(&w));
}

/* ---- health ---------------------------------------------------------------- */

static void test_health_stall_and_down(void **state)
{
    struct fx *f = *state;
    start(f, 2, NULL, NULL, "health_interval_s = 1\nhealth_timeout_s = 1\nhealth_max_failures = 2\n");
    struct hw w = {f, XGW_HEALTH_HEALTHY};
    assert_true(tu_wait_for(health_is, &w, 5000));
    char fault[128];
    snprintf(fault, sizeof fault, "{\"kind\":\"stall\",\"port\":%d,\"ratio\":1,\"path\":\"/fapi/v1/ping\"}",
             f->mx.ports[0]);
    assert_int_equal(tu_mockex_fault(&f->mx, fault), 0);
    w.want = XGW_HEALTH_DEGRADED;
    assert_true(tu_wait_for(health_is, &w, 8000));
    char *json = NULL;
    assert_int_equal(health(f, &json), XGW_HEALTH_DEGRADED);
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    const cJSON *eps = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "instances"), 0), "endpoints");
    assert_int_equal(cJSON_GetArraySize(eps), 2);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(eps, 0), "state")), "UNHEALTHY");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(eps, 1), "state")), "HEALTHY");
    assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(eps, 0), "check_failures")) >= 2);
    assert_true(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(eps, 0), "last_error"))) > 0);
    cJSON_Delete(j);
    free(json);
    /* Reads still work: the unhealthy endpoint is passed over. */
    struct xgw_error err;
    assert_int_equal(read_port(f, &err), 1);

    /* Everything down. */
    tu_mockex_stop(&f->mx);
    f->mx_up = false;
    w.want = XGW_HEALTH_UNHEALTHY;
    assert_true(tu_wait_for(health_is, &w, 8000));
}

/* ---- orders ----------------------------------------------------------------- */

static void order_args(struct xgw_call *c, const char *cid)
{
    memset(c, 0, sizeof *c);
    snprintf(c->order.symbol, sizeof c->order.symbol, "BTCUSDT");
    c->order.side = XGW_SIDE_BUY;
    c->order.type = XGW_TYPE_LIMIT;
    xgw_dec_parse_cstr("0.010", &c->order.qty);
    xgw_dec_parse_cstr("40000.0", &c->order.price);
    snprintf(c->order.client_id, sizeof c->order.client_id, "%s", cid);
}

/* Accepted, then the connection drops before the answer: the call returns
 * the order found by its client id, and exactly one order exists. */
static void test_place_reset_after_found(void **state)
{
    struct fx *f = *state;
    start(f, 1, NULL, "{\"kind\":\"reset_after\",\"path\":\"/fapi/v1/order\",\"count\":1}", "recv_window_ms = 1000\n");
    struct xgw_call c;
    order_args(&c, "xgwtest-ra-1");
    struct xgw_result *res = NULL;
    struct xgw_error err;
    int rc = call(f, XGW_OP_PLACE, &c, &res, &err);
    if (rc)
        fail_msg("place: %s", err.message);
    assert_int_equal(res->op, XGW_OP_PLACE);
    assert_int_equal(res->n_orders, 1);
    assert_string_equal(res->orders[0].client_id, "xgwtest-ra-1");
    assert_int_equal(res->orders[0].status, XGW_OS_NEW);
    xgw_result_free(res);
    assert_int_equal(counter(f, "orders_placed"), 1);
    assert_int_equal(fault_hits(f, 0), 1);
    assert_true(metric(f, "xgw_order_lookups_total{exchange=\"bn\"}") >= 1);
    assert_int_equal((int)metric(f, "xgw_order_resends_total{exchange=\"bn\"}"), 0);
}

/* A place the exchange never received (reset before processing): proven
 * absent by a lookup sent after the receive window, then sent once more
 * with the same client id. */
static void test_place_never_received_resent(void **state)
{
    struct fx *f = *state;
    start(f, 1, NULL, "{\"kind\":\"reset_before\",\"path\":\"/fapi/v1/order\",\"count\":1}", "recv_window_ms = 1000\n");
    struct xgw_call c;
    order_args(&c, "xgwtest-rb-1");
    struct xgw_result *res = NULL;
    struct xgw_error err;
    long long t0 = now_ms();
    int rc = call(f, XGW_OP_PLACE, &c, &res, &err);
    if (rc)
        fail_msg("place: %s", err.message);
    /* recv_window 1 s + 1 s margin before "not found" is proof */
    assert_true(now_ms() - t0 >= 1900);
    assert_string_equal(res->orders[0].client_id, "xgwtest-rb-1");
    xgw_result_free(res);
    assert_int_equal(counter(f, "orders_placed"), 1);
    assert_int_equal((int)metric(f, "xgw_order_resends_total{exchange=\"bn\"}"), 1);
}

/* A cancel that times out is resolved by looking the order up. */
static void test_cancel_timeout_resolved(void **state)
{
    struct fx *f = *state;
    start(f, 1, NULL, NULL, "recv_window_ms = 1000\nrequest_timeout_ms = 2000\n");
    struct xgw_call c;
    order_args(&c, "xgwtest-ct-1");
    struct xgw_result *res = NULL;
    struct xgw_error err;
    assert_int_equal(call(f, XGW_OP_PLACE, &c, &res, &err), 0);
    xgw_result_free(res);
    assert_int_equal(tu_mockex_fault(&f->mx, "{\"kind\":\"latency\",\"path\":\"/fapi/v1/order\",\"count\":1,"
                                             "\"params\":{\"ms\":3000}}"),
                     0);
    memset(&c, 0, sizeof c);
    snprintf(c.symbol, sizeof c.symbol, "BTCUSDT");
    snprintf(c.client_id, sizeof c.client_id, "xgwtest-ct-1");
    int rc = call(f, XGW_OP_CANCEL, &c, &res, &err);
    if (rc)
        fail_msg("cancel: %s", err.message);
    assert_int_equal(res->op, XGW_OP_CANCEL);
    assert_int_equal(res->orders[0].status, XGW_OS_CANCELED);
    xgw_result_free(res);
    assert_int_equal(fault_hits(f, 0), 1);
    assert_true(metric(f, "xgw_order_lookups_total{exchange=\"bn\"}") >= 1);
    assert_int_equal(counter(f, "orders_canceled"), 1);
}

/* ---- rate limits --------------------------------------------------------- */

struct burst {
    atomic_int done, ok, limited, other;
    atomic_int other_kind;
    pthread_mutex_t mu;
    char first_other[XGW_ERR_MSG_MAX];
};

static void on_burst(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    struct burst *b = user;
    if (res)
        atomic_fetch_add(&b->ok, 1);
    else if (err->kind == XGW_ERR_RATE_LIMITED)
        atomic_fetch_add(&b->limited, 1);
    else {
        atomic_fetch_add(&b->other, 1);
        atomic_store(&b->other_kind, (int)err->kind);
        pthread_mutex_lock(&b->mu);
        if (!b->first_other[0])
            snprintf(b->first_other, sizeof b->first_other, "%s", err->message);
        pthread_mutex_unlock(&b->mu);
    }
    atomic_fetch_add(&b->done, 1);
}

static bool burst_done(void *arg)
{
    struct burst *b = arg;
    return atomic_load(&b->done) == 5000;
}

/* 5,000 ticker calls at once against a limit of 1,200 weight per minute:
 * the gateway refuses what does not fit; the mock never answers 429. */
static void test_burst_never_429(void **state)
{
    struct fx *f = *state;
    const char *margs[] = {"--weight-limit", "1200", NULL};
    start(f, 1, margs, NULL, "rate_limits = request_weight_1m=1200\nrate_limit_max_wait_ms = 500\n");
    struct burst b = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    snprintf(c.symbol, sizeof c.symbol, "BTCUSDT");
    for (int i = 0; i < 5000; i++)
        assert_int_equal(xgw_call(f->ex, XGW_OP_TICKER, &c, on_burst, &b), 0);
    assert_true(tu_wait_for(burst_done, &b, 60000));
    if (atomic_load(&b.other))
        fail_msg("%d calls failed with %s, the first: %s", atomic_load(&b.other),
                 xgw_err_kind_name(atomic_load(&b.other_kind)), b.first_other);
    assert_true(atomic_load(&b.ok) > 100);
    assert_true(atomic_load(&b.limited) > 3000);
    assert_int_equal(counter(f, "http_429"), 0);
    assert_int_equal(counter(f, "http_418"), 0);
    assert_true(metric(f, "xgw_rate_limit_refused_total{exchange=\"bn\"}") > 3000);
}

/* 429 with Retry-After: 2 -> nothing reaches the exchange for 2 s. */
static void test_429_retry_after(void **state)
{
    struct fx *f = *state;
    start(f, 1, NULL, NULL, "health_checks = false\nwarmup = false\nretry_max = 0\nrate_limit_wait = false\n");
    struct xgw_error err;
    assert_true(read_port(f, &err) == 0);
    assert_int_equal(tu_mockex_fault(&f->mx, "{\"kind\":\"http_status\",\"path\":\"/fapi/v1/ticker\",\"count\":1,"
                                             "\"params\":{\"status\":429,\"code\":-1003,\"retry_after\":2}}"),
                     0);
    assert_int_equal(read_port(f, &err), -1);
    assert_int_equal(err.kind, XGW_ERR_RATE_LIMITED);
    long long t429 = now_ms();
    long long before = tu_mockex_state_num(&f->mx, "requests", "total", NULL);
    /* Asked while the gateway says more than 300 ms of the back-off are
     * left: its own count, not the time since this thread saw the 429,
     * which a loaded machine delays (the back-off started before). */
    int refused = 0;
    long long left = 0;
    do {
        assert_int_equal(read_port(f, &err), -1);
        assert_int_equal(err.kind, XGW_ERR_RATE_LIMITED);
        assert_true(err.retry_after_ms > 0 && err.retry_after_ms <= 2000);
        left = err.retry_after_ms;
        refused++;
        tu_sleep_ms(50);
    } while (left > 300 && now_ms() - t429 < 10000);
    assert_true(left <= 300); /* counted down */
    assert_true(refused > 5);
    /* Nothing reached the mock (its control API is not counted). */
    assert_int_equal(tu_mockex_state_num(&f->mx, "requests", "total", NULL), before);
    tu_sleep_ms(2100 - (int)(now_ms() - t429) > 0 ? 2100 - (int)(now_ms() - t429) : 0);
    assert_int_equal(read_port(f, &err), 0);
}

/* 418: the instance stops and reports BANNED with the ban's end. */
static void test_418_banned(void **state)
{
    struct fx *f = *state;
    start(f, 1, NULL, NULL, "health_checks = false\nwarmup = false\nretry_max = 0\n");
    struct xgw_error err;
    long long until = (long long)time(NULL) * 1000 + 60000;
    char fault[300];
    snprintf(fault, sizeof fault,
             "{\"kind\":\"http_status\",\"path\":\"/fapi/v1/ticker\",\"count\":1,\"params\":{\"status\":418,"
             "\"code\":-1003,\"msg\":\"Way too much request weight used; IP banned until %lld.\"}}",
             until);
    assert_int_equal(tu_mockex_fault(&f->mx, fault), 0);
    assert_int_equal(read_port(f, &err), -1);
    assert_int_equal(err.kind, XGW_ERR_BANNED);
    long long before = tu_mockex_state_num(&f->mx, "requests", "total", NULL);
    assert_int_equal(read_port(f, &err), -1);
    assert_int_equal(err.kind, XGW_ERR_BANNED);
    assert_true(err.until_ms >= until - 1000 && err.until_ms <= until + 1000);
    struct xgw_result *res = NULL;
    assert_int_equal(call(f, XGW_OP_TIME, NULL, &res, &err), XGW_ERR_BANNED);
    assert_int_equal(tu_mockex_state_num(&f->mx, "requests", "total", NULL), before);
    char *json = NULL;
    assert_int_equal(health(f, &json), XGW_HEALTH_UNHEALTHY);
    assert_non_null(strstr(json, "\"banned_until_ms\":"));
    free(json);
}

/* ---- clock ---------------------------------------------------------------- */

/* Mock clock 10 s ahead, no sample at start: the first signed call is
 * refused for its timestamp, re-synced and sent again, and succeeds. */
static void test_clock_skew_resync(void **state)
{
    struct fx *f = *state;
    const char *margs[] = {"--clock-offset-ms", "10000", NULL};
    start(f, 1, margs, NULL, "clock_sync = false\nrecv_window_ms = 1000\n");
    struct xgw_result *res = NULL;
    struct xgw_error err;
    int rc = call(f, XGW_OP_BALANCES, NULL, &res, &err);
    if (rc)
        fail_msg("balances: %s", err.message);
    xgw_result_free(res);
    assert_int_equal(counter(f, "timestamp_failures"), 1);
    assert_int_equal((int)metric(f, "xgw_clock_resyncs_total{exchange=\"bn\"}"), 1);
}

/* With the start-up sample (the default) no signed call is ever refused. */
static void test_clock_sampled_at_start(void **state)
{
    struct fx *f = *state;
    const char *margs[] = {"--clock-offset-ms", "10000", NULL};
    start(f, 1, margs, NULL, "recv_window_ms = 1000\n");
    struct xgw_result *res = NULL;
    struct xgw_error err;
    /* The sample runs as soon as the loop starts; wait for it. */
    long long t0 = now_ms();
    while (now_ms() - t0 < 5000 && tu_mockex_state_num(&f->mx, "requests", "by_path", "/fapi/v1/time") < 1)
        tu_sleep_ms(20);
    tu_sleep_ms(200);
    assert_int_equal(call(f, XGW_OP_BALANCES, NULL, &res, &err), 0);
    xgw_result_free(res);
    assert_int_equal(counter(f, "timestamp_failures"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failover_refused_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breaker_503_storm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_breakers_open_fail_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_stall_and_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_place_reset_after_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_place_never_received_resent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_timeout_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_never_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_418_banned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_skew_resync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_sampled_at_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
