/*
 * core/ws.c — libwebsockets client glue on the gateway's libuv loop. See ws.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "ws.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "log.h"

struct wsq {
    struct wsq *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the frame */
};

struct xgw__ws {
    struct xgw__ws_host *host;
    struct xgw__ws *next, *prev; /* host's list */
    struct lws *wsi;
    struct xgw__ws_cbs cbs;
    void *user;
    size_t max_msg;
    struct xgw_buf rx;
    bool rx_overflow;
    struct wsq *qhead, *qtail;
    size_t nq;
    bool open;
    bool closing;
    bool in_connect;    /* inside lws_client_connect_via_info */
    bool died_in_connect;
    char reason[128];
    char host_name[256];
    char path[1024];
};

/* One per gateway: the lws context on the gateway's loop. */
struct xgw__ws_ctx {
    struct lws_context *lws; /* set to NULL by lws when destruction completes */
    struct lws_protocols protocols[2];
    struct xgw__ws_host *hosts;
    bool destroying;
};

/* One per instance: an lws vhost with the instance's client TLS. */
struct xgw__ws_host {
    struct xgw__ws_ctx *ctx;
    struct xgw__ws_host *next, *prev; /* ctx's list */
    struct lws_vhost *vh;
    char *instance;
    char *ca_file;
    struct xgw__ws *conns;
    bool closing;
};

/* ------------------------------------------------------------------------ */

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* lws's own log lines are diagnostics about the library; they go to our
 * log at debug level (scrubbed there like every other line). */
static void lws_log_emit(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    xgw__log(NULL, level == LLL_ERR ? XGW_LOG_WARN : XGW_LOG_DEBUG, "lws", "%.*s", (int)n, line);
}

static void log_init(void) { lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit); }

static void q_free_all(struct xgw__ws *w)
{
    while (w->qhead) {
        struct wsq *q = w->qhead;
        w->qhead = q->next;
        free(q);
    }
    w->qtail = NULL;
    w->nq = 0;
}

static void conn_unlink_free(struct xgw__ws *w)
{
    struct xgw__ws_host *h = w->host;
    if (w->prev)
        w->prev->next = w->next;
    else if (h->conns == w)
        h->conns = w->next;
    if (w->next)
        w->next->prev = w->prev;
    q_free_all(w);
    xgw__buf_free(&w->rx);
    free(w);
}

static void set_reason(struct xgw__ws *w, const char *what, const void *in, size_t len)
{
    if (w->reason[0])
        return; /* the first cause is the interesting one */
    if (in && len == 0)
        len = strnlen(in, 200);
    size_t n = snprintf(w->reason, sizeof w->reason, "%s", what);
    if (in && len && n + 3 < sizeof w->reason) {
        bool trunc = false;
        memcpy(w->reason + n, ": ", 3);
        xgw__escape_ctl(w->reason, sizeof w->reason, n + 2, in, len, &trunc);
    }
}

static int on_writable(struct xgw__ws *w, struct lws *wsi)
{
    if (w->closing)
        return -1;
    struct wsq *q = w->qhead;
    if (!q)
        return 0;
    w->qhead = q->next;
    if (!w->qhead)
        w->qtail = NULL;
    w->nq--;
    int n = lws_write(wsi, q->data + LWS_PRE, q->len, LWS_WRITE_TEXT);
    free(q);
    if (n < 0) {
        set_reason(w, "write failed", NULL, 0);
        return -1;
    }
    if (w->qhead)
        lws_callback_on_writable(wsi);
    return 0;
}

static int on_receive(struct xgw__ws *w, struct lws *wsi, const void *in, size_t len)
{
    if (!w->rx_overflow) {
        if (w->rx.len + len > w->max_msg) {
            w->rx_overflow = true;
        } else if (xgw__buf_append(&w->rx, in, len) != 0) {
            set_reason(w, "out of memory receiving a frame", NULL, 0);
            return -1;
        }
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return 0;
    if (w->rx_overflow) {
        /* A message larger than we accept is a protocol failure: dropping
         * it silently would hide a hole in the stream. */
        set_reason(w, "message larger than the limit", NULL, 0);
        return -1;
    }
    if (w->cbs.on_text && !w->closing)
        w->cbs.on_text(w->user, w, w->rx.data ? w->rx.data : "", w->rx.len);
    xgw__buf_reset(&w->rx);
    return w->closing ? -1 : 0;
}

static void add_trust(struct xgw__ws_host *c, SSL_CTX *ssl)
{
    if (!ssl)
        return;
    /* ca_file adds trust: keep the system store too. */
    SSL_CTX_set_default_verify_paths(ssl);
    if (c && c->ca_file && !SSL_CTX_load_verify_locations(ssl, c->ca_file, NULL))
        xgw__log(c->instance, XGW_LOG_WARN, "ws_ca_file", "ca_file %s could not be loaded for WebSockets",
                 c->ca_file);
    SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER, NULL);
}

/* The vhost being created: lws asks for its extra trust from inside
 * lws_create_vhost, through a stand-in wsi that carries no user data. */
static _Thread_local struct xgw__ws_host *creating;

static int lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS) {
        add_trust(creating, (SSL_CTX *)user);
        return 0;
    }
    struct xgw__ws *w = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!w || w->wsi != wsi)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        set_reason(w, "connect failed", in, in ? len : 0);
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        w->open = true;
        if (w->cbs.on_open && !w->closing)
            w->cbs.on_open(w->user, w);
        if (w->closing)
            return -1;
        if (w->qhead)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(w, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writable(w, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
        unsigned code = len >= 2 ? ((unsigned)((const unsigned char *)in)[0] << 8) | ((const unsigned char *)in)[1] : 0;
        char what[48];
        snprintf(what, sizeof what, "closed by the server (%u)", code);
        set_reason(w, what, len > 2 ? (const char *)in + 2 : NULL, len > 2 ? len - 2 : 0);
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        set_reason(w, "connection closed", NULL, 0);
        break;
    case LWS_CALLBACK_WSI_DESTROY: {
        w->wsi = NULL;
        set_reason(w, w->open ? "connection lost" : "connect failed", NULL, 0);
        if (w->in_connect) {
            w->died_in_connect = true; /* xgw__ws_connect reports it */
            return 0;
        }
        bool was_open = w->open;
        char why[sizeof w->reason];
        memcpy(why, w->reason, sizeof why);
        if (w->cbs.on_closed)
            w->cbs.on_closed(w->user, w, was_open, why);
        conn_unlink_free(w);
        break;
    }
    default:
        break;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

static const uint64_t LWS_OPTS = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                                 LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;

int xgw__ws_ctx_new(uv_loop_t *loop, struct xgw__ws_ctx **out, struct xgw_error *err)
{
    pthread_once(&log_once, log_init);
    struct xgw__ws_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    c->protocols[0].name = "xgw-ws";
    c->protocols[0].callback = lws_cb;
    c->protocols[0].rx_buffer_size = (size_t)64 * 1024;

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    void *loops[1] = {loop};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = c->protocols;
    /* No default vhost: each instance gets its own (xgw__ws_host_new), so
     * one context - one OpenSSL set-up by lws - serves every instance. */
    info.options = LWS_OPTS | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = loops;
    info.pcontext = &c->lws;
    info.user = c;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    info.timeout_secs = 10; /* connect + handshake */
    struct lws_context *lc = lws_create_context(&info);
    if (!lc) {
        free(c);
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0,
                               "libwebsockets could not start on the event loop (is libwebsockets-evlib_uv installed?)");
    }
    c->lws = lc;
    *out = c;
    return XGW_OK;
}

void xgw__ws_ctx_destroy(struct xgw__ws_ctx *c)
{
    if (!c || c->destroying)
        return;
    c->destroying = true;
    for (struct xgw__ws_host *h = c->hosts; h; h = h->next) {
        h->closing = true;
        for (struct xgw__ws *w = h->conns; w; w = w->next)
            w->closing = true;
    }
    if (c->lws)
        lws_context_destroy(c->lws); /* every wsi is closed: on_closed for each */
}

bool xgw__ws_ctx_gone(const struct xgw__ws_ctx *c) { return !c || c->lws == NULL; }

void xgw__ws_ctx_destroy_step(struct xgw__ws_ctx *c)
{
    /* With a foreign loop lws 4.1 destroys in stages: the first call closes
     * its uv handles, later calls (once the loop has run their close
     * callbacks) free the vhosts and then the context (pcontext -> NULL). */
    if (c && c->destroying && c->lws)
        lws_context_destroy(c->lws);
}

static void host_unlink_free(struct xgw__ws_host *h)
{
    /* only if lws never reported them (should not happen) */
    for (struct xgw__ws *w = h->conns, *next; w; w = next) {
        next = w->next;
        conn_unlink_free(w);
    }
    struct xgw__ws_ctx *c = h->ctx;
    if (h->prev)
        h->prev->next = h->next;
    else if (c->hosts == h)
        c->hosts = h->next;
    if (h->next)
        h->next->prev = h->prev;
    free(h->instance);
    free(h->ca_file);
    free(h);
}

void xgw__ws_ctx_free(struct xgw__ws_ctx *c)
{
    if (!c)
        return;
    /* lws freed the vhosts with the context */
    for (struct xgw__ws_host *h = c->hosts, *next; h; h = next) {
        next = h->next;
        host_unlink_free(h);
    }
    free(c);
}

int xgw__ws_host_new(struct xgw__ws_ctx *c, const char *instance, const char *ca_file,
                     struct xgw__ws_host **out, struct xgw_error *err)
{
    if (c->destroying || !c->lws)
        return xgw__set_errorf(err, XGW_ERR_CANCELLED, 0, "WebSocket context is closing");
    struct xgw__ws_host *h = calloc(1, sizeof *h);
    if (!h || !(h->instance = strdup(instance ? instance : "")) ||
        (ca_file && !(h->ca_file = strdup(ca_file)))) {
        if (h)
            free(h->instance);
        free(h);
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    }
    h->ctx = c;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = c->protocols;
    info.options = LWS_OPTS;
    info.vhost_name = h->instance;
    info.user = h;
    /* lws shares one client SSL_CTX between vhosts whose TLS settings hash
     * alike, and the CA file is part of that hash: instances with different
     * ca_file never share a trust store, instances with the same one may. */
    info.client_ssl_ca_filepath = h->ca_file;
    creating = h;
    h->vh = lws_create_vhost(c->lws, &info);
    creating = NULL;
    if (!h->vh) {
        free(h->instance);
        free(h->ca_file);
        free(h);
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0,
                               "libwebsockets could not create the client TLS context");
    }
    h->next = c->hosts;
    if (c->hosts)
        c->hosts->prev = h;
    c->hosts = h;
    *out = h;
    return XGW_OK;
}

void xgw__ws_host_close(struct xgw__ws_host *h)
{
    if (!h)
        return;
    h->closing = true;
    for (struct xgw__ws *w = h->conns; w; w = w->next)
        xgw__ws_close(w);
}

bool xgw__ws_host_idle(const struct xgw__ws_host *h) { return !h || !h->conns; }

void xgw__ws_host_free(struct xgw__ws_host *h)
{
    if (!h)
        return;
    struct xgw__ws_ctx *c = h->ctx;
    if (c->lws && !c->destroying) {
        if (h->conns) {
            /* lws would call back into a freed host: keep it (a bug, logged) */
            xgw__log(h->instance, XGW_LOG_ERROR, "ws_close", "WebSocket connections still open; not freed");
            return;
        }
        /* No wsi is bound to it any more, so lws frees it at once. */
        lws_vhost_destroy(h->vh);
    }
    host_unlink_free(h);
}

/* "wss://host[:port][/prefix]" -> host, port, prefix. */
static int split_url(const char *url, char *host, size_t hcap, int *port, const char **prefix)
{
    if (strncmp(url, "wss://", 6) != 0)
        return -1;
    const char *h = url + 6;
    const char *end = h + strcspn(h, "/?#");
    const char *colon = NULL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb)
            return -1;
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        if ((size_t)(rb - h - 1) >= hcap)
            return -1;
        memcpy(host, h + 1, (size_t)(rb - h - 1));
        host[rb - h - 1] = '\0';
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        const char *he = colon ? colon : end;
        if (he == h || (size_t)(he - h) >= hcap)
            return -1;
        memcpy(host, h, (size_t)(he - h));
        host[he - h] = '\0';
    }
    *port = 443;
    if (colon) {
        char *e;
        long p = strtol(colon + 1, &e, 10);
        if (e != end || p <= 0 || p > 65535)
            return -1;
        *port = (int)p;
    }
    *prefix = end;
    return 0;
}

int xgw__ws_connect(struct xgw__ws_host *h, const char *url, const char *path, size_t max_msg,
                    const struct xgw__ws_cbs *cbs, void *user, struct xgw__ws **out, struct xgw_error *err)
{
    struct xgw__ws_ctx *c = h->ctx;
    if (c->destroying || !c->lws || h->closing)
        return xgw__set_errorf(err, XGW_ERR_CANCELLED, 0, "WebSocket context is closing");
    struct xgw__ws *w = calloc(1, sizeof *w);
    if (!w)
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    int port;
    const char *prefix;
    if (split_url(url, w->host_name, sizeof w->host_name, &port, &prefix) != 0) {
        free(w);
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "WebSocket endpoint %s is not a wss://host[:port] URL",
                               url);
    }
    int n = snprintf(w->path, sizeof w->path, "%s%s", *prefix == '/' ? prefix : "", path ? path : "");
    if (n < 0 || (size_t)n >= sizeof w->path) {
        free(w);
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "WebSocket path too long");
    }
    if (w->path[0] == '\0')
        strcpy(w->path, "/");
    w->host = h;
    w->cbs = *cbs;
    w->user = user;
    w->max_msg = max_msg ? max_msg : (16u << 20);
    /* link first: callbacks may run inside the connect call */
    w->next = h->conns;
    if (h->conns)
        h->conns->prev = w;
    h->conns = w;

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = c->lws;
    ci.vhost = h->vh;
    ci.address = w->host_name;
    ci.port = port;
    ci.ssl_connection = LCCSCF_USE_SSL; /* verification on: no ALLOW_* flag, ever */
    ci.path = w->path;
    ci.host = w->host_name;
    ci.origin = w->host_name;
    ci.protocol = NULL;
    ci.local_protocol_name = c->protocols[0].name;
    ci.alpn = "http/1.1";
    ci.opaque_user_data = w;
    ci.pwsi = &w->wsi;
    w->in_connect = true;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    w->in_connect = false;
    if (!wsi || w->died_in_connect) {
        char why[sizeof w->reason];
        snprintf(why, sizeof why, "%s", w->reason[0] ? w->reason : "connect refused");
        if (wsi && !w->died_in_connect)
            lws_set_timeout(wsi, (enum pending_timeout)1, LWS_TO_KILL_SYNC);
        w->wsi = NULL;
        conn_unlink_free(w);
        return xgw__set_errorf(err, XGW_ERR_NETWORK, 0, "WebSocket connect to %s failed: %s", url, why);
    }
    w->wsi = wsi;
    *out = w;
    return XGW_OK;
}

int xgw__ws_send(struct xgw__ws *w, const char *data, size_t len)
{
    if (w->closing)
        return XGW_ERR_NETWORK;
    struct wsq *q = malloc(sizeof *q + LWS_PRE + len);
    if (!q)
        return XGW_ERR_INTERNAL;
    q->next = NULL;
    q->len = len;
    memcpy(q->data + LWS_PRE, data, len);
    if (w->qtail)
        w->qtail->next = q;
    else
        w->qhead = q;
    w->qtail = q;
    w->nq++;
    if (w->open && w->wsi)
        lws_callback_on_writable(w->wsi);
    return XGW_OK;
}

void xgw__ws_close(struct xgw__ws *w)
{
    if (!w || w->closing)
        return;
    w->closing = true;
    set_reason(w, "closed by xgw", NULL, 0);
    if (w->wsi) {
        /* Both: the writable callback closes an open connection at once
         * (returning -1), the timeout covers one still connecting. */
        lws_set_timeout(w->wsi, (enum pending_timeout)1, LWS_TO_KILL_ASYNC);
        if (w->open)
            lws_callback_on_writable(w->wsi);
    }
}

size_t xgw__ws_queued(const struct xgw__ws *w) { return w ? w->nq : 0; }
