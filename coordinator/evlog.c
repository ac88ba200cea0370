/* evlog.c - recording {ns}:events in {ns}:eventlog, and following it and {ns}:cmdlog into obs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs/cmd.h"
#include "cs/event.h"
#include "cs/keys.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/util.h"
#include "evlog.h"
#include "ratelimit.h"

#define KEEP_STR "1000" /* EVLOG_KEEP */
_Static_assert(EVLOG_KEEP == 1000, "KEEP_STR out of step");

/* One stream followed into obs: its key, the newest entry read, a read in flight. */
struct follow {
    char key[CS_KEY_MAX];
    char last[48];
    bool busy;
    int count; /* entries read at most at once: what obs keeps */
};

struct evlog {
    struct evlog_opts o;
    char ns[64], id[128];
    struct rds *sub;
    char channel[CS_KEY_MAX];
    bool leader;
    struct ratelimit *rl;
    long long dropped; /* events not recorded since the last note */
    struct follow events, commands;
};

/* [loop] An event heard: recorded when leading and the bucket allows. */
static void on_event(struct rds *r, const char *pattern, const char *channel, const char *payload,
                     size_t len, void *privdata)
{
    (void)r;
    (void)pattern;
    (void)channel;
    struct evlog *e = privdata;
    if (!e->leader)
        return;
    if (len > EVLOG_EVENT_MAX || !rl_take(e->rl, e->events.key, RL_EVENTLOG, cs_mono_ms(), NULL)) {
        e->dropped++;
        return;
    }
    if (rds_cmd(e->o.r, NULL, NULL, "XADD %s MAXLEN ~ %s * event %b", e->events.key, KEEP_STR,
                payload, len) != CS_OK)
        e->dropped++;
}

struct evlog *evlog_new(struct event_base *base, const struct evlog_opts *o)
{
    struct evlog *e = cs_calloc(1, sizeof(*e));
    e->o = *o;
    cs_strlcpy(e->ns, o->ns, sizeof(e->ns));
    cs_strlcpy(e->id, o->id, sizeof(e->id));
    e->o.ns = e->ns;
    e->o.id = e->id;
    e->rl = rl_new();
    cs_key(e->events.key, e->ns, K_EVENTLOG, NULL);
    cs_key(e->commands.key, e->ns, K_CMDLOG, NULL);
    e->events.count = OBS_EVENTS_MAX;
    e->commands.count = OBS_COMMANDS_MAX;
    struct rds_opts ro = {
        .url = o->url, .name = "coordinator-events", .on_message = on_event, .privdata = e};
    e->sub = rds_new(base, &ro);
    rds_subscribe(e->sub, cs_key(e->channel, e->ns, CH_EVENTS, NULL));
    return e;
}

void evlog_free(struct evlog *e)
{
    if (!e)
        return;
    rds_free(e->sub);
    rl_free(e->rl);
    cs_free(e);
}

void evlog_set_leader(struct evlog *e, bool leader)
{
    if (!e)
        return;
    if (leader != e->leader)
        e->dropped = 0; /* counted while leading only */
    e->leader = leader;
}

/* ---- following the streams into obs ------------------------------------------------------ */

static int64_t entry_ms(const char *id)
{
    return strtoll(id, NULL, 10); /* "<ms>-<seq>" */
}

static void add_event(struct evlog *e, const char *id, const struct kvlist *f)
{
    const char *ev = kv_get(f, "event");
    if (ev)
        obs_event_add(e->o.obs, entry_ms(id), ev, strlen(ev));
}

/* The command as a line ("trigger CP-000001 Heartbeat"); its JSON when it does not parse; a
 * config write (swarm-cli config set/unset, field `write`) as "config " and its JSON. */
static void add_command(struct evlog *e, const char *id, const struct kvlist *f)
{
    const char *json = kv_get(f, "cmd"), *write = kv_get(f, "write");
    struct cmd c;
    struct buf line = BUF_INIT;
    if (!json && !write)
        return;
    if (!json) {
        buf_puts(&line, "config ");
        buf_append(&line, write, strlen(write) > 200 ? 200 : strlen(write));
    } else if (cmd_parse(json, strlen(json), &c, NULL) == CS_OK) {
        cmd_to_line(&c, false, &line);
        cmd_free(&c);
    } else {
        buf_append(&line, json, strlen(json) > 200 ? 200 : strlen(json));
    }
    obs_command_add(e->o.obs, entry_ms(id), kv_get(f, "id"), kv_get(f, "by"), kv_get(f, "to"),
                    buf_cstr(&line));
    buf_free(&line);
}

/* [loop] New entries, newest first (XREVRANGE): into obs oldest first. */
static void on_entries(struct evlog *e, struct follow *fl, const struct rds_reply *reply,
                       void (*add)(struct evlog *e, const char *id, const struct kvlist *f))
{
    fl->busy = false;
    if (!rds_reply_ok(reply))
        return;
    for (size_t i = rds_reply_len(reply); i-- > 0;) {
        const struct rds_reply *x = rds_reply_at(reply, i);
        const char *id = rds_reply_str(rds_reply_at(x, 0), NULL);
        struct kvlist f = KVLIST_INIT;
        if (!id)
            continue;
        rds_reply_kv(rds_reply_at(x, 1), &f);
        add(e, id, &f);
        cs_strlcpy(fl->last, id, sizeof(fl->last));
        kv_free(&f);
    }
}

static void on_events(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct evlog *e = privdata;
    on_entries(e, &e->events, reply, add_event);
}

static void on_commands(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct evlog *e = privdata;
    on_entries(e, &e->commands, reply, add_command);
}

static void read_new(struct evlog *e, struct follow *fl, rds_reply_fn *fn)
{
    char from[64], count[16];
    if (fl->busy)
        return;
    if (fl->last[0])
        snprintf(from, sizeof(from), "(%s", fl->last);
    else
        snprintf(from, sizeof(from), "-");
    snprintf(count, sizeof(count), "%d", fl->count);
    if (rds_cmd(e->o.r, fn, e, "XREVRANGE %s + %s COUNT %s", fl->key, from, count) == CS_OK)
        fl->busy = true;
}

/* What the bucket kept out, in one entry, once there is room. */
static void note_dropped(struct evlog *e)
{
    if (!e->leader || !e->dropped ||
        !rl_take(e->rl, e->events.key, RL_EVENTLOG, cs_mono_ms(), NULL))
        return;
    struct kvlist f = KVLIST_INIT;
    struct buf b = BUF_INIT;
    char n[24];
    snprintf(n, sizeof(n), "%lld", e->dropped);
    kv_set(&f, "count", n);
    cs_event_render(&b, "events_not_recorded", "coordinator", e->id, &f);
    if (rds_cmd(e->o.r, NULL, NULL, "XADD %s MAXLEN ~ %s * event %b", e->events.key, KEEP_STR, b.s,
                b.len) == CS_OK) {
        log_warn("%lld events on %s were not recorded in %s (over %.0f a second, or longer than "
                 "%d bytes)",
                 e->dropped, e->channel, e->events.key, rl_def(RL_EVENTLOG)->per_s,
                 EVLOG_EVENT_MAX);
        e->dropped = 0;
    }
    buf_free(&b);
    kv_free(&f);
}

void evlog_tick(struct evlog *e)
{
    if (!e || !rds_is_up(e->o.r))
        return;
    note_dropped(e);
    if (!e->o.obs)
        return;
    read_new(e, &e->events, on_events);
    read_new(e, &e->commands, on_commands);
}
