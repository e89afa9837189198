/*
 * tests/unit/test_breaker.c — the per-endpoint circuit breaker, driven by
 * scripts of (time, event, expectation) with explicit time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "breaker.h"

enum ev { ADMIT, WOULD, REC, CANCEL, STATE, RETRY_IN, RECOVERY, END };

struct step {
    enum ev ev;
    int64_t t;
    int arg;      /* REC/CANCEL: enum xgw__brk_admit; */
    bool fault;   /* REC */
    int64_t want; /* ADMIT: admit; WOULD: bool; REC: changed; STATE: state; RETRY_IN/RECOVERY: ms */
};

struct change {
    enum xgw__brk_state from, to;
    int64_t t;
};

struct log {
    struct change c[64];
    size_t n;
};

static void on_change(void *ud, const struct xgw__breaker *b, enum xgw__brk_state from,
                      enum xgw__brk_state to, int64_t now_ms)
{
    struct log *l = ud;
    assert_non_null(b);
    assert_true(l->n < 64);
    l->c[l->n++] = (struct change){from, to, now_ms};
}

static void run(struct xgw__breaker *b, const struct step *s, const char *name)
{
    for (size_t i = 0; s[i].ev != END; i++) {
        int64_t got = 0;
        switch (s[i].ev) {
        case ADMIT:
            got = xgw__breaker_admit(b, s[i].t);
            break;
        case WOULD:
            got = xgw__breaker_would_admit(b, s[i].t);
            break;
        case REC:
            got = xgw__breaker_record(b, s[i].t, (enum xgw__brk_admit)s[i].arg, s[i].fault);
            break;
        case CANCEL:
            xgw__breaker_cancel(b, (enum xgw__brk_admit)s[i].arg);
            got = s[i].want;
            break;
        case STATE:
            got = xgw__breaker_state(b, s[i].t);
            break;
        case RETRY_IN:
            got = xgw__breaker_retry_in_ms(b, s[i].t);
            break;
        case RECOVERY:
            got = b->recovery_ms;
            break;
        case END:
            break;
        }
        if (got != s[i].want)
            fail_msg("%s: step %zu (ev %d at t=%lld): got %lld, want %lld", name, i, (int)s[i].ev,
                     (long long)s[i].t, (long long)got, (long long)s[i].want);
    }
}

#define P XGW__BRK_PASS
#define PR XGW__BRK_PROBE
#define D XGW__BRK_DENY

/* Exactly `failures` consecutive endpoint faults open it, for several thresholds. */
static void test_opens_after_exactly_n(void **state)
{
    (void)state;
    for (unsigned n = 1; n <= 7; n++) {
        struct xgw__breaker b;
        struct log l = {0};
        xgw__breaker_init(&b, n, 30000, 300000);
        xgw__breaker_set_listener(&b, on_change, &l);
        for (unsigned i = 1; i < n; i++) {
            assert_int_equal(xgw__breaker_admit(&b, i), XGW__BRK_PASS);
            assert_false(xgw__breaker_record(&b, i, XGW__BRK_PASS, true));
            assert_int_equal(xgw__breaker_state(&b, i), XGW__BRK_CLOSED);
        }
        assert_int_equal(xgw__breaker_admit(&b, 100), XGW__BRK_PASS);
        assert_true(xgw__breaker_record(&b, 100, XGW__BRK_PASS, true));
        assert_int_equal(xgw__breaker_state(&b, 100), XGW__BRK_OPEN);
        assert_int_equal(xgw__breaker_admit(&b, 101), XGW__BRK_DENY);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.c[0].from, XGW__BRK_CLOSED);
        assert_int_equal(l.c[0].to, XGW__BRK_OPEN);
        assert_int_equal(l.c[0].t, 100);
        assert_int_equal(b.entered[XGW__BRK_OPEN], 1);
        assert_int_equal(b.denied, 1);
    }
}

/* Successes and every non-fault answer (business refusal, auth, rate limit:
 * the caller passes fault=false) reset the run; they never count. */
static void test_non_faults_never_count(void **state)
{
    (void)state;
    static const struct step s[] = {
        {REC, 1, P, true, 0},
        {REC, 2, P, true, 0},
        {REC, 3, P, true, 0},
        {REC, 4, P, true, 0},
        {REC, 5, P, false, 0}, /* e.g. REJECTED: the endpoint answered */
        {REC, 6, P, true, 0},
        {REC, 7, P, true, 0},
        {REC, 8, P, true, 0},
        {REC, 9, P, true, 0},
        {STATE, 9, 0, 0, XGW__BRK_CLOSED},
        {REC, 10, P, true, 1}, /* fifth in a row */
        {STATE, 10, 0, 0, XGW__BRK_OPEN},
        {END, 0, 0, 0, 0},
    };
    struct xgw__breaker b;
    xgw__breaker_init(&b, 5, 30000, 300000);
    run(&b, s, "reset");

    xgw__breaker_init(&b, 5, 30000, 300000);
    for (int i = 0; i < 10000; i++)
        assert_false(xgw__breaker_record(&b, i, XGW__BRK_PASS, false));
    assert_int_equal(xgw__breaker_state(&b, 10000), XGW__BRK_CLOSED);
    assert_int_equal(b.consecutive, 0);
}

/* open -> half-open after recovery; one probe at a time; success closes and
 * resets the recovery time; failure re-opens with doubling capped at max. */
static void test_half_open_probe_and_doubling(void **state)
{
    (void)state;
    static const struct step s[] = {
        {REC, 0, P, true, 0},
        {REC, 1000, P, true, 1}, /* opens at 1000, recovery 30 s */
        {RETRY_IN, 1000, 0, 0, 30000},
        {ADMIT, 30999, 0, 0, D},
        {RETRY_IN, 30999, 0, 0, 1},
        {STATE, 30999, 0, 0, XGW__BRK_OPEN},
        {STATE, 31000, 0, 0, XGW__BRK_HALF_OPEN},
        {WOULD, 31000, 0, 0, 1}, /* peeking claims nothing */
        {WOULD, 31000, 0, 0, 1},
        {ADMIT, 31000, 0, 0, PR},
        {ADMIT, 31001, 0, 0, D}, /* exactly one probe */
        {WOULD, 31001, 0, 0, 0},
        {RETRY_IN, 31001, 0, 0, 30000},
        {REC, 31500, PR, true, 1}, /* probe failed: open, 60 s */
        {RECOVERY, 0, 0, 0, 60000},
        {STATE, 91499, 0, 0, XGW__BRK_OPEN},
        {ADMIT, 91500, 0, 0, PR},
        {REC, 91600, PR, true, 1}, /* 120 s */
        {RECOVERY, 0, 0, 0, 120000},
        {ADMIT, 211600, 0, 0, PR},
        {REC, 211600, PR, true, 1}, /* 240 s */
        {RECOVERY, 0, 0, 0, 240000},
        {ADMIT, 451600, 0, 0, PR},
        {REC, 451600, PR, true, 1}, /* 480 -> capped 300 s */
        {RECOVERY, 0, 0, 0, 300000},
        {ADMIT, 751600, 0, 0, PR},
        {REC, 751600, PR, true, 1}, /* stays at the cap */
        {RECOVERY, 0, 0, 0, 300000},
        {STATE, 1051599, 0, 0, XGW__BRK_OPEN},
        {ADMIT, 1051600, 0, 0, PR},
        {REC, 1051700, PR, false, 1}, /* probe succeeded: closed, recovery reset */
        {STATE, 1051700, 0, 0, XGW__BRK_CLOSED},
        {RECOVERY, 0, 0, 0, 30000},
        {ADMIT, 1051701, 0, 0, P},
        /* and it needs the full count again */
        {REC, 1051800, P, true, 0},
        {REC, 1051900, P, true, 1},
        {RETRY_IN, 1051900, 0, 0, 30000},
        {END, 0, 0, 0, 0},
    };
    struct xgw__breaker b;
    struct log l = {0};
    xgw__breaker_init(&b, 2, 30000, 300000);
    xgw__breaker_set_listener(&b, on_change, &l);
    run(&b, s, "probe");
    /* closed->open, then (half->open) x5 with a half-open before each, half->closed, closed->open */
    static const enum xgw__brk_state want[][2] = {
        {XGW__BRK_CLOSED, XGW__BRK_OPEN},      {XGW__BRK_OPEN, XGW__BRK_HALF_OPEN},
        {XGW__BRK_HALF_OPEN, XGW__BRK_OPEN},   {XGW__BRK_OPEN, XGW__BRK_HALF_OPEN},
        {XGW__BRK_HALF_OPEN, XGW__BRK_OPEN},   {XGW__BRK_OPEN, XGW__BRK_HALF_OPEN},
        {XGW__BRK_HALF_OPEN, XGW__BRK_OPEN},   {XGW__BRK_OPEN, XGW__BRK_HALF_OPEN},
        {XGW__BRK_HALF_OPEN, XGW__BRK_OPEN},   {XGW__BRK_OPEN, XGW__BRK_HALF_OPEN},
        {XGW__BRK_HALF_OPEN, XGW__BRK_OPEN},   {XGW__BRK_OPEN, XGW__BRK_HALF_OPEN},
        {XGW__BRK_HALF_OPEN, XGW__BRK_CLOSED}, {XGW__BRK_CLOSED, XGW__BRK_OPEN},
    };
    assert_int_equal(l.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(l.c[i].from, want[i][0]);
        assert_int_equal(l.c[i].to, want[i][1]);
    }
    assert_int_equal(l.c[1].t, 31000); /* half-open noticed when first asked */
}

/* Outcomes of requests admitted before the breaker opened do not decide
 * anything once it is open or half-open; a cancelled probe frees the slot. */
static void test_stale_results_and_cancel(void **state)
{
    (void)state;
    static const struct step s[] = {
        {ADMIT, 0, 0, 0, P},
        {ADMIT, 0, 0, 0, P},
        {ADMIT, 0, 0, 0, P}, /* three in flight */
        {REC, 10, P, true, 0},
        {REC, 20, P, true, 1},  /* opens */
        {REC, 30, P, false, 0}, /* the third one succeeded late: ignored */
        {STATE, 30, 0, 0, XGW__BRK_OPEN},
        {REC, 40, P, true, 0}, /* more stale faults: ignored, no re-open */
        {RETRY_IN, 40, 0, 0, 4980},
        {ADMIT, 5020, 0, 0, PR},
        {REC, 5030, P, false, 0}, /* a stale success cannot close a half-open breaker */
        {STATE, 5030, 0, 0, XGW__BRK_HALF_OPEN},
        {ADMIT, 5031, 0, 0, D},
        {CANCEL, 5032, PR, 0, 0}, /* the probe was never sent */
        {ADMIT, 5033, 0, 0, PR},  /* the next request may probe */
        {REC, 5040, PR, false, 1},
        {STATE, 5040, 0, 0, XGW__BRK_CLOSED},
        {REC, 5041, PR, false, 0}, /* a second probe record is stale */
        {CANCEL, 5042, P, 0, 0},   /* cancelling a PASS changes nothing */
        {STATE, 5042, 0, 0, XGW__BRK_CLOSED},
        {END, 0, 0, 0, 0},
    };
    struct xgw__breaker b;
    xgw__breaker_init(&b, 2, 5000, 60000);
    run(&b, s, "stale");
}

static void test_init_clamps_and_names(void **state)
{
    (void)state;
    struct xgw__breaker b;
    xgw__breaker_init(&b, 0, 0, -5);
    assert_int_equal(b.threshold, 1);
    assert_int_equal(b.base_recovery_ms, 1);
    assert_int_equal(b.max_recovery_ms, 1);
    assert_true(xgw__breaker_record(&b, 0, XGW__BRK_PASS, true));
    assert_int_equal(xgw__breaker_admit(&b, 1), XGW__BRK_PROBE);
    assert_true(xgw__breaker_record(&b, 1, XGW__BRK_PROBE, true));
    assert_int_equal(b.recovery_ms, 1); /* max below base is raised to base */
    xgw__breaker_init(&b, 3, 1000, 500);
    assert_int_equal(b.max_recovery_ms, 1000);
    assert_string_equal(xgw__breaker_state_name(XGW__BRK_CLOSED), "closed");
    assert_string_equal(xgw__breaker_state_name(XGW__BRK_OPEN), "open");
    assert_string_equal(xgw__breaker_state_name(XGW__BRK_HALF_OPEN), "half_open");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens_after_exactly_n),        cmocka_unit_test(test_non_faults_never_count),
        cmocka_unit_test(test_half_open_probe_and_doubling), cmocka_unit_test(test_stale_results_and_cancel),
        cmocka_unit_test(test_init_clamps_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
