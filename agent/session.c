/* session.c - charger behaviour. Every message goes through the CALL layer (calls.c); status
 * changes go through the transition table of the model (common/src/charger.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "calls.h"
#include "charger_rt.h"
#include "cs/jtmpl.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "cs/rds.h"
#include "cs/tmpl.h"
#include "session.h"
#include "worker.h"

#define FIRMWARE_STEP_S 10   /* simulated seconds per firmware step */
#define FAULT_CLEAR_MEAN_S 300 /* a random fault lasts this long on average (simulated) */
#define BOOT_RETRY_DEFAULT_S 30

static void schedule(struct charger_rt *ch);

/* ---- helpers ----------------------------------------------------------------------------- */

static const struct charger_cfg *cfg(const struct charger_rt *ch)
{
    return crt_cfg(ch);
}

/* Real milliseconds for a span of simulated seconds. */
static int64_t real_ms(const struct charger_rt *ch, double sim_s)
{
    double ms = sim_s * 1000.0 / cfg(ch)->time_scale;
    return ms > 1e12 ? (int64_t)1e12 : (int64_t)ms;
}

/* Exponentially distributed simulated seconds with the given mean. */
static double exp_s(struct charger_rt *ch, double mean_s)
{
    double u = cs_rng_double(&ch->rng);
    return -log(1.0 - u) * mean_s;
}

static void ctx_init(struct charger_rt *ch, int conn, struct msg_ctx *x)
{
    int64_t now = cs_now_ms();
    memset(x, 0, sizeof(*x));
    charger_integrate(&ch->m, now);
    x->ch = &ch->m;
    x->cfg = cfg(ch);
    x->now_ms = now;
    x->connector = conn;
    if (conn > 0 && ch->m.conn[conn].tx_active) {
        x->tx_id = ch->m.conn[conn].tx.id;
        x->id_tag = ch->m.conn[conn].tx.id_tag;
    }
    x->meter_wh = conn > 0 ? ch->m.conn[conn].meter_wh : charger_energy_wh(&ch->m);
}

static int emit(struct charger_rt *ch, enum msg_id id, const struct msg_ctx *x, unsigned flags,
                enum call_cont cont)
{
    struct cs_error err;
    int rc = calls_send(ch, catalog_get(id), x, flags, cont, &err);
    if (rc)
        log_debug("%s: %s", ch->m.id, err.msg);
    return rc;
}

static void send_status(struct charger_rt *ch, int conn, const char *info)
{
    struct msg_ctx x;
    struct kvlist over = KVLIST_INIT;
    ctx_init(ch, conn, &x);
    if (info && *info) {
        kv_set(&over, "info", info);
        x.over = &over;
    }
    emit(ch, MSG_STATUS_NOTIFICATION, &x, 0, K_NONE);
    kv_free(&over);
}

static void make_id_tag(struct charger_rt *ch, const char *given, char out[21])
{
    if (given && *given) {
        cs_strlcpy(out, given, 21);
        return;
    }
    char idx[16];
    struct buf b = BUF_INIT;
    snprintf(idx, sizeof(idx), "%u", ch->m.index);
    const struct tmpl_var vars[] = {{"id", ch->m.id}, {"index", idx}};
    if (tmpl_render(cfg(ch)->id_tag, vars, ARRAY_SIZE(vars), &b, NULL) != CS_OK)
        buf_puts(&b, "UNKNOWN");
    cs_strlcpy(out, buf_cstr(&b), 21);
    buf_free(&b);
}

static bool conn_ok(const struct charger_rt *ch, int conn, bool allow_zero, struct cs_error *err)
{
    if (conn < (allow_zero ? 0 : 1) || conn > ch->m.nconn) {
        cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist (%d..%d)", ch->m.id, conn,
                     allow_zero ? 0 : 1, ch->m.nconn);
        return false;
    }
    return true;
}

/* Applies a connector event: a row that ends the transaction sends StopTransaction (with
 * `reason`) before the StatusNotification of the new status. */
static int apply_event(struct charger_rt *ch, int conn, enum conn_event ev, enum stop_reason reason,
                       struct cs_error *err);

/* ---- transactions ---------------------------------------------------------------------- */

/* StopTransaction for the open transaction of conn (its status already moved). */
static void stop_tx(struct charger_rt *ch, int conn, enum stop_reason reason)
{
    struct connector *k = &ch->m.conn[conn];
    if (!k->tx_active)
        return;
    struct msg_ctx x;
    ctx_init(ch, conn, &x);
    x.tx_id = k->tx.id;
    x.id_tag = k->tx.id_tag;
    x.meter_wh = charger_tx_end(&ch->m, conn, x.now_ms);
    x.reason = stop_reason_name(reason);
    emit(ch, MSG_STOP_TRANSACTION, &x, CALL_TX, K_STOP_TX);
    ch->auto_tx[conn] = false;
    ch->w->st.sessions_stopped++;

}

static int apply_event(struct charger_rt *ch, int conn, enum conn_event ev, enum stop_reason reason,
                       struct cs_error *err)
{
    const struct transition *row;
    enum ocpp_status before = ch->m.conn[conn].status;
    int rc = charger_event(&ch->m, conn, ev, cfg(ch)->max_kw, cs_now_ms(), &row, err);
    if (rc)
        return rc;
    if (row->act & CA_STOP_TX)
        stop_tx(ch, conn, reason);
    if (ch->m.conn[conn].status != before)
        send_status(ch, conn, NULL);
    /* ChangeAvailability answered Scheduled: Unavailable as soon as the connector allows it
     * (its current status goes out first). */
    if (ch->inoperative_pending[conn] && !ch->m.conn[conn].tx_active &&
        charger_transition(ch->m.conn[conn].status, CE_INOPERATIVE)) {
        ch->inoperative_pending[conn] = false;
        apply_event(ch, conn, CE_INOPERATIVE, SR_OTHER, NULL);
    }
    return CS_OK;
}

/* Authorised: StartTransaction, Charging, MeterValues Transaction.Begin. */
static void begin_tx(struct charger_rt *ch, int conn)
{
    struct start_req *rq = &ch->start[conn];
    struct connector *k = &ch->m.conn[conn];
    const struct charger_cfg *c = cfg(ch);
    struct cs_error err;
    int64_t now = cs_now_ms();

    rq->active = false;
    if (k->status != ST_PREPARING || k->tx_active)
        return; /* unplugged, faulted or started meanwhile */
    double kw = rq->kw > 0 && rq->kw < c->max_kw ? rq->kw : c->max_kw;
    double soc0 = 10 + cs_rng_double(&ch->rng) * 50;
    int64_t end = rq->minutes > 0 ? now + real_ms(ch, rq->minutes * 60) : 0;
    charger_tx_begin(&ch->m, conn, rq->id_tag, kw, rq->kwh * 1000, end, soc0, now);
    ch->auto_tx[conn] = rq->auto_session;
    struct msg_ctx x;
    ctx_init(ch, conn, &x);
    x.meter_wh = k->tx.meter_start_wh;
    emit(ch, MSG_START_TRANSACTION, &x, CALL_TX, K_START_TX);
    if (apply_event(ch, conn, CE_START, SR_OTHER, &err))
        log_debug("%s", err.msg);
    ctx_init(ch, conn, &x);
    x.context = "Transaction.Begin";
    emit(ch, MSG_METER_VALUES, &x, CALL_TX, K_NONE);
    ch->w->st.sessions_started++;
    crt_save_state(ch);
    schedule(ch);
}

int session_free_connector(const struct charger_rt *ch)
{
    for (int i = 1; i <= ch->m.nconn; i++) {
        const struct connector *k = &ch->m.conn[i];
        if (!k->tx_active && !ch->start[i].active &&
            (k->status == ST_AVAILABLE || k->status == ST_PREPARING ||
             k->status == ST_FINISHING || k->status == ST_RESERVED))
            return i;
    }
    return -1;
}

static int start(struct charger_rt *ch, int conn, const char *id_tag, double kw, double kwh,
                 double minutes, bool remote, bool auto_session, struct cs_error *err)
{
    if (conn < 0)
        conn = session_free_connector(ch);
    if (conn < 0)
        return cs_error_set(err, CS_ERR_STATE, "%s: no free connector", ch->m.id);
    if (!conn_ok(ch, conn, false, err))
        return CS_ERR_RANGE;
    struct connector *k = &ch->m.conn[conn];
    if (k->tx_active || ch->start[conn].active)
        return cs_error_set(err, CS_ERR_STATE, "%s: connector %d already has a session",
                            ch->m.id, conn);
    if (k->status == ST_FINISHING) {
        /* Finishing -> Preparing: a new session with the cable still in (F2). */
        charger_set_status(&ch->m, conn, ST_PREPARING, OE_NO_ERROR, cfg(ch)->max_kw, true,
                           cs_now_ms(), NULL);
        send_status(ch, conn, NULL);
    } else if (k->status != ST_PREPARING) {
        int rc = apply_event(ch, conn, CE_PLUG, SR_OTHER, err);
        if (rc)
            return rc;
        if (k->status != ST_PREPARING)
            return cs_error_set(err, CS_ERR_STATE, "%s: connector %d is %s: cannot start",
                                ch->m.id, conn, ocpp_status_name(k->status));
    }
    struct start_req *rq = &ch->start[conn];
    memset(rq, 0, sizeof(*rq));
    rq->active = true;
    make_id_tag(ch, id_tag, rq->id_tag);
    rq->kw = kw;
    rq->kwh = kwh;
    rq->minutes = minutes;
    rq->auto_session = auto_session;
    if (remote && !cfg(ch)->authorize_remote) {
        begin_tx(ch, conn);
        return CS_OK;
    }
    struct msg_ctx x;
    ctx_init(ch, conn, &x);
    x.id_tag = rq->id_tag;
    emit(ch, MSG_AUTHORIZE, &x, 0, K_AUTHORIZE);
    return CS_OK;
}

int session_start(struct charger_rt *ch, int conn, const char *id_tag, double kw, double kwh,
                  double minutes, bool remote, struct cs_error *err)
{
    return start(ch, conn, id_tag, kw, kwh, minutes, remote, false, err);
}

int session_stop(struct charger_rt *ch, int conn, enum stop_reason reason, struct cs_error *err)
{
    int from = conn < 0 ? 1 : conn, to = conn < 0 ? ch->m.nconn : conn, stopped = 0;
    if (conn >= 0 && !conn_ok(ch, conn, false, err))
        return CS_ERR_RANGE;
    for (int i = from; i <= to; i++) {
        if (!ch->m.conn[i].tx_active)
            continue;
        if (apply_event(ch, i, CE_STOP, reason, err) == CS_OK)
            stopped++;
    }
    if (!stopped)
        return cs_error_set(err, CS_ERR_NOOP, "%s: no open transaction%s", ch->m.id,
                            conn < 0 ? "" : " on that connector");
    crt_save_state(ch);
    schedule(ch);
    return CS_OK;
}

bool session_remote_stop(struct charger_rt *ch, int32_t tx_id)
{
    int conn = charger_tx_find(&ch->m, tx_id);
    return conn > 0 && session_stop(ch, conn, SR_REMOTE, NULL) == CS_OK;
}

int session_plug(struct charger_rt *ch, int conn, struct cs_error *err)
{
    if (conn < 0) {
        for (int i = 1; i <= ch->m.nconn && conn < 0; i++)
            if (!ch->m.conn[i].plugged && (ch->m.conn[i].status == ST_AVAILABLE ||
                                           ch->m.conn[i].status == ST_RESERVED))
                conn = i;
        if (conn < 0)
            return cs_error_set(err, CS_ERR_STATE, "%s: no Available connector to plug into",
                                ch->m.id);
    }
    if (!conn_ok(ch, conn, false, err))
        return CS_ERR_RANGE;
    int rc = apply_event(ch, conn, CE_PLUG, SR_OTHER, err);
    if (rc == CS_OK)
        crt_save_state(ch);
    return rc;
}

int session_unplug(struct charger_rt *ch, int conn, struct cs_error *err)
{
    int from = conn < 0 ? 1 : conn, to = conn < 0 ? ch->m.nconn : conn, done = 0;
    if (conn >= 0 && !conn_ok(ch, conn, false, err))
        return CS_ERR_RANGE;
    for (int i = from; i <= to; i++) {
        if (!ch->m.conn[i].plugged)
            continue;
        ch->start[i].active = false;
        if (apply_event(ch, i, CE_UNPLUG, SR_EV_DISCONNECTED, err) == CS_OK)
            done++;
    }
    if (!done)
        return cs_error_set(err, CS_ERR_NOOP, "%s: nothing plugged in%s", ch->m.id,
                            conn < 0 ? "" : " on that connector");
    crt_save_state(ch);
    schedule(ch);
    return CS_OK;
}

int session_fault(struct charger_rt *ch, int conn, enum ocpp_error code, const char *info,
                  struct cs_error *err)
{
    if (conn < 0)
        conn = 1;
    if (!conn_ok(ch, conn, true, err))
        return CS_ERR_RANGE;
    if (code == OE_NO_ERROR)
        code = OE_OTHER_ERROR;
    if (conn == 0) {
        int rc = charger_set_status(&ch->m, 0, ST_FAULTED, code, cfg(ch)->max_kw, false,
                                    cs_now_ms(), err);
        if (rc)
            return rc;
        send_status(ch, 0, info);
        crt_save_state(ch);
        return CS_OK;
    }
    const struct transition *row;
    enum ocpp_error prev = ch->m.conn[conn].error;
    ch->m.conn[conn].error = code;
    int rc = charger_event(&ch->m, conn, CE_FAULT, cfg(ch)->max_kw, cs_now_ms(), &row, err);
    if (rc) {
        ch->m.conn[conn].error = prev;
        return rc;
    }
    ch->start[conn].active = false;
    /* The fault is reported first, then the transaction it cut short. */
    send_status(ch, conn, info);
    if (row->act & CA_STOP_TX)
        stop_tx(ch, conn, SR_OTHER);
    crt_save_state(ch);
    return CS_OK;
}

int session_clear(struct charger_rt *ch, int conn, struct cs_error *err)
{
    int from = conn < 0 ? 0 : conn, to = conn < 0 ? ch->m.nconn : conn, done = 0;
    if (conn >= 0 && !conn_ok(ch, conn, true, err))
        return CS_ERR_RANGE;
    for (int i = from; i <= to; i++) {
        if (ch->m.conn[i].status != ST_FAULTED)
            continue;
        ch->clear_ms[i] = 0;
        if (i == 0) {
            charger_set_status(&ch->m, 0, ST_AVAILABLE, OE_NO_ERROR, cfg(ch)->max_kw, false,
                               cs_now_ms(), NULL);
            send_status(ch, 0, NULL);
            done++;
            continue;
        }
        if (apply_event(ch, i, CE_CLEAR, SR_OTHER, err) == CS_OK)
            done++;
    }
    if (!done)
        return cs_error_set(err, CS_ERR_NOOP, "%s: nothing is Faulted%s", ch->m.id,
                            conn < 0 ? "" : " on that connector");
    crt_save_state(ch);
    return CS_OK;
}

int session_status(struct charger_rt *ch, int conn, enum ocpp_status st, enum ocpp_error e,
                   const char *info, struct cs_error *err)
{
    int from = conn < 0 ? 1 : conn, to = conn < 0 ? ch->m.nconn : conn;
    bool strict = cfg(ch)->strict;
    if (!conn_ok(ch, from, true, err) || !conn_ok(ch, to, true, err))
        return CS_ERR_RANGE;
    /* All or nothing: check every connector before changing any. */
    for (int i = from; i <= to; i++)
        if (strict && !ocpp_transition_legal(ch->m.conn[i].status, st, i == 0))
            return charger_set_status(&ch->m, i, st, e, cfg(ch)->max_kw, true, cs_now_ms(), err);
    for (int i = from; i <= to; i++) {
        int rc = charger_set_status(&ch->m, i, st, e, cfg(ch)->max_kw, strict, cs_now_ms(), err);
        if (rc)
            return rc;
        send_status(ch, i, info);
    }
    crt_save_state(ch);
    return CS_OK;
}

void session_reboot(struct charger_rt *ch, bool hard, enum stop_reason reason)
{
    for (int i = 1; i <= ch->m.nconn; i++) {
        if (!ch->m.conn[i].tx_active)
            continue;
        apply_event(ch, i, CE_STOP, reason, NULL);
    }
    ch->force_boot = true;
    ch->w->st.reboots++;
    crt_save_state(ch);
    /* Both kinds close the link after what is queued (the Reset answer, StopTransactions)
     * went out; a hard reset only differs in the stop reason. */
    (void)hard;
    crt_drop_link(ch, true, true);
}

int session_offline(struct charger_rt *ch, int seconds, struct cs_error *err)
{
    if (ch->link == LINK_OFFLINE)
        return cs_error_set(err, CS_ERR_NOOP, "%s: already offline", ch->m.id);
    crt_drop_link(ch, false, false);
    ch->link = LINK_OFFLINE;
    ch->online_ms = seconds > 0 ? cs_mono_ms() + (int64_t)seconds * 1000 : 0;
    crt_save_state(ch);
    schedule(ch);
    return CS_OK;
}

int session_online(struct charger_rt *ch, struct cs_error *err)
{
    if (ch->link != LINK_OFFLINE)
        return cs_error_set(err, CS_ERR_NOOP, "%s: not offline", ch->m.id);
    ch->online_ms = 0;
    crt_connect_soon(ch);
    return CS_OK;
}

int session_availability(struct charger_rt *ch, int conn, bool operative, bool *scheduled,
                         struct cs_error *err)
{
    if (!conn_ok(ch, conn, true, err))
        return CS_ERR_RANGE;
    int from = conn == 0 ? 1 : conn, to = conn == 0 ? ch->m.nconn : conn;
    *scheduled = false;
    for (int i = from; i <= to; i++) {
        struct connector *k = &ch->m.conn[i];
        if (operative) {
            ch->inoperative_pending[i] = false;
            if (k->status == ST_UNAVAILABLE)
                apply_event(ch, i, CE_OPERATIVE, SR_OTHER, NULL);
        } else if (k->status == ST_UNAVAILABLE) {
            continue;
        } else if (k->tx_active || !charger_transition(k->status, CE_INOPERATIVE)) {
            /* In use (transaction, cable in Preparing, Faulted): when it becomes possible. */
            ch->inoperative_pending[i] = true;
            *scheduled = true;
        } else {
            apply_event(ch, i, CE_INOPERATIVE, SR_OTHER, NULL);
        }
    }
    if (conn == 0) {
        enum ocpp_status st = operative ? ST_AVAILABLE : ST_UNAVAILABLE;
        if (ch->m.conn[0].status != st && ch->m.conn[0].status != ST_FAULTED) {
            charger_set_status(&ch->m, 0, st, OE_NO_ERROR, cfg(ch)->max_kw, false, cs_now_ms(),
                               NULL);
            send_status(ch, 0, NULL);
        }
    }
    crt_save_state(ch);
    return CS_OK;
}

bool session_unlock(struct charger_rt *ch, int conn)
{
    if (conn < 1 || conn > ch->m.nconn)
        return false;
    if (ch->m.conn[conn].tx_active) {
        apply_event(ch, conn, CE_STOP, SR_UNLOCK_COMMAND, NULL);
    }
    crt_save_state(ch);
    return true;
}

/* ---- firmware -------------------------------------------------------------------------- */

static const char *const fw_steps[] = {"Idle", "Downloading", "Downloaded", "Installing",
                                       "Installed"};

const char *session_firmware_status(const struct charger_rt *ch)
{
    return fw_steps[ch->fw.step];
}

void session_firmware(struct charger_rt *ch, const char *location, int64_t at_ms)
{
    /* The new version is the file name of the location without its extension. */
    const char *base = strrchr(location, '/');
    base = base ? base + 1 : location;
    char v[51];
    cs_strlcpy(v, *base ? base : "update", sizeof(v));
    char *dot = strrchr(v, '.');
    if (dot && dot != v)
        *dot = '\0';
    for (char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '_';
    memcpy(ch->fw.version, v, sizeof(v));
    ch->fw.step = 0;
    int64_t wait = at_ms - cs_now_ms();
    ch->fw.next_ms = cs_mono_ms() + (wait > 0 ? wait : 0);
    schedule(ch);
}

static void firmware_step(struct charger_rt *ch)
{
    struct msg_ctx x;
    ch->fw.step++;
    if (ch->fw.step == 4) {
        /* Installed: the new version becomes the charger's firmware override, the charger
         * reboots into it and reports Installed once booted (session_on_connected). */
        ch->fw.next_ms = 0;
        ch->fw.report_installed = true;
        if (crt_write_override(ch, "firmware", ch->fw.version) != CS_OK)
            log_warn("%s: firmware %s not kept (Redis unreachable): it boots %s again",
                     ch->m.id, ch->fw.version, cfg(ch)->firmware);
        log_info("%s: firmware %s installed; rebooting", ch->m.id, ch->fw.version);
        session_reboot(ch, false, SR_REBOOT);
        return;
    }
    ctx_init(ch, 0, &x);
    x.status = fw_steps[ch->fw.step];
    emit(ch, MSG_FIRMWARE_STATUS, &x, 0, K_NONE);
    ch->fw.next_ms = cs_mono_ms() + (ch->fw.step == 2 ? 500 : real_ms(ch, FIRMWARE_STEP_S));
}

/* ---- automatic behaviour --------------------------------------------------------------- */

static void plan_arrival(struct charger_rt *ch, int conn)
{
    double rate = cfg(ch)->sessions_per_h;
    ch->arrival_ms[conn] = rate > 0 ? cs_mono_ms() + real_ms(ch, exp_s(ch, 3600.0 / rate)) : 0;
}

static void plan_fault(struct charger_rt *ch)
{
    double rate = cfg(ch)->fault_per_h;
    ch->fault_ms = rate > 0 ? cs_mono_ms() + real_ms(ch, exp_s(ch, 3600.0 / rate)) : 0;
}

static const enum ocpp_error random_faults[] = {
    OE_GROUND_FAILURE,       OE_HIGH_TEMPERATURE,       OE_OVER_CURRENT_FAILURE,
    OE_POWER_METER_FAILURE,  OE_POWER_SWITCH_FAILURE,   OE_CONNECTOR_LOCK_FAILURE,
    OE_EV_COMMUNICATION_ERROR, OE_OVER_VOLTAGE,         OE_UNDER_VOLTAGE,
    OE_READER_FAILURE,       OE_INTERNAL_ERROR,         OE_WEAK_SIGNAL,
};

static void arrival(struct charger_rt *ch, int conn)
{
    const struct charger_cfg *c = cfg(ch);
    struct connector *k = &ch->m.conn[conn];
    plan_arrival(ch, conn);
    if (ch->link != LINK_UP || k->tx_active || ch->start[conn].active ||
        k->status != ST_AVAILABLE)
        return; /* busy, faulted or unavailable: this driver goes elsewhere */
    double kwh = exp_s(ch, c->session_kwh);
    if (kwh < 0.5)
        kwh = 0.5;
    if (kwh > c->battery_kwh * 0.95)
        kwh = c->battery_kwh * 0.95;
    start(ch, conn, NULL, 0, kwh, 0, false, true, NULL);
}

static void random_fault(struct charger_rt *ch)
{
    plan_fault(ch);
    if (ch->link != LINK_UP)
        return;
    int conn = 1 + (int)cs_rng_below(&ch->rng, (uint64_t)ch->m.nconn);
    if (ch->m.conn[conn].status == ST_FAULTED)
        return;
    enum ocpp_error e = random_faults[cs_rng_below(&ch->rng, ARRAY_SIZE(random_faults))];
    if (session_fault(ch, conn, e, NULL, NULL) == CS_OK)
        ch->clear_ms[conn] = cs_mono_ms() + real_ms(ch, exp_s(ch, FAULT_CLEAR_MEAN_S));
}

/* Milliseconds until the session on conn reaches its limit, or -1. */
static int64_t session_eta(const struct charger_rt *ch, int conn)
{
    const struct connector *k = &ch->m.conn[conn];
    if (!k->tx_active)
        return -1;
    int64_t best = -1, now = cs_now_ms();
    if (k->tx.end_ms > 0)
        best = k->tx.end_ms > now ? k->tx.end_ms - now : 0;
    if (k->tx.target_wh > 0 && k->power_w > 0) {
        double left = k->tx.target_wh - (k->meter_wh - k->tx.meter_start_wh);
        double h = left / (k->power_w * ch->m.time_scale);
        int64_t ms = left <= 0 ? 0 : (int64_t)(h * 3600000.0) + 1;
        if (best < 0 || ms < best)
            best = ms;
    }
    return best;
}

static void end_sessions(struct charger_rt *ch)
{
    int64_t now = cs_now_ms();
    charger_integrate(&ch->m, now);
    for (int i = 1; i <= ch->m.nconn; i++) {
        if (!charger_session_done(&ch->m, i, now))
            continue;
        if (ch->auto_tx[i])
            session_unplug(ch, i, NULL); /* the driver leaves: EVDisconnected */
        else
            session_stop(ch, i, SR_LOCAL, NULL);
    }
}

static void on_behaviour_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = privdata;
    int64_t now = cs_mono_ms();
    if (ch->link == LINK_OFFLINE && ch->online_ms && now >= ch->online_ms) {
        ch->online_ms = 0;
        crt_connect_soon(ch);
    }
    if (ch->boot_retry_ms && now >= ch->boot_retry_ms) {
        ch->boot_retry_ms = 0;
        if (ch->link == LINK_UP) {
            struct msg_ctx x;
            ctx_init(ch, 0, &x);
            emit(ch, MSG_BOOT_NOTIFICATION, &x, CALL_FRONT, K_BOOT);
        }
    }
    if (ch->fw.next_ms && now >= ch->fw.next_ms)
        firmware_step(ch);
    for (int i = 1; i <= ch->m.nconn; i++) {
        if (ch->arrival_ms[i] && now >= ch->arrival_ms[i])
            arrival(ch, i);
        if (ch->clear_ms[i] && now >= ch->clear_ms[i])
            session_clear(ch, i, NULL);
    }
    if (ch->fault_ms && now >= ch->fault_ms)
        random_fault(ch);
    end_sessions(ch);
    schedule(ch);
}

/* Arms the behaviour timer for the earliest thing due. */
static void schedule(struct charger_rt *ch)
{
    int64_t now = cs_mono_ms(), due = 0;
#define CONSIDER(t)                                                                                \
    do {                                                                                           \
        int64_t t_ = (t);                                                                          \
        if (t_ > 0 && (due == 0 || t_ < due))                                                      \
            due = t_;                                                                              \
    } while (0)
    CONSIDER(ch->online_ms);
    CONSIDER(ch->boot_retry_ms);
    CONSIDER(ch->fw.next_ms);
    CONSIDER(ch->fault_ms);
    for (int i = 1; i <= ch->m.nconn; i++) {
        CONSIDER(ch->arrival_ms[i]);
        CONSIDER(ch->clear_ms[i]);
        int64_t eta = session_eta(ch, i);
        if (eta >= 0)
            CONSIDER(now + eta + 1);
    }
#undef CONSIDER
    if (!due) {
        evtimer_del(ch->beh_ev);
        return;
    }
    int64_t left = due > now ? due - now : 0;
    struct timeval tv = {left / 1000, (left % 1000) * 1000};
    evtimer_add(ch->beh_ev, &tv);
}

void session_config_changed(struct charger_rt *ch, const struct charger_cfg *old)
{
    const struct charger_cfg *c = cfg(ch);
    ch->m.time_scale = c->time_scale;
    if (old->sessions_per_h != c->sessions_per_h || old->time_scale != c->time_scale)
        for (int i = 1; i <= ch->m.nconn; i++)
            plan_arrival(ch, i);
    if (old->fault_per_h != c->fault_per_h || old->time_scale != c->time_scale)
        plan_fault(ch);
    schedule(ch);
}

/* ---- link events and answers ------------------------------------------------------------- */

void session_on_connected(struct charger_rt *ch)
{
    const struct charger_cfg *c = cfg(ch);
    bool boot = ch->force_boot || !ch->booted || c->boot_on_reconnect;
    ch->force_boot = false;
    ch->m.time_scale = c->time_scale;
    if (boot) {
        if (c->connectors != ch->m.nconn) {
            /* A new connector count takes effect at boot. */
            int old = ch->m.nconn;
            ch->m.nconn = c->connectors;
            for (int i = old + 1; i <= ch->m.nconn; i++) {
                memset(&ch->m.conn[i], 0, sizeof(ch->m.conn[i]));
                ch->m.conn[i].status = ST_AVAILABLE;
                ch->m.conn[i].error = OE_NO_ERROR;
            }
        }
        ch->boot_accepted = false;
        struct msg_ctx x;
        ctx_init(ch, 0, &x);
        emit(ch, MSG_BOOT_NOTIFICATION, &x, CALL_FRONT, K_BOOT);
        for (int i = 0; i <= ch->m.nconn; i++)
            send_status(ch, i, NULL);
        ch->booted = true;
    } else {
        ch->boot_accepted = true;
    }
    if (ch->crashed) {
        /* Taken over from a worker that died: the transactions it left open end as a real
         * charger's would after a power cut (unless on_takeover=resume). */
        ch->crashed = false;
        if (strcmp(c->on_takeover, "stop") == 0) {
            for (int i = 1; i <= ch->m.nconn; i++) {
                if (!ch->m.conn[i].tx_active)
                    continue;
                log_info("%s: transaction %d of connector %d ends after the takeover (PowerLoss)",
                         ch->m.id, (int)ch->m.conn[i].tx.id, i);
                apply_event(ch, i, CE_STOP, SR_POWER_LOSS, NULL);
            }
            crt_save_state(ch);
        }
    }
    if (ch->fw.report_installed) {
        struct msg_ctx x;
        ch->fw.report_installed = false;
        ch->fw.step = 0;
        ctx_init(ch, 0, &x);
        x.status = "Installed";
        emit(ch, MSG_FIRMWARE_STATUS, &x, 0, K_NONE);
    }
    for (int i = 1; i <= ch->m.nconn; i++)
        if (!ch->arrival_ms[i])
            plan_arrival(ch, i);
    if (!ch->fault_ms)
        plan_fault(ch);
    calls_pump(ch);
    schedule(ch);
}

static const char *id_tag_status(const cJSON *payload)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(payload, "idTagInfo");
    const cJSON *st = info ? cJSON_GetObjectItemCaseSensitive(info, "status") : NULL;
    return cJSON_IsString(st) ? st->valuestring : NULL;
}

static void boot_answer(struct charger_rt *ch, const cJSON *payload, bool answered)
{
    if (!answered) {
        ch->boot_accepted = true;
        return;
    }
    const cJSON *st = payload ? cJSON_GetObjectItemCaseSensitive(payload, "status") : NULL;
    const cJSON *iv = payload ? cJSON_GetObjectItemCaseSensitive(payload, "interval") : NULL;
    int interval = cJSON_IsNumber(iv) && iv->valuedouble >= 0 && iv->valuedouble < 86400 * 7
                       ? (int)iv->valuedouble
                       : 0;
    if (cJSON_IsString(st) && strcmp(st->valuestring, "Accepted") == 0) {
        ch->boot_accepted = true;
        ch->boot_retry_ms = 0;
        if (interval > 0 && interval != ch->hb_conf_s) {
            ch->hb_conf_s = interval;
            crt_reschedule_heartbeat(ch);
        }
        return;
    }
    /* Pending, Rejected, an error or no answer: ask again after the interval. */
    ch->boot_accepted = false;
    ch->w->st.boot_retries++;
    ch->boot_retry_ms = cs_mono_ms() + (int64_t)(interval > 0 ? interval : BOOT_RETRY_DEFAULT_S) *
                                           1000;
    schedule(ch);
}

void session_on_answer(struct charger_rt *ch, const struct call *c, const cJSON *payload,
                       const char *err_code, bool answered)
{
    (void)err_code;
    switch (c->cont) {
    case K_NONE:
        break;
    case K_BOOT:
        boot_answer(ch, payload, answered);
        break;
    case K_AUTHORIZE: {
        int conn = c->connector;
        if (conn < 1 || conn > ch->m.nconn || !ch->start[conn].active)
            break;
        const char *st = payload ? id_tag_status(payload) : NULL;
        /* No answer (timeout, CALLERROR): authorised offline, as LocalAuthorizeOffline. */
        if (!payload || (st && strcmp(st, "Accepted") == 0)) {
            begin_tx(ch, conn);
        } else {
            bool auto_session = ch->start[conn].auto_session;
            ch->start[conn].active = false;
            ch->w->st.auth_rejected++;
            log_debug("%s: idTag %s refused (%s)", ch->m.id, ch->start[conn].id_tag,
                      st ? st : "no status");
            if (auto_session)
                session_unplug(ch, conn, NULL);
        }
        break;
    }
    case K_START_TX: {
        const cJSON *id = payload ? cJSON_GetObjectItemCaseSensitive(payload, "transactionId")
                                  : NULL;
        int conn = charger_tx_find(&ch->m, c->tx_id);
        if (conn < 0 || !cJSON_IsNumber(id) || id->valuedouble < INT32_MIN ||
            id->valuedouble > INT32_MAX || id->valuedouble != (double)(int32_t)id->valuedouble)
            break;
        int32_t confirmed = (int32_t)id->valuedouble;
        struct connector *k = &ch->m.conn[conn];
        calls_tx_confirmed(ch, k->tx.id, confirmed);
        k->tx.id = confirmed;
        k->tx.confirmed = true;
        crt_save_state(ch);
        const char *st = id_tag_status(payload);
        if (st && strcmp(st, "Accepted") != 0)
            session_stop(ch, conn, SR_DEAUTHORIZED, NULL);
        break;
    }
    case K_STOP_TX:
        break;
    }
}

void session_on_late_answer(struct charger_rt *ch, const struct call *c,
                            const cJSON *payload)
{
    /* The charger went on without this answer; a transaction id is still worth taking. */
    if (c->cont == K_START_TX || c->cont == K_BOOT)
        session_on_answer(ch, c, payload, NULL, true);
}

/* ---- reports and triggers ---------------------------------------------------------------- */

void session_meter_tick(struct charger_rt *ch)
{
    for (int i = 1; i <= ch->m.nconn; i++) {
        struct msg_ctx x;
        if (ch->link != LINK_UP && !ch->m.conn[i].tx_active)
            continue; /* only a transaction's readings are kept while offline */
        ctx_init(ch, i, &x);
        emit(ch, MSG_METER_VALUES, &x, ch->m.conn[i].tx_active ? CALL_TX : 0, K_NONE);
    }
    end_sessions(ch);
    crt_save_state(ch);
}

struct resolve_ctx {
    struct charger_rt *ch;
    int conn;
    const struct kvlist *args;
};

static bool resolve(void *privdata, enum jt_var var, const char *name, struct jt_value *out)
{
    struct resolve_ctx *r = privdata;
    struct charger_rt *ch = r->ch;
    const struct connector *k = &ch->m.conn[r->conn];
    char *t = out->text;
    size_t n = sizeof(out->text);
    switch (var) {
    case JT_ID: cs_strlcpy(t, ch->m.id, n); break;
    case JT_INDEX: snprintf(t, n, "%u", ch->m.index); break;
    case JT_TS: cs_fmt_iso8601(t, n, cs_now_ms()); break;
    case JT_METER_WH: snprintf(t, n, "%.0f", k->meter_wh); break;
    case JT_POWER_W: snprintf(t, n, "%.0f", k->power_w); break;
    case JT_SOC: snprintf(t, n, "%.0f", charger_soc(&ch->m, r->conn, cfg(ch)->battery_kwh)); break;
    case JT_STATUS: cs_strlcpy(t, ocpp_status_name(k->status), n); break;
    case JT_CONNECTOR: snprintf(t, n, "%d", r->conn); break;
    case JT_TX_ID: snprintf(t, n, "%d", k->tx_active ? (int)k->tx.id : 0); break;
    case JT_SEQ: snprintf(t, n, "%u", ch->seq); break;
    case JT_VENDOR: cs_strlcpy(t, cfg(ch)->vendor, n); break;
    case JT_MODEL: cs_strlcpy(t, cfg(ch)->model, n); break;
    case JT_FIRMWARE: cs_strlcpy(t, cfg(ch)->firmware, n); break;
    case JT_ARG: {
        const char *v = r->args ? kv_get(r->args, name) : NULL;
        if (!v)
            return false;
        cs_strlcpy(t, v, n);
        break;
    }
    case JT_RAND:
    case JT__COUNT: break;
    }
    return true;
}

int session_trigger(struct charger_rt *ch, const char *msg, int conn, const struct kvlist *args,
                    struct cs_error *err)
{
    if (ch->link != LINK_UP)
        return cs_error_set(err, CS_ERR_STATE, "%s: not connected (%s)", ch->m.id,
                            link_state_name(ch->link));
    const struct msg_def *m = catalog_lookup(msg);
    if (!m) {
        const struct jtmpl *t = worker_catalog_get(ch->w, msg);
        if (!t)
            return cs_error_set(err, CS_ERR_UNKNOWN,
                                "unknown message '%.40s' (built-in: %s; or one of {ns}:catalog)",
                                msg, catalog_names());
        struct resolve_ctx r = {ch, conn < 0 ? 1 : conn, args};
        if (r.conn > ch->m.nconn)
            return cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist", ch->m.id,
                                r.conn);
        struct buf payload = BUF_INIT;
        charger_integrate(&ch->m, cs_now_ms());
        int rc = jtmpl_render(t, resolve, &r, &ch->rng, &payload, err);
        if (rc == CS_OK)
            rc = calls_send_raw(ch, msg, payload.s, payload.len, 0, err);
        buf_free(&payload);
        return rc;
    }
    bool per_conn = m->id == MSG_STATUS_NOTIFICATION || m->id == MSG_METER_VALUES ||
                    m->id == MSG_START_TRANSACTION || m->id == MSG_STOP_TRANSACTION;
    if (conn < 0)
        conn = per_conn ? 1 : 0;
    if (!per_conn)
        conn = 0;
    if (conn > ch->m.nconn)
        return cs_error_set(err, CS_ERR_RANGE, "%s: connector %d does not exist (0..%d)",
                            ch->m.id, conn, ch->m.nconn);
    struct msg_ctx x;
    char tag[21];
    ctx_init(ch, conn, &x);
    x.over = args;
    if (m->id == MSG_METER_VALUES)
        x.context = "Trigger";
    if (!x.id_tag) {
        make_id_tag(ch, NULL, tag);
        x.id_tag = tag;
    }
    if (m->id == MSG_FIRMWARE_STATUS)
        x.status = session_firmware_status(ch);
    unsigned flags = (m->id == MSG_START_TRANSACTION || m->id == MSG_STOP_TRANSACTION ||
                      (m->id == MSG_METER_VALUES && x.tx_id))
                         ? CALL_TX
                         : 0;
    return calls_send(ch, m, &x, flags, K_NONE, err);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void on_call_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    calls_on_timeout(privdata);
}

void session_setup(struct charger_rt *ch)
{
    ch->beh_ev = evtimer_new(ch->w->base, on_behaviour_timer, ch);
    ch->call_ev = evtimer_new(ch->w->base, on_call_timer, ch);
    ch->m.time_scale = cfg(ch)->time_scale;
}

void session_teardown(struct charger_rt *ch)
{
    calls_free(ch);
    if (ch->beh_ev)
        event_free(ch->beh_ev);
    if (ch->call_ev)
        event_free(ch->call_ev);
    ch->beh_ev = ch->call_ev = NULL;
}
