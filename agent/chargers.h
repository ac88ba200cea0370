/* chargers.h - the chargers of a worker: a fixed number of slots, the set sorted by fleet
 * index, the connect ramp they share, their loading from Redis. Chargers leave on a later loop
 * turn than the one that released them, so walking the set never meets a freed one; the layer
 * above hears that indexes came free through one callback, once per turn. [loop] */
#ifndef CS_AGENT_CHARGERS_H
#define CS_AGENT_CHARGERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/rset.h"
#include "cs/stats.h"
#include "holder.h"
#include "transport.h"

struct agent_ctx;
struct charger_rt;
struct chargers;
struct transport;

/* [loop] Whether chargers may connect now (the lease is current, the worker not stopping). */
typedef bool chargers_gate_fn(void *privdata);
/* [loop] Released chargers were freed. */
typedef void chargers_gone_fn(void *privdata);

/* Caller frees with chargers_free. */
/* mqtt: the MQTT transports, by enum tr_mqtt. */
struct chargers *chargers_new(struct agent_ctx *x, struct transport *const trs[TR__COUNT],
                              uint32_t capacity, chargers_gate_fn *gate, chargers_gone_fn *gone,
                              void *privdata);
/* Frees every charger at once (worker exit). */
void chargers_free(struct chargers *s);

/* A new charger for a fleet index, loading; NULL when no slot is free. */
struct charger_rt *chargers_add(struct chargers *s, uint32_t index);
/* Releases it (see crt_release); freed on a later turn. */
void chargers_release(struct chargers *s, struct charger_rt *ch, bool end_tx);
/* Re-reads its overrides (and its saved state while that has not been read). */
void chargers_reload(struct chargers *s, struct charger_rt *ch);

/* The charger with this fleet index (releasing ones included), or NULL. */
struct charger_rt *chargers_find(const struct chargers *s, uint32_t index);
/* Chargers held, releasing ones included; the i-th in index order. */
size_t chargers_count(const struct chargers *s);
struct charger_rt *chargers_at(const struct chargers *s, size_t i);
uint32_t chargers_capacity(const struct chargers *s);
/* The indexes held (releasing ones included) into out. */
void chargers_held(const struct chargers *s, struct rset *out);

/* Connects per second. */
void chargers_set_rate(struct chargers *s, double per_s);
/* The gate may have opened. */
void chargers_kick(struct chargers *s);
/* The set as a holder (holder.h), for the lease. */
struct holder chargers_holder(struct chargers *s);
/* Redis lost its data: every charger writes back its own overrides and saved state. */
void chargers_write_back(struct chargers *s);
/* Counts chargers by link state, statuses and queues into the gauges of st. */
void chargers_gauges(const struct chargers *s, struct worker_stats *st);

#endif
