/*
 * Hyperliquid L1 action signing, stage by stage as the official Python SDK
 * does it (hyperliquid/utils/signing.py: action_hash, construct_phantom_agent,
 * l1_payload, sign_inner):
 *
 *   1. msgpack(action), map keys in the SDK's insertion order (the order
 *      changes the bytes and so the hash);
 *   2. ‖ nonce (8 bytes big-endian) ‖ 0x00, or 0x01 ‖ vault address (20 bytes)
 *      ‖ [0x00 ‖ expiresAfter (8 bytes big-endian)] when an expiry is set;
 *   3. connectionId = keccak256 of that;
 *   4. EIP-712 digest of Agent{source: "a" mainnet | "b" testnet,
 *      connectionId} in domain {Exchange, 1, 1337, 0x0};
 *   5. recoverable secp256k1 signature, v = 27 + recovery id.
 */
#include <openssl/crypto.h> /* OPENSSL_hexchar2int */
#include <string.h>

#include <secp256k1_recovery.h>

#include "hl.h"

/* ------------------------------------------------------------------------ */
/* Hex                                                                       */
/* ------------------------------------------------------------------------ */

void hl_hex0x(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = digits[in[i] >> 4];
        out[3 + 2 * i] = digits[in[i] & 15];
    }
    out[2 + 2 * n] = '\0';
}

int hl_unhex(const char *s, uint8_t *out, size_t n)
{
    if (s == NULL)
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)s[2 * i]);
        int lo = OPENSSL_hexchar2int((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The action: msgpack and JSON from one description                         */
/* ------------------------------------------------------------------------ */

static int pk_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

static int pk_bool(msgpack_packer *pk, bool b) { return b ? msgpack_pack_true(pk) : msgpack_pack_false(pk); }

int hl_action_msgpack(const struct hl_action *a, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    int rc = 0;
    switch (a->kind) {
    case HL_ACT_ORDER: {
        const struct hl_order_wire *o = &a->order;
        bool has_c = o->cloid[0] != '\0';
        rc |= msgpack_pack_map(&pk, 3);
        rc |= pk_str(&pk, "type") | pk_str(&pk, "order");
        rc |= pk_str(&pk, "orders") | msgpack_pack_array(&pk, 1);
        rc |= msgpack_pack_map(&pk, has_c ? 7 : 6);
        rc |= pk_str(&pk, "a") | msgpack_pack_uint64(&pk, o->asset);
        rc |= pk_str(&pk, "b") | pk_bool(&pk, o->is_buy);
        rc |= pk_str(&pk, "p") | pk_str(&pk, o->px);
        rc |= pk_str(&pk, "s") | pk_str(&pk, o->sz);
        rc |= pk_str(&pk, "r") | pk_bool(&pk, o->reduce_only);
        rc |= pk_str(&pk, "t") | msgpack_pack_map(&pk, 1);
        rc |= pk_str(&pk, "limit") | msgpack_pack_map(&pk, 1);
        rc |= pk_str(&pk, "tif") | pk_str(&pk, o->tif);
        if (has_c)
            rc |= pk_str(&pk, "c") | pk_str(&pk, o->cloid);
        rc |= pk_str(&pk, "grouping") | pk_str(&pk, "na");
        break;
    }
    case HL_ACT_CANCEL:
        rc |= msgpack_pack_map(&pk, 2);
        rc |= pk_str(&pk, "type") | pk_str(&pk, "cancel");
        rc |= pk_str(&pk, "cancels") | msgpack_pack_array(&pk, 1);
        rc |= msgpack_pack_map(&pk, 2);
        rc |= pk_str(&pk, "a") | msgpack_pack_uint64(&pk, a->asset);
        rc |= pk_str(&pk, "o") | msgpack_pack_uint64(&pk, a->oid);
        break;
    case HL_ACT_CANCEL_CLOID:
        rc |= msgpack_pack_map(&pk, 2);
        rc |= pk_str(&pk, "type") | pk_str(&pk, "cancelByCloid");
        rc |= pk_str(&pk, "cancels") | msgpack_pack_array(&pk, 1);
        rc |= msgpack_pack_map(&pk, 2);
        rc |= pk_str(&pk, "asset") | msgpack_pack_uint64(&pk, a->asset);
        rc |= pk_str(&pk, "cloid") | pk_str(&pk, a->cloid);
        break;
    default:
        return -1;
    }
    return rc ? -1 : 0;
}

int hl_action_json(const struct xgw_core_api *core, const struct hl_action *a, struct xgw_buf *out)
{
    int rc = 0;
    switch (a->kind) {
    case HL_ACT_ORDER: {
        const struct hl_order_wire *o = &a->order;
        /* px, sz, tif and cloid are validated ASCII (digits, '.', hex), so
         * they need no escaping; printf keeps the key order visible. */
        rc = core->buf_printf(out,
                              "{\"type\":\"order\",\"orders\":[{\"a\":%u,\"b\":%s,\"p\":\"%s\",\"s\":\"%s\","
                              "\"r\":%s,\"t\":{\"limit\":{\"tif\":\"%s\"}}",
                              (unsigned)o->asset, o->is_buy ? "true" : "false", o->px, o->sz,
                              o->reduce_only ? "true" : "false", o->tif);
        if (rc == 0 && o->cloid[0] != '\0')
            rc = core->buf_printf(out, ",\"c\":\"%s\"", o->cloid);
        if (rc == 0)
            rc = core->buf_printf(out, "}],\"grouping\":\"na\"}");
        break;
    }
    case HL_ACT_CANCEL:
        rc = core->buf_printf(out, "{\"type\":\"cancel\",\"cancels\":[{\"a\":%u,\"o\":%llu}]}", (unsigned)a->asset,
                              (unsigned long long)a->oid);
        break;
    case HL_ACT_CANCEL_CLOID:
        rc = core->buf_printf(out, "{\"type\":\"cancelByCloid\",\"cancels\":[{\"asset\":%u,\"cloid\":\"%s\"}]}",
                              (unsigned)a->asset, a->cloid);
        break;
    default:
        return XGW_ERR_INTERNAL;
    }
    return rc ? XGW_ERR_INTERNAL : XGW_OK;
}

/* ------------------------------------------------------------------------ */
/* Hashes                                                                    */
/* ------------------------------------------------------------------------ */

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

int hl_action_hash(const struct hl_keccak *k, const void *packed, size_t len, uint64_t nonce, const uint8_t *vault,
                   const uint64_t *expires_after, uint8_t out[32])
{
    /* trailer: nonce 8 + vault flag 1 + 20 + expiry flag 1 + 8 */
    uint8_t tail[38];
    size_t t = 0;
    put_be64(tail, nonce);
    t = 8;
    if (vault == NULL) {
        tail[t++] = 0x00;
    } else {
        tail[t++] = 0x01;
        memcpy(tail + t, vault, 20);
        t += 20;
    }
    if (expires_after != NULL) {
        tail[t++] = 0x00;
        put_be64(tail + t, *expires_after);
        t += 8;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (len > 0 && msgpack_sbuffer_write(&sb, packed, len) != 0)
        goto oom;
    if (msgpack_sbuffer_write(&sb, (const char *)tail, t) != 0)
        goto oom;
    hl_keccak256(k, sb.data, sb.size, out);
    msgpack_sbuffer_destroy(&sb);
    return 0;
oom:
    msgpack_sbuffer_destroy(&sb);
    return -1;
}

static void keccak_str(const struct hl_keccak *k, const char *s, uint8_t out[32]) { hl_keccak256(k, s, strlen(s), out); }

void hl_domain_separator(const struct hl_keccak *k, uint8_t out[32])
{
    uint8_t enc[5 * 32];
    memset(enc, 0, sizeof enc);
    keccak_str(k, "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)", enc);
    keccak_str(k, "Exchange", enc + 32);
    keccak_str(k, "1", enc + 64);
    enc[96 + 30] = 1337 >> 8; /* uint256(1337), big-endian */
    enc[96 + 31] = 1337 & 0xff;
    /* verifyingContract = address(0): 32 zero bytes, already there */
    hl_keccak256(k, enc, sizeof enc, out);
}

void hl_agent_hash(const struct hl_keccak *k, const uint8_t conn_id[32], bool mainnet, uint8_t out[32])
{
    uint8_t enc[3 * 32];
    keccak_str(k, "Agent(string source,bytes32 connectionId)", enc);
    keccak_str(k, mainnet ? "a" : "b", enc + 32);
    memcpy(enc + 64, conn_id, 32);
    hl_keccak256(k, enc, sizeof enc, out);
}

void hl_agent_digest(const struct hl_keccak *k, const uint8_t conn_id[32], bool mainnet, uint8_t out[32])
{
    uint8_t msg[2 + 32 + 32];
    msg[0] = 0x19;
    msg[1] = 0x01;
    hl_domain_separator(k, msg + 2);
    hl_agent_hash(k, conn_id, mainnet, msg + 34);
    hl_keccak256(k, msg, sizeof msg, out);
}

/* ------------------------------------------------------------------------ */
/* secp256k1                                                                 */
/* ------------------------------------------------------------------------ */

int hl_sign_digest(const secp256k1_context *secp, const uint8_t key[32], const uint8_t digest[32],
                   struct hl_sig *sig)
{
    secp256k1_ecdsa_recoverable_signature rs;
    /* NULL nonce function = RFC 6979; libsecp256k1 always emits low s. */
    if (!secp256k1_ecdsa_sign_recoverable(secp, &rs, digest, key, NULL, NULL))
        return -1;
    uint8_t compact[64];
    int recid = 0;
    if (!secp256k1_ecdsa_recoverable_signature_serialize_compact(secp, compact, &recid, &rs))
        return -1;
    memcpy(sig->r, compact, 32);
    memcpy(sig->s, compact + 32, 32);
    sig->v = 27 + recid;
    return 0;
}

int hl_address(const secp256k1_context *secp, const struct hl_keccak *k, const uint8_t key[32], uint8_t addr[20])
{
    secp256k1_pubkey pub;
    if (!secp256k1_ec_seckey_verify(secp, key) || !secp256k1_ec_pubkey_create(secp, &pub, key))
        return -1;
    uint8_t ser[65];
    size_t n = sizeof ser;
    if (!secp256k1_ec_pubkey_serialize(secp, ser, &n, &pub, SECP256K1_EC_UNCOMPRESSED) || n != 65)
        return -1;
    uint8_t h[32];
    hl_keccak256(k, ser + 1, 64, h);
    memcpy(addr, h + 12, 20);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Whole action                                                              */
/* ------------------------------------------------------------------------ */

int64_t hl_next_nonce(struct hl *hl)
{
    int64_t now = hl->fixed_now_ms != 0 ? hl->fixed_now_ms : hl->core->now_ms(hl->ctx);
    /* The exchange keeps the highest nonces per signer and refuses repeats:
     * two actions within one millisecond must still differ. */
    if (now <= hl->last_nonce)
        now = hl->last_nonce + 1;
    hl->last_nonce = now;
    return now;
}

int hl_private_key(const struct xgw_core_api *core, const char *key_text, uint8_t key[32])
{
    size_t n = strlen(key_text);
    /* tolerate a trailing newline from a private_key_file */
    while (n > 0 && (key_text[n - 1] == '\n' || key_text[n - 1] == '\r' || key_text[n - 1] == ' '))
        n--;
    char tmp[70];
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, key_text, n);
    tmp[n] = '\0';
    int bad = hl_unhex(tmp, key, 32);
    core->secure_zero(tmp, sizeof tmp);
    if (bad != 0)
        core->secure_zero(key, 32);
    return bad != 0 ? -1 : 0;
}

int hl_sign_action(struct hl *hl, const struct hl_action *a, struct xgw_buf *body, struct xgw_error *err)
{
    const struct xgw_core_api *core = hl->core;
    if (!hl->has_key)
        return core->set_error(err, XGW_ERR_AUTH, 0,
                               "no private_key configured: set private_key (or private_key_file) to trade");
    int64_t nonce = hl_next_nonce(hl);
    uint64_t expires = 0;
    bool has_exp = hl->expires_after_ms > 0;
    if (has_exp)
        expires = (uint64_t)nonce + (uint64_t)hl->expires_after_ms;

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    uint8_t conn[32], digest[32];
    if (hl_action_msgpack(a, &sb) != 0 ||
        hl_action_hash(&hl->kc, sb.data, sb.size, (uint64_t)nonce, hl->has_vault ? hl->vault : NULL,
                       has_exp ? &expires : NULL, conn) != 0) {
        msgpack_sbuffer_destroy(&sb);
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while serialising the action");
    }
    msgpack_sbuffer_destroy(&sb);
    hl_agent_digest(&hl->kc, conn, hl->mainnet, digest);

    struct hl_sig sig;
    uint8_t key[32];
    int bad = hl_private_key(core, hl->key_text, key) != 0 || hl_sign_digest(hl->secp, key, digest, &sig) != 0;
    core->secure_zero(key, sizeof key);
    if (bad)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "secp256k1 signing failed");
    char r[67], s[67];
    hl_hex0x(sig.r, 32, r);
    hl_hex0x(sig.s, 32, s);

    int rc = core->buf_printf(body, "{\"action\":");
    rc = rc ? rc : hl_action_json(core, a, body);
    rc = rc ? rc
            : core->buf_printf(body, ",\"nonce\":%lld,\"signature\":{\"r\":\"%s\",\"s\":\"%s\",\"v\":%d}",
                               (long long)nonce, r, s, sig.v);
    if (rc == 0) {
        if (hl->has_vault)
            rc = core->buf_printf(body, ",\"vaultAddress\":\"%s\"", hl->vault_hex);
        else
            rc = core->buf_printf(body, ",\"vaultAddress\":null");
    }
    if (rc == 0) {
        if (has_exp)
            rc = core->buf_printf(body, ",\"expiresAfter\":%llu}", (unsigned long long)expires);
        else
            rc = core->buf_printf(body, ",\"expiresAfter\":null}");
    }
    core->secure_zero(digest, sizeof digest);
    return rc ? core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while building the request") : XGW_OK;
}
