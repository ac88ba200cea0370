/* authz.c - the local list and the authorization cache of a charger (authz.h). [loop] */
#include <string.h>

#include <cjson/cJSON.h>

#include "authz.h"
#include "crt.h"
#include "cs/authlist.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/ocpp.h"
#include "persist.h"

struct authz {
    struct authlist list, cache;
};

static struct authz *get(struct charger_rt *ch)
{
    if (!ch->az)
        ch->az = cs_calloc(1, sizeof(*ch->az));
    return ch->az;
}

static const struct auth_entry *lookup(struct charger_rt *ch, const char *id_tag)
{
    const struct charger_cfg *c = crt_cfg(ch);
    if (!ch->az || !id_tag)
        return NULL;
    const struct auth_entry *e = c->local_auth_list ? authlist_find(&ch->az->list, id_tag) : NULL;
    if (!e && c->auth_cache)
        e = authcache_get(&ch->az->cache, id_tag);
    return e;
}

enum authz_verdict authz_local(struct charger_rt *ch, const char *id_tag)
{
    const struct auth_entry *e = lookup(ch, id_tag);
    if (!e)
        return AUTHZ_UNKNOWN;
    return auth_entry_status(e, cs_now_ms()) == AS_ACCEPTED ? AUTHZ_ACCEPT : AUTHZ_REFUSE;
}

bool authz_offline(struct charger_rt *ch, const char *id_tag)
{
    const struct charger_cfg *c = crt_cfg(ch);
    switch (authz_local(ch, id_tag)) {
    case AUTHZ_ACCEPT:
        return c->local_authorize_offline;
    case AUTHZ_REFUSE:
        return false;
    case AUTHZ_UNKNOWN:
        break;
    }
    return c->allow_offline_unknown;
}

const char *authz_parent(struct charger_rt *ch, const char *id_tag)
{
    const struct auth_entry *e = lookup(ch, id_tag);
    return e ? e->parent : "";
}

void authz_remember(struct charger_rt *ch, const char *id_tag, const struct cJSON *id_tag_info)
{
    const struct charger_cfg *c = crt_cfg(ch);
    struct auth_entry e = {0};
    const char *code;
    struct cs_error err;
    if (!c->auth_cache || !id_tag || !*id_tag)
        return;
    /* An idTag the list holds stays the list's: the cache keeps only the others (4.1). */
    if (c->local_auth_list && ch->az && authlist_find(&ch->az->list, id_tag))
        return;
    if (auth_info_parse(id_tag_info, &e, &code, &err) != CS_OK)
        return;
    authcache_put(&get(ch)->cache, id_tag, &e);
    persist_mark_installed(ch);
}

int authz_send_list(struct charger_rt *ch, const struct cJSON *req, const char **status,
                    const char **code, struct cs_error *err)
{
    if (!crt_cfg(ch)->local_auth_list) {
        *status = "NotSupported";
        return CS_OK;
    }
    int rc = authlist_apply(&get(ch)->list, req, status, code, err);
    if (rc == CS_OK && strcmp(*status, "Accepted") == 0)
        persist_mark_installed(ch);
    if (rc == CS_OK)
        log_debug("%s: SendLocalList %s: version %d, %u entries", ch->m.id, *status,
                  (int)ch->az->list.version, ch->az->list.n);
    return rc;
}

int32_t authz_list_version(const struct charger_rt *ch)
{
    return ch->az ? ch->az->list.version : 0;
}

void authz_clear_cache(struct charger_rt *ch)
{
    if (ch->az && ch->az->cache.n) {
        authlist_free(&ch->az->cache);
        persist_mark_installed(ch);
    }
}

static void save_entries(struct jw *w, const char *key, const struct authlist *l)
{
    jw_key(w, key);
    jw_arr(w);
    for (uint32_t i = 0; i < l->n; i++) {
        const struct auth_entry *e = &l->e[i];
        jw_arr(w);
        jw_str(w, e->id_tag);
        jw_str(w, auth_status_name((enum auth_status)e->status));
        jw_int(w, e->expiry_ms);
        jw_str(w, e->parent);
        jw_end(w);
    }
    jw_end(w);
}

void authz_save(const struct charger_rt *ch, struct jw *w)
{
    static const struct authlist none = {0};
    const struct authz *a = ch->az;
    jw_obj(w);
    jw_kint(w, "version", a ? a->list.version : 0);
    save_entries(w, "list", a ? &a->list : &none);
    save_entries(w, "cache", a ? &a->cache : &none);
    jw_end(w);
}

/* [tag, status, expiry_ms, parent] into e; false for anything else. */
static bool saved_entry(const cJSON *a, struct auth_entry *e)
{
    const cJSON *tag = cJSON_GetArrayItem(a, 0), *st = cJSON_GetArrayItem(a, 1);
    const cJSON *exp = cJSON_GetArrayItem(a, 2), *parent = cJSON_GetArrayItem(a, 3);
    enum auth_status s;
    if (!cJSON_IsString(tag) || !cJSON_IsString(st) || !auth_status_parse(st->valuestring, &s) ||
        !cJSON_IsNumber(exp) || exp->valuedouble < 0 || exp->valuedouble > 1e15 ||
        !cJSON_IsString(parent))
        return false;
    memset(e, 0, sizeof(*e));
    cs_strlcpy(e->id_tag, tag->valuestring, sizeof(e->id_tag));
    cs_strlcpy(e->parent, parent->valuestring, sizeof(e->parent));
    e->status = (uint8_t)s;
    e->expiry_ms = (int64_t)exp->valuedouble;
    return true;
}

void authz_restore(struct charger_rt *ch, const cJSON *saved)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(saved, "version"), *a;
    struct auth_entry e;
    int n = 0;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(saved, "list"))
    {
        if (n++ < AUTHLIST_MAX && saved_entry(a, &e))
            authlist_put(&get(ch)->list, &e);
    }
    if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble <= INT32_MAX)
        get(ch)->list.version = (int32_t)v->valuedouble;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(saved, "cache"))
    {
        if (saved_entry(a, &e))
            authcache_put(&get(ch)->cache, e.id_tag, &e);
    }
}

uint32_t authz_entries(const struct charger_rt *ch)
{
    return ch->az ? ch->az->list.n + ch->az->cache.n : 0;
}

void authz_free(struct charger_rt *ch)
{
    if (!ch->az)
        return;
    authlist_free(&ch->az->list);
    authlist_free(&ch->az->cache);
    cs_free(ch->az);
    ch->az = NULL;
}
