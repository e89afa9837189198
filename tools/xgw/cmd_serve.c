/*
 * tools/xgw/cmd_serve.c — `xgw -c FILE serve [--listen ADDR]`: the
 * long-running form of the gateway (issue 10 item 1).
 *
 * It opens every configured instance, starts the I/O thread (health checks
 * and warm-up run from there), subscribes each instance's `streams = ...`
 * and serves GET /metrics, /health, /status.json and the status page on
 * metrics_listen (or --listen) through the library's status server
 * (xgw_listen, core/httpd.c). stdout gets one JSON line per life event:
 *   {"event":"serving","listen":"127.0.0.1:9464","url":"http://...","instances":[...],"subscriptions":N}
 *   {"event":"reloaded",...same members...,"kept":K,"added":A,"removed":R,"replaced":C}
 *   {"event":"reload_failed","kind":"..."}
 *   {"event":"stopped","signal":"SIGTERM"}
 *
 * Signals are taken synchronously: SIGINT, SIGTERM and SIGHUP are blocked
 * in every thread before the gateway starts its thread, and the main thread
 * waits for them with sigwaitinfo, so no work happens in a signal handler.
 *
 * SIGTERM/SIGINT: the status server is closed, every subscription closed,
 * and xgw_close completes pending calls (CANCELLED); exit 0.
 *
 * SIGHUP reloads the file in place (xgw__gateway_reload, core/reload.c).
 * The whole file is checked first - syntax, keys, plugins, and here each
 * instance's `streams` (channel supported by the plugin, a key for orders)
 * and the listen address - and any error refuses it: the error is logged
 * and printed, and the running configuration keeps serving untouched.
 * Otherwise, instance by instance (matched by name):
 *   - unchanged (every key equal but `streams`): kept as it is - pools,
 *     breakers, counters, and its subscriptions whose spec is unchanged
 *     (same connection, same message and reconnect counts, no pause);
 *     subscriptions added to or removed from its `streams` are made/closed;
 *   - removed: its subscriptions and the instance are closed;
 *   - added: opened, started, its streams subscribed;
 *   - changed (endpoints, limits, keys, any other key): replaced - closed
 *     and opened anew, its streams re-created (a short pause in their data,
 *     counters from zero).
 * The status server stays up throughout (it is moved only when the address
 * changed; a configured port 0 keeps the port already bound).
 */
#define _GNU_SOURCE /* sigwaitinfo, strsignal */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "gateway.h"
#include "httpd.h"
#include "log.h"
#include "xgw/stream.h"

struct srv;

struct sub_rec {
    struct srv *g;
    struct xgw_exchange *ex;
    struct xgw_sub *sub;  /* NULL until subscribed (written under g->mu) */
    const char *instance; /* ex->cfg->name (valid as long as ex) */
    struct xgw__stream_spec spec;
    int id;
    int64_t since_ms; /* wall clock of the subscription */
    /* under g->mu: the last GAP event */
    int64_t gap_from_ms, gap_to_ms;
    bool gone;  /* its instance was closed by a reload (main thread) */
    bool taken; /* reload: carried over into the new list (main thread) */
};

/* What serve runs: one gateway for the life of the process, its
 * subscriptions and its status server. */
struct srv {
    struct xgw_gateway *gw;
    struct xgw_listener *lis;
    /* Each record is its own allocation: its address is the user pointer of
     * its subscription's events and must survive a reload. subs/n_subs
     * change under mu (the status function reads them on the loop thread). */
    struct sub_rec **subs;
    size_t n_subs;
    int last_id;
    pthread_mutex_t mu;
    char listen_cfg[128]; /* metrics_listen as configured (or --listen) */
    unsigned listen_flags;
};

static const char *const ch_names[] = {"", "ticker", "trades", "book", "orders"};

static void on_event(void *user, const struct xgw_event *ev)
{
    struct sub_rec *r = user;
    if (ev->type != XGW_EV_GAP)
        return; /* serve only counts (xgw_sub_stats); it prints no market data */
    pthread_mutex_lock(&r->g->mu);
    r->gap_from_ms = ev->gap_from_ms;
    r->gap_to_ms = ev->gap_to_ms;
    pthread_mutex_unlock(&r->g->mu);
}

/* The "subscriptions" member of /status.json (loop thread). */
static int status_fn(void *user, struct xgw_buf *b)
{
    struct srv *g = user;
    bool first = true;
    int rc = xgw__buf_append_str(b, "[");
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; !rc && i < g->n_subs; i++) {
        struct sub_rec *r = g->subs[i];
        struct xgw_sub_stats st;
        memset(&st, 0, sizeof st);
        if (!r->sub || xgw_sub_stats(r->sub, &st) != 0)
            continue;
        rc = xgw__buf_printf(b, "%s{\"id\":%d,\"instance\":", first ? "" : ",", r->id);
        first = false;
        rc = rc ? rc : xgw__buf_json_str(b, r->instance, strlen(r->instance));
        rc = rc ? rc : xgw__buf_printf(b, ",\"channel\":\"%s\",\"symbols\":[", ch_names[r->spec.channel]);
        for (size_t k = 0; !rc && k < r->spec.n_symbols; k++) {
            rc = k ? xgw__buf_append_str(b, ",") : 0;
            rc = rc ? rc : xgw__buf_json_str(b, r->spec.symbols[k], strlen(r->spec.symbols[k]));
        }
        rc = rc ? rc
                : xgw__buf_printf(
                      b,
                      "],\"depth\":%u,\"state\":\"%s\",\"events\":%llu,\"messages\":%llu,\"gaps\":%llu,"
                      "\"reconnects\":%llu,\"resyncs\":%llu,\"dropped\":%llu,\"last_event_ms\":%lld,"
                      "\"since_ms\":%lld,\"last_gap_from_ms\":%lld,\"last_gap_to_ms\":%lld}",
                      r->spec.depth, xgw_sub_state_name(st.state), (unsigned long long)st.events,
                      (unsigned long long)st.messages, (unsigned long long)st.gaps,
                      (unsigned long long)st.reconnects, (unsigned long long)st.resyncs,
                      (unsigned long long)st.dropped, (long long)st.last_event_ms, (long long)r->since_ms,
                      (long long)r->gap_from_ms, (long long)r->gap_to_ms);
    }
    pthread_mutex_unlock(&g->mu);
    return rc ? rc : xgw__buf_append_str(b, "]");
}

/* Take r's subscription away from the status function, then close it
 * (never under mu: xgw_unsubscribe waits for the loop thread). */
static void rec_unsubscribe(struct sub_rec *r)
{
    pthread_mutex_lock(&r->g->mu);
    struct xgw_sub *sub = r->sub;
    r->sub = NULL;
    pthread_mutex_unlock(&r->g->mu);
    xgw_unsubscribe(sub);
}

/* Close in the order that keeps every borrowed pointer valid: the server
 * (its status function reads subs), the subscriptions, the gateway. */
static void srv_close(struct srv *g)
{
    if (!g)
        return;
    xgw_listen_close(g->lis);
    g->lis = NULL;
    xgw__log(NULL, XGW_LOG_DEBUG, "stop", "status server closed");
    for (size_t i = 0; i < g->n_subs; i++)
        rec_unsubscribe(g->subs[i]);
    xgw__log(NULL, XGW_LOG_DEBUG, "stop", "%zu subscription(s) closed", g->n_subs);
    xgw_close(g->gw);
    xgw__log(NULL, XGW_LOG_DEBUG, "stop", "gateway closed");
    for (size_t i = 0; i < g->n_subs; i++)
        free(g->subs[i]);
    free(g->subs);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

XGW_PRINTF(3, 4)
static int fail(struct xgw_error *err, enum xgw_err_kind kind, const char *fmt, ...)
{
    memset(err, 0, sizeof *err);
    err->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return kind;
}

/* "out of memory", with a result the static analyzer can see is not 0 (it
 * does not follow the variadic fail). */
static int oom(struct xgw_error *err)
{
    fail(err, XGW_ERR_INTERNAL, "out of memory");
    return XGW_ERR_INTERNAL;
}

/* The instance's `streams`, parsed and checked against its plugin: the
 * checks xgw_subscribe would make only when it is called, made before a
 * reload changes anything so that such a file is refused while the old
 * configuration still runs. *out is malloc'd (NULL when none). */
static int streams_check(const struct xgw__config *cfg, const struct xgw__inst_cfg *ic,
                         const struct xgw_plugin *p, struct xgw__stream_spec **out, size_t *n,
                         struct xgw_error *err)
{
    *out = NULL;
    *n = 0;
    char why[160];
    int rc = 0;
    if (ic->streams && xgw__streams_parse(ic->streams, out, n, why, sizeof why) != 0)
        rc = fail(err, XGW_ERR_CONFIG, "streams of %s: %s", ic->name, why); /* the config load checked it */
    for (size_t k = 0; !rc && k < *n; k++) {
        enum xgw_channel ch = (*out)[k].channel;
        if (!p->ws_path || !p->ws_sub_msg || !p->ws_parse)
            rc = fail(err, XGW_ERR_UNSUPPORTED, "streams of %s: plugin %s has no streams", ic->name, p->name);
        else if (ch == XGW_CH_BOOK && p->ws.book_model == XGW_BOOK_NONE)
            rc = fail(err, XGW_ERR_UNSUPPORTED, "streams of %s: plugin %s has no book stream", ic->name,
                      p->name);
        else if (ch == XGW_CH_ORDERS && (!ic->api_key || !ic->api_key[0]))
            rc = fail(err, XGW_ERR_AUTH, "streams of %s: the orders stream needs api_key/api_secret",
                      ic->name);
    }
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
        snprintf(err->file, sizeof err->file, "%s", cfg->path);
        err->line = xgw__config_line(ic, "streams");
        snprintf(err->key, sizeof err->key, "streams");
        snprintf(err->exchange, sizeof err->exchange, "%s", ic->name);
    }
    return rc;
}

/* The address to serve on: --listen, else metrics_listen of cfg. */
static int listen_addr(const struct xgw__config *cfg, const char *override, char *out, size_t cap,
                       struct xgw_error *err)
{
    const char *listen = override ? override : cfg->metrics_listen;
    int rc = 0;
    if (!listen)
        rc = fail(
            err, XGW_ERR_CONFIG,
            "serve needs an address: set metrics_listen in [gateway] of %s (e.g. 127.0.0.1:9464) or give "
            "--listen ADDR",
            cfg->path);
    else if (strlen(listen) >= cap)
        rc = fail(err, XGW_ERR_CONFIG, "the listen address %s is too long", listen);
    if (rc && !override) {
        snprintf(err->file, sizeof err->file, "%s", cfg->path);
        snprintf(err->key, sizeof err->key, "metrics_listen");
    }
    if (!rc)
        snprintf(out, cap, "%s", listen);
    return rc;
}

/* The configuration of the running instance ex in the current file (a kept
 * instance still borrows the file it was opened from). */
static const struct xgw__inst_cfg *current_cfg(const struct xgw_gateway *gw, const struct xgw_exchange *ex)
{
    for (size_t i = 0; i < gw->cfg->n_insts; i++)
        if (!strcmp(gw->cfg->insts[i].name, ex->cfg->name))
            return &gw->cfg->insts[i];
    return ex->cfg;
}

static bool spec_eq(const struct xgw__stream_spec *a, const struct xgw__stream_spec *b)
{
    if (a->channel != b->channel || a->depth != b->depth || a->n_symbols != b->n_symbols)
        return false;
    for (size_t k = 0; k < a->n_symbols; k++)
        if (strcmp(a->symbols[k], b->symbols[k]) != 0)
            return false;
    return true;
}

/* The subscription records the current file asks for, in file order:
 * records of `prev` (not gone) with the same instance and spec are carried
 * over (marked taken), the others are new and not yet subscribed. */
static int recs_build(struct srv *g, struct sub_rec **prev, size_t n_prev, struct sub_rec ***out,
                      size_t *n_out, struct xgw_error *err)
{
    struct sub_rec **list = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < g->gw->n_exchanges; i++) {
        struct xgw_exchange *ex = g->gw->exchanges[i];
        struct xgw__stream_spec *specs;
        size_t n_specs;
        rc = streams_check(g->gw->cfg, current_cfg(g->gw, ex), ex->plugin, &specs, &n_specs, err);
        for (size_t k = 0; !rc && k < n_specs; k++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                struct sub_rec **l = realloc(list, cap * sizeof(struct sub_rec *));
                if (!l) {
                    rc = oom(err);
                    break;
                }
                list = l;
            }
            struct sub_rec *r = NULL;
            for (size_t p = 0; !r && p < n_prev; p++)
                if (!prev[p]->gone && !prev[p]->taken && prev[p]->ex == ex &&
                    spec_eq(&prev[p]->spec, &specs[k]))
                    r = prev[p];
            if (r) {
                r->taken = true;
            } else if ((r = calloc(1, sizeof *r))) {
                r->g = g;
                r->ex = ex;
                r->instance = ex->cfg->name;
                r->spec = specs[k];
                r->id = ++g->last_id;
            } else {
                rc = oom(err);
                break;
            }
            list[n++] = r;
        }
        free(specs);
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            if (!list[i]->taken)
                free(list[i]);
        for (size_t p = 0; p < n_prev; p++)
            prev[p]->taken = false;
        free(list);
        return rc;
    }
    *out = list;
    *n_out = n;
    return 0;
}

/* Open and start the gateway from the file and prepare (and check) its
 * subscriptions; srv_subscribe starts them. No server yet. */
static int srv_open(struct cli *c, const char *listen_override, struct srv **out, struct xgw_error *err)
{
    *out = NULL;
    struct srv *g = calloc(1, sizeof *g);
    if (!g)
        return oom(err);
    pthread_mutex_init(&g->mu, NULL);
    struct xgw_open_opts o = {.plugin_dir = c->plugin_dir};
    if (!(g->gw = xgw_open(c->config, &o, err))) {
        pthread_mutex_destroy(&g->mu);
        free(g);
        return err->kind ? (int)err->kind : XGW_ERR_INTERNAL;
    }
    const struct xgw__config *cfg = g->gw->cfg;
    int rc = listen_addr(cfg, listen_override, g->listen_cfg, sizeof g->listen_cfg, err);
    g->listen_flags = cfg->metrics_listen_public ? XGW_LISTEN_PUBLIC : 0;
    if (!rc)
        rc = recs_build(g, NULL, 0, &g->subs, &g->n_subs, err);
    if (!rc)
        rc = xgw_start(g->gw, err);
    if (rc) {
        srv_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

/* Subscribe every record of g that has no subscription yet. 0, or the first
 * failure (the others are still attempted; a failed one stays without a
 * sub and is not shown). */
static int srv_subscribe(struct srv *g, struct xgw_error *first)
{
    int rc0 = 0;
    for (size_t i = 0; i < g->n_subs; i++) {
        struct sub_rec *r = g->subs[i];
        if (r->sub)
            continue;
        const char *syms[XGW__STREAM_MAX_SYMS];
        for (size_t s = 0; s < r->spec.n_symbols; s++)
            syms[s] = r->spec.symbols[s];
        struct xgw_error err;
        memset(&err, 0, sizeof err);
        struct xgw_sub *sub = NULL;
        int64_t now = xgw__wall_ms();
        int rc = xgw_subscribe(r->ex, r->spec.channel, syms, r->spec.n_symbols, r->spec.depth, on_event, r,
                               &sub, &err);
        if (rc != 0) {
            if (!err.exchange[0])
                snprintf(err.exchange, sizeof err.exchange, "%s", r->instance);
            xgw__log(r->instance, XGW_LOG_ERROR, "subscribe", "%s subscription failed: %s",
                     ch_names[r->spec.channel], err.message);
            if (!rc0) {
                rc0 = rc;
                *first = err;
            }
            continue;
        }
        /* published under the lock: the status function reads it on the loop thread */
        pthread_mutex_lock(&g->mu);
        r->sub = sub;
        r->since_ms = now;
        pthread_mutex_unlock(&g->mu);
    }
    return rc0;
}

/* Start g's status server on addr; reuse_port > 0 replaces a configured
 * port 0 (a reload keeps the port scrapers know). */
static int srv_listen(struct srv *g, const char *listen_cfg, unsigned flags, int reuse_port,
                      struct xgw_error *err)
{
    char addr[160];
    snprintf(addr, sizeof addr, "%s", listen_cfg);
    char *colon = strrchr(addr, ':');
    if (reuse_port > 0) {
        if (!colon)
            snprintf(addr, sizeof addr, "%d", reuse_port);
        else if (!strcmp(colon + 1, "0"))
            snprintf(colon + 1, sizeof addr - (size_t)(colon + 1 - addr), "%d", reuse_port);
    }
    return xgw__listen_ex(g->gw, addr, flags, status_fn, g, &g->lis, err);
}

static void print_life(const char *event, const struct srv *g, const struct xgw__reload_stats *st)
{
    struct xgw_buf b = {0};
    xgw__buf_append_str(&b, "{");
    cli_j_str(&b, "event", event);
    const char *cfgl = g->listen_cfg;
    const char *colon = strrchr(cfgl, ':');
    char listen[192];
    /* The bound address: the configured host with the real port. */
    snprintf(listen, sizeof listen, "%.*s:%d", colon ? (int)(colon - cfgl) : 9, colon ? cfgl : "127.0.0.1",
             xgw_listener_port(g->lis));
    cli_j_str(&b, "listen", listen);
    char url[224];
    snprintf(url, sizeof url, "http://%s/", listen);
    cli_j_str(&b, "url", url);
    cli_j_key(&b, "instances");
    xgw__buf_append_str(&b, "[");
    for (size_t i = 0; i < g->gw->n_exchanges; i++) {
        const char *n = g->gw->exchanges[i]->cfg->name;
        if (i)
            xgw__buf_append_str(&b, ",");
        xgw__buf_json_str(&b, n, strlen(n));
    }
    xgw__buf_append_str(&b, "]");
    cli_j_int(&b, "subscriptions", (long long)g->n_subs);
    if (st) {
        cli_j_int(&b, "kept", (long long)st->kept);
        cli_j_int(&b, "added", (long long)st->added);
        cli_j_int(&b, "removed", (long long)st->removed);
        cli_j_int(&b, "replaced", (long long)st->replaced);
    }
    xgw__buf_append_str(&b, "}\n");
    if (b.data) {
        fputs(b.data, stdout);
        fflush(stdout);
    }
    xgw__buf_free(&b);
}

static void print_reload_failed(const struct xgw_error *err)
{
    /* stdout gets the event; stderr the error object and the log line. */
    printf("{\"event\":\"reload_failed\",\"kind\":\"%s\"}\n", xgw_err_kind_name(err->kind));
    fflush(stdout);
    cli_print_error(err);
    if (err->file[0])
        xgw__log(NULL, XGW_LOG_ERROR, "reload",
                 "new configuration refused, the running one is kept: %s (file %s, line %d, key %s)",
                 err->message, err->file, err->line, err->key[0] ? err->key : "-");
    else
        xgw__log(err->exchange[0] ? err->exchange : NULL, XGW_LOG_ERROR, "reload",
                 "new configuration refused, the running one is kept: %s", err->message);
}

/* ---- the hooks of xgw__gateway_reload ---- */

struct reload_ctx {
    struct srv *g;
    const char *listen_override;
    char listen[128];
    unsigned flags;
};

static int hook_check_instance(void *user, const struct xgw__config *cfg, const struct xgw__inst_cfg *ic,
                               const struct xgw_plugin *p, struct xgw_error *err)
{
    (void)user;
    struct xgw__stream_spec *specs;
    size_t n;
    int rc = streams_check(cfg, ic, p, &specs, &n, err);
    free(specs);
    return rc;
}

static int hook_check_config(void *user, const struct xgw__config *cfg, struct xgw_error *err)
{
    struct reload_ctx *rc = user;
    rc->flags = cfg->metrics_listen_public ? XGW_LISTEN_PUBLIC : 0;
    return listen_addr(cfg, rc->listen_override, rc->listen, sizeof rc->listen, err);
}

/* An instance is about to be closed: its subscriptions go first. */
static void hook_closing(void *user, struct xgw_exchange *ex)
{
    struct reload_ctx *rc = user;
    struct srv *g = rc->g;
    for (size_t i = 0; i < g->n_subs; i++) {
        struct sub_rec *r = g->subs[i];
        if (r->ex != ex || r->gone)
            continue;
        rec_unsubscribe(r);
        r->gone = true;
    }
}

/* SIGHUP: reload the gateway in place (see the top of the file), then bring
 * the subscription records in line with the new file. */
static void reload(struct cli *c, const char *listen_override, struct srv *g)
{
    xgw__log(NULL, XGW_LOG_INFO, "reload", "SIGHUP: reloading %s", c->config);
    struct reload_ctx rctx = {.g = g, .listen_override = listen_override};
    struct xgw__reload_hooks hooks = {
        .user = &rctx,
        .check_instance = hook_check_instance,
        .check_config = hook_check_config,
        .closing = hook_closing,
    };
    struct xgw__reload_stats st;
    struct xgw_error err;
    memset(&err, 0, sizeof err);
    if (xgw__gateway_reload(g->gw, c->config, c->plugin_dir, &hooks, &st, &err) != 0) {
        print_reload_failed(&err);
        return;
    }

    /* Records: carried over for an unchanged subscription of a kept
     * instance, new otherwise; the rest are closed. */
    struct sub_rec **list = NULL;
    size_t n = 0;
    if (recs_build(g, g->subs, g->n_subs, &list, &n, &err) != 0) {
        /* Only out of memory gets here (the file was checked): the old
         * records stay, those of closed instances are inert. */
        cli_print_error(&err);
    } else {
        for (size_t i = 0; i < g->n_subs; i++)
            if (!g->subs[i]->taken && !g->subs[i]->gone)
                rec_unsubscribe(g->subs[i]);
        pthread_mutex_lock(&g->mu);
        struct sub_rec **old = g->subs;
        size_t n_old = g->n_subs;
        g->subs = list;
        g->n_subs = n;
        pthread_mutex_unlock(&g->mu);
        for (size_t i = 0; i < n_old; i++) {
            if (old[i]->taken)
                old[i]->taken = false;
            else
                free(old[i]);
        }
        free(old);
    }

    /* The status server moves only when its address changed. */
    if (strcmp(rctx.listen, g->listen_cfg) != 0 || rctx.flags != g->listen_flags) {
        int old_port = xgw_listener_port(g->lis);
        xgw_listen_close(g->lis);
        g->lis = NULL;
        struct xgw_error lerr;
        if (srv_listen(g, rctx.listen, rctx.flags, 0, &lerr) == 0) {
            snprintf(g->listen_cfg, sizeof g->listen_cfg, "%s", rctx.listen);
            g->listen_flags = rctx.flags;
        } else {
            xgw__log(NULL, XGW_LOG_ERROR, "listen", "cannot serve on %s: %s; staying on %s", rctx.listen,
                     lerr.message, g->listen_cfg);
            cli_print_error(&lerr);
            if (srv_listen(g, g->listen_cfg, g->listen_flags, old_port, &lerr) != 0)
                xgw__log(NULL, XGW_LOG_ERROR, "listen", "cannot serve on %s again: %s", g->listen_cfg,
                         lerr.message);
        }
    }

    struct xgw_error serr;
    if (srv_subscribe(g, &serr) != 0) {
        /* Only failures the check cannot foresee (out of memory, a closing
         * gateway) get here; each was logged. */
        cli_print_error(&serr);
    }
    print_life("reloaded", g, &st);
    xgw__log(NULL, XGW_LOG_INFO, "reload",
             "configuration reloaded: %zu instance(s) (%zu kept, %zu added, %zu removed, %zu replaced), %zu "
             "subscription(s)",
             g->gw->n_exchanges, st.kept, st.added, st.removed, st.replaced, g->n_subs);
}

static int run_serve(struct cli *c, int argc, char **argv)
{
    const char *listen_override = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc)
            listen_override = argv[++i];
        else if (!strncmp(argv[i], "--listen=", 9))
            listen_override = argv[i] + 9;
        else
            return cli_usage_error("serve: unexpected argument \"%s\"; see xgw serve --help", argv[i]);
        if (!*listen_override)
            return cli_usage_error("serve: --listen needs an address");
    }
    if (!c->config)
        return cli_usage_error("no configuration file; give -c FILE");
    if (c->instance)
        return cli_usage_error("serve runs every instance of the file; -x is not accepted");

    /* Blocked before any thread exists, so every thread inherits the mask
     * and only sigwaitinfo below receives these signals. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct xgw_error err;
    memset(&err, 0, sizeof err);
    struct srv *g = NULL;
    int rc = srv_open(c, listen_override, &g, &err);
    if (rc == 0)
        rc = srv_subscribe(g, &err);
    if (rc == 0)
        rc = srv_listen(g, g->listen_cfg, g->listen_flags, 0, &err);
    if (rc != 0) {
        srv_close(g);
        cli_print_error(&err);
        return err.kind == XGW_ERR_CONFIG || err.kind == XGW_ERR_PLUGIN ? CLI_USAGE : CLI_FAIL;
    }
    print_life("serving", g, NULL);

    int sig = 0;
    for (;;) {
        siginfo_t si;
        sig = sigwaitinfo(&set, &si);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (sig == SIGHUP) {
            reload(c, listen_override, g);
            continue;
        }
        break;
    }
    xgw__log(NULL, XGW_LOG_INFO, "stop", "%s: closing streams and pending calls",
             sig == SIGINT    ? "SIGINT"
             : sig == SIGTERM ? "SIGTERM"
                              : "stop");
    srv_close(g);
    printf("{\"event\":\"stopped\",\"signal\":\"%s\"}\n", sig == SIGINT    ? "SIGINT"
                                                          : sig == SIGTERM ? "SIGTERM"
                                                                           : "");
    fflush(stdout);
    return CLI_OK;
}

const struct cli_command cli_cmds_serve[] = {
    {"serve", "[--listen ADDR]",
     "Run every instance: health checks, the `streams` subscriptions of each instance, and an HTTP\n"
     "server on metrics_listen (or ADDR): GET /metrics (Prometheus), /health (JSON; 503 when UNHEALTHY),\n"
     "/status.json and / (status page). SIGHUP reloads the file in place: unchanged instances and\n"
     "their streams keep running, others are added, removed or replaced; a bad file is refused and the\n"
     "running configuration kept. SIGTERM/SIGINT stop it (exit 0). Prints one JSON line per event.",
     run_serve},
    {NULL, NULL, NULL, NULL},
};
