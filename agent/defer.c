/* defer.c - a FIFO of embedded items, run by a zero-delay timer: libevent runs due timers
 * after it has polled the sockets, so the queue runs on the next loop turn, never inside the
 * callback that queued the work. [loop] */
#include <event2/event.h>

#include "cs/mem.h"
#include "defer.h"

struct defer {
    struct event *ev;
    struct defer_item head; /* sentinel of a circular list */
    unsigned n;
    unsigned gen; /* items queued now run in turn `gen` */
};

static void kick(struct defer *d)
{
    static const struct timeval now = {0, 0};
    if (!evtimer_pending(d->ev, NULL))
        evtimer_add(d->ev, &now);
}

static void unlink_item(struct defer *d, struct defer_item *it)
{
    it->prev->next = it->next;
    it->next->prev = it->prev;
    it->next = it->prev = NULL;
    it->queued = false;
    d->n--;
}

static void on_defer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct defer *d = privdata;
    unsigned turn = d->gen++; /* what is queued from here on waits for the next turn */
    while (d->head.next != &d->head && d->head.next->gen == turn) {
        struct defer_item *it = d->head.next;
        unlink_item(d, it);
        it->fn(it->privdata);
    }
    if (d->n)
        kick(d);
}

struct defer *defer_new(struct event_base *base)
{
    struct defer *d = cs_calloc(1, sizeof(*d));
    d->head.next = d->head.prev = &d->head;
    d->ev = evtimer_new(base, on_defer, d);
    return d;
}

void defer_free(struct defer *d)
{
    if (!d)
        return;
    while (d->head.next != &d->head)
        unlink_item(d, d->head.next);
    event_free(d->ev);
    cs_free(d);
}

void defer_add(struct defer *d, struct defer_item *it, defer_fn *fn, void *privdata)
{
    if (it->queued)
        return;
    it->fn = fn;
    it->privdata = privdata;
    it->gen = d->gen;
    it->queued = true;
    it->prev = d->head.prev;
    it->next = &d->head;
    d->head.prev->next = it;
    d->head.prev = it;
    d->n++;
    kick(d);
}

void defer_cancel(struct defer *d, struct defer_item *it)
{
    if (it->queued)
        unlink_item(d, it);
}

unsigned defer_pending(const struct defer *d)
{
    return d->n;
}
