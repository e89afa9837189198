/*
 * core/log.h — the gateway's log: leveled, one line per event on stderr.
 *
 * Text:  2026-11-22T20:46:34.123Z INFO [binance https://api.x] order: placed side=buy note="two words"
 * JSON:  {"time":"2026-11-22T20:46:34.123Z","level":"info","instance":"binance","endpoint":"https://api.x",
 *         "event":"order","message":"placed","fields":{"side":"buy","note":"two words"}}
 *
 * JSON lines always carry every key (null for an absent instance, endpoint
 * or event; {} without fields) so that a log pipeline sees one schema.
 * Time is ISO-8601 UTC with milliseconds.
 *
 * Redaction happens here, for every line and every part of it: instance,
 * endpoint, event, field names and values and the message are each scrubbed
 * of every secret registered with xgw__secret_register (core/error.h)
 * before they are escaped, so a caller never has to remember it and an API
 * key, secret, signature or listenKey handed to the logger in any argument
 * comes out as "***". Control characters are escaped (\n, \xHH ...), so
 * neither a key nor a hostile exchange string can forge log lines.
 *
 * Thread-safe: each line is written with a single write(2) to fd 2.
 */
#ifndef XGW_CORE_LOG_H
#define XGW_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include "xgw/plugin.h"

/* Process-wide settings. Default: XGW_LOG_INFO, text. */
void xgw__log_configure(enum xgw_log_level level, bool json);
bool xgw__log_enabled(enum xgw_log_level level);
const char *xgw__log_level_name(enum xgw_log_level level); /* "error", "warn", "info", "debug" */

/* One structured field of a log line. Both strings are borrowed for the
 * call; a NULL value is logged as null (JSON) / "-" (text). */
struct xgw__log_field {
    const char *key;
    const char *value;
};

/* instance and event may be NULL (then omitted from text, null in JSON). */
void xgw__log(const char *instance, enum xgw_log_level level, const char *event, const char *fmt, ...)
    XGW_PRINTF(4, 5);
void xgw__vlog(const char *instance, enum xgw_log_level level, const char *event, const char *fmt, va_list ap)
    XGW_PRINTF(4, 0);

/* The full form: endpoint (a base URL, may be NULL) and fields[0..n_fields)
 * in addition. fmt may be "" for a line that is only fields. */
void xgw__logx(const char *instance, const char *endpoint, enum xgw_log_level level, const char *event,
               const struct xgw__log_field *fields, size_t n_fields, const char *fmt, ...) XGW_PRINTF(7, 8);
void xgw__vlogx(const char *instance, const char *endpoint, enum xgw_log_level level, const char *event,
                const struct xgw__log_field *fields, size_t n_fields, const char *fmt, va_list ap)
    XGW_PRINTF(7, 0);

#endif
