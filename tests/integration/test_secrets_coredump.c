/*
 * test_secrets_coredump.c — a core dump of a running gateway holds none of
 * its secrets (core/secmem.h).
 *
 * A child, forked first thing in main() so that it never held a secret but
 * through xgw, opens a gateway from a config whose secrets are fresh random
 * values of this run: a Binance api_secret written in the file, a Bitunix
 * api_secret read from api_secret_file and a Hyperliquid private_key read
 * from private_key_file (the mock is started with the same credentials in
 * an accounts file). It makes signed calls to each exchange and, with the
 * gateway still open, dumps its own core with gdb's gcore, which honours
 * MADV_DONTDUMP like the kernel's dumper (a mapping with VmFlags "dd" is
 * left out). The parent then searches the dump for every form of each
 * secret it can think of: the text, upper case, hex and base64 of the text,
 * the decoded key bytes and their base64 (Hyperliquid), and the HMAC inner
 * and outer padded keys (Binance and Bitunix are HMAC/SHA-256 keys). A heap
 * canary the child keeps alive must be found: the dump and the scan work.
 *
 * The random values come from the parent after the fork, so no copy can
 * come from the test's own memory, the binary or a library. Without gcore
 * (gdb) the test fails and says so: the claim cannot be checked without it.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tu_mockex.h"
#include "tu_proc.h"
#include "xgw/xgw.h"

/* ---- the child ----------------------------------------------------------- */

enum {
    CHILD_OK = 0,
    CHILD_NO_INPUT = 3,
    CHILD_OPEN = 4,
    CHILD_CALLS = 5,
    CHILD_NO_GCORE = 6,
    CHILD_GCORE_FAILED = 7,
};

static pid_t g_child = -1;
static int g_child_fd = -1;

static int call(struct xgw_gateway *gw, const char *inst, enum xgw_op op, const struct xgw_call *c)
{
    struct xgw_result *res = NULL;
    struct xgw_error err;
    int rc = xgw_call_sync(xgw_exchange_find(gw, inst), op, c, &res, &err);
    if (rc != 0)
        fprintf(stderr, "child: %s op %d: %s\n", inst, (int)op, err.message);
    xgw_result_free(res);
    return rc;
}

/* Reservations of 1 GiB and more are the sanitizers' shadow memory
 * (terabytes, mostly unbacked; gcore would write it all out): excluded from
 * the dump like the secrets. The heap is never that large here, and the
 * canary check would fail loudly if it were skipped. */
static void exclude_shadow(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    while (maps && fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi - lo >= (1ul << 30))
            (void)madvise((void *)lo, hi - lo, MADV_DONTDUMP);
    }
    if (maps)
        fclose(maps);
}

/* gcore <prefix> <own pid>: gdb attaches to its parent, which Yama's
 * ptrace_scope=1 allows only when the parent says so. */
static int dump_self(const char *prefix)
{
    (void)prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0); /* EINVAL without Yama: fine */
    exclude_shadow();
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    pid_t g = fork();
    if (g < 0)
        return CHILD_GCORE_FAILED;
    if (g == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        /* a dump is ~100 MiB; should one grow past 1 GiB (something not
         * excluded), gcore fails (SIGXFSZ) instead of filling the disk */
        struct rlimit fs = {1ul << 30, 1ul << 30};
        (void)setrlimit(RLIMIT_FSIZE, &fs);
        execlp("gcore", "gcore", "-o", prefix, pid, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(g, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return CHILD_NO_GCORE;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? CHILD_OK : CHILD_GCORE_FAILED;
}

/* Reads "<config path>\n<core prefix>" from the pipe; signed calls; dump;
 * close. The exit status says what failed. */
static void child(int rfd)
{
    setpgid(0, 0); /* the parent ends gcore with us on a timeout */
    char in[1024];
    ssize_t n = read(rfd, in, sizeof in - 1);
    if (n <= 0)
        _exit(CHILD_NO_INPUT);
    in[n] = 0;
    char *prefix = strchr(in, '\n');
    if (!prefix)
        _exit(CHILD_NO_INPUT);
    *prefix++ = 0;
    struct xgw_error err;
    struct xgw_gateway *gw = xgw_open(in, NULL, &err);
    if (!gw || xgw_start(gw, &err) != 0) {
        fprintf(stderr, "child: open: %s\n", err.message);
        _exit(CHILD_OPEN);
    }
    struct xgw_call c;
    memset(&c, 0, sizeof c);
    int bad = 0;
    bad |= call(gw, "bn", XGW_OP_BALANCES, &c);
    bad |= call(gw, "bx", XGW_OP_BALANCES, &c);
    bad |= call(gw, "hl", XGW_OP_BALANCES, &c);
    memset(&c, 0, sizeof c);
    snprintf(c.symbol, sizeof c.symbol, "BTC");
    snprintf(c.order.symbol, sizeof c.order.symbol, "BTC");
    c.order.side = XGW_SIDE_BUY;
    c.order.type = XGW_TYPE_LIMIT;
    xgw_dec_parse_cstr("0.001", &c.order.qty);
    xgw_dec_parse_cstr("56000", &c.order.price);
    snprintf(c.order.client_id, sizeof c.order.client_id, "0x000000000000000000000000000000c0");
    bad |= call(gw, "hl", XGW_OP_PLACE, &c); /* an EIP-712 signature */
    memset(&c, 0, sizeof c);
    snprintf(c.symbol, sizeof c.symbol, "BTCUSDT");
    bad |= call(gw, "bn", XGW_OP_OPEN_ORDERS, &c);
    bad |= call(gw, "bx", XGW_OP_OPEN_ORDERS, &c);
    /* positive control: live heap memory is in the dump */
    char *canary = malloc(96);
    if (canary)
        snprintf(canary, 96, "xgw-core-canary-%d-on-the-heap", (int)getpid());
    int rc = bad ? CHILD_CALLS : dump_self(prefix);
    free(canary);
    xgw_close(gw);
    _exit(rc);
}

/* ---- the parent ---------------------------------------------------------- */

static void random_text(char *out, size_t n, const char *alphabet)
{
    unsigned char r[128];
    assert_true(n < sizeof r);
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, r, n), (ssize_t)n);
    close(fd);
    size_t k = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[r[i] % k];
    out[n] = 0;
}

static void hex_of(const unsigned char *p, size_t n, char *out, bool upper)
{
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = 0;
}

static void base64_of(const unsigned char *p, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = 0;
}

static int nib(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

struct needle {
    char what[64];
    unsigned char b[160];
    size_t n;
};

static void add(struct needle *nd, size_t *k, const char *what, const void *b, size_t n)
{
    assert_true(n <= sizeof nd[0].b);
    snprintf(nd[*k].what, sizeof nd[*k].what, "%s", what);
    memcpy(nd[*k].b, b, n);
    nd[*k].n = n;
    (*k)++;
}

/* Every form of an HMAC/SHA-256 text secret. */
static void text_forms(struct needle *nd, size_t *k, const char *name, const char *s)
{
    char w[64], t[160];
    size_t n = strlen(s);
    snprintf(w, sizeof w, "%s", name);
    add(nd, k, w, s, n);
    for (size_t i = 0; i <= n; i++)
        t[i] = (char)toupper((unsigned char)s[i]);
    snprintf(w, sizeof w, "%s upper case", name);
    if (strcmp(t, s))
        add(nd, k, w, t, n);
    hex_of((const unsigned char *)s, n, t, false);
    snprintf(w, sizeof w, "%s as hex", name);
    add(nd, k, w, t, 2 * n);
    hex_of((const unsigned char *)s, n, t, true);
    snprintf(w, sizeof w, "%s as HEX", name);
    add(nd, k, w, t, 2 * n);
    base64_of((const unsigned char *)s, n, t);
    snprintf(w, sizeof w, "%s as base64", name);
    add(nd, k, w, t, strlen(t));
    /* HMAC's padded keys (a key of at most 64 bytes is used as is) */
    if (n <= 64) {
        unsigned char ip[64], op[64];
        for (size_t i = 0; i < 64; i++) {
            unsigned char c = i < n ? (unsigned char)s[i] : 0;
            ip[i] = c ^ 0x36;
            op[i] = c ^ 0x5c;
        }
        snprintf(w, sizeof w, "%s xor ipad", name);
        add(nd, k, w, ip, 64);
        snprintf(w, sizeof w, "%s xor opad", name);
        add(nd, k, w, op, 64);
    }
}

static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *b = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && (b = malloc((size_t)st.st_size))) {
        size_t got = 0;
        ssize_t r;
        while (got < (size_t)st.st_size && (r = read(fd, b + got, (size_t)st.st_size - got)) > 0)
            got += (size_t)r;
        *len = got;
    }
    close(fd);
    return b;
}

static void test_no_secret_in_core_dump(void **state)
{
    (void)state;
    assert_true(g_child > 0 && g_child_fd >= 0);
    char dir[256];
    assert_int_equal(tu_mkdtemp(dir, sizeof dir), 0);

    /* Fresh credentials, like the exchanges' own formats. */
    char bn_key[65], bn_secret[65], bx_key[33], bx_secret[33], hl_hex[65];
    random_text(bn_key, 64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    random_text(bn_secret, 64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    random_text(bx_key, 32, "0123456789abcdef");
    random_text(bx_secret, 32, "0123456789abcdef");
    random_text(hl_hex, 64, "0123456789abcdef");
    hl_hex[0] = '1'; /* below the curve order: a valid secp256k1 key */

    char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"accounts\":[{\"exchange\":\"binance\",\"api_key\":\"%s\",\"secret\":\"%s\"},"
             "{\"exchange\":\"bitunix\",\"api_key\":\"%s\",\"secret\":\"%s\"},"
             "{\"exchange\":\"hyperliquid\",\"private_key\":\"0x%s\"}]}",
             bn_key, bn_secret, bx_key, bx_secret, hl_hex);
    char *accounts = tu_write_file(dir, "accounts.json", buf, (size_t)-1, 0600);
    assert_non_null(accounts);
    struct tu_mockex mx = {.pid = -1};
    const char *args[] = {"--accounts", accounts, NULL};
    assert_int_equal(tu_mockex_start(&mx, args), 0);
    free(accounts);

    char *bxf = tu_write_file(dir, "bx.secret", bx_secret, (size_t)-1, 0600);
    snprintf(buf, sizeof buf, "0x%s\n", hl_hex);
    char *hlf = tu_write_file(dir, "hl.key", buf, (size_t)-1, 0600);
    assert_non_null(bxf);
    assert_non_null(hlf);
    snprintf(buf, sizeof buf,
             "[gateway]\nplugin_dir = %s\nlog_level = error\n\n"
             "[exchange.bn]\nplugin = binance\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\n"
             "api_key = %s\napi_secret = %s\nhttp2 = false\n\n"
             "[exchange.bx]\nplugin = bitunix\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\n"
             "api_key = %s\napi_secret_file = %s\nhttp2 = false\n\n"
             "[exchange.hl]\nplugin = hyperliquid\nrest_endpoints = https://127.0.0.1:%d\nca_file = %s\n"
             "private_key_file = %s\nhttp2 = false\n",
             getenv("XGW_PLUGIN_DIR"), mx.ports[0], mx.cert, bn_key, bn_secret, mx.ports[0], mx.cert, bx_key, bxf,
             mx.ports[0], mx.cert, hlf);
    free(bxf);
    free(hlf);
    char *cfg = tu_write_file(dir, "gw.ini", buf, (size_t)-1, 0600);
    assert_non_null(cfg);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s/core", dir);
    snprintf(buf, sizeof buf, "%s\n%s", cfg, prefix);
    free(cfg);
    ssize_t wr = write(g_child_fd, buf, strlen(buf));
    close(g_child_fd);
    g_child_fd = -1;
    assert_true(wr > 0);

    /* gcore of a small process takes a few seconds; bounded at 2 minutes */
    int st = 0;
    pid_t w = 0, pid = g_child;
    for (int i = 0; i < 1200 && w == 0; i++) {
        w = waitpid(pid, &st, WNOHANG);
        if (w == 0)
            usleep(100000);
    }
    if (w != pid) {
        if (kill(-pid, SIGKILL) != 0) /* the child's group: gcore too */
            kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    g_child = -1;
    tu_mockex_stop(&mx);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (code == CHILD_NO_GCORE) {
        tu_rm_rf(dir);
        fail_msg("gcore (from gdb) is not installed: this test needs it to dump the gateway's core "
                 "(Debian: apt-get install gdb)");
    }
    if (code != CHILD_OK) {
        tu_rm_rf(dir);
        fail_msg("the child failed (exit status %d, see enum at the top; signal %d)", code,
                 WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    }

    char core[320];
    snprintf(core, sizeof core, "%s.%d", prefix, (int)pid);
    size_t len = 0;
    char *dump = slurp(core, &len);
    tu_rm_rf(dir);
    assert_non_null(dump);
    assert_true(len > (1u << 20));

    struct needle nd[32];
    size_t k = 0;
    text_forms(nd, &k, "binance api_secret", bn_secret);
    text_forms(nd, &k, "bitunix api_secret", bx_secret);
    add(nd, &k, "hyperliquid private key (hex)", hl_hex, 64);
    char t[160];
    for (size_t i = 0; i <= 64; i++)
        t[i] = (char)toupper((unsigned char)hl_hex[i]);
    add(nd, &k, "hyperliquid private key (HEX)", t, 64);
    unsigned char raw[32];
    for (int i = 0; i < 32; i++)
        raw[i] = (unsigned char)(nib(hl_hex[2 * i]) << 4 | nib(hl_hex[2 * i + 1]));
    add(nd, &k, "hyperliquid private key (32 bytes)", raw, 32);
    base64_of(raw, 32, t);
    add(nd, &k, "hyperliquid private key (base64)", t, strlen(t));

    char canary[64];
    snprintf(canary, sizeof canary, "xgw-core-canary-%d-on-the-heap", (int)pid);
    bool canary_seen = memmem(dump, len, canary, strlen(canary)) != NULL;
    int found = 0;
    for (size_t i = 0; i < k; i++) {
        const char *at = memmem(dump, len, nd[i].b, nd[i].n);
        if (at) {
            fprintf(stderr, "%s found in the core dump at offset %zu\n", nd[i].what, (size_t)(at - dump));
            found++;
        }
    }
    free(dump);
    assert_true(canary_seen); /* the dump holds the heap: the search is meaningful */
    assert_int_equal(found, 0);
}

int main(void)
{
    int pp[2];
    if (pipe(pp) != 0)
        return 1;
    g_child = fork();
    if (g_child < 0)
        return 1;
    if (g_child == 0) {
        close(pp[1]);
        child(pp[0]);
    }
    close(pp[0]);
    g_child_fd = pp[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_secret_in_core_dump),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (g_child_fd >= 0)
        close(g_child_fd); /* an unused child exits on EOF */
    if (g_child > 0) {
        if (kill(-g_child, SIGKILL) != 0)
            kill(g_child, SIGKILL);
        waitpid(g_child, NULL, 0);
    }
    return rc;
}
