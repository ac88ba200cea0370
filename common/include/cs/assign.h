/* assign.h - the coordinator's pure assignment step: charger index ranges to workers by capacity,
 * moving as few chargers as possible, and never granting an index that another live worker still
 * holds (a planned move waits until the old owner has let go: no duplicate client IDs at the
 * broker).
 *
 * Moves happen for three reasons only: an index has no owner (a worker left, the fleet grew, a
 * capacity was lowered), an index left the fleet (it shrank), or a worker just joined and gets
 * its share from the others (workers are then balanced in proportion to capacity). Otherwise
 * every worker keeps what it has: scaling 1,000 -> 600 drops 601-1000 and moves nobody who
 * keeps a place, even if that leaves the workers unevenly loaded. */
#ifndef CS_ASSIGN_H
#define CS_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "cs/rset.h"

struct assign_worker {
    const char *name;  /* borrowed; ties are broken by name order */
    uint64_t capacity; /* most chargers this worker takes */
    struct rset cur;   /* in: what it is granted now */
    struct rset held;  /* in: what it reports it still runs (grants pending release count here) */
    bool fresh;        /* in: it just joined (no grant recorded, runs nothing): the others give
                        * it its share */
    struct rset next;  /* out: its new grant */
};

struct assign_result {
    uint64_t assigned; /* indexes granted in `next` over all workers */
    uint64_t
        unassigned;   /* fleet indexes granted to no one (surplus over capacity + pending moves) */
    uint64_t surplus; /* fleet size beyond total capacity */
    uint64_t moved;   /* indexes taken from one worker's grant this step, for a fresh one */
    bool rebalanced;  /* a fresh worker with capacity made the others give up their excess */
};

/* Live workers only. Fills each w[i].next; cur/held are left as they were. */
void assign_compute(struct assign_worker *w, size_t n, uint32_t fleet_size,
                    struct assign_result *res);

#endif
