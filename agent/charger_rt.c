/* charger_rt.c - chargers at run time: link state machine, connect ramp, timers with jitter,
 * outgoing queue, config layering and state persistence. [loop] throughout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "charger_rt.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/tmpl.h"
#include "mqtt.h"
#include "worker.h"

#define CLOSE_TIMEOUT_MS 2000
#define RAMP_TICK_MS 10

static const char *const link_names[] = {
    [LINK_LOADING] = "loading",       [LINK_IDLE] = "idle",       [LINK_QUEUED] = "queued",
    [LINK_CONNECTING] = "connecting", [LINK_UP] = "up",           [LINK_BACKOFF] = "backoff",
    [LINK_CLOSING] = "closing",       [LINK_DISABLED] = "disabled",
};
_Static_assert(ARRAY_SIZE(link_names) == LINK__COUNT, "link_names out of step");

const char *link_state_name(enum link_state s)
{
    return link_names[s];
}

static void want_connect(struct charger_rt *ch);
static void start_close(struct charger_rt *ch);
static void free_charger(struct charger_rt *ch);
static void save_state(struct charger_rt *ch);

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

/* ---- config --------------------------------------------------------------------------------- */

/* Recomputes the effective config from the worker base and the accepted overrides. */
static void recompute(struct charger_rt *ch)
{
    if (ch->over.n == 0) {
        cs_free(ch->own);
        ch->own = NULL;
        return;
    }
    if (!ch->own)
        ch->own = cs_malloc(sizeof(*ch->own));
    *ch->own = ch->w->base_cfg;
    cfg_apply_layer(&cfg_charger_schema, ch->own, &ch->over);
}

static void stop_timers(struct charger_rt *ch)
{
    evtimer_del(ch->hb_ev);
    evtimer_del(ch->meter_ev);
}

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

/* Next fire keeps the charger's phase when it can (last + period), so a fleet-wide change
 * does not line the fleet up; when that moment has passed, a jittered point in one period. */
static void reschedule(struct charger_rt *ch, struct event *ev, int64_t last_ms, int period_s)
{
    int64_t period = (int64_t)period_s * 1000, now = cs_mono_ms();
    int64_t due = last_ms ? last_ms + period : 0;
    if (due <= now)
        due = now + jitter_ms(ch, period);
    arm(ev, due - now);
}

static void start_timers(struct charger_rt *ch)
{
    const struct charger_cfg *c = crt_cfg(ch);
    int64_t now = cs_mono_ms();
    /* First reports at a random point of their period: no lockstep across the fleet. */
    ch->hb_last_ms = ch->meter_last_ms = 0;
    arm(ch->hb_ev, jitter_ms(ch, (int64_t)c->heartbeat_s * 1000) + 1);
    arm(ch->meter_ev, jitter_ms(ch, (int64_t)c->meter_s * 1000) + 1);
    (void)now;
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
            if (ch->link == LINK_UP || ch->link == LINK_CONNECTING) {
                start_close(ch);
            } else if (ch->link != LINK_LOADING && ch->link != LINK_CLOSING) {
                want_connect(ch); /* dequeues and parks it as disabled */
            }
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
    if (ch->link == LINK_UP && !ch->paused) {
        if (old->heartbeat_s != c->heartbeat_s)
            reschedule(ch, ch->hb_ev, ch->hb_last_ms, c->heartbeat_s);
        if (old->meter_s != c->meter_s)
            reschedule(ch, ch->meter_ev, ch->meter_last_ms, c->meter_s);
    }
    if (old->max_kw != c->max_kw)
        charger_set_max_kw(&ch->m, c->max_kw, cs_now_ms());
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

void crt_base_changed(struct charger_rt *ch, const struct charger_cfg *old_base)
{
    struct charger_cfg old = ch->own ? *ch->own : *old_base;
    recompute(ch);
    if (ch->link != LINK_LOADING)
        apply_cfg(ch, &old);
}

/* ---- loading from Redis -------------------------------------------------------------------- */

static void finish_loading(struct charger_rt *ch)
{
    if (ch->link != LINK_LOADING || !ch->loaded_cfg || !ch->loaded_state)
        return;
    ch->link = LINK_IDLE;
    want_connect(ch);
}

static void restore_state(struct charger_rt *ch, const struct kvlist *st)
{
    char k[32];
    for (int i = 0; i <= CHARGER_MAX_CONN; i++) {
        double wh;
        enum ocpp_status s;
        enum ocpp_error e;
        snprintf(k, sizeof(k), "c%d.meter_wh", i);
        const char *v = kv_get(st, k);
        if (i > 0 && v && cs_parse_double(v, 0, 1e15, &wh))
            ch->m.conn[i].meter_wh = wh;
        snprintf(k, sizeof(k), "c%d.status", i);
        v = kv_get(st, k);
        if (v && ocpp_status_parse(v, &s) && i <= ch->m.nconn)
            ch->m.conn[i].status = s;
        snprintf(k, sizeof(k), "c%d.error", i);
        v = kv_get(st, k);
        if (v && ocpp_error_parse(v, &e) && i <= ch->m.nconn)
            ch->m.conn[i].error = e;
    }
    charger_set_max_kw(&ch->m, crt_cfg(ch)->max_kw, cs_now_ms());
}

static void on_state_loaded(struct rds *r, const struct rds_reply *reply, void *privdata)
{
    struct worker *w = rds_privdata(r);
    struct charger_rt *ch = crt_by_serial(w, (uint64_t)(uintptr_t)privdata);
    if (!ch)
        return;
    if (!rds_reply_ok(reply))
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
    void *tag = (void *)(uintptr_t)cookie_of(ch->slot, ch->serial);
    worker_key(ch->w, key, K_CHARGER, ch->m.id);
    rds_cmd(ch->w->rc, on_overrides_loaded, tag, "HGETALL %s", key);
    if (!ch->loaded_state) {
        worker_key(ch->w, key, K_STATE, ch->m.id);
        rds_cmd(ch->w->rc, on_state_loaded, tag, "HGETALL %s", key);
    }
}

/* ---- state persistence ---------------------------------------------------------------------- */

static void save_state(struct charger_rt *ch)
{
    char key[CS_KEY_MAX], vals[3 * (CHARGER_MAX_CONN + 1) + 8][100], names[3 * (CHARGER_MAX_CONN + 1)][24];
    const char *argv[2 + 2 * (3 * (CHARGER_MAX_CONN + 1) + 8)];
    int argc = 0, nv = 0, nn = 0;

    charger_integrate(&ch->m, cs_now_ms());
    argv[argc++] = "HSET";
    argv[argc++] = worker_key(ch->w, key, K_STATE, ch->m.id);
#define PUT(name, ...)                                                                             \
    do {                                                                                           \
        snprintf(vals[nv], sizeof(vals[nv]), __VA_ARGS__);                                         \
        argv[argc++] = name;                                                                       \
        argv[argc++] = vals[nv++];                                                                 \
    } while (0)
    PUT("connected", "%d", ch->link == LINK_UP && !ch->releasing);
    PUT("owner", "%s", ch->releasing ? "" : ch->w->name);
    PUT("updated_ms", "%lld", (long long)cs_now_ms());
    PUT("connectors", "%d", ch->m.nconn);
    PUT("energy_wh", "%.0f", charger_energy_wh(&ch->m));
    for (int i = 0; i <= ch->m.nconn; i++) {
        snprintf(names[nn], sizeof(names[nn]), "c%d.status", i);
        PUT(names[nn++], "%s", ocpp_status_name(ch->m.conn[i].status));
        snprintf(names[nn], sizeof(names[nn]), "c%d.error", i);
        PUT(names[nn++], "%s", ocpp_error_name(ch->m.conn[i].error));
        if (i > 0) {
            snprintf(names[nn], sizeof(names[nn]), "c%d.meter_wh", i);
            PUT(names[nn++], "%.3f", ch->m.conn[i].meter_wh);
        }
    }
#undef PUT
    rds_cmdv(ch->w->rc, NULL, NULL, argc, argv, NULL);
}

/* ---- outgoing messages ---------------------------------------------------------------------- */

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
            w->st.out_by_type[m->type]++;
        } else {
            w->st.publish_errors++;
        }
        outmsg_free(m);
        ch->qh = (ch->qh + 1) % OUTQ_CAP;
        ch->qn--;
    }
}

int crt_send(struct charger_rt *ch, const struct msg_def *m, int connector, const char *context,
             const struct kvlist *over, struct cs_error *err)
{
    struct worker *w = ch->w;
    const struct charger_cfg *c = crt_cfg(ch);
    if (ch->link != LINK_UP) {
        w->st.msgs_dropped++;
        return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", ch->m.id,
                            link_state_name(ch->link));
    }
    charger_integrate(&ch->m, cs_now_ms());
    char uid[37], idx[16];
    cs_uuid4(&w->rng, uid);
    struct msg_ctx ctx = {&ch->m, c, cs_now_ms(), connector, context, over};
    struct buf payload = BUF_INIT, topic = BUF_INIT;
    int rc = catalog_build_call(m, &ctx, uid, &payload, err);
    if (rc)
        goto out;
    snprintf(idx, sizeof(idx), "%u", ch->m.index);
    const struct tmpl_var vars[] = {
        {"id", ch->m.id}, {"index", idx}, {"msg", m->name}, {"worker", w->name}};
    rc = tmpl_render(c->topic_up, vars, ARRAY_SIZE(vars), &topic, err);
    if (rc)
        goto out;
    if (ch->qn == OUTQ_CAP) {
        outmsg_free(&ch->q[ch->qh]);
        ch->qh = (ch->qh + 1) % OUTQ_CAP;
        ch->qn--;
        w->st.msgs_dropped++;
    }
    struct outmsg *q = &ch->q[(ch->qh + ch->qn) % OUTQ_CAP];
    q->len = payload.len;
    q->payload = buf_detach(&payload);
    q->topic = buf_detach(&topic);
    q->qos = c->qos;
    q->type = m->id;
    ch->qn++;
    pump(ch);
out:
    buf_free(&payload);
    buf_free(&topic);
    return rc;
}

static void send_status(struct charger_rt *ch, int conn)
{
    struct cs_error err;
    if (crt_send(ch, catalog_get(MSG_STATUS_NOTIFICATION), conn, NULL, NULL, &err))
        log_debug("%s", err.msg);
}

int crt_set_status(struct charger_rt *ch, int conn, enum ocpp_status st, enum ocpp_error e,
                   const char *info, struct cs_error *err)
{
    int from = conn < 0 ? 1 : conn, to = conn < 0 ? ch->m.nconn : conn;
    const struct charger_cfg *c = crt_cfg(ch);
    for (int i = from; i <= to; i++) {
        int rc = charger_set_status(&ch->m, i, st, e, c->max_kw, cs_now_ms(), err);
        if (rc)
            return rc;
    }
    struct kvlist over = KVLIST_INIT;
    if (info)
        kv_set(&over, "info", info);
    int rc = CS_OK;
    for (int i = from; i <= to; i++) {
        int r = crt_send(ch, catalog_get(MSG_STATUS_NOTIFICATION), i, NULL, &over, err);
        if (r && !rc)
            rc = r;
    }
    kv_free(&over);
    save_state(ch);
    return rc;
}

void crt_pause(struct charger_rt *ch, bool paused)
{
    if (ch->paused == paused)
        return;
    ch->paused = paused;
    if (paused) {
        stop_timers(ch);
    } else if (ch->link == LINK_UP) {
        const struct charger_cfg *c = crt_cfg(ch);
        reschedule(ch, ch->hb_ev, ch->hb_last_ms, c->heartbeat_s);
        reschedule(ch, ch->meter_ev, ch->meter_last_ms, c->meter_s);
    }
}

/* ---- timers ----------------------------------------------------------------------------------- */

static void on_heartbeat_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = privdata;
    if (ch->link != LINK_UP || ch->paused)
        return;
    struct cs_error err;
    ch->hb_last_ms = cs_mono_ms();
    if (crt_send(ch, catalog_get(MSG_HEARTBEAT), 0, NULL, NULL, &err))
        log_debug("%s", err.msg);
    arm(ch->hb_ev, (int64_t)crt_cfg(ch)->heartbeat_s * 1000);
}

static void on_meter_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = privdata;
    if (ch->link != LINK_UP || ch->paused)
        return;
    struct cs_error err;
    ch->meter_last_ms = cs_mono_ms();
    for (int i = 1; i <= ch->m.nconn; i++)
        if (crt_send(ch, catalog_get(MSG_METER_VALUES), i, NULL, NULL, &err))
            log_debug("%s", err.msg);
    save_state(ch);
    arm(ch->meter_ev, (int64_t)crt_cfg(ch)->meter_s * 1000);
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

static void connect_now(struct charger_rt *ch)
{
    struct worker *w = ch->w;
    const struct charger_cfg *c = crt_cfg(ch);
    char uri[512], idx[16];
    struct buf cid = BUF_INIT, user = BUF_INIT, pass = BUF_INIT;
    struct cs_error err = {0};
    int n = cfg_broker_count(c->broker);

    snprintf(idx, sizeof(idx), "%u", ch->m.index);
    const struct tmpl_var vars[] = {{"id", ch->m.id}, {"index", idx}, {"worker", w->name}};
    if (!cfg_broker_pick(c->broker, (int)(ch->m.index % (uint32_t)(n ? n : 1)), uri, sizeof(uri)) ||
        tmpl_render(c->client_id, vars, ARRAY_SIZE(vars), &cid, &err) ||
        tmpl_render(c->username, vars, ARRAY_SIZE(vars), &user, &err) ||
        tmpl_render(c->password, vars, ARRAY_SIZE(vars), &pass, &err)) {
        log_error("%s: cannot build connect options: %s", ch->m.id, err.msg);
        goto fail;
    }
    if (strncmp(uri, "mqtt://", 7) == 0) { /* paho spells it tcp:// */
        memmove(uri + 6, uri + 7, strlen(uri + 7) + 1);
        memcpy(uri, "tcp://", 6);
    }
    struct mqtt_opts o = {uri,           buf_cstr(&cid), buf_cstr(&user), buf_cstr(&pass),
                          c->keepalive_s, c->clean_session, 15, 10};
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

static void start_close(struct charger_rt *ch)
{
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
    struct mqtt_event ev = {.type = MQTT_EV_DISCONNECTED,
                            .cookie = cookie_of(ch->slot, ch->mc_serial)};
    ch->link = LINK_CLOSING;
    if (ch->mc) {
        crt_on_mqtt(ch->w, &ev);
    } else if (ch->releasing) {
        free_charger(ch);
    } else if (ch->reconnect_after) {
        ch->reconnect_after = false;
        want_connect(ch);
    } else {
        want_connect(ch); /* parks as disabled */
    }
}

static void on_connected(struct charger_rt *ch)
{
    struct worker *w = ch->w;
    const struct charger_cfg *c = crt_cfg(ch);
    char idx[16];
    struct buf topic = BUF_INIT;
    struct cs_error err;

    ch->link = LINK_UP;
    ch->attempt = 0;
    w->st.connects++;
    snprintf(idx, sizeof(idx), "%u", ch->m.index);
    const struct tmpl_var vars[] = {{"id", ch->m.id}, {"index", idx}, {"worker", w->name}};
    if (tmpl_render(c->topic_down, vars, ARRAY_SIZE(vars), &topic, &err) == CS_OK)
        mqtt_subscribe(ch->mc, buf_cstr(&topic), 1);
    buf_free(&topic);

    if (!ch->booted || c->boot_on_reconnect) {
        if (c->connectors != ch->m.nconn) {
            /* A new connector count takes effect at boot. */
            int old = ch->m.nconn;
            ch->m.nconn = c->connectors;
            for (int i = old + 1; i <= ch->m.nconn; i++) {
                ch->m.conn[i].status = ST_AVAILABLE;
                ch->m.conn[i].error = OE_NO_ERROR;
                ch->m.conn[i].power_w = 0;
            }
        }
        crt_send(ch, catalog_get(MSG_BOOT_NOTIFICATION), 0, NULL, NULL, &err);
        for (int i = 0; i <= ch->m.nconn; i++)
            send_status(ch, i);
        ch->booted = true;
    }
    if (!ch->paused)
        start_timers(ch);
    save_state(ch);
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
    case MQTT_EV_LOST:
        if (ch->link != LINK_UP)
            break;
        w->st.conn_lost++;
        log_debug("%s: connection lost: %s", ch->m.id, ev->msg);
        stop_timers(ch);
        drop_client(ch);
        backoff(ch);
        save_state(ch);
        break;
    case MQTT_EV_DISCONNECTED:
        if (ch->link != LINK_CLOSING)
            break;
        evtimer_del(ch->retry_ev);
        drop_client(ch);
        if (ch->releasing) {
            free_charger(ch);
        } else if (ch->reconnect_after) {
            ch->reconnect_after = false;
            ch->link = LINK_IDLE;
            want_connect(ch);
        } else {
            ch->link = LINK_IDLE;
            want_connect(ch); /* parks as disabled when enabled=0 */
            save_state(ch);
        }
        break;
    case MQTT_EV_SENT:
        on_ack(ch, ev->token, true);
        break;
    case MQTT_EV_SEND_FAILED:
        on_ack(ch, ev->token, false);
        break;
    case MQTT_EV_MESSAGE:
        w->st.msgs_in++;
        log_debug("%s: downlink on %s (%zu bytes)", ch->m.id, ev->topic, ev->len);
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
    ch->link = LINK_LOADING;
    ch->hb_ev = evtimer_new(w->base, on_heartbeat_timer, ch);
    ch->meter_ev = evtimer_new(w->base, on_meter_timer, ch);
    ch->retry_ev = evtimer_new(w->base, on_retry_timer, ch);
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
    if (ch->link == LINK_UP)
        save_state(ch); /* connected=0, owner="" */
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
    s->charging = s->faulted = 0;
    for (size_t i = 0; i < w->n; i++) {
        const struct charger_rt *ch = w->by_index[i];
        switch (ch->link) {
        case LINK_UP: s->connected++; break;
        case LINK_LOADING:
        case LINK_IDLE:
        case LINK_QUEUED:
        case LINK_CONNECTING: s->connecting++; break;
        case LINK_BACKOFF:
        case LINK_CLOSING: s->offline++; break;
        case LINK_DISABLED: s->disabled++; break;
        case LINK__COUNT: break;
        }
        s->paused += ch->paused;
        for (int c = 0; c <= ch->m.nconn; c++) {
            s->charging += ch->m.conn[c].status == ST_CHARGING;
            s->faulted += ch->m.conn[c].status == ST_FAULTED;
        }
    }
}
