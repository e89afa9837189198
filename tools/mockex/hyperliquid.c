/*
 * hyperliquid.c — Hyperliquid module of the mock: PLACEHOLDER.
 *
 * Claims POST /info, POST /exchange and WS /ws and answers with
 * Hyperliquid's error shape. The Hyperliquid helper replaces this file with
 * the real module (see mockex.h for the interface).
 */
#include "mockex.h"

#include <string.h>

static void *create(struct mx_server *srv) { return srv; }
static void destroy(void *self) { (void)self; }

static int claims_http(const char *path) { return !strcmp(path, "/info") || !strcmp(path, "/exchange"); }
static int claims_ws(const char *path) { return !strcmp(path, "/ws"); }

static void error_body(void *self, int status, int code, const char *msg, struct mx_buf *out)
{
    (void)self, (void)code;
    mx_buf_puts(out, "{\"status\":\"err\",\"response\":");
    mx_buf_json_str(out, msg ? msg : status == 404 ? "Not Found" : "Internal Server Error");
    mx_buf_puts(out, "}");
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

const struct mx_module mx_module_hyperliquid = {
    .name = "hyperliquid",
    .create = create,
    .destroy = destroy,
    .claims_http = claims_http,
    .claims_ws = claims_ws,
    .http = http,
    .error_body = error_body,
    .ws_open = ws_open,
};
