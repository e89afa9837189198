/*
 * tu_chaos.c — the chaos driver (see tu_chaos.h for what it does).
 *
 * Soundness notes (the checks must not pass by luck nor fail by design):
 *  - Calls are submitted with xgw_call() and completed through a callback
 *    that counts its invocations per call record; a record is reused only
 *    after its completion, and every record is checked for exactly one
 *    completion at the end, together with submitted == completed.
 *  - The order book-keeping trusts the documented contract: a PLACE that
 *    returns an order or a definite error (anything but UNKNOWN_OUTCOME, or
 *    PROTOCOL which may hide a processed request) is believed; so is a
 *    CANCEL. Only calls the contract leaves open are "unsure" and resolved
 *    by GET_ORDER with the client id once faults are gone. The mock's open
 *    orders must then equal the bot's belief exactly.
 *  - 429 probe and breaker probe: see probe_429() and probe_breaker().
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tu_chaos.h"
#include "tu_mockex.h"
#include "tu_proc.h"
#include "xgw/stream.h"
#include "xgw/xgw.h"

#define LANE 256          /* call records per bot thread */
#define CALL_WAIT_MS 90000 /* longest a call may take (retries, lookups, rate-limit waits) */
#define REQ_TIMEOUT_MS 1500
#define RETRY_AFTER_S 4
#define PROBE_SETTLE_MS 800 /* a request or state read in flight lands within this, even loaded */
#define MAX_ORDERS 64
#define MAX_OPEN 6
#define UNSURE_SETTLE_MS 10000 /* past recv_window + latency faults: the mock's state is final */

#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif

enum lane { L_TRADER = 0, L_READER = 1, L_FINAL = 2, N_LANES };

struct crec {
    struct ctx *c;
    atomic_int done;  /* completions seen by the callback */
    bool used, lost;  /* lost: never completed in time; never reused */
    enum xgw_op op;
    int kind;
    unsigned flags;
    char msg[XGW_ERR_MSG_MAX];
    bool has_order;
    struct xgw_order order;
};

enum ost { O_OPEN = 1, O_UNSURE };
struct ord {
    char cid[XGW_ID_MAX];
    enum ost st;
    int64_t since_ms;
};

struct ctx {
    const struct tu_chaos_profile *p;
    const struct tu_chaos_opts *o;
    struct tu_mockex mx;
    bool mx_up;
    char dir[256];
    struct xgw_gateway *gw;
    struct xgw_exchange *ex;
    int port_a, port_b; /* endpoint 1 and 2; the control API always uses port_b (port_a may refuse) */
    uint64_t seed;
    atomic_bool stop;

    pthread_mutex_t mu; /* records, violations, orders */
    pthread_cond_t cv;
    struct crec recs[N_LANES][LANE];
    unsigned next[N_LANES];
    atomic_long submitted, completed, ok_calls, by_kind[XGW_ERR__COUNT];
    atomic_long violations;

    struct ord ords[MAX_ORDERS];
    size_t nords;
    uint64_t cid_seq;
    long placed_ok, placed_unsure, cancels_ok, resolved;
    char price[40];

    long probes_429, probes_429_missed, probes_brk, episodes;
    long hit_n[16]; /* hits per fault kind, read from the mock before each clear */
    char hit_kind[16][16];
    int n_hit_kinds;

    pthread_mutex_t bmu; /* book copy */
    struct xgw_sub *sub;
    long book_events;
    int64_t book_seq;
    struct xgw_level bids[5], asks[5];
    size_t nb, na;

    long rss_base, rss_max, rss_end;
};

/* ---- profiles ----------------------------------------------------------- */

static const char *const BN_REST[] = {"/fapi/", NULL};
static const char *const BX_REST[] = {"/api/v1/futures/", NULL};
static const char *const HL_REST[] = {"/info", "/exchange", NULL};

const struct tu_chaos_profile tu_chaos_binance = {
    .exchange = "binance",
    .symbol = "BTCUSDT",
    .qty = "0.010",
    .rest_prefixes = BN_REST,
    .write_path = "/fapi/v1/order",
    .cid_key = "clientOrderId",
    .book_stream = true,
    .depth_url = "/fapi/v1/depth?symbol=BTCUSDT&limit=5",
    .ini = "api_key = dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83\n"
           "api_secret = 2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9\n"
           "ws_routed = false\n",
};

const struct tu_chaos_profile tu_chaos_bitunix = {
    .exchange = "bitunix",
    .symbol = "BTCUSDT",
    .qty = "0.010",
    .rest_prefixes = BX_REST,
    .write_path = "/api/v1/futures/trade/",
    .cid_key = "clientId",
    .book_stream = true,
    .depth_url = "/api/v1/futures/market/depth?symbol=BTCUSDT&limit=5",
    .ini = "api_key = test-api-key\napi_secret = test-secret\n",
};

const struct tu_chaos_profile tu_chaos_hyperliquid = {
    .exchange = "hyperliquid",
    .symbol = "BTC",
    .qty = "0.001", /* the mock's lot; finer than meta's szDecimals */
    .rest_prefixes = HL_REST,
    .write_path = "/exchange",
    .cid_key = "cloid",
    .hex_cid = true,
    .book_stream = false,
    /* /info costs 20 of 1200 weight a minute: at the real limit the bot's
     * reads would be refused by the gateway before any fault could meet
     * them. The mock enforces no Hyperliquid limit, so 10x is harmless. */
    .ini = "private_key = 0x0123456789012345678901234567890123456789012345678901234567890123\n"
           "rate_limits = request_weight_1m=12000\n",
};

/* ---- small helpers ------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Sleeps in small steps so that a stop request ends the wait early. */
static void nap(struct ctx *c, int64_t ms)
{
    int64_t end = mono_ms() + ms;
    while (!atomic_load(&c->stop) && mono_ms() < end)
        sleep_ms(end - mono_ms() < 50 ? end - mono_ms() : 50);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned rnd(uint64_t *s, unsigned n) { return (unsigned)(rng_next(s) % n); }

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f)
        return -1;
    int n = fscanf(f, "%ld %ld", &size, &res);
    fclose(f);
    return n == 2 ? res * sysconf(_SC_PAGESIZE) : -1;
}

static void violation(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (atomic_fetch_add(&c->violations, 1) < 40)
        fprintf(stderr, "CHAOS VIOLATION [%s]: %s\n", c->p->exchange, line);
}

/* The run in progress, for tu_chaos_teardown when an assertion jumped out. */
static struct ctx *g_live;

int tu_chaos_teardown(void **state)
{
    (void)state;
    struct ctx *c = g_live;
    g_live = NULL;
    if (c) {
        atomic_store(&c->stop, true);
        if (c->mx_up)
            tu_mockex_stop(&c->mx);
        if (c->dir[0])
            tu_rm_rf(c->dir);
        /* threads and the gateway may still be live after a failed assertion:
         * the memory is left to the exiting process rather than freed under them */
    }
    return 0;
}

int tu_chaos_seconds(int dflt)
{
    const char *s = getenv("XGW_CHAOS_S");
    int v = s ? atoi(s) : 0;
    return v > 0 ? v : dflt;
}

/* ---- the mock's control API (always on port_b) --------------------------- */

static int ctl(struct ctx *c, const char *method, const char *path, const char *body, struct tu_http *out)
{
    struct tu_http r;
    struct tu_http *h = out ? out : &r;
    int rc = tu_mockex_http(&c->mx, c->port_b, method, path, NULL, body, 5000, h);
    rc = rc == 0 && h->status == 200 ? 0 : -1;
    if (!out)
        tu_http_free(&r);
    return rc;
}

static cJSON *mock_state(struct ctx *c);

/* Adds the hits of the installed faults to the run's tally (proof that the
 * faults fired), then deletes them. */
static void faults_clear(struct ctx *c)
{
    cJSON *st = mock_state(c);
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(st, "faults"))
    {
        const cJSON *k = cJSON_GetObjectItem(f, "kind");
        long h = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "hits"));
        if (!cJSON_IsString(k) || h <= 0)
            continue;
        int i = 0;
        while (i < c->n_hit_kinds && strcmp(c->hit_kind[i], k->valuestring))
            i++;
        if (i == c->n_hit_kinds && i < 16)
            snprintf(c->hit_kind[c->n_hit_kinds++], sizeof c->hit_kind[0], "%s", k->valuestring);
        if (i < 16)
            c->hit_n[i] += h;
    }
    cJSON_Delete(st);
    if (ctl(c, "DELETE", "/_mock/faults", NULL, NULL) != 0)
        violation(c, "the mock refused DELETE /_mock/faults");
}

static void fault(struct ctx *c, const char *fmt, ...)
{
    char json[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(json, sizeof json, fmt, ap);
    va_end(ap);
    if (ctl(c, "POST", "/_mock/faults", json, NULL) != 0)
        violation(c, "the mock refused fault %s", json);
}

static cJSON *mock_state(struct ctx *c)
{
    struct tu_http h;
    cJSON *j = NULL;
    if (ctl(c, "GET", "/_mock/state", NULL, &h) == 0)
        j = cJSON_Parse(h.body);
    tu_http_free(&h);
    return j;
}

/* Requests that reached the mock on this exchange's REST paths (WS
 * upgrades are not REST and are governed by other limits). -1 on error. */
static long long rest_requests(struct ctx *c, const cJSON *st)
{
    const cJSON *bp = cJSON_GetObjectItem(cJSON_GetObjectItem(st, "requests"), "by_path");
    if (!cJSON_IsObject(bp))
        return -1;
    long long n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, bp)
    {
        for (const char *const *pre = c->p->rest_prefixes; *pre; pre++)
            if (!strncmp(it->string, *pre, strlen(*pre))) {
                n += (long long)cJSON_GetNumberValue(it);
                break;
            }
    }
    return n;
}

/* Everything that touched port_a: answered requests and refused connections. */
static long long port_a_touches(struct ctx *c, const cJSON *st)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(st, "ports"))
    {
        if ((int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "port")) == c->port_a)
            return (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "requests")) +
                   (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "refused"));
    }
    return -1;
}

/* ---- calls --------------------------------------------------------------- */

static bool is_write(enum xgw_op op) { return op == XGW_OP_PLACE || op == XGW_OP_CANCEL; }

/* The kinds chaos may legitimately produce (types.h documents each). */
static bool kind_allowed(enum xgw_op op, int kind, unsigned flags)
{
    switch (kind) {
    case XGW_ERR_NETWORK:
    case XGW_ERR_RATE_LIMITED:
    case XGW_ERR_SERVER:
    case XGW_ERR_PROTOCOL:
        return true;
    case XGW_ERR_TIMEOUT: /* orders that left the process become UNKNOWN_OUTCOME instead */
        return !is_write(op) || !(flags & XGW_ERRF_SENT);
    case XGW_ERR_UNKNOWN_OUTCOME:
        return is_write(op);
    case XGW_ERR_INVALID_REQUEST: /* an order already gone */
        return (op == XGW_OP_CANCEL || op == XGW_OP_GET_ORDER) && (flags & XGW_ERRF_ORDER_NOT_FOUND);
    default:
        return false;
    }
}

static void on_done(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    struct crec *r = user;
    struct ctx *c = r->c;
    pthread_mutex_lock(&c->mu);
    if (atomic_fetch_add(&r->done, 1) != 0)
        violation(c, "%s completed more than once", xgw_op_name(r->op));
    if (!res == !err)
        violation(c, "%s: completion with %s", xgw_op_name(r->op), res ? "both a result and an error" : "neither");
    if (err) {
        r->kind = (int)err->kind;
        r->flags = err->flags;
        snprintf(r->msg, sizeof r->msg, "%s", err->message);
        size_t ml = strnlen(err->message, sizeof err->message);
        if (err->kind <= XGW_OK || err->kind >= XGW_ERR__COUNT)
            violation(c, "%s: error kind %d out of range", xgw_op_name(r->op), (int)err->kind);
        else
            atomic_fetch_add(&c->by_kind[err->kind], 1);
        if (ml == 0 || ml >= sizeof err->message)
            violation(c, "%s: error message empty or not terminated", xgw_op_name(r->op));
        for (size_t i = 0; i < ml; i++)
            if ((unsigned char)err->message[i] < 0x20 || err->message[i] == 0x7f) {
                violation(c, "%s: control byte 0x%02x in an error message", xgw_op_name(r->op),
                          (unsigned char)err->message[i]);
                break;
            }
        if (!kind_allowed(r->op, (int)err->kind, err->flags))
            violation(c, "%s: error kind %s (flags 0x%x) is not a correct classification under these faults: %s",
                      xgw_op_name(r->op), xgw_err_kind_name(err->kind), err->flags, err->message);
    } else if (res) {
        r->kind = 0;
        atomic_fetch_add(&c->ok_calls, 1);
        if (res->op != r->op)
            violation(c, "result of %s for a %s call", xgw_op_name(res->op), xgw_op_name(r->op));
        if ((r->op == XGW_OP_PLACE || r->op == XGW_OP_CANCEL || r->op == XGW_OP_GET_ORDER)) {
            if (res->n_orders != 1 || !res->orders)
                violation(c, "%s returned %zu orders", xgw_op_name(r->op), res->n_orders);
            else {
                r->has_order = true;
                r->order = res->orders[0];
            }
        }
        if (r->op == XGW_OP_TICKER && !xgw_dec_is_none(res->ticker.bid) && !xgw_dec_is_none(res->ticker.ask) &&
            xgw_dec_cmp(res->ticker.bid, res->ticker.ask) >= 0)
            violation(c, "ticker crossed");
    }
    atomic_fetch_add(&c->completed, 1);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Submits one call and waits for its completion; returns the record (valid
 * until the lane wraps) or NULL when it never completed. */
static struct crec *do_call(struct ctx *c, enum lane lane, enum xgw_op op, const struct xgw_call *a)
{
    pthread_mutex_lock(&c->mu);
    struct crec *r = NULL;
    for (unsigned tries = 0; tries < LANE && !r; tries++) {
        struct crec *x = &c->recs[lane][c->next[lane]++ % LANE];
        if (!x->lost)
            r = x;
    }
    if (!r) {
        pthread_mutex_unlock(&c->mu);
        violation(c, "every call record of a lane is lost");
        return NULL;
    }
    if (r->used && atomic_load(&r->done) != 1)
        violation(c, "%s record had %d completions", xgw_op_name(r->op), atomic_load(&r->done));
    memset(r->msg, 0, sizeof r->msg);
    r->c = c;
    r->used = true;
    r->op = op;
    r->kind = -1;
    r->flags = 0;
    r->has_order = false;
    atomic_store(&r->done, 0);
    pthread_mutex_unlock(&c->mu);

    atomic_fetch_add(&c->submitted, 1);
    int rc = xgw_call(c->ex, op, a, on_done, r);
    if (rc != 0) {
        /* not queued: done is never called; the API allows it (closing) but
         * not while the gateway runs */
        atomic_fetch_sub(&c->submitted, 1);
        violation(c, "xgw_call(%s) refused to queue: %s", xgw_op_name(op), xgw_err_kind_name(rc));
        pthread_mutex_lock(&c->mu);
        atomic_store(&r->done, 1);
        pthread_mutex_unlock(&c->mu);
        return NULL;
    }
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += CALL_WAIT_MS / 1000;
    pthread_mutex_lock(&c->mu);
    while (atomic_load(&r->done) == 0)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) == ETIMEDOUT)
            break;
    bool done = atomic_load(&r->done) != 0;
    if (!done)
        r->lost = true;
    pthread_mutex_unlock(&c->mu);
    if (!done) {
        violation(c, "%s did not complete within %d s", xgw_op_name(op), CALL_WAIT_MS / 1000);
        return NULL;
    }
    return r;
}

/* ---- the trader ---------------------------------------------------------- */

static void make_cid(struct ctx *c, char *out, size_t cap)
{
    uint64_t n = ++c->cid_seq;
    if (c->p->hex_cid)
        snprintf(out, cap, "0x%016llx%016llx", (unsigned long long)(c->seed & 0xffffffffffffULL),
                 (unsigned long long)n);
    else
        snprintf(out, cap, "cx%llx%06llu", (unsigned long long)(c->seed & 0xffffff), (unsigned long long)n);
}

static void ord_drop(struct ctx *c, size_t i)
{
    c->ords[i] = c->ords[--c->nords];
}

static size_t ord_find(struct ctx *c, const char *cid)
{
    for (size_t i = 0; i < c->nords; i++)
        if (!strcasecmp(c->ords[i].cid, cid))
            return i;
    return (size_t)-1;
}

static void ord_set(struct ctx *c, const char *cid, enum ost st)
{
    size_t i = ord_find(c, cid);
    if (i == (size_t)-1) {
        if (c->nords >= MAX_ORDERS) {
            violation(c, "order table full");
            return;
        }
        i = c->nords++;
        snprintf(c->ords[i].cid, sizeof c->ords[i].cid, "%s", cid);
    }
    c->ords[i].st = st;
    c->ords[i].since_ms = mono_ms();
}

static bool status_open(enum xgw_order_status s) { return s == XGW_OS_NEW || s == XGW_OS_PARTIALLY_FILLED; }
static bool status_final(enum xgw_order_status s)
{
    return s == XGW_OS_FILLED || s == XGW_OS_CANCELED || s == XGW_OS_REJECTED || s == XGW_OS_EXPIRED;
}

static void place(struct ctx *c, enum lane lane)
{
    struct xgw_call a;
    memset(&a, 0, sizeof a);
    snprintf(a.order.symbol, sizeof a.order.symbol, "%s", c->p->symbol);
    a.order.side = XGW_SIDE_BUY;
    a.order.type = XGW_TYPE_LIMIT;
    a.order.tif = XGW_TIF_GTC;
    assert_int_equal(xgw_dec_parse_cstr(c->p->qty, &a.order.qty), 0);
    assert_int_equal(xgw_dec_parse_cstr(c->price, &a.order.price), 0);
    make_cid(c, a.order.client_id, sizeof a.order.client_id);
    struct crec *r = do_call(c, lane, XGW_OP_PLACE, &a);
    pthread_mutex_lock(&c->mu);
    if (!r) {
        ord_set(c, a.order.client_id, O_UNSURE);
    } else if (r->kind == 0) {
        if (!r->has_order || strcasecmp(r->order.client_id, a.order.client_id))
            violation(c, "PLACE returned an order with client id \"%s\", sent \"%s\"",
                      r->has_order ? r->order.client_id : "", a.order.client_id);
        c->placed_ok++;
        if (!r->has_order || !status_final(r->order.status))
            ord_set(c, a.order.client_id, status_open(r->order.status) ? O_OPEN : O_UNSURE);
    } else if (r->kind == XGW_ERR_UNKNOWN_OUTCOME || r->kind == XGW_ERR_PROTOCOL) {
        c->placed_unsure++;
        ord_set(c, a.order.client_id, O_UNSURE);
    } /* any other error: the contract says no order exists */
    pthread_mutex_unlock(&c->mu);
}

static void cancel(struct ctx *c, const char *cid)
{
    struct xgw_call a;
    memset(&a, 0, sizeof a);
    snprintf(a.symbol, sizeof a.symbol, "%s", c->p->symbol);
    snprintf(a.client_id, sizeof a.client_id, "%s", cid);
    struct crec *r = do_call(c, L_TRADER, XGW_OP_CANCEL, &a);
    pthread_mutex_lock(&c->mu);
    size_t i = ord_find(c, cid);
    if (i != (size_t)-1) {
        if (!r || r->kind == XGW_ERR_UNKNOWN_OUTCOME || r->kind == XGW_ERR_PROTOCOL ||
            (r->kind == 0 && (!r->has_order || !status_final(r->order.status)))) {
            c->ords[i].st = O_UNSURE;
            c->ords[i].since_ms = mono_ms();
        } else if (r->kind == 0 || (r->flags & XGW_ERRF_ORDER_NOT_FOUND)) {
            c->cancels_ok += r->kind == 0;
            ord_drop(c, i);
        } /* other errors: nothing was cancelled */
    }
    pthread_mutex_unlock(&c->mu);
}

/* GET_ORDER by client id. final: faults are gone, every lookup must answer. */
static void lookup(struct ctx *c, enum lane lane, const char *cid, bool final)
{
    struct xgw_call a;
    memset(&a, 0, sizeof a);
    snprintf(a.symbol, sizeof a.symbol, "%s", c->p->symbol);
    snprintf(a.client_id, sizeof a.client_id, "%s", cid);
    struct crec *r = NULL;
    for (int tries = 0; tries < (final ? 5 : 1); tries++) {
        r = do_call(c, lane, XGW_OP_GET_ORDER, &a);
        if (!final || (r && (r->kind == 0 || (r->flags & XGW_ERRF_ORDER_NOT_FOUND))))
            break;
        sleep_ms(500);
    }
    pthread_mutex_lock(&c->mu);
    size_t i = ord_find(c, cid);
    if (i != (size_t)-1 && r) {
        bool was_open = c->ords[i].st == O_OPEN;
        bool settled = mono_ms() - c->ords[i].since_ms >= UNSURE_SETTLE_MS || final;
        if (r->kind == 0 && r->has_order) {
            if (status_open(r->order.status))
                c->ords[i].st = O_OPEN;
            else if (status_final(r->order.status)) {
                /* resting far below the market it cannot fill, and every
                 * cancel that left it open reported a no-side-effect error */
                if (was_open)
                    violation(c, "order %s believed open is %s", cid, xgw_order_status_name(r->order.status));
                ord_drop(c, i);
            }
            c->resolved += !was_open;
        } else if (r->flags & XGW_ERRF_ORDER_NOT_FOUND) {
            if (was_open)
                violation(c, "order %s believed open is unknown to the exchange (lost)", cid);
            else if (settled) {
                ord_drop(c, i);
                c->resolved++;
            }
        } else if (final) {
            violation(c, "final GET_ORDER of %s failed: %s %s", cid, xgw_err_kind_name(r->kind), r->msg);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static void *trader(void *arg)
{
    struct ctx *c = arg;
    uint64_t s = c->seed ^ 0x7472616465ULL;
    while (!atomic_load(&c->stop)) {
        pthread_mutex_lock(&c->mu);
        size_t n = c->nords, nopen = 0;
        char pick[XGW_ID_MAX] = "", old_unsure[XGW_ID_MAX] = "";
        for (size_t i = 0; i < n; i++) {
            nopen += c->ords[i].st == O_OPEN;
            if (c->ords[i].st == O_UNSURE && mono_ms() - c->ords[i].since_ms >= UNSURE_SETTLE_MS && !old_unsure[0])
                snprintf(old_unsure, sizeof old_unsure, "%s", c->ords[i].cid);
        }
        if (n)
            snprintf(pick, sizeof pick, "%s", c->ords[rnd(&s, (unsigned)n)].cid);
        bool pick_open = n && c->ords[ord_find(c, pick)].st == O_OPEN;
        pthread_mutex_unlock(&c->mu);

        unsigned r = rnd(&s, 100);
        if (old_unsure[0])
            lookup(c, L_TRADER, old_unsure, false);
        else if (n < MAX_OPEN && (r < 55 || nopen == 0))
            place(c, L_TRADER);
        else if (pick_open && r < 85)
            cancel(c, pick);
        else if (pick[0])
            lookup(c, L_TRADER, pick, false);
        nap(c, 20 + rnd(&s, 80));
    }
    return NULL;
}

static void *reader(void *arg)
{
    struct ctx *c = arg;
    static const enum xgw_op ops[] = {XGW_OP_TICKER, XGW_OP_DEPTH, XGW_OP_BALANCES, XGW_OP_OPEN_ORDERS,
                                      XGW_OP_TIME, XGW_OP_POSITIONS};
    uint64_t s = c->seed ^ 0x72656164ULL;
    while (!atomic_load(&c->stop)) {
        struct xgw_call a;
        memset(&a, 0, sizeof a);
        snprintf(a.symbol, sizeof a.symbol, "%s", c->p->symbol);
        a.limit = 5;
        do_call(c, L_READER, ops[rnd(&s, sizeof ops / sizeof ops[0])], &a);
        /* ~7 reads/s: with the trader and the health checks this stays
         * under Binance's 2,400 weight/min x 0.9, so over a long run the
         * calls meet faults rather than the gateway's own rate limiter
         * (which would starve the breaker probe of traffic) */
        nap(c, 100 + rnd(&s, 100));
    }
    return NULL;
}

/* ---- book stream --------------------------------------------------------- */

static void on_ev(void *user, const struct xgw_event *ev)
{
    struct ctx *c = user;
    if (ev->type != XGW_EV_BOOK)
        return;
    bool ok = ev->n_bids > 0 && ev->n_asks > 0 && xgw_dec_cmp(ev->bids[0].price, ev->asks[0].price) < 0;
    for (size_t k = 1; ok && k < ev->n_bids; k++)
        ok = xgw_dec_cmp(ev->bids[k - 1].price, ev->bids[k].price) > 0;
    for (size_t k = 1; ok && k < ev->n_asks; k++)
        ok = xgw_dec_cmp(ev->asks[k - 1].price, ev->asks[k].price) < 0;
    if (!ok)
        violation(c, "book event crossed or unsorted");
    pthread_mutex_lock(&c->bmu);
    c->book_events++;
    c->book_seq = ev->seq;
    c->nb = ev->n_bids < 5 ? ev->n_bids : 5;
    c->na = ev->n_asks < 5 ? ev->n_asks : 5;
    memcpy(c->bids, ev->bids, c->nb * sizeof *c->bids);
    memcpy(c->asks, ev->asks, c->na * sizeof *c->asks);
    pthread_mutex_unlock(&c->bmu);
}

static bool level_eq(const cJSON *lv, const struct xgw_level *mine)
{
    const cJSON *p = cJSON_GetArrayItem(lv, 0), *q = cJSON_GetArrayItem(lv, 1);
    xgw_dec dp, dq;
    return cJSON_IsString(p) && cJSON_IsString(q) && !xgw_dec_parse_cstr(p->valuestring, &dp) &&
           !xgw_dec_parse_cstr(q->valuestring, &dq) && !xgw_dec_cmp(dp, mine->price) && !xgw_dec_cmp(dq, mine->qty);
}

/* True when the stream's top 5 equal the mock's REST top 5 — and, where the
 * mock gives a sequence (Binance lastUpdateId), at that same sequence. */
static bool book_matches(struct ctx *c)
{
    struct tu_http h;
    if (tu_mockex_http(&c->mx, c->port_b, "GET", c->p->depth_url, NULL, NULL, 3000, &h) != 0 || h.status != 200) {
        tu_http_free(&h);
        return false;
    }
    cJSON *j = cJSON_Parse(h.body);
    tu_http_free(&h);
    const cJSON *d = cJSON_IsObject(cJSON_GetObjectItem(j, "data")) ? cJSON_GetObjectItem(j, "data") : j;
    const cJSON *lu = cJSON_GetObjectItem(d, "lastUpdateId");
    pthread_mutex_lock(&c->bmu);
    bool ok = c->nb == 5 && c->na == 5 && (!lu || (cJSON_IsNumber(lu) && (int64_t)lu->valuedouble == c->book_seq));
    for (int side = 0; side < 2 && ok; side++) {
        const cJSON *arr = cJSON_GetObjectItem(d, side ? "asks" : "bids");
        for (int k = 0; k < 5 && ok; k++)
            ok = level_eq(cJSON_GetArrayItem(arr, k), side ? &c->asks[k] : &c->bids[k]);
    }
    pthread_mutex_unlock(&c->bmu);
    cJSON_Delete(j);
    return ok;
}

/* ---- probes -------------------------------------------------------------- */

/* A 429 with Retry-After N stops every bucket of the instance for N s
 * (docs/resilience.md). The mock answers the 429 at some instant T between
 * tp (when we sent the last state request that still showed the fault
 * unhit) and t0 (when a state request showed the hit). The gateway reads
 * the answer at or after T, so it must send no REST request in
 * [t0, tp + N s). Requests it sent before reading the 429 reach the mock
 * within milliseconds on loopback, and a state read is answered as fast;
 * PROBE_SETTLE_MS (generous: a loaded ASan build may stall either for a
 * few hundred ms) after t0 the counter is read (r0); PROBE_SETTLE_MS before
 * tp + N s it is read again (r1); r1 must equal r0.
 * Health checks go through the rate limiter too; WS upgrades are not REST
 * and are not counted. */
static void probe_429(struct ctx *c)
{
    faults_clear(c);
    fault(c,
          "{\"kind\":\"http_status\",\"exchange\":\"%s\",\"count\":1,\"params\":{\"status\":429,"
          "\"retry_after\":%d,\"msg\":\"Too many requests (chaos probe)\"}}",
          c->p->exchange, RETRY_AFTER_S);
    int64_t tp = mono_ms(), t0 = 0;
    while (!t0 && mono_ms() - tp < 8000 && !atomic_load(&c->stop)) {
        int64_t sent = mono_ms();
        cJSON *st = mock_state(c);
        const cJSON *fl = cJSON_GetObjectItem(st, "faults");
        const cJSON *f0 = cJSON_GetArrayItem(fl, 0);
        if (f0 && cJSON_GetNumberValue(cJSON_GetObjectItem(f0, "hits")) >= 1)
            t0 = mono_ms();
        else
            tp = sent;
        cJSON_Delete(st);
        if (!t0)
            sleep_ms(20);
    }
    if (!t0) {
        c->probes_429_missed++;
        return;
    }
    int64_t end = tp + RETRY_AFTER_S * 1000 - PROBE_SETTLE_MS;
    if (end - (t0 + PROBE_SETTLE_MS) < 500) { /* the poll was too slow to leave a window worth checking */
        c->probes_429_missed++;
        return;
    }
    sleep_ms(t0 + PROBE_SETTLE_MS - mono_ms());
    cJSON *st = mock_state(c);
    long long r0 = rest_requests(c, st);
    cJSON_Delete(st);
    sleep_ms(end - mono_ms());
    st = mock_state(c);
    long long r1 = rest_requests(c, st);
    cJSON_Delete(st);
    c->probes_429++;
    if (r0 < 0 || r1 != r0)
        violation(c, "%lld REST request(s) reached the exchange during a %d s 429 back-off", r1 - r0,
                  RETRY_AFTER_S);
}

struct ep0 {
    bool open;
    long long retry_in, checks;
};

static bool ep0_health(struct ctx *c, struct ep0 *out)
{
    char *js = NULL;
    if (xgw_health(c->gw, &js, NULL) != 0)
        return false;
    cJSON *j = cJSON_Parse(js);
    free(js);
    const cJSON *inst = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "instances"), 0);
    const cJSON *ep = cJSON_GetArrayItem(cJSON_GetObjectItem(inst, "endpoints"), 0);
    const cJSON *b = cJSON_GetObjectItem(ep, "breaker");
    bool ok = ep && cJSON_IsString(b);
    if (ok) {
        out->open = !strcmp(b->valuestring, "open");
        out->retry_in = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(ep, "breaker_retry_in_ms"));
        out->checks = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(ep, "checks"));
    }
    cJSON_Delete(j);
    return ok;
}

/* Endpoint 1 refuses new connections and resets requests on old ones, so
 * its breaker opens. While it stays open nothing but health checks (pinned
 * probes that bypass breakers by design) may touch it. Sample: health h1
 * (open, retry_in r1, checks k1), then the mock's touches of port_a p1,
 * sleep less than r1, p2, then h2. When h2 is still open with r2 < r1 the
 * breaker stayed open over the whole [p1, p2] (a re-open would have reset
 * retry_in to at least the recovery time, which is > r1 - elapsed); then
 * p2 - p1 <= k2 - k1 + 1 (one check may be in flight when h2 is read). */
static void probe_breaker(struct ctx *c)
{
    faults_clear(c);
    fault(c, "{\"kind\":\"refuse\",\"port\":%d,\"ratio\":1}", c->port_a);
    fault(c, "{\"kind\":\"reset_before\",\"exchange\":\"%s\",\"port\":%d,\"ratio\":1}", c->p->exchange, c->port_a);
    struct ep0 h1 = {0}, h2 = {0};
    int64_t t = mono_ms();
    while (mono_ms() - t < 15000 && !atomic_load(&c->stop) && !(ep0_health(c, &h1) && h1.open))
        sleep_ms(50);
    if (!h1.open) {
        if (!atomic_load(&c->stop))
            violation(c, "the breaker of a refusing endpoint did not open within 15 s");
        faults_clear(c);
        return;
    }
    for (int tries = 0; tries < 3 && !atomic_load(&c->stop); tries++) {
        /* the two state reads and h2 must fit in what is left of r1 after
         * the pause: PROBE_SETTLE_MS of it, as a loaded ASan build reads slowly */
        if (!ep0_health(c, &h1) || !h1.open || h1.retry_in < PROBE_SETTLE_MS + 500) {
            sleep_ms(200);
            continue;
        }
        cJSON *st = mock_state(c);
        long long p1 = port_a_touches(c, st);
        cJSON_Delete(st);
        sleep_ms(h1.retry_in - PROBE_SETTLE_MS < 2500 ? h1.retry_in - PROBE_SETTLE_MS : 2500);
        st = mock_state(c);
        long long p2 = port_a_touches(c, st);
        cJSON_Delete(st);
        if (!ep0_health(c, &h2) || !h2.open || h2.retry_in >= h1.retry_in)
            continue;
        c->probes_brk++;
        if (p1 < 0 || p2 - p1 > h2.checks - h1.checks + 1)
            violation(c, "%lld request(s)/connection(s) reached endpoint 1 while its breaker was open "
                         "(%lld health checks in that time)",
                      p2 - p1, h2.checks - h1.checks);
        break;
    }
    faults_clear(c);
}

/* ---- the driver ---------------------------------------------------------- */

static void *driver(void *arg)
{
    struct ctx *c = arg;
    uint64_t s = c->seed;
    const char *E = c->p->exchange;
    for (unsigned k = 0; !atomic_load(&c->stop); k++) {
        c->episodes++;
        if (k % 6 == 2) {
            probe_429(c);
            continue;
        }
        if (k % 6 == 5) {
            probe_breaker(c);
            continue;
        }
        faults_clear(c);
        unsigned n_kinds = c->p->book_stream ? 12 : 9;
        switch (rnd(&s, n_kinds)) {
        case 0:
            fault(c, "{\"kind\":\"http_status\",\"exchange\":\"%s\",\"count\":%u,\"params\":{\"status\":%u}}", E,
                  3 + rnd(&s, 6), 500 + rnd(&s, 5));
            break;
        case 1:
            fault(c, "{\"kind\":\"reset_before\",\"exchange\":\"%s\",\"count\":%u}", E, 2 + rnd(&s, 3));
            break;
        case 2: /* processed, then the connection dies: the order exists, the client heard nothing */
            fault(c, "{\"kind\":\"reset_after\",\"exchange\":\"%s\",\"path\":\"%s\",\"count\":%u}", E,
                  rnd(&s, 2) ? c->p->write_path : "", 1 + rnd(&s, 2));
            break;
        case 3:
            fault(c, "{\"kind\":\"stall\",\"exchange\":\"%s\",\"count\":1}", E);
            break;
        case 4:
            fault(c, "{\"kind\":\"truncate\",\"exchange\":\"%s\",\"count\":2,\"params\":{\"close\":%s}}", E,
                  rnd(&s, 2) ? "true" : "false");
            break;
        case 5:
            fault(c, "{\"kind\":\"malformed\",\"exchange\":\"%s\",\"count\":2}", E);
            break;
        case 6: /* larger than max_response_bytes */
            fault(c, "{\"kind\":\"oversize\",\"exchange\":\"%s\",\"count\":1,\"params\":{\"bytes\":2097152}}", E);
            break;
        case 7:
            fault(c, "{\"kind\":\"latency\",\"exchange\":\"%s\",\"count\":2,\"params\":{\"ms\":%d}}", E,
                  REQ_TIMEOUT_MS + 500);
            break;
        case 8: /* a steady drizzle on every path, writes included */
            fault(c, "{\"kind\":\"http_status\",\"exchange\":\"%s\",\"ratio\":0.2,\"params\":{\"status\":503}}", E);
            fault(c, "{\"kind\":\"reset_after\",\"exchange\":\"%s\",\"ratio\":0.1}", E);
            fault(c, "{\"kind\":\"truncate\",\"exchange\":\"%s\",\"ratio\":0.05}", E);
            break;
        case 9:
            fault(c, "{\"kind\":\"ws_close\",\"exchange\":\"%s\",\"count\":1,\"params\":{\"code\":1001}}", E);
            break;
        case 10:
            fault(c, "{\"kind\":\"ws_stall\",\"exchange\":\"%s\",\"count\":1}", E);
            break;
        default:
            fault(c, "{\"kind\":\"ws_gap\",\"exchange\":\"%s\",\"count\":1}", E);
            break;
        }
        nap(c, 1500 + rnd(&s, 1500));
    }
    faults_clear(c);
    return NULL;
}

/* ---- the run ------------------------------------------------------------- */

static void open_gateway(struct ctx *c)
{
    const char *args[] = {"--port", "0", "--port", "0", "--tick-ms", "100", NULL};
    assert_int_equal(tu_mockex_start(&c->mx, args), 0);
    c->mx_up = true;
    assert_int_equal(c->mx.nports, 2);
    c->port_a = c->mx.ports[0];
    c->port_b = c->mx.ports[1];
    assert_int_equal(tu_mkdtemp(c->dir, sizeof c->dir), 0);
    char ini[4096];
    /* WS only on port_b: the breaker probe refuses port_a, and WebSocket
     * reconnects there are not governed by REST breakers. */
    snprintf(ini, sizeof ini,
             "[gateway]\nplugin_dir = %s\nlog_level = %s\n\n"
             "[exchange.cx]\nplugin = %s\nrest_endpoints = https://127.0.0.1:%d, https://127.0.0.1:%d\n"
             "ws_endpoints = wss://127.0.0.1:%d\nca_file = %s\n%s\n"
             "http2 = false\nconnect_timeout_ms = 1000\nrequest_timeout_ms = %d\nretry_max = 3\n"
             "retry_backoff_ms = 50\nretry_backoff_max_ms = 400\nbreaker_failures = 3\nbreaker_recovery_s = 3\n"
             "breaker_recovery_max_s = 6\nhealth_interval_s = 2\nhealth_timeout_s = 1\nrecv_window_ms = 2000\n"
             "max_response_bytes = 1048576\nws_reconnect_initial_ms = 100\nws_reconnect_max_ms = 1000\n"
             "ws_stale_s = 2\n",
             getenv("XGW_PLUGIN_DIR"), getenv("XGW_CHAOS_LOG") ? getenv("XGW_CHAOS_LOG") : "error", c->p->exchange, c->port_a, c->port_b, c->port_b, c->mx.cert, c->p->ini,
             REQ_TIMEOUT_MS);
    char *path = tu_write_file(c->dir, "chaos.ini", ini, (size_t)-1, 0600);
    assert_non_null(path);
    struct xgw_error err;
    c->gw = xgw_open(path, NULL, &err);
    free(path);
    if (!c->gw)
        fail_msg("xgw_open: %s (%s:%d %s)", err.message, err.file, err.line, err.key);
    c->ex = xgw_exchange_find(c->gw, "cx");
    assert_non_null(c->ex);
    assert_int_equal(xgw_start(c->gw, &err), 0);
}

/* A resting buy at 90 % of the best bid (or last), whole units (valid for every
 * mock instrument's tick, inside Binance's PERCENT_PRICE and Bitunix's
 * ±50 % band, never filled by the random walk). */
static void pick_price(struct ctx *c)
{
    struct xgw_call a;
    memset(&a, 0, sizeof a);
    snprintf(a.symbol, sizeof a.symbol, "%s", c->p->symbol);
    struct xgw_result *res = NULL;
    struct xgw_error err;
    if (xgw_call_sync(c->ex, XGW_OP_TICKER, &a, &res, &err) != 0)
        fail_msg("ticker before chaos: %s", err.message);
    xgw_dec px, one = xgw_dec_from_int(1), nine;
    assert_int_equal(xgw_dec_parse_cstr("0.9", &nine), 0);
    /* Bitunix's ticker carries no bid: its last price serves as well */
    xgw_dec ref = !xgw_dec_is_none(res->ticker.bid) ? res->ticker.bid : res->ticker.last;
    if (xgw_dec_is_none(ref))
        fail_msg("the ticker has neither bid nor last");
    assert_int_equal(xgw_dec_mul(ref, nine, &px), 0);
    assert_int_equal(xgw_dec_round_to(px, one, XGW_ROUND_DOWN, &px), 0);
    xgw_dec_format(px, c->price, sizeof c->price);
    xgw_result_free(res);
}

static void check_books(struct ctx *c)
{
    struct xgw_sub_stats st;
    int64_t t = mono_ms();
    while (mono_ms() - t < 20000 && (xgw_sub_stats(c->sub, &st) != 0 || st.state != XGW_SUB_LIVE))
        sleep_ms(50);
    if (st.state != XGW_SUB_LIVE) {
        uint64_t m0 = st.messages;
        sleep_ms(2000);
        xgw_sub_stats(c->sub, &st);
        fprintf(stderr, "chaos[%s]: book stream: %llu messages routed in the last 2 s\n", c->p->exchange,
                (unsigned long long)(st.messages - m0));
        violation(c, "book stream not live 20 s after faults ended (%s; events %llu, messages %llu, gaps %llu, "
                     "reconnects %llu, resyncs %llu, dropped %llu)",
                  xgw_sub_state_name(st.state), (unsigned long long)st.events, (unsigned long long)st.messages,
                  (unsigned long long)st.gaps, (unsigned long long)st.reconnects, (unsigned long long)st.resyncs,
                  (unsigned long long)st.dropped);
        return;
    }
    bool same = false;
    for (int i = 0; i < 500 && !same; i++) {
        same = book_matches(c);
        if (!same)
            sleep_ms(10);
    }
    if (!same)
        violation(c, "the streamed book never equalled the mock's after resync");
    fprintf(stderr, "chaos[%s]: book events %ld, gaps %llu, reconnects %llu, resyncs %llu\n", c->p->exchange,
            c->book_events, (unsigned long long)st.gaps, (unsigned long long)st.reconnects,
            (unsigned long long)st.resyncs);
}

/* The mock's open orders of the account must be exactly the bot's. */
static void check_orders(struct ctx *c)
{
    cJSON *st = mock_state(c);
    assert_non_null(st);
    const cJSON *acct =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "exchanges"),
                                                                   c->p->exchange),
                                               "accounts"),
                           0);
    const cJSON *oo = cJSON_GetObjectItem(acct, "open_orders");
    assert_true(cJSON_IsArray(oo));
    char seen[128][XGW_ID_MAX];
    int nseen = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, oo)
    {
        const cJSON *cid = cJSON_GetObjectItem(it, c->p->cid_key);
        const char *s = cJSON_IsString(cid) ? cid->valuestring : "";
        for (int k = 0; k < nseen; k++)
            if (!strcasecmp(seen[k], s))
                violation(c, "client id %s is open twice at the exchange (duplicated order)", s);
        if (nseen < 128)
            snprintf(seen[nseen++], XGW_ID_MAX, "%s", s);
        size_t i = ord_find(c, s);
        if (i == (size_t)-1)
            violation(c, "the exchange has open order %s that the bot does not know (a failed place that "
                         "happened, or a cancel that did not)",
                      s);
        else if (c->ords[i].st != O_OPEN)
            violation(c, "order %s still unsure after reconciliation", s);
    }
    for (size_t i = 0; i < c->nords; i++) {
        bool found = false;
        for (int k = 0; k < nseen && !found; k++)
            found = !strcasecmp(seen[k], c->ords[i].cid);
        if (!found)
            violation(c, "the bot believes %s is open; the exchange does not have it (lost order)", c->ords[i].cid);
    }
    fprintf(stderr, "chaos[%s]: open orders at the end: bot %zu, exchange %d\n", c->p->exchange, c->nords, nseen);
    cJSON_Delete(st);
}

void tu_chaos_run(const struct tu_chaos_profile *p, const struct tu_chaos_opts *o)
{
    struct ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->p = p;
    c->o = o;
    g_live = c;
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->bmu, NULL);
    pthread_cond_init(&c->cv, NULL);
    const char *seed = getenv("XGW_CHAOS_SEED");
    c->seed = seed && *seed ? strtoull(seed, NULL, 0) : 20261122;
    for (const char *q = p->exchange; *q; q++)
        c->seed = c->seed * 131 + (unsigned char)*q;
    fprintf(stderr, "chaos[%s]: %d s, seed %llu (XGW_CHAOS_SEED / XGW_CHAOS_S to change)\n", p->exchange,
            o->seconds, (unsigned long long)c->seed);

    open_gateway(c);
    pick_price(c);
    if (p->book_stream) {
        struct xgw_error err;
        const char *syms[] = {p->symbol};
        if (xgw_subscribe(c->ex, XGW_CH_BOOK, syms, 1, 20, on_ev, c, &c->sub, &err) != 0)
            fail_msg("subscribe: %s", err.message);
    }

    pthread_t th_d, th_t, th_r;
    assert_int_equal(pthread_create(&th_t, NULL, trader, c), 0);
    assert_int_equal(pthread_create(&th_r, NULL, reader, c), 0);
    assert_int_equal(pthread_create(&th_d, NULL, driver, c), 0);

    /* Memory: the baseline is taken after a warm-up (pools, TLS sessions,
     * rate-limit tables and the stream's book have reached their size). */
    int64_t t0 = mono_ms(), end = t0 + (int64_t)o->seconds * 1000;
    int64_t warm = t0 + (o->seconds >= 40 ? 10000 : (int64_t)o->seconds * 250);
    int64_t next_sample = warm;
    while (mono_ms() < end) {
        sleep_ms(100);
        if (mono_ms() >= next_sample) {
            long r = rss_bytes();
            if (!c->rss_base)
                c->rss_base = r;
            if (r > c->rss_max)
                c->rss_max = r;
            if (o->mem_every_s > 0) {
                fprintf(stderr, "chaos[%s]: t=%llds rss %ld KiB\n", p->exchange,
                        (long long)((mono_ms() - t0) / 1000), r / 1024);
                next_sample += (int64_t)o->mem_every_s * 1000;
            } else {
                next_sample = INT64_MAX;
            }
        }
    }
    c->rss_end = rss_bytes();
    atomic_store(&c->stop, true);
    pthread_join(th_d, NULL); /* clears the faults on its way out */
    pthread_join(th_t, NULL);
    pthread_join(th_r, NULL);
    faults_clear(c);

    /* Reconciliation: past every request's receive window, then look up
     * every order the bot is unsure of, by client id. */
    sleep_ms(4000);
    char cids[MAX_ORDERS][XGW_ID_MAX];
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nords; i++)
        if (c->ords[i].st == O_UNSURE)
            snprintf(cids[n++], XGW_ID_MAX, "%s", c->ords[i].cid);
    pthread_mutex_unlock(&c->mu);
    for (size_t i = 0; i < n; i++)
        lookup(c, L_FINAL, cids[i], true);
    check_orders(c);
    if (p->book_stream)
        check_books(c);

    /* every call completed exactly once */
    sleep_ms(500);
    pthread_mutex_lock(&c->mu);
    for (int l = 0; l < N_LANES; l++)
        for (int i = 0; i < LANE; i++)
            if (c->recs[l][i].used && atomic_load(&c->recs[l][i].done) != 1)
                violation(c, "%s call completed %d times", xgw_op_name(c->recs[l][i].op),
                          atomic_load(&c->recs[l][i].done));
    pthread_mutex_unlock(&c->mu);
    if (atomic_load(&c->submitted) != atomic_load(&c->completed))
        violation(c, "%ld calls submitted, %ld completions", atomic_load(&c->submitted), atomic_load(&c->completed));

    char kinds[512] = "";
    for (int k = 1; k < XGW_ERR__COUNT; k++)
        if (atomic_load(&c->by_kind[k]))
            snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), " %s=%ld", xgw_err_kind_name(k),
                     atomic_load(&c->by_kind[k]));
    fprintf(stderr,
            "chaos[%s]: %ld calls, %ld ok, errors:%s; placed ok %ld, unsure %ld (resolved %ld), cancelled %ld; "
            "episodes %ld, 429 probes %ld (missed %ld), breaker probes %ld\n",
            p->exchange, atomic_load(&c->submitted), atomic_load(&c->ok_calls), kinds, c->placed_ok,
            c->placed_unsure, c->resolved, c->cancels_ok, c->episodes, c->probes_429, c->probes_429_missed,
            c->probes_brk);

    char hits[512] = "";
    for (int i = 0; i < c->n_hit_kinds; i++)
        snprintf(hits + strlen(hits), sizeof hits - strlen(hits), " %s=%ld", c->hit_kind[i], c->hit_n[i]);
    fprintf(stderr, "chaos[%s]: faults fired:%s\n", p->exchange, hits);

    /* memory */
    double frac = o->mem_max_growth > 0 ? o->mem_max_growth : 0.05;
    int64_t slack = o->mem_slack_bytes;
#ifdef TU_ASAN
    /* ASan keeps freed blocks in a quarantine (256 MiB by default) and RSS
     * climbs until it is full: the bound is meaningless here, so it is
     * widened; LeakSanitizer at exit is this build's memory check. */
    slack = 320LL << 20;
    fprintf(stderr, "chaos[%s]: ASan build: RSS bound widened to 320 MiB (quarantine); LSan checks leaks\n",
            p->exchange);
#endif
    long growth = c->rss_end - c->rss_base;
    fprintf(stderr, "chaos[%s]: rss after warm-up %ld KiB, max %ld KiB, end %ld KiB (growth %+.2f %%)\n",
            p->exchange, c->rss_base / 1024, c->rss_max / 1024, c->rss_end / 1024,
            c->rss_base > 0 ? 100.0 * (double)growth / (double)c->rss_base : 0.0);
    if (c->rss_base <= 0 || c->rss_end <= 0)
        violation(c, "could not read /proc/self/statm");
    else if ((double)growth > frac * (double)c->rss_base && growth > slack)
        violation(c, "RSS grew by %ld KiB after warm-up (bound %.0f %% or %lld KiB)", growth / 1024, frac * 100,
                  (long long)(slack / 1024));

    /* the probes must have run, or nothing was checked */
    if (o->seconds >= 20 && (c->probes_429 < 1 || c->probes_brk < 1))
        violation(c, "probes did not run (429: %ld, breaker: %ld)", c->probes_429, c->probes_brk);
    if (c->placed_ok < 1)
        violation(c, "no order was ever placed");

    long v = atomic_load(&c->violations);
    g_live = NULL;
    xgw_unsubscribe(c->sub);
    xgw_close(c->gw);
    tu_mockex_stop(&c->mx);
    tu_rm_rf(c->dir);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->bmu);
    free(c);
    assert_int_equal(v, 0);
}
