/* authlist.c - the Local Authorization List and the Authorization Cache (cs/authlist.h). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs/authlist.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "cs/util.h"

static const char *const status_names[AS__COUNT] = {
    [AS_ACCEPTED] = "Accepted",
    [AS_BLOCKED] = "Blocked",
    [AS_EXPIRED] = "Expired",
    [AS_INVALID] = "Invalid",
    [AS_CONCURRENT_TX] = "ConcurrentTx",
};

const char *auth_status_name(enum auth_status s)
{
    return s < AS__COUNT ? status_names[s] : "Invalid";
}

bool auth_status_parse(const char *name, enum auth_status *out)
{
    for (int i = 0; i < AS__COUNT; i++)
        if (name && strcmp(status_names[i], name) == 0) {
            *out = (enum auth_status)i;
            return true;
        }
    return false;
}

static const char *const status_choices[] = {"Accepted", "Blocked",      "Expired",
                                             "Invalid",  "ConcurrentTx", NULL};
static const struct ocpp_field info_fields[] = {{"status", FT_STRING, true, 0, status_choices},
                                                {"expiryDate", FT_DATETIME, false, 0, NULL},
                                                {"parentIdTag", FT_STRING, false, ID_TAG_MAX, NULL},
                                                {NULL, 0, false, 0, NULL}};

int auth_info_parse(const cJSON *info, struct auth_entry *e, const char **code,
                    struct cs_error *err)
{
    if (!cJSON_IsObject(info)) {
        *code = OCPP_E_TYPE;
        return cs_error_set(err, CS_ERR_PARSE, "idTagInfo must be an object");
    }
    int rc = ocpp_check(info, info_fields, code, err);
    if (rc)
        return rc;
    enum auth_status s = AS_INVALID;
    auth_status_parse(cJSON_GetObjectItemCaseSensitive(info, "status")->valuestring, &s);
    e->status = (uint8_t)s;
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(info, "expiryDate");
    e->expiry_ms = 0;
    if (exp)
        ocpp_datetime_parse(exp->valuestring, &e->expiry_ms);
    const cJSON *parent = cJSON_GetObjectItemCaseSensitive(info, "parentIdTag");
    cs_strlcpy(e->parent, parent ? parent->valuestring : "", sizeof(e->parent));
    return CS_OK;
}

/* Index of id_tag, or -(insertion point) - 1. */
static long find(const struct authlist *l, const char *id_tag)
{
    long lo = 0, hi = (long)l->n - 1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        int c = strcmp(l->e[mid].id_tag, id_tag);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

static void grow(struct authlist *l, uint32_t want)
{
    if (want <= l->cap)
        return;
    uint32_t cap = l->cap ? l->cap : 4;
    while (cap < want)
        cap *= 2;
    l->e = cs_realloc(l->e, cap * sizeof(*l->e));
    l->cap = cap;
}

/* Inserts or replaces e (sorted); returns its slot. */
static struct auth_entry *put(struct authlist *l, const struct auth_entry *e)
{
    long at = find(l, e->id_tag);
    if (at >= 0) {
        l->e[at] = *e;
        return &l->e[at];
    }
    size_t ins = (size_t)(-at - 1);
    grow(l, l->n + 1);
    memmove(&l->e[ins + 1], &l->e[ins], (l->n - ins) * sizeof(*l->e));
    l->e[ins] = *e;
    l->n++;
    return &l->e[ins];
}

static void drop(struct authlist *l, size_t at)
{
    memmove(&l->e[at], &l->e[at + 1], (l->n - at - 1) * sizeof(*l->e));
    l->n--;
}

void authlist_put(struct authlist *l, const struct auth_entry *e)
{
    put(l, e);
}

const struct auth_entry *authlist_find(const struct authlist *l, const char *id_tag)
{
    long at = l->n ? find(l, id_tag) : -1;
    return at >= 0 ? &l->e[at] : NULL;
}

static const struct ocpp_field item_fields[] = {{"idTag", FT_STRING, true, ID_TAG_MAX, NULL},
                                                {"idTagInfo", FT_OBJECT, false, 0, NULL},
                                                {NULL, 0, false, 0, NULL}};

/* Checks every item of localAuthorizationList before anything changes. */
static int check_items(const cJSON *items, const char **code, struct cs_error *err)
{
    if (items && !cJSON_IsArray(items)) {
        *code = OCPP_E_TYPE;
        return cs_error_set(err, CS_ERR_PARSE, "localAuthorizationList must be an array");
    }
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, items)
    {
        struct auth_entry e;
        int rc;
        if (!cJSON_IsObject(it)) {
            *code = OCPP_E_TYPE;
            rc = cs_error_set(err, CS_ERR_PARSE, "not an object");
        } else {
            rc = ocpp_check(it, item_fields, code, err);
        }
        if (!rc && cJSON_GetObjectItemCaseSensitive(it, "idTagInfo"))
            rc = auth_info_parse(cJSON_GetObjectItemCaseSensitive(it, "idTagInfo"), &e, code, err);
        if (rc) {
            char why[sizeof(err->msg)];
            cs_strlcpy(why, err->msg, sizeof(why));
            return cs_error_set(err, rc, "localAuthorizationList[%d]: %s", i, why);
        }
        i++;
    }
    return CS_OK;
}

int authlist_apply(struct authlist *l, const cJSON *req, const char **status, const char **code,
                   struct cs_error *err)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(req, "localAuthorizationList");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(req, "listVersion");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(req, "updateType");
    if (!cJSON_IsNumber(ver) || !cJSON_IsString(type)) {
        *code = OCPP_E_OCCURRENCE;
        return cs_error_set(err, CS_ERR_PARSE, "listVersion and updateType are required");
    }
    int rc = check_items(items, code, err);
    if (rc)
        return rc;
    bool full = strcmp(type->valuestring, "Full") == 0;
    int32_t version = ver->valuedouble > INT32_MAX ? INT32_MAX : (int32_t)ver->valuedouble;
    *status = "Failed";
    if (cJSON_GetArraySize(items) > AUTHLIST_SEND_MAX)
        return CS_OK;
    if (!full && version <= l->version) {
        *status = "VersionMismatch";
        return CS_OK;
    }
    /* Built aside, swapped in only when it is whole. */
    struct authlist next = {0};
    if (!full && l->n) {
        grow(&next, l->n);
        memcpy(next.e, l->e, l->n * sizeof(*l->e));
        next.n = l->n;
    }
    struct authlist seen = {0}; /* an idTag twice in one update is refused */
    const cJSON *it;
    bool ok = true;
    cJSON_ArrayForEach(it, items)
    {
        struct auth_entry e = {0};
        const char *tag = cJSON_GetObjectItemCaseSensitive(it, "idTag")->valuestring;
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(it, "idTagInfo");
        cs_strlcpy(e.id_tag, tag, sizeof(e.id_tag));
        if (authlist_find(&seen, tag)) {
            ok = false;
            break;
        }
        put(&seen, &e);
        if (info) {
            auth_info_parse(info, &e, code, err);
            put(&next, &e);
        } else if (!full) {
            long at = next.n ? find(&next, tag) : -1;
            if (at >= 0)
                drop(&next, (size_t)at);
        }
        if (next.n > AUTHLIST_MAX) {
            ok = false;
            break;
        }
    }
    authlist_free(&seen);
    if (!ok) {
        authlist_free(&next);
        return CS_OK;
    }
    authlist_free(l);
    *l = next;
    l->version = next.n ? version : 0; /* version 0: the list is empty (5.10) */
    *status = "Accepted";
    return CS_OK;
}

void authcache_put(struct authlist *c, const char *id_tag, const struct auth_entry *info)
{
    struct auth_entry e = *info;
    cs_strlcpy(e.id_tag, id_tag, sizeof(e.id_tag));
    e.used = ++c->clock;
    if (!authlist_find(c, id_tag) && c->n >= AUTHCACHE_MAX) {
        size_t lru = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->e[i].used < c->e[lru].used)
                lru = i;
        drop(c, lru);
    }
    put(c, &e);
}

const struct auth_entry *authcache_get(struct authlist *c, const char *id_tag)
{
    long at = c->n ? find(c, id_tag) : -1;
    if (at < 0)
        return NULL;
    c->e[at].used = ++c->clock;
    return &c->e[at];
}

enum auth_status auth_entry_status(const struct auth_entry *e, int64_t now_ms)
{
    if (e->status == AS_ACCEPTED && e->expiry_ms > 0 && e->expiry_ms <= now_ms)
        return AS_EXPIRED;
    return (enum auth_status)e->status;
}

void authlist_clear(struct authlist *l)
{
    cs_free(l->e);
    l->e = NULL;
    l->n = l->cap = 0;
}

void authlist_free(struct authlist *l)
{
    authlist_clear(l);
    l->version = 0;
    l->clock = 0;
}
