/* crt.h - a charger at run time: what each layer keeps of it, side by side. The layers own
 * their parts (link.c the link, calls.c the CALL queue, ccfg.c the config, session.c and
 * behaviour.c the session, persist.c the saved state); this header only lays them out and
 * gives the few getters everyone needs. The functions that drive a whole charger are in
 * charger_rt.h (above the layers). [loop] */
#ifndef CS_AGENT_CRT_H
#define CS_AGENT_CRT_H

#include <stdbool.h>
#include <stdint.h>

#include "calls.h"
#include "cs/cfg.h"
#include "cs/charger.h"
#include "cs/kv.h"
#include "cs/ocpp.h"
#include "cs/util.h"
#include "ctx.h"
#include "defer.h"
#include "link.h"

struct event;
struct charger_rt;

/* [loop] A charger's effective config changed from *old (ccfg.c tells the layer above). */
typedef void crt_cfg_changed_fn(struct charger_rt *ch, const struct charger_cfg *old);

/* [loop] Writes what the platform installed on the charger into its state hash `key`. */
typedef void crt_save_fn(struct charger_rt *ch, const char *key);

/* What every charger of a worker shares. */
struct crt_env {
    struct agent_ctx *x;
    struct link_env link;
    struct calls_env calls;
    crt_cfg_changed_fn *cfg_changed;
    crt_save_fn *save_installed;
};

/* A session waiting for its authorisation. */
struct start_req {
    bool active;
    bool auto_session; /* from sessions_per_h: ends unplugged */
    char id_tag[21];
    double kw, kwh, minutes;
    bool reserved;       /* it uses a reservation: */
    int32_t reservation; /* its id */
    char group[21];      /* the reservation's group the Authorize answer must name, or "" */
};

/* Firmware update in progress (UpdateFirmware). */
struct fw_update {
    int step;              /* 0 idle, 1 Downloading, 2 Downloaded, 3 Installing */
    int64_t next_ms;       /* monotonic time of the next step */
    bool report_installed; /* send Installed after the reboot into the new version */
    bool has_request;      /* OCPP 2.0.1: the UpdateFirmware's requestId */
    int32_t request_id;
    char version[51];
};

/* A diagnostics upload in progress (GetDiagnostics). */
struct diag_upload {
    int step;         /* 0 idle, 1 Uploading, 2 Uploaded */
    int64_t next_ms;  /* monotonic time of the next step */
    bool has_request; /* OCPP 2.0.1: the GetLog's requestId */
    int32_t request_id;
};

/* The session's part (session.c, behaviour.c). */
struct session {
    struct event *beh_ev, *hb_ev, *meter_ev;
    int64_t hb_last_ms, meter_last_ms; /* monotonic */
    int hb_conf_s;                     /* interval from BootNotification.conf */
    bool booted;                       /* BootNotification sent since it was assigned */
    bool force_boot;         /* BootNotification on the next connect whatever the config */
    const char *boot_reason; /* OCPP 2.0.1 BootNotification reason of the next boot (a literal) */
    bool crashed;            /* its saved state says the previous owner died (not a planned move) */
    bool paused;             /* periodic reports paused */
    int64_t arrival_ms[CHARGER_MAX_CONN + 1];       /* monotonic; 0 = none planned */
    int64_t fault_ms;                               /* next random fault; 0 = none */
    int64_t clear_ms[CHARGER_MAX_CONN + 1];         /* when a random fault clears */
    bool inoperative_pending[CHARGER_MAX_CONN + 1]; /* ChangeAvailability Scheduled */
    struct start_req start[CHARGER_MAX_CONN + 1];
    bool auto_tx[CHARGER_MAX_CONN + 1]; /* the open transaction came from sessions_per_h */
    /* OCPP 2.0.1 RequestStartTransaction: its remoteStartId, for the transaction it starts */
    bool remote_pending[CHARGER_MAX_CONN + 1];
    int32_t remote_id[CHARGER_MAX_CONN + 1];
    int64_t boot_retry_ms; /* BootNotification Pending/Rejected: retry then */
    int64_t online_ms;     /* end of a simulated network loss; 0 = until `online` */
    bool reset_on_idle;    /* OCPP 2.0.1 Reset OnIdle: once no transaction runs */
    int64_t reset_ms;      /* monotonic: that reset is due */
    struct fw_update fw;
    struct diag_upload diag;
};

/* The config's part (ccfg.c). */
struct ccfg {
    struct kvlist over, over_rej; /* accepted / rejected {ns}:charger:{id} fields */
    struct charger_cfg *own;      /* effective config when it differs from the base, else NULL */
};

struct charger_rt {
    const struct crt_env *env;
    struct charger m; /* the OCPP model */
    uint32_t slot;
    uint32_t serial; /* identifies this charger in Redis callbacks */
    struct link link;
    struct callq calls;
    struct ccfg cfg;
    struct session s;
    /* What the platform installs on the charger, allocated on first use (most chargers of a
     * fleet never get any): the local list and cache (authz.c), reservations (reserve.c),
     * charging profiles (smart.c). */
    struct authz *az;
    struct resv *rv;
    struct smart *sm;
    bool installed_dirty; /* persist.c: the above changed since it was saved */
    struct cs_rng rng;    /* the charger's own randomness: a fixed fleet seed replays it */
    bool releasing;       /* leaving this worker: freed once disconnected */
    void (*gone)(struct charger_rt *ch); /* charger_rt.c: called once a release is done */
    bool loaded_cfg, loaded_state;
    struct defer_item save_item; /* persist.c: a state write due */
    struct defer_item free_item; /* charger.c: freed on the next turn */
    uint32_t msgs_in, calls_in;  /* per-charger counters (stats_detail) */
};

/* Effective config. */
static inline const struct charger_cfg *crt_cfg(const struct charger_rt *ch)
{
    return ch->cfg.own ? ch->cfg.own : &ch->env->x->base_cfg;
}

static inline enum ocpp_profile crt_profile(const struct charger_rt *ch)
{
    return ocpp_profile_of(crt_cfg(ch)->profile);
}

/* The version the charger speaks now: its config's, taken at each connect (calls.version). */
static inline enum ocpp_version crt_version(const struct charger_rt *ch)
{
    return (enum ocpp_version)ch->calls.version;
}

static inline struct agent_ctx *crt_ctx(const struct charger_rt *ch)
{
    return ch->env->x;
}

/* Real milliseconds for a span of simulated seconds (time_scale). */
static inline int64_t crt_real_ms(const struct charger_rt *ch, double sim_s)
{
    double ms = sim_s * 1000.0 / crt_cfg(ch)->time_scale;
    return ms > 1e12 ? (int64_t)1e12 : (int64_t)ms;
}

#endif
