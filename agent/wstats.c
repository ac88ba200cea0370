/* wstats.c - the stats writer. [loop] */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "ccfg.h"
#include "chargers.h"
#include "cs/hwin.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/selector.h"
#include "crt.h"
#include "wstats.h"

#define STATS_TTL_S 120
#define TS_MAXLEN_STR "3600" /* entries kept in {ns}:ts:{worker}, about an hour at 1/s */
#define TS_TTL_S "3600"

struct wstats {
    struct agent_ctx *x;
    struct chargers *set; /* NULL: no per-charger detail */
    wstats_gauges_fn *gauges;
    void *privdata;
    struct hwin lat_win[STATS_LAT_N]; /* st.win[i]: the last stats_window_s of each latency */
    struct sel *detail_sel;           /* fleet stats_detail, compiled */
    struct event *ev;
    struct kvlist written; /* the hash's fields as last written */
    bool full_next;        /* write every field next time (the hash may be gone) */
    int since_full;        /* writes since the last full one */
};

/* A full write at least this often, whatever the replies said. */
#define WSTATS_FULL_EVERY 30

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

/* The HSET's reply: it counts fields that were new. Any, or no reply, means the hash was (partly)
 * gone (expired, a Redis that restarted empty, an HDEL): the next write is a full one. */
static void on_hset(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    (void)r;
    struct wstats *w = privdata;
    if (!reply || rds_reply_type(reply) != RDS_INT || rds_reply_int(reply) > 0)
        w->full_next = true;
}

/* The stats hash changes by the fields that changed: a worker's hash carries ~300 fields (its
 * per-action figures), of which most stay the same from one second to the next (actions not
 * used in that second). */
static void write_stats(struct wstats *w)
{
    struct agent_ctx *x = w->x;
    struct worker_stats *st = x->st;
    char key[CS_KEY_MAX], ts[CS_KEY_MAX], ttl[16], now[24];
    struct kvlist kv = KVLIST_INIT;
    w->gauges(w->privdata, st);
    st->rss_kb = rss_kb();
    stats_render(st, &kv);
    snprintf(now, sizeof(now), "%lld", (long long)cs_now_ms());
    kv_set(&kv, "updated_ms", now);
    st->loop_lag_ms = 0;

    size_t n = kv.n;
    const char **argv = cs_calloc(2 * n + 8, sizeof(*argv));
    int argc = 0;
    bool full = w->full_next || ++w->since_full >= WSTATS_FULL_EVERY;
    argv[argc++] = "HSET";
    argv[argc++] = ctx_key(x, key, K_STATS_W, x->name);
    for (size_t i = 0; i < n; i++) {
        const char *was = NULL; /* fields come in the same order every time: look there first */
        if (!full && i < w->written.n && strcmp(w->written.v[i].key, kv.v[i].key) == 0)
            was = w->written.v[i].val;
        else if (!full)
            was = kv_get(&w->written, kv.v[i].key);
        if (was && strcmp(was, kv.v[i].val) == 0)
            continue;
        argv[argc++] = kv.v[i].key;
        argv[argc++] = kv.v[i].val;
    }
    if (full) {
        w->full_next = false;
        w->since_full = 0;
    }
    if (rds_cmdv(x->rc, on_hset, w, argc, argv, NULL) == CS_OK) {
        kv_free(&w->written);
        kv_copy(&w->written, &kv);
    } else {
        w->full_next = true;
    }
    snprintf(ttl, sizeof(ttl), "%d", STATS_TTL_S);
    rds_cmd(x->rc, NULL, NULL, "EXPIRE %s %s", key, ttl);

    /* The time series keeps the numeric fields only. */
    argc = 0;
    argv[argc++] = "XADD";
    argv[argc++] = ctx_key(x, ts, K_TS_W, x->name);
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
    rds_cmdv(x->rc, NULL, NULL, argc, argv, NULL);
    rds_cmd(x->rc, NULL, NULL, "EXPIRE %s %s", ts, TS_TTL_S);
    cs_free(argv);
    kv_free(&kv);
}

/* The per-charger fields of stats_detail, in one table. */
#define DETAIL_TEXT 32
#define DETAIL(fn, ...)                                                                            \
    static void fn(const struct charger_rt *ch, char *out)                                         \
    {                                                                                              \
        (void)ch;                                                                                  \
        snprintf(out, DETAIL_TEXT, __VA_ARGS__);                                                   \
    }
DETAIL(d_msgs_out, "%u", ch->link.sent)
DETAIL(d_msgs_in, "%u", ch->msgs_in)
DETAIL(d_connects, "%u", ch->link.connects)
DETAIL(d_conn_lost, "%u", ch->link.lost)
DETAIL(d_calls_in, "%u", ch->calls_in)
DETAIL(d_answers, "%u", ch->calls.answers)
DETAIL(d_call_timeouts, "%u", ch->calls.timeouts)
DETAIL(d_conf_last, "%.3f", (double)ch->calls.conf_last_us / 1000.0)
DETAIL(d_link, "%s", link_state_name(ch->link.state))
DETAIL(d_status, "%s", ocpp_status_name(ch->m.conn[1].status))
DETAIL(d_energy, "%.0f", charger_energy_wh(&ch->m))
DETAIL(d_updated, "%lld", (long long)cs_now_ms())
#undef DETAIL

static const struct {
    const char *name;
    void (*fmt)(const struct charger_rt *ch, char *out);
} detail_fields[] = {
    {"msgs_out", d_msgs_out},
    {"msgs_in", d_msgs_in},
    {"connects", d_connects},
    {"conn_lost", d_conn_lost},
    {"calls_in", d_calls_in},
    {"answers", d_answers},
    {"call_timeouts", d_call_timeouts},
    {"conf_last_ms", d_conf_last},
    {"link", d_link},
    {"status", d_status},
    {"energy_wh", d_energy},
    {"updated_ms", d_updated},
};

/* stats_detail: per-charger counters for the chargers its selector picks, so one charger can be
 * watched without the cost for all. */
static void write_detail(struct wstats *w)
{
    struct agent_ctx *x = w->x;
    char key[CS_KEY_MAX], ttl[16], v[ARRAY_SIZE(detail_fields)][DETAIL_TEXT];
    const char *argv[2 + 2 * ARRAY_SIZE(detail_fields)];
    if (!x->fleet.stats_detail[0] || !w->set) {
        sel_free(w->detail_sel);
        w->detail_sel = NULL;
        return;
    }
    if (!w->detail_sel || strcmp(sel_text(w->detail_sel), x->fleet.stats_detail) != 0) {
        struct cs_error err;
        sel_free(w->detail_sel);
        w->detail_sel = sel_parse(x->fleet.stats_detail, &x->idf, &err);
        if (!w->detail_sel) {
            if (ctx_speaks_for_fleet(x))
                log_warn("stats_detail: %s", err.msg);
            return;
        }
        sel_prepare(w->detail_sel, (uint32_t)x->fleet.size, (uint64_t)x->fleet.seed);
    }
    snprintf(ttl, sizeof(ttl), "%d", STATS_TTL_S);
    for (size_t i = 0; i < chargers_count(w->set); i++) {
        struct charger_rt *ch = chargers_at(w->set, i);
        struct sel_subject subj = {ch->m.id, ch->m.index, x->name, ccfg_value, ch};
        if (ch->releasing || !sel_match(w->detail_sel, &subj))
            continue;
        int argc = 0;
        argv[argc++] = "HSET";
        argv[argc++] = ctx_key(x, key, K_STATS_C, ch->m.id);
        for (size_t f = 0; f < ARRAY_SIZE(detail_fields); f++) {
            detail_fields[f].fmt(ch, v[f]);
            argv[argc++] = detail_fields[f].name;
            argv[argc++] = v[f];
        }
        rds_cmdv(x->rc, NULL, NULL, argc, argv, NULL);
        rds_cmd(x->rc, NULL, NULL, "EXPIRE %s %s", key, ttl);
    }
}

static void on_stats_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct wstats *w = privdata;
    struct agent_ctx *x = w->x;
    x->st->inbox_depth = 0;
    /* Stepped every interval, Redis or not, so the windows stay whole. */
    for (size_t i = 0; i < STATS_LAT_N; i++)
        hwin_step(&w->lat_win[i], stats_hist(x->st, i), cs_mono_ms(),
                  (int64_t)x->fleet.stats_window_s * 1000, &x->st->win[i]);
    astats_window_step(&x->st->act, cs_mono_ms(), (int64_t)x->fleet.stats_window_s * 1000);
    if (rds_is_up(x->rc)) {
        write_stats(w);
        write_detail(w);
    }
    ctx_arm(w->ev, x->fleet.stats_interval_ms);
}

void wstats_loop_lag(struct wstats *w, int64_t lag_ms)
{
    if (lag_ms > 0 && (uint64_t)lag_ms > w->x->st->loop_lag_ms)
        w->x->st->loop_lag_ms = (uint64_t)lag_ms;
}

struct wstats *wstats_new(struct agent_ctx *x, wstats_gauges_fn *gauges, void *privdata,
                          struct chargers *set)
{
    struct wstats *w = cs_calloc(1, sizeof(*w));
    w->x = x;
    w->set = set;
    w->gauges = gauges;
    w->privdata = privdata;
    w->ev = evtimer_new(x->base, on_stats_timer, w);
    w->full_next = true;
    ctx_arm(w->ev, 1000);
    return w;
}

void wstats_free(struct wstats *w)
{
    if (!w)
        return;
    sel_free(w->detail_sel);
    kv_free(&w->written);
    astats_release(&w->x->st->act);
    if (w->ev)
        event_free(w->ev);
    cs_free(w);
}
