/*
 * clock.c — the mock's clocks, alone in their file so that an in-process
 * harness (tests/fuzz/fuzz_mockex_module.c) can link the exchange modules
 * with a clock of its own: fixed, so that a signed request saved as a seed
 * carries a timestamp that stays fresh and replays the same way every time.
 */
#define _POSIX_C_SOURCE 200809L
#include "mockex.h"

#include <time.h>

int64_t mx_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mx_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
