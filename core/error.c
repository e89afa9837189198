/*
 * core/error.c — names of the neutral enums, xgw__set_error, and the
 * registry of secret values scrubbed from messages. See error.h.
 */
#include "error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "xgw/types.h"
#include "secmem.h"

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

#define NAME_AT(tbl, i) ((size_t)(i) < sizeof(tbl) / sizeof((tbl)[0]) && (tbl)[i] ? (tbl)[i] : NULL)

const char *xgw_err_kind_name(enum xgw_err_kind kind)
{
    static const char *const names[] = {
        [XGW_OK] = "OK",
        [XGW_ERR_NETWORK] = "NETWORK",
        [XGW_ERR_TIMEOUT] = "TIMEOUT",
        [XGW_ERR_RATE_LIMITED] = "RATE_LIMITED",
        [XGW_ERR_BANNED] = "BANNED",
        [XGW_ERR_AUTH] = "AUTH",
        [XGW_ERR_CLOCK_SKEW] = "CLOCK_SKEW",
        [XGW_ERR_INVALID_REQUEST] = "INVALID_REQUEST",
        [XGW_ERR_REJECTED] = "REJECTED",
        [XGW_ERR_SERVER] = "SERVER",
        [XGW_ERR_UNKNOWN_OUTCOME] = "UNKNOWN_OUTCOME",
        [XGW_ERR_PROTOCOL] = "PROTOCOL",
        [XGW_ERR_CONFIG] = "CONFIG",
        [XGW_ERR_PLUGIN] = "PLUGIN",
        [XGW_ERR_UNSUPPORTED] = "UNSUPPORTED",
        [XGW_ERR_CANCELLED] = "CANCELLED",
        [XGW_ERR_INTERNAL] = "INTERNAL",
    };
    const char *n = NAME_AT(names, kind);
    return n ? n : "UNKNOWN";
}

const char *xgw_side_name(enum xgw_side s)
{
    static const char *const names[] = {[XGW_SIDE_NONE] = "none", [XGW_SIDE_BUY] = "buy", [XGW_SIDE_SELL] = "sell"};
    const char *n = NAME_AT(names, s);
    return n ? n : "unknown";
}

const char *xgw_order_type_name(enum xgw_order_type t)
{
    static const char *const names[] = {
        [XGW_TYPE_NONE] = "none", [XGW_TYPE_LIMIT] = "limit", [XGW_TYPE_MARKET] = "market"};
    const char *n = NAME_AT(names, t);
    return n ? n : "unknown";
}

const char *xgw_tif_name(enum xgw_tif t)
{
    static const char *const names[] = {[XGW_TIF_DEFAULT] = "default", [XGW_TIF_GTC] = "gtc", [XGW_TIF_IOC] = "ioc",
                                        [XGW_TIF_FOK] = "fok", [XGW_TIF_POST_ONLY] = "post_only"};
    const char *n = NAME_AT(names, t);
    return n ? n : "unknown";
}

const char *xgw_order_status_name(enum xgw_order_status s)
{
    static const char *const names[] = {
        [XGW_OS_UNKNOWN] = "unknown",   [XGW_OS_NEW] = "new",           [XGW_OS_PARTIALLY_FILLED] = "partially_filled",
        [XGW_OS_FILLED] = "filled",     [XGW_OS_CANCELED] = "canceled", [XGW_OS_REJECTED] = "rejected",
        [XGW_OS_EXPIRED] = "expired",
    };
    const char *n = NAME_AT(names, s);
    return n ? n : "unknown";
}

const char *xgw_market_status_name(enum xgw_market_status s)
{
    static const char *const names[] = {[XGW_MKT_UNKNOWN] = "unknown", [XGW_MKT_TRADING] = "trading",
                                        [XGW_MKT_HALTED] = "halted", [XGW_MKT_CLOSED] = "closed"};
    const char *n = NAME_AT(names, s);
    return n ? n : "unknown";
}

const char *xgw_op_name(enum xgw_op op)
{
    static const char *const names[] = {
        [XGW_OP_PING] = "ping",
        [XGW_OP_TIME] = "time",
        [XGW_OP_MARKETS] = "markets",
        [XGW_OP_TICKER] = "ticker",
        [XGW_OP_DEPTH] = "depth",
        [XGW_OP_BALANCES] = "balances",
        [XGW_OP_POSITIONS] = "positions",
        [XGW_OP_PLACE] = "place",
        [XGW_OP_CANCEL] = "cancel",
        [XGW_OP_GET_ORDER] = "get_order",
        [XGW_OP_OPEN_ORDERS] = "open_orders",
        [XGW_OP_WS_TOKEN] = "ws_token",
        [XGW_OP_WS_TOKEN_KEEPALIVE] = "ws_token_keepalive",
    };
    const char *n = NAME_AT(names, op);
    return n ? n : "unknown";
}

const char *xgw_channel_name(enum xgw_channel ch)
{
    static const char *const names[] = {
        [XGW_CH_TICKER] = "ticker", [XGW_CH_TRADES] = "trades", [XGW_CH_BOOK] = "book", [XGW_CH_ORDERS] = "orders"};
    const char *n = NAME_AT(names, ch);
    return n ? n : "unknown";
}

/* ------------------------------------------------------------------------ */
/* Secret registry                                                           */
/* ------------------------------------------------------------------------ */

struct secret {
    char *s;
    size_t len;
    unsigned refs;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct secret *g_secrets; /* longest first, so a secret containing another is scrubbed whole */
static size_t g_n, g_cap;

int xgw__secret_register(const char *s)
{
    if (!s)
        return XGW_OK;
    size_t len = strlen(s);
    if (len < XGW__SECRET_MIN_LEN)
        return XGW_OK;
    int rc = XGW_OK;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_n; i++) {
        if (g_secrets[i].len == len && memcmp(g_secrets[i].s, s, len) == 0) {
            g_secrets[i].refs++;
            goto out;
        }
    }
    if (g_n == g_cap) {
        size_t cap = g_cap ? g_cap * 2 : 8;
        struct secret *p = realloc(g_secrets, cap * sizeof *p);
        if (!p) {
            rc = XGW_ERR_INTERNAL;
            goto out;
        }
        g_secrets = p;
        g_cap = cap;
    }
    /* the registry's copy lives as long as the secret: keep it out of core
     * dumps like the original (secmem.h) */
    char *copy = xgw__secmem_alloc(len + 1);
    if (!copy) {
        rc = XGW_ERR_INTERNAL;
        goto out;
    }
    memcpy(copy, s, len + 1);
    size_t at = 0;
    while (at < g_n && g_secrets[at].len >= len)
        at++;
    memmove(&g_secrets[at + 1], &g_secrets[at], (g_n - at) * sizeof *g_secrets);
    g_secrets[at] = (struct secret){copy, len, 1};
    g_n++;
out:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

void xgw__secret_unregister(const char *s)
{
    if (!s)
        return;
    size_t len = strlen(s);
    if (len < XGW__SECRET_MIN_LEN)
        return;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_n; i++) {
        if (g_secrets[i].len == len && memcmp(g_secrets[i].s, s, len) == 0) {
            if (--g_secrets[i].refs == 0) {
                xgw__secmem_free(g_secrets[i].s); /* wipes */
                memmove(&g_secrets[i], &g_secrets[i + 1], (g_n - i - 1) * sizeof *g_secrets);
                g_n--;
            }
            break;
        }
    }
    if (g_n == 0) {
        free(g_secrets);
        g_secrets = NULL;
        g_cap = 0;
    }
    pthread_mutex_unlock(&g_lock);
}

void xgw__scrub(char *buf)
{
    if (!buf)
        return;
    pthread_mutex_lock(&g_lock);
    if (g_n) {
        size_t blen = strlen(buf);
        for (size_t i = 0; i < g_n; i++) {
            const struct secret *sec = &g_secrets[i];
            char *p = buf;
            while ((p = strstr(p, sec->s)) != NULL) {
                /* "***" is shorter than any registered secret, so the text
                 * shrinks in place. */
                size_t tail = blen - (size_t)(p - buf) - sec->len;
                memcpy(p, "***", 3);
                memmove(p + 3, p + sec->len, tail + 1);
                blen -= sec->len - 3;
                p += 3;
            }
        }
    }
    pthread_mutex_unlock(&g_lock);
}

/* ------------------------------------------------------------------------ */
/* Escaping and set_error                                                    */
/* ------------------------------------------------------------------------ */

size_t xgw__escape_ctl(char *dst, size_t cap, size_t dlen, const char *src, size_t len, bool *truncated)
{
    static const char hex[] = "0123456789abcdef";
    bool trunc = false;
    if (cap == 0) {
        if (truncated)
            *truncated = len > 0;
        return 0;
    }
    if (dlen > cap - 1)
        dlen = cap - 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)src[i];
        char esc[8];
        const char *unit = &src[i];
        size_t ulen = 1, consumed = 1;
        if (c < 0x20 || c == 0x7f) {
            unit = esc;
            if (c == '\n')
                ulen = (size_t)snprintf(esc, sizeof esc, "\\n");
            else if (c == '\r')
                ulen = (size_t)snprintf(esc, sizeof esc, "\\r");
            else if (c == '\t')
                ulen = (size_t)snprintf(esc, sizeof esc, "\\t");
            else {
                esc[0] = '\\', esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15];
                ulen = 4;
            }
        } else if (c == 0xc2 && i + 1 < len && (unsigned char)src[i + 1] >= 0x80 &&
                   (unsigned char)src[i + 1] <= 0x9f) {
            /* UTF-8 encoded C1 control (e.g. U+009B, a one-byte CSI for some
             * terminals). */
            unsigned char c1 = (unsigned char)src[i + 1];
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c1 >> 4], esc[5] = hex[c1 & 15];
            unit = esc;
            ulen = 6;
            consumed = 2;
        } else if (c >= 0xc0) {
            /* Keep a multi-byte character whole (or not at all). */
            size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (n > len - i)
                n = len - i;
            ulen = consumed = n;
        }
        if (dlen + ulen > cap - 1) {
            trunc = true;
            break;
        }
        memcpy(dst + dlen, unit, ulen);
        dlen += ulen;
        i += consumed;
    }
    dst[dlen] = '\0';
    if (truncated)
        *truncated = trunc;
    return dlen;
}

int xgw__set_error(struct xgw_error *err, enum xgw_err_kind kind, int64_t code, const char *fmt, va_list ap)
{
    if (!err)
        return kind;
    err->kind = kind;
    err->code = code;
    err->message[0] = '\0';
    if (!fmt)
        return kind;

    char stackbuf[512];
    char *raw = stackbuf;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        snprintf(err->message, sizeof err->message, "(unformattable error message)");
        return kind;
    }
    if ((size_t)n >= sizeof stackbuf) {
        /* Format the whole text before scrubbing: a secret cut at the
         * buffer's end would escape the scrubber. */
        raw = malloc((size_t)n + 1);
        if (!raw) {
            snprintf(err->message, sizeof err->message, "(error message unavailable: out of memory)");
            return kind;
        }
        va_copy(ap2, ap);
        vsnprintf(raw, (size_t)n + 1, fmt, ap2);
        va_end(ap2);
    }
    xgw__scrub(raw);
    size_t rlen = strlen(raw);
    bool trunc = false;
    xgw__escape_ctl(err->message, sizeof err->message, 0, raw, rlen, &trunc);
    if (trunc) {
        size_t l = xgw__escape_ctl(err->message, sizeof err->message - 3, 0, raw, rlen, NULL);
        memcpy(err->message + l, "...", 4);
    }
    if (raw != stackbuf) {
        OPENSSL_cleanse(raw, (size_t)n + 1);
        free(raw);
    } else {
        OPENSSL_cleanse(stackbuf, sizeof stackbuf);
    }
    return kind;
}

int xgw__set_errorf(struct xgw_error *err, enum xgw_err_kind kind, int64_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = xgw__set_error(err, kind, code, fmt, ap);
    va_end(ap);
    return rc;
}
