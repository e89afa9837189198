/*
 * hyperliquid.c — Hyperliquid module of the mock: POST /info and
 * POST /exchange and WS /ws (hyperliquid.md).
 *
 * /exchange verifies the L1 action signature the way the exchange does: the
 * action is re-serialised from the JSON body with msgpack in the key order
 * received (cJSON keeps it), followed by nonce / vault / expiresAfter, hashed
 * to the connectionId, wrapped in the EIP-712 "Agent" digest, and the signer
 * is RECOVERED from {r,s,v}. Because the signer is recovered, not checked,
 * a wrong key or wrong bytes show up as an unknown address — the exchange's
 * "User or API Wallet 0x… does not exist." The mock is both networks: it
 * accepts source "a" (mainnet) and "b" (testnet).
 *
 * The EIP-712 encoding here is written from the spec independently of the
 * plugin's sign.c (only the Keccak permutation, plugins/hyperliquid/keccak.c,
 * is shared), so a bug in one does not hide in the other.
 */
#include "mockex.h"

#include "keccak.h"

#include <openssl/crypto.h> /* OPENSSL_hexchar2int */
#include <cjson/cJSON.h>
#include <msgpack.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EX "hyperliquid"
#define HL_MAX_SIGNERS 64
#define HL_BOOK_LEVELS 20 /* l2Book gives 20 levels a side, as the exchange */
#define HL_LEVERAGE 20

struct hl_signer {
    struct mx_account *acct;
    uint64_t last_nonce;
};

struct hl {
    struct mx_server *srv;
    secp256k1_context *secp;
    struct hl_signer signers[HL_MAX_SIGNERS];
    int nsigners;
    struct mx_buf scratch; /* WS frames being rendered */
    int64_t last_second;   /* allMids pushes once a second */
};

#define HL_IDLE_DEFAULT_MS 60000 /* the exchange closes a connection silent for 60 s */
#define HL_WS_MAX_SUBS 64

enum { HL_SUB_BOOK = 0, HL_SUB_TRADES, HL_SUB_BBO, HL_SUB_MIDS, HL_SUB_ORDERS, HL_SUB_FILLS };

/* One subscription of a connection: instr for coin channels (-1 otherwise),
 * acct for user channels (NULL otherwise; (void *)1 for an address the
 * mock does not know). */
struct hl_sub {
    int kind, instr;
    struct mx_account *acct;
};

struct hl_ws {
    int64_t last_msg; /* monotonic ms of the last client message */
    int idle_closed;  /* the idle close was sent (count it once) */
    int nsubs;
    struct hl_sub subs[HL_WS_MAX_SUBS];
};

static const char *const HEADERS[] = {NULL};

/* ------------------------------------------------------------------------ */
/* hashing                                                                   */
/* ------------------------------------------------------------------------ */

static void kk(const void *p, size_t n, uint8_t out[32]) { hl_keccak256_builtin(p, n, out); }
static void kks(const char *s, uint8_t out[32]) { kk(s, strlen(s), out); }

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* EIP-712: keccak(0x19 0x01 ‖ domainSeparator ‖ hashStruct(Agent{source, connectionId})). */
static void agent_digest(const uint8_t conn[32], const char *source, uint8_t out[32])
{
    uint8_t dom[5 * 32] = {0}, agent[3 * 32], msg[2 + 64];
    kks("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)", dom);
    kks("Exchange", dom + 32);
    kks("1", dom + 64);
    dom[96 + 30] = 1337 >> 8; /* uint256 chainId, big-endian */
    dom[96 + 31] = 1337 & 0xff;
    /* verifyingContract = address(0): 32 zero bytes already there */
    kks("Agent(string source,bytes32 connectionId)", agent);
    kks(source, agent + 32);
    memcpy(agent + 64, conn, 32);
    msg[0] = 0x19;
    msg[1] = 0x01;
    kk(dom, sizeof dom, msg + 2);
    kk(agent, sizeof agent, msg + 34);
    kk(msg, sizeof msg, out);
}

/* "0x" + 2n hex (the 0x optional) → n bytes; shorter r/s are left-padded. */
static int unhex(const char *s, uint8_t *out, size_t n, int exact)
{
    if (!s)
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    size_t l = strlen(s);
    if (l == 0 || l > 2 * n || (exact && l != 2 * n))
        return -1;
    memset(out, 0, n);
    size_t off = 2 * n - l; /* nibble offset */
    for (size_t i = 0; i < l; i++) {
        int v = OPENSSL_hexchar2int((unsigned char)s[i]);
        if (v < 0)
            return -1;
        size_t nib = off + i;
        out[nib / 2] |= (uint8_t)(nib % 2 ? v : v << 4);
    }
    return 0;
}

static void addr_hex(const uint8_t a[20], char out[43])
{
    static const char hx[] = "0123456789abcdef";
    out[0] = '0', out[1] = 'x';
    for (int i = 0; i < 20; i++)
        out[2 + 2 * i] = hx[a[i] >> 4], out[3 + 2 * i] = hx[a[i] & 15];
    out[42] = 0;
}

static void pub_address(const secp256k1_context *ctx, const secp256k1_pubkey *pk, char out[43])
{
    uint8_t ser[65], h[32];
    size_t n = sizeof ser;
    secp256k1_ec_pubkey_serialize(ctx, ser, &n, pk, SECP256K1_EC_UNCOMPRESSED);
    kk(ser + 1, 64, h);
    addr_hex(h + 12, out);
}

/* msgpack of a JSON value, maps in the order received. Numbers must be
 * integers (the exchange's actions carry none other); returns -1 otherwise. */
static int pack_json(msgpack_packer *pk, const cJSON *v)
{
    if (cJSON_IsObject(v)) {
        int n = cJSON_GetArraySize(v);
        if (msgpack_pack_map(pk, (size_t)n))
            return -1;
        for (const cJSON *c = v->child; c; c = c->next) {
            size_t kl = strlen(c->string);
            if (msgpack_pack_str(pk, kl) || msgpack_pack_str_body(pk, c->string, kl) || pack_json(pk, c))
                return -1;
        }
        return 0;
    }
    if (cJSON_IsArray(v)) {
        if (msgpack_pack_array(pk, (size_t)cJSON_GetArraySize(v)))
            return -1;
        for (const cJSON *c = v->child; c; c = c->next)
            if (pack_json(pk, c))
                return -1;
        return 0;
    }
    if (cJSON_IsString(v)) {
        size_t l = strlen(v->valuestring);
        return msgpack_pack_str(pk, l) || msgpack_pack_str_body(pk, v->valuestring, l) ? -1 : 0;
    }
    if (cJSON_IsTrue(v))
        return msgpack_pack_true(pk);
    if (cJSON_IsFalse(v))
        return msgpack_pack_false(pk);
    if (cJSON_IsNull(v))
        return msgpack_pack_nil(pk);
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || (double)(int64_t)d != d)
            return -1;
        /* msgpack-c picks the smallest encoding, as the SDK's msgpack does */
        return d < 0 ? msgpack_pack_int64(pk, (int64_t)d) : msgpack_pack_uint64(pk, (uint64_t)d);
    }
    return -1;
}

static int json_u64(const cJSON *v, uint64_t *out)
{
    /* integers only, exactly representable (< 2^53); the range test also
     * rejects NaN before the cast. v is NULL for a missing member. */
    if (!v || !cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0) ||
        (double)(uint64_t)v->valuedouble != v->valuedouble)
        return -1;
    *out = (uint64_t)v->valuedouble;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* answers                                                                   */
/* ------------------------------------------------------------------------ */

static void err_answer(struct mx_resp *rs, const char *msg)
{
    mx_buf_reset(&rs->body);
    mx_buf_puts(&rs->body, "{\"status\":\"err\",\"response\":");
    mx_buf_json_str(&rs->body, msg);
    mx_buf_puts(&rs->body, "}");
}

/* Bodies the exchange cannot deserialise get 422 with a plain message. */
static void bad_body(struct mx_resp *rs)
{
    rs->status = 422;
    rs->content_type = "text/plain";
    mx_buf_reset(&rs->body);
    mx_buf_puts(&rs->body, "Failed to deserialize the JSON body into the target type");
}

static struct hl_signer *signer_of(struct hl *hl, struct mx_account *a)
{
    for (int i = 0; i < hl->nsigners; i++)
        if (hl->signers[i].acct == a)
            return &hl->signers[i];
    if (hl->nsigners == HL_MAX_SIGNERS)
        return NULL;
    struct hl_signer *s = &hl->signers[hl->nsigners++];
    s->acct = a;
    s->last_nonce = 0;
    return s;
}

static const char *status_name(enum mx_ord_status s)
{
    switch (s) {
    case MX_NEW:
    case MX_PARTIALLY_FILLED:
        return "open";
    case MX_FILLED:
        return "filled";
    case MX_CANCELED:
        return "canceled";
    default:
        return "rejected"; /* IOC/Alo that could not stay */
    }
}

static void order_json(const struct mx_instr *in, const struct mx_order *o, struct mx_buf *b)
{
    mx_buf_puts(b, "{\"coin\":");
    mx_buf_json_str(b, in->base);
    mx_buf_puts(b, ",\"side\":");
    mx_buf_puts(b, o->side > 0 ? "\"B\"" : "\"A\"");
    mx_buf_puts(b, ",\"limitPx\":");
    mx_buf_dec(b, o->price, in->price_scale, 1);
    mx_buf_puts(b, ",\"sz\":");
    mx_buf_dec(b, o->qty - o->filled, in->qty_scale, 1);
    mx_buf_puts(b, ",\"origSz\":");
    mx_buf_dec(b, o->qty, in->qty_scale, 1);
    mx_buf_printf(b, ",\"oid\":%llu,\"timestamp\":%lld,\"orderType\":\"Limit\",\"tif\":\"%s\",\"reduceOnly\":%s",
                  (unsigned long long)o->id, (long long)o->created_ms,
                  o->tif == MX_IOC ? "Ioc" : o->tif == MX_GTX ? "Alo" : "Gtc", o->reduce_only ? "true" : "false");
    if (o->client_id[0]) {
        mx_buf_puts(b, ",\"cloid\":");
        mx_buf_json_str(b, o->client_id);
    } else {
        mx_buf_puts(b, ",\"cloid\":null");
    }
    mx_buf_puts(b, "}");
}

/* ------------------------------------------------------------------------ */
/* /info                                                                     */
/* ------------------------------------------------------------------------ */

/* HL sizes: szDecimals 5 for BTC, 4 for ETH (the real exchange's values);
 * the mock's lot is coarser (qty_scale), so finer sizes are refused at
 * placement with the exchange's own "invalid size" error. */
static int sz_decimals(const struct mx_instr *in) { return !strcmp(in->base, "BTC") ? 5 : !strcmp(in->base, "ETH") ? 4 : in->qty_scale; }

static void info_meta(struct hl *hl, struct mx_buf *b)
{
    struct mx_market *m = mx_market_of(hl->srv);
    mx_buf_puts(b, "{\"universe\":[");
    for (int i = 0; i < mx_market_count(m); i++) {
        const struct mx_instr *in = mx_market_instr(m, i);
        mx_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        mx_buf_json_str(b, in->base);
        mx_buf_printf(b, ",\"szDecimals\":%d,\"maxLeverage\":%d}", sz_decimals(in), HL_LEVERAGE);
    }
    mx_buf_puts(b, "]}");
}

static void info_mids(struct hl *hl, struct mx_buf *b)
{
    struct mx_market *m = mx_market_of(hl->srv);
    mx_buf_puts(b, "{");
    for (int i = 0; i < mx_market_count(m); i++) {
        const struct mx_instr *in = mx_market_instr(m, i);
        const struct mx_book *bk = mx_market_book(m, i);
        /* mid = (bid+ask)/2 exactly: one more decimal than the tick */
        int64_t twice = mx_book_bid(bk) + mx_book_ask(bk);
        if (i)
            mx_buf_puts(b, ",");
        mx_buf_json_str(b, in->base);
        mx_buf_puts(b, ":");
        mx_buf_dec(b, twice * 5, in->price_scale + 1, 1);
    }
    mx_buf_puts(b, "}");
}

/* time: the exchange stamps a snapshot with the current (block) time, and
 * clients sync their clock from it (Hyperliquid has no time endpoint), so
 * REST answers carry the mock's clock; WS pushes carry their step's time. */
static void info_l2_at(struct hl *hl, const struct mx_instr *in, int64_t time_ms, struct mx_buf *b)
{
    const struct mx_book *bk = mx_market_book(mx_market_of(hl->srv), in->idx);
    mx_buf_puts(b, "{\"coin\":");
    mx_buf_json_str(b, in->base);
    mx_buf_printf(b, ",\"time\":%lld,\"levels\":[", (long long)time_ms);
    for (int side = 0; side < 2; side++) {
        mx_buf_puts(b, side ? ",[" : "[");
        int n = 0;
        for (int i = 0; i < MX_BOOK_DEPTH && n < HL_BOOK_LEVELS; i++) {
            int64_t q = side ? bk->ask_qty[i] : bk->bid_qty[i];
            if (q <= 0)
                continue;
            int64_t px = side ? bk->best_bid + 1 + i : bk->best_bid - i;
            mx_buf_puts(b, n ? ",{\"px\":" : "{\"px\":");
            mx_buf_dec(b, px, in->price_scale, 1);
            mx_buf_puts(b, ",\"sz\":");
            mx_buf_dec(b, q, in->qty_scale, 1);
            mx_buf_puts(b, ",\"n\":1}");
            n++;
        }
        mx_buf_puts(b, "]");
    }
    mx_buf_puts(b, "]}");
}

static void info_l2(struct hl *hl, const struct mx_instr *in, struct mx_buf *b)
{
    info_l2_at(hl, in, mx_clock_ms(hl->srv, EX), b);
}

static void info_clearing(struct hl *hl, struct mx_account *a, struct mx_buf *b)
{
    struct mx_market *m = mx_market_of(hl->srv);
    int64_t upnl = 0, ntl = 0;
    for (int i = 0; i < mx_market_count(m); i++) {
        const struct mx_instr *in = mx_market_instr(m, i);
        int64_t amt = a->pos[i].amt;
        if (!amt)
            continue;
        upnl += mx_acct_unrealized_e8(hl->srv, a, i);
        ntl += mx_notional_e8(in, mx_book_bid(mx_market_book(m, i)), amt < 0 ? -amt : amt);
    }
    int64_t value = a->wallet_e8 + upnl;
    int64_t avail = mx_acct_available_e8(hl->srv, a);
    if (avail < 0)
        avail = 0;
    mx_buf_puts(b, "{\"marginSummary\":{\"accountValue\":");
    mx_buf_dec(b, value, 8, 1);
    mx_buf_puts(b, ",\"totalNtlPos\":");
    mx_buf_dec(b, ntl, 8, 1);
    mx_buf_puts(b, ",\"totalRawUsd\":");
    mx_buf_dec(b, a->wallet_e8, 8, 1);
    mx_buf_puts(b, ",\"totalMarginUsed\":");
    mx_buf_dec(b, ntl / HL_LEVERAGE, 8, 1);
    mx_buf_puts(b, "},\"withdrawable\":");
    mx_buf_dec(b, avail, 8, 1);
    mx_buf_puts(b, ",\"assetPositions\":[");
    int first = 1;
    for (int i = 0; i < mx_market_count(m); i++) {
        const struct mx_instr *in = mx_market_instr(m, i);
        const struct mx_position *p = &a->pos[i];
        if (!p->amt)
            continue;
        int64_t absq = p->amt < 0 ? -p->amt : p->amt;
        int64_t pv = mx_notional_e8(in, mx_book_bid(mx_market_book(m, i)), absq);
        mx_buf_puts(b, first ? "{\"type\":\"oneWay\",\"position\":{\"coin\":" : ",{\"type\":\"oneWay\",\"position\":{\"coin\":");
        first = 0;
        mx_buf_json_str(b, in->base);
        mx_buf_puts(b, ",\"szi\":");
        mx_buf_dec(b, p->amt, in->qty_scale, 1);
        mx_buf_puts(b, ",\"entryPx\":");
        mx_buf_dec(b, mx_pos_entry_e8(in, p), 8, 1);
        mx_buf_puts(b, ",\"positionValue\":");
        mx_buf_dec(b, pv, 8, 1);
        mx_buf_puts(b, ",\"unrealizedPnl\":");
        mx_buf_dec(b, mx_acct_unrealized_e8(hl->srv, a, i), 8, 1);
        mx_buf_printf(b, ",\"leverage\":{\"type\":\"cross\",\"value\":%d},\"liquidationPx\":null,\"marginUsed\":",
                      HL_LEVERAGE);
        mx_buf_dec(b, pv / HL_LEVERAGE, 8, 1);
        mx_buf_puts(b, "}}");
    }
    mx_buf_printf(b, "],\"time\":%lld}", (long long)mx_clock_ms(hl->srv, EX));
}

static void info_open(struct hl *hl, struct mx_account *a, struct mx_buf *b)
{
    struct mx_market *m = mx_market_of(hl->srv);
    mx_buf_puts(b, "[");
    for (const struct mx_order *o = a ? a->open : NULL; o; o = o->next) {
        if (o != a->open)
            mx_buf_puts(b, ",");
        order_json(mx_market_instr(m, o->instr), o, b);
    }
    mx_buf_puts(b, "]");
}

static void info_status(struct hl *hl, struct mx_account *a, const cJSON *oid, struct mx_buf *b)
{
    uint64_t id = 0;
    const char *cl = NULL;
    if (cJSON_IsString(oid))
        cl = oid->valuestring;
    else if (json_u64(oid, &id))
        id = 0;
    struct mx_order *o = NULL;
    struct mx_market *m = mx_market_of(hl->srv);
    /* the store looks per instrument: try each */
    for (int i = 0; a && !o && (id || (cl && cl[0])) && i < mx_market_count(m); i++)
        o = mx_acct_order(a, i, id, id ? NULL : cl, NULL);
    if (!o) {
        mx_buf_puts(b, "{\"status\":\"unknownOid\"}");
        return;
    }
    mx_buf_puts(b, "{\"status\":\"order\",\"order\":{\"order\":");
    order_json(mx_market_instr(m, o->instr), o, b);
    mx_buf_printf(b, ",\"status\":\"%s\",\"statusTimestamp\":%lld}}", status_name(o->status),
                  (long long)o->updated_ms);
}

static const struct mx_instr *coin_instr(struct hl *hl, const char *coin)
{
    struct mx_market *m = mx_market_of(hl->srv);
    for (int i = 0; coin && i < mx_market_count(m); i++)
        if (!strcmp(mx_market_instr(m, i)->base, coin))
            return mx_market_instr(m, i);
    return NULL;
}

static void info(struct hl *hl, const struct mx_req *r, struct mx_resp *rs)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    const cJSON *t = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "type") : NULL;
    if (!t || !cJSON_IsString(t)) {
        bad_body(rs);
        goto out;
    }
    const char *type = t->valuestring;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "user");
    struct mx_account *a = cJSON_IsString(u) ? mx_acct_find(hl->srv, EX, u->valuestring) : NULL;
    if (!strcmp(type, "meta"))
        info_meta(hl, &rs->body);
    else if (!strcmp(type, "allMids"))
        info_mids(hl, &rs->body);
    else if (!strcmp(type, "l2Book")) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "coin");
        const struct mx_instr *in = cJSON_IsString(c) ? coin_instr(hl, c->valuestring) : NULL;
        if (in)
            info_l2(hl, in, &rs->body);
        else if (cJSON_IsString(c))
            mx_buf_puts(&rs->body, "null"); /* the exchange answers null for an unknown coin */
        else
            bad_body(rs);
    } else if (!strcmp(type, "clearinghouseState") || !strcmp(type, "openOrders") ||
               !strcmp(type, "orderStatus")) {
        if (!cJSON_IsString(u) || strlen(u->valuestring) != 42) {
            bad_body(rs);
            goto out;
        }
        if (!strcmp(type, "openOrders"))
            info_open(hl, a, &rs->body);
        else if (!strcmp(type, "orderStatus"))
            info_status(hl, a, cJSON_GetObjectItemCaseSensitive(j, "oid"), &rs->body);
        else if (a)
            info_clearing(hl, a, &rs->body);
        else /* an unknown address has an empty account on the exchange */
            mx_buf_printf(&rs->body,
                          "{\"marginSummary\":{\"accountValue\":\"0.0\",\"totalNtlPos\":\"0.0\",\"totalRawUsd\":"
                          "\"0.0\",\"totalMarginUsed\":\"0.0\"},\"withdrawable\":\"0.0\",\"assetPositions\":[],"
                          "\"time\":%lld}",
                          (long long)mx_clock_ms(hl->srv, EX));
    } else {
        bad_body(rs);
    }
out:
    cJSON_Delete(j);
}

/* ------------------------------------------------------------------------ */
/* /exchange                                                                 */
/* ------------------------------------------------------------------------ */

static const struct mx_instr *asset_instr(struct hl *hl, const cJSON *v)
{
    uint64_t a;
    struct mx_market *m = mx_market_of(hl->srv);
    if (json_u64(v, &a) || a >= (uint64_t)mx_market_count(m))
        return NULL;
    return mx_market_instr(m, (int)a);
}

static int valid_cloid(const char *s)
{
    if (strlen(s) != 34 || s[0] != '0' || s[1] != 'x')
        return 0;
    for (int i = 2; i < 34; i++)
        if (OPENSSL_hexchar2int((unsigned char)s[i]) < 0)
            return 0;
    return 1;
}

static void place_one(struct hl *hl, struct mx_account *a, const cJSON *o, struct mx_buf *b)
{
    const struct mx_instr *in = asset_instr(hl, cJSON_GetObjectItemCaseSensitive(o, "a"));
    const cJSON *isb = cJSON_GetObjectItemCaseSensitive(o, "b");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "p");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "s");
    const cJSON *ro = cJSON_GetObjectItemCaseSensitive(o, "r");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
    const cJSON *lim = cJSON_IsObject(t) ? cJSON_GetObjectItemCaseSensitive(t, "limit") : NULL;
    const cJSON *tif = cJSON_IsObject(lim) ? cJSON_GetObjectItemCaseSensitive(lim, "tif") : NULL;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "c");
    char msg[160];
    if (!in) {
        mx_buf_puts(b, "{\"error\":\"Unknown asset\"}");
        return;
    }
    int asset = in->idx;
    if (!cJSON_IsBool(isb) || !cJSON_IsString(p) || !cJSON_IsString(s) || (ro && !cJSON_IsBool(ro)) ||
        !cJSON_IsString(tif) || (c && !cJSON_IsNull(c) && (!cJSON_IsString(c) || !valid_cloid(c->valuestring)))) {
        mx_buf_puts(b, "{\"error\":\"Failed to deserialize the order\"}");
        return;
    }
    struct mx_order q;
    memset(&q, 0, sizeof q);
    q.instr = in->idx;
    q.side = cJSON_IsTrue(isb) ? 1 : -1;
    q.type = MX_LIMIT;
    q.reduce_only = cJSON_IsTrue(ro);
    const char *tv = tif->valuestring;
    if (!strcmp(tv, "Gtc"))
        q.tif = MX_GTC;
    else if (!strcmp(tv, "Ioc"))
        q.tif = MX_IOC;
    else if (!strcmp(tv, "Alo"))
        q.tif = MX_GTX;
    else {
        mx_buf_puts(b, "{\"error\":\"Invalid TIF\"}");
        return;
    }
    if (mx_parse_dec(p->valuestring, strlen(p->valuestring), in->price_scale, &q.price) || q.price <= 0) {
        snprintf(msg, sizeof msg, "{\"error\":\"Order has invalid price. asset=%d\"}", asset);
        mx_buf_puts(b, msg);
        return;
    }
    if (mx_parse_dec(s->valuestring, strlen(s->valuestring), in->qty_scale, &q.qty) || q.qty <= 0) {
        snprintf(msg, sizeof msg, "{\"error\":\"Order has invalid size. asset=%d\"}", asset);
        mx_buf_puts(b, msg);
        return;
    }
    if (mx_notional_e8(in, q.price, q.qty) < 10LL * 100000000LL) {
        snprintf(msg, sizeof msg, "{\"error\":\"Order must have minimum value of $10. asset=%d\"}", asset);
        mx_buf_puts(b, msg);
        return;
    }
    if (c && cJSON_IsString(c)) {
        if (mx_acct_order(a, in->idx, 0, c->valuestring, NULL)) {
            snprintf(msg, sizeof msg, "{\"error\":\"Duplicate cloid. asset=%d\"}", asset);
            mx_buf_puts(b, msg);
            return;
        }
        mx_copy(q.client_id, sizeof q.client_id, c->valuestring);
    }
    struct mx_order res;
    int rc = mx_acct_place(hl->srv, a, &q, &res);
    if (rc == -1)
        snprintf(msg, sizeof msg, "{\"error\":\"Insufficient margin to place order. asset=%d\"}", asset);
    else if (rc == -2)
        snprintf(msg, sizeof msg, "{\"error\":\"Post only order would have immediately matched. asset=%d\"}", asset);
    else if (rc == -3)
        snprintf(msg, sizeof msg, "{\"error\":\"Reduce only order would increase position. asset=%d\"}", asset);
    else if (rc)
        snprintf(msg, sizeof msg, "{\"error\":\"Order rejected. asset=%d\"}", asset);
    if (rc) {
        mx_buf_puts(b, msg);
        return;
    }
    mx_count(hl->srv, EX, "orders_placed", 1);
    if (res.filled > 0) {
        mx_buf_puts(b, "{\"filled\":{\"totalSz\":");
        mx_buf_dec(b, res.filled, in->qty_scale, 1);
        mx_buf_puts(b, ",\"avgPx\":");
        mx_buf_dec(b, res.last_px, in->price_scale, 1); /* fills are whole, at one price */
        mx_buf_printf(b, ",\"oid\":%llu", (unsigned long long)res.id);
    } else if (res.status == MX_NEW) {
        mx_buf_printf(b, "{\"resting\":{\"oid\":%llu", (unsigned long long)res.id);
    } else {
        snprintf(msg, sizeof msg,
                 "{\"error\":\"Order could not immediately match against any resting orders. asset=%d\"}", asset);
        mx_buf_puts(b, msg);
        return;
    }
    if (res.client_id[0]) {
        mx_buf_puts(b, ",\"cloid\":");
        mx_buf_json_str(b, res.client_id);
    }
    mx_buf_puts(b, "}}");
}

static void cancel_one(struct hl *hl, struct mx_account *a, const cJSON *cx, int by_cloid, struct mx_buf *b)
{
    const struct mx_instr *in = asset_instr(hl, cJSON_GetObjectItemCaseSensitive(cx, by_cloid ? "asset" : "a"));
    struct mx_order out;
    uint64_t oid = 0;
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(cx, "cloid");
    int ok = in && (by_cloid ? cJSON_IsString(cl) && !mx_acct_cancel(hl->srv, a, in->idx, 0, cl->valuestring, &out)
                             : !json_u64(cJSON_GetObjectItemCaseSensitive(cx, "o"), &oid) && oid &&
                                   !mx_acct_cancel(hl->srv, a, in->idx, oid, NULL, &out));
    if (ok) {
        mx_count(hl->srv, EX, "orders_canceled", 1);
        mx_buf_puts(b, "\"success\"");
    } else {
        mx_buf_printf(b, "{\"error\":\"Order was never placed, already canceled, or filled. asset=%d\"}",
                      in ? in->idx : -1);
    }
}

/* The signer of an action, recovered; returns the account or NULL with the
 * recovered address (source "a") in who. -1 when the signature is malformed. */
static int recover(struct hl *hl, const uint8_t conn[32], const cJSON *sig, struct mx_account **acct, char who[43])
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(sig, "r");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(sig, "s");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sig, "v");
    uint8_t rs[64];
    uint64_t vv;
    if (!cJSON_IsString(r) || !cJSON_IsString(s) || json_u64(v, &vv) || unhex(r->valuestring, rs, 32, 0) ||
        unhex(s->valuestring, rs + 32, 32, 0))
        return -1;
    int recid = vv >= 27 ? (int)(vv - 27) : (int)vv;
    if (recid < 0 || recid > 1)
        return -1;
    secp256k1_ecdsa_recoverable_signature rsig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(hl->secp, &rsig, rs, recid))
        return -1;
    static const char *const sources[2] = {"a", "b"};
    *acct = NULL;
    for (int i = 0; i < 2; i++) {
        uint8_t dg[32];
        secp256k1_pubkey pk;
        char addr[43];
        agent_digest(conn, sources[i], dg);
        if (!secp256k1_ecdsa_recover(hl->secp, &pk, &rsig, dg)) {
            if (i == 0)
                mx_copy(who, 43, "0x0000000000000000000000000000000000000000");
            continue;
        }
        pub_address(hl->secp, &pk, addr);
        if (i == 0)
            mx_copy(who, 43, addr);
        struct mx_account *a = mx_acct_find(hl->srv, EX, addr);
        if (a) {
            *acct = a;
            mx_copy(who, 43, addr);
            return 0;
        }
    }
    return 0;
}

static void exchange(struct hl *hl, const struct mx_req *r, struct mx_resp *rs)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    const cJSON *act = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "action") : NULL;
    const cJSON *nonce = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "nonce") : NULL;
    const cJSON *sig = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "signature") : NULL;
    const cJSON *vault = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "vaultAddress") : NULL;
    const cJSON *exp = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "expiresAfter") : NULL;
    const cJSON *type = cJSON_IsObject(act) ? cJSON_GetObjectItemCaseSensitive(act, "type") : NULL;
    uint64_t n, e = 0;
    uint8_t vaddr[20];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (!cJSON_IsString(type) || json_u64(nonce, &n) || !cJSON_IsObject(sig) ||
        (vault && !cJSON_IsNull(vault) && (!cJSON_IsString(vault) || unhex(vault->valuestring, vaddr, 20, 1))) ||
        (exp && !cJSON_IsNull(exp) && json_u64(exp, &e))) {
        bad_body(rs);
        goto out;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (pack_json(&pk, act)) {
        bad_body(rs);
        goto out;
    }
    /* trailer: nonce ‖ vault flag [‖ address] ‖ [0x00 ‖ expiresAfter] */
    uint8_t tail[8 + 1 + 20 + 1 + 8];
    size_t tl = 0;
    be64(tail, n);
    tl = 8;
    if (cJSON_IsString(vault)) {
        tail[tl++] = 1;
        memcpy(tail + tl, vaddr, 20);
        tl += 20;
    } else {
        tail[tl++] = 0;
    }
    if (cJSON_IsNumber(exp)) {
        tail[tl++] = 0;
        be64(tail + tl, e);
        tl += 8;
    }
    msgpack_sbuffer_write(&sb, (const char *)tail, tl);
    uint8_t conn[32];
    kk(sb.data, sb.size, conn);

    struct mx_account *a = NULL;
    char who[43], msg[160];
    if (recover(hl, conn, sig, &a, who)) {
        mx_count(hl->srv, EX, "signature_failures", 1);
        err_answer(rs, "Invalid signature");
        goto out;
    }
    if (!a) {
        mx_count(hl->srv, EX, "signature_failures", 1);
        snprintf(msg, sizeof msg, "User or API Wallet %s does not exist.", who);
        err_answer(rs, msg);
        goto out;
    }
    int64_t now = mx_clock_ms(hl->srv, EX);
    if (cJSON_IsNumber(exp) && (int64_t)e < now) {
        snprintf(msg, sizeof msg, "Action expired: expiresAfter %llu < now %lld", (unsigned long long)e,
                 (long long)now);
        err_answer(rs, msg);
        goto out;
    }
    struct hl_signer *sg = signer_of(hl, a);
    /* the exchange's window: nonces within (now - 2 days, now + 1 day) */
    if (!sg || n <= sg->last_nonce || (int64_t)n < now - 2 * 86400000LL || (int64_t)n > now + 86400000LL) {
        mx_count(hl->srv, EX, "nonce_failures", 1);
        snprintf(msg, sizeof msg, "Invalid nonce: duplicate nonce or outside the window (nonce %llu)",
                 (unsigned long long)n);
        err_answer(rs, msg);
        goto out;
    }
    sg->last_nonce = n;
    const char *tv = type->valuestring;
    int kind = !strcmp(tv, "order") ? 0 : !strcmp(tv, "cancel") ? 1 : !strcmp(tv, "cancelByCloid") ? 2 : -1;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(act, kind == 0 ? "orders" : "cancels");
    if (kind < 0 || !cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1) {
        bad_body(rs);
        goto out;
    }
    if (kind == 0) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(act, "grouping");
        if (!cJSON_IsString(g) || strcmp(g->valuestring, "na") != 0) {
            err_answer(rs, "Only grouping \"na\" is supported by the mock");
            goto out;
        }
    }
    mx_buf_printf(&rs->body, "{\"status\":\"ok\",\"response\":{\"type\":\"%s\",\"data\":{\"statuses\":[",
                  kind == 0 ? "order" : "cancel");
    const cJSON *it;
    int first = 1;
    cJSON_ArrayForEach(it, list)
    {
        if (!first)
            mx_buf_puts(&rs->body, ",");
        first = 0;
        if (!cJSON_IsObject(it))
            mx_buf_puts(&rs->body, "{\"error\":\"Failed to deserialize\"}");
        else if (kind == 0)
            place_one(hl, a, it, &rs->body);
        else
            cancel_one(hl, a, it, kind == 2, &rs->body);
    }
    mx_buf_puts(&rs->body, "]}}}");
out:
    msgpack_sbuffer_destroy(&sb);
    cJSON_Delete(j);
}

/* ------------------------------------------------------------------------ */
/* module                                                                    */
/* ------------------------------------------------------------------------ */

static void derive_addresses(struct hl *hl)
{
    for (struct mx_account *a = mx_acct_first(hl->srv); a; a = a->next) {
        if (strcmp(a->exchange, EX) != 0 || a->api_key[0])
            continue;
        uint8_t key[32];
        secp256k1_pubkey pk;
        if (unhex(a->secret, key, 32, 1) || !secp256k1_ec_pubkey_create(hl->secp, &pk, key)) {
            fprintf(stderr, "xgw-mockex: hyperliquid account %s has no valid private key\n", a->name);
            continue;
        }
        memset(key, 0, sizeof key);
        char addr[43];
        pub_address(hl->secp, &pk, addr);
        mx_copy(a->api_key, sizeof a->api_key, addr);
    }
}

static void *create(struct mx_server *srv)
{
    struct hl *hl = calloc(1, sizeof *hl);
    if (!hl)
        return NULL;
    hl->srv = srv;
    hl->secp = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    if (!hl->secp) {
        free(hl);
        return NULL;
    }
    derive_addresses(hl);
    return hl;
}

static void destroy(void *self)
{
    struct hl *hl = self;
    if (!hl)
        return;
    secp256k1_context_destroy(hl->secp);
    mx_buf_free(&hl->scratch);
    free(hl);
}

static void reset(void *self)
{
    struct hl *hl = self;
    hl->nsigners = 0;
    derive_addresses(hl);
}

static void state(void *self, struct mx_buf *o)
{
    struct hl *hl = self;
    mx_buf_puts(o, "{\"accounts\":[");
    int first = 1;
    for (struct mx_account *a = mx_acct_first(hl->srv); a; a = a->next) {
        if (strcmp(a->exchange, EX) != 0)
            continue;
        mx_buf_puts(o, first ? "{\"name\":" : ",{\"name\":");
        first = 0;
        mx_buf_json_str(o, a->name);
        mx_buf_puts(o, ",\"address\":");
        mx_buf_json_str(o, a->api_key);
        mx_buf_puts(o, ",\"open_orders\":");
        info_open(hl, a, o);
        mx_buf_puts(o, "}");
    }
    mx_buf_puts(o, "]}");
}

static int claims_http(const char *path) { return !strcmp(path, "/info") || !strcmp(path, "/exchange"); }
static int claims_ws(const char *path) { return !strcmp(path, "/ws"); }

static void error_body(void *self, int status, int code, const char *msg, struct mx_buf *out)
{
    (void)self, (void)code;
    mx_buf_puts(out, "{\"status\":\"err\",\"response\":");
    mx_buf_json_str(out, msg ? msg : status == 404 ? "Not Found" : status == 429 ? "Too many requests"
                                                                                  : "Internal Server Error");
    mx_buf_puts(out, "}");
}

static void http(void *self, const struct mx_req *req, struct mx_resp *resp)
{
    struct hl *hl = self;
    if (strcmp(req->method, "POST") != 0) {
        resp->status = 405;
        error_body(self, 405, 0, "Method Not Allowed", &resp->body);
        return;
    }
    if (!strcmp(req->path, "/info"))
        info(hl, req, resp);
    else
        exchange(hl, req, resp);
}

/* ------------------------------------------------------------------------ */
/* WebSocket /ws                                                             */
/* ------------------------------------------------------------------------ */

/* One socket carries every subscription, one per subscribe message
 * ({"method":"subscribe","subscription":{"type":...,"coin"|"user":...}}),
 * acknowledged with {"channel":"subscriptionResponse","data":<the request>}.
 * A subscription already held on the connection is refused with the
 * exchange's "Already subscribed" error and counted (ws_subscribe_dups), so
 * tests can assert that a client never subscribes twice. The server closes a
 * connection that sent nothing for 60 s (--ws-idle-ms shortens it);
 * {"method":"ping"} → {"channel":"pong"} is how a quiet client stays. */

static void ws_text(struct mx_ws *ws, const struct mx_buf *b) { mx_ws_send(ws, b->p, b->len); }

static int ws_open(void *self, struct mx_ws *ws, const char *path, const char *query)
{
    (void)self, (void)query;
    if (!claims_ws(path))
        return -1;
    struct hl_ws *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->last_msg = mx_mono_ms();
    mx_ws_set_user(ws, w);
    return 0;
}

static void ws_close(void *self, struct mx_ws *ws)
{
    (void)self;
    free(mx_ws_user(ws));
    mx_ws_set_user(ws, NULL);
}

static void ws_error(struct hl *hl, struct mx_ws *ws, const char *text)
{
    struct mx_buf *o = &hl->scratch;
    mx_buf_reset(o);
    mx_buf_puts(o, "{\"channel\":\"error\",\"data\":");
    mx_buf_json_str(o, text);
    mx_buf_puts(o, "}");
    ws_text(ws, o);
}

static int sub_kind(const char *type)
{
    static const char *const kinds[] = {"l2Book", "trades", "bbo", "allMids", "orderUpdates", "userFills"};
    for (int i = 0; i < (int)(sizeof kinds / sizeof kinds[0]); i++)
        if (!strcmp(type, kinds[i]))
            return i;
    return -1;
}

static struct mx_account *acct_by_address(struct hl *hl, const char *addr)
{
    for (struct mx_account *a = mx_acct_first(hl->srv); a; a = a->next)
        if (!strcmp(a->exchange, EX) && !strcasecmp(a->api_key, addr))
            return a;
    return NULL;
}

static int find_sub(const struct hl_ws *w, int kind, int instr, const struct mx_account *a)
{
    for (int i = 0; i < w->nsubs; i++)
        if (w->subs[i].kind == kind && w->subs[i].instr == instr && w->subs[i].acct == a)
            return i;
    return -1;
}

static void send_l2(struct hl *hl, struct mx_ws *ws, const struct mx_instr *in, int64_t time_ms)
{
    struct mx_buf *o = &hl->scratch;
    mx_buf_reset(o);
    mx_buf_puts(o, "{\"channel\":\"l2Book\",\"data\":");
    info_l2_at(hl, in, time_ms, o);
    mx_buf_puts(o, "}");
    ws_text(ws, o);
}

static void ws_subscribe(struct hl *hl, struct mx_ws *ws, struct hl_ws *w, const char *data, size_t len,
                         const cJSON *sub, int subscribe)
{
    const cJSON *type = cJSON_IsObject(sub) ? cJSON_GetObjectItemCaseSensitive(sub, "type") : NULL;
    int kind = type && cJSON_IsString(type) ? sub_kind(type->valuestring) : -1;
    char text[600];
    snprintf(text, sizeof text, "Invalid subscription %.*s", (int)(len < 500 ? len : 500), data);
    if (kind < 0) {
        ws_error(hl, ws, text);
        return;
    }
    int instr = -1;
    struct mx_account *a = NULL;
    if (kind == HL_SUB_ORDERS || kind == HL_SUB_FILLS) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(sub, "user");
        /* an address nobody uses is still a valid subscription: it just
         * never gets an event (the exchange does not check either) */
        if (!cJSON_IsString(u) || strlen(u->valuestring) != 42 || strncmp(u->valuestring, "0x", 2) != 0) {
            ws_error(hl, ws, text);
            return;
        }
        a = acct_by_address(hl, u->valuestring);
        if (!a)
            a = (struct mx_account *)(uintptr_t)1; /* a valid, unknown user */
    } else if (kind != HL_SUB_MIDS) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(sub, "coin");
        const struct mx_instr *in = cJSON_IsString(c) ? coin_instr(hl, c->valuestring) : NULL;
        if (!in) {
            ws_error(hl, ws, text);
            return;
        }
        instr = in->idx;
    }
    int at = find_sub(w, kind, instr, a);
    if (subscribe) {
        mx_count(hl->srv, EX, "ws_subscribes", 1);
        if (at >= 0) {
            mx_count(hl->srv, EX, "ws_subscribe_dups", 1);
            snprintf(text, sizeof text, "Already subscribed: %.*s", (int)(len < 500 ? len : 500), data);
            ws_error(hl, ws, text);
            return;
        }
        if (w->nsubs == HL_WS_MAX_SUBS) {
            ws_error(hl, ws, "Cannot track more than 1000 total subscriptions");
            return;
        }
        w->subs[w->nsubs++] = (struct hl_sub){kind, instr, a};
    } else {
        mx_count(hl->srv, EX, "ws_unsubscribes", 1);
        if (at < 0) {
            snprintf(text, sizeof text, "Already unsubscribed: %.*s", (int)(len < 500 ? len : 500), data);
            ws_error(hl, ws, text);
            return;
        }
        w->subs[at] = w->subs[--w->nsubs];
    }
    struct mx_buf *o = &hl->scratch;
    mx_buf_reset(o);
    mx_buf_puts(o, "{\"channel\":\"subscriptionResponse\",\"data\":");
    mx_buf_put(o, data, len);
    mx_buf_puts(o, "}");
    ws_text(ws, o);
    if (!subscribe)
        return;
    /* what the exchange sends right after subscribing: the current book, an
     * (empty, the mock keeps no fill history) userFills snapshot */
    if (kind == HL_SUB_BOOK) {
        send_l2(hl, ws, mx_market_instr(mx_market_of(hl->srv), instr), mx_clock_ms(hl->srv, EX));
    } else if (kind == HL_SUB_FILLS) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(sub, "user");
        mx_buf_reset(o);
        mx_buf_puts(o, "{\"channel\":\"userFills\",\"data\":{\"isSnapshot\":true,\"user\":");
        mx_buf_json_str(o, u->valuestring);
        mx_buf_puts(o, ",\"fills\":[]}}");
        ws_text(ws, o);
    }
}

static void ws_message(void *self, struct mx_ws *ws, const char *data, size_t len)
{
    struct hl *hl = self;
    struct hl_ws *w = mx_ws_user(ws);
    if (!w)
        return;
    /* any client message counts as activity for the idle timeout */
    w->last_msg = mx_mono_ms();
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *m = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "method") : NULL;
    if (!m || !cJSON_IsString(m)) {
        char text[600];
        snprintf(text, sizeof text, "Error parsing JSON into valid websocket request: %.*s",
                 (int)(len < 500 ? len : 500), data);
        ws_error(hl, ws, text);
    } else if (!strcmp(m->valuestring, "ping")) {
        mx_count(hl->srv, EX, "ws_pings", 1);
        static const char pong[] = "{\"channel\":\"pong\"}";
        mx_ws_send(ws, pong, sizeof pong - 1);
    } else if (!strcmp(m->valuestring, "subscribe") || !strcmp(m->valuestring, "unsubscribe")) {
        ws_subscribe(hl, ws, w, data, len, cJSON_GetObjectItemCaseSensitive(j, "subscription"),
                     m->valuestring[0] == 's');
    } else {
        char text[600];
        snprintf(text, sizeof text, "Unknown method: %.*s", (int)(len < 500 ? len : 500), data);
        ws_error(hl, ws, text);
    }
    cJSON_Delete(j);
}

struct hl_step_ctx {
    struct hl *hl;
    const struct mx_step *st;
};

static void step_ws(struct mx_ws *ws, void *arg)
{
    struct hl_step_ctx *c = arg;
    struct hl_ws *w = mx_ws_user(ws);
    if (!w || w->idle_closed)
        return;
    struct hl *hl = c->hl;
    const struct mx_step *st = c->st;
    const struct mx_instr *in = st->ins;
    const struct mx_book *b = mx_market_book(mx_market_of(hl->srv), in->idx);
    struct mx_buf *o = &hl->scratch;
    if (find_sub(w, HL_SUB_BOOK, in->idx, NULL) >= 0) {
        /* snapshots carry no sequence: a ws_gap fault drops one push */
        if (mx_fault_ws_gap(hl->srv, ws))
            mx_count(hl->srv, EX, "ws_gaps", 1);
        else
            send_l2(hl, ws, in, st->time_ms);
    }
    if (find_sub(w, HL_SUB_BBO, in->idx, NULL) >= 0) {
        mx_buf_reset(o);
        mx_buf_puts(o, "{\"channel\":\"bbo\",\"data\":{\"coin\":");
        mx_buf_json_str(o, in->base);
        mx_buf_printf(o, ",\"time\":%lld,\"bbo\":[{\"px\":", (long long)st->time_ms);
        mx_buf_dec(o, mx_book_bid(b), in->price_scale, 1);
        mx_buf_puts(o, ",\"sz\":");
        mx_buf_dec(o, b->bid_qty[0], in->qty_scale, 1);
        mx_buf_puts(o, ",\"n\":1},{\"px\":");
        mx_buf_dec(o, mx_book_ask(b), in->price_scale, 1);
        mx_buf_puts(o, ",\"sz\":");
        mx_buf_dec(o, b->ask_qty[0], in->qty_scale, 1);
        mx_buf_puts(o, ",\"n\":1}]}}");
        ws_text(ws, o);
    }
    if (st->has_trade && find_sub(w, HL_SUB_TRADES, in->idx, NULL) >= 0) {
        mx_buf_reset(o);
        mx_buf_puts(o, "{\"channel\":\"trades\",\"data\":[{\"coin\":");
        mx_buf_json_str(o, in->base);
        /* side is the aggressor's: a seller hitting the bid is "A" */
        mx_buf_printf(o, ",\"side\":\"%s\",\"px\":", st->trade_buyer_maker ? "A" : "B");
        mx_buf_dec(o, st->trade_px, in->price_scale, 1);
        mx_buf_puts(o, ",\"sz\":");
        mx_buf_dec(o, st->trade_qty, in->qty_scale, 1);
        mx_buf_printf(o, ",\"hash\":\"0x%064llx\",\"time\":%lld,\"tid\":%llu,\"users\":[\"0x%040d\",\"0x%040d\"]}]}",
                      (unsigned long long)st->trade_id, (long long)st->time_ms, (unsigned long long)st->trade_id,
                      1, 2);
        ws_text(ws, o);
    }
}

static void on_step(void *self, const struct mx_step *st)
{
    struct hl_step_ctx c = {self, st};
    mx_ws_foreach(((struct hl *)self)->srv, EX, step_ws, &c);
}

struct hl_timer_ctx {
    struct hl *hl;
    int64_t mono, idle_ms;
    int second;
};

static void timer_ws(struct mx_ws *ws, void *arg)
{
    struct hl_timer_ctx *c = arg;
    struct hl_ws *w = mx_ws_user(ws);
    if (!w || w->idle_closed)
        return;
    if (c->mono - w->last_msg > c->idle_ms) {
        mx_count(c->hl->srv, EX, "ws_idle_closed", 1);
        w->idle_closed = 1;
        mx_ws_close(ws, 1000, "no message received within the idle timeout");
        return;
    }
    if (c->second && find_sub(w, HL_SUB_MIDS, -1, NULL) >= 0) {
        struct mx_buf *o = &c->hl->scratch;
        mx_buf_reset(o);
        mx_buf_puts(o, "{\"channel\":\"allMids\",\"data\":{\"mids\":");
        info_mids(c->hl, o);
        mx_buf_puts(o, "}}");
        ws_text(ws, o);
    }
}

static void on_timer(void *self, int64_t now_ms)
{
    struct hl *hl = self;
    const struct mx_opts *op = mx_opts(hl->srv);
    struct hl_timer_ctx c = {hl, mx_mono_ms(), op->ws_idle_ms > 0 ? op->ws_idle_ms : HL_IDLE_DEFAULT_MS, 0};
    if (now_ms / 1000 != hl->last_second) {
        hl->last_second = now_ms / 1000;
        c.second = 1;
    }
    mx_ws_foreach(hl->srv, EX, timer_ws, &c);
}

struct hl_user_ctx {
    struct mx_account *a;
    int kind;
    const struct mx_buf *payload;
};

static void user_ws(struct mx_ws *ws, void *arg)
{
    struct hl_user_ctx *c = arg;
    struct hl_ws *w = mx_ws_user(ws);
    if (w && !w->idle_closed && find_sub(w, c->kind, -1, c->a) >= 0)
        mx_ws_send(ws, c->payload->p, c->payload->len);
}

static void on_order(void *self, struct mx_account *a, const struct mx_order *o, enum mx_order_event ev)
{
    struct hl *hl = self;
    const struct mx_instr *in = mx_market_instr(mx_market_of(hl->srv), o->instr);
    int64_t now = mx_clock_ms(hl->srv, EX);
    struct mx_buf b = {0};
    mx_buf_puts(&b, "{\"channel\":\"orderUpdates\",\"data\":[{\"order\":");
    order_json(in, o, &b);
    mx_buf_printf(&b, ",\"status\":\"%s\",\"statusTimestamp\":%lld}]}", status_name(o->status), (long long)now);
    struct hl_user_ctx c = {a, HL_SUB_ORDERS, &b};
    mx_ws_foreach(hl->srv, EX, user_ws, &c);
    mx_count(hl->srv, EX, "ws_order_updates", 1);
    if (ev == MX_EV_TRADE) {
        mx_buf_reset(&b);
        mx_buf_puts(&b, "{\"channel\":\"userFills\",\"data\":{\"user\":");
        mx_buf_json_str(&b, a->api_key);
        mx_buf_puts(&b, ",\"fills\":[{\"coin\":");
        mx_buf_json_str(&b, in->base);
        mx_buf_puts(&b, ",\"px\":");
        mx_buf_dec(&b, o->last_px, in->price_scale, 1);
        mx_buf_puts(&b, ",\"sz\":");
        mx_buf_dec(&b, o->last_qty, in->qty_scale, 1);
        mx_buf_printf(&b, ",\"side\":\"%s\",\"time\":%lld,\"oid\":%llu,\"tid\":%llu,\"crossed\":%s,\"fee\":",
                      o->side > 0 ? "B" : "A", (long long)now, (unsigned long long)o->id,
                      (unsigned long long)o->last_trade_id, o->last_maker ? "false" : "true");
        mx_buf_dec(&b, o->last_fee_e8, 8, 1);
        mx_buf_puts(&b, ",\"closedPnl\":");
        mx_buf_dec(&b, o->last_realized_e8, 8, 1);
        mx_buf_puts(&b, ",\"feeToken\":\"USDC\"}]}}");
        c.kind = HL_SUB_FILLS;
        mx_ws_foreach(hl->srv, EX, user_ws, &c);
    }
    mx_buf_free(&b);
}

const struct mx_module mx_module_hyperliquid = {
    .name = EX,
    .headers = HEADERS,
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
};
