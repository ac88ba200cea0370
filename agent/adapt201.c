/* adapt201.c - the OCPP 2.0.1 Reservation, Local Auth List and Smart Charging requests,
 * rewritten in the 1.6 shapes the modules below take (reserve.c, authz.c, smart.c), so each
 * rule exists once; the answers in 2.0.1's shapes. [loop] */
#include <string.h>

#include <cjson/cJSON.h>

#include "adapt201.h"
#include "authz.h"
#include "crt.h"
#include "cs/ocpp.h"
#include "dl.h"
#include "emit.h"
#include "reserve.h"
#include "smart.h"

/* An IdTokenType field (required or not): {idToken: string of 1..36, type: string}. */
int adapt201_check_token(const cJSON *req, const char *k, bool required, const char **code,
                         struct cs_error *err)
{
    static const struct ocpp_field f_token[] = {{"idToken", FT_STRING, true, 36, NULL},
                                                {"type", FT_STRING, true, 0, NULL},
                                                {NULL, 0, false, 0, NULL}};
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(req, k);
    if (!t && !required)
        return CS_OK;
    int rc = ocpp_check(t, f_token, code, err);
    if (rc == CS_OK && !*dl_str(t, "idToken")) {
        *code = OCPP_E_PROPERTY;
        rc = cs_error_set(err, CS_ERR_RANGE, "%s.idToken is empty", k);
    }
    return rc;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
}

static void add_copy(cJSON *o, const char *k, const cJSON *v)
{
    if (v)
        cJSON_AddItemToObject(o, k, cJSON_Duplicate(v, true));
}

/* An idToken's text cut to a 1.6 idTag (20 characters). */
static void add_tag(cJSON *o, const char *k, const cJSON *token)
{
    char tag[21];
    const char *t = dl_str(token, "idToken");
    if (!t)
        return;
    cs_strlcpy(tag, t, sizeof(tag));
    cJSON_AddStringToObject(o, k, tag);
}

static cJSON *reserve16(const cJSON *req)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "connectorId", dl_int(req, "evseId", 0));
    add_str(r, "expiryDate", dl_str(req, "expiryDateTime"));
    add_tag(r, "idTag", dl_obj(req, "idToken"));
    add_tag(r, "parentIdTag", dl_obj(req, "groupIdToken"));
    cJSON_AddNumberToObject(r, "reservationId", dl_i32(req, "id"));
    return r;
}

static void reserve_after(struct charger_rt *ch, const cJSON *req)
{
    cJSON *r = reserve16(req);
    reserve_apply(ch, r);
    cJSON_Delete(r);
}

cJSON *adapt201_tag_info(const cJSON *info)
{
    if (!cJSON_IsObject(info))
        return NULL;
    cJSON *r = cJSON_CreateObject();
    add_str(r, "status", adapt201_status16(dl_str(info, "status")));
    add_str(r, "expiryDate", dl_str(info, "cacheExpiryDateTime"));
    add_tag(r, "parentIdTag", dl_obj(info, "groupIdToken"));
    return r;
}

int adapt201_reserve_now(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                         struct follow *then, const char **code, struct cs_error *err)
{
    int rc = adapt201_check_token(req, "idToken", true, code, err);
    if (rc || (rc = adapt201_check_token(req, "groupIdToken", false, code, err)))
        return rc;
    cJSON *r = reserve16(req);
    const char *status = reserve_answer(ch, r);
    cJSON_Delete(r);
    jw_kstr(resp, "status", status);
    if (strcmp(status, "Accepted") == 0) {
        then->kind = F_AFTER;
        then->after = reserve_after;
    }
    return CS_OK;
}

static void cancel_after(struct charger_rt *ch, const cJSON *req)
{
    reserve_cancel(ch, dl_i32(req, "reservationId"));
}

int adapt201_cancel_reservation(struct charger_rt *ch, const cJSON *req, struct jw *resp,
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

/* 2.0.1's AuthorizationStatus has values 1.6 lacks: each is a refusal. */
const char *adapt201_status16(const char *s)
{
    static const char *const same[] = {"Accepted", "Blocked", "ConcurrentTx",
                                       "Expired",  "Invalid", NULL};
    for (const char *const *p = same; s && *p; p++)
        if (strcmp(*p, s) == 0)
            return s;
    return "Invalid";
}

int adapt201_send_local_list(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                             struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    cJSON *r = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(r, "localAuthorizationList");
    cJSON_AddNumberToObject(r, "listVersion", dl_int(req, "versionNumber", 0));
    add_str(r, "updateType", dl_str(req, "updateType"));
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "localAuthorizationList"))
    {
        cJSON *e = cJSON_CreateObject();
        const cJSON *info = dl_obj(it, "idTokenInfo");
        add_tag(e, "idTag", dl_obj(it, "idToken"));
        if (info) {
            cJSON *i16 = cJSON_AddObjectToObject(e, "idTagInfo");
            add_str(i16, "status", adapt201_status16(dl_str(info, "status")));
            add_str(i16, "expiryDate", dl_str(info, "cacheExpiryDateTime"));
            add_tag(i16, "parentIdTag", dl_obj(info, "groupIdToken"));
        }
        cJSON_AddItemToArray(list, e);
    }
    const char *status;
    int rc = authz_send_list(ch, r, &status, code, err);
    cJSON_Delete(r);
    if (rc == CS_OK)
        jw_kstr(resp, "status", strcmp(status, "NotSupported") == 0 ? "Failed" : status);
    return rc;
}

static const char *purpose16(const char *p)
{
    return p && strcmp(p, "ChargingStationMaxProfile") == 0 ? "ChargePointMaxProfile" : p;
}

/* SetChargingProfile's chargingProfile as a 1.6 csChargingProfiles (its first schedule); NULL
 * when its transactionId is not the EVSE's running transaction. */
cJSON *adapt201_profile(struct charger_rt *ch, int evse, const cJSON *p)
{
    const char *tx = dl_str(p, "transactionId");
    if (tx && emit_tx_find(ch, tx) != evse)
        return NULL;
    cJSON *r = cJSON_CreateObject();
    add_copy(r, "chargingProfileId", cJSON_GetObjectItemCaseSensitive(p, "id"));
    add_copy(r, "stackLevel", cJSON_GetObjectItemCaseSensitive(p, "stackLevel"));
    add_str(r, "chargingProfilePurpose", purpose16(dl_str(p, "chargingProfilePurpose")));
    add_copy(r, "chargingProfileKind", cJSON_GetObjectItemCaseSensitive(p, "chargingProfileKind"));
    add_copy(r, "recurrencyKind", cJSON_GetObjectItemCaseSensitive(p, "recurrencyKind"));
    add_copy(r, "validFrom", cJSON_GetObjectItemCaseSensitive(p, "validFrom"));
    add_copy(r, "validTo", cJSON_GetObjectItemCaseSensitive(p, "validTo"));
    cJSON *sched = cJSON_Duplicate(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "chargingSchedule"), 0), true);
    if (sched)
        cJSON_DeleteItemFromObjectCaseSensitive(sched, "id");
    cJSON_AddItemToObject(r, "chargingSchedule", sched ? sched : cJSON_CreateNull());
    return r;
}

static void limits_after(struct charger_rt *ch, const cJSON *req)
{
    (void)req;
    smart_update(ch);
}

int adapt201_set_charging_profile(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                  struct follow *then, const char **code, struct cs_error *err)
{
    int evse = dl_int(req, "evseId", -1);
    const char *purpose = dl_str(dl_obj(req, "chargingProfile"), "chargingProfilePurpose");
    bool external = purpose && strcmp(purpose, "ChargingStationExternalConstraints") == 0;
    cJSON *p = external ? NULL : adapt201_profile(ch, evse, dl_obj(req, "chargingProfile"));
    const char *status = "Rejected"; /* external constraints are the station's to set */
    if (p) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "connectorId", evse);
        cJSON_AddItemToObject(r, "csChargingProfiles", p);
        int rc = smart_set(ch, r, &status, code, err);
        cJSON_Delete(r);
        if (rc)
            return rc;
    }
    jw_kstr(resp, "status", status);
    then->kind = F_AFTER;
    then->after = limits_after;
    return CS_OK;
}

int adapt201_clear_charging_profile(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                    struct follow *then, const char **code, struct cs_error *err)
{
    static const char *const purposes[] = {"ChargingStationMaxProfile", "TxDefaultProfile",
                                           "TxProfile", "ChargingStationExternalConstraints", NULL};
    static const struct ocpp_field f_crit[] = {
        {"evseId", FT_INT, false, 0, NULL},
        {"chargingProfilePurpose", FT_STRING, false, 0, purposes},
        {"stackLevel", FT_INT, false, 0, NULL},
        {NULL, 0, false, 0, NULL}};
    const cJSON *crit = dl_obj(req, "chargingProfileCriteria");
    int rc = crit ? ocpp_check(crit, f_crit, code, err) : CS_OK;
    if (rc)
        return rc;
    if (strcmp(dl_str(crit, "chargingProfilePurpose") ? dl_str(crit, "chargingProfilePurpose") : "",
               "ChargingStationExternalConstraints") == 0) {
        jw_kstr(resp, "status", "Unknown"); /* the charger keeps none of those */
        return CS_OK;
    }
    cJSON *r = cJSON_CreateObject();
    add_copy(r, "id", cJSON_GetObjectItemCaseSensitive(req, "chargingProfileId"));
    add_copy(r, "connectorId", cJSON_GetObjectItemCaseSensitive(crit, "evseId"));
    add_str(r, "chargingProfilePurpose", purpose16(dl_str(crit, "chargingProfilePurpose")));
    add_copy(r, "stackLevel", cJSON_GetObjectItemCaseSensitive(crit, "stackLevel"));
    jw_kstr(resp, "status", smart_clear(ch, r));
    cJSON_Delete(r);
    then->kind = F_AFTER;
    then->after = limits_after;
    return CS_OK;
}

/* The composite as smart.c writes it (1.6), rewritten: {status, schedule{evseId, duration,
 * scheduleStart, chargingRateUnit, chargingSchedulePeriod}}. */
int adapt201_get_composite_schedule(struct charger_rt *ch, const cJSON *req, struct jw *resp,
                                    struct follow *then, const char **code, struct cs_error *err)
{
    (void)then;
    (void)code;
    (void)err;
    cJSON *r = cJSON_CreateObject();
    int evse = dl_int(req, "evseId", -1);
    cJSON_AddNumberToObject(r, "connectorId", evse);
    add_copy(r, "duration", cJSON_GetObjectItemCaseSensitive(req, "duration"));
    add_copy(r, "chargingRateUnit", cJSON_GetObjectItemCaseSensitive(req, "chargingRateUnit"));
    struct buf b = BUF_INIT;
    struct jw j;
    jw_init(&j, &b);
    jw_obj(&j);
    smart_composite(ch, r, &j);
    jw_end(&j);
    cJSON_Delete(r);
    cJSON *c = cJSON_Parse(buf_cstr(&b));
    buf_free(&b);
    const char *status = dl_str(c, "status");
    const cJSON *s = dl_obj(c, "chargingSchedule");
    jw_kstr(resp, "status", status && s ? status : "Rejected");
    if (status && s) {
        jw_key(resp, "schedule");
        jw_obj(resp);
        jw_kint(resp, "evseId", evse);
        jw_kint(resp, "duration", dl_int(s, "duration", 0));
        jw_kstr(resp, "scheduleStart", dl_str(c, "scheduleStart"));
        jw_kstr(resp, "chargingRateUnit", dl_str(s, "chargingRateUnit"));
        jw_key(resp, "chargingSchedulePeriod");
        jw_cjson(resp, cJSON_GetObjectItemCaseSensitive(s, "chargingSchedulePeriod"));
        jw_end(resp);
    }
    cJSON_Delete(c);
    return CS_OK;
}
