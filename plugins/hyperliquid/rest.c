/*
 * Hyperliquid REST: every read is POST /info with a JSON body, every write
 * a signed POST /exchange (sign.c). This file builds the requests for each
 * operation and turns the answers into neutral records.
 *
 * Choices where the API has no direct equivalent (docs/plugins.md repeats
 * them for users):
 *   - TICKER is one l2Book request: best bid/ask with sizes and the
 *     exchange time; `last` stays NONE because l2Book has no last trade and
 *     the ABI allows one request per operation (allMids gives only mids).
 *   - TIME: there is no time endpoint; the "time" of the l2Book of
 *     `time_coin` (default BTC) is the server's clock in ms.
 *   - PING is {"type":"allMids"} (weight 2, unsigned).
 *   - A market order is an aggressive Ioc limit at reference ± market_slippage
 *     (rounded to the price rules, as the SDK does). The reference is the
 *     price the caller gives, else the latest mid this instance saw (from
 *     TICKER/DEPTH answers or the bbo/l2Book/allMids streams) within 10 s;
 *     without either the order is refused with INVALID_REQUEST.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl.h"

#define W_INFO_LIGHT 2  /* l2Book, allMids, clearinghouseState, orderStatus */
#define W_INFO_HEAVY 20 /* meta, openOrders and other /info types */
#define W_ACTION 1      /* 1 + floor(batch / 40), one order or cancel per action */

/* ------------------------------------------------------------------------ */
/* JSON helpers                                                              */
/* ------------------------------------------------------------------------ */

static const char *jstr(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Bounded copy that truncates silently (ids and names are validated or
 * shorter than their fields; truncation is only a last guard). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Case-insensitive substring search (messages vary in capitalisation). */
static bool has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Mid cache (market-order reference)                                        */
/* ------------------------------------------------------------------------ */

void hl_mid_put(struct hl *hl, const char *coin, xgw_dec mid)
{
    if (coin == NULL || xgw_dec_is_none(mid) || mid.mant <= 0)
        return;
    int64_t now = hl->core->local_ms();
    for (size_t i = 0; i < hl->n_mids; i++) {
        if (strcmp(hl->mids[i].coin, coin) == 0) {
            hl->mids[i].mid = mid;
            hl->mids[i].at_ms = now;
            return;
        }
    }
    size_t slot;
    if (hl->n_mids < HL_MID_CACHE) {
        slot = hl->n_mids++;
    } else {
        slot = hl->next_mid; /* oldest insertion is replaced */
        hl->next_mid = (hl->next_mid + 1) % HL_MID_CACHE;
    }
    copy_str(hl->mids[slot].coin, sizeof hl->mids[slot].coin, coin);
    hl->mids[slot].mid = mid;
    hl->mids[slot].at_ms = now;
}

bool hl_mid_get(struct hl *hl, const char *coin, xgw_dec *out)
{
    int64_t now = hl->core->local_ms();
    for (size_t i = 0; i < hl->n_mids; i++) {
        if (strcmp(hl->mids[i].coin, coin) == 0) {
            if (now - hl->mids[i].at_ms > HL_MID_FRESH_MS)
                return false;
            *out = hl->mids[i].mid;
            return true;
        }
    }
    return false;
}

/* (a + b) / 2, exactly: halving is multiplying by 5 one decimal further. */
static int mid_of(const struct xgw_core_api *core, xgw_dec a, xgw_dec b, xgw_dec *out)
{
    xgw_dec s;
    if (xgw_dec_is_none(a) || xgw_dec_is_none(b) || core->dec_add(a, b, &s) != 0)
        return -1;
    s = core->dec_normalize(s);
    if (s.scale >= XGW_DEC_MAX_SCALE || s.mant > INT64_MAX / 5 || s.mant < INT64_MIN / 5)
        return -1;
    s.mant *= 5;
    s.scale += 1;
    *out = core->dec_normalize(s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Build                                                                     */
/* ------------------------------------------------------------------------ */

static int oom(struct hl *hl, struct xgw_error *err)
{
    return hl->core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while building the request");
}

static int info_coin(struct hl *hl, struct xgw_request *req, const char *type, const char *coin, struct xgw_error *err)
{
    const struct xgw_core_api *core = hl->core;
    if (coin == NULL || coin[0] == '\0')
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "a symbol (coin, e.g. BTC) is required");
    int rc = core->buf_printf(&req->body, "{\"type\":\"%s\",\"coin\":", type);
    rc = rc ? rc : core->buf_json_str(&req->body, coin, strlen(coin));
    rc = rc ? rc : core->buf_printf(&req->body, "}");
    return rc ? oom(hl, err) : XGW_OK;
}

static int need_user(struct hl *hl, struct xgw_error *err)
{
    if (hl->user[0] == '\0')
        return hl->core->set_error(err, XGW_ERR_AUTH, 0,
                                   "no account address: set private_key or account_address to read account state");
    return XGW_OK;
}

static int info_user(struct hl *hl, struct xgw_request *req, const char *type, struct xgw_error *err)
{
    int rc = need_user(hl, err);
    if (rc)
        return rc;
    if (hl->core->buf_printf(&req->body, "{\"type\":\"%s\",\"user\":\"%s\"}", type, hl->user))
        return oom(hl, err);
    return XGW_OK;
}

static bool valid_cloid(const char *s)
{
    uint8_t b[16];
    return strlen(s) == HL_CLOID_LEN && s[0] == '0' && s[1] == 'x' && hl_unhex(s, b, sizeof b) == 0;
}

static bool valid_oid(const char *s, uint64_t *out)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 19)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return true;
}

static int lookup_market(struct hl *hl, const char *symbol, struct xgw_market *m, struct xgw_error *err)
{
    if (symbol[0] == '\0')
        return hl->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "a symbol (coin, e.g. BTC) is required");
    if (!hl->core->market(hl->ctx, symbol, m) || m->index < 0 || m->index > UINT32_MAX || m->qty_decimals < 0)
        return hl->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "unknown symbol %s: not in the markets list (names as in meta, e.g. BTC)", symbol);
    return XGW_OK;
}

static int build_place(struct hl *hl, const struct xgw_order_req *o, struct xgw_request *req, struct xgw_error *err)
{
    const struct xgw_core_api *core = hl->core;
    struct xgw_market m = {0}; /* filled by lookup_market on success */
    int rc = lookup_market(hl, o->symbol, &m, err);
    if (rc)
        return rc;
    struct hl_action a;
    memset(&a, 0, sizeof a);
    a.kind = HL_ACT_ORDER;
    a.order.asset = (uint32_t)m.index;
    if (o->side != XGW_SIDE_BUY && o->side != XGW_SIDE_SELL)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "order side must be buy or sell");
    a.order.is_buy = o->side == XGW_SIDE_BUY;
    a.order.reduce_only = o->reduce_only;
    int szd = m.qty_decimals;

    xgw_dec px = o->price;
    if (o->type == XGW_TYPE_MARKET) {
        if (o->tif != XGW_TIF_DEFAULT && o->tif != XGW_TIF_IOC)
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "a market order is an Ioc limit on Hyperliquid: tif must be default or ioc");
        xgw_dec ref = o->price;
        if (xgw_dec_is_none(ref) && !hl_mid_get(hl, o->symbol, &ref))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "market order on %s needs a reference price: give a price (the slippage bound "
                                   "is applied to it) or read the ticker/book or stream it first",
                                   o->symbol);
        rc = hl_slippage_price(core, ref, a.order.is_buy, hl->slippage, szd, &px, err);
        if (rc)
            return rc;
        a.order.tif = "Ioc";
    } else if (o->type == XGW_TYPE_LIMIT || o->type == XGW_TYPE_NONE) {
        switch (o->tif) {
        case XGW_TIF_DEFAULT:
        case XGW_TIF_GTC: a.order.tif = "Gtc"; break;
        case XGW_TIF_IOC: a.order.tif = "Ioc"; break;
        case XGW_TIF_POST_ONLY: a.order.tif = "Alo"; break;
        default:
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "Hyperliquid has no fill-or-kill: use gtc, ioc or post_only");
        }
        if (xgw_dec_is_none(px))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "a limit order needs a price");
    } else {
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "unknown order type");
    }
    rc = hl_wire_price(core, px, szd, a.order.px, err);
    rc = rc ? rc : hl_wire_size(core, o->qty, szd, a.order.sz, err);
    if (rc)
        return rc;
    if (o->client_id[0] != '\0') {
        if (!valid_cloid(o->client_id))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "client id must be a cloid: 0x followed by 32 hex digits");
        copy_str(a.order.cloid, sizeof a.order.cloid, o->client_id);
    }
    return hl_sign_action(hl, &a, &req->body, err);
}

static int build_cancel(struct hl *hl, const struct xgw_call *call, struct xgw_request *req, struct xgw_error *err)
{
    const struct xgw_core_api *core = hl->core;
    struct xgw_market m = {0}; /* filled by lookup_market on success */
    int rc = lookup_market(hl, call->symbol, &m, err);
    if (rc)
        return rc;
    struct hl_action a;
    memset(&a, 0, sizeof a);
    a.asset = (uint32_t)m.index;
    if (call->order_id[0] != '\0') {
        if (!valid_oid(call->order_id, &a.oid))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "order id must be a decimal number");
        a.kind = HL_ACT_CANCEL;
    } else if (call->client_id[0] != '\0') {
        if (!valid_cloid(call->client_id))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "client id must be a cloid: 0x followed by 32 hex digits");
        a.kind = HL_ACT_CANCEL_CLOID;
        copy_str(a.cloid, sizeof a.cloid, call->client_id);
    } else {
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "cancel needs an order id or a client id");
    }
    return hl_sign_action(hl, &a, &req->body, err);
}

static int build_get_order(struct hl *hl, const struct xgw_call *call, struct xgw_request *req,
                           struct xgw_error *err)
{
    const struct xgw_core_api *core = hl->core;
    int rc = need_user(hl, err);
    if (rc)
        return rc;
    uint64_t oid;
    if (call->order_id[0] != '\0') {
        if (!valid_oid(call->order_id, &oid))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "order id must be a decimal number");
        rc = core->buf_printf(&req->body, "{\"type\":\"orderStatus\",\"user\":\"%s\",\"oid\":%llu}", hl->user,
                              (unsigned long long)oid);
    } else if (call->client_id[0] != '\0') {
        if (!valid_cloid(call->client_id))
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                   "client id must be a cloid: 0x followed by 32 hex digits");
        rc = core->buf_printf(&req->body, "{\"type\":\"orderStatus\",\"user\":\"%s\",\"oid\":\"%s\"}", hl->user,
                              call->client_id);
    } else {
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "get order needs an order id or a client id");
    }
    return rc ? oom(hl, err) : XGW_OK;
}

int hl_build(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
             struct xgw_error *err)
{
    struct hl *hl = self;
    const struct xgw_core_api *core = hl->core;
    bool action = op == XGW_OP_PLACE || op == XGW_OP_CANCEL;
    req->method = XGW_HTTP_POST;
    req->sensitive = false; /* a signature is no credential; the key never leaves the process */
    if (core->buf_printf(&req->target, "%s", action ? "/exchange" : "/info") ||
        core->buf_printf(&req->headers, "Content-Type: application/json\n"))
        return oom(hl, err);
    switch (op) {
    case XGW_OP_PING:
        return core->buf_printf(&req->body, "{\"type\":\"allMids\"}") ? oom(hl, err) : XGW_OK;
    case XGW_OP_TIME:
        return info_coin(hl, req, "l2Book", hl->time_coin, err);
    case XGW_OP_MARKETS:
        return core->buf_printf(&req->body, "{\"type\":\"meta\"}") ? oom(hl, err) : XGW_OK;
    case XGW_OP_TICKER:
    case XGW_OP_DEPTH:
        return info_coin(hl, req, "l2Book", call->symbol, err);
    case XGW_OP_BALANCES:
    case XGW_OP_POSITIONS:
        return info_user(hl, req, "clearinghouseState", err);
    case XGW_OP_OPEN_ORDERS:
        return info_user(hl, req, "openOrders", err);
    case XGW_OP_GET_ORDER:
        return build_get_order(hl, call, req, err);
    case XGW_OP_PLACE:
        return build_place(hl, &call->order, req, err);
    case XGW_OP_CANCEL:
        return build_cancel(hl, call, req, err);
    default:
        return core->set_error(err, XGW_ERR_UNSUPPORTED, 0, "Hyperliquid has no %s operation", op == XGW_OP_WS_TOKEN || op == XGW_OP_WS_TOKEN_KEEPALIVE ? "private-stream token" : "such");
    }
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

int hl_classify_message(struct hl *hl, enum xgw_op op, const char *msg, struct xgw_error *err)
{
    const struct xgw_core_api *core = hl->core;
    enum xgw_err_kind kind;
    unsigned flags = 0;
    if (msg == NULL)
        msg = "";
    if ((has(msg, "does not exist") && (has(msg, "user") || has(msg, "wallet"))) || has(msg, "signature"))
        /* The server recovered an address that has no account: the
         * signature covered other bytes (key order, number text, wrong
         * network source) or the key is not the account's/an approved API
         * wallet. */
        kind = XGW_ERR_AUTH;
    else if (has(msg, "rate limit") || has(msg, "too many"))
        kind = XGW_ERR_RATE_LIMITED;
    else if (has(msg, "nonce"))
        kind = XGW_ERR_CLOCK_SKEW;
    else if (has(msg, "never placed") || has(msg, "already canceled") || has(msg, "unknown order") ||
             has(msg, "order not found") || has(msg, "unknownoid")) {
        kind = XGW_ERR_INVALID_REQUEST;
        flags |= XGW_ERRF_ORDER_NOT_FOUND;
    } else if (has(msg, "insufficient") || has(msg, "margin") || has(msg, "post only") ||
               has(msg, "immediately match") || has(msg, "reduce only") || has(msg, "minimum value") ||
               has(msg, "open interest") || has(msg, "too far"))
        /* business refusals; checked first because their messages end in
         * "asset=N" too */
        kind = XGW_ERR_REJECTED;
    else if (has(msg, "tick") || has(msg, "invalid price") || has(msg, "invalid size") || has(msg, "divisible") ||
             has(msg, "significant") || has(msg, "szdecimals") || has(msg, "invalid asset") ||
             has(msg, "unknown asset") || has(msg, "deserialize") || has(msg, "invalid cloid"))
        kind = XGW_ERR_INVALID_REQUEST;
    else
        kind = op == XGW_OP_PLACE ? XGW_ERR_REJECTED : XGW_ERR_INVALID_REQUEST;
    core->set_error(err, kind, 0, "%s", msg[0] ? msg : "the exchange refused the request without a message");
    if (err != NULL) {
        err->flags |= flags;
        if (kind == XGW_ERR_RATE_LIMITED && err->retry_after_ms == 0)
            err->retry_after_ms = 1000;
    }
    return kind;
}

/* An HTTP-level failure (no usable JSON, or a non-200 status). */
static int http_error(struct hl *hl, enum xgw_op op, const struct xgw_response *resp, const char *body, size_t len,
                      struct xgw_error *err)
{
    const struct xgw_core_api *core = hl->core;
    int status = core->resp_status(resp);
    bool action = op == XGW_OP_PLACE || op == XGW_OP_CANCEL;
    char text[160];
    size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
    memcpy(text, body != NULL ? body : "", body != NULL ? n : 0);
    text[body != NULL ? n : 0] = '\0';
    int kind;
    if (status == 429) {
        kind = core->set_error(err, XGW_ERR_RATE_LIMITED, 0, "rate limited (HTTP 429): %s", text);
        size_t hl_len = 0;
        const char *ra = core->resp_header(resp, "Retry-After", &hl_len);
        int64_t ms = 1000;
        if (ra != NULL && hl_len > 0 && hl_len < 10) {
            int64_t s = 0;
            bool ok = true;
            for (size_t i = 0; i < hl_len; i++) {
                if (ra[i] < '0' || ra[i] > '9')
                    ok = false;
                else
                    s = s * 10 + (ra[i] - '0');
            }
            if (ok)
                ms = s * 1000;
        }
        if (err != NULL)
            err->retry_after_ms = ms;
    } else if (status >= 500 || status == 0) {
        /* An action may have been executed before the server failed. */
        kind = core->set_error(err, action ? XGW_ERR_UNKNOWN_OUTCOME : XGW_ERR_SERVER, 0,
                               "HTTP %d from the exchange%s: %s", status,
                               action ? "; the action may have been executed, check it by cloid" : "", text);
    } else if (status >= 400) {
        kind = action && text[0] ? hl_classify_message(hl, op, text, err)
                                 : core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "HTTP %d: %s", status, text);
    } else {
        kind = core->set_error(err, action ? XGW_ERR_UNKNOWN_OUTCOME : XGW_ERR_PROTOCOL, 0,
                               "unparseable answer (HTTP %d): %s", status, text);
    }
    if (err != NULL) {
        err->http_status = status;
        if (action)
            err->flags |= XGW_ERRF_SENT;
    }
    return kind;
}

static int protocol(struct hl *hl, enum xgw_op op, struct xgw_error *err, const char *what)
{
    bool action = op == XGW_OP_PLACE || op == XGW_OP_CANCEL;
    return hl->core->set_error(err, action ? XGW_ERR_UNKNOWN_OUTCOME : XGW_ERR_PROTOCOL, 0,
                               "unexpected answer from the exchange: %s", what);
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */
/* ------------------------------------------------------------------------ */

enum xgw_order_status hl_order_status(const char *s)
{
    if (s == NULL)
        return XGW_OS_UNKNOWN;
    size_t n = strlen(s);
    if (!strcmp(s, "open") || !strcmp(s, "triggered") || !strcmp(s, "resting"))
        return XGW_OS_NEW;
    if (!strcmp(s, "filled"))
        return XGW_OS_FILLED;
    if (!strcmp(s, "canceled") || (n > 8 && !strcmp(s + n - 8, "Canceled")))
        return XGW_OS_CANCELED;
    if (!strcmp(s, "rejected") || (n > 8 && !strcmp(s + n - 8, "Rejected")))
        return XGW_OS_REJECTED;
    return XGW_OS_UNKNOWN;
}

int hl_parse_order(const struct hl *hl, const cJSON *obj, const char *status, struct xgw_order *o)
{
    const struct xgw_core_api *core = hl->core;
    memset(o, 0, sizeof *o);
    if (!cJSON_IsObject(obj))
        return -1;
    const char *coin = jstr(obj, "coin");
    if (coin == NULL)
        return -1;
    copy_str(o->symbol, sizeof o->symbol, coin);
    int64_t oid;
    if (pj_i64(cJSON_GetObjectItemCaseSensitive(obj, "oid"), &oid) != 0)
        return -1;
    snprintf(o->order_id, sizeof o->order_id, "%lld", (long long)oid);
    copy_str(o->client_id, sizeof o->client_id, jstr(obj, "cloid"));
    const char *side = jstr(obj, "side");
    o->side = side == NULL ? XGW_SIDE_NONE : !strcmp(side, "B") ? XGW_SIDE_BUY : !strcmp(side, "A") ? XGW_SIDE_SELL
                                                                                                   : XGW_SIDE_NONE;
    xgw_dec remaining, orig;
    if (pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(obj, "limitPx"), &o->price) != 0 ||
        pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(obj, "sz"), &remaining) != 0 ||
        pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(obj, "origSz"), &orig) != 0)
        return -1;
    o->avg_price = xgw_dec_none();
    if (!xgw_dec_is_none(orig)) {
        o->qty = orig;
        if (xgw_dec_is_none(remaining) || core->dec_sub(orig, remaining, &o->filled_qty) != 0)
            o->filled_qty = xgw_dec_none();
    } else {
        o->qty = remaining;
        o->filled_qty = xgw_dec_none();
    }
    const char *ot = jstr(obj, "orderType");
    o->type = ot != NULL && has(ot, "market") ? XGW_TYPE_MARKET : XGW_TYPE_LIMIT;
    const char *tif = jstr(obj, "tif");
    o->tif = tif == NULL ? XGW_TIF_DEFAULT
             : !strcmp(tif, "Gtc") ? XGW_TIF_GTC
             : !strcmp(tif, "Ioc") ? XGW_TIF_IOC
             : !strcmp(tif, "Alo") ? XGW_TIF_POST_ONLY
                                   : XGW_TIF_DEFAULT;
    o->reduce_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "reduceOnly"));
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(obj, "timestamp");
    if (ts != NULL && pj_i64(ts, &o->ts_ms) != 0)
        return -1;
    const char *st = status != NULL ? status : "open";
    copy_str(o->status_raw, sizeof o->status_raw, st);
    o->status = hl_order_status(st);
    if (o->status == XGW_OS_NEW && !xgw_dec_is_none(o->filled_qty) && o->filled_qty.mant > 0)
        o->status = XGW_OS_PARTIALLY_FILLED;
    return 0;
}

static int emit(struct hl *hl, struct xgw_sink *out, enum xgw_rec type, const void *rec, struct xgw_error *err)
{
    if (hl->core->emit(out, type, rec) != 0)
        return hl->core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while collecting results");
    return XGW_OK;
}

static int parse_level(const struct hl *hl, const cJSON *lv, struct xgw_level *out)
{
    if (!cJSON_IsObject(lv) ||
        pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(lv, "px"), &out->price) != 0 ||
        pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(lv, "sz"), &out->qty) != 0 ||
        xgw_dec_is_none(out->price) || xgw_dec_is_none(out->qty))
        return -1;
    return 0;
}

int hl_emit_book(struct hl *hl, const cJSON *obj, uint32_t limit, struct xgw_sink *out, struct xgw_error *err)
{
    const char *coin = jstr(obj, "coin");
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(obj, "levels");
    if (coin == NULL || !cJSON_IsArray(levels) || cJSON_GetArraySize(levels) != 2)
        return protocol(hl, XGW_OP_DEPTH, err, "l2Book without coin or two level lists");
    struct xgw_book_info bi;
    memset(&bi, 0, sizeof bi);
    copy_str(bi.symbol, sizeof bi.symbol, coin);
    bi.snapshot = true;
    bi.prev_seq = -1;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "time");
    if (t != NULL && pj_i64(t, &bi.ts_ms) != 0)
        return protocol(hl, XGW_OP_DEPTH, err, "l2Book time is not an integer");
    bi.seq = bi.ts_ms; /* snapshots carry no sequence; their time orders them */
    int rc = emit(hl, out, XGW_REC_BOOK, &bi, err);
    struct xgw_level best[2];
    bool have[2] = {false, false};
    for (int side = 0; side < 2 && rc == 0; side++) {
        const cJSON *list = cJSON_GetArrayItem(levels, side);
        if (!cJSON_IsArray(list))
            return protocol(hl, XGW_OP_DEPTH, err, "l2Book level list is not an array");
        uint32_t i = 0;
        const cJSON *lv;
        cJSON_ArrayForEach(lv, list)
        {
            if (limit != 0 && i >= limit)
                break;
            struct xgw_level l;
            if (parse_level(hl, lv, &l) != 0)
                return protocol(hl, XGW_OP_DEPTH, err, "malformed l2Book level");
            if (i == 0) {
                best[side] = l;
                have[side] = true;
            }
            rc = emit(hl, out, side == 0 ? XGW_REC_BID : XGW_REC_ASK, &l, err);
            if (rc)
                return rc;
            i++;
        }
    }
    xgw_dec mid;
    if (rc == 0 && have[0] && have[1] && mid_of(hl->core, best[0].price, best[1].price, &mid) == 0)
        hl_mid_put(hl, coin, mid);
    return rc;
}

static int parse_ticker(struct hl *hl, const cJSON *root, struct xgw_sink *out, struct xgw_error *err)
{
    const char *coin = jstr(root, "coin");
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(root, "levels");
    if (coin == NULL || !cJSON_IsArray(levels) || cJSON_GetArraySize(levels) != 2)
        return protocol(hl, XGW_OP_TICKER, err, "l2Book without coin or two level lists");
    struct xgw_ticker t;
    memset(&t, 0, sizeof t);
    copy_str(t.symbol, sizeof t.symbol, coin);
    t.bid = t.bid_qty = t.ask = t.ask_qty = t.last = xgw_dec_none();
    const cJSON *tm = cJSON_GetObjectItemCaseSensitive(root, "time");
    if (tm != NULL && pj_i64(tm, &t.ts_ms) != 0)
        return protocol(hl, XGW_OP_TICKER, err, "l2Book time is not an integer");
    for (int side = 0; side < 2; side++) {
        const cJSON *list = cJSON_GetArrayItem(levels, side);
        if (!cJSON_IsArray(list))
            return protocol(hl, XGW_OP_TICKER, err, "l2Book level list is not an array");
        const cJSON *first = cJSON_GetArrayItem(list, 0);
        if (first == NULL)
            continue;
        struct xgw_level l;
        if (parse_level(hl, first, &l) != 0)
            return protocol(hl, XGW_OP_TICKER, err, "malformed l2Book level");
        if (side == 0) {
            t.bid = l.price;
            t.bid_qty = l.qty;
        } else {
            t.ask = l.price;
            t.ask_qty = l.qty;
        }
    }
    xgw_dec mid;
    if (mid_of(hl->core, t.bid, t.ask, &mid) == 0)
        hl_mid_put(hl, coin, mid);
    return emit(hl, out, XGW_REC_TICKER, &t, err);
}

static xgw_dec pow10_neg(int n)
{
    xgw_dec d = {1, n};
    return d;
}

static int parse_markets(struct hl *hl, const cJSON *root, struct xgw_sink *out, struct xgw_error *err)
{
    const cJSON *uni = cJSON_GetObjectItemCaseSensitive(root, "universe");
    if (!cJSON_IsArray(uni))
        return protocol(hl, XGW_OP_MARKETS, err, "meta without universe");
    int64_t idx = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, uni)
    {
        const char *name = jstr(a, "name");
        int64_t szd;
        if (name == NULL || pj_i64(cJSON_GetObjectItemCaseSensitive(a, "szDecimals"), &szd) != 0 || szd < 0 ||
            szd > 8)
            return protocol(hl, XGW_OP_MARKETS, err, "meta asset without name or a valid szDecimals");
        struct xgw_market m;
        memset(&m, 0, sizeof m);
        copy_str(m.symbol, sizeof m.symbol, name);
        copy_str(m.base, sizeof m.base, name);
        copy_str(m.quote, sizeof m.quote, "USDC");
        int pd = 6 - (int)szd;
        if (pd < 0)
            pd = 0;
        /* The finest tick; prices above 5 significant figures need coarser
         * ones (hl_wire_price enforces both rules). */
        m.tick_size = pow10_neg(pd);
        m.step_size = pow10_neg((int)szd);
        m.min_qty = m.step_size;
        m.min_notional = (xgw_dec){10, 0}; /* the exchange's $10 minimum order value */
        m.market_step_size = xgw_dec_none();
        m.price_decimals = pd;
        m.qty_decimals = (int32_t)szd;
        m.index = idx;
        bool delisted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "isDelisted"));
        m.status = delisted ? XGW_MKT_CLOSED : XGW_MKT_TRADING;
        copy_str(m.status_raw, sizeof m.status_raw, delisted ? "delisted" : "listed");
        int rc = emit(hl, out, XGW_REC_MARKET, &m, err);
        if (rc)
            return rc;
        idx++;
    }
    return XGW_OK;
}

static int parse_balances(struct hl *hl, const cJSON *root, struct xgw_sink *out, struct xgw_error *err)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(root, "marginSummary");
    struct xgw_balance b;
    memset(&b, 0, sizeof b);
    copy_str(b.asset, sizeof b.asset, "USDC");
    if (!cJSON_IsObject(ms) ||
        pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(ms, "accountValue"), &b.total) != 0 ||
        pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(root, "withdrawable"), &b.available) != 0 ||
        xgw_dec_is_none(b.total))
        return protocol(hl, XGW_OP_BALANCES, err, "clearinghouseState without marginSummary.accountValue");
    return emit(hl, out, XGW_REC_BALANCE, &b, err);
}

static int parse_positions(struct hl *hl, const cJSON *root, struct xgw_sink *out, struct xgw_error *err)
{
    const cJSON *aps = cJSON_GetObjectItemCaseSensitive(root, "assetPositions");
    if (!cJSON_IsArray(aps))
        return protocol(hl, XGW_OP_POSITIONS, err, "clearinghouseState without assetPositions");
    const cJSON *ap;
    cJSON_ArrayForEach(ap, aps)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(ap, "position");
        const char *coin = jstr(p, "coin");
        struct xgw_position pos;
        memset(&pos, 0, sizeof pos);
        xgw_dec szi;
        if (coin == NULL || pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(p, "szi"), &szi) != 0 ||
            xgw_dec_is_none(szi) ||
            pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(p, "entryPx"), &pos.entry_price) != 0 ||
            pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(p, "unrealizedPnl"), &pos.unrealized_pnl) != 0)
            return protocol(hl, XGW_OP_POSITIONS, err, "malformed position");
        if (szi.mant == 0)
            continue;
        copy_str(pos.symbol, sizeof pos.symbol, coin);
        pos.side = szi.mant > 0 ? XGW_POS_LONG : XGW_POS_SHORT;
        pos.size = szi;
        if (pos.size.mant < 0)
            pos.size.mant = -pos.size.mant;
        /* clearinghouseState has no mark price (positionValue / |szi| would
         * be an inexact division). */
        pos.mark_price = xgw_dec_none();
        pos.leverage = xgw_dec_none();
        const cJSON *lev = cJSON_GetObjectItemCaseSensitive(p, "leverage");
        int64_t lv;
        if (cJSON_IsObject(lev) && pj_i64(cJSON_GetObjectItemCaseSensitive(lev, "value"), &lv) == 0)
            pos.leverage = (xgw_dec){lv, 0};
        int rc = emit(hl, out, XGW_REC_POSITION, &pos, err);
        if (rc)
            return rc;
    }
    return XGW_OK;
}

static int parse_open_orders(struct hl *hl, const struct xgw_call *call, const cJSON *root, struct xgw_sink *out,
                             struct xgw_error *err)
{
    if (!cJSON_IsArray(root))
        return protocol(hl, XGW_OP_OPEN_ORDERS, err, "openOrders is not an array");
    const cJSON *o;
    cJSON_ArrayForEach(o, root)
    {
        struct xgw_order ord;
        if (hl_parse_order(hl, o, "open", &ord) != 0)
            return protocol(hl, XGW_OP_OPEN_ORDERS, err, "malformed open order");
        if (call != NULL && call->symbol[0] != '\0' && strcmp(call->symbol, ord.symbol) != 0)
            continue;
        int rc = emit(hl, out, XGW_REC_ORDER, &ord, err);
        if (rc)
            return rc;
    }
    return XGW_OK;
}

static int parse_order_status(struct hl *hl, const cJSON *root, struct xgw_sink *out, struct xgw_error *err)
{
    const char *st = jstr(root, "status");
    if (st == NULL)
        return protocol(hl, XGW_OP_GET_ORDER, err, "orderStatus without status");
    if (strcmp(st, "order") != 0) {
        int kind = hl->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "order not found (%s)", st);
        if (err != NULL)
            err->flags |= XGW_ERRF_ORDER_NOT_FOUND;
        return kind;
    }
    const cJSON *wrap = cJSON_GetObjectItemCaseSensitive(root, "order");
    struct xgw_order o;
    if (!cJSON_IsObject(wrap) ||
        hl_parse_order(hl, cJSON_GetObjectItemCaseSensitive(wrap, "order"), jstr(wrap, "status"), &o) != 0)
        return protocol(hl, XGW_OP_GET_ORDER, err, "malformed orderStatus");
    int64_t sts;
    if (pj_i64(cJSON_GetObjectItemCaseSensitive(wrap, "statusTimestamp"), &sts) == 0)
        o.ts_ms = sts;
    return emit(hl, out, XGW_REC_ORDER, &o, err);
}

/* The order as the caller placed it, for PLACE/CANCEL results. */
static void order_from_call(enum xgw_op op, const struct xgw_call *call, struct xgw_order *o)
{
    memset(o, 0, sizeof *o);
    o->price = o->qty = o->filled_qty = o->avg_price = xgw_dec_none();
    if (op == XGW_OP_PLACE) {
        const struct xgw_order_req *r = &call->order;
        copy_str(o->symbol, sizeof o->symbol, r->symbol);
        copy_str(o->client_id, sizeof o->client_id, r->client_id);
        o->side = r->side;
        o->type = r->type == XGW_TYPE_NONE ? XGW_TYPE_LIMIT : r->type;
        o->tif = r->type == XGW_TYPE_MARKET ? XGW_TIF_IOC : r->tif == XGW_TIF_DEFAULT ? XGW_TIF_GTC : r->tif;
        o->reduce_only = r->reduce_only;
        o->price = r->price;
        o->qty = r->qty;
    } else {
        copy_str(o->symbol, sizeof o->symbol, call->symbol);
        copy_str(o->order_id, sizeof o->order_id, call->order_id);
        copy_str(o->client_id, sizeof o->client_id, call->client_id);
    }
}

static int parse_action(struct hl *hl, enum xgw_op op, const struct xgw_call *call, const cJSON *root,
                        struct xgw_sink *out, struct xgw_error *err)
{
    const char *st = jstr(root, "status");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(root, "response");
    if (st == NULL)
        return protocol(hl, op, err, "no status in the /exchange answer");
    if (strcmp(st, "ok") != 0) {
        /* "err": the action was refused as a whole and not executed. */
        return hl_classify_message(hl, op, cJSON_IsString(resp) ? resp->valuestring : st, err);
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(resp, "data");
    const cJSON *statuses = cJSON_GetObjectItemCaseSensitive(data, "statuses");
    const cJSON *s0 = cJSON_GetArrayItem(statuses, 0);
    if (!cJSON_IsArray(statuses) || s0 == NULL)
        return protocol(hl, op, err, "no statuses in the /exchange answer");
    struct xgw_order o;
    order_from_call(op, call, &o);
    if (cJSON_IsObject(s0)) {
        const char *e = jstr(s0, "error");
        if (e != NULL)
            return hl_classify_message(hl, op, e, err);
    }
    if (op == XGW_OP_CANCEL) {
        if (!cJSON_IsString(s0) || strcmp(s0->valuestring, "success") != 0)
            return protocol(hl, op, err, "cancel status is neither success nor error");
        o.status = XGW_OS_CANCELED;
        copy_str(o.status_raw, sizeof o.status_raw, "canceled");
        return emit(hl, out, XGW_REC_ORDER, &o, err);
    }
    const cJSON *resting = cJSON_GetObjectItemCaseSensitive(s0, "resting");
    const cJSON *filled = cJSON_GetObjectItemCaseSensitive(s0, "filled");
    const cJSON *body = resting != NULL ? resting : filled;
    int64_t oid;
    if (body == NULL) {
        if (cJSON_IsString(s0) && (!strcmp(s0->valuestring, "waitingForFill") ||
                                   !strcmp(s0->valuestring, "waitingForTrigger"))) {
            o.status = XGW_OS_NEW;
            copy_str(o.status_raw, sizeof o.status_raw, s0->valuestring);
            return emit(hl, out, XGW_REC_ORDER, &o, err);
        }
        return protocol(hl, op, err, "order status is neither resting, filled nor error");
    }
    if (pj_i64(cJSON_GetObjectItemCaseSensitive(body, "oid"), &oid) != 0)
        return protocol(hl, op, err, "order status without oid");
    snprintf(o.order_id, sizeof o.order_id, "%lld", (long long)oid);
    const char *cl = jstr(body, "cloid");
    if (cl != NULL)
        copy_str(o.client_id, sizeof o.client_id, cl);
    if (resting != NULL) {
        o.status = XGW_OS_NEW;
        copy_str(o.status_raw, sizeof o.status_raw, "resting");
        o.filled_qty = (xgw_dec){0, 0};
    } else {
        copy_str(o.status_raw, sizeof o.status_raw, "filled");
        if (pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(body, "totalSz"), &o.filled_qty) != 0 ||
            pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(body, "avgPx"), &o.avg_price) != 0)
            return protocol(hl, op, err, "malformed filled status");
        bool full = xgw_dec_is_none(o.qty) || xgw_dec_is_none(o.filled_qty) ||
                    hl->core->dec_cmp(o.filled_qty, o.qty) >= 0;
        /* A partial fill of an Ioc (or market) order ends the order; of a
         * Gtc/Alo order leaves the rest resting. */
        o.status = full ? XGW_OS_FILLED : o.tif == XGW_TIF_IOC ? XGW_OS_CANCELED : XGW_OS_PARTIALLY_FILLED;
    }
    return emit(hl, out, XGW_REC_ORDER, &o, err);
}

int hl_parse(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
             struct xgw_sink *out, struct xgw_error *err)
{
    struct hl *hl = self;
    const struct xgw_core_api *core = hl->core;
    size_t len = 0;
    const char *body = core->resp_body(resp, &len);
    int status = core->resp_status(resp);
    if (status != 200)
        return http_error(hl, op, resp, body, len, err);
    cJSON *root = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
    if (root == NULL)
        return http_error(hl, op, resp, body, len, err);
    int rc;
    switch (op) {
    case XGW_OP_PING:
        rc = cJSON_IsObject(root) ? XGW_OK : protocol(hl, op, err, "allMids is not an object");
        break;
    case XGW_OP_TIME: {
        int64_t t;
        rc = pj_i64(cJSON_GetObjectItemCaseSensitive(root, "time"), &t) == 0 && t > 0
                 ? emit(hl, out, XGW_REC_TIME, &t, err)
                 : protocol(hl, op, err, "l2Book without a time");
        break;
    }
    case XGW_OP_MARKETS: rc = parse_markets(hl, root, out, err); break;
    case XGW_OP_TICKER: rc = parse_ticker(hl, root, out, err); break;
    case XGW_OP_DEPTH: rc = hl_emit_book(hl, root, call != NULL ? call->limit : 0, out, err); break;
    case XGW_OP_BALANCES: rc = parse_balances(hl, root, out, err); break;
    case XGW_OP_POSITIONS: rc = parse_positions(hl, root, out, err); break;
    case XGW_OP_OPEN_ORDERS: rc = parse_open_orders(hl, call, root, out, err); break;
    case XGW_OP_GET_ORDER: rc = parse_order_status(hl, root, out, err); break;
    case XGW_OP_PLACE:
    case XGW_OP_CANCEL: rc = parse_action(hl, op, call, root, out, err); break;
    default: rc = core->set_error(err, XGW_ERR_UNSUPPORTED, 0, "operation not supported by Hyperliquid"); break;
    }
    cJSON_Delete(root);
    if (rc != XGW_OK && err != NULL && err->http_status == 0)
        err->http_status = status;
    return rc;
}

void hl_cost(void *self, enum xgw_op op, const struct xgw_call *call, uint32_t *costs)
{
    (void)self;
    (void)call;
    switch (op) {
    case XGW_OP_PLACE:
    case XGW_OP_CANCEL: costs[HL_RL_WEIGHT_1M] = W_ACTION; break;
    case XGW_OP_MARKETS:
    case XGW_OP_OPEN_ORDERS: costs[HL_RL_WEIGHT_1M] = W_INFO_HEAVY; break;
    case XGW_OP_PING:
    case XGW_OP_TIME:
    case XGW_OP_TICKER:
    case XGW_OP_DEPTH:
    case XGW_OP_BALANCES:
    case XGW_OP_POSITIONS:
    case XGW_OP_GET_ORDER: costs[HL_RL_WEIGHT_1M] = W_INFO_LIGHT; break;
    default: break;
    }
}
