/*
 * core/orderguard.h — what to do after each attempt of one call: retry a
 * read, re-sync the clock, or resolve a write whose outcome is unknown by
 * looking the order up by its client id before anything is sent again.
 *
 * The pipeline drives it: after every request that belongs to the call (the
 * operation itself, a resend, or a GET_ORDER lookup) it passes the
 * classified outcome to xgw__og_next() and does what the step says. The
 * guard holds no pointers and reads no clock: it is a pure state machine
 * over enums and the times it is given.
 *
 * Rules (issue 6, DESIGN.md "Resilience rules"):
 *  Reads (and the idempotent token calls): retry up to retry_max times with
 *   backoff for NETWORK, TIMEOUT, SERVER, PROTOCOL, and RATE_LIMITED with a
 *   Retry-After (which floors the delay); NETWORK/TIMEOUT/SERVER/5xx move to
 *   the next endpoint. Everything else is the answer.
 *  CLOCK_SKEW (any signed call): re-sync the clock, then send once more.
 *  PLACE / CANCEL:
 *   - failed before leaving the process (no XGW_ERRF_SENT): retried like a
 *     read (nothing reached the exchange);
 *   - sent, then NETWORK/TIMEOUT/UNKNOWN_OUTCOME/SERVER/PROTOCOL: look the
 *     order up by client id (any endpoint). SERVER is included although it
 *     promises "no side effect": the promise is the plugin's reading of a
 *     5xx text, and a lookup costs one request while a wrong guess costs a
 *     duplicate order;
 *   - lookup found the order: PLACE returns it; CANCEL returns it when it is
 *     final, or re-sends the cancel once when it is still open;
 *   - lookup proved the order does not exist (XGW_ERRF_ORDER_NOT_FOUND):
 *     PLACE is re-sent once with the same client id — but only when the
 *     lookup was sent after the original could no longer be executed
 *     (original send + recv_window + 1 s: the exchange refuses a signed
 *     request older than its receive window). An earlier "not found" only
 *     delays the next lookup until then. Without that wait an order still
 *     queued inside the exchange would be "not found", re-sent, and both
 *     would execute once the first one had filled (Binance only refuses a
 *     duplicate client id while the first order is open);
 *   - a resend refused (REJECTED / INVALID_REQUEST, e.g. "duplicate client
 *     order id") is confirmed by one more lookup: the original may be live;
 *   - lookups that themselves fail lookup_max times: UNKNOWN_OUTCOME.
 *  At most one resend per call, so one place call never yields two orders
 *  as long as the exchange honours its receive window.
 *
 * Threading: one struct xgw__og per call, used by the thread that drives
 * the call (the loop thread).
 */
#ifndef XGW_CORE_ORDERGUARD_H
#define XGW_CORE_ORDERGUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "xgw/types.h"

/* Clock error allowed on top of recv_window_ms before "not found" is proof. */
#define XGW__OG_PROOF_MARGIN_MS 1000

enum xgw__og_class { XGW__OG_READ = 0, XGW__OG_PLACE, XGW__OG_CANCEL };
enum xgw__og_phase { XGW__OG_PH_SEND = 0, XGW__OG_PH_LOOKUP };

enum xgw__og_action {
    XGW__OG_RETURN, /* the outcome just reported is the call's result (after a
                     * lookup: the order found, as the PLACE/CANCEL result) */
    XGW__OG_FAIL,   /* fail the call with step.kind (+ step.flags); message and
                     * code from the last attempt of the operation itself */
    XGW__OG_RETRY,  /* send the operation again (reads; writes never sent) */
    XGW__OG_RESYNC, /* sample the exchange's time, then send the same request
                     * again (re-signed; writes keep their client id) */
    XGW__OG_LOOKUP, /* send GET_ORDER by the order's client id (and symbol) */
    XGW__OG_RESEND, /* send the write again with the same client id */
};

struct xgw__og {
    enum xgw__og_class cls;
    enum xgw__og_phase phase;
    unsigned retry_max;  /* retries of the operation (reads / unsent writes) */
    unsigned lookup_max; /* failed lookups before UNKNOWN_OUTCOME (>= 1) */
    int64_t proof_ms;    /* recv_window_ms + XGW__OG_PROOF_MARGIN_MS */
    unsigned retries, lookups, lookup_failures;
    bool resynced, resent, confirming;
    int last_kind;        /* kind of the operation's last attempt */
    int saved_kind;       /* confirming: the refusal of the resend */
    int64_t last_sent_ms; /* when the write last left the process */
};

/* What the attempt came to. */
struct xgw__og_outcome {
    int kind;                     /* enum xgw_err_kind, XGW_OK on success */
    unsigned flags;               /* XGW_ERRF_*: SENT, ORDER_NOT_FOUND, BREAKER_OPEN */
    int http_status;              /* 0 when no answer */
    int64_t retry_after_ms;       /* RATE_LIMITED: the exchange's Retry-After, 0 none */
    int64_t sent_ms;              /* when the request was sent (exchange-corrected
                                   * clock, the same clock as now_ms); 0 = not sent */
    enum xgw_order_status status; /* successful lookups: the order's status */
};

struct xgw__og_step {
    enum xgw__og_action action;
    int kind;         /* FAIL: the kind to return */
    unsigned flags;   /* FAIL: flags to add (ORDER_NOT_FOUND when proven unplaced) */
    bool failover;    /* prefer another endpoint than the last one */
    bool backoff;     /* wait a backoff delay (backoff.h) before the request */
    int64_t delay_ms; /* floor of the wait (Retry-After, proof window) */
};

/* Class of an operation: PLACE and CANCEL are writes, everything else is
 * safe to repeat (WS_TOKEN returns the live token again on Binance). */
enum xgw__og_class xgw__og_class_of(enum xgw_op op);

/* retry_max from the config; lookup_max: suggest max(3, retry_max + 1);
 * recv_window_ms from the config. */
void xgw__og_init(struct xgw__og *g, enum xgw_op op, unsigned retry_max, unsigned lookup_max,
                  int64_t recv_window_ms);

/* Feed the outcome of the request the previous step asked for (the first
 * call: the operation's first attempt) and get the next step. now_ms: the
 * same clock as o->sent_ms. */
struct xgw__og_step xgw__og_next(struct xgw__og *g, const struct xgw__og_outcome *o, int64_t now_ms);

const char *xgw__og_action_name(enum xgw__og_action a);

#endif
