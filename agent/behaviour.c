/* behaviour.c - a charger's own timeline. [loop] */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "behaviour.h"
#include "ccfg.h"
#include "crt.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "emit.h"
#include "reports.h"
#include "session.h"
#include "trigger.h"

#define FIRMWARE_STEP_S 10     /* simulated seconds per firmware step */
#define DIAG_UPLOAD_S 5        /* simulated seconds a diagnostics upload takes */
#define FAULT_CLEAR_MEAN_S 300 /* a random fault lasts this long on average (simulated) */

static const struct charger_cfg *cfg(const struct charger_rt *ch)
{
    return crt_cfg(ch);
}

/* Exponentially distributed simulated seconds with the given mean. */
static double exp_s(struct charger_rt *ch, double mean_s)
{
    double u = cs_rng_double(&ch->rng);
    return -log(1.0 - u) * mean_s;
}

/* ---- periodic reports ------------------------------------------------------------------ */

static void on_heartbeat_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = privdata;
    struct cs_error err;
    if (ch->link.state != LINK_UP || ch->s.paused)
        return;
    if (trigger_send(ch, "Heartbeat", 0, NULL, &err))
        log_debug("%s", err.msg);
    reports_next_heartbeat(ch);
}

static void on_meter_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = privdata;
    /* Offline with an open transaction the meter keeps reading: session_meter_tick queues the
     * transaction's MeterValues for the return. */
    if (ch->s.paused || ch->releasing || ch->link.state == LINK_LOADING ||
        ch->link.state == LINK_DISABLED)
        return;
    session_meter_tick(ch);
    reports_next_meter(ch);
}

/* ---- firmware ------------------------------------------------------------------------------ */

void behaviour_firmware(struct charger_rt *ch, const char *location, int64_t at_ms)
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
    memcpy(ch->s.fw.version, v, sizeof(v));
    ch->s.fw.step = 0;
    ch->s.fw.has_request = false;
    int64_t wait = at_ms - cs_now_ms();
    ch->s.fw.next_ms = cs_mono_ms() + (wait > 0 ? wait : 0);
    session_replan(ch);
}

static void firmware_step(struct charger_rt *ch)
{
    struct fw_update *fw = &ch->s.fw;
    fw->step++;
    if (fw->step == 4) {
        /* Installed: the new version becomes the charger's firmware override, the charger
         * reboots into it and reports Installed once booted (session_on_connected). */
        fw->next_ms = 0;
        fw->report_installed = true;
        if (ccfg_write(ch, "firmware", fw->version) != CS_OK)
            log_warn("%s: firmware %s not kept (Redis unreachable): it boots %s again", ch->m.id,
                     fw->version, cfg(ch)->firmware);
        log_info("%s: firmware %s installed; rebooting", ch->m.id, fw->version);
        session_reboot(ch, SR_REBOOT);
        return;
    }
    session_report_firmware(ch);
    fw->next_ms = cs_mono_ms() + (fw->step == 2 ? 500 : crt_real_ms(ch, FIRMWARE_STEP_S));
}

/* ---- diagnostics --------------------------------------------------------------------------- */

void behaviour_diagnostics(struct charger_rt *ch)
{
    ch->s.diag.step = 0;
    ch->s.diag.has_request = false;
    ch->s.diag.next_ms = cs_mono_ms();
    session_replan(ch);
}

static void diagnostics_step(struct charger_rt *ch)
{
    struct diag_upload *d = &ch->s.diag;
    d->step++;
    struct msg_ctx x;
    emit_ctx(ch, 0, &x);
    x.status = session_diagnostics_step_name(d->step);
    x.has_request_id = d->has_request;
    x.request_id = d->request_id;
    emit_msg(ch, MSG_DIAGNOSTICS_STATUS, &x, 0, K_NONE);
    if (d->step >= 2) {
        d->step = 0; /* a TriggerMessage reports Idle once it is done */
        d->next_ms = 0;
        return;
    }
    d->next_ms = cs_mono_ms() + crt_real_ms(ch, DIAG_UPLOAD_S);
}

/* ---- automatic sessions and faults -------------------------------------------------------- */

static void plan_arrival(struct charger_rt *ch, int conn)
{
    double rate = cfg(ch)->sessions_per_h;
    ch->s.arrival_ms[conn] =
        rate > 0 ? cs_mono_ms() + crt_real_ms(ch, exp_s(ch, 3600.0 / rate)) : 0;
}

static void plan_fault(struct charger_rt *ch)
{
    double rate = cfg(ch)->fault_per_h;
    ch->s.fault_ms = rate > 0 ? cs_mono_ms() + crt_real_ms(ch, exp_s(ch, 3600.0 / rate)) : 0;
}

static const enum ocpp_error random_faults[] = {
    OE_GROUND_FAILURE,         OE_HIGH_TEMPERATURE,     OE_OVER_CURRENT_FAILURE,
    OE_POWER_METER_FAILURE,    OE_POWER_SWITCH_FAILURE, OE_CONNECTOR_LOCK_FAILURE,
    OE_EV_COMMUNICATION_ERROR, OE_OVER_VOLTAGE,         OE_UNDER_VOLTAGE,
    OE_READER_FAILURE,         OE_INTERNAL_ERROR,       OE_WEAK_SIGNAL,
};

static void arrival(struct charger_rt *ch, int conn)
{
    const struct charger_cfg *c = cfg(ch);
    struct connector *k = &ch->m.conn[conn];
    plan_arrival(ch, conn);
    if (ch->link.state != LINK_UP || k->tx_active || ch->s.start[conn].active ||
        k->status != ST_AVAILABLE)
        return; /* busy, faulted or unavailable: this driver goes elsewhere */
    double kwh = exp_s(ch, c->session_kwh);
    if (kwh < 0.5)
        kwh = 0.5;
    if (kwh > c->battery_kwh * 0.95)
        kwh = c->battery_kwh * 0.95;
    session_start_auto(ch, conn, kwh);
}

static void random_fault(struct charger_rt *ch)
{
    plan_fault(ch);
    if (ch->link.state != LINK_UP)
        return;
    int conn = 1 + (int)cs_rng_below(&ch->rng, (uint64_t)ch->m.nconn);
    if (ch->m.conn[conn].status == ST_FAULTED)
        return;
    enum ocpp_error e = random_faults[cs_rng_below(&ch->rng, ARRAY_SIZE(random_faults))];
    if (session_fault(ch, conn, e, NULL, NULL) == CS_OK)
        ch->s.clear_ms[conn] = cs_mono_ms() + crt_real_ms(ch, exp_s(ch, FAULT_CLEAR_MEAN_S));
}

static void on_behaviour_timer(evutil_socket_t fd, short what, void *privdata)
{
    (void)fd;
    (void)what;
    struct charger_rt *ch = privdata;
    struct session *s = &ch->s;
    int64_t now = cs_mono_ms();
    if (ch->link.state == LINK_OFFLINE && s->online_ms && now >= s->online_ms) {
        s->online_ms = 0;
        link_online(&ch->link);
    }
    if (s->boot_retry_ms && now >= s->boot_retry_ms) {
        s->boot_retry_ms = 0;
        if (ch->link.state == LINK_UP)
            session_retry_boot(ch);
    }
    if (s->reset_ms && now >= s->reset_ms) {
        s->reset_ms = 0;
        session_reboot(ch, SR_SOFT_RESET); /* the Reset OnIdle it was waiting for */
        return;
    }
    if (s->fw.next_ms && now >= s->fw.next_ms)
        firmware_step(ch);
    if (s->diag.next_ms && now >= s->diag.next_ms)
        diagnostics_step(ch);
    for (int i = 1; i <= ch->m.nconn; i++) {
        if (s->arrival_ms[i] && now >= s->arrival_ms[i])
            arrival(ch, i);
        if (s->clear_ms[i] && now >= s->clear_ms[i])
            session_clear(ch, i, NULL);
    }
    if (s->fault_ms && now >= s->fault_ms)
        random_fault(ch);
    session_end_due(ch);
    session_replan(ch);
}

void behaviour_config_changed(struct charger_rt *ch, const struct charger_cfg *old)
{
    const struct charger_cfg *c = cfg(ch);
    ch->m.time_scale = c->time_scale;
    if (old->sessions_per_h != c->sessions_per_h || old->time_scale != c->time_scale)
        for (int i = 1; i <= ch->m.nconn; i++)
            plan_arrival(ch, i);
    if (old->fault_per_h != c->fault_per_h || old->time_scale != c->time_scale)
        plan_fault(ch);
    session_replan(ch);
}

void behaviour_on_connected(struct charger_rt *ch)
{
    for (int i = 1; i <= ch->m.nconn; i++)
        if (!ch->s.arrival_ms[i])
            plan_arrival(ch, i);
    if (!ch->s.fault_ms)
        plan_fault(ch);
    session_replan(ch);
    reports_start(ch);
}

void behaviour_init(struct charger_rt *ch)
{
    ch->s.beh_ev = evtimer_new(crt_ctx(ch)->base, on_behaviour_timer, ch);
    reports_init(ch, on_heartbeat_timer, on_meter_timer);
}

void behaviour_fini(struct charger_rt *ch)
{
    reports_fini(ch);
    if (ch->s.beh_ev)
        event_free(ch->s.beh_ev);
    ch->s.beh_ev = NULL;
}
