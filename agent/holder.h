/* holder.h - what a worker holds, as its lease and assignment see it: indexes of the fleet,
 * added when the coordinator grants them and released when it takes them away (on a later
 * loop turn: the holder says when they are gone). The charger set (chargers.c) is one holder;
 * the control-plane simulation's counters (bench/cpsim.c) are another. [loop] */
#ifndef CS_AGENT_HOLDER_H
#define CS_AGENT_HOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/rset.h"

/* Whether the holder of index should end its open transactions as it leaves. */
typedef bool holder_ends_tx_fn(void *privdata, uint32_t index);

struct holder_ops {
    /* Indexes held, those on their way out included. */
    size_t (*count)(void *h);
    void (*held)(void *h, struct rset *out);
    /* Takes index; false when there is no room. */
    bool (*add)(void *h, uint32_t index);
    /* Releases every index not in keep (NULL: all of them); ends_tx decides per index. */
    void (*release_outside)(void *h, const struct rset *keep, holder_ends_tx_fn *ends_tx,
                            void *privdata);
    /* The lease lapsed: drop every connection and stay down; how many were dropped. */
    size_t (*park)(void *h);
    /* The lease is back: how many parked ones come back. */
    size_t (*unpark)(void *h);
    /* Connects may happen now. */
    void (*kick)(void *h);
    /* Those whose config or state could not be read yet try again. */
    void (*retry_loading)(void *h);
};

struct holder {
    const struct holder_ops *ops;
    void *h;
};

#endif
