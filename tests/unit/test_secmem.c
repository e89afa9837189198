/*
 * test_secmem.c — core/secmem: secret memory is excluded from core dumps
 * (the "dd" VmFlag in /proc/self/smaps, which the kernel's dumper and gcore
 * both honour), zeroed, page-backed, and released (the live count).
 * test_secrets_coredump checks the whole gateway with a real core dump.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secmem.h"

/* The VmFlags line of the mapping that contains p, or "" if none. */
static void vmflags_of(const void *p, char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    bool in = false;
    out[0] = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') == line + strcspn(line, " ")) {
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        if (in && !strncmp(line, "VmFlags:", 8)) {
            snprintf(out, cap, "%.200s", line + 8);
            break;
        }
    }
    fclose(f);
}

static bool has_flag(const char *flags, const char *flag)
{
    char f[8];
    snprintf(f, sizeof f, " %s", flag);
    return strstr(flags, f) != NULL;
}

static void test_excluded_from_dumps(void **state)
{
    (void)state;
    size_t live = xgw__secmem_live();
    char *s = xgw__secmem_strdup("a-secret-value");
    assert_non_null(s);
    assert_string_equal(s, "a-secret-value");
    assert_int_equal(xgw__secmem_live(), live + 1);
    char flags[256];
    vmflags_of(s, flags, sizeof flags);
    assert_true(has_flag(flags, "dd"));
    /* the control: an ordinary heap block is dumped */
    char *h = malloc(64);
    assert_non_null(h);
    vmflags_of(h, flags, sizeof flags);
    assert_false(has_flag(flags, "dd"));
    free(h);
    xgw__secmem_free(s);
    assert_int_equal(xgw__secmem_live(), live);
}

static void test_alloc_zeroed_sizes(void **state)
{
    (void)state;
    size_t sizes[] = {0, 1, 4096, 4096 * 3 + 17, 64 * 1024 + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = xgw__secmem_alloc(sizes[i]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        for (size_t k = 0; k < sizes[i]; k++)
            assert_int_equal(p[k], 0);
        memset(p, 0xa5, sizes[i]); /* all of it is writable */
        char flags[256];
        vmflags_of(p + (sizes[i] ? sizes[i] - 1 : 0), flags, sizeof flags);
        assert_true(has_flag(flags, "dd"));
        xgw__secmem_free(p);
    }
    assert_null(xgw__secmem_alloc(SIZE_MAX - 8));
    assert_null(xgw__secmem_strdup(NULL));
    xgw__secmem_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_excluded_from_dumps),
        cmocka_unit_test(test_alloc_zeroed_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
