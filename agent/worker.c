/* worker.c - a worker process: signals, stop, the pub/sub routing, and the wiring of its
 * subsystems. Each subsystem owns its state; the shell only says who hears what. [loop] */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "ccfg.h"
#include "charger_rt.h"
#include "chargers.h"
#include "cmdpipe.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "ctx.h"
#include "defer.h"
#include "lease.h"
#include "restore.h"
#include "livecfg.h"
#include "transport.h"
#include "verbs.h"
#include "worker.h"
#include "wstats.h"

#define LAG_TICK_MS 100
#define STALL_MS 1000         /* a loop turn this late is a stall worth an event */
#define STALL_REPORT_MS 10000 /* ... reported at most this often */

struct worker {
    struct agent_ctx x;
    struct worker_stats st;
    const struct agent_opts *ao;
    int ready_fd;   /* written once registered; -1 after */
    struct rds *rs; /* pub/sub */
    struct transport *tr[TR__COUNT];
    struct chargers *set;
    struct livecfg *cfg;
    struct lease *lease;
    struct cmdpipe *cmds;
    struct wstats *stats;
    struct restore *restore;
    int64_t tick_expect_us;
    int64_t stall_reported_ms;
    struct event *stop_ev, *lag_ev, *sigterm_ev, *sigint_ev, *sighup_ev;
    bool stopping;
    int exit_code;
};

/* ---- config -------------------------------------------------------------------------------- */

static void on_fleet_changed(void *privdata, const struct fleet_cfg *old)
{
    struct worker *w = privdata;
    if (old->ramp_per_s != w->x.fleet.ramp_per_s)
        chargers_set_rate(w->set, w->x.fleet.ramp_per_s);
    lease_fleet_changed(w->lease, old);
}

static void on_chargers_changed(void *privdata, const struct charger_cfg *old_base)
{
    struct worker *w = privdata;
    for (size_t i = 0; i < chargers_count(w->set); i++) {
        struct charger_rt *ch = chargers_at(w->set, i);
        if (!ch->releasing)
            ccfg_recompute(ch, old_base);
    }
}

static void on_charger_reload(void *privdata, uint32_t index)
{
    struct worker *w = privdata;
    if (index) {
        struct charger_rt *ch = chargers_find(w->set, index);
        if (ch)
            chargers_reload(w->set, ch);
        return;
    }
    for (size_t i = 0; i < chargers_count(w->set); i++)
        chargers_reload(w->set, chargers_at(w->set, i));
}

/* ---- lease ---------------------------------------------------------------------------------- */

static void begin_stop(struct worker *w);

static void on_registered(void *privdata)
{
    struct worker *w = privdata;
    if (w->ready_fd >= 0) {
        ssize_t n = write(w->ready_fd, "R", 1);
        (void)n;
        close(w->ready_fd);
        w->ready_fd = -1;
    }
}

static void on_duplicate(void *privdata, const char *other)
{
    struct worker *w = privdata;
    if (w->exit_code)
        return;
    log_error("another process registers as %s (%s): two agents share the name %s; this one "
              "stops (give each agent its own --name)",
              w->x.name, other, w->ao->name);
    struct kvlist f = KVLIST_INIT;
    kv_set(&f, "other", other);
    ctx_event(&w->x, "duplicate_name", &f);
    kv_free(&f);
    w->exit_code = WORKER_EXIT_FATAL;
    begin_stop(w);
}

static bool chargers_may_connect(void *privdata)
{
    struct worker *w = privdata;
    return !w->stopping && lease_may_connect(w->lease);
}

static void on_chargers_gone(void *privdata)
{
    struct worker *w = privdata;
    if (!w->stopping)
        lease_chargers_gone(w->lease);
    else if (chargers_count(w->set) == 0)
        event_active(w->stop_ev, 0, 0);
}

static void gauges(void *privdata, struct worker_stats *st)
{
    chargers_gauges(privdata, st);
}

/* ---- pub/sub ------------------------------------------------------------------------------ */

static void on_pubsub_message(struct rds *r, const char *pattern, const char *channel,
                              const char *payload, size_t len, void *privdata)
{
    (void)r;
    (void)pattern;
    struct worker *w = privdata;
    char k[CS_KEY_MAX];
    if (strcmp(channel, ctx_key(&w->x, k, CH_CMD, NULL)) == 0 ||
        strcmp(channel, ctx_key(&w->x, k, CH_CMD_W, w->x.name)) == 0)
        cmdpipe_on_message(w->cmds, payload, len);
    else if (strcmp(channel, ctx_key(&w->x, k, CH_CTL, w->x.name)) == 0)
        lease_poke(w->lease);
    else
        livecfg_on_message(w->cfg, channel);
}

static void subscribe_all(struct worker *w)
{
    char k[CS_KEY_MAX];
    rds_subscribe(w->rs, ctx_key(&w->x, k, CH_CMD, NULL));
    rds_subscribe(w->rs, ctx_key(&w->x, k, CH_CMD_W, w->x.name));
    rds_subscribe(w->rs, ctx_key(&w->x, k, CH_CTL, w->x.name));
    livecfg_subscribe(w->cfg, w->rs);
}

/* Which Redis is this: if it lost its data, what this worker knew goes back first and stays
 * in force (reading the empty hashes would mean defaults and an empty fleet); otherwise
 * everything is read again. */
static void on_redis_checked(void *privdata, bool lost)
{
    struct worker *w = privdata;
    if (!rds_is_up(w->x.rc))
        return;
    if (lost) {
        char n[24];
        struct kvlist f = KVLIST_INIT;
        livecfg_write_back(w->cfg);
        chargers_write_back(w->set);
        snprintf(n, sizeof(n), "%zu", chargers_count(w->set));
        kv_set(&f, "chargers", n);
        ctx_event(&w->x, "redis_data_restored", &f);
        kv_free(&f);
    } else {
        livecfg_load_all(w->cfg);
    }
    lease_refresh(w->lease);
    cmdpipe_resync(w->cmds);
}

/* Anything may have changed while Redis was away (or on SIGHUP). */
static void resync(struct worker *w)
{
    char marker[CS_KEY_MAX];
    const char *m = NULL;
    if (!rds_is_up(w->x.rc))
        return;
    for (size_t i = 0; i < chargers_count(w->set) && !m; i++) {
        const struct charger_rt *ch = chargers_at(w->set, i);
        if (ch->loaded_state && !ch->releasing)
            m = ctx_key(&w->x, marker, K_STATE, ch->m.id);
    }
    restore_check(w->restore, livecfg_has_data(w->cfg), m);
}

static void on_redis_state(struct rds *r, bool up, void *privdata)
{
    (void)r;
    if (up)
        resync(privdata);
}

/* ---- the loop's health ----------------------------------------------------------------------- */

/* Loop lag: how late a 100 ms timer fires. A long turn also holds up the lease: say so. */
static void on_lag_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct worker *w = privdata;
    int64_t now = cs_mono_us();
    if (w->tick_expect_us) {
        int64_t lag = (now - w->tick_expect_us) / 1000;
        wstats_loop_lag(w->stats, lag);
        if (lag >= STALL_MS && cs_mono_ms() - w->stall_reported_ms >= STALL_REPORT_MS) {
            char ms[24];
            struct kvlist f = KVLIST_INIT;
            w->stall_reported_ms = cs_mono_ms();
            snprintf(ms, sizeof(ms), "%lld", (long long)lag);
            kv_set(&f, "lag_ms", ms);
            log_warn("the event loop stalled for %lld ms", (long long)lag);
            ctx_event(&w->x, "loop_stall", &f);
            kv_free(&f);
        }
    }
    w->tick_expect_us = now + LAG_TICK_MS * 1000;
    lease_check(w->lease);
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

static void on_deregistered(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    (void)reply;
    struct worker *w = privdata;
    event_base_loopexit(w->x.base, NULL);
}

/* [loop] Every charger is gone (or the deadline passed): leave the fleet and exit. */
static void on_stop_ready(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct worker *w = privdata;
    char key[CS_KEY_MAX], idx[CS_KEY_MAX];
    if (chargers_count(w->set))
        log_warn("stop deadline passed with %zu chargers still closing", chargers_count(w->set));
    log_info("stopped; leaving the fleet");
    ctx_event(&w->x, "worker_left", NULL);
    /* A duplicate leaves the registration to the process it shares the name with. */
    if (w->exit_code ||
        rds_cmd(w->x.rc, NULL, NULL, "DEL %s", ctx_key(&w->x, key, K_AGENT, w->x.name)) != CS_OK ||
        rds_cmd(w->x.rc, on_deregistered, w, "ZREM %s %s", ctx_key(&w->x, idx, K_AGENTS, NULL),
                w->x.name) != CS_OK)
        event_base_loopexit(w->x.base, NULL);
    /* Bounded even when Redis does not answer. */
    struct timeval tv = {1, 0};
    event_base_loopexit(w->x.base, &tv);
}

static void begin_stop(struct worker *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    log_info("stopping: disconnecting %zu chargers", chargers_count(w->set));
    cmdpipe_stop(w->cmds);
    lease_stop(w->lease);
    if (chargers_count(w->set) == 0)
        event_active(w->stop_ev, 0, 0);
    else
        ctx_arm(w->stop_ev, w->ao->stop_timeout_ms);
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
            log_warn("cannot raise the open-files limit to %llu", (unsigned long long)rl.rlim_max);
    }
}

static int setup(struct worker *w)
{
    const struct agent_opts *ao = w->ao;
    struct agent_ctx *x = &w->x;
    char rname[128];
    x->base = event_base_new();
    if (!x->base)
        return CS_ERR_IO;
    x->defer = defer_new(x->base);
    const struct tr_stats trs = {&w->st.msgs_out, &w->st.publish_errors, &w->st.msgs_dropped,
                                 &w->st.ack_us};
    w->tr[TR_PAHO] = tr_paho_new(x->base, &trs);
    w->tr[TR_MOSQUITTO] = tr_mosq_new(x->base, &trs);
    w->tr[TR_WS] = tr_ws_new(x->base, &trs);
    if (!w->tr[TR_PAHO] || !w->tr[TR_MOSQUITTO] || !w->tr[TR_WS])
        return CS_ERR_IO;
    /* Back well within the coordinator's grace after a Redis restart (lease_ms). */
    snprintf(rname, sizeof(rname), "agent:%s", x->name);
    struct rds_opts ro = {.url = ao->common.url,
                          .name = rname,
                          .on_state = on_redis_state,
                          .privdata = w,
                          .reconnect_max_ms = 1500};
    x->rc = rds_new(x->base, &ro);
    snprintf(rname, sizeof(rname), "agent:%s:sub", x->name);
    /* A pub/sub connection back up may have missed commands: the same resync catches up. */
    ro.on_message = on_pubsub_message;
    w->rs = rds_new(x->base, &ro);

    static const struct livecfg_hooks lh = {on_fleet_changed, on_chargers_changed,
                                            on_charger_reload};
    static const struct lease_hooks eh = {on_registered, on_duplicate};
    w->cfg = livecfg_new(x, ao->common.url.db, &lh, w);
    w->set = chargers_new(x, w->tr, (uint32_t)ao->max_chargers, chargers_may_connect,
                          on_chargers_gone, w);
    chargers_set_rate(w->set, x->fleet.ramp_per_s);
    struct holder hd = chargers_holder(w->set);
    w->lease = lease_new(x, &hd, (uint32_t)ao->max_chargers, &eh, w);
    w->cmds = cmdpipe_new(x, w->set, w->cfg, NULL, NULL);
    w->stats = wstats_new(x, gauges, w->set, w->set);
    w->restore = restore_new(x, on_redis_checked, w);
    subscribe_all(w);

    w->stop_ev = evtimer_new(x->base, on_stop_ready, w);
    w->lag_ev = event_new(x->base, -1, EV_PERSIST, on_lag_timer, w);
    w->sigterm_ev = evsignal_new(x->base, SIGTERM, on_signal, w);
    w->sigint_ev = evsignal_new(x->base, SIGINT, on_signal, w);
    w->sighup_ev = evsignal_new(x->base, SIGHUP, on_signal, w);
    evsignal_add(w->sighup_ev, NULL);
    evsignal_add(w->sigterm_ev, NULL);
    evsignal_add(w->sigint_ev, NULL);
    struct timeval lag = {0, LAG_TICK_MS * 1000};
    evtimer_add(w->lag_ev, &lag);
    return CS_OK;
}

static void teardown(struct worker *w)
{
    struct agent_ctx *x = &w->x;
    /* Redis first: its pending callbacks run (with no reply) while everything they reach is
     * still there. Then from the top down. */
    rds_free(w->rs);
    rds_free(x->rc);
    w->rs = x->rc = NULL;
    restore_free(w->restore);
    wstats_free(w->stats);
    cmdpipe_free(w->cmds);
    lease_free(w->lease);
    chargers_free(w->set);
    livecfg_free(w->cfg);
    for (int i = 0; i < TR__COUNT; i++)
        if (w->tr[i])
            w->tr[i]->destroy(w->tr[i]);
    defer_free(x->defer);
    if (x->base) {
        if (w->stop_ev)
            event_free(w->stop_ev);
        if (w->lag_ev)
            event_free(w->lag_ev);
        if (w->sigterm_ev)
            event_free(w->sigterm_ev);
        if (w->sigint_ev)
            event_free(w->sigint_ev);
        if (w->sighup_ev)
            event_free(w->sighup_ev);
        event_base_free(x->base);
    }
    if (w->ready_fd >= 0)
        close(w->ready_fd);
}

int worker_main(const struct agent_opts *ao, int slot, int ready_fd)
{
    struct worker *w = cs_calloc(1, sizeof(*w));
    char comp[128];
    int rc = 0;

    w->ao = ao;
    w->ready_fd = ready_fd;
    w->x.ns = ao->common.ns;
    w->x.slot = slot;
    w->x.st = &w->st;
    w->x.started_ms = cs_now_ms();
    w->st.started_ms = (uint64_t)w->x.started_ms;
    snprintf(w->x.name, sizeof(w->x.name), "%s.w%d", ao->name, slot);
    snprintf(comp, sizeof(comp), "agent %s", w->x.name);
    cs_log_init(comp, ao->common.log_level);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    cs_rng_seed(&w->x.rng, cs_seed_entropy() ^ (uint64_t)slot);

    if (!verbs_complete()) {
        log_error("a command in the table has no handler");
        rc = 1;
    } else if (setup(w) != CS_OK) {
        log_error("cannot initialise the event loop or the MQTT layer");
        rc = 1;
    } else {
        log_info("worker started: up to %d chargers, redis %s:%d, namespace %s", ao->max_chargers,
                 ao->common.url.host, ao->common.url.port, w->x.ns);
        event_base_dispatch(w->x.base);
        rc = w->exit_code;
    }
    teardown(w);
    cs_free(w);
    return rc;
}
