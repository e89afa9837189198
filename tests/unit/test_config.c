/*
 * tests/unit/test_config.c — the INI configuration: a valid multi-instance
 * file with defaults, env expansion, secret files and relative paths; the
 * plugin_dir precedence; binding plugin keys; and a table of bad inputs,
 * each checked for kind, file, line, key and message.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "error.h"
#include "tu_proc.h"

/* ------------------------------------------------------------------------ */
/* A plugin descriptor for bind tests (never loaded: only its tables count) */
/* ------------------------------------------------------------------------ */

static const char *const m_rest[] = {"https://main.example"};
static const char *const m_ws[] = {"wss://main.example"};
static const char *const t_rest[] = {"https://test.example"};
static const struct xgw_network nets[] = {
    {"mainnet", m_rest, 1, m_ws, 1, NULL, 0},
    {"testnet", t_rest, 1, NULL, 0, NULL, 0},
    {"norest", NULL, 0, NULL, 0, NULL, 0},
};
static const struct xgw_cfg_key pkeys[] = {
    {"passphrase", XGW_CFG_STRING, NULL, 0, 0, true, "secret"},
    {"depth_limit", XGW_CFG_INT, "20", 1, 500, false, "int"},
    {"use_vault", XGW_CFG_BOOL, "false", 0, 0, false, "bool"},
    {"fee_rate", XGW_CFG_DECIMAL, NULL, 0, 0, false, "decimal"},
};
static const struct xgw_plugin fake = {
    .abi_version = XGW_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(struct xgw_plugin),
    .name = "fake",
    .version = "1.0.0",
    .networks = nets,
    .n_networks = 3,
    .keys = pkeys,
    .n_keys = 4,
};

/* ------------------------------------------------------------------------ */

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    if (tu_mkdtemp(tmpdir, sizeof tmpdir) != 0)
        return -1;
    setenv("XGWT_KEY", "key-abcdef-123", 1);
    setenv("XGWT_SECRET", "s3cr3t-value-xyz", 1);
    setenv("XGWT_POOL", "7", 1);
    unsetenv("XGWT_MISSING");
    unsetenv("XGW_PLUGIN_DIR"); /* ctest sets it; these tests control it */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tu_rm_rf(tmpdir);
}

static char *write_cfg(const char *name, const char *text)
{
    char *p = tu_write_file(tmpdir, name, text, (size_t)-1, 0600);
    assert_non_null(p);
    return p;
}

static struct xgw__config *load_ok(const char *path, const char *override)
{
    struct xgw__config *cfg = NULL;
    struct xgw_error err = {0};
    int rc = xgw__config_load(path, override, &cfg, &err);
    if (rc != 0)
        fail_msg("load failed: %s:%d key %s: %s", err.file, err.line, err.key, err.message);
    return cfg;
}

static void test_valid_multi_instance(void **state)
{
    (void)state;
    char *sf = tu_write_file(tmpdir, "bn.secret", "file-secret-987654\n", (size_t)-1, 0600);
    assert_non_null(sf);
    char *ca = tu_write_file(tmpdir, "ca.pem", "-----BEGIN CERTIFICATE-----\n", (size_t)-1, 0644);
    assert_non_null(ca);
    char *path = write_cfg("good.ini",
                           "; comment line\n"
                           "# another\n"
                           "[gateway]\n"
                           "plugin_dir = plugins   ; relative to this file\n"
                           "log_level = debug\n"
                           "log_format = json\n"
                           "metrics_listen = 9464\n"
                           "\n"
                           "[exchange.bn1]\n"
                           "plugin = fake\n"
                           "network = testnet\n"
                           "api_key = ${XGWT_KEY}\n"
                           "api_secret_file = bn.secret\n"
                           "ca_file = ca.pem\n"
                           "  pool_min = 2\n"
                           "pool_max = ${XGWT_POOL}\n"
                           "rate_limit_margin = 0.75\n"
                           "warmup = no\n"
                           "depth_limit = 50\n"
                           "rest_endpoints = https://a.example/ , https://b.example:8443\n"
                           "ws_endpoints = wss://w.example\n"
                           "price$$ = x\n"
                           "[exchange.bn2]\n"
                           "plugin = fake\n"
                           "api_secret = ${XGWT_SECRET}\n"
                           "passphrase = pass-phrase-42\n"
                           "[exchange.empty_extras]\n"
                           "plugin = other\n");
    /* "price$$" is not a valid key for the plugin: checked only at bind */
    struct xgw__config *cfg = load_ok(path, NULL);
    char expect_dir[512];
    snprintf(expect_dir, sizeof expect_dir, "%s/plugins", cfg->dir);
    assert_string_equal(cfg->plugin_dir, expect_dir);
    assert_int_equal(cfg->log_level, XGW_LOG_DEBUG);
    assert_true(cfg->log_json);
    assert_string_equal(cfg->metrics_listen, "127.0.0.1:9464");
    assert_int_equal(cfg->n_insts, 3);

    struct xgw__inst_cfg *a = &cfg->insts[0];
    assert_string_equal(a->name, "bn1");
    assert_int_equal(a->line, 9);
    assert_string_equal(a->plugin, "fake");
    assert_string_equal(a->network, "testnet");
    assert_string_equal(a->api_key, "key-abcdef-123");
    assert_string_equal(a->api_secret, "file-secret-987654");
    assert_non_null(strstr(a->ca_file, "/ca.pem"));
    assert_true(a->ca_file[0] == '/');
    assert_int_equal(a->pool_min, 2);
    assert_int_equal(a->pool_max, 7);
    assert_int_equal(a->rate_limit_margin_pct, 75);
    assert_false(a->warmup);
    assert_int_equal(a->n_rest, 2);
    assert_string_equal(a->rest_endpoints[0], "https://a.example");
    assert_string_equal(a->rest_endpoints[1], "https://b.example:8443");
    assert_int_equal(a->n_ws, 1);
    /* defaults */
    assert_int_equal(a->idle_timeout_s, 60);
    assert_int_equal(a->connect_timeout_ms, 3000);
    assert_int_equal(a->request_timeout_ms, 10000);
    assert_true(a->http2);
    assert_int_equal(a->max_response_bytes, 16777216);
    assert_int_equal(a->breaker_failures, 5);
    assert_int_equal(a->breaker_recovery_s, 30);
    assert_int_equal(a->breaker_recovery_max_s, 300);
    assert_int_equal(a->health_interval_s, 15);
    assert_int_equal(a->health_timeout_s, 5);
    assert_int_equal(a->health_max_failures, 3);
    assert_int_equal(a->retry_max, 3);
    assert_int_equal(a->retry_backoff_ms, 100);
    assert_int_equal(a->retry_backoff_max_ms, 5000);
    assert_true(a->rate_limit_wait);
    assert_int_equal(a->rate_limit_max_wait_ms, 2000);
    assert_int_equal(a->recv_window_ms, 5000);
    assert_int_equal(a->markets_refresh_s, 3600);
    assert_int_equal(a->ws_reconnect_initial_ms, 250);
    assert_int_equal(a->ws_reconnect_max_ms, 30000);
    assert_int_equal(a->ws_stale_s, 30);
    assert_null(a->streams);
    /* get: written, default, secret */
    assert_string_equal(xgw__config_get(a, "pool_max"), "7");
    assert_string_equal(xgw__config_get(a, "ws_stale_s"), "30");
    assert_string_equal(xgw__config_get(a, "warmup"), "false");
    assert_string_equal(xgw__config_get(a, "api_secret"), "file-secret-987654");
    assert_string_equal(xgw__config_get(a, "depth_limit"), "50");
    assert_null(xgw__config_get(a, "no_such_key"));
    assert_int_equal(xgw__config_line(a, "pool_min"), 15);
    assert_int_equal(xgw__config_line(a, "depth_limit"), 19);
    assert_int_equal(xgw__config_line(a, "streams"), 9);

    /* secrets are registered for scrubbing */
    char msg[128];
    snprintf(msg, sizeof msg, "sig for file-secret-987654 and s3cr3t-value-xyz");
    xgw__scrub(msg);
    assert_null(strstr(msg, "file-secret"));
    assert_null(strstr(msg, "s3cr3t"));

    /* bind: the unknown "price$$" extra is refused with its line */
    struct xgw_error err = {0};
    assert_int_equal(xgw__config_bind_plugin(cfg, a, &fake, &err), XGW_ERR_CONFIG);
    assert_int_equal(err.line, 22);
    assert_string_equal(err.key, "price$$");

    struct xgw__inst_cfg *b = &cfg->insts[1];
    assert_int_equal(xgw__config_bind_plugin(cfg, b, &fake, &err), 0);
    assert_string_equal(b->network, "mainnet"); /* the plugin's first */
    assert_string_equal(xgw__config_get(b, "passphrase"), "pass-phrase-42");
    assert_string_equal(xgw__config_get(b, "depth_limit"), "20");    /* plugin default */
    assert_string_equal(xgw__config_get(b, "use_vault"), "false");   /* plugin default */
    assert_null(xgw__config_get(b, "fee_rate"));                     /* no default */
    assert_int_equal(xgw__config_bind_plugin(cfg, b, &fake, &err), 0); /* idempotent */
    assert_int_equal(b->pool_min, 1);
    assert_int_equal(b->pool_max, 10);
    assert_int_equal(b->rate_limit_margin_pct, 90);
    snprintf(msg, sizeof msg, "x pass-phrase-42 y");
    xgw__scrub(msg);
    assert_null(strstr(msg, "pass-phrase"));

    xgw__config_free(cfg);
    /* freed secrets are no longer scrubbed (the registry is balanced) */
    snprintf(msg, sizeof msg, "s3cr3t-value-xyz");
    xgw__scrub(msg);
    assert_string_equal(msg, "s3cr3t-value-xyz");
    free(path);
    free(sf);
    free(ca);
}

static void test_plugin_dir_precedence(void **state)
{
    (void)state;
    char *path = write_cfg("pd.ini", "[gateway]\nplugin_dir = /from/file\n[exchange.x]\nplugin = p\n");
    struct xgw__config *cfg = load_ok(path, NULL);
    assert_string_equal(cfg->plugin_dir, "/from/file");
    xgw__config_free(cfg);
    setenv("XGW_PLUGIN_DIR", "/from/env", 1);
    cfg = load_ok(path, NULL);
    assert_string_equal(cfg->plugin_dir, "/from/env");
    xgw__config_free(cfg);
    cfg = load_ok(path, "/from/flag");
    assert_string_equal(cfg->plugin_dir, "/from/flag");
    xgw__config_free(cfg);
    unsetenv("XGW_PLUGIN_DIR");
    free(path);
    /* no plugin_dir at all: the compiled-in default */
    path = write_cfg("pd2.ini", "[exchange.x]\nplugin = p\n");
    cfg = load_ok(path, NULL);
    assert_string_equal(cfg->plugin_dir, xgw__config_docs[0].def); /* docs[0] is plugin_dir */
    assert_string_equal(xgw__config_docs[0].name, "plugin_dir");
    xgw__config_free(cfg);
    free(path);
}

/* CRLF line ends, a UTF-8 BOM, indentation and inline comments. */
static void test_lexical(void **state)
{
    (void)state;
    char *path = write_cfg("lex.ini", "\xEF\xBB\xBF[gateway]\r\nlog_level = warn\r\n\r\n  [ exchange.a ]  ; c\r\n"
                                      "plugin = fake\r\n\tpool_max = 3 ; three\r\napi_secret = semi;colon-secret\r\n");
    struct xgw__config *cfg = load_ok(path, NULL);
    assert_int_equal(cfg->log_level, XGW_LOG_WARN);
    assert_int_equal(cfg->n_insts, 1);
    assert_string_equal(cfg->insts[0].name, "a");
    assert_int_equal(cfg->insts[0].line, 4);
    assert_int_equal(cfg->insts[0].pool_max, 3);
    assert_int_equal(xgw__config_line(&cfg->insts[0], "pool_max"), 6);
    assert_string_equal(cfg->insts[0].api_secret, "semi;colon-secret");
    xgw__config_free(cfg);
    free(path);
}

static void test_inline_secret_file_variant(void **state)
{
    (void)state;
    char *sf = tu_write_file(tmpdir, "pp.secret", "from-file-pass\r\n", (size_t)-1, 0400);
    assert_non_null(sf);
    char *path = write_cfg("pf.ini", "[exchange.x]\nplugin = fake\npassphrase_file = pp.secret\n");
    struct xgw__config *cfg = load_ok(path, NULL);
    struct xgw_error err = {0};
    assert_int_equal(xgw__config_bind_plugin(cfg, &cfg->insts[0], &fake, &err), 0);
    assert_string_equal(xgw__config_get(&cfg->insts[0], "passphrase"), "from-file-pass");
    xgw__config_free(cfg);
    free(path);
    free(sf);
}

/* ------------------------------------------------------------------------ */
/* Bad inputs                                                                */
/* ------------------------------------------------------------------------ */

struct bad {
    const char *what;
    const char *text;
    bool bind; /* the error comes from xgw__config_bind_plugin */
    int line;
    const char *key; /* "" = no key */
    const char *needle;
};

static const struct bad bads[] = {
    {"unknown gateway key", "[gateway]\nlog_level = info\ncolour = blue\n", false, 3, "colour",
     "unknown key \"colour\" in [gateway]"},
    {"gateway typo", "[gateway]\nlog_levl = info\n", false, 2, "log_levl", "did you mean \"log_level\"?"},
    {"exchange typo (bind)", "[exchange.a]\nplugin = fake\n\npool_mx = 3\n", true, 4, "pool_mx",
     "unknown key \"pool_mx\" in [exchange.a]; did you mean \"pool_max\"?"},
    {"plugin key typo (bind)", "[exchange.a]\nplugin = fake\ndepth_limt = 3\n", true, 3, "depth_limt",
     "did you mean \"depth_limit\"?"},
    {"bad number", "[exchange.a]\nplugin = fake\npool_max = ten\n", false, 3, "pool_max", "\"ten\" is not a whole number"},
    {"number with junk", "[exchange.a]\nplugin = fake\nretry_max = 3x\n", false, 3, "retry_max", "not a whole number"},
    {"out of range", "[exchange.a]\nplugin = fake\npool_min = 65\n", false, 3, "pool_min", "65 is out of range 0..64"},
    {"recv_window out of range", "[exchange.a]\nplugin = fake\nrecv_window_ms = 60001\n", false, 3, "recv_window_ms",
     "out of range 1..60000"},
    {"pool_max below pool_min", "[exchange.a]\nplugin = fake\npool_min = 8\npool_max = 4\n", false, 4, "pool_max",
     "pool_max (4) must be >= pool_min (8)"},
    {"margin out of range", "[exchange.a]\nplugin = fake\nrate_limit_margin = 1.5\n", false, 3, "rate_limit_margin",
     "out of range"},
    {"margin not a decimal", "[exchange.a]\nplugin = fake\nrate_limit_margin = 9e-1\n", false, 3, "rate_limit_margin",
     "not a decimal"},
    {"bad bool", "[exchange.a]\nplugin = fake\nhttp2 = maybe\n", false, 3, "http2", "not a boolean"},
    {"missing plugin key", "[gateway]\n[exchange.a]\nnetwork = testnet\n[exchange.b]\nplugin = fake\n", false, 2, "plugin",
     "has no plugin key"},
    {"duplicate instance", "[exchange.a]\nplugin = fake\n[exchange.b]\nplugin = fake\n[exchange.a]\n", false, 5, "",
     "duplicate instance [exchange.a] (first at line 1)"},
    {"duplicate key", "[exchange.a]\nplugin = fake\npool_min = 1\npool_min = 2\n", false, 4, "pool_min",
     "set twice in [exchange.a] (first at line 3)"},
    {"missing env var", "[exchange.a]\nplugin = fake\napi_key = ${XGWT_KEY}\napi_secret = ${XGWT_MISSING}\n", false, 4,
     "api_secret", "environment variable XGWT_MISSING is not set"},
    {"unterminated ${", "[exchange.a]\nplugin = fake\napi_key = ${XGWT_KEY\n", false, 3, "api_key", "unterminated"},
    {"unknown network (bind)", "[exchange.a]\nplugin = fake\nnetwork = devnet\n", true, 3, "network",
     "network \"devnet\" is not offered by plugin fake (one of: mainnet, testnet, norest)"},
    {"network without REST (bind)", "[exchange.a]\nplugin = fake\nnetwork = norest\n", true, 1, "rest_endpoints",
     "no default REST endpoint"},
    {"empty endpoint item", "[exchange.a]\nplugin = fake\nrest_endpoints = https://a.example,,https://b.example\n", false, 3,
     "rest_endpoints", "item 2 of the list is empty"},
    {"trailing comma", "[exchange.a]\nplugin = fake\nrest_endpoints = https://a.example,\n", false, 3, "rest_endpoints",
     "item 2 of the list is empty"},
    {"non-https endpoint", "[exchange.a]\nplugin = fake\nrest_endpoints = https://a.example, http://b.example\n", false, 3,
     "rest_endpoints", "item 2 must start with https://"},
    {"ws endpoint not wss", "[exchange.a]\nplugin = fake\nws_endpoints = ws://a.example\n", false, 3, "ws_endpoints",
     "must start with wss://"},
    {"endpoint without host", "[exchange.a]\nplugin = fake\nrest_endpoints = https:///x\n", false, 3, "rest_endpoints",
     "has no host"},
    {"unterminated section", "[gateway]\nlog_level = info\n[exchange.a\nplugin = fake\n", false, 3, "",
     "unterminated section header"},
    {"unknown section", "[gateway]\n[exchanges.a]\nplugin = fake\n", false, 2, "", "unknown section [exchanges.a]"},
    {"gateway typo section", "[gatewy]\n", false, 1, "", "did you mean [gateway]?"},
    {"bad instance name", "[exchange.a/b]\nplugin = fake\n", false, 1, "", "instance name"},
    {"key outside section", "log_level = info\n[gateway]\n", false, 1, "log_level", "outside of any section"},
    {"line without =", "[gateway]\nlog_level info\n", false, 2, "", "expected \"key = value\""},
    {"empty value", "[exchange.a]\nplugin = fake\npool_max =\n", false, 3, "pool_max", "empty value"},
    {"bad log level", "[gateway]\nlog_level = verbose\n", false, 2, "log_level", "one of error, warn, info, debug"},
    {"bad log format", "[gateway]\nlog_format = xml\n", false, 2, "log_format", "text or json"},
    {"bad metrics port", "[gateway]\nmetrics_listen = 127.0.0.1:99999\n", false, 2, "metrics_listen", "port"},
    {"bad metrics v6", "[gateway]\nmetrics_listen = ::1:9464\n", false, 2, "metrics_listen", "[addr]:port"},
    {"both secret spellings", "[exchange.a]\nplugin = fake\napi_secret = abcdefgh\napi_secret_file = x\n", false, 4,
     "api_secret_file", "set either api_secret or api_secret_file, not both"},
    {"missing secret file", "[exchange.a]\nplugin = fake\napi_secret_file = does-not-exist\n", false, 3,
     "api_secret_file", "cannot open"},
    {"missing ca file", "[exchange.a]\nplugin = fake\nca_file = nope.pem\n", false, 3, "ca_file", "cannot read"},
    {"plugin int out of range (bind)", "[exchange.a]\nplugin = fake\ndepth_limit = 501\n", true, 3, "depth_limit",
     "501 is out of range 1..500"},
    {"plugin bool (bind)", "[exchange.a]\nplugin = fake\nuse_vault = sure\n", true, 3, "use_vault", "not a boolean"},
    {"plugin decimal (bind)", "[exchange.a]\nplugin = fake\nfee_rate = 1e-4\n", true, 3, "fee_rate", "not a decimal"},
    {"bad plugin name", "[exchange.a]\nplugin = ../evil\n", false, 2, "plugin", "not a valid name"},
    {"duplicate gateway", "[gateway]\n[exchange.a]\nplugin = fake\n[gateway]\n", false, 4, "", "[gateway] appears twice"},
    {"key with colon", "[gateway]\nlog:level = info\n", false, 2, "", "cannot contain ':'"},
};

static void run_bad(const struct bad *b, size_t idx)
{
    char name[32];
    snprintf(name, sizeof name, "bad%zu.ini", idx);
    char *path = write_cfg(name, b->text);
    struct xgw__config *cfg = NULL;
    struct xgw_error err;
    memset(&err, 0, sizeof err);
    int rc = xgw__config_load(path, NULL, &cfg, &err);
    if (b->bind) {
        if (rc != 0)
            fail_msg("[%s] load failed unexpectedly: line %d: %s", b->what, err.line, err.message);
        rc = xgw__config_bind_plugin(cfg, &cfg->insts[0], &fake, &err);
        xgw__config_free(cfg);
    } else if (rc == 0) {
        xgw__config_free(cfg);
        fail_msg("[%s] loaded although it is bad", b->what);
    } else {
        assert_null(cfg);
    }
    if (rc != XGW_ERR_CONFIG || err.kind != XGW_ERR_CONFIG)
        fail_msg("[%s] rc=%d kind=%d, expected CONFIG", b->what, rc, err.kind);
    if (err.line != b->line)
        fail_msg("[%s] line %d, expected %d (%s)", b->what, err.line, b->line, err.message);
    if (strcmp(err.key, b->key))
        fail_msg("[%s] key \"%s\", expected \"%s\" (%s)", b->what, err.key, b->key, err.message);
    if (strcmp(err.file, path))
        fail_msg("[%s] file \"%s\", expected \"%s\"", b->what, err.file, path);
    if (!strstr(err.message, b->needle))
        fail_msg("[%s] message \"%s\" lacks \"%s\"", b->what, err.message, b->needle);
    free(path);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
        run_bad(&bads[i], i);
}

static void test_secret_file_permissions(void **state)
{
    (void)state;
    char *sf = tu_write_file(tmpdir, "open.secret", "secret-in-open-file\n", (size_t)-1, 0644);
    assert_non_null(sf);
    char *path = write_cfg("perm.ini", "[exchange.a]\nplugin = fake\n\napi_secret_file = open.secret\n");
    struct xgw__config *cfg = NULL;
    struct xgw_error err = {0};
    assert_int_equal(xgw__config_load(path, NULL, &cfg, &err), XGW_ERR_CONFIG);
    assert_int_equal(err.line, 4);
    assert_string_equal(err.key, "api_secret_file");
    assert_non_null(strstr(err.message, "readable or writable by group or others (mode 644)"));
    assert_null(strstr(err.message, "secret-in-open-file"));
    /* group-readable is refused too; 0600 and 0400 load */
    assert_int_equal(chmod(sf, 0640), 0);
    assert_int_equal(xgw__config_load(path, NULL, &cfg, &err), XGW_ERR_CONFIG);
    assert_int_equal(chmod(sf, 0600), 0);
    cfg = load_ok(path, NULL);
    assert_string_equal(cfg->insts[0].api_secret, "secret-in-open-file");
    xgw__config_free(cfg);
    /* a plugin secret's _file variant follows the same rule, at bind */
    assert_int_equal(chmod(sf, 0604), 0);
    free(path);
    path = write_cfg("perm2.ini", "[exchange.a]\nplugin = fake\npassphrase_file = open.secret\n");
    cfg = load_ok(path, NULL);
    assert_int_equal(xgw__config_bind_plugin(cfg, &cfg->insts[0], &fake, &err), XGW_ERR_CONFIG);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.key, "passphrase_file");
    xgw__config_free(cfg);
    free(path);
    free(sf);
}

/* A bad value of a secret key never appears in the message. */
static void test_secret_never_printed(void **state)
{
    (void)state;
    setenv("XGWT_BADSECRET", "leak-me-please\x01", 1);
    char *path = write_cfg("leak.ini", "[exchange.a]\nplugin = fake\napi_secret = ${XGWT_BADSECRET}\n");
    struct xgw__config *cfg = NULL;
    struct xgw_error err = {0};
    assert_int_equal(xgw__config_load(path, NULL, &cfg, &err), XGW_ERR_CONFIG);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.key, "api_secret");
    assert_non_null(strstr(err.message, "not shown: secret"));
    assert_null(strstr(err.message, "leak-me"));
    free(path);
    /* a plugin's secret with a bad type neither */
    static const struct xgw_cfg_key sk[] = {{"pin", XGW_CFG_INT, NULL, 0, 0, true, "secret int"}};
    struct xgw_plugin p = fake;
    p.keys = sk;
    p.n_keys = 1;
    path = write_cfg("leak2.ini", "[exchange.a]\nplugin = fake\npin = leak-me-too\n");
    cfg = load_ok(path, NULL);
    assert_int_equal(xgw__config_bind_plugin(cfg, &cfg->insts[0], &p, &err), XGW_ERR_CONFIG);
    assert_int_equal(err.line, 3);
    assert_null(strstr(err.message, "leak-me"));
    assert_non_null(strstr(err.message, "not shown: secret"));
    xgw__config_free(cfg);
    free(path);
    unsetenv("XGWT_BADSECRET");
}

static void test_long_line_and_missing_file(void **state)
{
    (void)state;
    char text[600];
    int n = snprintf(text, sizeof text, "[exchange.a]\nplugin = fake\nstreams = ");
    memset(text + n, 'x', 400);
    strcpy(text + n + 400, "\n");
    char *path = write_cfg("long.ini", text);
    struct xgw__config *cfg = NULL;
    struct xgw_error err = {0};
    assert_int_equal(xgw__config_load(path, NULL, &cfg, &err), XGW_ERR_CONFIG);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.message, "longer than"));
    free(path);
    assert_int_equal(xgw__config_load("/nonexistent/x.ini", NULL, &cfg, &err), XGW_ERR_CONFIG);
    assert_string_equal(err.file, "/nonexistent/x.ini");
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "cannot open"));
    assert_int_equal(xgw__config_load(tmpdir, NULL, &cfg, &err), XGW_ERR_CONFIG);
    assert_non_null(strstr(err.message, "not a regular file"));
}

/* Mutated files never crash, hang or leak: they load or give CONFIG with a
 * line inside the file. A fixed seed keeps failures reproducible. */
static void test_mutations(void **state)
{
    (void)state;
    static const char base[] = "[gateway]\nlog_level = info\nmetrics_listen = [::1]:9464\n"
                               "[exchange.a]\nplugin = fake\napi_key = ${XGWT_KEY}\npool_max = 12\n"
                               "rest_endpoints = https://a.example, https://b.example\nrate_limit_margin = 0.85\n";
    static const char alphabet[] = "[]=;#${}\n ,:.-_0129azAZ\t\r\"'\x01\xff";
    uint64_t seed = 0x9e3779b97f4a7c15u;
    char text[sizeof base + 16];
    for (int round = 0; round < 400; round++) {
        memcpy(text, base, sizeof base);
        size_t len = sizeof base - 1;
        int edits = 1 + round % 4;
        for (int e = 0; e < edits; e++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            size_t pos = (size_t)(seed % len);
            text[pos] = alphabet[(seed >> 32) % (sizeof alphabet - 1)];
        }
        text[len] = '\0';
        char *path = write_cfg("mut.ini", text);
        struct xgw__config *cfg = NULL;
        struct xgw_error err = {0};
        int rc = xgw__config_load(path, NULL, &cfg, &err);
        if (rc == 0) {
            for (size_t i = 0; i < cfg->n_insts; i++)
                (void)xgw__config_bind_plugin(cfg, &cfg->insts[i], &fake, &err);
            xgw__config_free(cfg);
        } else {
            assert_int_equal(rc, XGW_ERR_CONFIG);
            assert_true(err.line >= 0 && err.line <= 16);
            assert_true(err.message[0] != '\0');
        }
        free(path);
    }
}

static void test_docs_table(void **state)
{
    (void)state;
    assert_true(xgw__config_n_docs >= 40);
    bool seen_pool = false, seen_gw = false;
    for (size_t i = 0; i < xgw__config_n_docs; i++) {
        const struct xgw__cfg_doc *d = &xgw__config_docs[i];
        assert_non_null(d->name);
        assert_non_null(d->help);
        assert_non_null(d->range);
        assert_true(!strcmp(d->section, "gateway") || !strcmp(d->section, "exchange"));
        if (!strcmp(d->name, "pool_max")) {
            seen_pool = true;
            assert_string_equal(d->def, "10");
        }
        seen_gw |= !strcmp(d->name, "metrics_listen");
    }
    assert_true(seen_pool && seen_gw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_multi_instance),
        cmocka_unit_test(test_plugin_dir_precedence),
        cmocka_unit_test(test_lexical),
        cmocka_unit_test(test_inline_secret_file_variant),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_secret_file_permissions),
        cmocka_unit_test(test_secret_never_printed),
        cmocka_unit_test(test_long_line_and_missing_file),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_docs_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
