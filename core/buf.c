/*
 * core/buf.c — growable byte buffers. See buf.h.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* Smallest allocation: most request targets and bodies fit at once. */
#define BUF_MIN_CAP 64

int xgw__buf_reserve(struct xgw_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - 1 - b->len)
        return XGW_ERR_INTERNAL;
    size_t need = b->len + extra + 1;
    if (b->data && need <= b->cap)
        return XGW_OK;
    size_t cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    /* malloc + copy + wipe instead of realloc: realloc may leave the old
     * block (possibly holding a signature or a key) in freed memory. */
    char *p = malloc(cap);
    if (!p)
        return XGW_ERR_INTERNAL;
    if (b->data) {
        memcpy(p, b->data, b->len);
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    p[b->len] = '\0';
    b->data = p;
    b->cap = cap;
    return XGW_OK;
}

int xgw__buf_append(struct xgw_buf *b, const void *data, size_t len)
{
    if (xgw__buf_reserve(b, len))
        return XGW_ERR_INTERNAL;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return XGW_OK;
}

int xgw__buf_append_str(struct xgw_buf *b, const char *s) { return xgw__buf_append(b, s, strlen(s)); }

int xgw__buf_vprintf(struct xgw_buf *b, const char *fmt, va_list ap)
{
    /* Try the room we already have first: the common case needs one pass. */
    if (xgw__buf_reserve(b, 0))
        return XGW_ERR_INTERNAL;
    size_t room = b->cap - b->len;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(b->data + b->len, room, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->data[b->len] = '\0';
        return XGW_ERR_INTERNAL;
    }
    if ((size_t)n >= room) {
        b->data[b->len] = '\0';
        if (xgw__buf_reserve(b, (size_t)n))
            return XGW_ERR_INTERNAL;
        va_copy(ap2, ap);
        n = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        va_end(ap2);
        if (n < 0) {
            b->data[b->len] = '\0';
            return XGW_ERR_INTERNAL;
        }
    }
    b->len += (size_t)n;
    return XGW_OK;
}

int xgw__buf_printf(struct xgw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = xgw__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

int xgw__buf_urlencode(struct xgw_buf *b, const char *s, size_t len)
{
    if (len > (SIZE_MAX - 1) / 3 || xgw__buf_reserve(b, len * 3))
        return XGW_ERR_INTERNAL;
    char *o = b->data + b->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = HEX_UPPER[c >> 4];
            *o++ = HEX_UPPER[c & 15];
        }
    }
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return XGW_OK;
}

int xgw__buf_dec(struct xgw_buf *b, xgw_dec d)
{
    char tmp[XGW_DEC_STRLEN];
    size_t n = xgw_dec_format(d, tmp, sizeof tmp);
    if (n == 0)
        return XGW_ERR_INTERNAL; /* only an invalid decimal (scale out of range) */
    return xgw__buf_append(b, tmp, n);
}

int xgw__buf_json_str(struct xgw_buf *b, const char *s, size_t len)
{
    /* Worst case: every byte becomes \u00xx (6 bytes), plus the quotes. */
    if (len > (SIZE_MAX - 3) / 6 || xgw__buf_reserve(b, len * 6 + 2))
        return XGW_ERR_INTERNAL;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        default:
            if (c < 0x20) {
                memcpy(o, "\\u00", 4);
                o += 4;
                *o++ = HEX_LOWER[c >> 4];
                *o++ = HEX_LOWER[c & 15];
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return XGW_OK;
}

void xgw__buf_reset(struct xgw_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void xgw__buf_wipe(struct xgw_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    b->len = 0;
}

void xgw__buf_free(struct xgw_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void xgw__buf_free_sensitive(struct xgw_buf *b)
{
    xgw__buf_wipe(b);
    xgw__buf_free(b);
}
