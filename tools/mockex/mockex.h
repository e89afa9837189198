/*
 * mockex.h — internal interface of xgw-mockex, the local mock exchange.
 *
 * The mock is one process, one thread: libwebsockets' default event loop
 * calls everything below (HTTP requests, WebSocket frames, timers). Nothing
 * here is thread-safe and nothing needs to be.
 *
 * Layers:
 *   server.c   libwebsockets glue: listeners, TLS, HTTP/1.1 + HTTP/2 + WS,
 *              routing by path to an exchange module, fault injection,
 *              the control API (/_mock/...), counters.
 *   market.c   deterministic market generator shared by all modules.
 *   account.c  accounts (credentials, balances, positions, orders) and the
 *              matching of resting orders against the generated market.
 *   fault.c    the fault table (what to break, how often, counted exactly).
 *   util.c     buffers, JSON/decimal formatting, query parsing, RNG, clock.
 *   <exchange>.c  one module per exchange (binance.c, bitunix.c,
 *              hyperliquid.c), each exporting one `const struct mx_module`.
 *
 * Writing a module (bitunix.c, hyperliquid.c):
 *   - define `const struct mx_module mx_module_<name>` (see struct mx_module)
 *     and add it to the table in server.c (mx_modules[]);
 *   - claim your paths in claims_http/claims_ws (a request may also force a
 *     module with a "/<name>" path prefix, e.g. /hyperliquid/ws, which the
 *     server strips before calling you);
 *   - answer REST in http(): fill resp->status, resp->body (and headers with
 *     mx_resp_header); the server adds Content-Type/Length, applies faults;
 *   - error_body() renders the exchange's own error shape; the server uses it
 *     for 404s, injected HTTP statuses and oversized requests;
 *   - market data: mx_market_*(); orders/balances: mx_acct_*() — fills are
 *     reported back to the owning module through on_order();
 *   - WS: accept in ws_open(), get frames in ws_message(), push with
 *     mx_ws_send(); sequenced pushes should call mx_fault_ws_gap() first;
 *   - count what tests assert with mx_count() (shown by GET /_mock/state).
 * All pointers passed to a module are borrowed for the duration of the call
 * unless stated otherwise.
 */
#ifndef XGW_MOCKEX_H
#define XGW_MOCKEX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define MX_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MX_PRINTF(f, a)
#endif

/* ------------------------------------------------------------------------ */
/* Buffers and formatting (util.c)                                          */
/* ------------------------------------------------------------------------ */

/* Growable byte buffer, always NUL-terminated when p != NULL. Allocation
 * failure aborts the process: the mock is a test tool, not a library. */
struct mx_buf {
    char *p;
    size_t len, cap;
};
/* Copy src into dst[cap], truncating; dst is always NUL-terminated. */
void mx_copy(char *dst, size_t cap, const char *src);
void mx_buf_put(struct mx_buf *b, const void *data, size_t len);
void mx_buf_puts(struct mx_buf *b, const char *s);
void mx_buf_printf(struct mx_buf *b, const char *fmt, ...) MX_PRINTF(2, 3);
/* Appends s as a JSON string literal (quotes and escapes included). */
void mx_buf_json_str(struct mx_buf *b, const char *s);
/* Appends units * 10^-scale as a decimal with exactly `scale` decimals,
 * e.g. (650001, 1) -> "65000.1"; optionally quoted (JSON string). */
void mx_buf_dec(struct mx_buf *b, int64_t units, int scale, int quoted);
void mx_buf_reset(struct mx_buf *b); /* len = 0, keeps memory */
void mx_buf_free(struct mx_buf *b);

/* Formats units * 10^-scale into out (cap >= 32); returns out. */
char *mx_fmt_dec(char *out, size_t cap, int64_t units, int scale);
/* Parses a plain decimal ("12", "0.001", "-3.5") into units at `scale`.
 * Returns 0 on success, -1 if malformed, -2 if it has more decimals than
 * `scale` (after dropping trailing zeros), -3 on overflow. */
int mx_parse_dec(const char *s, size_t len, int scale, int64_t *units);

/* Wall clock in ms since the epoch (not offset by faults). */
int64_t mx_wall_ms(void);
/* Monotonic clock in ms. */
int64_t mx_mono_ms(void);

/* Deterministic PRNG (splitmix64). */
uint64_t mx_rng_next(uint64_t *state);
/* Uniform integer in [lo, hi]. */
int64_t mx_rng_range(uint64_t *state, int64_t lo, int64_t hi);

/* HMAC-SHA256 of msg with key, as 64 lowercase hex chars + NUL in hex. */
void mx_hmac_sha256_hex(const void *key, size_t klen, const void *msg, size_t mlen,
                        char hex[65]);

/* Query/form parameters: finds `key` in an x-www-form-urlencoded string
 * (raw, as on the wire) and percent-decodes its value into out ('+' is a
 * space). Returns the decoded length, or -1 if absent, -2 if it does not fit. */
int mx_form_get(const char *form, size_t len, const char *key, char *out, size_t cap);
/* The byte a "%XX" escape at p (with end - p bytes readable) stands for, or
 * -1 when p does not start one. */
int mx_pct_byte(const char *p, const char *end);

/* ------------------------------------------------------------------------ */
/* Server services for modules (server.c)                                   */
/* ------------------------------------------------------------------------ */

struct mx_server;
struct mx_ws;

/* Options parsed from the command line, readable by modules. */
struct mx_opts {
    uint64_t seed;
    int tick_ms;              /* market step interval */
    int bench;                /* --bench: cached answers, no rate limits */
    int verbose;              /* per-request log lines on stderr */
    int ws_flood;             /* --ws-flood: push frames as fast as read */
    int http2;                /* --http2: offer h2 by ALPN (see README: lws 4.1.6 drops
                                 non-standard request headers on h2) */
    int64_t weight_limit;     /* Binance REQUEST_WEIGHT per minute (0 = off) */
    int64_t listenkey_ttl_ms; /* Binance listenKey lifetime */
    int64_t ws_ping_ms;       /* server ping interval on WS (Binance) */
    int64_t ws_lifetime_ms;   /* Binance: close WS connections this old (the 24 h cut), 0 = never */
    int64_t ws_idle_ms;       /* client-ping timeout of modules that require client pings
                                 (Bitunix, Hyperliquid): close after this long without one;
                                 0 = module default */
};
const struct mx_opts *mx_opts(const struct mx_server *srv);

/* The clock an exchange module must use for server time and timestamp
 * checks: wall clock + the clock_offset fault for that exchange. */
int64_t mx_clock_ms(struct mx_server *srv, const char *exchange);

/* Adds delta to the counter `name` of `exchange` ("binance", ...); shown in
 * GET /_mock/state under counters.<exchange>.<name>. name is copied. */
void mx_count(struct mx_server *srv, const char *exchange, const char *name, int64_t delta);
int64_t mx_counter(struct mx_server *srv, const char *exchange, const char *name);

/* Returns the module instance of another exchange (or NULL). */
void *mx_module_self(struct mx_server *srv, const char *exchange);

/* ------------------------------------------------------------------------ */
/* HTTP requests and responses                                              */
/* ------------------------------------------------------------------------ */

struct mx_req {
    const char *method; /* "GET", "POST", "PUT", "DELETE", ... */
    const char *path;   /* decoded path without the query, e.g. "/fapi/v1/order" */
    /* The query string after '?', without it, "" when none. libwebsockets
     * percent-decodes the URI before the application sees it, so this is the
     * CANONICAL re-encoding of what arrived: RFC 3986 unreserved bytes as is,
     * everything else %XX (upper case). A client that encodes that way (curl's
     * curl_easy_escape does) gets its exact bytes back. */
    const char *query;
    size_t query_len;
    const char *body; /* raw body bytes (NUL-terminated copy), "" when none */
    size_t body_len;
    const char *peer; /* peer IP as text */
    int port;         /* the local port the request arrived on */
    int http2;        /* 1 when it came over HTTP/2 */
    /* Only the headers a module listed in mx_module.headers (plus
     * content-type) are kept; names are lower case. */
    int nhdr;
    const char *hdr_name[16];
    const char *hdr_val[16];
};
/* Value of header `lname` (lower case), or NULL. */
const char *mx_req_header(const struct mx_req *r, const char *lname);

struct mx_resp {
    int status;          /* default 200 */
    struct mx_buf body;  /* default empty */
    struct mx_buf hdrs;  /* "name\0value\0" pairs; use mx_resp_header */
    const char *content_type; /* default "application/json" */
};
/* Adds a response header (name lower case, no colon); both copied. */
void mx_resp_header(struct mx_resp *r, const char *name, const char *value);

/* ------------------------------------------------------------------------ */
/* WebSocket connections                                                    */
/* ------------------------------------------------------------------------ */

/* Queues one text frame (copied). Returns 0, or -1 when the connection is
 * closing, stalled by a fault, or its queue exceeds the slow-consumer limit
 * (the frame is dropped and counted as ws_dropped). */
int mx_ws_send(struct mx_ws *ws, const char *data, size_t len);
/* Closes after the queued frames are written (code e.g. 1000, reason may be NULL). */
void mx_ws_close(struct mx_ws *ws, int code, const char *reason);
/* A module-owned pointer per connection (NULL initially). */
void mx_ws_set_user(struct mx_ws *ws, void *user);
void *mx_ws_user(const struct mx_ws *ws);
int mx_ws_port(const struct mx_ws *ws);
/* Number of frames queued and not yet written. */
size_t mx_ws_queued(const struct mx_ws *ws);
/* Calls fn for every open WS connection of `exchange`. fn may send; it must
 * not close connections other than its argument. */
void mx_ws_foreach(struct mx_server *srv, const char *exchange,
                   void (*fn)(struct mx_ws *ws, void *arg), void *arg);
/* A module sending a sequenced message (depth diff, ...) asks first; when
 * this returns 1 a ws_gap fault applies: skip this one message so the
 * client sees a sequence gap. The hit is counted in the fault. */
int mx_fault_ws_gap(struct mx_server *srv, struct mx_ws *ws);

/* ------------------------------------------------------------------------ */
/* Market generator (market.c)                                              */
/* ------------------------------------------------------------------------ */

#define MX_BOOK_DEPTH 200 /* levels per side, contiguous ticks */
#define MX_MAX_INSTR 8

/* Prices are int64 "units" of 10^-price_scale where one unit is one tick;
 * quantities are units of 10^-qty_scale (one unit = one lot). */
struct mx_instr {
    int idx;
    char base[16];   /* "BTC" (Hyperliquid name) */
    char symbol[24]; /* "BTCUSDT" (Binance/Bitunix name) */
    int price_scale; /* BTC: 1 (tick 0.1), ETH: 2 (tick 0.01) */
    int qty_scale;   /* 3 (lot 0.001) */
    int64_t start_px;
    int64_t max_level_qty;
};

struct mx_level {
    int64_t px, qty; /* qty 0 = level removed (in diffs) */
};

/* The current book of one instrument: bids at best_bid - i, asks at
 * best_bid + 1 + i, i < MX_BOOK_DEPTH. update_id is the last update id
 * applied (Binance lastUpdateId / u). */
struct mx_book {
    int64_t best_bid;
    int64_t bid_qty[MX_BOOK_DEPTH];
    int64_t ask_qty[MX_BOOK_DEPTH];
    uint64_t update_id;
    int64_t time_ms; /* time of the last step */
    /* statistics since start (the mock's "24h") */
    int64_t open_px, high_px, low_px, last_px, last_qty;
    int64_t volume;       /* qty units */
    int64_t quote_volume; /* price units * qty units */
    uint64_t trade_id, first_trade_id;
};

/* One generator step of one instrument: the diff that leads from the
 * previous book to the current one, with ids first_id..last_id and
 * prev_id = last id of the previous step (Binance U, u, pu). */
struct mx_step {
    const struct mx_instr *ins;
    uint64_t first_id, last_id, prev_id;
    int64_t time_ms;
    int nbids, nasks;
    struct mx_level bids[2 * MX_BOOK_DEPTH + 8];
    struct mx_level asks[2 * MX_BOOK_DEPTH + 8];
    int has_trade;
    int64_t trade_px, trade_qty;
    int trade_buyer_maker; /* 1: a seller hit the bid */
    uint64_t trade_id;
};

struct mx_market;
int mx_market_count(const struct mx_market *m);
const struct mx_instr *mx_market_instr(const struct mx_market *m, int idx);
/* Finds an instrument by symbol ("BTCUSDT", case-insensitive) or base ("BTC"). */
const struct mx_instr *mx_market_find(const struct mx_market *m, const char *name);
const struct mx_book *mx_market_book(const struct mx_market *m, int idx);
struct mx_market *mx_market_of(struct mx_server *srv);
/* Best bid / ask of an instrument (price units). */
int64_t mx_book_bid(const struct mx_book *b);
int64_t mx_book_ask(const struct mx_book *b);

/* ------------------------------------------------------------------------ */
/* Accounts (account.c)                                                     */
/* ------------------------------------------------------------------------ */

enum mx_ord_type { MX_LIMIT = 0, MX_MARKET = 1 };
enum mx_tif { MX_GTC = 0, MX_IOC, MX_FOK, MX_GTX };
enum mx_ord_status { MX_NEW = 0, MX_PARTIALLY_FILLED, MX_FILLED, MX_CANCELED, MX_EXPIRED };

struct mx_order {
    uint64_t id;
    char client_id[48];
    int instr;
    int side; /* +1 buy, -1 sell */
    enum mx_ord_type type;
    enum mx_tif tif;
    int64_t price; /* price units; 0 for MARKET */
    int64_t qty, filled;
    int64_t cum_quote_e8; /* sum of fill notional in 1e-8 quote units */
    int64_t last_px, last_qty; /* last fill */
    int last_maker;
    uint64_t last_trade_id;
    int64_t last_fee_e8, last_realized_e8;
    enum mx_ord_status status;
    int reduce_only;
    int64_t created_ms, updated_ms;
    struct mx_order *next;
};

struct mx_position {
    int64_t amt;         /* signed qty units */
    int64_t cost_e8;     /* |amt| * entry price, 1e-8 quote units */
    int64_t realized_e8; /* accumulated realized PnL */
};

#define MX_KEY_MAX 160
struct mx_account {
    char exchange[16];
    char name[32];
    char api_key[MX_KEY_MAX];  /* Binance/Bitunix API key; HL: address 0x... (lower case) */
    char secret[MX_KEY_MAX];   /* Binance/Bitunix secret; HL: private key 0x... */
    int64_t wallet_e8;         /* USDT/USDC wallet balance, 1e-8 units */
    int64_t initial_wallet_e8;
    struct mx_position pos[MX_MAX_INSTR];
    struct mx_order *open; /* open orders, newest first */
    struct mx_order *done; /* finished orders (bounded history) */
    int ndone;
    void *module_data; /* owned by the exchange module (listenKey, ...) */
    struct mx_account *next;
};

/* Finds the account of `exchange` whose api_key (HL: address, case-
 * insensitive) is `key`; NULL if none. */
struct mx_account *mx_acct_find(struct mx_server *srv, const char *exchange, const char *key);
/* First account of an exchange (iteration: ->next, filter by exchange). */
struct mx_account *mx_acct_first(struct mx_server *srv);

/* Places an order (already validated by the module). The store assigns
 * id/timestamps, matches it against the current book (MARKET and marketable
 * LIMIT fill at once at the book's best price; GTX that would take is
 * rejected with -2; IOC/FOK remainders expire) and rests the rest.
 * Returns 0 (order copied into *out with its final state), -1 insufficient
 * margin, -2 post-only would take, -3 reduce-only would increase. Events
 * (NEW, TRADE, ...) are reported to the module's on_order hook. */
int mx_acct_place(struct mx_server *srv, struct mx_account *a, const struct mx_order *req,
                  struct mx_order *out);
/* Finds an order by id (when id != 0) or client id, open first, then done. */
struct mx_order *mx_acct_order(struct mx_account *a, int instr, uint64_t id, const char *client_id,
                               int *is_open);
/* Cancels an open order; returns 0 (order copied into *out) or -1 unknown. */
int mx_acct_cancel(struct mx_server *srv, struct mx_account *a, int instr, uint64_t id,
                   const char *client_id, struct mx_order *out);
/* Available balance (wallet + unrealized - margin of positions and open
 * orders at 20x), 1e-8 units. */
int64_t mx_acct_available_e8(struct mx_server *srv, const struct mx_account *a);
int64_t mx_acct_unrealized_e8(struct mx_server *srv, const struct mx_account *a, int instr);
/* Entry price of a position in 1e-8 quote units per 1 whole base unit. */
int64_t mx_pos_entry_e8(const struct mx_instr *ins, const struct mx_position *p);
/* Notional of px * qty in 1e-8 quote units. */
int64_t mx_notional_e8(const struct mx_instr *ins, int64_t px, int64_t qty);

/* ------------------------------------------------------------------------ */
/* Modules                                                                  */
/* ------------------------------------------------------------------------ */

enum mx_order_event {
    MX_EV_NEW = 0,  /* accepted and resting (or about to fill) */
    MX_EV_TRADE,    /* a fill: order->last_* describe it */
    MX_EV_CANCELED,
    MX_EV_EXPIRED,
};

struct mx_module {
    const char *name; /* "binance", "bitunix", "hyperliquid" */
    /* Request headers the module reads (lower case), NULL-terminated. */
    const char *const *headers;
    /* Creates the instance; NULL on failure (the mock then refuses to start). */
    void *(*create)(struct mx_server *srv);
    void (*destroy)(void *self);
    /* Nonzero when the (prefix-stripped) path belongs to this exchange. */
    int (*claims_http)(const char *path);
    int (*claims_ws)(const char *path);
    /* Answers one REST request. Called once per request, after faults that
     * act before processing. resp is pre-initialised (200, empty body). */
    void (*http)(void *self, const struct mx_req *req, struct mx_resp *resp);
    /* Renders the exchange's error shape for an HTTP status the mock produces
     * itself (404 unknown path, injected status, 413...). code/msg may be
     * 0/NULL: then the module picks its usual ones for that status. */
    void (*error_body)(void *self, int status, int code, const char *msg, struct mx_buf *out);
    /* WebSocket: accept (return 0) or refuse (nonzero: handshake fails). */
    int (*ws_open)(void *self, struct mx_ws *ws, const char *path, const char *query);
    void (*ws_message)(void *self, struct mx_ws *ws, const char *data, size_t len);
    void (*ws_close)(void *self, struct mx_ws *ws);
    /* Called after every market step (one mx_step per instrument). */
    void (*on_step)(void *self, const struct mx_step *st);
    /* Called every 100 ms with the wall clock (expiries, pings, ...). */
    void (*on_timer)(void *self, int64_t now_ms);
    /* Order events of this exchange's accounts (from mx_acct_*). */
    void (*on_order)(void *self, struct mx_account *a, const struct mx_order *o,
                     enum mx_order_event ev);
    /* Appends the module's own state as a JSON object (open orders, ...). */
    void (*state)(void *self, struct mx_buf *json);
    /* POST /_mock/reset: forget per-client state (rate limits, listenKeys). */
    void (*reset)(void *self);
    /* --ws-flood: renders the next small frame for a connection (optional;
     * NULL = the connection gets no flood). Return 0 and fill out. */
    int (*flood_frame)(void *self, struct mx_ws *ws, struct mx_buf *out);
};

extern const struct mx_module mx_module_binance;
extern const struct mx_module mx_module_bitunix;
extern const struct mx_module mx_module_hyperliquid;

#endif
