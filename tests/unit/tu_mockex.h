/*
 * tu_mockex.h — test helper: run xgw-mockex (path from $XGW_MOCKEX) on
 * loopback, talk to it over HTTPS with its own certificate as CA, and stop
 * it by PID. Every call is bounded in time; nothing here leaves a process
 * behind when tu_mockex_stop is called (tests call it on every path).
 */
#ifndef XGW_TU_MOCKEX_H
#define XGW_TU_MOCKEX_H

#include <stddef.h>
#include <sys/types.h>

struct tu_mockex {
    pid_t pid;
    int nports;
    int ports[16];
    char cert[512];
};

/* A response: status, body (NUL-terminated, malloc'd), and the raw header
 * block (malloc'd). curl_rc != 0 when the transfer failed (reset, timeout,
 * malformed answer...): then status is 0. Free with tu_http_free. */
struct tu_http {
    int curl_rc;
    long status;
    char *body;
    size_t body_len;
    char *headers;
};

/* Starts the mock with extra argv (NULL-terminated, may be NULL); adds
 * "--port 0" when args name no --port. Waits (up to 10 s) for its JSON start
 * line. Returns 0, or -1 (the process, if any, is killed). */
int tu_mockex_start(struct tu_mockex *mx, const char *const *args);
/* SIGTERM, wait up to 5 s, then SIGKILL. Returns the exit status as
 * waitpid reports it (0 = clean exit), or -1 if it had to be killed. */
int tu_mockex_stop(struct tu_mockex *mx);

/* One HTTPS request to https://127.0.0.1:<port><path_query>. hdrs is a
 * NULL-terminated list of "Name: value" lines (may be NULL); body may be
 * NULL. timeout_ms bounds the whole transfer. */
int tu_mockex_http(const struct tu_mockex *mx, int port, const char *method,
                   const char *path_query, const char *const *hdrs, const char *body,
                   long timeout_ms, struct tu_http *out);
void tu_http_free(struct tu_http *r);

/* POST /_mock/faults with a JSON fault (or {"faults":[...]}) on port[0].
 * Returns 0 when accepted. */
int tu_mockex_fault(const struct tu_mockex *mx, const char *json);
/* GET /_mock/state; returns a cJSON* (cast to void* to keep cJSON out of
 * this header), the caller frees with cJSON_Delete. NULL on failure. */
void *tu_mockex_state(const struct tu_mockex *mx);
/* A number from GET /_mock/state by keys, e.g. ("counters", "binance",
 * "signature_failures") or ("requests", "by_path", "/fapi/v1/time"); k3 may
 * be NULL. Missing = 0, request failure = -1. */
long long tu_mockex_state_num(const struct tu_mockex *mx, const char *k1, const char *k2,
                              const char *k3);
/* POST /_mock/reset. */
int tu_mockex_reset(const struct tu_mockex *mx);

#endif
