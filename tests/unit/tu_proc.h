/*
 * tests/unit/tu_proc.h — helpers for tests: run a child process with a
 * bounded time, and make temporary folders and files with exact modes.
 *
 * Everything here is bounded: a child that outlives its timeout is killed
 * by its PID (SIGKILL) and reaped; output beyond TU_OUT_MAX is discarded
 * (and flagged) rather than growing without end.
 */
#ifndef XGW_TU_PROC_H
#define XGW_TU_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TU_OUT_MAX (4u << 20)

struct tu_result {
    int exit_code;   /* exit status, or -1 when killed by a signal */
    int signal;      /* the terminating signal, 0 if none */
    bool timed_out;  /* killed by us after timeout_ms */
    bool truncated;  /* output beyond TU_OUT_MAX was dropped */
    char *out;       /* stdout, NUL-terminated (owned; tu_result_free) */
    size_t out_len;
    char *err;       /* stderr, NUL-terminated */
    size_t err_len;
};

/* Run argv[0] (looked up in PATH when it has no '/') with argv, stdin from
 * /dev/null, and the current environment changed by env: "NAME=VALUE" sets,
 * "NAME" alone unsets (env may be NULL; NULL-terminated). Waits at most
 * timeout_ms. Returns 0 when the child ran (whatever its status), -1 when
 * it could not be started (errno set). res is always initialised. */
int tu_run(const char *const argv[], const char *const env[], int timeout_ms, struct tu_result *res);
void tu_result_free(struct tu_result *res);

/* A new private folder (mode 0700) under $TMPDIR or /tmp; path written to
 * out (cap >= 64). Returns 0 or -1. */
int tu_mkdtemp(char *out, size_t cap);
/* Remove a folder tree made by tu_mkdtemp (bounded depth). Returns 0 or -1. */
int tu_rm_rf(const char *path);
/* Write len bytes (len == (size_t)-1: strlen) to dir/name with exactly mode
 * (umask ignored). Returns a malloc'ed path, or NULL. */
char *tu_write_file(const char *dir, const char *name, const char *data, size_t len, mode_t mode);
/* Copy the file src to dir/name with mode. Returns a malloc'ed path or NULL. */
char *tu_copy_file(const char *src, const char *dir, const char *name, mode_t mode);
/* getenv(name), failing the current cmocka test when it is unset or empty. */
const char *tu_env(const char *name);

#endif
