/*
 * hyperliquid.so — Hyperliquid perpetuals: descriptor, instance lifecycle
 * and client order ids. Signing is in sign.c, wire formats in wire.c,
 * requests and answers in rest.c, streams in ws.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl.h"

static const char *const mainnet_rest[] = {"https://api.hyperliquid.xyz"};
static const char *const mainnet_ws[] = {"wss://api.hyperliquid.xyz"};
static const char *const testnet_rest[] = {"https://api.hyperliquid-testnet.xyz"};
static const char *const testnet_ws[] = {"wss://api.hyperliquid-testnet.xyz"};

static const struct xgw_network networks[] = {
    {"mainnet", mainnet_rest, 1, mainnet_ws, 1, NULL, 0},
    {"testnet", testnet_rest, 1, testnet_ws, 1, NULL, 0},
};

static const struct xgw_cfg_key keys[] = {
    {"private_key", XGW_CFG_STRING, NULL, 0, 0, true,
     "secp256k1 private key of the signing wallet (the account or an API wallet): 64 hex digits, optional 0x"},
    {"account_address", XGW_CFG_STRING, NULL, 0, 0, false,
     "master account address (0x + 40 hex) when an API wallet signs; reads and the orders stream use it"},
    {"vault_address", XGW_CFG_STRING, NULL, 0, 0, false,
     "trade on behalf of this vault or sub-account (0x + 40 hex); reads use it too"},
    {"market_slippage", XGW_CFG_DECIMAL, "0.05", 0, 0, false,
     "market orders are Ioc limits this fraction beyond the reference price (0.05 = 5%)"},
    {"expires_after_ms", XGW_CFG_INT, NULL, 1000, 86400000, false,
     "sign actions with expiresAfter = nonce + this many ms (unset = no expiry)"},
    {"time_coin", XGW_CFG_STRING, HL_TIME_COIN_DEFAULT, 0, 0, false,
     "coin whose l2Book timestamp serves as the server time (Hyperliquid has no time endpoint)"},
};

/* One IP bucket: 1200 weight per minute (docs "Rate limits and user
 * limits"). The per-address limit (1 request per 1 USDC traded plus a
 * 10000 buffer) is not a time window and is left to the exchange. */
static const struct xgw_rl_bucket buckets[HL_RL__COUNT] = {
    {"request_weight_1m", 1200, 60000, false},
};

/* Parse an address option ("0x" + 40 hex); writes the lowercase text. */
static int parse_addr(const char *s, uint8_t bin[20], char hex[HL_ADDR_HEX])
{
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || hl_unhex(s, bin, 20) != 0)
        return -1;
    hl_hex0x(bin, 20, hex);
    return 0;
}

static void *cfg_fail(struct hl *hl, struct xgw_error *err, const char *key, const char *msg)
{
    hl->core->set_error(err, XGW_ERR_CONFIG, 0, "%s: %s", key, msg);
    if (err != NULL)
        snprintf(err->key, sizeof err->key, "%s", key);
    hl_plugin.destroy(hl);
    return NULL;
}

static void *hl_create(const struct xgw_core_api *core, struct xgw_inst_ctx *ctx, struct xgw_error *err)
{
    struct hl *hl = calloc(1, sizeof *hl);
    if (hl == NULL) {
        core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
        return NULL;
    }
    hl->core = core;
    hl->ctx = ctx;
    hl_keccak_init(&hl->kc);
    hl->secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (hl->secp == NULL) {
        core->set_error(err, XGW_ERR_INTERNAL, 0, "cannot create a secp256k1 context");
        hl_plugin.destroy(hl);
        return NULL;
    }
    /* Blinding against timing side channels in signing. */
    uint8_t seed[32];
    if (core->random_bytes(seed, sizeof seed) == 0 && !secp256k1_context_randomize(hl->secp, seed))
        core->log(ctx, XGW_LOG_WARN, "secp256k1 context randomisation failed; signing still works");
    core->secure_zero(seed, sizeof seed);

    const char *net = core->cfg(ctx, "network");
    hl->mainnet = net == NULL || strcmp(net, "testnet") != 0;

    const char *pk = core->cfg(ctx, "private_key");
    if (pk != NULL && pk[0] != '\0') {
        uint8_t key[32], addr[20];
        if (hl_private_key(core, pk, key) != 0)
            return cfg_fail(hl, err, "private_key", "must be 64 hex digits (optionally prefixed by 0x)");
        int bad = hl_address(hl->secp, &hl->kc, key, addr);
        core->secure_zero(key, sizeof key);
        if (bad != 0)
            return cfg_fail(hl, err, "private_key", "is not a valid secp256k1 private key");
        hl->key_text = pk;
        hl->has_key = true;
        hl_hex0x(addr, 20, hl->signer);
    }

    const char *acct = core->cfg(ctx, "account_address");
    uint8_t bin[20];
    char acct_hex[HL_ADDR_HEX] = "";
    if (acct != NULL && acct[0] != '\0' && parse_addr(acct, bin, acct_hex) != 0)
        return cfg_fail(hl, err, "account_address", "must be 0x followed by 40 hex digits");
    const char *vault = core->cfg(ctx, "vault_address");
    if (vault != NULL && vault[0] != '\0') {
        if (parse_addr(vault, hl->vault, hl->vault_hex) != 0)
            return cfg_fail(hl, err, "vault_address", "must be 0x followed by 40 hex digits");
        hl->has_vault = true;
    }
    /* Whose state the reads show: the vault traded for, else the master
     * account an API wallet signs for, else the signer itself. */
    if (hl->has_vault)
        memcpy(hl->user, hl->vault_hex, HL_ADDR_HEX);
    else if (acct_hex[0] != '\0')
        memcpy(hl->user, acct_hex, HL_ADDR_HEX);
    else
        memcpy(hl->user, hl->signer, HL_ADDR_HEX);

    const char *slip = core->cfg(ctx, "market_slippage");
    if (slip == NULL)
        slip = "0.05";
    xgw_dec one = {1, 0};
    if (core->dec_parse(slip, strlen(slip), &hl->slippage) != 0 || hl->slippage.mant < 0 ||
        core->dec_cmp(hl->slippage, one) >= 0)
        return cfg_fail(hl, err, "market_slippage", "must be a decimal in [0, 1), e.g. 0.05");
    hl->expires_after_ms = core->cfg_int(ctx, "expires_after_ms", 0);
    if (hl->expires_after_ms < 0)
        return cfg_fail(hl, err, "expires_after_ms", "must be positive");
    const char *tc = core->cfg(ctx, "time_coin");
    snprintf(hl->time_coin, sizeof hl->time_coin, "%s", tc != NULL && tc[0] != '\0' ? tc : HL_TIME_COIN_DEFAULT);

    if (hl->has_key)
        core->log(ctx, XGW_LOG_INFO, "hyperliquid %s: signing address %s%s%s", hl->mainnet ? "mainnet" : "testnet",
                  hl->signer, hl->user[0] && strcmp(hl->user, hl->signer) != 0 ? ", account " : "",
                  hl->user[0] && strcmp(hl->user, hl->signer) != 0 ? hl->user : "");
    else
        core->log(ctx, XGW_LOG_INFO, "hyperliquid %s: no private_key, public operations only%s%s",
                  hl->mainnet ? "mainnet" : "testnet", hl->user[0] ? "; reads for " : "", hl->user);
    return hl;
}

static void hl_destroy(void *self)
{
    struct hl *hl = self;
    if (hl == NULL)
        return;
    if (hl->secp != NULL)
        secp256k1_context_destroy(hl->secp);
    hl_keccak_free(&hl->kc);
    free(hl->subids);
    hl->core->secure_zero(hl, sizeof *hl);
    free(hl);
}

/* cloid: 16 random bytes as "0x" + 32 lowercase hex (SDK Cloid). */
static int hl_client_id(void *self, char *out, size_t cap)
{
    struct hl *hl = self;
    uint8_t b[16];
    if (cap < HL_CLOID_LEN + 1 || hl->core->random_bytes(b, sizeof b) != 0)
        return XGW_ERR_INTERNAL;
    hl_hex0x(b, sizeof b, out);
    return XGW_OK;
}

const struct xgw_plugin hl_plugin = {
    .abi_version = XGW_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct xgw_plugin),
    .name = "hyperliquid",
    .version = "0.1.0",
    .description = "Hyperliquid perpetuals (EIP-712 phantom-agent signing over msgpack, secp256k1)",
    .networks = networks,
    .n_networks = sizeof networks / sizeof networks[0],
    .keys = keys,
    .n_keys = sizeof keys / sizeof keys[0],
    .buckets = buckets,
    .n_buckets = HL_RL__COUNT,
    .ws =
        {
            .max_subs_per_conn = 1000,
            .max_msgs_per_sec = 30, /* 2000 messages per minute per IP */
            .ping_interval_ms = 30000, /* the server drops a socket idle for 60 s */
            .max_lifetime_s = 0,
            .token_keepalive_s = 0,
            .book_model = XGW_BOOK_SNAPSHOTS,
            .private_needs_token = false,
            .private_needs_login = false,
        },
    .create = hl_create,
    .destroy = hl_destroy,
    .client_id = hl_client_id,
    .build = hl_build,
    .parse = hl_parse,
    .cost = hl_cost,
    .ws_path = hl_ws_path,
    .ws_sub_msg = hl_ws_sub_msg,
    .ws_login_msg = hl_ws_login_msg,
    .ws_ping_msg = hl_ws_ping_msg,
    .ws_parse = hl_ws_parse,
    .ws_route = NULL,
    .ws_max_subs_per_msg = 1, /* {"method":"subscribe","subscription":{...}}: one each */
};

XGW_EXPORT const struct xgw_plugin *xgw_plugin_entry(void);
XGW_EXPORT const struct xgw_plugin *xgw_plugin_entry(void) { return &hl_plugin; }
