/*
 * Unit tests of the Hyperliquid plugin, linked statically and run through
 * the real core services (instance context, core API table, sink,
 * responses).
 *
 * Vector sources (facts copied, not code):
 *   [PY] hyperliquid-dex/hyperliquid-python-sdk tests/signing_test.py at
 *        7ee976d123b1e04295e4a1e37a424ca6a13bef88 (v0.23.0): production
 *        connectionId, dummy/order/cloid/vault signatures. The SDK prints r
 *        and s with to_hex(int), which drops leading zeros: sdk_hex() pads.
 *   [TS] nktkas/hyperliquid tests/signing/mod.test.ts at
 *        1bd7b749a9e7f3933d9235244d38f8c8494c9a39: action hashes and
 *        signatures with vaultAddress and/or expiresAfter.
 *   Keccak answers: keccak256("") and ("abc") as published; the 135/136/200
 *   byte inputs from an independent spec-style Python sponge that was first
 *   checked against hashlib.sha3_256 (same permutation, padding 0x06).
 *   Addresses: private key 1 and the web3.js documentation's example key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <secp256k1_recovery.h>

#include "config.h"
#include "hl.h"
#include "instctx.h"
#include "response.h"
#include "sink.h"
#include "tu_fixture.h"

#define PY_KEY "0x0123456789012345678901234567890123456789012345678901234567890123"
#define TS_KEY "0x822e9959e022b78423eb653a62ea0020cd283e71a2a8133a6ff2aeffaf373cff"

struct fx {
    struct xgw__inst_cfg cfg;
    struct xgw__kv extras[8];
    struct xgw_inst_ctx *ctx;
    const struct xgw_core_api *core;
    struct hl *hl;
    struct xgw_sink *sink;
    struct xgw_request req;
    struct xgw_response resp;
    struct xgw_error err;
    char *body;
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void unhex(const char *s, uint8_t *out, size_t n) { assert_int_equal(hl_unhex(s, out, n), 0); }

static void hex(const uint8_t *b, size_t n, char *out) { hl_hex0x(b, n, out); }

/* "0x" + 64 hex from an SDK value printed without leading zeros. */
static const char *sdk_hex(const char *s)
{
    static char bufs[4][67];
    static int i;
    char *b = bufs[i++ & 3];
    size_t n = strlen(s + 2);
    assert_true(n <= 64);
    memcpy(b, "0x", 2);
    memset(b + 2, '0', 64 - n);
    memcpy(b + 2 + 64 - n, s + 2, n + 1);
    return b;
}

static struct xgw_market mk(const char *sym, int64_t index, int szd)
{
    struct xgw_market m;
    memset(&m, 0, sizeof m);
    snprintf(m.symbol, sizeof m.symbol, "%s", sym);
    m.qty_decimals = szd;
    m.price_decimals = 6 - szd;
    m.index = index;
    m.tick_size = (xgw_dec){1, 6 - szd};
    m.step_size = (xgw_dec){1, szd};
    m.min_qty = m.step_size;
    m.min_notional = xgw_dec_none();
    m.market_step_size = xgw_dec_none();
    m.status = XGW_MKT_TRADING;
    return m;
}

/* An instance over the real core; extra config as "key", "value" pairs. */
static struct fx *fx_new_cfg(const char *network, const char *const *kv)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->cfg.name = (char *)"hl-test";
    f->cfg.plugin = (char *)"hyperliquid";
    f->cfg.network = (char *)network;
    size_t n = 0;
    for (; kv != NULL && kv[2 * n] != NULL; n++) {
        assert_true(n < 8);
        f->extras[n].key = (char *)kv[2 * n];
        f->extras[n].value = (char *)kv[2 * n + 1];
        f->extras[n].line = (int)n + 2;
        f->extras[n].secret = strcmp(kv[2 * n], "private_key") == 0;
    }
    f->cfg.extras = f->extras;
    f->cfg.n_extras = n;
    f->ctx = xgw__inst_ctx_new(&f->cfg);
    assert_non_null(f->ctx);
    f->core = xgw__core_api();
    f->sink = xgw__sink_new();
    assert_non_null(f->sink);
    xgw__response_init(&f->resp);
    struct xgw_market m[] = {mk("BTC", 0, 5), mk("ETH", 1, 4), mk("ATOM", 2, 2), mk("DOGE", 5, 0)};
    assert_int_equal(xgw__inst_ctx_set_markets(f->ctx, m, sizeof m / sizeof m[0], 1), 0);
    f->hl = hl_plugin.create(f->core, f->ctx, &f->err);
    return f;
}

static struct fx *fx_new(const char *key)
{
    const char *kv[] = {"private_key", key, NULL};
    struct fx *f = fx_new_cfg("mainnet", key != NULL ? kv : NULL);
    assert_non_null(f->hl);
    return f;
}

static void fx_free(struct fx *f)
{
    if (f->hl != NULL)
        hl_plugin.destroy(f->hl);
    xgw__sink_free(f->sink);
    xgw__inst_ctx_free(f->ctx);
    xgw__response_free(&f->resp);
    free(f->req.target.data);
    free(f->req.body.data);
    free(f->req.headers.data);
    free(f->body);
    free(f);
}

static int build(struct fx *f, enum xgw_op op, const struct xgw_call *call)
{
    f->req.target.len = f->req.body.len = f->req.headers.len = 0;
    if (f->req.target.data)
        f->req.target.data[0] = '\0';
    if (f->req.body.data)
        f->req.body.data[0] = '\0';
    if (f->req.headers.data)
        f->req.headers.data[0] = '\0';
    memset(&f->err, 0, sizeof f->err);
    return hl_plugin.build(f->hl, op, call, &f->req, &f->err);
}

static const char *body(struct fx *f) { return f->req.body.data != NULL ? f->req.body.data : ""; }

#define assert_prefix(s, p) assert_memory_equal((s), (p), strlen(p))

static int parse_text(struct fx *f, enum xgw_op op, const struct xgw_call *call, int status, const char *text)
{
    xgw__response_reset(&f->resp);
    xgw__sink_reset(f->sink);
    memset(&f->err, 0, sizeof f->err);
    char line[64];
    int n = snprintf(line, sizeof line, "HTTP/1.1 %d X\r\n", status);
    assert_int_equal(xgw__response_add_header(&f->resp, line, (size_t)n), 0);
    f->resp.status = status;
    f->resp.body = text;
    f->resp.body_len = text != NULL ? strlen(text) : 0;
    return hl_plugin.parse(f->hl, op, call, &f->resp, f->sink, &f->err);
}

static int parse_fixture(struct fx *f, enum xgw_op op, const struct xgw_call *call, int status, const char *name)
{
    free(f->body);
    f->body = tu_read_fixture("hyperliquid", name);
    return parse_text(f, op, call, status, f->body);
}

static int ws_fixture(struct fx *f, const char *name)
{
    free(f->body);
    f->body = tu_read_fixture("hyperliquid", name);
    xgw__sink_reset(f->sink);
    memset(&f->err, 0, sizeof f->err);
    return hl_plugin.ws_parse(f->hl, f->body, strlen(f->body), f->sink, &f->err);
}

static void ws_text(struct fx *f, const char *text, int want)
{
    xgw__sink_reset(f->sink);
    memset(&f->err, 0, sizeof f->err);
    assert_int_equal(hl_plugin.ws_parse(f->hl, text, strlen(text), f->sink, &f->err), want);
}

/* Pack {"type":"dummy","num":100000000000} as the SDK test does
 * (float_to_int_for_hashing(1000) = 1000 * 10^8). */
static void pack_dummy(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "type", 4);
    msgpack_pack_str_with_body(&pk, "dummy", 5);
    msgpack_pack_str_with_body(&pk, "num", 3);
    msgpack_pack_uint64(&pk, 100000000000ULL);
}

struct signer {
    secp256k1_context *secp;
    uint8_t key[32];
};

static void signer_init(struct signer *s, const char *key)
{
    s->secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    assert_non_null(s->secp);
    unhex(key, s->key, 32);
}

/* Sign packed bytes through every stage and compare r/s/v. */
static void check_sig(struct signer *s, const void *packed, size_t len, uint64_t nonce, const char *vault,
                      const uint64_t *expires, bool mainnet, const char *r, const char *sv, int v)
{
    uint8_t vb[20], conn[32], digest[32];
    if (vault != NULL)
        unhex(vault, vb, 20);
    assert_int_equal(hl_action_hash(NULL, packed, len, nonce, vault ? vb : NULL, expires, conn), 0);
    hl_agent_digest(NULL, conn, mainnet, digest);
    struct hl_sig sig;
    assert_int_equal(hl_sign_digest(s->secp, s->key, digest, &sig), 0);
    char rh[67], sh[67];
    hex(sig.r, 32, rh);
    hex(sig.s, 32, sh);
    assert_string_equal(rh, sdk_hex(r));
    assert_string_equal(sh, sdk_hex(sv));
    assert_int_equal(sig.v, v);

    /* Digest stage on its own: the reference signature, recovered over our
     * digest, must name the key's address (no dependence on our signer). */
    uint8_t compact[64];
    unhex(sdk_hex(r), compact, 32);
    unhex(sdk_hex(sv), compact + 32, 32);
    secp256k1_ecdsa_recoverable_signature rs;
    assert_true(secp256k1_ecdsa_recoverable_signature_parse_compact(s->secp, &rs, compact, v - 27));
    secp256k1_pubkey pub, mine;
    assert_true(secp256k1_ecdsa_recover(s->secp, &pub, &rs, digest));
    assert_true(secp256k1_ec_pubkey_create(s->secp, &mine, s->key));
    assert_int_equal(secp256k1_ec_pubkey_cmp(s->secp, &pub, &mine), 0);
}

static void order_wire(struct hl_action *a, uint32_t asset, const char *px, const char *sz, const char *tif,
                       const char *cloid)
{
    memset(a, 0, sizeof *a);
    a->kind = HL_ACT_ORDER;
    a->order.asset = asset;
    a->order.is_buy = true;
    snprintf(a->order.px, sizeof a->order.px, "%s", px);
    snprintf(a->order.sz, sizeof a->order.sz, "%s", sz);
    a->order.tif = tif;
    snprintf(a->order.cloid, sizeof a->order.cloid, "%s", cloid != NULL ? cloid : "");
}

/* ------------------------------------------------------------------------ */
/* Keccak                                                                    */
/* ------------------------------------------------------------------------ */

static void test_keccak_known_answers(void **state)
{
    (void)state;
    static const struct {
        size_t len; /* SIZE_MAX = "abc" */
        const char *hash;
    } v[] = {
        {0, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
        {SIZE_MAX, "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
        {135, "0xcbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62"}, /* rate - 1: pad 0x81 */
        {136, "0x7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e"}, /* exactly one block */
        {200, "0xbfb0aa97863e797943cf7c33bb7e880bb4543f3d2703c0923c6901c2af57b890"}, /* two blocks */
    };
    uint8_t in[200];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)i;
    struct hl_keccak k;
    hl_keccak_init(&k);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const void *p = v[i].len == SIZE_MAX ? (const void *)"abc" : in;
        size_t n = v[i].len == SIZE_MAX ? 3 : v[i].len;
        uint8_t out[32];
        char h[67];
        hl_keccak256_builtin(p, n, out);
        hex(out, 32, h);
        assert_string_equal(h, v[i].hash);
        hl_keccak256(&k, p, n, out); /* OpenSSL's when the runtime has it */
        hex(out, 32, h);
        assert_string_equal(h, v[i].hash);
    }
    hl_keccak_free(&k);
}

/* ------------------------------------------------------------------------ */
/* msgpack and signing stages                                                */
/* ------------------------------------------------------------------------ */

static void test_msgpack_bytes(void **state)
{
    (void)state;
    struct hl_action a;
    memset(&a, 0, sizeof a);
    a.kind = HL_ACT_CANCEL;
    a.asset = 1;
    a.oid = 123;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(hl_action_msgpack(&a, &sb), 0);
    /* {"type":"cancel","cancels":[{"a":1,"o":123}]}: fixmap 2, fixstr, fixarray 1, positive fixints */
    static const uint8_t want[] = {0x82, 0xa4, 't', 'y', 'p', 'e', 0xa6, 'c', 'a', 'n', 'c', 'e', 'l', 0xa7, 'c',
                                   'a', 'n', 'c', 'e', 'l', 's', 0x91, 0x82, 0xa1, 'a', 0x01, 0xa1, 'o', 0x7b};
    assert_int_equal(sb.size, sizeof want);
    assert_memory_equal(sb.data, want, sizeof want);
    msgpack_sbuffer_clear(&sb);

    /* Order with cloid: keys a,b,p,s,r,t,c; large oid picks uint32; grouping last. */
    order_wire(&a, 4, "1670.1", "0.0147", "Ioc", "0x00000000000000000000000000000001");
    assert_int_equal(hl_action_msgpack(&a, &sb), 0);
    static const uint8_t head[] = {0x83, 0xa4, 't', 'y', 'p', 'e', 0xa5, 'o', 'r', 'd', 'e', 'r', 0xa6, 'o', 'r',
                                   'd', 'e', 'r', 's', 0x91, 0x87, 0xa1, 'a', 0x04, 0xa1, 'b', 0xc3, 0xa1, 'p', 0xa6,
                                   '1', '6', '7', '0', '.', '1'};
    assert_memory_equal(sb.data, head, sizeof head);
    /* "c" is a 34-char string: str8 (0xd9 0x22), as Python's msgpack writes it */
    bool found = false;
    for (size_t i = 0; i + 7 <= sb.size && !found; i++)
        found = memcmp(sb.data + i, "\xa1" "c" "\xd9\x22" "0x0", 7) == 0;
    assert_true(found);
    static const uint8_t tail[] = {0xa8, 'g', 'r', 'o', 'u', 'p', 'i', 'n', 'g', 0xa2, 'n', 'a'};
    assert_memory_equal(sb.data + sb.size - sizeof tail, tail, sizeof tail);
    msgpack_sbuffer_clear(&sb);

    a.kind = HL_ACT_CANCEL;
    a.oid = 91490942;
    assert_int_equal(hl_action_msgpack(&a, &sb), 0);
    assert_memory_equal((const uint8_t *)sb.data + sb.size - 7, "\xa1o\xce\x05\x74\x0a\x7e", 7);
    msgpack_sbuffer_destroy(&sb);
}

static void test_sdk_production_connection_id(void **state)
{
    (void)state;
    struct hl_action a;
    order_wire(&a, 4, "1670.1", "0.0147", "Ioc", NULL);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(hl_action_msgpack(&a, &sb), 0);
    uint8_t conn[32];
    assert_int_equal(hl_action_hash(NULL, sb.data, sb.size, 1677777606040ULL, NULL, NULL, conn), 0);
    char h[67];
    hex(conn, 32, h);
    assert_string_equal(h, "0x0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908");
    msgpack_sbuffer_destroy(&sb);
}

static void test_sdk_l1_signatures(void **state)
{
    (void)state;
    struct signer s;
    signer_init(&s, PY_KEY);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);

    pack_dummy(&sb);
    check_sig(&s, sb.data, sb.size, 0, NULL, NULL, true, "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
              "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8", 27);
    check_sig(&s, sb.data, sb.size, 0, NULL, NULL, false,
              "0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510",
              "0x17b8b32f086e8cdede991f1e2c529f5dd5297cbe8128500e00cbaf766204a613", 28);
    /* with a vault address */
    check_sig(&s, sb.data, sb.size, 0, "0x1719884eb866cb12b2287399b15f7db5e7d775ea", NULL, true,
              "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239",
              "0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c", 28);
    check_sig(&s, sb.data, sb.size, 0, "0x1719884eb866cb12b2287399b15f7db5e7d775ea", NULL, false,
              "0xe281d2fb5c6e25ca01601f878e4d69c965bb598b88fac58e475dd1f5e56c362b",
              "0x7ddad27e9a238d045c035bc606349d075d5c5cd00a6cd1da23ab5c39d4ef0f60", 27);
    msgpack_sbuffer_clear(&sb);

    /* order ETH(asset 1) buy 100 @ 100 Gtc, built by the plugin's packer */
    struct hl_action a;
    order_wire(&a, 1, "100", "100", "Gtc", NULL);
    assert_int_equal(hl_action_msgpack(&a, &sb), 0);
    check_sig(&s, sb.data, sb.size, 0, NULL, NULL, true,
              "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
              "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e", 28);
    check_sig(&s, sb.data, sb.size, 0, NULL, NULL, false,
              "0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54",
              "0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5", 27);
    msgpack_sbuffer_clear(&sb);

    /* the same with cloid 0x…01 */
    order_wire(&a, 1, "100", "100", "Gtc", "0x00000000000000000000000000000001");
    assert_int_equal(hl_action_msgpack(&a, &sb), 0);
    check_sig(&s, sb.data, sb.size, 0, NULL, NULL, true, "0x41ae18e8239a56cacbc5dad94d45d0b747e5da11ad564077fcac71277a946e3",
              "0x3c61f667e747404fe7eea8f90ab0e76cc12ce60270438b2058324681a00116da", 27);
    check_sig(&s, sb.data, sb.size, 0, NULL, NULL, false,
              "0xeba0664bed2676fc4e5a743bf89e5c7501aa6d870bdb9446e122c9466c5cd16d",
              "0x7f3e74825c9114bc59086f1eebea2928c190fdfbfde144827cb02b85bbe90988", 28);
    msgpack_sbuffer_destroy(&sb);
    secp256k1_context_destroy(s.secp);
}

/* Vault and expiresAfter combinations, hash and signature ([TS]). */
static void test_vault_and_expiry_vectors(void **state)
{
    (void)state;
    struct signer s;
    signer_init(&s, TS_KEY);
    struct hl_action a;
    order_wire(&a, 0, "30000", "0.1", "Gtc", NULL);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(hl_action_msgpack(&a, &sb), 0);
    const char *vault = "0x1234567890123456789012345678901234567890";
    uint64_t exp = 1234567890;
    static const struct {
        bool vault, exp;
        const char *hash;
        const char *mr, *ms;
        int mv;
        const char *tr, *ts;
        int tv;
    } v[] = {
        {false, false, "0x25367e0dba84351148288c2233cd6130ed6cec5967ded0c0b7334f36f957cc90",
         "0x61078d8ffa3cb591de045438a1ae2ed299b271891d1943a33901e7cfb3a31ed8",
         "0x0e91df4f9841641d3322dad8d932874b74d7e082cdb5b533f804964a6963aef9", 28,
         "0x6b0283a894d87b996ad0182b86251cc80d27d61ef307449a2ed249a508ded1f7",
         "0x6f884e79f4a0a10af62db831af6f8e03b3f11d899eb49b352f836746ee9226da", 27},
        {true, false, "0x214e2ea3270981b6fd18174216691e69f56872663139d396b10ded319cb4bb1e",
         "0x77151b3ae29b83c8affb3791568c6452019ba8c30019236003abb1efcd809433",
         "0x55668c02f6ad4a1c335ce99987b7545984c4edc1765fe52cf115a423dc8279bb", 27,
         "0x294a6cf713483c129be9af5c7450aca59c9082f391f02325715c0d04b7f48ac1",
         "0x119cfd947dcd2da1d1064a9d08bcf07e01fc9b72dd7cca69a988c74249e300f0", 27},
        {false, true, "0xc30b002ba3775e4c31c43c1dfd3291dfc85c6ae06c6b9f393991de86cad5fac7",
         "0x162a52128fb58bc6adb783e3d36913c53127851144fc45c5603a51e97b9202fd",
         "0x469571eb0a2101a32f81f9584e15fd35c723a6089e106f4f33798dbccf7cd416", 28,
         "0x5094989a7c0317db6553f21dd7f90d43415e8bd01af03829de249d4ea0aa5f66",
         "0x491d04966e81662bd4e70d607fac30e71803c01733f4f66ff7299b0470675b8b", 27},
        {true, true, "0x2d62412aa0fc57441b5189841d81554a6a9680bf07204e1454983a9ca44f0744",
         "0x78fcca006d7fdfaf1f66978ef7a60280246fc3e7a5b39a68a1656c3e42c58bf1",
         "0x61a09957de7f0886c2bdffb7a94e3a257bf240796883ea6ceaf4d0be37055cdd", 27,
         "0x3a0bbbd9fadca54f58a2b7050899cecb97f68b2f693c63e91ca60510427326d7",
         "0x60f75f12cae7b9dc18b889406192afcaf13f40d2f8c68cc01f7f83f3fb5deb23", 27},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t vb[20], conn[32];
        unhex(vault, vb, 20);
        assert_int_equal(hl_action_hash(NULL, sb.data, sb.size, 1234567890, v[i].vault ? vb : NULL,
                                        v[i].exp ? &exp : NULL, conn),
                         0);
        char h[67];
        hex(conn, 32, h);
        assert_string_equal(h, v[i].hash);
        check_sig(&s, sb.data, sb.size, 1234567890, v[i].vault ? vault : NULL, v[i].exp ? &exp : NULL, true, v[i].mr,
                  v[i].ms, v[i].mv);
        check_sig(&s, sb.data, sb.size, 1234567890, v[i].vault ? vault : NULL, v[i].exp ? &exp : NULL, false, v[i].tr,
                  v[i].ts, v[i].tv);
    }
    msgpack_sbuffer_destroy(&sb);
    secp256k1_context_destroy(s.secp);
}

static void test_address_derivation(void **state)
{
    (void)state;
    secp256k1_context *secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    static const struct {
        const char *key, *addr;
    } v[] = {
        {"0x0000000000000000000000000000000000000000000000000000000000000001",
         "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"},
        {"4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
         "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23"},
    };
    for (size_t i = 0; i < 2; i++) {
        uint8_t key[32], addr[20];
        char h[HL_ADDR_HEX];
        unhex(v[i].key, key, 32);
        assert_int_equal(hl_address(secp, NULL, key, addr), 0);
        hex(addr, 20, h);
        assert_string_equal(h, v[i].addr);
    }
    uint8_t zero[32] = {0}, addr[20];
    assert_int_equal(hl_address(secp, NULL, zero, addr), -1);
    secp256k1_context_destroy(secp);

    /* create() derives and reports the signer; reads default to it */
    struct fx *f = fx_new("0x0000000000000000000000000000000000000000000000000000000000000001");
    assert_string_equal(f->hl->signer, "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    assert_string_equal(f->hl->user, f->hl->signer);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Whole requests                                                            */
/* ------------------------------------------------------------------------ */

static struct xgw_call place_call(const char *sym, enum xgw_side side, enum xgw_order_type type, const char *qty,
                                  const char *px)
{
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    snprintf(c.order.symbol, sizeof c.order.symbol, "%s", sym);
    c.order.side = side;
    c.order.type = type;
    c.order.qty = tu_dec(qty);
    c.order.price = tu_dec(px);
    return c;
}

/* The [TS] order built by the plugin from a neutral call: the body carries
 * exactly the reference signature. */
static void test_build_place_signed_body(void **state)
{
    (void)state;
    struct fx *f = fx_new(TS_KEY);
    f->hl->fixed_now_ms = 1234567890;
    struct xgw_call c = place_call("BTC", XGW_SIDE_BUY, XGW_TYPE_LIMIT, "0.10000", "30000.0");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    assert_int_equal(f->req.method, XGW_HTTP_POST);
    assert_string_equal(f->req.target.data, "/exchange");
    assert_non_null(strstr(f->req.headers.data, "Content-Type: application/json\n"));
    assert_string_equal(body(f),
                        "{\"action\":{\"type\":\"order\",\"orders\":[{\"a\":0,\"b\":true,\"p\":\"30000\",\"s\":\"0.1\","
                        "\"r\":false,\"t\":{\"limit\":{\"tif\":\"Gtc\"}}}],\"grouping\":\"na\"},\"nonce\":1234567890,"
                        "\"signature\":{\"r\":\"0x61078d8ffa3cb591de045438a1ae2ed299b271891d1943a33901e7cfb3a31ed8\","
                        "\"s\":\"0x0e91df4f9841641d3322dad8d932874b74d7e082cdb5b533f804964a6963aef9\",\"v\":28},"
                        "\"vaultAddress\":null,\"expiresAfter\":null}");
    uint32_t costs[HL_RL__COUNT] = {0};
    hl_plugin.cost(f->hl, XGW_OP_PLACE, &c, costs);
    assert_int_equal(costs[HL_RL_WEIGHT_1M], 1);
    fx_free(f);

    /* testnet + vault: source "b" and the vault in hash and body */
    const char *kv[] = {"private_key", TS_KEY, "vault_address", "0x1234567890123456789012345678901234567890", NULL};
    f = fx_new_cfg("testnet", kv);
    assert_non_null(f->hl);
    f->hl->fixed_now_ms = 1234567890;
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    assert_non_null(strstr(body(f), "\"r\":\"0x294a6cf713483c129be9af5c7450aca59c9082f391f02325715c0d04b7f48ac1\""));
    assert_non_null(strstr(body(f), "\"s\":\"0x119cfd947dcd2da1d1064a9d08bcf07e01fc9b72dd7cca69a988c74249e300f0\""
                                    ",\"v\":27},\"vaultAddress\":\"0x1234567890123456789012345678901234567890\""));
    assert_string_equal(f->hl->user, "0x1234567890123456789012345678901234567890");
    fx_free(f);

    /* expires_after_ms: expiresAfter = nonce + window, hashed and sent */
    const char *kv2[] = {"private_key", TS_KEY, "expires_after_ms", "60000", NULL};
    f = fx_new_cfg("mainnet", kv2);
    assert_non_null(f->hl);
    f->hl->fixed_now_ms = 1234507890;
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    assert_non_null(strstr(body(f), "\"nonce\":1234507890,"));
    assert_non_null(strstr(body(f), ",\"expiresAfter\":1234567890}"));
    fx_free(f);
}

static void test_nonce_strictly_increasing(void **state)
{
    (void)state;
    struct fx *f = fx_new(PY_KEY);
    f->hl->fixed_now_ms = 1700000000000;
    struct xgw_call c = place_call("ETH", XGW_SIDE_SELL, XGW_TYPE_LIMIT, "0.5", "3500.5");
    char first[4096];
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    snprintf(first, sizeof first, "%s", body(f));
    assert_non_null(strstr(first, "\"nonce\":1700000000000,"));
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    assert_non_null(strstr(body(f), "\"nonce\":1700000000001,"));
    assert_string_not_equal(first, body(f)); /* a different nonce, so a different signature */
    /* clock going backwards never reuses a nonce */
    f->hl->fixed_now_ms = 1699999999000;
    assert_int_equal(hl_next_nonce(f->hl), 1700000000002);
    /* the real corrected clock: many nonces in a tight loop stay distinct */
    f->hl->fixed_now_ms = 0;
    int64_t prev = hl_next_nonce(f->hl);
    for (int i = 0; i < 1000; i++) {
        int64_t n = hl_next_nonce(f->hl);
        assert_true(n > prev);
        prev = n;
    }
    fx_free(f);
}

static void test_build_reads(void **state)
{
    (void)state;
    const char *kv[] = {"private_key", PY_KEY, "account_address", "0xABCDEF0123456789abcdef0123456789ABCDEF01", NULL};
    struct fx *f = fx_new_cfg("mainnet", kv);
    assert_non_null(f->hl);
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    static const struct {
        enum xgw_op op;
        const char *body;
        uint32_t cost;
    } v[] = {
        {XGW_OP_PING, "{\"type\":\"allMids\"}", 2},
        {XGW_OP_TIME, "{\"type\":\"l2Book\",\"coin\":\"BTC\"}", 2},
        {XGW_OP_MARKETS, "{\"type\":\"meta\"}", 20},
        {XGW_OP_TICKER, "{\"type\":\"l2Book\",\"coin\":\"ETH\"}", 2},
        {XGW_OP_DEPTH, "{\"type\":\"l2Book\",\"coin\":\"ETH\"}", 2},
        {XGW_OP_BALANCES, "{\"type\":\"clearinghouseState\",\"user\":\"0xabcdef0123456789abcdef0123456789abcdef01\"}", 2},
        {XGW_OP_POSITIONS, "{\"type\":\"clearinghouseState\",\"user\":\"0xabcdef0123456789abcdef0123456789abcdef01\"}", 2},
        {XGW_OP_OPEN_ORDERS, "{\"type\":\"openOrders\",\"user\":\"0xabcdef0123456789abcdef0123456789abcdef01\"}", 20},
    };
    strcpy(c.symbol, "ETH");
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(build(f, v[i].op, &c), XGW_OK);
        assert_string_equal(f->req.target.data, "/info");
        assert_int_equal(f->req.method, XGW_HTTP_POST);
        assert_string_equal(body(f), v[i].body);
        uint32_t costs[HL_RL__COUNT] = {0};
        hl_plugin.cost(f->hl, v[i].op, &c, costs);
        assert_int_equal(costs[0], v[i].cost);
    }
    strcpy(c.order_id, "91490942");
    assert_int_equal(build(f, XGW_OP_GET_ORDER, &c), XGW_OK);
    assert_string_equal(body(f), "{\"type\":\"orderStatus\",\"user\":\"0xabcdef0123456789abcdef0123456789abcdef01\","
                                 "\"oid\":91490942}");
    c.order_id[0] = '\0';
    strcpy(c.client_id, "0xabcdef0123456789abcdef0123456789");
    assert_int_equal(build(f, XGW_OP_GET_ORDER, &c), XGW_OK);
    assert_string_equal(body(f), "{\"type\":\"orderStatus\",\"user\":\"0xabcdef0123456789abcdef0123456789abcdef01\","
                                 "\"oid\":\"0xabcdef0123456789abcdef0123456789\"}");
    /* cancel by cloid and by oid */
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_OK);
    assert_string_equal(f->req.target.data, "/exchange");
    assert_prefix(body(f), "{\"action\":{\"type\":\"cancelByCloid\",\"cancels\":[{\"asset\":1,\"cloid\":"
                           "\"0xabcdef0123456789abcdef0123456789\"}]},\"nonce\":");
    c.client_id[0] = '\0';
    strcpy(c.order_id, "77738308");
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_OK);
    assert_prefix(body(f), "{\"action\":{\"type\":\"cancel\",\"cancels\":[{\"a\":1,\"o\":77738308}]},\"nonce\":");
    /* refusals */
    strcpy(c.order_id, "12x");
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_ERR_INVALID_REQUEST);
    strcpy(c.symbol, "NOPE");
    strcpy(c.order_id, "1");
    assert_int_equal(build(f, XGW_OP_CANCEL, &c), XGW_ERR_INVALID_REQUEST);
    assert_int_equal(build(f, XGW_OP_WS_TOKEN, &c), XGW_ERR_UNSUPPORTED);
    fx_free(f);

    /* without a key or account: public reads work, account reads and trading do not */
    f = fx_new(NULL);
    assert_int_equal(build(f, XGW_OP_MARKETS, &c), XGW_OK);
    assert_int_equal(build(f, XGW_OP_BALANCES, &c), XGW_ERR_AUTH);
    struct xgw_call p = place_call("BTC", XGW_SIDE_BUY, XGW_TYPE_LIMIT, "0.1", "30000");
    assert_int_equal(build(f, XGW_OP_PLACE, &p), XGW_ERR_AUTH);
    fx_free(f);
}

static void test_build_place_variants(void **state)
{
    (void)state;
    struct fx *f = fx_new(PY_KEY);
    struct xgw_call c = place_call("ETH", XGW_SIDE_SELL, XGW_TYPE_LIMIT, "0.5", "3500.5");
    c.order.tif = XGW_TIF_POST_ONLY;
    c.order.reduce_only = true;
    strcpy(c.order.client_id, "0x0123456789abcdef0123456789abcdef");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_OK);
    assert_prefix(body(f),
                  "{\"action\":{\"type\":\"order\",\"orders\":[{\"a\":1,\"b\":false,\"p\":\"3500.5\",\"s\":\"0.5\","
                  "\"r\":true,\"t\":{\"limit\":{\"tif\":\"Alo\"}},\"c\":\"0x0123456789abcdef0123456789abcdef\"}],"
                  "\"grouping\":\"na\"},");
    c.order.tif = XGW_TIF_FOK;
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_ERR_INVALID_REQUEST);
    c.order.tif = XGW_TIF_IOC;
    strcpy(c.order.client_id, "abc");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_ERR_INVALID_REQUEST);
    c.order.client_id[0] = '\0';
    c.order.price = tu_dec("3500.55"); /* 6 significant figures */
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_ERR_INVALID_REQUEST);
    c.order.price = tu_dec("3500.5");
    c.order.qty = tu_dec("0.00001"); /* szDecimals 4 */
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_ERR_INVALID_REQUEST);
    c.order.side = XGW_SIDE_NONE;
    c.order.qty = tu_dec("1");
    assert_int_equal(build(f, XGW_OP_PLACE, &c), XGW_ERR_INVALID_REQUEST);

    /* market: caller's reference price ± 5 % rounded to 5 significant figures */
    struct xgw_call m = place_call("BTC", XGW_SIDE_BUY, XGW_TYPE_MARKET, "0.001", "97123.5");
    assert_int_equal(build(f, XGW_OP_PLACE, &m), XGW_OK);
    assert_non_null(strstr(body(f), "\"b\":true,\"p\":\"101980\",\"s\":\"0.001\",\"r\":false,\"t\":{\"limit\":{\"tif\":"
                                    "\"Ioc\"}}"));
    m.order.side = XGW_SIDE_SELL;
    assert_int_equal(build(f, XGW_OP_PLACE, &m), XGW_OK);
    assert_non_null(strstr(body(f), "\"p\":\"92267\","));
    /* without a price: refused until a mid has been seen, then from the mid */
    m.order.price = xgw_dec_none();
    strcpy(m.order.symbol, "ATOM");
    assert_int_equal(build(f, XGW_OP_PLACE, &m), XGW_ERR_INVALID_REQUEST);
    assert_non_null(strstr(f->err.message, "reference price"));
    assert_int_equal(ws_fixture(f, "ws_allmids.json"), XGW_OK); /* has no ATOM */
    assert_int_equal(build(f, XGW_OP_PLACE, &m), XGW_ERR_INVALID_REQUEST);
    hl_mid_put(f->hl, "ATOM", tu_dec("4.8765"));
    m.order.qty = tu_dec("10");
    assert_int_equal(build(f, XGW_OP_PLACE, &m), XGW_OK);
    assert_non_null(strstr(body(f), "\"b\":false,\"p\":\"4.6327\",\"s\":\"10\""));
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Wire formatting                                                           */
/* ------------------------------------------------------------------------ */

static void test_wire_table(void **state)
{
    (void)state;
    const struct xgw_core_api *core = xgw__core_api();
    static const struct {
        const char *in;
        int szd;
        const char *px; /* NULL = refused */
        const char *sz;
    } v[] = {
        {"1670.1", 4, "1670.1", "1670.1"},   {"100", 1, "100", "100"},          {"100.0", 1, "100", "100"},
        {"0.0147", 4, NULL, "0.0147"}, {"97123", 5, "97123", "97123"},     {"97123.5", 5, NULL, "97123.5"},
        {"123456", 0, "123456", "123456"}, {"123456.0", 0, "123456", "123456"}, {"12345.6", 0, NULL, NULL},
        {"0.000123", 0, "0.000123", NULL}, {"0.0001234", 0, NULL, NULL},    {"0.01", 5, NULL, "0.01"},
        {"0.1", 5, "0.1", "0.1"},          {"1.00000", 5, "1", "1"},         {"30000.00", 5, "30000", "30000"},
        {"4.8765", 2, "4.8765", NULL},     {"4.87650", 2, "4.8765", NULL},   {"-1", 2, NULL, NULL},
        {"0", 2, NULL, NULL},              {"-0", 2, NULL, NULL},            {"0.00000001", 8, NULL, "0.00000001"},
        {"0.12345", 1, "0.12345", NULL},        {"0.12345", 2, NULL, NULL},       {"0.1234", 2, "0.1234", NULL},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[XGW_DEC_STRLEN];
        struct xgw_error err;
        memset(&err, 0, sizeof err);
        int rc = hl_wire_price(core, tu_dec(v[i].in), v[i].szd, out, &err);
        if (v[i].px == NULL) {
            if (rc != XGW_ERR_INVALID_REQUEST)
                fail_msg("price %s szd %d: expected refusal, got %d (%s)", v[i].in, v[i].szd, rc, out);
        } else {
            if (rc != XGW_OK)
                fail_msg("price %s szd %d refused: %s", v[i].in, v[i].szd, err.message);
            assert_string_equal(out, v[i].px);
        }
        rc = hl_wire_size(core, tu_dec(v[i].in), v[i].szd, out, &err);
        if (v[i].sz == NULL) {
            if (rc != XGW_ERR_INVALID_REQUEST)
                fail_msg("size %s szd %d: expected refusal, got %s", v[i].in, v[i].szd, out);
        } else {
            assert_int_equal(rc, XGW_OK);
            assert_string_equal(out, v[i].sz);
        }
    }
    /* rounding of computed (market) prices */
    static const struct {
        const char *in;
        int szd;
        const char *out;
    } r[] = {
        {"101979.675", 5, "101980"}, {"92267.325", 5, "92267"}, {"1670.15", 4, "1670.2"}, {"0.123456789", 0, "0.12346"},
        {"0.0000123456", 0, "0.000012"}, {"99999.5", 5, "100000"}, {"3.14159", 4, "3.14"}, {"1234567.89", 2, "1234568"},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        xgw_dec o;
        assert_int_equal(hl_round_price(core, tu_dec(r[i].in), r[i].szd, XGW_ROUND_NEAREST, &o), XGW_OK);
        assert_string_equal(tu_dstr(o), r[i].out);
        char out[XGW_DEC_STRLEN];
        assert_int_equal(hl_wire_price(core, o, r[i].szd, out, NULL), XGW_OK);
    }
    xgw_dec o;
    assert_int_equal(hl_round_price(core, tu_dec("0.0000001"), 0, XGW_ROUND_NEAREST, &o), XGW_ERR_INVALID_REQUEST);
}

/* ------------------------------------------------------------------------ */
/* Parsing answers                                                           */
/* ------------------------------------------------------------------------ */

static void test_parse_info(void **state)
{
    (void)state;
    struct fx *f = fx_new(PY_KEY);
    struct xgw_call c;
    memset(&c, 0, sizeof c);

    assert_int_equal(parse_fixture(f, XGW_OP_MARKETS, &c, 200, "meta.json"), XGW_OK);
    assert_int_equal(f->sink->n_markets, 4);
    struct xgw_market *m = f->sink->markets;
    assert_string_equal(m[0].symbol, "BTC");
    assert_int_equal(m[0].index, 0);
    assert_int_equal(m[0].qty_decimals, 5);
    assert_int_equal(m[0].price_decimals, 1);
    assert_string_equal(tu_dstr(m[0].step_size), "0.00001");
    assert_string_equal(tu_dstr(m[0].tick_size), "0.1");
    assert_string_equal(m[1].symbol, "ETH");
    assert_int_equal(m[1].index, 1);
    assert_string_equal(tu_dstr(m[2].tick_size), "0.0001");
    assert_string_equal(tu_dstr(m[2].step_size), "0.01");
    assert_string_equal(m[2].quote, "USDC");
    assert_int_equal(m[2].status, XGW_MKT_TRADING);
    assert_int_equal(m[3].index, 3);
    assert_int_equal(m[3].status, XGW_MKT_CLOSED);

    strcpy(c.symbol, "BTC");
    assert_int_equal(parse_fixture(f, XGW_OP_TICKER, &c, 200, "l2book.json"), XGW_OK);
    assert_int_equal(f->sink->n_tickers, 1);
    struct xgw_ticker *t = f->sink->tickers;
    assert_string_equal(t->symbol, "BTC");
    assert_string_equal(tu_dstr(t->bid), "97123.0");
    assert_string_equal(tu_dstr(t->bid_qty), "1.2345");
    assert_string_equal(tu_dstr(t->ask), "97124");
    assert_string_equal(tu_dstr(t->ask_qty), "0.0101");
    assert_true(xgw_dec_is_none(t->last));
    assert_int_equal(t->ts_ms, 1754450974231);
    xgw_dec mid;
    assert_true(hl_mid_get(f->hl, "BTC", &mid));
    assert_string_equal(tu_dstr(mid), "97123.5");

    c.limit = 2;
    assert_int_equal(parse_fixture(f, XGW_OP_DEPTH, &c, 200, "l2book.json"), XGW_OK);
    assert_int_equal(f->sink->n_books, 1);
    assert_true(f->sink->books[0].info.snapshot);
    assert_int_equal(f->sink->books[0].info.seq, 1754450974231);
    assert_int_equal(f->sink->n_bids, 2);
    assert_int_equal(f->sink->n_asks, 2);
    assert_string_equal(tu_dstr(f->sink->bids[1].price), "97122");
    assert_string_equal(tu_dstr(f->sink->asks[1].qty), "3.1");
    c.limit = 0;
    assert_int_equal(parse_fixture(f, XGW_OP_DEPTH, &c, 200, "l2book.json"), XGW_OK);
    assert_int_equal(f->sink->n_bids, 3);

    assert_int_equal(parse_fixture(f, XGW_OP_TIME, &c, 200, "l2book.json"), XGW_OK);
    assert_true(f->sink->has_time);
    assert_int_equal(f->sink->time_ms, 1754450974231);

    assert_int_equal(parse_fixture(f, XGW_OP_PING, &c, 200, "allmids.json"), XGW_OK);

    assert_int_equal(parse_fixture(f, XGW_OP_BALANCES, &c, 200, "clearinghouse.json"), XGW_OK);
    assert_int_equal(f->sink->n_balances, 1);
    assert_string_equal(f->sink->balances[0].asset, "USDC");
    assert_string_equal(tu_dstr(f->sink->balances[0].total), "10234.567891");
    assert_string_equal(tu_dstr(f->sink->balances[0].available), "9748.917891");

    assert_int_equal(parse_fixture(f, XGW_OP_POSITIONS, &c, 200, "clearinghouse.json"), XGW_OK);
    assert_int_equal(f->sink->n_positions, 2); /* the zero ATOM position is skipped */
    struct xgw_position *p = f->sink->positions;
    assert_string_equal(p[0].symbol, "BTC");
    assert_int_equal(p[0].side, XGW_POS_LONG);
    assert_string_equal(tu_dstr(p[0].size), "0.05");
    assert_string_equal(tu_dstr(p[0].entry_price), "97000.0");
    assert_string_equal(tu_dstr(p[0].unrealized_pnl), "6.15");
    assert_string_equal(tu_dstr(p[0].leverage), "10");
    assert_true(xgw_dec_is_none(p[0].mark_price));
    assert_int_equal(p[1].side, XGW_POS_SHORT);
    assert_string_equal(tu_dstr(p[1].size), "1.5");
    assert_string_equal(tu_dstr(p[1].unrealized_pnl), "-17.4");

    c.symbol[0] = '\0';
    assert_int_equal(parse_fixture(f, XGW_OP_OPEN_ORDERS, &c, 200, "open_orders.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 2);
    struct xgw_order *o = f->sink->orders;
    assert_string_equal(o[0].order_id, "77738308");
    assert_string_equal(o[0].client_id, "0x00000000000000000000000000000001");
    assert_int_equal(o[0].side, XGW_SIDE_BUY);
    assert_string_equal(tu_dstr(o[0].price), "95000.0");
    assert_string_equal(tu_dstr(o[0].qty), "0.02");
    assert_string_equal(tu_dstr(o[0].filled_qty), "0.01");
    assert_int_equal(o[0].status, XGW_OS_PARTIALLY_FILLED);
    assert_int_equal(o[0].ts_ms, 1754450000000);
    assert_int_equal(o[1].side, XGW_SIDE_SELL);
    assert_string_equal(tu_dstr(o[1].qty), "0.5");
    assert_int_equal(o[1].status, XGW_OS_NEW);
    strcpy(c.symbol, "ETH");
    assert_int_equal(parse_fixture(f, XGW_OP_OPEN_ORDERS, &c, 200, "open_orders.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 1);

    assert_int_equal(parse_fixture(f, XGW_OP_GET_ORDER, &c, 200, "order_status.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 1);
    o = f->sink->orders;
    assert_string_equal(o->symbol, "ETH");
    assert_string_equal(o->order_id, "91490942");
    assert_string_equal(o->client_id, "0xabcdef0123456789abcdef0123456789");
    assert_int_equal(o->status, XGW_OS_FILLED);
    assert_string_equal(o->status_raw, "filled");
    assert_int_equal(o->side, XGW_SIDE_SELL);
    assert_int_equal(o->tif, XGW_TIF_POST_ONLY);
    assert_true(o->reduce_only);
    assert_string_equal(tu_dstr(o->qty), "0.25");
    assert_string_equal(tu_dstr(o->filled_qty), "0.25");
    assert_int_equal(o->ts_ms, 1754450123456);

    assert_int_equal(parse_fixture(f, XGW_OP_GET_ORDER, &c, 200, "order_status_unknown.json"),
                     XGW_ERR_INVALID_REQUEST);
    assert_true(f->err.flags & XGW_ERRF_ORDER_NOT_FOUND);

    /* malformed answers */
    assert_int_equal(parse_text(f, XGW_OP_MARKETS, &c, 200, "{\"universe\":[{\"name\":\"X\"}]}"), XGW_ERR_PROTOCOL);
    assert_int_equal(parse_text(f, XGW_OP_TICKER, &c, 200, "not json"), XGW_ERR_PROTOCOL);
    assert_int_equal(parse_text(f, XGW_OP_DEPTH, &c, 200, "{\"coin\":\"BTC\",\"levels\":[[{\"px\":1}],[]]}"),
                     XGW_ERR_PROTOCOL);
    assert_int_equal(parse_text(f, XGW_OP_BALANCES, &c, 200, "[]"), XGW_ERR_PROTOCOL);
    assert_int_equal(parse_text(f, XGW_OP_TIME, &c, 200, "{\"coin\":\"BTC\"}"), XGW_ERR_PROTOCOL);
    assert_int_equal(parse_text(f, XGW_OP_MARKETS, &c, 502, "bad gateway"), XGW_ERR_SERVER);
    assert_int_equal(parse_text(f, XGW_OP_MARKETS, &c, 429, "{}"), XGW_ERR_RATE_LIMITED);
    assert_true(f->err.retry_after_ms > 0);
    assert_int_equal(parse_text(f, XGW_OP_MARKETS, &c, 422, "Failed to deserialize the JSON body"),
                     XGW_ERR_INVALID_REQUEST);
    fx_free(f);
}

static void test_parse_exchange(void **state)
{
    (void)state;
    struct fx *f = fx_new(PY_KEY);
    struct xgw_call c = place_call("BTC", XGW_SIDE_BUY, XGW_TYPE_LIMIT, "0.02", "95000");
    strcpy(c.order.client_id, "0x00000000000000000000000000000001");

    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "exchange_resting.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 1);
    struct xgw_order *o = f->sink->orders;
    assert_string_equal(o->order_id, "77738308");
    assert_string_equal(o->client_id, "0x00000000000000000000000000000001");
    assert_int_equal(o->status, XGW_OS_NEW);
    assert_string_equal(tu_dstr(o->qty), "0.02");
    assert_int_equal(o->tif, XGW_TIF_GTC);

    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "exchange_filled.json"), XGW_OK);
    o = f->sink->orders;
    assert_int_equal(o->status, XGW_OS_FILLED);
    assert_string_equal(o->order_id, "77747314");
    assert_string_equal(tu_dstr(o->filled_qty), "0.02");
    assert_string_equal(tu_dstr(o->avg_price), "1891.4");
    c.order.qty = tu_dec("0.05");
    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "exchange_filled.json"), XGW_OK);
    assert_int_equal(f->sink->orders->status, XGW_OS_PARTIALLY_FILLED);
    c.order.tif = XGW_TIF_IOC;
    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "exchange_filled.json"), XGW_OK);
    assert_int_equal(f->sink->orders->status, XGW_OS_CANCELED);

    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "exchange_order_error_margin.json"), XGW_ERR_REJECTED);
    assert_non_null(strstr(f->err.message, "Insufficient margin"));
    assert_int_equal(f->sink->n_orders, 0);
    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "exchange_order_error_tick.json"),
                     XGW_ERR_INVALID_REQUEST);
    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "exchange_err_user.json"), XGW_ERR_AUTH);
    assert_non_null(strstr(f->err.message, "does not exist"));
    assert_int_equal(parse_fixture(f, XGW_OP_CANCEL, &c, 200, "exchange_err_user.json"), XGW_ERR_AUTH);
    assert_int_equal(parse_fixture(f, XGW_OP_PLACE, &c, 200, "exchange_err_ratelimit.json"), XGW_ERR_RATE_LIMITED);
    assert_true(f->err.retry_after_ms > 0);
    assert_int_equal(parse_text(f, XGW_OP_PLACE, &c, 200, "{\"status\":\"err\",\"response\":\"Invalid nonce: "
                                                          "duplicate nonce\"}"),
                     XGW_ERR_CLOCK_SKEW);

    /* transport-level failures of an action: the outcome is unknown */
    assert_int_equal(parse_text(f, XGW_OP_PLACE, &c, 500, "internal error"), XGW_ERR_UNKNOWN_OUTCOME);
    assert_true(f->err.flags & XGW_ERRF_SENT);
    assert_int_equal(f->err.http_status, 500);
    assert_int_equal(parse_text(f, XGW_OP_PLACE, &c, 200, "<html>"), XGW_ERR_UNKNOWN_OUTCOME);
    assert_int_equal(parse_text(f, XGW_OP_PLACE, &c, 200, "{\"status\":\"ok\",\"response\":{}}"),
                     XGW_ERR_UNKNOWN_OUTCOME);
    assert_int_equal(parse_text(f, XGW_OP_PLACE, &c, 429, "rate limited"), XGW_ERR_RATE_LIMITED);

    struct xgw_call k;
    memset(&k, 0, sizeof k);
    strcpy(k.symbol, "BTC");
    strcpy(k.client_id, "0x00000000000000000000000000000001");
    assert_int_equal(parse_fixture(f, XGW_OP_CANCEL, &k, 200, "exchange_cancel_ok.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 1);
    assert_int_equal(f->sink->orders->status, XGW_OS_CANCELED);
    assert_string_equal(f->sink->orders->client_id, "0x00000000000000000000000000000001");
    assert_string_equal(f->sink->orders->symbol, "BTC");
    assert_int_equal(parse_fixture(f, XGW_OP_CANCEL, &k, 200, "exchange_cancel_error.json"), XGW_ERR_INVALID_REQUEST);
    assert_true(f->err.flags & XGW_ERRF_ORDER_NOT_FOUND);
    assert_int_equal(parse_text(f, XGW_OP_CANCEL, &k, 503, ""), XGW_ERR_UNKNOWN_OUTCOME);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

static void test_ws(void **state)
{
    (void)state;
    const char *kv[] = {"private_key", PY_KEY, "account_address", "0xABCDEF0123456789abcdef0123456789ABCDEF01", NULL};
    struct fx *f = fx_new_cfg("mainnet", kv);
    assert_non_null(f->hl);
    struct xgw_buf b = {0};
    struct xgw_error err;
    assert_int_equal(hl_plugin.ws_path(f->hl, false, NULL, &b, &err), XGW_OK);
    assert_string_equal(b.data, "/ws");
    b.len = 0;
    assert_int_equal(hl_plugin.ws_ping_msg(f->hl, &b), XGW_OK);
    assert_string_equal(b.data, "{\"method\":\"ping\"}");
    assert_int_equal(f->core->buf_printf(&b, "x"), 0);

    static const struct {
        enum xgw_channel ch;
        const char *sym;
        const char *msg;
    } v[] = {
        {XGW_CH_TICKER, "BTC", "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"bbo\",\"coin\":\"BTC\"}}"},
        {XGW_CH_TRADES, "BTC", "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"trades\",\"coin\":\"BTC\"}}"},
        {XGW_CH_BOOK, "BTC", "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"l2Book\",\"coin\":\"BTC\"}}"},
        {XGW_CH_ORDERS, "",
         "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"orderUpdates\",\"user\":"
         "\"0xabcdef0123456789abcdef0123456789abcdef01\"}}"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct xgw_ws_sub s;
        memset(&s, 0, sizeof s);
        s.channel = v[i].ch;
        strcpy(s.symbol, v[i].sym);
        b.len = 0;
        assert_int_equal(hl_plugin.ws_sub_msg(f->hl, true, &s, 1, 100 + i, &b, &err), XGW_OK);
        assert_string_equal(b.data, v[i].msg);
    }
    struct xgw_ws_sub two[2];
    memset(two, 0, sizeof two);
    two[0].channel = two[1].channel = XGW_CH_BOOK;
    strcpy(two[0].symbol, "ETH");
    strcpy(two[1].symbol, "NOPE");
    b.len = 0;
    assert_int_equal(hl_plugin.ws_sub_msg(f->hl, true, two, 2, 7, &b, &err), XGW_ERR_UNSUPPORTED);
    assert_int_equal(hl_plugin.ws_sub_msg(f->hl, true, &two[1], 1, 200, &b, &err), XGW_OK);
    b.len = 0;
    assert_int_equal(hl_plugin.ws_sub_msg(f->hl, false, &two[0], 1, 300, &b, &err), XGW_OK);
    assert_string_equal(b.data, "{\"method\":\"unsubscribe\",\"subscription\":{\"type\":\"l2Book\",\"coin\":\"ETH\"}}");
    free(b.data);

    /* acks carry the id sent with the subscription they echo */
    assert_int_equal(ws_fixture(f, "ws_sub_ack.json"), XGW_OK);
    assert_int_equal(f->sink->n_acks, 1);
    assert_true(f->sink->acks[0].ok);
    assert_int_equal(f->sink->acks[0].id, 102);
    ws_text(f,
            "{\"channel\":\"subscriptionResponse\",\"data\":{\"method\":\"subscribe\",\"subscription\":{\"type\":"
            "\"orderUpdates\",\"user\":\"0xABCDEF0123456789ABCDEF0123456789ABCDEF01\"}}}",
            XGW_OK);
    assert_int_equal(f->sink->acks[0].id, 103);
    ws_text(f,
            "{\"channel\":\"subscriptionResponse\",\"data\":{\"method\":\"unsubscribe\",\"subscription\":{\"type\":"
            "\"l2Book\",\"coin\":\"ETH\"}}}",
            XGW_OK);
    assert_int_equal(f->sink->acks[0].id, 300);
    assert_int_equal(ws_fixture(f, "ws_error.json"), XGW_OK);
    assert_int_equal(f->sink->n_acks, 1);
    assert_false(f->sink->acks[0].ok);
    assert_int_equal(f->sink->acks[0].id, 200);
    assert_non_null(strstr(f->sink->acks[0].message, "Invalid subscription"));

    assert_int_equal(ws_fixture(f, "ws_pong.json"), XGW_OK);
    assert_int_equal(f->sink->pongs, 1);

    assert_int_equal(ws_fixture(f, "ws_l2book.json"), XGW_OK);
    assert_int_equal(f->sink->n_books, 1);
    assert_string_equal(f->sink->books[0].info.symbol, "ETH");
    assert_true(f->sink->books[0].info.snapshot);
    assert_int_equal(f->sink->books[0].info.ts_ms, 1754450974500);
    assert_int_equal(f->sink->n_bids, 2);
    assert_int_equal(f->sink->n_asks, 1);
    assert_string_equal(tu_dstr(f->sink->asks[0].price), "3412.2");

    assert_int_equal(ws_fixture(f, "ws_trades.json"), XGW_OK);
    assert_int_equal(f->sink->n_trades, 2);
    assert_string_equal(f->sink->trades[0].trade_id, "536473474573");
    assert_int_equal(f->sink->trades[0].side, XGW_SIDE_BUY);
    assert_string_equal(tu_dstr(f->sink->trades[0].price), "97124.0");
    assert_int_equal(f->sink->trades[1].side, XGW_SIDE_SELL);
    assert_int_equal(f->sink->trades[1].ts_ms, 1754450974601);

    assert_int_equal(ws_fixture(f, "ws_bbo.json"), XGW_OK);
    assert_int_equal(f->sink->n_tickers, 1);
    assert_string_equal(f->sink->tickers[0].symbol, "ATOM");
    assert_string_equal(tu_dstr(f->sink->tickers[0].bid), "4.8765");
    assert_string_equal(tu_dstr(f->sink->tickers[0].bid_qty), "120.5");
    assert_true(xgw_dec_is_none(f->sink->tickers[0].ask));

    assert_int_equal(ws_fixture(f, "ws_order_updates.json"), XGW_OK);
    assert_int_equal(f->sink->n_orders, 2);
    assert_int_equal(f->sink->orders[0].status, XGW_OS_NEW);
    assert_string_equal(f->sink->orders[0].client_id, "0x00000000000000000000000000000001");
    assert_int_equal(f->sink->orders[0].ts_ms, 1754450000001);
    assert_int_equal(f->sink->orders[1].status, XGW_OS_CANCELED);
    assert_string_equal(f->sink->orders[1].status_raw, "marginCanceled");

    assert_int_equal(ws_fixture(f, "ws_allmids.json"), XGW_OK);
    xgw_dec mid;
    assert_true(hl_mid_get(f->hl, "ETH", &mid));
    assert_string_equal(tu_dstr(mid), "3412.1");

    ws_text(f, "{\"channel\":\"userFills\",\"data\":{\"isSnapshot\":true,\"fills\":[]}}", XGW_OK);
    ws_text(f, "{\"channel\":\"trades\",\"data\":{}}", XGW_ERR_PROTOCOL);
    ws_text(f, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"X\",\"levels\":[[]]}}", XGW_ERR_PROTOCOL);
    ws_text(f, "garbage", XGW_ERR_PROTOCOL);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static void test_config(void **state)
{
    (void)state;
    const char *badkey = "0x0123456789012345678901234567890123456789012345678901234567890zzz";
    const char *kv[] = {"private_key", badkey, NULL};
    struct fx *f = fx_new_cfg("mainnet", kv);
    assert_null(f->hl);
    assert_int_equal(f->err.kind, XGW_ERR_CONFIG);
    assert_null(strstr(f->err.message, "0123456789"));
    assert_string_equal(f->err.key, "private_key");
    fx_free(f);

    const char *zero[] = {"private_key", "0000000000000000000000000000000000000000000000000000000000000000", NULL};
    f = fx_new_cfg("mainnet", zero);
    assert_null(f->hl);
    assert_int_equal(f->err.kind, XGW_ERR_CONFIG);
    fx_free(f);

    const char *acct[] = {"account_address", "0x1234", NULL};
    f = fx_new_cfg("mainnet", acct);
    assert_null(f->hl);
    fx_free(f);

    const char *slip[] = {"market_slippage", "1.5", NULL};
    f = fx_new_cfg("mainnet", slip);
    assert_null(f->hl);
    fx_free(f);

    /* a key file's trailing newline is tolerated; testnet sets source "b" */
    const char *nl[] = {"private_key", PY_KEY "\n", NULL};
    f = fx_new_cfg("testnet", nl);
    assert_non_null(f->hl);
    assert_true(f->hl->has_key);
    assert_false(f->hl->mainnet);
    char id[XGW_ID_MAX], id2[XGW_ID_MAX];
    assert_int_equal(hl_plugin.client_id(f->hl, id, sizeof id), XGW_OK);
    assert_int_equal(hl_plugin.client_id(f->hl, id2, sizeof id2), XGW_OK);
    assert_int_equal(strlen(id), 34);
    assert_memory_equal(id, "0x", 2);
    assert_string_not_equal(id, id2);
    fx_free(f);

    /* descriptor facts */
    assert_string_equal(hl_plugin.name, "hyperliquid");
    assert_int_equal(hl_plugin.ws.book_model, XGW_BOOK_SNAPSHOTS);
    assert_int_equal(hl_plugin.ws.ping_interval_ms, 30000);
    assert_int_equal(hl_plugin.buckets[0].limit, 1200);
    assert_true(hl_plugin.keys[0].secret);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccak_known_answers),
        cmocka_unit_test(test_msgpack_bytes),
        cmocka_unit_test(test_sdk_production_connection_id),
        cmocka_unit_test(test_sdk_l1_signatures),
        cmocka_unit_test(test_vault_and_expiry_vectors),
        cmocka_unit_test(test_address_derivation),
        cmocka_unit_test(test_build_place_signed_body),
        cmocka_unit_test(test_nonce_strictly_increasing),
        cmocka_unit_test(test_build_reads),
        cmocka_unit_test(test_build_place_variants),
        cmocka_unit_test(test_wire_table),
        cmocka_unit_test(test_parse_info),
        cmocka_unit_test(test_parse_exchange),
        cmocka_unit_test(test_ws),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
