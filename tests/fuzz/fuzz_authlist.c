/* Fuzz target: SendLocalList as the charger applies it (cs/authlist.h): a full list, then the
 * input as an update of it and as idTagInfo for the cache; the list stays sorted, within its
 * bounds, and every entry can be found again. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/authlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct authlist *l)
{
    if (l->n > AUTHLIST_MAX)
        __builtin_trap();
    for (uint32_t i = 0; i < l->n; i++) {
        if (i && strcmp(l->e[i - 1].id_tag, l->e[i].id_tag) >= 0)
            __builtin_trap(); /* sorted, no duplicates */
        if (authlist_find(l, l->e[i].id_tag) != &l->e[i])
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *req = cJSON_ParseWithLength((const char *)data, size);
    if (!req)
        return 0;
    struct authlist list = {0}, cache = {0};
    cJSON *seed =
        cJSON_Parse("{\"listVersion\":5,\"updateType\":\"Full\",\"localAuthorizationList\":"
                    "[{\"idTag\":\"A\",\"idTagInfo\":{\"status\":\"Accepted\"}},"
                    "{\"idTag\":\"M\",\"idTagInfo\":{\"status\":\"Blocked\"}}]}");
    const char *status = NULL, *code = NULL;
    struct cs_error err;
    authlist_apply(&list, seed, &status, &code, &err);
    if (authlist_apply(&list, req, &status, &code, &err) == CS_OK) {
        if (!status)
            __builtin_trap();
    } else if (!code) {
        __builtin_trap(); /* every refusal names its CALLERROR code */
    }
    check(&list);
    /* every item's idTagInfo into the cache, bounded */
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(req, "localAuthorizationList"))
    {
        struct auth_entry e = {0};
        const cJSON *tag = cJSON_GetObjectItemCaseSensitive(it, "idTag");
        if (cJSON_IsString(tag) &&
            auth_info_parse(cJSON_GetObjectItemCaseSensitive(it, "idTagInfo"), &e, &code, &err) ==
                CS_OK) {
            authcache_put(&cache, tag->valuestring, &e);
            if (cache.n > AUTHCACHE_MAX)
                __builtin_trap();
            auth_entry_status(&e, 0);
        }
    }
    check(&cache);
    authlist_free(&list);
    authlist_free(&cache);
    cJSON_Delete(seed);
    cJSON_Delete(req);
    return 0;
}
