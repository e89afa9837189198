/*
 * tests/unit/test_failover.c — endpoint choice over breakers and health,
 * failover counting per pair, and traffic returning to the preferred
 * endpoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "failover.h"

static const struct xgw__fo_cfg cfg = {
    .breaker_failures = 5,
    .breaker_recovery_ms = 30000,
    .breaker_recovery_max_ms = 300000,
    .health_max_failures = 3,
    .health_interval_ms = 15000,
};

static void open_breaker(struct xgw__failover *fo, size_t i, int64_t now)
{
    for (unsigned k = 0; k < cfg.breaker_failures; k++)
        xgw__failover_record(fo, i, XGW__BRK_PASS, true, now);
    assert_int_equal(xgw__breaker_state(&fo->ep[i].breaker, now), XGW__BRK_OPEN);
}

static void mark_unhealthy(struct xgw__failover *fo, size_t i, int64_t now)
{
    for (unsigned k = 0; k < cfg.health_max_failures; k++)
        xgw__health_record(&fo->ep[i].health, now, false, 0, "refused");
    assert_int_equal(fo->ep[i].health.state, XGW__HEALTH_UNHEALTHY);
}

/* Table: setup of 3 endpoints (health, breaker open?, probe out?), the
 * call's tried mask and previous endpoint, and the expected choice. */
static void test_choice_table(void **state)
{
    (void)state;
    enum { OK_ = 0, UNH = 1, OPEN = 2, PROBING = 3 };
    static const struct {
        int setup[3];
        uint64_t tried;
        int prev;
        int want;
    } t[] = {
        {{OK_, OK_, OK_}, 0, -1, 0},     {{OPEN, OK_, OK_}, 0, -1, 1},    {{UNH, OK_, OK_}, 0, -1, 1},
        {{UNH, UNH, OK_}, 0, -1, 2},     {{UNH, UNH, UNH}, 0, -1, 0}, /* none healthy: try anyway, in order */
        {{OPEN, UNH, UNH}, 0, -1, 1},    {{OPEN, OPEN, OPEN}, 0, -1, -1}, /* fail fast */
        {{PROBING, OK_, OK_}, 0, -1, 1},                                  /* probe slot taken */
        {{OK_, OK_, OK_}, 1, 0, 1},                                       /* retry within the call moves on */
        {{OK_, OK_, OK_}, 3, 1, 2},      {{OK_, OK_, OK_}, 7, 2, 0}, /* all tried: back to the preferred */
        {{OK_, UNH, OK_}, 5, 2, 1}, /* untried unhealthy beats tried healthy */
        {{UNH, OK_, OK_}, 6, 2, 0},      {{OK_, OPEN, OPEN}, 1, 0, 0}, /* the only admitting endpoint, tried
                                                                          or not */
        {{UNH, OK_, OPEN}, 3, 1, 1}, /* tried & healthy beats tried & unhealthy */
    };
    for (size_t row = 0; row < sizeof t / sizeof t[0]; row++) {
        struct xgw__failover fo;
        assert_int_equal(xgw__failover_init(&fo, 3, &cfg), 0);
        int64_t now = 1000;
        for (size_t i = 0; i < 3; i++) {
            if (t[row].setup[i] == UNH)
                mark_unhealthy(&fo, i, now);
            if (t[row].setup[i] == OPEN || t[row].setup[i] == PROBING)
                open_breaker(&fo, i, now);
        }
        now += 10000;
        if (t[row].setup[0] == PROBING) {
            now += cfg.breaker_recovery_ms;
            assert_int_equal(xgw__breaker_admit(&fo.ep[0].breaker, now), XGW__BRK_PROBE);
        }
        struct xgw__fo_choice ch;
        int got = xgw__failover_choose(&fo, t[row].tried, t[row].prev, now, &ch);
        if (got != t[row].want)
            fail_msg("row %zu: chose %d, want %d", row, got, t[row].want);
        assert_int_equal(ch.index, got);
        if (got >= 0) {
            assert_int_equal(ch.admit, XGW__BRK_PASS);
            size_t from = t[row].prev >= 0 ? (size_t)t[row].prev : 0;
            assert_int_equal(xgw__failover_count(&fo, from, (size_t)got), from != (size_t)got ? 1 : 0);
        } else {
            assert_int_equal(ch.admit, XGW__BRK_DENY);
            assert_int_equal(ch.retry_in_ms, cfg.breaker_recovery_ms - 10000);
        }
        xgw__failover_free(&fo);
    }
}

/* The scenario: a 503 storm on the first of three endpoints opens its
 * breaker after exactly breaker_failures failures; reads keep succeeding on
 * the second; after the recovery time one probe goes back to the first, and
 * when it succeeds all traffic returns there. */
static void test_storm_failover_and_return(void **state)
{
    (void)state;
    struct xgw__failover fo;
    assert_int_equal(xgw__failover_init(&fo, 3, &cfg), 0);
    int64_t now = 1000000;
    struct xgw__fo_choice ch;
    unsigned served_by[3] = {0}, reached0 = 0;
    /* Each call: try, and on an endpoint fault retry within the call. */
    for (int call = 0; call < 40; call++, now += 100) {
        uint64_t tried = 0;
        int prev = -1;
        for (int attempt = 0; attempt < 3; attempt++) {
            int i = xgw__failover_choose(&fo, tried, prev, now, &ch);
            assert_true(i >= 0);
            bool fault = i == 0; /* endpoint 0 answers 503 */
            reached0 += i == 0;
            bool changed = xgw__failover_record(&fo, (size_t)i, ch.admit, fault, now);
            if (i == 0 && changed)
                assert_int_equal(fo.ep[0].breaker.entered[XGW__BRK_OPEN], 1);
            if (!fault) {
                served_by[i]++;
                break;
            }
            tried |= UINT64_C(1) << i;
            prev = i;
        }
    }
    assert_int_equal(served_by[1], 40); /* no call failed */
    assert_int_equal(served_by[2], 0);
    /* exactly breaker_failures calls reached endpoint 0, then it was skipped */
    assert_int_equal(reached0, cfg.breaker_failures);
    assert_int_equal(xgw__failover_count(&fo, 0, 1), 40);
    assert_int_equal(fo.ep[0].breaker.entered[XGW__BRK_OPEN], 1);
    assert_int_equal(xgw__failover_health(&fo, now), XGW__HEALTH_DEGRADED);

    /* recovery time passes: the next request probes endpoint 0 */
    now = fo.ep[0].breaker.half_open_ms;
    int i = xgw__failover_choose(&fo, 0, -1, now, &ch);
    assert_int_equal(i, 0);
    assert_int_equal(ch.admit, XGW__BRK_PROBE);
    /* while the probe is out, others go to endpoint 1 */
    struct xgw__fo_choice ch2;
    assert_int_equal(xgw__failover_choose(&fo, 0, -1, now, &ch2), 1);
    xgw__failover_record(&fo, 1, ch2.admit, false, now);
    /* the probe succeeds: closed, traffic returns */
    assert_true(xgw__failover_record(&fo, 0, ch.admit, false, now + 50));
    assert_int_equal(xgw__breaker_state(&fo.ep[0].breaker, now + 50), XGW__BRK_CLOSED);
    uint64_t pairs_before = xgw__failover_count(&fo, 0, 1);
    for (int k = 0; k < 10; k++) {
        assert_int_equal(xgw__failover_choose(&fo, 0, -1, now + 100 + k, &ch), 0);
        xgw__failover_record(&fo, 0, ch.admit, false, now + 100 + k);
    }
    assert_int_equal(xgw__failover_count(&fo, 0, 1), pairs_before);
    for (size_t e = 0; e < 3; e++)
        xgw__health_record(&fo.ep[e].health, now, true, 1000, NULL);
    assert_int_equal(xgw__failover_health(&fo, now + 200), XGW__HEALTH_HEALTHY);
    xgw__failover_free(&fo);
}

/* A probe that was never sent is given back; the next request probes. */
static void test_cancel_and_bounds(void **state)
{
    (void)state;
    struct xgw__failover fo;
    assert_int_equal(xgw__failover_init(&fo, 1, &cfg), 0);
    open_breaker(&fo, 0, 0);
    struct xgw__fo_choice ch;
    assert_int_equal(xgw__failover_choose(&fo, 0, -1, 29999, &ch), -1);
    assert_int_equal(ch.retry_in_ms, 1);
    assert_int_equal(xgw__failover_choose(&fo, 0, -1, 30000, &ch), 0);
    assert_int_equal(ch.admit, XGW__BRK_PROBE);
    assert_int_equal(xgw__failover_choose(&fo, 0, -1, 30001, &ch), -1);
    assert_int_equal(ch.retry_in_ms, 30000); /* probe out: a guess, never 0 */
    xgw__failover_cancel(&fo, 0, XGW__BRK_PROBE);
    assert_int_equal(xgw__failover_choose(&fo, 0, -1, 30002, &ch), 0);
    assert_int_equal(ch.admit, XGW__BRK_PROBE);
    assert_int_equal(xgw__failover_health(&fo, 30002), XGW__HEALTH_DEGRADED);
    assert_true(xgw__failover_record(&fo, 0, ch.admit, true, 30003)); /* re-opens, 60 s */
    assert_int_equal(xgw__failover_health(&fo, 30003), XGW__HEALTH_UNHEALTHY);
    assert_int_equal(xgw__failover_choose(&fo, 0, -1, 30003 + 59999, &ch), -1);
    /* out of range indexes are harmless */
    assert_false(xgw__failover_record(&fo, 5, XGW__BRK_PASS, true, 0));
    xgw__failover_cancel(&fo, 5, XGW__BRK_PROBE);
    assert_int_equal(xgw__failover_count(&fo, 0, 5), 0);
    xgw__failover_free(&fo);

    assert_int_equal(xgw__failover_init(&fo, 0, &cfg), XGW_ERR_CONFIG);
    assert_int_equal(xgw__failover_init(&fo, XGW__FO_MAX_EPS + 1, &cfg), XGW_ERR_CONFIG);
    assert_int_equal(xgw__failover_init(&fo, XGW__FO_MAX_EPS, &cfg), 0);
    struct xgw__fo_choice c64;
    assert_int_equal(xgw__failover_choose(&fo, ~UINT64_C(0) >> 1, 62, 0, &c64), 63);
    assert_int_equal(xgw__failover_count(&fo, 62, 63), 1);
    xgw__failover_free(&fo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choice_table),
        cmocka_unit_test(test_storm_failover_and_return),
        cmocka_unit_test(test_cancel_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
