/* catalog201.c - built-in OCPP 2.0.1 messages and their payload builders, and the per-version
 * table lookups. Ids are the semantic ids of enum msg_id; the 1.6 status, stop reason and
 * firmware/diagnostics status names the agent keeps are mapped here to their 2.0.1 spelling. */
#include <stdio.h>
#include <string.h>

#include "cs/buf.h"
#include "cs/catalog.h"
#include "cs/charger.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/util.h"

#include "catalog_int.h"

#define ID_TOKEN_MAX 36          /* IdTokenType.idToken */
#define ID_TOKEN_TYPE "ISO14443" /* IdTokenEnumType: an RFID card, as the 1.6 idTag */

/* ---- mappings ---------------------------------------------------------------------------- */

/* StatusNotification connectorStatus (ConnectorStatusEnumType) of a 1.6 connector status. */
static const char *const connector_status[ST__COUNT] = {
    [ST_AVAILABLE] = "Available",   [ST_PREPARING] = "Occupied",      [ST_CHARGING] = "Occupied",
    [ST_SUSPENDED_EV] = "Occupied", [ST_SUSPENDED_EVSE] = "Occupied", [ST_FINISHING] = "Occupied",
    [ST_RESERVED] = "Reserved",     [ST_UNAVAILABLE] = "Unavailable", [ST_FAULTED] = "Faulted",
};

/* TransactionEvent transactionInfo.chargingState (ChargingStateEnumType). */
static const char *const charging_state[ST__COUNT] = {
    [ST_AVAILABLE] = "Idle",
    [ST_PREPARING] = "EVConnected",
    [ST_CHARGING] = "Charging",
    [ST_SUSPENDED_EV] = "SuspendedEV",
    [ST_SUSPENDED_EVSE] = "SuspendedEVSE",
    [ST_FINISHING] = "EVConnected",
    [ST_RESERVED] = "Idle",
    [ST_UNAVAILABLE] = "Idle",
    [ST_FAULTED] = "Idle",
};

/* An Ended TransactionEvent: the 1.6 StopTransaction reason the agent keeps, as stoppedReason
 * (ReasonEnumType) and the triggerReason (TriggerReasonEnumType) that goes with it. The last
 * rows are 2.0.1 reasons a session limit gives, passed through. Anything else: Other,
 * AbnormalCondition. */
static const struct {
    const char *v16, *stopped, *trigger;
} stop_reasons[] = {
    {"Local", "Local", "StopAuthorized"},
    {"Remote", "Remote", "RemoteStop"},
    {"EVDisconnected", "EVDisconnected", "EVDeparted"},
    {"EmergencyStop", "EmergencyStop", "AbnormalCondition"},
    {"HardReset", "ImmediateReset", "ResetCommand"},
    {"SoftReset", "ImmediateReset", "ResetCommand"},
    {"Reboot", "Reboot", "ResetCommand"},
    {"PowerLoss", "PowerLoss", "AbnormalCondition"},
    {"DeAuthorized", "DeAuthorized", "Deauthorized"},
    {"UnlockCommand", "Other", "UnlockCommand"}, /* 2.0.1 has no such stoppedReason */
    {"Other", "Other", "AbnormalCondition"},
    {"EnergyLimitReached", "EnergyLimitReached", "EnergyLimitReached"},
    {"TimeLimitReached", "TimeLimitReached", "TimeLimitReached"},
};

/* LogStatusNotification status (UploadLogStatusEnumType) of a 1.6 diagnostics status; other
 * names pass through. Every 1.6 firmware status is spelt the same in FirmwareStatusEnumType. */
static const struct {
    const char *v16, *v201;
} log_statuses[] = {
    {"Idle", "Idle"},
    {"Uploading", "Uploading"},
    {"Uploaded", "Uploaded"},
    {"UploadFailed", "UploadFailure"},
};

static int stop_row(const char *reason)
{
    for (size_t i = 0; i < ARRAY_SIZE(stop_reasons); i++)
        if (strcmp(stop_reasons[i].v16, reason) == 0)
            return (int)i;
    return -1;
}

const char *catalog201_connector_status(enum ocpp_status s)
{
    return (unsigned)s < ST__COUNT ? connector_status[s] : "Unavailable";
}

const char *catalog201_charging_state(enum ocpp_status s)
{
    return (unsigned)s < ST__COUNT ? charging_state[s] : "Idle";
}

const char *catalog201_stopped_reason(const char *reason)
{
    int i = stop_row(reason ? reason : "Local");
    return i < 0 ? "Other" : stop_reasons[i].stopped;
}

const char *catalog201_log_status(const char *status)
{
    for (size_t i = 0; status && i < ARRAY_SIZE(log_statuses); i++)
        if (strcmp(log_statuses[i].v16, status) == 0)
            return log_statuses[i].v201;
    return status ? status : "Idle";
}

/* triggerReason of a TransactionEvent when the agent gives none. */
const char *catalog201_trigger_reason(const char *event_type, const struct msg_ctx *x)
{
    if (strcmp(event_type, "Started") == 0)
        return x->has_remote_start ? "RemoteStart" : "Authorized";
    if (strcmp(event_type, "Ended") == 0) {
        int i = stop_row(x->reason ? x->reason : "Local");
        return i < 0 ? "AbnormalCondition" : stop_reasons[i].trigger;
    }
    if (x->context && strcmp(x->context, "Trigger") == 0)
        return "Trigger";
    if (x->context && strcmp(x->context, "Sample.Clock") == 0)
        return "MeterValueClock";
    return "MeterValuePeriodic";
}

/* ---- writer helpers ------------------------------------------------------------------------ */

/* A top-level field whose value is an object or array: when overridden, the override is
 * written (as jw_guess reads it) and true returned; the builder then writes nothing. */
static bool f_overridden(struct mw *w, const char *key)
{
    const char *o = take_override(w, key);
    if (!o)
        return false;
    jw_key(&w->jw, key);
    jw_guess(&w->jw, o);
    return true;
}

static void f_bool(struct mw *w, const char *key, bool val)
{
    if (!f_overridden(w, key))
        jw_kbool(&w->jw, key, val);
}

/* "idToken": {"idToken": tag, "type": "ISO14443"}. */
static void f_id_token(struct mw *w, const char *tag)
{
    if (f_overridden(w, "idToken"))
        return;
    char t[ID_TOKEN_MAX + 1];
    cs_strlcpy(t, tag && *tag ? tag : "UNKNOWN", sizeof(t));
    jw_key(&w->jw, "idToken");
    jw_obj(&w->jw);
    jw_kstr(&w->jw, "idToken", t);
    jw_kstr(&w->jw, "type", ID_TOKEN_TYPE);
    jw_end(&w->jw);
}

/* One MeterValueType: timestamp and the configured measurands, values as numbers. */
static void meter_value(struct jw *j, const struct msg_ctx *x, const char *ctx)
{
    struct sample sv[SAMPLES_MAX];
    size_t n = meter_samples(x, sv);
    char ts[32];
    jw_obj(j);
    jw_kstr(j, "timestamp", cs_fmt_iso8601(ts, sizeof(ts), x->now_ms));
    jw_key(j, "sampledValue");
    jw_arr(j);
    for (size_t i = 0; i < n; i++) {
        jw_obj(j);
        jw_kdouble(j, "value", sv[i].value, sv[i].decimals);
        jw_kstr(j, "context", ctx);
        jw_kstr(j, "measurand", sv[i].measurand);
        if (sv[i].location)
            jw_kstr(j, "location", sv[i].location);
        jw_key(j, "unitOfMeasure");
        jw_obj(j);
        jw_kstr(j, "unit", sv[i].unit);
        jw_end(j);
        jw_end(j);
    }
    jw_end(j);
    jw_end(j);
}

/* "meterValue": [one MeterValueType] */
static void f_meter_values(struct mw *w, const struct msg_ctx *x, const char *ctx)
{
    if (f_overridden(w, "meterValue"))
        return;
    jw_key(&w->jw, "meterValue");
    jw_arr(&w->jw);
    meter_value(&w->jw, x, ctx);
    jw_end(&w->jw);
}

/* ---- builders ------------------------------------------------------------------------------ */

static void build_boot(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "reason", x->boot_reason ? x->boot_reason : "PowerUp");
    if (f_overridden(w, "chargingStation"))
        return;
    jw_key(&w->jw, "chargingStation");
    jw_obj(&w->jw);
    jw_kstr(&w->jw, "model", x->cfg->model);
    jw_kstr(&w->jw, "vendorName", x->cfg->vendor);
    if (x->cfg->firmware[0])
        jw_kstr(&w->jw, "firmwareVersion", x->cfg->firmware);
    jw_end(&w->jw);
}

static void build_heartbeat(struct mw *w, const struct msg_ctx *x)
{
    (void)w;
    (void)x;
}

static void build_status(struct mw *w, const struct msg_ctx *x)
{
    f_time(w, "timestamp", x->now_ms);
    f_str(w, "connectorStatus", catalog201_connector_status(x->ch->conn[x->connector].status));
    f_int(w, "evseId", x->connector);
    f_int(w, "connectorId", 1); /* one connector an EVSE */
}

static void build_meter(struct mw *w, const struct msg_ctx *x)
{
    f_int(w, "evseId", x->connector);
    f_meter_values(w, x, x->context ? x->context : "Sample.Periodic");
}

static void build_authorize(struct mw *w, const struct msg_ctx *x)
{
    f_id_token(w, x->id_tag);
}

/* TransactionEvent, for each eventType: the reading context of its meter value. */
static const struct {
    const char *type, *context; /* context NULL: x->context or Sample.Periodic */
} tx_events[] = {
    {"Started", "Transaction.Begin"},
    {"Updated", NULL},
    {"Ended", "Transaction.End"},
};

static void tx_event(struct mw *w, const struct msg_ctx *x, const char *type)
{
    size_t e = 0;
    while (e < ARRAY_SIZE(tx_events) && strcmp(tx_events[e].type, type) != 0)
        e++;
    if (e == ARRAY_SIZE(tx_events)) {
        if (!w->rc)
            w->rc = cs_error_set(w->err, CS_ERR_PARSE,
                                 "TransactionEvent: eventType '%.*s' is not Started, Updated or "
                                 "Ended",
                                 CS_UTF8_CLIP(type, 40));
        return;
    }
    bool started = e == 0, ended = e == 2;
    const struct connector *c = &x->ch->conn[x->connector];

    f_str(w, "eventType", type);
    f_time(w, "timestamp", x->now_ms);
    f_str(w, "triggerReason",
          x->trigger_reason ? x->trigger_reason : catalog201_trigger_reason(type, x));
    f_int(w, "seqNo", x->seq_no);
    if (x->offline)
        f_bool(w, "offline", true);
    if (!f_overridden(w, "transactionInfo")) {
        char key[16];
        const char *tx_key = x->tx_key;
        if (!tx_key) { /* the charger's id as text when the agent gives no key */
            snprintf(key, sizeof(key), "%d", (int)(x->tx_id ? x->tx_id : c->tx.id));
            tx_key = key;
        }
        jw_key(&w->jw, "transactionInfo");
        jw_obj(&w->jw);
        jw_kstr(&w->jw, "transactionId", tx_key);
        jw_kstr(&w->jw, "chargingState", catalog201_charging_state(c->status));
        if (ended)
            jw_kstr(&w->jw, "stoppedReason", catalog201_stopped_reason(x->reason));
        if (x->has_remote_start)
            jw_kint(&w->jw, "remoteStartId", x->remote_start_id);
        jw_end(&w->jw);
    }
    if (started || (ended && x->id_tag && *x->id_tag))
        f_id_token(w, x->id_tag);
    if (started && x->has_reservation)
        f_int(w, "reservationId", x->reservation_id);
    if (!f_overridden(w, "evse")) {
        jw_key(&w->jw, "evse");
        jw_obj(&w->jw);
        jw_kint(&w->jw, "id", x->connector);
        jw_kint(&w->jw, "connectorId", 1);
        jw_end(&w->jw);
    }
    const char *ctx = tx_events[e].context;
    f_meter_values(w, x, ctx ? ctx : x->context ? x->context : "Sample.Periodic");
}

static void build_tx_started(struct mw *w, const struct msg_ctx *x)
{
    tx_event(w, x, x->event_type ? x->event_type : "Started");
}

static void build_tx_ended(struct mw *w, const struct msg_ctx *x)
{
    tx_event(w, x, x->event_type ? x->event_type : "Ended");
}

static void build_data_transfer(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "vendorId", x->vendor_id ? x->vendor_id : x->cfg->vendor);
    if (x->message_id)
        f_str(w, "messageId", x->message_id);
    if (x->data)
        f_str(w, "data", x->data);
}

static void build_firmware_status(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "status", x->status ? x->status : "Idle");
    if (x->has_request_id)
        f_int(w, "requestId", x->request_id);
}

static void build_log_status(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "status", catalog201_log_status(x->status));
    if (x->has_request_id)
        f_int(w, "requestId", x->request_id);
}

/* NotifyEvent: the charging station reports a problem (its standard Problem variable true). */
static void build_notify_event(struct mw *w, const struct msg_ctx *x)
{
    f_time(w, "generatedAt", x->now_ms);
    f_int(w, "seqNo", 0);
    if (f_overridden(w, "eventData"))
        return;
    char ts[32];
    struct jw *j = &w->jw;
    jw_key(j, "eventData");
    jw_arr(j);
    jw_obj(j);
    jw_kint(j, "eventId", 1);
    jw_kstr(j, "timestamp", cs_fmt_iso8601(ts, sizeof(ts), x->now_ms));
    jw_kstr(j, "trigger", "Alerting");
    jw_kstr(j, "actualValue", "true");
    jw_kstr(j, "eventNotificationType", "HardWiredNotification");
    jw_key(j, "component");
    jw_obj(j);
    jw_kstr(j, "name", "ChargingStation");
    jw_end(j);
    jw_key(j, "variable");
    jw_obj(j);
    jw_kstr(j, "name", "Problem");
    jw_end(j);
    jw_end(j);
    jw_end(j);
}

static void build_security_event(struct mw *w, const struct msg_ctx *x)
{
    f_str(w, "type", "SettingSystemTime");
    f_time(w, "timestamp", x->now_ms);
}

/* ---- tables -------------------------------------------------------------------------------- */

/* MeterValues is no transaction message in 2.0.1: a transaction's readings go in
 * TransactionEvent Updated. */
static const struct msg_def catalog201[] = {
    [MSG_BOOT_NOTIFICATION] = {"BootNotification", MSG_BOOT_NOTIFICATION, 0, build_boot},
    [MSG_HEARTBEAT] = {"Heartbeat", MSG_HEARTBEAT, 0, build_heartbeat},
    [MSG_STATUS_NOTIFICATION] = {"StatusNotification", MSG_STATUS_NOTIFICATION, MT_CONNECTOR,
                                 build_status},
    [MSG_METER_VALUES] = {"MeterValues", MSG_METER_VALUES, MT_CONNECTOR, build_meter},
    [MSG_AUTHORIZE] = {"Authorize", MSG_AUTHORIZE, 0, build_authorize},
    [MSG_START_TRANSACTION] = {"TransactionEvent", MSG_START_TRANSACTION, MT_CONNECTOR | MT_TX,
                               build_tx_started},
    [MSG_STOP_TRANSACTION] = {"TransactionEvent", MSG_STOP_TRANSACTION, MT_CONNECTOR | MT_TX,
                              build_tx_ended},
    [MSG_DATA_TRANSFER] = {"DataTransfer", MSG_DATA_TRANSFER, 0, build_data_transfer},
    [MSG_FIRMWARE_STATUS] = {"FirmwareStatusNotification", MSG_FIRMWARE_STATUS, 0,
                             build_firmware_status},
    [MSG_DIAGNOSTICS_STATUS] = {"LogStatusNotification", MSG_DIAGNOSTICS_STATUS, 0,
                                build_log_status},
};
_Static_assert(ARRAY_SIZE(catalog201) == MSG__COUNT, "catalog201 out of step with enum msg_id");

/* 2.0.1-only messages: no semantic id, reachable by name. */
static const struct msg_def only201[] = {
    {"NotifyEvent", MSG_CUSTOM, 0, build_notify_event},
    {"SecurityEventNotification", MSG_CUSTOM, 0, build_security_event},
};

const struct msg_def *catalog201_tx_event(void)
{
    return &catalog201[MSG_START_TRANSACTION];
}

const struct msg_def *catalog_v(enum ocpp_version v, enum msg_id id)
{
    if (v != OCPP_V201)
        return catalog_get(id);
    return (unsigned)id < MSG__COUNT && catalog201[id].name ? &catalog201[id] : NULL;
}

const struct msg_def *catalog_lookup_v(enum ocpp_version v, const char *name)
{
    if (v != OCPP_V201)
        return catalog_lookup(name);
    for (size_t i = 0; i < ARRAY_SIZE(catalog201); i++)
        if (strcmp(catalog201[i].name, name) == 0)
            return &catalog201[i];
    for (size_t i = 0; i < ARRAY_SIZE(only201); i++)
        if (strcmp(only201[i].name, name) == 0)
            return &only201[i];
    return NULL;
}

static void add_name(char *names, size_t size, size_t *at, const char *name)
{
    if (*at < size)
        *at += (size_t)snprintf(names + *at, size - *at, "%s%s", *at ? ", " : "", name);
}

const char *catalog_names_v(enum ocpp_version v)
{
    static char names[512];
    if (v != OCPP_V201)
        return catalog_names();
    if (!names[0]) {
        size_t at = 0;
        for (size_t i = 0; i < ARRAY_SIZE(catalog201); i++)
            if (i == 0 || catalog_lookup_v(OCPP_V201, catalog201[i].name) == &catalog201[i])
                add_name(names, sizeof(names), &at, catalog201[i].name);
        for (size_t i = 0; i < ARRAY_SIZE(only201); i++)
            add_name(names, sizeof(names), &at, only201[i].name);
    }
    return names;
}
