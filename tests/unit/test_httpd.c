/*
 * tests/unit/test_httpd.c — the status server (core/httpd.c) on a gateway of
 * the built-in fake plugin: address rules, the `streams` parser it serves
 * with, GET on every path with a host-driven loop and with xgw_start, keep-
 * alive, refused requests, a port already in use, and the slow-client
 * timeout (a request head that never completes is cut after
 * XGW__HTTPD_REQ_TIMEOUT_MS).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "gateway.h"
#include "httpd.h"
#include "tu_fakeplugin.h"
#include "tu_fakegw.h"
#include "tu_tlsserver.h"
#include "xgw/xgw.h"

/* The fixture with a gateway open on the fake plugin (no health checks or
 * warm-up: the tests count the requests they make). */
static int setup(void **state)
{
    if (tu_fakegw_setup(state) != 0)
        return -1;
    struct tu_fakegw *f = *state;
    if (tu_fake_write_ini(f->ini, tu_tls_port(f->srv), f->cert, "health_checks = false\nwarmup = false\n") != 0)
        return -1;
    struct xgw_error err;
    f->gw = xgw_open(f->ini, NULL, &err);
    return f->gw ? 0 : -1;
}

/* ---- a blocking HTTP client -------------------------------------------------- */

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 15};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read one answer (head + Content-Length body) from fd into buf. Returns
 * the status code, -1 on error. */
static int read_answer(int fd, char *buf, size_t cap, size_t *body_off, size_t *body_len)
{
    size_t len = 0;
    for (;;) {
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strcasestr(buf, "\r\nContent-Length: ");
            size_t want = cl ? strtoul(cl + 18, NULL, 10) : 0;
            size_t off = (size_t)(end - buf) + 4;
            if (len >= off + want) {
                *body_off = off;
                *body_len = want;
                return atoi(buf + 9);
            }
        }
        if (len + 1 >= cap)
            return -1;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
    }
}

struct req {
    int port;
    const char *raw; /* the request bytes */
    int status;
    char *body; /* malloc'd */
    bool done;
};

static void *client(void *arg)
{
    struct req *r = arg;
    int fd = connect_to(r->port);
    r->status = -1;
    if (fd >= 0 && send(fd, r->raw, strlen(r->raw), MSG_NOSIGNAL) == (ssize_t)strlen(r->raw)) {
        size_t cap = 1 << 20, off = 0, blen = 0;
        char *buf = malloc(cap);
        r->status = read_answer(fd, buf, cap, &off, &blen);
        if (r->status > 0) {
            r->body = strndup(buf + off, blen);
        }
        free(buf);
    }
    if (fd >= 0)
        close(fd);
    __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
    return NULL;
}

/* GET path on a server whose loop this thread drives (host-driven mode):
 * the client runs on a thread while we poll xgw_fd and step. */
static int get_host_driven(struct xgw_gateway *gw, int port, const char *path, char **body)
{
    char raw[256];
    snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    struct req r = {.port = port, .raw = raw};
    pthread_t t;
    pthread_create(&t, NULL, client, &r);
    for (int i = 0; i < 2000 && !__atomic_load_n(&r.done, __ATOMIC_ACQUIRE); i++) {
        struct pollfd p = {.fd = xgw_fd(gw), .events = POLLIN};
        int to = xgw_timeout_ms(gw);
        poll(&p, 1, to < 0 || to > 5 ? 5 : to);
        xgw_step(gw);
    }
    pthread_join(t, NULL);
    *body = r.body;
    return r.status;
}

static int get_started(int port, const char *raw, char **body)
{
    struct req r = {.port = port, .raw = raw};
    client(&r);
    if (body)
        *body = r.body;
    else
        free(r.body);
    return r.status;
}

/* The number of connections the server (started mode) holds open, as its
 * status.json tells it, this probe's own excluded; -1 when it cannot ask. */
static int open_connections(int port)
{
    char *body = NULL;
    int n = -1;
    if (get_started(port, "GET /status.json HTTP/1.1\r\nConnection: close\r\n\r\n", &body) == 200) {
        static const char key[] = "\"http\":{\"connections\":";
        const char *p = strstr(body, key);
        n = p ? atoi(p + sizeof key - 1) - 1 : -1;
    }
    free(body);
    return n;
}

/* Wait (at most 10 s) until the server has seen every earlier client go:
 * a client's close reaches the server's loop some time after close()
 * returns, and the connection limit counts it until then. */
static void wait_no_connections(int port)
{
    int n = -1;
    for (int i = 0; i < 1000 && (n = open_connections(port)) != 0; i++)
        usleep(10 * 1000);
    assert_int_equal(n, 0);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_loopback(void **state)
{
    (void)state;
    assert_true(xgw__httpd_is_loopback("127.0.0.1"));
    assert_true(xgw__httpd_is_loopback("127.9.8.7"));
    assert_true(xgw__httpd_is_loopback("::1"));
    assert_true(xgw__httpd_is_loopback("::ffff:127.0.0.1"));
    assert_true(xgw__httpd_is_loopback("localhost"));
    assert_false(xgw__httpd_is_loopback("0.0.0.0"));
    assert_false(xgw__httpd_is_loopback("::"));
    assert_false(xgw__httpd_is_loopback("10.0.0.1"));
    assert_false(xgw__httpd_is_loopback("128.0.0.1"));
    assert_false(xgw__httpd_is_loopback("example.com"));
    assert_false(xgw__httpd_is_loopback(NULL));
}

static void test_streams_parse(void **state)
{
    (void)state;
    struct xgw__stream_spec *sp = NULL;
    size_t n = 0;
    char why[160];
    assert_int_equal(xgw__streams_parse(" book:BTCUSDT:20 , ticker:BTCUSDT+ETHUSDT,trades:BTCUSDT, orders ",
                                        &sp, &n, why, sizeof why),
                     0);
    assert_int_equal(n, 4);
    assert_int_equal(sp[0].channel, XGW_CH_BOOK);
    assert_int_equal(sp[0].depth, 20);
    assert_string_equal(sp[0].symbols[0], "BTCUSDT");
    assert_int_equal(sp[1].channel, XGW_CH_TICKER);
    assert_int_equal(sp[1].n_symbols, 2);
    assert_string_equal(sp[1].symbols[1], "ETHUSDT");
    assert_int_equal(sp[2].channel, XGW_CH_TRADES);
    assert_int_equal(sp[3].channel, XGW_CH_ORDERS);
    assert_int_equal(sp[3].n_symbols, 0);
    free(sp);
    static const char *const bad[] = {
        "",           "candles:BTCUSDT", "ticker",     "ticker:",     "orders:BTC", "ticker:BTC:5",
        "book:BTC:0", "book:BTC:1001",   "book:BTC:x", "ticker:BTC+", "ticker:B C", "ticker:BTC,,trades:BTC",
        "ticker:BTC,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sp = (void *)1;
        if (xgw__streams_parse(bad[i], &sp, &n, why, sizeof why) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_null(sp);
        assert_true(why[0] != '\0');
    }
}

static void test_refuses_public_and_bad(void **state)
{
    struct tu_fakegw *f = *state;
    struct xgw_listener *l = (void *)1;
    struct xgw_error err;
    assert_int_equal(xgw_listen(f->gw, "0.0.0.0:0", 0, &l, &err), XGW_ERR_CONFIG);
    assert_null(l);
    assert_non_null(strstr(err.message, "metrics_listen_public"));
    assert_int_equal(xgw_listen(f->gw, "10.1.2.3:9464", 0, &l, &err), XGW_ERR_CONFIG);
    assert_int_equal(xgw_listen(f->gw, "127.0.0.1:99999", 0, &l, &err), XGW_ERR_CONFIG);
    assert_int_equal(xgw_listen(f->gw, "::1:80", 0, &l, &err), XGW_ERR_CONFIG);
    assert_int_equal(xgw_listen(NULL, "127.0.0.1:0", 0, &l, &err), XGW_ERR_INVALID_REQUEST);
}

/* The engine's own loop: xgw_listen, then GETs served by xgw_step. */
static void test_host_driven(void **state)
{
    struct tu_fakegw *f = *state;
    struct xgw_listener *l = NULL;
    struct xgw_error err;
    assert_int_equal(xgw_listen(f->gw, "127.0.0.1:0", 0, &l, &err), 0);
    int port = xgw_listener_port(l);
    assert_true(port > 0);
    char *body = NULL;
    assert_int_equal(get_host_driven(f->gw, port, "/health", &body), 200);
    assert_non_null(strstr(body, "\"instances\":[{\"instance\":\"f1\""));
    assert_non_null(strstr(body, "\"state\":\"UNKNOWN\"")); /* checks off: UNKNOWN answers 200 */
    free(body);
    assert_int_equal(get_host_driven(f->gw, port, "/metrics", &body), 200);
    assert_non_null(strstr(body, "# TYPE xgw_calls_submitted_total counter"));
    free(body);
    assert_int_equal(get_host_driven(f->gw, port, "/", &body), 200);
    assert_non_null(strstr(body, "<title>xgw status</title>"));
    assert_non_null(strstr(body, "</html>"));
    free(body);
    xgw_listen_close(l);
}

static void test_started(void **state)
{
    struct tu_fakegw *f = *state;
    struct xgw_error err;
    assert_int_equal(xgw_start(f->gw, &err), 0);
    struct xgw_listener *l = NULL;
    assert_int_equal(xgw_listen(f->gw, "localhost:0", 0, &l, &err), 0);
    int port = xgw_listener_port(l);
    char *body = NULL;

    /* a second server on the same port: a CONFIG error naming the address */
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    struct xgw_listener *l2 = (void *)1;
    assert_int_equal(xgw_listen(f->gw, addr, 0, &l2, &err), XGW_ERR_CONFIG);
    assert_null(l2);
    assert_non_null(strstr(err.message, addr));

    assert_int_equal(get_started(port, "GET /status.json HTTP/1.1\r\nConnection: close\r\n\r\n", &body), 200);
    assert_non_null(strstr(body, "\"health\":{\"instances\""));
    assert_non_null(strstr(body, "\"metrics\":{\"gateway\""));
    assert_non_null(strstr(body, "\"streams\":[]"));
    assert_non_null(strstr(body, "\"subscriptions\":[]"));
    free(body);
    assert_int_equal(get_started(port, "GET /metrics?format=json HTTP/1.0\r\n\r\n", &body), 200);
    assert_true(body[0] == '{');
    free(body);
    assert_int_equal(get_started(port, "PUT /health HTTP/1.1\r\n\r\n", NULL), 405);
    assert_int_equal(get_started(port, "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n", NULL), 404);
    assert_int_equal(get_started(port, "GET /health HTTP/2.0\r\n\r\n", NULL), 400);
    assert_int_equal(get_started(port, "GET health HTTP/1.1\r\n\r\n", NULL), 400);
    assert_int_equal(get_started(port, "GET /health HTTP/1.1\r\nbad header\r\n\r\n", NULL), 400);
    assert_int_equal(get_started(port, "GET /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", NULL),
                     413);

    /* keep-alive and pipelining: two requests in one write, two answers */
    int fd = connect_to(port);
    assert_true(fd >= 0);
    const char *two = "GET /health HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(fd, two, strlen(two), MSG_NOSIGNAL), (ssize_t)strlen(two));
    char *buf = malloc(1 << 20);
    size_t off, blen;
    assert_int_equal(read_answer(fd, buf, 1 << 20, &off, &blen), 200);
    assert_non_null(strstr(buf, "Connection: keep-alive"));
    memmove(buf, buf + off + blen, strlen(buf + off + blen) + 1);
    /* the second answer may be partly in buf already: read the rest */
    size_t have = strlen(buf);
    for (;;) {
        char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "\r\nContent-Length: ");
        if (end && cl && have >= (size_t)(end - buf) + 4 + strtoul(cl + 18, NULL, 10))
            break;
        ssize_t n = recv(fd, buf + have, (1 << 20) - 1 - have, 0);
        assert_true(n > 0);
        have += (size_t)n;
        buf[have] = '\0';
    }
    assert_int_equal(atoi(buf + 9), 200);
    assert_non_null(strstr(buf, "xgw_calls_submitted_total"));
    assert_non_null(strstr(buf, "Connection: close"));
    char c;
    assert_int_equal(recv(fd, &c, 1, 0), 0); /* closed after the answer */
    close(fd);
    free(buf);

    /* too many connections: the ones beyond the limit are closed at once */
    wait_no_connections(port);
    int fds[XGW__HTTPD_MAX_CONNS + 4];
    for (int i = 0; i < XGW__HTTPD_MAX_CONNS + 4; i++)
        fds[i] = connect_to(port);
    int cut = 0;
    for (int i = 0; i < XGW__HTTPD_MAX_CONNS + 4; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (fds[i] >= 0 && poll(&p, 1, i >= XGW__HTTPD_MAX_CONNS ? 2000 : 0) == 1 &&
            recv(fds[i], &c, 1, 0) <= 0)
            cut++;
    }
    assert_int_equal(cut, 4);
    for (int i = 0; i < XGW__HTTPD_MAX_CONNS + 4; i++)
        if (fds[i] >= 0)
            close(fds[i]);

    /* a client that never finishes its request is closed after the limit
     * (once the flood is gone: a connection beyond the limit is cut at once) */
    wait_no_connections(port);
    fd = connect_to(port);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, "GET /health HTTP/1.1\r\n", 22, MSG_NOSIGNAL), 22);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ssize_t n = recv(fd, &c, 1, 0); /* SO_RCVTIMEO 15 s */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_int_equal(n, 0);
    assert_true(ms >= XGW__HTTPD_REQ_TIMEOUT_MS - 200 && ms <= XGW__HTTPD_REQ_TIMEOUT_MS + 2000);
    close(fd);

    /* a connection open while the server closes is closed with it */
    fd = connect_to(port);
    assert_true(fd >= 0);
    xgw_listen_close(l);
    assert_int_equal(recv(fd, &c, 1, 0), 0);
    close(fd);
    assert_true(connect_to(port) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_streams_parse),
        cmocka_unit_test_setup_teardown(test_refuses_public_and_bad, setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_host_driven, setup, tu_fakegw_teardown),
        cmocka_unit_test_setup_teardown(test_started, setup, tu_fakegw_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
