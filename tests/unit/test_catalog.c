/* test_catalog.c - the built-in OCPP 1.6 messages (cs/catalog.h): golden frames in tests/data
 * (one per message, <Action>.json, the exact frame without a trailing newline), measurand
 * selection, transaction fields, typed and guessed field overrides, lookups. */
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

#define T0 1767225600000LL /* 2026-01-01T00:00:00.000Z */
#define UID "00000000-0000-4000-8000-000000000000"
#define TS "\"2026-01-01T00:00:00.000Z\""

/* ---- fixture ------------------------------------------------------------------------------- */

struct fix {
    struct charger ch;
    struct charger_cfg cfg;
};

#define ALL_MEASURANDS                                                                             \
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"
#define TX_ID 1234

/* Charger 42 with two connectors; connector 1 was plugged in at T0 - 30 min and has been in a
 * transaction (confirmed by the platform as 1234, idTag TAG-42, SoC 20 % at the start) charging
 * at 22 kW ever since. Default config but for the measurands: all five. */
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
    f->ch.conn[1].tx.id = TX_ID;
    f->ch.conn[1].tx.confirmed = true;
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

static struct msg_ctx ctx_of(const struct fix *f, int connector, const struct kvlist *over)
{
    struct msg_ctx x = {
        .ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .connector = connector, .over = over};
    return x;
}

static char *read_golden(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.json", CS_TEST_DATA, name);
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

/* The text is one JSON value, nothing after it (strict parse). */
static cJSON *parse_strict(const char *text)
{
    cJSON *j = cJSON_ParseWithOpts(text, NULL, true);
    if (!j)
        print_error("not valid JSON: %s\n", text);
    assert_non_null(j);
    return j;
}

/* A frame is [2,"uid","Action",{payload}]. */
static void check_frame(const char *text, const char *action)
{
    cJSON *j = parse_strict(text);
    assert_true(cJSON_IsArray(j));
    assert_int_equal(cJSON_GetArraySize(j), 4);
    cJSON *type = cJSON_GetArrayItem(j, 0), *uid = cJSON_GetArrayItem(j, 1),
          *act = cJSON_GetArrayItem(j, 2), *payload = cJSON_GetArrayItem(j, 3);
    assert_true(cJSON_IsNumber(type) && type->valueint == 2);
    assert_true(cJSON_IsString(uid));
    assert_string_equal(uid->valuestring, UID);
    assert_true(cJSON_IsString(act));
    assert_string_equal(act->valuestring, action);
    assert_true(cJSON_IsObject(payload));
    cJSON_Delete(j);
}

static void set_overrides(struct kvlist *l, const char *const *pairs)
{
    kv_clear(l);
    for (size_t i = 0; pairs && pairs[i]; i += 2)
        kv_set(l, pairs[i], pairs[i + 1]);
}

/* ---- lookups ------------------------------------------------------------------------------- */

static void test_lookup(void **state)
{
    (void)state;
    for (int i = 0; i < MSG__COUNT; i++) {
        const struct msg_def *m = catalog_get((enum msg_id)i);
        assert_non_null(m);
        assert_int_equal(m->id, i);
        assert_non_null(m->build);
        assert_ptr_equal(catalog_lookup(m->name), m);
        assert_non_null(strstr(catalog_names(), m->name));
    }
    assert_null(catalog_get(MSG__COUNT));
    assert_null(catalog_get((enum msg_id) - 1));
    static const struct {
        enum msg_id id;
        const char *name;
    } names[] = {
        {MSG_BOOT_NOTIFICATION, "BootNotification"},
        {MSG_HEARTBEAT, "Heartbeat"},
        {MSG_STATUS_NOTIFICATION, "StatusNotification"},
        {MSG_METER_VALUES, "MeterValues"},
        {MSG_AUTHORIZE, "Authorize"},
        {MSG_START_TRANSACTION, "StartTransaction"},
        {MSG_STOP_TRANSACTION, "StopTransaction"},
        {MSG_DATA_TRANSFER, "DataTransfer"},
        {MSG_FIRMWARE_STATUS, "FirmwareStatusNotification"},
        {MSG_DIAGNOSTICS_STATUS, "DiagnosticsStatusNotification"},
    };
    assert_int_equal(ARRAY_SIZE(names), MSG__COUNT);
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        assert_string_equal(catalog_get(names[i].id)->name, names[i].name);
        assert_ptr_equal(catalog_lookup(names[i].name), catalog_get(names[i].id));
    }
    assert_null(catalog_get(MSG_CUSTOM));
    static const char *const unknown[] = {"Nope",
                                          "heartbeat",
                                          "HEARTBEAT",
                                          "",
                                          "Heartbeat ",
                                          "authorize",
                                          "StartTransactionResponse",
                                          "Reset",
                                          "RemoteStartTransaction",
                                          "MeterValue"};
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
        assert_null(catalog_lookup(unknown[i]));
}

/* ---- golden frames ------------------------------------------------------------------------- */

/* What each message is built from in the golden state: the fields of struct msg_ctx its builder
 * reads. Everything else stays zero. */
static const struct {
    enum msg_id id;
    int connector;
    const char *id_tag;
    int32_t tx_id;
    double meter_wh;
    const char *reason, *status, *vendor_id, *message_id, *data;
} golden_cases[] = {
    {MSG_BOOT_NOTIFICATION, 0, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL},
    {MSG_HEARTBEAT, 0, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL},
    {MSG_STATUS_NOTIFICATION, 1, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL},
    {MSG_METER_VALUES, 1, NULL, TX_ID, 0, NULL, NULL, NULL, NULL, NULL},
    {MSG_AUTHORIZE, 0, "TAG-42", 0, 0, NULL, NULL, NULL, NULL, NULL},
    {MSG_START_TRANSACTION, 1, "TAG-42", 0, 0, NULL, NULL, NULL, NULL, NULL},
    {MSG_STOP_TRANSACTION, 1, "TAG-42", TX_ID, 11000, "EVDisconnected", NULL, NULL, NULL, NULL},
    {MSG_DATA_TRANSFER, 0, NULL, 0, 0, NULL, NULL, NULL, "Ping", "{\"seq\":1}"},
    {MSG_FIRMWARE_STATUS, 0, NULL, 0, 0, NULL, "Installed", NULL, NULL, NULL},
    {MSG_DIAGNOSTICS_STATUS, 0, NULL, 0, 0, NULL, "Uploaded", NULL, NULL, NULL},
};

static struct msg_ctx golden_ctx(const struct fix *f, size_t i)
{
    struct msg_ctx x = {
        .ch = &f->ch,
        .cfg = &f->cfg,
        .now_ms = T0,
        .connector = golden_cases[i].connector,
        .id_tag = golden_cases[i].id_tag,
        .tx_id = golden_cases[i].tx_id,
        .meter_wh = golden_cases[i].meter_wh,
        .reason = golden_cases[i].reason,
        .status = golden_cases[i].status,
        .vendor_id = golden_cases[i].vendor_id,
        .message_id = golden_cases[i].message_id,
        .data = golden_cases[i].data,
    };
    return x;
}

static void test_golden(void **state)
{
    struct fix *f = *state;
    assert_int_equal(ARRAY_SIZE(golden_cases), MSG__COUNT);
    for (size_t i = 0; i < ARRAY_SIZE(golden_cases); i++) {
        const struct msg_def *m = catalog_get(golden_cases[i].id);
        struct msg_ctx x = golden_ctx(f, i);
        struct buf out = BUF_INIT;
        struct cs_error err;
        assert_int_equal(catalog_build_call(m, &x, UID, &out, &err), CS_OK);
        size_t glen;
        char *golden = read_golden(m->name, &glen);
        if (glen != out.len || memcmp(golden, out.s, glen) != 0)
            print_error("%s:\n  got  %s\n  want %s\n", m->name, buf_cstr(&out), golden);
        assert_int_equal(out.len, glen);
        assert_memory_equal(out.s, golden, glen);
        check_frame(buf_cstr(&out), m->name);
        cs_free(golden);
        buf_free(&out);
    }
}

/* The payload alone is the fourth element of the CALL, byte for byte; both append. */
static void test_payload_vs_call(void **state)
{
    struct fix *f = *state;
    for (size_t i = 0; i < ARRAY_SIZE(golden_cases); i++) {
        const struct msg_def *m = catalog_get(golden_cases[i].id);
        struct msg_ctx x = golden_ctx(f, i);
        struct buf call = BUF_INIT, payload = BUF_INIT, want = BUF_INIT;
        buf_puts(&call, "<");
        buf_puts(&payload, "<");
        assert_int_equal(catalog_build_call(m, &x, UID, &call, NULL), CS_OK);
        assert_int_equal(catalog_build_payload(m, &x, &payload, NULL), CS_OK);
        buf_printf(&want, "<[2,\"%s\",\"%s\",%s]", UID, m->name, buf_cstr(&payload) + 1);
        assert_string_equal(buf_cstr(&call), buf_cstr(&want));
        cJSON *j = parse_strict(buf_cstr(&payload) + 1);
        assert_true(cJSON_IsObject(j));
        cJSON_Delete(j);
        buf_free(&call);
        buf_free(&payload);
        buf_free(&want);
    }
}

/* Appends to what the buffer already holds. */
static void test_appends(void **state)
{
    struct fix *f = *state;
    struct msg_ctx x = ctx_of(f, 0, NULL);
    struct buf out = BUF_INIT;
    buf_puts(&out, "prefix:");
    assert_int_equal(catalog_build_call(catalog_get(MSG_HEARTBEAT), &x, UID, &out, NULL), CS_OK);
    assert_string_equal(buf_cstr(&out), "prefix:[2,\"" UID "\",\"Heartbeat\",{}]");
    buf_free(&out);
}

/* Builder inputs that are not in the golden files. */
static void test_builder_inputs(void **state)
{
    struct fix *f = *state;
    struct buf out = BUF_INIT;

    /* connector 2: Available, nothing metered */
    struct msg_ctx x = ctx_of(f, 2, NULL);
    assert_int_equal(catalog_build_call(catalog_get(MSG_STATUS_NOTIFICATION), &x, UID, &out, NULL),
                     CS_OK);
    assert_string_equal(buf_cstr(&out), "[2,\"" UID "\",\"StatusNotification\",{\"connectorId\":2,"
                                        "\"errorCode\":\"NoError\",\"status\":\"Available\","
                                        "\"timestamp\":" TS "}]");
    buf_reset(&out);

    /* connector 0 (the charge point) faulted */
    assert_int_equal(
        charger_set_status(&f->ch, 0, ST_FAULTED, OE_GROUND_FAILURE, 22, false, T0, NULL), CS_OK);
    x = ctx_of(f, 0, NULL);
    assert_int_equal(catalog_build_call(catalog_get(MSG_STATUS_NOTIFICATION), &x, UID, &out, NULL),
                     CS_OK);
    assert_non_null(strstr(buf_cstr(&out), "{\"connectorId\":0,\"errorCode\":\"GroundFailure\","
                                           "\"status\":\"Faulted\","));
    buf_reset(&out);

    /* a reading context other than the periodic sample */
    x = ctx_of(f, 1, NULL);
    x.context = "Trigger";
    assert_int_equal(catalog_build_call(catalog_get(MSG_METER_VALUES), &x, UID, &out, NULL), CS_OK);
    assert_null(strstr(buf_cstr(&out), "Sample.Periodic"));
    assert_non_null(strstr(buf_cstr(&out), "{\"value\":\"11000\",\"context\":\"Trigger\","));
    check_frame(buf_cstr(&out), "MeterValues");
    buf_reset(&out);

    /* no firmware: the optional field is left out; vendor and voltage come from the config */
    assert_int_equal(cfg_set(&cfg_charger_schema, &f->cfg, "firmware", "", NULL), CS_OK);
    assert_int_equal(cfg_set(&cfg_charger_schema, &f->cfg, "vendor", "ACME \"Volt\"", NULL), CS_OK);
    x = ctx_of(f, 0, NULL);
    assert_int_equal(catalog_build_call(catalog_get(MSG_BOOT_NOTIFICATION), &x, UID, &out, NULL),
                     CS_OK);
    assert_string_equal(buf_cstr(&out),
                        "[2,\"" UID "\",\"BootNotification\",{\"chargePointVendor\":\"ACME "
                        "\\\"Volt\\\"\",\"chargePointModel\":\"VC-22\","
                        "\"chargePointSerialNumber\":\"CP-000042\"}]");
    buf_free(&out);
}

/* ---- payload contents ---------------------------------------------------------------------- */

static cJSON *build_payload(enum msg_id id, const struct msg_ctx *x)
{
    struct buf out = BUF_INIT;
    struct cs_error err;
    int rc = catalog_build_payload(catalog_get(id), x, &out, &err);
    if (rc)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, CS_OK);
    cJSON *j = parse_strict(buf_cstr(&out));
    assert_true(cJSON_IsObject(j));
    buf_free(&out);
    return j;
}

/* "measurand=value" of every sampledValue of a MeterValue array's first element, comma
 * separated; checks each sampledValue is well formed for OCPP 1.6 on the way. */
static void sampled_list(const cJSON *mv_array, const char *context, struct buf *out)
{
    static const struct {
        const char *measurand, *location, *unit;
    } known[] = {
        {"Energy.Active.Import.Register", "Outlet", "Wh"},
        {"Power.Active.Import", "Outlet", "W"},
        {"Current.Import", "Outlet", "A"},
        {"Voltage", "Outlet", "V"},
        {"SoC", "EV", "Percent"},
    };
    assert_true(cJSON_IsArray(mv_array));
    assert_int_equal(cJSON_GetArraySize(mv_array), 1);
    const cJSON *mv = cJSON_GetArrayItem(mv_array, 0);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(mv, "timestamp");
    assert_true(cJSON_IsString(ts));
    assert_string_equal(ts->valuestring, "2026-01-01T00:00:00.000Z");
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(mv, "sampledValue");
    assert_true(cJSON_IsArray(sv));
    const cJSON *s;
    cJSON_ArrayForEach(s, sv)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "value");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "context");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "measurand");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(s, "location");
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(s, "unit");
        assert_true(cJSON_IsString(v) && cJSON_IsString(c) && cJSON_IsString(m) &&
                    cJSON_IsString(l) && cJSON_IsString(u));
        assert_string_equal(c->valuestring, context);
        size_t k;
        for (k = 0; k < ARRAY_SIZE(known); k++)
            if (strcmp(known[k].measurand, m->valuestring) == 0)
                break;
        assert_true(k < ARRAY_SIZE(known));
        assert_string_equal(l->valuestring, known[k].location);
        assert_string_equal(u->valuestring, known[k].unit);
        buf_printf(out, "%s%s=%s", out->len ? "," : "", m->valuestring, v->valuestring);
    }
}

/* Only the configured measurands, always in the same order; SoC only during a transaction. */
static void test_measurands(void **state)
{
    struct fix *f = *state;
    static const struct {
        const char *measurands;
        int connector;
        const char *want;
    } cases[] = {
        {ALL_MEASURANDS, 1,
         "Energy.Active.Import.Register=11000,Power.Active.Import=22000,Current.Import=31.9,"
         "Voltage=230,SoC=38"},
        {ALL_MEASURANDS, 2,
         "Energy.Active.Import.Register=0,Power.Active.Import=0,Current.Import=0.0,Voltage=230"},
        {"Energy.Active.Import.Register", 1, "Energy.Active.Import.Register=11000"},
        {"SoC", 1, "SoC=38"},
        {"SoC", 2, ""},
        {"Voltage,Energy.Active.Import.Register", 1,
         "Energy.Active.Import.Register=11000,Voltage=230"},
        {"SoC,Current.Import,Power.Active.Import", 1,
         "Power.Active.Import=22000,Current.Import=31.9,SoC=38"},
        {"Current.Import", 2, "Current.Import=0.0"},
        {"Energy.Active.Import.Register,Power.Active.Import,Voltage", 1,
         "Energy.Active.Import.Register=11000,Power.Active.Import=22000,Voltage=230"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(
            cfg_set(&cfg_charger_schema, &f->cfg, "measurands", cases[i].measurands, NULL), CS_OK);
        struct msg_ctx x = {
            .ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .connector = cases[i].connector};
        cJSON *j = build_payload(MSG_METER_VALUES, &x);
        struct buf got = BUF_INIT;
        sampled_list(cJSON_GetObjectItemCaseSensitive(j, "meterValue"), "Sample.Periodic", &got);
        print_message("  case %zu: %s\n", i, buf_cstr(&got));
        assert_string_equal(buf_cstr(&got), cases[i].want);
        buf_free(&got);
        cJSON_Delete(j);
    }

    /* the voltage and battery size come from the config */
    assert_int_equal(cfg_set(&cfg_charger_schema, &f->cfg, "measurands", ALL_MEASURANDS, NULL),
                     CS_OK);
    assert_int_equal(cfg_set(&cfg_charger_schema, &f->cfg, "voltage_v", "400", NULL), CS_OK);
    assert_int_equal(cfg_set(&cfg_charger_schema, &f->cfg, "battery_kwh", "22", NULL), CS_OK);
    struct msg_ctx x = {.ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .connector = 1};
    cJSON *j = build_payload(MSG_METER_VALUES, &x);
    struct buf got = BUF_INIT;
    sampled_list(cJSON_GetObjectItemCaseSensitive(j, "meterValue"), "Sample.Periodic", &got);
    assert_string_equal(buf_cstr(&got), "Energy.Active.Import.Register=11000,"
                                        "Power.Active.Import=22000,Current.Import=18.3,"
                                        "Voltage=400,SoC=70");
    buf_free(&got);
    cJSON_Delete(j);
}

/* Connector 0 reports the readings of connector 1, all of them from the same connector. */
static void test_meter_connector0(void **state)
{
    struct fix *f = *state;
    struct buf c0 = BUF_INIT, c1 = BUF_INIT;
    for (int conn = 0; conn <= 1; conn++) {
        struct msg_ctx x = {.ch = &f->ch, .cfg = &f->cfg, .now_ms = T0, .connector = conn};
        cJSON *j = build_payload(MSG_METER_VALUES, &x);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "connectorId")->valueint, conn);
        sampled_list(cJSON_GetObjectItemCaseSensitive(j, "meterValue"), "Sample.Periodic",
                     conn ? &c1 : &c0);
        cJSON_Delete(j);
    }
    print_message("  0: %s\n  1: %s\n", buf_cstr(&c0), buf_cstr(&c1));
    assert_string_equal(buf_cstr(&c0), buf_cstr(&c1));
    buf_free(&c0);
    buf_free(&c1);
}

/* transactionId is in MeterValues only when the context names a transaction. */
static void test_meter_tx_id(void **state)
{
    struct fix *f = *state;
    static const struct {
        int connector;
        int32_t tx_id;
        const char *context;
        bool present;
    } cases[] = {
        {1, 0, NULL, false},
        {1, TX_ID, NULL, true},
        {1, -1, "Transaction.Begin", true}, /* a local id before the platform confirmed one */
        {2, 0, "Trigger", false},
        {1, INT32_MAX, "Sample.Clock", true},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct msg_ctx x = {.ch = &f->ch,
                            .cfg = &f->cfg,
                            .now_ms = T0,
                            .connector = cases[i].connector,
                            .tx_id = cases[i].tx_id,
                            .context = cases[i].context};
        cJSON *j = build_payload(MSG_METER_VALUES, &x);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "transactionId");
        if (cases[i].present) {
            assert_true(cJSON_IsNumber(t));
            assert_true(t->valuedouble == (double)cases[i].tx_id);
        } else {
            assert_null(t);
        }
        struct buf got = BUF_INIT;
        sampled_list(cJSON_GetObjectItemCaseSensitive(j, "meterValue"),
                     cases[i].context ? cases[i].context : "Sample.Periodic", &got);
        buf_free(&got);
        cJSON_Delete(j);
    }
}

/* StopTransaction: optional idTag, default reason, transactionData with context
 * Transaction.End whatever the context field says. */
static void test_stop_transaction(void **state)
{
    struct fix *f = *state;
    static const struct {
        const char *id_tag, *reason, *context;
        const char *want_tag, *want_reason;
    } cases[] = {
        {"TAG-42", "EVDisconnected", NULL, "TAG-42", "EVDisconnected"},
        {NULL, NULL, NULL, NULL, "Local"},
        {"", "Remote", "Sample.Periodic", NULL, "Remote"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "Other", "Trigger", "ABCDEFGHIJKLMNOPQRST", "Other"},
    };
    /* A register between two whole Wh: meterStop and the sampled value agree (both 11000; the
     * sampled one said 11001 before). */
    double was = f->ch.conn[1].meter_wh;
    f->ch.conn[1].meter_wh = 11000.9;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct msg_ctx x = {.ch = &f->ch,
                            .cfg = &f->cfg,
                            .now_ms = T0,
                            .connector = 1,
                            .tx_id = TX_ID,
                            .meter_wh = 11000.9,
                            .id_tag = cases[i].id_tag,
                            .reason = cases[i].reason,
                            .context = cases[i].context};
        cJSON *j = build_payload(MSG_STOP_TRANSACTION, &x);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "transactionId")->valueint, TX_ID);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "meterStop")->valueint, 11000);
        const cJSON *tag = cJSON_GetObjectItemCaseSensitive(j, "idTag");
        if (cases[i].want_tag)
            assert_string_equal(tag->valuestring, cases[i].want_tag);
        else
            assert_null(tag);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "reason")->valuestring,
                            cases[i].want_reason);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "timestamp")->valuestring,
                            "2026-01-01T00:00:00.000Z");
        struct buf got = BUF_INIT;
        sampled_list(cJSON_GetObjectItemCaseSensitive(j, "transactionData"), "Transaction.End",
                     &got);
        assert_string_equal(buf_cstr(&got), "Energy.Active.Import.Register=11000,"
                                            "Power.Active.Import=22000,Current.Import=31.9,"
                                            "Voltage=230,SoC=38");
        buf_free(&got);
        cJSON_Delete(j);
    }
    f->ch.conn[1].meter_wh = was;
}

/* idTag: at most 20 characters, "UNKNOWN" when there is none. */
static void test_id_tags(void **state)
{
    struct fix *f = *state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"TAG-42", "TAG-42"},
        {NULL, "UNKNOWN"},
        {"", "UNKNOWN"},
        {"12345678901234567890", "12345678901234567890"},
        {"123456789012345678901", "12345678901234567890"},
        {"a\"b", "a\"b"},
    };
    static const enum msg_id msgs[] = {MSG_AUTHORIZE, MSG_START_TRANSACTION};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        for (size_t m = 0; m < ARRAY_SIZE(msgs); m++) {
            struct msg_ctx x = {.ch = &f->ch,
                                .cfg = &f->cfg,
                                .now_ms = T0,
                                .connector = 1,
                                .id_tag = cases[i].in,
                                .meter_wh = 1234.6};
            cJSON *j = build_payload(msgs[m], &x);
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "idTag")->valuestring,
                                cases[i].want);
            if (msgs[m] == MSG_START_TRANSACTION) {
                assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "connectorId")->valueint, 1);
                assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "meterStart")->valueint, 1234);
            } else {
                assert_int_equal(cJSON_GetArraySize(j), 1);
            }
            cJSON_Delete(j);
        }
    }
}

static void test_data_transfer(void **state)
{
    struct fix *f = *state;
    static const struct {
        const char *vendor_id, *message_id, *data;
        const char *payload;
    } cases[] = {
        {NULL, NULL, NULL, "{\"vendorId\":\"Chargeswarm\"}"},
        {"com.example", NULL, NULL, "{\"vendorId\":\"com.example\"}"},
        {"com.example", "Ping", NULL, "{\"vendorId\":\"com.example\",\"messageId\":\"Ping\"}"},
        {NULL, NULL, "x\"y\n", "{\"vendorId\":\"Chargeswarm\",\"data\":\"x\\\"y\\n\"}"},
        {"v", "", "", "{\"vendorId\":\"v\",\"messageId\":\"\",\"data\":\"\"}"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct msg_ctx x = {.ch = &f->ch,
                            .cfg = &f->cfg,
                            .now_ms = T0,
                            .vendor_id = cases[i].vendor_id,
                            .message_id = cases[i].message_id,
                            .data = cases[i].data};
        struct buf out = BUF_INIT;
        assert_int_equal(catalog_build_payload(catalog_get(MSG_DATA_TRANSFER), &x, &out, NULL),
                         CS_OK);
        assert_string_equal(buf_cstr(&out), cases[i].payload);
        buf_free(&out);
    }
}

/* FirmwareStatus and DiagnosticsStatus: the OCPP 1.6 enumerations; Idle by default. */
static void test_status_messages(void **state)
{
    struct fix *f = *state;
    static const struct {
        const char *s;
        bool firmware, diagnostics;
    } cases[] = {
        {"Downloaded", true, false},
        {"DownloadFailed", true, false},
        {"Downloading", true, false},
        {"Idle", true, true},
        {"InstallationFailed", true, false},
        {"Installing", true, false},
        {"Installed", true, false},
        {"Uploaded", false, true},
        {"UploadFailed", false, true},
        {"Uploading", false, true},
        {"", false, false},
        {"idle", false, false},
        {"Installed ", false, false},
        {"Failed", false, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(catalog_firmware_status_valid(cases[i].s), cases[i].firmware);
        assert_int_equal(catalog_diagnostics_status_valid(cases[i].s), cases[i].diagnostics);
    }
    static const enum msg_id msgs[] = {MSG_FIRMWARE_STATUS, MSG_DIAGNOSTICS_STATUS};
    for (size_t m = 0; m < ARRAY_SIZE(msgs); m++) {
        struct msg_ctx x = {.ch = &f->ch, .cfg = &f->cfg, .now_ms = T0};
        struct buf out = BUF_INIT;
        assert_int_equal(catalog_build_payload(catalog_get(msgs[m]), &x, &out, NULL), CS_OK);
        assert_string_equal(buf_cstr(&out), "{\"status\":\"Idle\"}");
        buf_reset(&out);
        x.status = "Uploading";
        assert_int_equal(catalog_build_payload(catalog_get(msgs[m]), &x, &out, NULL), CS_OK);
        assert_string_equal(buf_cstr(&out), "{\"status\":\"Uploading\"}");
        buf_free(&out);
    }
}

/* ---- overrides ----------------------------------------------------------------------------- */

static const struct {
    enum msg_id msg;
    int connector;
    const char *over[12]; /* key, value pairs */
    const char *payload;  /* expected payload object */
} over_cases[] = {
    /* typed fields are replaced in place and keep their type */
    {MSG_STATUS_NOTIFICATION,
     1,
     {"connectorId", "2", NULL},
     "{\"connectorId\":2,\"errorCode\":\"NoError\",\"status\":\"Charging\",\"timestamp\":" TS "}"},
    {MSG_STATUS_NOTIFICATION,
     1,
     {"connectorId", "-1", NULL},
     "{\"connectorId\":-1,\"errorCode\":\"NoError\",\"status\":\"Charging\",\"timestamp\":" TS "}"},
    {MSG_STATUS_NOTIFICATION,
     1,
     {"status", "Faulted", "errorCode", "GroundFailure", NULL},
     "{\"connectorId\":1,\"errorCode\":\"GroundFailure\",\"status\":\"Faulted\",\"timestamp\":" TS
     "}"},
    /* a string field stays a string whatever the text looks like */
    {MSG_STATUS_NOTIFICATION,
     1,
     {"status", "42", "timestamp", "true", NULL},
     "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"42\",\"timestamp\":\"true\"}"},
    {MSG_BOOT_NOTIFICATION,
     0,
     {"firmwareVersion", "9.9", "chargePointVendor", "X\"Y", NULL},
     "{\"chargePointVendor\":\"X\\\"Y\",\"chargePointModel\":\"VC-22\","
     "\"chargePointSerialNumber\":\"CP-000042\",\"firmwareVersion\":\"9.9\"}"},
    /* unknown fields are appended in order, with guessed types */
    {MSG_HEARTBEAT,
     0,
     {"n", "5", "neg", "-12", "zero", "-0", NULL},
     "{\"n\":5,\"neg\":-12,\"zero\":0}"},
    {MSG_HEARTBEAT,
     0,
     {"f", "1.5", "e", "-2.5e3", "E", "1E+2", "big", "123456789012345678901234", NULL},
     "{\"f\":1.5,\"e\":-2.5e3,\"E\":1E+2,\"big\":123456789012345678901234}"},
    {MSG_HEARTBEAT,
     0,
     {"t", "true", "f", "false", "z", "null", NULL},
     "{\"t\":true,\"f\":false,\"z\":null}"},
    {MSG_HEARTBEAT,
     0,
     {"o", "{\"a\": [1, 2], \"b\": {}}", "a", "[1, \"x\"]", NULL},
     "{\"o\":{\"a\":[1,2],\"b\":{}},\"a\":[1,\"x\"]}"},
    {MSG_HEARTBEAT,
     0,
     {"s", "hello", "q", "say \"hi\"", "e", "", NULL},
     "{\"s\":\"hello\",\"q\":\"say \\\"hi\\\"\",\"e\":\"\"}"},
    /* only exact JSON literals are guessed: the rest are strings */
    {MSG_HEARTBEAT,
     0,
     {"a", "TRUE", "b", "Null", "c", "{x", "d", "[1,", "e", "12abc", NULL},
     "{\"a\":\"TRUE\",\"b\":\"Null\",\"c\":\"{x\",\"d\":\"[1,\",\"e\":\"12abc\"}"},
    /* text that C reads as a number but JSON does not stays a string (never invalid JSON) */
    {MSG_HEARTBEAT,
     0,
     {"a", ".5", "b", "5.", "c", "0x10", "d", "+1.5", "e", "01.5", NULL},
     "{\"a\":\".5\",\"b\":\"5.\",\"c\":\"0x10\",\"d\":\"+1.5\",\"e\":\"01.5\"}"},
    {MSG_HEARTBEAT,
     0,
     {"a", "inf", "b", "nan", "c", "1e999", "d", " 1", "e", "1 ", NULL},
     "{\"a\":\"inf\",\"b\":\"nan\",\"c\":\"1e999\",\"d\":\" 1\",\"e\":\"1 \"}"},
    {MSG_HEARTBEAT,
     0,
     {"a", "1e", "b", "1.5e+", "c", "-", "d", "-.5", "e", "0.5", NULL},
     "{\"a\":\"1e\",\"b\":\"1.5e+\",\"c\":\"-\",\"d\":\"-.5\",\"e\":0.5}"},
    /* JSON followed by more text is not JSON */
    {MSG_HEARTBEAT,
     0,
     {"o", "{\"a\":1} trailing", "a", "[1] [2]", NULL},
     "{\"o\":\"{\\\"a\\\":1} trailing\",\"a\":\"[1] [2]\"}"},
    /* an override may replace a whole array field */
    {MSG_METER_VALUES, 1, {"meterValue", "[]", NULL}, "{\"connectorId\":1,\"meterValue\":[]}"},
    {MSG_METER_VALUES,
     1,
     {"meterValue", "none", "transactionId", "7", NULL},
     "{\"connectorId\":1,\"meterValue\":\"none\",\"transactionId\":7}"},
    /* only top-level fields are overridden: a nested name is appended at the top */
    {MSG_METER_VALUES,
     2,
     {"unit", "kWh", NULL},
     "{\"connectorId\":2,\"meterValue\":[{\"timestamp\":" TS ",\"sampledValue\":["
     "{\"value\":\"0\",\"context\":\"Sample.Periodic\",\"measurand\":"
     "\"Energy.Active.Import.Register\",\"location\":\"Outlet\",\"unit\":\"Wh\"},"
     "{\"value\":\"0\",\"context\":\"Sample.Periodic\",\"measurand\":\"Power.Active.Import\","
     "\"location\":\"Outlet\",\"unit\":\"W\"},"
     "{\"value\":\"0.0\",\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
     "\"location\":\"Outlet\",\"unit\":\"A\"},"
     "{\"value\":\"230\",\"context\":\"Sample.Periodic\",\"measurand\":\"Voltage\","
     "\"location\":\"Outlet\",\"unit\":\"V\"}]}],\"unit\":\"kWh\"}"},
    {MSG_STATUS_NOTIFICATION,
     1,
     {"info", "a b", "vendorErrorCode", "E42", NULL},
     "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Charging\",\"timestamp\":" TS
     ",\"info\":\"a b\",\"vendorErrorCode\":\"E42\"}"},
};

static void test_overrides(void **state)
{
    struct fix *f = *state;
    for (size_t i = 0; i < ARRAY_SIZE(over_cases); i++) {
        const struct msg_def *m = catalog_get(over_cases[i].msg);
        struct kvlist over = KVLIST_INIT;
        set_overrides(&over, over_cases[i].over);
        struct msg_ctx x = ctx_of(f, over_cases[i].connector, &over);
        struct buf out = BUF_INIT, want = BUF_INIT;
        struct cs_error err;
        int rc = catalog_build_call(m, &x, UID, &out, &err);
        if (rc)
            print_error("case %zu: %s\n", i, err.msg);
        assert_int_equal(rc, CS_OK);
        buf_printf(&want, "[2,\"%s\",\"%s\",%s]", UID, m->name, over_cases[i].payload);
        print_message("  case %zu: %s\n", i, buf_cstr(&out));
        assert_string_equal(buf_cstr(&out), buf_cstr(&want));
        check_frame(buf_cstr(&out), m->name);
        buf_free(&out);
        buf_free(&want);
        kv_free(&over);
    }
}

static const struct {
    enum msg_id msg;
    int connector;
    const char *over[6];
    int code;
    const char *msg_part;
} over_errors[] = {
    {MSG_STATUS_NOTIFICATION,
     1,
     {"connectorId", "abc", NULL},
     CS_ERR_PARSE,
     "field connectorId: 'abc' is not an integer"},
    {MSG_STATUS_NOTIFICATION, 1, {"connectorId", "1.5", NULL}, CS_ERR_PARSE, "not an integer"},
    {MSG_STATUS_NOTIFICATION, 1, {"connectorId", "", NULL}, CS_ERR_PARSE, "not an integer"},
    {MSG_STATUS_NOTIFICATION,
     1,
     {"connectorId", "2147483648", NULL},
     CS_ERR_PARSE,
     "not an integer"},
    {MSG_METER_VALUES, 1, {"x", "1", "connectorId", "one", NULL}, CS_ERR_PARSE, "connectorId"},
    {MSG_STATUS_NOTIFICATION,
     3,
     {NULL},
     CS_ERR_RANGE,
     "StatusNotification: connector 3 does not exist (0..2)"},
    {MSG_METER_VALUES, -1, {NULL}, CS_ERR_RANGE, "connector -1 does not exist"},
};

/* A failed build leaves the buffer exactly as it was. */
static void test_override_errors(void **state)
{
    struct fix *f = *state;
    for (size_t i = 0; i < ARRAY_SIZE(over_errors); i++) {
        struct kvlist over = KVLIST_INIT;
        set_overrides(&over, over_errors[i].over);
        struct msg_ctx x = ctx_of(f, over_errors[i].connector, &over);
        struct buf out = BUF_INIT;
        struct cs_error err;
        buf_puts(&out, "before");
        memset(&err, 0, sizeof(err));
        int rc = catalog_build_call(catalog_get(over_errors[i].msg), &x, UID, &out, &err);
        print_message("  case %zu -> %s\n", i, rc ? err.msg : "(ok)");
        assert_int_equal(rc, over_errors[i].code);
        assert_non_null(strstr(err.msg, over_errors[i].msg_part));
        assert_int_equal(out.len, 6);
        assert_string_equal(buf_cstr(&out), "before");
        buf_free(&out);

        /* also from an empty buffer, and without an error record */
        rc = catalog_build_call(catalog_get(over_errors[i].msg), &x, UID, &out, NULL);
        assert_int_equal(rc, over_errors[i].code);
        assert_int_equal(out.len, 0);
        assert_string_equal(buf_cstr(&out), "");
        buf_free(&out);
        kv_free(&over);
    }
}

/* Up to 64 overrides, every one of them honoured; 65 are refused. */
static void test_override_count(void **state)
{
    struct fix *f = *state;
    struct kvlist over = KVLIST_INIT;
    char k[16], v[16];
    kv_set(&over, "status", "Finishing"); /* consumed by the builder */
    for (int i = 1; i < 64; i++) {
        snprintf(k, sizeof(k), "f%d", i);
        snprintf(v, sizeof(v), "%d", i);
        kv_set(&over, k, v);
    }
    struct msg_ctx x = ctx_of(f, 1, &over);
    struct buf out = BUF_INIT;
    struct cs_error err;
    assert_int_equal(catalog_build_call(catalog_get(MSG_STATUS_NOTIFICATION), &x, UID, &out, &err),
                     CS_OK);
    cJSON *j = parse_strict(buf_cstr(&out));
    cJSON *p = cJSON_GetArrayItem(j, 3);
    assert_int_equal(cJSON_GetArraySize(p), 4 + 63);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "status")->valuestring, "Finishing");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "f63")->valueint, 63);
    cJSON_Delete(j);
    buf_reset(&out);

    /* the 64th override is the last one tracked: it must be used, not appended twice */
    kv_clear(&over);
    for (int i = 0; i < 63; i++) {
        snprintf(k, sizeof(k), "f%d", i);
        kv_set(&over, k, "x");
    }
    kv_set(&over, "connectorId", "2");
    assert_int_equal(catalog_build_call(catalog_get(MSG_STATUS_NOTIFICATION), &x, UID, &out, &err),
                     CS_OK);
    j = parse_strict(buf_cstr(&out));
    p = cJSON_GetArrayItem(j, 3);
    assert_int_equal(cJSON_GetArraySize(p), 4 + 63);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "connectorId")->valueint, 2);
    cJSON_Delete(j);
    buf_reset(&out);

    kv_set(&over, "one", "more");
    buf_puts(&out, "x");
    assert_int_equal(catalog_build_call(catalog_get(MSG_HEARTBEAT), &x, UID, &out, &err),
                     CS_ERR_TOO_BIG);
    assert_non_null(strstr(err.msg, "more than 64 field overrides"));
    assert_string_equal(buf_cstr(&out), "x");
    buf_free(&out);
    kv_free(&over);
}

/* A frame with a uid that needs escaping is still valid JSON. */
static void test_uid_escaping(void **state)
{
    struct fix *f = *state;
    struct msg_ctx x = ctx_of(f, 0, NULL);
    struct buf out = BUF_INIT;
    assert_int_equal(catalog_build_call(catalog_get(MSG_HEARTBEAT), &x, "a\"b\\c", &out, NULL),
                     CS_OK);
    assert_string_equal(buf_cstr(&out), "[2,\"a\\\"b\\\\c\",\"Heartbeat\",{}]");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test_setup_teardown(test_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payload_vs_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_measurands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meter_connector0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meter_tx_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_id_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builder_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_override_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_override_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uid_escaping, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
