/*
 * tests/unit/test_backoff.c — capped exponential backoff with full jitter,
 * with an injected random source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backoff.h"

static void test_cap_table(void **state)
{
    (void)state;
    static const struct {
        int64_t base, max;
        unsigned attempt;
        int64_t want;
    } t[] = {
        {100, 5000, 0, 100},
        {100, 5000, 1, 200},
        {100, 5000, 2, 400},
        {100, 5000, 5, 3200},
        {100, 5000, 6, 5000},
        {100, 5000, 63, 5000},
        {100, 5000, 64, 5000},
        {100, 5000, 4000000000u, 5000},
        {5000, 5000, 0, 5000},
        {6000, 5000, 3, 5000},
        {0, 5000, 3, 0},
        {1, INT64_MAX, 62, INT64_C(1) << 62},
        {1, INT64_MAX, 63, INT64_MAX},
        {1, INT64_MAX, 200, INT64_MAX},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t got = xgw__backoff_cap(t[i].base, t[i].max, t[i].attempt);
        if (got != t[i].want)
            fail_msg("row %zu: cap(%lld,%lld,%u)=%lld want %lld", i, (long long)t[i].base,
                     (long long)t[i].max, t[i].attempt, (long long)got, (long long)t[i].want);
    }
}

/* Full jitter: r picks uniformly in [0, cap]; both ends reachable; the
 * Retry-After floor wins, uncapped. */
static void test_delay_table(void **state)
{
    (void)state;
    static const struct {
        unsigned attempt;
        uint64_t r;
        int64_t retry_after, want;
    } t[] = {
        {0, 0, 0, 0},        {0, 100, 0, 100},
        {0, 101, 0, 0},      {0, 150, 0, 49},
        {3, 800, 0, 800},    {3, 801, 0, 0},
        {10, 5000, 0, 5000}, {10, UINT64_MAX, 0, (int64_t)(UINT64_MAX % 5001u)},
        {0, 50, 2000, 2000}, {10, 5000, 60000, 60000},
        {2, 399, 100, 399},  {2, 0, -1, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t got = xgw__backoff_delay(100, 5000, t[i].attempt, t[i].r, t[i].retry_after);
        if (got != t[i].want)
            fail_msg("row %zu: got %lld want %lld", i, (long long)got, (long long)t[i].want);
    }
}

struct seq {
    const uint64_t *v;
    size_t n, i;
};

static uint64_t seq_next(void *ud)
{
    struct seq *s = ud;
    return s->v[s->i++ % s->n];
}

static void test_sequence_with_injected_rand(void **state)
{
    (void)state;
    static const uint64_t vals[] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
                                    UINT64_MAX, UINT64_MAX, UINT64_MAX};
    struct seq s = {vals, 7, 0};
    struct xgw__backoff b;
    xgw__backoff_init(&b, 100, 1000, seq_next, &s, 0);
    /* UINT64_MAX % (cap+1) for caps 100, 200, 400, 800, 1000, 1000 */
    int64_t caps[] = {100, 200, 400, 800, 1000, 1000};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(xgw__backoff_next(&b, 0), (int64_t)(UINT64_MAX % (uint64_t)(caps[i] + 1)));
    assert_int_equal(b.attempt, 6);
    xgw__backoff_reset(&b);
    assert_int_equal(xgw__backoff_next(&b, 0), (int64_t)(UINT64_MAX % 101u));
    assert_int_equal(xgw__backoff_next(&b, 3000), 3000); /* retry-after floor */
}

/* With the built-in generator: every delay within [0, cap], both halves of
 * the range used, deterministic per seed, different across seeds. */
static void test_builtin_bounds_and_spread(void **state)
{
    (void)state;
    struct xgw__backoff a, b, c;
    xgw__backoff_init(&a, 100, 5000, NULL, NULL, 42);
    xgw__backoff_init(&b, 100, 5000, NULL, NULL, 42);
    xgw__backoff_init(&c, 100, 5000, NULL, NULL, 43);
    bool differs = false;
    for (int rep = 0; rep < 2000; rep++) {
        xgw__backoff_reset(&a);
        xgw__backoff_reset(&b);
        xgw__backoff_reset(&c);
        for (unsigned k = 0; k < 8; k++) {
            int64_t cap = xgw__backoff_cap(100, 5000, k);
            int64_t da = xgw__backoff_next(&a, 0), db = xgw__backoff_next(&b, 0),
                    dc = xgw__backoff_next(&c, 0);
            assert_true(da >= 0 && da <= cap);
            assert_true(dc >= 0 && dc <= cap);
            assert_int_equal(da, db);
            differs |= da != dc;
        }
    }
    assert_true(differs);
    /* spread: over many draws at the cap, both the lowest and highest tenth occur */
    xgw__backoff_init(&a, 5000, 5000, NULL, NULL, 7);
    int low = 0, high = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t d = xgw__backoff_next(&a, 0);
        assert_true(d >= 0 && d <= 5000);
        low += d < 500;
        high += d > 4500;
    }
    assert_true(low > 500 && high > 500);
    /* a copied struct keeps working (no pointer into itself) */
    struct xgw__backoff copy = a;
    assert_int_equal(xgw__backoff_next(&copy, 0), xgw__backoff_next(&a, 0));
}

static void test_rand_upto_and_init_clamps(void **state)
{
    (void)state;
    assert_int_equal(xgw__rand_upto(12345, 0), 0);
    assert_int_equal(xgw__rand_upto(12345, -7), 0);
    assert_int_equal(xgw__rand_upto(10, 10), 10);
    assert_int_equal(xgw__rand_upto(11, 10), 0);
    struct xgw__backoff b;
    xgw__backoff_init(&b, -5, -10, NULL, NULL, 1);
    assert_int_equal(b.base_ms, 0);
    assert_int_equal(b.max_ms, 0);
    assert_int_equal(xgw__backoff_next(&b, 0), 0);
    xgw__backoff_init(&b, 500, 100, NULL, NULL, 1);
    assert_int_equal(b.max_ms, 500);
    uint64_t st = 0;
    uint64_t r1 = xgw__splitmix64(&st), r2 = xgw__splitmix64(&st);
    assert_true(r1 != r2);
    st = 0;
    assert_true(xgw__splitmix64_fn(&st) == r1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_table),
        cmocka_unit_test(test_delay_table),
        cmocka_unit_test(test_sequence_with_injected_rand),
        cmocka_unit_test(test_builtin_bounds_and_spread),
        cmocka_unit_test(test_rand_upto_and_init_clamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
