/*
 * core/http.h — the connection pool of one exchange instance: a libcurl
 * multi handle driven through the multi_socket API by uv_poll/uv_timer on
 * the gateway's loop (internal).
 *
 * One struct xgw__http per instance owns: the CURLM (its connection cache
 * is the pool: keep-alive reuse, HTTP/2 multiplexing when http2 is on, at
 * most pool_max connections per host), a CURLSH sharing DNS and TLS
 * sessions, and a free list of transfers (struct xgw__xfer). A transfer
 * keeps its easy handle, request/response buffers, header nodes and sink
 * for its whole life: fixed options are set once when it is created and a
 * request only changes URL, method, body and headers, so the steady path
 * allocates nothing.
 *
 * Trust: peer and host verification are always on; ca_file adds its
 * certificates to the default trust store (it does not replace it).
 * Idle connections: CURLOPT_MAXAGE_CONN drops connections idle longer than
 * idle_timeout_s when traffic continues; when the pool has had no transfer
 * at all for idle_timeout_s, cfg.on_idle decides (the gateway keeps
 * pool_min warm) and xgw__http_close_idle() closes the whole cache.
 *
 * Threading: everything here runs on the loop thread.
 */
#ifndef XGW_CORE_HTTP_H
#define XGW_CORE_HTTP_H

#include <curl/curl.h>
#include <uv.h>

#include "metrics.h"
#include "response.h"
#include "sink.h"

struct xgw__http_cfg {
    const char *instance;       /* for logs and errors */
    int pool_max;               /* connections per host, >= 1 */
    size_t n_hosts;             /* endpoints, to size the connection cache */
    int idle_timeout_s;         /* >= 1 */
    int connect_timeout_ms;     /* > 0 */
    int request_timeout_ms;     /* > 0: whole transfer */
    bool http2;
    int64_t max_response_bytes; /* headers + body */
    const char *ca_file;        /* NULL or a PEM file of extra trusted certificates */
    /* Called (loop thread) when no transfer ran for idle_timeout_s; decides
     * whether to xgw__http_close_idle(). NULL = always close. */
    void (*on_idle)(void *arg);
    void *on_idle_arg;
};

struct xgw__http;
struct xgw__xfer;

/* Called exactly once per successful xgw__http_send, on the loop thread. */
typedef void (*xgw__xfer_done_fn)(struct xgw__xfer *x);

struct xgw__xfer {
    /* ---- filled by the pipeline before xgw__http_send ---- */
    struct xgw_request req;  /* build() writes here; reset by xgw__http_xfer_get */
    void *user;
    xgw__xfer_done_fn done;
    struct xgw__ep_metrics *ep; /* bytes and connection counters (borrowed) */
    int timeout_ms;             /* > 0: this transfer's own limit (health checks); 0 = request_timeout_ms */
    bool send_once;             /* an order: never let libcurl send it a second time (see on_prereq) */

    /* ---- filled by the HTTP layer before done() ---- */
    int kind;              /* XGW_OK: an HTTP answer arrived (any status); else the transport error */
    struct xgw_error err;  /* kind != XGW_OK: message, endpoint, flags (XGW_ERRF_SENT) */
    bool sent;             /* request bytes left this process */
    bool new_conn;         /* the transfer opened a new connection */
    int64_t t_start_us;    /* monotonic, at send */
    int64_t t_end_us;      /* monotonic, at completion */
    int64_t start_wall_us; /* wall clock at send (unix us) */
    int64_t end_wall_us;   /* wall clock at completion (unix us) */
    int64_t sent_wall_us;       /* wall clock when the request was about to be written, 0 unknown */
    int64_t first_byte_wall_us; /* wall clock at the answer's status line, 0 unknown */
    struct xgw_response resp; /* status, headers, body (body borrowed from body_in) */
    struct xgw_sink *sink;    /* for the pipeline's parse; reset by xgw__http_xfer_get */

    /* ---- private ---- */
    struct xgw__http *http;
    struct xgw__xfer *next;  /* free list / active list */
    struct xgw__xfer *prev;
    CURL *easy;
    struct xgw_buf url;
    struct xgw_buf body_in;
    struct curl_slist *hdr_nodes;
    size_t hdr_cap;
    bool active;
    bool oversized;
    unsigned prereqs;       /* requests libcurl started for this transfer */
    char errbuf[CURL_ERROR_SIZE];
};

/* Create the pool on loop. 0, XGW_ERR_CONFIG (unreadable ca_file) or
 * XGW_ERR_INTERNAL with err filled. */
int xgw__http_new(uv_loop_t *loop, const struct xgw__http_cfg *cfg, struct xgw__http **out, struct xgw_error *err);
/* Complete every active transfer with XGW_ERR_CANCELLED (done() is called),
 * close every connection, free every transfer. The struct itself is freed
 * once libuv has closed its handles, so the loop must run afterwards
 * (xgw__loop_destroy does). */
void xgw__http_free(struct xgw__http *h);

/* A transfer ready for a new request (buffers, response and sink reset).
 * NULL when out of memory. */
struct xgw__xfer *xgw__http_xfer_get(struct xgw__http *h);
/* Give back a transfer that is not active (after done(), or never sent). */
void xgw__http_xfer_put(struct xgw__http *h, struct xgw__xfer *x);

/* Start x: base URL (no trailing slash) + x->req.target, with x->req's
 * method, body and header lines. On 0, x->done(x) will be called exactly
 * once; otherwise (XGW_ERR_INTERNAL, x->err filled) it never is. */
int xgw__http_send(struct xgw__http *h, struct xgw__xfer *x, const char *base_url);

/* Close every pooled connection now (only when no transfer is active). */
void xgw__http_close_idle(struct xgw__http *h);

/* Complete every active transfer now with XGW_ERR_CANCELLED. */
void xgw__http_cancel_all(struct xgw__http *h);

size_t xgw__http_active(const struct xgw__http *h);

#endif
