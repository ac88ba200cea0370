/* totals.c - monotonic fleet totals: a base of ended worker runs plus every worker's last
 * figures. */
#include <stdio.h>
#include <string.h>

#include "cs/mem.h"
#include "cs/totals.h"
#include "cs/util.h"

struct entry {
    char *name;
    uint64_t started;         /* the run these figures belong to (0: not given) */
    struct worker_stats *cum; /* its last cumulative figures */
};

struct totals {
    struct worker_stats *base;
    struct kvlist folded; /* worker -> started_ms of the run the base holds */
    struct entry *e;
    size_t n;
};

struct totals *totals_new(void)
{
    struct totals *t = cs_calloc(1, sizeof(*t));
    t->base = cs_calloc(1, sizeof(*t->base));
    return t;
}

void totals_clear(struct totals *t)
{
    for (size_t i = 0; i < t->n; i++) {
        cs_free(t->e[i].name);
        cs_free(t->e[i].cum);
    }
    cs_free(t->e);
    t->e = NULL;
    t->n = 0;
    memset(t->base, 0, sizeof(*t->base));
    kv_free(&t->folded);
}

void totals_free(struct totals *t)
{
    if (!t)
        return;
    totals_clear(t);
    cs_free(t->base);
    cs_free(t);
}

static struct entry *find(const struct totals *t, const char *worker)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->e[i].name, worker) == 0)
            return &t->e[i];
    return NULL;
}

static struct entry *get(struct totals *t, const char *worker)
{
    struct entry *e = find(t, worker);
    if (e)
        return e;
    t->e = cs_realloc(t->e, (t->n + 1) * sizeof(*t->e));
    e = &t->e[t->n++];
    e->name = cs_strdup(worker);
    e->started = 0;
    e->cum = cs_calloc(1, sizeof(*e->cum));
    return e;
}

bool totals_known(const struct totals *t, const char *worker)
{
    return find(t, worker) != NULL;
}

size_t totals_workers(const struct totals *t)
{
    return t->n;
}

bool totals_empty(const struct totals *t)
{
    if (t->n || t->folded.n)
        return false;
    struct kvlist b = KVLIST_INIT;
    stats_render_parts(t->base, STATS_P_CUM, &b);
    bool zero = true;
    for (size_t i = 0; i < b.n && zero; i++)
        zero = strcmp(b.v[i].val, "0") == 0 || b.v[i].val[0] == '\0';
    kv_free(&b);
    return zero;
}

const char *totals_worker_at(const struct totals *t, size_t i)
{
    return i < t->n ? t->e[i].name : NULL;
}

void totals_render_last(const struct totals *t, size_t i, struct kvlist *out)
{
    if (i >= t->n)
        return;
    struct worker_stats *s = cs_calloc(1, sizeof(*s));
    *s = *t->e[i].cum;
    s->started_ms = t->e[i].started;
    stats_render_parts(s, STATS_P_CUM, out);
    cs_free(s);
}

/* The run of a worker the base holds, 0 when none. */
static uint64_t folded_run(const struct totals *t, const char *worker)
{
    char k[160];
    int64_t v;
    snprintf(k, sizeof(k), TOTALS_FOLDED_PREFIX "%s", worker);
    const char *s = kv_get(&t->folded, k);
    return s && cs_parse_i64(s, 0, INT64_MAX, &v) ? (uint64_t)v : 0;
}

static void set_folded(struct totals *t, const char *worker, uint64_t started)
{
    char k[160], v[24];
    snprintf(k, sizeof(k), TOTALS_FOLDED_PREFIX "%s", worker);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)started);
    kv_set(&t->folded, k, v);
}

/* An entry counts unless the base already holds its run. */
static bool counts(const struct totals *t, const struct entry *e)
{
    return !(e->started && folded_run(t, e->name) == e->started);
}

static void add_cum(struct worker_stats *dst, const struct worker_stats *src)
{
    stats_merge_parts(dst, src, STATS_P_CUM);
}

void totals_load_base(struct totals *t, const struct kvlist *base)
{
    memset(t->base, 0, sizeof(*t->base));
    stats_add_parts(t->base, base, STATS_P_CUM);
    kv_free(&t->folded);
    size_t pl = strlen(TOTALS_FOLDED_PREFIX);
    for (size_t i = 0; i < base->n; i++)
        if (strncmp(base->v[i].key, TOTALS_FOLDED_PREFIX, pl) == 0 && base->v[i].key[pl])
            kv_set(&t->folded, base->v[i].key, base->v[i].val);
}

static void set_last(struct entry *e, const struct kvlist *figures)
{
    memset(e->cum, 0, sizeof(*e->cum));
    stats_add_parts(e->cum, figures, STATS_P_CUM);
    e->started = stats_started_of(figures);
}

void totals_load_last(struct totals *t, const char *worker, const struct kvlist *last)
{
    set_last(get(t, worker), last);
}

/* Counters that only grow within a run: one of them lower means a new run (for workers that do
 * not say which run they are). */
static bool went_down(const struct worker_stats *prev, const struct worker_stats *cur)
{
    size_t n;
    const struct stats_field *f = stats_fields(&n);
    for (size_t i = 0; i < n; i++) {
        if (f[i].kind != STAT_COUNTER)
            continue;
        if (*(const uint64_t *)((const char *)cur + f[i].offset) <
            *(const uint64_t *)((const char *)prev + f[i].offset))
            return true;
    }
    return false;
}

bool totals_observe(struct totals *t, const char *worker, const struct kvlist *cur)
{
    struct entry *e = get(t, worker);
    uint64_t started = stats_started_of(cur);
    bool folded = false;
    if (!started && !e->started) {
        struct worker_stats *now = cs_calloc(1, sizeof(*now));
        stats_add_parts(now, cur, STATS_P_CUM);
        if (went_down(e->cum, now)) {
            add_cum(t->base, e->cum);
            folded = true;
        }
        cs_free(now);
    }
    set_last(e, cur);
    return folded;
}

bool totals_fold(struct totals *t, const char *worker, const struct kvlist *old)
{
    uint64_t run = stats_started_of(old);
    if (run && folded_run(t, worker) == run)
        return false; /* already in the base (a fold whose copy did not follow) */
    struct worker_stats *o = cs_calloc(1, sizeof(*o));
    stats_add_parts(o, old, STATS_P_CUM);
    add_cum(t->base, o);
    cs_free(o);
    if (run)
        set_folded(t, worker, run);
    /* Its entry no longer holds that run. */
    struct entry *e = get(t, worker);
    if (e->started == run) {
        memset(e->cum, 0, sizeof(*e->cum));
        e->started = 0;
    }
    return true;
}

void totals_sum(const struct totals *t, struct worker_stats *out)
{
    add_cum(out, t->base);
    for (size_t i = 0; i < t->n; i++)
        if (counts(t, &t->e[i]))
            add_cum(out, t->e[i].cum);
}

void totals_render_base(const struct totals *t, struct kvlist *out)
{
    stats_render_parts(t->base, STATS_P_CUM, out);
    kv_del(out, "started_ms");
    for (size_t i = 0; i < t->folded.n; i++)
        kv_set(out, t->folded.v[i].key, t->folded.v[i].val);
}
