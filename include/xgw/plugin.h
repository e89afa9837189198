/*
 * xgw/plugin.h — the whole contract between the xgw core and an exchange
 * plugin. ABI version 2 (2: struct xgw_ws_sub gained `part`).
 *
 * A plugin is a shared object <name>.so that exports exactly one symbol,
 *
 *     const struct xgw_plugin *xgw_plugin_entry(void);
 *
 * which returns a pointer to a static const descriptor and does nothing else
 * (no global initialisation: it runs before the loader has validated it).
 * The core calls the plugin only through the descriptor, and the plugin calls
 * the core only through the struct xgw_core_api table it is handed: plugins
 * are linked with -z defs and a version script exporting only the entry.
 *
 * Threading: every plugin callback is called from the gateway's I/O thread,
 * one at a time per instance. Instances of one plugin may run concurrently
 * only if several gateways are open in one process, so all state must hang
 * off the `self` returned by create().
 *
 * Ownership: pointers passed to a plugin are borrowed for the duration of
 * the call. Output goes into core-owned buffers (struct xgw_buf, appended to
 * with core->buf_*) or through core->emit() into a core-owned sink. The
 * plugin frees only what it allocated itself.
 *
 * Errors: every fallible callback returns enum xgw_err_kind (XGW_OK = 0) and
 * describes failures with core->set_error(), which bounds, escapes and scrubs
 * secrets from the message.
 *
 * Growth: members are only ever appended; the loader never reads a member
 * past the plugin's struct_size.
 */
#ifndef XGW_PLUGIN_H
#define XGW_PLUGIN_H

#include <stdarg.h>
#include "xgw/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XGW_PLUGIN_ABI_VERSION 2u
#define XGW_PLUGIN_ENTRY "xgw_plugin_entry"

struct xgw_inst_ctx; /* the core's side of one exchange instance (opaque) */
struct xgw_sink;     /* a core-owned collector of records (opaque) */
struct xgw_response; /* one HTTP answer (opaque; see the response accessors) */

enum xgw_log_level { XGW_LOG_ERROR = 0, XGW_LOG_WARN, XGW_LOG_INFO, XGW_LOG_DEBUG };

/* ------------------------------------------------------------------------ */
/* Records a plugin emits while parsing                                      */
/* ------------------------------------------------------------------------ */

enum xgw_rec {
    XGW_REC_TIME = 1,  /* const int64_t *: server time, unix ms */
    XGW_REC_MARKET,    /* const struct xgw_market * */
    XGW_REC_TICKER,    /* const struct xgw_ticker * */
    XGW_REC_BOOK,      /* const struct xgw_book_info *: starts a book; levels follow */
    XGW_REC_BID,       /* const struct xgw_level *: best first */
    XGW_REC_ASK,       /* const struct xgw_level *: best first */
    XGW_REC_BALANCE,   /* const struct xgw_balance * */
    XGW_REC_POSITION,  /* const struct xgw_position * */
    XGW_REC_ORDER,     /* const struct xgw_order * */
    XGW_REC_TRADE,     /* const struct xgw_trade * */
    XGW_REC_RL_USAGE,  /* const struct xgw_rl_usage *: usage the exchange reported */
    XGW_REC_TOKEN,     /* const char *: private-stream token (Binance listenKey) */
    XGW_REC_WS_ACK,    /* const struct xgw_ws_ack *: answer to a subscribe/login */
    XGW_REC_WS_PONG,   /* NULL: the server answered our heartbeat */
    XGW_REC_WS_REAUTH, /* NULL: the private token expired (listenKeyExpired) */
    XGW_REC__COUNT
};

/* Reported after each answer from the exchange's usage headers/fields. */
struct xgw_rl_usage {
    uint32_t bucket; /* index into the plugin's buckets[] */
    uint64_t used;   /* units used in the current window, as the exchange counts */
};

struct xgw_ws_ack {
    uint64_t id; /* the id passed to ws_sub_msg/ws_login_msg, 0 if the exchange echoes none */
    bool ok;
    char message[128];
};

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */
/* ------------------------------------------------------------------------ */

enum xgw_http_method { XGW_HTTP_GET = 0, XGW_HTTP_POST, XGW_HTTP_PUT, XGW_HTTP_DELETE };

/* Filled by build(). The core owns the buffers, resets them (len = 0) before
 * each build, and reuses their memory across requests. */
struct xgw_request {
    enum xgw_http_method method;
    struct xgw_buf target;  /* path plus "?query" exactly as sent, e.g. "/fapi/v1/time" */
    struct xgw_buf body;    /* exact bytes sent (empty for none) */
    struct xgw_buf headers; /* "Name: value\n" lines; the core adds Host, User-Agent, Accept */
    bool sensitive;         /* contains credentials: never logged in full */
};

/* ------------------------------------------------------------------------ */
/* Static facts a plugin declares                                            */
/* ------------------------------------------------------------------------ */

/* Default endpoints of one network ("mainnet", "testnet"). Base URLs with no
 * trailing slash: "https://fapi.binance.com", "wss://fstream.binance.com". */
struct xgw_network {
    const char *name;
    const char *const *rest;
    size_t n_rest;
    const char *const *ws;      /* public/market streams */
    size_t n_ws;
    const char *const *ws_private; /* private streams, when separate (else NULL, 0) */
    size_t n_ws_private;
};

enum xgw_cfg_type { XGW_CFG_STRING = 0, XGW_CFG_INT, XGW_CFG_BOOL, XGW_CFG_DECIMAL };

/* A configuration key of the plugin's own (besides the core's keys). The
 * same table feeds validation, `xgw --help` and the README. */
struct xgw_cfg_key {
    const char *name;
    enum xgw_cfg_type type;
    const char *def;  /* default as text, NULL = no default (unset) */
    int64_t min, max; /* INT range (inclusive); ignored otherwise */
    bool secret;      /* never printed; a <name>_file variant is accepted too */
    const char *help;
};

/* A rate-limit bucket: `limit` units per `interval_ms`, as the exchange counts. */
struct xgw_rl_bucket {
    const char *name;   /* "request_weight_1m", "orders_10s", ... */
    uint64_t limit;
    uint32_t interval_ms;
    bool orders_only;   /* counts only order placement (for reporting) */
};

/* Stream facts used by the core's stream manager. */
enum xgw_book_model {
    XGW_BOOK_NONE = 0,     /* no book stream */
    XGW_BOOK_SNAPSHOTS,    /* every message replaces the book; no gap detection possible */
    XGW_BOOK_DIFFS,        /* REST snapshot + diffs with first_seq/seq/prev_seq */
};

struct xgw_ws_info {
    uint32_t max_subs_per_conn;   /* 0 = no limit */
    uint32_t max_msgs_per_sec;    /* client -> server messages per second */
    uint32_t ping_interval_ms;    /* client heartbeat period, 0 = server pings */
    uint32_t max_lifetime_s;      /* the exchange cuts connections after this, 0 = none */
    uint32_t token_keepalive_s;   /* WS_TOKEN_KEEPALIVE period, 0 = none */
    enum xgw_book_model book_model;
    bool private_needs_token;     /* private streams need XGW_OP_WS_TOKEN first */
    bool private_needs_login;     /* private streams need ws_login_msg after connect */
};

/* ------------------------------------------------------------------------ */
/* Core services handed to plugins                                           */
/* ------------------------------------------------------------------------ */

struct xgw_core_api {
    uint32_t abi_version; /* XGW_PLUGIN_ABI_VERSION */
    uint32_t struct_size;

    /* Logging, attributed to the instance. Known secrets are redacted. */
    void (*log)(struct xgw_inst_ctx *ctx, enum xgw_log_level level, const char *fmt, ...) XGW_PRINTF(3, 4);

    /* Configuration of this instance: the value of a core key ("api_key",
     * "api_secret", "network", "recv_window_ms", ...) or of one of the
     * plugin's declared keys, with defaults applied and secret files read.
     * NULL when unset. Borrowed until the instance is destroyed. */
    const char *(*cfg)(struct xgw_inst_ctx *ctx, const char *key);
    int64_t (*cfg_int)(struct xgw_inst_ctx *ctx, const char *key, int64_t fallback);

    /* Clock: now_ms is local time corrected by the measured offset to the
     * exchange's clock (use it for signed timestamps); local_ms is the plain
     * local wall clock. */
    int64_t (*now_ms)(struct xgw_inst_ctx *ctx);
    int64_t (*local_ms)(void);

    /* Buffers. Each returns 0 or XGW_ERR_INTERNAL (out of memory). */
    int (*buf_append)(struct xgw_buf *b, const void *data, size_t len);
    int (*buf_printf)(struct xgw_buf *b, const char *fmt, ...) XGW_PRINTF(2, 3);
    /* Append s percent-encoded (RFC 3986 unreserved characters kept). */
    int (*buf_urlencode)(struct xgw_buf *b, const char *s, size_t len);
    /* Append a decimal exactly as formatted by xgw_dec_format. */
    int (*buf_dec)(struct xgw_buf *b, xgw_dec d);
    /* Append s as a JSON string literal (quotes and escapes included). */
    int (*buf_json_str)(struct xgw_buf *b, const char *s, size_t len);

    /* Crypto: thin wrappers over OpenSSL 3. */
    void (*hmac_sha256)(const void *key, size_t key_len, const void *msg, size_t len, uint8_t out[32]);
    void (*sha256)(const void *msg, size_t len, uint8_t out[32]);
    void (*hex_lower)(const uint8_t *in, size_t n, char *out); /* writes 2n chars + NUL */
    int (*random_bytes)(void *out, size_t n);                   /* CSPRNG; 0 ok */
    void (*secure_zero)(void *p, size_t n);

    /* Exact decimals (same contracts as xgw_dec_* in types.h). */
    int (*dec_parse)(const char *s, size_t len, xgw_dec *out);
    size_t (*dec_format)(xgw_dec d, char *buf, size_t cap);
    int (*dec_cmp)(xgw_dec a, xgw_dec b);
    int (*dec_add)(xgw_dec a, xgw_dec b, xgw_dec *out);
    int (*dec_sub)(xgw_dec a, xgw_dec b, xgw_dec *out);
    int (*dec_mul)(xgw_dec a, xgw_dec b, xgw_dec *out);
    int (*dec_round_to)(xgw_dec a, xgw_dec step, enum xgw_round mode, xgw_dec *out);
    int (*dec_rescale)(xgw_dec a, int32_t scale, enum xgw_round mode, xgw_dec *out);
    xgw_dec (*dec_normalize)(xgw_dec a);
    int (*dec_sig_digits)(xgw_dec a);

    /* Results: hand one record to the sink (copied; rec is borrowed).
     * Returns 0 or XGW_ERR_INTERNAL. */
    int (*emit)(struct xgw_sink *sink, enum xgw_rec type, const void *rec);

    /* Response accessors. header() matches the name case-insensitively and
     * returns the first value (not NUL-terminated; *len set) or NULL. */
    int (*resp_status)(const struct xgw_response *r);
    const char *(*resp_body)(const struct xgw_response *r, size_t *len);
    const char *(*resp_header)(const struct xgw_response *r, const char *name, size_t *len);

    /* Describe an error. The message is bounded, escaped and scrubbed of
     * every secret of the instance. code is the exchange's own code (0 none).
     * Returns kind so that `return core->set_error(...)` reads naturally. */
    int (*set_error)(struct xgw_error *err, enum xgw_err_kind kind, int64_t code, const char *fmt, ...)
        XGW_PRINTF(4, 5);

    /* Look up a market from the instance's cache (filled from XGW_OP_MARKETS
     * results, which the core refreshes). Returns false when unknown. The
     * market is copied into *out. */
    bool (*market)(struct xgw_inst_ctx *ctx, const char *symbol, struct xgw_market *out);
};

/* ------------------------------------------------------------------------ */
/* The plugin descriptor                                                     */
/* ------------------------------------------------------------------------ */

struct xgw_plugin {
    uint32_t abi_version; /* XGW_PLUGIN_ABI_VERSION: checked exactly */
    uint32_t struct_size; /* sizeof(struct xgw_plugin) as the plugin was built */
    const char *name;     /* must equal the file's basename without ".so" */
    const char *version;  /* the plugin's own version, e.g. "0.1.0" */
    const char *description;

    const struct xgw_network *networks; /* the first is the default network */
    size_t n_networks;
    const struct xgw_cfg_key *keys; /* plugin-specific config keys */
    size_t n_keys;
    const struct xgw_rl_bucket *buckets;
    size_t n_buckets;
    struct xgw_ws_info ws;

    /* Create an instance. ctx is the core's handle for this instance, valid
     * until destroy() returns; pass it to core services. NULL + err on
     * failure (e.g. a missing or malformed key). Mandatory. */
    void *(*create)(const struct xgw_core_api *core, struct xgw_inst_ctx *ctx, struct xgw_error *err);
    /* Destroy an instance; wipe key material. Mandatory. */
    void (*destroy)(void *self);

    /* Generate a client order id in the exchange's allowed format into out
     * (cap >= XGW_ID_MAX). Mandatory. */
    int (*client_id)(void *self, char *out, size_t cap);

    /* Build (and sign, when the operation needs it) the request for op into
     * req. Returns XGW_OK, XGW_ERR_UNSUPPORTED, or e.g. INVALID_REQUEST for
     * an order that fails the market's filters. Mandatory. */
    int (*build)(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
                 struct xgw_error *err);

    /* Parse the answer to a request built for op: emit the neutral records
     * into out, usage into XGW_REC_RL_USAGE, and return XGW_OK; or classify
     * the failure (whatever the HTTP status) and return its kind. For
     * RATE_LIMITED and BANNED set err->retry_after_ms / until_ms. Called for
     * every answer that arrived, including 4xx/5xx. Mandatory. */
    int (*parse)(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
                 struct xgw_sink *out, struct xgw_error *err);

    /* Cost of op in each bucket: costs[i] for buckets[i] (pre-zeroed). */
    void (*cost)(void *self, enum xgw_op op, const struct xgw_call *call, uint32_t *costs);

    /* --- Streams (may be NULL when ws.book_model == NONE and no streams) --- */

    /* Path (and query) appended to a WS endpoint base URL for a new
     * connection: e.g. "/stream" or "/ws/<listenKey>". private_ selects the
     * account stream; token is the XGW_OP_WS_TOKEN result or NULL. */
    int (*ws_path)(void *self, bool private_, const char *token, struct xgw_buf *out, struct xgw_error *err);
    /* The message that (un)subscribes subs[0..n) on one connection; id is
     * the core's request id, echoed in XGW_REC_WS_ACK. Leaves out empty when
     * the exchange needs no message (subscriptions in the URL). */
    int (*ws_sub_msg)(void *self, bool subscribe, const struct xgw_ws_sub *subs, size_t n, uint64_t id,
                      struct xgw_buf *out, struct xgw_error *err);
    /* Login message for private streams (empty when none is needed). */
    int (*ws_login_msg)(void *self, uint64_t id, struct xgw_buf *out, struct xgw_error *err);
    /* Application-level heartbeat (empty when the server pings). */
    int (*ws_ping_msg)(void *self, struct xgw_buf *out);
    /* Parse one text frame into records (ticker, trade, book + levels, order,
     * balance, position, ws ack, pong, reauth). Records of a subscription's
     * channel carry its symbol. Unknown-but-valid frames emit nothing. */
    int (*ws_parse)(void *self, const char *frame, size_t len, struct xgw_sink *out, struct xgw_error *err);

    /* --- Appended members (read only when struct_size covers them) --- */

    /* Optional (NULL = every public subscription may share a connection).
     * Exchanges that split streams over several paths of one host (Binance
     * since 2026: /public for book and best bid/ask, /market for trades and
     * tickers) write the route a public subscription needs into out, as a
     * path prefix put between the WS base URL and ws_path's result
     * ("/public"), or leave out empty. Subscriptions whose routes differ
     * never share a connection. */
    int (*ws_route)(void *self, const struct xgw_ws_sub *sub, struct xgw_buf *out, struct xgw_error *err);

    /* Optional (NULL = every op is one request). How many requests op
     * takes, when the exchange spreads its answer over several endpoints
     * (Binance: best bid/ask and last price). The core sends them one after
     * the other, each built and parsed with call->step = 0, 1, ...; costs are
     * asked per step. Only TICKER results are combined: fields a step leaves
     * NONE are filled from the next step's ticker. At most 4 steps. */
    unsigned (*steps)(void *self, enum xgw_op op, const struct xgw_call *call);

    /* Subscriptions one ws_sub_msg call may carry (0 = no limit beyond the
     * core's own chunking). Hyperliquid takes exactly one per message. */
    uint32_t ws_max_subs_per_msg;

    /* Exchange streams one neutral TICKER subscription is made of (0 or 1 =
     * one). Binance sends best bid/ask (@bookTicker, on /public) and the
     * last price (@ticker, on /market) on separate streams: with 2, the core
     * subscribes each symbol twice, with xgw_ws_sub.part 0 and 1 (ws_route
     * and ws_sub_msg pick the stream by it), and merges the partial tickers
     * it receives per symbol: fields a frame leaves NONE keep their last
     * value, and every frame delivers the merged ticker once it has a best
     * bid and ask (it starts over after a gap). At most 4. */
    uint32_t ws_ticker_parts;
};

typedef const struct xgw_plugin *(*xgw_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* XGW_PLUGIN_H */
