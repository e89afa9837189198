/*
 * core/httpd.h — the gateway's small HTTP/1.1 status server (internal part;
 * the public calls xgw_listen / xgw_listener_port / xgw_listen_close are in
 * include/xgw/xgw.h).
 *
 * It runs on the gateway's own libuv loop, so it needs no thread of its own
 * and embedding engines get it with the library. It answers only GET and
 * HEAD, without request bodies, on four paths:
 *   /metrics        Prometheus text exposition 0.0.4 (?format=json: JSON)
 *   /health         xgw_health() JSON; 200 unless UNHEALTHY (503)
 *   /status.json    {"health":...,"metrics":...,"streams":...} for the page
 *   /               the self-contained HTML status page (core/httpd_page.c)
 *
 * Limits: a request head is at most XGW__HTTPD_MAX_HEAD bytes (431
 * otherwise), a request must arrive completely within
 * XGW__HTTPD_REQ_TIMEOUT_MS of the connection opening or of the previous
 * answer (slow or idle clients are closed), an answer must be taken by the
 * client within the same time, and at most XGW__HTTPD_MAX_CONNS connections
 * are open at once (further ones are closed at accept). Keep-alive is
 * supported (HTTP/1.1 default, HTTP/1.0 with Connection: keep-alive).
 */
#ifndef XGW_CORE_HTTPD_H
#define XGW_CORE_HTTPD_H

#include "buf.h"
#include "xgw/xgw.h"

#define XGW__HTTPD_MAX_HEAD 8192
#define XGW__HTTPD_REQ_TIMEOUT_MS 10000
#define XGW__HTTPD_MAX_CONNS 64

/* The status page (HTML): its pieces in order, NULL-terminated. */
extern const char *const xgw__httpd_page_parts[];

/* Extra data for /status.json: fn appends one JSON value (e.g. an array of
 * the host's subscriptions) to b and returns 0 or XGW_ERR_INTERNAL. Called
 * on the loop thread; must not block. Without it "subscriptions" is [] and
 * the page shows the core's per-instance stream counters only. */
typedef int (*xgw__httpd_status_fn)(void *user, struct xgw_buf *b);
/* xgw_listen with a status function (user is borrowed until
 * xgw_listen_close returns). */
int xgw__listen_ex(struct xgw_gateway *gw, const char *addr, unsigned flags, xgw__httpd_status_fn fn,
                   void *user, struct xgw_listener **out, struct xgw_error *err);


/* True for a numeric loopback address text (127.0.0.0/8, ::1,
 * ::ffff:127.x.y.z) or "localhost". For the config check and tests. */
bool xgw__httpd_is_loopback(const char *host);

#endif
