/*
 * core/instctx.c — the core's side of one exchange instance. See instctx.h.
 */
#include "instctx.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static int add_secret(struct xgw_inst_ctx *ctx, const char *s, size_t *cap)
{
    if (!s || strlen(s) < XGW__SECRET_MIN_LEN)
        return XGW_OK;
    if (ctx->n_secrets == *cap) {
        size_t n = *cap ? *cap * 2 : 4;
        const char **p = realloc(ctx->secrets, n * sizeof *p);
        if (!p)
            return XGW_ERR_INTERNAL;
        ctx->secrets = p;
        *cap = n;
    }
    if (xgw__secret_register(s))
        return XGW_ERR_INTERNAL;
    ctx->secrets[ctx->n_secrets++] = s;
    return XGW_OK;
}

struct xgw_inst_ctx *xgw__inst_ctx_new(const struct xgw__inst_cfg *cfg)
{
    if (!cfg)
        return NULL;
    struct xgw_inst_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    if (pthread_mutex_init(&ctx->markets_lock, NULL) != 0) {
        free(ctx);
        return NULL;
    }
    ctx->cfg = cfg;
    ctx->name = cfg->name ? cfg->name : "";
    atomic_init(&ctx->clock_offset_ms, 0);

    size_t cap = 0;
    int rc = add_secret(ctx, cfg->api_key, &cap);
    rc = rc ? rc : add_secret(ctx, cfg->api_secret, &cap);
    for (size_t i = 0; !rc && i < cfg->n_extras; i++)
        if (cfg->extras[i].secret)
            rc = add_secret(ctx, cfg->extras[i].value, &cap);
    if (rc) {
        xgw__inst_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void xgw__inst_ctx_free(struct xgw_inst_ctx *ctx)
{
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->n_secrets; i++)
        xgw__secret_unregister(ctx->secrets[i]);
    free(ctx->secrets);
    pthread_mutex_destroy(&ctx->markets_lock);
    free(ctx->markets);
    free(ctx);
}

static int cmp_market(const void *a, const void *b)
{
    return strcmp(((const struct xgw_market *)a)->symbol, ((const struct xgw_market *)b)->symbol);
}

int xgw__inst_ctx_set_markets(struct xgw_inst_ctx *ctx, const struct xgw_market *m, size_t n, int64_t now_ms)
{
    struct xgw_market *copy = NULL;
    if (n) {
        if (n > SIZE_MAX / sizeof *copy)
            return XGW_ERR_INTERNAL;
        copy = malloc(n * sizeof *copy);
        if (!copy)
            return XGW_ERR_INTERNAL;
        memcpy(copy, m, n * sizeof *copy);
        for (size_t i = 0; i < n; i++)
            copy[i].symbol[XGW_SYMBOL_MAX - 1] = '\0'; /* strcmp must stop inside the record */
        /* Sort outside the lock: readers keep using the old cache meanwhile. */
        qsort(copy, n, sizeof *copy, cmp_market);
    }
    pthread_mutex_lock(&ctx->markets_lock);
    struct xgw_market *old = ctx->markets;
    ctx->markets = copy;
    ctx->n_markets = n;
    ctx->markets_loaded_ms = now_ms;
    pthread_mutex_unlock(&ctx->markets_lock);
    free(old);
    return XGW_OK;
}

bool xgw__inst_ctx_market(struct xgw_inst_ctx *ctx, const char *symbol, struct xgw_market *out)
{
    if (!ctx || !symbol)
        return false;
    struct xgw_market key = {0};
    size_t len = strlen(symbol);
    if (len >= sizeof key.symbol)
        return false;
    memcpy(key.symbol, symbol, len + 1);
    bool found = false;
    pthread_mutex_lock(&ctx->markets_lock);
    const struct xgw_market *m =
        ctx->n_markets ? bsearch(&key, ctx->markets, ctx->n_markets, sizeof key, cmp_market) : NULL;
    if (m) {
        if (out)
            *out = *m;
        found = true;
    }
    pthread_mutex_unlock(&ctx->markets_lock);
    return found;
}

void xgw__inst_ctx_set_clock_offset(struct xgw_inst_ctx *ctx, int64_t offset_ms)
{
    atomic_store(&ctx->clock_offset_ms, offset_ms);
}

int64_t xgw__inst_ctx_clock_offset(const struct xgw_inst_ctx *ctx)
{
    return atomic_load(&ctx->clock_offset_ms);
}
