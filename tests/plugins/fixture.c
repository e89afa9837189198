/*
 * tests/plugins/fixture.c — one tiny plugin, compiled several ways for the
 * loader tests (see CMakeLists.txt): a good one, and one per defect the
 * loader must refuse. Nothing here talks to a network; create() checks one
 * key through the core's table so that `cfg` look-ups are exercised.
 */
#include <stdio.h>
#include <string.h>

#include "xgw/plugin.h"

#ifndef FIX_ABI
#define FIX_ABI XGW_PLUGIN_ABI_VERSION
#endif
#ifndef FIX_STRUCT_SIZE
#define FIX_STRUCT_SIZE ((uint32_t)sizeof(struct xgw_plugin))
#endif
#ifndef FIX_DESC_NAME
#define FIX_DESC_NAME FIX_NAME
#endif

struct fix {
    const struct xgw_core_api *core;
    struct xgw_inst_ctx *ctx;
};

static struct fix fix_storage; /* one instance at a time is enough for the tests */

__attribute__((unused)) static void *fix_create(const struct xgw_core_api *core, struct xgw_inst_ctx *ctx, struct xgw_error *err)
{
    const char *mode = core->cfg(ctx, "fixture_mode");
    if (mode && !strcmp(mode, "refuse")) {
        core->set_error(err, XGW_ERR_CONFIG, 0, "fixture_mode = refuse: the fixture refuses to start");
        snprintf(err->key, sizeof err->key, "fixture_mode");
        return NULL;
    }
    fix_storage.core = core;
    fix_storage.ctx = ctx;
    return &fix_storage;
}

static void fix_destroy(void *self) { memset(self, 0, sizeof(struct fix)); }

static int fix_client_id(void *self, char *out, size_t cap)
{
    (void)self;
    snprintf(out, cap, "fix-1");
    return XGW_OK;
}

static int fix_build(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
                     struct xgw_error *err)
{
    (void)self, (void)op, (void)call, (void)req, (void)err;
    return XGW_ERR_UNSUPPORTED;
}

static int fix_parse(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
                     struct xgw_sink *out, struct xgw_error *err)
{
    (void)self, (void)op, (void)call, (void)resp, (void)out, (void)err;
    return XGW_ERR_UNSUPPORTED;
}

static const char *const main_rest[] = {"https://api.fixture.invalid"};
static const char *const main_ws[] = {"wss://ws.fixture.invalid"};
static const char *const test_rest[] = {"https://testnet.fixture.invalid", "https://testnet2.fixture.invalid"};
static const char *const test_ws[] = {"wss://testnet-ws.fixture.invalid"};

static const struct xgw_network networks[] = {
    {"mainnet", main_rest, 1, main_ws, 1, NULL, 0},
    {"testnet", test_rest, 2, test_ws, 1, NULL, 0},
};

static const struct xgw_cfg_key keys[] = {
    {"fixture_mode", XGW_CFG_STRING, "normal", 0, 0, false, "normal or refuse (create fails)"},
    {"passphrase", XGW_CFG_STRING, NULL, 0, 0, true, "a secret of the plugin's own"},
    {"depth_limit", XGW_CFG_INT, "20", 1, 500, false, "an integer key with a range"},
};

static const struct xgw_plugin descriptor = {
    .abi_version = FIX_ABI,
    .struct_size = FIX_STRUCT_SIZE,
#ifdef FIX_NULL_NAME
    .name = NULL,
#else
    .name = FIX_DESC_NAME,
#endif
    .version = "9.9.9",
    .description = "loader test fixture",
    .networks = networks,
    .n_networks = 2,
    .keys = keys,
    .n_keys = sizeof keys / sizeof keys[0],
#ifndef FIX_NO_CREATE
    .create = fix_create,
#endif
    .destroy = fix_destroy,
    .client_id = fix_client_id,
    .build = fix_build,
    .parse = fix_parse,
};

#ifdef FIX_NO_ENTRY
__attribute__((visibility("default"))) const struct xgw_plugin *xgw_plugin_entry_misspelt(void);
const struct xgw_plugin *xgw_plugin_entry_misspelt(void) { return &descriptor; }
#else
__attribute__((visibility("default"))) const struct xgw_plugin *xgw_plugin_entry(void);
const struct xgw_plugin *xgw_plugin_entry(void) { return &descriptor; }
#endif
