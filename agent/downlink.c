/* downlink.c - the platform's CALLs: a table of handlers, each answering with a payload and
 * naming what to do once the answer is out (so the CALLRESULT precedes what it causes). */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "calls.h"
#include "charger_rt.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "downlink.h"
#include "session.h"
#include "worker.h"

enum follow_kind { F_NONE, F_START, F_STOP, F_RESET, F_AVAILABILITY, F_UNLOCK, F_TRIGGER,
                   F_FIRMWARE };

/* What happens after the answer went out. */
struct follow {
    enum follow_kind kind;
    int conn;
    bool flag; /* F_RESET: hard; F_AVAILABILITY: operative */
    int32_t tx;
    char id_tag[21];
    char msg[64];
    char location[256];
    int64_t at_ms;
};

typedef int handler_fn(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                       struct follow *then, const char **code, struct cs_error *err);

static int get_int(const cJSON *req, const char *k, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, k);
    /* Range-checked before the conversion: the platform may send any number. */
    return cJSON_IsNumber(v) && v->valuedouble >= INT32_MIN && v->valuedouble <= INT32_MAX
               ? (int)v->valuedouble
               : def;
}

static const char *get_str(const cJSON *req, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool conn_exists(const struct charger_rt *ch, int conn, bool allow_zero)
{
    return conn >= (allow_zero ? 0 : 1) && conn <= ch->m.nconn;
}

static int h_remote_start(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                          struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    int conn = get_int(req, "connectorId", -1);
    bool ok;
    if (conn < 0) {
        conn = session_free_connector(ch);
        ok = conn > 0;
    } else {
        ok = conn_exists(ch, conn, false) && !ch->m.conn[conn].tx_active &&
             !ch->start[conn].active &&
             (ch->m.conn[conn].status == ST_AVAILABLE || ch->m.conn[conn].status == ST_PREPARING ||
              ch->m.conn[conn].status == ST_FINISHING || ch->m.conn[conn].status == ST_RESERVED);
    }
    jw_kstr(resp, "status", ok ? "Accepted" : "Rejected");
    if (ok) {
        then->kind = F_START;
        then->conn = conn;
        cs_strlcpy(then->id_tag, get_str(req, "idTag"), sizeof(then->id_tag));
    }
    return CS_OK;
}

static int h_remote_stop(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                         struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    int32_t tx = (int32_t)get_int(req, "transactionId", 0);
    bool ok = charger_tx_find(&ch->m, tx) > 0;
    jw_kstr(resp, "status", ok ? "Accepted" : "Rejected");
    if (ok) {
        then->kind = F_STOP;
        then->tx = tx;
    }
    return CS_OK;
}

static int h_reset(struct charger_rt *ch, const cJSON *req, struct jw *resp, struct follow *then,
                   const char **code, struct cs_error *err)
{
    (void)ch;
    (void)code;
    (void)err;
    jw_kstr(resp, "status", "Accepted");
    then->kind = F_RESET;
    then->flag = strcmp(get_str(req, "type"), "Hard") == 0;
    return CS_OK;
}


static int h_change_config(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                           struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    (void)code;
    const char *key = get_str(req, "key"), *value = get_str(req, "value");
    const struct ocpp_key *k = ocpp_key_lookup(key);
    struct buf v = BUF_INIT;
    const char *status = "Accepted";
    if (!k) {
        status = "NotSupported";
    } else if (!ocpp_key_to_cfg(k, value, &v, err)) {
        status = "Rejected";
        log_debug("%s: ChangeConfiguration %s=%s rejected: %s", ch->m.id, key, value, err->msg);
    } else {
        /* Into the charger's overrides: live, visible in Redis, and it follows the charger. */
        if (crt_write_override(ch, k->cfg, buf_cstr(&v)) != CS_OK)
            status = "Rejected"; /* Redis unreachable: the change could not be kept */
    }
    buf_free(&v);
    jw_kstr(resp, "status", status);
    return CS_OK;
}

static void config_entry(struct jw *resp, const struct ocpp_key *k, const struct charger_cfg *c)
{
    struct buf v = BUF_INIT;
    ocpp_key_value(k, c, &v);
    jw_obj(resp);
    jw_kstr(resp, "key", k->name);
    jw_kbool(resp, "readonly", k->readonly);
    jw_kstr(resp, "value", buf_cstr(&v));
    jw_end(resp);
    buf_free(&v);
}

static int h_get_config(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                        struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(req, "key");
    const struct charger_cfg *c = crt_cfg(ch);
    size_t n;
    const struct ocpp_key *all = ocpp_keys(&n);
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        if (!cJSON_IsString(k) || strlen(k->valuestring) > 50) {
            *code = OCPP_E_TYPE;
            return cs_error_set(err, CS_ERR_PARSE, "key must be strings of up to 50 characters");
        }
    }
    jw_key(resp, "configurationKey");
    jw_arr(resp);
    if (cJSON_GetArraySize(keys) == 0) {
        for (size_t i = 0; i < n; i++)
            config_entry(resp, &all[i], c);
    } else {
        cJSON_ArrayForEach(k, keys)
        {
            const struct ocpp_key *ok = ocpp_key_lookup(k->valuestring);
            if (ok)
                config_entry(resp, ok, c);
        }
    }
    jw_end(resp);
    bool unknown = false;
    cJSON_ArrayForEach(k, keys) unknown |= !ocpp_key_lookup(k->valuestring);
    if (unknown) {
        jw_key(resp, "unknownKey");
        jw_arr(resp);
        cJSON_ArrayForEach(k, keys)
        {
            if (!ocpp_key_lookup(k->valuestring))
                jw_str(resp, k->valuestring);
        }
        jw_end(resp);
    }
    return CS_OK;
}

static int h_change_availability(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                 struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    int conn = get_int(req, "connectorId", -1);
    bool operative = strcmp(get_str(req, "type"), "Operative") == 0;
    const char *status = "Accepted";
    if (!conn_exists(ch, conn, true)) {
        status = "Rejected";
    } else if (!operative) {
        /* In use (transaction, cable in) or otherwise not now: Unavailable as soon as it can. */
        for (int i = conn == 0 ? 1 : conn; i <= (conn == 0 ? ch->m.nconn : conn); i++)
            if (ch->m.conn[i].status != ST_UNAVAILABLE &&
                (ch->m.conn[i].tx_active ||
                 !charger_transition(ch->m.conn[i].status, CE_INOPERATIVE)))
                status = "Scheduled";
    }
    jw_kstr(resp, "status", status);
    if (strcmp(status, "Rejected") != 0) {
        then->kind = F_AVAILABILITY;
        then->conn = conn;
        then->flag = operative;
    }
    return CS_OK;
}

static int h_unlock(struct charger_rt *ch, const cJSON *req, struct jw *resp, struct follow *then,
                    const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    int conn = get_int(req, "connectorId", -1);
    bool ok = conn_exists(ch, conn, false);
    jw_kstr(resp, "status", ok ? "Unlocked" : "NotSupported");
    if (ok) {
        then->kind = F_UNLOCK;
        then->conn = conn;
    }
    return CS_OK;
}

static int h_trigger(struct charger_rt *ch, const cJSON *req, struct jw *resp, struct follow *then,
                     const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    int conn = get_int(req, "connectorId", -1);
    bool ok = conn < 0 || conn_exists(ch, conn, true);
    jw_kstr(resp, "status", ok ? "Accepted" : "Rejected");
    if (ok) {
        then->kind = F_TRIGGER;
        then->conn = conn;
        cs_strlcpy(then->msg, get_str(req, "requestedMessage"), sizeof(then->msg));
    }
    return CS_OK;
}

static int h_data_transfer(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                           struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    (void)code;
    (void)err;
    const char *vendor = get_str(req, "vendorId");
    bool ours = strcmp(vendor, crt_cfg(ch)->vendor) == 0;
    jw_kstr(resp, "status", ours ? "Accepted" : "UnknownVendorId");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(req, "data");
    if (ours && cJSON_IsString(data))
        jw_kstr(resp, "data", data->valuestring); /* echoed: a round trip the platform can test */
    return CS_OK;
}

static int h_update_firmware(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                             struct follow *then, const char **code, struct cs_error *err)
{
    (void)ch;
    (void)resp; /* UpdateFirmware.conf is an empty object */
    (void)code;
    (void)err;
    then->kind = F_FIRMWARE;
    cs_strlcpy(then->location, get_str(req, "location"), sizeof(then->location));
    ocpp_datetime_parse(get_str(req, "retrieveDate"), &then->at_ms);
    return CS_OK;
}

static const struct {
    const char *action;
    handler_fn *fn;
} handlers[] = {
    {"RemoteStartTransaction", h_remote_start},
    {"RemoteStopTransaction", h_remote_stop},
    {"Reset", h_reset},
    {"ChangeConfiguration", h_change_config},
    {"GetConfiguration", h_get_config},
    {"ChangeAvailability", h_change_availability},
    {"UnlockConnector", h_unlock},
    {"TriggerMessage", h_trigger},
    {"DataTransfer", h_data_transfer},
    {"UpdateFirmware", h_update_firmware},
};

/* OCPP 1.6 actions a charger may receive that these chargers do not implement. */
static const char *const known_unsupported[] = {
    "CancelReservation", "ClearCache", "ClearChargingProfile", "GetCompositeSchedule",
    "GetDiagnostics", "GetLocalListVersion", "ReserveNow", "SendLocalList",
    "SetChargingProfile",
};

const char *downlink_actions(void)
{
    return "RemoteStartTransaction, RemoteStopTransaction, Reset, ChangeConfiguration, "
           "GetConfiguration, ChangeAvailability, UnlockConnector, TriggerMessage, "
           "DataTransfer, UpdateFirmware";
}

static void respond(struct charger_rt *ch, const char *action, const char *frame, size_t len)
{
    struct buf topic = BUF_INIT;
    struct cs_error err;
    char msg[80];
    snprintf(msg, sizeof(msg), "%sResponse", action[0] ? action : "Unknown");
    if (crt_topic(ch, crt_cfg(ch)->topic_reply, msg, &topic, &err) == CS_OK)
        crt_publish(ch, buf_cstr(&topic), cs_strndup(frame, len), len, -1, &err);
    buf_free(&topic);
}

static void send_error(struct charger_rt *ch, const char *uid, const char *action,
                       const char *code, const char *desc)
{
    struct buf frame = BUF_INIT;
    ch->w->st.callerrors_out++;
    ocpp_encode_error(crt_profile(ch), uid && *uid ? uid : "-1", code, desc, cs_now_ms(), &frame);
    astats_down_end(&ch->w->st.act, code, frame.len, cs_mono_us());
    respond(ch, action, frame.s, frame.len);
    buf_free(&frame);
}

static void trigger(struct charger_rt *ch, const char *msg, int conn)
{
    struct cs_error err;
    if (strcmp(msg, "StatusNotification") == 0 && conn < 0) {
        for (int i = 0; i <= ch->m.nconn; i++)
            session_trigger(ch, msg, i, NULL, &err);
        return;
    }
    if (strcmp(msg, "MeterValues") == 0 && conn < 0) {
        for (int i = 1; i <= ch->m.nconn; i++)
            session_trigger(ch, msg, i, NULL, &err);
        return;
    }
    if (session_trigger(ch, msg, conn, NULL, &err))
        log_debug("%s: TriggerMessage %s: %s", ch->m.id, msg, err.msg);
}

static void run_follow(struct charger_rt *ch, const struct follow *f)
{
    struct cs_error err;
    bool scheduled;
    switch (f->kind) {
    case F_NONE: break;
    case F_START:
        if (session_start(ch, f->conn, f->id_tag, 0, 0, 0, true, &err))
            log_debug("%s: RemoteStartTransaction: %s", ch->m.id, err.msg);
        break;
    case F_STOP: session_remote_stop(ch, f->tx); break;
    case F_RESET:
        session_reboot(ch, f->flag, f->flag ? SR_HARD_RESET : SR_SOFT_RESET);
        break;
    case F_AVAILABILITY: session_availability(ch, f->conn, f->flag, &scheduled, &err); break;
    case F_UNLOCK: session_unlock(ch, f->conn); break;
    case F_TRIGGER: trigger(ch, f->msg, f->conn); break;
    case F_FIRMWARE: session_firmware(ch, f->location, f->at_ms); break;
    }
}

static void on_call(struct charger_rt *ch, const struct ocpp_frame *f)
{
    struct worker *w = ch->w;
    struct cs_error err = {0};
    const char *code = NULL;
    int at = ocpp_call_index(f->action);
    astats_down_begin(&w->st.act, f->action, cs_mono_us());
    w->st.calls_in++;
    if (at >= 0)
        w->st.in_by_call[at]++;
    else
        w->st.in_other++;
    ch->cs.calls_in++;
    size_t i;
    for (i = 0; i < ARRAY_SIZE(handlers); i++)
        if (strcmp(handlers[i].action, f->action) == 0)
            break;
    if (i == ARRAY_SIZE(handlers)) {
        bool known = false;
        for (size_t k = 0; k < ARRAY_SIZE(known_unsupported); k++)
            known |= strcmp(known_unsupported[k], f->action) == 0;
        send_error(ch, f->uid, f->action, known ? OCPP_E_NOT_SUPPORTED : OCPP_E_NOT_IMPLEMENTED,
                   known ? "action not supported by this charger" : "unknown action");
        return;
    }
    if (ocpp_check(f->payload, ocpp_call_fields(f->action), &code, &err) != CS_OK) {
        send_error(ch, f->uid, f->action, code, err.msg);
        return;
    }
    struct buf payload = BUF_INIT, frame = BUF_INIT;
    struct jw j;
    struct follow then = {.kind = F_NONE};
    jw_init(&j, &payload);
    jw_obj(&j);
    int rc = handlers[i].fn(ch, f->payload, &j, &then, &code, &err);
    jw_end(&j);
    if (rc) {
        send_error(ch, f->uid, f->action, code ? code : OCPP_E_INTERNAL, err.msg);
    } else {
        ocpp_encode_result(crt_profile(ch), f->uid, f->action, cs_now_ms(), payload.s,
                           payload.len, &frame);
        astats_down_end(&w->st.act, NULL, frame.len, cs_mono_us());
        respond(ch, f->action, frame.s, frame.len);
        run_follow(ch, &then);
    }
    buf_free(&payload);
    buf_free(&frame);
}

void downlink_on_message(struct charger_rt *ch, const char *payload, size_t len)
{
    struct ocpp_frame f;
    struct cs_error err;
    const char *code = NULL;
    if (ocpp_decode(crt_profile(ch), payload, len, &f, &code, &err) != CS_OK) {
        log_debug("%s: bad downlink message: %s", ch->m.id, err.msg);
        ch->w->st.downlink_bad++;
        send_error(ch, f.uid, "", code ? code : OCPP_E_FORMATION, err.msg);
        ocpp_frame_free(&f);
        return;
    }
    if (f.type == OCPP_CALL)
        on_call(ch, &f);
    else
        calls_on_answer(ch, f.type, f.uid, f.payload, f.type == OCPP_ERROR ? f.err_code : NULL);
    ocpp_frame_free(&f);
}
