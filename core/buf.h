/*
 * core/buf.h — growable byte buffers (struct xgw_buf of xgw/types.h).
 *
 * A buffer starts zeroed ({NULL, 0, 0}) and grows geometrically. After any
 * successful call data is non-NULL and NUL-terminated (the NUL is not
 * counted in len). xgw__buf_reset keeps the memory so that a steady path
 * allocates nothing. Growth never leaves a stale copy behind: the old block
 * is wiped before it is freed, so buffers may hold signatures and keys.
 *
 * Every appending function returns 0 or XGW_ERR_INTERNAL (out of memory, or
 * a size that would overflow); on failure the buffer's content is unchanged.
 * A buffer is not thread-safe; its owner serialises access.
 */
#ifndef XGW_CORE_BUF_H
#define XGW_CORE_BUF_H

#include <stdarg.h>
#include "xgw/types.h"

/* Make room for `extra` more bytes plus the NUL. */
int xgw__buf_reserve(struct xgw_buf *b, size_t extra);
int xgw__buf_append(struct xgw_buf *b, const void *data, size_t len);
int xgw__buf_append_str(struct xgw_buf *b, const char *s);
int xgw__buf_printf(struct xgw_buf *b, const char *fmt, ...) XGW_PRINTF(2, 3);
int xgw__buf_vprintf(struct xgw_buf *b, const char *fmt, va_list ap) XGW_PRINTF(2, 0);
/* RFC 3986: ALPHA DIGIT - . _ ~ are kept, every other byte becomes %XX
 * (uppercase hex). */
int xgw__buf_urlencode(struct xgw_buf *b, const char *s, size_t len);
/* The decimal exactly as xgw_dec_format writes it ("null" for NONE). */
int xgw__buf_dec(struct xgw_buf *b, xgw_dec d);
/* A JSON string literal: quotes, \" \\ \b \f \n \r \t, other control bytes
 * (and NUL) as \u00xx; bytes >= 0x80 are copied as they are. */
int xgw__buf_json_str(struct xgw_buf *b, const char *s, size_t len);

/* len = 0, memory kept. */
void xgw__buf_reset(struct xgw_buf *b);
/* Overwrite the whole allocation with zeros (OPENSSL_cleanse) and set
 * len = 0, keeping the memory: for buffers that held credentials. */
void xgw__buf_wipe(struct xgw_buf *b);
/* Release the memory (without wiping) and zero the struct. */
void xgw__buf_free(struct xgw_buf *b);
/* xgw__buf_wipe then xgw__buf_free: for buffers that held credentials. */
void xgw__buf_free_sensitive(struct xgw_buf *b);

#endif
