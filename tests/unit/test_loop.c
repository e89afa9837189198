/*
 * tests/unit/test_loop.c — the loop's driver role: synchronous callers
 * borrowing the loop from the I/O thread (core/loop.c, "Lending"), several
 * of them at once, the I/O thread taking the loop back, and stopping while
 * the loop is lent. A "call" here is a zero-delay uv timer started by
 * whoever drives, completed from its close callback.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loop.h"
#include "tu_tlsserver.h"

/* Callbacks must never overlap: every callback checks in and out. */
static atomic_int g_in_cb;
static atomic_int g_overlaps;

static void cb_enter(void)
{
    if (atomic_fetch_add(&g_in_cb, 1) != 0)
        atomic_fetch_add(&g_overlaps, 1);
}

static void cb_leave(void) { atomic_fetch_sub(&g_in_cb, 1); }

struct fake_call {
    struct xgw__task task;
    struct xgw__loop *l;
    uv_timer_t timer;
    bool done;
    pthread_t ran_on;  /* the thread the timer fired on */
    bool driver_in_cb; /* that thread was the loop's driver */
};

static void fake_closed(uv_handle_t *h)
{
    struct fake_call *c = h->data;
    xgw__loop_set_done(c->l, &c->done);
}

static void fake_fired(uv_timer_t *t)
{
    cb_enter();
    struct fake_call *c = t->data;
    c->ran_on = pthread_self();
    c->driver_in_cb = xgw__loop_on_loop_thread(c->l);
    uv_close((uv_handle_t *)t, fake_closed);
    cb_leave();
}

/* Runs on whichever thread drives. */
static void fake_run(struct xgw__task *t)
{
    struct fake_call *c = (struct fake_call *)t;
    uv_timer_init(&c->l->uv, &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, fake_fired, 0, 0);
}

/* What xgw_call_sync does: drive for the call when possible, else submit.
 * True when the call completed and its callback ran on the driver. No
 * cmocka assertion here: workers call it from their own threads. */
static bool sync_call(struct xgw__loop *l, struct fake_call *c)
{
    memset(c, 0, sizeof *c);
    c->l = l;
    c->task.run = fake_run;
    if (xgw__loop_enter_sync(l))
        fake_run(&c->task);
    else if (xgw__loop_submit(l, &c->task) != 0)
        return false;
    xgw__loop_wait(l, &c->done);
    return c->done && c->driver_in_cb;
}

/* A task from another thread, to see who drives. */
struct probe {
    struct xgw__task task;
    atomic_bool ran;
    pthread_t ran_on;
};

static void probe_run(struct xgw__task *t)
{
    cb_enter();
    struct probe *p = (struct probe *)t;
    p->ran_on = pthread_self();
    atomic_store(&p->ran, true);
    cb_leave();
}

static bool probe_ran(void *arg) { return atomic_load(&((struct probe *)arg)->ran); }

static void teardown_loop(struct xgw__loop *l)
{
    xgw__loop_take_over(l);
    struct xgw__task *t = xgw__loop_close_queue(l);
    assert_null(t);
    xgw__loop_destroy(l);
}

/* With the I/O thread running, a synchronous caller's call runs on the
 * caller's own thread; once the caller is gone, the I/O thread drives again
 * (a task submitted afterwards runs there, not on the idle caller). */
static void test_borrow_and_take_back(void **state)
{
    (void)state;
    struct xgw__loop l;
    assert_int_equal(xgw__loop_init(&l), 0);
    assert_int_equal(xgw__loop_start(&l), 0);
    struct fake_call c;
    for (int i = 0; i < 50; i++) {
        assert_true(sync_call(&l, &c));
        assert_true(pthread_equal(c.ran_on, pthread_self()));
    }
    /* Not driving between calls: a callback may not think it is. */
    assert_false(xgw__loop_on_loop_thread(&l));
    struct probe p = {.task.run = probe_run};
    assert_int_equal(xgw__loop_submit(&l, &p.task), 0);
    assert_true(tu_wait_for(probe_ran, &p, 10000));
    assert_false(pthread_equal(p.ran_on, pthread_self()));
    /* And the next synchronous call borrows it again. */
    assert_true(sync_call(&l, &c));
    assert_true(pthread_equal(c.ran_on, pthread_self()));
    teardown_loop(&l);
    assert_int_equal(atomic_load(&g_overlaps), 0);
}

struct worker {
    struct xgw__loop *l;
    int n;
    atomic_int completed, failed;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct fake_call c;
    for (int i = 0; i < w->n; i++) {
        if (!sync_call(w->l, &c))
            atomic_fetch_add(&w->failed, 1);
        atomic_fetch_add(&w->completed, 1);
    }
    return NULL;
}

/* Several threads calling synchronously at once, and another thread
 * submitting tasks meanwhile: everything completes, one callback at a time. */
static void test_concurrent_borrowers(void **state)
{
    (void)state;
    struct xgw__loop l;
    assert_int_equal(xgw__loop_init(&l), 0);
    assert_int_equal(xgw__loop_start(&l), 0);
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.l = &l, .n = 300};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 50; i++) {
        struct probe p = {.task.run = probe_run};
        assert_int_equal(xgw__loop_submit(&l, &p.task), 0);
        assert_true(tu_wait_for(probe_ran, &p, 10000));
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(atomic_load(&w[i].completed), 300);
        assert_int_equal(atomic_load(&w[i].failed), 0);
    }
    teardown_loop(&l);
    assert_int_equal(atomic_load(&g_overlaps), 0);
}

static bool worker_started(void *arg) { return atomic_load(&((struct worker *)arg)->completed) >= 20; }

static bool worker_finished(void *arg)
{
    struct worker *w = arg;
    return atomic_load(&w->completed) >= w->n;
}

/* Stopping (as xgw_close does) while a thread keeps calling synchronously
 * on a lent loop does not deadlock: the closing thread ends up the only
 * driver, and the caller's further calls are run by it. */
static void test_take_over_while_lent(void **state)
{
    (void)state;
    struct xgw__loop l;
    assert_int_equal(xgw__loop_init(&l), 0);
    assert_int_equal(xgw__loop_start(&l), 0);
    struct worker w = {.l = &l, .n = 2000};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, worker_main, &w), 0);
    assert_true(tu_wait_for(worker_started, &w, 10000));
    xgw__loop_take_over(&l);
    assert_true(xgw__loop_on_loop_thread(&l));
    while (!worker_finished(&w))
        uv_run(&l.uv, UV_RUN_NOWAIT);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&w.failed), 0);
    assert_null(xgw__loop_close_queue(&l));
    xgw__loop_destroy(&l);
    assert_int_equal(atomic_load(&g_overlaps), 0);
}

/* Without an I/O thread, a synchronous caller drives as before. */
static void test_no_thread(void **state)
{
    (void)state;
    struct xgw__loop l;
    assert_int_equal(xgw__loop_init(&l), 0);
    struct fake_call c;
    assert_true(sync_call(&l, &c));
    assert_true(pthread_equal(c.ran_on, pthread_self()));
    /* xgw_start after that still works: nobody drives between calls. */
    assert_int_equal(xgw__loop_start(&l), 0);
    assert_true(sync_call(&l, &c));
    teardown_loop(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_borrow_and_take_back),
        cmocka_unit_test(test_concurrent_borrowers),
        cmocka_unit_test(test_take_over_while_lent),
        cmocka_unit_test(test_no_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
