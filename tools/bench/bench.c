/*
 * xgw-bench — the benchmark driver behind tools/bench/run.sh.
 *
 * Every mode measures one thing in this process and prints one JSON object
 * per result on stdout (run.sh collects them over repetitions; report.py
 * takes medians and ratios). Each client runs in its own process so that
 * getrusage(RUSAGE_SELF) is the client's CPU and nothing else's: the mock
 * exchange is another process.
 *
 *   rest      signed Binance balance requests against the mock:
 *             --client xgw    the public API (xgw_call_sync, or xgw_call with
 *                             --inflight K > 1)
 *             --client curl   the floor of the stack: one reused easy handle
 *                             (or a curl multi with K handles), signing with
 *                             OpenSSL's HMAC
 *             --client fresh  no pooling: a new easy handle (new TCP + TLS
 *                             handshake) per request
 *   sign      request signing through each plugin's build(): Binance HMAC,
 *             Bitunix double SHA-256, Hyperliquid EIP-712 order (secp256k1),
 *             and bare OpenSSL HMAC for reference
 *   ingest    offline stream ingest of Binance depth diffs (10 bids + 10 asks
 *             = 20 levels) and bookTicker frames: bare cJSON parse vs the
 *             plugin's ws_parse() into neutral records vs parse + book upkeep
 *   live      frames from the mock's --ws-flood over loopback TLS through a
 *             real subscription (xgw_subscribe, ticker): events/s, CPU/event
 *   recovery  WS drop (the mock's ws_close fault) to the first event after the
 *             resubscription, per trial (default reconnect back-off 250 ms)
 *   failover  REST endpoint death: a second mock (--mockex) is the first
 *             endpoint, the --url mock the second; the first is killed and
 *             sequential reads go on: the time from the kill to the first
 *             successful read answered by the second, per trial
 *   footprint the demo setup (3 instances, pooled connections, 6 streams)
 *             run for a while; peak RSS (VmHWM)
 *   exec      run a command N times (e.g. `xgw check`): wall time per run
 *             and the children's peak RSS
 *
 * Errors (a non-200 answer, a parse failure) are counted and make the exit
 * status 1, so the smoke test notices any broken path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "xgw/plugin.h"
#include "xgw/stream.h"
#include "xgw/xgw.h"

#include "book.h"
#include "config.h"
#include "instctx.h"
#include "loader.h"
#include "sink.h"

/* The mock's demo credentials (tools/mockex/README.md): public test vectors. */
#define BN_KEY "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
#define BN_SECRET "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
#define HL_KEY "0x0123456789012345678901234567890123456789012345678901234567890123"

static const char *prog_name = "xgw-bench";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

/* Context switches of the whole process (all threads) so far. */
static long csw(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw + ru.ru_nivcsw;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

struct opts {
    const char *mode;
    const char *client;     /* rest: xgw | curl | fresh */
    const char *url;        /* https://127.0.0.1:<port> */
    const char *ca;         /* the mock's certificate */
    const char *plugin_dir;
    long n;                 /* requests / signatures / frames */
    long inflight;          /* rest: concurrency (1 = sequential) */
    double seconds;         /* live / footprint */
    char **exec_argv;       /* exec: the command */
    bool host_loop;         /* rest xgw: drive the loop on the calling thread (xgw_fd/xgw_step) */
    const char *mockex;     /* failover: the mock exchange binary to start and kill */
};

static long num_arg(const char *name, const char *v)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n <= 0)
        die("%s needs a positive number, not '%s'", name, v);
    return n;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: xgw-bench rest --client xgw|curl|fresh --url URL --ca CERT [--n N] [--inflight K]\n"
            "                       [--host-loop] [--plugin-dir D]\n"
            "       xgw-bench sign [--n N] [--plugin-dir D]\n"
            "       xgw-bench ingest [--n N] [--plugin-dir D]\n"
            "       xgw-bench live --url URL --ca CERT [--seconds S] [--plugin-dir D]\n"
            "       xgw-bench recovery --url URL --ca CERT [--n TRIALS] [--plugin-dir D]\n"
            "       xgw-bench failover --url URL --ca CERT --mockex PATH [--n TRIALS] [--plugin-dir D]\n"
            "       xgw-bench footprint --url URL --ca CERT [--seconds S]\n"
            "                       [--plugin-dir D]\n"
            "       xgw-bench exec [--n N] -- COMMAND [ARGS...]\n"
            "Prints one JSON object per result on stdout. See tools/bench/run.sh.\n");
    exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->n = 1000;
    o->inflight = 1;
    o->seconds = 3;
    o->plugin_dir = getenv("XGW_PLUGIN_DIR");
    if (argc < 2)
        usage();
    o->mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--host-loop")) {
            o->host_loop = true;
            continue;
        }
        if (!strcmp(a, "--")) {
            o->exec_argv = argv + i + 1;
            break;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--client"))
            o->client = v;
        else if (!strcmp(a, "--url"))
            o->url = v;
        else if (!strcmp(a, "--ca"))
            o->ca = v;
        else if (!strcmp(a, "--plugin-dir"))
            o->plugin_dir = v;
        else if (!strcmp(a, "--n"))
            o->n = num_arg(a, v);
        else if (!strcmp(a, "--inflight"))
            o->inflight = num_arg(a, v);
        else if (!strcmp(a, "--seconds"))
            o->seconds = (double)num_arg(a, v);
        else if (!strcmp(a, "--mockex"))
            o->mockex = v;
        else
            usage();
    }
}

static void need_mock(const struct opts *o)
{
    if (!o->url || !o->ca)
        die("this mode needs --url and --ca (the mock exchange's address and certificate)");
}

/* ------------------------------------------------------------------------ */
/* Latency samples                                                           */
/* ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    if (k < 1)
        k = 1;
    return v[k - 1];
}

/* cs: context switches during the timed loop (they are where a hand-off
 * between threads shows). */
static void print_rest(const char *bench, const char *client, long inflight, long n, long errors, double secs,
                       double cpu, long cs, double *lat_us, size_t n_lat)
{
    qsort(lat_us, n_lat, sizeof *lat_us, cmp_double);
    printf("{\"bench\":\"%s\",\"client\":\"%s\",\"inflight\":%ld,\"n\":%ld,\"errors\":%ld,\"secs\":%.6f,"
           "\"rate\":%.1f,\"cpu_us\":%.2f,\"csw\":%.2f,\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
           bench, client, inflight, n, errors, secs, secs > 0 ? (double)n / secs : 0, n ? cpu * 1e6 / (double)n : 0,
           n ? (double)cs / (double)n : 0, pct(lat_us, n_lat, 50), pct(lat_us, n_lat, 99));
}

/* ------------------------------------------------------------------------ */
/* Config written for the gateway                                            */
/* ------------------------------------------------------------------------ */

/* Write an INI for the benchmark into a temp file; returns its path
 * (malloc'd). sections is appended after [gateway]. */
static char *write_config(const char *plugin_dir, const char *sections)
{
    char *path = strdup("/tmp/xgw-bench-XXXXXX.ini");
    if (!path)
        die("out of memory");
    int fd = mkstemps(path, 4);
    if (fd < 0)
        die("cannot create a temp config: %s", strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f)
        die("fdopen: %s", strerror(errno));
    fprintf(f, "[gateway]\n");
    if (plugin_dir)
        fprintf(f, "plugin_dir = %s\n", plugin_dir);
    fprintf(f, "log_level = error\n\n%s", sections);
    if (fclose(f) != 0)
        die("cannot write %s", path);
    return path;
}

/* Binance against the mock, tuned for measuring the request path and
 * nothing else: no background health checks, and limits high enough that
 * the gateway's own rate limiter never waits (the mock in --bench mode does
 * not limit either). The pool holds one connection per request in flight.
 * Timeouts are the bare curl client's (10 s): on this shared 2-core machine
 * 64 TLS handshakes at once against the one-threaded mock can take longer
 * than the default 3 s connect timeout. */
static char *bn_section(const struct opts *o, long pool)
{
    char *s = NULL;
    if (asprintf(&s,
                 "[exchange.bn]\nplugin = binance\nnetwork = testnet\nrest_endpoints = %s\nws_endpoints = wss://%s\n"
                 "ca_file = %s\napi_key = %s\napi_secret = %s\npool_min = %ld\npool_max = %ld\n"
                 "health_checks = false\nrate_limits = request_weight_1m=1000000000\n"
                 "connect_timeout_ms = 10000\nrequest_timeout_ms = 10000\nretry_max = 0\n\n",
                 o->url, strncmp(o->url, "https://", 8) == 0 ? o->url + 8 : o->url, o->ca, BN_KEY, BN_SECRET,
                 pool > 64 ? 64 : pool, pool) < 0)
        die("out of memory");
    return s;
}

static struct xgw_gateway *open_gw(const char *cfg_path, const struct opts *o)
{
    struct xgw_error err;
    struct xgw_open_opts oo = {.plugin_dir = o->plugin_dir};
    struct xgw_gateway *gw = xgw_open(cfg_path, &oo, &err);
    if (!gw)
        die("xgw_open: %s", err.message);
    /* Host-driven: xgw_call_sync runs the loop on the calling thread, so a
     * request costs no hand-off between threads. */
    if (!o->host_loop && xgw_start(gw, &err) != 0)
        die("xgw_start: %s", err.message);
    return gw;
}

/* A gateway from config sections (consumed): written to a temporary file,
 * opened, and the file removed. */
static struct xgw_gateway *open_sections(const struct opts *o, char *sections)
{
    char *cfg = write_config(o->plugin_dir, sections);
    free(sections);
    struct xgw_gateway *gw = open_gw(cfg, o);
    unlink(cfg);
    free(cfg);
    return gw;
}

/* ------------------------------------------------------------------------ */
/* REST: xgw                                                                 */
/* ------------------------------------------------------------------------ */

struct xgw_conc {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct xgw_exchange *ex;
    long n, submitted, done, errors;
    double *lat_us;
    size_t n_lat;
    char first_err[256], last_err[256];
};

struct xgw_slot {
    struct xgw_conc *c;
    double t0;
};

static void conc_done(void *user, const struct xgw_result *res, const struct xgw_error *err);

/* Called with c->mu held. */
static int conc_submit(struct xgw_conc *c, struct xgw_slot *s)
{
    static const struct xgw_call call; /* BALANCES takes no arguments */
    c->submitted++;
    s->t0 = now_s();
    return xgw_call(c->ex, XGW_OP_BALANCES, &call, conc_done, s);
}

static void conc_done(void *user, const struct xgw_result *res, const struct xgw_error *err)
{
    struct xgw_slot *s = user;
    struct xgw_conc *c = s->c;
    double t = now_s();
    pthread_mutex_lock(&c->mu);
    c->lat_us[c->n_lat++] = (t - s->t0) * 1e6;
    if (!res || res->n_balances == 0) {
        if (c->errors++ == 0)
            snprintf(c->first_err, sizeof c->first_err, "%s", err ? err->message : "no balances in the answer");
        snprintf(c->last_err, sizeof c->last_err, "%s", err ? err->message : "no balances in the answer");
    }
    c->done++;
    /* Keep the window full: the next request leaves from the callback, as an
     * event-driven bot would send it. */
    if (c->submitted < c->n && conc_submit(c, s) != 0) {
        c->errors++;
        c->done++;
    }
    if (c->done >= c->n)
        pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Run c->n requests with o->inflight in flight; returns when all are done. */
static void conc_run(struct xgw_gateway *gw, struct xgw_conc *c, const struct opts *o)
{
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    struct xgw_slot *slots = calloc((size_t)o->inflight, sizeof *slots);
    if (!slots)
        die("out of memory");
    pthread_mutex_lock(&c->mu);
    for (long i = 0; i < o->inflight && c->submitted < c->n; i++) {
        slots[i].c = c;
        if (conc_submit(c, &slots[i]) != 0)
            die("xgw_call refused a request");
    }
    if (o->host_loop) {
        /* The documented host loop: poll the fd, then step. Callbacks run
         * inside xgw_step on this thread and take c->mu. */
        pthread_mutex_unlock(&c->mu);
        for (;;) {
            pthread_mutex_lock(&c->mu);
            long done = c->done;
            pthread_mutex_unlock(&c->mu);
            if (done >= c->n)
                break;
            struct pollfd pfd = {.fd = xgw_fd(gw), .events = POLLIN};
            (void)poll(&pfd, 1, xgw_timeout_ms(gw));
            xgw_step(gw);
        }
    } else {
        while (c->done < c->n)
            pthread_cond_wait(&c->cv, &c->mu);
        pthread_mutex_unlock(&c->mu);
    }
    free(slots);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

static int rest_xgw(const struct opts *o)
{
    char *sec = bn_section(o, o->inflight);
    struct xgw_gateway *gw = open_sections(o, sec);
    struct xgw_exchange *ex = xgw_exchange_find(gw, "bn");
    struct xgw_error err;
    struct xgw_result *res = NULL;
    static const struct xgw_call call;

    /* Warm up: the connection(s), the clock sample, the caches. */
    for (int i = 0; i < 5; i++) {
        if (xgw_call_sync(ex, XGW_OP_BALANCES, &call, &res, &err) != 0)
            die("warm-up balance request failed: %s", err.message);
        xgw_result_free(res);
    }
    double *lat = calloc((size_t)o->n, sizeof *lat);
    if (!lat)
        die("out of memory");
    long errors = 0;
    double t0, c0, t1, c1;
    long k0, k1;
    size_t n_lat = 0;
    if (o->inflight <= 1) {
        t0 = now_s();
        c0 = cpu_s();
        k0 = csw();
        for (long i = 0; i < o->n; i++) {
            double a = now_s();
            int rc = xgw_call_sync(ex, XGW_OP_BALANCES, &call, &res, &err);
            lat[n_lat++] = (now_s() - a) * 1e6;
            if (rc != 0 || res->n_balances == 0) {
                if (errors++ == 0)
                    fprintf(stderr, "xgw: %s\n", rc ? err.message : "no balances");
            }
            xgw_result_free(res);
        }
        t1 = now_s();
        c1 = cpu_s();
        k1 = csw();
    } else {
        /* Two untimed rounds of K first, as for curl multi: the pool's K
         * connections are open (warm-up at start opens them in the
         * background) before the clock starts. */
        double *wlat = calloc((size_t)(2 * o->inflight), sizeof *wlat);
        if (!wlat)
            die("out of memory");
        struct xgw_conc w = {.ex = ex, .n = 2 * o->inflight, .lat_us = wlat};
        conc_run(gw, &w, o);
        free(wlat);
        if (w.errors)
            die("warm-up: %ld errors, first: %s", w.errors, w.first_err);
        struct xgw_conc c = {.ex = ex, .n = o->n, .lat_us = lat};
        t0 = now_s();
        c0 = cpu_s();
        k0 = csw();
        conc_run(gw, &c, o);
        t1 = now_s();
        c1 = cpu_s();
        k1 = csw();
        errors = c.errors;
        n_lat = c.n_lat;
        if (errors)
            fprintf(stderr, "xgw: %ld errors, first: %s; last: %s\n", errors, c.first_err, c.last_err);
    }
    xgw_close(gw);
    print_rest(o->inflight > 1 ? "rest_conc" : "rest_seq", o->host_loop ? "xgw_host" : "xgw", o->inflight, o->n,
               errors, t1 - t0, c1 - c0, k1 - k0, lat, n_lat);
    free(lat);
    return errors ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* REST: bare libcurl                                                        */
/* ------------------------------------------------------------------------ */

struct body {
    char *p;
    size_t len, cap;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct body *b = user;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, ptr, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* The request a Binance client sends: query with recvWindow and timestamp,
 * HMAC-SHA256 over it with the secret, hex, appended as signature. */
static void sign_url(const char *base, char *url, size_t cap)
{
    char q[128];
    int ql = snprintf(q, sizeof q, "recvWindow=5000&timestamp=%lld", (long long)wall_ms());
    unsigned char mac[32];
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), BN_SECRET, (int)strlen(BN_SECRET), (const unsigned char *)q, (size_t)ql, mac, &mlen);
    char hex[65];
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        hex[2 * i] = digits[mac[i] >> 4];
        hex[2 * i + 1] = digits[mac[i] & 15];
    }
    hex[64] = '\0';
    snprintf(url, cap, "%s/fapi/v3/balance?%s&signature=%s", base, q, hex);
}

struct curl_req {
    CURL *h;
    struct body body;
    char url[512];
    double t0;
};

static void curl_setup(struct curl_req *r, const struct opts *o, struct curl_slist *hdrs)
{
    if (!r->h)
        r->h = curl_easy_init();
    if (!r->h)
        die("curl_easy_init failed");
    curl_easy_setopt(r->h, CURLOPT_CAINFO, o->ca);
    curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(r->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(r->h, CURLOPT_TCP_NODELAY, 1L);
}

/* A 200 answer that carries balances (the mock's v3 shape: an array). */
static int curl_check(struct curl_req *r, CURLcode rc, long *errors)
{
    long status = 0;
    curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
    int ok = rc == CURLE_OK && status == 200 && r->body.len > 0 && strstr(r->body.p, "\"asset\"") != NULL;
    if (!ok && (*errors)++ == 0)
        fprintf(stderr, "curl: %s, HTTP %ld: %.200s\n", curl_easy_strerror(rc), status, r->body.p ? r->body.p : "");
    r->body.len = 0;
    return ok;
}

static int rest_curl(const struct opts *o, bool fresh)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "X-MBX-APIKEY: " BN_KEY);
    double *lat = calloc((size_t)o->n, sizeof *lat);
    if (!hdrs || !lat)
        die("out of memory");
    long errors = 0, warm_err = 0;
    size_t n_lat = 0;
    double t0, c0, t1, c1;
    long k0, k1;
    const char *client = fresh ? "fresh" : "curl";

    if (o->inflight <= 1) {
        struct curl_req r = {0};
        curl_setup(&r, o, hdrs);
        for (int i = 0; i < 5 && !fresh; i++) {
            sign_url(o->url, r.url, sizeof r.url);
            curl_easy_setopt(r.h, CURLOPT_URL, r.url);
            curl_check(&r, curl_easy_perform(r.h), &warm_err);
        }
        t0 = now_s();
        c0 = cpu_s();
        k0 = csw();
        for (long i = 0; i < o->n; i++) {
            double a = now_s();
            if (fresh) {
                /* No pooling: every request pays TCP + TLS set-up. */
                curl_easy_cleanup(r.h);
                r.h = NULL;
                curl_setup(&r, o, hdrs);
            }
            sign_url(o->url, r.url, sizeof r.url);
            curl_easy_setopt(r.h, CURLOPT_URL, r.url);
            curl_check(&r, curl_easy_perform(r.h), &errors);
            lat[n_lat++] = (now_s() - a) * 1e6;
        }
        t1 = now_s();
        c1 = cpu_s();
        k1 = csw();
        curl_easy_cleanup(r.h);
        free(r.body.p);
    } else {
        /* curl multi with K easy handles, each re-added with a freshly
         * signed URL as soon as its answer is complete. */
        CURLM *m = curl_multi_init();
        if (!m)
            die("curl_multi_init failed");
        curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, o->inflight);
        struct curl_req *rs = calloc((size_t)o->inflight, sizeof *rs);
        if (!rs)
            die("out of memory");
        long submitted = 0, done = 0;
        for (long i = 0; i < o->inflight; i++) {
            curl_setup(&rs[i], o, hdrs);
            curl_easy_setopt(rs[i].h, CURLOPT_PRIVATE, &rs[i]);
        }
        /* Warm up: open the K connections the same way xgw's pool_min does. */
        for (int pass = 0; pass < 2; pass++) {
            for (long i = 0; i < o->inflight; i++) {
                sign_url(o->url, rs[i].url, sizeof rs[i].url);
                curl_easy_setopt(rs[i].h, CURLOPT_URL, rs[i].url);
                curl_multi_add_handle(m, rs[i].h);
            }
            int running = 1;
            while (running) {
                curl_multi_perform(m, &running);
                if (running)
                    curl_multi_poll(m, NULL, 0, 1000, NULL);
            }
            CURLMsg *msg;
            int left;
            while ((msg = curl_multi_info_read(m, &left)) != NULL) {
                struct curl_req *r = NULL;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
                curl_check(r, msg->data.result, &warm_err);
                curl_multi_remove_handle(m, msg->easy_handle);
            }
        }
        t0 = now_s();
        c0 = cpu_s();
        k0 = csw();
        for (long i = 0; i < o->inflight && submitted < o->n; i++, submitted++) {
            sign_url(o->url, rs[i].url, sizeof rs[i].url);
            curl_easy_setopt(rs[i].h, CURLOPT_URL, rs[i].url);
            rs[i].t0 = now_s();
            curl_multi_add_handle(m, rs[i].h);
        }
        while (done < o->n) {
            int running = 0;
            curl_multi_perform(m, &running);
            CURLMsg *msg;
            int left;
            while ((msg = curl_multi_info_read(m, &left)) != NULL) {
                if (msg->msg != CURLMSG_DONE)
                    continue;
                struct curl_req *r = NULL;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
                lat[n_lat++] = (now_s() - r->t0) * 1e6;
                curl_check(r, msg->data.result, &errors);
                done++;
                curl_multi_remove_handle(m, r->h);
                if (submitted < o->n) {
                    submitted++;
                    sign_url(o->url, r->url, sizeof r->url);
                    curl_easy_setopt(r->h, CURLOPT_URL, r->url);
                    r->t0 = now_s();
                    curl_multi_add_handle(m, r->h);
                }
            }
            if (done < o->n)
                curl_multi_poll(m, NULL, 0, 1000, NULL);
        }
        t1 = now_s();
        c1 = cpu_s();
        k1 = csw();
        for (long i = 0; i < o->inflight; i++) {
            curl_easy_cleanup(rs[i].h);
            free(rs[i].body.p);
        }
        free(rs);
        curl_multi_cleanup(m);
    }
    curl_slist_free_all(hdrs);
    if (warm_err)
        fprintf(stderr, "curl: %ld warm-up errors\n", warm_err);
    print_rest(o->inflight > 1 ? "rest_conc" : "rest_seq", client, o->inflight, o->n, errors + warm_err, t1 - t0,
               c1 - c0, k1 - k0, lat, n_lat);
    free(lat);
    return errors + warm_err ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Plugins driven directly through the core's services                       */
/* ------------------------------------------------------------------------ */

/* One exchange instance built the way the gateway builds it: config loaded
 * and bound, plugin dlopen'ed through the loader, instance context, create. */
struct inst {
    struct xgw__plugin *pl;
    const struct xgw_plugin *p;
    struct xgw_inst_ctx *ctx;
    void *self;
};

struct insts {
    char *cfg_path;
    struct xgw__config *cfg;
    struct inst bn, bx, hl;
};

static void inst_open(struct insts *is, const char *name, struct inst *out)
{
    struct xgw_error err;
    memset(&err, 0, sizeof err);
    struct xgw__inst_cfg *ic = NULL;
    for (size_t i = 0; i < is->cfg->n_insts; i++)
        if (!strcmp(is->cfg->insts[i].name, name))
            ic = &is->cfg->insts[i];
    if (!ic)
        die("no instance %s in the generated config", name);
    if (xgw__plugin_load(is->cfg->plugin_dir, ic->plugin, &out->pl, &err) != 0)
        die("%s", err.message);
    out->p = out->pl->desc;
    if (xgw__config_bind_plugin(is->cfg, ic, out->p, &err) != 0)
        die("%s", err.message);
    out->ctx = xgw__inst_ctx_new(ic);
    if (!out->ctx)
        die("out of memory");
    out->self = out->p->create(xgw__core_api(), out->ctx, &err);
    if (!out->self)
        die("%s: %s", name, err.message);
}

static void inst_close(struct inst *in)
{
    if (in->self)
        in->p->destroy(in->self);
    xgw__inst_ctx_free(in->ctx);
    xgw__plugin_unload(in->pl);
}

static void insts_open(struct insts *is, const struct opts *o)
{
    memset(is, 0, sizeof *is);
    char *sec = NULL;
    if (asprintf(&sec,
                 "[exchange.bn]\nplugin = binance\nnetwork = testnet\napi_key = %s\napi_secret = %s\n\n"
                 "[exchange.bx]\nplugin = bitunix\napi_key = test-api-key\napi_secret = test-secret\n\n"
                 "[exchange.hl]\nplugin = hyperliquid\nprivate_key = %s\n",
                 BN_KEY, BN_SECRET, HL_KEY) < 0)
        die("out of memory");
    is->cfg_path = write_config(o->plugin_dir, sec);
    free(sec);
    struct xgw_error err;
    memset(&err, 0, sizeof err);
    struct xgw__config *cfg = NULL;
    if (xgw__config_load(is->cfg_path, o->plugin_dir, &cfg, &err) != 0)
        die("config: %s", err.message);
    is->cfg = cfg;
    inst_open(is, "bn", &is->bn);
    inst_open(is, "bx", &is->bx);
    /* Hyperliquid orders name the asset by index: the market cache the core
     * fills from /info meta. BTC is asset 0 with szDecimals 5. */
    inst_open(is, "hl", &is->hl);
    struct xgw_market m;
    memset(&m, 0, sizeof m);
    snprintf(m.symbol, sizeof m.symbol, "BTC");
    m.qty_decimals = 5;
    m.price_decimals = 1;
    m.index = 0;
    m.tick_size = (xgw_dec){1, 1};
    m.step_size = (xgw_dec){1, 5};
    m.min_qty = m.step_size;
    m.min_notional = xgw_dec_none();
    m.market_step_size = xgw_dec_none();
    m.status = XGW_MKT_TRADING;
    if (xgw__inst_ctx_set_markets(is->hl.ctx, &m, 1, wall_ms()) != 0)
        die("out of memory");
}

static void insts_close(struct insts *is)
{
    inst_close(&is->bn);
    inst_close(&is->bx);
    inst_close(&is->hl);
    xgw__config_free(is->cfg);
    unlink(is->cfg_path);
    free(is->cfg_path);
}

static void req_reset(struct xgw_request *r)
{
    r->target.len = r->body.len = r->headers.len = 0;
}

static void req_free(struct xgw_request *r)
{
    free(r->target.data);
    free(r->body.data);
    free(r->headers.data);
}

static void print_rate(const char *bench, const char *what, long n, long errors, double secs, double cpu)
{
    printf("{\"bench\":\"%s\",\"client\":\"%s\",\"n\":%ld,\"errors\":%ld,\"secs\":%.6f,\"rate\":%.1f,"
           "\"cpu_us\":%.3f}\n",
           bench, what, n, errors, secs, secs > 0 ? (double)n / secs : 0, n ? cpu * 1e6 / (double)n : 0);
}

static long sign_loop(struct inst *in, enum xgw_op op, const struct xgw_call *call, long n, const char *what)
{
    struct xgw_request req;
    memset(&req, 0, sizeof req);
    struct xgw_error err;
    long errors = 0;
    double t0 = now_s(), c0 = cpu_s();
    for (long i = 0; i < n; i++) {
        req_reset(&req);
        if (in->p->build(in->self, op, call, &req, &err) != XGW_OK) {
            if (errors++ == 0)
                fprintf(stderr, "%s: %s\n", what, err.message);
        }
    }
    double t1 = now_s(), c1 = cpu_s();
    /* Every path must really sign: look for the signature in what was built. */
    const char *sig = op == XGW_OP_PLACE ? "\"signature\":{\"r\":\"0x" : NULL;
    if (!errors) {
        bool ok = sig ? req.body.data && strstr(req.body.data, sig)
                      : (req.target.data && strstr(req.target.data, "signature=")) ||
                            (req.headers.data && strstr(req.headers.data, "sign:"));
        if (!ok) {
            errors++;
            fprintf(stderr, "%s: no signature in the built request\n", what);
        }
    }
    print_rate("sign", what, n, errors, t1 - t0, c1 - c0);
    req_free(&req);
    return errors;
}

static int run_sign(const struct opts *o)
{
    struct insts is;
    insts_open(&is, o);
    long errors = 0;
    static const struct xgw_call none;

    /* Reference: bare OpenSSL HMAC over a query of the same length. */
    {
        char q[96];
        unsigned char mac[32];
        unsigned int mlen = 0;
        int ql = snprintf(q, sizeof q, "recvWindow=5000&timestamp=%lld", (long long)wall_ms());
        double t0 = now_s(), c0 = cpu_s();
        for (long i = 0; i < o->n; i++) {
            q[ql - 1] = (char)('0' + i % 10); /* vary the input so nothing is hoisted */
            HMAC(EVP_sha256(), BN_SECRET, (int)strlen(BN_SECRET), (const unsigned char *)q, (size_t)ql, mac,
                 &mlen);
        }
        double t1 = now_s(), c1 = cpu_s();
        print_rate("sign", "openssl_hmac", o->n, mlen == 32 ? 0 : 1, t1 - t0, c1 - c0);
    }
    errors += sign_loop(&is.bn, XGW_OP_BALANCES, &none, o->n, "binance_hmac");
    errors += sign_loop(&is.bx, XGW_OP_BALANCES, &none, o->n, "bitunix_sha256x2");
    struct xgw_call place;
    memset(&place, 0, sizeof place);
    snprintf(place.order.symbol, sizeof place.order.symbol, "BTC");
    place.order.side = XGW_SIDE_BUY;
    place.order.type = XGW_TYPE_LIMIT;
    xgw_dec_parse_cstr("0.001", &place.order.qty);
    xgw_dec_parse_cstr("60000", &place.order.price);
    /* secp256k1 signing is ~1000x dearer than an HMAC: fewer rounds. */
    long nh = o->n / 20 > 0 ? o->n / 20 : 1;
    errors += sign_loop(&is.hl, XGW_OP_PLACE, &place, nh, "hyperliquid_eip712");
    insts_close(&is);
    return errors ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Ingest (offline)                                                          */
/* ------------------------------------------------------------------------ */

#define DIFF_LEVELS 10 /* per side: 20 levels a frame */
#define SNAP_LEVELS 200

struct frames {
    char **f;
    size_t *len;
    size_t n;
};

static void frames_free(struct frames *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->f[i]);
    free(fs->f);
    free(fs->len);
}

/* Deterministic pseudo-random numbers (xorshift), so runs are comparable. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Binance depthUpdate frames on the combined stream, chained (U = prev u + 1,
 * pu = prev u) after a snapshot whose lastUpdateId is 1000. Bids sit at or
 * below 65000.0, asks at or above 65000.1 on a 0.1 grid, so the book never
 * crosses; one level in ten is removed (qty 0). */
static void gen_depth(struct frames *fs, size_t n)
{
    fs->f = calloc(n, sizeof *fs->f);
    fs->len = calloc(n, sizeof *fs->len);
    if (!fs->f || !fs->len)
        die("out of memory");
    fs->n = n;
    int64_t u = 1000;
    char buf[4096];
    for (size_t i = 0; i < n; i++) {
        int64_t first = u + 1, last = u + 1 + (int64_t)(rng() % 5);
        int64_t ts = 1700000000000 + (int64_t)i * 100;
        int len = snprintf(buf, sizeof buf,
                           "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":%lld,"
                           "\"T\":%lld,\"s\":\"BTCUSDT\",\"U\":%lld,\"u\":%lld,\"pu\":%lld,\"b\":[",
                           (long long)ts, (long long)ts, (long long)first, (long long)last, (long long)u);
        for (int side = 0; side < 2; side++) {
            for (int k = 0; k < DIFF_LEVELS; k++) {
                int64_t off = (int64_t)(rng() % 60);
                int64_t px10 = side == 0 ? 650000 - off : 650001 + off;
                int64_t q = rng() % 10 == 0 ? 0 : 1 + (int64_t)(rng() % 50000);
                len += snprintf(buf + len, sizeof buf - (size_t)len, "%s[\"%lld.%lld\",\"%lld.%03lld\"]",
                                k ? "," : "", (long long)(px10 / 10), (long long)(px10 % 10), (long long)(q / 1000),
                                (long long)(q % 1000));
            }
            len += snprintf(buf + len, sizeof buf - (size_t)len, side == 0 ? "],\"a\":[" : "]}}");
        }
        fs->f[i] = strndup(buf, (size_t)len);
        fs->len[i] = (size_t)len;
        u = last;
    }
}

static void gen_ticker(struct frames *fs, size_t n)
{
    fs->f = calloc(n, sizeof *fs->f);
    fs->len = calloc(n, sizeof *fs->len);
    if (!fs->f || !fs->len)
        die("out of memory");
    fs->n = n;
    char buf[512];
    for (size_t i = 0; i < n; i++) {
        int64_t ts = 1700000000000 + (int64_t)i;
        int64_t bid10 = 650000 - (int64_t)(rng() % 20);
        int len = snprintf(buf, sizeof buf,
                           "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"e\":\"bookTicker\",\"u\":%zu,"
                           "\"s\":\"BTCUSDT\",\"b\":\"%lld.%lld\",\"B\":\"%llu.%03llu\",\"a\":\"%lld.%lld\","
                           "\"A\":\"%llu.%03llu\",\"T\":%lld,\"E\":%lld}}",
                           i + 1, (long long)(bid10 / 10), (long long)(bid10 % 10),
                           (unsigned long long)(rng() % 20), (unsigned long long)(rng() % 1000),
                           (long long)((bid10 + 1) / 10), (long long)((bid10 + 1) % 10),
                           (unsigned long long)(rng() % 20), (unsigned long long)(rng() % 1000), (long long)ts,
                           (long long)ts);
        fs->f[i] = strndup(buf, (size_t)len);
        fs->len[i] = (size_t)len;
    }
}

/* The snapshot the diffs follow: 200 levels a side around the same grid. */
static struct xgw__book *book_with_snapshot(void)
{
    struct xgw__book *b = xgw__book_new(XGW_BOOK_DIFFS, 1000);
    if (!b)
        die("out of memory");
    static struct xgw_level bids[SNAP_LEVELS], asks[SNAP_LEVELS];
    for (int i = 0; i < SNAP_LEVELS; i++) {
        bids[i].price = (xgw_dec){650000 - i, 1};
        asks[i].price = (xgw_dec){650001 + i, 1};
        bids[i].qty = asks[i].qty = (xgw_dec){1000 + i, 3};
    }
    struct xgw_book_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.symbol, sizeof info.symbol, "BTCUSDT");
    info.snapshot = true;
    info.seq = 1000;
    info.prev_seq = -1;
    if (xgw__book_apply(b, &info, bids, SNAP_LEVELS, asks, SNAP_LEVELS) != XGW__BOOK_APPLIED)
        die("the benchmark's snapshot was refused");
    return b;
}

enum ingest_kind { ING_CJSON, ING_PLUGIN, ING_BOOK };

/* Parse every frame of fs, `passes` times over. For ING_BOOK the diffs'
 * sequence numbers are shifted by the chain's span after each pass, so the
 * book sees one unbroken chain (the shift is three additions a frame). */
static long ingest_pass(struct inst *bn, const struct frames *fs, long total, enum ingest_kind kind,
                        bool is_depth, const char *what)
{
    struct xgw_sink *sink = xgw__sink_new();
    struct xgw__book *book = kind == ING_BOOK ? book_with_snapshot() : NULL;
    struct xgw_error err;
    long errors = 0, applied = 0;
    int64_t shift = 0, span = 0;
    if (!sink)
        die("out of memory");
    if (is_depth && kind == ING_BOOK) {
        /* span of one pass: last u - 1000 */
        xgw__sink_reset(sink);
        if (bn->p->ws_parse(bn->self, fs->f[fs->n - 1], fs->len[fs->n - 1], sink, &err) != 0 || sink->n_books != 1)
            die("cannot parse the benchmark's own frame");
        span = sink->books[0].info.seq - 1000;
    }
    double t0 = now_s(), c0 = cpu_s();
    for (long i = 0; i < total; i++) {
        size_t k = (size_t)i % fs->n;
        if (k == 0 && i > 0)
            shift += span;
        if (kind == ING_CJSON) {
            cJSON *root = cJSON_ParseWithLength(fs->f[k], fs->len[k]);
            if (!root)
                errors++;
            cJSON_Delete(root);
            continue;
        }
        xgw__sink_reset(sink);
        if (bn->p->ws_parse(bn->self, fs->f[k], fs->len[k], sink, &err) != XGW_OK) {
            if (errors++ == 0)
                fprintf(stderr, "%s: %s\n", what, err.message);
            continue;
        }
        if (is_depth ? sink->n_books != 1 : sink->n_tickers != 1) {
            errors++;
            continue;
        }
        if (kind == ING_BOOK && is_depth) {
            struct xgw__sink_book *sb = &sink->books[0];
            sb->info.seq += shift;
            sb->info.first_seq += shift;
            sb->info.prev_seq += shift;
            enum xgw__book_result r = xgw__book_apply(book, &sb->info, sink->bids + sb->bid0, sb->n_bids,
                                                      sink->asks + sb->ask0, sb->n_asks);
            if (r == XGW__BOOK_APPLIED)
                applied++;
            else if (errors++ == 0)
                fprintf(stderr, "%s: book refused frame %ld: %s (%s)\n", what, i, xgw__book_result_name(r),
                        xgw__book_reason_name(xgw__book_reason(book)));
        } else if (kind == ING_BOOK) {
            /* a ticker updates the top of book the way the stream manager's
             * ticker path does: copy out the record */
            static struct xgw_ticker last;
            last = sink->tickers[0];
            applied += !xgw_dec_is_none(last.bid);
        }
    }
    double t1 = now_s(), c1 = cpu_s();
    if (kind == ING_BOOK && applied != total - errors)
        errors++;
    print_rate("ingest", what, total, errors, t1 - t0, c1 - c0);
    xgw__book_free(book);
    xgw__sink_free(sink);
    return errors;
}

static int run_ingest(const struct opts *o)
{
    struct insts is;
    insts_open(&is, o);
    struct frames depth, ticker;
    size_t nf = o->n < 5000 ? (size_t)o->n : 5000;
    gen_depth(&depth, nf);
    gen_ticker(&ticker, nf);
    long errors = 0;
    errors += ingest_pass(&is.bn, &depth, o->n, ING_CJSON, true, "depth_cjson");
    errors += ingest_pass(&is.bn, &depth, o->n, ING_PLUGIN, true, "depth_plugin");
    errors += ingest_pass(&is.bn, &depth, o->n, ING_BOOK, true, "depth_book");
    errors += ingest_pass(&is.bn, &ticker, o->n, ING_CJSON, false, "ticker_cjson");
    errors += ingest_pass(&is.bn, &ticker, o->n, ING_PLUGIN, false, "ticker_plugin");
    frames_free(&depth);
    frames_free(&ticker);
    insts_close(&is);
    return errors ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Live ingest and footprint (streams through the public API)                */
/* ------------------------------------------------------------------------ */

struct counter {
    _Atomic uint64_t events, tickers, books, gaps;
};

static void on_event(void *user, const struct xgw_event *ev)
{
    struct counter *c = user;
    atomic_fetch_add(&c->events, 1);
    if (ev->type == XGW_EV_TICKER)
        atomic_fetch_add(&c->tickers, 1);
    else if (ev->type == XGW_EV_BOOK)
        atomic_fetch_add(&c->books, 1);
    else if (ev->type == XGW_EV_GAP)
        atomic_fetch_add(&c->gaps, 1);
}

static struct xgw_sub *subscribe(struct xgw_exchange *ex, enum xgw_channel ch, const char *sym,
                                 struct counter *c)
{
    struct xgw_error err;
    struct xgw_sub *sub = NULL;
    const char *syms[] = {sym};
    if (xgw_subscribe(ex, ch, syms, 1, 5, on_event, c, &sub, &err) != 0)
        die("subscribe %s: %s", sym, err.message);
    return sub;
}

static bool wait_events(struct counter *c, uint64_t n, double timeout_s)
{
    double end = now_s() + timeout_s;
    while (atomic_load(&c->events) < n && now_s() < end)
        usleep(1000);
    return atomic_load(&c->events) >= n;
}

static int run_live(const struct opts *o)
{
    need_mock(o);
    char *sec = bn_section(o, 1);
    struct xgw_gateway *gw = open_sections(o, sec);
    struct counter c = {0};
    struct xgw_sub *sub = subscribe(xgw_exchange_find(gw, "bn"), XGW_CH_TICKER, "BTCUSDT", &c);
    long errors = 0;
    if (!wait_events(&c, 100, 15)) {
        fprintf(stderr, "live: fewer than 100 events in 15 s (is the mock running with --ws-flood?)\n");
        errors++;
    }
    uint64_t e0 = atomic_load(&c.events);
    double t0 = now_s(), c0 = cpu_s();
    while (now_s() - t0 < o->seconds)
        usleep(10000);
    uint64_t e1 = atomic_load(&c.events);
    double t1 = now_s(), c1 = cpu_s();
    struct xgw_sub_stats st;
    xgw_sub_stats(sub, &st);
    xgw_unsubscribe(sub);
    xgw_close(gw);
    uint64_t n = e1 - e0;
    if (n == 0)
        errors++;
    printf("{\"bench\":\"live\",\"client\":\"xgw_ticker\",\"n\":%" PRIu64 ",\"errors\":%ld,\"secs\":%.6f,"
           "\"rate\":%.1f,\"cpu_us\":%.3f,\"dropped\":%" PRIu64 ",\"gaps\":%" PRIu64 "}\n",
           n, errors, t1 - t0, (double)n / (t1 - t0), n ? (c1 - c0) * 1e6 / (double)n : 0, st.dropped, st.gaps);
    return errors ? 1 : 0;
}

/* ---- WS recovery: drop -> first event after resubscription ---- */

struct recov {
    pthread_mutex_t mu;
    double t_drop;    /* when the drop was injected, 0 = not in a trial */
    bool down_seen;   /* a non-LIVE state (or a gap) followed the drop */
    double t_first;   /* first ticker after that, 0 = not yet */
    uint64_t events;
};

static void on_recov_event(void *user, const struct xgw_event *ev)
{
    struct recov *r = user;
    double t = now_s();
    pthread_mutex_lock(&r->mu);
    r->events++;
    if (r->t_drop > 0) {
        if ((ev->type == XGW_EV_STATE && ev->state != XGW_SUB_LIVE) || ev->type == XGW_EV_GAP)
            r->down_seen = true;
        else if (ev->type == XGW_EV_TICKER && r->down_seen && r->t_first == 0)
            r->t_first = t;
    }
    pthread_mutex_unlock(&r->mu);
}

/* POST one fault to the mock's control API (never subject to faults). */
static int mock_fault(const struct opts *o, const char *json)
{
    CURL *h = curl_easy_init();
    struct body b = {0};
    char url[512];
    snprintf(url, sizeof url, "%s/_mock/faults", o->url);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, o->ca);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hd);
    free(b.p);
    return rc == CURLE_OK && status == 200 ? 0 : -1;
}

/* n trials: the mock closes the ticker stream's connection (ws_close); the
 * time until the first ticker after the resubscription. Against the
 * flooding mock, so a frame is there as soon as the stream is back. */
static int run_recovery(const struct opts *o)
{
    need_mock(o);
    char *sec = bn_section(o, 1);
    struct xgw_gateway *gw = open_sections(o, sec);
    struct recov r = {0};
    pthread_mutex_init(&r.mu, NULL);
    struct xgw_error err;
    struct xgw_sub *sub = NULL;
    const char *syms[] = {"BTCUSDT"};
    if (xgw_subscribe(xgw_exchange_find(gw, "bn"), XGW_CH_TICKER, syms, 1, 0, on_recov_event, &r, &sub, &err) != 0)
        die("subscribe: %s", err.message);
    long errors = 0;
    double *ms = calloc((size_t)o->n, sizeof *ms);
    if (!ms)
        die("out of memory");
    size_t n_ok = 0;
    for (long i = 0; i < o->n; i++) {
        /* live and delivering before each drop */
        double until = now_s() + 15;
        uint64_t e0;
        pthread_mutex_lock(&r.mu);
        e0 = r.events;
        pthread_mutex_unlock(&r.mu);
        for (;;) {
            pthread_mutex_lock(&r.mu);
            bool flowing = r.events > e0 + 10;
            pthread_mutex_unlock(&r.mu);
            if (flowing || now_s() > until)
                break;
            usleep(1000);
        }
        pthread_mutex_lock(&r.mu);
        r.down_seen = false;
        r.t_first = 0;
        r.t_drop = now_s();
        pthread_mutex_unlock(&r.mu);
        if (mock_fault(o, "{\"kind\":\"ws_close\",\"exchange\":\"binance\",\"count\":1,"
                          "\"params\":{\"code\":1001,\"msg\":\"bench drop\"}}") != 0)
            die("the mock refused the ws_close fault (is --url the mock exchange?)");
        until = now_s() + 15;
        double t_first = 0;
        while (now_s() < until) {
            pthread_mutex_lock(&r.mu);
            t_first = r.t_first;
            pthread_mutex_unlock(&r.mu);
            if (t_first > 0)
                break;
            usleep(500);
        }
        pthread_mutex_lock(&r.mu);
        double t_drop = r.t_drop;
        r.t_drop = 0;
        pthread_mutex_unlock(&r.mu);
        if (t_first > 0)
            ms[n_ok++] = (t_first - t_drop) * 1e3;
        else if (errors++ == 0)
            fprintf(stderr, "recovery: no event within 15 s after drop %ld\n", i);
    }
    struct xgw_sub_stats st;
    xgw_sub_stats(sub, &st);
    xgw_unsubscribe(sub);
    xgw_close(gw);
    pthread_mutex_destroy(&r.mu);
    qsort(ms, n_ok, sizeof *ms, cmp_double);
    printf("{\"bench\":\"recovery\",\"client\":\"ws_drop\",\"n\":%ld,\"errors\":%ld,\"p50_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"reconnects\":%" PRIu64 ",\"backoff_initial_ms\":250}\n",
           o->n, errors, pct(ms, n_ok, 50), pct(ms, n_ok, 99), st.reconnects);
    free(ms);
    return errors ? 1 : 0;
}

/* ---- REST failover: endpoint death -> first read answered by the next ---- */

struct child_mock {
    pid_t pid;
    FILE *out; /* its stdout, kept open so that it never writes into a closed pipe */
    char url[64];
    char cert[512];
};

/* Start a mock exchange (bench mode) and read its address and certificate. */
static void child_mock_start(const char *mockex, struct child_mock *m)
{
    int p[2];
    if (pipe(p) != 0)
        die("pipe: %s", strerror(errno));
    m->pid = fork();
    if (m->pid < 0)
        die("fork: %s", strerror(errno));
    if (m->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        execl(mockex, mockex, "--port", "0", "--seed", "7", "--bench", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    m->out = fdopen(p[0], "r");
    char line[2048];
    if (!m->out || !fgets(line, sizeof line, m->out))
        die("%s did not start", mockex);
    cJSON *j = cJSON_Parse(line);
    const cJSON *ports = cJSON_GetObjectItemCaseSensitive(j, "ports");
    const cJSON *port = cJSON_GetArrayItem(ports, 0);
    const cJSON *cert = cJSON_GetObjectItemCaseSensitive(j, "cert");
    if (!cJSON_IsNumber(port) || !cJSON_IsString(cert))
        die("%s printed no port and certificate: %s", mockex, line);
    snprintf(m->url, sizeof m->url, "https://127.0.0.1:%d", port->valueint);
    snprintf(m->cert, sizeof m->cert, "%s", cert->valuestring);
    cJSON_Delete(j);
}

/* Kill it as a crash would (SIGKILL), then remove what it left behind. */
static void child_mock_kill(struct child_mock *m)
{
    kill(m->pid, SIGKILL);
    waitpid(m->pid, NULL, 0);
    fclose(m->out);
    char path[600];
    snprintf(path, sizeof path, "%s", m->cert);
    unlink(path);
    char *slash = strrchr(path, '/');
    if (slash) {
        snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "key.pem");
        unlink(path);
        *slash = '\0';
        rmdir(path);
    }
}

/* Both mocks' certificates in one CA file (ca_file is per instance). */
static char *ca_bundle(const char *a, const char *b)
{
    char *path = strdup("/tmp/xgw-bench-ca-XXXXXX.pem");
    int fd = path ? mkstemps(path, 4) : -1;
    if (fd < 0)
        die("cannot create a temp CA bundle");
    FILE *out = fdopen(fd, "w");
    const char *files[] = {a, b};
    for (int i = 0; i < 2 && out; i++) {
        FILE *in = fopen(files[i], "r");
        if (!in)
            die("cannot read %s", files[i]);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
        fclose(in);
    }
    if (!out || fclose(out) != 0)
        die("cannot write %s", path);
    return path;
}

/* n trials, each with a fresh first endpoint (a mock of its own) and a fresh
 * gateway: reads until the first endpoint answers, SIGKILL it, then reads
 * back to back; the time from the kill to the first successful read answered
 * by the second endpoint. The gap contains the failed attempt on the dead
 * endpoint and the retry back-off (retry_backoff_ms = 100, full jitter);
 * health checks are off so that only the request path reacts. */
static int run_failover(const struct opts *o)
{
    need_mock(o);
    if (!o->mockex)
        die("failover needs --mockex (the xgw-mockex binary to start and kill)");
    double *ms = calloc((size_t)o->n, sizeof *ms);
    if (!ms)
        die("out of memory");
    long errors = 0, failed_reads = 0;
    size_t n_ok = 0;
    static const struct xgw_call call;
    for (long i = 0; i < o->n; i++) {
        struct child_mock a;
        child_mock_start(o->mockex, &a);
        char *ca = ca_bundle(a.cert, o->ca);
        char *sec = NULL;
        if (asprintf(&sec,
                     "[exchange.bn]\nplugin = binance\nnetwork = testnet\nrest_endpoints = %s, %s\n"
                     "ca_file = %s\napi_key = %s\napi_secret = %s\npool_min = 1\nhealth_checks = false\n"
                     "rate_limits = request_weight_1m=1000000000\nretry_max = 3\nretry_backoff_ms = 100\n\n",
                     a.url, o->url, ca, BN_KEY, BN_SECRET) < 0)
            die("out of memory");
        struct xgw_gateway *gw = open_sections(o, sec);
        struct xgw_exchange *ex = xgw_exchange_find(gw, "bn");
        struct xgw_error err;
        struct xgw_result *res = NULL;
        bool on_a = false;
        for (int k = 0; k < 50 && !on_a; k++) {
            if (xgw_call_sync(ex, XGW_OP_BALANCES, &call, &res, &err) == 0)
                on_a = res->endpoint && !strcmp(res->endpoint, a.url);
            xgw_result_free(res);
        }
        if (!on_a)
            die("trial %ld: the first endpoint never answered", i);
        double t_kill = now_s();
        child_mock_kill(&a);
        double t_ok = 0;
        while (now_s() < t_kill + 15) {
            int rc = xgw_call_sync(ex, XGW_OP_BALANCES, &call, &res, &err);
            bool on_b = rc == 0 && res->endpoint && !strcmp(res->endpoint, o->url);
            if (rc != 0)
                failed_reads++;
            xgw_result_free(res);
            if (on_b) {
                t_ok = now_s();
                break;
            }
        }
        xgw_close(gw);
        unlink(ca);
        free(ca);
        if (t_ok > 0)
            ms[n_ok++] = (t_ok - t_kill) * 1e3;
        else if (errors++ == 0)
            fprintf(stderr, "failover: no read answered by the second endpoint within 15 s (trial %ld)\n", i);
    }
    qsort(ms, n_ok, sizeof *ms, cmp_double);
    printf("{\"bench\":\"failover\",\"client\":\"rest_endpoint_death\",\"n\":%ld,\"errors\":%ld,\"p50_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"failed_reads\":%ld,\"retry_backoff_ms\":100}\n",
           o->n, errors, pct(ms, n_ok, 50), pct(ms, n_ok, 99), failed_reads);
    free(ms);
    return errors ? 1 : 0;
}

static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

/* The demo setup of config/demo.ini: three instances on the mock with their
 * default pools, one signed call each, and six streams (Binance ticker and
 * book for BTCUSDT and ETHUSDT, Bitunix ticker and book for BTCUSDT). */
static int run_footprint(const struct opts *o)
{
    need_mock(o);
    const char *host = strncmp(o->url, "https://", 8) == 0 ? o->url + 8 : o->url;
    char *sec = NULL;
    if (asprintf(&sec,
                 "[exchange.binance]\nplugin = binance\nnetwork = testnet\nrest_endpoints = %s\n"
                 "ws_endpoints = wss://%s\nca_file = %s\napi_key = %s\napi_secret = %s\n\n"
                 "[exchange.bitunix]\nplugin = bitunix\nrest_endpoints = %s\nws_endpoints = wss://%s\n"
                 "ca_file = %s\napi_key = test-api-key\napi_secret = test-secret\n\n"
                 "[exchange.hyperliquid]\nplugin = hyperliquid\nrest_endpoints = %s\nws_endpoints = wss://%s\n"
                 "ca_file = %s\nprivate_key = %s\n",
                 o->url, host, o->ca, BN_KEY, BN_SECRET, o->url, host, o->ca, o->url, host, o->ca, HL_KEY) < 0)
        die("out of memory");
    char *cfg = write_config(o->plugin_dir, sec);
    free(sec);
    double t0 = now_s();
    struct xgw_gateway *gw = open_gw(cfg, o);
    unlink(cfg);
    free(cfg);
    long errors = 0;
    static const struct xgw_call none;
    for (size_t i = 0; i < xgw_exchange_count(gw); i++) {
        struct xgw_result *res = NULL;
        struct xgw_error err;
        if (xgw_call_sync(xgw_exchange_at(gw, i), XGW_OP_BALANCES, &none, &res, &err) != 0) {
            fprintf(stderr, "footprint: balances: %s\n", err.message);
            errors++;
        }
        xgw_result_free(res);
    }
    struct counter c = {0};
    struct xgw_exchange *bn = xgw_exchange_find(gw, "binance"), *bx = xgw_exchange_find(gw, "bitunix");
    struct xgw_sub *subs[6] = {0};
    subs[0] = subscribe(bn, XGW_CH_TICKER, "BTCUSDT", &c);
    subs[1] = subscribe(bn, XGW_CH_BOOK, "BTCUSDT", &c);
    subs[2] = subscribe(bn, XGW_CH_TICKER, "ETHUSDT", &c);
    subs[3] = subscribe(bn, XGW_CH_BOOK, "ETHUSDT", &c);
    subs[4] = subscribe(bx, XGW_CH_TICKER, "BTCUSDT", &c);
    subs[5] = subscribe(bx, XGW_CH_BOOK, "BTCUSDT", &c);
    /* Every stream delivering first (a book needs its REST snapshot), then
     * the steady state for --seconds. */
    double until = now_s() + 20;
    while ((atomic_load(&c.books) == 0 || atomic_load(&c.tickers) == 0) && now_s() < until)
        usleep(20000);
    double t_live = now_s();
    while (now_s() - t_live < o->seconds)
        usleep(20000);
    uint64_t books = atomic_load(&c.books), tickers = atomic_load(&c.tickers);
    if (books == 0 || tickers == 0) {
        fprintf(stderr, "footprint: no %s events in 20 s\n", books ? "ticker" : "book");
        errors++;
    }
    long hwm = vm_hwm_kib();
    for (int i = 0; i < 6; i++)
        xgw_unsubscribe(subs[i]);
    xgw_close(gw);
    printf("{\"bench\":\"footprint\",\"client\":\"%s\",\"n\":%" PRIu64 ",\"errors\":%ld,\"secs\":%.3f,"
           "\"peak_rss_mib\":%.2f,\"books\":%" PRIu64 ",\"tickers\":%" PRIu64 "}\n",
           "xgw_demo", books + tickers, errors, now_s() - t0,
           (double)hwm / 1024.0, books, tickers);
    return errors ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* exec: start-up time of a command                                          */
/* ------------------------------------------------------------------------ */

static int run_exec(const struct opts *o)
{
    if (!o->exec_argv || !o->exec_argv[0])
        die("exec needs -- COMMAND [ARGS...]");
    double *ms = calloc((size_t)o->n, sizeof *ms);
    if (!ms)
        die("out of memory");
    long errors = 0;
    for (long i = 0; i < o->n; i++) {
        double t0 = now_s();
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            /* the command's output is not part of the measurement */
            if (!freopen("/dev/null", "w", stdout))
                _exit(127);
            execvp(o->exec_argv[0], o->exec_argv);
            _exit(127);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        ms[i] = (now_s() - t0) * 1e3;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (errors++ == 0)
                fprintf(stderr, "exec: %s exited with status %d\n", o->exec_argv[0], WEXITSTATUS(st));
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    qsort(ms, (size_t)o->n, sizeof *ms, cmp_double);
    /* Named by the program and its last argument ("xgw check"). */
    const char *base = strrchr(o->exec_argv[0], '/');
    const char *last = o->exec_argv[0];
    for (char **a = o->exec_argv; *a; a++)
        last = *a;
    printf("{\"bench\":\"exec\",\"client\":\"%s %s\",\"n\":%ld,\"errors\":%ld,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
           "\"peak_rss_mib\":%.2f}\n",
           base ? base + 1 : o->exec_argv[0], last, o->n, errors, pct(ms, (size_t)o->n, 50), pct(ms, (size_t)o->n, 99),
           (double)ru.ru_maxrss / 1024.0);
    free(ms);
    return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_opts(argc, argv, &o);
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (!strcmp(o.mode, "rest")) {
        need_mock(&o);
        if (!o.client)
            die("rest needs --client xgw|curl|fresh");
        if (!strcmp(o.client, "xgw"))
            rc = rest_xgw(&o);
        else if (!strcmp(o.client, "curl"))
            rc = rest_curl(&o, false);
        else if (!strcmp(o.client, "fresh")) {
            if (o.inflight > 1)
                die("--client fresh is sequential only");
            rc = rest_curl(&o, true);
        } else
            die("unknown client '%s'", o.client);
    } else if (!strcmp(o.mode, "sign"))
        rc = run_sign(&o);
    else if (!strcmp(o.mode, "ingest"))
        rc = run_ingest(&o);
    else if (!strcmp(o.mode, "live"))
        rc = run_live(&o);
    else if (!strcmp(o.mode, "recovery"))
        rc = run_recovery(&o);
    else if (!strcmp(o.mode, "failover"))
        rc = run_failover(&o);
    else if (!strcmp(o.mode, "footprint"))
        rc = run_footprint(&o);
    else if (!strcmp(o.mode, "exec"))
        rc = run_exec(&o);
    else
        usage();
    curl_global_cleanup();
    return rc;
}
