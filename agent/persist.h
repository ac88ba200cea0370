/* persist.h - a charger's live state in {ns}:state:{id}: one field table says what is saved
 * and how it reads back, so a charger continues where its previous owner left off (registers,
 * statuses, cable, open transaction). Changes mark the charger dirty; its state is written
 * once per loop turn, however many changes the turn made. [loop] */
#ifndef CS_AGENT_PERSIST_H
#define CS_AGENT_PERSIST_H

#include "cs/kv.h"

struct charger_rt;

/* The state changed: written on the next loop turn. */
void persist_mark(struct charger_rt *ch);
/* What the platform installed changed (reservations, local list, cache, profiles): written with
 * the state on the next loop turn, through the crt_env's save_installed. */
void persist_mark_installed(struct charger_rt *ch);
/* Writes now if marked (a charger about to be freed). */
void persist_flush(struct charger_rt *ch);
/* Forgets a pending write (a parked charger's state elsewhere may be newer than ours). */
void persist_forget(struct charger_rt *ch);
/* Reads back a saved state hash. */
void persist_restore(struct charger_rt *ch, const struct kvlist *st);

#endif
