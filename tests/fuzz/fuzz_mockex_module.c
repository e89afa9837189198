/*
 * Fuzz target: one exchange module of the mock (tools/mockex/<exchange>.c)
 * driven in-process with fuzzed requests — REST (method, path, query,
 * headers, body) and WebSocket (open path/query, text frames) — plus market
 * steps, timer ticks and control-API faults between them, so that what a
 * request leaves behind (orders, listenKeys, subscriptions, nonces) meets
 * the next one. Built three times, FZ_MODULE selecting the module.
 *
 * No sockets: this file stands in for server.c (which is libwebsockets
 * glue) with the same services (mockex.h "Server services" and "WebSocket
 * connections") over the real market, accounts and fault table. What the
 * server does to a request before a module sees it is done here too: the
 * query is percent-decoded per '&' fragment and re-encoded canonically,
 * header names are lower-cased and only the module's declared headers (and
 * content-type) are kept, the body is a NUL-terminated copy. The clock is
 * fixed (FZ_T0, advanced only by TIME records, see clock.c), so a signed
 * seed stays valid and every input replays the same way. Each input gets a
 * fresh server.
 *
 * Input: records separated by a line "%%". A record is a first line, then
 * for requests "name: value" header lines, then an empty line, then the
 * payload (to the end of the record):
 *   GET /fapi/v1/depth?symbol=BTCUSDT     a REST request (any method word)
 *   WS /ws/btcusdt@depth                  open a WebSocket (at most 4 open;
 *                                         a fifth closes the oldest)
 *   TEXT                                  payload = one text frame to the
 *                                         newest open WebSocket
 *   STEP                                  one market step (pushes, matching)
 *   TIME 1500                             advance the clocks, run on_timer
 *   FAULT                                 payload = a fault's JSON
 *   ERROR 503 -1003                       the module renders an error the
 *                                         server produces (injected status,
 *                                         404, 413); payload = the message
 * Signatures are hard for a fuzzer to forge, so the harness signs on
 * request with the account's own secret: a Binance query or body ending in
 * "signature=AUTO", a Bitunix "sign: AUTO" header or a WS login whose
 * "sign" is "AUTO" are replaced by the right value (a mutated request
 * still reaches the code behind the signature check). FZ_MOCKEX_TRACE=1
 * prints every answer and pushed frame, to check what a new seed reaches.
 * Hyperliquid's
 * EIP-712 signatures are not forged: its seeds carry real ones.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binance_sign.h"
#include "bitunix_sign.h"
#include "fz.h"
#include "mx_int.h"

#ifndef FZ_MODULE
#error "FZ_MODULE selects the module (mx_module_binance, ...)"
#endif
#define MOD (&FZ_MODULE)

#define FZ_T0 1764900000000LL /* 2025-12-05T02:00:00Z: the fixed wall clock */
#define FZ_NWS 4
#define FZ_MAX_RECORDS 64

struct mx_ws {
    struct mx_server *srv;
    void *user;
    int closing;
    size_t nq;
};

struct mx_server {
    struct mx_opts opts;
    struct mx_market *market;
    struct mx_accounts *accts;
    struct mx_faults *faults;
    void *self;
    struct mx_ws *ws[FZ_NWS]; /* oldest first */
    int nws;
    struct mx_step step;
    int64_t counters; /* mx_count is only summed: nothing reads them here */
};

static int64_t g_advance; /* ms the clocks moved since the input began */
static int g_trace;       /* FZ_MOCKEX_TRACE=1: answers and frames on stderr (writing seeds) */

/* ---- clock.c's replacement ------------------------------------------------ */

int64_t mx_wall_ms(void) { return FZ_T0 + g_advance; }
int64_t mx_mono_ms(void) { return 1000000 + g_advance; }

/* ---- server.c's services -------------------------------------------------- */

const struct mx_opts *mx_opts(const struct mx_server *srv) { return &srv->opts; }
struct mx_market *mx_market_of(struct mx_server *srv) { return srv->market; }
struct mx_accounts *mx__accts_of(struct mx_server *srv) { return srv->accts; }

int64_t mx_clock_ms(struct mx_server *srv, const char *exchange)
{
    return mx_wall_ms() + mx__faults_clock(srv->faults, exchange);
}

void *mx_module_self(struct mx_server *srv, const char *exchange)
{
    return !strcmp(exchange, MOD->name) ? srv->self : NULL;
}

void mx_count(struct mx_server *srv, const char *exchange, const char *name, int64_t delta)
{
    (void)exchange;
    (void)name;
    srv->counters += delta;
}

int64_t mx_counter(struct mx_server *srv, const char *exchange, const char *name)
{
    (void)srv;
    (void)exchange;
    (void)name;
    return 0;
}

void mx__order_event(struct mx_server *srv, struct mx_account *a, const struct mx_order *o,
                     enum mx_order_event ev)
{
    if (!strcmp(a->exchange, MOD->name) && MOD->on_order)
        MOD->on_order(srv->self, a, o, ev);
}

int mx_ws_send(struct mx_ws *ws, const char *data, size_t len)
{
    if (ws->closing)
        return -1;
    /* Touch every byte the module claims to send: an over-read shows here. */
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < len; i++)
        sink ^= (unsigned char)data[i];
    (void)sink;
    if (g_trace)
        fprintf(stderr, "  ws <- %.*s\n", len > 300 ? 300 : (int)len, data);
    ws->nq++;
    return 0;
}

void mx_ws_close(struct mx_ws *ws, int code, const char *reason)
{
    (void)code;
    (void)reason;
    ws->closing = 1;
}

void mx_ws_set_user(struct mx_ws *ws, void *user) { ws->user = user; }
void *mx_ws_user(const struct mx_ws *ws) { return ws->user; }
int mx_ws_port(const struct mx_ws *ws)
{
    (void)ws;
    return 443;
}
size_t mx_ws_queued(const struct mx_ws *ws) { return ws->nq; }

void mx_ws_foreach(struct mx_server *srv, const char *exchange,
                   void (*fn)(struct mx_ws *ws, void *arg), void *arg)
{
    if (strcmp(exchange, MOD->name))
        return;
    for (int i = 0; i < srv->nws; i++)
        fn(srv->ws[i], arg);
}

int mx_fault_ws_gap(struct mx_server *srv, struct mx_ws *ws)
{
    (void)ws;
    return mx__fault_take(srv->faults, MX_FK_WS_GAP, MOD->name, 443, NULL) != NULL;
}

/* ---- the harness ---------------------------------------------------------- */

static void ws_drop(struct mx_server *srv, int i)
{
    struct mx_ws *ws = srv->ws[i];
    if (MOD->ws_close)
        MOD->ws_close(srv->self, ws);
    free(ws);
    memmove(&srv->ws[i], &srv->ws[i + 1], (size_t)(srv->nws - i - 1) * sizeof srv->ws[0]);
    srv->nws--;
}

/* The server writes queued frames and completes closes between events. */
static void drain(struct mx_server *srv)
{
    for (int i = srv->nws - 1; i >= 0; i--) {
        srv->ws[i]->nq = 0;
        if (srv->ws[i]->closing)
            ws_drop(srv, i);
    }
}

static int hexv(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* lws percent-decodes each '&'-separated fragment; server.c re-encodes it. */
static void canon_query(struct mx_buf *q, const char *raw, size_t len)
{
    struct mx_buf frag = {0};
    size_t i = 0;
    int first = 1;
    while (i <= len && len > 0) {
        size_t end = i;
        while (end < len && raw[end] != '&')
            end++;
        mx_buf_reset(&frag);
        for (size_t k = i; k < end; k++) {
            int hi, lo;
            if (raw[k] == '%' && k + 2 < end && (hi = hexv(raw[k + 1])) >= 0 && (lo = hexv(raw[k + 2])) >= 0) {
                char c = (char)(hi * 16 + lo);
                mx_buf_put(&frag, &c, 1);
                k += 2;
            } else {
                mx_buf_put(&frag, &raw[k], 1);
            }
        }
        if (!first)
            mx_buf_put(q, "&", 1);
        first = 0;
        mx__canon_append(q, frag.p ? frag.p : "", frag.len, 1);
        i = end + 1;
    }
    mx_buf_free(&frag);
    if (!q->p)
        mx_buf_puts(q, "");
}

/* Binance: "signature=AUTO" as the last parameter of query or body. */
static void sign_binance(struct mx_server *srv, const char *key, struct mx_buf *q, struct mx_buf *body)
{
    static const char tag[] = "signature=AUTO";
    const size_t tl = sizeof tag - 1;
    struct mx_buf *part = NULL;
    if (q->len >= tl && !memcmp(q->p + q->len - tl, tag, tl))
        part = q;
    else if (body->len >= tl && !memcmp(body->p + body->len - tl, tag, tl))
        part = body;
    struct mx_account *a = key ? mx_acct_find(srv, "binance", key) : NULL;
    if (!part || !a)
        return;
    part->len -= tl;
    size_t keep = part->len;
    if (part->len > 0)
        part->len--; /* the '&' before it is not signed */
    struct mx_buf msg = {0};
    mx_buf_put(&msg, q->p ? q->p : "", q->len);
    mx_buf_put(&msg, body->p ? body->p : "", body->len);
    char hex[65];
    mx_hmac_sha256_hex(a->secret, strlen(a->secret), msg.p, msg.len, hex);
    mx_buf_free(&msg);
    part->len = keep;
    part->p[keep] = '\0';
    mx_buf_puts(part, "signature=");
    mx_buf_puts(part, hex);
}

/* Bitunix: a "sign: AUTO" header. */
static void sign_bitunix(struct mx_server *srv, struct mx_req *rq, const struct mx_buf *q, char sig[65])
{
    const char *s = mx_req_header(rq, "sign");
    const char *key = mx_req_header(rq, "api-key");
    const char *nonce = mx_req_header(rq, "nonce");
    const char *ts = mx_req_header(rq, "timestamp");
    struct mx_account *a = key ? mx_acct_find(srv, "bitunix", key) : NULL;
    char qp[4096];
    int n;
    if (!s || strcmp(s, "AUTO") || !a || !nonce || !ts || (n = mxbx_query_params(q->p, q->len, qp, sizeof qp)) < 0)
        return;
    mxbx_sign(nonce, ts, key, qp, (size_t)n, rq->body, rq->body_len, a->secret, sig);
    for (int i = 0; i < rq->nhdr; i++)
        if (!strcmp(rq->hdr_name[i], "sign"))
            rq->hdr_val[i] = sig;
}

/* Bitunix WS login: {"op":"login","args":[{"apiKey","timestamp","nonce","sign":"AUTO"}]}. */
static char *sign_bitunix_login(struct mx_server *srv, const char *data, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(data, len);
    cJSON *a0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "args"), 0);
    cJSON *sign = cJSON_GetObjectItemCaseSensitive(a0, "sign");
    const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a0, "apiKey"));
    const char *nonce = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a0, "nonce"));
    const cJSON *tsj = cJSON_GetObjectItemCaseSensitive(a0, "timestamp");
    struct mx_account *a = key ? mx_acct_find(srv, "bitunix", key) : NULL;
    char ts[32], hex[65], *out = NULL;
    if (cJSON_IsString(tsj))
        snprintf(ts, sizeof ts, "%s", tsj->valuestring);
    else if (cJSON_IsNumber(tsj))
        snprintf(ts, sizeof ts, "%.0f", tsj->valuedouble);
    else
        ts[0] = '\0';
    if (a && nonce && ts[0] && cJSON_IsString(sign) && !strcmp(sign->valuestring, "AUTO")) {
        mxbx_sign(nonce, ts, key, "", 0, "", 0, a->secret, hex);
        cJSON_SetValuestring(sign, hex);
        out = cJSON_PrintUnformatted(j);
    }
    cJSON_Delete(j);
    return out;
}

/* "path?query" as the server hands it to a module: the path never empty
 * nor holding a NUL (lws hands over a C string), the query canonicalised.
 * Returns whether there was a query. */
static bool split_target(const char *target, size_t tlen, struct mx_buf *path, struct mx_buf *query)
{
    const char *qm = memchr(target, '?', tlen);
    mx_buf_put(path, target, qm ? (size_t)(qm - target) : tlen);
    if (!path->len || memchr(path->p, '\0', path->len)) {
        mx_buf_reset(path);
        mx_buf_puts(path, "/");
    }
    if (qm)
        canon_query(query, qm + 1, tlen - (size_t)(qm + 1 - target));
    return qm != NULL;
}

static void run_http(struct mx_server *srv, const char *line, size_t llen, const char *rec, size_t rlen)
{
    /* first line: METHOD SP target */
    const char *sp = memchr(line, ' ', llen);
    if (!sp || sp == line || (size_t)(sp - line) >= 12)
        return;
    char method[12];
    memcpy(method, line, (size_t)(sp - line));
    method[sp - line] = '\0';
    const char *target = sp + 1;
    size_t tlen = llen - (size_t)(target - line);
    struct mx_buf path = {0}, query = {0}, body = {0}, hdrs = {0};
    if (!split_target(target, tlen, &path, &query))
        mx_buf_puts(&query, "");
    /* headers, then the body */
    size_t off = 0;
    while (off < rlen) {
        const char *nl = memchr(rec + off, '\n', rlen - off);
        size_t n = nl ? (size_t)(nl - (rec + off)) : rlen - off;
        const char *h = rec + off;
        off += n + (nl ? 1 : 0);
        if (n == 0)
            break;
        const char *colon = memchr(h, ':', n);
        if (!colon || colon == h)
            continue;
        char name[64];
        size_t nn = (size_t)(colon - h);
        if (nn >= sizeof name)
            continue;
        for (size_t k = 0; k < nn; k++)
            name[k] = (char)tolower((unsigned char)h[k]);
        name[nn] = '\0';
        int wanted = !strcmp(name, "content-type");
        for (const char *const *d = MOD->headers; d && *d && !wanted; d++)
            wanted = !strcmp(*d, name);
        if (!wanted || memchr(name, '\0', nn))
            continue;
        const char *v = colon + 1;
        size_t vl = n - nn - 1;
        while (vl && *v == ' ')
            v++, vl--;
        if (memchr(v, '\0', vl))
            continue; /* lws headers are C strings */
        mx_buf_put(&hdrs, name, nn + 1);
        mx_buf_put(&hdrs, v, vl);
        mx_buf_put(&hdrs, "", 1);
    }
    mx_buf_put(&body, rec + off, rlen - off);
    struct mx_req rq = {.method = method, .path = path.p, .peer = "127.0.0.1", .port = 443};
    for (size_t o = 0; hdrs.p && o < hdrs.len && rq.nhdr < 16;) {
        rq.hdr_name[rq.nhdr] = hdrs.p + o;
        o += strlen(hdrs.p + o) + 1;
        rq.hdr_val[rq.nhdr++] = hdrs.p + o;
        o += strlen(hdrs.p + o) + 1;
    }
    if (!strcmp(MOD->name, "binance"))
        sign_binance(srv, mx_req_header(&rq, "x-mbx-apikey"), &query, &body);
    if (!body.p)
        mx_buf_puts(&body, "");
    rq.query = query.p;
    rq.query_len = query.len;
    rq.body = body.p;
    rq.body_len = body.len;
    char sig[65];
    if (!strcmp(MOD->name, "bitunix"))
        sign_bitunix(srv, &rq, &query, sig);
    struct mx_resp rs = {.status = 200, .content_type = "application/json"};
    MOD->http(srv->self, &rq, &rs);
    if (g_trace)
        fprintf(stderr, "%s %s?%s -> %d %s\n", method, path.p, query.p, rs.status, rs.body.p ? rs.body.p : "");
    if (rs.status < 100 || rs.status > 599)
        abort(); /* the server would send a broken status line */
    mx_buf_free(&rs.body);
    mx_buf_free(&rs.hdrs);
    mx_buf_free(&path);
    mx_buf_free(&query);
    mx_buf_free(&body);
    mx_buf_free(&hdrs);
}

static void run_ws_open(struct mx_server *srv, const char *target, size_t tlen)
{
    struct mx_buf path = {0}, query = {0};
    split_target(target, tlen, &path, &query);
    /* server.c hands ws_open at most 4095 bytes of query */
    if (query.len > 4095) {
        query.len = 4095;
        query.p[4095] = '\0';
    }
    if (srv->nws == FZ_NWS)
        ws_drop(srv, 0);
    struct mx_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        abort();
    ws->srv = srv;
    if (MOD->ws_open && MOD->ws_open(srv->self, ws, path.p, query.p ? query.p : "") == 0) {
        srv->ws[srv->nws++] = ws;
    } else {
        /* server.c: a refused handshake still ends in LWS_CALLBACK_CLOSED,
         * which calls ws_close. */
        if (MOD->ws_close)
            MOD->ws_close(srv->self, ws);
        free(ws);
    }
    mx_buf_free(&path);
    mx_buf_free(&query);
}

static void run_text(struct mx_server *srv, const char *p, size_t n)
{
    if (!srv->nws || !MOD->ws_message)
        return;
    struct mx_ws *ws = srv->ws[srv->nws - 1];
    if (ws->closing)
        return;
    char *signed_ = !strcmp(MOD->name, "bitunix") ? sign_bitunix_login(srv, p, n) : NULL;
    /* the server passes its receive buffer: NUL-terminated, exact length */
    struct mx_buf b = {0};
    if (signed_)
        mx_buf_puts(&b, signed_);
    else
        mx_buf_put(&b, p, n);
    free(signed_);
    MOD->ws_message(srv->self, ws, b.p ? b.p : "", b.len);
    mx_buf_free(&b);
}

static void run_step(struct mx_server *srv)
{
    for (int i = 0; i < mx_market_count(srv->market); i++) {
        mx__market_step(srv->market, i, mx_wall_ms(), &srv->step);
        if (MOD->on_step)
            MOD->on_step(srv->self, &srv->step);
        mx__accts_match(srv, i);
    }
}

static void run_record(struct mx_server *srv, const char *rec, size_t rlen)
{
    const char *nl = memchr(rec, '\n', rlen);
    size_t llen = nl ? (size_t)(nl - rec) : rlen;
    const char *rest = nl ? nl + 1 : rec + rlen;
    size_t restlen = rlen - (size_t)(rest - rec);
    /* the payload of TEXT/FAULT starts after the first empty line (or at once) */
    const char *pl = rest;
    size_t pllen = restlen;
    if (pllen && *pl == '\n')
        pl++, pllen--;
    if (llen == 4 && !memcmp(rec, "TEXT", 4)) {
        run_text(srv, pl, pllen);
    } else if (llen == 4 && !memcmp(rec, "STEP", 4)) {
        run_step(srv);
    } else if (llen == 5 && !memcmp(rec, "FAULT", 5)) {
        char err[256];
        (void)mx__faults_add_json(srv->faults, pl, pllen, err, sizeof err);
    } else if (llen > 6 && !memcmp(rec, "ERROR ", 6)) {
        char num[32];
        size_t n = llen - 6 < sizeof num - 1 ? llen - 6 : sizeof num - 1;
        memcpy(num, rec + 6, n);
        num[n] = '\0';
        char *e;
        long status = strtol(num, &e, 10), code = strtol(e, NULL, 10);
        /* fault.c bounds an injected status to 100..599 and a message to
         * 12 KiB; a code is any int */
        if (status >= 100 && status <= 599 && code >= INT_MIN && code <= INT_MAX && pllen < 12288) {
            char *msg = strndup(pl, pllen);
            struct mx_buf out = {0};
            if (!msg)
                abort();
            MOD->error_body(srv->self, (int)status, (int)code, pllen ? msg : NULL, &out);
            mx_buf_free(&out);
            free(msg);
        }
    } else if (llen > 5 && !memcmp(rec, "TIME ", 5)) {
        char num[16];
        size_t n = llen - 5 < sizeof num - 1 ? llen - 5 : sizeof num - 1;
        memcpy(num, rec + 5, n);
        num[n] = '\0';
        long long ms = strtoll(num, NULL, 10);
        /* up to a day per record: expiries, bans and idle closes */
        if (ms > 0 && ms <= 86400000LL) {
            g_advance += ms;
            if (MOD->on_timer)
                MOD->on_timer(srv->self, mx_wall_ms());
        }
    } else if (llen > 3 && !memcmp(rec, "WS ", 3)) {
        run_ws_open(srv, rec + 3, llen - 3);
    } else {
        run_http(srv, rec, llen, rest, restlen);
    }
    drain(srv);
}

static struct mx_server *server_new(void)
{
    struct mx_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        abort();
    srv->opts = (struct mx_opts){.seed = 1,
                                 .tick_ms = 100,
                                 .weight_limit = 2400,
                                 .listenkey_ttl_ms = 3600000,
                                 .ws_ping_ms = 180000};
    srv->market = mx__market_new(1);
    srv->accts = mx__accts_new();
    srv->faults = mx__faults_new(1);
    if (!srv->market || !srv->accts || !srv->faults)
        abort();
    mx__accts_demo(srv->accts);
    srv->self = MOD->create(srv);
    if (!srv->self)
        abort();
    return srv;
}

static void server_free(struct mx_server *srv)
{
    while (srv->nws)
        ws_drop(srv, srv->nws - 1);
    MOD->destroy(srv->self);
    mx__accts_free(srv->accts);
    mx__market_free(srv->market);
    mx__faults_free(srv->faults);
    free(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_advance = 0;
    g_trace = getenv("FZ_MOCKEX_TRACE") != NULL;
    struct mx_server *srv = server_new();
    const char *p = (const char *)data, *end = p + size;
    for (int n = 0; p < end && n < FZ_MAX_RECORDS; n++) {
        const char *sep = memmem(p, (size_t)(end - p), "\n%%\n", 4);
        size_t rlen = sep ? (size_t)(sep - p) : (size_t)(end - p);
        run_record(srv, p, rlen);
        p = sep ? sep + 4 : end;
    }
    server_free(srv);
    return 0;
}
