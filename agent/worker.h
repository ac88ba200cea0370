/* worker.h - one worker process: its loop, its Redis control plane and its chargers.
 * Everything here is owned by the loop thread. */
#ifndef CS_WORKER_H
#define CS_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/cfg.h"
#include "cs/cmd.h"
#include "cs/hwin.h"
#include "cs/ids.h"
#include "cs/keys.h"
#include "cs/kv.h"
#include "cs/opts.h"
#include "cs/rset.h"
#include "cs/stats.h"
#include "cs/util.h"

struct event;
struct event_base;
struct rds;
struct charger_rt;
struct jtmpl;
struct sel;
struct sched;

/* A config layer: the fields it sets on the chargers its selector matches. */
struct layer {
    char *name;
    double order;
    struct sel *sel;
    struct kvlist acc, rej; /* accepted fields, rejected ones (reported once) */
};

struct agent_opts {
    struct cs_common_opts common;
    char name[64];      /* agent name, default: hostname */
    int workers;        /* worker processes */
    int max_chargers;   /* per worker */
    int stop_timeout_ms;
};

struct worker {
    struct event_base *base;
    const struct agent_opts *ao;
    const char *ns;
    char name[96]; /* NAME.wK */
    int slot;
    int ready_fd; /* written once registered; -1 after */
    int64_t started_ms;
    struct cs_rng rng;

    struct rds *rc; /* commands */
    struct rds *rs; /* pub/sub */
    bool notify_ok; /* keyspace notifications enabled */

    /* config */
    struct fleet_cfg fleet;
    struct idfmt idf;
    struct kvlist fleet_acc, fleet_rej;
    struct charger_cfg base_cfg; /* built-in defaults + {ns}:cfg */
    struct kvlist cfg_acc, cfg_rej;
    bool fleet_loaded, cfg_loaded;
    int64_t cfg_written_ms; /* swarm-cli's write of {ns}:cfg not yet read back (stats cfg_us) */

    /* commands: scheduled ones, recently seen ids, the command log position */
    struct sched *scheds;
    char recent[512][CMD_ID_MAX + 1]; /* ids of commands already handled (redelivery) */
    unsigned recent_pos;
    char log_seen[32];                /* last {ns}:cmdlog entry handled, "" = not read yet */
    struct kvlist deferred;           /* commands heard while replies could not be sent */
    struct sel *detail_sel;           /* fleet stats_detail, compiled */
    bool log_catching_up;

    /* config layers ({ns}:layers), lowest order first */
    struct layer *layers;
    size_t nlayers;
    uint64_t layers_gen; /* loads in flight older than this are dropped */

    /* user-defined messages ({ns}:catalog), compiled */
    struct kvlist catalog_src;     /* name -> template source as last loaded */
    struct jtmpl **catalog;        /* parallel to catalog_src */
    struct kvlist catalog_rej;     /* templates reported as broken, to report once */

    /* assignment */
    int64_t epoch;
    struct rset assigned; /* what the coordinator granted */
    bool assign_loaded;

    /* lease */
    int64_t lease_ok_ms;   /* monotonic time of the last confirmed refresh */
    int64_t lease_sent_ms; /* when the refresh in flight was sent */
    bool lease_inflight;
    bool parked;           /* lease lost: chargers dropped until it is confirmed again */

    /* chargers */
    struct charger_rt **slots; /* slot -> charger (NULL = free); capacity = max_chargers */
    uint32_t nslots;
    struct charger_rt **by_index; /* owned chargers sorted by fleet index */
    size_t n;
    uint32_t serial; /* last serial handed to a charger or MQTT client */

    /* connect ramp (token bucket, shared by connects and reconnects) */
    struct charger_rt *q_head, *q_tail;
    size_t q_len;
    double tokens;
    int64_t ramp_last_us;
    struct event *ramp_ev;

    struct worker_stats st;
    struct hwin lat_win[STATS_LAT_N]; /* st.win[i]: the last stats_window_s of each latency */
    int64_t tick_expect_us; /* for loop lag */
    struct event *lease_ev, *stats_ev, *stop_ev, *lag_ev;
    struct event *sigterm_ev, *sigint_ev, *sighup_ev;
    bool stopping;
    int64_t stop_deadline_ms;
};

/* Entry point of a forked worker process; returns its exit code. */
int worker_main(const struct agent_opts *ao, int slot, int ready_fd);

/* ---- used by charger_rt.c ---- */
/* A Redis key of this worker's namespace into out (CS_KEY_MAX). */
const char *worker_key(struct worker *w, char *out, enum cs_key k, const char *arg);
/* The lease is current: chargers may (re)connect. */
bool worker_may_connect(const struct worker *w);
/* Publishes an event on {ns}:events: {"ts","worker","type",...fields}. */
void worker_event(struct worker *w, const char *type, const struct kvlist *fields);
/* Whose config a rejected value belongs to (privdata of worker_config_rejected). */
struct reject_scope {
    struct worker *w;
    const char *scope; /* "cfg", "fleet" or a charger ID */
    bool charger;
};
/* cfg_reject_fn: counts, logs and publishes a config_rejected event. */
void worker_config_rejected(void *privdata, const char *key, const char *val, const char *why);
/* The compiled user-defined message called name, or NULL. */
const struct jtmpl *worker_catalog_get(struct worker *w, const char *name);
/* A charger was freed or released its slot: refresh `held` soon, maybe finish a stop. */
void worker_charger_gone(struct worker *w);

#endif
