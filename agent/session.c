/* session.c - charger behaviour, OCPP 1.6 style. Every message goes through the CALL layer;
 * status changes go through the transition table of the model. [loop] */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "calls.h"
#include "ccfg.h"
#include "authz.h"
#include "crt.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "persist.h"
#include "emit.h"
#include "reports.h"
#include "reserve.h"
#include "session.h"
#include "smart.h"

#define CLOSE_TIMEOUT_MS 1000

/* ---- helpers ----------------------------------------------------------------------------- */

static const struct charger_cfg *cfg(const struct charger_rt *ch)
{
    return crt_cfg(ch);
}

static struct worker_stats *st(const struct charger_rt *ch)
{
    return crt_ctx(ch)->st;
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

/* ---- transactions ---------------------------------------------------------------------- */

/* A start request on conn ends without a transaction: what it carried goes with it. */
static void start_over(struct charger_rt *ch, int conn)
{
    ch->s.start[conn].active = false;
    ch->s.remote_pending[conn] = false;
    smart_drop_remote(ch, conn);
}

/* StopTransaction for the open transaction of conn (its status already moved). */
static void stop_tx(struct charger_rt *ch, int conn, enum stop_reason reason)
{
    struct connector *k = &ch->m.conn[conn];
    if (!k->tx_active)
        return;
    struct msg_ctx x;
    emit_ctx(ch, conn, &x);
    x.tx_id = k->tx.id;
    x.id_tag = k->tx.id_tag;
    x.meter_wh = charger_tx_end(&ch->m, conn, x.now_ms);
    x.reason = stop_reason_name(reason);
    emit_msg(ch, MSG_STOP_TRANSACTION, &x, CALL_TX, K_STOP_TX);
    smart_tx_ended(ch, conn);
    if (ch->s.reset_on_idle && !charger_busy(&ch->m)) {
        ch->s.reset_ms = cs_mono_ms(); /* on the next turn, after this transaction's messages */
        session_replan(ch);
    }
    ch->s.auto_tx[conn] = false;
    st(ch)->sessions_stopped++;
}

/* Applies a connector event: a row that ends the transaction sends StopTransaction (with
 * `reason`) before the StatusNotification of the new status. */
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
    /* Available again (a fault cleared, operative, unplugged) while a reservation holds it */
    if (ch->m.conn[conn].status == ST_AVAILABLE && reserve_holds(ch, conn))
        charger_event(&ch->m, conn, CE_RESERVE, cfg(ch)->max_kw, cs_now_ms(), NULL, NULL);
    if (ch->m.conn[conn].status != before)
        emit_status(ch, conn, NULL);
    /* ChangeAvailability answered Scheduled: Unavailable as soon as the connector allows it
     * (its current status goes out first). The recursion ends: Unavailable is not pending. */
    if (ch->s.inoperative_pending[conn] && !ch->m.conn[conn].tx_active &&
        charger_transition(ch->m.conn[conn].status, CE_INOPERATIVE)) {
        ch->s.inoperative_pending[conn] = false;
        apply_event(ch, conn, CE_INOPERATIVE, SR_OTHER, NULL);
    }
    return CS_OK;
}

void session_begin_tx(struct charger_rt *ch, int conn)
{
    struct start_req *rq = &ch->s.start[conn];
    struct connector *k = &ch->m.conn[conn];
    const struct charger_cfg *c = cfg(ch);
    struct cs_error err;
    int64_t now = cs_now_ms();

    if (k->status != ST_PREPARING || k->tx_active) {
        start_over(ch, conn); /* unplugged, faulted or started meanwhile */
        return;
    }
    rq->active = false;
    double kw = rq->kw > 0 && rq->kw < c->max_kw ? rq->kw : c->max_kw;
    double soc0 = 10 + cs_rng_double(&ch->rng) * 50;
    int64_t end = rq->minutes > 0 ? now + crt_real_ms(ch, rq->minutes * 60) : 0;
    charger_tx_begin(&ch->m, conn, rq->id_tag, kw, rq->kwh * 1000, end, soc0, now);
    ch->s.auto_tx[conn] = rq->auto_session;
    struct msg_ctx x;
    emit_ctx(ch, conn, &x);
    x.meter_wh = k->tx.meter_start_wh;
    /* the reservation it used, unless it ended (expired, cancelled) while it was authorised */
    x.has_reservation = rq->reserved && reserve_held(ch, rq->reservation);
    x.reservation_id = rq->reservation;
    x.has_remote_start = ch->s.remote_pending[conn];
    x.remote_start_id = ch->s.remote_id[conn];
    ch->s.remote_pending[conn] = false;
    emit_msg(ch, MSG_START_TRANSACTION, &x, CALL_TX, K_START_TX);
    if (x.has_reservation)
        reserve_used(ch, rq->reservation);
    if (apply_event(ch, conn, CE_START, SR_OTHER, &err))
        log_debug("%s", err.msg);
    smart_tx_started(ch, conn); /* its profile's limit, before the first reading */
    emit_ctx(ch, conn, &x);
    x.context = "Transaction.Begin";
    emit_msg(ch, MSG_METER_VALUES, &x, CALL_TX, K_NONE);
    st(ch)->sessions_started++;
    persist_mark(ch);
    session_replan(ch);
}

bool session_can_start(const struct charger_rt *ch, int conn)
{
    if (conn < 1 || conn > ch->m.nconn)
        return false;
    const struct connector *k = &ch->m.conn[conn];
    return !k->tx_active && !ch->s.start[conn].active &&
           (k->status == ST_AVAILABLE || k->status == ST_PREPARING || k->status == ST_FINISHING ||
            k->status == ST_RESERVED);
}

int session_free_connector(struct charger_rt *ch, const char *id_tag)
{
    bool reserved;
    int32_t id;
    for (int i = 1; i <= ch->m.nconn; i++)
        if (session_can_start(ch, i) &&
            (!id_tag || reserve_allows(ch, i, id_tag, &reserved, &id, NULL)))
            return i;
    return -1;
}

static int start(struct charger_rt *ch, int conn, const char *id_tag, double kw, double kwh,
                 double minutes, bool remote, bool auto_session, struct cs_error *err)
{
    char tag[21];
    emit_id_tag(ch, id_tag, tag);
    if (conn < 0)
        conn = session_free_connector(ch, tag);
    if (conn < 0)
        return cs_error_set(err, CS_ERR_STATE, "%s: no free connector", ch->m.id);
    if (!conn_ok(ch, conn, false, err))
        return CS_ERR_RANGE;
    struct connector *k = &ch->m.conn[conn];
    if (k->tx_active || ch->s.start[conn].active)
        return cs_error_set(err, CS_ERR_STATE, "%s: connector %d already has a session", ch->m.id,
                            conn);
    bool reserved;
    int32_t reservation = 0;
    char group[21];
    if (!reserve_allows(ch, conn, tag, &reserved, &reservation, group))
        return cs_error_set(err, CS_ERR_STATE, "%s: connector %d is reserved for another idTag",
                            ch->m.id, conn);
    if (k->status == ST_FINISHING) {
        /* Finishing -> Preparing: a new session with the cable still in (F2). */
        charger_set_status(&ch->m, conn, ST_PREPARING, OE_NO_ERROR, cfg(ch)->max_kw, true,
                           cs_now_ms(), NULL);
        emit_status(ch, conn, NULL);
    } else if (k->status != ST_PREPARING) {
        int rc = apply_event(ch, conn, CE_PLUG, SR_OTHER, err);
        if (rc)
            return rc;
        if (k->status != ST_PREPARING)
            return cs_error_set(err, CS_ERR_STATE, "%s: connector %d is %s: cannot start", ch->m.id,
                                conn, ocpp_status_name(k->status));
    }
    struct start_req *rq = &ch->s.start[conn];
    memset(rq, 0, sizeof(*rq));
    rq->active = true;
    cs_strlcpy(rq->id_tag, tag, sizeof(rq->id_tag));
    rq->reserved = reserved;
    rq->reservation = reservation;
    cs_strlcpy(rq->group, group, sizeof(rq->group));
    rq->kw = kw;
    rq->kwh = kwh;
    rq->minutes = minutes;
    rq->auto_session = auto_session;
    /* Offline the charger decides alone; no Authorize either for a remote start (unless
     * authorize_remote) or, with local_pre_authorize, for an idTag the list or cache accepts. */
    if (ch->link.state != LINK_UP) {
        if (*group || !authz_offline(ch, tag)) {
            session_refused(ch, conn, "offline, not authorised locally");
            return cs_error_set(err, CS_ERR_STATE, "%s: offline: idTag %s not authorised locally",
                                ch->m.id, tag);
        }
        session_begin_tx(ch, conn);
        return CS_OK;
    }
    if (!*group && ((remote && !cfg(ch)->authorize_remote) ||
                    (cfg(ch)->local_pre_authorize && authz_local(ch, tag) == AUTHZ_ACCEPT))) {
        session_begin_tx(ch, conn);
        return CS_OK;
    }
    struct msg_ctx x;
    emit_ctx(ch, conn, &x);
    x.id_tag = rq->id_tag;
    if (emit_msg(ch, MSG_AUTHORIZE, &x, 0, K_AUTHORIZE) != CS_OK)
        session_decide_offline(ch, conn); /* no room for it: no answer will come */
    return CS_OK;
}

void session_decide_offline(struct charger_rt *ch, int conn)
{
    /* a group reservation's group cannot be confirmed without the platform */
    if (!ch->s.start[conn].group[0] && authz_offline(ch, ch->s.start[conn].id_tag))
        session_begin_tx(ch, conn);
    else
        session_refused(ch, conn, "no answer, not authorised locally");
}

void session_refused(struct charger_rt *ch, int conn, const char *why)
{
    struct start_req *rq = &ch->s.start[conn];
    start_over(ch, conn);
    st(ch)->auth_rejected++;
    log_debug("%s: idTag %s refused (%s)", ch->m.id, rq->id_tag, why);
    if (rq->auto_session)
        session_unplug(ch, conn, NULL);
}

int session_start(struct charger_rt *ch, int conn, const char *id_tag, double kw, double kwh,
                  double minutes, bool remote, struct cs_error *err)
{
    return start(ch, conn, id_tag, kw, kwh, minutes, remote, false, err);
}

int session_start_auto(struct charger_rt *ch, int conn, double kwh)
{
    return start(ch, conn, NULL, 0, kwh, 0, false, true, NULL);
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
    persist_mark(ch);
    session_replan(ch);
    return CS_OK;
}

int session_end_all(struct charger_rt *ch, enum stop_reason reason)
{
    int n = 0;
    for (int i = 1; i <= ch->m.nconn; i++)
        if (ch->m.conn[i].tx_active && apply_event(ch, i, CE_STOP, reason, NULL) == CS_OK)
            n++;
    if (n)
        persist_mark(ch);
    return n;
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
            if (!ch->m.conn[i].plugged &&
                (ch->m.conn[i].status == ST_AVAILABLE || ch->m.conn[i].status == ST_RESERVED))
                conn = i;
        if (conn < 0)
            return cs_error_set(err, CS_ERR_NOOP, "%s: no Available connector to plug into",
                                ch->m.id);
    }
    if (!conn_ok(ch, conn, false, err))
        return CS_ERR_RANGE;
    int rc = apply_event(ch, conn, CE_PLUG, SR_OTHER, err);
    if (rc == CS_OK)
        persist_mark(ch);
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
        start_over(ch, i);
        if (apply_event(ch, i, CE_UNPLUG, SR_EV_DISCONNECTED, err) == CS_OK)
            done++;
    }
    if (!done)
        return cs_error_set(err, CS_ERR_NOOP, "%s: nothing plugged in%s", ch->m.id,
                            conn < 0 ? "" : " on that connector");
    persist_mark(ch);
    session_replan(ch);
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
        emit_status(ch, 0, info);
        persist_mark(ch);
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
    start_over(ch, conn);
    /* The fault is reported first, then the transaction it cut short. */
    emit_status(ch, conn, info);
    if (row->act & CA_STOP_TX)
        stop_tx(ch, conn, SR_OTHER);
    persist_mark(ch);
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
        ch->s.clear_ms[i] = 0;
        if (i == 0) {
            charger_set_status(&ch->m, 0, ST_AVAILABLE, OE_NO_ERROR, cfg(ch)->max_kw, false,
                               cs_now_ms(), NULL);
            emit_status(ch, 0, NULL);
            done++;
            continue;
        }
        if (apply_event(ch, i, CE_CLEAR, SR_OTHER, err) == CS_OK)
            done++;
    }
    if (!done)
        return cs_error_set(err, CS_ERR_NOOP, "%s: nothing is Faulted%s", ch->m.id,
                            conn < 0 ? "" : " on that connector");
    persist_mark(ch);
    return CS_OK;
}

int session_status(struct charger_rt *ch, int conn, enum ocpp_status s, enum ocpp_error e,
                   const char *info, struct cs_error *err)
{
    int from = conn < 0 ? 1 : conn, to = conn < 0 ? ch->m.nconn : conn;
    bool strict = cfg(ch)->strict;
    if (!conn_ok(ch, from, true, err) || !conn_ok(ch, to, true, err))
        return CS_ERR_RANGE;
    /* All or nothing: check every connector before changing any. */
    for (int i = from; i <= to; i++)
        if (strict && !ocpp_transition_legal(ch->m.conn[i].status, s, i == 0))
            return charger_set_status(&ch->m, i, s, e, cfg(ch)->max_kw, true, cs_now_ms(), err);
    for (int i = from; i <= to; i++) {
        int rc = charger_set_status(&ch->m, i, s, e, cfg(ch)->max_kw, strict, cs_now_ms(), err);
        if (rc)
            return rc;
        emit_status(ch, i, info);
    }
    persist_mark(ch);
    return CS_OK;
}

/* ---- the link -------------------------------------------------------------------------- */

void session_link_down(struct charger_rt *ch)
{
    reports_link_down(ch);
    calls_link_down(&ch->calls);
    /* An Authorize lost with the link will not be answered: decided as offline. */
    for (int i = 1; i <= ch->m.nconn; i++)
        if (ch->s.start[i].active && !ch->m.conn[i].tx_active)
            session_decide_offline(ch, i);
}

void session_reboot(struct charger_rt *ch, enum stop_reason reason)
{
    for (int i = 1; i <= ch->m.nconn; i++) {
        if (ch->m.conn[i].tx_active)
            apply_event(ch, i, CE_STOP, reason, NULL);
        if (ch->s.start[i].active)
            start_over(ch, i); /* a pending authorisation dies with the reset */
    }
    ch->s.force_boot = true;
    ch->s.reset_on_idle = false;
    ch->s.reset_ms = 0;
    /* OCPP 2.0.1 names why it boots: a firmware install, the platform's Reset, the operator. */
    ch->s.boot_reason = ch->s.fw.report_installed ? "FirmwareUpdate"
                        : reason == SR_REBOOT     ? "LocalReset"
                                                  : "RemoteReset";
    st(ch)->reboots++;
    persist_mark(ch);
    /* The link closes after what is queued (the Reset answer, StopTransactions) went out,
     * then reconnects through the ramp. */
    calls_pump(&ch->calls);
    if (link_close(&ch->link, CLOSE_TIMEOUT_MS))
        session_link_down(ch);
}

int session_offline(struct charger_rt *ch, int seconds, struct cs_error *err)
{
    if (ch->link.state == LINK_OFFLINE)
        return cs_error_set(err, CS_ERR_NOOP, "%s: already offline", ch->m.id);
    if (link_offline(&ch->link))
        session_link_down(ch);
    ch->s.online_ms = seconds > 0 ? cs_mono_ms() + (int64_t)seconds * 1000 : 0;
    persist_mark(ch);
    session_replan(ch);
    return CS_OK;
}

int session_online(struct charger_rt *ch, struct cs_error *err)
{
    if (ch->link.state != LINK_OFFLINE)
        return cs_error_set(err, CS_ERR_NOOP, "%s: not offline", ch->m.id);
    ch->s.online_ms = 0;
    link_online(&ch->link);
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
            ch->s.inoperative_pending[i] = false;
            if (k->status == ST_UNAVAILABLE)
                apply_event(ch, i, CE_OPERATIVE, SR_OTHER, NULL);
        } else if (k->status == ST_UNAVAILABLE) {
            continue;
        } else if (k->tx_active || !charger_transition(k->status, CE_INOPERATIVE)) {
            /* In use (transaction, cable in Preparing, Faulted): when it becomes possible. */
            ch->s.inoperative_pending[i] = true;
            *scheduled = true;
        } else {
            apply_event(ch, i, CE_INOPERATIVE, SR_OTHER, NULL);
        }
    }
    if (conn == 0) {
        enum ocpp_status s = operative ? ST_AVAILABLE : ST_UNAVAILABLE;
        if (ch->m.conn[0].status != s && ch->m.conn[0].status != ST_FAULTED) {
            charger_set_status(&ch->m, 0, s, OE_NO_ERROR, cfg(ch)->max_kw, false, cs_now_ms(),
                               NULL);
            emit_status(ch, 0, NULL);
        }
    }
    persist_mark(ch);
    return CS_OK;
}

bool session_unlock(struct charger_rt *ch, int conn)
{
    if (conn < 1 || conn > ch->m.nconn)
        return false;
    if (ch->m.conn[conn].tx_active)
        apply_event(ch, conn, CE_STOP, SR_UNLOCK_COMMAND, NULL);
    persist_mark(ch);
    return true;
}

static const char *const fw_steps[] = {"Idle", "Downloading", "Downloaded", "Installing",
                                       "Installed"};

const char *session_firmware_step_name(int step)
{
    return step >= 0 && (size_t)step < ARRAY_SIZE(fw_steps) ? fw_steps[step] : "Idle";
}
const char *session_diagnostics_step_name(int step)
{
    return step == 1 ? "Uploading" : step == 2 ? "Uploaded" : "Idle";
}

/* ---- when things are due ------------------------------------------------------------------ */

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

void session_end_due(struct charger_rt *ch)
{
    int64_t now = cs_now_ms();
    charger_integrate(&ch->m, now);
    for (int i = 1; i <= ch->m.nconn; i++) {
        if (!charger_session_done(&ch->m, i, now))
            continue;
        if (ch->s.auto_tx[i])
            session_unplug(ch, i, NULL); /* the driver leaves: EVDisconnected */
        else
            session_stop(ch, i, SR_LOCAL, NULL);
    }
}

void session_replan(struct charger_rt *ch)
{
    const struct session *s = &ch->s;
    int64_t now = cs_mono_ms(), due = 0;
#define CONSIDER(t)                                                                                \
    do {                                                                                           \
        int64_t t_ = (t);                                                                          \
        if (t_ > 0 && (due == 0 || t_ < due))                                                      \
            due = t_;                                                                              \
    } while (0)
    CONSIDER(s->online_ms);
    CONSIDER(s->reset_ms);
    CONSIDER(s->boot_retry_ms);
    CONSIDER(s->fw.next_ms);
    CONSIDER(s->diag.next_ms);
    CONSIDER(s->fault_ms);
    for (int i = 1; i <= ch->m.nconn; i++) {
        CONSIDER(s->arrival_ms[i]);
        CONSIDER(s->clear_ms[i]);
        int64_t eta = session_eta(ch, i);
        if (eta >= 0)
            CONSIDER(now + eta + 1);
    }
#undef CONSIDER
    if (!due) {
        evtimer_del(s->beh_ev);
        return;
    }
    ctx_arm(s->beh_ev, due > now ? due - now : 0);
}

/* ---- link events and answers ------------------------------------------------------------- */

void session_on_connected(struct charger_rt *ch)
{
    const struct charger_cfg *c = cfg(ch);
    calls_set_version(&ch->calls, (uint8_t)ocpp_version_of(c->ocpp_version));
    bool boot = ch->s.force_boot || !ch->s.booted || c->boot_on_reconnect;
    ch->s.force_boot = false;
    ch->m.time_scale = c->time_scale;
    if (boot) {
        if (c->connectors != ch->m.nconn) {
            /* A new connector count takes effect at boot. */
            int old = ch->m.nconn;
            ch->m.nconn = c->connectors;
            for (int i = old + 1; i <= ch->m.nconn; i++) {
                double wh = ch->m.conn[i].meter_wh; /* its register, kept while it was away */
                charger_conn_reset(&ch->m.conn[i]);
                ch->m.conn[i].meter_wh = wh;
                if (reserve_holds(ch, i))
                    ch->m.conn[i].status = ST_RESERVED;
            }
        }
        calls_set_accepted(&ch->calls, false);
        struct msg_ctx x;
        emit_ctx(ch, 0, &x);
        x.boot_reason = ch->s.boot_reason;
        ch->s.boot_reason = NULL;
        emit_msg(ch, MSG_BOOT_NOTIFICATION, &x, CALL_FRONT, K_BOOT);
        for (int i = 0; i <= ch->m.nconn; i++)
            emit_status(ch, i, NULL);
        ch->s.booted = true;
    } else {
        calls_set_accepted(&ch->calls, true);
    }
    if (ch->s.crashed) {
        /* Taken over from a worker that died: the transactions it left open end as a real
         * charger's would after a power cut (unless on_takeover=resume). */
        ch->s.crashed = false;
        if (strcmp(c->on_takeover, "stop") == 0) {
            for (int i = 1; i <= ch->m.nconn; i++) {
                if (!ch->m.conn[i].tx_active)
                    continue;
                log_info("%s: transaction %d of connector %d ends after the takeover (PowerLoss)",
                         ch->m.id, (int)ch->m.conn[i].tx.id, i);
                apply_event(ch, i, CE_STOP, SR_POWER_LOSS, NULL);
            }
            persist_mark(ch);
        }
    }
    if (ch->s.fw.report_installed) {
        ch->s.fw.report_installed = false;
        session_report_firmware(ch); /* Installed */
        ch->s.fw.step = 0;
    }
    calls_pump(&ch->calls);
}

void session_retry_boot(struct charger_rt *ch)
{
    struct msg_ctx x;
    emit_ctx(ch, 0, &x);
    emit_msg(ch, MSG_BOOT_NOTIFICATION, &x, CALL_FRONT, K_BOOT);
}

void session_report_firmware(struct charger_rt *ch)
{
    struct msg_ctx x;
    emit_ctx(ch, 0, &x);
    x.status = session_firmware_step_name(ch->s.fw.step);
    x.has_request_id = ch->s.fw.has_request;
    x.request_id = ch->s.fw.request_id;
    emit_msg(ch, MSG_FIRMWARE_STATUS, &x, 0, K_NONE);
}

/* ---- reports and triggers ---------------------------------------------------------------- */

void session_meter_tick(struct charger_rt *ch)
{
    for (int i = 1; i <= ch->m.nconn; i++) {
        struct msg_ctx x;
        if (ch->link.state != LINK_UP && !ch->m.conn[i].tx_active)
            continue; /* only a transaction's readings are kept while offline */
        emit_ctx(ch, i, &x);
        emit_msg(ch, MSG_METER_VALUES, &x, ch->m.conn[i].tx_active ? CALL_TX : 0, K_NONE);
    }
    session_end_due(ch);
    /* Only a transaction moves what is saved (the energy register): an idle charger's tick
     * writes nothing (it was an HSET per charger per meter period for the whole fleet). */
    if (charger_busy(&ch->m))
        persist_mark(ch);
}

void session_init(struct charger_rt *ch)
{
    ch->m.time_scale = cfg(ch)->time_scale;
}
