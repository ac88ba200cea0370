/* snap.c - one reading of the fleet for the views (status, agents, top): the fleet hash, the
 * fleet stats and rates, the leader, the running run, and (unless there are too many to show)
 * every live worker's registration, stats, rates and lease. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "cli.h"
#include "cs/astats.h"
#include "cs/cfg.h"
#include "cs/keys.h"
#include "cs/mem.h"
#include "cs/stats.h"
#include "cs/util.h"

/* Fleet figures older than this many stats intervals (and 10 s) are not trusted to stand in
 * for the workers' own: the coordinator writes them every interval while it leads. */
#define SNAP_FRESH_INTERVALS 3
#define SNAP_FRESH_MIN_MS 10000

/* The fleet settings with one key as {ns}:fleet holds it when it passes the schema, the
 * defaults otherwise (never a rejected value). */
static void fleet_key_of_hash(const struct snap *s, const char *key, struct fleet_cfg *f)
{
    cfg_defaults(&cfg_fleet_schema, f);
    const char *v = kv_get(&s->fleet, key);
    if (v)
        (void)cfg_set(&cfg_fleet_schema, f, key, v, NULL);
}

int snap_window_s(const struct snap *s)
{
    /* The window in force, as the coordinator wrote it with the fleet stats; before that the
     * fleet setting (the default when unset or invalid). */
    long long in_force = kv_i64(&s->fstats, "stats_window_s");
    if (in_force > 0)
        return (int)in_force;
    struct fleet_cfg f;
    fleet_key_of_hash(s, "stats_window_s", &f);
    return f.stats_window_s;
}

long long snap_fleet_size(const struct snap *s, struct snap_rejected *rej)
{
    const char *raw = kv_get(&s->fleet, "size");
    struct cs_error err;
    if (rej) {
        memset(rej, 0, sizeof(*rej));
        if (raw && cfg_check(&cfg_fleet_schema, "size", raw, &err) != CS_OK) {
            rej->value = raw;
            cs_strlcpy(rej->why, err.msg, sizeof(rej->why));
        }
    }
    /* What the coordinator runs, as it wrote it with the fleet stats; before that, what the
     * hash holds when it passes the schema, else the default: never a rejected value. */
    const char *in_force = kv_get(&s->fstats, "fleet_size");
    int64_t v;
    if (in_force && cs_parse_i64(in_force, 0, CS_FLEET_MAX, &v))
        return v;
    struct fleet_cfg f;
    fleet_key_of_hash(s, "size", &f);
    return f.size;
}

long long snap_errors(const struct kvlist *st)
{
    return kv_i64(st, "publish_errors") + kv_i64(st, "connect_failures");
}

/* Rates between the two newest entries of a stats stream (XREVRANGE: newest first); false
 * when there are not two (or a restart lies between them). */
static bool stream_rates(const struct rds_reply *r, double *out_rate, double *in_rate)
{
    struct stats_point p[2];
    for (size_t i = 0; i < 2; i++) {
        struct kvlist e = KVLIST_INIT;
        rds_reply_kv(rds_reply_at(rds_reply_at(r, i), 1), &e);
        stats_point_of(&e, &p[i]);
        kv_free(&e);
    }
    return rds_reply_len(r) >= 2 && stats_rates(&p[1], &p[0], out_rate, in_rate);
}

void snap_free(struct snap *s)
{
    kv_free(&s->fleet);
    kv_free(&s->fstats);
    for (size_t i = 0; i < s->n; i++) {
        kv_free(&s->w[i].agent);
        kv_free(&s->w[i].stats);
    }
    cs_free(s->w);
    memset(s, 0, sizeof(*s));
}

int snap_by_name(const void *a, const void *b)
{
    return strcmp(((const struct snap_worker *)a)->name, ((const struct snap_worker *)b)->name);
}

/* The fields of a worker's stats hash the views show. Only these are read: the whole hash, with
 * its per-action figures, is ~25 KiB, and at 1,000 workers reading them all took status 9 s. */
static const char *const worker_fields[] = {
    "assigned",       "connected",  "connecting",     "offline",          "disabled",
    "msgs_out",       "msgs_in",    "publish_errors", "connect_failures", "rss_kb",
    "loop_lag_ms",    "ack_p50_ms", "ack_p99_ms",     "ack_win_count",    "ack_win_p50_ms",
    "ack_win_p99_ms", "updated_ms",
};

/* The worker_fields of an HMGET reply, those present. */
static void worker_stats_of(const struct rds_reply *r, struct kvlist *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(worker_fields); i++) {
        size_t len;
        const char *v = rds_reply_str(rds_reply_at(r, i), &len);
        if (v)
            kv_setn(out, worker_fields[i], strlen(worker_fields[i]), v, len);
    }
}

/* Per live worker, pipelined: registration, stats, the two newest samples, lease left. */
static bool take_workers(struct cli *c, struct snap *s, struct cs_error *err)
{
    static const unsigned want[] = {CLI_ARRAY, CLI_ARRAY, CLI_ARRAY, CLI_INT};
    const size_t per = ARRAY_SIZE(want);
    char k[CS_KEY_MAX];
    struct kvlist live = KVLIST_INIT;
    struct rds_reply **rp = NULL;
    bool ok = false, queued = true;

    if (!cli_live_workers(c, &live, err))
        goto out;
    s->w = cs_calloc(live.n ? live.n : 1, sizeof(*s->w));
    s->n = s->workers = live.n;
    s->listed = true;
    for (size_t i = 0; i < live.n; i++) {
        const char *name = live.v[i].key;
        snprintf(s->w[i].name, sizeof(s->w[i].name), "%s", name);
        queued &= rds_sync_append(c->r, "HGETALL %s", cli_key(c, k, K_AGENT, name)) == CS_OK;
        const char *argv[2 + ARRAY_SIZE(worker_fields)] = {"HMGET", cli_key(c, k, K_STATS_W, name)};
        memcpy(argv + 2, worker_fields, sizeof(worker_fields));
        queued &= rds_sync_appendv(c->r, ARRAY_SIZE(argv), argv, NULL) == CS_OK;
        queued &=
            rds_sync_append(c->r, "XREVRANGE %s + - COUNT 2", cli_key(c, k, K_TS_W, name)) == CS_OK;
        queued &= rds_sync_append(c->r, "PTTL %s", cli_key(c, k, K_AGENT, name)) == CS_OK;
    }
    if (!queued) {
        cs_error_set(err, CS_ERR_IO, "cannot queue commands: %s", rds_sync_error(c->r));
        goto out;
    }
    rp = cs_calloc(live.n ? live.n * per : 1, sizeof(*rp));
    if (!cli_read_all(c->r, rp, live.n * per, want, per, err))
        goto out;
    for (size_t i = 0; i < live.n; i++) {
        struct rds_reply **w = rp + i * per;
        rds_reply_kv(w[0], &s->w[i].agent);
        worker_stats_of(w[1], &s->w[i].stats);
        s->w[i].rated = stream_rates(w[2], &s->w[i].out_rate, &s->w[i].in_rate);
        s->w[i].pttl = rds_reply_int(w[3]);
    }
    qsort(s->w, s->n, sizeof(*s->w), snap_by_name);
    ok = true;
out:
    if (rp)
        cli_free_all(rp, live.n * per);
    cs_free(rp);
    kv_free(&live);
    return ok;
}

/* The running run: the newest in {ns}:runs, when its state is running. */
static bool take_run(struct cli *c, struct snap *s, const struct rds_reply *newest,
                     struct cs_error *err)
{
    char k[CS_KEY_MAX];
    const char *id = rds_reply_len(newest) ? rds_reply_str(rds_reply_at(newest, 0), NULL) : NULL;
    if (!id)
        return true;
    struct rds_reply *r =
        cli_cmd(c->r, CLI_ARRAY, err, "HMGET %s state name started_ms", cli_key(c, k, K_RUN, id));
    if (!r)
        return false;
    const char *state = rds_reply_str(rds_reply_at(r, 0), NULL);
    if (state && strcmp(state, "running") == 0) {
        const char *name = rds_reply_str(rds_reply_at(r, 1), NULL);
        snprintf(s->run_id, sizeof(s->run_id), "%s", id);
        snprintf(s->run_name, sizeof(s->run_name), "%s", name ? name : "");
        s->run_started_ms = rds_reply_num(rds_reply_at(r, 2), 0);
    }
    rds_reply_free(r);
    return true;
}

/* Whether the per-worker reading can be left out: the coordinator's fleet figures are fresh
 * (it is leading and writing them) and count more live workers than max_rows. */
static bool too_many_to_list(const struct snap *s, size_t max_rows)
{
    if (max_rows == SNAP_ALL)
        return false;
    const char *n = kv_get(&s->fstats, "workers"), *at = kv_get(&s->fstats, "updated_ms");
    int64_t workers, updated;
    if (!n || !at || !cs_parse_i64(n, 0, INT64_MAX, &workers) ||
        !cs_parse_i64(at, 0, INT64_MAX, &updated))
        return false;
    struct fleet_cfg f;
    fleet_key_of_hash(s, "stats_interval_ms", &f);
    int64_t fresh = (int64_t)f.stats_interval_ms * SNAP_FRESH_INTERVALS;
    fresh = fresh > SNAP_FRESH_MIN_MS ? fresh : SNAP_FRESH_MIN_MS;
    /* Both ways: a stamp from the future (another host's clock, or a hand-written field)
     * is not a fresh one either. */
    int64_t age = cs_now_ms() - updated;
    return age <= fresh && age >= -fresh && (uint64_t)workers > max_rows;
}

bool snap_take(struct cli *c, struct snap *s, size_t max_rows, struct cs_error *err)
{
    static const unsigned want[] = {CLI_ARRAY, CLI_ARRAY, CLI_STR, CLI_ARRAY, CLI_ARRAY};
    struct rds_reply *r[ARRAY_SIZE(want)];
    char k[CS_KEY_MAX];
    bool queued = true;

    memset(s, 0, sizeof(*s));
    queued &= rds_sync_append(c->r, "HGETALL %s", cli_key(c, k, K_FLEET, NULL)) == CS_OK;
    queued &= rds_sync_append(c->r, "HGETALL %s", cli_key(c, k, K_STATS, NULL)) == CS_OK;
    queued &= rds_sync_append(c->r, "GET %s", cli_key(c, k, K_COORDINATOR, NULL)) == CS_OK;
    queued &= rds_sync_append(c->r, "ZREVRANGE %s 0 0", cli_key(c, k, K_RUNS, NULL)) == CS_OK;
    queued &= rds_sync_append(c->r, "XREVRANGE %s + - COUNT 2", cli_key(c, k, K_TS, NULL)) == CS_OK;
    if (!queued) {
        cs_error_set(err, CS_ERR_IO, "cannot queue commands: %s", rds_sync_error(c->r));
        return false;
    }
    if (!cli_read_all(c->r, r, ARRAY_SIZE(want), want, ARRAY_SIZE(want), err))
        return false;
    rds_reply_kv(r[0], &s->fleet);
    rds_reply_kv(r[1], &s->fstats);
    const char *leader = rds_reply_str(r[2], NULL);
    snprintf(s->leader, sizeof(s->leader), "%s", leader ? leader : "");
    s->rated = stream_rates(r[4], &s->out_rate, &s->in_rate);
    bool ok = take_run(c, s, r[3], err);
    cli_free_all(r, ARRAY_SIZE(want));
    if (!ok)
        return false;
    if (too_many_to_list(s, max_rows)) {
        s->workers = (size_t)kv_i64(&s->fstats, "workers");
        return true;
    }
    return take_workers(c, s, err);
}

size_t snap_actions(const struct snap *s, struct astats **a, struct astats_view *out, size_t max)
{
    *a = cs_calloc(1, sizeof(**a));
    astats_add(*a, &s->fstats, ASTATS_R_CUM | ASTATS_R_WIN);
    return astats_view(*a, snap_window_s(s), out, max);
}

void snap_sum(const struct snap *s, struct snap_totals *t)
{
    memset(t, 0, sizeof(*t));
    if (!s->listed) { /* the coordinator's sums of the live workers' gauges */
        const struct kvlist *f = &s->fstats;
        t->chargers = kv_i64(f, "assigned");
        t->connected = kv_i64(f, "connected");
        t->connecting = kv_i64(f, "connecting");
        t->offline = kv_i64(f, "offline");
        t->disabled = kv_i64(f, "disabled");
        t->rss_kb = kv_i64(f, "rss_kb");
        t->errors = snap_errors(f);
        t->out = kv_i64(f, "msgs_out");
        t->in = kv_i64(f, "msgs_in");
        t->out_rate = s->out_rate;
        t->in_rate = s->in_rate;
        t->rated = s->rated;
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct kvlist *st = &s->w[i].stats;
        t->chargers += kv_i64(st, "assigned");
        t->connected += kv_i64(st, "connected");
        t->connecting += kv_i64(st, "connecting");
        t->offline += kv_i64(st, "offline");
        t->disabled += kv_i64(st, "disabled");
        t->errors += snap_errors(st);
        t->out += kv_i64(st, "msgs_out");
        t->in += kv_i64(st, "msgs_in");
        t->rss_kb += kv_i64(st, "rss_kb");
        t->out_rate += s->w[i].out_rate;
        t->in_rate += s->w[i].in_rate;
        t->rated |= s->w[i].rated;
    }
    /* Totals from the coordinator's fleet figures, which a worker that restarted or left does
     * not make go down (the live workers' own counters start again from 0). */
    if (kv_get(&s->fstats, "msgs_out")) {
        t->out = kv_i64(&s->fstats, "msgs_out");
        t->in = kv_i64(&s->fstats, "msgs_in");
        t->errors = snap_errors(&s->fstats);
    }
}
