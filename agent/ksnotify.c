/* ksnotify.c - the keyspace-notification setting live config depends on. [loop] */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "ctx.h"
#include "ksnotify.h"

#define CHECK_S 10 /* how often the setting is checked */

struct ksnotify {
    struct agent_ctx *x;
    void (*restored)(void *privdata);
    void *privdata;
    bool ok;      /* seen on (or turned on) at least once */
    bool setting; /* a CONFIG SET of ours in flight: older reads of the setting are stale */
    char asked[64];
    struct event *ev;
};

/* A Redis whose ACL keeps agents from CONFIG SET: the administrator enables the events. */
static void on_notify_set(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct ksnotify *lc = privdata;
    lc->setting = false;
    if (!reply || rds_reply_type(reply) != RDS_ERROR)
        return;
    lc->ok = false;
    if (ctx_speaks_for_fleet(lc->x))
        log_warn("cannot enable keyspace notifications (%s): run `CONFIG SET "
                 "notify-keyspace-events %s` as a Redis administrator; until then config "
                 "edits apply on `swarm-cli reload`",
                 rds_reply_str(reply, NULL), lc->asked);
}

/* Turns on the keyspace notifications live config needs (K + hash + generic + zset), keeping
 * any flags already set. Where CONFIG is not allowed, `reload` after each write still works. */
static void on_notify_config(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct ksnotify *lc = privdata;
    if (lc->setting)
        return; /* read before our change took effect */
    if (!rds_reply_ok(reply) || rds_reply_len(reply) != 2) {
        if (ctx_speaks_for_fleet(lc->x))
            log_warn("cannot read notify-keyspace-events (%s); live config needs `reload`",
                     reply ? rds_reply_str(reply, NULL) : "no reply");
        return;
    }
    const char *cur = rds_reply_str(rds_reply_at(reply, 1), NULL);
    char want[64];
    snprintf(want, sizeof(want), "%s", cur ? cur : "");
    bool all = strchr(want, 'A') != NULL;
    bool changed = false;
    for (const char *f = all ? "K" : "Khgz"; *f; f++) {
        if (!strchr(want, *f) && strlen(want) < sizeof(want) - 1) {
            size_t n = strlen(want);
            want[n] = *f;
            want[n + 1] = '\0';
            changed = true;
        }
    }
    bool restored = changed && lc->ok;
    if (restored && ctx_speaks_for_fleet(lc->x)) {
        /* They were on and somebody turned them off: live config would silently stop. */
        struct kvlist f = KVLIST_INIT;
        kv_set(&f, "was", cur ? cur : "");
        kv_set(&f, "now", want);
        log_warn("keyspace notifications were turned off (notify-keyspace-events '%s'): "
                 "turning them on again ('%s') so live config keeps working",
                 cur ? cur : "", want);
        ctx_event(lc->x, "keyspace_notifications_restored", &f);
        kv_free(&f);
    }
    lc->ok = true;
    if (changed) {
        snprintf(lc->asked, sizeof(lc->asked), "%s", want);
        lc->setting = rds_cmd(lc->x->rc, on_notify_set, lc, "CONFIG SET notify-keyspace-events %s",
                              want) == CS_OK;
    }
    if (restored)
        lc->restored(lc->privdata);
}

void ksnotify_check(struct ksnotify *lc)
{
    if (rds_is_up(lc->x->rc))
        rds_cmd(lc->x->rc, on_notify_config, lc, "CONFIG GET notify-keyspace-events");
}

static void on_notify_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct ksnotify *lc = privdata;
    ksnotify_check(lc);
    ctx_arm(lc->ev, CHECK_S * 1000);
}

struct ksnotify *ksnotify_new(struct agent_ctx *x, void (*restored)(void *privdata), void *privdata)
{
    struct ksnotify *k = cs_calloc(1, sizeof(*k));
    k->x = x;
    k->restored = restored;
    k->privdata = privdata;
    k->ev = evtimer_new(x->base, on_notify_timer, k);
    ctx_arm(k->ev, CHECK_S * 1000);
    return k;
}

void ksnotify_free(struct ksnotify *k)
{
    if (!k)
        return;
    if (k->ev)
        event_free(k->ev);
    cs_free(k);
}
