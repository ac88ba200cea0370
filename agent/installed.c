/* installed.c - the platform's installed state of a charger, saved and read back
 * (installed.h). [loop] */
#include <string.h>

#include <cjson/cJSON.h>

#include "authz.h"
#include "crt.h"
#include "cs/buf.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "installed.h"
#include "reserve.h"
#include "smart.h"

typedef void save_fn(const struct charger_rt *ch, struct jw *w);
typedef void restore_fn(struct charger_rt *ch, const cJSON *saved);

/* One field per module; `empty` is what it writes when it holds nothing. */
static const struct {
    const char *field;
    save_fn *save;
    restore_fn *restore;
    const char *empty;
} parts[] = {
    {"reservations", reserve_save, reserve_restore, "[]"},
    {"auth", authz_save, authz_restore, "{\"version\":0,\"list\":[],\"cache\":[]}"},
    {"profiles", smart_save, smart_restore, "[]"},
};

void installed_save(struct charger_rt *ch, const char *key)
{
    struct buf vals[ARRAY_SIZE(parts)];
    const char *set[2 + 2 * ARRAY_SIZE(parts)], *del[2 + ARRAY_SIZE(parts)];
    int ns = 0, nd = 0;
    set[ns++] = "HSET";
    set[ns++] = key;
    del[nd++] = "HDEL";
    del[nd++] = key;
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        struct jw w;
        buf_init(&vals[i]);
        jw_init(&w, &vals[i]);
        parts[i].save(ch, &w);
        if (strcmp(buf_cstr(&vals[i]), parts[i].empty) == 0) {
            del[nd++] = parts[i].field;
        } else {
            set[ns++] = parts[i].field;
            set[ns++] = buf_cstr(&vals[i]);
        }
    }
    struct agent_ctx *x = crt_ctx(ch);
    if (ns > 2)
        rds_cmdv(x->rc, NULL, NULL, ns, set, NULL);
    if (nd > 2)
        rds_cmdv(x->rc, NULL, NULL, nd, del, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        buf_free(&vals[i]);
}

void installed_restore(struct charger_rt *ch, const struct kvlist *state)
{
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        const char *text = kv_get(state, parts[i].field);
        if (!text)
            continue;
        cJSON *saved = cJSON_Parse(text);
        if (saved)
            parts[i].restore(ch, saved);
        else
            log_warn("%s: saved %s unreadable, left out", ch->m.id, parts[i].field);
        cJSON_Delete(saved);
    }
}
