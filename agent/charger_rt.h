/* charger_rt.h - a charger at run time: the OCPP model plus its MQTT link, report timers,
 * publish queue, CALL layer (calls.c), behaviour (session.c) and config layers. Owned by the
 * worker's loop thread. */
#ifndef CS_CHARGER_RT_H
#define CS_CHARGER_RT_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/catalog.h"
#include "cs/cfg.h"
#include "cs/charger.h"
#include "cs/kv.h"
#include "cs/ocpp.h"
#include "cs/util.h"

struct worker;
struct mqtt_event;
struct call;

enum link_state {
    LINK_LOADING,    /* reading its overrides and saved state from Redis */
    LINK_IDLE,       /* ready, not queued (waiting for the lease) */
    LINK_QUEUED,     /* waiting for a ramp token */
    LINK_CONNECTING, /* MQTT connect in flight */
    LINK_UP,
    LINK_BACKOFF,    /* waiting to retry after a failure or a drop */
    LINK_CLOSING,    /* graceful DISCONNECT in flight */
    LINK_DISABLED,   /* enabled=0 */
    LINK_OFFLINE,    /* simulated network loss (`offline`) */
    LINK__COUNT
};

#define OUTQ_CAP 32    /* publishes waiting for the MQTT layer; the oldest is dropped beyond */
#define MAX_INFLIGHT 2 /* publishes awaiting completion per charger */
#define PENDING_MAX 8  /* CALLs sent and not yet answered */

struct outmsg {
    char *topic;
    char *payload;
    size_t len;
    int qos;
    int type; /* enum msg_id, or -1 for answers to the platform */
};

/* A session waiting for its authorisation. */
struct start_req {
    bool active;
    bool auto_session; /* from sessions_per_h: ends unplugged */
    char id_tag[21];
    double kw, kwh, minutes;
};

/* Firmware update in progress (UpdateFirmware). */
struct fw_update {
    int step;            /* 0 idle, 1 Downloading, 2 Downloaded, 3 Installing */
    int64_t next_ms;     /* monotonic time of the next step */
    bool report_installed; /* send Installed after the reboot into the new version */
    char version[51];
};

struct charger_rt {
    struct worker *w;
    struct charger m;
    uint32_t slot;
    uint32_t serial;    /* identifies this charger in Redis callbacks */
    uint32_t mc_serial; /* identifies the current MQTT client in its events */
    enum link_state link;
    struct mqtt_client *mc;
    bool releasing;       /* leaving this worker: freed once disconnected */
    bool parked;          /* dropped with the lease: reconnects once ownership is confirmed */
    bool reconnect_after; /* CLOSING for a config change or a reset: connect again */
    bool force_boot;      /* send BootNotification on the next connect whatever the config */
    bool booted;          /* BootNotification sent since it was assigned */
    bool paused;
    bool dup_next; /* chaos: publish the next message twice */
    bool crashed;  /* its state says the previous owner died (not a planned move) */
    bool loaded_cfg, loaded_state;
    int attempt; /* consecutive failed connects */
    struct event *hb_ev, *meter_ev, *retry_ev;
    int64_t hb_last_ms, meter_last_ms; /* monotonic */
    struct kvlist over, over_rej;      /* accepted / rejected {ns}:charger:{id} fields */
    struct charger_cfg *own;           /* effective config when it has overrides, else NULL */
    struct charger_rt *q_next;
    struct cs_rng rng; /* the charger's own randomness: a fixed fleet seed replays it */
    struct {           /* per-charger counters, written for stats_detail chargers */
        uint32_t msgs_out, msgs_in, connects, conn_lost, calls_in, answers, call_timeouts;
        uint32_t conf_last_us;
    } cs;
    uint32_t seq;      /* CALLs made, for the {seq} placeholder */

    /* publish queue (MQTT layer) */
    struct outmsg q[OUTQ_CAP];
    unsigned qh, qn;
    struct {
        int token;
        int64_t t_us;
    } infl[MAX_INFLIGHT];
    int ninfl;

    /* CALL layer (calls.c) */
    struct call *cq_head, *cq_tail;
    unsigned cq_len;
    struct call *pending[PENDING_MAX];
    int npending;
    bool platform_answers; /* the platform has answered a CALL: one outstanding at a time */
    int64_t probe_until_us; /* after a connect: hold CALLs behind BootNotification until then */
    bool boot_accepted;
    int hb_conf_s;         /* interval from BootNotification.conf (0 = heartbeat_s) */
    struct event *call_ev;

    /* behaviour (session.c) */
    struct event *beh_ev;
    int64_t arrival_ms[CHARGER_MAX_CONN + 1]; /* monotonic; 0 = none planned */
    int64_t fault_ms;                         /* next random fault; 0 = none */
    int64_t clear_ms[CHARGER_MAX_CONN + 1];   /* when a random fault clears */
    bool inoperative_pending[CHARGER_MAX_CONN + 1]; /* ChangeAvailability Scheduled */
    struct start_req start[CHARGER_MAX_CONN + 1];
    bool auto_tx[CHARGER_MAX_CONN + 1]; /* the open transaction came from sessions_per_h */
    int64_t boot_retry_ms;              /* BootNotification Pending/Rejected: retry then */
    int64_t online_ms; /* end of a simulated network loss; 0 = until `online` */
    struct fw_update fw;
};

const char *link_state_name(enum link_state s);

/* Creates the charger for a fleet index and starts loading it. NULL when no slot is free. */
struct charger_rt *crt_add(struct worker *w, uint32_t index);
/* Disconnects cleanly, saves state, then frees (immediately when not connected). */
void crt_release(struct charger_rt *ch);
/* Frees at once (worker teardown). */
void crt_destroy(struct charger_rt *ch);
/* Effective config. */
const struct charger_cfg *crt_cfg(const struct charger_rt *ch);
enum ocpp_profile crt_profile(const struct charger_rt *ch);
/* A fresh snapshot of {ns}:charger:{id}. */
void crt_set_overrides(struct charger_rt *ch, const struct kvlist *incoming);
/* The charger changes one of its own settings (ChangeConfiguration, a firmware install): in
 * force at once, and written to {ns}:charger:{id}, where it is seen, follows the charger to
 * another worker and reads back like an operator's edit. CS_ERR_IO when Redis cannot take
 * the write (nothing changes then). */
int crt_write_override(struct charger_rt *ch, const char *key, const char *value);
/* The worker's config layers changed. */
void crt_layers_changed(struct charger_rt *ch);
/* The worker's base config changed from old_base. */
void crt_base_changed(struct charger_rt *ch, const struct charger_cfg *old_base);
/* Re-reads {ns}:charger:{id} from Redis. */
void crt_reload(struct charger_rt *ch);
void crt_pause(struct charger_rt *ch, bool paused);
/* Writes {ns}:state:{id}. */
void crt_save_state(struct charger_rt *ch);

/* Publishes a frame now (through the MQTT layer's queue). type: enum msg_id or -1. */
int crt_publish(struct charger_rt *ch, const char *topic, char *payload, size_t len, int type,
                struct cs_error *err);
/* Renders a topic template for this charger with {msg} = msg. */
int crt_topic(struct charger_rt *ch, const char *tmpl, const char *msg, struct buf *out,
              struct cs_error *err);
/* Closes the MQTT link: gracefully (DISCONNECT) or abruptly (socket dropped, as a network
 * loss); then reconnects when `reconnect` is set. */
void crt_drop_link(struct charger_rt *ch, bool graceful, bool reconnect);
/* The lease lapsed: drop the link abruptly and stay down; crt_unpark reconnects. */
void crt_park(struct charger_rt *ch);
void crt_unpark(struct charger_rt *ch);
/* Queue for a (re)connect now (end of a simulated network loss). */
void crt_connect_soon(struct charger_rt *ch);
/* Heartbeat period in force (BootNotification.conf interval, else heartbeat_s). */
int crt_heartbeat_s(const struct charger_rt *ch);
/* Re-arms the heartbeat timer after its period changed. */
void crt_reschedule_heartbeat(struct charger_rt *ch);

/* Chaos: a malformed frame, the next message twice, a reconnect without the ramp. */
bool crt_garble_kind_valid(const char *kind);
int crt_garble(struct charger_rt *ch, const char *kind, const char *msg, struct cs_error *err);
int crt_dup_next(struct charger_rt *ch, struct cs_error *err);
int crt_storm(struct charger_rt *ch, struct cs_error *err);

/* Worker plumbing. */
void crt_setup(struct worker *w); /* creates the ramp timer */
void crt_on_mqtt(struct worker *w, const struct mqtt_event *ev);
struct charger_rt *crt_by_serial(struct worker *w, uint64_t cookie);
/* The charger with this fleet index, or NULL. */
struct charger_rt *crt_find(struct worker *w, uint32_t index);
void crt_ramp_kick(struct worker *w);
/* Counts chargers by link state into the stats gauges. */
void crt_gauges(struct worker *w);

#endif
