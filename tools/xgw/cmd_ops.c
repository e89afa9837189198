/*
 * tools/xgw/cmd_ops.c — operational commands: `metrics`.
 *
 * `xgw -c FILE [-x I] health [--wait-s N]` starts the gateway, waits until
 * every endpoint's first health check has decided (or N seconds), and
 * prints one JSON line per instance (state, endpoints with health, breaker,
 * failures, latency, last error) and a last line with the overall state.
 * Exit 1 when anything is UNHEALTHY, so it serves as a probe in scripts.
 *
 * `xgw -c FILE metrics [--format json|prometheus]` opens the gateway
 * without network traffic and prints its metric families: the layout an
 * embedding application or `xgw serve` (GET /metrics) exposes live. The
 * Prometheus form is text exposition 0.0.4 (HELP/TYPE lines, histograms
 * with _bucket/_sum/_count, counters ending in _total).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* The instances the command is about: every one, or -x's. */
static bool selected(const struct cli *c, const cJSON *inst)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(inst, "instance"));
    return !c->instance || (name && !strcmp(name, c->instance));
}

/* True when no endpoint of a selected instance is still UNKNOWN. */
static bool all_decided(const struct cli *c, const cJSON *h)
{
    const cJSON *inst;
    cJSON_ArrayForEach(inst, cJSON_GetObjectItemCaseSensitive(h, "instances"))
    {
        if (!selected(c, inst))
            continue;
        const cJSON *ep;
        cJSON_ArrayForEach(ep, cJSON_GetObjectItemCaseSensitive(inst, "endpoints"))
        {
            const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ep, "state"));
            if (!st || !strcmp(st, "UNKNOWN"))
                return false;
        }
    }
    return true;
}

static cJSON *health_now(struct xgw_gateway *gw)
{
    char *json = NULL;
    if (xgw_health(gw, &json, NULL) != 0)
        return NULL;
    cJSON *h = cJSON_Parse(json);
    free(json);
    return h;
}

static int cmd_health(struct cli *c, int argc, char **argv)
{
    long wait_s = 10;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "--wait-s") && i + 1 < argc)
            wait_s = strtol(argv[++i], &end, 10);
        else
            return cli_usage_error("unexpected argument \"%s\"; see xgw health --help", argv[i]);
        if (!end || *end || wait_s < 0 || wait_s > 3600)
            return cli_usage_error("--wait-s takes whole seconds 0..3600");
    }
    struct xgw_gateway *gw = cli_open(c, false);
    if (!gw)
        return CLI_USAGE;
    struct xgw_error err;
    if (xgw_start(gw, &err) != 0) {
        cli_print_error(&err);
        xgw_close(gw);
        return CLI_FAIL;
    }
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cJSON *h = NULL;
    for (;;) {
        cJSON_Delete(h);
        h = health_now(gw);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long ms = (now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (!h || all_decided(c, h) || ms >= wait_s * 1000)
            break;
        struct timespec d = {0, 50 * 1000000L};
        nanosleep(&d, NULL);
    }
    xgw_close(gw);
    if (!h) {
        struct xgw_error e = {.kind = XGW_ERR_INTERNAL};
        snprintf(e.message, sizeof e.message, "the health report could not be built");
        cli_print_error(&e);
        return CLI_FAIL;
    }
    /* The overall state of what was asked for: the worst selected instance. */
    static const char *const order[] = {"HEALTHY", "UNKNOWN", "DEGRADED", "UNHEALTHY"};
    int worst = -1;
    const cJSON *inst;
    cJSON_ArrayForEach(inst, cJSON_GetObjectItemCaseSensitive(h, "instances"))
    {
        if (!selected(c, inst))
            continue;
        char *line = cJSON_PrintUnformatted(inst);
        if (line)
            printf("%s\n", line);
        free(line);
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(inst, "state"));
        for (int k = 0; st && k < 4; k++)
            if (!strcmp(st, order[k]) && k > worst)
                worst = k;
    }
    cJSON_Delete(h);
    if (worst < 0) {
        if (c->instance)
            return cli_usage_error("no instance named \"%s\" in %s", c->instance, c->config);
        worst = 1; /* no instance at all */
    }
    printf("{\"state\":\"%s\"}\n", order[worst]);
    fflush(stdout);
    return worst == 3 ? CLI_FAIL : CLI_OK;
}

static int cmd_metrics(struct cli *c, int argc, char **argv)
{
    enum xgw_metrics_format fmt = XGW_METRICS_JSON;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--format") && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "--format=", 9))
            v = argv[i] + 9;
        else
            return cli_usage_error("unexpected argument \"%s\"; see xgw metrics --help", argv[i]);
        if (!strcmp(v, "json"))
            fmt = XGW_METRICS_JSON;
        else if (!strcmp(v, "prometheus"))
            fmt = XGW_METRICS_PROMETHEUS;
        else
            return cli_usage_error("--format must be json or prometheus, not \"%s\"", v);
    }
    struct xgw_gateway *gw = cli_open(c, true);
    if (!gw)
        return CLI_USAGE;
    char *out = NULL;
    int rc = xgw_metrics(gw, fmt, &out);
    xgw_close(gw);
    if (rc != 0) {
        struct xgw_error err = {.kind = (enum xgw_err_kind)rc};
        snprintf(err.message, sizeof err.message, "metrics could not be rendered");
        cli_print_error(&err);
        return CLI_FAIL;
    }
    fputs(out, stdout);
    fflush(stdout);
    free(out);
    return CLI_OK;
}

const struct cli_command cli_cmds_ops[] = {
    {"health", "[--wait-s N]",
     "Run the health checks once and print, per instance, its state and each endpoint's health,\n"
     "circuit breaker, consecutive failures, last latency and last error; then {\"state\":...}.\n"
     "Waits up to N seconds (default 10) for every endpoint's first check. Exit 1 when UNHEALTHY.",
     cmd_health},
    {"metrics", "[--format json|prometheus]",
     "Print the gateway's metrics: per instance and endpoint, requests by op and outcome,\n"
     "latency histograms (p50/p90/p99/max), bytes, connections opened/reused/closed, in-flight.\n"
     "--format prometheus prints Prometheus text exposition (names xgw_*).",
     cmd_metrics},
    {0},
};
