/*
 * binance.so — Binance USDⓈ-M futures (fapi). The descriptor, instance
 * life cycle and client order ids; requests in rest.c, signing in sign.c,
 * streams in ws.c. Facts come from ../shared/exchanges/binance.md (cited as
 * §n) and the Binance documentation it quotes.
 */
#include <stdlib.h>
#include <string.h>

#include "binance.h"

/* §1.1: production REST; "testnet" is Binance's current demo-trading
 * host (the legacy testnet.binancefuture.com can be configured explicitly). */
static const char *const bn_main_rest[] = {"https://fapi.binance.com"};
static const char *const bn_main_ws[] = {"wss://fstream.binance.com"};
static const char *const bn_test_rest[] = {"https://demo-fapi.binance.com"};
static const char *const bn_test_ws[] = {"wss://fstream.binancefuture.com"};

static const struct xgw_network bn_networks[] = {
    {"mainnet", bn_main_rest, 1, bn_main_ws, 1, NULL, 0},
    {"testnet", bn_test_rest, 1, bn_test_ws, 1, NULL, 0},
};

static const struct xgw_cfg_key bn_keys[] = {
    {"ws_routed", XGW_CFG_BOOL, "true", 0, 0, false,
     "Use Binance's routed WebSocket paths (/public, /market, /private; mandatory on the real exchange since "
     "2026-04-23). Set false for servers that only offer the legacy /ws and /stream paths."},
};

/* §5: 2400 weight/min per IP; 300 orders/10 s and 1200 orders/min per account. */
static const struct xgw_rl_bucket bn_buckets[BN_RL__COUNT] = {
    [BN_RL_WEIGHT_1M] = {"request_weight_1m", 2400, 60000, false},
    [BN_RL_ORDERS_10S] = {"orders_10s", 300, 10000, true},
    [BN_RL_ORDERS_1M] = {"orders_1m", 1200, 60000, true},
};

/* The core validated the value (true/yes/on/1, false/no/off/0, any case). */
static bool cfg_bool(const char *v, bool def)
{
    char low[8];
    size_t n = 0;
    if (v == NULL)
        return def;
    for (; n < sizeof low - 1 && v[n] != '\0'; n++)
        low[n] = (v[n] >= 'A' && v[n] <= 'Z') ? (char)(v[n] - 'A' + 'a') : v[n];
    low[n] = '\0';
    if (strcmp(low, "true") == 0 || strcmp(low, "1") == 0 || strcmp(low, "yes") == 0 || strcmp(low, "on") == 0)
        return true;
    if (strcmp(low, "false") == 0 || strcmp(low, "0") == 0 || strcmp(low, "no") == 0 || strcmp(low, "off") == 0)
        return false;
    return def;
}

static void bn_destroy(void *self)
{
    struct bn *bn = self;
    if (bn == NULL)
        return;
    if (bn->api_key != NULL) {
        bn->core->secure_zero(bn->api_key, strlen(bn->api_key));
        free(bn->api_key);
    }
    free(bn);
}

/* A header value must not carry CR/LF (header injection) or other controls. */
static bool header_safe(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static void *bn_create(const struct xgw_core_api *core, struct xgw_inst_ctx *ctx, struct xgw_error *err)
{
    struct bn *bn = calloc(1, sizeof *bn);
    if (bn == NULL) {
        core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
        return NULL;
    }
    bn->core = core;
    bn->ctx = ctx;

    const char *key = core->cfg(ctx, "api_key");
    const char *secret = core->cfg(ctx, "api_secret");
    if (key != NULL && key[0] != '\0') {
        if (!header_safe(key)) {
            core->set_error(err, XGW_ERR_CONFIG, 0, "api_key contains control characters");
            goto fail;
        }
        size_t kl = strlen(key);
        if ((bn->api_key = malloc(kl + 1)) == NULL)
            goto oom;
        memcpy(bn->api_key, key, kl + 1);
    }
    if (secret != NULL && secret[0] != '\0') {
        /* Borrowed, not copied: the core keeps it until destroy, in memory
         * excluded from core dumps; a heap copy here would undo that. */
        bn->secret = secret;
        bn->secret_len = strlen(secret);
    }
    bn->recv_window_ms = core->cfg_int(ctx, "recv_window_ms", 5000);
    /* [GI]: recvWindow may not exceed 60000 (ccxt maps -1131 for that). */
    if (bn->recv_window_ms < 1 || bn->recv_window_ms > 60000) {
        core->set_error(err, XGW_ERR_CONFIG, 0, "recv_window_ms must be between 1 and 60000 for binance");
        goto fail;
    }
    bn->ws_routed = cfg_bool(core->cfg(ctx, "ws_routed"), true);
    return bn;
oom:
    core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
fail:
    bn_destroy(bn);
    return NULL;
}

/* "xgw-" + 16 base32 characters (80 random bits): inside Binance's pattern
 * ^[\.A-Z\:/a-z0-9_-]{1,36}$, and no character needs percent-encoding. */
static int bn_client_id(void *self, char *out, size_t cap)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    struct bn *bn = self;
    uint8_t rnd[16];
    if (cap < 21)
        return XGW_ERR_INTERNAL;
    if (bn->core->random_bytes(rnd, sizeof rnd) != 0)
        return XGW_ERR_INTERNAL;
    memcpy(out, "xgw-", 4);
    for (size_t i = 0; i < 16; i++)
        out[4 + i] = alphabet[rnd[i] & 31];
    out[20] = '\0';
    return XGW_OK;
}

const struct xgw_plugin bn_plugin = {
    .abi_version = XGW_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct xgw_plugin),
    .name = "binance",
    .version = "0.1.0",
    .description = "Binance USD-M futures (fapi): REST, market streams, user data stream",
    .networks = bn_networks,
    .n_networks = sizeof bn_networks / sizeof bn_networks[0],
    .keys = bn_keys,
    .n_keys = sizeof bn_keys / sizeof bn_keys[0],
    .buckets = bn_buckets,
    .n_buckets = BN_RL__COUNT,
    .ws =
        {
            .max_subs_per_conn = 1024,         /* §6.4 (200 before 2025-07) */
            .max_msgs_per_sec = 10,            /* §6.4: incoming limit per connection; pongs count */
            .ping_interval_ms = 0,             /* §6.5: the server pings every 3 min */
            .max_lifetime_s = 24 * 3600,       /* §6.4 */
            .token_keepalive_s = 30 * 60,      /* §8.1: key lives 60 min; refresh at 30 */
            .book_model = XGW_BOOK_DIFFS,      /* §7 */
            .private_needs_token = true,
            .private_needs_login = false,
        },
    .create = bn_create,
    .destroy = bn_destroy,
    .client_id = bn_client_id,
    .build = bn_build,
    .parse = bn_parse,
    .cost = bn_cost,
    .ws_path = bn_ws_path,
    .ws_sub_msg = bn_ws_sub_msg,
    .ws_login_msg = bn_ws_login_msg,
    .ws_ping_msg = bn_ws_ping_msg,
    .ws_parse = bn_ws_parse,
    .ws_route = bn_ws_route,
    .steps = bn_steps,
    .ws_ticker_parts = 2, /* @bookTicker + @ticker (ws.c) */
};

XGW_EXPORT const struct xgw_plugin *xgw_plugin_entry(void);
XGW_EXPORT const struct xgw_plugin *xgw_plugin_entry(void) { return &bn_plugin; }
