/*
 * test_mockex_sign.c — the mock's Binance signature check.
 *
 * Part 1 unit-tests the verifier itself (compiled in from tools/mockex) with
 * the documented vectors of binance.md §2.6/§2.7. Part 2 signs requests
 * independently with OpenSSL's HMAC and sends them to a running mock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../tools/mockex/binance_sign.c"
#include "tu_mockex.h"

#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static const char *const KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
static const char *const SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

static enum mxb_sig v(const char *q, const char *b)
{
    return mxb_sig_verify(SECRET, q, strlen(q), b, strlen(b));
}

static void test_doc_examples(void **st)
{
    (void)st;
    const char *p = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&"
                    "recvWindow=5000&timestamp=1591702613943";
    const char *sig = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";
    char buf[512];
    /* Example 1: query string */
    snprintf(buf, sizeof buf, "%s&signature=%s", p, sig);
    assert_int_equal(v(buf, ""), MXB_SIG_OK);
    /* Example 2: request body */
    assert_int_equal(v("", buf), MXB_SIG_OK);
    /* case-insensitive hex */
    snprintf(buf, sizeof buf, "%s&signature=3C661234138461FCC7A7D8746C6558C9842D4E10870D2ECBEDF7777CAD694AF9", p);
    assert_int_equal(v(buf, ""), MXB_SIG_OK);
    /* mixed query + body (V5) */
    assert_int_equal(v("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC",
                       "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943&signature="
                       "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"),
                     MXB_SIG_OK);
    /* V4: percent-encoded bytes are signed as sent; V4' (raw) differs */
    assert_int_equal(v("symbol=%E6%B5%8B%E8%AF%95USDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&"
                       "price=30&newClientOrderId=a%3Ab%2Fc&timestamp=1760000007980&signature="
                       "c605ac792ce1f60347724210c663e5f0364aa1432e9a004aec6ce859ca42983e",
                       ""),
                     MXB_SIG_OK);
    assert_int_equal(v("symbol=%E6%B5%8B%E8%AF%95USDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&"
                       "price=30&newClientOrderId=a%3Ab%2Fc&timestamp=1760000007980&signature="
                       "34e950a924c5a69a2333625a99e39f70873f5da60427eb72361e008b3c25ae4f",
                       ""),
                     MXB_SIG_BAD);
    /* V1 */
    assert_int_equal(v("timestamp=1591702613943&recvWindow=5000&signature="
                       "b944ea46b707ca97ae6956c3e381b0ceaf517dac418a6d64af1fb3b0e878d11d",
                       ""),
                     MXB_SIG_OK);
}

static void test_rejections(void **st)
{
    (void)st;
    const char *p = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&"
                    "recvWindow=5000&timestamp=1591702613943";
    char buf[512];
    /* tampered value */
    snprintf(buf, sizeof buf, "%s&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9", p);
    buf[20] = 'S'; /* side=BUY -> side=SUY... */
    assert_int_equal(v(buf, ""), MXB_SIG_BAD);
    /* signature not last */
    snprintf(buf, sizeof buf,
             "signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9&%s", p);
    assert_int_equal(v(buf, ""), MXB_SIG_NOT_LAST);
    assert_int_equal(v(p, ""), MXB_SIG_MISSING);
    snprintf(buf, sizeof buf, "%s&signature=3c66", p);
    assert_int_equal(v(buf, ""), MXB_SIG_BAD);
    snprintf(buf, sizeof buf, "%s&signature=zz661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9", p);
    assert_int_equal(v(buf, ""), MXB_SIG_BAD);
    assert_int_equal(v("", ""), MXB_SIG_MISSING);
}

/* --- against a running mock ------------------------------------------- */

static long long wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void sign(const char *msg, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)msg, strlen(msg), md, &n);
    for (unsigned i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
}

static int code_of(const char *body)
{
    const char *c = strstr(body, "\"code\":");
    return c ? atoi(c + 7) : 0;
}

static void get_signed(struct tu_mockex *mx, const char *path, const char *q, int tamper,
                       const char *key, struct tu_http *r)
{
    char sig[65], url[2048], hdr[256];
    sign(q, sig);
    if (tamper)
        sig[5] = sig[5] == 'a' ? 'b' : 'a';
    snprintf(url, sizeof url, "%s?%s&signature=%s", path, q, sig);
    snprintf(hdr, sizeof hdr, "X-MBX-APIKEY: %s", key);
    const char *h[] = {hdr, NULL};
    tu_mockex_http(mx, mx->ports[0], "GET", url, h, NULL, 5000, r);
}

static void test_live(void **st)
{
    (void)st;
    struct tu_mockex mx;
    assert_int_equal(tu_mockex_start(&mx, NULL), 0);
    char q[256];
    struct tu_http r;
    snprintf(q, sizeof q, "timestamp=%lld&recvWindow=5000", wall_ms());
    get_signed(&mx, "/fapi/v2/balance", q, 0, KEY, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"asset\":\"USDT\""));
    assert_non_null(strstr(r.headers, "x-mbx-used-weight-1m: "));
    tu_http_free(&r);

    get_signed(&mx, "/fapi/v2/balance", q, 1, KEY, &r);
    assert_int_equal(r.status, 400);
    assert_int_equal(code_of(r.body), -1022);
    assert_non_null(strstr(r.body, "Signature for this request is not valid."));
    tu_http_free(&r);

    /* a body-signed order with a percent-encoded client id, signed by us */
    char body[512], sig[65], full[700];
    snprintf(body, sizeof body,
             "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=60000.0&"
             "newClientOrderId=t%%3A1%%2Fx&recvWindow=5000&timestamp=%lld",
             wall_ms());
    sign(body, sig);
    snprintf(full, sizeof full, "%s&signature=%s", body, sig);
    char hdr[128];
    snprintf(hdr, sizeof hdr, "X-MBX-APIKEY: %s", KEY);
    const char *h[] = {hdr, NULL};
    tu_mockex_http(&mx, mx.ports[0], "POST", "/fapi/v1/order", h, full, 5000, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"clientOrderId\":\"t:1/x\""));
    tu_http_free(&r);
    /* the same id again while open: -4116 */
    tu_mockex_http(&mx, mx.ports[0], "POST", "/fapi/v1/order", h, full, 5000, &r);
    assert_int_equal(code_of(r.body), -4116);
    tu_http_free(&r);

    /* query-signed cancel with the encoded id, then unknown order */
    snprintf(q, sizeof q, "symbol=BTCUSDT&origClientOrderId=t%%3A1%%2Fx&timestamp=%lld", wall_ms());
    sign(q, sig);
    snprintf(full, sizeof full, "/fapi/v1/order?%s&signature=%s", q, sig);
    tu_mockex_http(&mx, mx.ports[0], "DELETE", full, h, NULL, 5000, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"status\":\"CANCELED\""));
    tu_http_free(&r);
    tu_mockex_http(&mx, mx.ports[0], "DELETE", full, h, NULL, 5000, &r);
    assert_int_equal(code_of(r.body), -2011);
    tu_http_free(&r);
    tu_mockex_http(&mx, mx.ports[0], "GET", full, h, NULL, 5000, &r);
    assert_int_equal(r.status, 200); /* a finished order is still visible */
    tu_http_free(&r);

    /* unknown key, malformed key */
    snprintf(q, sizeof q, "timestamp=%lld", wall_ms());
    get_signed(&mx, "/fapi/v2/balance", q, 0, "nosuchkey", &r);
    assert_int_equal(r.status, 401);
    assert_int_equal(code_of(r.body), -2015);
    tu_http_free(&r);
    get_signed(&mx, "/fapi/v2/balance", q, 0, "bad key!", &r);
    assert_int_equal(code_of(r.body), -2014);
    tu_http_free(&r);

    /* timestamp outside recvWindow, and 1000 ms ahead */
    snprintf(q, sizeof q, "timestamp=%lld&recvWindow=1000", wall_ms() - 5000);
    get_signed(&mx, "/fapi/v2/balance", q, 0, KEY, &r);
    assert_int_equal(code_of(r.body), -1021);
    tu_http_free(&r);
    snprintf(q, sizeof q, "timestamp=%lld", wall_ms() + 3000);
    get_signed(&mx, "/fapi/v2/balance", q, 0, KEY, &r);
    assert_int_equal(code_of(r.body), -1021);
    assert_non_null(strstr(r.body, "ahead"));
    tu_http_free(&r);

    /* with the mock's clock 10 s ahead, a fresh timestamp is too old */
    assert_int_equal(tu_mockex_fault(&mx, "{\"exchange\":\"binance\",\"kind\":\"clock_offset\",\"params\":{\"ms\":10000}}"), 0);
    snprintf(q, sizeof q, "timestamp=%lld", wall_ms());
    get_signed(&mx, "/fapi/v2/balance", q, 0, KEY, &r);
    assert_int_equal(code_of(r.body), -1021);
    tu_http_free(&r);

    assert_int_equal(tu_mockex_state_num(&mx, "counters", "binance", "signature_failures"), 1);
    assert_int_equal(tu_mockex_state_num(&mx, "counters", "binance", "orders_placed"), 1);
    assert_int_equal(tu_mockex_state_num(&mx, "counters", "binance", "timestamp_failures"), 3);
    assert_int_equal(tu_mockex_stop(&mx), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_examples),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
