/*
 * Fuzz target: the mock exchange's request parsing (tools/mockex) — the
 * pieces every module runs on what a client sent before any business
 * logic: form/query look-up with percent-decoding (mx_form_get), exact
 * decimal parameters (mx_parse_dec), Bitunix's canonical query for signing
 * (mxbx_query_params), Binance's signature check over query ‖ body
 * (mxb_sig_verify), and the control API's fault rules (JSON).
 * Input: [selector] then the bytes; for the signature check, query and body
 * are split at the first NUL.
 */
#include <stdlib.h>
#include <string.h>

#include "binance_sign.h"
#include "bitunix_sign.h"
#include "fz.h"
#include "mockex.h"
#include "mx_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0: {
        static const char *const keys[] = {"symbol", "signature", "timestamp", "quantity", "price", "a"};
        char out[64];
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            (void)mx_form_get(s, n, keys[i], out, sizeof out);
        (void)mx_form_get(s, n, "symbol", out, 1);
        break;
    }
    case 1: {
        int64_t units;
        for (int scale = 0; scale <= 18; scale += 6)
            (void)mx_parse_dec(s, n, scale, &units);
        break;
    }
    case 2: {
        char out[256];
        (void)mxbx_query_params(s, n, out, sizeof out);
        (void)mxbx_query_params(s, n, out, 1);
        break;
    }
    case 3: {
        const char *nul = memchr(s, '\0', n);
        size_t qlen = nul != NULL ? (size_t)(nul - s) : n;
        const char *body = nul != NULL ? nul + 1 : s + n;
        size_t blen = nul != NULL ? n - qlen - 1 : 0;
        (void)mxb_sig_verify("2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9", s, qlen, body, blen);
        break;
    }
    default: {
        struct mx_faults *f = mx__faults_new(1);
        if (f == NULL)
            abort();
        char err[256];
        for (int i = 0; i < 3; i++)
            (void)mx__faults_add_json(f, s, n, err, sizeof err);
        struct mx_buf b = {0};
        mx__faults_state(f, &b);
        mx_buf_free(&b);
        mx__faults_free(f);
        break;
    }
    }
    return 0;
}
