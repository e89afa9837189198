/*
 * core/response.c — one HTTP answer for the plugin accessors. See
 * response.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "response.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

void xgw__response_init(struct xgw_response *r) { memset(r, 0, sizeof *r); }

void xgw__response_reset(struct xgw_response *r)
{
    r->status = 0;
    r->body = NULL;
    r->body_len = 0;
    r->n_headers = 0;
    xgw__buf_reset(&r->hdr_data);
}

void xgw__response_free(struct xgw_response *r)
{
    xgw__buf_free(&r->hdr_data);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* "HTTP/1.1 200 OK" / "HTTP/2 429": the status, or 0. */
static int parse_status_line(const char *line, size_t len)
{
    size_t i = 5;
    while (i < len && line[i] != ' ')
        i++;
    while (i < len && line[i] == ' ')
        i++;
    int status = 0, digits = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9' && digits < 3) {
        status = status * 10 + (line[i] - '0');
        i++, digits++;
    }
    return digits == 3 ? status : 0;
}

int xgw__response_add_header(struct xgw_response *r, const char *line, size_t len)
{
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* A new header block (after 100 Continue or a redirect): only the
         * final answer's headers count. */
        r->n_headers = 0;
        xgw__buf_reset(&r->hdr_data);
        r->status = parse_status_line(line, len);
        return XGW_OK;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return XGW_OK;
    size_t nlen = (size_t)(colon - line);
    while (nlen > 0 && is_blank(line[nlen - 1]))
        nlen--;
    const char *v = colon + 1, *end = line + len;
    while (v < end && is_blank(*v))
        v++;
    while (end > v && is_blank(end[-1]))
        end--;
    size_t vlen = (size_t)(end - v);

    if (r->n_headers == r->cap_headers) {
        size_t n = r->cap_headers ? r->cap_headers * 2 : 16;
        struct xgw__resp_header *p = realloc(r->headers, n * sizeof *p);
        if (!p)
            return XGW_ERR_INTERNAL;
        r->headers = p;
        r->cap_headers = n;
    }
    struct xgw__resp_header h;
    size_t old_len = r->hdr_data.len;
    h.name_off = old_len;
    h.name_len = nlen;
    h.value_off = old_len + nlen + 1;
    h.value_len = vlen;
    /* name NUL value NUL */
    if (xgw__buf_append(&r->hdr_data, line, nlen) || xgw__buf_append(&r->hdr_data, "", 1) ||
        xgw__buf_append(&r->hdr_data, v, vlen) || xgw__buf_append(&r->hdr_data, "", 1)) {
        r->hdr_data.len = old_len;
        if (r->hdr_data.data)
            r->hdr_data.data[old_len] = '\0';
        return XGW_ERR_INTERNAL;
    }
    r->headers[r->n_headers++] = h;
    return XGW_OK;
}

const char *xgw__response_header(const struct xgw_response *r, const char *name, size_t *len)
{
    if (!r || !name)
        return NULL;
    size_t nlen = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++) {
        const struct xgw__resp_header *h = &r->headers[i];
        if (h->name_len == nlen && strncasecmp(r->hdr_data.data + h->name_off, name, nlen) == 0) {
            if (len)
                *len = h->value_len;
            return r->hdr_data.data + h->value_off;
        }
    }
    return NULL;
}
