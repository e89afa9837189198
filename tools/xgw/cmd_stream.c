/*
 * tools/xgw/cmd_stream.c — `xgw stream CHANNEL SYMBOL... [--count N]
 * [--seconds S] [--depth N]`: subscribe one instance and print one JSON
 * line per event (issue 7 item 8).
 *
 * The gateway's I/O thread runs the streams; events are formatted and
 * written on it (one fwrite per line, flushed, so lines never interleave
 * and a pipe reader sees them at once). The main thread waits until
 * --count events were printed or --seconds passed (default: forever, until
 * SIGINT/SIGTERM). Exit 0 when at least one event was received.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "stream.h"
#include "xgw/stream.h"

struct st {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long long count; /* 0 = unlimited */
    long long printed;
    bool done;
    struct xgw_buf line;
};

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static void head(struct xgw_buf *b, const struct xgw_event *ev, const char *channel)
{
    xgw__buf_append_str(b, "{");
    cli_j_str(b, "exchange", ev->exchange);
    cli_j_str(b, "channel", channel);
}

/* Formats ev into b; false for events that print nothing (state changes). */
static bool format_event(struct xgw_buf *b, const struct xgw_event *ev)
{
    switch (ev->type) {
    case XGW_EV_TICKER:
        head(b, ev, "ticker");
        cli_j_str(b, "symbol", ev->symbol);
        cli_j_dec(b, "bid", ev->ticker->bid);
        cli_j_dec(b, "ask", ev->ticker->ask);
        cli_j_dec(b, "last", ev->ticker->last);
        break;
    case XGW_EV_TRADE:
        head(b, ev, "trades");
        cli_j_str(b, "symbol", ev->symbol);
        cli_j_dec(b, "price", ev->trade->price);
        cli_j_dec(b, "qty", ev->trade->qty);
        cli_j_str(b, "side", ev->trade->side == XGW_SIDE_NONE ? NULL : xgw_side_name(ev->trade->side));
        cli_j_str(b, "trade_id", ev->trade->trade_id);
        break;
    case XGW_EV_BOOK:
        head(b, ev, "book");
        cli_j_str(b, "symbol", ev->symbol);
        cli_j_key(b, "seq");
        xgw__buf_printf(b, "%lld", (long long)ev->seq);
        cli_j_levels(b, "bids", ev->bids, ev->n_bids);
        cli_j_levels(b, "asks", ev->asks, ev->n_asks);
        break;
    case XGW_EV_ORDER:
        head(b, ev, "orders");
        cli_j_str(b, "symbol", ev->symbol);
        cli_j_str(b, "order_id", ev->order->order_id);
        cli_j_str(b, "client_id", ev->order->client_id);
        cli_j_str(b, "status", xgw_order_status_name(ev->order->status));
        cli_j_dec(b, "filled_qty", ev->order->filled_qty);
        cli_j_dec(b, "avg_price", ev->order->avg_price);
        break;
    case XGW_EV_BALANCE:
        head(b, ev, "balance");
        cli_j_str(b, "asset", ev->balance->asset);
        cli_j_dec(b, "total", ev->balance->total);
        cli_j_dec(b, "available", ev->balance->available);
        break;
    case XGW_EV_POSITION:
        head(b, ev, "position");
        cli_j_str(b, "symbol", ev->symbol);
        cli_j_str(b, "side", ev->position->side == XGW_POS_SHORT ? "short" : "long");
        cli_j_dec(b, "size", ev->position->size);
        cli_j_dec(b, "entry_price", ev->position->entry_price);
        cli_j_dec(b, "unrealized_pnl", ev->position->unrealized_pnl);
        break;
    case XGW_EV_GAP:
        head(b, ev, "gap");
        cli_j_ts(b, "from_ts", ev->gap_from_ms);
        cli_j_ts(b, "to_ts", ev->gap_to_ms);
        cli_j_str(b, "reason", ev->reason);
        xgw__buf_append_str(b, "}\n");
        return true;
    default:
        return false;
    }
    cli_j_ts(b, "ts", ev->ts_ms);
    cli_j_ts(b, "recv_ts", ev->recv_ts_ms);
    xgw__buf_append_str(b, "}\n");
    return true;
}

static void on_event(void *user, const struct xgw_event *ev)
{
    struct st *st = user;
    pthread_mutex_lock(&st->mu);
    if (st->done) {
        pthread_mutex_unlock(&st->mu);
        return;
    }
    xgw__buf_reset(&st->line);
    if (format_event(&st->line, ev) && st->line.data) {
        fwrite(st->line.data, 1, st->line.len, stdout);
        fflush(stdout);
        st->printed++;
        if (st->count > 0 && st->printed >= st->count) {
            st->done = true;
            pthread_cond_broadcast(&st->cv);
        }
    }
    pthread_mutex_unlock(&st->mu);
}

static bool parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *e;
    errno = 0;
    long long v = strtoll(s, &e, 10);
    if (errno || e == s || *e || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_channel(const char *s, enum xgw_channel *ch)
{
    if (!strcmp(s, "ticker"))
        *ch = XGW_CH_TICKER;
    else if (!strcmp(s, "trades") || !strcmp(s, "trade"))
        *ch = XGW_CH_TRADES;
    else if (!strcmp(s, "book"))
        *ch = XGW_CH_BOOK;
    else if (!strcmp(s, "orders"))
        *ch = XGW_CH_ORDERS;
    else
        return -1;
    return 0;
}

static int run_stream(struct cli *c, int argc, char **argv)
{
    long long count = 0, seconds = 0, depth = 0;
    enum xgw_channel ch;
    const char **syms = calloc((size_t)argc + 1, sizeof *syms);
    size_t n = 0;
    if (!syms)
        return CLI_FAIL;
    if (argc < 2 || parse_channel(argv[1], &ch) != 0) {
        free(syms);
        return cli_usage_error("stream: CHANNEL must be ticker, trades, book or orders");
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        long long *dst = !strcmp(a, "--count") ? &count : !strcmp(a, "--seconds") ? &seconds
                                                      : !strcmp(a, "--depth")     ? &depth
                                                                                  : NULL;
        if (dst) {
            if (i + 1 >= argc || !parse_ll(argv[i + 1], 1, 1000000000LL, dst)) {
                free(syms);
                return cli_usage_error("stream: %s needs a positive integer", a);
            }
            i++;
        } else if (a[0] == '-') {
            free(syms);
            return cli_usage_error("stream: unknown option %s", a);
        } else {
            syms[n++] = a;
        }
    }
    if (ch != XGW_CH_ORDERS && n == 0) {
        free(syms);
        return cli_usage_error("stream: give at least one SYMBOL");
    }
    if (ch == XGW_CH_ORDERS && n != 0) {
        free(syms);
        return cli_usage_error("stream: the orders channel takes no SYMBOL");
    }
    if (depth > 1000) {
        free(syms);
        return cli_usage_error("stream: --depth must be 1..1000");
    }
    struct xgw_gateway *gw = cli_open(c, false);
    if (!gw) {
        free(syms);
        return CLI_USAGE;
    }
    struct xgw_exchange *ex = c->instance ? xgw_exchange_find(gw, c->instance) : xgw_exchange_at(gw, 0);
    if (!ex || (!c->instance && xgw_exchange_count(gw) != 1)) {
        xgw_close(gw);
        free(syms);
        return cli_usage_error(c->instance ? "stream: no instance named %s" : "stream: give the instance with -x%s",
                               c->instance ? c->instance : "");
    }
    struct st st = {.count = count};
    pthread_mutex_init(&st.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st.cv, &ca);
    pthread_condattr_destroy(&ca);

    struct xgw_error err;
    int rc = xgw_start(gw, &err);
    struct xgw_sub *sub = NULL;
    if (rc == XGW_OK)
        rc = xgw_subscribe(ex, ch, syms, n, (uint32_t)depth, on_event, &st, &sub, &err);
    if (rc != XGW_OK) {
        cli_print_error(&err);
        xgw_close(gw);
        free(syms);
        return rc == XGW_ERR_INVALID_REQUEST || rc == XGW_ERR_CONFIG ? CLI_USAGE : CLI_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += seconds;
    pthread_mutex_lock(&st.mu);
    while (!st.done && !stop_signal) {
        struct timespec now, wake;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (seconds && (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)))
            break;
        /* wake at least every 200 ms to notice signals */
        wake = now;
        wake.tv_nsec += 200 * 1000000L;
        if (wake.tv_nsec >= 1000000000L) {
            wake.tv_sec++;
            wake.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&st.cv, &st.mu, &wake);
    }
    st.done = true;
    long long printed = st.printed;
    pthread_mutex_unlock(&st.mu);

    xgw_unsubscribe(sub);

    xgw_close(gw);
    xgw__buf_free(&st.line);
    pthread_cond_destroy(&st.cv);
    pthread_mutex_destroy(&st.mu);
    free(syms);
    return printed > 0 ? CLI_OK : CLI_FAIL;
}

const struct cli_command cli_cmds_stream[] = {
    {"stream", "CHANNEL SYMBOL... [--count N] [--seconds S] [--depth N]",
     "Subscribe to ticker, trades, book (top --depth levels, default 20) or orders and print one JSON line\n"
     "per event; {\"channel\":\"gap\",...} after a reconnect. Stops after --count events or --seconds.",
     run_stream},
    {NULL, NULL, NULL, NULL},
};
