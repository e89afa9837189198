/*
 * Binance USDⓈ-M REST: building (and signing) every xgw operation, parsing
 * the answers into neutral records, classifying errors, and the documented
 * weight of each call. Paths, weights and error codes: reference §3-§5.
 *
 * Choices worth knowing:
 * - TICKER is one request in the ABI. /fapi/v1/ticker/bookTicker gives best
 *   bid/ask (with quantities) but no last price, and /fapi/v2/ticker/price
 *   gives only the last price; no single futures endpoint gives both (the
 *   24hr ticker has no bid/ask, §3.5). Bid/ask matter more to a trading bot,
 *   so TICKER uses bookTicker and reports last = NONE.
 * - Signed GET/DELETE carry their parameters in the query, signed POST/PUT
 *   in a form body (as ccxt does, §2.1); xgw never splits them.
 * - BALANCES and POSITIONS use the v3 endpoints; the parsers also accept the
 *   v2 shapes (v2 positionRisk adds "leverage").
 * - PLACE asks newOrderRespType=RESULT so a market order answers with its
 *   final state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binance.h"

#define BN_FORM_HEADER "Content-Type: application/x-www-form-urlencoded\n"

/* The core's xgw_op_name() cannot be called by symbol from a plugin. */
static const char *op_name(enum xgw_op op)
{
    static const char *const names[XGW_OP__COUNT] = {
        "ping", "time", "markets", "ticker", "depth", "balances", "positions",
        "place", "cancel", "get_order", "open_orders", "ws_token", "ws_token_keepalive",
    };
    return (unsigned)op < XGW_OP__COUNT ? names[op] : "?";
}

static bool is_order_op(enum xgw_op op) { return op == XGW_OP_PLACE || op == XGW_OP_CANCEL; }

/* Binance's newClientOrderId pattern: ^[\.A-Z\:/a-z0-9_-]{1,36}$ */
static bool valid_client_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == ':' || c == '/' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static bool valid_order_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

uint32_t bn_depth_limit(uint32_t wanted)
{
    static const uint32_t valid[] = {5, 10, 20, 50, 100, 500};
    if (wanted == 0)
        return 0;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        if (wanted <= valid[i])
            return valid[i];
    return 1000;
}

static uint32_t depth_weight(uint32_t limit)
{
    /* [EP:Order-Book]: 5/10/20/50 -> 2, 100 -> 5, 500 (default) -> 10, 1000 -> 20 */
    if (limit == 0 || limit == 500)
        return 10;
    if (limit <= 50)
        return 2;
    if (limit <= 100)
        return 5;
    return 20;
}

void bn_cost(void *self, enum xgw_op op, const struct xgw_call *call, uint32_t *costs)
{
    (void)self;
    uint32_t w = 1;
    switch (op) {
    case XGW_OP_PING:
    case XGW_OP_TIME:
    case XGW_OP_MARKETS:
    case XGW_OP_CANCEL:
    case XGW_OP_GET_ORDER:
    case XGW_OP_WS_TOKEN:
    case XGW_OP_WS_TOKEN_KEEPALIVE:
        w = 1;
        break;
    case XGW_OP_TICKER:
        /* bookTicker: 2 / 5 (all); the v2 price of one symbol: 1 */
        w = call->step == 1 ? 1 : call->symbol[0] != '\0' ? 2 : 5;
        break;
    case XGW_OP_DEPTH:
        w = depth_weight(bn_depth_limit(call->limit));
        break;
    case XGW_OP_BALANCES:
    case XGW_OP_POSITIONS:
        w = 5;
        break;
    case XGW_OP_OPEN_ORDERS:
        w = call->symbol[0] != '\0' ? 1 : 40;
        break;
    case XGW_OP_PLACE:
        /* 0 IP weight; 1 on each ORDERS limiter ([EP:trade/rest-api]). */
        w = 0;
        costs[BN_RL_ORDERS_10S] = 1;
        costs[BN_RL_ORDERS_1M] = 1;
        break;
    case XGW_OP__COUNT:
        w = 0;
        break;
    }
    costs[BN_RL_WEIGHT_1M] = w;
}

/* ------------------------------------------------------------------------ */
/* Build                                                                     */
/* ------------------------------------------------------------------------ */

static int oom(struct bn *bn, struct xgw_error *err)
{
    return bn->core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while building a request");
}

static int need_symbol(struct bn *bn, const struct xgw_call *call, enum xgw_op op, struct xgw_error *err)
{
    if (call->symbol[0] == '\0')
        return bn->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "%s needs a symbol", op_name(op));
    return XGW_OK;
}

static int append_param(struct bn *bn, struct xgw_buf *b, const char *name, const char *value)
{
    const struct xgw_core_api *core = bn->core;
    const char *sep = (b->len > 0 && b->data[b->len - 1] != '?') ? "&" : "";
    if (core->buf_printf(b, "%s%s=", sep, name) != 0)
        return -1;
    return core->buf_urlencode(b, value, strlen(value));
}

static int append_dec_param(struct bn *bn, struct xgw_buf *b, const char *name, xgw_dec v)
{
    const struct xgw_core_api *core = bn->core;
    const char *sep = (b->len > 0 && b->data[b->len - 1] != '?') ? "&" : "";
    if (core->buf_printf(b, "%s%s=", sep, name) != 0)
        return -1;
    return core->buf_dec(b, core->dec_normalize(v));
}

static bool dec_positive(xgw_dec d) { return !xgw_dec_is_none(d) && d.mant > 0; }

static const char *fmt_dec(const struct bn *bn, xgw_dec d, char *buf)
{
    bn->core->dec_format(d, buf, XGW_DEC_STRLEN);
    return buf;
}

/*
 * Order safety (issue 5 item 4): round the price to the tick (buy down,
 * sell up: never more aggressive than asked) and the quantity down to the
 * step, then refuse locally what the exchange's filters would refuse.
 * MIN_NOTIONAL for market orders is judged by Binance against the mark
 * price, which xgw does not hold, so only limit orders are checked here;
 * reduce-only orders are exempt as on the exchange (-4164 text).
 */
static int prepare_order(struct bn *bn, const struct xgw_order_req *o, xgw_dec *qty, xgw_dec *price,
                         struct xgw_error *err)
{
    const struct xgw_core_api *core = bn->core;
    struct xgw_market m;
    char a[XGW_DEC_STRLEN], b[XGW_DEC_STRLEN];

    if (o->symbol[0] == '\0')
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "place needs a symbol");
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
    if (o->type == XGW_TYPE_MARKET && (o->tif == XGW_TIF_FOK || o->tif == XGW_TIF_POST_ONLY))
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "a market order cannot be %s",
                               o->tif == XGW_TIF_FOK ? "fok" : "post_only");
    if (!core->market(bn->ctx, o->symbol, &m))
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "market %s is not in the market cache: markets are not loaded yet, or the "
                               "symbol is unknown to the exchange",
                               o->symbol);

    xgw_dec step = m.step_size;
    const char *lot = "LOT_SIZE";
    if (o->type == XGW_TYPE_MARKET && dec_positive(m.market_step_size)) {
        step = m.market_step_size;
        lot = "MARKET_LOT_SIZE";
    }
    *qty = o->qty;
    if (dec_positive(step) && core->dec_round_to(o->qty, step, XGW_ROUND_DOWN, qty) != XGW_DEC_OK)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "quantity %s cannot be rounded to step %s",
                               fmt_dec(bn, o->qty, a), fmt_dec(bn, step, b));
    if (qty->mant <= 0)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "%s filter: quantity %s rounds down to 0 at stepSize %s", lot,
                               fmt_dec(bn, o->qty, a), fmt_dec(bn, step, b));
    if (dec_positive(m.min_qty) && core->dec_cmp(*qty, m.min_qty) < 0)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "%s filter: quantity %s is below minQty %s",
                               lot, fmt_dec(bn, *qty, a), fmt_dec(bn, m.min_qty, b));

    *price = xgw_dec_none();
    if (o->type == XGW_TYPE_LIMIT) {
        *price = o->price;
        enum xgw_round mode = o->side == XGW_SIDE_BUY ? XGW_ROUND_DOWN : XGW_ROUND_UP;
        if (dec_positive(m.tick_size) && core->dec_round_to(o->price, m.tick_size, mode, price) != XGW_DEC_OK)
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "price %s cannot be rounded to tick %s",
                                   fmt_dec(bn, o->price, a), fmt_dec(bn, m.tick_size, b));
        if (price->mant <= 0)
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "PRICE_FILTER: price %s rounds down to 0 at tickSize %s",
                                   fmt_dec(bn, o->price, a), fmt_dec(bn, m.tick_size, b));
        if (dec_positive(m.min_notional) && !o->reduce_only) {
            xgw_dec notional;
            if (core->dec_mul(*price, *qty, &notional) != XGW_DEC_OK)
                return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "order notional overflows");
            if (core->dec_cmp(notional, m.min_notional) < 0)
                return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                       "MIN_NOTIONAL filter: notional %s (price x quantity) is below %s",
                                       fmt_dec(bn, core->dec_normalize(notional), a),
                                       fmt_dec(bn, m.min_notional, b));
        }
    }
    return XGW_OK;
}

static int build_place(struct bn *bn, const struct xgw_call *call, struct xgw_request *req, struct xgw_error *err)
{
    const struct xgw_core_api *core = bn->core;
    const struct xgw_order_req *o = &call->order;
    /* Defined on every path: prepare_order leaves them unset when it fails,
     * and its success is known only through core->set_error's contract. */
    xgw_dec qty = xgw_dec_none(), price = xgw_dec_none();
    char cid[XGW_ID_MAX];
    int rc;

    if ((rc = prepare_order(bn, o, &qty, &price, err)) != XGW_OK)
        return rc;
    if (o->client_id[0] != '\0') {
        if (!valid_client_id(o->client_id))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "client id must be 1-36 characters of A-Z a-z 0-9 . : / _ -");
        memcpy(cid, o->client_id, sizeof cid);
    } else if (bn_plugin.client_id(bn, cid, sizeof cid) != XGW_OK) {
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "could not generate a client order id");
    }

    const char *tif = NULL;
    if (o->type == XGW_TYPE_LIMIT) {
        switch (o->tif) {
        case XGW_TIF_IOC: tif = "IOC"; break;
        case XGW_TIF_FOK: tif = "FOK"; break;
        case XGW_TIF_POST_ONLY: tif = "GTX"; break;
        case XGW_TIF_DEFAULT:
        case XGW_TIF_GTC: tif = "GTC"; break;
        }
    }

    req->method = XGW_HTTP_POST;
    struct xgw_buf *b = &req->body;
    if (core->buf_printf(&req->target, "/fapi/v1/order") != 0 || core->buf_printf(&req->headers, BN_FORM_HEADER) != 0)
        return oom(bn, err);
    if ((rc = bn_add_key_header(bn, req, err)) != XGW_OK)
        return rc;
    if (append_param(bn, b, "symbol", o->symbol) != 0 ||
        append_param(bn, b, "side", o->side == XGW_SIDE_BUY ? "BUY" : "SELL") != 0 ||
        append_param(bn, b, "type", o->type == XGW_TYPE_LIMIT ? "LIMIT" : "MARKET") != 0 ||
        (tif != NULL && append_param(bn, b, "timeInForce", tif) != 0) || append_dec_param(bn, b, "quantity", qty) != 0 ||
        (o->type == XGW_TYPE_LIMIT && append_dec_param(bn, b, "price", price) != 0) ||
        (o->reduce_only && append_param(bn, b, "reduceOnly", "true") != 0) ||
        append_param(bn, b, "newClientOrderId", cid) != 0 || append_param(bn, b, "newOrderRespType", "RESULT") != 0)
        return oom(bn, err);
    return bn_sign_append(bn, b, 0, err);
}

/* CANCEL / GET_ORDER: symbol plus orderId, or origClientOrderId. */
static int build_order_ref(struct bn *bn, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
                           struct xgw_error *err)
{
    const struct xgw_core_api *core = bn->core;
    struct xgw_buf *t = &req->target;
    int rc;

    if ((rc = need_symbol(bn, call, op, err)) != XGW_OK)
        return rc;
    if (call->order_id[0] == '\0' && call->client_id[0] == '\0')
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "%s needs an order id or a client id",
                               op_name(op));
    if (call->order_id[0] != '\0' && !valid_order_id(call->order_id))
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "a Binance order id is a decimal number");
    if (call->order_id[0] == '\0' && !valid_client_id(call->client_id))
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "client id must be 1-36 characters of A-Z a-z 0-9 . : / _ -");

    req->method = op == XGW_OP_CANCEL ? XGW_HTTP_DELETE : XGW_HTTP_GET;
    if ((rc = bn_add_key_header(bn, req, err)) != XGW_OK)
        return rc;
    if (core->buf_printf(t, "/fapi/v1/order?") != 0)
        return oom(bn, err);
    size_t from = t->len;
    if (append_param(bn, t, "symbol", call->symbol) != 0)
        return oom(bn, err);
    if (call->order_id[0] != '\0' ? append_param(bn, t, "orderId", call->order_id) != 0
                                   : append_param(bn, t, "origClientOrderId", call->client_id) != 0)
        return oom(bn, err);
    return bn_sign_append(bn, t, from, err);
}

/* A signed GET whose only parameter is an optional symbol. */
static int build_signed_get(struct bn *bn, const char *path, const char *symbol, struct xgw_request *req,
                            struct xgw_error *err)
{
    const struct xgw_core_api *core = bn->core;
    struct xgw_buf *t = &req->target;
    int rc;

    req->method = XGW_HTTP_GET;
    if ((rc = bn_add_key_header(bn, req, err)) != XGW_OK)
        return rc;
    if (core->buf_printf(t, "%s?", path) != 0)
        return oom(bn, err);
    size_t from = t->len;
    if (symbol != NULL && symbol[0] != '\0' && append_param(bn, t, "symbol", symbol) != 0)
        return oom(bn, err);
    return bn_sign_append(bn, t, from, err);
}

int bn_build(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
             struct xgw_error *err)
{
    struct bn *bn = self;
    const struct xgw_core_api *core = bn->core;
    struct xgw_buf *t = &req->target;
    int rc;

    req->method = XGW_HTTP_GET;
    req->sensitive = false;
    switch (op) {
    case XGW_OP_PING:
        return core->buf_printf(t, "/fapi/v1/ping") == 0 ? XGW_OK : oom(bn, err);
    case XGW_OP_TIME:
        return core->buf_printf(t, "/fapi/v1/time") == 0 ? XGW_OK : oom(bn, err);
    case XGW_OP_MARKETS:
        return core->buf_printf(t, "/fapi/v1/exchangeInfo") == 0 ? XGW_OK : oom(bn, err);
    case XGW_OP_TICKER:
        if (core->buf_printf(t, call->step == 1 ? "/fapi/v2/ticker/price" : "/fapi/v1/ticker/bookTicker") != 0)
            return oom(bn, err);
        if (call->symbol[0] != '\0' && (core->buf_printf(t, "?") != 0 || append_param(bn, t, "symbol", call->symbol) != 0))
            return oom(bn, err);
        return XGW_OK;
    case XGW_OP_DEPTH: {
        if ((rc = need_symbol(bn, call, op, err)) != XGW_OK)
            return rc;
        uint32_t limit = bn_depth_limit(call->limit);
        if (core->buf_printf(t, "/fapi/v1/depth?") != 0 || append_param(bn, t, "symbol", call->symbol) != 0)
            return oom(bn, err);
        if (limit != 0 && core->buf_printf(t, "&limit=%u", (unsigned)limit) != 0)
            return oom(bn, err);
        return XGW_OK;
    }
    case XGW_OP_BALANCES:
        return build_signed_get(bn, "/fapi/v3/balance", NULL, req, err);
    case XGW_OP_POSITIONS:
        return build_signed_get(bn, "/fapi/v3/positionRisk", call->symbol, req, err);
    case XGW_OP_OPEN_ORDERS:
        return build_signed_get(bn, "/fapi/v1/openOrders", call->symbol, req, err);
    case XGW_OP_PLACE:
        return build_place(bn, call, req, err);
    case XGW_OP_CANCEL:
    case XGW_OP_GET_ORDER:
        return build_order_ref(bn, op, call, req, err);
    case XGW_OP_WS_TOKEN:
    case XGW_OP_WS_TOKEN_KEEPALIVE:
        /* USER_STREAM security: API key header, no timestamp or signature
         * (§2.3). The PUT extends the account's one key, so it takes no
         * parameter either. */
        req->method = op == XGW_OP_WS_TOKEN ? XGW_HTTP_POST : XGW_HTTP_PUT;
        if ((rc = bn_add_key_header(bn, req, err)) != XGW_OK)
            return rc;
        return core->buf_printf(t, "/fapi/v1/listenKey") == 0 ? XGW_OK : oom(bn, err);
    case XGW_OP__COUNT:
        break;
    }
    return core->set_error(err, XGW_ERR_UNSUPPORTED, 0, "operation %d is not supported by binance", (int)op);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* Exchange-side filter and format refusals among -4xxx: the request itself
 * was wrong (the same conditions xgw refuses locally as INVALID_REQUEST).
 * Every other -4xxx/-5xxx is a business refusal (REJECTED). */
static bool is_request_code(int64_t code)
{
    switch (code) {
    case -4001: /* price < 0 */
    case -4002: /* price > max */
    case -4003: /* qty < 0 */
    case -4004: /* qty < minQty */
    case -4005: /* qty > maxQty */
    case -4013: /* price < minPrice */
    case -4014: /* price not a multiple of tick */
    case -4015: /* client order id too long */
    case -4023: /* qty not a multiple of step */
    case -4120: /* conditional order types moved to the algo service */
    case -4164: /* MIN_NOTIONAL */
        return true;
    default:
        return false;
    }
}

static int64_t parse_uint(const char *s, size_t len, bool *ok)
{
    int64_t v = 0;
    *ok = false;
    if (s == NULL || len == 0 || len > 18)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *ok = true;
    return v;
}

/* "…IP banned until 1660090423228. Please use…" -> 1660090423228 */
static int64_t banned_until(const char *msg)
{
    const char *p = strstr(msg, "banned until ");
    if (p == NULL)
        return 0;
    p += strlen("banned until ");
    size_t n = 0;
    while (p[n] >= '0' && p[n] <= '9')
        n++;
    bool ok;
    int64_t v = parse_uint(p, n, &ok);
    return ok ? v : 0;
}

int bn_classify_error(struct bn *bn, enum xgw_op op, int status, const char *body, size_t len,
                      const char *retry_after, size_t ra_len, struct xgw_error *err)
{
    const struct xgw_core_api *core = bn->core;
    int64_t code = 0;
    bool have_code = false;
    char msg[200] = "";
    enum xgw_err_kind kind;
    unsigned flags = 0;
    int64_t until = 0;

    cJSON *root = body != NULL && len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
    if (cJSON_IsObject(root)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "code");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "msg");
        have_code = pj_i64(c, &code) == 0;
        if (cJSON_IsString(m) && m->valuestring != NULL)
            snprintf(msg, sizeof msg, "%s", m->valuestring); /* bounded: long messages are cut */
    }
    cJSON_Delete(root);

    bool ra_ok;
    int64_t ra_ms = parse_uint(retry_after, ra_len, &ra_ok) * 1000;
    if (!ra_ok)
        ra_ms = 0;
    if (msg[0] != '\0')
        until = banned_until(msg);

    if (status == 418 || until != 0) {
        kind = XGW_ERR_BANNED;
    } else if (status == 429 || code == -1003 || code == -1015) {
        kind = XGW_ERR_RATE_LIMITED;
    } else if (code == -1008 || (status == 503 && strstr(msg, "Service Unavailable") != NULL)) {
        /* §4.3: throttled or "Service Unavailable." are certain failures:
         * nothing was executed, so even an order may simply be retried. */
        kind = XGW_ERR_SERVER;
    } else if (status >= 500 || code == -1000 || code == -1001 || code == -1006 || code == -1007) {
        /* §4.3/§4.4: "execution status unknown". For an order that is an
         * unknown outcome the core resolves by client id; for a read it is
         * a plain server failure. */
        kind = is_order_op(op) ? XGW_ERR_UNKNOWN_OUTCOME : XGW_ERR_SERVER;
    } else if (code == -1021 || code == -5028) {
        kind = XGW_ERR_CLOCK_SKEW;
    } else if (code == -1002 || code == -1022 || code == -2014 || code == -2015 || (!have_code && status == 401)) {
        kind = XGW_ERR_AUTH;
    } else if (code == -2011 || code == -2013) {
        kind = XGW_ERR_INVALID_REQUEST;
        flags |= XGW_ERRF_ORDER_NOT_FOUND;
    } else if (!have_code) {
        /* 403 without a code is [GI]'s "WAF limit violated": the request
         * pattern itself is refused. Any other codeless answer is not
         * Binance's error format. */
        kind = status == 403 ? XGW_ERR_INVALID_REQUEST : XGW_ERR_PROTOCOL;
    } else if (code <= -2000 && code > -3000) {
        kind = XGW_ERR_REJECTED; /* -2010 rejected, -2018/-2019 margin, -2021, -2022, -2025 ... */
    } else if (code <= -4000 && code > -6000) {
        kind = is_request_code(code) ? XGW_ERR_INVALID_REQUEST : XGW_ERR_REJECTED;
    } else {
        kind = XGW_ERR_INVALID_REQUEST; /* -1100..-1199 bad parameters, -1121 bad symbol, -1125 listenKey ... */
    }

    if (kind == XGW_ERR_PROTOCOL)
        core->set_error(err, kind, 0, "binance %s: HTTP %d with an answer that is not a Binance error object",
                        op_name(op), status);
    else if (have_code)
        core->set_error(err, kind, code, "binance %s: HTTP %d, code %lld: %s", op_name(op), status,
                        (long long)code, msg);
    else
        core->set_error(err, kind, 0, "binance %s: HTTP %d", op_name(op), status);
    if (err == NULL)
        return kind;
    err->flags |= flags;
    err->http_status = status;
    if (kind == XGW_ERR_RATE_LIMITED || kind == XGW_ERR_BANNED)
        err->retry_after_ms = ra_ms;
    if (kind == XGW_ERR_BANNED) {
        err->until_ms = until;
        if (ra_ms == 0 && until != 0) {
            int64_t left = until - core->local_ms();
            err->retry_after_ms = left > 0 ? left : 0;
        }
    }
    return kind;
}

/* ------------------------------------------------------------------------ */
/* Parse                                                                     */
/* ------------------------------------------------------------------------ */

static void emit_usage(struct bn *bn, enum xgw_op op, const struct xgw_response *resp, struct xgw_sink *out)
{
    static const struct {
        const char *name;
        uint32_t bucket;
    } hdr[] = {
        {"X-MBX-USED-WEIGHT-1M", BN_RL_WEIGHT_1M},
        {"X-MBX-ORDER-COUNT-10S", BN_RL_ORDERS_10S},
        {"X-MBX-ORDER-COUNT-1M", BN_RL_ORDERS_1M},
    };
    const struct xgw_core_api *core = bn->core;
    for (size_t i = 0; i < sizeof hdr / sizeof hdr[0]; i++) {
        /* §5: the weight header "is not accurate" on bookTicker. */
        if (hdr[i].bucket == BN_RL_WEIGHT_1M && op == XGW_OP_TICKER)
            continue;
        size_t len = 0;
        const char *v = core->resp_header(resp, hdr[i].name, &len);
        bool ok;
        int64_t used = parse_uint(v, len, &ok);
        if (!ok)
            continue; /* absent or malformed: a usage hint, never a failure */
        struct xgw_rl_usage u = {hdr[i].bucket, (uint64_t)used};
        core->emit(out, XGW_REC_RL_USAGE, &u);
    }
}

struct pctx {
    struct bn *bn;
    const struct xgw_core_api *core;
    enum xgw_op op;
    struct xgw_sink *out;
    struct xgw_error *err;
};

static int proto(struct pctx *p, const char *what)
{
    return p->core->set_error(p->err, XGW_ERR_PROTOCOL, 0, "binance %s: malformed answer (%s)",
                              op_name(p->op), what);
}

static int emit(struct pctx *p, enum xgw_rec type, const void *rec)
{
    if (p->core->emit(p->out, type, rec) != 0)
        return p->core->set_error(p->err, XGW_ERR_INTERNAL, 0, "out of memory while collecting results");
    return XGW_OK;
}

static enum xgw_market_status market_status(const char *s)
{
    if (strcmp(s, "TRADING") == 0)
        return XGW_MKT_TRADING;
    if (strcmp(s, "PENDING_TRADING") == 0 || strcmp(s, "PRE_DELIVERING") == 0 || strcmp(s, "DELIVERING") == 0 ||
        strcmp(s, "PRE_SETTLE") == 0 || strcmp(s, "SETTLING") == 0)
        return XGW_MKT_HALTED;
    if (strcmp(s, "DELIVERED") == 0 || strcmp(s, "CLOSE") == 0)
        return XGW_MKT_CLOSED;
    return XGW_MKT_UNKNOWN;
}

static int parse_filter(struct pctx *p, const cJSON *f, struct xgw_market *m, xgw_dec *lot_step)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(f, "filterType");
    if (!cJSON_IsString(type))
        return -1;
    const char *t = type->valuestring;
    if (strcmp(t, "PRICE_FILTER") == 0)
        return pj_dec(p->bn->core, cJSON_GetObjectItemCaseSensitive(f, "tickSize"), &m->tick_size);
    if (strcmp(t, "LOT_SIZE") == 0) {
        if (pj_dec(p->bn->core, cJSON_GetObjectItemCaseSensitive(f, "stepSize"), lot_step) != 0)
            return -1;
        m->step_size = *lot_step;
        return pj_dec(p->bn->core, cJSON_GetObjectItemCaseSensitive(f, "minQty"), &m->min_qty);
    }
    if (strcmp(t, "MARKET_LOT_SIZE") == 0)
        return pj_dec(p->bn->core, cJSON_GetObjectItemCaseSensitive(f, "stepSize"), &m->market_step_size);
    if (strcmp(t, "MIN_NOTIONAL") == 0)
        return pj_dec(p->bn->core, cJSON_GetObjectItemCaseSensitive(f, "notional"), &m->min_notional);
    return 0;
}

static int parse_market(struct pctx *p, const cJSON *s, struct xgw_market *m)
{
    memset(m, 0, sizeof *m);
    m->tick_size = m->step_size = m->min_qty = m->min_notional = m->market_step_size = xgw_dec_none();
    /* pricePrecision/quantityPrecision disagree with the filters in
     * production and Binance says not to use them (§3.3): the tick and step
     * are authoritative, so no separate decimals are reported. */
    m->price_decimals = -1;
    m->qty_decimals = -1;
    m->index = -1;
    xgw_dec lot_step = xgw_dec_none();
    const cJSON *filters = NULL;
    for (const cJSON *it = s->child; it != NULL; it = it->next) {
        const char *k = it->string;
        int rc = 0;
        if (strcmp(k, "symbol") == 0)
            rc = pj_str(it, m->symbol, sizeof m->symbol);
        else if (strcmp(k, "baseAsset") == 0)
            rc = pj_str(it, m->base, sizeof m->base);
        else if (strcmp(k, "quoteAsset") == 0)
            rc = pj_str(it, m->quote, sizeof m->quote);
        else if (strcmp(k, "status") == 0) {
            rc = pj_str(it, m->status_raw, sizeof m->status_raw);
            m->status = market_status(m->status_raw);
        } else if (strcmp(k, "filters") == 0)
            filters = it;
        if (rc != 0)
            return -1;
    }
    if (m->symbol[0] == '\0' || filters == NULL || !cJSON_IsArray(filters))
        return -1;
    for (const cJSON *f = filters->child; f != NULL; f = f->next)
        if (!cJSON_IsObject(f) || parse_filter(p, f, m, &lot_step) != 0)
            return -1;
    /* MARKET_LOT_SIZE is reported only where it differs from LOT_SIZE. */
    if (!xgw_dec_is_none(m->market_step_size) && !xgw_dec_is_none(lot_step) &&
        p->core->dec_cmp(m->market_step_size, lot_step) == 0)
        m->market_step_size = xgw_dec_none();
    return 0;
}

static int parse_markets(struct pctx *p, const cJSON *root)
{
    const cJSON *syms = cJSON_GetObjectItemCaseSensitive(root, "symbols");
    if (!cJSON_IsArray(syms))
        return proto(p, "no symbols array");
    for (const cJSON *s = syms->child; s != NULL; s = s->next) {
        struct xgw_market m;
        if (!cJSON_IsObject(s) || parse_market(p, s, &m) != 0) {
            /* One odd symbol must not make every market unusable: skip it
             * loudly. An order for it is then refused as unknown. */
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "symbol");
            p->core->log(p->bn->ctx, XGW_LOG_WARN, "binance markets: skipping malformed symbol %.40s",
                         cJSON_IsString(name) ? name->valuestring : "?");
            continue;
        }
        int rc = emit(p, XGW_REC_MARKET, &m);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int parse_book_ticker(struct pctx *p, const cJSON *o)
{
    struct xgw_ticker t;
    memset(&t, 0, sizeof t);
    t.bid = t.bid_qty = t.ask = t.ask_qty = t.last = xgw_dec_none();
    if (!cJSON_IsObject(o))
        return proto(p, "ticker is not an object");
    for (const cJSON *it = o->child; it != NULL; it = it->next) {
        const char *k = it->string;
        int rc = 0;
        if (strcmp(k, "symbol") == 0)
            rc = pj_str(it, t.symbol, sizeof t.symbol);
        else if (strcmp(k, "bidPrice") == 0)
            rc = pj_dec(p->bn->core, it, &t.bid);
        else if (strcmp(k, "bidQty") == 0)
            rc = pj_dec(p->bn->core, it, &t.bid_qty);
        else if (strcmp(k, "askPrice") == 0)
            rc = pj_dec(p->bn->core, it, &t.ask);
        else if (strcmp(k, "askQty") == 0)
            rc = pj_dec(p->bn->core, it, &t.ask_qty);
        else if (strcmp(k, "time") == 0)
            rc = pj_i64(it, &t.ts_ms);
        if (rc != 0)
            return proto(p, k);
    }
    if (t.symbol[0] == '\0')
        return proto(p, "ticker without symbol");
    return emit(p, XGW_REC_TICKER, &t);
}

/* {"symbol":"BTCUSDT","price":"6000.01","time":1589437530011}: the last
 * trade price, as a ticker with only `last` set (the core merges it into the
 * bookTicker step's). */
static int parse_last_price(struct pctx *p, const cJSON *o)
{
    struct xgw_ticker t;
    memset(&t, 0, sizeof t);
    t.bid = t.bid_qty = t.ask = t.ask_qty = t.last = xgw_dec_none();
    if (!cJSON_IsObject(o))
        return proto(p, "price ticker is not an object");
    if (pj_str(cJSON_GetObjectItemCaseSensitive(o, "symbol"), t.symbol, sizeof t.symbol) != 0 ||
        pj_dec(p->bn->core, cJSON_GetObjectItemCaseSensitive(o, "price"), &t.last) != 0 ||
        t.symbol[0] == '\0' || xgw_dec_is_none(t.last))
        return proto(p, "price ticker without symbol or price");
    const cJSON *time = cJSON_GetObjectItemCaseSensitive(o, "time");
    if (time && pj_i64(time, &t.ts_ms) != 0)
        return proto(p, "time");
    return emit(p, XGW_REC_TICKER, &t);
}

unsigned bn_steps(void *self, enum xgw_op op, const struct xgw_call *call)
{
    (void)self;
    return op == XGW_OP_TICKER && call->symbol[0] != '\0' ? 2 : 1;
}

/* One side of a book: [["price","qty"], ...], at most max levels (0 = all). */
static int parse_levels(struct pctx *p, const cJSON *arr, enum xgw_rec type, uint32_t max)
{
    uint32_t n = 0;
    if (!cJSON_IsArray(arr))
        return proto(p, "book side is not an array");
    for (const cJSON *lv = arr->child; lv != NULL; lv = lv->next) {
        if (max != 0 && n >= max)
            break;
        struct xgw_level l;
        const cJSON *pr = cJSON_IsArray(lv) ? lv->child : NULL;
        const cJSON *q = pr != NULL ? pr->next : NULL;
        if (q == NULL || pj_dec(p->bn->core, pr, &l.price) != 0 || pj_dec(p->bn->core, q, &l.qty) != 0 ||
            xgw_dec_is_none(l.price) || xgw_dec_is_none(l.qty))
            return proto(p, "book level");
        int rc = emit(p, type, &l);
        if (rc != XGW_OK)
            return rc;
        n++;
    }
    return XGW_OK;
}

static int parse_depth(struct pctx *p, const cJSON *root, const struct xgw_call *call)
{
    struct xgw_book_info b;
    memset(&b, 0, sizeof b);
    snprintf(b.symbol, sizeof b.symbol, "%s", call->symbol);
    b.snapshot = true;
    b.prev_seq = -1;
    int64_t e_ms = 0;
    const cJSON *bids = NULL, *asks = NULL;
    bool have_seq = false;
    if (!cJSON_IsObject(root))
        return proto(p, "depth is not an object");
    for (const cJSON *it = root->child; it != NULL; it = it->next) {
        const char *k = it->string;
        int rc = 0;
        if (strcmp(k, "lastUpdateId") == 0) {
            rc = pj_i64(it, &b.seq);
            have_seq = rc == 0;
        } else if (strcmp(k, "T") == 0)
            rc = pj_i64(it, &b.ts_ms);
        else if (strcmp(k, "E") == 0)
            rc = pj_i64(it, &e_ms);
        else if (strcmp(k, "bids") == 0)
            bids = it;
        else if (strcmp(k, "asks") == 0)
            asks = it;
        if (rc != 0)
            return proto(p, k);
    }
    if (!have_seq || bids == NULL || asks == NULL)
        return proto(p, "depth without lastUpdateId, bids or asks");
    if (b.ts_ms == 0)
        b.ts_ms = e_ms;
    int rc = emit(p, XGW_REC_BOOK, &b);
    if (rc == XGW_OK)
        rc = parse_levels(p, bids, XGW_REC_BID, call->limit);
    if (rc == XGW_OK)
        rc = parse_levels(p, asks, XGW_REC_ASK, call->limit);
    return rc;
}

static int parse_balances(struct pctx *p, const cJSON *root)
{
    if (!cJSON_IsArray(root))
        return proto(p, "balances are not an array");
    for (const cJSON *o = root->child; o != NULL; o = o->next) {
        struct xgw_balance b;
        memset(&b, 0, sizeof b);
        b.total = b.available = xgw_dec_none();
        if (!cJSON_IsObject(o))
            return proto(p, "balance is not an object");
        for (const cJSON *it = o->child; it != NULL; it = it->next) {
            const char *k = it->string;
            int rc = 0;
            if (strcmp(k, "asset") == 0)
                rc = pj_str(it, b.asset, sizeof b.asset);
            else if (strcmp(k, "balance") == 0)
                rc = pj_dec(p->bn->core, it, &b.total);
            else if (strcmp(k, "availableBalance") == 0)
                rc = pj_dec(p->bn->core, it, &b.available);
            if (rc != 0)
                return proto(p, k);
        }
        if (b.asset[0] == '\0' || xgw_dec_is_none(b.total))
            return proto(p, "balance without asset or balance");
        int rc = emit(p, XGW_REC_BALANCE, &b);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int parse_positions(struct pctx *p, const cJSON *root)
{
    if (!cJSON_IsArray(root))
        return proto(p, "positions are not an array");
    for (const cJSON *o = root->child; o != NULL; o = o->next) {
        struct xgw_position pos;
        char ps[16] = "";
        xgw_dec amt = xgw_dec_none();
        memset(&pos, 0, sizeof pos);
        pos.entry_price = pos.mark_price = pos.unrealized_pnl = pos.leverage = xgw_dec_none();
        if (!cJSON_IsObject(o))
            return proto(p, "position is not an object");
        for (const cJSON *it = o->child; it != NULL; it = it->next) {
            const char *k = it->string;
            int rc = 0;
            if (strcmp(k, "symbol") == 0)
                rc = pj_str(it, pos.symbol, sizeof pos.symbol);
            else if (strcmp(k, "positionSide") == 0)
                rc = pj_str(it, ps, sizeof ps);
            else if (strcmp(k, "positionAmt") == 0)
                rc = pj_dec(p->bn->core, it, &amt);
            else if (strcmp(k, "entryPrice") == 0)
                rc = pj_dec(p->bn->core, it, &pos.entry_price);
            else if (strcmp(k, "markPrice") == 0)
                rc = pj_dec(p->bn->core, it, &pos.mark_price);
            else if (strcmp(k, "unRealizedProfit") == 0)
                rc = pj_dec(p->bn->core, it, &pos.unrealized_pnl);
            else if (strcmp(k, "leverage") == 0)
                rc = pj_dec(p->bn->core, it, &pos.leverage);
            if (rc != 0)
                return proto(p, k);
        }
        if (pos.symbol[0] == '\0' || xgw_dec_is_none(amt))
            return proto(p, "position without symbol or positionAmt");
        if (xgw_dec_is_zero(amt))
            continue; /* v2 lists every symbol; only open positions are reported */
        /* Hedge mode names the side (SHORT rows carry a negative amount);
         * one-way mode ("BOTH") gives it by the sign. */
        if (strcmp(ps, "LONG") == 0)
            pos.side = XGW_POS_LONG;
        else if (strcmp(ps, "SHORT") == 0)
            pos.side = XGW_POS_SHORT;
        else
            pos.side = amt.mant < 0 ? XGW_POS_SHORT : XGW_POS_LONG;
        pos.size = amt;
        if (pos.size.mant < 0)
            pos.size.mant = -pos.size.mant; /* |mant| <= 10^18 - 1: cannot overflow */
        int rc = emit(p, XGW_REC_POSITION, &pos);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int parse_one_order(struct pctx *p, const cJSON *o)
{
    struct xgw_order ord;
    if (bn_parse_order(p->bn, o, false, &ord) != 0)
        return proto(p, "order object");
    return emit(p, XGW_REC_ORDER, &ord);
}

static int parse_token(struct pctx *p, const cJSON *root, bool required)
{
    const cJSON *k = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "listenKey") : NULL;
    if (!cJSON_IsObject(root))
        return proto(p, "not an object");
    if (k == NULL && !required)
        return XGW_OK; /* keepalive answered {} before 2024-04-25 */
    if (k == NULL || !cJSON_IsString(k) || k->valuestring == NULL || k->valuestring[0] == '\0' || strlen(k->valuestring) >= 128)
        return proto(p, "listenKey");
    return emit(p, XGW_REC_TOKEN, k->valuestring);
}

static int parse_ok(struct pctx *p, const struct xgw_call *call, const cJSON *root)
{
    switch (p->op) {
    case XGW_OP_PING:
        return cJSON_IsObject(root) ? XGW_OK : proto(p, "ping answer is not an object");
    case XGW_OP_TIME: {
        int64_t t;
        if (!cJSON_IsObject(root) || pj_i64(cJSON_GetObjectItemCaseSensitive(root, "serverTime"), &t) != 0)
            return proto(p, "serverTime");
        return emit(p, XGW_REC_TIME, &t);
    }
    case XGW_OP_MARKETS:
        return cJSON_IsObject(root) ? parse_markets(p, root) : proto(p, "not an object");
    case XGW_OP_TICKER:
        if (call->step == 1)
            return parse_last_price(p, root);
        if (cJSON_IsArray(root)) {
            for (const cJSON *o = root->child; o != NULL; o = o->next) {
                int rc = parse_book_ticker(p, o);
                if (rc != XGW_OK)
                    return rc;
            }
            return XGW_OK;
        }
        return parse_book_ticker(p, root);
    case XGW_OP_DEPTH:
        return parse_depth(p, root, call);
    case XGW_OP_BALANCES:
        return parse_balances(p, root);
    case XGW_OP_POSITIONS:
        return parse_positions(p, root);
    case XGW_OP_PLACE:
    case XGW_OP_CANCEL:
    case XGW_OP_GET_ORDER:
        return parse_one_order(p, root);
    case XGW_OP_OPEN_ORDERS:
        if (!cJSON_IsArray(root))
            return proto(p, "open orders are not an array");
        for (const cJSON *o = root->child; o != NULL; o = o->next) {
            int rc = parse_one_order(p, o);
            if (rc != XGW_OK)
                return rc;
        }
        return XGW_OK;
    case XGW_OP_WS_TOKEN:
        return parse_token(p, root, true);
    case XGW_OP_WS_TOKEN_KEEPALIVE:
        return parse_token(p, root, false);
    case XGW_OP__COUNT:
        break;
    }
    return p->core->set_error(p->err, XGW_ERR_UNSUPPORTED, 0, "operation %d is not supported by binance", (int)p->op);
}

int bn_parse(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
             struct xgw_sink *out, struct xgw_error *err)
{
    struct bn *bn = self;
    const struct xgw_core_api *core = bn->core;
    struct pctx p = {bn, core, op, out, err};
    size_t len = 0;
    const char *body = core->resp_body(resp, &len);
    int status = core->resp_status(resp);

    emit_usage(bn, op, resp, out);
    if (status < 200 || status > 299) {
        size_t ra_len = 0;
        const char *ra = core->resp_header(resp, "Retry-After", &ra_len);
        return bn_classify_error(bn, op, status, body, len, ra, ra_len, err);
    }
    if (body == NULL || len == 0)
        return proto(&p, "empty body");
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (root == NULL)
        return proto(&p, "not JSON");
    int rc;
    /* An error object can come with HTTP 200 too; {"code":200,...} is
     * Binance's success form for a few calls and is not an error. */
    const cJSON *code = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "code") : NULL;
    int64_t c;
    if (code != NULL && cJSON_GetObjectItemCaseSensitive(root, "msg") != NULL && pj_i64(code, &c) == 0 &&
        c < 0) {
        rc = bn_classify_error(bn, op, status, body, len, NULL, 0, err);
    } else {
        rc = parse_ok(&p, call, root);
    }
    cJSON_Delete(root);
    return rc;
}
