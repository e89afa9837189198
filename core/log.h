/*
 * core/log.h — the gateway's log: one line per message on stderr.
 *
 * Text:  2026-11-22T20:46:34.123Z INFO [binance] event: message
 * JSON:  {"time":"2026-11-22T20:46:34.123Z","level":"info","instance":"binance","event":"...","msg":"..."}
 *
 * The message is scrubbed of registered secrets (core/error.h) and its
 * control characters are escaped, so neither a key nor a hostile exchange
 * string can reach or forge log lines. Thread-safe: each line is written
 * with a single write(2) to file descriptor 2.
 */
#ifndef XGW_CORE_LOG_H
#define XGW_CORE_LOG_H

#include <stdarg.h>
#include "xgw/plugin.h"

/* Process-wide settings. Default: XGW_LOG_INFO, text. */
void xgw__log_configure(enum xgw_log_level level, bool json);
bool xgw__log_enabled(enum xgw_log_level level);
const char *xgw__log_level_name(enum xgw_log_level level); /* "error", "warn", "info", "debug" */

/* instance and event may be NULL (then omitted). */
void xgw__log(const char *instance, enum xgw_log_level level, const char *event, const char *fmt, ...)
    XGW_PRINTF(4, 5);
void xgw__vlog(const char *instance, enum xgw_log_level level, const char *event, const char *fmt, va_list ap)
    XGW_PRINTF(4, 0);

#endif
