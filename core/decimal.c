/*
 * core/decimal.c — exact decimals (xgw_dec of xgw/types.h).
 *
 * value = mant * 10^-scale with |mant| <= 10^18 - 1 (18 significant digits)
 * and 0 <= scale <= 18. Arithmetic is done in 128-bit integers, where
 * aligning two scales (at most * 10^18) or multiplying two mantissas
 * (< 10^36) cannot overflow; every result is then checked against the
 * 18-digit limit, so a result is either exact or an error. Nothing passes
 * through double.
 */
#include <stdint.h>
#include <string.h>

#include "xgw/types.h"

__extension__ typedef __int128 i128;

#define MANT_MAX INT64_C(999999999999999999) /* 10^18 - 1 */

static const int64_t POW10[19] = {
    INT64_C(1),
    INT64_C(10),
    INT64_C(100),
    INT64_C(1000),
    INT64_C(10000),
    INT64_C(100000),
    INT64_C(1000000),
    INT64_C(10000000),
    INT64_C(100000000),
    INT64_C(1000000000),
    INT64_C(10000000000),
    INT64_C(100000000000),
    INT64_C(1000000000000),
    INT64_C(10000000000000),
    INT64_C(100000000000000),
    INT64_C(1000000000000000),
    INT64_C(10000000000000000),
    INT64_C(100000000000000000),
    INT64_C(1000000000000000000),
};

static bool valid(xgw_dec d) { return d.scale >= 0 && d.scale <= XGW_DEC_MAX_SCALE; }

static bool fits(i128 m) { return m >= -(i128)MANT_MAX && m <= (i128)MANT_MAX; }

/* Store m at scale into *out, or report overflow. */
static int make(i128 m, int32_t scale, xgw_dec *out)
{
    if (!fits(m))
        return XGW_DEC_EOVERFLOW;
    out->mant = (int64_t)m;
    out->scale = scale;
    return XGW_DEC_OK;
}

int xgw_dec_parse(const char *s, size_t len, xgw_dec *out)
{
    if (!s || !out || len == 0)
        return XGW_DEC_EINVAL;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
    }
    /* Syntax first, so that "123...x" is EINVAL rather than EOVERFLOW. */
    size_t int0 = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t int_digits = i - int0;
    size_t frac_digits = 0;
    if (int_digits == 0)
        return XGW_DEC_EINVAL;
    if (i < len && s[i] == '.') {
        size_t frac0 = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        frac_digits = i - frac0;
        if (frac_digits == 0)
            return XGW_DEC_EINVAL;
    }
    if (i != len)
        return XGW_DEC_EINVAL;
    if (frac_digits > XGW_DEC_MAX_SCALE)
        return XGW_DEC_EOVERFLOW;

    /* Leading zeros are not significant; every digit after the first
     * non-zero one is (trailing zeros carry the scale). */
    int64_t m = 0;
    int sig = 0;
    for (size_t k = int0; k < len; k++) {
        if (s[k] == '.')
            continue;
        int dgt = s[k] - '0';
        if (sig == 0 && dgt == 0)
            continue;
        if (++sig > 18)
            return XGW_DEC_EOVERFLOW;
        m = m * 10 + dgt;
    }
    out->mant = neg ? -m : m;
    out->scale = (int32_t)frac_digits;
    return XGW_DEC_OK;
}

int xgw_dec_parse_cstr(const char *s, xgw_dec *out)
{
    if (!s)
        return XGW_DEC_EINVAL;
    return xgw_dec_parse(s, strlen(s), out);
}

size_t xgw_dec_format(xgw_dec d, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return 0;
    if (xgw_dec_is_none(d) || !valid(d)) {
        if (!valid(d) && !xgw_dec_is_none(d))
            return 0;
        if (cap < 5)
            return 0;
        memcpy(buf, "null", 5);
        return 4;
    }
    /* Digits of |mant|, least significant first. The magnitude is taken in
     * uint64_t so that INT64_MIN (only reachable via xgw_dec_from_int)
     * formats too. */
    uint64_t mag = d.mant < 0 ? (uint64_t)0 - (uint64_t)d.mant : (uint64_t)d.mant;
    char rev[24];
    size_t nd = 0;
    do {
        rev[nd++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    size_t scale = (size_t)d.scale;
    size_t width = nd > scale ? nd : scale + 1; /* at least "0" before the point */
    size_t need = (d.mant < 0) + width + (scale ? 1 : 0);
    if (need + 1 > cap)
        return 0;
    char *o = buf;
    if (d.mant < 0)
        *o++ = '-';
    for (size_t k = width; k-- > 0;) {
        *o++ = k < nd ? rev[k] : '0';
        if (k == scale && scale)
            *o++ = '.';
    }
    *o = '\0';
    return (size_t)(o - buf);
}

/* mant of d at a larger scale s (exact in 128 bits). */
static i128 at_scale(xgw_dec d, int32_t s) { return (i128)d.mant * POW10[s - d.scale]; }

int xgw_dec_cmp(xgw_dec a, xgw_dec b)
{
    bool an = !valid(a), bn = !valid(b);
    if (an || bn)
        return an && bn ? 0 : an ? -1 : 1;
    int32_t s = a.scale > b.scale ? a.scale : b.scale;
    i128 x = at_scale(a, s), y = at_scale(b, s);
    return (x > y) - (x < y);
}

int xgw_dec_add(xgw_dec a, xgw_dec b, xgw_dec *out)
{
    if (!valid(a) || !valid(b) || !out)
        return XGW_DEC_EINVAL;
    int32_t s = a.scale > b.scale ? a.scale : b.scale;
    return make(at_scale(a, s) + at_scale(b, s), s, out);
}

int xgw_dec_sub(xgw_dec a, xgw_dec b, xgw_dec *out)
{
    if (!valid(a) || !valid(b) || !out)
        return XGW_DEC_EINVAL;
    int32_t s = a.scale > b.scale ? a.scale : b.scale;
    return make(at_scale(a, s) - at_scale(b, s), s, out);
}

int xgw_dec_mul_int(xgw_dec a, int64_t k, xgw_dec *out)
{
    if (!valid(a) || !out)
        return XGW_DEC_EINVAL;
    int64_t m;
    if (__builtin_mul_overflow(a.mant, k, &m))
        return XGW_DEC_EOVERFLOW;
    return make(m, a.scale, out);
}

int xgw_dec_mul(xgw_dec a, xgw_dec b, xgw_dec *out)
{
    if (!valid(a) || !valid(b) || !out)
        return XGW_DEC_EINVAL;
    i128 m = (i128)a.mant * b.mant; /* |m| < 10^36: no overflow */
    int32_t s = a.scale + b.scale;
    /* Drop trailing zeros while the scale is too large, or while the
     * mantissa has too many digits: both keep the value exact. */
    while ((s > XGW_DEC_MAX_SCALE || !fits(m)) && s > 0 && m % 10 == 0) {
        m /= 10;
        s--;
    }
    if (s > XGW_DEC_MAX_SCALE)
        return XGW_DEC_EOVERFLOW; /* would need rounding: refuse */
    return make(m, s, out);
}

int xgw_dec_round_to(xgw_dec a, xgw_dec step, enum xgw_round mode, xgw_dec *out)
{
    if (!valid(a) || !valid(step) || step.mant <= 0 || !out)
        return XGW_DEC_EINVAL;
    int32_t s = a.scale > step.scale ? a.scale : step.scale;
    i128 x = at_scale(a, s), t = at_scale(step, s);
    i128 q = x / t, r = x % t; /* truncated toward zero; r has x's sign */
    switch (mode) {
    case XGW_ROUND_DOWN:
        if (r < 0)
            q -= 1;
        break;
    case XGW_ROUND_UP:
        if (r > 0)
            q += 1;
        break;
    case XGW_ROUND_NEAREST: {
        i128 ar = r < 0 ? -r : r;
        if (2 * ar >= t)
            q += x < 0 ? -1 : 1;
        break;
    }
    default: return XGW_DEC_EINVAL;
    }
    /* The result is q steps, at the step's scale. */
    return make(q * step.mant, step.scale, out);
}

int xgw_dec_rescale(xgw_dec a, int32_t scale, enum xgw_round mode, xgw_dec *out)
{
    if (!valid(a) || !out || scale < 0)
        return XGW_DEC_EINVAL;
    if (scale > XGW_DEC_MAX_SCALE)
        return XGW_DEC_EOVERFLOW;
    if (scale >= a.scale)
        return make(at_scale(a, scale), scale, out);
    xgw_dec unit = {1, scale};
    return xgw_dec_round_to(a, unit, mode, out);
}

xgw_dec xgw_dec_normalize(xgw_dec a)
{
    if (!valid(a))
        return a;
    if (a.mant == 0) {
        a.scale = 0;
        return a;
    }
    while (a.scale > 0 && a.mant % 10 == 0) {
        a.mant /= 10;
        a.scale--;
    }
    return a;
}

xgw_dec xgw_dec_from_int(int64_t v)
{
    xgw_dec d = {v, 0};
    return d;
}

int xgw_dec_sig_digits(xgw_dec a)
{
    if (!valid(a) || a.mant == 0)
        return 0;
    /* Trailing zeros of the fraction are not significant; those of the
     * integer part are counted (1200 has 4 digits). */
    a = xgw_dec_normalize(a);
    uint64_t mag = a.mant < 0 ? (uint64_t)0 - (uint64_t)a.mant : (uint64_t)a.mant;
    int n = 0;
    while (mag) {
        n++;
        mag /= 10;
    }
    return n;
}
