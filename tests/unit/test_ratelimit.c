/*
 * tests/unit/test_ratelimit.c — the client-side rate limiter: capacity with
 * margin, fixed windows against a simulated exchange counter (including
 * clock error and latency), rolling windows, header corrections, 429 blocks
 * and 418 bans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backoff.h"
#include "ratelimit.h"

static const struct xgw_rl_bucket weight_1m[] = {{"request_weight_1m", 1200, 60000, false}};

static void test_capacity_with_margin(void **state)
{
    (void)state;
    static const struct {
        uint64_t limit;
        int pct;
        uint64_t want;
    } t[] = {
        {1200, 90, 1080},  {2400, 90, 2160},
        {300, 90, 270},    {10, 90, 9},
        {1, 50, 1},        {0, 90, 1},
        {1200, 100, 1200}, {1200, 150, 1200},
        {1200, 0, 12},     {UINT64_MAX, 90, UINT64_MAX / 100u * 90u + (UINT64_MAX % 100u) * 90u / 100u},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct xgw_rl_bucket d = {"b", t[i].limit, 1000, false};
        struct xgw__rl rl;
        assert_int_equal(xgw__rl_init(&rl, &d, 1, t[i].pct, NULL), 0);
        if (rl.b[0].capacity != t[i].want)
            fail_msg("row %zu: capacity %llu want %llu", i, (unsigned long long)rl.b[0].capacity,
                     (unsigned long long)t[i].want);
        xgw__rl_free(&rl);
    }
    struct xgw__rl rl;
    assert_int_equal(xgw__rl_init(&rl, NULL, 0, 90, NULL), 0); /* no buckets: everything passes */
    struct xgw__rl_verdict v;
    assert_int_equal(xgw__rl_acquire(&rl, NULL, 5, &v), XGW__RL_OK);
    xgw__rl_free(&rl);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The burst: 5,000 calls of weight 1 against 1,200/min with margin
 * 0.9, the caller waiting whenever told to. The simulated exchange counts
 * each request in its own fixed minute, at our send time minus our clock's
 * lead plus the network latency. For every clock error and latency within
 * the guard, no exchange minute may exceed 1,080, and the burst must still
 * finish in about five minutes (the limiter may not just idle). */
static void test_burst_5000_never_exceeds(void **state)
{
    (void)state;
    static const struct {
        int64_t lead_ms; /* our clock minus the exchange's */
        int64_t lat_max; /* latency uniform in [0, lat_max] */
    } t[] = {{0, 0},      {0, 300},  {900, 0},  {-900, 0},  {500, 400},
             {-400, 500}, {1000, 0}, {0, 1000}, {-300, 700}};
    for (size_t row = 0; row < sizeof t / sizeof t[0]; row++) {
        struct xgw__rl rl;
        assert_int_equal(xgw__rl_init(&rl, weight_1m, 1, 90, NULL), 0);
        uint64_t rng = 1234 + row;
        uint64_t per_min[16] = {0};
        int64_t now = 1700000000000 + 12345; /* mid-minute start */
        int64_t first_min = floordiv(now - t[row].lead_ms, 60000);
        uint32_t cost = 1;
        int waits = 0;
        for (int call = 0; call < 5000; call++) {
            struct xgw__rl_verdict v;
            while (xgw__rl_acquire(&rl, &cost, now, &v) != XGW__RL_OK) {
                assert_int_equal(v.rc, XGW__RL_WAIT);
                assert_true(v.wait_ms > 0);
                assert_int_equal(v.until_ms, now + v.wait_ms);
                now = v.until_ms;
                waits++;
            }
            int64_t lat = xgw__rand_upto(xgw__splitmix64(&rng), t[row].lat_max);
            int64_t ex_t = now - t[row].lead_ms + lat;
            int64_t m = floordiv(ex_t, 60000) - first_min;
            assert_true(m >= 0 && m < 16);
            per_min[m]++;
            now += (int64_t)(xgw__splitmix64(&rng) % 3u); /* bursts: 0..2 ms apart */
        }
        uint64_t total = 0;
        for (size_t m = 0; m < 16; m++) {
            if (per_min[m] > 1080)
                fail_msg("row %zu: exchange minute %zu counted %llu > 1080", row, m,
                         (unsigned long long)per_min[m]);
            total += per_min[m];
        }
        assert_int_equal(total, 5000);
        int64_t minutes = floordiv(now - t[row].lead_ms, 60000) - first_min;
        if (minutes > 5)
            fail_msg("row %zu: took %lld minutes", row, (long long)minutes);
        assert_true(waits > 0);
        assert_int_equal(rl.b[0].units_charged, 5000);
        xgw__rl_free(&rl);
    }
}

/* Without waiting (fail fast), a burst gets exactly the capacity through in
 * one window; the rest is told how long to wait. */
static void test_fail_fast_burst(void **state)
{
    (void)state;
    struct xgw__rl rl;
    assert_int_equal(xgw__rl_init(&rl, weight_1m, 1, 90, NULL), 0);
    uint32_t cost = 1;
    int ok = 0;
    int64_t now = 60000 * 100 + 5000;
    for (int i = 0; i < 5000; i++) {
        struct xgw__rl_verdict v;
        if (xgw__rl_acquire(&rl, &cost, now, &v) == XGW__RL_OK) {
            ok++;
        } else {
            assert_int_equal(v.rc, XGW__RL_WAIT);
            assert_int_equal(v.bucket, 0);
            /* the next minute's first second still counts this one */
            assert_int_equal(v.until_ms, 60000 * 101 + 1000);
            assert_false(xgw__rl_should_wait(&v, true, 2000));
            assert_true(xgw__rl_should_wait(&v, true, 600000));
            assert_false(xgw__rl_should_wait(&v, false, 600000));
        }
    }
    assert_int_equal(ok, 1080);
    assert_int_equal(xgw__rl_used(&rl, 0, now), 1080);
    assert_int_equal(rl.b[0].waits, 5000 - 1080);
    xgw__rl_free(&rl);
}

/* The edge guards in detail (interval 60 s, guard 1 s, capacity 1080). */
static void test_fixed_window_edges(void **state)
{
    (void)state;
    struct xgw__rl rl;
    struct xgw__rl_verdict v;
    uint32_t c1 = 1, full = 1080;
    assert_int_equal(xgw__rl_init(&rl, weight_1m, 1, 90, NULL), 0);
    assert_int_equal(rl.b[0].guard_ms, 1000);

    /* everything spent in the last second: the next window is off limits
     * entirely (the exchange may be counting those in its next minute) */
    assert_int_equal(xgw__rl_acquire(&rl, &full, 59000, &v), XGW__RL_OK);
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 59999, &v), XGW__RL_WAIT);
    assert_int_equal(v.until_ms, 120000);
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 60000, &v), XGW__RL_WAIT);
    assert_int_equal(v.until_ms, 120000);
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 119999, &v), XGW__RL_WAIT);
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 120000, &v), XGW__RL_OK);
    xgw__rl_free(&rl);

    /* spent mid-window: the next window opens after its first second */
    assert_int_equal(xgw__rl_init(&rl, weight_1m, 1, 90, NULL), 0);
    assert_int_equal(xgw__rl_acquire(&rl, &full, 10000, &v), XGW__RL_OK);
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 10001, &v), XGW__RL_WAIT);
    assert_int_equal(v.until_ms, 61000);
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 60999, &v), XGW__RL_WAIT);
    assert_int_equal(v.until_ms, 61000);
    assert_int_equal(xgw__rl_acquire(&rl, &full, 61000, &v), XGW__RL_OK);
    xgw__rl_free(&rl);

    /* half spent: the next window's first second may take the other half */
    assert_int_equal(xgw__rl_init(&rl, weight_1m, 1, 90, NULL), 0);
    uint32_t half = 540;
    assert_int_equal(xgw__rl_acquire(&rl, &half, 30000, &v), XGW__RL_OK);
    assert_int_equal(xgw__rl_acquire(&rl, &half, 60000, &v), XGW__RL_OK);
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 60500, &v), XGW__RL_WAIT);
    assert_int_equal(v.until_ms, 61000);
    assert_int_equal(xgw__rl_acquire(&rl, &half, 61000, &v), XGW__RL_OK);
    assert_int_equal(xgw__rl_used(&rl, 0, 61000), 1080);
    /* a gap of several windows forgets everything */
    assert_int_equal(xgw__rl_acquire(&rl, &full, 60000 * 5, &v), XGW__RL_OK);
    /* a clock that jumps backwards does not underflow or crash */
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 1000, &v), XGW__RL_OK);
    xgw__rl_free(&rl);
}

/* Several buckets: all or nothing, the blocking bucket is named. */
static void test_multi_bucket_atomic(void **state)
{
    (void)state;
    static const struct xgw_rl_bucket bn[] = {
        {"request_weight_1m", 2400, 60000, false},
        {"orders_10s", 300, 10000, true},
        {"orders_1m", 1200, 60000, true},
    };
    struct xgw__rl rl;
    struct xgw__rl_verdict v;
    assert_int_equal(xgw__rl_init(&rl, bn, 3, 90, NULL), 0);
    assert_int_equal(rl.b[1].capacity, 270);
    assert_int_equal(rl.b[1].guard_ms, 1000);
    uint32_t place[3] = {0, 1, 1};
    int64_t now = 2000;
    for (int i = 0; i < 270; i++)
        assert_int_equal(xgw__rl_acquire(&rl, place, now, &v), XGW__RL_OK);
    assert_int_equal(xgw__rl_acquire(&rl, place, now, &v), XGW__RL_WAIT);
    assert_int_equal(v.bucket, 1);
    assert_int_equal(v.until_ms, 11000);
    assert_int_equal(xgw__rl_used(&rl, 2, now), 270); /* the failed try charged nothing */
    uint32_t ticker[3] = {1, 0, 0};
    assert_int_equal(xgw__rl_acquire(&rl, ticker, now, &v), XGW__RL_OK);
    assert_int_equal(xgw__rl_used(&rl, 0, now), 1);
    /* give back a charge that was never sent */
    xgw__rl_refund(&rl, place, now);
    assert_int_equal(xgw__rl_used(&rl, 1, now), 269);
    assert_int_equal(xgw__rl_acquire(&rl, place, now, &v), XGW__RL_OK);
    /* a cost above a bucket's capacity can never pass */
    uint32_t huge[3] = {2161, 0, 0};
    assert_int_equal(xgw__rl_acquire(&rl, huge, now, &v), XGW__RL_REFUSE);
    assert_int_equal(v.bucket, 0);
    assert_false(xgw__rl_should_wait(&v, true, 1000000));
    assert_int_equal(rl.b[0].refusals, 1);
    xgw__rl_free(&rl);
}

/* observe(): local usage becomes max(local, reported) in the same window;
 * a report in a window's first guard period raises the previous window. */
static void test_observe_correction(void **state)
{
    (void)state;
    struct xgw__rl rl;
    struct xgw__rl_verdict v;
    uint32_t c10 = 10, c1 = 1;
    assert_int_equal(xgw__rl_init(&rl, weight_1m, 1, 90, NULL), 0);
    assert_int_equal(xgw__rl_acquire(&rl, &c10, 30000, &v), XGW__RL_OK);
    xgw__rl_observe(&rl, 0, 1000, 30050); /* other clients on the same IP */
    assert_int_equal(xgw__rl_used(&rl, 0, 30050), 1000);
    assert_int_equal(rl.b[0].last_reported, 1000);
    xgw__rl_observe(&rl, 0, 5, 30060); /* lower reports never lower it */
    assert_int_equal(xgw__rl_used(&rl, 0, 30060), 1000);
    uint32_t c80 = 80, c81 = 81;
    assert_int_equal(xgw__rl_acquire(&rl, &c81, 30070, &v), XGW__RL_WAIT);
    assert_int_equal(xgw__rl_acquire(&rl, &c80, 30070, &v), XGW__RL_OK);

    /* early in the next window: a high report belongs to the old minute */
    xgw__rl_observe(&rl, 0, 1075, 60200);
    assert_int_equal(xgw__rl_used(&rl, 0, 60200), 0);
    assert_int_equal(rl.b[0].prev_used, 1080);
    xgw__rl_observe(&rl, 0, 1200, 60300);
    assert_int_equal(rl.b[0].prev_used, 1200);
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 60400, &v), XGW__RL_WAIT);
    assert_int_equal(v.until_ms, 61000); /* not the whole minute */
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 61000, &v), XGW__RL_OK);
    xgw__rl_observe(&rl, 0, 300, 61100);
    assert_int_equal(xgw__rl_used(&rl, 0, 61100), 300);

    /* reports for undeclared buckets are ignored */
    xgw__rl_observe(&rl, 7, 99999, 61200);
    assert_int_equal(xgw__rl_used(&rl, 7, 61200), 0);
    xgw__rl_free(&rl);
}

/* 429: one bucket (or all) stops until Retry-After; 418: everything stops. */
static void test_block_and_ban(void **state)
{
    (void)state;
    static const struct xgw_rl_bucket bn[] = {
        {"request_weight_1m", 2400, 60000, false},
        {"orders_10s", 300, 10000, true},
    };
    struct xgw__rl rl;
    struct xgw__rl_verdict v;
    uint32_t read[2] = {1, 0}, place[2] = {0, 1}, both[2] = {1, 1};
    assert_int_equal(xgw__rl_init(&rl, bn, 2, 90, NULL), 0);

    int64_t now = 1000000;
    xgw__rl_block(&rl, 0, now + 2000, now); /* 429, Retry-After: 2 */
    for (int64_t t = now; t < now + 2000; t += 250) {
        assert_int_equal(xgw__rl_acquire(&rl, read, t, &v), XGW__RL_BLOCKED);
        assert_int_equal(v.until_ms, now + 2000);
        assert_int_equal(v.wait_ms, now + 2000 - t);
        assert_int_equal(v.bucket, 0);
        assert_int_equal(xgw__rl_acquire(&rl, place, t, &v), XGW__RL_OK); /* other bucket flows */
    }
    assert_true(
        xgw__rl_should_wait(&(struct xgw__rl_verdict){.rc = XGW__RL_BLOCKED, .wait_ms = 2000}, true, 2000));
    assert_int_equal(xgw__rl_acquire(&rl, read, now + 2000, &v), XGW__RL_OK);
    /* a shorter block never shortens a longer one */
    xgw__rl_block(&rl, 0, now + 10000, now + 2000);
    xgw__rl_block(&rl, 0, now + 3000, now + 2000);
    assert_int_equal(xgw__rl_acquire(&rl, read, now + 9999, &v), XGW__RL_BLOCKED);
    /* all buckets, no Retry-After: each until its window ends */
    xgw__rl_block(&rl, XGW__RL_ALL, 0, 1234567);
    assert_int_equal(rl.b[0].blocked_until_ms, 1260000);
    assert_int_equal(rl.b[1].blocked_until_ms, 1240000);
    assert_int_equal(xgw__rl_acquire(&rl, both, 1234567, &v), XGW__RL_BLOCKED);
    assert_int_equal(v.until_ms, 1260000); /* the longest block decides */
    assert_int_equal(xgw__rl_acquire(&rl, place, 1240000, &v), XGW__RL_OK);
    assert_int_equal(rl.b[0].blocks, 4);

    /* 418 with the ban's end: nothing passes, not even zero-cost calls */
    int64_t t0 = 2000000, until = 2000000 + 120000;
    xgw__rl_ban(&rl, until, t0);
    uint32_t none[2] = {0, 0};
    for (int64_t t = t0; t < until; t += 7919) {
        assert_int_equal(xgw__rl_acquire(&rl, none, t, &v), XGW__RL_BANNED);
        assert_int_equal(v.until_ms, until);
        assert_int_equal(v.bucket, XGW__RL_ALL);
        assert_false(xgw__rl_should_wait(&v, true, INT64_MAX));
    }
    assert_int_equal(xgw__rl_acquire(&rl, read, until, &v), XGW__RL_OK);
    /* unknown end: the shortest ban Binance gives */
    xgw__rl_ban(&rl, 0, 3000000);
    assert_int_equal(rl.banned_until_ms, 3000000 + XGW__RL_BAN_DEFAULT_MS);
    xgw__rl_ban(&rl, 3000001, 3000000); /* never shortened */
    assert_int_equal(rl.banned_until_ms, 3000000 + XGW__RL_BAN_DEFAULT_MS);
    assert_int_equal(rl.bans, 3);
    xgw__rl_free(&rl);
}

/* Rolling window: every interval-long span holds at most capacity units,
 * whatever its alignment; waiting until told keeps throughput. */
static void test_rolling_window(void **state)
{
    (void)state;
    static const struct xgw_rl_bucket d[] = {{"weight_1s", 100, 1000, false}};
    enum xgw__rl_window mode = XGW__RL_ROLLING;
    struct xgw__rl rl;
    struct xgw__rl_verdict v;
    assert_int_equal(xgw__rl_init(&rl, d, 1, 100, &mode), 0);
    assert_int_equal(rl.b[0].window, XGW__RL_ROLLING);
    enum { N = 3000 };
    int64_t *sent = calloc(N, sizeof *sent);
    assert_non_null(sent);
    uint64_t rng = 99;
    int64_t now = 500;
    for (int i = 0; i < N; i++) {
        uint32_t cost = 1;
        while (xgw__rl_acquire(&rl, &cost, now, &v) != XGW__RL_OK) {
            assert_int_equal(v.rc, XGW__RL_WAIT);
            assert_true(v.wait_ms > 0 && v.wait_ms <= 1100);
            now = v.until_ms;
        }
        sent[i] = now;
        now += (int64_t)(xgw__splitmix64(&rng) % 20u);
    }
    /* brute force: any window [s, s + 1000) */
    size_t lo = 0;
    for (size_t hi = 0; hi < N; hi++) {
        while (sent[hi] - sent[lo] >= 1000)
            lo++;
        if (hi - lo + 1 > 100)
            fail_msg("rolling: %zu sends in [%lld, %lld]", hi - lo + 1, (long long)sent[lo],
                     (long long)sent[hi]);
    }
    /* and not too conservative: 3000 units at 100/s within ~35 s */
    assert_true(sent[N - 1] - sent[0] < 35000);
    free(sent);

    /* observe() raises the estimate; block without Retry-After lasts one interval */
    xgw__rl_free(&rl);
    assert_int_equal(xgw__rl_init(&rl, d, 1, 100, &mode), 0);
    uint32_t c1 = 1;
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 10000, &v), XGW__RL_OK);
    xgw__rl_observe(&rl, 0, 100, 10010);
    assert_int_equal(xgw__rl_used(&rl, 0, 10010), 100);
    assert_int_equal(xgw__rl_acquire(&rl, &c1, 10020, &v), XGW__RL_WAIT);
    xgw__rl_observe(&rl, 0, 50, 10030);
    assert_int_equal(xgw__rl_used(&rl, 0, 10030), 100);
    xgw__rl_refund(&rl, &c1, 10030);
    assert_int_equal(xgw__rl_used(&rl, 0, 10030), 99);
    assert_int_equal(xgw__rl_used(&rl, 0, 12000), 0);
    xgw__rl_block(&rl, 0, 0, 20000);
    assert_int_equal(rl.b[0].blocked_until_ms, 21000);
    xgw__rl_free(&rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_with_margin), cmocka_unit_test(test_burst_5000_never_exceeds),
        cmocka_unit_test(test_fail_fast_burst),      cmocka_unit_test(test_fixed_window_edges),
        cmocka_unit_test(test_multi_bucket_atomic),  cmocka_unit_test(test_observe_correction),
        cmocka_unit_test(test_block_and_ban),        cmocka_unit_test(test_rolling_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
