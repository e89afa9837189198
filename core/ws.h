/*
 * core/ws.h — WebSocket client connections over libwebsockets, on the
 * gateway's own libuv loop (internal).
 *
 * One struct xgw__ws_ctx per gateway: an lws context created with
 * LWS_SERVER_OPTION_LIBUV and the gateway's uv loop as its foreign loop, so
 * sockets, TLS and lws timers are all serviced by the one I/O thread that
 * also drives libcurl. One struct xgw__ws_host per exchange instance: an lws
 * vhost with the instance's client TLS settings (its ca_file). One context
 * for all instances because lws 4.1 runs its global OpenSSL set-up per
 * context, and a second live context leaks the first one's client SSL_CTX
 * (~0.7 MB, seen by LeakSanitizer). Trust: peer and host name verification
 * are always on (no LCCSCF_ALLOW_* flag is ever set); ca_file ADDS
 * certificates to the system store, it does not replace it. Only wss:// URLs
 * are accepted.
 *
 * A struct xgw__ws is one connection. The owner gets exactly one of
 * on_open/on_closed per successful xgw__ws_connect, then text frames
 * (reassembled from fragments, capped at max_msg bytes), and finally exactly
 * one on_closed — after which the struct is freed by this module and must
 * not be touched. Outgoing frames are queued and written when the socket is
 * writable; protocol pings from the server are answered by lws itself (the
 * pong echoes the payload, as Binance requires).
 *
 * Threading: loop thread only. Destruction is asynchronous (lws closes its
 * uv handles through the loop): xgw__ws_ctx_destroy starts it and the loop
 * must run until xgw__ws_ctx_gone() says it finished.
 */
#ifndef XGW_CORE_WS_H
#define XGW_CORE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "xgw/types.h"

struct xgw__ws_ctx;
struct xgw__ws_host;
struct xgw__ws;

struct xgw__ws_cbs {
    void (*on_open)(void *user, struct xgw__ws *ws);
    void (*on_text)(void *user, struct xgw__ws *ws, const char *data, size_t len);
    /* Last call for this connection; reason is a short text (never NULL).
     * was_open tells a drop from a failed connect/handshake. */
    void (*on_closed)(void *user, struct xgw__ws *ws, bool was_open, const char *reason);
};

/* 0, or XGW_ERR_INTERNAL with err filled (lws refused to start). */
int xgw__ws_ctx_new(uv_loop_t *loop, struct xgw__ws_ctx **out, struct xgw_error *err);
/* Close every connection of every host (each gets on_closed) and start
 * destroying the context. The loop must keep running until
 * xgw__ws_ctx_gone(c) is true; then xgw__ws_ctx_free(c), which also frees
 * the hosts not freed yet (xgw__ws_host_free is also allowed until then). */
void xgw__ws_ctx_destroy(struct xgw__ws_ctx *c);
bool xgw__ws_ctx_gone(const struct xgw__ws_ctx *c);
/* Advance a started destruction (call between loop runs until gone). */
void xgw__ws_ctx_destroy_step(struct xgw__ws_ctx *c);
void xgw__ws_ctx_free(struct xgw__ws_ctx *c);

/* A vhost for one instance; instance (log attribution, vhost name) and
 * ca_file (may be NULL) are copied. 0, CANCELLED (context closing) or
 * INTERNAL. */
int xgw__ws_host_new(struct xgw__ws_ctx *c, const char *instance, const char *ca_file,
                     struct xgw__ws_host **out, struct xgw_error *err);
/* Close every connection of h (on_closed follows from the loop for each)
 * and refuse new ones. The loop must run until xgw__ws_host_idle(h). */
void xgw__ws_host_close(struct xgw__ws_host *h);
bool xgw__ws_host_idle(const struct xgw__ws_host *h);
/* Destroy the vhost and free h: once idle, or after the context is gone
 * (a host with live connections on a live context is kept and logged). */
void xgw__ws_host_free(struct xgw__ws_host *h);

/* Open url ("wss://host[:port]" base) + path ("/stream?x=y"). On 0 *out is
 * set and the callbacks will follow; otherwise nothing is called and err
 * says why (INVALID_REQUEST for a bad/non-wss URL, NETWORK otherwise). */
int xgw__ws_connect(struct xgw__ws_host *h, const char *url, const char *path, size_t max_msg,
                    const struct xgw__ws_cbs *cbs, void *user, struct xgw__ws **out, struct xgw_error *err);
/* Queue one text frame (copied). 0 or XGW_ERR_INTERNAL/NETWORK (closing). */
int xgw__ws_send(struct xgw__ws *ws, const char *data, size_t len);
/* Drop the connection now (no close handshake: a stalled peer must not hold
 * us up). on_closed follows from the loop. Idempotent. */
void xgw__ws_close(struct xgw__ws *ws);
/* Frames queued and not yet written. */
size_t xgw__ws_queued(const struct xgw__ws *ws);

#endif
