/*
 * Unit tests of the Binance plugin, linked statically and run through the
 * real core services (xgw__core_api, instance context, sink, responses):
 * signing against the documented vectors, request building, order filters,
 * error classification, and parsing of recorded-shape fixtures
 * (tests/fixtures/binance/) into neutral records.
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
#include <openssl/hmac.h>

#include "binance.h"
#include "config.h"
#include "instctx.h"
#include "response.h"
#include "sink.h"
#include "tu_fixture.h"

/* The documentation's keys ([GI] "SIGNED Endpoint Examples", reference §2.6). */
#define DOC_KEY "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
#define DOC_SECRET "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"

struct fx {
    struct xgw__inst_cfg cfg;
    struct xgw_inst_ctx *ctx;
    const struct xgw_core_api *core;
    struct bn *bn;
    struct xgw_sink *sink;
    struct xgw_request req;
    struct xgw_response resp;
    struct xgw_error err;
    char *body; /* fixture text owned by the test */
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void hmac_hex(const char *msg, size_t len, char out[65])
{
    unsigned char mac[32];
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), DOC_SECRET, (int)strlen(DOC_SECRET), (const unsigned char *)msg, len, mac, &mlen);
    assert_int_equal(mlen, 32);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

static struct xgw_market mk(const char *sym, const char *tick, const char *step, const char *min_qty,
                            const char *min_notional, const char *mstep)
{
    struct xgw_market m;
    memset(&m, 0, sizeof m);
    snprintf(m.symbol, sizeof m.symbol, "%s", sym);
    m.tick_size = tu_dec(tick);
    m.step_size = tu_dec(step);
    m.min_qty = tu_dec(min_qty);
    m.min_notional = tu_dec(min_notional);
    m.market_step_size = tu_dec(mstep);
    m.price_decimals = m.qty_decimals = -1;
    m.index = -1;
    m.status = XGW_MKT_TRADING;
    return m;
}

static struct fx *fx_new(const char *key, const char *secret)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->cfg.name = (char *)"bn-test";
    f->cfg.plugin = (char *)"binance";
    f->cfg.api_key = (char *)key;
    f->cfg.api_secret = (char *)secret;
    f->ctx = xgw__inst_ctx_new(&f->cfg);
    assert_non_null(f->ctx);
    f->core = xgw__core_api();
    f->bn = bn_plugin.create(f->core, f->ctx, &f->err);
    assert_non_null(f->bn);
    f->sink = xgw__sink_new();
    assert_non_null(f->sink);
    xgw__response_init(&f->resp);

    struct xgw_market m[] = {
        mk("BTCUSDT", "0.10", "0.001", "0.001", "100", "0.010"),
        mk("ETHUSDT", "0.01", "0.001", "0.01", "20", NULL),
        mk("BLZUSDT", "0.0001", "1", "1", NULL, NULL),
        mk("\xe6\xb5\x8b\xe8\xaf\x95USDT", "0.0001", "1", "1", "5", NULL),
    };
    assert_int_equal(xgw__inst_ctx_set_markets(f->ctx, m, sizeof m / sizeof m[0], 1), 0);
    return f;
}

static void fx_free(struct fx *f)
{
    bn_plugin.destroy(f->bn);
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
    return bn_plugin.build(f->bn, op, call, &f->req, &f->err);
}

#define assert_prefix(s, p) assert_memory_equal((s), (p), strlen(p))

const struct xgw_plugin *xgw_plugin_entry(void);

static const char *target(struct fx *f) { return f->req.target.data != NULL ? f->req.target.data : ""; }
static const char *body(struct fx *f) { return f->req.body.data != NULL ? f->req.body.data : ""; }
static const char *headers(struct fx *f) { return f->req.headers.data != NULL ? f->req.headers.data : ""; }

/* Check that s = <signed>&signature=<hmac of signed>, and return signed's length. */
static size_t check_signed(const char *s)
{
    const char *sig = strstr(s, "&signature=");
    assert_non_null(sig);
    size_t n = (size_t)(sig - s);
    char hex[65];
    hmac_hex(s, n, hex);
    assert_string_equal(sig + strlen("&signature="), hex);
    return n;
}

/* Feed a response (status, body text, extra header lines) to parse(). */
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
    return bn_plugin.parse(f->bn, op, call, &f->resp, f->sink, &f->err);
}

static int parse_fixture(struct fx *f, enum xgw_op op, const struct xgw_call *call, int status, const char *name)
{
    free(f->body);
    f->body = tu_read_fixture("binance", name);
    return parse_text(f, op, call, status, f->body, NULL);
}

static int ws_fixture(struct fx *f, const char *name)
{
    free(f->body);
    f->body = tu_read_fixture("binance", name);
    xgw__sink_reset(f->sink);
    memset(&f->err, 0, sizeof f->err);
    return bn_plugin.ws_parse(f->bn, f->body, strlen(f->body), f->sink, &f->err);
}

/* ------------------------------------------------------------------------ */
/* Signing                                                                   */
/* ------------------------------------------------------------------------ */

static void test_sign_vectors(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    static const struct {
        const char *query, *body, *sig;
    } v[] = {
        /* §2.6 Examples 1 and 2: the documentation's worked example. */
        {"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp="
         "1591702613943",
         "", "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"},
        /* Example 3 exactly as printed (space after timestamp=): query ‖ body, no separator. */
        {"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC",
         "quantity=1&price=9000&recvWindow=5000&timestamp= 1591702613943",
         "f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2"},
        /* V5: the mixed case as actually sent. */
        {"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC", "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943",
         "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"},
        {"timestamp=1591702613943&recvWindow=5000", "", "b944ea46b707ca97ae6956c3e381b0ceaf517dac418a6d64af1fb3b0e878d11d"},
        {"symbol=BTCUSDT&orderId=283194212&timestamp=1700000000123", "",
         "4d57b5e2d0a1e7a0e3dd2f07126365ccac9b0fa3522a27a14fd7338dc6410c92"},
        {"symbol=%E6%B5%8B%E8%AF%95USDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=30&newClientOrderId=a%3Ab%"
         "2Fc&timestamp=1760000007980",
         "", "c605ac792ce1f60347724210c663e5f0364aa1432e9a004aec6ce859ca42983e"},
        {"symbol=\xe6\xb5\x8b\xe8\xaf\x95USDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=30&newClientOrderId=a:"
         "b/c&timestamp=1760000007980",
         "", "34e950a924c5a69a2333625a99e39f70873f5da60427eb72361e008b3c25ae4f"},
        {"timestamp=1591702613943&symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow="
         "5000&newClientOrderId=x",
         "", "2b8e43ef39430851d38f7a2c5e7ed80a8c1370c0e0ef5f6c4ebb99187b43a5ff"},
        {"timestamp=1591702613943&symbol=BTCUSDT&origClientOrderId=a%3Ab%2Fc", "",
         "3d812b7006f7a397811e06f01685ec84b4e4ee320a64ce895bf02859134adef7"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[65];
        assert_int_equal(bn_sign_hex(f->bn, v[i].query, strlen(v[i].query), v[i].body, strlen(v[i].body), hex), 0);
        assert_string_equal(hex, v[i].sig);
    }
    fx_free(f);
}

/* The documented order, built by the plugin with the documented timestamp:
 * the signed bytes are exactly the body sent. */
static void test_build_place_doc_example(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    f->bn->fixed_now_ms = 1591702613943;
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    strcpy(c.order.symbol, "BTCUSDT");
    c.order.side = XGW_SIDE_BUY;
    c.order.type = XGW_TYPE_LIMIT;
    c.order.qty = tu_dec("1");
    c.order.price = tu_dec("9000");
    strcpy(c.order.client_id, "x");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_POST);
    assert_string_equal(target(f), "/fapi/v1/order");
    const char *expect = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=9000&newClientOrderId=x&"
                         "newOrderRespType=RESULT&recvWindow=5000&timestamp=1591702613943";
    assert_int_equal(check_signed(body(f)), strlen(expect));
    assert_memory_equal(body(f), expect, strlen(expect));
    assert_non_null(strstr(headers(f), "X-MBX-APIKEY: " DOC_KEY "\n"));
    assert_non_null(strstr(headers(f), "Content-Type: application/x-www-form-urlencoded\n"));
    assert_true(f->req.sensitive);
    fx_free(f);
}

/* Vector V2 (§2.7) reproduced byte for byte by a real build. */
static void test_build_place_v2(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    f->bn->fixed_now_ms = 1700000000000;
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    strcpy(c.order.symbol, "BTCUSDT");
    c.order.side = XGW_SIDE_SELL;
    c.order.type = XGW_TYPE_MARKET;
    c.order.reduce_only = true;
    c.order.qty = tu_dec("0.001");
    c.order.price = xgw_dec_none();
    strcpy(c.order.client_id, "xgw-test-1");
    /* BTCUSDT's market lot step in the cache is 0.010: use a market
     * without a separate one for the vector. */
    struct xgw_market m = mk("BTCUSDT", "0.10", "0.001", "0.001", "100", NULL);
    assert_int_equal(xgw__inst_ctx_set_markets(f->ctx, &m, 1, 2), 0);
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    assert_string_equal(body(f), "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.001&reduceOnly=true&newClientOrderId="
                                 "xgw-test-1&newOrderRespType=RESULT&recvWindow=5000&timestamp=1700000000000&signature="
                                 "d72bfc706194944a77f18a8cd9c8744e84ccaef23d089764ea99073224188f75");
    fx_free(f);
}

/* Values that need percent-encoding are encoded once, before signing, and
 * the signature covers the encoded bytes (§2.5, V4). */
static void test_build_urlencoding(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    f->bn->fixed_now_ms = 1760000007980;
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    strcpy(c.order.symbol, "\xe6\xb5\x8b\xe8\xaf\x95USDT");
    c.order.side = XGW_SIDE_BUY;
    c.order.type = XGW_TYPE_LIMIT;
    c.order.tif = XGW_TIF_GTC;
    c.order.qty = tu_dec("1");
    c.order.price = tu_dec("30");
    strcpy(c.order.client_id, "a:b/c");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    const char *expect = "symbol=%E6%B5%8B%E8%AF%95USDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=30&"
                         "newClientOrderId=a%3Ab%2Fc&newOrderRespType=RESULT&recvWindow=5000&timestamp=1760000007980";
    assert_int_equal(check_signed(body(f)), strlen(expect));
    assert_memory_equal(body(f), expect, strlen(expect));

    /* GET order by client id: the query is encoded and signed as sent. */
    memset(&c, 0, sizeof c);
    strcpy(c.symbol, "BTCUSDT");
    strcpy(c.client_id, "a:b/c");
    f->bn->fixed_now_ms = 1591702613943;
    assert_int_equal(build(f, XGW_OP_GET_ORDER, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_GET);
    const char *t = target(f);
    const char *pfx = "/fapi/v1/order?";
    assert_memory_equal(t, pfx, strlen(pfx));
    const char *q = "symbol=BTCUSDT&origClientOrderId=a%3Ab%2Fc&recvWindow=5000&timestamp=1591702613943";
    assert_int_equal(check_signed(t + strlen(pfx)), strlen(q));
    assert_memory_equal(t + strlen(pfx), q, strlen(q));
    assert_int_equal(f->req.body.len, 0);
    fx_free(f);
}

static void test_build_other_ops(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    f->bn->fixed_now_ms = 1700000000123;
    struct xgw_call c;
    memset(&c, 0, sizeof c);

    assert_int_equal(build(f, XGW_OP_PING, &c), XGW_OK);
    assert_string_equal(target(f), "/fapi/v1/ping");
    assert_false(f->req.sensitive);
    assert_int_equal(f->req.headers.len, 0);
    assert_int_equal(build(f, XGW_OP_TIME, &c), XGW_OK);
    assert_string_equal(target(f), "/fapi/v1/time");
    assert_int_equal(build(f, XGW_OP_MARKETS, &c), XGW_OK);
    assert_string_equal(target(f), "/fapi/v1/exchangeInfo");
    assert_int_equal(build(f, XGW_OP_TICKER, &c), XGW_OK);
    assert_string_equal(target(f), "/fapi/v1/ticker/bookTicker");
    assert_int_equal(build(f, XGW_OP_DEPTH, &c), XGW_ERR_INVALID_REQUEST);

    strcpy(c.symbol, "BTCUSDT");
    assert_int_equal(build(f, XGW_OP_TICKER, &c), XGW_OK);
    assert_string_equal(target(f), "/fapi/v1/ticker/bookTicker?symbol=BTCUSDT");
    c.step = 1;
    assert_int_equal(build(f, XGW_OP_TICKER, &c), XGW_OK);
    assert_string_equal(target(f), "/fapi/v2/ticker/price?symbol=BTCUSDT");
    c.step = 0;
    c.limit = 7;
    assert_int_equal(build(f, XGW_OP_DEPTH, &c), XGW_OK);
    assert_string_equal(target(f), "/fapi/v1/depth?symbol=BTCUSDT&limit=10");
    c.limit = 0;
    assert_int_equal(build(f, XGW_OP_DEPTH, &c), XGW_OK);
    assert_string_equal(target(f), "/fapi/v1/depth?symbol=BTCUSDT");
    c.limit = 5000;
    assert_int_equal(build(f, XGW_OP_DEPTH, &c), XGW_OK);
    assert_string_equal(target(f), "/fapi/v1/depth?symbol=BTCUSDT&limit=1000");

    /* Signed reads: GET with everything in the query. */
    assert_int_equal(build(f, XGW_OP_BALANCES, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_GET);
    assert_prefix(target(f), "/fapi/v3/balance?recvWindow=5000&timestamp=1700000000123&signature=");
    check_signed(target(f) + strlen("/fapi/v3/balance?"));
    assert_true(f->req.sensitive);
    assert_int_equal(build(f, XGW_OP_POSITIONS, &c), XGW_OK);
    assert_prefix(target(f), "/fapi/v3/positionRisk?symbol=BTCUSDT&recvWindow=5000&timestamp=1700000000123&");
    check_signed(target(f) + strlen("/fapi/v3/positionRisk?"));
    assert_int_equal(build(f, XGW_OP_OPEN_ORDERS, &c), XGW_OK);
    assert_prefix(target(f), "/fapi/v1/openOrders?symbol=BTCUSDT&recvWindow=5000&");
    c.symbol[0] = '\0';
    assert_int_equal(build(f, XGW_OP_OPEN_ORDERS, &c), XGW_OK);
    assert_prefix(target(f), "/fapi/v1/openOrders?recvWindow=5000&timestamp=1700000000123&signature=");
    check_signed(target(f) + strlen("/fapi/v1/openOrders?"));

    /* Cancel by exchange id: DELETE with the query signed (cf. V3). */
    strcpy(c.symbol, "BTCUSDT");
    strcpy(c.order_id, "283194212");
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_DELETE);
    assert_prefix(target(f), "/fapi/v1/order?symbol=BTCUSDT&orderId=283194212&recvWindow=5000&timestamp=1700000000123&signature=");
    check_signed(target(f) + strlen("/fapi/v1/order?"));
    strcpy(c.order_id, "12a");
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_ERR_INVALID_REQUEST);
    c.order_id[0] = '\0';
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_ERR_INVALID_REQUEST);
    strcpy(c.client_id, "bad id!");
    assert_int_equal(build(f, XGW_OP_GET_ORDER, &c), XGW_ERR_INVALID_REQUEST);

    /* listenKey: API key header only, no signature, no body. */
    assert_int_equal(build(f, XGW_OP_WS_TOKEN, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_POST);
    assert_string_equal(target(f), "/fapi/v1/listenKey");
    assert_int_equal(f->req.body.len, 0);
    assert_string_equal(headers(f), "X-MBX-APIKEY: " DOC_KEY "\n");
    assert_true(f->req.sensitive);
    assert_int_equal(build(f, XGW_OP_WS_TOKEN_KEEPALIVE, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_PUT);
    assert_string_equal(target(f), "/fapi/v1/listenKey");
    assert_int_equal(build(f, XGW_OP__COUNT, &c), XGW_ERR_UNSUPPORTED);
    fx_free(f);

    /* Without keys: public calls work, private ones are AUTH errors that
     * say what to configure. */
    f = fx_new(NULL, NULL);
    memset(&c, 0, sizeof c);
    assert_int_equal(build(f, XGW_OP_TIME, &c), XGW_OK);
    assert_int_equal(build(f, XGW_OP_BALANCES, &c), XGW_ERR_AUTH);
    assert_non_null(strstr(f->err.message, "api_key"));
    assert_int_equal(build(f, XGW_OP_WS_TOKEN, &c), XGW_ERR_AUTH);
    fx_free(f);
    f = fx_new(DOC_KEY, NULL);
    assert_int_equal(build(f, XGW_OP_BALANCES, &c), XGW_ERR_AUTH);
    assert_non_null(strstr(f->err.message, "api_secret"));
    assert_int_equal(build(f, XGW_OP_WS_TOKEN, &c), XGW_OK);
    fx_free(f);
}

static void test_cost(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    static const struct {
        enum xgw_op op;
        const char *sym;
        uint32_t limit;
        uint32_t w, o10, o1m;
    } t[] = {
        {XGW_OP_PING, "", 0, 1, 0, 0},          {XGW_OP_TIME, "", 0, 1, 0, 0},
        {XGW_OP_MARKETS, "", 0, 1, 0, 0},       {XGW_OP_TICKER, "BTCUSDT", 0, 2, 0, 0},
        {XGW_OP_TICKER, "", 0, 5, 0, 0},        {XGW_OP_DEPTH, "BTCUSDT", 0, 10, 0, 0},
        {XGW_OP_DEPTH, "BTCUSDT", 20, 2, 0, 0}, {XGW_OP_DEPTH, "BTCUSDT", 100, 5, 0, 0},
        {XGW_OP_DEPTH, "BTCUSDT", 101, 10, 0, 0}, {XGW_OP_DEPTH, "BTCUSDT", 1000, 20, 0, 0},
        {XGW_OP_BALANCES, "", 0, 5, 0, 0},      {XGW_OP_POSITIONS, "", 0, 5, 0, 0},
        {XGW_OP_PLACE, "BTCUSDT", 0, 0, 1, 1},  {XGW_OP_CANCEL, "BTCUSDT", 0, 1, 0, 0},
        {XGW_OP_GET_ORDER, "BTCUSDT", 0, 1, 0, 0}, {XGW_OP_OPEN_ORDERS, "BTCUSDT", 0, 1, 0, 0},
        {XGW_OP_OPEN_ORDERS, "", 0, 40, 0, 0},  {XGW_OP_WS_TOKEN, "", 0, 1, 0, 0},
        {XGW_OP_WS_TOKEN_KEEPALIVE, "", 0, 1, 0, 0},
    };
    assert_int_equal(bn_plugin.n_buckets, 3);
    assert_string_equal(bn_plugin.buckets[BN_RL_WEIGHT_1M].name, "request_weight_1m");
    assert_int_equal(bn_plugin.buckets[BN_RL_WEIGHT_1M].limit, 2400);
    assert_int_equal(bn_plugin.buckets[BN_RL_ORDERS_10S].limit, 300);
    assert_int_equal(bn_plugin.buckets[BN_RL_ORDERS_10S].interval_ms, 10000);
    assert_int_equal(bn_plugin.buckets[BN_RL_ORDERS_1M].limit, 1200);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint32_t costs[3] = {0, 0, 0};
        strcpy(c.symbol, t[i].sym);
        c.limit = t[i].limit;
        bn_plugin.cost(f->bn, t[i].op, &c, costs);
        assert_int_equal(costs[0], t[i].w);
        assert_int_equal(costs[1], t[i].o10);
        assert_int_equal(costs[2], t[i].o1m);
    }
    /* A one-symbol ticker is two requests: bookTicker (2), then the price (1). */
    strcpy(c.symbol, "BTCUSDT");
    assert_int_equal(bn_plugin.steps(f->bn, XGW_OP_TICKER, &c), 2);
    c.step = 1;
    uint32_t costs[3] = {0, 0, 0};
    bn_plugin.cost(f->bn, XGW_OP_TICKER, &c, costs);
    assert_int_equal(costs[0], 1);
    c.step = 0;
    c.symbol[0] = '\0';
    assert_int_equal(bn_plugin.steps(f->bn, XGW_OP_TICKER, &c), 1);
    assert_int_equal(bn_plugin.steps(f->bn, XGW_OP_DEPTH, &c), 1);
    fx_free(f);
}

static void test_client_id(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    char a[XGW_ID_MAX], b[XGW_ID_MAX];
    assert_int_equal(bn_plugin.client_id(f->bn, a, sizeof a), XGW_OK);
    assert_int_equal(bn_plugin.client_id(f->bn, b, sizeof b), XGW_OK);
    assert_int_equal(strlen(a), 20);
    assert_memory_equal(a, "xgw-", 4);
    for (size_t i = 4; i < 20; i++)
        assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", a[i]));
    assert_string_not_equal(a, b);
    /* A generated id needs no percent-encoding and is accepted by build. */
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    strcpy(c.order.symbol, "BTCUSDT");
    c.order.side = XGW_SIDE_BUY;
    c.order.type = XGW_TYPE_LIMIT;
    c.order.qty = tu_dec("0.010");
    c.order.price = tu_dec("97000");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    assert_non_null(strstr(body(f), "&newClientOrderId=xgw-"));
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Order filters                                                             */
/* ------------------------------------------------------------------------ */

static void test_filters_table(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    static const struct {
        const char *sym;
        enum xgw_side side;
        enum xgw_order_type type;
        enum xgw_tif tif;
        bool reduce_only;
        const char *qty, *price;
        int kind;
        const char *expect; /* substring of the body, or of the error message */
    } t[] = {
        /* rounding: price to tick (buy down, sell up), qty down to step */
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "0.0129", "97123.47", XGW_OK,
         "&timeInForce=GTC&quantity=0.012&price=97123.4&"},
        {"BTCUSDT", XGW_SIDE_SELL, XGW_TYPE_LIMIT, 0, false, "0.0129", "97123.41", XGW_OK,
         "&quantity=0.012&price=97123.5&"},
        {"BTCUSDT", XGW_SIDE_SELL, XGW_TYPE_LIMIT, 0, false, "0.012", "97123.40", XGW_OK,
         "&quantity=0.012&price=97123.4&"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_POST_ONLY, false, "1", "97000", XGW_OK,
         "&timeInForce=GTX&quantity=1&price=97000&"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_IOC, false, "1", "97000", XGW_OK, "&timeInForce=IOC&"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_FOK, false, "1", "97000", XGW_OK, "&timeInForce=FOK&"},
        /* market orders use MARKET_LOT_SIZE's step where it differs; no price, no tif */
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_MARKET, 0, false, "0.0159", NULL, XGW_OK,
         "&type=MARKET&quantity=0.01&newClientOrderId="},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_MARKET, XGW_TIF_IOC, false, "0.05", NULL, XGW_OK, "&type=MARKET&quantity=0.05&"},
        {"ETHUSDT", XGW_SIDE_SELL, XGW_TYPE_MARKET, 0, true, "0.0159", NULL, XGW_OK,
         "&quantity=0.015&reduceOnly=true&"},
        {"BLZUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "3.9", "0.00005", XGW_ERR_INVALID_REQUEST, "PRICE_FILTER"},
        {"BLZUSDT", XGW_SIDE_SELL, XGW_TYPE_LIMIT, 0, false, "3.9", "0.00005", XGW_OK, "&quantity=3&price=0.0001&"},
        /* refusals, each naming its filter */
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "0.0009", "97000", XGW_ERR_INVALID_REQUEST,
         "LOT_SIZE filter: quantity 0.0009 rounds down to 0"},
        {"ETHUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "0.0099", "3000", XGW_ERR_INVALID_REQUEST,
         "LOT_SIZE filter: quantity 0.009 is below minQty 0.01"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_MARKET, 0, false, "0.009", NULL, XGW_ERR_INVALID_REQUEST,
         "MARKET_LOT_SIZE filter"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "0.001", "50000", XGW_ERR_INVALID_REQUEST,
         "MIN_NOTIONAL filter: notional 50 (price x quantity) is below 100"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "0.00109", "99999.99", XGW_ERR_INVALID_REQUEST,
         "MIN_NOTIONAL"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, true, "0.001", "50000", XGW_OK, "&reduceOnly=true&"},
        {"BTCUSDT", XGW_SIDE_SELL, XGW_TYPE_LIMIT, 0, false, "0.001", "99999.91", XGW_OK, "&price=100000&"},
        {"XYZUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "1", "1", XGW_ERR_INVALID_REQUEST, "markets are not loaded"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "1", NULL, XGW_ERR_INVALID_REQUEST, "positive price"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "1", "-5", XGW_ERR_INVALID_REQUEST, "positive price"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_LIMIT, 0, false, "0", "97000", XGW_ERR_INVALID_REQUEST, "quantity"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_MARKET, 0, false, "1", "97000", XGW_ERR_INVALID_REQUEST, "no price"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_MARKET, XGW_TIF_POST_ONLY, false, "1", NULL, XGW_ERR_INVALID_REQUEST,
         "post_only"},
        {"BTCUSDT", XGW_SIDE_NONE, XGW_TYPE_LIMIT, 0, false, "1", "97000", XGW_ERR_INVALID_REQUEST, "side"},
        {"BTCUSDT", XGW_SIDE_BUY, XGW_TYPE_NONE, 0, false, "1", "97000", XGW_ERR_INVALID_REQUEST, "type"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct xgw_call c;
        memset(&c, 0, sizeof c);
        snprintf(c.order.symbol, sizeof c.order.symbol, "%s", t[i].sym);
        c.order.side = t[i].side;
        c.order.type = t[i].type;
        c.order.tif = t[i].tif;
        c.order.reduce_only = t[i].reduce_only;
        c.order.qty = tu_dec(t[i].qty);
        c.order.price = tu_dec(t[i].price);
        int rc = build(f, XGW_OP_PLACE, &c);
        if (rc != t[i].kind)
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, t[i].kind, f->err.message);
        const char *hay = rc == XGW_OK ? body(f) : f->err.message;
        if (strstr(hay, t[i].expect) == NULL)
            fail_msg("case %zu: '%s' not in '%s'", i, t[i].expect, hay);
        if (rc == XGW_OK)
            check_signed(body(f));
        else
            assert_int_equal(f->err.kind, t[i].kind);
    }
    /* A client id outside Binance's pattern or too long is refused. */
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    strcpy(c.order.symbol, "BTCUSDT");
    c.order.side = XGW_SIDE_BUY;
    c.order.type = XGW_TYPE_LIMIT;
    c.order.qty = tu_dec("1");
    c.order.price = tu_dec("97000");
    strcpy(c.order.client_id, "has space");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_ERR_INVALID_REQUEST);
    strcpy(c.order.client_id, "0123456789012345678901234567890123456"); /* 37 */
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_ERR_INVALID_REQUEST);
    strcpy(c.order.client_id, "012345678901234567890123456789.:/_-A"); /* 36, every allowed symbol */
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

static void test_error_table(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    static const struct {
        enum xgw_op op;
        int status;
        const char *fixture; /* file name, or NULL for the literal body */
        const char *text;
        const char *retry_after;
        int kind;
        int64_t code;
        unsigned flags;
        int64_t retry_ms, until_ms;
    } t[] = {
        {XGW_OP_BALANCES, 400, "err_timestamp.json", NULL, NULL, XGW_ERR_CLOCK_SKEW, -1021, 0, 0, 0},
        {XGW_OP_PLACE, 400, "err_me_recvwindow.json", NULL, NULL, XGW_ERR_CLOCK_SKEW, -5028, 0, 0, 0},
        {XGW_OP_BALANCES, 400, "err_signature.json", NULL, NULL, XGW_ERR_AUTH, -1022, 0, 0, 0},
        {XGW_OP_BALANCES, 401, "err_key_format.json", NULL, NULL, XGW_ERR_AUTH, -2014, 0, 0, 0},
        {XGW_OP_PLACE, 401, "err_key_invalid.json", NULL, NULL, XGW_ERR_AUTH, -2015, 0, 0, 0},
        {XGW_OP_PLACE, 401, NULL, "", NULL, XGW_ERR_AUTH, 0, 0, 0, 0},
        {XGW_OP_CANCEL, 400, "err_unknown_order.json", NULL, NULL, XGW_ERR_INVALID_REQUEST, -2011,
         XGW_ERRF_ORDER_NOT_FOUND, 0, 0},
        {XGW_OP_GET_ORDER, 400, "err_no_such_order.json", NULL, NULL, XGW_ERR_INVALID_REQUEST, -2013,
         XGW_ERRF_ORDER_NOT_FOUND, 0, 0},
        {XGW_OP_CANCEL, 200, "err_unknown_order.json", NULL, NULL, XGW_ERR_INVALID_REQUEST, -2011,
         XGW_ERRF_ORDER_NOT_FOUND, 0, 0},
        {XGW_OP_DEPTH, 429, "err_too_many.json", NULL, "7", XGW_ERR_RATE_LIMITED, -1003, 0, 7000, 0},
        {XGW_OP_DEPTH, 429, NULL, "", NULL, XGW_ERR_RATE_LIMITED, 0, 0, 0, 0},
        {XGW_OP_PLACE, 429, "err_too_many_orders.json", NULL, "1", XGW_ERR_RATE_LIMITED, -1015, 0, 1000, 0},
        {XGW_OP_DEPTH, 418, "err_banned.json", NULL, "120", XGW_ERR_BANNED, -1003, 0, 120000, 1660090423228},
        {XGW_OP_DEPTH, 418, "err_banned.json", NULL, NULL, XGW_ERR_BANNED, -1003, 0, 0, 1660090423228},
        {XGW_OP_DEPTH, 418, NULL, "", "300", XGW_ERR_BANNED, 0, 0, 300000, 0},
        {XGW_OP_PLACE, 400, "err_margin.json", NULL, NULL, XGW_ERR_REJECTED, -2019, 0, 0, 0},
        {XGW_OP_PLACE, 400, "err_new_order_rejected.json", NULL, NULL, XGW_ERR_REJECTED, -2010, 0, 0, 0},
        {XGW_OP_PLACE, 400, "err_position_side.json", NULL, NULL, XGW_ERR_REJECTED, -4061, 0, 0, 0},
        {XGW_OP_PLACE, 400, "err_gtx.json", NULL, NULL, XGW_ERR_REJECTED, -5022, 0, 0, 0},
        {XGW_OP_PLACE, 400, "err_min_notional.json", NULL, NULL, XGW_ERR_INVALID_REQUEST, -4164, 0, 0, 0},
        {XGW_OP_TICKER, 400, "err_bad_symbol.json", NULL, NULL, XGW_ERR_INVALID_REQUEST, -1121, 0, 0, 0},
        {XGW_OP_WS_TOKEN_KEEPALIVE, 400, "err_listen_key.json", NULL, NULL, XGW_ERR_INVALID_REQUEST, -1125, 0, 0, 0},
        /* execution status unknown: orders vs reads */
        {XGW_OP_PLACE, 408, "err_timeout.json", NULL, NULL, XGW_ERR_UNKNOWN_OUTCOME, -1007, 0, 0, 0},
        {XGW_OP_CANCEL, 400, "err_timeout.json", NULL, NULL, XGW_ERR_UNKNOWN_OUTCOME, -1007, 0, 0, 0},
        {XGW_OP_TIME, 400, "err_timeout.json", NULL, NULL, XGW_ERR_SERVER, -1007, 0, 0, 0},
        {XGW_OP_PLACE, 500, "err_disconnected.json", NULL, NULL, XGW_ERR_UNKNOWN_OUTCOME, -1001, 0, 0, 0},
        {XGW_OP_OPEN_ORDERS, 500, "err_disconnected.json", NULL, NULL, XGW_ERR_SERVER, -1001, 0, 0, 0},
        {XGW_OP_PLACE, 503, "err_503_unknown.json", NULL, NULL, XGW_ERR_UNKNOWN_OUTCOME, -1000, 0, 0, 0},
        {XGW_OP_BALANCES, 503, "err_503_unknown.json", NULL, NULL, XGW_ERR_SERVER, -1000, 0, 0, 0},
        /* §4.3: certain failures even for orders */
        {XGW_OP_PLACE, 503, "err_503_unavailable.json", NULL, NULL, XGW_ERR_SERVER, -1000, 0, 0, 0},
        {XGW_OP_PLACE, 503, "err_throttled.json", NULL, NULL, XGW_ERR_SERVER, -1008, 0, 0, 0},
        {XGW_OP_PLACE, 502, "err_502.html", NULL, NULL, XGW_ERR_UNKNOWN_OUTCOME, 0, 0, 0, 0},
        {XGW_OP_DEPTH, 502, "err_502.html", NULL, NULL, XGW_ERR_SERVER, 0, 0, 0, 0},
        {XGW_OP_DEPTH, 403, NULL, "", NULL, XGW_ERR_INVALID_REQUEST, 0, 0, 0, 0},
        /* unparseable */
        {XGW_OP_DEPTH, 400, "err_502.html", NULL, NULL, XGW_ERR_PROTOCOL, 0, 0, 0, 0},
        {XGW_OP_DEPTH, 200, NULL, "not json", NULL, XGW_ERR_PROTOCOL, 0, 0, 0, 0},
        {XGW_OP_DEPTH, 200, NULL, "", NULL, XGW_ERR_PROTOCOL, 0, 0, 0, 0},
        {XGW_OP_DEPTH, 200, NULL, "{\"lastUpdateId\":1,\"bids\":[[\"1.0\",\"2\"]],\"asks\":[[\"x\",\"1\"]]}", NULL,
         XGW_ERR_PROTOCOL, 0, 0, 0, 0},
        {XGW_OP_TIME, 200, NULL, "{\"serverTime\":\"1499827319559\"}", NULL, XGW_ERR_PROTOCOL, 0, 0, 0, 0},
        {XGW_OP_BALANCES, 200, NULL, "{}", NULL, XGW_ERR_PROTOCOL, 0, 0, 0, 0},
        {XGW_OP_GET_ORDER, 200, "order_number_price.json", NULL, NULL, XGW_ERR_PROTOCOL, 0, 0, 0, 0},
        {XGW_OP_OPEN_ORDERS, 200, "open_orders_huge_id.json", NULL, NULL, XGW_ERR_PROTOCOL, 0, 0, 0, 0},
        {XGW_OP_WS_TOKEN, 200, "listen_key_keepalive_old.json", NULL, NULL, XGW_ERR_PROTOCOL, 0, 0, 0, 0},
    };
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    strcpy(c.symbol, "BTCUSDT");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *text = t[i].fixture != NULL ? tu_read_fixture("binance", t[i].fixture) : NULL;
        char ra[64];
        const char *hdrs[2] = {NULL, NULL};
        if (t[i].retry_after != NULL) {
            snprintf(ra, sizeof ra, "Retry-After: %s\r\n", t[i].retry_after);
            hdrs[0] = ra;
        }
        int rc = parse_text(f, t[i].op, &c, t[i].status, text != NULL ? text : t[i].text, hdrs);
        if (rc != t[i].kind || (int)f->err.kind != t[i].kind)
            fail_msg("case %zu: kind %d/%d, want %d (%s)", i, rc, (int)f->err.kind, t[i].kind, f->err.message);
        if (f->err.code != t[i].code || f->err.flags != t[i].flags || f->err.retry_after_ms != t[i].retry_ms ||
            f->err.until_ms != t[i].until_ms)
            fail_msg("case %zu: code %lld flags %u retry %lld until %lld", i, (long long)f->err.code, f->err.flags,
                     (long long)f->err.retry_after_ms, (long long)f->err.until_ms);
        if (t[i].kind != XGW_ERR_PROTOCOL)
            assert_int_equal(f->err.http_status, t[i].status);
        /* The exchange's message is kept. */
        if (t[i].code != 0 && text != NULL) {
            char *m = strstr(text, "\"msg\":\"");
            assert_non_null(m);
            assert_non_null(strstr(f->err.message, "code "));
            char head[13];
            memcpy(head, m + 7, 12);
            head[12] = '\0';
            if (strstr(f->err.message, head) == NULL)
                fail_msg("case %zu: exchange message lost: %s", i, f->err.message);
        }
        free(text);
    }

    /* A huge message is bounded; nothing is emitted but usage. */
    char big[4096];
    int n = snprintf(big, sizeof big, "{\"code\":-2019,\"msg\":\"");
    memset(big + n, 'x', 3000);
    strcpy(big + n + 3000, "\"}");
    assert_int_equal(parse_text(f, XGW_OP_PLACE, &c, 400, big, NULL), XGW_ERR_REJECTED);
    assert_true(strlen(f->err.message) < XGW_ERR_MSG_MAX);
    assert_int_equal(f->sink->n_orders, 0);
    fx_free(f);
}

static void test_usage_headers(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    strcpy(c.symbol, "BTCUSDT");
    free(f->body);
    f->body = tu_read_fixture("binance", "order_place.json");
    const char *h[] = {"x-mbx-used-weight-1m: 17\r\n", "X-MBX-ORDER-COUNT-10S: 3\r\n", "X-MBX-ORDER-COUNT-1M: 11\r\n",
                       NULL};
    assert_int_equal(parse_text(f, XGW_OP_PLACE, &c, 200, f->body, h), XGW_OK);
    assert_int_equal(f->sink->n_usage, 3);
    assert_int_equal(f->sink->usage[0].bucket, BN_RL_WEIGHT_1M);
    assert_int_equal(f->sink->usage[0].used, 17);
    assert_int_equal(f->sink->usage[1].bucket, BN_RL_ORDERS_10S);
    assert_int_equal(f->sink->usage[1].used, 3);
    assert_int_equal(f->sink->usage[2].bucket, BN_RL_ORDERS_1M);
    assert_int_equal(f->sink->usage[2].used, 11);

    /* Usage is reported on errors too; a malformed header is ignored. */
    const char *h2[] = {"X-MBX-USED-WEIGHT-1M: 2401\r\n", "X-MBX-ORDER-COUNT-10S: lots\r\n", "Retry-After: 3\r\n", NULL};
    assert_int_equal(parse_text(f, XGW_OP_DEPTH, &c, 429, "{\"code\":-1003,\"msg\":\"Too many requests\"}", h2),
                     XGW_ERR_RATE_LIMITED);
    assert_int_equal(f->sink->n_usage, 1);
    assert_int_equal(f->sink->usage[0].used, 2401);
    assert_int_equal(f->err.retry_after_ms, 3000);

    /* §5: the weight header is not accurate on bookTicker: ignored. */
    const char *h3[] = {"X-MBX-USED-WEIGHT-1M: 99\r\n", NULL};
    free(f->body);
    f->body = tu_read_fixture("binance", "book_ticker.json");
    assert_int_equal(parse_text(f, XGW_OP_TICKER, &c, 200, f->body, h3), XGW_OK);
    assert_int_equal(f->sink->n_usage, 0);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* REST fixtures                                                             */
/* ------------------------------------------------------------------------ */

static void check_order(const struct xgw_order *o, const char *sym, const char *id, const char *cid,
                        enum xgw_order_status st, const char *st_raw, enum xgw_side side, enum xgw_order_type type,
                        enum xgw_tif tif, bool ro, const char *price, const char *qty, const char *filled,
                        const char *avg, int64_t ts)
{
    assert_string_equal(o->symbol, sym);
    assert_string_equal(o->order_id, id);
    assert_string_equal(o->client_id, cid);
    assert_int_equal(o->status, st);
    assert_string_equal(o->status_raw, st_raw);
    assert_int_equal(o->side, side);
    assert_int_equal(o->type, type);
    assert_int_equal(o->tif, tif);
    assert_int_equal(o->reduce_only, ro);
    assert_string_equal(tu_dstr(o->price), price);
    assert_string_equal(tu_dstr(o->qty), qty);
    assert_string_equal(tu_dstr(o->filled_qty), filled);
    assert_string_equal(tu_dstr(o->avg_price), avg);
    assert_int_equal(o->ts_ms, ts);
}

static void test_parse_rest_fixtures(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    struct xgw_sink *s = f->sink;
    struct xgw_call c;
    memset(&c, 0, sizeof c);

    assert_int_equal(parse_fixture(f, XGW_OP_PING, &c, 200, "ping.json"), XGW_OK);
    assert_int_equal(parse_fixture(f, XGW_OP_TIME, &c, 200, "time.json"), XGW_OK);
    assert_true(s->has_time);
    assert_int_equal(s->time_ms, 1499827319559);

    /* markets: filters, statuses, odd values, a malformed symbol skipped */
    assert_int_equal(parse_fixture(f, XGW_OP_MARKETS, &c, 200, "exchange_info.json"), XGW_OK);
    assert_int_equal(s->n_markets, 5);
    const struct xgw_market *m = &s->markets[0];
    assert_string_equal(m->symbol, "BLZUSDT");
    assert_string_equal(m->base, "BLZ");
    assert_string_equal(m->quote, "USDT");
    assert_string_equal(tu_dstr(m->tick_size), "0.0001");
    assert_string_equal(tu_dstr(m->step_size), "1");
    assert_string_equal(tu_dstr(m->min_qty), "1");
    assert_string_equal(tu_dstr(m->min_notional), "5.0");
    assert_string_equal(tu_dstr(m->market_step_size), "null"); /* same as LOT_SIZE */
    assert_int_equal(m->status, XGW_MKT_TRADING);
    assert_string_equal(m->status_raw, "TRADING");
    assert_int_equal(m->index, -1);
    m = &s->markets[1];
    assert_string_equal(m->symbol, "BTCUSDT");
    assert_string_equal(tu_dstr(m->tick_size), "0.10");
    assert_string_equal(tu_dstr(m->step_size), "0.001");
    assert_string_equal(tu_dstr(m->min_qty), "0.001");
    assert_string_equal(tu_dstr(m->min_notional), "100");
    assert_string_equal(tu_dstr(m->market_step_size), "0.010");
    m = &s->markets[2];
    assert_string_equal(m->symbol, "BTCUSDT_260626");
    assert_string_equal(tu_dstr(m->tick_size), "0.00000000");
    assert_string_equal(tu_dstr(m->min_notional), "null");
    assert_int_equal(m->status, XGW_MKT_HALTED);
    assert_int_equal(s->markets[3].status, XGW_MKT_HALTED);
    assert_string_equal(s->markets[3].status_raw, "SETTLING");
    assert_string_equal(tu_dstr(s->markets[3].tick_size), "null");
    assert_int_equal(s->markets[4].status, XGW_MKT_CLOSED);

    /* ticker: bookTicker, last not given */
    strcpy(c.symbol, "BTCUSDT");
    assert_int_equal(parse_fixture(f, XGW_OP_TICKER, &c, 200, "book_ticker.json"), XGW_OK);
    assert_int_equal(s->n_tickers, 1);
    assert_string_equal(s->tickers[0].symbol, "BTCUSDT");
    assert_string_equal(tu_dstr(s->tickers[0].bid), "4.00000000");
    assert_string_equal(tu_dstr(s->tickers[0].bid_qty), "431.00000000");
    assert_string_equal(tu_dstr(s->tickers[0].ask), "4.00000200");
    assert_string_equal(tu_dstr(s->tickers[0].ask_qty), "9.00000000");
    assert_string_equal(tu_dstr(s->tickers[0].last), "null");
    assert_int_equal(s->tickers[0].ts_ms, 1589437530011);
    /* the second step: the last price only */
    c.step = 1;
    assert_int_equal(parse_fixture(f, XGW_OP_TICKER, &c, 200, "ticker_price.json"), XGW_OK);
    assert_int_equal(s->n_tickers, 1);
    assert_string_equal(s->tickers[0].symbol, "BTCUSDT");
    assert_string_equal(tu_dstr(s->tickers[0].last), "6000.01");
    assert_string_equal(tu_dstr(s->tickers[0].bid), "null");
    assert_int_equal(s->tickers[0].ts_ms, 1589437530011);
    assert_int_equal(parse_text(f, XGW_OP_TICKER, &c, 200, "{\"symbol\":\"BTCUSDT\"}", NULL), XGW_ERR_PROTOCOL);
    c.step = 0;
    c.symbol[0] = '\0';
    assert_int_equal(parse_fixture(f, XGW_OP_TICKER, &c, 200, "book_ticker_all.json"), XGW_OK);
    assert_int_equal(s->n_tickers, 2);
    assert_string_equal(s->tickers[1].symbol, "ETHUSDT");
    assert_string_equal(tu_dstr(s->tickers[0].ask_qty), "0.000");
    assert_string_equal(tu_dstr(s->tickers[1].ask_qty), "20.5");

    /* depth: lastUpdateId as seq, snapshot, levels in order, limit applied */
    strcpy(c.symbol, "BTCUSDT");
    c.limit = 0;
    assert_int_equal(parse_fixture(f, XGW_OP_DEPTH, &c, 200, "depth.json"), XGW_OK);
    assert_int_equal(s->n_books, 1);
    assert_string_equal(s->books[0].info.symbol, "BTCUSDT");
    assert_true(s->books[0].info.snapshot);
    assert_int_equal(s->books[0].info.seq, 1027024);
    assert_int_equal(s->books[0].info.prev_seq, -1);
    assert_int_equal(s->books[0].info.ts_ms, 1589436922959);
    assert_int_equal(s->n_bids, 3);
    assert_int_equal(s->n_asks, 2);
    assert_string_equal(tu_dstr(s->bids[0].price), "4.00000000");
    assert_string_equal(tu_dstr(s->bids[0].qty), "431.00000000");
    assert_string_equal(tu_dstr(s->bids[2].price), "3.98000000");
    assert_string_equal(tu_dstr(s->asks[1].qty), "0.00000001");
    c.limit = 2;
    assert_int_equal(parse_fixture(f, XGW_OP_DEPTH, &c, 200, "depth.json"), XGW_OK);
    assert_int_equal(s->n_bids, 2);
    assert_int_equal(s->n_asks, 2);
    c.limit = 0;
    assert_int_equal(parse_fixture(f, XGW_OP_DEPTH, &c, 200, "depth_empty.json"), XGW_OK);
    assert_int_equal(s->n_books, 1);
    assert_int_equal(s->books[0].info.seq, 5);
    assert_int_equal(s->n_bids + s->n_asks, 0);

    /* balances, including "0.00000000" */
    assert_int_equal(parse_fixture(f, XGW_OP_BALANCES, &c, 200, "balance.json"), XGW_OK);
    assert_int_equal(s->n_balances, 2);
    assert_string_equal(s->balances[0].asset, "USDT");
    assert_string_equal(tu_dstr(s->balances[0].total), "122607.35137903");
    assert_string_equal(tu_dstr(s->balances[0].available), "23.72469206");
    assert_string_equal(s->balances[1].asset, "BNB");
    assert_string_equal(tu_dstr(s->balances[1].total), "0.00000000");
    assert_true(xgw_dec_is_zero(s->balances[1].available));

    /* positions: one-way (side from sign), zero skipped */
    assert_int_equal(parse_fixture(f, XGW_OP_POSITIONS, &c, 200, "position_risk.json"), XGW_OK);
    assert_int_equal(s->n_positions, 2);
    assert_string_equal(s->positions[0].symbol, "ADAUSDT");
    assert_int_equal(s->positions[0].side, XGW_POS_LONG);
    assert_string_equal(tu_dstr(s->positions[0].size), "30");
    assert_string_equal(tu_dstr(s->positions[0].entry_price), "0.385");
    assert_string_equal(tu_dstr(s->positions[0].mark_price), "0.41047590");
    assert_string_equal(tu_dstr(s->positions[0].unrealized_pnl), "0.76427700");
    assert_string_equal(tu_dstr(s->positions[0].leverage), "null");
    assert_string_equal(s->positions[1].symbol, "ETHUSDT");
    assert_int_equal(s->positions[1].side, XGW_POS_SHORT);
    assert_string_equal(tu_dstr(s->positions[1].size), "1.250");
    /* hedge mode (v2 shape with leverage): side from positionSide */
    assert_int_equal(parse_fixture(f, XGW_OP_POSITIONS, &c, 200, "position_risk_hedge_v2.json"), XGW_OK);
    assert_int_equal(s->n_positions, 2);
    assert_int_equal(s->positions[0].side, XGW_POS_LONG);
    assert_string_equal(tu_dstr(s->positions[0].size), "0.010");
    assert_string_equal(tu_dstr(s->positions[0].leverage), "20");
    assert_int_equal(s->positions[1].side, XGW_POS_SHORT);
    assert_string_equal(tu_dstr(s->positions[1].size), "1.000");
    assert_string_equal(tu_dstr(s->positions[1].unrealized_pnl), "1000.00000000");

    /* orders */
    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "order_place.json"), XGW_OK);
    assert_int_equal(s->n_orders, 1);
    check_order(&s->orders[0], "BTCUSDT", "22542179", "testOrder", XGW_OS_NEW, "NEW", XGW_SIDE_BUY, XGW_TYPE_LIMIT,
                XGW_TIF_DEFAULT /* GTD */, false, "0", "10", "0", "0.00000", 1566818724722);
    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "order_place_market_filled.json"), XGW_OK);
    check_order(&s->orders[0], "BTCUSDT", "20072994037", "xgw-abcdefghijklmnop", XGW_OS_FILLED, "FILLED",
                XGW_SIDE_SELL, XGW_TYPE_MARKET, XGW_TIF_GTC, true, "0", "0.010", "0.010", "97123.40000",
                1700000000123);
    assert_int_equal(parse_fixture(f, XGW_OP_GET_ORDER, &c, 200, "order_get.json"), XGW_OK);
    check_order(&s->orders[0], "BTCUSDT", "1917641", "abc", XGW_OS_NEW, "NEW", XGW_SIDE_BUY, XGW_TYPE_NONE,
                XGW_TIF_GTC, false, "0", "0.40", "0", "0.00000", 1579276756075);
    assert_int_equal(parse_fixture(f, XGW_OP_CANCEL, &c, 200, "order_cancel.json"), XGW_OK);
    check_order(&s->orders[0], "BTCUSDT", "283194212", "myOrder1", XGW_OS_CANCELED, "CANCELED", XGW_SIDE_BUY,
                XGW_TYPE_LIMIT, XGW_TIF_POST_ONLY, false, "97000.10", "0.010", "0.001", "96999.90000",
                1571110484038);
    assert_int_equal(parse_fixture(f, XGW_OP_OPEN_ORDERS, &c, 200, "open_orders.json"), XGW_OK);
    assert_int_equal(s->n_orders, 2);
    /* 2^53 - 1: the largest id that survives cJSON's double exactly */
    check_order(&s->orders[0], "BTCUSDT", "9007199254740991", "a:b/c", XGW_OS_NEW, "NEW", XGW_SIDE_BUY,
                XGW_TYPE_LIMIT, XGW_TIF_IOC, false, "50000.00", "0.100", "0", "0.00000", 1579276756076);
    check_order(&s->orders[1], "ETHUSDT", "42", "x2", XGW_OS_PARTIALLY_FILLED, "PARTIALLY_FILLED", XGW_SIDE_SELL,
                XGW_TYPE_LIMIT, XGW_TIF_FOK, true, "3001.50", "0.5", "0.1", "3001.5", 1579276756099);
    assert_int_equal(parse_fixture(f, XGW_OP_OPEN_ORDERS, &c, 200, "open_orders_empty.json"), XGW_OK);
    assert_int_equal(s->n_orders, 0);

    /* listenKey */
    assert_int_equal(parse_fixture(f, XGW_OP_WS_TOKEN, &c, 200, "listen_key.json"), XGW_OK);
    assert_non_null(s->token);
    assert_string_equal(s->token, "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1");
    assert_int_equal(parse_fixture(f, XGW_OP_WS_TOKEN_KEEPALIVE, &c, 200, "listen_key_keepalive.json"), XGW_OK);
    assert_string_equal(s->token, "3HBntNTepshgEdjIwSUIBgB9keLyOCg5qv3n6bYAtktG8ejcaW5HXz9Vx1JgIieg");
    assert_int_equal(parse_fixture(f, XGW_OP_WS_TOKEN_KEEPALIVE, &c, 200, "listen_key_keepalive_old.json"), XGW_OK);
    assert_null(s->token);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

static void test_ws_messages(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    struct xgw_buf b = {0};
    struct xgw_error err;
    struct xgw_ws_sub subs[4];
    memset(subs, 0, sizeof subs);
    subs[0].channel = XGW_CH_TICKER;
    strcpy(subs[0].symbol, "BTCUSDT");
    subs[1].channel = XGW_CH_TRADES;
    strcpy(subs[1].symbol, "BTCUSDT");
    subs[2].channel = XGW_CH_BOOK;
    strcpy(subs[2].symbol, "ETHUSDT");
    subs[2].depth = 20;
    subs[3].channel = XGW_CH_ORDERS;

    assert_int_equal(bn_plugin.ws_sub_msg(f->bn, true, subs, 4, 7, &b, &err), XGW_OK);
    assert_string_equal(b.data, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@bookTicker\",\"btcusdt@aggTrade\","
                                "\"ethusdt@depth@100ms\"],\"id\":7}");
    b.len = 0;
    assert_int_equal(bn_plugin.ws_sub_msg(f->bn, false, subs + 2, 1, 4294967296ull, &b, &err), XGW_OK);
    assert_string_equal(b.data, "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"ethusdt@depth@100ms\"],\"id\":4294967296}");
    b.len = 0;
    b.data[0] = '\0';
    assert_int_equal(bn_plugin.ws_sub_msg(f->bn, true, subs + 3, 1, 8, &b, &err), XGW_OK);
    assert_int_equal(b.len, 0); /* orders need no message */
    struct xgw_ws_sub bad = {XGW_CH_TICKER, "", 0, 0};
    assert_int_equal(bn_plugin.ws_sub_msg(f->bn, true, &bad, 1, 9, &b, &err), XGW_ERR_INVALID_REQUEST);

    b.len = 0;
    assert_int_equal(bn_plugin.ws_path(f->bn, false, NULL, &b, &err), XGW_OK);
    assert_string_equal(b.data, "/stream");
    b.len = 0;
    assert_int_equal(bn_plugin.ws_path(f->bn, true, "pqia91ma19a5s61cv6a81va65sdf", &b, &err), XGW_OK);
    assert_string_equal(b.data, "/private/ws/pqia91ma19a5s61cv6a81va65sdf");
    b.len = 0;
    assert_int_equal(bn_plugin.ws_path(f->bn, true, NULL, &b, &err), XGW_ERR_INVALID_REQUEST);
    assert_int_equal(bn_plugin.ws_path(f->bn, true, "../admin", &b, &err), XGW_ERR_PROTOCOL);
    const char *routes[] = {"/public", "/market", "/public", ""};
    for (int i = 0; i < 4; i++) {
        b.len = 0;
        if (b.data)
            b.data[0] = '\0';
        assert_int_equal(bn_plugin.ws_route(f->bn, &subs[i], &b, &err), XGW_OK);
        assert_string_equal(b.data != NULL ? b.data : "", routes[i]);
    }
    /* A ticker's second part: the last price from the 24 h ticker, on /market. */
    assert_int_equal(bn_plugin.ws_ticker_parts, 2);
    struct xgw_ws_sub last = subs[0];
    last.part = 1;
    b.len = 0;
    assert_int_equal(bn_plugin.ws_route(f->bn, &last, &b, &err), XGW_OK);
    assert_string_equal(b.data, "/market");
    b.len = 0;
    assert_int_equal(bn_plugin.ws_sub_msg(f->bn, true, &last, 1, 10, &b, &err), XGW_OK);
    assert_string_equal(b.data, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@ticker\"],\"id\":10}");
    /* Legacy unrouted paths when ws_routed = false. */
    f->bn->ws_routed = false;
    b.len = 0;
    assert_int_equal(bn_plugin.ws_path(f->bn, true, "abc", &b, &err), XGW_OK);
    assert_string_equal(b.data, "/ws/abc");
    b.len = 0;
    b.data[0] = '\0';
    assert_int_equal(bn_plugin.ws_route(f->bn, &subs[0], &b, &err), XGW_OK);
    assert_int_equal(b.len, 0);

    b.len = 0;
    assert_int_equal(bn_plugin.ws_ping_msg(f->bn, &b), XGW_OK);
    assert_int_equal(bn_plugin.ws_login_msg(f->bn, 1, &b, &err), XGW_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(bn_plugin.ws.book_model, XGW_BOOK_DIFFS);
    assert_true(bn_plugin.ws.private_needs_token);
    assert_int_equal(bn_plugin.ws.token_keepalive_s, 1800);
    assert_int_equal(bn_plugin.ws.ping_interval_ms, 0);
    free(b.data);
    fx_free(f);
}

static void test_ws_fixtures(void **state)
{
    (void)state;
    struct fx *f = fx_new(DOC_KEY, DOC_SECRET);
    struct xgw_sink *s = f->sink;

    assert_int_equal(ws_fixture(f, "ws_book_ticker.json"), XGW_OK);
    assert_int_equal(s->n_tickers, 1);
    assert_string_equal(s->tickers[0].symbol, "BNBUSDT");
    assert_string_equal(tu_dstr(s->tickers[0].bid), "25.35190000");
    assert_string_equal(tu_dstr(s->tickers[0].bid_qty), "31.21000000");
    assert_string_equal(tu_dstr(s->tickers[0].ask), "25.36520000");
    assert_string_equal(tu_dstr(s->tickers[0].ask_qty), "40.66000000");
    assert_string_equal(tu_dstr(s->tickers[0].last), "null");
    assert_int_equal(s->tickers[0].ts_ms, 1568014460891);

    assert_int_equal(ws_fixture(f, "ws_agg_trade.json"), XGW_OK);
    assert_int_equal(s->n_trades, 1);
    assert_string_equal(s->trades[0].symbol, "BTCUSDT");
    assert_string_equal(s->trades[0].trade_id, "5933014");
    assert_string_equal(tu_dstr(s->trades[0].price), "0.001");
    assert_string_equal(tu_dstr(s->trades[0].qty), "100");
    assert_int_equal(s->trades[0].side, XGW_SIDE_SELL); /* buyer is maker */
    assert_int_equal(s->trades[0].ts_ms, 123456785);
    assert_int_equal(ws_fixture(f, "ws_agg_trade_buy.json"), XGW_OK);
    assert_int_equal(s->trades[0].side, XGW_SIDE_BUY);
    assert_string_equal(tu_dstr(s->trades[0].qty), "0.000");
    assert_int_equal(ws_fixture(f, "ws_trade.json"), XGW_OK);
    assert_string_equal(s->trades[0].trade_id, "3493102749");
    assert_int_equal(s->trades[0].side, XGW_SIDE_SELL);

    assert_int_equal(ws_fixture(f, "ws_depth_update.json"), XGW_OK);
    assert_int_equal(s->n_books, 1);
    assert_false(s->books[0].info.snapshot);
    assert_string_equal(s->books[0].info.symbol, "BTCUSDT");
    assert_int_equal(s->books[0].info.first_seq, 157);
    assert_int_equal(s->books[0].info.seq, 160);
    assert_int_equal(s->books[0].info.prev_seq, 149);
    assert_int_equal(s->books[0].info.ts_ms, 123456788);
    assert_int_equal(s->n_bids, 2);
    assert_int_equal(s->n_asks, 1);
    assert_string_equal(tu_dstr(s->bids[1].price), "0.0023");
    assert_true(xgw_dec_is_zero(s->bids[1].qty)); /* removes the level */
    assert_string_equal(tu_dstr(s->asks[0].qty), "100");
    assert_int_equal(ws_fixture(f, "ws_depth_update_empty.json"), XGW_OK);
    assert_int_equal(s->n_books, 1);
    assert_int_equal(s->n_bids + s->n_asks, 0);
    assert_int_equal(ws_fixture(f, "ws_depth_bad_level.json"), XGW_ERR_PROTOCOL);

    assert_int_equal(ws_fixture(f, "ws_24hr_ticker.json"), XGW_OK);
    assert_int_equal(s->n_tickers, 1);
    assert_string_equal(tu_dstr(s->tickers[0].last), "0.0025");
    assert_string_equal(tu_dstr(s->tickers[0].bid), "null");

    assert_int_equal(ws_fixture(f, "ws_order_trade_update.json"), XGW_OK);
    assert_int_equal(s->n_orders, 1);
    check_order(&s->orders[0], "BTCUSDT", "8886774", "TEST", XGW_OS_NEW, "NEW", XGW_SIDE_SELL, XGW_TYPE_NONE,
                XGW_TIF_GTC, false, "0", "0.001", "0", "0", 1568879465650);
    assert_int_equal(ws_fixture(f, "ws_order_trade_update_fill.json"), XGW_OK);
    check_order(&s->orders[0], "BTCUSDT", "20072994037", "xgw-abcdefghijklmnop", XGW_OS_PARTIALLY_FILLED,
                "PARTIALLY_FILLED", XGW_SIDE_BUY, XGW_TYPE_LIMIT, XGW_TIF_POST_ONLY, true, "97000.10", "0.010",
                "0.004", "97000.10000", 1700000000499);

    assert_int_equal(ws_fixture(f, "ws_account_update.json"), XGW_OK);
    assert_int_equal(s->n_balances, 2);
    assert_string_equal(s->balances[0].asset, "USDT");
    assert_string_equal(tu_dstr(s->balances[0].total), "122624.12345678");
    assert_string_equal(tu_dstr(s->balances[0].available), "null");
    assert_string_equal(tu_dstr(s->balances[1].total), "0.00000000");
    assert_int_equal(s->n_positions, 3);
    assert_int_equal(s->positions[0].side, XGW_POS_LONG);
    assert_string_equal(tu_dstr(s->positions[0].size), "20");
    assert_string_equal(tu_dstr(s->positions[0].entry_price), "6563.66500");
    assert_string_equal(tu_dstr(s->positions[0].unrealized_pnl), "2850.21200");
    assert_int_equal(s->positions[1].side, XGW_POS_SHORT);
    assert_string_equal(tu_dstr(s->positions[1].size), "0.500");
    assert_true(xgw_dec_is_zero(s->positions[2].size)); /* closed: reported */
    assert_int_equal(ws_fixture(f, "ws_account_update_funding.json"), XGW_OK);
    assert_int_equal(s->n_balances, 1);
    assert_int_equal(s->n_positions, 0);

    assert_int_equal(ws_fixture(f, "ws_listen_key_expired.json"), XGW_OK);
    assert_true(s->reauth);

    assert_int_equal(ws_fixture(f, "ws_ack.json"), XGW_OK);
    assert_int_equal(s->n_acks, 1);
    assert_int_equal(s->acks[0].id, 312);
    assert_true(s->acks[0].ok);
    assert_int_equal(ws_fixture(f, "ws_list_subscriptions.json"), XGW_OK);
    assert_int_equal(s->acks[0].id, 3);
    assert_true(s->acks[0].ok);
    assert_int_equal(ws_fixture(f, "ws_error_nested.json"), XGW_OK);
    assert_int_equal(s->n_acks, 1);
    assert_false(s->acks[0].ok);
    assert_int_equal(s->acks[0].id, 0);
    assert_non_null(strstr(s->acks[0].message, "code 2: Invalid request: request ID"));
    assert_int_equal(ws_fixture(f, "ws_error_flat.json"), XGW_OK);
    assert_false(s->acks[0].ok);
    assert_int_equal(s->acks[0].id, 7);
    assert_true(strlen(s->acks[0].message) < sizeof s->acks[0].message);

    /* Valid but uninteresting events emit nothing. */
    assert_int_equal(ws_fixture(f, "ws_mark_price.json"), XGW_OK);
    assert_int_equal(ws_fixture(f, "ws_trade_lite.json"), XGW_OK);
    assert_int_equal(s->n_tickers + s->n_trades + s->n_orders + s->n_books + s->n_acks, 0);

    const char *arr = "{\"stream\":\"!markPrice@arr\",\"data\":[{\"e\":\"markPriceUpdate\"}]}";
    assert_int_equal(bn_plugin.ws_parse(f->bn, arr, strlen(arr), s, &f->err), XGW_OK);
    assert_int_equal(s->n_tickers + s->n_trades + s->n_orders + s->n_books + s->n_acks, 0);

    /* Garbage is a PROTOCOL error, never a crash. */
    xgw__sink_reset(s);
    assert_int_equal(bn_plugin.ws_parse(f->bn, "{\"e\":\"aggTr", 11, s, &f->err), XGW_ERR_PROTOCOL);
    assert_int_equal(bn_plugin.ws_parse(f->bn, "[1,2]", 5, s, &f->err), XGW_ERR_PROTOCOL);
    const char *num = "{\"e\":\"aggTrade\",\"s\":\"X\",\"p\":1.5,\"q\":\"1\"}";
    assert_int_equal(bn_plugin.ws_parse(f->bn, num, strlen(num), s, &f->err), XGW_ERR_PROTOCOL);
    assert_int_equal(bn_plugin.ws_parse(f->bn, "", 0, s, &f->err), XGW_ERR_PROTOCOL);
    fx_free(f);
}

static void test_descriptor(void **state)
{
    (void)state;
    const struct xgw_plugin *p = xgw_plugin_entry();
    assert_ptr_equal(p, &bn_plugin);
    assert_int_equal(p->abi_version, XGW_PLUGIN_ABI_VERSION);
    assert_string_equal(p->name, "binance");
    assert_int_equal(p->n_networks, 2);
    assert_string_equal(p->networks[0].name, "mainnet");
    assert_string_equal(p->networks[0].rest[0], "https://fapi.binance.com");
    assert_string_equal(p->networks[0].ws[0], "wss://fstream.binance.com");
    assert_string_equal(p->networks[1].name, "testnet");
    assert_int_equal(p->ws.max_subs_per_conn, 1024);
    assert_int_equal(p->ws.max_msgs_per_sec, 10);
    assert_int_equal(p->ws.max_lifetime_s, 86400);

    /* recv_window_ms out of Binance's range is a configuration error. */
    struct xgw__inst_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.name = (char *)"x";
    struct xgw__kv kv = {(char *)"recv_window_ms", (char *)"70000", 3, false, true};
    cfg.given = &kv;
    cfg.n_given = 1;
    struct xgw_inst_ctx *ctx = xgw__inst_ctx_new(&cfg);
    struct xgw_error err;
    memset(&err, 0, sizeof err);
    const char *v = xgw__core_api()->cfg(ctx, "recv_window_ms");
    if (v != NULL && strcmp(v, "70000") == 0) {
        assert_null(p->create(xgw__core_api(), ctx, &err));
        assert_int_equal(err.kind, XGW_ERR_CONFIG);
    } else {
        fail_msg("core->cfg(recv_window_ms) did not return the configured value (got %s)", v ? v : "NULL");
    }
    xgw__inst_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_vectors),
        cmocka_unit_test(test_build_place_doc_example),
        cmocka_unit_test(test_build_place_v2),
        cmocka_unit_test(test_build_urlencoding),
        cmocka_unit_test(test_build_other_ops),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_client_id),
        cmocka_unit_test(test_filters_table),
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_usage_headers),
        cmocka_unit_test(test_parse_rest_fixtures),
        cmocka_unit_test(test_ws_messages),
        cmocka_unit_test(test_ws_fixtures),
        cmocka_unit_test(test_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
