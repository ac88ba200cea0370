/* test_catalog201.c - the built-in OCPP 2.0.1 messages (catalog201.c): golden frames in
 * tests/data/v201 (one per message, <Action>.json, TransactionEvent-<eventType>.json; the exact
 * frame without a trailing newline), the status, reason and trigger mappings against the
 * schema's enumerations, overrides, the per-version lookups, and the field specs of the
 * platform's 2.0.1 CALLs (cs/ocpp201.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/catalog.h"
#include "cs/cfg.h"
#include "cs/charger.h"
#include "cs/kv.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/ocpp201.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00.000Z */
#define UID "00000000-0000-4000-8000-000000000000"
#define TS "\"2026-01-01T00:00:00.000Z\""

/* ---- fixture ------------------------------------------------------------------------------- */

struct fix {
    struct charger ch;
    struct charger_cfg cfg;
};

#define ALL_MEASURANDS                                                                             \
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC,Power.Offered,"  \
    "Current.Offered"

/* As test_catalog.c: charger 42 with two connectors; connector 1 plugged in at T0 - 30 min, in a
 * transaction (idTag TAG-42, SoC 20 % at the start) charging at 22 kW ever since; connector 2
 * Available. Default config but for the measurands: all seven. */
static int setup(void **state)
{
    struct fix *f = cs_calloc(1, sizeof(*f));
    const int64_t start = T0 - 1800000;
    cfg_defaults(&cfg_charger_schema, &f->cfg);
    if (cfg_set(&cfg_charger_schema, &f->cfg, "measurands", ALL_MEASURANDS, NULL))
        return -1;
    charger_init(&f->ch, 42, "CP-000042", 2, start);
    if (charger_event(&f->ch, 1, CE_PLUG, f->cfg.max_kw, start, NULL, NULL))
        return -1;
    charger_tx_begin(&f->ch, 1, "TAG-42", 22, 0, 0, 20, start);
    if (charger_event(&f->ch, 1, CE_START, f->cfg.max_kw, start, NULL, NULL))
        return -1;
    charger_integrate(&f->ch, T0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    cs_free(*state);
    return 0;
}

static char *read_golden(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/v201/%s.json", CS_TEST_DATA, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        print_error("cannot open golden file %s\n", path);
    assert_non_null(fp);
    struct buf b = BUF_INIT;
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
        buf_append(&b, tmp, n);
    fclose(fp);
    *len = b.len;
    return buf_detach(&b);
}

static cJSON *parse_strict(const char *text)
{
    cJSON *j = cJSON_ParseWithOpts(text, NULL, true);
    if (!j)
        print_error("not valid JSON: %s\n", text);
    assert_non_null(j);
    return j;
}

static void set_overrides(struct kvlist *l, const char *const *pairs)
{
    kv_clear(l);
    for (size_t i = 0; pairs && pairs[i]; i += 2)
        kv_set(l, pairs[i], pairs[i + 1]);
}

static bool in(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* Builds a payload and parses it (caller deletes). */
static cJSON *payload_of(const struct msg_def *m, const struct msg_ctx *x)
{
    struct buf out = BUF_INIT;
    struct cs_error err;
    int rc = catalog_build_payload(m, x, &out, &err);
    if (rc)
        print_error("%s: %s\n", m->name, err.msg);
    assert_int_equal(rc, CS_OK);
    cJSON *j = parse_strict(buf_cstr(&out));
    buf_free(&out);
    return j;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- the schema's enumerations (ocpp2_0_1.json) ------------------------------------------- */

static const char *const connector_status_enum[] = {"Available",   "Occupied", "Reserved",
                                                    "Unavailable", "Faulted",  NULL};
static const char *const charging_state_enum[] = {"Charging",      "EVConnected", "SuspendedEV",
                                                  "SuspendedEVSE", "Idle",        NULL};
static const char *const reason_enum[] = {
    "DeAuthorized",     "EmergencyStop", "EnergyLimitReached", "EVDisconnected", "GroundFault",
    "ImmediateReset",   "Local",         "LocalOutOfCredit",   "MasterPass",     "Other",
    "OvercurrentFault", "PowerLoss",     "PowerQuality",       "Reboot",         "Remote",
    "SOCLimitReached",  "StoppedByEV",   "TimeLimitReached",   "Timeout",        NULL};
static const char *const trigger_reason_enum[] = {"Authorized",          "CablePluggedIn",
                                                  "ChargingRateChanged", "ChargingStateChanged",
                                                  "Deauthorized",        "EnergyLimitReached",
                                                  "EVCommunicationLost", "EVConnectTimeout",
                                                  "MeterValueClock",     "MeterValuePeriodic",
                                                  "TimeLimitReached",    "Trigger",
                                                  "UnlockCommand",       "StopAuthorized",
                                                  "EVDeparted",          "EVDetected",
                                                  "RemoteStop",          "RemoteStart",
                                                  "AbnormalCondition",   "SignedDataReceived",
                                                  "ResetCommand",        NULL};
static const char *const firmware_status_enum[] = {
    "Downloaded",         "DownloadFailed",    "Downloading",
    "DownloadScheduled",  "DownloadPaused",    "Idle",
    "InstallationFailed", "Installing",        "Installed",
    "InstallRebooting",   "InstallScheduled",  "InstallVerificationFailed",
    "InvalidSignature",   "SignatureVerified", NULL};
static const char *const log_status_enum[] = {"BadMessage",
                                              "Idle",
                                              "NotSupportedOperation",
                                              "PermissionDenied",
                                              "Uploaded",
                                              "UploadFailure",
                                              "Uploading",
                                              "AcceptedCanceled",
                                              NULL};

/* ---- golden frames ------------------------------------------------------------------------- */

/* What each message is built from: the fields of struct msg_ctx its builder reads. */
static const struct {
    const char *file;
    enum msg_id id; /* MSG_CUSTOM: found by name */
    const char *name;
    int connector;
    const char *id_tag, *tx_key, *event_type, *reason, *status, *context;
    uint32_t seq_no;
    bool offline, remote;
    const char *message_id, *data;
} golden[] = {
    {.file = "BootNotification", .id = MSG_BOOT_NOTIFICATION, .name = "BootNotification"},
    {.file = "Heartbeat", .id = MSG_HEARTBEAT, .name = "Heartbeat"},
    {.file = "StatusNotification",
     .id = MSG_STATUS_NOTIFICATION,
     .name = "StatusNotification",
     .connector = 1},
    {.file = "MeterValues", .id = MSG_METER_VALUES, .name = "MeterValues", .connector = 1},
    {.file = "Authorize", .id = MSG_AUTHORIZE, .name = "Authorize", .id_tag = "TAG-42"},
    {.file = "TransactionEvent-Started",
     .id = MSG_START_TRANSACTION,
     .name = "TransactionEvent",
     .connector = 1,
     .id_tag = "TAG-42",
     .tx_key = "CP-000042-1",
     .event_type = "Started",
     .seq_no = 0,
     .remote = true},
    {.file = "TransactionEvent-Updated",
     .id = MSG_START_TRANSACTION,
     .name = "TransactionEvent",
     .connector = 1,
     .tx_key = "CP-000042-1",
     .event_type = "Updated",
     .seq_no = 1,
     .offline = true},
    {.file = "TransactionEvent-Ended",
     .id = MSG_STOP_TRANSACTION,
     .name = "TransactionEvent",
     .connector = 1,
     .id_tag = "TAG-42",
     .tx_key = "CP-000042-1",
     .event_type = "Ended",
     .reason = "EVDisconnected",
     .seq_no = 2,
     .remote = true},
    {.file = "DataTransfer",
     .id = MSG_DATA_TRANSFER,
     .name = "DataTransfer",
     .message_id = "Ping",
     .data = "{\"seq\":1}"},
    {.file = "FirmwareStatusNotification",
     .id = MSG_FIRMWARE_STATUS,
     .name = "FirmwareStatusNotification",
     .status = "Installed"},
    {.file = "LogStatusNotification",
     .id = MSG_DIAGNOSTICS_STATUS,
     .name = "LogStatusNotification",
     .status = "UploadFailed"},
    {.file = "NotifyEvent", .id = MSG_CUSTOM, .name = "NotifyEvent"},
    {.file = "SecurityEventNotification", .id = MSG_CUSTOM, .name = "SecurityEventNotification"},
};

static const struct msg_def *golden_def(size_t i)
{
    return golden[i].id == MSG_CUSTOM ? catalog_lookup_v(OCPP_V201, golden[i].name)
                                      : catalog_v(OCPP_V201, golden[i].id);
}

static struct msg_ctx golden_ctx(const struct fix *f, size_t i)
{
    struct msg_ctx x = {
        .ch = &f->ch,
        .cfg = &f->cfg,
        .now_ms = T0,
        .connector = golden[i].connector,
        .id_tag = golden[i].id_tag,
        .tx_key = golden[i].tx_key,
        .event_type = golden[i].event_type,
        .reason = golden[i].reason,
        .status = golden[i].status,
        .context = golden[i].context,
        .seq_no = golden[i].seq_no,
        .offline = golden[i].offline,
        .has_remote_start = golden[i].remote,
        .remote_start_id = golden[i].remote ? 7 : 0,
        .message_id = golden[i].message_id,
        .data = golden[i].data,
    };
    return x;
}

static void test_golden(void **state)
{
    struct fix *f = *state;
    for (size_t i = 0; i < ARRAY_SIZE(golden); i++) {
        const struct msg_def *m = golden_def(i);
        assert_non_null(m);
        assert_string_equal(m->name, golden[i].name);
        assert_int_equal(m->id, golden[i].id);
        struct msg_ctx x = golden_ctx(f, i);
        struct buf out = BUF_INIT;
        struct cs_error err;
        assert_int_equal(catalog_build_call(m, &x, UID, &out, &err), CS_OK);
        size_t glen;
        char *want = read_golden(golden[i].file, &glen);
        if (glen != out.len || memcmp(want, out.s, glen) != 0)
            print_error("%s:\n  got  %s\n  want %s\n", golden[i].file, buf_cstr(&out), want);
        assert_int_equal(out.len, glen);
        assert_memory_equal(out.s, want, glen);
        cJSON *j = parse_strict(buf_cstr(&out));
        assert_string_equal(cJSON_GetArrayItem(j, 2)->valuestring, golden[i].name);
        cJSON_Delete(j);
        cs_free(want);
        buf_free(&out);
    }
}

/* ---- lookups ------------------------------------------------------------------------------- */

static void test_lookup_v(void **state)
{
    (void)state;
    static const char *const names201[MSG__COUNT] = {
        [MSG_BOOT_NOTIFICATION] = "BootNotification",
        [MSG_HEARTBEAT] = "Heartbeat",
        [MSG_STATUS_NOTIFICATION] = "StatusNotification",
        [MSG_METER_VALUES] = "MeterValues",
        [MSG_AUTHORIZE] = "Authorize",
        [MSG_START_TRANSACTION] = "TransactionEvent",
        [MSG_STOP_TRANSACTION] = "TransactionEvent",
        [MSG_DATA_TRANSFER] = "DataTransfer",
        [MSG_FIRMWARE_STATUS] = "FirmwareStatusNotification",
        [MSG_DIAGNOSTICS_STATUS] = "LogStatusNotification",
    };
    for (int i = 0; i < MSG__COUNT; i++) {
        /* 1.6: the table of catalog.c */
        assert_ptr_equal(catalog_v(OCPP_V16, (enum msg_id)i), catalog_get((enum msg_id)i));
        const struct msg_def *m = catalog_v(OCPP_V201, (enum msg_id)i);
        assert_non_null(m);
        assert_int_equal(m->id, i); /* the semantic id: per-message stats */
        assert_non_null(m->build);
        assert_string_equal(m->name, names201[i]);
        assert_non_null(strstr(catalog_names_v(OCPP_V201), m->name));
    }
    assert_null(catalog_v(OCPP_V201, MSG_CUSTOM));
    assert_null(catalog_v(OCPP_V201, (enum msg_id) - 1));
    assert_null(catalog_v(OCPP_V16, MSG_CUSTOM));

    const struct msg_def *tx = catalog201_tx_event();
    assert_ptr_equal(tx, catalog_v(OCPP_V201, MSG_START_TRANSACTION));
    assert_ptr_equal(catalog_lookup_v(OCPP_V201, "TransactionEvent"), tx);
    assert_int_equal(catalog_v(OCPP_V201, MSG_STOP_TRANSACTION)->id, MSG_STOP_TRANSACTION);
    assert_int_equal(tx->traits, MT_CONNECTOR | MT_TX);
    assert_int_equal(catalog_v(OCPP_V201, MSG_METER_VALUES)->traits, MT_CONNECTOR);
    assert_ptr_equal(catalog_lookup_v(OCPP_V201, "MeterValues"),
                     catalog_v(OCPP_V201, MSG_METER_VALUES));

    const struct msg_def *ne = catalog_lookup_v(OCPP_V201, "NotifyEvent");
    const struct msg_def *se = catalog_lookup_v(OCPP_V201, "SecurityEventNotification");
    assert_non_null(ne);
    assert_non_null(se);
    assert_int_equal(ne->id, MSG_CUSTOM);
    assert_int_equal(se->id, MSG_CUSTOM);

    static const char *const not201[] = {"StartTransaction",
                                         "StopTransaction",
                                         "DiagnosticsStatusNotification",
                                         "transactionevent",
                                         "",
                                         "TransactionEventRequest"};
    for (size_t i = 0; i < ARRAY_SIZE(not201); i++)
        assert_null(catalog_lookup_v(OCPP_V201, not201[i]));
    assert_null(catalog_lookup_v(OCPP_V16, "TransactionEvent"));
    assert_null(catalog_lookup_v(OCPP_V16, "NotifyEvent"));
    assert_ptr_equal(catalog_lookup_v(OCPP_V16, "StartTransaction"),
                     catalog_lookup("StartTransaction"));

    assert_string_equal(catalog_names_v(OCPP_V16), catalog_names());
    assert_string_equal(catalog_names_v(OCPP_V201),
                        "BootNotification, Heartbeat, StatusNotification, MeterValues, "
                        "Authorize, TransactionEvent, DataTransfer, FirmwareStatusNotification, "
                        "LogStatusNotification, NotifyEvent, SecurityEventNotification");
}

/* ---- mappings ------------------------------------------------------------------------------ */

static const struct {
    enum ocpp_status st;
    const char *connector_status, *charging_state;
} status_map[] = {
    {ST_AVAILABLE, "Available", "Idle"},
    {ST_PREPARING, "Occupied", "EVConnected"},
    {ST_CHARGING, "Occupied", "Charging"},
    {ST_SUSPENDED_EV, "Occupied", "SuspendedEV"},
    {ST_SUSPENDED_EVSE, "Occupied", "SuspendedEVSE"},
    {ST_FINISHING, "Occupied", "EVConnected"},
    {ST_RESERVED, "Reserved", "Idle"},
    {ST_UNAVAILABLE, "Unavailable", "Idle"},
    {ST_FAULTED, "Faulted", "Idle"},
};

static void test_status_mapping(void **state)
{
    struct fix *f = *state;
    assert_int_equal(ARRAY_SIZE(status_map), ST__COUNT);
    for (size_t i = 0; i < ARRAY_SIZE(status_map); i++) {
        assert_string_equal(catalog201_connector_status(status_map[i].st),
                            status_map[i].connector_status);
        assert_string_equal(catalog201_charging_state(status_map[i].st),
                            status_map[i].charging_state);
        assert_true(in(connector_status_enum, status_map[i].connector_status));
        assert_true(in(charging_state_enum, status_map[i].charging_state));

        /* in the messages: connector 2 in that status */
        f->ch.conn[2].status = status_map[i].st;
        struct msg_ctx x = {.ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .connector = 2};
        cJSON *j = payload_of(catalog_v(OCPP_V201, MSG_STATUS_NOTIFICATION), &x);
        assert_string_equal(str_at(j, "connectorStatus", NULL), status_map[i].connector_status);
        assert_int_equal(cJSON_GetObjectItem(j, "evseId")->valueint, 2);
        assert_int_equal(cJSON_GetObjectItem(j, "connectorId")->valueint, 1);
        cJSON_Delete(j);
        x.event_type = "Updated";
        x.tx_key = "k";
        j = payload_of(catalog201_tx_event(), &x);
        assert_string_equal(str_at(j, "transactionInfo", "chargingState"),
                            status_map[i].charging_state);
        cJSON_Delete(j);
    }
}

/* Every 1.6 StopTransaction reason, the 2.0.1 session-limit reasons, none and an unknown one. */
static const struct {
    const char *reason, *stopped, *trigger;
} reason_map[] = {
    {"Local", "Local", "StopAuthorized"},
    {"Remote", "Remote", "RemoteStop"},
    {"EVDisconnected", "EVDisconnected", "EVDeparted"},
    {"EmergencyStop", "EmergencyStop", "AbnormalCondition"},
    {"HardReset", "ImmediateReset", "ResetCommand"},
    {"SoftReset", "ImmediateReset", "ResetCommand"},
    {"Reboot", "Reboot", "ResetCommand"},
    {"PowerLoss", "PowerLoss", "AbnormalCondition"},
    {"DeAuthorized", "DeAuthorized", "Deauthorized"},
    {"UnlockCommand", "Other", "UnlockCommand"},
    {"Other", "Other", "AbnormalCondition"},
    {"EnergyLimitReached", "EnergyLimitReached", "EnergyLimitReached"},
    {"TimeLimitReached", "TimeLimitReached", "TimeLimitReached"},
    {NULL, "Local", "StopAuthorized"},
    {"Stopped", "Other", "AbnormalCondition"},
};

static void test_reason_mapping(void **state)
{
    struct fix *f = *state;
    int v16 = 0;
    for (size_t i = 0; i < ARRAY_SIZE(reason_map); i++) {
        enum stop_reason sr;
        if (reason_map[i].reason && stop_reason_parse(reason_map[i].reason, &sr))
            v16++;
        assert_string_equal(catalog201_stopped_reason(reason_map[i].reason), reason_map[i].stopped);
        assert_true(in(reason_enum, reason_map[i].stopped));
        assert_true(in(trigger_reason_enum, reason_map[i].trigger));

        struct msg_ctx x = {.ch = &f->ch,
                            .cfg = &f->cfg,
                            .now_ms = T0,
                            .connector = 1,
                            .tx_key = "k",
                            .reason = reason_map[i].reason};
        cJSON *j = payload_of(catalog_v(OCPP_V201, MSG_STOP_TRANSACTION), &x);
        assert_string_equal(str_at(j, "eventType", NULL), "Ended");
        assert_string_equal(str_at(j, "transactionInfo", "stoppedReason"), reason_map[i].stopped);
        assert_string_equal(str_at(j, "triggerReason", NULL), reason_map[i].trigger);
        /* no idTag given: no idToken on Ended */
        assert_null(cJSON_GetObjectItem(j, "idToken"));
        cJSON_Delete(j);
    }
    assert_int_equal(v16, SR__COUNT); /* every 1.6 reason is in the table */
}

static void test_trigger_reasons(void **state)
{
    struct fix *f = *state;
    static const struct {
        const char *event_type, *context, *trigger_reason;
        bool remote;
        const char *want_trigger, *want_context;
    } cases[] = {
        {"Started", NULL, NULL, false, "Authorized", "Transaction.Begin"},
        {"Started", NULL, NULL, true, "RemoteStart", "Transaction.Begin"},
        {"Updated", NULL, NULL, false, "MeterValuePeriodic", "Sample.Periodic"},
        {"Updated", "Trigger", NULL, false, "Trigger", "Trigger"},
        {"Updated", "Sample.Clock", NULL, false, "MeterValueClock", "Sample.Clock"},
        {"Updated", NULL, "ChargingStateChanged", false, "ChargingStateChanged", "Sample.Periodic"},
        {"Ended", "Trigger", NULL, false, "StopAuthorized", "Transaction.End"},
        {"Ended", NULL, "EVCommunicationLost", false, "EVCommunicationLost", "Transaction.End"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct msg_ctx x = {.ch = &f->ch,
                            .cfg = &f->cfg,
                            .now_ms = T0,
                            .connector = 1,
                            .tx_key = "k",
                            .event_type = cases[i].event_type,
                            .context = cases[i].context,
                            .trigger_reason = cases[i].trigger_reason,
                            .has_remote_start = cases[i].remote,
                            .remote_start_id = 99};
        cJSON *j = payload_of(catalog201_tx_event(), &x);
        assert_string_equal(str_at(j, "eventType", NULL), cases[i].event_type);
        assert_string_equal(str_at(j, "triggerReason", NULL), cases[i].want_trigger);
        const cJSON *sv = cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "meterValue"), 0),
                                "sampledValue"),
            0);
        assert_string_equal(str_at(sv, "context", NULL), cases[i].want_context);
        const cJSON *rs =
            cJSON_GetObjectItem(cJSON_GetObjectItem(j, "transactionInfo"), "remoteStartId");
        if (cases[i].remote)
            assert_int_equal(rs->valueint, 99);
        else
            assert_null(rs);
        /* idToken on Started (UNKNOWN without a tag), never on Updated */
        if (strcmp(cases[i].event_type, "Started") == 0)
            assert_string_equal(str_at(j, "idToken", "idToken"), "UNKNOWN");
        else
            assert_null(cJSON_GetObjectItem(j, "idToken"));
        assert_null(cJSON_GetObjectItem(j, "offline"));
        cJSON_Delete(j);
    }

    /* an eventType that is none of the three fails the build and leaves the buffer alone */
    struct msg_ctx x = {.ch = &f->ch,
                        .cfg = &f->cfg,
                        .now_ms = T0,
                        .connector = 1,
                        .tx_key = "k",
                        .event_type = "Paused"};
    struct buf out = BUF_INIT;
    struct cs_error err;
    buf_puts(&out, "x");
    assert_int_equal(catalog_build_payload(catalog201_tx_event(), &x, &out, &err), CS_ERR_PARSE);
    assert_non_null(strstr(err.msg, "'Paused' is not Started, Updated or Ended"));
    assert_string_equal(buf_cstr(&out), "x");
    buf_free(&out);
}

static void test_status_names(void **state)
{
    struct fix *f = *state;
    static const struct {
        const char *v16, *v201;
    } logs[] = {{"Idle", "Idle"},
                {"Uploading", "Uploading"},
                {"Uploaded", "Uploaded"},
                {"UploadFailed", "UploadFailure"},
                {NULL, "Idle"}};
    for (size_t i = 0; i < ARRAY_SIZE(logs); i++) {
        assert_string_equal(catalog201_log_status(logs[i].v16), logs[i].v201);
        assert_true(in(log_status_enum, logs[i].v201));
        if (logs[i].v16)
            assert_true(catalog_diagnostics_status_valid(logs[i].v16));
        struct msg_ctx x = {.ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .status = logs[i].v16};
        cJSON *j = payload_of(catalog_v(OCPP_V201, MSG_DIAGNOSTICS_STATUS), &x);
        assert_string_equal(str_at(j, "status", NULL), logs[i].v201);
        cJSON_Delete(j);
    }
    /* every 1.6 firmware status is a 2.0.1 one, sent as it is */
    static const char *const fw[] = {"Downloaded",         "DownloadFailed", "Downloading", "Idle",
                                     "InstallationFailed", "Installing",     "Installed"};
    for (size_t i = 0; i < ARRAY_SIZE(fw); i++) {
        assert_true(catalog_firmware_status_valid(fw[i]));
        assert_true(in(firmware_status_enum, fw[i]));
        struct msg_ctx x = {.ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .status = fw[i]};
        cJSON *j = payload_of(catalog_v(OCPP_V201, MSG_FIRMWARE_STATUS), &x);
        assert_string_equal(str_at(j, "status", NULL), fw[i]);
        cJSON_Delete(j);
    }
}

/* ---- meter values -------------------------------------------------------------------------- */

static void test_meter_values(void **state)
{
    struct fix *f = *state;
    /* connector 2: no transaction, so no SoC; nothing drawn; a 3-phase 11 kW cap offered */
    charger_set_cap(&f->ch, 2, 11000, f->cfg.max_kw, T0);
    f->cfg.phases = 3;
    struct msg_ctx x = {
        .ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .connector = 2, .context = "Trigger"};
    struct buf out = BUF_INIT;
    assert_int_equal(catalog_build_payload(catalog_v(OCPP_V201, MSG_METER_VALUES), &x, &out, NULL),
                     CS_OK);
    assert_string_equal(
        buf_cstr(&out),
        "{\"evseId\":2,\"meterValue\":[{\"timestamp\":" TS ",\"sampledValue\":["
        "{\"value\":0,\"context\":\"Trigger\",\"measurand\":\"Energy.Active.Import.Register\","
        "\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"Wh\"}},"
        "{\"value\":0,\"context\":\"Trigger\",\"measurand\":\"Power.Active.Import\","
        "\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"W\"}},"
        "{\"value\":0.0,\"context\":\"Trigger\",\"measurand\":\"Current.Import\","
        "\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"A\"}},"
        "{\"value\":230,\"context\":\"Trigger\",\"measurand\":\"Voltage\","
        "\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"V\"}},"
        "{\"value\":11000,\"context\":\"Trigger\",\"measurand\":\"Power.Offered\","
        "\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"W\"}},"
        "{\"value\":15.9,\"context\":\"Trigger\",\"measurand\":\"Current.Offered\","
        "\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"A\"}}]}]}");
    buf_free(&out);

    /* the same readings as 1.6 sends as text */
    struct msg_ctx x1 = {.ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .connector = 1};
    cJSON *j16 = payload_of(catalog_v(OCPP_V16, MSG_METER_VALUES), &x1);
    cJSON *j201 = payload_of(catalog_v(OCPP_V201, MSG_METER_VALUES), &x1);
    const cJSON *a = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j16, "meterValue"), 0), "sampledValue");
    const cJSON *b = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j201, "meterValue"), 0), "sampledValue");
    assert_int_equal(cJSON_GetArraySize(a), 7);
    assert_int_equal(cJSON_GetArraySize(b), 7);
    for (int i = 0; i < 7; i++) {
        const cJSON *va = cJSON_GetArrayItem(a, i), *vb = cJSON_GetArrayItem(b, i);
        assert_string_equal(str_at(va, "measurand", NULL), str_at(vb, "measurand", NULL));
        assert_string_equal(str_at(va, "unit", NULL), str_at(vb, "unitOfMeasure", "unit"));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(vb, "value")));
        char text[32];
        snprintf(text, sizeof(text), "%g", cJSON_GetObjectItem(vb, "value")->valuedouble);
        assert_string_equal(text, str_at(va, "value", NULL));
    }
    cJSON_Delete(j16);
    cJSON_Delete(j201);
}

/* ---- overrides ----------------------------------------------------------------------------- */

static const struct {
    enum msg_id msg; /* MSG_CUSTOM: name */
    const char *name;
    const char *event_type;
    const char *over[10];
    const char *payload;
} over_cases[] = {
    {MSG_STATUS_NOTIFICATION,
     NULL,
     NULL,
     {"connectorStatus", "Faulted", "evseId", "3", NULL},
     "{\"timestamp\":" TS ",\"connectorStatus\":\"Faulted\",\"evseId\":3,\"connectorId\":1}"},
    {MSG_BOOT_NOTIFICATION,
     NULL,
     NULL,
     {"reason", "Watchdog", "chargingStation", "{\"model\":\"M\",\"vendorName\":\"V\"}", NULL},
     "{\"reason\":\"Watchdog\",\"chargingStation\":{\"model\":\"M\",\"vendorName\":\"V\"}}"},
    {MSG_AUTHORIZE,
     NULL,
     NULL,
     {"idToken", "{\"idToken\":\"abc\",\"type\":\"Central\"}", "customData", "{\"vendorId\":\"x\"}",
      NULL},
     "{\"idToken\":{\"idToken\":\"abc\",\"type\":\"Central\"},\"customData\":{\"vendorId\":\"x\"}"
     "}"},
    {MSG_START_TRANSACTION,
     NULL,
     "Updated",
     {"triggerReason", "ChargingRateChanged", "seqNo", "17", "offline", "true", "meterValue", "[]",
      NULL},
     "{\"eventType\":\"Updated\",\"timestamp\":" TS ",\"triggerReason\":\"ChargingRateChanged\","
     "\"seqNo\":17,\"transactionInfo\":{\"transactionId\":\"k\",\"chargingState\":\"Charging\"},"
     "\"evse\":{\"id\":1,\"connectorId\":1},\"meterValue\":[],\"offline\":true}"},
    {MSG_STOP_TRANSACTION,
     NULL,
     NULL,
     {"transactionInfo", "{\"transactionId\":\"z\"}", "evse", "{\"id\":1}", "meterValue", "[1]",
      "unit", "kWh"},
     "{\"eventType\":\"Ended\",\"timestamp\":" TS ",\"triggerReason\":\"StopAuthorized\","
     "\"seqNo\":0,\"transactionInfo\":{\"transactionId\":\"z\"},\"evse\":{\"id\":1},"
     "\"meterValue\":[1],\"unit\":\"kWh\"}"},
    {MSG_CUSTOM,
     "NotifyEvent",
     NULL,
     {"seqNo", "5", "eventData", "[]", "tbc", "false", NULL},
     "{\"generatedAt\":" TS ",\"seqNo\":5,\"eventData\":[],\"tbc\":false}"},
    {MSG_CUSTOM,
     "SecurityEventNotification",
     NULL,
     {"type", "FirmwareUpdated", "techInfo", "v2", NULL},
     "{\"type\":\"FirmwareUpdated\",\"timestamp\":" TS ",\"techInfo\":\"v2\"}"},
};

static void test_overrides(void **state)
{
    struct fix *f = *state;
    for (size_t i = 0; i < ARRAY_SIZE(over_cases); i++) {
        const struct msg_def *m = over_cases[i].msg == MSG_CUSTOM
                                      ? catalog_lookup_v(OCPP_V201, over_cases[i].name)
                                      : catalog_v(OCPP_V201, over_cases[i].msg);
        struct kvlist over = KVLIST_INIT;
        set_overrides(&over, over_cases[i].over);
        struct msg_ctx x = {.ch = &f->ch,
                            .cfg = &f->cfg,
                            .now_ms = T0,
                            .connector = 1,
                            .over = &over,
                            .tx_key = "k",
                            .event_type = over_cases[i].event_type};
        struct buf out = BUF_INIT;
        struct cs_error err;
        int rc = catalog_build_payload(m, &x, &out, &err);
        if (rc)
            print_error("case %zu: %s\n", i, err.msg);
        assert_int_equal(rc, CS_OK);
        print_message("  case %zu: %s\n", i, buf_cstr(&out));
        assert_string_equal(buf_cstr(&out), over_cases[i].payload);
        buf_free(&out);
        kv_free(&over);
    }

    /* a typed field that is not an integer fails the build */
    struct kvlist over = KVLIST_INIT;
    set_overrides(&over, (const char *const[]){"evseId", "one", NULL});
    struct msg_ctx x = {.ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .connector = 1, .over = &over};
    struct buf out = BUF_INIT;
    struct cs_error err;
    assert_int_equal(catalog_build_payload(catalog_v(OCPP_V201, MSG_METER_VALUES), &x, &out, &err),
                     CS_ERR_PARSE);
    assert_non_null(strstr(err.msg, "field evseId: 'one' is not an integer"));
    assert_int_equal(out.len, 0);
    buf_free(&out);
    kv_free(&over);
}

/* ---- the platform's 2.0.1 CALLs ------------------------------------------------------------ */

static void test_call_names(void **state)
{
    (void)state;
    for (int i = 0; i < OCPP201_CALLS_IN; i++) {
        const char *n = ocpp201_call_name(i);
        assert_non_null(n);
        assert_int_equal(ocpp201_call_index(n), i);
        assert_non_null(ocpp201_call_fields(n));
    }
    assert_null(ocpp201_call_name(-1));
    assert_null(ocpp201_call_name(OCPP201_CALLS_IN));
    assert_int_equal(ocpp201_call_index("RemoteStartTransaction"), -1); /* 1.6 only */
    assert_null(ocpp201_call_fields("GetConfiguration"));
    assert_int_equal(ocpp201_call_index("RequestStartTransaction"),
                     OC201_REQUEST_START_TRANSACTION);
    assert_int_equal(ocpp201_call_index("DataTransfer"), OC201_DATA_TRANSFER);
}

static const struct {
    const char *action, *payload, *code; /* code NULL: valid */
} call_cases[] = {
    {"RequestStartTransaction",
     "{\"idToken\":{\"idToken\":\"TAG-1\",\"type\":\"ISO14443\"},\"remoteStartId\":5,"
     "\"evseId\":1}",
     NULL},
    {"RequestStartTransaction", "{\"idToken\":{\"idToken\":\"TAG-1\",\"type\":\"ISO14443\"}}",
     OCPP_E_OCCURRENCE},
    {"RequestStartTransaction", "{\"idToken\":\"TAG-1\",\"remoteStartId\":5}", OCPP_E_TYPE},
    {"RequestStopTransaction", "{\"transactionId\":\"CP-000042-1\"}", NULL},
    {"RequestStopTransaction", "{\"transactionId\":\"0123456789012345678901234567890123456\"}",
     OCPP_E_PROPERTY},
    {"RequestStopTransaction", "{\"transactionId\":1234}", OCPP_E_TYPE},
    {"Reset", "{\"type\":\"OnIdle\"}", NULL},
    {"Reset", "{\"type\":\"Hard\"}", OCPP_E_PROPERTY},
    {"Reset", "{}", OCPP_E_OCCURRENCE},
    {"ChangeAvailability", "{\"operationalStatus\":\"Inoperative\",\"evse\":{\"id\":1}}", NULL},
    {"ChangeAvailability", "{\"operationalStatus\":\"inoperative\"}", OCPP_E_PROPERTY},
    {"TriggerMessage", "{\"requestedMessage\":\"TransactionEvent\",\"evse\":{\"id\":1}}", NULL},
    {"TriggerMessage", "{\"requestedMessage\":\"DiagnosticsStatusNotification\"}", OCPP_E_PROPERTY},
    {"SetVariables", "{\"setVariableData\":[]}", NULL},
    {"SetVariables", "{\"setVariableData\":{}}", OCPP_E_TYPE},
    {"GetBaseReport", "{\"requestId\":1,\"reportBase\":\"FullInventory\"}", NULL},
    {"GetBaseReport", "{\"requestId\":1}", OCPP_E_OCCURRENCE},
    {"ReserveNow",
     "{\"id\":3,\"expiryDateTime\":\"2026-01-01T01:00:00Z\",\"idToken\":{\"idToken\":\"T\","
     "\"type\":\"Local\"},\"connectorType\":\"cType2\"}",
     NULL},
    {"ReserveNow",
     "{\"id\":3,\"expiryDateTime\":\"tomorrow\",\"idToken\":{\"idToken\":\"T\",\"type\":\"Local\"}"
     "}",
     OCPP_E_PROPERTY},
    {"ReserveNow",
     "{\"id\":3,\"expiryDateTime\":\"2026-01-01T01:00:00Z\",\"idToken\":{},\"connectorType\":"
     "\"Type2\"}",
     OCPP_E_PROPERTY},
    {"GetCompositeSchedule", "{\"duration\":3600,\"evseId\":0,\"chargingRateUnit\":\"W\"}", NULL},
    {"GetCompositeSchedule", "{\"duration\":3600}", OCPP_E_OCCURRENCE},
    {"SendLocalList", "{\"versionNumber\":2,\"updateType\":\"Full\"}", NULL},
    {"SendLocalList", "{\"listVersion\":2,\"updateType\":\"Full\"}", OCPP_E_OCCURRENCE},
    {"GetLog",
     "{\"logType\":\"DiagnosticsLog\",\"requestId\":4,\"log\":{\"remoteLocation\":\"ftp://x\"}}",
     NULL},
    {"GetLog", "{\"logType\":\"Diagnostics\",\"requestId\":4,\"log\":{}}", OCPP_E_PROPERTY},
    {"UpdateFirmware", "{\"requestId\":4}", OCPP_E_OCCURRENCE},
    {"ClearCache", "{}", NULL},
    {"GetTransactionStatus", "{}", NULL},
    {"DataTransfer", "{\"vendorId\":\"V\",\"data\":{\"any\":[1,2]}}", NULL},
    {"DataTransfer", "{\"messageId\":\"m\"}", OCPP_E_OCCURRENCE},
};

static void test_call_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(call_cases); i++) {
        const struct ocpp_field *fl = ocpp201_call_fields(call_cases[i].action);
        assert_non_null(fl);
        cJSON *p = parse_strict(call_cases[i].payload);
        const char *code = NULL;
        struct cs_error err;
        int rc = ocpp_check(p, fl, &code, &err);
        print_message("  %s %s -> %s\n", call_cases[i].action, call_cases[i].payload,
                      rc ? code : "ok");
        if (call_cases[i].code) {
            assert_int_not_equal(rc, CS_OK);
            assert_string_equal(code, call_cases[i].code);
        } else {
            assert_int_equal(rc, CS_OK);
        }
        cJSON_Delete(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_v),
        cmocka_unit_test_setup_teardown(test_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reason_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meter_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
        cmocka_unit_test(test_call_names),
        cmocka_unit_test(test_call_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
