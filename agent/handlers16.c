/* handlers16.c - the platform's OCPP 1.6 CALLs: a table of handlers indexed by action, each
 * answering with a payload and naming what to do once the answer is out. [loop] */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "authz.h"
#include "crt.h"
#include "cs/log.h"
#include "cs/rds.h"
#include "dl.h"
#include "handlers16.h"
#include "reserve.h"
#include "session.h"
#include "smart.h"

static int h_remote_start(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                          struct follow *then, const char **code, struct cs_error *err)
{
    int conn = dl_int(req, "connectorId", -1);
    if (conn < 0)
        conn = session_free_connector(ch, dl_str(req, "idTag"));
    bool reserved;
    int32_t reservation;
    /* A reserved connector starts only for its idTag. */
    bool ok = session_can_start(ch, conn) &&
              reserve_allows(ch, conn, dl_str(req, "idTag"), &reserved, &reservation, NULL);
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
        cs_strlcpy(then->id_tag, dl_str(req, "idTag"), sizeof(then->id_tag));
    }
    return CS_OK;
}

static int h_remote_stop(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                         struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    int32_t tx = (int32_t)dl_int(req, "transactionId", 0);
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
    then->flag = strcmp(dl_str(req, "type"), "Hard") == 0;
    return CS_OK;
}

static int h_change_config(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                           struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    const char *key = dl_str(req, "key"), *value = dl_str(req, "value");
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
    int conn = dl_int(req, "connectorId", -1);
    bool operative = strcmp(dl_str(req, "type"), "Operative") == 0;
    const char *status = dl_availability_status(ch, conn, operative);
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
    int conn = dl_int(req, "connectorId", -1);
    bool ok = dl_conn_exists(ch, conn, false);
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
    int conn = dl_int(req, "connectorId", -1);
    bool ok = conn < 0 || dl_conn_exists(ch, conn, true);
    jw_kstr(resp, "status", ok ? "Accepted" : "Rejected");
    if (ok) {
        then->kind = F_TRIGGER;
        then->conn = conn;
        cs_strlcpy(then->msg, dl_str(req, "requestedMessage"), sizeof(then->msg));
    }
    return CS_OK;
}

static int h_data_transfer(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                           struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    (void)code;
    (void)err;
    const char *vendor = dl_str(req, "vendorId");
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
    cs_strlcpy(then->location, dl_str(req, "location"), sizeof(then->location));
    ocpp_datetime_parse(dl_str(req, "retrieveDate"), &then->at_ms);
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
    reserve_cancel(ch, dl_i32(req, "reservationId"));
}

static int h_cancel_reservation(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    bool held = reserve_held(ch, dl_i32(req, "reservationId"));
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
    [OC_CLEAR_CACHE] = dl_clear_cache,
    [OC_RESERVE_NOW] = h_reserve_now,
    [OC_CANCEL_RESERVATION] = h_cancel_reservation,
    [OC_SEND_LOCAL_LIST] = h_send_local_list,
    [OC_GET_LOCAL_LIST_VERSION] = h_get_local_list_version,
    [OC_SET_CHARGING_PROFILE] = h_set_charging_profile,
    [OC_CLEAR_CHARGING_PROFILE] = h_clear_charging_profile,
    [OC_GET_COMPOSITE_SCHEDULE] = h_get_composite_schedule,
};

const struct dl_table *handlers16(void)
{
    static const struct dl_table t = {handlers, OCPP_CALLS_IN, ocpp_call_index, ocpp_call_fields};
    return &t;
}
