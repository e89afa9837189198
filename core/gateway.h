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
#include "failover.h"
#include "http.h"
#include "instctx.h"
#include "loader.h"
#include "loop.h"
#include "metrics.h"
#include "orderguard.h"
#include "ratelimit.h"
#include "xgw/xgw.h"

/* Rate-limit buckets a plugin may declare (costs live in each call). */
#define XGW__MAX_BUCKETS XGW__METRIC_BUCKETS

struct xgw__call;
struct xgw__ws_ctx;
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
    int pin_ep;                     /* >= 0: only this endpoint, no breaker (warm-up, health checks) */
    int timeout_ms;                 /* > 0: per-request limit instead of request_timeout_ms */
    bool markets_failed;            /* a CANCEL whose market load failed: send it anyway */

    /* ---- resilience state of the call (see docs/resilience.md) ---- */
    enum xgw_op cur_op;             /* the request being sent: op, or GET_ORDER for a lookup */
    struct xgw_call lookup;         /* a lookup's arguments (the order's ids and symbol) */
    struct xgw__og og;              /* retry / lookup / resend decisions */
    uint32_t costs[XGW__MAX_BUCKETS]; /* of cur_op, charged before each send */
    int ep;                         /* endpoint of the current attempt, -1 none */
    int prev;                       /* endpoint of the previous attempt, -1 none */
    uint64_t tried;                 /* endpoints that failed this call (bit i) */
    enum xgw__brk_admit admit;      /* the breaker admission of the attempt in flight */
    unsigned backoffs;              /* backoff delays taken so far */
    int64_t latency_us;             /* of the last request (health checks read it) */
    int64_t due_ms;                 /* delayed: monotonic ms when the next attempt starts */
    struct xgw_error last_err;      /* the operation's own last error (not a lookup's) */
    unsigned n_steps;               /* requests the op takes (plugin->steps); args.step is the current one */
    bool has_partial;               /* TICKER: `partial` holds the earlier steps' fields */
    struct xgw_ticker partial;
    struct xgw__call *next;         /* free list / wait lists */
};

/* What xgw_health() reports of one endpoint: a copy kept under
 * xgw_exchange.status_mu, because the breaker and health state belong to
 * the loop thread and readers are on any thread. */
struct xgw__ep_status {
    enum xgw__health health;
    enum xgw__brk_state breaker;
    int64_t half_open_ms; /* breaker OPEN: monotonic ms when it half-opens */
    unsigned breaker_faults; /* consecutive endpoint faults of requests */
    unsigned check_failures; /* consecutive failed health checks */
    int64_t last_latency_us;
    int64_t last_check_ms; /* wall clock, 0 never */
    uint64_t checks, failures;
    char last_error[XGW_ERR_MSG_MAX];
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

    /* resilience (loop thread only) */
    struct xgw__failover fo;    /* breaker + health per endpoint, endpoint choice */
    struct xgw__rl rl;          /* the plugin's rate-limit buckets */
    struct xgw_rl_bucket *buckets; /* the plugin's declaration with rate_limits applied (owned) */
    uint64_t rng;               /* jitter */
    bool timers_on;             /* the two timers below are initialised */
    uv_timer_t delay_timer;     /* wakes the first of `delayed` */
    struct xgw__call *delayed;  /* calls waiting for a backoff or the rate limiter, by due_ms */
    uv_timer_t health_timer;    /* the next due health check */
    bool *checking;             /* per endpoint: a health check is in flight */

    bool removed;               /* an in-place reload is closing it (xgw__gateway_reload) */
    unsigned handles_open;      /* its uv timers not yet closed (an instance closed alone waits for them) */

    pthread_mutex_t status_mu;  /* guards status[] and banned_until_ms for readers */
    struct xgw__ep_status *status;
    int64_t banned_until_ms;
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
    struct xgw_exchange **exchanges; /* each its own allocation: pointers survive a reload */
    size_t n_exchanges;
    struct xgw__config **old_cfgs; /* earlier configurations that kept instances still borrow from */
    size_t n_old_cfgs;
    struct xgw__gw_metrics metrics;
    atomic_bool closing;
    bool no_network;
    struct xgw__ws_ctx *ws; /* the streams' lws context: made on the first stream, freed by xgw__streams_close */
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

/* Instance lifecycle (gateway.c), shared with the in-place reload. The
 * plugin called name: already loaded, built in, or loaded from plugin_dir. */
const struct xgw_plugin *xgw__gw_plugin(struct xgw_gateway *gw, const char *plugin_dir, const char *name,
                                        struct xgw_error *err);
/* Build ex (zeroed, owned by the caller) for ic; loop thread or before start. */
int xgw__exchange_init(struct xgw_gateway *gw, struct xgw_exchange *ex, struct xgw__inst_cfg *ic,
                       struct xgw_error *err);
/* Warm-up, clock sample and health checks of a built instance. */
void xgw__instance_start(struct xgw_exchange *ex);
/* Complete every unfinished call of ex (CANCELLED) and close its timers. */
void xgw__exchange_cancel(struct xgw_exchange *ex);
/* Free ex once its calls are complete and its handles closed. */
void xgw__exchange_free(struct xgw_exchange *ex);

/* In-place reload (core/reload.c; SIGHUP of `xgw serve`). */
struct xgw__reload_hooks {
    void *user;
    /* Before anything changes, for each instance of the new file (bound to
     * its plugin p): non-zero refuses the file (fill err). Optional. */
    int (*check_instance)(void *user, const struct xgw__config *cfg, const struct xgw__inst_cfg *ic,
                          const struct xgw_plugin *p, struct xgw_error *err);
    /* Then once for the file as a whole. Optional. */
    int (*check_config)(void *user, const struct xgw__config *cfg, struct xgw_error *err);
    /* Once the file is accepted, for each running instance about to be
     * closed (removed or replaced); the calling thread drives the loop:
     * drop the instance's subscriptions here (xgw_unsubscribe works; after
     * this they are freed by the gateway). Optional. */
    void (*closing)(void *user, struct xgw_exchange *ex);
};
struct xgw__reload_stats {
    size_t kept, added, removed, replaced;
};

/* Reload gw from path in place. The whole file is validated first (syntax,
 * keys, plugins, hooks->check_*): any error returns its kind with err filled
 * and gw untouched. Otherwise, matching instances by name: an instance whose
 * configuration is unchanged (everything but `streams` compared) is kept
 * with its calls, pools, breakers, streams and counters; a removed one is
 * closed (its calls complete CANCELLED, its streams closed); an added one
 * is opened and started; a changed one (endpoints, limits, keys...) is
 * replaced by a new instance - closed and opened anew, counters from zero.
 * The new instances are built before any old one is closed, so a plugin
 * refusing one still leaves gw as it was. gw->cfg becomes the new file
 * (gateway keys: the log level/format apply at once; metrics_listen is the
 * host's). Pointers to removed or replaced instances are invalid
 * afterwards; kept ones stay valid.
 * Threading: any thread but the loop's (not from a callback); the caller
 * becomes the loop's driver for the duration (an I/O thread is stopped and
 * restarted), so calls submitted meanwhile wait. Not concurrently with
 * xgw_exchange_at/find/count, xgw_metrics or a call on a removed instance
 * from other threads. Returns 0 and fills stats (may be NULL). */
int xgw__gateway_reload(struct xgw_gateway *gw, const char *path, const char *plugin_dir,
                        const struct xgw__reload_hooks *hooks, struct xgw__reload_stats *stats, struct xgw_error *err);

/* Deep copy of a result into one malloc'd block (freed by xgw_result_free). */
struct xgw_result *xgw__result_clone(const struct xgw_result *r);

#endif
