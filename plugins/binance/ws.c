/*
 * Binance USDⓈ-M WebSocket streams (reference §1.2, §6, §8).
 *
 * Public data uses combined-stream connections ("/stream", events wrapped
 * as {"stream":..,"data":..}) with live SUBSCRIBE/UNSUBSCRIBE; the account
 * uses "/ws/<listenKey>". Since 2026-04-23 the real exchange serves streams
 * only on routed paths: best bid/ask and depth on /public, trades and
 * tickers on /market, the user stream on /private (§1.2). With ws_routed
 * (the default) ws_route() tells the core which route a subscription needs
 * and the private path carries /private; with ws_routed = false the legacy
 * unrouted paths are used (older servers, the mock exchange).
 *
 * Heartbeats: the server pings every 3 minutes and the core's WebSocket
 * layer answers with a pong echoing the payload, so there is no JSON ping.
 */
#include <stdio.h>
#include <string.h>

#include "binance.h"

static int ws_oom(struct bn *bn, struct xgw_error *err)
{
    return bn->core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while building a stream message");
}

int bn_ws_path(void *self, bool private_, const char *token, struct xgw_buf *out, struct xgw_error *err)
{
    struct bn *bn = self;
    const struct xgw_core_api *core = bn->core;
    if (!private_)
        return core->buf_printf(out, "/stream") == 0 ? XGW_OK : ws_oom(bn, err);
    if (token == NULL || token[0] == '\0')
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "the binance user stream needs a listenKey");
    /* listenKeys are alphanumeric; anything else must not reach a URL path. */
    for (const char *c = token; *c != '\0'; c++) {
        bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9');
        if (!ok)
            return core->set_error(err, XGW_ERR_PROTOCOL, 0, "listenKey contains unexpected characters");
    }
    if (core->buf_printf(out, "%s/ws/%s", bn->ws_routed ? "/private" : "", token) != 0)
        return ws_oom(bn, err);
    return XGW_OK;
}

int bn_ws_route(void *self, const struct xgw_ws_sub *sub, struct xgw_buf *out, struct xgw_error *err)
{
    struct bn *bn = self;
    const char *route = NULL;
    if (!bn->ws_routed)
        return XGW_OK;
    switch (sub->channel) {
    case XGW_CH_TICKER: /* part 0 @bookTicker on /public, part 1 @ticker on /market */
        route = sub->part == 0 ? "/public" : "/market";
        break;
    case XGW_CH_BOOK: /* @depth@100ms */
        route = "/public";
        break;
    case XGW_CH_TRADES: /* @aggTrade */
        route = "/market";
        break;
    case XGW_CH_ORDERS:
        return XGW_OK; /* private: ws_path carries /private */
    }
    if (route == NULL)
        return bn->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "unknown stream channel %d", (int)sub->channel);
    return bn->core->buf_printf(out, "%s", route) == 0 ? XGW_OK : ws_oom(bn, err);
}

/* "<lowercase symbol>@<suffix>" as a JSON string. Stream names use
 * lowercase symbols (§1.2); non-ASCII bytes (Chinese symbols) pass as is.
 * A ticker is two streams (ws_ticker_parts): best bid/ask come real-time
 * from @bookTicker, which has no last price; the last price from the 24 h
 * @ticker (every 2 s). @aggTrade would be fresher, but it is the trades
 * channel's stream: sharing it would let a ticker's unsubscribe end a trades
 * subscription's stream, and for trade-by-trade prices there is that channel. */
static int append_stream_name(struct bn *bn, struct xgw_buf *out, const struct xgw_ws_sub *s)
{
    char name[XGW_SYMBOL_MAX + 32];
    const char *suffix = s->channel == XGW_CH_TICKER   ? (s->part == 0 ? "@bookTicker" : "@ticker")
                         : s->channel == XGW_CH_TRADES ? "@aggTrade"
                                                        : "@depth@100ms";
    size_t n = 0;
    while (n < XGW_SYMBOL_MAX - 1 && s->symbol[n] != '\0')
        n++;
    for (size_t i = 0; i < n; i++) {
        char c = s->symbol[i];
        name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    size_t sl = strlen(suffix);
    memcpy(name + n, suffix, sl);
    return bn->core->buf_json_str(out, name, n + sl);
}

int bn_ws_sub_msg(void *self, bool subscribe, const struct xgw_ws_sub *subs, size_t n, uint64_t id,
                  struct xgw_buf *out, struct xgw_error *err)
{
    struct bn *bn = self;
    const struct xgw_core_api *core = bn->core;
    size_t added = 0;

    for (size_t i = 0; i < n; i++) {
        const struct xgw_ws_sub *s = &subs[i];
        if (s->channel == XGW_CH_ORDERS)
            continue; /* account events arrive on the listenKey connection unasked */
        if (s->channel != XGW_CH_TICKER && s->channel != XGW_CH_TRADES && s->channel != XGW_CH_BOOK)
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "unknown stream channel %d", (int)s->channel);
        if (s->symbol[0] == '\0')
            return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "%s stream needs a symbol",
                                   s->channel == XGW_CH_TICKER ? "ticker" : s->channel == XGW_CH_TRADES ? "trades" : "book");
        if (core->buf_printf(out, "%s", added == 0 ? "" : ",") != 0)
            return ws_oom(bn, err);
        if (added == 0 &&
            core->buf_printf(out, "{\"method\":\"%s\",\"params\":[", subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE") != 0)
            return ws_oom(bn, err);
        if (append_stream_name(bn, out, s) != 0)
            return ws_oom(bn, err);
        added++;
    }
    /* The id "is an unsigned INT" (§6.3). */
    if (added > 0 && core->buf_printf(out, "],\"id\":%llu}", (unsigned long long)id) != 0)
        return ws_oom(bn, err);
    return XGW_OK;
}

int bn_ws_login_msg(void *self, uint64_t id, struct xgw_buf *out, struct xgw_error *err)
{
    (void)self, (void)id, (void)out, (void)err;
    return XGW_OK; /* the listenKey in the URL is the authentication */
}

int bn_ws_ping_msg(void *self, struct xgw_buf *out)
{
    (void)self, (void)out;
    return XGW_OK; /* server pings; protocol-level pongs answer them */
}

/* ------------------------------------------------------------------------ */

struct wctx {
    struct bn *bn;
    const struct xgw_core_api *core;
    struct xgw_sink *out;
    struct xgw_error *err;
};

static int wproto(struct wctx *w, const char *event, const char *what)
{
    return w->core->set_error(w->err, XGW_ERR_PROTOCOL, 0, "binance stream %s: malformed %s", event, what);
}

static int wemit(struct wctx *w, enum xgw_rec type, const void *rec)
{
    if (w->core->emit(w->out, type, rec) != 0)
        return w->core->set_error(w->err, XGW_ERR_INTERNAL, 0, "out of memory while collecting stream events");
    return XGW_OK;
}

static int ev_book_ticker(struct wctx *w, const cJSON *o)
{
    struct xgw_ticker t;
    int64_t e_ms = 0;
    memset(&t, 0, sizeof t);
    t.bid = t.bid_qty = t.ask = t.ask_qty = t.last = xgw_dec_none();
    for (const cJSON *it = o->child; it != NULL; it = it->next) {
        const char *k = it->string;
        int rc = 0;
        if (strcmp(k, "s") == 0)
            rc = pj_str(it, t.symbol, sizeof t.symbol);
        else if (strcmp(k, "b") == 0)
            rc = pj_dec(w->bn->core, it, &t.bid);
        else if (strcmp(k, "B") == 0)
            rc = pj_dec(w->bn->core, it, &t.bid_qty);
        else if (strcmp(k, "a") == 0)
            rc = pj_dec(w->bn->core, it, &t.ask);
        else if (strcmp(k, "A") == 0)
            rc = pj_dec(w->bn->core, it, &t.ask_qty);
        else if (strcmp(k, "T") == 0)
            rc = pj_i64(it, &t.ts_ms);
        else if (strcmp(k, "E") == 0)
            rc = pj_i64(it, &e_ms);
        if (rc != 0)
            return wproto(w, "bookTicker", k);
    }
    if (t.symbol[0] == '\0')
        return wproto(w, "bookTicker", "s");
    if (t.ts_ms == 0)
        t.ts_ms = e_ms;
    return wemit(w, XGW_REC_TICKER, &t);
}

/* 24hrTicker: only the last price ("c"); best bid/ask come from bookTicker. */
static int ev_24h_ticker(struct wctx *w, const cJSON *o)
{
    struct xgw_ticker t;
    memset(&t, 0, sizeof t);
    t.bid = t.bid_qty = t.ask = t.ask_qty = t.last = xgw_dec_none();
    if (pj_str(cJSON_GetObjectItemCaseSensitive(o, "s"), t.symbol, sizeof t.symbol) != 0 ||
        t.symbol[0] == '\0' || pj_dec(w->bn->core, cJSON_GetObjectItemCaseSensitive(o, "c"), &t.last) != 0 ||
        pj_i64(cJSON_GetObjectItemCaseSensitive(o, "E"), &t.ts_ms) != 0)
        return wproto(w, "24hrTicker", "fields");
    return wemit(w, XGW_REC_TICKER, &t);
}

/* aggTrade (id "a") and the undocumented raw trade (id "t"). "m" is "the
 * buyer is the maker", so the aggressor sold when it is true. */
static int ev_trade(struct wctx *w, const cJSON *o, const char *event, const char *id_key)
{
    struct xgw_trade t;
    int64_t e_ms = 0;
    bool have_m = false;
    memset(&t, 0, sizeof t);
    t.price = t.qty = xgw_dec_none();
    for (const cJSON *it = o->child; it != NULL; it = it->next) {
        const char *k = it->string;
        int rc = 0;
        if (strcmp(k, "s") == 0)
            rc = pj_str(it, t.symbol, sizeof t.symbol);
        else if (strcmp(k, id_key) == 0)
            rc = bn_json_id(it, t.trade_id, sizeof t.trade_id);
        else if (strcmp(k, "p") == 0)
            rc = pj_dec(w->bn->core, it, &t.price);
        else if (strcmp(k, "q") == 0)
            rc = pj_dec(w->bn->core, it, &t.qty);
        else if (strcmp(k, "T") == 0)
            rc = pj_i64(it, &t.ts_ms);
        else if (strcmp(k, "E") == 0)
            rc = pj_i64(it, &e_ms);
        else if (strcmp(k, "m") == 0) {
            rc = cJSON_IsBool(it) ? 0 : -1;
            have_m = true;
            t.side = cJSON_IsTrue(it) ? XGW_SIDE_SELL : XGW_SIDE_BUY;
        }
        if (rc != 0)
            return wproto(w, event, k);
    }
    if (t.symbol[0] == '\0' || xgw_dec_is_none(t.price) || xgw_dec_is_none(t.qty))
        return wproto(w, event, "s/p/q");
    if (!have_m)
        t.side = XGW_SIDE_NONE;
    if (t.ts_ms == 0)
        t.ts_ms = e_ms;
    return wemit(w, XGW_REC_TRADE, &t);
}

static int ws_levels(struct wctx *w, const cJSON *arr, enum xgw_rec type)
{
    if (!cJSON_IsArray(arr))
        return wproto(w, "depthUpdate", "side");
    for (const cJSON *lv = arr->child; lv != NULL; lv = lv->next) {
        struct xgw_level l;
        const cJSON *pr = cJSON_IsArray(lv) ? lv->child : NULL;
        const cJSON *q = pr != NULL ? pr->next : NULL;
        if (q == NULL || pj_dec(w->bn->core, pr, &l.price) != 0 || pj_dec(w->bn->core, q, &l.qty) != 0 ||
            xgw_dec_is_none(l.price) || xgw_dec_is_none(l.qty))
            return wproto(w, "depthUpdate", "level");
        int rc = wemit(w, type, &l);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int ev_depth(struct wctx *w, const cJSON *o)
{
    struct xgw_book_info b;
    const cJSON *bids = NULL, *asks = NULL;
    int64_t e_ms = 0;
    bool have_u = false;
    memset(&b, 0, sizeof b);
    b.prev_seq = -1;
    for (const cJSON *it = o->child; it != NULL; it = it->next) {
        const char *k = it->string;
        int rc = 0;
        if (strcmp(k, "s") == 0)
            rc = pj_str(it, b.symbol, sizeof b.symbol);
        else if (strcmp(k, "U") == 0)
            rc = pj_i64(it, &b.first_seq);
        else if (strcmp(k, "u") == 0) {
            rc = pj_i64(it, &b.seq);
            have_u = true;
        } else if (strcmp(k, "pu") == 0)
            rc = pj_i64(it, &b.prev_seq);
        else if (strcmp(k, "T") == 0)
            rc = pj_i64(it, &b.ts_ms);
        else if (strcmp(k, "E") == 0)
            rc = pj_i64(it, &e_ms);
        else if (strcmp(k, "b") == 0)
            bids = it;
        else if (strcmp(k, "a") == 0)
            asks = it;
        if (rc != 0)
            return wproto(w, "depthUpdate", k);
    }
    if (b.symbol[0] == '\0' || !have_u || bids == NULL || asks == NULL)
        return wproto(w, "depthUpdate", "s/u/b/a");
    if (b.ts_ms == 0)
        b.ts_ms = e_ms;
    int rc = wemit(w, XGW_REC_BOOK, &b);
    if (rc == XGW_OK)
        rc = ws_levels(w, bids, XGW_REC_BID);
    if (rc == XGW_OK)
        rc = ws_levels(w, asks, XGW_REC_ASK);
    return rc;
}

static int ev_order(struct wctx *w, const cJSON *root)
{
    struct xgw_order o;
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "o");
    if (bn_parse_order(w->bn, obj, true, &o) != 0)
        return wproto(w, "ORDER_TRADE_UPDATE", "order");
    if (o.ts_ms == 0 && pj_i64(cJSON_GetObjectItemCaseSensitive(root, "T"), &o.ts_ms) != 0)
        o.ts_ms = 0;
    return wemit(w, XGW_REC_ORDER, &o);
}

/* ACCOUNT_UPDATE: balances (wallet balance; the event has no "available")
 * and the positions that changed. A position that went to zero IS reported
 * (size 0): on a stream that is how a close becomes visible. */
static int ev_account(struct wctx *w, const cJSON *root)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "a");
    if (!cJSON_IsObject(a))
        return wproto(w, "ACCOUNT_UPDATE", "a");
    const cJSON *bal = cJSON_GetObjectItemCaseSensitive(a, "B");
    const cJSON *pos = cJSON_GetObjectItemCaseSensitive(a, "P");
    if ((bal != NULL && !cJSON_IsArray(bal)) || (pos != NULL && !cJSON_IsArray(pos)))
        return wproto(w, "ACCOUNT_UPDATE", "B/P");
    for (const cJSON *o = bal != NULL ? bal->child : NULL; o != NULL; o = o->next) {
        struct xgw_balance b;
        memset(&b, 0, sizeof b);
        b.available = xgw_dec_none();
        if (!cJSON_IsObject(o) ||
            pj_str(cJSON_GetObjectItemCaseSensitive(o, "a"), b.asset, sizeof b.asset) != 0 ||
            b.asset[0] == '\0' ||
            pj_dec(w->bn->core, cJSON_GetObjectItemCaseSensitive(o, "wb"), &b.total) != 0 ||
            xgw_dec_is_none(b.total))
            return wproto(w, "ACCOUNT_UPDATE", "balance");
        int rc = wemit(w, XGW_REC_BALANCE, &b);
        if (rc != XGW_OK)
            return rc;
    }
    for (const cJSON *o = pos != NULL ? pos->child : NULL; o != NULL; o = o->next) {
        struct xgw_position p;
        xgw_dec amt;
        char ps[16];
        memset(&p, 0, sizeof p);
        p.mark_price = p.leverage = xgw_dec_none();
        if (!cJSON_IsObject(o) ||
            pj_str(cJSON_GetObjectItemCaseSensitive(o, "s"), p.symbol, sizeof p.symbol) != 0 ||
            p.symbol[0] == '\0' ||
            pj_dec(w->bn->core, cJSON_GetObjectItemCaseSensitive(o, "pa"), &amt) != 0 ||
            xgw_dec_is_none(amt) ||
            pj_dec(w->bn->core, cJSON_GetObjectItemCaseSensitive(o, "ep"), &p.entry_price) != 0 ||
            pj_dec(w->bn->core, cJSON_GetObjectItemCaseSensitive(o, "up"), &p.unrealized_pnl) != 0 ||
            pj_str(cJSON_GetObjectItemCaseSensitive(o, "ps"), ps, sizeof ps) != 0)
            return wproto(w, "ACCOUNT_UPDATE", "position");
        if (strcmp(ps, "LONG") == 0)
            p.side = XGW_POS_LONG;
        else if (strcmp(ps, "SHORT") == 0)
            p.side = XGW_POS_SHORT;
        else
            p.side = amt.mant < 0 ? XGW_POS_SHORT : XGW_POS_LONG;
        p.size = amt;
        if (p.size.mant < 0)
            p.size.mant = -p.size.mant;
        int rc = wemit(w, XGW_REC_POSITION, &p);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

/* {"result":null,"id":1} / {"error":{"code":2,"msg":".."},"id":1} /
 * {"code":2,"msg":"..","id":1}: answers to SUBSCRIBE & co (§6.3). */
static int control(struct wctx *w, const cJSON *root)
{
    struct xgw_ws_ack ack;
    memset(&ack, 0, sizeof ack);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    int64_t v;
    if (id != NULL && !cJSON_IsNull(id)) {
        if (pj_i64(id, &v) != 0 || v < 0)
            return wproto(w, "answer", "id");
        ack.id = (uint64_t)v;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (!cJSON_IsObject(e))
        e = root;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "msg");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    if (cJSON_HasObjectItem(root, "result") && e == root && code == NULL) {
        ack.ok = true;
    } else {
        ack.ok = false;
        int64_t c = 0;
        (void)pj_i64(code, &c);
        const char *m = cJSON_IsString(msg) && msg->valuestring != NULL ? msg->valuestring : "error";
        snprintf(ack.message, sizeof ack.message, "code %lld: %s", (long long)c, m); /* bounded */
    }
    return wemit(w, XGW_REC_WS_ACK, &ack);
}

int bn_ws_parse(void *self, const char *frame, size_t len, struct xgw_sink *out, struct xgw_error *err)
{
    struct bn *bn = self;
    struct wctx w = {bn, bn->core, out, err};
    int rc = XGW_OK;

    cJSON *root = cJSON_ParseWithLength(frame, len);
    if (root == NULL)
        return bn->core->set_error(err, XGW_ERR_PROTOCOL, 0, "binance stream: frame is not JSON");
    const cJSON *o = root;
    /* Combined streams wrap every event: {"stream":"btcusdt@aggTrade","data":{...}} */
    const cJSON *data = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "data") : NULL;
    if (data != NULL && cJSON_HasObjectItem(root, "stream")) {
        o = data;
        if (cJSON_IsArray(o))
            goto done; /* "!markPrice@arr"-style streams xgw does not subscribe to */
    }
    if (!cJSON_IsObject(o)) {
        rc = bn->core->set_error(err, XGW_ERR_PROTOCOL, 0, "binance stream: frame is not a JSON object");
        goto done;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "e");
    if (cJSON_IsString(e) && e->valuestring != NULL) {
        const char *ev = e->valuestring;
        if (strcmp(ev, "bookTicker") == 0)
            rc = ev_book_ticker(&w, o);
        else if (strcmp(ev, "aggTrade") == 0)
            rc = ev_trade(&w, o, ev, "a");
        else if (strcmp(ev, "trade") == 0)
            rc = ev_trade(&w, o, ev, "t");
        else if (strcmp(ev, "depthUpdate") == 0)
            rc = ev_depth(&w, o);
        else if (strcmp(ev, "24hrTicker") == 0)
            rc = ev_24h_ticker(&w, o);
        else if (strcmp(ev, "ORDER_TRADE_UPDATE") == 0)
            rc = ev_order(&w, o);
        else if (strcmp(ev, "ACCOUNT_UPDATE") == 0)
            rc = ev_account(&w, o);
        else if (strcmp(ev, "listenKeyExpired") == 0)
            rc = wemit(&w, XGW_REC_WS_REAUTH, NULL);
        /* other events (markPriceUpdate, TRADE_LITE, MARGIN_CALL, ...): nothing */
    } else if (o == root && (cJSON_HasObjectItem(root, "id") || cJSON_HasObjectItem(root, "result") ||
                             cJSON_HasObjectItem(root, "error") ||
                             (cJSON_HasObjectItem(root, "code") && cJSON_HasObjectItem(root, "msg")))) {
        rc = control(&w, root);
    }
done:
    cJSON_Delete(root);
    return rc;
}
