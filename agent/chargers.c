/* chargers.c - slots, the index-sorted set, the ramp, loading. [loop] */
#include <string.h>

#include "charger_rt.h"
#include "chargers.h"
#include "holder.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "persist.h"
#include "ramp.h"

struct chargers {
    struct agent_ctx *x;
    struct crt_env env;
    struct ramp *ramp;
    struct charger_rt **slots; /* slot -> charger (NULL = free) */
    uint32_t nslots;
    struct charger_rt **by_index; /* held chargers sorted by fleet index */
    size_t n;
    uint32_t serial;
    chargers_gate_fn *gate;
    chargers_gone_fn *gone;
    void *privdata;
    struct defer_item gone_item;
};

static bool ramp_gate(void *privdata)
{
    struct chargers *s = privdata;
    return s->gate(s->privdata);
}

struct chargers *chargers_new(struct agent_ctx *x, struct transport *const trs[TR__COUNT],
                              uint32_t capacity, chargers_gate_fn *gate, chargers_gone_fn *gone,
                              void *privdata)
{
    struct chargers *s = cs_calloc(1, sizeof(*s));
    s->x = x;
    s->ramp = ramp_new(x->base, link_on_token, ramp_gate, s);
    crt_env_init(&s->env, x, s->ramp, trs);
    s->nslots = capacity;
    s->slots = cs_calloc(capacity ? capacity : 1, sizeof(*s->slots));
    s->by_index = cs_calloc(capacity ? capacity : 1, sizeof(*s->by_index));
    s->gate = gate;
    s->gone = gone;
    s->privdata = privdata;
    return s;
}

static size_t lower_bound(const struct chargers *s, uint32_t index)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->by_index[mid]->m.index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct charger_rt *chargers_find(const struct chargers *s, uint32_t index)
{
    size_t at = lower_bound(s, index);
    return at < s->n && s->by_index[at]->m.index == index ? s->by_index[at] : NULL;
}

size_t chargers_count(const struct chargers *s)
{
    return s->n;
}

struct charger_rt *chargers_at(const struct chargers *s, size_t i)
{
    return i < s->n ? s->by_index[i] : NULL;
}

uint32_t chargers_capacity(const struct chargers *s)
{
    return s->nslots;
}

void chargers_held(const struct chargers *s, struct rset *out)
{
    for (size_t i = 0; i < s->n; i++)
        rset_add(out, s->by_index[i]->m.index, s->by_index[i]->m.index);
}

static void remove_charger(struct chargers *s, struct charger_rt *ch)
{
    size_t at = lower_bound(s, ch->m.index);
    if (at < s->n && s->by_index[at] == ch) {
        memmove(&s->by_index[at], &s->by_index[at + 1], (s->n - at - 1) * sizeof(*s->by_index));
        s->n--;
    }
    s->slots[ch->slot] = NULL;
    crt_fini(ch);
    cs_free(ch);
}

/* ---- loading ------------------------------------------------------------------------------- */

static struct chargers *set_of(const struct charger_rt *ch)
{
    return (struct chargers *)(void *)((char *)ch->env - offsetof(struct chargers, env));
}

/* A read in flight: which charger asked (it may be gone by the reply). */
struct load {
    struct chargers *s;
    uint32_t slot, serial;
};

static struct charger_rt *load_done(struct load *ld)
{
    struct chargers *s = ld->s;
    struct charger_rt *ch = NULL;
    if (ld->slot < s->nslots && s->slots[ld->slot] && s->slots[ld->slot]->serial == ld->serial)
        ch = s->slots[ld->slot];
    cs_free(ld);
    return ch && !ch->releasing ? ch : NULL;
}

static void on_overrides_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct charger_rt *ch = load_done(privdata);
    if (!ch || !rds_reply_ok(reply))
        return; /* retried by the worker's lease tick while still loading */
    struct kvlist in = KVLIST_INIT;
    rds_reply_kv(reply, &in);
    crt_overrides(ch, &in);
    kv_free(&in);
}

static void on_state_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct charger_rt *ch = load_done(privdata);
    if (!ch || !rds_reply_ok(reply))
        return;
    struct kvlist st = KVLIST_INIT;
    rds_reply_kv(reply, &st);
    crt_restore(ch, &st);
    kv_free(&st);
}

static void load(struct chargers *s, struct charger_rt *ch, rds_reply_fn *fn, enum cs_key k)
{
    char key[CS_KEY_MAX];
    struct load *ld = cs_malloc(sizeof(*ld));
    *ld = (struct load){s, ch->slot, ch->serial};
    if (rds_cmd(s->x->rc, fn, ld, "HGETALL %s", ctx_key(s->x, key, k, ch->m.id)) != CS_OK)
        cs_free(ld);
}

void chargers_reload(struct chargers *s, struct charger_rt *ch)
{
    if (ch->releasing)
        return;
    load(s, ch, on_overrides_loaded, K_CHARGER);
    if (!ch->loaded_state)
        load(s, ch, on_state_loaded, K_STATE);
}

/* ---- adding and releasing ---------------------------------------------------------------- */

struct charger_rt *chargers_add(struct chargers *s, uint32_t index)
{
    uint32_t slot;
    for (slot = 0; slot < s->nslots && s->slots[slot]; slot++)
        ;
    if (slot == s->nslots)
        return NULL;
    struct agent_ctx *x = s->x;
    struct charger_rt *ch = cs_calloc(1, sizeof(*ch));
    if (++s->serial == 0)
        s->serial = 1;
    /* A fixed fleet seed makes every charger's random behaviour reproducible. */
    uint64_t seed = x->fleet.seed ? (uint64_t)x->fleet.seed * 0x9e3779b97f4a7c15ULL ^ index
                                  : cs_rng_next(&x->rng);
    crt_init(ch, &s->env, slot, s->serial, index, seed);
    size_t at = lower_bound(s, index);
    memmove(&s->by_index[at + 1], &s->by_index[at], (s->n - at) * sizeof(*s->by_index));
    s->by_index[at] = ch;
    s->n++;
    s->slots[slot] = ch;
    chargers_reload(s, ch);
    return ch;
}

static void on_gone_notify(void *privdata)
{
    struct chargers *s = privdata;
    s->gone(s->privdata);
}

static void reap(void *privdata)
{
    struct charger_rt *ch = privdata;
    struct chargers *s = set_of(ch);
    remove_charger(s, ch);
    defer_add(s->x->defer, &s->gone_item, on_gone_notify, s);
}

static void on_released(struct charger_rt *ch)
{
    defer_add(crt_ctx(ch)->defer, &ch->free_item, reap, ch);
}

void chargers_release(struct chargers *s, struct charger_rt *ch, bool end_tx)
{
    (void)s;
    if (crt_release(ch, end_tx, on_released))
        on_released(ch);
}

/* ---- the ramp ------------------------------------------------------------------------------ */

void chargers_set_rate(struct chargers *s, double per_s)
{
    ramp_set_rate(s->ramp, per_s);
    ramp_kick(s->ramp);
}

void chargers_kick(struct chargers *s)
{
    ramp_kick(s->ramp);
}

void chargers_gauges(const struct chargers *s, struct worker_stats *st)
{
    st->assigned = s->n;
    st->connected = st->connecting = st->offline = st->disabled = st->paused = 0;
    st->charging = st->faulted = st->transactions = st->calls_queued = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct charger_rt *ch = s->by_index[i];
        switch (ch->link.state) {
        case LINK_UP:
            st->connected++;
            break;
        case LINK_IDLE:
            if (ch->link.parked) {
                st->offline++;
                break;
            }
            /* fall through */
        case LINK_LOADING:
        case LINK_QUEUED:
        case LINK_CONNECTING:
            st->connecting++;
            break;
        case LINK_BACKOFF:
        case LINK_CLOSING:
        case LINK_OFFLINE:
            st->offline++;
            break;
        case LINK_DISABLED:
            st->disabled++;
            break;
        case LINK__COUNT:
            break;
        }
        st->paused += ch->s.paused;
        st->calls_queued += calls_queued(&ch->calls);
        for (int c = 0; c <= ch->m.nconn; c++) {
            st->charging += ch->m.conn[c].status == ST_CHARGING;
            st->faulted += ch->m.conn[c].status == ST_FAULTED;
            st->transactions += c > 0 && ch->m.conn[c].tx_active;
        }
    }
}

void chargers_free(struct chargers *s)
{
    if (!s)
        return;
    defer_cancel(s->x->defer, &s->gone_item);
    while (s->n)
        remove_charger(s, s->by_index[s->n - 1]);
    ramp_free(s->ramp);
    cs_free(s->slots);
    cs_free(s->by_index);
    cs_free(s);
}

void chargers_write_back(struct chargers *s)
{
    char key[CS_KEY_MAX];
    for (size_t i = 0; i < s->n; i++) {
        struct charger_rt *ch = s->by_index[i];
        if (ch->releasing || ch->link.state == LINK_LOADING)
            continue;
        const struct kvlist *over = &ch->cfg.over;
        if (over->n) {
            const char **argv = cs_calloc(2 * over->n + 2, sizeof(*argv));
            int argc = 0;
            argv[argc++] = "HSET";
            argv[argc++] = ctx_key(s->x, key, K_CHARGER, ch->m.id);
            for (size_t f = 0; f < over->n; f++) {
                argv[argc++] = over->v[f].key;
                argv[argc++] = over->v[f].val;
            }
            rds_cmdv(s->x->rc, NULL, NULL, argc, argv, NULL);
            cs_free(argv);
        }
        persist_mark(ch);
    }
}

/* ---- as a holder (holder.h) ---------------------------------------------------------------- */

static size_t h_count(void *h)
{
    return chargers_count(h);
}

static void h_held(void *h, struct rset *out)
{
    chargers_held(h, out);
}

static bool h_add(void *h, uint32_t index)
{
    return chargers_add(h, index) != NULL;
}

static void h_release_outside(void *h, const struct rset *keep, holder_ends_tx_fn *ends_tx,
                              void *privdata)
{
    struct chargers *s = h;
    for (size_t i = 0; i < s->n; i++) {
        struct charger_rt *ch = s->by_index[i];
        if (ch->releasing || (keep && rset_contains(keep, ch->m.index)))
            continue;
        chargers_release(s, ch, ends_tx && ends_tx(privdata, ch->m.index));
    }
}

static size_t h_park(void *h)
{
    struct chargers *s = h;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        crt_park(s->by_index[i]);
        n += s->by_index[i]->link.parked;
    }
    return n;
}

static size_t h_unpark(void *h)
{
    struct chargers *s = h;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        n += s->by_index[i]->link.parked;
        crt_unpark(s->by_index[i]);
    }
    return n;
}

static void h_kick(void *h)
{
    chargers_kick(h);
}

static void h_retry_loading(void *h)
{
    struct chargers *s = h;
    for (size_t i = 0; i < s->n; i++)
        if (s->by_index[i]->link.state == LINK_LOADING)
            chargers_reload(s, s->by_index[i]);
}

static const struct holder_ops holder_ops = {h_count, h_held,   h_add,  h_release_outside,
                                             h_park,  h_unpark, h_kick, h_retry_loading};

struct holder chargers_holder(struct chargers *s)
{
    return (struct holder){&holder_ops, s};
}
