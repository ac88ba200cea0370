/* reports.c - periodic report timers. [loop] */
#include <event2/event.h>

#include "crt.h"
#include "reports.h"

static int64_t jitter_ms(struct charger_rt *ch, int64_t range_ms)
{
    return range_ms > 0 ? (int64_t)cs_rng_below(&crt_ctx(ch)->rng, (uint64_t)range_ms) : 0;
}

/* A periodic report's timer: due after delay_ms, moved up to the worker's report grid. */
static void arm_report(struct charger_rt *ch, struct event *ev, int64_t delay_ms)
{
    struct agent_ctx *x = crt_ctx(ch);
    int64_t tick = x->fleet.report_tick_ms, now = cs_mono_ms();
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
        event_base_update_cache_time(x->base);
    }
    ctx_arm(ev, delay_ms);
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

void reports_init(struct charger_rt *ch, event_callback_fn on_heartbeat, event_callback_fn on_meter)
{
    struct agent_ctx *x = crt_ctx(ch);
    ch->s.hb_ev = evtimer_new(x->base, on_heartbeat, ch);
    ch->s.meter_ev = evtimer_new(x->base, on_meter, ch);
}

void reports_fini(struct charger_rt *ch)
{
    if (ch->s.hb_ev)
        event_free(ch->s.hb_ev);
    if (ch->s.meter_ev)
        event_free(ch->s.meter_ev);
    ch->s.hb_ev = ch->s.meter_ev = NULL;
}

int reports_heartbeat_s(const struct charger_rt *ch)
{
    return ch->s.hb_conf_s > 0 ? ch->s.hb_conf_s : crt_cfg(ch)->heartbeat_s;
}

void reports_start(struct charger_rt *ch)
{
    if (ch->s.paused)
        return;
    ch->s.hb_last_ms = ch->s.meter_last_ms = 0;
    arm_report(ch, ch->s.hb_ev, jitter_ms(ch, (int64_t)reports_heartbeat_s(ch) * 1000) + 1);
    arm_report(ch, ch->s.meter_ev, jitter_ms(ch, (int64_t)crt_cfg(ch)->meter_s * 1000) + 1);
}

void reports_link_down(struct charger_rt *ch)
{
    evtimer_del(ch->s.hb_ev);
    if (!charger_busy(&ch->m) || ch->releasing)
        evtimer_del(ch->s.meter_ev);
}

void reports_pause(struct charger_rt *ch, bool paused)
{
    if (ch->s.paused == paused)
        return;
    ch->s.paused = paused;
    if (paused) {
        evtimer_del(ch->s.hb_ev);
        evtimer_del(ch->s.meter_ev);
    } else if (ch->link.state == LINK_UP) {
        reschedule(ch, ch->s.hb_ev, ch->s.hb_last_ms, reports_heartbeat_s(ch));
        reschedule(ch, ch->s.meter_ev, ch->s.meter_last_ms, crt_cfg(ch)->meter_s);
    }
}

void reports_rearm_heartbeat(struct charger_rt *ch)
{
    if (ch->link.state == LINK_UP && !ch->s.paused)
        reschedule(ch, ch->s.hb_ev, ch->s.hb_last_ms, reports_heartbeat_s(ch));
}

void reports_rearm_meter(struct charger_rt *ch)
{
    if (ch->link.state == LINK_UP && !ch->s.paused)
        reschedule(ch, ch->s.meter_ev, ch->s.meter_last_ms, crt_cfg(ch)->meter_s);
}

void reports_next_heartbeat(struct charger_rt *ch)
{
    ch->s.hb_last_ms = cs_mono_ms();
    arm_report(ch, ch->s.hb_ev, (int64_t)reports_heartbeat_s(ch) * 1000);
}

void reports_next_meter(struct charger_rt *ch)
{
    ch->s.meter_last_ms = cs_mono_ms();
    arm_report(ch, ch->s.meter_ev, (int64_t)crt_cfg(ch)->meter_s * 1000);
}
