/* tu_mockex.c — see tu_mockex.h. */
#define _GNU_SOURCE
#include "tu_mockex.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tu_mockex_start(struct tu_mockex *mx, const char *const *args)
{
    memset(mx, 0, sizeof *mx);
    mx->pid = -1;
    const char *bin = getenv("XGW_MOCKEX");
    if (!bin || !*bin) {
        fprintf(stderr, "tu_mockex: XGW_MOCKEX is not set\n");
        return -1;
    }
    const char *argv[64];
    int n = 0, has_port = 0;
    argv[n++] = bin;
    for (int i = 0; args && args[i] && n < 60; i++) {
        if (!strcmp(args[i], "--port"))
            has_port = 1;
        argv[n++] = args[i];
    }
    if (!has_port) {
        argv[n++] = "--port";
        argv[n++] = "0";
    }
    argv[n] = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC))
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    mx->pid = pid;
    char line[2048];
    size_t len = 0;
    long long deadline = now_ms() + 10000;
    int ok = 0;
    while (len + 1 < sizeof line && now_ms() < deadline) {
        struct pollfd p = {fds[0], POLLIN, 0};
        int pr = poll(&p, 1, (int)(deadline - now_ms()));
        if (pr <= 0)
            break;
        ssize_t r = read(fds[0], line + len, 1);
        if (r <= 0)
            break;
        if (line[len] == '\n') {
            ok = 1;
            break;
        }
        len++;
    }
    line[len] = '\0';
    close(fds[0]); /* the mock writes nothing else on stdout */
    cJSON *j = ok ? cJSON_Parse(line) : NULL;
    const cJSON *ports = cJSON_GetObjectItemCaseSensitive(j, "ports");
    const cJSON *cert = cJSON_GetObjectItemCaseSensitive(j, "cert");
    const cJSON *it;
    cJSON_ArrayForEach(it, ports)
    {
        if (mx->nports < 16 && cJSON_IsNumber(it))
            mx->ports[mx->nports++] = it->valueint;
    }
    if (cJSON_IsString(cert))
        snprintf(mx->cert, sizeof mx->cert, "%s", cert->valuestring);
    cJSON_Delete(j);
    if (!mx->nports || !mx->cert[0]) {
        fprintf(stderr, "tu_mockex: bad start line from %s: '%s'\n", bin, line);
        tu_mockex_stop(mx);
        return -1;
    }
    return 0;
}

int tu_mockex_stop(struct tu_mockex *mx)
{
    if (mx->pid <= 0)
        return 0;
    int status = 0;
    kill(mx->pid, SIGTERM);
    long long deadline = now_ms() + 5000;
    for (;;) {
        pid_t r = waitpid(mx->pid, &status, WNOHANG);
        if (r == mx->pid)
            break;
        if (r < 0 && errno != EINTR) {
            mx->pid = -1;
            return -1;
        }
        if (now_ms() > deadline) {
            kill(mx->pid, SIGKILL);
            waitpid(mx->pid, &status, 0);
            mx->pid = -1;
            return -1;
        }
        usleep(10000);
    }
    mx->pid = -1;
    return status;
}

struct sink {
    char *p;
    size_t len;
};

static size_t on_data(char *d, size_t sz, size_t nm, void *u)
{
    struct sink *s = u;
    size_t n = sz * nm;
    char *p = realloc(s->p, s->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + s->len, d, n);
    s->p = p;
    s->len += n;
    s->p[s->len] = '\0';
    return n;
}

int tu_mockex_http(const struct tu_mockex *mx, int port, const char *method,
                   const char *path_query, const char *const *hdrs, const char *body,
                   long timeout_ms, struct tu_http *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    char url[4096];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path_query);
    struct sink b = {0}, h = {0};
    struct curl_slist *sl = NULL;
    for (int i = 0; hdrs && hdrs[i]; i++)
        sl = curl_slist_append(sl, hdrs[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, mx->cert);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    out->curl_rc = (int)curl_easy_perform(c);
    if (out->curl_rc == 0)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = b.p ? b.p : calloc(1, 1);
    out->body_len = b.len;
    out->headers = h.p ? h.p : calloc(1, 1);
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
    return 0;
}

void tu_http_free(struct tu_http *r)
{
    free(r->body);
    free(r->headers);
    r->body = r->headers = NULL;
}

int tu_mockex_fault(const struct tu_mockex *mx, const char *json)
{
    struct tu_http r;
    const char *h[] = {"Content-Type: application/json", NULL};
    tu_mockex_http(mx, mx->ports[0], "POST", "/_mock/faults", h, json, 5000, &r);
    int ok = r.curl_rc == 0 && r.status == 200;
    if (!ok)
        fprintf(stderr, "tu_mockex: fault refused (%ld): %s\n", r.status, r.body);
    tu_http_free(&r);
    return ok ? 0 : -1;
}

void *tu_mockex_state(const struct tu_mockex *mx)
{
    struct tu_http r;
    tu_mockex_http(mx, mx->ports[0], "GET", "/_mock/state", NULL, NULL, 5000, &r);
    cJSON *j = r.curl_rc == 0 && r.status == 200 ? cJSON_Parse(r.body) : NULL;
    tu_http_free(&r);
    return j;
}

long long tu_mockex_state_num(const struct tu_mockex *mx, const char *k1, const char *k2,
                              const char *k3)
{
    cJSON *j = tu_mockex_state(mx);
    if (!j)
        return -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k1);
    if (k2)
        v = cJSON_GetObjectItemCaseSensitive(v, k2);
    if (k3)
        v = cJSON_GetObjectItemCaseSensitive(v, k3);
    long long n = cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
    cJSON_Delete(j);
    return n;
}

int tu_mockex_reset(const struct tu_mockex *mx)
{
    struct tu_http r;
    tu_mockex_http(mx, mx->ports[0], "POST", "/_mock/reset", NULL, "", 5000, &r);
    int ok = r.curl_rc == 0 && r.status == 200;
    tu_http_free(&r);
    return ok ? 0 : -1;
}
