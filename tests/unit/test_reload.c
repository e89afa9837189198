/*
 * tests/unit/test_reload.c — in-place reload of a running gateway
 * (xgw__gateway_reload, core/reload.c) with the fake plugin against the
 * TLS test server: an unchanged instance is kept (same pointer, its
 * counters go on), a changed one replaced, an added one opened, a removed
 * one closed with its call in flight completed as CANCELLED; a bad file or
 * a refusing hook changes nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four above first */
#include <cmocka.h>

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

/* One [exchange.<name>] of the fake plugin per name, each followed by its
 * extra lines ("" for none). */
static void write_ini(struct tu_fakegw *f, const char *names[], const char *extras[], size_t n)
{
    FILE *fp = fopen(f->ini, "w");
    assert_non_null(fp);
    fprintf(fp, "[gateway]\nlog_level = error\n");
    for (size_t i = 0; i < n; i++)
        fprintf(fp,
                "\n[exchange.%s]\nplugin = fake\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\n"
                "health_checks = false\nclock_sync = false\nretry_max = 0\nrequest_timeout_ms = 60000\n%s",
                names[i], tu_tls_port(f->srv), f->cert, extras[i]);
    fclose(fp);
}

static void ping(struct xgw_exchange *ex)
{
    struct xgw_call call = {0};
    struct xgw_result *res = NULL;
    struct xgw_error err;
    int rc = xgw_call_sync(ex, XGW_OP_TIME, &call, &res, &err);
    if (rc != 0)
        fail_msg("call: %s", err.message);
    xgw_result_free(res);
}

static uint64_t time_ok(struct xgw_exchange *ex)
{
    uint64_t n = 0;
    for (size_t e = 0; e < ex->n_eps; e++)
        n += atomic_load(&ex->eps[e].metrics.ops[XGW_OP_TIME].by_outcome[XGW_OK]);
    return n;
}

struct hooks_seen {
    int closing;
    char closed[4][32];
    bool refuse;
};

static int refuse_instance(void *user, const struct xgw__config *cfg, const struct xgw__inst_cfg *ic,
                           const struct xgw_plugin *p, struct xgw_error *err)
{
    (void)cfg;
    (void)p;
    struct hooks_seen *h = user;
    if (!h->refuse)
        return 0;
    memset(err, 0, sizeof *err);
    err->kind = XGW_ERR_CONFIG;
    snprintf(err->message, sizeof err->message, "refused %s", ic->name);
    return XGW_ERR_CONFIG;
}

static void on_closing(void *user, struct xgw_exchange *ex)
{
    struct hooks_seen *h = user;
    if (h->closing < 4)
        snprintf(h->closed[h->closing], sizeof h->closed[0], "%s", ex->cfg->name);
    h->closing++;
}

static atomic_int done_kind = -1;
static void on_done(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    (void)user;
    atomic_store(&done_kind, res ? 0 : (int)err->kind);
}

static void test_reload_in_place(void **state)
{
    struct tu_fakegw *f = *state;
    const char *n2[] = {"f1", "f2"}, *e2[] = {"", ""};
    write_ini(f, n2, e2, 2);
    struct xgw_error err;
    assert_non_null(f->gw = xgw_open(f->ini, NULL, &err));
    assert_int_equal(xgw_start(f->gw, &err), 0);
    struct xgw_exchange *f1 = xgw_exchange_find(f->gw, "f1");
    struct xgw_exchange *f2 = xgw_exchange_find(f->gw, "f2");
    ping(f1);
    ping(f2);
    assert_int_equal(time_ok(f1), 1);

    /* f1 unchanged, f2 changed, f3 added */
    struct hooks_seen seen = {0};
    struct xgw__reload_hooks hooks = {
        .user = &seen, .check_instance = refuse_instance, .closing = on_closing};
    const char *n3[] = {"f1", "f2", "f3"}, *e3[] = {"", "pool_max = 3\n", ""};
    write_ini(f, n3, e3, 3);
    struct xgw__reload_stats st;
    assert_int_equal(xgw__gateway_reload(f->gw, f->ini, NULL, &hooks, &st, &err), 0);
    assert_int_equal(st.kept, 1);
    assert_int_equal(st.replaced, 1);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.removed, 0);
    assert_int_equal(seen.closing, 1);
    assert_string_equal(seen.closed[0], "f2");
    assert_int_equal(xgw_exchange_count(f->gw), 3);
    assert_ptr_equal(xgw_exchange_find(f->gw, "f1"), f1);
    assert_ptr_not_equal(xgw_exchange_find(f->gw, "f2"), f2);
    f2 = xgw_exchange_find(f->gw, "f2");
    struct xgw_exchange *f3 = xgw_exchange_find(f->gw, "f3");
    assert_non_null(f3);
    assert_int_equal(f2->cfg->pool_max, 3);
    /* the kept instance's counters go on, the replacement's start at 0 */
    assert_int_equal(time_ok(f1), 1);
    assert_int_equal(time_ok(f2), 0);
    ping(f1);
    ping(f2);
    ping(f3);
    assert_int_equal(time_ok(f1), 2);
    assert_int_equal(time_ok(f2), 1);

    /* refused: an unknown key, an unknown plugin, a hook - nothing changes */
    const char *bad_key[] = {"", "pool_mx = 3\n", ""};
    write_ini(f, n3, bad_key, 3);
    assert_int_equal(xgw__gateway_reload(f->gw, f->ini, NULL, &hooks, &st, &err), XGW_ERR_CONFIG);
    assert_non_null(strstr(err.message, "pool_mx"));
    write_ini(f, n3, e3, 3);
    FILE *fp = fopen(f->ini, "a");
    fprintf(fp, "\n[exchange.zz]\nplugin = nosuchplugin\n");
    fclose(fp);
    assert_int_not_equal(xgw__gateway_reload(f->gw, f->ini, NULL, &hooks, &st, &err), 0);
    assert_non_null(strstr(err.message, "nosuchplugin"));
    write_ini(f, n2, e2, 2);
    seen.refuse = true;
    assert_int_equal(xgw__gateway_reload(f->gw, f->ini, NULL, &hooks, &st, &err), XGW_ERR_CONFIG);
    assert_string_equal(err.message, "refused f1");
    seen.refuse = false;
    /* refused late: the file is valid, but the plugin refuses a new instance
     * while the others are being built - those are closed, nothing changes */
    char refuse[64];
    snprintf(refuse, sizeof refuse, "recv_window_ms = %d\n", TU_FAKE_REFUSE_RECV_WINDOW);
    const char *n5[] = {"f1", "f2", "f3", "f4", "f5"}, *e5[] = {"", "pool_max = 3\n", "", "", refuse};
    write_ini(f, n5, e5, 5);
    assert_int_equal(xgw__gateway_reload(f->gw, f->ini, NULL, &hooks, &st, &err), XGW_ERR_CONFIG);
    assert_non_null(strstr(err.message, "fake plugin refuses"));
    assert_int_equal(seen.closing, 1);
    assert_int_equal(xgw_exchange_count(f->gw), 3);
    assert_ptr_equal(xgw_exchange_find(f->gw, "f1"), f1);
    assert_ptr_equal(xgw_exchange_find(f->gw, "f2"), f2);
    assert_ptr_equal(xgw_exchange_find(f->gw, "f3"), f3);
    ping(f3);

    /* f2 and f3 removed, with a call of f3 stalled on the wire: it ends
     * CANCELLED before the reload returns */
    tu_tls_set_mode(f->srv, TU_TLS_STALL);
    int before = tu_tls_requests(f->srv);
    struct xgw_call call = {0};
    assert_int_equal(xgw_call(f3, XGW_OP_TIME, &call, on_done, NULL), 0);
    for (int i = 0; i < 500 && tu_tls_requests(f->srv) == before; i++)
        tu_sleep_ms(10);
    assert_int_equal(tu_tls_requests(f->srv), before + 1);
    assert_int_equal(atomic_load(&done_kind), -1);
    const char *n1[] = {"f1"}, *e1[] = {""};
    write_ini(f, n1, e1, 1);
    assert_int_equal(xgw__gateway_reload(f->gw, f->ini, NULL, &hooks, &st, &err), 0);
    assert_int_equal(atomic_load(&done_kind), XGW_ERR_CANCELLED);
    assert_int_equal(st.kept, 1);
    assert_int_equal(st.removed, 2);
    assert_int_equal(seen.closing, 3);
    assert_int_equal(xgw_exchange_count(f->gw), 1);
    assert_ptr_equal(xgw_exchange_at(f->gw, 0), f1);
    assert_null(xgw_exchange_find(f->gw, "f3"));
    tu_tls_set_mode(f->srv, TU_TLS_OK);
    ping(f1);
    assert_int_equal(time_ok(f1), 3);
    char *m = NULL;
    assert_int_equal(xgw_metrics(f->gw, XGW_METRICS_PROMETHEUS, &m), 0);
    assert_null(strstr(m, "exchange=\"f3\""));
    assert_non_null(strstr(m, "exchange=\"f1\""));
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reload_in_place, tu_fakegw_setup, tu_fakegw_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
