/*
 * core/gateway.h — the gateway, its exchange instances and the request
 * pipeline (internal). Implements include/xgw/xgw.h.
 *
 * Pipeline of one call (loop thread): [PLACE: load MARKETS into the cache
 * first if it is empty; generate a client id if none] → plugin->cost →
 * endpoint choice (core/endpoint.c) → plugin->build → HTTP (core/http.c) →
 * plugin->parse (for every answer, whatever its status) → outcome decision
 * (one function: finish or try again; retries/failover plug in there) →
 * result built from the sink → the caller's callback, exactly once.
 *
 * Threading: xgw_call() from any thread queues a struct xgw__call on the
 * loop (allocation-free after warm-up: calls come from a per-instance free
 * list). Everything else runs on the loop thread. During xgw_close the
 * closing thread becomes the loop's driver and completes what is left.
 */
#ifndef XGW_CORE_GATEWAY_H
#define XGW_CORE_GATEWAY_H

#include <stdatomic.h>

#include "config.h"
#include "endpoint.h"
#include "http.h"
#include "instctx.h"
#include "loader.h"
#include "loop.h"
#include "metrics.h"
#include "xgw/xgw.h"

struct xgw__call;
/* Internal completion (warm-up pings, the market load before a PLACE). */
typedef void (*xgw__internal_done_fn)(struct xgw__call *c, const struct xgw_result *res,
                                      const struct xgw_error *err);

struct xgw__call {
    struct xgw__task task; /* queue link; task.run = the pipeline's entry */
    struct xgw_exchange *ex;
    enum xgw_op op;
    struct xgw_call args;
    xgw_done_fn done; /* the caller's callback (NULL for internal calls) */
    void *user;
    xgw__internal_done_fn internal; /* internal calls only */
    unsigned attempt;               /* 0 = first try */
    int ep;                         /* endpoint of the current attempt, -1 none */
    int pin_ep;                     /* >= 0: only this endpoint (warm-up, health checks) */
    bool clock_resynced;            /* a CLOCK_SKEW answer already led to one re-sync */
    bool markets_failed;            /* a CANCEL whose market load failed: send it anyway */
    struct xgw__call *next;         /* free list / wait lists */
};

struct xgw_exchange {
    struct xgw_gateway *gw;
    struct xgw__inst_cfg *cfg; /* borrowed from gw->cfg */
    const struct xgw_plugin *plugin;
    void *self; /* the plugin instance */
    struct xgw_inst_ctx *ctx;
    struct xgw__http *http;
    struct xgw__endpoint *eps;
    size_t n_eps;
    const char **rest_urls; /* eps[i].url, for xgw_exchange_info */
    const char *const *ws_urls;
    size_t n_ws;
    const char *network;

    struct xgw__ep_metrics none_metrics; /* calls that failed before reaching an endpoint */
    struct xgw__inst_metrics metrics;

    pthread_mutex_t free_mu; /* the call free list is shared with submitting threads */
    struct xgw__call *free_calls;

    /* loop thread only */
    size_t max_active;                    /* transfers in flight before calls wait */
    struct xgw__call *wait_head, *wait_tail; /* waiting for a transfer slot */
    struct xgw__call *markets_waiters;    /* PLACE calls waiting for the market cache */
    bool markets_loading;
};

struct xgw__plugin_ref {
    char *name;
    const struct xgw_plugin *desc;
    struct xgw__plugin *loaded; /* NULL for a built-in plugin */
};

struct xgw_gateway {
    struct xgw__config *cfg;
    struct xgw__loop loop;
    struct xgw__plugin_ref *plugins;
    size_t n_plugins;
    struct xgw_exchange *exchanges;
    size_t n_exchanges;
    struct xgw__gw_metrics metrics;
    atomic_bool closing;
    bool no_network;
};

/* Register a plugin linked into the process (tests, engines that link the
 * plugin statically). Checked by name before <plugin_dir>/<name>.so. The
 * descriptor must stay valid for the life of the process. Returns 0, or
 * XGW_ERR_PLUGIN when the descriptor is invalid or the table is full
 * (registering the same descriptor twice is a no-op). Any thread. */
int xgw__plugin_register_builtin(const struct xgw_plugin *p);

/* Start an internal call on the loop thread (loop thread only): used for
 * warm-up and by later modules (health checks, clock sync, order lookups).
 * done gets exactly one of res/err. 0 or XGW_ERR_INTERNAL (not started). */
int xgw__call_internal(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *args,
                       xgw__internal_done_fn done, void *user);
/* The same, sent to endpoint ep_index only (bypasses endpoint choice). */
int xgw__call_internal_at(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *args, int ep_index,
                          xgw__internal_done_fn done, void *user);

/* Deep copy of a result into one malloc'd block (freed by xgw_result_free). */
struct xgw_result *xgw__result_clone(const struct xgw_result *r);

#endif
