/*
 * bitunix.so — Bitunix USDT-M perpetual futures (fapi.bitunix.com). The
 * descriptor, instance life cycle and client order ids; requests in rest.c,
 * signing in sign.c, streams in ws.c, JSON helpers in json.c. Facts come
 * from ../shared/exchanges/bitunix.md, checked against the official OpenAPI
 * documentation (openapidoc.bitunix.com) where it could be read; what could
 * not be checked is said where it is used.
 */
#include <stdlib.h>
#include <string.h>

#include "bitunix.h"

/* openapidoc.bitunix.com/doc/websocket/prepare/WebSocket.html lists
 * wss://fapi.bitunix.com/public/ and /private/; the REST examples use
 * https://fapi.bitunix.com. Bitunix publishes no futures testnet, so only
 * "mainnet" is declared: tests and the mock set rest_endpoints/ws_endpoints. */
static const char *const bx_main_rest[] = {"https://fapi.bitunix.com"};
static const char *const bx_main_ws[] = {"wss://fapi.bitunix.com"};

static const struct xgw_network bx_networks[] = {
    {"mainnet", bx_main_rest, 1, bx_main_ws, 1, NULL, 0},
};

static const struct xgw_cfg_key bx_keys[] = {
    {"margin_coin", XGW_CFG_STRING, "USDT", 0, 0, false,
     "Margin coin of the futures account: the asset `balances` reports (Bitunix's marginCoin parameter)."},
};

/* Per-endpoint limits of the OpenAPI pages: place_order "10 req/sec/uid";
 * market data 10 req/s per IP; private reads 10 req/s per UID;
 * cancel_orders 5 req/s per UID (community client Bitunix.Net: the cancel
 * page could not be read here). */
static const struct xgw_rl_bucket bx_buckets[BX_RL__COUNT] = {
    [BX_RL_MARKET] = {"market_1s", 10, 1000, false},
    [BX_RL_ACCOUNT] = {"account_1s", 10, 1000, false},
    [BX_RL_PLACE] = {"place_order_1s", 10, 1000, true},
    [BX_RL_CANCEL] = {"cancel_orders_1s", 5, 1000, false},
};

static void bx_destroy(void *self)
{
    struct bx *bx = self;
    if (bx == NULL)
        return;
    if (bx->api_key != NULL) {
        bx->core->secure_zero(bx->api_key, strlen(bx->api_key));
        free(bx->api_key);
    }
    free(bx);
}

/* A header value must not carry CR/LF (header injection) or other controls. */
static bool header_safe(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static bool asset_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= XGW_ASSET_MAX)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static void *bx_create(const struct xgw_core_api *core, struct xgw_inst_ctx *ctx, struct xgw_error *err)
{
    struct bx *bx = calloc(1, sizeof *bx);
    if (bx == NULL) {
        core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
        return NULL;
    }
    bx->core = core;
    bx->ctx = ctx;

    const char *key = core->cfg(ctx, "api_key");
    const char *secret = core->cfg(ctx, "api_secret");
    const char *coin = core->cfg(ctx, "margin_coin");
    if (key != NULL && key[0] != '\0') {
        if (!header_safe(key)) {
            core->set_error(err, XGW_ERR_CONFIG, 0, "api_key contains control characters");
            goto fail;
        }
        size_t kl = strlen(key);
        if ((bx->api_key = malloc(kl + 1)) == NULL)
            goto oom;
        memcpy(bx->api_key, key, kl + 1);
    }
    if (secret != NULL && secret[0] != '\0') {
        /* Borrowed, not copied: the core keeps it until destroy, in memory
         * excluded from core dumps; a heap copy here would undo that. */
        bx->secret = secret;
        bx->secret_len = strlen(secret);
    }
    if (coin == NULL)
        coin = "USDT";
    if (!asset_ok(coin)) {
        core->set_error(err, XGW_ERR_CONFIG, 0, "margin_coin must be an upper-case asset name such as USDT");
        goto fail;
    }
    memcpy(bx->margin_coin, coin, strlen(coin) + 1);
    return bx;
oom:
    core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
fail:
    bx_destroy(bx);
    return NULL;
}

/* "xgw" + 20 characters of [a-z2-7] (100 random bits). Bitunix documents
 * clientId only as "Customize order ID": letters and digits are the safe
 * subset, and 23 characters stay well under the 32 most venues allow. */
static int bx_client_id(void *self, char *out, size_t cap)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    struct bx *bx = self;
    uint8_t rnd[20];
    if (cap < 24)
        return XGW_ERR_INTERNAL;
    if (bx->core->random_bytes(rnd, sizeof rnd) != 0)
        return XGW_ERR_INTERNAL;
    memcpy(out, "xgw", 3);
    for (size_t i = 0; i < sizeof rnd; i++)
        out[3 + i] = alphabet[rnd[i] & 31];
    out[23] = '\0';
    return XGW_OK;
}

const struct xgw_plugin bx_plugin = {
    .abi_version = XGW_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct xgw_plugin),
    .name = "bitunix",
    .version = "0.1.0",
    .description = "Bitunix USDT-M futures: REST (header-signed), public and private WebSocket streams",
    .networks = bx_networks,
    .n_networks = sizeof bx_networks / sizeof bx_networks[0],
    .keys = bx_keys,
    .n_keys = sizeof bx_keys / sizeof bx_keys[0],
    .buckets = bx_buckets,
    .n_buckets = BX_RL__COUNT,
    .ws =
        {
            .max_subs_per_conn = 300,     /* WebSocket.html: "Max 300 channel subscription/connection" */
            .max_msgs_per_sec = 5,        /* community clients (Bitunix.Net); not on the pages read */
            .ping_interval_ms = 15000,    /* client pings {"op":"ping"}; no idle timeout is documented */
            .max_lifetime_s = 24 * 3600,  /* Bitunix WS API introduction: connections valid for 24 h */
            .token_keepalive_s = 0,
            .book_model = XGW_BOOK_SNAPSHOTS, /* depth_bookN pushes whole top-N books, no sequence */
            .private_needs_token = false,
            .private_needs_login = true,
        },
    .create = bx_create,
    .destroy = bx_destroy,
    .client_id = bx_client_id,
    .build = bx_build,
    .parse = bx_parse,
    .cost = bx_cost,
    .ws_path = bx_ws_path,
    .ws_sub_msg = bx_ws_sub_msg,
    .ws_login_msg = bx_ws_login_msg,
    .ws_ping_msg = bx_ws_ping_msg,
    .ws_parse = bx_ws_parse,
    .ws_route = NULL,
};

XGW_EXPORT const struct xgw_plugin *xgw_plugin_entry(void);
XGW_EXPORT const struct xgw_plugin *xgw_plugin_entry(void) { return &bx_plugin; }
