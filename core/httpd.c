/*
 * core/httpd.c — the status server: GET /metrics, /health, /status.json
 * and / on the gateway's libuv loop. See httpd.h for paths and limits.
 *
 * Why hand-written rather than libmicrohttpd or lws's server: the server
 * answers four fixed GET paths, has no bodies, no TLS and no chunking, and
 * must live on the gateway's existing uv loop without a thread of its own.
 * A few hundred lines of strict parsing (a bounded head, GET/HEAD only, a
 * body refused outright) are easier to audit than a dependency's
 * configuration surface, and avoid a second event loop.
 *
 * Threading: xgw_listen/xgw_listen_close may be called from any thread; the
 * work happens on the loop thread (submitted as a task, the caller waits).
 * Every handle of a listener is touched on the loop thread only.
 */
#define _GNU_SOURCE /* memmem, strcasecmp */
#include "httpd.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "gateway.h"
#include "log.h"
#include "loop.h"
#include "stream.h"

#define container_of(p, T, m) ((T *)(void *)((char *)(p)-offsetof(T, m)))

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct xgw_listener *l;
    struct conn *prev, *next;
    int open_handles; /* tcp + timer, until both close callbacks ran */
    bool closing;
    bool writing;
    bool close_after; /* close once the answer is written */
    bool draining;    /* answer sent and FIN sent: reading and discarding until EOF */
    uv_write_t wr;
    uv_shutdown_t shut;
    char *out; /* the answer being written (owned) */
    size_t in_len;
    char in[XGW__HTTPD_MAX_HEAD];
};

struct xgw_listener {
    struct xgw_gateway *gw;
    struct xgw__loop *loop;
    uv_tcp_t srv;
    bool srv_open; /* uv_tcp_init done: srv must be closed */
    struct sockaddr_storage sa;
    char addr_text[80]; /* "127.0.0.1:9464" as bound (for logs) */
    int port;
    struct conn *conns;
    size_t n_conns;
    int64_t started_ms;
    uint64_t served; /* answers written (any status) */

    xgw__httpd_status_fn status_fn;
    void *status_user;

    /* start / close handshake with the calling thread */
    struct xgw__task task;
    bool done;
    bool waiter;              /* a thread waits on done; otherwise the last close frees l */
    bool closing;             /* close_all ran: the last close callback finishes */
    int pending_closes;       /* handles whose close callback has not run */
    struct start_result *res; /* start_task's answer (the caller's stack) */
};

struct start_result {
    int rc;
    struct xgw_error err;
};

/* ------------------------------------------------------------------------ */
/* Addresses                                                                 */
/* ------------------------------------------------------------------------ */

bool xgw__httpd_is_loopback(const char *host)
{
    if (!host)
        return false;
    if (!strcasecmp(host, "localhost"))
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        if (IN6_IS_ADDR_V4MAPPED(&a6))
            return a6.s6_addr[12] == 127;
    }
    return false;
}

/* "host:port", "[v6]:port", ":port" or "port" into host (bare port and
 * empty host = 127.0.0.1) and port. 0 or -1 with *why. */
static int split_addr(const char *addr, char *host, size_t cap, int *port, const char **why)
{
    const char *p;
    size_t hl;
    const char *colon = strrchr(addr, ':');
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':') {
            *why = "an IPv6 address must be written [addr]:port";
            return -1;
        }
        hl = (size_t)(rb - addr - 1);
        memcpy(host, addr + 1, hl < cap ? hl : 0);
        p = rb + 2;
    } else if (colon) {
        hl = (size_t)(colon - addr);
        if (memchr(addr, ':', hl)) {
            *why = "an IPv6 address must be written [addr]:port";
            return -1;
        }
        memcpy(host, addr, hl < cap ? hl : 0);
        p = colon + 1;
    } else {
        hl = 0;
        p = addr;
    }
    if (hl >= cap) {
        *why = "the host name is too long";
        return -1;
    }
    host[hl] = '\0';
    if (hl == 0)
        snprintf(host, cap, "127.0.0.1");
    char *end;
    long v = strtol(p, &end, 10);
    if (!*p || *end || v < 0 || v > 65535) {
        *why = "the port must be a number 0..65535";
        return -1;
    }
    *port = (int)v;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

static void listener_closed_one(struct xgw_listener *l);

static void on_conn_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct xgw_listener *l = c->l;
    free(c->out);
    free(c);
    listener_closed_one(l);
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    struct xgw_listener *l = c->l;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    l->n_conns--;
    l->pending_closes++;
    /* Pending writes are cancelled (their callback runs with UV_ECANCELED
     * before the close callback), so c outlives them. */
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_timeout(uv_timer_t *t)
{
    /* A client that sent no complete request, or did not read our answer,
     * within the limit: a slow or idle client holds no slot for longer. */
    conn_close(t->data);
}

static void arm_timer(struct conn *c)
{
    uv_timer_start(&c->timer, on_timeout, XGW__HTTPD_REQ_TIMEOUT_MS, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct conn *c = h->data;
    if (c->draining)
        c->in_len = 0; /* discarded */
    buf->base = c->in + c->in_len;
    buf->len = sizeof c->in - c->in_len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Closing right after the answer would reset the connection when the
 * client's unread bytes (a refused body, the rest of an oversized head)
 * are still in our receive buffer, and the reset can destroy the answer
 * before the client reads it. So: send FIN, read and discard until the
 * client closes, bounded by a short timer. */
static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    c->draining = true;
    c->in_len = 0;
    uv_timer_start(&c->timer, on_timeout, 1000, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void close_gracefully(struct conn *c)
{
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        conn_close(c);
}

static void process(struct conn *c);

static void on_written(uv_write_t *w, int status)
{
    struct conn *c = w->data;
    free(c->out);
    c->out = NULL;
    c->writing = false;
    c->l->served++;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->close_after) {
        close_gracefully(c);
        return;
    }
    arm_timer(c);
    process(c); /* a pipelined request may already be buffered */
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct conn *c = s->data;
    if (n < 0) {
        conn_close(c); /* EOF, reset, or no room (cannot happen: process answers 431 first) */
        return;
    }
    if (c->draining)
        return;
    c->in_len += (size_t)n;
    process(c);
}

/* Queue the answer. head_only: HEAD (headers with the length, no body). */
static void respond(struct conn *c, int status, const char *reason, const char *ctype,
                    const char *extra_headers, const char *body, size_t body_len, bool head_only)
{
    struct xgw_buf b = {0};
    int rc = xgw__buf_printf(&b,
                             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                             "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                             "Connection: %s\r\n%s\r\n",
                             status, reason, ctype, body_len, c->close_after ? "close" : "keep-alive",
                             extra_headers ? extra_headers : "");
    if (!rc && !head_only && body_len)
        rc = xgw__buf_append(&b, body, body_len);
    if (rc) {
        xgw__buf_free(&b);
        conn_close(c);
        return;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->out = b.data;
    c->writing = true;
    c->wr.data = c;
    uv_buf_t ub = uv_buf_init(b.data, (unsigned)b.len);
    arm_timer(c); /* the client must take the answer in time too */
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &ub, 1, on_written) != 0) {
        free(c->out);
        c->out = NULL;
        c->writing = false;
        conn_close(c);
    }
}

static void respond_text(struct conn *c, int status, const char *reason, const char *text, bool head_only)
{
    respond(c, status, reason, "text/plain; charset=utf-8", NULL, text, strlen(text), head_only);
}

/* ---- /status.json --------------------------------------------------------- */

static uint64_t ld(const atomic_uint_fast64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Quantile of a stream latency histogram, microseconds. */
static int64_t stream_quantile_us(const struct xgw__stream_ch_metrics *m, double q)
{
    return xgw__lat_quantile_us(m->lat_bucket, &m->lat_max_us, q);
}

static const char *const ch_names[] = {"", "ticker", "trades", "book", "orders"};

/* The core's stream counters of every instance that ever had a stream. */
static int streams_json(struct xgw_gateway *gw, struct xgw_buf *b)
{
    int rc = xgw__buf_append_str(b, "[");
    bool first = true;
    for (size_t i = 0; !rc && i < gw->n_exchanges; i++) {
        const struct xgw__stream_metrics *m = xgw__stream_metrics(gw->exchanges[i]);
        if (!m)
            continue;
        rc = xgw__buf_append_str(b, first ? "{\"instance\":" : ",{\"instance\":");
        first = false;
        const char *name = gw->exchanges[i]->cfg->name;
        rc = rc ? rc : xgw__buf_json_str(b, name, strlen(name));
        rc = rc ? rc
                : xgw__buf_printf(
                      b,
                      ",\"connections\":%lld,\"connects\":%llu,\"reconnects\":%llu,\"frames\":%llu,"
                      "\"parse_errors\":%llu,\"stale_recycles\":%llu,\"channels\":{",
                      (long long)atomic_load_explicit(&m->connections, memory_order_relaxed),
                      (unsigned long long)ld(&m->connects), (unsigned long long)ld(&m->reconnects),
                      (unsigned long long)ld(&m->frames), (unsigned long long)ld(&m->parse_errors),
                      (unsigned long long)ld(&m->stale_recycles));
        bool first_ch = true;
        for (size_t ch = 1; !rc && ch < sizeof ch_names / sizeof ch_names[0]; ch++) {
            const struct xgw__stream_ch_metrics *cm = &m->ch[ch];
            if (!ld(&cm->messages) && !ld(&cm->gaps))
                continue;
            rc = xgw__buf_printf(
                b,
                "%s\"%s\":{\"messages\":%llu,\"gaps\":%llu,\"resyncs\":%llu,\"dropped\":%llu,"
                "\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f}",
                first_ch ? "" : ",", ch_names[ch], (unsigned long long)ld(&cm->messages),
                (unsigned long long)ld(&cm->gaps), (unsigned long long)ld(&cm->resyncs),
                (unsigned long long)ld(&cm->dropped), (double)stream_quantile_us(cm, 0.5) / 1000.0,
                (double)stream_quantile_us(cm, 0.99) / 1000.0);
            first_ch = false;
        }
        rc = rc ? rc : xgw__buf_append_str(b, "}}");
    }
    return rc ? rc : xgw__buf_append_str(b, "]");
}

/* Appends s without its trailing newline (the renderers end with one). */
static int append_trimmed(struct xgw_buf *b, const char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return xgw__buf_append(b, s, n);
}

static int status_json(struct xgw_listener *l, struct xgw_buf *b)
{
    char *health = NULL, *metrics = NULL;
    enum xgw_health overall = XGW_HEALTH_UNKNOWN;
    int rc = xgw_health(l->gw, &health, &overall);
    rc = rc ? rc : xgw_metrics(l->gw, XGW_METRICS_JSON, &metrics);
    rc = rc ? rc
            : xgw__buf_printf(b, "{\"version\":\"%s\",\"now_ms\":%lld,\"started_ms\":%lld,\"listen\":",
                              xgw_version(), (long long)xgw__wall_ms(), (long long)l->gw->metrics.started_ms);
    rc = rc ? rc : xgw__buf_json_str(b, l->addr_text, strlen(l->addr_text));
    /* this server's own load: open connections (this one included) and
     * answers written so far */
    rc = rc ? rc
            : xgw__buf_printf(b, ",\"http\":{\"connections\":%zu,\"served\":%llu}", l->n_conns,
                              (unsigned long long)l->served);
    rc = rc ? rc : xgw__buf_append_str(b, ",\"health\":");
    rc = rc ? rc : append_trimmed(b, health);
    rc = rc ? rc : xgw__buf_append_str(b, ",\"metrics\":");
    rc = rc ? rc : append_trimmed(b, metrics);
    rc = rc ? rc : xgw__buf_append_str(b, ",\"streams\":");
    rc = rc ? rc : streams_json(l->gw, b);
    rc = rc ? rc : xgw__buf_append_str(b, ",\"subscriptions\":");
    if (!rc && l->status_fn)
        rc = l->status_fn(l->status_user, b);
    else
        rc = rc ? rc : xgw__buf_append_str(b, "[]");
    rc = rc ? rc : xgw__buf_append_str(b, "}\n");
    free(health);
    free(metrics);
    return rc ? XGW_ERR_INTERNAL : 0;
}

/* ---- routing --------------------------------------------------------------- */

static bool query_has(const char *query, const char *kv)
{
    size_t n = strlen(kv);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len == n && !memcmp(p, kv, n))
            return true;
        p = amp ? amp + 1 : NULL;
    }
    return false;
}

static void route(struct conn *c, const char *method, char *target)
{
    struct xgw_listener *l = c->l;
    bool head = !strcmp(method, "HEAD");
    if (!head && strcmp(method, "GET") != 0) {
        c->close_after = true;
        static const char msg[] = "only GET and HEAD are served\n";
        respond(c, 405, "Method Not Allowed", "text/plain; charset=utf-8", "Allow: GET, HEAD\r\n", msg,
                sizeof msg - 1, false);
        return;
    }
    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    if (!strcmp(target, "/metrics")) {
        bool json = query && query_has(query, "format=json");
        if (query && *query && !json && !query_has(query, "format=prometheus")) {
            respond_text(c, 400, "Bad Request", "format must be json or prometheus\n", head);
            return;
        }
        char *out = NULL;
        if (xgw_metrics(l->gw, json ? XGW_METRICS_JSON : XGW_METRICS_PROMETHEUS, &out) != 0) {
            respond_text(c, 500, "Internal Server Error", "metrics could not be rendered\n", head);
            return;
        }
        respond(c, 200, "OK", json ? "application/json" : "text/plain; version=0.0.4; charset=utf-8", NULL, out,
                strlen(out), head);
        free(out);
    } else if (!strcmp(target, "/health")) {
        char *out = NULL;
        enum xgw_health h = XGW_HEALTH_UNKNOWN;
        if (xgw_health(l->gw, &out, &h) != 0) {
            respond_text(c, 500, "Internal Server Error", "health could not be rendered\n", head);
            return;
        }
        /* UNKNOWN answers 200: nothing has failed yet (first checks pending,
         * or health_checks = false); the body says UNKNOWN for probes that
         * need a decided state. */
        bool bad = h == XGW_HEALTH_UNHEALTHY;
        respond(c, bad ? 503 : 200, bad ? "Service Unavailable" : "OK", "application/json", NULL, out,
                strlen(out), head);
        free(out);
    } else if (!strcmp(target, "/status.json")) {
        struct xgw_buf b = {0};
        if (status_json(l, &b) != 0) {
            xgw__buf_free(&b);
            respond_text(c, 500, "Internal Server Error", "status could not be rendered\n", head);
            return;
        }
        respond(c, 200, "OK", "application/json", NULL, b.data, b.len, head);
        xgw__buf_free(&b);
    } else if (!strcmp(target, "/") || !strcmp(target, "/index.html")) {
        /* The policy makes "no external assets" a property the browser
         * enforces: the page can only talk to this server. */
        struct xgw_buf b = {0};
        int rc = 0;
        for (const char *const *p = xgw__httpd_page_parts; !rc && *p; p++)
            rc = xgw__buf_append_str(&b, *p);
        if (rc)
            respond_text(c, 500, "Internal Server Error", "out of memory\n", head);
        else
            respond(c, 200, "OK", "text/html; charset=utf-8",
                    "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
                    "style-src 'unsafe-inline'; connect-src 'self'; img-src data:\r\n",
                    b.data, b.len, head);
        xgw__buf_free(&b);
    } else {
        respond_text(c, 404, "Not Found", "not found: try /, /metrics, /health or /status.json\n", head);
    }
}

/* Case-insensitive header name match at the start of line. */
static const char *header_value(const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    return v;
}

static bool has_token(const char *v, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = v; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!strncasecmp(p, tok, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

/* Handle one complete request head in c->in[0..head_len) (NUL-terminated
 * in place of the final CRLFCRLF). */
static void handle_head(struct conn *c, char *head)
{
    char *save = NULL;
    char *line = strtok_r(head, "\r\n", &save);
    char *method = NULL, *target = NULL, *version = NULL, *sp = NULL;
    if (line) {
        method = strtok_r(line, " ", &sp);
        target = method ? strtok_r(NULL, " ", &sp) : NULL;
        version = target ? strtok_r(NULL, " ", &sp) : NULL;
    }
    if (!version || strtok_r(NULL, " ", &sp) || target[0] != '/' ||
        (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)) {
        c->close_after = true;
        respond_text(c, 400, "Bad Request", "malformed request line\n", false);
        return;
    }
    bool http10 = !strcmp(version, "HTTP/1.0");
    bool keep = !http10, body = false;
    for (char *h; (h = strtok_r(NULL, "\r\n", &save));) {
        const char *v;
        if (!strchr(h, ':') || h[0] == ' ' || h[0] == '\t') {
            c->close_after = true;
            respond_text(c, 400, "Bad Request", "malformed header line\n", false);
            return;
        }
        if ((v = header_value(h, "Connection"))) {
            if (has_token(v, "close"))
                keep = false;
            else if (has_token(v, "keep-alive"))
                keep = true;
        } else if ((v = header_value(h, "Content-Length"))) {
            if (strcmp(v, "0") != 0)
                body = true;
        } else if (header_value(h, "Transfer-Encoding")) {
            body = true;
        }
    }
    c->close_after = !keep;
    if (body) {
        /* No path takes a body; not reading it would desynchronise the
         * connection, so refuse and close. */
        c->close_after = true;
        respond_text(c, 413, "Content Too Large", "requests with a body are not accepted\n", false);
        return;
    }
    route(c, method, target);
}

static void process(struct conn *c)
{
    if (c->writing || c->closing)
        return;
    char *end = c->in_len >= 4 ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;
    if (!end) {
        if (c->in_len >= sizeof c->in) {
            c->close_after = true;
            respond_text(c, 431, "Request Header Fields Too Large", "request head too large\n", false);
            return;
        }
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        return;
    }
    size_t head_len = (size_t)(end - c->in) + 4;
    char head[XGW__HTTPD_MAX_HEAD + 1];
    memcpy(head, c->in, head_len - 4);
    head[head_len - 4] = '\0';
    memmove(c->in, c->in + head_len, c->in_len - head_len);
    c->in_len -= head_len;
    if (memchr(head, '\0', head_len - 4)) {
        c->close_after = true;
        respond_text(c, 400, "Bad Request", "NUL byte in request\n", false);
        return;
    }
    handle_head(c, head);
}

static void on_connection(uv_stream_t *srv, int status)
{
    struct xgw_listener *l = srv->data;
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return; /* out of memory: the client waits in the backlog */
    c->l = l;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    l->n_conns++;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0 || l->n_conns > XGW__HTTPD_MAX_CONNS) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    arm_timer(c);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ------------------------------------------------------------------------ */
/* Start and stop                                                            */
/* ------------------------------------------------------------------------ */

/* The close of every handle is complete: wake the waiting caller (who
 * frees l), or free l when nobody waits (closed from the loop thread). */
static void listener_closed_one(struct xgw_listener *l)
{
    if (--l->pending_closes > 0 || !l->closing)
        return;
    if (l->waiter)
        xgw__loop_set_done(l->loop, &l->done);
    else
        free(l);
}

static void on_srv_closed(uv_handle_t *h)
{
    listener_closed_one(h->data);
}

/* Close every connection and the server socket; finish() runs after the
 * last close callback. Loop thread. */
static void close_all(struct xgw_listener *l)
{
    l->closing = true;
    l->pending_closes++; /* held while closing, so a callback cannot finish early */
    while (l->conns)
        conn_close(l->conns);
    if (l->srv_open) {
        l->pending_closes++;
        uv_close((uv_handle_t *)&l->srv, on_srv_closed);
        l->srv_open = false;
    }
    listener_closed_one(l);
}

static void start_task(struct xgw__task *t)
{
    struct xgw_listener *l = container_of(t, struct xgw_listener, task);
    struct xgw__loop *lp = l->loop;
    int r = uv_tcp_init(&lp->uv, &l->srv);
    if (r == 0) {
        l->srv_open = true;
        l->srv.data = l;
        r = uv_tcp_bind(&l->srv, (const struct sockaddr *)&l->sa, 0);
    }
    if (r == 0)
        r = uv_listen((uv_stream_t *)&l->srv, 64, on_connection);
    if (r == 0) {
        struct sockaddr_storage got;
        int len = sizeof got;
        r = uv_tcp_getsockname(&l->srv, (struct sockaddr *)&got, &len);
        if (r == 0)
            l->port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                      : ((struct sockaddr_in *)&got)->sin_port);
    }
    if (r != 0) {
        l->res->rc = xgw__set_errorf(&l->res->err, XGW_ERR_CONFIG, 0,
                                     "cannot listen on %s: %s; pick a free port or another address in "
                                     "metrics_listen",
                                     l->addr_text, uv_strerror(r));
        /* A waiting caller frees l once everything is closed; inline on the
         * loop thread, the last close callback does. */
        close_all(l);
        return;
    }
    char *colon = strrchr(l->addr_text, ':');
    if (colon)
        snprintf(colon + 1, sizeof l->addr_text - (size_t)(colon + 1 - l->addr_text), "%d", l->port);
    l->started_ms = xgw__wall_ms();
    xgw__log(NULL, XGW_LOG_INFO, "listen", "serving /metrics, /health and the status page on http://%s/",
             l->addr_text);
    if (l->waiter)
        xgw__loop_set_done(l->loop, &l->done);
}

static void close_task(struct xgw__task *t)
{
    struct xgw_listener *l = container_of(t, struct xgw_listener, task);
    close_all(l);
}

/* Run fn on the loop thread and wait for l->done: 0. On the loop thread
 * itself fn runs inline and nobody waits (closes complete later and free l
 * themselves): 1. -1 when the loop takes no more tasks (xgw_close began). */
static int run_on_loop(struct xgw_listener *l, void (*fn)(struct xgw__task *))
{
    l->task.run = fn;
    l->done = false;
    if (xgw__loop_on_loop_thread(l->loop)) {
        l->waiter = false;
        fn(&l->task);
        return 1;
    }
    l->waiter = true;
    if (xgw__loop_submit(l->loop, &l->task) != 0)
        return -1;
    xgw__loop_wait(l->loop, &l->done);
    return 0;
}

int xgw_listen(struct xgw_gateway *gw, const char *addr, unsigned flags, struct xgw_listener **out,
               struct xgw_error *err)
{
    return xgw__listen_ex(gw, addr, flags, NULL, NULL, out, err);
}

int xgw__listen_ex(struct xgw_gateway *gw, const char *addr, unsigned flags, xgw__httpd_status_fn fn,
                   void *user, struct xgw_listener **out, struct xgw_error *err)
{
    if (out)
        *out = NULL;
    if (!gw || !addr || !out)
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0,
                               "xgw_listen needs a gateway, an address and out");
    if (gw->no_network)
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0,
                               "the gateway was opened with no_network; it cannot serve");
    char host[64];
    int port = 0;
    const char *why = NULL;
    if (split_addr(addr, host, sizeof host, &port, &why) != 0)
        return xgw__set_errorf(err, XGW_ERR_CONFIG, 0, "metrics_listen = \"%s\": %s", addr, why);
    if (!(flags & XGW_LISTEN_PUBLIC) && !xgw__httpd_is_loopback(host))
        return xgw__set_errorf(
            err, XGW_ERR_CONFIG, 0,
            "metrics_listen = \"%s\" is not a loopback address; /metrics and /health would be "
            "reachable from other hosts: set metrics_listen_public = true to allow it",
            addr);
    struct xgw_listener *l = calloc(1, sizeof *l);
    if (!l)
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    l->gw = gw;
    l->loop = &gw->loop;
    l->status_fn = fn;
    l->status_user = user;
    /* Resolve before touching the loop: getaddrinfo may block (a name),
     * and the loop thread must not. */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    int g = getaddrinfo(host, ps, &hints, &ai);
    if (g != 0 || !ai) {
        free(l);
        return xgw__set_errorf(err, XGW_ERR_CONFIG, 0, "metrics_listen = \"%s\": cannot resolve %s: %s", addr,
                               host, gai_strerror(g));
    }
    memcpy(&l->sa, ai->ai_addr, ai->ai_addrlen < sizeof l->sa ? ai->ai_addrlen : sizeof l->sa);
    bool v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    char num[INET6_ADDRSTRLEN] = "?";
    if (v6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&l->sa)->sin6_addr, num, sizeof num);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&l->sa)->sin_addr, num, sizeof num);
    snprintf(l->addr_text, sizeof l->addr_text, v6 ? "[%s]:%d" : "%s:%d", num, port);

    struct start_result res = {0};
    l->res = &res;
    int r = run_on_loop(l, start_task);
    if (r < 0) {
        free(l);
        return xgw__set_errorf(err, XGW_ERR_CANCELLED, 0, "the gateway is closing");
    }
    if (res.rc != 0) {
        if (err)
            *err = res.err;
        if (r == 0)
            free(l); /* waited until every handle was closed; inline, the last close frees l */
        return res.rc;
    }
    l->res = NULL;
    *out = l;
    return 0;
}

int xgw_listener_port(const struct xgw_listener *l)
{
    return l ? l->port : -1;
}

void xgw_listen_close(struct xgw_listener *l)
{
    if (!l)
        return;
    int r = run_on_loop(l, close_task);
    if (r == 0)
        free(l);
    /* r < 0: called after xgw_close began (a caller error: close listeners
     * first). The loop's teardown still closes our handles, which live in
     * l, so l is leaked rather than freed under them. */
}
