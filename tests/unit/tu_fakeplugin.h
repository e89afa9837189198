/*
 * tests/unit/tu_fakeplugin.h — a small exchange plugin compiled into the
 * tests and registered with xgw__plugin_register_builtin() as "fake".
 *
 * build(): GET /x?op=<op> for every op (PLACE: POST /x with a body; CANCEL:
 * DELETE), or, when call->symbol starts with '/', GET <symbol> so a test can
 * hit the test server's special paths (/stall, /big, /status/503 ...).
 * Every request carries "X-Fake: 1". parse(): the body "t=<ms>" becomes a
 * TIME record (TIME, PING), a ticker (TICKER, last = 1.50), one market
 * (MARKETS), or an order echoing the call (PLACE, CANCEL, GET_ORDER);
 * status >= 500 is SERVER, other non-200 INVALID_REQUEST.
 */
#ifndef TU_FAKEPLUGIN_H
#define TU_FAKEPLUGIN_H

#include "xgw/plugin.h"

extern const struct xgw_plugin tu_fake_plugin;

/* An instance with this recv_window_ms is refused by create() (CONFIG). */
#define TU_FAKE_REFUSE_RECV_WINDOW 4242

/* Write an INI for one instance "f1" of the fake plugin against
 * https://127.0.0.1:<port>; extra is appended verbatim to the instance
 * section (e.g. "pool_min = 2\n"), ca_file may be NULL. Returns 0. */
int tu_fake_write_ini(const char *path, int port, const char *ca_file, const char *extra);

#endif
