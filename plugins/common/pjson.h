/*
 * plugins/common/pjson.h — the cJSON helpers every shipped plugin needs:
 * exact decimals from JSON strings, bounded string copies, and integers from
 * JSON numbers without silent double rounding.
 *
 * Header-only (static inline): each plugin .so stays self-contained, no
 * symbol is shared between plugins or with the core, and a test binary that
 * links two plugins' objects gets no duplicate definitions. Not installed:
 * an out-of-tree plugin brings its own parser (see
 * tools/examples/plugin-minimal).
 */
#ifndef XGW_PLUGINS_PJSON_H
#define XGW_PLUGINS_PJSON_H

#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "xgw/plugin.h"

/* Decimal from a JSON string member ("97123.5"): exchanges send prices and
 * quantities as strings precisely so they stay exact. A missing member, JSON
 * null or "" give NONE and return 0; a JSON number (already rounded through
 * double by cJSON) or malformed text returns -1 (the caller reports
 * PROTOCOL). */
static inline int pj_dec(const struct xgw_core_api *core, const cJSON *item, xgw_dec *out)
{
    *out = xgw_dec_none();
    if (item == NULL || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return -1;
    size_t len = strlen(item->valuestring);
    if (len == 0)
        return 0;
    return core->dec_parse(item->valuestring, len, out) == XGW_DEC_OK ? 0 : -1;
}

/* Bounded copy of a JSON string member; "" when missing or null. -1 when it
 * is not a string or does not fit (never truncated: a cut id is a wrong id). */
static inline int pj_str(const cJSON *item, char *out, size_t cap)
{
    out[0] = '\0';
    if (item == NULL || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return -1;
    size_t len = strlen(item->valuestring);
    if (len >= cap)
        return -1;
    memcpy(out, item->valuestring, len + 1);
    return 0;
}

/* int64 from a JSON number that must be integral and strictly within
 * ±2^53: cJSON keeps numbers only as double, exact below 2^53, and 2^53
 * itself may be the rounded image of 2^53 + 1 — so a larger value is refused
 * (-1, PROTOCOL) rather than silently rounded. */
static inline int pj_i64(const cJSON *item, int64_t *out)
{
    const double max_exact = 9007199254740992.0; /* 2^53 */
    if (item == NULL || !cJSON_IsNumber(item))
        return -1;
    double v = item->valuedouble;
    if (!(v > -max_exact && v < max_exact) || (double)(int64_t)v != v) /* in range: the cast is defined */
        return -1;
    *out = (int64_t)v;
    return 0;
}

#endif
