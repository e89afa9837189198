/*
 * core/gateway.c — xgw_open/xgw_close, exchange instances, the request
 * pipeline and the synchronous wrappers. See gateway.h and xgw/xgw.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "gateway.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "crypto.h"
#include "error.h"
#include "log.h"
#include "response.h"
#include "sink.h"
#include "stream.h"
#include "streammetrics.h"

/* ------------------------------------------------------------------------ */
/* Built-in plugins                                                          */
/* ------------------------------------------------------------------------ */

#define MAX_BUILTINS 32
static pthread_mutex_t builtin_mu = PTHREAD_MUTEX_INITIALIZER;
static const struct xgw_plugin *builtins[MAX_BUILTINS];
static size_t n_builtins;

static bool desc_valid(const struct xgw_plugin *p)
{
    return p && p->abi_version == XGW_PLUGIN_ABI_VERSION && p->struct_size >= sizeof(struct xgw_plugin) &&
           p->name && p->create && p->destroy && p->client_id && p->build && p->parse;
}

int xgw__plugin_register_builtin(const struct xgw_plugin *p)
{
    if (!desc_valid(p))
        return XGW_ERR_PLUGIN;
    int rc = XGW_OK;
    pthread_mutex_lock(&builtin_mu);
    size_t i = 0;
    for (; i < n_builtins && builtins[i] != p; i++)
        ;
    if (i == n_builtins) {
        if (n_builtins == MAX_BUILTINS)
            rc = XGW_ERR_PLUGIN;
        else
            builtins[n_builtins++] = p;
    }
    pthread_mutex_unlock(&builtin_mu);
    return rc;
}

static const struct xgw_plugin *find_builtin(const char *name)
{
    const struct xgw_plugin *found = NULL;
    pthread_mutex_lock(&builtin_mu);
    /* The latest registration of a name wins, so a test can override. */
    for (size_t i = n_builtins; i-- > 0 && !found;)
        if (!strcmp(builtins[i]->name, name))
            found = builtins[i];
    pthread_mutex_unlock(&builtin_mu);
    return found;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ------------------------------------------------------------------------ */
/* Calls: allocation and completion                                          */
/* ------------------------------------------------------------------------ */

/* The gateway is closing, or this instance is being taken out by an
 * in-place reload: either way nothing new may start on it. */
static bool ex_closing(const struct xgw_exchange *ex) { return atomic_load(&ex->gw->closing) || ex->removed; }

static struct xgw__call *call_alloc(struct xgw_exchange *ex)
{
    pthread_mutex_lock(&ex->free_mu);
    struct xgw__call *c = ex->free_calls;
    if (c)
        ex->free_calls = c->next;
    pthread_mutex_unlock(&ex->free_mu);
    if (!c && !(c = malloc(sizeof *c)))
        return NULL;
    c->task.next = NULL;
    c->ex = ex;
    c->done = NULL;
    c->user = NULL;
    c->internal = NULL;
    c->pin_ep = -1;
    c->timeout_ms = 0;
    c->markets_failed = false;
    c->ep = c->prev = -1;
    c->tried = 0;
    c->admit = XGW__BRK_DENY;
    c->backoffs = 0;
    c->latency_us = -1;
    c->n_steps = 1;
    c->has_partial = false;
    memset(&c->og, 0, sizeof c->og);
    c->next = NULL;
    return c;
}

static void call_release(struct xgw__call *c)
{
    struct xgw_exchange *ex = c->ex;
    pthread_mutex_lock(&ex->free_mu);
    c->next = ex->free_calls;
    ex->free_calls = c;
    pthread_mutex_unlock(&ex->free_mu);
}

static void pump_waiting(struct xgw_exchange *ex);

/* The only way a call ends: exactly one of res/err, then the call is
 * recycled. Loop thread (or the closing thread). */
static void call_complete(struct xgw__call *c, const struct xgw_result *res, const struct xgw_error *err)
{
    struct xgw_exchange *ex = c->ex;
    struct xgw_gateway *gw = ex->gw;
    if (c->internal) {
        c->internal(c, res, err);
    } else {
        if (err && err->kind == XGW_ERR_CANCELLED)
            xgw__metric_add(&gw->metrics.calls_cancelled, 1);
        c->done(c->user, res, err);
        xgw__metric_add(&gw->metrics.calls_completed, 1);
        atomic_fetch_sub_explicit(&ex->metrics.inflight, 1, memory_order_relaxed);
    }
    call_release(c);
}

static void fail_call(struct xgw__call *c, int kind, const char *fmt, ...) XGW_PRINTF(3, 4);
static void fail_call(struct xgw__call *c, int kind, const char *fmt, ...)
{
    struct xgw_error err = {0};
    va_list ap;
    va_start(ap, fmt);
    xgw__set_error(&err, (enum xgw_err_kind)kind, 0, fmt, ap);
    va_end(ap);
    snprintf(err.exchange, sizeof err.exchange, "%s", c->ex->cfg->name);
    if (c->ep >= 0)
        snprintf(err.endpoint, sizeof err.endpoint, "%s", c->ex->eps[c->ep].url);
    call_complete(c, NULL, &err);
}

/* A call that ends before reaching an endpoint still counts in metrics. */
static void fail_early(struct xgw__call *c, struct xgw_error *err)
{
    struct xgw_exchange *ex = c->ex;
    snprintf(err->exchange, sizeof err->exchange, "%s", ex->cfg->name);
    if (c->ep >= 0)
        snprintf(err->endpoint, sizeof err->endpoint, "%s", ex->eps[c->ep].url);
    if (err->kind != XGW_ERR_CANCELLED)
        xgw__metrics_request(c->ep >= 0 ? &ex->eps[c->ep].metrics : &ex->none_metrics, c->op, err->kind, -1);
    call_complete(c, NULL, err);
}

/* ------------------------------------------------------------------------ */
/* The pipeline                                                              */
/* ------------------------------------------------------------------------ */

static void attempt(struct xgw__call *c);
static void cancel_call(struct xgw__call *c, struct xgw_error *err, bool sent_now);
static void on_xfer_done(struct xgw__xfer *x);

/* 0: no market rules cached; 1: cached; 2: cached but older than
 * markets_refresh_s (still usable while a refresh runs). */
static int markets_cached(struct xgw_exchange *ex)
{
    pthread_mutex_lock(&ex->ctx->markets_lock);
    int64_t at = ex->ctx->markets_loaded_ms;
    pthread_mutex_unlock(&ex->ctx->markets_lock);
    if (at == 0)
        return 0;
    int64_t period = (int64_t)ex->cfg->markets_refresh_s * 1000;
    return period > 0 && xgw__wall_ms() - at >= period ? 2 : 1;
}

static void on_markets_refreshed(struct xgw__call *mc, const struct xgw_result *res, const struct xgw_error *err)
{
    (void)res;
    mc->ex->markets_loading = false;
    if (err && err->kind != XGW_ERR_CANCELLED)
        xgw__log(mc->ex->cfg->name, XGW_LOG_WARN, "markets_refresh_failed",
                 "the market rules could not be refreshed (%s); the cached ones stay in use", err->message);
}

static void pipeline_start(struct xgw__call *c);

static void on_markets_loaded(struct xgw__call *mc, const struct xgw_result *res, const struct xgw_error *err)
{
    (void)res;
    struct xgw_exchange *ex = mc->ex;
    ex->markets_loading = false;
    struct xgw__call *w = ex->markets_waiters;
    ex->markets_waiters = NULL;
    while (w) {
        struct xgw__call *next = w->next;
        w->next = NULL;
        if (err && err->kind != XGW_ERR_CANCELLED && w->op == XGW_OP_CANCEL) {
            /* Never let a failed rules refresh stand between a bot and
             * its cancel: the plugin refuses it itself if it really needs
             * the market. */
            w->markets_failed = true;
            pipeline_start(w);
        } else if (err) {
            struct xgw_error e = *err;
            if (err->kind != XGW_ERR_CANCELLED) {
                char msg[XGW_ERR_MSG_MAX];
                snprintf(msg, sizeof msg, "%s", err->message);
                xgw__set_errorf(&e, err->kind, err->code, "loading the market rules before placing failed: %s",
                                msg);
            }
            w->ep = -1;
            fail_early(w, &e);
        } else {
            pipeline_start(w);
        }
        w = next;
    }
}

/* ------------------------------------------------------------------------ */
/* Clocks, status copies, breaker events                                     */
/* ------------------------------------------------------------------------ */

/* Breakers, health and backoff run on the monotonic clock (a wall-clock
 * jump must not open or heal anything); rate-limit windows and the order
 * guard's proof window on the exchange's clock (docs/resilience.md). */
static int64_t mono_ms(void) { return xgw__mono_us() / 1000; }

/* Requests that may have changed state at the exchange. */
static bool is_write(enum xgw_op op) { return op == XGW_OP_PLACE || op == XGW_OP_CANCEL; }


static int64_t exch_ms(const struct xgw_exchange *ex)
{
    return xgw__wall_ms() + atomic_load(&ex->ctx->clock_offset_ms);
}

/* Copy endpoint i's breaker and health state for readers on other threads. */
static void status_sync(struct xgw_exchange *ex, size_t i, const char *error)
{
    const struct xgw__ep_res *r = &ex->fo.ep[i];
    struct xgw__ep_metrics *m = &ex->eps[i].metrics;
    atomic_store_explicit(&m->breaker_state, (int)r->breaker.state, memory_order_relaxed);
    atomic_store_explicit(&m->health_state, (int)r->health.state, memory_order_relaxed);
    pthread_mutex_lock(&ex->status_mu);
    struct xgw__ep_status *st = &ex->status[i];
    st->health = r->health.state;
    st->breaker = r->breaker.state;
    st->half_open_ms = r->breaker.half_open_ms;
    st->breaker_faults = r->breaker.consecutive;
    st->check_failures = r->health.consecutive_failures;
    st->last_latency_us = r->health.last_latency_us;
    st->checks = r->health.checks;
    st->failures = r->health.failures;
    if (r->health.last_check_ms > 0)
        st->last_check_ms = xgw__wall_ms() - (mono_ms() - r->health.last_check_ms);
    if (error)
        snprintf(st->last_error, sizeof st->last_error, "%s", error);
    pthread_mutex_unlock(&ex->status_mu);
}

static void on_breaker_change(void *ud, const struct xgw__breaker *b, enum xgw__brk_state from,
                              enum xgw__brk_state to, int64_t now_ms)
{
    struct xgw_exchange *ex = ud;
    /* The breaker is the first member of its endpoint's xgw__ep_res. */
    size_t i = (size_t)((const struct xgw__ep_res *)(const void *)b - ex->fo.ep);
    const char *url = ex->eps[i].url;
    if (to == XGW__BRK_OPEN)
        xgw__logx(ex->cfg->name, url, XGW_LOG_WARN, "breaker_open", NULL, 0,
                  "circuit breaker open (was %s); requests fail fast for %lld ms", xgw__breaker_state_name(from),
                  (long long)xgw__breaker_retry_in_ms(b, now_ms));
    else
        xgw__logx(ex->cfg->name, url, XGW_LOG_INFO, to == XGW__BRK_CLOSED ? "breaker_closed" : "breaker_half_open",
                  NULL, 0, "circuit breaker %s (was %s)", xgw__breaker_state_name(to), xgw__breaker_state_name(from));
    xgw__metric_add(&ex->eps[i].metrics.breaker_entered[to], 1);
    /* The listener runs inside the breaker's update; the copy is refreshed
     * after it by the caller (status_sync), the gauge here already. */
    atomic_store_explicit(&ex->eps[i].metrics.breaker_state, (int)to, memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */
/* Delayed attempts (backoff, rate-limit waits)                              */
/* ------------------------------------------------------------------------ */

static void on_delay_timer(uv_timer_t *t);

static void delay_arm(struct xgw_exchange *ex)
{
    if (!ex->delayed) {
        uv_timer_stop(&ex->delay_timer);
        return;
    }
    int64_t wait = ex->delayed->due_ms - mono_ms();
    uv_timer_start(&ex->delay_timer, on_delay_timer, wait > 0 ? (uint64_t)wait : 0, 0);
}

/* Run attempt() after delay_ms. Calls due at the same time keep their
 * order (FIFO), so a burst parked by the rate limiter leaves in order. */
static void call_delay(struct xgw__call *c, int64_t delay_ms)
{
    struct xgw_exchange *ex = c->ex;
    if (delay_ms <= 0) {
        attempt(c);
        return;
    }
    c->due_ms = mono_ms() + delay_ms;
    struct xgw__call **pp = &ex->delayed;
    while (*pp && (*pp)->due_ms <= c->due_ms)
        pp = &(*pp)->next;
    c->next = *pp;
    *pp = c;
    if (ex->delayed == c)
        delay_arm(ex);
}

static void on_delay_timer(uv_timer_t *t)
{
    struct xgw_exchange *ex = t->data;
    int64_t now = mono_ms();
    while (ex->delayed && ex->delayed->due_ms <= now) {
        struct xgw__call *c = ex->delayed;
        ex->delayed = c->next;
        c->next = NULL;
        attempt(c);
    }
    delay_arm(ex);
}

/* ------------------------------------------------------------------------ */
/* The pipeline: attempts and their outcomes                                 */
/* ------------------------------------------------------------------------ */

/* Cost, client id, then the first attempt. */
static void pipeline_start(struct xgw__call *c)
{
    struct xgw_exchange *ex = c->ex;
    struct xgw_error err = {0};
    if (c->op == XGW_OP_PLACE || c->op == XGW_OP_CANCEL) {
        /* Plugins round prices and quantities with core->market(), and
         * some address markets by index (Hyperliquid cancels by asset):
         * the cache must be filled before the first order or cancel. */
        int cached = markets_cached(ex);
        if (cached == 2 && !ex->markets_loading) {
            /* Rules change rarely (tick sizes, new listings); refresh them
             * in the background and keep using the cached ones meanwhile. */
            /* Set before the call: a refusal (rate limiter, breakers)
             * completes it at once, and its completion clears the flag. */
            struct xgw_call none = {0};
            ex->markets_loading = true;
            if (xgw__call_internal(ex, XGW_OP_MARKETS, &none, on_markets_refreshed, NULL) != XGW_OK)
                ex->markets_loading = false;
        }
        if (!cached && !c->markets_failed) {
            c->next = ex->markets_waiters;
            ex->markets_waiters = c;
            if (!ex->markets_loading) {
                ex->markets_loading = true;
                struct xgw_call none = {0};
                if (xgw__call_internal(ex, XGW_OP_MARKETS, &none, on_markets_loaded, NULL) != XGW_OK) {
                    struct xgw_error e = {0};
                    xgw__set_errorf(&e, XGW_ERR_INTERNAL, 0, "out of memory");
                    struct xgw__call fake = {.ex = ex};
                    on_markets_loaded(&fake, NULL, &e);
                }
            }
            return;
        }
        if (c->op == XGW_OP_PLACE && !c->args.order.client_id[0]) {
            /* Every order carries a client id, so an unknown outcome can
             * be resolved by looking it up (never by sending it again). */
            int rc = ex->plugin->client_id(ex->self, c->args.order.client_id, sizeof c->args.order.client_id);
            c->args.order.client_id[sizeof c->args.order.client_id - 1] = '\0';
            if (rc != XGW_OK || !c->args.order.client_id[0]) {
                xgw__set_errorf(&err, XGW_ERR_PLUGIN, 0, "plugin %s could not generate a client order id",
                                ex->plugin->name);
                fail_early(c, &err);
                return;
            }
        }
    }
    /* Pinned requests (warm-up, health checks) are single probes of one
     * endpoint: their failure is the answer, never retried. */
    xgw__og_init(&c->og, c->op, c->pin_ep >= 0 ? 0u : (unsigned)ex->cfg->retry_max,
                 (unsigned)(ex->cfg->retry_max + 1 > 3 ? ex->cfg->retry_max + 1 : 3), ex->cfg->recv_window_ms);
    c->cur_op = c->op;
    memset(&c->last_err, 0, sizeof c->last_err);
    c->args.step = 0;
    c->n_steps = 1;
    if (ex->plugin->struct_size >= offsetof(struct xgw_plugin, steps) + sizeof ex->plugin->steps && ex->plugin->steps) {
        unsigned n = ex->plugin->steps(ex->self, c->op, &c->args);
        c->n_steps = n < 1 ? 1 : n > 4 ? 4 : n;
    }
    attempt(c);
}

static void next_step(struct xgw__call *c, const struct xgw__og_outcome *o, const struct xgw_result *res,
                      const struct xgw_error *err);

/* Something on this side refused the attempt before a byte was sent (rate
 * limiter, every breaker open, a build that failed). A lookup is part of
 * resolving an order and goes on by the order guard's rules; anything else
 * ends here with the refusal. */
static void refuse_attempt(struct xgw__call *c, struct xgw_error *err)
{
    if (c->og.phase == XGW__OG_PH_LOOKUP) {
        struct xgw_exchange *ex = c->ex;
        snprintf(err->exchange, sizeof err->exchange, "%s", ex->cfg->name);
        xgw__metrics_request(&ex->none_metrics, c->cur_op, err->kind, -1);
        struct xgw__og_outcome o = {.kind = err->kind, .flags = err->flags, .retry_after_ms = err->retry_after_ms};
        next_step(c, &o, NULL, err);
        return;
    }
    fail_early(c, err);
}

static void rl_refused(struct xgw__call *c, const struct xgw__rl_verdict *v)
{
    struct xgw_exchange *ex = c->ex;
    struct xgw_error err = {0};
    const char *bucket = v->bucket < ex->rl.n ? ex->rl.b[v->bucket].name : "all";
    c->ep = -1;
    switch (v->rc) {
    case XGW__RL_BANNED:
        xgw__set_errorf(&err, XGW_ERR_BANNED, 0,
                        "%s is banned by the exchange for another %lld ms; nothing is sent until the ban ends",
                        ex->cfg->name, (long long)v->wait_ms);
        err.until_ms = v->until_ms;
        err.retry_after_ms = v->wait_ms;
        break;
    case XGW__RL_REFUSE:
        xgw__set_errorf(&err, XGW_ERR_RATE_LIMITED, 0,
                        "%s costs more than rate-limit bucket %s can ever hold; it cannot be sent",
                        xgw_op_name(c->cur_op), bucket);
        break;
    default:
        xgw__set_errorf(&err, XGW_ERR_RATE_LIMITED, 0,
                        "rate limit %s: %s; retry in %lld ms (refused here, nothing was sent)", bucket,
                        v->rc == XGW__RL_BLOCKED ? "the exchange asked us to back off (HTTP 429)"
                                                 : "the budget of this window is used up",
                        (long long)v->wait_ms);
        err.retry_after_ms = v->wait_ms;
        break;
    }
    xgw__metric_add(&ex->metrics.rl_refused, 1);
    refuse_attempt(c, &err);
}

/* Give back what an attempt took when it never left the process. */
static void attempt_unwind(struct xgw__call *c)
{
    struct xgw_exchange *ex = c->ex;
    if (c->admit != XGW__BRK_DENY)
        xgw__failover_cancel(&ex->fo, (size_t)c->ep, c->admit);
    c->admit = XGW__BRK_DENY;
    xgw__rl_refund(&ex->rl, c->costs, exch_ms(ex));
}

static const struct xgw_call *attempt_args(const struct xgw__call *c)
{
    return c->cur_op == c->op ? &c->args : &c->lookup;
}

/* One request of a call: rate limiter, endpoint choice, build, send - in
 * this order, so a refusal touches neither a socket nor a breaker. */
static void attempt(struct xgw__call *c)
{
    struct xgw_exchange *ex = c->ex;
    struct xgw_error err = {0};
    if (ex_closing(ex)) {
        xgw__set_errorf(&err, XGW_ERR_CANCELLED, 0, "the gateway was closed before the call was sent");
        cancel_call(c, &err, false);
        return;
    }
    if (ex->n_eps == 0) {
        xgw__set_errorf(&err, XGW_ERR_NETWORK, 0, "no REST endpoint is configured; set rest_endpoints");
        fail_early(c, &err);
        return;
    }
    if (xgw__http_active(ex->http) >= ex->max_active) {
        c->next = NULL;
        if (ex->wait_tail)
            ex->wait_tail->next = c;
        else
            ex->wait_head = c;
        ex->wait_tail = c;
        return;
    }
    const struct xgw_call *args = attempt_args(c);

    memset(c->costs, 0, sizeof c->costs);
    if (ex->rl.n && ex->plugin->cost)
        ex->plugin->cost(ex->self, c->cur_op, args, c->costs);
    struct xgw__rl_verdict v;
    if (xgw__rl_acquire(&ex->rl, c->costs, exch_ms(ex), &v) != XGW__RL_OK) {
        if (c->pin_ep < 0 && xgw__rl_should_wait(&v, ex->cfg->rate_limit_wait, ex->cfg->rate_limit_max_wait_ms)) {
            xgw__metric_add(&ex->metrics.rl_waits, 1);
            call_delay(c, v.wait_ms);
        } else {
            rl_refused(c, &v);
        }
        return;
    }

    c->admit = XGW__BRK_DENY;
    if (c->pin_ep >= 0 && (size_t)c->pin_ep < ex->n_eps) {
        c->ep = c->pin_ep; /* a probe of this endpoint: no breaker admission */
    } else {
        struct xgw__fo_choice ch;
        c->ep = xgw__failover_choose(&ex->fo, c->tried, c->prev, mono_ms(), &ch);
        if (c->ep < 0) {
            xgw__rl_refund(&ex->rl, c->costs, exch_ms(ex));
            xgw__set_errorf(&err, XGW_ERR_NETWORK, 0,
                            "every endpoint's circuit breaker is open (nothing was sent); next retry in %lld ms",
                            (long long)ch.retry_in_ms);
            err.flags |= XGW_ERRF_BREAKER_OPEN;
            for (size_t i = 0; i < ex->n_eps; i++)
                xgw__metric_add(&ex->eps[i].metrics.breaker_denied, 1);
            refuse_attempt(c, &err);
            return;
        }
        c->admit = ch.admit;
        if (ch.failover_from >= 0) {
            size_t from = (size_t)ch.failover_from;
            xgw__metric_add(&ex->metrics.failovers[from * ex->n_eps + (size_t)c->ep], 1);
            xgw__log(ex->cfg->name, XGW_LOG_INFO, "failover", "%s: %s goes to %s instead of %s",
                     xgw_op_name(c->cur_op), c->prev >= 0 ? "retry" : "request", ex->eps[c->ep].url,
                     ex->eps[from].url);
        }
    }

    struct xgw__xfer *x = xgw__http_xfer_get(ex->http);
    if (!x) {
        attempt_unwind(c);
        xgw__set_errorf(&err, XGW_ERR_INTERNAL, 0, "out of memory");
        fail_early(c, &err);
        return;
    }
    int rc = ex->plugin->build(ex->self, c->cur_op, args, &x->req, &err);
    if (rc != XGW_OK) {
        if (rc < 0 || rc >= XGW_ERR__COUNT)
            rc = XGW_ERR_PLUGIN;
        if ((int)err.kind != rc || !err.message[0])
            xgw__set_errorf(&err, (enum xgw_err_kind)rc, err.code, "%s: %s request could not be built",
                            ex->plugin->name, xgw_op_name(c->cur_op));
        xgw__http_xfer_put(ex->http, x);
        attempt_unwind(c);
        refuse_attempt(c, &err);
        return;
    }
    x->user = c;
    x->done = on_xfer_done;
    x->ep = &ex->eps[c->ep].metrics;
    x->timeout_ms = c->timeout_ms;
    /* Never let libcurl resend on its own: reads are retried by the pipeline,
     * freshly signed (a resent copy would reuse a single-use nonce). */
    x->send_once = true;
    if (xgw__http_send(ex->http, x, ex->eps[c->ep].url) != XGW_OK) {
        err = x->err;
        xgw__http_xfer_put(ex->http, x);
        attempt_unwind(c);
        fail_early(c, &err);
    }
}

static void pump_waiting(struct xgw_exchange *ex)
{
    while (ex->wait_head && xgw__http_active(ex->http) < ex->max_active) {
        struct xgw__call *c = ex->wait_head;
        ex->wait_head = c->next;
        if (!ex->wait_head)
            ex->wait_tail = NULL;
        c->next = NULL;
        attempt(c);
    }
}


/* The TIME call of a clock re-sync finished (its offset is already stored
 * in the instance's clock when it succeeded): send the request again. If
 * the re-sync failed, the request fails with CLOCK_SKEW again and the order
 * guard makes that answer final. */
static void on_clock_resynced(struct xgw__call *tc, const struct xgw_result *res, const struct xgw_error *err)
{
    struct xgw__call *c = tc->user;
    (void)res;
    if (err && err->kind == XGW_ERR_CANCELLED) {
        struct xgw_error e = {0};
        xgw__set_errorf(&e, XGW_ERR_CANCELLED, 0, "the gateway was closed during a clock re-sync");
        cancel_call(c, &e, false);
        return;
    }
    attempt(c);
}

static void finish_error(struct xgw__call *c, const struct xgw_error *e)
{
    struct xgw_error err = *e;
    snprintf(err.exchange, sizeof err.exchange, "%s", c->ex->cfg->name);
    if (!err.endpoint[0] && c->ep >= 0)
        snprintf(err.endpoint, sizeof err.endpoint, "%s", c->ex->eps[c->ep].url);
    call_complete(c, NULL, &err);
}

/* The gateway is closing under a call. A write that may have reached the
 * exchange (sent now, or earlier and being resolved) is not "cancelled":
 * its outcome is unknown, and the caller must be told so. */
static void cancel_call(struct xgw__call *c, struct xgw_error *err, bool sent_now)
{
    if (is_write(c->op) && (sent_now || c->og.phase == XGW__OG_PH_LOOKUP || c->og.last_sent_ms > 0)) {
        const char *cid = c->op == XGW_OP_PLACE ? c->args.order.client_id : c->args.client_id;
        xgw__set_errorf(err, XGW_ERR_UNKNOWN_OUTCOME, 0,
                        "%s outcome unknown: the gateway was closed before it was known; look the order up by "
                        "client id %s",
                        xgw_op_name(c->op), cid[0] ? cid : "(none)");
        err->flags |= XGW_ERRF_SENT;
    }
    finish_error(c, err);
}

/* The order guard decides what an outcome means for the call: its result,
 * its final error, or the next request (a retry, a lookup of the order by
 * client id, a resend with the same client id, a clock re-sync). */
static void next_step(struct xgw__call *c, const struct xgw__og_outcome *o, const struct xgw_result *res,
                      const struct xgw_error *err)
{
    struct xgw_exchange *ex = c->ex;
    struct xgw__og_step st = xgw__og_next(&c->og, o, exch_ms(ex));
    switch (st.action) {
    case XGW__OG_RETURN:
        if (o->kind == XGW_OK)
            call_complete(c, res, NULL);
        else
            finish_error(c, err);
        return;
    case XGW__OG_FAIL: {
        struct xgw_error e = c->last_err.kind != XGW_OK ? c->last_err : *err;
        char last[XGW_ERR_MSG_MAX];
        snprintf(last, sizeof last, "%s", err->message);
        const char *cid = c->op == XGW_OP_PLACE ? c->args.order.client_id : c->args.client_id;
        if (st.kind == XGW_ERR_UNKNOWN_OUTCOME)
            xgw__set_errorf(&e, XGW_ERR_UNKNOWN_OUTCOME, 0,
                            "%s outcome unknown: looking the order up by client id %s failed %u times (last: %s)",
                            xgw_op_name(c->op), cid[0] ? cid : "(none)", c->og.lookup_failures, last);
        else if (st.flags & XGW_ERRF_ORDER_NOT_FOUND)
            xgw__set_errorf(&e, (enum xgw_err_kind)st.kind, e.code,
                            "%s failed and the exchange confirms no order with client id %s exists: %s",
                            xgw_op_name(c->op), cid, c->last_err.message[0] ? c->last_err.message : last);
        e.kind = (enum xgw_err_kind)st.kind;
        e.flags |= st.flags;
        finish_error(c, &e);
        return;
    }
    case XGW__OG_RESYNC: {
        xgw__log(ex->cfg->name, XGW_LOG_WARN, "clock_resync", "%s refused for its timestamp; re-syncing the clock",
                 xgw_op_name(c->cur_op));
        xgw__metric_add(&ex->metrics.clock_resyncs, 1);
        struct xgw_call none = {0};
        if (xgw__call_internal(ex, XGW_OP_TIME, &none, on_clock_resynced, c) != XGW_OK)
            finish_error(c, err);
        return;
    }
    case XGW__OG_RETRY:
        xgw__metric_add(&ex->metrics.retries, 1);
        c->cur_op = c->op;
        break;
    case XGW__OG_RESEND:
        xgw__metric_add(&ex->metrics.order_resends, 1);
        xgw__log(ex->cfg->name, XGW_LOG_WARN, "order_resend",
                 "%s with client id %s: the exchange proved it absent; sending it again with the same id",
                 xgw_op_name(c->op), c->op == XGW_OP_PLACE ? c->args.order.client_id : c->args.client_id);
        c->cur_op = c->op;
        break;
    case XGW__OG_LOOKUP: {
        xgw__metric_add(&ex->metrics.order_lookups, 1);
        struct xgw_call *l = &c->lookup;
        memset(l, 0, sizeof *l);
        if (c->op == XGW_OP_PLACE) {
            snprintf(l->symbol, sizeof l->symbol, "%s", c->args.order.symbol);
            snprintf(l->client_id, sizeof l->client_id, "%s", c->args.order.client_id);
        } else {
            snprintf(l->symbol, sizeof l->symbol, "%s", c->args.symbol);
            snprintf(l->client_id, sizeof l->client_id, "%s", c->args.client_id);
            snprintf(l->order_id, sizeof l->order_id, "%s", c->args.order_id);
        }
        if (c->og.lookups == 1)
            xgw__log(ex->cfg->name, XGW_LOG_WARN, "order_lookup", "%s outcome unknown (%s); looking the order up",
                     xgw_op_name(c->op), err ? err->message : "");
        c->cur_op = XGW_OP_GET_ORDER;
        break;
    }
    }
    if (st.failover && c->ep >= 0 && c->ep < XGW__FO_MAX_EPS)
        c->tried |= UINT64_C(1) << c->ep;
    if (c->ep >= 0)
        c->prev = c->ep;
    int64_t delay = st.delay_ms;
    if (st.backoff) {
        int64_t b = xgw__backoff_delay(ex->cfg->retry_backoff_ms, ex->cfg->retry_backoff_max_ms, c->backoffs++,
                                       xgw__splitmix64(&ex->rng), 0);
        if (b > delay)
            delay = b;
    }
    call_delay(c, delay);
}

/* Where the answer fits into struct xgw_result; PROTOCOL when the plugin
 * said OK but emitted nothing usable for the op. */
static int fill_result(struct xgw__call *c, struct xgw__xfer *x, struct xgw_result *r, struct xgw_error *err)
{
    struct xgw_exchange *ex = c->ex;
    struct xgw_sink *s = x->sink;
    memset(r, 0, sizeof *r);
    r->op = c->op;
    r->exchange = ex->cfg->name;
    r->endpoint = ex->eps[c->ep].url;
    r->markets = s->markets;
    r->n_markets = s->n_markets;
    r->balances = s->balances;
    r->n_balances = s->n_balances;
    r->positions = s->positions;
    r->n_positions = s->n_positions;
    r->orders = s->orders;
    r->n_orders = s->n_orders;
    r->token = s->token;
    if (s->level_without_book)
        return xgw__set_errorf(err, XGW_ERR_PLUGIN, 0, "plugin %s emitted book levels without a book",
                               ex->plugin->name);
    switch (c->op) {
    case XGW_OP_TIME: {
        if (!s->has_time)
            break;
        r->server_time_ms = s->time_ms;
        int64_t mid_us;
        /* Between the request leaving (on a ready connection) and the first
         * answer byte: connect, TLS and queueing do not skew the offset. */
        if (x->sent_wall_us > 0 && x->first_byte_wall_us >= x->sent_wall_us)
            mid_us = (x->sent_wall_us + x->first_byte_wall_us) / 2;
        else
            mid_us = (x->start_wall_us + x->end_wall_us) / 2;
        r->local_offset_ms = s->time_ms - mid_us / 1000;
        atomic_store(&ex->ctx->clock_offset_ms, r->local_offset_ms);
        return XGW_OK;
    }
    case XGW_OP_MARKETS:
        if (xgw__inst_ctx_set_markets(ex->ctx, s->markets, s->n_markets, xgw__wall_ms()) != XGW_OK)
            return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
        xgw__metric_add(&ex->metrics.markets_loads, 1);
        return XGW_OK;
    case XGW_OP_TICKER:
        if (s->n_tickers == 0)
            break;
        r->ticker = s->tickers[0];
        if (c->has_partial) {
            /* Earlier steps' fields win; this step fills what they lacked. */
            struct xgw_ticker t = c->partial;
            xgw_dec *const mine[] = {&t.bid, &t.bid_qty, &t.ask, &t.ask_qty, &t.last};
            const xgw_dec *const more[] = {&r->ticker.bid, &r->ticker.bid_qty, &r->ticker.ask, &r->ticker.ask_qty,
                                           &r->ticker.last};
            for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
                if (xgw_dec_is_none(*mine[i]))
                    *mine[i] = *more[i];
            if (r->ticker.ts_ms > t.ts_ms)
                t.ts_ms = r->ticker.ts_ms;
            r->ticker = t;
        }
        return XGW_OK;
    case XGW_OP_DEPTH:
        if (s->n_books == 0)
            break;
        r->book = s->books[0].info;
        r->bids = s->bids + s->books[0].bid0;
        r->n_bids = s->books[0].n_bids;
        r->asks = s->asks + s->books[0].ask0;
        r->n_asks = s->books[0].n_asks;
        return XGW_OK;
    case XGW_OP_PLACE:
    case XGW_OP_CANCEL:
    case XGW_OP_GET_ORDER:
        if (s->n_orders == 0)
            break;
        return XGW_OK;
    case XGW_OP_WS_TOKEN:
        if (!s->token)
            break;
        return XGW_OK;
    default:
        return XGW_OK;
    }
    return xgw__set_errorf(err, XGW_ERR_PROTOCOL, 0, "the %s answer from %s carried no %s record",
                           ex->plugin->name, r->endpoint, xgw_op_name(c->op));
}

/* What an answer says about the rate limits: the exchange's own usage
 * counters correct ours, a 429 stops the instance until Retry-After, a 418
 * stops it until the ban ends. */
static void rl_after_answer(struct xgw_exchange *ex, const struct xgw__xfer *x, int kind,
                            const struct xgw_error *err)
{
    int64_t now = exch_ms(ex);
    const struct xgw_sink *s = x->sink;
    for (size_t i = 0; i < s->n_usage; i++)
        if (s->usage[i].bucket < ex->rl.n)
            xgw__rl_observe(&ex->rl, s->usage[i].bucket, s->usage[i].used, now);
    if (x->kind != XGW_OK)
        return; /* no answer: nothing the exchange said */
    if (kind == XGW_ERR_RATE_LIMITED) {
        /* The exchange does not say which of its counters overflowed in a
         * way every plugin can read, so every bucket waits: being slow for
         * Retry-After costs less than the ban that ignoring it earns. */
        int64_t until = err->retry_after_ms > 0 ? now + err->retry_after_ms : 0;
        xgw__rl_block(&ex->rl, XGW__RL_ALL, until, now);
        xgw__metric_add(&ex->metrics.rl_429, 1);
        xgw__log(ex->cfg->name, XGW_LOG_WARN, "rate_limited",
                 "HTTP %d from the exchange: no request of this instance is sent for %lld ms", x->resp.status,
                 (long long)(err->retry_after_ms > 0 ? err->retry_after_ms : 0));
    } else if (kind == XGW_ERR_BANNED) {
        int64_t until = err->until_ms > now ? err->until_ms : err->retry_after_ms > 0 ? now + err->retry_after_ms : 0;
        xgw__rl_ban(&ex->rl, until, now);
        pthread_mutex_lock(&ex->status_mu);
        ex->banned_until_ms = ex->rl.banned_until_ms;
        pthread_mutex_unlock(&ex->status_mu);
        xgw__metric_add(&ex->metrics.rl_bans, 1);
        atomic_store_explicit(&ex->metrics.banned_until_ms, ex->rl.banned_until_ms, memory_order_relaxed);
        xgw__log(ex->cfg->name, XGW_LOG_ERROR, "banned",
                 "THE EXCHANGE BANNED THIS INSTANCE until %lld (unix ms, in %lld s); all its traffic is stopped",
                 (long long)ex->rl.banned_until_ms, (long long)((ex->rl.banned_until_ms - now) / 1000));
    }
    for (size_t b = 0; b < ex->rl.n && b < XGW__MAX_BUCKETS; b++)
        atomic_store_explicit(&ex->metrics.rl_used[b], (int64_t)xgw__rl_used(&ex->rl, b, now),
                              memory_order_relaxed);
}

static void on_xfer_done(struct xgw__xfer *x)
{
    struct xgw__call *c = x->user;
    struct xgw_exchange *ex = c->ex;
    size_t ei = (size_t)c->ep;
    struct xgw__endpoint *ep = &ex->eps[ei];
    struct xgw_error err = {0};
    int kind;
    int status = x->resp.status;

    if (x->kind != XGW_OK) {
        err = x->err;
        kind = x->kind;
        /* An order request that left the process and got no answer may
         * have been executed: the caller must not assume either way. */
        if (is_write(c->cur_op) && (err.flags & XGW_ERRF_SENT) &&
            (kind == XGW_ERR_TIMEOUT || kind == XGW_ERR_NETWORK)) {
            char msg[XGW_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err.message);
            kind = xgw__set_errorf(&err, XGW_ERR_UNKNOWN_OUTCOME, 0, "%s outcome unknown: %s",
                                   xgw_op_name(c->cur_op), msg);
            err.flags |= XGW_ERRF_SENT;
        }
    } else {
        kind = ex->plugin->parse(ex->self, c->cur_op, attempt_args(c), &x->resp, x->sink, &err);
        if (kind < 0 || kind >= XGW_ERR__COUNT) {
            kind = xgw__set_errorf(&err, XGW_ERR_PLUGIN, 0, "plugin %s returned an invalid error kind",
                                   ex->plugin->name);
        } else if (kind != XGW_OK) {
            if ((int)err.kind != kind || !err.message[0])
                xgw__set_errorf(&err, (enum xgw_err_kind)kind, err.code, "HTTP %d from %s", status, ep->url);
        }
        err.http_status = status;
        err.flags |= XGW_ERRF_SENT; /* it was answered, so it arrived */
    }
    if (kind != XGW_OK && kind != XGW_ERR_CANCELLED) {
        snprintf(err.exchange, sizeof err.exchange, "%s", ex->cfg->name);
        snprintf(err.endpoint, sizeof err.endpoint, "%s", ep->url);
    }
    c->latency_us = x->t_end_us - x->t_start_us;

    struct xgw_result res;
    if (kind == XGW_OK)
        kind = fill_result(c, x, &res, &err);
    if (kind == XGW_ERR_CANCELLED) {
        if (c->admit != XGW__BRK_DENY)
            xgw__failover_cancel(&ex->fo, ei, c->admit);
        c->admit = XGW__BRK_DENY;
        err.kind = XGW_ERR_CANCELLED;
        cancel_call(c, &err, (err.flags & XGW_ERRF_SENT) != 0);
        xgw__http_xfer_put(ex->http, x);
        return;
    }
    err.kind = (enum xgw_err_kind)kind;
    xgw__metrics_request(&ep->metrics, c->cur_op, kind, c->latency_us);
    bool fault = xgw__endpoint_fault(kind, status);
    if (fault)
        xgw__logx(ex->cfg->name, ep->url, XGW_LOG_DEBUG, "endpoint_fault", NULL, 0, "%s: %s: %s",
                  xgw_op_name(c->cur_op), xgw_err_kind_name(kind), err.message);
    if (c->admit != XGW__BRK_DENY) {
        xgw__failover_record(&ex->fo, ei, c->admit, fault, mono_ms());
        c->admit = XGW__BRK_DENY;
        status_sync(ex, ei, fault ? err.message : NULL);
    }
    rl_after_answer(ex, x, kind, &err);

    if (kind == XGW_OK && c->cur_op == c->op && c->args.step + 1 < c->n_steps) {
        /* The next request of a multi-request op, at once, to the same
         * endpoint when it still admits. */
        if (c->op == XGW_OP_TICKER) {
            c->partial = res.ticker;
            c->has_partial = true;
        }
        c->args.step++;
        c->prev = c->ep;
        xgw__http_xfer_put(ex->http, x);
        attempt(c);
        if (!ex_closing(ex))
            pump_waiting(ex);
        return;
    }
    if (c->og.phase == XGW__OG_PH_SEND && kind != XGW_OK)
        c->last_err = err;
    int64_t sent_us = x->sent_wall_us > 0 ? x->sent_wall_us : x->start_wall_us;
    struct xgw__og_outcome o = {
        .kind = kind,
        .flags = err.flags,
        .http_status = status,
        .retry_after_ms = kind != XGW_OK ? err.retry_after_ms : 0,
        .sent_ms = (err.flags & XGW_ERRF_SENT) ? sent_us / 1000 + atomic_load(&ex->ctx->clock_offset_ms) : 0,
        .status = kind == XGW_OK && x->sink->n_orders ? x->sink->orders[0].status : XGW_OS_UNKNOWN,
    };
    /* The sink and response stay valid until the transfer is put back: the
     * result points into them during the callback. */
    next_step(c, &o, kind == XGW_OK ? &res : NULL, &err);
    xgw__http_xfer_put(ex->http, x);
    if (!ex_closing(ex))
        pump_waiting(ex);
}

/* Loop-thread entry of a submitted call. */
static void call_run(struct xgw__task *t)
{
    struct xgw__call *c = (struct xgw__call *)t;
    if (ex_closing(c->ex)) {
        fail_call(c, XGW_ERR_CANCELLED, "the gateway was closed before the call started");
        return;
    }
    pipeline_start(c);
}

static int call_internal(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *args, int ep_index,
                         int timeout_ms, xgw__internal_done_fn done, void *user)
{
    struct xgw__call *c = call_alloc(ex);
    if (!c)
        return XGW_ERR_INTERNAL;
    c->pin_ep = ep_index;
    c->timeout_ms = timeout_ms;
    c->op = op;
    c->args = *args;
    c->internal = done;
    c->user = user;
    pipeline_start(c);
    return XGW_OK;
}

int xgw__call_internal(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *args,
                       xgw__internal_done_fn done, void *user)
{
    return call_internal(ex, op, args, -1, 0, done, user);
}

int xgw__call_internal_at(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *args, int ep_index,
                          xgw__internal_done_fn done, void *user)
{
    return call_internal(ex, op, args, ep_index, 0, done, user);
}

/* ------------------------------------------------------------------------ */
/* Active health checks                                                      */
/* ------------------------------------------------------------------------ */

static void on_health_timer(uv_timer_t *t);

/* Wake at the earliest due check of an endpoint with no check in flight. */
static void health_arm(struct xgw_exchange *ex)
{
    if (!ex->timers_on || ex_closing(ex))
        return;
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < ex->n_eps; i++)
        if (!ex->checking[i] && ex->fo.ep[i].health.next_check_ms < next)
            next = ex->fo.ep[i].health.next_check_ms;
    if (next == INT64_MAX) {
        uv_timer_stop(&ex->health_timer);
        return;
    }
    int64_t wait = next - mono_ms();
    uv_timer_start(&ex->health_timer, on_health_timer, wait > 0 ? (uint64_t)wait : 0, 0);
}

/* A check is the plugin's ping sent to one endpoint (no breaker, no retry)
 * within health_timeout_s. Any answer that is not the endpoint's fault - a
 * 4xx, a rate-limit refusal from the exchange - proves it serves. */
static void on_check_done(struct xgw__call *hc, const struct xgw_result *res, const struct xgw_error *err)
{
    (void)res;
    struct xgw_exchange *ex = hc->ex;
    size_t i = (size_t)hc->pin_ep;
    ex->checking[i] = false;
    if (err && err->kind == XGW_ERR_CANCELLED)
        return;
    struct xgw__ep_health *h = &ex->fo.ep[i].health;
    int64_t now = mono_ms();
    /* Refused here (rate limiter, ban) before anything was sent: not a check. */
    bool sent = !err || (err->flags & XGW_ERRF_SENT) || hc->latency_us >= 0;
    if (sent) {
        bool ok = !err || !xgw__endpoint_fault(err->kind, err->http_status);
        struct xgw__ep_metrics *m = &ex->eps[i].metrics;
        xgw__metric_add(&m->health_checks, 1);
        if (!ok)
            xgw__metric_add(&m->health_failures, 1);
        else
            atomic_store_explicit(&m->health_latency_us, hc->latency_us, memory_order_relaxed);
        if (xgw__health_record(h, now, ok, hc->latency_us, ok ? NULL : err->message)) {
            if (h->state == XGW__HEALTH_UNHEALTHY)
                xgw__logx(ex->cfg->name, ex->eps[i].url, XGW_LOG_WARN, "endpoint_unhealthy", NULL, 0,
                          "%u health checks failed in a row (%s)", h->consecutive_failures, err ? err->message : "");
            else
                xgw__logx(ex->cfg->name, ex->eps[i].url, XGW_LOG_INFO, "endpoint_healthy", NULL, 0,
                          "healthy (check took %lld us)", (long long)hc->latency_us);
        }
        status_sync(ex, i, ok ? NULL : err->message);
    }
    xgw__health_schedule(h, now, xgw__splitmix64(&ex->rng));
    health_arm(ex);
}

static void start_check(struct xgw_exchange *ex, size_t i)
{
    struct xgw_call none = {0};
    ex->checking[i] = true;
    if (call_internal(ex, XGW_OP_PING, &none, (int)i, ex->cfg->health_timeout_s * 1000, on_check_done, NULL) !=
        XGW_OK) {
        ex->checking[i] = false;
        xgw__health_schedule(&ex->fo.ep[i].health, mono_ms(), xgw__splitmix64(&ex->rng));
    }
}

static void on_health_timer(uv_timer_t *t)
{
    struct xgw_exchange *ex = t->data;
    if (ex_closing(ex))
        return;
    int64_t now = mono_ms();
    for (size_t i = 0; i < ex->n_eps; i++)
        if (!ex->checking[i] && xgw__health_due(&ex->fo.ep[i].health, now))
            start_check(ex, i);
    health_arm(ex);
}

/* ------------------------------------------------------------------------ */
/* Public calls                                                              */
/* ------------------------------------------------------------------------ */

/* A public call, checked, copied and counted, not yet started: *out is
 * then run by the loop (submitted, or run at once by a caller that drives).
 * Returns 0 or the kind xgw_call refuses with. Any thread. */
static int call_new(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *call, xgw_done_fn done,
                    void *user, struct xgw__call **out)
{
    if (!ex || !done || (unsigned)op >= XGW_OP__COUNT)
        return XGW_ERR_INVALID_REQUEST;
    struct xgw_gateway *gw = ex->gw;
    if (gw->no_network || atomic_load(&gw->closing)) {
        xgw__metric_add(&gw->metrics.calls_refused, 1);
        return gw->no_network ? XGW_ERR_UNSUPPORTED : XGW_ERR_CANCELLED;
    }
    struct xgw__call *c = call_alloc(ex);
    if (!c) {
        xgw__metric_add(&gw->metrics.calls_refused, 1);
        return XGW_ERR_INTERNAL;
    }
    c->op = op;
    if (call)
        c->args = *call;
    else
        memset(&c->args, 0, sizeof c->args);
    /* Caller strings may lack their NUL: never read past the arrays. */
    c->args.symbol[sizeof c->args.symbol - 1] = '\0';
    c->args.order.symbol[sizeof c->args.order.symbol - 1] = '\0';
    c->args.order.client_id[sizeof c->args.order.client_id - 1] = '\0';
    c->args.order_id[sizeof c->args.order_id - 1] = '\0';
    c->args.client_id[sizeof c->args.client_id - 1] = '\0';
    c->args.token[sizeof c->args.token - 1] = '\0';
    c->done = done;
    c->user = user;
    c->task.run = call_run;
    atomic_fetch_add_explicit(&ex->metrics.inflight, 1, memory_order_relaxed);
    xgw__metric_add(&gw->metrics.calls_submitted, 1);
    *out = c;
    return XGW_OK;
}

/* Queue a call from call_new for the loop. */
static int call_submit(struct xgw__call *c)
{
    struct xgw_exchange *ex = c->ex;
    int rc = xgw__loop_submit(&ex->gw->loop, &c->task);
    if (rc != XGW_OK) {
        atomic_fetch_sub_explicit(&ex->metrics.inflight, 1, memory_order_relaxed);
        xgw__metric_add(&ex->gw->metrics.calls_refused, 1);
        call_release(c);
    }
    return rc;
}

int xgw_call(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *call, xgw_done_fn done, void *user)
{
    struct xgw__call *c = NULL;
    int rc = call_new(ex, op, call, done, user, &c);
    return rc != XGW_OK ? rc : call_submit(c);
}

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

struct xgw_result *xgw__result_clone(const struct xgw_result *r)
{
    size_t ex_len = r->exchange ? strlen(r->exchange) + 1 : 0;
    size_t ep_len = r->endpoint ? strlen(r->endpoint) + 1 : 0;
    size_t tok_len = r->token ? strlen(r->token) + 1 : 0;
    size_t total = ALIGN8(sizeof *r);
    total += ALIGN8(r->n_markets * sizeof *r->markets);
    total += ALIGN8(r->n_bids * sizeof *r->bids);
    total += ALIGN8(r->n_asks * sizeof *r->asks);
    total += ALIGN8(r->n_balances * sizeof *r->balances);
    total += ALIGN8(r->n_positions * sizeof *r->positions);
    total += ALIGN8(r->n_orders * sizeof *r->orders);
    total += ex_len + ep_len + tok_len;
    char *block = malloc(total);
    if (!block)
        return NULL;
    struct xgw_result *o = (struct xgw_result *)(void *)block;
    *o = *r;
    size_t off = ALIGN8(sizeof *r);
#define COPY_ARR(field, n)                                                    \
    do {                                                                      \
        if ((n) && r->field) {                                                \
            memcpy(block + off, r->field, (n) * sizeof *r->field);            \
            o->field = (const void *)(block + off);                           \
            off += ALIGN8((n) * sizeof *r->field);                            \
        } else {                                                              \
            o->field = NULL;                                                  \
        }                                                                     \
    } while (0)
    COPY_ARR(markets, r->n_markets);
    COPY_ARR(bids, r->n_bids);
    COPY_ARR(asks, r->n_asks);
    COPY_ARR(balances, r->n_balances);
    COPY_ARR(positions, r->n_positions);
    COPY_ARR(orders, r->n_orders);
#undef COPY_ARR
    char *p = block + off;
    if (ex_len) {
        memcpy(p, r->exchange, ex_len);
        o->exchange = p;
        p += ex_len;
    }
    if (ep_len) {
        memcpy(p, r->endpoint, ep_len);
        o->endpoint = p;
        p += ep_len;
    }
    if (tok_len) {
        memcpy(p, r->token, tok_len);
        o->token = p;
    }
    return o;
}

void xgw_result_free(struct xgw_result *res) { free(res); }

struct sync_wait {
    struct xgw__loop *loop;
    bool done;
    int kind;
    struct xgw_error *err;
    struct xgw_result *res;
};

static void sync_done(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    struct sync_wait *w = user;
    if (res) {
        w->res = xgw__result_clone(res);
        w->kind = w->res ? XGW_OK : XGW_ERR_INTERNAL;
        if (!w->res && w->err)
            xgw__set_errorf(w->err, XGW_ERR_INTERNAL, 0, "out of memory copying the result");
    } else {
        w->kind = err->kind;
        if (w->err)
            *w->err = *err;
    }
    xgw__loop_set_done(w->loop, &w->done);
}

int xgw_call_sync(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *call, struct xgw_result **out,
                  struct xgw_error *err)
{
    if (out)
        *out = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    if (!ex || !out)
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "xgw_call_sync needs an exchange and a result pointer");
    struct xgw_gateway *gw = ex->gw;
    if (xgw__loop_on_loop_thread(&gw->loop))
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0,
                               "xgw_call_sync was called from a callback; use xgw_call there");
    struct sync_wait w = {.loop = &gw->loop, .err = err};
    struct xgw__call *c = NULL;
    int rc = call_new(ex, op, call, sync_done, &w, &c);
    /* Drive the loop on this thread for the call when possible (borrowing
     * it from the I/O thread, see core/loop.h): the call then starts here,
     * without the queue's wake-up, and its answer is read here, so it costs
     * no hand-off between threads. Otherwise whoever drives runs it. */
    if (rc == XGW_OK) {
        if (xgw__loop_enter_sync(&gw->loop))
            call_run(&c->task);
        else
            rc = call_submit(c);
    }
    if (rc != XGW_OK) {
        xgw__set_errorf(err, (enum xgw_err_kind)rc, 0, "the call could not be queued (%s)",
                        rc == XGW_ERR_UNSUPPORTED ? "gateway opened without network" : "gateway closing");
        if (err)
            snprintf(err->exchange, sizeof err->exchange, "%s", ex->cfg->name);
        return rc;
    }
    xgw__loop_wait(&gw->loop, &w.done);
    *out = w.res;
    return w.kind;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                   */
/* ------------------------------------------------------------------------ */

/* The plugin called name: already loaded, built in, or loaded now from
 * plugin_dir (a reload may name a new directory). */
const struct xgw_plugin *xgw__gw_plugin(struct xgw_gateway *gw, const char *plugin_dir, const char *name,
                                           struct xgw_error *err)
{
    for (size_t i = 0; i < gw->n_plugins; i++)
        if (!strcmp(gw->plugins[i].name, name))
            return gw->plugins[i].desc;
    struct xgw__plugin_ref ref = {0};
    ref.desc = find_builtin(name);
    if (!ref.desc) {
        if (xgw__plugin_load(plugin_dir, name, &ref.loaded, err) != XGW_OK)
            return NULL;
        ref.desc = ref.loaded->desc;
    }
    ref.name = strdup(name);
    struct xgw__plugin_ref *p = realloc(gw->plugins, (gw->n_plugins + 1) * sizeof *p);
    if (!ref.name || !p) {
        free(ref.name);
        if (p)
            gw->plugins = p;
        if (ref.loaded)
            xgw__plugin_unload(ref.loaded);
        xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
        return NULL;
    }
    gw->plugins = p;
    gw->plugins[gw->n_plugins++] = ref;
    return ref.desc;
}

static const struct xgw_network *find_network(const struct xgw_plugin *p, const char *name)
{
    for (size_t i = 0; i < p->n_networks; i++)
        if (name && p->networks[i].name && !strcmp(p->networks[i].name, name))
            return &p->networks[i];
    return p->n_networks ? &p->networks[0] : NULL;
}

static void on_pool_idle(void *arg);

/* The plugin's buckets, with the limits of `rate_limits = name=N, ...`. */
static int apply_rate_limits(struct xgw_exchange *ex, struct xgw_error *err)
{
    const struct xgw__inst_cfg *ic = ex->cfg;
    size_t n = ex->plugin->n_buckets;
    ex->buckets = calloc(n ? n : 1, sizeof *ex->buckets);
    if (!ex->buckets)
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    if (n)
        memcpy(ex->buckets, ex->plugin->buckets, n * sizeof *ex->buckets);
    for (const char *p = ic->rate_limits; p && *p;) {
        p += strspn(p, " \t,");
        if (!*p)
            break;
        size_t len = strcspn(p, ",");
        char item[128];
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        p += len;
        char *eq = strchr(item, '=');
        char *end = NULL;
        unsigned long long limit = 0;
        if (eq) {
            *eq = '\0';
            limit = strtoull(eq + 1, &end, 10);
        }
        for (char *t = item + strlen(item); t > item && (t[-1] == ' ' || t[-1] == '\t');)
            *--t = '\0';
        while (end && (*end == ' ' || *end == '\t'))
            end++;
        size_t b = 0;
        while (b < n && strcmp(ex->buckets[b].name, item) != 0)
            b++;
        if (!eq || !end || *end || limit == 0 || b == n) {
            char names[256] = "";
            for (size_t i = 0; i < n; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                         ex->buckets[i].name);
            return xgw__set_errorf(err, XGW_ERR_CONFIG, 0,
                                   "%s:%d: rate_limits: \"%s\" is not bucket=limit with a bucket of plugin %s (%s) "
                                   "and a limit > 0",
                                   ex->gw->cfg->path, xgw__config_line(ic, "rate_limits"), item, ex->plugin->name,
                                   n ? names : "it declares none");
        }
        ex->buckets[b].limit = limit;
    }
    return XGW_OK;
}

/* Breakers, health records and failover of the endpoints, the rate
 * limiter of the plugin's buckets, and the copies readers see. */
static int resilience_init(struct xgw_exchange *ex, struct xgw_error *err)
{
    const struct xgw__inst_cfg *ic = ex->cfg;
    if (ex->n_eps > XGW__FO_MAX_EPS)
        return xgw__set_errorf(err, XGW_ERR_CONFIG, 0, "instance %s has %zu REST endpoints; at most %d are supported",
                               ic->name, ex->n_eps, XGW__FO_MAX_EPS);
    if (ex->plugin->n_buckets > XGW__MAX_BUCKETS)
        return xgw__set_errorf(err, XGW_ERR_PLUGIN, 0, "plugin %s declares %zu rate-limit buckets; at most %d are supported",
                               ex->plugin->name, ex->plugin->n_buckets, XGW__MAX_BUCKETS);
    struct xgw__fo_cfg fc = {
        .breaker_failures = (unsigned)ic->breaker_failures,
        .breaker_recovery_ms = (int64_t)ic->breaker_recovery_s * 1000,
        .breaker_recovery_max_ms = (int64_t)ic->breaker_recovery_max_s * 1000,
        .health_max_failures = (unsigned)ic->health_max_failures,
        .health_interval_ms = (int64_t)ic->health_interval_s * 1000,
    };
    if (ex->n_eps && xgw__failover_init(&ex->fo, ex->n_eps, &fc) != XGW_OK)
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    for (size_t i = 0; i < ex->fo.n; i++)
        xgw__breaker_set_listener(&ex->fo.ep[i].breaker, on_breaker_change, ex);
    int rc = apply_rate_limits(ex, err);
    if (rc != XGW_OK)
        return rc;
    if (xgw__rl_init(&ex->rl, ex->buckets, ex->plugin->n_buckets, ic->rate_limit_margin_pct, NULL) != XGW_OK)
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    ex->metrics.n_buckets = ex->rl.n;
    for (size_t b = 0; b < ex->rl.n; b++) {
        ex->metrics.bucket_name[b] = ex->rl.b[b].name;
        ex->metrics.bucket_capacity[b] = ex->rl.b[b].capacity;
    }
    ex->metrics.failovers = calloc(ex->n_eps ? ex->n_eps * ex->n_eps : 1, sizeof *ex->metrics.failovers);
    ex->metrics.n_fo = ex->n_eps;
    ex->status = calloc(ex->n_eps ? ex->n_eps : 1, sizeof *ex->status);
    ex->checking = calloc(ex->n_eps ? ex->n_eps : 1, sizeof *ex->checking);
    if (!ex->status || !ex->checking || !ex->metrics.failovers)
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    for (size_t i = 0; i < ex->n_eps; i++)
        ex->status[i].last_latency_us = -1;
    /* Jitter only; a per-instance seed keeps many gateways from retrying in step. */
    if (xgw__random_bytes(&ex->rng, sizeof ex->rng) != XGW_OK)
        ex->rng = (uint64_t)xgw__mono_us() ^ (uint64_t)(uintptr_t)ex;
    return XGW_OK;
}

int xgw__exchange_init(struct xgw_gateway *gw, struct xgw_exchange *ex, struct xgw__inst_cfg *ic,
                         struct xgw_error *err)
{
    ex->gw = gw;
    ex->cfg = ic;
    pthread_mutex_init(&ex->free_mu, NULL);
    pthread_mutex_init(&ex->status_mu, NULL);
    ex->plugin = xgw__gw_plugin(gw, gw->cfg->plugin_dir, ic->plugin, err);
    if (!ex->plugin)
        return err ? err->kind : XGW_ERR_PLUGIN;
    if (xgw__config_bind_plugin(gw->cfg, ic, ex->plugin, err) != XGW_OK)
        return XGW_ERR_CONFIG;
    const struct xgw_network *net = find_network(ex->plugin, ic->network);
    ex->network = ic->network ? ic->network : net ? net->name : "";

    const char *const *rest = (const char *const *)ic->rest_endpoints;
    size_t n_rest = ic->n_rest;
    if (!rest || !n_rest) {
        rest = net ? net->rest : NULL;
        n_rest = net ? net->n_rest : 0;
    }
    if (ic->ws_endpoints && ic->n_ws) {
        ex->ws_urls = (const char *const *)ic->ws_endpoints;
        ex->n_ws = ic->n_ws;
    } else if (net) {
        ex->ws_urls = net->ws;
        ex->n_ws = net->n_ws;
    }
    xgw__ep_metrics_init(&ex->none_metrics, ic->name, "none");
    ex->none_metrics.pseudo = true;
    ex->eps = calloc(n_rest ? n_rest : 1, sizeof *ex->eps);
    ex->rest_urls = calloc(n_rest ? n_rest : 1, sizeof *ex->rest_urls);
    if (!ex->eps || !ex->rest_urls)
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    for (size_t i = 0; i < n_rest; i++) {
        size_t len = strlen(rest[i]);
        while (len > 0 && rest[i][len - 1] == '/')
            len--;
        if (!(ex->eps[i].url = strndup(rest[i], len)))
            return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
        ex->n_eps++;
        xgw__ep_metrics_init(&ex->eps[i].metrics, ic->name, ex->eps[i].url);
        ex->rest_urls[i] = ex->eps[i].url;
    }

    int rc = resilience_init(ex, err);
    if (rc != XGW_OK)
        return rc;

    if (!(ex->ctx = xgw__inst_ctx_new(ic)))
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    struct xgw_error perr = {0};
    ex->self = ex->plugin->create(xgw__core_api(), ex->ctx, &perr);
    if (!ex->self) {
        if (err) {
            *err = perr;
            if (!perr.kind)
                xgw__set_errorf(err, XGW_ERR_PLUGIN, 0, "plugin %s refused to create instance %s",
                                ex->plugin->name, ic->name);
            snprintf(err->exchange, sizeof err->exchange, "%s", ic->name);
        }
        return perr.kind ? (int)perr.kind : XGW_ERR_PLUGIN;
    }

    if (!gw->no_network) {
        struct xgw__http_cfg hc = {
            .instance = ic->name,
            .pool_max = ic->pool_max,
            .n_hosts = ex->n_eps,
            .idle_timeout_s = ic->idle_timeout_s,
            .connect_timeout_ms = ic->connect_timeout_ms,
            .request_timeout_ms = ic->request_timeout_ms,
            .http2 = ic->http2,
            .max_response_bytes = ic->max_response_bytes,
            .ca_file = ic->ca_file,
            .on_idle = on_pool_idle,
            .on_idle_arg = ex,
        };
        rc = xgw__http_new(&gw->loop.uv, &hc, &ex->http, err);
        if (rc != XGW_OK) {
            if (err)
                snprintf(err->exchange, sizeof err->exchange, "%s", ic->name);
            return rc;
        }
        uv_timer_init(&gw->loop.uv, &ex->delay_timer);
        uv_timer_init(&gw->loop.uv, &ex->health_timer);
        ex->delay_timer.data = ex->health_timer.data = ex;
        ex->timers_on = true;
        /* No more transfers in libcurl than the pool can carry at once
         * (HTTP/1.1: one per connection; HTTP/2: many streams each). A
         * transfer libcurl queues for a free connection runs its connect
         * timeout while it waits, so a burst larger than the pool would time
         * out in the queue and count against a healthy endpoint's breaker;
         * the rest wait here, in order, with no timer running. */
        size_t per_conn = ic->http2 ? 64 : 1;
        ex->max_active = (size_t)(ic->pool_max > 0 ? ic->pool_max : 1) * per_conn;
    }
    return XGW_OK;
}

struct xgw_gateway *xgw_open(const char *config_path, const struct xgw_open_opts *opts, struct xgw_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "libcurl could not be initialised");
        return NULL;
    }
    struct xgw_gateway *gw = calloc(1, sizeof *gw);
    if (!gw) {
        xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
        return NULL;
    }
    gw->no_network = opts && opts->no_network;
    gw->metrics.started_ms = xgw__wall_ms();
    atomic_init(&gw->closing, false);
    if (xgw__loop_init(&gw->loop) != XGW_OK) {
        free(gw);
        xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "the event loop could not be created");
        return NULL;
    }
    int rc = xgw__config_load(config_path, opts ? opts->plugin_dir : NULL, &gw->cfg, err);
    if (rc == XGW_OK) {
        xgw__log_configure(gw->cfg->log_level, gw->cfg->log_json);
        gw->exchanges = calloc(gw->cfg->n_insts ? gw->cfg->n_insts : 1, sizeof(struct xgw_exchange *));
        if (!gw->exchanges)
            rc = xgw__oom(err);
    }
    /* gw->n_exchanges, mirrored in a local: the static analyzer forgets the
     * field's value across calls that take gw, and would then start
     * instances that were never built. */
    size_t built = 0;
    for (size_t i = 0; rc == XGW_OK && i < gw->cfg->n_insts; i++) {
        /* One allocation each: the pointers handed out stay valid when a
         * reload adds or removes other instances. */
        if (!(gw->exchanges[i] = calloc(1, sizeof *gw->exchanges[i]))) {
            rc = xgw__oom(err);
            break;
        }
        gw->n_exchanges = built = i + 1; /* partially built instances are torn down too */
        rc = xgw__exchange_init(gw, gw->exchanges[i], &gw->cfg->insts[i], err);
    }
    if (rc != XGW_OK) {
        xgw_close(gw);
        return NULL;
    }
    if (!gw->no_network)
        for (size_t i = 0; i < built; i++)
            xgw__instance_start(gw->exchanges[i]);
    return gw;
}

/* ------------------------------------------------------------------------ */
/* Warm-up and idle pool                                                     */
/* ------------------------------------------------------------------------ */

static void on_warm_done(struct xgw__call *c, const struct xgw_result *res, const struct xgw_error *err)
{
    (void)res;
    if (err && err->kind != XGW_ERR_CANCELLED)
        xgw__log(c->ex->cfg->name, XGW_LOG_WARN, "warmup_failed", "%s: %s", xgw_err_kind_name(err->kind),
                 err->message);
}

static void on_clock_sampled(struct xgw__call *c, const struct xgw_result *res, const struct xgw_error *err)
{
    if (res)
        xgw__log(c->ex->cfg->name, XGW_LOG_DEBUG, "clock_sync", "exchange clock offset %lld ms",
                 (long long)res->local_offset_ms);
    else if (err->kind != XGW_ERR_CANCELLED)
        xgw__log(c->ex->cfg->name, XGW_LOG_WARN, "clock_sync_failed",
                 "could not sample the exchange's clock (%s: %s); signed calls use the local clock until a "
                 "timestamp refusal re-syncs it",
                 xgw_err_kind_name(err->kind), err->message);
}

/* pool_min pings at once on every endpoint open pool_min connections to
 * each (HTTP/1.1 cannot share one connection between concurrent requests;
 * with HTTP/2 they multiplex on fewer). At start the first ping of each
 * endpoint is also its first health check. Loop thread. */
static void warm_all(struct xgw_exchange *ex, bool first_checks)
{
    for (size_t e = 0; e < ex->n_eps; e++)
        for (int i = 0; i < ex->cfg->pool_min; i++) {
            struct xgw_call none = {0};
            if (i == 0 && first_checks && !ex->checking[e])
                start_check(ex, e);
            else if (xgw__call_internal_at(ex, XGW_OP_PING, &none, (int)e, on_warm_done, NULL) != XGW_OK)
                return;
        }
}

/* Everything an instance starts on its own once the loop runs: the first
 * clock sample (signed calls need it before the first timestamp refusal),
 * warm connections, and the health checks. */
static void start_task(struct xgw__task *t)
{
    struct xgw__call *c = (struct xgw__call *)t;
    struct xgw_exchange *ex = c->ex;
    call_release(c);
    if (ex_closing(ex))
        return;
    struct xgw_call none = {0};
    if (ex->cfg->clock_sync && xgw__call_internal(ex, XGW_OP_TIME, &none, on_clock_sampled, NULL) != XGW_OK)
        return;
    if (ex->cfg->warmup && ex->cfg->pool_min > 0)
        warm_all(ex, ex->cfg->health_checks);
    if (ex->cfg->health_checks)
        health_arm(ex);
}

void xgw__instance_start(struct xgw_exchange *ex)
{
    if (!ex->http)
        return;
    struct xgw__call *c = call_alloc(ex);
    if (!c)
        return;
    c->task.run = start_task;
    if (xgw__loop_submit(&ex->gw->loop, &c->task) != XGW_OK)
        call_release(c);
}

static void on_pool_idle(void *arg)
{
    struct xgw_exchange *ex = arg;
    uint64_t open = 0;
    for (size_t i = 0; i < ex->n_eps; i++) {
        struct xgw__ep_metrics *m = &ex->eps[i].metrics;
        uint64_t o = atomic_load(&m->conn_opened), cl = atomic_load(&m->conn_closed);
        open += o > cl ? o - cl : 0;
    }
    /* Only connections beyond pool_min per endpoint are surplus. libcurl
     * cannot close some and keep others, so the pool is closed and the warm
     * ones reopened. */
    uint64_t keep = (uint64_t)(ex->cfg->pool_min > 0 ? ex->cfg->pool_min : 0) * ex->n_eps;
    if (open <= keep)
        return;
    xgw__http_close_idle(ex->http);
    if (ex->cfg->warmup && !ex_closing(ex))
        warm_all(ex, false);
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                   */
/* ------------------------------------------------------------------------ */

static void cancel_list(struct xgw__call *c, const char *why)
{
    while (c) {
        struct xgw__call *next = c->next;
        c->next = NULL;
        struct xgw_error err = {0};
        xgw__set_errorf(&err, XGW_ERR_CANCELLED, 0, "%s", why);
        cancel_call(c, &err, false);
        c = next;
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    struct xgw_exchange *ex = h->data;
    ex->handles_open--;
}

/* Complete every call of ex that has not finished (CANCELLED) and close its
 * timers. Loop thread (or the closing thread). */
void xgw__exchange_cancel(struct xgw_exchange *ex)
{
    struct xgw__call *w = ex->wait_head;
    ex->wait_head = ex->wait_tail = NULL;
    cancel_list(w, "the gateway was closed before the call was sent");
    if (ex->http)
        xgw__http_cancel_all(ex->http); /* also ends the market load; its waiters are cancelled */
    w = ex->markets_waiters;
    ex->markets_waiters = NULL;
    cancel_list(w, "the gateway was closed before the call was sent");
    w = ex->delayed;
    ex->delayed = NULL;
    cancel_list(w, "the gateway was closed while the call waited to be retried or for the rate limit");
    if (ex->timers_on) {
        ex->handles_open = 2;
        uv_close((uv_handle_t *)&ex->delay_timer, on_timer_closed);
        uv_close((uv_handle_t *)&ex->health_timer, on_timer_closed);
        ex->timers_on = false;
    }
}

/* Free ex once its calls are complete and its handles closed. */
void xgw__exchange_free(struct xgw_exchange *ex)
{
    if (!ex)
        return;
    if (ex->self)
        ex->plugin->destroy(ex->self);
    xgw__inst_ctx_free(ex->ctx);
    for (size_t e = 0; e < ex->n_eps; e++)
        free(ex->eps[e].url);
    free(ex->eps);
    free(ex->rest_urls);
    xgw__failover_free(&ex->fo);
    xgw__rl_free(&ex->rl);
    free(ex->buckets);
    free(ex->metrics.failovers);
    free(ex->status);
    free(ex->checking);
    pthread_mutex_destroy(&ex->status_mu);
    while (ex->free_calls) {
        struct xgw__call *c = ex->free_calls;
        ex->free_calls = c->next;
        free(c);
    }
    pthread_mutex_destroy(&ex->free_mu);
    free(ex);
}

void xgw_close(struct xgw_gateway *gw)
{
    if (!gw)
        return;
    if (xgw__loop_on_loop_thread(&gw->loop)) {
        /* Tearing the loop down from inside one of its callbacks would free
         * what the loop is still running; refuse loudly instead. */
        xgw__log(NULL, XGW_LOG_ERROR, "misuse", "xgw_close called from a callback; ignored");
        return;
    }
    atomic_store(&gw->closing, true);
    /* The closing thread becomes the only driver of the loop: callbacks of
     * the calls completed below run here, after the I/O thread is gone. */
    xgw__loop_take_over(&gw->loop);
    /* Streams first: their lws handles live on the loop and their book
     * snapshots are calls that must be cancelled like any other. */
    xgw__streams_close(gw);
    struct xgw__task *t = xgw__loop_close_queue(&gw->loop);
    while (t) {
        struct xgw__task *next = t->next;
        t->next = NULL;
        t->run(t); /* sees closing: cancels */
        t = next;
    }
    for (size_t i = 0; i < gw->n_exchanges; i++)
        xgw__exchange_cancel(gw->exchanges[i]);
    for (size_t i = 0; i < gw->n_exchanges; i++) {
        struct xgw_exchange *ex = gw->exchanges[i];
        if (ex->http)
            xgw__http_free(ex->http);
        ex->http = NULL;
    }
    /* Runs the loop until libuv has closed every handle (frees the pools). */
    xgw__loop_destroy(&gw->loop);
    for (size_t i = 0; i < gw->n_exchanges; i++)
        xgw__exchange_free(gw->exchanges[i]);
    free(gw->exchanges);
    /* Plugins go last: no instance of them is left. */
    for (size_t i = 0; i < gw->n_plugins; i++) {
        if (gw->plugins[i].loaded)
            xgw__plugin_unload(gw->plugins[i].loaded);
        free(gw->plugins[i].name);
    }
    free(gw->plugins);
    xgw__config_free(gw->cfg);
    for (size_t i = 0; i < gw->n_old_cfgs; i++)
        xgw__config_free(gw->old_cfgs[i]);
    free(gw->old_cfgs);
    free(gw);
}

/* ------------------------------------------------------------------------ */
/* Instances, loop, metrics                                                  */
/* ------------------------------------------------------------------------ */

size_t xgw_exchange_count(const struct xgw_gateway *gw) { return gw ? gw->n_exchanges : 0; }

struct xgw_exchange *xgw_exchange_at(struct xgw_gateway *gw, size_t i)
{
    return gw && i < gw->n_exchanges ? gw->exchanges[i] : NULL;
}

struct xgw_exchange *xgw_exchange_find(struct xgw_gateway *gw, const char *instance)
{
    if (!gw || !instance)
        return NULL;
    for (size_t i = 0; i < gw->n_exchanges; i++)
        if (!strcmp(gw->exchanges[i]->cfg->name, instance))
            return gw->exchanges[i];
    return NULL;
}

void xgw_exchange_info(const struct xgw_exchange *ex, struct xgw_exchange_info *out)
{
    memset(out, 0, sizeof *out);
    if (!ex)
        return;
    out->instance = ex->cfg->name;
    out->plugin = ex->plugin->name;
    out->plugin_version = ex->plugin->version;
    out->network = ex->network;
    out->rest_endpoints = ex->rest_urls;
    out->n_rest = ex->n_eps;
    out->ws_endpoints = ex->ws_urls;
    out->n_ws = ex->n_ws;
    out->api_key_set = ex->cfg->api_key && ex->cfg->api_key[0];
}

int xgw_start(struct xgw_gateway *gw, struct xgw_error *err)
{
    if (!gw)
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "no gateway");
    int rc = xgw__loop_start(&gw->loop);
    if (rc != XGW_OK)
        return xgw__set_errorf(err, (enum xgw_err_kind)rc, 0,
                               "the I/O thread could not be started (is the host driving the loop?)");
    return XGW_OK;
}

int xgw_fd(const struct xgw_gateway *gw) { return gw ? xgw__loop_fd((struct xgw__loop *)&gw->loop) : -1; }

int xgw_timeout_ms(const struct xgw_gateway *gw)
{
    return gw ? xgw__loop_timeout_ms((struct xgw__loop *)&gw->loop) : -1;
}

int xgw_step(struct xgw_gateway *gw) { return gw ? xgw__loop_step(&gw->loop) : XGW_ERR_INVALID_REQUEST; }

int xgw_metrics(struct xgw_gateway *gw, enum xgw_metrics_format fmt, char **out)
{
    if (!gw || !out)
        return XGW_ERR_INVALID_REQUEST;
    size_t n_eps = 0;
    for (size_t i = 0; i < gw->n_exchanges; i++)
        n_eps += gw->exchanges[i]->n_eps + 1;
    struct xgw__metrics_inst *insts = calloc(gw->n_exchanges ? gw->n_exchanges : 1, sizeof *insts);
    const struct xgw__ep_metrics **eps = calloc(n_eps ? n_eps : 1, sizeof(const struct xgw__ep_metrics *));
    int rc = XGW_ERR_INTERNAL;
    if (insts && eps) {
        size_t k = 0;
        for (size_t i = 0; i < gw->n_exchanges; i++) {
            struct xgw_exchange *ex = gw->exchanges[i];
            insts[i].exchange = ex->cfg->name;
            insts[i].m = &ex->metrics;
            insts[i].eps = &eps[k];
            for (size_t e = 0; e < ex->n_eps; e++)
                eps[k++] = &ex->eps[e].metrics;
            eps[k++] = &ex->none_metrics;
            insts[i].n_eps = ex->n_eps + 1;
        }
        rc = xgw__metrics_render(&gw->metrics, insts, gw->n_exchanges, fmt, xgw__streams_render, gw, out);
    }
    free(insts);
    free(eps);
    return rc;
}
