/*
 * tools/examples/plugin-minimal/minimal.c — the smallest useful xgw plugin.
 *
 * It teaches xgw one "exchange" that answers two operations, PING (health
 * checks) and TIME (`xgw time`), over the simplest real API there is:
 * Binance USD-M futures' public GET /fapi/v1/ping and GET /fapi/v1/time.
 * The bundled mock exchange (xgw-mockex) speaks it too, which is how the
 * install test runs this plugin. Everything else answers UNSUPPORTED.
 *
 * Read it top to bottom next to include/xgw/plugin.h and docs/plugins.md:
 *   1. per-instance state (no globals: two [exchange.*] sections may load
 *      this file twice);
 *   2. create / destroy / client_id;
 *   3. build: op + arguments -> method, path, headers, body;
 *   4. parse: HTTP answer -> neutral records, or a classified error;
 *   5. cost: what each op takes from the declared rate-limit buckets;
 *   6. the static const descriptor and the one exported function.
 *
 * Rules this file follows because the loader or the ABI insists:
 *   - include only xgw/plugin.h (and the C library): no libcurl, OpenSSL or
 *     cJSON type crosses the ABI, and the core is reached only through the
 *     `core` table handed to create() — the plugin is linked with -z defs
 *     and a version script, so calling the core by symbol fails at link;
 *   - export exactly one symbol, xgw_plugin_entry, returning a static const
 *     descriptor and doing nothing else (it runs inside dlopen);
 *   - the descriptor's name equals the file name ("minimal" = minimal.so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgw/plugin.h>

/* 1. State of one instance. Everything the callbacks need hangs off it. */
struct minimal {
    const struct xgw_core_api *core; /* the core's services: log, cfg, buffers, emit, set_error ... */
    struct xgw_inst_ctx *ctx;        /* the core's handle for this instance */
    const char *time_path;           /* our own config key (see keys[] below) */
};

/* 2. Lifecycle. create() reads configuration and may refuse it. */
static void *mn_create(const struct xgw_core_api *core, struct xgw_inst_ctx *ctx, struct xgw_error *err)
{
    struct minimal *m = calloc(1, sizeof *m);
    if (!m) {
        core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
        return NULL;
    }
    m->core = core;
    m->ctx = ctx;
    /* Declared keys come back with their default applied; the string is
     * borrowed until destroy(). */
    m->time_path = core->cfg(ctx, "time_path");
    if (!m->time_path || m->time_path[0] != '/') {
        core->set_error(err, XGW_ERR_CONFIG, 0, "time_path must start with '/'");
        free(m);
        return NULL;
    }
    core->log(ctx, XGW_LOG_DEBUG, "minimal plugin ready (time from %s)", m->time_path);
    return m;
}

static void mn_destroy(void *self)
{
    /* A real exchange plugin wipes key material here (core->secure_zero). */
    free(self);
}

/* Every plugin can name orders, even one that cannot place them: the core
 * gives each order a client id before anything is sent. */
static int mn_client_id(void *self, char *out, size_t cap)
{
    struct minimal *m = self;
    unsigned char r[8];
    if (m->core->random_bytes(r, sizeof r))
        return XGW_ERR_INTERNAL;
    char hex[2 * sizeof r + 1];
    m->core->hex_lower(r, sizeof r, hex);
    snprintf(out, cap, "mn-%s", hex);
    return XGW_OK;
}

/* 3. Build the request for op into req (core-owned buffers, already empty).
 * A signing exchange would add its timestamp, signature and key header
 * here with core->hmac_sha256 / core->hex_lower and set req->sensitive. */
static int mn_build(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
                    struct xgw_error *err)
{
    struct minimal *m = self;
    (void)call;
    req->method = XGW_HTTP_GET;
    switch (op) {
    case XGW_OP_PING:
        return m->core->buf_printf(&req->target, "/fapi/v1/ping");
    case XGW_OP_TIME:
        return m->core->buf_printf(&req->target, "%s", m->time_path);
    default:
        return m->core->set_error(err, XGW_ERR_UNSUPPORTED, 0,
                                  "the minimal plugin offers only ping and time");
    }
}

/* Find "name": <integer> in a small JSON object. A real plugin would use a
 * JSON parser (the shipped plugins link the system's cJSON as a shared
 * library); two fields do not justify one here. Returns 0 on success. */
static int json_int(const char *body, size_t len, const char *name, long long *out)
{
    char key[64];
    int kl = snprintf(key, sizeof key, "\"%s\"", name);
    for (size_t i = 0; kl > 0 && i + (size_t)kl <= len; i++) {
        if (memcmp(body + i, key, (size_t)kl) != 0)
            continue;
        size_t j = i + (size_t)kl;
        while (j < len && (body[j] == ' ' || body[j] == ':'))
            j++;
        long long v = 0;
        size_t digits = 0;
        for (; j < len && body[j] >= '0' && body[j] <= '9' && digits < 18; j++, digits++)
            v = v * 10 + (body[j] - '0');
        if (!digits)
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

/* 4. Parse the answer (called for every answer, 4xx/5xx included): emit
 * neutral records and return XGW_OK, or return the error's kind. The kind
 * drives the core: SERVER and NETWORK count against the endpoint's breaker
 * and may fail over; RATE_LIMITED backs off; INVALID_REQUEST does neither. */
static int mn_parse(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
                    struct xgw_sink *out, struct xgw_error *err)
{
    struct minimal *m = self;
    (void)call;
    int status = m->core->resp_status(resp);
    size_t len = 0;
    const char *body = m->core->resp_body(resp, &len);
    if (status == 429 || status == 418) {
        err->retry_after_ms = 1000;
        return m->core->set_error(err, XGW_ERR_RATE_LIMITED, 0, "rate limited (HTTP %d); slow down", status);
    }
    if (status >= 500)
        return m->core->set_error(err, XGW_ERR_SERVER, 0, "server error (HTTP %d)", status);
    if (status != 200)
        return m->core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "HTTP %d: %.*s", status,
                                  (int)(len > 120 ? 120 : len), body ? body : "");
    if (op == XGW_OP_PING)
        return XGW_OK; /* "{}" : reachable is all a health check needs */

    long long ms = 0;
    if (!body || json_int(body, len, "serverTime", &ms) != 0)
        return m->core->set_error(err, XGW_ERR_PROTOCOL, 0, "no serverTime in the answer");
    int64_t t = ms;
    return m->core->emit(out, XGW_REC_TIME, &t); /* copied by the core */
}

/* 5. Rate limits: one bucket, each request costs 1 unit of it. The core
 * keeps requests inside rate_limit_margin of it, per instance. */
static const struct xgw_rl_bucket buckets[] = {
    {.name = "requests_1m", .limit = 1200, .interval_ms = 60000},
};

static void mn_cost(void *self, enum xgw_op op, const struct xgw_call *call, uint32_t *costs)
{
    (void)self, (void)op, (void)call;
    costs[0] = 1;
}

/* 6. Static facts and the descriptor. */
static const char *const mainnet_rest[] = {"https://fapi.binance.com"};
static const struct xgw_network networks[] = {
    /* The first network is the default; `rest_endpoints = ...` overrides its URLs. */
    {.name = "mainnet", .rest = mainnet_rest, .n_rest = 1},
};

/* Keys of this plugin's own, besides the core's (plugin, network,
 * rest_endpoints, api_key, ...). The core validates them, applies the
 * default and shows them in `xgw --help`. */
static const struct xgw_cfg_key keys[] = {
    {.name = "time_path",
     .type = XGW_CFG_STRING,
     .def = "/fapi/v1/time",
     .help = "Path of the server-time endpoint."},
};

static const struct xgw_plugin descriptor = {
    .abi_version = XGW_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct xgw_plugin),
    .name = "minimal",
    .version = "0.1.0",
    .description = "Minimal example plugin: ping and server time over Binance futures' public API",
    .networks = networks,
    .n_networks = sizeof networks / sizeof networks[0],
    .keys = keys,
    .n_keys = sizeof keys / sizeof keys[0],
    .buckets = buckets,
    .n_buckets = sizeof buckets / sizeof buckets[0],
    .ws = {.book_model = XGW_BOOK_NONE}, /* no streams: the ws_* members stay NULL */
    .create = mn_create,
    .destroy = mn_destroy,
    .client_id = mn_client_id,
    .build = mn_build,
    .parse = mn_parse,
    .cost = mn_cost,
};

/* The one exported symbol (visibility default; everything else is hidden
 * by -fvisibility=hidden and the version script). It must stay pure. */
__attribute__((visibility("default"))) const struct xgw_plugin *xgw_plugin_entry(void);
const struct xgw_plugin *xgw_plugin_entry(void)
{
    return &descriptor;
}
