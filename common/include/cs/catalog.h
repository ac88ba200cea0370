/* catalog.h - the built-in message table: OCPP 1.6 actions a charger sends, each with its
 * payload builder. Field names of OCPP payloads appear only in catalog.c. */
#ifndef CS_CATALOG_H
#define CS_CATALOG_H

#include <stdint.h>

#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/charger.h"
#include "cs/err.h"
#include "cs/kv.h"

enum msg_id {
    MSG_BOOT_NOTIFICATION,
    MSG_HEARTBEAT,
    MSG_STATUS_NOTIFICATION,
    MSG_METER_VALUES,
    MSG__COUNT
};

/* Everything a builder may read. */
struct msg_ctx {
    const struct charger *ch;
    const struct charger_cfg *cfg;
    int64_t now_ms;
    int connector;             /* StatusNotification / MeterValues: which connector */
    const char *context;       /* MeterValues ReadingContext; NULL = Sample.Periodic */
    const struct kvlist *over; /* top-level payload field overrides; may be NULL */
};

struct mw; /* payload writer, private to catalog.c */

struct msg_def {
    const char *name; /* OCPP action, also the {msg} of topic templates */
    enum msg_id id;
    void (*build)(struct mw *w, const struct msg_ctx *ctx);
};

const struct msg_def *catalog_get(enum msg_id id);
const struct msg_def *catalog_lookup(const char *name);
/* Appends the OCPP-J CALL frame [2,"uid","Action",{payload}] to out. Fails (out untouched
 * beyond its old length) when an override does not fit its field's type. */
int catalog_build_call(const struct msg_def *m, const struct msg_ctx *ctx, const char *uid,
                       struct buf *out, struct cs_error *err);
/* Comma-separated names of the built-in messages (help and errors). */
const char *catalog_names(void);

#endif
