/* catalog.h - the built-in message tables: the actions a charger sends, each with its payload
 * builder, for OCPP 1.6 (catalog.c) and 2.0.1 (catalog201.c). A message id says what the
 * charger means (boot, a status, a transaction's start...); each version's table says how it
 * is sent. Field names of OCPP payloads appear only in those two files. */
#ifndef CS_CATALOG_H
#define CS_CATALOG_H

#include <stdint.h>

#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/charger.h"
#include "cs/err.h"
#include "cs/kv.h"
#include "cs/ocpp.h"

enum msg_id {
    MSG_BOOT_NOTIFICATION,
    MSG_HEARTBEAT,
    MSG_STATUS_NOTIFICATION,
    MSG_METER_VALUES,
    MSG_AUTHORIZE,
    MSG_START_TRANSACTION,
    MSG_STOP_TRANSACTION,
    MSG_DATA_TRANSFER,
    MSG_FIRMWARE_STATUS,
    MSG_DIAGNOSTICS_STATUS,
    MSG__COUNT,
    MSG_CUSTOM = MSG__COUNT /* a user-defined message from {ns}:catalog */
};

/* Everything a builder may read. Fields a message does not use are ignored. */
struct msg_ctx {
    const struct charger *ch;
    const struct charger_cfg *cfg;
    int64_t now_ms;
    int connector;             /* StatusNotification, MeterValues, StartTransaction */
    const char *context;       /* MeterValues ReadingContext; NULL = Sample.Periodic */
    const struct kvlist *over; /* top-level payload field overrides; may be NULL */
    const char *id_tag;        /* Authorize, StartTransaction, StopTransaction */
    int32_t tx_id;             /* MeterValues (0 = none), StopTransaction */
    double meter_wh;           /* StartTransaction meterStart, StopTransaction meterStop */
    const char *reason;        /* StopTransaction */
    const char *status;        /* Firmware/DiagnosticsStatusNotification */
    const char *vendor_id;     /* DataTransfer (NULL = cfg vendor) */
    const char *message_id;    /* DataTransfer, optional */
    const char *data;          /* DataTransfer, optional */
    bool has_reservation;      /* StartTransaction: it ends reservation_id */
    int32_t reservation_id;
    /* OCPP 2.0.1 only (catalog201.c) */
    const char *tx_key;         /* TransactionEvent transactionId (the charger's, a string) */
    const char *event_type;     /* TransactionEvent: Started, Updated, Ended */
    const char *trigger_reason; /* TransactionEvent triggerReason */
    uint32_t seq_no;            /* TransactionEvent seqNo */
    bool offline;               /* made while the charger was disconnected */
    bool has_remote_start;      /* TransactionEvent: started by RequestStartTransaction */
    int32_t remote_start_id;
    const char *boot_reason; /* BootNotification reason (NULL: PowerUp) */
    bool has_request_id;     /* Firmware/LogStatusNotification: the request it reports on */
    int32_t request_id;
};

struct mw; /* payload writer, private to the tables (common/src/catalog_int.h) */

/* What a message is, for the layers that send it. */
enum msg_traits {
    MT_CONNECTOR = 1 << 0,  /* about one connector: a trigger picks connector 1 by default */
    MT_TX = 1 << 1,         /* a transaction message: kept while offline, resent if unanswered */
    MT_TX_IF_OPEN = 1 << 2, /* ... when it carries an open transaction (MeterValues) */
};

struct msg_def {
    const char *name; /* OCPP action, also the {msg} of topic templates */
    enum msg_id id;
    unsigned traits; /* enum msg_traits */
    void (*build)(struct mw *w, const struct msg_ctx *ctx);
};

/* Where the transactionId the charger chose sits in a built payload, so the one the platform
 * confirms can replace it later (len 0: the payload has none, or an override set it). */
struct msg_marks {
    size_t tx_at, tx_len;
};

const struct msg_def *catalog_get(enum msg_id id);
const struct msg_def *catalog_lookup(const char *name);
/* A message name may become part of a topic ({msg}): [A-Za-z0-9_], 1..CATALOG_NAME_MAX. */
#define CATALOG_NAME_MAX 64
bool catalog_name_valid(const char *name);
/* Appends the payload object to out. Fails (out untouched beyond its old length) when an
 * override does not fit its field's type. */
int catalog_build_payload(const struct msg_def *m, const struct msg_ctx *ctx, struct buf *out,
                          struct cs_error *err);
/* The same, and where its transactionId went (offsets into out->s, relative to the payload's
 * start). marks may be NULL. */
int catalog_build_payload_marked(const struct msg_def *m, const struct msg_ctx *ctx,
                                 struct buf *out, struct msg_marks *marks, struct cs_error *err);
/* The OCPP-J CALL frame [2,"uid","Action",{payload}]. */
int catalog_build_call(const struct msg_def *m, const struct msg_ctx *ctx, const char *uid,
                       struct buf *out, struct cs_error *err);
/* Names of the statuses a Firmware/DiagnosticsStatusNotification may carry. */
bool catalog_firmware_status_valid(const char *s);
bool catalog_diagnostics_status_valid(const char *s);
/* Comma-separated names of the built-in messages (help and errors), from the table. */
const char *catalog_names(void);

/* A version's table: the message for an id (NULL when the version has none), by name, and the
 * names. OCPP 1.6 is the table above; in 2.0.1 (catalog201.c) MSG_START_TRANSACTION and
 * MSG_STOP_TRANSACTION are both a "TransactionEvent" (the builder reads x->event_type; without
 * one, Started and Ended), MSG_DIAGNOSTICS_STATUS is LogStatusNotification, and NotifyEvent and
 * SecurityEventNotification (id MSG_CUSTOM) are found by name only. */
const struct msg_def *catalog_v(enum ocpp_version v, enum msg_id id);
const struct msg_def *catalog_lookup_v(enum ocpp_version v, const char *name);
const char *catalog_names_v(enum ocpp_version v);

/* OCPP 2.0.1: the TransactionEvent message (id MSG_START_TRANSACTION), for every eventType
 * (x->event_type: Started, Updated, Ended; without one, Started). */
const struct msg_def *catalog201_tx_event(void);
/* The 2.0.1 spelling of what the agent keeps in 1.6 terms (static strings):
 * connectorStatus and chargingState of a connector status, stoppedReason of a StopTransaction
 * reason (NULL: Local; unknown: Other), the triggerReason a TransactionEvent gets when
 * x->trigger_reason is NULL, and the LogStatusNotification status of a diagnostics status. */
const char *catalog201_connector_status(enum ocpp_status s);
const char *catalog201_charging_state(enum ocpp_status s);
const char *catalog201_stopped_reason(const char *reason);
const char *catalog201_trigger_reason(const char *event_type, const struct msg_ctx *x);
const char *catalog201_log_status(const char *status);

#endif
