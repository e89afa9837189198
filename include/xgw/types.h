/*
 * xgw/types.h — the neutral data model shared by the core, the plugins and
 * embedding applications: exact decimals, errors, and the records that every
 * exchange's answers and stream frames are turned into.
 *
 * Only standard headers are included: this file is part of the plugin ABI.
 */
#ifndef XGW_TYPES_H
#define XGW_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define XGW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define XGW_EXPORT __attribute__((visibility("default")))
#else
#define XGW_PRINTF(f, a)
#define XGW_EXPORT
#endif

/* ------------------------------------------------------------------------ */
/* Exact decimals                                                            */
/* ------------------------------------------------------------------------ */

/*
 * value = mant * 10^-scale. Prices and quantities never pass through double.
 * scale is 0..XGW_DEC_MAX_SCALE; mant holds at most 18 significant digits.
 * Parsing keeps the scale as written ("97123.40" has scale 2), so formatting
 * gives back exactly the string the exchange sent.
 * A decimal with scale == XGW_DEC_NONE_SCALE is "absent" (a field the
 * exchange does not provide); XGW_DEC_NONE builds one, xgw_dec_is_none tests.
 */
typedef struct xgw_dec {
    int64_t mant;
    int32_t scale;
} xgw_dec;

#define XGW_DEC_MAX_SCALE 18
#define XGW_DEC_NONE_SCALE (-1)
/* Longest formatted decimal: sign, 19 digits, point, 18 leading zeros, NUL. */
#define XGW_DEC_STRLEN 48

static inline xgw_dec xgw_dec_none(void)
{
    xgw_dec d = {0, XGW_DEC_NONE_SCALE};
    return d;
}
static inline bool xgw_dec_is_none(xgw_dec d) { return d.scale == XGW_DEC_NONE_SCALE; }

enum xgw_dec_status {
    XGW_DEC_OK = 0,
    XGW_DEC_EINVAL,    /* malformed text: "", "1e5", "1.2.3", "NaN", "+", ".", "1." ... */
    XGW_DEC_EOVERFLOW, /* more than 18 significant digits, scale > 18, or arithmetic overflow */
};

/* Rounding modes for xgw_dec_round_to / xgw_dec_rescale. DOWN is toward
 * negative infinity (floor), UP toward positive infinity (ceil), NEAREST
 * rounds half away from zero. */
enum xgw_round { XGW_ROUND_DOWN = 0, XGW_ROUND_UP, XGW_ROUND_NEAREST };

/* Parse exactly len bytes of s (no surrounding spaces, optional leading '-',
 * digits with at most one '.', at least one digit on each side of '.').
 * "-0" parses to zero. */
XGW_EXPORT int xgw_dec_parse(const char *s, size_t len, xgw_dec *out);
/* Parse a NUL-terminated string. */
XGW_EXPORT int xgw_dec_parse_cstr(const char *s, xgw_dec *out);
/* Format with the decimal's own scale ("97123.40"); returns the length
 * written (excluding NUL), or 0 when cap is too small. A NONE decimal
 * formats as "null". cap >= XGW_DEC_STRLEN always suffices. */
XGW_EXPORT size_t xgw_dec_format(xgw_dec d, char *buf, size_t cap);
/* -1, 0, 1 by numeric value ("1.50" == "1.5"). NONE sorts before any value. */
XGW_EXPORT int xgw_dec_cmp(xgw_dec a, xgw_dec b);
XGW_EXPORT int xgw_dec_add(xgw_dec a, xgw_dec b, xgw_dec *out);
XGW_EXPORT int xgw_dec_sub(xgw_dec a, xgw_dec b, xgw_dec *out);
XGW_EXPORT int xgw_dec_mul_int(xgw_dec a, int64_t k, xgw_dec *out);
/* Exact product (scale = a.scale + b.scale, trailing zeros removed while the
 * scale exceeds 18); overflow is an error, never a silent truncation. */
XGW_EXPORT int xgw_dec_mul(xgw_dec a, xgw_dec b, xgw_dec *out);
/* Round a to a multiple of step (> 0), e.g. a tick or lot size. The result
 * has step's scale. */
XGW_EXPORT int xgw_dec_round_to(xgw_dec a, xgw_dec step, enum xgw_round mode, xgw_dec *out);
/* Round or extend a to exactly `scale` decimals. */
XGW_EXPORT int xgw_dec_rescale(xgw_dec a, int32_t scale, enum xgw_round mode, xgw_dec *out);
/* Remove trailing fractional zeros ("1.2300" -> "1.23", "5.0" -> "5"). */
XGW_EXPORT xgw_dec xgw_dec_normalize(xgw_dec a);
XGW_EXPORT xgw_dec xgw_dec_from_int(int64_t v);
/* Number of significant digits of the normalized value (0 for zero). */
XGW_EXPORT int xgw_dec_sig_digits(xgw_dec a);
static inline int xgw_dec_sign(xgw_dec d) { return (d.mant > 0) - (d.mant < 0); }
static inline bool xgw_dec_is_zero(xgw_dec d) { return d.mant == 0 && d.scale >= 0; }

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

enum xgw_err_kind {
    XGW_OK = 0,
    XGW_ERR_NETWORK,         /* connect/transport failure, or breaker open: nothing reached the exchange */
    XGW_ERR_TIMEOUT,         /* no answer in time (for reads; orders become UNKNOWN_OUTCOME) */
    XGW_ERR_RATE_LIMITED,    /* retry_after_ms says when to try again */
    XGW_ERR_BANNED,          /* IP/account banned (e.g. HTTP 418); until_ms is the end of the ban */
    XGW_ERR_AUTH,            /* bad key, signature or permissions */
    XGW_ERR_CLOCK_SKEW,      /* timestamp outside the exchange's window */
    XGW_ERR_INVALID_REQUEST, /* the request itself is wrong (bad symbol, filter, unknown order ...) */
    XGW_ERR_REJECTED,        /* business refusal (insufficient margin, would cross for post-only ...) */
    XGW_ERR_SERVER,          /* the exchange failed (5xx) and the request had no side effect */
    XGW_ERR_UNKNOWN_OUTCOME, /* an order whose fate could not be established */
    XGW_ERR_PROTOCOL,        /* unparseable, oversized or inconsistent answer */
    XGW_ERR_CONFIG,          /* configuration error (file/line/key are set) */
    XGW_ERR_PLUGIN,          /* plugin could not be loaded or misbehaved */
    XGW_ERR_UNSUPPORTED,     /* the exchange or plugin does not offer this operation */
    XGW_ERR_CANCELLED,       /* the gateway was closed before the call completed */
    XGW_ERR_INTERNAL,        /* out of memory or a bug in xgw */
    XGW_ERR__COUNT
};

/* flags in struct xgw_error */
#define XGW_ERRF_ORDER_NOT_FOUND 0x01u /* the exchange says the order does not exist */
#define XGW_ERRF_BREAKER_OPEN 0x02u    /* failed fast: the endpoint's circuit breaker is open */
#define XGW_ERRF_SENT 0x04u            /* the request left this process (may have been processed) */

#define XGW_ERR_MSG_MAX 256

/* One error value for the whole API: fixed-size buffers, nothing to free.
 * Messages never contain secrets (xgw scrubs known secret values). */
struct xgw_error {
    enum xgw_err_kind kind;
    unsigned flags;
    int http_status;          /* 0 when no HTTP answer */
    int64_t code;             /* the exchange's own error code, 0 when none */
    int64_t retry_after_ms;   /* RATE_LIMITED/BANNED: how long to wait, 0 unknown */
    int64_t until_ms;         /* BANNED: unix ms when the ban ends, 0 unknown */
    char message[XGW_ERR_MSG_MAX];
    char exchange[64];        /* instance name, when known */
    char endpoint[128];       /* base URL of the endpoint, when known */
    char file[256];           /* CONFIG: file, line (1-based, 0 = none) and key */
    int line;
    char key[64];
};

XGW_EXPORT const char *xgw_err_kind_name(enum xgw_err_kind kind); /* "NETWORK", ... */

/* ------------------------------------------------------------------------ */
/* Neutral records                                                           */
/* ------------------------------------------------------------------------ */

#define XGW_SYMBOL_MAX 48
#define XGW_ASSET_MAX 24
#define XGW_ID_MAX 72

enum xgw_side { XGW_SIDE_NONE = 0, XGW_SIDE_BUY, XGW_SIDE_SELL };
enum xgw_order_type { XGW_TYPE_NONE = 0, XGW_TYPE_LIMIT, XGW_TYPE_MARKET };
enum xgw_tif { XGW_TIF_DEFAULT = 0, XGW_TIF_GTC, XGW_TIF_IOC, XGW_TIF_FOK, XGW_TIF_POST_ONLY };
enum xgw_order_status {
    XGW_OS_UNKNOWN = 0,
    XGW_OS_NEW,
    XGW_OS_PARTIALLY_FILLED,
    XGW_OS_FILLED,
    XGW_OS_CANCELED,
    XGW_OS_REJECTED,
    XGW_OS_EXPIRED,
};
enum xgw_pos_side { XGW_POS_LONG = 1, XGW_POS_SHORT };
enum xgw_market_status { XGW_MKT_UNKNOWN = 0, XGW_MKT_TRADING, XGW_MKT_HALTED, XGW_MKT_CLOSED };

XGW_EXPORT const char *xgw_side_name(enum xgw_side s);             /* "buy" | "sell" */
XGW_EXPORT const char *xgw_order_type_name(enum xgw_order_type t); /* "limit" | "market" */
XGW_EXPORT const char *xgw_tif_name(enum xgw_tif t);               /* "gtc" | ... | "post_only" */
XGW_EXPORT const char *xgw_order_status_name(enum xgw_order_status s); /* "new", "partially_filled", ... */
XGW_EXPORT const char *xgw_market_status_name(enum xgw_market_status s);

struct xgw_market {
    char symbol[XGW_SYMBOL_MAX];
    char base[XGW_ASSET_MAX];
    char quote[XGW_ASSET_MAX];
    xgw_dec tick_size;     /* price increment */
    xgw_dec step_size;     /* quantity increment */
    xgw_dec min_qty;
    xgw_dec min_notional;  /* NONE when the exchange has no such filter */
    xgw_dec market_step_size; /* market-order lot size where it differs, else NONE */
    int32_t price_decimals;   /* -1 when the exchange expresses it only as tick_size */
    int32_t qty_decimals;
    int64_t index;            /* exchange's numeric id (Hyperliquid asset index), -1 if none */
    enum xgw_market_status status;
    char status_raw[24];
};

struct xgw_ticker {
    char symbol[XGW_SYMBOL_MAX];
    xgw_dec bid, bid_qty, ask, ask_qty, last; /* NONE when not given */
    int64_t ts_ms;                            /* exchange timestamp, 0 unknown */
};

struct xgw_level {
    xgw_dec price;
    xgw_dec qty; /* zero qty in a diff removes the level */
};

/* Header of a book snapshot or diff. Levels follow as XGW_REC_BID/ASK. */
struct xgw_book_info {
    char symbol[XGW_SYMBOL_MAX];
    bool snapshot;     /* true: the levels replace the book; false: a diff */
    int64_t seq;       /* last update id covered (Binance lastUpdateId / u), 0 none */
    int64_t first_seq; /* diffs: first update id (Binance U), 0 none */
    int64_t prev_seq;  /* diffs: previous message's last id (Binance pu), -1 none */
    int64_t ts_ms;     /* exchange timestamp, 0 unknown */
};

struct xgw_balance {
    char asset[XGW_ASSET_MAX];
    xgw_dec total;
    xgw_dec available;
};

struct xgw_position {
    char symbol[XGW_SYMBOL_MAX];
    enum xgw_pos_side side;
    xgw_dec size; /* unsigned */
    xgw_dec entry_price, mark_price, unrealized_pnl, leverage; /* NONE when unknown */
};

struct xgw_order {
    char symbol[XGW_SYMBOL_MAX];
    char order_id[XGW_ID_MAX];  /* exchange id as text ("" unknown) */
    char client_id[XGW_ID_MAX];
    enum xgw_order_status status;
    char status_raw[24];        /* the exchange's own word */
    enum xgw_side side;
    enum xgw_order_type type;
    enum xgw_tif tif;
    bool reduce_only;
    xgw_dec price, qty, filled_qty, avg_price; /* NONE when unknown */
    int64_t ts_ms;              /* last update time, 0 unknown */
};

struct xgw_trade {
    char symbol[XGW_SYMBOL_MAX];
    char trade_id[XGW_ID_MAX];
    xgw_dec price, qty;
    enum xgw_side side; /* aggressor side, NONE when unknown */
    int64_t ts_ms;
};

/* What the caller asks to place. */
struct xgw_order_req {
    char symbol[XGW_SYMBOL_MAX];
    enum xgw_side side;
    enum xgw_order_type type;
    enum xgw_tif tif;        /* DEFAULT = GTC for limit orders */
    bool reduce_only;
    xgw_dec qty;
    xgw_dec price;           /* NONE for market orders */
    char client_id[XGW_ID_MAX]; /* "" = generated in the exchange's format */
};

/* ------------------------------------------------------------------------ */
/* Operations and their arguments                                            */
/* ------------------------------------------------------------------------ */

enum xgw_op {
    XGW_OP_PING = 0,     /* health check (cheap, unsigned) */
    XGW_OP_TIME,
    XGW_OP_MARKETS,
    XGW_OP_TICKER,
    XGW_OP_DEPTH,
    XGW_OP_BALANCES,
    XGW_OP_POSITIONS,
    XGW_OP_PLACE,
    XGW_OP_CANCEL,
    XGW_OP_GET_ORDER,
    XGW_OP_OPEN_ORDERS,
    XGW_OP_WS_TOKEN,           /* obtain a private-stream token (Binance listenKey) */
    XGW_OP_WS_TOKEN_KEEPALIVE, /* extend it */
    XGW_OP__COUNT
};

XGW_EXPORT const char *xgw_op_name(enum xgw_op op); /* "ping", "time", "markets", ... */

/* Arguments of one call. Unused members are ignored. */
struct xgw_call {
    char symbol[XGW_SYMBOL_MAX]; /* TICKER, DEPTH, CANCEL, GET_ORDER, OPEN_ORDERS ("" = all) */
    uint32_t limit;              /* DEPTH: levels per side, 0 = exchange default */
    struct xgw_order_req order;  /* PLACE */
    char order_id[XGW_ID_MAX];   /* CANCEL / GET_ORDER: by exchange id ... */
    char client_id[XGW_ID_MAX];  /* ... or by client id */
    char token[128];             /* WS_TOKEN_KEEPALIVE: the token to extend */
    uint32_t step;               /* set by the core: which request of a multi-request op
                                  * (struct xgw_plugin.steps) is being built/parsed; callers leave 0 */
};

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

enum xgw_channel { XGW_CH_TICKER = 1, XGW_CH_TRADES, XGW_CH_BOOK, XGW_CH_ORDERS };
XGW_EXPORT const char *xgw_channel_name(enum xgw_channel ch);

struct xgw_ws_sub {
    enum xgw_channel channel;
    char symbol[XGW_SYMBOL_MAX]; /* "" for account channels */
    uint32_t depth;              /* BOOK: levels wanted, 0 = default */
    /* Which of the exchange streams a neutral subscription is made of
     * (0 .. parts-1, see xgw_plugin.ws_ticker_parts); 0 when it is one. */
    uint32_t part;
};

/* ------------------------------------------------------------------------ */
/* Growable byte buffer                                                      */
/* ------------------------------------------------------------------------ */

/* Owned by whoever created it; plugins append through the core's services
 * (struct xgw_core_api) and may read data/len directly. data is always
 * NUL-terminated after a successful append (not counted in len). */
struct xgw_buf {
    char *data;
    size_t len;
    size_t cap;
};

#ifdef __cplusplus
}
#endif
#endif /* XGW_TYPES_H */
