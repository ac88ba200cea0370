/* ctx.c - the services every layer of a worker may call. [loop] */
#include <string.h>

#include <event2/event.h>

#include "cs/buf.h"
#include "cs/event.h"
#include "cs/log.h"
#include "cs/rds.h"
#include "ctx.h"

const char *ctx_key(const struct agent_ctx *x, char *out, enum cs_key k, const char *arg)
{
    return cs_key(out, x->ns, k, arg);
}

void ctx_event(struct agent_ctx *x, const char *type, const struct kvlist *fields)
{
    char ch[CS_KEY_MAX];
    struct buf b = BUF_INIT;
    cs_event_render(&b, type, "worker", x->name, fields);
    rds_cmd(x->rc, NULL, NULL, "PUBLISH %s %b", ctx_key(x, ch, CH_EVENTS, NULL), b.s, b.len);
    buf_free(&b);
}

bool ctx_speaks_for_fleet(const struct agent_ctx *x)
{
    return x->slot == 0;
}

void ctx_key_unreadable(struct agent_ctx *x, const char *key, const char *why,
                        const char *consequence)
{
    struct kvlist f = KVLIST_INIT;
    log_error("%s: %s; %s", key, why, consequence);
    kv_set(&f, "key", key);
    kv_set(&f, "error", why);
    ctx_event(x, "key_unreadable", &f);
    kv_free(&f);
}

void ctx_config_rejected(void *privdata, const char *key, const char *val, const char *why)
{
    const struct reject_scope *rs = privdata;
    struct agent_ctx *x = rs->x;
    struct kvlist f = KVLIST_INIT;
    x->st->cfg_rejected++;
    kv_set(&f, "scope", rs->scope);
    kv_set(&f, "key", key);
    kv_set(&f, "value", val);
    kv_set(&f, "error", why);
    /* A charger's own value is seen by its owner only. */
    if (rs->charger || ctx_speaks_for_fleet(x))
        log_warn("%s: config rejected: %s", rs->scope, why);
    ctx_event(x, "config_rejected", &f);
    kv_free(&f);
}

const struct jtmpl *ctx_catalog_get(const struct agent_ctx *x, const char *name)
{
    const struct ucatalog *c = x->catalog;
    for (size_t i = 0; c && i < c->src.n; i++)
        if (strcmp(c->src.v[i].key, name) == 0)
            return c->tmpl[i];
    return NULL;
}

void ctx_arm(struct event *ev, int64_t delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

void ctx_arm_shared(struct event *ev, int64_t delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    /* libevent hands back the queue it already has for this duration (NULL once it holds
     * its maximum of durations: then the heap, as ctx_arm). */
    const struct timeval *q = event_base_init_common_timeout(event_get_base(ev), &tv);
    evtimer_add(ev, q ? q : &tv);
}
