/*
 * core/breaker.h — the circuit breaker of one endpoint.
 *
 *   CLOSED --(failures consecutive endpoint faults)--> OPEN
 *   OPEN --(recovery time passed; seen by admit/peek)--> HALF_OPEN
 *   HALF_OPEN: exactly one probe request at a time is admitted;
 *     probe success --> CLOSED (recovery time back to its base)
 *     probe fault   --> OPEN   (recovery time doubled, capped at max)
 *
 * Only outcomes that are the endpoint's fault count: transport errors,
 * timeouts, 5xx and unparseable answers (see xgw__endpoint_fault). Business
 * refusals, auth errors and rate limits are answers from a working endpoint
 * and count as successes (they prove it serves). A request that never left
 * the process must not be recorded: give its admission back with
 * xgw__breaker_cancel.
 *
 * Every admission (xgw__breaker_admit returning non-zero) must be followed by
 * exactly one xgw__breaker_record or xgw__breaker_cancel, passing back what
 * admit returned, or a half-open breaker would wait for its probe forever.
 *
 * Time is passed in (any monotonic or wall clock in ms, used consistently);
 * nothing here reads a clock. Threading: loop thread only; the listener runs
 * synchronously inside admit/record/peek.
 */
#ifndef XGW_CORE_BREAKER_H
#define XGW_CORE_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum xgw__brk_state { XGW__BRK_CLOSED = 0, XGW__BRK_OPEN, XGW__BRK_HALF_OPEN, XGW__BRK__COUNT };

/* What admit granted. Zero means "no", so `if (xgw__breaker_admit(...))` reads. */
enum xgw__brk_admit {
    XGW__BRK_DENY = 0, /* fail fast: kind NETWORK, flag XGW_ERRF_BREAKER_OPEN */
    XGW__BRK_PASS,     /* an ordinary request (breaker closed) */
    XGW__BRK_PROBE,    /* the single half-open probe */
};

struct xgw__breaker;
/* Called on every state change (from -> to) at now_ms. ud is the listener's. */
typedef void (*xgw__brk_listener)(void *ud, const struct xgw__breaker *b, enum xgw__brk_state from,
                                  enum xgw__brk_state to, int64_t now_ms);

struct xgw__breaker {
    enum xgw__brk_state state;
    unsigned threshold;                /* consecutive faults that open it (>= 1) */
    int64_t base_recovery_ms;          /* breaker_recovery_s * 1000 */
    int64_t max_recovery_ms;           /* breaker_recovery_max_s * 1000 (>= base) */
    int64_t recovery_ms;               /* current recovery time (doubles on failed probes) */
    unsigned consecutive;              /* faults in a row while CLOSED */
    int64_t opened_ms;                 /* when it last opened */
    int64_t half_open_ms;              /* OPEN: when it half-opens (opened_ms + recovery_ms) */
    bool probe_inflight;               /* HALF_OPEN: the probe was admitted, no answer yet */
    uint64_t entered[XGW__BRK__COUNT]; /* transitions into each state, for metrics */
    uint64_t denied;                   /* requests failed fast */
    xgw__brk_listener listener;
    void *listener_ud;
};

/* failures >= 1 (0 is taken as 1); recovery_ms >= 1; max_ms >= recovery_ms
 * (raised to it otherwise). Starts CLOSED with no listener. */
void xgw__breaker_init(struct xgw__breaker *b, unsigned failures, int64_t recovery_ms, int64_t max_ms);
void xgw__breaker_set_listener(struct xgw__breaker *b, xgw__brk_listener fn, void *ud);

/* May a request be sent now? In HALF_OPEN admits one probe and then denies
 * until that probe is recorded or cancelled. Moves OPEN -> HALF_OPEN when the
 * recovery time has passed. Counts denials. */
enum xgw__brk_admit xgw__breaker_admit(struct xgw__breaker *b, int64_t now_ms);

/* Would admit() say yes now? Claims nothing and counts nothing (it may still
 * move OPEN -> HALF_OPEN, which is a fact of time, not of the request). For
 * choosing among endpoints before committing to one. */
bool xgw__breaker_would_admit(struct xgw__breaker *b, int64_t now_ms);

/* The outcome of a request that admit granted as `how`. endpoint_fault:
 * true for transport/timeout/5xx/protocol failures, false for success and
 * for every answer that proves the endpoint works. Outcomes of ordinary
 * requests (PASS) that finish while the breaker is not CLOSED are ignored:
 * they were sent before it opened and only the probe decides. Returns true
 * when the state changed. */
bool xgw__breaker_record(struct xgw__breaker *b, int64_t now_ms, enum xgw__brk_admit how,
                         bool endpoint_fault);

/* Give back an admission whose request was never sent (cancelled, refused
 * by the rate limiter, build failed). Releases the probe slot. */
void xgw__breaker_cancel(struct xgw__breaker *b, enum xgw__brk_admit how);

/* The state as of now_ms (an OPEN breaker whose recovery time has passed
 * reads HALF_OPEN). Does not change b. */
enum xgw__brk_state xgw__breaker_state(const struct xgw__breaker *b, int64_t now_ms);

/* Milliseconds until the breaker would admit a request again: 0 when it
 * admits now; OPEN: until it half-opens; HALF_OPEN with the probe out: the
 * current recovery time is a fair guess (the probe's own timeout is not
 * known here), never 0. For the fail-fast message. */
int64_t xgw__breaker_retry_in_ms(const struct xgw__breaker *b, int64_t now_ms);

const char *xgw__breaker_state_name(enum xgw__brk_state s); /* "closed", "open", "half_open" */

#endif
