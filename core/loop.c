/*
 * core/loop.c — one libuv loop, a thread-safe task queue woken by uv_async,
 * and the three ways of driving it (I/O thread, host, synchronous caller).
 */
#define _POSIX_C_SOURCE 200809L
#include "loop.h"

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
    pthread_mutex_unlock(&l->mu);
    while (t) {
        struct xgw__task *next = t->next;
        t->next = NULL;
        t->run(t);
        t = next;
    }
    if (atomic_load(&l->stop))
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

static void *thread_main(void *arg)
{
    struct xgw__loop *l = arg;
    pthread_mutex_lock(&l->mu);
    l->driving = true;
    l->driver = pthread_self();
    pthread_mutex_unlock(&l->mu);
    while (!atomic_load(&l->stop))
        uv_run(&l->uv, UV_RUN_DEFAULT);
    pthread_mutex_lock(&l->mu);
    l->driving = false;
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
    pthread_mutex_unlock(&l->mu);
    if (busy)
        return XGW_ERR_INTERNAL; /* a host thread is stepping the loop */
    atomic_store(&l->stop, false);
    if (pthread_create(&l->thread, NULL, thread_main, l) != 0)
        return XGW_ERR_INTERNAL;
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
    *done = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void xgw__loop_wait(struct xgw__loop *l, const bool *done)
{
    pthread_mutex_lock(&l->mu);
    while (!*done) {
        if (!l->has_thread && take_driver(l)) {
            pthread_mutex_unlock(&l->mu);
            /* UV_RUN_ONCE blocks in epoll until something happens; our call
             * is in flight, so a socket event or a curl timer will come. */
            uv_run(&l->uv, UV_RUN_ONCE);
            pthread_mutex_lock(&l->mu);
            l->driving = false;
            pthread_cond_broadcast(&l->cv);
        } else {
            pthread_cond_wait(&l->cv, &l->mu);
        }
    }
    pthread_mutex_unlock(&l->mu);
}
