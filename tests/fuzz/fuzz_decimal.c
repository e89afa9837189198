/*
 * Fuzz target: the decimal parser (xgw_dec_parse), and what is done next
 * with a parsed value: format it, parse the text back (must be equal), and
 * the arithmetic plugins use on exchange numbers (must not overflow
 * silently: UBSan catches signed overflow).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "xgw/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xgw_dec d;
    if (xgw_dec_parse((const char *)data, size, &d) != 0)
        return 0;
    char buf[64];
    size_t n = xgw_dec_format(d, buf, sizeof buf);
    if (n >= sizeof buf)
        abort(); /* a parsed decimal always fits its formatting buffer */
    xgw_dec back;
    if (xgw_dec_parse(buf, n, &back) != 0 || xgw_dec_cmp(back, d) != 0) {
        fprintf(stderr, "round trip failed: \"%s\"\n", buf);
        abort();
    }
    xgw_dec r;
    (void)xgw_dec_add(d, d, &r);
    (void)xgw_dec_sub(d, (xgw_dec){1, 8}, &r);
    (void)xgw_dec_mul(d, d, &r);
    (void)xgw_dec_round_to(d, (xgw_dec){5, 2}, XGW_ROUND_NEAREST, &r);
    (void)xgw_dec_rescale(d, 4, XGW_ROUND_DOWN, &r);
    (void)xgw_dec_sig_digits(d);
    return 0;
}
