/*
 * bitunix.c — Bitunix futures module of the mock: PLACEHOLDER.
 *
 * Claims Bitunix's paths so they do not fall through to other modules and
 * answers every request with Bitunix's error envelope. The Bitunix helper
 * replaces this file with the real module (see mockex.h for the interface).
 */
#include "mockex.h"

#include <stdlib.h>
#include <string.h>

static const char *const headers[] = {"api-key", "nonce", "timestamp", "sign", NULL};

static void *create(struct mx_server *srv) { return srv; }
static void destroy(void *self) { (void)self; }

static int claims_http(const char *path) { return !strncmp(path, "/api/v1/futures/", 16); }
static int claims_ws(const char *path)
{
    return !strcmp(path, "/public") || !strcmp(path, "/public/") || !strcmp(path, "/private") ||
           !strcmp(path, "/private/");
}

static void error_body(void *self, int status, int code, const char *msg, struct mx_buf *out)
{
    (void)self;
    mx_buf_printf(out, "{\"code\":%d,\"msg\":", code ? code : status);
    mx_buf_json_str(out, msg ? msg : status == 404 ? "Not Found" : "System error");
    mx_buf_puts(out, ",\"data\":null}");
}

static void http(void *self, const struct mx_req *req, struct mx_resp *resp)
{
    (void)req;
    resp->status = 404;
    error_body(self, 404, 0, "Not implemented by the mock yet", &resp->body);
}

static int ws_open(void *self, struct mx_ws *ws, const char *path, const char *query)
{
    (void)self, (void)ws, (void)path, (void)query;
    return -1;
}

const struct mx_module mx_module_bitunix = {
    .name = "bitunix",
    .headers = headers,
    .create = create,
    .destroy = destroy,
    .claims_http = claims_http,
    .claims_ws = claims_ws,
    .http = http,
    .error_body = error_body,
    .ws_open = ws_open,
};
