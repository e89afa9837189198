/*
 * test_chaos_hyperliquid.c — issue 12 chaos suite for Hyperliquid: faults of every
 * kind against two mock endpoints while a bot trades, reads (no book stream: the mock's WS is unfinished)
 * (tests/unit/tu_chaos.c holds the driver, the profile and the checks).
 * XGW_CHAOS_S sets the length (default 30 s), XGW_CHAOS_SEED the mix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tu_chaos.h"

static void test_chaos_hyperliquid(void **state)
{
    (void)state;
    struct tu_chaos_opts o = {.seconds = tu_chaos_seconds(30), .mem_max_growth = 0.05, .mem_slack_bytes = 4 << 20};
    tu_chaos_run(&tu_chaos_hyperliquid, &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(test_chaos_hyperliquid, tu_chaos_teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
