/*
 * tests/unit/test_loader.c — the plugin loader against the fixture plugins
 * of tests/plugins (built into $XGW_TEST_PLUGIN_DIR): one good plugin and
 * one per defect the loader must refuse, each with its own message.
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

#include "loader.h"
#include "tu_proc.h"

static const char *fixdir(void) { return tu_env("XGW_TEST_PLUGIN_DIR"); }

static void expect_fail(const char *dir, const char *name, const char *needle)
{
    struct xgw__plugin *p = (void *)1;
    struct xgw_error err;
    memset(&err, 0x55, sizeof err);
    int rc = xgw__plugin_load(dir, name, &p, &err);
    if (rc != XGW_ERR_PLUGIN || !strstr(err.message, needle))
        fail_msg("loading %s/%s: rc=%d message \"%s\", expected one containing \"%s\"", dir, name, rc, err.message,
                 needle);
    assert_null(p);
    assert_int_equal(err.kind, XGW_ERR_PLUGIN);
}

static void test_good(void **state)
{
    (void)state;
    struct xgw__plugin *p = NULL;
    struct xgw_error err = {0};
    assert_int_equal(xgw__plugin_load(fixdir(), "good", &p, &err), 0);
    assert_non_null(p);
    assert_string_equal(p->name, "good");
    assert_string_equal(p->desc->name, "good");
    assert_string_equal(p->desc->version, "9.9.9");
    assert_int_equal(p->desc->abi_version, XGW_PLUGIN_ABI_VERSION);
    assert_int_equal(p->desc->n_networks, 2);
    assert_string_equal(p->desc->networks[1].name, "testnet");
    assert_non_null(strstr(p->path, "/good.so"));
    /* a second load of the same file is independent and unloads cleanly */
    struct xgw__plugin *q = NULL;
    assert_int_equal(xgw__plugin_load_path(p->path, "good", &q, &err), 0);
    assert_ptr_not_equal(p, q);
    xgw__plugin_unload(q);
    assert_string_equal(p->desc->name, "good"); /* still mapped */
    xgw__plugin_unload(p);
    xgw__plugin_unload(NULL);
}

static void test_wrong_abi(void **state)
{
    (void)state;
    char want[64];
    snprintf(want, sizeof want, "ABI version 99, this xgw speaks version %u", XGW_PLUGIN_ABI_VERSION);
    expect_fail(fixdir(), "badabi", want);
}

static void test_no_entry(void **state)
{
    (void)state;
    expect_fail(fixdir(), "noentry", "no entry point xgw_plugin_entry");
}

static void test_name_mismatch(void **state)
{
    (void)state;
    expect_fail(fixdir(), "mismatch", "calls itself \"somebody_else\" but is loaded as \"mismatch\"");
}

static void test_null_member(void **state)
{
    (void)state;
    expect_fail(fixdir(), "nocreate", "mandatory member create empty");
    expect_fail(fixdir(), "noname", "mandatory member name empty");
}

static void test_struct_too_small(void **state)
{
    (void)state;
    expect_fail(fixdir(), "tiny", "struct_size 16, smaller than");
}

static void test_missing_file(void **state)
{
    (void)state;
    expect_fail(fixdir(), "nosuchplugin", "not found");
    expect_fail("/nonexistent-xgw-dir", "good", "plugin folder /nonexistent-xgw-dir");
}

static void test_bad_name(void **state)
{
    (void)state;
    expect_fail(fixdir(), "../good", "invalid plugin name");
    expect_fail(fixdir(), "", "invalid plugin name");
    expect_fail(fixdir(), "a/b", "invalid plugin name");
}

static void test_not_elf(void **state)
{
    (void)state;
    char dir[256];
    assert_int_equal(tu_mkdtemp(dir, sizeof dir), 0);
    char *p = tu_write_file(dir, "text.so", "#!/bin/sh\necho I am not a plugin\n", (size_t)-1, 0644);
    assert_non_null(p);
    expect_fail(dir, "text", "not a shared object (no ELF header)");
    /* an ELF header but garbage after it: dlopen's own message is passed on */
    char *q = tu_write_file(dir, "trunc.so", "\x7f" "ELF\x02\x01\x01garbage", (size_t)-1, 0644);
    assert_non_null(q);
    expect_fail(dir, "trunc", "cannot load plugin");
    free(p);
    free(q);
    assert_int_equal(tu_rm_rf(dir), 0);
}

static void test_world_writable(void **state)
{
    (void)state;
    char dir[256], src[512];
    assert_int_equal(tu_mkdtemp(dir, sizeof dir), 0);
    snprintf(src, sizeof src, "%s/good.so", fixdir());
    /* the same bytes load from a private copy ... */
    char *p = tu_copy_file(src, dir, "good.so", 0755);
    assert_non_null(p);
    struct xgw__plugin *pl = NULL;
    struct xgw_error err = {0};
    assert_int_equal(xgw__plugin_load(dir, "good", &pl, &err), 0);
    xgw__plugin_unload(pl);
    /* ... but not once the file is writable by others or group */
    assert_int_equal(chmod(p, 0666), 0);
    expect_fail(dir, "good", "writable by group or others (mode 666)");
    assert_int_equal(chmod(p, 0775), 0);
    expect_fail(dir, "good", "writable by group or others (mode 775)");
    /* nor from a folder others may write to */
    assert_int_equal(chmod(p, 0755), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    expect_fail(dir, "good", "its folder");
    assert_int_equal(chmod(dir, 0700), 0);
    free(p);
    assert_int_equal(tu_rm_rf(dir), 0);
}

static void test_not_regular(void **state)
{
    (void)state;
    char dir[256];
    assert_int_equal(tu_mkdtemp(dir, sizeof dir), 0);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/dir.so", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    expect_fail(dir, "dir", "not a regular file");
    assert_int_equal(tu_rm_rf(dir), 0);
}

/* A bare file name is the file in the current folder, never a search of
 * the library path; without an expected name the basename is expected. */
static void test_relative_path(void **state)
{
    (void)state;
    char dir[256], src[512], cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(tu_mkdtemp(dir, sizeof dir), 0);
    snprintf(src, sizeof src, "%s/good.so", fixdir());
    char *p = tu_copy_file(src, dir, "good.so", 0700);
    assert_non_null(p);
    assert_int_equal(chdir(dir), 0);
    struct xgw__plugin *pl = NULL;
    struct xgw_error err = {0};
    int rc = xgw__plugin_load_path("good.so", NULL, &pl, &err);
    assert_int_equal(chdir(cwd), 0);
    if (rc != 0)
        fail_msg("relative load failed: %s", err.message);
    assert_string_equal(pl->name, "good");
    xgw__plugin_unload(pl);
    free(p);
    assert_int_equal(tu_rm_rf(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),          cmocka_unit_test(test_wrong_abi),   cmocka_unit_test(test_no_entry),
        cmocka_unit_test(test_name_mismatch), cmocka_unit_test(test_null_member), cmocka_unit_test(test_struct_too_small),
        cmocka_unit_test(test_missing_file),  cmocka_unit_test(test_bad_name),    cmocka_unit_test(test_not_elf),
        cmocka_unit_test(test_world_writable), cmocka_unit_test(test_not_regular),
        cmocka_unit_test(test_relative_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
