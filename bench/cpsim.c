/* cpsim - the control plane of a large fleet without its chargers: one process runs many
 * simulated workers, each built from the agent's own modules (agent/): it registers and holds
 * its lease (lease.c), applies the coordinator's assignments, reads live config (livecfg.c),
 * answers every command through the command pipeline (cmdpipe.c) and writes its stats every
 * interval (wstats.c) exactly as a worker does. What it holds are counters (a holder of index
 * ranges, holder.h), not chargers: no MQTT, so thousands of workers fit in a few processes.
 *
 *   cpsim --name PREFIX --workers K --capacity N [--redis URL] [--namespace NS]
 *
 * Workers are PREFIX.w0 .. PREFIX.w(K-1). A matching command counts every held index the
 * selector picks as done. Their stats carry the per-action figures a real fleet has: every
 * interval, each held charger's share of the OCPP traffic of a charging day (Heartbeat,
 * MeterValues, StatusNotification, ... and some of the platform's CALLs) is recorded with
 * answer times spread over a few hundred ms, so the hashes the control plane moves have a real
 * fleet's size. SIGTERM/SIGINT: every worker leaves the fleet. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>

#include "cmdpipe.h"
#include "cs/cmd.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/opts.h"
#include "cs/rds.h"
#include "cs/selector.h"
#include "ctx.h"
#include "defer.h"
#include "holder.h"
#include "lease.h"
#include "livecfg.h"
#include "result.h"
#include "sched.h"
#include "verbs.h"
#include "wstats.h"

#define TICK_MS 100

struct simw {
    struct agent_ctx x;
    struct worker_stats st;
    struct rds *rs;
    struct rset held;      /* granted and running */
    struct rset releasing; /* given back, gone on the next turn */
    uint32_t capacity;
    struct livecfg *cfg;
    struct lease *lease;
    struct cmdpipe *cmds;
    struct wstats *stats;
    struct defer_item gone;
    int64_t traffic_ms; /* when the simulated traffic was last recorded */
    double owed[16];    /* fractions of CALLs carried to the next interval, per action */
};

static struct {
    struct event_base *base;
    struct simw *w;
    int n;
    struct event *tick_ev, *term_ev, *int_ev;
    int stopping;
} g;

/* ---- what a simulated worker holds ---------------------------------------------------------- */

static size_t h_count(void *h)
{
    struct simw *w = h;
    return (size_t)(rset_count(&w->held) + rset_count(&w->releasing));
}

static void h_held(void *h, struct rset *out)
{
    struct simw *w = h;
    for (size_t i = 0; i < w->held.n; i++)
        rset_add(out, w->held.r[i].lo, w->held.r[i].hi);
    for (size_t i = 0; i < w->releasing.n; i++)
        rset_add(out, w->releasing.r[i].lo, w->releasing.r[i].hi);
}

static bool h_add(void *h, uint32_t index)
{
    struct simw *w = h;
    if (h_count(w) >= w->capacity)
        return false;
    rset_add(&w->held, index, index);
    return true;
}

static void on_gone(void *privdata)
{
    struct simw *w = privdata;
    rset_clear(&w->releasing);
    lease_chargers_gone(w->lease);
}

/* A real worker's chargers leave once disconnected; these leave on the next loop turn. */
static void h_release_outside(void *h, const struct rset *keep, holder_ends_tx_fn *ends_tx,
                              void *privdata)
{
    (void)ends_tx;
    (void)privdata;
    struct simw *w = h;
    struct rset go = RSET_INIT;
    if (keep)
        rset_subtract(&go, &w->held, keep);
    else
        rset_copy(&go, &w->held);
    for (size_t i = 0; i < go.n; i++) {
        rset_remove(&w->held, go.r[i].lo, go.r[i].hi);
        rset_add(&w->releasing, go.r[i].lo, go.r[i].hi);
    }
    if (go.n)
        defer_add(w->x.defer, &w->gone, on_gone, w);
    rset_free(&go);
}

static size_t h_park(void *h)
{
    return (size_t)rset_count(&((struct simw *)h)->held);
}

static size_t h_unpark(void *h)
{
    return (size_t)rset_count(&((struct simw *)h)->held);
}

static void h_nothing(void *h)
{
    (void)h;
}

static const struct holder_ops sim_holder = {h_count, h_held,   h_add,     h_release_outside,
                                             h_park,  h_unpark, h_nothing, h_nothing};

/* A charging day's OCPP traffic per charger: CALLs per hour, by action; the platform's CALLs
 * (dir DOWN) are answered by us. */
static const struct {
    const char *action;
    bool down;
    double per_h;
} traffic[] = {
    {"Heartbeat", false, 60},
    {"MeterValues", false, 120},
    {"StatusNotification", false, 6},
    {"Authorize", false, 1},
    {"StartTransaction", false, 1},
    {"StopTransaction", false, 1},
    {"BootNotification", false, 0.05},
    {"DataTransfer", false, 0.5},
    {"FirmwareStatusNotification", false, 0.02},
    {"RemoteStartTransaction", true, 0.2},
    {"TriggerMessage", true, 0.5},
    {"ChangeConfiguration", true, 0.1},
    {"GetConfiguration", true, 0.05},
};

/* Records the traffic the held chargers made since the last call: real counts, answer times
 * of 5 ms to ~1 s (a long tail), one CALLERROR in 500 and one timeout in 2,000. */
static void simulate_traffic(struct simw *w)
{
    int64_t now = cs_mono_ms();
    double h = w->traffic_ms ? (double)(now - w->traffic_ms) / 3600e3 : 0;
    w->traffic_ms = now;
    double chargers = (double)rset_count(&w->held);
    for (size_t i = 0; i < ARRAY_SIZE(traffic) && i < ARRAY_SIZE(w->owed); i++) {
        w->owed[i] += chargers * traffic[i].per_h * h;
        int n = (int)w->owed[i];
        w->owed[i] -= n;
        for (int k = 0; k < n; k++) {
            uint64_t r = cs_rng_next(&w->x.rng);
            uint64_t us = 5000 + (r & 0xffff) * 2 + ((r >> 16) % 20 == 0 ? (r >> 24) % 900000 : 0);
            if (traffic[i].down) {
                astats_down_begin(&w->st.act, traffic[i].action, (int64_t)now * 1000);
                astats_down_end(&w->st.act, (r >> 40) % 500 == 0 ? "NotSupported" : NULL, 120,
                                (int64_t)now * 1000 + (int64_t)us / 50);
                w->st.calls_in++;
                continue;
            }
            astats_up_sent(&w->st.act, traffic[i].action, 200);
            w->st.msgs_out++;
            if ((r >> 40) % 2000 == 0) {
                astats_up_timeout(&w->st.act, traffic[i].action);
                continue;
            }
            astats_up_answer(&w->st.act, traffic[i].action, us,
                             (r >> 40) % 500 == 1 ? "InternalError" : NULL);
            hist_add(&w->st.conf_us, us);
            w->st.msgs_in++;
        }
    }
}

static void gauges(void *privdata, struct worker_stats *st)
{
    struct simw *w = privdata;
    simulate_traffic(w);
    st->assigned = h_count(w);
    st->connected = rset_count(&w->held);
    st->offline = rset_count(&w->releasing);
}

/* ---- commands ---------------------------------------------------------------------------- */

static void sim_run(const struct verbs_env *v, const struct cmd *c, const struct sel *s,
                    struct result *r)
{
    struct simw *w = v->run_privdata;
    switch (c->def->verb) {
    case CMD_RELOAD:
        verbs_reload(v, c, r, h_count(w));
        return;
    case CMD_PING:
        r->matched = r->done = h_count(w);
        result_extra(r, "connected", (int64_t)rset_count(&w->held));
        return;
    case CMD_CANCEL:
        r->matched = r->done = sched_cancel(v->sched, cmd_pos(c, "cmd_id"));
        return;
    case CMD_SCHEDULES:
        r->matched = r->done = sched_count(v->sched);
        return;
    default:
        break;
    }
    if (!s)
        return;
    /* As a worker walks its chargers: every held index, its ID, the selector. */
    char id[CS_ID_MAX + 1];
    for (size_t i = 0; i < w->held.n; i++)
        for (uint64_t k = w->held.r[i].lo; k <= w->held.r[i].hi; k++) {
            idfmt_format(&w->x.idf, (uint32_t)k, id, sizeof(id));
            struct sel_subject subj = {id, (uint32_t)k, w->x.name, NULL, NULL};
            if (sel_match(s, &subj))
                result_charger(r, CS_OK, NULL);
        }
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static void on_fleet_changed(void *privdata, const struct fleet_cfg *old)
{
    struct simw *w = privdata;
    lease_fleet_changed(w->lease, old);
}

static void on_chargers_changed(void *privdata, const struct charger_cfg *old)
{
    (void)privdata;
    (void)old;
}

static void on_charger_reload(void *privdata, uint32_t index)
{
    (void)privdata;
    (void)index;
}

static void on_registered(void *privdata)
{
    (void)privdata;
}

static void on_duplicate(void *privdata, const char *other)
{
    struct simw *w = privdata;
    log_error("%s: another process uses this name (%s)", w->x.name, other);
}

static void on_message(struct rds *r, const char *pattern, const char *channel, const char *payload,
                       size_t len, void *privdata)
{
    (void)r;
    (void)pattern;
    struct simw *w = privdata;
    char k[CS_KEY_MAX];
    if (strcmp(channel, ctx_key(&w->x, k, CH_CMD, NULL)) == 0 ||
        strcmp(channel, ctx_key(&w->x, k, CH_CMD_W, w->x.name)) == 0)
        cmdpipe_on_message(w->cmds, payload, len);
    else if (strcmp(channel, ctx_key(&w->x, k, CH_CTL, w->x.name)) == 0)
        lease_poke(w->lease);
    else
        livecfg_on_message(w->cfg, channel);
}

static void on_state(struct rds *r, bool up, void *privdata)
{
    (void)r;
    struct simw *w = privdata;
    if (!up || !rds_is_up(w->x.rc))
        return;
    livecfg_load_all(w->cfg);
    lease_refresh(w->lease);
    cmdpipe_resync(w->cmds);
}

static void sim_start(struct simw *w, const struct cs_common_opts *o, const char *prefix, int i,
                      uint32_t capacity)
{
    static const struct livecfg_hooks lh = {on_fleet_changed, on_chargers_changed,
                                            on_charger_reload};
    static const struct lease_hooks eh = {on_registered, on_duplicate};
    struct agent_ctx *x = &w->x;
    char rname[160], k[CS_KEY_MAX];
    x->base = g.base;
    x->ns = o->ns;
    x->slot = i;
    x->st = &w->st;
    x->started_ms = cs_now_ms();
    w->st.started_ms = (uint64_t)x->started_ms;
    x->defer = defer_new(g.base);
    snprintf(x->name, sizeof(x->name), "%s.w%d", prefix, i);
    cs_rng_seed(&x->rng, cs_seed_entropy() ^ (uint64_t)i);
    w->capacity = capacity;
    snprintf(rname, sizeof(rname), "cpsim:%s", x->name);
    struct rds_opts ro = {.url = o->url,
                          .name = rname,
                          .on_state = on_state,
                          .privdata = w,
                          .reconnect_max_ms = 1500};
    x->rc = rds_new(g.base, &ro);
    ro.on_message = on_message;
    w->rs = rds_new(g.base, &ro);
    w->cfg = livecfg_new(x, o->url.db, &lh, w);
    struct holder hd = {&sim_holder, w};
    w->lease = lease_new(x, &hd, capacity, &eh, w);
    w->cmds = cmdpipe_new(x, NULL, w->cfg, sim_run, w);
    w->stats = wstats_new(x, gauges, w, NULL);
    rds_subscribe(w->rs, ctx_key(x, k, CH_CMD, NULL));
    rds_subscribe(w->rs, ctx_key(x, k, CH_CMD_W, x->name));
    rds_subscribe(w->rs, ctx_key(x, k, CH_CTL, x->name));
    livecfg_subscribe(w->cfg, w->rs);
}

static void sim_stop(struct simw *w)
{
    char k[CS_KEY_MAX], idx[CS_KEY_MAX];
    lease_stop(w->lease);
    rds_cmd(w->x.rc, NULL, NULL, "DEL %s", ctx_key(&w->x, k, K_AGENT, w->x.name));
    rds_cmd(w->x.rc, NULL, NULL, "ZREM %s %s", ctx_key(&w->x, idx, K_AGENTS, NULL), w->x.name);
}

static void sim_free(struct simw *w)
{
    rds_free(w->rs);
    rds_free(w->x.rc);
    w->rs = w->x.rc = NULL;
    wstats_free(w->stats);
    cmdpipe_free(w->cmds);
    lease_free(w->lease);
    livecfg_free(w->cfg);
    defer_free(w->x.defer);
    rset_free(&w->held);
    rset_free(&w->releasing);
}

/* Every 100 ms, as a worker's lag timer: the lease lapses only while Redis is silent. */
static void on_tick(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    (void)privdata;
    for (int i = 0; i < g.n; i++)
        lease_check(g.w[i].lease);
}

static void on_term(evutil_socket_t sig, short what, void *privdata)
{
    (void)sig;
    (void)what;
    (void)privdata;
    if (g.stopping++)
        return;
    for (int i = 0; i < g.n; i++)
        sim_stop(&g.w[i]);
    struct timeval tv = {1, 0};
    event_base_loopexit(g.base, &tv);
}

enum { OPT_NAME = 1, OPT_WORKERS, OPT_CAPACITY };

struct cpsim_opts {
    struct cs_common_opts common;
    char name[64];
    int workers, capacity;
};

static int apply_opt(void *ctx, int opt, const char *arg, struct cs_error *err)
{
    struct cpsim_opts *o = ctx;
    int64_t v;
    switch (opt) {
    case OPT_NAME:
        if (!cs_strlcpy(o->name, arg, sizeof(o->name)) || !cs_id_valid(arg))
            return cs_error_set(err, CS_ERR_INVAL, "--name: [A-Za-z0-9_.-]");
        return CS_OK;
    case OPT_WORKERS:
        if (!cs_parse_i64(arg, 1, 10000, &v))
            return cs_error_set(err, CS_ERR_RANGE, "--workers: 1..10000");
        o->workers = (int)v;
        return CS_OK;
    case OPT_CAPACITY:
        if (!cs_parse_i64(arg, 1, 1000000, &v))
            return cs_error_set(err, CS_ERR_RANGE, "--capacity: 1..1000000");
        o->capacity = (int)v;
        return CS_OK;
    case 'h':
        printf("Usage: cpsim --name PREFIX --workers K --capacity N [options]\n\n"
               "K simulated workers (PREFIX.w0...) in one process: registration, lease,\n"
               "assignment, live config, commands and stats as the agent's workers do, with\n"
               "counters for chargers.\n\nOptions:\n%s",
               cs_opts_help());
        return CS_OPTS_DONE;
    case 'V':
        printf("cpsim %s\n", CS_VERSION);
        return CS_OPTS_DONE;
    }
    return cs_error_set(err, CS_ERR_INVAL, "unknown option");
}

int main(int argc, char **argv)
{
    struct cpsim_opts o = {.workers = 100, .capacity = 500};
    static const struct option longopts[] = {
        {"name", required_argument, NULL, OPT_NAME},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"capacity", required_argument, NULL, OPT_CAPACITY},
        CS_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    cs_opts_defaults(&o.common);
    snprintf(o.name, sizeof(o.name), "sim");
    struct cs_optparse p = {"cpsim", longopts, "hV", apply_opt, &o, &o.common, 0};
    int rc = cs_opts_parse(&p, argc, argv);
    if (rc == CS_OPTS_DONE)
        return 0;
    if (rc)
        return 2;
    cs_log_init("cpsim", o.common.log_level);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    g.base = event_base_new();
    g.n = o.workers;
    g.w = cs_calloc((size_t)g.n, sizeof(*g.w));
    for (int i = 0; i < g.n; i++)
        sim_start(&g.w[i], &o.common, o.name, i, (uint32_t)o.capacity);
    g.tick_ev = event_new(g.base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tick = {0, TICK_MS * 1000};
    evtimer_add(g.tick_ev, &tick);
    g.term_ev = evsignal_new(g.base, SIGTERM, on_term, NULL);
    g.int_ev = evsignal_new(g.base, SIGINT, on_term, NULL);
    evsignal_add(g.term_ev, NULL);
    evsignal_add(g.int_ev, NULL);
    log_info("%d simulated workers of %d, namespace %s", g.n, o.capacity, o.common.ns);
    event_base_dispatch(g.base);
    for (int i = 0; i < g.n; i++)
        sim_free(&g.w[i]);
    event_free(g.tick_ev);
    event_free(g.term_ev);
    event_free(g.int_ev);
    event_base_free(g.base);
    cs_free(g.w);
    return 0;
}
