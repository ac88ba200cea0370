/* calls.h - the CALL queue a charger owns (everything it initiates is a CALL in OCPP-J), with
 * its answer timer. Against a platform that answers, one CALL is outstanding at a time and the
 * next waits for the CALLRESULT (or call_timeout_s); BootNotification goes first and the rest
 * wait until the layer above opens the gate (BootNotification Accepted). Against a bare broker
 * where nobody has ever answered, CALLs go out at once and each unanswered one is counted when
 * it times out, so reporting never stalls. While disconnected, transaction messages queue
 * (offline_queue) and the rest are dropped.
 *
 * How a CALL ended reaches the layer above through the callback of its calls_env, always on a
 * later loop turn (never inside calls_*), so the continuation may send new CALLs freely.
 * [loop] throughout. */
#ifndef CS_AGENT_CALLS_H
#define CS_AGENT_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/catalog.h"
#include "cs/err.h"
#include "defer.h"

struct agent_ctx;
struct callq;
struct charger_cfg;
struct cJSON;
struct event;
struct link;

/* What to do with the answer (the layer above decides what each means). */
enum call_cont { K_NONE, K_BOOT, K_AUTHORIZE, K_START_TX, K_STOP_TX };

enum call_flags {
    CALL_TX = 1 << 0,    /* transaction message: kept while offline, resent if unanswered */
    CALL_FRONT = 1 << 1, /* jump the queue (BootNotification after a reconnect) */
};

/* How a CALL ended. */
enum call_end {
    CE_RESULT,  /* CALLRESULT: payload */
    CE_ERROR,   /* CALLERROR: err_code */
    CE_TIMEOUT, /* no answer within call_timeout_s */
    CE_ASSUMED, /* nobody answers this charger: it goes on as if accepted */
    CE_LATE,    /* an answer after it went on without one (payload; NULL: a CALLERROR) */
};

struct call {
    struct call *next;
    enum msg_id msg; /* MSG_CUSTOM for user-defined messages */
    char action[64];
    char uid[37];
    char *payload; /* serialised payload object; owned */
    size_t len;
    struct msg_marks marks; /* where its transactionId sits in payload */
    int64_t ts_ms;          /* when the message was made (json profile "ts") */
    unsigned flags;
    enum call_cont cont;
    int connector;
    int32_t tx_id;   /* transaction it refers to; replaced when the platform confirms one */
    char id_tag[21]; /* K_AUTHORIZE: the idTag it presents */
    uint8_t version; /* enum ocpp_version it was built in */
    int64_t sent_us; /* 0 until sent */
    bool assumed;    /* went on without an answer (bare broker) */
    /* once ended */
    enum call_end end;
    struct cJSON *answer; /* CE_RESULT / CE_LATE payload; owned */
    char err_code[48];
};

/* [loop] A CALL ended; c and payload are borrowed for the call. */
typedef void calls_end_fn(struct callq *q, const struct call *c);
/* [loop] The effective config of the queue's charger. */
typedef const struct charger_cfg *calls_cfg_fn(const struct callq *q);

/* One per worker. */
struct calls_env {
    struct agent_ctx *x;
    calls_end_fn *on_end;
    calls_cfg_fn *cfg;
};

#define PENDING_MAX 8 /* CALLs sent and not yet answered */

struct callq {
    const struct calls_env *env;
    struct link *link;
    const char *id; /* the charger's ID, borrowed */
    struct call *head, *tail;
    unsigned len;
    struct call *pending[PENDING_MAX];
    int npending;
    struct call *done, *done_tail; /* ended, their continuation due */
    struct defer_item done_defer;
    bool platform_answers;  /* the platform has answered: one outstanding at a time */
    int64_t probe_until_us; /* after a connect: hold CALLs behind BootNotification until then */
    bool accepted;          /* the gate: BootNotification was accepted */
    bool dup_next;          /* chaos: the next CALL goes out twice */
    struct call *fresh;     /* the CALL being queued now, while the queue is pumped */
    int fresh_rc;           /* ... and why it could not be sent */
    char fresh_err[160];
    uint8_t version;                          /* OCPP version its CALLs are built in */
    uint32_t seq;                             /* CALLs made, for the {seq} placeholder */
    uint32_t answers, timeouts, conf_last_us; /* per-charger counters (stats_detail) */
    struct event *timer;
};

void calls_init(struct callq *q, const struct calls_env *env, struct link *link, const char *id);
/* Frees every queued, pending and ended CALL (no continuation runs). */
void calls_fini(struct callq *q);

/* Builds the payload of m now and queues the CALL. CS_OK when it went out or waits its turn;
 * an error when it was dropped (offline and not a transaction message, the queue full, the
 * link's send queue full). */
int calls_send(struct callq *q, const struct msg_def *m, const struct msg_ctx *ctx, unsigned flags,
               enum call_cont cont, struct cs_error *err);
/* Queues a CALL whose payload is already serialised (user-defined messages). */
int calls_send_raw(struct callq *q, const char *action, const char *payload, size_t len,
                   unsigned flags, struct cs_error *err);
/* The platform answered one of our CALLs (CALLRESULT or CALLERROR); takes ownership of
 * payload (may be NULL). */
void calls_on_answer(struct callq *q, int type, const char *uid, struct cJSON *payload,
                     const char *err_code);
/* Sends what may go now. */
void calls_pump(struct callq *q);
/* Opens or closes the gate for everything but BootNotification. */
void calls_set_accepted(struct callq *q, bool accepted);
/* The link dropped: keep transaction messages (the unanswered one goes back to the head),
 * drop the rest; the gate closes. */
void calls_link_down(struct callq *q);
/* The platform confirmed transaction `local` as `confirmed`: queued messages follow. */
void calls_tx_confirmed(struct callq *q, int32_t local, int32_t confirmed);
/* Drops a queued, not yet sent CALL of a connector's session (authorisation refused). */
void calls_drop_connector(struct callq *q, int connector, enum msg_id msg);
/* Queued CALLs (stats). */
unsigned calls_queued(const struct callq *q);
/* The OCPP version CALLs are built in from now on: queued ones of another version (a charger
 * switched version) are dropped and counted (msgs_dropped). */
void calls_set_version(struct callq *q, uint8_t version);
/* Transaction messages among them (kept while offline). */
unsigned calls_queued_tx(const struct callq *q);

#endif
