/* charger_rt.c - a charger's lifecycle and the wiring between its layers. [loop] */
#include <string.h>

#include "answers.h"
#include "authz.h"
#include "behaviour.h"
#include "calls.h"
#include "ccfg.h"
#include "charger_rt.h"
#include "cs/log.h"
#include "downlink.h"
#include "installed.h"
#include "persist.h"
#include "reports.h"
#include "reserve.h"
#include "smart.h"
#include "session.h"

#define CLOSE_TIMEOUT_MS 1000

static struct charger_rt *of_link(const struct link *l)
{
    return (struct charger_rt *)(void *)((char *)l - offsetof(struct charger_rt, link));
}

static struct charger_rt *of_calls(const struct callq *q)
{
    return (struct charger_rt *)(void *)((char *)q - offsetof(struct charger_rt, calls));
}

static const struct charger_cfg *link_cfg(const struct link *l)
{
    return crt_cfg(of_link(l));
}

static const struct charger_cfg *calls_cfg(const struct callq *q)
{
    return crt_cfg(of_calls(q));
}

static void on_link(struct link *l, enum link_ev ev, const char *data, size_t len)
{
    struct charger_rt *ch = of_link(l);
    switch (ev) {
    case LINK_EV_UP:
        session_on_connected(ch);
        behaviour_on_connected(ch);
        persist_mark(ch);
        break;
    case LINK_EV_FRAME:
        downlink_on_frame(ch, data, len);
        break;
    case LINK_EV_LOST:
        session_link_down(ch);
        persist_mark(ch);
        break;
    case LINK_EV_CLOSED:
        if (ch->releasing && ch->gone) {
            crt_gone_fn *gone = ch->gone;
            ch->gone = NULL;
            gone(ch);
            return;
        }
        persist_mark(ch);
        break;
    }
}

/* The effective config changed: each layer takes what concerns it. */
static void on_cfg_changed(struct charger_rt *ch, const struct charger_cfg *old)
{
    const struct charger_cfg *c = crt_cfg(ch);
    unsigned mask = cfg_diff(&cfg_charger_schema, old, c);
    if (!mask)
        return;
    crt_ctx(ch)->st->cfg_changes++;
    if (old->enabled != c->enabled) {
        if (!c->enabled) {
            if (ch->link.state == LINK_UP || ch->link.state == LINK_CONNECTING) {
                calls_pump(&ch->calls);
                if (link_close(&ch->link, CLOSE_TIMEOUT_MS))
                    session_link_down(ch);
            } else if (ch->link.state != LINK_LOADING && ch->link.state != LINK_CLOSING) {
                link_want(&ch->link); /* dequeues and parks it as disabled */
            }
            return;
        }
        if (ch->link.state == LINK_DISABLED)
            link_want(&ch->link);
        return;
    }
    if (strcmp(old->ocpp_version, c->ocpp_version) != 0) {
        ch->s.force_boot = true; /* another protocol: it introduces itself again */
        /* open transactions end in the version they began in (while connected), the rest
         * of the old version's queue is dropped at the next connect */
        if (ch->link.state == LINK_UP)
            session_end_all(ch, SR_REBOOT);
        else if (ch->link.state != LINK_CONNECTING && ch->link.state != LINK_CLOSING)
            calls_set_version(&ch->calls, (uint8_t)ocpp_version_of(c->ocpp_version));
    }
    if ((mask & (1u << CFG_APPLY_RECONNECT)) &&
        (ch->link.state == LINK_UP || ch->link.state == LINK_CONNECTING)) {
        log_info("%s: reconnecting to apply a config change", ch->m.id);
        calls_pump(&ch->calls);
        if (link_close(&ch->link, CLOSE_TIMEOUT_MS))
            session_link_down(ch);
        return;
    }
    if ((mask & (1u << CFG_APPLY_RECONNECT)) && ch->link.state == LINK_BACKOFF)
        link_online(&ch->link); /* new connect settings: tried now, a failure logged again */
    if (old->heartbeat_s != c->heartbeat_s) {
        ch->s.hb_conf_s = 0; /* the operator's value wins over BootNotification.conf's */
        reports_rearm_heartbeat(ch);
    }
    if (old->meter_s != c->meter_s)
        reports_rearm_meter(ch);
    if (old->max_kw != c->max_kw)
        charger_set_max_kw(&ch->m, c->max_kw, cs_now_ms());
    if (old->phases != c->phases || old->voltage_v != c->voltage_v)
        smart_update(ch); /* limits in amperes are other watts now */
    behaviour_config_changed(ch, old);
}

void crt_env_init(struct crt_env *env, struct agent_ctx *x, struct ramp *ramp,
                  struct transport *const trs[TR__COUNT])
{
    env->x = x;
    env->link = (struct link_env){
        x, ramp, {trs[TR_PAHO], trs[TR_MOSQUITTO], trs[TR_WS]}, on_link, link_cfg};
    env->calls = (struct calls_env){x, answers_on_end, calls_cfg};
    env->cfg_changed = on_cfg_changed;
    env->save_installed = installed_save;
}

void crt_init(struct charger_rt *ch, const struct crt_env *env, uint32_t slot, uint32_t serial,
              uint32_t index, uint64_t seed)
{
    struct agent_ctx *x = env->x;
    ch->env = env;
    ch->slot = slot;
    ch->serial = serial;
    char id[CS_ID_MAX + 1];
    idfmt_format(&x->idf, index, id, sizeof(id));
    /* The connector count of its own config applies at its first boot. */
    charger_init(&ch->m, index, id, x->base_cfg.connectors, cs_now_ms());
    cs_rng_seed(&ch->rng, seed);
    link_init(&ch->link, &env->link, ch->m.id, index);
    calls_init(&ch->calls, &env->calls, &ch->link, ch->m.id);
    session_init(ch);
    behaviour_init(ch);
}

void crt_fini(struct charger_rt *ch)
{
    persist_flush(ch);
    defer_cancel(crt_ctx(ch)->defer, &ch->free_item);
    link_fini(&ch->link);
    calls_fini(&ch->calls);
    behaviour_fini(ch);
    reserve_free(ch);
    smart_free(ch);
    authz_free(ch);
    ccfg_fini(ch);
}

static void finish_loading(struct charger_rt *ch)
{
    if (ch->link.state != LINK_LOADING || !ch->loaded_cfg || !ch->loaded_state)
        return;
    ch->m.time_scale = crt_cfg(ch)->time_scale;
    link_start(&ch->link);
}

void crt_overrides(struct charger_rt *ch, const struct kvlist *over)
{
    ccfg_set_overrides(ch, over);
    ch->loaded_cfg = true;
    finish_loading(ch);
}

void crt_restore(struct charger_rt *ch, const struct kvlist *state)
{
    if (ch->loaded_state)
        return;
    persist_restore(ch, state);
    installed_restore(ch, state); /* after the transactions its profiles may belong to */
    ch->loaded_state = true;
    finish_loading(ch);
}

bool crt_release(struct charger_rt *ch, bool end_tx, crt_gone_fn *gone)
{
    if (ch->releasing)
        return false;
    ch->releasing = true;
    if (ch->link.parked) {
        persist_forget(ch);
    } else {
        if (end_tx && ch->link.state == LINK_UP)
            session_end_all(ch, SR_LOCAL);
        /* connected=0, owner="": a planned move, not a crash. */
        persist_mark(ch);
    }
    bool was_up = ch->link.state == LINK_UP;
    if (was_up)
        calls_pump(&ch->calls); /* what is queued (StopTransactions) goes before the goodbye */
    if (link_release(&ch->link, CLOSE_TIMEOUT_MS)) {
        if (was_up)
            session_link_down(ch);
        ch->gone = gone;
        return false;
    }
    return true;
}

void crt_park(struct charger_rt *ch)
{
    if (link_park(&ch->link))
        session_link_down(ch);
}

void crt_unpark(struct charger_rt *ch)
{
    link_unpark(&ch->link);
}

void crt_pause(struct charger_rt *ch, bool paused)
{
    reports_pause(ch, paused);
}
