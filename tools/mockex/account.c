/*
 * account.c — accounts of the mock: credentials, wallet, positions, orders.
 *
 * One struct mx_account per (exchange, credential). Money is int64 in 1e-8
 * quote units, quantities and prices in the instrument's lot/tick units, so
 * balances move by exact amounts. Fills are whole (no partial fills): a
 * marketable order fills at the opposite best price as taker, a resting
 * limit order fills at its own price as maker when the generated market
 * crosses it. Fees: taker 0.05 %, maker 0.02 %. Margin at 20x.
 */
#include "mx_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MX_DONE_KEEP 500
#define MX_LEVERAGE 20

struct mx_accounts {
    struct mx_account *head;
    uint64_t next_order_id;
};

struct mx_accounts *mx__accts_new(void)
{
    struct mx_accounts *s = calloc(1, sizeof *s);
    if (s)
        s->next_order_id = 4000000001ULL;
    return s;
}

static void free_orders(struct mx_order *o)
{
    while (o) {
        struct mx_order *n = o->next;
        free(o);
        o = n;
    }
}

static void clear_accounts(struct mx_accounts *s)
{
    struct mx_account *a = s->head;
    while (a) {
        struct mx_account *n = a->next;
        free_orders(a->open);
        free_orders(a->done);
        free(a->module_data);
        free(a);
        a = n;
    }
    s->head = NULL;
}

void mx__accts_free(struct mx_accounts *s)
{
    if (!s)
        return;
    clear_accounts(s);
    free(s);
}

struct mx_account *mx__accts_head(struct mx_accounts *s) { return s->head; }

static struct mx_account *add(struct mx_accounts *s, const char *ex, const char *name,
                              const char *key, const char *secret, int64_t wallet_e8)
{
    struct mx_account *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    snprintf(a->exchange, sizeof a->exchange, "%s", ex);
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->api_key, sizeof a->api_key, "%s", key);
    snprintf(a->secret, sizeof a->secret, "%s", secret);
    a->wallet_e8 = a->initial_wallet_e8 = wallet_e8;
    /* keep file order */
    struct mx_account **pp = &s->head;
    while (*pp)
        pp = &(*pp)->next;
    *pp = a;
    return a;
}

void mx__accts_demo(struct mx_accounts *s)
{
    clear_accounts(s);
    const int64_t w = 100000LL * 100000000LL; /* 100000 USDT */
    /* The key pair of Binance's own signing example (binance.md §2.6), so the
     * documented vectors work against the mock as they are. */
    add(s, "binance", "demo", "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83",
        "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9", w);
    add(s, "binance", "demo2", "xgwDemoBinanceKey2xgwDemoBinanceKey2xgwDemoBinanceKey2xgwDemo0002",
        "xgwDemoBinanceSecret2xgwDemoBinanceSecret2xgwDemoBinanceSecret02", w);
    add(s, "bitunix", "demo", "test-api-key", "test-secret", w);
    /* Hyperliquid: api_key holds the address, secret the private key. The
     * address is derived by the hyperliquid module when it is empty. */
    add(s, "hyperliquid", "demo", "",
        "0x0123456789012345678901234567890123456789012345678901234567890123", w);
}

int mx__accts_load(struct mx_accounts *s, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "cannot open accounts file %s", path);
        return -1;
    }
    struct mx_buf b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        mx_buf_put(&b, tmp, n);
    fclose(f);
    cJSON *root = cJSON_Parse(b.p ? b.p : "");
    mx_buf_free(&b);
    const cJSON *arr = root ? cJSON_GetObjectItemCaseSensitive(root, "accounts") : NULL;
    if (!cJSON_IsArray(arr)) {
        snprintf(err, errcap, "%s: expected {\"accounts\":[...]}", path);
        cJSON_Delete(root);
        return -1;
    }
    clear_accounts(s);
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, arr)
    {
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(it, "exchange");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(it, "api_key");
        const cJSON *addr = cJSON_GetObjectItemCaseSensitive(it, "address");
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(it, "secret");
        const cJSON *pk = cJSON_GetObjectItemCaseSensitive(it, "private_key");
        const cJSON *bal = cJSON_GetObjectItemCaseSensitive(it, "balance");
        if (!cJSON_IsString(ex)) {
            snprintf(err, errcap, "%s: account %d has no \"exchange\"", path, i);
            cJSON_Delete(root);
            return -1;
        }
        int64_t w = 100000LL * 100000000LL;
        if (cJSON_IsString(bal) &&
            mx_parse_dec(bal->valuestring, strlen(bal->valuestring), 8, &w) != 0) {
            snprintf(err, errcap, "%s: account %d has a bad balance", path, i);
            cJSON_Delete(root);
            return -1;
        }
        const char *k = cJSON_IsString(key) ? key->valuestring
                        : cJSON_IsString(addr) ? addr->valuestring : "";
        const char *sc = cJSON_IsString(sec) ? sec->valuestring
                         : cJSON_IsString(pk) ? pk->valuestring : "";
        char nbuf[32];
        snprintf(nbuf, sizeof nbuf, "acct%d", i);
        add(s, ex->valuestring, cJSON_IsString(nm) ? nm->valuestring : nbuf, k, sc, w);
        i++;
    }
    cJSON_Delete(root);
    return 0;
}

void mx__accts_reset(struct mx_accounts *s)
{
    for (struct mx_account *a = s->head; a; a = a->next) {
        free_orders(a->open);
        free_orders(a->done);
        a->open = a->done = NULL;
        a->ndone = 0;
        memset(a->pos, 0, sizeof a->pos);
        a->wallet_e8 = a->initial_wallet_e8;
    }
}

struct mx_account *mx_acct_first(struct mx_server *srv) { return mx__accts_of(srv)->head; }

struct mx_account *mx_acct_find(struct mx_server *srv, const char *exchange, const char *key)
{
    if (!key || !*key)
        return NULL;
    for (struct mx_account *a = mx__accts_of(srv)->head; a; a = a->next) {
        if (strcmp(a->exchange, exchange) != 0)
            continue;
        if (!strcmp(exchange, "hyperliquid") ? !strcasecmp(a->api_key, key)
                                              : !strcmp(a->api_key, key))
            return a;
    }
    return NULL;
}

static int64_t pow10i(int n)
{
    int64_t v = 1;
    while (n-- > 0)
        v *= 10;
    return v;
}

int64_t mx_notional_e8(const struct mx_instr *ins, int64_t px, int64_t qty)
{
    /* px * 10^-ps * qty * 10^-qs in 1e-8 units; ps + qs <= 8 for our instruments */
    return px * qty * pow10i(8 - ins->price_scale - ins->qty_scale);
}

int64_t mx_pos_entry_e8(const struct mx_instr *ins, const struct mx_position *p)
{
    if (!p->amt)
        return 0;
    int64_t a = p->amt < 0 ? -p->amt : p->amt;
    return p->cost_e8 * pow10i(ins->qty_scale) / a;
}

int64_t mx_acct_unrealized_e8(struct mx_server *srv, const struct mx_account *a, int instr)
{
    const struct mx_position *p = &a->pos[instr];
    if (!p->amt)
        return 0;
    struct mx_market *m = mx_market_of(srv);
    const struct mx_instr *ins = mx_market_instr(m, instr);
    const struct mx_book *b = mx_market_book(m, instr);
    int64_t mark = b->best_bid; /* mark = best bid: simple and deterministic */
    int64_t a_abs = p->amt < 0 ? -p->amt : p->amt;
    int64_t value = mx_notional_e8(ins, mark, a_abs);
    return p->amt > 0 ? value - p->cost_e8 : p->cost_e8 - value;
}

int64_t mx_acct_available_e8(struct mx_server *srv, const struct mx_account *a)
{
    struct mx_market *m = mx_market_of(srv);
    int64_t avail = a->wallet_e8;
    for (int i = 0; i < mx_market_count(m); i++) {
        avail += mx_acct_unrealized_e8(srv, a, i);
        avail -= a->pos[i].cost_e8 / MX_LEVERAGE;
    }
    for (const struct mx_order *o = a->open; o; o = o->next)
        avail -= mx_notional_e8(mx_market_instr(m, o->instr), o->price, o->qty - o->filled) /
                 MX_LEVERAGE;
    return avail;
}

static void apply_fill(struct mx_server *srv, struct mx_account *a, struct mx_order *o, int64_t px,
                       int64_t qty, int maker)
{
    struct mx_market *m = mx_market_of(srv);
    const struct mx_instr *ins = mx_market_instr(m, o->instr);
    struct mx_book *b = (struct mx_book *)mx_market_book(m, o->instr);
    struct mx_position *p = &a->pos[o->instr];
    int64_t notional = mx_notional_e8(ins, px, qty);
    int64_t fee = notional * (maker ? 2 : 5) / 10000;
    int64_t realized = 0;
    int64_t signed_q = o->side * qty;
    if (p->amt == 0 || (p->amt > 0) == (signed_q > 0)) {
        p->amt += signed_q;
        p->cost_e8 += notional;
    } else {
        int64_t a_abs = p->amt < 0 ? -p->amt : p->amt;
        int64_t closed = qty < a_abs ? qty : a_abs;
        int64_t cost_closed = p->cost_e8 * closed / a_abs;
        int64_t value_closed = mx_notional_e8(ins, px, closed);
        realized = p->amt > 0 ? value_closed - cost_closed : cost_closed - value_closed;
        p->cost_e8 -= cost_closed;
        p->amt += o->side * closed;
        int64_t rest = qty - closed;
        if (p->amt == 0)
            p->cost_e8 = 0;
        if (rest > 0) {
            p->amt = o->side * rest;
            p->cost_e8 = mx_notional_e8(ins, px, rest);
        }
    }
    p->realized_e8 += realized;
    a->wallet_e8 += realized - fee;
    o->filled += qty;
    o->cum_quote_e8 += notional;
    o->last_px = px;
    o->last_qty = qty;
    o->last_maker = maker;
    o->last_fee_e8 = fee;
    o->last_realized_e8 = realized;
    o->last_trade_id = ++b->trade_id;
    o->status = o->filled >= o->qty ? MX_FILLED : MX_PARTIALLY_FILLED;
}

static void retire(struct mx_account *a, struct mx_order *o)
{
    o->next = a->done;
    a->done = o;
    if (++a->ndone > MX_DONE_KEEP) {
        /* drop the oldest finished order */
        struct mx_order **pp = &a->done;
        while ((*pp)->next)
            pp = &(*pp)->next;
        free(*pp);
        *pp = NULL;
        a->ndone--;
    }
}

int mx_acct_place(struct mx_server *srv, struct mx_account *a, const struct mx_order *req,
                  struct mx_order *out)
{
    struct mx_market *m = mx_market_of(srv);
    const struct mx_instr *ins = mx_market_instr(m, req->instr);
    const struct mx_book *b = mx_market_book(m, req->instr);
    int64_t bid = mx_book_bid(b), ask = mx_book_ask(b);
    int64_t take_px = req->side > 0 ? ask : bid;
    int marketable = req->type == MX_MARKET ||
                     (req->side > 0 ? req->price >= ask : req->price <= bid);
    if (req->type == MX_LIMIT && req->tif == MX_GTX && marketable)
        return -2;
    struct mx_position *p = &a->pos[req->instr];
    if (req->reduce_only && (p->amt == 0 || (p->amt > 0) == (req->side > 0) ||
                             req->qty > (p->amt < 0 ? -p->amt : p->amt)))
        return -3;
    int increases = p->amt == 0 || (p->amt > 0) == (req->side > 0);
    if (increases) {
        int64_t px = req->type == MX_MARKET ? take_px : req->price;
        if (mx_notional_e8(ins, px, req->qty) / MX_LEVERAGE > mx_acct_available_e8(srv, a))
            return -1;
    }
    struct mx_order *o = calloc(1, sizeof *o);
    if (!o)
        abort();
    *o = *req;
    o->next = NULL;
    o->id = mx__accts_of(srv)->next_order_id++;
    if (!o->client_id[0])
        snprintf(o->client_id, sizeof o->client_id, "mx%llu", (unsigned long long)o->id);
    o->created_ms = o->updated_ms = mx_clock_ms(srv, a->exchange);
    o->status = MX_NEW;
    mx__order_event(srv, a, o, MX_EV_NEW);
    if (marketable) {
        apply_fill(srv, a, o, take_px, o->qty, 0);
        mx__order_event(srv, a, o, MX_EV_TRADE);
    } else if (req->tif == MX_IOC || req->tif == MX_FOK) {
        o->status = MX_EXPIRED;
        mx__order_event(srv, a, o, MX_EV_EXPIRED);
    }
    *out = *o;
    out->next = NULL;
    if (o->status == MX_NEW) {
        o->next = a->open;
        a->open = o;
    } else {
        retire(a, o);
    }
    return 0;
}

struct mx_order *mx_acct_order(struct mx_account *a, int instr, uint64_t id, const char *client_id,
                               int *is_open)
{
    for (int pass = 0; pass < 2; pass++)
        for (struct mx_order *o = pass ? a->done : a->open; o; o = o->next) {
            if (o->instr != instr)
                continue;
            if (id ? o->id == id : (client_id && !strcmp(o->client_id, client_id))) {
                if (is_open)
                    *is_open = !pass;
                return o;
            }
        }
    return NULL;
}

int mx_acct_cancel(struct mx_server *srv, struct mx_account *a, int instr, uint64_t id,
                   const char *client_id, struct mx_order *out)
{
    for (struct mx_order **pp = &a->open; *pp; pp = &(*pp)->next) {
        struct mx_order *o = *pp;
        if (o->instr != instr)
            continue;
        if (id ? o->id == id : (client_id && *client_id && !strcmp(o->client_id, client_id))) {
            *pp = o->next;
            o->status = MX_CANCELED;
            o->updated_ms = mx_clock_ms(srv, a->exchange);
            mx__order_event(srv, a, o, MX_EV_CANCELED);
            *out = *o;
            out->next = NULL;
            retire(a, o);
            return 0;
        }
    }
    return -1;
}

void mx__accts_match(struct mx_server *srv, int idx)
{
    const struct mx_book *b = mx_market_book(mx_market_of(srv), idx);
    int64_t bid = mx_book_bid(b), ask = mx_book_ask(b);
    for (struct mx_account *a = mx__accts_of(srv)->head; a; a = a->next) {
        struct mx_order **pp = &a->open;
        while (*pp) {
            struct mx_order *o = *pp;
            int crossed = o->instr == idx && (o->side > 0 ? ask <= o->price : bid >= o->price);
            if (!crossed) {
                pp = &o->next;
                continue;
            }
            *pp = o->next;
            o->updated_ms = mx_clock_ms(srv, a->exchange);
            apply_fill(srv, a, o, o->price, o->qty - o->filled, 1);
            mx__order_event(srv, a, o, MX_EV_TRADE);
            retire(a, o);
        }
    }
}
