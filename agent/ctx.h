/* ctx.h - what every layer of a worker shares: the loop, the Redis command connection, the
 * worker's name, its randomness, its stats, the fleet settings and the config every charger
 * starts from. One per worker process, owned by the worker shell (worker.c) and filled by the
 * subsystems above; the layers below read it and call the few services here. [loop] */
#ifndef CS_AGENT_CTX_H
#define CS_AGENT_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/cfg.h"
#include "cs/ids.h"
#include "cs/keys.h"
#include "cs/kv.h"
#include "cs/stats.h"
#include "cs/util.h"

struct event;
struct event_base;
struct rds;
struct jtmpl;
struct sel;
struct defer;

/* A config layer ({ns}:cfg:layer:{name}): the fields it sets on the chargers its selector
 * matches. Owned by livecfg.c; at most LAYERS_MAX are in force. */
#define LAYERS_MAX 64
struct layer {
    char *name;
    double order;
    struct sel *sel;
    struct kvlist acc, rej; /* accepted fields, rejected ones (reported once) */
};

/* User-defined messages ({ns}:catalog), compiled (ucatalog.c). Owned by livecfg.c. */
struct ucatalog {
    struct kvlist src;   /* name -> template source as last loaded */
    struct jtmpl **tmpl; /* parallel to src */
    struct kvlist rej;   /* refused ones, reported once */
};

struct agent_ctx {
    struct event_base *base;
    struct rds *rc; /* commands (not pub/sub) */
    const char *ns;
    char name[96]; /* NAME.wK */
    int slot;
    int64_t started_ms; /* wall clock */
    struct cs_rng rng;
    struct worker_stats *st;
    struct defer *defer; /* work for the next loop turn */

    /* Written by livecfg.c, read below. */
    struct fleet_cfg fleet;
    struct idfmt idf;
    struct charger_cfg base_cfg; /* built-in defaults + {ns}:cfg */
    const struct layer *layers;  /* lowest order first */
    size_t nlayers;
    const struct ucatalog *catalog;
};

/* A Redis key of this worker's namespace into out (CS_KEY_MAX). */
const char *ctx_key(const struct agent_ctx *x, char *out, enum cs_key k, const char *arg);
/* Publishes an event on {ns}:events: {"ts","worker","type",...fields}. */
void ctx_event(struct agent_ctx *x, const char *type, const struct kvlist *fields);
/* Fleet-wide news (a bad value in {ns}:cfg, a broken layer) reaches every worker alike: the
 * first worker of each agent speaks for all of them. */
bool ctx_speaks_for_fleet(const struct agent_ctx *x);

/* A key of ours Redis will not give us (a wrong type, an ACL): a log line and a key_unreadable
 * event naming it. The caller says each distinct problem once. */
void ctx_key_unreadable(struct agent_ctx *x, const char *key, const char *why,
                        const char *consequence);

/* Whose config a rejected value belongs to: privdata of ctx_config_rejected. */
struct reject_scope {
    struct agent_ctx *x;
    const char *scope; /* "cfg", "fleet", "layer:NAME" or a charger ID */
    bool charger;
};
/* cfg_reject_fn: counts, logs and publishes a config_rejected event. */
void ctx_config_rejected(void *privdata, const char *key, const char *val, const char *why);

/* The compiled user-defined message called name, or NULL. */
const struct jtmpl *ctx_catalog_get(const struct agent_ctx *x, const char *name);

/* Arms a one-shot timer delay_ms from now (negative: at once). */
void ctx_arm(struct event *ev, int64_t delay_ms);
/* ctx_arm for a delay many of a worker's timers share (a connection's keepalive tick, a
 * CALL's timeout: a few distinct values, never a computed remainder). libevent keeps the
 * timers of one such duration in a queue (a common timeout): O(1) to add, fire and remove,
 * where its heap walks log2(timers) cold events each time; with thousands of chargers per
 * worker the heap was a tenth of an idle worker's CPU. */
void ctx_arm_shared(struct event *ev, int64_t delay_ms);

#endif
