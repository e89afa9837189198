/*
 * tests/unit/test_coreapi.c — the core services behind struct
 * xgw_core_api: buffers, crypto, errors and secret scrubbing, logging,
 * the sink, the instance context, HTTP response accessors, and the table.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "config.h"
#include "crypto.h"
#include "error.h"
#include "instctx.h"
#include "log.h"
#include "response.h"
#include "sink.h"

/* ------------------------------------------------------------------------ */
/* Buffers                                                                   */
/* ------------------------------------------------------------------------ */

static void test_buf_growth(void **state)
{
    (void)state;
    struct xgw_buf b = {0};
    assert_int_equal(xgw__buf_append(&b, "", 0), 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    size_t grows = 0, cap = b.cap;
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(xgw__buf_append(&b, "0123456789", 10), 0);
        if (b.cap != cap)
            grows++, cap = b.cap;
        assert_int_equal(b.data[b.len], '\0');
    }
    assert_int_equal(b.len, 100000);
    assert_true(grows <= 12); /* geometric, not linear */
    assert_memory_equal(b.data + 99990, "0123456789", 10);

    xgw__buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap); /* memory kept */
    assert_string_equal(b.data, "");

    /* printf beyond the free room takes a second pass */
    xgw__buf_free(&b);
    assert_null(b.data);
    assert_int_equal(xgw__buf_printf(&b, "%s=%d", "a", 1), 0);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(xgw__buf_printf(&b, "&%s&%05d", big, 42), 0);
    assert_int_equal(b.len, 3 + 1 + 2999 + 6);
    assert_memory_equal(b.data, "a=1&xxx", 7);
    assert_string_equal(b.data + b.len - 6, "&00042");

    /* wipe keeps the memory and clears it */
    xgw__buf_wipe(&b);
    assert_int_equal(b.len, 0);
    for (size_t i = 0; i < b.cap; i++)
        assert_int_equal(b.data[i], 0);
    xgw__buf_free_sensitive(&b);
    assert_null(b.data);
}

static void test_buf_encodings(void **state)
{
    (void)state;
    struct xgw_buf b = {0};
    static const char in[] = "AZaz09-._~ /?&=+%:\xc3\xa9\x01";
    assert_int_equal(xgw__buf_urlencode(&b, in, sizeof in - 1), 0);
    assert_string_equal(b.data, "AZaz09-._~%20%2F%3F%26%3D%2B%25%3A%C3%A9%01");
    xgw__buf_reset(&b);
    assert_int_equal(xgw__buf_urlencode(&b, "", 0), 0);
    assert_string_equal(b.data, "");

    xgw__buf_reset(&b);
    static const char js[] = "a\"b\\c/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9";
    assert_int_equal(xgw__buf_json_str(&b, js, sizeof js - 1), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\"");
    xgw__buf_reset(&b);
    assert_int_equal(xgw__buf_json_str(&b, "x\0y", 3), 0); /* embedded NUL */
    assert_string_equal(b.data, "\"x\\u0000y\"");

    xgw__buf_reset(&b);
    xgw_dec d = {9712340, 2};
    assert_int_equal(xgw__buf_dec(&b, d), 0);
    assert_int_equal(xgw__buf_append(&b, ",", 1), 0);
    assert_int_equal(xgw__buf_dec(&b, xgw_dec_none()), 0);
    assert_string_equal(b.data, "97123.40,null");
    xgw__buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Crypto                                                                    */
/* ------------------------------------------------------------------------ */

static void hex(const uint8_t *in, size_t n, char *out) { xgw__hex_lower(in, n, out); }

static void test_crypto(void **state)
{
    (void)state;
    uint8_t mac[32];
    char h[65];
    /* RFC 4231 test case 2 */
    static const char data2[] = "what do ya want for nothing?";
    xgw__hmac_sha256("Jefe", 4, data2, sizeof data2 - 1, mac);
    hex(mac, 32, h);
    assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 4231 test case 6: a key longer than the block is hashed first */
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof key6);
    static const char data6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    xgw__hmac_sha256(key6, sizeof key6, data6, sizeof data6 - 1, mac);
    hex(mac, 32, h);
    assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* Agrees with OpenSSL's HMAC() for keys and messages of many lengths */
    uint8_t key[200], msg[300], ref[32];
    assert_int_equal(xgw__random_bytes(key, sizeof key), 0);
    assert_int_equal(xgw__random_bytes(msg, sizeof msg), 0);
    for (size_t kl = 0; kl <= sizeof key; kl += 13) {
        for (size_t ml = 0; ml <= sizeof msg; ml += 37) {
            unsigned int rl = 0;
            xgw__hmac_sha256(key, kl, msg, ml, mac);
            assert_non_null(HMAC(EVP_sha256(), key, (int)kl, msg, ml, ref, &rl));
            assert_memory_equal(mac, ref, 32);
        }
    }
    xgw__sha256("abc", 3, mac);
    hex(mac, 32, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    xgw__sha256("", 0, mac);
    hex(mac, 32, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    uint8_t r1[32] = {0}, r2[32] = {0}, zero[32] = {0};
    assert_int_equal(xgw__random_bytes(r1, sizeof r1), 0);
    assert_int_equal(xgw__random_bytes(r2, sizeof r2), 0);
    assert_memory_not_equal(r1, r2, 32);
    assert_memory_not_equal(r1, zero, 32);
    xgw__secure_zero(r1, sizeof r1);
    assert_memory_equal(r1, zero, 32);
    hex((const uint8_t *)"\x00\xff\x10", 3, h);
    assert_string_equal(h, "00ff10");
}

/* ------------------------------------------------------------------------ */
/* Errors and secrets                                                        */
/* ------------------------------------------------------------------------ */

static const char SECRET[] = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

static void test_set_error(void **state)
{
    (void)state;
    struct xgw_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(xgw__set_errorf(NULL, XGW_ERR_AUTH, 1, "x"), XGW_ERR_AUTH);

    assert_int_equal(xgw__secret_register(SECRET), 0);
    assert_int_equal(xgw__secret_register("12345"), 0); /* too short: ignored */
    assert_int_equal(xgw__set_errorf(&err, XGW_ERR_AUTH, -2015, "bad key %s (%s) line\n2\x1b[31mred\r\t%s", SECRET,
                                     "12345", SECRET),
                     XGW_ERR_AUTH);
    assert_int_equal(err.kind, XGW_ERR_AUTH);
    assert_int_equal(err.code, -2015);
    assert_string_equal(err.message, "bad key *** (12345) line\\n2\\x1b[31mred\\r\\t***");
    assert_null(strchr(err.message, '\n'));
    assert_null(strchr(err.message, 0x1b));

    /* UTF-8 C1 CSI is escaped, other UTF-8 kept */
    xgw__set_errorf(&err, XGW_ERR_PROTOCOL, 0, "\xc2\x9b" "2J caf\xc3\xa9");
    assert_string_equal(err.message, "\\u009b2J caf\xc3\xa9");

    /* A long message is cut with "...", after scrubbing the whole text */
    char longtxt[2000];
    memset(longtxt, 'a', sizeof longtxt - 1);
    longtxt[sizeof longtxt - 1] = '\0';
    memcpy(longtxt + 250, SECRET, sizeof SECRET - 1);
    xgw__set_errorf(&err, XGW_ERR_SERVER, 0, "%s", longtxt);
    assert_int_equal(strlen(err.message), XGW_ERR_MSG_MAX - 1);
    assert_string_equal(err.message + XGW_ERR_MSG_MAX - 4, "...");
    assert_null(strstr(err.message, "NhqPtm"));
    /* An escape sequence is never cut in half */
    memset(longtxt, '\n', 300);
    longtxt[300] = '\0';
    xgw__set_errorf(&err, XGW_ERR_SERVER, 0, "%s", longtxt);
    size_t ml = strlen(err.message);
    assert_true(ml <= XGW_ERR_MSG_MAX - 1);
    assert_string_equal(err.message + ml - 5, "\\n...");
    assert_int_equal((ml - 3) % 2, 0);

    /* Registered twice: needs two unregisters */
    assert_int_equal(xgw__secret_register(SECRET), 0);
    xgw__secret_unregister(SECRET);
    char buf[200];
    snprintf(buf, sizeof buf, "k=%s&x=%s", SECRET, SECRET);
    xgw__scrub(buf);
    assert_string_equal(buf, "k=***&x=***");
    xgw__secret_unregister(SECRET);
    xgw__set_errorf(&err, XGW_ERR_AUTH, 0, "%s", SECRET);
    assert_string_equal(err.message, SECRET);

    /* A secret containing another is scrubbed whole */
    assert_int_equal(xgw__secret_register("abcdef"), 0);
    assert_int_equal(xgw__secret_register("xxabcdefxx"), 0);
    snprintf(buf, sizeof buf, "1 xxabcdefxx 2 abcdef");
    xgw__scrub(buf);
    assert_string_equal(buf, "1 *** 2 ***");
    xgw__secret_unregister("abcdef");
    xgw__secret_unregister("xxabcdefxx");
    snprintf(buf, sizeof buf, "abcdef");
    xgw__scrub(buf);
    assert_string_equal(buf, "abcdef");

    assert_string_equal(xgw_err_kind_name(XGW_ERR_RATE_LIMITED), "RATE_LIMITED");
    assert_string_equal(xgw_err_kind_name(XGW_ERR__COUNT), "UNKNOWN");
    assert_string_equal(xgw_side_name(XGW_SIDE_SELL), "sell");
    assert_string_equal(xgw_order_type_name(XGW_TYPE_MARKET), "market");
    assert_string_equal(xgw_tif_name(XGW_TIF_POST_ONLY), "post_only");
    assert_string_equal(xgw_order_status_name(XGW_OS_PARTIALLY_FILLED), "partially_filled");
    assert_string_equal(xgw_order_status_name((enum xgw_order_status)99), "unknown");
    assert_string_equal(xgw_market_status_name(XGW_MKT_HALTED), "halted");
    assert_string_equal(xgw_op_name(XGW_OP_WS_TOKEN_KEEPALIVE), "ws_token_keepalive");
    assert_string_equal(xgw_op_name(XGW_OP_GET_ORDER), "get_order");
    assert_string_equal(xgw_channel_name(XGW_CH_BOOK), "book");
    assert_string_equal(xgw_channel_name((enum xgw_channel)0), "unknown");
}

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */
/* ------------------------------------------------------------------------ */

/* Run fn with stderr redirected into a pipe; returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
    close(fds[1]);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    static char out[65536];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    return out;
}

static void log_some(void)
{
    xgw__log("binance", XGW_LOG_INFO, "order", "placed key=%s\nFAKE 2026 ERROR injected", SECRET);
    xgw__log("binance", XGW_LOG_DEBUG, "order", "hidden at info level");
    xgw__log(NULL, XGW_LOG_ERROR, NULL, "no instance \"quoted\"");
}

static void test_log(void **state)
{
    (void)state;
    assert_int_equal(xgw__secret_register(SECRET), 0);
    xgw__log_configure(XGW_LOG_INFO, false);
    char *out = capture_stderr(log_some);
    assert_null(strstr(out, "NhqPtm"));
    /* exactly two lines */
    char *nl1 = strchr(out, '\n');
    assert_non_null(nl1);
    char *nl2 = strchr(nl1 + 1, '\n');
    assert_non_null(nl2);
    assert_int_equal(nl2[1], '\0');
    /* 2026-11-22T20:46:34.123Z INFO [binance] order: placed key=***\nFAKE ... */
    assert_int_equal(out[4], '-');
    assert_int_equal(out[10], 'T');
    assert_int_equal(out[19], '.');
    assert_int_equal(out[23], 'Z');
    assert_memory_equal(out + 24, " INFO [binance] order: placed key=***\\nFAKE 2026 ERROR injected\n", 63);
    assert_memory_equal(nl1 + 1 + 25, "ERROR no instance \"quoted\"\n", 27);
    assert_null(strstr(out, "hidden"));

    xgw__log_configure(XGW_LOG_DEBUG, true);
    out = capture_stderr(log_some);
    xgw__log_configure(XGW_LOG_INFO, false);
    assert_null(strstr(out, "NhqPtm"));
    assert_memory_equal(out, "{\"time\":\"", 9);
    assert_non_null(strstr(out, "\"level\":\"info\",\"instance\":\"binance\",\"endpoint\":null,\"event\":\"order\","
                                "\"message\":\"placed key=***\\\\nFAKE 2026 ERROR injected\",\"fields\":{}}\n"));
    assert_non_null(strstr(out, "\"level\":\"debug\""));
    assert_non_null(strstr(out, "\"level\":\"error\",\"instance\":null,\"endpoint\":null,\"event\":null,"
                                "\"message\":\"no instance \\\"quoted\\\"\",\"fields\":{}}\n"));
    xgw__secret_unregister(SECRET);
}

/* ------------------------------------------------------------------------ */
/* Sink                                                                      */
/* ------------------------------------------------------------------------ */

static struct xgw_level lvl(int64_t p, int64_t q)
{
    struct xgw_level l = {{p, 0}, {q, 0}};
    return l;
}

static void test_sink(void **state)
{
    (void)state;
    struct xgw_sink *s = xgw__sink_new();
    assert_non_null(s);

    struct xgw_level l = lvl(1, 1);
    assert_int_equal(xgw__sink_emit(s, XGW_REC_BID, &l), XGW_ERR_INTERNAL);
    assert_true(s->level_without_book);

    int64_t t = 1700000000123;
    assert_int_equal(xgw__sink_emit(s, XGW_REC_TIME, &t), 0);
    assert_true(s->has_time);
    assert_int_equal(s->time_ms, t);

    for (int i = 0; i < 1000; i++) {
        struct xgw_market m;
        memset(&m, 0, sizeof m);
        snprintf(m.symbol, sizeof m.symbol, "SYM%d", i);
        assert_int_equal(xgw__sink_emit(s, XGW_REC_MARKET, &m), 0);
    }
    assert_int_equal(s->n_markets, 1000);
    assert_string_equal(s->markets[999].symbol, "SYM999");

    struct xgw_book_info bi;
    memset(&bi, 0, sizeof bi);
    strcpy(bi.symbol, "BTCUSDT");
    bi.snapshot = true;
    bi.seq = 10;
    assert_int_equal(xgw__sink_emit(s, XGW_REC_BOOK, &bi), 0);
    for (int i = 0; i < 3; i++) {
        l = lvl(100 - i, i + 1);
        assert_int_equal(xgw__sink_emit(s, XGW_REC_BID, &l), 0);
    }
    l = lvl(101, 5);
    assert_int_equal(xgw__sink_emit(s, XGW_REC_ASK, &l), 0);
    strcpy(bi.symbol, "ETHUSDT");
    bi.seq = 11;
    assert_int_equal(xgw__sink_emit(s, XGW_REC_BOOK, &bi), 0);
    for (int i = 0; i < 2; i++) {
        l = lvl(201 + i, 1);
        assert_int_equal(xgw__sink_emit(s, XGW_REC_ASK, &l), 0);
    }
    assert_int_equal(s->n_books, 2);
    assert_int_equal(s->books[0].bid0, 0);
    assert_int_equal(s->books[0].n_bids, 3);
    assert_int_equal(s->books[0].ask0, 0);
    assert_int_equal(s->books[0].n_asks, 1);
    assert_int_equal(s->books[1].bid0, 3);
    assert_int_equal(s->books[1].n_bids, 0);
    assert_int_equal(s->books[1].ask0, 1);
    assert_int_equal(s->books[1].n_asks, 2);
    assert_int_equal(s->asks[s->books[1].ask0 + 1].price.mant, 202);
    assert_string_equal(s->books[1].info.symbol, "ETHUSDT");
    assert_int_equal(s->bids[2].price.mant, 98);

    assert_int_equal(xgw__sink_emit(s, XGW_REC_TOKEN, "listenkey-one"), 0);
    assert_int_equal(xgw__sink_emit(s, XGW_REC_TOKEN, "listenkey-two"), 0);
    assert_string_equal(s->token, "listenkey-two");
    assert_int_equal(xgw__sink_emit(s, XGW_REC_WS_PONG, NULL), 0);
    assert_int_equal(xgw__sink_emit(s, XGW_REC_WS_PONG, NULL), 0);
    assert_int_equal(s->pongs, 2);
    assert_int_equal(xgw__sink_emit(s, XGW_REC_WS_REAUTH, NULL), 0);
    assert_true(s->reauth);
    struct xgw_ws_ack ack = {7, true, "ok"};
    assert_int_equal(xgw__sink_emit(s, XGW_REC_WS_ACK, &ack), 0);
    assert_int_equal(s->acks[0].id, 7);
    struct xgw_rl_usage u = {1, 55};
    assert_int_equal(xgw__sink_emit(s, XGW_REC_RL_USAGE, &u), 0);
    assert_int_equal(s->usage[0].used, 55);
    struct xgw_order o;
    memset(&o, 0, sizeof o);
    strcpy(o.order_id, "123");
    assert_int_equal(xgw__sink_emit(s, XGW_REC_ORDER, &o), 0);
    assert_string_equal(s->orders[0].order_id, "123");
    assert_int_equal(xgw__sink_emit(s, XGW_REC_ORDER, NULL), XGW_ERR_INTERNAL);
    assert_int_equal(xgw__sink_emit(s, (enum xgw_rec)99, &o), XGW_ERR_INTERNAL);
    assert_int_equal(xgw__sink_emit(s, XGW_REC__COUNT, &o), XGW_ERR_INTERNAL);

    size_t cap_markets = s->cap_markets, cap_bids = s->cap_bids;
    struct xgw_market *mp = s->markets;
    xgw__sink_reset(s);
    assert_int_equal(s->n_markets, 0);
    assert_int_equal(s->n_books, 0);
    assert_int_equal(s->n_bids, 0);
    assert_int_equal(s->n_orders, 0);
    assert_int_equal(s->n_acks, 0);
    assert_null(s->token);
    assert_false(s->has_time);
    assert_false(s->reauth);
    assert_false(s->level_without_book);
    assert_int_equal(s->pongs, 0);
    assert_int_equal(s->cap_markets, cap_markets); /* memory kept */
    assert_int_equal(s->cap_bids, cap_bids);
    assert_ptr_equal(s->markets, mp);
    /* after a reset, a level needs a new book again */
    l = lvl(1, 1);
    assert_int_equal(xgw__sink_emit(s, XGW_REC_ASK, &l), XGW_ERR_INTERNAL);
    xgw__sink_free(s);
    xgw__sink_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Instance context, core table, responses                                   */
/* ------------------------------------------------------------------------ */

static struct xgw_market mk(const char *sym, int64_t tick_mant, int32_t tick_scale)
{
    struct xgw_market m;
    memset(&m, 0, sizeof m);
    snprintf(m.symbol, sizeof m.symbol, "%s", sym);
    m.tick_size = (xgw_dec){tick_mant, tick_scale};
    return m;
}

static void test_instctx(void **state)
{
    (void)state;
    struct xgw__inst_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    char name[] = "binance", key[] = "my-api-key-value", secret[] = "TopSecretValue42";
    char k1[] = "depth_limit", v1[] = "123", k2[] = "bad_int", v2[] = "12x", k3[] = "passphrase",
         v3[] = "ExtraSecretPass";
    struct xgw__kv extras[] = {{k1, v1, 3, false, true}, {k2, v2, 4, false, true}, {k3, v3, 5, true, true}};
    cfg.name = name;
    cfg.api_key = key;
    cfg.api_secret = secret;
    cfg.extras = extras;
    cfg.n_extras = 3;

    struct xgw_inst_ctx *ctx = xgw__inst_ctx_new(&cfg);
    assert_non_null(ctx);
    assert_string_equal(ctx->name, "binance");

    const struct xgw_core_api *api = xgw__core_api();
    assert_int_equal(api->abi_version, XGW_PLUGIN_ABI_VERSION);
    assert_int_equal(api->struct_size, sizeof(struct xgw_core_api));
    /* every service is wired */
    void (*const *fp)(void) = (void (*const *)(void))&api->log;
    size_t nfp = (sizeof *api - offsetof(struct xgw_core_api, log)) / sizeof(void (*)(void));
    for (size_t i = 0; i < nfp; i++)
        assert_non_null(fp[i]);

    /* the instance's secrets are scrubbed while it lives */
    struct xgw_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(api->set_error(&err, XGW_ERR_AUTH, 7, "%s|%s|%s", secret, key, v3), XGW_ERR_AUTH);
    assert_string_equal(err.message, "***|***|***");

    assert_string_equal(api->cfg(ctx, "api_secret"), secret);
    assert_int_equal(api->cfg_int(ctx, "depth_limit", 5), 123);
    assert_int_equal(api->cfg_int(ctx, "bad_int", 5), 5);
    assert_int_equal(api->cfg_int(ctx, "no_such_key", -1), -1);
    assert_null(api->cfg(ctx, "no_such_key"));

    /* clock */
    int64_t l0 = api->local_ms();
    assert_true(l0 > INT64_C(1600000000000));
    xgw__inst_ctx_set_clock_offset(ctx, 60000);
    int64_t n0 = api->now_ms(ctx);
    assert_true(n0 - api->local_ms() >= 59000 && n0 - api->local_ms() <= 60000);
    assert_int_equal(xgw__inst_ctx_clock_offset(ctx), 60000);

    /* market cache: unsorted input, sorted lookup */
    struct xgw_market out;
    assert_false(api->market(ctx, "BTCUSDT", &out));
    struct xgw_market ms[] = {mk("SOLUSDT", 1, 2), mk("BTCUSDT", 1, 1), mk("ETHUSDT", 1, 2), mk("ADAUSDT", 1, 4)};
    assert_int_equal(xgw__inst_ctx_set_markets(ctx, ms, 4, 1234), 0);
    assert_int_equal(ctx->markets_loaded_ms, 1234);
    assert_true(api->market(ctx, "BTCUSDT", &out));
    assert_string_equal(out.symbol, "BTCUSDT");
    assert_int_equal(out.tick_size.scale, 1);
    assert_true(api->market(ctx, "ADAUSDT", &out));
    assert_int_equal(out.tick_size.scale, 4);
    assert_true(api->market(ctx, "SOLUSDT", NULL));
    assert_false(api->market(ctx, "XRPUSDT", &out));
    assert_false(api->market(ctx, "", &out));
    char longsym[100];
    memset(longsym, 'A', sizeof longsym - 1);
    longsym[sizeof longsym - 1] = '\0';
    assert_false(api->market(ctx, longsym, &out));
    /* replacing the cache drops old entries */
    assert_int_equal(xgw__inst_ctx_set_markets(ctx, ms, 1, 2000), 0);
    assert_false(api->market(ctx, "BTCUSDT", &out));
    assert_true(api->market(ctx, "SOLUSDT", &out));
    assert_int_equal(xgw__inst_ctx_set_markets(ctx, NULL, 0, 3000), 0);
    assert_false(api->market(ctx, "SOLUSDT", &out));

    /* plugin log goes through the instance name and the scrubber */
    xgw__inst_ctx_free(ctx);
    api->set_error(&err, XGW_ERR_AUTH, 7, "%s", secret);
    assert_string_equal(err.message, secret); /* unregistered with the instance */
}

static void test_response(void **state)
{
    (void)state;
    const struct xgw_core_api *api = xgw__core_api();
    struct xgw_response r;
    xgw__response_init(&r);
    size_t len = 99;
    assert_int_equal(api->resp_status(&r), 0);
    assert_string_equal(api->resp_body(&r, &len), "");
    assert_int_equal(len, 0);

    static const char *const block1[] = {"HTTP/1.1 100 Continue\r\n", "\r\n"};
    static const char *const block2[] = {"HTTP/1.1 429 Too Many Requests\r\n",
                                         "Content-Type: application/json\r\n",
                                         "X-MBX-USED-WEIGHT-1M:   1201  \r\n",
                                         "Retry-After: 7\r\n",
                                         "x-mbx-used-weight-1m: 5\r\n",
                                         "Empty:\r\n",
                                         "not a header\r\n",
                                         "\r\n"};
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(xgw__response_add_header(&r, block1[i], strlen(block1[i])), 0);
    assert_int_equal(xgw__response_add_header(&r, "X-Old: 1\r\n", 10), 0);
    for (size_t i = 0; i < sizeof block2 / sizeof block2[0]; i++)
        assert_int_equal(xgw__response_add_header(&r, block2[i], strlen(block2[i])), 0);
    r.body = "{\"code\":-1003}";
    r.body_len = strlen(r.body);

    assert_int_equal(api->resp_status(&r), 429);
    assert_string_equal(api->resp_body(&r, &len), "{\"code\":-1003}");
    assert_int_equal(len, 14);
    const char *v = api->resp_header(&r, "x-mbx-used-weight-1m", &len);
    assert_non_null(v);
    assert_int_equal(len, 4);
    assert_memory_equal(v, "1201", 4); /* the first one */
    v = api->resp_header(&r, "RETRY-AFTER", &len);
    assert_non_null(v);
    assert_memory_equal(v, "7", len);
    v = api->resp_header(&r, "empty", &len);
    assert_non_null(v);
    assert_int_equal(len, 0);
    assert_null(api->resp_header(&r, "X-Old", &len)); /* from the 100 block */
    assert_null(api->resp_header(&r, "Retry", &len));

    /* many headers: storage grows, earlier values stay valid by offset */
    for (int i = 0; i < 200; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "H%d: value-%d\r\n", i, i);
        assert_int_equal(xgw__response_add_header(&r, line, (size_t)n), 0);
    }
    v = api->resp_header(&r, "h150", &len);
    assert_non_null(v);
    assert_string_equal(v, "value-150");
    assert_memory_equal(api->resp_header(&r, "content-type", &len), "application/json", 16);

    size_t cap = r.cap_headers;
    xgw__response_reset(&r);
    assert_int_equal(api->resp_status(&r), 0);
    assert_null(api->resp_header(&r, "content-type", &len));
    assert_int_equal(r.cap_headers, cap);
    assert_int_equal(xgw__response_add_header(&r, "HTTP/2 200\r\n", 12), 0);
    assert_int_equal(api->resp_status(&r), 200);
    xgw__response_free(&r);
}


/* ------------------------------------------------------------------------ */
/* Threads: registry changes while other threads scrub and log               */
/* ------------------------------------------------------------------------ */

static void *scrub_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3000; i++) {
        struct xgw_error err;
        xgw__set_errorf(&err, XGW_ERR_AUTH, 0, "k=%s", SECRET);
        if (strcmp(err.message, "k=***") != 0)
            return (void *)1;
    }
    return NULL;
}

static void *churn_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3000; i++) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "churn-secret-%d", i);
        if (xgw__secret_register(tmp))
            return (void *)1;
        xgw__secret_unregister(tmp);
    }
    return NULL;
}

static void *log_worker(void *arg)
{
    for (int i = 0; i < 100; i++)
        xgw__log("inst", XGW_LOG_WARN, "t", "thread %d line %d key=%s end", (int)(intptr_t)arg, i, SECRET);
    return NULL;
}

static void log_threads(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, log_worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
}

static char *capture_stderr(void (*fn)(void));

static void test_threads(void **state)
{
    (void)state;
    assert_int_equal(xgw__secret_register(SECRET), 0);
    pthread_t th[4];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, scrub_worker, NULL), 0);
    assert_int_equal(pthread_create(&th[3], NULL, churn_worker, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *rv = (void *)1;
        pthread_join(th[i], &rv);
        assert_null(rv);
    }

    /* 400 lines from 4 threads: each arrives whole (one write per line) */
    xgw__log_configure(XGW_LOG_INFO, false);
    char *out = capture_stderr(log_threads);
    int lines = 0;
    for (char *line = out, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, lines++) {
        *nl = '\0';
        assert_int_equal(line[23], 'Z');
        assert_memory_equal(line + 24, " WARN [inst] t: thread ", 23);
        size_t len = strlen(line);
        assert_true(len > 12);
        assert_string_equal(line + len - 12, " key=*** end");
    }
    assert_int_equal(lines, 400);
    xgw__secret_unregister(SECRET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_growth), cmocka_unit_test(test_buf_encodings), cmocka_unit_test(test_crypto),
        cmocka_unit_test(test_set_error),  cmocka_unit_test(test_log),           cmocka_unit_test(test_sink),
        cmocka_unit_test(test_instctx),    cmocka_unit_test(test_response),        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
