/*
 * core/response.h — one HTTP answer as plugins see it through the
 * core->resp_* accessors (internal; struct xgw_response is opaque to
 * plugins).
 *
 * The HTTP module fills it: status, a body pointer into a buffer it owns
 * (borrowed: it must stay valid while the plugin parses), and the header
 * lines one by one. Header lines are copied into the response's own
 * storage, so the caller's line buffer (e.g. libcurl's header callback
 * argument) need not outlive the call. Memory is kept across
 * xgw__response_reset, so a steady request path allocates nothing.
 *
 * Not thread-safe: one response belongs to one request at a time.
 */
#ifndef XGW_CORE_RESPONSE_H
#define XGW_CORE_RESPONSE_H

#include "xgw/plugin.h"

struct xgw__resp_header {
    size_t name_off, name_len;   /* offsets into the response's header storage */
    size_t value_off, value_len; /* value without surrounding blanks and CRLF; NUL-terminated in storage */
};

struct xgw_response {
    int status;       /* HTTP status, 0 when none */
    const char *body; /* borrowed from the HTTP layer; may be NULL when body_len == 0 */
    size_t body_len;
    struct xgw_buf hdr_data; /* owned copies of the header names and values */
    struct xgw__resp_header *headers;
    size_t n_headers, cap_headers;
};

/* A zeroed struct is a valid, empty response. */
void xgw__response_init(struct xgw_response *r);
/* Forget status, body and headers; keep the memory. */
void xgw__response_reset(struct xgw_response *r);
void xgw__response_free(struct xgw_response *r);
/* Add one raw header line "Name: value\r\n" (the CRLF is optional). A status
 * line ("HTTP/1.1 200 OK", "HTTP/2 429") starts a new header block: headers
 * of earlier blocks (100-continue, redirects) are dropped and status is
 * set. Lines without a colon (the blank end line) are ignored. Returns 0 or
 * XGW_ERR_INTERNAL. */
int xgw__response_add_header(struct xgw_response *r, const char *line, size_t len);
/* First header named `name` (case-insensitive); the value is not
 * NUL-terminated in general, *len is set. NULL when absent. */
const char *xgw__response_header(const struct xgw_response *r, const char *name, size_t *len);

#endif
