/*
 * core/stream.c — the stream manager: subscriptions, connections,
 * reconnection, heartbeats, staleness, books, private channels. See
 * stream.h and xgw/stream.h.
 *
 * Timing: one uv timer per manager ticks every TICK_MS and checks every
 * connection's deadlines (reconnect, client ping, staleness, lifetime,
 * token keepalive) and every book's snapshot retry. Connections therefore
 * own no uv handles and can be freed at once.
 */
#define _POSIX_C_SOURCE 200809L
#include "stream.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "book.h"
#include "buf.h"
#include "crypto.h"
#include "error.h"
#include "gateway.h"
#include "log.h"
#include "sink.h"
#include "ws.h"

#define TICK_MS 100
#define SUB_CHUNK 200             /* topics per subscribe message */
#define BOOK_KEEP 1000            /* levels kept per side (the REST snapshot's maximum) */
#define BOOK_DEFAULT_DEPTH 20
#define SNAPSHOT_LIMIT 1000
#define EP_FAILURES_BEFORE_NEXT 2 /* failed connects in a row before trying the next endpoint */
#define CONNECT_GUARD_MS 15000    /* lws has its own 10 s handshake timeout; this is the backstop */
#define MAX_MSG_BYTES (16u << 20)

struct mgr;
struct conn;

struct topic {
    struct xgw_sub *sub;
    struct xgw_ws_sub ws;
    struct conn *conn;
    struct topic *cnext; /* conn's list */
    bool subscribed;     /* sent on the current connection */
    /* books */
    struct xgw__book *book;
    struct req *snap;       /* snapshot request in flight */
    int64_t snap_retry_at;  /* mono ms; 0 none */
    unsigned snap_fails;
    bool had_snapshot;
    /* trades: the last numeric trade id delivered; after a make-before-break
     * switch (dedupe set) the new connection may repeat trades the old one
     * already delivered, which are skipped until an id beyond it arrives. */
    uint64_t last_trade_id;
    bool dedupe;
    int64_t last_data; /* mono ms of the last record routed here; 0 none */
    struct xgw_level *top;  /* 2 * depth scratch for events */
    /* tickers made of several exchange streams (ws_ticker_parts > 1): every
     * part points at its symbol's part 0, which holds the merged ticker */
    struct topic *lead;
    struct xgw_ticker *merged;
};

struct xgw_sub {
    struct mgr *m;
    struct xgw_exchange *ex;
    struct xgw_sub *next, *prev;
    enum xgw_channel channel;
    uint32_t depth;
    xgw_event_fn cb;
    void *user;
    struct topic *topics;
    size_t n;
    atomic_int state;
    atomic_uint_fast64_t events, messages, gaps, reconnects, resyncs, dropped;
    atomic_int_fast64_t last_event_ms;
    bool ever_live;
    /* cross-thread handshakes */
    struct xgw__task task;
    bool done;
    int rc;
    struct xgw_error err;
};

enum conn_state { C_IDLE = 0, C_TOKEN, C_CONNECTING, C_OPEN, C_BACKOFF, C_DEAD };

struct conn {
    struct mgr *m;
    struct conn *next, *prev;
    bool priv;
    char route[64];
    struct topic *topics;
    size_t n_topics;
    struct xgw__ws *ws;
    enum conn_state st;
    int ep;
    unsigned ep_failures;
    struct xgw__backoff bo;
    int64_t retry_at, connect_started, last_rx, opened, next_ping, next_keepalive; /* mono ms */
    int64_t down_since_wall; /* 0 = not down since the last live period */
    char down_reason[96];
    bool was_live;
    bool needs_flush;
    int64_t win_start;
    unsigned win_sent;
    uint64_t next_id;
    char token[128];
    struct req *token_req;
    /* make-before-break: replacement is the new connection for this one;
     * replaces is the old one a new connection is taking over from */
    struct conn *replacement, *replaces;
};

enum req_kind { R_SNAPSHOT = 1, R_TOKEN, R_KEEPALIVE };

struct req {
    struct mgr *m; /* NULL once the manager is gone */
    struct req *next, *prev;
    enum req_kind kind;
    struct topic *topic;
    struct conn *conn;
};

struct mgr {
    struct mgr *reg_next;
    struct xgw_exchange *ex;
    struct xgw_gateway *gw;
    const struct xgw_plugin *p;
    struct xgw__ws_host *wsh; /* the instance's vhost on the gateway's lws context (gw->ws) */
    struct conn *conns;
    struct xgw_sub *subs;
    struct req *reqs;
    struct xgw_sink *sink;
    struct xgw_buf msg, path;
    const char *const *pub_urls;
    size_t n_pub;
    const char *const *priv_urls;
    size_t n_priv;
    uv_timer_t tick;
    bool tick_closed;
    bool closing;
    uint64_t rng;
    int64_t stale_ms;
    int64_t life_ms; /* connection lifetime: ws_max_lifetime_ms or the plugin's, 0 none */
    int64_t ka_s;    /* token keepalive period: ws_token_keepalive_s or the plugin's, 0 none */
    int64_t stale_ch_ms[8]; /* by channel: ws_stale_s_<channel> in ms, 0 = only stale_ms */
    size_t per_msg;  /* subscriptions per subscribe message: the plugin's limit, at most SUB_CHUNK */
    int64_t ping_ms; /* client heartbeat period: ws_ping_interval_ms or the plugin's, 0 none */
    struct xgw__stream_metrics metrics;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mgr *registry;

static int64_t mono_ms(void) { return xgw__mono_us() / 1000; }

const char *xgw_sub_state_name(enum xgw_sub_state s)
{
    switch (s) {
    case XGW_SUB_CONNECTING: return "connecting";
    case XGW_SUB_LIVE: return "live";
    case XGW_SUB_RESYNCING: return "resyncing";
    case XGW_SUB_RECONNECTING: return "reconnecting";
    case XGW_SUB_CLOSED: return "closed";
    }
    return "unknown";
}

const struct xgw__stream_metrics *xgw__stream_metrics(const struct xgw_exchange *ex)
{
    const struct xgw__stream_metrics *r = NULL;
    pthread_mutex_lock(&reg_mu);
    for (struct mgr *m = registry; m && !r; m = m->reg_next)
        if (m->ex == ex)
            r = &m->metrics;
    pthread_mutex_unlock(&reg_mu);
    return r;
}

static const char *inst(const struct mgr *m) { return m->ex->cfg->name; }

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

static void ev_init(struct mgr *m, struct xgw_sub *s, struct xgw_event *ev, enum xgw_event_type type,
                    const char *symbol, int64_t recv_wall)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->exchange = inst(m);
    ev->channel = s->channel;
    ev->symbol = symbol ? symbol : "";
    ev->recv_ts_ms = recv_wall;
    ev->state = (enum xgw_sub_state)atomic_load(&s->state);
}

static void deliver(struct xgw_sub *s, const struct xgw_event *ev)
{
    atomic_fetch_add_explicit(&s->events, 1, memory_order_relaxed);
    atomic_store_explicit(&s->last_event_ms, ev->recv_ts_ms, memory_order_relaxed);
    s->cb(s->user, ev);
}

static enum xgw_sub_state topic_state(const struct topic *t)
{
    const struct conn *c = t->conn;
    if (!c || c->st != C_OPEN)
        return t->sub->ever_live ? XGW_SUB_RECONNECTING : XGW_SUB_CONNECTING;
    if (t->book && xgw__book_state(t->book) != XGW__BOOK_LIVE)
        return t->had_snapshot ? XGW_SUB_RESYNCING : XGW_SUB_CONNECTING;
    return XGW_SUB_LIVE;
}

/* Recompute a subscription's state (the worst of its topics) and tell the
 * callback when it changed. */
static void sub_refresh(struct xgw_sub *s, const char *reason)
{
    enum xgw_sub_state st = XGW_SUB_LIVE;
    static const int rank[] = {[XGW_SUB_CONNECTING] = 3, [XGW_SUB_LIVE] = 0, [XGW_SUB_RESYNCING] = 1,
                               [XGW_SUB_RECONNECTING] = 2, [XGW_SUB_CLOSED] = 4};
    for (size_t i = 0; i < s->n; i++) {
        enum xgw_sub_state ts = topic_state(&s->topics[i]);
        if (rank[ts] > rank[st])
            st = ts;
    }
    if ((int)st == atomic_load(&s->state))
        return;
    atomic_store(&s->state, (int)st);
    if (st == XGW_SUB_LIVE)
        s->ever_live = true;
    struct xgw_event ev;
    ev_init(s->m, s, &ev, XGW_EV_STATE, "", xgw__wall_ms());
    ev.reason = reason ? reason : "";
    deliver(s, &ev);
}

static void conn_refresh_subs(struct conn *c, const char *reason)
{
    for (struct topic *t = c->topics; t; t = t->cnext)
        sub_refresh(t->sub, reason);
}

static void record_latency(struct xgw__stream_ch_metrics *cm, int64_t ts_ms, int64_t recv_wall)
{
    if (ts_ms <= 0)
        return;
    int64_t us = (recv_wall - ts_ms) * 1000;
    if (us < 0)
        us = 0; /* clocks differ: never negative */
    size_t b = 0;
    while (b < XGW__LAT_BUCKETS - 1 && us > xgw__lat_bounds_us[b])
        b++;
    xgw__metric_add(&cm->lat_bucket[b], 1);
    xgw__metric_add(&cm->lat_sum_us, (uint64_t)us);
    xgw__metric_add(&cm->lat_count, 1);
    uint64_t cur = atomic_load_explicit(&cm->lat_max_us, memory_order_relaxed);
    while ((uint64_t)us > cur &&
           !atomic_compare_exchange_weak_explicit(&cm->lat_max_us, &cur, (uint64_t)us, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

/* ------------------------------------------------------------------------ */
/* Internal requests (snapshots, tokens)                                     */
/* ------------------------------------------------------------------------ */

static void req_unlink(struct req *r)
{
    if (!r->m)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else if (r->m->reqs == r)
        r->m->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

static void on_req_done(struct xgw__call *call, const struct xgw_result *res, const struct xgw_error *err);

/* Starts an internal request owned by t or c, whose in-flight slot is
 * *slot. The pipeline may complete the call before xgw__call_internal
 * returns (a rate-limit, ban or breaker refusal decided on the loop thread),
 * and on_req_done then frees the request: so owner and slot are set before
 * the call, the completion clears the slot, and the caller must not keep
 * anything from here but the return value. false: not queued (slot NULL). */
static bool req_start(struct mgr *m, enum req_kind kind, enum xgw_op op, const struct xgw_call *args,
                      struct topic *t, struct conn *c, struct req **slot)
{
    struct req *r = calloc(1, sizeof *r);
    if (!r)
        return false;
    r->m = m;
    r->kind = kind;
    r->topic = t;
    r->conn = c;
    r->next = m->reqs;
    if (m->reqs)
        m->reqs->prev = r;
    m->reqs = r;
    *slot = r;
    if (xgw__call_internal(m->ex, op, args, on_req_done, r) != XGW_OK) {
        req_unlink(r);
        *slot = NULL;
        free(r);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                   */
/* ------------------------------------------------------------------------ */

/* Client -> server messages respect the exchange's per-connection rate
 * (Binance drops a connection above 10/s and may ban the IP). */
static bool rate_ok(struct conn *c, int64_t now)
{
    uint32_t lim = c->m->p->ws.max_msgs_per_sec;
    if (!lim)
        return true;
    if (now - c->win_start >= 1000) {
        c->win_start = now;
        c->win_sent = 0;
    }
    if (c->win_sent >= lim)
        return false;
    return true;
}

static int conn_send(struct conn *c, const char *data, size_t len)
{
    c->win_sent++;
    return c->ws ? xgw__ws_send(c->ws, data, len) : XGW_ERR_NETWORK;
}

static bool same_key(const struct topic *a, const struct topic *b)
{
    return a->ws.channel == b->ws.channel && a->ws.part == b->ws.part && !strcmp(a->ws.symbol, b->ws.symbol);
}

/* Another topic on c already carries t's exchange-side stream. */
static bool key_subscribed(const struct conn *c, const struct topic *t)
{
    for (const struct topic *o = c->topics; o; o = o->cnext)
        if (o != t && o->subscribed && same_key(o, t))
            return true;
    return false;
}

/* Send subscribe messages for every topic of c not yet subscribed, in
 * chunks, as far as the rate allows; the tick continues later. */
static void conn_flush(struct conn *c)
{
    struct mgr *m = c->m;
    c->needs_flush = false;
    if (c->st != C_OPEN || !c->ws)
        return;
    int64_t now = mono_ms();
    struct xgw_ws_sub subs[SUB_CHUNK];
    struct topic *chunk[SUB_CHUNK];
    for (;;) {
        size_t n = 0;
        for (struct topic *t = c->topics; t && n < m->per_msg; t = t->cnext) {
            if (t->subscribed)
                continue;
            if (key_subscribed(c, t)) {
                t->subscribed = true;
                continue;
            }
            bool dup = false;
            for (size_t i = 0; i < n && !dup; i++)
                dup = same_key(chunk[i], t);
            if (!dup) {
                chunk[n] = t;
                subs[n++] = t->ws;
            }
        }
        if (n == 0)
            return;
        if (!rate_ok(c, now)) {
            c->needs_flush = true;
            return;
        }
        struct xgw_error err = {0};
        xgw__buf_reset(&m->msg);
        int rc = m->p->ws_sub_msg(m->ex->self, true, subs, n, ++c->next_id, &m->msg, &err);
        if (rc != XGW_OK) {
            xgw__log(inst(m), XGW_LOG_ERROR, "ws_subscribe", "the subscribe message could not be built: %s",
                     err.message);
            /* a topic the plugin refuses stays unsubscribed: never retried blindly */
            for (size_t i = 0; i < n; i++)
                chunk[i]->subscribed = true;
            continue;
        }
        if (m->msg.len > 0 && conn_send(c, m->msg.data, m->msg.len) != XGW_OK)
            return; /* the connection is going away; on_closed resubscribes */
        for (size_t i = 0; i < n; i++)
            chunk[i]->subscribed = true;
        /* same-key topics sharing the stream */
        for (struct topic *t = c->topics; t; t = t->cnext)
            if (!t->subscribed && key_subscribed(c, t))
                t->subscribed = true;
    }
}

static void conn_unsubscribe_topic(struct conn *c, struct topic *t)
{
    struct mgr *m = c->m;
    if (c->st != C_OPEN || !c->ws || !t->subscribed)
        return;
    for (struct topic *o = c->topics; o; o = o->cnext)
        if (o != t && same_key(o, t))
            return; /* still needed by another subscription */
    struct xgw_error err = {0};
    xgw__buf_reset(&m->msg);
    /* Unsubscribes are not rate-paced: they are rare and skipping one only
     * costs bandwidth (frames for it are ignored). */
    if (m->p->ws_sub_msg(m->ex->self, false, &t->ws, 1, ++c->next_id, &m->msg, &err) == XGW_OK && m->msg.len)
        conn_send(c, m->msg.data, m->msg.len);
}

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

static void conn_start(struct conn *c);
static void conn_schedule(struct conn *c, bool failed_connect);
static void repl_subscribe(struct conn *n);
static void conn_hand_over(struct conn *old, struct conn *n);

static void conn_unlink(struct conn *c)
{
    struct mgr *m = c->m;
    if (c->prev)
        c->prev->next = c->next;
    else if (m->conns == c)
        m->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

static void conn_forget_token(struct conn *c)
{
    if (c->token[0]) {
        xgw__secret_unregister(c->token);
        xgw__secure_zero(c->token, sizeof c->token);
    }
}

static void conn_free(struct conn *c)
{
    if (c->token_req)
        c->token_req->conn = NULL;
    if (c->replacement)
        c->replacement->replaces = NULL;
    if (c->replaces)
        c->replaces->replacement = NULL;
    conn_forget_token(c);
    conn_unlink(c);
    free(c);
}

/* Retire a connection that has no topics (or was replaced): close it; it is
 * freed when lws reports the close, or now when it has no socket. */
static void conn_retire(struct conn *c)
{
    c->st = C_DEAD;
    if (c->ws)
        xgw__ws_close(c->ws);
    else
        conn_free(c);
}

static struct conn *conn_new(struct mgr *m, bool priv, const char *route)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->m = m;
    c->priv = priv;
    snprintf(c->route, sizeof c->route, "%s", route);
    xgw__backoff_init(&c->bo, m->ex->cfg->ws_reconnect_initial_ms, m->ex->cfg->ws_reconnect_max_ms, NULL, NULL,
                      xgw__splitmix64(&m->rng));
    c->next = m->conns;
    if (m->conns)
        m->conns->prev = c;
    m->conns = c;
    return c;
}

static void ticker_clear(struct xgw_ticker *t);

/* Every merged ticker with a part on c starts over: its fields from c are
 * no longer current, and other parts' frames must not be delivered with
 * them (dispatch waits for bid and ask again). */
static void merged_clear(struct conn *c)
{
    for (struct topic *t = c->topics; t; t = t->cnext)
        if (t->lead->merged)
            ticker_clear(t->lead->merged);
}

static void gap_events(struct conn *c, int64_t now_wall)
{
    /* Cleared when c went down too; again here for a hand-over, where
     * frames may have been missed without a close. */
    merged_clear(c);
    /* one GAP per subscription per reconnect, however many of its topics
     * lived on the connection */
    for (struct topic *t = c->topics; t; t = t->cnext) {
        bool first = true;
        for (struct topic *o = c->topics; o != t; o = o->cnext)
            if (o->sub == t->sub)
                first = false;
        if (!first)
            continue;
        struct xgw_sub *s = t->sub;
        atomic_fetch_add_explicit(&s->gaps, 1, memory_order_relaxed);
        xgw__metric_add(&c->m->metrics.ch[s->channel].gaps, 1);
        struct xgw_event ev;
        ev_init(c->m, s, &ev, XGW_EV_GAP, "", now_wall);
        ev.gap_from_ms = c->down_since_wall;
        ev.gap_to_ms = now_wall;
        ev.reason = c->down_reason[0] ? c->down_reason : "reconnected";
        deliver(s, &ev);
    }
}

static void ws_on_open(void *user, struct xgw__ws *ws)
{
    struct conn *c = user;
    struct mgr *m = c->m;
    (void)ws;
    if (m->closing || c->st == C_DEAD)
        return;
    int64_t now = mono_ms();
    c->st = C_OPEN;
    c->opened = now;
    c->last_rx = now;
    c->ep_failures = 0;
    c->win_start = now;
    c->win_sent = 0;
    c->next_ping = m->ping_ms ? now + m->ping_ms : 0;
    xgw__metric_add(&m->metrics.connects, 1);
    atomic_fetch_add_explicit(&m->metrics.connections, 1, memory_order_relaxed);
    if (c->priv && m->p->ws.private_needs_login && m->p->ws_login_msg) {
        struct xgw_error err = {0};
        xgw__buf_reset(&m->msg);
        if (m->p->ws_login_msg(m->ex->self, ++c->next_id, &m->msg, &err) != XGW_OK) {
            xgw__log(inst(m), XGW_LOG_ERROR, "ws_login", "the login message could not be built: %s", err.message);
        } else if (m->msg.len) {
            conn_send(c, m->msg.data, m->msg.len);
            xgw__buf_wipe(&m->msg); /* it carried a signature */
        }
    }
    for (struct topic *t = c->topics; t; t = t->cnext)
        t->subscribed = false;
    conn_flush(c);
    if (c->replaces)
        repl_subscribe(c);
    if (c->was_live && c->down_since_wall) {
        int64_t now_wall = xgw__wall_ms();
        gap_events(c, now_wall);
        c->down_since_wall = 0;
        c->down_reason[0] = '\0';
    }
    conn_refresh_subs(c, "connected");
}

static void deliver_book(struct mgr *m, struct topic *t, int64_t recv_wall)
{
    struct xgw_sub *s = t->sub;
    size_t nb = 0, na = 0;
    uint32_t d = s->depth;
    if (!xgw__book_top(t->book, d, t->top, &nb, t->top + d, &na))
        return;
    struct xgw_event ev;
    ev_init(m, s, &ev, XGW_EV_BOOK, t->ws.symbol, recv_wall);
    ev.ts_ms = xgw__book_ts(t->book);
    ev.seq = xgw__book_seq(t->book);
    ev.bids = t->top;
    ev.n_bids = nb;
    ev.asks = t->top + d;
    ev.n_asks = na;
    deliver(s, &ev);
}

static void topic_request_snapshot(struct topic *t)
{
    struct mgr *m = t->sub->m;
    if (t->snap || m->closing)
        return;
    struct xgw_call args = {0};
    snprintf(args.symbol, sizeof args.symbol, "%s", t->ws.symbol);
    args.limit = SNAPSHOT_LIMIT;
    t->snap_retry_at = 0;
    if (!req_start(m, R_SNAPSHOT, XGW_OP_DEPTH, &args, t, NULL, &t->snap)) {
        t->snap_retry_at = mono_ms() + 1000;
        return;
    }
    if (t->had_snapshot) {
        atomic_fetch_add_explicit(&t->sub->resyncs, 1, memory_order_relaxed);
        xgw__metric_add(&m->metrics.ch[XGW_CH_BOOK].resyncs, 1);
    }
}

/* After every apply (book.h's caller rule). */
static void topic_book_after(struct mgr *m, struct topic *t, enum xgw__book_result r, int64_t recv_wall)
{
    if (r == XGW__BOOK_GAP_NEEDS_SNAPSHOT) {
        xgw__metric_add(&m->metrics.ch[XGW_CH_BOOK].gaps, 1);
        xgw__log(inst(m), XGW_LOG_INFO, "book_gap", "%s: %s, resyncing from a new snapshot", t->ws.symbol,
                 xgw__book_reason_name(xgw__book_reason(t->book)));
    }
    if (xgw__book_needs_snapshot(t->book) && !t->snap && !t->snap_retry_at && r != XGW__BOOK_ERROR)
        topic_request_snapshot(t);
    if (r == XGW__BOOK_APPLIED && xgw__book_state(t->book) == XGW__BOOK_LIVE)
        deliver_book(m, t, recv_wall);
    sub_refresh(t->sub, r == XGW__BOOK_GAP_NEEDS_SNAPSHOT ? "book gap" : "book");
}

static struct topic *find_topic(struct conn *c, enum xgw_channel ch, const char *symbol, struct topic *after)
{
    for (struct topic *t = after ? after->cnext : c->topics; t; t = t->cnext)
        if (t->ws.channel == ch && (ch == XGW_CH_ORDERS || !strcmp(t->ws.symbol, symbol)))
            return t;
    return NULL;
}

static void count_msg(struct mgr *m, struct topic *t)
{
    atomic_fetch_add_explicit(&t->sub->messages, 1, memory_order_relaxed);
    xgw__metric_add(&m->metrics.ch[t->ws.channel].messages, 1);
    if (t->conn)
        t->last_data = t->conn->last_rx; /* this frame's arrival */
}

/* Trade ids are numeric on Binance (aggTrade "a", increasing per symbol);
 * they serve to drop the repeats of a make-before-break overlap. Ids that
 * are not numbers end the dedupe window (nothing to compare by). */
static bool trade_is_new(struct topic *t, const char *id)
{
    char *end = NULL;
    unsigned long long v = id && *id >= '0' && *id <= '9' ? strtoull(id, &end, 10) : 0;
    bool numeric = end && !*end;
    if (t->dedupe && numeric && t->last_trade_id && v <= t->last_trade_id)
        return false;
    t->dedupe = false;
    if (numeric)
        t->last_trade_id = v;
    return true;
}

static void ticker_clear(struct xgw_ticker *t)
{
    t->bid = t->bid_qty = t->ask = t->ask_qty = t->last = xgw_dec_none();
    t->ts_ms = 0;
}

/* A partial ticker (one of several exchange streams) folded into the last
 * known one: fields it leaves NONE keep their value. */
static const struct xgw_ticker *ticker_merge(struct xgw_ticker *into, const struct xgw_ticker *x)
{
    xgw_dec *dst[] = {&into->bid, &into->bid_qty, &into->ask, &into->ask_qty, &into->last};
    const xgw_dec src[] = {x->bid, x->bid_qty, x->ask, x->ask_qty, x->last};
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
        if (!xgw_dec_is_none(src[i]))
            *dst[i] = src[i];
    memcpy(into->symbol, x->symbol, sizeof into->symbol);
    if (x->ts_ms)
        into->ts_ms = x->ts_ms;
    return into;
}

static void dispatch(struct conn *c, struct xgw_sink *s, int64_t recv_wall)
{
    struct mgr *m = c->m;
    bool data = false;
    for (size_t i = 0; i < s->n_acks; i++)
        if (!s->acks[i].ok)
            xgw__log(inst(m), XGW_LOG_WARN, "ws_refused", "the exchange refused request %llu: %s",
                     (unsigned long long)s->acks[i].id, s->acks[i].message);
    for (size_t i = 0; i < s->n_tickers && !m->closing; i++) {
        const struct xgw_ticker *x = &s->tickers[i];
        record_latency(&m->metrics.ch[XGW_CH_TICKER], x->ts_ms, recv_wall);
        data = true;
        for (struct topic *t = find_topic(c, XGW_CH_TICKER, x->symbol, NULL); t;
             t = find_topic(c, XGW_CH_TICKER, x->symbol, t)) {
            /* The parts of one subscription share a connection when the
             * exchange has no routes: its part 0 delivers the frame once. */
            if (t->lead != t && t->lead->conn == c)
                continue;
            count_msg(m, t);
            const struct xgw_ticker *tk = x;
            if (t->lead->merged) {
                /* A ticker is first of all the best bid and ask: until its
                 * part has sent them, other parts' fields wait. */
                tk = ticker_merge(t->lead->merged, x);
                if (xgw_dec_is_none(tk->bid) || xgw_dec_is_none(tk->ask))
                    continue;
            }
            struct xgw_event ev;
            ev_init(m, t->sub, &ev, XGW_EV_TICKER, x->symbol, recv_wall);
            ev.ts_ms = x->ts_ms;
            ev.ticker = tk;
            deliver(t->sub, &ev);
        }
    }
    for (size_t i = 0; i < s->n_trades && !m->closing; i++) {
        const struct xgw_trade *x = &s->trades[i];
        record_latency(&m->metrics.ch[XGW_CH_TRADES], x->ts_ms, recv_wall);
        data = true;
        for (struct topic *t = find_topic(c, XGW_CH_TRADES, x->symbol, NULL); t;
             t = find_topic(c, XGW_CH_TRADES, x->symbol, t)) {
            count_msg(m, t);
            if (!trade_is_new(t, x->trade_id))
                continue;
            struct xgw_event ev;
            ev_init(m, t->sub, &ev, XGW_EV_TRADE, x->symbol, recv_wall);
            ev.ts_ms = x->ts_ms;
            ev.trade = x;
            deliver(t->sub, &ev);
        }
    }
    for (size_t i = 0; i < s->n_books && !m->closing; i++) {
        const struct xgw__sink_book *b = &s->books[i];
        record_latency(&m->metrics.ch[XGW_CH_BOOK], b->info.ts_ms, recv_wall);
        data = true;
        for (struct topic *t = find_topic(c, XGW_CH_BOOK, b->info.symbol, NULL); t;
             t = find_topic(c, XGW_CH_BOOK, b->info.symbol, t)) {
            count_msg(m, t);
            if (!t->book)
                continue;
            enum xgw__book_result r = xgw__book_apply(t->book, &b->info, s->bids + b->bid0, b->n_bids,
                                                      s->asks + b->ask0, b->n_asks);
            topic_book_after(m, t, r, recv_wall);
        }
    }
    if (c->priv) {
        struct topic *t0 = find_topic(c, XGW_CH_ORDERS, "", NULL);
        for (size_t i = 0; i < s->n_orders && !m->closing; i++) {
            record_latency(&m->metrics.ch[XGW_CH_ORDERS], s->orders[i].ts_ms, recv_wall);
            data = true;
            for (struct topic *t = t0; t; t = find_topic(c, XGW_CH_ORDERS, "", t)) {
                count_msg(m, t);
                struct xgw_event ev;
                ev_init(m, t->sub, &ev, XGW_EV_ORDER, s->orders[i].symbol, recv_wall);
                ev.ts_ms = s->orders[i].ts_ms;
                ev.order = &s->orders[i];
                deliver(t->sub, &ev);
            }
        }
        for (size_t i = 0; i < s->n_balances && !m->closing; i++)
            for (struct topic *t = t0; t; t = find_topic(c, XGW_CH_ORDERS, "", t)) {
                count_msg(m, t);
                struct xgw_event ev;
                ev_init(m, t->sub, &ev, XGW_EV_BALANCE, "", recv_wall);
                ev.balance = &s->balances[i];
                deliver(t->sub, &ev);
            }
        for (size_t i = 0; i < s->n_positions && !m->closing; i++)
            for (struct topic *t = t0; t; t = find_topic(c, XGW_CH_ORDERS, "", t)) {
                count_msg(m, t);
                struct xgw_event ev;
                ev_init(m, t->sub, &ev, XGW_EV_POSITION, s->positions[i].symbol, recv_wall);
                ev.position = &s->positions[i];
                deliver(t->sub, &ev);
            }
    }
    /* The connection proved itself: the next failure starts the backoff
     * from the beginning again. */
    if (data)
        xgw__backoff_reset(&c->bo);
    if (s->reauth && c->priv && !m->closing && c->st == C_OPEN) {
        xgw__metric_add(&m->metrics.reauths, 1);
        xgw__log(inst(m), XGW_LOG_INFO, "ws_reauth", "private stream token expired; renewing");
        conn_forget_token(c);
        snprintf(c->down_reason, sizeof c->down_reason, "token expired");
        if (c->ws)
            xgw__ws_close(c->ws); /* on_closed reconnects with a new token */
    }
}

static void ws_on_text(void *user, struct xgw__ws *ws, const char *data, size_t len)
{
    struct conn *c = user;
    struct mgr *m = c->m;
    (void)ws;
    if (m->closing || c->st == C_DEAD)
        return;
    int64_t recv_wall = xgw__wall_ms();
    c->last_rx = mono_ms();
    xgw__metric_add(&m->metrics.frames, 1);
    xgw__metric_add(&m->metrics.bytes, len);
    xgw__sink_reset(m->sink);
    struct xgw_error err = {0};
    int rc = m->p->ws_parse(m->ex->self, data, len, m->sink, &err);
    if (rc != XGW_OK || m->sink->level_without_book) {
        xgw__metric_add(&m->metrics.parse_errors, 1);
        xgw__log(inst(m), XGW_LOG_DEBUG, "ws_parse_error", "%s", err.message[0] ? err.message : "bad frame");
        return;
    }
    struct xgw_sink *sk = m->sink;
    if (c->replaces && (sk->n_tickers || sk->n_trades || sk->n_books || sk->n_orders || sk->n_balances ||
                        sk->n_positions)) {
        /* make-before-break: the old connection delivered everything up to
         * now; from this first data frame on the new one does (books skip
         * what they already applied by sequence number). */
        struct conn *old = c->replaces;
        conn_hand_over(old, c);
        for (struct topic *t = c->topics; t; t = t->cnext)
            t->subscribed = true;
        old->replacement = NULL;
        c->replaces = NULL;
        conn_retire(old);
    }
    dispatch(c, sk, recv_wall);
}

/* Move c's topics to its replacement n (make-before-break): n is already
 * subscribed to the same keys. */
static void conn_hand_over(struct conn *old, struct conn *n)
{
    struct topic *t = old->topics;
    old->topics = NULL;
    old->n_topics = 0;
    while (t) {
        struct topic *next = t->cnext;
        t->conn = n;
        t->dedupe = true;
        t->cnext = n->topics;
        n->topics = t;
        n->n_topics++;
        t = next;
    }
}

static void ws_on_closed(void *user, struct xgw__ws *ws, bool was_open, const char *reason)
{
    struct conn *c = user;
    struct mgr *m = c->m;
    (void)ws;
    c->ws = NULL;
    if (was_open)
        atomic_fetch_sub_explicit(&m->metrics.connections, 1, memory_order_relaxed);
    if (m->closing)
        return; /* the manager frees every connection itself */
    if (c->st == C_DEAD) {
        conn_free(c);
        return;
    }
    /* Not at the reconnection's gap only: if every reconnection fails before
     * it opens there is no gap, and another part's frames (Binance @ticker on
     * /market) would go on carrying this connection's last bid/ask. */
    if (was_open)
        merged_clear(c);
    xgw__log(inst(m), was_open ? XGW_LOG_INFO : XGW_LOG_WARN, was_open ? "ws_closed" : "ws_connect_failed",
             "%s%s: %s", c->priv ? "private" : "public", c->route, reason);
    if (c->replacement) {
        /* The old connection died while its replacement was coming up: the
         * replacement takes the topics now. */
        struct conn *n = c->replacement;
        conn_hand_over(c, n);
        n->replaces = NULL;
        c->replacement = NULL;
        conn_free(c);
        if (n->st == C_OPEN)
            conn_flush(n);
        return;
    }
    if (c->replaces) {
        /* a replacement that failed: the old connection carries on; try
         * again at the next tick */
        c->replaces->replacement = NULL;
        c->replaces = NULL;
        conn_free(c);
        return;
    }
    if (was_open) {
        xgw__metric_add(&m->metrics.reconnects, 1);
        if (!c->down_since_wall) {
            c->down_since_wall = xgw__wall_ms();
            if (!c->down_reason[0])
                snprintf(c->down_reason, sizeof c->down_reason, "%s", reason);
        }
        c->was_live = true;
        for (struct topic *t = c->topics; t; t = t->cnext) {
            bool first = true;
            for (struct topic *o = c->topics; o != t; o = o->cnext)
                first = first && o->sub != t->sub;
            if (first)
                atomic_fetch_add_explicit(&t->sub->reconnects, 1, memory_order_relaxed);
            /* diffs missed while down: the book must come from a new snapshot */
            if (t->book)
                xgw__book_invalidate(t->book);
        }
    } else {
        xgw__metric_add(&m->metrics.connect_failures, 1);
        if (c->was_live && !c->down_since_wall)
            c->down_since_wall = xgw__wall_ms();
    }
    conn_schedule(c, !was_open);
    conn_refresh_subs(c, reason);
}

static const struct xgw__ws_cbs ws_cbs = {ws_on_open, ws_on_text, ws_on_closed};

static void conn_schedule(struct conn *c, bool failed_connect)
{
    struct mgr *m = c->m;
    size_t n_urls = c->priv ? m->n_priv : m->n_pub;
    if (failed_connect && ++c->ep_failures >= EP_FAILURES_BEFORE_NEXT && n_urls > 1) {
        c->ep = (int)(((size_t)c->ep + 1) % n_urls);
        c->ep_failures = 0;
    }
    c->st = C_BACKOFF;
    c->retry_at = mono_ms() + xgw__backoff_next(&c->bo, 0);
}

static void conn_connect(struct conn *c)
{
    struct mgr *m = c->m;
    struct xgw_error err = {0};
    const char *const *urls = c->priv ? m->priv_urls : m->pub_urls;
    size_t n_urls = c->priv ? m->n_priv : m->n_pub;
    if (!n_urls) {
        xgw__log(inst(m), XGW_LOG_ERROR, "ws_no_endpoint", "no WebSocket endpoint configured");
        conn_schedule(c, true);
        return;
    }
    xgw__buf_reset(&m->path);
    xgw__buf_append_str(&m->path, c->route);
    int rc = m->p->ws_path(m->ex->self, c->priv, c->token[0] ? c->token : NULL, &m->path, &err);
    if (rc != XGW_OK) {
        xgw__log(inst(m), XGW_LOG_ERROR, "ws_path", "%s", err.message);
        conn_forget_token(c);
        conn_schedule(c, true);
        return;
    }
    c->st = C_CONNECTING;
    c->connect_started = mono_ms();
    rc = xgw__ws_connect(m->wsh, urls[(size_t)c->ep % n_urls], m->path.data ? m->path.data : "", MAX_MSG_BYTES,
                         &ws_cbs, c, &c->ws, &err);
    xgw__buf_wipe(&m->path); /* may carry the token */
    if (rc != XGW_OK) {
        c->ws = NULL;
        xgw__log(inst(m), XGW_LOG_WARN, "ws_connect_failed", "%s", err.message);
        xgw__metric_add(&m->metrics.connect_failures, 1);
        conn_schedule(c, true);
    }
}

static void conn_start(struct conn *c)
{
    struct mgr *m = c->m;
    if (c->priv && m->p->ws.private_needs_token && !c->token[0]) {
        if (c->token_req)
            return;
        struct xgw_call args = {0};
        c->st = C_TOKEN;
        if (!req_start(m, R_TOKEN, XGW_OP_WS_TOKEN, &args, NULL, c, &c->token_req)) {
            conn_schedule(c, false);
            return;
        }
        xgw__metric_add(&m->metrics.token_fetches, 1);
        return;
    }
    conn_connect(c);
}

static void on_token(struct conn *c, const struct xgw_result *res, const struct xgw_error *err)
{
    struct mgr *m = c->m;
    c->token_req = NULL;
    if (err || !res->token || !res->token[0] || strlen(res->token) >= sizeof c->token) {
        xgw__log(inst(m), XGW_LOG_WARN, "ws_token_failed", "the private stream token could not be obtained: %s",
                 err ? err->message : "empty token");
        if (c->st == C_TOKEN)
            conn_schedule(c, false);
        return;
    }
    conn_forget_token(c);
    snprintf(c->token, sizeof c->token, "%s", res->token);
    /* a listenKey is a bearer credential for the account's events */
    xgw__secret_register(c->token);
    int64_t ka = m->ka_s;
    c->next_keepalive = ka ? mono_ms() + (int64_t)ka * 1000 : 0;
    if (c->st == C_TOKEN)
        conn_connect(c);
}

static void on_keepalive(struct conn *c, const struct xgw_error *err)
{
    struct mgr *m = c->m;
    c->token_req = NULL;
    xgw__metric_add(&m->metrics.token_keepalives, 1);
    if (!err)
        return;
    xgw__log(inst(m), XGW_LOG_WARN, "ws_token_keepalive_failed", "%s: %s", xgw_err_kind_name(err->kind),
             err->message);
    if (err->kind == XGW_ERR_NETWORK || err->kind == XGW_ERR_TIMEOUT || err->kind == XGW_ERR_SERVER ||
        err->kind == XGW_ERR_RATE_LIMITED) {
        c->next_keepalive = mono_ms() + 60000; /* the key lives on: try again soon */
        return;
    }
    /* the key is gone (Binance -1125): a new one, on a new connection */
    conn_forget_token(c);
    snprintf(c->down_reason, sizeof c->down_reason, "token keepalive refused");
    if (c->ws)
        xgw__ws_close(c->ws);
}

static void on_snapshot(struct topic *t, const struct xgw_result *res, const struct xgw_error *err)
{
    struct mgr *m = t->sub->m;
    t->snap = NULL;
    if (err) {
        t->snap_fails++;
        int64_t delay = xgw__backoff_delay(500, 10000, t->snap_fails, xgw__splitmix64(&m->rng), err->retry_after_ms);
        t->snap_retry_at = mono_ms() + (delay < 100 ? 100 : delay);
        xgw__log(inst(m), XGW_LOG_WARN, "book_snapshot_failed", "%s: %s", t->ws.symbol, err->message);
        return;
    }
    t->snap_fails = 0;
    if (!t->book)
        return;
    struct xgw_book_info info = res->book;
    info.snapshot = true;
    snprintf(info.symbol, sizeof info.symbol, "%s", t->ws.symbol);
    enum xgw__book_result r = xgw__book_apply(t->book, &info, res->bids, res->n_bids, res->asks, res->n_asks);
    if (r == XGW__BOOK_APPLIED)
        t->had_snapshot = true;
    if (xgw__book_needs_snapshot(t->book) && r != XGW__BOOK_GAP_NEEDS_SNAPSHOT && r != XGW__BOOK_ERROR) {
        /* no diff bridges the snapshot yet: wait for the stream to catch
         * up before asking again */
        t->snap_retry_at = mono_ms() + 250;
    }
    if (r == XGW__BOOK_ERROR)
        t->snap_retry_at = mono_ms() + 1000;
    topic_book_after(m, t, r, xgw__wall_ms());
}

static void on_req_done(struct xgw__call *call, const struct xgw_result *res, const struct xgw_error *err)
{
    struct req *r = call->user;
    struct mgr *m = r->m;
    if (!m || m->closing) {
        free(r); /* the manager (or its subject) is gone */
        return;
    }
    req_unlink(r);
    switch (r->kind) {
    case R_SNAPSHOT:
        if (r->topic)
            on_snapshot(r->topic, res, err);
        break;
    case R_TOKEN:
        if (r->conn)
            on_token(r->conn, res, err);
        break;
    case R_KEEPALIVE:
        if (r->conn)
            on_keepalive(r->conn, err);
        break;
    }
    free(r);
}

/* Make-before-break: a new connection with the same topics; the old one
 * is closed once the new one carries data. */
static void conn_replace(struct conn *c)
{
    struct mgr *m = c->m;
    struct conn *n = conn_new(m, c->priv, c->route);
    if (!n)
        return;
    n->ep = c->ep;
    n->replaces = c;
    c->replacement = n;
    xgw__metric_add(&m->metrics.replacements, 1);
    xgw__log(inst(m), XGW_LOG_INFO, "ws_replace", "%s%s: replacing a connection near its lifetime limit",
             c->priv ? "private" : "public", c->route);
    conn_start(n);
}

/* The replacement is open: subscribe it to the old connection's keys. */
static void repl_subscribe(struct conn *n)
{
    struct conn *old = n->replaces;
    struct mgr *m = n->m;
    if (!old || n->st != C_OPEN || n->n_topics)
        return;
    /* temporarily subscribe with the old topics' descriptions */
    struct xgw_ws_sub subs[SUB_CHUNK];
    size_t k = 0;
    for (struct topic *t = old->topics; t; t = t->cnext) {
        /* against every earlier topic, not only this chunk: with one
         * subscription per message (Hyperliquid) a chunk holds just one */
        bool dup = false;
        for (struct topic *e = old->topics; e != t && !dup; e = e->cnext)
            dup = e->ws.channel == t->ws.channel && !strcmp(e->ws.symbol, t->ws.symbol);
        if (dup)
            continue;
        subs[k++] = t->ws;
        if (k == m->per_msg || !t->cnext) {
            struct xgw_error err = {0};
            xgw__buf_reset(&m->msg);
            if (m->p->ws_sub_msg(m->ex->self, true, subs, k, ++n->next_id, &m->msg, &err) == XGW_OK && m->msg.len)
                conn_send(n, m->msg.data, m->msg.len);
            k = 0;
        }
    }
    if (k) {
        struct xgw_error err = {0};
        xgw__buf_reset(&m->msg);
        if (m->p->ws_sub_msg(m->ex->self, true, subs, k, ++n->next_id, &m->msg, &err) == XGW_OK && m->msg.len)
            conn_send(n, m->msg.data, m->msg.len);
    }
}

static void tick_conn(struct conn *c, int64_t now)
{
    struct mgr *m = c->m;
    switch (c->st) {
    case C_BACKOFF:
        if (now >= c->retry_at)
            conn_start(c);
        break;
    case C_CONNECTING:
        if (now - c->connect_started > CONNECT_GUARD_MS && c->ws)
            xgw__ws_close(c->ws);
        break;
    case C_OPEN:
        if (c->needs_flush)
            conn_flush(c);
        if (c->next_ping && now >= c->next_ping) {
            c->next_ping = now + m->ping_ms;
            xgw__buf_reset(&m->msg);
            if (m->p->ws_ping_msg && m->p->ws_ping_msg(m->ex->self, &m->msg) == XGW_OK && m->msg.len)
                conn_send(c, m->msg.data, m->msg.len);
        }
        int64_t silent = now - c->last_rx;
        bool stale = silent > m->stale_ms;
        /* ws_stale_s_<channel>: a subscription of that channel silent this
         * long (other topics' frames do not count) recycles the connection */
        for (struct topic *t = c->topics; t && !stale; t = t->cnext) {
            int64_t lim = m->stale_ch_ms[t->ws.channel & 7];
            int64_t since = t->last_data > c->opened ? t->last_data : c->opened;
            if (lim && now - since > lim) {
                stale = true;
                silent = now - since;
            }
        }
        if (stale && c->ws && !c->replacement) {
            xgw__metric_add(&m->metrics.stale_recycles, 1);
            xgw__log(inst(m), XGW_LOG_WARN, "ws_stale", "%s%s: nothing received for %lld ms; reconnecting",
                     c->priv ? "private" : "public", c->route, (long long)silent);
            snprintf(c->down_reason, sizeof c->down_reason, "stale");
            c->down_since_wall = xgw__wall_ms() - silent;
            xgw__ws_close(c->ws);
            break;
        }
        if (m->life_ms && !c->replacement) {
            int64_t life = m->life_ms;
            int64_t margin = life / 10 < 60000 ? life / 10 : 60000;
            if (now - c->opened >= life - margin)
                conn_replace(c);
        }
        if (c->priv && c->token[0] && c->next_keepalive && now >= c->next_keepalive && !c->token_req) {
            struct xgw_call args = {0};
            snprintf(args.token, sizeof args.token, "%s", c->token);
            c->next_keepalive = now + m->ka_s * 1000;
            req_start(m, R_KEEPALIVE, XGW_OP_WS_TOKEN_KEEPALIVE, &args, NULL, c, &c->token_req);
            xgw__secure_zero(args.token, sizeof args.token);
        }
        break;
    default:
        break;
    }
}

static void on_tick(uv_timer_t *tm)
{
    struct mgr *m = tm->data;
    if (m->closing)
        return;
    int64_t now = mono_ms();
    for (struct conn *c = m->conns, *next; c; c = next) {
        next = c->next;
        tick_conn(c, now);
    }
    for (struct xgw_sub *s = m->subs; s; s = s->next)
        for (size_t i = 0; i < s->n; i++) {
            struct topic *t = &s->topics[i];
            if (t->book && t->snap_retry_at && now >= t->snap_retry_at && !t->snap) {
                t->snap_retry_at = 0;
                if (xgw__book_needs_snapshot(t->book) && t->conn && t->conn->st == C_OPEN)
                    topic_request_snapshot(t);
            }
        }
}

/* ------------------------------------------------------------------------ */
/* Managers                                                                  */
/* ------------------------------------------------------------------------ */

static const struct xgw_network *find_network(const struct xgw_plugin *p, const char *name)
{
    for (size_t i = 0; i < p->n_networks; i++)
        if (name && p->networks[i].name && !strcmp(p->networks[i].name, name))
            return &p->networks[i];
    return p->n_networks ? &p->networks[0] : NULL;
}

static void mgr_free(struct mgr *m)
{
    xgw__sink_free(m->sink);
    xgw__buf_free_sensitive(&m->msg);
    xgw__buf_free_sensitive(&m->path);
    xgw__ws_host_free(m->wsh);
    free(m);
}

static struct mgr *mgr_get(struct xgw_exchange *ex, struct xgw_error *err)
{
    pthread_mutex_lock(&reg_mu);
    struct mgr *m = registry;
    while (m && m->ex != ex)
        m = m->reg_next;
    pthread_mutex_unlock(&reg_mu);
    if (m)
        return m;
    const struct xgw_plugin *p = ex->plugin;
    if (!p->ws_path || !p->ws_sub_msg || !p->ws_parse) {
        xgw__set_errorf(err, XGW_ERR_UNSUPPORTED, 0, "plugin %s has no streams", p->name);
        return NULL;
    }
    m = calloc(1, sizeof *m);
    if (!m || !(m->sink = xgw__sink_new())) {
        free(m);
        xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
        return NULL;
    }
    m->ex = ex;
    m->gw = ex->gw;
    m->p = p;
    m->stale_ms = (int64_t)(ex->cfg->ws_stale_s > 0 ? ex->cfg->ws_stale_s : 30) * 1000;
    /* Hyperliquid-style exchanges take one subscription per message: send
     * as many messages as it takes rather than have the plugin refuse. */
    m->per_msg = p->ws_max_subs_per_msg > 0 && p->ws_max_subs_per_msg < SUB_CHUNK ? p->ws_max_subs_per_msg
                                                                                  : SUB_CHUNK;
    m->ping_ms = ex->cfg->ws_ping_interval_ms >= 0 ? ex->cfg->ws_ping_interval_ms : (int64_t)p->ws.ping_interval_ms;
    m->life_ms = ex->cfg->ws_max_lifetime_ms > 0 ? (int64_t)ex->cfg->ws_max_lifetime_ms
                                                  : (int64_t)m->p->ws.max_lifetime_s * 1000;
    m->ka_s = ex->cfg->ws_token_keepalive_s > 0 ? (int64_t)ex->cfg->ws_token_keepalive_s
                                                : (int64_t)m->p->ws.token_keepalive_s;
    m->stale_ch_ms[XGW_CH_TICKER] = (int64_t)ex->cfg->ws_stale_s_ticker * 1000;
    m->stale_ch_ms[XGW_CH_TRADES] = (int64_t)ex->cfg->ws_stale_s_trades * 1000;
    m->stale_ch_ms[XGW_CH_BOOK] = (int64_t)ex->cfg->ws_stale_s_book * 1000;
    m->stale_ch_ms[XGW_CH_ORDERS] = (int64_t)ex->cfg->ws_stale_s_orders * 1000;
    if (xgw__random_bytes(&m->rng, sizeof m->rng) != 0)
        m->rng = (uint64_t)xgw__mono_us();
    m->pub_urls = ex->ws_urls;
    m->n_pub = ex->n_ws;
    const struct xgw_network *net = find_network(p, ex->network);
    /* Private streams go to the network's private URLs, unless the
     * instance lists its own ws endpoints: those serve both. */
    bool own_ws = ex->cfg->ws_endpoints && ex->cfg->n_ws;
    if (!own_ws && net && net->n_ws_private) {
        m->priv_urls = net->ws_private;
        m->n_priv = net->n_ws_private;
    } else {
        m->priv_urls = ex->ws_urls;
        m->n_priv = ex->n_ws;
    }
    /* One lws context per gateway, made on the first stream of any
     * instance; each instance a vhost of its own with its own trust. */
    struct xgw_gateway *gw = ex->gw;
    if ((!gw->ws && xgw__ws_ctx_new(&gw->loop.uv, &gw->ws, err) != XGW_OK) ||
        xgw__ws_host_new(gw->ws, ex->cfg->name, ex->cfg->ca_file, &m->wsh, err) != XGW_OK) {
        mgr_free(m);
        return NULL;
    }
    uv_timer_init(&ex->gw->loop.uv, &m->tick);
    m->tick.data = m;
    uv_timer_start(&m->tick, on_tick, TICK_MS, TICK_MS);
    pthread_mutex_lock(&reg_mu);
    m->reg_next = registry;
    registry = m;
    pthread_mutex_unlock(&reg_mu);
    return m;
}

/* ------------------------------------------------------------------------ */
/* Subscriptions (loop thread)                                               */
/* ------------------------------------------------------------------------ */

static struct conn *conn_for(struct mgr *m, struct topic *t, const char *route)
{
    bool priv = t->ws.channel == XGW_CH_ORDERS;
    uint32_t max = m->p->ws.max_subs_per_conn;
    struct conn *room = NULL;
    for (struct conn *c = m->conns; c; c = c->next) {
        if (c->st == C_DEAD || c->replaces || c->priv != priv || strcmp(c->route, route) != 0)
            continue;
        for (struct topic *o = c->topics; o; o = o->cnext)
            if (same_key(o, t))
                return c; /* shares the exchange-side stream */
        if (!room && (!max || c->n_topics < max))
            room = c;
    }
    return room ? room : conn_new(m, priv, route);
}

static void topic_detach(struct topic *t)
{
    struct conn *c = t->conn;
    if (!c)
        return;
    conn_unsubscribe_topic(c, t);
    struct topic **pp = &c->topics;
    while (*pp && *pp != t)
        pp = &(*pp)->cnext;
    if (*pp) {
        *pp = t->cnext;
        c->n_topics--;
    }
    t->conn = NULL;
    t->cnext = NULL;
    if (!c->topics && !c->replaces) {
        if (c->replacement) {
            struct conn *n = c->replacement;
            c->replacement = NULL;
            n->replaces = NULL;
            conn_retire(n);
        }
        conn_retire(c);
    }
}

static void topic_release(struct topic *t)
{
    if (t->snap) {
        t->snap->topic = NULL;
        t->snap = NULL;
    }
    xgw__book_free(t->book);
    t->book = NULL;
    free(t->top);
    t->top = NULL;
    free(t->merged);
    t->merged = NULL;
}

static void sub_free(struct xgw_sub *s)
{
    if (s->topics)
        for (size_t i = 0; i < s->n; i++)
            topic_release(&s->topics[i]);
    free(s->topics);
    free(s);
}

static void sub_attach(struct xgw_sub *s, struct xgw_exchange *ex)
{
    struct mgr *m = mgr_get(ex, &s->err);
    if (!m) {
        s->rc = s->err.kind ? (int)s->err.kind : XGW_ERR_INTERNAL;
        return;
    }
    if (m->closing) {
        s->rc = xgw__set_errorf(&s->err, XGW_ERR_CANCELLED, 0, "the gateway is closing");
        return;
    }
    s->m = m;
    struct xgw_buf route = {0};
    for (size_t i = 0; i < s->n; i++) {
        struct topic *t = &s->topics[i];
        xgw__buf_reset(&route);
        if (t->ws.channel != XGW_CH_ORDERS && m->p->struct_size >= offsetof(struct xgw_plugin, ws_route) +
                                                                       sizeof m->p->ws_route &&
            m->p->ws_route) {
            struct xgw_error err = {0};
            if (m->p->ws_route(ex->self, &t->ws, &route, &err) != XGW_OK) {
                s->rc = err.kind ? (int)err.kind : XGW_ERR_PLUGIN;
                s->err = err;
                break;
            }
        }
        if (t->ws.channel == XGW_CH_BOOK && m->p->ws.book_model != XGW_BOOK_NONE) {
            t->book = xgw__book_new(m->p->ws.book_model, BOOK_KEEP);
            t->top = calloc(2 * (size_t)s->depth, sizeof *t->top);
            if (!t->book || !t->top) {
                s->rc = xgw__set_errorf(&s->err, XGW_ERR_INTERNAL, 0, "out of memory");
                break;
            }
        } else if (t->ws.channel == XGW_CH_BOOK) {
            s->rc = xgw__set_errorf(&s->err, XGW_ERR_UNSUPPORTED, 0, "plugin %s has no book stream", m->p->name);
            break;
        }
        struct conn *c = conn_for(m, t, route.data ? route.data : "");
        if (!c) {
            s->rc = xgw__set_errorf(&s->err, XGW_ERR_INTERNAL, 0, "out of memory");
            break;
        }
        t->conn = c;
        t->cnext = c->topics;
        c->topics = t;
        c->n_topics++;
    }
    xgw__buf_free(&route);
    if (s->rc != XGW_OK) {
        for (size_t i = 0; i < s->n; i++)
            topic_detach(&s->topics[i]);
        return;
    }
    s->next = m->subs;
    if (m->subs)
        m->subs->prev = s;
    m->subs = s;
    for (size_t i = 0; i < s->n; i++) {
        struct conn *c = s->topics[i].conn;
        if (c->st == C_IDLE)
            conn_start(c);
        else if (c->st == C_OPEN)
            c->needs_flush = true;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->topics[i].conn && s->topics[i].conn->needs_flush)
            conn_flush(s->topics[i].conn);
    sub_refresh(s, "subscribed");
}

static void sub_detach(struct xgw_sub *s)
{
    struct mgr *m = s->m;
    if (!m)
        return;
    for (size_t i = 0; i < s->n; i++)
        topic_detach(&s->topics[i]);
    if (s->prev)
        s->prev->next = s->next;
    else if (m->subs == s)
        m->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static void subscribe_task(struct xgw__task *t)
{
    struct xgw_sub *s = (struct xgw_sub *)((char *)t - offsetof(struct xgw_sub, task));
    struct xgw_exchange *ex = s->ex;
    if (atomic_load(&ex->gw->closing))
        s->rc = xgw__set_errorf(&s->err, XGW_ERR_CANCELLED, 0, "the gateway is closing");
    else
        sub_attach(s, ex);
    xgw__loop_set_done(&ex->gw->loop, &s->done);
}

int xgw_subscribe(struct xgw_exchange *ex, enum xgw_channel channel, const char *const *symbols, size_t n,
                  uint32_t depth, xgw_event_fn cb, void *user, struct xgw_sub **out, struct xgw_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!ex || !cb || !out)
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "xgw_subscribe: exchange, callback and out are required");
    *out = NULL;
    if (channel < XGW_CH_TICKER || channel > XGW_CH_ORDERS)
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "unknown stream channel %d", (int)channel);
    if (channel == XGW_CH_ORDERS) {
        if (n != 0)
            return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "the orders channel takes no symbols");
        /* Keyed exchanges (a listenKey or a login) need api_key; Hyperliquid
         * subscribes by account address, which its plugin checks itself. */
        const struct xgw_plugin *pl = ex->plugin;
        if ((pl->ws.private_needs_token || pl->ws.private_needs_login) && (!ex->cfg->api_key || !ex->cfg->api_key[0]))
            return xgw__set_errorf(err, XGW_ERR_AUTH, 0, "the orders stream needs api_key/api_secret");
    } else if (n == 0 || !symbols) {
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "the %s channel needs at least one symbol",
                               xgw_channel_name(channel));
    }
    if (n > 100000)
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "too many symbols");
    if (ex->gw->no_network)
        return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "the gateway was opened without network");
    const struct xgw_plugin *pl = ex->plugin;
    uint32_t parts = 1;
    if (channel == XGW_CH_TICKER &&
        pl->struct_size >= offsetof(struct xgw_plugin, ws_ticker_parts) + sizeof pl->ws_ticker_parts &&
        pl->ws_ticker_parts > 1)
        parts = pl->ws_ticker_parts < 4 ? pl->ws_ticker_parts : 4;
    struct xgw_sub *s = calloc(1, sizeof *s);
    size_t nt = channel == XGW_CH_ORDERS ? 1 : n * parts;
    if (!s || !(s->topics = calloc(nt, sizeof *s->topics))) {
        free(s);
        return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    }
    s->n = nt;
    s->channel = channel;
    s->depth = channel == XGW_CH_BOOK ? (depth ? depth : BOOK_DEFAULT_DEPTH) : 0;
    if (s->depth > BOOK_KEEP)
        s->depth = BOOK_KEEP;
    s->cb = cb;
    s->user = user;
    atomic_init(&s->state, -1); /* the first refresh reports a state */
    for (size_t i = 0; i < nt; i++) {
        struct topic *t = &s->topics[i];
        t->sub = s;
        t->ws.channel = channel;
        t->ws.depth = s->depth;
        t->ws.part = (uint32_t)(i % parts);
        t->lead = t - t->ws.part;
        if (channel != XGW_CH_ORDERS) {
            const char *sym = symbols[i / parts];
            size_t len = sym ? strlen(sym) : 0;
            if (len == 0 || len >= sizeof t->ws.symbol) {
                sub_free(s);
                return xgw__set_errorf(err, XGW_ERR_INVALID_REQUEST, 0, "bad symbol #%zu", i / parts + 1);
            }
            memcpy(t->ws.symbol, sym, len + 1);
        }
        if (parts > 1 && t->ws.part == 0) {
            if (!(t->merged = calloc(1, sizeof *t->merged))) {
                sub_free(s);
                return xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
            }
            ticker_clear(t->merged);
        }
    }
    struct xgw__loop *loop = &ex->gw->loop;
    if (xgw__loop_on_loop_thread(loop)) {
        sub_attach(s, ex);
    } else {
        s->ex = ex;
        s->task.run = subscribe_task;
        if (xgw__loop_submit(loop, &s->task) != XGW_OK) {
            sub_free(s);
            return xgw__set_errorf(err, XGW_ERR_CANCELLED, 0, "the gateway is closing");
        }
        xgw__loop_wait(loop, &s->done);
    }
    if (s->rc != XGW_OK) {
        int rc = s->rc;
        if (err)
            *err = s->err;
        s->m = NULL;
        sub_free(s);
        return rc;
    }
    *out = s;
    return XGW_OK;
}

static void unsubscribe_task(struct xgw__task *t)
{
    struct xgw_sub *s = (struct xgw_sub *)((char *)t - offsetof(struct xgw_sub, task));
    struct xgw__loop *loop = &s->m->gw->loop;
    if (!s->m->closing)
        sub_detach(s);
    xgw__loop_set_done(loop, &s->done);
}

void xgw_unsubscribe(struct xgw_sub *s)
{
    if (!s || !s->m)
        return;
    struct mgr *m = s->m;
    struct xgw__loop *loop = &m->gw->loop;
    if (xgw__loop_on_loop_thread(loop)) {
        sub_detach(s);
    } else {
        s->done = false;
        s->task.run = unsubscribe_task;
        if (xgw__loop_submit(loop, &s->task) == XGW_OK)
            xgw__loop_wait(loop, &s->done);
        else
            return; /* closing: xgw_close frees it */
    }
    atomic_store(&s->state, XGW_SUB_CLOSED);
    sub_free(s);
}

int xgw_sub_stats(const struct xgw_sub *s, struct xgw_sub_stats *out)
{
    if (!s || !out)
        return XGW_ERR_INVALID_REQUEST;
    struct xgw_sub *w = (struct xgw_sub *)s;
    out->state = (enum xgw_sub_state)atomic_load(&w->state);
    out->events = atomic_load(&w->events);
    out->messages = atomic_load(&w->messages);
    out->gaps = atomic_load(&w->gaps);
    out->reconnects = atomic_load(&w->reconnects);
    out->resyncs = atomic_load(&w->resyncs);
    out->dropped = atomic_load(&w->dropped);
    out->last_event_ms = atomic_load(&w->last_event_ms);
    return XGW_OK;
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                   */
/* ------------------------------------------------------------------------ */

static void on_tick_closed(uv_handle_t *h)
{
    struct mgr *m = h->data;
    m->tick_closed = true;
}

/* Everything of m stops but its connections' last callbacks: requests
 * detached, subscriptions freed, the tick timer and every connection
 * closing (the loop completes both). */
static void mgr_close(struct mgr *m)
{
    m->closing = true;
    for (struct req *r = m->reqs; r; r = r->next)
        r->m = NULL; /* completes later (CANCELLED) and frees itself */
    m->reqs = NULL;
    while (m->subs) {
        struct xgw_sub *s = m->subs;
        m->subs = s->next;
        atomic_store(&s->state, XGW_SUB_CLOSED);
        sub_free(s);
    }
    uv_timer_stop(&m->tick);
    uv_close((uv_handle_t *)&m->tick, on_tick_closed);
    xgw__ws_host_close(m->wsh);
}

static bool mgr_closed(const struct mgr *m)
{
    return m->tick_closed && (xgw__ws_host_idle(m->wsh) || xgw__ws_ctx_gone(m->gw->ws));
}

static void mgr_free_closed(struct mgr *m)
{
    for (struct conn *c = m->conns, *next; c; c = next) {
        next = c->next;
        conn_free(c);
    }
    mgr_free(m);
}

/* lws and libuv close their handles through the loop: run it (the caller
 * drives it, outside any loop callback) until every manager of list is
 * closed and, when the context is being destroyed, it is gone. Bounded: a
 * bug must not hang a close forever. */
static bool run_until_closed(struct xgw_gateway *gw, struct mgr *list, bool ctx_too)
{
    int64_t deadline = mono_ms() + 5000;
    for (;;) {
        bool done = !ctx_too || xgw__ws_ctx_gone(gw->ws);
        for (struct mgr *m = list; m && done; m = m->reg_next)
            done = mgr_closed(m);
        if (done)
            return true;
        if (mono_ms() >= deadline)
            return false;
        for (int i = 0; i < 20; i++)
            uv_run(&gw->loop.uv, UV_RUN_NOWAIT);
        if (ctx_too)
            xgw__ws_ctx_destroy_step(gw->ws);
    }
}

/* Take gw's managers (all, or only ex's) out of the registry. */
static struct mgr *take_mgrs(struct xgw_gateway *gw, const struct xgw_exchange *ex)
{
    struct mgr *list = NULL;
    pthread_mutex_lock(&reg_mu);
    for (struct mgr **pp = &registry; *pp;) {
        struct mgr *m = *pp;
        if (m->gw == gw && (!ex || m->ex == ex)) {
            *pp = m->reg_next;
            m->reg_next = list;
            list = m;
        } else {
            pp = &m->reg_next;
        }
    }
    pthread_mutex_unlock(&reg_mu);
    return list;
}

void xgw__streams_close_instance(struct xgw_exchange *ex)
{
    struct mgr *m = take_mgrs(ex->gw, ex);
    if (!m)
        return;
    mgr_close(m);
    if (!run_until_closed(ex->gw, m, false)) {
        /* leaked on purpose: freeing memory lws still uses would be worse */
        xgw__log(inst(m), XGW_LOG_ERROR, "ws_close", "libwebsockets did not finish closing in time");
        return;
    }
    mgr_free_closed(m);
}

void xgw__streams_close(struct xgw_gateway *gw)
{
    if (!gw)
        return;
    /* Inside xgw_close the caller already drives the loop; a host or test
     * calling this first takes the loop over (stopping the I/O thread) and
     * hands the driver role back afterwards, so xgw_close works as usual. */
    bool took = !xgw__loop_on_loop_thread(&gw->loop);
    if (took)
        xgw__loop_take_over(&gw->loop);
    struct mgr *list = take_mgrs(gw, NULL);
    for (struct mgr *m = list; m; m = m->reg_next)
        mgr_close(m);
    if (gw->ws) {
        xgw__ws_ctx_destroy(gw->ws); /* whatever the managers left open */
        if (run_until_closed(gw, list, true)) {
            while (list) {
                struct mgr *m = list;
                list = m->reg_next;
                mgr_free_closed(m);
            }
            xgw__ws_ctx_free(gw->ws);
            gw->ws = NULL;
        } else {
            /* leaked on purpose: freeing memory lws still uses would be worse */
            xgw__log(NULL, XGW_LOG_ERROR, "ws_close", "libwebsockets did not finish closing in time");
        }
    }
    if (took) {
        pthread_mutex_lock(&gw->loop.mu);
        gw->loop.driving = false;
        pthread_cond_broadcast(&gw->loop.cv);
        pthread_mutex_unlock(&gw->loop.mu);
    }
}
