/* Fuzz target: the binance plugin's WebSocket frame parser (one frame). */
#include "binance.h"
#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_plugin_ws(fz_plugin_get(&bn_plugin), data, size);
    return 0;
}
