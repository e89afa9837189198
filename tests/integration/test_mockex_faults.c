/*
 * test_mockex_faults.c — every HTTP-level fault of the mock does what it
 * says, exactly as often as asked, and is counted by /_mock/state; bad input
 * to the mock gets an error shape or a clean close, and the mock survives
 * and exits cleanly.
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
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct tu_mockex mx;

static int setup(void **st)
{
    (void)st;
    return tu_mockex_start(&mx, NULL);
}

static int teardown(void **st)
{
    (void)st;
    return tu_mockex_stop(&mx) == 0 ? 0 : -1;
}

static long long ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void get(const char *path, long timeout, struct tu_http *r)
{
    tu_mockex_http(&mx, mx.ports[0], "GET", path, NULL, NULL, timeout, r);
}

static long long fault_hits(int idx)
{
    cJSON *j = tu_mockex_state(&mx);
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "faults"), idx);
    long long h = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "hits"));
    cJSON_Delete(j);
    return h;
}

static void test_http_status_count(void **st)
{
    (void)st;
    tu_mockex_reset(&mx);
    assert_int_equal(tu_mockex_fault(&mx, "{\"exchange\":\"binance\",\"kind\":\"http_status\",\"count\":2,"
                                          "\"params\":{\"status\":503}}"),
                     0);
    struct tu_http r;
    for (int i = 0; i < 3; i++) {
        get("/fapi/v1/time", 5000, &r);
        assert_int_equal(r.curl_rc, 0);
        assert_int_equal(r.status, i < 2 ? 503 : 200);
        if (i < 2)
            assert_non_null(strstr(r.body, "\"code\":-1000"));
        tu_http_free(&r);
    }
    assert_int_equal(fault_hits(0), 2);
    assert_int_equal(tu_mockex_state_num(&mx, "requests", "by_path", "/fapi/v1/time"), 3);
}

static void test_ratio_deterministic(void **st)
{
    (void)st;
    int seen[2] = {0, 0};
    for (int run = 0; run < 2; run++) {
        tu_mockex_stop(&mx);
        const char *args[] = {"--seed", "42", NULL};
        assert_int_equal(tu_mockex_start(&mx, args), 0);
        assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"http_status\",\"ratio\":0.5,\"params\":{\"status\":500}}"), 0);
        for (int i = 0; i < 20; i++) {
            struct tu_http r;
            get("/fapi/v1/ping", 5000, &r);
            seen[run] = seen[run] * 2 % 1000003 + (r.status == 500);
            tu_http_free(&r);
        }
        long long hits = fault_hits(0);
        assert_true(hits > 0 && hits < 20);
    }
    assert_int_equal(seen[0], seen[1]);
}

static void test_latency(void **st)
{
    (void)st;
    tu_mockex_reset(&mx);
    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"latency\",\"count\":1,\"params\":{\"ms\":400}}"), 0);
    struct tu_http r;
    long long t0 = ms();
    get("/fapi/v1/time", 5000, &r);
    long long dt = ms() - t0;
    assert_int_equal(r.status, 200);
    assert_true(dt >= 390);
    tu_http_free(&r);
    t0 = ms();
    get("/fapi/v1/time", 5000, &r);
    assert_true(ms() - t0 < 390);
    tu_http_free(&r);
}

static void test_resets_and_stall(void **st)
{
    (void)st;
    tu_mockex_reset(&mx);
    struct tu_http r;
    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"reset_before\",\"count\":1}"), 0);
    get("/fapi/v1/time", 5000, &r);
    assert_int_not_equal(r.curl_rc, 0);
    tu_http_free(&r);
    get("/fapi/v1/time", 5000, &r);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);

    /* reset after processing: the listenKey exists though the client saw nothing */
    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"reset_after\",\"count\":1,\"path\":\"/fapi/v1/listenKey\"}"), 0);
    const char *h[] = {"X-MBX-APIKEY: dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83", NULL};
    tu_mockex_http(&mx, mx.ports[0], "POST", "/fapi/v1/listenKey", h, "", 5000, &r);
    assert_int_not_equal(r.curl_rc, 0);
    tu_http_free(&r);
    assert_int_equal(tu_mockex_state_num(&mx, "counters", "binance", "listenkeys_created"), 1);
    assert_int_equal(tu_mockex_state_num(&mx, "counters", "binance", "reset_after_processing"), 1);

    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"stall\",\"count\":1}"), 0);
    long long t0 = ms();
    get("/fapi/v1/time", 600, &r);
    assert_int_not_equal(r.curl_rc, 0); /* timed out */
    assert_true(ms() - t0 >= 550);
    tu_http_free(&r);
    assert_int_equal(tu_mockex_state_num(&mx, "counters", "binance", "stalled_requests"), 1);
}

static void test_bodies(void **st)
{
    (void)st;
    struct tu_http r;
    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"truncate\",\"count\":1}"), 0);
    get("/fapi/v1/exchangeInfo", 5000, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    assert_null(j);
    assert_true(r.body_len > 100);
    tu_http_free(&r);

    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"truncate\",\"count\":1,\"params\":{\"close\":true}}"), 0);
    get("/fapi/v1/exchangeInfo", 5000, &r);
    assert_int_not_equal(r.curl_rc, 0); /* short read: the announced length never arrives */
    tu_http_free(&r);

    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"malformed\",\"count\":1}"), 0);
    get("/fapi/v1/time", 5000, &r);
    assert_int_equal(r.status, 200);
    assert_null(cJSON_Parse(r.body));
    tu_http_free(&r);

    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"oversize\",\"count\":1,\"params\":{\"bytes\":3000000}}"), 0);
    get("/fapi/v1/time", 10000, &r);
    assert_int_equal(r.status, 200);
    assert_true(r.body_len > 3000000);
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "serverTime"));
    cJSON_Delete(j);
    tu_http_free(&r);
}

static void test_refuse(void **st)
{
    (void)st;
    tu_mockex_reset(&mx);
    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"refuse\",\"count\":2}"), 0);
    struct tu_http r;
    for (int i = 0; i < 2; i++) {
        get("/fapi/v1/time", 3000, &r);
        assert_int_not_equal(r.curl_rc, 0);
        tu_http_free(&r);
    }
    get("/fapi/v1/time", 3000, &r);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    cJSON *j = tu_mockex_state(&mx);
    const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "ports"), 0);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "refused")), 2);
    cJSON_Delete(j);
}

static void test_clock_offset(void **st)
{
    (void)st;
    tu_mockex_reset(&mx);
    assert_int_equal(tu_mockex_fault(&mx, "{\"kind\":\"clock_offset\",\"params\":{\"ms\":-60000}}"), 0);
    struct tu_http r;
    get("/fapi/v1/time", 5000, &r);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long now = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    long long st_ms = atoll(strstr(r.body, ":") + 1);
    assert_true(now - st_ms > 55000 && now - st_ms < 65000);
    tu_http_free(&r);
    tu_mockex_reset(&mx);
}

static int raw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)mx.ports[0])};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void test_bad_input(void **st)
{
    (void)st;
    struct tu_http r;
    /* unknown paths: exchange error shape under /fapi, generic JSON elsewhere */
    get("/fapi/v9/nothing", 5000, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"code\":-1000"));
    tu_http_free(&r);
    get("/no/such/thing", 5000, &r);
    assert_int_equal(r.status, 404);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    cJSON_Delete(j);
    tu_http_free(&r);
    /* POSTs with an empty body are answered once (lws reports the
     * completion of a zero-length body as well): no double processing, no
     * leaked answer (the sanitized mock's exit status is checked). */
    tu_mockex_http(&mx, mx.ports[0], "POST", "/exchange", NULL, "", 5000, &r);
    assert_int_equal(r.status, 422);
    tu_http_free(&r);
    tu_mockex_http(&mx, mx.ports[0], "POST", "/fapi/v1/listenKey", NULL, "", 5000, &r);
    assert_non_null(strstr(r.body, "-2014"));
    tu_http_free(&r);
    long long lk0 = tu_mockex_state_num(&mx, "counters", "binance", "listenkeys_created");
    const char *const key_hdr[] = {
        "X-MBX-APIKEY: dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83", NULL};
    tu_mockex_http(&mx, mx.ports[0], "POST", "/fapi/v1/listenKey", key_hdr, "", 5000, &r);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    assert_true(tu_mockex_state_num(&mx, "counters", "binance", "listenkeys_created") == lk0 + 1);
    /* malformed JSON to the control API */
    tu_mockex_http(&mx, mx.ports[0], "POST", "/_mock/faults", NULL, "{\"kind\":", 5000, &r);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    tu_mockex_http(&mx, mx.ports[0], "POST", "/_mock/faults", NULL, "{\"kind\":\"nope\"}", 5000, &r);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    /* bad parameters */
    get("/fapi/v1/depth?symbol=NOPE", 5000, &r);
    assert_non_null(strstr(r.body, "-1121"));
    tu_http_free(&r);
    get("/fapi/v1/depth?symbol=BTCUSDT&limit=7", 5000, &r);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    /* huge header: refused or closed, never a crash */
    size_t big = 200000;
    char *hv = malloc(big + 32);
    strcpy(hv, "X-Big: ");
    memset(hv + 7, 'a', big);
    hv[7 + big] = '\0';
    const char *h[] = {hv, NULL};
    tu_mockex_http(&mx, mx.ports[0], "GET", "/fapi/v1/time", h, NULL, 5000, &r);
    assert_true(r.curl_rc != 0 || r.status >= 400);
    tu_http_free(&r);
    free(hv);
    /* plain HTTP bytes on the TLS port: the connection is closed */
    int fd = raw_connect();
    assert_true(fd >= 0);
    const char *plain = "GET /fapi/v1/time HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_true(write(fd, plain, strlen(plain)) > 0);
    char buf[256];
    ssize_t n;
    long long t0 = ms();
    while ((n = read(fd, buf, sizeof buf)) > 0 && ms() - t0 < 3000) {
    }
    assert_true(n <= 0);
    close(fd);
    /* random garbage too */
    fd = raw_connect();
    assert_true(fd >= 0);
    unsigned char junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    assert_true(write(fd, junk, sizeof junk) > 0);
    while ((n = read(fd, buf, sizeof buf)) > 0) {
    }
    close(fd);
    /* still serving */
    get("/fapi/v1/ping", 5000, &r);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
}

static void test_rate_limit(void **st)
{
    (void)st;
    tu_mockex_stop(&mx);
    const char *args[] = {"--weight-limit", "20", NULL};
    assert_int_equal(tu_mockex_start(&mx, args), 0);
    struct tu_http r;
    int ok = 0, n429 = 0, n418 = 0;
    for (int i = 0; i < 40; i++) {
        get("/fapi/v1/ping", 5000, &r);
        if (r.status == 200)
            ok++;
        else if (r.status == 429) {
            n429++;
            assert_non_null(strstr(r.headers, "retry-after: "));
        } else if (r.status == 418) {
            n418++;
            assert_non_null(strstr(r.body, "banned until"));
        }
        tu_http_free(&r);
    }
    /* the minute window may roll over during the loop: allow one extra batch */
    assert_true(ok == 20 || ok == 40 || (ok > 20 && ok <= 40));
    assert_true(n429 >= 5 || ok == 40);
    assert_true(n418 >= 1 || ok > 20);
    assert_int_equal(tu_mockex_state_num(&mx, "counters", "binance", "http_429"), n429);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_status_count),
        cmocka_unit_test(test_ratio_deterministic),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_resets_and_stall),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_refuse),
        cmocka_unit_test(test_clock_offset),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
