/*
 * tests/unit/tu_fakeplugin.c — see tu_fakeplugin.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "tu_fakeplugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Own op names: a plugin calls nothing of the core by symbol, so this file
 * also builds as a real fake.so for manual CLI runs. */
static const char *op_name(enum xgw_op op)
{
    static const char *const n[] = {"ping", "time", "markets", "ticker", "depth", "balances", "positions",
                                    "place", "cancel", "get_order", "open_orders", "ws_token", "ws_token_keepalive"};
    return (unsigned)op < sizeof n / sizeof n[0] ? n[op] : "?";
}

struct fake {
    const struct xgw_core_api *core;
    struct xgw_inst_ctx *ctx;
    unsigned long long ids;
};

static void *fk_create(const struct xgw_core_api *core, struct xgw_inst_ctx *ctx, struct xgw_error *err)
{
    /* A plugin refusing its instance, for the tests of that path. */
    if (core->cfg_int(ctx, "recv_window_ms", 0) == TU_FAKE_REFUSE_RECV_WINDOW) {
        core->set_error(err, XGW_ERR_CONFIG, 0, "fake plugin refuses this instance");
        return NULL;
    }
    struct fake *f = calloc(1, sizeof *f);
    if (f) {
        f->core = core;
        f->ctx = ctx;
    }
    return f;
}

static void fk_destroy(void *self) { free(self); }

static int fk_client_id(void *self, char *out, size_t cap)
{
    struct fake *f = self;
    snprintf(out, cap, "fk-%llu", ++f->ids);
    return XGW_OK;
}

static int fk_build(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
                    struct xgw_error *err)
{
    struct fake *f = self;
    (void)err;
    int rc = 0;
    if (call->symbol[0] == '/') {
        rc = f->core->buf_append(&req->target, call->symbol, strlen(call->symbol));
    } else {
        rc = f->core->buf_printf(&req->target, "/x?op=%s", op_name(op));
        if (op == XGW_OP_PLACE) {
            req->method = XGW_HTTP_POST;
            rc = rc ? rc : f->core->buf_printf(&req->body, "symbol=%s&cid=", call->order.symbol);
            rc = rc ? rc : f->core->buf_urlencode(&req->body, call->order.client_id, strlen(call->order.client_id));
        } else if (op == XGW_OP_CANCEL) {
            req->method = XGW_HTTP_DELETE;
        }
    }
    rc = rc ? rc : f->core->buf_printf(&req->headers, "X-Fake: 1\nX-Op: %s\n", op_name(op));
    return rc ? XGW_ERR_INTERNAL : XGW_OK;
}

static int fk_parse(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
                    struct xgw_sink *out, struct xgw_error *err)
{
    struct fake *f = self;
    const struct xgw_core_api *core = f->core;
    int status = core->resp_status(resp);
    size_t len = 0;
    const char *body = core->resp_body(resp, &len);
    if (status >= 500)
        return core->set_error(err, XGW_ERR_SERVER, status, "fake server error %d", status);
    if (status != 200)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, status, "fake refused with %d", status);
    if (len < 3 || strncmp(body, "t=", 2) != 0)
        return core->set_error(err, XGW_ERR_PROTOCOL, 0, "fake answer not understood");
    int64_t t = strtoll(body + 2, NULL, 10);
    switch (op) {
    case XGW_OP_PING:
    case XGW_OP_TIME:
        return core->emit(out, XGW_REC_TIME, &t);
    case XGW_OP_TICKER: {
        struct xgw_ticker tk = {0};
        snprintf(tk.symbol, sizeof tk.symbol, "%s", call->symbol);
        core->dec_parse("1.50", 4, &tk.last);
        tk.bid = tk.ask = tk.bid_qty = tk.ask_qty = xgw_dec_none();
        tk.ts_ms = t;
        return core->emit(out, XGW_REC_TICKER, &tk);
    }
    case XGW_OP_MARKETS: {
        struct xgw_market m = {0};
        snprintf(m.symbol, sizeof m.symbol, "BTCUSDT");
        snprintf(m.base, sizeof m.base, "BTC");
        snprintf(m.quote, sizeof m.quote, "USDT");
        core->dec_parse("0.10", 4, &m.tick_size);
        core->dec_parse("0.001", 5, &m.step_size);
        core->dec_parse("0.001", 5, &m.min_qty);
        m.min_notional = m.market_step_size = xgw_dec_none();
        m.price_decimals = 2;
        m.qty_decimals = 3;
        m.index = -1;
        m.status = XGW_MKT_TRADING;
        return core->emit(out, XGW_REC_MARKET, &m);
    }
    case XGW_OP_PLACE:
    case XGW_OP_CANCEL:
    case XGW_OP_GET_ORDER: {
        struct xgw_market m;
        if (op == XGW_OP_PLACE && !core->market(f->ctx, call->order.symbol, &m))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "unknown symbol %s", call->order.symbol);
        struct xgw_order o = {0};
        snprintf(o.symbol, sizeof o.symbol, "%s", op == XGW_OP_PLACE ? call->order.symbol : call->symbol);
        snprintf(o.order_id, sizeof o.order_id, "%lld", (long long)t);
        snprintf(o.client_id, sizeof o.client_id, "%s", op == XGW_OP_PLACE ? call->order.client_id : call->client_id);
        o.status = op == XGW_OP_CANCEL ? XGW_OS_CANCELED : XGW_OS_NEW;
        o.side = call->order.side;
        o.type = call->order.type;
        o.price = call->order.price;
        o.qty = call->order.qty;
        o.filled_qty = (xgw_dec){0, 0};
        o.avg_price = xgw_dec_none();
        return core->emit(out, XGW_REC_ORDER, &o);
    }
    default:
        return XGW_OK;
    }
}

static const char *const fk_rest[] = {"https://127.0.0.1:1"};
static const struct xgw_network fk_networks[] = {{.name = "mainnet", .rest = fk_rest, .n_rest = 1}};

const struct xgw_plugin tu_fake_plugin = {
    .abi_version = XGW_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct xgw_plugin),
    .name = "fake",
    .version = "0.0.1",
    .description = "test plugin",
    .networks = fk_networks,
    .n_networks = 1,
    .create = fk_create,
    .destroy = fk_destroy,
    .client_id = fk_client_id,
    .build = fk_build,
    .parse = fk_parse,
};

int tu_fake_write_ini(const char *path, int port, const char *ca_file, const char *extra)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "[gateway]\nlog_level = error\n\n[exchange.f1]\nplugin = fake\nrest_endpoints = https://127.0.0.1:%d\n",
            port);
    if (ca_file)
        fprintf(f, "ca_file = %s\n", ca_file);
    /* Tests of the pool and the pipeline count requests: the background
     * traffic (clock sample, health checks) and retries are off unless the
     * test asks for them. */
    static const char *const quiet[] = {"health_checks = false\n", "clock_sync = false\n", "retry_max = 0\n"};
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)strcspn(quiet[i], " "), quiet[i]);
        if (!extra || !strstr(extra, key))
            fputs(quiet[i], f);
    }
    if (extra)
        fputs(extra, f);
    fclose(f);
    return 0;
}
