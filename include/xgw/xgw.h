/*
 * xgw/xgw.h — the public embedding API of libxgw.
 *
 * A gateway (struct xgw_gateway) is opened from one INI file. It owns one
 * event loop and one exchange instance (struct xgw_exchange) per
 * [exchange.<name>] section. Work is submitted from any thread; completion
 * callbacks always run on the loop thread and must not block.
 *
 * The loop runs either on a thread xgw starts (xgw_start), or is driven by
 * the host: xgw_fd() gives a descriptor that becomes readable when there is
 * work, and xgw_step() does the pending work without blocking. Synchronous
 * wrappers (xgw_call_sync) work in both modes; they must not be called from
 * a callback.
 */
#ifndef XGW_XGW_H
#define XGW_XGW_H

#include "xgw/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XGW_VERSION "0.1.0"
XGW_EXPORT const char *xgw_version(void);

struct xgw_gateway;
struct xgw_exchange;

struct xgw_open_opts {
    const char *plugin_dir; /* overrides the config's plugin_dir and $XGW_PLUGIN_DIR; NULL = no override */
    bool no_network;        /* load config and plugins only (xgw check): no loop traffic, no warm-up */
};

/* Open a gateway from a config file. On failure returns NULL and fills err
 * (CONFIG errors name file, line and key). */
XGW_EXPORT struct xgw_gateway *xgw_open(const char *config_path, const struct xgw_open_opts *opts,
                                        struct xgw_error *err);
/* Close: every pending call completes exactly once (XGW_ERR_CANCELLED if it
 * had not finished), streams are closed, the loop thread (if any) joined,
 * plugins unloaded. Not callable from a callback. NULL is a no-op. */
XGW_EXPORT void xgw_close(struct xgw_gateway *gw);

XGW_EXPORT size_t xgw_exchange_count(const struct xgw_gateway *gw);
XGW_EXPORT struct xgw_exchange *xgw_exchange_at(struct xgw_gateway *gw, size_t i);
XGW_EXPORT struct xgw_exchange *xgw_exchange_find(struct xgw_gateway *gw, const char *instance);

/* Facts about an instance (borrowed strings, valid until xgw_close). */
struct xgw_exchange_info {
    const char *instance;
    const char *plugin;
    const char *plugin_version;
    const char *network;
    const char *const *rest_endpoints;
    size_t n_rest;
    const char *const *ws_endpoints;
    size_t n_ws;
    bool api_key_set;
};
XGW_EXPORT void xgw_exchange_info(const struct xgw_exchange *ex, struct xgw_exchange_info *out);

/* ---- the loop ---- */

/* Start the I/O thread. */
XGW_EXPORT int xgw_start(struct xgw_gateway *gw, struct xgw_error *err);
/* Host-driven loop: poll xgw_fd() for readability (and wake at least every
 * xgw_timeout_ms() ms), then call xgw_step(). Not to be mixed with
 * xgw_start. */
XGW_EXPORT int xgw_fd(const struct xgw_gateway *gw);
XGW_EXPORT int xgw_timeout_ms(const struct xgw_gateway *gw);
XGW_EXPORT int xgw_step(struct xgw_gateway *gw);

/* ---- calls ---- */

/* The result of one call. Which members are filled depends on the op.
 * Owned by xgw: valid during the callback, or until xgw_result_free for
 * results returned by xgw_call_sync. */
struct xgw_result {
    enum xgw_op op;
    const char *exchange;     /* instance name */
    const char *endpoint;     /* base URL that answered */
    int64_t server_time_ms;   /* TIME */
    int64_t local_offset_ms;  /* TIME: server - local (midpoint of the round trip) */
    const struct xgw_market *markets;
    size_t n_markets;
    struct xgw_ticker ticker; /* TICKER */
    struct xgw_book_info book;
    const struct xgw_level *bids; /* DEPTH: best first */
    size_t n_bids;
    const struct xgw_level *asks;
    size_t n_asks;
    const struct xgw_balance *balances;
    size_t n_balances;
    const struct xgw_position *positions;
    size_t n_positions;
    const struct xgw_order *orders; /* PLACE/CANCEL/GET_ORDER: one; OPEN_ORDERS: all */
    size_t n_orders;
    const char *token;        /* WS_TOKEN */
};

/* Completion callback: exactly one of res/err is non-NULL. Runs on the loop
 * thread; both pointers are borrowed for the call. */
typedef void (*xgw_done_fn)(void *user, const struct xgw_result *res, const struct xgw_error *err);

/* Submit a call from any thread. Returns 0, or an error kind when it could
 * not be queued (then done is never called). */
XGW_EXPORT int xgw_call(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *call, xgw_done_fn done,
                        void *user);
/* Synchronous: waits for the answer. Returns 0 and *out (free with
 * xgw_result_free), or the error kind with err filled. The calling thread
 * drives the loop while it waits, also after xgw_start (the I/O thread
 * lends it the loop and takes it back within 1 ms of the last such call):
 * other callbacks, one at a time as always, may then run on this thread. */
XGW_EXPORT int xgw_call_sync(struct xgw_exchange *ex, enum xgw_op op, const struct xgw_call *call,
                             struct xgw_result **out, struct xgw_error *err);
XGW_EXPORT void xgw_result_free(struct xgw_result *res);

/* ---- health ---- */

/* Health of endpoints (from active checks and circuit breakers), of
 * instances and of the gateway:
 *   HEALTHY    every endpoint passed its last checks and its breaker is closed
 *   DEGRADED   serving, but some endpoint is unhealthy or its breaker not closed
 *   UNHEALTHY  nothing can serve: every endpoint unhealthy or its breaker open,
 *              or the exchange banned the instance
 *   UNKNOWN    no check has decided yet
 * The gateway's state is its worst instance's (UNHEALTHY > DEGRADED >
 * UNKNOWN > HEALTHY). */
enum xgw_health { XGW_HEALTH_UNKNOWN = 0, XGW_HEALTH_HEALTHY, XGW_HEALTH_DEGRADED, XGW_HEALTH_UNHEALTHY };
XGW_EXPORT const char *xgw_health_name(enum xgw_health h); /* "HEALTHY", ... */

/* A JSON snapshot of health into a malloc'd NUL-terminated string (*json,
 * caller frees; json may be NULL when only the state is wanted):
 *   {"instances":[{"instance":"bn","plugin":"binance",
 *    "state":"DEGRADED","banned_until_ms":0,"endpoints":[{"url":"https://..",
 *    "state":"UNHEALTHY","breaker":"open","breaker_retry_in_ms":12000,
 *    "consecutive_failures":5,"check_failures":3,"last_latency_ms":1.234,
 *    "last_check_ms":1790000000000,"last_error":"..","checks":9,"failures":3}]}],"state":"DEGRADED"}
 * last_latency_ms is null before the first successful check. *overall (may
 * be NULL) gets the gateway's state. Returns 0 or XGW_ERR_INTERNAL. Any
 * thread, also while the loop runs. */
XGW_EXPORT int xgw_health(struct xgw_gateway *gw, char **json, enum xgw_health *overall);

/* ---- metrics ---- */

enum xgw_metrics_format { XGW_METRICS_JSON = 0, XGW_METRICS_PROMETHEUS };
/* Write a snapshot of every metric into a malloc'd NUL-terminated string
 * (*out, caller frees). */
XGW_EXPORT int xgw_metrics(struct xgw_gateway *gw, enum xgw_metrics_format fmt, char **out);

/* ---- status server (GET /metrics, /health, /status.json, /) ----
 *
 * A small HTTP/1.1 server on the gateway's own loop (no extra thread):
 *   GET /metrics       Prometheus text exposition 0.0.4 (?format=json: JSON)
 *   GET /health        xgw_health() JSON; 503 when UNHEALTHY, else 200
 *                      (UNKNOWN answers 200: nothing has failed yet)
 *   GET /status.json   health, metrics and stream counters in one object
 *   GET /              a self-contained HTML status page (no external assets)
 * addr: "host:port", "[v6]:port" or "port" (= 127.0.0.1:port); port 0 picks
 * a free port (xgw_listener_port tells which). A non-loopback address is
 * refused (XGW_ERR_CONFIG) unless flags has XGW_LISTEN_PUBLIC
 * (metrics_listen_public = true in the config). Returns 0 and *out, or an
 * error kind with err filled. Works with xgw_start and with a host-driven
 * loop (the server runs when the loop runs). Any thread but a callback. */
struct xgw_listener;
#define XGW_LISTEN_PUBLIC 1u
XGW_EXPORT int xgw_listen(struct xgw_gateway *gw, const char *addr, unsigned flags, struct xgw_listener **out,
                          struct xgw_error *err);
/* The bound TCP port, or -1 for NULL. Any thread. */
XGW_EXPORT int xgw_listener_port(const struct xgw_listener *l);
/* Stop serving: closes the socket and every client connection, then frees
 * l. Call before xgw_close of its gateway. NULL is a no-op. */
XGW_EXPORT void xgw_listen_close(struct xgw_listener *l);

#ifdef __cplusplus
}
#endif
#endif /* XGW_XGW_H */
