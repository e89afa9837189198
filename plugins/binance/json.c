/*
 * Binance's JSON words and objects: integer ids, order statuses, sides,
 * types and times in force, and the order object shared by REST answers and
 * ORDER_TRADE_UPDATE (the generic helpers are common/pjson.h).
 */
#include <stdio.h>
#include <string.h>

#include "binance.h"

int bn_json_id(const cJSON *item, char *out, size_t cap)
{
    int64_t v;
    if (item != NULL && cJSON_IsString(item)) /* tolerate ids sent as text */
        return pj_str(item, out, cap);
    if (pj_i64(item, &v) != 0)
        return -1;
    int n = snprintf(out, cap, "%lld", (long long)v);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

enum xgw_order_status bn_order_status(const char *s)
{
    if (strcmp(s, "NEW") == 0)
        return XGW_OS_NEW;
    if (strcmp(s, "PARTIALLY_FILLED") == 0)
        return XGW_OS_PARTIALLY_FILLED;
    if (strcmp(s, "FILLED") == 0)
        return XGW_OS_FILLED;
    if (strcmp(s, "CANCELED") == 0)
        return XGW_OS_CANCELED;
    if (strcmp(s, "REJECTED") == 0)
        return XGW_OS_REJECTED;
    /* EXPIRED_IN_MATCH: expired by self-trade prevention. */
    if (strcmp(s, "EXPIRED") == 0 || strcmp(s, "EXPIRED_IN_MATCH") == 0)
        return XGW_OS_EXPIRED;
    return XGW_OS_UNKNOWN;
}

enum xgw_side bn_side(const char *s)
{
    if (strcmp(s, "BUY") == 0)
        return XGW_SIDE_BUY;
    if (strcmp(s, "SELL") == 0)
        return XGW_SIDE_SELL;
    return XGW_SIDE_NONE;
}

enum xgw_order_type bn_order_type(const char *s)
{
    if (strcmp(s, "LIMIT") == 0)
        return XGW_TYPE_LIMIT;
    if (strcmp(s, "MARKET") == 0)
        return XGW_TYPE_MARKET;
    return XGW_TYPE_NONE; /* STOP, LIQUIDATION, ...: not placed by xgw */
}

enum xgw_tif bn_tif(const char *s)
{
    if (strcmp(s, "GTC") == 0)
        return XGW_TIF_GTC;
    if (strcmp(s, "IOC") == 0)
        return XGW_TIF_IOC;
    if (strcmp(s, "FOK") == 0)
        return XGW_TIF_FOK;
    if (strcmp(s, "GTX") == 0)
        return XGW_TIF_POST_ONLY;
    return XGW_TIF_DEFAULT;
}

/* Keys differ between the REST order object and the stream's "o":
 *   REST: symbol orderId clientOrderId status side type timeInForce
 *         reduceOnly price origQty executedQty avgPrice updateTime
 *   WS:   s      i       c             X      S    o    f
 *         R          p     q       z           ap       T            */
int bn_parse_order(const struct bn *bn, const cJSON *obj, bool ws, struct xgw_order *o)
{
    char word[24];
    memset(o, 0, sizeof *o);
    o->price = o->qty = o->filled_qty = o->avg_price = xgw_dec_none();
    if (!cJSON_IsObject(obj))
        return -1;

    bool have_id = false;
    for (const cJSON *it = obj->child; it != NULL; it = it->next) {
        const char *k = it->string;
        int rc = 0;
        if (k == NULL)
            continue;
        if (strcmp(k, ws ? "s" : "symbol") == 0) {
            rc = pj_str(it, o->symbol, sizeof o->symbol);
        } else if (strcmp(k, ws ? "i" : "orderId") == 0) {
            rc = bn_json_id(it, o->order_id, sizeof o->order_id);
            have_id = rc == 0;
        } else if (strcmp(k, ws ? "c" : "clientOrderId") == 0) {
            rc = pj_str(it, o->client_id, sizeof o->client_id);
        } else if (strcmp(k, ws ? "X" : "status") == 0) {
            rc = pj_str(it, o->status_raw, sizeof o->status_raw);
            o->status = bn_order_status(o->status_raw);
        } else if (strcmp(k, ws ? "S" : "side") == 0) {
            rc = pj_str(it, word, sizeof word);
            o->side = bn_side(word);
        } else if (strcmp(k, ws ? "o" : "type") == 0) {
            rc = pj_str(it, word, sizeof word);
            o->type = bn_order_type(word);
        } else if (strcmp(k, ws ? "f" : "timeInForce") == 0) {
            rc = pj_str(it, word, sizeof word);
            o->tif = bn_tif(word);
        } else if (strcmp(k, ws ? "R" : "reduceOnly") == 0) {
            if (!cJSON_IsBool(it))
                rc = -1;
            o->reduce_only = cJSON_IsTrue(it);
        } else if (strcmp(k, ws ? "p" : "price") == 0) {
            rc = pj_dec(bn->core, it, &o->price);
        } else if (strcmp(k, ws ? "q" : "origQty") == 0) {
            rc = pj_dec(bn->core, it, &o->qty);
        } else if (strcmp(k, ws ? "z" : "executedQty") == 0) {
            rc = pj_dec(bn->core, it, &o->filled_qty);
        } else if (strcmp(k, ws ? "ap" : "avgPrice") == 0) {
            rc = pj_dec(bn->core, it, &o->avg_price);
        } else if (strcmp(k, ws ? "T" : "updateTime") == 0 ||
                   (!ws && strcmp(k, "time") == 0 && o->ts_ms == 0)) {
            rc = pj_i64(it, &o->ts_ms);
        }
        if (rc != 0)
            return -1;
    }
    if (!have_id || o->symbol[0] == '\0')
        return -1;
    /* Values stay as the exchange sent them: a market order's price "0" and
     * an unfilled order's avgPrice "0.00000" are printed as received. */
    return 0;
}
