/*
 * bitunix.c — Bitunix USDT-M futures module of the mock (shapes and codes
 * from ../shared/exchanges/bitunix.md, checked against the OpenAPI pages as
 * mirrored by community clients and against plugins/bitunix; see README).
 *
 * REST: /api/v1/futures/... with the {"code","msg","data"} envelope and
 * HTTP 200 for every answer the exchange itself gives (errors included);
 * header signature (api-key, nonce, timestamp, sign) verified with the
 * two-stage SHA-256 of bitunix_sign.c; a timestamp window and nonce replay
 * refusal; per-endpoint requests/second limits with code 10006; orders
 * through the shared account store (account.c) so they rest and fill like
 * everywhere else in the mock. A Date header carries the exchange clock,
 * which is where Bitunix clients read the server time from.
 * WS: /public/ and /private/ with op-style messages: connect greeting,
 * ping/pong, subscribe/unsubscribe echo acks, login (same two stages over
 * nonce + timestamp + apiKey), pushes for tickers/ticker, trade,
 * depth_book1/5/15 (whole top-N snapshots) and the private order, balance
 * and position channels; connections that send no {"op":"ping"} within the
 * idle timeout are closed.
 */
#define _POSIX_C_SOURCE 200809L
#include "bitunix_sign.h"
#include "mockex.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define EX "bitunix"
#define MAX_SUBS 64
#define NRATE 128
#define NNONCE 256
#define TS_WINDOW_MS 60000     /* undocumented: the mock accepts +-60 s */
#define IDLE_DEFAULT_MS 60000  /* undocumented: close after 60 s without a ping */
#define LEVERAGE 20

/* Envelope codes (OpenAPI "Error Codes" page). */
#define C_PARAM 10002
#define C_KEY 10003
#define C_RATE 10006
#define C_SIGN 10007
#define C_MARKET 20001
#define C_BALANCE 20003
#define C_NOT_FOUND 20007
#define C_MAX_BUY 30014
#define C_MIN_SELL 30015
#define C_QTY_MIN 30017
#define C_RO_NOPOS 30018
#define C_RO_SAME 30019
#define C_CID_DUP 30042
/* The error page gives no number for an expired timestamp or a reused
 * nonce; the mock answers these two codes with texts that say which, so a
 * client can classify them by message (the plugin does). */
#define C_TIMESTAMP 10009
#define C_NONCE 10010

static const char *const headers[] = {"api-key", "nonce", "timestamp", "sign", NULL};

struct rate {
    char key[96];
    int64_t second, n, last_seen;
};

struct bx_acct { /* mx_account.module_data: one malloc block (account.c frees it) */
    struct {
        char nonce[65];
        int64_t ts;
    } seen[NNONCE];
    int next;
};

struct sub {
    char ch[24];
    int instr; /* -1: no symbol (private channels) */
};

struct bx_ws {
    int private_;
    struct mx_account *acct; /* after a successful login */
    int64_t last_ping;       /* monotonic ms */
    int idle_closed;         /* the idle close was sent (count it once) */
    int nsubs;
    struct sub subs[MAX_SUBS];
};

struct bx {
    struct mx_server *srv;
    struct rate rates[NRATE];
    struct mx_buf scratch;
    int64_t last_second;
};

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void envelope_err(struct mx_buf *b, int code, const char *msg)
{
    mx_buf_printf(b, "{\"code\":%d,\"msg\":", code);
    mx_buf_json_str(b, msg);
    mx_buf_puts(b, ",\"data\":null}");
}

static void fail(struct mx_resp *r, int code, const char *msg)
{
    r->status = 200; /* Bitunix answers its own errors with HTTP 200 */
    mx_buf_reset(&r->body);
    envelope_err(&r->body, code, msg);
}

static void ok_begin(struct mx_resp *r) { mx_buf_puts(&r->body, "{\"code\":0,\"msg\":\"Success\",\"data\":"); }
static void ok_end(struct mx_resp *r) { mx_buf_puts(&r->body, "}"); }

static void error_body(void *self, int status, int code, const char *msg, struct mx_buf *out)
{
    (void)self;
    if (!code)
        code = status == 429 ? C_RATE : status == 404 ? 404 : status >= 500 ? 10001 : C_PARAM;
    if (!msg)
        msg = status == 429   ? "Request too frequently"
              : status == 404 ? "Not Found"
              : status >= 500 ? "Network Error"
                              : "Parameter Error";
    envelope_err(out, code, msg);
}

static void fmt_px(struct mx_buf *b, const struct mx_instr *in, int64_t px)
{
    mx_buf_dec(b, px, in->price_scale, 1);
}
static void fmt_qty(struct mx_buf *b, const struct mx_instr *in, int64_t q)
{
    mx_buf_dec(b, q, in->qty_scale, 1);
}

static int64_t pow10i(int n)
{
    int64_t v = 1;
    while (n-- > 0)
        v *= 10;
    return v;
}

/* Average fill price in 1e-8 units, 0 when nothing filled. */
static int64_t avg_e8(const struct mx_instr *in, const struct mx_order *o)
{
    return o->filled ? o->cum_quote_e8 * pow10i(in->qty_scale) / o->filled : 0;
}

static void iso_time(struct mx_buf *b, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char t[40];
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    mx_buf_printf(b, "\"%s.%03dZ\"", t, (int)(ms % 1000));
}

static const struct mx_instr *instr_named(struct bx *bx, const char *sym)
{
    const struct mx_instr *in = mx_market_find(mx_market_of(bx->srv), sym);
    return in && !strcmp(in->symbol, sym) ? in : NULL; /* exact symbol only, not "BTC" */
}

/* A stable per-account number for positionId (deterministic across runs). */
static int acct_tag(const struct mx_account *a)
{
    uint32_t h = 5381;
    for (const char *p = a->api_key; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return (int)(h % 1000000);
}

static struct bx_acct *acct_data(struct mx_account *a)
{
    if (!a->module_data) {
        a->module_data = calloc(1, sizeof(struct bx_acct));
        if (!a->module_data)
            abort();
    }
    return a->module_data;
}

static int query_get(const struct mx_req *r, const char *key, char *out, size_t cap)
{
    return mx_form_get(r->query, r->query_len, key, out, cap);
}

/* ------------------------------------------------------------------------ */
/* rate limits: requests per second per endpoint and IP (market) or UID     */
/* ------------------------------------------------------------------------ */

/* Returns 0 when admitted, otherwise answers code 10006. */
static int admit(struct bx *bx, const char *endpoint, const char *who, int64_t limit, struct mx_resp *rs)
{
    if (mx_opts(bx->srv)->bench)
        return 0;
    char key[96];
    snprintf(key, sizeof key, "%s|%s", endpoint, who);
    int64_t now = mx_wall_ms(), sec = now / 1000;
    struct rate *e = NULL, *lru = &bx->rates[0];
    for (int i = 0; i < NRATE; i++) {
        if (!strcmp(bx->rates[i].key, key)) {
            e = &bx->rates[i];
            break;
        }
        if (bx->rates[i].last_seen < lru->last_seen)
            lru = &bx->rates[i];
    }
    if (!e) {
        e = lru;
        memset(e, 0, sizeof *e);
        snprintf(e->key, sizeof e->key, "%s", key);
    }
    e->last_seen = now;
    if (e->second != sec) {
        e->second = sec;
        e->n = 0;
    }
    if (e->n >= limit) {
        mx_count(bx->srv, EX, "rate_limited", 1);
        fail(rs, C_RATE, "Request too frequently");
        return -1;
    }
    e->n++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* authentication                                                           */
/* ------------------------------------------------------------------------ */

static int digits(const char *s)
{
    if (!s || !*s || strlen(s) > 19)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Remembers a nonce; returns -1 when the account already used it within
 * the timestamp window (a replayed request). */
static int nonce_fresh(struct mx_account *a, const char *nonce, int64_t now)
{
    struct bx_acct *d = acct_data(a);
    for (int i = 0; i < NNONCE; i++)
        if (d->seen[i].nonce[0] && now - d->seen[i].ts <= 2 * (int64_t)TS_WINDOW_MS &&
            !strcmp(d->seen[i].nonce, nonce))
            return -1;
    snprintf(d->seen[d->next].nonce, sizeof d->seen[0].nonce, "%s", nonce);
    d->seen[d->next].ts = now;
    d->next = (d->next + 1) % NNONCE;
    return 0;
}

static struct mx_account *signed_req(struct bx *bx, const struct mx_req *r, struct mx_resp *rs)
{
    const char *key = mx_req_header(r, "api-key");
    const char *nonce = mx_req_header(r, "nonce");
    const char *ts = mx_req_header(r, "timestamp");
    const char *sign = mx_req_header(r, "sign");
    if (!key || !*key) {
        mx_count(bx->srv, EX, "auth_failures", 1);
        fail(rs, C_KEY, "api-key can't be empty");
        return NULL;
    }
    struct mx_account *a = mx_acct_find(bx->srv, EX, key);
    if (!a) {
        mx_count(bx->srv, EX, "auth_failures", 1);
        fail(rs, C_KEY, "api-key is invalid");
        return NULL;
    }
    if (!nonce || !*nonce || strlen(nonce) > 64) {
        fail(rs, C_PARAM, "Parameter Error: nonce is required (at most 64 characters)");
        return NULL;
    }
    if (!digits(ts)) {
        fail(rs, C_PARAM, "Parameter Error: timestamp must be milliseconds since the epoch");
        return NULL;
    }
    char qp[8192];
    int qn = mxbx_query_params(r->query, r->query_len, qp, sizeof qp);
    if (qn < 0) {
        fail(rs, C_PARAM, "Parameter Error: malformed query string");
        return NULL;
    }
    char want[65];
    mxbx_sign(nonce, ts, key, qp, (size_t)qn, r->body, r->body_len, a->secret, want);
    if (!mxbx_sign_equal(sign, want)) {
        mx_count(bx->srv, EX, "signature_failures", 1);
        fail(rs, C_SIGN, "Signature Error");
        return NULL;
    }
    int64_t t = 0, now = mx_clock_ms(bx->srv, EX);
    mx_parse_dec(ts, strlen(ts), 0, &t);
    if (t < now - TS_WINDOW_MS || t > now + TS_WINDOW_MS) {
        mx_count(bx->srv, EX, "timestamp_failures", 1);
        fail(rs, C_TIMESTAMP, t < now ? "Request timestamp expired: outside the 60 s window"
                                      : "Request timestamp is ahead of the server time by more than 60 s");
        return NULL;
    }
    if (nonce_fresh(a, nonce, mx_wall_ms())) {
        mx_count(bx->srv, EX, "nonce_reused", 1);
        fail(rs, C_NONCE, "Nonce has already been used: send a fresh random nonce");
        return NULL;
    }
    return a;
}

/* ------------------------------------------------------------------------ */
/* market data                                                              */
/* ------------------------------------------------------------------------ */

static void ticker_rest(struct bx *bx, struct mx_buf *o, int i)
{
    struct mx_market *m = mx_market_of(bx->srv);
    const struct mx_instr *in = mx_market_instr(m, i);
    const struct mx_book *b = mx_market_book(m, i);
    mx_buf_printf(o, "{\"symbol\":\"%s\",\"markPrice\":", in->symbol);
    fmt_px(o, in, b->best_bid);
    mx_buf_puts(o, ",\"lastPrice\":");
    fmt_px(o, in, b->last_px);
    mx_buf_puts(o, ",\"open\":");
    fmt_px(o, in, b->open_px);
    mx_buf_puts(o, ",\"last\":");
    fmt_px(o, in, b->last_px);
    mx_buf_puts(o, ",\"quoteVol\":");
    mx_buf_dec(o, b->quote_volume, in->price_scale + in->qty_scale, 1);
    mx_buf_puts(o, ",\"baseVol\":");
    fmt_qty(o, in, b->volume);
    mx_buf_puts(o, ",\"high\":");
    fmt_px(o, in, b->high_px);
    mx_buf_puts(o, ",\"low\":");
    fmt_px(o, in, b->low_px);
    mx_buf_puts(o, "}");
}

static void levels(struct mx_buf *o, const struct mx_instr *in, const struct mx_book *b, int n, int bids)
{
    mx_buf_puts(o, "[");
    for (int k = 0; k < n; k++) {
        mx_buf_puts(o, k ? ",[" : "[");
        fmt_px(o, in, bids ? b->best_bid - k : b->best_bid + 1 + k);
        mx_buf_puts(o, ",");
        fmt_qty(o, in, bids ? b->bid_qty[k] : b->ask_qty[k]);
        mx_buf_puts(o, "]");
    }
    mx_buf_puts(o, "]");
}

static void trading_pairs(struct bx *bx, struct mx_buf *o, const char *only)
{
    struct mx_market *m = mx_market_of(bx->srv);
    int first = 1;
    mx_buf_puts(o, "[");
    for (int i = 0; i < mx_market_count(m); i++) {
        const struct mx_instr *in = mx_market_instr(m, i);
        if (only && !strstr(only, in->symbol))
            continue;
        char minv[32];
        mx_fmt_dec(minv, sizeof minv, 1, in->qty_scale);
        mx_buf_printf(o,
                      "%s{\"symbol\":\"%s\",\"base\":\"%s\",\"quote\":\"USDT\",\"minTradeVolume\":\"%s\","
                      "\"minBuyPriceOffset\":\"-0.5\",\"maxSellPriceOffset\":\"0.5\","
                      "\"maxLimitOrderVolume\":\"1000\",\"maxMarketOrderVolume\":\"120\","
                      "\"basePrecision\":%d,\"quotePrecision\":%d,\"maxLeverage\":125,"
                      "\"minLeverage\":1,\"defaultLeverage\":%d,\"defaultMarginMode\":\"CROSS\","
                      "\"priceProtectScope\":\"0.02\",\"symbolStatus\":\"OPEN\"}",
                      first ? "" : ",", in->symbol, in->base, minv, in->qty_scale, in->price_scale,
                      LEVERAGE);
        first = 0;
    }
    mx_buf_puts(o, "]");
}

/* ------------------------------------------------------------------------ */
/* account answers                                                          */
/* ------------------------------------------------------------------------ */

static const char *status_name(const struct mx_order *o)
{
    switch (o->status) {
    case MX_NEW:
        return "NEW";
    case MX_PARTIALLY_FILLED:
        return "PART_FILLED";
    case MX_FILLED:
        return "FILLED";
    case MX_CANCELED:
    case MX_EXPIRED: /* IOC/FOK remainders: Bitunix reports them canceled */
        return o->filled ? "PART_FILLED_CANCELED" : "CANCELED";
    }
    return "NEW";
}

static const char *effect_name(enum mx_tif t)
{
    static const char *const n[] = {"GTC", "IOC", "FOK", "POST_ONLY"};
    return n[t];
}

static int64_t order_margin_e8(struct bx *bx, const struct mx_account *a)
{
    struct mx_market *m = mx_market_of(bx->srv);
    int64_t f = 0;
    for (const struct mx_order *o = a->open; o; o = o->next)
        f += mx_notional_e8(mx_market_instr(m, o->instr), o->price, o->qty - o->filled) / LEVERAGE;
    return f;
}

static int64_t position_margin_e8(struct bx *bx, const struct mx_account *a)
{
    int64_t f = 0;
    for (int i = 0; i < mx_market_count(mx_market_of(bx->srv)); i++)
        f += a->pos[i].cost_e8 / LEVERAGE;
    return f;
}

static int64_t unrealized_e8(struct bx *bx, const struct mx_account *a)
{
    int64_t u = 0;
    for (int i = 0; i < mx_market_count(mx_market_of(bx->srv)); i++)
        u += mx_acct_unrealized_e8(bx->srv, a, i);
    return u;
}

static void account_json(struct bx *bx, struct mx_buf *o, const struct mx_account *a)
{
    int64_t frozen = order_margin_e8(bx, a), margin = position_margin_e8(bx, a);
    /* "available + crossUnrealizedPNL = the actual maximum open amount" */
    int64_t avail = a->wallet_e8 - frozen - margin;
    mx_buf_puts(o, "{\"marginCoin\":\"USDT\",\"available\":");
    mx_buf_dec(o, avail, 8, 1);
    mx_buf_puts(o, ",\"frozen\":");
    mx_buf_dec(o, frozen, 8, 1);
    mx_buf_puts(o, ",\"margin\":");
    mx_buf_dec(o, margin, 8, 1);
    mx_buf_puts(o, ",\"transfer\":");
    mx_buf_dec(o, avail > 0 ? avail : 0, 8, 1);
    mx_buf_puts(o, ",\"positionMode\":\"ONE_WAY\",\"crossUnrealizedPNL\":");
    mx_buf_dec(o, unrealized_e8(bx, a), 8, 1);
    mx_buf_puts(o, ",\"isolationUnrealizedPNL\":\"0\",\"bonus\":\"0\"}");
}

static void position_json(struct bx *bx, struct mx_buf *o, const struct mx_account *a, int i)
{
    struct mx_market *m = mx_market_of(bx->srv);
    const struct mx_instr *in = mx_market_instr(m, i);
    const struct mx_position *p = &a->pos[i];
    int64_t q = p->amt < 0 ? -p->amt : p->amt;
    int64_t now = mx_clock_ms(bx->srv, EX);
    mx_buf_printf(o, "{\"positionId\":\"%d%06d\",\"symbol\":\"%s\",\"qty\":", i + 1,
                  acct_tag(a), in->symbol);
    fmt_qty(o, in, q);
    mx_buf_puts(o, ",\"entryValue\":");
    mx_buf_dec(o, p->cost_e8, 8, 1);
    mx_buf_printf(o, ",\"side\":\"%s\",\"marginMode\":\"CROSS\",\"positionMode\":\"ONE_WAY\","
                     "\"leverage\":%d,\"fees\":\"0\",\"funding\":\"0\",\"realizedPNL\":",
                  p->amt > 0 ? "LONG" : "SHORT", LEVERAGE);
    mx_buf_dec(o, p->realized_e8, 8, 1);
    mx_buf_puts(o, ",\"margin\":");
    mx_buf_dec(o, p->cost_e8 / LEVERAGE, 8, 1);
    mx_buf_puts(o, ",\"unrealizedPNL\":");
    mx_buf_dec(o, mx_acct_unrealized_e8(bx->srv, a, i), 8, 1);
    mx_buf_puts(o, ",\"liqPrice\":\"0\",\"marginRate\":\"0\",\"avgOpenPrice\":");
    mx_buf_dec(o, mx_pos_entry_e8(in, p), 8, 1);
    mx_buf_printf(o, ",\"ctime\":%lld,\"mtime\":%lld}", (long long)now, (long long)now);
}

static void order_json(struct bx *bx, struct mx_buf *o, const struct mx_order *od)
{
    const struct mx_instr *in = mx_market_instr(mx_market_of(bx->srv), od->instr);
    mx_buf_printf(o, "{\"orderId\":\"%llu\",\"symbol\":\"%s\",\"qty\":", (unsigned long long)od->id,
                  in->symbol);
    fmt_qty(o, in, od->qty);
    mx_buf_puts(o, ",\"tradeQty\":");
    fmt_qty(o, in, od->filled);
    mx_buf_printf(o, ",\"positionMode\":\"ONE_WAY\",\"marginMode\":\"CROSS\",\"leverage\":%d,\"price\":",
                  LEVERAGE);
    if (od->type == MX_LIMIT)
        fmt_px(o, in, od->price);
    else
        mx_buf_puts(o, "null");
    mx_buf_puts(o, ",\"avgPrice\":");
    mx_buf_dec(o, avg_e8(in, od), 8, 1);
    mx_buf_printf(o, ",\"side\":\"%s\",\"orderType\":\"%s\",\"effect\":\"%s\",\"clientId\":",
                  od->side > 0 ? "BUY" : "SELL", od->type == MX_MARKET ? "MARKET" : "LIMIT",
                  effect_name(od->tif));
    mx_buf_json_str(o, od->client_id);
    mx_buf_printf(o, ",\"reduceOnly\":%s,\"status\":\"%s\",\"fee\":", od->reduce_only ? "true" : "false",
                  status_name(od));
    /* fills are whole, so the last fill's fee and PnL are the order's */
    mx_buf_dec(o, od->filled ? od->last_fee_e8 : 0, 8, 1);
    mx_buf_puts(o, ",\"realizedPNL\":");
    mx_buf_dec(o, od->filled ? od->last_realized_e8 : 0, 8, 1);
    mx_buf_printf(o,
                  ",\"tpPrice\":null,\"tpStopType\":null,\"tpOrderType\":null,\"tpOrderPrice\":null,"
                  "\"slPrice\":null,\"slStopType\":null,\"slOrderType\":null,\"slOrderPrice\":null,"
                  "\"ctime\":%lld,\"mtime\":%lld}",
                  (long long)od->created_ms, (long long)od->updated_ms);
}

/* ------------------------------------------------------------------------ */
/* orders                                                                   */
/* ------------------------------------------------------------------------ */

/* A JSON member as text: strings as they are, numbers in cJSON's shortest
 * round-trip form, booleans as true/false. Returns 0, or -1 (absent: 1). */
static int member_text(const cJSON *o, const char *k, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v))
        return 1;
    if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) >= cap)
            return -1;
        snprintf(out, cap, "%s", v->valuestring);
        return 0;
    }
    if (cJSON_IsBool(v)) {
        snprintf(out, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        char *s = cJSON_PrintUnformatted(v);
        if (!s)
            abort();
        int bad = strlen(s) >= cap || strchr(s, 'e') || strchr(s, 'E');
        if (!bad)
            snprintf(out, cap, "%s", s);
        cJSON_free(s);
        return bad ? -1 : 0;
    }
    return -1;
}

static int valid_client_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("_-.:", *s)))
            return 0;
    return 1;
}

static void place_order(struct bx *bx, const struct mx_req *r, struct mx_resp *rs, struct mx_account *a)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    char v[128], msg[160];
    struct mx_order q;
    memset(&q, 0, sizeof q);
    if (!cJSON_IsObject(j)) {
        fail(rs, C_PARAM, "Parameter Error: the body is not a JSON object");
        goto out;
    }
    if (member_text(j, "symbol", v, sizeof v)) {
        fail(rs, C_PARAM, "Parameter Error: symbol is required");
        goto out;
    }
    const struct mx_instr *in = instr_named(bx, v);
    if (!in) {
        fail(rs, C_MARKET, "Market not exists");
        goto out;
    }
    q.instr = in->idx;
    if (member_text(j, "side", v, sizeof v) || (strcmp(v, "BUY") != 0 && strcmp(v, "SELL") != 0)) {
        fail(rs, C_PARAM, "Parameter Error: side must be BUY or SELL");
        goto out;
    }
    q.side = v[0] == 'B' ? 1 : -1;
    if (member_text(j, "orderType", v, sizeof v) || (strcmp(v, "LIMIT") != 0 && strcmp(v, "MARKET") != 0)) {
        fail(rs, C_PARAM, "Parameter Error: orderType must be LIMIT or MARKET");
        goto out;
    }
    q.type = v[0] == 'L' ? MX_LIMIT : MX_MARKET;
    int rc = member_text(j, "tradeSide", v, sizeof v);
    if (rc < 0 || (rc == 0 && strcmp(v, "OPEN") != 0 && strcmp(v, "CLOSE") != 0)) {
        fail(rs, C_PARAM, "Parameter Error: tradeSide must be OPEN or CLOSE");
        goto out;
    }
    if (rc == 0 && !strcmp(v, "CLOSE"))
        q.reduce_only = 1; /* one-way mode: closing can only reduce */
    rc = member_text(j, "reduceOnly", v, sizeof v);
    if (rc < 0 || (rc == 0 && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)) {
        fail(rs, C_PARAM, "Parameter Error: reduceOnly must be a boolean");
        goto out;
    }
    if (rc == 0 && !strcmp(v, "true"))
        q.reduce_only = 1;
    static const char *const tpsl[] = {"tpPrice", "slPrice", "tpOrderType", "slOrderType"};
    for (size_t k = 0; k < sizeof tpsl / sizeof tpsl[0]; k++)
        if (member_text(j, tpsl[k], v, sizeof v) == 0) {
            fail(rs, C_PARAM, "Parameter Error: take-profit/stop-loss orders are not supported by the mock");
            goto out;
        }
    if (member_text(j, "qty", v, sizeof v)) {
        fail(rs, C_PARAM, "Parameter Error: qty is required");
        goto out;
    }
    rc = mx_parse_dec(v, strlen(v), in->qty_scale, &q.qty);
    if (rc == -2) {
        snprintf(msg, sizeof msg, "Parameter Error: qty has more than %d decimals", in->qty_scale);
        fail(rs, C_PARAM, msg);
        goto out;
    }
    if (rc || q.qty < 0) {
        fail(rs, C_PARAM, "Parameter Error: qty is not a decimal number");
        goto out;
    }
    if (q.qty < 1) {
        fail(rs, C_QTY_MIN, "The qty cannot be less than the minimum qty");
        goto out;
    }
    if (q.qty > (q.type == MX_MARKET ? 120 : 1000) * pow10i(in->qty_scale)) {
        fail(rs, 30039, "The order qty can't be greater than the max order qty");
        goto out;
    }
    const struct mx_book *b = mx_market_book(mx_market_of(bx->srv), in->idx);
    rc = member_text(j, "effect", v, sizeof v);
    if (rc < 0) {
        fail(rs, C_PARAM, "Parameter Error: effect");
        goto out;
    }
    if (rc == 1 || !strcmp(v, "GTC"))
        q.tif = MX_GTC;
    else if (!strcmp(v, "IOC"))
        q.tif = MX_IOC;
    else if (!strcmp(v, "FOK"))
        q.tif = MX_FOK;
    else if (!strcmp(v, "POST_ONLY"))
        q.tif = MX_GTX;
    else {
        fail(rs, C_PARAM, "Parameter Error: effect must be GTC, IOC, FOK or POST_ONLY");
        goto out;
    }
    if (q.type == MX_LIMIT) {
        if (member_text(j, "price", v, sizeof v)) {
            fail(rs, C_PARAM, "Parameter Error: price is required for LIMIT orders");
            goto out;
        }
        rc = mx_parse_dec(v, strlen(v), in->price_scale, &q.price);
        if (rc == -2) {
            snprintf(msg, sizeof msg, "Parameter Error: price has more than %d decimals", in->price_scale);
            fail(rs, C_PARAM, msg);
            goto out;
        }
        if (rc || q.price <= 0) {
            fail(rs, C_PARAM, "Parameter Error: price must be a positive decimal");
            goto out;
        }
        /* minBuyPriceOffset / maxSellPriceOffset of trading_pairs: +-50 % */
        if (q.side > 0 && q.price > b->best_bid * 3 / 2) {
            fail(rs, C_MAX_BUY, "Max Buy Order Price");
            goto out;
        }
        if (q.side < 0 && q.price < b->best_bid / 2) {
            fail(rs, C_MIN_SELL, "Mini Sell Order Price");
            goto out;
        }
    } else {
        q.tif = MX_IOC; /* a market order never rests */
    }
    rc = member_text(j, "clientId", v, sizeof v);
    if (rc < 0 || (rc == 0 && !valid_client_id(v))) {
        fail(rs, C_PARAM, "Parameter Error: clientId");
        goto out;
    }
    if (rc == 0) {
        if (mx_acct_order(a, in->idx, 0, v, NULL)) {
            fail(rs, C_CID_DUP, "Client ID duplicate");
            goto out;
        }
        mx_copy(q.client_id, sizeof q.client_id, v);
    }
    struct mx_order res;
    rc = mx_acct_place(bx->srv, a, &q, &res);
    if (rc == -1) {
        fail(rs, C_BALANCE, "Insufficient balance");
        goto out;
    }
    if (rc == -2) {
        fail(rs, C_PARAM, "Parameter Error: a POST_ONLY order would take liquidity");
        goto out;
    }
    if (rc == -3) {
        if (a->pos[in->idx].amt == 0)
            fail(rs, C_RO_NOPOS, "Order failed. No position opened. Cancel [Reduce-only] settings and retry later");
        else
            fail(rs, C_RO_SAME, "Order failed. A [Reduce-only] order can not be in the same direction as the open position");
        goto out;
    }
    mx_count(bx->srv, EX, "orders_placed", 1);
    ok_begin(rs);
    mx_buf_printf(&rs->body, "{\"orderId\":\"%llu\",\"clientId\":", (unsigned long long)res.id);
    mx_buf_json_str(&rs->body, res.client_id);
    mx_buf_puts(&rs->body, "}");
    ok_end(rs);
out:
    cJSON_Delete(j);
}

static void cancel_orders(struct bx *bx, const struct mx_req *r, struct mx_resp *rs, struct mx_account *a)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    char sym[64];
    const cJSON *list = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "orderList") : NULL;
    if (!cJSON_IsObject(j) || member_text(j, "symbol", sym, sizeof sym) ||
        !cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1) {
        fail(rs, C_PARAM, "Parameter Error: symbol and a non-empty orderList are required");
        goto out;
    }
    const struct mx_instr *in = instr_named(bx, sym);
    if (!in) {
        fail(rs, C_MARKET, "Market not exists");
        goto out;
    }
    struct mx_buf okl = {0}, bad = {0};
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        char id[32] = "", cid[64] = "";
        int hid = member_text(it, "orderId", id, sizeof id) == 0 && id[0];
        int hcid = member_text(it, "clientId", cid, sizeof cid) == 0 && cid[0];
        int64_t oid = 0;
        struct mx_order out;
        /* "If both are entered, orderId prevails." */
        int done = (hid && !mx_parse_dec(id, strlen(id), 0, &oid) && oid > 0 &&
                    !mx_acct_cancel(bx->srv, a, in->idx, (uint64_t)oid, NULL, &out)) ||
                   (!hid && hcid && !mx_acct_cancel(bx->srv, a, in->idx, 0, cid, &out));
        struct mx_buf *t = done ? &okl : &bad;
        mx_buf_puts(t, t->len ? ",{\"orderId\":" : "{\"orderId\":");
        if (done) {
            mx_count(bx->srv, EX, "orders_canceled", 1);
            mx_buf_printf(t, "\"%llu\",\"clientId\":", (unsigned long long)out.id);
            mx_buf_json_str(t, out.client_id);
            mx_buf_puts(t, "}");
        } else {
            mx_buf_json_str(t, id);
            mx_buf_puts(t, ",\"clientId\":");
            mx_buf_json_str(t, cid);
            mx_buf_printf(t, ",\"errorMsg\":\"Order not found, please try it later\",\"errorCode\":\"%d\"}",
                          C_NOT_FOUND);
        }
    }
    ok_begin(rs);
    mx_buf_printf(&rs->body, "{\"successList\":[%s],\"failureList\":[%s]}", okl.p ? okl.p : "",
                  bad.p ? bad.p : "");
    ok_end(rs);
    mx_buf_free(&okl);
    mx_buf_free(&bad);
out:
    cJSON_Delete(j);
}

static struct mx_order *find_order(struct bx *bx, struct mx_account *a, uint64_t id, const char *cid)
{
    for (int i = 0; i < mx_market_count(mx_market_of(bx->srv)); i++) {
        struct mx_order *o = mx_acct_order(a, i, id, cid, NULL);
        if (o)
            return o;
    }
    return NULL;
}

static void order_detail(struct bx *bx, const struct mx_req *r, struct mx_resp *rs, struct mx_account *a)
{
    char id[32], cid[64];
    int64_t oid = 0;
    int hid = query_get(r, "orderId", id, sizeof id) > 0;
    int hcid = query_get(r, "clientId", cid, sizeof cid) > 0;
    if (!hid && !hcid) {
        fail(rs, C_PARAM, "Parameter Error: orderId or clientId is required");
        return;
    }
    if (hid && (mx_parse_dec(id, strlen(id), 0, &oid) || oid <= 0)) {
        fail(rs, C_NOT_FOUND, "Order not found, please try it later");
        return;
    }
    const struct mx_order *o = find_order(bx, a, (uint64_t)oid, hid ? NULL : cid);
    if (!o) {
        fail(rs, C_NOT_FOUND, "Order not found, please try it later");
        return;
    }
    ok_begin(rs);
    order_json(bx, &rs->body, o);
    ok_end(rs);
}

static void pending_orders(struct bx *bx, const struct mx_req *r, struct mx_resp *rs, struct mx_account *a)
{
    char v[64];
    const struct mx_instr *in = NULL;
    int64_t skip = 0, limit = 10, id = 0;
    if (query_get(r, "symbol", v, sizeof v) > 0 && !(in = instr_named(bx, v))) {
        fail(rs, C_MARKET, "Market not exists");
        return;
    }
    if ((query_get(r, "skip", v, sizeof v) > 0 && (mx_parse_dec(v, strlen(v), 0, &skip) || skip < 0)) ||
        (query_get(r, "limit", v, sizeof v) > 0 &&
         (mx_parse_dec(v, strlen(v), 0, &limit) || limit < 1 || limit > 100))) {
        fail(rs, C_PARAM, "Parameter Error: skip >= 0 and limit 1..100");
        return;
    }
    int hid = query_get(r, "orderId", v, sizeof v) > 0 && !mx_parse_dec(v, strlen(v), 0, &id);
    char cid[64];
    int hcid = query_get(r, "clientId", cid, sizeof cid) > 0;
    ok_begin(rs);
    mx_buf_puts(&rs->body, "{\"orderList\":[");
    int64_t total = 0, shown = 0;
    for (const struct mx_order *o = a->open; o; o = o->next) {
        if ((in && o->instr != in->idx) || (hid && o->id != (uint64_t)id) ||
            (hcid && strcmp(o->client_id, cid) != 0))
            continue;
        if (total++ < skip || shown >= limit)
            continue;
        if (shown++)
            mx_buf_puts(&rs->body, ",");
        order_json(bx, &rs->body, o);
    }
    mx_buf_printf(&rs->body, "],\"total\":\"%lld\"}", (long long)total);
    ok_end(rs);
}

/* ------------------------------------------------------------------------ */
/* REST dispatch                                                            */
/* ------------------------------------------------------------------------ */

static void date_header(struct bx *bx, struct mx_resp *rs)
{
    /* Bitunix clients read the server time from Date (no time endpoint). */
    int64_t ms = mx_clock_ms(bx->srv, EX);
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char d[64];
    strftime(d, sizeof d, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    mx_resp_header(rs, "date", d);
}

static void http(void *self, const struct mx_req *r, struct mx_resp *rs)
{
    struct bx *bx = self;
    const char *p = r->path;
    int get = !strcmp(r->method, "GET"), post = !strcmp(r->method, "POST");
    struct mx_market *m = mx_market_of(bx->srv);
    struct mx_account *a;
    char v[256];
    date_header(bx, rs);

    if (!strncmp(p, "/api/v1/futures/market/", 23)) {
        const char *ep = p + 23;
        if (!get) {
            fail(rs, C_PARAM, "Parameter Error: market endpoints are GET");
            return;
        }
        if (strcmp(ep, "tickers") != 0 && strcmp(ep, "depth") != 0 && strcmp(ep, "trading_pairs") != 0) {
            rs->status = 404;
            error_body(bx, 404, 0, NULL, &rs->body);
            return;
        }
        if (admit(bx, ep, r->peer, 10, rs))
            return;
        if (!strcmp(ep, "tickers")) {
            int has = query_get(r, "symbols", v, sizeof v) > 0;
            ok_begin(rs);
            mx_buf_puts(&rs->body, "[");
            int first = 1;
            for (int i = 0; i < mx_market_count(m); i++) {
                const struct mx_instr *in = mx_market_instr(m, i);
                if (has) { /* comma-separated list; exact names */
                    size_t n = strlen(in->symbol);
                    const char *s = v;
                    int hit = 0;
                    while (!hit && (s = strstr(s, in->symbol))) {
                        hit = (s == v || s[-1] == ',') && (s[n] == ',' || !s[n]);
                        s += n;
                    }
                    if (!hit)
                        continue;
                }
                if (!first)
                    mx_buf_puts(&rs->body, ",");
                first = 0;
                ticker_rest(bx, &rs->body, i);
            }
            mx_buf_puts(&rs->body, "]");
            ok_end(rs);
        } else if (!strcmp(ep, "depth")) {
            const struct mx_instr *in;
            if (query_get(r, "symbol", v, sizeof v) <= 0) {
                fail(rs, C_PARAM, "Parameter Error: symbol is required");
                return;
            }
            if (!(in = instr_named(bx, v))) {
                fail(rs, C_MARKET, "Market not exists");
                return;
            }
            int n = 50; /* documented levels: 1, 5, 15, 50, max (default max) */
            if (query_get(r, "limit", v, sizeof v) <= 0 || !strcmp(v, "max"))
                n = MX_BOOK_DEPTH;
            else if (!strcmp(v, "1") || !strcmp(v, "5") || !strcmp(v, "15") || !strcmp(v, "50"))
                n = (int)strtol(v, NULL, 10); /* one of the four above */
            else {
                fail(rs, C_PARAM, "Parameter Error: limit must be 1, 5, 15, 50 or max");
                return;
            }
            const struct mx_book *b = mx_market_book(m, in->idx);
            ok_begin(rs);
            mx_buf_puts(&rs->body, "{\"asks\":");
            levels(&rs->body, in, b, n, 0);
            mx_buf_puts(&rs->body, ",\"bids\":");
            levels(&rs->body, in, b, n, 1);
            mx_buf_puts(&rs->body, "}");
            ok_end(rs);
        } else {
            int has = query_get(r, "symbols", v, sizeof v) > 0;
            ok_begin(rs);
            trading_pairs(bx, &rs->body, has ? v : NULL);
            ok_end(rs);
        }
        return;
    }

    static const struct {
        const char *path;
        int post;
        int limit; /* requests per second per UID (OpenAPI pages) */
    } priv[] = {
        {"/api/v1/futures/account", 0, 10},
        {"/api/v1/futures/position/get_pending_positions", 0, 10},
        {"/api/v1/futures/trade/place_order", 1, 10},
        {"/api/v1/futures/trade/cancel_orders", 1, 5},
        {"/api/v1/futures/trade/get_order_detail", 0, 10},
        {"/api/v1/futures/trade/get_pending_orders", 0, 10},
    };
    int k = -1;
    for (int i = 0; i < (int)(sizeof priv / sizeof priv[0]); i++)
        if (!strcmp(p, priv[i].path))
            k = i;
    if (k < 0) {
        rs->status = 404;
        error_body(bx, 404, 0, NULL, &rs->body);
        return;
    }
    if (priv[k].post ? !post : !get) {
        fail(rs, C_PARAM, priv[k].post ? "Parameter Error: use POST" : "Parameter Error: use GET");
        return;
    }
    if (!(a = signed_req(bx, r, rs)))
        return;
    if (admit(bx, p, a->api_key, priv[k].limit, rs))
        return;
    switch (k) {
    case 0:
        if (query_get(r, "marginCoin", v, sizeof v) <= 0) {
            fail(rs, C_PARAM, "Parameter Error: marginCoin is required");
            return;
        }
        if (strcmp(v, "USDT") != 0) {
            fail(rs, C_PARAM, "Parameter Error: marginCoin must be USDT");
            return;
        }
        ok_begin(rs);
        account_json(bx, &rs->body, a);
        ok_end(rs);
        break;
    case 1: {
        const struct mx_instr *in = NULL;
        if (query_get(r, "symbol", v, sizeof v) > 0 && !(in = instr_named(bx, v))) {
            fail(rs, C_MARKET, "Market not exists");
            return;
        }
        ok_begin(rs);
        mx_buf_puts(&rs->body, "[");
        int first = 1;
        for (int i = 0; i < mx_market_count(m); i++) {
            if ((in && in->idx != i) || !a->pos[i].amt)
                continue;
            if (!first)
                mx_buf_puts(&rs->body, ",");
            first = 0;
            position_json(bx, &rs->body, a, i);
        }
        mx_buf_puts(&rs->body, "]");
        ok_end(rs);
        break;
    }
    case 2:
        place_order(bx, r, rs, a);
        break;
    case 3:
        cancel_orders(bx, r, rs, a);
        break;
    case 4:
        order_detail(bx, r, rs, a);
        break;
    default:
        pending_orders(bx, r, rs, a);
        break;
    }
}

static int claims_http(const char *path) { return !strncmp(path, "/api/v1/futures/", 16); }

static int ws_kind(const char *path)
{
    if (!strcmp(path, "/public") || !strcmp(path, "/public/"))
        return 0;
    if (!strcmp(path, "/private") || !strcmp(path, "/private/"))
        return 1;
    return -1;
}

static int claims_ws(const char *path) { return ws_kind(path) >= 0; }

/* ------------------------------------------------------------------------ */
/* WebSocket                                                                */
/* ------------------------------------------------------------------------ */

static void ws_text(struct mx_ws *ws, const struct mx_buf *b) { mx_ws_send(ws, b->p, b->len); }

static int ws_open(void *self, struct mx_ws *ws, const char *path, const char *query)
{
    struct bx *bx = self;
    (void)query;
    int kind = ws_kind(path);
    if (kind < 0)
        return -1;
    struct bx_ws *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->private_ = kind;
    w->last_ping = mx_mono_ms();
    mx_ws_set_user(ws, w);
    static const char hello[] = "{\"op\":\"connect\",\"data\":{\"result\":true}}";
    mx_ws_send(ws, hello, sizeof hello - 1);
    (void)bx;
    return 0;
}

static void ws_close(void *self, struct mx_ws *ws)
{
    (void)self;
    free(mx_ws_user(ws));
    mx_ws_set_user(ws, NULL);
}

static int public_channel(const char *ch)
{
    return !strcmp(ch, "ticker") || !strcmp(ch, "tickers") || !strcmp(ch, "trade") ||
           !strcmp(ch, "depth_book1") || !strcmp(ch, "depth_book5") || !strcmp(ch, "depth_book15");
}

static int private_channel(const char *ch)
{
    return !strcmp(ch, "order") || !strcmp(ch, "balance") || !strcmp(ch, "position") || !strcmp(ch, "tpsl");
}

static void ws_error(struct bx *bx, struct mx_ws *ws, const char *op, int code, const char *msg)
{
    struct mx_buf *o = &bx->scratch;
    mx_buf_reset(o);
    mx_buf_puts(o, "{\"op\":");
    mx_buf_json_str(o, op);
    mx_buf_printf(o, ",\"code\":%d,\"msg\":", code);
    mx_buf_json_str(o, msg);
    mx_buf_puts(o, "}");
    ws_text(ws, o);
}

static void ws_subscribe(struct bx *bx, struct mx_ws *ws, struct bx_ws *w, const cJSON *args, int sub)
{
    const char *op = sub ? "subscribe" : "unsubscribe";
    mx_count(bx->srv, EX, sub ? "subscribe_messages" : "unsubscribe_messages", 1);
    if (!cJSON_IsArray(args) || cJSON_GetArraySize(args) < 1) {
        ws_error(bx, ws, op, C_PARAM, "Parameter Error: args must be a non-empty array");
        return;
    }
    const cJSON *it;
    /* validate everything first: a bad entry refuses the whole message */
    cJSON_ArrayForEach(it, args)
    {
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(it, "ch");
        const cJSON *sym = cJSON_GetObjectItemCaseSensitive(it, "symbol");
        if (!cJSON_IsString(ch) || strlen(ch->valuestring) >= sizeof w->subs[0].ch) {
            ws_error(bx, ws, op, C_PARAM, "Parameter Error: every arg needs a channel \"ch\"");
            return;
        }
        if (w->private_) {
            if (!private_channel(ch->valuestring)) {
                ws_error(bx, ws, op, C_PARAM, "Parameter Error: unknown private channel");
                return;
            }
            if (!w->acct) {
                ws_error(bx, ws, op, C_SIGN, "Please login first");
                return;
            }
        } else {
            if (!public_channel(ch->valuestring)) {
                ws_error(bx, ws, op, C_PARAM, "Parameter Error: unknown channel");
                return;
            }
            if (!cJSON_IsString(sym) || !instr_named(bx, sym->valuestring)) {
                ws_error(bx, ws, op, C_MARKET, "Market not exists");
                return;
            }
        }
    }
    cJSON_ArrayForEach(it, args)
    {
        const char *ch = cJSON_GetObjectItemCaseSensitive(it, "ch")->valuestring;
        const cJSON *sym = cJSON_GetObjectItemCaseSensitive(it, "symbol");
        int instr = w->private_ ? -1 : instr_named(bx, sym->valuestring)->idx;
        int found = -1;
        for (int i = 0; i < w->nsubs; i++)
            if (w->subs[i].instr == instr && !strcmp(w->subs[i].ch, ch))
                found = i;
        /* per channel, so tests can assert that a client resubscribes
         * each one once per connection and never twice */
        if (sub)
            mx_count(bx->srv, EX, found < 0 ? "ws_subscribed_channels" : "ws_subscribe_dups", 1);
        if (sub && found < 0) {
            if (w->nsubs >= MAX_SUBS) {
                ws_error(bx, ws, op, C_PARAM, "Parameter Error: too many subscriptions on this connection");
                return;
            }
            snprintf(w->subs[w->nsubs].ch, sizeof w->subs[0].ch, "%s", ch);
            w->subs[w->nsubs].instr = instr;
            w->nsubs++;
        } else if (!sub && found >= 0) {
            w->subs[found] = w->subs[--w->nsubs];
        }
    }
    /* ack: the operation echoed with its args */
    char *a = cJSON_PrintUnformatted(args);
    if (!a)
        abort();
    struct mx_buf *o = &bx->scratch;
    mx_buf_reset(o);
    mx_buf_printf(o, "{\"op\":\"%s\",\"args\":", op);
    mx_buf_puts(o, a);
    mx_buf_puts(o, ",\"code\":0,\"msg\":\"Success\"}");
    cJSON_free(a);
    ws_text(ws, o);
}

static void ws_login(struct bx *bx, struct mx_ws *ws, struct bx_ws *w, const cJSON *args)
{
    const cJSON *a0 = cJSON_GetArrayItem(args, 0);
    char key[MX_KEY_MAX], ts[32], nonce[80], sign[80];
    const char *why = NULL;
    int code = C_PARAM;
    if (!w->private_)
        why = "login is only available on the private endpoint";
    else if (!cJSON_IsObject(a0) || member_text(a0, "apiKey", key, sizeof key) ||
             member_text(a0, "timestamp", ts, sizeof ts) || member_text(a0, "nonce", nonce, sizeof nonce) ||
             member_text(a0, "sign", sign, sizeof sign) || !digits(ts) || !nonce[0])
        why = "Parameter Error: args[0] needs apiKey, timestamp, nonce and sign";
    struct mx_account *acct = NULL;
    if (!why && !(acct = mx_acct_find(bx->srv, EX, key)))
        why = "api-key is invalid", code = C_KEY;
    if (!why) {
        char want[65];
        mxbx_sign(nonce, ts, key, "", 0, "", 0, acct->secret, want);
        if (!mxbx_sign_equal(sign, want)) {
            mx_count(bx->srv, EX, "signature_failures", 1);
            why = "Signature Error", code = C_SIGN;
        }
    }
    if (!why) {
        /* clients send seconds (documented) or milliseconds: accept both */
        int64_t t = 0, now = mx_clock_ms(bx->srv, EX);
        mx_parse_dec(ts, strlen(ts), 0, &t);
        if (t < 100000000000LL)
            t *= 1000;
        if (t < now - TS_WINDOW_MS || t > now + TS_WINDOW_MS) {
            mx_count(bx->srv, EX, "timestamp_failures", 1);
            why = "Request timestamp expired: outside the 60 s window", code = C_TIMESTAMP;
        }
    }
    struct mx_buf *o = &bx->scratch;
    mx_buf_reset(o);
    if (why) {
        mx_count(bx->srv, EX, "ws_login_failures", 1);
        mx_buf_printf(o, "{\"op\":\"login\",\"code\":%d,\"msg\":", code);
        mx_buf_json_str(o, why);
        mx_buf_puts(o, ",\"data\":{\"result\":false,\"msg\":");
        mx_buf_json_str(o, why);
        mx_buf_puts(o, "}}");
    } else {
        w->acct = acct;
        mx_count(bx->srv, EX, "ws_logins", 1);
        mx_buf_puts(o, "{\"op\":\"login\",\"data\":{\"result\":true}}");
    }
    ws_text(ws, o);
}

static void ws_message(void *self, struct mx_ws *ws, const char *data, size_t len)
{
    struct bx *bx = self;
    struct bx_ws *w = mx_ws_user(ws);
    if (!w)
        return;
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *op = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "op") : NULL;
    if (!op || !cJSON_IsString(op)) {
        ws_error(bx, ws, "error", C_PARAM, "Parameter Error: expected a JSON object with \"op\"");
    } else if (!strcmp(op->valuestring, "ping")) {
        const cJSON *pg = cJSON_GetObjectItemCaseSensitive(j, "ping");
        w->last_ping = mx_mono_ms();
        mx_count(bx->srv, EX, "ws_pings", 1);
        struct mx_buf *o = &bx->scratch;
        mx_buf_reset(o);
        mx_buf_puts(o, "{\"op\":\"ping\",\"pong\":");
        /* echo the number; one outside int64, [-2^63, 2^63) with both
         * bounds exact doubles, is echoed as a double, since converting it
         * would be undefined (found by fuzz_mockex_bitunix) */
        const double two63 = 9223372036854775808.0;
        if (cJSON_IsNumber(pg) && pg->valuedouble >= -two63 && pg->valuedouble < two63)
            mx_buf_printf(o, "%lld", (long long)pg->valuedouble);
        else if (cJSON_IsNumber(pg))
            mx_buf_printf(o, "%.17g", pg->valuedouble);
        else if (cJSON_IsString(pg))
            mx_buf_json_str(o, pg->valuestring);
        else
            mx_buf_puts(o, "null");
        mx_buf_printf(o, ",\"ping\":%lld}", (long long)(mx_clock_ms(bx->srv, EX) / 1000));
        ws_text(ws, o);
    } else if (!strcmp(op->valuestring, "subscribe") || !strcmp(op->valuestring, "unsubscribe")) {
        ws_subscribe(bx, ws, w, cJSON_GetObjectItemCaseSensitive(j, "args"), op->valuestring[0] == 's');
    } else if (!strcmp(op->valuestring, "login")) {
        ws_login(bx, ws, w, cJSON_GetObjectItemCaseSensitive(j, "args"));
    } else {
        ws_error(bx, ws, op->valuestring, C_PARAM, "Parameter Error: unknown op");
    }
    cJSON_Delete(j);
}

static int subscribed(const struct bx_ws *w, const char *ch, int instr)
{
    for (int i = 0; i < w->nsubs; i++)
        if (w->subs[i].instr == instr && !strcmp(w->subs[i].ch, ch))
            return 1;
    return 0;
}

static void push_begin(struct mx_buf *o, const char *ch, const char *sym, int64_t ts)
{
    mx_buf_reset(o);
    mx_buf_printf(o, "{\"ch\":\"%s\",", ch);
    if (sym)
        mx_buf_printf(o, "\"symbol\":\"%s\",", sym);
    mx_buf_printf(o, "\"ts\":%lld,\"data\":", (long long)ts);
}

static void ticker_ws_obj(struct bx *bx, struct mx_buf *o, int i)
{
    struct mx_market *m = mx_market_of(bx->srv);
    const struct mx_instr *in = mx_market_instr(m, i);
    const struct mx_book *b = mx_market_book(m, i);
    mx_buf_printf(o, "{\"s\":\"%s\",\"o\":", in->symbol);
    fmt_px(o, in, b->open_px);
    mx_buf_puts(o, ",\"h\":");
    fmt_px(o, in, b->high_px);
    mx_buf_puts(o, ",\"l\":");
    fmt_px(o, in, b->low_px);
    mx_buf_puts(o, ",\"la\":");
    fmt_px(o, in, b->last_px);
    mx_buf_puts(o, ",\"b\":");
    fmt_qty(o, in, b->volume);
    mx_buf_puts(o, ",\"q\":");
    mx_buf_dec(o, b->quote_volume, in->price_scale + in->qty_scale, 1);
    /* r: change in percent, 2 decimals, integer arithmetic */
    mx_buf_puts(o, ",\"r\":");
    mx_buf_dec(o, b->open_px ? (b->last_px - b->open_px) * 10000 / b->open_px : 0, 2, 1);
    mx_buf_puts(o, ",\"bd\":");
    fmt_px(o, in, mx_book_bid(b));
    mx_buf_puts(o, ",\"ak\":");
    fmt_px(o, in, mx_book_ask(b));
    mx_buf_puts(o, ",\"bv\":");
    fmt_qty(o, in, b->bid_qty[0]);
    mx_buf_puts(o, ",\"av\":");
    fmt_qty(o, in, b->ask_qty[0]);
    mx_buf_puts(o, "}");
}

struct step_ctx {
    struct bx *bx;
    const struct mx_step *st;
};

static void step_ws(struct mx_ws *ws, void *arg)
{
    struct step_ctx *c = arg;
    struct bx_ws *w = mx_ws_user(ws);
    if (!w || w->private_)
        return;
    struct bx *bx = c->bx;
    const struct mx_step *st = c->st;
    const struct mx_instr *in = st->ins;
    const struct mx_book *b = mx_market_book(mx_market_of(bx->srv), in->idx);
    struct mx_buf *o = &bx->scratch;
    static const int depths[] = {1, 5, 15};
    for (int k = 0; k < 3; k++) {
        char ch[16];
        snprintf(ch, sizeof ch, "depth_book%d", depths[k]);
        if (!subscribed(w, ch, in->idx))
            continue;
        /* snapshots carry no sequence: a ws_gap fault drops one push */
        if (mx_fault_ws_gap(bx->srv, ws)) {
            mx_count(bx->srv, EX, "ws_gaps", 1);
            continue;
        }
        push_begin(o, ch, in->symbol, st->time_ms);
        mx_buf_puts(o, "{\"b\":");
        levels(o, in, b, depths[k], 1);
        mx_buf_puts(o, ",\"a\":");
        levels(o, in, b, depths[k], 0);
        mx_buf_puts(o, "}}");
        ws_text(ws, o);
    }
    if (st->has_trade && subscribed(w, "trade", in->idx)) {
        push_begin(o, "trade", in->symbol, st->time_ms);
        mx_buf_puts(o, "[{\"t\":");
        iso_time(o, st->time_ms);
        mx_buf_puts(o, ",\"p\":");
        fmt_px(o, in, st->trade_px);
        mx_buf_puts(o, ",\"v\":");
        fmt_qty(o, in, st->trade_qty);
        mx_buf_printf(o, ",\"s\":\"%s\"}]}", st->trade_buyer_maker ? "sell" : "buy");
        ws_text(ws, o);
    }
}

static void on_step(void *self, const struct mx_step *st)
{
    struct step_ctx c = {self, st};
    mx_ws_foreach(((struct bx *)self)->srv, EX, step_ws, &c);
}

struct timer_ctx {
    struct bx *bx;
    int64_t mono, idle_ms;
    int second;
};

static void timer_ws(struct mx_ws *ws, void *arg)
{
    struct timer_ctx *c = arg;
    struct bx_ws *w = mx_ws_user(ws);
    if (!w)
        return;
    struct bx *bx = c->bx;
    if (w->idle_closed)
        return;
    if (c->mono - w->last_ping > c->idle_ms) {
        mx_count(bx->srv, EX, "ws_idle_closed", 1);
        w->idle_closed = 1;
        mx_ws_close(ws, 1000, "no ping received");
        return;
    }
    if (!c->second || w->private_)
        return;
    struct mx_market *m = mx_market_of(bx->srv);
    struct mx_buf *o = &bx->scratch;
    int64_t now = mx_clock_ms(bx->srv, EX);
    for (int i = 0; i < mx_market_count(m); i++) {
        const char *sym = mx_market_instr(m, i)->symbol;
        if (subscribed(w, "ticker", i)) {
            push_begin(o, "ticker", sym, now);
            ticker_ws_obj(bx, o, i);
            mx_buf_puts(o, "}");
            ws_text(ws, o);
        }
        if (subscribed(w, "tickers", i)) {
            push_begin(o, "tickers", sym, now);
            mx_buf_puts(o, "[");
            ticker_ws_obj(bx, o, i);
            mx_buf_puts(o, "]}");
            ws_text(ws, o);
        }
    }
}

static void on_timer(void *self, int64_t now_ms)
{
    struct bx *bx = self;
    const struct mx_opts *op = mx_opts(bx->srv);
    struct timer_ctx c = {bx, mx_mono_ms(), op->ws_idle_ms > 0 ? op->ws_idle_ms : IDLE_DEFAULT_MS, 0};
    if (now_ms / 1000 != bx->last_second) {
        bx->last_second = now_ms / 1000;
        c.second = 1;
    }
    mx_ws_foreach(bx->srv, EX, timer_ws, &c);
}

struct user_ctx {
    struct mx_account *a;
    const char *ch;
    const struct mx_buf *payload;
};

static void user_ws(struct mx_ws *ws, void *arg)
{
    struct user_ctx *c = arg;
    struct bx_ws *w = mx_ws_user(ws);
    if (w && w->private_ && w->acct == c->a && subscribed(w, c->ch, -1))
        mx_ws_send(ws, c->payload->p, c->payload->len);
}

static void on_order(void *self, struct mx_account *a, const struct mx_order *o, enum mx_order_event ev)
{
    struct bx *bx = self;
    struct mx_market *m = mx_market_of(bx->srv);
    const struct mx_instr *in = mx_market_instr(m, o->instr);
    int64_t now = mx_clock_ms(bx->srv, EX);
    struct mx_buf b = {0};
    int closed = o->status != MX_NEW && o->status != MX_PARTIALLY_FILLED;
    push_begin(&b, "order", NULL, now);
    mx_buf_printf(&b, "{\"event\":\"%s\",\"orderId\":\"%llu\",\"symbol\":\"%s\",\"positionType\":\"CROSS\","
                      "\"positionMode\":\"ONE_WAY\",\"side\":\"%s\",\"effect\":\"%s\",\"type\":\"%s\",\"qty\":",
                  ev == MX_EV_NEW ? "CREATE" : closed ? "CLOSE" : "UPDATE", (unsigned long long)o->id,
                  in->symbol, o->side > 0 ? "BUY" : "SELL", effect_name(o->tif),
                  o->type == MX_MARKET ? "MARKET" : "LIMIT");
    fmt_qty(&b, in, o->qty);
    mx_buf_printf(&b, ",\"reductionOnly\":%s,\"price\":", o->reduce_only ? "true" : "false");
    if (o->type == MX_LIMIT)
        fmt_px(&b, in, o->price);
    else
        mx_buf_puts(&b, "null");
    mx_buf_puts(&b, ",\"ctime\":");
    iso_time(&b, o->created_ms);
    mx_buf_puts(&b, ",\"mtime\":");
    iso_time(&b, o->updated_ms > o->created_ms ? o->updated_ms : o->created_ms);
    mx_buf_printf(&b, ",\"leverage\":\"%d\",\"orderStatus\":\"%s\",\"fee\":", LEVERAGE, status_name(o));
    mx_buf_dec(&b, o->filled ? o->last_fee_e8 : 0, 8, 1);
    mx_buf_puts(&b, ",\"averagePrice\":");
    mx_buf_dec(&b, avg_e8(in, o), 8, 1);
    mx_buf_puts(&b, ",\"dealAmount\":");
    fmt_qty(&b, in, o->filled);
    mx_buf_puts(&b, ",\"clientId\":");
    mx_buf_json_str(&b, o->client_id);
    mx_buf_puts(&b, "}}");
    struct user_ctx c = {a, "order", &b};
    mx_ws_foreach(bx->srv, EX, user_ws, &c);

    /* balance: frozen (order margin) changes on every event */
    int64_t frozen = order_margin_e8(bx, a), margin = position_margin_e8(bx, a);
    push_begin(&b, "balance", NULL, now);
    mx_buf_puts(&b, "{\"coin\":\"USDT\",\"available\":");
    mx_buf_dec(&b, a->wallet_e8 - frozen - margin, 8, 1);
    mx_buf_puts(&b, ",\"frozen\":");
    mx_buf_dec(&b, frozen, 8, 1);
    mx_buf_puts(&b, ",\"isolationFrozen\":\"0\",\"crossFrozen\":");
    mx_buf_dec(&b, frozen, 8, 1);
    mx_buf_puts(&b, ",\"margin\":");
    mx_buf_dec(&b, margin, 8, 1);
    mx_buf_puts(&b, ",\"isolationMargin\":\"0\",\"crossMargin\":");
    mx_buf_dec(&b, margin, 8, 1);
    mx_buf_puts(&b, ",\"expMoney\":\"0\"}}");
    c.ch = "balance";
    mx_ws_foreach(bx->srv, EX, user_ws, &c);

    if (ev == MX_EV_TRADE) {
        const struct mx_position *p = &a->pos[o->instr];
        int64_t q = p->amt < 0 ? -p->amt : p->amt;
        const char *pev = p->amt == 0 ? "CLOSE" : (q == o->last_qty && (p->amt > 0) == (o->side > 0)) ? "OPEN"
                                                                                                      : "UPDATE";
        push_begin(&b, "position", NULL, now);
        mx_buf_printf(&b, "{\"event\":\"%s\",\"positionId\":\"%d%06d\",\"marginMode\":\"CROSS\","
                          "\"positionMode\":\"ONE_WAY\",\"side\":\"%s\",\"leverage\":\"%d\",\"margin\":",
                      pev, o->instr + 1, acct_tag(a),
                      p->amt >= 0 ? (p->amt ? "LONG" : (o->side > 0 ? "SHORT" : "LONG")) : "SHORT", LEVERAGE);
        mx_buf_dec(&b, p->cost_e8 / LEVERAGE, 8, 1);
        mx_buf_puts(&b, ",\"ctime\":");
        iso_time(&b, now);
        mx_buf_puts(&b, ",\"qty\":");
        fmt_qty(&b, in, q);
        mx_buf_puts(&b, ",\"entryValue\":");
        mx_buf_dec(&b, p->cost_e8, 8, 1);
        mx_buf_printf(&b, ",\"symbol\":\"%s\",\"realizedPNL\":", in->symbol);
        mx_buf_dec(&b, p->realized_e8, 8, 1);
        mx_buf_puts(&b, ",\"unrealizedPNL\":");
        mx_buf_dec(&b, mx_acct_unrealized_e8(bx->srv, a, o->instr), 8, 1);
        mx_buf_puts(&b, ",\"funding\":\"0\",\"fee\":");
        mx_buf_dec(&b, o->last_fee_e8, 8, 1);
        mx_buf_puts(&b, "}}");
        c.ch = "position";
        mx_ws_foreach(bx->srv, EX, user_ws, &c);
    }
    mx_buf_free(&b);
}

static int flood_frame(void *self, struct mx_ws *ws, struct mx_buf *out)
{
    struct bx *bx = self;
    struct bx_ws *w = mx_ws_user(ws);
    if (!w || w->private_)
        return -1;
    struct mx_market *m = mx_market_of(bx->srv);
    int i = 0;
    for (int k = 0; k < w->nsubs; k++)
        if (w->subs[k].instr >= 0) {
            i = w->subs[k].instr;
            break;
        }
    const struct mx_instr *in = mx_market_instr(m, i);
    const struct mx_book *b = mx_market_book(m, i);
    push_begin(out, "depth_book1", in->symbol, b->time_ms);
    mx_buf_puts(out, "{\"b\":");
    levels(out, in, b, 1, 1);
    mx_buf_puts(out, ",\"a\":");
    levels(out, in, b, 1, 0);
    mx_buf_puts(out, "}}");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* lifecycle and state                                                      */
/* ------------------------------------------------------------------------ */

static void *create(struct mx_server *srv)
{
    struct bx *bx = calloc(1, sizeof *bx);
    if (bx)
        bx->srv = srv;
    return bx;
}

static void destroy(void *self)
{
    struct bx *bx = self;
    mx_buf_free(&bx->scratch);
    free(bx);
}

static void reset(void *self)
{
    struct bx *bx = self;
    memset(bx->rates, 0, sizeof bx->rates);
    for (struct mx_account *a = mx_acct_first(bx->srv); a; a = a->next)
        if (!strcmp(a->exchange, EX) && a->module_data)
            memset(a->module_data, 0, sizeof(struct bx_acct));
}

static void state(void *self, struct mx_buf *o)
{
    struct bx *bx = self;
    mx_buf_puts(o, "{\"accounts\":[");
    int first = 1;
    for (struct mx_account *a = mx_acct_first(bx->srv); a; a = a->next) {
        if (strcmp(a->exchange, EX) != 0)
            continue;
        mx_buf_puts(o, first ? "{\"name\":" : ",{\"name\":");
        first = 0;
        mx_buf_json_str(o, a->name);
        mx_buf_puts(o, ",\"account\":");
        account_json(bx, o, a);
        mx_buf_puts(o, ",\"positions\":[");
        int pf = 1;
        for (int i = 0; i < mx_market_count(mx_market_of(bx->srv)); i++) {
            if (!a->pos[i].amt)
                continue;
            if (!pf)
                mx_buf_puts(o, ",");
            pf = 0;
            position_json(bx, o, a, i);
        }
        mx_buf_puts(o, "],\"open_orders\":[");
        for (const struct mx_order *od = a->open; od; od = od->next) {
            if (od != a->open)
                mx_buf_puts(o, ",");
            order_json(bx, o, od);
        }
        mx_buf_puts(o, "]}");
    }
    mx_buf_puts(o, "],\"books\":[");
    struct mx_market *m = mx_market_of(bx->srv);
    for (int i = 0; i < mx_market_count(m); i++) {
        const struct mx_instr *in = mx_market_instr(m, i);
        const struct mx_book *b = mx_market_book(m, i);
        mx_buf_printf(o, "%s{\"symbol\":\"%s\",\"bid\":", i ? "," : "", in->symbol);
        fmt_px(o, in, mx_book_bid(b));
        mx_buf_puts(o, ",\"ask\":");
        fmt_px(o, in, mx_book_ask(b));
        mx_buf_puts(o, "}");
    }
    mx_buf_puts(o, "]}");
}

const struct mx_module mx_module_bitunix = {
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
