/*
 * core/log.c — leveled log lines (text or JSON) on stderr. See log.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "error.h"

static _Atomic int g_level = XGW_LOG_INFO;
static atomic_bool g_json = false;

/* Caps on each part of a line, after escaping. A log line is not the place
 * for a whole exchange answer; a cut part ends in "...". */
#define LOG_MSG_MAX 4096
#define LOG_VALUE_MAX 1024
#define LOG_WORD_MAX 256 /* instance, event, field names */
#define LOG_URL_MAX 512
/* More fields than this in one line are a caller's bug; the rest are
 * dropped and the line says so (fields_dropped) instead of growing. */
#define LOG_FIELDS_MAX 32

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

/* Parameter names whose values are credentials or derived from them. A
 * signature is made per request, so it can never be registered in advance
 * like a key: the logger recognises it by the name it travels under, in
 * query strings and forms (`signature=...`) and JSON (`"sign":"..."`).
 * Compared case-insensitively. */
static const char *const g_secret_names[] = {
    "signature", "sign", "sig", "listenkey", "api_key", "apikey", "api_secret", "apisecret", "secret",
    "secret_key", "private_key", "privatekey", "password", "passphrase",
};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Length of a secret-named parameter's name at s[i] (0 = none): the whole
 * word must be one of g_secret_names, followed by '=' or '":'. */
static size_t secret_name_at(const char *s, size_t len, size_t i, size_t *value_at)
{
    if (i > 0 && name_char(s[i - 1]))
        return 0;
    size_t e = i;
    while (e < len && name_char(s[e]))
        e++;
    size_t n = e - i;
    bool known = false;
    for (size_t k = 0; k < sizeof g_secret_names / sizeof *g_secret_names && !known; k++)
        known = strlen(g_secret_names[k]) == n && strncasecmp(s + i, g_secret_names[k], n) == 0;
    if (!known)
        return 0;
    if (e < len && s[e] == '=') {
        *value_at = e + 1;
        return n;
    }
    if (e + 1 < len && s[e] == '"' && s[e + 1] == ':') {
        size_t v = e + 2;
        while (v < len && s[v] == ' ')
            v++;
        if (v < len && s[v] == '"')
            v++;
        *value_at = v;
        return n;
    }
    return 0;
}

/* A field whose name is one of g_secret_names is logged as "***". */
static bool secret_field(const char *key)
{
    if (!key)
        return false;
    for (size_t k = 0; k < sizeof g_secret_names / sizeof *g_secret_names; k++)
        if (strcasecmp(key, g_secret_names[k]) == 0)
            return true;
    return false;
}

/* Copy s with the value of every secret-named parameter replaced by "***"
 * into *out (malloc'd). Returns 1 when it did, 0 when there was nothing to
 * replace (*out NULL), -1 when out of memory. */
static int redact_named(const char *s, size_t len, char **result)
{
    *result = NULL;
    char *out = NULL;
    size_t o = 0, from = 0;
    for (size_t i = 0; i < len; i++) {
        size_t v;
        if (!secret_name_at(s, len, i, &v))
            continue;
        size_t e = v;
        if (v < len && (s[v] == '{' || s[v] == '[')) {
            /* A structured signature (Hyperliquid: {"r":"0x..","s":"0x..",
             * "v":27}): the whole object or array goes. */
            char close = s[v] == '{' ? '}' : ']';
            while (e < len && s[e] != close)
                e++;
            if (e < len)
                e++;
        } else {
            while (e < len && s[e] != '&' && s[e] != ' ' && s[e] != '"' && s[e] != ',' && s[e] != '}' &&
                   s[e] != ';' && s[e] != '\n')
                e++;
        }
        if (e == v)
            continue;
        /* Each replacement needs >= 5 bytes of input ("sig=x") and grows
         * the text by at most 2, so len * 3 / 2 + 4 always suffices. */
        if (!out && !(out = malloc(len + len / 2 + 4)))
            return -1;
        memcpy(out + o, s + from, v - from);
        o += v - from;
        memcpy(out + o, "***", 3);
        o += 3;
        from = e;
        i = e - 1;
    }
    if (!out)
        return 0;
    memcpy(out + o, s + from, len - from);
    out[o + len - from] = '\0';
    *result = out;
    return 1;
}

/* Scrub, escape and cut one raw part of a line into dst (capacity cap >= 4).
 * The scrub runs on a private copy of the whole raw text, before escaping
 * and before the cut: a secret containing a byte the escaper rewrites, or
 * one that straddles the cut, would otherwise slip through. Returns the
 * length written; raw text that cannot be copied (no memory) is dropped
 * rather than written unscrubbed. */
static size_t clean_raw(char *dst, size_t cap, char *raw_owned, size_t rlen)
{
    xgw__scrub(raw_owned);
    rlen = strlen(raw_owned);
    char *named = NULL;
    /* Without memory to redact a signature, the part goes, not the secret. */
    const char *text = redact_named(raw_owned, rlen, &named) < 0 ? "***" : named ? named : raw_owned;
    bool trunc = false;
    size_t n = xgw__escape_ctl(dst, cap - 3, 0, text, strlen(text), &trunc);
    if (trunc) {
        memcpy(dst + n, "...", 4);
        n += 3;
    }
    if (named) {
        OPENSSL_cleanse(named, strlen(named));
        free(named);
    }
    return n;
}

static size_t clean(char *dst, size_t cap, const char *s)
{
    size_t len = strlen(s);
    char small[512];
    char *copy = len < sizeof small ? small : malloc(len + 1);
    if (!copy) {
        dst[0] = '\0';
        return 0;
    }
    memcpy(copy, s, len + 1);
    size_t n = clean_raw(dst, cap, copy, len);
    /* Bytes past the scrubbed text's new end may still hold a secret's
     * tail (scrubbing shrinks in place). */
    OPENSSL_cleanse(copy, len + 1);
    if (copy != small)
        free(copy);
    return n;
}

/* Append a text-format value: bare when it is a plain word, else in double
 * quotes with " and backslash escaped, so key=value pairs split unambiguously. */
static int text_value(struct xgw_buf *b, const char *v, size_t n)
{
    bool plain = n > 0;
    for (size_t i = 0; i < n && plain; i++)
        if (v[i] == ' ' || v[i] == '"' || v[i] == '=' || v[i] == '\\')
            plain = false;
    if (plain)
        return xgw__buf_append(b, v, n);
    int rc = xgw__buf_append(b, "\"", 1);
    for (size_t i = 0; i < n && !rc; i++) {
        if (v[i] == '"' || v[i] == '\\')
            rc = xgw__buf_append(b, "\\", 1);
        rc = rc ? rc : xgw__buf_append(b, &v[i], 1);
    }
    return rc ? rc : xgw__buf_append(b, "\"", 1);
}

/* A text-format field name: anything but [A-Za-z0-9_.*-] becomes '_' so a
 * name cannot fake a second pair ('*' stays: a scrubbed name reads "***"). */
static int text_key(struct xgw_buf *b, const char *k, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char c = k[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == '-' || c == '*';
        rc = xgw__buf_append(b, ok ? &c : "_", 1);
    }
    return rc;
}

/* JSON member "name":"value" or "name":null, preceded by a comma. */
static int json_member(struct xgw_buf *b, const char *name, const char *v, size_t n)
{
    int rc = xgw__buf_printf(b, ",\"%s\":", name);
    if (rc)
        return rc;
    return v ? xgw__buf_json_str(b, v, n) : xgw__buf_append_str(b, "null");
}

void xgw__vlogx(const char *instance, const char *endpoint, enum xgw_log_level level, const char *event,
                const struct xgw__log_field *fields, size_t n_fields, const char *fmt, va_list ap)
{
    if (!xgw__log_enabled(level))
        return;

    /* Format the whole message before scrubbing: a secret cut at a buffer's
     * end would escape the scrubber. */
    char msg[LOG_MSG_MAX];
    size_t mlen = 0;
    if (fmt) {
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
        mlen = clean_raw(msg, sizeof msg, raw, (size_t)n);
        /* Both buffers held the unscrubbed text (the stack one its start
         * when the message was longer). */
        OPENSSL_cleanse(stackbuf, sizeof stackbuf);
        if (raw != stackbuf) {
            OPENSSL_cleanse(raw, (size_t)n + 1);
            free(raw);
        }
    } else {
        msg[0] = '\0';
    }

    char inst[LOG_WORD_MAX], ev[LOG_WORD_MAX], url[LOG_URL_MAX];
    size_t ilen = instance ? clean(inst, sizeof inst, instance) : 0;
    size_t elen = event ? clean(ev, sizeof ev, event) : 0;
    size_t ulen = endpoint ? clean(url, sizeof url, endpoint) : 0;
    size_t dropped = 0;
    if (!fields)
        n_fields = 0;
    if (n_fields > LOG_FIELDS_MAX) {
        dropped = n_fields - LOG_FIELDS_MAX;
        n_fields = LOG_FIELDS_MAX;
    }

    char when[96];
    format_time(when);
    bool json = atomic_load(&g_json);
    struct xgw_buf line = {0};
    int rc;
    if (json) {
        rc = xgw__buf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\"", when, xgw__log_level_name(level));
        rc = rc ? rc : json_member(&line, "instance", instance ? inst : NULL, ilen);
        rc = rc ? rc : json_member(&line, "endpoint", endpoint ? url : NULL, ulen);
        rc = rc ? rc : json_member(&line, "event", event ? ev : NULL, elen);
        /* msg has no control characters left (escaped as text, the same in
         * both formats); json_str escapes quotes and backslashes. */
        rc = rc ? rc : json_member(&line, "message", msg, mlen);
        rc = rc ? rc : xgw__buf_append_str(&line, ",\"fields\":{");
        for (size_t i = 0; i < n_fields && !rc; i++) {
            char k[LOG_WORD_MAX], v[LOG_VALUE_MAX];
            size_t klen = clean(k, sizeof k, fields[i].key ? fields[i].key : "");
            if (i)
                rc = xgw__buf_append(&line, ",", 1);
            rc = rc ? rc : xgw__buf_json_str(&line, k, klen);
            rc = rc ? rc : xgw__buf_append(&line, ":", 1);
            if (!rc && fields[i].value) {
                size_t vlen = clean(v, sizeof v, secret_field(fields[i].key) ? "***" : fields[i].value);
                rc = xgw__buf_json_str(&line, v, vlen);
            } else if (!rc) {
                rc = xgw__buf_append_str(&line, "null");
            }
        }
        if (!rc && dropped)
            rc = xgw__buf_printf(&line, "%s\"fields_dropped\":\"%zu\"", n_fields ? "," : "", dropped);
        rc = rc ? rc : xgw__buf_append(&line, "}}\n", 3);
    } else {
        rc = xgw__buf_printf(&line, "%s %s ", when, level_upper(level));
        if (!rc && (instance || endpoint)) {
            rc = xgw__buf_append(&line, "[", 1);
            rc = rc ? rc : xgw__buf_append(&line, inst, ilen);
            if (!rc && instance && endpoint)
                rc = xgw__buf_append(&line, " ", 1);
            rc = rc ? rc : xgw__buf_append(&line, url, ulen);
            rc = rc ? rc : xgw__buf_append(&line, "] ", 2);
        }
        if (!rc && event) {
            rc = xgw__buf_append(&line, ev, elen);
            rc = rc ? rc : xgw__buf_append(&line, ": ", 2);
        }
        rc = rc ? rc : xgw__buf_append(&line, msg, mlen);
        for (size_t i = 0; i < n_fields && !rc; i++) {
            char k[LOG_WORD_MAX], v[LOG_VALUE_MAX];
            size_t klen = clean(k, sizeof k, fields[i].key ? fields[i].key : "");
            if (line.len && line.data[line.len - 1] != ' ')
                rc = xgw__buf_append(&line, " ", 1);
            rc = rc ? rc : text_key(&line, k, klen);
            rc = rc ? rc : xgw__buf_append(&line, "=", 1);
            if (!rc && fields[i].value) {
                size_t vlen = clean(v, sizeof v, secret_field(fields[i].key) ? "***" : fields[i].value);
                rc = text_value(&line, v, vlen);
            } else if (!rc) {
                rc = xgw__buf_append(&line, "-", 1);
            }
        }
        if (!rc && dropped)
            rc = xgw__buf_printf(&line, " fields_dropped=%zu", dropped);
        rc = rc ? rc : xgw__buf_append(&line, "\n", 1);
    }
    if (!rc)
        write_all(line.data, line.len);
    xgw__buf_free(&line);
}

void xgw__logx(const char *instance, const char *endpoint, enum xgw_log_level level, const char *event,
               const struct xgw__log_field *fields, size_t n_fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xgw__vlogx(instance, endpoint, level, event, fields, n_fields, fmt, ap);
    va_end(ap);
}

void xgw__vlog(const char *instance, enum xgw_log_level level, const char *event, const char *fmt, va_list ap)
{
    if (!fmt)
        return;
    xgw__vlogx(instance, NULL, level, event, NULL, 0, fmt, ap);
}

void xgw__log(const char *instance, enum xgw_log_level level, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xgw__vlog(instance, level, event, fmt, ap);
    va_end(ap);
}
