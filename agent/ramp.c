/* ramp.c - token bucket and waiting queue. [loop] */
#include <event2/event.h>

#include "cs/mem.h"
#include "cs/util.h"
#include "ramp.h"

#define RAMP_TICK_MS 10

struct ramp {
    struct ramp_node head; /* sentinel of a circular list */
    size_t n;
    double rate, tokens;
    int64_t last_us;
    struct event *ev;
    ramp_grant_fn *grant;
    ramp_gate_fn *gate;
    void *privdata;
};

static void on_ramp_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    ramp_kick(privdata);
}

struct ramp *ramp_new(struct event_base *base, ramp_grant_fn *grant, ramp_gate_fn *gate,
                      void *privdata)
{
    struct ramp *r = cs_calloc(1, sizeof(*r));
    r->head.next = r->head.prev = &r->head;
    r->rate = 1;
    r->ev = evtimer_new(base, on_ramp_timer, r);
    r->grant = grant;
    r->gate = gate;
    r->privdata = privdata;
    return r;
}

void ramp_free(struct ramp *r)
{
    if (!r)
        return;
    while (r->n)
        ramp_remove(r, r->head.next);
    event_free(r->ev);
    cs_free(r);
}

void ramp_set_rate(struct ramp *r, double per_s)
{
    r->rate = per_s >= 1 ? per_s : 1;
}

void ramp_remove(struct ramp *r, struct ramp_node *n)
{
    if (!n->queued)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = NULL;
    n->queued = false;
    r->n--;
}

void ramp_enqueue(struct ramp *r, struct ramp_node *n)
{
    if (!n->queued) {
        n->prev = r->head.prev;
        n->next = &r->head;
        r->head.prev->next = n;
        r->head.prev = n;
        n->queued = true;
        r->n++;
    }
    ramp_kick(r);
}

void ramp_kick(struct ramp *r)
{
    int64_t now = cs_mono_us();
    double burst = r->rate / 20 > 1 ? r->rate / 20 : 1; /* at most 50 ms worth at once */
    /* The bucket starts full: the first burst goes at once. */
    r->tokens = r->last_us ? r->tokens + r->rate * (double)(now - r->last_us) / 1e6 : burst;
    if (r->tokens > burst)
        r->tokens = burst;
    r->last_us = now;
    while (r->n && r->tokens >= 1 && r->gate(r->privdata)) {
        struct ramp_node *n = r->head.next;
        ramp_remove(r, n);
        r->tokens -= 1;
        r->grant(n, r->privdata);
    }
    if (r->n && !evtimer_pending(r->ev, NULL)) {
        struct timeval tv = {0, RAMP_TICK_MS * 1000};
        evtimer_add(r->ev, &tv);
    }
}

size_t ramp_queued(const struct ramp *r)
{
    return r->n;
}
