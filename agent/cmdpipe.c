/* cmdpipe.c - parse, dedupe, defer, schedule, run, reply, catch up. [loop] */
#include <stdio.h>
#include <string.h>

#include "cs/cmd.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/selector.h"
#include "cmdpipe.h"
#include "ctx.h"
#include "result.h"
#include "sched.h"
#include "verbs.h"

#define RECENT_IDS 512 /* ids of commands already handled (redelivery) */
#define DEFERRED_MAX 1000
#define LOG_PAGE 200            /* command log entries read at a time */
#define CLOCK_SKEW_MS 5000      /* a sender's clock may run this far ahead of ours */
#define LAG_PLAUSIBLE_MS 600000 /* a command's ts older than this is not a latency sample */

struct cmdpipe {
    struct agent_ctx *x;
    struct verbs_env v;
    char recent[RECENT_IDS][CMD_ID_MAX + 1];
    unsigned recent_pos;
    char log_seen[32]; /* last {ns}:cmdlog entry handled, "" = not read yet */
    bool log_catching_up;
    struct kvlist deferred; /* commands heard while replies could not be sent */
    bool stopping;
    const struct cmd *running; /* the command verbs_run is running, for hold() */
    int64_t running_t0, running_lag;
};

static void send_reply(struct cmdpipe *p, const char *id, const char *verb, struct result *r,
                       int64_t t0_us, int64_t lag_ms)
{
    char ch[CS_KEY_MAX];
    struct buf b = BUF_INIT;
    result_render(r, id, p->x->name, verb, (double)(cs_mono_us() - t0_us) / 1000.0, lag_ms, &b);
    rds_cmd(p->x->rc, NULL, NULL, "PUBLISH %s %b", ctx_key(p->x, ch, CH_REPLY, NULL), b.s, b.len);
    buf_free(&b);
}

/* The sender's clock says the command left ts_ms: how long it took to get here, or -1 when
 * that clock cannot be believed (a command from the future, or from long ago). */
static int64_t plausible_lag(int64_t ts_ms)
{
    if (!ts_ms)
        return -1;
    int64_t lag = cs_now_ms() - ts_ms;
    if (lag < -CLOCK_SKEW_MS || lag > LAG_PLAUSIBLE_MS)
        return -1;
    return lag > 0 ? lag : 0;
}

/* A reply that waits for what the verb started. */
struct held {
    struct result_hold h; /* first */
    struct cmdpipe *p;
    char id[CMD_ID_MAX + 1];
    const char *verb; /* a row of the command table */
    int64_t t0_us, lag_ms;
};

static void finish_held(struct result_hold *rh)
{
    struct held *hd = (struct held *)rh;
    send_reply(hd->p, hd->id, hd->verb, &rh->r, hd->t0_us, hd->lag_ms);
    result_free(&rh->r);
    cs_free(hd);
}

/* The command being run (p->running) leaves its reply to the verb. */
static struct result_hold *hold(void *privdata, struct result *r)
{
    struct cmdpipe *p = privdata;
    struct held *hd = cs_calloc(1, sizeof(*hd));
    hd->p = p;
    cs_strlcpy(hd->id, p->running->id, sizeof(hd->id));
    hd->verb = p->running->def->name;
    hd->t0_us = p->running_t0;
    hd->lag_ms = p->running_lag;
    hd->h.finish = finish_held;
    result_move(r, &hd->h);
    return &hd->h;
}

static void execute(struct cmdpipe *p, struct cmd *c, int64_t t0, int64_t run)
{
    struct agent_ctx *x = p->x;
    struct cs_error err;
    struct result r;
    result_init(&r);
    r.run = run;
    struct sel *s = NULL;
    int64_t lag = run ? -1 : plausible_lag(c->ts_ms);
    if (c->def->flags & CMD_F_SEL) {
        s = sel_parse(c->select, &x->idf, &err);
        if (!s) {
            x->st->cmd_errors++;
            result_refuse(&r, err.msg);
            send_reply(p, c->id, c->def->name, &r, t0, lag);
            goto out;
        }
        /* Fleet seed 0: a new sample per command, the same on every worker. */
        sel_prepare(s, (uint32_t)x->fleet.size,
                    x->fleet.seed ? (uint64_t)x->fleet.seed : cmd_seed(c));
    }
    p->running = c;
    p->running_t0 = t0;
    p->running_lag = lag;
    p->v.run(&p->v, c, s, &r);
    p->running = NULL;
    if (r.refused || r.failed)
        x->st->cmd_errors++;
    if (lag >= 0)
        hist_add(&x->st->cmd_us, (uint64_t)lag * 1000);
    if (!r.held)
        send_reply(p, c->id, c->def->name, &r, t0, lag);
out:
    sel_free(s);
    result_free(&r);
}

static void on_sched_run(void *privdata, const char *text, int64_t run)
{
    struct cmdpipe *p = privdata;
    struct cmd c;
    struct cs_error err;
    if (cmd_parse(text, strlen(text), &c, &err) == CS_OK) {
        execute(p, &c, cs_mono_us(), run);
        cmd_free(&c);
    }
}

static bool seen_before(struct cmdpipe *p, const char *id)
{
    if (!id[0])
        return false; /* no id (plain redis-cli): at-most-once, nothing to recognise */
    for (unsigned i = 0; i < RECENT_IDS; i++)
        if (strcmp(p->recent[i], id) == 0)
            return true;
    cs_strlcpy(p->recent[p->recent_pos], id, sizeof(p->recent[0]));
    p->recent_pos = (p->recent_pos + 1) % RECENT_IDS;
    return false;
}

/* Stream ids "ms-seq" compared as numbers. */
static int log_cmp(const char *a, const char *b)
{
    unsigned long long am = 0, as = 0, bm = 0, bs = 0;
    sscanf(a, "%llu-%llu", &am, &as);
    sscanf(b, "%llu-%llu", &bm, &bs);
    return am != bm ? (am < bm ? -1 : 1) : as != bs ? (as < bs ? -1 : 1) : 0;
}

/* A command log position: from the log itself, or claimed by a command (which anybody can
 * publish: one from the future would switch catch-up off, so it is not taken). */
static void note_log(struct cmdpipe *p, const char *log_id, bool trusted)
{
    unsigned long long ms = 0;
    if (!log_id[0] || sscanf(log_id, "%llu-", &ms) != 1)
        return;
    if (!trusted && (long long)ms > cs_now_ms() + CLOCK_SKEW_MS)
        return;
    if (!p->log_seen[0] || log_cmp(log_id, p->log_seen) > 0)
        cs_strlcpy(p->log_seen, log_id, sizeof(p->log_seen));
}

static void handle(struct cmdpipe *p, const char *payload, size_t len, const char *log_id)
{
    struct agent_ctx *x = p->x;
    int64_t t0 = cs_mono_us();
    if (!rds_is_up(x->rc)) {
        /* Heard on the pub/sub connection while the command connection is still down: run it
         * once both are back, so its reply and the state it writes are not lost. */
        if (p->deferred.n < DEFERRED_MAX) {
            char key[24];
            snprintf(key, sizeof(key), "%zu", p->deferred.n);
            kv_setn(&p->deferred, key, strlen(key), payload, len);
        }
        return;
    }
    struct cmd c;
    struct cs_error err;
    x->st->cmds++;
    if (cmd_parse(payload, len, &c, &err) != CS_OK) {
        struct result r;
        char id[CMD_ID_MAX + 1];
        result_init(&r);
        cmd_salvage_id(payload, len, id);
        x->st->cmd_errors++;
        result_refuse(&r, err.msg);
        if (ctx_speaks_for_fleet(x))
            log_warn("bad command: %s", err.msg);
        send_reply(p, id, NULL, &r, t0, -1);
        result_free(&r);
        return;
    }
    if (log_id)
        note_log(p, log_id, true);
    else
        note_log(p, c.log_id, false);
    if (seen_before(p, c.id)) {
        /* Redelivered (command log catch-up, or sent twice): handled once, answered once. */
        x->st->cmd_duplicates++;
        cmd_free(&c);
        return;
    }
    if (cmd_scheduled(&c)) {
        struct result r;
        struct sel *s = NULL;
        int64_t lag = plausible_lag(c.ts_ms);
        result_init(&r);
        if (c.def->flags & CMD_F_SEL && !(s = sel_parse(c.select, &x->idf, &err)))
            result_refuse(&r, err.msg); /* refused now rather than failing at every run */
        else if (p->stopping)
            result_refuse(&r, "the worker is stopping");
        else if (sched_add(p->v.sched, &c, &r.scheduled_ms, &err) != CS_OK)
            result_refuse(&r, err.msg);
        sel_free(s);
        send_reply(p, c.id, c.def->name, &r, t0, lag);
        result_free(&r);
        cmd_free(&c);
        return;
    }
    execute(p, &c, t0, 0);
    cmd_free(&c);
}

void cmdpipe_on_message(struct cmdpipe *p, const char *payload, size_t len)
{
    handle(p, payload, len, NULL);
}

/* ---- the command log: catching up after a lost Redis connection -------------------------- */

static void catch_up(struct cmdpipe *p);

static void on_log_tail(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct cmdpipe *p = privdata;
    if (!rds_reply_ok(reply))
        return;
    /* Start from the end: what was issued before this worker existed is not its business. */
    const char *id = rds_reply_str(rds_reply_at(rds_reply_at(reply, 0), 0), NULL);
    if (!p->log_seen[0])
        cs_strlcpy(p->log_seen, id ? id : "0-0", sizeof(p->log_seen));
}

/* Whether a log entry's "to" names this worker ("*" or a comma list of workers). */
static bool addressed_to(const char *to, const char *name)
{
    if (!to || strcmp(to, "*") == 0)
        return true;
    for (const char *s = to; *s;) {
        size_t l = strcspn(s, ",");
        if (l == strlen(name) && strncmp(s, name, l) == 0)
            return true;
        s += l + (s[l] == ',');
    }
    return false;
}

static void on_log_range(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct cmdpipe *p = privdata;
    p->log_catching_up = false;
    if (!rds_reply_ok(reply))
        return;
    size_t n = rds_reply_len(reply);
    for (size_t i = 0; i < n; i++) {
        const struct rds_reply *e = rds_reply_at(reply, i);
        const char *id = rds_reply_str(rds_reply_at(e, 0), NULL);
        struct kvlist f = KVLIST_INIT;
        rds_reply_kv(rds_reply_at(e, 1), &f);
        const char *cmd = kv_get(&f, "cmd");
        if (id)
            note_log(p, id, true);
        if (cmd && addressed_to(kv_get(&f, "to"), p->x->name)) {
            p->x->st->cmds_caught_up++;
            handle(p, cmd, strlen(cmd), id ? id : "");
        }
        kv_free(&f);
    }
    if (n == LOG_PAGE)
        catch_up(p); /* more to read */
}

/* Reads the command log from the last entry seen: commands published while this worker could
 * not hear them run now (their ids make a second delivery harmless). */
static void catch_up(struct cmdpipe *p)
{
    char k[CS_KEY_MAX], from[40], count[16];
    if (p->log_catching_up)
        return;
    ctx_key(p->x, k, K_CMDLOG, NULL);
    if (!p->log_seen[0]) {
        rds_cmd(p->x->rc, on_log_tail, p, "XREVRANGE %s + - COUNT 1", k);
        return;
    }
    snprintf(from, sizeof(from), "(%s", p->log_seen);
    snprintf(count, sizeof(count), "%d", LOG_PAGE);
    p->log_catching_up =
        rds_cmd(p->x->rc, on_log_range, p, "XRANGE %s %s + COUNT %s", k, from, count) == CS_OK;
}

void cmdpipe_resync(struct cmdpipe *p)
{
    struct kvlist later = p->deferred;
    kv_init(&p->deferred);
    for (size_t i = 0; i < later.n; i++)
        handle(p, later.v[i].val, strlen(later.v[i].val), NULL);
    kv_free(&later);
    catch_up(p);
}

void cmdpipe_stop(struct cmdpipe *p)
{
    p->stopping = true;
    sched_cancel(p->v.sched, "*");
}

struct cmdpipe *cmdpipe_new(struct agent_ctx *x, struct chargers *set, struct livecfg *cfg,
                            verbs_run_fn *run, void *run_privdata)
{
    struct cmdpipe *p = cs_calloc(1, sizeof(*p));
    p->x = x;
    p->v = (struct verbs_env){
        x, set, cfg, sched_new(x, on_sched_run, p), hold, p, run ? run : verbs_run, run_privdata};
    return p;
}

void cmdpipe_free(struct cmdpipe *p)
{
    if (!p)
        return;
    sched_free(p->v.sched);
    kv_free(&p->deferred);
    cs_free(p);
}
