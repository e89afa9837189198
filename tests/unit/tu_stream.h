/*
 * tu_stream.h — test helper for stream tests: a mock exchange plus a
 * started gateway with one Binance instance ("bn") pointed at it, and a
 * bounded wait. Shared by tests/integration/test_stream_*.c.
 */
#ifndef XGW_TU_STREAM_H
#define XGW_TU_STREAM_H

#include <stdbool.h>

#include "tu_mockex.h"
#include "xgw/xgw.h"

struct tu_stream_gw {
    struct tu_mockex mx;
    char dir[128];
    struct xgw_gateway *gw;
    struct xgw_exchange *ex; /* the instance under test ("bn" for tu_stream_open_binance) */
};

/* Starts the mock with mock_args (NULL-terminated, may be NULL) and a
 * gateway whose [exchange.bn] section has the demo credentials, the mock's
 * REST/WS ports and CA, fast reconnects (100..1000 ms), no warm-up, plus
 * the lines in extra_ini (may be NULL, "key = value\n"...). Returns 0, or -1
 * with everything already stopped. */
int tu_stream_open_binance(struct tu_stream_gw *g, const char *const *mock_args, const char *extra_ini);
/* The two halves of tu_stream_open_binance, for tests with a configuration
 * of their own. tu_stream_start_mock starts the mock with mock_args and
 * makes the temp folder; tu_stream_start_gw then writes ini (built with
 * g->mx's ports and cert) as a 0600 file there, opens and starts the
 * gateway and finds `instance` as g->ex (NULL: none). Both return 0, or -1
 * with everything already stopped and the reason on stderr. */
int tu_stream_start_mock(struct tu_stream_gw *g, const char *const *mock_args);
int tu_stream_start_gw(struct tu_stream_gw *g, const char *ini, const char *instance);
/* Closes the gateway, stops the mock by PID, removes the temp folder. */
void tu_stream_close(struct tu_stream_gw *g);

/* Polls pred(arg) every 10 ms for up to ms milliseconds; its last answer. */
bool tu_wait_until(bool (*pred)(void *arg), void *arg, int ms);

/* Places a BUY LIMIT 0.010 BTCUSDT @ 40000.0 with client id cid through
 * xgw_call_sync; 0 or the error kind (message on stderr). */
int tu_stream_place(struct tu_stream_gw *g, const char *cid);

#endif
