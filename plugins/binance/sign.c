/*
 * Binance request signing: HMAC-SHA256 (hex) over the exact parameter bytes
 * that go on the wire ([GI] "SIGNED Endpoint Security"; reference §2.3-2.5).
 *
 * The parameter string is built already percent-encoded, then signed as it
 * stands, then "&signature=" is appended last: nothing is re-encoded after
 * signing, which is the classic cause of -1022 (reference §9.9).
 */
#include <stdlib.h>
#include <string.h>

#include "binance.h"

int64_t bn_now_ms(const struct bn *bn)
{
    if (bn->fixed_now_ms != 0)
        return bn->fixed_now_ms;
    return bn->core->now_ms(bn->ctx);
}

int bn_sign_hex(struct bn *bn, const char *part1, size_t len1, const char *part2, size_t len2, char hex[65])
{
    uint8_t mac[32];
    const struct xgw_core_api *core = bn->core;
    const char *key = bn->secret != NULL ? bn->secret : "";

    if (len2 == 0) {
        core->hmac_sha256(key, bn->secret_len, part1, len1, mac);
    } else {
        /* Mixed query + body: the server signs query ‖ body with no
         * separator. Rare (xgw itself never splits), so a copy is fine. */
        char *joined = malloc(len1 + len2 + 1);
        if (joined == NULL)
            return XGW_ERR_INTERNAL;
        if (len1 != 0)
            memcpy(joined, part1, len1);
        memcpy(joined + len1, part2, len2);
        core->hmac_sha256(key, bn->secret_len, joined, len1 + len2, mac);
        free(joined);
    }
    core->hex_lower(mac, sizeof mac, hex);
    core->secure_zero(mac, sizeof mac);
    return XGW_OK;
}

int bn_sign_append(struct bn *bn, struct xgw_buf *buf, size_t from, struct xgw_error *err)
{
    const struct xgw_core_api *core = bn->core;
    char hex[65];

    if (bn->secret == NULL || bn->secret_len == 0)
        return core->set_error(err, XGW_ERR_AUTH, 0,
                               "this operation is signed: set api_secret (or api_secret_file) for the instance");
    if (from > buf->len)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "signing offset past the end of the request");
    if (core->buf_printf(buf, "%srecvWindow=%lld&timestamp=%lld", buf->len > from ? "&" : "",
                         (long long)bn->recv_window_ms, (long long)bn_now_ms(bn)) != 0)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while signing");
    if (bn_sign_hex(bn, buf->data + from, buf->len - from, NULL, 0, hex) != XGW_OK)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while signing");
    if (core->buf_printf(buf, "&signature=%s", hex) != 0)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while signing");
    return XGW_OK;
}

int bn_add_key_header(struct bn *bn, struct xgw_request *req, struct xgw_error *err)
{
    const struct xgw_core_api *core = bn->core;

    if (bn->api_key == NULL || bn->api_key[0] == '\0')
        return core->set_error(err, XGW_ERR_AUTH, 0,
                               "this operation needs an API key: set api_key for the instance");
    if (core->buf_printf(&req->headers, "X-MBX-APIKEY: %s\n", bn->api_key) != 0)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory");
    req->sensitive = true;
    return XGW_OK;
}
