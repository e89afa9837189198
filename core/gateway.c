/*
 * core/gateway.c — xgw_open/xgw_close, exchange instances, the request
 * pipeline and the synchronous wrappers. See gateway.h and xgw/xgw.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "gateway.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "response.h"
#include "sink.h"
#include "stream.h"

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
    c->attempt = 0;
    c->ep = -1;
    c->pin_ep = -1;
    c->clock_resynced = false;
    c->markets_failed = false;
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
static void on_xfer_done(struct xgw__xfer *x);

static bool markets_cached(struct xgw_exchange *ex)
{
    pthread_mutex_lock(&ex->ctx->markets_lock);
    bool yes = ex->ctx->markets_loaded_ms != 0;
    pthread_mutex_unlock(&ex->ctx->markets_lock);
    return yes;
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

/* Cost, client id, then the first attempt. */
static void pipeline_start(struct xgw__call *c)
{
    struct xgw_exchange *ex = c->ex;
    struct xgw_error err = {0};
    if (c->op == XGW_OP_PLACE || c->op == XGW_OP_CANCEL) {
        /* Plugins round prices and quantities with core->market(), and
         * some address markets by index (Hyperliquid cancels by asset):
         * the cache must be filled before the first order or cancel. */
        if (!markets_cached(ex) && !c->markets_failed) {
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
    /* Rate-limit admission (resilience work) will use these costs here. */
    if (ex->plugin->cost && ex->plugin->n_buckets > 0 && ex->plugin->n_buckets <= 16) {
        uint32_t costs[16] = {0};
        ex->plugin->cost(ex->self, c->op, &c->args, costs);
    }
    attempt(c);
}

/* One try of a call on one endpoint. */
static void attempt(struct xgw__call *c)
{
    struct xgw_exchange *ex = c->ex;
    struct xgw_error err = {0};
    if (xgw__http_active(ex->http) >= ex->max_active) {
        c->next = NULL;
        if (ex->wait_tail)
            ex->wait_tail->next = c;
        else
            ex->wait_head = c;
        ex->wait_tail = c;
        return;
    }
    c->ep = c->pin_ep >= 0 && (size_t)c->pin_ep < ex->n_eps
                ? c->pin_ep
                : xgw__endpoint_choose(ex->eps, ex->n_eps, c->op, c->attempt, &err);
    if (c->ep < 0) {
        fail_early(c, &err);
        return;
    }
    struct xgw__xfer *x = xgw__http_xfer_get(ex->http);
    if (!x) {
        xgw__set_errorf(&err, XGW_ERR_INTERNAL, 0, "out of memory");
        fail_early(c, &err);
        return;
    }
    int rc = ex->plugin->build(ex->self, c->op, &c->args, &x->req, &err);
    if (rc != XGW_OK) {
        if (rc < 0 || rc >= XGW_ERR__COUNT)
            rc = XGW_ERR_PLUGIN;
        if ((int)err.kind != rc || !err.message[0])
            xgw__set_errorf(&err, (enum xgw_err_kind)rc, err.code, "%s: %s request could not be built",
                            ex->plugin->name, xgw_op_name(c->op));
        xgw__http_xfer_put(ex->http, x);
        fail_early(c, &err);
        return;
    }
    x->user = c;
    x->done = on_xfer_done;
    x->ep = &ex->eps[c->ep].metrics;
    if (xgw__http_send(ex->http, x, ex->eps[c->ep].url) != XGW_OK) {
        err = x->err;
        xgw__http_xfer_put(ex->http, x);
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

/* Requests that may have changed state at the exchange. */
static bool is_write(enum xgw_op op) { return op == XGW_OP_PLACE || op == XGW_OP_CANCEL; }

/* The one place where the outcome of an attempt is decided: finish the
 * call, or (resilience work) retry / fail over / look an order up. Today
 * every outcome finishes the call. */
static bool should_try_again(struct xgw__call *c, const struct xgw_error *err)
{
    (void)c;
    (void)err;
    return false;
}

/* The TIME call of a clock re-sync finished (its offset is already stored
 * in the instance's clock when it succeeded): try the signed call again,
 * once. If the re-sync failed, the retry fails with CLOCK_SKEW again and
 * that answer is final. */
static void on_clock_resynced(struct xgw__call *tc, const struct xgw_result *res, const struct xgw_error *err)
{
    struct xgw__call *c = tc->user;
    (void)res;
    if (err && err->kind == XGW_ERR_CANCELLED) {
        fail_call(c, XGW_ERR_CANCELLED, "the gateway was closed during a clock re-sync");
        return;
    }
    c->attempt++;
    attempt(c);
}

/* A signed call refused only for its timestamp is not executed by the
 * exchange (it is checked before anything else), so re-syncing the clock
 * and sending it again - an order with the same client id - is safe. */
static bool start_clock_resync(struct xgw__call *c)
{
    if (c->clock_resynced || c->op == XGW_OP_TIME)
        return false;
    c->clock_resynced = true;
    struct xgw_call none = {0};
    return xgw__call_internal(c->ex, XGW_OP_TIME, &none, on_clock_resynced, c) == XGW_OK;
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

static void on_xfer_done(struct xgw__xfer *x)
{
    struct xgw__call *c = x->user;
    struct xgw_exchange *ex = c->ex;
    struct xgw__endpoint *ep = &ex->eps[c->ep];
    struct xgw_error err = {0};
    int kind;
    int status = x->resp.status;

    if (x->kind != XGW_OK) {
        err = x->err;
        kind = x->kind;
        /* An order request that left the process and got no answer may
         * have been executed: the caller must not assume either way. */
        if (is_write(c->op) && (err.flags & XGW_ERRF_SENT) &&
            (kind == XGW_ERR_TIMEOUT || kind == XGW_ERR_NETWORK)) {
            char msg[XGW_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err.message);
            kind = xgw__set_errorf(&err, XGW_ERR_UNKNOWN_OUTCOME, 0, "%s outcome unknown: %s",
                                   xgw_op_name(c->op), msg);
        }
    } else {
        kind = ex->plugin->parse(ex->self, c->op, &c->args, &x->resp, x->sink, &err);
        if (kind < 0 || kind >= XGW_ERR__COUNT) {
            kind = xgw__set_errorf(&err, XGW_ERR_PLUGIN, 0, "plugin %s returned an invalid error kind",
                                   ex->plugin->name);
        } else if (kind != XGW_OK) {
            if ((int)err.kind != kind || !err.message[0])
                xgw__set_errorf(&err, (enum xgw_err_kind)kind, err.code, "HTTP %d from %s", status, ep->url);
        }
        err.http_status = status;
    }
    if (kind != XGW_OK && kind != XGW_ERR_CANCELLED) {
        snprintf(err.exchange, sizeof err.exchange, "%s", ex->cfg->name);
        snprintf(err.endpoint, sizeof err.endpoint, "%s", ep->url);
    }
    int64_t latency = x->t_end_us - x->t_start_us;

    struct xgw_result res;
    if (kind == XGW_OK)
        kind = fill_result(c, x, &res, &err);
    if (kind != XGW_ERR_CANCELLED) {
        xgw__metrics_request(&ep->metrics, c->op, kind, latency);
        xgw__endpoint_report(ep, c->op, kind, status);
    }
    if (kind != XGW_OK) {
        err.kind = (enum xgw_err_kind)kind;
        if (kind == XGW_ERR_CLOCK_SKEW && !atomic_load(&ex->gw->closing) && start_clock_resync(c)) {
            xgw__log(ex->cfg->name, XGW_LOG_WARN, "clock_resync", "%s refused for its timestamp; re-syncing the clock",
                     xgw_op_name(c->op));
            xgw__http_xfer_put(ex->http, x);
            return;
        }
        if (kind != XGW_ERR_CANCELLED && should_try_again(c, &err)) {
            xgw__http_xfer_put(ex->http, x);
            c->attempt++;
            attempt(c);
            return;
        }
        snprintf(err.exchange, sizeof err.exchange, "%s", ex->cfg->name);
        if (!err.endpoint[0])
            snprintf(err.endpoint, sizeof err.endpoint, "%s", ep->url);
        call_complete(c, NULL, &err);
    } else {
        call_complete(c, &res, NULL);
    }
    /* The sink and response stay valid until here: the result points into
     * them during the callback. */
    xgw__http_xfer_put(ex->http, x);
    if (!atomic_load(&ex->gw->closing))
        pump_waiting(ex);
}

/* Loop-thread entry of a submitted call. */
static void call_run(struct xgw__task *t)
{
    struct xgw__call *c = (struct xgw__call *)t;
    if (atomic_load(&c->ex->gw->closing)) {
        fail_call(c, XGW_ERR_CANCELLED, "the gateway was closed before the call started");
        return;
    }
    pipeline_start(c);
}

int xgw__call_internal(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *args,
                       xgw__internal_done_fn done, void *user)
{
    return xgw__call_internal_at(ex, op, args, -1, done, user);
}

int xgw__call_internal_at(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *args, int ep_index,
                          xgw__internal_done_fn done, void *user)
{
    struct xgw__call *c = call_alloc(ex);
    if (!c)
        return XGW_ERR_INTERNAL;
    c->pin_ep = ep_index;
    c->op = op;
    c->args = *args;
    c->internal = done;
    c->user = user;
    pipeline_start(c);
    return XGW_OK;
}

/* ------------------------------------------------------------------------ */
/* Public calls                                                              */
/* ------------------------------------------------------------------------ */

int xgw_call(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *call, xgw_done_fn done, void *user)
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
    int rc = xgw__loop_submit(&gw->loop, &c->task);
    if (rc != XGW_OK) {
        atomic_fetch_sub_explicit(&ex->metrics.inflight, 1, memory_order_relaxed);
        xgw__metric_add(&gw->metrics.calls_refused, 1);
        call_release(c);
    }
    return rc;
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
    int rc = xgw_call(ex, op, call, sync_done, &w);
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

static const struct xgw_plugin *get_plugin(struct xgw_gateway *gw, const char *name, struct xgw_error *err)
{
    for (size_t i = 0; i < gw->n_plugins; i++)
        if (!strcmp(gw->plugins[i].name, name))
            return gw->plugins[i].desc;
    struct xgw__plugin_ref ref = {0};
    ref.desc = find_builtin(name);
    if (!ref.desc) {
        if (xgw__plugin_load(gw->cfg->plugin_dir, name, &ref.loaded, err) != XGW_OK)
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
static void warm_up(struct xgw_exchange *ex);

static int exchange_init(struct xgw_gateway *gw, struct xgw_exchange *ex, struct xgw__inst_cfg *ic,
                         struct xgw_error *err)
{
    ex->gw = gw;
    ex->cfg = ic;
    pthread_mutex_init(&ex->free_mu, NULL);
    ex->plugin = get_plugin(gw, ic->plugin, err);
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
        int rc = xgw__http_new(&gw->loop.uv, &hc, &ex->http, err);
        if (rc != XGW_OK) {
            if (err)
                snprintf(err->exchange, sizeof err->exchange, "%s", ic->name);
            return rc;
        }
        size_t per_conn = ic->http2 ? 64 : 4;
        ex->max_active = (size_t)(ic->pool_max > 0 ? ic->pool_max : 1) * per_conn;
        if (ex->max_active < 16)
            ex->max_active = 16;
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
        gw->exchanges = calloc(gw->cfg->n_insts ? gw->cfg->n_insts : 1, sizeof *gw->exchanges);
        if (!gw->exchanges)
            rc = xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    }
    for (size_t i = 0; rc == XGW_OK && i < gw->cfg->n_insts; i++) {
        rc = exchange_init(gw, &gw->exchanges[i], &gw->cfg->insts[i], err);
        gw->n_exchanges = i + 1; /* partially built instances are torn down too */
    }
    if (rc != XGW_OK) {
        xgw_close(gw);
        return NULL;
    }
    if (!gw->no_network)
        for (size_t i = 0; i < gw->n_exchanges; i++)
            warm_up(&gw->exchanges[i]);
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

/* pool_min pings at once on every endpoint open pool_min connections to
 * each (HTTP/1.1 cannot share one connection between concurrent requests;
 * with HTTP/2 they multiplex on fewer). Loop thread. */
static void warm_all(struct xgw_exchange *ex)
{
    for (size_t e = 0; e < ex->n_eps; e++)
        for (int i = 0; i < ex->cfg->pool_min; i++) {
            struct xgw_call none = {0};
            if (xgw__call_internal_at(ex, XGW_OP_PING, &none, (int)e, on_warm_done, NULL) != XGW_OK)
                return;
        }
}

static void warm_task(struct xgw__task *t)
{
    struct xgw__call *c = (struct xgw__call *)t;
    struct xgw_exchange *ex = c->ex;
    call_release(c);
    if (!atomic_load(&ex->gw->closing))
        warm_all(ex);
}

static void warm_up(struct xgw_exchange *ex)
{
    if (!ex->cfg->warmup || ex->cfg->pool_min <= 0 || !ex->http)
        return;
    struct xgw__call *c = call_alloc(ex);
    if (!c)
        return;
    c->task.run = warm_task;
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
    if (ex->cfg->warmup && !atomic_load(&ex->gw->closing))
        warm_all(ex);
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                   */
/* ------------------------------------------------------------------------ */

static void cancel_list(struct xgw__call *c, const char *why)
{
    while (c) {
        struct xgw__call *next = c->next;
        c->next = NULL;
        fail_call(c, XGW_ERR_CANCELLED, "%s", why);
        c = next;
    }
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
    for (size_t i = 0; i < gw->n_exchanges; i++) {
        struct xgw_exchange *ex = &gw->exchanges[i];
        struct xgw__call *w = ex->wait_head;
        ex->wait_head = ex->wait_tail = NULL;
        cancel_list(w, "the gateway was closed before the call was sent");
        if (ex->http)
            xgw__http_cancel_all(ex->http); /* also ends the market load; its waiters are cancelled */
        w = ex->markets_waiters;
        ex->markets_waiters = NULL;
        cancel_list(w, "the gateway was closed before the call was sent");
    }
    for (size_t i = 0; i < gw->n_exchanges; i++) {
        struct xgw_exchange *ex = &gw->exchanges[i];
        if (ex->http)
            xgw__http_free(ex->http);
        ex->http = NULL;
    }
    /* Runs the loop until libuv has closed every handle (frees the pools). */
    xgw__loop_destroy(&gw->loop);
    for (size_t i = 0; i < gw->n_exchanges; i++) {
        struct xgw_exchange *ex = &gw->exchanges[i];
        if (ex->self)
            ex->plugin->destroy(ex->self);
        xgw__inst_ctx_free(ex->ctx);
        for (size_t e = 0; e < ex->n_eps; e++)
            free(ex->eps[e].url);
        free(ex->eps);
        free(ex->rest_urls);
        while (ex->free_calls) {
            struct xgw__call *c = ex->free_calls;
            ex->free_calls = c->next;
            free(c);
        }
        pthread_mutex_destroy(&ex->free_mu);
    }
    free(gw->exchanges);
    /* Plugins go last: no instance of them is left. */
    for (size_t i = 0; i < gw->n_plugins; i++) {
        if (gw->plugins[i].loaded)
            xgw__plugin_unload(gw->plugins[i].loaded);
        free(gw->plugins[i].name);
    }
    free(gw->plugins);
    xgw__config_free(gw->cfg);
    free(gw);
}

/* ------------------------------------------------------------------------ */
/* Instances, loop, metrics                                                  */
/* ------------------------------------------------------------------------ */

size_t xgw_exchange_count(const struct xgw_gateway *gw) { return gw ? gw->n_exchanges : 0; }

struct xgw_exchange *xgw_exchange_at(struct xgw_gateway *gw, size_t i)
{
    return gw && i < gw->n_exchanges ? &gw->exchanges[i] : NULL;
}

struct xgw_exchange *xgw_exchange_find(struct xgw_gateway *gw, const char *instance)
{
    if (!gw || !instance)
        return NULL;
    for (size_t i = 0; i < gw->n_exchanges; i++)
        if (!strcmp(gw->exchanges[i].cfg->name, instance))
            return &gw->exchanges[i];
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
        n_eps += gw->exchanges[i].n_eps + 1;
    struct xgw__metrics_inst *insts = calloc(gw->n_exchanges ? gw->n_exchanges : 1, sizeof *insts);
    const struct xgw__ep_metrics **eps = calloc(n_eps ? n_eps : 1, sizeof *eps);
    int rc = XGW_ERR_INTERNAL;
    if (insts && eps) {
        size_t k = 0;
        for (size_t i = 0; i < gw->n_exchanges; i++) {
            struct xgw_exchange *ex = &gw->exchanges[i];
            insts[i].exchange = ex->cfg->name;
            insts[i].m = &ex->metrics;
            insts[i].eps = &eps[k];
            for (size_t e = 0; e < ex->n_eps; e++)
                eps[k++] = &ex->eps[e].metrics;
            eps[k++] = &ex->none_metrics;
            insts[i].n_eps = ex->n_eps + 1;
        }
        rc = xgw__metrics_render(&gw->metrics, insts, gw->n_exchanges, fmt, out);
    }
    free(insts);
    free(eps);
    return rc;
}
