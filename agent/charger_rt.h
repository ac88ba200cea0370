/* charger_rt.h - a whole charger: created for a fleet index, loaded from Redis (its overrides
 * and saved state), connected, steered, released. It wires its layers together: link events go
 * to the session and the CALL layer, platform frames to the downlink, config changes to
 * whoever they concern. The charger set (chargers.c) owns the chargers. [loop] */
#ifndef CS_AGENT_CHARGER_RT_H
#define CS_AGENT_CHARGER_RT_H

#include <stdbool.h>
#include <stdint.h>

#include "crt.h"

/* [loop] A released charger is done (disconnected, state saved): free it. */
typedef void crt_gone_fn(struct charger_rt *ch);

/* Fills env with the chargers' callbacks (link events, CALL endings, config changes). */
void crt_env_init(struct crt_env *env, struct agent_ctx *x, struct ramp *ramp,
                  struct transport *const trs[TR__COUNT]);

/* Sets up a charger in *ch (zeroed memory) for a fleet index; it starts in LINK_LOADING. */
void crt_init(struct charger_rt *ch, const struct crt_env *env, uint32_t slot, uint32_t serial,
              uint32_t index, uint64_t seed);
/* Frees what the charger holds: the link drops at once; a state write still due is made. */
void crt_fini(struct charger_rt *ch);

/* Loading: a fresh {ns}:charger:{id} (also every later reload), its saved state (once). When
 * both are in, it queues for a connect. */
void crt_overrides(struct charger_rt *ch, const struct kvlist *over);
void crt_restore(struct charger_rt *ch, const struct kvlist *state);

/* Leaving the worker. With end_tx its open transactions end first (StopTransaction, reason
 * Local); its state is saved (unless parked: its state elsewhere may be newer), then it
 * disconnects. Returns true when it is done at once; otherwise gone(ch) runs once it is. */
bool crt_release(struct charger_rt *ch, bool end_tx, crt_gone_fn *gone);
/* The lease lapsed: drop the link and stay down; crt_unpark reconnects. */
void crt_park(struct charger_rt *ch);
void crt_unpark(struct charger_rt *ch);
void crt_pause(struct charger_rt *ch, bool paused);

#endif
