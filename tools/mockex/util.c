/* util.c — buffers, decimal formatting, query parsing and RNG for the mock (clocks: clock.c). */
#define _POSIX_C_SOURCE 200809L
#include "mx_int.h" /* mx__canon_append */

#include <openssl/crypto.h> /* OPENSSL_hexchar2int */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void buf_reserve(struct mx_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        fputs("xgw-mockex: out of memory\n", stderr);
        abort();
    }
    b->p = p;
    b->cap = cap;
}

void mx_buf_put(struct mx_buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void mx_buf_puts(struct mx_buf *b, const char *s)
{
    mx_buf_put(b, s, strlen(s));
}

void mx_buf_printf(struct mx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        mx_buf_put(b, tmp, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void mx_buf_json_str(struct mx_buf *b, const char *s)
{
    mx_buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            mx_buf_put(b, e, 2);
        } else if (*p < 0x20) {
            mx_buf_printf(b, "\\u%04x", *p);
        } else {
            mx_buf_put(b, p, 1);
        }
    }
    mx_buf_put(b, "\"", 1);
}

char *mx_fmt_dec(char *out, size_t cap, int64_t units, int scale)
{
    uint64_t mag = units < 0 ? (uint64_t)0 - (uint64_t)units : (uint64_t)units;
    char digits[32];
    int n = 0;
    do {
        digits[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    while (n <= scale)
        digits[n++] = '0';
    size_t o = 0;
    if (units < 0 && o + 1 < cap)
        out[o++] = '-';
    for (int i = n - 1; i >= 0 && o + 2 < cap; i--) {
        out[o++] = digits[i];
        if (i == scale && scale > 0)
            out[o++] = '.';
    }
    out[o] = '\0';
    return out;
}

void mx_buf_dec(struct mx_buf *b, int64_t units, int scale, int quoted)
{
    char tmp[48];
    mx_fmt_dec(tmp, sizeof tmp, units, scale);
    if (quoted)
        mx_buf_put(b, "\"", 1);
    mx_buf_puts(b, tmp);
    if (quoted)
        mx_buf_put(b, "\"", 1);
}

void mx_buf_reset(struct mx_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void mx_buf_free(struct mx_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int mx_parse_dec(const char *s, size_t len, int scale, int64_t *units)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    int64_t v = 0;
    int intd = 0, fracd = 0, seen_dot = 0;
    size_t frac_end = len;
    /* trailing zeros after the point do not count against the scale */
    for (size_t k = 0; k < len; k++)
        if (s[k] == '.') {
            while (frac_end > k + 1 && s[frac_end - 1] == '0')
                frac_end--;
            break;
        }
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (seen_dot)
                return -1;
            seen_dot = 1;
            continue;
        }
        if (c < '0' || c > '9')
            return -1;
        if (seen_dot) {
            if (i >= frac_end)
                continue;
            if (++fracd > scale)
                return -2;
        } else {
            intd++;
        }
        if (v > (INT64_MAX - 9) / 10)
            return -3;
        v = v * 10 + (c - '0');
    }
    if (!intd || (seen_dot && frac_end == len && s[len - 1] == '.'))
        return -1;
    for (; fracd < scale; fracd++) {
        if (v > INT64_MAX / 10)
            return -3;
        v *= 10;
    }
    *units = neg ? -v : v;
    return 0;
}

uint64_t mx_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int64_t mx_rng_range(uint64_t *state, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(mx_rng_next(state) % span);
}

void mx_hmac_sha256_hex(const void *key, size_t klen, const void *msg, size_t mlen, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, md, &mdlen);
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        hex[2 * i] = hx[md[i] >> 4];
        hex[2 * i + 1] = hx[md[i] & 15];
    }
    hex[64] = '\0';
}

int mx_pct_byte(const char *p, const char *end)
{
    if (end - p < 3 || p[0] != '%')
        return -1;
    int hi = OPENSSL_hexchar2int((unsigned char)p[1]), lo = OPENSSL_hexchar2int((unsigned char)p[2]);
    return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

int mx_form_get(const char *form, size_t len, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && form[end] != '&')
            end++;
        if (end - i > klen && !memcmp(form + i, key, klen) && form[i + klen] == '=') {
            size_t o = 0;
            for (size_t k = i + klen + 1; k < end; k++) {
                char c = form[k];
                int esc = mx_pct_byte(form + k, form + end);
                if (c == '+') {
                    c = ' ';
                } else if (esc >= 0) {
                    c = (char)esc;
                    k += 2;
                }
                if (o + 1 >= cap)
                    return -2;
                out[o++] = c;
            }
            out[o] = '\0';
            return (int)o;
        }
        if (end - i == klen && !memcmp(form + i, key, klen)) {
            if (cap)
                out[0] = '\0';
            return 0;
        }
        i = end + 1;
    }
    return -1;
}

void mx_copy(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    if (cap == 0)
        return;
    while (n + 1 < cap && src[n])
        n++;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void mx__canon_append(struct mx_buf *b, const char *s, size_t len, int keep_first_eq)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (c == '=' && keep_first_eq)) {
            if (c == '=')
                keep_first_eq = 0;
            mx_buf_put(b, &c, 1);
        } else {
            char e[3] = {'%', hx[c >> 4], hx[c & 15]};
            mx_buf_put(b, e, 3);
        }
    }
}

/* Request and response headers (names lowercase, as parsed). */
const char *mx_req_header(const struct mx_req *r, const char *lname)
{
    for (int i = 0; i < r->nhdr; i++)
        if (!strcmp(r->hdr_name[i], lname))
            return r->hdr_val[i];
    return NULL;
}

void mx_resp_header(struct mx_resp *r, const char *name, const char *value)
{
    mx_buf_put(&r->hdrs, name, strlen(name) + 1);
    mx_buf_put(&r->hdrs, value, strlen(value) + 1);
}
