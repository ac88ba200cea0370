/* livecfg.h - a worker's live config: the fleet settings ({ns}:fleet), the chargers' base
 * ({ns}:cfg), the config layers ({ns}:layers, {ns}:cfg:layer:*), the user-defined messages
 * ({ns}:catalog) and the chargers' own hashes ({ns}:charger:*). One table of these keys drives
 * the keyspace subscriptions, the dispatch of their notifications and the `reload` verb. What
 * it loads goes into the agent_ctx; who must react hears of it through the hooks. [loop] */
#ifndef CS_AGENT_LIVECFG_H
#define CS_AGENT_LIVECFG_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/cfg.h"
#include "cs/err.h"
#include "cs/kv.h"

struct agent_ctx;
struct livecfg;
struct rds;

struct livecfg_hooks {
    /* The fleet settings changed from *old. */
    void (*fleet_changed)(void *privdata, const struct fleet_cfg *old);
    /* The base config changed from *old_base (NULL: only the layers changed). */
    void (*chargers_changed)(void *privdata, const struct charger_cfg *old_base);
    /* {ns}:charger:{id} changed (index), or all of them may have (index 0). */
    void (*charger_reload)(void *privdata, uint32_t index);
};

/* Caller frees with livecfg_free. db: the Redis database (keyspace channel names). */
struct livecfg *livecfg_new(struct agent_ctx *x, int db, const struct livecfg_hooks *h,
                            void *privdata);
void livecfg_free(struct livecfg *lc);
/* Subscribes the pub/sub connection to the keyspace notifications of every live key. */
void livecfg_subscribe(struct livecfg *lc, struct rds *rs);
/* A pub/sub message: true when it was a keyspace notification of ours (handled). */
bool livecfg_on_message(struct livecfg *lc, const char *channel);
/* Everything again (after a reconnect, on SIGHUP); turns keyspace notifications on. */
void livecfg_load_all(struct livecfg *lc);
/* [loop] A reload's loads are all in: errors maps each key that could not be read to why
 * (borrowed for the call; empty when all went well). */
typedef void livecfg_done_fn(void *privdata, const struct kvlist *errors);

/* The `reload [KEY]` verb: KEY with or without the namespace; NULL for everything. written_ms:
 * when the sender wrote it (config-apply latency), 0 if unknown. done runs once every load it
 * issued is in (never inside this call... unless nothing could be issued). CS_ERR_UNKNOWN
 * when KEY is not a live key (err names the ones that are; done does not run). */
int livecfg_reload(struct livecfg *lc, const char *key, int64_t written_ms, livecfg_done_fn *done,
                   void *privdata, struct cs_error *err);
/* Whether `reload KEY` takes KEY (NULL: everything); err names the keys it takes. */
bool livecfg_key_valid(const struct livecfg *lc, const char *key, struct cs_error *err);
/* Whether KEY names one charger's hash ({ns}:charger:ID), and its index. */
bool livecfg_charger_key(const struct livecfg *lc, const char *key, uint32_t *index);
/* Redis lost its data: writes back the fleet settings, the base config, the layers and the
 * catalog as this worker has them in force (what was refused stays out). */
void livecfg_write_back(struct livecfg *lc);
/* Whether the fleet hash this worker read had fields. */
bool livecfg_has_data(const struct livecfg *lc);
/* Whether fleet and cfg have been read at least once. */
bool livecfg_ready(const struct livecfg *lc);

#endif
