#include "tu_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

xgw_dec tu_dec(const char *s)
{
    xgw_dec d;
    if (s == NULL)
        return xgw_dec_none();
    assert_int_equal(xgw_dec_parse_cstr(s, &d), XGW_DEC_OK);
    return d;
}

const char *tu_dstr(xgw_dec d)
{
    static char bufs[8][XGW_DEC_STRLEN];
    static int i;
    char *b = bufs[i++ & 7];
    xgw_dec_format(d, b, XGW_DEC_STRLEN);
    return b;
}

char *tu_read_fixture(const char *dir, const char *name)
{
    const char *src = getenv("XGW_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s/%s", src != NULL ? src : "../..", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(n >= 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}
