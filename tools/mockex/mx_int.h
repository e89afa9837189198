/*
 * mx_int.h — functions shared by the mock's framework files (server.c,
 * market.c, account.c, fault.c, cert.c, main.c). Exchange modules use
 * mockex.h only.
 */
#ifndef XGW_MOCKEX_INT_H
#define XGW_MOCKEX_INT_H

#include "mockex.h"

/* market.c */
struct mx_market *mx__market_new(uint64_t seed);
void mx__market_free(struct mx_market *m);
/* Advances instrument idx by one step at time now; fills *st with the diff. */
void mx__market_step(struct mx_market *m, int idx, int64_t now_ms, struct mx_step *st);

/* account.c */
struct mx_accounts;
struct mx_accounts *mx__accts_new(void);
void mx__accts_free(struct mx_accounts *s);
/* Loads accounts from a JSON file (see README); replaces the demo set.
 * Returns 0 or -1 with a message in err. */
int mx__accts_load(struct mx_accounts *s, const char *path, char *err, size_t errcap);
void mx__accts_demo(struct mx_accounts *s);
/* Resets balances, positions and orders to the initial state. */
void mx__accts_reset(struct mx_accounts *s);
/* Fills resting orders crossed by the current book of instrument idx. */
void mx__accts_match(struct mx_server *srv, int idx);
struct mx_accounts *mx__accts_of(struct mx_server *srv);
struct mx_account *mx__accts_head(struct mx_accounts *s);
/* Dispatches an order event to the owning module (server.c). */
void mx__order_event(struct mx_server *srv, struct mx_account *a, const struct mx_order *o,
                     enum mx_order_event ev);

/* util.c: appends s[len] to b in the server's canonical query form: RFC 3986
 * unreserved bytes as is, the first '=' kept when keep_first_eq, all else
 * %XX (upper case). server.c re-encodes each decoded query fragment so. */
void mx__canon_append(struct mx_buf *b, const char *s, size_t len, int keep_first_eq);

/* cert.c: writes a fresh self-signed P-256 certificate for 127.0.0.1 and
 * localhost into dir (cert.pem, key.pem). Returns 0 or -1. */
int mx__cert_generate(const char *dir, char *cert_path, size_t ccap, char *key_path, size_t kcap);

/* server.c */
struct mx_server *mx__server_new(const struct mx_opts *opts, const int *ports, int nports,
                                 const char *cert, const char *key, const char *accounts_file,
                                 char *err, size_t ecap);
void mx__server_free(struct mx_server *srv);
int mx__server_nports(const struct mx_server *srv);
int mx__server_port(const struct mx_server *srv, int i);
int mx__server_run_once(struct mx_server *srv);
/* Async-signal-safe enough: wakes the event loop (a pipe write). */
void mx__server_wake(struct mx_server *srv);
/* Adds a fault given as JSON (command-line --fault). Returns id or -1. */
int mx__server_add_fault(struct mx_server *srv, const char *json, char *err, size_t ecap);

/* fault.c — the fault table. */
enum mx_fk {
    MX_FK_HTTP_STATUS = 0, /* answer the exchange's error shape with params.status */
    MX_FK_LATENCY,         /* delay the answer by params.ms */
    MX_FK_RESET_BEFORE,    /* TCP reset before the request is processed */
    MX_FK_RESET_AFTER,     /* processed (the order exists), then TCP reset, no answer */
    MX_FK_TRUNCATE,        /* the JSON body cut in half */
    MX_FK_MALFORMED,       /* a body that is not JSON */
    MX_FK_OVERSIZE,        /* a valid JSON body of params.bytes (default 16 MiB) */
    MX_FK_STALL,           /* accept the request, never answer */
    MX_FK_REFUSE,          /* close new TCP connections at once */
    MX_FK_CLOCK_OFFSET,    /* the exchange's clock runs params.ms ahead (sticky) */
    MX_FK_WS_CLOSE,        /* close WS connections (open ones first, then new ones) */
    MX_FK_WS_STALL,        /* stop sending and stop reading (no pongs) */
    MX_FK_WS_GAP,          /* skip one sequenced message */
    MX_FK__COUNT
};

struct mx_fault {
    int id;
    enum mx_fk kind;
    char exchange[16]; /* "" = any */
    int port;          /* 0 = any */
    char path[128];    /* prefix; "" = any */
    int64_t remaining; /* -1 = unlimited */
    double ratio;      /* 0 = every matching event (subject to remaining) */
    uint64_t rng;
    int64_t hits;
    /* params */
    int status, code, process, close;
    char msg[12288]; /* up to 12 KiB: tests send long, hostile exchange messages */
    int64_t ms, bytes;
    int64_t retry_after; /* http_status: seconds for a Retry-After header, 0 none */
};

struct mx_faults;
struct mx_faults *mx__faults_new(uint64_t seed);
void mx__faults_free(struct mx_faults *f);
void mx__faults_clear(struct mx_faults *f);
/* Adds one fault from its JSON description (see README). Returns the id, or
 * -1 with a message in err. */
int mx__faults_add_json(struct mx_faults *f, const char *json, size_t len, char *err, size_t ecap);
/* If a fault of `kind` matches and fires for this event, counts the hit and
 * returns it; NULL otherwise. */
struct mx_fault *mx__fault_take(struct mx_faults *f, enum mx_fk kind, const char *exchange,
                                int port, const char *path);
/* Offset of the exchange's clock (last matching clock_offset fault). */
int64_t mx__faults_clock(struct mx_faults *f, const char *exchange);
void mx__faults_state(struct mx_faults *f, struct mx_buf *json);
const char *mx__fk_name(enum mx_fk k);

#endif
