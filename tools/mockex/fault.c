/*
 * fault.c — what to break, where, and how often.
 *
 * A fault matches an event by kind, exchange, port and path prefix. With a
 * count it fires for exactly that many matching events; with a ratio it
 * fires for that share of them, decided by a PRNG seeded from --seed and
 * the fault id, so a run is reproducible. Each hit is counted and shown in
 * GET /_mock/state.
 */
#include "mx_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MX_MAX_FAULTS 128

struct mx_faults {
    uint64_t seed;
    int next_id;
    int n;
    struct mx_fault f[MX_MAX_FAULTS];
};

static const char *const fk_names[MX_FK__COUNT] = {
    "http_status", "latency", "reset_before", "reset_after", "truncate", "malformed", "oversize",
    "stall",       "refuse",  "clock_offset", "ws_close",    "ws_stall", "ws_gap"};

const char *mx__fk_name(enum mx_fk k) { return k < MX_FK__COUNT ? fk_names[k] : "?"; }

struct mx_faults *mx__faults_new(uint64_t seed)
{
    struct mx_faults *f = calloc(1, sizeof *f);
    if (f) {
        f->seed = seed;
        f->next_id = 1;
    }
    return f;
}

void mx__faults_free(struct mx_faults *f) { free(f); }

void mx__faults_clear(struct mx_faults *f) { f->n = 0; }

/* A number member as an integer. JSON numbers are doubles: one outside what
 * int64_t holds (1e40, -1e36) is clamped rather than converted (that is
 * undefined behaviour; found by fuzz_mockex), so the range checks below
 * refuse it; NaN cannot come from JSON but is treated as absent. */
static int64_t num(const cJSON *o, const char *k, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || isnan(v->valuedouble))
        return dflt;
    const double lim = 9.0e15; /* inside int64_t and exact in a double */
    double d = v->valuedouble;
    return d > lim ? (int64_t)lim : d < -lim ? -(int64_t)lim : (int64_t)d;
}

int mx__faults_add_json(struct mx_faults *f, const char *json, size_t len, char *err, size_t ecap)
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    int rc = -1;
    if (!cJSON_IsObject(o)) {
        snprintf(err, ecap, "fault: expected a JSON object");
        goto out;
    }
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    int k = -1;
    if (cJSON_IsString(kind))
        for (int i = 0; i < MX_FK__COUNT; i++)
            if (!strcmp(kind->valuestring, fk_names[i]))
                k = i;
    if (k < 0) {
        snprintf(err, ecap, "fault: unknown or missing \"kind\"");
        goto out;
    }
    if (f->n >= MX_MAX_FAULTS) {
        snprintf(err, ecap, "fault: table full (%d); POST /_mock/reset first", MX_MAX_FAULTS);
        goto out;
    }
    struct mx_fault *x = &f->f[f->n];
    memset(x, 0, sizeof *x);
    x->kind = (enum mx_fk)k;
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "exchange");
    if (cJSON_IsString(ex) && strcmp(ex->valuestring, "any") != 0)
        snprintf(x->exchange, sizeof x->exchange, "%s", ex->valuestring);
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
    if (cJSON_IsString(path))
        snprintf(x->path, sizeof x->path, "%s", path->valuestring);
    x->port = (int)num(o, "port", 0);
    const cJSON *ratio = cJSON_GetObjectItemCaseSensitive(o, "ratio");
    x->ratio = cJSON_IsNumber(ratio) ? ratio->valuedouble : 0;
    if (x->ratio < 0 || x->ratio > 1) {
        snprintf(err, ecap, "fault: ratio must be within 0..1");
        goto out;
    }
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(o, "count");
    x->remaining = cJSON_IsNumber(count) ? num(o, "count", 1) : (x->ratio > 0 ? -1 : 1);
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(o, "params");
    if (!pr)
        pr = o; /* params may also sit at the top level */
    x->status = (int)num(pr, "status", 503);
    x->code = (int)num(pr, "code", 0);
    x->ms = num(pr, "ms", 0);
    x->bytes = num(pr, "bytes", 16 << 20);
    x->retry_after = num(pr, "retry_after", 0);
    x->process = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pr, "process"));
    x->close = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pr, "close"));
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(pr, "msg");
    if (cJSON_IsString(msg))
        snprintf(x->msg, sizeof x->msg, "%s", msg->valuestring);
    if (x->status < 100 || x->status > 599 || x->bytes < 0 || x->bytes > (1LL << 31)) {
        snprintf(err, ecap, "fault: status must be 100..599 and bytes 0..2^31");
        goto out;
    }
    x->id = f->next_id++;
    x->rng = f->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)x->id);
    f->n++;
    rc = x->id;
out:
    cJSON_Delete(o);
    return rc;
}

static int matches(const struct mx_fault *x, const char *exchange, int port, const char *path)
{
    if (x->exchange[0] && (!exchange || strcmp(x->exchange, exchange) != 0))
        return 0;
    if (x->port && x->port != port)
        return 0;
    if (x->path[0] && (!path || strncmp(path, x->path, strlen(x->path)) != 0))
        return 0;
    return 1;
}

struct mx_fault *mx__fault_take(struct mx_faults *f, enum mx_fk kind, const char *exchange,
                                int port, const char *path)
{
    for (int i = 0; i < f->n; i++) {
        struct mx_fault *x = &f->f[i];
        if (x->kind != kind || x->remaining == 0 || !matches(x, exchange, port, path))
            continue;
        if (x->ratio > 0) {
            /* 53 random bits -> [0,1) */
            double r = (double)(mx_rng_next(&x->rng) >> 11) / 9007199254740992.0;
            if (r >= x->ratio)
                continue;
        }
        if (x->remaining > 0)
            x->remaining--;
        x->hits++;
        return x;
    }
    return NULL;
}

int64_t mx__faults_clock(struct mx_faults *f, const char *exchange)
{
    int64_t off = 0;
    for (int i = 0; i < f->n; i++)
        if (f->f[i].kind == MX_FK_CLOCK_OFFSET && matches(&f->f[i], exchange, 0, NULL))
            off = f->f[i].ms;
    return off;
}

void mx__faults_state(struct mx_faults *f, struct mx_buf *b)
{
    mx_buf_puts(b, "[");
    for (int i = 0; i < f->n; i++) {
        const struct mx_fault *x = &f->f[i];
        mx_buf_printf(b, "%s{\"id\":%d,\"kind\":\"%s\",\"exchange\":", i ? "," : "", x->id,
                      fk_names[x->kind]);
        mx_buf_json_str(b, x->exchange[0] ? x->exchange : "any");
        mx_buf_printf(b, ",\"port\":%d,\"path\":", x->port);
        mx_buf_json_str(b, x->path);
        mx_buf_printf(b, ",\"remaining\":%lld,\"ratio\":%g,\"hits\":%lld}", (long long)x->remaining,
                      x->ratio, (long long)x->hits);
    }
    mx_buf_puts(b, "]");
}
