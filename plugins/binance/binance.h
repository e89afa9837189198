/*
 * plugins/binance/binance.h — internals shared by the files of the Binance
 * USDⓈ-M futures plugin (plugin.c, sign.c, rest.c, ws.c, json.c).
 *
 * Nothing here is exported from binance.so (hidden visibility + version
 * script); the bn_ names exist so that the unit test, which links the
 * plugin's objects statically, can reach the pieces it checks byte for byte.
 *
 * Threading: one struct bn per instance, used only from the gateway's I/O
 * thread (see xgw/plugin.h).
 */
#ifndef XGW_PLUGIN_BINANCE_H
#define XGW_PLUGIN_BINANCE_H

#include <cjson/cJSON.h>

#include "common/pjson.h"
#include "xgw/plugin.h"

/* Indices into the plugin's buckets[] (plugin.c). */
enum bn_bucket { BN_RL_WEIGHT_1M = 0, BN_RL_ORDERS_10S, BN_RL_ORDERS_1M, BN_RL__COUNT };

struct bn {
    const struct xgw_core_api *core;
    struct xgw_inst_ctx *ctx;
    char *api_key;       /* NULL when not configured (public operations only) */
    const char *secret;  /* api_secret, borrowed from core->cfg (valid until destroy) */
    size_t secret_len;
    int64_t recv_window_ms;
    bool ws_routed;      /* use the 2026 /public|/market|/private WS routes */
    int64_t fixed_now_ms; /* tests only: non-zero replaces core->now_ms for timestamps */
};

extern const struct xgw_plugin bn_plugin;

/* --- sign.c ------------------------------------------------------------- */

/* Lowercase hex HMAC-SHA256 of part1 ‖ part2 (no separator: Binance's
 * "totalParams" = query string followed by body) under the instance's secret.
 * hex must hold 65 bytes. Either part may be empty. 0 or XGW_ERR_INTERNAL. */
int bn_sign_hex(struct bn *bn, const char *part1, size_t len1, const char *part2, size_t len2, char hex[65]);
/* Append "recvWindow=..&timestamp=..", then sign buf->data[from..len) exactly
 * as it stands and append "&signature=<hex>". from is the offset where the
 * parameter string starts (after '?' for a query). */
int bn_sign_append(struct bn *bn, struct xgw_buf *buf, size_t from, struct xgw_error *err);
/* Add the X-MBX-APIKEY header. AUTH error when no key is configured. */
int bn_add_key_header(struct bn *bn, struct xgw_request *req, struct xgw_error *err);
/* Timestamp for signed requests: core->now_ms (corrected clock) unless a
 * test fixed it. */
int64_t bn_now_ms(const struct bn *bn);

/* --- json.c: Binance words and order objects (generic helpers: common/pjson.h) */

/* Integer id as decimal text (orderId, trade id): a JSON number within
 * ±2^53 (pj_i64) or a string. -1 on failure. */
int bn_json_id(const cJSON *item, char *out, size_t cap);

enum xgw_order_status bn_order_status(const char *s);
enum xgw_side bn_side(const char *s);
enum xgw_order_type bn_order_type(const char *s);
enum xgw_tif bn_tif(const char *s);

/* Parse one Binance order object (REST shape or the "o" of
 * ORDER_TRADE_UPDATE, selected by ws) into *o. -1 on a malformed field. */
int bn_parse_order(const struct bn *bn, const cJSON *obj, bool ws, struct xgw_order *o);

/* --- rest.c -------------------------------------------------------------- */

int bn_build(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
             struct xgw_error *err);
int bn_parse(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
             struct xgw_sink *out, struct xgw_error *err);
void bn_cost(void *self, enum xgw_op op, const struct xgw_call *call, uint32_t *costs);
/* TICKER for one symbol takes two requests: bookTicker (step 0), then the
 * last price (step 1); Binance futures has no endpoint with both. */
unsigned bn_steps(void *self, enum xgw_op op, const struct xgw_call *call);
/* Classify a failed answer. status: HTTP status; body may be NULL/unparseable;
 * retry_after: the Retry-After header value (seconds) or NULL. */
int bn_classify_error(struct bn *bn, enum xgw_op op, int status, const char *body, size_t len,
                      const char *retry_after, size_t ra_len, struct xgw_error *err);
/* The depth limit actually requested for a wanted number of levels (the
 * next valid Binance value, 0 = exchange default 500). */
uint32_t bn_depth_limit(uint32_t wanted);

/* --- ws.c --------------------------------------------------------------- */

int bn_ws_path(void *self, bool private_, const char *token, struct xgw_buf *out, struct xgw_error *err);
int bn_ws_route(void *self, const struct xgw_ws_sub *sub, struct xgw_buf *out, struct xgw_error *err);
int bn_ws_sub_msg(void *self, bool subscribe, const struct xgw_ws_sub *subs, size_t n, uint64_t id,
                  struct xgw_buf *out, struct xgw_error *err);
int bn_ws_login_msg(void *self, uint64_t id, struct xgw_buf *out, struct xgw_error *err);
int bn_ws_ping_msg(void *self, struct xgw_buf *out);
int bn_ws_parse(void *self, const char *frame, size_t len, struct xgw_sink *out, struct xgw_error *err);

#endif
