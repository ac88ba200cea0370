/* keys.h - Redis key and channel names (DESIGN §3, §4): the one place they are spelled. */
#ifndef CS_KEYS_H
#define CS_KEYS_H

#include <stdbool.h>
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
    K_COORD_ID,    /* string + PX: a coordinator id in use, "token ms" (arg: id) */
    K_CATALOG,     /* hash: user-defined message types, name -> JSON template */
    K_LAYERS,      /* zset: config layer names, score = order (higher wins) */
    K_LAYER,       /* hash: one layer's config and its _select selector (arg: name) */
    K_CMDLOG, /* stream: every command swarm-cli or the coordinator's page sent (id, cmd, to, by) */
    K_EVENTLOG,       /* stream: recent {ns}:events messages, recorded by the leading coordinator */
    K_TOTALS_BASE,    /* hash: fleet figures of worker runs that ended, + _folded.<worker> */
    K_TOTALS_LAST,    /* hash: a worker's last figures as counted in the totals (arg: worker) */
    K_TOTALS_WORKERS, /* set: workers with a K_TOTALS_LAST copy */
    K_HISTORY,        /* stream: the fleet's cumulative figures every history_interval_s */
    K_RUNS,           /* zset: run ids, score = started_ms */
    K_RUN,            /* hash: one run's record (arg: run id) */
    K_RUN_BASE,       /* hash: the fleet's cumulative figures at a run's start (arg: run id) */
    K_RUN_END,        /* hash: ... at its end (arg: run id) */
    K_RUN_HISTORY,    /* stream: a run's {ns}:history entries, copied at its end (arg: run id) */
    CH_CMD,           /* channel: broadcast commands */
    CH_CMD_W,         /* channel: one worker's commands (arg: worker) */
    CH_REPLY,         /* channel: replies */
    CH_EVENTS,        /* channel: events */
    CH_CTL,           /* channel: the coordinator to one worker, "read your assignment" (arg:
                       * worker); carries no data, so a stranger's message only causes a read */
    K__COUNT
};

#define CS_KEY_MAX 256

/* Writes the name of key k in namespace ns into out (CS_KEY_MAX bytes); arg fills the
 * {id}/{worker} part where the key has one. Returns out. */
const char *cs_key(char *out, const char *ns, enum cs_key k, const char *arg);
/* The same without the namespace ("cfg", "charger:CP-000042"): what `reload KEY` takes. */
const char *cs_key_rel(char *out, enum cs_key k, const char *arg);
/* The inverse of cs_key: which key `name` is, given with or without its "ns:" prefix, and the
 * part that fills its {id}/{worker} into arg (argsz bytes; "" for keys without one). False
 * when name is none of them (or an argument is empty or does not fit). */
bool cs_key_parse(const char *ns, const char *name, enum cs_key *k, char *arg, size_t argsz);

/* Field of K_ASSIGN holding the assignment epoch (worker names never start with '_'). */
#define CS_ASSIGN_EPOCH_FIELD "_epoch"
/* Field of a K_LAYER hash holding the layer's selector (config keys never start with '_'). */
#define CS_LAYER_SELECT_FIELD "_select"

#endif
