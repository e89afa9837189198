/*
 * test_mockex_bitunix.c — the mock's Bitunix futures module over loopback TLS.
 *
 * Requests are signed here, independently of the plugin and of the mock's
 * own verifier: SHA-256 from OpenSSL over nonce ‖ timestamp ‖ key ‖ sorted
 * query ‖ body, then over digest ‖ secret (bitunix.md "Signing"). The
 * WebSocket part uses a minimal RFC 6455 client on OpenSSL written for this
 * test (masked text frames out, unmasked frames in), so nothing of the
 * gateway is involved. Every wait is bounded; the mock is stopped by PID.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tu_mockex.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The mock of the running test: static, so the teardown can stop it by PID
 * even when an assertion left the test early. */
static struct tu_mockex g_mx = {.pid = -1};

static const char *const KEY = "test-api-key";
static const char *const SECRET = "test-secret";

static long long wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sha256_hex(const char *s, size_t n, char hex[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(s, n, md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
}

/* The documented recipe, written out plainly. */
static void bx_sign(const char *nonce, const char *ts, const char *key, const char *qp, const char *body,
                    const char *secret, char out[65])
{
    char buf[8192], digest[65];
    int n = snprintf(buf, sizeof buf, "%s%s%s%s%s", nonce, ts, key, qp, body);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    sha256_hex(buf, (size_t)n, digest);
    n = snprintf(buf, sizeof buf, "%s%s", digest, secret);
    sha256_hex(buf, (size_t)n, out);
}

static void new_nonce(char out[33])
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[32];
    assert_int_equal(RAND_bytes(r, sizeof r), 1);
    for (int i = 0; i < 32; i++)
        out[i] = al[r[i] % 62];
    out[32] = '\0';
}

struct sreq {
    const char *method, *path, *query; /* query as sent (any order) */
    const char *qp;                    /* its sorted key+value form */
    const char *body;
    const char *key, *secret;
    long long ts;
    const char *nonce; /* NULL: a fresh one */
    int tamper;
};

static void send_signed(const struct tu_mockex *mx, const struct sreq *q, struct tu_http *r)
{
    char nonce[33], ts[24], sign[65], url[2048], h[4][128];
    if (q->nonce)
        snprintf(nonce, sizeof nonce, "%s", q->nonce);
    else
        new_nonce(nonce);
    snprintf(ts, sizeof ts, "%lld", q->ts ? q->ts : wall_ms());
    bx_sign(nonce, ts, q->key ? q->key : KEY, q->qp ? q->qp : "", q->body ? q->body : "",
            q->secret ? q->secret : SECRET, sign);
    if (q->tamper)
        sign[7] = sign[7] == 'a' ? 'b' : 'a';
    snprintf(url, sizeof url, "%s%s%s", q->path, q->query ? "?" : "", q->query ? q->query : "");
    snprintf(h[0], sizeof h[0], "api-key: %s", q->key ? q->key : KEY);
    snprintf(h[1], sizeof h[1], "nonce: %s", nonce);
    snprintf(h[2], sizeof h[2], "timestamp: %s", ts);
    snprintf(h[3], sizeof h[3], "sign: %s", sign);
    const char *hdrs[] = {h[0], h[1], h[2], h[3], "Content-Type: application/json", NULL};
    assert_int_equal(tu_mockex_http(mx, mx->ports[0], q->method, url, hdrs, q->body, 5000, r), 0);
    assert_int_equal(r->curl_rc, 0);
}

static long long code_of(const char *body)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    long long v = cJSON_IsNumber(c) ? (long long)c->valuedouble : -999999;
    cJSON_Delete(j);
    return v;
}

/* Copies data.<k> (a string) out of an envelope. */
static int data_str(const char *body, const char *k, char *out, size_t cap)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "data"), k);
    int rc = -1;
    if (cJSON_IsString(v) && strlen(v->valuestring) < cap) {
        snprintf(out, cap, "%s", v->valuestring);
        rc = 0;
    }
    cJSON_Delete(j);
    return rc;
}

/* ------------------------------------------------------------------------ */

static void test_signature(void **st)
{
    (void)st;
    assert_int_equal(tu_mockex_start(&g_mx, NULL), 0);
    struct tu_http r;

    /* the reference file's worked vector, recomputed by this test's signer */
    char s[65];
    bx_sign("abcdefghijklmnopqrstuvwxyz012345", "1732280000000", "test-api-key", "marginCoinUSDTsymbolBTCUSDT",
            "", "test-secret", s);
    assert_string_equal(s, "e12cb98b439305357d9a628dcb89e6b395ccae7b61faa2ac292f61a75b998714");

    struct sreq q = {.method = "GET", .path = "/api/v1/futures/account", .query = "marginCoin=USDT",
                     .qp = "marginCoinUSDT"};
    send_signed(&g_mx, &q, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(code_of(r.body), 0);
    assert_non_null(strstr(r.body, "\"marginCoin\":\"USDT\""));
    assert_non_null(strstr(r.body, "\"available\":\"100000.00000000\""));
    assert_non_null(strstr(r.headers, "date: ")); /* the server clock for time sync */
    tu_http_free(&r);

    /* several parameters in unsorted order: the signature covers them sorted */
    struct sreq q2 = {.method = "GET", .path = "/api/v1/futures/trade/get_pending_orders",
                      .query = "symbol=BTCUSDT&limit=10&skip=0", .qp = "limit10skip0symbolBTCUSDT"};
    send_signed(&g_mx, &q2, &r);
    assert_int_equal(code_of(r.body), 0);
    assert_non_null(strstr(r.body, "\"orderList\":[]"));
    tu_http_free(&r);
    /* signing them in the order sent (unsorted) is wrong */
    q2.qp = "symbolBTCUSDTlimit10skip0";
    send_signed(&g_mx, &q2, &r);
    assert_int_equal(code_of(r.body), 10007);
    tu_http_free(&r);

    /* tampered: HTTP 200 with the exchange's signature code */
    q.tamper = 1;
    send_signed(&g_mx, &q, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(code_of(r.body), 10007);
    assert_non_null(strstr(r.body, "Signature Error"));
    tu_http_free(&r);
    q.tamper = 0;

    /* wrong secret, unknown key, missing key */
    q.secret = "not-the-secret";
    send_signed(&g_mx, &q, &r);
    assert_int_equal(code_of(r.body), 10007);
    tu_http_free(&r);
    q.secret = NULL;
    q.key = "no-such-key";
    send_signed(&g_mx, &q, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(code_of(r.body), 10003);
    tu_http_free(&r);
    q.key = NULL;
    assert_int_equal(tu_mockex_http(&g_mx, g_mx.ports[0], "GET", "/api/v1/futures/account?marginCoin=USDT", NULL,
                                    NULL, 5000, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_int_equal(code_of(r.body), 10003);
    tu_http_free(&r);

    /* a body is signed byte for byte: one extra space breaks it */
    const char *body = "{\"symbol\":\"BTCUSDT\",\"orderList\":[{\"orderId\":\"1\"}]}";
    struct sreq c = {.method = "POST", .path = "/api/v1/futures/trade/cancel_orders", .body = body};
    send_signed(&g_mx, &c, &r);
    assert_int_equal(code_of(r.body), 0);
    assert_non_null(strstr(r.body, "\"errorCode\":\"20007\""));
    tu_http_free(&r);

    /* old timestamp; and a replayed nonce */
    q.ts = wall_ms() - 120000;
    send_signed(&g_mx, &q, &r);
    assert_int_equal(code_of(r.body), 10009);
    assert_non_null(strstr(r.body, "timestamp"));
    tu_http_free(&r);
    q.ts = 0;
    q.nonce = "ReplayReplayReplayReplayReplay01";
    send_signed(&g_mx, &q, &r);
    assert_int_equal(code_of(r.body), 0);
    tu_http_free(&r);
    send_signed(&g_mx, &q, &r);
    assert_int_equal(code_of(r.body), 10010);
    assert_non_null(strstr(r.body, "Nonce"));
    tu_http_free(&r);

    /* the mock's clock 2 minutes ahead (fault): a fresh timestamp is old */
    assert_int_equal(tu_mockex_fault(&g_mx, "{\"exchange\":\"bitunix\",\"kind\":\"clock_offset\",\"params\":{\"ms\":120000}}"), 0);
    q.nonce = NULL;
    send_signed(&g_mx, &q, &r);
    assert_int_equal(code_of(r.body), 10009);
    tu_http_free(&r);

    assert_int_equal(tu_mockex_state_num(&g_mx, "counters", "bitunix", "signature_failures"), 3);
    assert_int_equal(tu_mockex_state_num(&g_mx, "counters", "bitunix", "timestamp_failures"), 2);
    assert_int_equal(tu_mockex_state_num(&g_mx, "counters", "bitunix", "nonce_reused"), 1);
    assert_int_equal(tu_mockex_stop(&g_mx), 0);
}

static void test_order_round_trip(void **st)
{
    (void)st;
    assert_int_equal(tu_mockex_start(&g_mx, NULL), 0);
    struct tu_http r;
    char oid[32], q[256], qp[256];

    /* a buy far below the market (~65000) rests */
    const char *place = "{\"symbol\":\"BTCUSDT\",\"side\":\"BUY\",\"tradeSide\":\"OPEN\",\"orderType\":\"LIMIT\","
                        "\"qty\":\"0.010\",\"price\":\"50000.0\",\"effect\":\"GTC\",\"clientId\":\"rt-1\","
                        "\"reduceOnly\":false}";
    struct sreq p = {.method = "POST", .path = "/api/v1/futures/trade/place_order", .body = place};
    send_signed(&g_mx, &p, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(code_of(r.body), 0);
    assert_int_equal(data_str(r.body, "orderId", oid, sizeof oid), 0);
    assert_non_null(strstr(r.body, "\"clientId\":\"rt-1\""));
    tu_http_free(&r);
    /* the same clientId again */
    send_signed(&g_mx, &p, &r);
    assert_int_equal(code_of(r.body), 30042);
    tu_http_free(&r);
    /* too many decimals; unknown market */
    struct sreq bad = {.method = "POST", .path = "/api/v1/futures/trade/place_order",
                       .body = "{\"symbol\":\"BTCUSDT\",\"side\":\"BUY\",\"orderType\":\"LIMIT\",\"qty\":\"0.0101\","
                               "\"price\":\"50000.0\"}"};
    send_signed(&g_mx, &bad, &r);
    assert_int_equal(code_of(r.body), 10002);
    tu_http_free(&r);
    bad.body = "{\"symbol\":\"XYZUSDT\",\"side\":\"BUY\",\"orderType\":\"MARKET\",\"qty\":\"1\"}";
    send_signed(&g_mx, &bad, &r);
    assert_int_equal(code_of(r.body), 20001);
    tu_http_free(&r);

    /* get by id */
    snprintf(q, sizeof q, "orderId=%s", oid);
    snprintf(qp, sizeof qp, "orderId%s", oid);
    struct sreq g = {.method = "GET", .path = "/api/v1/futures/trade/get_order_detail", .query = q, .qp = qp};
    send_signed(&g_mx, &g, &r);
    assert_int_equal(code_of(r.body), 0);
    assert_non_null(strstr(r.body, "\"status\":\"NEW\""));
    assert_non_null(strstr(r.body, "\"price\":\"50000.0\""));
    assert_non_null(strstr(r.body, "\"qty\":\"0.010\""));
    assert_non_null(strstr(r.body, "\"effect\":\"GTC\""));
    tu_http_free(&r);

    /* open orders list it */
    struct sreq o = {.method = "GET", .path = "/api/v1/futures/trade/get_pending_orders", .query = "symbol=BTCUSDT",
                     .qp = "symbolBTCUSDT"};
    send_signed(&g_mx, &o, &r);
    assert_int_equal(code_of(r.body), 0);
    char want[64];
    snprintf(want, sizeof want, "\"orderId\":\"%s\"", oid);
    assert_non_null(strstr(r.body, want));
    assert_non_null(strstr(r.body, "\"total\":\"1\""));
    tu_http_free(&r);

    /* cancel by clientId */
    struct sreq c = {.method = "POST", .path = "/api/v1/futures/trade/cancel_orders",
                     .body = "{\"symbol\":\"BTCUSDT\",\"orderList\":[{\"clientId\":\"rt-1\"}]}"};
    send_signed(&g_mx, &c, &r);
    assert_int_equal(code_of(r.body), 0);
    assert_non_null(strstr(r.body, want));
    assert_non_null(strstr(r.body, "\"failureList\":[]"));
    tu_http_free(&r);
    /* gone from the open list, CANCELED by id, a second cancel fails */
    send_signed(&g_mx, &o, &r);
    assert_non_null(strstr(r.body, "\"orderList\":[]"));
    tu_http_free(&r);
    send_signed(&g_mx, &g, &r);
    assert_non_null(strstr(r.body, "\"status\":\"CANCELED\""));
    tu_http_free(&r);
    send_signed(&g_mx, &c, &r);
    assert_non_null(strstr(r.body, "\"successList\":[]"));
    assert_non_null(strstr(r.body, "\"errorCode\":\"20007\""));
    tu_http_free(&r);
    /* unknown order by id */
    struct sreq g2 = {.method = "GET", .path = "/api/v1/futures/trade/get_order_detail", .query = "orderId=42",
                      .qp = "orderId42"};
    send_signed(&g_mx, &g2, &r);
    assert_int_equal(code_of(r.body), 20007);
    tu_http_free(&r);

    /* a market buy fills at once and opens a LONG position */
    p.body = "{\"symbol\":\"BTCUSDT\",\"side\":\"BUY\",\"orderType\":\"MARKET\",\"qty\":\"0.002\"}";
    send_signed(&g_mx, &p, &r);
    assert_int_equal(code_of(r.body), 0);
    tu_http_free(&r);
    struct sreq pos = {.method = "GET", .path = "/api/v1/futures/position/get_pending_positions"};
    send_signed(&g_mx, &pos, &r);
    assert_int_equal(code_of(r.body), 0);
    assert_non_null(strstr(r.body, "\"side\":\"LONG\""));
    assert_non_null(strstr(r.body, "\"qty\":\"0.002\""));
    tu_http_free(&r);

    assert_int_equal(tu_mockex_state_num(&g_mx, "counters", "bitunix", "orders_placed"), 2);
    assert_int_equal(tu_mockex_state_num(&g_mx, "counters", "bitunix", "orders_canceled"), 1);
    assert_int_equal(tu_mockex_stop(&g_mx), 0);
}

static void test_rate_limit_and_faults(void **st)
{
    (void)st;
    assert_int_equal(tu_mockex_start(&g_mx, NULL), 0);
    struct tu_http r;
    /* 10 requests/second per IP on tickers: a burst of 30 must see 10006 */
    int limited = 0, ok = 0;
    for (int i = 0; i < 30; i++) {
        assert_int_equal(tu_mockex_http(&g_mx, g_mx.ports[0], "GET", "/api/v1/futures/market/tickers?symbols=BTCUSDT",
                                        NULL, NULL, 5000, &r),
                         0);
        assert_int_equal(r.status, 200);
        long long c = code_of(r.body);
        if (c == 10006) {
            limited++;
            assert_non_null(strstr(r.body, "Request too frequently"));
        } else {
            assert_int_equal(c, 0);
            ok++;
        }
        tu_http_free(&r);
    }
    assert_true(limited > 0);
    assert_true(ok >= 10);
    assert_int_equal(tu_mockex_state_num(&g_mx, "counters", "bitunix", "rate_limited"), limited);
    /* depth is its own endpoint with its own budget */
    assert_int_equal(tu_mockex_http(&g_mx, g_mx.ports[0], "GET", "/api/v1/futures/market/depth?symbol=BTCUSDT&limit=5",
                                    NULL, NULL, 5000, &r),
                     0);
    assert_int_equal(code_of(r.body), 0);
    tu_http_free(&r);

    /* shared faults apply to Bitunix routes: an injected 503 in the envelope */
    assert_int_equal(tu_mockex_fault(&g_mx, "{\"exchange\":\"bitunix\",\"kind\":\"http_status\",\"path\":"
                                          "\"/api/v1/futures/market/trading_pairs\",\"params\":{\"status\":503}}"),
                     0);
    assert_int_equal(tu_mockex_http(&g_mx, g_mx.ports[0], "GET", "/api/v1/futures/market/trading_pairs", NULL, NULL,
                                    5000, &r),
                     0);
    assert_int_equal(r.status, 503);
    assert_true(code_of(r.body) != 0);
    tu_http_free(&r);
    assert_int_equal(tu_mockex_http(&g_mx, g_mx.ports[0], "GET", "/api/v1/futures/market/trading_pairs", NULL, NULL,
                                    5000, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"symbolStatus\":\"OPEN\""));
    tu_http_free(&r);
    /* and a reset before the answer */
    assert_int_equal(tu_mockex_fault(&g_mx, "{\"exchange\":\"bitunix\",\"kind\":\"reset_before\"}"), 0);
    tu_mockex_http(&g_mx, g_mx.ports[0], "GET", "/api/v1/futures/market/trading_pairs", NULL, NULL, 5000, &r);
    assert_int_not_equal(r.curl_rc, 0);
    tu_http_free(&r);
    /* unknown path: 404 in the envelope */
    assert_int_equal(tu_mockex_http(&g_mx, g_mx.ports[0], "GET", "/api/v1/futures/nope", NULL, NULL, 5000, &r), 0);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"code\":"));
    tu_http_free(&r);
    assert_int_equal(tu_mockex_stop(&g_mx), 0);
}

/* ------------------------------------------------------------------------ */
/* a minimal WebSocket client over TLS                                      */
/* ------------------------------------------------------------------------ */

struct wsc {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    unsigned char rbuf[1 << 16];
    size_t rlen;
};

static int wsc_wait(struct wsc *c, long long deadline)
{
    if (SSL_pending(c->ssl) > 0)
        return 1;
    long long left = deadline - mono_ms();
    if (left <= 0)
        return 0;
    struct pollfd p = {c->fd, POLLIN, 0};
    return poll(&p, 1, (int)left) > 0;
}

/* Reads more bytes into rbuf; 1 read, 0 timeout, -1 closed/error. */
static int wsc_fill(struct wsc *c, long long deadline)
{
    while (mono_ms() < deadline || SSL_pending(c->ssl) > 0) {
        if (!wsc_wait(c, deadline))
            return 0;
        int n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(sizeof c->rbuf - c->rlen));
        if (n > 0) {
            c->rlen += (size_t)n;
            return 1;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return -1;
    }
    return 0;
}

static int wsc_open(struct wsc *c, const struct tu_mockex *mx, const char *path)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)mx->ports[0]);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a))
        return -1;
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx || SSL_CTX_load_verify_locations(c->ctx, mx->cert, NULL) != 1)
        return -1;
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof alpn);
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set1_host(c->ssl, "127.0.0.1");
    if (SSL_connect(c->ssl) != 1)
        return -1;
    unsigned char kb[16];
    RAND_bytes(kb, sizeof kb);
    char key[32];
    EVP_EncodeBlock((unsigned char *)key, kb, sizeof kb);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     path, mx->ports[0], key);
    if (SSL_write(c->ssl, req, n) != n)
        return -1;
    long long deadline = mono_ms() + 5000;
    char *end = NULL;
    while (!end) {
        if (wsc_fill(c, deadline) <= 0)
            return -1;
        c->rbuf[c->rlen < sizeof c->rbuf ? c->rlen : sizeof c->rbuf - 1] = '\0';
        end = strstr((char *)c->rbuf, "\r\n\r\n");
    }
    if (strncmp((char *)c->rbuf, "HTTP/1.1 101", 12))
        return -1;
    size_t used = (size_t)(end + 4 - (char *)c->rbuf);
    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= used;
    return 0;
}

static void wsc_free(struct wsc *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->ctx)
        SSL_CTX_free(c->ctx);
    if (c->fd > 0)
        close(c->fd);
    memset(c, 0, sizeof *c);
}

static int wsc_send(struct wsc *c, const char *text)
{
    size_t n = strlen(text);
    unsigned char h[14], mask[4];
    size_t hl = 0;
    h[hl++] = 0x81;
    if (n < 126) {
        h[hl++] = (unsigned char)(0x80 | n);
    } else {
        h[hl++] = 0x80 | 126;
        h[hl++] = (unsigned char)(n >> 8);
        h[hl++] = (unsigned char)n;
    }
    RAND_bytes(mask, 4);
    memcpy(h + hl, mask, 4);
    hl += 4;
    unsigned char *f = malloc(hl + n);
    assert_non_null(f);
    memcpy(f, h, hl);
    for (size_t i = 0; i < n; i++)
        f[hl + i] = (unsigned char)text[i] ^ mask[i & 3];
    int ok = SSL_write(c->ssl, f, (int)(hl + n)) == (int)(hl + n);
    free(f);
    return ok ? 0 : -1;
}

/* Next text frame into out (NUL-terminated). 1 got one, 0 timeout,
 * -1 the server closed (close frame or EOF). Control frames are skipped. */
static int wsc_recv(struct wsc *c, char *out, size_t cap, long long timeout_ms)
{
    long long deadline = mono_ms() + timeout_ms;
    for (;;) {
        if (c->rlen >= 2) {
            size_t hl = 2, n = c->rbuf[1] & 0x7f;
            if (n == 126) {
                hl = 4;
                n = c->rlen >= 4 ? ((size_t)c->rbuf[2] << 8 | c->rbuf[3]) : 0;
            } else if (n == 127) {
                hl = 10;
                n = 0;
                for (int i = 0; c->rlen >= 10 && i < 8; i++)
                    n = n << 8 | c->rbuf[2 + i];
            }
            if (c->rlen >= hl && c->rlen >= hl + n) {
                int op = c->rbuf[0] & 0x0f;
                int got = 0;
                if (op == 8)
                    return -1;
                if (op == 1 && n < cap) {
                    memcpy(out, c->rbuf + hl, n);
                    out[n] = '\0';
                    got = 1;
                }
                memmove(c->rbuf, c->rbuf + hl + n, c->rlen - hl - n);
                c->rlen -= hl + n;
                if (got)
                    return 1;
                continue;
            }
        }
        int f = wsc_fill(c, deadline);
        if (f <= 0)
            return f;
    }
}

/* Reads frames until one contains `needle`; 1 found, 0 timeout, -1 closed. */
static int wsc_expect(struct wsc *c, const char *needle, char *out, size_t cap, long long timeout_ms)
{
    long long deadline = mono_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        int r = wsc_recv(c, out, cap, left);
        if (r <= 0)
            return r;
        if (strstr(out, needle))
            return 1;
    }
}

static void test_ws_public(void **st)
{
    (void)st;
    assert_int_equal(tu_mockex_start(&g_mx, NULL), 0);
    struct wsc c;
    static char f[1 << 16];
    assert_int_equal(wsc_open(&c, &g_mx, "/public/"), 0);
    assert_int_equal(wsc_expect(&c, "\"op\":\"connect\"", f, sizeof f, 3000), 1);
    assert_int_equal(wsc_send(&c, "{\"op\":\"subscribe\",\"args\":[{\"symbol\":\"BTCUSDT\",\"ch\":\"depth_book5\"},"
                                  "{\"symbol\":\"BTCUSDT\",\"ch\":\"tickers\"}]}"),
                     0);
    assert_int_equal(wsc_expect(&c, "\"op\":\"subscribe\"", f, sizeof f, 3000), 1);
    assert_non_null(strstr(f, "\"code\":0"));
    assert_int_equal(wsc_expect(&c, "\"ch\":\"depth_book5\"", f, sizeof f, 3000), 1);
    cJSON *j = cJSON_Parse(f);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "symbol")->valuestring, "BTCUSDT");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "ts")));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "data");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(d, "b"), *a = cJSON_GetObjectItemCaseSensitive(d, "a");
    assert_int_equal(cJSON_GetArraySize(b), 5);
    assert_int_equal(cJSON_GetArraySize(a), 5);
    /* prices and quantities are strings; best bid below best ask */
    const cJSON *b0 = cJSON_GetArrayItem(cJSON_GetArrayItem(b, 0), 0);
    const cJSON *a0 = cJSON_GetArrayItem(cJSON_GetArrayItem(a, 0), 0);
    assert_true(cJSON_IsString(b0) && cJSON_IsString(a0));
    assert_true(strtod(b0->valuestring, NULL) < strtod(a0->valuestring, NULL));
    cJSON_Delete(j);
    assert_int_equal(wsc_expect(&c, "\"ch\":\"tickers\"", f, sizeof f, 3000), 1);
    assert_non_null(strstr(f, "\"la\":\""));
    /* ping / pong: our value comes back as pong */
    assert_int_equal(wsc_send(&c, "{\"op\":\"ping\",\"ping\":1732519687}"), 0);
    assert_int_equal(wsc_expect(&c, "\"pong\":1732519687", f, sizeof f, 3000), 1);
    /* bad channel: refused with a code */
    assert_int_equal(wsc_send(&c, "{\"op\":\"subscribe\",\"args\":[{\"symbol\":\"BTCUSDT\",\"ch\":\"nope\"}]}"), 0);
    assert_int_equal(wsc_expect(&c, "\"code\":10002", f, sizeof f, 3000), 1);
    /* unsubscribe: acked, and depth pushes stop */
    assert_int_equal(wsc_send(&c, "{\"op\":\"unsubscribe\",\"args\":[{\"symbol\":\"BTCUSDT\",\"ch\":\"depth_book5\"}]}"), 0);
    assert_int_equal(wsc_expect(&c, "\"op\":\"unsubscribe\"", f, sizeof f, 3000), 1);
    int more = 0;
    long long until = mono_ms() + 600;
    while (mono_ms() < until)
        if (wsc_recv(&c, f, sizeof f, 100) == 1 && strstr(f, "depth_book5"))
            more++;
    assert_int_equal(more, 0);
    wsc_free(&c);
    assert_true(tu_mockex_state_num(&g_mx, "counters", "bitunix", "subscribe_messages") >= 2);
    assert_int_equal(tu_mockex_stop(&g_mx), 0);
}

static void test_ws_idle(void **st)
{
    (void)st;
    const char *args[] = {"--ws-idle-ms", "700", NULL};
    assert_int_equal(tu_mockex_start(&g_mx, args), 0);
    struct wsc quiet, chatty;
    static char f[1 << 16];
    assert_int_equal(wsc_open(&quiet, &g_mx, "/public/"), 0);
    assert_int_equal(wsc_open(&chatty, &g_mx, "/public/"), 0);
    assert_int_equal(wsc_expect(&quiet, "connect", f, sizeof f, 3000), 1);
    assert_int_equal(wsc_expect(&chatty, "connect", f, sizeof f, 3000), 1);
    /* the chatty one pings every 200 ms and gets every pong: ten of them
     * span (with the pauses alone) 2 s, nearly three idle timeouts. Counted
     * up to ten, bounded by 20 s, rather than in a fixed time in which a
     * loaded machine gets fewer. */
    long long end = mono_ms() + 20000;
    int pongs = 0, chatty_closed = 0;
    while (mono_ms() < end && !chatty_closed && pongs < 10) {
        char ping[64];
        snprintf(ping, sizeof ping, "{\"op\":\"ping\",\"ping\":%lld}", wall_ms() / 1000);
        assert_int_equal(wsc_send(&chatty, ping), 0);
        int r = wsc_expect(&chatty, "\"pong\"", f, sizeof f, 1000);
        if (r < 0)
            chatty_closed = 1;
        pongs += r == 1;
        usleep(200000);
    }
    assert_int_equal(chatty_closed, 0);
    assert_int_equal(pongs, 10);
    /* the quiet one was closed by the server (by now, or soon: 700 ms after
     * its last word, at the mock's next idle sweep) */
    int r = wsc_recv(&quiet, f, sizeof f, 5000);
    assert_int_equal(r, -1);
    wsc_free(&quiet);
    wsc_free(&chatty);
    assert_int_equal(tu_mockex_state_num(&g_mx, "counters", "bitunix", "ws_idle_closed"), 1);
    assert_int_equal(tu_mockex_stop(&g_mx), 0);
}

static void test_ws_private(void **st)
{
    (void)st;
    assert_int_equal(tu_mockex_start(&g_mx, NULL), 0);
    struct wsc c;
    static char f[1 << 16];
    assert_int_equal(wsc_open(&c, &g_mx, "/private/"), 0);
    assert_int_equal(wsc_expect(&c, "connect", f, sizeof f, 3000), 1);
    /* private channels need a login first */
    assert_int_equal(wsc_send(&c, "{\"op\":\"subscribe\",\"args\":[{\"ch\":\"order\"}]}"), 0);
    assert_int_equal(wsc_expect(&c, "\"op\":\"subscribe\"", f, sizeof f, 3000), 1);
    assert_null(strstr(f, "\"code\":0"));
    /* a login with a wrong secret is refused, the right one accepted */
    char nonce[33], ts[24], sign[65], msg[512];
    for (int pass = 0; pass < 2; pass++) {
        new_nonce(nonce);
        snprintf(ts, sizeof ts, "%lld", wall_ms() / 1000);
        bx_sign(nonce, ts, KEY, "", "", pass ? SECRET : "wrong", sign);
        snprintf(msg, sizeof msg,
                 "{\"op\":\"login\",\"args\":[{\"apiKey\":\"%s\",\"timestamp\":%s,\"nonce\":\"%s\",\"sign\":\"%s\"}]}",
                 KEY, ts, nonce, sign);
        assert_int_equal(wsc_send(&c, msg), 0);
        assert_int_equal(wsc_expect(&c, "\"op\":\"login\"", f, sizeof f, 3000), 1);
        assert_non_null(strstr(f, pass ? "\"result\":true" : "\"result\":false"));
    }
    assert_int_equal(wsc_send(&c, "{\"op\":\"subscribe\",\"args\":[{\"ch\":\"order\"},{\"ch\":\"balance\"}]}"), 0);
    assert_int_equal(wsc_expect(&c, "\"code\":0", f, sizeof f, 3000), 1);
    /* an order placed over REST is pushed on the order channel */
    struct tu_http r;
    struct sreq p = {.method = "POST", .path = "/api/v1/futures/trade/place_order",
                     .body = "{\"symbol\":\"ETHUSDT\",\"side\":\"SELL\",\"orderType\":\"LIMIT\",\"qty\":\"0.100\","
                             "\"price\":\"4000.00\",\"clientId\":\"ws-1\"}"};
    send_signed(&g_mx, &p, &r);
    assert_int_equal(code_of(r.body), 0);
    tu_http_free(&r);
    assert_int_equal(wsc_expect(&c, "\"ch\":\"order\"", f, sizeof f, 3000), 1);
    assert_non_null(strstr(f, "\"event\":\"CREATE\""));
    assert_non_null(strstr(f, "\"orderStatus\":\"NEW\""));
    assert_non_null(strstr(f, "\"clientId\":\"ws-1\""));
    assert_non_null(strstr(f, "\"price\":\"4000.00\""));
    assert_int_equal(wsc_expect(&c, "\"ch\":\"balance\"", f, sizeof f, 3000), 1);
    assert_non_null(strstr(f, "\"coin\":\"USDT\""));
    wsc_free(&c);
    assert_int_equal(tu_mockex_state_num(&g_mx, "counters", "bitunix", "ws_logins"), 1);
    assert_int_equal(tu_mockex_state_num(&g_mx, "counters", "bitunix", "ws_login_failures"), 1);
    assert_int_equal(tu_mockex_stop(&g_mx), 0);
}

static int stop_mock(void **st)
{
    (void)st;
    tu_mockex_stop(&g_mx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_signature, stop_mock),
        cmocka_unit_test_teardown(test_order_round_trip, stop_mock),
        cmocka_unit_test_teardown(test_rate_limit_and_faults, stop_mock),
        cmocka_unit_test_teardown(test_ws_public, stop_mock),
        cmocka_unit_test_teardown(test_ws_idle, stop_mock),
        cmocka_unit_test_teardown(test_ws_private, stop_mock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
