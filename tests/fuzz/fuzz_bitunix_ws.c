/* Fuzz target: the bitunix plugin's WebSocket frame parser (one frame). */
#include "bitunix.h"
#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_plugin_ws(fz_plugin_get(&bx_plugin), data, size);
    return 0;
}
