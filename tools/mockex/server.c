/*
 * server.c — libwebsockets glue of the mock: one TLS vhost per port serving
 * HTTP/1.1, HTTP/2 (ALPN) and WebSocket; routing by path to the exchange
 * modules; fault injection; the control API; counters.
 *
 * Request path (kept lean for benchmarks): LWS_CALLBACK_HTTP copies the
 * method, path, canonical query and the few headers modules asked for into
 * a per-transaction struct; the body (if any) is appended; then the module
 * answers synchronously into a buffer, faults are applied, and the answer
 * is written when the socket is writable. Nothing is logged per request
 * unless --verbose.
 */
#define _GNU_SOURCE
#include "mx_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MX_MAX_BODY (4u << 20) /* larger request bodies get 413 */
#define MX_WS_MAX_QUEUE 20000  /* frames; beyond it a slow consumer loses frames */
#define MX_TIMER_MS 100

const struct mx_module *const mx_modules[] = {&mx_module_binance, &mx_module_bitunix,
                                              &mx_module_hyperliquid};
#define MX_NMOD ((int)(sizeof mx_modules / sizeof mx_modules[0]))

struct counter {
    char exchange[16];
    char name[64];
    int64_t value;
};

struct mx_port {
    int port;
    struct lws_vhost *vh;
    int64_t accepted, refused;
    int64_t requests; /* exchange requests (HTTP and WS upgrades) that reached this port */
};

struct frame {
    struct frame *next;
    size_t len;
    int ping;
    unsigned char data[]; /* LWS_PRE + len */
};

struct mx_ws {
    struct lws *wsi;
    struct mx_server *srv;
    int mod;
    int port;
    /* the request path after the module prefix, without the query: what a
     * fault's "path" is matched against, on open connections too (a
     * prefix of at most 127 bytes, so 128 bytes of it decide the match) */
    char path[128];
    void *user;
    struct frame *head, *tail;
    size_t nq;
    int closing, close_code;
    char close_reason[64];
    int stalled;
    int64_t next_ping_ms;
    struct mx_buf rx;
    struct mx_buf flood;
    struct mx_ws *prev, *next;
};

struct mx_http {
    char method[12];
    struct mx_buf path, query, body, hdrs;
    char peer[64];
    int port, http2, mod;
    int processed; /* http_process ran: lws may report a zero-length body's completion too */
    int body_expected, too_big;
    /* answer */
    int status;
    const char *ctype;
    struct mx_buf rhdrs, rbody;
    size_t sent;
    int64_t content_length, announce;
    int hdr_sent, close_after, stalled, ready;
};

struct mx_pss {
    struct mx_http *h;
    struct mx_ws *ws;
};

struct mx_server {
    struct mx_opts opts;
    struct lws_context *ctx;
    struct mx_port ports[16];
    int nports;
    struct mx_market *market;
    struct mx_accounts *accts;
    struct mx_faults *faults;
    void *self[8];
    struct counter *ctr;
    int nctr, capctr;
    struct counter *paths;
    int npaths, cappaths;
    int64_t requests, ws_accepted, ws_open_now;
    struct mx_ws *ws_list;
    lws_sorted_usec_list_t sul_tick, sul_timer;
    struct mx_step step;
    char cert[512], key[512];
};

static int mod_index(const char *name)
{
    for (int i = 0; i < MX_NMOD; i++)
        if (!strcmp(mx_modules[i]->name, name))
            return i;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Services for modules                                                     */
/* ------------------------------------------------------------------------ */

const struct mx_opts *mx_opts(const struct mx_server *srv) { return &srv->opts; }
struct mx_market *mx_market_of(struct mx_server *srv) { return srv->market; }
struct mx_accounts *mx__accts_of(struct mx_server *srv) { return srv->accts; }

int64_t mx_clock_ms(struct mx_server *srv, const char *exchange)
{
    return mx_wall_ms() + mx__faults_clock(srv->faults, exchange);
}

void *mx_module_self(struct mx_server *srv, const char *exchange)
{
    int i = mod_index(exchange);
    return i < 0 ? NULL : srv->self[i];
}

static struct counter *find_counter(struct counter **arr, int *n, int *cap, const char *ex,
                                    const char *name)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp((*arr)[i].name, name) && !strcmp((*arr)[i].exchange, ex))
            return &(*arr)[i];
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 32;
        struct counter *p = realloc(*arr, (size_t)nc * sizeof *p);
        if (!p)
            abort();
        *arr = p;
        *cap = nc;
    }
    struct counter *c = &(*arr)[(*n)++];
    snprintf(c->exchange, sizeof c->exchange, "%s", ex);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->value = 0;
    return c;
}

void mx_count(struct mx_server *srv, const char *exchange, const char *name, int64_t delta)
{
    find_counter(&srv->ctr, &srv->nctr, &srv->capctr, exchange, name)->value += delta;
}

int64_t mx_counter(struct mx_server *srv, const char *exchange, const char *name)
{
    for (int i = 0; i < srv->nctr; i++)
        if (!strcmp(srv->ctr[i].name, name) && !strcmp(srv->ctr[i].exchange, exchange))
            return srv->ctr[i].value;
    return 0;
}

void mx__order_event(struct mx_server *srv, struct mx_account *a, const struct mx_order *o,
                     enum mx_order_event ev)
{
    int i = mod_index(a->exchange);
    if (i >= 0 && mx_modules[i]->on_order)
        mx_modules[i]->on_order(srv->self[i], a, o, ev);
}

/* ------------------------------------------------------------------------ */
/* WebSocket services                                                       */
/* ------------------------------------------------------------------------ */

static void ws_enqueue(struct mx_ws *ws, const char *data, size_t len, int ping)
{
    struct frame *f = malloc(sizeof *f + LWS_PRE + len);
    if (!f)
        abort();
    f->next = NULL;
    f->len = len;
    f->ping = ping;
    memcpy(f->data + LWS_PRE, data, len);
    if (ws->tail)
        ws->tail->next = f;
    else
        ws->head = f;
    ws->tail = f;
    ws->nq++;
    lws_callback_on_writable(ws->wsi);
}

int mx_ws_send(struct mx_ws *ws, const char *data, size_t len)
{
    if (ws->closing || ws->stalled)
        return -1;
    if (ws->nq >= MX_WS_MAX_QUEUE) {
        mx_count(ws->srv, mx_modules[ws->mod]->name, "ws_dropped", 1);
        return -1;
    }
    ws_enqueue(ws, data, len, 0);
    return 0;
}

void mx_ws_close(struct mx_ws *ws, int code, const char *reason)
{
    if (ws->closing)
        return;
    ws->closing = 1;
    ws->close_code = code;
    /* close reasons are short by protocol (<= 123 bytes); keep ours shorter */
    size_t n = reason ? strnlen(reason, sizeof ws->close_reason - 1) : 0;
    memcpy(ws->close_reason, reason ? reason : "", n);
    ws->close_reason[n] = '\0';
    lws_callback_on_writable(ws->wsi);
}

void mx_ws_set_user(struct mx_ws *ws, void *user) { ws->user = user; }
void *mx_ws_user(const struct mx_ws *ws) { return ws->user; }
int mx_ws_port(const struct mx_ws *ws) { return ws->port; }
size_t mx_ws_queued(const struct mx_ws *ws) { return ws->nq; }

void mx_ws_foreach(struct mx_server *srv, const char *exchange,
                   void (*fn)(struct mx_ws *ws, void *arg), void *arg)
{
    int m = mod_index(exchange);
    for (struct mx_ws *w = srv->ws_list, *n; w; w = n) {
        n = w->next;
        if (w->mod == m)
            fn(w, arg);
    }
}

int mx_fault_ws_gap(struct mx_server *srv, struct mx_ws *ws)
{
    return mx__fault_take(srv->faults, MX_FK_WS_GAP, mx_modules[ws->mod]->name, ws->port, ws->path) !=
           NULL;
}

static void ws_apply_stall(struct mx_ws *ws)
{
    ws->stalled = 1;
    /* stop reading: lws then never sees client pings, so no pongs go out */
    lws_rx_flow_control(ws->wsi, 0);
    mx_count(ws->srv, mx_modules[ws->mod]->name, "ws_stalled", 1);
}

/* Applies ws_close / ws_stall faults to open connections right away. */
static void ws_apply_faults_now(struct mx_server *srv)
{
    for (struct mx_ws *w = srv->ws_list; w; w = w->next) {
        if (w->closing || w->stalled)
            continue;
        const char *ex = mx_modules[w->mod]->name;
        struct mx_fault *f = mx__fault_take(srv->faults, MX_FK_WS_CLOSE, ex, w->port, w->path);
        if (f) {
            mx_count(srv, ex, "ws_closed_by_fault", 1);
            mx_ws_close(w, f->code ? f->code : 1001, f->msg[0] ? f->msg : "mock fault");
            continue;
        }
        if (mx__fault_take(srv->faults, MX_FK_WS_STALL, ex, w->port, w->path))
            ws_apply_stall(w);
    }
}

/* ------------------------------------------------------------------------ */
/* Control API                                                              */
/* ------------------------------------------------------------------------ */

static void state_json(struct mx_server *srv, struct mx_buf *b)
{
    mx_buf_printf(b, "{\"pid\":%ld,\"seed\":%llu,\"ports\":[", (long)getpid(),
                  (unsigned long long)srv->opts.seed);
    for (int i = 0; i < srv->nports; i++)
        mx_buf_printf(b, "%s{\"port\":%d,\"connections\":%lld,\"refused\":%lld,\"requests\":%lld}",
                      i ? "," : "", srv->ports[i].port, (long long)srv->ports[i].accepted,
                      (long long)srv->ports[i].refused, (long long)srv->ports[i].requests);
    mx_buf_printf(b, "],\"requests\":{\"total\":%lld,\"by_path\":{", (long long)srv->requests);
    for (int i = 0; i < srv->npaths; i++) {
        if (i)
            mx_buf_puts(b, ",");
        mx_buf_json_str(b, srv->paths[i].name);
        mx_buf_printf(b, ":%lld", (long long)srv->paths[i].value);
    }
    mx_buf_printf(b, "}},\"ws\":{\"accepted\":%lld,\"open\":%lld},\"counters\":{",
                  (long long)srv->ws_accepted, (long long)srv->ws_open_now);
    for (int m = 0; m < MX_NMOD; m++) {
        mx_buf_printf(b, "%s\"%s\":{", m ? "," : "", mx_modules[m]->name);
        int first = 1;
        for (int i = 0; i < srv->nctr; i++) {
            if (strcmp(srv->ctr[i].exchange, mx_modules[m]->name) != 0)
                continue;
            if (!first)
                mx_buf_puts(b, ",");
            first = 0;
            mx_buf_json_str(b, srv->ctr[i].name);
            mx_buf_printf(b, ":%lld", (long long)srv->ctr[i].value);
        }
        mx_buf_puts(b, "}");
    }
    mx_buf_puts(b, "},\"faults\":");
    mx__faults_state(srv->faults, b);
    mx_buf_puts(b, ",\"clock_offset_ms\":{");
    for (int m = 0; m < MX_NMOD; m++)
        mx_buf_printf(b, "%s\"%s\":%lld", m ? "," : "", mx_modules[m]->name,
                      (long long)mx__faults_clock(srv->faults, mx_modules[m]->name));
    mx_buf_puts(b, "},\"exchanges\":{");
    for (int m = 0; m < MX_NMOD; m++) {
        mx_buf_printf(b, "%s\"%s\":", m ? "," : "", mx_modules[m]->name);
        size_t before = b->len;
        if (mx_modules[m]->state)
            mx_modules[m]->state(srv->self[m], b);
        if (b->len == before)
            mx_buf_puts(b, "{}");
    }
    mx_buf_puts(b, "}}");
}

static void control(struct mx_server *srv, struct mx_http *h)
{
    const char *p = h->path.p + strlen("/_mock");
    h->status = 200;
    if (!strcmp(p, "/state") && !strcmp(h->method, "GET")) {
        state_json(srv, &h->rbody);
    } else if (!strcmp(p, "/faults") && !strcmp(h->method, "POST")) {
        char err[256];
        cJSON *root = cJSON_ParseWithLength(h->body.p ? h->body.p : "", h->body.len);
        if (!root) {
            h->status = 400;
            mx_buf_puts(&h->rbody, "{\"ok\":false,\"error\":\"body is not JSON\"}");
            return;
        }
        const cJSON *arr = cJSON_IsArray(root) ? root : cJSON_GetObjectItem(root, "faults");
        cJSON *single = NULL;
        if (!arr) {
            single = cJSON_CreateArray();
            cJSON_AddItemReferenceToArray(single, root);
            arr = single;
        }
        mx_buf_puts(&h->rbody, "{\"ok\":true,\"ids\":[");
        const cJSON *it;
        int n = 0;
        cJSON_ArrayForEach(it, arr)
        {
            char *txt = cJSON_PrintUnformatted(it);
            int id = txt ? mx__faults_add_json(srv->faults, txt, strlen(txt), err, sizeof err) : -1;
            free(txt);
            if (id < 0) {
                h->status = 400;
                mx_buf_reset(&h->rbody);
                mx_buf_puts(&h->rbody, "{\"ok\":false,\"error\":");
                mx_buf_json_str(&h->rbody, err);
                mx_buf_puts(&h->rbody, "}");
                cJSON_Delete(single);
                cJSON_Delete(root);
                return;
            }
            mx_buf_printf(&h->rbody, "%s%d", n++ ? "," : "", id);
        }
        mx_buf_puts(&h->rbody, "]}");
        cJSON_Delete(single);
        cJSON_Delete(root);
        ws_apply_faults_now(srv);
    } else if (!strcmp(p, "/faults") && !strcmp(h->method, "DELETE")) {
        mx__faults_clear(srv->faults);
        mx_buf_puts(&h->rbody, "{\"ok\":true}");
    } else if (!strcmp(p, "/faults") && !strcmp(h->method, "GET")) {
        mx__faults_state(srv->faults, &h->rbody);
    } else if (!strcmp(p, "/reset") && !strcmp(h->method, "POST")) {
        mx__faults_clear(srv->faults);
        srv->nctr = 0;
        srv->npaths = 0;
        srv->requests = 0;
        srv->ws_accepted = 0;
        for (int i = 0; i < srv->nports; i++)
            srv->ports[i].accepted = srv->ports[i].refused = srv->ports[i].requests = 0;
        mx__accts_reset(srv->accts);
        for (int m = 0; m < MX_NMOD; m++)
            if (mx_modules[m]->reset)
                mx_modules[m]->reset(srv->self[m]);
        mx_buf_puts(&h->rbody, "{\"ok\":true}");
    } else {
        h->status = 404;
        mx_buf_puts(&h->rbody, "{\"ok\":false,\"error\":\"unknown control path\"}");
    }
}

/* ------------------------------------------------------------------------ */
/* HTTP                                                                     */
/* ------------------------------------------------------------------------ */

static void http_free(struct mx_http *h)
{
    if (!h)
        return;
    mx_buf_free(&h->path);
    mx_buf_free(&h->query);
    mx_buf_free(&h->body);
    mx_buf_free(&h->hdrs);
    mx_buf_free(&h->rhdrs);
    mx_buf_free(&h->rbody);
    free(h);
}

static const char *const method_names[] = {"GET", "POST", "OPTIONS", "PUT",
                                           "PATCH", "DELETE", "CONNECT", "HEAD"};

/* Copies what the modules need out of the header table (it goes away later). */
static int http_collect(struct lws *wsi, struct mx_http *h, const char *in)
{
    char *uri;
    int ulen;
    int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COLON_METHOD) > 0) {
        h->http2 = 1;
        lws_hdr_copy(wsi, h->method, sizeof h->method, WSI_TOKEN_HTTP_COLON_METHOD);
    } else if (m >= 0 && m < (int)(sizeof method_names / sizeof method_names[0])) {
        snprintf(h->method, sizeof h->method, "%s", method_names[m]);
    } else {
        snprintf(h->method, sizeof h->method, "GET");
    }
    mx_buf_puts(&h->path, in ? in : "/");
    char frag[8192];
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        if (i)
            mx_buf_put(&h->query, "&", 1);
        mx__canon_append(&h->query, frag, (size_t)n, 1);
    }
    if (!h->query.p)
        mx_buf_puts(&h->query, "");
    /* headers: union of what modules declared, plus content-type */
    char val[1024];
    if (lws_hdr_copy(wsi, val, sizeof val, WSI_TOKEN_HTTP_CONTENT_TYPE) > 0) {
        mx_buf_put(&h->hdrs, "content-type", 13);
        mx_buf_put(&h->hdrs, val, strlen(val) + 1);
    }
    for (int mi = 0; mi < MX_NMOD; mi++) {
        const char *const *hn = mx_modules[mi]->headers;
        for (; hn && *hn; hn++) {
            char name[64];
            int nl = snprintf(name, sizeof name, "%s:", *hn);
            int n = lws_hdr_custom_copy(wsi, val, sizeof val, name, nl);
            if (n < 0 && h->http2) {
                /* h2 keeps custom header names without the colon */
                n = lws_hdr_custom_copy(wsi, val, sizeof val, *hn, nl - 1);
            }
            if (n >= 0) {
                mx_buf_put(&h->hdrs, *hn, strlen(*hn) + 1);
                mx_buf_put(&h->hdrs, val, (size_t)n + 1);
            }
        }
    }
    lws_get_peer_simple(lws_get_network_wsi(wsi), h->peer, sizeof h->peer);
    h->port = lws_get_vhost_listen_port(lws_get_vhost(wsi));
    char cl[32];
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        /* as atoll did, without its undefined overflow: a value past the
         * range saturates (too big), one that is no number reads as 0 */
        long long len = strtoll(cl, NULL, 10);
        if (len > 0)
            h->body_expected = 1;
        if (len > (long long)MX_MAX_BODY)
            h->too_big = 1;
    }
    return 0;
}

/* Route: "/<exchange>/..." forces a module; otherwise the first claimer. */
static int route(const char *path, int ws, const char **rest)
{
    *rest = path;
    for (int i = 0; i < MX_NMOD; i++) {
        size_t n = strlen(mx_modules[i]->name);
        if (path[0] == '/' && !strncmp(path + 1, mx_modules[i]->name, n) &&
            (path[n + 1] == '/' || path[n + 1] == '\0')) {
            *rest = path[n + 1] ? path + n + 1 : "/";
            return i;
        }
    }
    for (int i = 0; i < MX_NMOD; i++) {
        int (*claims)(const char *) = ws ? mx_modules[i]->claims_ws : mx_modules[i]->claims_http;
        if (claims && claims(path))
            return i;
    }
    return -1;
}

/* Per path, and per listening port so that a test can tell which endpoint
 * a client used (e.g. none while its circuit breaker is open). */
static void count_path(struct mx_server *srv, int port, const char *path)
{
    srv->requests++;
    find_counter(&srv->paths, &srv->npaths, &srv->cappaths, "", path)->value++;
    for (int i = 0; i < srv->nports; i++)
        if (srv->ports[i].port == port)
            srv->ports[i].requests++;
}

static void set_rst(struct lws *wsi)
{
    /* SO_LINGER 0 turns the close into a TCP RST */
    struct linger lg = {1, 0};
    int fd = lws_get_socket_fd(lws_get_network_wsi(wsi));
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* Returns -1 when the connection must be dropped now. */
static int http_process(struct mx_server *srv, struct lws *wsi, struct mx_http *h)
{
    /* Processing twice would run the request twice (two orders) and leak
     * the first answer. */
    if (h->processed)
        return 0;
    h->processed = 1;
    h->status = 200;
    h->ctype = "application/json";
    if (!strncmp(h->path.p, "/_mock/", 7)) {
        control(srv, h);
        goto respond;
    }
    const char *rest;
    int mi = route(h->path.p, 0, &rest);
    h->mod = mi;
    const char *ex = mi >= 0 ? mx_modules[mi]->name : "";
    count_path(srv, h->port, h->path.p);
    if (srv->opts.verbose)
        fprintf(stderr, "mockex: %s %s?%s (%s)\n", h->method, h->path.p, h->query.p, ex);
    if (mi < 0) {
        h->status = 404;
        mx_buf_puts(&h->rbody, "{\"code\":404,\"msg\":\"Unknown path; see tools/mockex/README.md.\"}");
        goto respond;
    }
    void *self = srv->self[mi];
    const struct mx_module *mod = mx_modules[mi];
    struct mx_faults *fl = srv->faults;
    if (mx__fault_take(fl, MX_FK_STALL, ex, h->port, rest)) {
        mx_count(srv, ex, "stalled_requests", 1);
        h->stalled = 1;
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        return 0;
    }
    if (mx__fault_take(fl, MX_FK_RESET_BEFORE, ex, h->port, rest)) {
        set_rst(wsi);
        return -1;
    }
    struct mx_fault *st = mx__fault_take(fl, MX_FK_HTTP_STATUS, ex, h->port, rest);
    if (h->too_big) {
        h->status = 413;
        mod->error_body(self, 413, 0, NULL, &h->rbody);
        goto respond;
    }
    if (!st || st->process) {
        struct mx_req rq = {
            .method = h->method, .path = rest, .query = h->query.p, .query_len = h->query.len,
            .body = h->body.p ? h->body.p : "", .body_len = h->body.len, .peer = h->peer,
            .port = h->port, .http2 = h->http2};
        for (size_t off = 0; h->hdrs.p && off < h->hdrs.len && rq.nhdr < 16;) {
            rq.hdr_name[rq.nhdr] = h->hdrs.p + off;
            off += strlen(h->hdrs.p + off) + 1;
            rq.hdr_val[rq.nhdr++] = h->hdrs.p + off;
            off += strlen(h->hdrs.p + off) + 1;
        }
        struct mx_resp rs = {.status = 200, .content_type = "application/json"};
        mod->http(self, &rq, &rs);
        h->status = rs.status;
        h->ctype = rs.content_type ? rs.content_type : "application/json";
        h->rbody = rs.body;
        h->rhdrs = rs.hdrs;
    }
    if (mx__fault_take(fl, MX_FK_RESET_AFTER, ex, h->port, rest)) {
        mx_count(srv, ex, "reset_after_processing", 1);
        set_rst(wsi);
        return -1;
    }
    if (st) {
        mx_buf_reset(&h->rbody);
        h->status = st->status;
        mod->error_body(self, st->status, st->code, st->msg[0] ? st->msg : NULL, &h->rbody);
        if (st->retry_after > 0) {
            char ra[32];
            snprintf(ra, sizeof ra, "%lld", (long long)st->retry_after);
            mx_buf_put(&h->rhdrs, "retry-after", sizeof "retry-after");
            mx_buf_put(&h->rhdrs, ra, strlen(ra) + 1);
        }
    }
    struct mx_fault *tf = mx__fault_take(fl, MX_FK_TRUNCATE, ex, h->port, rest);
    if (tf) {
        if (h->rbody.len < 2)
            mx_buf_puts(&h->rbody, "{\"code\":0,\"msg\":\"truncated\"}");
        size_t full = h->rbody.len, cut = full / 2;
        /* close=true: announce the full length and hang up half way */
        if (tf->close) {
            h->announce = (int64_t)full;
            h->close_after = 1;
        }
        h->rbody.len = cut;
        h->rbody.p[cut] = '\0';
    }
    if (mx__fault_take(fl, MX_FK_MALFORMED, ex, h->port, rest)) {
        struct mx_buf nb = {0};
        mx_buf_puts(&nb, "{\"mock\":malformed,");
        mx_buf_put(&nb, h->rbody.p ? h->rbody.p : "", h->rbody.len);
        mx_buf_puts(&nb, ",]");
        mx_buf_free(&h->rbody);
        h->rbody = nb;
    }
    struct mx_fault *ov = mx__fault_take(fl, MX_FK_OVERSIZE, ex, h->port, rest);
    if (ov) {
        struct mx_buf nb = {0};
        mx_buf_puts(&nb, "{\"pad\":\"");
        size_t pad = (size_t)ov->bytes;
        char chunk[4096];
        memset(chunk, 'x', sizeof chunk);
        while (pad) {
            size_t n = pad < sizeof chunk ? pad : sizeof chunk;
            mx_buf_put(&nb, chunk, n);
            pad -= n;
        }
        mx_buf_puts(&nb, "\",\"data\":");
        mx_buf_put(&nb, h->rbody.len ? h->rbody.p : "null", h->rbody.len ? h->rbody.len : 4);
        mx_buf_puts(&nb, "}");
        mx_buf_free(&h->rbody);
        h->rbody = nb;
    }
    struct mx_fault *lat = mx__fault_take(fl, MX_FK_LATENCY, ex, h->port, rest);
    if (lat && lat->ms > 0) {
        h->content_length = h->announce ? h->announce : (int64_t)h->rbody.len;
        h->ready = 1;
        lws_set_timer_usecs(wsi, (lws_usec_t)lat->ms * 1000);
        return 0;
    }
respond:
    h->content_length = h->announce ? h->announce : (int64_t)h->rbody.len;
    h->ready = 1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* Returns -1 to close, 1 when the transaction finished, 0 to continue. */
static int http_write(struct lws *wsi, struct mx_http *h)
{
    unsigned char buf[LWS_PRE + 16384];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (!h->hdr_sent) {
        if (lws_add_http_common_headers(wsi, (unsigned)h->status, h->ctype,
                                        (lws_filepos_t)h->content_length, &p, end))
            return -1;
        for (size_t off = 0; h->rhdrs.p && off < h->rhdrs.len;) {
            const char *n = h->rhdrs.p + off;
            off += strlen(n) + 1;
            const char *v = h->rhdrs.p + off;
            off += strlen(v) + 1;
            char name[80];
            snprintf(name, sizeof name, "%s:", n);
            if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                            (const unsigned char *)v, (int)strlen(v), &p, end))
                return -1;
        }
        if (lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        h->hdr_sent = 1;
        if (h->rbody.len == 0)
            return 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    size_t left = h->rbody.len - h->sent;
    size_t n = left < 16384 ? left : 16384;
    memcpy(start, h->rbody.p + h->sent, n);
    int final = n == left;
    if (lws_write(wsi, start, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    h->sent += n;
    if (final)
        return h->close_after ? -1 : 1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* WebSocket callbacks                                                      */
/* ------------------------------------------------------------------------ */

static void ws_free(struct mx_server *srv, struct mx_ws *ws)
{
    if (ws->prev)
        ws->prev->next = ws->next;
    else
        srv->ws_list = ws->next;
    if (ws->next)
        ws->next->prev = ws->prev;
    for (struct frame *f = ws->head, *n; f; f = n) {
        n = f->next;
        free(f);
    }
    mx_buf_free(&ws->rx);
    mx_buf_free(&ws->flood);
    free(ws);
}

static int ws_established(struct mx_server *srv, struct lws *wsi, struct mx_pss *pss)
{
    char path[1024], query[4096] = "";
    if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0 &&
        lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_HTTP_COLON_PATH) <= 0)
        return -1;
    struct mx_buf q = {0};
    char frag[2048];
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        if (i)
            mx_buf_put(&q, "&", 1);
        mx__canon_append(&q, frag, (size_t)n, 1);
    }
    if (q.p)
        snprintf(query, sizeof query, "%s", q.p);
    mx_buf_free(&q);
    const char *rest;
    int mi = route(path, 1, &rest);
    if (mi < 0 || !mx_modules[mi]->ws_open)
        return -1;
    struct mx_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        abort();
    ws->wsi = wsi;
    ws->srv = srv;
    ws->mod = mi;
    ws->port = lws_get_vhost_listen_port(lws_get_vhost(wsi));
    snprintf(ws->path, sizeof ws->path, "%s", rest);
    ws->next = srv->ws_list;
    if (srv->ws_list)
        srv->ws_list->prev = ws;
    srv->ws_list = ws;
    pss->ws = ws;
    const char *ex = mx_modules[mi]->name;
    srv->ws_accepted++;
    srv->ws_open_now++;
    mx_count(srv, ex, "ws_connections", 1);
    count_path(srv, ws->port, path);
    if (srv->opts.ws_ping_ms > 0)
        ws->next_ping_ms = mx_mono_ms() + srv->opts.ws_ping_ms;
    if (mx_modules[mi]->ws_open(srv->self[mi], ws, rest, query))
        return -1;
    struct mx_fault *f = mx__fault_take(srv->faults, MX_FK_WS_CLOSE, ex, ws->port, ws->path);
    if (f) {
        mx_count(srv, ex, "ws_closed_by_fault", 1);
        mx_ws_close(ws, f->code ? f->code : 1001, f->msg[0] ? f->msg : "mock fault");
    } else if (mx__fault_take(srv->faults, MX_FK_WS_STALL, ex, ws->port, ws->path)) {
        ws_apply_stall(ws);
    }
    if (srv->opts.ws_flood && mx_modules[mi]->flood_frame)
        lws_callback_on_writable(wsi);
    return 0;
}

static int ws_writeable(struct mx_server *srv, struct lws *wsi, struct mx_ws *ws)
{
    if (ws->stalled)
        return 0;
    if (ws->closing && !ws->head) {
        lws_close_reason(wsi, (enum lws_close_status)ws->close_code,
                         (unsigned char *)ws->close_reason, strlen(ws->close_reason));
        return -1;
    }
    /* a few frames per writable callback keeps syscalls down without starving others */
    for (int k = 0; k < 16 && ws->head; k++) {
        if (lws_send_pipe_choked(wsi))
            break;
        struct frame *f = ws->head;
        ws->head = f->next;
        if (!ws->head)
            ws->tail = NULL;
        ws->nq--;
        int rc = lws_write(wsi, f->data + LWS_PRE, f->len, f->ping ? LWS_WRITE_PING : LWS_WRITE_TEXT);
        free(f);
        if (rc < 0)
            return -1;
    }
    if (ws->head || ws->closing) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    const struct mx_module *mod = mx_modules[ws->mod];
    if (srv->opts.ws_flood && mod->flood_frame) {
        unsigned char buf[LWS_PRE + 1024];
        for (int k = 0; k < 64 && !lws_send_pipe_choked(wsi); k++) {
            mx_buf_reset(&ws->flood);
            if (mod->flood_frame(srv->self[ws->mod], ws, &ws->flood) || !ws->flood.len ||
                ws->flood.len > 1024)
                break;
            memcpy(buf + LWS_PRE, ws->flood.p, ws->flood.len);
            if (lws_write(wsi, buf + LWS_PRE, ws->flood.len, LWS_WRITE_TEXT) < 0)
                return -1;
        }
        lws_callback_on_writable(wsi);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The protocol callback                                                    */
/* ------------------------------------------------------------------------ */

static struct mx_port *port_of(struct mx_server *srv, struct lws *wsi)
{
    struct lws_vhost *vh = lws_get_vhost(wsi);
    for (int i = 0; i < srv->nports; i++)
        if (srv->ports[i].vh == vh)
            return &srv->ports[i];
    return NULL;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct mx_server *srv = lws_context_user(lws_get_context(wsi));
    struct mx_pss *pss = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
        struct mx_port *pt = port_of(srv, wsi);
        if (!pt)
            return 0;
        if (mx__fault_take(srv->faults, MX_FK_REFUSE, NULL, pt->port, NULL)) {
            pt->refused++;
            return 1;
        }
        pt->accepted++;
        return 0;
    }
    case LWS_CALLBACK_HTTP: {
        if (!pss)
            return -1;
        http_free(pss->h);
        pss->h = calloc(1, sizeof *pss->h);
        if (!pss->h)
            return -1;
        http_collect(wsi, pss->h, in);
        if (pss->h->body_expected)
            return 0; /* wait for LWS_CALLBACK_HTTP_BODY_COMPLETION */
        return http_process(srv, wsi, pss->h);
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (pss && pss->h && !pss->h->too_big) {
            if (pss->h->body.len + len > MX_MAX_BODY)
                pss->h->too_big = 1;
            else
                mx_buf_put(&pss->h->body, in, len);
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!pss || !pss->h)
            return -1;
        if (!pss->h->body.p)
            mx_buf_puts(&pss->h->body, "");
        return http_process(srv, wsi, pss->h);
    case LWS_CALLBACK_TIMER:
        if (pss && pss->h && pss->h->ready)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!pss || !pss->h || !pss->h->ready || pss->h->stalled)
            return 0;
        int rc = http_write(wsi, pss->h);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            http_free(pss->h);
            pss->h = NULL;
            if (lws_http_transaction_completed(wsi))
                return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss) {
            http_free(pss->h);
            pss->h = NULL;
        }
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
        char path[1024];
        if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0)
            return -1;
        const char *rest;
        return route(path, 1, &rest) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        if (!pss)
            return -1;
        http_free(pss->h);
        pss->h = NULL;
        return ws_established(srv, wsi, pss);
    case LWS_CALLBACK_RECEIVE: {
        struct mx_ws *ws = pss ? pss->ws : NULL;
        if (!ws || ws->stalled)
            return 0;
        if (ws->rx.len + len > (1u << 20))
            return -1; /* a client message over 1 MiB is abuse */
        mx_buf_put(&ws->rx, in, len);
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
            return 0;
        mx_count(srv, mx_modules[ws->mod]->name, "ws_messages_in", 1);
        if (mx_modules[ws->mod]->ws_message)
            mx_modules[ws->mod]->ws_message(srv->self[ws->mod], ws, ws->rx.p, ws->rx.len);
        mx_buf_reset(&ws->rx);
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!pss || !pss->ws)
            return 0;
        return ws_writeable(srv, wsi, pss->ws);
    case LWS_CALLBACK_CLOSED:
        if (pss && pss->ws) {
            struct mx_ws *ws = pss->ws;
            if (mx_modules[ws->mod]->ws_close)
                mx_modules[ws->mod]->ws_close(srv->self[ws->mod], ws);
            srv->ws_open_now--;
            ws_free(srv, ws);
            pss->ws = NULL;
        }
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"mx", callback, sizeof(struct mx_pss), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ------------------------------------------------------------------------ */
/* Timers                                                                   */
/* ------------------------------------------------------------------------ */

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct mx_server *srv = lws_container_of(sul, struct mx_server, sul_tick);
    int64_t now = mx_wall_ms();
    for (int i = 0; i < mx_market_count(srv->market); i++) {
        mx__market_step(srv->market, i, now, &srv->step);
        for (int m = 0; m < MX_NMOD; m++)
            if (mx_modules[m]->on_step)
                mx_modules[m]->on_step(srv->self[m], &srv->step);
        mx__accts_match(srv, i);
    }
    lws_sul_schedule(srv->ctx, 0, &srv->sul_tick, on_tick, (lws_usec_t)srv->opts.tick_ms * 1000);
}

static void on_timer(lws_sorted_usec_list_t *sul)
{
    struct mx_server *srv = lws_container_of(sul, struct mx_server, sul_timer);
    int64_t now = mx_wall_ms(), mono = mx_mono_ms();
    for (int m = 0; m < MX_NMOD; m++)
        if (mx_modules[m]->on_timer)
            mx_modules[m]->on_timer(srv->self[m], now);
    if (srv->opts.ws_ping_ms > 0)
        for (struct mx_ws *w = srv->ws_list; w; w = w->next)
            if (!w->stalled && !w->closing && mono >= w->next_ping_ms) {
                w->next_ping_ms = mono + srv->opts.ws_ping_ms;
                ws_enqueue(w, "mx", 2, 1);
            }
    lws_sul_schedule(srv->ctx, 0, &srv->sul_timer, on_timer, (lws_usec_t)MX_TIMER_MS * 1000);
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

struct mx_server *mx__server_new(const struct mx_opts *opts, const int *ports, int nports,
                                 const char *cert, const char *key, const char *accounts_file,
                                 char *err, size_t ecap)
{
    struct mx_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->opts = *opts;
    snprintf(srv->cert, sizeof srv->cert, "%s", cert);
    snprintf(srv->key, sizeof srv->key, "%s", key);
    srv->market = mx__market_new(opts->seed);
    srv->accts = mx__accts_new();
    srv->faults = mx__faults_new(opts->seed);
    if (!srv->market || !srv->accts || !srv->faults)
        goto fail;
    if (accounts_file) {
        if (mx__accts_load(srv->accts, accounts_file, err, ecap))
            goto fail;
    } else {
        mx__accts_demo(srv->accts);
    }
    for (int m = 0; m < MX_NMOD; m++) {
        srv->self[m] = mx_modules[m]->create(srv);
        if (!srv->self[m]) {
            snprintf(err, ecap, "module %s failed to start", mx_modules[m]->name);
            goto fail;
        }
    }

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.user = srv;
    info.max_http_header_data = 16384;
    info.max_http_header_pool = 1024;
    info.pt_serv_buf_size = 65536;
    info.fd_limit_per_thread = 0;
    srv->ctx = lws_create_context(&info);
    if (!srv->ctx) {
        snprintf(err, ecap, "libwebsockets context creation failed");
        goto fail;
    }
    for (int i = 0; i < nports && i < 16; i++) {
        struct lws_context_creation_info vi;
        memset(&vi, 0, sizeof vi);
        char name[32];
        snprintf(name, sizeof name, "mx%d", i);
        vi.vhost_name = name;
        vi.port = ports[i];
        vi.iface = "127.0.0.1";
        vi.protocols = protocols;
        vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_IPV6;
        vi.ssl_cert_filepath = srv->cert;
        vi.ssl_private_key_filepath = srv->key;
        vi.alpn = opts->http2 ? "h2,http/1.1" : "http/1.1";
        vi.keepalive_timeout = 60;
        vi.timeout_secs = 30;
        struct lws_vhost *vh = lws_create_vhost(srv->ctx, &vi);
        if (!vh) {
            snprintf(err, ecap, "cannot listen on 127.0.0.1:%d", ports[i]);
            goto fail;
        }
        srv->ports[srv->nports].vh = vh;
        srv->ports[srv->nports].port = lws_get_vhost_listen_port(vh);
        srv->nports++;
    }
    lws_sul_schedule(srv->ctx, 0, &srv->sul_tick, on_tick, (lws_usec_t)opts->tick_ms * 1000);
    lws_sul_schedule(srv->ctx, 0, &srv->sul_timer, on_timer, (lws_usec_t)MX_TIMER_MS * 1000);
    return srv;
fail:
    mx__server_free(srv);
    return NULL;
}

int mx__server_nports(const struct mx_server *srv) { return srv->nports; }
int mx__server_port(const struct mx_server *srv, int i) { return srv->ports[i].port; }

int mx__server_run_once(struct mx_server *srv) { return lws_service(srv->ctx, 0); }

void mx__server_wake(struct mx_server *srv)
{
    if (srv && srv->ctx)
        lws_cancel_service(srv->ctx);
}

void mx__server_free(struct mx_server *srv)
{
    if (!srv)
        return;
    if (srv->ctx) {
        lws_sul_cancel(&srv->sul_tick);
        lws_sul_cancel(&srv->sul_timer);
        lws_context_destroy(srv->ctx); /* closes connections: CLOSED frees ws state */
    }
    for (int m = 0; m < MX_NMOD; m++)
        if (srv->self[m])
            mx_modules[m]->destroy(srv->self[m]);
    mx__accts_free(srv->accts);
    mx__market_free(srv->market);
    mx__faults_free(srv->faults);
    free(srv->ctr);
    free(srv->paths);
    free(srv);
}

int mx__server_add_fault(struct mx_server *srv, const char *json, char *err, size_t ecap)
{
    return mx__faults_add_json(srv->faults, json, strlen(json), err, ecap);
}
