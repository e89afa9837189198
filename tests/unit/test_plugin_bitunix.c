/*
 * Unit tests of the Bitunix plugin, linked statically and run through the
 * real core services (xgw__core_api, instance context, sink, responses):
 * the two-stage SHA-256 signing against the worked vector of
 * ../shared/exchanges/bitunix.md and an independent OpenSSL computation,
 * request building, order rounding and refusals, error classification of
 * the {"code","msg","data"} envelope, and parsing of the fixtures in
 * tests/fixtures/bitunix/ into neutral records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "bitunix.h"
#include "config.h"
#include "instctx.h"
#include "response.h"
#include "sink.h"
#include "tu_fixture.h"

const struct xgw_plugin *xgw_plugin_entry(void);

/* The worked vector of bitunix.md (and the mock's bitunix account). */
#define VKEY "test-api-key"
#define VSECRET "test-secret"
#define VNONCE "abcdefghijklmnopqrstuvwxyz012345"
#define VTS 1732280000000LL
#define VDIGEST "902210e04132b45ae0d27a9d12f8bf0c921d125bc02f87ac4d42ee6032626fe1"
#define VSIGN "e12cb98b439305357d9a628dcb89e6b395ccae7b61faa2ac292f61a75b998714"

struct fx {
    struct xgw__inst_cfg cfg;
    struct xgw_inst_ctx *ctx;
    const struct xgw_core_api *core;
    struct bx *bx;
    struct xgw_sink *sink;
    struct xgw_request req;
    struct xgw_response resp;
    struct xgw_error err;
    char *body;
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void sha256_hex(const char *msg, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mlen = 0;
    assert_int_equal(EVP_Digest(msg, len, md, &mlen, EVP_sha256(), NULL), 1);
    assert_int_equal(mlen, 32);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The documented recipe, written independently of sign.c. */
static void expected_sign(const char *nonce, const char *ts, const char *key, const char *qp, const char *body,
                          const char *secret, char out[65])
{
    char digest[65];
    size_t n = strlen(nonce) + strlen(ts) + strlen(key) + strlen(qp) + strlen(body) + strlen(secret) + 65;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s%s%s%s", nonce, ts, key, qp, body);
    sha256_hex(s, strlen(s), digest);
    snprintf(s, n, "%s%s", digest, secret);
    sha256_hex(s, strlen(s), out);
    free(s);
}

static struct xgw_market mk(const char *sym, int pdec, int qdec, const char *min_qty, enum xgw_market_status st)
{
    struct xgw_market m;
    memset(&m, 0, sizeof m);
    snprintf(m.symbol, sizeof m.symbol, "%s", sym);
    m.tick_size = (xgw_dec){1, pdec};
    m.step_size = (xgw_dec){1, qdec};
    m.price_decimals = pdec;
    m.qty_decimals = qdec;
    m.min_qty = tu_dec(min_qty);
    m.min_notional = xgw_dec_none();
    m.market_step_size = xgw_dec_none();
    m.index = -1;
    m.status = st;
    snprintf(m.status_raw, sizeof m.status_raw, "%s", st == XGW_MKT_TRADING ? "OPEN" : "CANCEL_ONLY");
    return m;
}

static struct fx *fx_new(const char *key, const char *secret)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->cfg.name = (char *)"bx-test";
    f->cfg.plugin = (char *)"bitunix";
    f->cfg.api_key = (char *)key;
    f->cfg.api_secret = (char *)secret;
    f->ctx = xgw__inst_ctx_new(&f->cfg);
    assert_non_null(f->ctx);
    f->core = xgw__core_api();
    f->bx = bx_plugin.create(f->core, f->ctx, &f->err);
    assert_non_null(f->bx);
    f->sink = xgw__sink_new();
    assert_non_null(f->sink);
    xgw__response_init(&f->resp);
    struct xgw_market m[] = {
        mk("BTCUSDT", 1, 4, "0.0001", XGW_MKT_TRADING),
        mk("ETHUSDT", 2, 3, "0.01", XGW_MKT_TRADING),
        mk("XRPUSDT", 4, 0, "1", XGW_MKT_TRADING),
        mk("HALTUSDT", 2, 2, "1", XGW_MKT_HALTED),
    };
    assert_int_equal(xgw__inst_ctx_set_markets(f->ctx, m, sizeof m / sizeof m[0], 1), 0);
    return f;
}

static void fx_free(struct fx *f)
{
    bx_plugin.destroy(f->bx);
    xgw__sink_free(f->sink);
    xgw__inst_ctx_free(f->ctx);
    xgw__response_free(&f->resp);
    free(f->req.target.data);
    free(f->req.body.data);
    free(f->req.headers.data);
    free(f->body);
    free(f);
}

static void req_reset(struct fx *f)
{
    f->req.target.len = f->req.body.len = f->req.headers.len = 0;
    if (f->req.target.data)
        f->req.target.data[0] = '\0';
    if (f->req.body.data)
        f->req.body.data[0] = '\0';
    if (f->req.headers.data)
        f->req.headers.data[0] = '\0';
    f->req.sensitive = false;
    memset(&f->err, 0, sizeof f->err);
}

static int build(struct fx *f, enum xgw_op op, const struct xgw_call *call)
{
    req_reset(f);
    return bx_plugin.build(f->bx, op, call, &f->req, &f->err);
}

static const char *target(struct fx *f) { return f->req.target.data != NULL ? f->req.target.data : ""; }
static const char *body(struct fx *f) { return f->req.body.data != NULL ? f->req.body.data : ""; }
static const char *headers(struct fx *f) { return f->req.headers.data != NULL ? f->req.headers.data : ""; }

/* Value of "name: value\n" in the request headers, copied into out. */
static const char *header(struct fx *f, const char *name, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%s: ", name);
    const char *h = headers(f);
    const char *p = strstr(h, pat);
    while (p != NULL && p != h && p[-1] != '\n')
        p = strstr(p + 1, pat);
    if (p == NULL)
        fail_msg("header %s missing in:\n%s", name, h);
    p += strlen(pat);
    size_t n = strcspn(p, "\n");
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

/* Check that the request is signed over exactly (query params, body sent). */
static void check_signed(struct fx *f, const char *qp)
{
    char nonce[64], ts[32], sign[80], key[128], want[65];
    header(f, "nonce", nonce, sizeof nonce);
    header(f, "timestamp", ts, sizeof ts);
    header(f, "sign", sign, sizeof sign);
    header(f, "api-key", key, sizeof key);
    header(f, "Content-Type", want, sizeof want);
    assert_string_equal(want, "application/json");
    expected_sign(nonce, ts, key, qp, body(f), VSECRET, want);
    assert_string_equal(sign, want);
    assert_true(f->req.sensitive);
}

static int parse_text(struct fx *f, enum xgw_op op, const struct xgw_call *call, int status, const char *text,
                      const char *const *hdrs)
{
    xgw__response_reset(&f->resp);
    xgw__sink_reset(f->sink);
    memset(&f->err, 0, sizeof f->err);
    char line[64];
    int n = snprintf(line, sizeof line, "HTTP/1.1 %d X\r\n", status);
    assert_int_equal(xgw__response_add_header(&f->resp, line, (size_t)n), 0);
    for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
        assert_int_equal(xgw__response_add_header(&f->resp, hdrs[i], strlen(hdrs[i])), 0);
    f->resp.status = status;
    f->resp.body = text;
    f->resp.body_len = text != NULL ? strlen(text) : 0;
    return bx_plugin.parse(f->bx, op, call, &f->resp, f->sink, &f->err);
}

static int parse_fixture(struct fx *f, enum xgw_op op, const struct xgw_call *call, int status, const char *name)
{
    free(f->body);
    f->body = tu_read_fixture("bitunix", name);
    return parse_text(f, op, call, status, f->body, NULL);
}

static int ws_fixture(struct fx *f, const char *name)
{
    free(f->body);
    f->body = tu_read_fixture("bitunix", name);
    xgw__sink_reset(f->sink);
    memset(&f->err, 0, sizeof f->err);
    return bx_plugin.ws_parse(f->bx, f->body, strlen(f->body), f->sink, &f->err);
}

static struct xgw_call call_sym(const char *sym)
{
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    snprintf(c.symbol, sizeof c.symbol, "%s", sym);
    return c;
}

/* ------------------------------------------------------------------------ */
/* Signing                                                                   */
/* ------------------------------------------------------------------------ */

static void test_sign_vector(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    char digest[65], sign[65];
    const char *qp = "marginCoinUSDTsymbolBTCUSDT";
    assert_int_equal(bx_sign_parts(f->bx, VNONCE, "1732280000000", qp, strlen(qp), "", 0, digest, sign), 0);
    assert_string_equal(digest, VDIGEST);
    assert_string_equal(sign, VSIGN);

    /* The same through the request path: params given unsorted (symbol
     * first), fixed nonce and clock: the header carries the vector. */
    struct bx_param p[] = {{"symbol", "BTCUSDT"}, {"marginCoin", "USDT"}};
    f->bx->fixed_now_ms = VTS;
    memcpy(f->bx->fixed_nonce, VNONCE, sizeof f->bx->fixed_nonce);
    req_reset(f);
    assert_int_equal(bx_target(f->bx, &f->req, "/api/v1/futures/position/x", p, 2), 0);
    assert_int_equal(bx_sign_request(f->bx, &f->req, p, 2, &f->err), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/position/x?symbol=BTCUSDT&marginCoin=USDT");
    char h[128];
    assert_string_equal(header(f, "sign", h, sizeof h), VSIGN);
    assert_string_equal(header(f, "nonce", h, sizeof h), VNONCE);
    assert_string_equal(header(f, "timestamp", h, sizeof h), "1732280000000");
    assert_string_equal(header(f, "api-key", h, sizeof h), VKEY);
    check_signed(f, qp);
    fx_free(f);
}

/* Several query parameters in unsorted order: sorted by key for the
 * signature, sent in the given order, values raw in the signature and
 * percent-encoded on the wire. */
static void test_sign_get_unsorted(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    f->bx->fixed_now_ms = 1700000000123;
    memcpy(f->bx->fixed_nonce, "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ9", BX_NONCE_LEN + 1);
    struct bx_param p[] = {{"symbol", "ETHUSDT"}, {"limit", "50"}, {"clientId", "a b"}, {"endTime", "17"},
                           {"Zeta", "1"}};
    struct xgw_buf qp = {0};
    assert_int_equal(bx_query_params(f->bx, p, 5, &qp), 0);
    /* ASCII order: upper case before lower case. */
    assert_string_equal(qp.data, "Zeta1clientIda bendTime17limit50symbolETHUSDT");
    req_reset(f);
    assert_int_equal(bx_target(f->bx, &f->req, "/p", p, 5), 0);
    assert_int_equal(bx_sign_request(f->bx, &f->req, p, 5, &f->err), XGW_OK);
    assert_string_equal(target(f), "/p?symbol=ETHUSDT&limit=50&clientId=a%20b&endTime=17&Zeta=1");
    check_signed(f, qp.data);
    free(qp.data);

    /* No key: signed operations fail with AUTH before anything is sent. */
    struct fx *g = fx_new(NULL, NULL);
    struct xgw_call c = call_sym("BTCUSDT");
    assert_int_equal(build(g, XGW_OP_BALANCES, &c), XGW_ERR_AUTH);
    fx_free(g);
    fx_free(f);
}

static void test_nonce_and_client_id(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    char a[BX_NONCE_LEN + 1], b[BX_NONCE_LEN + 1];
    assert_int_equal(bx_nonce(f->bx, a), 0);
    assert_int_equal(bx_nonce(f->bx, b), 0);
    assert_int_equal(strlen(a), BX_NONCE_LEN);
    assert_string_not_equal(a, b);
    for (int i = 0; i < BX_NONCE_LEN; i++)
        assert_true((a[i] >= 'A' && a[i] <= 'Z') || (a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9'));
    /* Every symbol of the alphabet is reachable (no truncated alphabet). */
    int seen[128] = {0};
    for (int k = 0; k < 400; k++) {
        assert_int_equal(bx_nonce(f->bx, a), 0);
        for (int i = 0; i < BX_NONCE_LEN; i++)
            seen[(unsigned char)a[i]] = 1;
    }
    int count = 0;
    for (int i = 0; i < 128; i++)
        count += seen[i];
    assert_int_equal(count, 62);

    char id[XGW_ID_MAX], id2[XGW_ID_MAX];
    assert_int_equal(bx_plugin.client_id(f->bx, id, sizeof id), 0);
    assert_int_equal(bx_plugin.client_id(f->bx, id2, sizeof id2), 0);
    assert_int_equal(strlen(id), 23);
    assert_memory_equal(id, "xgw", 3);
    assert_string_not_equal(id, id2);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Building                                                                  */
/* ------------------------------------------------------------------------ */

static void test_build_public(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    struct xgw_call c = call_sym("");
    assert_int_equal(build(f, XGW_OP_PING, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_GET);
    assert_string_equal(target(f), "/api/v1/futures/market/tickers?symbols=BTCUSDT");
    assert_false(f->req.sensitive);
    assert_int_equal(f->req.headers.len, 0);
    assert_int_equal(build(f, XGW_OP_TIME, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/market/tickers?symbols=BTCUSDT");
    assert_int_equal(build(f, XGW_OP_MARKETS, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/market/trading_pairs");
    assert_int_equal(build(f, XGW_OP_TICKER, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/market/tickers");
    assert_int_equal(build(f, XGW_OP_DEPTH, &c), XGW_ERR_INVALID_REQUEST);
    c = call_sym("BTCUSDT");
    assert_int_equal(build(f, XGW_OP_TICKER, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/market/tickers?symbols=BTCUSDT");
    static const struct {
        uint32_t want;
        const char *limit;
    } d[] = {{0, "max"}, {1, "1"}, {3, "5"}, {15, "15"}, {20, "50"}, {51, "max"}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        char t[128];
        c.limit = d[i].want;
        assert_int_equal(build(f, XGW_OP_DEPTH, &c), XGW_OK);
        snprintf(t, sizeof t, "/api/v1/futures/market/depth?symbol=BTCUSDT&limit=%s", d[i].limit);
        assert_string_equal(target(f), t);
    }
    c = call_sym("BTC USDT");
    assert_int_equal(build(f, XGW_OP_TICKER, &c), XGW_ERR_INVALID_REQUEST);
    assert_int_equal(build(f, XGW_OP_WS_TOKEN, &c), XGW_ERR_UNSUPPORTED);
    fx_free(f);
}

static void test_build_signed_reads(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    f->bx->fixed_now_ms = VTS;
    struct xgw_call c = call_sym("");
    assert_int_equal(build(f, XGW_OP_BALANCES, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/account?marginCoin=USDT");
    assert_int_equal(f->req.body.len, 0);
    check_signed(f, "marginCoinUSDT");
    char ts[32];
    assert_string_equal(header(f, "timestamp", ts, sizeof ts), "1732280000000");

    assert_int_equal(build(f, XGW_OP_POSITIONS, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/position/get_pending_positions");
    check_signed(f, "");
    c = call_sym("ETHUSDT");
    assert_int_equal(build(f, XGW_OP_POSITIONS, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/position/get_pending_positions?symbol=ETHUSDT");
    check_signed(f, "symbolETHUSDT");
    assert_int_equal(build(f, XGW_OP_OPEN_ORDERS, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/trade/get_pending_orders?symbol=ETHUSDT");
    check_signed(f, "symbolETHUSDT");

    strcpy(c.order_id, "11111111111111111111");
    assert_int_equal(build(f, XGW_OP_GET_ORDER, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/trade/get_order_detail?orderId=11111111111111111111");
    check_signed(f, "orderId11111111111111111111");
    c.order_id[0] = '\0';
    strcpy(c.client_id, "xgwabc");
    assert_int_equal(build(f, XGW_OP_GET_ORDER, &c), XGW_OK);
    assert_string_equal(target(f), "/api/v1/futures/trade/get_order_detail?clientId=xgwabc");
    check_signed(f, "clientIdxgwabc");
    c.client_id[0] = '\0';
    assert_int_equal(build(f, XGW_OP_GET_ORDER, &c), XGW_ERR_INVALID_REQUEST);
    strcpy(c.order_id, "1&x=2");
    assert_int_equal(build(f, XGW_OP_GET_ORDER, &c), XGW_ERR_INVALID_REQUEST);
    fx_free(f);
}

/* POST: the body is compact JSON, signed exactly as sent (nested objects
 * in cancel_orders). */
static void test_build_place_and_cancel(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    f->bx->fixed_now_ms = VTS;
    memcpy(f->bx->fixed_nonce, VNONCE, sizeof f->bx->fixed_nonce);
    struct xgw_call c = call_sym("");
    strcpy(c.order.symbol, "BTCUSDT");
    c.order.side = XGW_SIDE_BUY;
    c.order.type = XGW_TYPE_LIMIT;
    c.order.tif = XGW_TIF_POST_ONLY;
    c.order.qty = tu_dec("0.12345");
    c.order.price = tu_dec("97123.456");
    strcpy(c.order.client_id, "xgwtestclient0001");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_POST);
    assert_string_equal(target(f), "/api/v1/futures/trade/place_order");
    const char *want = "{\"symbol\":\"BTCUSDT\",\"side\":\"BUY\",\"orderType\":\"LIMIT\",\"qty\":\"0.1234\","
                       "\"price\":\"97123.4\",\"effect\":\"POST_ONLY\",\"clientId\":\"xgwtestclient0001\"}";
    assert_string_equal(body(f), want);
    assert_int_equal(f->req.body.len, strlen(want));
    check_signed(f, "");
    /* The sign header is the recipe over exactly these bytes. */
    char s[65], h[80];
    expected_sign(VNONCE, "1732280000000", VKEY, "", want, VSECRET, s);
    assert_string_equal(header(f, "sign", h, sizeof h), s);

    /* Market, reduce-only, sell; generated client id. */
    memset(&c.order, 0, sizeof c.order);
    strcpy(c.order.symbol, "ETHUSDT");
    c.order.side = XGW_SIDE_SELL;
    c.order.type = XGW_TYPE_MARKET;
    c.order.reduce_only = true;
    c.order.qty = tu_dec("1.0009");
    c.order.price = xgw_dec_none();
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    const char *b = body(f);
    const char *pfx = "{\"symbol\":\"ETHUSDT\",\"side\":\"SELL\",\"orderType\":\"MARKET\",\"qty\":\"1.000\",\"clientId\":\"xgw";
    assert_memory_equal(b, pfx, strlen(pfx));
    assert_non_null(strstr(b, "\",\"reduceOnly\":true}"));
    assert_null(strstr(b, "price"));
    assert_null(strstr(b, "effect"));
    check_signed(f, "");

    /* Cancel: nested orderList, by id then by client id. */
    c = call_sym("BTCUSDT");
    strcpy(c.order_id, "11111111111111111111");
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_POST);
    assert_string_equal(target(f), "/api/v1/futures/trade/cancel_orders");
    assert_string_equal(body(f), "{\"symbol\":\"BTCUSDT\",\"orderList\":[{\"orderId\":\"11111111111111111111\"}]}");
    check_signed(f, "");
    c.order_id[0] = '\0';
    strcpy(c.client_id, "xgwtestclient0001");
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_OK);
    assert_string_equal(body(f), "{\"symbol\":\"BTCUSDT\",\"orderList\":[{\"clientId\":\"xgwtestclient0001\"}]}");
    check_signed(f, "");
    c.symbol[0] = '\0';
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_ERR_INVALID_REQUEST);
    fx_free(f);
}

/* Rounding and local refusals: buy price down, sell price up, qty down,
 * below minimum or unknown market → INVALID_REQUEST before any I/O. */
static void test_order_rounding_table(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    static const struct {
        const char *sym;
        enum xgw_side side;
        enum xgw_order_type type;
        enum xgw_tif tif;
        const char *qty, *price;
        int rc;
        const char *want_qty, *want_price;
    } t[] = {
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_DEFAULT, "0.00019", "97123.49", XGW_OK, "0.0001", "97123.4"},
        {"BTCUSDT", XGW_SIDE_SELL, XGW_TYPE_LIMIT, XGW_TIF_GTC, "0.00019", "97123.41", XGW_OK, "0.0001", "97123.5"},
        {"BTCUSDT", XGW_SIDE_SELL, XGW_TYPE_LIMIT, XGW_TIF_IOC, "1", "97123.4", XGW_OK, "1.0000", "97123.4"},
        {"ETHUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_FOK, "0.0199", "3456.789", XGW_OK, "0.019", "3456.78"},
        {"ETHUSDT", XGW_SIDE_SELL, XGW_TYPE_LIMIT, XGW_TIF_GTC, "0.0101", "3456.781", XGW_OK, "0.010", "3456.79"},
        {"XRPUSDT", XGW_SIDE_BUY, XGW_TYPE_MARKET, XGW_TIF_DEFAULT, "10.9", NULL, XGW_OK, "10", NULL},
        /* below minTradeVolume after rounding */
        {"ETHUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_GTC, "0.0099", "3000", XGW_ERR_INVALID_REQUEST, NULL, NULL},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_GTC, "0.00009", "3000", XGW_ERR_INVALID_REQUEST, NULL, NULL},
        {"XRPUSDT", XGW_SIDE_SELL, XGW_TYPE_MARKET, XGW_TIF_DEFAULT, "0.5", NULL, XGW_ERR_INVALID_REQUEST, NULL, NULL},
        /* buy price rounding down to zero */
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_GTC, "1", "0.05", XGW_ERR_INVALID_REQUEST, NULL, NULL},
        /* unknown market, halted market */
        {"DOGEUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_GTC, "1", "1", XGW_ERR_INVALID_REQUEST, NULL, NULL},
        {"HALTUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_GTC, "1", "1", XGW_ERR_INVALID_REQUEST, NULL, NULL},
        /* malformed requests */
        {"BTCUSDT", XGW_SIDE_NONE, XGW_TYPE_LIMIT, XGW_TIF_GTC, "1", "1", XGW_ERR_INVALID_REQUEST, NULL, NULL},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_GTC, "-1", "1", XGW_ERR_INVALID_REQUEST, NULL, NULL},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_GTC, "1", NULL, XGW_ERR_INVALID_REQUEST, NULL, NULL},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_MARKET, XGW_TIF_DEFAULT, "1", "5", XGW_ERR_INVALID_REQUEST, NULL, NULL},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_MARKET, XGW_TIF_IOC, "1", NULL, XGW_ERR_INVALID_REQUEST, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct xgw_call c = call_sym("");
        strcpy(c.order.symbol, t[i].sym);
        c.order.side = t[i].side;
        c.order.type = t[i].type;
        c.order.tif = t[i].tif;
        c.order.qty = tu_dec(t[i].qty);
        c.order.price = tu_dec(t[i].price);
        int rc = build(f, XGW_OP_PLACE, &c);
        if (rc != t[i].rc)
            fail_msg("row %zu: rc %d, want %d (%s)", i, rc, t[i].rc, f->err.message);
        if (rc != XGW_OK) {
            assert_int_equal(f->err.kind, rc);
            assert_int_equal(f->req.body.len, 0);
            continue;
        }
        char want[96];
        snprintf(want, sizeof want, "\"qty\":\"%s\"", t[i].want_qty);
        if (strstr(body(f), want) == NULL)
            fail_msg("row %zu: %s not in %s", i, want, body(f));
        if (t[i].want_price != NULL) {
            snprintf(want, sizeof want, "\"price\":\"%s\"", t[i].want_price);
            if (strstr(body(f), want) == NULL)
                fail_msg("row %zu: %s not in %s", i, want, body(f));
        }
    }
    /* A bad client id is refused. */
    struct xgw_call c = call_sym("");
    strcpy(c.order.symbol, "BTCUSDT");
    c.order.side = XGW_SIDE_BUY;
    c.order.type = XGW_TYPE_LIMIT;
    c.order.qty = tu_dec("1");
    c.order.price = tu_dec("1");
    strcpy(c.order.client_id, "a\"b");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_ERR_INVALID_REQUEST);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------ */

static void test_parse_market_data(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    struct xgw_call c = call_sym("");

    assert_int_equal(parse_fixture(f, XGW_OP_MARKETS, &c, 200, "trading_pairs.json"), XGW_OK);
    assert_int_equal(f->sink->n_markets, 3);
    struct xgw_market *m = &f->sink->markets[0];
    assert_string_equal(m->symbol, "BTCUSDT");
    assert_string_equal(m->base, "BTC");
    assert_string_equal(m->quote, "USDT");
    assert_string_equal(tu_dstr(m->tick_size), "0.1");
    assert_string_equal(tu_dstr(m->step_size), "0.0001");
    assert_string_equal(tu_dstr(m->min_qty), "0.0001");
    assert_true(xgw_dec_is_none(m->min_notional));
    assert_int_equal(m->price_decimals, 1);
    assert_int_equal(m->qty_decimals, 4);
    assert_int_equal(m->status, XGW_MKT_TRADING);
    assert_int_equal(f->sink->markets[1].status, XGW_MKT_HALTED);
    assert_string_equal(tu_dstr(f->sink->markets[1].tick_size), "0.01");
    m = &f->sink->markets[2];
    assert_int_equal(m->status, XGW_MKT_CLOSED);
    assert_string_equal(tu_dstr(m->step_size), "1");
    assert_string_equal(tu_dstr(m->tick_size), "0.0001");

    assert_int_equal(parse_fixture(f, XGW_OP_TICKER, &c, 200, "tickers_all.json"), XGW_OK);
    assert_int_equal(f->sink->n_tickers, 3);
    assert_string_equal(tu_dstr(f->sink->tickers[2].last), "0.5123");
    c = call_sym("BTCUSDT");
    assert_int_equal(parse_fixture(f, XGW_OP_TICKER, &c, 200, "tickers.json"), XGW_OK);
    assert_int_equal(f->sink->n_tickers, 1);
    assert_string_equal(f->sink->tickers[0].symbol, "BTCUSDT");
    assert_string_equal(tu_dstr(f->sink->tickers[0].last), "97123.50");
    assert_true(xgw_dec_is_none(f->sink->tickers[0].bid));
    assert_int_equal(parse_fixture(f, XGW_OP_TICKER, &c, 200, "tickers_all.json"), XGW_OK);
    assert_int_equal(f->sink->n_tickers, 1); /* only the symbol asked for */

    c.limit = 2;
    assert_int_equal(parse_fixture(f, XGW_OP_DEPTH, &c, 200, "depth.json"), XGW_OK);
    assert_int_equal(f->sink->n_books, 1);
    assert_true(f->sink->books[0].info.snapshot);
    assert_int_equal(f->sink->books[0].info.seq, 0);
    assert_string_equal(f->sink->books[0].info.symbol, "BTCUSDT");
    assert_int_equal(f->sink->n_bids, 2);
    assert_int_equal(f->sink->n_asks, 2);
    assert_string_equal(tu_dstr(f->sink->bids[0].price), "97123.5");
    assert_string_equal(tu_dstr(f->sink->asks[0].qty), "1.25");
    c.limit = 0;
    assert_int_equal(parse_fixture(f, XGW_OP_DEPTH, &c, 200, "depth.json"), XGW_OK);
    assert_int_equal(f->sink->n_asks, 3);
    /* Numbers instead of strings keep their exact text. */
    assert_int_equal(parse_fixture(f, XGW_OP_DEPTH, &c, 200, "depth_numbers.json"), XGW_OK);
    assert_string_equal(tu_dstr(f->sink->asks[0].price), "97124.10");
    assert_string_equal(tu_dstr(f->sink->asks[0].qty), "0.30");
    assert_string_equal(tu_dstr(f->sink->bids[0].qty), "1.00000000000000001");
    assert_int_equal(parse_fixture(f, XGW_OP_DEPTH, &c, 200, "bad_exponent.json"), XGW_ERR_PROTOCOL);

    /* PING: any success envelope; TIME: the Date header. */
    assert_int_equal(parse_fixture(f, XGW_OP_PING, &c, 200, "tickers.json"), XGW_OK);
    free(f->body);
    f->body = tu_read_fixture("bitunix", "tickers.json");
    const char *const hdr[] = {"Date: Fri, 22 Nov 2024 13:06:40 GMT\r\n", NULL};
    assert_int_equal(parse_text(f, XGW_OP_TIME, &c, 200, f->body, hdr), XGW_OK);
    assert_true(f->sink->has_time);
    assert_int_equal(f->sink->time_ms, 1732280800000LL);
    assert_int_equal(parse_text(f, XGW_OP_TIME, &c, 200, f->body, NULL), XGW_ERR_PROTOCOL);
    const char *const bad[] = {"Date: yesterday\r\n", NULL};
    assert_int_equal(parse_text(f, XGW_OP_TIME, &c, 200, f->body, bad), XGW_ERR_PROTOCOL);
    fx_free(f);
}

static void test_parse_account(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    struct xgw_call c = call_sym("");
    assert_int_equal(parse_fixture(f, XGW_OP_BALANCES, &c, 200, "account.json"), XGW_OK);
    assert_int_equal(f->sink->n_balances, 1);
    assert_string_equal(f->sink->balances[0].asset, "USDT");
    assert_string_equal(tu_dstr(f->sink->balances[0].available), "1000.50");
    assert_string_equal(tu_dstr(f->sink->balances[0].total), "1320.875");
    assert_int_equal(parse_fixture(f, XGW_OP_BALANCES, &c, 200, "account_array.json"), XGW_OK);
    assert_int_equal(f->sink->n_balances, 1);
    assert_string_equal(tu_dstr(f->sink->balances[0].total), "100000");

    assert_int_equal(parse_fixture(f, XGW_OP_POSITIONS, &c, 200, "positions.json"), XGW_OK);
    assert_int_equal(f->sink->n_positions, 2);
    struct xgw_position *p = &f->sink->positions[0];
    assert_string_equal(p->symbol, "BTCUSDT");
    assert_int_equal(p->side, XGW_POS_LONG);
    assert_string_equal(tu_dstr(p->size), "0.5");
    assert_string_equal(tu_dstr(p->entry_price), "97123.5");
    assert_string_equal(tu_dstr(p->unrealized_pnl), "12.5");
    assert_string_equal(tu_dstr(p->leverage), "20");
    assert_true(xgw_dec_is_none(p->mark_price));
    p = &f->sink->positions[1];
    assert_int_equal(p->side, XGW_POS_SHORT);
    assert_string_equal(tu_dstr(p->size), "2.000"); /* unsigned */
    assert_string_equal(tu_dstr(p->unrealized_pnl), "-3.25");
    assert_int_equal(parse_fixture(f, XGW_OP_POSITIONS, &c, 200, "positions_empty.json"), XGW_OK);
    assert_int_equal(f->sink->n_positions, 0);
    fx_free(f);
}

static void test_parse_orders(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    struct xgw_call c = call_sym("");
    strcpy(c.order.symbol, "BTCUSDT");
    c.order.side = XGW_SIDE_BUY;
    c.order.type = XGW_TYPE_LIMIT;
    c.order.qty = tu_dec("0.5");
    c.order.price = tu_dec("97000.0");
    strcpy(c.order.client_id, "xgwtestclient0001");
    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "place_order.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 1);
    struct xgw_order *o = &f->sink->orders[0];
    assert_string_equal(o->order_id, "11111111111111111111");
    assert_string_equal(o->client_id, "xgwtestclient0001");
    assert_string_equal(o->symbol, "BTCUSDT");
    assert_int_equal(o->status, XGW_OS_NEW);
    assert_int_equal(o->tif, XGW_TIF_GTC);
    assert_string_equal(tu_dstr(o->price), "97000.0");

    c = call_sym("BTCUSDT");
    strcpy(c.order_id, "11111111111111111111");
    assert_int_equal(parse_fixture(f, XGW_OP_CANCEL, &c, 200, "cancel_ok.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 1);
    assert_int_equal(f->sink->orders[0].status, XGW_OS_CANCELED);
    assert_string_equal(f->sink->orders[0].order_id, "11111111111111111111");
    /* A failureList entry is a failure even with code 0 and HTTP 200. */
    assert_int_equal(parse_fixture(f, XGW_OP_CANCEL, &c, 200, "cancel_failure.json"), XGW_ERR_INVALID_REQUEST);
    assert_true(f->err.flags & XGW_ERRF_ORDER_NOT_FOUND);
    assert_int_equal(f->err.code, 20007);
    assert_int_equal(f->sink->n_orders, 0);

    assert_int_equal(parse_fixture(f, XGW_OP_GET_ORDER, &c, 200, "order_detail.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 1);
    o = &f->sink->orders[0];
    assert_int_equal(o->status, XGW_OS_PARTIALLY_FILLED);
    assert_string_equal(o->status_raw, "PART_FILLED");
    assert_int_equal(o->side, XGW_SIDE_BUY);
    assert_int_equal(o->type, XGW_TYPE_LIMIT);
    assert_int_equal(o->tif, XGW_TIF_POST_ONLY);
    assert_false(o->reduce_only);
    assert_string_equal(tu_dstr(o->qty), "0.5");
    assert_string_equal(tu_dstr(o->filled_qty), "0.2");
    assert_string_equal(tu_dstr(o->avg_price), "96999.9");
    assert_int_equal(o->ts_ms, 1732280005123LL);

    assert_int_equal(parse_fixture(f, XGW_OP_OPEN_ORDERS, &c, 200, "pending_orders.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 2);
    o = &f->sink->orders[1];
    assert_string_equal(o->symbol, "ETHUSDT");
    assert_int_equal(o->side, XGW_SIDE_SELL);
    assert_int_equal(o->tif, XGW_TIF_IOC);
    assert_true(o->reduce_only);
    assert_string_equal(tu_dstr(o->filled_qty), "0.500");
    assert_int_equal(o->ts_ms, 1732280801500LL);
    assert_int_equal(parse_fixture(f, XGW_OP_OPEN_ORDERS, &c, 200, "pending_orders_empty.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 0);
    fx_free(f);
}

/* The envelope decides: code != 0 is an error even with HTTP 200. */
static void test_parse_errors(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    struct xgw_call c = call_sym("BTCUSDT");
    static const struct {
        const char *file;
        enum xgw_op op;
        int status;
        int kind;
        int64_t code;
        unsigned flags;
    } t[] = {
        {"err_signature.json", XGW_OP_BALANCES, 200, XGW_ERR_AUTH, 10007, 0},
        {"err_apikey_empty.json", XGW_OP_PLACE, 200, XGW_ERR_AUTH, 10003, 0},
        {"err_ip.json", XGW_OP_OPEN_ORDERS, 200, XGW_ERR_AUTH, 10004, 0},
        {"err_rate.json", XGW_OP_PLACE, 200, XGW_ERR_RATE_LIMITED, 10006, 0},
        {"err_too_many.json", XGW_OP_TICKER, 200, XGW_ERR_RATE_LIMITED, 10005, 0},
        {"err_param.json", XGW_OP_PLACE, 200, XGW_ERR_INVALID_REQUEST, 10002, 0},
        {"err_market.json", XGW_OP_DEPTH, 200, XGW_ERR_INVALID_REQUEST, 20001, 0},
        {"err_balance.json", XGW_OP_PLACE, 200, XGW_ERR_REJECTED, 20003, 0},
        {"err_string_code.json", XGW_OP_PLACE, 200, XGW_ERR_REJECTED, 20003, 0},
        {"err_not_found.json", XGW_OP_GET_ORDER, 200, XGW_ERR_INVALID_REQUEST, 20007, XGW_ERRF_ORDER_NOT_FOUND},
        {"err_not_found.json", XGW_OP_CANCEL, 200, XGW_ERR_INVALID_REQUEST, 20007, XGW_ERRF_ORDER_NOT_FOUND},
        {"err_min_qty.json", XGW_OP_PLACE, 200, XGW_ERR_INVALID_REQUEST, 30017, 0},
        {"err_reduce_only.json", XGW_OP_PLACE, 200, XGW_ERR_REJECTED, 30018, 0},
        {"err_client_dup.json", XGW_OP_PLACE, 200, XGW_ERR_REJECTED, 30042, 0},
        {"err_timestamp.json", XGW_OP_BALANCES, 200, XGW_ERR_CLOCK_SKEW, 10009, 0},
        {"err_nonce.json", XGW_OP_BALANCES, 200, XGW_ERR_AUTH, 10010, 0},
        {"err_network.json", XGW_OP_PLACE, 200, XGW_ERR_UNKNOWN_OUTCOME, 10001, 0},
        {"err_network.json", XGW_OP_TICKER, 200, XGW_ERR_SERVER, 10001, 0},
        /* The same envelopes with other HTTP statuses. */
        {"err_signature.json", XGW_OP_BALANCES, 401, XGW_ERR_AUTH, 10007, 0},
        {"err_balance.json", XGW_OP_PLACE, 500, XGW_ERR_UNKNOWN_OUTCOME, 20003, 0},
        {"err_param.json", XGW_OP_TICKER, 503, XGW_ERR_SERVER, 10002, 0},
        /* No envelope. */
        {"err_502.html", XGW_OP_PLACE, 502, XGW_ERR_UNKNOWN_OUTCOME, 0, 0},
        {"err_502.html", XGW_OP_CANCEL, 502, XGW_ERR_UNKNOWN_OUTCOME, 0, 0},
        {"err_502.html", XGW_OP_TICKER, 502, XGW_ERR_SERVER, 0, 0},
        {"err_502.html", XGW_OP_TICKER, 429, XGW_ERR_RATE_LIMITED, 0, 0},
        {"err_502.html", XGW_OP_TICKER, 403, XGW_ERR_AUTH, 0, 0},
        {"err_502.html", XGW_OP_TICKER, 404, XGW_ERR_INVALID_REQUEST, 0, 0},
        {"err_502.html", XGW_OP_TICKER, 200, XGW_ERR_PROTOCOL, 0, 0},
        {"bad_no_code.json", XGW_OP_MARKETS, 200, XGW_ERR_PROTOCOL, 0, 0},
        {"bad_truncated.json", XGW_OP_TICKER, 200, XGW_ERR_PROTOCOL, 0, 0},
        {"bad_truncated.json", XGW_OP_PLACE, 200, XGW_ERR_UNKNOWN_OUTCOME, 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int rc = parse_fixture(f, t[i].op, &c, t[i].status, t[i].file);
        if (rc != t[i].kind || f->err.kind != (enum xgw_err_kind)t[i].kind)
            fail_msg("row %zu (%s): kind %d/%d, want %d: %s", i, t[i].file, rc, f->err.kind, t[i].kind,
                     f->err.message);
        assert_int_equal(f->err.code, t[i].code);
        assert_int_equal(f->err.flags & XGW_ERRF_ORDER_NOT_FOUND, t[i].flags);
        assert_int_equal(f->sink->n_orders + f->sink->n_tickers + f->sink->n_balances, 0);
        if (rc == XGW_ERR_RATE_LIMITED)
            assert_true(f->err.retry_after_ms > 0);
        assert_true(strlen(f->err.message) > 0);
    }
    /* Messages are bounded and carry the exchange's words. */
    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "err_balance.json"), XGW_ERR_REJECTED);
    assert_non_null(strstr(f->err.message, "Insufficient balance"));
    assert_non_null(strstr(f->err.message, "20003"));
    const char *const ra[] = {"Retry-After: 7\r\n", NULL};
    assert_int_equal(parse_text(f, XGW_OP_TICKER, &c, 429, "", ra), XGW_ERR_RATE_LIMITED);
    assert_int_equal(f->err.retry_after_ms, 7000);
    /* Wrong shapes under code 0 are PROTOCOL, never success. */
    assert_int_equal(parse_text(f, XGW_OP_MARKETS, &c, 200, "{\"code\":0,\"data\":{},\"msg\":\"ok\"}", NULL),
                     XGW_ERR_PROTOCOL);
    assert_int_equal(parse_text(f, XGW_OP_POSITIONS, &c, 200, "{\"code\":0,\"data\":[{\"symbol\":\"X\"}]}", NULL),
                     XGW_ERR_PROTOCOL);
    assert_int_equal(parse_text(f, XGW_OP_PLACE, &c, 200, "{\"code\":0,\"data\":{}}", NULL), XGW_ERR_PROTOCOL);
    assert_int_equal(parse_text(f, XGW_OP_CANCEL, &c, 200,
                                "{\"code\":0,\"data\":{\"successList\":[],\"failureList\":[]}}", NULL),
                     XGW_ERR_PROTOCOL);
    assert_int_equal(parse_text(f, XGW_OP_TICKER, &c, 200, NULL, NULL), XGW_ERR_PROTOCOL);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

static void test_ws_messages(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);
    struct xgw_buf b = {0};
    struct xgw_error err;

    assert_int_equal(bx_plugin.ws_path(f->bx, false, NULL, &b, &err), 0);
    assert_string_equal(b.data, "/public/");
    b.len = 0;
    assert_int_equal(bx_plugin.ws_path(f->bx, true, NULL, &b, &err), 0);
    assert_string_equal(b.data, "/private/");

    struct xgw_ws_sub subs[3];
    memset(subs, 0, sizeof subs);
    subs[0].channel = XGW_CH_BOOK;
    strcpy(subs[0].symbol, "BTCUSDT");
    subs[0].depth = 5;
    subs[1].channel = XGW_CH_TICKER;
    strcpy(subs[1].symbol, "ETHUSDT");
    subs[2].channel = XGW_CH_TRADES;
    strcpy(subs[2].symbol, "BTCUSDT");
    b.len = 0;
    assert_int_equal(bx_plugin.ws_sub_msg(f->bx, true, subs, 3, 42, &b, &err), 0);
    assert_string_equal(b.data, "{\"op\":\"subscribe\",\"args\":[{\"symbol\":\"BTCUSDT\",\"ch\":\"depth_book5\"},"
                                "{\"symbol\":\"ETHUSDT\",\"ch\":\"tickers\"},{\"symbol\":\"BTCUSDT\",\"ch\":\"trade\"}]}");
    b.len = 0;
    subs[0].depth = 0;
    assert_int_equal(bx_plugin.ws_sub_msg(f->bx, false, subs, 1, 43, &b, &err), 0);
    assert_string_equal(b.data, "{\"op\":\"unsubscribe\",\"args\":[{\"symbol\":\"BTCUSDT\",\"ch\":\"depth_book15\"}]}");
    assert_string_equal(bx_ws_depth_channel(1), "depth_book1");
    assert_string_equal(bx_ws_depth_channel(3), "depth_book5");
    assert_string_equal(bx_ws_depth_channel(20), "depth_book15");
    struct xgw_ws_sub acct;
    memset(&acct, 0, sizeof acct);
    acct.channel = XGW_CH_ORDERS;
    b.len = 0;
    assert_int_equal(bx_plugin.ws_sub_msg(f->bx, true, &acct, 1, 1, &b, &err), 0);
    assert_string_equal(b.data, "{\"op\":\"subscribe\",\"args\":[{\"ch\":\"order\"},{\"ch\":\"balance\"},"
                                "{\"ch\":\"position\"}]}");
    subs[1].symbol[0] = '\0';
    b.len = 0;
    assert_int_equal(bx_plugin.ws_sub_msg(f->bx, true, &subs[1], 1, 1, &b, &err), XGW_ERR_INVALID_REQUEST);

    /* Ping: unix seconds of the corrected clock. */
    f->bx->fixed_now_ms = 1732519687999LL;
    b.len = 0;
    assert_int_equal(bx_plugin.ws_ping_msg(f->bx, &b), 0);
    assert_string_equal(b.data, "{\"op\":\"ping\",\"ping\":1732519687}");

    /* Login: sign = sha256(sha256(nonce + ts_seconds + key) + secret). */
    b.len = 0;
    assert_int_equal(bx_ws_login_with(f->bx, VNONCE, 1732280000, &b, &err), 0);
    char want[65], msg[512];
    expected_sign(VNONCE, "1732280000", VKEY, "", "", VSECRET, want);
    snprintf(msg, sizeof msg,
             "{\"op\":\"login\",\"args\":[{\"apiKey\":\"test-api-key\",\"timestamp\":1732280000,\"nonce\":\"%s\","
             "\"sign\":\"%s\"}]}",
             VNONCE, want);
    assert_string_equal(b.data, msg);
    /* The real entry point uses the clock and a fresh nonce. */
    memcpy(f->bx->fixed_nonce, VNONCE, sizeof f->bx->fixed_nonce);
    f->bx->fixed_now_ms = 1732280000999LL;
    b.len = 0;
    assert_int_equal(bx_plugin.ws_login_msg(f->bx, 7, &b, &err), 0);
    assert_string_equal(b.data, msg);
    free(b.data);

    struct fx *g = fx_new(NULL, NULL);
    struct xgw_buf b2 = {0};
    assert_int_equal(bx_plugin.ws_login_msg(g->bx, 7, &b2, &err), XGW_ERR_AUTH);
    free(b2.data);
    fx_free(g);
    fx_free(f);
}

static void test_ws_fixtures(void **state)
{
    (void)state;
    struct fx *f = fx_new(VKEY, VSECRET);

    assert_int_equal(ws_fixture(f, "ws_pong.json"), XGW_OK);
    assert_int_equal(f->sink->pongs, 1);
    assert_int_equal(ws_fixture(f, "ws_sub_ack.json"), XGW_OK);
    assert_int_equal(f->sink->n_acks, 1);
    assert_true(f->sink->acks[0].ok);
    assert_int_equal(ws_fixture(f, "ws_sub_fail.json"), XGW_OK);
    assert_int_equal(f->sink->n_acks, 1);
    assert_false(f->sink->acks[0].ok);
    assert_non_null(strstr(f->sink->acks[0].message, "Parameter Error"));
    assert_int_equal(ws_fixture(f, "ws_login_ok.json"), XGW_OK);
    assert_true(f->sink->n_acks == 1 && f->sink->acks[0].ok);
    assert_int_equal(ws_fixture(f, "ws_login_fail.json"), XGW_OK);
    assert_true(f->sink->n_acks == 1 && !f->sink->acks[0].ok);

    assert_int_equal(ws_fixture(f, "ws_tickers.json"), XGW_OK);
    assert_int_equal(f->sink->n_tickers, 2);
    struct xgw_ticker *t = &f->sink->tickers[0];
    assert_string_equal(t->symbol, "BTCUSDT");
    assert_string_equal(tu_dstr(t->last), "97123.5");
    assert_string_equal(tu_dstr(t->bid), "97123.4");
    assert_string_equal(tu_dstr(t->ask), "97123.6");
    assert_string_equal(tu_dstr(t->bid_qty), "0.75");
    assert_string_equal(tu_dstr(t->ask_qty), "1.250");
    assert_int_equal(t->ts_ms, 1732178884994LL);

    assert_int_equal(ws_fixture(f, "ws_trade.json"), XGW_OK);
    assert_int_equal(f->sink->n_trades, 2);
    assert_string_equal(f->sink->trades[0].symbol, "BTCUSDT");
    assert_int_equal(f->sink->trades[0].side, XGW_SIDE_BUY);
    assert_string_equal(tu_dstr(f->sink->trades[0].qty), "0.010");
    assert_int_equal(f->sink->trades[0].ts_ms, 1732178884994LL);
    assert_int_equal(f->sink->trades[1].side, XGW_SIDE_SELL);
    assert_int_equal(f->sink->trades[1].ts_ms, 1732178884995LL);

    assert_int_equal(ws_fixture(f, "ws_depth.json"), XGW_OK);
    assert_int_equal(f->sink->n_books, 1);
    struct xgw__sink_book *bk = &f->sink->books[0];
    assert_true(bk->info.snapshot);
    assert_int_equal(bk->info.seq, 0);
    assert_int_equal(bk->info.first_seq, 0);
    assert_int_equal(bk->info.prev_seq, -1);
    assert_string_equal(bk->info.symbol, "BTCUSDT");
    assert_int_equal(bk->n_bids, 2);
    assert_int_equal(bk->n_asks, 3);
    assert_string_equal(tu_dstr(f->sink->asks[bk->ask0].price), "97123.6");
    assert_false(f->sink->level_without_book);

    assert_int_equal(ws_fixture(f, "ws_order.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 1);
    struct xgw_order *o = &f->sink->orders[0];
    assert_string_equal(o->order_id, "11111111111111111111");
    assert_string_equal(o->client_id, "xgwtestclient0001");
    assert_int_equal(o->status, XGW_OS_NEW);
    assert_int_equal(o->type, XGW_TYPE_LIMIT);
    assert_int_equal(o->tif, XGW_TIF_GTC);
    assert_string_equal(tu_dstr(o->price), "97000.0");
    assert_int_equal(o->ts_ms, 1732178885123LL);
    assert_int_equal(ws_fixture(f, "ws_order_filled.json"), XGW_OK);
    o = &f->sink->orders[0];
    assert_int_equal(o->status, XGW_OS_FILLED);
    assert_int_equal(o->type, XGW_TYPE_MARKET);
    assert_int_equal(o->tif, XGW_TIF_DEFAULT); /* "effect":"LONG" is junk and ignored */
    assert_true(o->reduce_only);
    assert_true(xgw_dec_is_none(o->price));
    assert_string_equal(tu_dstr(o->avg_price), "3456.70");
    assert_string_equal(tu_dstr(o->filled_qty), "1.000");

    assert_int_equal(ws_fixture(f, "ws_balance.json"), XGW_OK);
    assert_int_equal(f->sink->n_balances, 1);
    assert_string_equal(tu_dstr(f->sink->balances[0].total), "1320.875");
    assert_int_equal(ws_fixture(f, "ws_position.json"), XGW_OK);
    assert_int_equal(f->sink->n_positions, 1);
    assert_int_equal(f->sink->positions[0].side, XGW_POS_SHORT);
    assert_string_equal(tu_dstr(f->sink->positions[0].size), "0.25");

    /* Valid frames of no interest emit nothing; malformed ones are PROTOCOL. */
    assert_int_equal(ws_fixture(f, "ws_kline.json"), XGW_OK);
    assert_int_equal(f->sink->n_tickers + f->sink->n_trades + f->sink->n_books + f->sink->n_acks, 0);
    assert_int_equal(ws_fixture(f, "ws_bad_depth.json"), XGW_ERR_PROTOCOL);
    xgw__sink_reset(f->sink);
    assert_int_equal(bx_plugin.ws_parse(f->bx, "[1,2", 4, f->sink, &f->err), XGW_ERR_PROTOCOL);
    assert_int_equal(bx_plugin.ws_parse(f->bx, "\"x\"", 3, f->sink, &f->err), XGW_ERR_PROTOCOL);
    const char *trunc = "{\"ch\":\"trade\",\"symbol\":\"BTCUSDT\",\"data\":[{\"p\":\"1\",\"v\":\"2\",\"s\":\"buy\",\"t\":\"nope\"}]}";
    assert_int_equal(bx_plugin.ws_parse(f->bx, trunc, strlen(trunc), f->sink, &f->err), XGW_ERR_PROTOCOL);
    fx_free(f);
}

static void test_json_helpers(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(bx_parse_iso_ms("2024-11-22T13:06:40Z", 20, &ms), 0);
    assert_int_equal(ms, 1732280800000LL);
    assert_int_equal(bx_parse_iso_ms("2024-11-22T13:06:40.1234+01:00", 30, &ms), 0);
    assert_int_equal(ms, 1732277200123LL);
    assert_int_equal(bx_parse_iso_ms("2024-13-22T13:06:40Z", 20, &ms), -1);
    assert_int_equal(bx_parse_iso_ms("2024-11-22T13:06:40", 19, &ms), -1);
    assert_int_equal(bx_parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", 29, &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(bx_parse_http_date("Thu, 01 Foo 1970 00:00:00 GMT", 29, &ms), -1);

    /* Quoting numbers keeps strings with escapes and digits intact. */
    const char *j = "{\"a\":\"x\\\"1\",\"b\":-0.10,\"c\":[1,2.5e3,true,null],\"d\":\"9\"}";
    cJSON *r = bx_json_parse(j, strlen(j));
    assert_non_null(r);
    assert_string_equal(cJSON_GetObjectItem(r, "a")->valuestring, "x\"1");
    assert_string_equal(cJSON_GetObjectItem(r, "b")->valuestring, "-0.10");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "c"), 1)->valuestring, "2.5e3");
    assert_true(cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "c"), 2)));
    int64_t v;
    assert_int_equal(bx_json_i64(cJSON_GetObjectItem(r, "d"), &v), 0);
    assert_int_equal(v, 9);
    assert_int_equal(bx_json_i64(cJSON_GetObjectItem(r, "b"), &v), -1);
    cJSON_Delete(r);
    assert_null(bx_json_parse("{\"a\":", 5));
    assert_null(bx_json_parse("", 0));
}

static void test_descriptor(void **state)
{
    (void)state;
    const struct xgw_plugin *p = xgw_plugin_entry();
    assert_ptr_equal(p, &bx_plugin);
    assert_string_equal(p->name, "bitunix");
    assert_int_equal(p->abi_version, XGW_PLUGIN_ABI_VERSION);
    assert_int_equal(p->n_networks, 1);
    assert_string_equal(p->networks[0].name, "mainnet");
    assert_string_equal(p->networks[0].rest[0], "https://fapi.bitunix.com");
    assert_int_equal(p->ws.book_model, XGW_BOOK_SNAPSHOTS);
    assert_true(p->ws.private_needs_login);
    assert_false(p->ws.private_needs_token);
    assert_true(p->ws.ping_interval_ms > 0);
    assert_int_equal(p->n_buckets, BX_RL__COUNT);
    uint32_t costs[BX_RL__COUNT];
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    for (int op = 0; op < XGW_OP__COUNT; op++) {
        memset(costs, 0, sizeof costs);
        p->cost(NULL, (enum xgw_op)op, &c, costs);
        uint32_t sum = 0;
        for (int i = 0; i < BX_RL__COUNT; i++)
            sum += costs[i];
        assert_int_equal(sum, op == XGW_OP_WS_TOKEN || op == XGW_OP_WS_TOKEN_KEEPALIVE ? 0 : 1);
    }
    memset(costs, 0, sizeof costs);
    p->cost(NULL, XGW_OP_PLACE, &c, costs);
    assert_int_equal(costs[BX_RL_PLACE], 1);
    assert_true(p->buckets[BX_RL_PLACE].orders_only);
    assert_string_equal(p->keys[0].name, "margin_coin");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_vector),
        cmocka_unit_test(test_sign_get_unsorted),
        cmocka_unit_test(test_nonce_and_client_id),
        cmocka_unit_test(test_build_public),
        cmocka_unit_test(test_build_signed_reads),
        cmocka_unit_test(test_build_place_and_cancel),
        cmocka_unit_test(test_order_rounding_table),
        cmocka_unit_test(test_parse_market_data),
        cmocka_unit_test(test_parse_account),
        cmocka_unit_test(test_parse_orders),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_ws_messages),
        cmocka_unit_test(test_ws_fixtures),
        cmocka_unit_test(test_json_helpers),
        cmocka_unit_test(test_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
