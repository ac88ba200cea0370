/* installed.h - what the platform installed on a charger (reservations, the local list and
 * cache, charging profiles), saved in its state hash {ns}:state:{id} as the JSON fields
 * `reservations`, `auth` and `profiles` whenever one changes, and read back with the rest of
 * the state: a charger moved to another worker, or taken over after its worker died, keeps
 * them. [loop] */
#ifndef CS_AGENT_INSTALLED_H
#define CS_AGENT_INSTALLED_H

#include "cs/kv.h"

struct charger_rt;

/* crt_save_fn: HSET (or HDEL when empty) of the three fields in key. */
void installed_save(struct charger_rt *ch, const char *key);
/* From a saved state hash, after persist_restore (the transactions the profiles belong to). */
void installed_restore(struct charger_rt *ch, const struct kvlist *state);

#endif
