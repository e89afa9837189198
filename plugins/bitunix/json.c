/*
 * JSON helpers of the Bitunix plugin.
 *
 * Exactness: Bitunix sends most prices and quantities as strings, but some
 * fields (precisions, leverage, timestamps, occasionally prices in older
 * answers) come as JSON numbers, and cJSON keeps a number only as a double,
 * whose text is lost ("0.1" is not representable). Printing valuedouble
 * back with %.17g would invent digits. Instead, bx_json_parse() first copies
 * the buffer with every bare number token wrapped in quotes (a small lexer
 * that respects strings and escapes), so every number reaches the plugin as
 * its original text and is parsed exactly by core->dec_parse or as an
 * integer. Exponent forms ("1e-5") then fail dec_parse and are reported as
 * PROTOCOL rather than guessed.
 */
#include <stdlib.h>
#include <string.h>

#include "bitunix.h"

cJSON *bx_json_parse(const char *s, size_t len)
{
    if (s == NULL || len == 0)
        return NULL;
    /* A number of k bytes grows to k + 2: at most 3x for "1,1,1,..." */
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *q = malloc(len * 3 + 1);
    if (q == NULL)
        return NULL;
    size_t o = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            q[o++] = c;
            if (c == '\\' && i + 1 < len) {
                q[o++] = s[++i];
            } else if (c == '"') {
                in_str = false;
            }
            continue;
        }
        if (c == '"') {
            in_str = true;
            q[o++] = c;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            q[o++] = '"';
            while (i < len && (s[i] == '-' || s[i] == '+' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
                               (s[i] >= '0' && s[i] <= '9')))
                q[o++] = s[i++];
            q[o++] = '"';
            i--;
        } else {
            q[o++] = c;
        }
    }
    q[o] = '\0';
    cJSON *root = cJSON_ParseWithLength(q, o);
    free(q);
    return root;
}

int bx_json_i64(const cJSON *item, int64_t *out)
{
    if (item == NULL || !cJSON_IsString(item) || item->valuestring == NULL)
        return -1;
    const char *s = item->valuestring;
    bool neg = false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    if (*s == '\0')
        return -1;
    uint64_t v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): timegm() is not in C11 and depends on the TZ database. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static bool valid_ymdhms(int y, int mo, int d, int h, int mi, int se)
{
    return y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 60;
}

int bx_parse_iso_ms(const char *s, size_t len, int64_t *ms)
{
    int y, mo, d, h, mi, se;
    /* YYYY-MM-DDTHH:MM:SS[.fff...](Z|+00:00) */
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':')
        return -1;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
        digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) || !valid_ymdhms(y, mo, d, h, mi, se))
        return -1;
    size_t i = 19;
    int frac = 0, scale = 1000;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (scale > 1) {
                scale /= 10;
                frac += (s[i] - '0') * scale;
            }
        }
        if (i == start)
            return -1;
    }
    int64_t off_s = 0;
    if (i < len && s[i] == 'Z') {
        i++;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om))
            return -1;
        off_s = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return -1;
    }
    if (i != len)
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se - off_s;
    *ms = secs * 1000 + frac;
    return 0;
}

int bx_parse_http_date(const char *s, size_t len, int64_t *ms)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes). */
    if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
        s[22] != ':' || memcmp(s + 25, " GMT", 4) != 0)
        return -1;
    int d, y, h, mi, se, mo = 0;
    for (size_t k = 0; k < 12; k++)
        if (memcmp(s + 8, months + 3 * k, 3) == 0)
            mo = (int)k + 1;
    if (mo == 0 || digits(s + 5, 2, &d) || digits(s + 12, 4, &y) || digits(s + 17, 2, &h) ||
        digits(s + 20, 2, &mi) || digits(s + 23, 2, &se) || !valid_ymdhms(y, mo, d, h, mi, se))
        return -1;
    *ms = (days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se) * 1000;
    return 0;
}

int bx_json_time(const cJSON *item, int64_t *ms)
{
    *ms = 0;
    if (item == NULL || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return -1;
    const char *s = item->valuestring;
    if (s[0] == '\0')
        return 0;
    if (bx_json_i64(item, ms) == 0)
        return *ms >= 0 ? 0 : -1;
    return bx_parse_iso_ms(s, strlen(s), ms);
}

enum xgw_order_status bx_order_status(const char *s)
{
    /* Documented statuses: INIT, NEW, PART_FILLED, CANCELED, FILLED,
     * PART_FILLED_CANCELED (the last is a cancel after a partial fill). */
    if (strcmp(s, "INIT") == 0 || strcmp(s, "NEW") == 0)
        return XGW_OS_NEW;
    if (strcmp(s, "PART_FILLED") == 0 || strcmp(s, "PARTIALLY_FILLED") == 0)
        return XGW_OS_PARTIALLY_FILLED;
    if (strcmp(s, "FILLED") == 0)
        return XGW_OS_FILLED;
    if (strcmp(s, "CANCELED") == 0 || strcmp(s, "CANCELLED") == 0 || strcmp(s, "PART_FILLED_CANCELED") == 0)
        return XGW_OS_CANCELED;
    if (strcmp(s, "REJECTED") == 0)
        return XGW_OS_REJECTED;
    if (strcmp(s, "EXPIRED") == 0)
        return XGW_OS_EXPIRED;
    return XGW_OS_UNKNOWN;
}

enum xgw_side bx_side(const char *s)
{
    if (strcmp(s, "BUY") == 0 || strcmp(s, "buy") == 0)
        return XGW_SIDE_BUY;
    if (strcmp(s, "SELL") == 0 || strcmp(s, "sell") == 0)
        return XGW_SIDE_SELL;
    return XGW_SIDE_NONE;
}

enum xgw_order_type bx_order_type(const char *s)
{
    if (strcmp(s, "LIMIT") == 0)
        return XGW_TYPE_LIMIT;
    if (strcmp(s, "MARKET") == 0)
        return XGW_TYPE_MARKET;
    return XGW_TYPE_NONE;
}

enum xgw_tif bx_tif(const char *s)
{
    if (strcmp(s, "GTC") == 0)
        return XGW_TIF_GTC;
    if (strcmp(s, "IOC") == 0)
        return XGW_TIF_IOC;
    if (strcmp(s, "FOK") == 0)
        return XGW_TIF_FOK;
    if (strcmp(s, "POST_ONLY") == 0)
        return XGW_TIF_POST_ONLY;
    return XGW_TIF_DEFAULT;
}

static const cJSON *member(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (v == NULL && b != NULL)
        v = cJSON_GetObjectItemCaseSensitive(o, b);
    return v;
}

int bx_parse_order(const struct bx *bx, const cJSON *o, struct xgw_order *out)
{
    char buf[32];
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(o))
        return -1;
    if (pj_str(member(o, "symbol", NULL), out->symbol, sizeof out->symbol) != 0 || out->symbol[0] == '\0' ||
        pj_str(member(o, "orderId", NULL), out->order_id, sizeof out->order_id) != 0 ||
        pj_str(member(o, "clientId", NULL), out->client_id, sizeof out->client_id) != 0)
        return -1;
    /* REST answers say "status", the private channel "orderStatus". */
    if (pj_str(member(o, "status", "orderStatus"), out->status_raw, sizeof out->status_raw) != 0)
        return -1;
    out->status = bx_order_status(out->status_raw);
    if (pj_str(member(o, "side", NULL), buf, sizeof buf) != 0)
        return -1;
    out->side = bx_side(buf);
    if (pj_str(member(o, "orderType", "type"), buf, sizeof buf) != 0)
        return -1;
    out->type = bx_order_type(buf);
    if (pj_str(member(o, "effect", NULL), buf, sizeof buf) != 0)
        buf[0] = '\0'; /* the channel's effect has been seen carrying LONG/SHORT: ignore junk */
    out->tif = bx_tif(buf);
    const cJSON *ro = member(o, "reduceOnly", "reductionOnly");
    out->reduce_only = cJSON_IsTrue(ro) || (cJSON_IsString(ro) && strcmp(ro->valuestring, "true") == 0);
    if (pj_dec(bx->core, member(o, "price", NULL), &out->price) != 0 ||
        pj_dec(bx->core, member(o, "qty", NULL), &out->qty) != 0 ||
        pj_dec(bx->core, member(o, "tradeQty", "dealAmount"), &out->filled_qty) != 0 ||
        pj_dec(bx->core, member(o, "avgPrice", "averagePrice"), &out->avg_price) != 0)
        return -1;
    /* A market order reports price 0 (or nothing): that is "no price". */
    if (!xgw_dec_is_none(out->price) && out->price.mant == 0 && out->type == XGW_TYPE_MARKET)
        out->price = xgw_dec_none();
    int64_t t = 0;
    if (bx_json_time(member(o, "mtime", NULL), &t) != 0)
        return -1;
    if (t == 0 && bx_json_time(member(o, "ctime", NULL), &t) != 0)
        return -1;
    out->ts_ms = t;
    return 0;
}
