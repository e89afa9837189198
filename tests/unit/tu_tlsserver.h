/*
 * tests/unit/tu_tlsserver.h — a tiny threaded TLS (OpenSSL) HTTP/1.1
 * server on 127.0.0.1 for the pool and pipeline tests.
 *
 * It generates a self-signed P-256 certificate in-process (SAN localhost,
 * 127.0.0.1) and writes it to a PEM file for ca_file. One thread accepts,
 * one thread per connection serves keep-alive requests. It counts TCP
 * accepts and connections closed by the peer, and can stall, answer
 * oversized bodies, or answer a given status. Every request gets
 *   200 "t=<unix ms>" (Content-Length, keep-alive)
 * unless the mode or the path says otherwise:
 *   /status/NNN  -> status NNN with body "t=<ms>"
 *   /big         -> big_bytes of 'a' with Content-Length
 *   /bignolen    -> big_bytes of 'a', no Content-Length, then close
 *   /stall       -> never answers (until the client or tu_tls_stop closes)
 * Stopping closes every connection and joins every thread.
 */
#ifndef TU_TLSSERVER_H
#define TU_TLSSERVER_H

#include <stdbool.h>
#include <stddef.h>

enum tu_tls_mode { TU_TLS_OK = 0, TU_TLS_STALL };

struct tu_tls;

/* Start on 127.0.0.1:0; cert_path receives the certificate (PEM). NULL on
 * failure. */
struct tu_tls *tu_tls_start(const char *cert_path);
void tu_tls_stop(struct tu_tls *s);
int tu_tls_port(const struct tu_tls *s);
void tu_tls_set_mode(struct tu_tls *s, enum tu_tls_mode m);
void tu_tls_set_big(struct tu_tls *s, size_t bytes);
int tu_tls_accepts(const struct tu_tls *s);
int tu_tls_closed(const struct tu_tls *s);  /* connections whose peer closed */
int tu_tls_requests(const struct tu_tls *s);
/* Copy of the last request's head (request line + headers) and body. */
void tu_tls_last_request(struct tu_tls *s, char *head, size_t head_cap, char *body, size_t body_cap);

/* A self-signed certificate and its private key as PEM files (for an
 * external server such as nghttpd). */
bool tu_make_cert(const char *cert_path, const char *key_path);
/* A port that was free on 127.0.0.1 a moment ago. */
int tu_free_port(void);
/* True when something accepts TCP connections on 127.0.0.1:port. */
bool tu_port_open(int port);

/* Poll cond() every 10 ms for up to ms milliseconds. */
bool tu_wait_for(bool (*cond)(void *), void *arg, int ms);
void tu_sleep_ms(int ms);

#endif
