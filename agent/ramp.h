/* ramp.h - the connect ramp of a worker: a token bucket (ramp_per_s, bursts of at most 50 ms
 * worth) in front of a FIFO of links waiting to connect, first come first served, shared by
 * first connects and reconnects. A gate from above (the lease is current, the worker is not
 * stopping) holds every grant. [loop] */
#ifndef CS_AGENT_RAMP_H
#define CS_AGENT_RAMP_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct ramp;

/* Embedded in what waits. */
struct ramp_node {
    struct ramp_node *prev, *next;
    bool queued;
};

/* [loop] n has a token and has left the queue: connect now. */
typedef void ramp_grant_fn(struct ramp_node *n, void *privdata);
/* [loop] Whether grants may happen now. */
typedef bool ramp_gate_fn(void *privdata);

/* Caller frees with ramp_free. */
struct ramp *ramp_new(struct event_base *base, ramp_grant_fn *grant, ramp_gate_fn *gate,
                      void *privdata);
void ramp_free(struct ramp *r);
/* Connects per second (at least 1). */
void ramp_set_rate(struct ramp *r, double per_s);
/* Appends n (no-op when queued) and grants what the bucket allows. */
void ramp_enqueue(struct ramp *r, struct ramp_node *n);
void ramp_remove(struct ramp *r, struct ramp_node *n);
/* Refills the bucket and grants; call when the gate may have opened. */
void ramp_kick(struct ramp *r);
size_t ramp_queued(const struct ramp *r);

#endif
