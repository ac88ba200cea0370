/* ocpp.c - downlink decoding, frame encoding for both profiles, CALL payload validation. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/util.h"

void ocpp_frame_free(struct ocpp_frame *f)
{
    cJSON_Delete(f->payload);
    memset(f, 0, sizeof(*f));
}

bool ocpp_is_formation_violation(const char *code)
{
    return strcmp(code, "FormationViolation") == 0 || strcmp(code, "FormatViolation") == 0;
}

static bool copy_uid(const cJSON *v, char *uid)
{
    if (cJSON_IsString(v) && strlen(v->valuestring) > 0 && strlen(v->valuestring) <= OCPP_UID_MAX) {
        strcpy(uid, v->valuestring);
        return true;
    }
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15) {
        /* tolerated from loose platforms */
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%.0f", v->valuedouble);
        strcpy(uid, tmp);
        return true;
    }
    return false;
}

static int fail(const char **code, const char *c, struct cs_error *err, const char *msg)
{
    *code = c;
    return cs_error_set(err, CS_ERR_PARSE, "%s", msg);
}

static int decode_ocppj(const cJSON *root, struct ocpp_frame *f, const char **code,
                        struct cs_error *err)
{
    if (!cJSON_IsArray(root))
        return fail(code, OCPP_E_FORMATION, err, "frame is not a JSON array");
    int n = cJSON_GetArraySize(root);
    const cJSON *t = cJSON_GetArrayItem(root, 0), *u = cJSON_GetArrayItem(root, 1);
    if (n >= 2)
        copy_uid(u, f->uid);
    if (!cJSON_IsNumber(t))
        return fail(code, OCPP_E_FORMATION, err, "MessageTypeId is not a number");
    if (!f->uid[0])
        return fail(code, OCPP_E_FORMATION, err, "missing or bad UniqueId");
    /* 2, 3 or 4 exactly (2.5 is no MessageTypeId; casting 1e300 to int is undefined) */
    f->type = t->valuedouble >= OCPP_CALL && t->valuedouble <= OCPP_ERROR &&
                      t->valuedouble == (int)t->valuedouble
                  ? (int)t->valuedouble
                  : 0;
    switch (f->type) {
    case OCPP_CALL: {
        const cJSON *a = cJSON_GetArrayItem(root, 2), *p = cJSON_GetArrayItem(root, 3);
        if (n != 4 || !cJSON_IsString(a) || !*a->valuestring || strlen(a->valuestring) >= 64)
            return fail(code, OCPP_E_FORMATION, err, "CALL must be [2, id, \"Action\", {...}]");
        if (!cJSON_IsObject(p))
            return fail(code, OCPP_E_FORMATION, err, "CALL payload is not an object");
        strcpy(f->action, a->valuestring);
        f->payload = cJSON_Duplicate(p, true);
        return CS_OK;
    }
    case OCPP_RESULT: {
        const cJSON *p = cJSON_GetArrayItem(root, 2);
        if (n != 3 || !cJSON_IsObject(p))
            return fail(code, OCPP_E_FORMATION, err, "CALLRESULT must be [3, id, {...}]");
        f->payload = cJSON_Duplicate(p, true);
        return CS_OK;
    }
    case OCPP_ERROR: {
        const cJSON *c = cJSON_GetArrayItem(root, 2), *d = cJSON_GetArrayItem(root, 3);
        if ((n != 5 && n != 4) || !cJSON_IsString(c) || !cJSON_IsString(d))
            return fail(code, OCPP_E_FORMATION, err,
                        "CALLERROR must be [4, id, \"Code\", \"description\", {...}]");
        cs_strlcpy(f->err_code, c->valuestring, sizeof(f->err_code));
        cs_strlcpy(f->err_desc, d->valuestring, sizeof(f->err_desc));
        return CS_OK;
    }
    }
    return fail(code, OCPP_E_FORMATION, err, "MessageTypeId must be 2, 3 or 4");
}

static int decode_json(const cJSON *root, struct ocpp_frame *f, const char **code,
                       struct cs_error *err)
{
    if (!cJSON_IsObject(root))
        return fail(code, OCPP_E_FORMATION, err, "message is not a JSON object");
    copy_uid(cJSON_GetObjectItemCaseSensitive(root, "id"), f->uid);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(t))
        t = cJSON_GetObjectItemCaseSensitive(root, "method");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!d)
        d = cJSON_GetObjectItemCaseSensitive(root, "params");
    if (!f->uid[0])
        return fail(code, OCPP_E_FORMATION, err, "missing or bad \"id\"");
    if (!cJSON_IsString(t) || !*t->valuestring || strlen(t->valuestring) >= 64)
        return fail(code, OCPP_E_FORMATION, err, "missing \"type\" (or \"method\")");
    if (d && !cJSON_IsObject(d))
        return fail(code, OCPP_E_FORMATION, err, "\"data\" is not an object");
    const char *type = t->valuestring;
    size_t tl = strlen(type);
    if (strcmp(type, "Error") == 0) {
        const cJSON *c = d ? cJSON_GetObjectItemCaseSensitive(d, "code") : NULL;
        const cJSON *ds = d ? cJSON_GetObjectItemCaseSensitive(d, "description") : NULL;
        f->type = OCPP_ERROR;
        cs_strlcpy(f->err_code, cJSON_IsString(c) ? c->valuestring : OCPP_E_GENERIC,
                   sizeof(f->err_code));
        cs_strlcpy(f->err_desc, cJSON_IsString(ds) ? ds->valuestring : "", sizeof(f->err_desc));
        return CS_OK;
    }
    if (tl > 8 && strcmp(type + tl - 8, "Response") == 0) {
        f->type = OCPP_RESULT;
        memcpy(f->action, type, tl - 8);
        f->action[tl - 8] = '\0';
    } else {
        f->type = OCPP_CALL;
        strcpy(f->action, type);
    }
    f->payload = d ? cJSON_Duplicate(d, true) : cJSON_CreateObject();
    return CS_OK;
}

int ocpp_decode(enum ocpp_profile p, const char *buf, size_t len, struct ocpp_frame *f,
                const char **code, struct cs_error *err)
{
    memset(f, 0, sizeof(*f));
    *code = NULL;
    if (len > OCPP_DOWNLINK_MAX)
        return fail(code, OCPP_E_FORMATION, err, "message larger than 65536 bytes");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
    if (!root)
        return fail(code, OCPP_E_FORMATION, err, "not valid JSON");
    size_t rest = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : len;
    while (rest < len && isspace((unsigned char)buf[rest]))
        rest++;
    /* decoded even with trailing data, so that the uid is filled when it can be read */
    int rc = p == PROFILE_JSON ? decode_json(root, f, code, err) : decode_ocppj(root, f, code, err);
    if (rc == CS_OK && rest < len && buf[rest] != '\0')
        rc = fail(code, OCPP_E_FORMATION, err, "trailing data after the JSON value");
    cJSON_Delete(root);
    if (rc) {
        cJSON_Delete(f->payload);
        f->payload = NULL;
    }
    return rc;
}

/* ---- encoding ------------------------------------------------------------------------------ */

static void json_envelope(const char *uid, const char *type, int64_t ts_ms, const char *data,
                          size_t len, struct buf *out)
{
    char ts[32];
    struct jw j;
    jw_init(&j, out);
    jw_obj(&j);
    jw_kstr(&j, "id", uid);
    jw_kstr(&j, "ts", cs_fmt_iso8601(ts, sizeof(ts), ts_ms));
    jw_kstr(&j, "type", type);
    jw_key(&j, "data");
    jw_raw(&j, data, len);
    jw_end(&j);
}

void ocpp_encode_call(enum ocpp_profile p, const char *uid, const char *action, int64_t ts_ms,
                      const char *payload, size_t len, struct buf *out)
{
    if (p == PROFILE_JSON) {
        json_envelope(uid, action, ts_ms, payload, len, out);
        return;
    }
    struct jw j;
    jw_init(&j, out);
    jw_arr(&j);
    jw_int(&j, OCPP_CALL);
    jw_str(&j, uid);
    jw_str(&j, action);
    jw_raw(&j, payload, len);
    jw_end(&j);
}

void ocpp_encode_result(enum ocpp_profile p, const char *uid, const char *action, int64_t ts_ms,
                        const char *payload, size_t len, struct buf *out)
{
    if (p == PROFILE_JSON) {
        char type[80];
        snprintf(type, sizeof(type), "%sResponse", action);
        json_envelope(uid, type, ts_ms, payload, len, out);
        return;
    }
    struct jw j;
    jw_init(&j, out);
    jw_arr(&j);
    jw_int(&j, OCPP_RESULT);
    jw_str(&j, uid);
    jw_raw(&j, payload, len);
    jw_end(&j);
}

void ocpp_encode_error(enum ocpp_profile p, const char *uid, const char *code, const char *desc,
                       int64_t ts_ms, struct buf *out)
{
    if (p == PROFILE_JSON) {
        struct buf data = BUF_INIT;
        struct jw d;
        jw_init(&d, &data);
        jw_obj(&d);
        jw_kstr(&d, "code", code);
        jw_kstr(&d, "description", desc);
        jw_end(&d);
        json_envelope(uid, "Error", ts_ms, data.s, data.len, out);
        buf_free(&data);
        return;
    }
    struct jw j;
    jw_init(&j, out);
    jw_arr(&j);
    jw_int(&j, OCPP_ERROR);
    jw_str(&j, uid);
    jw_str(&j, code);
    jw_str(&j, desc);
    jw_obj(&j);
    jw_end(&j);
    jw_end(&j);
}

/* ---- validation ------------------------------------------------------------------------------ */

bool ocpp_datetime_parse(const char *s, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int y, mo, d, h, mi, se, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
        return false;
    for (int i = 0; i < 19; i++)
        if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && !isdigit((unsigned char)s[i]))
            return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 60)
        return false;
    bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    if (d > mdays[mo - 1] + (mo == 2 && leap)) /* no February 30th: timegm would roll over */
        return false;
    const char *p = s + 19;
    int frac_ms = 0;
    if (*p == '.') {
        int digits = 0, scale = 100;
        p++;
        while (isdigit((unsigned char)*p)) {
            if (digits < 3)
                frac_ms += (*p - '0') * scale, scale /= 10;
            digits++;
            p++;
        }
        if (digits == 0)
            return false;
    }
    int offset_s = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
            !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
            return false;
        oh = (p[1] - '0') * 10 + (p[2] - '0');
        om = (p[4] - '0') * 10 + (p[5] - '0');
        if (oh > 23 || om > 59)
            return false;
        offset_s = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    if (ms)
        *ms = ((int64_t)t - offset_s) * 1000 + frac_ms;
    return true;
}

bool ocpp_datetime_valid(const char *s)
{
    return ocpp_datetime_parse(s, NULL);
}

int ocpp_check(const cJSON *obj, const struct ocpp_field *fields, const char **code,
               struct cs_error *err)
{
    for (const struct ocpp_field *f = fields; f && f->name; f++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->name);
        if (!v) {
            if (f->required) {
                *code = OCPP_E_OCCURRENCE;
                return cs_error_set(err, CS_ERR_PARSE, "missing required field %s", f->name);
            }
            continue;
        }
        bool type_ok = false;
        switch (f->type) {
        case FT_STRING:
        case FT_DATETIME:
            type_ok = cJSON_IsString(v);
            break;
        case FT_INT: /* range first: casting 1e300 to int64_t is undefined */
            type_ok = cJSON_IsNumber(v) && v->valuedouble > -9e18 && v->valuedouble < 9e18 &&
                      v->valuedouble == (double)(int64_t)v->valuedouble;
            break;
        case FT_NUMBER:
            type_ok = cJSON_IsNumber(v);
            break;
        case FT_BOOL:
            type_ok = cJSON_IsBool(v);
            break;
        case FT_OBJECT:
            type_ok = cJSON_IsObject(v);
            break;
        case FT_ARRAY:
            type_ok = cJSON_IsArray(v);
            break;
        }
        if (!type_ok) {
            *code = OCPP_E_TYPE;
            return cs_error_set(err, CS_ERR_PARSE, "field %s has the wrong type", f->name);
        }
        if (f->type == FT_STRING && f->maxlen && (int)strlen(v->valuestring) > f->maxlen) {
            *code = OCPP_E_PROPERTY;
            return cs_error_set(err, CS_ERR_RANGE, "field %s longer than %d", f->name, f->maxlen);
        }
        if (f->type == FT_DATETIME && !ocpp_datetime_valid(v->valuestring)) {
            *code = OCPP_E_PROPERTY;
            return cs_error_set(err, CS_ERR_PARSE, "field %s is not an ISO 8601 date-time",
                                f->name);
        }
        if (f->choices) {
            bool ok = false;
            for (const char *const *c = f->choices; *c; c++)
                ok |= strcmp(*c, v->valuestring) == 0;
            if (!ok) {
                *code = OCPP_E_PROPERTY;
                return cs_error_set(err, CS_ERR_RANGE, "field %s: '%.*s' is not allowed", f->name,
                                    CS_UTF8_CLIP(v->valuestring, 40));
            }
        }
        if (f->type == FT_INT && v->valuedouble < 0) {
            *code = OCPP_E_PROPERTY;
            return cs_error_set(err, CS_ERR_RANGE, "field %s must not be negative", f->name);
        }
        /* ids, counts and intervals are 32-bit in every OCPP implementation: a larger number
         * would wrap (or read as "any") in the charger */
        if (f->type == FT_INT && v->valuedouble > INT32_MAX) {
            *code = OCPP_E_PROPERTY;
            return cs_error_set(err, CS_ERR_RANGE, "field %s is above 2147483647", f->name);
        }
    }
    return CS_OK;
}

static const char *const reset_types[] = {"Hard", "Soft", NULL};
static const char *const availability_types[] = {"Inoperative", "Operative", NULL};
static const char *const trigger_messages[] = {"BootNotification",
                                               "DiagnosticsStatusNotification",
                                               "FirmwareStatusNotification",
                                               "Heartbeat",
                                               "MeterValues",
                                               "StatusNotification",
                                               NULL};

static const struct ocpp_field f_remote_start[] = {{"connectorId", FT_INT, false, 0, NULL},
                                                   {"idTag", FT_STRING, true, 20, NULL},
                                                   {"chargingProfile", FT_OBJECT, false, 0, NULL},
                                                   {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_remote_stop[] = {{"transactionId", FT_INT, true, 0, NULL},
                                                  {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_reset[] = {{"type", FT_STRING, true, 0, reset_types},
                                            {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_change_config[] = {{"key", FT_STRING, true, 50, NULL},
                                                    {"value", FT_STRING, true, 500, NULL},
                                                    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_get_config[] = {{"key", FT_ARRAY, false, 0, NULL},
                                                 {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_change_avail[] = {{"connectorId", FT_INT, true, 0, NULL},
                                                   {"type", FT_STRING, true, 0, availability_types},
                                                   {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_unlock[] = {{"connectorId", FT_INT, true, 0, NULL},
                                             {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_trigger[] = {
    {"requestedMessage", FT_STRING, true, 0, trigger_messages},
    {"connectorId", FT_INT, false, 0, NULL},
    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_data_transfer[] = {{"vendorId", FT_STRING, true, 255, NULL},
                                                    {"messageId", FT_STRING, false, 50, NULL},
                                                    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_update_firmware[] = {{"location", FT_STRING, true, 0, NULL},
                                                      {"retries", FT_INT, false, 0, NULL},
                                                      {"retrieveDate", FT_DATETIME, true, 0, NULL},
                                                      {"retryInterval", FT_INT, false, 0, NULL},
                                                      {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_get_diagnostics[] = {
    {"location", FT_STRING, true, 0, NULL},    {"retries", FT_INT, false, 0, NULL},
    {"retryInterval", FT_INT, false, 0, NULL}, {"startTime", FT_DATETIME, false, 0, NULL},
    {"stopTime", FT_DATETIME, false, 0, NULL}, {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_none[] = {{NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_cancel_reservation[] = {{"reservationId", FT_INT, true, 0, NULL},
                                                         {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_reserve_now[] = {
    {"connectorId", FT_INT, true, 0, NULL},   {"expiryDate", FT_DATETIME, true, 0, NULL},
    {"idTag", FT_STRING, true, 20, NULL},     {"parentIdTag", FT_STRING, false, 20, NULL},
    {"reservationId", FT_INT, true, 0, NULL}, {NULL, 0, false, 0, NULL}};
static const char *const update_types[] = {"Differential", "Full", NULL};
static const struct ocpp_field f_send_local_list[] = {
    {"listVersion", FT_INT, true, 0, NULL},
    {"localAuthorizationList", FT_ARRAY, false, 0, NULL},
    {"updateType", FT_STRING, true, 0, update_types},
    {NULL, 0, false, 0, NULL}};
static const struct ocpp_field f_set_profile[] = {{"connectorId", FT_INT, true, 0, NULL},
                                                  {"csChargingProfiles", FT_OBJECT, true, 0, NULL},
                                                  {NULL, 0, false, 0, NULL}};
static const char *const profile_purposes[] = {"ChargePointMaxProfile", "TxDefaultProfile",
                                               "TxProfile", NULL};
static const struct ocpp_field f_clear_profile[] = {
    {"id", FT_INT, false, 0, NULL},
    {"connectorId", FT_INT, false, 0, NULL},
    {"chargingProfilePurpose", FT_STRING, false, 0, profile_purposes},
    {"stackLevel", FT_INT, false, 0, NULL},
    {NULL, 0, false, 0, NULL}};
static const char *const rate_units[] = {"A", "W", NULL};
static const struct ocpp_field f_composite[] = {
    {"connectorId", FT_INT, true, 0, NULL},
    {"duration", FT_INT, true, 0, NULL},
    {"chargingRateUnit", FT_STRING, false, 0, rate_units},
    {NULL, 0, false, 0, NULL}};

/* Every action OCPP 1.6 lets the platform send a charge point, by enum ocpp_call, with the
 * fields checked before a handler sees the payload (nested objects are checked by the module
 * that reads them: chprof.c, authlist.c). */
static const struct {
    const char *action;
    const struct ocpp_field *fields;
} call_fields[] = {
    [OC_REMOTE_START] = {"RemoteStartTransaction", f_remote_start},
    [OC_REMOTE_STOP] = {"RemoteStopTransaction", f_remote_stop},
    [OC_RESET] = {"Reset", f_reset},
    [OC_CHANGE_CONFIGURATION] = {"ChangeConfiguration", f_change_config},
    [OC_GET_CONFIGURATION] = {"GetConfiguration", f_get_config},
    [OC_CHANGE_AVAILABILITY] = {"ChangeAvailability", f_change_avail},
    [OC_UNLOCK_CONNECTOR] = {"UnlockConnector", f_unlock},
    [OC_TRIGGER_MESSAGE] = {"TriggerMessage", f_trigger},
    [OC_DATA_TRANSFER] = {"DataTransfer", f_data_transfer},
    [OC_UPDATE_FIRMWARE] = {"UpdateFirmware", f_update_firmware},
    [OC_CANCEL_RESERVATION] = {"CancelReservation", f_cancel_reservation},
    [OC_CLEAR_CACHE] = {"ClearCache", f_none},
    [OC_CLEAR_CHARGING_PROFILE] = {"ClearChargingProfile", f_clear_profile},
    [OC_GET_COMPOSITE_SCHEDULE] = {"GetCompositeSchedule", f_composite},
    [OC_GET_DIAGNOSTICS] = {"GetDiagnostics", f_get_diagnostics},
    [OC_GET_LOCAL_LIST_VERSION] = {"GetLocalListVersion", f_none},
    [OC_RESERVE_NOW] = {"ReserveNow", f_reserve_now},
    [OC_SEND_LOCAL_LIST] = {"SendLocalList", f_send_local_list},
    [OC_SET_CHARGING_PROFILE] = {"SetChargingProfile", f_set_profile},
};

_Static_assert(ARRAY_SIZE(call_fields) == OCPP_CALLS_IN,
               "call_fields out of step with enum ocpp_call");

const char *ocpp_call_name(int i)
{
    return i >= 0 && i < OCPP_CALLS_IN ? call_fields[i].action : NULL;
}

int ocpp_call_index(const char *action)
{
    for (size_t i = 0; i < ARRAY_SIZE(call_fields); i++)
        if (strcmp(call_fields[i].action, action) == 0)
            return (int)i;
    return -1;
}

const struct ocpp_field *ocpp_call_fields(const char *action)
{
    for (size_t i = 0; i < ARRAY_SIZE(call_fields); i++)
        if (strcmp(call_fields[i].action, action) == 0)
            return call_fields[i].fields;
    return NULL;
}

enum ocpp_version ocpp_version_of(const char *name)
{
    return name && strcmp(name, "2.0.1") == 0 ? OCPP_V201 : OCPP_V16;
}

const char *ocpp_version_subprotocol(enum ocpp_version v)
{
    return v == OCPP_V201 ? "ocpp2.0.1" : "ocpp1.6";
}

enum ocpp_profile ocpp_profile_of(const char *name)
{
    return strcmp(name, "json") == 0 ? PROFILE_JSON : PROFILE_OCPP16J;
}
