/*
 * core/config.h — the parsed INI configuration (internal to libxgw).
 *
 * Loading is two-phase: xgw__config_load() parses and validates every core
 * key and keeps keys it does not know as "extras" with their line numbers;
 * once an instance's plugin is loaded, xgw__config_bind_plugin() validates
 * the extras against the plugin's declared keys (struct xgw_cfg_key) and
 * applies their defaults. Every error names file, line and key and never
 * contains a secret's value.
 */
#ifndef XGW_CORE_CONFIG_H
#define XGW_CORE_CONFIG_H

#include "xgw/plugin.h"

struct xgw__kv {
    char *key;
    char *value;
    int line;
    bool secret;
    bool literal; /* the value is written in the file itself (no ${VAR}) */
};

struct xgw__inst_cfg {
    char *name;    /* from [exchange.<name>] */
    char *plugin;  /* plugin = ... (mandatory) */
    char *network; /* default: the plugin's first network */
    int line;      /* line of the section header */

    char *api_key;    /* may be NULL */
    char *api_secret; /* from api_secret or api_secret_file; wiped on free */

    char **rest_endpoints; /* NULL = plugin defaults for the network */
    size_t n_rest;
    char **ws_endpoints;
    size_t n_ws;
    char *ca_file; /* absolute path or NULL */

    /* pool / http */
    int pool_min, pool_max;
    int idle_timeout_s;
    int connect_timeout_ms, request_timeout_ms;
    bool warmup;
    bool http2;
    int64_t max_response_bytes;

    /* resilience */
    int breaker_failures, breaker_recovery_s, breaker_recovery_max_s;
    bool health_checks, clock_sync;
    int health_interval_s, health_timeout_s, health_max_failures;
    int retry_max, retry_backoff_ms, retry_backoff_max_ms;
    int rate_limit_margin_pct; /* rate_limit_margin 0.9 -> 90 */
    char *rate_limits; /* "bucket=limit, ..." overrides, NULL none */
    bool rate_limit_wait;
    int rate_limit_max_wait_ms;
    int recv_window_ms;
    int markets_refresh_s;

    /* websockets */
    int ws_reconnect_initial_ms, ws_reconnect_max_ms;
    int ws_stale_s;
    int ws_stale_s_ticker, ws_stale_s_trades, ws_stale_s_book, ws_stale_s_orders; /* 0 = ws_stale_s only */
    int ws_max_lifetime_ms; /* 0 = the plugin's max_lifetime_s */
    int ws_ping_interval_ms; /* -1 = the plugin's ws.ping_interval_ms, 0 = no client pings */
    int ws_token_keepalive_s; /* 0 = the plugin's token_keepalive_s */
    char *streams; /* "ticker:BTCUSDT, book:ETHUSDT:20" for `serve`, or NULL */

    /* plugin-specific keys (validated by bind_plugin) */
    struct xgw__kv *extras;
    size_t n_extras;

    /* Every core key as written in the section, in file order, with its
     * line (value NULL for secrets): for xgw__config_line/xgw__config_get. */
    struct xgw__kv *given;
    size_t n_given;
    const struct xgw_plugin *bound; /* set by xgw__config_bind_plugin */
};

struct xgw__config {
    char *path; /* as given */
    char *dir;  /* directory of the file, for relative paths */
    unsigned file_mode; /* st_mode of the file: a secret written in it needs no group/other access */

    char *plugin_dir; /* absolute; after $XGW_PLUGIN_DIR / override */
    enum xgw_log_level log_level;
    bool log_json;          /* log_format = json */
    char *metrics_listen;   /* "127.0.0.1:9464" or NULL */
    bool metrics_listen_public; /* a non-loopback metrics_listen is allowed */

    struct xgw__inst_cfg *insts;
    size_t n_insts;
};

/* Parse path. plugin_dir_override (may be NULL) beats $XGW_PLUGIN_DIR, which
 * beats the file's plugin_dir. Returns 0 or XGW_ERR_CONFIG with err filled. */
int xgw__config_load(const char *path, const char *plugin_dir_override, struct xgw__config **out,
                     struct xgw_error *err);
void xgw__config_free(struct xgw__config *cfg);

/* Validate inst->extras against the plugin's keys, apply defaults, and check
 * network names against the plugin's networks. 0 or XGW_ERR_CONFIG. */
int xgw__config_bind_plugin(const struct xgw__config *cfg, struct xgw__inst_cfg *inst,
                            const struct xgw_plugin *plugin, struct xgw_error *err);

/* Value of any key of an instance as text (core keys and extras, defaults
 * applied), or NULL. Used for core->cfg(). */
const char *xgw__config_get(const struct xgw__inst_cfg *inst, const char *key);

/* Line of key in the instance's section (core key or extra), or the line of
 * the section header when the key was not written. For errors of later
 * modules that concern a configured value. */
int xgw__config_line(const struct xgw__inst_cfg *inst, const char *key);

/* One item of an instance's `streams` key (what `xgw serve` subscribes):
 *   channel[:SYMBOL[+SYMBOL...][:DEPTH]]   channel: ticker|trades|book|orders
 * e.g. "book:BTCUSDT:20, ticker:BTCUSDT+ETHUSDT, trades:BTCUSDT, orders".
 * orders takes no symbol; DEPTH (1..1000) only for book. */
#define XGW__STREAM_MAX_SYMS 16
struct xgw__stream_spec {
    enum xgw_channel channel;
    size_t n_symbols;
    char symbols[XGW__STREAM_MAX_SYMS][XGW_SYMBOL_MAX];
    uint32_t depth; /* 0 = default */
};
/* Parse a `streams` value into a malloc'd array (*out, free with free();
 * NULL when *n == 0). 0, or -1 with a sentence in why. */
int xgw__streams_parse(const char *v, struct xgw__stream_spec **out, size_t *n, char *why, size_t why_cap);

/* Every core key, for --help and the README. */
struct xgw__cfg_doc {
    const char *section; /* "gateway" or "exchange" */
    const char *name;
    const char *def;
    const char *range;
    const char *help;
};
extern const struct xgw__cfg_doc xgw__config_docs[];
extern const size_t xgw__config_n_docs;

#endif
