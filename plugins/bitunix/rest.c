/*
 * Bitunix REST: building and parsing every operation of enum xgw_op the
 * exchange offers, and classifying failures.
 *
 * Every answer is the envelope {"code":0,"msg":"Success","data":...}; most
 * errors come with HTTP 200 and a non-zero code, so the code decides, never
 * the HTTP status alone: code != 0 is never a success.
 *
 * Server time: Bitunix futures has no server-time endpoint and the
 * envelope carries no timestamp, so TIME sends the same cheap public request
 * as PING (one ticker) and reads the HTTP Date header (1 s resolution; the
 * clock sync only needs to keep signed timestamps inside the exchange's
 * window). An answer without a Date header is a PROTOCOL error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitunix.h"

#define P_TICKERS "/api/v1/futures/market/tickers"
#define P_DEPTH "/api/v1/futures/market/depth"
#define P_PAIRS "/api/v1/futures/market/trading_pairs"
#define P_ACCOUNT "/api/v1/futures/account"
#define P_POSITIONS "/api/v1/futures/position/get_pending_positions"
#define P_PLACE "/api/v1/futures/trade/place_order"
#define P_CANCEL "/api/v1/futures/trade/cancel_orders"
#define P_DETAIL "/api/v1/futures/trade/get_order_detail"
#define P_PENDING "/api/v1/futures/trade/get_pending_orders"

/* Symbol used by PING/TIME: a one-ticker answer is the cheapest public call. */
#define PING_SYMBOL "BTCUSDT"

/* The public xgw_op_name() lives in libxgw, which a plugin may not call by
 * symbol (-z defs): a local copy for messages. */
static const char *op_name(enum xgw_op op)
{
    static const char *const names[XGW_OP__COUNT] = {
        "ping", "time", "markets", "ticker", "depth", "balances", "positions",
        "place", "cancel", "get_order", "open_orders", "ws_token", "ws_token_keepalive",
    };
    return (unsigned)op < XGW_OP__COUNT ? names[op] : "?";
}

static bool is_order_op(enum xgw_op op) { return op == XGW_OP_PLACE || op == XGW_OP_CANCEL; }

static int oom(struct bx *bx, struct xgw_error *err)
{
    return bx->core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while building a bitunix request");
}

/* Symbols and ids go into URLs and JSON: keep them to a conservative set. */
static bool valid_token(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

const char *bx_depth_limit(uint32_t wanted)
{
    /* The depth page documents fixed levels 1/5/15/50/max (default max). */
    if (wanted == 0)
        return "max";
    if (wanted <= 1)
        return "1";
    if (wanted <= 5)
        return "5";
    if (wanted <= 15)
        return "15";
    if (wanted <= 50)
        return "50";
    return "max";
}

void bx_cost(void *self, enum xgw_op op, const struct xgw_call *call, uint32_t *costs)
{
    (void)self, (void)call;
    switch (op) {
    case XGW_OP_PING:
    case XGW_OP_TIME:
    case XGW_OP_MARKETS:
    case XGW_OP_TICKER:
    case XGW_OP_DEPTH:
        costs[BX_RL_MARKET] = 1;
        break;
    case XGW_OP_BALANCES:
    case XGW_OP_POSITIONS:
    case XGW_OP_GET_ORDER:
    case XGW_OP_OPEN_ORDERS:
        costs[BX_RL_ACCOUNT] = 1;
        break;
    case XGW_OP_PLACE:
        costs[BX_RL_PLACE] = 1;
        break;
    case XGW_OP_CANCEL:
        costs[BX_RL_CANCEL] = 1;
        break;
    case XGW_OP_WS_TOKEN:
    case XGW_OP_WS_TOKEN_KEEPALIVE:
    case XGW_OP__COUNT:
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Building                                                                  */
/* ------------------------------------------------------------------------ */

static int need_symbol(struct bx *bx, const struct xgw_call *call, enum xgw_op op, struct xgw_error *err)
{
    if (!valid_token(call->symbol, XGW_SYMBOL_MAX - 1))
        return bx->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "%s needs a symbol such as BTCUSDT",
                                   op_name(op));
    return XGW_OK;
}

static int build_get(struct bx *bx, struct xgw_request *req, const char *path, const struct bx_param *params,
                     size_t n, bool sign, struct xgw_error *err)
{
    req->method = XGW_HTTP_GET;
    if (bx_target(bx, req, path, params, n) != XGW_OK)
        return oom(bx, err);
    return sign ? bx_sign_request(bx, req, params, n, err) : XGW_OK;
}

static bool dec_positive(xgw_dec d) { return !xgw_dec_is_none(d) && d.mant > 0; }

static const char *fmt_dec(const struct bx *bx, xgw_dec d, char *buf)
{
    bx->core->dec_format(d, buf, XGW_DEC_STRLEN);
    return buf;
}

/*
 * Order safety: the price is rounded to the pair's quotePrecision (buy
 * down, sell up: never more aggressive than asked) and the quantity down to
 * basePrecision, then what the exchange would refuse is refused here.
 */
static int prepare_order(struct bx *bx, const struct xgw_order_req *o, xgw_dec *qty, xgw_dec *price,
                         struct xgw_error *err)
{
    const struct xgw_core_api *core = bx->core;
    struct xgw_market m;
    char a[XGW_DEC_STRLEN], b[XGW_DEC_STRLEN];

    if (!valid_token(o->symbol, XGW_SYMBOL_MAX - 1))
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "place needs a symbol such as BTCUSDT");
    if (o->side != XGW_SIDE_BUY && o->side != XGW_SIDE_SELL)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "place needs a side (buy or sell)");
    if (o->type != XGW_TYPE_LIMIT && o->type != XGW_TYPE_MARKET)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "place needs a type (limit or market)");
    if (!dec_positive(o->qty))
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "order quantity must be a positive number");
    if (o->type == XGW_TYPE_LIMIT && !dec_positive(o->price))
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "a limit order needs a positive price");
    if (o->type == XGW_TYPE_MARKET && !xgw_dec_is_none(o->price))
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "a market order takes no price");
    if (o->type == XGW_TYPE_MARKET && o->tif != XGW_TIF_DEFAULT)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "bitunix takes a time in force (effect) only for limit orders");
    if (!core->market(bx->ctx, o->symbol, &m))
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "market %s is not in the market cache: markets are not loaded yet, or the "
                               "symbol is unknown to the exchange",
                               o->symbol);
    if (m.status != XGW_MKT_TRADING && m.status != XGW_MKT_UNKNOWN)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "market %s is not open for trading (status %s)",
                               o->symbol, m.status_raw);

    *qty = o->qty;
    if (dec_positive(m.step_size) && core->dec_round_to(o->qty, m.step_size, XGW_ROUND_DOWN, qty) != XGW_DEC_OK)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "quantity %s cannot be rounded to step %s",
                               fmt_dec(bx, o->qty, a), fmt_dec(bx, m.step_size, b));
    if (qty->mant <= 0)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "quantity %s rounds down to 0 at step %s",
                               fmt_dec(bx, o->qty, a), fmt_dec(bx, m.step_size, b));
    if (dec_positive(m.min_qty) && core->dec_cmp(*qty, m.min_qty) < 0)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "quantity %s is below the pair's minTradeVolume %s", fmt_dec(bx, *qty, a),
                               fmt_dec(bx, m.min_qty, b));
    *price = xgw_dec_none();
    if (o->type == XGW_TYPE_LIMIT) {
        enum xgw_round mode = o->side == XGW_SIDE_BUY ? XGW_ROUND_DOWN : XGW_ROUND_UP;
        *price = o->price;
        if (dec_positive(m.tick_size) && core->dec_round_to(o->price, m.tick_size, mode, price) != XGW_DEC_OK)
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "price %s cannot be rounded to tick %s",
                                   fmt_dec(bx, o->price, a), fmt_dec(bx, m.tick_size, b));
        if (price->mant <= 0)
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "price %s rounds down to 0 at tick %s",
                                   fmt_dec(bx, o->price, a), fmt_dec(bx, m.tick_size, b));
    }
    return XGW_OK;
}

static int json_field(struct bx *bx, struct xgw_buf *b, bool first, const char *name, const char *value)
{
    const struct xgw_core_api *core = bx->core;
    if ((!first && core->buf_append(b, ",", 1) != 0) || core->buf_json_str(b, name, strlen(name)) != 0 ||
        core->buf_append(b, ":", 1) != 0 || core->buf_json_str(b, value, strlen(value)) != 0)
        return -1;
    return 0;
}

static int json_dec_field(struct bx *bx, struct xgw_buf *b, const char *name, xgw_dec v)
{
    char s[XGW_DEC_STRLEN];
    bx->core->dec_format(v, s, sizeof s);
    return json_field(bx, b, false, name, s);
}

/* Body of place_order, in one compact serialisation that is both signed
 * and sent. One-way position mode: tradeSide is "only required in
 * hedge-mode" (place_order page) and is left out; reduceOnly marks closes. */
static int build_place(struct bx *bx, const struct xgw_call *call, struct xgw_request *req, struct xgw_error *err)
{
    const struct xgw_core_api *core = bx->core;
    const struct xgw_order_req *o = &call->order;
    /* Defined on every path: prepare_order leaves them unset when it fails,
     * and its success is known only through core->set_error's contract. */
    xgw_dec qty = xgw_dec_none(), price = xgw_dec_none();
    char cid[XGW_ID_MAX];
    int rc;

    if ((rc = prepare_order(bx, o, &qty, &price, err)) != XGW_OK)
        return rc;
    if (o->client_id[0] != '\0') {
        if (!valid_token(o->client_id, 32))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "client id must be 1-32 characters of A-Z a-z 0-9 _ -");
        memcpy(cid, o->client_id, sizeof cid);
    } else if (bx_plugin.client_id(bx, cid, sizeof cid) != XGW_OK) {
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "could not generate a client order id");
    }
    const char *effect = NULL;
    if (o->type == XGW_TYPE_LIMIT) {
        switch (o->tif) {
        case XGW_TIF_IOC: effect = "IOC"; break;
        case XGW_TIF_FOK: effect = "FOK"; break;
        case XGW_TIF_POST_ONLY: effect = "POST_ONLY"; break;
        case XGW_TIF_DEFAULT:
        case XGW_TIF_GTC: effect = "GTC"; break;
        }
    }
    struct xgw_buf *b = &req->body;
    req->method = XGW_HTTP_POST;
    if (bx_target(bx, req, P_PLACE, NULL, 0) != XGW_OK || core->buf_append(b, "{", 1) != 0 ||
        json_field(bx, b, true, "symbol", o->symbol) != 0 ||
        json_field(bx, b, false, "side", o->side == XGW_SIDE_BUY ? "BUY" : "SELL") != 0 ||
        json_field(bx, b, false, "orderType", o->type == XGW_TYPE_LIMIT ? "LIMIT" : "MARKET") != 0 ||
        json_dec_field(bx, b, "qty", qty) != 0 ||
        (o->type == XGW_TYPE_LIMIT && json_dec_field(bx, b, "price", price) != 0) ||
        (effect != NULL && json_field(bx, b, false, "effect", effect) != 0) ||
        json_field(bx, b, false, "clientId", cid) != 0 ||
        (o->reduce_only && core->buf_append(b, ",\"reduceOnly\":true", 18) != 0) || core->buf_append(b, "}", 1) != 0)
        return oom(bx, err);
    return bx_sign_request(bx, req, NULL, 0, err);
}

static int order_ref(struct bx *bx, enum xgw_op op, const struct xgw_call *call, struct xgw_error *err)
{
    if (call->order_id[0] == '\0' && call->client_id[0] == '\0')
        return bx->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "%s needs an order id or a client id",
                                   op_name(op));
    if (call->order_id[0] != '\0' && !valid_token(call->order_id, XGW_ID_MAX - 1))
        return bx->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "malformed order id");
    if (call->order_id[0] == '\0' && !valid_token(call->client_id, XGW_ID_MAX - 1))
        return bx->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "malformed client id");
    return XGW_OK;
}

static int build_cancel(struct bx *bx, const struct xgw_call *call, struct xgw_request *req, struct xgw_error *err)
{
    const struct xgw_core_api *core = bx->core;
    int rc;
    if ((rc = need_symbol(bx, call, XGW_OP_CANCEL, err)) != XGW_OK ||
        (rc = order_ref(bx, XGW_OP_CANCEL, call, err)) != XGW_OK)
        return rc;
    bool by_id = call->order_id[0] != '\0';
    struct xgw_buf *b = &req->body;
    req->method = XGW_HTTP_POST;
    if (bx_target(bx, req, P_CANCEL, NULL, 0) != XGW_OK || core->buf_append(b, "{", 1) != 0 ||
        json_field(bx, b, true, "symbol", call->symbol) != 0 || core->buf_append(b, ",\"orderList\":[{", 15) != 0 ||
        json_field(bx, b, true, by_id ? "orderId" : "clientId", by_id ? call->order_id : call->client_id) != 0 ||
        core->buf_append(b, "}]}", 3) != 0)
        return oom(bx, err);
    return bx_sign_request(bx, req, NULL, 0, err);
}

int bx_build(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
             struct xgw_error *err)
{
    struct bx *bx = self;
    const struct xgw_core_api *core = bx->core;
    struct bx_param p[3];
    int rc;

    switch (op) {
    case XGW_OP_PING:
    case XGW_OP_TIME:
        p[0] = (struct bx_param){"symbols", PING_SYMBOL};
        return build_get(bx, req, P_TICKERS, p, 1, false, err);
    case XGW_OP_MARKETS:
        return build_get(bx, req, P_PAIRS, NULL, 0, false, err);
    case XGW_OP_TICKER:
        if (call->symbol[0] == '\0')
            return build_get(bx, req, P_TICKERS, NULL, 0, false, err);
        if ((rc = need_symbol(bx, call, op, err)) != XGW_OK)
            return rc;
        p[0] = (struct bx_param){"symbols", call->symbol};
        return build_get(bx, req, P_TICKERS, p, 1, false, err);
    case XGW_OP_DEPTH:
        if ((rc = need_symbol(bx, call, op, err)) != XGW_OK)
            return rc;
        p[0] = (struct bx_param){"symbol", call->symbol};
        p[1] = (struct bx_param){"limit", bx_depth_limit(call->limit)};
        return build_get(bx, req, P_DEPTH, p, 2, false, err);
    case XGW_OP_BALANCES:
        p[0] = (struct bx_param){"marginCoin", bx->margin_coin};
        return build_get(bx, req, P_ACCOUNT, p, 1, true, err);
    case XGW_OP_POSITIONS:
    case XGW_OP_OPEN_ORDERS:
        if (call->symbol[0] != '\0') {
            if ((rc = need_symbol(bx, call, op, err)) != XGW_OK)
                return rc;
            p[0] = (struct bx_param){"symbol", call->symbol};
        }
        return build_get(bx, req, op == XGW_OP_POSITIONS ? P_POSITIONS : P_PENDING, p, call->symbol[0] != '\0',
                         true, err);
    case XGW_OP_GET_ORDER:
        if ((rc = order_ref(bx, op, call, err)) != XGW_OK)
            return rc;
        p[0] = call->order_id[0] != '\0' ? (struct bx_param){"orderId", call->order_id}
                                         : (struct bx_param){"clientId", call->client_id};
        return build_get(bx, req, P_DETAIL, p, 1, true, err);
    case XGW_OP_PLACE:
        return build_place(bx, call, req, err);
    case XGW_OP_CANCEL:
        return build_cancel(bx, call, req, err);
    case XGW_OP_WS_TOKEN:
    case XGW_OP_WS_TOKEN_KEEPALIVE:
    case XGW_OP__COUNT:
        break;
    }
    return core->set_error(err, XGW_ERR_UNSUPPORTED, 0, "bitunix does not offer %s", op_name(op));
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' &&
               (hay[i] | 0x20) == (needle[i] | 0x20))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/*
 * Codes of the OpenAPI "Error Codes" page (mirrored by the community Go
 * client tradingiq/bitunix-client, documentation/error_codes.md):
 * 10001 network error, 10002 parameter error, 10003 api-key empty, 10004 IP
 * not whitelisted, 10005 too many requests, 10006 request too frequent,
 * 10007 signature error, 10008 value does not comply with the rule,
 * 20001 market not exists, 20002-20015 account/leverage/balance refusals
 * (20003 insufficient balance, 20007 order not found, 20011 account not
 * allowed to trade, 20013/20014 account being deleted / deleted),
 * 30001-30042 order refusals (30013-30017 and 30039 quantity limits,
 * 30042 client id duplicate), 4xxxx copy-trading refusals. Timestamp and
 * nonce failures have no number on that page: they are recognised by
 * message text, as is any code the table does not know.
 */
int bx_classify_code(struct bx *bx, enum xgw_op op, int status, int64_t code, const char *msg,
                     struct xgw_error *err)
{
    const struct xgw_core_api *core = bx->core;
    enum xgw_err_kind kind;
    unsigned flags = 0;
    int64_t retry = 0;

    if (msg == NULL)
        msg = "";
    switch (code) {
    case 10001:
        /* "Network Error": the exchange's own back end failed. An order
         * may or may not have been taken. */
        kind = is_order_op(op) ? XGW_ERR_UNKNOWN_OUTCOME : XGW_ERR_SERVER;
        break;
    case 10002:
    case 10008:
    case 20001:
    case 20005:
    case 20015:
    case 30013:
    case 30014:
    case 30015:
    case 30016:
    case 30017:
    case 30039:
    case 30041:
        kind = XGW_ERR_INVALID_REQUEST;
        break;
    case 10003:
    case 10004:
    case 10007:
    case 20011:
    case 20013:
    case 20014:
        kind = XGW_ERR_AUTH;
        break;
    case 10005:
    case 10006:
        kind = XGW_ERR_RATE_LIMITED;
        retry = 1000; /* limits are per second */
        break;
    case 20007:
        kind = XGW_ERR_INVALID_REQUEST;
        flags = XGW_ERRF_ORDER_NOT_FOUND;
        break;
    default:
        if (contains_ci(msg, "timestamp") || contains_ci(msg, "time window") || contains_ci(msg, "expired"))
            kind = XGW_ERR_CLOCK_SKEW;
        else if (contains_ci(msg, "nonce") || contains_ci(msg, "sign") || contains_ci(msg, "api-key") ||
                 contains_ci(msg, "apikey") || contains_ci(msg, "permission"))
            kind = XGW_ERR_AUTH;
        else if (contains_ci(msg, "too many") || contains_ci(msg, "frequen") || contains_ci(msg, "rate limit"))
            kind = XGW_ERR_RATE_LIMITED, retry = 1000;
        else if (contains_ci(msg, "order not found") || contains_ci(msg, "order does not exist") ||
                 contains_ci(msg, "order not exist"))
            kind = XGW_ERR_INVALID_REQUEST, flags = XGW_ERRF_ORDER_NOT_FOUND;
        else if (code >= 10000 && code < 11000)
            kind = XGW_ERR_INVALID_REQUEST;
        else
            kind = XGW_ERR_REJECTED; /* 2xxxx-4xxxx: business refusals */
        break;
    }
    /* A 5xx with an envelope: the exchange failed while processing. */
    if (status >= 500 && kind != XGW_ERR_RATE_LIMITED)
        kind = is_order_op(op) ? XGW_ERR_UNKNOWN_OUTCOME : XGW_ERR_SERVER;
    core->set_error(err, kind, code, "bitunix %s: code %lld: %.160s", op_name(op), (long long)code, msg);
    err->flags |= flags;
    err->http_status = status;
    if (kind == XGW_ERR_RATE_LIMITED && err->retry_after_ms == 0)
        err->retry_after_ms = retry;
    return kind;
}

/* An HTTP Retry-After (seconds) overrides the per-second default: a 429
 * that asks for more must be honoured, envelope or not. */
static void retry_after_header(const struct xgw_core_api *core, const struct xgw_response *resp,
                               struct xgw_error *err)
{
    size_t n = 0;
    const char *ra = core->resp_header(resp, "Retry-After", &n);
    int64_t secs = 0;
    for (size_t i = 0; ra != NULL && i < n && i < 9 && ra[i] >= '0' && ra[i] <= '9'; i++)
        secs = secs * 10 + (ra[i] - '0');
    if (secs > 0)
        err->retry_after_ms = secs * 1000;
    else if (err->retry_after_ms == 0)
        err->retry_after_ms = 1000;
}

/* A failed HTTP answer without a usable envelope. */
static int classify_http(struct bx *bx, enum xgw_op op, const struct xgw_response *resp, int status,
                         struct xgw_error *err)
{
    const struct xgw_core_api *core = bx->core;
    enum xgw_err_kind kind;
    if (status == 429)
        kind = XGW_ERR_RATE_LIMITED;
    else if (status == 401 || status == 403)
        kind = XGW_ERR_AUTH;
    else if (status >= 500)
        kind = is_order_op(op) ? XGW_ERR_UNKNOWN_OUTCOME : XGW_ERR_SERVER;
    else if (status >= 400)
        kind = XGW_ERR_INVALID_REQUEST;
    else
        kind = is_order_op(op) ? XGW_ERR_UNKNOWN_OUTCOME : XGW_ERR_PROTOCOL;
    core->set_error(err, kind, 0, "bitunix %s: HTTP %d without a bitunix error envelope", op_name(op), status);
    err->http_status = status;
    if (kind == XGW_ERR_RATE_LIMITED)
        retry_after_header(core, resp, err);
    return kind;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------ */

struct pctx {
    struct bx *bx;
    const struct xgw_core_api *core;
    enum xgw_op op;
    const struct xgw_call *call;
    const struct xgw_response *resp;
    struct xgw_sink *out;
    struct xgw_error *err;
};

static int proto(struct pctx *p, const char *what)
{
    return p->core->set_error(p->err, XGW_ERR_PROTOCOL, 0, "bitunix %s: malformed answer (%s)", op_name(p->op),
                              what);
}

static int emit(struct pctx *p, enum xgw_rec type, const void *rec)
{
    if (p->core->emit(p->out, type, rec) != 0)
        return p->core->set_error(p->err, XGW_ERR_INTERNAL, 0, "out of memory while collecting results");
    return XGW_OK;
}

static const cJSON *get(const cJSON *o, const char *name) { return cJSON_GetObjectItemCaseSensitive(o, name); }

static int parse_time(struct pctx *p)
{
    size_t n = 0;
    const char *d = p->core->resp_header(p->resp, "Date", &n);
    int64_t ms;
    if (d == NULL)
        return proto(p, "no Date header to read the server time from");
    if (bx_parse_http_date(d, n, &ms) != 0)
        return proto(p, "unreadable Date header");
    return emit(p, XGW_REC_TIME, &ms);
}

static enum xgw_market_status market_status(const char *s)
{
    /* symbolStatus: OPEN, CANCEL_ONLY (no new orders), STOP. */
    if (strcmp(s, "OPEN") == 0)
        return XGW_MKT_TRADING;
    if (strcmp(s, "CANCEL_ONLY") == 0)
        return XGW_MKT_HALTED;
    if (strcmp(s, "STOP") == 0 || strcmp(s, "CLOSE") == 0)
        return XGW_MKT_CLOSED;
    return XGW_MKT_UNKNOWN;
}

static int precision(const cJSON *item, int32_t *out)
{
    int64_t v;
    if (bx_json_i64(item, &v) != 0 || v < 0 || v > XGW_DEC_MAX_SCALE)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static int parse_markets(struct pctx *p, const cJSON *data)
{
    const cJSON *it;
    if (!cJSON_IsArray(data))
        return proto(p, "data is not an array of trading pairs");
    cJSON_ArrayForEach(it, data) {
        struct xgw_market m;
        memset(&m, 0, sizeof m);
        if (pj_str(get(it, "symbol"), m.symbol, sizeof m.symbol) != 0 || m.symbol[0] == '\0' ||
            pj_str(get(it, "base"), m.base, sizeof m.base) != 0 ||
            pj_str(get(it, "quote"), m.quote, sizeof m.quote) != 0 ||
            precision(get(it, "quotePrecision"), &m.price_decimals) != 0 ||
            precision(get(it, "basePrecision"), &m.qty_decimals) != 0 ||
            pj_dec(p->bx->core, get(it, "minTradeVolume"), &m.min_qty) != 0 ||
            pj_str(get(it, "symbolStatus"), m.status_raw, sizeof m.status_raw) != 0)
            return proto(p, "bad trading pair");
        /* Precisions are decimal places: tick = 10^-quotePrecision. */
        m.tick_size = (xgw_dec){1, m.price_decimals};
        m.step_size = (xgw_dec){1, m.qty_decimals};
        m.min_notional = xgw_dec_none();
        m.market_step_size = xgw_dec_none();
        m.index = -1;
        m.status = market_status(m.status_raw);
        int rc = emit(p, XGW_REC_MARKET, &m);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int parse_tickers(struct pctx *p, const cJSON *data)
{
    const cJSON *it;
    if (!cJSON_IsArray(data))
        return proto(p, "data is not an array of tickers");
    cJSON_ArrayForEach(it, data) {
        struct xgw_ticker t;
        memset(&t, 0, sizeof t);
        t.bid = t.bid_qty = t.ask = t.ask_qty = xgw_dec_none();
        if (pj_str(get(it, "symbol"), t.symbol, sizeof t.symbol) != 0 || t.symbol[0] == '\0' ||
            pj_dec(p->bx->core, get(it, "lastPrice"), &t.last) != 0)
            return proto(p, "bad ticker");
        if (xgw_dec_is_none(t.last) && pj_dec(p->bx->core, get(it, "last"), &t.last) != 0)
            return proto(p, "bad ticker");
        if (p->call->symbol[0] != '\0' && strcmp(p->call->symbol, t.symbol) != 0)
            continue; /* asked for one symbol: ignore any other */
        int rc = emit(p, XGW_REC_TICKER, &t);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int parse_levels(struct pctx *p, const struct bx *bx, const cJSON *arr, enum xgw_rec type, uint32_t max)
{
    const cJSON *lv;
    uint32_t n = 0;
    if (arr == NULL || cJSON_IsNull(arr))
        return XGW_OK;
    if (!cJSON_IsArray(arr))
        return -1;
    cJSON_ArrayForEach(lv, arr) {
        struct xgw_level l;
        if (max != 0 && n >= max)
            break;
        if (!cJSON_IsArray(lv) || cJSON_GetArraySize(lv) < 2 ||
            pj_dec(bx->core, cJSON_GetArrayItem(lv, 0), &l.price) != 0 ||
            pj_dec(bx->core, cJSON_GetArrayItem(lv, 1), &l.qty) != 0 || xgw_dec_is_none(l.price) ||
            xgw_dec_is_none(l.qty))
            return -1;
        if (p->core->emit(p->out, type, &l) != 0)
            return -2;
        n++;
    }
    return XGW_OK;
}

static int emit_book(struct pctx *p, const char *symbol, const cJSON *bids, const cJSON *asks, int64_t ts,
                     uint32_t max)
{
    struct xgw_book_info bi;
    memset(&bi, 0, sizeof bi);
    snprintf(bi.symbol, sizeof bi.symbol, "%s", symbol);
    bi.snapshot = true;
    bi.prev_seq = -1;
    bi.ts_ms = ts;
    int rc = emit(p, XGW_REC_BOOK, &bi);
    if (rc != XGW_OK)
        return rc;
    int a = parse_levels(p, p->bx, bids, XGW_REC_BID, max);
    int b = a == 0 ? parse_levels(p, p->bx, asks, XGW_REC_ASK, max) : 0;
    if (a == -2 || b == -2)
        return p->core->set_error(p->err, XGW_ERR_INTERNAL, 0, "out of memory while collecting results");
    if (a != 0 || b != 0)
        return proto(p, "bad depth level");
    return XGW_OK;
}

static int parse_depth(struct pctx *p, const cJSON *data)
{
    if (!cJSON_IsObject(data))
        return proto(p, "data is not a depth object");
    return emit_book(p, p->call->symbol, get(data, "bids"), get(data, "asks"), 0, p->call->limit);
}

static int parse_balance_obj(struct pctx *p, const cJSON *o)
{
    struct xgw_balance b;
    xgw_dec avail, frozen, margin, sum;
    memset(&b, 0, sizeof b);
    if (pj_str(get(o, "marginCoin"), b.asset, sizeof b.asset) != 0 ||
        pj_dec(p->bx->core, get(o, "available"), &avail) != 0 ||
        pj_dec(p->bx->core, get(o, "frozen"), &frozen) != 0 ||
        pj_dec(p->bx->core, get(o, "margin"), &margin) != 0 || xgw_dec_is_none(avail))
        return proto(p, "bad account");
    if (b.asset[0] == '\0')
        snprintf(b.asset, sizeof b.asset, "%s", p->bx->margin_coin);
    /* total = available + frozen (open-order margin) + margin (position
     * margin); unrealized PnL is not included. */
    sum = avail;
    if ((!xgw_dec_is_none(frozen) && p->core->dec_add(sum, frozen, &sum) != XGW_DEC_OK) ||
        (!xgw_dec_is_none(margin) && p->core->dec_add(sum, margin, &sum) != XGW_DEC_OK))
        return proto(p, "account amounts overflow");
    b.available = avail;
    b.total = sum;
    return emit(p, XGW_REC_BALANCE, &b);
}

static int parse_balances(struct pctx *p, const cJSON *data)
{
    /* The account page shows data as an object; some answers wrap it in a
     * one-element array. Accept both. */
    if (cJSON_IsObject(data))
        return parse_balance_obj(p, data);
    if (!cJSON_IsArray(data))
        return proto(p, "data is not an account");
    const cJSON *it;
    cJSON_ArrayForEach(it, data) {
        int rc = parse_balance_obj(p, it);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

/* One position object (REST pending positions or the private channel). */
static int parse_position_obj(const struct bx *bx, const cJSON *o, struct xgw_position *pos, bool *skip)
{
    char side[16];
    xgw_dec qty;
    memset(pos, 0, sizeof *pos);
    *skip = false;
    if (pj_str(get(o, "symbol"), pos->symbol, sizeof pos->symbol) != 0 || pos->symbol[0] == '\0' ||
        pj_str(get(o, "side"), side, sizeof side) != 0 || pj_dec(bx->core, get(o, "qty"), &qty) != 0 ||
        xgw_dec_is_none(qty) || pj_dec(bx->core, get(o, "avgOpenPrice"), &pos->entry_price) != 0 ||
        pj_dec(bx->core, get(o, "unrealizedPNL"), &pos->unrealized_pnl) != 0 ||
        pj_dec(bx->core, get(o, "leverage"), &pos->leverage) != 0)
        return -1;
    if (strcmp(side, "LONG") == 0 || strcmp(side, "BUY") == 0)
        pos->side = XGW_POS_LONG;
    else if (strcmp(side, "SHORT") == 0 || strcmp(side, "SELL") == 0)
        pos->side = XGW_POS_SHORT;
    else
        return -1;
    pos->size = qty.mant < 0 ? (xgw_dec){-qty.mant, qty.scale} : qty;
    pos->mark_price = xgw_dec_none();
    *skip = qty.mant == 0;
    return 0;
}

static int parse_positions(struct pctx *p, const cJSON *data)
{
    const cJSON *it;
    if (data == NULL || cJSON_IsNull(data))
        return XGW_OK; /* no open position */
    if (!cJSON_IsArray(data))
        return proto(p, "data is not an array of positions");
    cJSON_ArrayForEach(it, data) {
        struct xgw_position pos;
        bool skip;
        if (parse_position_obj(p->bx, it, &pos, &skip) != 0)
            return proto(p, "bad position");
        if (skip)
            continue;
        int rc = emit(p, XGW_REC_POSITION, &pos);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int parse_place(struct pctx *p, const cJSON *data)
{
    const struct xgw_order_req *o = &p->call->order;
    struct xgw_order ord;
    memset(&ord, 0, sizeof ord);
    if (!cJSON_IsObject(data) || pj_str(get(data, "orderId"), ord.order_id, sizeof ord.order_id) != 0 ||
        ord.order_id[0] == '\0' || pj_str(get(data, "clientId"), ord.client_id, sizeof ord.client_id) != 0)
        return proto(p, "no orderId in the answer to place_order");
    /* The answer is only {orderId, clientId}: the rest is what was asked
     * (after rounding, which the request builder applied: the core reports
     * the order as sent). */
    snprintf(ord.symbol, sizeof ord.symbol, "%s", o->symbol);
    if (ord.client_id[0] == '\0')
        snprintf(ord.client_id, sizeof ord.client_id, "%s", o->client_id);
    ord.status = XGW_OS_NEW;
    snprintf(ord.status_raw, sizeof ord.status_raw, "NEW");
    ord.side = o->side;
    ord.type = o->type;
    ord.tif = o->type == XGW_TYPE_LIMIT ? (o->tif == XGW_TIF_DEFAULT ? XGW_TIF_GTC : o->tif) : XGW_TIF_DEFAULT;
    ord.reduce_only = o->reduce_only;
    ord.price = o->type == XGW_TYPE_LIMIT ? o->price : xgw_dec_none();
    ord.qty = o->qty;
    ord.filled_qty = xgw_dec_none();
    ord.avg_price = xgw_dec_none();
    return emit(p, XGW_REC_ORDER, &ord);
}

static int parse_cancel(struct pctx *p, const cJSON *data)
{
    if (!cJSON_IsObject(data))
        return proto(p, "data is not a cancel result");
    const cJSON *fail = get(data, "failureList");
    if (cJSON_IsArray(fail) && cJSON_GetArraySize(fail) > 0) {
        const cJSON *f = cJSON_GetArrayItem(fail, 0);
        int64_t code = 0;
        char msg[160];
        if (bx_json_i64(get(f, "errorCode"), &code) != 0)
            code = 0;
        if (pj_str(get(f, "errorMsg"), msg, sizeof msg) != 0)
            snprintf(msg, sizeof msg, "cancel refused");
        if (code == 0) {
            /* No code: judge by the text, and by default the order is not
             * cancellable (gone or already final). */
            int k = bx_classify_code(p->bx, p->op, 200, -1, msg, p->err);
            p->err->code = 0;
            return k;
        }
        return bx_classify_code(p->bx, p->op, 200, code, msg, p->err);
    }
    const cJSON *ok = get(data, "successList");
    if (!cJSON_IsArray(ok) || cJSON_GetArraySize(ok) == 0)
        return proto(p, "cancel answer lists neither a success nor a failure");
    const cJSON *s = cJSON_GetArrayItem(ok, 0);
    struct xgw_order ord;
    memset(&ord, 0, sizeof ord);
    if (pj_str(get(s, "orderId"), ord.order_id, sizeof ord.order_id) != 0 ||
        pj_str(get(s, "clientId"), ord.client_id, sizeof ord.client_id) != 0)
        return proto(p, "bad cancel success entry");
    if (ord.order_id[0] == '\0')
        snprintf(ord.order_id, sizeof ord.order_id, "%s", p->call->order_id);
    if (ord.client_id[0] == '\0')
        snprintf(ord.client_id, sizeof ord.client_id, "%s", p->call->client_id);
    snprintf(ord.symbol, sizeof ord.symbol, "%s", p->call->symbol);
    ord.status = XGW_OS_CANCELED;
    snprintf(ord.status_raw, sizeof ord.status_raw, "CANCELED");
    ord.price = ord.qty = ord.filled_qty = ord.avg_price = xgw_dec_none();
    return emit(p, XGW_REC_ORDER, &ord);
}

static int parse_order_list(struct pctx *p, const cJSON *arr)
{
    const cJSON *it;
    if (arr == NULL || cJSON_IsNull(arr))
        return XGW_OK;
    if (!cJSON_IsArray(arr))
        return proto(p, "orderList is not an array");
    cJSON_ArrayForEach(it, arr) {
        struct xgw_order o;
        if (bx_parse_order(p->bx, it, &o) != 0)
            return proto(p, "bad order");
        int rc = emit(p, XGW_REC_ORDER, &o);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int parse_data(struct pctx *p, const cJSON *data)
{
    switch (p->op) {
    case XGW_OP_PING:
        return XGW_OK;
    case XGW_OP_TIME:
        return parse_time(p);
    case XGW_OP_MARKETS:
        return parse_markets(p, data);
    case XGW_OP_TICKER:
        return parse_tickers(p, data);
    case XGW_OP_DEPTH:
        return parse_depth(p, data);
    case XGW_OP_BALANCES:
        return parse_balances(p, data);
    case XGW_OP_POSITIONS:
        return parse_positions(p, data);
    case XGW_OP_PLACE:
        return parse_place(p, data);
    case XGW_OP_CANCEL:
        return parse_cancel(p, data);
    case XGW_OP_GET_ORDER: {
        struct xgw_order o;
        if (data == NULL || cJSON_IsNull(data))
            return bx_classify_code(p->bx, p->op, 200, 20007, "order not found (empty answer)", p->err);
        if (bx_parse_order(p->bx, data, &o) != 0)
            return proto(p, "bad order");
        return emit(p, XGW_REC_ORDER, &o);
    }
    case XGW_OP_OPEN_ORDERS:
        if (data == NULL || cJSON_IsNull(data))
            return XGW_OK;
        if (cJSON_IsArray(data))
            return parse_order_list(p, data);
        if (!cJSON_IsObject(data))
            return proto(p, "data is not an order page");
        return parse_order_list(p, get(data, "orderList"));
    case XGW_OP_WS_TOKEN:
    case XGW_OP_WS_TOKEN_KEEPALIVE:
    case XGW_OP__COUNT:
        break;
    }
    return p->core->set_error(p->err, XGW_ERR_UNSUPPORTED, 0, "bitunix does not offer %s", op_name(p->op));
}

int bx_parse(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
             struct xgw_sink *out, struct xgw_error *err)
{
    struct bx *bx = self;
    const struct xgw_core_api *core = bx->core;
    static const struct xgw_call empty;
    struct pctx p = {bx, core, op, call != NULL ? call : &empty, resp, out, err};
    size_t len = 0;
    const char *body = core->resp_body(resp, &len);
    int status = core->resp_status(resp);

    cJSON *root = body != NULL && len != 0 ? bx_json_parse(body, len) : NULL;
    const cJSON *code = cJSON_IsObject(root) ? get(root, "code") : NULL;
    int64_t c = 0;
    int rc;
    if (code == NULL || bx_json_i64(code, &c) != 0) {
        /* No envelope: judge by the HTTP status alone. */
        if (status < 200 || status > 299)
            rc = classify_http(bx, op, resp, status, err);
        else if (is_order_op(op))
            rc = core->set_error(err, XGW_ERR_UNKNOWN_OUTCOME, 0,
                                 "bitunix %s: unreadable answer (HTTP %d): the order's fate is unknown",
                                 op_name(op), status);
        else
            rc = proto(&p, root == NULL ? "not JSON" : "no code in the envelope");
    } else if (c != 0) {
        char msg[192];
        if (pj_str(get(root, "msg"), msg, sizeof msg) != 0)
            snprintf(msg, sizeof msg, "(no readable message)");
        rc = bx_classify_code(bx, op, status, c, msg, err);
        if (status == 429 && rc != XGW_ERR_RATE_LIMITED) /* whatever the envelope says */
            rc = core->set_error(err, XGW_ERR_RATE_LIMITED, c, "bitunix %s: HTTP 429, code %lld: %.160s",
                                 op_name(op), (long long)c, msg);
        if (rc == XGW_ERR_RATE_LIMITED)
            retry_after_header(core, resp, err);
    } else if (status < 200 || status > 299) {
        /* code 0 but a failing status: trust the status. */
        rc = classify_http(bx, op, resp, status, err);
    } else {
        rc = parse_data(&p, get(root, "data"));
    }
    cJSON_Delete(root);
    return rc;
}
