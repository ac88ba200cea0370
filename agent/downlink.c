/* downlink.c - the platform's CALLs: a table of handlers indexed by action, each answering with
 * a payload and naming what to do once the answer is out (so the CALLRESULT precedes what it
 * causes). [loop] */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "authz.h"
#include "behaviour.h"
#include "calls.h"
#include "ccfg.h"
#include "crt.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "downlink.h"
#include "reserve.h"
#include "session.h"
#include "smart.h"
#include "trigger.h"

enum follow_kind {
    F_NONE,
    F_START,
    F_STOP,
    F_RESET,
    F_AVAILABILITY,
    F_UNLOCK,
    F_TRIGGER,
    F_FIRMWARE,
    F_DIAGNOSTICS,
    F_CONFIG,
    F_AFTER /* the module's own step: after(ch, req) */
};

/* What happens after the answer went out. */
struct follow {
    enum follow_kind kind;
    int conn;
    bool flag; /* F_RESET: hard; F_AVAILABILITY: operative */
    int32_t tx;
    char id_tag[21];
    char msg[64];
    char key[64];
    char value[501];
    char location[256];
    int64_t at_ms;
    void (*after)(struct charger_rt *ch, const cJSON *req);
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

/* The fields of the handlers below have been checked (ocpp_check) before they run. */
static int32_t get_i32(const cJSON *req, const char *k)
{
    return (int32_t)get_int(req, k, 0);
}

static bool conn_exists(const struct charger_rt *ch, int conn, bool allow_zero)
{
    return conn >= (allow_zero ? 0 : 1) && conn <= ch->m.nconn;
}

static int h_remote_start(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                          struct follow *then, const char **code, struct cs_error *err)
{
    int conn = get_int(req, "connectorId", -1);
    if (conn < 0)
        conn = session_free_connector(ch, get_str(req, "idTag"));
    bool reserved;
    int32_t reservation;
    /* A reserved connector starts only for its idTag. */
    bool ok = session_can_start(ch, conn) &&
              reserve_allows(ch, conn, get_str(req, "idTag"), &reserved, &reservation, NULL);
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(req, "chargingProfile");
    if (ok && profile) {
        int rc = smart_remote_profile(ch, conn, profile, code, err);
        if (rc && rc != CS_ERR_STATE)
            return rc;    /* malformed: CALLERROR */
        ok = rc == CS_OK; /* not a TxProfile: Rejected */
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
    } else if (!rds_is_up(crt_ctx(ch)->rc) || v.len >= sizeof(then->value)) {
        status = "Rejected"; /* the change could not be kept */
    } else {
        /* Into the charger's overrides once the answer is out: live, visible in Redis, and
         * it follows the charger. */
        then->kind = F_CONFIG;
        cs_strlcpy(then->key, k->cfg, sizeof(then->key));
        cs_strlcpy(then->value, buf_cstr(&v), sizeof(then->value));
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
    if (!ocpp_key_secret(k)) /* a secret (AuthorizationKey) is written, never read back */
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

/* GetDiagnostics: the file it will upload, then the upload's progress. */
static int h_get_diagnostics(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                             struct follow *then, const char **code, struct cs_error *err)
{
    (void)req;
    (void)code;
    (void)err;
    char name[160], ts[32];
    cs_fmt_iso8601(ts, sizeof(ts), cs_now_ms());
    for (char *p = ts; *p; p++)
        if (*p == ':')
            *p = '-';
    snprintf(name, sizeof(name), "diagnostics-%s-%s.log", ch->m.id, ts);
    jw_kstr(resp, "fileName", name);
    then->kind = F_DIAGNOSTICS;
    return CS_OK;
}

static int h_clear_cache(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                         struct follow *then, const char **code, struct cs_error *err)
{
    (void)req;
    (void)then;
    (void)code;
    (void)err;
    authz_clear_cache(ch);
    jw_kstr(resp, "status", "Accepted");
    return CS_OK;
}

static int h_reserve_now(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                         struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    const char *status = reserve_answer(ch, req);
    jw_kstr(resp, "status", status);
    if (strcmp(status, "Accepted") == 0) {
        then->kind = F_AFTER; /* Reserved goes out after the answer */
        then->after = reserve_apply;
    }
    return CS_OK;
}

static void cancel_after(struct charger_rt *ch, const cJSON *req)
{
    reserve_cancel(ch, get_i32(req, "reservationId"));
}

static int h_cancel_reservation(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    bool held = reserve_held(ch, get_i32(req, "reservationId"));
    jw_kstr(resp, "status", held ? "Accepted" : "Rejected");
    if (held) {
        then->kind = F_AFTER;
        then->after = cancel_after;
    }
    return CS_OK;
}

static int h_send_local_list(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                             struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    const char *status;
    int rc = authz_send_list(ch, req, &status, code, err);
    if (rc == CS_OK)
        jw_kstr(resp, "status", status);
    return rc;
}

static int h_get_local_list_version(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                    struct follow *then, const char **code, struct cs_error *err)
{
    (void)req;
    (void)then;
    (void)code;
    (void)err;
    /* -1: the list is switched off (LocalAuthListEnabled false); 0: none installed. */
    jw_kint(resp, "listVersion", crt_cfg(ch)->local_auth_list ? authz_list_version(ch) : -1);
    return CS_OK;
}

static void limits_after(struct charger_rt *ch, const cJSON *req)
{
    (void)req;
    smart_update(ch);
}

static int h_set_charging_profile(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                  struct follow *then, const char **code, struct cs_error *err)
{
    const char *status;
    int rc = smart_set(ch, req, &status, code, err);
    if (rc)
        return rc;
    jw_kstr(resp, "status", status);
    then->kind = F_AFTER; /* the power follows once the answer is out */
    then->after = limits_after;
    return CS_OK;
}

static int h_clear_charging_profile(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                    struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    jw_kstr(resp, "status", smart_clear(ch, req));
    then->kind = F_AFTER;
    then->after = limits_after;
    return CS_OK;
}

static int h_get_composite_schedule(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                    struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    (void)code;
    (void)err;
    smart_composite(ch, req, resp);
    return CS_OK;
}

/* Indexed by enum ocpp_call; NULL: an OCPP 1.6 action these chargers do not take. */
static handler_fn *const handlers[OCPP_CALLS_IN] = {
    [OC_REMOTE_START] = h_remote_start,
    [OC_REMOTE_STOP] = h_remote_stop,
    [OC_RESET] = h_reset,
    [OC_CHANGE_CONFIGURATION] = h_change_config,
    [OC_GET_CONFIGURATION] = h_get_config,
    [OC_CHANGE_AVAILABILITY] = h_change_availability,
    [OC_UNLOCK_CONNECTOR] = h_unlock,
    [OC_TRIGGER_MESSAGE] = h_trigger,
    [OC_DATA_TRANSFER] = h_data_transfer,
    [OC_UPDATE_FIRMWARE] = h_update_firmware,
    [OC_GET_DIAGNOSTICS] = h_get_diagnostics,
    [OC_CLEAR_CACHE] = h_clear_cache,
    [OC_RESERVE_NOW] = h_reserve_now,
    [OC_CANCEL_RESERVATION] = h_cancel_reservation,
    [OC_SEND_LOCAL_LIST] = h_send_local_list,
    [OC_GET_LOCAL_LIST_VERSION] = h_get_local_list_version,
    [OC_SET_CHARGING_PROFILE] = h_set_charging_profile,
    [OC_CLEAR_CHARGING_PROFILE] = h_clear_charging_profile,
    [OC_GET_COMPOSITE_SCHEDULE] = h_get_composite_schedule,
};

bool downlink_supports(int action)
{
    return action >= 0 && action < OCPP_CALLS_IN && handlers[action];
}

const char *downlink_actions(void)
{
    static char names[1024];
    if (!names[0]) {
        size_t at = 0;
        for (int i = 0; i < OCPP_CALLS_IN && at < sizeof(names); i++)
            if (handlers[i])
                at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s", at ? ", " : "",
                                       ocpp_call_name(i));
    }
    return names;
}

static void respond(struct charger_rt *ch, const char *action, const char *frame, size_t len)
{
    struct cs_error err;
    if (link_send(&ch->link, TR_ANSWER, action, frame, len, &err) == CS_OK)
        crt_ctx(ch)->st->out_answers++;
}

static void send_error(struct charger_rt *ch, const char *uid, const char *action, const char *code,
                       const char *desc)
{
    struct buf frame = BUF_INIT;
    crt_ctx(ch)->st->callerrors_out++;
    ocpp_encode_error(crt_profile(ch), uid && *uid ? uid : "-1", code, desc, cs_now_ms(), &frame);
    astats_down_end(&crt_ctx(ch)->st->act, code, frame.len, cs_mono_us());
    respond(ch, action, frame.s, frame.len);
    buf_free(&frame);
}

static void trigger(struct charger_rt *ch, const char *msg, int conn)
{
    struct cs_error err;
    const struct msg_def *m = catalog_lookup(msg);
    if (m && (m->traits & MT_CONNECTOR) && conn < 0) {
        /* Every connector; StatusNotification includes the charge point itself (0). */
        for (int i = m->id == MSG_STATUS_NOTIFICATION ? 0 : 1; i <= ch->m.nconn; i++)
            trigger_send(ch, msg, i, NULL, &err);
        return;
    }
    if (trigger_send(ch, msg, conn, NULL, &err))
        log_debug("%s: TriggerMessage %s: %s", ch->m.id, msg, err.msg);
}

static void run_follow(struct charger_rt *ch, const struct follow *f, const cJSON *req)
{
    struct cs_error err;
    bool scheduled;
    switch (f->kind) {
    case F_NONE:
        break;
    case F_START:
        if (session_start(ch, f->conn, f->id_tag, 0, 0, 0, true, &err))
            log_debug("%s: RemoteStartTransaction: %s", ch->m.id, err.msg);
        break;
    case F_STOP:
        session_remote_stop(ch, f->tx);
        break;
    case F_RESET:
        session_reboot(ch, f->flag ? SR_HARD_RESET : SR_SOFT_RESET);
        break;
    case F_AVAILABILITY:
        session_availability(ch, f->conn, f->flag, &scheduled, &err);
        break;
    case F_UNLOCK:
        session_unlock(ch, f->conn);
        break;
    case F_TRIGGER:
        trigger(ch, f->msg, f->conn);
        break;
    case F_FIRMWARE:
        behaviour_firmware(ch, f->location, f->at_ms);
        break;
    case F_DIAGNOSTICS:
        behaviour_diagnostics(ch);
        break;
    case F_AFTER:
        f->after(ch, req);
        break;
    case F_CONFIG:
        if (ccfg_write(ch, f->key, f->value) != CS_OK)
            log_warn("%s: ChangeConfiguration %s not kept: Redis unreachable", ch->m.id, f->key);
        break;
    }
}

static void on_call(struct charger_rt *ch, const struct ocpp_frame *f)
{
    struct worker_stats *st = crt_ctx(ch)->st;
    struct cs_error err = {0};
    const char *code = NULL;
    int at = ocpp_call_index(f->action);
    astats_down_begin(&st->act, f->action, cs_mono_us());
    st->calls_in++;
    ch->calls_in++;
    if (at >= 0)
        st->in_by_call[at]++;
    else
        st->in_other++;
    if (!downlink_supports(at)) {
        bool known = at >= 0;
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
    struct follow *then = cs_calloc(1, sizeof(*then));
    jw_init(&j, &payload);
    jw_obj(&j);
    int rc = handlers[at](ch, f->payload, &j, then, &code, &err);
    jw_end(&j);
    if (rc) {
        send_error(ch, f->uid, f->action, code ? code : OCPP_E_INTERNAL, err.msg);
    } else {
        ocpp_encode_result(crt_profile(ch), f->uid, f->action, cs_now_ms(), payload.s, payload.len,
                           &frame);
        astats_down_end(&st->act, NULL, frame.len, cs_mono_us());
        respond(ch, f->action, frame.s, frame.len);
        run_follow(ch, then, f->payload);
    }
    cs_free(then);
    buf_free(&payload);
    buf_free(&frame);
}

void downlink_on_frame(struct charger_rt *ch, const char *payload, size_t len)
{
    struct ocpp_frame f;
    struct cs_error err;
    const char *code = NULL;
    ch->msgs_in++;
    if (ocpp_decode(crt_profile(ch), payload, len, &f, &code, &err) != CS_OK) {
        log_debug("%s: bad downlink message: %s", ch->m.id, err.msg);
        crt_ctx(ch)->st->downlink_bad++;
        send_error(ch, f.uid, "", code ? code : OCPP_E_FORMATION, err.msg);
        ocpp_frame_free(&f);
        return;
    }
    if (f.type == OCPP_CALL) {
        on_call(ch, &f);
    } else {
        calls_on_answer(&ch->calls, f.type, f.uid, f.payload,
                        f.type == OCPP_ERROR ? f.err_code : NULL);
        f.payload = NULL; /* the CALL layer took it */
    }
    ocpp_frame_free(&f);
}
