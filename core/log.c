/*
 * core/log.c — one line per message on stderr. See log.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"

static _Atomic int g_level = XGW_LOG_INFO;
static atomic_bool g_json = false;

/* A message longer than this is cut ("..."): a log line is not the place
 * for a whole exchange answer. */
#define LOG_MSG_MAX 4096

void xgw__log_configure(enum xgw_log_level level, bool json)
{
    atomic_store(&g_level, (int)level);
    atomic_store(&g_json, json);
}

bool xgw__log_enabled(enum xgw_log_level level) { return (int)level <= atomic_load(&g_level); }

const char *xgw__log_level_name(enum xgw_log_level level)
{
    switch (level) {
    case XGW_LOG_ERROR: return "error";
    case XGW_LOG_WARN: return "warn";
    case XGW_LOG_INFO: return "info";
    case XGW_LOG_DEBUG: return "debug";
    }
    return "unknown";
}

static const char *level_upper(enum xgw_log_level level)
{
    switch (level) {
    case XGW_LOG_ERROR: return "ERROR";
    case XGW_LOG_WARN: return "WARN";
    case XGW_LOG_INFO: return "INFO";
    case XGW_LOG_DEBUG: return "DEBUG";
    }
    return "UNKNOWN";
}

static void format_time(char out[96])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
}

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere to report a failing stderr */
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Escape an untrusted word (instance or event name) for the text format. */
static void append_escaped(struct xgw_buf *b, const char *s)
{
    char tmp[160];
    xgw__escape_ctl(tmp, sizeof tmp, 0, s, strlen(s), NULL);
    xgw__buf_append_str(b, tmp);
}

void xgw__vlog(const char *instance, enum xgw_log_level level, const char *event, const char *fmt, va_list ap)
{
    if (!xgw__log_enabled(level) || !fmt)
        return;

    /* Format, scrub and escape the message. */
    char stackbuf[1024];
    char *raw = stackbuf;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof stackbuf) {
        raw = malloc((size_t)n + 1);
        if (!raw)
            return;
        va_copy(ap2, ap);
        vsnprintf(raw, (size_t)n + 1, fmt, ap2);
        va_end(ap2);
    }
    xgw__scrub(raw);
    size_t rlen = strlen(raw);
    char msg[LOG_MSG_MAX];
    bool trunc = false;
    size_t mlen = xgw__escape_ctl(msg, sizeof msg - 3, 0, raw, rlen, &trunc);
    if (trunc)
        memcpy(msg + mlen, "...", 4), mlen += 3;
    if (raw != stackbuf)
        free(raw);

    char when[96];
    format_time(when);
    struct xgw_buf line = {0};
    int rc;
    if (atomic_load(&g_json)) {
        rc = xgw__buf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\"", when, xgw__log_level_name(level));
        if (!rc && instance) {
            rc = xgw__buf_append_str(&line, ",\"instance\":");
            rc = rc ? rc : xgw__buf_json_str(&line, instance, strlen(instance));
        }
        if (!rc && event) {
            rc = xgw__buf_append_str(&line, ",\"event\":");
            rc = rc ? rc : xgw__buf_json_str(&line, event, strlen(event));
        }
        if (!rc) {
            /* msg has no control characters left; json_str escapes quotes
             * and backslashes. */
            rc = xgw__buf_append_str(&line, ",\"msg\":");
            rc = rc ? rc : xgw__buf_json_str(&line, msg, mlen);
        }
        rc = rc ? rc : xgw__buf_append(&line, "}\n", 2);
    } else {
        rc = xgw__buf_printf(&line, "%s %s ", when, level_upper(level));
        if (!rc && instance) {
            xgw__buf_append(&line, "[", 1);
            append_escaped(&line, instance);
            rc = xgw__buf_append(&line, "] ", 2);
        }
        if (!rc && event) {
            append_escaped(&line, event);
            rc = xgw__buf_append(&line, ": ", 2);
        }
        rc = rc ? rc : xgw__buf_append(&line, msg, mlen);
        rc = rc ? rc : xgw__buf_append(&line, "\n", 1);
    }
    if (!rc)
        write_all(line.data, line.len);
    xgw__buf_free(&line);
}

void xgw__log(const char *instance, enum xgw_log_level level, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xgw__vlog(instance, level, event, fmt, ap);
    va_end(ap);
}
