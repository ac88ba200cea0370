/* link.h - a charger's connection to the platform: the state machine from loading through the
 * connect ramp, connecting, up, backoff with full jitter, graceful close, a simulated network
 * loss, and parking while the worker's lease is in doubt. Below it one transport connection
 * (transport.h); above it the charger, which hears of the link through one callback registered
 * per worker and is never called back from inside a link_* call. [loop] throughout. */
#ifndef CS_AGENT_LINK_H
#define CS_AGENT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/cfg.h"
#include "cs/err.h"
#include "ramp.h"
#include "transport.h"

struct agent_ctx;
struct event;
struct link;

enum link_state {
    LINK_LOADING, /* the charger is reading its overrides and saved state */
    LINK_IDLE,    /* ready, not queued (waiting for the lease, or parked) */
    LINK_QUEUED,  /* waiting for a ramp token */
    LINK_CONNECTING,
    LINK_UP,
    LINK_BACKOFF,  /* waiting to retry after a failure or a drop */
    LINK_CLOSING,  /* graceful close in flight */
    LINK_DISABLED, /* enabled=0 */
    LINK_OFFLINE,  /* simulated network loss (`offline`) */
    LINK__COUNT
};

enum link_ev {
    LINK_EV_UP,     /* connected */
    LINK_EV_FRAME,  /* a frame from the platform (data, len) */
    LINK_EV_LOST,   /* an established connection dropped; the link backs off and retries */
    LINK_EV_CLOSED, /* a link_close finished; a released link stays down, others reconnect */
};

/* [loop] What the link tells its charger. The link may be freed from inside it. */
typedef void link_event_fn(struct link *l, enum link_ev ev, const char *data, size_t len);
/* [loop] The effective config of the link's charger. */
typedef const struct charger_cfg *link_cfg_fn(const struct link *l);

/* One per worker. */
struct link_env {
    struct agent_ctx *x;
    struct ramp *ramp;
    struct transport *tr[TR__COUNT]; /* MQTT by the charger's mqtt_client; ws:// brokers: TR_WS */
    link_event_fn *on_event;
    link_cfg_fn *cfg;
};

struct link {
    const struct link_env *env;
    const char *id; /* the charger's ID, borrowed for the link's life */
    uint32_t index;
    enum link_state state;
    struct transport *tr;
    struct tr_conn *conn;
    /* A connect given up before it resolved (offline, parked while connecting): it finishes
     * and says goodbye, and the next connect waits for its end. The broker may still accept
     * a CONNECT it has queued; one behind it with the same client ID would be kicked. */
    struct transport *old_tr;
    struct tr_conn *old;
    struct ramp_node rn;
    struct event *retry_ev;
    int attempt;   /* consecutive failed connects */
    bool parked;   /* dropped with the lease: reconnects once ownership is confirmed */
    bool released; /* leaving the worker: never reconnects */
    bool storm;    /* closing for a storm: reconnects past the ramp once closed */
    uint32_t connects, lost, sent; /* per-charger counters (stats_detail) */
};

const char *link_state_name(enum link_state s);

void link_init(struct link *l, const struct link_env *env, const char *id, uint32_t index);
/* Drops the connection at once and stops every timer. */
void link_fini(struct link *l);
/* The charger is loaded: queue for a connect (or stay disabled). */
void link_start(struct link *l);
/* Queue for a ramp token, or stay disabled when enabled=0. */
void link_want(struct link *l);
/* Sends a frame; CS_ERR_STATE (counted as dropped) when the link is not up. */
int link_send(struct link *l, enum tr_kind kind, const char *action, const char *frame, size_t len,
              struct cs_error *err);

/* Each of these returns true when the link was up: the caller then does what a charger does
 * when its link goes down (the link emits nothing for them). */
/* Graceful: what is queued goes out, then goodbye; LINK_EV_CLOSED follows (or at once, a
 * false return and nothing to wait for, when not connected: the link re-queues itself unless
 * released). */
bool link_close(struct link *l, int timeout_ms);
/* As a network loss: the connection goes now (one still connecting is finished and closed
 * first: the next connect waits for it); reconnects (through the ramp) when asked. */
bool link_drop(struct link *l, bool reconnect);
/* The lease lapsed: drop and stay down until link_unpark. */
bool link_park(struct link *l);
void link_unpark(struct link *l);
/* Simulated network loss until link_online. */
bool link_offline(struct link *l);
/* Back now: from offline, idle or backoff, through the ramp. */
void link_online(struct link *l);
/* Chaos: reconnect without waiting for a ramp token. CS_ERR_NOOP when not connected. */
int link_storm(struct link *l, bool *was_up, struct cs_error *err);
/* Leaving the worker: never reconnects again. True while a graceful close is under way
 * (LINK_EV_CLOSED follows); false when nothing is left to wait for. */
bool link_release(struct link *l, int timeout_ms);
/* The worker's ramp grants a token with this (ramp_grant_fn). */
void link_on_token(struct ramp_node *n, void *privdata);

#endif
