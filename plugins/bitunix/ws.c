/*
 * Bitunix WebSocket streams (openapidoc.bitunix.com/doc/websocket/...).
 *
 * - Endpoints: <base>/public/ for market data, <base>/private/ for the
 *   account (WebSocket.html).
 * - Heartbeat: the client sends {"op":"ping","ping":<unix seconds>}; the
 *   server answers {"op":"ping","pong":<ours>,"ping":<its own>}.
 * - (Un)subscribe: {"op":"subscribe","args":[{"symbol":"BTCUSDT","ch":"..."}]}
 *   with at most 300 channels per connection.
 * - Channels used: "tickers" (data: array of {s, la, bd, bv, ak, av, ...}),
 *   "trade" (data: array of {t, p, v, s}), "depth_book1|5|15" (data:
 *   {b:[[price,qty]...], a:[...]}, whole top-N books with no sequence
 *   number, so every push replaces the book and no gap can be detected),
 *   and on the private stream "order", "balance", "position".
 * - Login (private): {"op":"login","args":[{"apiKey","timestamp","nonce",
 *   "sign"}]} with sign = sha256_hex(sha256_hex(nonce + timestamp + apiKey)
 *   + secret), i.e. the REST recipe with empty query and body, and the
 *   timestamp in SECONDS. The login page could not be read here: this is
 *   what both community clients (tradingiq/bitunix-client,
 *   nils2525/Bitunix.Net) send, and they agree.
 * Pushes carry {"ch","symbol","ts","data"}; acknowledgements carry "op".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitunix.h"

int bx_ws_path(void *self, bool private_, const char *token, struct xgw_buf *out, struct xgw_error *err)
{
    struct bx *bx = self;
    (void)token;
    const char *p = private_ ? "/private/" : "/public/";
    if (bx->core->buf_append(out, p, strlen(p)) != 0)
        return bx->core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
    return XGW_OK;
}

const char *bx_ws_depth_channel(uint32_t wanted)
{
    if (wanted == 1)
        return "depth_book1";
    if (wanted != 0 && wanted <= 5)
        return "depth_book5";
    return "depth_book15";
}

static bool valid_symbol(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= XGW_SYMBOL_MAX)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-'))
            return false;
    return true;
}

static int add_arg(struct bx *bx, struct xgw_buf *out, bool *first, const char *symbol, const char *ch)
{
    const struct xgw_core_api *core = bx->core;
    if ((!*first && core->buf_append(out, ",", 1) != 0) || core->buf_append(out, "{", 1) != 0)
        return -1;
    if (symbol != NULL && (core->buf_printf(out, "\"symbol\":") != 0 ||
                           core->buf_json_str(out, symbol, strlen(symbol)) != 0 || core->buf_append(out, ",", 1) != 0))
        return -1;
    if (core->buf_printf(out, "\"ch\":\"%s\"}", ch) != 0)
        return -1;
    *first = false;
    return 0;
}

int bx_ws_sub_msg(void *self, bool subscribe, const struct xgw_ws_sub *subs, size_t n, uint64_t id,
                  struct xgw_buf *out, struct xgw_error *err)
{
    struct bx *bx = self;
    const struct xgw_core_api *core = bx->core;
    bool first = true;
    (void)id; /* Bitunix echoes no request id: acks carry id 0 */
    if (n == 0)
        return XGW_OK;
    if (core->buf_printf(out, "{\"op\":\"%s\",\"args\":[", subscribe ? "subscribe" : "unsubscribe") != 0)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct xgw_ws_sub *s = &subs[i];
        int rc = 0;
        if (s->channel == XGW_CH_ORDERS) {
            /* The account stream: orders, plus balance and position
             * changes, which arrive on the same login. */
            rc = add_arg(bx, out, &first, NULL, "order") || add_arg(bx, out, &first, NULL, "balance") ||
                 add_arg(bx, out, &first, NULL, "position");
        } else {
            if (!valid_symbol(s->symbol))
                return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                                       "a bitunix %s subscription needs a symbol such as BTCUSDT",
                                       s->channel == XGW_CH_TICKER   ? "ticker"
                                       : s->channel == XGW_CH_TRADES ? "trades"
                                                                     : "book");
            const char *ch = s->channel == XGW_CH_TICKER   ? "tickers"
                             : s->channel == XGW_CH_TRADES ? "trade"
                             : s->channel == XGW_CH_BOOK   ? bx_ws_depth_channel(s->depth)
                                                           : NULL;
            if (ch == NULL)
                return core->set_error(err, XGW_ERR_UNSUPPORTED, 0, "bitunix has no stream channel %d",
                                       (int)s->channel);
            rc = add_arg(bx, out, &first, s->symbol, ch);
        }
        if (rc != 0)
            return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
    }
    if (core->buf_append(out, "]}", 2) != 0)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
    return XGW_OK;
}

int bx_ws_login_with(struct bx *bx, const char *nonce, int64_t ts_s, struct xgw_buf *out, struct xgw_error *err)
{
    const struct xgw_core_api *core = bx->core;
    char ts[24], sign[65];
    if (bx->api_key == NULL || bx->secret == NULL)
        return core->set_error(err, XGW_ERR_AUTH, 0,
                               "private bitunix streams need api_key and api_secret for the instance");
    snprintf(ts, sizeof ts, "%lld", (long long)ts_s);
    if (bx_sign_parts(bx, nonce, ts, "", 0, "", 0, NULL, sign) != XGW_OK)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while signing the login");
    if (core->buf_printf(out, "{\"op\":\"login\",\"args\":[{\"apiKey\":") != 0 ||
        core->buf_json_str(out, bx->api_key, strlen(bx->api_key)) != 0 ||
        core->buf_printf(out, ",\"timestamp\":%s,\"nonce\":\"%s\",\"sign\":\"%s\"}]}", ts, nonce, sign) != 0)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
    return XGW_OK;
}

int bx_ws_login_msg(void *self, uint64_t id, struct xgw_buf *out, struct xgw_error *err)
{
    struct bx *bx = self;
    char nonce[BX_NONCE_LEN + 1];
    (void)id;
    if (bx_nonce(bx, nonce) != XGW_OK)
        return bx->core->set_error(err, XGW_ERR_INTERNAL, 0, "the random generator failed");
    int64_t ms = bx_now_ms(bx);
    return bx_ws_login_with(bx, nonce, ms / 1000, out, err);
}

int bx_ws_ping_msg(void *self, struct xgw_buf *out)
{
    struct bx *bx = self;
    int64_t s = bx_now_ms(bx) / 1000;
    return bx->core->buf_printf(out, "{\"op\":\"ping\",\"ping\":%lld}", (long long)s) != 0 ? XGW_ERR_INTERNAL
                                                                                          : XGW_OK;
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */
/* ------------------------------------------------------------------------ */

struct wctx {
    struct bx *bx;
    const struct xgw_core_api *core;
    struct xgw_sink *out;
    struct xgw_error *err;
    const char *ch;
    char symbol[XGW_SYMBOL_MAX];
    int64_t ts;
};

static int wproto(struct wctx *w, const char *what)
{
    return w->core->set_error(w->err, XGW_ERR_PROTOCOL, 0, "bitunix stream %s: malformed push (%s)",
                              w->ch != NULL ? w->ch : "?", what);
}

static int wemit(struct wctx *w, enum xgw_rec type, const void *rec)
{
    if (w->core->emit(w->out, type, rec) != 0)
        return w->core->set_error(w->err, XGW_ERR_INTERNAL, 0, "out of memory while collecting stream events");
    return XGW_OK;
}

static const cJSON *get(const cJSON *o, const char *name) { return cJSON_GetObjectItemCaseSensitive(o, name); }

static int ticker_one(struct wctx *w, const cJSON *d)
{
    struct xgw_ticker t;
    memset(&t, 0, sizeof t);
    if (!cJSON_IsObject(d) || pj_str(get(d, "s"), t.symbol, sizeof t.symbol) != 0)
        return wproto(w, "bad ticker");
    if (t.symbol[0] == '\0')
        snprintf(t.symbol, sizeof t.symbol, "%s", w->symbol);
    if (t.symbol[0] == '\0' || pj_dec(w->bx->core, get(d, "la"), &t.last) != 0 ||
        pj_dec(w->bx->core, get(d, "bd"), &t.bid) != 0 ||
        pj_dec(w->bx->core, get(d, "bv"), &t.bid_qty) != 0 ||
        pj_dec(w->bx->core, get(d, "ak"), &t.ask) != 0 || pj_dec(w->bx->core, get(d, "av"), &t.ask_qty) != 0)
        return wproto(w, "bad ticker");
    t.ts_ms = w->ts;
    return wemit(w, XGW_REC_TICKER, &t);
}

static int parse_tickers(struct wctx *w, const cJSON *data)
{
    if (cJSON_IsObject(data))
        return ticker_one(w, data);
    if (!cJSON_IsArray(data))
        return wproto(w, "ticker data is neither an object nor an array");
    const cJSON *it;
    cJSON_ArrayForEach(it, data) {
        int rc = ticker_one(w, it);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int trade_one(struct wctx *w, const cJSON *it)
{
    struct xgw_trade t;
    char side[8];
    memset(&t, 0, sizeof t);
    snprintf(t.symbol, sizeof t.symbol, "%s", w->symbol);
    if (!cJSON_IsObject(it) || t.symbol[0] == '\0' || pj_dec(w->bx->core, get(it, "p"), &t.price) != 0 ||
        pj_dec(w->bx->core, get(it, "v"), &t.qty) != 0 || xgw_dec_is_none(t.price) ||
        xgw_dec_is_none(t.qty) || pj_str(get(it, "s"), side, sizeof side) != 0 ||
        bx_json_time(get(it, "t"), &t.ts_ms) != 0)
        return wproto(w, "bad trade");
    t.side = bx_side(side);
    if (t.ts_ms == 0)
        t.ts_ms = w->ts;
    return wemit(w, XGW_REC_TRADE, &t);
}

static int parse_trades(struct wctx *w, const cJSON *data)
{
    const cJSON *it;
    if (cJSON_IsObject(data))
        return trade_one(w, data);
    if (!cJSON_IsArray(data))
        return wproto(w, "trade data is not an array");
    cJSON_ArrayForEach(it, data) {
        int rc = trade_one(w, it);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int parse_levels(struct wctx *w, const cJSON *arr, enum xgw_rec type)
{
    const cJSON *lv;
    if (arr == NULL || cJSON_IsNull(arr))
        return XGW_OK;
    if (!cJSON_IsArray(arr))
        return wproto(w, "depth side is not an array");
    cJSON_ArrayForEach(lv, arr) {
        struct xgw_level l;
        if (!cJSON_IsArray(lv) || cJSON_GetArraySize(lv) < 2 ||
            pj_dec(w->bx->core, cJSON_GetArrayItem(lv, 0), &l.price) != 0 ||
            pj_dec(w->bx->core, cJSON_GetArrayItem(lv, 1), &l.qty) != 0 || xgw_dec_is_none(l.price) ||
            xgw_dec_is_none(l.qty))
            return wproto(w, "bad depth level");
        int rc = wemit(w, type, &l);
        if (rc != XGW_OK)
            return rc;
    }
    return XGW_OK;
}

static int parse_book(struct wctx *w, const cJSON *data)
{
    struct xgw_book_info bi;
    if (!cJSON_IsObject(data) || w->symbol[0] == '\0')
        return wproto(w, "depth push without data or symbol");
    memset(&bi, 0, sizeof bi);
    snprintf(bi.symbol, sizeof bi.symbol, "%s", w->symbol);
    bi.snapshot = true; /* no sequence numbers: every push replaces the book */
    bi.prev_seq = -1;
    bi.ts_ms = w->ts;
    int rc = wemit(w, XGW_REC_BOOK, &bi);
    if (rc == XGW_OK)
        rc = parse_levels(w, get(data, "b"), XGW_REC_BID);
    if (rc == XGW_OK)
        rc = parse_levels(w, get(data, "a"), XGW_REC_ASK);
    return rc;
}

static int parse_order(struct wctx *w, const cJSON *data)
{
    struct xgw_order o;
    if (bx_parse_order(w->bx, data, &o) != 0)
        return wproto(w, "bad order");
    if (o.ts_ms == 0)
        o.ts_ms = w->ts;
    return wemit(w, XGW_REC_ORDER, &o);
}

static int parse_balance(struct wctx *w, const cJSON *data)
{
    struct xgw_balance b;
    xgw_dec avail, frozen, margin, sum;
    memset(&b, 0, sizeof b);
    if (!cJSON_IsObject(data) || pj_str(get(data, "coin"), b.asset, sizeof b.asset) != 0 ||
        pj_dec(w->bx->core, get(data, "available"), &avail) != 0 ||
        pj_dec(w->bx->core, get(data, "frozen"), &frozen) != 0 ||
        pj_dec(w->bx->core, get(data, "margin"), &margin) != 0 || xgw_dec_is_none(avail))
        return wproto(w, "bad balance");
    if (b.asset[0] == '\0')
        snprintf(b.asset, sizeof b.asset, "%s", w->bx->margin_coin);
    sum = avail;
    if ((!xgw_dec_is_none(frozen) && w->core->dec_add(sum, frozen, &sum) != XGW_DEC_OK) ||
        (!xgw_dec_is_none(margin) && w->core->dec_add(sum, margin, &sum) != XGW_DEC_OK))
        return wproto(w, "balance overflows");
    b.available = avail;
    b.total = sum;
    return wemit(w, XGW_REC_BALANCE, &b);
}

static int parse_position(struct wctx *w, const cJSON *data)
{
    struct xgw_position p;
    char side[16];
    xgw_dec qty;
    memset(&p, 0, sizeof p);
    if (!cJSON_IsObject(data) || pj_str(get(data, "symbol"), p.symbol, sizeof p.symbol) != 0 ||
        p.symbol[0] == '\0' || pj_str(get(data, "side"), side, sizeof side) != 0 ||
        pj_dec(w->bx->core, get(data, "qty"), &qty) != 0 || xgw_dec_is_none(qty) ||
        pj_dec(w->bx->core, get(data, "unrealizedPNL"), &p.unrealized_pnl) != 0 ||
        pj_dec(w->bx->core, get(data, "leverage"), &p.leverage) != 0)
        return wproto(w, "bad position");
    if (strcmp(side, "LONG") == 0 || strcmp(side, "BUY") == 0)
        p.side = XGW_POS_LONG;
    else if (strcmp(side, "SHORT") == 0 || strcmp(side, "SELL") == 0)
        p.side = XGW_POS_SHORT;
    else
        return wproto(w, "bad position side");
    p.size = qty.mant < 0 ? (xgw_dec){-qty.mant, qty.scale} : qty;
    /* The channel sends entryValue (notional), not a price. A CLOSE event
     * with qty 0 reports the position as gone: size 0. */
    p.entry_price = xgw_dec_none();
    p.mark_price = xgw_dec_none();
    return wemit(w, XGW_REC_POSITION, &p);
}

/* Acknowledgement of subscribe/unsubscribe/login. The documentation shows
 * no failure form; a "code" other than 0, "success": false,
 * "data":{"result":false} or an "error"/"msg" text of a failure count as
 * refusals. */
static int parse_ack(struct wctx *w, const cJSON *root, const char *op)
{
    struct xgw_ws_ack a;
    int64_t code = 0;
    memset(&a, 0, sizeof a);
    a.ok = true;
    const cJSON *c = get(root, "code");
    if (c != NULL && bx_json_i64(c, &code) == 0 && code != 0)
        a.ok = false;
    const cJSON *s = get(root, "success");
    if (cJSON_IsFalse(s))
        a.ok = false;
    const cJSON *d = get(root, "data");
    if (cJSON_IsObject(d) && cJSON_IsFalse(get(d, "result")))
        a.ok = false;
    if (cJSON_IsFalse(d))
        a.ok = false;
    const cJSON *e = get(root, "error");
    if (cJSON_IsString(e) && e->valuestring[0] != '\0')
        a.ok = false;
    const cJSON *m = cJSON_IsString(e) ? e : get(root, "msg");
    if (cJSON_IsString(m))
        snprintf(a.message, sizeof a.message, "%s", m->valuestring);
    else
        snprintf(a.message, sizeof a.message, "%s %s", op, a.ok ? "ok" : "refused");
    return wemit(w, XGW_REC_WS_ACK, &a);
}

int bx_ws_parse(void *self, const char *frame, size_t len, struct xgw_sink *out, struct xgw_error *err)
{
    struct bx *bx = self;
    struct wctx w = {bx, bx->core, out, err, NULL, "", 0};
    cJSON *root = bx_json_parse(frame, len);
    int rc = XGW_OK;
    if (root == NULL || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return bx->core->set_error(err, XGW_ERR_PROTOCOL, 0, "bitunix stream: a frame is not a JSON object");
    }
    const cJSON *op = get(root, "op");
    const cJSON *ch = get(root, "ch");
    if (cJSON_IsString(op) && !cJSON_IsString(ch)) {
        const char *o = op->valuestring;
        if (strcmp(o, "ping") == 0 || strcmp(o, "pong") == 0)
            rc = wemit(&w, XGW_REC_WS_PONG, NULL);
        else if (strcmp(o, "subscribe") == 0 || strcmp(o, "unsubscribe") == 0 || strcmp(o, "login") == 0 ||
                 strcmp(o, "connect") == 0)
            rc = strcmp(o, "connect") == 0 ? XGW_OK : parse_ack(&w, root, o);
        /* other ops: valid but of no interest */
    } else if (cJSON_IsString(ch)) {
        w.ch = ch->valuestring;
        if (pj_str(get(root, "symbol"), w.symbol, sizeof w.symbol) != 0 ||
            bx_json_time(get(root, "ts"), &w.ts) != 0) {
            rc = wproto(&w, "bad symbol or ts");
        } else {
            const cJSON *data = get(root, "data");
            const char *c = w.ch;
            if (strcmp(c, "tickers") == 0 || strcmp(c, "ticker") == 0)
                rc = parse_tickers(&w, data);
            else if (strcmp(c, "trade") == 0)
                rc = parse_trades(&w, data);
            else if (strncmp(c, "depth_book", 10) == 0)
                rc = parse_book(&w, data);
            else if (strcmp(c, "order") == 0)
                rc = parse_order(&w, data);
            else if (strcmp(c, "balance") == 0)
                rc = parse_balance(&w, data);
            else if (strcmp(c, "position") == 0)
                rc = parse_position(&w, data);
            /* klines, price, tpsl: valid, not used */
        }
    }
    cJSON_Delete(root);
    return rc;
}
