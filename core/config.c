/*
 * core/config.c — the INI configuration: parsing, validation, defaults,
 * ${VAR} expansion, secret files, and binding of plugin-specific keys.
 *
 * Why inih is driven through ini_parse_stream with our own line reader:
 * Debian's inih 55 is built without INI_HANDLER_LINENO, so its handler never
 * learns the line it is called for, and it reports syntax errors only as a
 * bare line number. Our reader hands inih one physical line at a time, so we
 * always know the current line; it also sees every section header (inih
 * calls no handler for a section without keys, so an empty duplicate
 * [exchange.x] would otherwise go unnoticed) and rejects the lines inih would
 * refuse, with a sentence instead of a number. inih keeps the lexical rules:
 * comments (";" or "#" at the start, " ;" inline), trimming and the UTF-8 BOM.
 * The reader strips leading whitespace, which switches off inih's multi-line
 * continuation (an indented line would otherwise silently extend the value
 * of the previous key), and refuses lines longer than inih's line buffer
 * rather than letting inih split them.
 *
 * Secrets: values of secret keys (api_key, api_secret, plugin keys declared
 * secret) are registered with the secret registry as soon as they are known,
 * never appear in an error message, live in secret memory (secmem.h: not in
 * core dumps) and are wiped when the config is freed. A plugin key is known
 * to be secret only when the plugin is bound: its value moves into secret
 * memory then (the parse-time heap copy is wiped).
 */
#define _GNU_SOURCE /* explicit_bzero */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "plugindir.h"
#include "secmem.h"

#ifndef XGW_DEFAULT_PLUGIN_DIR
#define XGW_DEFAULT_PLUGIN_DIR "/usr/local/lib/xgw/plugins"
#endif

#define MAX_ENDPOINTS 16
#define MAX_VALUE_LEN 4096
#define MAX_SECRET_FILE (64L * 1024)
#define MAX_NAME_LEN 63

/* ------------------------------------------------------------------------ */
/* Key tables                                                                */
/* ------------------------------------------------------------------------ */

enum kt {
    KT_STR,         /* free text */
    KT_IDENT,       /* [A-Za-z0-9_.-] name (plugin, network) */
    KT_SECRET,      /* secret text (scrubbed, never printed) */
    KT_SECRET_FILE, /* path of a file holding the secret of the same field */
    KT_PATH,        /* readable file, relative to the config's folder */
    KT_DIR,         /* folder, relative to the config's folder */
    KT_REST,        /* https:// endpoint list */
    KT_WS,          /* wss:// endpoint list */
    KT_INT,
    KT_I64,
    KT_BOOL,
    KT_PCT,    /* decimal 0.1..1.0 stored as an integer percentage */
    KT_LEVEL,  /* error|warn|info|debug */
    KT_FORMAT, /* text|json */
    KT_LISTEN, /* host:port */
};

struct keydef {
    const char *name;
    enum kt type;
    size_t off; /* member of struct xgw__config ([gateway]) or struct xgw__inst_cfg */
    int64_t min, max;
    const char *def;
    const char *range;
    const char *help;
};

#define GW(f) offsetof(struct xgw__config, f)
#define EX(f) offsetof(struct xgw__inst_cfg, f)

/* One list feeds parsing, defaults, `xgw --help` and docs/config.md, so the
 * documentation cannot drift from the behaviour. Defaults are applied by
 * parsing the def text with the same code as a written value.
 * X(name, type, member, min, max, default, range, help) */
#define GW_KEYS(X) \
    X("plugin_dir", KT_DIR, GW(plugin_dir), 0, 0, XGW_DEFAULT_PLUGIN_DIR, "path", \
     "Folder of the exchange plugins (<plugin>.so). Relative to this file. $XGW_PLUGIN_DIR and --plugin-dir " \
     "override it. The folder and the plugins must not be writable by group or others.") \
    X("log_level", KT_LEVEL, GW(log_level), 0, 0, "info", "error|warn|info|debug", "Least severe level logged.") \
    X("log_format", KT_FORMAT, GW(log_json), 0, 0, "text", "text|json", "text: one readable line per event; json: one object per line.") \
    X("metrics_listen", KT_LISTEN, GW(metrics_listen), 0, 0, NULL, "host:port, [v6]:port or port", \
     "Where `xgw serve` serves GET /metrics (Prometheus text), GET /health (JSON) and the status page (GET /). " \
     "Unset = off. A bare port means 127.0.0.1:port; an address other than loopback also needs " \
     "metrics_listen_public = true. Port 0 picks a free port.") \
    X("metrics_listen_public", KT_BOOL, GW(metrics_listen_public), 0, 0, "false", "true|false", \
     "Allow metrics_listen on an address other than loopback (127.0.0.0/8, ::1, localhost): /metrics, " \
     "/health and the status page have no authentication.")

#define EX_KEYS(X) \
    X("plugin", KT_IDENT, EX(plugin), 0, 0, NULL, "plugin name", "Required. Loads <plugin_dir>/<plugin>.so.") \
    X("network", KT_IDENT, EX(network), 0, 0, NULL, "one of the plugin's networks", \
     "Picks the plugin's default endpoints (mainnet, testnet, ...). Default: the plugin's first network.") \
    X("api_key", KT_SECRET, EX(api_key), 0, 0, NULL, "text", \
     "API key (or account address). Scrubbed from logs. Unset = public data only.") \
    X("api_key_file", KT_SECRET_FILE, EX(api_key), 0, 0, NULL, "path", "Read api_key from this file (mode 0600 or stricter).") \
    X("api_secret", KT_SECRET, EX(api_secret), 0, 0, NULL, "text", \
     "API secret (or private key). Never printed; use ${VAR} rather than writing it here.") \
    X("api_secret_file", KT_SECRET_FILE, EX(api_secret), 0, 0, NULL, "path", \
     "Read api_secret from this file; it must not be readable or writable by group or others. " \
     "A trailing newline is removed.") \
    X("rest_endpoints", KT_REST, EX(rest_endpoints), 0, 0, NULL, "https://... list", \
     "Comma-separated REST base URLs in priority order. Default: the plugin's endpoints for the network.") \
    X("ws_endpoints", KT_WS, EX(ws_endpoints), 0, 0, NULL, "wss://... list", \
     "Comma-separated WebSocket base URLs in priority order. Default: the plugin's for the network.") \
    X("ca_file", KT_PATH, EX(ca_file), 0, 0, NULL, "path", "Extra trusted CA certificates (PEM), e.g. the mock exchange's.") \
    X("pool_min", KT_INT, EX(pool_min), 0, 64, "1", "0..64", "Connections per endpoint opened at start and kept warm.") \
    X("pool_max", KT_INT, EX(pool_max), 1, 256, "10", "1..256, >= pool_min", "Most connections per endpoint host.") \
    X("idle_timeout_s", KT_INT, EX(idle_timeout_s), 1, 3600, "60", "1..3600", "Idle connections above pool_min close after this.") \
    X("connect_timeout_ms", KT_INT, EX(connect_timeout_ms), 100, 60000, "3000", "100..60000", "TCP + TLS connect timeout.") \
    X("request_timeout_ms", KT_INT, EX(request_timeout_ms), 100, 300000, "10000", "100..300000", "Whole-request timeout.") \
    X("warmup", KT_BOOL, EX(warmup), 0, 0, "true", "true|false", "Open pool_min connections per endpoint at start.") \
    X("http2", KT_BOOL, EX(http2), 0, 0, "true", "true|false", "Use HTTP/2 where the server offers it.") \
    X("max_response_bytes", KT_I64, EX(max_response_bytes), 1024, 1073741824, "16777216", "1024..1073741824", \
     "Larger answers are refused (PROTOCOL error).") \
    X("breaker_failures", KT_INT, EX(breaker_failures), 1, 1000, "5", "1..1000", \
     "Consecutive endpoint failures (transport, timeout, 5xx) that open its circuit breaker.") \
    X("breaker_recovery_s", KT_INT, EX(breaker_recovery_s), 1, 3600, "30", "1..3600", "Open breaker half-opens after this.") \
    X("breaker_recovery_max_s", KT_INT, EX(breaker_recovery_max_s), 1, 86400, "300", "1..86400, >= breaker_recovery_s", \
     "Recovery time doubles after each failed probe, up to this.") \
    X("health_checks", KT_BOOL, EX(health_checks), 0, 0, "true", "true|false", \
     "Send the plugin's ping to every endpoint every health_interval_s (off: health stays UNKNOWN " \
     "unless breakers open).") \
    X("health_interval_s", KT_INT, EX(health_interval_s), 1, 3600, "15", "1..3600", "Period of active health checks (±10% jitter).") \
    X("health_timeout_s", KT_INT, EX(health_timeout_s), 1, 300, "5", "1..300", "Timeout of one health check.") \
    X("health_max_failures", KT_INT, EX(health_max_failures), 1, 100, "3", "1..100", \
     "Failed checks in a row that mark an endpoint unhealthy.") \
    X("retry_max", KT_INT, EX(retry_max), 0, 10, "3", "0..10", "Retries of a failed read (orders are never blindly retried).") \
    X("retry_backoff_ms", KT_INT, EX(retry_backoff_ms), 1, 60000, "100", "1..60000", "First retry backoff (doubles, full jitter).") \
    X("retry_backoff_max_ms", KT_INT, EX(retry_backoff_max_ms), 1, 600000, "5000", "1..600000, >= retry_backoff_ms", \
     "Backoff cap.") \
    X("rate_limit_margin", KT_PCT, EX(rate_limit_margin_pct), 10, 100, "0.9", "0.1..1.0 (2 decimals)", \
     "Fraction of each declared rate limit the gateway lets through.") \
    X("rate_limits", KT_STR, EX(rate_limits), 0, 0, NULL, "bucket=limit list", \
     "Override the plugin's declared limits, e.g. \"request_weight_1m=1200, orders_10s=100\" (an account " \
     "with other limits than the exchange's default).") \
    X("rate_limit_wait", KT_BOOL, EX(rate_limit_wait), 0, 0, "true", "true|false", \
     "Wait for rate-limit room (up to rate_limit_max_wait_ms) instead of failing fast with RATE_LIMITED.") \
    X("rate_limit_max_wait_ms", KT_INT, EX(rate_limit_max_wait_ms), 0, 600000, "2000", "0..600000", "Longest wait for room.") \
    X("clock_sync", KT_BOOL, EX(clock_sync), 0, 0, "true", "true|false", \
     "Sample the exchange's clock at start. A signed call refused for its timestamp always re-syncs.") \
    X("recv_window_ms", KT_INT, EX(recv_window_ms), 1, 60000, "5000", "1..60000", \
     "Validity window of signed requests, where the exchange has one.") \
    X("markets_refresh_s", KT_INT, EX(markets_refresh_s), 0, 86400, "3600", "0..86400", \
     "Period of the market-rules refresh (0 = load once).") \
    X("ws_reconnect_initial_ms", KT_INT, EX(ws_reconnect_initial_ms), 10, 60000, "250", "10..60000", \
     "First WebSocket reconnect delay (doubles, with jitter).") \
    X("ws_reconnect_max_ms", KT_INT, EX(ws_reconnect_max_ms), 100, 600000, "30000", "100..600000, >= ws_reconnect_initial_ms", \
     "Reconnect delay cap.") \
    X("ws_stale_s", KT_INT, EX(ws_stale_s), 1, 3600, "30", "1..3600", \
     "A subscription silent this long is considered dead and its connection recycled.") \
    X("ws_ping_interval_ms", KT_INT, EX(ws_ping_interval_ms), -1, 3600000, "-1", "-1..3600000", \
     "Period of the client heartbeat on exchanges that need one (-1 = the plugin's, Hyperliquid 30000; " \
     "0 = send none, which lets such an exchange close idle sockets: for tests).") \
    X("ws_stale_s_ticker", KT_INT, EX(ws_stale_s_ticker), 0, 3600, "0", "0..3600", \
     "A ticker subscription that receives no record for this long recycles its connection, even while other " \
     "subscriptions on it are busy (0 = only ws_stale_s applies).") \
    X("ws_stale_s_trades", KT_INT, EX(ws_stale_s_trades), 0, 3600, "0", "0..3600", \
     "A trades subscription that receives no record for this long recycles its connection, even while other " \
     "subscriptions on it are busy (0 = only ws_stale_s applies).") \
    X("ws_stale_s_book", KT_INT, EX(ws_stale_s_book), 0, 3600, "0", "0..3600", \
     "A book subscription that receives no record for this long recycles its connection, even while other " \
     "subscriptions on it are busy (0 = only ws_stale_s applies).") \
    X("ws_stale_s_orders", KT_INT, EX(ws_stale_s_orders), 0, 3600, "0", "0..3600", \
     "A orders subscription that receives no record for this long recycles its connection, even while other " \
     "subscriptions on it are busy (0 = only ws_stale_s applies) (an account without activity is silent: leave 0 unless the exchange pushes regularly).") \
    X("ws_max_lifetime_ms", KT_INT, EX(ws_max_lifetime_ms), 0, 604800000, "0", "0..604800000", \
     "Lifetime after which the exchange cuts a WebSocket connection (0 = the plugin's, Binance 24 h); " \
     "a connection is replaced, make-before-break, a tenth of it (at most 60 s) before.") \
    X("ws_token_keepalive_s", KT_INT, EX(ws_token_keepalive_s), 0, 86400, "0", "0..86400", \
     "Period of the private-stream token keepalive (0 = the plugin's; Binance listenKey: 1800).") \
    X("streams", KT_STR, EX(streams), 0, 0, NULL, "channel[:SYM[+SYM..][:DEPTH]] list", \
     "Subscriptions `xgw serve` keeps open, e.g. \"book:BTCUSDT:20, ticker:BTCUSDT+ETHUSDT, trades:BTCUSDT, " \
     "orders\" (channels ticker, trades, book, orders; DEPTH 1..1000 for book only).")

#define KEYDEF(n, t, o, lo, hi, d, r, h) {n, t, o, lo, hi, d, r, h},
#define DOC_GW(n, t, o, lo, hi, d, r, h) {"gateway", n, d, r, h},
#define DOC_EX(n, t, o, lo, hi, d, r, h) {"exchange", n, d, r, h},

static const struct keydef gw_keys[] = {GW_KEYS(KEYDEF)};
static const struct keydef ex_keys[] = {EX_KEYS(KEYDEF)};
#define N_GW (sizeof gw_keys / sizeof gw_keys[0])
#define N_EX (sizeof ex_keys / sizeof ex_keys[0])

const struct xgw__cfg_doc xgw__config_docs[] = {GW_KEYS(DOC_GW) EX_KEYS(DOC_EX)};
const size_t xgw__config_n_docs = N_GW + N_EX;

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* Every registration is matched by one unregister when the value is
 * freed (the registry counts them). A failed registration (out of memory)
 * only weakens scrubbing, which never decides correctness, so it is not an
 * error here. */
static void register_secret(const char *s)
{
    if (s && *s)
        (void)xgw__secret_register(s);
}

/* For values in secret memory (secmem.h). */
static void unregister_free(char *s)
{
    if (s) {
        xgw__secret_unregister(s);
        xgw__secmem_free(s);
    }
}

/* Fill err as a CONFIG error. file/key/inst may be NULL. */
XGW_PRINTF(6, 7)
static int cfg_fail(struct xgw_error *err, const char *file, int line, const char *key, const char *inst,
                    const char *fmt, ...)
{
    if (!err)
        return XGW_ERR_CONFIG;
    memset(err, 0, sizeof *err);
    err->kind = XGW_ERR_CONFIG;
    err->line = line;
    if (file)
        snprintf(err->file, sizeof err->file, "%s", file);
    if (key)
        snprintf(err->key, sizeof err->key, "%s", key);
    if (inst)
        snprintf(err->exchange, sizeof err->exchange, "%s", inst);
    /* through the common path: escaped, bounded and scrubbed of secrets
     * (our messages never quote a secret key's value; this also covers a
     * secret that happens to appear inside some other value) */
    va_list ap;
    va_start(ap, fmt);
    xgw__set_error(err, XGW_ERR_CONFIG, 0, fmt, ap);
    va_end(ap);
    return XGW_ERR_CONFIG;
}

/* A printable, bounded rendering of a non-secret value for messages. */
static const char *show(const char *v, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; v[i] && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)v[i];
        if (i >= 48) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        buf[o++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    buf[o] = '\0';
    return buf;
}

static unsigned levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 1000;
    unsigned row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Suggestion state: the closest candidate within a distance that still
 * looks like a typo (a third of the word, at least 1, at most 3). */
struct suggest {
    const char *word;
    const char *best;
    unsigned dist;
};

static void suggest_try(struct suggest *s, const char *cand)
{
    unsigned d = levenshtein(s->word, cand);
    size_t l = strlen(s->word);
    unsigned limit = (unsigned)(l / 3);
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    if (d <= limit && (!s->best || d < s->dist)) {
        s->best = cand;
        s->dist = d;
    }
}

static int unknown_key(struct xgw_error *err, const char *file, int line, const char *key, const char *inst,
                       const char *section, const struct suggest *s)
{
    char b[64];
    if (s->best)
        return cfg_fail(err, file, line, key, inst, "unknown key \"%s\" in [%s]; did you mean \"%s\"?",
                        show(key, b, sizeof b), section, s->best);
    return cfg_fail(err, file, line, key, inst, "unknown key \"%s\" in [%s]; see `xgw --help` for the keys",
                    show(key, b, sizeof b), section);
}

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static bool valid_ident(const char *s, bool dots)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_ident_char(s[i]) || (!dots && s[i] == '.'))
            return false;
    return s[0] != '.' && s[0] != '-';
}

static char *join_path(const char *dir, const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    size_t ld = strlen(dir), lp = strlen(p);
    char *r = malloc(ld + lp + 2);
    if (!r)
        return NULL;
    memcpy(r, dir, ld);
    r[ld] = '/';
    memcpy(r + ld + 1, p, lp + 1);
    return r;
}

static char *absolute_from_cwd(const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    return join_path(cwd, p);
}

static bool parse_int64(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"true", "yes", "on", "1"};
    static const char *const f[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, t[i])) {
            *out = true;
            return true;
        }
        if (!strcasecmp(s, f[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* "0.9" -> 90, "1" -> 100, "0.95" -> 95. At most two decimals (after
 * trailing zeros), no exponent: the margin is a plain fraction. */
static bool parse_pct(const char *s, int64_t *out)
{
    int64_t ip = 0, frac = 0;
    int nd = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p)) {
        ip = ip * 10 + (*p - '0');
        if (ip > 1000)
            return false;
        p++;
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        const char *fs = p;
        while (isdigit((unsigned char)*p))
            p++;
        const char *fe = p;
        while (fe > fs && fe[-1] == '0')
            fe--;
        for (const char *q = fs; q < fe; q++) {
            if (++nd > 2)
                return false;
            frac = frac * 10 + (*q - '0');
        }
        if (nd == 1)
            frac *= 10;
    }
    if (*p)
        return false;
    *out = ip * 100 + frac;
    return true;
}

static bool valid_hostname(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!(isalnum((unsigned char)c) || c == '-' || c == '.'))
            return false;
    }
    return h[0] != '-' && h[0] != '.';
}

/* host:port, [v6]:port, :port or port. A bare port is loopback: exposing the
 * metrics beyond the host must be written out. Returns the normalised form. */
static char *parse_listen(const char *v, const char **why)
{
    const char *host = "127.0.0.1", *port;
    size_t hl = strlen(host);
    bool v6 = false;
    const char *colon = strrchr(v, ':');
    if (!colon) {
        port = v;
    } else if (v[0] == '[') {
        const char *rb = strchr(v, ']');
        if (!rb || rb[1] != ':') {
            *why = "an IPv6 address must be written [addr]:port";
            return NULL;
        }
        host = v + 1;
        hl = (size_t)(rb - v - 1);
        port = rb + 2;
        v6 = true;
        char tmp[64];
        struct in6_addr a6;
        if (hl == 0 || hl >= sizeof tmp) {
            *why = "bad IPv6 address";
            return NULL;
        }
        memcpy(tmp, host, hl);
        tmp[hl] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) {
            *why = "bad IPv6 address";
            return NULL;
        }
    } else {
        port = colon + 1;
        if (colon != v) {
            host = v;
            hl = (size_t)(colon - v);
            if (memchr(v, ':', hl)) {
                *why = "an IPv6 address must be written [addr]:port";
                return NULL;
            }
            if (!valid_hostname(host, hl)) {
                *why = "bad host name";
                return NULL;
            }
        }
    }
    int64_t pn;
    if (!parse_int64(port, &pn) || pn < 0 || pn > 65535) {
        *why = "the port must be a number 0..65535";
        return NULL;
    }
    char *out = malloc(hl + 16);
    if (!out) {
        *why = "out of memory";
        return NULL;
    }
    snprintf(out, hl + 16, "%s%.*s%s:%d", v6 ? "[" : "", (int)hl, host, v6 ? "]" : "", (int)pn);
    return out;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* Split a comma-separated endpoint list; every item must start with scheme
 * and have a host. Trailing slashes are removed (plugins append paths). */
static int parse_endpoints(const char *v, const char *scheme, char ***out, size_t *n_out, char *why, size_t why_cap)
{
    char **list = NULL;
    size_t n = 0;
    const char *p = v;
    size_t sl = strlen(scheme);
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        const char *s = p;
        while (s < e && isspace((unsigned char)*s))
            s++;
        const char *t = e;
        while (t > s && isspace((unsigned char)t[-1]))
            t--;
        size_t len = (size_t)(t - s);
        if (len == 0) {
            snprintf(why, why_cap, "item %zu of the list is empty (two commas or a trailing comma?)", n + 1);
            goto fail;
        }
        if (n == MAX_ENDPOINTS) {
            snprintf(why, why_cap, "at most %d endpoints", MAX_ENDPOINTS);
            goto fail;
        }
        if (len <= sl || strncmp(s, scheme, sl) != 0) {
            snprintf(why, why_cap, "item %zu must start with %s (plain text transport is refused)", n + 1, scheme);
            goto fail;
        }
        for (const char *q = s; q < t; q++) {
            unsigned char c = (unsigned char)*q;
            if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '?' || c == '#' || c == '@') {
                snprintf(why, why_cap, "item %zu contains a character not allowed in a base URL", n + 1);
                goto fail;
            }
        }
        while (len > sl && s[len - 1] == '/')
            len--;
        if (len == sl || s[sl] == '/' || s[sl] == ':') {
            snprintf(why, why_cap, "item %zu has no host", n + 1);
            goto fail;
        }
        char **nl = realloc(list, (n + 1) * sizeof *nl);
        if (!nl)
            goto oom;
        list = nl;
        if (!(list[n] = strndup(s, len)))
            goto oom;
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = list;
    *n_out = n;
    return 0;
oom:
    snprintf(why, why_cap, "out of memory");
fail:
    free_list(list, n);
    return -1;
}

/* Read a secret from a file that only its owner may read. The fd is checked
 * with fstat after open, so a symlink (as container runtimes mount secrets)
 * is judged by its target, and there is no window between check and read.
 * The file is read straight into secret memory (free with xgw__secmem_free). */
static char *read_secret_file(const char *path, char *why, size_t why_cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, why_cap, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_cap, "%s is not a regular file", path);
        goto out;
    }
    if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
        snprintf(why, why_cap, "%s is readable or writable by group or others (mode %03o); run chmod 600 on it",
                 path, (unsigned)(st.st_mode & 0777));
        goto out;
    }
    if (st.st_size > MAX_SECRET_FILE) {
        snprintf(why, why_cap, "%s is larger than %ld bytes", path, MAX_SECRET_FILE);
        goto out;
    }
    buf = xgw__secmem_alloc((size_t)st.st_size + 1);
    if (!buf) {
        snprintf(why, why_cap, "out of memory (secret memory, see secmem.h)");
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
        buf[--got] = '\0';
    if (got == 0 || strlen(buf) != got) {
        snprintf(why, why_cap, "%s is empty or contains a NUL byte", path);
        xgw__secmem_free(buf);
        buf = NULL;
    }
out:
    close(fd);
    return buf;
}

static bool secret_text_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > MAX_VALUE_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return false;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------ */

enum section { SEC_NONE, SEC_GATEWAY, SEC_EXCHANGE };

struct pctx {
    struct xgw__config *cfg;
    struct xgw_error *err;
    bool failed;
    FILE *f;
    char *line;
    size_t line_cap;
    int lineno;
    enum section sec;
    size_t inst; /* index of the current instance */
    int gateway_line;
    struct xgw__kv gw_given[N_GW]; /* gateway keys as written (value unused) */
    size_t n_gw_given;
    char *plugin_dir_raw;
    int plugin_dir_line;
};

static struct xgw__inst_cfg *cur_inst(struct pctx *px) { return &px->cfg->insts[px->inst]; }

static const char *inst_name(struct pctx *px) { return px->sec == SEC_EXCHANGE ? cur_inst(px)->name : NULL; }

XGW_PRINTF(4, 5)
static int pfail(struct pctx *px, int line, const char *key, const char *fmt, ...)
{
    if (px->failed)
        return XGW_ERR_CONFIG;
    px->failed = true;
    char msg[XGW_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cfg_fail(px->err, px->cfg->path, line, key, inst_name(px), "%s", msg);
}

/* ${NAME} from the environment, "$$" for a literal "$". Returns a new
 * string or NULL with the error set. The expansion is not re-scanned. */
static char *expand_env(struct pctx *px, const char *key, const char *v)
{
    size_t cap = strlen(v) + 64, n = 0;
    char *o = malloc(cap);
    if (!o)
        goto oom;
    for (const char *p = v; *p;) {
        const char *piece = p;
        size_t plen = 1;
        if (p[0] == '$' && p[1] == '$') {
            p += 2;
        } else if (p[0] == '$' && p[1] == '{') {
            const char *e = strchr(p + 2, '}');
            if (!e) {
                pfail(px, px->lineno, key, "unterminated \"${\" in the value of %s (write $$ for a literal $)", key);
                goto fail;
            }
            size_t nl = (size_t)(e - (p + 2));
            char name[128];
            bool ok = nl > 0 && nl < sizeof name && !isdigit((unsigned char)p[2]);
            for (size_t i = 0; ok && i < nl; i++)
                ok = isalnum((unsigned char)p[2 + i]) || p[2 + i] == '_';
            if (!ok) {
                pfail(px, px->lineno, key, "bad environment variable reference in the value of %s", key);
                goto fail;
            }
            memcpy(name, p + 2, nl);
            name[nl] = '\0';
            piece = getenv(name);
            if (!piece) {
                pfail(px, px->lineno, key, "environment variable %s is not set (needed by %s)", name, key);
                goto fail;
            }
            plen = strlen(piece);
            p = e + 1;
        } else {
            p++;
        }
        if (n + plen + 1 > cap) {
            size_t ncap = (n + plen + 1) * 2;
            char *no = malloc(ncap);
            if (!no)
                goto oom;
            memcpy(no, o, n);
            explicit_bzero(o, n); /* may already hold a secret's expansion */
            free(o);
            o = no;
            cap = ncap;
        }
        memcpy(o + n, piece, plen);
        n += plen;
    }
    o[n] = '\0';
    if (n > MAX_VALUE_LEN) {
        pfail(px, px->lineno, key, "the value of %s is longer than %d bytes", key, MAX_VALUE_LEN);
        goto fail;
    }
    return o;
oom:
    pfail(px, px->lineno, key, "out of memory");
fail:
    if (o) {
        explicit_bzero(o, cap);
        free(o);
    }
    return NULL;
}

static const struct keydef *find_key(const struct keydef *tbl, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(tbl[i].name, name))
            return &tbl[i];
    return NULL;
}

static const struct xgw__kv *find_kv(const struct xgw__kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(kv[i].key, key))
            return &kv[i];
    return NULL;
}

static int kv_append(struct xgw__kv **arr, size_t *n, const char *key, const char *value, int line, bool secret)
{
    struct xgw__kv *na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na)
        return -1;
    *arr = na;
    struct xgw__kv *kv = &na[*n];
    kv->key = strdup(key);
    kv->value = !value ? NULL : secret ? xgw__secmem_strdup(value) : strdup(value);
    kv->line = line;
    kv->secret = secret;
    kv->literal = false;
    if (!kv->key || (value && !kv->value)) {
        free(kv->key);
        if (secret)
            xgw__secmem_free(kv->value);
        else
            wipe_free(kv->value);
        return -1;
    }
    (*n)++;
    return 0;
}

/* Store one value of a known key. base is the config or the instance.
 * line 0 = a default being applied. */
static int set_value(struct pctx *px, const struct keydef *kd, void *base, const char *v, int line)
{
    char *field = (char *)base + kd->off;
    const char *k = kd->name;
    char b[64];
    char why[200];
    int64_t iv;
    bool bv;

    if (line && *v == '\0' && kd->type != KT_STR)
        return pfail(px, line, k, "%s has an empty value; remove the line to get the default", k);
    switch (kd->type) {
    case KT_STR: {
        char **dst = (char **)(void *)field;
        free(*dst);
        *dst = *v ? strdup(v) : NULL;
        if (*v && !*dst)
            return pfail(px, line, k, "out of memory");
        return 0;
    }
    case KT_IDENT: {
        if (!valid_ident(v, false))
            return pfail(px, line, k, "%s = \"%s\" is not a valid name (letters, digits, '_' and '-', at most %d)", k,
                         show(v, b, sizeof b), MAX_NAME_LEN);
        char **dst = (char **)(void *)field;
        free(*dst);
        if (!(*dst = strdup(v)))
            return pfail(px, line, k, "out of memory");
        return 0;
    }
    case KT_SECRET:
    case KT_SECRET_FILE: {
        struct xgw__inst_cfg *inst = base;
        /* the other spelling of the same secret */
        char other[80];
        if (kd->type == KT_SECRET)
            snprintf(other, sizeof other, "%s_file", k);
        else
            snprintf(other, sizeof other, "%.*s", (int)(strlen(k) - 5), k);
        if (find_kv(inst->given, inst->n_given, other))
            return pfail(px, line, k, "set either %s or %s, not both", other, k);
        char *val;
        if (kd->type == KT_SECRET) {
            if (!secret_text_ok(v))
                return pfail(px, line, k, "the value of %s is invalid (empty, too long or with control characters; "
                             "not shown: secret)", k);
            val = xgw__secmem_strdup(v);
            if (!val)
                return pfail(px, line, k, "out of memory (secret memory, see secmem.h)");
        } else {
            char *path = join_path(px->cfg->dir, v);
            if (!path)
                return pfail(px, line, k, "out of memory");
            val = read_secret_file(path, why, sizeof why);
            free(path);
            if (!val)
                return pfail(px, line, k, "%s: %s", k, why);
            if (!secret_text_ok(val)) {
                xgw__secmem_free(val);
                return pfail(px, line, k, "the content of the %s file is invalid (control characters; not shown: "
                             "secret)", k);
            }
        }
        char **dst = (char **)(void *)field;
        unregister_free(*dst);
        *dst = val;
        register_secret(val);
        return 0;
    }
    case KT_PATH: {
        char *path = join_path(px->cfg->dir, v);
        if (!path)
            return pfail(px, line, k, "out of memory");
        if (access(path, R_OK) != 0) {
            int e = errno;
            pfail(px, line, k, "%s: cannot read %s: %s", k, path, strerror(e));
            free(path);
            return XGW_ERR_CONFIG;
        }
        char **dst = (char **)(void *)field;
        free(*dst);
        *dst = path;
        return 0;
    }
    case KT_DIR: /* plugin_dir: resolved after the override rules, at the end */
        free(px->plugin_dir_raw);
        if (!(px->plugin_dir_raw = strdup(v)))
            return pfail(px, line, k, "out of memory");
        px->plugin_dir_line = line;
        return 0;
    case KT_REST:
    case KT_WS: {
        char **list;
        size_t n;
        if (parse_endpoints(v, kd->type == KT_REST ? "https://" : "wss://", &list, &n, why, sizeof why) != 0)
            return pfail(px, line, k, "%s: %s", k, why);
        char ***dst = (char ***)(void *)field;
        size_t *dn = kd->type == KT_REST ? &((struct xgw__inst_cfg *)base)->n_rest : &((struct xgw__inst_cfg *)base)->n_ws;
        free_list(*dst, *dn);
        *dst = list;
        *dn = n;
        return 0;
    }
    case KT_INT:
    case KT_I64:
        if (!parse_int64(v, &iv))
            return pfail(px, line, k, "%s = \"%s\" is not a whole number", k, show(v, b, sizeof b));
        if (iv < kd->min || iv > kd->max)
            return pfail(px, line, k, "%s = %lld is out of range %lld..%lld", k, (long long)iv, (long long)kd->min,
                         (long long)kd->max);
        if (kd->type == KT_INT)
            memcpy(field, &(int){(int)iv}, sizeof(int));
        else
            memcpy(field, &iv, sizeof iv);
        return 0;
    case KT_BOOL:
        if (!parse_bool(v, &bv))
            return pfail(px, line, k, "%s = \"%s\" is not a boolean (true/false, yes/no, on/off, 1/0)", k,
                         show(v, b, sizeof b));
        memcpy(field, &bv, sizeof bv);
        return 0;
    case KT_PCT:
        if (!parse_pct(v, &iv))
            return pfail(px, line, k, "%s = \"%s\" is not a decimal like 0.9 (at most 2 decimals)", k,
                         show(v, b, sizeof b));
        if (iv < kd->min || iv > kd->max)
            return pfail(px, line, k, "%s = %s is out of range %s", k, show(v, b, sizeof b), kd->range);
        memcpy(field, &(int){(int)iv}, sizeof(int));
        return 0;
    case KT_LEVEL: {
        static const char *const names[] = {"error", "warn", "info", "debug"};
        for (int i = 0; i < 4; i++)
            if (!strcmp(v, names[i])) {
                enum xgw_log_level l = (enum xgw_log_level)i;
                memcpy(field, &l, sizeof l);
                return 0;
            }
        return pfail(px, line, k, "%s = \"%s\" must be one of error, warn, info, debug", k, show(v, b, sizeof b));
    }
    case KT_FORMAT:
        if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
            return pfail(px, line, k, "%s = \"%s\" must be text or json", k, show(v, b, sizeof b));
        bv = !strcmp(v, "json");
        memcpy(field, &bv, sizeof bv);
        return 0;
    case KT_LISTEN: {
        const char *w = NULL;
        char *l = parse_listen(v, &w);
        if (!l)
            return pfail(px, line, k, "%s = \"%s\": %s", k, show(v, b, sizeof b), w);
        char **dst = (char **)(void *)field;
        free(*dst);
        *dst = l;
        return 0;
    }
    }
    return pfail(px, line, k, "internal error: unhandled key type");
}

static int apply_defaults(struct pctx *px, const struct keydef *tbl, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++)
        if (tbl[i].def && tbl[i].type != KT_DIR && set_value(px, &tbl[i], base, tbl[i].def, 0) != 0)
            return -1;
    return 0;
}

static int begin_section(struct pctx *px, const char *name)
{
    char b[64];
    int line = px->lineno;
    if (!strcmp(name, "gateway")) {
        if (px->gateway_line)
            return pfail(px, line, NULL, "section [gateway] appears twice (first at line %d)", px->gateway_line);
        px->gateway_line = line;
        px->sec = SEC_GATEWAY;
        return 0;
    }
    if (strncmp(name, "exchange.", 9) != 0) {
        struct suggest s = {name, NULL, 0};
        suggest_try(&s, "gateway");
        if (s.best)
            return pfail(px, line, NULL, "unknown section [%s]; did you mean [gateway]?", show(name, b, sizeof b));
        return pfail(px, line, NULL, "unknown section [%s]; sections are [gateway] and [exchange.<instance>]",
                     show(name, b, sizeof b));
    }
    const char *iname = name + 9;
    if (!valid_ident(iname, false))
        return pfail(px, line, NULL, "[%s]: the instance name must be 1..%d letters, digits, '_' or '-'",
                     show(name, b, sizeof b), MAX_NAME_LEN);
    struct xgw__config *cfg = px->cfg;
    for (size_t i = 0; i < cfg->n_insts; i++)
        if (!strcmp(cfg->insts[i].name, iname))
            return pfail(px, line, NULL, "duplicate instance [exchange.%s] (first at line %d)", iname,
                         cfg->insts[i].line);
    struct xgw__inst_cfg *ni = realloc(cfg->insts, (cfg->n_insts + 1) * sizeof *ni);
    if (!ni)
        return pfail(px, line, NULL, "out of memory");
    cfg->insts = ni;
    struct xgw__inst_cfg *inst = &ni[cfg->n_insts++];
    memset(inst, 0, sizeof *inst);
    inst->line = line;
    if (!(inst->name = strdup(iname)))
        return pfail(px, line, NULL, "out of memory");
    px->inst = cfg->n_insts - 1;
    px->sec = SEC_EXCHANGE;
    return apply_defaults(px, ex_keys, N_EX, inst);
}

/* inih's handler: one key = value of the line the reader just returned. */
/* A secret written in the configuration file itself is only as safe as the
 * file: like a secret file, it must not be readable by group or others. */
static const char *literal_secret_why(const struct xgw__config *cfg, const char *key)
{
    static _Thread_local char why[400];
    snprintf(why, sizeof why,
             "%s is written in %s, which group or others may read (mode %03o); chmod 600 the file, or take the "
             "value from ${VAR} or %s_file",
             key, cfg->path, cfg->file_mode & 0777u, key);
    return why;
}

static int on_kv(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* we track sections ourselves (see the reader) */
    struct pctx *px = user;
    int line = px->lineno;
    char b[64];
    if (px->failed)
        return 0;
    if (px->sec == SEC_NONE)
    {
        pfail(px, line, name, "key \"%s\" outside of any section; put it under [gateway] or [exchange.<instance>]",
              show(name, b, sizeof b));
        return 0;
    }

    char *v = expand_env(px, name, value);
    if (!v)
        return 0;
    int rc = 0;
    if (px->sec == SEC_GATEWAY) {
        const struct keydef *kd = find_key(gw_keys, N_GW, name);
        if (!kd) {
            struct suggest s = {name, NULL, 0};
            for (size_t i = 0; i < N_GW; i++)
                suggest_try(&s, gw_keys[i].name);
            px->failed = true;
            unknown_key(px->err, px->cfg->path, line, name, NULL, "gateway", &s);
            rc = -1;
            goto out;
        }
        for (size_t i = 0; i < px->n_gw_given; i++)
            if (!strcmp(px->gw_given[i].key, kd->name)) {
                rc = pfail(px, line, name, "%s is set twice in [gateway] (first at line %d)", name,
                           px->gw_given[i].line);
                goto out;
            }
        px->gw_given[px->n_gw_given++] = (struct xgw__kv){(char *)(uintptr_t)kd->name, NULL, line, false, false};
        rc = set_value(px, kd, px->cfg, v, line);
    } else {
        struct xgw__inst_cfg *inst = cur_inst(px);
        const struct xgw__kv *prev = find_kv(inst->given, inst->n_given, name);
        if (!prev)
            prev = find_kv(inst->extras, inst->n_extras, name);
        if (prev) {
            rc = pfail(px, line, name, "%s is set twice in [exchange.%s] (first at line %d)", name, inst->name,
                       prev->line);
            goto out;
        }
        const struct keydef *kd = find_key(ex_keys, N_EX, name);
        if (!kd) {
            /* a plugin key, checked by xgw__config_bind_plugin */
            if (strlen(name) >= sizeof px->err->key || kv_append(&inst->extras, &inst->n_extras, name, v, line, false))
                rc = pfail(px, line, NULL, "key name too long or out of memory");
            else
                inst->extras[inst->n_extras - 1].literal = !strstr(value, "${");
            goto out;
        }
        /* api_key is scrubbed from logs but identifies rather than
         * authenticates: only the secret itself needs a private file. */
        if (kd->type == KT_SECRET && kd->off == offsetof(struct xgw__inst_cfg, api_secret) && !strstr(value, "${") &&
            (px->cfg->file_mode & 077)) {
            rc = pfail(px, line, name, "%s", literal_secret_why(px->cfg, name));
            goto out;
        }
        rc = set_value(px, kd, inst, v, line);
        if (rc == 0) {
            bool secret = kd->type == KT_SECRET;
            const char *shown = secret ? NULL : v;
            if (kd->type == KT_BOOL)
                shown = *(bool *)(void *)((char *)inst + kd->off) ? "true" : "false";
            if (kv_append(&inst->given, &inst->n_given, kd->name, shown, line, secret))
                rc = pfail(px, line, name, "out of memory");
        }
    }
out:
    wipe_free(v);
    return rc == 0 && !px->failed;
}

/* inih's reader: one physical line per call (see the top of the file). */
static char *reader(char *str, int num, void *user)
{
    struct pctx *px = user;
    if (px->failed)
        return NULL;
    errno = 0;
    ssize_t n = getline(&px->line, &px->line_cap, px->f);
    if (n < 0) {
        if (errno && errno != EINVAL)
            pfail(px, px->lineno, NULL, "read error: %s", strerror(errno));
        return NULL;
    }
    px->lineno++;
    char *l = px->line;
    if ((size_t)n != strlen(l)) {
        pfail(px, px->lineno, NULL, "the line contains a NUL byte");
        return NULL;
    }
    if (px->lineno == 1 && !strncmp(l, "\xEF\xBB\xBF", 3)) { /* BOM: inih would drop it too */
        l += 3;
        n -= 3;
    }
    while (*l == ' ' || *l == '\t') {
        l++;
        n--;
    }
    if (n + 2 > num) {
        pfail(px, px->lineno, NULL, "the line is longer than %d characters", num - 3);
        return NULL;
    }
    /* Structure: comment, blank, [section] or key = value. */
    char *t = l + strcspn(l, "\r\n");
    bool blank = t == l;
    if (!blank && *l != ';' && *l != '#') {
        if (*l == '[') {
            char *rb = strchr(l, ']');
            if (!rb) {
                pfail(px, px->lineno, NULL, "unterminated section header (missing \"]\")");
                return NULL;
            }
            const char *after = rb + 1;
            while (*after == ' ' || *after == '\t')
                after++;
            if (*after && *after != ';' && *after != '#' && *after != '\r' && *after != '\n') {
                pfail(px, px->lineno, NULL, "unexpected text after the section header");
                return NULL;
            }
            char name[128];
            const char *s = l + 1, *e = rb;
            while (s < e && isspace((unsigned char)*s))
                s++;
            while (e > s && isspace((unsigned char)e[-1]))
                e--;
            if ((size_t)(e - s) >= sizeof name) {
                pfail(px, px->lineno, NULL, "the section name is too long");
                return NULL;
            }
            memcpy(name, s, (size_t)(e - s));
            name[e - s] = '\0';
            if (begin_section(px, name) != 0)
                return NULL;
        } else {
            char *eq = strchr(l, '=');
            char *semi = strstr(l, " ;");
            if (!eq || (semi && semi < eq)) {
                pfail(px, px->lineno, NULL, "expected \"key = value\", a [section] or a comment");
                return NULL;
            }
            size_t klen = strcspn(l, "=:");
            if (l + klen < eq) {
                pfail(px, px->lineno, NULL, "a key name cannot contain ':'");
                return NULL;
            }
            while (klen > 0 && isspace((unsigned char)l[klen - 1]))
                klen--;
            if (klen == 0) {
                pfail(px, px->lineno, NULL, "missing key name before \"=\"");
                return NULL;
            }
            if (klen > 48) {
                pfail(px, px->lineno, NULL, "the key name is longer than 48 characters");
                return NULL;
            }
        }
    }
    memcpy(str, l, (size_t)n + 1);
    return str;
}

static int finish_instance(struct pctx *px, struct xgw__inst_cfg *inst)
{
    px->sec = SEC_EXCHANGE;
    for (size_t i = 0; i < px->cfg->n_insts; i++)
        if (&px->cfg->insts[i] == inst)
            px->inst = i;
    if (!inst->plugin)
        return pfail(px, inst->line, "plugin", "[exchange.%s] has no plugin key (e.g. plugin = binance)", inst->name);
    if (inst->streams) {
        struct xgw__stream_spec *sp = NULL;
        size_t nsp = 0;
        char why[160];
        int bad = xgw__streams_parse(inst->streams, &sp, &nsp, why, sizeof why);
        free(sp);
        if (bad)
            return pfail(px, xgw__config_line(inst, "streams"), "streams", "streams: %s", why);
    }
    static const char *const pairs[][2] = {
        {"pool_min", "pool_max"},
        {"breaker_recovery_s", "breaker_recovery_max_s"},
        {"retry_backoff_ms", "retry_backoff_max_ms"},
        {"ws_reconnect_initial_ms", "ws_reconnect_max_ms"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const struct keydef *lo = find_key(ex_keys, N_EX, pairs[i][0]);
        const struct keydef *hi = find_key(ex_keys, N_EX, pairs[i][1]);
        int vlo, vhi;
        memcpy(&vlo, (char *)inst + lo->off, sizeof vlo);
        memcpy(&vhi, (char *)inst + hi->off, sizeof vhi);
        if (vhi < vlo) {
            /* blame the key that was written (the upper one if both were) */
            const char *k = find_kv(inst->given, inst->n_given, hi->name) ? hi->name : lo->name;
            return pfail(px, xgw__config_line(inst, k), k, "%s (%d) must be >= %s (%d)", hi->name, vhi, lo->name, vlo);
        }
    }
    return 0;
}

/* The normalised metrics_listen ("host:port" / "[v6]:port"): is the host
 * loopback? Names other than localhost count as not loopback (they are
 * resolved only when the server starts). */
static bool listen_is_loopback(const char *l)
{
    char host[256];
    const char *end = l[0] == '[' ? strchr(l, ']') : strrchr(l, ':');
    const char *start = l[0] == '[' ? l + 1 : l;
    size_t n = end ? (size_t)(end - start) : 0;
    if (n == 0 || n >= sizeof host)
        return false;
    memcpy(host, start, n);
    host[n] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (!strcasecmp(host, "localhost"))
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return false;
}

static bool stream_sym_char(char c) { return isalnum((unsigned char)c) || strchr("_.-/@", c); }

int xgw__streams_parse(const char *v, struct xgw__stream_spec **out, size_t *n_out, char *why, size_t why_cap)
{
    static const char *const chans[] = {"ticker", "trades", "book", "orders"};
    *out = NULL;
    *n_out = 0;
    struct xgw__stream_spec *arr = NULL;
    size_t n = 0;
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char item[512];
        if (len == 0 || len >= sizeof item) {
            snprintf(why, why_cap, len ? "an item is too long" : "empty item (write channel:SYMBOL, ...)");
            goto fail;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        struct xgw__stream_spec sp;
        memset(&sp, 0, sizeof sp);
        char *f2 = strchr(item, ':');
        char *f3 = f2 ? strchr(f2 + 1, ':') : NULL;
        if (f2)
            *f2++ = '\0';
        if (f3)
            *f3++ = '\0';
        for (int k = 0; k < 4; k++)
            if (!strcmp(item, chans[k]))
                sp.channel = (enum xgw_channel)(XGW_CH_TICKER + k);
        if (!sp.channel) {
            snprintf(why, why_cap, "\"%.40s\" is not a channel (ticker, trades, book, orders)", item);
            goto fail;
        }
        if (sp.channel == XGW_CH_ORDERS && f2) {
            snprintf(why, why_cap, "orders takes no symbol (write just \"orders\")");
            goto fail;
        }
        if (sp.channel != XGW_CH_ORDERS && (!f2 || !*f2)) {
            snprintf(why, why_cap, "%s needs a symbol (e.g. %s:BTCUSDT)", item, item);
            goto fail;
        }
        for (char *s = f2; s && *s;) {
            char *plus = strchr(s, '+');
            size_t sl = plus ? (size_t)(plus - s) : strlen(s);
            bool ok = sl > 0 && sl < XGW_SYMBOL_MAX && sp.n_symbols < XGW__STREAM_MAX_SYMS;
            for (size_t k = 0; ok && k < sl; k++)
                ok = stream_sym_char(s[k]);
            if (!ok) {
                snprintf(why, why_cap, "bad symbol list \"%.60s\" (SYMBOL+SYMBOL..., at most %d)", f2,
                         XGW__STREAM_MAX_SYMS);
                goto fail;
            }
            memcpy(sp.symbols[sp.n_symbols], s, sl);
            sp.symbols[sp.n_symbols++][sl] = '\0';
            s = plus ? plus + 1 : NULL;
            if (plus && !*s) {
                snprintf(why, why_cap, "bad symbol list \"%.60s\" (ends with +)", f2);
                goto fail;
            }
        }
        if (f3) {
            int64_t d;
            if (sp.channel != XGW_CH_BOOK || !parse_int64(f3, &d) || d < 1 || d > 1000) {
                snprintf(why, why_cap, sp.channel != XGW_CH_BOOK ? "only book takes a depth"
                                                                 : "the book depth must be 1..1000");
                goto fail;
            }
            sp.depth = (uint32_t)d;
        }
        struct xgw__stream_spec *na = realloc(arr, (n + 1) * sizeof *arr);
        if (!na) {
            snprintf(why, why_cap, "out of memory");
            goto fail;
        }
        arr = na;
        arr[n++] = sp;
        if (!e)
            break;
        p = e + 1;
    }
    *out = arr;
    *n_out = n;
    return 0;
fail:
    free(arr);
    return -1;
}

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *slash = strrchr(copy, '/');
    const char *d;
    if (!slash)
        d = ".";
    else if (slash == copy)
        d = "/";
    else {
        *slash = '\0';
        d = copy;
    }
    char *r = realpath(d, NULL);
    free(copy);
    return r;
}

int xgw__config_load(const char *path, const char *plugin_dir_override, struct xgw__config **out,
                     struct xgw_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return cfg_fail(err, NULL, 0, NULL, NULL, "no configuration file given (-c FILE)");
    struct xgw__config *cfg = calloc(1, sizeof *cfg);
    struct pctx px = {.cfg = cfg, .err = err};
    if (!cfg || !(cfg->path = strdup(path))) {
        free(cfg);
        return cfg_fail(err, path, 0, NULL, NULL, "out of memory");
    }
    px.f = fopen(path, "re");
    if (!px.f) {
        int e = errno;
        xgw__config_free(cfg);
        return cfg_fail(err, path, 0, NULL, NULL, "cannot open the configuration file: %s", strerror(e));
    }
    /* stdio's own buffer would hold the file's text - secrets included -
     * and be freed unwiped by fclose: give it one we wipe (test_security) */
    char iobuf[4096];
    setvbuf(px.f, iobuf, _IOFBF, sizeof iobuf);
    struct stat st;
    if (fstat(fileno(px.f), &st) != 0 || !S_ISREG(st.st_mode)) {
        pfail(&px, 0, NULL, "the configuration path is not a regular file");
        goto done;
    }
    cfg->file_mode = (unsigned)st.st_mode;
    if (!(cfg->dir = dir_of(path))) {
        pfail(&px, 0, NULL, "cannot resolve the folder of the configuration file: %s", strerror(errno));
        goto done;
    }
    if (apply_defaults(&px, gw_keys, N_GW, cfg) != 0)
        goto done;

    int rc = ini_parse_stream(reader, &px, on_kv, &px);
    if (!px.failed && rc != 0)
        pfail(&px, rc > 0 ? rc : 0, NULL, rc == -2 ? "out of memory" : "syntax error");
    if (!px.failed && ferror(px.f))
        pfail(&px, px.lineno, NULL, "read error");
    if (px.failed)
        goto done;

    for (size_t i = 0; i < cfg->n_insts && !px.failed; i++)
        finish_instance(&px, &cfg->insts[i]);
    if (px.failed)
        goto done;
    if (cfg->metrics_listen && !cfg->metrics_listen_public && !listen_is_loopback(cfg->metrics_listen)) {
        int ln = 0;
        for (size_t i = 0; i < px.n_gw_given; i++)
            if (!strcmp(px.gw_given[i].key, "metrics_listen"))
                ln = px.gw_given[i].line;
        px.sec = SEC_GATEWAY;
        pfail(&px, ln, "metrics_listen",
              "metrics_listen = %s is not a loopback address: /metrics, /health and the status page have no "
              "authentication; set metrics_listen_public = true to serve them there",
              cfg->metrics_listen);
        goto done;
    }
    px.sec = SEC_NONE;

    /* plugin_dir: --plugin-dir beats $XGW_PLUGIN_DIR beats the file beats the
     * compiled-in default, so one config works in the build tree and installed. */
    const char *envdir = getenv("XGW_PLUGIN_DIR");
    if (plugin_dir_override && *plugin_dir_override)
        cfg->plugin_dir = absolute_from_cwd(plugin_dir_override);
    else if (envdir && *envdir)
        cfg->plugin_dir = absolute_from_cwd(envdir);
    else if (px.plugin_dir_raw)
        cfg->plugin_dir = join_path(cfg->dir, px.plugin_dir_raw);
    else
        cfg->plugin_dir = xgw__default_plugin_dir(); /* installed tree, else compiled in */
    if (!cfg->plugin_dir)
        pfail(&px, px.plugin_dir_line, "plugin_dir", "cannot resolve plugin_dir (out of memory or no cwd)");

done:
    fclose(px.f);
    explicit_bzero(iobuf, sizeof iobuf);
    if (px.line)
        explicit_bzero(px.line, px.line_cap);
    free(px.line);
    free(px.plugin_dir_raw);
    if (px.failed) {
        xgw__config_free(cfg);
        return XGW_ERR_CONFIG;
    }
    *out = cfg;
    return 0;
}

static void free_kvs(struct xgw__kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        if (kv[i].secret && kv[i].value) {
            xgw__secret_unregister(kv[i].value);
            xgw__secmem_free(kv[i].value);
        } else {
            wipe_free(kv[i].value); /* a plugin secret of an unbound instance */
        }
    }
    free(kv);
}

void xgw__config_free(struct xgw__config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_insts; i++) {
        struct xgw__inst_cfg *in = &cfg->insts[i];
        free(in->name);
        free(in->plugin);
        free(in->network);
        unregister_free(in->api_key);
        unregister_free(in->api_secret);
        free_list(in->rest_endpoints, in->n_rest);
        free_list(in->ws_endpoints, in->n_ws);
        free(in->ca_file);
        free(in->streams);
        free(in->rate_limits);
        free_kvs(in->extras, in->n_extras);
        free_kvs(in->given, in->n_given);
    }
    free(cfg->insts);
    free(cfg->path);
    free(cfg->dir);
    free(cfg->plugin_dir);
    free(cfg->metrics_listen);
    free(cfg);
}

/* ------------------------------------------------------------------------ */
/* Look-ups                                                                  */
/* ------------------------------------------------------------------------ */

int xgw__config_line(const struct xgw__inst_cfg *inst, const char *key)
{
    const struct xgw__kv *kv = find_kv(inst->given, inst->n_given, key);
    if (!kv)
        kv = find_kv(inst->extras, inst->n_extras, key);
    return kv && kv->line > 0 ? kv->line : inst->line;
}

const char *xgw__config_get(const struct xgw__inst_cfg *inst, const char *key)
{
    if (!inst || !key)
        return NULL;
    if (!strcmp(key, "name"))
        return inst->name;
    if (!strcmp(key, "plugin"))
        return inst->plugin;
    if (!strcmp(key, "network"))
        return inst->network;
    if (!strcmp(key, "api_key"))
        return inst->api_key;
    if (!strcmp(key, "api_secret"))
        return inst->api_secret;
    if (!strcmp(key, "ca_file"))
        return inst->ca_file;
    if (!strcmp(key, "streams"))
        return inst->streams;
    const struct keydef *kd = find_key(ex_keys, N_EX, key);
    if (kd) {
        const struct xgw__kv *kv = find_kv(inst->given, inst->n_given, key);
        if (kv)
            return kv->value;
        return kd->def;
    }
    const struct xgw__kv *kv = find_kv(inst->extras, inst->n_extras, key);
    return kv ? kv->value : NULL;
}

/* ------------------------------------------------------------------------ */
/* Plugin keys                                                               */
/* ------------------------------------------------------------------------ */

static const struct xgw_cfg_key *plugin_key(const struct xgw_plugin *p, const char *name)
{
    for (size_t i = 0; i < p->n_keys; i++)
        if (p->keys[i].name && !strcmp(p->keys[i].name, name))
            return &p->keys[i];
    return NULL;
}

static int check_typed(const struct xgw__config *cfg, const struct xgw__inst_cfg *inst, const struct xgw_cfg_key *pk,
                       const struct xgw__kv *kv, struct xgw_error *err)
{
    const char *v = kv->value;
    char b[64];
    int64_t iv;
    bool bv;
    xgw_dec d;
    bool ok = true;
    const char *what = "";
    switch (pk->type) {
    case XGW_CFG_STRING:
        ok = pk->secret ? secret_text_ok(v) : strlen(v) <= MAX_VALUE_LEN;
        what = "text";
        break;
    case XGW_CFG_INT:
        if (!parse_int64(v, &iv)) {
            ok = false;
        } else if ((pk->min || pk->max) && (iv < pk->min || iv > pk->max)) {
            if (pk->secret)
                return cfg_fail(err, cfg->path, kv->line, kv->key, inst->name,
                                "the value of %s is out of range (not shown: secret)", kv->key);
            return cfg_fail(err, cfg->path, kv->line, kv->key, inst->name, "%s = %lld is out of range %lld..%lld",
                            kv->key, (long long)iv, (long long)pk->min, (long long)pk->max);
        }
        what = "a whole number";
        break;
    case XGW_CFG_BOOL:
        ok = parse_bool(v, &bv);
        what = "a boolean (true/false)";
        break;
    case XGW_CFG_DECIMAL:
        ok = xgw_dec_parse_cstr(v, &d) == XGW_DEC_OK;
        what = "a decimal number";
        break;
    }
    if (ok)
        return 0;
    if (pk->secret)
        return cfg_fail(err, cfg->path, kv->line, kv->key, inst->name,
                        "the value of %s is invalid: expected %s (not shown: secret)", kv->key, what);
    return cfg_fail(err, cfg->path, kv->line, kv->key, inst->name, "%s = \"%s\" is not %s", kv->key,
                    show(v, b, sizeof b), what);
}

int xgw__config_bind_plugin(const struct xgw__config *cfg, struct xgw__inst_cfg *inst,
                            const struct xgw_plugin *plugin, struct xgw_error *err)
{
    if (inst->bound == plugin)
        return 0; /* idempotent: xgw check and xgw_open may both bind */
    if (inst->bound)
        return cfg_fail(err, cfg->path, inst->line, "plugin", inst->name, "instance already bound to another plugin");

    /* Network: the plugin's first by default. */
    const struct xgw_network *net = NULL;
    if (!inst->network) {
        if (plugin->n_networks == 0 || !plugin->networks[0].name)
            return cfg_fail(err, cfg->path, inst->line, "network", inst->name, "plugin %s declares no network",
                            plugin->name);
        if (!(inst->network = strdup(plugin->networks[0].name)))
            return cfg_fail(err, cfg->path, inst->line, "network", inst->name, "out of memory");
        net = &plugin->networks[0];
    } else {
        char names[160] = "";
        for (size_t i = 0; i < plugin->n_networks; i++) {
            if (!strcmp(plugin->networks[i].name, inst->network))
                net = &plugin->networks[i];
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", plugin->networks[i].name);
        }
        if (!net)
            return cfg_fail(err, cfg->path, xgw__config_line(inst, "network"), "network", inst->name,
                            "network \"%s\" is not offered by plugin %s (one of: %s)", inst->network, plugin->name,
                            names);
    }
    if (inst->n_rest == 0 && net->n_rest == 0)
        return cfg_fail(err, cfg->path, inst->line, "rest_endpoints", inst->name,
                        "plugin %s has no default REST endpoint for network %s; set rest_endpoints", plugin->name,
                        net->name);

    /* Extras: each must be a plugin key, or <secret>_file. */
    size_t n0 = inst->n_extras;
    for (size_t i = 0; i < n0; i++) {
        struct xgw__kv *kv = &inst->extras[i];
        const struct xgw_cfg_key *pk = plugin_key(plugin, kv->key);
        if (pk) {
            char fk[80];
            snprintf(fk, sizeof fk, "%s_file", pk->name);
            if (pk->secret && find_kv(inst->extras, inst->n_extras, fk))
                return cfg_fail(err, cfg->path, kv->line, kv->key, inst->name, "set either %s or %s, not both",
                                pk->name, fk);
            if (pk->secret && !kv->secret) {
                /* invariant: secret <=> registered and in secret memory */
                char *sv = xgw__secmem_strdup(kv->value); /* an extra always has a value */
                if (!sv)
                    return cfg_fail(err, cfg->path, kv->line, kv->key, inst->name,
                                    "out of memory (secret memory, see secmem.h)");
                wipe_free(kv->value);
                kv->value = sv;
                kv->secret = true;
                register_secret(kv->value);
            }
            if (pk->secret && kv->literal && (cfg->file_mode & 077))
                return cfg_fail(err, cfg->path, kv->line, kv->key, inst->name, "%s",
                                literal_secret_why(cfg, kv->key));
            if (check_typed(cfg, inst, pk, kv, err))
                return XGW_ERR_CONFIG;
            continue;
        }
        size_t kl = strlen(kv->key);
        if (kl > 5 && !strcmp(kv->key + kl - 5, "_file")) {
            char base[64];
            snprintf(base, sizeof base, "%.*s", (int)(kl - 5), kv->key);
            pk = plugin_key(plugin, base);
            if (pk && pk->secret) {
                char why[200];
                char *path = join_path(cfg->dir, kv->value);
                char *val = path ? read_secret_file(path, why, sizeof why) : NULL;
                if (!path)
                    snprintf(why, sizeof why, "out of memory");
                free(path);
                if (!val)
                    return cfg_fail(err, cfg->path, kv->line, kv->key, inst->name, "%s: %s", kv->key, why);
                register_secret(val);
                int line = kv->line;
                int rc = kv_append(&inst->extras, &inst->n_extras, base, val, line, true);
                xgw__secmem_free(val);
                if (rc)
                    return cfg_fail(err, cfg->path, line, base, inst->name, "out of memory");
                if (check_typed(cfg, inst, pk, &inst->extras[inst->n_extras - 1], err))
                    return XGW_ERR_CONFIG;
                continue;
            }
        }
        struct suggest s = {kv->key, NULL, 0};
        for (size_t j = 0; j < N_EX; j++)
            suggest_try(&s, ex_keys[j].name);
        for (size_t j = 0; j < plugin->n_keys; j++)
            if (plugin->keys[j].name)
                suggest_try(&s, plugin->keys[j].name);
        char sec[80];
        snprintf(sec, sizeof sec, "exchange.%s", inst->name);
        return unknown_key(err, cfg->path, kv->line, kv->key, inst->name, sec, &s);
    }

    /* Defaults of the plugin's keys that were not written. */
    for (size_t j = 0; j < plugin->n_keys; j++) {
        const struct xgw_cfg_key *pk = &plugin->keys[j];
        if (!pk->name || !pk->def || find_kv(inst->extras, inst->n_extras, pk->name))
            continue;
        if (kv_append(&inst->extras, &inst->n_extras, pk->name, pk->def, 0, pk->secret))
            return cfg_fail(err, cfg->path, inst->line, pk->name, inst->name, "out of memory");
        if (pk->secret)
            register_secret(pk->def);
    }
    inst->bound = plugin;
    return 0;
}
