/*
 * tests/unit/tu_tlsserver.c — see tu_tlsserver.h.
 */
#define _GNU_SOURCE
#include "tu_tlsserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct conn {
    struct tu_tls *srv;
    int fd;
    pthread_t th;
    struct conn *next;
};

struct tu_tls {
    int lfd;
    int port;
    int stop_pipe[2];
    SSL_CTX *ctx;
    pthread_t acceptor;
    pthread_mutex_t mu;
    struct conn *conns;
    atomic_int accepts, closed, requests;
    atomic_int mode;
    atomic_size_t big;
    char last_head[4096];
    char last_body[4096];
};

void tu_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

bool tu_wait_for(bool (*cond)(void *), void *arg, int ms)
{
    for (int waited = 0; waited <= ms; waited += 10) {
        if (cond(arg))
            return true;
        tu_sleep_ms(10);
    }
    return cond(arg);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool make_cert(SSL_CTX *ctx, const char *cert_path, const char *key_path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    bool ok = false;
    if (!key || !x)
        goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(now_ms() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    const char *exts[][2] = {
        {"subjectAltName", "DNS:localhost,IP:127.0.0.1"},
        {"basicConstraints", "critical,CA:TRUE"},
        {"keyUsage", "critical,digitalSignature,keyCertSign"},
        {"subjectKeyIdentifier", "hash"},
    };
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        X509_EXTENSION *e = X509V3_EXT_conf(NULL, &v3, exts[i][0], exts[i][1]);
        if (!e)
            goto out;
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (!X509_sign(x, key, EVP_sha256()))
        goto out;
    FILE *f = fopen(cert_path, "w");
    if (!f)
        goto out;
    PEM_write_X509(f, x);
    fclose(f);
    if (key_path) {
        FILE *k = fopen(key_path, "w");
        if (!k)
            goto out;
        PEM_write_PrivateKey(k, key, NULL, NULL, 0, NULL, NULL);
        fclose(k);
    }
    ok = !ctx || (SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1);
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

/* Wait until fd is readable or the server stops. */
static bool wait_readable(struct tu_tls *s, int fd)
{
    struct pollfd p[2] = {{fd, POLLIN, 0}, {s->stop_pipe[0], POLLIN, 0}};
    for (;;) {
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (p[1].revents & (POLLIN | POLLHUP)))
            return false;
        if (p[0].revents)
            return true;
    }
}

static bool write_all(SSL *ssl, const char *d, size_t n)
{
    while (n > 0) {
        int w = SSL_write(ssl, d, n > 65536 ? 65536 : (int)n);
        if (w <= 0)
            return false;
        d += w;
        n -= (size_t)w;
    }
    return true;
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    struct tu_tls *s = c->srv;
    SSL *ssl = SSL_new(s->ctx);
    char *buf = malloc(65536);
    size_t len = 0;
    bool peer_closed = false;
    if (!ssl || !buf)
        goto out;
    SSL_set_fd(ssl, c->fd);
    if (SSL_accept(ssl) != 1) {
        peer_closed = true; /* e.g. the client refused our certificate */
        goto out;
    }
    for (;;) {
        /* Read one request head (and its body, by Content-Length). */
        char *end = NULL;
        while (!(end = len ? memmem(buf, len, "\r\n\r\n", 4) : NULL)) {
            if (SSL_pending(ssl) == 0 && !wait_readable(s, c->fd))
                goto out;
            int r = SSL_read(ssl, buf + len, (int)(65535 - len));
            if (r <= 0) {
                peer_closed = true;
                goto out;
            }
            len += (size_t)r;
            if (len >= 65535)
                goto out;
        }
        size_t head_len = (size_t)(end - buf) + 4;
        size_t clen = 0;
        char *cl = strcasestr(buf, "\r\ncontent-length:");
        if (cl && cl < end)
            clen = (size_t)strtoul(cl + 17, NULL, 10);
        while (len < head_len + clen) {
            if (SSL_pending(ssl) == 0 && !wait_readable(s, c->fd))
                goto out;
            int r = SSL_read(ssl, buf + len, (int)(65535 - len));
            if (r <= 0) {
                peer_closed = true;
                goto out;
            }
            len += (size_t)r;
        }
        pthread_mutex_lock(&s->mu);
        snprintf(s->last_head, sizeof s->last_head, "%.*s", (int)head_len, buf);
        snprintf(s->last_body, sizeof s->last_body, "%.*s", (int)clen, buf + head_len);
        pthread_mutex_unlock(&s->mu);
        atomic_fetch_add(&s->requests, 1);

        char path[256] = "";
        sscanf(buf, "%*s %255s", path);
        memmove(buf, buf + head_len + clen, len - head_len - clen);
        len -= head_len + clen;

        if (atomic_load(&s->mode) == TU_TLS_STALL || !strncmp(path, "/stall", 6)) {
            /* Never answer: wait for the client to give up or for stop. */
            char junk[256];
            while (wait_readable(s, c->fd)) {
                if (SSL_read(ssl, junk, sizeof junk) <= 0) {
                    peer_closed = true;
                    break;
                }
            }
            goto out;
        }
        char head[512], body[64];
        if (!strncmp(path, "/big", 4)) {
            size_t n = atomic_load(&s->big);
            bool nolen = !strncmp(path, "/bignolen", 9);
            int hl = nolen ? snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                           : snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
            if (!write_all(ssl, head, (size_t)hl))
                goto out;
            char *chunk = malloc(65536);
            memset(chunk, 'a', 65536);
            bool ok = true;
            for (size_t sent = 0; ok && sent < n; sent += 65536)
                ok = write_all(ssl, chunk, n - sent < 65536 ? n - sent : 65536);
            free(chunk);
            if (nolen || !ok)
                goto out;
            continue;
        }
        int status = 200;
        if (!strncmp(path, "/status/", 8))
            status = atoi(path + 8);
        int bl = snprintf(body, sizeof body, "t=%lld", now_ms());
        int hl = snprintf(head, sizeof head,
                          "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nX-Usage: 7\r\nContent-Length: %d\r\n\r\n",
                          status, bl);
        if (!write_all(ssl, head, (size_t)hl) || !write_all(ssl, body, (size_t)bl))
            goto out;
    }
out:
    if (peer_closed)
        atomic_fetch_add(&s->closed, 1);
    if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    free(buf);
    shutdown(c->fd, SHUT_RDWR);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct tu_tls *s = arg;
    for (;;) {
        if (!wait_readable(s, s->lfd))
            return NULL;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        atomic_fetch_add(&s->accepts, 1);
        struct conn *c = calloc(1, sizeof *c);
        c->srv = s;
        c->fd = fd;
        pthread_mutex_lock(&s->mu);
        c->next = s->conns;
        s->conns = c;
        pthread_mutex_unlock(&s->mu);
        pthread_create(&c->th, NULL, conn_main, c);
    }
}

struct tu_tls *tu_tls_start(const char *cert_path)
{
    /* The server writes with plain write(2) under OpenSSL: a client that
     * hangs up mid-answer (the size-limit tests) must not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    struct tu_tls *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (!s->ctx || !make_cert(s->ctx, cert_path, NULL) || pipe(s->stop_pipe) != 0) {
        SSL_CTX_free(s->ctx);
        free(s);
        return NULL;
    }
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 128) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0) {
        close(s->lfd);
        SSL_CTX_free(s->ctx);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    pthread_create(&s->acceptor, NULL, accept_main, s);
    return s;
}

void tu_tls_stop(struct tu_tls *s)
{
    if (!s)
        return;
    if (write(s->stop_pipe[1], "x", 1) != 1)
        return;
    pthread_join(s->acceptor, NULL);
    pthread_mutex_lock(&s->mu);
    struct conn *c = s->conns;
    s->conns = NULL;
    pthread_mutex_unlock(&s->mu);
    while (c) {
        struct conn *next = c->next;
        shutdown(c->fd, SHUT_RDWR);
        pthread_join(c->th, NULL);
        close(c->fd);
        free(c);
        c = next;
    }
    close(s->lfd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    SSL_CTX_free(s->ctx);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

bool tu_make_cert(const char *cert_path, const char *key_path) { return make_cert(NULL, cert_path, key_path); }

int tu_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

bool tu_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

int tu_tls_port(const struct tu_tls *s) { return s->port; }
void tu_tls_set_mode(struct tu_tls *s, enum tu_tls_mode m) { atomic_store(&s->mode, (int)m); }
void tu_tls_set_big(struct tu_tls *s, size_t bytes) { atomic_store(&s->big, bytes); }
int tu_tls_accepts(const struct tu_tls *s) { return atomic_load(&s->accepts); }
int tu_tls_closed(const struct tu_tls *s) { return atomic_load(&s->closed); }
int tu_tls_requests(const struct tu_tls *s) { return atomic_load(&s->requests); }

void tu_tls_last_request(struct tu_tls *s, char *head, size_t head_cap, char *body, size_t body_cap)
{
    pthread_mutex_lock(&s->mu);
    if (head)
        snprintf(head, head_cap, "%s", s->last_head);
    if (body)
        snprintf(body, body_cap, "%s", s->last_body);
    pthread_mutex_unlock(&s->mu);
}
