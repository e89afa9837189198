/* Fuzz target: the bitunix plugin's REST answer parser, every operation
 * (the first input byte picks it, the second the HTTP status; see fz.h). */
#include "bitunix.h"
#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_plugin_rest(fz_plugin_get(&bx_plugin), data, size);
    return 0;
}
