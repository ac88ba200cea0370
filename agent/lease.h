/* lease.h - a worker's membership of the fleet: its registration ({ns}:agent:{worker} with a
 * TTL, refreshed every lease_ms/3), the assignment the coordinator writes for it ({ns}:assign,
 * read back with every refresh and whenever the coordinator says it changed), and what happens
 * when the lease is in doubt: while Redis is silent and the lease has lapsed, the chargers are
 * dropped (parked) so that none reconnects under an ID another worker may hold; they come back
 * once the lease is confirmed. Assignments are applied here to what the worker holds
 * (holder.h). [loop] */
#ifndef CS_AGENT_LEASE_H
#define CS_AGENT_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/cfg.h"

struct agent_ctx;
struct holder;
struct lease;

struct lease_hooks {
    /* The first refresh was confirmed: the worker is registered. */
    void (*registered)(void *privdata);
    /* Another live process writes this worker's registration (two agents with one name). */
    void (*duplicate)(void *privdata, const char *other);
};

/* Caller frees with lease_free. hd: what the worker holds (copied); capacity: most chargers
 * it can run. */
struct lease *lease_new(struct agent_ctx *x, const struct holder *hd, uint32_t capacity,
                        const struct lease_hooks *h, void *privdata);
void lease_free(struct lease *l);
/* Refreshes now (after a reconnect, on SIGHUP). */
void lease_refresh(struct lease *l);
/* The coordinator says the assignment changed: read it. The message carries nothing else. */
void lease_poke(struct lease *l);
/* Called every 100 ms: has the lease lapsed while Redis is silent? */
void lease_check(struct lease *l);
/* Chargers may (re)connect: the lease is current and the worker not stopping. */
bool lease_may_connect(const struct lease *l);
/* Released chargers are gone: report the freed indexes soon, start indexes granted again. */
void lease_chargers_gone(struct lease *l);
/* The fleet settings changed (lease_ms, size, id_format). */
void lease_fleet_changed(struct lease *l, const struct fleet_cfg *old);
/* Stopping: release every charger (a planned move) and stop refreshing. */
void lease_stop(struct lease *l);
bool lease_parked(const struct lease *l);

#endif
