/*
 * test_chaos_binance.c — issue 12 chaos suite for Binance USDⓈ-M: faults of every
 * kind against two mock endpoints while a bot trades, reads and keeps a book stream open
 * (tests/unit/tu_chaos.c holds the driver, the profile and the checks).
 * XGW_CHAOS_S sets the length (default 60 s), XGW_CHAOS_SEED the mix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tu_chaos.h"

static void test_chaos_binance(void **state)
{
    (void)state;
    struct tu_chaos_opts o = {.seconds = tu_chaos_seconds(60), .mem_max_growth = 0.05, .mem_slack_bytes = 4 << 20};
    tu_chaos_run(&tu_chaos_binance, &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(test_chaos_binance, tu_chaos_teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
