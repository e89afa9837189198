/*
 * core/reload.c — reloading a running gateway's configuration in place
 * (xgw__gateway_reload, gateway.h; SIGHUP of `xgw serve`): the new file is
 * validated whole, then instances are kept, added, removed or replaced one
 * by one, so unchanged instances keep their connections and streams.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "gateway.h"
#include "http.h"
#include "log.h"
#include "stream.h"
static bool str_eq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* Same keys with the same values, in any order. `streams` does not count:
 * it says what `xgw serve` subscribes, not how the instance works, and a
 * host compares it subscription by subscription. */
static bool kvs_same(const struct xgw__kv *a, size_t na, const struct xgw__kv *b, size_t nb)
{
    size_t ca = 0, cb = 0;
    for (size_t i = 0; i < na; i++) {
        if (!strcmp(a[i].key, "streams"))
            continue;
        ca++;
        size_t k = 0;
        while (k < nb && strcmp(b[k].key, a[i].key) != 0)
            k++;
        if (k == nb || !str_eq(a[i].value, b[k].value))
            return false;
    }
    for (size_t i = 0; i < nb; i++)
        cb += strcmp(b[i].key, "streams") != 0;
    return ca == cb;
}

/* Unchanged means: plugin, network, every core key as written (values after
 * ${VAR} expansion), the plugin's keys with their defaults, and the secrets
 * themselves (a secret file may change under the same path). Both are bound
 * to their plugin. Not seen: a CA file whose content changed under the
 * same path. */
static bool inst_same(const struct xgw__inst_cfg *a, const struct xgw__inst_cfg *b)
{
    return str_eq(a->plugin, b->plugin) && str_eq(a->network, b->network) && str_eq(a->api_key, b->api_key) &&
           str_eq(a->api_secret, b->api_secret) && str_eq(a->ca_file, b->ca_file) &&
           kvs_same(a->given, a->n_given, b->given, b->n_given) &&
           kvs_same(a->extras, a->n_extras, b->extras, b->n_extras);
}

static bool cfg_used(const struct xgw_gateway *gw, const struct xgw__config *cfg)
{
    for (size_t i = 0; i < gw->n_exchanges; i++)
        for (size_t k = 0; k < cfg->n_insts; k++)
            if (gw->exchanges[i]->cfg == &cfg->insts[k])
                return true;
    return false;
}

/* Close instances taken out of the gateway (ex->removed set, queued tasks
 * drained) and free them; the caller drives the loop. */
static void exchanges_close(struct xgw_gateway *gw, struct xgw_exchange **exs, size_t n,
                            const struct xgw__reload_hooks *hooks)
{
    for (size_t i = 0; i < n; i++) {
        struct xgw_exchange *ex = exs[i];
        if (!ex)
            continue;
        if (hooks && hooks->closing)
            hooks->closing(hooks->user, ex);
        /* Streams first, as in xgw_close: their snapshot and token requests
         * are calls cancelled below. */
        xgw__streams_close_instance(ex);
        xgw__exchange_cancel(ex);
        if (ex->http)
            xgw__http_free(ex->http); /* frees itself once libuv closed its handles */
        ex->http = NULL;
    }
    int64_t deadline = xgw__mono_us() + 5 * INT64_C(1000000);
    for (;;) {
        bool open = false;
        for (size_t i = 0; i < n; i++)
            open = open || (exs[i] && exs[i]->handles_open);
        if (!open || xgw__mono_us() > deadline)
            break;
        uv_run(&gw->loop.uv, UV_RUN_NOWAIT);
    }
    for (size_t i = 0; i < n; i++) {
        if (exs[i] && exs[i]->handles_open) {
            /* leaked on purpose: libuv still holds its timers */
            xgw__log(exs[i]->cfg->name, XGW_LOG_ERROR, "reload", "instance timers did not close in time");
            continue;
        }
        xgw__exchange_free(exs[i]);
    }
}

/* Give the loop back: to a new I/O thread when there was one, else to
 * whichever thread drives it next. */
static void loop_release(struct xgw_gateway *gw, bool had_thread)
{
    pthread_mutex_lock(&gw->loop.mu);
    gw->loop.driving = false;
    pthread_cond_broadcast(&gw->loop.cv);
    pthread_mutex_unlock(&gw->loop.mu);
    if (!had_thread)
        return;
    /* A synchronous caller may take the free role in between (no I/O
     * thread): the thread starts once it lets go, which is at the end of
     * its call. */
    for (int i = 0; i < 10000; i++) {
        if (xgw__loop_start(&gw->loop) == XGW_OK)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    xgw__log(NULL, XGW_LOG_ERROR, "reload", "the I/O thread could not be restarted after the reload");
}

int xgw__gateway_reload(struct xgw_gateway *gw, const char *path, const char *plugin_dir,
                        const struct xgw__reload_hooks *hooks, struct xgw__reload_stats *stats, struct xgw_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    struct xgw__reload_stats st = {0};
    if (stats)
        *stats = st;
    if (!gw || !path)
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "reload: gateway and file are required");
    if (xgw__loop_on_loop_thread(&gw->loop) || atomic_load(&gw->closing))
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0,
                               "reload: not from a gateway callback, nor while the gateway closes");

    /* 1. Validate the whole file before anything changes: syntax and core
     * keys, each instance's plugin and plugin keys, the host's checks. */
    struct xgw__config *ncfg = NULL;
    int rc = xgw__config_load(path, plugin_dir, &ncfg, err);
    if (rc != XGW_OK)
        return rc;
    for (size_t j = 0; rc == XGW_OK && j < ncfg->n_insts; j++) {
        struct xgw__inst_cfg *ic = &ncfg->insts[j];
        const struct xgw_plugin *p = xgw__gw_plugin(gw, ncfg->plugin_dir, ic->plugin, err);
        if (!p)
            rc = err && err->kind ? (int)err->kind : XGW_ERR_PLUGIN;
        else
            rc = xgw__config_bind_plugin(ncfg, ic, p, err);
        if (rc == XGW_OK && hooks && hooks->check_instance)
            rc = hooks->check_instance(hooks->user, ncfg, ic, p, err);
    }
    if (rc == XGW_OK && hooks && hooks->check_config)
        rc = hooks->check_config(hooks->user, ncfg, err);

    /* 2. Plan: a running instance whose configuration is unchanged is kept
     * as it is (calls, pools, breakers, streams and counters); every other
     * one is closed, and every new or changed one built afresh. */
    size_t n_old = gw->n_exchanges, n_new = ncfg->n_insts;
    struct xgw_exchange **next = NULL, **gone = NULL;
    bool *fresh = NULL;
    if (rc == XGW_OK) {
        next = calloc(n_new ? n_new : 1, sizeof(struct xgw_exchange *));
        fresh = calloc(n_new ? n_new : 1, sizeof *fresh);
        gone = calloc(n_old ? n_old : 1, sizeof(struct xgw_exchange *));
        if (!next || !fresh || !gone)
            rc = xgw__oom(err);
    }
    if (rc != XGW_OK)
        goto out;
    for (size_t i = 0; i < n_old; i++)
        gone[i] = gw->exchanges[i];
    for (size_t j = 0; j < n_new; j++)
        for (size_t i = 0; i < n_old; i++)
            if (gone[i] && !strcmp(gone[i]->cfg->name, ncfg->insts[j].name)) {
                if (inst_same(gone[i]->cfg, &ncfg->insts[j])) {
                    next[j] = gone[i];
                    gone[i] = NULL;
                    st.kept++;
                } else {
                    st.replaced++;
                }
                break;
            }
    st.added = n_new - st.kept - st.replaced;
    st.removed = n_old - st.kept - st.replaced;

    /* 3. The calling thread drives the loop from here: nothing runs beside
     * it, and it may run the loop itself to close handles. */
    bool had_thread = gw->loop.has_thread;
    xgw__loop_take_over(&gw->loop);

    /* 4. Build the new instances beside the running ones: a failure here
     * (a plugin refusing its instance, a pool) still changes nothing. */
    for (size_t j = 0; rc == XGW_OK && j < n_new; j++) {
        if (next[j])
            continue;
        if (!(next[j] = calloc(1, sizeof *next[j]))) {
            rc = xgw__oom(err);
            break;
        }
        fresh[j] = true;
        rc = xgw__exchange_init(gw, next[j], &ncfg->insts[j], err);
    }
    if (rc != XGW_OK) {
        /* Close what was built; kept instances are not touched (next is
         * freed below, so its slots can be cleared). */
        for (size_t j = 0; j < n_new; j++) {
            if (!fresh[j])
                next[j] = NULL;
            else if (next[j])
                next[j]->removed = true;
        }
        exchanges_close(gw, next, n_new, NULL);
        loop_release(gw, had_thread);
        goto out;
    }

    /* 5. Commit. Tasks already queued for the instances that go (warm-up,
     * calls) run first and see them removed; then those instances close. */
    for (size_t i = 0; i < n_old; i++)
        if (gone[i])
            gone[i]->removed = true;
    uv_run(&gw->loop.uv, UV_RUN_NOWAIT);
    exchanges_close(gw, gone, n_old, hooks);
    free(gw->exchanges);
    gw->exchanges = next;
    gw->n_exchanges = n_new;
    /* Kept instances borrow their configuration from the file they were
     * opened from: an older configuration lives until none does. */
    struct xgw__config **olds = realloc(gw->old_cfgs, (gw->n_old_cfgs + 1) * sizeof(struct xgw__config *));
    if (olds) {
        gw->old_cfgs = olds;
        gw->old_cfgs[gw->n_old_cfgs++] = gw->cfg;
    } else if (cfg_used(gw, gw->cfg)) {
        xgw__log(NULL, XGW_LOG_WARN, "reload", "out of memory: the previous configuration is kept in memory");
    } else {
        xgw__config_free(gw->cfg);
    }
    gw->cfg = ncfg;
    for (size_t k = 0; k < gw->n_old_cfgs;) {
        if (cfg_used(gw, gw->old_cfgs[k])) {
            k++;
            continue;
        }
        xgw__config_free(gw->old_cfgs[k]);
        gw->old_cfgs[k] = gw->old_cfgs[--gw->n_old_cfgs];
    }
    xgw__log_configure(ncfg->log_level, ncfg->log_json);
    if (!gw->no_network)
        for (size_t j = 0; j < n_new; j++)
            if (fresh[j])
                xgw__instance_start(next[j]);
    loop_release(gw, had_thread);
    free(fresh);
    free(gone);
    if (stats)
        *stats = st;
    return XGW_OK;

out: /* refused: the gateway is as it was */
    free(next);
    free(fresh);
    free(gone);
    xgw__config_free(ncfg);
    return rc;
}
