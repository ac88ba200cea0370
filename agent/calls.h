/* calls.h - the CALLs a charger sends (everything it initiates is a CALL in OCPP-J) and their
 * answers. Against a platform that answers, one CALL is outstanding at a time and the next
 * waits for the CALLRESULT (or call_timeout_s); BootNotification goes first and the rest wait
 * until it is Accepted. Against a bare broker where nobody has ever answered, CALLs go out at
 * once and each unanswered one is counted when it times out, so reporting never stalls.
 * While disconnected, transaction messages queue (offline_queue) and the rest are dropped.
 * [loop] throughout. */
#ifndef CS_CALLS_H
#define CS_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/catalog.h"
#include "cs/err.h"

struct charger_rt;
struct cJSON;

/* What to do with the answer (session.c). */
enum call_cont { K_NONE, K_BOOT, K_AUTHORIZE, K_START_TX, K_STOP_TX };

enum call_flags {
    CALL_TX = 1 << 0,    /* transaction message: kept while offline, resent if unanswered */
    CALL_FRONT = 1 << 1, /* jump the queue (BootNotification after a reconnect) */
};

struct call {
    struct call *next;
    enum msg_id msg;   /* MSG_CUSTOM for user-defined messages */
    char action[64];
    char uid[37];
    char *payload;     /* serialised payload object; owned */
    size_t len;
    int64_t ts_ms;     /* when the message was made (json profile "ts") */
    unsigned flags;
    enum call_cont cont;
    int connector;
    int32_t tx_id;     /* transaction it refers to; patched when the platform confirms one */
    int64_t sent_us;   /* 0 until sent */
    bool cont_done;    /* continuation already ran (bare-broker mode) */
};

/* Builds the payload of m now and queues the CALL. */
int calls_send(struct charger_rt *ch, const struct msg_def *m, const struct msg_ctx *ctx,
               unsigned flags, enum call_cont cont, struct cs_error *err);
/* Queues a CALL whose payload is already serialised (user-defined messages). */
int calls_send_raw(struct charger_rt *ch, const char *action, const char *payload, size_t len,
                   unsigned flags, struct cs_error *err);
/* The platform answered one of our CALLs (CALLRESULT or CALLERROR frame). */
void calls_on_answer(struct charger_rt *ch, int type, const char *uid,
                     const struct cJSON *payload, const char *err_code);
/* Sends what may go now. */
void calls_pump(struct charger_rt *ch);
/* The link dropped: keep transaction messages (the unanswered one goes back to the head),
 * drop the rest. */
void calls_link_down(struct charger_rt *ch);
/* The platform confirmed transaction `local` as `confirmed`: queued messages follow. */
void calls_tx_confirmed(struct charger_rt *ch, int32_t local, int32_t confirmed);
/* Drops a queued, not yet sent CALL chain of a connector's session (authorisation refused). */
void calls_drop_connector(struct charger_rt *ch, int connector, enum msg_id msg);
void calls_free(struct charger_rt *ch);
/* [loop] timer callback: the oldest unanswered CALL timed out. */
void calls_on_timeout(struct charger_rt *ch);
/* Queued CALLs (stats). */
unsigned calls_queued(const struct charger_rt *ch);

#endif
