/*
 * core/evqueue.c — a bounded queue that hands stream events from the loop
 * thread to a consumer thread (include/xgw/stream.h, xgw_evq_*).
 *
 * Stream callbacks run on the loop thread and must not block it. A bot
 * whose strategy runs on its own thread subscribes with xgw_evq_push as the
 * callback: each event is deep-copied into one malloc'd block and queued;
 * the consumer pops copies at its own pace. When the consumer falls behind
 * and the queue is full, nothing waits: a BOOK event replaces the queued
 * book of the same instance and symbol (a book event is the whole top of
 * the book, so the consumer sees fewer updates but never a book with a
 * hole), anything else is dropped, and both are counted.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xgw/stream.h"

struct held {
    struct xgw_event ev;
    union {
        struct xgw_ticker ticker;
        struct xgw_trade trade;
        struct xgw_order order;
        struct xgw_balance balance;
        struct xgw_position position;
    } p;
    /* then: bids, asks, exchange, symbol, reason */
};

struct xgw_evq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct held **ring;
    size_t cap, head, n;
    struct held *current; /* the last popped event, freed at the next pop */
    struct xgw_evq_stats st;
};

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

static size_t slen(const char *s) { return s ? strlen(s) + 1 : 0; }

static struct held *copy_event(const struct xgw_event *ev)
{
    size_t nb = ev->bids ? ev->n_bids : 0, na = ev->asks ? ev->n_asks : 0;
    size_t total = ALIGN8(sizeof(struct held)) + (nb + na) * sizeof(struct xgw_level) + slen(ev->exchange) +
                   slen(ev->symbol) + slen(ev->reason);
    char *block = malloc(total);
    if (!block)
        return NULL;
    struct held *h = (struct held *)(void *)block;
    h->ev = *ev;
    h->ev.ticker = NULL;
    h->ev.trade = NULL;
    h->ev.order = NULL;
    h->ev.balance = NULL;
    h->ev.position = NULL;
    if (ev->ticker)
        h->p.ticker = *ev->ticker, h->ev.ticker = &h->p.ticker;
    else if (ev->trade)
        h->p.trade = *ev->trade, h->ev.trade = &h->p.trade;
    else if (ev->order)
        h->p.order = *ev->order, h->ev.order = &h->p.order;
    else if (ev->balance)
        h->p.balance = *ev->balance, h->ev.balance = &h->p.balance;
    else if (ev->position)
        h->p.position = *ev->position, h->ev.position = &h->p.position;
    char *p = block + ALIGN8(sizeof(struct held));
    struct xgw_level *lv = (struct xgw_level *)(void *)p;
    if (nb)
        memcpy(lv, ev->bids, nb * sizeof *lv);
    if (na)
        memcpy(lv + nb, ev->asks, na * sizeof *lv);
    h->ev.bids = nb ? lv : NULL;
    h->ev.n_bids = nb;
    h->ev.asks = na ? lv + nb : NULL;
    h->ev.n_asks = na;
    p += (nb + na) * sizeof *lv;
    const char **strs[] = {&h->ev.exchange, &h->ev.symbol, &h->ev.reason};
    const char *src[] = {ev->exchange, ev->symbol, ev->reason};
    for (size_t i = 0; i < 3; i++) {
        if (!src[i])
            continue;
        size_t l = strlen(src[i]) + 1;
        memcpy(p, src[i], l);
        *strs[i] = p;
        p += l;
    }
    return h;
}

struct xgw_evq *xgw_evq_new(size_t max_events)
{
    if (max_events == 0)
        return NULL;
    struct xgw_evq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): ring holds pointers, sizeof *ring is one */
    q->ring = calloc(max_events, sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return NULL;
    }
    q->cap = max_events;
    q->st.max = max_events;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_condattr_destroy(&ca);
    return q;
}

void xgw_evq_free(struct xgw_evq *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n; i++)
        free(q->ring[(q->head + i) % q->cap]);
    free(q->current);
    free(q->ring);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}

static bool same_book(const struct held *a, const struct xgw_event *ev)
{
    return a->ev.type == XGW_EV_BOOK && a->ev.exchange && ev->exchange && !strcmp(a->ev.exchange, ev->exchange) &&
           a->ev.symbol && ev->symbol && !strcmp(a->ev.symbol, ev->symbol);
}

void xgw_evq_push(void *user, const struct xgw_event *ev)
{
    struct xgw_evq *q = user;
    if (!q || !ev)
        return;
    struct held *h = copy_event(ev);
    pthread_mutex_lock(&q->mu);
    if (!h) {
        q->st.dropped++; /* out of memory: counted like a full queue */
    } else if (q->n < q->cap) {
        q->ring[(q->head + q->n) % q->cap] = h;
        q->n++;
        q->st.pushed++;
        pthread_cond_signal(&q->cv);
    } else {
        size_t i = 0;
        if (ev->type == XGW_EV_BOOK)
            while (i < q->n && !same_book(q->ring[(q->head + i) % q->cap], ev))
                i++;
        if (ev->type == XGW_EV_BOOK && i < q->n) {
            /* the newer top of book supersedes the queued one in its place */
            struct held **slot = &q->ring[(q->head + i) % q->cap];
            free(*slot);
            *slot = h;
            q->st.coalesced++;
        } else {
            free(h);
            q->st.dropped++;
        }
    }
    pthread_mutex_unlock(&q->mu);
}

int xgw_evq_pop(struct xgw_evq *q, const struct xgw_event **out, int timeout_ms)
{
    if (out)
        *out = NULL;
    if (!q || !out)
        return -1;
    pthread_mutex_lock(&q->mu);
    free(q->current);
    q->current = NULL;
    if (q->n == 0 && timeout_ms != 0) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        if (timeout_ms > 0) {
            until.tv_sec += timeout_ms / 1000;
            until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
        }
        while (q->n == 0) {
            int rc = timeout_ms < 0 ? pthread_cond_wait(&q->cv, &q->mu) : pthread_cond_timedwait(&q->cv, &q->mu, &until);
            if (rc == ETIMEDOUT)
                break;
        }
    }
    int got = 0;
    if (q->n > 0) {
        q->current = q->ring[q->head];
        q->ring[q->head] = NULL;
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->st.popped++;
        *out = &q->current->ev;
        got = 1;
    }
    pthread_mutex_unlock(&q->mu);
    return got;
}

void xgw_evq_stats(struct xgw_evq *q, struct xgw_evq_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    *out = q->st;
    out->depth = q->n;
    pthread_mutex_unlock(&q->mu);
}
