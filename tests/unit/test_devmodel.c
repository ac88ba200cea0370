/* test_devmodel.c - the OCPP 2.0.1 device model (cs/devmodel.h): the table against the config
 * schema, GetVariables (each status and attribute type, WriteOnly, EVSE rows), SetVariables
 * (the writes, each refusal), the NotifyReport parts of GetBaseReport and GetReport (split,
 * seqNo and tbc, filters, EmptyResultSet, NotSupported), the CALLERROR codes of malformed
 * requests, the docs. Every payload produced is also written to CS_DM_OUT, where the ctest
 * unit.devmodel_schemas checks it against the official 2.0.1 schemas (check201.py). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cs/buf.h"
#include "cs/cfg.h"
#include "cs/devmodel.h"
#include "cs/kv.h"
#include "cs/mem.h"
#include "cs/ocpp.h"

static struct charger_cfg cfg;
static struct dm_evse evses[3] = {{"Occupied", 7360.5}, {NULL, 0}, {"Faulted", 0}};
static struct dm_charger ch;
static int files;

static int setup(void **state)
{
    (void)state;
    cfg_defaults(&cfg_charger_schema, &cfg);
    ch = (struct dm_charger){.cfg = &cfg,
                             .nevse = 3,
                             .evse = evses,
                             .identity = "CP-000001",
                             .local_list_entries = 7,
                             .charging_profiles = 2,
                             .now_ms = 1790000000123};
    return 0;
}

/* Keeps a payload for the schema check: CS_DM_OUT/<action>-<n>.json. */
static void keep(const char *action, const char *json)
{
    char path[512];
    mkdir(CS_DM_OUT, 0755);
    snprintf(path, sizeof(path), "%s/%s-%03d.json", CS_DM_OUT, action, files++);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
}

/* Runs GetVariables (set false) or SetVariables on text: the parsed answer (caller deletes),
 * or NULL with *code. */
static cJSON *call(const char *text, bool set, struct kvlist *writes, const char **code)
{
    struct buf b = BUF_INIT;
    struct jw w;
    struct cs_error err = {0};
    cJSON *req = cJSON_Parse(text);
    assert_non_null(req);
    jw_init(&w, &b);
    jw_obj(&w);
    *code = NULL;
    int rc = set ? devmodel_set(&ch, req, &w, writes, code, &err)
                 : devmodel_get(&ch, req, &w, code, &err);
    cJSON_Delete(req);
    if (rc) {
        assert_non_null(*code);
        assert_true(err.msg[0]);
        buf_free(&b);
        return NULL;
    }
    jw_end(&w);
    keep(set ? "SetVariables.conf" : "GetVariables.conf", buf_cstr(&b));
    cJSON *ans = cJSON_Parse(buf_cstr(&b));
    assert_non_null(ans);
    buf_free(&b);
    return ans;
}

static const cJSON *result(const cJSON *ans, int i)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(ans, "getVariableResult");
    if (!list)
        list = cJSON_GetObjectItemCaseSensitive(ans, "setVariableResult");
    return cJSON_GetArrayItem(list, i);
}

static const char *field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* GetVariables of one item: "status" or "status=value". */
static const char *get1(const char *component, const char *variable, const char *attr)
{
    static char out[256];
    char req[512];
    const char *code;
    snprintf(req, sizeof(req), "{\"getVariableData\":[{%s%s%s\"component\":%s,\"variable\":%s}]}",
             attr ? "\"attributeType\":\"" : "", attr ? attr : "", attr ? "\"," : "", component,
             variable);
    cJSON *ans = call(req, false, NULL, &code);
    assert_non_null(ans);
    const cJSON *r = result(ans, 0);
    const char *val = field(r, "attributeValue");
    snprintf(out, sizeof(out), "%s%s%s", field(r, "attributeStatus"), val ? "=" : "",
             val ? val : "");
    if (attr)
        assert_string_equal(field(r, "attributeType"), attr);
    cJSON_Delete(ans);
    return out;
}

#define C(name) "{\"name\":\"" name "\"}"
#define V(name) "{\"name\":\"" name "\"}"
#define VI(name, inst) "{\"name\":\"" name "\",\"instance\":\"" inst "\"}"
#define CE(name, id) "{\"name\":\"" name "\",\"evse\":{\"id\":" #id "}}"
#define CC(name, id, conn)                                                                         \
    "{\"name\":\"" name "\",\"evse\":{\"id\":" #id ",\"connectorId\":" #conn "}}"

static void test_table(void **state)
{
    (void)state;
    size_t n;
    const struct dm_var *t = devmodel_vars(&n);
    assert_true(n >= 50);
    for (size_t i = 0; i < n; i++) {
        const struct dm_var *v = &t[i];
        assert_int_not_equal(v->attr[DM_ACTUAL].src, DMS_NONE); /* Actual always */
        assert_true(strlen(v->component) <= 50 && strlen(v->variable) <= 50);
        for (size_t j = 0; j < i; j++) /* one row per variable */
            assert_false(
                strcmp(t[j].component, v->component) == 0 &&
                strcmp(t[j].variable, v->variable) == 0 &&
                (t[j].instance == v->instance ||
                 (t[j].instance && v->instance && strcmp(t[j].instance, v->instance) == 0)));
        for (int a = 0; a < DM_ATTR__COUNT; a++) {
            const struct dm_value *x = &v->attr[a];
            if (x->src != DMS_CFG)
                continue;
            const struct cfg_def *d = cfg_lookup(&cfg_charger_schema, x->ref);
            assert_non_null(d);
            /* the data type fits the key's type */
            switch (d->type) {
            case CFG_BOOL:
                assert_int_equal(v->type, DM_BOOLEAN);
                break;
            case CFG_INT:
                assert_true(v->type == DM_INTEGER || (x->scale && v->type == DM_DECIMAL));
                break;
            case CFG_DOUBLE:
                assert_int_equal(v->type, DM_DECIMAL);
                break;
            case CFG_ENUM:
                assert_int_equal(v->type, DM_OPTIONLIST);
                break;
            case CFG_SET:
                assert_int_equal(v->type, DM_MEMBERLIST);
                break;
            default:
                assert_int_equal(v->type, DM_STRING);
            }
            /* writable keys are not scaled; secrets are WriteOnly and only they */
            if (v->mutability != DM_RO)
                assert_true(x->scale == 0);
            assert_int_equal(!!(d->flags & CFG_F_SECRET), v->mutability == DM_WO);
        }
        if (v->mutability != DM_RO)
            assert_int_equal(v->attr[DM_ACTUAL].src, DMS_CFG);
    }
}

static void test_get(void **state)
{
    (void)state;
    /* config-backed, constants, live */
    assert_string_equal(get1(C("OCPPCommCtrlr"), V("HeartbeatInterval"), NULL), "Accepted=60");
    cfg.heartbeat_s = 300;
    assert_string_equal(get1(C("OCPPCommCtrlr"), V("HeartbeatInterval"), "Actual"), "Accepted=300");
    assert_string_equal(get1(C("OCPPCommCtrlr"), VI("MessageTimeout", "Default"), NULL),
                        "Accepted=30");
    assert_string_equal(get1(C("AuthCtrlr"), V("AuthorizeRemoteStart"), NULL), "Accepted=false");
    assert_string_equal(get1(C("AuthCacheCtrlr"), V("Enabled"), NULL), "Accepted=true");
    assert_string_equal(get1(C("ChargingStation"), V("Model"), NULL), "Accepted=VC-22");
    assert_string_equal(get1(C("SampledDataCtrlr"), V("TxUpdatedMeasurands"), NULL),
                        "Accepted=Energy.Active.Import.Register,Power.Active.Import,Voltage");
    assert_string_equal(get1(C("SmartChargingCtrlr"), V("ProfileStackLevel"), NULL), "Accepted=8");
    assert_string_equal(get1(C("SmartChargingCtrlr"), VI("Entries", "ChargingProfiles"), NULL),
                        "Accepted=2");
    assert_string_equal(get1(C("LocalAuthListCtrlr"), V("Entries"), NULL), "Accepted=7");
    assert_string_equal(get1(C("DeviceDataCtrlr"), VI("ItemsPerMessage", "GetVariables"), NULL),
                        "Accepted=32");
    assert_string_equal(get1(C("ClockCtrlr"), V("DateTime"), NULL),
                        "Accepted=2026-09-21T14:13:20.123Z");
    assert_string_equal(get1(C("SecurityCtrlr"), V("Identity"), NULL), "Accepted=CP-000001");
    assert_string_equal(get1(C("ChargingStation"), V("AvailabilityState"), NULL),
                        "Accepted=Available");
    /* WriteOnly: never read back */
    assert_string_equal(get1(C("SecurityCtrlr"), V("BasicAuthPassword"), NULL), "Rejected");
    /* unknown component, variable, instance */
    assert_string_equal(get1(C("FooCtrlr"), V("Enabled"), NULL), "UnknownComponent");
    assert_string_equal(get1(C("OCPPCommCtrlr"), V("Foo"), NULL), "UnknownVariable");
    assert_string_equal(get1(C("OCPPCommCtrlr"), VI("HeartbeatInterval", "X"), NULL),
                        "UnknownVariable");
    assert_string_equal(get1(C("DeviceDataCtrlr"), V("ItemsPerMessage"), NULL), "UnknownVariable");
    assert_string_equal(
        get1("{\"name\":\"OCPPCommCtrlr\",\"instance\":\"x\"}", V("HeartbeatInterval"), NULL),
        "UnknownComponent");
    /* each attribute type */
    assert_string_equal(get1(C("OCPPCommCtrlr"), V("HeartbeatInterval"), "Target"),
                        "NotSupportedAttributeType");
    assert_string_equal(get1(C("OCPPCommCtrlr"), V("HeartbeatInterval"), "MinSet"),
                        "NotSupportedAttributeType");
    assert_string_equal(get1(C("OCPPCommCtrlr"), V("HeartbeatInterval"), "MaxSet"),
                        "NotSupportedAttributeType");
    /* EVSE rows: evse.id 1..nevse */
    assert_string_equal(get1(CE("EVSE", 1), V("Power"), "Actual"), "Accepted=7360.5");
    assert_string_equal(get1(CE("EVSE", 2), V("Power"), "MaxSet"), "Accepted=22000");
    assert_string_equal(get1(CE("EVSE", 2), V("Power"), "Target"), "NotSupportedAttributeType");
    assert_string_equal(get1(CE("EVSE", 1), V("AvailabilityState"), NULL), "Accepted=Occupied");
    assert_string_equal(get1(CE("EVSE", 2), V("AvailabilityState"), NULL), "Accepted=Available");
    assert_string_equal(get1(CE("EVSE", 3), V("Problem"), NULL), "Accepted=true");
    assert_string_equal(get1(CE("EVSE", 2), V("Problem"), NULL), "Accepted=false");
    assert_string_equal(get1(CE("EVSE", 0), V("Power"), NULL), "UnknownComponent");
    assert_string_equal(get1(CE("EVSE", 4), V("Power"), NULL), "UnknownComponent");
    assert_string_equal(get1(CE("EVSE", -1), V("Power"), NULL), "UnknownComponent");
    assert_string_equal(get1(C("EVSE"), V("Power"), NULL), "UnknownComponent");
    assert_string_equal(get1(CE("OCPPCommCtrlr", 1), V("HeartbeatInterval"), NULL),
                        "UnknownComponent");
    assert_string_equal(get1(CC("Connector", 3, 1), V("AvailabilityState"), NULL),
                        "Accepted=Faulted");
    assert_string_equal(get1(CC("Connector", 1, 1), V("ConnectorType"), NULL), "Accepted=cType2");
    assert_string_equal(get1(CC("Connector", 1, 2), V("ConnectorType"), NULL), "UnknownComponent");
    assert_string_equal(get1(CE("Connector", 1), V("ConnectorType"), NULL), "UnknownComponent");
    assert_string_equal(get1(CC("EVSE", 1, 1), V("Power"), NULL), "UnknownComponent");
    cfg.heartbeat_s = 60;

    /* several items answer in order, the request's component echoed */
    const char *code;
    cJSON *ans = call("{\"getVariableData\":[{\"component\":" CE("EVSE", 2) ",\"variable\":" V(
                          "Power") "},{\"component\":" C("X") ",\"variable\":" V("Y") "}]}",
                      false, NULL, &code);
    assert_non_null(ans);
    assert_string_equal(field(result(ans, 0), "attributeStatus"), "Accepted");
    assert_null(cJSON_GetObjectItemCaseSensitive(result(ans, 0), "attributeType"));
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(result(ans, 0), "component");
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(comp, "evse"), "id")
            ->valueint,
        2);
    assert_string_equal(field(result(ans, 1), "attributeStatus"), "UnknownComponent");
    assert_null(result(ans, 2));
    cJSON_Delete(ans);
}

/* SetVariables of one item: its status; writes collects the writes. */
static const char *set1(struct kvlist *writes, const char *component, const char *variable,
                        const char *attr, const char *value)
{
    static char out[64];
    char req[512];
    const char *code;
    snprintf(req, sizeof(req),
             "{\"setVariableData\":[{%s%s%s\"attributeValue\":\"%s\",\"component\":%s,"
             "\"variable\":%s}]}",
             attr ? "\"attributeType\":\"" : "", attr ? attr : "", attr ? "\"," : "", value,
             component, variable);
    cJSON *ans = call(req, true, writes, &code);
    assert_non_null(ans);
    snprintf(out, sizeof(out), "%s", field(result(ans, 0), "attributeStatus"));
    cJSON_Delete(ans);
    return out;
}

static void test_set(void **state)
{
    (void)state;
    struct kvlist w = KVLIST_INIT;
    assert_string_equal(set1(&w, C("OCPPCommCtrlr"), V("HeartbeatInterval"), NULL, "120"),
                        "Accepted");
    assert_string_equal(set1(&w, C("AuthCtrlr"), V("LocalPreAuthorize"), "Actual", "true"),
                        "Accepted");
    assert_string_equal(set1(&w, C("ReservationCtrlr"), V("NonEvseSpecific"), NULL, "false"),
                        "Accepted");
    assert_string_equal(set1(&w, C("SampledDataCtrlr"), V("TxUpdatedMeasurands"), NULL,
                             "Energy.Active.Import.Register,SoC"),
                        "Accepted");
    assert_string_equal(
        set1(&w, C("SecurityCtrlr"), V("BasicAuthPassword"), NULL, "s3cret-0123456789"),
        "Accepted");
    assert_int_equal(w.n, 5);
    assert_string_equal(kv_get(&w, "heartbeat_s"), "120");
    assert_string_equal(kv_get(&w, "local_pre_authorize"), "1");
    assert_string_equal(kv_get(&w, "reserve_connector_zero"), "0");
    assert_string_equal(kv_get(&w, "measurands"), "Energy.Active.Import.Register,SoC");
    assert_string_equal(kv_get(&w, "password"), "s3cret-0123456789");
    /* a key set twice: the last value */
    assert_string_equal(set1(&w, C("OCPPCommCtrlr"), V("HeartbeatInterval"), NULL, "90"),
                        "Accepted");
    assert_string_equal(kv_get(&w, "heartbeat_s"), "90");
    assert_int_equal(w.n, 5);
    kv_clear(&w);

    /* refusals write nothing */
    assert_string_equal(set1(&w, C("OCPPCommCtrlr"), V("HeartbeatInterval"), NULL, "0"),
                        "Rejected"); /* below the schema's 1 */
    assert_string_equal(set1(&w, C("OCPPCommCtrlr"), V("HeartbeatInterval"), NULL, "1.5"),
                        "Rejected");
    assert_string_equal(set1(&w, C("AuthCtrlr"), V("LocalPreAuthorize"), NULL, "1"), "Rejected");
    assert_string_equal(set1(&w, C("SampledDataCtrlr"), V("TxUpdatedMeasurands"), NULL, "Bogus"),
                        "Rejected");
    assert_string_equal(set1(&w, C("ChargingStation"), V("Model"), NULL, "X"), "Rejected");
    assert_string_equal(set1(&w, C("ClockCtrlr"), V("DateTime"), NULL, "2026-01-01T00:00:00Z"),
                        "Rejected");
    assert_string_equal(set1(&w, CE("EVSE", 1), V("Power"), "MaxSet", "11000"), "Rejected");
    assert_string_equal(set1(&w, C("FooCtrlr"), V("Enabled"), NULL, "true"), "UnknownComponent");
    assert_string_equal(set1(&w, C("AuthCtrlr"), V("Foo"), NULL, "true"), "UnknownVariable");
    assert_string_equal(set1(&w, CE("EVSE", 9), V("Power"), NULL, "1"), "UnknownComponent");
    assert_string_equal(set1(&w, C("OCPPCommCtrlr"), V("HeartbeatInterval"), "Target", "60"),
                        "NotSupportedAttributeType");
    assert_string_equal(set1(&w, C("OCPPCommCtrlr"), V("HeartbeatInterval"), "MinSet", "60"),
                        "NotSupportedAttributeType");
    assert_int_equal(w.n, 0);

    /* the reason of a refusal; a secret's value never quoted */
    const char *code;
    cJSON *ans =
        call(
            "{\"setVariableData\":[{\"attributeValue\":\"99999999\",\"component\":" C(
                "OCPPComm"
                "Ctrlr") ",\"variable\":" V("HeartbeatInterval") "},"
                                                                 "{\"attributeValue\":\"{bad}\","
                                                                 "\"component\":" C("SecurityCtrlr") ",\"variable\":" V(
                                                                     "BasicAuthPasswor"
                                                                     "d") "},"
                                                                          "{\"attribute"
                                                                          "Value\":"
                                                                          "\"x\","
                                                                          "\"component"
                                                                          "\":" C(
                                                                              "Char"
                                                                              "ging"
                                                                              "Stat"
                                                                              "ion") ",\"variable\""
                                                                                     ":" V(
                                                                                         "VendorN"
                                                                                         "a"
                                                                                         "me") "}"
                                                                                               "]"
                                                                                               "}",
            true, &w, &code);
    assert_non_null(ans);
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(result(ans, 0), "attributeStatusInfo");
    assert_string_equal(field(info, "reasonCode"), "InvalidValue");
    assert_non_null(strstr(field(info, "additionalInfo"), "heartbeat_s"));
    info = cJSON_GetObjectItemCaseSensitive(result(ans, 1), "attributeStatusInfo");
    assert_string_equal(field(result(ans, 1), "attributeStatus"), "Rejected");
    assert_null(field(info, "additionalInfo"));
    info = cJSON_GetObjectItemCaseSensitive(result(ans, 2), "attributeStatusInfo");
    assert_string_equal(field(info, "reasonCode"), "ReadOnly");
    cJSON_Delete(ans);
    assert_int_equal(w.n, 0);
    kv_free(&w);
}

/* ---- reports ---- */

struct parts {
    int n;
    int items;
    cJSON *part[16];
};

static void on_part(void *privdata, const char *payload, size_t len)
{
    struct parts *p = privdata;
    assert_int_equal(strlen(payload), len);
    keep("NotifyReport.req", payload);
    assert_true(p->n < 16);
    p->part[p->n] = cJSON_Parse(payload);
    assert_non_null(p->part[p->n]);
    p->items += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p->part[p->n], "reportData"));
    p->n++;
}

static void parts_free(struct parts *p)
{
    for (int i = 0; i < p->n; i++)
        cJSON_Delete(p->part[i]);
    memset(p, 0, sizeof(*p));
}

static const char *report(const char *text, bool base, struct parts *p, const char **code)
{
    struct cs_error err = {0};
    cJSON *req = cJSON_Parse(text);
    assert_non_null(req);
    memset(p, 0, sizeof(*p));
    const char *status = devmodel_report(&ch, req, base, on_part, p, code, &err);
    cJSON_Delete(req);
    return status;
}

/* The report items' "Component[evse].Variable[instance]" of every part, in order. */
static void names(const struct parts *p, struct buf *out)
{
    for (int i = 0; i < p->n; i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p->part[i], "reportData"))
        {
            const cJSON *comp = cJSON_GetObjectItemCaseSensitive(it, "component");
            const cJSON *var = cJSON_GetObjectItemCaseSensitive(it, "variable");
            const cJSON *evse = cJSON_GetObjectItemCaseSensitive(comp, "evse");
            buf_printf(out, "%s", field(comp, "name"));
            if (evse)
                buf_printf(out, "[%d]", cJSON_GetObjectItemCaseSensitive(evse, "id")->valueint);
            buf_printf(out, ".%s", field(var, "name"));
            if (field(var, "instance"))
                buf_printf(out, "[%s]", field(var, "instance"));
            buf_putc(out, ' ');
        }
    }
}

static void test_report_full(void **state)
{
    (void)state;
    struct parts p;
    const char *code;
    size_t n, station = 0, per_evse = 0;
    const struct dm_var *t = devmodel_vars(&n);
    for (size_t i = 0; i < n; i++)
        *(t[i].scope == DM_STATION ? &station : &per_evse) += 1;
    size_t total = station + 3 * per_evse;
    assert_string_equal(
        report("{\"requestId\":42,\"reportBase\":\"FullInventory\"}", true, &p, &code), "Accepted");
    assert_int_equal(p.items, total);
    assert_int_equal(p.n, (total + DM_ITEMS_PER_MESSAGE - 1) / DM_ITEMS_PER_MESSAGE);
    assert_true(p.n >= 3);
    for (int i = 0; i < p.n; i++) {
        const cJSON *part = p.part[i];
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(part, "requestId")->valueint, 42);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(part, "seqNo")->valueint, i);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "tbc")), i < p.n - 1);
        assert_string_equal(field(part, "generatedAt"), "2026-09-21T14:13:20.123Z");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(part, "reportData")),
                         i < p.n - 1 ? DM_ITEMS_PER_MESSAGE
                                     : (int)(total - (size_t)(p.n - 1) * DM_ITEMS_PER_MESSAGE));
    }
    /* station first, then EVSE by EVSE; the password's value not reported */
    struct buf b = BUF_INIT;
    names(&p, &b);
    assert_true(strncmp(buf_cstr(&b), "ChargingStation.AvailabilityState ", 34) == 0);
    assert_non_null(strstr(buf_cstr(&b), "EVSE[3].SupplyPhases Connector[3].AvailabilityState"));
    assert_null(strstr(buf_cstr(&b), "[4]"));
    int seen = 0;
    for (int i = 0; i < p.n; i++) {
        char *text = cJSON_PrintUnformatted(p.part[i]);
        const char *at = strstr(text, "\"BasicAuthPassword\"");
        if (at) {
            seen++;
            const char *end = strstr(at, "variableCharacteristics");
            assert_non_null(strstr(at, "\"mutability\":\"WriteOnly\""));
            assert_true(strstr(at, "\"value\"") == NULL || strstr(at, "\"value\"") > end);
        }
        /* EVSE Power: Actual and MaxSet, W, MaxSet read-only */
        at = strstr(text,
                    "{\"name\":\"EVSE\",\"evse\":{\"id\":2}},\"variable\":{\"name\":\"Power\"}");
        if (at && ++seen)
            assert_non_null(strstr(at, "[{\"type\":\"Actual\",\"value\":\"0\",\"mutability\":"
                                       "\"ReadOnly\",\"persistent\":false,\"constant\":false},{"
                                       "\"type\":\"MaxSet\",\"value\":\"22000\",\"mutability\":"
                                       "\"ReadOnly\",\"persistent\":true,\"constant\":false}],"
                                       "\"variableCharacteristics\":{\"unit\":\"W\",\"dataType\":"
                                       "\"decimal\",\"minLimit\":100,\"maxLimit\":1000000,"));
        at = strstr(text, "\"TxUpdatedMeasurands\"");
        if (at && ++seen)
            assert_non_null(strstr(at, "\"dataType\":\"MemberList\",\"valuesList\":\"Energy.Active."
                                       "Import.Register,Power.Active.Import,Current.Import,"));
        at = strstr(text, "\"HeartbeatInterval\"");
        if (at && ++seen)
            assert_non_null(strstr(at, "\"mutability\":\"ReadWrite\",\"persistent\":true,"
                                       "\"constant\":false}],\"variableCharacteristics\":{"
                                       "\"unit\":\"s\",\"dataType\":\"integer\",\"minLimit\":1,"
                                       "\"maxLimit\":86400,\"supportsMonitoring\":false}"));
        cJSON_free(text);
    }
    assert_int_equal(seen, 4);
    buf_free(&b);
    parts_free(&p);

    /* ConfigurationInventory: the writable variables, one part */
    assert_string_equal(
        report("{\"requestId\":1,\"reportBase\":\"ConfigurationInventory\"}", true, &p, &code),
        "Accepted");
    assert_int_equal(p.n, 1);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p.part[0], "tbc")));
    names(&p, &b);
    assert_string_equal(buf_cstr(&b),
                        "OCPPCommCtrlr.HeartbeatInterval OCPPCommCtrlr.WebSocketPingInterval "
                        "OCPPCommCtrlr.MessageTimeout[Default] SampledDataCtrlr.TxUpdatedInterval "
                        "SampledDataCtrlr.TxUpdatedMeasurands AuthCtrlr.AuthorizeRemoteStart "
                        "AuthCtrlr.LocalPreAuthorize AuthCtrlr.LocalAuthorizeOffline "
                        "AuthCtrlr.OfflineTxForUnknownIdEnabled AuthCacheCtrlr.Enabled "
                        "LocalAuthListCtrlr.Enabled ReservationCtrlr.NonEvseSpecific "
                        "SecurityCtrlr.BasicAuthPassword ");
    buf_reset(&b);
    parts_free(&p);

    /* SummaryInventory: availability and problems */
    assert_string_equal(
        report("{\"requestId\":1,\"reportBase\":\"SummaryInventory\"}", true, &p, &code),
        "Accepted");
    names(&p, &b);
    assert_int_equal(p.items, 3 + 3 * 6);
    assert_non_null(strstr(buf_cstr(&b), "Connector[2].Problem "));
    buf_free(&b);
    parts_free(&p);
}

static void test_report_criteria(void **state)
{
    (void)state;
    struct parts p;
    struct buf b = BUF_INIT;
    const char *code;
    /* componentVariable: a whole component, a variable, an EVSE, a connector, an instance */
    assert_string_equal(
        report("{\"requestId\":7,\"componentVariable\":[{\"component\":{\"name\":\"AuthCtrlr\"}},"
               "{\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":2}},\"variable\":{\"name\":"
               "\"Power\"}},{\"component\":{\"name\":\"Connector\"},\"variable\":{\"name\":"
               "\"ConnectorType\"}},{\"component\":{\"name\":\"DeviceDataCtrlr\"},\"variable\":"
               "{\"name\":\"ItemsPerMessage\",\"instance\":\"GetReport\"}}]}",
               false, &p, &code),
        "Accepted");
    names(&p, &b);
    assert_string_equal(buf_cstr(&b),
                        "AuthCtrlr.Enabled AuthCtrlr.AuthorizeRemoteStart "
                        "AuthCtrlr.LocalPreAuthorize AuthCtrlr.LocalAuthorizeOffline "
                        "AuthCtrlr.OfflineTxForUnknownIdEnabled "
                        "DeviceDataCtrlr.ItemsPerMessage[GetReport] Connector[1].ConnectorType "
                        "EVSE[2].Power Connector[2].ConnectorType Connector[3].ConnectorType ");
    buf_reset(&b);
    parts_free(&p);
    /* componentCriteria: Problem (EVSE 3 is Faulted), Enabled, with componentVariable */
    assert_string_equal(
        report("{\"requestId\":8,\"componentCriteria\":[\"Problem\"]}", false, &p, &code),
        "Accepted");
    names(&p, &b);
    assert_non_null(strstr(buf_cstr(&b), "EVSE[3].Power "));
    assert_null(strstr(buf_cstr(&b), "EVSE[2]"));
    assert_null(strstr(buf_cstr(&b), "ChargingStation"));
    buf_reset(&b);
    parts_free(&p);
    assert_string_equal(report("{\"requestId\":8,\"componentCriteria\":[\"Enabled\"],"
                               "\"componentVariable\":[{\"component\":{\"name\":"
                               "\"AuthCacheCtrlr\"},\"variable\":{\"name\":\"Policy\"}}]}",
                               false, &p, &code),
                        "Accepted");
    names(&p, &b);
    assert_string_equal(buf_cstr(&b), "AuthCacheCtrlr.Policy ");
    buf_reset(&b);
    parts_free(&p);
    cfg.auth_cache = false; /* no longer Enabled */
    assert_string_equal(report("{\"requestId\":8,\"componentCriteria\":[\"Enabled\"],"
                               "\"componentVariable\":[{\"component\":{\"name\":"
                               "\"AuthCacheCtrlr\"}}]}",
                               false, &p, &code),
                        "EmptyResultSet");
    assert_int_equal(p.n, 0);
    cfg.auth_cache = true;
    /* nothing matches */
    assert_string_equal(report("{\"requestId\":9,\"componentVariable\":[{\"component\":{\"name\":"
                               "\"NoSuchCtrlr\"}}]}",
                               false, &p, &code),
                        "EmptyResultSet");
    assert_string_equal(report("{\"requestId\":9,\"componentVariable\":[{\"component\":{\"name\":"
                               "\"EVSE\",\"evse\":{\"id\":4}}}]}",
                               false, &p, &code),
                        "EmptyResultSet");
    assert_int_equal(p.n, 0);
    /* a criterion the model does not track */
    assert_string_equal(
        report("{\"requestId\":9,\"componentCriteria\":[\"Active\"]}", false, &p, &code),
        "NotSupported");
    assert_int_equal(p.n, 0);
    /* GetReport without filters: everything */
    assert_string_equal(report("{\"requestId\":10}", false, &p, &code), "Accepted");
    assert_true(p.n >= 3);
    parts_free(&p);
    buf_free(&b);
}

/* ---- malformed requests ---- */

enum kind { GET, SET, BASE, REPORT };
static const struct {
    enum kind kind;
    const char *req;
    const char *code;
} bad[] = {
    {GET, "[]", OCPP_E_TYPE},
    {GET, "{}", OCPP_E_OCCURRENCE},
    {GET, "{\"getVariableData\":{}}", OCPP_E_TYPE},
    {GET, "{\"getVariableData\":[]}", OCPP_E_OCCURRENCE},
    {GET, "{\"getVariableData\":[1]}", OCPP_E_TYPE},
    {GET, "{\"getVariableData\":[{\"variable\":{\"name\":\"a\"}}]}", OCPP_E_OCCURRENCE},
    {GET, "{\"getVariableData\":[{\"component\":{\"name\":\"a\"}}]}", OCPP_E_OCCURRENCE},
    {GET, "{\"getVariableData\":[{\"component\":{},\"variable\":{\"name\":\"a\"}}]}",
     OCPP_E_OCCURRENCE},
    {GET, "{\"getVariableData\":[{\"component\":{\"name\":7},\"variable\":{\"name\":\"a\"}}]}",
     OCPP_E_TYPE},
    {GET,
     "{\"getVariableData\":[{\"component\":{\"name\":"
     "\"123456789012345678901234567890123456789012345678901\"},\"variable\":{\"name\":\"a\"}}]}",
     OCPP_E_PROPERTY},
    {GET,
     "{\"getVariableData\":[{\"attributeType\":\"Max\",\"component\":{\"name\":\"a\"},"
     "\"variable\":{\"name\":\"a\"}}]}",
     OCPP_E_PROPERTY},
    {GET,
     "{\"getVariableData\":[{\"component\":{\"name\":\"EVSE\",\"evse\":{}},\"variable\":"
     "{\"name\":\"a\"}}]}",
     OCPP_E_OCCURRENCE},
    {GET,
     "{\"getVariableData\":[{\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":1.5}},"
     "\"variable\":{\"name\":\"a\"}}]}",
     OCPP_E_TYPE},
    {GET,
     "{\"getVariableData\":[{\"component\":{\"name\":\"EVSE\",\"evse\":{\"id\":1,"
     "\"connectorId\":\"1\"}},\"variable\":{\"name\":\"a\"}}]}",
     OCPP_E_TYPE},
    {GET,
     "{\"getVariableData\":[{\"component\":{\"name\":\"a\"},\"variable\":{\"name\":\"a\","
     "\"instance\":[]}}]}",
     OCPP_E_TYPE},
    /* a good item before a bad one: nothing is answered */
    {GET,
     "{\"getVariableData\":[{\"component\":{\"name\":\"a\"},\"variable\":{\"name\":\"a\"}},"
     "{\"component\":{\"name\":\"a\"}}]}",
     OCPP_E_OCCURRENCE},
    {SET, "{\"setVariableData\":[{\"component\":{\"name\":\"a\"},\"variable\":{\"name\":\"a\"}}]}",
     OCPP_E_OCCURRENCE},
    {SET,
     "{\"setVariableData\":[{\"attributeValue\":5,\"component\":{\"name\":\"a\"},"
     "\"variable\":{\"name\":\"a\"}}]}",
     OCPP_E_TYPE},
    {SET, "{\"getVariableData\":[]}", OCPP_E_OCCURRENCE},
    {BASE, "{\"reportBase\":\"FullInventory\"}", OCPP_E_OCCURRENCE},
    {BASE, "{\"requestId\":\"1\",\"reportBase\":\"FullInventory\"}", OCPP_E_TYPE},
    {BASE, "{\"requestId\":1}", OCPP_E_OCCURRENCE},
    {BASE, "{\"requestId\":1,\"reportBase\":\"Everything\"}", OCPP_E_PROPERTY},
    {BASE, "7", OCPP_E_TYPE},
    {REPORT, "{}", OCPP_E_OCCURRENCE},
    {REPORT, "{\"requestId\":1,\"componentVariable\":[]}", OCPP_E_OCCURRENCE},
    {REPORT, "{\"requestId\":1,\"componentVariable\":[{}]}", OCPP_E_OCCURRENCE},
    {REPORT, "{\"requestId\":1,\"componentVariable\":[{\"component\":{\"name\":1}}]}", OCPP_E_TYPE},
    {REPORT,
     "{\"requestId\":1,\"componentVariable\":[{\"component\":{\"name\":\"a\"},\"variable\":{}}]}",
     OCPP_E_OCCURRENCE},
    {REPORT, "{\"requestId\":1,\"componentCriteria\":[]}", OCPP_E_OCCURRENCE},
    {REPORT, "{\"requestId\":1,\"componentCriteria\":\"Active\"}", OCPP_E_TYPE},
    {REPORT, "{\"requestId\":1,\"componentCriteria\":[\"Broken\"]}", OCPP_E_PROPERTY},
    {REPORT,
     "{\"requestId\":1,\"componentCriteria\":[\"Active\",\"Active\",\"Active\",\"Active\","
     "\"Active\"]}",
     OCPP_E_OCCURRENCE},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        cJSON *req = cJSON_Parse(bad[i].req);
        assert_non_null(req);
        struct buf b = BUF_INIT;
        struct jw w;
        struct kvlist writes = KVLIST_INIT;
        struct cs_error err = {0};
        struct parts p = {0};
        const char *code = NULL;
        int rc = 0;
        jw_init(&w, &b);
        switch (bad[i].kind) {
        case GET:
            rc = devmodel_get(&ch, req, &w, &code, &err);
            break;
        case SET:
            rc = devmodel_set(&ch, req, &w, &writes, &code, &err);
            break;
        case BASE:
        case REPORT:
            rc = devmodel_report(&ch, req, bad[i].kind == BASE, on_part, &p, &code, &err) ? 0 : -1;
            break;
        }
        if (!rc || !code || strcmp(code, bad[i].code) != 0)
            fail_msg("bad[%zu] %s: rc %d code %s, want %s", i, bad[i].req, rc,
                     code ? code : "(none)", bad[i].code);
        assert_true(err.msg[0]);
        assert_int_equal(b.len, 0); /* nothing written */
        assert_int_equal(writes.n, 0);
        assert_int_equal(p.n, 0);
        cJSON_Delete(req);
    }
    /* more items than ItemsPerMessage */
    struct buf big = BUF_INIT;
    buf_puts(&big, "{\"getVariableData\":[");
    for (int i = 0; i <= DM_ITEMS_PER_MESSAGE; i++)
        buf_printf(&big, "%s{\"component\":{\"name\":\"a\"},\"variable\":{\"name\":\"b\"}}",
                   i ? "," : "");
    buf_puts(&big, "]}");
    cJSON *req = cJSON_Parse(buf_cstr(&big));
    struct buf b = BUF_INIT;
    struct jw w;
    const char *code = NULL;
    jw_init(&w, &b);
    assert_int_not_equal(devmodel_get(&ch, req, &w, &code, NULL), 0);
    assert_string_equal(code, OCPP_E_OCCURRENCE);
    cJSON_Delete(req);
    buf_free(&big);
}

static void test_doc(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    size_t n;
    const struct dm_var *t = devmodel_vars(&n);
    devmodel_doc_markdown(&b);
    assert_non_null(strstr(buf_cstr(&b), "# OCPP 2.0.1 device model"));
    assert_non_null(strstr(buf_cstr(&b), "| OCPPCommCtrlr | HeartbeatInterval | Actual | "
                                         "ReadWrite | integer | s | `heartbeat_s` |"));
    assert_non_null(strstr(buf_cstr(&b), "| EVSE (evse n) | Power | Actual, MaxSet | ReadOnly | "
                                         "decimal | W | live power; MaxSet: `max_kw` x 1000 |"));
    assert_non_null(strstr(buf_cstr(&b), "| DeviceDataCtrlr | ItemsPerMessage[GetReport] |"));
    assert_non_null(strstr(buf_cstr(&b), "| SecurityCtrlr | BasicAuthPassword | Actual | "
                                         "WriteOnly |"));
    /* one table line per row */
    size_t lines = 0;
    for (const char *s = buf_cstr(&b); (s = strstr(s, "\n| ")); s++)
        lines++;
    assert_int_equal(lines, n + 1); /* + the header */
    for (size_t i = 0; i < n; i++)
        assert_non_null(strstr(buf_cstr(&b), t[i].help));
    buf_free(&b);
}

/* Empties CS_DM_OUT of an earlier run's payloads. */
static void clear_out(void)
{
    DIR *d = opendir(CS_DM_OUT);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".json")) {
            snprintf(path, sizeof(path), "%s/%s", CS_DM_OUT, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
}

int main(void)
{
    clear_out();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_table, setup),
        cmocka_unit_test_setup(test_get, setup),
        cmocka_unit_test_setup(test_set, setup),
        cmocka_unit_test_setup(test_report_full, setup),
        cmocka_unit_test_setup(test_report_criteria, setup),
        cmocka_unit_test_setup(test_malformed, setup),
        cmocka_unit_test_setup(test_doc, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
