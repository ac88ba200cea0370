/* charger_rt.c - chargers at run time: link state machine, connect ramp, report timers with
 * jitter, the MQTT publish queue, config layering and state persistence. Behaviour lives in
 * session.c, the CALL layer in calls.c, the platform's messages in downlink.c. [loop] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "calls.h"
#include "charger_rt.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/selector.h"
#include "cs/tmpl.h"
#include "downlink.h"
#include "mqtt.h"
#include "session.h"
#include "worker.h"

#define CLOSE_TIMEOUT_MS 2000
#define RAMP_TICK_MS 10

static const char *const link_names[] = {
    [LINK_LOADING] = "loading",       [LINK_IDLE] = "idle",       [LINK_QUEUED] = "queued",
    [LINK_CONNECTING] = "connecting", [LINK_UP] = "up",           [LINK_BACKOFF] = "backoff",
    [LINK_CLOSING] = "closing",       [LINK_DISABLED] = "disabled", [LINK_OFFLINE] = "offline",
};
_Static_assert(ARRAY_SIZE(link_names) == LINK__COUNT, "link_names out of step");

const char *link_state_name(enum link_state s)
{
    return link_names[s];
}

static void want_connect(struct charger_rt *ch);
static void start_close(struct charger_rt *ch);
static void free_charger(struct charger_rt *ch);

static inline uint64_t cookie_of(uint32_t slot, uint32_t serial)
{
    return (uint64_t)slot << 32 | serial;
}

static uint32_t next_serial(struct worker *w)
{
    if (++w->serial == 0)
        w->serial = 1;
    return w->serial;
}

const struct charger_cfg *crt_cfg(const struct charger_rt *ch)
{
    return ch->own ? ch->own : &ch->w->base_cfg;
}

enum ocpp_profile crt_profile(const struct charger_rt *ch)
{
    return strcmp(crt_cfg(ch)->profile, "json") == 0 ? PROFILE_JSON : PROFILE_OCPP16J;
}

struct charger_rt *crt_by_serial(struct worker *w, uint64_t cookie)
{
    uint32_t slot = (uint32_t)(cookie >> 32), serial = (uint32_t)cookie;
    if (slot >= w->nslots || !w->slots[slot])
        return NULL;
    struct charger_rt *ch = w->slots[slot];
    return ch->serial == serial ? ch : NULL;
}

static struct charger_rt *by_mqtt_cookie(struct worker *w, uint64_t cookie)
{
    uint32_t slot = (uint32_t)(cookie >> 32), serial = (uint32_t)cookie;
    if (slot >= w->nslots || !w->slots[slot])
        return NULL;
    struct charger_rt *ch = w->slots[slot];
    return ch->mc && ch->mc_serial == serial ? ch : NULL;
}

static void *tag_of(const struct charger_rt *ch)
{
    return (void *)(uintptr_t)cookie_of(ch->slot, ch->serial);
}

/* ---- the owned set, sorted by fleet index ------------------------------------------------ */

static size_t lower_bound(struct worker *w, uint32_t index)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->by_index[mid]->m.index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct charger_rt *crt_find(struct worker *w, uint32_t index)
{
    size_t at = lower_bound(w, index);
    return at < w->n && w->by_index[at]->m.index == index ? w->by_index[at] : NULL;
}

static void set_insert(struct worker *w, struct charger_rt *ch)
{
    size_t at = lower_bound(w, ch->m.index);
    memmove(&w->by_index[at + 1], &w->by_index[at], (w->n - at) * sizeof(*w->by_index));
    w->by_index[at] = ch;
    w->n++;
    w->slots[ch->slot] = ch;
}

static void set_remove(struct worker *w, struct charger_rt *ch)
{
    size_t at = lower_bound(w, ch->m.index);
    if (at < w->n && w->by_index[at] == ch) {
        memmove(&w->by_index[at], &w->by_index[at + 1], (w->n - at - 1) * sizeof(*w->by_index));
        w->n--;
    }
    w->slots[ch->slot] = NULL;
}

/* ---- timers ----------------------------------------------------------------------------- */

static int64_t jitter_ms(struct charger_rt *ch, int64_t range_ms)
{
    return range_ms > 0 ? (int64_t)cs_rng_below(&ch->w->rng, (uint64_t)range_ms) : 0;
}

static void arm(struct event *ev, int64_t delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

/* A periodic report's timer: due after delay_ms, moved up to the worker's report grid
 * (report_tick_ms) so that the reports of many chargers leave together. */
static void arm_report(struct charger_rt *ch, struct event *ev, int64_t delay_ms)
{
    int64_t tick = ch->w->fleet.report_tick_ms, now = cs_mono_ms();
    if (tick > 0) {
        /* The nearest grid point: a timer that fired a little late and re-arms a whole
         * period ahead lands on the same phase again, not one tick later. */
        int64_t due = now + (delay_ms > 0 ? delay_ms : 0);
        due = (due + tick / 2) / tick * tick;
        if (due < now)
            due += tick; /* rounded into the past: the next grid point */
        delay_ms = due - now;
        /* libevent counts the delay from the time it cached when this loop turn began, which
         * a long turn leaves behind: refresh it, or the grid point is missed by that much. */
        event_base_update_cache_time(ch->w->base);
    }
    arm(ev, delay_ms);
}

/* Next fire keeps the charger's phase when it can (last + period), so a fleet-wide change
 * does not line the fleet up; when that moment has passed, a jittered point in one period. */
static void reschedule(struct charger_rt *ch, struct event *ev, int64_t last_ms, int period_s)
{
    int64_t period = (int64_t)period_s * 1000, now = cs_mono_ms();
    int64_t due = last_ms ? last_ms + period : 0;
    if (due <= now)
        due = now + jitter_ms(ch, period);
    arm_report(ch, ev, due - now);
}

int crt_heartbeat_s(const struct charger_rt *ch)
{
    return ch->hb_conf_s > 0 ? ch->hb_conf_s : crt_cfg(ch)->heartbeat_s;
}

void crt_reschedule_heartbeat(struct charger_rt *ch)
{
    if (ch->link == LINK_UP && !ch->paused)
        reschedule(ch, ch->hb_ev, ch->hb_last_ms, crt_heartbeat_s(ch));
}

static void stop_timers(struct charger_rt *ch)
{
    evtimer_del(ch->hb_ev);
    evtimer_del(ch->meter_ev);
}

static void start_timers(struct charger_rt *ch)
{
    /* First reports at a random point of their period: no lockstep across the fleet. */
    ch->hb_last_ms = ch->meter_last_ms = 0;
    arm_report(ch, ch->hb_ev, jitter_ms(ch, (int64_t)crt_heartbeat_s(ch) * 1000) + 1);
    arm_report(ch, ch->meter_ev, jitter_ms(ch, (int64_t)crt_cfg(ch)->meter_s * 1000) + 1);
}

static void on_heartbeat_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = privdata;
    if (ch->link != LINK_UP || ch->paused)
        return;
    ch->hb_last_ms = cs_mono_ms();
    struct cs_error err;
    if (session_trigger(ch, "Heartbeat", 0, NULL, &err))
        log_debug("%s", err.msg);
    arm_report(ch, ch->hb_ev, (int64_t)crt_heartbeat_s(ch) * 1000);
}

static void on_meter_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = privdata;
    /* Offline with an open transaction the meter keeps reading: session_meter_tick queues
     * the transaction's MeterValues for the return. */
    if (ch->paused || ch->releasing || ch->link == LINK_LOADING || ch->link == LINK_DISABLED)
        return;
    ch->meter_last_ms = cs_mono_ms();
    session_meter_tick(ch);
    arm_report(ch, ch->meter_ev, (int64_t)crt_cfg(ch)->meter_s * 1000);
}

void crt_pause(struct charger_rt *ch, bool paused)
{
    if (ch->paused == paused)
        return;
    ch->paused = paused;
    if (paused) {
        stop_timers(ch);
    } else if (ch->link == LINK_UP) {
        reschedule(ch, ch->hb_ev, ch->hb_last_ms, crt_heartbeat_s(ch));
        reschedule(ch, ch->meter_ev, ch->meter_last_ms, crt_cfg(ch)->meter_s);
    }
}

/* ---- config --------------------------------------------------------------------------------- */

/* where: in a layer selector reads config without the layers (base + the charger's own
 * overrides), so layers cannot select each other in circles. */
static bool pre_layer_value(void *privdata, const char *key, struct buf *out)
{
    const struct charger_cfg *pre = privdata;
    const struct cfg_def *d = cfg_lookup(&cfg_charger_schema, key);
    if (!d)
        return false;
    cfg_format(d, pre, true, out);
    return true;
}

/* Effective config: fleet defaults, then the matching layers in order, then the charger's
 * own overrides. Chargers that match no layer and have no overrides share the base. */
static void recompute(struct charger_rt *ch)
{
    struct worker *w = ch->w;
    struct charger_cfg pre = w->base_cfg;
    bool any = ch->over.n > 0;
    uint64_t matched = 0;
    cfg_apply_layer(&cfg_charger_schema, &pre, &ch->over);
    for (size_t i = 0; i < w->nlayers && i < 64; i++) {
        struct sel_subject subj = {ch->m.id, ch->m.index, w->name, pre_layer_value, &pre};
        if (w->layers[i].acc.n && sel_match(w->layers[i].sel, &subj)) {
            matched |= 1ull << i;
            any = true;
        }
    }
    if (!any) {
        cs_free(ch->own);
        ch->own = NULL;
        return;
    }
    if (!ch->own)
        ch->own = cs_malloc(sizeof(*ch->own));
    *ch->own = w->base_cfg;
    for (size_t i = 0; i < w->nlayers && i < 64; i++)
        if (matched & (1ull << i))
            cfg_apply_layer(&cfg_charger_schema, ch->own, &w->layers[i].acc);
    cfg_apply_layer(&cfg_charger_schema, ch->own, &ch->over);
}

static void apply_cfg(struct charger_rt *ch, const struct charger_cfg *old)
{
    const struct charger_cfg *c = crt_cfg(ch);
    unsigned mask = cfg_diff(&cfg_charger_schema, old, c);
    if (!mask)
        return;
    ch->w->st.cfg_changes++;
    if (old->enabled != c->enabled) {
        if (!c->enabled) {
            ch->reconnect_after = false;
            if (ch->link == LINK_UP || ch->link == LINK_CONNECTING)
                start_close(ch);
            else if (ch->link != LINK_LOADING && ch->link != LINK_CLOSING)
                want_connect(ch); /* dequeues and parks it as disabled */
            return;
        }
        if (ch->link == LINK_DISABLED)
            want_connect(ch);
        return;
    }
    if ((mask & (1u << CFG_APPLY_RECONNECT)) &&
        (ch->link == LINK_UP || ch->link == LINK_CONNECTING)) {
        log_info("%s: reconnecting to apply a config change", ch->m.id);
        ch->reconnect_after = true;
        start_close(ch);
        return;
    }
    if (old->heartbeat_s != c->heartbeat_s) {
        ch->hb_conf_s = 0; /* the operator's value wins over BootNotification.conf's */
        crt_reschedule_heartbeat(ch);
    }
    if (old->meter_s != c->meter_s && ch->link == LINK_UP && !ch->paused)
        reschedule(ch, ch->meter_ev, ch->meter_last_ms, c->meter_s);
    if (old->max_kw != c->max_kw)
        charger_set_max_kw(&ch->m, c->max_kw, cs_now_ms());
    session_config_changed(ch, old);
}

void crt_set_overrides(struct charger_rt *ch, const struct kvlist *incoming)
{
    struct charger_cfg old = *crt_cfg(ch);
    struct reject_scope rs = {ch->w, ch->m.id, true};
    cfg_layer_accept(&cfg_charger_schema, &ch->over, &ch->over_rej, incoming,
                     worker_config_rejected, &rs);
    recompute(ch);
    if (ch->link != LINK_LOADING)
        apply_cfg(ch, &old);
}

int crt_write_override(struct charger_rt *ch, const char *key, const char *value)
{
    char hk[CS_KEY_MAX];
    if (rds_cmd(ch->w->rc, NULL, NULL, "HSET %s %s %s",
                worker_key(ch->w, hk, K_CHARGER, ch->m.id), key, value) != CS_OK)
        return CS_ERR_IO;
    struct kvlist in = KVLIST_INIT;
    kv_copy(&in, &ch->over);
    kv_set(&in, key, value);
    crt_set_overrides(ch, &in);
    kv_free(&in);
    return CS_OK;
}

void crt_layers_changed(struct charger_rt *ch)
{
    struct charger_cfg old = *crt_cfg(ch);
    recompute(ch);
    if (ch->link != LINK_LOADING)
        apply_cfg(ch, &old);
}

void crt_base_changed(struct charger_rt *ch, const struct charger_cfg *old_base)
{
    struct charger_cfg old = ch->own ? *ch->own : *old_base;
    recompute(ch);
    if (ch->link != LINK_LOADING)
        apply_cfg(ch, &old);
}

/* ---- state in Redis ------------------------------------------------------------------------ */

static void finish_loading(struct charger_rt *ch)
{
    if (ch->link != LINK_LOADING || !ch->loaded_cfg || !ch->loaded_state)
        return;
    ch->m.time_scale = crt_cfg(ch)->time_scale;
    ch->link = LINK_IDLE;
    want_connect(ch);
}

static const char *field(const struct kvlist *st, int conn, const char *name)
{
    char k[40];
    snprintf(k, sizeof(k), "c%d.%s", conn, name);
    return kv_get(st, k);
}

/* Continues where the previous owner left off: registers, statuses, cable, transaction. */
static void restore_state(struct charger_rt *ch, const struct kvlist *st)
{
    int64_t v;
    double d;
    for (int i = 0; i <= CHARGER_MAX_CONN; i++) {
        struct connector *k = &ch->m.conn[i];
        enum ocpp_status s;
        enum ocpp_error e;
        const char *x;
        if (i > 0 && (x = field(st, i, "meter_wh")) && cs_parse_double(x, 0, 1e15, &d))
            k->meter_wh = d;
        if (i > ch->m.nconn)
            continue;
        if ((x = field(st, i, "status")) && ocpp_status_parse(x, &s))
            k->status = s;
        if ((x = field(st, i, "error")) && ocpp_error_parse(x, &e))
            k->error = e;
        if ((x = field(st, i, "plugged")))
            k->plugged = strcmp(x, "1") == 0;
        if (i > 0 && (x = field(st, i, "tx_id")) && cs_parse_i64(x, INT32_MIN, INT32_MAX, &v)) {
            k->tx_active = true;
            k->tx.id = (int32_t)v;
            k->tx.confirmed = v > 0;
            if ((x = field(st, i, "tx_tag")))
                cs_strlcpy(k->tx.id_tag, x, sizeof(k->tx.id_tag));
            if ((x = field(st, i, "tx_meter_start")) && cs_parse_double(x, 0, 1e15, &d))
                k->tx.meter_start_wh = d;
            if ((x = field(st, i, "tx_start_ms")) && cs_parse_i64(x, 0, INT64_MAX / 2, &v))
                k->tx.start_ms = v;
            if ((x = field(st, i, "tx_kw")) && cs_parse_double(x, 0, 1e6, &d))
                k->tx.kw = d;
        }
    }
    if (kv_get(st, "last_local_tx") && cs_parse_i64(kv_get(st, "last_local_tx"), INT32_MIN, 0, &v))
        ch->m.last_local_tx = (int32_t)v;
    /* A charger released on purpose leaves owner empty; otherwise its worker died with it. */
    const char *owner = kv_get(st, "owner");
    ch->crashed = owner && *owner;
    charger_set_max_kw(&ch->m, crt_cfg(ch)->max_kw, cs_now_ms());
}

static void on_state_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    struct worker *w = rds_privdata(r);
    struct charger_rt *ch = crt_by_serial(w, (uint64_t)(uintptr_t)privdata);
    if (!ch || !rds_reply_ok(reply))
        return; /* retried by the worker's lease tick while still loading */
    struct kvlist st = KVLIST_INIT;
    rds_reply_kv(reply, &st);
    restore_state(ch, &st);
    kv_free(&st);
    ch->loaded_state = true;
    finish_loading(ch);
}

static void on_overrides_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    struct worker *w = rds_privdata(r);
    struct charger_rt *ch = crt_by_serial(w, (uint64_t)(uintptr_t)privdata);
    if (!ch || !rds_reply_ok(reply))
        return;
    struct kvlist in = KVLIST_INIT;
    rds_reply_kv(reply, &in);
    crt_set_overrides(ch, &in);
    kv_free(&in);
    ch->loaded_cfg = true;
    finish_loading(ch);
}

void crt_reload(struct charger_rt *ch)
{
    char key[CS_KEY_MAX];
    worker_key(ch->w, key, K_CHARGER, ch->m.id);
    rds_cmd(ch->w->rc, on_overrides_loaded, tag_of(ch), "HGETALL %s", key);
    if (!ch->loaded_state) {
        worker_key(ch->w, key, K_STATE, ch->m.id);
        rds_cmd(ch->w->rc, on_state_loaded, tag_of(ch), "HGETALL %s", key);
    }
}

void crt_save_state(struct charger_rt *ch)
{
    enum { MAXF = 12 + 9 * (CHARGER_MAX_CONN + 1) };
    char key[CS_KEY_MAX], vals[MAXF][100], names[MAXF][32];
    const char *argv[2 + 2 * MAXF];
    int argc = 0, nv = 0;

    if (ch->link == LINK_LOADING)
        return; /* nothing known yet: never overwrite the saved state with defaults */
    charger_integrate(&ch->m, cs_now_ms());
    argv[argc++] = "HSET";
    argv[argc++] = worker_key(ch->w, key, K_STATE, ch->m.id);
#define PUT(name, ...)                                                                             \
    do {                                                                                           \
        snprintf(names[nv], sizeof(names[nv]), "%s", name);                                        \
        snprintf(vals[nv], sizeof(vals[nv]), __VA_ARGS__);                                         \
        argv[argc++] = names[nv];                                                                  \
        argv[argc++] = vals[nv++];                                                                 \
    } while (0)
#define PUTC(i, name, ...)                                                                         \
    do {                                                                                           \
        snprintf(names[nv], sizeof(names[nv]), "c%d.%s", i, name);                                 \
        snprintf(vals[nv], sizeof(vals[nv]), __VA_ARGS__);                                         \
        argv[argc++] = names[nv];                                                                  \
        argv[argc++] = vals[nv++];                                                                 \
    } while (0)
    PUT("connected", "%d", ch->link == LINK_UP && !ch->releasing);
    PUT("owner", "%s", ch->releasing ? "" : ch->w->name);
    /* Released: it is on its way out (the DISCONNECT follows this write). */
    PUT("link", "%s", link_state_name(ch->releasing ? LINK_IDLE : ch->link));
    PUT("updated_ms", "%lld", (long long)cs_now_ms());
    PUT("connectors", "%d", ch->m.nconn);
    PUT("energy_wh", "%.0f", charger_energy_wh(&ch->m));
    PUT("last_local_tx", "%d", (int)ch->m.last_local_tx);
    for (int i = 0; i <= ch->m.nconn; i++) {
        const struct connector *k = &ch->m.conn[i];
        PUTC(i, "status", "%s", ocpp_status_name(k->status));
        PUTC(i, "error", "%s", ocpp_error_name(k->error));
        if (i == 0)
            continue;
        PUTC(i, "meter_wh", "%.3f", k->meter_wh);
        PUTC(i, "plugged", "%d", k->plugged);
        if (k->tx_active) {
            PUTC(i, "tx_id", "%d", (int)k->tx.id);
            PUTC(i, "tx_tag", "%s", k->tx.id_tag);
            PUTC(i, "tx_meter_start", "%.3f", k->tx.meter_start_wh);
            PUTC(i, "tx_start_ms", "%lld", (long long)k->tx.start_ms);
            PUTC(i, "tx_kw", "%.3f", k->tx.kw);
        }
    }
#undef PUT
#undef PUTC
    rds_cmdv(ch->w->rc, NULL, NULL, argc, argv, NULL);
    /* Fields of a transaction that ended go. */
    char del[CHARGER_MAX_CONN][5][32];
    const char *dv[2 + 5 * CHARGER_MAX_CONN];
    int dc = 0;
    dv[dc++] = "HDEL";
    dv[dc++] = key;
    for (int i = 1; i <= ch->m.nconn; i++) {
        if (ch->m.conn[i].tx_active)
            continue;
        static const char *const txf[] = {"tx_id", "tx_tag", "tx_meter_start", "tx_start_ms",
                                          "tx_kw"};
        for (int f = 0; f < 5; f++) {
            snprintf(del[i - 1][f], sizeof(del[i - 1][f]), "c%d.%s", i, txf[f]);
            dv[dc++] = del[i - 1][f];
        }
    }
    if (dc > 2)
        rds_cmdv(ch->w->rc, NULL, NULL, dc, dv, NULL);
}

/* ---- publish queue ---------------------------------------------------------------------------- */

static void outmsg_free(struct outmsg *m)
{
    cs_free(m->topic);
    cs_free(m->payload);
    memset(m, 0, sizeof(*m));
}

static void drop_queue(struct charger_rt *ch)
{
    while (ch->qn) {
        outmsg_free(&ch->q[ch->qh]);
        ch->qh = (ch->qh + 1) % OUTQ_CAP;
        ch->qn--;
        ch->w->st.msgs_dropped++;
    }
    ch->qh = 0;
    ch->ninfl = 0;
}

static void pump(struct charger_rt *ch)
{
    struct worker *w = ch->w;
    while (ch->link == LINK_UP && ch->ninfl < MAX_INFLIGHT && ch->qn) {
        struct outmsg *m = &ch->q[ch->qh];
        int token = 0;
        if (mqtt_publish(ch->mc, m->topic, m->payload, m->len, m->qos, &token) == CS_OK) {
            ch->infl[ch->ninfl].token = token;
            ch->infl[ch->ninfl].t_us = cs_mono_us();
            ch->ninfl++;
            w->st.msgs_out++;
            ch->cs.msgs_out++;
            if (m->type >= 0 && m->type < MSG__COUNT)
                w->st.out_by_type[m->type]++;
            else if (m->type == MSG__COUNT)
                w->st.out_custom++;
            else if (m->type == -1)
                w->st.out_answers++;
        } else {
            w->st.publish_errors++;
        }
        outmsg_free(m);
        ch->qh = (ch->qh + 1) % OUTQ_CAP;
        ch->qn--;
    }
}

int crt_publish(struct charger_rt *ch, const char *topic, char *payload, size_t len, int type,
                struct cs_error *err)
{
    struct worker *w = ch->w;
    if (ch->link != LINK_UP) {
        cs_free(payload);
        w->st.msgs_dropped++;
        return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", ch->m.id,
                            link_state_name(ch->link));
    }
    if (ch->qn == OUTQ_CAP) {
        outmsg_free(&ch->q[ch->qh]);
        ch->qh = (ch->qh + 1) % OUTQ_CAP;
        ch->qn--;
        w->st.msgs_dropped++;
    }
    struct outmsg *q = &ch->q[(ch->qh + ch->qn) % OUTQ_CAP];
    q->topic = cs_strdup(topic);
    q->payload = payload;
    q->len = len;
    q->qos = crt_cfg(ch)->qos;
    q->type = type;
    ch->qn++;
    if (ch->dup_next && type >= 0 && ch->qn < OUTQ_CAP) {
        /* Chaos: this message goes out twice, byte for byte (same message id). */
        struct outmsg *d = &ch->q[(ch->qh + ch->qn) % OUTQ_CAP];
        d->topic = cs_strdup(topic);
        d->payload = cs_strndup(payload, len);
        d->len = len;
        d->qos = q->qos;
        d->type = type;
        ch->qn++;
        ch->dup_next = false;
        w->st.duplicated++;
    }
    pump(ch);
    return CS_OK;
}

int crt_topic(struct charger_rt *ch, const char *tmpl, const char *msg, struct buf *out,
              struct cs_error *err)
{
    char idx[16];
    snprintf(idx, sizeof(idx), "%u", ch->m.index);
    const struct tmpl_var vars[] = {
        {"id", ch->m.id}, {"index", idx}, {"msg", msg ? msg : ""}, {"worker", ch->w->name}};
    return tmpl_render(tmpl, vars, ARRAY_SIZE(vars), out, err);
}

/* ---- chaos ------------------------------------------------------------------------------------ */

/* The malformed frames garble sends, by kind: printf formats of a fresh message id, or raw
 * bytes (len > 0). */
static const struct {
    const char *kind, *frame;
    size_t len;
} garbles[] = {
    {"truncated", "[2,\"%s\",\"Heartbeat\",{", 0},
    {"notjson", "this is not OCPP %s", 0},
    {"wrongtype", "[\"2\",17,42,[]]", 0},
    {"empty", "", 0},
    {"binary", "\x00\xff\xfe\x01[2,", 8},
};

static int garble_of(const char *kind)
{
    for (size_t i = 0; i < ARRAY_SIZE(garbles); i++)
        if (strcmp(garbles[i].kind, kind) == 0)
            return (int)i;
    return -1;
}

bool crt_garble_kind_valid(const char *kind)
{
    return garble_of(kind) >= 0;
}

int crt_garble(struct charger_rt *ch, const char *kind, const char *msg, struct cs_error *err)
{
    if (ch->link != LINK_UP)
        return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", ch->m.id,
                            link_state_name(ch->link));
    int g = garble_of(kind ? kind : "truncated");
    if (g < 0)
        return cs_error_set(err, CS_ERR_INVAL, "garble: unknown kind '%.40s'", kind);
    char uid[37];
    struct buf frame = BUF_INIT, topic = BUF_INIT;
    cs_uuid4(&ch->w->rng, uid);
    if (garbles[g].len)
        buf_append(&frame, garbles[g].frame, garbles[g].len);
    else
        buf_printf(&frame, garbles[g].frame, uid);
    int rc = crt_topic(ch, crt_cfg(ch)->topic_up, msg ? msg : "Heartbeat", &topic, err);
    if (rc == CS_OK) {
        size_t len = frame.len;
        rc = crt_publish(ch, buf_cstr(&topic), buf_detach(&frame), len, -2, err);
        if (rc == CS_OK)
            ch->w->st.garbled++;
    }
    buf_free(&frame);
    buf_free(&topic);
    return rc;
}

int crt_dup_next(struct charger_rt *ch, struct cs_error *err)
{
    (void)err;
    ch->dup_next = true;
    return CS_OK;
}

/* ---- link ---------------------------------------------------------------------------------- */

static void dequeue(struct charger_rt *ch)
{
    struct worker *w = ch->w;
    struct charger_rt **pp = &w->q_head, *prev = NULL;
    while (*pp && *pp != ch) {
        prev = *pp;
        pp = &(*pp)->q_next;
    }
    if (!*pp)
        return;
    *pp = ch->q_next;
    if (w->q_tail == ch)
        w->q_tail = prev;
    ch->q_next = NULL;
    w->q_len--;
}

static void drop_client(struct charger_rt *ch)
{
    if (ch->mc) {
        mqtt_client_free(ch->mc);
        ch->mc = NULL;
    }
    ch->mc_serial = 0;
    drop_queue(ch);
}

/* The link is gone (lost, closed, dropped): heartbeats stop; meter readings go on while a
 * transaction is open (they queue for the return); the CALL layer keeps what it must. */
static void link_gone(struct charger_rt *ch)
{
    evtimer_del(ch->hb_ev);
    bool tx = false;
    for (int i = 1; i <= ch->m.nconn; i++)
        tx |= ch->m.conn[i].tx_active;
    if (!tx || ch->releasing)
        evtimer_del(ch->meter_ev);
    calls_link_down(ch);
}

/* Queue for a ramp token, or park it when disabled. */
static void want_connect(struct charger_rt *ch)
{
    struct worker *w = ch->w;
    if (ch->link == LINK_QUEUED)
        dequeue(ch);
    if (ch->releasing)
        return;
    if (!crt_cfg(ch)->enabled) {
        ch->link = LINK_DISABLED;
        return;
    }
    ch->link = LINK_QUEUED;
    if (w->q_tail)
        w->q_tail->q_next = ch;
    else
        w->q_head = ch;
    w->q_tail = ch;
    ch->q_next = NULL;
    w->q_len++;
    crt_ramp_kick(w);
}

void crt_connect_soon(struct charger_rt *ch)
{
    if (ch->link == LINK_OFFLINE || ch->link == LINK_IDLE || ch->link == LINK_BACKOFF) {
        evtimer_del(ch->retry_ev);
        ch->attempt = 0;
        want_connect(ch);
    }
}

static void backoff(struct charger_rt *ch)
{
    const struct charger_cfg *c = crt_cfg(ch);
    int64_t cap = c->reconnect_min_ms;
    for (int i = 0; i < ch->attempt && cap < c->reconnect_max_ms; i++)
        cap *= 2;
    if (cap > c->reconnect_max_ms)
        cap = c->reconnect_max_ms;
    ch->attempt++;
    ch->link = LINK_BACKOFF;
    arm(ch->retry_ev, jitter_ms(ch, cap) + 1); /* full jitter */
}

static void on_retry_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = privdata;
    if (ch->link == LINK_BACKOFF) {
        want_connect(ch);
    } else if (ch->link == LINK_CLOSING) {
        /* The broker never confirmed the DISCONNECT: close the socket ourselves. */
        log_debug("%s: disconnect timed out", ch->m.id);
        struct mqtt_event ev = {.type = MQTT_EV_DISCONNECTED,
                                .cookie = cookie_of(ch->slot, ch->mc_serial)};
        crt_on_mqtt(ch->w, &ev);
    }
}

/* The TLS files can be read: a missing or unreadable one is named once per charger, not
 * left to an opaque handshake failure. */
static bool tls_files_ok(struct charger_rt *ch, const struct charger_cfg *c, const char *cert,
                         const char *key)
{
    const struct {
        const char *key, *path;
    } files[] = {{"tls_ca", c->tls_ca}, {"tls_cert", cert}, {"tls_key", key}};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        if (!*files[i].path || access(files[i].path, R_OK) == 0)
            continue;
        if (ch->attempt == 0 || cs_log_enabled(CS_LOG_DEBUG))
            log_error("%s: %s '%s': %s", ch->m.id, files[i].key, files[i].path, strerror(errno));
        return false;
    }
    return true;
}

static void connect_now(struct charger_rt *ch)
{
    struct worker *w = ch->w;
    const struct charger_cfg *c = crt_cfg(ch);
    char uri[512], idx[16];
    struct buf cid = BUF_INIT, user = BUF_INIT, pass = BUF_INIT, cert = BUF_INIT, key = BUF_INIT;
    struct cs_error err = {0};
    int n = cfg_broker_count(c->broker);

    snprintf(idx, sizeof(idx), "%u", ch->m.index);
    const struct tmpl_var vars[] = {{"id", ch->m.id}, {"index", idx}, {"worker", w->name}};
    if (!cfg_broker_pick(c->broker, (int)(ch->m.index % (uint32_t)(n ? n : 1)), uri, sizeof(uri)) ||
        tmpl_render(c->client_id, vars, ARRAY_SIZE(vars), &cid, &err) ||
        tmpl_render(c->username, vars, ARRAY_SIZE(vars), &user, &err) ||
        tmpl_render(c->password, vars, ARRAY_SIZE(vars), &pass, &err) ||
        tmpl_render(c->tls_cert, vars, ARRAY_SIZE(vars), &cert, &err) ||
        tmpl_render(c->tls_key, vars, ARRAY_SIZE(vars), &key, &err)) {
        log_error("%s: cannot build connect options: %s", ch->m.id, err.msg);
        goto fail;
    }
    /* paho spells them tcp:// and ssl:// */
    if (strncmp(uri, "mqtt://", 7) == 0 || strncmp(uri, "mqtts://", 8) == 0) {
        bool tls = uri[4] == 's';
        size_t skip = tls ? 8 : 7;
        memmove(uri + 6, uri + skip, strlen(uri + skip) + 1);
        memcpy(uri, tls ? "ssl://" : "tcp://", 6);
    }
    if (strncmp(uri, "ssl://", 6) == 0 && !tls_files_ok(ch, c, buf_cstr(&cert), buf_cstr(&key)))
        goto fail;
    struct mqtt_opts o = {.uri = uri,
                          .client_id = buf_cstr(&cid),
                          .username = buf_cstr(&user),
                          .password = buf_cstr(&pass),
                          .keepalive_s = c->keepalive_s,
                          .clean_session = c->clean_session,
                          .connect_timeout_s = 15,
                          .max_inflight = 10,
                          .tls_ca = c->tls_ca,
                          .tls_cert = buf_cstr(&cert),
                          .tls_key = buf_cstr(&key),
                          .tls_key_password = c->tls_key_password,
                          .tls_verify = c->tls_verify};
    ch->mc_serial = next_serial(w);
    ch->mc = mqtt_client_new(&o, cookie_of(ch->slot, ch->mc_serial), &err);
    if (!ch->mc) {
        log_error("%s: %s", ch->m.id, err.msg);
        goto fail;
    }
    if (mqtt_connect(ch->mc) != CS_OK) {
        log_warn("%s: connect to %s refused by the library", ch->m.id, uri);
        drop_client(ch);
        goto fail;
    }
    ch->link = LINK_CONNECTING;
    goto out;
fail:
    w->st.connect_failures++;
    backoff(ch);
out:
    buf_free(&cid);
    buf_free(&user);
    buf_free(&pass);
    buf_free(&cert);
    buf_free(&key);
}

static void on_ramp_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    crt_ramp_kick(privdata);
}

void crt_setup(struct worker *w)
{
    w->ramp_ev = evtimer_new(w->base, on_ramp_timer, w);
}

void crt_ramp_kick(struct worker *w)
{
    int64_t now = cs_mono_us();
    double rate = w->fleet.ramp_per_s > 0 ? w->fleet.ramp_per_s : 1;
    double burst = rate / 20 > 1 ? rate / 20 : 1; /* at most 50 ms worth at once */
    if (w->ramp_last_us)
        w->tokens += rate * (double)(now - w->ramp_last_us) / 1e6;
    if (w->tokens > burst)
        w->tokens = burst;
    w->ramp_last_us = now;
    while (w->q_head && w->tokens >= 1 && worker_may_connect(w) && !w->stopping) {
        struct charger_rt *ch = w->q_head;
        dequeue(ch);
        w->tokens -= 1;
        connect_now(ch);
    }
    if (w->q_head && !evtimer_pending(w->ramp_ev, NULL)) {
        struct timeval tv = {0, RAMP_TICK_MS * 1000};
        evtimer_add(w->ramp_ev, &tv);
    }
}

/* Hands everything still queued to the MQTT library, past the in-flight window: it goes out
 * before the DISCONNECT that follows (answers to a Reset, the StopTransaction of a reboot). */
static void flush_all(struct charger_rt *ch)
{
    while (ch->link == LINK_UP && ch->qn) {
        struct outmsg *m = &ch->q[ch->qh];
        int token = 0;
        if (mqtt_publish(ch->mc, m->topic, m->payload, m->len, m->qos, &token) == CS_OK)
            ch->w->st.msgs_out++;
        else
            ch->w->st.publish_errors++;
        outmsg_free(m);
        ch->qh = (ch->qh + 1) % OUTQ_CAP;
        ch->qn--;
    }
}

static void start_close(struct charger_rt *ch)
{
    if (ch->link == LINK_UP) {
        calls_pump(ch);
        flush_all(ch);
        link_gone(ch);
    }
    else
        stop_timers(ch);
    if (ch->link == LINK_QUEUED)
        dequeue(ch);
    if (ch->mc && (ch->link == LINK_UP || ch->link == LINK_CONNECTING) &&
        mqtt_disconnect(ch->mc, 1000) == CS_OK) {
        ch->link = LINK_CLOSING;
        arm(ch->retry_ev, CLOSE_TIMEOUT_MS);
        return;
    }
    /* Not connected: nothing to say goodbye to. */
    ch->link = LINK_CLOSING;
    struct mqtt_event ev = {.type = MQTT_EV_DISCONNECTED,
                            .cookie = cookie_of(ch->slot, ch->mc_serial)};
    if (ch->mc) {
        crt_on_mqtt(ch->w, &ev);
    } else if (ch->releasing) {
        free_charger(ch);
    } else {
        ch->reconnect_after = false;
        ch->link = LINK_IDLE;
        want_connect(ch); /* parks as disabled when enabled=0 */
    }
}

void crt_drop_link(struct charger_rt *ch, bool graceful, bool reconnect)
{
    if (graceful) {
        ch->reconnect_after = reconnect;
        if (ch->link == LINK_UP || ch->link == LINK_CONNECTING) {
            start_close(ch);
            return;
        }
    } else {
        /* As a network loss: the socket goes, no DISCONNECT. */
        if (ch->link == LINK_UP)
            link_gone(ch);
        if (ch->link == LINK_QUEUED)
            dequeue(ch);
        evtimer_del(ch->retry_ev);
        drop_client(ch);
        ch->link = LINK_IDLE;
    }
    if (reconnect)
        want_connect(ch);
}

void crt_park(struct charger_rt *ch)
{
    switch (ch->link) {
    case LINK_UP:
    case LINK_CONNECTING:
    case LINK_QUEUED:
    case LINK_BACKOFF:
        crt_drop_link(ch, false, false);
        ch->parked = true;
        break;
    default: break; /* loading, idle, closing, offline on purpose, disabled: nothing to drop */
    }
}

void crt_unpark(struct charger_rt *ch)
{
    if (!ch->parked)
        return;
    ch->parked = false;
    if (ch->link == LINK_IDLE && !ch->releasing) {
        ch->attempt = 0;
        want_connect(ch);
    }
}

int crt_storm(struct charger_rt *ch, struct cs_error *err)
{
    if (ch->link != LINK_UP && ch->link != LINK_BACKOFF && ch->link != LINK_QUEUED)
        return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", ch->m.id,
                            link_state_name(ch->link));
    crt_drop_link(ch, false, false);
    ch->attempt = 0;
    connect_now(ch); /* no ramp token: everyone selected at once */
    return CS_OK;
}

static void on_connected(struct charger_rt *ch)
{
    struct buf topic = BUF_INIT;
    struct cs_error err;
    ch->link = LINK_UP;
    ch->attempt = 0;
    ch->w->st.connects++;
    ch->cs.connects++;
    if (crt_topic(ch, crt_cfg(ch)->topic_down, NULL, &topic, &err) == CS_OK)
        mqtt_subscribe(ch->mc, buf_cstr(&topic), 1);
    buf_free(&topic);
    session_on_connected(ch);
    if (!ch->paused)
        start_timers(ch);
    crt_save_state(ch);
}

static void on_ack(struct charger_rt *ch, int token, bool ok)
{
    for (int i = 0; i < ch->ninfl; i++) {
        if (ch->infl[i].token != token)
            continue;
        if (ok)
            hist_add(&ch->w->st.ack_us, (uint64_t)(cs_mono_us() - ch->infl[i].t_us));
        ch->infl[i] = ch->infl[--ch->ninfl];
        break;
    }
    if (!ok)
        ch->w->st.publish_errors++;
    pump(ch);
}

void crt_on_mqtt(struct worker *w, const struct mqtt_event *ev)
{
    struct charger_rt *ch = by_mqtt_cookie(w, ev->cookie);
    if (!ch)
        return; /* a client we already destroyed */
    switch (ev->type) {
    case MQTT_EV_CONNECTED:
        if (ch->link == LINK_CONNECTING)
            on_connected(ch);
        break;
    case MQTT_EV_CONNECT_FAILED:
        if (ch->link != LINK_CONNECTING)
            break;
        w->st.connect_failures++;
        if (ch->attempt == 0 || cs_log_enabled(CS_LOG_DEBUG))
            log_warn("%s: connect failed (code %d%s%s); retrying with backoff", ch->m.id,
                     ev->code, ev->msg && *ev->msg ? ": " : "", ev->msg ? ev->msg : "");
        drop_client(ch);
        if (ch->releasing)
            free_charger(ch);
        else
            backoff(ch);
        break;
    case MQTT_EV_TLS_ERROR:
        if (ch->attempt == 0 || cs_log_enabled(CS_LOG_DEBUG))
            log_warn("%s: TLS: %s", ch->m.id, ev->msg);
        break;
    case MQTT_EV_LOST:
        if (ch->link != LINK_UP)
            break;
        w->st.conn_lost++;
        ch->cs.conn_lost++;
        log_debug("%s: connection lost: %s", ch->m.id, ev->msg);
        link_gone(ch);
        drop_client(ch);
        backoff(ch);
        crt_save_state(ch);
        break;
    case MQTT_EV_DISCONNECTED:
        if (ch->link != LINK_CLOSING)
            break;
        evtimer_del(ch->retry_ev);
        drop_client(ch);
        if (ch->releasing) {
            free_charger(ch);
            break;
        }
        ch->link = LINK_IDLE;
        if (ch->reconnect_after)
            ch->reconnect_after = false;
        want_connect(ch); /* parks as disabled when enabled=0 */
        crt_save_state(ch);
        break;
    case MQTT_EV_SENT:
        on_ack(ch, ev->token, true);
        break;
    case MQTT_EV_SEND_FAILED:
        on_ack(ch, ev->token, false);
        break;
    case MQTT_EV_MESSAGE:
        w->st.msgs_in++;
        ch->cs.msgs_in++;
        if (ch->link == LINK_UP)
            downlink_on_message(ch, ev->payload, ev->len);
        break;
    case MQTT_EV_SUBSCRIBED:
        break;
    case MQTT_EV_SUBSCRIBE_FAILED:
        log_warn("%s: subscription to its downlink topic failed: %s", ch->m.id,
                 ev->msg && *ev->msg ? ev->msg : "refused");
        break;
    }
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

struct charger_rt *crt_add(struct worker *w, uint32_t index)
{
    uint32_t slot;
    for (slot = 0; slot < w->nslots && w->slots[slot]; slot++)
        ;
    if (slot == w->nslots)
        return NULL;
    struct charger_rt *ch = cs_calloc(1, sizeof(*ch));
    char id[CS_ID_MAX + 1];
    ch->w = w;
    ch->slot = slot;
    ch->serial = next_serial(w);
    idfmt_format(&w->idf, index, id, sizeof(id));
    charger_init(&ch->m, index, id, w->base_cfg.connectors, cs_now_ms());
    /* A fixed fleet seed makes every charger's random behaviour reproducible. */
    uint64_t seed = w->fleet.seed ? (uint64_t)w->fleet.seed * 0x9e3779b97f4a7c15ULL ^ index
                                  : cs_rng_next(&w->rng);
    cs_rng_seed(&ch->rng, seed);
    ch->link = LINK_LOADING;
    ch->hb_ev = evtimer_new(w->base, on_heartbeat_timer, ch);
    ch->meter_ev = evtimer_new(w->base, on_meter_timer, ch);
    ch->retry_ev = evtimer_new(w->base, on_retry_timer, ch);
    session_setup(ch);
    set_insert(w, ch);
    crt_reload(ch);
    return ch;
}

static void free_charger(struct charger_rt *ch)
{
    struct worker *w = ch->w;
    if (ch->link == LINK_QUEUED)
        dequeue(ch);
    set_remove(w, ch);
    drop_client(ch);
    session_teardown(ch);
    event_free(ch->hb_ev);
    event_free(ch->meter_ev);
    event_free(ch->retry_ev);
    kv_free(&ch->over);
    kv_free(&ch->over_rej);
    cs_free(ch->own);
    cs_free(ch);
    worker_charger_gone(w);
}

void crt_release(struct charger_rt *ch)
{
    if (ch->releasing)
        return;
    ch->releasing = true;
    ch->reconnect_after = false;
    evtimer_del(ch->retry_ev);
    /* connected=0, owner="": a planned move, not a crash. A charger parked with the lease may
     * already run elsewhere: its state there is newer than ours. */
    if (!ch->parked)
        crt_save_state(ch);
    if (ch->link == LINK_UP || ch->link == LINK_CONNECTING)
        start_close(ch);
    else if (ch->link != LINK_CLOSING)
        free_charger(ch);
}

void crt_destroy(struct charger_rt *ch)
{
    free_charger(ch);
}

void crt_gauges(struct worker *w)
{
    struct worker_stats *s = &w->st;
    s->assigned = w->n;
    s->connected = s->connecting = s->offline = s->disabled = s->paused = 0;
    s->charging = s->faulted = s->transactions = s->calls_queued = 0;
    for (size_t i = 0; i < w->n; i++) {
        const struct charger_rt *ch = w->by_index[i];
        switch (ch->link) {
        case LINK_UP: s->connected++; break;
        case LINK_IDLE:
            if (ch->parked) {
                s->offline++;
                break;
            }
            /* fall through */
        case LINK_LOADING:
        case LINK_QUEUED:
        case LINK_CONNECTING: s->connecting++; break;
        case LINK_BACKOFF:
        case LINK_CLOSING:
        case LINK_OFFLINE: s->offline++; break;
        case LINK_DISABLED: s->disabled++; break;
        case LINK__COUNT: break;
        }
        s->paused += ch->paused;
        s->calls_queued += ch->cq_len;
        for (int c = 0; c <= ch->m.nconn; c++) {
            s->charging += ch->m.conn[c].status == ST_CHARGING;
            s->faulted += ch->m.conn[c].status == ST_FAULTED;
            s->transactions += c > 0 && ch->m.conn[c].tx_active;
        }
    }
}
