/*
 * tools/xgw/cmd_request.c — the request commands over the embedding API:
 * time, markets, ticker, depth, balances, positions, order place|cancel|get,
 * orders; and cli_open().
 *
 * Without -x a command runs on every instance at once: the I/O thread is
 * started, one asynchronous call per instance is submitted, and each
 * completion formats its lines into that instance's slot. Output is printed
 * in config order once every call has completed, so lines of different
 * instances never interleave. Decimals are printed exactly as the exchange
 * sent them (xgw_dec keeps the written scale), as JSON strings.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"

struct xgw_gateway *cli_open(struct cli *c, bool no_network)
{
    if (!c->config) {
        cli_usage_error("no configuration file; give -c FILE");
        return NULL;
    }
    struct xgw_open_opts o = {.plugin_dir = c->plugin_dir, .no_network = no_network};
    struct xgw_error err;
    struct xgw_gateway *gw = xgw_open(c->config, &o, &err);
    if (!gw)
        cli_print_error(&err);
    return gw;
}

/* ---- JSON line building ---------------------------------------------------- */

static void line_begin(struct xgw_buf *b, const char *exchange)
{
    xgw__buf_append_str(b, "{");
    cli_j_str(b, "exchange", exchange);
}

static void line_end(struct xgw_buf *b) { xgw__buf_append_str(b, "}\n"); }

static void order_line(struct xgw_buf *b, const char *ex, const struct xgw_order *o)
{
    line_begin(b, ex);
    cli_j_str(b, "symbol", o->symbol);
    cli_j_str(b, "order_id", o->order_id);
    cli_j_str(b, "client_id", o->client_id);
    cli_j_str(b, "status", xgw_order_status_name(o->status));
    cli_j_str(b, "status_raw", o->status_raw);
    cli_j_str(b, "side", o->side == XGW_SIDE_NONE ? NULL : xgw_side_name(o->side));
    cli_j_str(b, "type", o->type == XGW_TYPE_NONE ? NULL : xgw_order_type_name(o->type));
    cli_j_dec(b, "price", o->price);
    cli_j_dec(b, "qty", o->qty);
    cli_j_dec(b, "filled_qty", o->filled_qty);
    cli_j_dec(b, "avg_price", o->avg_price);
    cli_j_ts(b, "ts", o->ts_ms);
    line_end(b);
}

/* Format a result as the command's JSON lines. */
static void format_result(struct xgw_buf *b, const struct xgw_result *r)
{
    const char *ex = r->exchange;
    switch (r->op) {
    case XGW_OP_TIME:
        line_begin(b, ex);
        cli_j_int(b, "server_time_ms", r->server_time_ms);
        cli_j_int(b, "local_offset_ms", r->local_offset_ms);
        cli_j_str(b, "endpoint", r->endpoint);
        line_end(b);
        break;
    case XGW_OP_MARKETS:
        for (size_t i = 0; i < r->n_markets; i++) {
            const struct xgw_market *m = &r->markets[i];
            line_begin(b, ex);
            cli_j_str(b, "symbol", m->symbol);
            cli_j_str(b, "base", m->base);
            cli_j_str(b, "quote", m->quote);
            cli_j_dec(b, "tick_size", m->tick_size);
            cli_j_dec(b, "step_size", m->step_size);
            cli_j_dec(b, "min_qty", m->min_qty);
            cli_j_dec(b, "min_notional", m->min_notional);
            cli_j_str(b, "status", xgw_market_status_name(m->status));
            line_end(b);
        }
        break;
    case XGW_OP_TICKER:
        line_begin(b, ex);
        cli_j_str(b, "symbol", r->ticker.symbol);
        cli_j_dec(b, "last", r->ticker.last);
        cli_j_dec(b, "bid", r->ticker.bid);
        cli_j_dec(b, "ask", r->ticker.ask);
        cli_j_dec(b, "bid_qty", r->ticker.bid_qty);
        cli_j_dec(b, "ask_qty", r->ticker.ask_qty);
        cli_j_key(b, "ts");
        if (r->ticker.ts_ms)
            xgw__buf_printf(b, "%lld", (long long)r->ticker.ts_ms);
        else
            xgw__buf_append_str(b, "null");
        line_end(b);
        break;
    case XGW_OP_DEPTH:
        line_begin(b, ex);
        cli_j_str(b, "symbol", r->book.symbol);
        cli_j_int(b, "seq", r->book.seq);
        cli_j_levels(b, "bids", r->bids, r->n_bids);
        cli_j_levels(b, "asks", r->asks, r->n_asks);
        line_end(b);
        break;
    case XGW_OP_BALANCES:
        for (size_t i = 0; i < r->n_balances; i++) {
            line_begin(b, ex);
            cli_j_str(b, "asset", r->balances[i].asset);
            cli_j_dec(b, "total", r->balances[i].total);
            cli_j_dec(b, "available", r->balances[i].available);
            line_end(b);
        }
        break;
    case XGW_OP_POSITIONS:
        for (size_t i = 0; i < r->n_positions; i++) {
            const struct xgw_position *p = &r->positions[i];
            if (xgw_dec_is_none(p->size) || xgw_dec_is_zero(p->size))
                continue; /* open positions only */
            xgw_dec size = p->size;
            if (size.mant < 0)
                size.mant = -size.mant;
            line_begin(b, ex);
            cli_j_str(b, "symbol", p->symbol);
            cli_j_str(b, "side", p->side == XGW_POS_SHORT ? "short" : "long");
            cli_j_dec(b, "size", size);
            cli_j_dec(b, "entry_price", p->entry_price);
            cli_j_dec(b, "mark_price", p->mark_price);
            cli_j_dec(b, "unrealized_pnl", p->unrealized_pnl);
            cli_j_dec(b, "leverage", p->leverage);
            line_end(b);
        }
        break;
    case XGW_OP_PLACE:
    case XGW_OP_CANCEL:
    case XGW_OP_GET_ORDER:
    case XGW_OP_OPEN_ORDERS:
        for (size_t i = 0; i < r->n_orders; i++)
            order_line(b, ex, &r->orders[i]);
        break;
    default:
        line_begin(b, ex);
        cli_j_str(b, "op", xgw_op_name(r->op));
        line_end(b);
        break;
    }
}

/* ---- running one call on one or every instance -------------------------- */

struct slot {
    struct xgw_buf out;
    struct xgw_error err;
    bool failed;
};

struct run {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    struct slot *slots;
};

struct slot_ref {
    struct run *run;
    size_t i;
};

static void on_done(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    struct slot_ref *ref = user;
    struct slot *s = &ref->run->slots[ref->i];
    if (res) {
        format_result(&s->out, res);
    } else {
        s->failed = true;
        s->err = *err;
    }
    pthread_mutex_lock(&ref->run->mu);
    ref->run->pending--;
    pthread_cond_broadcast(&ref->run->cv);
    pthread_mutex_unlock(&ref->run->mu);
}

static int run_call(struct cli *c, enum xgw_op op, const struct xgw_call *call)
{
    struct xgw_gateway *gw = cli_open(c, false);
    if (!gw)
        return CLI_USAGE;
    size_t n = xgw_exchange_count(gw), first = 0;
    if (c->instance) {
        struct xgw_exchange *only = xgw_exchange_find(gw, c->instance);
        if (!only) {
            xgw_close(gw);
            return cli_usage_error("no instance \"%s\" in %s (sections are [exchange.<name>])", c->instance,
                                   c->config);
        }
        for (first = 0; xgw_exchange_at(gw, first) != only; first++)
            ;
        n = 1;
    }
    if (n == 0) {
        xgw_close(gw);
        return cli_usage_error("%s defines no [exchange.<name>] section", c->config);
    }
    struct xgw_error err;
    if (xgw_start(gw, &err) != 0) {
        cli_print_error(&err);
        xgw_close(gw);
        return CLI_FAIL;
    }
    struct run run = {.pending = n};
    pthread_mutex_init(&run.mu, NULL);
    pthread_cond_init(&run.cv, NULL);
    run.slots = calloc(n, sizeof *run.slots);
    struct slot_ref *refs = calloc(n, sizeof *refs);
    if (!run.slots || !refs) {
        free(run.slots);
        free(refs);
        xgw_close(gw);
        fprintf(stderr, "{\"error\":{\"kind\":\"INTERNAL\",\"message\":\"out of memory\"}}\n");
        return CLI_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        refs[i] = (struct slot_ref){&run, i};
        struct xgw_exchange *ex = xgw_exchange_at(gw, first + i);
        int rc = xgw_call(ex, op, call, on_done, &refs[i]);
        if (rc != 0) {
            struct xgw_exchange_info info;
            xgw_exchange_info(ex, &info);
            run.slots[i].failed = true;
            run.slots[i].err = (struct xgw_error){.kind = (enum xgw_err_kind)rc};
            snprintf(run.slots[i].err.message, sizeof run.slots[i].err.message, "the call could not be queued");
            snprintf(run.slots[i].err.exchange, sizeof run.slots[i].err.exchange, "%s", info.instance);
            pthread_mutex_lock(&run.mu);
            run.pending--;
            pthread_mutex_unlock(&run.mu);
        }
    }
    pthread_mutex_lock(&run.mu);
    while (run.pending > 0)
        pthread_cond_wait(&run.cv, &run.mu);
    pthread_mutex_unlock(&run.mu);
    xgw_close(gw);

    int status = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        struct slot *s = &run.slots[i];
        if (s->failed) {
            cli_print_error(&s->err);
            status = CLI_FAIL;
        } else if (s->out.len) {
            fwrite(s->out.data, 1, s->out.len, stdout);
        }
        xgw__buf_free(&s->out);
    }
    fflush(stdout);
    free(run.slots);
    free(refs);
    pthread_cond_destroy(&run.cv);
    pthread_mutex_destroy(&run.mu);
    return status;
}

/* ---- argument helpers ---------------------------------------------------- */

static bool copy_arg(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

static int symbol_arg(int argc, char **argv, int *i, struct xgw_call *call, bool required)
{
    if (*i >= argc || argv[*i][0] == '-') {
        if (required)
            return cli_usage_error("%s needs a SYMBOL; see xgw %s --help", argv[0], argv[0]);
        return CLI_OK;
    }
    if (!copy_arg(call->symbol, sizeof call->symbol, argv[*i]))
        return cli_usage_error("symbol \"%s\" is empty or too long", argv[*i]);
    (*i)++;
    return CLI_OK;
}

static int no_more(int argc, char **argv, int i)
{
    if (i < argc)
        return cli_usage_error("unexpected argument \"%s\"; see xgw %s --help", argv[i], argv[0]);
    return CLI_OK;
}

/* ---- commands --------------------------------------------------------------- */

static int cmd_simple(struct cli *c, int argc, char **argv, enum xgw_op op)
{
    int rc = no_more(argc, argv, 1);
    if (rc)
        return rc;
    struct xgw_call call = {0};
    return run_call(c, op, &call);
}

static int cmd_time(struct cli *c, int argc, char **argv) { return cmd_simple(c, argc, argv, XGW_OP_TIME); }
static int cmd_markets(struct cli *c, int argc, char **argv) { return cmd_simple(c, argc, argv, XGW_OP_MARKETS); }
static int cmd_balances(struct cli *c, int argc, char **argv) { return cmd_simple(c, argc, argv, XGW_OP_BALANCES); }
static int cmd_positions(struct cli *c, int argc, char **argv)
{
    return cmd_simple(c, argc, argv, XGW_OP_POSITIONS);
}

static int cmd_ticker(struct cli *c, int argc, char **argv)
{
    struct xgw_call call = {0};
    int i = 1;
    int rc = symbol_arg(argc, argv, &i, &call, true);
    rc = rc ? rc : no_more(argc, argv, i);
    return rc ? rc : run_call(c, XGW_OP_TICKER, &call);
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || s[0] == '-' || v > 100000)
        return false;
    *out = (uint32_t)v;
    return true;
}

static int cmd_depth(struct cli *c, int argc, char **argv)
{
    struct xgw_call call = {0};
    int i = 1;
    int rc = symbol_arg(argc, argv, &i, &call, true);
    if (rc)
        return rc;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
            if (!parse_u32(argv[++i], &call.limit) || call.limit == 0)
                return cli_usage_error("--limit needs a positive number, not \"%s\"", argv[i]);
        } else {
            return cli_usage_error("unexpected argument \"%s\"; see xgw depth --help", argv[i]);
        }
    }
    return run_call(c, XGW_OP_DEPTH, &call);
}

static int parse_dec_arg(const char *what, const char *s, xgw_dec *out)
{
    if (xgw_dec_parse_cstr(s, out) != XGW_DEC_OK)
        return cli_usage_error("%s \"%s\" is not a decimal number", what, s);
    if (xgw_dec_sign(*out) <= 0)
        return cli_usage_error("%s must be positive, not \"%s\"", what, s);
    return CLI_OK;
}

static int order_place(struct cli *c, int argc, char **argv)
{
    /* argv: place SYMBOL buy|sell limit|market QTY [PRICE] [options] */
    struct xgw_call call = {0};
    struct xgw_order_req *o = &call.order;
    o->price = xgw_dec_none();
    int i = 1;
    if (argc - i < 4)
        return cli_usage_error("order place needs SYMBOL buy|sell limit|market QTY [PRICE]");
    if (!copy_arg(o->symbol, sizeof o->symbol, argv[i++]))
        return cli_usage_error("symbol is empty or too long");
    const char *side = argv[i++], *type = argv[i++];
    if (!strcmp(side, "buy"))
        o->side = XGW_SIDE_BUY;
    else if (!strcmp(side, "sell"))
        o->side = XGW_SIDE_SELL;
    else
        return cli_usage_error("side must be buy or sell, not \"%s\"", side);
    if (!strcmp(type, "limit"))
        o->type = XGW_TYPE_LIMIT;
    else if (!strcmp(type, "market"))
        o->type = XGW_TYPE_MARKET;
    else
        return cli_usage_error("type must be limit or market, not \"%s\"", type);
    int rc = parse_dec_arg("QTY", argv[i++], &o->qty);
    if (rc)
        return rc;
    if (i < argc && argv[i][0] != '-') {
        rc = parse_dec_arg("PRICE", argv[i++], &o->price);
        if (rc)
            return rc;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--reduce-only")) {
            o->reduce_only = true;
        } else if (!strcmp(a, "--tif") && i + 1 < argc) {
            const char *t = argv[++i];
            if (!strcmp(t, "gtc"))
                o->tif = XGW_TIF_GTC;
            else if (!strcmp(t, "ioc"))
                o->tif = XGW_TIF_IOC;
            else if (!strcmp(t, "fok"))
                o->tif = XGW_TIF_FOK;
            else if (!strcmp(t, "post_only"))
                o->tif = XGW_TIF_POST_ONLY;
            else
                return cli_usage_error("--tif must be gtc, ioc, fok or post_only, not \"%s\"", t);
        } else if (!strcmp(a, "--client-id") && i + 1 < argc) {
            if (!copy_arg(o->client_id, sizeof o->client_id, argv[++i]))
                return cli_usage_error("--client-id is empty or too long");
        } else {
            return cli_usage_error("unexpected argument \"%s\"; see xgw order --help", a);
        }
    }
    if (o->type == XGW_TYPE_LIMIT && xgw_dec_is_none(o->price))
        return cli_usage_error("a limit order needs a PRICE");
    if (o->type == XGW_TYPE_MARKET && !xgw_dec_is_none(o->price))
        return cli_usage_error("a market order takes no PRICE");
    return run_call(c, XGW_OP_PLACE, &call);
}

static int order_by_id(struct cli *c, int argc, char **argv, enum xgw_op op)
{
    /* argv: cancel|get SYMBOL --id ID | --client-id ID */
    struct xgw_call call = {0};
    int i = 1;
    int rc = symbol_arg(argc, argv, &i, &call, true);
    if (rc)
        return rc;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--id") && i + 1 < argc) {
            if (!copy_arg(call.order_id, sizeof call.order_id, argv[++i]))
                return cli_usage_error("--id is empty or too long");
        } else if (!strcmp(argv[i], "--client-id") && i + 1 < argc) {
            if (!copy_arg(call.client_id, sizeof call.client_id, argv[++i]))
                return cli_usage_error("--client-id is empty or too long");
        } else {
            return cli_usage_error("unexpected argument \"%s\"; see xgw order --help", argv[i]);
        }
    }
    if (!call.order_id[0] == !call.client_id[0])
        return cli_usage_error("give exactly one of --id ID or --client-id ID");
    return run_call(c, op, &call);
}

static int cmd_order(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("order needs place, cancel or get; see xgw order --help");
    if (!strcmp(argv[1], "place"))
        return order_place(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "cancel"))
        return order_by_id(c, argc - 1, argv + 1, XGW_OP_CANCEL);
    if (!strcmp(argv[1], "get"))
        return order_by_id(c, argc - 1, argv + 1, XGW_OP_GET_ORDER);
    return cli_usage_error("unknown order command \"%s\" (place, cancel, get)", argv[1]);
}

static int cmd_orders(struct cli *c, int argc, char **argv)
{
    struct xgw_call call = {0};
    int i = 1;
    int rc = symbol_arg(argc, argv, &i, &call, false);
    rc = rc ? rc : no_more(argc, argv, i);
    return rc ? rc : run_call(c, XGW_OP_OPEN_ORDERS, &call);
}

const struct cli_command cli_cmds_request[] = {
    {"time", "", "Server time and the local clock's offset (server - local, round-trip midpoint).\n"
                 "Prints {\"exchange\",\"server_time_ms\",\"local_offset_ms\",\"endpoint\"}.",
     cmd_time},
    {"markets", "", "Every market's rules, one line each:\n"
                    "{\"exchange\",\"symbol\",\"base\",\"quote\",\"tick_size\",\"step_size\",\"min_qty\","
                    "\"min_notional\",\"status\"}.",
     cmd_markets},
    {"ticker", "SYMBOL", "Best bid/ask and last price: {\"exchange\",\"symbol\",\"last\",\"bid\",\"ask\",\"ts\"};\n"
                         "fields the exchange does not give are null.",
     cmd_ticker},
    {"depth", "SYMBOL [--limit N]", "Order book snapshot:\n"
                                    "{\"exchange\",\"symbol\",\"seq\",\"bids\":[[price,qty],...],\"asks\":[...]}.",
     cmd_depth},
    {"balances", "", "Balances, one line per asset: {\"exchange\",\"asset\",\"total\",\"available\"}.", cmd_balances},
    {"positions", "", "Open (non-zero) positions, one line each:\n"
                      "{\"exchange\",\"symbol\",\"side\",\"size\",\"entry_price\",\"mark_price\","
                      "\"unrealized_pnl\",\"leverage\"}.",
     cmd_positions},
    {"order",
     "place SYMBOL buy|sell limit|market QTY [PRICE] [--tif gtc|ioc|fok|post_only] [--reduce-only] "
     "[--client-id ID] | cancel SYMBOL --id ID|--client-id ID | get SYMBOL --id ID|--client-id ID",
     "Place, cancel or look up an order. Prints the order:\n"
     "{\"exchange\",\"symbol\",\"order_id\",\"client_id\",\"status\",\"side\",\"type\",\"price\",\"qty\","
     "\"filled_qty\",\"avg_price\"}.\n"
     "A client id in the exchange's format is generated when none is given.",
     cmd_order},
    {"orders", "[SYMBOL]", "Open orders (of SYMBOL, or all), one order object per line.", cmd_orders},
    {0},
};
