/* defer.h - work for the next loop turn. Whatever would re-enter the structure being walked (a
 * charger gone while an assignment is applied, an answer's continuation while the CALL queue
 * is pumped, a state write for every change in a batch) is queued here and runs once the
 * current callback has returned, in the order it was queued. [loop] */
#ifndef CS_AGENT_DEFER_H
#define CS_AGENT_DEFER_H

#include <stdbool.h>

struct event_base;
struct defer;

typedef void defer_fn(void *privdata);

/* Embedded in its owner; zeroed memory is an idle item. */
struct defer_item {
    struct defer_item *prev, *next;
    defer_fn *fn;
    void *privdata;
    unsigned gen; /* the turn it was queued for */
    bool queued;
};

/* Caller frees with defer_free. */
struct defer *defer_new(struct event_base *base);
/* Drops what is still queued (nothing runs). */
void defer_free(struct defer *d);
/* Queues it once: a second add before it ran changes nothing. Work added while the queue runs
 * waits for the next turn. */
void defer_add(struct defer *d, struct defer_item *it, defer_fn *fn, void *privdata);
/* Unqueues it (its owner is going away). */
void defer_cancel(struct defer *d, struct defer_item *it);
/* Items waiting. */
unsigned defer_pending(const struct defer *d);

#endif
