/* Fuzz target: the OCPP 2.0.1 device model (cs/devmodel.h). The input as GetVariables,
 * SetVariables, GetBaseReport and GetReport requests (an array also as their item lists):
 * every answer is JSON, a refusal names its CALLERROR code and writes nothing, every config
 * write passes the schema, and report parts come numbered with tbc on all but the last. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/cfg.h"
#include "cs/devmodel.h"
#include "cs/kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct parts {
    int n;
    bool last_tbc;
};

static void on_part(void *privdata, const char *payload, size_t len)
{
    struct parts *p = privdata;
    cJSON *j = cJSON_ParseWithLength(payload, len);
    if (!j || strlen(payload) != len)
        __builtin_trap();
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seqNo");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "reportData");
    if (!cJSON_IsNumber(seq) || seq->valueint != p->n || (p->n && !p->last_tbc))
        __builtin_trap();
    if (cJSON_GetArraySize(items) < 1 || cJSON_GetArraySize(items) > DM_ITEMS_PER_MESSAGE)
        __builtin_trap();
    p->last_tbc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "tbc"));
    p->n++;
    cJSON_Delete(j);
}

static void run(const struct dm_charger *c, const cJSON *req)
{
    struct buf b = BUF_INIT;
    struct jw w;
    struct kvlist writes = KVLIST_INIT;
    const char *code = NULL;
    struct cs_error err;
    for (int set = 0; set < 2; set++) {
        buf_reset(&b);
        jw_init(&w, &b);
        jw_obj(&w);
        size_t start = b.len;
        code = NULL;
        int rc = set ? devmodel_set(c, req, &w, &writes, &code, &err)
                     : devmodel_get(c, req, &w, &code, &err);
        if (rc) {
            if (!code || b.len != start || writes.n)
                __builtin_trap();
            continue;
        }
        jw_end(&w);
        cJSON *ans = cJSON_Parse(buf_cstr(&b));
        if (!ans)
            __builtin_trap();
        cJSON_Delete(ans);
    }
    for (size_t i = 0; i < writes.n; i++)
        if (cfg_check(&cfg_charger_schema, writes.v[i].key, writes.v[i].val, NULL) != CS_OK)
            __builtin_trap();
    for (int base = 0; base < 2; base++) {
        struct parts p = {0};
        code = NULL;
        const char *status = devmodel_report(c, req, base, on_part, &p, &code, &err);
        if (!status ? !code || p.n : (strcmp(status, "Accepted") == 0) != (p.n > 0) || p.last_tbc)
            __builtin_trap();
    }
    kv_free(&writes);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *req = cJSON_ParseWithLength((const char *)data, size);
    if (!req)
        return 0;
    static struct charger_cfg cfg;
    static const struct dm_evse evse[2] = {{"Occupied", 11000}, {"Faulted", 0}};
    cfg_defaults(&cfg_charger_schema, &cfg);
    struct dm_charger c = {
        .cfg = &cfg, .nevse = 2, .evse = evse, .identity = "CP-1", .now_ms = 1790000000000};
    run(&c, req);
    if (cJSON_IsArray(req)) {
        static const char *const lists[] = {"getVariableData", "setVariableData",
                                            "componentVariable"};
        for (size_t i = 0; i < 3; i++) {
            cJSON *wrap = cJSON_CreateObject();
            cJSON_AddNumberToObject(wrap, "requestId", 1);
            cJSON_AddItemToObject(wrap, lists[i], cJSON_Duplicate(req, true));
            run(&c, wrap);
            cJSON_Delete(wrap);
        }
    }
    cJSON_Delete(req);
    return 0;
}
