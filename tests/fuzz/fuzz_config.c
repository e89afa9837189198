/*
 * Fuzz target: the INI configuration loader (core/config.c) — parsing and
 * validation of every core key, env expansion, endpoint lists, the
 * `streams` key, and binding extras to a plugin's typed keys — as
 * tests/unit/test_config.c drives it: the input is written to a 0600 file
 * and loaded from there (the loader reads files, and checks their mode).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "config.h"
#include "fz.h"
#include "secmem.h"

static const char *const m_rest[] = {"https://main.example"};
static const char *const m_ws[] = {"wss://main.example"};
static const struct xgw_network nets[] = {
    {"mainnet", m_rest, 1, m_ws, 1, NULL, 0},
    {"testnet", m_rest, 1, NULL, 0, NULL, 0},
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
    .n_networks = 2,
    .keys = pkeys,
    .n_keys = 4,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0') {
        snprintf(path, sizeof path, "/tmp/xgw-fuzz-config-%ld.ini", (long)getpid());
        setenv("XGWF_VAR", "value-from-env", 1);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
    close(fd);

    struct xgw__config *cfg = NULL;
    struct xgw_error err = {0};
    if (xgw__config_load(path, "/nonexistent-fuzz-plugins", &cfg, &err) == 0) {
        for (size_t i = 0; i < cfg->n_insts; i++) {
            struct xgw__inst_cfg *inst = &cfg->insts[i];
            if (xgw__config_bind_plugin(cfg, inst, &fake, &err) == 0) {
                (void)xgw__config_get(inst, "depth_limit");
                (void)xgw__config_get(inst, "api_key");
                (void)xgw__config_line(inst, "fee_rate");
            }
            if (inst->streams != NULL) {
                struct xgw__stream_spec *specs = NULL;
                size_t n = 0;
                char why[128];
                if (xgw__streams_parse(inst->streams, &specs, &n, why, sizeof why) == 0)
                    free(specs);
            }
        }
        xgw__config_free(cfg);
    }
    /* Secret memory is mmap'd, where LeakSanitizer does not look: count it.
     * Every secret a config held is released with it (or on the failure). */
    if (xgw__secmem_live() != 0)
        abort();
    unlink(path);
    return 0;
}
