/*
 * Fuzz target: HTTP header handling — the core's header collection
 * (xgw__response_add_header, fed line by line as core/http.c's libcurl
 * callback does, and xgw__response_header look-ups) and one plugin's
 * reading of them: rate-limit usage (X-MBX-USED-WEIGHT-1M, ...),
 * Retry-After, Date, and error classification. Built once per plugin
 * (FZ_PLUGIN names its descriptor; plugins cannot share one binary since
 * each defines xgw_plugin_entry).
 * Input: [op][status] header lines '\n'-separated, an empty line, the body.
 */
#include FZ_PLUGIN_HEADER
#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_plugin_rest_headers(fz_plugin_get(&FZ_PLUGIN), data, size);
    return 0;
}
