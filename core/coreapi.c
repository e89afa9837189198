/*
 * core/coreapi.c — the struct xgw_core_api table handed to every plugin:
 * each entry forwards to the core module that implements it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "crypto.h"
#include "error.h"
#include "instctx.h"
#include "log.h"
#include "response.h"
#include "sink.h"

static void api_log(struct xgw_inst_ctx *ctx, enum xgw_log_level level, const char *fmt, ...) XGW_PRINTF(3, 4);
static void api_log(struct xgw_inst_ctx *ctx, enum xgw_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xgw__vlog(ctx ? ctx->name : NULL, level, "plugin", fmt, ap);
    va_end(ap);
}

static const char *api_cfg(struct xgw_inst_ctx *ctx, const char *key)
{
    if (!ctx || !ctx->cfg || !key)
        return NULL;
    return xgw__config_get(ctx->cfg, key);
}

static int64_t api_cfg_int(struct xgw_inst_ctx *ctx, const char *key, int64_t fallback)
{
    const char *v = api_cfg(ctx, key);
    if (!v || !*v)
        return fallback;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0')
        return fallback;
    return (int64_t)n;
}

static int64_t api_local_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t api_now_ms(struct xgw_inst_ctx *ctx)
{
    return api_local_ms() + (ctx ? xgw__inst_ctx_clock_offset(ctx) : 0);
}

static int api_buf_printf(struct xgw_buf *b, const char *fmt, ...) XGW_PRINTF(2, 3);
static int api_buf_printf(struct xgw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = xgw__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

static int api_resp_status(const struct xgw_response *r) { return r ? r->status : 0; }

static const char *api_resp_body(const struct xgw_response *r, size_t *len)
{
    if (!r) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = r->body_len;
    /* Plugins may hand the body to parsers that expect a pointer even for
     * an empty answer. */
    return r->body ? r->body : "";
}

static int api_set_error(struct xgw_error *err, enum xgw_err_kind kind, int64_t code, const char *fmt, ...)
    XGW_PRINTF(4, 5);
static int api_set_error(struct xgw_error *err, enum xgw_err_kind kind, int64_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = xgw__set_error(err, kind, code, fmt, ap);
    va_end(ap);
    return rc;
}

static const struct xgw_core_api g_api = {
    .abi_version = XGW_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct xgw_core_api),
    .log = api_log,
    .cfg = api_cfg,
    .cfg_int = api_cfg_int,
    .now_ms = api_now_ms,
    .local_ms = api_local_ms,
    .buf_append = xgw__buf_append,
    .buf_printf = api_buf_printf,
    .buf_urlencode = xgw__buf_urlencode,
    .buf_dec = xgw__buf_dec,
    .buf_json_str = xgw__buf_json_str,
    .hmac_sha256 = xgw__hmac_sha256,
    .sha256 = xgw__sha256,
    .hex_lower = xgw__hex_lower,
    .random_bytes = xgw__random_bytes,
    .secure_zero = xgw__secure_zero,
    .dec_parse = xgw_dec_parse,
    .dec_format = xgw_dec_format,
    .dec_cmp = xgw_dec_cmp,
    .dec_add = xgw_dec_add,
    .dec_sub = xgw_dec_sub,
    .dec_mul = xgw_dec_mul,
    .dec_round_to = xgw_dec_round_to,
    .dec_rescale = xgw_dec_rescale,
    .dec_normalize = xgw_dec_normalize,
    .dec_sig_digits = xgw_dec_sig_digits,
    .emit = xgw__sink_emit,
    .resp_status = api_resp_status,
    .resp_body = api_resp_body,
    .resp_header = xgw__response_header,
    .set_error = api_set_error,
    .market = xgw__inst_ctx_market,
};

const struct xgw_core_api *xgw__core_api(void) { return &g_api; }
