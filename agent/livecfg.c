/* livecfg.c - live config from Redis hashes. [loop] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/selector.h"
#include "ctx.h"
#include "ksnotify.h"
#include "ucatalog.h"
#include "livecfg.h"

struct livecfg {
    struct agent_ctx *x;
    int db;
    struct livecfg_hooks h;
    void *privdata;
    struct kvlist fleet_acc, fleet_rej;
    struct kvlist cfg_acc, cfg_rej;
    bool fleet_loaded, cfg_loaded;
    int64_t cfg_written_ms; /* a write of {ns}:cfg not yet read back (stats cfg_us) */
    struct layer *layers;
    size_t nlayers;
    uint64_t layers_gen; /* loads in flight older than this are dropped */
    struct ucatalog catalog;
    struct kvlist problems; /* keys Redis would not give us: key -> why (reported once) */
    struct ksnotify *notify;
};

/* ---- the table of live keys -------------------------------------------------------------- */

/* A reload that waits for its loads: the reply of `reload` says what could not be read. */
struct batch {
    int pending;
    struct kvlist errors; /* key -> why */
    livecfg_done_fn *done;
    void *privdata;
};

/* One HGETALL in flight (the batch may be NULL: a keyspace notification). */
struct load {
    struct livecfg *lc;
    struct batch *b;
    char key[CS_KEY_MAX];
};

typedef void load_fn(struct livecfg *lc, const char *arg, struct batch *b);

static void load_fleet(struct livecfg *lc, const char *arg, struct batch *b);
static void load_cfg(struct livecfg *lc, const char *arg, struct batch *b);
static void load_catalog(struct livecfg *lc, const char *arg, struct batch *b);
static void load_layers(struct livecfg *lc, const char *arg, struct batch *b);
static void load_charger(struct livecfg *lc, const char *arg, struct batch *b);

/* Each live key, what (re)loads it; rows with an argument are watched with a pattern. */
static const struct live_key {
    enum cs_key key;
    bool pattern;
    load_fn *load;
} live_keys[] = {
    {K_FLEET, false, load_fleet},   {K_CFG, false, load_cfg},     {K_CATALOG, false, load_catalog},
    {K_LAYERS, false, load_layers}, {K_LAYER, true, load_layers}, {K_CHARGER, true, load_charger},
};

static const struct live_key *live_key_of(const struct livecfg *lc, const char *name, char *arg,
                                          size_t argsz)
{
    enum cs_key k;
    if (!cs_key_parse(lc->x->ns, name, &k, arg, argsz))
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(live_keys); i++)
        if (live_keys[i].key == k)
            return &live_keys[i];
    return NULL;
}

/* "fleet, cfg, catalog, layers, cfg:layer:NAME or charger:NAME", from the table. */
static const char *live_key_names(void)
{
    static char names[256];
    if (!names[0]) {
        struct buf b = BUF_INIT;
        for (size_t i = 0; i < ARRAY_SIZE(live_keys); i++) {
            char k[CS_KEY_MAX];
            cs_key_rel(k, live_keys[i].key, live_keys[i].pattern ? "NAME" : NULL);
            buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == ARRAY_SIZE(live_keys) ? " or " : ", ", k);
        }
        cs_strlcpy(names, buf_cstr(&b), sizeof(names));
        buf_free(&b);
    }
    return names;
}

static void batch_take(struct batch *b)
{
    if (b)
        b->pending++;
}

static void batch_done(struct batch *b)
{
    if (!b || --b->pending > 0)
        return;
    b->done(b->privdata, &b->errors);
    kv_free(&b->errors);
    cs_free(b);
}

/* A live key Redis will not give us (a wrong type, an ACL): said once per distinct problem,
 * as a log line and an event naming the key; what was loaded before stays in force. */
static void load_failed(struct livecfg *lc, struct batch *b, const char *key,
                        const struct rds_reply *reply)
{
    const char *why = reply ? rds_reply_str(reply, NULL) : NULL;
    if (!why)
        why = reply ? "unexpected reply" : "connection lost";
    if (b)
        kv_set(&b->errors, key, why);
    if (!reply)
        return; /* no answer: read again when Redis is back */
    const char *before = kv_get(&lc->problems, key);
    if (before && strcmp(before, why) == 0)
        return;
    kv_set(&lc->problems, key, why);
    if (ctx_speaks_for_fleet(lc->x) || strstr(key, ":charger:"))
        ctx_key_unreadable(lc->x, key, why, "the values read before stay in force");
}

static void load_ok(struct livecfg *lc, const char *key)
{
    kv_del(&lc->problems, key);
}

static void hgetall(struct livecfg *lc, struct batch *b, enum cs_key k, const char *arg,
                    rds_reply_fn *fn)
{
    struct load *ld = cs_calloc(1, sizeof(*ld));
    ld->lc = lc;
    ld->b = b;
    ctx_key(lc->x, ld->key, k, arg);
    batch_take(b);
    if (rds_cmd(lc->x->rc, fn, ld, "HGETALL %s", ld->key) != CS_OK) {
        load_failed(lc, b, ld->key, NULL);
        batch_done(b);
        cs_free(ld);
    }
}

/* The reply of a load: the hash as kv pairs, or false (the problem reported). Frees ld; the
 * caller calls batch_done(b) after using it. */
static bool load_reply(struct load *ld, const struct rds_reply *reply, struct kvlist *out)
{
    if (rds_reply_ok(reply) && rds_reply_type(reply) == RDS_ARRAY) {
        load_ok(ld->lc, ld->key);
        rds_reply_kv(reply, out);
        return true;
    }
    load_failed(ld->lc, ld->b, ld->key, reply);
    return false;
}

/* ---- fleet and cfg ------------------------------------------------------------------------ */

static void on_cfg_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct load *ld = privdata;
    struct livecfg *lc = ld->lc;
    struct batch *b = ld->b;
    struct agent_ctx *x = lc->x;
    struct kvlist in = KVLIST_INIT;
    bool ok = load_reply(ld, reply, &in);
    cs_free(ld);
    if (!ok) {
        batch_done(b);
        return;
    }
    struct charger_cfg old = x->base_cfg;
    struct reject_scope rs = {x, "cfg", false};
    cfg_layer_accept(&cfg_charger_schema, &lc->cfg_acc, &lc->cfg_rej, &in, ctx_config_rejected,
                     &rs);
    kv_free(&in);
    cfg_defaults(&cfg_charger_schema, &x->base_cfg);
    cfg_apply_layer(&cfg_charger_schema, &x->base_cfg, &lc->cfg_acc);
    lc->cfg_loaded = true;
    if (lc->cfg_written_ms) {
        /* The sender wrote {ns}:cfg at cfg_written_ms: now it is in force here. */
        int64_t lag = cs_now_ms() - lc->cfg_written_ms;
        hist_add(&x->st->cfg_us, lag > 0 ? (uint64_t)lag * 1000 : 0);
        lc->cfg_written_ms = 0;
    }
    if (cfg_diff(&cfg_charger_schema, &old, &x->base_cfg)) {
        log_info("fleet config changed");
        lc->h.chargers_changed(lc->privdata, &old);
    }
    batch_done(b);
}

static void prepare_layers(struct livecfg *lc)
{
    for (size_t i = 0; i < lc->nlayers; i++)
        if (lc->layers[i].sel)
            sel_prepare(lc->layers[i].sel, (uint32_t)lc->x->fleet.size,
                        sel_layer_seed(lc->layers[i].name));
}

static void on_fleet_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct load *ld = privdata;
    struct livecfg *lc = ld->lc;
    struct batch *b = ld->b;
    struct agent_ctx *x = lc->x;
    struct kvlist in = KVLIST_INIT;
    bool ok = load_reply(ld, reply, &in);
    cs_free(ld);
    if (!ok) {
        batch_done(b);
        return;
    }
    struct fleet_cfg old = x->fleet;
    struct reject_scope rs = {x, "fleet", false};
    cfg_layer_accept(&cfg_fleet_schema, &lc->fleet_acc, &lc->fleet_rej, &in, ctx_config_rejected,
                     &rs);
    kv_free(&in);
    cfg_defaults(&cfg_fleet_schema, &x->fleet);
    cfg_apply_layer(&cfg_fleet_schema, &x->fleet, &lc->fleet_acc);
    lc->fleet_loaded = true;
    if (strcmp(old.id_format, x->fleet.id_format) != 0) {
        struct idfmt f;
        if (idfmt_parse(&f, x->fleet.id_format, NULL) == CS_OK)
            x->idf = f;
    }
    if (old.size != x->fleet.size || old.seed != x->fleet.seed) {
        /* random: layer selectors pick from the fleet: pick again. */
        prepare_layers(lc);
        lc->h.chargers_changed(lc->privdata, NULL);
    }
    lc->h.fleet_changed(lc->privdata, &old);
    batch_done(b);
}

static void load_fleet(struct livecfg *lc, const char *arg, struct batch *b)
{
    (void)arg;
    hgetall(lc, b, K_FLEET, NULL, on_fleet_loaded);
}

static void load_cfg(struct livecfg *lc, const char *arg, struct batch *b)
{
    (void)arg;
    hgetall(lc, b, K_CFG, NULL, on_cfg_loaded);
}

/* A charger's own hash is read by its owner (chargers.c); a reload does not wait for it. */
static void load_charger(struct livecfg *lc, const char *arg, struct batch *b)
{
    (void)b;
    uint32_t index;
    if (idfmt_index(&lc->x->idf, arg, &index))
        lc->h.charger_reload(lc->privdata, index);
}

/* ---- the catalog ---------------------------------------------------------------------------- */

static void on_catalog_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct load *ld = privdata;
    struct livecfg *lc = ld->lc;
    struct batch *b = ld->b;
    struct kvlist in = KVLIST_INIT;
    if (load_reply(ld, reply, &in))
        ucatalog_set(&lc->catalog, &in, lc->x);
    cs_free(ld);
    kv_free(&in);
    batch_done(b);
}

static void load_catalog(struct livecfg *lc, const char *arg, struct batch *b)
{
    (void)arg;
    hgetall(lc, b, K_CATALOG, NULL, on_catalog_loaded);
}

/* ---- config layers ------------------------------------------------------------------------- */

static void free_layer(struct layer *l)
{
    cs_free(l->name);
    sel_free(l->sel);
    kv_free(&l->acc);
    kv_free(&l->rej);
}

static struct layer *find_layer(struct livecfg *lc, const char *name)
{
    for (size_t i = 0; i < lc->nlayers; i++)
        if (strcmp(lc->layers[i].name, name) == 0)
            return &lc->layers[i];
    return NULL;
}

/* One ZRANGE of {ns}:layers, then one HGETALL per layer; committed when all are in. */
struct layers_load {
    struct livecfg *lc;
    struct batch *b;
    uint64_t gen;
    size_t n, pending;
    bool failed;
    char **names;
    double *orders;
    struct kvlist *raw;
    struct layers_req {
        struct layers_load *ld;
        size_t i;
    } * req;
};

static void layers_load_free(struct layers_load *ld)
{
    batch_done(ld->b);
    for (size_t i = 0; i < ld->n; i++) {
        cs_free(ld->names[i]);
        kv_free(&ld->raw[i]);
    }
    cs_free(ld->names);
    cs_free(ld->orders);
    cs_free(ld->raw);
    cs_free(ld->req);
    cs_free(ld);
}

static void publish_layers(struct livecfg *lc)
{
    lc->x->layers = lc->layers;
    lc->x->nlayers = lc->nlayers;
}

static void commit_layers(struct layers_load *ld)
{
    struct livecfg *lc = ld->lc;
    struct agent_ctx *x = lc->x;
    if (ld->failed || ld->gen != lc->layers_gen) {
        layers_load_free(ld);
        return;
    }
    struct layer *next = cs_calloc(ld->n ? ld->n : 1, sizeof(*next));
    size_t nn = 0;
    for (size_t i = 0; i < ld->n; i++) {
        struct layer *l = &next[nn];
        struct layer *old = find_layer(lc, ld->names[i]);
        char scope[CS_KEY_MAX];
        struct cs_error err;
        const char *text = kv_get(&ld->raw[i], CS_LAYER_SELECT_FIELD);
        l->name = cs_strdup(ld->names[i]);
        l->order = ld->orders[i];
        l->sel = text && nn < LAYERS_MAX ? sel_parse(text, &x->idf, &err) : NULL;
        if (!l->sel) {
            if (nn >= LAYERS_MAX)
                cs_error_set(&err, CS_ERR_TOO_BIG, "more than %d layers", LAYERS_MAX);
            else if (!text)
                cs_error_set(&err, CS_ERR_NOTFOUND, "layer %s has no %s field", l->name,
                             CS_LAYER_SELECT_FIELD);
            if (ctx_speaks_for_fleet(x)) {
                struct kvlist f = KVLIST_INIT;
                kv_set(&f, "layer", l->name);
                kv_set(&f, "error", err.msg);
                log_warn("config layer %s ignored: %s", l->name, err.msg);
                ctx_event(x, "layer_rejected", &f);
                kv_free(&f);
            }
            free_layer(l);
            memset(l, 0, sizeof(*l));
            continue;
        }
        if (old) {
            kv_copy(&l->acc, &old->acc);
            kv_copy(&l->rej, &old->rej);
        }
        kv_del(&ld->raw[i], CS_LAYER_SELECT_FIELD);
        snprintf(scope, sizeof(scope), "layer:%s", l->name);
        struct reject_scope rs = {x, scope, false};
        cfg_layer_accept(&cfg_charger_schema, &l->acc, &l->rej, &ld->raw[i], ctx_config_rejected,
                         &rs);
        nn++;
    }
    for (size_t i = 0; i < lc->nlayers; i++)
        free_layer(&lc->layers[i]);
    cs_free(lc->layers);
    lc->layers = next;
    lc->nlayers = nn;
    publish_layers(lc);
    prepare_layers(lc);
    layers_load_free(ld);
    lc->h.chargers_changed(lc->privdata, NULL);
}

static void on_layer_hash(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct layers_req *q = privdata;
    struct layers_load *ld = q->ld;
    char key[CS_KEY_MAX];
    ctx_key(ld->lc->x, key, K_LAYER, ld->names[q->i]);
    if (!rds_reply_ok(reply) || rds_reply_type(reply) != RDS_ARRAY) {
        ld->failed = true;
        load_failed(ld->lc, ld->b, key, reply);
    } else {
        load_ok(ld->lc, key);
        rds_reply_kv(reply, &ld->raw[q->i]);
    }
    if (--ld->pending == 0)
        commit_layers(ld);
}

static void on_layers_list(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    struct layers_load *ld = privdata;
    char k[CS_KEY_MAX];
    ctx_key(ld->lc->x, k, K_LAYERS, NULL);
    if (!rds_reply_ok(reply) || rds_reply_type(reply) != RDS_ARRAY) {
        load_failed(ld->lc, ld->b, k, reply);
        layers_load_free(ld);
        return;
    }
    load_ok(ld->lc, k);
    size_t n = rds_reply_len(reply) / 2;
    ld->n = n;
    ld->names = cs_calloc(n ? n : 1, sizeof(*ld->names));
    ld->orders = cs_calloc(n ? n : 1, sizeof(*ld->orders));
    ld->raw = cs_calloc(n ? n : 1, sizeof(*ld->raw));
    ld->req = cs_calloc(n ? n : 1, sizeof(*ld->req));
    for (size_t i = 0; i < n; i++) {
        const char *name = rds_reply_str(rds_reply_at(reply, 2 * i), NULL);
        const char *score = rds_reply_str(rds_reply_at(reply, 2 * i + 1), NULL);
        ld->names[i] = cs_strdup(name ? name : "");
        if (!score || !cs_parse_double(score, -1e300, 1e300, &ld->orders[i]))
            ld->orders[i] = 0;
    }
    ld->pending = 1;
    for (size_t i = 0; i < n; i++) {
        ld->req[i].ld = ld;
        ld->req[i].i = i;
        ld->pending++;
        if (rds_cmd(r, on_layer_hash, &ld->req[i], "HGETALL %s",
                    ctx_key(ld->lc->x, k, K_LAYER, ld->names[i])) != CS_OK) {
            ld->pending--;
            ld->failed = true;
        }
    }
    if (--ld->pending == 0)
        commit_layers(ld);
}

static void load_layers(struct livecfg *lc, const char *arg, struct batch *b)
{
    (void)arg;
    char k[CS_KEY_MAX];
    struct layers_load *ld = cs_calloc(1, sizeof(*ld));
    ld->lc = lc;
    ld->b = b;
    batch_take(b);
    ld->gen = ++lc->layers_gen;
    if (rds_cmd(lc->x->rc, on_layers_list, ld, "ZRANGE %s 0 -1 WITHSCORES",
                ctx_key(lc->x, k, K_LAYERS, NULL)) != CS_OK)
        layers_load_free(ld);
}

/* ---- keyspace notifications ---------------------------------------------------------------- */

static void load_all(struct livecfg *lc, struct batch *b);

/* Edits made while the notifications were off went unheard. */
static void on_notify_restored(void *privdata)
{
    struct livecfg *lc = privdata;
    if (rds_is_up(lc->x->rc))
        load_all(lc, NULL);
}

void livecfg_subscribe(struct livecfg *lc, struct rds *rs)
{
    char k[CS_KEY_MAX], ch[CS_KEY_MAX + 64];
    for (size_t i = 0; i < ARRAY_SIZE(live_keys); i++) {
        const struct live_key *lk = &live_keys[i];
        snprintf(ch, sizeof(ch), "__keyspace@%d__:%s", lc->db,
                 ctx_key(lc->x, k, lk->key, lk->pattern ? "*" : NULL));
        if (lk->pattern)
            rds_psubscribe(rs, ch);
        else
            rds_subscribe(rs, ch);
    }
}

bool livecfg_on_message(struct livecfg *lc, const char *channel)
{
    char prefix[64], arg[CS_KEY_MAX];
    snprintf(prefix, sizeof(prefix), "__keyspace@%d__:", lc->db);
    if (strncmp(channel, prefix, strlen(prefix)) != 0)
        return false;
    const char *key = channel + strlen(prefix);
    /* Only keys of our namespace: "cfg" alone (no prefix) is somebody else's. */
    size_t nl = strlen(lc->x->ns);
    if (strncmp(key, lc->x->ns, nl) != 0 || key[nl] != ':')
        return true;
    const struct live_key *lk = live_key_of(lc, key, arg, sizeof(arg));
    if (lk)
        lk->load(lc, arg, NULL);
    return true;
}

static void load_all(struct livecfg *lc, struct batch *b)
{
    ksnotify_check(lc->notify);
    for (size_t i = 0; i < ARRAY_SIZE(live_keys); i++)
        if (!live_keys[i].pattern)
            live_keys[i].load(lc, NULL, b);
    lc->h.charger_reload(lc->privdata, 0);
}

void livecfg_load_all(struct livecfg *lc)
{
    if (rds_is_up(lc->x->rc))
        load_all(lc, NULL);
}

int livecfg_reload(struct livecfg *lc, const char *key, int64_t written_ms, livecfg_done_fn *done,
                   void *privdata, struct cs_error *err)
{
    char arg[CS_KEY_MAX];
    const struct live_key *lk = NULL;
    if (key && !(lk = live_key_of(lc, key, arg, sizeof(arg))))
        return cs_error_set(err, CS_ERR_UNKNOWN, "reload: unknown key '%.60s' (%s)", key,
                            live_key_names());
    if (written_ms && (!lk || lk->key == K_CFG))
        lc->cfg_written_ms = written_ms;
    /* The batch holds one count of its own until everything is issued. */
    struct batch *b = cs_calloc(1, sizeof(*b));
    b->done = done;
    b->privdata = privdata;
    b->pending = 1;
    if (lk)
        lk->load(lc, arg, b);
    else
        load_all(lc, b);
    batch_done(b);
    return CS_OK;
}

bool livecfg_key_valid(const struct livecfg *lc, const char *key, struct cs_error *err)
{
    char arg[CS_KEY_MAX];
    if (!key || live_key_of(lc, key, arg, sizeof(arg)))
        return true;
    cs_error_set(err, CS_ERR_UNKNOWN, "reload: unknown key '%.60s' (%s)", key, live_key_names());
    return false;
}

bool livecfg_charger_key(const struct livecfg *lc, const char *key, uint32_t *index)
{
    char arg[CS_KEY_MAX];
    const struct live_key *lk = live_key_of(lc, key, arg, sizeof(arg));
    return lk && lk->key == K_CHARGER && idfmt_index(&lc->x->idf, arg, index);
}

/* ---- writing back what Redis lost ------------------------------------------------------------ */

static void on_written_back(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct livecfg *lc = privdata;
    if (reply && !rds_reply_ok(reply) && ctx_speaks_for_fleet(lc->x))
        log_error("writing back the fleet's settings: %s; they stay in force in the running "
                  "workers (write them again with swarm-cli)",
                  rds_reply_str(reply, NULL));
}

/* HSET key with the pairs of kv (and one more field first when field is given). */
static void hset_kv(struct livecfg *lc, const char *key, const char *field, const char *value,
                    const struct kvlist *kv)
{
    if (!kv->n && !field)
        return;
    const char **argv = cs_calloc(2 * kv->n + 4, sizeof(*argv));
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = key;
    if (field) {
        argv[argc++] = field;
        argv[argc++] = value;
    }
    for (size_t i = 0; i < kv->n; i++) {
        argv[argc++] = kv->v[i].key;
        argv[argc++] = kv->v[i].val;
    }
    rds_cmdv(lc->x->rc, on_written_back, lc, argc, argv, NULL);
    cs_free(argv);
}

void livecfg_write_back(struct livecfg *lc)
{
    char k[CS_KEY_MAX], order[32];
    struct agent_ctx *x = lc->x;
    ksnotify_check(lc->notify); /* a fresh Redis has them off */
    hset_kv(lc, ctx_key(x, k, K_FLEET, NULL), NULL, NULL, &lc->fleet_acc);
    hset_kv(lc, ctx_key(x, k, K_CFG, NULL), NULL, NULL, &lc->cfg_acc);
    hset_kv(lc, ctx_key(x, k, K_CATALOG, NULL), NULL, NULL, &lc->catalog.src);
    for (size_t i = 0; i < lc->nlayers; i++) {
        const struct layer *l = &lc->layers[i];
        snprintf(order, sizeof(order), "%.17g", l->order);
        rds_cmd(x->rc, on_written_back, lc, "ZADD %s %s %s", ctx_key(x, k, K_LAYERS, NULL), order,
                l->name);
        hset_kv(lc, ctx_key(x, k, K_LAYER, l->name), CS_LAYER_SELECT_FIELD, sel_text(l->sel),
                &l->acc);
    }
}

bool livecfg_has_data(const struct livecfg *lc)
{
    return lc->fleet_acc.n > 0;
}

bool livecfg_ready(const struct livecfg *lc)
{
    return lc->fleet_loaded && lc->cfg_loaded;
}

struct livecfg *livecfg_new(struct agent_ctx *x, int db, const struct livecfg_hooks *h,
                            void *privdata)
{
    struct livecfg *lc = cs_calloc(1, sizeof(*lc));
    lc->x = x;
    lc->db = db;
    lc->h = *h;
    lc->privdata = privdata;
    cfg_defaults(&cfg_charger_schema, &x->base_cfg);
    cfg_defaults(&cfg_fleet_schema, &x->fleet);
    idfmt_parse(&x->idf, x->fleet.id_format, NULL);
    x->catalog = &lc->catalog;
    publish_layers(lc);
    lc->notify = ksnotify_new(x, on_notify_restored, lc);
    return lc;
}

void livecfg_free(struct livecfg *lc)
{
    if (!lc)
        return;
    kv_free(&lc->fleet_acc);
    kv_free(&lc->fleet_rej);
    kv_free(&lc->cfg_acc);
    kv_free(&lc->cfg_rej);
    ucatalog_free(&lc->catalog);
    kv_free(&lc->problems);
    for (size_t i = 0; i < lc->nlayers; i++)
        free_layer(&lc->layers[i]);
    cs_free(lc->layers);
    lc->x->layers = NULL;
    lc->x->nlayers = 0;
    lc->x->catalog = NULL;
    ksnotify_free(lc->notify);
    cs_free(lc);
}
