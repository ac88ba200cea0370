/* fleet_totals.c - persisted, monotonic fleet totals (the Redis side of cs/totals.h). */
#include <string.h>

#include "cs/keys.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/totals.h"
#include "fleet_totals.h"

/* Copies a worker's stats hash (ARGV[1]) to its last figures (KEYS[1]); it runs in one
 * MULTI/EXEC with the HGETALL that reads the hash, so the copy is exactly what was counted.
 * When the worker started a new run (started_ms differs), nothing is copied yet: the old run's
 * figures come back for folding into the base, and the copy follows once the base is saved.
 * Replies {0} (no hash), {1}, {2, old}, or {3} when the hash is not whole: a worker writes only
 * the fields that changed, so right after Redis lost its data the hash holds a few of them
 * until the worker's next full write; counting it then would take the others as 0 (started_ms,
 * which never changes, is in full writes only). The hash itself comes from the HGETALL beside it,
 * not through the script: turning ~300 fields into Lua values and back cost twice the read
 * (about 0.7 ms a worker a second). The stats hash is an argument, not a declared key: Redis
 * would check declared keys for writing, and the coordinator may only read a worker's stats. */
static const char *const COPY_LUA =
    "if redis.call('exists', ARGV[1]) == 0 then return {0} end "
    "local cs = redis.call('hget', ARGV[1], 'started_ms') "
    "if not cs then return {3} end "
    "local ls = redis.call('hget', KEYS[1], 'started_ms') "
    "if cs and ls and cs ~= ls then return {2, redis.call('hgetall', KEYS[1])} end "
    "redis.call('copy', ARGV[1], KEYS[1], 'replace') "
    "return {1}";

struct ft {
    struct rds *r;
    const char *ns;
    struct totals *t;
    bool ready, loading;
    unsigned gen; /* loads started; replies of an older one are dropped */
    int pending;  /* replies the load still waits for */
    bool load_failed;
    struct totals *staging; /* what the load builds, swapped in when complete */
};

struct ft *ft_new(struct rds *r, const char *ns)
{
    struct ft *f = cs_calloc(1, sizeof(*f));
    f->r = r;
    f->ns = ns;
    f->t = totals_new();
    return f;
}

void ft_free(struct ft *f)
{
    if (!f)
        return;
    totals_free(f->t);
    totals_free(f->staging);
    cs_free(f);
}

void ft_reset(struct ft *f)
{
    f->ready = false;
    f->loading = false;
    f->gen++;
}

bool ft_ready(const struct ft *f)
{
    return f->ready;
}

/* ---- loading ---------------------------------------------------------------------------- */

struct load_ctx {
    struct ft *f;
    unsigned gen;
    char *worker; /* NULL: the base */
};

static void restore(struct ft *f);

static void load_step_done(struct ft *f)
{
    if (--f->pending > 0)
        return;
    f->loading = false;
    if (f->load_failed) {
        log_warn("fleet totals: loading the saved totals failed; retrying");
        totals_free(f->staging);
        f->staging = NULL;
        return;
    }
    if (totals_empty(f->staging) && !totals_empty(f->t)) {
        /* Redis has none of what this coordinator counted: it lost its data (restarted empty).
         * Going on from nothing would make every fleet counter drop: write back what we had. */
        totals_free(f->staging);
        f->staging = NULL;
        restore(f);
    } else {
        totals_free(f->t);
        f->t = f->staging;
        f->staging = NULL;
    }
    f->ready = true;
    log_info("fleet totals: loaded (%zu workers)", totals_workers(f->t));
}

static void on_load_hash(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct load_ctx *x = privdata;
    struct ft *f = x->f;
    if (x->gen == f->gen) {
        if (!rds_reply_ok(reply)) {
            f->load_failed = true;
        } else {
            struct kvlist kv = KVLIST_INIT;
            rds_reply_kv(reply, &kv);
            if (x->worker)
                totals_load_last(f->staging, x->worker, &kv);
            else
                totals_load_base(f->staging, &kv);
            kv_free(&kv);
        }
        load_step_done(f);
    }
    cs_free(x->worker);
    cs_free(x);
}

static void load_hash(struct ft *f, const char *worker)
{
    char k[CS_KEY_MAX];
    struct load_ctx *x = cs_calloc(1, sizeof(*x));
    x->f = f;
    x->gen = f->gen;
    x->worker = worker ? cs_strdup(worker) : NULL;
    f->pending++;
    if (rds_cmd(f->r, on_load_hash, x, "HGETALL %s",
                cs_key(k, f->ns, worker ? K_TOTALS_LAST : K_TOTALS_BASE, worker)) != CS_OK) {
        f->load_failed = true;
        f->pending--;
        cs_free(x->worker);
        cs_free(x);
    }
}

static void on_load_members(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct load_ctx *x = privdata;
    struct ft *f = x->f;
    if (x->gen == f->gen) {
        if (!rds_reply_ok(reply)) {
            f->load_failed = true;
        } else {
            load_hash(f, NULL);
            for (size_t i = 0; i < rds_reply_len(reply); i++) {
                const char *w = rds_reply_str(rds_reply_at(reply, i), NULL);
                if (w)
                    load_hash(f, w);
            }
        }
        load_step_done(f);
    }
    cs_free(x);
}

void ft_load(struct ft *f)
{
    char k[CS_KEY_MAX];
    if (f->ready || f->loading)
        return;
    totals_free(f->staging);
    f->staging = totals_new();
    f->load_failed = false;
    f->loading = true;
    f->gen++;
    struct load_ctx *x = cs_calloc(1, sizeof(*x));
    x->f = f;
    x->gen = f->gen;
    f->pending = 1;
    if (rds_cmd(f->r, on_load_members, x, "SMEMBERS %s",
                cs_key(k, f->ns, K_TOTALS_WORKERS, NULL)) != CS_OK) {
        cs_free(x);
        f->loading = false;
        f->pending = 0;
    }
}

/* ---- writing back --------------------------------------------------------------------------- */

static void save_base(struct ft *f);

static void restore(struct ft *f)
{
    char k[CS_KEY_MAX], w[CS_KEY_MAX];
    size_t n = totals_workers(f->t);
    log_warn("fleet totals: Redis lost them (restarted empty?): writing back the base and the "
             "last figures of %zu workers",
             n);
    save_base(f);
    cs_key(w, f->ns, K_TOTALS_WORKERS, NULL);
    for (size_t i = 0; i < n; i++) {
        const char *name = totals_worker_at(f->t, i);
        struct kvlist last = KVLIST_INIT;
        totals_render_last(f->t, i, &last);
        const char **argv = cs_calloc(2 * last.n + 2, sizeof(*argv));
        int argc = 0;
        argv[argc++] = "HSET";
        argv[argc++] = cs_key(k, f->ns, K_TOTALS_LAST, name);
        for (size_t j = 0; j < last.n; j++) {
            argv[argc++] = last.v[j].key;
            argv[argc++] = last.v[j].val;
        }
        if (last.n)
            rds_cmdv(f->r, NULL, NULL, argc, argv, NULL);
        rds_cmd(f->r, NULL, NULL, "SADD %s %s", w, name);
        cs_free(argv);
        kv_free(&last);
    }
}

/* ---- reading workers ---------------------------------------------------------------------- */

struct read_ctx {
    struct ft *f;
    unsigned gen;
    char *worker;
    ft_read_fn *done;
    void *privdata;
};

static void save_base(struct ft *f)
{
    char k[CS_KEY_MAX];
    struct kvlist b = KVLIST_INIT;
    totals_render_base(f->t, &b);
    const char **argv = cs_calloc(2 * b.n + 2, sizeof(*argv));
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = cs_key(k, f->ns, K_TOTALS_BASE, NULL);
    for (size_t i = 0; i < b.n; i++) {
        argv[argc++] = b.v[i].key;
        argv[argc++] = b.v[i].val;
    }
    if (b.n)
        rds_cmdv(f->r, NULL, NULL, argc, argv, NULL);
    cs_free(argv);
    kv_free(&b);
}

static void on_read(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct read_ctx *x = privdata;
    struct ft *f = x->f;
    struct kvlist cur = KVLIST_INIT, old = KVLIST_INIT;
    char k[CS_KEY_MAX], last[CS_KEY_MAX];
    /* EXEC's reply: [the script's, the HGETALL's] */
    const struct rds_reply *copied = rds_reply_at(reply, 0), *hash = rds_reply_at(reply, 1);
    if (!rds_reply_ok(reply) || rds_reply_type(reply) != RDS_ARRAY || rds_reply_len(reply) < 2 ||
        rds_reply_type(copied) != RDS_ARRAY || rds_reply_type(hash) != RDS_ARRAY) {
        const struct rds_reply *e = rds_reply_type(copied) == RDS_ERROR ? copied : reply;
        if (e && rds_reply_type(e) == RDS_ERROR)
            log_warn("fleet totals: reading %s: %s", x->worker, rds_reply_str(e, NULL));
        x->done(x->privdata, NULL);
        goto out;
    }
    long long flag = rds_reply_int(rds_reply_at(copied, 0));
    if (flag == 3) { /* not whole yet: its previous figures stand */
        x->done(x->privdata, NULL);
        goto out;
    }
    rds_reply_kv(hash, &cur);
    /* Counted only by a loaded state of this leadership (a stale reply still returns what it
     * read: the copy it made in Redis is picked up by the next load). */
    if (f->ready && x->gen == f->gen && flag > 0) {
        bool dirty = false;
        if (!totals_known(f->t, x->worker))
            rds_cmd(f->r, NULL, NULL, "SADD %s %s", cs_key(k, f->ns, K_TOTALS_WORKERS, NULL),
                    x->worker);
        if (flag == 2) {
            rds_reply_kv(rds_reply_at(copied, 1), &old);
            dirty = totals_fold(f->t, x->worker, &old);
            log_info("fleet totals: worker %s restarted; its previous run's figures %s the "
                     "base",
                     x->worker, dirty ? "are added to" : "were already in");
        }
        dirty |= totals_observe(f->t, x->worker, &cur);
        if (dirty)
            save_base(f);
        if (flag == 2) /* after the base: a crash in between does not count the old run twice */
            rds_cmd(f->r, NULL, NULL, "COPY %s %s REPLACE", cs_key(k, f->ns, K_STATS_W, x->worker),
                    cs_key(last, f->ns, K_TOTALS_LAST, x->worker));
    }
    x->done(x->privdata, &cur);
out:
    kv_free(&cur);
    kv_free(&old);
    cs_free(x->worker);
    cs_free(x);
}

int ft_read(struct ft *f, const char *worker, ft_read_fn *done, void *privdata)
{
    char k[CS_KEY_MAX], last[CS_KEY_MAX];
    struct read_ctx *x = cs_calloc(1, sizeof(*x));
    x->f = f;
    x->gen = f->gen;
    x->worker = cs_strdup(worker);
    x->done = done;
    x->privdata = privdata;
    /* Nothing else is sent on this connection between MULTI and EXEC: the loop runs only this. */
    cs_key(k, f->ns, K_STATS_W, worker);
    int rc = rds_cmd(f->r, NULL, NULL, "MULTI");
    if (rc == CS_OK)
        rc = rds_cmd(f->r, NULL, NULL, "EVAL %s 1 %s %s", COPY_LUA,
                     cs_key(last, f->ns, K_TOTALS_LAST, worker), k);
    if (rc == CS_OK)
        rc = rds_cmd(f->r, NULL, NULL, "HGETALL %s", k);
    if (rc == CS_OK)
        rc = rds_cmd(f->r, on_read, x, "EXEC");
    if (rc != CS_OK) {
        cs_free(x->worker);
        cs_free(x);
    }
    return rc;
}

void ft_sum(const struct ft *f, struct worker_stats *out)
{
    totals_sum(f->t, out);
}
