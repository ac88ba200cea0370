/* charger_rt.h - a charger at run time: the OCPP model plus its MQTT link, timers, outgoing
 * queue and config layers. Owned by the worker's loop thread. */
#ifndef CS_CHARGER_RT_H
#define CS_CHARGER_RT_H

#include <stdbool.h>
#include <stdint.h>

#include "cs/catalog.h"
#include "cs/cfg.h"
#include "cs/charger.h"
#include "cs/kv.h"

struct worker;
struct mqtt_event;

enum link_state {
    LINK_LOADING,    /* reading its overrides and saved state from Redis */
    LINK_IDLE,       /* ready, not queued (waiting for the lease) */
    LINK_QUEUED,     /* waiting for a ramp token */
    LINK_CONNECTING, /* MQTT connect in flight */
    LINK_UP,
    LINK_BACKOFF,    /* waiting to retry after a failure or a drop */
    LINK_CLOSING,    /* graceful DISCONNECT in flight */
    LINK_DISABLED,   /* enabled=0 */
    LINK__COUNT
};

#define OUTQ_CAP 32    /* queued messages per charger; the oldest is dropped beyond */
#define MAX_INFLIGHT 2 /* publishes awaiting completion per charger */

struct outmsg {
    char *topic;
    char *payload;
    size_t len;
    int qos;
    enum msg_id type;
};

struct charger_rt {
    struct worker *w;
    struct charger m;
    uint32_t slot;
    uint32_t serial;    /* identifies this charger in Redis callbacks */
    uint32_t mc_serial; /* identifies the current MQTT client in its events */
    enum link_state link;
    struct mqtt_client *mc;
    bool releasing;        /* leaving this worker: freed once disconnected */
    bool reconnect_after;  /* CLOSING for a config change: connect again */
    bool booted;           /* BootNotification sent since it was assigned */
    bool paused;
    bool loaded_cfg, loaded_state;
    int attempt; /* consecutive failed connects */
    struct event *hb_ev, *meter_ev, *retry_ev;
    int64_t hb_last_ms, meter_last_ms; /* monotonic */
    struct kvlist over, over_rej;      /* accepted / rejected {ns}:charger:{id} fields */
    struct charger_cfg *own;           /* effective config when it has overrides, else NULL */
    struct charger_rt *q_next;
    struct outmsg q[OUTQ_CAP];
    unsigned qh, qn;
    struct {
        int token;
        int64_t t_us;
    } infl[MAX_INFLIGHT];
    int ninfl;
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
/* A fresh snapshot of {ns}:charger:{id} (NULL reply = leave as is). */
void crt_set_overrides(struct charger_rt *ch, const struct kvlist *incoming);
/* The worker's base config changed from old_base. */
void crt_base_changed(struct charger_rt *ch, const struct charger_cfg *old_base);
/* Re-reads {ns}:charger:{id} from Redis. */
void crt_reload(struct charger_rt *ch);

/* Sends a message now (fields in `over` override the payload). */
int crt_send(struct charger_rt *ch, const struct msg_def *m, int connector, const char *context,
             const struct kvlist *over, struct cs_error *err);
/* Sets the status of one connector (or every connector when conn < 0) and reports it. */
int crt_set_status(struct charger_rt *ch, int conn, enum ocpp_status st, enum ocpp_error e,
                   const char *info, struct cs_error *err);
void crt_pause(struct charger_rt *ch, bool paused);

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
