/*
 * plugins/hyperliquid/hl.h — internals shared by the files of the
 * Hyperliquid perpetuals plugin: plugin.c (descriptor, create/destroy),
 * keccak.c, sign.c (msgpack action, phantom-agent EIP-712 digest, secp256k1),
 * wire.c (price/size text), rest.c (build/parse per operation), ws.c.
 *
 * Nothing here is exported from hyperliquid.so (hidden visibility + version
 * script); the hl_ names exist so that the unit test, which links the
 * plugin's objects statically, can check each stage byte for byte.
 *
 * Threading: one struct hl per instance, used only from the gateway's I/O
 * thread (xgw/plugin.h).
 */
#ifndef XGW_PLUGIN_HL_H
#define XGW_PLUGIN_HL_H

#include <cjson/cJSON.h>
#include <msgpack.h>
#include <secp256k1.h>

#include "common/pjson.h"
#include "keccak.h"
#include "xgw/plugin.h"

/* Indices into the plugin's buckets[] (plugin.c). */
enum hl_bucket { HL_RL_WEIGHT_1M = 0, HL_RL__COUNT };

#define HL_ADDR_HEX 43  /* "0x" + 40 hex + NUL */
#define HL_CLOID_LEN 34 /* "0x" + 32 hex */
#define HL_MID_CACHE 64
#define HL_MID_FRESH_MS 10000
#define HL_TIME_COIN_DEFAULT "BTC"

/* A mid price seen recently (l2Book, bbo, allMids): the reference for
 * market orders placed without a price. */
struct hl_mid {
    char coin[XGW_SYMBOL_MAX];
    xgw_dec mid;
    int64_t at_ms; /* core->local_ms() when seen */
};

/* A subscription sent with the core's id: Hyperliquid's acks echo the
 * subscription, not an id, so the id is found again by the key. */
struct hl_subid {
    char key[96]; /* "l2Book|BTC", "orderUpdates|0x..." */
    uint64_t id;
};

struct hl {
    const struct xgw_core_api *core;
    struct xgw_inst_ctx *ctx;
    struct hl_keccak kc;
    secp256k1_context *secp;

    bool has_key;
    /* The signing wallet's private key as configured (hex, optional 0x,
     * trailing newline tolerated): borrowed from core->cfg, which keeps it
     * until destroy in memory excluded from core dumps. Decoded on the
     * stack for each signature (hl_private_key) rather than kept decoded
     * here, on the heap, where a core dump would hold it. */
    const char *key_text;
    char signer[HL_ADDR_HEX]; /* address derived from key ("" none) */
    char user[HL_ADDR_HEX];   /* address whose state reads use ("" none) */
    bool has_vault;
    uint8_t vault[20];
    char vault_hex[HL_ADDR_HEX];

    bool mainnet;           /* phantom agent source "a" (else "b") */
    xgw_dec slippage;       /* market orders: fraction off the reference price */
    int64_t expires_after_ms; /* 0 = no expiresAfter */
    int64_t last_nonce;
    int64_t fixed_now_ms;   /* tests only: non-zero replaces core->now_ms */
    char time_coin[XGW_SYMBOL_MAX]; /* coin whose l2Book "time" answers TIME */

    struct hl_mid mids[HL_MID_CACHE];
    size_t n_mids, next_mid;

    struct hl_subid *subids;
    size_t n_subids, cap_subids;
};

extern const struct xgw_plugin hl_plugin;

/* --- sign.c ------------------------------------------------------------- */

enum hl_act { HL_ACT_ORDER = 0, HL_ACT_CANCEL, HL_ACT_CANCEL_CLOID };

/* One order as the wire carries it (SDK OrderWire; map keys a,b,p,s,r,t,c). */
struct hl_order_wire {
    uint32_t asset;
    bool is_buy;
    char px[XGW_DEC_STRLEN];
    char sz[XGW_DEC_STRLEN];
    bool reduce_only;
    const char *tif;                /* "Gtc" | "Ioc" | "Alo" (static string) */
    char cloid[HL_CLOID_LEN + 1];   /* "" = none */
};

/* The L1 actions the plugin sends. The same struct feeds the msgpack bytes
 * that are hashed and the JSON that is posted, so the two cannot disagree. */
struct hl_action {
    enum hl_act kind;
    struct hl_order_wire order;     /* ORDER (one order, grouping "na") */
    uint32_t asset;                 /* CANCEL, CANCEL_CLOID */
    uint64_t oid;                   /* CANCEL */
    char cloid[HL_CLOID_LEN + 1];   /* CANCEL_CLOID */
};

struct hl_sig {
    uint8_t r[32], s[32];
    int v; /* 27 + recovery id */
};

/* msgpack bytes of the action, keys in the SDK's insertion order. 0 or -1 (OOM). */
int hl_action_msgpack(const struct hl_action *a, msgpack_sbuffer *sb);
/* The same action as JSON (same key order), appended to out. 0 or XGW_ERR_INTERNAL. */
int hl_action_json(const struct xgw_core_api *core, const struct hl_action *a, struct xgw_buf *out);

/* connectionId = keccak(packed ‖ nonce as 8 bytes BE ‖ (0x00 | 0x01 ‖ vault)
 * ‖ [0x00 ‖ expires_after as 8 bytes BE]). vault (20 bytes) and expires may
 * be NULL. 0 or -1 (OOM). */
int hl_action_hash(const struct hl_keccak *k, const void *packed, size_t len, uint64_t nonce, const uint8_t *vault,
                   const uint64_t *expires_after, uint8_t out[32]);
/* EIP-712 domain separator of {name "Exchange", version "1", chainId 1337,
 * verifyingContract 0}. */
void hl_domain_separator(const struct hl_keccak *k, uint8_t out[32]);
/* hashStruct(Agent{source, connectionId}), source "a" mainnet / "b" testnet. */
void hl_agent_hash(const struct hl_keccak *k, const uint8_t conn_id[32], bool mainnet, uint8_t out[32]);
/* keccak(0x19 0x01 ‖ domainSeparator ‖ hashStruct(agent)). */
void hl_agent_digest(const struct hl_keccak *k, const uint8_t conn_id[32], bool mainnet, uint8_t out[32]);
/* Recoverable ECDSA over digest (RFC 6979 nonce, low s). 0 or -1. */
int hl_sign_digest(const secp256k1_context *secp, const uint8_t key[32], const uint8_t digest[32],
                   struct hl_sig *sig);
/* Ethereum address of the key: last 20 bytes of keccak(uncompressed pubkey
 * without its 0x04 prefix). 0 or -1 (invalid key). */
int hl_address(const secp256k1_context *secp, const struct hl_keccak *k, const uint8_t key[32], uint8_t addr[20]);
/* "0x" + lowercase hex of n bytes into out (2n + 3 bytes). */
void hl_hex0x(const uint8_t *in, size_t n, char *out);
/* Parse exactly n bytes of hex, with or without "0x", any case. 0 or -1. */
int hl_unhex(const char *s, uint8_t *out, size_t n);
/* Decodes the configured private key (key_text) into key; the caller
 * wipes it (core->secure_zero) after use. 0, or -1 when it is not 64 hex
 * digits (optionally 0x-prefixed, trailing whitespace ignored). */
int hl_private_key(const struct xgw_core_api *core, const char *key_text, uint8_t key[32]);
/* Next nonce: max(now_ms, last + 1), so two actions in one millisecond
 * still get distinct, increasing nonces. */
int64_t hl_next_nonce(struct hl *hl);
/* Sign the action with a fresh nonce and write the whole /exchange body:
 * {"action":…,"nonce":…,"signature":{"r","s","v"},"vaultAddress":…,
 * "expiresAfter":…}. AUTH when no key is configured. */
int hl_sign_action(struct hl *hl, const struct hl_action *a, struct xgw_buf *body, struct xgw_error *err);

/* --- wire.c ------------------------------------------------------------- */

/* Size text: positive, at most sz_decimals decimals, no trailing zeros.
 * INVALID_REQUEST (message in err) when it cannot be represented. */
int hl_wire_size(const struct xgw_core_api *core, xgw_dec qty, int sz_decimals, char out[XGW_DEC_STRLEN],
                 struct xgw_error *err);
/* Price text for a perp: positive, at most 5 significant figures unless an
 * integer, at most 6 - sz_decimals decimals, no trailing zeros. */
int hl_wire_price(const struct xgw_core_api *core, xgw_dec px, int sz_decimals, char out[XGW_DEC_STRLEN],
                  struct xgw_error *err);
/* Round px to what hl_wire_price accepts (5 significant figures, then
 * 6 - sz_decimals decimals) with mode. 0 or INVALID_REQUEST. */
int hl_round_price(const struct xgw_core_api *core, xgw_dec px, int sz_decimals, enum xgw_round mode,
                   xgw_dec *out);
/* A market order's limit price: ref * (1 ± slippage), rounded to the wire
 * rules (half away from zero, as the SDK's round). */
int hl_slippage_price(const struct xgw_core_api *core, xgw_dec ref, bool is_buy, xgw_dec slippage, int sz_decimals,
                      xgw_dec *out, struct xgw_error *err);

/* --- rest.c ------------------------------------------------------------- */

int hl_build(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
             struct xgw_error *err);
int hl_parse(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
             struct xgw_sink *out, struct xgw_error *err);
void hl_cost(void *self, enum xgw_op op, const struct xgw_call *call, uint32_t *costs);
/* Classify an error message of /exchange ("status":"err" or a per-order
 * "error") for op. */
int hl_classify_message(struct hl *hl, enum xgw_op op, const char *msg, struct xgw_error *err);
/* Remember/look up a mid price (market-order reference). */
void hl_mid_put(struct hl *hl, const char *coin, xgw_dec mid);
bool hl_mid_get(struct hl *hl, const char *coin, xgw_dec *out);

/* Parse one order object ({coin, side, limitPx, sz, oid, timestamp,
 * origSz?, cloid?, orderType?, tif?, reduceOnly?}) with its status word
 * (NULL = open) into *o. -1 on a malformed field. */
int hl_parse_order(const struct hl *hl, const cJSON *obj, const char *status, struct xgw_order *o);
enum xgw_order_status hl_order_status(const char *s);

/* --- ws.c --------------------------------------------------------------- */

int hl_ws_path(void *self, bool private_, const char *token, struct xgw_buf *out, struct xgw_error *err);
int hl_ws_sub_msg(void *self, bool subscribe, const struct xgw_ws_sub *subs, size_t n, uint64_t id,
                  struct xgw_buf *out, struct xgw_error *err);
int hl_ws_login_msg(void *self, uint64_t id, struct xgw_buf *out, struct xgw_error *err);
int hl_ws_ping_msg(void *self, struct xgw_buf *out);
int hl_ws_parse(void *self, const char *frame, size_t len, struct xgw_sink *out, struct xgw_error *err);
/* Emit a book snapshot from an l2Book object {coin,time,levels} (REST and WS). */
int hl_emit_book(struct hl *hl, const cJSON *obj, uint32_t limit, struct xgw_sink *out, struct xgw_error *err);

#endif
