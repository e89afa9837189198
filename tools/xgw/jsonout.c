/* tools/xgw/jsonout.c — building the CLI's JSON lines into an xgw_buf.
 * Decimals are written as JSON strings exactly as received, never via
 * double; absent values are null. Keys are trusted literals. */
#include <string.h>

#include "buf.h"
#include "cli.h"

void cli_j_key(struct xgw_buf *b, const char *k)
{
    xgw__buf_append_str(b, b->len && b->data[b->len - 1] != '{' ? ",\"" : "\"");
    xgw__buf_append_str(b, k);
    xgw__buf_append_str(b, "\":");
}

void cli_j_str(struct xgw_buf *b, const char *k, const char *v)
{
    cli_j_key(b, k);
    if (v)
        xgw__buf_json_str(b, v, strlen(v));
    else
        xgw__buf_append_str(b, "null");
}

void cli_j_int(struct xgw_buf *b, const char *k, long long v)
{
    cli_j_key(b, k);
    xgw__buf_printf(b, "%lld", v);
}

void cli_j_ts(struct xgw_buf *b, const char *k, int64_t v)
{
    cli_j_key(b, k);
    if (v)
        xgw__buf_printf(b, "%lld", (long long)v);
    else
        xgw__buf_append_str(b, "null");
}

void cli_j_dec_val(struct xgw_buf *b, xgw_dec d)
{
    if (xgw_dec_is_none(d)) {
        xgw__buf_append_str(b, "null");
        return;
    }
    xgw__buf_append_str(b, "\"");
    xgw__buf_dec(b, d);
    xgw__buf_append_str(b, "\"");
}

void cli_j_dec(struct xgw_buf *b, const char *k, xgw_dec d)
{
    cli_j_key(b, k);
    cli_j_dec_val(b, d);
}

void cli_j_levels(struct xgw_buf *b, const char *k, const struct xgw_level *lv, size_t n)
{
    cli_j_key(b, k);
    xgw__buf_append_str(b, "[");
    for (size_t i = 0; i < n; i++) {
        xgw__buf_append_str(b, i ? ",[" : "[");
        cli_j_dec_val(b, lv[i].price);
        xgw__buf_append_str(b, ",");
        cli_j_dec_val(b, lv[i].qty);
        xgw__buf_append_str(b, "]");
    }
    xgw__buf_append_str(b, "]");
}
