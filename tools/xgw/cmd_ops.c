/*
 * tools/xgw/cmd_ops.c — operational commands: `metrics`.
 *
 * `xgw -c FILE metrics [--format json|prometheus]` opens the gateway
 * without network traffic and prints its metric families: the layout an
 * embedding application or `xgw serve` (GET /metrics) exposes live. The
 * Prometheus form is text exposition 0.0.4 (HELP/TYPE lines, histograms
 * with _bucket/_sum/_count, counters ending in _total).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
    {"metrics", "[--format json|prometheus]",
     "Print the gateway's metrics: per instance and endpoint, requests by op and outcome,\n"
     "latency histograms (p50/p90/p99/max), bytes, connections opened/reused/closed, in-flight.\n"
     "--format prometheus prints Prometheus text exposition (names xgw_*).",
     cmd_metrics},
    {0},
};
