/*
 * core/loop.c — one libuv loop, a thread-safe task queue woken by uv_async,
 * and the three ways of driving it (I/O thread, host, synchronous caller).
 */
#define _POSIX_C_SOURCE 200809L
#include "loop.h"

#include <errno.h>
#include <time.h>

#include "xgw/types.h"

int64_t xgw__mono_us(void) { return (int64_t)(uv_hrtime() / 1000u); }

int64_t xgw__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs on the loop thread whenever someone submitted work or asked to stop.
 * The queue is swapped out under the lock and run outside it, so a task may
 * submit further tasks without deadlocking. */
static void on_wake(uv_async_t *a)
{
    struct xgw__loop *l = a->data;
    pthread_mutex_lock(&l->mu);
    struct xgw__task *t = l->head;
    l->head = l->tail = NULL;
    /* A synchronous caller asked to borrow the loop: leave uv_run so the
     * I/O thread can park (thread_main). want is only raised while the loop
     * is not lent, so this runs on the I/O thread. */
    bool park = l->want;
    pthread_mutex_unlock(&l->mu);
    while (t) {
        struct xgw__task *next = t->next;
        t->next = NULL;
        t->run(t);
        t = next;
    }
    if (park || atomic_load(&l->stop))
        uv_stop(&l->uv);
}

int xgw__loop_init(struct xgw__loop *l)
{
    *l = (struct xgw__loop){0};
    if (uv_loop_init(&l->uv) != 0)
        return XGW_ERR_INTERNAL;
    if (uv_async_init(&l->uv, &l->wake, on_wake) != 0) {
        uv_loop_close(&l->uv);
        return XGW_ERR_INTERNAL;
    }
    l->wake.data = l;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    atomic_init(&l->stop, false);
    return XGW_OK;
}

int xgw__loop_submit(struct xgw__loop *l, struct xgw__task *t)
{
    t->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->closed) {
        pthread_mutex_unlock(&l->mu);
        return XGW_ERR_CANCELLED;
    }
    bool was_empty = l->head == NULL;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    pthread_mutex_unlock(&l->mu);
    /* One wake-up per batch: uv_async coalesces anyway, but skipping the
     * syscall when a wake is already pending keeps 4 submitting threads
     * from hammering the eventfd. */
    if (was_empty)
        uv_async_send(&l->wake);
    return XGW_OK;
}

struct xgw__task *xgw__loop_close_queue(struct xgw__loop *l)
{
    pthread_mutex_lock(&l->mu);
    l->closed = true;
    struct xgw__task *t = l->head;
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->mu);
    return t;
}

/* Sleep until the CLOCK_MONOTONIC (uv_hrtime) instant at_ns. */
static void sleep_until_ns(uint64_t at_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(at_ns / 1000000000u), .tv_nsec = (long)(at_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* The I/O thread lends the loop: it lets go of the driver role and sleeps
 * until nobody has driven for the grace period, then takes the role back.
 * Called with l->mu held; returns with it held, driving again — or, when
 * asked to stop, not driving.
 *
 * Why lend rather than hand each call over: a synchronous call through the
 * I/O thread crosses threads twice (queue + uv_async there, condition
 * variable back), about five context switches per request against one for
 * a caller blocking in epoll itself. A borrower runs its call and the loop
 * on its own thread, one thread at a time under mu as for any driver, so
 * callbacks (streams, timers, other threads' calls) keep running — on the
 * borrower's thread while it waits for its answer.
 *
 * Why a grace period and not "until the borrower returns": between two calls
 * the borrower is in the application and nobody polls the loop. The I/O
 * thread cannot watch the loop's descriptor without waking for every event
 * the borrower handles, so it sleeps blindly for at most the grace period:
 * work that arrives while nobody drives waits at most that long, and a
 * caller issuing calls back to back wakes the I/O thread about once per
 * grace period instead of several times per call. For the same reason the
 * borrowers never signal it, and it sleeps in clock_nanosleep and looks with
 * trylock: a condition variable would make it take mu on every wake-up,
 * and a borrower meeting it there would pay a futex hand-off. Stopping
 * therefore waits up to one grace period for it. */
static void lend(struct xgw__loop *l)
{
    l->want = false;
    l->lent = true;
    l->driving = false;
    l->last_release_ns = uv_hrtime();
    uint64_t until = l->last_release_ns + XGW__LOOP_LEND_GRACE_NS;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    for (;;) {
        sleep_until_ns(until);
        if (atomic_load(&l->stop)) {
            pthread_mutex_lock(&l->mu);
            return;
        }
        if (pthread_mutex_trylock(&l->mu) != 0) {
            /* Someone holds mu for a moment (a borrower, a submitter): look
             * again soon rather than a whole grace period later. */
            until = uv_hrtime() + XGW__LOOP_LEND_GRACE_NS / 8u;
            continue;
        }
        uint64_t now = uv_hrtime();
        if (!l->driving && now >= l->last_release_ns + XGW__LOOP_LEND_GRACE_NS) {
            l->lent = false;
            l->driving = true;
            l->driver = pthread_self();
            return;
        }
        until = (l->driving ? now : l->last_release_ns) + XGW__LOOP_LEND_GRACE_NS;
        pthread_mutex_unlock(&l->mu);
    }
}

static void *thread_main(void *arg)
{
    struct xgw__loop *l = arg;
    pthread_mutex_lock(&l->mu);
    l->driving = true;
    l->driver = pthread_self();
    while (!atomic_load(&l->stop)) {
        pthread_mutex_unlock(&l->mu);
        uv_run(&l->uv, UV_RUN_DEFAULT);
        pthread_mutex_lock(&l->mu);
        if (l->want && !atomic_load(&l->stop))
            lend(l);
    }
    /* A borrower may still be driving: it keeps the role until it lets go,
     * as without an I/O thread. */
    if (l->driving && pthread_equal(l->driver, pthread_self()))
        l->driving = false;
    l->lent = false;
    l->want = false;
    l->thread_up = false;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int xgw__loop_start(struct xgw__loop *l)
{
    if (l->has_thread)
        return XGW_OK;
    pthread_mutex_lock(&l->mu);
    bool busy = l->driving;
    /* Set before the thread exists, so a synchronous caller from now on
     * borrows the loop from it rather than taking the role as if free. */
    if (!busy)
        l->thread_up = true;
    pthread_mutex_unlock(&l->mu);
    if (busy)
        return XGW_ERR_INTERNAL; /* a host thread is stepping the loop */
    atomic_store(&l->stop, false);
    if (pthread_create(&l->thread, NULL, thread_main, l) != 0) {
        pthread_mutex_lock(&l->mu);
        l->thread_up = false;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        return XGW_ERR_INTERNAL;
    }
    l->has_thread = true;
    return XGW_OK;
}

void xgw__loop_stop(struct xgw__loop *l)
{
    if (!l->has_thread)
        return;
    atomic_store(&l->stop, true);
    uv_async_send(&l->wake);
    pthread_join(l->thread, NULL);
    l->has_thread = false;
    atomic_store(&l->stop, false);
}

void xgw__loop_take_over(struct xgw__loop *l)
{
    xgw__loop_stop(l);
    /* A synchronous caller may sit in uv_run(UV_RUN_ONCE): wake it so it
     * hands the driver role over. */
    uv_async_send(&l->wake);
    pthread_mutex_lock(&l->mu);
    while (l->driving && !pthread_equal(l->driver, pthread_self()))
        pthread_cond_wait(&l->cv, &l->mu);
    l->driving = true;
    l->driver = pthread_self();
    pthread_mutex_unlock(&l->mu);
}

bool xgw__loop_on_loop_thread(struct xgw__loop *l)
{
    pthread_mutex_lock(&l->mu);
    bool on = l->driving && pthread_equal(l->driver, pthread_self());
    pthread_mutex_unlock(&l->mu);
    return on;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void xgw__loop_destroy(struct xgw__loop *l)
{
    xgw__loop_stop(l);
    /* Owners close their handles (with their own close callbacks) before
     * this; whatever is left (the async handle) is closed here. */
    uv_walk(&l->uv, close_walk, NULL);
    while (uv_loop_close(&l->uv) == UV_EBUSY)
        uv_run(&l->uv, UV_RUN_NOWAIT);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}

int xgw__loop_fd(struct xgw__loop *l) { return uv_backend_fd(&l->uv); }

int xgw__loop_timeout_ms(struct xgw__loop *l) { return uv_backend_timeout(&l->uv); }

/* Take the driver role if free. Called with l->mu held. */
static bool take_driver(struct xgw__loop *l)
{
    if (l->driving)
        return false;
    l->driving = true;
    l->driver = pthread_self();
    return true;
}

static void drop_driver(struct xgw__loop *l)
{
    pthread_mutex_lock(&l->mu);
    l->driving = false;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

int xgw__loop_step(struct xgw__loop *l)
{
    if (l->has_thread)
        return XGW_ERR_INTERNAL; /* not to be mixed with xgw_start */
    pthread_mutex_lock(&l->mu);
    bool mine = take_driver(l);
    pthread_mutex_unlock(&l->mu);
    if (!mine)
        return XGW_OK;
    uv_run(&l->uv, UV_RUN_NOWAIT);
    drop_driver(l);
    return XGW_OK;
}

void xgw__loop_set_done(struct xgw__loop *l, bool *done)
{
    pthread_mutex_lock(&l->mu);
    /* A waiter driving the loop itself (xgw__loop_wait) is inside
     * uv_run(UV_RUN_ONCE), and libuv runs due timers before it polls: a call
     * completed from a timer (curl reads an answer that already arrived)
     * would leave that turn blocking in epoll until some unrelated event.
     * uv_stop makes the poll of this turn non-blocking; libuv clears the
     * flag when that uv_run returns. Only then: outside uv_run the flag
     * would linger and make the next uv_run of anyone return at once.
     * wait_turn is the driver's own, so it is read only by the driver. */
    if (l->driving && pthread_equal(l->driver, pthread_self()) && l->wait_turn)
        uv_stop(&l->uv);
    *done = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* The role can be taken by a synchronous caller: nobody else is meant to
 * drive (no I/O thread), or the I/O thread lent the loop. Called with
 * l->mu held. */
static bool may_borrow(const struct xgw__loop *l) { return !l->thread_up || l->lent; }

/* Let go of the role after a turn of uv_run. Called with l->mu held. The
 * broadcast wakes waiters for the role (a futex call only when some wait);
 * the parked I/O thread reads last_release_ns when its timer is up. */
static void release_locked(struct xgw__loop *l)
{
    l->driving = false;
    if (l->lent)
        l->last_release_ns = uv_hrtime();
    pthread_cond_broadcast(&l->cv);
}

bool xgw__loop_enter_sync(struct xgw__loop *l)
{
    pthread_mutex_lock(&l->mu);
    /* Ask the I/O thread to park, and again if it took the loop back before
     * this thread got to run (its grace period ran out on a busy machine).
     * The wait ends when the loop is lent or the thread is gone (stop). */
    while (l->thread_up && !l->lent) {
        if (!l->want) {
            l->want = true;
            pthread_mutex_unlock(&l->mu);
            uv_async_send(&l->wake);
            pthread_mutex_lock(&l->mu);
            continue;
        }
        pthread_cond_wait(&l->cv, &l->mu);
    }
    bool mine = may_borrow(l) && take_driver(l);
    pthread_mutex_unlock(&l->mu);
    /* Work started outside uv_run (timers armed by the caller's call) must
     * count from now, not from when the loop last turned. */
    if (mine)
        uv_update_time(&l->uv);
    return mine;
}

void xgw__loop_wait(struct xgw__loop *l, const bool *done)
{
    pthread_mutex_lock(&l->mu);
    bool mine = l->driving && pthread_equal(l->driver, pthread_self());
    while (!*done) {
        if (!mine && !(may_borrow(l) && take_driver(l))) {
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        pthread_mutex_unlock(&l->mu);
        /* UV_RUN_ONCE blocks in epoll until something happens; our call
         * is in flight, so a socket event or a curl timer will come. */
        l->wait_turn = true;
        uv_run(&l->uv, UV_RUN_ONCE);
        l->wait_turn = false;
        pthread_mutex_lock(&l->mu);
        /* Let go after each turn, so a thread closing the gateway (or
         * another caller) is not kept out for a whole call. */
        release_locked(l);
        mine = false;
    }
    if (mine)
        release_locked(l);
    pthread_mutex_unlock(&l->mu);
}
