/*
 * tests/unit/test_decimal.c — exact decimals: parsing, formatting,
 * comparison, arithmetic with overflow detection, rounding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xgw/types.h"

static xgw_dec D(const char *s)
{
    xgw_dec d = {0, 0};
    int rc = xgw_dec_parse_cstr(s, &d);
    if (rc != XGW_DEC_OK)
        fail_msg("parse(\"%s\") = %d", s, rc);
    return d;
}

static void assert_fmt(xgw_dec d, const char *want)
{
    char buf[XGW_DEC_STRLEN];
    size_t n = xgw_dec_format(d, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_round_trips(void **state)
{
    (void)state;
    static const char *const same[] = {"0.00000001", "97123.40", "-1.5", "0", "0.00", "123456789012345678",
                                       "-999999999999999999", "0.000000000000000001", "1.00000000000000000",
                                       "100", "-0.5", "000.5"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        xgw_dec d = D(same[i]);
        char buf[XGW_DEC_STRLEN];
        xgw_dec_format(d, buf, sizeof buf);
        if (strcmp(same[i], "000.5") == 0)
            assert_string_equal(buf, "0.5"); /* leading zeros are not kept */
        else
            assert_string_equal(buf, same[i]);
    }
    xgw_dec d = D("0.00000001");
    assert_int_equal(d.mant, 1);
    assert_int_equal(d.scale, 8);
    d = D("97123.40");
    assert_int_equal(d.mant, 9712340);
    assert_int_equal(d.scale, 2);
    assert_fmt(D("-0"), "0");
    assert_fmt(D("-0.00"), "0.00");
    assert_fmt(xgw_dec_none(), "null");
    assert_fmt(xgw_dec_from_int(-42), "-42");
    assert_fmt(xgw_dec_from_int(INT64_MIN), "-9223372036854775808");
    /* parse takes exactly len bytes */
    assert_int_equal(xgw_dec_parse("12.5xyz", 4, &d), XGW_DEC_OK);
    assert_fmt(d, "12.5");
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {"1e5", "1.2.3", "", "NaN", "nan", "inf", "+1", "1.", "-", ".5", "-.5",
                                      " 1", "1 ", "0x10", "1,5", "--1", "1-", ".", "-1.", "1..2", "١"};
    xgw_dec d = {77, 3};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = xgw_dec_parse_cstr(bad[i], &d);
        if (rc != XGW_DEC_EINVAL)
            fail_msg("parse(\"%s\") = %d, want EINVAL", bad[i], rc);
    }
    assert_int_equal(d.mant, 77); /* untouched on error */
    assert_int_equal(xgw_dec_parse(NULL, 0, &d), XGW_DEC_EINVAL);
    assert_int_equal(xgw_dec_parse_cstr(NULL, &d), XGW_DEC_EINVAL);
    assert_int_equal(xgw_dec_parse("1\0002", 3, &d), XGW_DEC_EINVAL);

    /* 25 digits, 19 digits, 19 decimals */
    assert_int_equal(xgw_dec_parse_cstr("1234567890123456789012345", &d), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_parse_cstr("1234567890123456789", &d), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_parse_cstr("-9999999999999999999", &d), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_parse_cstr("0.0000000000000000001", &d), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_parse_cstr("1.0000000000000000000", &d), XGW_DEC_EOVERFLOW);
    /* 18 significant digits behind leading zeros are fine */
    assert_int_equal(xgw_dec_parse_cstr("0000000000123456789012345678", &d), XGW_DEC_OK);
    assert_int_equal(d.mant, INT64_C(123456789012345678));
    /* syntax errors win over length */
    assert_int_equal(xgw_dec_parse_cstr("1234567890123456789012345x", &d), XGW_DEC_EINVAL);
}

static void test_format_cap(void **state)
{
    (void)state;
    char buf[8];
    assert_int_equal(xgw_dec_format(D("97123.40"), buf, 8), 0);
    assert_int_equal(xgw_dec_format(D("97123.4"), buf, 8), 7);
    assert_string_equal(buf, "97123.4");
    assert_int_equal(xgw_dec_format(xgw_dec_none(), buf, 4), 0);
    xgw_dec bad = {1, 40};
    assert_int_equal(xgw_dec_format(bad, buf, sizeof buf), 0);
    /* The widest value fits XGW_DEC_STRLEN. */
    char big[XGW_DEC_STRLEN];
    xgw_dec widest = {INT64_MIN, 18};
    size_t n = xgw_dec_format(widest, big, sizeof big);
    assert_string_equal(big, "-9.223372036854775808");
    assert_int_equal(n, strlen(big));
    xgw_dec tiny = {-1, 18};
    assert_fmt(tiny, "-0.000000000000000001");
}

static void test_cmp(void **state)
{
    (void)state;
    assert_int_equal(xgw_dec_cmp(D("1.50"), D("1.5")), 0);
    assert_int_equal(xgw_dec_cmp(D("1.5"), D("1.50")), 0);
    assert_int_equal(xgw_dec_cmp(D("1.49"), D("1.5")), -1);
    assert_int_equal(xgw_dec_cmp(D("1.51"), D("1.5")), 1);
    assert_int_equal(xgw_dec_cmp(D("-1.5"), D("-1.49")), -1);
    assert_int_equal(xgw_dec_cmp(D("-0"), D("0.000")), 0);
    assert_int_equal(xgw_dec_cmp(D("999999999999999999"), D("0.000000000000000001")), 1);
    assert_int_equal(xgw_dec_cmp(D("-999999999999999999"), D("0.000000000000000001")), -1);
    assert_int_equal(xgw_dec_cmp(D("0.999999999999999999"), D("1")), -1);
    assert_int_equal(xgw_dec_cmp(xgw_dec_none(), D("-999999999999999999")), -1);
    assert_int_equal(xgw_dec_cmp(D("0"), xgw_dec_none()), 1);
    assert_int_equal(xgw_dec_cmp(xgw_dec_none(), xgw_dec_none()), 0);
}

static void test_add_sub(void **state)
{
    (void)state;
    xgw_dec r;
    assert_int_equal(xgw_dec_add(D("1.5"), D("0.25"), &r), XGW_DEC_OK);
    assert_fmt(r, "1.75");
    assert_int_equal(xgw_dec_add(D("97123.40"), D("0.001"), &r), XGW_DEC_OK);
    assert_fmt(r, "97123.401");
    assert_int_equal(xgw_dec_add(D("1.50"), D("2"), &r), XGW_DEC_OK);
    assert_fmt(r, "3.50"); /* the larger scale is kept */
    assert_int_equal(xgw_dec_sub(D("1"), D("1.25"), &r), XGW_DEC_OK);
    assert_fmt(r, "-0.25");
    assert_int_equal(xgw_dec_sub(D("-1"), D("-1.00"), &r), XGW_DEC_OK);
    assert_fmt(r, "0.00");

    r = D("7");
    assert_int_equal(xgw_dec_add(D("999999999999999999"), D("1"), &r), XGW_DEC_EOVERFLOW);
    assert_fmt(r, "7"); /* untouched on error */
    assert_int_equal(xgw_dec_sub(D("-999999999999999999"), D("1"), &r), XGW_DEC_EOVERFLOW);
    /* aligning 1 to scale 18 leaves 19 digits */
    assert_int_equal(xgw_dec_add(D("1"), D("0.000000000000000001"), &r), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_add(D("0.1"), D("0.000000000000000001"), &r), XGW_DEC_OK);
    assert_fmt(r, "0.100000000000000001");
    assert_int_equal(xgw_dec_add(D("999999999999999999"), D("-1"), &r), XGW_DEC_OK);
    assert_fmt(r, "999999999999999998");
    assert_int_equal(xgw_dec_add(xgw_dec_none(), D("1"), &r), XGW_DEC_EINVAL);
    assert_int_equal(xgw_dec_sub(D("1"), xgw_dec_none(), &r), XGW_DEC_EINVAL);
}

static void test_mul(void **state)
{
    (void)state;
    xgw_dec r;
    assert_int_equal(xgw_dec_mul(D("97123.40"), D("0.001"), &r), XGW_DEC_OK);
    assert_fmt(r, "97.12340");
    assert_int_equal(xgw_dec_mul(D("-1.5"), D("2"), &r), XGW_DEC_OK);
    assert_fmt(r, "-3.0");
    assert_int_equal(xgw_dec_mul(D("0.0000000001"), D("0.000000001"), &r), XGW_DEC_EOVERFLOW); /* 1e-19 */
    assert_int_equal(xgw_dec_mul(D("0.0000000010"), D("0.000000001"), &r), XGW_DEC_OK);        /* zeros dropped */
    assert_fmt(r, "0.000000000000000001");
    assert_int_equal(xgw_dec_mul(D("1000000000"), D("1000000000"), &r), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_mul(D("100000000.0"), D("1000000000"), &r), XGW_DEC_OK); /* exact with fewer zeros */
    assert_fmt(r, "100000000000000000");
    assert_int_equal(xgw_dec_mul(D("999999999"), D("-999999999.5"), &r), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_mul(D("0.0"), D("0.000000000000000000"), &r), XGW_DEC_OK);
    assert_true(xgw_dec_is_zero(r));

    assert_int_equal(xgw_dec_mul_int(D("0.25"), 4, &r), XGW_DEC_OK);
    assert_fmt(r, "1.00");
    assert_int_equal(xgw_dec_mul_int(D("-0.25"), -3, &r), XGW_DEC_OK);
    assert_fmt(r, "0.75");
    assert_int_equal(xgw_dec_mul_int(D("500000000000000000"), 2, &r), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_mul_int(D("5"), INT64_MAX, &r), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_mul_int(xgw_dec_none(), 2, &r), XGW_DEC_EINVAL);
}

struct round_case {
    const char *a, *step;
    enum xgw_round mode;
    const char *want;
};

static void test_round_to(void **state)
{
    (void)state;
    static const struct round_case cases[] = {
        {"97123.456", "0.01", XGW_ROUND_DOWN, "97123.45"},
        {"97123.456", "0.01", XGW_ROUND_UP, "97123.46"},
        {"97123.456", "0.01", XGW_ROUND_NEAREST, "97123.46"},
        {"97123.454", "0.01", XGW_ROUND_NEAREST, "97123.45"},
        {"97123.455", "0.01", XGW_ROUND_NEAREST, "97123.46"}, /* half away from zero */
        {"-97123.455", "0.01", XGW_ROUND_NEAREST, "-97123.46"},
        {"-97123.454", "0.01", XGW_ROUND_NEAREST, "-97123.45"},
        {"-1.25", "0.1", XGW_ROUND_DOWN, "-1.3"}, /* floor */
        {"-1.25", "0.1", XGW_ROUND_UP, "-1.2"},   /* ceil */
        {"-1.25", "0.1", XGW_ROUND_NEAREST, "-1.3"},
        {"1.25", "0.1", XGW_ROUND_NEAREST, "1.3"},
        {"1.2", "0.1", XGW_ROUND_DOWN, "1.2"}, /* exact multiple untouched */
        {"1.2", "0.10", XGW_ROUND_UP, "1.20"},  /* step's scale */
        {"1", "0.001", XGW_ROUND_DOWN, "1.000"},
        {"0.123", "0.05", XGW_ROUND_DOWN, "0.10"}, /* non-power-of-ten step */
        {"0.123", "0.05", XGW_ROUND_UP, "0.15"},
        {"0.125", "0.05", XGW_ROUND_NEAREST, "0.15"},
        {"0.124", "0.05", XGW_ROUND_NEAREST, "0.10"},
        {"-0.125", "0.05", XGW_ROUND_NEAREST, "-0.15"},
        {"-0.001", "1", XGW_ROUND_DOWN, "-1"},
        {"-0.001", "1", XGW_ROUND_UP, "0"},
        {"-0.5", "1", XGW_ROUND_NEAREST, "-1"},
        {"0.5", "1", XGW_ROUND_NEAREST, "1"},
        {"0.4999", "1", XGW_ROUND_NEAREST, "0"},
        {"12345", "10", XGW_ROUND_DOWN, "12340"},
        {"12345", "10", XGW_ROUND_NEAREST, "12350"},
        {"0.00000001234", "0.00000001", XGW_ROUND_DOWN, "0.00000001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xgw_dec r;
        int rc = xgw_dec_round_to(D(cases[i].a), D(cases[i].step), cases[i].mode, &r);
        char buf[XGW_DEC_STRLEN];
        xgw_dec_format(r, buf, sizeof buf);
        if (rc != XGW_DEC_OK || strcmp(buf, cases[i].want) != 0)
            fail_msg("round_to(%s, %s, %d) = %d \"%s\", want \"%s\"", cases[i].a, cases[i].step,
                     (int)cases[i].mode, rc, buf, cases[i].want);
    }
    xgw_dec r;
    assert_int_equal(xgw_dec_round_to(D("1"), D("0"), XGW_ROUND_DOWN, &r), XGW_DEC_EINVAL);
    assert_int_equal(xgw_dec_round_to(D("1"), D("-0.1"), XGW_ROUND_DOWN, &r), XGW_DEC_EINVAL);
    assert_int_equal(xgw_dec_round_to(xgw_dec_none(), D("0.1"), XGW_ROUND_DOWN, &r), XGW_DEC_EINVAL);
    assert_int_equal(xgw_dec_round_to(D("1"), D("0.1"), (enum xgw_round)9, &r), XGW_DEC_EINVAL);
    /* 999999999999999999 rounded up to a step of 10 needs 19 digits */
    assert_int_equal(xgw_dec_round_to(D("999999999999999999"), D("10"), XGW_ROUND_UP, &r), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_round_to(D("999999999999999999"), D("10"), XGW_ROUND_DOWN, &r), XGW_DEC_OK);
    assert_fmt(r, "999999999999999990");
    /* result at step scale 18 overflows when the value has 2 integer digits */
    assert_int_equal(xgw_dec_round_to(D("12.5"), D("0.000000000000000001"), XGW_ROUND_DOWN, &r),
                     XGW_DEC_EOVERFLOW);
}

static void test_rescale_normalize(void **state)
{
    (void)state;
    xgw_dec r;
    assert_int_equal(xgw_dec_rescale(D("1.5"), 3, XGW_ROUND_DOWN, &r), XGW_DEC_OK);
    assert_fmt(r, "1.500");
    assert_int_equal(xgw_dec_rescale(D("1.55"), 1, XGW_ROUND_NEAREST, &r), XGW_DEC_OK);
    assert_fmt(r, "1.6");
    assert_int_equal(xgw_dec_rescale(D("-1.55"), 1, XGW_ROUND_NEAREST, &r), XGW_DEC_OK);
    assert_fmt(r, "-1.6");
    assert_int_equal(xgw_dec_rescale(D("-1.55"), 1, XGW_ROUND_DOWN, &r), XGW_DEC_OK);
    assert_fmt(r, "-1.6");
    assert_int_equal(xgw_dec_rescale(D("-1.55"), 0, XGW_ROUND_UP, &r), XGW_DEC_OK);
    assert_fmt(r, "-1");
    assert_int_equal(xgw_dec_rescale(D("1"), 19, XGW_ROUND_DOWN, &r), XGW_DEC_EOVERFLOW);
    assert_int_equal(xgw_dec_rescale(D("1"), -1, XGW_ROUND_DOWN, &r), XGW_DEC_EINVAL);
    assert_int_equal(xgw_dec_rescale(D("1"), 18, XGW_ROUND_DOWN, &r), XGW_DEC_EOVERFLOW); /* 19 digits */
    assert_int_equal(xgw_dec_rescale(D("0.1"), 18, XGW_ROUND_DOWN, &r), XGW_DEC_OK);

    assert_fmt(xgw_dec_normalize(D("1.2300")), "1.23");
    assert_fmt(xgw_dec_normalize(D("5.0")), "5");
    assert_fmt(xgw_dec_normalize(D("0.000")), "0");
    assert_fmt(xgw_dec_normalize(D("1200")), "1200");
    assert_fmt(xgw_dec_normalize(D("-10.10")), "-10.1");
    assert_true(xgw_dec_is_none(xgw_dec_normalize(xgw_dec_none())));

    assert_int_equal(xgw_dec_sig_digits(D("0.00000001")), 1);
    assert_int_equal(xgw_dec_sig_digits(D("97123.40")), 6);
    assert_int_equal(xgw_dec_sig_digits(D("1200")), 4);
    assert_int_equal(xgw_dec_sig_digits(D("-0.0")), 0);
    assert_int_equal(xgw_dec_sig_digits(D("123456789012345678")), 18);
    assert_int_equal(xgw_dec_sign(D("-0.1")), -1);
    assert_true(xgw_dec_is_zero(D("-0.00")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips), cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_format_cap),
        cmocka_unit_test(test_cmp),         cmocka_unit_test(test_add_sub),      cmocka_unit_test(test_mul),
        cmocka_unit_test(test_round_to),    cmocka_unit_test(test_rescale_normalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
