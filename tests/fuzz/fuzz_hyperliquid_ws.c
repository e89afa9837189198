/* Fuzz target: the hyperliquid plugin's WebSocket frame parser (one frame). */
#include "hl.h"
#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_plugin_ws(fz_plugin_get(&hl_plugin), data, size);
    return 0;
}
