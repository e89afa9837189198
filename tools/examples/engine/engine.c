/*
 * tools/examples/engine/engine.c — a trading engine that embeds libxgw in
 * its own epoll loop.
 *
 *   engine CONFIG [INSTANCE [SYMBOL]]     (defaults: binance BTCUSDT)
 *
 * What it shows:
 *   - the gateway runs without a thread of its own: the engine polls
 *     xgw_fd() next to its own descriptors (here a timerfd deadline), wakes
 *     at least every xgw_timeout_ms(), and calls xgw_step();
 *   - callbacks (stream events, call completions) run inside xgw_step() on
 *     the engine's thread, so they only record what happened; the loop body
 *     decides what to do next — no locks anywhere;
 *   - a book subscription (xgw/stream.h), then a limit buy far below the
 *     market placed with xgw_call() and cancelled by its exchange id;
 *   - prices stay exact decimals (xgw_dec) end to end.
 *
 * Prints one line per step on stdout; exits 0 once the order was placed and
 * cancelled and BOOKS_WANTED book updates arrived, 1 on any failure, 2 on
 * bad usage. Point it at the mock exchange (tools/mockex) to try it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <xgw/stream.h>
#include <xgw/xgw.h>

#define BOOKS_WANTED 3
#define DEADLINE_S 30

/* Everything the callbacks and the loop share. One thread: no locking. */
struct engine {
    const char *symbol;
    struct xgw_exchange *ex;

    unsigned books;   /* book events seen */
    xgw_dec best_bid; /* from the last book event (NONE before) */

    enum { IDLE, PLACING, PLACED, CANCELLING, CANCELLED, FAILED } order_state;
    struct xgw_order order; /* copy of the placed order */
};

static void print_dec(const char *label, xgw_dec d)
{
    char s[XGW_DEC_STRLEN];
    xgw_dec_format(d, s, sizeof s);
    printf("%s%s", label, s);
}

/* Stream callback: runs inside xgw_step(). The event's pointers are
 * borrowed for this call only, so copy what is kept. */
static void on_event(void *user, const struct xgw_event *ev)
{
    struct engine *e = user;
    switch (ev->type) {
    case XGW_EV_BOOK:
        if (ev->n_bids == 0 || ev->n_asks == 0)
            return;
        e->books++;
        e->best_bid = ev->bids[0].price;
        printf("book %s seq=%" PRId64, ev->symbol, ev->seq);
        print_dec(" bid ", ev->bids[0].price);
        print_dec(" x ", ev->bids[0].qty);
        print_dec(" ask ", ev->asks[0].price);
        print_dec(" x ", ev->asks[0].qty);
        printf("\n");
        break;
    case XGW_EV_GAP:
        /* The core re-syncs the book itself; an engine would pause quoting. */
        printf("gap %s %" PRId64 "..%" PRId64 " ms: %s\n", ev->symbol, ev->gap_from_ms, ev->gap_to_ms,
               ev->reason ? ev->reason : "");
        break;
    case XGW_EV_STATE:
        /* State events are per subscription and may carry no symbol. */
        printf("stream %s %s\n", ev->symbol[0] ? ev->symbol : e->symbol, xgw_sub_state_name(ev->state));
        break;
    default:
        break;
    }
    fflush(stdout);
}

static void print_order(const char *what, const struct xgw_order *o)
{
    printf("%s %s order_id=%s client_id=%s status=%s", what, o->symbol, o->order_id, o->client_id,
           xgw_order_status_name(o->status));
    print_dec(" price=", o->price);
    print_dec(" qty=", o->qty);
    printf("\n");
    fflush(stdout);
}

/* Completion of the PLACE call (inside xgw_step, exactly once). */
static void on_placed(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    struct engine *e = user;
    if (err || res->n_orders == 0) {
        fprintf(stderr, "place failed: %s: %s\n", err ? xgw_err_kind_name(err->kind) : "PROTOCOL",
                err ? err->message : "no order in the answer");
        e->order_state = FAILED;
        return;
    }
    e->order = res->orders[0];
    print_order("placed", &e->order);
    e->order_state = PLACED;
}

static void on_cancelled(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    struct engine *e = user;
    if (err || res->n_orders == 0) {
        fprintf(stderr, "cancel failed: %s: %s\n", err ? xgw_err_kind_name(err->kind) : "PROTOCOL",
                err ? err->message : "no order in the answer");
        e->order_state = FAILED;
        return;
    }
    print_order("cancelled", &res->orders[0]);
    e->order_state = res->orders[0].status == XGW_OS_CANCELED ? CANCELLED : FAILED;
}

/* A limit buy at 80% of the best bid, rounded down to a whole unit: far from
 * the market, so it rests until cancelled. Exact decimal arithmetic. */
static int place_order(struct engine *e)
{
    struct xgw_call call = {0};
    struct xgw_order_req *o = &call.order;
    snprintf(o->symbol, sizeof o->symbol, "%s", e->symbol);
    o->side = XGW_SIDE_BUY;
    o->type = XGW_TYPE_LIMIT;
    o->tif = XGW_TIF_GTC;
    xgw_dec eighty = {8, 1}, price;
    if (xgw_dec_mul(e->best_bid, eighty, &price) != XGW_DEC_OK ||
        xgw_dec_round_to(price, xgw_dec_from_int(1), XGW_ROUND_DOWN, &price) != XGW_DEC_OK)
        return XGW_ERR_INVALID_REQUEST;
    o->price = price;
    xgw_dec_parse_cstr("0.010", &o->qty);
    /* client_id left empty: the gateway generates one in the exchange's
     * format and uses it to resolve an unknown outcome. */
    printf("place %s buy limit", e->symbol);
    print_dec(" qty=", o->qty);
    print_dec(" price=", o->price);
    printf("\n");
    fflush(stdout);
    return xgw_call(e->ex, XGW_OP_PLACE, &call, on_placed, e);
}

static int cancel_order(struct engine *e)
{
    struct xgw_call call = {0};
    snprintf(call.symbol, sizeof call.symbol, "%s", e->order.symbol);
    snprintf(call.order_id, sizeof call.order_id, "%s", e->order.order_id);
    printf("cancel %s order_id=%s\n", call.symbol, call.order_id);
    fflush(stdout);
    return xgw_call(e->ex, XGW_OP_CANCEL, &call, on_cancelled, e);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s CONFIG [INSTANCE [SYMBOL]]\n", argv[0]);
        return 2;
    }
    const char *instance = argc > 2 ? argv[2] : "binance";
    struct engine e = {.symbol = argc > 3 ? argv[3] : "BTCUSDT", .best_bid = xgw_dec_none()};
    int status = 1;
    int ep = -1, tfd = -1;
    struct xgw_sub *sub = NULL;

    /* 1. Open the gateway. No xgw_start(): this program drives the loop. */
    struct xgw_error err = {0};
    struct xgw_gateway *gw = xgw_open(argv[1], NULL, &err);
    if (!gw) {
        fprintf(stderr, "xgw_open: %s: %s\n", xgw_err_kind_name(err.kind), err.message);
        return 1;
    }
    e.ex = xgw_exchange_find(gw, instance);
    if (!e.ex) {
        fprintf(stderr, "no [exchange.%s] in %s\n", instance, argv[1]);
        goto out;
    }
    struct xgw_exchange_info info;
    xgw_exchange_info(e.ex, &info);
    printf("engine: libxgw %s, instance %s (plugin %s %s, %s), first endpoint %s\n", xgw_version(),
           info.instance, info.plugin, info.plugin_version, info.network,
           info.n_rest ? info.rest_endpoints[0] : "-");

    /* 2. One epoll set for everything: the gateway's fd and our own. */
    ep = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (ep < 0 || tfd < 0) {
        perror("epoll/timerfd");
        goto out;
    }
    struct itimerspec deadline = {.it_value = {.tv_sec = DEADLINE_S}};
    struct epoll_event ev_gw = {.events = EPOLLIN, .data.fd = xgw_fd(gw)};
    struct epoll_event ev_t = {.events = EPOLLIN, .data.fd = tfd};
    if (timerfd_settime(tfd, 0, &deadline, NULL) || epoll_ctl(ep, EPOLL_CTL_ADD, xgw_fd(gw), &ev_gw) ||
        epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev_t)) {
        perror("epoll_ctl/timerfd_settime");
        goto out;
    }
    printf("engine: polling gateway fd %d and deadline timerfd %d in one epoll set\n", xgw_fd(gw), tfd);

    /* 3. Subscribe to the book: 5 levels per side. */
    const char *symbols[] = {e.symbol};
    if (xgw_subscribe(e.ex, XGW_CH_BOOK, symbols, 1, 5, on_event, &e, &sub, &err) != XGW_OK) {
        fprintf(stderr, "xgw_subscribe: %s: %s\n", xgw_err_kind_name(err.kind), err.message);
        goto out;
    }
    printf("subscribed book %s\n", e.symbol);
    fflush(stdout);

    /* 4. The loop. */
    for (;;) {
        /* Decide on the state the callbacks left. */
        if (e.order_state == FAILED)
            goto out;
        if (e.order_state == IDLE && e.books > 0) {
            if (place_order(&e) != XGW_OK) {
                fprintf(stderr, "could not submit the order\n");
                goto out;
            }
            e.order_state = PLACING;
        } else if (e.order_state == PLACED) {
            if (cancel_order(&e) != XGW_OK) {
                fprintf(stderr, "could not submit the cancel\n");
                goto out;
            }
            e.order_state = CANCELLING;
        } else if (e.order_state == CANCELLED && e.books >= BOOKS_WANTED) {
            status = 0;
            break;
        }

        /* Sleep until the gateway or our timer needs us. xgw_timeout_ms()
         * is the gateway's next timer (-1 = none): never sleep past it. */
        struct epoll_event ready[4];
        int n = epoll_wait(ep, ready, 4, xgw_timeout_ms(gw));
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            goto out;
        }
        for (int i = 0; i < n; i++) {
            if (ready[i].data.fd == tfd) {
                fprintf(stderr, "deadline of %d s passed (books=%u, order state %d)\n", DEADLINE_S, e.books,
                        (int)e.order_state);
                goto out;
            }
        }
        /* Run whatever is due: I/O, timers, queued calls; callbacks fire here. */
        if (xgw_step(gw) != XGW_OK) {
            fprintf(stderr, "xgw_step failed\n");
            goto out;
        }
    }

    struct xgw_sub_stats st;
    if (xgw_sub_stats(sub, &st) == XGW_OK)
        printf("stream stats: events=%" PRIu64 " gaps=%" PRIu64 " reconnects=%" PRIu64 "\n", st.events,
               st.gaps, st.reconnects);
    printf("done: %u book updates, order placed and cancelled\n", e.books);

out:
    /* Unsubscribe from this (driving) thread: it runs the loop until the
     * stream manager let go of the subscription. xgw_close then completes
     * anything still pending with CANCELLED and frees the gateway. */
    xgw_unsubscribe(sub);
    xgw_close(gw);
    if (tfd >= 0)
        close(tfd);
    if (ep >= 0)
        close(ep);
    fflush(stdout);
    return status;
}
