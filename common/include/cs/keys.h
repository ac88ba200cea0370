/* keys.h - Redis key and channel names (DESIGN §3, §4): the one place they are spelled. */
#ifndef CS_KEYS_H
#define CS_KEYS_H

#include <stddef.h>

enum cs_key {
    K_FLEET,       /* hash: fleet settings */
    K_CFG,         /* hash: charger config defaults */
    K_CHARGER,     /* hash: one charger's overrides (arg: id) */
    K_STATE,       /* hash: one charger's live state (arg: id) */
    K_AGENT,       /* hash + TTL: one worker's registration (arg: worker) */
    K_AGENTS,      /* zset: index of registered workers, score = last refresh ms */
    K_ASSIGN,      /* hash: worker -> index ranges, plus _epoch */
    K_STATS_W,     /* hash: one worker's stats (arg: worker) */
    K_STATS,       /* hash: fleet totals */
    K_STATS_C,     /* hash: one charger's counters, for fleet stats_detail (arg: id) */
    K_TS_W,        /* stream: one worker's stats over time (arg: worker) */
    K_TS,          /* stream: fleet totals over time */
    K_COORDINATOR, /* string + PX: leader lock */
    K_CATALOG,     /* hash: user-defined message types, name -> JSON template */
    K_LAYERS,      /* zset: config layer names, score = order (higher wins) */
    K_LAYER,       /* hash: one layer's config and its _select selector (arg: name) */
    K_CMDLOG,      /* stream: every command swarm-cli sent (id, cmd, to) */
    K_TOTALS_BASE, /* hash: fleet figures of worker runs that ended, + _folded.<worker> */
    K_TOTALS_LAST, /* hash: a worker's last figures as counted in the totals (arg: worker) */
    K_TOTALS_WORKERS, /* set: workers with a K_TOTALS_LAST copy */
    K_HISTORY,     /* stream: the fleet's cumulative figures every history_interval_s */
    K_RUNS,        /* zset: run ids, score = started_ms */
    K_RUN,         /* hash: one run's record (arg: run id) */
    K_RUN_BASE,    /* hash: the fleet's cumulative figures at a run's start (arg: run id) */
    K_RUN_END,     /* hash: ... at its end (arg: run id) */
    K_RUN_HISTORY, /* stream: a run's {ns}:history entries, copied at its end (arg: run id) */
    CH_CMD,        /* channel: broadcast commands */
    CH_CMD_W,      /* channel: one worker's commands (arg: worker) */
    CH_REPLY,      /* channel: replies */
    CH_EVENTS,     /* channel: events */
    K__COUNT
};

#define CS_KEY_MAX 256

/* Writes the name of key k in namespace ns into out (CS_KEY_MAX bytes); arg fills the
 * {id}/{worker} part where the key has one. Returns out. */
const char *cs_key(char *out, const char *ns, enum cs_key k, const char *arg);

/* Field of K_ASSIGN holding the assignment epoch (worker names never start with '_'). */
#define CS_ASSIGN_EPOCH_FIELD "_epoch"
/* Field of a K_LAYER hash holding the layer's selector (config keys never start with '_'). */
#define CS_LAYER_SELECT_FIELD "_select"

#endif
