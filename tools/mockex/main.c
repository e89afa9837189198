/*
 * main.c — xgw-mockex command line: parse options, make a certificate when
 * none is given, start the server, print one JSON line, serve until
 * SIGTERM/SIGINT, clean up.
 */
#define _GNU_SOURCE
#include "mx_int.h"

#include <errno.h>
#include <libwebsockets.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static struct mx_server *g_srv;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
    mx__server_wake(g_srv);
}

static void usage(FILE *f)
{
    fputs("usage: xgw-mockex [options]\n"
          "  --port N            listen on 127.0.0.1:N (repeatable; 0 = a free port). Default: 0\n"
          "  --cert FILE --key FILE   TLS certificate and key (default: generate a self-signed one)\n"
          "  --state-dir DIR     where to write the generated certificate (default: a temp dir)\n"
          "  --seed N            market generator and fault ratio seed (default 1)\n"
          "  --accounts FILE     accounts JSON (default: the built-in demo accounts, see README)\n"
          "  --tick-ms N         market step interval (default 100)\n"
          "  --weight-limit N    Binance REQUEST_WEIGHT per minute per IP (default 2400, 0 = off)\n"
          "  --listenkey-ttl-ms N  Binance listenKey lifetime (default 3600000)\n"
          "  --ws-ping-ms N      server WS ping interval (default 180000, 0 = off)\n"
          "  --ws-lifetime-ms N  close Binance WS connections N ms after they opened (as Binance does\n"
          "                      at 24 h; 0 = never)\n"
          "  --ws-idle-ms N      close a WS connection that sent no client ping for N ms, where the\n"
          "                      exchange requires client pings (Bitunix, Hyperliquid; default: the module's, 60000)\n"
          "  --clock-offset-ms N every exchange's clock runs N ms ahead (may be negative)\n"
          "  --fault JSON        add a fault at start (same JSON as POST /_mock/faults; repeatable)\n"
          "  --bench             cached tickers, no rate limits, no per-request logging\n"
          "  --http2            also offer HTTP/2 by ALPN (custom request headers such as\n"
          "                      X-MBX-APIKEY are not visible on h2 with libwebsockets 4.1.6)\n"
          "  --ws-flood          push small WS frames as fast as each client reads\n"
          "  --verbose           log every request on stderr\n",
          f);
}

/* Reads option name's value v, a whole number in min..max, into *out; on
 * anything else (junk after the digits, out of range) says why on stderr
 * and returns -1, where atoll would have read junk as 0. */
static int num_opt(const char *name, const char *v, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || errno == ERANGE || n < min || n > max) {
        fprintf(stderr, "xgw-mockex: %s wants a whole number from %lld to %lld, not \"%s\"\n", name, min, max,
                v);
        return -1;
    }
    *out = n;
    return 0;
}

int main(int argc, char **argv)
{
    struct mx_opts o = {.seed = 1,
                        .tick_ms = 100,
                        .weight_limit = 2400,
                        .listenkey_ttl_ms = 3600000,
                        .ws_ping_ms = 180000};
    int ports[16], nports = 0;
    const char *cert = NULL, *key = NULL, *state_dir = NULL, *accounts = NULL;
    const char *faults[32];
    int nfaults = 0;
    long long clock_off = 0;
    int have_clock = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
        if (ARG("--port")) {
            if (nports == 16) {
                fputs("xgw-mockex: at most 16 ports\n", stderr);
                return 2;
            }
            char *end;
            long p = strtol(v, &end, 10);
            if (*end || p < 0 || p > 65535) {
                fprintf(stderr, "xgw-mockex: bad port %s\n", v);
                return 2;
            }
            ports[nports++] = (int)p;
        } else if (ARG("--cert")) {
            cert = v;
        } else if (ARG("--key")) {
            key = v;
        } else if (ARG("--state-dir")) {
            state_dir = v;
        } else if (ARG("--seed")) {
            o.seed = strtoull(v, NULL, 10);
        } else if (ARG("--accounts")) {
            accounts = v;
        } else if (ARG("--tick-ms")) {
            if (num_opt(a, v, 0, INT_MAX, &n) != 0)
                return 2;
            o.tick_ms = (int)n;
        } else if (ARG("--weight-limit")) {
            if (num_opt(a, v, 0, LLONG_MAX, &n) != 0)
                return 2;
            o.weight_limit = n;
        } else if (ARG("--listenkey-ttl-ms")) {
            if (num_opt(a, v, 0, LLONG_MAX, &n) != 0)
                return 2;
            o.listenkey_ttl_ms = n;
        } else if (ARG("--ws-ping-ms")) {
            if (num_opt(a, v, 0, LLONG_MAX, &n) != 0)
                return 2;
            o.ws_ping_ms = n;
        } else if (ARG("--ws-lifetime-ms")) {
            if (num_opt(a, v, 0, LLONG_MAX, &n) != 0)
                return 2;
            o.ws_lifetime_ms = n;
        } else if (ARG("--ws-idle-ms")) {
            if (num_opt(a, v, 0, LLONG_MAX, &n) != 0)
                return 2;
            o.ws_idle_ms = n;
        } else if (ARG("--clock-offset-ms")) {
            if (num_opt(a, v, LLONG_MIN, LLONG_MAX, &clock_off) != 0)
                return 2;
            have_clock = 1;
        } else if (ARG("--fault")) {
            if (nfaults < 32)
                faults[nfaults++] = v;
        } else if (!strcmp(a, "--bench")) {
            o.bench = 1;
        } else if (!strcmp(a, "--http2")) {
            o.http2 = 1;
        } else if (!strcmp(a, "--ws-flood")) {
            o.ws_flood = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o.verbose = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "xgw-mockex: unknown or incomplete option %s\n", a);
            usage(stderr);
            return 2;
        }
#undef ARG
    }
    if (o.tick_ms < 1)
        o.tick_ms = 1;
    if (!nports)
        ports[nports++] = 0;
    if ((cert == NULL) != (key == NULL)) {
        fputs("xgw-mockex: --cert and --key go together\n", stderr);
        return 2;
    }
    lws_set_log_level(o.verbose ? LLL_ERR | LLL_WARN : 0, NULL);

    char dir[512] = "", certp[600], keyp[600];
    int made_dir = 0;
    if (!cert) {
        if (state_dir) {
            snprintf(dir, sizeof dir, "%s", state_dir);
        } else {
            const char *tmp = getenv("TMPDIR");
            snprintf(dir, sizeof dir, "%s/xgw-mockex-XXXXXX", tmp && *tmp ? tmp : "/tmp");
            if (!mkdtemp(dir)) {
                perror("xgw-mockex: mkdtemp");
                return 1;
            }
            made_dir = 1;
        }
        if (mx__cert_generate(dir, certp, sizeof certp, keyp, sizeof keyp)) {
            fprintf(stderr, "xgw-mockex: cannot write a certificate into %s\n", dir);
            return 1;
        }
        cert = certp;
        key = keyp;
    }

    char err[512] = "";
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    g_srv = mx__server_new(&o, ports, nports, cert, key, accounts, err, sizeof err);
    if (!g_srv) {
        fprintf(stderr, "xgw-mockex: %s\n", err[0] ? err : "start failed");
        return 1;
    }
    int rc = 0;
    if (have_clock) {
        char js[96];
        snprintf(js, sizeof js, "{\"kind\":\"clock_offset\",\"params\":{\"ms\":%lld}}", clock_off);
        if (mx__server_add_fault(g_srv, js, err, sizeof err) < 0)
            rc = 2;
    }
    for (int i = 0; i < nfaults && !rc; i++)
        if (mx__server_add_fault(g_srv, faults[i], err, sizeof err) < 0) {
            fprintf(stderr, "xgw-mockex: --fault %s: %s\n", faults[i], err);
            rc = 2;
        }
    if (rc) {
        mx__server_free(g_srv);
        return rc;
    }
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct mx_buf line = {0};
    mx_buf_puts(&line, "{\"ports\":[");
    for (int i = 0; i < mx__server_nports(g_srv); i++)
        mx_buf_printf(&line, "%s%d", i ? "," : "", mx__server_port(g_srv, i));
    mx_buf_puts(&line, "],\"cert\":");
    mx_buf_json_str(&line, cert);
    mx_buf_printf(&line, ",\"pid\":%ld}\n", (long)getpid());
    fputs(line.p, stdout);
    fflush(stdout);
    mx_buf_free(&line);

    while (!g_stop)
        if (mx__server_run_once(g_srv) < 0)
            break;
    mx__server_free(g_srv);
    g_srv = NULL;
    if (made_dir) {
        unlink(certp);
        unlink(keyp);
        rmdir(dir);
    }
    return 0;
}
