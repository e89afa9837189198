/*
 * core/instctx.h — the core's side of one exchange instance as plugins see
 * it through struct xgw_core_api (internal): configuration, corrected clock,
 * market cache, logging attribution and the secrets to scrub.
 */
#ifndef XGW_CORE_INSTCTX_H
#define XGW_CORE_INSTCTX_H

#include <pthread.h>
#include "config.h"

struct xgw_inst_ctx {
    const struct xgw__inst_cfg *cfg; /* borrowed from the gateway's config */
    const char *name;
    _Atomic int64_t clock_offset_ms; /* server - local, measured by time sync */
    pthread_mutex_t markets_lock;    /* the cache is read by the loop and by callers */
    struct xgw_market *markets;      /* sorted by symbol for bsearch */
    size_t n_markets;
    int64_t markets_loaded_ms;       /* 0 = never */
    const char **secrets;            /* values of cfg registered with xgw__secret_register (borrowed) */
    size_t n_secrets;
};

/* cfg is borrowed and must outlive the context. Returns NULL on OOM.
 * Registers the instance's secret values (api_key, api_secret and every
 * extra flagged secret) for scrubbing (core/error.h), so create the context
 * after xgw__config_bind_plugin; xgw__inst_ctx_free unregisters exactly
 * what was registered. */
struct xgw_inst_ctx *xgw__inst_ctx_new(const struct xgw__inst_cfg *cfg);
void xgw__inst_ctx_free(struct xgw_inst_ctx *ctx);
/* Replace the market cache (copies). 0 or XGW_ERR_INTERNAL. */
int xgw__inst_ctx_set_markets(struct xgw_inst_ctx *ctx, const struct xgw_market *m, size_t n, int64_t now_ms);
/* Copy the cached market named symbol into *out; false when unknown. Any
 * thread. (The implementation of core->market.) */
bool xgw__inst_ctx_market(struct xgw_inst_ctx *ctx, const char *symbol, struct xgw_market *out);
/* The clock offset (server - local, ms) measured by time sync; any thread. */
void xgw__inst_ctx_set_clock_offset(struct xgw_inst_ctx *ctx, int64_t offset_ms);
int64_t xgw__inst_ctx_clock_offset(const struct xgw_inst_ctx *ctx);

/* The table handed to every plugin. */
const struct xgw_core_api *xgw__core_api(void);

#endif
