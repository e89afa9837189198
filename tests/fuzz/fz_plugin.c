/*
 * tests/fuzz/fz_plugin.c — one plugin instance over the real core services,
 * as tests/unit/test_plugin_*.c build it, and the drivers that feed fuzz
 * input to its parse() and ws_parse().
 *
 * Bodies and frames are handed over NUL-terminated (one byte past len), as
 * core/http.c's body buffer and core/ws.c's frame buffer are: parsers may
 * rely on that, but not on anything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fz.h"
#include "xgw/plugin.h"
#include "instctx.h"
#include "response.h"
#include "sink.h"

struct fz_plugin {
    const struct xgw_plugin *p;
    struct xgw__inst_cfg cfg;
    struct xgw__kv extras[1];
    struct xgw_inst_ctx *ctx;
    void *self;
    struct xgw_sink *sink;
    struct xgw_response resp;
    struct xgw_call call;
};

static const int statuses[] = {200, 200, 200, 200, 400, 401, 403, 404, 408, 418, 429, 500, 502, 503, 504, 0};
#define N_STATUSES (sizeof statuses / sizeof statuses[0])

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "fuzz harness: %s\n", what);
    abort();
}

static struct xgw_market market(const char *sym, int64_t index)
{
    struct xgw_market m;
    memset(&m, 0, sizeof m);
    snprintf(m.symbol, sizeof m.symbol, "%s", sym);
    m.tick_size = (xgw_dec){1, 2};
    m.step_size = (xgw_dec){1, 3};
    m.min_qty = (xgw_dec){1, 3};
    m.min_notional = (xgw_dec){5, 0};
    m.market_step_size = xgw_dec_none();
    m.price_decimals = 2;
    m.qty_decimals = 3;
    m.index = index;
    m.status = XGW_MKT_TRADING;
    return m;
}

struct fz_plugin *fz_plugin_get(const struct xgw_plugin *p)
{
    /* One instance per plugin and process, never freed: LeakSanitizer
     * ignores memory still reachable from a static at exit. */
    static struct fz_plugin *made[4];
    size_t slot = 0;
    for (; slot < 4 && made[slot] != NULL; slot++)
        if (made[slot]->p == p)
            return made[slot];
    if (slot == 4)
        die("too many plugins");
    struct fz_plugin *fp = calloc(1, sizeof *fp);
    if (fp == NULL)
        die("out of memory");
    fp->p = p;
    fp->cfg.name = (char *)"fuzz";
    fp->cfg.plugin = (char *)p->name;
    const char *base = "BTCUSDT", *other = "ETHUSDT";
    if (strcmp(p->name, "binance") == 0) {
        fp->cfg.api_key = (char *)"dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
        fp->cfg.api_secret = (char *)"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    } else if (strcmp(p->name, "bitunix") == 0) {
        fp->cfg.api_key = (char *)"test-api-key";
        fp->cfg.api_secret = (char *)"test-secret";
    } else if (strcmp(p->name, "hyperliquid") == 0) {
        fp->cfg.network = (char *)"mainnet";
        fp->extras[0].key = (char *)"private_key";
        fp->extras[0].value = (char *)"0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        fp->extras[0].line = 2;
        fp->extras[0].secret = true;
        fp->cfg.extras = fp->extras;
        fp->cfg.n_extras = 1;
        base = "BTC";
        other = "ETH";
    }
    fp->ctx = xgw__inst_ctx_new(&fp->cfg);
    if (fp->ctx == NULL)
        die("xgw__inst_ctx_new failed");
    struct xgw_market m[] = {market(base, 0), market(other, 1)};
    if (xgw__inst_ctx_set_markets(fp->ctx, m, 2, 1) != 0)
        die("set_markets failed");
    struct xgw_error err = {0};
    fp->self = p->create(xgw__core_api(), fp->ctx, &err);
    if (fp->self == NULL)
        die(err.message);
    fp->sink = xgw__sink_new();
    if (fp->sink == NULL)
        die("out of memory");
    xgw__response_init(&fp->resp);

    /* A call whose every member is set, so each operation's parser finds
     * the context it expects (symbol, order, ids). */
    struct xgw_call *c = &fp->call;
    snprintf(c->symbol, sizeof c->symbol, "%s", base);
    c->limit = 5;
    snprintf(c->order.symbol, sizeof c->order.symbol, "%s", base);
    c->order.side = XGW_SIDE_BUY;
    c->order.type = XGW_TYPE_LIMIT;
    c->order.tif = XGW_TIF_GTC;
    c->order.qty = (xgw_dec){10, 3};
    c->order.price = (xgw_dec){10000, 2};
    snprintf(c->order.client_id, sizeof c->order.client_id, "fz0001");
    snprintf(c->order_id, sizeof c->order_id, "123456");
    snprintf(c->client_id, sizeof c->client_id, "fz0001");
    snprintf(c->token, sizeof c->token, "tok");
    made[slot] = fp;
    return fp;
}

static void parse_one(struct fz_plugin *fp, uint8_t op_byte, uint8_t st_byte, const uint8_t *body, size_t len)
{
    enum xgw_op op = (enum xgw_op)(op_byte % XGW_OP__COUNT);
    struct xgw_call call = fp->call;
    call.symbol[0] = (op_byte & 0x80) ? '\0' : call.symbol[0]; /* "" = all symbols */
    unsigned steps = fp->p->steps != NULL ? fp->p->steps(fp->self, op, &call) : 1;
    call.step = steps > 1 ? (uint32_t)((st_byte >> 4) % steps) : 0;
    fp->resp.status = statuses[st_byte % N_STATUSES];

    char *copy = malloc(len + 1);
    if (copy == NULL)
        die("out of memory");
    memcpy(copy, body, len);
    copy[len] = '\0';
    fp->resp.body = copy;
    fp->resp.body_len = len;
    xgw__sink_reset(fp->sink);
    struct xgw_error err = {0};
    (void)fp->p->parse(fp->self, op, &call, &fp->resp, fp->sink, &err);
    fp->resp.body = NULL;
    fp->resp.body_len = 0;
    free(copy);
}

void fz_plugin_rest(struct fz_plugin *fp, const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    xgw__response_reset(&fp->resp);
    char line[32];
    int n = snprintf(line, sizeof line, "HTTP/1.1 %d X\r\n", statuses[data[1] % N_STATUSES]);
    if (xgw__response_add_header(&fp->resp, line, (size_t)n) != 0)
        die("add_header failed");
    parse_one(fp, data[0], data[1], data + 2, size - 2);
}

void fz_plugin_rest_headers(struct fz_plugin *fp, const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    xgw__response_reset(&fp->resp);
    const uint8_t *p = data + 2, *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (len == 0 || (len == 1 && p[0] == '\r')) {
            p += len + (nl != NULL);
            break;
        }
        /* libcurl hands the callback each line with its CRLF and no NUL:
         * an exact-size copy keeps an over-read visible. */
        char *line = malloc(len + 1);
        if (line == NULL)
            die("out of memory");
        memcpy(line, p, len);
        line[len] = '\n';
        if (xgw__response_add_header(&fp->resp, line, len + 1) != 0)
            die("add_header failed");
        free(line);
        p += len + (nl != NULL);
    }
    /* The core's own look-ups (Retry-After among them) on what was kept;
     * reading every byte of each value lets ASan check its bounds. */
    static const char *const names[] = {"retry-after", "Content-Type", "x-mbx-used-weight-1m", ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t vlen = 0;
        const char *v = xgw__response_header(&fp->resp, names[i], &vlen);
        volatile unsigned sum = 0;
        for (size_t k = 0; v != NULL && k < vlen; k++)
            sum += (unsigned char)v[k];
        (void)sum;
    }
    parse_one(fp, data[0], data[1], p, (size_t)(end - p));
}

void fz_plugin_ws(struct fz_plugin *fp, const uint8_t *data, size_t size)
{
    if (fp->p->ws_parse == NULL)
        return;
    char *copy = malloc(size + 1);
    if (copy == NULL)
        die("out of memory");
    memcpy(copy, data, size);
    copy[size] = '\0';
    xgw__sink_reset(fp->sink);
    struct xgw_error err = {0};
    (void)fp->p->ws_parse(fp->self, copy, size, fp->sink, &err);
    free(copy);
}
