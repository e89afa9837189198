/*
 * core/http.c — libcurl multi_socket driven by libuv; a pool of reusable
 * transfers. See http.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "loop.h"
#include "xgw/xgw.h"

/* A socket libcurl asked us to watch. Kept on a free list: with HTTP/1.1
 * keep-alive curl removes and re-adds the socket around every transfer. */
struct sockctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct xgw__http *h;
    struct sockctx *next_free;
};

struct xgw__http {
    uv_loop_t *loop;
    struct xgw__http_cfg cfg;
    char *instance;
    CURLM *multi;
    CURLSH *share;
    uv_timer_t curl_timer; /* libcurl's single timeout */
    uv_timer_t idle_timer; /* closes the whole cache after idle_timeout_s without traffic */
    int open_handles;      /* uv handles not yet closed; the struct is freed at 0 once dead */
    bool dead;
    X509_STORE *store; /* trust for every connection of the pool (see build_store) */

    struct xgw__xfer *free_xfers;
    struct xgw__xfer *active; /* doubly linked */
    size_t n_active;
    struct sockctx *free_socks;
};

static const char *const fixed_headers[] = {"Accept: application/json", "Expect:"};
#define N_FIXED_HEADERS (sizeof fixed_headers / sizeof fixed_headers[0])

static void check_done(struct xgw__http *h);

/* ---- uv handle lifetime ----------------------------------------------- */

static void maybe_free(struct xgw__http *h)
{
    if (h->dead && h->open_handles == 0) {
        free(h->instance);
        free(h);
    }
}

static void on_handle_closed(uv_handle_t *hd)
{
    struct xgw__http *h = hd->data;
    h->open_handles--;
    maybe_free(h);
}

static void on_sock_closed(uv_handle_t *hd)
{
    struct sockctx *s = hd->data;
    struct xgw__http *h = s->h;
    h->open_handles--;
    if (h->dead) {
        free(s);
        maybe_free(h);
        return;
    }
    s->next_free = h->free_socks;
    h->free_socks = s;
}

/* ---- libcurl <-> libuv glue ------------------------------------------- */

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sockctx *s = p->data;
    struct xgw__http *h = s->h;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running = 0;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    check_done(h);
}

static void on_curl_timer(uv_timer_t *t)
{
    struct xgw__http *h = t->data;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct xgw__http *h = userp;
    struct sockctx *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            curl_multi_assign(h->multi, fd, NULL);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
        }
        return 0;
    }
    if (!s) {
        s = h->free_socks;
        if (s)
            h->free_socks = s->next_free;
        else if (!(s = malloc(sizeof *s)))
            return -1;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
            s->next_free = h->free_socks;
            h->free_socks = s;
            return -1;
        }
        s->fd = fd;
        s->h = h;
        s->poll.data = s;
        h->open_handles++;
        curl_multi_assign(h->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    return uv_poll_start(&s->poll, ev, on_poll) == 0 ? 0 : -1;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct xgw__http *h = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&h->curl_timer);
    else
        uv_timer_start(&h->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- per-transfer callbacks ---------------------------------------------- */

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
    struct xgw__xfer *x = userp;
    size_t len = size * n;
    const int64_t max = x->http->cfg.max_response_bytes;
    if ((int64_t)(x->body_in.len + x->resp.hdr_data.len + len) > max) {
        x->oversized = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (xgw__buf_append(&x->body_in, data, len))
        return 0;
    return len;
}

static int64_t wall_us(void);

/* Right before the request is written on a ready connection: the start of
 * the exchange's processing window for clock sampling.
 *
 * Also: libcurl silently sends a request again on a new connection when a
 * reused connection dies before any answer byte arrives - a POST too. For a
 * read that is a free retry; for an order the first copy may already have
 * been executed (processed, then the connection reset), and a second copy is
 * a second order. So the second start of a send_once transfer is aborted:
 * the pipeline then sees "sent, no answer" and resolves the order by looking
 * it up by client id. libcurl has no option to turn that resend off. */
static int on_prereq(void *userp, char *conn_ip, char *local_ip, int conn_port, int local_port)
{
    (void)conn_ip, (void)local_ip, (void)conn_port, (void)local_port;
    struct xgw__xfer *x = userp;
    if (x->send_once && ++x->prereqs > 1)
        return CURL_PREREQFUNC_ABORT;
    x->sent_wall_us = wall_us();
    return CURL_PREREQFUNC_OK;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    struct xgw__xfer *x = userp;
    size_t len = size * n;
    if (x->first_byte_wall_us == 0)
        x->first_byte_wall_us = wall_us();
    if ((int64_t)(x->body_in.len + x->resp.hdr_data.len + len) > x->http->cfg.max_response_bytes) {
        x->oversized = true;
        return 0;
    }
    if (xgw__response_add_header(&x->resp, data, len))
        return 0;
    return len;
}

/* Every connection closed by libcurl passes here, whichever transfer or
 * cleanup closes it; clientp is the endpoint metrics the connection was
 * opened for (copied into the connection by libcurl at connect time). */
static int on_closesocket(void *clientp, curl_socket_t fd)
{
    struct xgw__ep_metrics *m = clientp;
    if (m)
        xgw__metric_add(&m->conn_closed, 1);
    return close(fd);
}

/* Every new TLS connection gets the pool's one trust store (shared, up-
 * referenced). */
static CURLcode on_ssl_ctx(CURL *easy, void *sslctx, void *userp)
{
    (void)easy;
    struct xgw__http *h = userp;
    SSL_CTX_set1_cert_store((SSL_CTX *)sslctx, h->store);
    return CURLE_OK;
}

/* The trust store is built once per pool, not per connection: left to
 * itself libcurl builds one for every new TLS connection, and because
 * Debian's libcurl has both a default CA bundle and a default CA path its
 * CA cache (CURLOPT_CA_CACHE_TIMEOUT) never applies, so each connection
 * parsed the whole system bundle (~140 certificates, ~60 ms of CPU on the
 * benchmark machine; see tools/bench). The store holds what libcurl would
 * have used (its default bundle, loaded now, and its CA path, looked up by
 * hash on demand) plus the ca_file certificates, which add to the system
 * trust rather than replace it. Connections get no CAINFO/CAPATH of their
 * own, so libcurl loads nothing itself. */
static int build_store(struct xgw__http *h, const char *ca_file, struct xgw_error *err)
{
    CURL *e = curl_easy_init();
    h->store = X509_STORE_new();
    if (!e || !h->store) {
        if (e)
            curl_easy_cleanup(e);
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    }
    char *cainfo = NULL, *capath = NULL; /* libcurl's built-in defaults, owned by e */
    curl_easy_getinfo(e, CURLINFO_CAINFO, &cainfo);
    curl_easy_getinfo(e, CURLINFO_CAPATH, &capath);
    /* A missing system bundle leaves only ca_file trusted; verification stays on. */
    if (cainfo && !X509_STORE_load_file(h->store, cainfo))
        xgw__log(h->instance, XGW_LOG_DEBUG, "ca", "system CA bundle %s not loaded", cainfo);
    if (capath && !X509_STORE_load_path(h->store, capath))
        xgw__log(h->instance, XGW_LOG_DEBUG, "ca", "system CA path %s not usable", capath);
    curl_easy_cleanup(e);
    ERR_clear_error();
    if (!ca_file)
        return XGW_OK;

    FILE *f = fopen(ca_file, "r");
    if (!f)
        return xgw__set_errorf(err, XGW_ERR_CONFIG, 0, "ca_file %s cannot be read; give a readable PEM file",
                               ca_file);
    int n = 0;
    X509 *c;
    while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        X509_STORE_add_cert(h->store, c); /* a duplicate of a system CA is not an error that matters */
        X509_free(c);
        n++;
    }
    fclose(f);
    ERR_clear_error(); /* the read loop ends with a "no start line" error */
    if (n == 0)
        return xgw__set_errorf(err, XGW_ERR_CONFIG, 0,
                               "ca_file %s holds no PEM certificate; give the CA or self-signed certificate",
                               ca_file);
    return XGW_OK;
}

/* ---- setup ----------------------------------------------------------------- */

static CURLM *new_multi(struct xgw__http *h)
{
    CURLM *m = curl_multi_init();
    if (!m)
        return NULL;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->cfg.pool_max);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)((size_t)h->cfg.pool_max * (h->cfg.n_hosts ? h->cfg.n_hosts : 1)));
    curl_multi_setopt(m, CURLMOPT_PIPELINING, h->cfg.http2 ? (long)CURLPIPE_MULTIPLEX : (long)CURLPIPE_NOTHING);
    return m;
}

void xgw__http_close_idle(struct xgw__http *h)
{
    if (h->n_active != 0 || h->dead)
        return;
    /* No transfer for idle_timeout_s: close every pooled connection. libcurl
     * only prunes its cache when a new transfer starts, so the cache is
     * dropped with its multi handle; the share keeps DNS and TLS sessions. */
    CURLM *m = new_multi(h);
    if (!m)
        return;
    curl_multi_cleanup(h->multi);
    h->multi = m;
    xgw__log(h->instance, XGW_LOG_DEBUG, "pool_idle", "closed idle connections after %d s", h->cfg.idle_timeout_s);
}

static void on_idle(uv_timer_t *t)
{
    struct xgw__http *h = t->data;
    if (h->n_active != 0)
        return;
    if (h->cfg.on_idle)
        h->cfg.on_idle(h->cfg.on_idle_arg);
    else
        xgw__http_close_idle(h);
}

int xgw__http_new(uv_loop_t *loop, const struct xgw__http_cfg *cfg, struct xgw__http **out, struct xgw_error *err)
{
    *out = NULL;
    struct xgw__http *h = calloc(1, sizeof *h);
    if (!h)
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    h->loop = loop;
    h->cfg = *cfg;
    if (h->cfg.pool_max < 1)
        h->cfg.pool_max = 1;
    if (h->cfg.idle_timeout_s < 1)
        h->cfg.idle_timeout_s = 1;
    h->instance = strdup(cfg->instance ? cfg->instance : "");
    h->cfg.instance = h->instance;
    h->cfg.ca_file = NULL; /* not kept: the certificates are */
    int rc = XGW_OK;
    if (!h->instance)
        rc = xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    if (!rc)
        rc = build_store(h, cfg->ca_file, err);
    if (!rc) {
        h->share = curl_share_init();
        h->multi = new_multi(h);
        if (!h->share || !h->multi)
            rc = xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "libcurl could not be initialised");
    }
    if (rc) {
        if (h->multi)
            curl_multi_cleanup(h->multi);
        if (h->share)
            curl_share_cleanup(h->share);
        X509_STORE_free(h->store);
        free(h->instance);
        free(h);
        return rc;
    }
    /* One thread uses the share (the loop's), so it needs no lock callbacks. */
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    uv_timer_init(loop, &h->curl_timer);
    uv_timer_init(loop, &h->idle_timer);
    h->curl_timer.data = h->idle_timer.data = h;
    h->open_handles = 2;
    *out = h;
    return XGW_OK;
}

static void xfer_destroy(struct xgw__xfer *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    /* Targets, bodies and headers may hold signatures and API keys. */
    xgw__buf_free_sensitive(&x->req.target);
    xgw__buf_free_sensitive(&x->req.body);
    xgw__buf_free_sensitive(&x->req.headers);
    xgw__buf_free_sensitive(&x->url);
    xgw__buf_free(&x->body_in);
    xgw__response_free(&x->resp);
    xgw__sink_free(x->sink);
    free(x->hdr_nodes);
    free(x);
}

static struct xgw__xfer *xfer_create(struct xgw__http *h)
{
    struct xgw__xfer *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->http = h;
    x->easy = curl_easy_init();
    x->sink = xgw__sink_new();
    if (!x->easy || !x->sink) {
        xfer_destroy(x);
        return NULL;
    }
    xgw__response_init(&x->resp);
    CURL *e = x->easy;
    /* Options that never change for this pool are set once, here. */
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SHARE, h->share);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->cfg.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->cfg.request_timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, (long)h->cfg.idle_timeout_s);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->cfg.max_response_bytes);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     h->cfg.http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    if (h->cfg.http2)
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, h);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "xgw/" XGW_VERSION);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_closesocket);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
    return x;
}

struct xgw__xfer *xgw__http_xfer_get(struct xgw__http *h)
{
    struct xgw__xfer *x = h->free_xfers;
    if (x)
        h->free_xfers = x->next;
    else if (!(x = xfer_create(h)))
        return NULL;
    x->next = x->prev = NULL;
    x->req.method = XGW_HTTP_GET;
    /* A request that carried credentials is wiped, not just forgotten; the
     * memory is kept either way. */
    if (x->req.sensitive) {
        xgw__buf_wipe(&x->req.target);
        xgw__buf_wipe(&x->req.body);
        xgw__buf_wipe(&x->req.headers);
        xgw__buf_wipe(&x->url);
    } else {
        xgw__buf_reset(&x->req.target);
        xgw__buf_reset(&x->req.body);
        xgw__buf_reset(&x->req.headers);
    }
    x->req.sensitive = false;
    xgw__response_reset(&x->resp);
    xgw__buf_reset(&x->body_in);
    xgw__sink_reset(x->sink);
    x->user = NULL;
    x->timeout_ms = 0;
    x->send_once = false;
    x->prereqs = 0;
    x->done = NULL;
    x->ep = NULL;
    x->kind = XGW_OK;
    memset(&x->err, 0, sizeof x->err);
    x->sent = x->new_conn = x->oversized = false;
    return x;
}

void xgw__http_xfer_put(struct xgw__http *h, struct xgw__xfer *x)
{
    if (!x || x->active)
        return;
    x->next = h->free_xfers;
    h->free_xfers = x;
}

/* Turn the plugin's "Name: value\n" lines into a curl_slist without
 * curl_slist_append (which mallocs every node): the nodes live in an array
 * owned by the transfer and point into the header buffer, whose newlines
 * are replaced by NULs. */
static int link_headers(struct xgw__xfer *x)
{
    struct xgw_buf *hb = &x->req.headers;
    size_t need = N_FIXED_HEADERS;
    for (size_t i = 0; i < hb->len; i++)
        need += hb->data[i] == '\n';
    need += 1; /* a last line without '\n' */
    if (need > x->hdr_cap) {
        size_t cap = x->hdr_cap ? x->hdr_cap : 8;
        while (cap < need)
            cap *= 2;
        struct curl_slist *p = realloc(x->hdr_nodes, cap * sizeof *p);
        if (!p)
            return XGW_ERR_INTERNAL;
        x->hdr_nodes = p;
        x->hdr_cap = cap;
    }
    size_t n = 0;
    for (size_t i = 0; i < N_FIXED_HEADERS; i++)
        x->hdr_nodes[n++].data = (char *)fixed_headers[i];
    char *p = hb->data, *end = hb->data ? hb->data + hb->len : NULL;
    while (p && p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        char *stop = le;
        if (stop > p && stop[-1] == '\r')
            stop--;
        *stop = '\0';
        if (stop > p)
            x->hdr_nodes[n++].data = p;
        p = le + 1;
    }
    for (size_t i = 0; i < n; i++)
        x->hdr_nodes[i].next = i + 1 < n ? &x->hdr_nodes[i + 1] : NULL;
    return XGW_OK;
}

static int64_t wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int xgw__http_send(struct xgw__http *h, struct xgw__xfer *x, const char *base_url)
{
    CURL *e = x->easy;
    xgw__buf_reset(&x->url);
    if (xgw__buf_append_str(&x->url, base_url) ||
        xgw__buf_append(&x->url, x->req.target.data ? x->req.target.data : "", x->req.target.len) ||
        link_headers(x))
        return xgw__set_errorf(&x->err, XGW_ERR_INTERNAL, 0, "out of memory");
    curl_easy_setopt(e, CURLOPT_URL, x->url.data);
    const char *body = x->req.body.data ? x->req.body.data : "";
    switch (x->req.method) {
    case XGW_HTTP_GET:
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
        break;
    case XGW_HTTP_POST:
    case XGW_HTTP_PUT:
    case XGW_HTTP_DELETE:
        if (x->req.method == XGW_HTTP_DELETE && x->req.body.len == 0) {
            curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        } else {
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body.len);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        }
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                         x->req.method == XGW_HTTP_POST ? NULL : x->req.method == XGW_HTTP_PUT ? "PUT" : "DELETE");
        break;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdr_nodes);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(x->timeout_ms > 0 ? x->timeout_ms : h->cfg.request_timeout_ms));
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, x->ep);
    x->errbuf[0] = '\0';
    x->t_start_us = xgw__mono_us();
    x->start_wall_us = wall_us();
    x->sent_wall_us = x->first_byte_wall_us = 0;
    x->end_wall_us = x->start_wall_us;
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
        return xgw__set_errorf(&x->err, XGW_ERR_INTERNAL, 0, "libcurl refused the transfer");
    x->active = true;
    x->prev = NULL;
    x->next = h->active;
    if (h->active)
        h->active->prev = x;
    h->active = x;
    h->n_active++;
    uv_timer_stop(&h->idle_timer);
    return XGW_OK;
}

static void unlink_active(struct xgw__http *h, struct xgw__xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        h->active = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->next = x->prev = NULL;
    x->active = false;
    h->n_active--;
}

/* The endpoint part of the URL, for error messages (never the query, which
 * may carry a signature). */
static void set_endpoint(struct xgw__xfer *x)
{
    const char *u = x->url.data ? x->url.data : "";
    size_t n = x->url.len - x->req.target.len;
    if (n >= sizeof x->err.endpoint)
        n = sizeof x->err.endpoint - 1;
    memcpy(x->err.endpoint, u, n);
    x->err.endpoint[n] = '\0';
}

static void classify(struct xgw__http *h, struct xgw__xfer *x, CURLcode res)
{
    const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(res);
    set_endpoint(x);
    snprintf(x->err.exchange, sizeof x->err.exchange, "%s", h->instance);
    int kind;
    if (res == CURLE_ABORTED_BY_CALLBACK && x->prereqs > 1) {
        x->kind = xgw__set_errorf(&x->err, XGW_ERR_NETWORK, 0,
                                  "the connection to %s was lost after the request was sent and before any answer",
                                  x->err.endpoint);
        x->sent = true;
        return;
    }
    switch (res) {
    case CURLE_OPERATION_TIMEDOUT:
        kind = xgw__set_errorf(&x->err, XGW_ERR_TIMEOUT, 0, "no answer from %s in time (%s)", x->err.endpoint,
                               detail);
        break;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (x->oversized || res == CURLE_FILESIZE_EXCEEDED) {
            kind = xgw__set_errorf(&x->err, XGW_ERR_PROTOCOL, 0,
                                   "answer from %s exceeds max_response_bytes (%lld); refused", x->err.endpoint,
                                   (long long)h->cfg.max_response_bytes);
        } else {
            kind = xgw__set_errorf(&x->err, XGW_ERR_INTERNAL, 0, "out of memory buffering the answer");
        }
        break;
    case CURLE_OUT_OF_MEMORY:
        kind = xgw__set_errorf(&x->err, XGW_ERR_INTERNAL, 0, "out of memory in libcurl");
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        kind = xgw__set_errorf(&x->err, XGW_ERR_NETWORK, 0,
                               "TLS verification of %s failed (%s); trust its CA with ca_file", x->err.endpoint,
                               detail);
        break;
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        kind = xgw__set_errorf(&x->err, XGW_ERR_PROTOCOL, 0, "malformed answer from %s (%s)", x->err.endpoint,
                               detail);
        break;
    default:
        kind = xgw__set_errorf(&x->err, XGW_ERR_NETWORK, 0, "transport failure with %s (%s)", x->err.endpoint,
                               detail);
        break;
    }
    x->kind = kind;
}

static void finish(struct xgw__http *h, struct xgw__xfer *x, CURLcode res)
{
    CURL *e = x->easy;
    curl_multi_remove_handle(h->multi, e);
    unlink_active(h, x);
    x->t_end_us = xgw__mono_us();
    x->end_wall_us = wall_us();

    long nconn = 0, req_size = 0, hdr_size = 0;
    curl_off_t down = 0, up = 0;
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &nconn);
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &req_size);
    curl_easy_getinfo(e, CURLINFO_HEADER_SIZE, &hdr_size);
    curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up);
    x->new_conn = nconn > 0;
    x->sent = req_size > 0;
    if (x->ep) {
        struct xgw__ep_metrics *m = x->ep;
        if (nconn > 0)
            xgw__metric_add(&m->conn_opened, (uint64_t)nconn);
        else if (req_size > 0)
            xgw__metric_add(&m->conn_reused, 1);
        xgw__metric_add(&m->bytes_out, (uint64_t)req_size + (uint64_t)(up > 0 ? up : 0));
        xgw__metric_add(&m->bytes_in, (uint64_t)hdr_size + (uint64_t)(down > 0 ? down : 0));
    }

    if (res == CURLE_OK) {
        x->kind = XGW_OK;
        x->resp.body = x->body_in.data;
        x->resp.body_len = x->body_in.len;
    } else {
        classify(h, x, res);
        if (x->sent)
            x->err.flags |= XGW_ERRF_SENT;
    }
    if (h->n_active == 0 && !h->dead)
        uv_timer_start(&h->idle_timer, on_idle, (uint64_t)h->cfg.idle_timeout_s * 1000u, 0);
    x->done(x);
}

static void check_done(struct xgw__http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xgw__xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode res = msg->data.result;
        if (x && x->active)
            finish(h, x, res);
    }
}

void xgw__http_cancel_all(struct xgw__http *h)
{
    while (h->active) {
        struct xgw__xfer *x = h->active;
        curl_multi_remove_handle(h->multi, x->easy);
        unlink_active(h, x);
        x->t_end_us = xgw__mono_us();
        set_endpoint(x);
        snprintf(x->err.exchange, sizeof x->err.exchange, "%s", h->instance);
        x->kind = xgw__set_errorf(&x->err, XGW_ERR_CANCELLED, 0, "the gateway was closed before the answer came");
        x->done(x);
    }
}

size_t xgw__http_active(const struct xgw__http *h) { return h->n_active; }

void xgw__http_free(struct xgw__http *h)
{
    if (!h)
        return;
    xgw__http_cancel_all(h);
    uv_timer_stop(&h->idle_timer);
    uv_timer_stop(&h->curl_timer);
    curl_multi_cleanup(h->multi); /* closes every connection; sockets get POLL_REMOVE */
    h->multi = NULL;
    while (h->free_xfers) {
        struct xgw__xfer *x = h->free_xfers;
        h->free_xfers = x->next;
        xfer_destroy(x);
    }
    curl_share_cleanup(h->share);
    while (h->free_socks) {
        struct sockctx *s = h->free_socks;
        h->free_socks = s->next_free;
        free(s);
    }
    X509_STORE_free(h->store); /* connections still open hold their own references */
    h->store = NULL;
    h->dead = true;
    uv_close((uv_handle_t *)&h->curl_timer, on_handle_closed);
    uv_close((uv_handle_t *)&h->idle_timer, on_handle_closed);
}
