/*
 * tools/xgw/cmd_check.c — `xgw -c FILE check`: load the configuration and
 * every plugin, bind each instance's keys to its plugin, and create and
 * destroy each instance (so the plugin's own key validation runs too),
 * without any network traffic. Prints one JSON line per instance; nothing
 * is printed on stdout unless every instance passed, so a script never sees
 * half a report with exit status 2.
 *
 * It uses the internal APIs directly (not xgw_open) because it must work
 * without starting the event loop and must report which step failed.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "instctx.h"
#include "loader.h"
#include "log.h"

struct loaded {
    struct xgw__plugin **v;
    size_t n;
};

static struct xgw__plugin *find_loaded(const struct loaded *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i]->name, name))
            return l->v[i];
    return NULL;
}

static cJSON *string_array(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

/* Check one instance: plugin, keys, create/destroy. Returns the JSON line
 * (caller frees) or NULL with err filled. */
static char *check_instance(const struct xgw__config *cfg, struct xgw__inst_cfg *inst, struct loaded *plugins,
                            struct xgw_error *err)
{
    struct xgw__plugin *p = find_loaded(plugins, inst->plugin);
    if (!p) {
        if (xgw__plugin_load(cfg->plugin_dir, inst->plugin, &p, err) != 0) {
            /* point at the config line that asked for the plugin; the loader's
             * message names the .so file */
            snprintf(err->file, sizeof err->file, "%s", cfg->path);
            err->line = xgw__config_line(inst, "plugin");
            snprintf(err->key, sizeof err->key, "plugin");
            snprintf(err->exchange, sizeof err->exchange, "%s", inst->name);
            return NULL;
        }
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sizeof *nv is one */
        struct xgw__plugin **nv = realloc(plugins->v, (plugins->n + 1) * sizeof *nv);
        if (!nv) {
            xgw__plugin_unload(p);
            xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
            return NULL;
        }
        plugins->v = nv;
        plugins->v[plugins->n++] = p;
    }
    const struct xgw_plugin *d = p->desc;
    if (xgw__config_bind_plugin(cfg, inst, d, err) != 0)
        return NULL;

    struct xgw_inst_ctx *ctx = xgw__inst_ctx_new(inst);
    if (!ctx) {
        xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
        return NULL;
    }
    memset(err, 0, sizeof *err);
    void *self = d->create(xgw__core_api(), ctx, err);
    if (!self) {
        if (err->kind == XGW_OK)
            xgw__set_errorf(err, XGW_ERR_PLUGIN, 0, "plugin %s refused to create instance %s without saying why",
                            d->name, inst->name);
        if (err->kind == XGW_ERR_CONFIG && !err->file[0]) {
            /* the plugin names the key; we know where it is */
            snprintf(err->file, sizeof err->file, "%s", cfg->path);
            err->line = err->key[0] ? xgw__config_line(inst, err->key) : inst->line;
        }
        snprintf(err->exchange, sizeof err->exchange, "%s", inst->name);
        xgw__inst_ctx_free(ctx);
        return NULL;
    }
    d->destroy(self);
    xgw__inst_ctx_free(ctx);

    const struct xgw_network *net = NULL;
    for (size_t i = 0; i < d->n_networks; i++)
        if (!strcmp(d->networks[i].name, inst->network))
            net = &d->networks[i];

    cJSON *o = cJSON_CreateObject();
    char *line = NULL;
    if (o && net) {
        cJSON_AddStringToObject(o, "instance", inst->name);
        cJSON_AddStringToObject(o, "plugin", d->name);
        cJSON_AddStringToObject(o, "plugin_version", d->version);
        cJSON_AddNumberToObject(o, "abi", d->abi_version);
        cJSON_AddStringToObject(o, "network", inst->network);
        if (inst->n_rest)
            cJSON_AddItemToObject(o, "rest_endpoints", string_array((const char *const *)inst->rest_endpoints, inst->n_rest));
        else
            cJSON_AddItemToObject(o, "rest_endpoints", string_array(net->rest, net->n_rest));
        if (inst->n_ws)
            cJSON_AddItemToObject(o, "ws_endpoints", string_array((const char *const *)inst->ws_endpoints, inst->n_ws));
        else
            cJSON_AddItemToObject(o, "ws_endpoints", string_array(net->ws, net->n_ws));
        /* "credentials are configured": api_key, or a secret key of the
         * plugin's own (Hyperliquid signs with private_key and has no API
         * key). Values are never printed. */
        bool cred = inst->api_key != NULL;
        for (size_t i = 0; i < inst->n_extras && !cred; i++)
            cred = inst->extras[i].secret && inst->extras[i].value && inst->extras[i].value[0];
        cJSON_AddBoolToObject(o, "api_key_set", cred);
        line = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(o);
    if (!line)
        xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    return line;
}

static int run_check(struct cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") != 0)
            return cli_usage_error("check takes no arguments (got \"%s\")", argv[i]);
    if (!c->config)
        return cli_usage_error("check needs a configuration file: xgw -c FILE check");

    struct xgw_error err = {0};
    struct xgw__config *cfg = NULL;
    if (xgw__config_load(c->config, c->plugin_dir, &cfg, &err) != 0) {
        cli_print_error(&err);
        return CLI_USAGE;
    }
    /* plugins may log while creating an instance: as the file asks */
    xgw__log_configure(cfg->log_level, cfg->log_json);
    int rc = CLI_OK;
    bool found = c->instance == NULL;
    char **lines = calloc(cfg->n_insts ? cfg->n_insts : 1, sizeof *lines);
    size_t n_lines = 0;
    struct loaded plugins = {0};
    if (!lines) {
        xgw__set_errorf(&err, XGW_ERR_INTERNAL, 0, "out of memory");
        cli_print_error(&err);
        rc = CLI_USAGE;
        goto out;
    }
    if (cfg->n_insts == 0) {
        cli_usage_error("%s defines no [exchange.<instance>] section", cfg->path);
        rc = CLI_USAGE;
        goto out;
    }
    for (size_t i = 0; i < cfg->n_insts; i++) {
        struct xgw__inst_cfg *inst = &cfg->insts[i];
        if (c->instance && strcmp(c->instance, inst->name) != 0)
            continue;
        found = true;
        char *line = check_instance(cfg, inst, &plugins, &err);
        if (!line) {
            cli_print_error(&err);
            rc = CLI_USAGE;
            goto out;
        }
        lines[n_lines++] = line;
    }
    if (!found) {
        rc = cli_usage_error("no instance [exchange.%s] in %s", c->instance, cfg->path);
        goto out;
    }
    for (size_t i = 0; i < n_lines; i++)
        printf("%s\n", lines[i]);
    fflush(stdout);
out:
    for (size_t i = 0; i < n_lines; i++)
        cJSON_free(lines[i]);
    free(lines);
    /* unload only now: every instance of every plugin is destroyed */
    for (size_t i = 0; i < plugins.n; i++)
        xgw__plugin_unload(plugins.v[i]);
    free(plugins.v);
    xgw__config_free(cfg);
    return rc;
}

const struct cli_command cli_cmds_check[] = {
    {"check", "",
     "Validate the configuration and every plugin, without network traffic.\n"
     "Loads each plugin, checks every key (the plugins' own too), creates and destroys\n"
     "each instance, and prints one JSON line per instance:\n"
     "{\"instance\",\"plugin\",\"plugin_version\",\"abi\",\"network\",\"rest_endpoints\",\"ws_endpoints\",\"api_key_set\"}.\n"
     "api_key_set: api_key or a secret key of the plugin is set (values are never printed).\n"
     "Exit 0 when everything is valid, 2 with one JSON error on stderr otherwise.",
     run_check},
    {0},
};
