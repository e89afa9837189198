/*
 * tests/unit/test_health.c — endpoint health from checks, check scheduling
 * with jitter, and the instance / gateway aggregate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backoff.h"
#include "health.h"

#define U XGW__HEALTH_UNKNOWN
#define H XGW__HEALTH_HEALTHY
#define DG XGW__HEALTH_DEGRADED
#define UH XGW__HEALTH_UNHEALTHY

/* Sequences of check results and the state after each. */
static void test_transitions(void **state)
{
    (void)state;
    static const struct {
        unsigned max;
        const char *checks; /* 'o' ok, 'x' failed */
        const char *states; /* state after each: 'U', 'H', 'D' (unhealthy) */
    } t[] = {
        {3, "xxx", "UUD"}, /* unknown until the limit */
        {3, "o", "H"},
        {3, "oxxo", "HHHH"},       /* two failures do not flip it */
        {3, "oxxxo", "HHHDH"},     /* exactly three do; one success heals */
        {3, "oxxoxxx", "HHHHHHD"}, /* a success resets the run */
        {1, "oxo", "HDH"},
        {1, "x", "D"},
        {5, "xxxxxxo", "UUUUDDH"},
    };
    for (size_t row = 0; row < sizeof t / sizeof t[0]; row++) {
        struct xgw__ep_health h;
        xgw__health_init(&h, t[row].max, 15000);
        assert_int_equal(h.state, U);
        assert_int_equal(h.last_latency_us, -1);
        assert_string_equal(h.last_error, "");
        enum xgw__health prev = U;
        for (size_t i = 0; t[row].checks[i]; i++) {
            bool ok = t[row].checks[i] == 'o';
            bool changed = xgw__health_record(&h, (int64_t)(i + 1) * 1000, ok, ok ? 1234 : 0,
                                              ok ? NULL : "connect refused");
            char c = t[row].states[i];
            enum xgw__health want = c == 'U' ? U : c == 'H' ? H : UH;
            if (h.state != want || changed != (want != prev))
                fail_msg("row %zu check %zu: state %d changed %d, want %d", row, i, h.state, changed, want);
            prev = want;
        }
        assert_int_equal(h.checks, strlen(t[row].checks));
    }
}

static void test_details_kept(void **state)
{
    (void)state;
    struct xgw__ep_health h;
    xgw__health_init(&h, 2, 15000);
    xgw__health_record(&h, 1000, true, 4321, NULL);
    assert_int_equal(h.last_latency_us, 4321);
    assert_int_equal(h.last_check_ms, 1000);
    xgw__health_record(&h, 2000, false, 0, "timeout after 5000 ms");
    assert_string_equal(h.last_error, "timeout after 5000 ms");
    assert_int_equal(h.consecutive_failures, 1);
    assert_int_equal(h.last_latency_us, 4321); /* the last good latency stays */
    xgw__health_record(&h, 3000, false, 0, NULL);
    assert_string_equal(h.last_error, "health check failed");
    assert_int_equal(h.consecutive_failures, 2);
    assert_int_equal(h.failures, 2);
    char longmsg[600];
    memset(longmsg, 'e', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    xgw__health_record(&h, 4000, false, 0, longmsg); /* bounded copy */
    assert_int_equal(strlen(h.last_error), XGW_ERR_MSG_MAX - 1);
    xgw__health_init(&h, 0, 0); /* clamps */
    assert_int_equal(h.max_failures, 1);
    assert_int_equal(h.interval_ms, 1);
}

/* next check = now + interval +- 10%, uniform, both ends reachable. */
static void test_schedule_jitter(void **state)
{
    (void)state;
    struct xgw__ep_health h;
    xgw__health_init(&h, 3, 15000);
    assert_true(xgw__health_due(&h, 0)); /* first check at once */
    assert_int_equal(xgw__health_schedule(&h, 100000, 0), 100000 + 13500);
    assert_int_equal(xgw__health_schedule(&h, 100000, 3000), 100000 + 16500);
    assert_int_equal(xgw__health_schedule(&h, 100000, 3001), 100000 + 13500);
    assert_false(xgw__health_due(&h, 113499));
    assert_true(xgw__health_due(&h, 113500));
    uint64_t rng = 5;
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 20000; i++) {
        int64_t d = xgw__health_schedule(&h, 0, xgw__splitmix64(&rng));
        assert_true(d >= 13500 && d <= 16500);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_true(lo < 13700 && hi > 16300); /* spread over the whole range */
    xgw__health_init(&h, 3, 5);            /* tiny interval: no jitter, no negative delay */
    assert_int_equal(xgw__health_schedule(&h, 10, 77), 15);
}

static void test_aggregate_table(void **state)
{
    (void)state;
#define C XGW__BRK_CLOSED
#define O XGW__BRK_OPEN
#define HO XGW__BRK_HALF_OPEN
    static const struct {
        size_t n;
        enum xgw__health ep[3];
        enum xgw__brk_state brk[3];
        enum xgw__health want;
    } t[] = {
        {0, {U}, {C}, UH},            /* no endpoint: nothing can serve */
        {3, {U, U, U}, {C, C, C}, U}, /* no check yet */
        {3, {H, H, H}, {C, C, C}, H},
        {3, {H, U, U}, {C, C, C}, H},     /* first round under way */
        {3, {H, UH, H}, {C, C, C}, DG},   /* one endpoint down */
        {3, {H, H, H}, {C, O, C}, DG},    /* a breaker open */
        {3, {H, H, H}, {HO, C, C}, DG},   /* being probed */
        {3, {U, U, U}, {O, C, C}, DG},    /* open breaker before any check */
        {3, {UH, UH, UH}, {C, C, C}, UH}, /* all down */
        {3, {UH, H, U}, {C, O, O}, UH},   /* every one down one way or another */
        {3, {UH, UH, H}, {C, C, HO}, DG}, /* the half-open one may serve */
        {1, {H}, {C}, H},
        {1, {UH}, {C}, UH},
        {1, {H}, {O}, UH},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        enum xgw__health got = xgw__health_aggregate(t[i].ep, t[i].brk, t[i].n);
        if (got != t[i].want)
            fail_msg("row %zu: got %s want %s", i, xgw__health_name(got), xgw__health_name(t[i].want));
    }
    enum xgw__health eps[2] = {H, U};
    assert_int_equal(xgw__health_aggregate(eps, NULL, 2), H); /* no breakers given: closed */
#undef C
#undef O
#undef HO
}

static void test_worst_and_names(void **state)
{
    (void)state;
    static const struct {
        enum xgw__health a, b, want;
    } t[] = {
        {H, H, H},    {H, U, U},   {U, H, U},   {U, DG, DG}, {DG, H, DG},
        {DG, UH, UH}, {UH, H, UH}, {UH, U, UH}, {U, U, U},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        assert_int_equal(xgw__health_worst(t[i].a, t[i].b), t[i].want);
    assert_string_equal(xgw__health_name(H), "HEALTHY");
    assert_string_equal(xgw__health_name(DG), "DEGRADED");
    assert_string_equal(xgw__health_name(UH), "UNHEALTHY");
    assert_string_equal(xgw__health_name(U), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),     cmocka_unit_test(test_details_kept),
        cmocka_unit_test(test_schedule_jitter), cmocka_unit_test(test_aggregate_table),
        cmocka_unit_test(test_worst_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
