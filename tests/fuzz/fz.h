/*
 * tests/fuzz/fz.h — shared pieces of the fuzz targets.
 *
 * Every target defines LLVMFuzzerTestOneInput. Built with XGW_FUZZ=ON (clang)
 * libFuzzer supplies main(); otherwise replay.c does, and replays the
 * target's corpus directory so gcc and sanitizer builds re-run every seed
 * and every regression input as a ctest test.
 */
#ifndef XGW_FUZZ_FZ_H
#define XGW_FUZZ_FZ_H

#include <stddef.h>
#include <stdint.h>

struct xgw_plugin;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One plugin instance over the real core services (instance context, sink,
 * response, markets), built once per process: the parsers are what is
 * fuzzed, not instance creation. name is the plugin's name, which selects
 * its credentials and its market symbols. Aborts on failure (a harness bug). */
struct fz_plugin;
struct fz_plugin *fz_plugin_get(const struct xgw_plugin *p);

/* REST: data[0] selects the operation, data[1] the HTTP status (and the step
 * of multi-request operations); the rest is the body. Drives p->parse. */
void fz_plugin_rest(struct fz_plugin *fp, const uint8_t *data, size_t size);

/* REST with headers: data[0] op, data[1] status; then header lines
 * separated by '\n' up to an empty line; then the body. Each line goes
 * through the core's header collection (xgw__response_add_header, as
 * core/http.c's libcurl callback does), then the plugin parses the answer
 * (its rate-limit usage headers included). */
void fz_plugin_rest_headers(struct fz_plugin *fp, const uint8_t *data, size_t size);

/* WS: the whole input is one text frame. Drives p->ws_parse. */
void fz_plugin_ws(struct fz_plugin *fp, const uint8_t *data, size_t size);

#endif
