/* coord.c - one tick: hold the leader lock, read the fleet, the live workers and the current
 * assignment, compute the next assignment (assign.c), write it, tell the workers whose ranges
 * changed, and sum the workers' stats into {ns}:stats / {ns}:ts. With --metrics-listen or --http
 * the same reads also feed obs.h (kept in memory for web.c), on a standby too. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "coord.h"
#include "cs/assign.h"
#include "cs/cfg.h"
#include "cs/event.h"
#include "cs/keys.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/stats.h"
#include "cs/util.h"
#include "evlog.h"
#include "fleet_totals.h"
#include "obs.h"
#include "web.h"

#define FLEET_TS_MAXLEN "86400" /* a day of 1/s entries */
#define HISTORY_MAXLEN "17280"  /* {ns}:history: a day at the default history_interval_s (5 s) */
#define HISTORY_READ_MAX "600"  /* {ns}:ts entries read at once for obs (OBS_HISTORY_MAX) */

/* Takes the leader lock when free, renews it when ours; 1 = we lead. */
static const char *const LOCK_LUA =
    "local v = redis.call('get', KEYS[1]) "
    "if v == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end "
    "if not v then redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2]) return 1 end "
    "return 0";

/* Claims this coordinator's id for this instance (ARGV[1] = a random token): sets
 * "token ms" with a TTL when the key is free or ours; otherwise returns what another instance
 * with the same id wrote there. */
static const char *const ID_LUA =
    "local v = redis.call('get', KEYS[1]) "
    "if v and string.match(v, '^%S+') ~= ARGV[1] then return v end "
    "redis.call('set', KEYS[1], ARGV[1] .. ' ' .. ARGV[3], 'px', ARGV[2]) return 'ok'";

struct agent {
    char *name;
    bool live;
    uint64_t capacity;
    int64_t epoch;
    struct rset held;
    struct kvlist hash; /* {ns}:agent:{worker} as read */
    struct kvlist stats;
};

struct coord {
    struct event_base *base;
    const struct coord_opts *o;
    const char *ns;
    struct rds *r;
    bool leader;
    /* the id in use: no lock is taken before it is ours (two coordinators with one id would
     * both renew one lock, both leading) */
    char token[24];
    bool id_ok;
    char id_other[64];   /* what the other instance last wrote to the id key */
    int64_t id_other_ms; /* when we first saw that value (monotonic) */
    bool duplicate;      /* another live instance uses the id: exit */
    int64_t up_since_ms; /* monotonic: Redis (re)connected */
    bool reconnected;    /* Redis came back after a loss: workers are re-registering */
    struct fleet_cfg fleet;
    struct kvlist fleet_acc;

    /* one tick's reads */
    bool busy;
    int64_t tick_started_ms; /* monotonic: this tick's reads were queued */
    int64_t slow_logged_ms;  /* last "slow tick" warning */
    int pending;
    bool failed;
    struct kvlist assign; /* {ns}:assign as read */
    struct agent *agents;
    size_t nagents;
    bool stats_due;
    int64_t last_stats_ms;
    int64_t ts_oldest_ms, ts_added_ms; /* last {ns}:ts entry: its stalest worker sample, when */
    int64_t history_added_ms;          /* last {ns}:history entry (monotonic) */

    /* what was reported, to emit events on changes only */
    bool nagle[STATS_LAT_N]; /* a window latency clustered near 40 ms */
    struct kvlist known;     /* live worker -> "1" */
    uint64_t last_unassigned;
    bool reported_once;

    /* what decide() found, for obs */
    struct assign_result last_res;
    uint64_t last_capacity;
    int64_t last_epoch;
    /* a standby's view of what the leader wrote: {ns}:coordinator and {ns}:stats */
    char leader_id[128];
    int64_t leader_unassigned, leader_surplus, leader_epoch;
    struct kvlist fleet_stats; /* {ns}:stats as this leader last wrote it, or as read (standby) */

    struct ft *ft;   /* the fleet's cumulative figures (leader) */
    struct obs *obs; /* NULL unless serving HTTP */
    struct web *web;
    struct evlog *evlog;
    bool history_busy;

    struct event *tick_ev, *sigterm_ev, *sigint_ev;
};

static const char *key(struct coord *c, char *out, enum cs_key k, const char *arg)
{
    return cs_key(out, c->ns, k, arg);
}

static void event_pub(struct coord *c, const char *type, const struct kvlist *fields)
{
    char ch[CS_KEY_MAX];
    struct buf b = BUF_INIT;
    cs_event_render(&b, type, "coordinator", c->o->id, fields);
    rds_cmd(c->r, NULL, NULL, "PUBLISH %s %b", key(c, ch, CH_EVENTS, NULL), b.s, b.len);
    buf_free(&b);
}

static void free_agents(struct coord *c)
{
    for (size_t i = 0; i < c->nagents; i++) {
        cs_free(c->agents[i].name);
        rset_free(&c->agents[i].held);
        kv_free(&c->agents[i].hash);
        kv_free(&c->agents[i].stats);
    }
    cs_free(c->agents);
    c->agents = NULL;
    c->nagents = 0;
}

static void tick_done(struct coord *c);

static void step_done(struct coord *c)
{
    if (--c->pending == 0)
        tick_done(c);
}

static void on_fleet(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct coord *c = rds_privdata(r);
    if (!rds_reply_ok(reply)) {
        c->failed = true;
    } else {
        struct kvlist in = KVLIST_INIT;
        rds_reply_kv(reply, &in);
        cfg_layer_accept(&cfg_fleet_schema, &c->fleet_acc, NULL, &in, NULL, NULL);
        kv_free(&in);
        cfg_defaults(&cfg_fleet_schema, &c->fleet);
        cfg_apply_layer(&cfg_fleet_schema, &c->fleet, &c->fleet_acc);
    }
    step_done(c);
}

static void on_assign(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct coord *c = rds_privdata(r);
    kv_clear(&c->assign);
    if (!rds_reply_ok(reply))
        c->failed = true;
    else
        rds_reply_kv(reply, &c->assign);
    step_done(c);
}

static void on_agent(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    struct coord *c = rds_privdata(r);
    struct agent *a = &c->agents[(size_t)(uintptr_t)privdata];
    if (!rds_reply_ok(reply)) {
        c->failed = true;
    } else if (rds_reply_len(reply) > 0) {
        struct kvlist h = KVLIST_INIT;
        int64_t v;
        rds_reply_kv(reply, &h);
        a->live = true;
        const char *cap = kv_get(&h, "capacity"), *held = kv_get(&h, "held"),
                   *ep = kv_get(&h, "epoch");
        a->capacity = cap && cs_parse_i64(cap, 0, CS_FLEET_MAX, &v) ? (uint64_t)v : 0;
        a->epoch = ep && cs_parse_i64(ep, 0, INT64_MAX / 2, &v) ? v : 0;
        if (!held || rset_parse(&a->held, held, NULL) != CS_OK)
            rset_clear(&a->held);
        kv_free(&a->hash);
        a->hash = h; /* kept for obs */
    }
    step_done(c);
}

static void on_agent_stats(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    struct coord *c = rds_privdata(r);
    struct agent *a = &c->agents[(size_t)(uintptr_t)privdata];
    if (rds_reply_ok(reply))
        rds_reply_kv(reply, &a->stats);
    step_done(c);
}

/* A worker's stats read by the leader through the fleet totals (which count them). */
struct agent_read {
    struct coord *c;
    size_t i;
};

static void on_agent_counted(void *privdata, const struct kvlist *cur)
{
    struct agent_read *x = privdata;
    struct coord *c = x->c;
    if (cur)
        kv_copy(&c->agents[x->i].stats, cur);
    cs_free(x);
    step_done(c);
}

static void read_agent_stats(struct coord *c, size_t at)
{
    char k[CS_KEY_MAX];
    const char *name = c->agents[at].name;
    c->pending++;
    if (c->leader && ft_ready(c->ft)) {
        struct agent_read *x = cs_calloc(1, sizeof(*x));
        x->c = c;
        x->i = at;
        if (ft_read(c->ft, name, on_agent_counted, x) != CS_OK) {
            cs_free(x);
            c->pending--;
        }
        return;
    }
    if (rds_cmd(c->r, on_agent_stats, (void *)(uintptr_t)at, "HGETALL %s",
                key(c, k, K_STATS_W, name)) != CS_OK)
        c->pending--;
}

static void on_agents(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct coord *c = rds_privdata(r);
    char k[CS_KEY_MAX];
    free_agents(c);
    if (!rds_reply_ok(reply)) {
        c->failed = true;
        step_done(c);
        return;
    }
    size_t n = rds_reply_len(reply);
    c->agents = cs_calloc(n ? n : 1, sizeof(*c->agents));
    for (size_t i = 0; i < n; i++) {
        const char *name = rds_reply_str(rds_reply_at(reply, i), NULL);
        if (!name)
            continue;
        size_t at = c->nagents++;
        c->agents[at].name = cs_strdup(name);
        c->pending++;
        if (rds_cmd(c->r, on_agent, (void *)(uintptr_t)at, "HGETALL %s",
                    key(c, k, K_AGENT, name)) != CS_OK) {
            c->pending--;
            c->failed = true;
        }
        if (c->stats_due)
            read_agent_stats(c, at);
    }
    step_done(c);
}

/* ---- the decision ---------------------------------------------------------------------------- */

/* The worker reads its ranges from {ns}:assign (written before this): the message only says
 * "now", so nobody can hand a worker chargers by publishing one. */
static void poke_worker(struct coord *c, const char *worker)
{
    char ch[CS_KEY_MAX];
    rds_cmd(c->r, NULL, NULL, "PUBLISH %s assign", key(c, ch, CH_CTL, worker));
}

static void report_membership(struct coord *c, struct assign_worker *aw, size_t n)
{
    struct kvlist now = KVLIST_INIT, f = KVLIST_INIT;
    struct kv_index known, live;
    kv_index_build(&known, &c->known);
    for (size_t i = 0; i < n; i++) {
        kv_appendn(&now, aw[i].name, strlen(aw[i].name), "1", 1); /* names are distinct */
        if (!kv_index_get(&known, aw[i].name)) {
            kv_clear(&f);
            kv_set(&f, "worker", aw[i].name);
            log_info("worker %s joined (capacity %llu)", aw[i].name,
                     (unsigned long long)aw[i].capacity);
            event_pub(c, "worker_joined", &f);
        }
    }
    kv_index_build(&live, &now);
    for (size_t i = 0; i < c->known.n; i++) {
        if (kv_index_get(&live, c->known.v[i].key))
            continue;
        kv_clear(&f);
        kv_set(&f, "worker", c->known.v[i].key);
        log_info("worker %s left (lease expired or stopped)", c->known.v[i].key);
        event_pub(c, "worker_left", &f);
    }
    kv_index_free(&known);
    kv_index_free(&live);
    kv_free(&c->known);
    c->known = now;
    kv_free(&f);
}

/* The publish acknowledgements and the platform's answers over the window: when either
 * clusters near 40 ms, Nagle's algorithm on some hop is the likely cause (a sender without
 * TCP_NODELAY meeting a delayed ACK), not the platform's work: say so once, and again when it
 * has cleared and comes back. */
static void check_nagle(struct coord *c, const struct worker_stats *sum)
{
    static const enum stats_lat watched[] = {LAT_ACK, LAT_CONF};
    for (size_t i = 0; i < ARRAY_SIZE(watched); i++) {
        enum stats_lat l = watched[i];
        size_t n;
        const char *name = stats_hist_name(l, &n);
        bool now = stats_latency_nagle(&sum->win[l]);
        if (now == c->nagle[l])
            continue;
        c->nagle[l] = now;
        if (!now) {
            log_info("%s latency no longer clusters near 40 ms", name);
            continue;
        }
        char p50[32];
        struct kvlist f = KVLIST_INIT;
        snprintf(p50, sizeof(p50), "%.1f", (double)hist_quantile(&sum->win[l], 0.5) / 1000.0);
        kv_set(&f, "latency", name);
        kv_set(&f, "p50_ms", p50);
        kv_set(&f, "hint", "Nagle's algorithm on a hop without TCP_NODELAY (docs/performance.md)");
        log_warn("%s latency clusters near 40 ms (p50 %s ms over the window): that is Nagle's "
                 "algorithm meeting a delayed ACK on one hop (a broker or MQTT client writing two "
                 "small packets in a row without TCP_NODELAY; mosquitto: set_tcp_nodelay true), "
                 "not the platform's work; see docs/performance.md",
                 name, p50);
        event_pub(c, "latency_nagle", &f);
        kv_free(&f);
    }
}

/* argv for one command: head words, then the pairs of kv whose key passes keep (NULL: all). */
static const char **pairs_argv(const char *const *head, int nhead, const struct kvlist *kv,
                               bool (*keep)(const char *key), int *argc)
{
    const char **argv = cs_calloc(2 * kv->n + (size_t)nhead + 1, sizeof(*argv));
    int n = 0;
    for (int i = 0; i < nhead; i++)
        argv[n++] = head[i];
    for (size_t i = 0; i < kv->n; i++) {
        if (keep && !keep(kv->v[i].key))
            continue;
        argv[n++] = kv->v[i].key;
        argv[n++] = kv->v[i].val;
    }
    *argc = n;
    return argv;
}

static bool in_ts(const char *key)
{
    return stats_in_series(key) && strcmp(key, "coordinator") != 0;
}

/* {ns}:history: the fleet's cumulative figures (per action, histograms included) and its
 * gauges, every history_interval_s; reports take differences of two entries (docs/results.md). */
static void add_history(struct coord *c, const struct worker_stats *sum, const struct kvlist *fleet)
{
    char k[CS_KEY_MAX];
    int64_t now = cs_mono_ms();
    if (c->history_added_ms &&
        now - c->history_added_ms < (int64_t)c->fleet.history_interval_s * 1000)
        return;
    c->history_added_ms = now;
    struct kvlist h = KVLIST_INIT;
    stats_render_parts(sum, STATS_P_CUM | STATS_P_GAUGE, &h);
    kv_del(&h, "started_ms");
    static const char *const copy[] = {"fleet_size", "workers", "unassigned", "updated_ms"};
    for (size_t i = 0; i < ARRAY_SIZE(copy); i++)
        if (kv_get(fleet, copy[i]))
            kv_set(&h, copy[i], kv_get(fleet, copy[i]));
    /* The built-in messages' CALL counts are in every entry, 0 before their first CALL: charts
     * of a series (Grafana's) need the field in every entry of their range. */
    for (int t = 0; t < MSG__COUNT; t++) {
        char f[96];
        snprintf(f, sizeof(f), "conf.%s.calls", catalog_get((enum msg_id)t)->name);
        if (!kv_get(&h, f))
            kv_set(&h, f, "0");
    }
    const char *head[] = {"XADD", key(c, k, K_HISTORY, NULL), "MAXLEN", "~", HISTORY_MAXLEN, "*"};
    int argc;
    const char **argv = pairs_argv(head, ARRAY_SIZE(head), &h, NULL, &argc);
    rds_cmdv(c->r, NULL, NULL, argc, argv, NULL);
    cs_free(argv);
    kv_free(&h);
}

static void write_fleet_stats(struct coord *c, const struct assign_result *res, uint64_t capacity,
                              size_t workers, int64_t epoch)
{
    char k[CS_KEY_MAX], ts[CS_KEY_MAX];
    struct kvlist out = KVLIST_INIT;
    char num[48];

    if (!ft_ready(c->ft))
        return; /* the saved totals are not loaded yet: figures now could be lower */
    /* Cumulative figures from the totals (never lower than before), what is live from the
     * live workers. */
    struct worker_stats *sum = cs_calloc(1, sizeof(*sum));
    ft_sum(c->ft, sum);
    int64_t oldest = INT64_MAX; /* the stalest worker sample in this sum */
    for (size_t i = 0; i < c->nagents; i++) {
        if (!c->agents[i].live)
            continue;
        stats_add_parts(sum, &c->agents[i].stats, STATS_P_LIVE);
        const char *u = kv_get(&c->agents[i].stats, "updated_ms");
        int64_t t;
        if (u && cs_parse_i64(u, 0, INT64_MAX, &t) && t < oldest)
            oldest = t;
    }
    check_nagle(c, sum);
    stats_render(sum, &out);
    kv_del(&out, "started_ms"); /* a worker's, not the fleet's */
#define PUTN(name, fmt, v)                                                                         \
    do {                                                                                           \
        snprintf(num, sizeof(num), fmt, v);                                                        \
        kv_set(&out, name, num);                                                                   \
    } while (0)
    PUTN("fleet_size", "%d", c->fleet.size);
    PUTN("capacity", "%llu", (unsigned long long)capacity);
    PUTN("assigned_total", "%llu", (unsigned long long)res->assigned);
    PUTN("unassigned", "%llu", (unsigned long long)res->unassigned);
    PUTN("surplus", "%llu", (unsigned long long)res->surplus);
    PUTN("workers", "%zu", workers);
    PUTN("epoch", "%lld", (long long)epoch);
    PUTN("stats_window_s", "%d", c->fleet.stats_window_s);
    PUTN("updated_ms", "%lld", (long long)cs_now_ms());
#undef PUTN
    kv_set(&out, "coordinator", c->o->id);

    const char *hhead[] = {"HSET", key(c, k, K_STATS, NULL)};
    int argc;
    const char **argv = pairs_argv(hhead, ARRAY_SIZE(hhead), &out, NULL, &argc);
    rds_cmdv(c->r, NULL, NULL, argc, argv, NULL);
    cs_free(argv);
    add_history(c, sum, &out);
    cs_free(sum);
    kv_free(&c->fleet_stats);
    kv_copy(&c->fleet_stats, &out); /* for obs */
    /* A stream entry once every worker has written since the last one (or after two
     * intervals): consecutive entries never repeat a worker's sample, so the rates readers
     * derive from them do not jump between 0 and double. */
    int64_t now = cs_mono_ms();
    if (oldest != INT64_MAX && oldest <= c->ts_oldest_ms &&
        now - c->ts_added_ms < 2 * (int64_t)c->fleet.stats_interval_ms) {
        kv_free(&out);
        return;
    }
    c->ts_oldest_ms = oldest != INT64_MAX ? oldest : 0;
    c->ts_added_ms = now;
    const char *xhead[] = {"XADD", key(c, ts, K_TS, NULL), "MAXLEN", "~", FLEET_TS_MAXLEN, "*"};
    argv = pairs_argv(xhead, ARRAY_SIZE(xhead), &out, in_ts, &argc);
    rds_cmdv(c->r, NULL, NULL, argc, argv, NULL);
    cs_free(argv);
    kv_free(&out);
}

static int aw_by_name(const void *a, const void *b)
{
    return strcmp(((const struct assign_worker *)a)->name, ((const struct assign_worker *)b)->name);
}

/* The grant (adopted ranges included) of one worker may overlap another's only after Redis
 * lost {ns}:assign; then the one earlier in the list keeps what both claim. Checked in one
 * sweep of the sorted ranges; the pairwise fix runs only when something overlaps. */
struct span {
    uint32_t lo, hi;
};

static int span_by_lo(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void resolve_overlaps(struct assign_worker *aw, size_t n)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        total += aw[i].cur.n;
    struct span *sp = cs_calloc(total ? total : 1, sizeof(*sp));
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < aw[i].cur.n; r++)
            sp[k++] = (struct span){aw[i].cur.r[r].lo, aw[i].cur.r[r].hi};
    qsort(sp, total, sizeof(*sp), span_by_lo);
    bool overlap = false;
    for (size_t i = 1; i < total && !overlap; i++)
        overlap = sp[i].lo <= sp[i - 1].hi;
    cs_free(sp);
    if (!overlap)
        return;
    struct rset taken = RSET_INIT, t = RSET_INIT, u = RSET_INIT;
    for (size_t i = 0; i < n; i++) {
        rset_subtract(&t, &aw[i].cur, &taken);
        rset_copy(&aw[i].cur, &t);
        rset_union(&u, &taken, &t);
        rset_copy(&taken, &u);
    }
    rset_free(&taken);
    rset_free(&t);
    rset_free(&u);
}

static void decide(struct coord *c)
{
    char k[CS_KEY_MAX], ak[CS_KEY_MAX];
    int64_t epoch = 0, v;
    const char *e = kv_get(&c->assign, CS_ASSIGN_EPOCH_FIELD);
    if (e && cs_parse_i64(e, 0, INT64_MAX / 2, &v))
        epoch = v;

    size_t n = 0;
    struct assign_worker *aw = cs_calloc(c->nagents ? c->nagents : 1, sizeof(*aw));
    uint64_t capacity = 0;
    struct kv_index grants;
    kv_index_build(&grants, &c->assign);
    /* For one lease after Redis came back, a worker that has not re-registered yet may still
     * run its chargers: nothing moves (giving them away would put two clients with one ID on
     * the broker). */
    bool grace = c->reconnected && cs_mono_ms() - c->up_since_ms < c->fleet.lease_ms;
    for (size_t i = 0; i < c->nagents; i++) {
        struct agent *a = &c->agents[i];
        if (a->epoch > epoch)
            epoch = a->epoch; /* Redis lost {ns}:assign: never go back in epochs */
        if (!a->live) {
            if (!grace)
                rds_cmd(c->r, NULL, NULL, "ZREM %s %s", key(c, k, K_AGENTS, NULL), a->name);
            continue;
        }
        struct assign_worker *w = &aw[n++];
        w->name = a->name;
        w->capacity = a->capacity;
        capacity += a->capacity;
        const char *cur = kv_index_get(&grants, a->name);
        if (!cur || rset_parse(&w->cur, cur, NULL) != CS_OK)
            rset_copy(&w->cur, &a->held); /* adopt what it runs when Redis has no record */
        rset_copy(&w->held, &a->held);
        /* Just joined: no grant recorded yet and nothing running (a worker that still runs
         * chargers after {ns}:assign was lost is no newcomer). The others make room for it;
         * no other step moves what a worker keeps. */
        w->fresh = !cur && rset_empty(&a->held);
    }
    /* A worker whose grant another worker also claims keeps only what nobody else was given
     * first: adopted ranges must not overlap. */
    resolve_overlaps(aw, n);

    struct assign_result res;
    assign_compute(aw, n, (uint32_t)c->fleet.size, &res);

    /* Changes: workers whose grant differs, and records of workers that are gone. */
    bool changed = false;
    for (size_t i = 0; i < n && !changed; i++) {
        const char *cur = kv_index_get(&grants, aw[i].name);
        struct buf b = BUF_INIT;
        rset_format(&aw[i].next, &b);
        if (!cur || strcmp(cur, buf_cstr(&b)) != 0)
            changed = true;
        buf_free(&b);
    }
    struct assign_worker *by_name = cs_calloc(n ? n : 1, sizeof(*by_name));
    memcpy(by_name, aw, n * sizeof(*aw));
    qsort(by_name, n, sizeof(*by_name), aw_by_name);
    for (size_t i = 0; i < c->assign.n && !grace; i++) {
        const char *w = c->assign.v[i].key;
        if (strcmp(w, CS_ASSIGN_EPOCH_FIELD) == 0)
            continue;
        struct assign_worker probe = {.name = w};
        bool live = bsearch(&probe, by_name, n, sizeof(*by_name), aw_by_name) != NULL;
        if (!live) {
            changed = true;
            rds_cmd(c->r, NULL, NULL, "HDEL %s %s", key(c, ak, K_ASSIGN, NULL), w);
        }
    }

    if (grace)
        changed = false;
    if (changed) {
        epoch++;
        char ep[24];
        snprintf(ep, sizeof(ep), "%lld", (long long)epoch);
        key(c, ak, K_ASSIGN, NULL);
        /* One HSET: a worker never reads new ranges under an old epoch or the reverse. */
        const char **argv = cs_calloc(2 * n + 4, sizeof(*argv));
        struct buf *ranges = cs_calloc(n ? n : 1, sizeof(*ranges));
        int argc = 0;
        argv[argc++] = "HSET";
        argv[argc++] = ak;
        for (size_t i = 0; i < n; i++) {
            rset_format(&aw[i].next, &ranges[i]);
            argv[argc++] = aw[i].name;
            argv[argc++] = buf_cstr(&ranges[i]);
        }
        argv[argc++] = CS_ASSIGN_EPOCH_FIELD;
        argv[argc++] = ep;
        rds_cmdv(c->r, NULL, NULL, argc, argv, NULL);
        for (size_t i = 0; i < n; i++)
            buf_free(&ranges[i]);
        cs_free(ranges);
        cs_free(argv);
        for (size_t i = 0; i < n; i++) {
            const char *cur = kv_index_get(&grants, aw[i].name);
            struct buf b = BUF_INIT;
            rset_format(&aw[i].next, &b);
            if (!cur || strcmp(cur, buf_cstr(&b)) != 0)
                poke_worker(c, aw[i].name);
            buf_free(&b);
        }
        log_info("assignment epoch %lld: %zu worker%s, %llu assigned, %llu unassigned, %llu moved",
                 (long long)epoch, n, cs_plural((long long)n), (unsigned long long)res.assigned,
                 (unsigned long long)res.unassigned, (unsigned long long)res.moved);
    }
    c->last_res = res;
    c->last_capacity = capacity;
    c->last_epoch = epoch;
    report_membership(c, aw, n);
    /* Just started or reconnected with no worker registered yet: they are on their way. */
    bool early = capacity == 0 && cs_mono_ms() - c->up_since_ms < c->fleet.lease_ms;
    if (!early && (!c->reported_once || res.surplus != c->last_unassigned)) {
        if (res.surplus) {
            struct kvlist f = KVLIST_INIT;
            char num[24];
            snprintf(num, sizeof(num), "%llu", (unsigned long long)res.surplus);
            kv_set(&f, "unassigned", num);
            snprintf(num, sizeof(num), "%llu", (unsigned long long)capacity);
            kv_set(&f, "capacity", num);
            log_warn("fleet of %d exceeds the live capacity %llu: %llu chargers unassigned",
                     c->fleet.size, (unsigned long long)capacity, (unsigned long long)res.surplus);
            event_pub(c, "fleet_over_capacity", &f);
            kv_free(&f);
        }
        c->last_unassigned = res.surplus;
        c->reported_once = true;
    }
    if (c->stats_due)
        write_fleet_stats(c, &res, capacity, n, epoch);

    for (size_t i = 0; i < n; i++) {
        rset_free(&aw[i].cur);
        rset_free(&aw[i].held);
        rset_free(&aw[i].next);
    }
    cs_free(by_name);
    kv_index_free(&grants);
    cs_free(aw);
}

/* The reads of this round into obs: the leader's own numbers, or a standby's view of them. */
static void observe(struct coord *c)
{
    struct obs_input *in = cs_calloc(c->nagents ? c->nagents : 1, sizeof(*in));
    size_t n = 0;
    uint64_t capacity = 0;
    int64_t epoch = 0, v;
    const char *e = kv_get(&c->assign, CS_ASSIGN_EPOCH_FIELD);
    if (e && cs_parse_i64(e, 0, INT64_MAX / 2, &v))
        epoch = v;
    for (size_t i = 0; i < c->nagents; i++) {
        struct agent *a = &c->agents[i];
        if (!a->live)
            continue;
        in[n].name = a->name;
        in[n].agent = &a->hash;
        in[n].stats = &a->stats;
        n++;
        capacity += a->capacity;
        if (a->epoch > epoch)
            epoch = a->epoch;
    }
    struct obs_fleet f = {
        .leader = c->leader,
        .leader_id = c->leader ? c->o->id : c->leader_id,
        .size = c->fleet.size,
        .capacity = (int64_t)(c->leader ? c->last_capacity : capacity),
        .unassigned = c->leader ? (int64_t)c->last_res.unassigned : c->leader_unassigned,
        .surplus = c->leader ? (int64_t)c->last_res.surplus : c->leader_surplus,
        .epoch = c->leader ? c->last_epoch : (c->leader_epoch > epoch ? c->leader_epoch : epoch),
        .lease_ms = c->fleet.lease_ms,
        .window_s = c->fleet.stats_window_s,
        .stats = &c->fleet_stats,
    };
    obs_update(c->obs, &f, in, n);
    cs_free(in);
}

/* A tick whose reads took longer than a lease third delays every decision (a dead worker's
 * chargers wait for the next one): say so, at most once a minute. */
static void check_slow_tick(struct coord *c)
{
    int64_t now = cs_mono_ms(), took = now - c->tick_started_ms;
    if (took < c->fleet.lease_ms / 3 || now - c->slow_logged_ms < 60000)
        return;
    c->slow_logged_ms = now;
    log_warn("a tick's reads took %lld ms (%zu workers%s): decisions wait for them",
             (long long)took, c->nagents, c->stats_due ? ", their stats included" : "");
}

static void tick_done(struct coord *c)
{
    c->busy = false;
    check_slow_tick(c);
    if (c->failed || !rds_is_up(c->r))
        return;
    if (c->leader)
        decide(c);
    if (c->stats_due) {
        c->last_stats_ms = cs_mono_ms();
        if (c->obs)
            observe(c);
    }
}

/* [loop] A standby's view of the leader: who holds the lock and what it last wrote. */
static void on_leader_id(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct coord *c = rds_privdata(r);
    const char *id = rds_reply_ok(reply) ? rds_reply_str(reply, NULL) : NULL;
    cs_strlcpy(c->leader_id, id ? id : "", sizeof(c->leader_id));
    step_done(c);
}

static int64_t kv_num(const struct kvlist *kv, const char *k)
{
    int64_t v = 0;
    const char *s = kv_get(kv, k);
    if (s)
        cs_parse_i64(s, INT64_MIN, INT64_MAX, &v);
    return v;
}

/* [loop] A standby reads the fleet's figures the leader wrote: what it serves. */
static void on_leader_stats(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct coord *c = rds_privdata(r);
    if (rds_reply_ok(reply)) {
        kv_free(&c->fleet_stats);
        rds_reply_kv(reply, &c->fleet_stats);
        c->leader_unassigned = kv_num(&c->fleet_stats, "unassigned");
        c->leader_surplus = kv_num(&c->fleet_stats, "surplus");
        c->leader_epoch = kv_num(&c->fleet_stats, "epoch");
    }
    step_done(c);
}

/* [loop] New {ns}:ts entries, newest first (XREVRANGE), into obs oldest first. */
static void on_history(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct coord *c = rds_privdata(r);
    c->history_busy = false;
    if (!rds_reply_ok(reply) || !c->obs)
        return;
    for (size_t i = rds_reply_len(reply); i-- > 0;) {
        const struct rds_reply *e = rds_reply_at(reply, i);
        const char *id = rds_reply_str(rds_reply_at(e, 0), NULL);
        struct kvlist f = KVLIST_INIT;
        if (!id)
            continue;
        rds_reply_kv(rds_reply_at(e, 1), &f);
        obs_history_add(c->obs, id, &f);
        kv_free(&f);
    }
}

static void read_history(struct coord *c)
{
    char k[CS_KEY_MAX], from[64];
    if (c->history_busy)
        return;
    /* Newest first, down to (excluding) the newest entry already held: after an outage only
     * the last HISTORY_READ_MAX come back. */
    if (c->obs->hist_last_id[0])
        snprintf(from, sizeof(from), "(%s", c->obs->hist_last_id);
    else
        snprintf(from, sizeof(from), "-");
    if (rds_cmd(c->r, on_history, NULL, "XREVRANGE %s + %s COUNT %s", key(c, k, K_TS, NULL), from,
                HISTORY_READ_MAX) == CS_OK)
        c->history_busy = true;
}

static void read_state(struct coord *c)
{
    char k[CS_KEY_MAX];
    if (c->leader)
        ft_load(c->ft);
    c->busy = true;
    c->tick_started_ms = cs_mono_ms();
    c->failed = false;
    c->pending = 1; /* released after all reads are queued */
    c->stats_due = cs_mono_ms() - c->last_stats_ms >= c->fleet.stats_interval_ms;
    c->pending++;
    if (rds_cmd(c->r, on_fleet, NULL, "HGETALL %s", key(c, k, K_FLEET, NULL)) != CS_OK)
        c->pending--, c->failed = true;
    c->pending++;
    if (rds_cmd(c->r, on_assign, NULL, "HGETALL %s", key(c, k, K_ASSIGN, NULL)) != CS_OK)
        c->pending--, c->failed = true;
    c->pending++;
    if (rds_cmd(c->r, on_agents, NULL, "ZRANGE %s 0 -1", key(c, k, K_AGENTS, NULL)) != CS_OK)
        c->pending--, c->failed = true;
    if (c->obs && c->stats_due) {
        read_history(c);
        if (!c->leader) {
            c->pending++;
            if (rds_cmd(c->r, on_leader_id, NULL, "GET %s", key(c, k, K_COORDINATOR, NULL)) !=
                CS_OK)
                c->pending--, c->failed = true;
            c->pending++;
            if (rds_cmd(c->r, on_leader_stats, NULL, "HGETALL %s", key(c, k, K_STATS, NULL)) !=
                CS_OK)
                c->pending--, c->failed = true;
        }
    }
    step_done(c);
}

static void on_lock(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct coord *c = rds_privdata(r);
    bool was = c->leader;
    if (!reply)
        return;
    if (rds_reply_type(reply) == RDS_ERROR)
        log_warn("leader lock: %s", rds_reply_str(reply, NULL));
    c->leader = rds_reply_type(reply) == RDS_INT && rds_reply_int(reply) == 1;
    if (c->leader && !was) {
        struct kvlist f = KVLIST_INIT;
        kv_set(&f, "id", c->o->id);
        log_info("leading the fleet (lock %s)", c->o->id);
        event_pub(c, "coordinator_leader", &f);
        kv_free(&f);
        kv_clear(&c->known);
        c->reported_once = false;
        ft_reset(c->ft); /* load what the previous leader saved */
    } else if (!c->leader && was) {
        log_warn("lost the leader lock; standing by");
        ft_reset(c->ft);
    }
    evlog_set_leader(c->evlog, c->leader);
    if (c->obs)
        obs_set_state(c->obs, c->leader, true);
    /* A standby serving HTTP reads the same data (and writes nothing). */
    if ((c->leader || c->obs) && !c->busy)
        read_state(c);
}

/* [loop] The id key: ours ("ok"), or what another instance wrote. A value that changes while we
 * watch is a live duplicate (it refreshes every tick); one that stays expires within its TTL
 * (a crashed instance of ours) and is taken then. */
static void on_id(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct coord *c = rds_privdata(r);
    const char *v = rds_reply_ok(reply) ? rds_reply_str(reply, NULL) : NULL;
    if (reply && rds_reply_type(reply) == RDS_ERROR) {
        /* An ACL written before the id key existed: lead anyway (as before), without the
         * duplicate check, and say so once. */
        char ik[CS_KEY_MAX];
        if (!c->id_ok)
            log_warn("cannot claim %s (%s): a second coordinator with --id %s would not be "
                     "detected; grant the coordinator's Redis user that key "
                     "(docs/security.md)",
                     key(c, ik, K_COORD_ID, c->o->id), rds_reply_str(reply, NULL), c->o->id);
        c->id_ok = true;
        return;
    }
    if (!v)
        return;
    if (strcmp(v, "ok") == 0) {
        if (!c->id_ok && c->id_other[0])
            log_info("coordinator id %s is free again: taking it", c->o->id);
        c->id_ok = true;
        c->id_other[0] = '\0';
        return;
    }
    c->id_ok = false;
    if (c->leader) {
        c->leader = false; /* the lock is the id's: another instance renews it too */
        if (c->obs)
            obs_set_state(c->obs, false, true);
    }
    if (!c->id_other[0]) {
        cs_strlcpy(c->id_other, v, sizeof(c->id_other));
        c->id_other_ms = cs_mono_ms();
        log_warn("coordinator id %s is in use by another instance (%.*s): checking whether it "
                 "runs",
                 c->o->id, CS_UTF8_CLIP(v, 60));
        return;
    }
    if (strcmp(c->id_other, v) == 0)
        return; /* not refreshed (yet): wait for it to expire */
    struct kvlist f = KVLIST_INIT;
    kv_set(&f, "id", c->o->id);
    event_pub(c, "coordinator_duplicate_id", &f);
    kv_free(&f);
    char ik[CS_KEY_MAX];
    log_error("another swarm-coordinator is running with --id %s (it refreshes %s): two "
              "coordinators with one id would both lead; give each its own --id. Exiting.",
              c->o->id, key(c, ik, K_COORD_ID, c->o->id));
    c->duplicate = true;
    struct timeval flush = {0, 200 * 1000}; /* the event and the log line go out first */
    event_base_loopexit(c->base, &flush);
}

static void on_tick(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct coord *c = privdata;
    char k[CS_KEY_MAX], ik[CS_KEY_MAX], ttl[16], now[24];
    if (!rds_is_up(c->r) || c->duplicate)
        return;
    evlog_tick(c->evlog);
    snprintf(ttl, sizeof(ttl), "%d", c->o->lock_ttl_ms);
    snprintf(now, sizeof(now), "%lld", (long long)cs_now_ms());
    rds_cmd(c->r, on_id, NULL, "EVAL %s 1 %s %s %s %s", ID_LUA, key(c, ik, K_COORD_ID, c->o->id),
            c->token, ttl, now);
    if (!c->id_ok)
        return; /* the lock only once the id is ours */
    key(c, k, K_COORDINATOR, NULL);
    rds_cmd(c->r, on_lock, NULL, "EVAL %s 1 %s %s %s", LOCK_LUA, k, c->o->id, ttl);
}

static void on_redis_state(struct rds *r, bool up, void *privdata)
{
    (void)r;
    struct coord *c = privdata;
    if (up) {
        c->reconnected = c->up_since_ms != 0;
        c->up_since_ms = cs_mono_ms();
        c->busy = false;
    } else {
        c->busy = false;
        c->history_busy = false;
        if (c->leader)
            log_warn("Redis connection lost; assignments freeze until it is back");
        c->leader = false;
        ft_reset(c->ft);
    }
    evlog_set_leader(c->evlog, c->leader);
    if (c->obs)
        obs_set_state(c->obs, c->leader, up);
}

static void on_signal(evutil_socket_t sig, short what, void *privdata)
{
    (void)sig;
    (void)what;
    struct coord *c = privdata;
    log_info("stopping");
    /* Commands still waiting for replies are answered; a moment of loop sends the answers. */
    struct timeval flush = {0, 100 * 1000};
    event_base_loopexit(c->base, web_stop(c->web) ? &flush : NULL);
}

void coord_web_opts(const struct coord_opts *o, struct web_opts *wo)
{
    memset(wo, 0, sizeof(*wo));
    wo->metrics_listen = o->metrics_listen;
    wo->http_listen = o->http_listen;
    wo->ns = o->common.ns;
    wo->id = o->id;
    wo->url = o->common.url;
    wo->auth = &o->auth;
    wo->tls_cert = o->tls_cert;
    wo->tls_key = o->tls_key;
    wo->origins = o->origins;
    wo->norigins = o->norigins;
    wo->read_only = o->read_only;
    wo->insecure = o->insecure;
}

int coord_run(const struct coord_opts *o)
{
    struct coord *c = cs_calloc(1, sizeof(*c));
    int rc = 0;
    struct cs_rng rng;
    c->o = o;
    c->ns = o->common.ns;
    cs_rng_seed(&rng, cs_seed_entropy());
    snprintf(c->token, sizeof(c->token), "%016llx", (unsigned long long)cs_rng_next(&rng));
    cfg_defaults(&cfg_fleet_schema, &c->fleet);
    signal(SIGPIPE, SIG_IGN);
    c->base = event_base_new();
    if (!c->base) {
        log_error("cannot create the event loop");
        cs_free(c);
        return 1;
    }
    struct rds_opts ro = {
        .url = o->common.url, .name = "coordinator", .on_state = on_redis_state, .privdata = c};
    c->r = rds_new(c->base, &ro);
    c->ft = ft_new(c->r, c->ns);
    if (o->metrics_listen[0] || o->http_listen[0]) {
        struct cs_error err;
        struct web_opts wo;
        coord_web_opts(o, &wo);
        c->obs = obs_new(c->ns, o->id);
        wo.r = c->r;
        wo.obs = c->obs;
        wo.fleet = &c->fleet;
        c->web = web_new(c->base, &wo, &err);
        if (!c->web) {
            log_error("%s", err.msg);
            rc = 1;
            goto out_free;
        }
    }
    /* Every coordinator records events when it leads; only the dashboard shows them. */
    struct evlog_opts eo = {.url = o->common.url,
                            .ns = c->ns,
                            .id = o->id,
                            .r = c->r,
                            .obs = o->http_listen[0] ? c->obs : NULL};
    c->evlog = evlog_new(c->base, &eo);
    c->tick_ev = event_new(c->base, -1, EV_PERSIST, on_tick, c);
    struct timeval tv = {o->tick_ms / 1000, (o->tick_ms % 1000) * 1000};
    evtimer_add(c->tick_ev, &tv);
    c->sigterm_ev = evsignal_new(c->base, SIGTERM, on_signal, c);
    c->sigint_ev = evsignal_new(c->base, SIGINT, on_signal, c);
    evsignal_add(c->sigterm_ev, NULL);
    evsignal_add(c->sigint_ev, NULL);
    log_info("coordinator %s started: redis %s:%d, namespace %s", o->id, o->common.url.host,
             o->common.url.port, c->ns);
    event_base_dispatch(c->base);

    if (c->duplicate)
        rc = 1;
    /* Hand the lock over at once instead of letting it expire; the id too (when it is ours),
     * so a restart with the same id need not wait for it. */
    bool flush = false;
    if (c->leader && rds_is_up(c->r)) {
        char k[CS_KEY_MAX];
        rds_cmd(c->r, NULL, NULL, "EVAL %s 1 %s %s",
                "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
                "else return 0 end",
                key(c, k, K_COORDINATOR, NULL), o->id);
        flush = true;
    }
    if (c->id_ok && !c->duplicate && rds_is_up(c->r)) {
        char ik[CS_KEY_MAX];
        rds_cmd(
            c->r, NULL, NULL, "EVAL %s 1 %s %s",
            "local v = redis.call('get', KEYS[1]) "
            "if v and string.match(v, '^%S+') == ARGV[1] then return redis.call('del', KEYS[1]) "
            "else return 0 end",
            key(c, ik, K_COORD_ID, o->id), c->token);
        flush = true;
    }
    if (flush) {
        struct timeval t = {0, 300 * 1000};
        event_base_loopexit(c->base, &t);
        event_base_dispatch(c->base);
    }
out_free:
    web_free(c->web);
    /* Callbacks still pending on c->r run now, with no reply: evlog's and web's touch only
     * their own memory then, so those go after it. */
    rds_free(c->r);
    evlog_free(c->evlog);
    obs_free(c->obs);
    free_agents(c);
    ft_free(c->ft);
    if (c->tick_ev)
        event_free(c->tick_ev);
    if (c->sigterm_ev)
        event_free(c->sigterm_ev);
    if (c->sigint_ev)
        event_free(c->sigint_ev);
    event_base_free(c->base);
    kv_free(&c->fleet_acc);
    kv_free(&c->assign);
    kv_free(&c->known);
    kv_free(&c->fleet_stats);
    cs_free(c);
    return rc;
}
