/* assign.h - the coordinator's pure assignment step: charger index ranges to workers by capacity,
 * balanced, moving as few chargers as possible, and never granting an index that another live
 * worker still holds (a planned move waits until the old owner has let go: no duplicate client
 * IDs at the broker). */
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
    struct rset next;  /* out: its new grant */
};

struct assign_result {
    uint64_t assigned;   /* indexes granted in `next` over all workers */
    uint64_t unassigned; /* fleet indexes granted to no one (surplus over capacity + pending moves) */
    uint64_t surplus;    /* fleet size beyond total capacity */
    uint64_t moved;      /* indexes taken from one worker's grant this step */
};

/* Live workers only. Fills each w[i].next; cur/held are left as they were. */
void assign_compute(struct assign_worker *w, size_t n, uint32_t fleet_size,
                    struct assign_result *res);

#endif
