/*
 * tests/unit/tu_proc.c — see tu_proc.h.
 */
#define _GNU_SOURCE
#include "tu_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The child's environment: ours, changed by env. Built before fork so the
 * child only calls async-signal-safe functions. */
static char **make_env(const char *const env[])
{
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (env && env[m])
        m++;
    char **e = calloc(n + m + 1, sizeof *e);
    if (!e)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool overridden = false;
        for (size_t j = 0; j < m && !overridden; j++) {
            size_t jl = strcspn(env[j], "=");
            overridden = jl == nl && !strncmp(env[j], environ[i], nl);
        }
        if (!overridden)
            e[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        if (strchr(env[j], '='))
            e[k++] = (char *)(uintptr_t)env[j];
    e[k] = NULL;
    return e;
}

static void append(char **buf, size_t *len, size_t *cap, const char *data, size_t n, bool *trunc)
{
    if (*len + n > TU_OUT_MAX) {
        *trunc = true;
        n = TU_OUT_MAX - *len;
    }
    if (*len + n + 1 > *cap) {
        size_t nc = (*len + n + 1) * 2;
        char *nb = realloc(*buf, nc);
        if (!nb) {
            *trunc = true;
            return;
        }
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

int tu_run(const char *const argv[], const char *const env[], int timeout_ms, struct tu_result *res)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    res->out = calloc(1, 1);
    res->err = calloc(1, 1);
    size_t ocap = 1, ecap = 1;
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    char **envp = make_env(env);
    if (!envp || !res->out || !res->err || pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
        free(envp);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        free(envp);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        int dn = open("/dev/null", O_RDONLY);
        if (dn < 0 || dup2(dn, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
            _exit(127);
        execvpe(argv[0], (char *const *)(uintptr_t)argv, envp);
        _exit(127);
    }
    free(envp);
    close(po[1]);
    close(pe[1]);
    int64_t deadline = mono_ms() + timeout_ms;
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    char buf[8192];
    while (open_fds > 0) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            res->timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        int r = poll(fds, 2, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                if (i == 0)
                    append(&res->out, &res->out_len, &ocap, buf, (size_t)n, &res->truncated);
                else
                    append(&res->err, &res->err_len, &ecap, buf, (size_t)n, &res->truncated);
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    /* the pipes closed, but the child may still run (it closed them itself):
     * wait for it within the same deadline, then kill it */
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return 0;
        if (mono_ms() >= deadline && !res->timed_out) {
            res->timed_out = true;
            kill(pid, SIGKILL);
        }
        usleep(2000);
    }
    if (WIFEXITED(status))
        res->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        res->signal = WTERMSIG(status);
    return 0;
}

void tu_result_free(struct tu_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}

int tu_mkdtemp(char *out, size_t cap)
{
    const char *t = getenv("TMPDIR");
    if (!t || !*t)
        t = "/tmp";
    if ((size_t)snprintf(out, cap, "%s/xgwtest.XXXXXX", t) >= cap)
        return -1;
    return mkdtemp(out) ? 0 : -1;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

int tu_rm_rf(const char *path)
{
    /* make folders writable again first: a test may have chmod'ed them */
    chmod(path, 0700);
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_write_file(const char *dir, const char *name, const char *data, size_t len, mode_t mode)
{
    if (len == (size_t)-1)
        len = strlen(data);
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(p);
        return NULL;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    bool ok = off == len && fchmod(fd, mode) == 0;
    close(fd);
    if (!ok) {
        free(p);
        return NULL;
    }
    return p;
}

char *tu_copy_file(const char *src, const char *dir, const char *name, mode_t mode)
{
    FILE *f = fopen(src, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t len = 0, cap = 0;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            char *nd = realloc(data, cap);
            if (!nd) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = nd;
        }
        memcpy(data + len, buf, n);
        len += n;
    }
    fclose(f);
    char *p = tu_write_file(dir, name, data ? data : "", len, mode);
    free(data);
    return p;
}

const char *tu_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fail_msg("environment variable %s is not set (run the test through ctest)", name);
    return v;
}
