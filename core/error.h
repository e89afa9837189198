/*
 * core/error.h — filling struct xgw_error, and the process-wide registry of
 * secret values that are scrubbed from every error message and log line.
 *
 * Threading: every function here may be called from any thread; the secret
 * registry is protected by one mutex.
 */
#ifndef XGW_CORE_ERROR_H
#define XGW_CORE_ERROR_H

#include <stdarg.h>
#include "xgw/types.h"

/* Set err->kind, err->code and err->message (other members are left as
 * they are). The message is formatted, scrubbed of every registered secret
 * ("***"), control characters escaped (\n, \r, \t, \xHH, \u0080..\u009f for
 * UTF-8 C1 controls), and cut to XGW_ERR_MSG_MAX - 1 bytes ("..." marks a
 * cut). err == NULL is a no-op. Returns kind. */
int xgw__set_error(struct xgw_error *err, enum xgw_err_kind kind, int64_t code, const char *fmt, va_list ap)
    XGW_PRINTF(4, 0);
int xgw__set_errorf(struct xgw_error *err, enum xgw_err_kind kind, int64_t code, const char *fmt, ...)
    XGW_PRINTF(4, 5);

/* Sets "out of memory" and returns its kind. Inline, so that the static
 * analyser sees the result is never XGW_OK (a call into another file hides
 * that) and follows no "allocation failed yet rc is OK" paths. */
static inline int xgw__oom(struct xgw_error *err)
{
    xgw__set_errorf(err, XGW_ERR_INTERNAL, 0, "out of memory");
    return XGW_ERR_INTERNAL;
}

/* Register a secret value (a copy is kept). Values shorter than
 * XGW__SECRET_MIN_LEN are ignored, so that short strings ("1", "true") are
 * not scrubbed everywhere. Registering a value twice counts twice: each
 * registration needs its own unregister. Returns 0 or XGW_ERR_INTERNAL. */
#define XGW__SECRET_MIN_LEN 6
int xgw__secret_register(const char *s);
/* Drop one registration of s; the copy is wiped when the count reaches 0.
 * Unknown or short values are ignored. */
void xgw__secret_unregister(const char *s);
/* Replace every occurrence of every registered secret in the NUL-terminated
 * buf with "***", in place (the text only gets shorter). */
void xgw__scrub(char *buf);

/* Append src[0..len) to dst (capacity cap, always NUL-terminated) with
 * control characters escaped as described for xgw__set_error. Never cuts
 * an escape sequence or a UTF-8 character in half. Returns the new length
 * of dst; *truncated is set when not everything fitted. */
size_t xgw__escape_ctl(char *dst, size_t cap, size_t dlen, const char *src, size_t len, bool *truncated);

#endif
