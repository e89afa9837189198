/*
 * test_security.c — issue 12, part 5: trust and secrets, against the mock.
 *
 *  - TLS verification cannot be turned off: without ca_file every call to
 *    the mock (self-signed) fails with a message naming the certificate,
 *    and keys that would disable verification are unknown (CONFIG);
 *  - http:// and ws:// endpoints are refused when the config is read;
 *  - secrets (Binance api_secret and the request signatures the test
 *    recomputes, the listenKey, the Bitunix secret, the Hyperliquid private
 *    key) appear in no log line at log_level = debug, no metric and no error
 *    message, over success and error paths;
 *  - after xgw_close() no copy of a secret is left anywhere in the memory of
 *    the process (what a core dump would hold): checked by reading a
 *    stopped child's /proc/<pid>/mem (see test_secrets_wiped_after_close);
 *  - a hostile exchange message (10 KB, control bytes, quotes, ANSI
 *    escapes) ends bounded and escaped in the error, and no raw ESC byte
 *    reaches the log.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tu_mockex.h"
#include "tu_proc.h"
#include "xgw/stream.h"
#include "xgw/xgw.h"

/* The secrets are kept XOR-masked in the binary and unmasked only where
 * needed, so that the memory scan of test_secrets_wiped_after_close does
 * not find the test's own copy (the child never unmasks them). */
#define MASK 0x5a
static const char M_BN_KEY[] = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
static unsigned char M_BN_SECRET[65];
static unsigned char M_BX_SECRET[12];
static unsigned char M_HL_KEY[67];

static void mask_init(void)
{
    /* built from pieces so the plain text is not one literal either */
    static const char *const bn[] = {"2b5eb11e18796d12", "d88f13dc27dbbd02", "c2cc51ff70597", "65ed9821957d82bb4d9"};
    static const char *const bx[] = {"test-", "secret"};
    static const char *const hl[] = {"0x0123456789012345", "6789012345678901", "2345678901234567", "8901234567890123"};
    char t[80] = "";
    for (size_t i = 0; i < 4; i++)
        strcat(t, bn[i]);
    for (size_t i = 0; i <= strlen(t); i++)
        M_BN_SECRET[i] = (unsigned char)(t[i] ^ MASK);
    t[0] = 0;
    for (size_t i = 0; i < 2; i++)
        strcat(t, bx[i]);
    for (size_t i = 0; i <= strlen(t); i++)
        M_BX_SECRET[i] = (unsigned char)(t[i] ^ MASK);
    t[0] = 0;
    for (size_t i = 0; i < 4; i++)
        strcat(t, hl[i]);
    for (size_t i = 0; i <= strlen(t); i++)
        M_HL_KEY[i] = (unsigned char)(t[i] ^ MASK);
    memset(t, 0, sizeof t);
}

static void unmask(const unsigned char *m, char *out)
{
    size_t i = 0;
    for (; (m[i] ^ MASK) != 0; i++)
        out[i] = (char)(m[i] ^ MASK);
    out[i] = 0;
}

/* ---- helpers ------------------------------------------------------------- */

struct fx {
    struct tu_mockex mx;
    bool mx_up;
    char dir[256];
    char mock_log[512];
    char gw_log[512];
    int saved_stderr;
    struct xgw_gateway *gw;
};

static int setup(void **state)
{
    mask_init();
    struct fx *f = calloc(1, sizeof *f);
    if (!f || tu_mkdtemp(f->dir, sizeof f->dir) != 0)
        return -1;
    f->saved_stderr = -1;
    *state = f;
    return 0;
}

static void stderr_restore(struct fx *f)
{
    if (f->saved_stderr >= 0) {
        fflush(stderr);
        dup2(f->saved_stderr, 2);
        close(f->saved_stderr);
        f->saved_stderr = -1;
    }
}

/* fd 2 into a file (the gateway logs to stderr; children inherit it). */
static void stderr_to(struct fx *f, const char *path)
{
    stderr_restore(f);
    fflush(stderr);
    f->saved_stderr = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    dup2(fd, 2);
    close(fd);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    xgw_close(f->gw);
    stderr_restore(f);
    if (f->mx_up)
        tu_mockex_stop(&f->mx);
    tu_rm_rf(f->dir);
    free(f);
    return 0;
}

/* Mock with --verbose (every request line, with its query, into mock.log). */
static void mock_up(struct fx *f)
{
    snprintf(f->mock_log, sizeof f->mock_log, "%s/mock.log", f->dir);
    stderr_to(f, f->mock_log);
    const char *args[] = {"--verbose", NULL};
    int rc = tu_mockex_start(&f->mx, args);
    stderr_restore(f);
    assert_int_equal(rc, 0);
    f->mx_up = true;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, fp)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(fp);
    if (b)
        b[n] = 0;
    if (len)
        *len = n;
    return b;
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    return needle[0] && memmem(hay, n, needle, strlen(needle)) != NULL;
}

static struct xgw_gateway *open_ini(struct fx *f, const char *ini, struct xgw_error *err)
{
    char *p = tu_write_file(f->dir, "t.ini", ini, (size_t)-1, 0600);
    assert_non_null(p);
    struct xgw_gateway *gw = xgw_open(p, NULL, err);
    free(p);
    return gw;
}

/* ---- TLS and transports -------------------------------------------------- */

static void test_tls_untrusted_fails(void **state)
{
    struct fx *f = *state;
    mock_up(f);
    char bn_secret[80];
    unmask(M_BN_SECRET, bn_secret);
    char ini[2048];
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = error\n\n[exchange.bn]\nplugin = binance\n"
             "rest_endpoints = https://127.0.0.1:%d\napi_key = %s\napi_secret = %s\nwarmup = false\n"
             "clock_sync = false\nhealth_checks = false\nretry_max = 0\n",
             getenv("XGW_PLUGIN_DIR"), f->mx.ports[0], M_BN_KEY, bn_secret);
    struct xgw_error err;
    f->gw = open_ini(f, ini, &err);
    if (!f->gw)
        fail_msg("xgw_open: %s", err.message);
    assert_int_equal(xgw_start(f->gw, &err), 0);
    struct xgw_exchange *ex = xgw_exchange_find(f->gw, "bn");
    const enum xgw_op ops[] = {XGW_OP_TIME, XGW_OP_TICKER, XGW_OP_BALANCES, XGW_OP_PLACE, XGW_OP_OPEN_ORDERS};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        struct xgw_call c;
        memset(&c, 0, sizeof c);
        snprintf(c.symbol, sizeof c.symbol, "BTCUSDT");
        snprintf(c.order.symbol, sizeof c.order.symbol, "BTCUSDT");
        c.order.side = XGW_SIDE_BUY;
        c.order.type = XGW_TYPE_LIMIT;
        xgw_dec_parse_cstr("0.010", &c.order.qty);
        xgw_dec_parse_cstr("50000.0", &c.order.price);
        struct xgw_result *res = NULL;
        int rc = xgw_call_sync(ex, ops[i], &c, &res, &err);
        if (rc == 0)
            fail_msg("%s succeeded against an untrusted certificate", xgw_op_name(ops[i]));
        fprintf(stderr, "%s: %s: %s\n", xgw_op_name(ops[i]), xgw_err_kind_name(rc), err.message);
        assert_int_equal(rc, XGW_ERR_NETWORK);
        assert_non_null(strcasestr(err.message, "certificate"));
        assert_false(err.flags & XGW_ERRF_SENT); /* the handshake failed: nothing left */
    }
    /* no request reached the mock: the handshake never completed */
    assert_int_equal(tu_mockex_state_num(&f->mx, "requests", "total", NULL), 0);
    explicit_bzero(bn_secret, sizeof bn_secret);
}

static void expect_config_error(struct fx *f, const char *extra, const char *key)
{
    char ini[2048];
    snprintf(ini, sizeof ini, "[gateway]\nplugin_dir = %s\n\n[exchange.bn]\nplugin = binance\n%s\n",
             getenv("XGW_PLUGIN_DIR"), extra);
    struct xgw_error err;
    struct xgw_gateway *gw = open_ini(f, ini, &err);
    if (gw) {
        xgw_close(gw);
        fail_msg("accepted: %s", extra);
    }
    assert_int_equal(err.kind, XGW_ERR_CONFIG);
    assert_string_equal(err.key, key);
    assert_int_equal(err.line, 6);
}

static void test_no_way_to_disable_verification(void **state)
{
    struct fx *f = *state;
    /* the names other HTTP stacks use: none exists here */
    expect_config_error(f, "ssl_verify = false", "ssl_verify");
    expect_config_error(f, "tls_verify = false", "tls_verify");
    expect_config_error(f, "verify_peer = false", "verify_peer");
    expect_config_error(f, "insecure = true", "insecure");
    expect_config_error(f, "ssl_verify_host = 0", "ssl_verify_host");
}

static void test_plaintext_endpoints_refused(void **state)
{
    struct fx *f = *state;
    expect_config_error(f, "rest_endpoints = http://127.0.0.1:1", "rest_endpoints");
    expect_config_error(f, "rest_endpoints = https://127.0.0.1:1, http://127.0.0.1:2", "rest_endpoints");
    expect_config_error(f, "ws_endpoints = ws://127.0.0.1:1", "ws_endpoints");
    expect_config_error(f, "rest_endpoints = HTTP://127.0.0.1:1", "rest_endpoints");
}

/* ---- secrets in logs, metrics, errors ------------------------------------ */

struct seen {
    char errors[64][XGW_ERR_MSG_MAX + 64 + 128 + 8];
    int n;
};

static int run(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *c, struct seen *s,
               struct xgw_result **keep)
{
    struct xgw_result *res = NULL;
    struct xgw_error err;
    int rc = xgw_call_sync(ex, op, c, &res, &err);
    if (rc != 0 && s->n < 64)
        snprintf(s->errors[s->n++], sizeof s->errors[0], "%s|%s|%s", err.message, err.exchange, err.endpoint);
    if (keep)
        *keep = res;
    else
        xgw_result_free(res);
    return rc;
}

static void place_call(struct xgw_call *c, const char *sym, const char *qty, const char *px, const char *cid)
{
    memset(c, 0, sizeof *c);
    snprintf(c->symbol, sizeof c->symbol, "%s", sym);
    snprintf(c->order.symbol, sizeof c->order.symbol, "%s", sym);
    c->order.side = XGW_SIDE_BUY;
    c->order.type = XGW_TYPE_LIMIT;
    xgw_dec_parse_cstr(qty, &c->order.qty);
    xgw_dec_parse_cstr(px, &c->order.price);
    snprintf(c->order.client_id, sizeof c->order.client_id, "%s", cid);
    snprintf(c->client_id, sizeof c->client_id, "%s", cid);
}

static void on_event(void *user, const struct xgw_event *ev)
{
    (void)user, (void)ev;
}

static void fault(struct fx *f, const char *json) { assert_int_equal(tu_mockex_fault(&f->mx, json), 0); }

/* Signed Binance requests the mock saw (--verbose): each signature is
 * recomputed here from the secret, so what the test looks for are real
 * signatures of this run. Returns how many were collected. */
static int binance_signatures(struct fx *f, const char *secret, char sigs[][65], int max)
{
    char *log = slurp(f->mock_log, NULL);
    assert_non_null(log);
    int n = 0;
    for (char *line = strtok(log, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        char *q = strchr(line, '?');
        char *sp = q ? strstr(q, " (binance)") : NULL;
        char *sg = q ? strstr(q, "&signature=") : NULL;
        if (!q || !sp || !sg || sg > sp || sp - (sg + 11) != 64)
            continue;
        unsigned char mac[32];
        unsigned int ml = 0;
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)q + 1, (size_t)(sg - q - 1), mac, &ml);
        char hex[65];
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        if (!strncmp(hex, sg + 11, 64))
            snprintf(sigs[n++], 65, "%s", hex);
    }
    free(log);
    return n;
}

static void test_secrets_not_in_logs_metrics_errors(void **state)
{
    struct fx *f = *state;
    mock_up(f);
    char bn_secret[80], bx_secret[32], hl_key[80];
    unmask(M_BN_SECRET, bn_secret);
    unmask(M_BX_SECRET, bx_secret);
    unmask(M_HL_KEY, hl_key);
    char ini[4096];
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = debug\n\n"
             "[exchange.bn]\nplugin = binance\nrest_endpoints = https://127.0.0.1:%d\n"
             "ws_endpoints = wss://127.0.0.1:%d\nws_routed = false\nca_file = %s\napi_key = %s\napi_secret = %s\n"
             "http2 = false\nrequest_timeout_ms = 1500\nrecv_window_ms = 1000\n\n"
             "[exchange.bx]\nplugin = bitunix\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\n"
             "api_key = test-api-key\napi_secret = %s\nhttp2 = false\nrequest_timeout_ms = 1500\n\n"
             "[exchange.hl]\nplugin = hyperliquid\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\n"
             "private_key = %s\nhttp2 = false\nrequest_timeout_ms = 1500\n",
             getenv("XGW_PLUGIN_DIR"), f->mx.ports[0], f->mx.ports[0], f->mx.cert, M_BN_KEY, bn_secret,
             f->mx.ports[0], f->mx.cert, bx_secret, f->mx.ports[0], f->mx.cert, hl_key);
    snprintf(f->gw_log, sizeof f->gw_log, "%s/gw.log", f->dir);
    stderr_to(f, f->gw_log);
    struct xgw_error err;
    f->gw = open_ini(f, ini, &err);
    if (!f->gw) {
        stderr_restore(f);
        fail_msg("xgw_open: %s", err.message);
    }
    assert_int_equal(xgw_start(f->gw, &err), 0);
    struct xgw_exchange *bn = xgw_exchange_find(f->gw, "bn"), *bx = xgw_exchange_find(f->gw, "bx"),
                        *hl = xgw_exchange_find(f->gw, "hl");
    static struct seen s;
    memset(&s, 0, sizeof s);
    struct xgw_call c;
    struct xgw_result *res = NULL;

    /* success paths: signed reads, orders, the listenKey and its stream */
    memset(&c, 0, sizeof c);
    assert_int_equal(run(bn, XGW_OP_BALANCES, &c, &s, NULL), 0);
    assert_int_equal(run(bn, XGW_OP_WS_TOKEN, &c, &s, &res), 0);
    char listen_key[128];
    snprintf(listen_key, sizeof listen_key, "%s", res->token);
    xgw_result_free(res);
    assert_true(strlen(listen_key) >= 16);
    snprintf(c.token, sizeof c.token, "%s", listen_key);
    assert_int_equal(run(bn, XGW_OP_WS_TOKEN_KEEPALIVE, &c, &s, NULL), 0);
    struct xgw_sub *sub = NULL; /* the user stream: /ws/<listenKey> */
    if (xgw_subscribe(bn, XGW_CH_ORDERS, NULL, 0, 0, on_event, NULL, &sub, &err) != 0) {
        stderr_restore(f);
        fail_msg("subscribe orders: %s", err.message);
    }
    place_call(&c, "BTCUSDT", "0.010", "56000.0", "secA1");
    assert_int_equal(run(bn, XGW_OP_PLACE, &c, &s, NULL), 0);
    assert_int_equal(run(bn, XGW_OP_GET_ORDER, &c, &s, NULL), 0);
    assert_int_equal(run(bn, XGW_OP_CANCEL, &c, &s, NULL), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(run(bx, XGW_OP_BALANCES, &c, &s, NULL), 0);
    place_call(&c, "BTCUSDT", "0.010", "56000", "secB1");
    assert_int_equal(run(bx, XGW_OP_PLACE, &c, &s, NULL), 0);
    assert_int_equal(run(bx, XGW_OP_CANCEL, &c, &s, NULL), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(run(hl, XGW_OP_BALANCES, &c, &s, NULL), 0);
    place_call(&c, "BTC", "0.001", "56000", "0x000000000000000000000000000000a1");
    assert_int_equal(run(hl, XGW_OP_PLACE, &c, &s, NULL), 0);
    assert_int_equal(run(hl, XGW_OP_CANCEL, &c, &s, NULL), 0);

    /* error paths: auth, 5xx, malformed, truncated, reset after processing
     * (order lookup), clock skew, rate limit, unknown order */
    fault(f, "{\"kind\":\"http_status\",\"exchange\":\"any\",\"count\":3,\"params\":{\"status\":401,\"code\":-2015,"
             "\"msg\":\"Invalid API-key, IP, or permissions for action.\"}}");
    memset(&c, 0, sizeof c);
    run(bn, XGW_OP_BALANCES, &c, &s, NULL);
    run(bx, XGW_OP_BALANCES, &c, &s, NULL);
    run(hl, XGW_OP_BALANCES, &c, &s, NULL);
    assert_int_equal(tu_mockex_reset(&f->mx), 0);
    const char *kinds[] = {"{\"kind\":\"http_status\",\"exchange\":\"any\",\"count\":20,\"params\":{\"status\":503}}",
                           "{\"kind\":\"malformed\",\"exchange\":\"any\",\"count\":20}",
                           "{\"kind\":\"truncate\",\"exchange\":\"any\",\"count\":20}",
                           "{\"kind\":\"http_status\",\"exchange\":\"any\",\"count\":20,\"params\":{\"status\":429,"
                           "\"retry_after\":1}}"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        fault(f, kinds[k]);
        memset(&c, 0, sizeof c);
        run(bn, XGW_OP_BALANCES, &c, &s, NULL);
        run(bx, XGW_OP_BALANCES, &c, &s, NULL);
        run(hl, XGW_OP_BALANCES, &c, &s, NULL);
        assert_int_equal(tu_mockex_reset(&f->mx), 0);
        sleep(1); /* past any Retry-After */
    }
    fault(f, "{\"kind\":\"reset_after\",\"exchange\":\"any\",\"count\":3}");
    place_call(&c, "BTCUSDT", "0.010", "56000.0", "secA2");
    run(bn, XGW_OP_PLACE, &c, &s, NULL);
    place_call(&c, "BTCUSDT", "0.010", "56000", "secB2");
    run(bx, XGW_OP_PLACE, &c, &s, NULL);
    place_call(&c, "BTC", "0.001", "56000", "0x000000000000000000000000000000a2");
    run(hl, XGW_OP_PLACE, &c, &s, NULL);
    assert_int_equal(tu_mockex_reset(&f->mx), 0);
    fault(f, "{\"kind\":\"clock_offset\",\"exchange\":\"any\",\"params\":{\"ms\":90000}}");
    memset(&c, 0, sizeof c);
    run(bn, XGW_OP_BALANCES, &c, &s, NULL);
    run(bx, XGW_OP_BALANCES, &c, &s, NULL);
    assert_int_equal(tu_mockex_reset(&f->mx), 0);
    place_call(&c, "BTCUSDT", "0.010", "56000.0", "nosuchorder");
    run(bn, XGW_OP_GET_ORDER, &c, &s, NULL);
    run(bx, XGW_OP_GET_ORDER, &c, &s, NULL);
    assert_true(s.n >= 10); /* the error paths were taken */

    char *mj = NULL, *mp = NULL, *hj = NULL;
    assert_int_equal(xgw_metrics(f->gw, XGW_METRICS_JSON, &mj), 0);
    assert_int_equal(xgw_metrics(f->gw, XGW_METRICS_PROMETHEUS, &mp), 0);
    assert_int_equal(xgw_health(f->gw, &hj, NULL), 0);
    xgw_unsubscribe(sub);
    xgw_close(f->gw);
    f->gw = NULL;
    stderr_restore(f);

    static char sigs[256][65];
    int nsig = binance_signatures(f, bn_secret, sigs, 256);
    assert_true(nsig >= 3);
    size_t loglen = 0;
    char *log = slurp(f->gw_log, &loglen);
    assert_non_null(log);
    assert_true(loglen > 1000); /* debug logging did happen */
    const char *hl_bare = hl_key + 2;
    const char *secrets[] = {bn_secret, bx_secret, hl_key, hl_bare, listen_key};
    const char *names[] = {"binance api_secret", "bitunix api_secret", "hyperliquid private key",
                           "hyperliquid private key (no 0x)", "listenKey"};
    const char *where[] = {"log", "metrics json", "metrics prometheus", "health", "error"};
    for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++) {
        const char *texts[] = {log, mj, mp, hj};
        size_t lens[] = {loglen, strlen(mj), strlen(mp), strlen(hj)};
        for (size_t w = 0; w < 4; w++)
            if (contains(texts[w], lens[w], secrets[k]))
                fail_msg("the %s appears in the %s", names[k], where[w]);
        for (int e = 0; e < s.n; e++)
            if (contains(s.errors[e], strlen(s.errors[e]), secrets[k]))
                fail_msg("the %s appears in an error: %s", names[k], s.errors[e]);
    }
    for (int i = 0; i < nsig; i++) {
        if (contains(log, loglen, sigs[i]) || contains(mj, strlen(mj), sigs[i]) || contains(mp, strlen(mp), sigs[i]))
            fail_msg("a request signature appears in the log or the metrics");
        for (int e = 0; e < s.n; e++)
            if (contains(s.errors[e], strlen(s.errors[e]), sigs[i]))
                fail_msg("a request signature appears in an error: %s", s.errors[e]);
    }
    fprintf(stderr, "checked %zu bytes of debug log, %d errors, %d recomputed signatures\n", loglen, s.n, nsig);
    free(log);
    free(mj);
    free(mp);
    free(hj);
    explicit_bzero(bn_secret, sizeof bn_secret);
    explicit_bzero(bx_secret, sizeof bx_secret);
    explicit_bzero(hl_key, sizeof hl_key);
}

/* ---- secrets wiped ------------------------------------------------------- */

/* Where a needle occurs in the readable memory of pid, or 0. */
static long scan_mem(pid_t pid, const void *needle, size_t nlen, char *where, size_t wcap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "r");
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int mem = open(path, O_RDONLY | O_CLOEXEC);
    assert_non_null(maps);
    assert_true(mem >= 0);
    char line[512];
    long hits = 0, scanned = 0;
    size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap + nlen);
    assert_non_null(buf);
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || strstr(line, "[vvar]") ||
            strstr(line, "[vsyscall]"))
            continue;
        /* Read-only mappings of files (the test binary's .rodata, where the
         * test helpers' demo credentials live, and libraries) hold the
         * files' bytes, never anything the process wrote: skipped. */
        if (perms[1] != 'w' && strchr(line, '/'))
            continue;
        /* Reservations of 1 GiB and more are the sanitizers' shadow memory
         * (terabytes, mostly unbacked); the heap is never that large here.
         * Should the heap be skipped, the canary check fails loudly. */
        if (hi - lo >= (1ul << 30))
            continue;
        for (unsigned long at = lo; at < hi; at += cap) {
            size_t want = hi - at < cap + nlen ? hi - at : cap + nlen;
            ssize_t got = pread(mem, buf, want, (off_t)at);
            if (got <= 0)
                break;
            scanned += got;
            if (memmem(buf, (size_t)got, needle, nlen)) {
                if (!hits)
                    snprintf(where, wcap, "%s", line);
                hits++;
            }
        }
    }
    free(buf);
    close(mem);
    fclose(maps);
    assert_true(scanned > 1 << 20); /* the scan did read the process */
    return hits;
}

static int hex_nib(char c) { return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0'; }

/* A child opens a gateway whose secrets it reads only from the config file
 * (the masked constants are never unmasked in the child), makes signed
 * calls to Binance and Hyperliquid, closes the gateway and stops itself.
 * The parent then reads the child's whole memory — heap, stacks (glibc
 * keeps exited threads' stacks mapped), data — which is what a core dump
 * would hold. Sound because: the only way a secret reaches the child is
 * through xgw, and xgw claims to wipe (OPENSSL_cleanse) every copy it made
 * when it is freed; a copy left behind is a freed-but-unwiped buffer. */
/* The clean child: forked first thing in main(), before the test process
 * held any secret, so a secret found in its memory can only have come in
 * through xgw. It waits for a config path on a pipe, opens a gateway from
 * it, makes signed calls, closes the gateway and stops itself. */
static pid_t g_clean = -1;
static int g_clean_fd = -1;

static void clean_child(int rfd)
{
    char cfg[512];
    ssize_t n = read(rfd, cfg, sizeof cfg - 1);
    if (n <= 0)
        _exit(3); /* not used */
    cfg[n] = 0;
    struct xgw_error err;
    struct xgw_gateway *gw = xgw_open(cfg, NULL, &err);
    if (!gw || xgw_start(gw, &err) != 0)
        _exit(4);
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    struct xgw_result *res = NULL;
    int bad = 0;
    bad |= xgw_call_sync(xgw_exchange_find(gw, "bn"), XGW_OP_BALANCES, &c, &res, &err) != 0;
    xgw_result_free(res);
    bad |= xgw_call_sync(xgw_exchange_find(gw, "hl"), XGW_OP_BALANCES, &c, &res, &err) != 0;
    xgw_result_free(res);
    place_call(&c, "BTC", "0.001", "56000", "0x000000000000000000000000000000b1");
    bad |= xgw_call_sync(xgw_exchange_find(gw, "hl"), XGW_OP_PLACE, &c, &res, &err) != 0;
    xgw_result_free(res);
    xgw_close(gw);
    /* positive control: a freed, unwiped heap buffer must be found. The
     * marker starts 32 bytes in: malloc reuses a free chunk's first bytes. */
    char *canary = malloc(256);
    if (canary) {
        memset(canary, '.', 32);
        snprintf(canary + 32, 224, "xgw-canary-%d-freed-not-wiped", (int)getpid());
    }
    free(canary);
    raise(SIGSTOP);
    _exit(bad ? 5 : 0);
}

/* After xgw_close() no secret is left in the memory of the process: the
 * parent reads the stopped clean child's whole memory (heap, stacks -
 * glibc keeps exited threads' stacks mapped - data), which is what a core
 * dump would hold. Sound because the only way a secret reaches that child
 * is through xgw, which claims to wipe (OPENSSL_cleanse) every copy it
 * made; a copy left behind is a freed or popped but unwiped buffer. While a
 * gateway is open its secrets are necessarily in memory (see README). */
static void test_secrets_wiped_after_close(void **state)
{
    struct fx *f = *state;
    assert_true(g_clean > 0 && g_clean_fd >= 0);
    pid_t pid = g_clean;
    mock_up(f);
    char bn_secret[80], hl_key[80], ini[2048];
    unmask(M_BN_SECRET, bn_secret);
    unmask(M_HL_KEY, hl_key);
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = error\n\n"
             "[exchange.bn]\nplugin = binance\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\napi_key = %s\n"
             "api_secret = %s\nhttp2 = false\n\n"
             "[exchange.hl]\nplugin = hyperliquid\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\n"
             "private_key = %s\nhttp2 = false\n",
             getenv("XGW_PLUGIN_DIR"), f->mx.ports[0], f->mx.cert, M_BN_KEY, bn_secret, f->mx.ports[0], f->mx.cert,
             hl_key);
    char *p = tu_write_file(f->dir, "w.ini", ini, (size_t)-1, 0600);
    explicit_bzero(ini, sizeof ini);
    assert_non_null(p);
    ssize_t wr = write(g_clean_fd, p, strlen(p));
    free(p);
    close(g_clean_fd);
    g_clean_fd = -1;
    assert_true(wr > 0);
    int st = 0;
    pid_t w = 0;
    for (int i = 0; i < 600 && w == 0; i++) {
        w = waitpid(pid, &st, WUNTRACED | WNOHANG);
        if (w == 0)
            usleep(50000);
    }
    if (w != pid || !WIFSTOPPED(st)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        g_clean = -1;
        fail_msg("the child did not reach its stop (status 0x%x)", st);
    }
    unsigned char raw[32];
    for (int i = 0; i < 32; i++)
        raw[i] = (unsigned char)(hex_nib(hl_key[2 + 2 * i]) << 4 | hex_nib(hl_key[3 + 2 * i]));
    char where[512] = "", canary[64];
    snprintf(canary, sizeof canary, "xgw-canary-%d-freed-not-wiped", (int)pid);
    long h0 = scan_mem(pid, canary, strlen(canary), where, sizeof where);
    long h1 = scan_mem(pid, bn_secret, strlen(bn_secret), where, sizeof where);
    if (h1)
        fprintf(stderr, "binance api_secret found %ld time(s), first in %s", h1, where);
    long h2 = scan_mem(pid, hl_key + 2, strlen(hl_key + 2), where, sizeof where);
    if (h2)
        fprintf(stderr, "hyperliquid private key (hex) found %ld time(s), first in %s", h2, where);
    long h3 = scan_mem(pid, raw, sizeof raw, where, sizeof where);
    if (h3)
        fprintf(stderr, "hyperliquid private key (32 raw bytes) found %ld time(s), first in %s", h3, where);
    kill(pid, SIGCONT);
    waitpid(pid, &st, 0);
    g_clean = -1;
    explicit_bzero(bn_secret, sizeof bn_secret);
    explicit_bzero(hl_key, sizeof hl_key);
    explicit_bzero(raw, sizeof raw);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0); /* the signed calls worked */
    assert_true(h0 >= 1);                 /* the scan sees freed heap memory */
    assert_int_equal(h1 + h2 + h3, 0);
}

/* ---- hostile exchange messages ------------------------------------------- */

static void test_hostile_message_bounded_escaped(void **state)
{
    struct fx *f = *state;
    mock_up(f);
    char bn_secret[80], bx_secret[32], hl_key[80];
    unmask(M_BN_SECRET, bn_secret);
    unmask(M_BX_SECRET, bx_secret);
    unmask(M_HL_KEY, hl_key);
    /* no background traffic: the one-shot fault must meet the call below */
    const char *quiet = "http2 = false\nretry_max = 0\nwarmup = false\nhealth_checks = false\nclock_sync = false\n"
                        "markets_refresh_s = 0\n";
    char ini[4096];
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = debug\n\n"
             "[exchange.bn]\nplugin = binance\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\napi_key = %s\n"
             "api_secret = %s\n%s\n"
             "[exchange.bx]\nplugin = bitunix\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\n"
             "api_key = test-api-key\napi_secret = %s\n%s\n"
             "[exchange.hl]\nplugin = hyperliquid\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\n"
             "private_key = %s\n%s",
             getenv("XGW_PLUGIN_DIR"), f->mx.ports[0], f->mx.cert, M_BN_KEY, bn_secret, quiet, f->mx.ports[0],
             f->mx.cert, bx_secret, quiet, f->mx.ports[0], f->mx.cert, hl_key, quiet);
    snprintf(f->gw_log, sizeof f->gw_log, "%s/gw.log", f->dir);
    stderr_to(f, f->gw_log);
    struct xgw_error err;
    f->gw = open_ini(f, ini, &err);
    if (!f->gw) {
        stderr_restore(f);
        fail_msg("xgw_open: %s", err.message);
    }
    assert_int_equal(xgw_start(f->gw, &err), 0);

    /* ~10 KB: ANSI colour and cursor sequences, CR/LF (log forging), tabs,
     * quotes, backslashes, DEL and a UTF-8 character */
    static char msg[10240];
    size_t n = 0;
    static const char *const parts[] = {"\x1b[31mRED\x1b[0m ", "\r\nFAKE LOG LINE level=ERROR ", "\"quoted\" ",
                                        "back\\slash ", "\t\x01\x7f ", "\x1b]0;title\x07 ", "caf\xc3\xa9 "};
    for (size_t i = 0; n + 40 < sizeof msg; i++) {
        const char *pp = parts[i % 7];
        memcpy(msg + n, pp, strlen(pp));
        n += strlen(pp);
    }
    msg[n] = 0;
    const char *inst[] = {"bn", "bx", "hl"}, *exch[] = {"binance", "bitunix", "hyperliquid"};
    /* 400: the error path; 503: also the endpoint-fault log line */
    for (int j = 0; j < 6; j++) {
        int i = j % 3, status = j < 3 ? 400 : 503;
        cJSON *fj = cJSON_CreateObject();
        cJSON_AddStringToObject(fj, "kind", "http_status");
        cJSON_AddStringToObject(fj, "exchange", exch[i]);
        cJSON_AddNumberToObject(fj, "count", 1);
        cJSON *pr = cJSON_AddObjectToObject(fj, "params");
        cJSON_AddNumberToObject(pr, "status", status);
        cJSON_AddNumberToObject(pr, "code", -1100);
        cJSON_AddStringToObject(pr, "msg", msg);
        char *fs = cJSON_PrintUnformatted(fj);
        cJSON_Delete(fj);
        assert_int_equal(tu_mockex_fault(&f->mx, fs), 0);
        free(fs);
        struct xgw_call c;
        memset(&c, 0, sizeof c);
        struct xgw_result *res = NULL;
        int rc = xgw_call_sync(xgw_exchange_find(f->gw, inst[i]), XGW_OP_BALANCES, &c, &res, &err);
        xgw_result_free(res);
        stderr_restore(f);
        fprintf(stderr, "%s: %s: %s\n", inst[i], xgw_err_kind_name(rc), err.message);
        stderr_to(f, f->gw_log);
        assert_int_not_equal(rc, 0);
        size_t ml = strnlen(err.message, sizeof err.message);
        assert_true(ml < sizeof err.message);
        for (size_t k = 0; k < ml; k++)
            if ((unsigned char)err.message[k] < 0x20 || err.message[k] == 0x7f)
                fail_msg("%s: raw control byte 0x%02x in the error message", inst[i], (unsigned char)err.message[k]);
        /* Binance's text must reach the message (escaped), or the test
         * proves nothing; the others may drop what they cannot read */
        if (i == 0 && status == 400)
            assert_non_null(strstr(err.message, "\\x1b[31mRED"));
    }
    xgw_close(f->gw);
    f->gw = NULL;
    stderr_restore(f);
    size_t len = 0;
    char *log = slurp(f->gw_log, &len);
    assert_non_null(log);
    assert_true(len > 0);
    assert_non_null(strstr(log, "RED")); /* the hostile text was logged (escaped) */
    if (memchr(log, 0x1b, len))
        fail_msg("a raw ESC byte reached the log");
    if (memchr(log, 0x07, len) || memchr(log, 0x7f, len) || memchr(log, 0x01, len))
        fail_msg("a raw control byte reached the log");
    assert_null(strstr(log, "\nFAKE LOG LINE")); /* no forged line */
    /* every log line is bounded */
    size_t longest = 0;
    for (char *a = log, *e; *a; a = e + 1) {
        e = strchr(a, '\n');
        if (!e)
            e = a + strlen(a) - 1;
        if ((size_t)(e - a) > longest)
            longest = (size_t)(e - a);
    }
    fprintf(stderr, "log: %zu bytes, longest line %zu\n", len, longest);
    assert_true(longest < 4096);
    free(log);
    explicit_bzero(bn_secret, sizeof bn_secret);
    explicit_bzero(bx_secret, sizeof bx_secret);
    explicit_bzero(hl_key, sizeof hl_key);
}

int main(void)
{
    int pp[2];
    if (pipe(pp) != 0)
        return 1;
    g_clean = fork();
    if (g_clean == 0) {
        close(pp[1]);
        clean_child(pp[0]);
    }
    close(pp[0]);
    g_clean_fd = pp[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_untrusted_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_way_to_disable_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plaintext_endpoints_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_not_in_logs_metrics_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_wiped_after_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_message_bounded_escaped, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (g_clean_fd >= 0)
        close(g_clean_fd); /* an unused clean child exits on EOF */
    if (g_clean > 0) {
        kill(g_clean, SIGKILL);
        waitpid(g_clean, NULL, 0);
    }
    return rc;
}
