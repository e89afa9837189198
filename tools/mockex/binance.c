/*
 * binance.c — Binance USDⓈ-M futures module of the mock (shapes, codes and
 * weights from ../shared/exchanges/binance.md).
 *
 * REST: /fapi/v1|v2|v3/... with HMAC signature, timestamp/recvWindow, the
 * REQUEST_WEIGHT limiter (429 then 418), order limiters and filters.
 * WS: /ws/<streams>, /stream?streams=, the routed /public|/market|/private
 * prefixes, live SUBSCRIBE/UNSUBSCRIBE, market streams from the generator
 * and the user data stream (listenKey).
 */
#include "binance_sign.h"
#include "mockex.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EX "binance"
#define MAX_SUBS 64
#define NIPS 32
#define BAN_AFTER_429 5             /* 429s within one minute before the IP is banned */
#define BAN_MS (2 * INT64_C(60000)) /* first ban: 2 minutes, as Binance's smallest */

static const char *const headers[] = {"x-mbx-apikey", NULL};

struct ipw {
    char ip[64];
    int64_t minute, used, strikes, banned_until, last_seen;
};

struct bn_acct { /* mx_account.module_data */
    char listen_key[72];
    int64_t lk_expires;
    int64_t o10_window, o10_n, o1m_window, o1m_n;
};

struct bn_ws {
    int combined;
    int nsubs;
    char subs[MAX_SUBS][64];
    struct mx_account *acct; /* user data stream */
    char listen_key[72];
    int64_t rx_window, rx_n;
    uint64_t flood_u;
    int64_t opened; /* mono ms, for --ws-lifetime-ms */
};

struct bn {
    struct mx_server *srv;
    struct ipw ips[NIPS];
    uint64_t rng;
    struct mx_buf tick_price[MX_MAX_INSTR], tick_book[MX_MAX_INSTR];
    struct mx_buf scratch, frame;
    int64_t last_second_push;
};

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void err_json(struct mx_buf *b, int code, const char *msg)
{
    mx_buf_printf(b, "{\"code\":%d,\"msg\":", code);
    mx_buf_json_str(b, msg);
    mx_buf_puts(b, "}");
}

static void fail(struct mx_resp *r, int status, int code, const char *msg)
{
    r->status = status;
    mx_buf_reset(&r->body);
    err_json(&r->body, code, msg);
}

static void error_body(void *self, int status, int code, const char *msg, struct mx_buf *out)
{
    (void)self;
    if (!code)
        code = status == 429 ? -1003 : -1000;
    if (!msg)
        msg = status == 503   ? "Unknown error, please check your request or try again later."
              : status == 404 ? "Not found."
              : status == 413 ? "Request entity too large."
              : status == 429 ? "Too many requests; current limit is 2400 requests per minute."
              : status >= 500 ? "Internal error; unable to process your request. Please try again."
                              : "An unknown error occurred while processing the request.";
    err_json(out, code, msg);
}

/* Query first, then body (the query value wins, binance.md §2.1). */
static int param(const struct mx_req *r, const char *key, char *out, size_t cap)
{
    int n = mx_form_get(r->query, r->query_len, key, out, cap);
    if (n == -1)
        n = mx_form_get(r->body, r->body_len, key, out, cap);
    return n;
}

static void fmt_px(struct mx_buf *b, const struct mx_instr *in, int64_t px)
{
    mx_buf_dec(b, px, in->price_scale, 1);
}
static void fmt_qty(struct mx_buf *b, const struct mx_instr *in, int64_t q)
{
    mx_buf_dec(b, q, in->qty_scale, 1);
}

static const struct mx_instr *sym_param(struct bn *bn, const struct mx_req *r, struct mx_resp *rs,
                                        int required)
{
    char sym[64];
    int n = param(r, "symbol", sym, sizeof sym);
    if (n <= 0) {
        if (required)
            fail(rs, 400, -1102,
                 "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
        return NULL;
    }
    const struct mx_instr *in = mx_market_find(mx_market_of(bn->srv), sym);
    if (!in || strcmp(in->symbol, sym) != 0) {
        fail(rs, 400, -1121, "Invalid symbol.");
        return NULL;
    }
    return in;
}

static struct bn_acct *acct_data(struct mx_account *a)
{
    if (!a->module_data) {
        a->module_data = calloc(1, sizeof(struct bn_acct));
        if (!a->module_data)
            abort();
    }
    return a->module_data;
}

/* ------------------------------------------------------------------------ */
/* rate limits                                                              */
/* ------------------------------------------------------------------------ */

static struct ipw *ip_entry(struct bn *bn, const char *ip, int64_t now)
{
    struct ipw *lru = &bn->ips[0];
    for (int i = 0; i < NIPS; i++) {
        if (!strcmp(bn->ips[i].ip, ip))
            return &bn->ips[i];
        if (bn->ips[i].last_seen < lru->last_seen)
            lru = &bn->ips[i];
    }
    memset(lru, 0, sizeof *lru);
    snprintf(lru->ip, sizeof lru->ip, "%s", ip);
    lru->last_seen = now;
    return lru;
}

/* Returns 0 when admitted; otherwise fills the 429/418 answer. */
static int admit(struct bn *bn, const struct mx_req *r, struct mx_resp *rs, int64_t weight,
                 struct ipw **out)
{
    const struct mx_opts *o = mx_opts(bn->srv);
    int64_t now = mx_wall_ms();
    struct ipw *e = ip_entry(bn, r->peer, now);
    *out = e;
    e->last_seen = now;
    int64_t minute = now / 60000;
    if (e->minute != minute) {
        e->minute = minute;
        e->used = 0;
        e->strikes = 0;
    }
    if (o->bench || o->weight_limit <= 0) {
        e->used += weight;
        return 0;
    }
    char msg[256], ra[32];
    if (e->banned_until > now) {
        snprintf(msg, sizeof msg,
                 "Way too much request weight used; IP banned until %lld. Please use the "
                 "websocket for live updates to avoid bans.",
                 (long long)e->banned_until);
        fail(rs, 418, -1003, msg);
        snprintf(ra, sizeof ra, "%lld", (long long)((e->banned_until - now + 999) / 1000));
        mx_resp_header(rs, "retry-after", ra);
        mx_count(bn->srv, EX, "http_418", 1);
        return -1;
    }
    if (e->used + weight > o->weight_limit) {
        if (++e->strikes > BAN_AFTER_429) {
            e->banned_until = now + BAN_MS;
            return admit(bn, r, rs, weight, out);
        }
        snprintf(msg, sizeof msg,
                 "Too many requests; current limit of IP(%s) is %lld requests per minute. Please "
                 "use the websocket for live updates to avoid bans.",
                 r->peer, (long long)o->weight_limit);
        fail(rs, 429, -1003, msg);
        snprintf(ra, sizeof ra, "%lld", (long long)((minute + 1) * 60000 - now + 999) / 1000);
        mx_resp_header(rs, "retry-after", ra);
        mx_count(bn->srv, EX, "http_429", 1);
        return -1;
    }
    e->used += weight;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* authentication                                                           */
/* ------------------------------------------------------------------------ */

static struct mx_account *api_key(struct bn *bn, const struct mx_req *r, struct mx_resp *rs)
{
    const char *k = mx_req_header(r, "x-mbx-apikey");
    int ok = k && *k && strlen(k) <= 128;
    for (const char *p = k; ok && *p; p++)
        ok = isalnum((unsigned char)*p);
    if (!ok) {
        fail(rs, 401, -2014, "API-key format invalid.");
        mx_count(bn->srv, EX, "auth_failures", 1);
        return NULL;
    }
    struct mx_account *a = mx_acct_find(bn->srv, EX, k);
    if (!a) {
        fail(rs, 401, -2015, "Invalid API-key, IP, or permissions for action.");
        mx_count(bn->srv, EX, "auth_failures", 1);
    }
    return a;
}

static struct mx_account *signed_req(struct bn *bn, const struct mx_req *r, struct mx_resp *rs)
{
    struct mx_account *a = api_key(bn, r, rs);
    if (!a)
        return NULL;
    enum mxb_sig s = mxb_sig_verify(a->secret, r->query, r->query_len, r->body, r->body_len);
    if (s == MXB_SIG_MISSING) {
        fail(rs, 400, -1102,
             "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
        mx_count(bn->srv, EX, "signature_failures", 1);
        return NULL;
    }
    if (s != MXB_SIG_OK) {
        fail(rs, 400, -1022, "Signature for this request is not valid.");
        mx_count(bn->srv, EX, "signature_failures", 1);
        return NULL;
    }
    char v[32];
    int64_t ts = 0, rw = 5000;
    if (param(r, "timestamp", v, sizeof v) <= 0 || mx_parse_dec(v, strlen(v), 0, &ts)) {
        fail(rs, 400, -1102,
             "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
        return NULL;
    }
    if (param(r, "recvWindow", v, sizeof v) > 0 &&
        (mx_parse_dec(v, strlen(v), 0, &rw) || rw <= 0 || rw > 60000)) {
        fail(rs, 400, -1131, "recvWindow must be less than 60000");
        return NULL;
    }
    int64_t now = mx_clock_ms(bn->srv, EX);
    if (!(ts < now + 1000 && now - ts <= rw)) {
        mx_count(bn->srv, EX, "timestamp_failures", 1);
        fail(rs, 400, -1021,
             ts >= now + 1000 ? "Timestamp for this request was 1000ms ahead of the server's time."
                              : "Timestamp for this request is outside of the recvWindow.");
        return NULL;
    }
    return a;
}

/* ------------------------------------------------------------------------ */
/* market data answers                                                      */
/* ------------------------------------------------------------------------ */

static void cache_tickers(struct bn *bn, int i)
{
    struct mx_market *m = mx_market_of(bn->srv);
    const struct mx_instr *in = mx_market_instr(m, i);
    const struct mx_book *b = mx_market_book(m, i);
    struct mx_buf *p = &bn->tick_price[i], *k = &bn->tick_book[i];
    mx_buf_reset(p);
    mx_buf_printf(p, "{\"symbol\":\"%s\",\"price\":", in->symbol);
    fmt_px(p, in, b->last_px);
    mx_buf_printf(p, ",\"time\":%lld}", (long long)b->time_ms);
    mx_buf_reset(k);
    mx_buf_printf(k, "{\"symbol\":\"%s\",\"bidPrice\":", in->symbol);
    fmt_px(k, in, mx_book_bid(b));
    mx_buf_puts(k, ",\"bidQty\":");
    fmt_qty(k, in, b->bid_qty[0]);
    mx_buf_puts(k, ",\"askPrice\":");
    fmt_px(k, in, mx_book_ask(b));
    mx_buf_puts(k, ",\"askQty\":");
    fmt_qty(k, in, b->ask_qty[0]);
    mx_buf_printf(k, ",\"time\":%lld,\"lastUpdateId\":%llu}", (long long)b->time_ms,
                  (unsigned long long)b->update_id);
}

static void ticker_24h(struct bn *bn, struct mx_buf *o, int i)
{
    struct mx_market *m = mx_market_of(bn->srv);
    const struct mx_instr *in = mx_market_instr(m, i);
    const struct mx_book *b = mx_market_book(m, i);
    int64_t now = mx_clock_ms(bn->srv, EX);
    mx_buf_printf(o, "{\"symbol\":\"%s\",\"priceChange\":", in->symbol);
    fmt_px(o, in, b->last_px - b->open_px);
    /* percent with 3 decimals, integer arithmetic */
    int64_t pct = b->open_px ? (b->last_px - b->open_px) * 100000 / b->open_px : 0;
    mx_buf_puts(o, ",\"priceChangePercent\":");
    mx_buf_dec(o, pct, 3, 1);
    int64_t wavg = b->volume ? b->quote_volume / b->volume : b->last_px;
    mx_buf_puts(o, ",\"weightedAvgPrice\":");
    fmt_px(o, in, wavg);
    mx_buf_puts(o, ",\"lastPrice\":");
    fmt_px(o, in, b->last_px);
    mx_buf_puts(o, ",\"lastQty\":");
    fmt_qty(o, in, b->last_qty);
    mx_buf_puts(o, ",\"openPrice\":");
    fmt_px(o, in, b->open_px);
    mx_buf_puts(o, ",\"highPrice\":");
    fmt_px(o, in, b->high_px);
    mx_buf_puts(o, ",\"lowPrice\":");
    fmt_px(o, in, b->low_px);
    mx_buf_puts(o, ",\"volume\":");
    fmt_qty(o, in, b->volume);
    mx_buf_puts(o, ",\"quoteVolume\":");
    mx_buf_dec(o, b->quote_volume, in->price_scale + in->qty_scale, 1);
    mx_buf_printf(o,
                  ",\"openTime\":%lld,\"closeTime\":%lld,\"firstId\":%llu,\"lastId\":%llu,"
                  "\"count\":%llu}",
                  (long long)(now - 86400000), (long long)now,
                  (unsigned long long)b->first_trade_id + 1, (unsigned long long)b->trade_id,
                  (unsigned long long)(b->trade_id - b->first_trade_id));
}

static void exchange_info(struct bn *bn, struct mx_buf *o)
{
    struct mx_market *m = mx_market_of(bn->srv);
    int64_t now = mx_clock_ms(bn->srv, EX);
    mx_buf_printf(o,
                  "{\"timezone\":\"UTC\",\"serverTime\":%lld,\"futuresType\":\"U_MARGINED\","
                  "\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\","
                  "\"intervalNum\":1,\"limit\":%lld},{\"rateLimitType\":\"ORDERS\",\"interval\":"
                  "\"MINUTE\",\"intervalNum\":1,\"limit\":1200},{\"rateLimitType\":\"ORDERS\","
                  "\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":300}],"
                  "\"exchangeFilters\":[],\"assets\":[{\"asset\":\"USDT\",\"marginAvailable\":true,"
                  "\"autoAssetExchange\":\"-10000\"}],\"symbols\":[",
                  (long long)now, (long long)mx_opts(bn->srv)->weight_limit);
    for (int i = 0; i < mx_market_count(m); i++) {
        const struct mx_instr *in = mx_market_instr(m, i);
        char tick[32], step[32], maxp[32];
        mx_fmt_dec(tick, sizeof tick, 1, in->price_scale);
        mx_fmt_dec(step, sizeof step, 1, in->qty_scale);
        mx_fmt_dec(maxp, sizeof maxp, in->start_px * 100, in->price_scale);
        mx_buf_printf(o,
                      "%s{\"symbol\":\"%s\",\"pair\":\"%s\",\"contractType\":\"PERPETUAL\","
                      "\"deliveryDate\":4133404800000,\"onboardDate\":1569398400000,"
                      "\"status\":\"TRADING\",\"maintMarginPercent\":\"2.5000\","
                      "\"requiredMarginPercent\":\"5.0000\",\"baseAsset\":\"%s\","
                      "\"quoteAsset\":\"USDT\",\"marginAsset\":\"USDT\",\"pricePrecision\":%d,"
                      "\"quantityPrecision\":%d,\"baseAssetPrecision\":8,\"quotePrecision\":8,"
                      "\"underlyingType\":\"COIN\",\"underlyingSubType\":[\"PoW\"],"
                      "\"settlePlan\":0,\"triggerProtect\":\"0.0500\",\"filters\":["
                      "{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"%s\",\"maxPrice\":\"%s\","
                      "\"tickSize\":\"%s\"},"
                      "{\"filterType\":\"LOT_SIZE\",\"minQty\":\"%s\",\"maxQty\":\"1000\","
                      "\"stepSize\":\"%s\"},"
                      "{\"filterType\":\"MARKET_LOT_SIZE\",\"minQty\":\"%s\",\"maxQty\":\"120\","
                      "\"stepSize\":\"%s\"},"
                      "{\"filterType\":\"MAX_NUM_ORDERS\",\"limit\":200},"
                      "{\"filterType\":\"MIN_NOTIONAL\",\"notional\":\"5\"},"
                      "{\"filterType\":\"PERCENT_PRICE\",\"multiplierUp\":\"1.1500\","
                      "\"multiplierDown\":\"0.8500\",\"multiplierDecimal\":\"4\"}],"
                      "\"orderTypes\":[\"LIMIT\",\"MARKET\"],"
                      "\"timeInForce\":[\"GTC\",\"IOC\",\"FOK\",\"GTX\"],"
                      "\"liquidationFee\":\"0.012500\",\"marketTakeBound\":\"0.05\"}",
                      i ? "," : "", in->symbol, in->symbol, in->base, in->price_scale,
                      in->qty_scale, tick, maxp, tick, step, step, step, step);
    }
    mx_buf_puts(o, "]}");
}

static void depth(struct bn *bn, struct mx_buf *o, int i, int limit)
{
    struct mx_market *m = mx_market_of(bn->srv);
    const struct mx_instr *in = mx_market_instr(m, i);
    const struct mx_book *b = mx_market_book(m, i);
    int n = limit < MX_BOOK_DEPTH ? limit : MX_BOOK_DEPTH;
    mx_buf_printf(o, "{\"lastUpdateId\":%llu,\"E\":%lld,\"T\":%lld,\"bids\":[",
                  (unsigned long long)b->update_id, (long long)mx_clock_ms(bn->srv, EX),
                  (long long)b->time_ms);
    for (int k = 0; k < n; k++) {
        mx_buf_puts(o, k ? ",[" : "[");
        fmt_px(o, in, b->best_bid - k);
        mx_buf_puts(o, ",");
        fmt_qty(o, in, b->bid_qty[k]);
        mx_buf_puts(o, "]");
    }
    mx_buf_puts(o, "],\"asks\":[");
    for (int k = 0; k < n; k++) {
        mx_buf_puts(o, k ? ",[" : "[");
        fmt_px(o, in, b->best_bid + 1 + k);
        mx_buf_puts(o, ",");
        fmt_qty(o, in, b->ask_qty[k]);
        mx_buf_puts(o, "]");
    }
    mx_buf_puts(o, "]}");
}

/* ------------------------------------------------------------------------ */
/* account answers                                                          */
/* ------------------------------------------------------------------------ */

static const char *status_name(enum mx_ord_status s)
{
    static const char *const n[] = {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED"};
    return n[s];
}
static const char *tif_name(enum mx_tif t)
{
    static const char *const n[] = {"GTC", "IOC", "FOK", "GTX"};
    return n[t];
}

static void avg_price(struct mx_buf *o, const struct mx_instr *in, const struct mx_order *od)
{
    int64_t pw = 1;
    for (int k = 0; k < in->qty_scale; k++)
        pw *= 10;
    int64_t avg = od->filled ? od->cum_quote_e8 * pw / od->filled : 0;
    mx_buf_dec(o, avg, 8, 1);
}

static void order_json(struct bn *bn, struct mx_buf *o, const struct mx_order *od, int with_time)
{
    const struct mx_instr *in = mx_market_instr(mx_market_of(bn->srv), od->instr);
    mx_buf_printf(o, "{\"orderId\":%llu,\"symbol\":\"%s\",\"status\":\"%s\",\"clientOrderId\":",
                  (unsigned long long)od->id, in->symbol, status_name(od->status));
    mx_buf_json_str(o, od->client_id);
    mx_buf_puts(o, ",\"price\":");
    fmt_px(o, in, od->price);
    mx_buf_puts(o, ",\"avgPrice\":");
    avg_price(o, in, od);
    mx_buf_puts(o, ",\"origQty\":");
    fmt_qty(o, in, od->qty);
    mx_buf_puts(o, ",\"executedQty\":");
    fmt_qty(o, in, od->filled);
    mx_buf_puts(o, ",\"cumQty\":");
    fmt_qty(o, in, od->filled);
    mx_buf_puts(o, ",\"cumQuote\":");
    mx_buf_dec(o, od->cum_quote_e8, 8, 1);
    const char *type = od->type == MX_MARKET ? "MARKET" : "LIMIT";
    mx_buf_printf(o,
                  ",\"timeInForce\":\"%s\",\"type\":\"%s\",\"reduceOnly\":%s,"
                  "\"closePosition\":false,\"side\":\"%s\",\"positionSide\":\"BOTH\","
                  "\"stopPrice\":\"0\",\"workingType\":\"CONTRACT_PRICE\",\"priceProtect\":false,"
                  "\"origType\":\"%s\",\"priceMatch\":\"NONE\","
                  "\"selfTradePreventionMode\":\"EXPIRE_MAKER\",\"goodTillDate\":0,",
                  tif_name(od->tif), type, od->reduce_only ? "true" : "false",
                  od->side > 0 ? "BUY" : "SELL", type);
    if (with_time)
        mx_buf_printf(o, "\"time\":%lld,", (long long)od->created_ms);
    mx_buf_printf(o, "\"updateTime\":%lld}", (long long)od->updated_ms);
}

static void balance(struct bn *bn, struct mx_buf *o, struct mx_account *a)
{
    struct mx_market *m = mx_market_of(bn->srv);
    int64_t unpnl = 0;
    for (int i = 0; i < mx_market_count(m); i++)
        unpnl += mx_acct_unrealized_e8(bn->srv, a, i);
    int64_t avail = mx_acct_available_e8(bn->srv, a);
    mx_buf_puts(o, "[{\"accountAlias\":\"SgsR\",\"asset\":\"USDT\",\"balance\":");
    mx_buf_dec(o, a->wallet_e8, 8, 1);
    mx_buf_puts(o, ",\"crossWalletBalance\":");
    mx_buf_dec(o, a->wallet_e8, 8, 1);
    mx_buf_puts(o, ",\"crossUnPnl\":");
    mx_buf_dec(o, unpnl, 8, 1);
    mx_buf_puts(o, ",\"availableBalance\":");
    mx_buf_dec(o, avail, 8, 1);
    mx_buf_puts(o, ",\"maxWithdrawAmount\":");
    mx_buf_dec(o, avail, 8, 1);
    mx_buf_printf(o, ",\"marginAvailable\":true,\"updateTime\":%lld}]",
                  (long long)mx_clock_ms(bn->srv, EX));
}

static int has_open(struct mx_account *a, int instr)
{
    for (const struct mx_order *o = a->open; o; o = o->next)
        if (o->instr == instr)
            return 1;
    return 0;
}

static void position_json(struct bn *bn, struct mx_buf *o, struct mx_account *a, int i, int v2)
{
    struct mx_market *m = mx_market_of(bn->srv);
    const struct mx_instr *in = mx_market_instr(m, i);
    const struct mx_book *b = mx_market_book(m, i);
    const struct mx_position *p = &a->pos[i];
    int64_t notional = mx_notional_e8(in, b->best_bid, p->amt);
    int64_t margin = (notional < 0 ? -notional : notional) / 20;
    mx_buf_printf(o, "{\"symbol\":\"%s\",\"positionSide\":\"BOTH\",\"positionAmt\":", in->symbol);
    mx_buf_dec(o, p->amt, in->qty_scale, 1);
    mx_buf_puts(o, ",\"entryPrice\":");
    mx_buf_dec(o, mx_pos_entry_e8(in, p), 8, 1);
    mx_buf_puts(o, ",\"breakEvenPrice\":");
    mx_buf_dec(o, mx_pos_entry_e8(in, p), 8, 1);
    mx_buf_puts(o, ",\"markPrice\":");
    fmt_px(o, in, b->best_bid);
    mx_buf_puts(o, ",\"unRealizedProfit\":");
    mx_buf_dec(o, mx_acct_unrealized_e8(bn->srv, a, i), 8, 1);
    mx_buf_puts(o, ",\"liquidationPrice\":\"0\",\"isolatedMargin\":\"0\",\"notional\":");
    mx_buf_dec(o, notional, 8, 1);
    mx_buf_puts(o, ",\"marginAsset\":\"USDT\",\"isolatedWallet\":\"0\",\"initialMargin\":");
    mx_buf_dec(o, margin, 8, 1);
    mx_buf_puts(o, ",\"maintMargin\":");
    mx_buf_dec(o, margin / 8, 8, 1);
    mx_buf_puts(o, ",\"positionInitialMargin\":");
    mx_buf_dec(o, margin, 8, 1);
    mx_buf_puts(o, ",\"openOrderInitialMargin\":\"0\",\"adl\":0,\"bidNotional\":\"0\","
                   "\"askNotional\":\"0\"");
    if (v2)
        mx_buf_puts(o, ",\"leverage\":\"20\",\"maxNotionalValue\":\"1000000\","
                       "\"marginType\":\"cross\",\"isAutoAddMargin\":\"false\"");
    mx_buf_printf(o, ",\"updateTime\":%lld}", (long long)mx_clock_ms(bn->srv, EX));
}

static void positions(struct bn *bn, struct mx_buf *o, struct mx_account *a,
                      const struct mx_instr *only, int v2)
{
    struct mx_market *m = mx_market_of(bn->srv);
    int first = 1;
    mx_buf_puts(o, "[");
    for (int i = 0; i < mx_market_count(m); i++) {
        if (only && only->idx != i)
            continue;
        if (!v2 && !a->pos[i].amt && !has_open(a, i))
            continue;
        if (!first)
            mx_buf_puts(o, ",");
        first = 0;
        position_json(bn, o, a, i, v2);
    }
    mx_buf_puts(o, "]");
}

static void account(struct bn *bn, struct mx_buf *o, struct mx_account *a, int v2)
{
    struct mx_market *m = mx_market_of(bn->srv);
    int64_t unpnl = 0, margin = 0;
    for (int i = 0; i < mx_market_count(m); i++) {
        unpnl += mx_acct_unrealized_e8(bn->srv, a, i);
        margin += a->pos[i].cost_e8 / 20;
    }
    int64_t avail = mx_acct_available_e8(bn->srv, a);
    struct {
        const char *k;
        int64_t v;
    } f[] = {{"totalInitialMargin", margin},
             {"totalMaintMargin", margin / 8},
             {"totalWalletBalance", a->wallet_e8},
             {"totalUnrealizedProfit", unpnl},
             {"totalMarginBalance", a->wallet_e8 + unpnl},
             {"totalPositionInitialMargin", margin},
             {"totalOpenOrderInitialMargin", 0},
             {"totalCrossWalletBalance", a->wallet_e8},
             {"totalCrossUnPnl", unpnl},
             {"availableBalance", avail},
             {"maxWithdrawAmount", avail}};
    mx_buf_puts(o, "{");
    if (v2)
        mx_buf_puts(o, "\"feeTier\":0,\"feeBurn\":false,\"canTrade\":true,\"canDeposit\":true,"
                       "\"canWithdraw\":true,\"updateTime\":0,\"multiAssetsMargin\":false,"
                       "\"tradeGroupId\":-1,");
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
        mx_buf_printf(o, "\"%s\":", f[k].k);
        mx_buf_dec(o, f[k].v, 8, 1);
        mx_buf_puts(o, ",");
    }
    mx_buf_puts(o, "\"assets\":[{\"asset\":\"USDT\",\"walletBalance\":");
    mx_buf_dec(o, a->wallet_e8, 8, 1);
    mx_buf_puts(o, ",\"unrealizedProfit\":");
    mx_buf_dec(o, unpnl, 8, 1);
    mx_buf_puts(o, ",\"marginBalance\":");
    mx_buf_dec(o, a->wallet_e8 + unpnl, 8, 1);
    mx_buf_puts(o, ",\"maintMargin\":");
    mx_buf_dec(o, margin / 8, 8, 1);
    mx_buf_puts(o, ",\"initialMargin\":");
    mx_buf_dec(o, margin, 8, 1);
    mx_buf_puts(o, ",\"positionInitialMargin\":");
    mx_buf_dec(o, margin, 8, 1);
    mx_buf_puts(o, ",\"openOrderInitialMargin\":\"0.00000000\",\"crossWalletBalance\":");
    mx_buf_dec(o, a->wallet_e8, 8, 1);
    mx_buf_puts(o, ",\"crossUnPnl\":");
    mx_buf_dec(o, unpnl, 8, 1);
    mx_buf_puts(o, ",\"availableBalance\":");
    mx_buf_dec(o, avail, 8, 1);
    mx_buf_puts(o, ",\"maxWithdrawAmount\":");
    mx_buf_dec(o, avail, 8, 1);
    mx_buf_printf(o, ",\"marginAvailable\":true,\"updateTime\":%lld}],\"positions\":",
                  (long long)mx_clock_ms(bn->srv, EX));
    positions(bn, o, a, NULL, v2);
    mx_buf_puts(o, "}");
}

/* ------------------------------------------------------------------------ */
/* orders                                                                   */
/* ------------------------------------------------------------------------ */

static int valid_client_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 36)
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr(".:/_-", *s)))
            return 0;
    return 1;
}

static int order_limits(struct bn *bn, struct mx_account *a, struct mx_resp *rs)
{
    struct bn_acct *d = acct_data(a);
    int64_t now = mx_wall_ms();
    if (d->o10_window != now / 10000) {
        d->o10_window = now / 10000;
        d->o10_n = 0;
    }
    if (d->o1m_window != now / 60000) {
        d->o1m_window = now / 60000;
        d->o1m_n = 0;
    }
    if (!mx_opts(bn->srv)->bench) {
        if (d->o10_n >= 300) {
            fail(rs, 429, -1015, "Too many new orders; current limit is 300 orders per 10 SECOND.");
            return -1;
        }
        if (d->o1m_n >= 1200) {
            fail(rs, 429, -1015, "Too many new orders; current limit is 1200 orders per MINUTE.");
            return -1;
        }
    }
    d->o10_n++;
    d->o1m_n++;
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)d->o10_n);
    mx_resp_header(rs, "x-mbx-order-count-10s", v);
    snprintf(v, sizeof v, "%lld", (long long)d->o1m_n);
    mx_resp_header(rs, "x-mbx-order-count-1m", v);
    return 0;
}

static void new_order(struct bn *bn, const struct mx_req *r, struct mx_resp *rs,
                      struct mx_account *a, int test)
{
    const struct mx_instr *in = sym_param(bn, r, rs, 1);
    if (!in)
        return;
    if (order_limits(bn, a, rs))
        return;
    struct mx_order q;
    memset(&q, 0, sizeof q);
    q.instr = in->idx;
    char v[128];
    if (param(r, "side", v, sizeof v) <= 0) {
        fail(rs, 400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
        return;
    }
    if (!strcmp(v, "BUY"))
        q.side = 1;
    else if (!strcmp(v, "SELL"))
        q.side = -1;
    else {
        fail(rs, 400, -1117, "Invalid side.");
        return;
    }
    if (param(r, "type", v, sizeof v) <= 0) {
        fail(rs, 400, -1102, "Mandatory parameter 'type' was not sent, was empty/null, or malformed.");
        return;
    }
    if (!strcmp(v, "LIMIT"))
        q.type = MX_LIMIT;
    else if (!strcmp(v, "MARKET"))
        q.type = MX_MARKET;
    else if (!strcmp(v, "STOP") || !strcmp(v, "STOP_MARKET") || !strcmp(v, "TAKE_PROFIT") ||
             !strcmp(v, "TAKE_PROFIT_MARKET") || !strcmp(v, "TRAILING_STOP_MARKET")) {
        fail(rs, 400, -4120,
             "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.");
        return;
    } else {
        fail(rs, 400, -1116, "Invalid orderType.");
        return;
    }
    if (param(r, "positionSide", v, sizeof v) > 0 && strcmp(v, "BOTH") != 0) {
        fail(rs, 400, -4061, "Order's position side does not match user's setting.");
        return;
    }
    if (param(r, "quantity", v, sizeof v) <= 0) {
        fail(rs, 400, -1102,
             "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
        return;
    }
    int prc = mx_parse_dec(v, strlen(v), in->qty_scale, &q.qty);
    if (prc == -2) {
        fail(rs, 400, -1111, "Precision is over the maximum defined for this asset.");
        return;
    }
    if (prc || q.qty <= 0) {
        fail(rs, 400, -4003, "Quantity less than or equal to zero.");
        return;
    }
    if (q.qty > (int64_t)1000 * 1000 || (q.type == MX_MARKET && q.qty > (int64_t)120 * 1000)) {
        fail(rs, 400, -4005, "Quantity greater than max quantity.");
        return;
    }
    const struct mx_book *b = mx_market_book(mx_market_of(bn->srv), in->idx);
    int64_t mark = b->best_bid;
    if (q.type == MX_LIMIT) {
        if (param(r, "timeInForce", v, sizeof v) <= 0) {
            fail(rs, 400, -1102,
                 "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
            return;
        }
        if (!strcmp(v, "GTC"))
            q.tif = MX_GTC;
        else if (!strcmp(v, "IOC"))
            q.tif = MX_IOC;
        else if (!strcmp(v, "FOK"))
            q.tif = MX_FOK;
        else if (!strcmp(v, "GTX"))
            q.tif = MX_GTX;
        else {
            fail(rs, 400, -1115, "Invalid timeInForce.");
            return;
        }
        if (param(r, "price", v, sizeof v) <= 0) {
            fail(rs, 400, -1102,
                 "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
            return;
        }
        prc = mx_parse_dec(v, strlen(v), in->price_scale, &q.price);
        if (prc == -2) {
            fail(rs, 400, -1111, "Precision is over the maximum defined for this asset.");
            return;
        }
        if (prc || q.price <= 0) {
            fail(rs, 400, -4013, "Price less than min price.");
            return;
        }
        char lim[48], msg[96];
        if (q.side > 0 && q.price * 10000 > mark * 11500) {
            mx_fmt_dec(lim, sizeof lim, mark * 115 / 100, in->price_scale);
            snprintf(msg, sizeof msg, "Limit price can't be higher than %s.", lim);
            fail(rs, 400, -4016, msg);
            return;
        }
        if (q.side < 0 && q.price * 10000 < mark * 8500) {
            mx_fmt_dec(lim, sizeof lim, mark * 85 / 100, in->price_scale);
            snprintf(msg, sizeof msg, "Limit price can't be lower than %s.", lim);
            fail(rs, 400, -4024, msg);
            return;
        }
    }
    if (param(r, "reduceOnly", v, sizeof v) > 0) {
        if (!strcmp(v, "true"))
            q.reduce_only = 1;
        else if (strcmp(v, "false") != 0) {
            fail(rs, 400, -1102, "Parameter 'reduceOnly' must be 'true' or 'false'.");
            return;
        }
    }
    int64_t notional_px = q.type == MX_MARKET ? mark : q.price;
    if (!q.reduce_only && mx_notional_e8(in, notional_px, q.qty) < 5 * 100000000LL) {
        fail(rs, 400, -4164,
             "Order's notional must be no smaller than 5 (unless you choose reduce only).");
        return;
    }
    int cl = param(r, "newClientOrderId", v, sizeof v);
    if (cl == -2 || (cl >= 0 && !valid_client_id(v))) {
        fail(rs, 400, -4015, "Client order id is not valid.");
        return;
    }
    if (cl > 0) {
        int is_open = 0;
        if (mx_acct_order(a, in->idx, 0, v, &is_open) && is_open) {
            fail(rs, 400, -4116, "ClientOrderId is duplicated.");
            return;
        }
        mx_copy(q.client_id, sizeof q.client_id, v);
    }
    int result = param(r, "newOrderRespType", v, sizeof v) > 0 && !strcmp(v, "RESULT");
    int nopen = 0;
    for (const struct mx_order *o = a->open; o; o = o->next)
        nopen += o->instr == in->idx;
    if (nopen >= 200) {
        fail(rs, 400, -2025, "Reach max open order limit.");
        return;
    }
    if (test) {
        mx_buf_puts(&rs->body, "{}");
        return;
    }
    struct mx_order out;
    int rc = mx_acct_place(bn->srv, a, &q, &out);
    if (rc == -1) {
        fail(rs, 400, -2019, "Margin is insufficient.");
        return;
    }
    if (rc == -2) {
        fail(rs, 400, -5022,
             "Due to the order could not be executed as maker, the Post Only order will be rejected.");
        return;
    }
    if (rc == -3) {
        fail(rs, 400, -2022, "ReduceOnly Order is rejected.");
        return;
    }
    mx_count(bn->srv, EX, "orders_placed", 1);
    if (!result) {
        /* ACK: the state as accepted, before matching */
        out.status = MX_NEW;
        out.filled = 0;
        out.cum_quote_e8 = 0;
    }
    order_json(bn, &rs->body, &out, 0);
}

static int order_ref(const struct mx_req *r, struct mx_resp *rs, uint64_t *id, char *cid,
                     size_t ccap)
{
    char v[64];
    *id = 0;
    cid[0] = '\0';
    if (param(r, "orderId", v, sizeof v) > 0) {
        int64_t x;
        if (mx_parse_dec(v, strlen(v), 0, &x) || x <= 0) {
            fail(rs, 400, -1102, "Parameter 'orderId' was malformed.");
            return -1;
        }
        *id = (uint64_t)x;
        return 0;
    }
    if (param(r, "origClientOrderId", cid, ccap) > 0)
        return 0;
    fail(rs, 400, -1102, "Either orderId or origClientOrderId must be sent.");
    return -1;
}

static void query_order(struct bn *bn, const struct mx_req *r, struct mx_resp *rs,
                        struct mx_account *a, int open_only)
{
    const struct mx_instr *in = sym_param(bn, r, rs, 1);
    uint64_t id;
    char cid[64];
    if (!in || order_ref(r, rs, &id, cid, sizeof cid))
        return;
    int is_open = 0;
    const struct mx_order *o = mx_acct_order(a, in->idx, id, cid, &is_open);
    if (!o || (open_only && !is_open)) {
        fail(rs, 400, -2013, "Order does not exist.");
        return;
    }
    order_json(bn, &rs->body, o, 1);
}

static void cancel_order(struct bn *bn, const struct mx_req *r, struct mx_resp *rs,
                         struct mx_account *a)
{
    const struct mx_instr *in = sym_param(bn, r, rs, 1);
    uint64_t id;
    char cid[64];
    if (!in || order_ref(r, rs, &id, cid, sizeof cid))
        return;
    struct mx_order out;
    if (mx_acct_cancel(bn->srv, a, in->idx, id, cid, &out)) {
        fail(rs, 400, -2011, "Unknown order sent.");
        return;
    }
    mx_count(bn->srv, EX, "orders_canceled", 1);
    order_json(bn, &rs->body, &out, 0);
}

static void open_orders(struct bn *bn, const struct mx_req *r, struct mx_resp *rs,
                        struct mx_account *a, const struct mx_instr *in)
{
    (void)r;
    int first = 1;
    mx_buf_puts(&rs->body, "[");
    for (const struct mx_order *o = a->open; o; o = o->next) {
        if (in && o->instr != in->idx)
            continue;
        if (!first)
            mx_buf_puts(&rs->body, ",");
        first = 0;
        order_json(bn, &rs->body, o, 1);
    }
    mx_buf_puts(&rs->body, "]");
}

/* ------------------------------------------------------------------------ */
/* listenKey                                                                */
/* ------------------------------------------------------------------------ */

static void new_listen_key(struct bn *bn, struct bn_acct *d)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 64; i++)
        d->listen_key[i] = al[mx_rng_next(&bn->rng) % 62];
    d->listen_key[64] = '\0';
}

static void listen_key(struct bn *bn, const struct mx_req *r, struct mx_resp *rs,
                       struct mx_account *a)
{
    struct bn_acct *d = acct_data(a);
    int64_t now = mx_wall_ms();
    int64_t ttl = mx_opts(bn->srv)->listenkey_ttl_ms;
    if (!strcmp(r->method, "POST")) {
        if (!d->listen_key[0] || d->lk_expires <= now)
            new_listen_key(bn, d);
        d->lk_expires = now + ttl;
        mx_buf_printf(&rs->body, "{\"listenKey\":\"%s\"}", d->listen_key);
        mx_count(bn->srv, EX, "listenkeys_created", 1);
    } else if (!strcmp(r->method, "PUT")) {
        if (!d->listen_key[0] || d->lk_expires <= now) {
            fail(rs, 400, -1125,
                 "This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate `listenKey`");
            return;
        }
        d->lk_expires = now + ttl;
        mx_buf_printf(&rs->body, "{\"listenKey\":\"%s\"}", d->listen_key);
        mx_count(bn->srv, EX, "listenkey_keepalives", 1);
    } else if (!strcmp(r->method, "DELETE")) {
        d->listen_key[0] = '\0';
        d->lk_expires = 0;
        mx_buf_puts(&rs->body, "{}");
    } else {
        fail(rs, 405, -1000, "Method not allowed.");
    }
}

/* ------------------------------------------------------------------------ */
/* REST dispatch                                                            */
/* ------------------------------------------------------------------------ */

static void http(void *self, const struct mx_req *r, struct mx_resp *rs)
{
    struct bn *bn = self;
    const char *p = r->path;
    int get = !strcmp(r->method, "GET"), post = !strcmp(r->method, "POST"),
        del = !strcmp(r->method, "DELETE");
    char v[64];
    int has_sym = param(r, "symbol", v, sizeof v) > 0;
    int64_t weight = 1;
    /* weights per binance.md §3.1 */
    if (!strcmp(p, "/fapi/v1/depth")) {
        int64_t lim = 500;
        if (param(r, "limit", v, sizeof v) > 0)
            mx_parse_dec(v, strlen(v), 0, &lim);
        weight = lim <= 50 ? 2 : lim <= 100 ? 5 : lim <= 500 ? 10 : 20;
    } else if (!strcmp(p, "/fapi/v1/ticker/bookTicker")) {
        weight = has_sym ? 2 : 5;
    } else if (!strcmp(p, "/fapi/v1/ticker/price") || !strcmp(p, "/fapi/v2/ticker/price")) {
        weight = has_sym ? 1 : 2;
    } else if (!strcmp(p, "/fapi/v1/ticker/24hr") || !strcmp(p, "/fapi/v1/openOrders")) {
        weight = has_sym ? 1 : 40;
    } else if (!strcmp(p, "/fapi/v1/premiumIndex")) {
        weight = has_sym ? 1 : 10;
    } else if (!strncmp(p, "/fapi/v2/", 9) || !strncmp(p, "/fapi/v3/", 9)) {
        weight = 5;
    } else if (!strcmp(p, "/fapi/v1/order") && (post || !strcmp(r->method, "PUT"))) {
        weight = 0;
    } else if (!strcmp(p, "/fapi/v1/positionSide/dual") && get) {
        weight = 30;
    }
    if (!strcmp(p, "/fapi/v2/ticker/price"))
        weight = has_sym ? 1 : 2;
    struct ipw *ipe;
    int admitted = admit(bn, r, rs, weight, &ipe) == 0;
    char used[32];
    snprintf(used, sizeof used, "%lld", (long long)ipe->used);
    mx_resp_header(rs, "x-mbx-used-weight-1m", used);
    if (!admitted)
        return;

    struct mx_market *m = mx_market_of(bn->srv);
    struct mx_account *a;
    const struct mx_instr *in = NULL;
    if (!strcmp(p, "/fapi/v1/ping") && get) {
        mx_buf_puts(&rs->body, "{}");
    } else if (!strcmp(p, "/fapi/v1/time") && get) {
        mx_buf_printf(&rs->body, "{\"serverTime\":%lld}", (long long)mx_clock_ms(bn->srv, EX));
    } else if (!strcmp(p, "/fapi/v1/exchangeInfo") && get) {
        exchange_info(bn, &rs->body);
    } else if (!strcmp(p, "/fapi/v1/depth") && get) {
        if (!(in = sym_param(bn, r, rs, 1)))
            return;
        int64_t lim = 500;
        if (param(r, "limit", v, sizeof v) > 0 &&
            (mx_parse_dec(v, strlen(v), 0, &lim) ||
             !(lim == 5 || lim == 10 || lim == 20 || lim == 50 || lim == 100 || lim == 500 ||
               lim == 1000))) {
            fail(rs, 400, -1100,
                 "Illegal characters found in parameter 'limit'; legal range is '5, 10, 20, 50, 100, 500, 1000'.");
            return;
        }
        depth(bn, &rs->body, in->idx, (int)lim);
    } else if ((!strcmp(p, "/fapi/v1/ticker/price") || !strcmp(p, "/fapi/v2/ticker/price") ||
                !strcmp(p, "/fapi/v1/ticker/bookTicker")) && get) {
        int book = !strcmp(p, "/fapi/v1/ticker/bookTicker");
        struct mx_buf *cache = book ? bn->tick_book : bn->tick_price;
        if (has_sym) {
            if (!(in = sym_param(bn, r, rs, 1)))
                return;
            if (!cache[in->idx].len)
                cache_tickers(bn, in->idx);
            mx_buf_put(&rs->body, cache[in->idx].p, cache[in->idx].len);
        } else {
            mx_buf_puts(&rs->body, "[");
            for (int i = 0; i < mx_market_count(m); i++) {
                if (!cache[i].len)
                    cache_tickers(bn, i);
                if (i)
                    mx_buf_puts(&rs->body, ",");
                mx_buf_put(&rs->body, cache[i].p, cache[i].len);
            }
            mx_buf_puts(&rs->body, "]");
        }
    } else if (!strcmp(p, "/fapi/v1/ticker/24hr") && get) {
        if (has_sym) {
            if (!(in = sym_param(bn, r, rs, 1)))
                return;
            ticker_24h(bn, &rs->body, in->idx);
        } else {
            mx_buf_puts(&rs->body, "[");
            for (int i = 0; i < mx_market_count(m); i++) {
                if (i)
                    mx_buf_puts(&rs->body, ",");
                ticker_24h(bn, &rs->body, i);
            }
            mx_buf_puts(&rs->body, "]");
        }
    } else if (!strcmp(p, "/fapi/v1/premiumIndex") && get) {
        int all = !has_sym;
        if (!all && !(in = sym_param(bn, r, rs, 1)))
            return;
        if (all)
            mx_buf_puts(&rs->body, "[");
        for (int i = 0; i < mx_market_count(m); i++) {
            if (!all && i != in->idx)
                continue;
            const struct mx_instr *x = mx_market_instr(m, i);
            const struct mx_book *b = mx_market_book(m, i);
            int64_t now = mx_clock_ms(bn->srv, EX);
            mx_buf_printf(&rs->body, "%s{\"symbol\":\"%s\",\"markPrice\":", all && i ? "," : "",
                          x->symbol);
            fmt_px(&rs->body, x, b->best_bid);
            mx_buf_puts(&rs->body, ",\"indexPrice\":");
            fmt_px(&rs->body, x, b->best_bid);
            mx_buf_puts(&rs->body, ",\"estimatedSettlePrice\":");
            fmt_px(&rs->body, x, b->best_bid);
            mx_buf_printf(&rs->body,
                          ",\"lastFundingRate\":\"0.00010000\",\"interestRate\":\"0.00010000\","
                          "\"nextFundingTime\":%lld,\"time\":%lld}",
                          (long long)(now / 28800000 + 1) * 28800000, (long long)now);
        }
        if (all)
            mx_buf_puts(&rs->body, "]");
    } else if (!strcmp(p, "/fapi/v1/listenKey")) {
        if ((a = api_key(bn, r, rs)))
            listen_key(bn, r, rs, a);
    } else if ((!strcmp(p, "/fapi/v2/balance") || !strcmp(p, "/fapi/v3/balance")) && get) {
        if ((a = signed_req(bn, r, rs)))
            balance(bn, &rs->body, a);
    } else if ((!strcmp(p, "/fapi/v2/account") || !strcmp(p, "/fapi/v3/account")) && get) {
        if ((a = signed_req(bn, r, rs)))
            account(bn, &rs->body, a, p[7] == '2');
    } else if ((!strcmp(p, "/fapi/v2/positionRisk") || !strcmp(p, "/fapi/v3/positionRisk")) &&
               get) {
        if (!(a = signed_req(bn, r, rs)))
            return;
        in = NULL;
        if (has_sym && !(in = sym_param(bn, r, rs, 1)))
            return;
        positions(bn, &rs->body, a, in, p[7] == '2');
    } else if (!strcmp(p, "/fapi/v1/order") || !strcmp(p, "/fapi/v1/order/test")) {
        if (!(a = signed_req(bn, r, rs)))
            return;
        if (post)
            new_order(bn, r, rs, a, p[14] == '/');
        else if (get && !p[14])
            query_order(bn, r, rs, a, 0);
        else if (del && !p[14])
            cancel_order(bn, r, rs, a);
        else
            fail(rs, 400, -1000, "Modify order is not supported by the mock.");
    } else if (!strcmp(p, "/fapi/v1/openOrder") && get) {
        if ((a = signed_req(bn, r, rs)))
            query_order(bn, r, rs, a, 1);
    } else if (!strcmp(p, "/fapi/v1/openOrders") && get) {
        if (!(a = signed_req(bn, r, rs)))
            return;
        in = NULL;
        if (has_sym && !(in = sym_param(bn, r, rs, 1)))
            return;
        open_orders(bn, r, rs, a, in);
    } else if (!strcmp(p, "/fapi/v1/allOpenOrders") && del) {
        if (!(a = signed_req(bn, r, rs)) || !(in = sym_param(bn, r, rs, 1)))
            return;
        struct mx_order out;
        for (struct mx_order *o = a->open, *n; o; o = n) {
            n = o->next;
            if (o->instr == in->idx)
                mx_acct_cancel(bn->srv, a, in->idx, o->id, NULL, &out);
        }
        mx_buf_puts(&rs->body, "{\"code\":200,\"msg\":\"The operation of cancel all open order is done.\"}");
    } else if (!strcmp(p, "/fapi/v1/positionSide/dual")) {
        if (!signed_req(bn, r, rs))
            return;
        if (get)
            mx_buf_puts(&rs->body, "{\"dualSidePosition\":false}");
        else if (param(r, "dualSidePosition", v, sizeof v) > 0 && !strcmp(v, "false"))
            fail(rs, 400, -4059, "No need to change position side.");
        else
            fail(rs, 400, -4068, "The mock supports one-way mode only.");
    } else {
        fail(rs, 404, -1000, "Not found.");
    }
}

static int claims_http(const char *path)
{
    return !strncmp(path, "/fapi/", 6) || !strncmp(path, "/futures/data/", 14);
}

/* /ws/..., /stream, optionally behind /public, /market or /private. Plain
 * "/ws" belongs to Hyperliquid unless forced with /binance/ws. */
static const char *ws_route(const char *path)
{
    if (!strncmp(path, "/public/", 8) || !strncmp(path, "/market/", 8))
        path += 7;
    else if (!strncmp(path, "/private/", 9))
        path += 8;
    return path;
}

static int claims_ws(const char *path)
{
    const char *p = ws_route(path);
    if (p != path)
        return !strncmp(p, "/ws", 3) || !strncmp(p, "/stream", 7);
    return !strncmp(p, "/ws/", 4) || !strcmp(p, "/stream") || !strcmp(p, "/stream/");
}

/* ------------------------------------------------------------------------ */
/* WebSocket                                                                */
/* ------------------------------------------------------------------------ */

static int add_sub(struct bn_ws *w, const char *name, size_t len)
{
    if (!len || len >= sizeof w->subs[0])
        return -1;
    for (int i = 0; i < w->nsubs; i++)
        if (strlen(w->subs[i]) == len && !strncasecmp(w->subs[i], name, len))
            return 0;
    if (w->nsubs >= MAX_SUBS)
        return -1;
    memcpy(w->subs[w->nsubs], name, len);
    w->subs[w->nsubs][len] = '\0';
    w->nsubs++;
    return 0;
}

static void del_sub(struct bn_ws *w, const char *name)
{
    for (int i = 0; i < w->nsubs; i++)
        if (!strcasecmp(w->subs[i], name)) {
            memmove(w->subs[i], w->subs[i + 1], (size_t)(w->nsubs - i - 1) * sizeof w->subs[0]);
            w->nsubs--;
            return;
        }
}

static struct mx_account *by_listen_key(struct bn *bn, const char *k)
{
    int64_t now = mx_wall_ms();
    for (struct mx_account *a = mx_acct_first(bn->srv); a; a = a->next) {
        struct bn_acct *d = a->module_data;
        if (!strcmp(a->exchange, EX) && d && d->listen_key[0] && d->lk_expires > now &&
            !strcmp(d->listen_key, k))
            return a;
    }
    return NULL;
}

static void add_streams(struct bn *bn, struct bn_ws *w, const char *list, char sep)
{
    while (*list) {
        const char *e = strchr(list, sep);
        size_t n = e ? (size_t)(e - list) : strlen(list);
        char one[80];
        if (n && n < sizeof one) {
            memcpy(one, list, n);
            one[n] = '\0';
            struct mx_account *a;
            int numeric = 1;
            for (size_t k = 0; k < n; k++)
                numeric &= isdigit((unsigned char)one[k]) != 0;
            if (numeric) {
                /* ccxt's stream index segment (/public/ws/0): not a stream */
            } else if (!strchr(one, '@') && (a = by_listen_key(bn, one))) {
                w->acct = a;
                memcpy(w->listen_key, a->module_data ? ((struct bn_acct *)a->module_data)->listen_key : "", 65);
            } else {
                add_sub(w, one, n);
            }
        }
        if (!e)
            break;
        list = e + 1;
    }
}

static int ws_open(void *self, struct mx_ws *ws, const char *path, const char *query)
{
    struct bn *bn = self;
    struct bn_ws *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    mx_ws_set_user(ws, w);
    w->opened = mx_mono_ms();
    const char *p = ws_route(path);
    char buf[4096];
    if (!strncmp(p, "/stream", 7)) {
        w->combined = 1;
        if (mx_form_get(query, strlen(query), "streams", buf, sizeof buf) > 0)
            add_streams(bn, w, buf, '/');
    } else if (!strncmp(p, "/ws/", 4)) {
        add_streams(bn, w, p + 4, '/');
    }
    if (mx_form_get(query, strlen(query), "listenKey", buf, sizeof buf) > 0) {
        struct mx_account *a = by_listen_key(bn, buf);
        if (!a) {
            mx_count(bn->srv, EX, "ws_bad_listenkey", 1);
            return -1;
        }
        w->acct = a;
        memcpy(w->listen_key, ((struct bn_acct *)a->module_data)->listen_key, 65);
    }
    return 0;
}

static void ws_close(void *self, struct mx_ws *ws)
{
    (void)self;
    free(mx_ws_user(ws));
    mx_ws_set_user(ws, NULL);
}

static void ws_reply(struct mx_ws *ws, const char *s) { mx_ws_send(ws, s, strlen(s)); }

static void ws_message(void *self, struct mx_ws *ws, const char *data, size_t len)
{
    struct bn *bn = self;
    struct bn_ws *w = mx_ws_user(ws);
    int64_t now = mx_wall_ms();
    if (w->rx_window != now / 1000) {
        w->rx_window = now / 1000;
        w->rx_n = 0;
    }
    if (++w->rx_n > 10) {
        /* binance.md §6.4: more than 10 incoming messages per second drops the connection */
        mx_count(bn->srv, EX, "ws_rate_closed", 1);
        mx_ws_close(ws, 1008, "Too many messages");
        return;
    }
    cJSON *j = cJSON_ParseWithLength(data, len);
    struct mx_buf *o = &bn->scratch;
    mx_buf_reset(o);
    if (!j) {
        ws_reply(ws, "{\"code\":3,\"msg\":\"Invalid JSON: expected value at line 1 column 1\"}");
        cJSON_Delete(j);
        return;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(j, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "params");
    /* the range test comes first: converting a double outside int64 is
     * undefined (found by fuzz_mockex_binance) */
    if (!cJSON_IsNumber(id) || !(id->valuedouble >= 0 && id->valuedouble < 0x1p63) ||
        id->valuedouble != (double)(int64_t)id->valuedouble) {
        ws_reply(ws, "{\"code\":2,\"msg\":\"Invalid request: request ID must be an unsigned integer\"}");
    } else if (!cJSON_IsString(method)) {
        ws_reply(ws, "{\"code\":2,\"msg\":\"Invalid request: missing field `method` at line 1 column 1\"}");
    } else {
        long long idv = (long long)id->valuedouble;
        const char *m = method->valuestring;
        if (!strcmp(m, "SUBSCRIBE") || !strcmp(m, "UNSUBSCRIBE")) {
            int sub = m[0] == 'S';
            mx_count(bn->srv, EX, sub ? "subscribe_messages" : "unsubscribe_messages", 1);
            const cJSON *it;
            int bad = !cJSON_IsArray(params);
            cJSON_ArrayForEach(it, params)
            {
                if (!cJSON_IsString(it)) {
                    bad = 1;
                    continue;
                }
                if (sub) {
                    if (add_sub(w, it->valuestring, strlen(it->valuestring)))
                        bad = 1;
                } else {
                    del_sub(w, it->valuestring);
                }
            }
            if (bad)
                mx_buf_printf(o, "{\"code\":2,\"msg\":\"Invalid request: bad params\",\"id\":%lld}", idv);
            else
                mx_buf_printf(o, "{\"result\":null,\"id\":%lld}", idv);
        } else if (!strcmp(m, "LIST_SUBSCRIPTIONS")) {
            mx_buf_puts(o, "{\"result\":[");
            for (int i = 0; i < w->nsubs; i++) {
                if (i)
                    mx_buf_puts(o, ",");
                mx_buf_json_str(o, w->subs[i]);
            }
            mx_buf_printf(o, "],\"id\":%lld}", idv);
        } else if (!strcmp(m, "SET_PROPERTY") || !strcmp(m, "GET_PROPERTY")) {
            const cJSON *name = cJSON_GetArrayItem(params, 0);
            if (!cJSON_IsString(name))
                mx_buf_printf(o, "{\"code\":2,\"msg\":\"Invalid request: property name must be a string\",\"id\":%lld}", idv);
            else if (strcmp(name->valuestring, "combined") != 0)
                mx_buf_printf(o, "{\"code\":0,\"msg\":\"Unknown property\",\"id\":%lld}", idv);
            else if (m[0] == 'G')
                mx_buf_printf(o, "{\"result\":%s,\"id\":%lld}", w->combined ? "true" : "false", idv);
            else {
                const cJSON *val = cJSON_GetArrayItem(params, 1);
                if (!cJSON_IsBool(val))
                    mx_buf_printf(o, "{\"code\":1,\"msg\":\"Invalid value type: expected Boolean\",\"id\":%lld}", idv);
                else {
                    w->combined = cJSON_IsTrue(val);
                    mx_buf_printf(o, "{\"result\":null,\"id\":%lld}", idv);
                }
            }
        } else {
            mx_buf_printf(o,
                          "{\"code\":2,\"msg\":\"Invalid request: unknown variant %s, expected one of "
                          "SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY\","
                          "\"id\":%lld}",
                          strlen(m) < 40 ? m : "(long)", idv);
        }
        mx_ws_send(ws, o->p, o->len);
    }
    cJSON_Delete(j);
}

/* Sends payload (a JSON object) for stream `name`, wrapped when combined. */
static void push(struct bn *bn, struct mx_ws *ws, struct bn_ws *w, const char *name,
                 const struct mx_buf *payload)
{
    if (!w->combined) {
        mx_ws_send(ws, payload->p, payload->len);
        return;
    }
    struct mx_buf *f = &bn->frame;
    mx_buf_reset(f);
    mx_buf_puts(f, "{\"stream\":");
    mx_buf_json_str(f, name);
    mx_buf_puts(f, ",\"data\":");
    mx_buf_put(f, payload->p, payload->len);
    mx_buf_puts(f, "}");
    mx_ws_send(ws, f->p, f->len);
}

struct step_ctx {
    struct bn *bn;
    const struct mx_step *st;
    char lsym[24];
    struct mx_buf book, agg, trade, diff;
    int have_book, have_agg, have_trade, have_diff;
};

static void levels(struct mx_buf *o, const struct mx_instr *in, const struct mx_level *l, int n)
{
    mx_buf_puts(o, "[");
    for (int k = 0; k < n; k++) {
        mx_buf_puts(o, k ? ",[" : "[");
        mx_buf_dec(o, l[k].px, in->price_scale, 1);
        mx_buf_puts(o, ",");
        mx_buf_dec(o, l[k].qty, in->qty_scale, 1);
        mx_buf_puts(o, "]");
    }
    mx_buf_puts(o, "]");
}

static void step_ws(struct mx_ws *ws, void *arg)
{
    struct step_ctx *c = arg;
    struct bn_ws *w = mx_ws_user(ws);
    if (!w)
        return;
    const struct mx_step *st = c->st;
    const struct mx_instr *in = st->ins;
    const struct mx_book *b = mx_market_book(mx_market_of(c->bn->srv), in->idx);
    size_t sl = strlen(c->lsym);
    for (int i = 0; i < w->nsubs; i++) {
        const char *s = w->subs[i];
        if (strncasecmp(s, c->lsym, sl) != 0 || s[sl] != '@')
            continue;
        const char *kind = s + sl + 1;
        if (!strcasecmp(kind, "bookTicker")) {
            if (!c->have_book) {
                c->have_book = 1;
                mx_buf_printf(&c->book, "{\"e\":\"bookTicker\",\"u\":%llu,\"E\":%lld,\"T\":%lld,\"s\":\"%s\",\"b\":",
                              (unsigned long long)st->last_id, (long long)st->time_ms,
                              (long long)st->time_ms, in->symbol);
                fmt_px(&c->book, in, mx_book_bid(b));
                mx_buf_puts(&c->book, ",\"B\":");
                fmt_qty(&c->book, in, b->bid_qty[0]);
                mx_buf_puts(&c->book, ",\"a\":");
                fmt_px(&c->book, in, mx_book_ask(b));
                mx_buf_puts(&c->book, ",\"A\":");
                fmt_qty(&c->book, in, b->ask_qty[0]);
                mx_buf_puts(&c->book, "}");
            }
            push(c->bn, ws, w, s, &c->book);
        } else if (!strcasecmp(kind, "aggTrade") && st->has_trade) {
            if (!c->have_agg) {
                c->have_agg = 1;
                mx_buf_printf(&c->agg, "{\"e\":\"aggTrade\",\"E\":%lld,\"s\":\"%s\",\"a\":%llu,\"p\":",
                              (long long)st->time_ms, in->symbol, (unsigned long long)st->trade_id);
                fmt_px(&c->agg, in, st->trade_px);
                mx_buf_puts(&c->agg, ",\"q\":");
                fmt_qty(&c->agg, in, st->trade_qty);
                mx_buf_puts(&c->agg, ",\"nq\":");
                fmt_qty(&c->agg, in, st->trade_qty);
                mx_buf_printf(&c->agg, ",\"f\":%llu,\"l\":%llu,\"T\":%lld,\"m\":%s}",
                              (unsigned long long)st->trade_id, (unsigned long long)st->trade_id,
                              (long long)st->time_ms, st->trade_buyer_maker ? "true" : "false");
            }
            push(c->bn, ws, w, s, &c->agg);
        } else if (!strcasecmp(kind, "trade") && st->has_trade) {
            if (!c->have_trade) {
                c->have_trade = 1;
                mx_buf_printf(&c->trade, "{\"e\":\"trade\",\"E\":%lld,\"T\":%lld,\"s\":\"%s\",\"t\":%llu,\"p\":",
                              (long long)st->time_ms, (long long)st->time_ms, in->symbol,
                              (unsigned long long)st->trade_id);
                fmt_px(&c->trade, in, st->trade_px);
                mx_buf_puts(&c->trade, ",\"q\":");
                fmt_qty(&c->trade, in, st->trade_qty);
                mx_buf_printf(&c->trade, ",\"X\":\"MARKET\",\"m\":%s}",
                              st->trade_buyer_maker ? "true" : "false");
            }
            push(c->bn, ws, w, s, &c->trade);
        } else if (!strncasecmp(kind, "depth", 5)) {
            const char *lv = kind + 5;
            long lvl = strtol(lv, NULL, 10); /* "depth5@100ms": the digits up to '@' */
            int n = lvl == 5 || lvl == 10 || lvl == 20 ? (int)lvl : 0;
            if (n) {
                /* partial depth: top N levels, same event type and id fields */
                struct mx_buf *o = &c->bn->scratch;
                mx_buf_reset(o);
                mx_buf_printf(o, "{\"e\":\"depthUpdate\",\"E\":%lld,\"T\":%lld,\"s\":\"%s\",\"U\":%llu,\"u\":%llu,\"pu\":%llu,\"b\":",
                              (long long)st->time_ms, (long long)st->time_ms, in->symbol,
                              (unsigned long long)st->first_id, (unsigned long long)st->last_id,
                              (unsigned long long)st->prev_id);
                struct mx_level top[20];
                for (int k = 0; k < n; k++)
                    top[k] = (struct mx_level){b->best_bid - k, b->bid_qty[k]};
                levels(o, in, top, n);
                mx_buf_puts(o, ",\"a\":");
                for (int k = 0; k < n; k++)
                    top[k] = (struct mx_level){b->best_bid + 1 + k, b->ask_qty[k]};
                levels(o, in, top, n);
                mx_buf_puts(o, "}");
                push(c->bn, ws, w, s, o);
            } else if (!*lv || *lv == '@') {
                if (mx_fault_ws_gap(c->bn->srv, ws)) {
                    mx_count(c->bn->srv, EX, "ws_gaps", 1);
                    continue;
                }
                if (!c->have_diff) {
                    c->have_diff = 1;
                    mx_buf_printf(&c->diff, "{\"e\":\"depthUpdate\",\"E\":%lld,\"T\":%lld,\"s\":\"%s\",\"U\":%llu,\"u\":%llu,\"pu\":%llu,\"b\":",
                                  (long long)st->time_ms, (long long)st->time_ms, in->symbol,
                                  (unsigned long long)st->first_id, (unsigned long long)st->last_id,
                                  (unsigned long long)st->prev_id);
                    levels(&c->diff, in, st->bids, st->nbids);
                    mx_buf_puts(&c->diff, ",\"a\":");
                    levels(&c->diff, in, st->asks, st->nasks);
                    mx_buf_puts(&c->diff, "}");
                }
                push(c->bn, ws, w, s, &c->diff);
            }
        }
    }
}

static void on_step(void *self, const struct mx_step *st)
{
    struct bn *bn = self;
    cache_tickers(bn, st->ins->idx);
    struct step_ctx c;
    memset(&c, 0, sizeof c);
    c.bn = bn;
    c.st = st;
    size_t k = 0;
    for (; st->ins->symbol[k] && k + 1 < sizeof c.lsym; k++)
        c.lsym[k] = (char)tolower((unsigned char)st->ins->symbol[k]);
    c.lsym[k] = '\0';
    mx_ws_foreach(bn->srv, EX, step_ws, &c);
    mx_buf_free(&c.book);
    mx_buf_free(&c.agg);
    mx_buf_free(&c.trade);
    mx_buf_free(&c.diff);
}

/* 1 s streams: <symbol>@ticker, @markPrice[@1s] */
static void second_ws(struct mx_ws *ws, void *arg)
{
    struct bn *bn = arg;
    struct bn_ws *w = mx_ws_user(ws);
    if (!w)
        return;
    struct mx_market *m = mx_market_of(bn->srv);
    for (int i = 0; i < w->nsubs; i++) {
        const char *s = w->subs[i];
        const char *at = strchr(s, '@');
        if (!at)
            continue;
        char sym[24];
        size_t n = (size_t)(at - s);
        if (n >= sizeof sym)
            continue;
        memcpy(sym, s, n);
        sym[n] = '\0';
        const struct mx_instr *in = mx_market_find(m, sym);
        if (!in)
            continue;
        const struct mx_book *b = mx_market_book(m, in->idx);
        struct mx_buf *o = &bn->scratch;
        mx_buf_reset(o);
        int64_t now = mx_clock_ms(bn->srv, EX);
        if (!strncasecmp(at + 1, "markPrice", 9)) {
            mx_buf_printf(o, "{\"e\":\"markPriceUpdate\",\"E\":%lld,\"s\":\"%s\",\"p\":",
                          (long long)now, in->symbol);
            fmt_px(o, in, b->best_bid);
            mx_buf_puts(o, ",\"ap\":");
            fmt_px(o, in, b->best_bid);
            mx_buf_puts(o, ",\"i\":");
            fmt_px(o, in, b->best_bid);
            mx_buf_puts(o, ",\"P\":");
            fmt_px(o, in, b->best_bid);
            mx_buf_printf(o, ",\"r\":\"0.00010000\",\"T\":%lld}", (long long)(now / 28800000 + 1) * 28800000);
            push(bn, ws, w, s, o);
        } else if (!strcasecmp(at + 1, "ticker")) {
            mx_buf_printf(o, "{\"e\":\"24hrTicker\",\"E\":%lld,\"s\":\"%s\",\"p\":", (long long)now,
                          in->symbol);
            fmt_px(o, in, b->last_px - b->open_px);
            mx_buf_puts(o, ",\"c\":");
            fmt_px(o, in, b->last_px);
            mx_buf_puts(o, ",\"Q\":");
            fmt_qty(o, in, b->last_qty);
            mx_buf_puts(o, ",\"o\":");
            fmt_px(o, in, b->open_px);
            mx_buf_puts(o, ",\"h\":");
            fmt_px(o, in, b->high_px);
            mx_buf_puts(o, ",\"l\":");
            fmt_px(o, in, b->low_px);
            mx_buf_puts(o, ",\"v\":");
            fmt_qty(o, in, b->volume);
            mx_buf_printf(o, ",\"O\":%lld,\"C\":%lld,\"n\":%llu}", (long long)(now - 86400000),
                          (long long)now, (unsigned long long)(b->trade_id - b->first_trade_id));
            push(bn, ws, w, s, o);
        }
    }
}

struct user_ctx {
    struct bn *bn;
    struct mx_account *a;
    struct mx_buf *payload;
    const char *listen_key; /* for listenKeyExpired */
};

static void user_ws(struct mx_ws *ws, void *arg)
{
    struct user_ctx *c = arg;
    struct bn_ws *w = mx_ws_user(ws);
    if (!w || w->acct != c->a)
        return;
    if (c->listen_key && strcmp(w->listen_key, c->listen_key) != 0)
        return;
    push(c->bn, ws, w, w->listen_key, c->payload);
    if (c->listen_key)
        w->acct = NULL; /* no further events on an expired key */
}

/* --ws-lifetime-ms: Binance cuts every connection at 24 h; the mock does it
 * after the given time so make-before-break can be tested in seconds. */
static void lifetime_ws(struct mx_ws *ws, void *arg)
{
    struct bn *bn = arg;
    struct bn_ws *w = mx_ws_user(ws);
    if (w && w->opened && mx_mono_ms() - w->opened >= mx_opts(bn->srv)->ws_lifetime_ms) {
        w->opened = 0; /* once */
        mx_count(bn->srv, EX, "ws_lifetime_closed", 1);
        mx_ws_close(ws, 1000, "connection lifetime reached");
    }
}

static void on_timer(void *self, int64_t now)
{
    struct bn *bn = self;
    if (mx_opts(bn->srv)->ws_lifetime_ms > 0)
        mx_ws_foreach(bn->srv, EX, lifetime_ws, bn);
    if (now / 1000 != bn->last_second_push) {
        bn->last_second_push = now / 1000;
        mx_ws_foreach(bn->srv, EX, second_ws, bn);
    }
    for (struct mx_account *a = mx_acct_first(bn->srv); a; a = a->next) {
        struct bn_acct *d = a->module_data;
        if (strcmp(a->exchange, EX) != 0 || !d || !d->listen_key[0] || d->lk_expires > now)
            continue;
        struct mx_buf b = {0};
        mx_buf_printf(&b, "{\"e\":\"listenKeyExpired\",\"E\":%lld,\"listenKey\":\"%s\"}",
                      (long long)mx_clock_ms(bn->srv, EX), d->listen_key);
        struct user_ctx c = {bn, a, &b, d->listen_key};
        mx_ws_foreach(bn->srv, EX, user_ws, &c);
        mx_buf_free(&b);
        mx_count(bn->srv, EX, "listenkeys_expired", 1);
        d->listen_key[0] = '\0';
    }
}

static void on_order(void *self, struct mx_account *a, const struct mx_order *o,
                     enum mx_order_event ev)
{
    struct bn *bn = self;
    const struct mx_instr *in = mx_market_instr(mx_market_of(bn->srv), o->instr);
    int64_t now = mx_clock_ms(bn->srv, EX);
    static const char *const x[] = {"NEW", "TRADE", "CANCELED", "EXPIRED"};
    struct mx_buf b = {0};
    const char *type = o->type == MX_MARKET ? "MARKET" : "LIMIT";
    mx_buf_printf(&b, "{\"e\":\"ORDER_TRADE_UPDATE\",\"E\":%lld,\"T\":%lld,\"o\":{\"s\":\"%s\",\"c\":",
                  (long long)now, (long long)now, in->symbol);
    mx_buf_json_str(&b, o->client_id);
    mx_buf_printf(&b, ",\"S\":\"%s\",\"o\":\"%s\",\"f\":\"%s\",\"q\":", o->side > 0 ? "BUY" : "SELL",
                  type, tif_name(o->tif));
    fmt_qty(&b, in, o->qty);
    mx_buf_puts(&b, ",\"p\":");
    fmt_px(&b, in, o->price);
    mx_buf_puts(&b, ",\"ap\":");
    avg_price(&b, in, o);
    mx_buf_printf(&b, ",\"sp\":\"0\",\"x\":\"%s\",\"X\":\"%s\",\"i\":%llu,\"l\":", x[ev],
                  status_name(o->status), (unsigned long long)o->id);
    int trade = ev == MX_EV_TRADE;
    fmt_qty(&b, in, trade ? o->last_qty : 0);
    mx_buf_puts(&b, ",\"z\":");
    fmt_qty(&b, in, o->filled);
    mx_buf_puts(&b, ",\"L\":");
    fmt_px(&b, in, trade ? o->last_px : 0);
    if (trade) {
        mx_buf_puts(&b, ",\"N\":\"USDT\",\"n\":");
        mx_buf_dec(&b, o->last_fee_e8, 8, 1);
    }
    mx_buf_printf(&b,
                  ",\"T\":%lld,\"t\":%llu,\"b\":\"0\",\"a\":\"0\",\"m\":%s,\"R\":%s,"
                  "\"wt\":\"CONTRACT_PRICE\",\"ot\":\"%s\",\"ps\":\"BOTH\",\"cp\":false,"
                  "\"pP\":false,\"si\":0,\"ss\":0,\"rp\":",
                  (long long)now, (unsigned long long)(trade ? o->last_trade_id : 0),
                  trade && o->last_maker ? "true" : "false", o->reduce_only ? "true" : "false",
                  type);
    mx_buf_dec(&b, trade ? o->last_realized_e8 : 0, 8, 1);
    mx_buf_puts(&b, ",\"V\":\"EXPIRE_MAKER\",\"pm\":\"NONE\",\"gtd\":0,\"er\":\"0\"}}");
    struct user_ctx c = {bn, a, &b, NULL};
    mx_ws_foreach(bn->srv, EX, user_ws, &c);
    if (trade) {
        mx_buf_reset(&b);
        const struct mx_position *p = &a->pos[o->instr];
        mx_buf_printf(&b, "{\"e\":\"ACCOUNT_UPDATE\",\"E\":%lld,\"T\":%lld,\"a\":{\"m\":\"ORDER\",\"B\":[{\"a\":\"USDT\",\"wb\":",
                      (long long)now, (long long)now);
        mx_buf_dec(&b, a->wallet_e8, 8, 1);
        mx_buf_puts(&b, ",\"cw\":");
        mx_buf_dec(&b, a->wallet_e8, 8, 1);
        mx_buf_printf(&b, ",\"bc\":\"0\"}],\"P\":[{\"s\":\"%s\",\"pa\":", in->symbol);
        mx_buf_dec(&b, p->amt, in->qty_scale, 1);
        mx_buf_puts(&b, ",\"ep\":");
        mx_buf_dec(&b, mx_pos_entry_e8(in, p), 8, 1);
        mx_buf_puts(&b, ",\"bep\":");
        mx_buf_dec(&b, mx_pos_entry_e8(in, p), 8, 1);
        mx_buf_puts(&b, ",\"cr\":");
        mx_buf_dec(&b, p->realized_e8, 8, 1);
        mx_buf_puts(&b, ",\"up\":");
        mx_buf_dec(&b, mx_acct_unrealized_e8(bn->srv, a, o->instr), 8, 1);
        mx_buf_puts(&b, ",\"mt\":\"cross\",\"iw\":\"0\",\"ps\":\"BOTH\"}]}}");
        mx_ws_foreach(bn->srv, EX, user_ws, &c);
    }
    mx_buf_free(&b);
}

static int flood_frame(void *self, struct mx_ws *ws, struct mx_buf *out)
{
    struct bn *bn = self;
    struct bn_ws *w = mx_ws_user(ws);
    if (!w)
        return -1;
    struct mx_market *m = mx_market_of(bn->srv);
    const struct mx_instr *in = mx_market_instr(m, 0);
    for (int i = 0; i < w->nsubs; i++) {
        char sym[24];
        const char *at = strchr(w->subs[i], '@');
        size_t n = at ? (size_t)(at - w->subs[i]) : 0;
        if (at && n < sizeof sym) {
            memcpy(sym, w->subs[i], n);
            sym[n] = '\0';
            if (mx_market_find(m, sym)) {
                in = mx_market_find(m, sym);
                break;
            }
        }
    }
    const struct mx_book *b = mx_market_book(m, in->idx);
    w->flood_u++;
    mx_buf_printf(out, "{\"e\":\"bookTicker\",\"u\":%llu,\"E\":%lld,\"T\":%lld,\"s\":\"%s\",\"b\":",
                  (unsigned long long)w->flood_u, (long long)b->time_ms, (long long)b->time_ms,
                  in->symbol);
    fmt_px(out, in, mx_book_bid(b));
    mx_buf_puts(out, ",\"B\":");
    fmt_qty(out, in, b->bid_qty[0]);
    mx_buf_puts(out, ",\"a\":");
    fmt_px(out, in, mx_book_ask(b));
    mx_buf_puts(out, ",\"A\":");
    fmt_qty(out, in, b->ask_qty[0]);
    mx_buf_puts(out, "}");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* lifecycle and state                                                      */
/* ------------------------------------------------------------------------ */

static void *create(struct mx_server *srv)
{
    struct bn *bn = calloc(1, sizeof *bn);
    if (!bn)
        return NULL;
    bn->srv = srv;
    bn->rng = mx_opts(srv)->seed ^ 0xb1a7ce5ULL;
    return bn;
}

static void destroy(void *self)
{
    struct bn *bn = self;
    for (int i = 0; i < MX_MAX_INSTR; i++) {
        mx_buf_free(&bn->tick_price[i]);
        mx_buf_free(&bn->tick_book[i]);
    }
    mx_buf_free(&bn->scratch);
    mx_buf_free(&bn->frame);
    free(bn);
}

static void reset(void *self)
{
    struct bn *bn = self;
    memset(bn->ips, 0, sizeof bn->ips);
    for (struct mx_account *a = mx_acct_first(bn->srv); a; a = a->next)
        if (!strcmp(a->exchange, EX) && a->module_data)
            memset(a->module_data, 0, sizeof(struct bn_acct));
}

static void state(void *self, struct mx_buf *o)
{
    struct bn *bn = self;
    mx_buf_puts(o, "{\"accounts\":[");
    int first = 1;
    for (struct mx_account *a = mx_acct_first(bn->srv); a; a = a->next) {
        if (strcmp(a->exchange, EX) != 0)
            continue;
        mx_buf_puts(o, first ? "{\"name\":" : ",{\"name\":");
        first = 0;
        mx_buf_json_str(o, a->name);
        mx_buf_puts(o, ",\"wallet\":");
        mx_buf_dec(o, a->wallet_e8, 8, 1);
        mx_buf_puts(o, ",\"positions\":");
        positions(bn, o, a, NULL, 0);
        mx_buf_puts(o, ",\"open_orders\":[");
        for (const struct mx_order *od = a->open; od; od = od->next) {
            if (od != a->open)
                mx_buf_puts(o, ",");
            order_json(bn, o, od, 1);
        }
        mx_buf_puts(o, "]}");
    }
    mx_buf_puts(o, "],\"books\":[");
    struct mx_market *m = mx_market_of(bn->srv);
    for (int i = 0; i < mx_market_count(m); i++) {
        const struct mx_book *b = mx_market_book(m, i);
        mx_buf_printf(o, "%s{\"symbol\":\"%s\",\"lastUpdateId\":%llu,\"bid\":", i ? "," : "",
                      mx_market_instr(m, i)->symbol, (unsigned long long)b->update_id);
        fmt_px(o, mx_market_instr(m, i), mx_book_bid(b));
        mx_buf_puts(o, ",\"ask\":");
        fmt_px(o, mx_market_instr(m, i), mx_book_ask(b));
        mx_buf_puts(o, "}");
    }
    mx_buf_puts(o, "]}");
}

const struct mx_module mx_module_binance = {
    .name = EX,
    .headers = headers,
    .create = create,
    .destroy = destroy,
    .claims_http = claims_http,
    .claims_ws = claims_ws,
    .http = http,
    .error_body = error_body,
    .ws_open = ws_open,
    .ws_message = ws_message,
    .ws_close = ws_close,
    .on_step = on_step,
    .on_timer = on_timer,
    .on_order = on_order,
    .state = state,
    .reset = reset,
    .flood_frame = flood_frame,
};
