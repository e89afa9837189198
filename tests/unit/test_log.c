/*
 * tests/unit/test_log.c — core/log.c: the text and JSON line formats,
 * escaping of quotes and control characters, redaction of registered
 * secrets in every part of a line (message, instance, endpoint, event,
 * field names and values, across the cuts of long parts), level filtering.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "error.h"
#include "log.h"

/* Looks like a Binance secret; long enough to be registered. */
#define SECRET "9fQx2LkR7vNtB4mWcZ8hJ1sYdE6uGpA3"
/* Any 10-character piece of it would betray it (a half-scrubbed secret). */
#define SECRET_HEAD "9fQx2LkR7v"
#define SECRET_TAIL "uGpA3"

/* ------------------------------------------------------------------------ */
/* Capturing stderr                                                          */
/* ------------------------------------------------------------------------ */

/* The logger writes to fd 2; each test points fd 2 at a temporary file for
 * the duration of fn (a file, not a pipe, so a long line cannot block). */
struct capture {
    char *text; /* malloc'd, NUL-terminated */
    size_t len;
};

static struct capture capture_run(void (*fn)(void))
{
    char path[] = "/tmp/xgw-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    fn();
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);

    off_t end = lseek(fd, 0, SEEK_END);
    assert_true(end >= 0);
    struct capture c = {malloc((size_t)end + 1), (size_t)end};
    assert_non_null(c.text);
    assert_int_equal(pread(fd, c.text, (size_t)end, 0), end);
    c.text[end] = '\0';
    close(fd);
    return c;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* "2026-11-22T20:46:34.123Z" at p. */
static void assert_iso_time(const char *p)
{
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd')
            assert_true(p[i] >= '0' && p[i] <= '9');
        else
            assert_int_equal(p[i], shape[i]);
    }
}

/* ------------------------------------------------------------------------ */
/* Formats                                                                   */
/* ------------------------------------------------------------------------ */

static void log_order_line(void)
{
    const struct xgw__log_field f[] = {
        {"side", "buy"}, {"qty", "0.010"}, {"note", "two words"}, {"empty", ""}, {"none", NULL},
    };
    xgw__logx("bn", "https://127.0.0.1:8443", XGW_LOG_INFO, "order", f, 5, "placed %s", "BTCUSDT");
    xgw__log(NULL, XGW_LOG_ERROR, NULL, "bare %d", 7);
    xgw__logx(NULL, "wss://h/ws", XGW_LOG_WARN, "ws", NULL, 0, "%s", "");
}

static void test_text_format(void **state)
{
    (void)state;
    xgw__log_configure(XGW_LOG_INFO, false);
    struct capture c = capture_run(log_order_line);
    assert_int_equal(count_lines(c.text), 3);
    char *l1 = c.text, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;

    assert_iso_time(l1);
    assert_memory_equal(l1 + 24,
                        " INFO [bn https://127.0.0.1:8443] order: placed BTCUSDT side=buy qty=0.010 "
                        "note=\"two words\" empty=\"\" none=-\n",
                        strlen(" INFO [bn https://127.0.0.1:8443] order: placed BTCUSDT side=buy qty=0.010 "
                               "note=\"two words\" empty=\"\" none=-\n"));
    assert_iso_time(l2);
    assert_memory_equal(l2 + 24, " ERROR bare 7\n", 14);
    assert_iso_time(l3);
    assert_memory_equal(l3 + 24, " WARN [wss://h/ws] ws: \n", 24);
    free(c.text);
}

static void test_json_format(void **state)
{
    (void)state;
    xgw__log_configure(XGW_LOG_INFO, true);
    struct capture c = capture_run(log_order_line);
    xgw__log_configure(XGW_LOG_INFO, false);
    assert_int_equal(count_lines(c.text), 3);

    char *save = NULL;
    char *line = strtok_r(c.text, "\n", &save);
    cJSON *j = cJSON_Parse(line);
    assert_non_null(j);
    /* Every key of the schema, in this order. */
    const char *keys[] = {"time", "level", "instance", "endpoint", "event", "message", "fields"};
    cJSON *it = j->child;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++, it = it->next) {
        assert_non_null(it);
        assert_string_equal(it->string, keys[i]);
    }
    assert_null(it);
    assert_iso_time(cJSON_GetObjectItem(j, "time")->valuestring);
    assert_int_equal(strlen(cJSON_GetObjectItem(j, "time")->valuestring), 24);
    assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "info");
    assert_string_equal(cJSON_GetObjectItem(j, "instance")->valuestring, "bn");
    assert_string_equal(cJSON_GetObjectItem(j, "endpoint")->valuestring, "https://127.0.0.1:8443");
    assert_string_equal(cJSON_GetObjectItem(j, "event")->valuestring, "order");
    assert_string_equal(cJSON_GetObjectItem(j, "message")->valuestring, "placed BTCUSDT");
    cJSON *f = cJSON_GetObjectItem(j, "fields");
    assert_true(cJSON_IsObject(f));
    assert_int_equal(cJSON_GetArraySize(f), 5);
    assert_string_equal(cJSON_GetObjectItem(f, "side")->valuestring, "buy");
    assert_string_equal(cJSON_GetObjectItem(f, "qty")->valuestring, "0.010");
    assert_string_equal(cJSON_GetObjectItem(f, "note")->valuestring, "two words");
    assert_string_equal(cJSON_GetObjectItem(f, "empty")->valuestring, "");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(f, "none")));
    cJSON_Delete(j);

    /* Absent parts are null, not missing. */
    line = strtok_r(NULL, "\n", &save);
    j = cJSON_Parse(line);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "error");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "instance")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "endpoint")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "event")));
    assert_string_equal(cJSON_GetObjectItem(j, "message")->valuestring, "bare 7");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "fields")), 0);
    cJSON_Delete(j);

    line = strtok_r(NULL, "\n", &save);
    j = cJSON_Parse(line);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
    assert_string_equal(cJSON_GetObjectItem(j, "endpoint")->valuestring, "wss://h/ws");
    cJSON_Delete(j);
    free(c.text);
}

/* ------------------------------------------------------------------------ */
/* Escaping                                                                  */
/* ------------------------------------------------------------------------ */

/* An exchange's error text is untrusted: it may carry quotes, newlines and
 * terminal escapes meant to forge or hide log lines. */
static void log_hostile(void)
{
    const struct xgw__log_field f[] = {
        {"reason", "say \"hi\"\nFAKE 2026 ERROR forged"},
        {"bad key=x", "v"},
        {"ctl", "a\tb\x01"
                "c\x1b[31m"},
    };
    xgw__logx("in\nst", NULL, XGW_LOG_WARN, "ev\"x", f, 3, "msg \"q\" back\\slash\r\nline2 \x7f");
}

static void test_escaping(void **state)
{
    (void)state;
    xgw__log_configure(XGW_LOG_INFO, false);
    struct capture c = capture_run(log_hostile);
    /* One line whatever the input held. */
    assert_int_equal(count_lines(c.text), 1);
    assert_int_equal(c.text[c.len - 1], '\n');
    for (size_t i = 0; i + 1 < c.len; i++)
        assert_true((unsigned char)c.text[i] >= 0x20 && (unsigned char)c.text[i] != 0x7f);
    assert_non_null(strstr(c.text, " WARN [in\\nst] ev\"x: msg \"q\" back\\slash\\r\\nline2 \\x7f "));
    /* A value with quotes is quoted, its quotes and backslashes escaped. */
    assert_non_null(strstr(c.text, " reason=\"say \\\"hi\\\"\\\\nFAKE 2026 ERROR forged\""));
    /* A name cannot fake a second pair. */
    assert_non_null(strstr(c.text, " bad_key_x=v"));
    assert_non_null(strstr(c.text, " ctl=\"a\\\\tb\\\\x01c\\\\x1b[31m\"\n"));
    free(c.text);

    xgw__log_configure(XGW_LOG_INFO, true);
    c = capture_run(log_hostile);
    xgw__log_configure(XGW_LOG_INFO, false);
    assert_int_equal(count_lines(c.text), 1);
    cJSON *j = cJSON_Parse(c.text);
    assert_non_null(j);
    /* The same escaped text as in the text format, so both formats show a
     * reader the same message. */
    assert_string_equal(cJSON_GetObjectItem(j, "instance")->valuestring, "in\\nst");
    assert_string_equal(cJSON_GetObjectItem(j, "event")->valuestring, "ev\"x");
    assert_string_equal(cJSON_GetObjectItem(j, "message")->valuestring,
                        "msg \"q\" back\\slash\\r\\nline2 \\x7f");
    cJSON *f = cJSON_GetObjectItem(j, "fields");
    assert_string_equal(cJSON_GetObjectItem(f, "reason")->valuestring, "say \"hi\"\\nFAKE 2026 ERROR forged");
    assert_string_equal(cJSON_GetObjectItem(f, "bad key=x")->valuestring, "v");
    assert_string_equal(cJSON_GetObjectItem(f, "ctl")->valuestring, "a\\tb\\x01c\\x1b[31m");
    cJSON_Delete(j);
    free(c.text);
}

/* ------------------------------------------------------------------------ */
/* Secrets                                                                   */
/* ------------------------------------------------------------------------ */

static char long_value[3000];
static char long_msg[9000];

static void log_secrets(void)
{
    /* The secret in every part of a line, alone and inside longer text. */
    const struct xgw__log_field f[] = {
        {"api_secret", SECRET},
        {"url", "https://h/api/v3/userDataStream?listenKey=" SECRET "&x=1"},
        {SECRET, "as a field name"},
        {"long", long_value},
    };
    xgw__logx("inst-" SECRET, "wss://h/ws/" SECRET, XGW_LOG_DEBUG, "sign " SECRET, f, 4, "signed with %s%s",
              SECRET, "!");
    xgw__log("bn", XGW_LOG_ERROR, "big", "%s", long_msg);
    /* The plain three-argument form used all over the core. */
    xgw__log("bn", XGW_LOG_INFO, "ws", "listenKey %s renewed", SECRET);
}

static void fill_straddling(char *buf, size_t size, size_t at)
{
    /* Filler, then the secret across position `at`, where the logger cuts
     * a part of that size: it must scrub before it cuts. */
    memset(buf, 'x', size - 1);
    buf[size - 1] = '\0';
    memcpy(buf + at - 10, SECRET, strlen(SECRET));
}

static void check_no_secret(const char *text)
{
    assert_null(strstr(text, SECRET));
    assert_null(strstr(text, SECRET_HEAD));
    assert_null(strstr(text, SECRET_TAIL));
}

static void test_secrets(void **state)
{
    (void)state;
    fill_straddling(long_value, sizeof long_value, 1020); /* LOG_VALUE_MAX is 1024 */
    fill_straddling(long_msg, sizeof long_msg, 4090);     /* LOG_MSG_MAX is 4096 */
    assert_int_equal(xgw__secret_register(SECRET), 0);

    for (int json = 0; json <= 1; json++) {
        xgw__log_configure(XGW_LOG_DEBUG, json);
        struct capture c = capture_run(log_secrets);
        xgw__log_configure(XGW_LOG_INFO, false);
        assert_int_equal(count_lines(c.text), 3);
        check_no_secret(c.text);
        /* Redacted, not dropped: the reader sees where a secret was. */
        assert_non_null(strstr(c.text, "signed with ***!"));
        assert_non_null(strstr(c.text, "listenKey=***&x=1"));
        assert_non_null(strstr(c.text, "wss://h/ws/***"));
        assert_non_null(strstr(c.text, "inst-***"));
        assert_non_null(strstr(c.text, "sign ***"));
        assert_non_null(strstr(c.text, "listenKey *** renewed"));
        if (json) {
            char *save = NULL;
            for (char *l = strtok_r(c.text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                cJSON *j = cJSON_Parse(l);
                assert_non_null(j);
                cJSON_Delete(j);
            }
        } else {
            assert_non_null(strstr(c.text, " api_secret=*** "));
            assert_non_null(strstr(c.text, " ***=\"as a field name\" "));
        }
        free(c.text);
    }

    /* After the last unregistration the value is ordinary text again. */
    xgw__secret_unregister(SECRET);
    xgw__log_configure(XGW_LOG_DEBUG, false);
    struct capture c = capture_run(log_secrets);
    xgw__log_configure(XGW_LOG_INFO, false);
    assert_non_null(strstr(c.text, SECRET));
    free(c.text);
}

/* Signatures are made per request and cannot be registered in advance: the
 * logger knows them by the parameter names they travel under. */
static void log_signatures(void)
{
    const struct xgw__log_field f[] = {
        {"signature", "c0ffee00c0ffee00"},
        {"Sign", "0xdeadbeefdeadbeef"},
        {"design", "kept"},
    };
    xgw__logx("bn", NULL, XGW_LOG_INFO, "req", f, 3,
              "GET /fapi/v1/order?symbol=BTCUSDT&timestamp=1&signature=5f0c9a1e77aa&recvWindow=5000 body "
              "{\"sign\":\"a1b2c3d4e5\",\"nonce\":7} listenKey=pqrsTUVW123 designation=ok sig=x "
              "signature invalid");
    /* Hyperliquid's signature is an object: all of it goes. */
    xgw__log(
        "hl", XGW_LOG_INFO, "req",
        "{\"action\":{\"type\":\"order\"},\"nonce\":1,\"signature\":{\"r\":\"0xaaa111\",\"s\":\"0xbbb222\","
        "\"v\":27},\"vaultAddress\":null}");
}

static void test_named_secrets(void **state)
{
    (void)state;
    for (int json = 0; json <= 1; json++) {
        xgw__log_configure(XGW_LOG_INFO, json);
        struct capture c = capture_run(log_signatures);
        xgw__log_configure(XGW_LOG_INFO, false);
        assert_int_equal(count_lines(c.text), 2);
        assert_null(strstr(c.text, "0xaaa111"));
        assert_null(strstr(c.text, "0xbbb222"));
        if (json)
            assert_non_null(strstr(c.text, "\\\"signature\\\":***,\\\"vaultAddress\\\":null}"));
        else
            assert_non_null(strstr(c.text, "\"signature\":***,\"vaultAddress\":null}"));
        assert_null(strstr(c.text, "5f0c9a1e77aa"));
        assert_null(strstr(c.text, "a1b2c3d4e5"));
        assert_null(strstr(c.text, "pqrsTUVW123"));
        assert_null(strstr(c.text, "c0ffee00"));
        assert_null(strstr(c.text, "deadbeef"));
        /* Only the values go; the rest of the text stays readable. */
        assert_non_null(strstr(c.text, "&signature=***&recvWindow=5000 body "));
        assert_non_null(strstr(c.text, "listenKey=*** designation=ok sig=*** signature invalid"));
        assert_non_null(strstr(c.text, "kept"));
        if (json)
            assert_non_null(strstr(c.text, "{\\\"sign\\\":\\\"***\\\",\\\"nonce\\\":7}"));
        else
            assert_non_null(strstr(c.text, "{\"sign\":\"***\",\"nonce\":7}"));
        free(c.text);
    }
}

/* ------------------------------------------------------------------------ */
/* Levels and limits                                                         */
/* ------------------------------------------------------------------------ */

static void log_each_level(void)
{
    xgw__log("i", XGW_LOG_DEBUG, "e", "lvl-debug");
    xgw__log("i", XGW_LOG_INFO, "e", "lvl-info");
    xgw__logx("i", NULL, XGW_LOG_WARN, "e", NULL, 0, "lvl-warn");
    xgw__log("i", XGW_LOG_ERROR, "e", "lvl-error");
}

static void test_levels(void **state)
{
    (void)state;
    static const struct {
        enum xgw_log_level level;
        int lines;
        const char *least;  /* least severe line expected */
        const char *absent; /* most severe line filtered out, NULL none */
    } cases[] = {
        {XGW_LOG_ERROR, 1, "lvl-error", "lvl-warn"},
        {XGW_LOG_WARN, 2, "lvl-warn", "lvl-info"},
        {XGW_LOG_INFO, 3, "lvl-info", "lvl-debug"},
        {XGW_LOG_DEBUG, 4, "lvl-debug", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xgw__log_configure(cases[i].level, false);
        assert_true(xgw__log_enabled(cases[i].level));
        assert_true(xgw__log_enabled(XGW_LOG_ERROR));
        struct capture c = capture_run(log_each_level);
        assert_int_equal(count_lines(c.text), cases[i].lines);
        assert_non_null(strstr(c.text, cases[i].least));
        if (cases[i].absent) {
            assert_null(strstr(c.text, cases[i].absent));
            assert_false(xgw__log_enabled((enum xgw_log_level)(cases[i].level + 1)));
        }
        free(c.text);
    }
    xgw__log_configure(XGW_LOG_INFO, false);
    assert_string_equal(xgw__log_level_name(XGW_LOG_WARN), "warn");
}

static void log_many_fields(void)
{
    struct xgw__log_field f[40];
    for (size_t i = 0; i < 40; i++)
        f[i] = (struct xgw__log_field){"k", "v"};
    xgw__logx("i", NULL, XGW_LOG_INFO, "many", f, 40, "m");
    xgw__log("i", XGW_LOG_INFO, "cut", "%s", long_msg);
}

static void test_limits(void **state)
{
    (void)state;
    memset(long_msg, 'y', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = '\0';
    xgw__log_configure(XGW_LOG_INFO, false);
    struct capture c = capture_run(log_many_fields);
    assert_int_equal(count_lines(c.text), 2);
    /* 32 fields kept, the rest counted. */
    assert_non_null(strstr(c.text, " fields_dropped=8\n"));
    int kv = 0;
    for (const char *p = c.text; (p = strstr(p, " k=v")) != NULL; p++)
        kv++;
    assert_int_equal(kv, 32);
    /* A long message is cut with "..." instead of being written whole. */
    char *l2 = strchr(c.text, '\n') + 1;
    assert_non_null(strstr(l2, "yyy...\n"));
    assert_true(strlen(l2) < 4096 + 64);
    free(c.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_format),   cmocka_unit_test(test_json_format),
        cmocka_unit_test(test_escaping),      cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_named_secrets), cmocka_unit_test(test_levels),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
