/*
 * Bitunix request signing (OpenAPI "Signature" page, futures/common/sign):
 *
 *   headers  api-key, nonce (32 random characters), timestamp (ms), sign
 *   digest = SHA256_hex(nonce + timestamp + api-key + queryParams + body)
 *   sign   = SHA256_hex(digest + secretKey)
 *
 * queryParams is every query parameter sorted by key (ascending ASCII) and
 * concatenated as key1value1key2value2 with no '=' or '&' and no
 * percent-encoding; body is the exact compact JSON sent ("" for GET). The
 * body is serialised once by rest.c and these very bytes are both signed
 * and sent, so no re-serialisation can change what the server hashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitunix.h"

int64_t bx_now_ms(const struct bx *bx)
{
    if (bx->fixed_now_ms != 0)
        return bx->fixed_now_ms;
    return bx->core->now_ms(bx->ctx);
}

int bx_nonce(struct bx *bx, char out[BX_NONCE_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (bx->fixed_nonce[0] != '\0') {
        memcpy(out, bx->fixed_nonce, BX_NONCE_LEN + 1);
        return XGW_OK;
    }
    /* 62 symbols: bytes >= 248 (= 4 * 62) are rejected so that every
     * symbol has the same probability. */
    size_t n = 0;
    uint8_t rnd[48];
    while (n < BX_NONCE_LEN) {
        if (bx->core->random_bytes(rnd, sizeof rnd) != 0)
            return XGW_ERR_INTERNAL;
        for (size_t i = 0; i < sizeof rnd && n < BX_NONCE_LEN; i++)
            if (rnd[i] < 248)
                out[n++] = alphabet[rnd[i] % 62];
    }
    out[BX_NONCE_LEN] = '\0';
    return XGW_OK;
}

int bx_sign_parts(struct bx *bx, const char *nonce, const char *timestamp, const char *query_params,
                  size_t qp_len, const char *body, size_t body_len, char digest_hex[65], char sign_hex[65])
{
    const struct xgw_core_api *core = bx->core;
    const char *key = bx->api_key != NULL ? bx->api_key : "";
    size_t nl = strlen(nonce), tl = strlen(timestamp), kl = strlen(key);
    size_t sl = bx->secret != NULL ? bx->secret_len : 0;
    size_t total = nl + tl + kl + qp_len + body_len;
    size_t cap = total > 64 + sl ? total : 64 + sl;
    uint8_t md[32];
    char dhex[65];

    char *buf = malloc(cap + 1);
    if (buf == NULL)
        return XGW_ERR_INTERNAL;
    size_t o = 0;
    memcpy(buf + o, nonce, nl), o += nl;
    memcpy(buf + o, timestamp, tl), o += tl;
    memcpy(buf + o, key, kl), o += kl;
    if (qp_len != 0)
        memcpy(buf + o, query_params, qp_len), o += qp_len;
    if (body_len != 0)
        memcpy(buf + o, body, body_len), o += body_len;
    core->sha256(buf, o, md);
    core->hex_lower(md, sizeof md, dhex);

    /* Second stage: digest ‖ secret. The buffer then holds the secret and
     * is wiped before it is freed. */
    memcpy(buf, dhex, 64);
    if (sl != 0)
        memcpy(buf + 64, bx->secret, sl);
    core->sha256(buf, 64 + sl, md);
    core->hex_lower(md, sizeof md, sign_hex);
    core->secure_zero(buf, cap + 1);
    free(buf);
    core->secure_zero(md, sizeof md);
    if (digest_hex != NULL)
        memcpy(digest_hex, dhex, 65);
    return XGW_OK;
}

int bx_query_params(struct bx *bx, const struct bx_param *params, size_t n, struct xgw_buf *out)
{
    /* At most a handful of parameters: insertion sort of indices. */
    size_t idx[16] = {0}; /* every slot below i is set before it is read */
    if (n > sizeof idx / sizeof idx[0])
        return XGW_ERR_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && strcmp(params[idx[j - 1]].key, params[i].key) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    for (size_t i = 0; i < n; i++) {
        const struct bx_param *p = &params[idx[i]];
        if (bx->core->buf_append(out, p->key, strlen(p->key)) != 0 ||
            bx->core->buf_append(out, p->value, strlen(p->value)) != 0)
            return XGW_ERR_INTERNAL;
    }
    return XGW_OK;
}

int bx_target(struct bx *bx, struct xgw_request *req, const char *path, const struct bx_param *params, size_t n)
{
    const struct xgw_core_api *core = bx->core;
    if (core->buf_append(&req->target, path, strlen(path)) != 0)
        return XGW_ERR_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        if (core->buf_append(&req->target, i == 0 ? "?" : "&", 1) != 0 ||
            core->buf_urlencode(&req->target, params[i].key, strlen(params[i].key)) != 0 ||
            core->buf_append(&req->target, "=", 1) != 0 ||
            core->buf_urlencode(&req->target, params[i].value, strlen(params[i].value)) != 0)
            return XGW_ERR_INTERNAL;
    }
    return XGW_OK;
}

int bx_sign_request(struct bx *bx, struct xgw_request *req, const struct bx_param *params, size_t n,
                    struct xgw_error *err)
{
    const struct xgw_core_api *core = bx->core;
    char nonce[BX_NONCE_LEN + 1], ts[24], sign[65];
    struct xgw_buf qp = {0};

    if (bx->api_key == NULL || bx->api_key[0] == '\0')
        return core->set_error(err, XGW_ERR_AUTH, 0,
                               "this operation is signed: set api_key for the bitunix instance");
    if (bx->secret == NULL || bx->secret_len == 0)
        return core->set_error(err, XGW_ERR_AUTH, 0,
                               "this operation is signed: set api_secret (or api_secret_file) for the instance");
    if (bx_nonce(bx, nonce) != XGW_OK)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "the random generator failed while signing");
    snprintf(ts, sizeof ts, "%lld", (long long)bx_now_ms(bx));
    int rc = bx_query_params(bx, params, n, &qp);
    if (rc == XGW_OK)
        rc = bx_sign_parts(bx, nonce, ts, qp.data != NULL ? qp.data : "", qp.len,
                           req->body.data != NULL ? req->body.data : "", req->body.len, NULL, sign);
    free(qp.data);
    if (rc != XGW_OK)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while signing");
    if (core->buf_printf(&req->headers,
                         "api-key: %s\nnonce: %s\ntimestamp: %s\nsign: %s\nlanguage: en-US\n"
                         "Content-Type: application/json\n",
                         bx->api_key, nonce, ts, sign) != 0)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "out of memory while signing");
    req->sensitive = true;
    return XGW_OK;
}
