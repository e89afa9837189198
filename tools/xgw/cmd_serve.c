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
 *   {"event":"reloaded",...same members...}
 *   {"event":"reload_failed","error":{...}}
 *   {"event":"stopped","signal":"SIGTERM"}
 *
 * Signals are taken synchronously: SIGINT, SIGTERM and SIGHUP are blocked
 * in every thread before the gateway starts its thread, and the main thread
 * waits for them with sigwaitinfo, so no work happens in a signal handler.
 *
 * SIGTERM/SIGINT: the status server is closed, every subscription closed,
 * and xgw_close completes pending calls (CANCELLED); exit 0.
 *
 * SIGHUP reloads the file as one unit, a "generation": a new gateway is
 * opened from the file and started, and its subscriptions are checked
 * (channel supported by the plugin, a key for orders), while the old one
 * keeps running. Any error (syntax, key, plugin, streams) refuses the new
 * file: the error is logged and printed, and the old generation keeps
 * serving untouched. Otherwise the status server moves to the new gateway
 * (same address; when the file says port 0 the port already bound is kept,
 * so scrapers keep working), the old gateway is closed, and then the new
 * one subscribes its streams (see reload() for why not before). So every
 * stream, also of an unchanged instance, is re-created: a short pause in
 * its data (reconnect, fresh book snapshot) and counters from zero. The
 * gateway cannot add or remove instances in place.
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

struct gen;

struct sub_rec {
    struct gen *g;
    struct xgw_exchange *ex;
    struct xgw_sub *sub;  /* NULL until subscribed (written under g->mu) */
    const char *instance; /* borrowed from the gateway's config */
    struct xgw__stream_spec spec;
    int id;
    int64_t since_ms; /* wall clock of the subscription */
    /* under g->mu: the last GAP event */
    int64_t gap_from_ms, gap_to_ms;
};

/* One generation: a gateway, its subscriptions and its status server. */
struct gen {
    struct xgw_gateway *gw;
    struct xgw_listener *lis;
    struct sub_rec *subs;
    size_t n_subs;
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
    struct gen *g = user;
    bool first = true;
    int rc = xgw__buf_append_str(b, "[");
    for (size_t i = 0; !rc && i < g->n_subs; i++) {
        struct sub_rec *r = &g->subs[i];
        struct xgw_sub_stats st;
        memset(&st, 0, sizeof st);
        pthread_mutex_lock(&g->mu);
        struct xgw_sub *sub = r->sub;
        int64_t gf = r->gap_from_ms, gt = r->gap_to_ms;
        pthread_mutex_unlock(&g->mu);
        if (!sub || xgw_sub_stats(sub, &st) != 0)
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
                      (long long)gf, (long long)gt);
    }
    return rc ? rc : xgw__buf_append_str(b, "]");
}

/* Close in the order that keeps every borrowed pointer valid: the server
 * (its status function reads subs), the subscriptions, the gateway. */
static void gen_close(struct gen *g)
{
    if (!g)
        return;
    xgw_listen_close(g->lis);
    g->lis = NULL;
    xgw__log(NULL, XGW_LOG_DEBUG, "stop", "status server closed");
    for (size_t i = 0; i < g->n_subs; i++)
        xgw_unsubscribe(g->subs[i].sub);
    xgw__log(NULL, XGW_LOG_DEBUG, "stop", "%zu subscription(s) closed", g->n_subs);
    xgw_close(g->gw);
    xgw__log(NULL, XGW_LOG_DEBUG, "stop", "gateway closed");
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

/* Checks xgw_subscribe would make only when it is called, made before a
 * reload switches over so that such a file is refused while the old
 * configuration still runs. */
static int precheck(const struct sub_rec *r, const struct xgw_exchange *ex, struct xgw_error *err)
{
    const struct xgw_plugin *p = ex->plugin;
    int rc = 0;
    if (!p->ws_path || !p->ws_sub_msg || !p->ws_parse)
        rc = fail(err, XGW_ERR_UNSUPPORTED, "streams of %s: plugin %s has no streams", r->instance, p->name);
    else if (r->spec.channel == XGW_CH_BOOK && p->ws.book_model == XGW_BOOK_NONE)
        rc = fail(err, XGW_ERR_UNSUPPORTED, "streams of %s: plugin %s has no book stream", r->instance,
                  p->name);
    else if (r->spec.channel == XGW_CH_ORDERS && (!ex->cfg->api_key || !ex->cfg->api_key[0]))
        rc =
            fail(err, XGW_ERR_AUTH, "streams of %s: the orders stream needs api_key/api_secret", r->instance);
    if (rc) {
        snprintf(err->file, sizeof err->file, "%s", ex->gw->cfg->path);
        err->line = xgw__config_line(ex->cfg, "streams");
        snprintf(err->key, sizeof err->key, "streams");
        snprintf(err->exchange, sizeof err->exchange, "%s", r->instance);
    }
    return rc;
}

/* Open and start a generation from the file and prepare (and check) its
 * subscriptions; gen_subscribe starts them. No server yet. */
static int gen_open(struct cli *c, const char *listen_override, struct gen **out, struct xgw_error *err)
{
    *out = NULL;
    struct gen *g = calloc(1, sizeof *g);
    if (!g)
        return fail(err, XGW_ERR_INTERNAL, "out of memory");
    pthread_mutex_init(&g->mu, NULL);
    struct xgw_open_opts o = {.plugin_dir = c->plugin_dir};
    if (!(g->gw = xgw_open(c->config, &o, err))) {
        pthread_mutex_destroy(&g->mu);
        free(g);
        return err->kind ? (int)err->kind : XGW_ERR_INTERNAL;
    }
    const struct xgw__config *cfg = g->gw->cfg;
    const char *listen = listen_override ? listen_override : cfg->metrics_listen;
    int rc = 0;
    if (!listen)
        rc = fail(
            err, XGW_ERR_CONFIG,
            "serve needs an address: set metrics_listen in [gateway] of %s (e.g. 127.0.0.1:9464) or give "
            "--listen ADDR",
            c->config);
    else if (strlen(listen) >= sizeof g->listen_cfg)
        rc = fail(err, XGW_ERR_CONFIG, "the listen address %s is too long", listen);
    if (rc) {
        if (err->kind == XGW_ERR_CONFIG && !listen_override) {
            snprintf(err->file, sizeof err->file, "%s", c->config);
            snprintf(err->key, sizeof err->key, "metrics_listen");
        }
        gen_close(g);
        return rc;
    }
    snprintf(g->listen_cfg, sizeof g->listen_cfg, "%s", listen);
    g->listen_flags = cfg->metrics_listen_public ? XGW_LISTEN_PUBLIC : 0;

    /* Every subscription record exists before the server starts, so the
     * array never moves under the status function. */
    size_t total = 0;
    struct xgw__stream_spec **specs = calloc(g->gw->n_exchanges + 1, sizeof *specs);
    size_t *n_specs = calloc(g->gw->n_exchanges + 1, sizeof *n_specs);
    if (!specs || !n_specs)
        rc = fail(err, XGW_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; !rc && i < g->gw->n_exchanges; i++) {
        const struct xgw__inst_cfg *ic = g->gw->exchanges[i].cfg;
        char why[160];
        if (ic->streams && xgw__streams_parse(ic->streams, &specs[i], &n_specs[i], why, sizeof why) != 0)
            rc = fail(err, XGW_ERR_CONFIG, "streams of %s: %s", ic->name,
                      why); /* the config load checked it */
        total += n_specs[i];
    }
    if (!rc && total && !(g->subs = calloc(total, sizeof *g->subs)))
        rc = fail(err, XGW_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; !rc && i < g->gw->n_exchanges; i++) {
        struct xgw_exchange *ex = &g->gw->exchanges[i];
        for (size_t k = 0; !rc && k < n_specs[i]; k++) {
            struct sub_rec *r = &g->subs[g->n_subs];
            r->g = g;
            r->ex = ex;
            r->instance = ex->cfg->name;
            r->spec = specs[i][k];
            r->id = (int)g->n_subs + 1;
            rc = precheck(r, ex, err);
            g->n_subs++;
        }
    }
    for (size_t i = 0; specs && i < g->gw->n_exchanges; i++)
        free(specs[i]);
    free(specs);
    free(n_specs);
    if (!rc)
        rc = xgw_start(g->gw, err);
    if (rc) {
        gen_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

/* Start every subscription of g. 0, or the first failure (the others are
 * still attempted; a failed one stays without a sub and is not shown). */
static int gen_subscribe(struct gen *g, struct xgw_error *first)
{
    int rc0 = 0;
    for (size_t i = 0; i < g->n_subs; i++) {
        struct sub_rec *r = &g->subs[i];
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

/* Start g's status server on its address; reuse_port > 0 replaces a
 * configured port 0 (a reload keeps the port scrapers know). */
static int gen_listen(struct gen *g, int reuse_port, struct xgw_error *err)
{
    char addr[160];
    snprintf(addr, sizeof addr, "%s", g->listen_cfg);
    char *colon = strrchr(addr, ':');
    if (reuse_port > 0) {
        if (!colon)
            snprintf(addr, sizeof addr, "%d", reuse_port);
        else if (!strcmp(colon + 1, "0"))
            snprintf(colon + 1, sizeof addr - (size_t)(colon + 1 - addr), "%d", reuse_port);
    }
    return xgw__listen_ex(g->gw, addr, g->listen_flags, status_fn, g, &g->lis, err);
}

static void print_life(const char *event, const struct gen *g)
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
        const char *n = g->gw->exchanges[i].cfg->name;
        if (i)
            xgw__buf_append_str(&b, ",");
        xgw__buf_json_str(&b, n, strlen(n));
    }
    xgw__buf_append_str(&b, "]");
    cli_j_int(&b, "subscriptions", (long long)g->n_subs);
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

/* SIGHUP: open and check the new generation beside the old one; switch
 * only when that succeeded. The new generation subscribes its streams only
 * after the old gateway is closed: two live libwebsockets contexts with
 * TLS (the old gateway's and the new one's) make lws 4.1 re-run its global
 * OpenSSL set-up, which leaks the older context's client SSL_CTX (about
 * 0.7 MB per reload, seen by LeakSanitizer). Returns the generation that
 * serves afterwards. */
static struct gen *reload(struct cli *c, const char *listen_override, struct gen *old)
{
    xgw__log(NULL, XGW_LOG_INFO, "reload", "SIGHUP: reloading %s", c->config);
    struct xgw_error err;
    memset(&err, 0, sizeof err);
    struct gen *g = NULL;
    if (gen_open(c, listen_override, &g, &err) != 0) {
        print_reload_failed(&err);
        return old;
    }
    /* The port moves only when the address changed; a configured port 0
     * keeps the port already bound. */
    int old_port = xgw_listener_port(old->lis);
    bool same = !strcmp(g->listen_cfg, old->listen_cfg);
    xgw_listen_close(old->lis);
    old->lis = NULL;
    if (gen_listen(g, same ? old_port : 0, &err) != 0) {
        print_reload_failed(&err);
        gen_close(g);
        struct xgw_error e2;
        if (gen_listen(old, old_port, &e2) != 0) {
            /* Neither address can be bound any more: keep the old gateway and
             * its streams running, without a status server, and say so. */
            xgw__log(NULL, XGW_LOG_ERROR, "listen", "cannot serve on %s again: %s", old->listen_cfg,
                     e2.message);
        }
        return old;
    }
    gen_close(old);
    struct xgw_error serr;
    if (gen_subscribe(g, &serr) != 0) {
        /* Only failures the pre-check cannot foresee (out of memory, a
         * closing gateway) get here; each was logged. The new configuration
         * stays: the old one is gone. */
        cli_print_error(&serr);
    }
    print_life("reloaded", g);
    xgw__log(NULL, XGW_LOG_INFO, "reload", "configuration reloaded: %zu instance(s), %zu subscription(s)",
             g->gw->n_exchanges, g->n_subs);
    return g;
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
    struct gen *g = NULL;
    int rc = gen_open(c, listen_override, &g, &err);
    if (rc == 0)
        rc = gen_subscribe(g, &err);
    if (rc == 0)
        rc = gen_listen(g, 0, &err);
    if (rc != 0) {
        gen_close(g);
        cli_print_error(&err);
        return err.kind == XGW_ERR_CONFIG || err.kind == XGW_ERR_PLUGIN ? CLI_USAGE : CLI_FAIL;
    }
    print_life("serving", g);

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
            g = reload(c, listen_override, g);
            continue;
        }
        break;
    }
    xgw__log(NULL, XGW_LOG_INFO, "stop", "%s: closing streams and pending calls",
             sig == SIGINT    ? "SIGINT"
             : sig == SIGTERM ? "SIGTERM"
                              : "stop");
    gen_close(g);
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
     "/status.json and / (status page). SIGHUP reloads the file (a bad file is refused and the running\n"
     "configuration kept); SIGTERM/SIGINT stop it (exit 0). Prints one JSON line per event.",
     run_serve},
    {NULL, NULL, NULL, NULL},
};
