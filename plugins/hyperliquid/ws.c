/*
 * Hyperliquid WebSocket (wss://<host>/ws): one socket carries public and
 * account subscriptions; each subscribe message names one subscription,
 * and the ack ({"channel":"subscriptionResponse","data":{method,
 * subscription}}) echoes it without an id, so the core's id is kept per
 * subscription key and found again from the echo.
 *
 * Channels: ticker = bbo (best bid/offer with sizes), trades = trades,
 * book = l2Book (a full snapshot per message), orders = orderUpdates for the
 * account address. Heartbeat: {"method":"ping"} → {"channel":"pong"}; the
 * server closes a connection silent for 60 s.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl.h"

int hl_ws_path(void *self, bool private_, const char *token, struct xgw_buf *out, struct xgw_error *err)
{
    struct hl *hl = self;
    (void)private_;
    (void)token;
    if (hl->core->buf_printf(out, "/ws"))
        return hl->core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
    return XGW_OK;
}

int hl_ws_login_msg(void *self, uint64_t id, struct xgw_buf *out, struct xgw_error *err)
{
    (void)self;
    (void)id;
    (void)out;
    (void)err;
    return XGW_OK; /* account channels are public by address: no login */
}

int hl_ws_ping_msg(void *self, struct xgw_buf *out)
{
    struct hl *hl = self;
    return hl->core->buf_printf(out, "{\"method\":\"ping\"}") ? XGW_ERR_INTERNAL : XGW_OK;
}

/* "subscribe|l2book|btc": method, type and coin or user, lowercased
 * because the server may echo an address in another case. */
static void sub_key(char *key, size_t cap, const char *method, const char *type, const char *arg)
{
    snprintf(key, cap, "%s|%s|%s", method, type, arg != NULL ? arg : "");
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static int remember(struct hl *hl, const char *key, uint64_t id)
{
    for (size_t i = 0; i < hl->n_subids; i++) {
        if (strcmp(hl->subids[i].key, key) == 0) {
            hl->subids[i].id = id;
            return 0;
        }
    }
    if (hl->n_subids == hl->cap_subids) {
        size_t cap = hl->cap_subids ? hl->cap_subids * 2 : 16;
        struct hl_subid *p = realloc(hl->subids, cap * sizeof *p);
        if (p == NULL)
            return -1;
        hl->subids = p;
        hl->cap_subids = cap;
    }
    snprintf(hl->subids[hl->n_subids].key, sizeof hl->subids[0].key, "%s", key);
    hl->subids[hl->n_subids].id = id;
    hl->n_subids++;
    return 0;
}

/* The id sent with key, forgotten once acknowledged; 0 when unknown. */
static uint64_t take_id(struct hl *hl, const char *key)
{
    for (size_t i = 0; i < hl->n_subids; i++) {
        if (strcmp(hl->subids[i].key, key) == 0) {
            uint64_t id = hl->subids[i].id;
            hl->subids[i] = hl->subids[--hl->n_subids];
            return id;
        }
    }
    return 0;
}

int hl_ws_sub_msg(void *self, bool subscribe, const struct xgw_ws_sub *subs, size_t n, uint64_t id,
                  struct xgw_buf *out, struct xgw_error *err)
{
    struct hl *hl = self;
    const struct xgw_core_api *core = hl->core;
    if (n != 1)
        return core->set_error(err, XGW_ERR_UNSUPPORTED, 0,
                               "Hyperliquid takes one subscription per message (asked for %zu)", n);
    const struct xgw_ws_sub *s = &subs[0];
    const char *type;
    const char *arg;
    bool by_user = false;
    switch (s->channel) {
    case XGW_CH_TICKER: type = "bbo"; break;
    case XGW_CH_TRADES: type = "trades"; break;
    case XGW_CH_BOOK: type = "l2Book"; break;
    case XGW_CH_ORDERS:
        type = "orderUpdates";
        by_user = true;
        break;
    default: return core->set_error(err, XGW_ERR_UNSUPPORTED, 0, "unknown stream channel");
    }
    if (by_user) {
        if (hl->user[0] == '\0')
            return core->set_error(err, XGW_ERR_AUTH, 0,
                                   "the orders stream needs an account: set private_key or account_address");
        arg = hl->user;
    } else {
        if (s->symbol[0] == '\0')
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "a symbol (coin) is required for %s", type);
        arg = s->symbol;
    }
    const char *method = subscribe ? "subscribe" : "unsubscribe";
    int rc = core->buf_printf(out, "{\"method\":\"%s\",\"subscription\":{\"type\":\"%s\",\"%s\":", method, type,
                              by_user ? "user" : "coin");
    rc = rc ? rc : core->buf_json_str(out, arg, strlen(arg));
    rc = rc ? rc : core->buf_printf(out, "}}");
    char key[96];
    sub_key(key, sizeof key, method, type, arg);
    if (rc || remember(hl, key, id) != 0)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
    return XGW_OK;
}

/* ------------------------------------------------------------------------ */

static const char *jstr(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static int bad(struct hl *hl, struct xgw_error *err, const char *what)
{
    return hl->core->set_error(err, XGW_ERR_PROTOCOL, 0, "unexpected stream frame: %s", what);
}

static int emit(struct hl *hl, struct xgw_sink *out, enum xgw_rec type, const void *rec, struct xgw_error *err)
{
    if (hl->core->emit(out, type, rec) != 0)
        return hl->core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while collecting stream records");
    return XGW_OK;
}

static int ack(struct hl *hl, const cJSON *data, bool ok, const char *msg, struct xgw_sink *out,
               struct xgw_error *err)
{
    struct xgw_ws_ack a;
    memset(&a, 0, sizeof a);
    a.ok = ok;
    snprintf(a.message, sizeof a.message, "%s", msg != NULL ? msg : "");
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(data, "subscription");
    const char *method = jstr(data, "method");
    if (cJSON_IsObject(sub)) {
        const char *type = jstr(sub, "type");
        const char *arg = jstr(sub, "coin");
        if (arg == NULL)
            arg = jstr(sub, "user");
        char key[96];
        if (type != NULL) {
            sub_key(key, sizeof key, method != NULL ? method : "subscribe", type, arg);
            a.id = take_id(hl, key);
        }
    }
    return emit(hl, out, XGW_REC_WS_ACK, &a, err);
}

/* {"channel":"error","data":"<text>"}: the text often quotes the request
 * JSON; when it does, the subscription's id is recovered from it. */
static int error_frame(struct hl *hl, const cJSON *data, struct xgw_sink *out, struct xgw_error *err)
{
    const char *text = cJSON_IsString(data) ? data->valuestring : "error";
    const char *brace = strchr(text, '{');
    cJSON *req = brace != NULL ? cJSON_Parse(brace) : NULL;
    int rc;
    if (req != NULL && cJSON_GetObjectItemCaseSensitive(req, "subscription") != NULL) {
        rc = ack(hl, req, false, text, out, err);
    } else if (req != NULL && jstr(req, "type") != NULL) {
        cJSON *wrap = cJSON_CreateObject();
        if (wrap == NULL) {
            cJSON_Delete(req);
            return hl->core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
        }
        cJSON_AddItemReferenceToObject(wrap, "subscription", req);
        rc = ack(hl, wrap, false, text, out, err);
        cJSON_Delete(wrap);
    } else {
        rc = ack(hl, NULL, false, text, out, err);
    }
    cJSON_Delete(req);
    return rc;
}

static int trades(struct hl *hl, const cJSON *data, struct xgw_sink *out, struct xgw_error *err)
{
    if (!cJSON_IsArray(data))
        return bad(hl, err, "trades data is not an array");
    const cJSON *t;
    cJSON_ArrayForEach(t, data)
    {
        struct xgw_trade tr;
        memset(&tr, 0, sizeof tr);
        const char *coin = jstr(t, "coin");
        const char *side = jstr(t, "side");
        int64_t tid;
        if (coin == NULL || pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(t, "px"), &tr.price) != 0 ||
            pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(t, "sz"), &tr.qty) != 0 ||
            xgw_dec_is_none(tr.price) || xgw_dec_is_none(tr.qty) ||
            pj_i64(cJSON_GetObjectItemCaseSensitive(t, "time"), &tr.ts_ms) != 0)
            return bad(hl, err, "malformed trade");
        snprintf(tr.symbol, sizeof tr.symbol, "%s", coin);
        if (pj_i64(cJSON_GetObjectItemCaseSensitive(t, "tid"), &tid) == 0)
            snprintf(tr.trade_id, sizeof tr.trade_id, "%lld", (long long)tid);
        /* side is the aggressor's: B = buy, A = sell */
        tr.side = side == NULL ? XGW_SIDE_NONE : !strcmp(side, "B") ? XGW_SIDE_BUY
                                             : !strcmp(side, "A")   ? XGW_SIDE_SELL
                                                                    : XGW_SIDE_NONE;
        int rc = emit(hl, out, XGW_REC_TRADE, &tr, err);
        if (rc)
            return rc;
    }
    return XGW_OK;
}

static int bbo(struct hl *hl, const cJSON *data, struct xgw_sink *out, struct xgw_error *err)
{
    const char *coin = jstr(data, "coin");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(data, "bbo");
    if (coin == NULL || !cJSON_IsArray(b) || cJSON_GetArraySize(b) != 2)
        return bad(hl, err, "bbo without coin or two levels");
    struct xgw_ticker t;
    memset(&t, 0, sizeof t);
    snprintf(t.symbol, sizeof t.symbol, "%s", coin);
    t.bid = t.bid_qty = t.ask = t.ask_qty = t.last = xgw_dec_none();
    const cJSON *tm = cJSON_GetObjectItemCaseSensitive(data, "time");
    if (tm != NULL && pj_i64(tm, &t.ts_ms) != 0)
        return bad(hl, err, "bbo time is not an integer");
    for (int i = 0; i < 2; i++) {
        const cJSON *lv = cJSON_GetArrayItem(b, i);
        if (lv == NULL || cJSON_IsNull(lv))
            continue; /* an empty side */
        xgw_dec px, sz;
        if (pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(lv, "px"), &px) != 0 ||
            pj_dec(hl->core, cJSON_GetObjectItemCaseSensitive(lv, "sz"), &sz) != 0 || xgw_dec_is_none(px))
            return bad(hl, err, "malformed bbo level");
        if (i == 0) {
            t.bid = px;
            t.bid_qty = sz;
        } else {
            t.ask = px;
            t.ask_qty = sz;
        }
    }
    xgw_dec s;
    if (!xgw_dec_is_none(t.bid) && !xgw_dec_is_none(t.ask) && hl->core->dec_add(t.bid, t.ask, &s) == 0) {
        s = hl->core->dec_normalize(s);
        if (s.scale < XGW_DEC_MAX_SCALE && s.mant <= INT64_MAX / 5) {
            s.mant *= 5;
            s.scale++;
            hl_mid_put(hl, coin, hl->core->dec_normalize(s));
        }
    }
    return emit(hl, out, XGW_REC_TICKER, &t, err);
}

static int all_mids(struct hl *hl, const cJSON *data, struct xgw_error *err)
{
    const cJSON *mids = cJSON_GetObjectItemCaseSensitive(data, "mids");
    if (!cJSON_IsObject(mids))
        return bad(hl, err, "allMids without mids");
    const cJSON *m;
    cJSON_ArrayForEach(m, mids)
    {
        xgw_dec d;
        if (m->string != NULL && pj_dec(hl->core, m, &d) == 0)
            hl_mid_put(hl, m->string, d);
    }
    return XGW_OK;
}

static int order_updates(struct hl *hl, const cJSON *data, struct xgw_sink *out, struct xgw_error *err)
{
    if (!cJSON_IsArray(data))
        return bad(hl, err, "orderUpdates data is not an array");
    const cJSON *u;
    cJSON_ArrayForEach(u, data)
    {
        struct xgw_order o;
        if (hl_parse_order(hl, cJSON_GetObjectItemCaseSensitive(u, "order"), jstr(u, "status"), &o) != 0)
            return bad(hl, err, "malformed order update");
        int64_t ts;
        if (pj_i64(cJSON_GetObjectItemCaseSensitive(u, "statusTimestamp"), &ts) == 0)
            o.ts_ms = ts;
        int rc = emit(hl, out, XGW_REC_ORDER, &o, err);
        if (rc)
            return rc;
    }
    return XGW_OK;
}

int hl_ws_parse(void *self, const char *frame, size_t len, struct xgw_sink *out, struct xgw_error *err)
{
    struct hl *hl = self;
    cJSON *root = cJSON_ParseWithLength(frame, len);
    if (root == NULL)
        return bad(hl, err, "not JSON");
    const char *ch = jstr(root, "channel");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    int rc = XGW_OK;
    if (ch == NULL)
        rc = XGW_OK; /* valid but not ours (e.g. a bare echo) */
    else if (!strcmp(ch, "pong"))
        rc = emit(hl, out, XGW_REC_WS_PONG, NULL, err);
    else if (!strcmp(ch, "subscriptionResponse"))
        rc = ack(hl, data, true, NULL, out, err);
    else if (!strcmp(ch, "error"))
        rc = error_frame(hl, data, out, err);
    else if (!strcmp(ch, "l2Book"))
        rc = cJSON_IsObject(data) ? hl_emit_book(hl, data, 0, out, err) : bad(hl, err, "l2Book without data");
    else if (!strcmp(ch, "trades"))
        rc = trades(hl, data, out, err);
    else if (!strcmp(ch, "bbo"))
        rc = bbo(hl, data, out, err);
    else if (!strcmp(ch, "allMids"))
        rc = all_mids(hl, data, err);
    else if (!strcmp(ch, "orderUpdates"))
        rc = order_updates(hl, data, out, err);
    /* other channels (userFills, post answers, notifications) emit nothing */
    cJSON_Delete(root);
    return rc;
}
