/* worker.c - a worker process: Redis control plane (registration and lease, assignment,
 * commands and replies, live config through keyspace notifications, stats) around the
 * chargers of charger_rt.c. Everything runs on the loop thread. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "charger_rt.h"
#include "cs/cmd.h"
#include "cs/event.h"
#include "cs/jtmpl.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/selector.h"
#include "mqtt.h"
#include "session.h"
#include "worker.h"

#define MAX_REPLY_ERRORS 10
#define LAG_TICK_MS 100
#define LEASE_REPLY_WAIT_MS 2000 /* a lapsed lease's refresh may take this long to confirm */
#define STATS_TTL_S 120
#define TS_MAXLEN_STR "3600" /* entries kept in {ns}:ts:{worker}, about an hour at 1/s */

const char *worker_key(struct worker *w, char *out, enum cs_key k, const char *arg)
{
    return cs_key(out, w->ns, k, arg);
}

bool worker_may_connect(const struct worker *w)
{
    return w->lease_ok_ms && cs_mono_ms() - w->lease_ok_ms < w->fleet.lease_ms;
}

void worker_event(struct worker *w, const char *type, const struct kvlist *fields)
{
    char ch[CS_KEY_MAX];
    struct buf b = BUF_INIT;
    cs_event_render(&b, type, "worker", w->name, fields);
    rds_cmd(w->rc, NULL, NULL, "PUBLISH %s %b", worker_key(w, ch, CH_EVENTS, NULL), b.s, b.len);
    buf_free(&b);
}

/* ---- config ------------------------------------------------------------------------------- */

void worker_config_rejected(void *privdata, const char *key, const char *val, const char *why)
{
    const struct reject_scope *rs = privdata;
    struct worker *w = rs->w;
    struct kvlist f = KVLIST_INIT;
    w->st.cfg_rejected++;
    kv_set(&f, "scope", rs->scope);
    kv_set(&f, "key", key);
    kv_set(&f, "value", val);
    kv_set(&f, "error", why);
    /* Every worker sees the same bad fleet-wide value; one of them is enough to tell. A
     * charger's own value is seen by its owner only. */
    if (rs->charger || w->slot == 0)
        log_warn("%s: config rejected: %s", rs->scope, why);
    worker_event(w, "config_rejected", &f);
    kv_free(&f);
}

static void on_cfg_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct worker *w = rds_privdata(r);
    if (!rds_reply_ok(reply))
        return;
    struct kvlist in = KVLIST_INIT;
    struct charger_cfg old = w->base_cfg;
    rds_reply_kv(reply, &in);
    struct reject_scope rs = {w, "cfg", false};
    cfg_layer_accept(&cfg_charger_schema, &w->cfg_acc, &w->cfg_rej, &in, worker_config_rejected,
                     &rs);
    kv_free(&in);
    cfg_defaults(&cfg_charger_schema, &w->base_cfg);
    cfg_apply_layer(&cfg_charger_schema, &w->base_cfg, &w->cfg_acc);
    w->cfg_loaded = true;
    if (w->cfg_written_ms) {
        /* swarm-cli wrote {ns}:cfg at cfg_written_ms: now it is in force here. */
        int64_t lag = cs_now_ms() - w->cfg_written_ms;
        hist_add(&w->st.cfg_us, lag > 0 ? (uint64_t)lag * 1000 : 0);
        w->cfg_written_ms = 0;
    }
    if (!cfg_diff(&cfg_charger_schema, &old, &w->base_cfg))
        return;
    log_info("fleet config changed");
    for (size_t i = 0; i < w->n; i++)
        crt_base_changed(w->by_index[i], &old);
}

static void apply_assignment(struct worker *w, int64_t epoch, const struct rset *ranges);
static void prepare_layers(struct worker *w);
static void recompute_all(struct worker *w);

static void release_all(struct worker *w)
{
    /* Release from the end: removal shifts the array. */
    for (size_t i = w->n; i-- > 0;)
        if (i < w->n)
            crt_release(w->by_index[i]);
}

static void on_fleet_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct worker *w = rds_privdata(r);
    if (!rds_reply_ok(reply))
        return;
    struct kvlist in = KVLIST_INIT;
    struct fleet_cfg old = w->fleet;
    rds_reply_kv(reply, &in);
    struct reject_scope rs = {w, "fleet", false};
    cfg_layer_accept(&cfg_fleet_schema, &w->fleet_acc, &w->fleet_rej, &in, worker_config_rejected,
                     &rs);
    kv_free(&in);
    cfg_defaults(&cfg_fleet_schema, &w->fleet);
    cfg_apply_layer(&cfg_fleet_schema, &w->fleet, &w->fleet_acc);
    w->fleet_loaded = true;
    if (strcmp(old.id_format, w->fleet.id_format) != 0) {
        struct idfmt f;
        if (idfmt_parse(&f, w->fleet.id_format, NULL) == CS_OK) {
            w->idf = f;
            if (w->n) {
                /* Every ID changes: hand the chargers back and take them again. */
                log_info("id_format is now %s: restarting this worker's chargers",
                         w->fleet.id_format);
                struct rset keep = RSET_INIT;
                rset_copy(&keep, &w->assigned);
                release_all(w);
                rset_clear(&w->assigned);
                apply_assignment(w, w->epoch, &keep);
                rset_free(&keep);
            }
        }
    }
    if (old.ramp_per_s != w->fleet.ramp_per_s)
        crt_ramp_kick(w);
    if (old.size != w->fleet.size || old.seed != w->fleet.seed) {
        /* random: layer selectors pick from the fleet: pick again. */
        prepare_layers(w);
        recompute_all(w);
    }
}

const struct jtmpl *worker_catalog_get(struct worker *w, const char *name)
{
    for (size_t i = 0; i < w->catalog_src.n; i++)
        if (strcmp(w->catalog_src.v[i].key, name) == 0)
            return w->catalog[i];
    return NULL;
}

static void free_catalog(struct worker *w)
{
    for (size_t i = 0; i < w->catalog_src.n; i++)
        jtmpl_free(w->catalog[i]);
    cs_free(w->catalog);
    w->catalog = NULL;
    kv_free(&w->catalog_src);
}

static void on_catalog_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct worker *w = rds_privdata(r);
    if (!rds_reply_ok(reply))
        return;
    struct kvlist in = KVLIST_INIT, rej = KVLIST_INIT;
    rds_reply_kv(reply, &in);
    free_catalog(w);
    w->catalog = cs_calloc(in.n ? in.n : 1, sizeof(*w->catalog));
    for (size_t i = 0; i < in.n; i++) {
        struct cs_error err;
        const char *name = in.v[i].key, *src = in.v[i].val;
        bool named = catalog_name_valid(name) && !catalog_lookup(name);
        struct jtmpl *t = named ? jtmpl_compile(src, strlen(src), &err) : NULL;
        if (catalog_lookup(name))
            cs_error_set(&err, CS_ERR_STATE, "'%s' is a built-in message", name);
        else if (!named)
            cs_error_set(&err, CS_ERR_PARSE, "'%.64s' is not a message name ([A-Za-z0-9_], 1..%d)",
                         name, CATALOG_NAME_MAX);
        if (!t) {
            /* Broken templates stay out; report each distinct one once. */
            kv_set(&rej, name, src);
            const char *before = kv_get(&w->catalog_rej, name);
            if (w->slot == 0 && !(before && strcmp(before, src) == 0)) {
                struct kvlist f = KVLIST_INIT;
                kv_set(&f, "message", name);
                kv_set(&f, "error", err.msg);
                log_warn("catalog: %s refused: %s", name, err.msg);
                worker_event(w, "catalog_rejected", &f);
                kv_free(&f);
            }
            continue;
        }
        w->catalog[w->catalog_src.n] = t;
        kv_set(&w->catalog_src, name, src);
    }
    kv_free(&w->catalog_rej);
    w->catalog_rej = rej;
    kv_free(&in);
}

static void load_catalog(struct worker *w)
{
    char k[CS_KEY_MAX];
    rds_cmd(w->rc, on_catalog_loaded, NULL, "HGETALL %s", worker_key(w, k, K_CATALOG, NULL));
}

/* ---- config layers ------------------------------------------------------------------------- */

static void free_layer(struct layer *l)
{
    cs_free(l->name);
    sel_free(l->sel);
    kv_free(&l->acc);
    kv_free(&l->rej);
}

static struct layer *find_layer(struct worker *w, const char *name)
{
    for (size_t i = 0; i < w->nlayers; i++)
        if (strcmp(w->layers[i].name, name) == 0)
            return &w->layers[i];
    return NULL;
}

/* One ZRANGE of {ns}:layers, then one HGETALL per layer; committed when all are in. */
struct layers_load {
    struct worker *w;
    uint64_t gen;
    size_t n, pending;
    bool failed;
    char **names;
    double *orders;
    struct kvlist *raw;
    struct layers_req {
        struct layers_load *ld;
        size_t i;
    } *req;
};

static void layers_load_free(struct layers_load *ld)
{
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

static void recompute_all(struct worker *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (!w->by_index[i]->releasing)
            crt_layers_changed(w->by_index[i]);
}

static void prepare_layers(struct worker *w)
{
    for (size_t i = 0; i < w->nlayers; i++)
        if (w->layers[i].sel)
            sel_prepare(w->layers[i].sel, (uint32_t)w->fleet.size, (uint64_t)w->fleet.seed);
}

static void commit_layers(struct layers_load *ld)
{
    struct worker *w = ld->w;
    if (ld->failed || ld->gen != w->layers_gen) {
        layers_load_free(ld);
        return;
    }
    struct layer *next = cs_calloc(ld->n ? ld->n : 1, sizeof(*next));
    size_t nn = 0;
    for (size_t i = 0; i < ld->n; i++) {
        struct layer *l = &next[nn];
        struct layer *old = find_layer(w, ld->names[i]);
        char scope[CS_KEY_MAX];
        struct cs_error err;
        const char *text = kv_get(&ld->raw[i], CS_LAYER_SELECT_FIELD);
        l->name = cs_strdup(ld->names[i]);
        l->order = ld->orders[i];
        l->sel = text ? sel_parse(text, &w->idf, &err) : NULL;
        if (!l->sel) {
            if (!text)
                cs_error_set(&err, CS_ERR_NOTFOUND, "layer %s has no %s field", l->name,
                             CS_LAYER_SELECT_FIELD);
            if (w->slot == 0) {
                struct kvlist f = KVLIST_INIT;
                kv_set(&f, "layer", l->name);
                kv_set(&f, "error", err.msg);
                log_warn("config layer %s ignored: %s", l->name, err.msg);
                worker_event(w, "layer_rejected", &f);
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
        struct reject_scope rs = {w, scope, false};
        cfg_layer_accept(&cfg_charger_schema, &l->acc, &l->rej, &ld->raw[i],
                         worker_config_rejected, &rs);
        nn++;
    }
    for (size_t i = 0; i < w->nlayers; i++)
        free_layer(&w->layers[i]);
    cs_free(w->layers);
    w->layers = next;
    w->nlayers = nn;
    prepare_layers(w);
    recompute_all(w);
    layers_load_free(ld);
}

static void on_layer_hash(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct layers_req *q = privdata;
    struct layers_load *ld = q->ld;
    if (!rds_reply_ok(reply))
        ld->failed = true;
    else
        rds_reply_kv(reply, &ld->raw[q->i]);
    if (--ld->pending == 0)
        commit_layers(ld);
}

static void on_layers_list(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    struct layers_load *ld = privdata;
    char k[CS_KEY_MAX];
    if (!rds_reply_ok(reply)) {
        layers_load_free(ld);
        return;
    }
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
        if (rds_cmd(r, on_layer_hash, &ld->req[i],
                    "HGETALL %s", worker_key(ld->w, k, K_LAYER, ld->names[i])) != CS_OK) {
            ld->pending--;
            ld->failed = true;
        }
    }
    if (--ld->pending == 0)
        commit_layers(ld);
}

static void load_layers(struct worker *w)
{
    char k[CS_KEY_MAX];
    struct layers_load *ld = cs_calloc(1, sizeof(*ld));
    ld->w = w;
    ld->gen = ++w->layers_gen;
    if (rds_cmd(w->rc, on_layers_list, ld, "ZRANGE %s 0 -1 WITHSCORES",
                worker_key(w, k, K_LAYERS, NULL)) != CS_OK)
        layers_load_free(ld);
}

static void load_fleet(struct worker *w)
{
    char k[CS_KEY_MAX];
    rds_cmd(w->rc, on_fleet_loaded, NULL, "HGETALL %s", worker_key(w, k, K_FLEET, NULL));
}

static void load_cfg(struct worker *w)
{
    char k[CS_KEY_MAX];
    rds_cmd(w->rc, on_cfg_loaded, NULL, "HGETALL %s", worker_key(w, k, K_CFG, NULL));
}

static void reload_chargers(struct worker *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (!w->by_index[i]->releasing)
            crt_reload(w->by_index[i]);
}

/* ---- assignment ------------------------------------------------------------------------------ */

static void apply_assignment(struct worker *w, int64_t epoch, const struct rset *ranges)
{
    struct rset held = RSET_INIT, add = RSET_INIT;
    if (epoch < w->epoch) {
        log_debug("ignoring assignment of stale epoch %lld (have %lld)", (long long)epoch,
                  (long long)w->epoch);
        return;
    }
    bool changed = !rset_equal(ranges, &w->assigned);
    w->epoch = epoch;
    rset_copy(&w->assigned, ranges);
    w->assign_loaded = true;
    if (w->stopping)
        return;

    for (size_t i = w->n; i-- > 0;) {
        if (i >= w->n)
            continue;
        struct charger_rt *ch = w->by_index[i];
        if (!rset_contains(ranges, ch->m.index))
            crt_release(ch);
    }
    for (size_t i = 0; i < w->n; i++)
        rset_add(&held, w->by_index[i]->m.index, w->by_index[i]->m.index);
    rset_subtract(&add, ranges, &held);
    uint64_t want = rset_count(&add), added = 0;
    for (size_t r = 0; r < add.n; r++) {
        for (uint64_t i = add.r[r].lo; i <= add.r[r].hi; i++) {
            if (!crt_add(w, (uint32_t)i))
                goto full;
            added++;
        }
    }
full:
    if (added < want)
        log_error("assignment of %llu chargers exceeds the free slots; %llu not started",
                  (unsigned long long)rset_count(ranges), (unsigned long long)(want - added));
    if (changed) {
        struct buf b = BUF_INIT;
        rset_format(ranges, &b);
        log_info("assignment epoch %lld: %llu chargers (%s)", (long long)epoch,
                 (unsigned long long)rset_count(ranges), b.len ? b.s : "none");
        buf_free(&b);
    }
    rset_free(&held);
    rset_free(&add);
}

/* Indexes this worker still runs, including chargers on their way out. */
static void held_ranges(struct worker *w, struct buf *out)
{
    struct rset held = RSET_INIT;
    for (size_t i = 0; i < w->n; i++)
        rset_add(&held, w->by_index[i]->m.index, w->by_index[i]->m.index);
    rset_format(&held, out);
    rset_free(&held);
}

static void lease_refresh(struct worker *w);

void worker_charger_gone(struct worker *w)
{
    /* Tell the coordinator soon that the indexes are free (debounced by the timer). */
    if (!w->stopping) {
        struct timeval tv = {0, 50 * 1000};
        evtimer_add(w->lease_ev, &tv);
        /* An index granted again while its previous instance was closing starts now. */
        struct rset again = RSET_INIT;
        rset_copy(&again, &w->assigned);
        apply_assignment(w, w->epoch, &again);
        rset_free(&again);
        return;
    }
    if (w->n == 0)
        event_active(w->stop_ev, 0, 0);
}

/* ---- lease ------------------------------------------------------------------------------------ */

/* The lease lapsed and nobody told us whose chargers these are now. While Redis itself is down
 * (it closed on us, it refuses connects) nobody can reassign them and they keep running; when
 * Redis has gone silent (a partition, a hung server) the coordinator may already have given them
 * away: drop every link now, so that when the network returns no charger reconnects under an ID
 * another worker holds. */
static void check_lease(struct worker *w)
{
    int64_t now = cs_mono_ms();
    if (w->parked || !w->lease_ok_ms || w->stopping || now - w->lease_ok_ms <= w->fleet.lease_ms)
        return;
    if (rds_server_down(w->rc))
        return;
    if (w->lease_inflight && now - w->lease_sent_ms < LEASE_REPLY_WAIT_MS)
        return; /* Redis is back and our refresh is on its way */
    size_t dropped = 0;
    w->parked = true;
    w->st.lease_lost++;
    for (size_t i = 0; i < w->n; i++) {
        struct charger_rt *ch = w->by_index[i];
        crt_park(ch);
        dropped += ch->parked;
    }
    log_warn("lease lapsed %lld ms ago and Redis does not answer: dropped %zu chargers until the "
             "lease is confirmed",
             (long long)(now - w->lease_ok_ms), dropped);
    /* Anything buffered for the silent connection (state of chargers that may be someone
     * else's by the time it would arrive) goes with it. */
    rds_reconnect(w->rc);
}

static void unpark(struct worker *w)
{
    size_t back = 0;
    w->parked = false;
    for (size_t i = 0; i < w->n; i++) {
        struct charger_rt *ch = w->by_index[i];
        back += ch->parked;
        crt_unpark(ch);
    }
    log_info("lease confirmed again: %zu chargers are still ours and reconnect", back);
    char nb[24];
    snprintf(nb, sizeof(nb), "%zu", back);
    struct kvlist f = KVLIST_INIT;
    kv_set(&f, "chargers", nb);
    worker_event(w, "lease_regained", &f);
    kv_free(&f);
}

static void on_assign_read(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    int64_t sent_ms = (int64_t)(intptr_t)privdata;
    struct worker *w = rds_privdata(r);
    w->lease_inflight = false;
    if (!rds_reply_ok(reply) || rds_reply_len(reply) != 2)
        return;
    /* The lease was written before this read: it holds from when it was sent. */
    if (!w->lease_ok_ms) {
        log_info("registered; lease %d ms", w->fleet.lease_ms);
        if (w->ready_fd >= 0) {
            ssize_t n = write(w->ready_fd, "R", 1);
            (void)n;
            close(w->ready_fd);
            w->ready_fd = -1;
        }
    }
    w->lease_ok_ms = sent_ms;

    const char *ranges = rds_reply_str(rds_reply_at(reply, 0), NULL);
    long long epoch = rds_reply_num(rds_reply_at(reply, 1), 0);
    struct rset set = RSET_INIT;
    struct cs_error err;
    if (ranges && rset_parse(&set, ranges, &err) != CS_OK) {
        log_warn("assignment in Redis does not parse: %s", err.msg);
        rset_free(&set);
        return;
    }
    if (!ranges)
        rset_clear(&set);
    /* An older epoch than ours means Redis lost the assignment (restart without persistence):
     * keep running until the coordinator has rebuilt it. */
    if (epoch > w->epoch || (epoch == w->epoch && !w->assign_loaded))
        apply_assignment(w, epoch, &set);
    rset_free(&set);
    /* Only now, with what is ours known again, may parked chargers come back. */
    if (w->parked)
        unpark(w);
    crt_ramp_kick(w);
}

static void lease_refresh(struct worker *w)
{
    char key[CS_KEY_MAX], idx[CS_KEY_MAX], asg[CS_KEY_MAX], host[128], pid[16], slot[16], cap[16],
        ver[32], started[24], epoch[24], nch[16], conn[16], now[24], lease[16];
    struct buf held = BUF_INIT;
    if (!rds_is_up(w->rc) || w->lease_inflight)
        return;
    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    snprintf(slot, sizeof(slot), "%d", w->slot);
    snprintf(cap, sizeof(cap), "%u", w->nslots);
    snprintf(ver, sizeof(ver), "%s", CS_VERSION);
    snprintf(started, sizeof(started), "%lld", (long long)w->started_ms);
    snprintf(epoch, sizeof(epoch), "%lld", (long long)w->epoch);
    snprintf(nch, sizeof(nch), "%zu", w->n);
    snprintf(conn, sizeof(conn), "%llu", (unsigned long long)w->st.connected);
    snprintf(now, sizeof(now), "%lld", (long long)cs_now_ms());
    snprintf(lease, sizeof(lease), "%d", w->fleet.lease_ms);
    held_ranges(w, &held);
    worker_key(w, key, K_AGENT, w->name);
    const char *argv[] = {"HSET",     key,  "host",      host,    "pid",        pid,
                          "slot",     slot, "capacity",  cap,     "version",    ver,
                          "started_ms", started, "held", buf_cstr(&held), "epoch", epoch,
                          "chargers", nch,  "connected", conn,    "refreshed_ms", now};
    int64_t sent = cs_mono_ms();
    if (rds_cmdv(w->rc, NULL, NULL, ARRAY_SIZE(argv), argv, NULL) == CS_OK) {
        w->lease_sent_ms = sent;
        rds_cmd(w->rc, NULL, NULL, "PEXPIRE %s %s", key, lease);
        rds_cmd(w->rc, NULL, NULL, "ZADD %s %s %s", worker_key(w, idx, K_AGENTS, NULL), now,
                w->name);
        w->lease_inflight =
            rds_cmd(w->rc, on_assign_read, (void *)(intptr_t)sent, "HMGET %s %s %s",
                    worker_key(w, asg, K_ASSIGN, NULL), w->name, CS_ASSIGN_EPOCH_FIELD) == CS_OK;
    }
    buf_free(&held);
    /* Chargers whose config or state could not be read yet try again. */
    for (size_t i = 0; i < w->n; i++)
        if (w->by_index[i]->link == LINK_LOADING)
            crt_reload(w->by_index[i]);
}

static void on_lease_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct worker *w = privdata;
    if (w->stopping)
        return;
    lease_refresh(w);
    int64_t period = w->fleet.lease_ms / 3;
    struct timeval tv = {period / 1000, (period % 1000) * 1000};
    evtimer_add(w->lease_ev, &tv);
}

/* ---- commands ------------------------------------------------------------------------------- */

struct result {
    uint64_t matched, done;
    int64_t run;          /* scheduled commands: which run this is */
    int64_t scheduled_ms; /* the first run of a command just scheduled */
    int nerr;
    uint64_t more_err;
    struct buf errs; /* JSON array items */
    struct jw j;
};

static void res_init(struct result *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->errs);
    jw_init(&r->j, &r->errs);
    jw_arr(&r->j);
}

static void res_error(struct result *r, const char *msg)
{
    if (r->nerr < MAX_REPLY_ERRORS) {
        jw_str(&r->j, msg);
        r->nerr++;
    } else {
        r->more_err++;
    }
}

static void send_reply(struct worker *w, const char *id, const char *verb, struct result *r,
                       int64_t t0_us, int64_t ts_ms)
{
    char ch[CS_KEY_MAX];
    struct buf b = BUF_INIT;
    struct jw j;
    if (r->more_err) {
        char more[64];
        snprintf(more, sizeof(more), "... and %llu more", (unsigned long long)r->more_err);
        jw_str(&r->j, more);
    }
    jw_end(&r->j);
    jw_init(&j, &b);
    jw_obj(&j);
    jw_key(&j, "id");
    if (id && *id)
        jw_str(&j, id);
    else
        jw_null(&j);
    jw_kstr(&j, "worker", w->name);
    jw_kstr(&j, "cmd", verb ? verb : "");
    jw_kint(&j, "matched", (int64_t)r->matched);
    jw_kint(&j, "done", (int64_t)r->done);
    jw_key(&j, "errors");
    jw_raw(&j, r->errs.s, r->errs.len);
    if (r->run)
        jw_kint(&j, "run", r->run);
    if (r->scheduled_ms) {
        char at[32];
        jw_kstr(&j, "scheduled", cs_fmt_iso8601(at, sizeof(at), r->scheduled_ms));
    }
    jw_kdouble(&j, "ms", (double)(cs_mono_us() - t0_us) / 1000.0, 3);
    if (ts_ms)
        jw_kint(&j, "lag_ms", cs_now_ms() - ts_ms);
    jw_end(&j);
    rds_cmd(w->rc, NULL, NULL, "PUBLISH %s %b", worker_key(w, ch, CH_REPLY, NULL), b.s, b.len);
    buf_free(&b);
}

typedef void cmd_handler_fn(struct worker *w, const struct cmd *c, const struct sel *s,
                            struct result *r);

/* Per-charger action of a selector verb. */
typedef int charger_action_fn(struct charger_rt *ch, const struct cmd *c, void *arg,
                              struct cs_error *err);

/* where: reads the charger's effective config (secrets stay masked). */
static bool charger_cfg_value(void *privdata, const char *key, struct buf *out)
{
    const struct charger_rt *ch = privdata;
    const struct cfg_def *d = cfg_lookup(&cfg_charger_schema, key);
    if (!d)
        return false;
    cfg_format(d, crt_cfg(ch), true, out);
    return true;
}

static void for_selected(struct worker *w, const struct cmd *c, const struct sel *s,
                         struct result *r, charger_action_fn *fn, void *arg)
{
    for (size_t i = 0; i < w->n; i++) {
        struct charger_rt *ch = w->by_index[i];
        if (ch->releasing)
            continue;
        struct sel_subject subj = {ch->m.id, ch->m.index, w->name, charger_cfg_value, ch};
        if (!sel_match(s, &subj))
            continue;
        r->matched++;
        struct cs_error err;
        if (fn(ch, c, arg, &err) == CS_OK)
            r->done++;
        else
            res_error(r, err.msg);
    }
}

static bool parse_connector(const struct cmd *c, int *out, struct result *r)
{
    const char *v = kv_get(&c->args, "connector");
    int64_t n;
    *out = -1;
    if (!v)
        return true;
    if (!cs_parse_i64(v, 0, CHARGER_MAX_CONN, &n)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%s: connector must be 0..%d", c->def->name, CHARGER_MAX_CONN);
        res_error(r, msg);
        return false;
    }
    *out = (int)n;
    return true;
}

/* Reads a numeric argument; false (with an error in the reply) when it is malformed. */
static bool num_arg(const struct cmd *c, const char *key, double lo, double hi, double *out,
                    struct result *r)
{
    const char *v = kv_get(&c->args, key);
    *out = 0;
    if (!v)
        return true;
    if (cs_parse_double(v, lo, hi, out))
        return true;
    char msg[160];
    snprintf(msg, sizeof(msg), "%s: %s must be a number in %g..%g", c->def->name, key, lo, hi);
    res_error(r, msg);
    return false;
}

struct trigger_arg {
    const char *msg;
    int connector;
    struct kvlist over;
};

static int act_trigger(struct charger_rt *ch, const struct cmd *c, void *arg, struct cs_error *err)
{
    (void)c;
    struct trigger_arg *t = arg;
    return session_trigger(ch, t->msg, t->connector, &t->over, err);
}

static void h_trigger(struct worker *w, const struct cmd *c, const struct sel *s, struct result *r)
{
    struct trigger_arg t = {cmd_pos(c, "msg"), -1, KVLIST_INIT};
    if (!catalog_lookup(t.msg) && !worker_catalog_get(w, t.msg)) {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "trigger: unknown message '%.40s' (built-in: %s; or a name in %s:catalog)",
                 t.msg, catalog_names(), w->ns);
        res_error(r, msg);
        return;
    }
    if (!parse_connector(c, &t.connector, r))
        return;
    kv_copy(&t.over, &c->args);
    kv_del(&t.over, "connector");
    for_selected(w, c, s, r, act_trigger, &t);
    kv_free(&t.over);
}

struct status_arg {
    enum ocpp_status st;
    enum ocpp_error e;
    int connector;
    const char *info;
};

static int act_status(struct charger_rt *ch, const struct cmd *c, void *arg, struct cs_error *err)
{
    (void)c;
    struct status_arg *a = arg;
    return session_status(ch, a->connector, a->st, a->e, a->info, err);
}

static void h_status(struct worker *w, const struct cmd *c, const struct sel *s, struct result *r)
{
    struct status_arg a = {ST_AVAILABLE, OE_NO_ERROR, -1, kv_get(&c->args, "info")};
    char msg[200];
    if (!ocpp_status_parse(cmd_pos(c, "status"), &a.st)) {
        snprintf(msg, sizeof(msg),
                 "status: unknown status '%.40s' (Available, Preparing, Charging, SuspendedEV, "
                 "SuspendedEVSE, Finishing, Reserved, Unavailable, Faulted)",
                 cmd_pos(c, "status"));
        res_error(r, msg);
        return;
    }
    const char *code = kv_get(&c->args, "errorCode");
    a.e = a.st == ST_FAULTED ? OE_OTHER_ERROR : OE_NO_ERROR;
    if (code && !ocpp_error_parse(code, &a.e)) {
        snprintf(msg, sizeof(msg), "status: unknown errorCode '%.40s'", code);
        res_error(r, msg);
        return;
    }
    if (!parse_connector(c, &a.connector, r))
        return;
    for_selected(w, c, s, r, act_status, &a);
}

/* The session verbs: one argument block, one action per verb. */
struct session_arg {
    int connector;
    char id_tag[21];
    double kw, kwh, minutes, seconds;
    enum stop_reason reason;
    enum ocpp_error code;
    const char *info;
};

static int act_session(struct charger_rt *ch, const struct cmd *c, void *arg,
                       struct cs_error *err)
{
    struct session_arg *a = arg;
    switch (c->def->verb) {
    case CMD_START:
        return session_start(ch, a->connector, a->id_tag[0] ? a->id_tag : NULL, a->kw, a->kwh,
                             a->minutes, false, err);
    case CMD_STOP: return session_stop(ch, a->connector, a->reason, err);
    case CMD_PLUG: return session_plug(ch, a->connector, err);
    case CMD_UNPLUG: return session_unplug(ch, a->connector, err);
    case CMD_FAULT: return session_fault(ch, a->connector, a->code, a->info, err);
    case CMD_CLEAR: return session_clear(ch, a->connector, err);
    case CMD_REBOOT: session_reboot(ch, false, SR_REBOOT); return CS_OK;
    case CMD_OFFLINE: return session_offline(ch, (int)a->seconds, err);
    case CMD_ONLINE: return session_online(ch, err);
    default: return cs_error_set(err, CS_ERR_INVAL, "not a session verb");
    }
}

static void h_session(struct worker *w, const struct cmd *c, const struct sel *s,
                      struct result *r)
{
    struct session_arg a = {.reason = SR_LOCAL, .code = OE_OTHER_ERROR};
    char msg[200];
    const char *v;
    if (!parse_connector(c, &a.connector, r) || !num_arg(c, "kw", 0.1, 1000, &a.kw, r) ||
        !num_arg(c, "kwh", 0.01, 10000, &a.kwh, r) ||
        !num_arg(c, "minutes", 0.01, 100000, &a.minutes, r) ||
        !num_arg(c, "seconds", 1, 86400 * 7, &a.seconds, r))
        return;
    if ((v = kv_get(&c->args, "id_tag"))) {
        if (strlen(v) > 20 || !*v) {
            res_error(r, "start: id_tag must be 1..20 characters (OCPP idTag)");
            return;
        }
        cs_strlcpy(a.id_tag, v, sizeof(a.id_tag));
    }
    if ((v = kv_get(&c->args, "reason")) && !stop_reason_parse(v, &a.reason)) {
        snprintf(msg, sizeof(msg), "stop: unknown reason '%.40s'", v);
        res_error(r, msg);
        return;
    }
    if ((v = kv_get(&c->args, "code")) && !ocpp_error_parse(v, &a.code)) {
        snprintf(msg, sizeof(msg), "fault: unknown code '%.40s' (an OCPP ChargePointErrorCode)",
                 v);
        res_error(r, msg);
        return;
    }
    a.info = kv_get(&c->args, "info");
    if (a.info && strlen(a.info) > 50) {
        res_error(r, "fault: info is at most 50 characters (OCPP)");
        return;
    }
    for_selected(w, c, s, r, act_session, &a);
}

static int act_pause(struct charger_rt *ch, const struct cmd *c, void *arg, struct cs_error *err)
{
    (void)c;
    (void)err;
    crt_pause(ch, *(bool *)arg);
    return CS_OK;
}

static void h_pause(struct worker *w, const struct cmd *c, const struct sel *s, struct result *r)
{
    bool on = c->def->verb == CMD_PAUSE;
    for_selected(w, c, s, r, act_pause, &on);
}

static void h_reload(struct worker *w, const struct cmd *c, const struct sel *s, struct result *r)
{
    (void)s;
    const char *key = cmd_pos(c, "key");
    char prefix[CS_KEY_MAX];
    if (key) {
        /* Accept "cfg" as well as the full key name "swarm:cfg". */
        snprintf(prefix, sizeof(prefix), "%s:", w->ns);
        if (strncmp(key, prefix, strlen(prefix)) == 0)
            key += strlen(prefix);
    }
    if (!key || strcmp(key, "fleet") == 0)
        load_fleet(w);
    if (!key || strcmp(key, "cfg") == 0) {
        if (c->ts_ms)
            w->cfg_written_ms = c->ts_ms;
        load_cfg(w);
    }
    if (!key || strcmp(key, "catalog") == 0)
        load_catalog(w);
    if (!key || strcmp(key, "layers") == 0 || strncmp(key, "cfg:layer:", 10) == 0)
        load_layers(w);
    if (!key) {
        reload_chargers(w);
        r->matched = r->done = w->n;
        return;
    }
    if (strncmp(key, "charger:", 8) == 0) {
        uint32_t index;
        struct charger_rt *ch = idfmt_index(&w->idf, key + 8, &index) ? crt_find(w, index) : NULL;
        if (ch) {
            crt_reload(ch);
            r->matched = r->done = 1;
        }
        return;
    }
    if (strcmp(key, "fleet") != 0 && strcmp(key, "cfg") != 0 && strcmp(key, "catalog") != 0 &&
        strcmp(key, "layers") != 0 && strncmp(key, "cfg:layer:", 10) != 0) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "reload: unknown key '%.60s' (cfg, fleet, catalog, layers or charger:ID)", key);
        res_error(r, msg);
        return;
    }
    r->matched = r->done = w->n;
}

static void h_ping(struct worker *w, const struct cmd *c, const struct sel *s, struct result *r)
{
    (void)c;
    (void)s;
    crt_gauges(w);
    r->matched = w->n;
    r->done = w->st.connected;
}

static void h_assign(struct worker *w, const struct cmd *c, const struct sel *s, struct result *r)
{
    (void)s;
    const char *e = kv_get(&c->args, "epoch"), *rg = kv_get(&c->args, "ranges");
    int64_t epoch;
    struct rset set = RSET_INIT;
    struct cs_error err;
    if (!e || !cs_parse_i64(e, 0, INT64_MAX / 2, &epoch)) {
        res_error(r, "assign: epoch= must be a non-negative integer");
        return;
    }
    if (rset_parse(&set, rg ? rg : "", &err) != CS_OK) {
        res_error(r, err.msg);
        rset_free(&set);
        return;
    }
    apply_assignment(w, epoch, &set);
    r->matched = r->done = rset_count(&set);
    rset_free(&set);
}

struct chaos_arg {
    const char *kind;
    const char *msg;
};

static int act_chaos(struct charger_rt *ch, const struct cmd *c, void *arg, struct cs_error *err)
{
    struct chaos_arg *a = arg;
    switch (c->def->verb) {
    case CMD_GARBLE: return crt_garble(ch, a->kind, a->msg, err);
    case CMD_DUP: return crt_dup_next(ch, err);
    case CMD_STORM: return crt_storm(ch, err);
    default: return cs_error_set(err, CS_ERR_INVAL, "not a chaos verb");
    }
}

static void h_chaos(struct worker *w, const struct cmd *c, const struct sel *s, struct result *r)
{
    struct chaos_arg a = {kv_get(&c->args, "kind"), kv_get(&c->args, "msg")};
    if (a.msg && !catalog_name_valid(a.msg)) {
        res_error(r, "garble: msg= must be a message name ([A-Za-z0-9_], 1..64)");
        return;
    }
    if (a.kind && !crt_garble_kind_valid(a.kind)) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "garble: unknown kind '%.40s' (truncated, notjson, wrongtype, empty, binary)",
                 a.kind);
        res_error(r, msg);
        return;
    }
    for_selected(w, c, s, r, act_chaos, &a);
}

static void h_cancel(struct worker *w, const struct cmd *c, const struct sel *s,
                     struct result *r);

/* Dispatch, indexed by verb: the table in cmd.c is the single list of verbs. */
static cmd_handler_fn *const handlers[] = {
    [CMD_TRIGGER] = h_trigger, [CMD_START] = h_session,  [CMD_STOP] = h_session,
    [CMD_PLUG] = h_session,    [CMD_UNPLUG] = h_session, [CMD_FAULT] = h_session,
    [CMD_CLEAR] = h_session,   [CMD_REBOOT] = h_session, [CMD_OFFLINE] = h_session,
    [CMD_ONLINE] = h_session,  [CMD_STATUS] = h_status,  [CMD_PAUSE] = h_pause,
    [CMD_RESUME] = h_pause,    [CMD_RELOAD] = h_reload,  [CMD_PING] = h_ping,
    [CMD_CANCEL] = h_cancel,   [CMD_GARBLE] = h_chaos,   [CMD_DUP] = h_chaos,
    [CMD_STORM] = h_chaos,     [CMD_ASSIGN] = h_assign,
};
_Static_assert(ARRAY_SIZE(handlers) == CMD__COUNT, "a verb has no handler");

/* Every row of the command table has a handler (checked once at start). */
static bool handlers_complete(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(handlers); i++)
        if (!handlers[i])
            return false;
    return true;
}

/* ---- scheduled commands -------------------------------------------------------------------- */

struct sched {
    struct sched *next;
    struct worker *w;
    char id[CMD_ID_MAX + 1];
    char *text;         /* the command without its scheduling, JSON form */
    int64_t next_ms;    /* wall clock of the next run */
    int64_t every_ms;
    int64_t remaining;  /* runs left; -1 = until cancelled */
    int64_t runs;
    struct event *ev;
};

static void execute(struct worker *w, struct cmd *c, int64_t t0, int64_t run);

static void sched_free(struct sched *s)
{
    event_free(s->ev);
    cs_free(s->text);
    cs_free(s);
}

static void sched_unlink(struct worker *w, struct sched *s)
{
    for (struct sched **pp = &w->scheds; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            return;
        }
}

static void sched_arm(struct sched *s)
{
    int64_t left = s->next_ms - cs_now_ms();
    if (left < 0)
        left = 0;
    struct timeval tv = {left / 1000, (left % 1000) * 1000};
    evtimer_add(s->ev, &tv);
}

static void on_sched_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct sched *s = privdata;
    struct worker *w = s->w;
    struct cmd c;
    struct cs_error err;
    if (cmd_parse(s->text, strlen(s->text), &c, &err) == CS_OK) {
        s->runs++;
        execute(w, &c, cs_mono_us(), s->runs);
        cmd_free(&c);
    }
    if (s->remaining > 0)
        s->remaining--;
    if (s->every_ms && s->remaining != 0 && !w->stopping) {
        /* Keep the cadence; runs missed while the loop was busy are skipped, not bunched. */
        int64_t now = cs_now_ms();
        do
            s->next_ms += s->every_ms;
        while (s->next_ms <= now);
        sched_arm(s);
        return;
    }
    sched_unlink(w, s);
    sched_free(s);
}

static void schedule_command(struct worker *w, struct cmd *c, struct result *r)
{
    struct sched *s = cs_calloc(1, sizeof(*s));
    struct buf text = BUF_INIT;
    s->w = w;
    cs_strlcpy(s->id, c->id, sizeof(s->id));
    s->next_ms = c->at_ms ? c->at_ms : cs_now_ms() + c->in_ms + (c->in_ms ? 0 : c->every_ms);
    s->every_ms = c->every_ms;
    s->remaining = c->every_ms ? (c->count ? c->count : -1) : 1;
    c->at_ms = c->in_ms = c->every_ms = c->count = 0;
    c->log_id[0] = '\0';
    cmd_to_json(c, &text);
    s->text = buf_detach(&text);
    s->ev = evtimer_new(w->base, on_sched_timer, s);
    s->next = w->scheds;
    w->scheds = s;
    sched_arm(s);
    r->scheduled_ms = s->next_ms;
}

static void h_cancel(struct worker *w, const struct cmd *c, const struct sel *s, struct result *r)
{
    (void)s;
    const char *id = cmd_pos(c, "cmd_id");
    for (struct sched **pp = &w->scheds; *pp;) {
        struct sched *x = *pp;
        if (strcmp(x->id, id) == 0) {
            *pp = x->next;
            sched_free(x);
            r->done++;
        } else {
            pp = &x->next;
        }
    }
    r->matched = r->done;
}

/* ---- the command pipeline ------------------------------------------------------------------- */

static bool seen_before(struct worker *w, const char *id)
{
    if (!id[0])
        return false; /* no id (plain redis-cli): at-most-once, nothing to recognise */
    for (unsigned i = 0; i < ARRAY_SIZE(w->recent); i++)
        if (strcmp(w->recent[i], id) == 0)
            return true;
    cs_strlcpy(w->recent[w->recent_pos], id, sizeof(w->recent[0]));
    w->recent_pos = (w->recent_pos + 1) % ARRAY_SIZE(w->recent);
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

static void note_log(struct worker *w, const char *log_id)
{
    if (log_id[0] && (!w->log_seen[0] || log_cmp(log_id, w->log_seen) > 0))
        cs_strlcpy(w->log_seen, log_id, sizeof(w->log_seen));
}

static void execute(struct worker *w, struct cmd *c, int64_t t0, int64_t run)
{
    struct cs_error err;
    struct result r;
    res_init(&r);
    r.run = run;
    struct sel *s = NULL;
    if (c->def->flags & CMD_F_SEL) {
        s = sel_parse(c->select, &w->idf, &err);
        if (!s) {
            w->st.cmd_errors++;
            res_error(&r, err.msg);
            send_reply(w, c->id, c->def->name, &r, t0, c->ts_ms);
            goto out;
        }
        sel_prepare(s, (uint32_t)w->fleet.size, (uint64_t)w->fleet.seed);
    }
    handlers[c->def->verb](w, c, s, &r);
    if (r.nerr)
        w->st.cmd_errors++;
    if (c->ts_ms && !run) {
        int64_t lag = cs_now_ms() - c->ts_ms;
        hist_add(&w->st.cmd_us, lag > 0 ? (uint64_t)lag * 1000 : 0);
    }
    send_reply(w, c->id, c->def->name, &r, t0, run ? 0 : c->ts_ms);
out:
    sel_free(s);
    buf_free(&r.errs);
}

#define DEFERRED_MAX 1000

static void handle_command(struct worker *w, const char *payload, size_t len)
{
    int64_t t0 = cs_mono_us();
    if (!rds_is_up(w->rc)) {
        /* Heard on the pub/sub connection while the command connection is still down: run it
         * once both are back, so its reply and the state it writes are not lost. */
        if (w->deferred.n < DEFERRED_MAX) {
            char key[24];
            snprintf(key, sizeof(key), "%zu", w->deferred.n);
            kv_setn(&w->deferred, key, strlen(key), payload, len);
        }
        return;
    }
    struct cmd c;
    struct cs_error err;
    w->st.cmds++;
    if (cmd_parse(payload, len, &c, &err) != CS_OK) {
        struct result r;
        char id[CMD_ID_MAX + 1];
        res_init(&r);
        cmd_salvage_id(payload, len, id);
        w->st.cmd_errors++;
        res_error(&r, err.msg);
        if (w->slot == 0)
            log_warn("bad command: %s", err.msg);
        send_reply(w, id, NULL, &r, t0, 0);
        buf_free(&r.errs);
        return;
    }
    note_log(w, c.log_id);
    if (seen_before(w, c.id)) {
        /* Redelivered (command log catch-up, or sent twice): handled once, answered once. */
        w->st.cmd_duplicates++;
        cmd_free(&c);
        return;
    }
    if (cmd_scheduled(&c)) {
        struct result r;
        res_init(&r);
        struct sel *s = NULL;
        if (c.def->flags & CMD_F_SEL && !(s = sel_parse(c.select, &w->idf, &err)))
            res_error(&r, err.msg); /* refused now rather than failing at every run */
        else
            schedule_command(w, &c, &r);
        sel_free(s);
        send_reply(w, c.id, c.def->name, &r, t0, c.ts_ms);
        buf_free(&r.errs);
        cmd_free(&c);
        return;
    }
    execute(w, &c, t0, 0);
    cmd_free(&c);
}

/* ---- the command log: catching up after a lost Redis connection -------------------------- */

static void on_log_tail(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct worker *w = rds_privdata(r);
    if (!rds_reply_ok(reply))
        return;
    /* Start from the end: what was issued before this worker existed is not its business. */
    const char *id = rds_reply_str(rds_reply_at(rds_reply_at(reply, 0), 0), NULL);
    if (!w->log_seen[0])
        cs_strlcpy(w->log_seen, id ? id : "0-0", sizeof(w->log_seen));
}

static void catch_up(struct worker *w);

static void on_log_range(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct worker *w = rds_privdata(r);
    w->log_catching_up = false;
    if (!rds_reply_ok(reply))
        return;
    size_t n = rds_reply_len(reply);
    for (size_t i = 0; i < n; i++) {
        const struct rds_reply *e = rds_reply_at(reply, i);
        const char *id = rds_reply_str(rds_reply_at(e, 0), NULL);
        struct kvlist f = KVLIST_INIT;
        rds_reply_kv(rds_reply_at(e, 1), &f);
        const char *to = kv_get(&f, "to"), *cmd = kv_get(&f, "cmd");
        bool mine = !to || strcmp(to, "*") == 0;
        for (const char *p = to; !mine && p && *p;) {
            size_t l = strcspn(p, ",");
            mine = l == strlen(w->name) && strncmp(p, w->name, l) == 0;
            p += l + (p[l] == ',');
        }
        if (id)
            note_log(w, id);
        if (mine && cmd) {
            w->st.cmds_caught_up++;
            handle_command(w, cmd, strlen(cmd));
        }
        kv_free(&f);
    }
    if (n == 200)
        catch_up(w); /* more to read */
}

/* Reads the command log from the last entry seen: commands published while this worker could
 * not hear them run now (their ids make a second delivery harmless). */
static void catch_up(struct worker *w)
{
    char k[CS_KEY_MAX], from[40];
    if (w->log_catching_up)
        return;
    worker_key(w, k, K_CMDLOG, NULL);
    if (!w->log_seen[0]) {
        rds_cmd(w->rc, on_log_tail, NULL, "XREVRANGE %s + - COUNT 1", k);
        return;
    }
    snprintf(from, sizeof(from), "(%s", w->log_seen);
    w->log_catching_up =
        rds_cmd(w->rc, on_log_range, NULL, "XRANGE %s %s + COUNT 200", k, from) == CS_OK;
}

/* ---- pub/sub ------------------------------------------------------------------------------ */

static void on_keyspace(struct worker *w, const char *key)
{
    size_t nl = strlen(w->ns);
    if (strncmp(key, w->ns, nl) != 0 || key[nl] != ':')
        return;
    const char *k = key + nl + 1;
    if (strcmp(k, "fleet") == 0) {
        load_fleet(w);
    } else if (strcmp(k, "cfg") == 0) {
        load_cfg(w);
    } else if (strcmp(k, "catalog") == 0) {
        load_catalog(w);
    } else if (strcmp(k, "layers") == 0 || strncmp(k, "cfg:layer:", 10) == 0) {
        load_layers(w);
    } else if (strncmp(k, "charger:", 8) == 0) {
        uint32_t index;
        if (idfmt_index(&w->idf, k + 8, &index)) {
            struct charger_rt *ch = crt_find(w, index);
            if (ch && !ch->releasing)
                crt_reload(ch);
        }
    }
}

static void on_pubsub_message(struct rds *r, const char *pattern, const char *channel,
                              const char *payload, size_t len, void *privdata)
{
    (void)r;
    (void)pattern;
    struct worker *w = privdata;
    char cmd[CS_KEY_MAX], mine[CS_KEY_MAX], ksp[64];
    if (strcmp(channel, worker_key(w, cmd, CH_CMD, NULL)) == 0 ||
        strcmp(channel, worker_key(w, mine, CH_CMD_W, w->name)) == 0) {
        handle_command(w, payload, len);
        return;
    }
    snprintf(ksp, sizeof(ksp), "__keyspace@%d__:", w->ao->common.url.db);
    if (strncmp(channel, ksp, strlen(ksp)) == 0)
        on_keyspace(w, channel + strlen(ksp));
}

/* Turns on the keyspace notifications live config needs (K + hash + generic), keeping any
 * flags already set. Where CONFIG is not allowed, `reload` after each write still works. */
/* A Redis whose ACL keeps agents from CONFIG SET: the administrator enables the events. */
static void on_notify_set(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    struct worker *w = rds_privdata(r);
    if (!reply || rds_reply_type(reply) != RDS_ERROR)
        return;
    w->notify_ok = false;
    if (w->slot == 0)
        log_warn("cannot enable keyspace notifications (%s): run `CONFIG SET "
                 "notify-keyspace-events %s` as a Redis administrator; until then config "
                 "edits apply on `swarm-cli reload`",
                 rds_reply_str(reply, NULL), (const char *)privdata);
}

static void on_notify_config(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)privdata;
    struct worker *w = rds_privdata(r);
    if (!rds_reply_ok(reply) || rds_reply_len(reply) != 2) {
        if (w->slot == 0)
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
    w->notify_ok = true;
    if (changed) {
        static char asked[64];
        snprintf(asked, sizeof(asked), "%s", want);
        rds_cmd(w->rc, on_notify_set, asked, "CONFIG SET notify-keyspace-events %s", want);
    }
}

static void resync(struct worker *w)
{
    if (!rds_is_up(w->rc))
        return;
    rds_cmd(w->rc, on_notify_config, NULL, "CONFIG GET notify-keyspace-events");
    load_fleet(w);
    load_cfg(w);
    load_catalog(w);
    load_layers(w);
    reload_chargers(w);
    lease_refresh(w);
    struct kvlist later = w->deferred;
    kv_init(&w->deferred);
    for (size_t i = 0; i < later.n; i++)
        handle_command(w, later.v[i].val, strlen(later.v[i].val));
    kv_free(&later);
    catch_up(w);
}

static void on_redis_state(struct rds *r, bool up, void *privdata)
{
    struct worker *w = privdata;
    (void)r;
    if (up)
        resync(w); /* anything may have changed while we were away */
}

static void subscribe_all(struct worker *w)
{
    char k[CS_KEY_MAX], ch[CS_KEY_MAX + 64];
    int db = w->ao->common.url.db;
    rds_subscribe(w->rs, worker_key(w, k, CH_CMD, NULL));
    rds_subscribe(w->rs, worker_key(w, k, CH_CMD_W, w->name));
    snprintf(ch, sizeof(ch), "__keyspace@%d__:%s", db, worker_key(w, k, K_CFG, NULL));
    rds_subscribe(w->rs, ch);
    snprintf(ch, sizeof(ch), "__keyspace@%d__:%s", db, worker_key(w, k, K_FLEET, NULL));
    rds_subscribe(w->rs, ch);
    snprintf(ch, sizeof(ch), "__keyspace@%d__:%s", db, worker_key(w, k, K_CATALOG, NULL));
    rds_subscribe(w->rs, ch);
    snprintf(ch, sizeof(ch), "__keyspace@%d__:%s", db, worker_key(w, k, K_LAYERS, NULL));
    rds_subscribe(w->rs, ch);
    snprintf(ch, sizeof(ch), "__keyspace@%d__:%s", db, worker_key(w, k, K_LAYER, "*"));
    rds_psubscribe(w->rs, ch);
    snprintf(ch, sizeof(ch), "__keyspace@%d__:%s", db, worker_key(w, k, K_CHARGER, "*"));
    rds_psubscribe(w->rs, ch);
}

/* ---- stats ------------------------------------------------------------------------------------ */

static uint64_t rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &res) != 2)
        res = 0;
    fclose(f);
    return (uint64_t)res * (uint64_t)(sysconf(_SC_PAGESIZE) / 1024);
}

static void write_stats(struct worker *w)
{
    char key[CS_KEY_MAX], ts[CS_KEY_MAX], ttl[16];
    struct kvlist kv = KVLIST_INIT;
    crt_gauges(w);
    w->st.rss_kb = rss_kb();
    stats_render(&w->st, &kv);
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)cs_now_ms());
    kv_set(&kv, "updated_ms", now);
    w->st.loop_lag_ms = 0;

    size_t n = kv.n;
    const char **argv = cs_calloc(2 * n + 8, sizeof(*argv));
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = worker_key(w, key, K_STATS_W, w->name);
    for (size_t i = 0; i < n; i++) {
        argv[argc++] = kv.v[i].key;
        argv[argc++] = kv.v[i].val;
    }
    rds_cmdv(w->rc, NULL, NULL, argc, argv, NULL);
    snprintf(ttl, sizeof(ttl), "%d", STATS_TTL_S);
    rds_cmd(w->rc, NULL, NULL, "EXPIRE %s %s", key, ttl);

    /* The time series keeps the numeric fields only. */
    argc = 0;
    argv[argc++] = "XADD";
    argv[argc++] = worker_key(w, ts, K_TS_W, w->name);
    argv[argc++] = "MAXLEN";
    argv[argc++] = "~";
    argv[argc++] = TS_MAXLEN_STR;
    argv[argc++] = "*";
    for (size_t i = 0; i < n; i++) {
        if (!stats_in_series(kv.v[i].key))
            continue;
        argv[argc++] = kv.v[i].key;
        argv[argc++] = kv.v[i].val;
    }
    rds_cmdv(w->rc, NULL, NULL, argc, argv, NULL);
    rds_cmd(w->rc, NULL, NULL, "EXPIRE %s %s", ts, "3600");
    cs_free(argv);
    kv_free(&kv);
}

/* stats_detail: per-charger counters for the chargers its selector picks, so one charger can be
 * watched without the cost for all. */
static void write_detail(struct worker *w)
{
    char key[CS_KEY_MAX], ttl[16];
    if (!w->fleet.stats_detail[0]) {
        sel_free(w->detail_sel);
        w->detail_sel = NULL;
        return;
    }
    if (!w->detail_sel || strcmp(sel_text(w->detail_sel), w->fleet.stats_detail) != 0) {
        struct cs_error err;
        sel_free(w->detail_sel);
        w->detail_sel = sel_parse(w->fleet.stats_detail, &w->idf, &err);
        if (!w->detail_sel) {
            if (w->slot == 0)
                log_warn("stats_detail: %s", err.msg);
            return;
        }
        sel_prepare(w->detail_sel, (uint32_t)w->fleet.size, (uint64_t)w->fleet.seed);
    }
    snprintf(ttl, sizeof(ttl), "%d", STATS_TTL_S);
    for (size_t i = 0; i < w->n; i++) {
        struct charger_rt *ch = w->by_index[i];
        struct sel_subject subj = {ch->m.id, ch->m.index, w->name, charger_cfg_value, ch};
        if (ch->releasing || !sel_match(w->detail_sel, &subj))
            continue;
        char v[12][32];
        const char *argv[2 + 24];
        int argc = 0, nv = 0;
        argv[argc++] = "HSET";
        argv[argc++] = worker_key(w, key, K_STATS_C, ch->m.id);
#define PUTD(name, ...)                                                                            \
    do {                                                                                           \
        snprintf(v[nv], sizeof(v[nv]), __VA_ARGS__);                                               \
        argv[argc++] = name;                                                                       \
        argv[argc++] = v[nv++];                                                                    \
    } while (0)
        PUTD("msgs_out", "%u", ch->cs.msgs_out);
        PUTD("msgs_in", "%u", ch->cs.msgs_in);
        PUTD("connects", "%u", ch->cs.connects);
        PUTD("conn_lost", "%u", ch->cs.conn_lost);
        PUTD("calls_in", "%u", ch->cs.calls_in);
        PUTD("answers", "%u", ch->cs.answers);
        PUTD("call_timeouts", "%u", ch->cs.call_timeouts);
        PUTD("conf_last_ms", "%.3f", (double)ch->cs.conf_last_us / 1000.0);
        PUTD("link", "%s", link_state_name(ch->link));
        PUTD("status", "%s", ocpp_status_name(ch->m.conn[1].status));
        PUTD("energy_wh", "%.0f", charger_energy_wh(&ch->m));
        PUTD("updated_ms", "%lld", (long long)cs_now_ms());
#undef PUTD
        rds_cmdv(w->rc, NULL, NULL, argc, argv, NULL);
        rds_cmd(w->rc, NULL, NULL, "EXPIRE %s %s", key, ttl);
    }
}

static void on_stats_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct worker *w = privdata;
    w->st.inbox_depth = 0;
    /* Stepped every interval, Redis or not, so the windows stay whole. */
    for (size_t i = 0; i < STATS_LAT_N; i++)
        hwin_step(&w->lat_win[i], stats_hist(&w->st, i), cs_mono_ms(),
                  (int64_t)w->fleet.stats_window_s * 1000, &w->st.win[i]);
    astats_window_step(&w->st.act, cs_mono_ms(), (int64_t)w->fleet.stats_window_s * 1000);
    if (rds_is_up(w->rc)) {
        write_stats(w);
        write_detail(w);
    }
    int64_t p = w->fleet.stats_interval_ms;
    struct timeval tv = {p / 1000, (p % 1000) * 1000};
    evtimer_add(w->stats_ev, &tv);
}

/* Loop lag: how late a 100 ms timer fires. */
static void on_lag_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct worker *w = privdata;
    int64_t now = cs_mono_us();
    if (w->tick_expect_us) {
        int64_t lag = (now - w->tick_expect_us) / 1000;
        if (lag > 0 && (uint64_t)lag > w->st.loop_lag_ms)
            w->st.loop_lag_ms = (uint64_t)lag;
    }
    w->tick_expect_us = now + LAG_TICK_MS * 1000;
    check_lease(w);
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

static void on_mqtt_event(void *privdata, const struct mqtt_event *ev)
{
    crt_on_mqtt(privdata, ev);
}

static void on_deregistered(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)reply;
    (void)privdata;
    struct worker *w = rds_privdata(r);
    event_base_loopexit(w->base, NULL);
}

/* [loop] Every charger is gone (or the deadline passed): leave the fleet and exit. */
static void on_stop_ready(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct worker *w = privdata;
    char key[CS_KEY_MAX], idx[CS_KEY_MAX];
    if (w->n)
        log_warn("stop deadline passed with %zu chargers still closing", w->n);
    log_info("stopped; leaving the fleet");
    worker_event(w, "worker_left", NULL);
    if (rds_cmd(w->rc, NULL, NULL, "DEL %s", worker_key(w, key, K_AGENT, w->name)) != CS_OK ||
        rds_cmd(w->rc, on_deregistered, NULL, "ZREM %s %s", worker_key(w, idx, K_AGENTS, NULL),
                w->name) != CS_OK)
        event_base_loopexit(w->base, NULL);
    /* Bounded even when Redis does not answer. */
    struct timeval tv = {1, 0};
    event_base_loopexit(w->base, &tv);
}

static void begin_stop(struct worker *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    log_info("stopping: disconnecting %zu chargers", w->n);
    release_all(w);
    struct timeval tv = {w->ao->stop_timeout_ms / 1000, (w->ao->stop_timeout_ms % 1000) * 1000};
    if (w->n == 0)
        event_active(w->stop_ev, 0, 0);
    else
        evtimer_add(w->stop_ev, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *privdata)
{
    (void)what;
    struct worker *w = privdata;
    if (sig == SIGHUP) {
        log_info("SIGHUP: re-reading everything from Redis");
        resync(w);
        return;
    }
    begin_stop(w);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn("cannot raise the open-files limit to %llu",
                     (unsigned long long)rl.rlim_max);
    }
}

int worker_main(const struct agent_opts *ao, int slot, int ready_fd)
{
    struct worker *w = cs_calloc(1, sizeof(*w));
    char comp[128];
    int rc = 0;

    w->ao = ao;
    w->ns = ao->common.ns;
    w->slot = slot;
    w->ready_fd = ready_fd;
    snprintf(w->name, sizeof(w->name), "%s.w%d", ao->name, slot);
    snprintf(comp, sizeof(comp), "agent %s", w->name);
    cs_log_init(comp, ao->common.log_level);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);

    w->started_ms = cs_now_ms();
    w->st.started_ms = (uint64_t)w->started_ms;
    if (!handlers_complete()) {
        log_error("a command in the table has no handler");
        cs_free(w);
        return 1;
    }
    cs_rng_seed(&w->rng, cs_seed_entropy() ^ (uint64_t)slot);
    cfg_defaults(&cfg_charger_schema, &w->base_cfg);
    cfg_defaults(&cfg_fleet_schema, &w->fleet);
    idfmt_parse(&w->idf, w->fleet.id_format, NULL);
    w->nslots = (uint32_t)ao->max_chargers;
    w->slots = cs_calloc(w->nslots, sizeof(*w->slots));
    w->by_index = cs_calloc(w->nslots, sizeof(*w->by_index));

    w->base = event_base_new();
    if (!w->base || mqtt_init(w->base, on_mqtt_event, w) != CS_OK) {
        log_error("cannot initialise the event loop or the MQTT layer");
        rc = 1;
        goto out;
    }
    char rname[128];
    snprintf(rname, sizeof(rname), "agent:%s", w->name);
    /* Back well within the coordinator's grace after a Redis restart (lease_ms). */
    struct rds_opts ro = {.url = ao->common.url, .name = rname, .on_state = on_redis_state,
                          .privdata = w, .reconnect_max_ms = 1500};
    w->rc = rds_new(w->base, &ro);
    snprintf(rname, sizeof(rname), "agent:%s:sub", w->name);
    ro.on_message = on_pubsub_message;
    w->rs = rds_new(w->base, &ro);
    subscribe_all(w);

    w->lease_ev = evtimer_new(w->base, on_lease_timer, w);
    w->stats_ev = evtimer_new(w->base, on_stats_timer, w);
    crt_setup(w);
    w->stop_ev = evtimer_new(w->base, on_stop_ready, w);
    w->lag_ev = event_new(w->base, -1, EV_PERSIST, on_lag_timer, w);
    w->sigterm_ev = evsignal_new(w->base, SIGTERM, on_signal, w);
    w->sigint_ev = evsignal_new(w->base, SIGINT, on_signal, w);
    w->sighup_ev = evsignal_new(w->base, SIGHUP, on_signal, w);
    evsignal_add(w->sighup_ev, NULL);
    evsignal_add(w->sigterm_ev, NULL);
    evsignal_add(w->sigint_ev, NULL);
    struct timeval lag = {0, LAG_TICK_MS * 1000}, one = {1, 0};
    evtimer_add(w->lag_ev, &lag);
    evtimer_add(w->stats_ev, &one);
    evtimer_add(w->lease_ev, &one);

    log_info("worker started: up to %u chargers, redis %s:%d, namespace %s", w->nslots,
             ao->common.url.host, ao->common.url.port, w->ns);
    event_base_dispatch(w->base);

out:
    for (size_t i = w->n; i-- > 0;)
        crt_destroy(w->by_index[i]);
    rds_free(w->rs);
    rds_free(w->rc);
    if (w->base) {
        mqtt_shutdown();
        event_free(w->lease_ev);
        event_free(w->stats_ev);
        event_free(w->ramp_ev);
        event_free(w->stop_ev);
        event_free(w->lag_ev);
        event_free(w->sigterm_ev);
        event_free(w->sigint_ev);
        event_free(w->sighup_ev);
        event_base_free(w->base);
    }
    kv_free(&w->fleet_acc);
    kv_free(&w->fleet_rej);
    kv_free(&w->cfg_acc);
    kv_free(&w->cfg_rej);
    while (w->scheds) {
        struct sched *s = w->scheds;
        w->scheds = s->next;
        sched_free(s);
    }
    free_catalog(w);
    kv_free(&w->catalog_rej);
    kv_free(&w->deferred);
    sel_free(w->detail_sel);
    for (size_t i = 0; i < w->nlayers; i++)
        free_layer(&w->layers[i]);
    cs_free(w->layers);
    rset_free(&w->assigned);
    astats_release(&w->st.act);
    cs_free(w->slots);
    cs_free(w->by_index);
    if (w->ready_fd >= 0)
        close(w->ready_fd);
    cs_free(w);
    return rc;
}
