/*
 * core/loop.h — the gateway's one event loop (internal).
 *
 * A libuv loop that drives libcurl (core/http.c), later libwebsockets, and
 * every timer. It runs either on an I/O thread started by
 * xgw__loop_start(), or is driven by the host (xgw_fd/xgw_timeout_ms/
 * xgw_step) or by a synchronous caller (xgw__loop_enter_sync, xgw__loop_wait).
 *
 * Threading: xgw__loop_submit() may be called from any thread; everything
 * else touching the uv loop (handles, timers) happens on whichever thread
 * currently drives it. At most one thread drives at a time: the "driver"
 * role is handed over under a mutex, so a host thread stepping the loop and
 * a thread blocked in a synchronous call never run uv_run concurrently.
 *
 * Submission is allocation-free: callers embed a struct xgw__task in their
 * own object (e.g. a pending call) and the queue links it intrusively.
 *
 * Lending (xgw__loop_enter_sync): with an I/O thread, a synchronous caller
 * borrows the driver role instead of handing its call over, so a call costs
 * no thread hand-off. The I/O thread parks; any synchronous caller may drive
 * while the loop is lent; the I/O thread takes the role back once nobody has
 * driven for XGW__LOOP_LEND_GRACE_NS, so events and timers are late by at
 * most that much while a caller sits between calls.
 */
#ifndef XGW_CORE_LOOP_H
#define XGW_CORE_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct xgw__task {
    struct xgw__task *next;
    /* Runs on the loop thread, once. The task memory belongs to the caller
     * and must stay valid until run() is called. */
    void (*run)(struct xgw__task *t);
};

struct xgw__loop {
    uv_loop_t uv;
    uv_async_t wake;

    pthread_mutex_t mu;            /* guards the queue, closed, driving, driver and the lending state */
    pthread_cond_t cv;             /* driver handover and xgw__loop_signal() */
    struct xgw__task *head, *tail; /* submitted, not yet run */
    bool closed;                   /* submissions refused from now on */
    bool driving;                  /* some thread is inside uv_run */
    pthread_t driver;              /* ... this one */

    bool has_thread;
    pthread_t thread;
    atomic_bool stop; /* asks the I/O thread to leave uv_run */

    /* Lending the loop to synchronous callers: guarded by mu, but wait_turn,
     * which only the thread holding the driver role touches. */
    bool thread_up;           /* the I/O thread runs (or parks); false once it has left */
    bool want;                /* a synchronous caller asked the I/O thread to park */
    bool lent;                /* the I/O thread is parked: synchronous callers drive */
    uint64_t last_release_ns; /* uv_hrtime when a borrower last let go of the role */
    bool wait_turn;           /* the driver is in xgw__loop_wait's uv_run (driver's own) */
};

/* How long the I/O thread leaves a lent loop alone after the last borrower
 * let go: a caller issuing calls back to back keeps the loop without a
 * hand-shake per call, and nothing waits longer than this for a driver. */
#define XGW__LOOP_LEND_GRACE_NS 1000000u

/* Initialise l (caller-owned memory). 0 or XGW_ERR_INTERNAL. */
int xgw__loop_init(struct xgw__loop *l);
/* Stop the thread if any, close every remaining handle and free the loop.
 * Tasks still queued are NOT run: drain them first (xgw__loop_close_queue). */
void xgw__loop_destroy(struct xgw__loop *l);

/* Queue t to run on the loop thread and wake the loop. Any thread.
 * Returns 0, or XGW_ERR_CANCELLED when the queue was closed (t not queued). */
int xgw__loop_submit(struct xgw__loop *l, struct xgw__task *t);
/* Refuse further submissions and return the tasks still queued (in order,
 * linked by next) for the caller to complete. Any thread. */
struct xgw__task *xgw__loop_close_queue(struct xgw__loop *l);

/* Start the I/O thread (runs uv_run until xgw__loop_stop). 0 or error kind. */
int xgw__loop_start(struct xgw__loop *l);
/* Ask the I/O thread to stop and join it. No-op without a thread. */
void xgw__loop_stop(struct xgw__loop *l);

/* Make the calling thread the loop's driver for good (shutdown): stop the
 * I/O thread if any, or wait until the thread currently driving leaves. */
void xgw__loop_take_over(struct xgw__loop *l);

/* True when the calling thread is the one currently running the loop. */
bool xgw__loop_on_loop_thread(struct xgw__loop *l);

/* Host-driven mode. step runs ready work without blocking; returns 0, or
 * 0 without doing anything when another thread currently drives. */
int xgw__loop_fd(struct xgw__loop *l);
int xgw__loop_timeout_ms(struct xgw__loop *l);
int xgw__loop_step(struct xgw__loop *l);

/* A synchronous caller (never a callback) about to start one call: make the
 * calling thread the driver if that can be done — borrowing the loop from
 * the I/O thread (which parks, see "Lending" above) or, without an I/O
 * thread, taking the free role. Returns true when the caller now drives: it
 * may run loop work directly and must then call xgw__loop_wait, which lets
 * the role go. Returns false when another thread drives: submit the work and
 * wait as usual. */
bool xgw__loop_enter_sync(struct xgw__loop *l);

/* Block until *done becomes true. Without an I/O thread or while the loop is
 * lent, the calling thread takes the driver role (or waits for the current
 * driver to let it go) and runs the loop itself; a caller that already
 * drives (xgw__loop_enter_sync) keeps driving. The role is let go on return.
 * *done must be written under l->mu followed by
 * xgw__loop_signal() (use xgw__loop_set_done()). */
void xgw__loop_wait(struct xgw__loop *l, const bool *done);
void xgw__loop_set_done(struct xgw__loop *l, bool *done);

/* Monotonic clock in microseconds (uv_hrtime based). */
int64_t xgw__mono_us(void);
/* Wall clock, unix milliseconds. */
int64_t xgw__wall_ms(void);

#endif
