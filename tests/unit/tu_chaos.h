/*
 * tu_chaos.h — the chaos driver shared by tests/integration/test_chaos_*.c
 * and test_soak.c (issue 12, parts 3 and 4).
 *
 * tu_chaos_run() starts the mock with two ports, opens a gateway whose one
 * instance lists both ports as REST endpoints, then for `seconds`:
 *  - a driver thread installs a seeded random mix of faults through the
 *    mock's control API (5xx bursts, resets before/after processing, stalls,
 *    truncated/malformed/oversized bodies, latency past request_timeout_ms,
 *    one endpoint refusing, 429 + Retry-After, WS close/stall/gap), and runs
 *    two probes: "no REST request during a 429 back-off" and "no request to
 *    an endpoint whose breaker is open";
 *  - a trader thread places (own client ids), cancels and looks up orders;
 *  - a reader thread reads (ticker, depth, balances, open orders, time);
 *  - optionally a book stream stays subscribed.
 * Then faults are cleared, unsure orders are reconciled by GET_ORDER with
 * their client id, and everything issue 12 lists is asserted (cmocka).
 * Every wait is bounded; the mock is stopped by PID on every path.
 */
#ifndef XGW_TU_CHAOS_H
#define XGW_TU_CHAOS_H

#include <stdbool.h>
#include <stdint.h>

struct tu_chaos_profile {
    const char *exchange;      /* plugin name = the mock's module name */
    const char *symbol;        /* traded and streamed symbol */
    const char *qty;           /* order size (valid lot for the mock) */
    const char *const *rest_prefixes; /* NULL-terminated path prefixes of this exchange's REST requests */
    const char *write_path;    /* path prefix hit by PLACE/CANCEL (faults aimed at writes) */
    const char *cid_key;       /* member of the mock's open_orders entries holding the client id */
    bool hex_cid;              /* client ids must be 0x + 32 hex digits (Hyperliquid cloid) */
    bool book_stream;          /* keep a BOOK subscription and compare it with the mock at the end */
    const char *depth_url;     /* the mock's REST depth of `symbol` (5 levels) for that comparison */
    const char *ini;           /* exchange-specific ini lines (credentials, ws options) */
};

struct tu_chaos_opts {
    int seconds;      /* length of the fault phase */
    int mem_every_s;  /* RSS sample period (0 = only before and after) */
    double mem_max_growth; /* allowed growth after warm-up, as a fraction (0.05) */
    int64_t mem_slack_bytes; /* ... or this many bytes, whichever is larger */
};

/* The three exchanges against the mock (credentials: the mock's demo
 * accounts). Hyperliquid has no book stream here: the mock's Hyperliquid
 * WebSocket is not finished. */
extern const struct tu_chaos_profile tu_chaos_binance, tu_chaos_bitunix, tu_chaos_hyperliquid;

/* Seconds from $XGW_CHAOS_S when set (> 0), else dflt. */
int tu_chaos_seconds(int dflt);

/* Runs the whole scenario and asserts; fails the current cmocka test on
 * any violation (each is printed first). */
void tu_chaos_run(const struct tu_chaos_profile *p, const struct tu_chaos_opts *o);

/* cmocka teardown: stops the mock (by PID) when a run failed an assertion
 * half-way; a no-op after a run that finished. */
int tu_chaos_teardown(void **state);

#endif
