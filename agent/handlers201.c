/* handlers201.c - the platform's OCPP 2.0.1 CALLs: handlers by action name, answering in 2.0.1
 * shapes and asking for the same follow-ups as the 1.6 ones (one session model underneath).
 * An EVSE is a connector of the model; each EVSE has one connector (connectorId 1). [loop] */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "adapt201.h"
#include "authz.h"
#include "behaviour.h"
#include "calls.h"
#include "ccfg.h"
#include "crt.h"
#include "cs/devmodel.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/ocpp201.h"
#include "cs/tmpl.h"
#include "dl.h"
#include "emit.h"
#include "handlers201.h"
#include "reserve.h"
#include "session.h"
#include "smart.h"

/* evse.id of an optional EVSEType field, or def. */
static int evse_of(const cJSON *req, const char *k, int def)
{
    const cJSON *e = dl_obj(req, k);
    return e ? dl_int(e, "id", def) : def;
}

static void start_after(struct charger_rt *ch, const cJSON *req)
{
    int conn = dl_int(req, "evseId", -1);
    const char *tag = dl_str(dl_obj(req, "idToken"), "idToken");
    struct cs_error err;
    if (conn < 0)
        conn = session_free_connector(ch, tag);
    if (conn < 1)
        return;
    char t[21];
    cs_strlcpy(t, tag, sizeof(t));
    ch->s.remote_pending[conn] = true;
    ch->s.remote_id[conn] = dl_i32(req, "remoteStartId");
    if (session_start(ch, conn, t, 0, 0, 0, true, &err)) {
        ch->s.remote_pending[conn] = false; /* no transaction: the id goes with it */
        log_debug("%s: RequestStartTransaction: %s", ch->m.id, err.msg);
    }
}

static int h_request_start(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                           struct follow *then, const char **code, struct cs_error *err)
{
    int rc = adapt201_check_token(req, "idToken", true, code, err);
    if (rc)
        return rc;
    int conn = dl_int(req, "evseId", -1);
    const char *tag = dl_str(dl_obj(req, "idToken"), "idToken");
    if (conn < 0)
        conn = session_free_connector(ch, tag);
    bool reserved;
    int32_t reservation;
    bool ok = tag && session_can_start(ch, conn) &&
              reserve_allows(ch, conn, tag, &reserved, &reservation, NULL);
    const cJSON *profile = dl_obj(req, "chargingProfile");
    if (ok && profile) {
        cJSON *p = adapt201_profile(ch, conn, profile);
        rc = p ? smart_remote_profile(ch, conn, p, code, err) : CS_ERR_STATE;
        cJSON_Delete(p);
        if (rc && rc != CS_ERR_STATE)
            return rc;    /* malformed: CALLERROR */
        ok = rc == CS_OK; /* not a TxProfile: Rejected */
    }
    jw_kstr(resp, "status", ok ? "Accepted" : "Rejected");
    if (ok) {
        then->kind = F_AFTER; /* the start, with its remoteStartId, once the answer is out */
        then->after = start_after;
    }
    return CS_OK;
}

static int h_request_stop(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                          struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    int conn = emit_tx_find(ch, dl_str(req, "transactionId"));
    jw_kstr(resp, "status", conn > 0 ? "Accepted" : "Rejected");
    if (conn > 0) {
        then->kind = F_STOP;
        then->tx = ch->m.conn[conn].tx.id;
    }
    return CS_OK;
}

static void reset_idle_after(struct charger_rt *ch, const cJSON *req)
{
    (void)req;
    ch->s.reset_on_idle = true; /* session.c reboots when the last transaction ends */
}

static int h_reset(struct charger_rt *ch, const cJSON *req, struct jw *resp, struct follow *then,
                   const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    if (cJSON_GetObjectItemCaseSensitive(req, "evseId")) {
        jw_kstr(resp, "status", "Rejected"); /* one EVSE alone does not reset */
        return CS_OK;
    }
    /* OnIdle during a transaction: Scheduled, the reset follows its end */
    bool later = strcmp(dl_str(req, "type"), "OnIdle") == 0 && charger_busy(&ch->m);
    jw_kstr(resp, "status", later ? "Scheduled" : "Accepted");
    then->kind = later ? F_AFTER : F_RESET;
    then->after = reset_idle_after;
    then->flag = true;
    return CS_OK;
}

static int h_change_availability(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                 struct follow *then, const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    int conn = evse_of(req, "evse", 0);
    bool operative = strcmp(dl_str(req, "operationalStatus"), "Operative") == 0;
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
    int conn = dl_int(req, "evseId", -1);
    const char *status = "Unlocked";
    if (!dl_conn_exists(ch, conn, false) || dl_int(req, "connectorId", -1) != 1)
        status = "UnknownConnector";
    else if (ch->m.conn[conn].tx_active)
        status = "OngoingAuthorizedTransaction"; /* stop it first (RequestStopTransaction) */
    jw_kstr(resp, "status", status);
    if (strcmp(status, "Unlocked") == 0) {
        then->kind = F_UNLOCK;
        then->conn = conn;
    }
    return CS_OK;
}

/* TriggerMessage's requestedMessage names the charger can send now. */
static const char *const triggerable[] = {"BootNotification",      "Heartbeat",
                                          "StatusNotification",    "MeterValues",
                                          "TransactionEvent",      "FirmwareStatusNotification",
                                          "LogStatusNotification", NULL};

static int h_trigger(struct charger_rt *ch, const cJSON *req, struct jw *resp, struct follow *then,
                     const char **code, struct cs_error *err)
{
    (void)code;
    (void)err;
    const char *msg = dl_str(req, "requestedMessage");
    int conn = evse_of(req, "evse", -1);
    bool known = false;
    for (const char *const *t = triggerable; *t; t++)
        known |= strcmp(*t, msg) == 0;
    const char *status = !known                                          ? "NotImplemented"
                         : conn >= 0 && !dl_conn_exists(ch, conn, false) ? "Rejected"
                                                                         : "Accepted";
    /* F06.FR.17: no BootNotification on demand once the platform accepted the boot */
    if (known && strcmp(msg, "BootNotification") == 0 && ch->calls.accepted)
        status = "Rejected";
    /* A TransactionEvent needs a transaction on the EVSE (or, without one, on any). */
    if (known && strcmp(msg, "TransactionEvent") == 0 && strcmp(status, "Accepted") == 0) {
        int with = -1;
        for (int i = 1; i <= ch->m.nconn && with < 0; i++)
            if (ch->m.conn[i].tx_active && (conn < 0 || conn == i))
                with = i;
        status = with > 0 ? "Accepted" : "Rejected";
        conn = with;
    }
    jw_kstr(resp, "status", status);
    if (strcmp(status, "Accepted") == 0) {
        then->kind = F_TRIGGER;
        then->conn = conn;
        cs_strlcpy(then->msg, msg, sizeof(then->msg));
    }
    return CS_OK;
}

/* The device model's view of the charger now: its config, and the live values. */
struct dm_view {
    struct dm_charger c;
    struct dm_evse evse[CHARGER_MAX_CONN];
    char identity[96];
};

static void dm_of(const struct charger_rt *ch, struct dm_view *v)
{
    memset(v, 0, sizeof(*v));
    for (int i = 1; i <= ch->m.nconn; i++) {
        v->evse[i - 1].state = catalog201_connector_status(ch->m.conn[i].status);
        v->evse[i - 1].power_w = ch->m.conn[i].power_w;
    }
    /* SecurityCtrlr.Identity: the client_id the charger connects with */
    char idx[16];
    struct buf cid = BUF_INIT;
    snprintf(idx, sizeof(idx), "%u", ch->m.index);
    const struct tmpl_var vars[] = {
        {"id", ch->m.id}, {"index", idx}, {"worker", crt_ctx(ch)->name}};
    if (tmpl_render(crt_cfg(ch)->client_id, vars, ARRAY_SIZE(vars), &cid, NULL) == CS_OK)
        cs_strlcpy(v->identity, buf_cstr(&cid), sizeof(v->identity));
    buf_free(&cid);
    v->c = (struct dm_charger){.cfg = crt_cfg(ch),
                               .nevse = ch->m.nconn,
                               .evse = v->evse,
                               .state = catalog201_connector_status(ch->m.conn[0].status),
                               .identity = v->identity,
                               .local_list_entries = (int)authz_entries(ch),
                               .charging_profiles = smart_count(ch),
                               .now_ms = cs_now_ms()};
}

static int h_get_variables(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                           struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    struct dm_view v;
    dm_of(ch, &v);
    return devmodel_get(&v.c, req, resp, code, err);
}

/* SetVariables' accepted writes: into the charger's overrides once the answer is out. */
static void set_after(struct charger_rt *ch, const cJSON *req)
{
    struct dm_view v;
    dm_of(ch, &v);
    struct kvlist writes = KVLIST_INIT;
    struct buf scratch = BUF_INIT;
    struct jw j;
    const char *code;
    struct cs_error err;
    jw_init(&j, &scratch);
    jw_obj(&j);
    if (devmodel_set(&v.c, req, &j, &writes, &code, &err) == CS_OK)
        for (size_t i = 0; i < writes.n; i++)
            if (ccfg_write(ch, writes.v[i].key, writes.v[i].val) != CS_OK)
                log_warn("%s: SetVariables %s not kept: Redis unreachable", ch->m.id,
                         writes.v[i].key);
    kv_free(&writes);
    buf_free(&scratch);
}

static int h_set_variables(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                           struct follow *then, const char **code, struct cs_error *err)
{
    struct dm_view v;
    dm_of(ch, &v);
    struct kvlist writes = KVLIST_INIT;
    int rc = devmodel_set(&v.c, req, resp, &writes, code, err);
    if (rc == CS_OK && writes.n) {
        then->kind = F_AFTER;
        then->after = set_after;
    }
    kv_free(&writes);
    return rc;
}

struct report_out {
    struct charger_rt *ch;
};

static void send_part(void *arg, const char *payload, size_t len)
{
    struct report_out *o = arg;
    struct cs_error err;
    if (calls_send_raw(&o->ch->calls, "NotifyReport", payload, len, 0, &err))
        log_debug("%s: NotifyReport: %s", o->ch->m.id, err.msg);
}

/* The report's parts go out after the answer: they are built again then (the same config). */
static void report_after(struct charger_rt *ch, const cJSON *req)
{
    struct dm_view v;
    dm_of(ch, &v);
    struct report_out o = {ch};
    const char *code;
    struct cs_error err;
    devmodel_report(&v.c, req, cJSON_GetObjectItemCaseSensitive(req, "reportBase") != NULL,
                    send_part, &o, &code, &err);
}

static void count_part(void *arg, const char *payload, size_t len)
{
    (void)payload;
    (void)len;
    (*(int *)arg)++;
}

static int h_report(struct charger_rt *ch, const cJSON *req, struct jw *resp, struct follow *then,
                    const char **code, struct cs_error *err)
{
    struct dm_view v;
    dm_of(ch, &v);
    int parts = 0;
    const char *status =
        devmodel_report(&v.c, req, cJSON_GetObjectItemCaseSensitive(req, "reportBase") != NULL,
                        count_part, &parts, code, err);
    if (!status)
        return err->code ? err->code : CS_ERR_PARSE;
    jw_kstr(resp, "status", status);
    if (parts > 0) {
        then->kind = F_AFTER;
        then->after = report_after;
    }
    return CS_OK;
}

static int h_data_transfer(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                           struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    (void)code;
    (void)err;
    bool ours = strcmp(dl_str(req, "vendorId"), crt_cfg(ch)->vendor) == 0;
    jw_kstr(resp, "status", ours ? "Accepted" : "UnknownVendorId");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(req, "data");
    if (ours && data) {
        jw_key(resp, "data");
        jw_cjson(resp, data); /* echoed: a round trip the platform can test */
    }
    return CS_OK;
}

static int h_get_local_list_version(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                    struct follow *then, const char **code, struct cs_error *err)
{
    (void)req;
    (void)then;
    (void)code;
    (void)err;
    jw_kint(resp, "versionNumber", authz_list_version(ch));
    return CS_OK;
}

static int h_transaction_status(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    (void)code;
    (void)err;
    const char *key = dl_str(req, "transactionId");
    if (key)
        jw_kbool(resp, "ongoingIndicator", emit_tx_find(ch, key) > 0);
    jw_kbool(resp, "messagesInQueue", calls_queued_tx(&ch->calls) > 0);
    return CS_OK;
}

static void firmware_after(struct charger_rt *ch, const cJSON *req)
{
    const cJSON *fw = dl_obj(req, "firmware");
    int64_t at = 0;
    ocpp_datetime_parse(dl_str(fw, "retrieveDateTime"), &at);
    behaviour_firmware(ch, dl_str(fw, "location"), at);
    ch->s.fw.has_request = true; /* its FirmwareStatusNotifications name it */
    ch->s.fw.request_id = dl_i32(req, "requestId");
}

static int h_update_firmware(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                             struct follow *then, const char **code, struct cs_error *err)
{
    (void)ch;
    static const struct ocpp_field f_fw[] = {{"location", FT_STRING, true, 512, NULL},
                                             {"retrieveDateTime", FT_DATETIME, true, 0, NULL},
                                             {NULL, 0, false, 0, NULL}};
    const cJSON *fw = dl_obj(req, "firmware");
    int rc = ocpp_check(fw, f_fw, code, err);
    if (rc)
        return rc;
    jw_kstr(resp, "status", "Accepted");
    then->kind = F_AFTER;
    then->after = firmware_after;
    return CS_OK;
}

static void log_after(struct charger_rt *ch, const cJSON *req)
{
    behaviour_diagnostics(ch);
    ch->s.diag.has_request = true; /* its LogStatusNotifications name it */
    ch->s.diag.request_id = dl_i32(req, "requestId");
}

static int h_get_log(struct charger_rt *ch, const cJSON *req, struct jw *resp, struct follow *then,
                     const char **code, struct cs_error *err)
{
    (void)req;
    (void)code;
    (void)err;
    char name[160];
    snprintf(name, sizeof(name), "log-%s-%d.log", ch->m.id, dl_int(req, "requestId", 0));
    jw_kstr(resp, "status", "Accepted");
    jw_kstr(resp, "filename", name);
    then->kind = F_AFTER; /* LogStatusNotification Uploading, then Uploaded */
    then->after = log_after;
    return CS_OK;
}

static const struct {
    const char *action;
    handler_fn *fn;
} by_name[] = {
    {"RequestStartTransaction", h_request_start},
    {"RequestStopTransaction", h_request_stop},
    {"Reset", h_reset},
    {"ChangeAvailability", h_change_availability},
    {"UnlockConnector", h_unlock},
    {"TriggerMessage", h_trigger},
    {"GetVariables", h_get_variables},
    {"SetVariables", h_set_variables},
    {"GetBaseReport", h_report},
    {"GetReport", h_report},
    {"DataTransfer", h_data_transfer},
    {"ClearCache", dl_clear_cache},
    {"GetLocalListVersion", h_get_local_list_version},
    {"GetTransactionStatus", h_transaction_status},
    {"UpdateFirmware", h_update_firmware},
    {"GetLog", h_get_log},
    {"ReserveNow", adapt201_reserve_now},
    {"CancelReservation", adapt201_cancel_reservation},
    {"SendLocalList", adapt201_send_local_list},
    {"SetChargingProfile", adapt201_set_charging_profile},
    {"ClearChargingProfile", adapt201_clear_charging_profile},
    {"GetCompositeSchedule", adapt201_get_composite_schedule},
};

const struct dl_table *handlers201(void)
{
    static handler_fn *fns[OCPP201_CALLS_IN];
    static struct dl_table t = {fns, OCPP201_CALLS_IN, ocpp201_call_index, ocpp201_call_fields};
    if (!fns[ocpp201_call_index("Reset")])
        for (size_t i = 0; i < ARRAY_SIZE(by_name); i++)
            fns[ocpp201_call_index(by_name[i].action)] = by_name[i].fn;
    return &t;
}
