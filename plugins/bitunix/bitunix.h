/*
 * plugins/bitunix/bitunix.h — internals shared by the files of the Bitunix
 * futures plugin (plugin.c, sign.c, rest.c, ws.c, json.c).
 *
 * Nothing here is exported from bitunix.so (hidden visibility + version
 * script); the bx_ names exist so that the unit test, which links the
 * plugin's objects statically, can check the pieces byte for byte.
 *
 * Threading: one struct bx per instance, used only from the gateway's I/O
 * thread (see xgw/plugin.h).
 */
#ifndef XGW_PLUGIN_BITUNIX_H
#define XGW_PLUGIN_BITUNIX_H

#include <cjson/cJSON.h>

#include "common/pjson.h"
#include "xgw/plugin.h"

/* Indices into the plugin's buckets[] (plugin.c). */
enum bx_bucket { BX_RL_MARKET = 0, BX_RL_ACCOUNT, BX_RL_PLACE, BX_RL_CANCEL, BX_RL__COUNT };

#define BX_NONCE_LEN 32

struct bx {
    const struct xgw_core_api *core;
    struct xgw_inst_ctx *ctx;
    char *api_key;   /* NULL when not configured (public operations only) */
    const char *secret; /* api_secret, borrowed from core->cfg (valid until destroy) */
    size_t secret_len;
    char margin_coin[XGW_ASSET_MAX];
    /* Tests only: non-zero / non-empty values replace the clock and the
     * CSPRNG nonce so that signed requests are reproducible. */
    int64_t fixed_now_ms;
    char fixed_nonce[BX_NONCE_LEN + 1];
};

extern const struct xgw_plugin bx_plugin;

/* One query parameter: name and raw (not percent-encoded) value. */
struct bx_param {
    const char *key;
    const char *value;
};

/* --- sign.c ------------------------------------------------------------- */

/* Milliseconds for the timestamp header: core->now_ms (the corrected clock)
 * unless a test fixed it. */
int64_t bx_now_ms(const struct bx *bx);
/* 32 characters of [A-Za-z0-9] from the CSPRNG, uniformly (rejection
 * sampling, no modulo bias), NUL-terminated. 0 or XGW_ERR_INTERNAL. */
int bx_nonce(struct bx *bx, char out[BX_NONCE_LEN + 1]);
/* The documented two-stage signature:
 *   digest = sha256_hex(nonce ‖ timestamp ‖ api_key ‖ query_params ‖ body)
 *   sign   = sha256_hex(digest ‖ secret)
 * lower-case hex. digest_hex may be NULL. Missing key/secret count as "".
 * 0 or XGW_ERR_INTERNAL. */
int bx_sign_parts(struct bx *bx, const char *nonce, const char *timestamp, const char *query_params,
                  size_t qp_len, const char *body, size_t body_len, char digest_hex[65], char sign_hex[65]);
/* "key1value1key2value2..." with keys sorted ascending (byte order), values
 * raw, no separators: the queryParams of the signature. */
int bx_query_params(struct bx *bx, const struct bx_param *params, size_t n, struct xgw_buf *out);
/* Append "path?k=v&..." (values percent-encoded, parameters in the given
 * order) to req->target. */
int bx_target(struct bx *bx, struct xgw_request *req, const char *path, const struct bx_param *params, size_t n);
/* Sign a request whose body (req->body, possibly empty) is final: adds the
 * api-key, nonce, timestamp, sign and Content-Type headers. AUTH when no key
 * or secret is configured. */
int bx_sign_request(struct bx *bx, struct xgw_request *req, const struct bx_param *params, size_t n,
                    struct xgw_error *err);

/* --- json.c ------------------------------------------------------------- */

/* Parse len bytes of JSON with every bare number turned into a string
 * first, so that prices and quantities sent as JSON numbers keep their exact
 * text (cJSON keeps numbers only as double). NULL when not JSON or OOM. */
cJSON *bx_json_parse(const char *s, size_t len);
/* Integer member (string of digits after bx_json_parse). -1 on failure or
 * when missing. */
int bx_json_i64(const cJSON *item, int64_t *out);
/* Time member: integer milliseconds, or an RFC 3339 / ISO 8601 UTC string
 * ("2024-11-25T06:08:07.123Z"). Missing → 0 and 0; malformed → -1. */
int bx_json_time(const cJSON *item, int64_t *ms);
/* Unix ms from an RFC 3339 UTC text, -1 when malformed. */
int bx_parse_iso_ms(const char *s, size_t len, int64_t *ms);
/* Unix ms from an HTTP Date header (IMF-fixdate), -1 when malformed. */
int bx_parse_http_date(const char *s, size_t len, int64_t *ms);

enum xgw_order_status bx_order_status(const char *s);
enum xgw_side bx_side(const char *s);
enum xgw_order_type bx_order_type(const char *s);
enum xgw_tif bx_tif(const char *s);
/* One order object of the REST answers (get_order_detail, pending orders)
 * or of the private "order" channel. -1 on a malformed field. */
int bx_parse_order(const struct bx *bx, const cJSON *o, struct xgw_order *out);

/* --- rest.c -------------------------------------------------------------- */

int bx_build(void *self, enum xgw_op op, const struct xgw_call *call, struct xgw_request *req,
             struct xgw_error *err);
int bx_parse(void *self, enum xgw_op op, const struct xgw_call *call, const struct xgw_response *resp,
             struct xgw_sink *out, struct xgw_error *err);
void bx_cost(void *self, enum xgw_op op, const struct xgw_call *call, uint32_t *costs);
/* Map an envelope code (!= 0) and message to a kind for op; sets err. */
int bx_classify_code(struct bx *bx, enum xgw_op op, int status, int64_t code, const char *msg,
                     struct xgw_error *err);
/* The REST depth limit requested for a wanted number of levels. */
const char *bx_depth_limit(uint32_t wanted);

/* --- ws.c --------------------------------------------------------------- */

int bx_ws_path(void *self, bool private_, const char *token, struct xgw_buf *out, struct xgw_error *err);
int bx_ws_sub_msg(void *self, bool subscribe, const struct xgw_ws_sub *subs, size_t n, uint64_t id,
                  struct xgw_buf *out, struct xgw_error *err);
int bx_ws_login_msg(void *self, uint64_t id, struct xgw_buf *out, struct xgw_error *err);
/* The login message with a given nonce and timestamp (seconds): tests. */
int bx_ws_login_with(struct bx *bx, const char *nonce, int64_t ts_s, struct xgw_buf *out, struct xgw_error *err);
int bx_ws_ping_msg(void *self, struct xgw_buf *out);
int bx_ws_parse(void *self, const char *frame, size_t len, struct xgw_sink *out, struct xgw_error *err);
/* The depth_bookN channel for a wanted depth (1, 5 or 15). */
const char *bx_ws_depth_channel(uint32_t wanted);

#endif
