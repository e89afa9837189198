/* tu_stream.c — see tu_stream.h. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include "tu_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tu_proc.h"

/* The mock's demo account (tools/mockex/README.md), not a secret. */
static const char *const BN_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
static const char *const BN_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

int tu_stream_start_mock(struct tu_stream_gw *g, const char *const *mock_args)
{
    memset(g, 0, sizeof *g);
    if (tu_mockex_start(&g->mx, mock_args) != 0)
        return -1;
    if (tu_mkdtemp(g->dir, sizeof g->dir) != 0) {
        tu_stream_close(g);
        return -1;
    }
    return 0;
}

int tu_stream_start_gw(struct tu_stream_gw *g, const char *ini, const char *instance)
{
    char *p = tu_write_file(g->dir, "s.ini", ini, (size_t)-1, 0600);
    struct xgw_error err = {.message = "cannot write the configuration"};
    if (p)
        g->gw = xgw_open(p, NULL, &err);
    free(p);
    if (!g->gw || xgw_start(g->gw, &err) != 0 ||
        (instance && !(g->ex = xgw_exchange_find(g->gw, instance)))) {
        fprintf(stderr, "gateway: %s\n", g->gw && instance && !g->ex ? "no such instance" : err.message);
        tu_stream_close(g);
        return -1;
    }
    return 0;
}

int tu_stream_open_binance(struct tu_stream_gw *g, const char *const *mock_args, const char *extra_ini)
{
    if (tu_stream_start_mock(g, mock_args) != 0)
        return -1;
    char ini[4096];
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = warn\n\n"
             "[exchange.bn]\nplugin = binance\nrest_endpoints = https://127.0.0.1:%d\n"
             "ws_endpoints = wss://localhost:%d\nca_file = %s\napi_key = %s\napi_secret = %s\n"
             "ws_routed = false\nws_reconnect_initial_ms = 100\nws_reconnect_max_ms = 1000\n"
             "warmup = false\n%s",
             getenv("XGW_PLUGIN_DIR"), g->mx.ports[0], g->mx.ports[0], g->mx.cert, BN_KEY, BN_SECRET,
             extra_ini ? extra_ini : "");
    return tu_stream_start_gw(g, ini, "bn");
}

void tu_stream_close(struct tu_stream_gw *g)
{
    xgw_close(g->gw);
    g->gw = NULL;
    g->ex = NULL;
    if (g->mx.pid > 0)
        tu_mockex_stop(&g->mx);
    if (g->dir[0])
        tu_rm_rf(g->dir);
    g->dir[0] = '\0';
}

bool tu_wait_until(bool (*pred)(void *arg), void *arg, int ms)
{
    for (int waited = 0; waited < ms; waited += 10) {
        if (pred(arg))
            return true;
        usleep(10000);
    }
    return pred(arg);
}

int tu_stream_place(struct tu_stream_gw *g, const char *cid)
{
    struct xgw_call call;
    memset(&call, 0, sizeof call);
    snprintf(call.order.symbol, sizeof call.order.symbol, "BTCUSDT");
    call.order.side = XGW_SIDE_BUY;
    call.order.type = XGW_TYPE_LIMIT;
    xgw_dec_parse_cstr("0.010", &call.order.qty);
    xgw_dec_parse_cstr("40000.0", &call.order.price);
    snprintf(call.order.client_id, sizeof call.order.client_id, "%s", cid);
    struct xgw_result *res = NULL;
    struct xgw_error err;
    int rc = xgw_call_sync(g->ex, XGW_OP_PLACE, &call, &res, &err);
    if (rc)
        fprintf(stderr, "place %s: %s\n", cid, err.message);
    xgw_result_free(res);
    return rc;
}
